// The per-frame decode path of vmroam-pcap (see frame_decoder.hpp). Link layer here; every
// protocol parse is common/wire's, every HMAC common/auth's.
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
#include "common/wire/udp_tunnel.hpp"

namespace vmroam::pcap {
namespace {

// Linux cooked capture headers (tcpdump.org/linktypes/LINKTYPE_LINUX_SLL*.html).
constexpr std::size_t kSllHeaderSize = 16;        // pkttype 2, ARPHRD 2, addr len 2, addr 8, protocol 2
constexpr std::size_t kSll2HeaderSize = 20;       // protocol 2, reserved 2, ifindex 4, ARPHRD 2,
                                                  // pkttype 1, addr len 1, addr 8
constexpr std::uint16_t kEtherTypeVlan = 0x8100;  // IEEE 802.1Q
constexpr std::size_t kVlanTagSize = 4;

// The network-layer part of a frame.
struct LinkLayer {
  std::uint16_t ethertype = 0;
  ByteView payload;
  std::optional<MacAddress> src_mac;
  std::optional<MacAddress> dst_mac;
  std::optional<std::uint16_t> vlan;
};

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

MacAddress mac_at(ByteView b) {
  std::array<std::uint8_t, 6> m{};
  for (std::size_t i = 0; i < m.size(); ++i) m[i] = b[i];
  return MacAddress(m);
}

// Strips the link-layer header; nullopt (and no record) for frames that carry nothing we
// decode, an error for frames too short for their own header.
Result<std::optional<LinkLayer>> strip_link_layer(int type, ByteView frame) {
  LinkLayer l;
  switch (type) {
    case link_type::kEthernet: {
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
    case link_type::kLinuxSll: {
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
    case link_type::kLinuxSll2: {
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
    case link_type::kRaw:
    case link_type::kRawOpenBsd:
    case link_type::kLinktypeRaw:
    case link_type::kIpv4:
      // Raw IP: the version nibble says which; IPv6 is not ours.
      if (frame.empty()) return fail("truncated", "empty raw IP frame");
      if ((frame[0] >> 4) != 4) return std::optional<LinkLayer>{};
      l.ethertype = mip::kEtherTypeIpv4;
      l.payload = frame;
      return std::optional<LinkLayer>(l);
    default:
      return fail("unsupported_link_type", "link type " + std::to_string(type));
  }
}

template <std::size_t N>
Json flag_names(std::uint32_t flags, const std::array<std::pair<std::uint32_t, const char*>, N>& table) {
  Json names = Json::array();
  for (const auto& [mask, name] : table) {
    if (flags & mask) names.push_back(name);
  }
  return names;
}

// RFC 5944 §3.3, most significant bit first.
constexpr std::array<std::pair<std::uint32_t, const char*>, 8> kRequestFlags{{
    {mip::request_flag::S, "S"},
    {mip::request_flag::B, "B"},
    {mip::request_flag::D, "D"},
    {mip::request_flag::M, "M"},
    {mip::request_flag::G, "G"},
    {mip::request_flag::r, "r"},
    {mip::request_flag::T, "T"},
    {mip::request_flag::x, "x"},
}};
// RFC 5944 §2.1.1 (I: RFC 4857).
constexpr std::array<std::pair<std::uint32_t, const char*>, 11> kAdvertFlags{{
    {mip::advert::flag_R, "R"},
    {mip::advert::flag_B, "B"},
    {mip::advert::flag_H, "H"},
    {mip::advert::flag_F, "F"},
    {mip::advert::flag_M, "M"},
    {mip::advert::flag_G, "G"},
    {mip::advert::flag_r, "r"},
    {mip::advert::flag_T, "T"},
    {mip::advert::flag_U, "U"},
    {mip::advert::flag_X, "X"},
    {mip::advert::flag_I, "I"},
}};
// RFC 3543 §3.1.
constexpr std::array<std::pair<std::uint32_t, const char*>, 2> kRevocationFlags{{
    {mip::revocation::flag_A, "A"},
    {mip::revocation::flag_I, "I"},
}};
// RFC 3543 §3.2 and §3.3: the I bit is the top bit of the ack's and the extension's flags.
constexpr std::array<std::pair<std::uint32_t, const char*>, 1> kTopIFlag{{{0x8000, "I"}}};
// RFC 3519 §3.1 and §3.2.
constexpr std::array<std::pair<std::uint32_t, const char*>, 2> kUdpTunnelRequestFlags{{
    {mip::udp_tunnel::request_flag_F, "F"},
    {mip::udp_tunnel::request_flag_R, "R"},
}};
constexpr std::array<std::pair<std::uint32_t, const char*>, 1> kUdpTunnelReplyFlags{{
    {mip::udp_tunnel::reply_flag_F, "F"},
}};

std::string hex_u64(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
  return buf;
}

std::string_view auth_ext_short_name(std::uint8_t type) {
  switch (type) {
    case mip::ext::mn_ha_auth:
      return "mn-ha";
    case mip::ext::mn_fa_auth:
      return "mn-fa";
    case mip::ext::fa_ha_auth:
      return "fa-ha";
    default:
      return "unknown";
  }
}

std::string_view pmip_sub_type_name(std::uint8_t s) {
  switch (s) {
    case mip::pmip::interface_id:
      return "interface_id";
    case mip::pmip::device_id:
      return "device_id";
    case mip::pmip::subscriber_id:
      return "subscriber_id";
    case mip::pmip::access_technology:
      return "access_technology";
    default:
      return "unknown";
  }
}

std::string_view per_node_auth_name(std::uint8_t m) {
  switch (m) {
    case mip::pmip::auth_fa_ha:
      return "fa-ha";
    case mip::pmip::auth_ipsec:
      return "ipsec";
    default:
      return "unknown";
  }
}

// Text if every byte is printable ASCII (NAIs are), else nullopt.
std::optional<std::string> printable(ByteView b) {
  std::string s;
  for (auto c : b) {
    if (c < 0x20 || c > 0x7e) return std::nullopt;
    s += static_cast<char>(c);
  }
  return s;
}

// The fields of one extension. Extensions reached here passed check_extensions(), so the
// typed views succeed for every known type; if one does not, the raw data is shown with
// the view's reason rather than trusted.
Json render_extension(const wire::Extension& e) {
  Json j;
  j["type"] = e.type;
  j["name"] = std::string(wire::extension_name(e.type));
  j["length"] = e.length();
  auto failed = [&](const Error& err) {
    j["data"] = to_hex(e.data());
    j["view_error"] = std::string(err.code);
    return j;
  };
  switch (e.type) {
    case mip::ext::mn_ha_auth:
    case mip::ext::mn_fa_auth:
    case mip::ext::fa_ha_auth: {
      auto a = wire::AuthExtension::from(e);
      if (!a) return failed(a.error());
      j["spi"] = a->spi;
      j["authenticator"] = to_hex(a->authenticator);
      return j;
    }
    case mip::ext::udp_tunnel_request: {
      auto u = wire::UdpTunnelRequest::from(e);
      if (!u) return failed(u.error());
      j["sub_type"] = u->sub_type;
      j["flags"] = flag_names(u->flags, kUdpTunnelRequestFlags);
      j["encapsulation"] = u->encapsulation;
      return j;
    }
    case mip::ext::udp_tunnel_reply: {
      auto u = wire::UdpTunnelReply::from(e);
      if (!u) return failed(u.error());
      j["sub_type"] = u->sub_type;
      j["code"] = u->code;
      j["flags"] = flag_names(u->flags, kUdpTunnelReplyFlags);
      j["keepalive"] = u->keepalive_seconds;
      return j;
    }
    case mip::ext::revocation_support: {
      auto r = wire::RevocationSupport::from(e);
      if (!r) return failed(r.error());
      j["flags"] = flag_names(r->flags, kTopIFlag);
      j["timestamp"] = r->timestamp;
      return j;
    }
    case mip::ext::pmipv4_nonskip: {
      j["sub_type"] = e.long_sub_type();
      auto p = wire::PmipPerNodeAuth::from(e);
      if (!p) return failed(p.error());
      j["per_node_auth_method"] = p->method;
      j["per_node_auth_method_name"] = std::string(per_node_auth_name(p->method));
      return j;
    }
    case mip::ext::pmipv4_skip: {
      auto sub = wire::pmip_skippable_sub_type(e);
      if (!sub) return failed(sub.error());
      j["sub_type"] = *sub;
      j["sub_type_name"] = std::string(pmip_sub_type_name(*sub));
      switch (*sub) {
        case mip::pmip::interface_id: {
          auto v = wire::PmipInterfaceId::from(e);
          if (!v) return failed(v.error());
          j["interface_id"] = to_hex(v->id);
          return j;
        }
        case mip::pmip::device_id: {
          auto v = wire::PmipDeviceId::from(e);
          if (!v) return failed(v.error());
          j["device_id_type"] = v->id_type;
          if (auto mac = v->mac()) {
            j["device_id"] = mac->to_string();
          } else {
            j["device_id"] = to_hex(v->id);
          }
          return j;
        }
        case mip::pmip::subscriber_id: {
          auto v = wire::PmipSubscriberId::from(e);
          if (!v) return failed(v.error());
          j["subscriber_id_type"] = v->id_type;
          j["subscriber_id"] = to_hex(v->id);
          return j;
        }
        case mip::pmip::access_technology: {
          auto v = wire::PmipAccessTechnology::from(e);
          if (!v) return failed(v.error());
          j["access_technology"] = v->technology;
          return j;
        }
        default:
          j["data"] = to_hex(e.data().subspan(1));
          return j;
      }
    }
    case mip::ext::mn_nai: {
      auto n = wire::MnNai::from(e);
      if (!n) return failed(n.error());
      if (auto text = printable(n->nai)) {
        j["nai"] = *text;
      } else {
        j["nai_hex"] = to_hex(n->nai);
      }
      return j;
    }
    case mip::ext::encapsulating_delivery:
      return j;  // RFC 3024 §3.3: no data
    default:
      if (e.long_header()) j["sub_type"] = e.long_sub_type();
      j["data"] = to_hex(e.data());
      return j;
  }
}

// "extensions" and, with keys, "auth" for one parsed message whose received bytes are
// `payload`.
void render_extensions(Json& r, ByteView payload, const wire::ExtensionList& list,
                       const auth::Keyring& keys) {
  Json exts = Json::array();
  for (const auto& e : list) exts.push_back(render_extension(e));
  r["extensions"] = std::move(exts);
  if (keys.size() == 0) return;
  Json results = Json::array();
  for (const auto& e : list) {
    if (e.type != mip::ext::mn_ha_auth && e.type != mip::ext::mn_fa_auth && e.type != mip::ext::fa_ha_auth) {
      continue;
    }
    auto a = wire::AuthExtension::from(e);
    if (!a) continue;  // shown as view_error above
    Json v;
    v["ext"] = std::string(auth_ext_short_name(e.type));
    v["spi"] = a->spi;
    const auth::SecurityAssociation* sa = keys.find(a->spi);
    if (sa == nullptr) {
      v["verified"] = nullptr;
      v["reason"] = "unknown_spi";
    } else {
      auto ok = auth::verify(payload, list, e.type, *sa);
      v["algorithm"] = std::string(auth::algorithm_name(sa->algorithm));
      v["verified"] = ok.has_value();
      if (!ok) v["reason"] = std::string(ok.error().code);
    }
    results.push_back(std::move(v));
  }
  if (!results.empty()) r["auth"] = std::move(results);
}

struct MessageRenderer {
  Json& r;
  ByteView payload;
  const auth::Keyring& keys;

  void operator()(const wire::RegistrationRequest& m) const {
    r["kind"] = "registration_request";
    r["type"] = static_cast<int>(mip::MessageType::registration_request);
    r["flags"] = flag_names(m.flags, kRequestFlags);
    r["lifetime"] = m.lifetime;
    r["home_address"] = m.home_address.to_string();
    r["home_agent"] = m.home_agent.to_string();
    r["care_of_address"] = m.care_of_address.to_string();
    r["identification"] = hex_u64(m.identification);
    render_extensions(r, payload, m.extensions, keys);
  }
  void operator()(const wire::RegistrationReply& m) const {
    r["kind"] = "registration_reply";
    r["type"] = static_cast<int>(mip::MessageType::registration_reply);
    r["code"] = m.code;
    r["code_name"] = std::string(reply_code_name(m.code));
    r["lifetime"] = m.lifetime;
    r["home_address"] = m.home_address.to_string();
    r["home_agent"] = m.home_agent.to_string();
    r["identification"] = hex_u64(m.identification);
    render_extensions(r, payload, m.extensions, keys);
  }
  void operator()(const wire::Revocation& m) const {
    r["kind"] = "revocation";
    r["type"] = static_cast<int>(mip::MessageType::revocation);
    r["flags"] = flag_names(m.flags, kRevocationFlags);
    r["home_address"] = m.home_address.to_string();
    r["home_domain_address"] = m.home_domain_address.to_string();
    r["foreign_domain_address"] = m.foreign_domain_address.to_string();
    r["revocation_id"] = m.revocation_id;
    render_extensions(r, payload, m.extensions, keys);
  }
  void operator()(const wire::RevocationAck& m) const {
    r["kind"] = "revocation_ack";
    r["type"] = static_cast<int>(mip::MessageType::revocation_ack);
    r["flags"] = flag_names(m.flags, kTopIFlag);
    r["home_address"] = m.home_address.to_string();
    r["revocation_id"] = m.revocation_id;
    render_extensions(r, payload, m.extensions, keys);
  }
  void operator()(const wire::TunnelData&) const {}  // handled before dispatch
};

void render_inner(Json& r, ByteView inner) {
  // The decapsulators already validated the inner header.
  auto h = wire::parse_ipv4(inner);
  if (!h) return;
  r["inner_src"] = h->src.to_string();
  r["inner_dst"] = h->dst.to_string();
  r["inner_protocol"] = h->protocol;
  r["inner_length"] = h->total_length;
}

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
  std::visit(MessageRenderer{r, payload, keys}, *msg);
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
    r["kind"] = "agent_advertisement";
    r["code"] = adv->code;
    r["router_lifetime"] = adv->router_lifetime;
    Json routers = Json::array();
    for (const auto& ra : adv->routers) {
      Json j;
      j["address"] = ra.address.to_string();
      j["preference"] = ra.preference;
      routers.push_back(std::move(j));
    }
    r["routers"] = std::move(routers);
    r["sequence"] = adv->sequence;
    r["registration_lifetime"] = adv->registration_lifetime;
    r["flags"] = flag_names(adv->flags, kAdvertFlags);
    Json coas = Json::array();
    for (const auto& c : adv->care_of_addresses) coas.push_back(c.to_string());
    r["care_of_addresses"] = std::move(coas);
    if (adv->prefix_lengths) r["prefix_lengths"] = *adv->prefix_lengths;
    if (adv->challenge) r["challenge"] = to_hex(*adv->challenge);
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
    bool ours = r.ok() && (proto == mip::kIpProtoIpip || proto == mip::kIpProtoIcmp);
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
    case mip::kIpProtoIpip: {
      auto d = wire::ipip_decapsulate(packet);
      if (!d) {
        Json& e = out.error(d.error(), "ipip");
        e["src"] = ip->src.to_string();
        e["dst"] = ip->dst.to_string();
        return;
      }
      Json& r = out.add_ip(ip->src, ip->dst);
      r["kind"] = "tunnel";
      r["encapsulation"] = "ipip";
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
  switch (code) {
    case 0:
      return "accepted";
    case 1:
      return "accepted_no_simultaneous";
    case 64:
      return "fa_unspecified";
    case 65:
      return "fa_prohibited";
    case 66:
      return "fa_insufficient_resources";
    case 67:
      return "fa_mn_auth_failed";
    case 68:
      return "fa_ha_auth_failed";
    case 69:
      return "fa_lifetime_too_long";
    case 70:
      return "fa_poorly_formed_request";
    case 71:
      return "fa_poorly_formed_reply";
    case 72:
      return "fa_encapsulation_unavailable";
    case 73:
      return "fa_vj_compression_unavailable";
    case 74:
      return "fa_reverse_tunnel_unavailable";
    case 75:
      return "fa_reverse_tunnel_mandatory";
    case 76:
      return "fa_mn_too_distant";
    case 77:
      return "fa_invalid_care_of";
    case 78:
      return "fa_registration_timeout";
    case 79:
      return "fa_delivery_style_unsupported";
    case 80:
      return "fa_home_network_unreachable";
    case 81:
      return "fa_ha_host_unreachable";
    case 82:
      return "fa_ha_port_unreachable";
    case 88:
      return "fa_ha_unreachable";
    case 89:
      return "fa_vendor_specific";
    case 90:
      return "fa_nonzero_ha_required";
    case 96:
      return "fa_nonzero_home_address_required";
    case 97:
      return "fa_missing_nai";
    case 98:
      return "fa_missing_home_agent";
    case 99:
      return "fa_missing_home_address";
    case 100:
      return "fa_unknown_cvse_from_mn";
    case 101:
      return "fa_unknown_cvse_from_ha";
    case 128:
      return "ha_unspecified";
    case 129:
      return "ha_prohibited";
    case 130:
      return "ha_insufficient_resources";
    case 131:
      return "ha_mn_auth_failed";
    case 132:
      return "ha_fa_auth_failed";
    case 133:
      return "ha_identification_mismatch";
    case 134:
      return "ha_poorly_formed_request";
    case 135:
      return "ha_too_many_bindings";
    case 136:
      return "ha_unknown_ha_address";
    case 137:
      return "ha_reverse_tunnel_unavailable";
    case 138:
      return "ha_reverse_tunnel_mandatory";
    case 139:
      return "ha_encapsulation_unavailable";
    case 140:
      return "ha_unknown_cvse_from_mn";
    case 141:
      return "ha_unknown_cvse_from_fa";
    case 142:
      return "ha_udp_encapsulation_unavailable";
    case 143:
      return "ha_redirected";
    case 144:
      return "ha_mn_aaa_auth_failed";
    case 149:
      return "ha_pmip_unsupported";
    case 150:
      return "ha_pmip_disallowed";
    default:
      if (mip::code::is_fa_denial(code)) return "fa_denied";
      if (mip::code::is_ha_denial(code)) return "ha_denied";
      return "unknown";
  }
}

std::string format_timestamp(std::int64_t sec, std::uint32_t usec) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%" PRId64 ".%06u", sec, usec % 1000000u);
  return buf;
}

}  // namespace vmroam::pcap
