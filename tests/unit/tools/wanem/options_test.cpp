// tools/wanem/options: vmroam-wanem's argument parser: durations, percentages, rates and
// sizes as tables, a full command line, defaults, and errors that name the argument.
#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <string>
#include <vector>

#include "tools/wanem/options.hpp"

namespace vmroam::wanem {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

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

}  // namespace
}  // namespace vmroam::wanem
