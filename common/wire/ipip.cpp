// IP in IP encapsulation and decapsulation (RFC 2003); see ipip.hpp.
#include "common/wire/ipip.hpp"

#include <algorithm>
#include <string>

#include "common/wire/ipv6.hpp"
#include "common/wire/mobile_ip.hpp"

namespace vmroam::wire {
Result<std::size_t> ipip_encapsulate(ByteView inner, const IpipParams& params, std::span<std::uint8_t> out) {
  auto ih = parse_ipv4(inner);
  if (!ih) return fail(as_inner_error(ih.error()));
  const ByteView packet = inner.first(ih->total_length);
  // RFC 2003 §3.1: outer TOS copied from the inner; §5.1: DF copied from the inner, so a
  // sender doing path MTU discovery still learns the tunnel's MTU.
  const Ipv4Params outer{params.src, params.dst, mip::kIpProtoIpip, params.ttl, ih->tos, params.id, ih->df};
  if (packet.size() > kIpv4MaxPacketSize - kIpipOverhead) {
    return fail("too_big", "inner of " + std::to_string(packet.size()) + " bytes");
  }
  if (out.size() < kIpipOverhead + packet.size()) {
    return fail("buffer_too_small", "need " + std::to_string(kIpipOverhead + packet.size()) + " bytes");
  }
  VMROAM_TRY(std::size_t header, write_ipv4_header(outer, packet.size(), out));
  std::copy(packet.begin(), packet.end(), out.begin() + static_cast<std::ptrdiff_t>(header));
  return header + packet.size();
}

Result<Decapsulated> ipip_decapsulate(ByteView packet) {
  VMROAM_TRY(Ipv4Header outer, parse_ipv4(packet));
  if (outer.protocol != mip::kIpProtoIpip) {
    return fail("wrong_protocol", "IP protocol " + std::to_string(outer.protocol) + ", want 4 (IP in IP)");
  }
  if (outer.is_fragment()) {
    return fail("fragment", "outer IPv4 fragment (offset " + std::to_string(outer.fragment_offset) + ")");
  }
  const ByteView payload = ipv4_payload(packet, outer);
  auto inner = parse_ipv4(payload);
  if (!inner) return fail(as_inner_error(inner.error()));
  if (inner->total_length != payload.size()) {
    return fail("inner_length_mismatch", "inner total length " + std::to_string(inner->total_length) +
                                             ", outer carries " + std::to_string(payload.size()));
  }
  // RFC 2003 §3.1 forbids tunnelling a datagram whose source is the encapsulator's own
  // address (a routing loop). At the exit we see the mirror image: an inner packet claiming
  // to come from us. Either a loop or a spoof; never deliver it.
  if (inner->src == outer.dst) {
    return fail("inner_source_is_tunnel_endpoint", "inner source " + inner->src.to_string());
  }
  return Decapsulated{outer.src, outer.dst, payload};
}

Result<std::size_t> ipv6_in_ipv4_encapsulate(ByteView inner, const IpipParams& params,
                                             std::span<std::uint8_t> out) {
  auto ih = parse_ipv6(inner);
  if (!ih) return fail(as_inner_error(ih.error()));
  const ByteView packet = inner.first(ih->total_length());
  // RFC 4213 §3.5: TOS from the Traffic Class (as RFC 2003 copies it); DF clear (§3.2.1).
  const Ipv4Params outer{params.src, params.dst, mip::kIpProtoIpv6, params.ttl, ih->traffic_class,
                         params.id,  false};
  if (packet.size() > kIpv4MaxPacketSize - kIpipOverhead)
    return fail("too_big", "inner of " + std::to_string(packet.size()) + " bytes");
  if (out.size() < kIpipOverhead + packet.size())
    return fail("buffer_too_small", "need " + std::to_string(kIpipOverhead + packet.size()) + " bytes");
  VMROAM_TRY(std::size_t header, write_ipv4_header(outer, packet.size(), out));
  std::copy(packet.begin(), packet.end(), out.begin() + static_cast<std::ptrdiff_t>(header));
  return header + packet.size();
}

Result<Decapsulated> ipv6_in_ipv4_decapsulate(ByteView packet) {
  VMROAM_TRY(Ipv4Header outer, parse_ipv4(packet));
  if (outer.protocol != mip::kIpProtoIpv6)
    return fail("wrong_protocol",
                "IP protocol " + std::to_string(outer.protocol) + ", want 41 (IPv6 in IPv4)");
  if (outer.is_fragment())
    return fail("fragment", "outer IPv4 fragment (offset " + std::to_string(outer.fragment_offset) + ")");
  const ByteView payload = ipv4_payload(packet, outer);
  auto inner = parse_ipv6(payload);
  if (!inner) return fail(as_inner_error(inner.error()));
  if (inner->total_length() != payload.size())
    return fail("inner_length_mismatch", "inner IPv6 packet of " + std::to_string(inner->total_length()) +
                                             " bytes, outer carries " + std::to_string(payload.size()));
  return Decapsulated{outer.src, outer.dst, payload};
}

}  // namespace vmroam::wire
