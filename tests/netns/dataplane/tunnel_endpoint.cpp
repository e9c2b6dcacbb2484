// tunnel_endpoint: runs one tunnel driver in the current netns for the netns tunnel tests, the
// way a daemon would: one io_context, the daemons' UDP 434 port (daemon::UdpPort, UDP GSO on
// send, UDP GRO on receive) whose type-4 datagrams go to handle_udp_tunnel_payload.
//   tunnel_endpoint userspace destination|source LOCAL PEER ipip|udp HOA TUN
//   tunnel_endpoint ebpf destination|source LOCAL PEER ipip|udp HOA TUN PIN_DIR LINK [VM_LINK]
// (ebpf: the maps are pinned in PIN_DIR, the link programs go on LINK, and on VM_LINK, the
// FA's VM-facing link, which gets the reverse-tunnel program.) With VMR_HOA6=ADDRESS in the
// environment the HoA's VM is dual-stack: that IPv6 home address rides with it (RFC 5454).
// Signals: SIGUSR1 prints the stats as one JSON line (drops per reason, per-peer counters, the
// UDP port's offload counters, and for ebpf the programs' own counters); through a
// HandoverHold over the driver's HoldPort, as the HA does: SIGALRM starts the prepare-time
// recording ("recording"), SIGUSR2 holds the HoA, recovering what was recorded since
// ("held N"), SIGHUP releases it ("released N"); SIGTERM stops cleanly.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string_view>
#include <utility>

#include "common/daemon/udp_port.hpp"
#include "common/dataplane/handover_hold.hpp"
#include "common/dataplane/userspace_driver.hpp"
#ifdef VMROAM_HAVE_BPF
#include "common/dataplane/ebpf_driver.hpp"
#endif

namespace dp = vmroam::dataplane;
namespace asio = boost::asio;
using vmroam::Result;

namespace {

struct Args {
  std::string_view driver;
  bool source = false;
  vmroam::Ipv4 local, peer, hoa;
  bool udp = false;
  std::string tun;
  std::string pin_dir;
  std::vector<std::string> links;
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "%s\n", what.c_str());
  std::exit(1);
}

Result<std::unique_ptr<dp::TunnelDriver>> make_driver(const Args& a, asio::io_context& io,
                                                      dp::LibnlNetlink& nl, vmroam::daemon::UdpPort& sock) {
  const auto key = a.source ? dp::LookupKey::source : dp::LookupKey::destination;
  if (a.driver == "userspace") {
    dp::UserspaceConfig c;
    c.key = key;
    c.local = a.local;
    c.tun_name = a.tun;
    c.steering.table = a.source ? dp::kDefaultPolicyTable : dp::kMainTable;
    c.udp_send = [&sock](vmroam::Ipv4 dst, std::uint16_t p, vmroam::ByteView payload) {
      return sock.send(dst, p, payload);
    };
    c.udp_send_batch = [&sock](vmroam::Ipv4 dst, std::uint16_t p, vmroam::ByteView payload, std::size_t seg) {
      return sock.send_batch(dst, p, payload, seg);
    };
    VMROAM_TRY(auto d, dp::UserspaceDriver::create(io, nl, c));
    return std::unique_ptr<dp::TunnelDriver>(std::move(d));
  }
#ifdef VMROAM_HAVE_BPF
  dp::EbpfDriverConfig c;
  c.key = key;
  c.local = a.local;
  c.tun_name = a.tun;
  c.loader.pin_dir = a.pin_dir;
  c.links = a.links;
  if (a.links.size() > 1) c.steering.reverse_iif = a.links[1];
  VMROAM_TRY(auto d, dp::EbpfDriver::create(io, nl, c));
  return std::unique_ptr<dp::TunnelDriver>(std::move(d));
#else
  return vmroam::fail("ebpf_unavailable", "built without the bpf feature");
#endif
}

void print_stats(const dp::TunnelDriver& drv, const vmroam::daemon::UdpPort& sock) {
  auto s = drv.stats();
  std::cout << "{\"drops\":{";
  for (std::size_t i = 0; i < dp::kDropReasonCount; ++i)
    std::cout << (i ? "," : "") << '"' << dp::to_string(static_cast<dp::DropReason>(i))
              << "\":" << s.drops[i];
  std::cout << "},\"peers\":{";
  for (std::size_t i = 0; i < s.peers.size(); ++i) {
    const auto& [a, pc] = s.peers[i];
    std::cout << (i ? "," : "") << '"' << a.to_string() << "\":{\"tx_packets\":" << pc.tx_packets
              << ",\"rx_packets\":" << pc.rx_packets << "}";
  }
  std::cout << "},\"udp\":{\"gso\":" << (sock.segmentation_offload() ? "true" : "false")
            << ",\"segmented_sends\":" << sock.segmented_sends()
            << ",\"coalesced_receives\":" << sock.coalesced_receives() << "}";
#ifdef VMROAM_HAVE_BPF
  if (const auto* e = dynamic_cast<const dp::EbpfDriver*>(&drv)) {
    std::cout << ",\"bpf\":{";
    const dp::EbpfCounters k = e->maps().counters();
    for (std::uint32_t c = 0; c < VMR_COUNTER_MAX; ++c)
      std::cout << (c ? "," : "") << '"' << dp::counter_name(static_cast<vmr_counter>(c)) << "\":" << k[c];
    std::cout << "}";
  }
#endif
  std::cout << "}" << std::endl;
}

Args parse(int argc, char** argv) {
  const std::string_view driver = argc > 1 ? argv[1] : "";
  const bool ebpf = driver == "ebpf";
  if (!(driver == "userspace" && argc == 8) && !(ebpf && (argc == 10 || argc == 11))) {
    std::fprintf(stderr,
                 "usage: %s userspace destination|source LOCAL PEER ipip|udp HOA TUN\n"
                 "       %s ebpf destination|source LOCAL PEER ipip|udp HOA TUN PIN_DIR LINK [VM_LINK]\n",
                 argv[0], argv[0]);
    std::exit(2);
  }
  Args a;
  a.driver = driver;
  a.source = std::string_view(argv[2]) == "source";
  a.local = *vmroam::Ipv4::parse(argv[3]);
  a.peer = *vmroam::Ipv4::parse(argv[4]);
  a.udp = std::string_view(argv[5]) == "udp";
  a.hoa = *vmroam::Ipv4::parse(argv[6]);
  a.tun = argv[7];
  if (ebpf) {
    a.pin_dir = argv[8];
    for (int i = 9; i < argc; ++i) a.links.emplace_back(argv[i]);
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  asio::io_context io;
  auto port = vmroam::daemon::UdpPort::open(io, a.local, 434);
  if (!port) die(port.error().to_string());
  vmroam::daemon::UdpPort& sock = **port;
  auto nl = dp::LibnlNetlink::create();
  if (!nl) die(nl.error().to_string());
  auto d = make_driver(a, io, **nl, sock);
  if (!d) die(d.error().to_string());
  dp::TunnelDriver& drv = **d;
  auto check = [](Result<void> r) {
    if (!r) die(r.error().to_string());
  };
  check(drv.add_tunnel_endpoint({a.peer, a.udp ? dp::Encapsulation::udp : dp::Encapsulation::ipip, 434}));
  check(drv.route(a.hoa, a.peer));
  if (const char* hoa6 = std::getenv("VMR_HOA6"); hoa6 != nullptr && *hoa6 != '\0') {
    auto address = vmroam::Ipv6::parse(hoa6);
    if (!address) die(address.error().to_string());
    check(drv.set_home_addresses_v6(a.hoa, {*address}));
  }
  std::unique_ptr<dp::HandoverHold> hold;
  if (drv.hold_port() != nullptr) hold = std::make_unique<dp::HandoverHold>(*drv.hold_port());

  sock.start(
      [&](vmroam::ByteView p, vmroam::Ipv4 src, std::uint16_t sport) {
        if (!p.empty() && p[0] == 4) drv.handle_udp_tunnel_payload(src, sport, p);
      },
      nullptr);
  asio::signal_set stop(io, SIGTERM, SIGINT);
  stop.async_wait([&](auto, int) { io.stop(); });
  asio::signal_set sigs(io, SIGUSR1, SIGUSR2, SIGHUP);
  sigs.add(SIGALRM);
  std::optional<vmroam::WallTime> recording_since;
  std::function<void()> on_signal = [&] {
    sigs.async_wait([&](boost::system::error_code ec, int signo) {
      if (ec) return;
      if (signo == SIGUSR1) print_stats(drv, sock);
      if (signo == SIGALRM && hold) {
        recording_since = std::chrono::system_clock::now();
        auto r = hold->record(a.hoa);
        std::cout << (r ? "recording" : "record_failed " + r.error().to_string()) << std::endl;
      }
      // A hold after a recording recovers everything recorded since it began (as the HA does
      // from the source's STOP).
      if (signo == SIGUSR2 && hold)
        std::cout << "held "
                  << hold->hold(a.hoa, std::exchange(recording_since, std::nullopt), {}).value_or(0)
                  << std::endl;
      if (signo == SIGHUP && hold) std::cout << "released " << hold->release(a.hoa).value_or(0) << std::endl;
      on_signal();
    });
  };
  on_signal();
  std::cout << "ready" << std::endl;
  io.run();
  return 0;
}
