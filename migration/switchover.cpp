// The coupled migration state machine. See switchover.hpp for the phases and timers.
#include "migration/switchover.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "common/core/log.hpp"

namespace vmroam::migration {

namespace asio = boost::asio;
using qmp::Event;

namespace {

constexpr const char* kMigrationFdName = "vmroam-migration";
// A completed migration can report total-time 0 at first (TESTBED.md): query again.
constexpr int kFinalQueryAttempts = 10;
constexpr milliseconds kFinalQueryGap{50};
// Handover::early: QEMU's downtime-limit while the driver holds it short of convergence. Not
// 0: a 0 threshold lets QEMU complete after the first pass without a final bitmap sync check.
constexpr std::uint64_t kHoldDowntimeMs = 1;
// QEMU 7.2's default downtime-limit, the target when the user sets none.
constexpr std::uint64_t kQemuDefaultDowntimeMs = 300;
// A downtime-limit below QEMU's default (--downtime-limit): with the socket backlog bounded
// QEMU's bandwidth estimate is honest and a tight target is reachable, but a guest that
// dirties memory faster than the link drains it would never converge: after kRelaxAfterPasses
// passes the target goes back to QEMU's default. (Not the default: under TCG, QEMU 7.2 broke
// every large guest migrated with a 50 ms limit here — docs/migration.md.)
constexpr std::int64_t kRelaxAfterPasses = 10;
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

RegistrationOutcome outcome_from_visitor(const Json& visitor) {
  RegistrationOutcome o;
  o.visitor = visitor;
  if (!visitor.is_object()) return o;
  if (auto s = visitor.find("state"); s != visitor.end() && s->is_string())
    o.visitor_state = s->get<std::string>();
  if (o.visitor_state == "active") o.state = RegistrationOutcome::State::active;
  if (o.visitor_state == "failed" || o.visitor_state == "aborted")
    o.state = RegistrationOutcome::State::failed;
  if (auto c = visitor.find("reply_code"); c != visitor.end() && c->is_number_integer())
    o.reply_code = c->get<int>();
  if (auto r = visitor.find("reason"); r != visitor.end() && r->is_string()) o.reason = r->get<std::string>();
  auto handover = [&](const Json& obj) {
    if (!obj.is_object()) return;
    if (auto h = obj.find("handover_ms"); h != obj.end() && h->is_number()) o.handover_ms = h->get<double>();
  };
  handover(visitor);
  if (auto reg = visitor.find("registration"); reg != visitor.end()) handover(*reg);
  return o;
}

Json Summary::to_json() const {
  auto opt = [](const auto& v) -> Json { return v ? Json(*v) : Json(); };
  Json tl = Json::array();
  for (const auto& e : timeline) tl.push_back({{"t_ms", e.t_ms}, {"side", e.side}, {"what", e.what}});
  return Json{{"outcome", outcome},
              {"error", error},
              {"accelerator", accelerator},
              {"tuning", tuning},
              {"fa", fa},
              {"switched", switched},
              {"total_time_ms", total_time_ms},
              {"qemu_total_time_ms", qemu_total_time_ms},
              {"qemu_downtime_ms", opt(qemu_downtime_ms)},
              {"real_pause_ms", opt(real_pause_ms)},
              {"continue_after_pre_switchover_ms", opt(continue_after_pre_switchover_ms)},
              {"bytes_transferred", bytes_transferred},
              {"passes", passes},
              {"handover_ms", opt(handover_ms)},
              {"activate_to_outcome_ms", opt(activate_to_outcome_ms)},
              {"registration", registration},
              {"depart", depart},
              {"depart_ms", opt(depart_ms)},
              {"handover_mode", handover_mode},
              {"downtime_limit_ms", opt(downtime_limit_ms)},
              {"activate_before_stop_ms", opt(activate_before_stop_ms)},
              {"reply_code", reply_code},
              {"activate_attempts", activate_attempts},
              {"ha", ha},
              {"ha_hold", ha_hold},
              {"recovered_packets", opt(recovered_packets)},
              {"timeline", tl}};
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
      retry_timer_(io) {
  if (opt_.listen_uri.empty()) opt_.listen_uri = opt_.uri;
}

Switchover::~Switchover() {
  *alive_ = false;
  src_.set_event_handler(nullptr);
  dst_.set_event_handler(nullptr);
}

double Switchover::since_start_ms() const { return ms_between(started_, clock_.now()); }

void Switchover::note(const std::string& side, const std::string& what) {
  sum_.timeline.push_back({since_start_ms(), side, what});
  log_info("migration_step", {{"side", side}, {"what", what}, {"phase", to_string(phase_)}});
}

void Switchover::start(std::function<void(const Summary&)> done) {
  done_ = std::move(done);
  started_ = clock_.now();
  sum_.tuning = opt_.tuning == Tuning::socket ? "socket" : "none";
  sum_.fa = fa_ ? fa_->describe() : "none (FA steps skipped)";
  src_.set_event_handler([this](const Event& e) { on_source_event(e); });
  dst_.set_event_handler([this](const Event& e) { on_destination_event(e); });
  phase_ = Phase::preparing;
  if (ha_) {
    sum_.ha = ha_->describe();
    ha_call(HomeAgentControl::Phase::prepare);  // in parallel: recording starts long before the stop
  }
  if (!fa_) {
    configure();
    return;
  }
  fa_->prepare(opt_.visitor, [this, alive = alive_](Result<Json> r) {
    if (!*alive || phase_ == Phase::done) return;
    if (!r) return fail_before_switch("prepare_failed", r.error().to_string());
    fa_prepared_ = true;
    note("fa", "prepared");
    if (cancel_requested_) return fail_before_switch("cancelled", cancel_why_);
    configure();
  });
}

void Switchover::run_steps(std::shared_ptr<std::vector<Step>> steps, std::size_t i) {
  if (phase_ != Phase::configuring) return;  // cancelled or failed meanwhile
  if (cancel_requested_) return fail_before_switch("cancelled", cancel_why_);
  if (i == steps->size()) return on_migrate_started();
  (*steps)[i]([this, steps, i, alive = alive_](Result<void> r) {
    if (!*alive || phase_ != Phase::configuring) return;
    if (!r) return fail_before_switch("setup_failed", r.error().to_string());
    run_steps(steps, i + 1);
  });
}

void Switchover::configure() {
  phase_ = Phase::configuring;
  auto steps = std::make_shared<std::vector<Step>>();
  // A command whose error aborts the setup, labelled with the side.
  auto cmd = [this](qmp::QmpClient& q, std::string name, Json args) -> Step {
    return [this, &q, name, args](std::function<void(Result<void>)> next) {
      q.execute(name, args, [this, &q, name, next, alive = alive_](Result<Json> r) {
        if (!*alive) return;
        if (!r) return next(fail(r.error().code, q.name() + " " + name + ": " + r.error().context));
        next(ok());
      });
    };
  };
  steps->push_back([this](std::function<void(Result<void>)> next) {
    src_.execute("query-kvm", Json(), [this, next, alive = alive_](Result<Json> r) {
      if (!*alive) return;
      // TESTBED.md: KVM here is unusable; the summary says which accelerator ran.
      if (r && r->is_object()) sum_.accelerator = r->value("enabled", false) ? "kvm" : "tcg";
      next(ok());
    });
  });
  std::vector<std::string> src_caps{"events", "pause-before-switchover"};
  std::vector<std::string> dst_caps{"events"};
  for (const auto& c : opt_.extra_capabilities) {
    src_caps.push_back(c);
    dst_caps.push_back(c);
  }
  steps->push_back(cmd(src_, "migrate-set-capabilities", Json{{"capabilities", capability_list(src_caps)}}));
  steps->push_back(cmd(dst_, "migrate-set-capabilities", Json{{"capabilities", capability_list(dst_caps)}}));
  Json params = Json::object();
  if (opt_.downtime_limit_ms) params["downtime-limit"] = *opt_.downtime_limit_ms;
  sum_.handover_mode = fa_ && opt_.handover == Handover::early ? "early" : "switchover";
  if (fa_ && opt_.handover == Handover::early) {
    early_ = Early::holding;
    params["downtime-limit"] = kHoldDowntimeMs;
  }
  if (opt_.downtime_limit_ms && *opt_.downtime_limit_ms < kQemuDefaultDowntimeMs && early_ == Early::off)
    tight_downtime_ = true;
  if (params.contains("downtime-limit"))
    sum_.downtime_limit_ms = params["downtime-limit"].get<std::uint64_t>();
  if (opt_.max_bandwidth) params["max-bandwidth"] = *opt_.max_bandwidth;
  if (!params.empty()) steps->push_back(cmd(src_, "migrate-set-parameters", params));
  if (opt_.incoming_defer) steps->push_back(cmd(dst_, "migrate-incoming", Json{{"uri", opt_.listen_uri}}));
  auto uri = std::make_shared<std::string>(opt_.uri);
  if (opt_.tuning == Tuning::socket) {
    steps->push_back([this, uri](std::function<void(Result<void>)> next) {
      auto fd = open_socket_(opt_.uri);
      if (!fd) return next(fail(fd.error()));
      int f = *fd;
      src_.execute(
          "getfd", Json{{"fdname", kMigrationFdName}},
          [this, f, uri, next, alive = alive_](Result<Json> r) {
            ::close(f);  // QEMU holds its own copy now
            if (!*alive) return;
            if (!r) return next(fail(r.error().code, "source getfd: " + r.error().context));
            *uri = std::string("fd:") + kMigrationFdName;
            next(ok());
          },
          f);
    });
  }
  steps->push_back([this, uri](std::function<void(Result<void>)> next) {
    migrate_at_ = clock_.now();
    migrate_sent_ = true;
    note("driver", "migrate " + *uri);
    src_.execute("migrate", Json{{"uri", *uri}}, [this, next, alive = alive_](Result<Json> r) {
      if (!*alive) return;
      if (!r) {
        migrate_sent_ = false;  // refused: nothing started
        return next(fail(r.error().code, "source migrate: " + r.error().context));
      }
      next(ok());
    });
  });
  run_steps(steps, 0);
}

void Switchover::on_migrate_started() {
  if (phase_ != Phase::configuring) return;  // events may already have moved us on
  phase_ = Phase::migrating;
  deadline_timer_.expires_after(opt_.migration_timeout);
  deadline_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (ec || !*alive) return;
    if (phase_ == Phase::migrating) begin_cancel("timeout", "migration did not reach pre-switchover in time");
  });
  poll_progress();
}

void Switchover::poll_progress() {
  if (phase_ != Phase::migrating && phase_ != Phase::switching) return;
  src_.execute("query-migrate", Json(), [this, alive = alive_](Result<Json> r) {
    if (!*alive || phase_ == Phase::done) return;
    if (r) {
      auto info = qmp::parse_migration_info(*r);
      if (info && on_progress_)
        on_progress_(Progress{*info, passes_, ms_between(migrate_at_, clock_.now()) / 1000.0});
      if (info) maybe_activate_early(*info);
      if (info) maybe_relax_downtime(*info);
    }
    progress_timer_.expires_after(early_ == Early::holding
                                      ? std::min(opt_.progress_interval, kEarlyPollInterval)
                                      : opt_.progress_interval);
    progress_timer_.async_wait([this, alive](const boost::system::error_code& ec) {
      if (!ec && *alive) poll_progress();
    });
  });
}

void Switchover::maybe_relax_downtime(const qmp::MigrationInfo& info) {
  if (!tight_downtime_ || phase_ != Phase::migrating || info.status != "active" ||
      info.dirty_sync_count < kRelaxAfterPasses)
    return;
  tight_downtime_ = false;
  sum_.downtime_limit_ms = kQemuDefaultDowntimeMs;
  note("driver", "no convergence after " + std::to_string(info.dirty_sync_count) +
                     " passes: downtime-limit back to QEMU's " + std::to_string(kQemuDefaultDowntimeMs) +
                     " ms");
  src_.execute("migrate-set-parameters", Json{{"downtime-limit", kQemuDefaultDowntimeMs}},
               [alive = alive_](Result<Json> r) {
                 if (*alive && !r) log_warn("downtime_relax_failed", {{"error", r.error().to_string()}});
               });
}

// Handover::early: one full pass done and what is left fits the real downtime-limit — the
// next cycle after the release stops the VM. Switch the binding now, while the VM still runs
// at the source: the FA buffers what the HA tunnels until the VM runs at the destination.
void Switchover::maybe_activate_early(const qmp::MigrationInfo& info) {
  if (early_ != Early::holding || phase_ != Phase::migrating || info.status != "active") return;
  const auto target = opt_.downtime_limit_ms.value_or(kQemuDefaultDowntimeMs);
  if (info.dirty_sync_count < 2 || !info.expected_downtime_ms ||
      static_cast<std::uint64_t>(std::max<std::int64_t>(*info.expected_downtime_ms, 0)) > target) {
    return;
  }
  early_ = Early::activating;
  early_activate_at_ = clock_.now();
  activate_at_ = *early_activate_at_;
  ++sum_.activate_attempts;
  note("driver", "converging (expected downtime " + std::to_string(*info.expected_downtime_ms) +
                     " ms): early activate");
  fa_->activate(opt_.visitor_id, [this, alive = alive_](Result<Json> r) {
    if (!*alive || phase_ == Phase::done) return;
    note("fa", r ? "activate accepted" : "activate failed: " + r.error().to_string());
    fa_->wait_registered(
        opt_.visitor_id, opt_.registration_wait, [this, alive](Result<RegistrationOutcome> o) {
          if (!*alive || phase_ == Phase::done) return;
          if (o && o->state == RegistrationOutcome::State::active) {
            sum_.registration = "active";
            sum_.handover_ms = o->handover_ms;
            sum_.activate_to_outcome_ms = ms_between(activate_at_, clock_.now());
            note("fa", "registration active (before the stop)");
            return release_hold();
          }
          std::string why = !o ? o.error().to_string()
                               : "registration " + o->visitor_state + " code " +
                                     std::to_string(o->reply_code) + " " + o->reason;
          log_error("early_registration_not_active", {{"visitor", opt_.visitor_id}, {"why", why}});
          // Nothing moved yet: cancel, the VM runs on at the source and keeps its binding.
          if (phase_ == Phase::migrating) begin_cancel("registration_failed_before_switch", why);
        });
  });
}

void Switchover::release_hold() {
  if (early_ != Early::activating) return;
  early_ = Early::released;
  if (phase_ != Phase::migrating) return;  // QEMU stopped on its own meanwhile
  const auto target = opt_.downtime_limit_ms.value_or(kQemuDefaultDowntimeMs);
  note("driver", "release downtime-limit " + std::to_string(target));
  src_.execute("migrate-set-parameters", Json{{"downtime-limit", target}},
               [this, alive = alive_](Result<Json> r) {
                 if (!*alive || phase_ == Phase::done) return;
                 if (!r && phase_ == Phase::migrating)
                   begin_cancel("migration_failed", "release downtime-limit: " + r.error().to_string());
               });
}

void Switchover::on_source_event(const Event& e) {
  if (phase_ == Phase::done || phase_ == Phase::aborting) return;
  if (e.name == "MIGRATION_PASS") {
    passes_ = std::max(passes_, e.pass());
    note("source", "MIGRATION_PASS " + std::to_string(e.pass()));
    return;
  }
  if (e.name == "STOP") {
    stop_ts_ = e.timestamp;
    note("source", "STOP");
    return;
  }
  if (e.name == "RESUME") {
    // The VM runs again at the source: a failed or cancelled migration (REFERENCE.md 3.5).
    note("source", "RESUME");
    return;
  }
  if (e.name != "MIGRATION") return;
  auto status = e.status();
  note("source", "MIGRATION " + status);
  if (status == "pre-switchover") return on_pre_switchover();
  if (status == "completed") {
    src_completed_ = true;
    return check_switched();
  }
  if (status == "failed" || status == "cancelled") {
    if (phase_ == Phase::cancelling) return finish_cancel();
    if (sum_.switched) {
      // After migrate-continue the FA was told to activate, yet the VM stays at the source.
      log_error("migration_failed_after_switch",
                {{"status", status},
                 {"action", "undoing the activation (depart or abort); check the home agent's binding"}});
      sum_.outcome = "failed_after_switch";
      sum_.error = "source reported " + status + " after migrate-continue";
      return undo_after_switch();
    }
    return fail_before_switch(status == "failed" ? "migration_failed" : "cancelled",
                              "source reported MIGRATION " + status, /*migration_over=*/true);
  }
}

void Switchover::on_destination_event(const Event& e) {
  if (phase_ == Phase::done || phase_ == Phase::aborting) return;
  if (e.name == "RESUME") {
    resume_ts_ = e.timestamp;
    dst_resumed_ = true;
    note("destination", "RESUME");
    return check_switched();
  }
  if (e.name == "MIGRATION") {
    note("destination", "MIGRATION " + e.status());
    if (e.status() == "failed" && !sum_.switched && phase_ == Phase::migrating) {
      begin_cancel("migration_failed", "destination reported MIGRATION failed");
    }
  }
}

// The source is paused and nothing is committed yet (REFERENCE.md 3.6): every ms here is
// guest downtime, so the FA is told to activate and QEMU to continue in the same turn of
// the loop; the registration reply is collected later.
void Switchover::on_pre_switchover() {
  if (phase_ == Phase::cancelling) return;  // migrate_cancel already on its way
  if (phase_ != Phase::migrating && phase_ != Phase::configuring) return;
  if (cancel_requested_) return begin_cancel("cancelled", cancel_why_);
  auto seen = clock_.now();
  deadline_timer_.cancel();
  phase_ = Phase::switching;
  // The HA first: from its answer on, nothing more is sent to the paused source, and what
  // reached it since the STOP is re-sent once the binding moves.
  if (ha_) ha_call(HomeAgentControl::Phase::stopped);
  if (early_ == Early::activating || early_ == Early::released) {
    // Activated before the stop (Handover::early); nothing to do at the FA now.
    if (stop_ts_ && early_activate_at_) {
      sum_.activate_before_stop_ms = ms_between(*early_activate_at_, seen);
    }
  } else if (fa_) {
    if (early_ == Early::holding) sum_.handover_mode = "switchover (QEMU converged while held)";
    activate_at_ = seen;
    ++sum_.activate_attempts;
    fa_->activate(opt_.visitor_id, [this, alive = alive_](Result<Json> r) {
      if (!*alive) return;
      if (!r) {
        // Not fatal here: the outcome poll after RESUME sees it and the retry loop acts.
        log_error("fa_activate_failed", {{"error", r.error().to_string()}});
        note("fa", "activate failed: " + r.error().to_string());
      } else {
        note("fa", "activate accepted");
      }
    });
  }
  if (previous_fa_) {
    depart_pending_ = true;
    previous_fa_->depart(opt_.visitor_id, [this, alive = alive_, seen](Result<Json> r) {
      if (!*alive) return;
      depart_pending_ = false;
      if (r) {
        sum_.depart = "departed";
        sum_.depart_ms = ms_between(seen, clock_.now());
        note("previous-fa", "departed");
      } else {
        sum_.depart = "failed: " + r.error().to_string();
        // Loud: the HA may still tunnel the VM's traffic to the FA it left.
        log_error("previous_fa_depart_failed",
                  {{"visitor", opt_.visitor_id}, {"error", r.error().to_string()}});
        note("previous-fa", "depart failed: " + r.error().to_string());
      }
      if (phase_ == Phase::registering && !fa_) after_completion();
    });
  }
  src_.execute("migrate-continue", Json{{"state", "pre-switchover"}}, [this, alive = alive_](Result<Json> r) {
    if (!*alive || phase_ == Phase::done) return;
    if (!r) {
      // QEMU would not continue: the migration is stuck paused or failed; undo.
      sum_.switched = false;
      begin_cancel("migration_failed", "migrate-continue: " + r.error().to_string());
    }
  });
  sum_.switched = true;
  sum_.continue_after_pre_switchover_ms = ms_between(seen, clock_.now());
  note("driver", "migrate-continue sent");
}

void Switchover::check_switched() {
  if (!(src_completed_ && dst_resumed_)) return;
  if (phase_ == Phase::migrating) {
    // Completed without a pre-switchover stop (capability refused?): the VM moved without
    // the coupled activation; activate now and let the retry loop make sure it lands.
    log_warn("completed_without_pre_switchover", {});
    sum_.switched = true;
    if (fa_) {
      activate_at_ = clock_.now();
      ++sum_.activate_attempts;
      fa_->activate(opt_.visitor_id, [](Result<Json>) {});
    }
  } else if (phase_ != Phase::switching) {
    return;
  }
  phase_ = Phase::registering;
  deadline_timer_.cancel();
  progress_timer_.cancel();
  sum_.total_time_ms = ms_between(migrate_at_, clock_.now());
  if (stop_ts_ && resume_ts_) {
    sum_.real_pause_ms = std::chrono::duration<double, std::milli>(*resume_ts_ - *stop_ts_).count();
  }
  final_query(0);
}

void Switchover::final_query(int attempt) {
  src_.execute("query-migrate", Json(), [this, attempt, alive = alive_](Result<Json> r) {
    if (!*alive || phase_ == Phase::done) return;
    auto info = r ? qmp::parse_migration_info(*r) : Result<qmp::MigrationInfo>(fail(r.error()));
    if (info && info->total_time_ms == 0 && attempt + 1 < kFinalQueryAttempts) {
      retry_timer_.expires_after(kFinalQueryGap);
      retry_timer_.async_wait([this, attempt, alive](const boost::system::error_code& ec) {
        if (!ec && *alive) final_query(attempt + 1);
      });
      return;
    }
    if (info) {
      sum_.qemu_total_time_ms = info->total_time_ms;
      sum_.qemu_downtime_ms = info->downtime_ms;
      sum_.bytes_transferred = info->ram_transferred;
      sum_.passes = std::max<std::int64_t>(passes_, static_cast<std::int64_t>(info->dirty_sync_count));
      if (on_progress_) on_progress_(Progress{*info, passes_, sum_.total_time_ms / 1000.0});
    } else {
      sum_.passes = passes_;
    }
    after_completion();
  });
}

void Switchover::after_completion() {
  if (!fa_) {
    if (depart_pending_) return;  // the depart's answer calls us again
    sum_.registration = "skipped";
    if (previous_fa_) {
      sum_.registration = sum_.depart == "departed" ? "departed" : "failed";
      if (sum_.depart != "departed") {
        sum_.outcome = "registration_failed";
        sum_.error = "the previous FA did not depart (" + sum_.depart + ")";
      }
    }
    return finish();
  }
  fa_->resumed(opt_.visitor_id, [this, alive = alive_](Result<Json> r) {
    if (!*alive || phase_ == Phase::done) return;
    if (!r) log_warn("fa_resumed_failed", {{"error", r.error().to_string()}});
    note("fa", r ? "resumed" : "resumed failed: " + r.error().to_string());
    retry_started_ = clock_.now();
    backoff_ = opt_.retry_initial;
    wait_registration();
  });
}

void Switchover::wait_registration() {
  fa_->wait_registered(
      opt_.visitor_id, opt_.registration_wait, [this, alive = alive_](Result<RegistrationOutcome> r) {
        if (!*alive || phase_ == Phase::done) return;
        if (r && r->state == RegistrationOutcome::State::active) {
          sum_.registration = "active";
          sum_.handover_ms = r->handover_ms;
          sum_.activate_to_outcome_ms = ms_between(activate_at_, clock_.now());
          note("fa", "registration active");
          return finish();
        }
        std::string why = !r ? r.error().to_string()
                          : r->state == RegistrationOutcome::State::failed
                              ? "registration failed: code " + std::to_string(r->reply_code) + " " + r->reason
                              : "registration still pending";
        if (r) {
          sum_.registration = r->state == RegistrationOutcome::State::failed ? "failed" : "pending";
          sum_.reply_code = r->reply_code;
        } else {
          sum_.registration = "unknown";
        }
        // Loud: the VM runs at the destination but its home address may not reach it.
        log_error("vm_unreachable_registration_not_active",
                  {{"visitor", opt_.visitor_id},
                   {"why", why},
                   {"attempt", std::to_string(sum_.activate_attempts)}});
        note("fa", why);
        if (ms_between(retry_started_, clock_.now()) + static_cast<double>(backoff_.count()) >
            static_cast<double>(opt_.retry_deadline.count())) {
          sum_.outcome = "registration_failed";
          sum_.error = why + " (gave up after " + std::to_string(sum_.activate_attempts) + " activations)";
          return finish();
        }
        retry_timer_.expires_after(backoff_);
        backoff_ = std::min(backoff_ * 2, opt_.retry_max);
        retry_timer_.async_wait([this, alive](const boost::system::error_code& ec) {
          if (!ec && *alive) retry_activate();
        });
      });
}

void Switchover::retry_activate() {
  if (phase_ == Phase::done) return;
  ++sum_.activate_attempts;
  activate_at_ = clock_.now();
  note("driver", "re-activate attempt " + std::to_string(sum_.activate_attempts));
  fa_->activate(opt_.visitor_id, [this, alive = alive_](Result<Json> r) {
    if (!*alive || phase_ == Phase::done) return;
    if (!r) note("fa", "activate failed: " + r.error().to_string());
    wait_registration();
  });
}

void Switchover::cancel(const std::string& why) {
  switch (phase_) {
    case Phase::idle:
    case Phase::preparing:
    case Phase::configuring:
      cancel_requested_ = true;
      cancel_why_ = why;
      if (phase_ == Phase::configuring && migrate_sent_) begin_cancel("cancelled", why);
      return;
    case Phase::migrating:
      return begin_cancel("cancelled", why);
    case Phase::cancelling:
    case Phase::aborting:
    case Phase::done:
      return;
    case Phase::switching:
    case Phase::registering:
      log_warn("cancel_too_late",
               {{"phase", to_string(phase_)}, {"why", "the VM is switching over; finishing"}});
      return;
  }
}

void Switchover::fail_before_switch(std::string outcome, std::string error, bool migration_over) {
  if (phase_ == Phase::done || phase_ == Phase::aborting) return;
  if (migrate_sent_ && !migration_over && phase_ != Phase::cancelling) {
    return begin_cancel(std::move(outcome), std::move(error));
  }
  log_error("migration_aborted", {{"outcome", outcome}, {"error", error}});
  sum_.outcome = std::move(outcome);
  sum_.error = std::move(error);
  fa_abort_then_finish();
}

// migrate_cancel (the legacy underscore name in 7.2), then wait for MIGRATION cancelled (or
// failed) before telling the FA: the binding stays untouched because activate never ran.
void Switchover::begin_cancel(std::string outcome, std::string error) {
  if (phase_ == Phase::done || phase_ == Phase::cancelling) return;
  sum_.outcome = std::move(outcome);
  sum_.error = std::move(error);
  log_warn("migration_cancelling", {{"outcome", sum_.outcome}, {"why", sum_.error}});
  phase_ = Phase::cancelling;
  progress_timer_.cancel();
  src_.execute("migrate_cancel", Json(), [this, alive = alive_](Result<Json> r) {
    if (!*alive || phase_ != Phase::cancelling) return;
    if (!r) log_warn("migrate_cancel_failed", {{"error", r.error().to_string()}});
  });
  note("driver", "migrate_cancel sent");
  deadline_timer_.cancel();
  deadline_timer_.expires_after(opt_.cancel_timeout);
  deadline_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (ec || !*alive || phase_ != Phase::cancelling) return;
    log_error("cancel_not_confirmed", {{"waited_ms", std::to_string(opt_.cancel_timeout.count())}});
    finish_cancel();
  });
}

void Switchover::finish_cancel() {
  deadline_timer_.cancel();
  // migrate-continue refused after the FA was told to activate: that needs undoing too.
  if (sum_.activate_attempts > 0) return undo_after_switch();
  fa_abort_then_finish();
}

void Switchover::ha_call(HomeAgentControl::Phase phase, std::function<void()> next) {
  ha_engaged_ = ha_engaged_ || phase != HomeAgentControl::Phase::cancel;
  std::optional<WallTime> at;
  if (phase == HomeAgentControl::Phase::stopped) at = stop_ts_;
  ha_->handover(ha_vm_id_, phase, at, [this, alive = alive_, phase, next = std::move(next)](Result<Json> r) {
    if (!*alive) return;
    const std::string what = std::string("handover ") + to_string(phase);
    if (r) {
      sum_.ha_hold = r->value("state", "?");
      if (phase == HomeAgentControl::Phase::stopped && r->contains("recovered"))
        sum_.recovered_packets = r->value("recovered", std::int64_t{0});
      note("ha",
           what + ": " + sum_.ha_hold +
               (sum_.recovered_packets ? ", recovered " + std::to_string(*sum_.recovered_packets) : ""));
    } else {
      sum_.ha_hold = "failed: " + r.error().to_string();
      log_warn("ha_handover_failed", {{"phase", to_string(phase)}, {"error", r.error().to_string()}});
      note("ha", what + " failed: " + r.error().to_string());
    }
    if (next) next();
  });
}

void Switchover::ha_cancel_then(std::function<void()> next) {
  if (!ha_ || !ha_engaged_) return next();
  ha_engaged_ = false;
  ha_call(HomeAgentControl::Phase::cancel, std::move(next));
}

void Switchover::fa_abort_then_finish() {
  progress_timer_.cancel();
  deadline_timer_.cancel();
  if (ha_engaged_) return ha_cancel_then([this] { fa_abort_then_finish(); });
  if (!fa_ || !fa_prepared_) return finish();
  phase_ = Phase::aborting;  // waiting on the FA; events are no longer acted on
  fa_->abort(opt_.visitor_id, [this, alive = alive_](Result<Json> r) {
    if (!*alive) return;
    note("fa", r ? "aborted" : "abort failed: " + r.error().to_string());
    finish();
  });
}

// The source failed after migrate-continue: the VM stays where it was, but the FA was told to
// activate. Wait for that registration's outcome (a reply may still be on its way), then give
// the binding back: depart if it became active (abort is refused then), abort otherwise.
void Switchover::undo_after_switch() {
  progress_timer_.cancel();
  deadline_timer_.cancel();
  if (!fa_ || !fa_prepared_) return ha_cancel_then([this] { finish(); });
  phase_ = Phase::aborting;
  fa_->wait_registered(
      opt_.visitor_id, opt_.registration_wait, [this, alive = alive_](Result<RegistrationOutcome> r) {
        if (!*alive) return;
        const bool active = r && r->state == RegistrationOutcome::State::active;
        auto undone = [this, alive, active](Result<Json> u) {
          if (!*alive) return;
          const std::string how = active ? "departed" : "aborted";
          if (u) {
            note("fa", how + " (undoing the activation)");
          } else {
            log_error("vm_unreachable_undo_failed",
                      {{"visitor", opt_.visitor_id}, {"how", how}, {"error", u.error().to_string()}});
            note("fa", how + " failed: " + u.error().to_string());
          }
          // The VM stays at the source: the HA gives back what it held.
          ha_cancel_then([this] { finish(); });
        };
        if (active) {
          fa_->depart(opt_.visitor_id, undone);
        } else {
          fa_->abort(opt_.visitor_id, undone);
        }
      });
}

void Switchover::finish() {
  if (phase_ == Phase::done) return;
  phase_ = Phase::done;
  progress_timer_.cancel();
  deadline_timer_.cancel();
  retry_timer_.cancel();
  if (sum_.total_time_ms == 0 && migrate_sent_) sum_.total_time_ms = ms_between(migrate_at_, clock_.now());
  if (sum_.passes == 0) sum_.passes = passes_;
  note("driver", "done: " + sum_.outcome);
  auto done = std::move(done_);
  done_ = nullptr;
  if (done) asio::post(io_, [done, s = sum_] { done(s); });
}

Result<int> open_tuned_migration_socket(const std::string& uri) {
  if (!uri.starts_with("tcp:")) return fail("bad_uri", uri + ": --tuning socket needs tcp:HOST:PORT");
  auto rest = uri.substr(4);
  auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()) return fail("bad_uri", uri);
  auto host = rest.substr(0, colon);
  auto port = rest.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    return fail("bad_uri", uri + ": " + gai_strerror(rc));
  }
  std::string err = "no address";
  int fd = -1;
  for (addrinfo* a = res; a; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    // Set before connect so the window is sized from the start: bytes QEMU writes then
    // leave promptly, and its per-100 ms bandwidth estimate stays honest (REFERENCE.md 3.8).
    int lowat = 128 * 1024;
    int sndbuf = 256 * 1024;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof lowat);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
    err = std::strerror(errno);
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  if (fd < 0) return fail("connect_failed", uri + ": " + err);
  return fd;
}

}  // namespace vmroam::migration
