// tunnel_endpoint: runs the userspace driver in the current netns for the netns tunnel test,
// the way a daemon would: one io_context, a UDP 434 socket whose type-4 datagrams go to
// handle_udp_tunnel_payload, SIGUSR1 prints stats as one JSON line, SIGTERM stops.
//   tunnel_endpoint <destination|source> <local> <peer> <ipip|udp> <hoa> <tun name>
#include <cstdio>
#include <iostream>

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
  asio::ip::udp::socket sock(io, asio::ip::udp::endpoint(asio::ip::make_address_v4(argv[2]), 434));
  auto nl = dp::LibnlNetlink::create();
  if (!nl) return std::fprintf(stderr, "%s\n", nl.error().to_string().c_str()), 1;
  dp::UserspaceConfig c;
  c.key = source ? dp::LookupKey::source : dp::LookupKey::destination;
  c.local = local;
  c.tun_name = argv[6];
  c.steering.table = source ? dp::kDefaultPolicyTable : dp::kMainTable;
  c.udp_send = [&](vmroam::Ipv4 dst, std::uint16_t port, vmroam::ByteView payload) {
    boost::system::error_code ec;
    sock.send_to(asio::buffer(payload.data(), payload.size()),
                 asio::ip::udp::endpoint(asio::ip::address_v4(dst.value()), port), 0, ec);
    return !ec;
  };
  auto d = dp::UserspaceDriver::create(io, **nl, c);
  if (!d) return std::fprintf(stderr, "%s\n", d.error().to_string().c_str()), 1;
  auto& drv = **d;
  auto check = [](vmroam::Result<void> r) {
    if (!r) std::fprintf(stderr, "%s\n", r.error().to_string().c_str()), std::exit(1);
  };
  check(drv.add_tunnel_endpoint({peer, udp ? dp::Encapsulation::udp : dp::Encapsulation::ipip, 434}));
  check(drv.route(hoa, peer));

  std::array<std::uint8_t, 65536> buf{};
  asio::ip::udp::endpoint from;
  std::function<void()> receive = [&] {
    sock.async_receive_from(asio::buffer(buf), from, [&](boost::system::error_code ec, std::size_t n) {
      if (ec) return;
      if (n > 0 && buf[0] == 4)
        drv.handle_udp_tunnel_payload(vmroam::Ipv4(from.address().to_v4().to_uint()), from.port(),
                                      vmroam::ByteView(buf.data(), n));
      receive();
    });
  };
  receive();
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
      std::cout << "}}" << std::endl;
      on_usr();
    });
  };
  on_usr();
  std::cout << "ready " << drv.tun_name() << std::endl;
  io.run();
  return 0;
}
