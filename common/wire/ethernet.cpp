// Ethernet II, ARP and RARP; see ethernet.hpp.
#include "common/wire/ethernet.hpp"

#include <algorithm>
#include <cstdlib>
#include <string>

#include "common/wire/mobile_ip.hpp"

namespace vmroam::wire {
namespace {

constexpr std::uint16_t kMinEthertype = 0x0600;  // IEEE 802.3: smaller values are lengths
constexpr std::uint8_t kMacSize = 6;
constexpr std::uint8_t kIpv4Size = 4;

MacAddress read_mac(ByteReader& r) {
  std::array<std::uint8_t, 6> b{};
  ByteView v = r.bytes(b.size());
  if (v.size() == b.size()) std::copy(v.begin(), v.end(), b.begin());
  return MacAddress(b);
}

void write_mac(ByteWriter& w, MacAddress mac) { w.bytes(mac.bytes()); }

}  // namespace

Result<EthernetFrame> parse_ethernet(ByteView frame) {
  if (frame.size() < kEthernetHeaderSize) {
    return fail("truncated", "Ethernet header needs 14 bytes, have " + std::to_string(frame.size()));
  }
  ByteReader r(frame);
  EthernetFrame f;
  f.dst = read_mac(r);
  f.src = read_mac(r);
  f.ethertype = r.u16();
  if (f.ethertype < kMinEthertype) {
    return fail("not_ethernet_ii", "802.3 length field " + std::to_string(f.ethertype));
  }
  f.payload = r.rest();
  return f;
}

Result<std::size_t> write_ethernet_frame(MacAddress dst, MacAddress src, std::uint16_t ethertype,
                                         ByteView payload, std::span<std::uint8_t> out) {
  const std::size_t total = std::max(kEthernetHeaderSize + payload.size(), kEthernetMinFrameSize);
  if (out.size() < total) {
    return fail("buffer_too_small", "Ethernet frame needs " + std::to_string(total) + " bytes");
  }
  ByteWriter w(out.first(total));
  write_mac(w, dst);
  write_mac(w, src);
  w.u16(ethertype);
  w.bytes(payload);
  w.zeros(total - w.size());
  if (!w.ok()) std::abort();  // size checked above
  return total;
}

Bytes build_ethernet_frame(MacAddress dst, MacAddress src, std::uint16_t ethertype, ByteView payload) {
  Bytes out(std::max(kEthernetHeaderSize + payload.size(), kEthernetMinFrameSize));
  if (!write_ethernet_frame(dst, src, ethertype, payload, out)) std::abort();  // sized above
  return out;
}

Result<ArpPacket> parse_arp(ByteView arp_payload) {
  if (arp_payload.size() < kArpBodySize) {
    return fail("truncated", "ARP body needs 28 bytes, have " + std::to_string(arp_payload.size()));
  }
  ByteReader r(arp_payload);
  const std::uint16_t htype = r.u16();
  const std::uint16_t ptype = r.u16();
  const std::uint8_t hlen = r.u8();
  const std::uint8_t plen = r.u8();
  ArpPacket a;
  a.op = r.u16();
  a.sender_mac = read_mac(r);
  a.sender_ip = Ipv4(r.u32());
  a.target_mac = read_mac(r);
  a.target_ip = Ipv4(r.u32());
  if (htype != kArpHardwareEthernet) {
    return fail("bad_hardware_type", "hardware type " + std::to_string(htype));
  }
  if (ptype != mip::kEtherTypeIpv4) {
    return fail("bad_protocol_type", "protocol type " + std::to_string(ptype));
  }
  if (hlen != kMacSize || plen != kIpv4Size) {
    return fail("bad_address_length", "hlen " + std::to_string(hlen) + ", plen " + std::to_string(plen));
  }
  if (a.op < mip::kArpOpRequest || a.op > mip::kRarpOpReply) {
    return fail("unsupported_arp_op", "op " + std::to_string(a.op));
  }
  return a;
}

Bytes build_arp(const ArpPacket& arp) {
  Bytes out;
  out.reserve(kArpBodySize);
  ByteWriter w(out);
  w.u16(kArpHardwareEthernet);
  w.u16(mip::kEtherTypeIpv4);
  w.u8(kMacSize);
  w.u8(kIpv4Size);
  w.u16(arp.op);
  write_mac(w, arp.sender_mac);
  w.u32(arp.sender_ip.value());
  write_mac(w, arp.target_mac);
  w.u32(arp.target_ip.value());
  return out;
}

Bytes build_arp_frame(MacAddress eth_dst, MacAddress eth_src, std::uint16_t ethertype, const ArpPacket& arp) {
  return build_ethernet_frame(eth_dst, eth_src, ethertype, build_arp(arp));
}

Bytes build_gratuitous_arp(MacAddress mac, Ipv4 ip) {
  const ArpPacket arp{mip::kArpOpRequest, mac, ip, MacAddress{}, ip};
  return build_arp_frame(kBroadcastMac, mac, mip::kEtherTypeArp, arp);
}

Bytes build_rarp_announce(MacAddress mac) {
  const ArpPacket rarp{mip::kRarpOpRequest, mac, Ipv4{}, mac, Ipv4{}};
  return build_arp_frame(kBroadcastMac, mac, mip::kEtherTypeRarp, rarp);
}

}  // namespace vmroam::wire
