// IP in IP encapsulation (RFC 2003): the default tunnel between home and foreign agent.
//
// Encapsulation puts a 20-byte outer IPv4 header (protocol 4) in front of an unchanged inner
// packet (RFC 2003 §3.1): TOS copied from the inner header, DF copied from the inner header
// (§5.1 default), TTL and IP ID from the caller, checksum computed. The inner TTL is not
// decremented here: the kernel already did when it routed the packet into our TUN device.
//
// Decapsulation validates the outer header (protocol 4, not a fragment) and the inner IPv4
// packet, which must fill the outer payload exactly, and returns a view of it (no copy).
// Data path: neither direction allocates.
//
// A dual-stack VM's IPv6 packets take the same tunnel as IPv6-in-IPv4 (RFC 4213 §3.5,
// protocol 41; RFC 5454 §4.3): the same outer header with protocol 41, TOS copied from the
// inner Traffic Class, DF clear (RFC 4213 §3.2.1: a static tunnel MTU; the tunnel device's MTU
// keeps every packet within it, and IPv6 routers never fragment, so a DF-less outer header is
// the only way a path that shrank still delivers).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/core/address.hpp"
#include "common/core/bytes.hpp"
#include "common/core/result.hpp"
#include "common/wire/ipv4.hpp"

namespace vmroam::wire {

inline constexpr std::size_t kIpipOverhead = kIpv4MinHeaderSize;  // RFC 2003 §3.1

struct IpipParams {
  Ipv4 src;  // tunnel entry point (this agent)
  Ipv4 dst;  // tunnel exit point (the peer agent)
  std::uint8_t ttl = kDefaultTtl;
  std::uint16_t id = 0;
};

// RFC 2003 §3.1: outer header (20 bytes) + inner copied into `out`; returns total bytes
// written. Errors: the inner is not a valid IPv4 packet (parse_ipv4 codes), too_big (the
// result would exceed 65535 bytes), buffer_too_small. Trailing bytes after the inner's total
// length (link padding) are not carried.
[[nodiscard]] Result<std::size_t> ipip_encapsulate(ByteView inner, const IpipParams& params,
                                                   std::span<std::uint8_t> out);

struct Decapsulated {
  Ipv4 outer_src;
  Ipv4 outer_dst;
  ByteView inner;  // exactly the inner IPv4 packet
};

// Errors: parse_ipv4 codes for the outer header; wrong_protocol (not 4); fragment (outer
// fragments need reassembly, which the kernel does before our raw socket sees them);
// inner_too_short / inner_* (parse_ipv4 codes of the inner, prefixed); inner_length_mismatch
// (inner total length does not fill the outer payload); inner_source_is_tunnel_endpoint
// (the inner claims to come from the decapsulator itself: a loop or a spoof, RFC 2003 §3.1).
[[nodiscard]] Result<Decapsulated> ipip_decapsulate(ByteView packet);

// RFC 4213 §3.5: `inner` must be a valid IPv6 packet (parse_ipv6 codes, as inner_*); the
// result is the outer header with protocol 41 followed by it. Errors as ipip_encapsulate.
[[nodiscard]] Result<std::size_t> ipv6_in_ipv4_encapsulate(ByteView inner, const IpipParams& params,
                                                           std::span<std::uint8_t> out);

// The mirror of ipip_decapsulate for protocol 41: Decapsulated::inner is exactly the IPv6
// packet. Errors: the outer's parse_ipv4 codes; wrong_protocol (not 41); fragment;
// inner_* (parse_ipv6 codes); inner_length_mismatch (the IPv6 packet does not fill the payload).
[[nodiscard]] Result<Decapsulated> ipv6_in_ipv4_decapsulate(ByteView packet);

}  // namespace vmroam::wire
