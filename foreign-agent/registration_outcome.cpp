// The foreign agent's registration outcomes (see the header for the table).
#include "foreign-agent/registration_outcome.hpp"

#include "common/wire/mobile_ip.hpp"
#include "foreign-agent/proxy_registration.hpp"

namespace vmroam::fa {

namespace {

using binding::VisitorState;
using Step = RegistrationStep;

RegistrationOutcome ignore(std::string metric) { return {.step = Step::ignore, .metric = std::move(metric)}; }

PendingRequest pending(const ReplyContext& c, std::uint64_t identification) {
  return {c.home_address, c.home_agent, identification, c.udp_tunnel, c.mn_ha, c.fa_ha, c.home_addresses_v6};
}

RegistrationOutcome accepted(const ReplyContext& c, const ReplyVerdict& v, TimePoint now) {
  RegistrationOutcome o{.step = Step::activate, .metric = "reply_" + std::string(v.reason), .code = v.code};
  o.lifetime = v.lifetime;
  o.expires_at =
      v.lifetime == mip::kLifetimeInfinite ? TimePoint::max() : now + std::chrono::seconds(v.lifetime);
  // RFC 5944 §3.6: re-register before the binding expires (2/3 of what was granted).
  o.renew_after = renewal_delay(v.lifetime);
  // RFC 3519 §3.2: the HA declined UDP tunnelling (no 44, or code 64): IP-in-IP it is.
  o.fall_back_to_ipip = c.udp_tunnel && !v.udp_tunnel;
  o.granted_v6 = v.granted_v6;
  return o;
}

}  // namespace

ReplyContext reply_context(const binding::Visitor& v, const RegistrationRound& round,
                           std::optional<auth::SecurityAssociation> fa_ha) {
  return {v.state,     v.home_address,   v.home_agent, v.encapsulation == binding::Encapsulation::udp,
          mn_ha_of(v), std::move(fa_ha), round,        v.home_addresses_v6};
}

RegistrationOutcome decide_reply(const std::optional<ReplyContext>& c, const wire::RegistrationReply& reply,
                                 ByteView raw, WallTime wall, TimePoint now) {
  if (!c) return ignore("reply_unknown_visitor");
  if (c->state == VisitorState::departed) {
    // RFC 5944 §3.6.1.1: the answer to our deregistration, whatever its code, means the HA no
    // longer tunnels here (or never will again).
    if (c->round.deregistration &&
        judge_reply(reply, raw, pending(*c, *c->round.deregistration), wall).outcome != ReplyOutcome::ignore)
      return {.step = Step::release, .metric = "deregistration_answered"};
    return ignore("reply_ignored_departed");
  }
  if (!c->round.in_flight) return ignore("reply_unexpected");
  ReplyVerdict v;
  for (auto ident : c->round.identifications) {
    v = judge_reply(reply, raw, pending(*c, ident), wall);
    if (v.outcome != ReplyOutcome::ignore) break;
  }
  switch (v.outcome) {
    case ReplyOutcome::ignore:
      return ignore("reply_ignored_" + std::string(v.reason));
    case ReplyOutcome::accepted:
      return accepted(*c, v, now);
    case ReplyOutcome::resync:
      // RFC 5944 §5.7.1: adopt the HA's clock and try once more at once; a second 133 fails.
      if (!c->round.resynced)
        return {.step = Step::resync,
                .metric = "reply_" + std::string(v.reason),
                .code = v.code,
                .reason = std::string(v.reason),
                .clock_offset_s = v.clock_offset_s};
      break;
    case ReplyOutcome::denied:
      break;
  }
  return {.step = Step::fail,
          .metric = "reply_" + std::string(v.reason),
          .code = v.code,
          .reason = std::string(v.reason)};
}

RegistrationOutcome decide_timer(const RegistrationRound& round, std::uint32_t attempts) {
  if (!round.in_flight) return ignore("");
  if (round.sent >= attempts)
    return {.step = Step::fail,
            .code = mip::code::fa_registration_timeout,
            .reason = "no reply from the home agent"};
  return {.step = Step::retransmit};
}

RegistrationOutcome decide_unbuildable(const Error& e) {
  // RFC 5944 §3.7.2: the FA denies a Home Agent field it must not relay to with code 194.
  return {
      .step = Step::fail,
      .code = e.code == "invalid_home_agent" ? mip::code::fa_invalid_home_agent : mip::code::fa_unspecified,
      .reason = "cannot build the request: " + e.to_string()};
}

}  // namespace vmroam::fa
