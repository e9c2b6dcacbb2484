// ReplyBatch: the registration replies of one committed batch, sent together.
//
// Why: at tens of thousands of registrations per second one sendto per reply was the loop's
// largest single cost after the receives (docs/performance.md "Home agent registrations").
// Replies to one FA are all the same size (the same extensions, the same authenticator), so
// a batch's replies to one FA address and port go out as one UDP GSO send
// (UdpPort::send_batch: the kernel cuts them back into the very same datagrams, so the wire
// does not change); anything else, or everything when no segmented send is given, goes one
// by one. Order: replies to one FA keep the order they were added in; across FAs, and across
// different sizes to one FA, they may leave in another order (UDP promises none, and an FA
// matches a reply to its request by Identification, RFC 5944 §3.8.3).
//
// "Acknowledged means durable" is the caller's business: it adds replies only once their
// commit is done, and flush() sends them before anything that must follow a reply.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "common/core/address.hpp"
#include "common/core/bytes.hpp"

namespace vmroam::ha {

class ReplyBatch {
 public:
  using SendOne = std::function<void(Ipv4 dst, std::uint16_t port, ByteView payload)>;
  // Datagrams of `segment_size` bytes end to end to one destination; returns how many were
  // accepted (UdpPort::send_batch).
  using SendSegmented =
      std::function<std::size_t(Ipv4 dst, std::uint16_t port, ByteView payload, std::size_t segment_size)>;

  // A UDP GSO send carries at most this many segments (the kernel's UDP_MAX_SEGMENTS is 64
  // on older kernels, 128 since 5.5) and at most kMaxBytes of payload.
  static constexpr std::size_t kMaxSegments = 64;
  static constexpr std::size_t kMaxBytes = 60000;

  // `segmented` may be empty: every reply then goes through `one`.
  ReplyBatch(SendOne one, SendSegmented segmented) : one_(std::move(one)), segmented_(std::move(segmented)) {}

  // Queues a copy of `payload` for dst:port; nothing is sent before flush().
  void add(Ipv4 dst, std::uint16_t port, ByteView payload);
  // Sends everything queued; returns how many datagrams the kernel refused (0 normally).
  std::size_t flush();
  [[nodiscard]] bool empty() const { return groups_.empty(); }

 private:
  struct Group {
    Ipv4 dst;
    std::uint16_t port = 0;
    std::size_t size = 0;  // every datagram of the group has this many bytes
    Bytes data;            // the datagrams end to end
  };
  SendOne one_;
  SendSegmented segmented_;
  std::vector<Group> groups_;
};

}  // namespace vmroam::ha
