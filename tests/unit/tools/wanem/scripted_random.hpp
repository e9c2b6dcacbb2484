// A scripted Random for the vmroam-wanem tests: the link model's draws come from a list, so a
// test decides every loss and jitter outcome; and the time the tests start at.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <deque>

#include "tools/wanem/link_model.hpp"

namespace vmroam::wanem::scripted {

// Hands out scripted numbers and counts draws; running dry is a test bug.
class ScriptedRandom final : public Random {
 public:
  explicit ScriptedRandom(std::deque<double> values = {}) : values_(std::move(values)) {}
  double uniform() override {
    ++draws;
    if (values_.empty()) ADD_FAILURE() << "ScriptedRandom ran dry";
    if (values_.empty()) return 0.5;
    const double v = values_.front();
    values_.pop_front();
    return v;
  }
  int draws = 0;

 private:
  std::deque<double> values_;
};

inline const TimePoint kT0 = TimePoint{} + std::chrono::seconds(100);

// The units the tests write their times in (`using namespace scripted;` brings them in).
using std::chrono::microseconds;
using std::chrono::milliseconds;

}  // namespace vmroam::wanem::scripted
