// vmroam-wanem command line parser; see options.hpp.
#include "tools/wanem/options.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>

namespace vmroam::wanem {
namespace {

// A finite, non-negative decimal number followed by a suffix (returned separately).
bool split_number(std::string_view text, double& value, std::string_view& suffix) {
  std::size_t i = 0;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  if (i == 0) return false;
  const std::string number(text.substr(0, i));
  // std::from_chars for double is in libstdc++ 11+; clang 14 with libstdc++ 12 has it too.
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc{} || end != number.data() + number.size() || !std::isfinite(value)) return false;
  suffix = text.substr(i);
  return true;
}

struct Unit {
  std::string_view name;
  double factor;
};

template <std::size_t N>
std::optional<double> find_factor(std::string_view suffix, const Unit (&units)[N]) {
  for (const auto& u : units)
    if (suffix == u.name) return u.factor;
  return std::nullopt;
}

std::string quoted(std::string_view v) { return "'" + std::string(v) + "'"; }

}  // namespace

Result<Duration> parse_duration(std::string_view text) {
  static constexpr Unit kUnits[] = {{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}};
  double v = 0;
  std::string_view suffix;
  if (!split_number(text, v, suffix))
    return fail("bad_duration", quoted(text) + " is not a duration (e.g. 4ms, 500us, 1.5s)");
  if (suffix.empty() && v != 0) return fail("bad_duration", quoted(text) + " needs a unit (ns, us, ms, s)");
  const auto factor = suffix.empty() ? std::optional<double>(1) : find_factor(suffix, kUnits);
  if (!factor) return fail("bad_duration", quoted(text) + " has an unknown unit (ns, us, ms, s)");
  const double ns = v * *factor;
  if (ns > 3600e9) return fail("bad_duration", quoted(text) + " is longer than an hour");
  return Duration(static_cast<Duration::rep>(std::llround(ns)));
}

Result<double> parse_percent(std::string_view text) {
  double v = 0;
  std::string_view suffix;
  if (!split_number(text, v, suffix) || !(suffix.empty() || suffix == "%"))
    return fail("bad_percent", quoted(text) + " is not a percentage (e.g. 10%)");
  if (v > 100) return fail("bad_percent", quoted(text) + " is more than 100%");
  return v / 100.0;
}

Result<std::uint64_t> parse_size(std::string_view text) {
  static constexpr Unit kUnits[] = {
      {"", 1},          {"k", 1024.0},     {"K", 1024.0},       {"kb", 1024.0},      {"m", 1048576.0},
      {"M", 1048576.0}, {"mb", 1048576.0}, {"g", 1073741824.0}, {"G", 1073741824.0}, {"gb", 1073741824.0}};
  double v = 0;
  std::string_view suffix;
  if (!split_number(text, v, suffix)) return fail("bad_size", quoted(text) + " is not a size (e.g. 4m)");
  const auto factor = find_factor(suffix, kUnits);
  if (!factor) return fail("bad_size", quoted(text) + " has an unknown unit (k, m, g)");
  const double bytes = v * *factor;
  if (bytes < 1 || bytes > 1e12) return fail("bad_size", quoted(text) + " is out of range");
  return static_cast<std::uint64_t>(bytes);
}

Result<std::uint64_t> parse_rate(std::string_view text) {
  static constexpr Unit kUnits[] = {{"", 1},       {"bit", 1}, {"kbit", 1e3}, {"mbit", 1e6},
                                    {"gbit", 1e9}, {"k", 1e3}, {"m", 1e6},    {"g", 1e9}};
  double v = 0;
  std::string_view suffix;
  if (!split_number(text, v, suffix)) return fail("bad_rate", quoted(text) + " is not a rate (e.g. 100mbit)");
  const auto factor = find_factor(suffix, kUnits);
  if (!factor) return fail("bad_rate", quoted(text) + " has an unknown unit (kbit, mbit, gbit)");
  const double bps = v * *factor;
  if (bps > 1e12) return fail("bad_rate", quoted(text) + " is out of range");
  return static_cast<std::uint64_t>(bps);
}

namespace {

// What the options gather; the per-direction values are resolved once all are read.
struct Gathered {
  Options o;
  std::optional<Duration> delay, delay_ba, jitter, jitter_ba;
  std::optional<double> loss, loss_ba;
  std::optional<std::uint64_t> rate, rate_ba;
};

// An option that takes a value: its name and what it does with the value. An error's
// context already names the option.
struct ValueOption {
  std::string_view name;
  Result<void> (*apply)(Gathered& g, const std::string& name, std::string_view value);
};

Unexpected named(const std::string& name, const Error& e) { return fail(e.code, name + ": " + e.context); }

template <std::optional<Duration> Gathered::*Field>
Result<void> set_duration(Gathered& g, const std::string& name, std::string_view value) {
  auto d = parse_duration(value);
  if (!d) return named(name, d.error());
  g.*Field = *d;
  return {};
}

template <std::optional<double> Gathered::*Field>
Result<void> set_loss(Gathered& g, const std::string& name, std::string_view value) {
  auto p = parse_percent(value);
  if (!p) return named(name, p.error());
  g.*Field = *p;
  return {};
}

template <std::optional<std::uint64_t> Gathered::*Field>
Result<void> set_rate(Gathered& g, const std::string& name, std::string_view value) {
  auto r = parse_rate(value);
  if (!r) return named(name, r.error());
  g.*Field = *r;
  return {};
}

template <std::uint64_t Options::*Field>
Result<void> set_size(Gathered& g, const std::string& name, std::string_view value) {
  auto s = parse_size(value);
  if (!s) return named(name, s.error());
  g.o.*Field = *s;
  return {};
}

template <std::string Options::*Field>
Result<void> set_interface(Gathered& g, const std::string& name, std::string_view value) {
  if (value.empty() || value.size() > 15)
    return fail("bad_interface", name + ": " + quoted(value) + " is not an interface name");
  g.o.*Field = std::string(value);
  return {};
}

Result<void> set_seed(Gathered& g, const std::string& name, std::string_view value) {
  std::uint64_t s = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), s);
  if (ec != std::errc{} || end != value.data() + value.size() || value.empty())
    return fail("bad_seed", name + ": " + quoted(value) + " is not an unsigned integer");
  g.o.seed = s;
  return {};
}

// Seconds, as the usage says; a unit is accepted too.
Result<void> set_stats_interval(Gathered& g, const std::string& name, std::string_view value) {
  std::string v(value);
  if (!v.empty() && v.back() >= '0' && v.back() <= '9') v += "s";
  auto d = parse_duration(v);
  if (!d) return named(name, d.error());
  if (d->count() != 0 && *d < std::chrono::milliseconds(10))
    return fail("bad_duration", name + ": must be at least 0.01 s");
  g.o.stats_interval = *d;
  return {};
}

Result<void> set_json_stats(Gathered& g, const std::string& name, std::string_view value) {
  if (value.empty()) return fail("missing_value", name + " needs a file name");
  g.o.json_stats = std::string(value);
  return {};
}

const ValueOption kValueOptions[] = {
    {"--a", set_interface<&Options::a>},
    {"--b", set_interface<&Options::b>},
    {"--delay", set_duration<&Gathered::delay>},
    {"--delay-ba", set_duration<&Gathered::delay_ba>},
    {"--jitter", set_duration<&Gathered::jitter>},
    {"--jitter-ba", set_duration<&Gathered::jitter_ba>},
    {"--loss", set_loss<&Gathered::loss>},
    {"--loss-ba", set_loss<&Gathered::loss_ba>},
    {"--rate", set_rate<&Gathered::rate>},
    {"--rate-ba", set_rate<&Gathered::rate_ba>},
    {"--seed", set_seed},
    {"--queue-limit", set_size<&Options::queue_limit_bytes>},
    {"--queue-packets", set_size<&Options::queue_limit_packets>},
    {"--stats-interval", set_stats_interval},
    {"--json-stats", set_json_stats},
};

// A flag that takes no value; true when it ends parsing (help, version).
std::optional<bool> take_flag(std::string_view arg, Options& o) {
  if (arg == "--help" || arg == "-h")
    o.action = Options::Action::help;
  else if (arg == "--version")
    o.action = Options::Action::version;
  else if (arg == "--allow-reorder")
    o.allow_reorder = true;
  else if (arg == "--realtime")
    o.realtime = true;
  else
    return std::nullopt;
  return o.action != Options::Action::run;
}

// `--name VALUE` or `--name=VALUE` at args[i]; advances i past a separate value.
Result<void> take_value_option(std::span<const std::string_view> args, std::size_t& i, Gathered& g) {
  const std::string_view arg = args[i];
  if (arg.substr(0, 2) != "--") return fail("bad_argument", quoted(arg) + " is not an option");
  std::string_view name = arg;
  std::optional<std::string_view> value;
  if (auto eq = arg.find('='); eq != std::string_view::npos) {
    name = arg.substr(0, eq);
    value = arg.substr(eq + 1);
  } else if (i + 1 < args.size() && args[i + 1].substr(0, 2) != "--") {
    value = args[++i];
  }
  if (!value) return fail("missing_value", std::string(name) + " needs a value");
  for (const auto& row : kValueOptions)
    if (row.name == name) return row.apply(g, std::string(name), *value);
  return fail("bad_argument", quoted(name) + " is not an option");
}

// The required options, and each b→a value defaulting to its a→b one.
Result<Options> resolve(Gathered g) {
  Options& o = g.o;
  if (o.a.empty()) return fail("missing_argument", "--a is required (the first interface)");
  if (o.b.empty()) return fail("missing_argument", "--b is required (the second interface)");
  if (o.a == o.b) return fail("bad_interface", "--a and --b must name different interfaces");
  if (!g.delay) return fail("missing_argument", "--delay is required (use 0 for none)");
  o.ab = DirectionConfig{*g.delay, g.jitter.value_or(Duration{0}), g.loss.value_or(0.0), g.rate.value_or(0)};
  o.ba = DirectionConfig{g.delay_ba.value_or(o.ab.delay), g.jitter_ba.value_or(o.ab.jitter),
                         g.loss_ba.value_or(o.ab.loss), g.rate_ba.value_or(o.ab.rate_bps)};
  for (const auto* d : {&o.ab, &o.ba})
    if (d->jitter > d->delay)
      return fail("bad_duration", std::string(d == &o.ab ? "--jitter" : "--jitter-ba") +
                                      " must not exceed the delay (jitter is bounded by it)");
  return std::move(o);
}

}  // namespace

Result<Options> parse_options(std::span<const std::string_view> args) {
  Gathered g;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (auto done = take_flag(args[i], g.o)) {
      if (*done) return g.o;
      continue;
    }
    if (auto r = take_value_option(args, i, g); !r) return fail(r.error());
  }
  return resolve(std::move(g));
}

std::string usage() {
  return R"(usage: vmroam-wanem --a IF --b IF --delay DUR [options]

Joins two interfaces at layer 2 and forwards every frame between them after a
configurable one-way delay, with optional jitter, random loss and rate limit.
"ab" is the direction from --a to --b, "ba" the reverse.

  --a IF, --b IF          the two interfaces (put in promiscuous mode while running)
  --delay DUR             one-way delay, both directions (e.g. 4ms, 250us, 0)
  --delay-ba DUR          b→a delay, if different
  --jitter DUR            each frame gets delay ± U(0, DUR); bounded by the delay;
                          frames stay in order unless --allow-reorder   (default 0)
  --jitter-ba DUR         b→a jitter, if different
  --allow-reorder         let jitter reorder frames
  --loss PCT              random loss, both directions (e.g. 1%)   (default 0%)
  --loss-ba PCT           b→a loss, if different
  --seed N                seed of the loss/jitter generator (default: random, reported)
  --rate RATE             serialisation rate (e.g. 100mbit); default unlimited:
                          the vmroam testbed shapes with `tc qdisc ... tbf` instead
  --rate-ba RATE          b→a rate, if different
  --queue-limit BYTES     per-direction queue bound (default 16m); overflow is counted
  --queue-packets N       per-direction queue bound in frames (default 65536)
  --stats-interval S      print counters as one JSON line to stderr every S seconds
  --json-stats FILE       also write the latest counters to FILE (atomically)
  --realtime              run with SCHED_FIFO priority 10 for steadier timing
  --help, --version

SIGTERM or SIGINT stops it; the final counters are printed to stdout as JSON.
)";
}

}  // namespace vmroam::wanem
