// The honest-bandwidth model (migration/bandwidth.hpp): the link-rate estimate from TCP_INFO
// samples and the max-bandwidth decisions, table by table.
#include "migration/bandwidth.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace vmroam::migration {
namespace {

constexpr std::uint64_t kMB = 1'000'000;

TcpSample at(double t, std::uint64_t rate, bool app_limited = false, std::uint64_t acked = 0) {
  TcpSample s;
  s.t_s = t;
  s.delivery_rate = rate;
  s.app_limited = app_limited;
  s.bytes_acked = acked;
  return s;
}

TEST(LinkRateEstimator, MedianOfTheWindowsSamplesThatAreNotAppLimited) {
  BandwidthConfig cfg;
  cfg.min_samples = 4;
  LinkRateEstimator e(cfg);
  EXPECT_FALSE(e.rate());
  // QEMU idle (zero pages, its own limit): application-limited samples say nothing of the link.
  for (int i = 0; i < 6; ++i) e.add(at(0.1 * i, 3 * kMB, true));
  EXPECT_FALSE(e.rate());
  EXPECT_EQ(e.usable_samples(), 0U);
  // Link-limited samples, one outlier each way: the median ignores both.
  const std::vector<std::uint64_t> rates{12 * kMB, 11 * kMB, 40 * kMB, 12 * kMB, 1 * kMB};
  for (std::size_t i = 0; i < rates.size(); ++i) e.add(at(0.6 + 0.1 * static_cast<double>(i), rates[i]));
  ASSERT_TRUE(e.rate());
  EXPECT_EQ(*e.rate(), 12 * kMB);
  EXPECT_EQ(e.usable_samples(), 5U);
}

TEST(LinkRateEstimator, ForgetsSamplesOlderThanTheWindow) {
  BandwidthConfig cfg;
  cfg.window_s = 1.0;
  cfg.min_samples = 4;
  LinkRateEstimator e(cfg);
  for (int i = 0; i < 10; ++i) e.add(at(0.1 * i, 12 * kMB));
  // The link slows to 6 MB/s: after a window only the new rate counts.
  for (int i = 0; i < 11; ++i) e.add(at(2.0 + 0.1 * i, 6 * kMB));
  EXPECT_EQ(*e.rate(), 6 * kMB);
}

TEST(LinkRateEstimator, GoodputIsBytesAcknowledgedPerSecond) {
  BandwidthConfig cfg;
  LinkRateEstimator e(cfg);
  e.add(at(0.0, 0, false, 1000));
  EXPECT_FALSE(e.goodput());
  e.add(at(0.5, 0, false, 1000 + 6 * kMB));
  ASSERT_TRUE(e.goodput());
  EXPECT_EQ(*e.goodput(), 12 * kMB);
}

TEST(DecideBandwidth, Table) {
  struct Case {
    const char* description;
    BandwidthMode mode;
    std::optional<std::uint64_t> link_rate, current, measured;
    std::optional<std::uint64_t> expect;  // nullopt: no change
  };
  const std::uint64_t qemu_default = 128ULL << 20;
  const std::vector<Case> cases = {
      {"qemu mode never sets anything", BandwidthMode::qemu, 12 * kMB, std::nullopt, 6 * kMB, std::nullopt},
      {"nothing known: QEMU's default stays", BandwidthMode::honest, std::nullopt, std::nullopt, std::nullopt,
       std::nullopt},
      {"--link-rate alone: 95% of it at the start", BandwidthMode::honest, 12 * kMB, std::nullopt,
       std::nullopt, 11'400'000},
      {"--link-rate once set: not again without a measurement", BandwidthMode::honest, 12 * kMB, 11'400'000,
       std::nullopt, std::nullopt},
      {"the link is the bottleneck under QEMU's default: 95% of it", BandwidthMode::honest, std::nullopt,
       std::nullopt, 12 * kMB, 11'400'000},
      {"QEMU's own default is the bottleneck (fast link): left alone", BandwidthMode::honest, std::nullopt,
       std::nullopt, qemu_default - kMB, std::nullopt},
      {"measured at the setting (QEMU limits, honest): no change", BandwidthMode::honest, std::nullopt,
       11'400'000, 11'400'000, std::nullopt},
      {"measured a little under the setting: hysteresis, no change", BandwidthMode::honest, std::nullopt,
       11'400'000, 10'500'000, std::nullopt},
      {"the link slowed clearly: lowered", BandwidthMode::honest, std::nullopt, 11'400'000, 6 * kMB,
       5'700'000},
      {"the link got clearly faster: raised", BandwidthMode::honest, std::nullopt, 5'700'000, 12 * kMB,
       11'400'000},
      {"a few per cent more (a shaper's burst in the samples): not raised", BandwidthMode::honest,
       std::nullopt, 11'400'000, 12'600'000, std::nullopt},
      {"measured above --link-rate: the configured rate caps it", BandwidthMode::honest, 10 * kMB,
       std::nullopt, 12 * kMB, 9'500'000},
      {"measured below --link-rate: the measurement wins", BandwidthMode::honest, 12 * kMB, 11'400'000,
       6 * kMB, 5'700'000},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    BandwidthConfig cfg;
    cfg.mode = c.mode;
    cfg.link_rate = c.link_rate;
    auto d = decide_bandwidth(cfg, c.current, c.measured);
    ASSERT_EQ(d.has_value(), c.expect.has_value()) << (d ? d->why : "no decision");
    if (!d) continue;
    EXPECT_EQ(d->max_bandwidth, *c.expect);
    EXPECT_FALSE(d->why.empty());
  }
}

// Disk mirrors beside RAM (--copy-storage): RAM gets 7/8 of the link's rate, the disks the
// rest, so that the two together stay under the link and QEMU's estimate stays honest.
TEST(DecideBandwidth, DisksShareTheLink) {
  BandwidthConfig cfg;
  cfg.ram_share = 7.0 / 8.0;
  cfg.link_rate = 16 * kMB;
  auto d = decide_bandwidth(cfg, std::nullopt, std::nullopt);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->max_bandwidth, 13'300'000U) << "95% of 7/8 of 16 MB/s";
  EXPECT_EQ(d->link_rate, 16 * kMB);
  EXPECT_NE(d->why.find("disk mirrors"), std::string::npos) << d->why;
  EXPECT_EQ(disk_share_of(cfg, 16 * kMB), 2 * kMB);
  cfg.link_rate.reset();
  d = decide_bandwidth(cfg, std::nullopt, 16 * kMB);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->max_bandwidth, 13'300'000U);
  EXPECT_FALSE(decide_bandwidth(cfg, 13'300'000, 16 * kMB)) << "RAM's part measured at its setting: stable";
  EXPECT_FALSE(decide_bandwidth(cfg, 13'300'000, 15 * kMB)) << "within the margin of RAM's part";
  d = decide_bandwidth(cfg, 13'300'000, 8 * kMB);
  ASSERT_TRUE(d) << "RAM's part of a slower link is clearly under the setting";
  EXPECT_EQ(d->max_bandwidth, 6'650'000U);
  EXPECT_EQ(disk_share_of(BandwidthConfig{}, 16 * kMB), 0U) << "alone, RAM has the whole link";
}

// A setting at 95% of the link, measured again at 95% (QEMU's limit now binds): stable, no
// ratchet downwards.
TEST(DecideBandwidth, SettlesInsteadOfRatchetingDown) {
  BandwidthConfig cfg;
  std::optional<std::uint64_t> current;
  std::uint64_t link = 12 * kMB;
  int changes = 0;
  for (int round = 0; round < 20; ++round) {
    const std::uint64_t seen = current ? std::min(link, *current) : link;
    if (auto d = decide_bandwidth(cfg, current, seen)) {
      current = d->max_bandwidth;
      ++changes;
    }
  }
  EXPECT_EQ(changes, 1);
  EXPECT_EQ(*current, 11'400'000U);
}

TEST(BandwidthReport, JsonAndTextNameTheRateAndWhy) {
  BandwidthReport r;
  r.mode = "honest";
  r.source = "measured (TCP_INFO of the driver's migration socket)";
  r.link_rate = 12 * kMB;
  r.max_bandwidth = 11'400'000;
  r.why = "95% of the link's 12.00 MB/s";
  r.qemu_estimate_at_stop = 11 * kMB;
  auto j = r.to_json();
  EXPECT_EQ(j["mode"], "honest");
  EXPECT_EQ(j["max_bandwidth_bytes_per_s"], 11'400'000);
  EXPECT_EQ(j["link_rate_bytes_per_s"], 12 * kMB);
  EXPECT_TRUE(j["measured_rate_bytes_per_s"].is_null());
  EXPECT_EQ(j["qemu_estimate_at_stop_bytes_per_s"], 11 * kMB);
  const auto text = r.render();
  EXPECT_NE(text.find("11.40 MB/s (91.2 Mbit/s)"), std::string::npos) << text;
  EXPECT_NE(text.find("95% of the link"), std::string::npos) << text;
  EXPECT_NE(text.find("QEMU's estimate at the stop 11.00 MB/s"), std::string::npos) << text;
}

// The socket's budget once the link is known: 1.25 bandwidth-delay products at the min RTT,
// bounded, and 16 KiB unsent.
TEST(SocketBudget, FromRateAndMinRtt) {
  struct Case {
    const char* description;
    std::optional<std::uint64_t> rate;
    std::uint32_t min_rtt_us;
    std::optional<std::uint32_t> sndbuf;
  };
  const std::vector<Case> cases = {
      {"100 Mbit/s at 8.8 ms: 110 KB x 1.25", 12'500'000, 8'800, 137'500},
      {"1 Gbit/s at 40 ms: 5 MB x 1.25", 125'000'000, 40'000, 6'250'000},
      {"a LAN: the floor", 125'000'000, 100, kSocketBudgetMin},
      {"10 Gbit/s across a continent: the ceiling", 1'250'000'000, 80'000, kSocketBudgetMax},
      {"rate unknown", std::nullopt, 8'800, std::nullopt},
      {"min RTT unknown", 12'500'000, 0, std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    auto b = socket_budget(c.rate, c.min_rtt_us);
    ASSERT_EQ(b.has_value(), c.sndbuf.has_value());
    if (!b) continue;
    EXPECT_EQ(b->sndbuf, *c.sndbuf);
    EXPECT_EQ(b->notsent_lowat, kNotsentLowat);
  }
}

TEST(SocketBudget, OnlyAChangeOfMoreThanAFifthIsApplied) {
  const SocketBudget now{100'000, kNotsentLowat};
  EXPECT_TRUE(socket_budget_changed(std::nullopt, now));
  EXPECT_FALSE(socket_budget_changed(now, SocketBudget{119'000, kNotsentLowat}));
  EXPECT_FALSE(socket_budget_changed(now, SocketBudget{84'000, kNotsentLowat}));
  EXPECT_TRUE(socket_budget_changed(now, SocketBudget{121'000, kNotsentLowat}));
  EXPECT_TRUE(socket_budget_changed(now, SocketBudget{80'000, kNotsentLowat}));
  EXPECT_TRUE(socket_budget_changed(now, SocketBudget{100'000, 32 * 1024}));
}

}  // namespace
}  // namespace vmroam::migration
