#include "home-agent/registrar.hpp"

#include <algorithm>

#include "common/auth/authenticator.hpp"
#include "common/core/hex.hpp"

namespace vmroam::ha {
namespace {

namespace code = mip::code;
using wire::Extension;

// The reply shell every outcome shares (RFC 5944 §3.4): our address as Home Agent, the
// request's home address; the Identification is filled per outcome.
wire::RegistrationReply reply_for(const wire::RegistrationRequest& req, Ipv4 ha) {
  wire::RegistrationReply r;
  r.home_address = req.home_address;
  r.home_agent = ha;
  r.identification = req.identification;
  return r;
}

}  // namespace

Verdict Registrar::decide(const wire::RegistrationRequest& req, ByteView raw, const RequestContext& ctx,
                          const VmDirectory& vms, const binding::Binding* current,
                          const auth::ReplayState& replay) const {
  const RegistrarSettings& s = settings_;
  Verdict v;
  v.replay = replay;
  v.reply = reply_for(req, s.ha_address);
  const Vm* vm = nullptr;
  const ForeignAgent* fa = nullptr;
  bool mn_ha_present = false;

  // Finishes the reply: identification, extensions, authenticators. Authenticators are added
  // whenever we hold the key the peer will check them with, denials included, so an FA can
  // tell a genuine denial from a forged one (RFC 5944 §3.5.4).
  auto finish = [&](VerdictKind kind, std::uint8_t c, std::string_view reason, std::string detail,
                    std::uint16_t lifetime) -> Verdict {
    v.kind = kind;
    v.code = c;
    v.reason = reason;
    v.detail = std::move(detail);
    v.vm = vm;
    v.reply.code = c;
    // RFC 5944 §3.4: the lifetime of a denial is unspecified; send 0.
    v.reply.lifetime = code::is_accepted(c) ? lifetime : 0;
    if (c == code::ha_identification_mismatch && s.replay_style == auth::ReplayStyle::timestamp) {
      v.reply.identification = auth::timestamp_mismatch_identification(req.identification, ctx.wall_now);
    } else if (s.replay_style == auth::ReplayStyle::nonce) {
      v.reply.identification = auth::nonce_reply_identification(req.identification, ctx.fresh_nonce);
    }
    if (vm && vm->mn_ha && mn_ha_present) {
      if (auto r = auth::append_auth(v.reply, mip::ext::mn_ha_auth, *vm->mn_ha); !r) std::abort();
    }
    if (fa && fa->fa_ha) {
      if (auto r = auth::append_auth(v.reply, mip::ext::fa_ha_auth, *fa->fa_ha); !r) std::abort();
    }
    v.reply_bytes = wire::encode(v.reply);
    return std::move(v);
  };
  auto deny = [&](std::uint8_t c, std::string_view reason, std::string detail) {
    return finish(VerdictKind::deny, c, reason, std::move(detail), 0);
  };

  // 1. Addressed to us (RFC 5944 §3.8.2.2).
  if (req.home_agent != s.ha_address)
    return deny(code::ha_unknown_ha_address, "unknown_ha_address",
                "home agent field " + req.home_agent.to_string());

  // 2. A VM we serve, in our home prefix.
  vm = vms.by_home_address(req.home_address);
  if (!vm || !s.home_prefix.contains(req.home_address))
    return deny(code::ha_prohibited, "unknown_vm", "home address " + req.home_address.to_string());

  // 3. From a foreign agent we know and the VM allows. The care-of address names the FA
  //    (FA care-of mode); behind a NAT the source differs, so try the source too.
  const bool deregistration = req.lifetime == mip::kLifetimeDeregister || req.care_of_address == s.ha_address;
  fa = foreign_agent(req.care_of_address);
  if (!fa) fa = foreign_agent(ctx.source);
  if (!fa && !deregistration)
    return deny(code::ha_prohibited, "unknown_fa",
                "care-of " + req.care_of_address.to_string() + " from " + ctx.source.to_string());
  if (fa && !deregistration && !vm->allows(fa->address))
    return deny(code::ha_prohibited, "fa_not_allowed",
                "VM " + vm->id + " may not use " + fa->address.to_string());

  // 4. PMIPv4 per-node authentication method (RFC 5563 §3.1): FA-HA is the one we support.
  bool proxy = false;
  if (const Extension* e = wire::find_extension(req.extensions, mip::ext::pmipv4_nonskip)) {
    auto method = wire::PmipPerNodeAuth::from(*e);
    if (!method) return deny(code::ha_poorly_formed_request, "poorly_formed", method.error().to_string());
    if (method->method != mip::pmip::auth_fa_ha)
      return deny(code::ha_pmip_unsupported, "pmip_method_unsupported",
                  "per-node method " + std::to_string(method->method));
    proxy = true;
  }

  // 5. MN-HA (RFC 5944 §3.5.2): required in every plain registration; a proxy registration
  //    whose per-node method is FA-HA may omit it (RFC 5563 §4).
  bool authenticated = false;
  if (wire::find_extension(req.extensions, mip::ext::mn_ha_auth)) {
    mn_ha_present = true;
    if (!vm->mn_ha) return deny(code::ha_mn_auth_failed, "mn_auth_no_key", "no MN-HA key for VM " + vm->id);
    if (auto r = auth::verify(raw, req.extensions, mip::ext::mn_ha_auth, *vm->mn_ha); !r)
      return deny(code::ha_mn_auth_failed, "mn_auth_failed", r.error().to_string());
    authenticated = true;
  } else if (!proxy && (s.mn_ha_required || vm->mn_ha)) {
    return deny(code::ha_mn_auth_failed, "mn_auth_missing", "no MN-HA extension");
  }

  // 6. FA-HA (RFC 5944 §3.5.4).
  if (wire::find_extension(req.extensions, mip::ext::fa_ha_auth)) {
    if (!fa || !fa->fa_ha)
      return deny(code::ha_fa_auth_failed, "fa_auth_no_key", "no FA-HA key for the sender");
    if (auto r = auth::verify(raw, req.extensions, mip::ext::fa_ha_auth, *fa->fa_ha); !r)
      return deny(code::ha_fa_auth_failed, "fa_auth_failed", r.error().to_string());
    authenticated = true;
  } else if (fa && (proxy || s.fa_ha_required)) {
    return deny(code::ha_fa_auth_failed, "fa_auth_missing", "no FA-HA extension");
  }
  // Nothing is ever accepted on the strength of nothing.
  if (!authenticated) return deny(code::ha_mn_auth_failed, "unauthenticated", "no verified authenticator");

  // 7. The device the proxy speaks for is this VM (RFC 5563 §3.2.2: device ID = MAC).
  if (const Extension* e = wire::find_pmip_skippable(req.extensions, mip::pmip::device_id)) {
    auto dev = wire::PmipDeviceId::from(*e);
    if (!dev) return deny(code::ha_poorly_formed_request, "poorly_formed", dev.error().to_string());
    auto mac = dev->mac();
    if (!mac || *mac != vm->mac)
      return deny(code::ha_prohibited, "device_id_mismatch", "device ID is not VM " + vm->id + "'s MAC");
  }

  // 8. Replay protection (RFC 5944 §5.7). In nonce style the new HA nonce stands whatever
  //    the outcome, so the node can retry.
  if (auto r = auth::check_identification(req.identification, ctx.wall_now, replay, s.replay_window); !r) {
    if (s.replay_style == auth::ReplayStyle::nonce) v.replay.ha_nonce = ctx.fresh_nonce;
    return deny(code::ha_identification_mismatch, "identification_mismatch", r.error().to_string());
  }

  // 9. Encapsulation: IP-in-IP always; UDP (RFC 3519) on request; minimal and GRE never.
  if (req.minimal_encapsulation() || req.gre())
    return deny(code::ha_encapsulation_unavailable, "encapsulation_unavailable", "M or G requested");
  binding::Encapsulation encapsulation = binding::Encapsulation::ipip;
  v.tunnel_peer = req.care_of_address;
  if (const Extension* e = wire::find_extension(req.extensions, mip::ext::udp_tunnel_request)) {
    auto utr = wire::UdpTunnelRequest::from(*e);
    if (!utr) return deny(code::ha_poorly_formed_request, "poorly_formed", utr.error().to_string());
    // RFC 3519 §3.2.1: a NAT is detected when the source is not the care-of address.
    const bool nat = ctx.source != req.care_of_address;
    if (!s.udp_tunnelling) {
      if (utr->force())
        return deny(code::ha_udp_encapsulation_unavailable, "udp_tunnelling_unavailable", "disabled");
      // Not forced: the extension is skippable and we carry on with IP-in-IP.
    } else if (utr->encapsulation != mip::kIpProtoIpip) {
      return deny(code::ha_udp_encapsulation_unavailable, "udp_tunnelling_unavailable",
                  "inner encapsulation " + std::to_string(utr->encapsulation));
    } else if (nat || utr->force()) {
      encapsulation = binding::Encapsulation::udp;
      v.tunnel_peer = ctx.source;
      v.tunnel_port = ctx.source_port;
      wire::UdpTunnelReply reply_ext;
      reply_ext.flags = utr->force() ? mip::udp_tunnel::reply_flag_F : 0;
      v.reply.append(reply_ext.to_extension());
    } else {
      wire::UdpTunnelReply reply_ext;
      reply_ext.code = mip::udp_tunnel::reply_code_declined;  // no NAT: plain IP-in-IP
      v.reply.append(reply_ext.to_extension());
    }
  }

  // Accepted.
  auth::accept_identification(v.replay, req.identification, ctx.fresh_nonce);
  if (deregistration) {
    // Only the binding the request names goes (RFC 5944 §3.8.2): a late deregistration from
    // a foreign agent the VM has already left must not tear down the newer binding.
    const bool names_current =
        current && (current->care_of_address == req.care_of_address || req.care_of_address == s.ha_address);
    return finish(names_current ? VerdictKind::unbind : VerdictKind::unchanged, code::accepted,
                  names_current ? "deregistered" : "deregistered_stale", {}, 0);
  }
  if (s.revocation) {
    if (const Extension* e = wire::find_extension(req.extensions, mip::ext::revocation_support)) {
      if (wire::RevocationSupport::from(*e)) {
        wire::RevocationSupport rs;
        rs.timestamp = auth::high32(auth::ntp_from_wall(ctx.wall_now));
        v.reply.append(rs.to_extension());
      }
    }
  }
  const std::uint16_t granted = std::min<std::uint16_t>(req.lifetime, s.max_lifetime_s);
  v.registration = binding::Registration{
      req.home_address, req.care_of_address, fa ? fa->address : ctx.source, granted, req.flags,
      encapsulation,    req.identification};
  // S set: we keep one binding per home address (RFC 5944 §3.4 code 1).
  const std::uint8_t c = req.simultaneous_bindings() ? code::accepted_no_simultaneous : code::accepted;
  return finish(VerdictKind::bind, c, "accepted", {}, granted);
}

std::optional<Bytes> Registrar::poorly_formed_reply(ByteView raw) const {
  // Enough of the fixed part to address a reply to: type, flags, lifetime, HoA, HA, CoA, ID.
  ByteReader r(raw);
  if (r.u8() != static_cast<std::uint8_t>(mip::MessageType::registration_request)) return std::nullopt;
  r.skip(3);
  const Ipv4 hoa(r.u32());
  r.skip(8);
  const std::uint64_t id = r.u64();
  if (!r.ok()) return std::nullopt;
  wire::RegistrationReply reply;
  reply.code = code::ha_poorly_formed_request;
  reply.home_address = hoa;
  reply.home_agent = settings_.ha_address;
  reply.identification = id;
  return wire::encode(reply);
}

}  // namespace vmroam::ha
