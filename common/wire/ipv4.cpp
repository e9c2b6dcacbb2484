// IPv4/UDP/ICMP parsing and building; see ipv4.hpp for the checks and their RFCs.
#include "common/wire/ipv4.hpp"

#include <cstdlib>
#include <string>

#include "common/wire/mobile_ip.hpp"

namespace vmroam::wire {
namespace {

// RFC 791 §3.1 flags field (top 3 bits of the 16-bit word at offset 6).
constexpr std::uint16_t kFlagDf = 0x4000;
constexpr std::uint16_t kFlagMf = 0x2000;
constexpr std::uint16_t kFragmentOffsetMask = 0x1fff;

std::uint32_t fold(std::uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint32_t>(sum);
}

}  // namespace

std::uint16_t internet_checksum(ByteView data, std::uint32_t initial) {
  std::uint64_t sum = initial;
  std::size_t i = 0;
  for (; i + 1 < data.size(); i += 2) {
    sum += static_cast<std::uint32_t>((data[i] << 8) | data[i + 1]);
  }
  if (i < data.size()) sum += static_cast<std::uint32_t>(data[i] << 8);
  return static_cast<std::uint16_t>(~fold(sum) & 0xffff);
}

std::uint32_t pseudo_header_sum(Ipv4 src, Ipv4 dst, std::uint8_t protocol, std::uint16_t length) {
  std::uint64_t sum = 0;
  sum += src.value() >> 16;
  sum += src.value() & 0xffff;
  sum += dst.value() >> 16;
  sum += dst.value() & 0xffff;
  sum += protocol;
  sum += length;
  return fold(sum);
}

Result<Ipv4Header> parse_ipv4(ByteView packet) {
  if (packet.size() < kIpv4MinHeaderSize) {
    return fail("truncated", "IPv4 header needs 20 bytes, have " + std::to_string(packet.size()));
  }
  ByteReader r(packet);
  const std::uint8_t version_ihl = r.u8();
  if ((version_ihl >> 4) != 4) {
    return fail("bad_version", "IP version " + std::to_string(version_ihl >> 4));
  }
  Ipv4Header h;
  h.header_length = static_cast<std::size_t>(version_ihl & 0x0f) * 4;
  if (h.header_length < kIpv4MinHeaderSize) {
    return fail("bad_ihl", "IHL " + std::to_string(version_ihl & 0x0f) + " < 5");
  }
  if (h.header_length > packet.size()) {
    return fail("truncated", "IPv4 header of " + std::to_string(h.header_length) + " bytes, have " +
                                 std::to_string(packet.size()));
  }
  h.tos = r.u8();
  h.total_length = r.u16();
  h.id = r.u16();
  const std::uint16_t flags_frag = r.u16();
  h.df = (flags_frag & kFlagDf) != 0;
  h.mf = (flags_frag & kFlagMf) != 0;
  h.fragment_offset = flags_frag & kFragmentOffsetMask;
  h.ttl = r.u8();
  h.protocol = r.u8();
  (void)r.u16();  // checksum, verified over the whole header below
  h.src = Ipv4(r.u32());
  h.dst = Ipv4(r.u32());
  if (h.total_length < h.header_length) {
    return fail("bad_total_length", "total length " + std::to_string(h.total_length) + " < header length " +
                                        std::to_string(h.header_length));
  }
  if (h.total_length > packet.size()) {
    return fail("total_length_mismatch", "total length " + std::to_string(h.total_length) + " > " +
                                             std::to_string(packet.size()) + " bytes");
  }
  if (internet_checksum(packet.first(h.header_length)) != 0) {
    return fail("bad_checksum", "IPv4 header checksum");
  }
  return h;
}

Error as_inner_error(const Error& e) {
  std::string_view code = "inner_invalid";
  if (e.code == "truncated") code = "inner_too_short";
  if (e.code == "bad_version") code = "inner_bad_version";
  if (e.code == "bad_ihl") code = "inner_bad_ihl";
  if (e.code == "bad_total_length") code = "inner_bad_total_length";
  if (e.code == "total_length_mismatch") code = "inner_length_mismatch";
  if (e.code == "bad_checksum") code = "inner_bad_checksum";
  return make_error(code, "inner: " + e.context);
}

ByteView ipv4_payload(ByteView packet, const Ipv4Header& header) {
  return packet.subspan(header.header_length, header.total_length - header.header_length);
}

Result<std::size_t> write_ipv4_header(const Ipv4Params& params, std::size_t payload_length,
                                      std::span<std::uint8_t> out) {
  if (payload_length > kIpv4MaxPacketSize - kIpv4MinHeaderSize) {
    return fail("too_big", "IPv4 payload of " + std::to_string(payload_length) + " bytes");
  }
  if (out.size() < kIpv4MinHeaderSize) {
    return fail("buffer_too_small", "IPv4 header needs 20 bytes");
  }
  ByteWriter w(out.first(kIpv4MinHeaderSize));
  w.u8(0x45);  // version 4, IHL 5
  w.u8(params.tos);
  w.u16(static_cast<std::uint16_t>(kIpv4MinHeaderSize + payload_length));
  w.u16(params.id);
  w.u16(params.df ? kFlagDf : 0);
  w.u8(params.ttl);
  w.u8(params.protocol);
  w.u16(0);
  w.u32(params.src.value());
  w.u32(params.dst.value());
  w.patch_u16(10, internet_checksum(w.written()));
  if (!w.ok()) std::abort();  // sizes were checked above
  return kIpv4MinHeaderSize;
}

Bytes build_ipv4_packet(const Ipv4Params& params, ByteView payload) {
  Bytes out(kIpv4MinHeaderSize + payload.size());
  auto n = write_ipv4_header(params, payload.size(), out);
  if (!n) std::abort();  // see the header: callers pass small control messages
  std::copy(payload.begin(), payload.end(), out.begin() + kIpv4MinHeaderSize);
  return out;
}

// ---- UDP ------------------------------------------------------------------------------------

Result<UdpDatagram> parse_udp_datagram(ByteView packet) {
  VMROAM_TRY(Ipv4Header ip, parse_ipv4(packet));
  if (ip.protocol != mip::kIpProtoUdp) {
    return fail("wrong_protocol", "IP protocol " + std::to_string(ip.protocol) + ", want 17 (UDP)");
  }
  if (ip.is_fragment()) {
    return fail("fragment", "UDP in an IPv4 fragment (offset " + std::to_string(ip.fragment_offset) + ")");
  }
  const ByteView l4 = ipv4_payload(packet, ip);
  if (l4.size() < kUdpHeaderSize) {
    return fail("truncated", "UDP header needs 8 bytes, have " + std::to_string(l4.size()));
  }
  ByteReader r(l4);
  UdpDatagram d;
  d.ip = ip;
  d.src_port = r.u16();
  d.dst_port = r.u16();
  const std::uint16_t length = r.u16();
  const std::uint16_t checksum = r.u16();
  if (length < kUdpHeaderSize || length > l4.size()) {
    return fail("bad_udp_length",
                "UDP length " + std::to_string(length) + " in " + std::to_string(l4.size()) + " bytes");
  }
  const ByteView udp = l4.first(length);
  if (checksum != 0 &&
      internet_checksum(udp, pseudo_header_sum(ip.src, ip.dst, mip::kIpProtoUdp, length)) != 0) {
    return fail("bad_checksum", "UDP checksum");
  }
  d.payload = udp.subspan(kUdpHeaderSize);
  return d;
}

Result<std::size_t> write_udp_datagram(const UdpParams& params, ByteView payload,
                                       std::span<std::uint8_t> out) {
  const std::size_t udp_length = kUdpHeaderSize + payload.size();
  const std::size_t total = kIpv4MinHeaderSize + udp_length;
  if (total > kIpv4MaxPacketSize) {
    return fail("too_big", "UDP payload of " + std::to_string(payload.size()) + " bytes");
  }
  if (out.size() < total) {
    return fail("buffer_too_small", "UDP datagram needs " + std::to_string(total) + " bytes");
  }
  Ipv4Params ip{params.src, params.dst, mip::kIpProtoUdp, params.ttl, params.tos, params.id, false};
  VMROAM_TRY(std::size_t header, write_ipv4_header(ip, udp_length, out));
  ByteWriter w(out.subspan(header, udp_length));
  w.u16(params.src_port);
  w.u16(params.dst_port);
  w.u16(static_cast<std::uint16_t>(udp_length));
  w.u16(0);
  w.bytes(payload);
  std::uint16_t sum = internet_checksum(
      w.written(),
      pseudo_header_sum(params.src, params.dst, mip::kIpProtoUdp, static_cast<std::uint16_t>(udp_length)));
  if (sum == 0) sum = 0xffff;  // RFC 768: 0 would mean "no checksum"
  w.patch_u16(6, sum);
  if (!w.ok()) std::abort();  // sizes were checked above
  return total;
}

Bytes build_udp_datagram(Ipv4 src, std::uint16_t sport, Ipv4 dst, std::uint16_t dport, ByteView payload,
                         std::uint8_t ttl) {
  Bytes out(kIpv4MinHeaderSize + kUdpHeaderSize + payload.size());
  UdpParams p{src, sport, dst, dport, ttl, 0, 0};
  auto n = write_udp_datagram(p, payload, out);
  if (!n) std::abort();  // only too_big can fail here: a caller bug
  return out;
}

// ---- ICMP -----------------------------------------------------------------------------------

Result<IcmpMessage> parse_icmp(ByteView icmp) {
  if (icmp.size() < kIcmpHeaderSize) {
    return fail("truncated", "ICMP header needs 4 bytes, have " + std::to_string(icmp.size()));
  }
  if (internet_checksum(icmp) != 0) return fail("bad_checksum", "ICMP checksum");
  return IcmpMessage{icmp[0], icmp[1], icmp.subspan(kIcmpHeaderSize)};
}

Bytes build_icmp(std::uint8_t type, std::uint8_t code, ByteView body) {
  Bytes out;
  out.reserve(kIcmpHeaderSize + body.size());
  ByteWriter w(out);
  w.u8(type);
  w.u8(code);
  w.u16(0);
  w.bytes(body);
  w.patch_u16(2, internet_checksum(out));
  return out;
}

}  // namespace vmroam::wire
