// The downtime rule: which downtime-limit QEMU gets, and when it is raised (docs/migration.md
// "The downtime rule"). Pure: the options, the path's RTT and QEMU's progress in, a decision
// out; no I/O, no clocks (times are parameters). Switchover runs it.
//
// Why: QEMU 7.2 stops the guest for its last pass once what is left fits
// bandwidth × downtime-limit, and with honest bandwidth (bandwidth.hpp) its bandwidth is the
// link's rate, so the limit is what sizes the last pass. The guest's real pause is that pass,
// the device state and about one round trip of the path (the last bytes cross the link once,
// the destination's RESUME follows) — so for a target pause the limit is the target minus the
// path's RTT. QEMU's default, 300 ms, makes the pause ~10× what the link allows here.
//
// A guest that dirties memory faster than the link drains it never converges under a small
// limit: after the first full pass, every `raise_after_passes` passes or `raise_after_s`
// seconds without convergence the limit doubles, up to QEMU's default. A pause longer than
// the target is the price of a move that finishes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace vmroam::migration {

struct DowntimeConfig {
  std::optional<std::uint64_t> limit_ms;         // --downtime-limit: the operator's start value
  std::optional<std::uint64_t> target_pause_ms;  // --target-pause (honest bandwidth only; opt-in)
  std::optional<std::uint64_t> path_rtt_ms;      // --path-rtt: else the measured handshake RTT
  std::uint64_t floor_ms = 5;                    // never below: device state alone takes ~5 ms
  std::uint64_t ceiling_ms = 300;                // QEMU 7.2's default
  std::int64_t raise_after_passes = 5;           // passes after the first without convergence
  double raise_after_s = 10;                     // or seconds since the first pass ended
};

struct DowntimeDecision {
  std::uint64_t limit_ms = 0;
  std::string why;
};

// The limit to set before migrate, if any. `honest`: the bandwidth mode is honest (only then
// does the limit mean link time; with QEMU's own estimate the rule is off and QEMU's default
// stays unless --downtime-limit says otherwise). `measured_rtt_us`: TCP_INFO's RTT of the
// driver's migration socket after its handshake (nullopt: QEMU connects itself).
[[nodiscard]] std::optional<DowntimeDecision> initial_downtime(const DowntimeConfig& cfg, bool honest,
                                                               std::optional<std::uint32_t> measured_rtt_us);

// Where the fallback stands: the limit set last, and the pass and time it was set at (from
// the first reading after the first full pass on).
struct DowntimeFallback {
  std::uint64_t limit_ms = 0;
  std::optional<std::int64_t> since_passes;
  double since_s = 0;
  int raises = 0;
};

// Fed every progress reading while QEMU is active (`passes`: dirty-sync-count, `t_s`: any
// monotonic origin): updates `fb`, and returns the raised limit when one is due.
[[nodiscard]] std::optional<DowntimeDecision> next_downtime(const DowntimeConfig& cfg, DowntimeFallback& fb,
                                                            std::int64_t passes, double t_s);

// What the summary says about the limit: the value QEMU had at the STOP, the start value and
// why, and every raise.
struct DowntimeReport {
  std::optional<std::uint64_t> limit_ms;  // last set (nullopt: QEMU's own 300 ms)
  std::optional<std::uint64_t> start_ms;
  std::string why = "not set by the driver";
  int raises = 0;
  [[nodiscard]] nlohmann::json to_json() const;
  // "21 ms: target pause 30 ms - path RTT 9 ms (measured: TCP handshake); raised 0 times"
  [[nodiscard]] std::string render() const;
};

}  // namespace vmroam::migration
