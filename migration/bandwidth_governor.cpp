// Honest bandwidth at run time (bandwidth_governor.hpp).
#include "migration/bandwidth_governor.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "common/core/log.hpp"
#include "migration/tcp_info.hpp"

namespace vmroam::migration {

using qmp::Json;

namespace {

// QEMU's estimate is the last ~100 ms window; the report keeps the largest of the last second.
constexpr double kQemuEstimateWindowS = 1.0;

std::string configured_note(const BandwidthConfig& cfg) {
  return cfg.link_rate ? " + configured (--link-rate " + format_rate(*cfg.link_rate) + ")" : "";
}

}  // namespace

BandwidthGovernor::BandwidthGovernor(boost::asio::io_context& io, qmp::QmpClient& source, BandwidthConfig cfg,
                                     const Clock& clock, std::chrono::milliseconds interval)
    : io_(io),
      src_(source),
      cfg_(cfg),
      clock_(clock),
      interval_(interval),
      origin_(clock.now()),
      estimator_(cfg),
      timer_(io) {
  report_.mode = to_string(cfg_.mode);
  report_.source = cfg_.link_rate ? "configured (--link-rate)" : "none";
}

BandwidthGovernor::~BandwidthGovernor() {
  *alive_ = false;
  if (fd_ >= 0) ::close(fd_);
}

void BandwidthGovernor::watch_socket(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  sampler_ = [this]() { return read_tcp_info(fd_); };
  sizer_ = [this](const SocketBudget& b) { return apply_socket_budget(fd_, b); };
  report_.source = "measured (TCP_INFO of the driver's migration socket)" + configured_note(cfg_);
}

void BandwidthGovernor::no_socket(const std::string& why) {
  report_.source = "not measured: " + why + configured_note(cfg_);
}

void BandwidthGovernor::share_with_disks(double ram_share, DiskShareHandler disk_share) {
  cfg_.ram_share = ram_share;
  on_disk_share_ = std::move(disk_share);
}

std::optional<std::uint64_t> BandwidthGovernor::initial_max_bandwidth(std::optional<std::uint64_t> fixed) {
  if (cfg_.mode == BandwidthMode::qemu) {
    current_ = fixed;
    report_.max_bandwidth = fixed;
    if (fixed) report_.why = "--max-bandwidth";
    return fixed;
  }
  auto d = decide_bandwidth(cfg_, std::nullopt, std::nullopt);
  if (!d) return std::nullopt;
  current_ = d->max_bandwidth;
  report_.max_bandwidth = d->max_bandwidth;
  report_.link_rate = cfg_.link_rate;
  report_.why = d->why;
  if (on_disk_share_) on_disk_share_(disk_share_of(cfg_, d->link_rate));
  return d->max_bandwidth;
}

double BandwidthGovernor::now_s() const {
  return std::chrono::duration<double>(clock_.now() - origin_).count();
}

void BandwidthGovernor::start() {
  if (running_ || stopped_) return;
  running_ = true;
  tick();
}

void BandwidthGovernor::stop() {
  if (stopped_) return;
  stopped_ = true;
  running_ = false;
  timer_.cancel();
  if (sampler_) {
    if (auto s = sampler_(); s) {
      report_.notsent_at_stop = s->notsent_bytes;
      report_.unacked_at_stop = s->unacked_bytes;
      report_.rtt_at_stop_us = s->rtt_us;
    }
  }
  report_.measured_rate = estimator_.rate();
  report_.goodput = estimator_.goodput();
  report_.samples = estimator_.usable_samples();
  if (!qemu_estimates_.empty()) {
    report_.qemu_estimate_at_stop = qemu_estimates_.back().second;
    for (const auto& e : qemu_estimates_)
      report_.qemu_estimate_peak = std::max(report_.qemu_estimate_peak.value_or(0), e.second);
  }
}

BandwidthReport BandwidthGovernor::report() const { return report_; }

void BandwidthGovernor::tick() {
  if (!running_) return;
  sample();
  observe_qemu();
  timer_.expires_after(interval_);
  timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (!ec && *alive) tick();
  });
}

void BandwidthGovernor::sample() {
  if (!sampler_) return;
  auto s = sampler_();
  if (!s) {
    // Not a TCP socket, or the kernel has no delivery rate: nothing to learn, say why once.
    report_.source = "not measured: " + s.error().to_string() + configured_note(cfg_);
    log_warn("bandwidth_not_measured", {{"why", s.error().to_string()}});
    sampler_ = nullptr;
    return;
  }
  s->t_s = now_s();
  estimator_.add(*s);
  report_.rtt_us = s->rtt_us;
  const auto measured = estimator_.rate();
  if (measured) report_.link_rate = cfg_.link_rate ? std::min(*cfg_.link_rate, *measured) : *measured;
  if (auto d = decide_bandwidth(cfg_, current_, measured)) apply(*d);
  size_socket(s->min_rtt_us);
}

// Honest mode: once the link's rate is known, the socket holds about one bandwidth-delay
// product, so that the last pass does not queue behind a full send buffer (SocketBudget).
void BandwidthGovernor::size_socket(std::uint32_t min_rtt_us) {
  if (cfg_.mode != BandwidthMode::honest || !sizer_) return;
  auto b = socket_budget(report_.link_rate, min_rtt_us);
  if (!b || !socket_budget_changed(report_.socket, *b)) return;
  if (auto r = sizer_(*b); !r) {
    log_warn("socket_budget_failed", {{"error", r.error().to_string()}});
    sizer_ = nullptr;  // keep the socket as it is; say so once
    return;
  }
  report_.socket = *b;
  char what[160];
  std::snprintf(what, sizeof what,
                "socket send buffer %u bytes (1.25 x the link's rate x min RTT %.1f ms), unsent <= %u bytes",
                b->sndbuf, min_rtt_us / 1000.0, b->notsent_lowat);
  if (on_change_) on_change_(what);
}

void BandwidthGovernor::apply(const BandwidthDecision& d) {
  current_ = d.max_bandwidth;
  report_.max_bandwidth = d.max_bandwidth;
  report_.why = d.why;
  ++report_.changes;
  if (on_change_) on_change_("max-bandwidth " + format_rate(d.max_bandwidth) + ": " + d.why);
  if (on_disk_share_) on_disk_share_(disk_share_of(cfg_, d.link_rate));
  src_.execute("migrate-set-parameters", Json{{"max-bandwidth", d.max_bandwidth}},
               [alive = alive_](Result<Json> r) {
                 if (*alive && !r) log_warn("max_bandwidth_failed", {{"error", r.error().to_string()}});
               });
}

void BandwidthGovernor::observe_qemu() {
  src_.execute("query-migrate", Json(), [this, alive = alive_](Result<Json> r) {
    if (!*alive || stopped_ || !r) return;
    auto info = qmp::parse_migration_info(*r);
    if (!info || info->status != "active") return;
    const double t = now_s();
    // ram.mbps is QEMU's bandwidth over its last window, in 10^6 bit/s.
    qemu_estimates_.emplace_back(t, static_cast<std::uint64_t>(info->mbps * 1e6 / 8));
    while (!qemu_estimates_.empty() && qemu_estimates_.front().first < t - kQemuEstimateWindowS)
      qemu_estimates_.pop_front();
    report_.remaining_at_stop = info->ram_remaining;
  });
}

}  // namespace vmroam::migration
