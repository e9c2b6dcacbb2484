#include "common/daemon/udp_port.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

#include "common/core/log.hpp"

namespace vmroam::daemon {

namespace asio = boost::asio;
using asio::ip::udp;

namespace {

// One datagram's message header: its peer's address, one buffer and room for one control
// message (UDP_GRO in, UDP_SEGMENT out).
template <std::size_t kControl>
msghdr one_buffer_message(sockaddr_in& peer, iovec& iov, std::array<char, kControl>& control) {
  msghdr msg{};
  msg.msg_name = &peer;
  msg.msg_namelen = sizeof peer;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  return msg;
}

}  // namespace

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
    // Up to kBudget datagrams, then the batch ends and other work on the loop gets its turn.
    for (std::size_t calls = 0; calls < kBudget / kBatch; ++calls) {
      const int n = receive_batch();
      if (n >= 0 && static_cast<std::size_t>(n) < kBatch) break;  // drained
    }
    if (on_batch_end_) on_batch_end_();
    arm();
  });
}

namespace {

// The datagram(s) of one received message: its source, and the UDP GRO segment size (0: one
// datagram), or nullopt for what is not ours to handle (not IPv4, or cut short).
struct Received {
  Ipv4 src;
  std::uint16_t port = 0;
  std::size_t segment_size = 0;
};
std::optional<Received> received(const msghdr& msg, const sockaddr_in& from) {
  if (from.sin_family != AF_INET || (msg.msg_flags & MSG_TRUNC)) return std::nullopt;
  Received r{Ipv4(ntohl(from.sin_addr.s_addr)), ntohs(from.sin_port), 0};
  for (const cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr;
       c = CMSG_NXTHDR(const_cast<msghdr*>(&msg), const_cast<cmsghdr*>(c)))
    if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
      int size = 0;
      std::memcpy(&size, CMSG_DATA(c), sizeof size);
      r.segment_size = size > 0 ? static_cast<std::size_t>(size) : 0;
    }
  return r;
}

}  // namespace

int UdpPort::receive_batch() {
  std::array<mmsghdr, kBatch> msgs{};
  std::array<iovec, kBatch> iov{};
  std::array<sockaddr_in, kBatch> from{};
  alignas(cmsghdr) std::array<std::array<char, CMSG_SPACE(sizeof(int))>, kBatch> control{};
  for (std::size_t i = 0; i < kBatch; ++i) {
    iov[i] = {buffers_.data() + i * kSlot, kSlot};
    msghdr& m = msgs[i].msg_hdr;
    m.msg_name = &from[i];
    m.msg_namelen = sizeof from[i];
    m.msg_iov = &iov[i];
    m.msg_iovlen = 1;
    m.msg_control = control[i].data();
    m.msg_controllen = control[i].size();
  }
  const int n = ::recvmmsg(socket_.native_handle(), msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
  for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
    const auto r = received(msgs[i].msg_hdr, from[i]);
    if (!r) continue;
    const ByteView buffer(buffers_.data() + i * kSlot, msgs[i].msg_len);
    if (r->segment_size != 0 && r->segment_size < buffer.size()) ++coalesced_receives_;
    split(buffer, r->segment_size, [&](ByteView datagram) { on_datagram_(datagram, r->src, r->port); });
  }
  return n;
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
    msghdr msg = one_buffer_message(to, iov, control);
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
