// Honest bandwidth at run time (docs/migration.md "The bandwidth model"): while QEMU sends
// memory, every `interval` the governor reads TCP_INFO of the migration socket (the driver's
// own, --tuning socket), feeds the link-rate estimator (bandwidth.hpp) and, in the honest
// mode, sets QEMU's max-bandwidth whenever decide_bandwidth() says so. In both modes it also
// reads QEMU's own estimate (query-migrate ram.mbps), so that the summary can put what QEMU
// believed at the STOP beside what the link delivered. It takes no part in the switchover's
// decisions: it only keeps a parameter QEMU reads and reports.
//
// Timers: one, `interval` (100 ms: QEMU's own estimate window), from start() until stop()
// (the source's STOP: from then on QEMU sends the last pass without its rate limit).
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/core/asio.hpp"
#include "common/core/clock.hpp"
#include "migration/bandwidth.hpp"
#include "migration/qmp_client.hpp"

namespace vmroam::migration {

class BandwidthGovernor {
 public:
  // Reads the migration socket's TCP_INFO; the real one is read_tcp_info() on watch_socket()'s fd.
  using Sampler = std::function<Result<TcpSample>()>;
  // Told each max-bandwidth change (for the timeline).
  using ChangeHandler = std::function<void(const std::string&)>;

  BandwidthGovernor(boost::asio::io_context& io, qmp::QmpClient& source, BandwidthConfig cfg,
                    const Clock& clock, std::chrono::milliseconds interval = std::chrono::milliseconds(100));
  ~BandwidthGovernor();
  BandwidthGovernor(const BandwidthGovernor&) = delete;
  BandwidthGovernor& operator=(const BandwidthGovernor&) = delete;

  // The migration socket (an fd of the caller's that the governor now owns and closes).
  void watch_socket(int fd);
  // No socket to read: why (e.g. QEMU connects itself with --tuning none).
  void no_socket(const std::string& why);
  void set_sampler(Sampler s) { sampler_ = std::move(s); }
  // Applies a SocketBudget to the migration socket (honest mode, once the link's rate and the
  // path's min RTT are known); the real one is setsockopt on watch_socket()'s fd.
  using SocketSizer = std::function<Result<void>(const SocketBudget&)>;
  void set_socket_sizer(SocketSizer z) { sizer_ = std::move(z); }
  void set_change_handler(ChangeHandler h) { on_change_ = std::move(h); }
  // Disk mirrors share the link (--copy-storage): RAM gets `ram_share` of the link's rate and
  // `disk_share` is told what the disks may use together (bytes/s) with every decision.
  // Before initial_max_bandwidth().
  using DiskShareHandler = std::function<void(std::uint64_t)>;
  void share_with_disks(double ram_share, DiskShareHandler disk_share);

  // max-bandwidth to set before migrate: the honest share of --link-rate, else a fixed
  // value (--max-bandwidth, qemu mode) the caller sets; nullopt leaves QEMU's default.
  [[nodiscard]] std::optional<std::uint64_t> initial_max_bandwidth(std::optional<std::uint64_t> fixed);
  void start();
  void stop();
  [[nodiscard]] BandwidthReport report() const;

 private:
  void tick();
  void sample();
  void apply(const BandwidthDecision& d);
  void size_socket(std::uint32_t min_rtt_us);
  void observe_qemu();
  [[nodiscard]] double now_s() const;

  boost::asio::io_context& io_;
  qmp::QmpClient& src_;
  BandwidthConfig cfg_;
  const Clock& clock_;
  std::chrono::milliseconds interval_;
  TimePoint origin_;
  Sampler sampler_;
  SocketSizer sizer_;
  ChangeHandler on_change_;
  DiskShareHandler on_disk_share_;
  int fd_ = -1;
  bool running_ = false;
  bool stopped_ = false;
  LinkRateEstimator estimator_;
  std::optional<std::uint64_t> current_;                         // what QEMU's max-bandwidth is, if we set it
  std::deque<std::pair<double, std::uint64_t>> qemu_estimates_;  // (t, bytes/s), last second
  BandwidthReport report_;
  boost::asio::steady_timer timer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace vmroam::migration
