// The per-frame decode path of vmroam-pcap (see frame_decoder.hpp): which layer a frame
// reaches and what record it gives. The link layer is stripped in link_layer.*, messages are
// rendered in message_render.*; every protocol parse is common/wire's, every HMAC common/auth's.
#include "tools/pcap/frame_decoder.hpp"

#include <array>
#include <cinttypes>
#include <cstdio>
#include <optional>
#include <variant>

#include "common/auth/authenticator.hpp"
#include "common/core/address.hpp"
#include "common/core/hex.hpp"
#include "common/wire/agent_advertisement.hpp"
#include "common/wire/ethernet.hpp"
#include "common/wire/extension.hpp"
#include "common/wire/ipip.hpp"
#include "common/wire/ipv4.hpp"
#include "common/wire/message.hpp"
#include "common/wire/mobile_ip.hpp"
#include "common/wire/ndp.hpp"
#include "common/wire/reply_code.hpp"
#include "common/wire/udp_tunnel.hpp"
#include "tools/pcap/link_layer.hpp"
#include "tools/pcap/message_render.hpp"

namespace vmroam::pcap {
namespace {

// Collects the records of one frame; each starts with the frame number and time.
class Records {
 public:
  explicit Records(const FrameInfo& info) : info_(info) {}

  Json& add() {
    Json r;
    r["frame"] = info_.number;
    r["time"] = format_timestamp(info_.ts_sec, info_.ts_usec);
    out_.push_back(std::move(r));
    return out_.back();
  }
  Json& add_ip(Ipv4 src, Ipv4 dst) {
    Json& r = add();
    r["src"] = src.to_string();
    r["dst"] = dst.to_string();
    return r;
  }
  // {"frame","time","error","detail"} and, when known, where it came from.
  Json& error(const Error& e, std::string_view layer) {
    Json& r = add();
    r["error"] = std::string(e.code);
    r["layer"] = std::string(layer);
    r["detail"] = e.context;
    return r;
  }
  std::vector<Json> take() { return std::move(out_); }

 private:
  const FrameInfo& info_;
  std::vector<Json> out_;
};

// A UDP datagram whose header parsed; port 434 on either side is ours.
void decode_port_434(Records& out, const wire::Ipv4Header& ip, std::uint16_t sport, std::uint16_t dport,
                     ByteView payload, bool bad_checksum, const auth::Keyring& keys) {
  if (sport != mip::kRegistrationPort && dport != mip::kRegistrationPort) return;
  auto start = [&]() -> Json& {
    Json& r = out.add_ip(ip.src, ip.dst);
    r["sport"] = sport;
    r["dport"] = dport;
    if (bad_checksum) r["udp_checksum"] = "bad";
    return r;
  };
  auto msg = wire::parse_message(payload);
  if (!msg) {
    Json& r = out.error(msg.error(), "mobile_ip");
    r["src"] = ip.src.to_string();
    r["dst"] = ip.dst.to_string();
    return;
  }
  if (std::holds_alternative<wire::TunnelData>(*msg)) {
    auto inner = wire::udp_tunnel_decapsulate(payload);
    if (!inner) {
      Json& r = out.error(inner.error(), "udp_tunnel");
      r["src"] = ip.src.to_string();
      r["dst"] = ip.dst.to_string();
      return;
    }
    Json& r = start();
    r["kind"] = "tunnel";
    r["type"] = static_cast<int>(mip::MessageType::tunnel_data);
    r["encapsulation"] = "udp";
    r["next_header"] = payload[1];
    r["outer_src"] = ip.src.to_string();
    r["outer_dst"] = ip.dst.to_string();
    render_inner(r, *inner);
    return;
  }
  Json& r = start();
  render_message(r, payload, *msg, keys);
}

void decode_udp(Records& out, ByteView packet, const wire::Ipv4Header& ip, const auth::Keyring& keys) {
  auto udp = wire::parse_udp_datagram(packet);
  if (udp) {
    decode_port_434(out, ip, udp->src_port, udp->dst_port, udp->payload, false, keys);
    return;
  }
  // Read the ports by hand only to decide whether the datagram is ours.
  ByteReader r(wire::ipv4_payload(packet, ip));
  const std::uint16_t sport = r.u16();
  const std::uint16_t dport = r.u16();
  const std::uint16_t length = r.u16();
  const bool ours = r.ok() && (sport == mip::kRegistrationPort || dport == mip::kRegistrationPort);
  if (!ours || ip.fragment_offset != 0) return;  // later fragments carry no ports
  if (udp.error().code == "bad_checksum" && length >= wire::kUdpHeaderSize && length <= r.remaining() + 6) {
    // A capture taken on the sending host of an interface with checksum offload holds a
    // partial checksum (the NIC would have finished it). Like Wireshark, decode the message
    // anyway and say the checksum was wrong.
    r.skip(2);
    decode_port_434(out, ip, sport, dport, r.bytes(length - wire::kUdpHeaderSize), true, keys);
    return;
  }
  Json& e = out.error(udp.error(), "udp");
  e["src"] = ip.src.to_string();
  e["dst"] = ip.dst.to_string();
}

void decode_icmp(Records& out, ByteView packet, const wire::Ipv4Header& ip) {
  const ByteView icmp = wire::ipv4_payload(packet, ip);
  if (icmp.empty()) return;
  const std::uint8_t type = icmp[0];
  if (type == mip::advert::kIcmpRouterAdvertisement) {
    auto adv = wire::parse_agent_advertisement(icmp);
    if (!adv) {
      // A plain router advertisement is not ours.
      if (adv.error().code == "not_agent_advertisement") return;
      Json& e = out.error(adv.error(), "agent_advertisement");
      e["src"] = ip.src.to_string();
      e["dst"] = ip.dst.to_string();
      return;
    }
    Json& r = out.add_ip(ip.src, ip.dst);
    r["ttl"] = ip.ttl;
    render_advertisement(r, *adv);
    return;
  }
  if (type == mip::advert::kIcmpRouterSolicitation) {
    auto sol = wire::parse_agent_solicitation(icmp);
    if (!sol) {
      Json& e = out.error(sol.error(), "agent_solicitation");
      e["src"] = ip.src.to_string();
      e["dst"] = ip.dst.to_string();
      return;
    }
    Json& r = out.add_ip(ip.src, ip.dst);
    r["ttl"] = ip.ttl;
    r["kind"] = "agent_solicitation";
  }
}

void decode_ipv4(Records& out, ByteView packet, const auth::Keyring& keys) {
  auto ip = wire::parse_ipv4(packet);
  if (!ip) {
    // Only a packet that would have been ours is worth an error line: IP in IP, ICMP, or UDP
    // on port 434 (looked up in the raw bytes, the header being unusable).
    ByteReader r(packet);
    const std::uint8_t vihl = r.u8();
    r.skip(8);
    const std::uint8_t proto = r.u8();
    const std::size_t ihl = static_cast<std::size_t>(vihl & 0x0f) * 4;
    bool ours =
        r.ok() && (proto == mip::kIpProtoIpip || proto == mip::kIpProtoIpv6 || proto == mip::kIpProtoIcmp);
    if (r.ok() && proto == mip::kIpProtoUdp && packet.size() >= ihl + 4 && ihl >= 20) {
      ByteReader ports(packet.subspan(ihl));
      const std::uint16_t s = ports.u16();
      const std::uint16_t d = ports.u16();
      ours = s == mip::kRegistrationPort || d == mip::kRegistrationPort;
    }
    if (ours) out.error(ip.error(), "ipv4");
    return;
  }
  switch (ip->protocol) {
    case mip::kIpProtoIpip:
    case mip::kIpProtoIpv6: {  // a dual-stack VM's IPv6 in IPv4 (RFC 4213 §3.5, RFC 5454)
      const bool v6 = ip->protocol == mip::kIpProtoIpv6;
      auto d = v6 ? wire::ipv6_in_ipv4_decapsulate(packet) : wire::ipip_decapsulate(packet);
      if (!d) {
        Json& e = out.error(d.error(), v6 ? "ipv6_in_ipv4" : "ipip");
        e["src"] = ip->src.to_string();
        e["dst"] = ip->dst.to_string();
        return;
      }
      Json& r = out.add_ip(ip->src, ip->dst);
      r["kind"] = "tunnel";
      r["encapsulation"] = v6 ? "ipv6_in_ipv4" : "ipip";
      r["outer_src"] = d->outer_src.to_string();
      r["outer_dst"] = d->outer_dst.to_string();
      render_inner(r, d->inner);
      return;
    }
    case mip::kIpProtoUdp:
      decode_udp(out, packet, *ip, keys);
      return;
    case mip::kIpProtoIcmp:
      decode_icmp(out, packet, *ip);
      return;
    default:
      return;
  }
}

void decode_arp(Records& out, const LinkLayer& l) {
  auto arp = wire::parse_arp(l.payload);
  const bool rarp = l.ethertype == mip::kEtherTypeRarp;
  if (!arp) {
    out.error(arp.error(), rarp ? "rarp" : "arp");
    return;
  }
  Json& r = out.add();
  if (l.src_mac) r["src_mac"] = l.src_mac->to_string();
  if (l.dst_mac) r["dst_mac"] = l.dst_mac->to_string();
  if (l.vlan) r["vlan"] = *l.vlan;
  r["kind"] = rarp ? "rarp" : "arp";
  r["operation"] = arp->op;
  static constexpr std::array<const char*, 5> kOps = {"unknown", "request", "reply", "rarp_request",
                                                      "rarp_reply"};
  r["operation_name"] = arp->op < kOps.size() ? kOps[arp->op] : "unknown";
  r["sender_mac"] = arp->sender_mac.to_string();
  r["sender_ip"] = arp->sender_ip.to_string();
  r["target_mac"] = arp->target_mac.to_string();
  r["target_ip"] = arp->target_ip.to_string();
  // RFC 5944 §4.6: sender and target protocol address both the announced address.
  if (!rarp) r["gratuitous"] = !arp->sender_ip.is_zero() && arp->sender_ip == arp->target_ip;
}

// IPv6: only Neighbor Advertisements are ours to show (the home agent's for dual-stack VMs,
// RFC 4861 §4.4); other IPv6 traffic is passed over like other ethertypes.
void decode_ipv6(Records& out, const LinkLayer& l) {
  auto na = wire::parse_neighbor_advertisement_packet(l.payload);
  if (!na) {
    if (na.error().code != "not_neighbor_advertisement") out.error(na.error(), "ndp");
    return;
  }
  Json& r = out.add();
  if (l.src_mac) r["src_mac"] = l.src_mac->to_string();
  if (l.dst_mac) r["dst_mac"] = l.dst_mac->to_string();
  if (l.vlan) r["vlan"] = *l.vlan;
  r["kind"] = "neighbor_advertisement";
  r["src"] = na->src.to_string();
  r["dst"] = na->dst.to_string();
  Json flags = Json::array();
  if (na->router) flags.push_back("R");
  if (na->solicited) flags.push_back("S");
  if (na->override_) flags.push_back("O");
  r["flags"] = std::move(flags);
  r["target"] = na->target.to_string();
  r["target_mac"] = na->target_mac ? Json(na->target_mac->to_string()) : Json(nullptr);
}

}  // namespace

std::vector<Json> FrameDecoder::decode(const FrameInfo& info, ByteView frame) const {
  Records out(info);
  if (info.original_length > frame.size()) {
    // Cut short by the capture's snap length: parsing would only report truncation.
    out.error(make_error("truncated_capture", "captured " + std::to_string(frame.size()) + " of " +
                                                  std::to_string(info.original_length) + " bytes"),
              "capture");
    return out.take();
  }
  auto link = strip_link_layer(info.link_type, frame);
  if (!link) {
    out.error(link.error(), "link");
    return out.take();
  }
  if (!*link) return {};
  const LinkLayer& l = **link;
  switch (l.ethertype) {
    case mip::kEtherTypeIpv4:
      decode_ipv4(out, l.payload, keys_);
      break;
    case mip::kEtherTypeArp:
    case mip::kEtherTypeRarp:
      decode_arp(out, l);
      break;
    case mip::kEtherTypeIpv6:
      decode_ipv6(out, l);
      break;
    default:
      break;
  }
  return out.take();
}

Result<auth::SecurityAssociation> parse_key_spec(std::string_view spec) {
  const auto first = spec.find(':');
  const auto second = first == std::string_view::npos ? first : spec.find(':', first + 1);
  if (second == std::string_view::npos) {
    return fail("bad_key_spec", "want SPI:ALGORITHM:HEXKEY, got \"" + std::string(spec) + "\"");
  }
  const std::string_view spi_text = spec.substr(0, first);
  const std::string_view alg_text = spec.substr(first + 1, second - first - 1);
  const std::string_view key_text = spec.substr(second + 1);

  std::uint64_t spi = 0;
  std::string_view digits = spi_text;
  int base = 10;
  if (digits.starts_with("0x") || digits.starts_with("0X")) {
    digits.remove_prefix(2);
    base = 16;
  }
  if (digits.empty() || digits.size() > 10) {
    return fail("bad_key_spec", "SPI \"" + std::string(spi_text) + "\" is not a 32-bit number");
  }
  for (char c : digits) {
    int v = -1;
    if (c >= '0' && c <= '9') v = c - '0';
    if (base == 16 && c >= 'a' && c <= 'f') v = c - 'a' + 10;
    if (base == 16 && c >= 'A' && c <= 'F') v = c - 'A' + 10;
    if (v < 0) return fail("bad_key_spec", "SPI \"" + std::string(spi_text) + "\" is not a number");
    spi = spi * static_cast<std::uint64_t>(base) + static_cast<std::uint64_t>(v);
  }
  if (spi > 0xffffffffu) {
    return fail("bad_key_spec", "SPI \"" + std::string(spi_text) + "\" is not a 32-bit number");
  }
  VMROAM_TRY(auth::Algorithm alg, auth::parse_algorithm(alg_text));
  VMROAM_TRY(Bytes key, from_hex(key_text));
  auth::SecurityAssociation sa{static_cast<std::uint32_t>(spi), alg, std::move(key)};
  VMROAM_TRY_VOID(auth::validate(sa));
  return sa;
}

std::string_view reply_code_name(std::uint8_t code) {
  if (auto name = wire::reply_code_name(code); !name.empty()) return name;
  if (mip::code::is_fa_denial(code)) return "fa_denied";
  if (mip::code::is_ha_denial(code)) return "ha_denied";
  return "unknown";
}

std::string format_timestamp(std::int64_t sec, std::uint32_t usec) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%" PRId64 ".%06u", sec, usec % 1000000u);
  return buf;
}

}  // namespace vmroam::pcap
