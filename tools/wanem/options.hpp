// vmroam-wanem command line: a pure parser (argv in, Options or a named error out).
//
// Grammar: `--name VALUE` or `--name=VALUE`. Durations take a unit (ns, us, ms, s; "0" alone
// is allowed), loss is a percentage ("10%" or "10"), sizes are bytes with an optional k/m/g
// (×1024) suffix, rates are bits per second with an optional kbit/mbit/gbit suffix (×1000,
// like tc). Every error names the argument it is about, so an operator sees what to fix.
//
// Directions: "ab" is frames received on --a and sent on --b; "ba" the reverse. --delay,
// --jitter, --loss and --rate set both directions; the -ba variants override the b→a side.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/core/clock.hpp"
#include "common/core/result.hpp"

namespace vmroam::wanem {

// The behaviour of one direction of the link.
struct DirectionConfig {
  Duration delay{0};
  // Each frame's delay is delay + U(-jitter, +jitter), clamped at zero.
  Duration jitter{0};
  // Probability in [0, 1] that a frame is dropped.
  double loss = 0.0;
  // Serialisation rate in bit/s; 0 = unlimited (the testbed leaves rate to tc tbf).
  std::uint64_t rate_bps = 0;
  friend bool operator==(const DirectionConfig&, const DirectionConfig&) = default;
};

struct Options {
  enum class Action { run, help, version };
  Action action = Action::run;
  std::string a;
  std::string b;
  DirectionConfig ab;
  DirectionConfig ba;
  // Jitter never reorders frames unless asked: a frame leaves no earlier than its predecessor.
  bool allow_reorder = false;
  // Unset: a random seed is drawn and reported in the statistics so a run can be repeated.
  std::optional<std::uint64_t> seed;
  // Bounds of each direction's queue; frames beyond them are dropped and counted.
  std::uint64_t queue_limit_bytes = 16u << 20;
  std::uint64_t queue_limit_packets = 65536;
  // 0 = no periodic statistics.
  Duration stats_interval{0};
  std::string json_stats;
  // SCHED_FIFO for timing under CPU contention (falls back with a warning without privilege).
  bool realtime = false;
};

[[nodiscard]] Result<Options> parse_options(std::span<const std::string_view> args);
[[nodiscard]] Result<Duration> parse_duration(std::string_view text);
// "10%", "10", "0.5%" → 0.10, 0.10, 0.005.
[[nodiscard]] Result<double> parse_percent(std::string_view text);
[[nodiscard]] Result<std::uint64_t> parse_size(std::string_view text);
[[nodiscard]] Result<std::uint64_t> parse_rate(std::string_view text);
[[nodiscard]] std::string usage();

}  // namespace vmroam::wanem
