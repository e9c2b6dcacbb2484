// FakeClock: time moves only when a test says so.
#pragma once

#include "common/core/clock.hpp"

namespace vmroam::test {

class FakeClock final : public Clock {
 public:
  FakeClock()
      : mono_(std::chrono::steady_clock::time_point{} + std::chrono::hours(1000)),
        wall_(WallTime{} + std::chrono::seconds(1'790'000'000)) {}
  [[nodiscard]] TimePoint now() const override { return mono_; }
  [[nodiscard]] WallTime wall_now() const override { return wall_; }
  void advance(Duration d) {
    mono_ += d;
    wall_ += std::chrono::duration_cast<WallTime::duration>(d);
  }

 private:
  TimePoint mono_;
  WallTime wall_;
};

}  // namespace vmroam::test
