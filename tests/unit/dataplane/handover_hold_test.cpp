// PacketRecorder and HoldQueue (common/dataplane/handover_hold.hpp): what is recovered at a
// stop, what is held, the bounds, and the order packets come back in.
#include "common/dataplane/handover_hold.hpp"

#include <gtest/gtest.h>

#include <string>

namespace vmroam::dataplane {
namespace {

using std::chrono::milliseconds;

const Ipv4 kHoa(0x0a01000a);    // 10.1.0.10
const Ipv4 kOther(0x0a01000b);  // 10.1.0.11
const WallTime kT0{std::chrono::seconds(1'700'000'000)};

Bytes packet(std::uint8_t tag, std::size_t size = 4) { return Bytes(size, tag); }

TEST(PacketRecorder, TakeSinceReturnsWhatWasSentAtOrAfterTheStop) {
  struct Case {
    std::string description;
    milliseconds since;
    std::vector<std::uint8_t> expected;  // tags, oldest first
  };
  const std::vector<Case> cases = {
      {"before everything: all of it", milliseconds(-1), {1, 2, 3}},
      {"exactly at the second: it and later", milliseconds(10), {2, 3}},
      {"between: only the later", milliseconds(11), {3}},
      {"after everything: nothing", milliseconds(21), {}},
  };
  for (const auto& c : cases) {
    PacketRecorder r;
    r.watch(kHoa);
    r.record(kHoa, kT0, packet(1));
    r.record(kHoa, kT0 + milliseconds(10), packet(2));
    r.record(kHoa, kT0 + milliseconds(20), packet(3));
    auto got = r.take_since(kHoa, kT0 + c.since);
    std::vector<std::uint8_t> tags;
    for (const auto& p : got) tags.push_back(p.at(0));
    EXPECT_EQ(tags, c.expected) << c.description;
    EXPECT_EQ(r.recorded(kHoa), 0u) << c.description << ": taking empties the ring";
    EXPECT_TRUE(r.watching(kHoa)) << c.description;
  }
}

TEST(PacketRecorder, KeepsOnlyWatchedAddresses) {
  PacketRecorder r;
  EXPECT_TRUE(r.empty());
  r.watch(kHoa);
  r.record(kOther, kT0, packet(1));
  r.record(kHoa, kT0, packet(2));
  EXPECT_EQ(r.recorded(kOther), 0u);
  EXPECT_EQ(r.recorded(kHoa), 1u);
  EXPECT_TRUE(r.take_since(kOther, kT0).empty());
  r.unwatch(kHoa);
  EXPECT_TRUE(r.empty());
  r.record(kHoa, kT0, packet(3));
  EXPECT_EQ(r.recorded(kHoa), 0u);
}

TEST(PacketRecorder, ForgetsWhatIsOlderThanTheWindowAndBeyondTheByteBound) {
  PacketRecorder r(PacketRecorder::Limits{milliseconds(100), 10});
  r.watch(kHoa);
  r.record(kHoa, kT0, packet(1, 4));
  r.record(kHoa, kT0 + milliseconds(50), packet(2, 4));
  EXPECT_EQ(r.recorded(kHoa), 2u);
  r.record(kHoa, kT0 + milliseconds(120), packet(3, 4));  // 1 falls out of the window
  EXPECT_EQ(r.recorded(kHoa), 2u);
  r.record(kHoa, kT0 + milliseconds(121), packet(4, 4));  // 12 bytes > 10: 2 goes
  auto got = r.take_since(kHoa, kT0);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].at(0), 3);
  EXPECT_EQ(got[1].at(0), 4);
}

TEST(HoldQueue, QueuesOnlyHeldAddressesAndReleasesInOrder) {
  HoldQueue q;
  EXPECT_FALSE(q.push(kHoa, packet(1))) << "not held yet";
  q.hold(kHoa);
  EXPECT_TRUE(q.holding(kHoa));
  EXPECT_FALSE(q.holding(kOther));
  for (std::uint8_t i = 1; i <= 3; ++i) EXPECT_TRUE(q.push(kHoa, packet(i)));
  EXPECT_EQ(q.queued(kHoa), 3u);
  auto out = q.release(kHoa);
  ASSERT_EQ(out.size(), 3u);
  for (std::uint8_t i = 0; i < 3; ++i) EXPECT_EQ(out[i].at(0), i + 1);
  EXPECT_FALSE(q.holding(kHoa));
  EXPECT_TRUE(q.empty());
  EXPECT_TRUE(q.release(kHoa).empty()) << "releasing twice gives nothing";
}

TEST(HoldQueue, TailDropsBeyondItsBoundsAndCountsIt) {
  struct Case {
    std::string description;
    HoldQueue::Limits limits;
    std::size_t size;
    std::size_t kept;
  };
  const std::vector<Case> cases = {
      {"packet bound", {3, 1000}, 10, 3},
      {"byte bound", {100, 25}, 10, 2},
      {"a packet bigger than the whole bound", {100, 5}, 10, 0},
  };
  for (const auto& c : cases) {
    HoldQueue q(c.limits);
    q.hold(kHoa);
    for (std::uint8_t i = 0; i < 5; ++i) (void)q.push(kHoa, packet(i, c.size));
    EXPECT_EQ(q.queued(kHoa), c.kept) << c.description;
    EXPECT_EQ(q.overflowed(), 5 - c.kept) << c.description;
    auto out = q.release(kHoa);
    for (std::size_t i = 0; i < out.size(); ++i)
      EXPECT_EQ(out[i].at(0), i) << c.description << ": oldest kept";
  }
}

}  // namespace
}  // namespace vmroam::dataplane
