// Storage migration's I/O (docs/migration.md "Moving the disks too"): runs storage_plan's
// commands on the two QEMUs for Switchover, which calls it at three points of the coupled
// sequence:
//
//   prepare()   a setup step before migrate: NBD export at the destination, one mirror per
//               disk at the source, then query-block-jobs every poll_interval until every
//               mirror is ready and has ≤ settle_bytes left; then the link budget is split
//               (ready mirrors get 1/8, RAM the rest). Fails on a refused command, a mirror
//               that ends or errs (BLOCK_JOB_COMPLETED with an error, BLOCK_JOB_CANCELLED, an
//               I/O error), abort(), or ready_timeout.
//   complete()  at pre-switchover, before migrate-continue (the guest is stopped, nothing
//               new is written): the dirty bytes left are recorded, block-job-cancel lets
//               each ready mirror copy them and end (BLOCK_JOB_COMPLETED); fails if one ends
//               with an error or does not end within complete_timeout.
//   teardown()  when the move is over, either way: force-cancel mirrors still alive (the
//               source never switched to the target: it keeps running on its own disk), wait
//               until they are gone, blockdev-del the NBD clients, nbd-server-stop at the
//               destination (its listening socket closes).
//
// Timers: poll_interval (prepare's readiness and progress), ready_timeout, complete_timeout,
// the teardown's wait for forced cancels (kTeardownWait).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/core/asio.hpp"
#include "common/core/clock.hpp"
#include "common/core/result.hpp"
#include "migration/qmp_client.hpp"
#include "migration/storage_plan.hpp"

namespace vmroam::migration {

struct StorageOptions {
  bool enabled = false;             // --copy-storage given
  std::vector<std::string> wanted;  // empty: every writable disk (--copy-storage all)
  std::string nbd_port = "10809";
  std::uint64_t budget = 0;              // bytes/s shared by disks and RAM (0: the link decides)
  std::uint64_t settle_bytes = 1 << 20;  // dirty bytes per mirror below which RAM may start
  std::chrono::milliseconds poll_interval{200};
  std::chrono::milliseconds ready_timeout{600'000};
  std::chrono::milliseconds complete_timeout{30'000};
};

class StorageMirror {
 public:
  using Done = std::function<void(Result<void>)>;

  StorageMirror(boost::asio::io_context& io, qmp::QmpClient& source, qmp::QmpClient& destination,
                StorageOptions options, const Clock& clock);
  ~StorageMirror();
  StorageMirror(const StorageMirror&) = delete;
  StorageMirror& operator=(const StorageMirror&) = delete;

  // The migration's TLS (NBD uses the same creds and authz) and the destination's address.
  void set_transport(const MigrationTls& tls, const std::string& nbd_host);
  // A progress line while the disks copy ("disk [###…] …").
  void set_progress_handler(std::function<void(const std::string&)> h) { on_progress_ = std::move(h); }
  // A mirror that fails after prepare() succeeded (the RAM migration is running): the
  // caller cancels the move.
  void set_failure_handler(std::function<void(const std::string&)> h) { on_failure_ = std::move(h); }

  // Honest bandwidth (no --max-bandwidth budget): what the disks may use together beside RAM
  // (BandwidthGovernor::share_with_disks), set as each mirror's speed once they are ready.
  void set_disk_share(std::uint64_t bytes_per_s);

  void prepare(Done done);
  void complete(Done done);
  void abort(const std::string& why);
  void teardown(bool switched, std::function<void()> done);
  void on_source_event(const qmp::Event& e);

  // Appended to the memory progress line: " | disk dirty 12.0 KiB".
  [[nodiscard]] std::string status_suffix() const;
  // Per-disk reports, the link share and the NBD transport, for the summary.
  [[nodiscard]] Json summary() const;

 private:
  void run_steps(qmp::QmpClient& q, std::vector<QmpStep> steps, Done done);
  void on_disks(const Json& src_block, const Json& dst_block);
  void start_mirrors(std::size_t i);
  void poll();
  void on_jobs(const std::vector<MirrorJob>& jobs);
  void settled();
  void apply_disk_speed();
  void watch();
  void end_prepare(Result<void> r);
  void finish_complete(Result<void> r);
  void wait_gone(int tries, std::function<void()> then);
  [[nodiscard]] double ms_since(TimePoint t) const;
  [[nodiscard]] DiskReport* report(const std::string& job_id);

  boost::asio::io_context& io_;
  qmp::QmpClient& src_;
  qmp::QmpClient& dst_;
  StorageOptions opt_;
  const Clock& clock_;
  StoragePlan plan_;
  std::function<void(const std::string&)> on_progress_, on_failure_;
  Done prepare_done_, complete_done_;
  std::vector<DiskReport> reports_;
  std::map<std::string, bool> completing_;  // job id → BLOCK_JOB_COMPLETED seen
  std::vector<MirrorJob> last_jobs_;
  LinkShare share_;
  std::uint64_t disk_share_ = 0;  // set_disk_share (honest bandwidth)
  bool mirrors_started_ = false, prepared_ = false, failed_ = false, switching_ = false,
       tearing_down_ = false;
  std::string failure_;
  TimePoint mirror_start_{}, last_render_{};
  std::uint64_t last_done_bytes_ = 0;
  boost::asio::steady_timer poll_timer_, deadline_timer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace vmroam::migration
