// A send-only AF_PACKET socket bound to one interface: puts whole Ethernet frames (gratuitous
// ARP, RARP) on a link. Protocol 0 means the kernel delivers it nothing, so it costs nothing
// on the receive path. RAII: the fd closes with the object.
#pragma once

#include <string>

#include "common/core/bytes.hpp"
#include "common/core/result.hpp"

namespace vmroam::daemon {

class PacketSocket {
 public:
  // Errors: "packet_socket_failed" (needs CAP_NET_RAW), naming the interface.
  [[nodiscard]] static Result<PacketSocket> open(int ifindex, const std::string& ifname);
  PacketSocket(PacketSocket&& o) noexcept;
  PacketSocket& operator=(PacketSocket&& o) noexcept;
  PacketSocket(const PacketSocket&) = delete;
  PacketSocket& operator=(const PacketSocket&) = delete;
  ~PacketSocket();

  // Errors: "send_failed" with errno text.
  [[nodiscard]] Result<void> send(ByteView frame) const;

 private:
  PacketSocket(int fd, int ifindex) : fd_(fd), ifindex_(ifindex) {}
  int fd_ = -1;
  int ifindex_ = 0;
};

}  // namespace vmroam::daemon
