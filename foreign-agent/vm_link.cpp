// VmLink: libpcap watch + inject on the VM link, macvlan gateway links via libnl.
#include "foreign-agent/vm_link.hpp"

#include <linux/if_link.h>
#include <net/if.h>
#include <netlink/route/link.h>
#include <netlink/route/link/macvlan.h>
#include <pcap/pcap.h>

namespace vmroam::fa {

namespace {

// The filter the kernel runs on the socket (libpcap compiles it to classic BPF and attaches
// it): everyone's RARP and ARP, Neighbor Solicitations and Advertisements (ICMPv6 135/136:
// dual-stack VMs solicit their gateway and announce themselves), and IPv4 and IPv6 only from
// the visitors whose arrival is awaited. All other traffic of the VM link stays in the kernel
// instead of being copied to us per frame.
std::string arrival_filter(const std::vector<MacAddress>& awaited) {
  std::string f = "ether proto 0x8035 or arp or (icmp6 and (ip6[40] == 135 or ip6[40] == 136))";
  if (awaited.empty()) return f;
  f += " or ((ip or ip6) and (";
  for (std::size_t i = 0; i < awaited.size(); ++i)
    f += (i ? " or ether src " : "ether src ") + awaited[i].to_string();
  return f + "))";
}

Result<void> set_filter(::pcap* p, const std::string& expression) {
  bpf_program prog{};
  if (pcap_compile(p, &prog, expression.c_str(), 1, PCAP_NETMASK_UNKNOWN) < 0)
    return fail("pcap_failed", "compile \"" + expression + "\": " + pcap_geterr(p));
  const int set = pcap_setfilter(p, &prog);
  pcap_freecode(&prog);
  if (set < 0) return fail("pcap_failed", std::string("setfilter: ") + pcap_geterr(p));
  return ok();
}

}  // namespace

Result<std::unique_ptr<VmLink>> VmLink::open(boost::asio::io_context& io, const std::string& ifname,
                                             FrameHandler on_frame) {
  char err[PCAP_ERRBUF_SIZE] = {};
  ::pcap* p = pcap_create(ifname.c_str(), err);
  if (!p) return fail("pcap_failed", ifname + ": " + err);
  auto bail = [&](const std::string& what) {
    std::string reason = ifname + ": " + what + ": " + pcap_geterr(p);
    pcap_close(p);
    return fail("pcap_failed", reason);
  };
  // The setters fail only on an activated handle; this one is not yet.
  (void)pcap_set_snaplen(p, 2048);
  (void)pcap_set_immediate_mode(p, 1);  // a RARP must not wait for a buffer to fill
  (void)pcap_set_promisc(p, 0);
  if (pcap_activate(p) < 0) return bail("activate");
  // Only what the link receives: our own gratuitous ARPs are not arrivals. Where a capture
  // cannot filter by direction our frames still carry no visitor's source MAC: not arrivals.
  (void)pcap_setdirection(p, PCAP_D_IN);
  if (auto r = set_filter(p, arrival_filter({})); !r) {
    pcap_close(p);
    return fail("pcap_failed", ifname + ": " + r.error().context);
  }
  if (pcap_setnonblock(p, 1, err) < 0) return bail("setnonblock");
  const int fd = pcap_get_selectable_fd(p);
  if (fd < 0) return bail("selectable_fd");
  auto link = std::unique_ptr<VmLink>(new VmLink(io, p, fd, std::move(on_frame)));
  link->arm();
  return link;
}

VmLink::VmLink(boost::asio::io_context& io, ::pcap* p, int fd, FrameHandler on_frame)
    : pcap_(p), sd_(io, fd), on_frame_(std::move(on_frame)) {}

VmLink::~VmLink() {
  // libpcap owns the fd: release it from Asio before pcap_close closes it.
  boost::system::error_code ec;
  sd_.cancel(ec);
  (void)sd_.release();  // returns the fd, which pcap_close closes
  pcap_close(pcap_);
}

void VmLink::arm() {
  sd_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                 [this](const boost::system::error_code& ec) {
                   if (ec) return;
                   // Drain what is there (bounded), then wait again. A read error ends this
                   // batch only; the next readiness tries again (frames are hints, not state).
                   (void)pcap_dispatch(
                       pcap_, 64,
                       [](u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
                         auto* self = reinterpret_cast<VmLink*>(user);
                         self->on_frame_(ByteView(bytes, h->caplen));
                       },
                       reinterpret_cast<u_char*>(this));
                   arm();
                 });
}

Result<void> VmLink::watch_arrivals(const std::vector<MacAddress>& awaited) {
  return set_filter(pcap_, arrival_filter(awaited));
}

Result<void> VmLink::send(ByteView frame) {
  if (pcap_inject(pcap_, frame.data(), frame.size()) < 0) return fail("send_failed", pcap_geterr(pcap_));
  return ok();
}

Result<int> add_macvlan(::nl_sock* sock, const std::string& name, int lower_ifindex, const MacAddress& mac) {
  rtnl_link* link = rtnl_link_macvlan_alloc();
  if (!link) return fail("gateway_link_failed", "out of memory");
  rtnl_link_set_name(link, name.c_str());
  rtnl_link_set_link(link, lower_ifindex);
  nl_addr* addr = nl_addr_build(AF_LLC, mac.bytes().data(), 6);
  rtnl_link_set_addr(link, addr);
  // Bridge mode: the gateway link may talk to the other macvlans on the same lower link.
  (void)rtnl_link_macvlan_set_mode(link, MACVLAN_MODE_BRIDGE);  // fails only on a non-macvlan
  rtnl_link_set_flags(link, IFF_UP);
  const int err = rtnl_link_add(sock, link, NLM_F_CREATE | NLM_F_EXCL);
  nl_addr_put(addr);
  rtnl_link_put(link);
  if (err < 0 && err != -NLE_EXIST) return fail("gateway_link_failed", name + ": " + nl_geterror(err));
  const unsigned idx = if_nametoindex(name.c_str());
  if (idx == 0) return fail("gateway_link_failed", name + ": not found after creation");
  return static_cast<int>(idx);
}

void delete_link_by_name(::nl_sock* sock, const std::string& name) {
  rtnl_link* link = rtnl_link_alloc();
  if (!link) return;
  rtnl_link_set_name(link, name.c_str());
  (void)rtnl_link_delete(sock, link);  // gone already is fine: start-up reconciles the rest
  rtnl_link_put(link);
}

}  // namespace vmroam::fa
