#include "home-agent/registrar.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>

#include "common/auth/authenticator.hpp"
#include "common/core/hex.hpp"
#include "common/wire/dsmip.hpp"

namespace vmroam::ha {
namespace {

namespace code = mip::code;
using wire::Extension;

// One request under review: what the checks learn on the way, and the reply they shape.
struct Review {
  const wire::RegistrationRequest& req;
  ByteView raw;
  const RequestContext& ctx;
  const RegistrarSettings& settings;
  const Registrar& registrar;
  const VmDirectory& vms;
  const Vm* vm = nullptr;
  const ForeignAgent* fa = nullptr;
  bool deregistration = false;  // lifetime 0, or care-of = our own address (the VM is home)
  bool proxy = false;           // PMIPv4 per-node authentication FA-HA (RFC 5563 §3.1)
  bool mn_ha_present = false;
  bool authenticated = false;
  binding::Encapsulation encapsulation = binding::Encapsulation::ipip;
  std::vector<Ipv6> granted_v6;  // IPv6 home addresses to grant (RFC 5454 §2.1), request order
  auth::ReplayState replay;
  wire::RegistrationReply reply;
};

// What a check says when it does not let the request through.
struct Denial {
  std::uint8_t code;
  std::string_view reason;
  std::string detail;
};
// nullopt: carry on with the next check.
using Outcome = std::optional<Denial>;
using Check = Outcome (*)(Review&);

// RFC 5944 §3.8.3.2 (the reply's Home Agent field): a request whose Home Agent field is not our
// own unicast address is denied, "e.g., Code 136", the reply naming the address to use instead;
// §3.8.2.1's last rule asks the same of a request sent to the home subnet's broadcast address.
Outcome check_home_agent(Review& r) {
  if (r.req.home_agent == r.settings.ha_address) return std::nullopt;
  return Denial{code::ha_unknown_ha_address, "unknown_ha_address",
                "home agent field " + r.req.home_agent.to_string()};
}

// RFC 5944 §3.8.2.3 (administratively prohibited, 129): a VM we serve, in our home prefix.
Outcome check_vm(Review& r) {
  r.vm = r.vms.by_home_address(r.req.home_address);
  if (r.vm && r.settings.home_prefix.contains(r.req.home_address)) return std::nullopt;
  return Denial{code::ha_prohibited, "unknown_vm", "home address " + r.req.home_address.to_string()};
}

// RFC 5944 §3.8.2.3 (129): from a foreign agent we know and the VM allows. The care-of address
// names the FA (FA care-of mode); behind a NAT the source differs, so the source is tried too.
// A deregistration may come from the VM itself (co-located, returning home) without an FA.
Outcome check_foreign_agent(Review& r) {
  r.deregistration =
      r.req.lifetime == mip::kLifetimeDeregister || r.req.care_of_address == r.settings.ha_address;
  r.fa = r.registrar.foreign_agent(r.req.care_of_address);
  if (!r.fa) r.fa = r.registrar.foreign_agent(r.ctx.source);
  if (r.deregistration) return std::nullopt;
  if (!r.fa)
    return Denial{code::ha_prohibited, "unknown_fa",
                  "care-of " + r.req.care_of_address.to_string() + " from " + r.ctx.source.to_string()};
  if (!r.vm->allows(r.fa->address))
    return Denial{code::ha_prohibited, "fa_not_allowed",
                  "VM " + r.vm->id + " may not use " + r.fa->address.to_string()};
  return std::nullopt;
}

// RFC 5563 §3.1: the PMIPv4 per-node authentication method, when given, is FA-HA (else 149).
Outcome check_pmip_method(Review& r) {
  const Extension* e = wire::find_extension(r.req.extensions, mip::ext::pmipv4_nonskip);
  if (!e) return std::nullopt;
  auto method = wire::PmipPerNodeAuth::from(*e);
  if (!method) return Denial{code::ha_poorly_formed_request, "poorly_formed", method.error().to_string()};
  if (method->method != mip::pmip::auth_fa_ha)
    return Denial{code::ha_pmip_unsupported, "pmip_method_unsupported",
                  "per-node method " + std::to_string(method->method)};
  r.proxy = true;
  return std::nullopt;
}

// RFC 5944 §3.5.2 (131): MN-HA is required in every plain registration and verified when
// present; a proxy registration whose per-node method is FA-HA may omit it (RFC 5563 §4).
Outcome check_mn_ha(Review& r) {
  if (!wire::find_extension(r.req.extensions, mip::ext::mn_ha_auth)) {
    if (!r.proxy && (r.settings.mn_ha_required || r.vm->mn_ha))
      return Denial{code::ha_mn_auth_failed, "mn_auth_missing", "no MN-HA extension"};
    return std::nullopt;
  }
  r.mn_ha_present = true;
  if (!r.vm->mn_ha)
    return Denial{code::ha_mn_auth_failed, "mn_auth_no_key", "no MN-HA key for VM " + r.vm->id};
  if (auto v = auth::verify(r.raw, r.req.extensions, mip::ext::mn_ha_auth, *r.vm->mn_ha); !v)
    return Denial{code::ha_mn_auth_failed,
                  v.error().code == "spi_mismatch" ? "mn_auth_unknown_spi" : "mn_auth_failed",
                  v.error().to_string()};
  r.authenticated = true;
  return std::nullopt;
}

// RFC 5944 §3.5.4 (132): FA-HA verified when present; required from an FA by policy or by a
// proxy registration.
Outcome check_fa_ha(Review& r) {
  if (!wire::find_extension(r.req.extensions, mip::ext::fa_ha_auth)) {
    if (r.fa && (r.proxy || r.settings.fa_ha_required))
      return Denial{code::ha_fa_auth_failed, "fa_auth_missing", "no FA-HA extension"};
    return std::nullopt;
  }
  if (!r.fa || !r.fa->fa_ha)
    return Denial{code::ha_fa_auth_failed, "fa_auth_no_key", "no FA-HA key for the sender"};
  if (auto v = auth::verify(r.raw, r.req.extensions, mip::ext::fa_ha_auth, *r.fa->fa_ha); !v)
    return Denial{code::ha_fa_auth_failed,
                  v.error().code == "spi_mismatch" ? "fa_auth_unknown_spi" : "fa_auth_failed",
                  v.error().to_string()};
  r.authenticated = true;
  return std::nullopt;
}

// Nothing is ever accepted on the strength of nothing (131).
Outcome check_authenticated(Review& r) {
  if (r.authenticated) return std::nullopt;
  return Denial{code::ha_mn_auth_failed, "unauthenticated", "no verified authenticator"};
}

// RFC 5563 §3.2.2 (129): the device the proxy speaks for is this VM (device ID = its MAC).
Outcome check_device_id(Review& r) {
  const Extension* e = wire::find_pmip_skippable(r.req.extensions, mip::pmip::device_id);
  if (!e) return std::nullopt;
  auto dev = wire::PmipDeviceId::from(*e);
  if (!dev) return Denial{code::ha_poorly_formed_request, "poorly_formed", dev.error().to_string()};
  auto mac = dev->mac();
  if (!mac || *mac != r.vm->mac)
    return Denial{code::ha_prohibited, "device_id_mismatch", "device ID is not VM " + r.vm->id + "'s MAC"};
  return std::nullopt;
}

// RFC 5454 §2.1 (129 / 134): the IPv6 home addresses the request asks for (one /128 Prefix
// Request each) must all be the VM's own, from its definition; they are granted as asked. We
// register on-link /128s, not the off-link prefixes RFC 5454 assigns (docs/protocol.md
// "Dual-stack VMs"). A deregistration releases everything and is not checked.
Outcome check_ipv6_home_addresses(Review& r) {
  if (r.deregistration) return std::nullopt;
  auto requests = wire::ipv6_prefix_requests(r.req.extensions);
  if (!requests) return Denial{code::ha_poorly_formed_request, "poorly_formed", requests.error().to_string()};
  for (const auto& q : *requests) {
    const std::string a = q.prefix.to_string() + "/" + std::to_string(q.prefix_length);
    if (q.prefix_length != 128)
      return Denial{code::ha_prohibited, "ipv6_home_address_mismatch", a + ": only /128 home addresses"};
    if (std::find(r.vm->home_addresses_v6.begin(), r.vm->home_addresses_v6.end(), q.prefix) ==
        r.vm->home_addresses_v6.end())
      return Denial{code::ha_prohibited, "ipv6_home_address_mismatch", a + " is not VM " + r.vm->id + "'s"};
    if (std::find(r.granted_v6.begin(), r.granted_v6.end(), q.prefix) != r.granted_v6.end())
      return Denial{code::ha_poorly_formed_request, "poorly_formed", a + " requested twice"};
    r.granted_v6.push_back(q.prefix);
  }
  return std::nullopt;
}

// RFC 5944 §5.7 (133): replay protection. In nonce style the new HA nonce stands whatever the
// outcome, so the node can retry.
Outcome check_identification(Review& r) {
  auto v =
      auth::check_identification(r.req.identification, r.ctx.wall_now, r.replay, r.settings.replay_window);
  if (v) return std::nullopt;
  if (r.settings.replay_style == auth::ReplayStyle::nonce) r.replay.ha_nonce = r.ctx.fresh_nonce;
  return Denial{code::ha_identification_mismatch, "identification_mismatch", v.error().to_string()};
}

// RFC 5944 §3.8.2.3 (139): IP-in-IP always, minimal encapsulation and GRE never.
Outcome check_encapsulation(Review& r) {
  if (!r.req.minimal_encapsulation() && !r.req.gre()) return std::nullopt;
  return Denial{code::ha_encapsulation_unavailable, "encapsulation_unavailable", "M or G requested"};
}

// RFC 3519 §3.2 (142): UDP tunnelling on request (extension 144), when enabled; chosen when a
// NAT is detected (§3.2.1: the source is not the care-of address) or the request forces it.
Outcome check_udp_tunnelling(Review& r) {
  const Extension* e = wire::find_extension(r.req.extensions, mip::ext::udp_tunnel_request);
  if (!e) return std::nullopt;
  auto utr = wire::UdpTunnelRequest::from(*e);
  if (!utr) return Denial{code::ha_poorly_formed_request, "poorly_formed", utr.error().to_string()};
  if (!r.settings.udp_tunnelling) {
    // Not forced: the extension is skippable and we carry on with IP-in-IP.
    if (!utr->force()) return std::nullopt;
    return Denial{code::ha_udp_encapsulation_unavailable, "udp_tunnelling_unavailable", "disabled"};
  }
  if (utr->encapsulation != mip::kIpProtoIpip)
    return Denial{code::ha_udp_encapsulation_unavailable, "udp_tunnelling_unavailable",
                  "inner encapsulation " + std::to_string(utr->encapsulation)};
  wire::UdpTunnelReply reply_ext;
  if (r.ctx.source != r.req.care_of_address || utr->force()) {
    r.encapsulation = binding::Encapsulation::udp;
    reply_ext.flags = utr->force() ? mip::udp_tunnel::reply_flag_F : 0;
  } else {
    reply_ext.code = mip::udp_tunnel::reply_code_declined;  // no NAT: plain IP-in-IP
  }
  r.reply.append(reply_ext.to_extension());
  return std::nullopt;
}

// The checks in the order they decide (RFC 5944 §3.8.2, see registrar.hpp): the first denial
// is the reply code.
constexpr std::array<Check, 12> kChecks = {
    check_home_agent,    check_vm,
    check_foreign_agent, check_pmip_method,
    check_mn_ha,         check_fa_ha,
    check_authenticated, check_identification,
    check_device_id,     check_ipv6_home_addresses,
    check_encapsulation, check_udp_tunnelling,
};

// The reply every outcome shares (RFC 5944 §3.4): our address as Home Agent, the request's
// home address and Identification (rewritten per replay style below).
wire::RegistrationReply reply_for(const wire::RegistrationRequest& req, Ipv4 ha) {
  wire::RegistrationReply r;
  r.home_address = req.home_address;
  r.home_agent = ha;
  r.identification = req.identification;
  return r;
}

// Finishes the reply: code, lifetime, Identification, authenticators. Authenticators are added
// whenever we hold the key the peer will check them with, denials included, so an FA can tell
// a genuine denial from a forged one (RFC 5944 §3.5.4).
Verdict finish(Review& r, VerdictKind kind, std::uint8_t c, std::string_view reason, std::string detail,
               std::uint16_t lifetime) {
  const RegistrarSettings& s = r.settings;
  Verdict v;
  v.kind = kind;
  v.code = c;
  v.reason = reason;
  v.detail = std::move(detail);
  v.vm = r.vm;
  v.replay = r.replay;
  v.reply = std::move(r.reply);
  v.reply.code = c;
  // RFC 5944 §3.4: the lifetime of a denial is unspecified; send 0.
  v.reply.lifetime = code::is_accepted(c) ? lifetime : 0;
  if (c == code::ha_identification_mismatch && s.replay_style == auth::ReplayStyle::timestamp) {
    v.reply.identification = auth::timestamp_mismatch_identification(r.req.identification, r.ctx.wall_now);
  } else if (s.replay_style == auth::ReplayStyle::nonce) {
    v.reply.identification = auth::nonce_reply_identification(r.req.identification, r.ctx.fresh_nonce);
  }
  // append_auth fails only for an unknown algorithm, and the config admits known ones only.
  if (r.vm && r.vm->mn_ha && r.mn_ha_present)
    if (auto a = auth::append_auth(v.reply, mip::ext::mn_ha_auth, *r.vm->mn_ha); !a) std::abort();
  if (r.fa && r.fa->fa_ha)
    if (auto a = auth::append_auth(v.reply, mip::ext::fa_ha_auth, *r.fa->fa_ha); !a) std::abort();
  v.reply_bytes = wire::encode(v.reply);
  return v;
}

// Every check passed: RFC 5944 §3.8.3. A deregistration removes only the binding it names
// (§3.8.2): a late one from a foreign agent the VM has already left must not tear down the
// newer binding. A registration gets min(requested, configured maximum); S (simultaneous
// bindings) is not supported: accepted with code 1 (§3.4).
//
// "The VM is home" (care-of = our address) ends whichever binding is current, so a foreign
// agent may say it only for a VM it may serve (allowed_fas) or whose binding is its own; the
// VM itself (MN-HA) always may. Otherwise any FA holding an FA-HA key could pull any VM home.
Verdict accept(Review& r, const binding::Binding* current) {
  const RegistrarSettings& s = r.settings;
  if (r.deregistration && r.fa && !r.mn_ha_present && r.req.care_of_address == s.ha_address &&
      !r.vm->allows(r.fa->address) && !(current && current->foreign_agent == r.fa->address))
    return finish(r, VerdictKind::deny, code::ha_prohibited, "fa_not_allowed",
                  "FA " + r.fa->address.to_string() + " may not deregister VM " + r.vm->id, 0);
  auth::accept_identification(r.replay, r.req.identification, r.ctx.fresh_nonce);
  if (r.deregistration) {
    const bool names_current = current && (current->care_of_address == r.req.care_of_address ||
                                           r.req.care_of_address == s.ha_address);
    Verdict v = finish(r, names_current ? VerdictKind::unbind : VerdictKind::unchanged, code::accepted,
                       names_current ? "deregistered" : "deregistered_stale", {}, 0);
    v.tunnel_peer = r.req.care_of_address;
    return v;
  }
  if (s.revocation) {  // RFC 3543 §3: say that we support revocation when the FA does
    if (const Extension* e = wire::find_extension(r.req.extensions, mip::ext::revocation_support)) {
      if (wire::RevocationSupport::from(*e)) {
        wire::RevocationSupport rs;
        rs.timestamp = auth::high32(auth::ntp_from_wall(r.ctx.wall_now));
        r.reply.append(rs.to_extension());
      }
    }
  }
  // RFC 5454 §2.2: one Prefix Reply per IPv6 home address granted, before the authenticators
  // (finish() appends those) so that they cover it.
  for (const auto& a : r.granted_v6) {
    wire::Ipv6PrefixReply p;
    p.prefix = a;
    r.reply.append(p.to_extension());
  }
  const std::uint16_t granted = std::min<std::uint16_t>(r.req.lifetime, s.max_lifetime_s);
  const bool udp = r.encapsulation == binding::Encapsulation::udp;
  const std::uint8_t c = r.req.simultaneous_bindings() ? code::accepted_no_simultaneous : code::accepted;
  Verdict v = finish(r, VerdictKind::bind, c, "accepted", {}, granted);
  v.registration = binding::Registration{r.req.home_address,
                                         r.req.care_of_address,
                                         r.fa ? r.fa->address : r.ctx.source,
                                         granted,
                                         r.req.flags,
                                         r.encapsulation,
                                         r.req.identification,
                                         r.granted_v6};
  // UDP tunnelling goes where the request came from (through the NAT, RFC 3519 §3.2.1).
  v.tunnel_peer = udp ? r.ctx.source : r.req.care_of_address;
  v.tunnel_port = udp ? r.ctx.source_port : mip::kRegistrationPort;
  return v;
}

}  // namespace

Verdict Registrar::decide(const wire::RegistrationRequest& req, ByteView raw, const RequestContext& ctx,
                          const VmDirectory& vms, const binding::Binding* current,
                          const auth::ReplayState& replay) const {
  Review r{req, raw, ctx, settings_, *this, vms};
  r.replay = replay;
  r.reply = reply_for(req, settings_.ha_address);
  for (Check check : kChecks)
    if (Outcome denial = check(r))
      return finish(r, VerdictKind::deny, denial->code, denial->reason, std::move(denial->detail), 0);
  return accept(r, current);
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
