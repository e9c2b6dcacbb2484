// common/core/clock: the conversions between monotonic time (memory) and wall-clock unix
// milliseconds (the durable store), read against one clock; exact with a fake clock, and
// consistent on the system clock.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>

#include "common/core/clock.hpp"

namespace vmroam {
namespace {

using namespace std::chrono_literals;

// A clock at fixed readings (tests/fakes has the daemons' FakeClock; this one only needs
// to stand still).
class FixedClock final : public Clock {
 public:
  FixedClock(TimePoint mono, WallTime wall) : mono_(mono), wall_(wall) {}
  [[nodiscard]] TimePoint now() const override { return mono_; }
  [[nodiscard]] WallTime wall_now() const override { return wall_; }

 private:
  TimePoint mono_;
  WallTime wall_;
};

const TimePoint kMono = TimePoint{} + 1000h;
const WallTime kWall = WallTime{} + std::chrono::milliseconds(1'700'000'000'000);

TEST(Clock, NowMapsToTheWallClockReading) {
  FixedClock c(kMono, kWall);
  EXPECT_EQ(unix_ms_from(c, kMono), 1'700'000'000'000);
}

TEST(Clock, FutureAndPastKeepTheirDistance) {
  FixedClock c(kMono, kWall);
  EXPECT_EQ(unix_ms_from(c, kMono + 600s), 1'700'000'600'000);  // a lifetime's expiry
  EXPECT_EQ(unix_ms_from(c, kMono - 1500ms), 1'699'999'998'500);
}

TEST(Clock, RoundTripsThroughUnixMilliseconds) {
  FixedClock c(kMono, kWall);
  for (auto d : {0ms, 1ms, 600'000ms, -42ms}) {
    const TimePoint t = kMono + d;
    EXPECT_EQ(monotonic_from_unix_ms(c, unix_ms_from(c, t)), t) << d.count();
  }
}

TEST(Clock, RestoreAfterARestartUsesTheNewClock) {
  // Written before a restart: expires 600 s after 1'700'000'000'000.
  const std::int64_t expiry = 1'700'000'600'000;
  // After the restart monotonic time starts elsewhere and 100 s of wall time have passed.
  FixedClock after(TimePoint{} + 5s, kWall + 100s);
  EXPECT_EQ(monotonic_from_unix_ms(after, expiry), TimePoint{} + 5s + 500s);
}

TEST(Clock, SystemClockConversionsAreConsistent) {
  SystemClock c;
  const TimePoint t = c.now();
  const auto back = monotonic_from_unix_ms(c, unix_ms_from(c, t));
  // Two readings of two clocks: equal to within the time between them and ms rounding.
  EXPECT_LT(std::abs(std::chrono::duration_cast<std::chrono::milliseconds>(back - t).count()), 1000);
}

}  // namespace
}  // namespace vmroam
