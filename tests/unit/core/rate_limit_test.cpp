// RateLimit: a burst per reason, then the refill rate; what is over budget is counted and
// reported once; reasons are independent; the table stays bounded.
#include "common/core/rate_limit.hpp"

#include <gtest/gtest.h>

namespace vmroam {
namespace {

using namespace std::chrono_literals;

int admitted(RateLimit& l, std::string_view key, int tries, TimePoint at) {
  int n = 0;
  for (int i = 0; i < tries; ++i) n += l.admit(key, at) ? 1 : 0;
  return n;
}

TEST(RateLimit, ABurstThenTheRefillRateAndTheRestIsCounted) {
  RateLimit l(/*per_second=*/2, /*burst=*/5);
  const TimePoint t0{};
  EXPECT_EQ(admitted(l, "fa_auth_failed", 100, t0), 5);
  EXPECT_EQ(admitted(l, "fa_auth_failed", 100, t0 + 1s), 2) << "two more a second later";
  auto s = l.take_suppressed();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].key, "fa_auth_failed");
  EXPECT_EQ(s[0].count, 193u);
  EXPECT_TRUE(l.take_suppressed().empty()) << "counts restart once reported";
  EXPECT_EQ(admitted(l, "fa_auth_failed", 100, t0 + 1h), 5) << "the bucket never holds more than the burst";
}

TEST(RateLimit, ReasonsHaveTheirOwnBuckets) {
  RateLimit l(1, 3);
  const TimePoint t0{};
  EXPECT_EQ(admitted(l, "truncated", 10, t0), 3);
  EXPECT_EQ(admitted(l, "unknown_vm", 10, t0), 3) << "a flood of one reason does not silence another";
}

TEST(RateLimit, ManyKeysShareOneBucketPastTheLimit) {
  RateLimit l(1, 1, /*max_keys=*/4);
  const TimePoint t0{};
  int n = 0;
  for (int k = 0; k < 1000; ++k) n += l.admit("key" + std::to_string(k), t0) ? 1 : 0;
  EXPECT_EQ(n, 5) << "four keys, then one shared bucket";
  auto s = l.take_suppressed();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].key, "other");
  EXPECT_EQ(s[0].count, 995u);
}

// The HTTP server's use: the next line admitted for a key carries what that key skipped.
TEST(RateLimit, TheNextAdmittedLineOfAKeyTakesItsCount) {
  RateLimit l(/*per_second=*/0.2, /*burst=*/3);
  const TimePoint t0{};
  struct Step {
    const char* description;
    std::string_view key;
    Duration at;
    bool admitted;
    std::uint64_t count;  // take_suppressed(key) right after an admitted event
  };
  const Step steps[] = {
      {"first line", "refused", 0ms, true, 0},
      {"second", "refused", 1ms, true, 0},
      {"third empties the bucket", "refused", 2ms, true, 0},
      {"fourth is suppressed", "refused", 3ms, false, 0},
      {"another key has its own bucket", "tls", 3ms, true, 0},
      {"fifth is suppressed", "refused", 4999ms, false, 0},
      {"a token 5 s later: the line carries the two", "refused", 5003ms, true, 2},
      {"and the count restarts", "refused", 10003ms, true, 0},
  };
  for (const auto& s : steps) {
    EXPECT_EQ(l.admit(s.key, t0 + s.at), s.admitted) << s.description;
    if (s.admitted) {
      EXPECT_EQ(l.take_suppressed(s.key), s.count) << s.description;
    }
  }
  EXPECT_EQ(l.suppressed_total(), 2u);
  EXPECT_EQ(l.take_suppressed("never seen"), 0u);
}

TEST(RateLimit, AFloodWritesTheBurstThenTheRefillRate) {
  RateLimit l(/*per_second=*/0.2, /*burst=*/10);
  const TimePoint t0{};
  int lines = 0;
  // 50 000 refusals a second for a minute: 10 at once, then one per 5 s.
  for (int i = 0; i < 3'000'000; ++i)
    if (l.admit("api_connection_refused", t0 + std::chrono::microseconds(i * 20))) ++lines;
  EXPECT_EQ(lines, 10 + 11);
  EXPECT_EQ(l.suppressed_total(), 3'000'000u - 21u);
}

}  // namespace
}  // namespace vmroam
