// The IPv6 fixed header (RFC 8200 §3), as far as the tunnels need it: the data planes carry a
// dual-stack VM's IPv6 packets inside the binding's IPv4 encapsulation (RFC 5454 §4.3:
// IPv6-in-IPv4, protocol 41, RFC 4213 §3.5; or RFC 3519 UDP with Next Header 41) and pick
// the binding by the inner source or destination address. Pure: bytes in, values out.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/core/address6.hpp"
#include "common/core/bytes.hpp"
#include "common/core/result.hpp"

namespace vmroam::wire {

inline constexpr std::size_t kIpv6FixedHeaderSize = 40;  // RFC 8200 §3

struct Ipv6Header {
  std::uint8_t traffic_class = 0;
  std::uint16_t payload_length = 0;  // bytes after the fixed header (extension headers count)
  std::uint8_t next_header = 0;
  std::uint8_t hop_limit = 0;
  Ipv6 src;
  Ipv6 dst;
  [[nodiscard]] std::size_t total_length() const { return kIpv6FixedHeaderSize + payload_length; }
};

// Validates the version (bad_version, read first: an IPv4 packet is named as such whatever its
// length) and that the fixed header and the payload it announces
// fit the buffer (truncated, total_length_mismatch). A zero payload length with a non-empty
// payload is a jumbogram (RFC 2675), which no link of ours carries: jumbogram. The buffer may
// be longer than the packet (Ethernet padding).
[[nodiscard]] Result<Ipv6Header> parse_ipv6(ByteView packet);

// The IP version nibble of a packet's first byte, 0 for an empty buffer.
[[nodiscard]] inline std::uint8_t ip_version(ByteView packet) {
  return packet.empty() ? std::uint8_t{0} : static_cast<std::uint8_t>(packet[0] >> 4);
}

}  // namespace vmroam::wire
