// tools/wanem/direction: one direction of the delay line (model + queue + counters): every
// frame's fate is counted, and the lateness histogram's quantiles.
#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "tests/unit/tools/wanem/scripted_random.hpp"
#include "tools/wanem/direction.hpp"

namespace vmroam::wanem {
namespace {

using namespace scripted;  // ScriptedRandom, kT0, microseconds, milliseconds

TEST(Direction, CountsEveryFateAndLateness) {
  ScriptedRandom random({0.9, 0.01, 0.9, 0.9});  // pass, lose, pass, pass
  // Header of 2 bytes: not link bytes; queue holds two 6-byte frames.
  Direction d({milliseconds(4), Duration{0}, 0.05}, false, 12, 100, 2, random);
  const std::vector<std::uint8_t> frame = {0xAA, 0xBB, 1, 2, 3, 4};
  d.on_frame(kT0, frame);                    // queued
  d.on_frame(kT0, frame);                    // lost
  d.on_frame(kT0 + milliseconds(1), frame);  // queued
  d.on_frame(kT0 + milliseconds(1), frame);  // queue full: overflow (no draw)
  EXPECT_EQ(d.next_deadline(), kT0 + milliseconds(4));

  std::vector<std::vector<std::uint8_t>> sent;
  int calls = 0;
  auto send = [&](std::span<const std::uint8_t> f) {
    ++calls;
    sent.emplace_back(f.begin(), f.end());
    return calls == 1;  // the second send is refused by the "kernel"
  };
  d.send_due(kT0 + milliseconds(3), send);
  EXPECT_EQ(calls, 0);
  d.send_due(kT0 + milliseconds(5) + microseconds(30), send);
  ASSERT_EQ(calls, 2);
  EXPECT_EQ(sent[0], frame);  // header and all, unchanged

  const auto& c = d.counters();
  EXPECT_EQ(c.rx_packets, 4u);
  EXPECT_EQ(c.rx_bytes, 16u);
  EXPECT_EQ(c.lost, 1u);
  EXPECT_EQ(c.queue_overflow, 1u);
  EXPECT_EQ(c.tx_packets, 1u);
  EXPECT_EQ(c.tx_bytes, 4u);
  EXPECT_EQ(c.tx_errors, 1u);
  EXPECT_EQ(random.draws, 3);
  // Lateness: 1.03 ms and 30 µs.
  EXPECT_EQ(d.lateness().count(), 2u);
  EXPECT_EQ(d.lateness().max(), microseconds(1030));
  EXPECT_EQ(d.lateness().quantile(0.5), microseconds(40));  // upper edge of the 30–40 µs bucket
  const auto j = d.to_json();
  EXPECT_EQ(j["lost"], 1);
  EXPECT_EQ(j["queue_overflow"], 1);
  EXPECT_DOUBLE_EQ(j["delay_us"].get<double>(), 4000.0);
}

TEST(LatenessHistogram, Quantiles) {
  LatenessHistogram h;
  EXPECT_EQ(h.quantile(0.5), Duration{0});
  for (int i = 0; i < 99; ++i) h.record(microseconds(15));
  h.record(milliseconds(50));  // beyond the last bucket
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.quantile(0.5), microseconds(20));
  EXPECT_EQ(h.quantile(0.99), microseconds(20));
  EXPECT_EQ(h.quantile(1.0), milliseconds(50));
  EXPECT_EQ(h.max(), milliseconds(50));
  h.record(microseconds(-5));  // clock oddities count as on time
  EXPECT_EQ(h.count(), 101u);
}

}  // namespace
}  // namespace vmroam::wanem
