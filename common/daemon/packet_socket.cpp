#include "common/daemon/packet_socket.hpp"

#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace vmroam::daemon {

Result<PacketSocket> PacketSocket::open(int ifindex, const std::string& ifname) {
  const int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return fail("packet_socket_failed", ifname + ": " + std::strerror(errno));
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_ifindex = ifindex;
  sll.sll_protocol = 0;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&sll), sizeof sll) != 0) {
    const int e = errno;
    ::close(fd);
    return fail("packet_socket_failed", ifname + ": bind: " + std::strerror(e));
  }
  return PacketSocket(fd, ifindex);
}

PacketSocket::PacketSocket(PacketSocket&& o) noexcept : fd_(std::exchange(o.fd_, -1)), ifindex_(o.ifindex_) {}

PacketSocket& PacketSocket::operator=(PacketSocket&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
    ifindex_ = o.ifindex_;
  }
  return *this;
}

PacketSocket::~PacketSocket() {
  if (fd_ >= 0) ::close(fd_);
}

Result<void> PacketSocket::send(ByteView frame) const {
  if (frame.size() < 14) return fail("send_failed", "frame shorter than an Ethernet header");
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = ifindex_;
  to.sll_halen = 6;
  std::memcpy(to.sll_addr, frame.data(), 6);
  if (::sendto(fd_, frame.data(), frame.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) < 0)
    return fail("send_failed", std::strerror(errno));
  return ok();
}

}  // namespace vmroam::daemon
