// Switchover's actions that talk to QEMU, the FAs and the HA, and the QMP event intake. Each
// answer becomes a state-table event (switchover_machine.hpp); no decision is taken here.
#include <algorithm>

#include "common/core/log.hpp"
#include "migration/switchover.hpp"

namespace vmroam::migration {

namespace asio = boost::asio;

namespace {

constexpr int kFinalQueryAttempts = 10;
constexpr milliseconds kFinalQueryGap{50};
constexpr std::uint64_t kQemuDefaultDowntimeMs = 300;

double ms_between(TimePoint a, TimePoint b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

}  // namespace

void Switchover::set_storage(StorageMirror* storage) {
  storage_ = storage;
  if (!storage_) return;
  // A mirror that fails while RAM migrates: the move cannot complete; undo it now.
  storage_->set_failure_handler([this, alive = alive_](const std::string& why) {
    if (*alive) dispatch(Ev::cancel_requested, "storage: " + why);
  });
  // One link: the ready mirrors carry the guest's writes beside RAM. Honest bandwidth gives
  // RAM its part of the link's rate and the disks the rest (docs/migration.md).
  bw_.share_with_disks(1.0 - 1.0 / static_cast<double>(kDiskShareDivisor),
                       [this, alive = alive_](std::uint64_t bytes_per_s) {
                         if (*alive && storage_) storage_->set_disk_share(bytes_per_s);
                       });
}

void Switchover::on_source_event(const qmp::Event& e) {
  if (machine_.state == State::done) return;
  if (storage_) storage_->on_source_event(e);
  if (e.name == "MIGRATION_PASS") {
    passes_ = std::max(passes_, e.pass());
    note("source", "MIGRATION_PASS " + std::to_string(e.pass()));
    return;
  }
  if (e.name == "STOP") {
    bw_.stop();  // the last pass goes without QEMU's rate limit
    stop_ts_ = e.timestamp;
    note("source", "STOP");
    return;
  }
  if (e.name == "RESUME") {
    // The VM runs again at the source: a failed or cancelled migration.
    note("source", "RESUME");
    return;
  }
  if (e.name != "MIGRATION") return;
  const auto status = e.status();
  note("source", "MIGRATION " + status);
  if (status == "pre-switchover") {
    pre_switchover_at_ = clock_.now();
    return dispatch(Ev::src_pre_switchover);
  }
  if (status == "completed") return dispatch(Ev::src_completed);
  if (status == "failed") return report_source_failure();
  if (status == "cancelled") return dispatch(Ev::src_cancelled);
}

// QEMU says why in query-migrate's error-desc (a refused TLS handshake names the certificate
// problem): fetch it before the table hears of the failure.
void Switchover::report_source_failure() {
  src_.execute("query-migrate", Json(), [this, alive = alive_](Result<Json> r) {
    if (!*alive) return;
    auto info = r ? qmp::parse_migration_info(*r) : Result<qmp::MigrationInfo>(fail(r.error()));
    const std::string why = info ? info->error_desc : std::string();
    // Already undoing (the destination failed first): the source's reason still belongs in
    // the summary — it is the one that names a refused certificate.
    const State s = machine_.state;
    if (!why.empty() && (s == State::cancelling || s == State::cancelling_activated))
      sum_.error += " (source: " + why + ")";
    dispatch(Ev::src_failed, why);
  });
}

void Switchover::on_destination_event(const qmp::Event& e) {
  if (machine_.state == State::done) return;
  if (e.name == "RESUME") {
    resume_ts_ = e.timestamp;
    note("destination", "RESUME");
    return dispatch(Ev::dst_resumed);
  }
  if (e.name == "MIGRATION") {
    note("destination", "MIGRATION " + e.status());
    if (e.status() == "failed") dispatch(Ev::dst_failed);
  }
}

// The downtime rule raised the limit (next_downtime: no convergence under the last one).
void Switchover::relax_downtime() {
  sum_.downtime_limit_ms = downtime_.limit_ms;
  sum_.downtime.limit_ms = downtime_.limit_ms;
  src_.execute("migrate-set-parameters", Json{{"downtime-limit", downtime_.limit_ms}},
               [alive = alive_](Result<Json> r) {
                 if (*alive && !r) log_warn("downtime_relax_failed", {{"error", r.error().to_string()}});
               });
}

// Handover::early: one full pass done and what is left fits the real downtime-limit — the
// next cycle after the release stops the VM. Switch the binding now, while the VM still runs
// at the source: the FA buffers what the HA tunnels until the VM runs at the destination.
void Switchover::early_activate() {
  early_activate_at_ = clock_.now();
  activate_at_ = *early_activate_at_;
  ++sum_.activate_attempts;
  fa_->activate(opt_.visitor_id, [this, alive = alive_](Result<Json> r) {
    if (!*alive || machine_.state == State::done) return;
    note("fa", r ? "activate accepted" : "activate failed: " + r.error().to_string());
    fa_->wait_registered(
        opt_.visitor_id, opt_.registration_wait, [this, alive](Result<RegistrationOutcome> o) {
          if (!*alive || machine_.state == State::done) return;
          if (o && o->state == RegistrationOutcome::State::active) {
            sum_.registration = "active";
            sum_.handover_ms = o->handover_ms;
            sum_.activate_to_outcome_ms = ms_between(activate_at_, clock_.now());
            note("fa", "registration active (before the stop)");
            return dispatch(Ev::early_registered);
          }
          std::string why = !o ? o.error().to_string()
                               : "registration " + o->visitor_state + " code " +
                                     std::to_string(o->reply_code) + " " + o->reason;
          log_error("early_registration_not_active", {{"visitor", opt_.visitor_id}, {"why", why}});
          dispatch(Ev::early_not_registered, why);
        });
  });
}

void Switchover::release_downtime() {
  const auto target = downtime_.limit_ms ? downtime_.limit_ms : kQemuDefaultDowntimeMs;
  sum_.downtime_limit_ms = target;
  if (downtime_.limit_ms) sum_.downtime.limit_ms = target;
  note("driver", "release downtime-limit " + std::to_string(target));
  src_.execute("migrate-set-parameters", Json{{"downtime-limit", target}},
               [this, alive = alive_](Result<Json> r) {
                 if (*alive && !r) dispatch(Ev::release_refused, r.error().to_string());
               });
}

// The reply is collected later: a failed activate shows in the outcome poll after RESUME and
// the retry loop acts on it.
void Switchover::fa_activate(TimePoint at) {
  activate_at_ = at;
  ++sum_.activate_attempts;
  fa_->activate(opt_.visitor_id, [this, alive = alive_](Result<Json> r) {
    if (!*alive) return;
    if (!r) {
      log_error("fa_activate_failed", {{"error", r.error().to_string()}});
      note("fa", "activate failed: " + r.error().to_string());
    } else {
      note("fa", "activate accepted");
    }
  });
}

void Switchover::previous_fa_depart() {
  const auto seen = pre_switchover_at_;
  previous_fa_->depart(opt_.visitor_id, [this, alive = alive_, seen](Result<Json> r) {
    if (!*alive) return;
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
    dispatch(Ev::depart_answered);
  });
}

void Switchover::migrate_continue() {
  if (!storage_) return send_continue();
  // The disks' last dirty bytes go first (the guest is stopped): a mirror that cannot finish
  // is a continue refused — the move is undone and the VM runs on at the source.
  storage_->complete([this, alive = alive_](Result<void> r) {
    if (!*alive) return;
    if (!r) return dispatch(Ev::continue_refused, "storage: " + r.error().to_string());
    note("driver", "storage: mirrors completed");
    send_continue();
  });
}

void Switchover::send_continue() {
  src_.execute("migrate-continue", Json{{"state", "pre-switchover"}}, [this, alive = alive_](Result<Json> r) {
    if (*alive && !r) dispatch(Ev::continue_refused, r.error().to_string());
  });
  sum_.continue_after_pre_switchover_ms = ms_between(pre_switchover_at_, clock_.now());
  note("driver", "migrate-continue sent");
}

// migrate_cancel (the legacy underscore name in 7.2); the table waits for MIGRATION
// cancelled (or failed), or for cancel_timeout.
void Switchover::migrate_cancel() {
  src_.execute("migrate_cancel", Json(), [alive = alive_](Result<Json> r) {
    if (*alive && !r) log_warn("migrate_cancel_failed", {{"error", r.error().to_string()}});
  });
  note("driver", "migrate_cancel sent");
  deadline_timer_.expires_after(opt_.cancel_timeout);
  deadline_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (ec || !*alive) return;
    log_error("cancel_not_confirmed", {{"waited_ms", std::to_string(opt_.cancel_timeout.count())}});
    dispatch(Ev::cancel_timeout);
  });
}

// The destination went away after the source completed, before it ran the VM: the source
// still holds the whole guest (postmigrate, paused); `cont` runs it there again.
void Switchover::resume_source() {
  note("driver", "cont at the source: the destination cannot run the VM");
  src_.execute("cont", Json(), [this, alive = alive_](Result<Json> r) {
    if (!*alive) return;
    if (r) return note("source", "resumed");
    log_error("resume_source_failed", {{"error", r.error().to_string()}});
    sum_.error += "; cont at the source failed: " + r.error().to_string();
  });
}

void Switchover::final_query(int attempt) {
  src_.execute("query-migrate", Json(), [this, attempt, alive = alive_](Result<Json> r) {
    if (!*alive || machine_.state == State::done) return;
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
      sum_.downtime_bytes = info->downtime_bytes;
      sum_.passes = std::max<std::int64_t>(passes_, static_cast<std::int64_t>(info->dirty_sync_count));
      if (on_progress_) on_progress_(Progress{*info, passes_, sum_.total_time_ms / 1000.0});
    } else {
      sum_.passes = passes_;
    }
    dispatch(Ev::final_query_done);
  });
}

// No FA at the destination: the registration is the previous FA's depart (coming home), or
// nothing at all (`--fa none`).
void Switchover::settle_without_fa() {
  sum_.registration = "skipped";
  if (!previous_fa_) return;
  sum_.registration = sum_.depart == "departed" ? "departed" : "failed";
  if (sum_.depart != "departed") {
    sum_.outcome = "registration_failed";
    sum_.error = "the previous FA did not depart (" + sum_.depart + ")";
  }
}

void Switchover::wait_registration() {
  fa_->wait_registered(
      opt_.visitor_id, opt_.registration_wait, [this, alive = alive_](Result<RegistrationOutcome> r) {
        if (!*alive || machine_.state == State::done) return;
        if (r && r->state == RegistrationOutcome::State::active) {
          sum_.registration = "active";
          sum_.handover_ms = r->handover_ms;
          sum_.activate_to_outcome_ms = ms_between(activate_at_, clock_.now());
          note("fa", "registration active");
          return dispatch(Ev::registered);
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
        const auto elapsed = std::chrono::duration_cast<milliseconds>(clock_.now() - retry_started_);
        if (retry_deadline_passed(elapsed, backoff_, opt_.retry_deadline)) {
          return dispatch(Ev::gave_up, why + " (gave up after " + std::to_string(sum_.activate_attempts) +
                                           " activations)");
        }
        dispatch(Ev::not_registered, why);
      });
}

void Switchover::fa_resumed() {
  fa_->resumed(opt_.visitor_id, [this, alive = alive_](Result<Json> r) {
    if (!*alive) return;
    if (!r) log_warn("fa_resumed_failed", {{"error", r.error().to_string()}});
    note("fa", r ? "resumed" : "resumed failed: " + r.error().to_string());
    retry_started_ = clock_.now();
    backoff_ = opt_.retry_initial;
    dispatch(Ev::fa_resumed_answered);
  });
}

void Switchover::reactivate() {
  ++sum_.activate_attempts;
  activate_at_ = clock_.now();
  note("driver", "re-activate attempt " + std::to_string(sum_.activate_attempts));
  fa_->activate(opt_.visitor_id, [this, alive = alive_](Result<Json> r) {
    if (!*alive) return;
    if (!r) note("fa", "activate failed: " + r.error().to_string());
    dispatch(Ev::reactivate_answered);
  });
}

// The activation to undo may still be answering: its outcome decides depart or abort.
void Switchover::undo_wait() {
  log_error("migration_undo_activation",
            {{"outcome", sum_.outcome},
             {"action", "undoing the activation (depart or abort); check the home agent's binding"}});
  fa_->wait_registered(opt_.visitor_id, opt_.registration_wait,
                       [this, alive = alive_](Result<RegistrationOutcome> r) {
                         if (!*alive) return;
                         const bool active = r && r->state == RegistrationOutcome::State::active;
                         dispatch(active ? Ev::undo_found_active : Ev::undo_found_inactive);
                       });
}

// Depart (the activation became active: the FA refuses abort then) or abort.
void Switchover::undo_fa(bool depart) {
  auto undone = [this, alive = alive_, depart](Result<Json> u) {
    if (!*alive) return;
    const std::string how = depart ? "departed" : "aborted";
    if (u) {
      note("fa", how + " (undoing the activation)");
    } else {
      log_error("vm_unreachable_undo_failed",
                {{"visitor", opt_.visitor_id}, {"how", how}, {"error", u.error().to_string()}});
      note("fa", how + " failed: " + u.error().to_string());
    }
    dispatch(Ev::fa_undone);
  };
  if (depart) return fa_->depart(opt_.visitor_id, undone);
  fa_->abort(opt_.visitor_id, undone);
}

// HA handover calls; failures are noted, never fatal (the HA's hold is an optimisation).
void Switchover::ha_call(HomeAgentControl::Phase phase, bool report_answer) {
  std::optional<WallTime> at;
  if (phase == HomeAgentControl::Phase::stopped) at = stop_ts_;
  ha_->handover(ha_vm_id_, phase, at, [this, alive = alive_, phase, report_answer](Result<Json> r) {
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
    if (report_answer) dispatch(Ev::ha_cancel_answered);
  });
}

void Switchover::finish() {
  progress_timer_.cancel();
  deadline_timer_.cancel();
  retry_timer_.cancel();
  if (sum_.total_time_ms == 0 && migrate_at_) sum_.total_time_ms = ms_between(*migrate_at_, clock_.now());
  if (sum_.passes == 0) sum_.passes = passes_;
  bw_.stop();
  sum_.bandwidth = bw_.report();
  note("driver", "done: " + sum_.outcome);
  auto done = std::move(done_);
  done_ = nullptr;
  if (!storage_) {
    if (done) asio::post(io_, [done, s = sum_] { done(s); });
    return;
  }
  // The NBD export closes and the source lets go of the target, whichever way it went.
  storage_->teardown(sum_.switched, [this, done, alive = alive_] {
    if (!*alive) return;
    sum_.storage = storage_->summary();
    note("driver", "storage: NBD stopped");
    if (done) asio::post(io_, [done, s = sum_] { done(s); });
  });
}

}  // namespace vmroam::migration
