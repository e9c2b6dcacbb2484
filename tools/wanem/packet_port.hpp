// One AF_PACKET socket bound to one interface: the whole OS seam of the delay line.
//
// * PACKET_VNET_HDR: every frame carries a virtio-net header, so GSO super-frames and frames
//   whose checksum is still to be filled in (CHECKSUM_PARTIAL, usual on veth) are received
//   and re-sent as they are, without segmenting or checksumming in user space.
// * PACKET_IGNORE_OUTGOING: the socket does not see frames sent on its own interface (our own
//   sends, forwarded from the other side); otherwise they would loop.
// * Promiscuous membership: frames for any MAC are received; dropped by the kernel when the
//   socket closes.
// * The socket is created with protocol 0 and bound with ETH_P_ALL to the interface, so no
//   frame of another interface is ever queued on it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>

#include "common/core/result.hpp"

namespace vmroam::wanem {

// Owns a file descriptor.
class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(FileDescriptor&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  FileDescriptor& operator=(FileDescriptor&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() { reset(); }
  [[nodiscard]] int get() const { return fd_; }
  void reset();

 private:
  int fd_ = -1;
};

class PacketPort {
 public:
  // Size of the virtio-net header in front of every frame.
  static constexpr std::size_t kVnetHeaderBytes = 10;

  [[nodiscard]] static Result<PacketPort> open(const std::string& ifname);

  [[nodiscard]] int fd() const { return fd_.get(); }
  [[nodiscard]] const std::string& name() const { return name_; }

  // One frame (header included) into `buf`. 0 = nothing waiting. Frames larger than `buf`
  // are discarded and counted in truncated().
  [[nodiscard]] Result<std::size_t> receive(std::span<std::uint8_t> buf);
  // Sends one frame (header included) on this interface; false if the kernel refused it
  // (a full qdisc, a full socket buffer, a bad header).
  [[nodiscard]] bool send(std::span<const std::uint8_t> frame);

  // Frames the kernel dropped because our receive buffer was full (PACKET_STATISTICS).
  [[nodiscard]] std::uint64_t kernel_drops();
  [[nodiscard]] std::uint64_t truncated() const { return truncated_; }
  [[nodiscard]] int last_send_errno() const { return last_send_errno_; }

 private:
  PacketPort(FileDescriptor fd, std::string name, int ifindex)
      : fd_(std::move(fd)), name_(std::move(name)), ifindex_(ifindex) {}

  FileDescriptor fd_;
  std::string name_;
  int ifindex_ = 0;
  std::uint64_t drops_ = 0;
  std::uint64_t truncated_ = 0;
  int last_send_errno_ = 0;
};

}  // namespace vmroam::wanem
