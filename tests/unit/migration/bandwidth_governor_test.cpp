// BandwidthGovernor against a scripted QEMU (fake_qemu.hpp) and scripted TCP_INFO readings:
// what it sets, when, and what it reports; and the switchover's use of it.
#include "migration/bandwidth_governor.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <deque>

#include "fake_qemu.hpp"
#include "migration/tcp_info.hpp"

namespace vmroam::migration {
namespace {

using qmp::Json;
using qmp::QmpClient;
using qmp::testing::FakeQemu;
using qmp::testing::run_until;
using std::chrono::milliseconds;

constexpr std::uint64_t kMB = 1'000'000;

struct Rig {
  boost::asio::io_context io;
  FakeQemu src{io, "source"};
  std::unique_ptr<QmpClient> client;
  SystemClock clock;
  double qemu_mbps = 400;  // what query-migrate says QEMU's window estimate is (Mbit/s)

  Rig() {
    client = std::make_unique<QmpClient>(src.client_transport(), "source");
    bool started = false;
    client->start([&](Result<qmp::Greeting> g) { started = g.has_value(); });
    run_until(io, [&] { return started; });
    src.on_command = [this](const FakeQemu::Received& r) {
      if (r.name == "query-migrate")
        return src.reply(r.id,
                         Json{{"status", "active"},
                              {"ram", {{"mbps", qemu_mbps}, {"remaining", 3 * kMB}, {"transferred", 1}}}});
      src.reply(r.id, Json::object());
    };
  }

  std::vector<std::uint64_t> bandwidths_sent() const {
    std::vector<std::uint64_t> v;
    for (const auto& r : src.received)
      if (r.name == "migrate-set-parameters" && r.args.contains("max-bandwidth"))
        v.push_back(r.args["max-bandwidth"].get<std::uint64_t>());
    return v;
  }
};

// A link that delivers 12 MB/s: every reading acknowledges 60 kB more and reports `shape`'s
// RTTs and socket contents; `readings` counts the readings.
BandwidthGovernor::Sampler link_at_12_mb(int& readings, TcpSample shape) {
  return [&readings, shape, acked = std::uint64_t{0}]() mutable -> Result<TcpSample> {
    ++readings;
    acked += 60'000;
    TcpSample s = shape;
    s.bytes_acked = acked;
    s.delivery_rate = 12 * kMB;
    return s;
  };
}

// The link carries 12 MB/s while QEMU's default lets it write far more: after enough samples
// the governor sets 95% of the link, once, and reports QEMU's estimate beside the link's.
TEST(BandwidthGovernor, HonestSetsJustUnderTheMeasuredLinkRate) {
  Rig rig;
  BandwidthGovernor g(rig.io, *rig.client, BandwidthConfig{}, rig.clock, milliseconds(5));
  int readings = 0;
  g.set_sampler(link_at_12_mb(readings, TcpSample{.rtt_us = 8000}));
  std::vector<std::string> notes;
  g.set_change_handler([&](const std::string& n) { notes.push_back(n); });
  EXPECT_FALSE(g.initial_max_bandwidth(std::nullopt));
  g.start();
  ASSERT_TRUE(run_until(rig.io, [&] { return readings >= 20; }));
  g.stop();
  EXPECT_EQ(rig.bandwidths_sent(), std::vector<std::uint64_t>{11'400'000});
  ASSERT_EQ(notes.size(), 1U);
  EXPECT_NE(notes[0].find("max-bandwidth 11.40 MB/s"), std::string::npos) << notes[0];
  const auto r = g.report();
  EXPECT_EQ(r.mode, "honest");
  EXPECT_EQ(r.max_bandwidth, 11'400'000U);
  EXPECT_EQ(r.link_rate, 12 * kMB);
  EXPECT_EQ(r.measured_rate, 12 * kMB);
  EXPECT_EQ(r.changes, 1);
  ASSERT_TRUE(r.qemu_estimate_at_stop);
  EXPECT_EQ(*r.qemu_estimate_at_stop, 50 * kMB);  // 400 Mbit/s
  EXPECT_EQ(r.rtt_us, 8000U);
  // Stopped: no more readings, no more commands (once what was in flight has arrived).
  const int before = readings;
  run_until(
      rig.io, [] { return false; }, milliseconds(20));
  const auto sent = rig.src.received.size();
  run_until(
      rig.io, [] { return false; }, milliseconds(40));
  EXPECT_EQ(readings, before);
  EXPECT_EQ(rig.src.received.size(), sent);
}

// Honest mode sizes the socket once the link's rate and the path's min RTT are known (one
// setsockopt while the figures hold), and the STOP's reading of the socket is reported; qemu
// mode leaves the socket alone; a sizer that fails is not retried.
TEST(BandwidthGovernor, HonestSizesTheSocketToTheBandwidthDelayProduct) {
  for (const auto mode : {BandwidthMode::honest, BandwidthMode::qemu}) {
    SCOPED_TRACE(mode == BandwidthMode::honest ? "honest" : "qemu");
    Rig rig;
    BandwidthConfig cfg;
    cfg.mode = mode;
    BandwidthGovernor g(rig.io, *rig.client, cfg, rig.clock, milliseconds(5));
    int readings = 0;
    g.set_sampler(link_at_12_mb(
        readings,
        TcpSample{.rtt_us = 15'000, .notsent_bytes = 4'000, .unacked_bytes = 90'000, .min_rtt_us = 8'000}));
    std::vector<SocketBudget> applied;
    g.set_socket_sizer([&](const SocketBudget& b) -> Result<void> {
      applied.push_back(b);
      return ok();
    });
    g.start();
    ASSERT_TRUE(run_until(rig.io, [&] { return readings >= 20; }));
    g.stop();
    const auto r = g.report();
    EXPECT_EQ(r.notsent_at_stop, 4'000U);
    EXPECT_EQ(r.unacked_at_stop, 90'000U);
    EXPECT_EQ(r.rtt_at_stop_us, 15'000U);
    if (mode == BandwidthMode::qemu) {
      EXPECT_TRUE(applied.empty());
      EXPECT_FALSE(r.socket);
      continue;
    }
    // 12 MB/s × 8 ms × 1.25
    ASSERT_EQ(applied.size(), 1U);
    EXPECT_EQ(applied[0], (SocketBudget{120'000, kNotsentLowat}));
    ASSERT_TRUE(r.socket);
    EXPECT_EQ(r.to_json()["socket_sndbuf_bytes"], 120'000);
  }
}

TEST(BandwidthGovernor, ASizerThatFailsIsNotRetried) {
  Rig rig;
  BandwidthGovernor g(rig.io, *rig.client, BandwidthConfig{}, rig.clock, milliseconds(5));
  int readings = 0, tries = 0;
  g.set_sampler(link_at_12_mb(readings, TcpSample{.rtt_us = 8'000, .min_rtt_us = 8'000}));
  g.set_socket_sizer([&](const SocketBudget&) -> Result<void> {
    ++tries;
    return fail("sockopt", "setsockopt(SO_SNDBUF): Operation not permitted");
  });
  g.start();
  ASSERT_TRUE(run_until(rig.io, [&] { return readings >= 20; }));
  g.stop();
  EXPECT_EQ(tries, 1);
  EXPECT_FALSE(g.report().socket);
}

// qemu mode observes (the report shows QEMU's estimate and the link's) but sets nothing.
TEST(BandwidthGovernor, QemuModeOnlyObserves) {
  Rig rig;
  BandwidthConfig cfg;
  cfg.mode = BandwidthMode::qemu;
  BandwidthGovernor g(rig.io, *rig.client, cfg, rig.clock, milliseconds(5));
  int readings = 0;
  g.set_sampler([&]() -> Result<TcpSample> {
    ++readings;
    TcpSample s;
    s.delivery_rate = 6 * kMB;
    return s;
  });
  EXPECT_EQ(g.initial_max_bandwidth(std::uint64_t{20 * kMB}), std::optional<std::uint64_t>(20 * kMB));
  g.start();
  ASSERT_TRUE(run_until(rig.io, [&] { return readings >= 10; }));
  g.stop();
  EXPECT_TRUE(rig.bandwidths_sent().empty());
  const auto r = g.report();
  EXPECT_EQ(r.mode, "qemu");
  EXPECT_EQ(r.max_bandwidth, 20 * kMB);
  EXPECT_EQ(r.why, "--max-bandwidth");
  EXPECT_EQ(r.measured_rate, 6 * kMB);
}

// --link-rate without a socket to measure (--tuning none): set once before migrate, and the
// report says it was not measured and why.
TEST(BandwidthGovernor, ConfiguredRateWithoutASocket) {
  Rig rig;
  BandwidthConfig cfg;
  cfg.link_rate = 10 * kMB;
  BandwidthGovernor g(rig.io, *rig.client, cfg, rig.clock, milliseconds(5));
  g.no_socket("QEMU opens the connection itself (--tuning none)");
  EXPECT_EQ(g.initial_max_bandwidth(std::nullopt), std::optional<std::uint64_t>(9'500'000));
  g.start();
  ASSERT_TRUE(run_until(rig.io, [&] { return rig.src.received.size() >= 3; }));
  g.stop();
  const auto r = g.report();
  EXPECT_EQ(r.max_bandwidth, 9'500'000U);
  EXPECT_NE(r.source.find("not measured: QEMU opens the connection itself"), std::string::npos) << r.source;
  EXPECT_NE(r.source.find("--link-rate"), std::string::npos) << r.source;
  EXPECT_FALSE(r.measured_rate);
}

// With disk mirrors the governor gives RAM its part and tells the disks theirs, at the start
// (--link-rate) and with each change from a measurement.
TEST(BandwidthGovernor, DisksAreToldTheirShareOfTheLink) {
  Rig rig;
  BandwidthConfig cfg;
  cfg.link_rate = 16 * kMB;
  BandwidthGovernor g(rig.io, *rig.client, cfg, rig.clock, milliseconds(5));
  std::vector<std::uint64_t> disk_shares;
  g.share_with_disks(7.0 / 8.0, [&](std::uint64_t b) { disk_shares.push_back(b); });
  int readings = 0;
  g.set_sampler([&]() -> Result<TcpSample> {
    ++readings;
    TcpSample s;
    s.delivery_rate = 8 * kMB;  // the link turns out slower than configured
    return s;
  });
  EXPECT_EQ(g.initial_max_bandwidth(std::nullopt), std::optional<std::uint64_t>(13'300'000));
  g.start();
  ASSERT_TRUE(run_until(rig.io, [&] { return readings >= 20; }));
  g.stop();
  EXPECT_EQ(rig.bandwidths_sent(), std::vector<std::uint64_t>{6'650'000});
  EXPECT_EQ(disk_shares, (std::vector<std::uint64_t>{2 * kMB, 1 * kMB}));
}

// The real reader on a socket that is not TCP fails with a reason, and the governor reports it
// instead of measuring.
TEST(BandwidthGovernor, ANonTcpSocketIsReportedNotMeasured) {
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
  auto s = read_tcp_info(pair[0]);
  EXPECT_FALSE(s);
  Rig rig;
  BandwidthGovernor g(rig.io, *rig.client, BandwidthConfig{}, rig.clock, milliseconds(5));
  g.watch_socket(::dup(pair[0]));
  g.start();
  ASSERT_TRUE(run_until(rig.io, [&] { return rig.src.received.size() >= 2; }));
  g.stop();
  EXPECT_NE(g.report().source.find("not measured: tcp_info"), std::string::npos) << g.report().source;
  ::close(pair[0]);
  ::close(pair[1]);
}

// The real reader on a connected TCP socket over loopback.
TEST(BandwidthGovernor, ReadsTcpInfoOfAConnectedSocket) {
  int l = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(l, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(::getsockname(l, reinterpret_cast<sockaddr*>(&a), &len), 0);
  ASSERT_EQ(::listen(l, 1), 0);
  int c = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  int peer = ::accept(l, nullptr, nullptr);
  ASSERT_GE(peer, 0);
  std::vector<char> buf(256 * 1024, 'x');
  ASSERT_GT(::send(c, buf.data(), buf.size(), 0), 0);
  std::size_t got = 0;
  while (got < 64 * 1024) {
    auto n = ::recv(peer, buf.data(), buf.size(), 0);
    ASSERT_GT(n, 0);
    got += static_cast<std::size_t>(n);
  }
  auto s = read_tcp_info(c);
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_GT(s->bytes_acked, 0U);
  ::close(peer);
  ::close(c);
  ::close(l);
}

}  // namespace
}  // namespace vmroam::migration
