#include "common/daemon/udp_port.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "common/core/log.hpp"

namespace vmroam::daemon {

namespace asio = boost::asio;
using asio::ip::udp;

Result<std::unique_ptr<UdpPort>> UdpPort::open(asio::io_context& io, Ipv4 address, std::uint16_t port) {
  std::unique_ptr<UdpPort> p(new UdpPort(io));
  boost::system::error_code ec;
  const udp::endpoint ep(asio::ip::address_v4(address.value()), port);
  p->socket_.open(udp::v4(), ec);
  // A cluster's standby binds the HA service address before it holds it (it comes at takeover).
  const int freebind = 1;
  if (!ec)
    (void)::setsockopt(p->socket_.native_handle(), IPPROTO_IP, IP_FREEBIND, &freebind, sizeof freebind);
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
  // UDP GRO: best effort; a kernel without it (< 5.0) hands over single datagrams as before.
  const int one = 1;
  (void)::setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof one);
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
    const int fd = socket_.native_handle();
    for (std::size_t i = 0; i < kBudget; ++i) {
      sockaddr_in from{};
      iovec iov{buffer_.data(), buffer_.size()};
      alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int))> control{};
      msghdr msg{};
      msg.msg_name = &from;
      msg.msg_namelen = sizeof from;
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control.data();
      msg.msg_controllen = control.size();
      const ssize_t n = ::recvmsg(fd, &msg, MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        continue;  // e.g. ICMP port unreachable reported on the socket: not ours to act on
      }
      if (from.sin_family != AF_INET || (msg.msg_flags & MSG_TRUNC)) continue;
      std::size_t segment_size = 0;  // UDP GRO: the size of the datagrams in the buffer
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c))
        if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
          int size = 0;
          std::memcpy(&size, CMSG_DATA(c), sizeof size);
          segment_size = size > 0 ? static_cast<std::size_t>(size) : 0;
        }
      const ByteView buffer(buffer_.data(), static_cast<std::size_t>(n));
      if (segment_size != 0 && segment_size < buffer.size()) ++coalesced_receives_;
      const Ipv4 src(ntohl(from.sin_addr.s_addr));
      const std::uint16_t sport = ntohs(from.sin_port);
      split(buffer, segment_size, [&](ByteView datagram) { on_datagram_(datagram, src, sport); });
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

std::size_t UdpPort::send_batch(Ipv4 dst, std::uint16_t port, ByteView payload, std::size_t segment_size) {
  if (payload.empty() || segment_size == 0) return 0;
  const std::size_t count = (payload.size() + segment_size - 1) / segment_size;
  if (count == 1) return send(dst, port, payload) ? 1 : 0;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(dst.value());
  to.sin_port = htons(port);
  const int fd = socket_.native_handle();
  if (gso_) {
    iovec iov{const_cast<std::uint8_t*>(payload.data()), payload.size()};
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(std::uint16_t))> control{};
    msghdr msg{};
    msg.msg_name = &to;
    msg.msg_namelen = sizeof to;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
    const auto size16 = static_cast<std::uint16_t>(segment_size);
    std::memcpy(CMSG_DATA(c), &size16, sizeof size16);
    if (::sendmsg(fd, &msg, MSG_DONTWAIT) == static_cast<ssize_t>(payload.size())) {
      ++segmented_sends_;
      return count;
    }
    const int e = errno;
    if (e == EINVAL || e == EIO) {
      // This kernel or route cannot segment (no UDP_SEGMENT before 4.18; EIO through IPsec,
      // or where the device cannot checksum on older kernels): one send per datagram from now.
      gso_ = false;
      log_warn("udp_gso_disabled", {{"to", dst.to_string()}, {"reason", std::strerror(e)}});
    } else if (e != EMSGSIZE) {
      return 0;  // ENOBUFS, unreachable …: this send failed, not the offload
    }
    // EMSGSIZE: a datagram is bigger than the route's MTU (a smaller link, a lowered path
    // MTU); UDP GSO never fragments. Sent one by one below the kernel fragments them, as it
    // did before; the next batch tries GSO again (the MTU may be back).
  }
  std::size_t sent = 0;
  for (std::size_t at = 0; at < payload.size(); at += segment_size) {
    const std::size_t n = std::min(segment_size, payload.size() - at);
    if (::sendto(fd, payload.data() + at, n, MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&to),
                 sizeof to) == static_cast<ssize_t>(n))
      ++sent;
  }
  return sent;
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
