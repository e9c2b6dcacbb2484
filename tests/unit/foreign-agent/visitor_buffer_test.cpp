// VisitorBuffer: bounded by age then size, every drop counted, flushed in order, and nothing
// held for a visitor that is not buffering.
#include "foreign-agent/visitor_buffer.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace vmroam::fa {
namespace {

using namespace std::chrono_literals;

const TimePoint kT0 = TimePoint{} + 100s;

Bytes packet(std::uint8_t tag, std::size_t size = 40) {
  Bytes p(size, 0);
  p[0] = tag;
  return p;
}

std::vector<std::uint8_t> tags(const std::vector<Bytes>& packets) {
  std::vector<std::uint8_t> out;
  for (const auto& p : packets) out.push_back(p[0]);
  return out;
}

TEST(VisitorBuffer, BoundedBySizeAndFlushedInOrder) {
  VisitorBuffer b({100, 1000ms});
  b.start("vm1");
  EXPECT_TRUE(b.push("vm1", packet(1), kT0).queued);
  EXPECT_TRUE(b.push("vm1", packet(2), kT0).queued);
  auto full = b.push("vm1", packet(3), kT0);  // 120 > 100 bytes
  EXPECT_TRUE(full.buffering);
  EXPECT_FALSE(full.queued);
  EXPECT_EQ(full.dropped, 1u);
  EXPECT_EQ(b.stats("vm1").packets, 2u);
  EXPECT_EQ(b.stats("vm1").bytes, 80u);
  EXPECT_EQ(b.stats("vm1").overflow_packets, 1u);
  std::vector<Bytes> delivered;
  auto f = b.flush("vm1", kT0 + 10ms, [&](ByteView p) { delivered.emplace_back(p.begin(), p.end()); });
  EXPECT_TRUE(f.was_buffering);
  EXPECT_EQ(f.delivered, 2u);
  EXPECT_EQ(tags(delivered), (std::vector<std::uint8_t>{1, 2}));
  const auto s = b.stats("vm1");
  EXPECT_FALSE(s.buffering);
  EXPECT_EQ(s.packets, 0u);
  EXPECT_EQ(s.flushed_packets, 2u);
  // After the flush: not buffering, the caller delivers at once.
  EXPECT_FALSE(b.push("vm1", packet(4), kT0).buffering);
  EXPECT_FALSE(b.flush("vm1", kT0, nullptr).was_buffering) << "a second flush does nothing";
}

TEST(VisitorBuffer, OldPacketsLeaveFirst) {
  VisitorBuffer b({4096, 1000ms});
  b.start("vm1");
  ASSERT_TRUE(b.push("vm1", packet(1), kT0).queued);
  ASSERT_TRUE(b.push("vm1", packet(2), kT0 + 800ms).queued);
  auto p = b.push("vm1", packet(3), kT0 + 1500ms);  // packet 1 is 1.5 s old
  EXPECT_TRUE(p.queued);
  EXPECT_EQ(p.dropped, 1u);
  std::vector<Bytes> delivered;
  // At 2.0 s packet 2 (1.2 s old) is too old as well: dropped at the flush, counted.
  auto f = b.flush("vm1", kT0 + 2000ms, [&](ByteView x) { delivered.emplace_back(x.begin(), x.end()); });
  EXPECT_EQ(f.expired, 1u);
  EXPECT_EQ(tags(delivered), std::vector<std::uint8_t>{3});
  EXPECT_EQ(b.stats("vm1").overflow_packets, 2u);
}

TEST(VisitorBuffer, UnknownOrErasedVisitorsHoldNothing) {
  VisitorBuffer b({4096, 1000ms});
  EXPECT_FALSE(b.push("nobody", packet(1), kT0).buffering);
  b.start("vm1");
  ASSERT_TRUE(b.push("vm1", packet(1), kT0).queued);
  b.erase("vm1");
  EXPECT_EQ(b.stats("vm1").packets, 0u);
  EXPECT_FALSE(b.push("vm1", packet(2), kT0).buffering);
}

TEST(VisitorBuffer, ReloadedLimitsApply) {
  VisitorBuffer b({4096, 1000ms});
  b.start("vm1");
  b.set_limits({50, 1000ms});
  EXPECT_TRUE(b.push("vm1", packet(1), kT0).queued);
  EXPECT_FALSE(b.push("vm1", packet(2), kT0).queued);
}

}  // namespace
}  // namespace vmroam::fa
