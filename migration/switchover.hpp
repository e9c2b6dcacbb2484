// The coupled migration: QEMU's live migration with the network handover at its switchover
// point (DESIGN.md "Migration driver"; REFERENCE.md §6 3.5–3.6).
//
//   preparing    FA prepare (POST /v1/visitors)                 fail → nothing started
//   configuring  query-kvm; capabilities: source events + pause-before-switchover (+ extra),
//                destination events (+ extra); parameters (downtime-limit, max-bandwidth);
//                destination migrate-incoming (if -incoming defer); tuned socket + getfd;
//                source migrate                                  fail → FA abort
//   migrating    progress from query-migrate every progress_interval (display only);
//                decisions come from events:
//                  src MIGRATION pre-switchover (VM already paused) → FA activate and, without
//                  waiting for its reply, migrate-continue {"state":"pre-switchover"}
//                  src MIGRATION failed/cancelled → FA abort     (binding untouched)
//                cancel()/timeout → migrate_cancel, wait for cancelled, FA abort
//                  with a previous FA (set_previous_fa: the VM leaves a foreign site, e.g.
//                  coming home), depart there in the same turn (its deregistration returns
//                  the binding to the HA's home link)
//   switching    after continue: wait for src MIGRATION completed and dst RESUME;
//                src failed after continue → undo the activation: wait for its outcome, then
//                depart if it became active (the FA refuses abort then: 409), else abort
//   registering  final query-migrate; FA resumed; wait for the registration outcome; if it
//                failed, say so loudly and re-activate with exponential backoff until it
//                succeeds or retry_deadline passes — never leave the VM unreachable silently
//   done         Summary (real pause = src STOP timestamp → dst RESUME timestamp)
//
// Timers: progress_interval (display), migration_timeout (whole pre-switch phase),
// cancel_timeout (waiting for `cancelled`), registration_wait (each long poll), retry backoff
// retry_initial doubling up to retry_max, until retry_deadline after the switch.
// Without an FA (fa == nullptr, `--fa none`) every FA step is skipped and labelled so.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/core/asio.hpp"
#include "common/core/clock.hpp"
#include "common/core/result.hpp"
#include "migration/foreign_agent_control.hpp"
#include "migration/home_agent_control.hpp"
#include "migration/progress.hpp"
#include "migration/qmp_client.hpp"

namespace vmroam::migration {

using std::chrono::milliseconds;

enum class Tuning { none, socket };

// When the FA activates (the HA switches the binding):
//  switchover  at MIGRATION pre-switchover, the source already paused: packets that reach
//              the home link between the STOP and the HA's switch meet the paused source and
//              are lost (≈ one FA→HA round trip plus the HA's commit);
//  early       the driver holds QEMU short of convergence (downtime-limit 1 ms) until the
//              last pass is small (expected downtime ≤ the real limit after ≥ 1 full pass),
//              activates, waits for the HA's reply, then releases the real downtime-limit:
//              from the switch on, the FA buffers the VM's packets until it runs there, so
//              none is lost (they wait ≤ reply + one 100 ms QEMU cycle + the pause). If QEMU
//              converges on its own first, the switchover path runs instead.
enum class Handover { switchover, early };

struct SwitchoverOptions {
  std::string uri;              // tcp:HOST:PORT — where the destination listens
  bool incoming_defer = false;  // destination started with -incoming defer
  std::string listen_uri;       // for migrate-incoming; defaults to `uri`
  Tuning tuning = Tuning::none;
  Handover handover = Handover::switchover;
  std::optional<std::uint64_t> downtime_limit_ms;
  std::optional<std::uint64_t> max_bandwidth;   // bytes/s
  std::vector<std::string> extra_capabilities;  // set on both sides
  std::string visitor_id;
  Json visitor;  // the prepare body
  milliseconds progress_interval{500};
  milliseconds migration_timeout{600'000};
  milliseconds cancel_timeout{10'000};
  milliseconds registration_wait{5'000};
  milliseconds retry_initial{200};
  milliseconds retry_max{5'000};
  milliseconds retry_deadline{60'000};
};

enum class Phase {
  idle,
  preparing,
  configuring,
  migrating,
  cancelling,
  switching,
  registering,
  aborting,
  done
};
[[nodiscard]] const char* to_string(Phase p);

struct TimelineEntry {
  double t_ms;       // since start(), driver's monotonic clock
  std::string side;  // source | destination | fa | driver
  std::string what;
};

struct Summary {
  // completed | prepare_failed | setup_failed | migration_failed | cancelled | timeout |
  // registration_failed_before_switch (early handover refused: migration cancelled) |
  // registration_failed | failed_after_switch
  std::string outcome = "completed";
  std::string error;
  std::string accelerator = "unknown";
  std::string tuning;
  std::string fa = "none";
  double total_time_ms = 0;  // migrate sent → both sides done (driver's clock)
  std::int64_t qemu_total_time_ms = 0;
  std::optional<std::int64_t> qemu_downtime_ms;
  std::uint64_t bytes_transferred = 0;
  std::int64_t passes = 0;
  std::optional<double> real_pause_ms;                     // src STOP → dst RESUME (QMP timestamps)
  std::optional<double> continue_after_pre_switchover_ms;  // event seen → continue sent
  std::optional<double> handover_ms;                       // FA-reported activate → HA reply
  std::optional<double> activate_to_outcome_ms;            // driver-measured upper bound
  // active | failed | pending | departed (no FA, previous FA departed) | skipped (--fa none)
  std::string registration = "skipped";
  std::string depart = "skipped";
  std::optional<double> depart_ms;                 // pre-switchover → the previous FA confirmed its depart
  std::string handover_mode;                       // early | switchover (what ran: early falls back)
  std::optional<std::uint64_t> downtime_limit_ms;  // the downtime-limit we set last (none: QEMU's)
  std::optional<double> activate_before_stop_ms;   // early: activate → pre-switchover seen  // the previous
                                                   // FA's depart: skipped | departed | failed: …
  int reply_code = 0;
  int activate_attempts = 0;
  std::string ha = "none";                        // the home agent told about the handover
  std::string ha_hold = "skipped";                // recording | holding | released | idle | failed: …
  std::optional<std::int64_t> recovered_packets;  // copies the HA re-sends (sent after STOP)
  bool switched = false;  // migrate-continue was sent: the VM is (or will be) at the destination
  std::vector<TimelineEntry> timeline;

  [[nodiscard]] bool ok() const { return outcome == "completed"; }
  [[nodiscard]] Json to_json() const;
};

class Switchover {
 public:
  // Opens the migration connection for Tuning::socket; returns an fd the caller passes to
  // QEMU with getfd and then closes. The real one is open_tuned_migration_socket().
  using SocketOpener = std::function<Result<int>(const std::string& uri)>;
  using ProgressHandler = std::function<void(const Progress&)>;

  // Both clients must be started (negotiated). `fa` may be null (no FA: steps skipped).
  Switchover(boost::asio::io_context& io, qmp::QmpClient& source, qmp::QmpClient& destination,
             ForeignAgentControl* fa, SwitchoverOptions options, const Clock& clock);
  ~Switchover();
  Switchover(const Switchover&) = delete;
  Switchover& operator=(const Switchover&) = delete;

  void set_progress_handler(ProgressHandler h) { on_progress_ = std::move(h); }
  void set_socket_opener(SocketOpener o) { open_socket_ = std::move(o); }
  // The FA the VM leaves (it has an active visitor for it): told to depart at the switch.
  void set_previous_fa(ForeignAgentControl* previous) { previous_fa_ = previous; }
  // The VM's home agent (optional): told prepare at the start, stopped (with the source's
  // STOP time) at pre-switchover, cancel if the move is undone; it holds the VM's packets
  // from the stop until the new binding and re-sends what reached the paused source.
  void set_home_agent(HomeAgentControl* ha, std::string vm_id) {
    ha_ = ha;
    ha_vm_id_ = std::move(vm_id);
  }

  // Runs the whole move; `done` is called once with the summary.
  void start(std::function<void(const Summary&)> done);
  // SIGINT/SIGTERM: before the switch, cancel and undo; after it, too late (logged).
  void cancel(const std::string& why = "cancelled");
  [[nodiscard]] Phase phase() const { return phase_; }

 private:
  using Step = std::function<void(std::function<void(Result<void>)>)>;
  void note(const std::string& side, const std::string& what);
  void run_steps(std::shared_ptr<std::vector<Step>> steps, std::size_t i);
  void configure();
  void on_migrate_started();
  void on_source_event(const qmp::Event& e);
  void on_destination_event(const qmp::Event& e);
  void on_pre_switchover();
  void check_switched();
  void final_query(int attempt);
  void after_completion();
  void wait_registration();
  void retry_activate();
  void poll_progress();
  void maybe_activate_early(const qmp::MigrationInfo& info);
  void maybe_relax_downtime(const qmp::MigrationInfo& info);
  void release_hold();
  // `migration_over`: QEMU already reported failed/cancelled, so no migrate_cancel is needed.
  void fail_before_switch(std::string outcome, std::string error, bool migration_over = false);
  void begin_cancel(std::string outcome, std::string error);
  void finish_cancel();
  void fa_abort_then_finish();
  void undo_after_switch();
  void finish();
  // HA handover calls; failures are noted, never fatal. ha_cancel_then runs `next` after the
  // HA answered (or at once without an HA, or if it was never prepared).
  void ha_call(HomeAgentControl::Phase phase, std::function<void()> next = {});
  void ha_cancel_then(std::function<void()> next);
  [[nodiscard]] double since_start_ms() const;

  boost::asio::io_context& io_;
  qmp::QmpClient& src_;
  qmp::QmpClient& dst_;
  ForeignAgentControl* fa_;
  ForeignAgentControl* previous_fa_ = nullptr;
  HomeAgentControl* ha_ = nullptr;
  std::string ha_vm_id_;
  bool ha_engaged_ = false;  // prepare or stopped was sent: a cancel must follow an undo
  bool depart_pending_ = false;
  enum class Early { off, holding, activating, released } early_ = Early::off;
  bool tight_downtime_ = false;  // a downtime-limit below QEMU's default is set (not relaxed yet)
  std::optional<TimePoint> early_activate_at_;
  SwitchoverOptions opt_;
  const Clock& clock_;
  ProgressHandler on_progress_;
  SocketOpener open_socket_;
  std::function<void(const Summary&)> done_;

  Phase phase_ = Phase::idle;
  Summary sum_;
  bool cancel_requested_ = false;
  std::string cancel_why_;
  bool migrate_sent_ = false;
  bool fa_prepared_ = false;
  bool src_completed_ = false;
  bool dst_resumed_ = false;
  std::int64_t passes_ = 0;
  std::optional<WallTime> stop_ts_, resume_ts_;
  TimePoint started_{}, migrate_at_{}, activate_at_{}, retry_started_{};
  milliseconds backoff_{0};
  boost::asio::steady_timer progress_timer_;
  boost::asio::steady_timer deadline_timer_;
  boost::asio::steady_timer retry_timer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// Connects TCP to the destination of a "tcp:HOST:PORT" uri with TCP_NOTSENT_LOWAT and a
// small SO_SNDBUF, so that QEMU's bandwidth estimate (bytes written per 100 ms, REFERENCE.md
// §6 3.8) counts bytes that left rather than bytes queued. Errors: "bad_uri", "connect_failed".
[[nodiscard]] Result<int> open_tuned_migration_socket(const std::string& uri);

}  // namespace vmroam::migration
