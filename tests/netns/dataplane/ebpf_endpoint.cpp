// ebpf_endpoint: runs the eBPF driver in the current netns for the netns eBPF test, the way a
// daemon would: one io_context, the daemons' UDP 434 port (type-4 datagrams the kernel leaves
// to it go to handle_udp_tunnel_payload), SIGUSR1 prints stats as one JSON line (drops per
// reason, per-peer counters, the programs' own counters), SIGUSR2 holds the HoA and SIGHUP
// releases it through a HandoverHold over the driver's HoldPort, as the HA does (printing
// "held N" / "released N"), SIGTERM stops cleanly.
//   ebpf_endpoint <destination|source> LOCAL PEER ipip|udp HOA TUN PIN_DIR LINK [VM_LINK]
// (VM_LINK: the FA's VM-facing link, which gets the reverse-tunnel program.)
#include <cstdio>
#include <iostream>

#include "common/daemon/udp_port.hpp"
#include "common/dataplane/ebpf_driver.hpp"
#include "common/dataplane/handover_hold.hpp"

namespace dp = vmroam::dataplane;
namespace asio = boost::asio;

namespace {

void print_stats(const dp::EbpfDriver& drv) {
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
  std::cout << "},\"bpf\":{";
  const dp::EbpfCounters k = drv.maps().counters();
  for (std::uint32_t c = 0; c < VMR_COUNTER_MAX; ++c)
    std::cout << (c ? "," : "") << '"' << dp::counter_name(static_cast<vmr_counter>(c)) << "\":" << k[c];
  std::cout << "}}" << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 9 && argc != 10) {
    std::fprintf(stderr, "usage: %s destination|source LOCAL PEER ipip|udp HOA TUN PIN_DIR LINK [VM_LINK]\n",
                 argv[0]);
    return 2;
  }
  auto local = *vmroam::Ipv4::parse(argv[2]);
  auto peer = *vmroam::Ipv4::parse(argv[3]);
  auto hoa = *vmroam::Ipv4::parse(argv[5]);
  bool source = std::string_view(argv[1]) == "source";
  bool udp = std::string_view(argv[4]) == "udp";
  asio::io_context io;
  auto port = vmroam::daemon::UdpPort::open(io, local, 434);
  if (!port) return std::fprintf(stderr, "%s\n", port.error().to_string().c_str()), 1;
  vmroam::daemon::UdpPort& sock = **port;
  auto nl = dp::LibnlNetlink::create();
  if (!nl) return std::fprintf(stderr, "%s\n", nl.error().to_string().c_str()), 1;
  dp::EbpfDriverConfig c;
  c.key = source ? dp::LookupKey::source : dp::LookupKey::destination;
  c.local = local;
  c.tun_name = argv[6];
  c.loader.pin_dir = argv[7];
  c.links = {argv[8]};
  if (argc == 10) c.links.emplace_back(argv[9]);
  if (argc == 10) c.steering.reverse_iif = argv[9];
  c.steering.table = source ? dp::kDefaultPolicyTable : dp::kMainTable;
  auto d = dp::EbpfDriver::create(io, **nl, c);
  if (!d) return std::fprintf(stderr, "%s\n", d.error().to_string().c_str()), 1;
  auto& drv = **d;
  auto check = [](vmroam::Result<void> r) {
    if (!r) std::fprintf(stderr, "%s\n", r.error().to_string().c_str()), std::exit(1);
  };
  check(drv.add_tunnel_endpoint({peer, udp ? dp::Encapsulation::udp : dp::Encapsulation::ipip, 434}));
  check(drv.route(hoa, peer));
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
  std::function<void()> on_signal = [&] {
    sigs.async_wait([&](boost::system::error_code ec, int signo) {
      if (ec) return;
      if (signo == SIGUSR1) print_stats(drv);
      if (signo == SIGUSR2 && hold)
        std::cout << "held " << hold->hold(hoa, std::nullopt, {}).value_or(0) << std::endl;
      if (signo == SIGHUP && hold) std::cout << "released " << hold->release(hoa).value_or(0) << std::endl;
      on_signal();
    });
  };
  on_signal();
  std::cout << "ready" << std::endl;
  io.run();
  return 0;
}
