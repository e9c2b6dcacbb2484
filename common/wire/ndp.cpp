// Neighbor Advertisements (see ndp.hpp).
#include "common/wire/ndp.hpp"

#include <algorithm>

#include "common/wire/ethernet.hpp"
#include "common/wire/ipv4.hpp"
#include "common/wire/mobile_ip.hpp"

namespace vmroam::wire {

namespace {

constexpr std::size_t kNaBodySize = 24;  // type, code, checksum, flags, target (RFC 4861 §4.4)
constexpr std::uint32_t kFlagRouter = 0x80000000u;
constexpr std::uint32_t kFlagSolicited = 0x40000000u;
constexpr std::uint32_t kFlagOverride = 0x20000000u;
const Ipv6 kAllNodes{{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};

// RFC 8200 §8.1: the ICMPv6 checksum over the pseudo-header and the message.
std::uint16_t icmpv6_checksum(const Ipv6& src, const Ipv6& dst, ByteView message) {
  Bytes buf;
  buf.reserve(40 + message.size());
  ByteWriter w(buf);
  w.bytes(src.bytes());
  w.bytes(dst.bytes());
  w.u32(static_cast<std::uint32_t>(message.size()));
  w.zeros(3);
  w.u8(mip::kIpProtoIcmpv6);
  w.bytes(message);
  return internet_checksum(buf);
}

Ipv6 read_ipv6(ByteReader& r) {
  Ipv6::Octets b{};
  const ByteView v = r.bytes(16);
  if (v.size() == 16) std::copy(v.begin(), v.end(), b.begin());
  return Ipv6(b);
}

// The link-layer address option of `wanted` type among the options, if any (RFC 4861 §4.6).
Result<std::optional<MacAddress>> link_address_option(ByteView options, std::uint8_t wanted) {
  std::optional<MacAddress> mac;
  ByteReader r(options);
  while (!r.at_end()) {
    const std::uint8_t type = r.u8();
    const std::size_t length = std::size_t{r.u8()} * 8;  // in units of 8 bytes, header included
    if (!r.ok() || length == 0 || length - 2 > r.remaining())
      return fail("bad_option", "option type " + std::to_string(type));
    const ByteView body = r.bytes(length - 2);
    if (type == wanted && body.size() >= 6 && !mac) {
      std::array<std::uint8_t, 6> b{};
      std::copy(body.begin(), body.begin() + 6, b.begin());
      mac = MacAddress(b);
    }
  }
  return mac;
}

}  // namespace

Bytes build_neighbor_advertisement(const NeighborAdvertisement& na, MacAddress eth_dst) {
  Bytes icmp;
  ByteWriter m(icmp);
  m.u8(kIcmpv6NeighborAdvert);
  m.u8(0);
  m.u16(0);  // checksum, patched below
  m.u32((na.router ? kFlagRouter : 0) | (na.solicited ? kFlagSolicited : 0) |
        (na.override_ ? kFlagOverride : 0));
  m.bytes(na.target.bytes());
  if (na.target_mac) {
    m.u8(kNdpOptionTargetLinkAddr);
    m.u8(1);  // 8 bytes
    m.bytes(na.target_mac->bytes());
  }
  m.patch_u16(2, icmpv6_checksum(na.src, na.dst, icmp));

  Bytes packet;
  ByteWriter w(packet);
  w.u32(0x60000000u);  // version 6, traffic class 0, flow label 0
  w.u16(static_cast<std::uint16_t>(icmp.size()));
  w.u8(mip::kIpProtoIcmpv6);
  w.u8(kNdpHopLimit);
  w.bytes(na.src.bytes());
  w.bytes(na.dst.bytes());
  w.bytes(icmp);
  return build_ethernet_frame(eth_dst, na.eth_src, mip::kEtherTypeIpv6, packet);
}

Bytes build_unsolicited_na(MacAddress mac, const Ipv6& target) {
  const MacAddress all_nodes_mac{{0x33, 0x33, 0x00, 0x00, 0x00, 0x01}};
  return build_neighbor_advertisement({mac, target, kAllNodes, false, false, true, target, mac},
                                      all_nodes_mac);
}

namespace {

// The ICMPv6 message of an NDP packet of `type` (its IPv6 header read into src/dst), checked
// as RFC 4861 §7.1 wants: hop limit 255, code 0, checksum. `not_this` is the error code for
// another message (a string literal, as every Error code must be).
Result<ByteView> ndp_message(ByteView packet, std::uint8_t type, std::size_t min_size, Ipv6& src, Ipv6& dst,
                             std::string_view not_this) {
  ByteReader r(packet);
  const std::uint32_t first = r.u32();
  const std::uint16_t payload_length = r.u16();
  const std::uint8_t next_header = r.u8();
  const std::uint8_t hop_limit = r.u8();
  src = read_ipv6(r);
  dst = read_ipv6(r);
  if (!r.ok()) return fail("truncated", "IPv6 header");
  if ((first >> 28) != 6) return fail("bad_version", std::to_string(first >> 28));
  // Extension headers before ICMPv6 are not expected in NDP (RFC 4861 §7.1.2 would have us
  // skip them; senders do not use them): anything but ICMPv6 is not this message.
  if (next_header != mip::kIpProtoIcmpv6) return fail(not_this, "next header");
  if (payload_length > r.remaining())
    return fail("truncated", "payload length " + std::to_string(payload_length));
  const ByteView message = packet.subspan(kIpv6HeaderSize, payload_length);
  if (message.size() < 2 || message[0] != type || message[1] != 0)
    return fail(not_this, "ICMPv6 type " + std::to_string(message.empty() ? 0 : message[0]));
  if (message.size() < min_size)
    return fail("truncated", "ICMPv6 message of " + std::to_string(message.size()));
  if (hop_limit != kNdpHopLimit) return fail("bad_hop_limit", std::to_string(hop_limit));
  if (icmpv6_checksum(src, dst, message) != 0) return fail("bad_checksum", "ICMPv6");
  return message;
}

}  // namespace

Result<NeighborSolicitation> parse_neighbor_solicitation(ByteView frame) {
  VMROAM_TRY(EthernetFrame eth, parse_ethernet(frame));
  if (eth.ethertype != mip::kEtherTypeIpv6)
    return fail("not_ipv6", "ethertype " + std::to_string(eth.ethertype));
  NeighborSolicitation ns;
  ns.eth_src = eth.src;
  VMROAM_TRY(ByteView message, ndp_message(eth.payload, kIcmpv6NeighborSolicit, kNaBodySize, ns.src, ns.dst,
                                           "not_neighbor_solicitation"));
  ByteReader m(message.subspan(8));  // type, code, checksum, reserved
  ns.target = read_ipv6(m);
  if (ns.target.is_multicast()) return fail("not_neighbor_solicitation", "multicast target");
  VMROAM_TRY(ns.source_mac, link_address_option(m.rest(), kNdpOptionSourceLinkAddr));
  if (ns.src.is_zero() && ns.source_mac)
    return fail("bad_source", "unspecified source with a link-layer option");
  return ns;
}

Result<NeighborAdvertisement> parse_neighbor_advertisement(ByteView frame) {
  VMROAM_TRY(EthernetFrame eth, parse_ethernet(frame));
  if (eth.ethertype != mip::kEtherTypeIpv6)
    return fail("not_ipv6", "ethertype " + std::to_string(eth.ethertype));
  VMROAM_TRY(NeighborAdvertisement na, parse_neighbor_advertisement_packet(eth.payload));
  na.eth_src = eth.src;
  return na;
}

Result<NeighborAdvertisement> parse_neighbor_advertisement_packet(ByteView packet) {
  NeighborAdvertisement na;
  VMROAM_TRY(ByteView message, ndp_message(packet, kIcmpv6NeighborAdvert, kNaBodySize, na.src, na.dst,
                                           "not_neighbor_advertisement"));
  ByteReader m(message.subspan(4));
  const std::uint32_t flags = m.u32();
  na.router = (flags & kFlagRouter) != 0;
  na.solicited = (flags & kFlagSolicited) != 0;
  na.override_ = (flags & kFlagOverride) != 0;
  na.target = read_ipv6(m);
  if (na.target.is_multicast()) return fail("not_neighbor_advertisement", "multicast target");
  VMROAM_TRY(na.target_mac, link_address_option(m.rest(), kNdpOptionTargetLinkAddr));
  return na;
}

}  // namespace vmroam::wire
