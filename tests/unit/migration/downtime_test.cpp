// The downtime rule (migration/downtime.hpp): the start value from the target pause and the
// path's RTT, and the stepwise raise without convergence.
#include "migration/downtime.hpp"

#include <gtest/gtest.h>

namespace vmroam::migration {
namespace {

const DowntimeConfig kTarget30{.target_pause_ms = 30};

TEST(Downtime, StartValue) {
  struct Case {
    const char* description;
    DowntimeConfig cfg;
    bool honest;
    std::optional<std::uint32_t> rtt_us;
    std::optional<std::uint64_t> limit;
    const char* why_contains;
  };
  const std::vector<Case> cases = {
      {"honest, measured 8.5 ms RTT: 30 - 9", kTarget30, true, 8'500, 21, "(measured: TCP handshake)"},
      {"honest, --path-rtt wins over the measurement",
       {.target_pause_ms = 30, .path_rtt_ms = 8},
       true,
       20'000,
       22,
       "(--path-rtt)"},
      {"honest, RTT unknown: counted as 0", kTarget30, true, std::nullopt, 30, "unknown"},
      {"honest, RTT beyond the target: the floor", kTarget30, true, 40'000, 5, "bounded to 5 ms"},
      {"honest, a large target: QEMU's default at most",
       {.target_pause_ms = 900},
       true,
       1'000,
       300,
       "bounded"},
      {"--downtime-limit wins", {.limit_ms = 50}, true, 8'000, 50, "--downtime-limit"},
      {"--downtime-limit with qemu bandwidth", {.limit_ms = 50}, false, std::nullopt, 50, "--downtime-limit"},
      {"qemu bandwidth: QEMU's default", kTarget30, false, 8'000, std::nullopt, ""},
      {"no target (the default): QEMU's default", {}, true, 8'000, std::nullopt, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    const auto d = initial_downtime(c.cfg, c.honest, c.rtt_us);
    ASSERT_EQ(d.has_value(), c.limit.has_value());
    if (!d) continue;
    EXPECT_EQ(d->limit_ms, *c.limit);
    EXPECT_NE(d->why.find(c.why_contains), std::string::npos) << d->why;
  }
}

// Readings (passes, seconds) → the limits raised, in order.
TEST(Downtime, RaisedStepwiseWithoutConvergence) {
  struct Case {
    const char* description;
    std::uint64_t start;
    std::vector<std::pair<std::int64_t, double>> readings;
    std::vector<std::uint64_t> raised;
  };
  const std::vector<Case> cases = {
      {"the first pass never counts, however long", 22, {{1, 0}, {1, 40}, {1, 80}}, {}},
      {"converging passes: nothing", 22, {{1, 0}, {2, 40}, {3, 41}, {4, 42}}, {}},
      {"5 passes after the first: doubled", 22, {{2, 40}, {4, 41}, {7, 42}}, {44}},
      {"10 s in pass 2: doubled", 22, {{2, 40}, {2, 49.9}, {2, 50.0}}, {44}},
      {"stepwise up to QEMU's default, then never again",
       22,
       {{2, 0}, {7, 1}, {12, 2}, {17, 3}, {22, 4}, {27, 5}, {40, 30}},
       {44, 88, 176, 300}},
      {"the count restarts at each raise", 22, {{2, 0}, {7, 1}, {11, 2}, {12, 3}}, {44, 88}},
      {"QEMU's default itself is never raised", 300, {{2, 0}, {20, 100}}, {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    DowntimeConfig cfg;
    DowntimeFallback fb{.limit_ms = c.start};
    std::vector<std::uint64_t> raised;
    for (auto [passes, t] : c.readings)
      if (auto d = next_downtime(cfg, fb, passes, t)) {
        raised.push_back(d->limit_ms);
        EXPECT_NE(d->why.find("raised to"), std::string::npos) << d->why;
      }
    EXPECT_EQ(raised, c.raised);
    EXPECT_EQ(fb.raises, static_cast<int>(c.raised.size()));
  }
}

TEST(Downtime, ReportSaysWhichLimitAndWhy) {
  DowntimeReport r;
  EXPECT_EQ(r.render(), "QEMU's default (300 ms): not set by the driver; raised 0 times");
  r.limit_ms = 44;
  r.start_ms = 22;
  r.why = "not converged after 5 passes / 1000 ms at 22 ms: raised to 44 ms";
  r.raises = 1;
  EXPECT_EQ(r.render(), "44 ms (started at 22 ms): " + r.why + "; raised 1 time");
  const auto j = r.to_json();
  EXPECT_EQ(j["limit_ms"], 44);
  EXPECT_EQ(j["start_ms"], 22);
  EXPECT_EQ(j["raises"], 1);
}

}  // namespace
}  // namespace vmroam::migration
