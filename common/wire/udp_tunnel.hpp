// The RFC 3519 UDP tunnel data header: how tunnelled packets cross NATs on UDP port 434.
//
// RFC 3519 §3.3: the UDP payload of a tunnelled packet is
//   Type = 4 | Next Header | Reserved (16 bits, sent 0) | encapsulated packet
// Next Header names the encapsulation of what follows, as an IP protocol number: 4 for IP in
// IP (an IPv4 packet follows directly), 47 GRE, 55 minimal encapsulation, with the IP
// protocol numbers. vmroam implements 4, the one RFC 3519 requires, and 41 (an IPv6 packet
// follows directly) for dual-stack VMs (RFC 5454 §4.3).
//
// Only the UDP payload is built and parsed here; the data path sends it on a UDP socket, so
// the kernel writes the outer IPv4/UDP headers. No allocation in either direction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/core/bytes.hpp"
#include "common/core/result.hpp"

namespace vmroam::wire {

// Writes the 4-byte header followed by the inner packet into `out`: Next Header 4 for an
// IPv4 packet, 41 for an IPv6 one (chosen by the version nibble). Errors: the inner is not a
// valid IPv4 or IPv6 packet (parse_ipv4 / parse_ipv6 codes, as inner_*), buffer_too_small.
[[nodiscard]] Result<std::size_t> udp_tunnel_encapsulate(ByteView inner, std::span<std::uint8_t> out);

// Returns a view of the inner IPv4 (Next Header 4) or IPv6 (41) packet. Errors: truncated,
// not_tunnel_data (type != 4:
// a registration message on the same port, for the caller to dispatch),
// unsupported_next_header (GRE or minimal encapsulation), and the inner checks of
// ipip_decapsulate: inner_too_short, inner_bad_* and inner_length_mismatch.
// Reserved bits are ignored on receipt (RFC 3519 §3.3).
[[nodiscard]] Result<ByteView> udp_tunnel_decapsulate(ByteView udp_payload);

}  // namespace vmroam::wire
