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

}  // namespace vmroam
