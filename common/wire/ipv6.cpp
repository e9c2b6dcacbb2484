// The IPv6 fixed header; see ipv6.hpp.
#include "common/wire/ipv6.hpp"

#include <algorithm>
#include <string>

namespace vmroam::wire {

Result<Ipv6Header> parse_ipv6(ByteView packet) {
  if (!packet.empty() && (packet[0] >> 4) != 6)
    return fail("bad_version", "IP version " + std::to_string(packet[0] >> 4));
  if (packet.size() < kIpv6FixedHeaderSize)
    return fail("truncated", "IPv6 header needs 40 bytes, have " + std::to_string(packet.size()));
  Ipv6Header h;
  h.traffic_class = static_cast<std::uint8_t>(((packet[0] & 0x0f) << 4) | (packet[1] >> 4));
  h.payload_length = static_cast<std::uint16_t>((packet[4] << 8) | packet[5]);
  h.next_header = packet[6];
  h.hop_limit = packet[7];
  Ipv6::Octets src{};
  Ipv6::Octets dst{};
  std::copy_n(packet.begin() + 8, 16, src.begin());
  std::copy_n(packet.begin() + 24, 16, dst.begin());
  h.src = Ipv6(src);
  h.dst = Ipv6(dst);
  if (h.payload_length == 0 && packet.size() > kIpv6FixedHeaderSize && h.next_header == 0)
    return fail("jumbogram", "IPv6 payload length 0 with a hop-by-hop header (RFC 2675)");
  if (h.total_length() > packet.size())
    return fail("total_length_mismatch", "IPv6 packet of " + std::to_string(h.total_length()) +
                                             " bytes, have " + std::to_string(packet.size()));
  return h;
}

}  // namespace vmroam::wire
