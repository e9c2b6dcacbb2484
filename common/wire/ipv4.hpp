// IPv4, UDP and ICMP: header parsing with every check a receiver must make, the Internet
// checksum (RFC 1071), and builders that write whole datagrams with correct checksums.
//
// RFC 791   IPv4 header: version 4, IHL >= 5, total length, header checksum
// RFC 768   UDP header; checksum over a pseudo-header; 0 on the wire means "not computed"
// RFC 792   ICMP: type, code, checksum over the whole ICMP message
// RFC 1071  the Internet checksum (16-bit ones' complement sum)
//
// Pure: bytes in, values out. Parsers return views into the caller's buffer and never
// allocate; the write_* functions fill a caller-provided span (data path); the build_*
// functions return a new vector (control plane, tests, pcap tools).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/core/address.hpp"
#include "common/core/bytes.hpp"
#include "common/core/result.hpp"

namespace vmroam::wire {

inline constexpr std::size_t kIpv4MinHeaderSize = 20;     // RFC 791 §3.1: IHL 5
inline constexpr std::size_t kIpv4MaxPacketSize = 65535;  // RFC 791 §3.1: 16-bit total length
inline constexpr std::size_t kUdpHeaderSize = 8;          // RFC 768
inline constexpr std::size_t kIcmpHeaderSize = 4;         // RFC 792: type, code, checksum
inline constexpr std::uint8_t kDefaultTtl = 64;           // RFC 1700 / Linux ip_default_ttl

// A parsed IPv4 header. header_length counts options; the payload is
// packet[header_length, total_length).
struct Ipv4Header {
  std::uint8_t tos = 0;
  std::uint16_t total_length = 0;
  std::uint16_t id = 0;
  bool df = false;
  bool mf = false;
  std::uint16_t fragment_offset = 0;  // in 8-byte units, as on the wire
  std::uint8_t ttl = 0;
  std::uint8_t protocol = 0;
  Ipv4 src;
  Ipv4 dst;
  std::size_t header_length = 0;  // bytes, incl. options

  [[nodiscard]] bool is_fragment() const { return mf || fragment_offset != 0; }
};

// What a builder needs to write a 20-byte IPv4 header (no options).
struct Ipv4Params {
  Ipv4 src;
  Ipv4 dst;
  std::uint8_t protocol = 0;
  std::uint8_t ttl = kDefaultTtl;
  std::uint8_t tos = 0;
  std::uint16_t id = 0;
  bool df = false;
};

// RFC 1071: the ones' complement of the ones' complement sum of `data` taken as big-endian
// 16-bit words (an odd last byte is padded with zero), plus `initial`, a partial sum such as
// pseudo_header_sum(). Returns the value for the checksum field; over data that already
// holds a correct checksum it returns 0.
[[nodiscard]] std::uint16_t internet_checksum(ByteView data, std::uint32_t initial = 0);

// RFC 768: the UDP pseudo-header (source, destination, zero, protocol, UDP length) as a
// partial sum to pass as `initial` to internet_checksum().
[[nodiscard]] std::uint32_t pseudo_header_sum(Ipv4 src, Ipv4 dst, std::uint8_t protocol,
                                              std::uint16_t length);

// Validates version (bad_version), IHL (bad_ihl), that header and total length fit the buffer
// (truncated, total_length_mismatch), that total length covers the header (bad_total_length)
// and the header checksum (bad_checksum). The buffer may be longer than total_length
// (Ethernet padding); the payload is cut at total_length.
[[nodiscard]] Result<Ipv4Header> parse_ipv4(ByteView packet);

// A parse_ipv4() error about an encapsulated (inner) packet, renamed so counters tell the
// outer header's faults from the inner's: truncated -> inner_too_short,
// total_length_mismatch -> inner_length_mismatch, other X -> inner_X.
[[nodiscard]] Error as_inner_error(const Error& e);

// The payload of a packet parse_ipv4() accepted.
[[nodiscard]] ByteView ipv4_payload(ByteView packet, const Ipv4Header& header);

// Writes a 20-byte header with checksum for a payload of payload_length bytes into out.
// Fails with buffer_too_small or too_big (total length over 65535).
[[nodiscard]] Result<std::size_t> write_ipv4_header(const Ipv4Params& params, std::size_t payload_length,
                                                    std::span<std::uint8_t> out);

// Header + payload as one packet. Aborts if payload exceeds what IPv4 can carry
// (a programming error for every caller we have: control messages are small).
[[nodiscard]] Bytes build_ipv4_packet(const Ipv4Params& params, ByteView payload);

// ---- UDP ------------------------------------------------------------------------------------

struct UdpDatagram {
  Ipv4Header ip;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  ByteView payload;  // exactly UDP length - 8 bytes
};

// A whole IPv4 packet carrying UDP: parse_ipv4() checks, then wrong_protocol, fragment
// (we never reassemble; the kernel hands sockets whole datagrams), truncated, bad_udp_length,
// bad_checksum (a zero checksum means the sender did not compute one: RFC 768).
[[nodiscard]] Result<UdpDatagram> parse_udp_datagram(ByteView packet);

struct UdpParams {
  Ipv4 src;
  std::uint16_t src_port = 0;
  Ipv4 dst;
  std::uint16_t dst_port = 0;
  std::uint8_t ttl = kDefaultTtl;
  std::uint8_t tos = 0;
  std::uint16_t id = 0;
};

// IPv4 header + UDP header + payload with both checksums, into out (no allocation).
// A computed UDP checksum of 0 is sent as 0xFFFF (RFC 768).
[[nodiscard]] Result<std::size_t> write_udp_datagram(const UdpParams& params, ByteView payload,
                                                     std::span<std::uint8_t> out);

[[nodiscard]] Bytes build_udp_datagram(Ipv4 src, std::uint16_t sport, Ipv4 dst, std::uint16_t dport,
                                       ByteView payload, std::uint8_t ttl = kDefaultTtl);

// ---- ICMP -----------------------------------------------------------------------------------

struct IcmpMessage {
  std::uint8_t type = 0;
  std::uint8_t code = 0;
  ByteView body;  // everything after the checksum, including the "rest of header" word
};

// An ICMP message (the IPv4 payload): truncated, bad_checksum.
[[nodiscard]] Result<IcmpMessage> parse_icmp(ByteView icmp);

// type | code | checksum | body, with the checksum over the whole message (RFC 792).
[[nodiscard]] Bytes build_icmp(std::uint8_t type, std::uint8_t code, ByteView body);

}  // namespace vmroam::wire
