// tools/wanem/timed_queue: frames leave by deadline, then by arrival; the byte and packet
// bounds refuse what does not fit.
#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "tests/unit/tools/wanem/scripted_random.hpp"
#include "tools/wanem/timed_queue.hpp"

namespace vmroam::wanem {
namespace {

using namespace scripted;  // ScriptedRandom, kT0, microseconds, milliseconds

TEST(TimedQueue, OrdersByDeadlineThenArrival) {
  TimedQueue q(1 << 20, 100);
  EXPECT_TRUE(q.push(kT0 + milliseconds(3), {3}));
  EXPECT_TRUE(q.push(kT0 + milliseconds(1), {1}));
  EXPECT_TRUE(q.push(kT0 + milliseconds(3), {4}));  // tie: after the earlier {3}
  EXPECT_TRUE(q.push(kT0 + milliseconds(2), {2}));
  EXPECT_EQ(q.next_deadline(), kT0 + milliseconds(1));
  EXPECT_FALSE(q.pop_due(kT0).has_value());
  std::vector<std::uint8_t> order;
  while (auto f = q.pop_due(kT0 + milliseconds(10))) order.push_back(f->bytes[0]);
  EXPECT_EQ(order, (std::vector<std::uint8_t>{1, 2, 3, 4}));
  EXPECT_FALSE(q.next_deadline().has_value());
  EXPECT_EQ(q.bytes(), 0u);
}

TEST(TimedQueue, BoundsByBytesAndPackets) {
  TimedQueue by_bytes(10, 100);
  EXPECT_TRUE(by_bytes.push(kT0, std::vector<std::uint8_t>(6)));
  EXPECT_FALSE(by_bytes.push(kT0, std::vector<std::uint8_t>(5)));
  EXPECT_TRUE(by_bytes.push(kT0, std::vector<std::uint8_t>(4)));
  EXPECT_EQ(by_bytes.bytes(), 10u);
  EXPECT_EQ(by_bytes.packets(), 2u);

  TimedQueue by_packets(1000, 2);
  EXPECT_TRUE(by_packets.push(kT0, {1}));
  EXPECT_TRUE(by_packets.push(kT0, {2}));
  EXPECT_FALSE(by_packets.push(kT0, {3}));
  ASSERT_TRUE(by_packets.pop_due(kT0).has_value());
  EXPECT_TRUE(by_packets.push(kT0, {3}));  // room again once one left
}

}  // namespace
}  // namespace vmroam::wanem
