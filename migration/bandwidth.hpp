// Honest bandwidth: the rate the path to the destination really carries, and the max-bandwidth
// the driver gives QEMU so that QEMU's convergence test works with that rate (docs/migration.md
// "The bandwidth model"). Pure: samples and the current setting in, a decision out; no I/O,
// no clocks (sample times are parameters). BandwidthGovernor (bandwidth_governor.hpp) feeds it.
//
// Why: QEMU 7.2 stops the VM for its last pass once the dirty memory left is below
// threshold = bandwidth × downtime-limit, its bandwidth being the bytes it *wrote* in the last
// ~100 ms window. When the link (not QEMU's own max-bandwidth) limits the stream, a window that
// starts with empty socket and queue buffers takes what they hold on top of what the link
// sends, and the estimate — and with it the threshold and the last pass — grows beyond what
// the link carries in the downtime budget. With QEMU's max-bandwidth just under the link's rate,
// QEMU's rate limiter is the bottleneck, the buffers stay empty and the estimate is the rate.
//
// The rate is learnt from the migration socket's own TCP_INFO: the delivery-rate samples the
// kernel takes per ACK (Linux's tcp_rate.c, draft-cheng-iccrg-delivery-rate-estimation), the
// median of those not marked application-limited in the last window. Application-limited samples (QEMU idle:
// zero pages, bitmap syncs, its own rate limit) say nothing about the link and are left out.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace vmroam::migration {

enum class BandwidthMode {
  honest,  // learn the link's rate, keep QEMU's max-bandwidth just under it (the default)
  qemu,    // leave max-bandwidth to QEMU (its 128 MiB/s default, or --max-bandwidth)
};
[[nodiscard]] const char* to_string(BandwidthMode m);

// One TCP_INFO reading of the migration socket.
struct TcpSample {
  double t_s = 0;                   // when it was read (any monotonic origin)
  std::uint64_t bytes_acked = 0;    // tcpi_bytes_acked
  std::uint64_t delivery_rate = 0;  // tcpi_delivery_rate, bytes/s (latest per-ACK sample)
  bool app_limited = false;         // tcpi_delivery_rate_app_limited
  std::uint32_t rtt_us = 0;
  std::uint32_t notsent_bytes = 0;  // written by QEMU, not yet sent
  std::uint64_t unacked_bytes = 0;  // sent, not yet acknowledged: tcpi_unacked × tcpi_snd_mss
  std::uint32_t min_rtt_us = 0;     // tcpi_min_rtt: the path's delay without our own queue
};

struct BandwidthConfig {
  BandwidthMode mode = BandwidthMode::honest;
  std::optional<std::uint64_t> link_rate;  // --link-rate, bytes/s: the operator's figure
  double share = 0.95;                     // max-bandwidth = share × the link's rate
  // Samples considered for the estimate, and how many (not app-limited) it needs: a shaper's
  // burst allowance (tbf's `burst`) lets single delivery-rate samples overshoot the rate by
  // several per cent, so the median is taken over a couple of seconds of them.
  double window_s = 2.0;
  std::size_t min_samples = 8;
  // Hysteresis, so that the setting does not follow the estimate's noise: lower only when the
  // link carries less than (1 - lower_margin) × max-bandwidth, raise only when the new target
  // exceeds the setting by raise_margin.
  double lower_margin = 0.10;
  double raise_margin = 0.10;
  std::uint64_t qemu_default = 128ULL << 20;  // QEMU 7.2's max-bandwidth when nobody sets one
  // The part of the link's rate that RAM may use: 1 alone; with --copy-storage the ready
  // disk mirrors carry the guest's new writes beside it over the same link and get the rest
  // (storage_plan.hpp: kDiskShareDivisor), so max-bandwidth = share × ram_share × rate.
  double ram_share = 1.0;
};

// The link's rate from the samples of the last window.
class LinkRateEstimator {
 public:
  explicit LinkRateEstimator(const BandwidthConfig& cfg) : cfg_(cfg) {}
  void add(const TcpSample& s);
  // Median delivery rate of the window's samples that are not application-limited (bytes/s);
  // nullopt with fewer than min_samples of them.
  [[nodiscard]] std::optional<std::uint64_t> rate() const;
  [[nodiscard]] std::size_t usable_samples() const;
  // Bytes acknowledged per second over the window (goodput, for the report).
  [[nodiscard]] std::optional<std::uint64_t> goodput() const;

 private:
  BandwidthConfig cfg_;
  std::deque<TcpSample> window_;
};

struct BandwidthDecision {
  std::uint64_t max_bandwidth = 0;  // bytes/s to give QEMU
  std::uint64_t link_rate = 0;      // the link's rate it was derived from (bytes/s)
  std::string why;
};

// What the disk mirrors may use beside RAM (bytes/s, all disks together): the link's rate
// less RAM's part (1 - ram_share). 0 without disks (ram_share 1).
[[nodiscard]] std::uint64_t disk_share_of(const BandwidthConfig& cfg, std::uint64_t link_rate);

// What max-bandwidth QEMU should get now, if it should change. `current`: what it has (nullopt:
// QEMU's default, never set by us); `measured`: the estimator's rate (nullopt: none yet).
// honest: target = share × rate, rate = min(--link-rate, measured) of those known; set at the
// start from --link-rate alone; then lowered when the link carries clearly less than the
// setting (it, not QEMU, is the bottleneck) and raised when the target clearly exceeds it.
// qemu: never.
[[nodiscard]] std::optional<BandwidthDecision> decide_bandwidth(const BandwidthConfig& cfg,
                                                                std::optional<std::uint64_t> current,
                                                                std::optional<std::uint64_t> measured);

// What the summary says about the rate (Summary::bandwidth; docs/migration.md).
// How much the migration socket may hold once the link's rate is known (honest mode). The last
// pass is written behind whatever the socket holds at the STOP: bytes not yet sent wait in the
// socket, bytes in flight beyond the path's bandwidth-delay product wait in the bottleneck's
// queue. Measured here (docs/migration.md "What the pause is made of"): with the 256 KiB buffer
// the measurement needs, 250–300 KB stood queued at the STOP, 20–25 ms at 100 Mbit/s. So
// SO_SNDBUF becomes 1.25 bandwidth-delay products at the path's min RTT (the kernel doubles
// the value for its own bookkeeping; what is left for data keeps the link busy through some
// RTT jitter: at exactly one product a move's rate halved once in four) and at most 16 KiB may
// wait unsent (TCP_NOTSENT_LOWAT).
struct SocketBudget {
  std::uint32_t sndbuf = 0;         // SO_SNDBUF, bytes
  std::uint32_t notsent_lowat = 0;  // TCP_NOTSENT_LOWAT, bytes
  friend bool operator==(const SocketBudget&, const SocketBudget&) = default;
};
inline constexpr std::uint32_t kSocketBudgetMin = 32 * 1024;
inline constexpr std::uint32_t kSocketBudgetMax = 16 * 1024 * 1024;
inline constexpr std::uint32_t kNotsentLowat = 16 * 1024;
// link_rate in bytes/s, min_rtt_us the path's smallest RTT; nullopt when either is unknown.
[[nodiscard]] std::optional<SocketBudget> socket_budget(std::optional<std::uint64_t> link_rate,
                                                        std::uint32_t min_rtt_us);
// Whether `next` differs enough from `current` to be worth a setsockopt (±20 %).
[[nodiscard]] bool socket_budget_changed(const std::optional<SocketBudget>& current,
                                         const SocketBudget& next);

struct BandwidthReport {
  std::string mode = "qemu";
  // How the driver learnt the rate: "measured (TCP_INFO delivery rate, driver's socket)",
  // "configured (--link-rate)", both, or why it could not ("not measured: …").
  std::string source = "none";
  std::optional<std::uint64_t> link_rate;      // bytes/s the driver believed last
  std::optional<std::uint64_t> max_bandwidth;  // bytes/s it gave QEMU last (nullopt: QEMU's own)
  std::string why;                             // the last decision's reason
  int changes = 0;                             // migrate-set-parameters max-bandwidth sent
  std::optional<std::uint64_t> measured_rate;  // the estimator's rate at the stop (or last)
  std::optional<std::uint64_t> goodput;        // bytes acknowledged per second, same window
  std::size_t samples = 0;                     // usable (not app-limited) samples in it
  // QEMU's own estimate (query-migrate ram.mbps, its last ~100 ms window) at the STOP: the
  // figure its convergence test used. Against measured_rate it shows the inflation.
  std::optional<std::uint64_t> qemu_estimate_at_stop;
  std::optional<std::uint64_t> qemu_estimate_peak;  // the largest in the last second before it
  std::optional<std::uint64_t> remaining_at_stop;   // ram.remaining at the last reading
  std::optional<std::uint32_t> rtt_us;
  // What stood between the last pass and the destination at the STOP (the driver's socket, read
  // when the STOP event arrives): bytes QEMU had written but TCP had not sent, and bytes in
  // flight. At the link's rate they delay the last pass's arrival (docs/migration.md "What the
  // pause is made of").
  std::optional<std::uint64_t> notsent_at_stop;
  std::optional<std::uint64_t> unacked_at_stop;
  std::optional<std::uint32_t> rtt_at_stop_us;
  std::optional<SocketBudget> socket;  // what the honest mode sized the socket to, last
  [[nodiscard]] nlohmann::json to_json() const;
  // "honest: max-bandwidth 11.3 MB/s = 95% of the link's 11.9 MB/s (measured …); QEMU's
  // estimate at the stop 11.2 MB/s (peak 11.9)"
  [[nodiscard]] std::string render() const;
};

// "11.9 MB/s (95.2 Mbit/s)"
[[nodiscard]] std::string format_rate(std::uint64_t bytes_per_s);

}  // namespace vmroam::migration
