// PacketRecorder, HoldQueue and HandoverHold (common/dataplane/handover_hold.hpp): what is
// recovered at a stop, what is held, the bounds, the order packets come back in, and what the
// hold asks of its HoldPort (a FakeHoldPort plays the driver).
#include "common/dataplane/handover_hold.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "tests/fakes/fake_hold_port.hpp"

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
    for (std::uint8_t i = 0; i < 5; ++i)
      EXPECT_EQ(q.push(kHoa, packet(i, c.size)), i < c.kept) << c.description;
    EXPECT_EQ(q.queued(kHoa), c.kept) << c.description;
    EXPECT_EQ(q.overflowed(), 5 - c.kept) << c.description;
    auto out = q.release(kHoa);
    for (std::size_t i = 0; i < out.size(); ++i)
      EXPECT_EQ(out[i].at(0), i) << c.description << ": oldest kept";
  }
}

// ---- HandoverHold over a HoldPort ------------------------------------------------------------

// A 21-byte IPv4-ish packet to `dst` (what the fake port reads) ending in `tag`.
Bytes to(Ipv4 dst, std::uint8_t tag) {
  Bytes p(21, 0);
  p[0] = 0x45;
  for (int i = 0; i < 4; ++i) p[16 + i] = static_cast<std::uint8_t>(dst.value() >> (24 - 8 * i));
  p[20] = tag;
  return p;
}

std::vector<std::uint8_t> tags(const std::vector<Bytes>& packets) {
  std::vector<std::uint8_t> out;
  for (const auto& p : packets) out.push_back(p.back());
  return out;
}

TEST(HandoverHold, RecordHoldReleaseKeepsEveryPacketInOrder) {
  FakeHoldPort port;
  HandoverHold hold(port);
  ASSERT_TRUE(hold.record(kHoa));
  EXPECT_TRUE(port.tapped.contains(kHoa));
  EXPECT_TRUE(hold.recording(kHoa));
  // Tunnelled before the stop: sent, and copied.
  port.see(to(kHoa, 1), kT0);
  port.see(to(kHoa, 2), kT0 + milliseconds(10));
  port.see(to(kOther, 9), kT0 + milliseconds(10));
  port.see(to(kHoa, 3), kT0 + milliseconds(20));
  EXPECT_EQ(tags(port.sent), (std::vector<std::uint8_t>{1, 2, 9, 3}));
  // The stop at t0+10 ms: copies from then on, then what the home link saw.
  auto held = hold.hold(kHoa, kT0 + milliseconds(10), {to(kHoa, 4)});
  ASSERT_TRUE(held) << held.error().to_string();
  EXPECT_EQ(*held, 3u) << "copies 2 and 3, home-link copy 4";
  EXPECT_TRUE(port.diverted.contains(kHoa));
  EXPECT_FALSE(port.tapped.contains(kHoa)) << "recording ends with the hold";
  EXPECT_TRUE(hold.holding(kHoa));
  // Meanwhile the kernel routes more to the VM: held behind the copies, nothing sent.
  port.see(to(kHoa, 5));
  port.see(to(kOther, 8));
  EXPECT_EQ(tags(port.sent), (std::vector<std::uint8_t>{1, 2, 9, 3, 8}));
  EXPECT_EQ(hold.queued(kHoa), 4u);
  // Release: the divert ends first, then everything goes, in order.
  auto released = hold.release(kHoa);
  ASSERT_TRUE(released) << released.error().to_string();
  EXPECT_EQ(*released, 4u);
  EXPECT_EQ(tags(port.reinjected), (std::vector<std::uint8_t>{2, 3, 4, 5}));
  EXPECT_FALSE(port.diverted.contains(kHoa));
  EXPECT_EQ(port.calls.at(port.calls.size() - 5), "divert 10.1.0.10 off");
  EXPECT_FALSE(hold.holding(kHoa));
  EXPECT_EQ(hold.dropped(), 0u);
}

TEST(HandoverHold, HoldWithoutAStopTimeRecoversOnlyWhatItIsGiven) {
  FakeHoldPort port;
  HandoverHold hold(port);
  ASSERT_TRUE(hold.record(kHoa));
  port.see(to(kHoa, 1), kT0);
  auto held = hold.hold(kHoa, std::nullopt, {to(kHoa, 2)});
  ASSERT_TRUE(held);
  EXPECT_EQ(*held, 1u);
  // Holding again adds copies, diverts nothing twice.
  held = hold.hold(kHoa, std::nullopt, {to(kHoa, 3)});
  ASSERT_TRUE(held);
  EXPECT_EQ(std::count(port.calls.begin(), port.calls.end(), "divert 10.1.0.10 on"), 1);
  ASSERT_TRUE(hold.release(kHoa));
  EXPECT_EQ(tags(port.reinjected), (std::vector<std::uint8_t>{2, 3}));
}

TEST(HandoverHold, PortErrorsAreReportedAndHoldNothing) {
  FakeHoldPort port;
  HandoverHold hold(port);
  port.fail_next = "tap";
  EXPECT_FALSE(hold.record(kHoa));
  EXPECT_FALSE(hold.recording(kHoa));
  port.fail_next = "divert";
  auto held = hold.hold(kHoa, std::nullopt, {to(kHoa, 1)});
  ASSERT_FALSE(held);
  EXPECT_EQ(held.error().code, "fake_failure");
  EXPECT_FALSE(hold.holding(kHoa)) << "a failed divert holds nothing";
  auto released = hold.release(kHoa);
  ASSERT_FALSE(released);
  EXPECT_EQ(released.error().code, "not_holding");
  // An undivert that fails still lets the packets go, and says so.
  ASSERT_TRUE(hold.hold(kHoa, std::nullopt, {to(kHoa, 2)}));
  port.fail_next = "divert";
  released = hold.release(kHoa);
  ASSERT_FALSE(released);
  EXPECT_EQ(tags(port.reinjected), std::vector<std::uint8_t>{2});
  EXPECT_FALSE(hold.holding(kHoa));
}

TEST(HandoverHold, AFullQueueDropsTheNewestAndCountsIt) {
  FakeHoldPort port;
  HandoverHold hold(port, HandoverHold::Limits{{}, {2, 1000}});
  ASSERT_TRUE(hold.hold(kHoa, std::nullopt, {to(kHoa, 1)}));
  port.see(to(kHoa, 2));
  port.see(to(kHoa, 3));
  EXPECT_EQ(hold.dropped(), 1u);
  ASSERT_TRUE(hold.release(kHoa));
  EXPECT_EQ(tags(port.reinjected), (std::vector<std::uint8_t>{1, 2}));
}

TEST(HandoverHold, APacketDivertedAfterTheReleaseGoesStraightOn) {
  FakeHoldPort port;
  HandoverHold hold(port);
  ASSERT_TRUE(hold.hold(kHoa, std::nullopt, {to(kHoa, 1)}));
  ASSERT_TRUE(hold.release(kHoa));
  // A port that drains its divert queue asynchronously (the eBPF design) may hand one over late.
  ASSERT_TRUE(port.sink);
  port.sink(HoldPort::Seen::diverted, kHoa, kT0, to(kHoa, 2));
  EXPECT_EQ(tags(port.reinjected), (std::vector<std::uint8_t>{1, 2}));
}

TEST(HandoverHold, DestructionReleasesAndUntapsEverything) {
  FakeHoldPort port;
  {
    HandoverHold hold(port);
    ASSERT_TRUE(hold.record(kOther));
    ASSERT_TRUE(hold.hold(kHoa, std::nullopt, {to(kHoa, 1)}));
  }
  EXPECT_TRUE(port.diverted.empty());
  EXPECT_TRUE(port.tapped.empty());
  EXPECT_EQ(tags(port.reinjected), std::vector<std::uint8_t>{1});
  EXPECT_FALSE(port.sink) << "the sink is given back";
}

}  // namespace
}  // namespace vmroam::dataplane
