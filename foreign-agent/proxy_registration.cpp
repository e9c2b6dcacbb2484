// Proxy registration: request building, reply judging, retransmission timing (see the header).
#include "foreign-agent/proxy_registration.hpp"

#include <algorithm>

#include "common/auth/authenticator.hpp"
#include "common/auth/replay.hpp"
#include "common/wire/dsmip.hpp"
#include "common/wire/extension.hpp"
#include "common/wire/reply_code.hpp"

namespace vmroam::fa {

std::optional<std::string_view> home_agent_problem(Ipv4 ha) {
  const std::uint32_t a = ha.value();
  if ((a >> 24) == 0) return "unspecified";  // 0/8: "this network", never a destination
  if (a == 0xFFFFFFFF) return "broadcast";
  if ((a >> 24) == 127) return "loopback";
  if ((a >> 28) == 0xE) return "multicast";
  if ((a >> 28) == 0xF) return "reserved";
  return std::nullopt;
}

Result<wire::RegistrationRequest> build_proxy_request(const ProxyRequestParams& p) {
  if (auto why = home_agent_problem(p.home_agent))
    return fail("invalid_home_agent", p.home_agent.to_string() + " is " + std::string(*why));
  if (!p.mn_ha && !p.fa_ha)
    return fail("no_authentication", "neither an MN-HA nor an FA-HA key for " + p.home_agent.to_string());
  wire::RegistrationRequest r;
  // RFC 3024 §4.1: T asks for the reverse tunnel; nothing with a home source leaves untunnelled.
  r.set_flag(mip::request_flag::T, true);
  r.lifetime = p.lifetime;
  r.home_address = p.home_address;
  r.home_agent = p.home_agent;
  r.care_of_address = p.care_of_address;
  r.identification = p.identification;
  // RFC 5563 §3.2: who the registration is for (the VM's MAC) and over what link.
  VMROAM_TRY(wire::Extension device, wire::PmipDeviceId::ethernet(p.mac).to_extension());
  r.append(std::move(device));
  r.append(wire::PmipAccessTechnology{mip::pmip::access_802_3}.to_extension());
  // RFC 5563 §3.1: the proxy authenticates per node with FA-HA when it has that key.
  if (p.fa_ha) r.append(wire::PmipPerNodeAuth{mip::pmip::auth_fa_ha}.to_extension());
  if (p.udp_tunnel) {
    wire::UdpTunnelRequest u;
    u.encapsulation = mip::kIpProtoIpip;
    // The operator chose UDP: ask for it whether or not the HA sees a NAT (RFC 3519 §3.1 F).
    u.flags = mip::udp_tunnel::request_flag_F;
    r.append(u.to_extension());
  }
  if (p.revocation_support) r.append(wire::RevocationSupport{}.to_extension());
  if (p.lifetime != mip::kLifetimeDeregister)
    for (const auto& a : p.home_addresses_v6) r.append(wire::Ipv6PrefixRequest{128, a}.to_extension());
  if (p.mn_ha) VMROAM_TRY_VOID(auth::append_auth(r, mip::ext::mn_ha_auth, *p.mn_ha));
  if (p.fa_ha) VMROAM_TRY_VOID(auth::append_auth(r, mip::ext::fa_ha_auth, *p.fa_ha));
  return r;
}

ReplyVerdict judge_reply(const wire::RegistrationReply& reply, ByteView raw, const PendingRequest& p,
                         WallTime now) {
  ReplyVerdict v;
  v.code = reply.code;
  if (reply.home_address != p.home_address || reply.home_agent != p.home_agent) {
    v.reason = "unmatched_address";
    return v;
  }
  // RFC 5944 §5.7: the reply copies the low 32 bits of our Identification.
  if (!auth::reply_matches_request(p.identification, reply.identification)) {
    v.reason = "unmatched_identification";
    return v;
  }
  // A reply we cannot authenticate is not acted upon (RFC 5944 §3.6.2.2 for the MN; the same
  // holds for the proxy): it could be a forged denial.
  if (p.fa_ha && !auth::verify(raw, reply.extensions, mip::ext::fa_ha_auth, *p.fa_ha)) {
    v.reason = "fa_ha_auth_failed";
    return v;
  }
  if (p.mn_ha && wire::find_extension(reply.extensions, mip::ext::mn_ha_auth) &&
      !auth::verify(raw, reply.extensions, mip::ext::mn_ha_auth, *p.mn_ha)) {
    v.reason = "mn_ha_auth_failed";
    return v;
  }
  if (!p.fa_ha && !p.mn_ha) {
    v.reason = "no_key";
    return v;
  }
  if (mip::code::is_accepted(reply.code)) {
    v.outcome = ReplyOutcome::accepted;
    v.reason = "accepted";
    v.lifetime = reply.lifetime;
    if (p.udp_tunnel) {
      if (const auto* e = wire::find_extension(reply.extensions, mip::ext::udp_tunnel_reply)) {
        auto u = wire::UdpTunnelReply::from(*e);
        v.udp_tunnel = u && u->code == mip::udp_tunnel::reply_code_accepted;
      }
    }
    // The parse checked every 152 extension's layout, so this cannot fail; an empty list if
    // it somehow did.
    for (const auto& g :
         wire::ipv6_prefix_replies(reply.extensions).value_or(std::vector<wire::Ipv6PrefixReply>{}))
      if (g.success() && g.prefix_length == 128 &&
          std::find(p.home_addresses_v6.begin(), p.home_addresses_v6.end(), g.prefix) !=
              p.home_addresses_v6.end() &&
          std::find(v.granted_v6.begin(), v.granted_v6.end(), g.prefix) == v.granted_v6.end())
        v.granted_v6.push_back(g.prefix);
    return v;
  }
  if (reply.code == mip::code::ha_identification_mismatch) {
    v.outcome = ReplyOutcome::resync;
    v.reason = reply_code_name(reply.code);
    v.clock_offset_s = auth::clock_offset_seconds(reply.identification, now);
    return v;
  }
  v.outcome = ReplyOutcome::denied;
  v.reason = reply_code_name(reply.code);
  return v;
}

std::string_view reply_code_name(std::uint8_t code) {
  if (auto name = wire::reply_code_name(code); !name.empty()) return name;
  if (mip::code::is_fa_denial(code)) return "fa_other";
  if (mip::code::is_ha_denial(code)) return "ha_other";
  return "unknown_code";
}

std::optional<std::chrono::milliseconds> RetransmitSchedule::after(std::uint32_t sent) const {
  if (sent == 0 || sent >= attempts) return std::nullopt;
  // initial · 2^(sent-1), capped; the shift is bounded so it cannot overflow.
  const auto shift = std::min<std::uint32_t>(sent - 1, 20);
  const auto d = initial * (std::int64_t{1} << shift);
  return std::min(d, max);
}

std::optional<std::chrono::milliseconds> renewal_delay(std::uint16_t granted) {
  if (granted == mip::kLifetimeInfinite || granted == 0) return std::nullopt;
  const auto ms = std::chrono::milliseconds(std::int64_t{granted} * 2000 / 3);
  return std::max(ms, std::chrono::milliseconds(1000));
}

Result<Bytes> build_visitor_request(const binding::Visitor& v, Ipv4 care_of, std::uint16_t lifetime,
                                    std::uint64_t identification, const std::vector<HomeAgentPeer>& has) {
  ProxyRequestParams p;
  p.home_address = v.home_address;
  p.home_agent = v.home_agent;
  p.care_of_address = care_of;
  p.mac = v.mac;
  p.lifetime = lifetime;
  p.identification = identification;
  p.udp_tunnel = v.encapsulation == binding::Encapsulation::udp;
  p.mn_ha = mn_ha_of(v);
  p.fa_ha = fa_ha_for(has, v.home_agent);
  p.home_addresses_v6 = v.home_addresses_v6;
  VMROAM_TRY(wire::RegistrationRequest req, build_proxy_request(p));
  return wire::encode(req);
}

std::optional<auth::SecurityAssociation> fa_ha_for(const std::vector<HomeAgentPeer>& has, Ipv4 ha) {
  for (const auto& h : has) {
    if (h.address != ha || !h.fa_ha) continue;
    auto alg = auth::parse_algorithm(h.fa_ha->algorithm);
    if (!alg) return std::nullopt;  // the config parser only admits known names
    return auth::SecurityAssociation{h.fa_ha->spi, *alg, h.fa_ha->key};
  }
  return std::nullopt;
}

std::optional<auth::SecurityAssociation> mn_ha_of(const binding::Visitor& v) {
  if (v.key.empty()) return std::nullopt;
  auto alg = auth::parse_algorithm(v.algorithm.empty() ? "hmac-sha256" : v.algorithm);
  if (!alg) return std::nullopt;
  return auth::SecurityAssociation{v.spi, *alg, v.key};
}

Result<Bytes> revocation_ack(const wire::Revocation& rev, ByteView raw, Ipv4 src,
                             const std::vector<HomeAgentPeer>& has) {
  // RFC 3543 §3: revocations are FA-HA authenticated; the HA is the one that sent it.
  const Ipv4 ha = rev.home_domain_address.is_zero() ? src : rev.home_domain_address;
  auto sa = fa_ha_for(has, ha);
  if (!sa) sa = fa_ha_for(has, src);
  if (!sa || !auth::verify(raw, rev.extensions, mip::ext::fa_ha_auth, *sa))
    return fail("revocation_auth_failed", "from " + src.to_string() + " for " + rev.home_address.to_string());
  wire::RevocationAck ack;
  ack.home_address = rev.home_address;
  ack.revocation_id = rev.revocation_id;
  VMROAM_TRY_VOID(auth::append_auth(ack, mip::ext::fa_ha_auth, *sa));
  return wire::encode(ack);
}

}  // namespace vmroam::fa
