// The coupled migration's I/O: turns QEMU, FA and HA answers into state-table events and
// executes the table's actions (switchover.hpp, switchover_machine.hpp).
#include "migration/switchover.hpp"

#include <unistd.h>

#include <algorithm>

#include "common/core/log.hpp"
#include "migration/tcp_info.hpp"

namespace vmroam::migration {

namespace asio = boost::asio;

namespace {

constexpr const char* kMigrationFdName = "vmroam-migration";
// A completed migration can report total-time 0 at first: query again.
constexpr int kFinalQueryAttempts = 10;
constexpr milliseconds kFinalQueryGap{50};
// Handover::early: QEMU's downtime-limit while the driver holds it short of convergence. Not
// 0: a 0 threshold lets QEMU complete after the first pass without a final bitmap sync check.
constexpr std::uint64_t kHoldDowntimeMs = 1;
// QEMU 7.2's default downtime-limit, the target when the user sets none.
constexpr std::uint64_t kQemuDefaultDowntimeMs = 300;
// Progress is polled this often while an early handover waits for convergence.
constexpr milliseconds kEarlyPollInterval{100};

double ms_between(TimePoint a, TimePoint b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

Json capability_list(const std::vector<std::string>& names) {
  Json caps = Json::array();
  for (const auto& n : names) caps.push_back({{"capability", n}, {"state", true}});
  return caps;
}

}  // namespace

const char* to_string(Phase p) {
  switch (p) {
    case Phase::idle:
      return "idle";
    case Phase::preparing:
      return "preparing";
    case Phase::configuring:
      return "configuring";
    case Phase::migrating:
      return "migrating";
    case Phase::cancelling:
      return "cancelling";
    case Phase::switching:
      return "switching";
    case Phase::registering:
      return "registering";
    case Phase::aborting:
      return "aborting";
    case Phase::done:
      return "done";
  }
  std::abort();
}

Switchover::Switchover(asio::io_context& io, qmp::QmpClient& source, qmp::QmpClient& destination,
                       ForeignAgentControl* fa, SwitchoverOptions options, const Clock& clock)
    : io_(io),
      src_(source),
      dst_(destination),
      fa_(fa),
      opt_(std::move(options)),
      clock_(clock),
      open_socket_(open_tuned_migration_socket),
      progress_timer_(io),
      deadline_timer_(io),
      retry_timer_(io),
      bw_(io, source, opt_.bandwidth, clock) {
  if (opt_.listen_uri.empty()) opt_.listen_uri = opt_.uri;
  bw_.set_change_handler([this](const std::string& what) { note("driver", what); });
}

Switchover::~Switchover() {
  *alive_ = false;
  src_.set_event_handler(nullptr);
  dst_.set_event_handler(nullptr);
}

Phase Switchover::phase() const {
  const State s = machine_.state;
  if (is_pre_switch(s)) return s == State::starting ? Phase::configuring : Phase::migrating;
  switch (s) {
    case State::idle:
      return Phase::idle;
    case State::preparing:
      return Phase::preparing;
    case State::cancel_pending:
    case State::configuring:
      return Phase::configuring;
    case State::switching:
    case State::switching_src_done:
    case State::switching_dst_resumed:
      return Phase::switching;
    case State::cancelling:
    case State::cancelling_activated:
      return Phase::cancelling;
    case State::undoing:
    case State::undoing_fa:
    case State::ha_cancel_then_abort:
    case State::ha_cancel_then_done:
    case State::aborting:
      return Phase::aborting;
    case State::done:
      return Phase::done;
    default:
      return Phase::registering;
  }
}

double Switchover::since_start_ms() const { return ms_between(started_, clock_.now()); }

void Switchover::note(const std::string& side, const std::string& what) {
  sum_.timeline.push_back({since_start_ms(), side, what});
  log_info("migration_step", {{"side", side}, {"what", what}, {"state", to_string(machine_.state)}});
}

void Switchover::dispatch(Ev kind, std::string detail) {
  queued_.push_back(Event{kind, std::move(detail)});
  if (dispatching_) return;
  dispatching_ = true;
  while (!queued_.empty()) {
    Event e = std::move(queued_.front());
    queued_.erase(queued_.begin());
    auto t = transition(machine_, cfg_, e);
    if (t.next.state != machine_.state)
      log_debug("switchover_transition", {{"from", to_string(machine_.state)},
                                          {"event", to_string(e.kind)},
                                          {"to", to_string(t.next.state)}});
    machine_ = t.next;
    for (const auto& a : t.actions) execute(a);
  }
  dispatching_ = false;
}

void Switchover::start(std::function<void(const Summary&)> done) {
  done_ = std::move(done);
  started_ = clock_.now();
  sum_.tuning = opt_.tuning == Tuning::socket ? "socket" : "none";
  sum_.fa = fa_ ? fa_->describe() : "none (FA steps skipped)";
  if (ha_) sum_.ha = ha_->describe();
  cfg_.fa = fa_ != nullptr;
  cfg_.previous_fa = previous_fa_ != nullptr;
  cfg_.ha = ha_ != nullptr;
  cfg_.early = fa_ && opt_.handover == Handover::early;
  downtime_cfg_.limit_ms = opt_.downtime_limit_ms;
  downtime_cfg_.target_pause_ms = opt_.target_pause_ms;
  downtime_cfg_.path_rtt_ms = opt_.path_rtt_ms;
  downtime_cfg_.ceiling_ms = kQemuDefaultDowntimeMs;
  downtime_cfg_.raise_after_passes = opt_.downtime_raise_after_passes;
  downtime_cfg_.raise_after_s = opt_.downtime_raise_after_s;
  // A limit below QEMU's default may be raised (the downtime rule's fallback).
  const bool rule = opt_.downtime_limit_ms
                        ? *opt_.downtime_limit_ms < kQemuDefaultDowntimeMs
                        : opt_.bandwidth.mode == BandwidthMode::honest && opt_.target_pause_ms.has_value();
  cfg_.tight = !cfg_.early && rule;
  sum_.handover_mode = cfg_.early ? "early" : "switchover";
  sum_.migration_tls = opt_.tls ? describe(*opt_.tls) : "as configured by the caller";
  src_.set_event_handler([this](const qmp::Event& e) { on_source_event(e); });
  dst_.set_event_handler([this](const qmp::Event& e) { on_destination_event(e); });
  // A QMP connection that closes under us is its QEMU gone (killed, crashed): the table
  // decides where the VM can still run (docs/migration.md "Faults").
  src_.set_closed_handler([this, alive = alive_](const Error& why) {
    if (!*alive || machine_.state == State::done) return;
    note("source", "QMP connection closed: " + why.to_string());
    dispatch(Ev::src_lost, why.to_string());
  });
  dst_.set_closed_handler([this, alive = alive_](const Error& why) {
    if (!*alive || machine_.state == State::done) return;
    note("destination", "QMP connection closed: " + why.to_string());
    dispatch(Ev::dst_lost, why.to_string());
  });
  build_setup_steps();
  dispatch(Ev::start);
}

void Switchover::cancel(const std::string& why) {
  dispatch(Ev::cancel_requested, why);
  // A mirror phase in progress (a setup step) ends now; the table waits for it (cancel_pending).
  if (storage_) storage_->abort(why);
}

void Switchover::execute(const Action& a) {
  switch (a.kind) {
    case Act::set_outcome:
      sum_.outcome = a.outcome;
      sum_.error = a.error;
      log_warn("migration_outcome", {{"outcome", a.outcome}, {"error", a.error}});
      return;
    case Act::ha_prepare:
      return ha_call(HomeAgentControl::Phase::prepare, false);
    case Act::ha_stopped:
      return ha_call(HomeAgentControl::Phase::stopped, false);
    case Act::ha_cancel:
      return ha_call(HomeAgentControl::Phase::cancel, true);
    case Act::stop_timers:
      progress_timer_.cancel();
      deadline_timer_.cancel();
      return;
    case Act::disarm_timeout:
      deadline_timer_.cancel();
      return;
    case Act::mark_switched:
      sum_.switched = true;
      return;
    case Act::unmark_switched:
      sum_.switched = false;
      return;
    case Act::converged_while_held:
      sum_.handover_mode = "switchover (QEMU converged while held)";
      return;
    case Act::early_lead:
      if (stop_ts_ && early_activate_at_)
        sum_.activate_before_stop_ms = ms_between(*early_activate_at_, pre_switchover_at_);
      return;
    case Act::too_late:
      log_warn("cancel_too_late",
               {{"state", to_string(machine_.state)}, {"why", "the VM is switching over; finishing"}});
      return;
    case Act::settle_without_fa:
      return settle_without_fa();
    case Act::finish:
      return finish();
    default:
      break;
  }
  execute_qemu(a);
}

void Switchover::execute_qemu(const Action& a) {
  switch (a.kind) {
    case Act::run_setup_step:
      return run_setup_step();
    case Act::send_migrate:
      return send_migrate();
    case Act::arm_migration_timeout:
      deadline_timer_.expires_after(opt_.migration_timeout);
      deadline_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
        if (!ec && *alive) dispatch(Ev::migration_timeout);
      });
      return;
    case Act::poll_progress:
      return poll_progress();
    case Act::relax_downtime:
      return relax_downtime();
    case Act::release_downtime:
      return release_downtime();
    case Act::migrate_continue:
      return migrate_continue();
    case Act::migrate_cancel:
      return migrate_cancel();
    case Act::resume_source:
      return resume_source();
    case Act::final_query:
      sum_.total_time_ms = ms_between(migrate_at_.value_or(started_), clock_.now());
      if (stop_ts_ && resume_ts_)
        sum_.real_pause_ms = std::chrono::duration<double, std::milli>(*resume_ts_ - *stop_ts_).count();
      return final_query(0);
    default:
      return execute_fa(a);
  }
}

void Switchover::execute_fa(const Action& a) {
  switch (a.kind) {
    case Act::fa_prepare:
      fa_->prepare(opt_.visitor, [this, alive = alive_](Result<Json> r) {
        if (!*alive) return;
        if (!r) return dispatch(Ev::fa_prepare_failed, r.error().to_string());
        note("fa", "prepared");
        dispatch(Ev::fa_prepared);
      });
      return;
    case Act::early_activate:
      return early_activate();
    case Act::fa_activate:
      return fa_activate(pre_switchover_at_);
    case Act::late_activate:
      log_warn("completed_without_pre_switchover", {});
      return fa_activate(clock_.now());
    case Act::previous_fa_depart:
      return previous_fa_depart();
    case Act::fa_resumed:
      return fa_resumed();
    case Act::fa_wait_registered:
      return wait_registration();
    case Act::arm_retry:
      retry_timer_.expires_after(backoff_);
      backoff_ = std::min(backoff_ * 2, opt_.retry_max);
      retry_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
        if (!ec && *alive) dispatch(Ev::retry_due);
      });
      return;
    case Act::fa_reactivate:
      return reactivate();
    case Act::undo_wait:
      return undo_wait();
    case Act::undo_depart:
      return undo_fa(true);
    case Act::undo_abort:
      return undo_fa(false);
    case Act::fa_abort:
      fa_->abort(opt_.visitor_id, [this, alive = alive_](Result<Json> r) {
        if (!*alive) return;
        note("fa", r ? "aborted" : "abort failed: " + r.error().to_string());
        dispatch(Ev::fa_abort_answered);
      });
      return;
    default:
      log_error("switchover_unhandled_action", {{"action", to_string(a.kind)}});
      std::abort();  // every action is handled above
  }
}

// The setup script, as data: each step is one QMP command; the table runs them one by one.
// A command whose error stops the setup, labelled with the side; `may_fail`: an error is
// expected at times (object-del of an object that is not there) and ignored.
Switchover::Step Switchover::command_step(qmp::QmpClient& q, std::string name, Json args, bool may_fail) {
  return [this, &q, name, args, may_fail](std::function<void(Result<void>)> next) {
    q.execute(name, args, [&q, name, next, may_fail, alive = alive_](Result<Json> r) {
      if (!*alive) return;
      if (!r && !may_fail)
        return next(fail(r.error().code, q.name() + " " + name + ": " + r.error().context));
      next(ok());
    });
  };
}

// KVM may be unusable on the host: the summary says which accelerator ran, which QEMU, and
// how much RAM the guest boots with. Together they name the known QEMU defects the move runs
// into (qemu_hazards.hpp), which no QMP command can repair: the operator is told, in the
// summary and the log. None of the queries failing stops the move.
Switchover::Step Switchover::accelerator_step() {
  return [this](std::function<void(Result<void>)> next) {
    src_.execute("query-kvm", Json(), [this, next, alive = alive_](Result<Json> r) {
      if (!*alive) return;
      if (r && r->is_object() && r->contains("enabled") && r->at("enabled").is_boolean())
        sum_.accelerator = r->at("enabled").get<bool>() ? "kvm" : "tcg";
      src_.execute("query-version", Json(), [this, next, alive](Result<Json> v) {
        if (!*alive) return;
        std::optional<QemuVersion> version = v ? parse_qemu_version(*v) : std::nullopt;
        if (version) sum_.qemu_version = to_string(*version);
        src_.execute("query-memory-size-summary", Json(), [this, next, alive, version](Result<Json> m) {
          if (!*alive) return;
          std::optional<GuestRam> ram = m ? parse_guest_ram(*m) : std::nullopt;
          if (ram) sum_.guest_ram_bytes = ram->base_bytes;
          sum_.warnings =
              known_hazards(sum_.accelerator, version ? &*version : nullptr, ram ? &*ram : nullptr);
          for (const auto& w : sum_.warnings) log_warn("qemu_hazard", {{"id", w.id}, {"text", w.text}});
          next(ok());
        });
      });
    });
  };
}

// Tuning::socket: the driver's own connection, handed to QEMU with getfd.
Switchover::Step Switchover::tuned_socket_step() {
  return [this](std::function<void(Result<void>)> next) {
    auto fd = open_socket_(opt_.uri);
    if (!fd) return next(fail(fd.error()));
    const int f = *fd;
    src_.execute(
        "getfd", Json{{"fdname", kMigrationFdName}},
        [this, f, next, alive = alive_](Result<Json> r) {
          // QEMU holds its own copy now; the governor keeps one to read the link's rate. The
          // handshake's RTT is the path delay the downtime rule subtracts.
          if (*alive && r) {
            if (auto ti = read_tcp_info(f); ti && ti->rtt_us > 0) handshake_rtt_us_ = ti->rtt_us;
            bw_.watch_socket(::dup(f));
          }
          ::close(f);
          if (!*alive) return;
          if (!r) return next(fail(r.error().code, "source getfd: " + r.error().context));
          migrate_uri_ = std::string("fd:") + kMigrationFdName;
          next(ok());
        },
        f);
  };
}

void Switchover::build_setup_steps() {
  setup_.push_back(accelerator_step());
  std::vector<std::string> src_caps{"events", "pause-before-switchover"};
  std::vector<std::string> dst_caps{"events"};
  for (const auto& c : opt_.extra_capabilities) {
    src_caps.push_back(c);
    dst_caps.push_back(c);
  }
  setup_.push_back(
      command_step(src_, "migrate-set-capabilities", Json{{"capabilities", capability_list(src_caps)}}));
  setup_.push_back(
      command_step(dst_, "migrate-set-capabilities", Json{{"capabilities", capability_list(dst_caps)}}));
  Json params = Json::object();
  if (cfg_.early) {
    params["downtime-limit"] = kHoldDowntimeMs;
    sum_.downtime_limit_ms = kHoldDowntimeMs;
  }
  if (auto bw = bw_.initial_max_bandwidth(opt_.max_bandwidth)) params["max-bandwidth"] = *bw;
  if (!params.empty()) setup_.push_back(command_step(src_, "migrate-set-parameters", params));
  // TLS before migrate-incoming and migrate: both sides read the parameters when they connect.
  if (opt_.tls) {
    for (const auto& step : tls_setup(*opt_.tls, MigrationSide::source))
      setup_.push_back(command_step(src_, step.name, step.args, step.may_fail));
    for (const auto& step : tls_setup(*opt_.tls, MigrationSide::destination))
      setup_.push_back(command_step(dst_, step.name, step.args, step.may_fail));
  }
  // The disks move before the memory: RAM migration starts once every mirror is ready.
  if (storage_)
    setup_.push_back([this](std::function<void(Result<void>)> next) {
      note("driver", "storage: mirroring the disks");
      storage_->prepare([this, next, alive = alive_](Result<void> r) {
        if (!*alive) return;
        if (r) note("driver", "storage: mirrors ready");
        next(r);
      });
    });
  if (opt_.incoming_defer)
    setup_.push_back(command_step(dst_, "migrate-incoming", Json{{"uri", opt_.listen_uri}}));
  migrate_uri_ = opt_.uri;
  if (opt_.tuning == Tuning::socket) {
    setup_.push_back(tuned_socket_step());
  } else {
    bw_.no_socket("QEMU opens the connection itself (--tuning none)");
  }
  // Last: the rule may use the RTT of the socket just connected.
  setup_.push_back(downtime_step());
}

// The downtime rule's start value (downtime.hpp). Early handover holds QEMU at 1 ms and sets
// this value only once the registration is active (release_downtime).
Switchover::Step Switchover::downtime_step() {
  return [this](std::function<void(Result<void>)> next) {
    const auto d =
        initial_downtime(downtime_cfg_, opt_.bandwidth.mode == BandwidthMode::honest, handshake_rtt_us_);
    if (!d) return next(ok());
    downtime_.limit_ms = d->limit_ms;
    sum_.downtime.start_ms = d->limit_ms;
    sum_.downtime.why = d->why;
    note("driver", "downtime-limit " + std::to_string(d->limit_ms) + " ms: " + d->why);
    if (cfg_.early) return next(ok());
    sum_.downtime.limit_ms = d->limit_ms;
    sum_.downtime_limit_ms = d->limit_ms;
    command_step(src_, "migrate-set-parameters", Json{{"downtime-limit", d->limit_ms}})(std::move(next));
  };
}

void Switchover::run_setup_step() {
  if (next_setup_ >= setup_.size()) return dispatch(Ev::setup_done);
  setup_[next_setup_++]([this, alive = alive_](Result<void> r) {
    if (!*alive) return;
    if (!r) return dispatch(Ev::setup_failed, r.error().to_string());
    dispatch(next_setup_ == setup_.size() ? Ev::setup_done : Ev::setup_step_done);
  });
}

void Switchover::send_migrate() {
  migrate_at_ = clock_.now();
  note("driver", "migrate " + migrate_uri_);
  src_.execute("migrate", Json{{"uri", migrate_uri_}}, [this, alive = alive_](Result<Json> r) {
    if (!*alive) return;
    if (!r) {
      migrate_at_.reset();  // refused: nothing started
      return dispatch(Ev::migrate_refused,
                      make_error(r.error().code, "source migrate: " + r.error().context).to_string());
    }
    bw_.start();
    dispatch(Ev::migrate_accepted);
  });
}

// What a progress reading means for the table: early's convergence, or the downtime rule's
// raise when QEMU does not converge under a limit below its default.
void Switchover::on_progress_reading(const qmp::MigrationInfo& info) {
  const auto target = downtime_.limit_ms ? downtime_.limit_ms : kQemuDefaultDowntimeMs;
  if (auto ev = classify_progress(machine_.state, info, target)) {
    note("driver", "converging (expected downtime " + std::to_string(info.expected_downtime_ms.value_or(0)) +
                       " ms): early activate");
    return dispatch(*ev);
  }
  if (machine_.state != State::migrating_tight || info.status != "active" || !downtime_.limit_ms) return;
  const double t_s = ms_between(started_, clock_.now()) / 1000.0;
  if (auto d =
          next_downtime(downtime_cfg_, downtime_, static_cast<std::int64_t>(info.dirty_sync_count), t_s)) {
    sum_.downtime.why = d->why;
    sum_.downtime.raises = downtime_.raises;
    note("driver", "downtime-limit " + d->why);
    dispatch(Ev::progress_stalled);
  }
}

bool Switchover::polling() const {
  const State s = machine_.state;
  return (is_pre_switch(s) && s != State::starting) || s == State::switching ||
         s == State::switching_src_done || s == State::switching_dst_resumed;
}

void Switchover::poll_progress() {
  if (!polling()) return;
  src_.execute("query-migrate", Json(), [this, alive = alive_](Result<Json> r) {
    if (!*alive || machine_.state == State::done) return;
    if (r) {
      auto info = qmp::parse_migration_info(*r);
      if (info && on_progress_)
        on_progress_(
            Progress{*info, passes_, ms_between(migrate_at_.value_or(started_), clock_.now()) / 1000.0});
      if (info) on_progress_reading(*info);
    }
    if (!polling()) return;
    progress_timer_.expires_after(machine_.state == State::holding
                                      ? std::min(opt_.progress_interval, kEarlyPollInterval)
                                      : opt_.progress_interval);
    progress_timer_.async_wait([this, alive](const boost::system::error_code& ec) {
      if (!ec && *alive) poll_progress();
    });
  });
}

}  // namespace vmroam::migration
