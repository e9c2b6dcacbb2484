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

}  // namespace
}  // namespace vmroam
