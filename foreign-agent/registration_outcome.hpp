// What the foreign agent does about each event of a proxy registration (RFC 5944 §3.6,
// RFC 5563): a Registration Reply arrived, or the retransmission timer fired.
//
// Pure, like the home agent's Registrar: the visitor's state, its registration round and the
// reply go in, with the time as a parameter; a RegistrationOutcome comes out. No sockets,
// timers, store or logging: ForeignAgent applies the outcome (state, store, timers, kernel).
//
//   reply, visitor unknown ........................ ignore  "reply_unknown_visitor"
//   reply, visitor departed, answers our lifetime-0 request (any code) ... release
//                                                           "deregistration_answered"
//   reply, visitor departed, anything else ........ ignore  "reply_ignored_departed"
//   reply, no registration in flight .............. ignore  "reply_unexpected"
//   reply that matches none of the round's Identifications, or does not verify
//                                                   ignore  "reply_ignored_<why>" (a forged
//                                                           denial must not fail a move)
//   accepted (0, 1) ............................... activate: active until now + lifetime,
//                                                           re-register at 2/3 of it (never for
//                                                           0xFFFF); IP-in-IP when we asked for
//                                                           UDP and the HA declined (RFC 3519 §3.2);
//                                                           the IPv6 home addresses granted
//                                                           (RFC 5454 §2.2) recorded
//   133 (RFC 5944 §5.7.1), first in this round .... resync: adopt the HA's clock, new round
//   133 again, or any other denial ................ fail with the reply's code
//   timer, round not in flight .................... ignore
//   timer, `attempts` transmissions made .......... fail 78 (registration timeout)
//   timer, otherwise .............................. retransmit (fresh Identification)
//   request not built, Home Agent field no unicast address (RFC 5944 §3.7.2)
//                                                   fail 194 (Invalid Home Agent Address)
//   request not built, any other reason ........... fail 64 (reason unspecified)
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/auth/security_association.hpp"
#include "common/binding/visitor_list.hpp"
#include "common/core/bytes.hpp"
#include "common/core/clock.hpp"
#include "common/core/result.hpp"
#include "common/wire/registration.hpp"

namespace vmroam::fa {

// One visitor's registration round (memory only; a restart begins a new round).
struct RegistrationRound {
  bool in_flight = false;
  std::uint32_t sent = 0;                       // transmissions in this round
  std::vector<std::uint64_t> identifications;   // every one sent: a late reply still matches
  bool resynced = false;                        // a 133 was acted upon in this round
  std::optional<std::uint64_t> deregistration;  // departing: our lifetime-0 request's
};

// What the FA knows about the visitor a reply names (by home address).
struct ReplyContext {
  binding::VisitorState state = binding::VisitorState::prepared;
  Ipv4 home_address;
  Ipv4 home_agent;
  bool udp_tunnel = false;  // we asked for RFC 3519 UDP tunnelling
  std::optional<auth::SecurityAssociation> mn_ha;
  std::optional<auth::SecurityAssociation> fa_ha;
  RegistrationRound round;
  std::vector<Ipv6> home_addresses_v6;  // requested in every transmission (RFC 5454 §2.1)
};

enum class RegistrationStep : std::uint8_t {
  ignore,      // count `metric`, change nothing
  resync,      // adopt clock_offset_s for this HA, begin a new round, transmit at once
  activate,    // registration accepted
  fail,        // failed with `code` and `reason`
  release,     // a departed visitor's deregistration is answered: its delivery may go
  retransmit,  // send the request again
};

struct RegistrationOutcome {
  RegistrationStep step = RegistrationStep::ignore;
  std::string metric;  // result label of vmroam_fa_registration_messages_total; empty: none
  std::uint8_t code = 0;
  std::string reason;
  // activate
  std::uint16_t lifetime = 0;
  TimePoint expires_at{};
  std::optional<std::chrono::milliseconds> renew_after;
  bool fall_back_to_ipip = false;
  std::vector<Ipv6> granted_v6;  // the IPv6 home addresses the HA granted (RFC 5454 §2.2)
  // resync
  std::int64_t clock_offset_s = 0;

  friend bool operator==(const RegistrationOutcome&, const RegistrationOutcome&) = default;
};

// What decide_reply() needs to know about `v` (its keys: the visitor's own and `fa_ha`).
[[nodiscard]] ReplyContext reply_context(const binding::Visitor& v, const RegistrationRound& round,
                                         std::optional<auth::SecurityAssociation> fa_ha);

// `c` is nullopt when no visitor has the reply's home address. `raw` are the reply's exact
// received bytes (the authenticators cover them); `wall` and `now` are the time.
[[nodiscard]] RegistrationOutcome decide_reply(const std::optional<ReplyContext>& c,
                                               const wire::RegistrationReply& reply, ByteView raw,
                                               WallTime wall, TimePoint now);

// The retransmission timer fired; `attempts` is registration.retransmit_attempts.
[[nodiscard]] RegistrationOutcome decide_timer(const RegistrationRound& round, std::uint32_t attempts);

// The request could not be built (`e`: build_visitor_request()'s error).
[[nodiscard]] RegistrationOutcome decide_unbuildable(const Error& e);

}  // namespace vmroam::fa
