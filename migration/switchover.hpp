// The coupled migration: QEMU's live migration with the network handover at its switchover
// point (docs/migration.md). Switchover does the I/O; every decision is the state table's
// (switchover_machine.hpp): QMP events and replies, FA/HA answers and timer expiries become
// Events, and the Actions that come back are executed here in order.
//
//   preparing    FA prepare (POST /v1/visitors)                 fail → nothing started
//   configuring  query-kvm; capabilities: source events + pause-before-switchover (+ extra),
//                destination events (+ extra); parameters (downtime-limit, max-bandwidth);
//                destination migrate-incoming (if -incoming defer); tuned socket + getfd;
//                max-bandwidth from the BandwidthGovernor (honest: the link's rate, learnt
//                from the tuned socket's TCP_INFO while QEMU sends, until the STOP);
//                downtime-limit from the downtime rule (downtime.hpp: target pause − RTT);
//                source migrate                                  fail → FA abort
//   migrating    progress from query-migrate every progress_interval (display, and the
//                downtime rule's stepwise raise without convergence); decisions come from
//                events:
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
#include "migration/bandwidth_governor.hpp"
#include "migration/downtime.hpp"
#include "migration/foreign_agent_control.hpp"
#include "migration/home_agent_control.hpp"
#include "migration/migration_tls.hpp"
#include "migration/progress.hpp"
#include "migration/qmp_client.hpp"
#include "migration/storage_mirror.hpp"
#include "migration/summary.hpp"
#include "migration/switchover_machine.hpp"
#include "migration/tuned_socket.hpp"

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
  // The downtime rule (downtime.hpp): --downtime-limit fixes the start value; otherwise, with
  // honest bandwidth and a target pause (--target-pause: opt-in, tight limits broke TCG guests,
  // docs/migration.md), the limit is target_pause_ms minus the path's RTT (path_rtt_ms, else
  // the migration socket's handshake RTT); either way raised stepwise without convergence.
  std::optional<std::uint64_t> downtime_limit_ms;
  std::optional<std::uint64_t> target_pause_ms;
  std::optional<std::uint64_t> path_rtt_ms;
  std::int64_t downtime_raise_after_passes = 5;
  double downtime_raise_after_s = 10;
  std::optional<std::uint64_t> max_bandwidth;   // bytes/s (BandwidthMode::qemu only)
  BandwidthConfig bandwidth;                    // honest bandwidth (bandwidth.hpp)
  std::vector<std::string> extra_capabilities;  // set on both sides
  // TLS on the migration stream: set up (or explicitly off) before migrate. nullopt: QEMU's
  // TLS parameters are left as the caller configured them (a management layer's own TLS).
  std::optional<MigrationTls> tls;
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

  // Storage migration (--copy-storage, optional): its mirrors become ready in a setup step
  // before migrate, complete at pre-switchover before migrate-continue (a failure there is
  // a refused continue: the move is undone), and are torn down before the summary.
  void set_storage(StorageMirror* storage);

  // Runs the whole move; `done` is called once with the summary.
  void start(std::function<void(const Summary&)> done);
  // SIGINT/SIGTERM: before the switch, cancel and undo; after it, too late (logged).
  void cancel(const std::string& why = "cancelled");
  [[nodiscard]] Phase phase() const;
  [[nodiscard]] State state() const { return machine_.state; }

 private:
  using Step = std::function<void(std::function<void(Result<void>)>)>;
  // Feeds the table; events raised while actions run are queued and fed in order after them.
  void dispatch(Ev kind, std::string detail = {});
  void execute(const Action& a);
  void execute_fa(const Action& a);
  void execute_qemu(const Action& a);
  void note(const std::string& side, const std::string& what);
  void build_setup_steps();
  Step command_step(qmp::QmpClient& q, std::string name, Json args, bool may_fail = false);
  Step accelerator_step();
  Step tuned_socket_step();
  Step downtime_step();
  void run_setup_step();
  void send_migrate();
  void on_source_event(const qmp::Event& e);
  void on_destination_event(const qmp::Event& e);
  void report_source_failure();
  void poll_progress();
  void on_progress_reading(const qmp::MigrationInfo& info);
  void relax_downtime();
  void early_activate();
  void release_downtime();
  void fa_activate(TimePoint at);
  void previous_fa_depart();
  void migrate_continue();
  void migrate_cancel();
  void resume_source();
  void final_query(int attempt);
  void settle_without_fa();
  void wait_registration();
  void fa_resumed();
  void reactivate();
  void undo_fa(bool depart);
  void undo_wait();
  void finish();
  void send_continue();
  void ha_call(HomeAgentControl::Phase phase, bool report_answer);
  [[nodiscard]] double since_start_ms() const;
  [[nodiscard]] bool polling() const;

  boost::asio::io_context& io_;
  qmp::QmpClient& src_;
  qmp::QmpClient& dst_;
  ForeignAgentControl* fa_;
  ForeignAgentControl* previous_fa_ = nullptr;
  HomeAgentControl* ha_ = nullptr;
  std::string ha_vm_id_;
  StorageMirror* storage_ = nullptr;
  SwitchoverOptions opt_;
  const Clock& clock_;
  ProgressHandler on_progress_;
  SocketOpener open_socket_;
  std::function<void(const Summary&)> done_;

  // The control state: all of it.
  Machine machine_;
  MachineConfig cfg_;
  std::vector<Event> queued_;
  bool dispatching_ = false;

  // Data the actions read and write (never consulted for a decision).
  Summary sum_;
  std::vector<Step> setup_;
  std::size_t next_setup_ = 0;
  std::string migrate_uri_;
  std::int64_t passes_ = 0;
  DowntimeConfig downtime_cfg_;
  DowntimeFallback downtime_;
  std::optional<std::uint32_t> handshake_rtt_us_;
  std::optional<WallTime> stop_ts_, resume_ts_;
  std::optional<TimePoint> migrate_at_, early_activate_at_;
  TimePoint started_{}, pre_switchover_at_{}, activate_at_{}, retry_started_{};
  milliseconds backoff_{0};
  boost::asio::steady_timer progress_timer_;
  boost::asio::steady_timer deadline_timer_;
  boost::asio::steady_timer retry_timer_;
  BandwidthGovernor bw_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace vmroam::migration
