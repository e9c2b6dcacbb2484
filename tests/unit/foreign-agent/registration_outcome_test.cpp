// Table tests for the FA's registration outcomes: each row is a visitor state, a round, a
// reply (or a timer) and what the FA must do — values in, a decision out, no I/O.
#include "foreign-agent/registration_outcome.hpp"

#include <gtest/gtest.h>

#include "common/auth/authenticator.hpp"
#include "common/auth/replay.hpp"
#include "common/wire/extension.hpp"
#include "common/wire/message.hpp"

namespace vmroam::fa {
namespace {

using binding::VisitorState;
using Step = RegistrationStep;
using namespace std::chrono_literals;

const Ipv4 kHoa = Ipv4::from_octets(10, 1, 0, 10);
const Ipv4 kHa = Ipv4::from_octets(192, 0, 2, 1);
constexpr std::uint64_t kIdent1 = 0xE8000000'00000001ull;
constexpr std::uint64_t kIdent2 = 0xE8000000'00000002ull;
const TimePoint kNow = TimePoint{} + 1000s;
const WallTime kWall = WallTime{} + std::chrono::seconds(1'800'000'000);

auth::SecurityAssociation key(std::uint8_t fill) {
  return {1000, auth::Algorithm::hmac_sha256, Bytes(32, fill)};
}

ReplyContext context(VisitorState state = VisitorState::registering) {
  ReplyContext c;
  c.state = state;
  c.home_address = kHoa;
  c.home_agent = kHa;
  c.fa_ha = key(0x11);
  c.round.in_flight = state == VisitorState::registering || state == VisitorState::active;
  c.round.sent = 2;
  c.round.identifications = {kIdent1, kIdent2};
  return c;
}

struct Reply {
  std::uint8_t code = mip::code::accepted;
  std::uint16_t lifetime = 300;
  std::uint64_t identification = kIdent2;
  Ipv4 home_address = kHoa;
  std::uint8_t key_fill = 0x11;
  bool udp_accepted = false;
};

Bytes encode(const Reply& r) {
  wire::RegistrationReply m;
  m.code = r.code;
  m.lifetime = r.lifetime;
  m.home_address = r.home_address;
  m.home_agent = kHa;
  m.identification = r.identification;
  if (r.udp_accepted) {
    wire::UdpTunnelReply u;
    u.code = mip::udp_tunnel::reply_code_accepted;
    m.append(u.to_extension());
  }
  if (!auth::append_auth(m, mip::ext::fa_ha_auth, key(r.key_fill))) std::abort();
  return wire::encode(m);
}

RegistrationOutcome decide(const std::optional<ReplyContext>& c, const Reply& r) {
  const Bytes raw = encode(r);
  auto parsed = wire::parse_registration_reply(raw);
  if (!parsed) std::abort();
  return decide_reply(c, *parsed, raw, kWall, kNow);
}

TEST(RegistrationOutcome, Replies) {
  auto departed = context(VisitorState::departed);
  departed.round.deregistration = kIdent1;
  auto resynced = context();
  resynced.round.resynced = true;
  auto udp = context();
  udp.udp_tunnel = true;
  const std::uint64_t ha_clock = auth::ntp_from_wall(kWall + 40s) & ~0xFFFFFFFFull;
  struct Case {
    const char* description;
    std::optional<ReplyContext> context;
    Reply reply;
    Step step;
    std::string metric;
    std::uint8_t code = 0;
  };
  const Case cases[] = {
      {"no visitor has the home address", std::nullopt, {}, Step::ignore, "reply_unknown_visitor"},
      {"accepted, the latest Identification", context(), {}, Step::activate, "reply_accepted"},
      {"accepted, an earlier transmission's Identification",
       context(),
       {.identification = kIdent1},
       Step::activate,
       "reply_accepted"},
      {"accepted without simultaneous bindings", context(), {.code = 1}, Step::activate, "reply_accepted", 1},
      {"renewal of an active visitor", context(VisitorState::active), {}, Step::activate, "reply_accepted"},
      {"an Identification we never sent",
       context(),
       {.identification = kIdent2 + 7},
       Step::ignore,
       "reply_ignored_unmatched_identification"},
      {"another home address",
       context(),
       {.home_address = Ipv4::from_octets(10, 1, 0, 11)},
       Step::ignore,
       "reply_ignored_unmatched_address"},
      {"a forged denial (wrong FA-HA key)",
       context(),
       {.code = 129, .key_fill = 0x22},
       Step::ignore,
       "reply_ignored_fa_ha_auth_failed"},
      {"denied", context(), {.code = 129, .lifetime = 0}, Step::fail, "reply_ha_prohibited", 129},
      {"133: resynchronise once",
       context(),
       {.code = 133, .identification = ha_clock | (kIdent2 & 0xFFFFFFFF)},
       Step::resync,
       "reply_ha_identification_mismatch",
       133},
      {"133 again in the same round fails",
       resynced,
       {.code = 133, .identification = ha_clock | (kIdent2 & 0xFFFFFFFF)},
       Step::fail,
       "reply_ha_identification_mismatch",
       133},
      {"no registration in flight", context(VisitorState::prepared), {}, Step::ignore, "reply_unexpected"},
      {"the answer to our deregistration",
       departed,
       {.lifetime = 0, .identification = kIdent1},
       Step::release,
       "deregistration_answered"},
      {"a denial of our deregistration still answers it",
       departed,
       {.code = 133, .lifetime = 0, .identification = kIdent1},
       Step::release,
       "deregistration_answered"},
      {"departed, a reply to something else",
       departed,
       {.identification = kIdent2},
       Step::ignore,
       "reply_ignored_departed"},
      {"UDP asked, the HA agreed", udp, {.udp_accepted = true}, Step::activate, "reply_accepted"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    const auto o = decide(c.context, c.reply);
    EXPECT_EQ(o.step, c.step);
    EXPECT_EQ(o.metric, c.metric);
    EXPECT_EQ(o.code, c.code);
  }
}

TEST(RegistrationOutcome, AcceptedSetsExpiryRenewalAndEncapsulation) {
  auto o = decide(context(), {.lifetime = 300});
  ASSERT_EQ(o.step, Step::activate);
  EXPECT_EQ(o.lifetime, 300);
  EXPECT_EQ(o.expires_at, kNow + 300s);
  EXPECT_EQ(o.renew_after, std::chrono::milliseconds(200'000)) << "2/3 of the granted lifetime";
  EXPECT_FALSE(o.fall_back_to_ipip);
  o = decide(context(), {.lifetime = mip::kLifetimeInfinite});
  EXPECT_EQ(o.expires_at, TimePoint::max());
  EXPECT_EQ(o.renew_after, std::nullopt) << "an infinite lifetime is never renewed";
  auto udp = context();
  udp.udp_tunnel = true;
  EXPECT_TRUE(decide(udp, {}).fall_back_to_ipip) << "UDP asked, no 44 in the reply";
  EXPECT_FALSE(decide(udp, {.udp_accepted = true}).fall_back_to_ipip);
}

TEST(RegistrationOutcome, ResyncCarriesTheHomeAgentsClockOffset) {
  const std::uint64_t ha_clock = auth::ntp_from_wall(kWall + 40s) & ~0xFFFFFFFFull;
  auto o = decide(context(), {.code = 133, .identification = ha_clock | (kIdent2 & 0xFFFFFFFF)});
  ASSERT_EQ(o.step, Step::resync);
  EXPECT_NEAR(static_cast<double>(o.clock_offset_s), 40.0, 1.0);
}

TEST(RegistrationOutcome, Timer) {
  struct Case {
    const char* description;
    bool in_flight;
    std::uint32_t sent;
    Step step;
    std::uint8_t code;
  };
  const Case cases[] = {
      {"nothing in flight (answered meanwhile)", false, 1, Step::ignore, 0},
      {"more attempts left", true, 2, Step::retransmit, 0},
      {"all attempts made: timeout (78)", true, 3, Step::fail, mip::code::fa_registration_timeout},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    RegistrationRound r;
    r.in_flight = c.in_flight;
    r.sent = c.sent;
    const auto o = decide_timer(r, 3);
    EXPECT_EQ(o.step, c.step);
    EXPECT_EQ(o.code, c.code);
  }
}

TEST(RegistrationOutcome, RequestNotBuilt) {
  struct Case {
    const char* description;
    Error error;
    std::uint8_t code;
  };
  const Case cases[] = {
      {"Home Agent field no unicast address (RFC 5944 §3.7.2)",
       {"invalid_home_agent", "224.0.0.1 is multicast"},
       mip::code::fa_invalid_home_agent},
      {"no key", {"no_authentication", ""}, mip::code::fa_unspecified},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    const auto o = decide_unbuildable(c.error);
    EXPECT_EQ(o.step, Step::fail);
    EXPECT_EQ(o.code, c.code);
    EXPECT_NE(o.reason.find(c.error.code), std::string::npos) << o.reason;
  }
}

}  // namespace
}  // namespace vmroam::fa
