// Mobile IP messages as JSON records (message_render.hpp).
#include "tools/pcap/message_render.hpp"

#include <array>
#include <cinttypes>
#include <cstdio>
#include <optional>
#include <string>
#include <variant>

#include "common/auth/authenticator.hpp"
#include "common/core/hex.hpp"
#include "common/wire/dsmip.hpp"
#include "common/wire/ipv4.hpp"
#include "common/wire/ipv6.hpp"
#include "common/wire/mobile_ip.hpp"
#include "common/wire/registration.hpp"
#include "common/wire/revocation.hpp"
#include "common/wire/udp_tunnel.hpp"
#include "tools/pcap/frame_decoder.hpp"

namespace vmroam::pcap {
namespace {

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

// ---- Extensions: each fills `j` from its typed view, or fails with the view's reason ----------

Result<void> render_auth(Json& j, const wire::Extension& e) {
  VMROAM_TRY(auto a, wire::AuthExtension::from(e));
  j["spi"] = a.spi;
  j["authenticator"] = to_hex(a.authenticator);
  return ok();
}

Result<void> render_udp_tunnel_request(Json& j, const wire::Extension& e) {
  VMROAM_TRY(auto u, wire::UdpTunnelRequest::from(e));
  j["sub_type"] = u.sub_type;
  j["flags"] = flag_names(u.flags, kUdpTunnelRequestFlags);
  j["encapsulation"] = u.encapsulation;
  return ok();
}

Result<void> render_udp_tunnel_reply(Json& j, const wire::Extension& e) {
  VMROAM_TRY(auto u, wire::UdpTunnelReply::from(e));
  j["sub_type"] = u.sub_type;
  j["code"] = u.code;
  j["flags"] = flag_names(u.flags, kUdpTunnelReplyFlags);
  j["keepalive"] = u.keepalive_seconds;
  return ok();
}

Result<void> render_revocation_support(Json& j, const wire::Extension& e) {
  VMROAM_TRY(auto r, wire::RevocationSupport::from(e));
  j["flags"] = flag_names(r.flags, kTopIFlag);
  j["timestamp"] = r.timestamp;
  return ok();
}

Result<void> render_pmip_per_node_auth(Json& j, const wire::Extension& e) {
  j["sub_type"] = e.long_sub_type();
  VMROAM_TRY(auto p, wire::PmipPerNodeAuth::from(e));
  j["per_node_auth_method"] = p.method;
  j["per_node_auth_method_name"] = std::string(per_node_auth_name(p.method));
  return ok();
}

// RFC 5563 §3.2: the skippable PMIPv4 extension's sub-types.
Result<void> render_pmip_skippable(Json& j, const wire::Extension& e) {
  VMROAM_TRY(std::uint8_t sub, wire::pmip_skippable_sub_type(e));
  j["sub_type"] = sub;
  j["sub_type_name"] = std::string(pmip_sub_type_name(sub));
  switch (sub) {
    case mip::pmip::interface_id: {
      VMROAM_TRY(auto v, wire::PmipInterfaceId::from(e));
      j["interface_id"] = to_hex(v.id);
      return ok();
    }
    case mip::pmip::device_id: {
      VMROAM_TRY(auto v, wire::PmipDeviceId::from(e));
      j["device_id_type"] = v.id_type;
      if (auto mac = v.mac()) {
        j["device_id"] = mac->to_string();
      } else {
        j["device_id"] = to_hex(v.id);
      }
      return ok();
    }
    case mip::pmip::subscriber_id: {
      VMROAM_TRY(auto v, wire::PmipSubscriberId::from(e));
      j["subscriber_id_type"] = v.id_type;
      j["subscriber_id"] = to_hex(v.id);
      return ok();
    }
    case mip::pmip::access_technology: {
      VMROAM_TRY(auto v, wire::PmipAccessTechnology::from(e));
      j["access_technology"] = v.technology;
      return ok();
    }
    default:
      j["data"] = to_hex(e.data().subspan(1));
      return ok();
  }
}

// RFC 5454 §2: the dual-stack extension's sub-types.
Result<void> render_dsmip(Json& j, const wire::Extension& e) {
  VMROAM_TRY(std::uint8_t sub, wire::dsmip_sub_type(e));
  j["sub_type"] = sub;
  j["sub_type_name"] = std::string(wire::dsmip_sub_type_name(sub));
  switch (sub) {
    case mip::dsmip::prefix_request: {
      VMROAM_TRY(auto q, wire::Ipv6PrefixRequest::from(e));
      j["prefix"] = q.prefix.to_string() + "/" + std::to_string(q.prefix_length);
      return ok();
    }
    case mip::dsmip::prefix_reply: {
      VMROAM_TRY(auto p, wire::Ipv6PrefixReply::from(e));
      j["code"] = p.code;
      j["prefix"] = p.prefix.to_string() + "/" + std::to_string(p.prefix_length);
      return ok();
    }
    default:
      j["data"] = to_hex(e.data().subspan(1));
      return ok();
  }
}

Result<void> render_nai(Json& j, const wire::Extension& e) {
  VMROAM_TRY(auto n, wire::MnNai::from(e));
  if (auto text = printable(n.nai)) {
    j["nai"] = *text;
  } else {
    j["nai_hex"] = to_hex(n.nai);
  }
  return ok();
}

Result<void> render_fields(Json& j, const wire::Extension& e) {
  switch (e.type) {
    case mip::ext::mn_ha_auth:
    case mip::ext::mn_fa_auth:
    case mip::ext::fa_ha_auth:
      return render_auth(j, e);
    case mip::ext::udp_tunnel_request:
      return render_udp_tunnel_request(j, e);
    case mip::ext::udp_tunnel_reply:
      return render_udp_tunnel_reply(j, e);
    case mip::ext::revocation_support:
      return render_revocation_support(j, e);
    case mip::ext::pmipv4_nonskip:
      return render_pmip_per_node_auth(j, e);
    case mip::ext::pmipv4_skip:
      return render_pmip_skippable(j, e);
    case mip::ext::mn_nai:
      return render_nai(j, e);
    case mip::ext::dsmipv4:
      return render_dsmip(j, e);
    case mip::ext::encapsulating_delivery:
      return ok();  // RFC 3024 §3.3: no data
    default:
      if (e.long_header()) j["sub_type"] = e.long_sub_type();
      j["data"] = to_hex(e.data());
      return ok();
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

}  // namespace

// Extensions reached here passed check_extensions(), so the typed views succeed for every
// known type; if one does not, the raw data is shown with the view's reason.
Json render_extension(const wire::Extension& e) {
  Json j;
  j["type"] = e.type;
  j["name"] = std::string(wire::extension_name(e.type));
  j["length"] = e.length();
  if (auto r = render_fields(j, e); !r) {
    j["data"] = to_hex(e.data());
    j["view_error"] = std::string(r.error().code);
  }
  return j;
}

void render_message(Json& r, ByteView payload, const wire::Message& message, const auth::Keyring& keys) {
  std::visit(MessageRenderer{r, payload, keys}, message);
}

void render_advertisement(Json& r, const wire::AgentAdvertisement& adv) {
  r["kind"] = "agent_advertisement";
  r["code"] = adv.code;
  r["router_lifetime"] = adv.router_lifetime;
  Json routers = Json::array();
  for (const auto& ra : adv.routers) {
    Json j;
    j["address"] = ra.address.to_string();
    j["preference"] = ra.preference;
    routers.push_back(std::move(j));
  }
  r["routers"] = std::move(routers);
  r["sequence"] = adv.sequence;
  r["registration_lifetime"] = adv.registration_lifetime;
  r["flags"] = flag_names(adv.flags, kAdvertFlags);
  Json coas = Json::array();
  for (const auto& c : adv.care_of_addresses) coas.push_back(c.to_string());
  r["care_of_addresses"] = std::move(coas);
  if (adv.prefix_lengths) r["prefix_lengths"] = *adv.prefix_lengths;
  if (adv.challenge) r["challenge"] = to_hex(*adv.challenge);
}

void render_inner(Json& r, ByteView inner) {
  // The decapsulators already validated the inner header. A dual-stack VM's IPv6 (RFC 5454)
  // shows its addresses, next header and length the same way.
  if (wire::ip_version(inner) == 6) {
    auto h6 = wire::parse_ipv6(inner);
    if (!h6) return;
    r["inner_src"] = h6->src.to_string();
    r["inner_dst"] = h6->dst.to_string();
    r["inner_protocol"] = h6->next_header;
    r["inner_length"] = h6->total_length();
    return;
  }
  auto h = wire::parse_ipv4(inner);
  if (!h) return;
  r["inner_src"] = h->src.to_string();
  r["inner_dst"] = h->dst.to_string();
  r["inner_protocol"] = h->protocol;
  r["inner_length"] = h->total_length;
}

}  // namespace vmroam::pcap
