// Replay protection (common/auth/replay): NTP Identification, timestamp window and ordering,
// code-133 reply Identification, nonce style, era rollover.
#include <gtest/gtest.h>

#include "common/auth/replay.hpp"

namespace vmroam::auth {
namespace {

using namespace std::chrono_literals;

// 2024-04-23T21:20:48Z = Unix 1713907248 = NTP 0xe9d2a4b0 (checked with tshark, which shows
// Identification e9d2a4b0… as "Apr 23, 2024 21:20:48 UTC").
const WallTime kNow = WallTime(std::chrono::seconds(1713907248));
constexpr std::uint64_t kNowNtp = 0xe9d2a4b000000000ull;

TEST(Ntp, FromAndToWallTime) {
  EXPECT_EQ(ntp_from_wall(WallTime{}), std::uint64_t{mip::kNtpUnixEpochOffset} << 32);
  EXPECT_EQ(ntp_from_wall(kNow), kNowNtp);
  EXPECT_EQ(ntp_from_wall(kNow + 500ms), kNowNtp | 0x80000000u);
  EXPECT_EQ(wall_from_ntp(kNowNtp | 0x80000000u), kNow + 500ms);
  // After the 2036 rollover the seconds wrap to small values and still mean the future.
  const WallTime after_2036 = WallTime(std::chrono::seconds(2085978496 + 100));  // NTP era 1, second 100
  EXPECT_EQ(high32(ntp_from_wall(after_2036)), 100u);
  EXPECT_EQ(wall_from_ntp(ntp_from_wall(after_2036)), after_2036);
}

TEST(Timestamp, WindowAndOrdering) {
  ReplayState accepted;
  accepted.has_accepted = true;
  accepted.last_accepted = kNowNtp - (2ull << 32);
  struct Case {
    const char* description;
    std::uint64_t id;
    ReplayState state;
    std::string_view error;
  };
  const Case cases[] = {
      {"now, first request", kNowNtp, {}, ""},
      {"7 s ahead", kNowNtp + (7ull << 32), {}, ""},
      {"7 s behind", kNowNtp - (7ull << 32), {}, ""},
      {"7.5 s ahead", kNowNtp + (7ull << 32) + 0x80000000u, {}, "identification_out_of_window"},
      {"8 s behind", kNowNtp - (8ull << 32), {}, "identification_out_of_window"},
      {"zero", 0, {}, "identification_out_of_window"},
      {"newer than last accepted", kNowNtp, accepted, ""},
      {"equal to last accepted", accepted.last_accepted, accepted, "identification_not_increasing"},
      {"older than last, inside window", accepted.last_accepted - 1, accepted,
       "identification_not_increasing"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    auto r = check_identification(c.id, kNow, c.state);
    if (c.error.empty())
      EXPECT_TRUE(r) << r.error().to_string();
    else
      EXPECT_EQ(r.error().code, c.error);
  }
  // A wider window is a parameter.
  EXPECT_TRUE(check_timestamp(kNowNtp + (30ull << 32), kNow, {}, 60s));
}

TEST(Timestamp, AcceptThenReplayIsRefused) {
  ReplayState s;
  const std::uint64_t id = kNowNtp + 5;
  ASSERT_TRUE(check_identification(id, kNow, s));
  accept_identification(s, id);
  EXPECT_TRUE(s.has_accepted);
  EXPECT_EQ(s.last_accepted, id);
  EXPECT_EQ(check_identification(id, kNow + 1s, s).error().code, "identification_not_increasing");
  EXPECT_TRUE(check_identification(id + 1, kNow + 1s, s));
}

TEST(Timestamp, MismatchReplyCarriesOurTimeAndTheirLowBits) {
  const std::uint64_t request = 0x11111111abcdef01ull;
  const std::uint64_t reply = timestamp_mismatch_identification(request, kNow + 250ms);
  EXPECT_EQ(high32(reply), high32(kNowNtp));
  EXPECT_EQ(low32(reply), 0xabcdef01u);
  EXPECT_TRUE(reply_matches_request(request, reply));
  EXPECT_FALSE(reply_matches_request(request + 1, reply));
  // The mobile node learns how far its clock is off.
  EXPECT_EQ(clock_offset_seconds(reply, kNow - 100s), 100);
  EXPECT_EQ(clock_offset_seconds(reply, kNow + 30s), -30);
}

TEST(Timestamp, NextIdentificationNeverRepeats) {
  const std::uint64_t first = next_identification(kNow, 0);
  EXPECT_EQ(first, kNowNtp);
  // The clock steps back 10 s: still strictly greater.
  EXPECT_EQ(next_identification(kNow - 10s, first), first + 1);
  EXPECT_EQ(next_identification(kNow + 1s, first), kNowNtp + (1ull << 32));
}

TEST(Timestamp, OrderingSurvivesTheEraRollover) {
  const WallTime before = WallTime(std::chrono::seconds(2085978496 - 2));  // 2036-02-07, era 0
  const WallTime after = before + 3s;                                      // era 1
  ReplayState s;
  const std::uint64_t old_id = ntp_from_wall(before);
  accept_identification(s, old_id);
  const std::uint64_t new_id = ntp_from_wall(after);
  EXPECT_LT(new_id, old_id);                            // numerically smaller after the wrap…
  EXPECT_TRUE(check_identification(new_id, after, s));  // …but newer
}

TEST(Nonce, EchoedNonceIsRequired) {
  ReplayState s;
  s.style = ReplayStyle::nonce;
  s.ha_nonce = 0xcafef00d;
  const std::uint64_t request = 0xcafef00d00000042ull;  // our nonce high, MN nonce low
  ASSERT_TRUE(check_identification(request, kNow, s));
  accept_identification(s, request, 0x0badbeef);
  EXPECT_EQ(s.ha_nonce, 0x0badbeefu);
  const std::uint64_t reply = nonce_reply_identification(request, s.ha_nonce);
  EXPECT_EQ(reply, 0x0badbeef00000042ull);
  // The old nonce is no longer good; the same request again is refused.
  EXPECT_EQ(check_identification(request, kNow, s).error().code, "nonce_mismatch");
  EXPECT_TRUE(check_identification(0x0badbeef00000043ull, kNow + 1h, s));  // no clock involved
  ReplayState same = s;
  same.last_accepted = 0x0badbeef00000043ull;
  EXPECT_EQ(check_nonce(0x0badbeef00000043ull, same).error().code, "identification_not_increasing");
}

}  // namespace
}  // namespace vmroam::auth
