// tunnel_endpoint: runs the userspace driver in the current netns for the netns tunnel test,
// the way a daemon would: one io_context, the daemons' UDP 434 port (daemon::UdpPort, with UDP
// GSO on send and UDP GRO on receive) whose type-4 datagrams go to handle_udp_tunnel_payload,
// SIGUSR1 prints stats as one JSON line (with the port's offload counters), SIGTERM stops.
//   tunnel_endpoint <destination|source> <local> <peer> <ipip|udp> <hoa> <tun name>
#include <cstdio>
#include <iostream>

#include "common/daemon/udp_port.hpp"
#include "common/dataplane/userspace_driver.hpp"

namespace dp = vmroam::dataplane;
namespace asio = boost::asio;

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: %s destination|source LOCAL PEER ipip|udp HOA TUN\n", argv[0]);
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
  dp::UserspaceConfig c;
  c.key = source ? dp::LookupKey::source : dp::LookupKey::destination;
  c.local = local;
  c.tun_name = argv[6];
  c.steering.table = source ? dp::kDefaultPolicyTable : dp::kMainTable;
  c.udp_send = [&](vmroam::Ipv4 dst, std::uint16_t p, vmroam::ByteView payload) {
    return sock.send(dst, p, payload);
  };
  c.udp_send_batch = [&](vmroam::Ipv4 dst, std::uint16_t p, vmroam::ByteView payload,
                         std::size_t segment_size) { return sock.send_batch(dst, p, payload, segment_size); };
  auto d = dp::UserspaceDriver::create(io, **nl, c);
  if (!d) return std::fprintf(stderr, "%s\n", d.error().to_string().c_str()), 1;
  auto& drv = **d;
  auto check = [](vmroam::Result<void> r) {
    if (!r) std::fprintf(stderr, "%s\n", r.error().to_string().c_str()), std::exit(1);
  };
  check(drv.add_tunnel_endpoint({peer, udp ? dp::Encapsulation::udp : dp::Encapsulation::ipip, 434}));
  check(drv.route(hoa, peer));

  sock.start(
      [&](vmroam::ByteView p, vmroam::Ipv4 src, std::uint16_t sport) {
        if (!p.empty() && p[0] == 4) drv.handle_udp_tunnel_payload(src, sport, p);
      },
      nullptr);
  asio::signal_set stop(io, SIGTERM, SIGINT);
  stop.async_wait([&](auto, int) { io.stop(); });
  asio::signal_set usr(io, SIGUSR1);
  std::function<void()> on_usr = [&] {
    usr.async_wait([&](boost::system::error_code ec, int) {
      if (ec) return;
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
                << ",\"coalesced_receives\":" << sock.coalesced_receives() << "}}" << std::endl;
      on_usr();
    });
  };
  on_usr();
  std::cout << "ready " << drv.tun_name() << std::endl;
  io.run();
  return 0;
}
