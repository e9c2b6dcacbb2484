// The downtime rule (downtime.hpp).
#include "migration/downtime.hpp"

#include <algorithm>

namespace vmroam::migration {

namespace {

std::string ms(std::uint64_t v) { return std::to_string(v) + " ms"; }

std::uint64_t clamp_limit(const DowntimeConfig& cfg, std::uint64_t v) {
  return std::clamp(v, cfg.floor_ms, std::max(cfg.floor_ms, cfg.ceiling_ms));
}

}  // namespace

std::optional<DowntimeDecision> initial_downtime(const DowntimeConfig& cfg, bool honest,
                                                 std::optional<std::uint32_t> measured_rtt_us) {
  if (cfg.limit_ms) return DowntimeDecision{*cfg.limit_ms, "--downtime-limit " + ms(*cfg.limit_ms)};
  if (!honest || !cfg.target_pause_ms) return std::nullopt;
  const std::uint64_t target = *cfg.target_pause_ms;
  std::uint64_t rtt = 0;
  std::string rtt_why;
  if (cfg.path_rtt_ms) {
    rtt = *cfg.path_rtt_ms;
    rtt_why = "path RTT " + ms(rtt) + " (--path-rtt)";
  } else if (measured_rtt_us) {
    rtt = (*measured_rtt_us + 999) / 1000;  // rounded up: the budget must not be short
    rtt_why = "path RTT " + ms(rtt) + " (measured: TCP handshake)";
  } else {
    rtt_why = "path RTT unknown (counted as 0)";
  }
  const std::uint64_t raw = target > rtt ? target - rtt : 0;
  const std::uint64_t limit = clamp_limit(cfg, raw);
  std::string why = "target pause " + ms(target) + " - " + rtt_why;
  if (limit != raw) why += ", bounded to " + ms(limit);
  return DowntimeDecision{limit, why};
}

std::optional<DowntimeDecision> next_downtime(const DowntimeConfig& cfg, DowntimeFallback& fb,
                                              std::int64_t passes, double t_s) {
  // The first pass sends all of memory: its length says nothing about convergence.
  if (passes < 2 || fb.limit_ms >= cfg.ceiling_ms) return std::nullopt;
  if (!fb.since_passes) {
    fb.since_passes = passes;
    fb.since_s = t_s;
    return std::nullopt;
  }
  const std::int64_t more = passes - *fb.since_passes;
  const double waited = t_s - fb.since_s;
  if (more < cfg.raise_after_passes && waited < cfg.raise_after_s) return std::nullopt;
  const std::uint64_t raised = std::min(cfg.ceiling_ms, std::max<std::uint64_t>(fb.limit_ms * 2, 1));
  DowntimeDecision d{raised, "not converged after " + std::to_string(more) + " passes / " +
                                 std::to_string(static_cast<std::int64_t>(waited * 1000)) + " ms at " +
                                 ms(fb.limit_ms) + ": raised to " + ms(raised)};
  fb.limit_ms = raised;
  fb.since_passes = passes;
  fb.since_s = t_s;
  ++fb.raises;
  return d;
}

nlohmann::json DowntimeReport::to_json() const {
  auto opt = [](const std::optional<std::uint64_t>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); };
  return {{"limit_ms", opt(limit_ms)}, {"start_ms", opt(start_ms)}, {"why", why}, {"raises", raises}};
}

std::string DowntimeReport::render() const {
  std::string out = limit_ms ? ms(*limit_ms) : std::string("QEMU's default (300 ms)");
  if (start_ms && limit_ms && *start_ms != *limit_ms) out += " (started at " + ms(*start_ms) + ")";
  if (!why.empty()) out += ": " + why;
  out += "; raised " + std::to_string(raises) + (raises == 1 ? " time" : " times");
  return out;
}

}  // namespace vmroam::migration
