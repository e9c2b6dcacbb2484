// Userspace GSO and GRO for the TUN device: the data plane moves 64 KiB TCP super-packets
// through the kernel boundary instead of 1500-byte packets.
//
// With IFF_VNET_HDR every packet read from or written to the TUN is preceded by a
// virtio_net_hdr (virtio 1.x §5.1.6, "struct virtio_net_hdr"; 10 bytes, host byte order for
// TUN). After TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4) the kernel hands over:
//   * packets with a partial checksum (flags NEEDS_CSUM: the sum over [csum_start, end)
//     still has to be stored at csum_start + csum_offset; the field holds the pseudo-header
//     sum) — complete_checksum();
//   * TCP/IPv4 super-packets (gso_type TCPV4) of up to 64 KiB whose payload is to be cut
//     into gso_size pieces — gso_segment() writes one ordinary IPv4/TCP packet per piece,
//     each with its own total length, IP ID (+1 per segment), header checksum, sequence
//     number, flags (FIN/PSH only on the last, CWR only on the first: RFC 3168 §6.1.2) and a
//     complete TCP checksum (RFC 793 §3.1 pseudo-header) — what a NIC doing TSO would send.
// On the way in, TcpCoalescer merges consecutive in-order segments of one TCP flow (the
// inner packets of one recvmmsg batch) into one super-packet written with gso_type TCPV4, as
// the kernel's GRO would: the kernel forwards it whole and cuts it again only where needed.
// Only plain data segments merge (ACK, PSH on the last one), with identical IP and TCP
// headers apart from sequence number, IP ID, lengths and checksums; each segment's TCP
// checksum is verified first, so a corrupted segment is never hidden inside a valid sum.
//
// On the RFC 3519 UDP path, DatagramBatch gathers consecutive tunnel datagrams for one peer
// into one buffer for a single UDP_SEGMENT send (UDP GSO, Linux >= 4.18): the kernel cuts it
// at every segment_size bytes, so each datagram on the wire is the ordinary
// [RFC 3519 header][inner packet] it would have been when sent alone.
//
// Pure: bytes in, bytes out, caller-provided buffers, no allocation.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/core/address.hpp"
#include "common/core/bytes.hpp"
#include "common/core/result.hpp"

namespace vmroam::dataplane {

inline constexpr std::size_t kVnetHeaderSize = 10;   // struct virtio_net_hdr (no num_buffers)
inline constexpr std::uint8_t kVnetNeedsCsum = 1;    // VIRTIO_NET_HDR_F_NEEDS_CSUM
inline constexpr std::uint8_t kVnetGsoNone = 0;      // VIRTIO_NET_HDR_GSO_NONE
inline constexpr std::uint8_t kVnetGsoTcpv4 = 1;     // VIRTIO_NET_HDR_GSO_TCPV4
inline constexpr std::uint8_t kVnetGsoEcn = 0x80;    // VIRTIO_NET_HDR_GSO_ECN (not negotiated)
inline constexpr std::size_t kMaxGsoSegments = 128;  // 65535 / smallest sane MSS (536) + 1

struct VnetHeader {
  std::uint8_t flags = 0;
  std::uint8_t gso_type = kVnetGsoNone;
  std::uint16_t hdr_len = 0;      // IP + TCP header bytes (a hint)
  std::uint16_t gso_size = 0;     // payload bytes per segment
  std::uint16_t csum_start = 0;   // from the start of the IP header (TUN: no link header)
  std::uint16_t csum_offset = 0;  // of the checksum field, from csum_start
  friend bool operator==(const VnetHeader&, const VnetHeader&) = default;
};

// `bytes` must hold kVnetHeaderSize bytes (the caller reads at least that much).
[[nodiscard]] VnetHeader read_vnet_header(ByteView bytes);
void write_vnet_header(const VnetHeader& h, std::span<std::uint8_t> out);

// RFC 1071 sum of `data` plus `initial`, folded to 16 bits but NOT complemented (a partial
// sum to continue from); 32-bit words at a time.
[[nodiscard]] std::uint32_t checksum_add(ByteView data, std::uint32_t initial = 0);

// NEEDS_CSUM: stores the checksum of packet[csum_start, end) at csum_start + csum_offset.
// Errors: bad_csum_offsets (outside the packet). A header without the flag is a no-op.
Result<void> complete_checksum(const VnetHeader& h, std::span<std::uint8_t> packet);

// A TCPV4 super-packet cut into segments: segments first, first + 1, … are written, segment
// first + i at out[i * stride], lengths[i] bytes long, as many as fit `lengths` and `out`;
// returns how many (0 once `first` is past the last one, so a caller loops with
// first += count: a tiny MSS never makes a super-packet undeliverable). Errors:
// unsupported_gso (not TCPV4, or ECN), malformed (not IPv4/TCP, headers truncated, bad
// lengths), bad_gso_size (0), no_room (not even one segment fits), segment_too_big (> stride).
[[nodiscard]] Result<std::size_t> gso_segment(const VnetHeader& h, ByteView packet,
                                              std::span<std::uint8_t> out, std::size_t stride,
                                              std::span<std::size_t> lengths, std::size_t first = 0);

// Merges in-order TCP segments of one flow into one packet in a caller buffer (>= 65535
// bytes). Use: add() each packet; when it returns false the packet did not join: flush()
// what is pending, then add() it again (a packet that cannot start a merge returns false on
// an empty coalescer too: send it as it is).
class TcpCoalescer {
 public:
  explicit TcpCoalescer(std::span<std::uint8_t> buffer) : buf_(buffer) {}

  // True when `packet` was copied in (started or extended the pending super-packet).
  bool add(ByteView packet);
  [[nodiscard]] bool empty() const { return segments_ == 0; }
  // True when a packet is pending and `packet` is IPv4/TCP of the same flow (addresses and
  // ports): what it must not overtake.
  [[nodiscard]] bool same_flow(ByteView packet) const;
  [[nodiscard]] std::size_t segments() const { return segments_; }

  struct Merged {
    VnetHeader header;  // GSO_NONE for a single segment (sent unchanged), else TCPV4
    ByteView packet;    // valid until the next add()
  };
  // Finishes the pending packet (lengths, IP checksum, partial TCP checksum) and empties the
  // coalescer. Only when !empty().
  Merged flush();

 private:
  std::span<std::uint8_t> buf_;
  std::size_t size_ = 0;        // bytes in buf_
  std::size_t segments_ = 0;    // packets merged
  std::size_t ip_len_ = 0;      // IP header length of the pending packet
  std::size_t hdr_len_ = 0;     // IP + TCP header length
  std::size_t mss_ = 0;         // payload of the first segment
  std::uint32_t next_seq_ = 0;  // sequence number the next segment must carry
  bool closed_ = false;         // a short or PSH segment ended the run
};

// UDP GSO limits: the kernel accepts at most UDP_MAX_SEGMENTS datagrams per send (64 before
// Linux 6.9; we stay within the old limit) and one send is one IPv4/UDP datagram before
// segmentation, so at most 65535 - 20 (IPv4) - 8 (UDP) payload bytes.
inline constexpr std::size_t kMaxUdpGsoSegments = 64;
inline constexpr std::size_t kMaxUdpGsoBytes = 65535 - 20 - 8;

// Consecutive datagrams to one destination, laid end to end: all segment_size bytes (the
// first one's size) except possibly the last, shorter one, which ends the batch — the only
// shape UDP_SEGMENT can cut back into the same datagrams. Use: add() each datagram; false
// means it did not join: take() and send what is pending, then add() again (false on an empty
// batch too when the datagram is bigger than the buffer: send it alone).
class DatagramBatch {
 public:
  explicit DatagramBatch(std::span<std::uint8_t> buffer, std::size_t max_segments = kMaxUdpGsoSegments,
                         std::size_t max_bytes = kMaxUdpGsoBytes)
      : buf_(buffer), max_segments_(max_segments), max_bytes_(std::min(max_bytes, buffer.size())) {}

  // True when `datagram` (not empty) was copied in.
  bool add(Ipv4 dst, std::uint16_t port, ByteView datagram);
  [[nodiscard]] bool empty() const { return segments_ == 0; }
  [[nodiscard]] std::size_t segments() const { return segments_; }

  struct Pending {
    Ipv4 dst;
    std::uint16_t port = 0;
    ByteView payload;  // the datagrams end to end; valid until the next add()
    std::size_t segment_size = 0;
    std::size_t segments = 0;
    // Size of datagram i (< segments): segment_size, except the last one's remainder.
    [[nodiscard]] std::size_t size_of(std::size_t i) const {
      return i + 1 < segments ? segment_size : payload.size() - segment_size * (segments - 1);
    }
  };
  // What is pending; empties the batch. Only when !empty().
  Pending take();

 private:
  std::span<std::uint8_t> buf_;
  std::size_t max_segments_;
  std::size_t max_bytes_;
  Ipv4 dst_;
  std::uint16_t port_ = 0;
  std::size_t size_ = 0;          // bytes in buf_
  std::size_t segments_ = 0;      // datagrams in buf_
  std::size_t segment_size_ = 0;  // the first datagram's size
  bool closed_ = false;           // a shorter datagram ended the batch
};

}  // namespace vmroam::dataplane
