#include "common/daemon/udp_port.hpp"

#include <sys/socket.h>

#include <utility>

namespace vmroam::daemon {

namespace asio = boost::asio;
using asio::ip::udp;

Result<std::unique_ptr<UdpPort>> UdpPort::open(asio::io_context& io, Ipv4 address, std::uint16_t port) {
  std::unique_ptr<UdpPort> p(new UdpPort(io));
  boost::system::error_code ec;
  const udp::endpoint ep(asio::ip::address_v4(address.value()), port);
  p->socket_.open(udp::v4(), ec);
  if (!ec) p->socket_.bind(ep, ec);
  if (!ec) p->socket_.non_blocking(true, ec);
  if (ec)
    return fail("udp_bind_failed", address.to_string() + ":" + std::to_string(port) + ": " + ec.message());
  // The port carries RFC 3519 tunnel data as well as registrations: a TCP sender's bursts
  // overflowed the default ~208 KiB receive buffer (tens of thousands of drops per iperf3 run,
  // bench/dataplane). As deep as the data plane's raw socket; *FORCE needs CAP_NET_ADMIN, the
  // plain option is capped by net.core.[rw]mem_max — still better than the default.
  constexpr int kSocketBuffer = 4 * 1024 * 1024;
  const int fd = p->socket_.native_handle();
  for (auto [force, plain] : {std::pair{SO_RCVBUFFORCE, SO_RCVBUF}, std::pair{SO_SNDBUFFORCE, SO_SNDBUF}}) {
    if (::setsockopt(fd, SOL_SOCKET, force, &kSocketBuffer, sizeof kSocketBuffer) < 0)
      (void)::setsockopt(fd, SOL_SOCKET, plain, &kSocketBuffer, sizeof kSocketBuffer);
  }
  return p;
}

void UdpPort::start(DatagramHandler on_datagram, std::function<void()> on_batch_end) {
  on_datagram_ = std::move(on_datagram);
  on_batch_end_ = std::move(on_batch_end);
  arm();
}

void UdpPort::arm() {
  socket_.async_wait(udp::socket::wait_read, [this](const boost::system::error_code& ec) {
    if (ec) return;  // closed
    udp::endpoint from;
    for (std::size_t i = 0; i < kBudget; ++i) {
      boost::system::error_code rec;
      const std::size_t n = socket_.receive_from(asio::buffer(buffer_), from, 0, rec);
      if (rec == asio::error::would_block || rec == asio::error::try_again) break;
      if (rec) continue;  // e.g. ICMP port unreachable reported on the socket: not ours to act on
      if (!from.address().is_v4()) continue;
      on_datagram_(ByteView(buffer_.data(), n), Ipv4(from.address().to_v4().to_uint()), from.port());
    }
    if (on_batch_end_) on_batch_end_();
    arm();
  });
}

bool UdpPort::send(Ipv4 dst, std::uint16_t port, ByteView payload) {
  boost::system::error_code ec;
  socket_.send_to(asio::buffer(payload.data(), payload.size()),
                  udp::endpoint(asio::ip::address_v4(dst.value()), port), 0, ec);
  return !ec;
}

void UdpPort::close() {
  boost::system::error_code ec;
  socket_.close(ec);
}

std::uint16_t UdpPort::local_port() const {
  boost::system::error_code ec;
  auto ep = socket_.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

}  // namespace vmroam::daemon
