// Time seam. Pure code takes time as a parameter (a TimePoint); daemons read it from a
// Clock, and tests use FakeClock (tests/fakes) to move time by hand.
#pragma once

#include <chrono>
#include <cstdint>

namespace vmroam {

using Duration = std::chrono::nanoseconds;
// Monotonic time for lifetimes and timers.
using TimePoint = std::chrono::steady_clock::time_point;
// Wall-clock (UTC) time for NTP-format Identification timestamps.
using WallTime = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  [[nodiscard]] virtual TimePoint now() const = 0;
  [[nodiscard]] virtual WallTime wall_now() const = 0;
};

class SystemClock final : public Clock {
 public:
  [[nodiscard]] TimePoint now() const override { return std::chrono::steady_clock::now(); }
  [[nodiscard]] WallTime wall_now() const override { return std::chrono::system_clock::now(); }
};

// Durable records keep wall-clock unix milliseconds (monotonic time does not survive a
// restart); memory keeps monotonic time. Both conversions go through the clock's readings now.
[[nodiscard]] inline std::int64_t unix_ms_from(const Clock& clock, TimePoint t) {
  using std::chrono::duration_cast;
  const WallTime w = clock.wall_now() + duration_cast<WallTime::duration>(t - clock.now());
  return duration_cast<std::chrono::milliseconds>(w.time_since_epoch()).count();
}
[[nodiscard]] inline TimePoint monotonic_from_unix_ms(const Clock& clock, std::int64_t unix_ms) {
  using std::chrono::duration_cast;
  const auto now_ms = duration_cast<std::chrono::milliseconds>(clock.wall_now().time_since_epoch()).count();
  return clock.now() + std::chrono::milliseconds(unix_ms - now_ms);
}

}  // namespace vmroam
