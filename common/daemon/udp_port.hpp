// The agents' UDP 434 socket on the daemon's io_context.
//
// Per readiness event the socket is drained (non-blocking reads until it would block, at most
// kBudget datagrams) and each datagram is handed to on_datagram; then on_batch_end runs once.
// That is the group-commit point: everything that arrived together is committed together.
// The reads are recvmmsg calls of up to kBatch datagrams each: under a flood of small
// registrations the HA spent a third of its CPU in one recvmsg system call per datagram
// (perf, docs/performance.md "Registration flood"); one call per kBatch amortises it. Each
// of the kBatch slots holds 64 KiB, what one UDP GRO buffer may carry (1 MiB per port).
//
// Offloads for the RFC 3519 tunnel data sharing the port (docs/dataplane.md "Performance"):
// * send_batch(): datagrams of equal size laid end to end go out in one sendmsg with a
//   UDP_SEGMENT cmsg (UDP GSO, Linux >= 4.18); the kernel (or the NIC) cuts them back into
//   the same datagrams, so the wire is unchanged. If the kernel cannot do it (EINVAL/EIO)
//   the port falls back to one send per datagram and stays there; a datagram bigger than the
//   route's MTU (EMSGSIZE: GSO does not fragment) sends that batch one by one.
// * UDP_GRO (Linux >= 5.0) is enabled: the kernel may hand over several datagrams of one flow
//   as one buffer plus a cmsg with their size; split() cuts it, and on_datagram still sees one
//   datagram per call (registrations and tunnel data alike, RFC 3519 §3.3).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "common/core/address.hpp"
#include "common/core/asio.hpp"
#include "common/core/bytes.hpp"
#include "common/core/result.hpp"

namespace vmroam::daemon {

class UdpPort {
 public:
  using DatagramHandler = std::function<void(ByteView payload, Ipv4 src, std::uint16_t src_port)>;
  static constexpr std::size_t kBudget = 256;
  static constexpr std::size_t kBatch = 16;  // datagrams per recvmmsg
  static constexpr std::size_t kSlot = 65536;

  // Errors: "udp_bind_failed" naming the address.
  [[nodiscard]] static Result<std::unique_ptr<UdpPort>> open(boost::asio::io_context& io, Ipv4 address,
                                                             std::uint16_t port);
  void start(DatagramHandler on_datagram, std::function<void()> on_batch_end);
  // Non-blocking; false (and counted by the caller) if the kernel refused it.
  bool send(Ipv4 dst, std::uint16_t port, ByteView payload);
  // `payload` is datagrams of segment_size bytes end to end (the last may be shorter); sends
  // them with UDP GSO where the kernel allows it. Returns how many datagrams were accepted
  // (all or none with GSO; after a fallback the first ones that fit, best effort).
  std::size_t send_batch(Ipv4 dst, std::uint16_t port, ByteView payload, std::size_t segment_size);
  [[nodiscard]] bool segmentation_offload() const { return gso_; }
  // Sends that went out as one UDP_SEGMENT call, and receives that carried more than one
  // datagram (UDP GRO): the offloads at work.
  [[nodiscard]] std::uint64_t segmented_sends() const { return segmented_sends_; }
  [[nodiscard]] std::uint64_t coalesced_receives() const { return coalesced_receives_; }

  // Calls f(ByteView) for each datagram of a received buffer: segment_size bytes each, the
  // last one possibly shorter; segment_size 0 (no UDP_GRO cmsg) = the buffer is one datagram.
  template <class F>
  static void split(ByteView buffer, std::size_t segment_size, F&& f) {
    if (segment_size == 0 || segment_size >= buffer.size()) {
      f(buffer);
      return;
    }
    for (std::size_t at = 0; at < buffer.size(); at += segment_size)
      f(buffer.subspan(at, std::min(segment_size, buffer.size() - at)));
  }
  void close();
  [[nodiscard]] std::uint16_t local_port() const;

 private:
  explicit UdpPort(boost::asio::io_context& io) : socket_(io), buffers_(kBatch * kSlot) {}
  void arm();
  // One recvmmsg: hands what it read to on_datagram_; returns how many it read (0: none
  // waiting), or -1 for an error reported on the socket (an ICMP error: not ours to act on).
  int receive_batch();
  boost::asio::ip::udp::socket socket_;
  DatagramHandler on_datagram_;
  std::function<void()> on_batch_end_;
  bool gso_ = true;  // UDP_SEGMENT not refused yet
  std::uint64_t segmented_sends_ = 0;
  std::uint64_t coalesced_receives_ = 0;
  std::vector<std::uint8_t> buffers_;  // kBatch slots of kSlot bytes
};

}  // namespace vmroam::daemon
