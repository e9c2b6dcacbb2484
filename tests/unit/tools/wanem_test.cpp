// Unit tests of vmroam-wanem's pure parts: argument parsing, the link model (loss, jitter,
// order, rate) with a scripted random source, the timed queue and one direction's counters.
#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

#include "tools/wanem/direction.hpp"
#include "tools/wanem/link_model.hpp"
#include "tools/wanem/options.hpp"
#include "tools/wanem/timed_queue.hpp"

namespace vmroam::wanem {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

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

const TimePoint kT0 = TimePoint{} + seconds(100);

Result<Options> parse(std::vector<std::string> words) {
  std::vector<std::string_view> views(words.begin(), words.end());
  return parse_options(views);
}

TEST(ParseDuration, Table) {
  struct Case {
    const char* description;
    const char* input;
    bool ok;
    Duration expected;
  };
  const Case cases[] = {
      {"milliseconds", "4ms", true, milliseconds(4)},
      {"microseconds", "500us", true, microseconds(500)},
      {"fractional seconds", "1.5s", true, milliseconds(1500)},
      {"fractional milliseconds", "0.25ms", true, microseconds(250)},
      {"nanoseconds", "10ns", true, nanoseconds(10)},
      {"bare zero", "0", true, Duration{0}},
      {"zero with unit", "0ms", true, Duration{0}},
      {"number without unit", "4", false, {}},
      {"unknown unit", "4q", false, {}},
      {"negative", "-1ms", false, {}},
      {"empty", "", false, {}},
      {"longer than an hour", "3601s", false, {}},
  };
  for (const auto& c : cases) {
    auto r = parse_duration(c.input);
    ASSERT_EQ(r.has_value(), c.ok) << c.description;
    if (c.ok) {
      EXPECT_EQ(*r, c.expected) << c.description;
    }
    if (!c.ok) {
      EXPECT_EQ(r.error().code, "bad_duration") << c.description;
    }
  }
}

TEST(ParsePercentRateSize, Table) {
  struct Case {
    const char* description;
    const char* input;
    double percent;  // < 0: error expected
  };
  const Case percents[] = {{"with sign", "10%", 0.10}, {"bare", "10", 0.10},     {"fraction", "0.5%", 0.005},
                           {"zero", "0%", 0.0},        {"hundred", "100%", 1.0}, {"over", "101%", -1},
                           {"junk", "x", -1},          {"suffix", "10%%", -1}};
  for (const auto& c : percents) {
    auto r = parse_percent(c.input);
    ASSERT_EQ(r.has_value(), c.percent >= 0) << c.description;
    if (r) {
      EXPECT_DOUBLE_EQ(*r, c.percent) << c.description;
    }
  }

  EXPECT_EQ(*parse_rate("100mbit"), 100'000'000u);
  EXPECT_EQ(*parse_rate("1gbit"), 1'000'000'000u);
  EXPECT_EQ(*parse_rate("500kbit"), 500'000u);
  EXPECT_EQ(*parse_rate("2.5mbit"), 2'500'000u);
  EXPECT_EQ(parse_rate("10mb/s").error().code, "bad_rate");

  EXPECT_EQ(*parse_size("64k"), 65536u);
  EXPECT_EQ(*parse_size("16m"), 16u << 20);
  EXPECT_EQ(*parse_size("1000"), 1000u);
  EXPECT_EQ(parse_size("0").error().code, "bad_size");
  EXPECT_EQ(parse_size("5q").error().code, "bad_size");
}

TEST(ParseOptions, FullCommandLine) {
  auto o = parse({"--a",         "w0",
                  "--b=q0",      "--delay",
                  "4ms",         "--delay-ba",
                  "2ms",         "--jitter",
                  "1ms",         "--loss",
                  "10%",         "--loss-ba",
                  "0",           "--seed",
                  "42",          "--queue-limit",
                  "1m",          "--queue-packets",
                  "100",         "--rate",
                  "100mbit",     "--stats-interval",
                  "0.5",         "--json-stats",
                  "/tmp/s.json", "--allow-reorder",
                  "--realtime"});
  ASSERT_TRUE(o) << o.error().to_string();
  EXPECT_EQ(o->action, Options::Action::run);
  EXPECT_EQ(o->a, "w0");
  EXPECT_EQ(o->b, "q0");
  EXPECT_EQ(o->ab, (DirectionConfig{milliseconds(4), milliseconds(1), 0.10, 100'000'000}));
  // The -ba options override; the others mirror the a→b side.
  EXPECT_EQ(o->ba, (DirectionConfig{milliseconds(2), milliseconds(1), 0.0, 100'000'000}));
  EXPECT_EQ(o->seed, std::optional<std::uint64_t>(42));
  EXPECT_EQ(o->queue_limit_bytes, 1u << 20);
  EXPECT_EQ(o->queue_limit_packets, 100u);
  EXPECT_EQ(o->stats_interval, milliseconds(500));
  EXPECT_EQ(o->json_stats, "/tmp/s.json");
  EXPECT_TRUE(o->allow_reorder);
  EXPECT_TRUE(o->realtime);
}

TEST(ParseOptions, DefaultsMirrorDelay) {
  auto o = parse({"--a", "x", "--b", "y", "--delay", "4ms"});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->ab, o->ba);
  EXPECT_EQ(o->ba.delay, milliseconds(4));
  EXPECT_FALSE(o->seed.has_value());
  EXPECT_FALSE(o->allow_reorder);
}

TEST(ParseOptions, HelpAndVersion) {
  EXPECT_EQ(parse({"--help"})->action, Options::Action::help);
  EXPECT_EQ(parse({"--a", "x", "--version"})->action, Options::Action::version);
  EXPECT_NE(usage().find("--delay-ba"), std::string::npos);
}

TEST(ParseOptions, ErrorsNameTheArgument) {
  struct Case {
    const char* description;
    std::vector<std::string> args;
    std::string_view code;
    const char* names;  // must appear in the error context
  };
  const Case cases[] = {
      {"no --a", {"--b", "y", "--delay", "1ms"}, "missing_argument", "--a"},
      {"no --b", {"--a", "x", "--delay", "1ms"}, "missing_argument", "--b"},
      {"no --delay", {"--a", "x", "--b", "y"}, "missing_argument", "--delay"},
      {"same interface", {"--a", "x", "--b", "x", "--delay", "1ms"}, "bad_interface", "--a"},
      {"bad delay", {"--a", "x", "--b", "y", "--delay", "4"}, "bad_duration", "--delay"},
      {"bad delay-ba",
       {"--a", "x", "--b", "y", "--delay", "1ms", "--delay-ba", "zz"},
       "bad_duration",
       "--delay-ba"},
      {"bad loss", {"--a", "x", "--b", "y", "--delay", "1ms", "--loss", "200%"}, "bad_percent", "--loss"},
      {"bad seed", {"--a", "x", "--b", "y", "--delay", "1ms", "--seed", "-3"}, "bad_seed", "--seed"},
      {"bad rate", {"--a", "x", "--b", "y", "--delay", "1ms", "--rate", "fast"}, "bad_rate", "--rate"},
      {"jitter above delay",
       {"--a", "x", "--b", "y", "--delay", "1ms", "--jitter", "2ms"},
       "bad_duration",
       "--jitter"},
      {"missing value", {"--a", "x", "--b", "y", "--delay"}, "missing_value", "--delay"},
      {"value is an option", {"--a", "--b", "y", "--delay", "1ms"}, "missing_value", "--a"},
      {"unknown option",
       {"--a", "x", "--b", "y", "--delay", "1ms", "--bogus", "1"},
       "bad_argument",
       "--bogus"},
      {"positional", {"eth0"}, "bad_argument", "eth0"},
      {"interface name too long",
       {"--a", "abcdefghijklmnopq", "--b", "y", "--delay", "1ms"},
       "bad_interface",
       "--a"},
      {"stats interval too short",
       {"--a", "x", "--b", "y", "--delay", "1ms", "--stats-interval", "0.001"},
       "bad_duration",
       "--stats-interval"},
  };
  for (const auto& c : cases) {
    auto r = parse(c.args);
    ASSERT_FALSE(r) << c.description;
    EXPECT_EQ(r.error().code, c.code) << c.description << ": " << r.error().to_string();
    EXPECT_NE(r.error().context.find(c.names), std::string::npos)
        << c.description << ": " << r.error().to_string();
  }
}

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
