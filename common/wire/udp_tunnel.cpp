// RFC 3519 §3.3 tunnel data header; see udp_tunnel.hpp.
#include "common/wire/udp_tunnel.hpp"

#include <algorithm>
#include <string>

#include "common/wire/ipv4.hpp"
#include "common/wire/ipv6.hpp"
#include "common/wire/mobile_ip.hpp"

namespace vmroam::wire {

namespace {
// The inner packet's length and the Next Header that names it, by its version nibble.
Result<std::pair<std::size_t, std::uint8_t>> inner_packet(ByteView inner) {
  if (ip_version(inner) == 6) {
    auto h = parse_ipv6(inner);
    if (!h) return fail(as_inner_error(h.error()));
    return std::pair{h->total_length(), mip::kIpProtoIpv6};
  }
  auto h = parse_ipv4(inner);
  if (!h) return fail(as_inner_error(h.error()));
  return std::pair{std::size_t{h->total_length}, mip::kIpProtoIpip};
}
}  // namespace

Result<std::size_t> udp_tunnel_encapsulate(ByteView inner, std::span<std::uint8_t> out) {
  VMROAM_TRY(auto kind, inner_packet(inner));
  const ByteView packet = inner.first(kind.first);
  const std::size_t total = mip::kTunnelDataHeaderSize + packet.size();
  if (out.size() < total) {
    return fail("buffer_too_small", "need " + std::to_string(total) + " bytes");
  }
  out[0] = static_cast<std::uint8_t>(mip::MessageType::tunnel_data);
  out[1] = kind.second;  // Next Header: 4 (IPv4) or 41 (IPv6) follows
  out[2] = 0;            // Reserved, sent as 0
  out[3] = 0;
  std::copy(packet.begin(), packet.end(),
            out.begin() + static_cast<std::ptrdiff_t>(mip::kTunnelDataHeaderSize));
  return total;
}

Result<ByteView> udp_tunnel_decapsulate(ByteView udp_payload) {
  if (udp_payload.size() < mip::kTunnelDataHeaderSize) {
    return fail("truncated", "tunnel data header needs 4 bytes, have " + std::to_string(udp_payload.size()));
  }
  if (udp_payload[0] != static_cast<std::uint8_t>(mip::MessageType::tunnel_data)) {
    return fail("not_tunnel_data", "message type " + std::to_string(udp_payload[0]));
  }
  const std::uint8_t next = udp_payload[1];
  if (next != mip::kIpProtoIpip && next != mip::kIpProtoIpv6) {
    return fail("unsupported_next_header", "next header " + std::to_string(next));
  }
  const ByteView payload = udp_payload.subspan(mip::kTunnelDataHeaderSize);
  // The Next Header names the packet; a version nibble that disagrees is bad_version.
  std::size_t length = 0;
  if (next == mip::kIpProtoIpv6) {
    auto inner = parse_ipv6(payload);
    if (!inner) return fail(as_inner_error(inner.error()));
    length = inner->total_length();
  } else {
    auto inner = parse_ipv4(payload);
    if (!inner) return fail(as_inner_error(inner.error()));
    length = inner->total_length;
  }
  if (length != payload.size()) {
    return fail("inner_length_mismatch", "inner total length " + std::to_string(length) + ", carried " +
                                             std::to_string(payload.size()));
  }
  return payload;
}

}  // namespace vmroam::wire
