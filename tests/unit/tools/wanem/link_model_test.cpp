// tools/wanem/link_model: the per-frame decisions (loss, jitter within the delay, order, rate)
// with a scripted random source, and seeded loss that repeats and lands near its rate.
#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <vector>

#include "tests/unit/tools/wanem/scripted_random.hpp"
#include "tools/wanem/link_model.hpp"

namespace vmroam::wanem {
namespace {

using namespace scripted;  // ScriptedRandom, kT0, microseconds, milliseconds

TEST(LinkModel, DecisionsTable) {
  struct Frame {
    Duration arrival;  // after kT0
    std::size_t bytes;
    bool lost;
    Duration deadline;  // after kT0
  };
  struct Case {
    const char* description;
    DirectionConfig config;
    bool allow_reorder;
    std::deque<double> randoms;
    std::vector<Frame> frames;
    int draws;
  };
  const Case cases[] = {
      {"plain delay draws nothing",
       {milliseconds(4)},
       false,
       {},
       {{Duration{0}, 100, false, milliseconds(4)}, {milliseconds(1), 100, false, milliseconds(5)}},
       0},
      {"loss below the threshold drops, above passes",
       {milliseconds(4), Duration{0}, 0.10},
       false,
       {0.05, 0.10, 0.99},
       {{Duration{0}, 100, true, {}},
        {Duration{0}, 100, false, milliseconds(4)},
        {Duration{0}, 100, false, milliseconds(4)}},
       3},
      {"jitter spans ±jitter",
       {milliseconds(4), milliseconds(1)},
       true,
       {0.0, 1.0, 0.5},
       {{Duration{0}, 100, false, milliseconds(3)},
        {Duration{0}, 100, false, milliseconds(5)},
        {Duration{0}, 100, false, milliseconds(4)}},
       3},
      {"jitter keeps order by default",
       {milliseconds(4), milliseconds(1)},
       false,
       {1.0, 0.0},
       {{Duration{0}, 100, false, milliseconds(5)}, {microseconds(10), 100, false, milliseconds(5)}},
       2},
      {"reordering when allowed",
       {milliseconds(4), milliseconds(1)},
       true,
       {1.0, 0.0},
       {{Duration{0}, 100, false, milliseconds(5)}, {microseconds(10), 100, false, microseconds(3010)}},
       2},
      {"rate serialises back to back",
       {milliseconds(4), Duration{0}, 0.0, 10'000'000},
       false,
       {},
       // 1250 bytes at 10 Mbit/s = 1 ms each; the second waits for the first.
       {{Duration{0}, 1250, false, milliseconds(5)},
        {Duration{0}, 1250, false, milliseconds(6)},
        {milliseconds(10), 1250, false, milliseconds(15)}},
       0},
      {"lost frames use no link time",
       {Duration{0}, Duration{0}, 0.5, 10'000'000},
       false,
       {0.1, 0.9},
       {{Duration{0}, 1250, true, {}}, {Duration{0}, 1250, false, milliseconds(1)}},
       2},
  };
  for (const auto& c : cases) {
    ScriptedRandom random(c.randoms);
    LinkModel model(c.config, c.allow_reorder, random);
    for (std::size_t i = 0; i < c.frames.size(); ++i) {
      const auto& f = c.frames[i];
      const Verdict v = model.on_frame(kT0 + f.arrival, f.bytes);
      EXPECT_EQ(v.lost, f.lost) << c.description << " frame " << i;
      if (!f.lost) {
        EXPECT_EQ(v.deadline - kT0, f.deadline) << c.description << " frame " << i;
      }
    }
    EXPECT_EQ(random.draws, c.draws) << c.description;
  }
}

TEST(LinkModel, SeededLossIsRepeatableAndNearItsRate) {
  auto count_lost = [](std::uint64_t seed) {
    SeededRandom random(seed);
    LinkModel model({milliseconds(1), Duration{0}, 0.10}, false, random);
    int lost = 0;
    for (int i = 0; i < 100'000; ++i) lost += model.on_frame(kT0, 100).lost ? 1 : 0;
    return lost;
  };
  const int a = count_lost(7);
  EXPECT_EQ(a, count_lost(7));
  EXPECT_GT(a, 9'500);
  EXPECT_LT(a, 10'500);
}

}  // namespace
}  // namespace vmroam::wanem
