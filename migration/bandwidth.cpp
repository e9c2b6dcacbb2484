// The honest-bandwidth model (bandwidth.hpp).
#include "migration/bandwidth.hpp"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace vmroam::migration {

const char* to_string(BandwidthMode m) { return m == BandwidthMode::honest ? "honest" : "qemu"; }

void LinkRateEstimator::add(const TcpSample& s) {
  window_.push_back(s);
  while (!window_.empty() && window_.front().t_s < s.t_s - cfg_.window_s) window_.pop_front();
}

std::size_t LinkRateEstimator::usable_samples() const {
  return static_cast<std::size_t>(std::count_if(window_.begin(), window_.end(), [](const TcpSample& s) {
    return !s.app_limited && s.delivery_rate > 0;
  }));
}

std::optional<std::uint64_t> LinkRateEstimator::rate() const {
  std::vector<std::uint64_t> r;
  for (const auto& s : window_)
    if (!s.app_limited && s.delivery_rate > 0) r.push_back(s.delivery_rate);
  if (r.size() < cfg_.min_samples) return std::nullopt;
  std::sort(r.begin(), r.end());
  const std::size_t n = r.size();
  return n % 2 == 1 ? r[n / 2] : (r[n / 2 - 1] + r[n / 2]) / 2;
}

std::optional<std::uint64_t> LinkRateEstimator::goodput() const {
  if (window_.size() < 2) return std::nullopt;
  const auto& a = window_.front();
  const auto& b = window_.back();
  if (b.t_s <= a.t_s || b.bytes_acked < a.bytes_acked) return std::nullopt;
  return static_cast<std::uint64_t>(static_cast<double>(b.bytes_acked - a.bytes_acked) / (b.t_s - a.t_s));
}

namespace {

// What RAM may use of the link: all of it alone, ram_share of it beside the disk mirrors.
std::uint64_t ram_part(const BandwidthConfig& cfg, std::uint64_t rate) {
  return static_cast<std::uint64_t>(static_cast<double>(rate) * cfg.ram_share);
}

std::uint64_t share_of(const BandwidthConfig& cfg, std::uint64_t rate) {
  return static_cast<std::uint64_t>(static_cast<double>(ram_part(cfg, rate)) * cfg.share);
}

// ", RAM's 88% of it (the disks' mirrors have the rest)" when the link is shared.
std::string split_note(const BandwidthConfig& cfg) {
  if (cfg.ram_share >= 1.0) return "";
  char b[80];
  std::snprintf(b, sizeof b, " x RAM's %.1f%% (the disk mirrors have the rest)", cfg.ram_share * 100);
  return b;
}

std::string percent(double share) {
  char b[16];
  std::snprintf(b, sizeof b, "%.0f%%", share * 100);
  return b;
}

}  // namespace

std::optional<BandwidthDecision> decide_bandwidth(const BandwidthConfig& cfg,
                                                  std::optional<std::uint64_t> current,
                                                  std::optional<std::uint64_t> measured) {
  if (cfg.mode != BandwidthMode::honest) return std::nullopt;
  if (!measured) {
    // Nothing measured yet: the configured rate, once, at the start.
    if (!cfg.link_rate || current) return std::nullopt;
    return BandwidthDecision{
        share_of(cfg, *cfg.link_rate), *cfg.link_rate,
        percent(cfg.share) + " of --link-rate " + format_rate(*cfg.link_rate) + split_note(cfg)};
  }
  const bool configured_lower = cfg.link_rate && *cfg.link_rate < *measured;
  const std::uint64_t rate = configured_lower ? *cfg.link_rate : *measured;
  const std::uint64_t target = share_of(cfg, rate);
  const std::string of = percent(cfg.share) + " of the link's " + format_rate(rate) +
                         (configured_lower ? " (--link-rate; measured " + format_rate(*measured) + ")"
                                           : " (measured: TCP delivery rate)") +
                         split_note(cfg);
  // Unset, QEMU's own limit applies: while the link carries it, QEMU's rate limiter is the
  // bottleneck and its estimate is honest already. The link being slower is the case to fix.
  // Beside disk mirrors, what counts is RAM's part of the link.
  const double cur = static_cast<double>(current.value_or(cfg.qemu_default));
  if (static_cast<double>(ram_part(cfg, rate)) < cur * (1 - cfg.lower_margin))
    return BandwidthDecision{target, rate, (current ? "lowered to " : "") + of};
  if (current && static_cast<double>(target) > cur * (1 + cfg.raise_margin))
    return BandwidthDecision{target, rate, "raised to " + of};
  return std::nullopt;
}

std::uint64_t disk_share_of(const BandwidthConfig& cfg, std::uint64_t link_rate) {
  if (cfg.ram_share >= 1.0) return 0;
  return link_rate - std::min(link_rate, ram_part(cfg, link_rate));
}

std::string format_rate(std::uint64_t bytes_per_s) {
  char b[48];
  std::snprintf(b, sizeof b, "%.2f MB/s (%.1f Mbit/s)", static_cast<double>(bytes_per_s) / 1e6,
                static_cast<double>(bytes_per_s) * 8 / 1e6);
  return b;
}

nlohmann::json BandwidthReport::to_json() const {
  auto opt = [](const auto& v) -> nlohmann::json { return v ? nlohmann::json(*v) : nlohmann::json(); };
  return {{"mode", mode},
          {"source", source},
          {"link_rate_bytes_per_s", opt(link_rate)},
          {"max_bandwidth_bytes_per_s", opt(max_bandwidth)},
          {"why", why},
          {"changes", changes},
          {"measured_rate_bytes_per_s", opt(measured_rate)},
          {"goodput_bytes_per_s", opt(goodput)},
          {"samples", samples},
          {"qemu_estimate_at_stop_bytes_per_s", opt(qemu_estimate_at_stop)},
          {"qemu_estimate_peak_bytes_per_s", opt(qemu_estimate_peak)},
          {"remaining_at_stop_bytes", opt(remaining_at_stop)},
          {"rtt_us", opt(rtt_us)},
          {"notsent_at_stop_bytes", opt(notsent_at_stop)},
          {"unacked_at_stop_bytes", opt(unacked_at_stop)},
          {"rtt_at_stop_us", opt(rtt_at_stop_us)},
          {"socket_sndbuf_bytes", socket ? nlohmann::json(socket->sndbuf) : nlohmann::json()},
          {"socket_notsent_lowat_bytes", socket ? nlohmann::json(socket->notsent_lowat) : nlohmann::json()}};
}

std::string BandwidthReport::render() const {
  std::string out = mode + ": max-bandwidth " + (max_bandwidth ? format_rate(*max_bandwidth) : "QEMU's own");
  if (!why.empty()) out += " = " + why;
  out += "; source " + source;
  if (measured_rate) out += "; link measured " + format_rate(*measured_rate);
  if (qemu_estimate_at_stop) {
    out += "; QEMU's estimate at the stop " + format_rate(*qemu_estimate_at_stop);
    if (qemu_estimate_peak) out += ", peak " + format_rate(*qemu_estimate_peak);
  }
  return out;
}

std::optional<SocketBudget> socket_budget(std::optional<std::uint64_t> link_rate, std::uint32_t min_rtt_us) {
  if (!link_rate || *link_rate == 0 || min_rtt_us == 0) return std::nullopt;
  const std::uint64_t bdp = *link_rate * min_rtt_us / 1'000'000;
  const auto sndbuf = static_cast<std::uint32_t>(
      std::clamp<std::uint64_t>(bdp + bdp / 4, kSocketBudgetMin, kSocketBudgetMax));
  return SocketBudget{sndbuf, kNotsentLowat};
}

bool socket_budget_changed(const std::optional<SocketBudget>& current, const SocketBudget& next) {
  if (!current) return true;
  const double ratio = static_cast<double>(next.sndbuf) / current->sndbuf;
  return ratio > 1.2 || ratio < 1 / 1.2 || next.notsent_lowat != current->notsent_lowat;
}

}  // namespace vmroam::migration
