// The link layer of a captured frame (link_layer.hpp).
#include "tools/pcap/link_layer.hpp"

#include <array>
#include <string>

#include "common/wire/ethernet.hpp"
#include "common/wire/mobile_ip.hpp"
#include "tools/pcap/frame_decoder.hpp"

namespace vmroam::pcap {
namespace {

// Linux cooked capture headers (tcpdump.org/linktypes/LINKTYPE_LINUX_SLL*.html).
constexpr std::size_t kSllHeaderSize = 16;        // pkttype 2, ARPHRD 2, addr len 2, addr 8, protocol 2
constexpr std::size_t kSll2HeaderSize = 20;       // protocol 2, reserved 2, ifindex 4, ARPHRD 2,
                                                  // pkttype 1, addr len 1, addr 8
constexpr std::uint16_t kEtherTypeVlan = 0x8100;  // IEEE 802.1Q
constexpr std::size_t kVlanTagSize = 4;

MacAddress mac_at(ByteView b) {
  std::array<std::uint8_t, 6> m{};
  for (std::size_t i = 0; i < m.size(); ++i) m[i] = b[i];
  return MacAddress(m);
}

Result<std::optional<LinkLayer>> strip_ethernet(ByteView frame) {
  LinkLayer l;
  auto eth = wire::parse_ethernet(frame);
  if (!eth) {
    if (eth.error().code == "not_ethernet_ii") return std::optional<LinkLayer>{};  // 802.3/LLC
    return fail(eth.error());
  }
  l.ethertype = eth->ethertype;
  l.payload = eth->payload;
  l.src_mac = eth->src;
  l.dst_mac = eth->dst;
  // One 802.1Q tag is common on the links agents sit on; wire's parser leaves it to us.
  if (l.ethertype == kEtherTypeVlan) {
    ByteReader r(l.payload);
    const std::uint16_t tci = r.u16();
    const std::uint16_t inner = r.u16();
    if (!r.ok()) return fail("truncated", "802.1Q tag cut short");
    l.vlan = static_cast<std::uint16_t>(tci & 0x0fff);
    l.ethertype = inner;
    l.payload = l.payload.subspan(kVlanTagSize);
  }
  return std::optional<LinkLayer>(l);
}

Result<std::optional<LinkLayer>> strip_linux_sll(ByteView frame) {
  LinkLayer l;
  if (frame.size() < kSllHeaderSize) return fail("truncated", "Linux cooked header cut short");
  ByteReader r(frame);
  r.skip(4);  // packet type, ARPHRD type
  const std::uint16_t addr_len = r.u16();
  const ByteView addr = r.bytes(8);
  l.ethertype = r.u16();
  if (addr_len == 6) l.src_mac = mac_at(addr);
  l.payload = frame.subspan(kSllHeaderSize);
  return std::optional<LinkLayer>(l);
}

Result<std::optional<LinkLayer>> strip_linux_sll2(ByteView frame) {
  LinkLayer l;
  if (frame.size() < kSll2HeaderSize) return fail("truncated", "Linux cooked v2 header cut short");
  ByteReader r(frame);
  l.ethertype = r.u16();
  r.skip(2 + 4 + 2 + 1);  // reserved, ifindex, ARPHRD type, packet type
  const std::uint8_t addr_len = r.u8();
  const ByteView addr = r.bytes(8);
  if (addr_len == 6) l.src_mac = mac_at(addr);
  l.payload = frame.subspan(kSll2HeaderSize);
  return std::optional<LinkLayer>(l);
}

}  // namespace

Result<std::optional<LinkLayer>> strip_link_layer(int type, ByteView frame) {
  switch (type) {
    case link_type::kEthernet:
      return strip_ethernet(frame);
    case link_type::kLinuxSll:
      return strip_linux_sll(frame);
    case link_type::kLinuxSll2:
      return strip_linux_sll2(frame);
    case link_type::kRaw:
    case link_type::kRawOpenBsd:
    case link_type::kLinktypeRaw:
    case link_type::kIpv4: {
      // Raw IP: the version nibble says which; IPv6 is not ours.
      if (frame.empty()) return fail("truncated", "empty raw IP frame");
      if ((frame[0] >> 4) != 4) return std::optional<LinkLayer>{};
      LinkLayer l;
      l.ethertype = mip::kEtherTypeIpv4;
      l.payload = frame;
      return std::optional<LinkLayer>(l);
    }
    default:
      return fail("unsupported_link_type", "link type " + std::to_string(type));
  }
}

}  // namespace vmroam::pcap
