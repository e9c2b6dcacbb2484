// RFC 3519 §3.3 tunnel data header; see udp_tunnel.hpp.
#include "common/wire/udp_tunnel.hpp"

#include <algorithm>
#include <string>

#include "common/wire/ipv4.hpp"
#include "common/wire/mobile_ip.hpp"

namespace vmroam::wire {
Result<std::size_t> udp_tunnel_encapsulate(ByteView inner, std::span<std::uint8_t> out) {
  auto ih = parse_ipv4(inner);
  if (!ih) return fail(as_inner_error(ih.error()));
  const ByteView packet = inner.first(ih->total_length);
  const std::size_t total = mip::kTunnelDataHeaderSize + packet.size();
  if (out.size() < total) {
    return fail("buffer_too_small", "need " + std::to_string(total) + " bytes");
  }
  out[0] = static_cast<std::uint8_t>(mip::MessageType::tunnel_data);
  out[1] = mip::kIpProtoIpip;  // Next Header: an IPv4 packet follows
  out[2] = 0;                  // Reserved, sent as 0
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
  if (udp_payload[1] != mip::kIpProtoIpip) {
    return fail("unsupported_next_header", "next header " + std::to_string(udp_payload[1]));
  }
  const ByteView payload = udp_payload.subspan(mip::kTunnelDataHeaderSize);
  auto inner = parse_ipv4(payload);
  if (!inner) return fail(as_inner_error(inner.error()));
  if (inner->total_length != payload.size()) {
    return fail("inner_length_mismatch", "inner total length " + std::to_string(inner->total_length) +
                                             ", carried " + std::to_string(payload.size()));
  }
  return payload;
}

}  // namespace vmroam::wire
