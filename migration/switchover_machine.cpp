// The switchover's state table (switchover_machine.hpp). Each handler below owns a group of
// states; the comments say why a row is what it is (docs/migration.md).
#include "migration/switchover_machine.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>

namespace vmroam::migration {

namespace {

using Acts = std::vector<Action>;

Action act(Act k) { return Action{k, {}, {}}; }
Action outcome(std::string o, std::string e) { return Action{Act::set_outcome, std::move(o), std::move(e)}; }

Transition go(Machine m, State s, Acts acts = {}) {
  m.state = s;
  return Transition{m, std::move(acts)};
}

// Nothing was activated: tell the HA to call off its recording (it was told prepare at the
// start), then the FA to forget the prepared visitor, then done.
Transition unwind(Machine m, const MachineConfig& cfg, bool fa_prepared, Acts acts) {
  acts.push_back(act(Act::stop_timers));
  const bool abort = cfg.fa && fa_prepared;
  if (cfg.ha) {
    acts.push_back(act(Act::ha_cancel));
    return go(m, abort ? State::ha_cancel_then_abort : State::ha_cancel_then_done, std::move(acts));
  }
  if (abort) {
    acts.push_back(act(Act::fa_abort));
    return go(m, State::aborting, std::move(acts));
  }
  acts.push_back(act(Act::finish));
  return go(m, State::done, std::move(acts));
}

// The FA was told to activate but the VM stays at the source: wait for that registration's
// outcome, then depart (active: the FA refuses abort then) or abort; the HA cancel follows.
Transition undo_activation(Machine m, const MachineConfig& cfg, Acts acts) {
  acts.push_back(act(Act::stop_timers));
  if (cfg.fa) {
    acts.push_back(act(Act::undo_wait));
    return go(m, State::undoing, std::move(acts));
  }
  if (cfg.ha) {
    acts.push_back(act(Act::ha_cancel));
    return go(m, State::ha_cancel_then_done, std::move(acts));
  }
  acts.push_back(act(Act::finish));
  return go(m, State::done, std::move(acts));
}

// migrate_cancel, then wait for MIGRATION cancelled (or failed) before undoing anything: the
// binding stays untouched because QEMU never continued.
Transition begin_cancel(Machine m, bool activated, std::string o, std::string e) {
  return go(m, activated ? State::cancelling_activated : State::cancelling,
            {outcome(std::move(o), std::move(e)), act(Act::stop_timers), act(Act::migrate_cancel)});
}

// "what: why", or just "what" when QEMU gave no reason.
std::string with_why(std::string what, const std::string& why) {
  return why.empty() ? what : what + ": " + why;
}

constexpr const char* kSourceLost = "the source QEMU went away during the move (the guest ran only there)";
constexpr const char* kDestinationLost = "the destination QEMU went away during the move";

bool activated_early(State s) { return s == State::activating_early || s == State::released; }

// After migrate-continue the destination cannot run the VM (it died, or its load failed)
// before its RESUME: the source still has the whole guest, paused (postmigrate), so it resumes
// there and the activation is undone. With the source gone too, the guest is lost.
Transition destination_gone(Machine m, const MachineConfig& cfg, const std::string& why) {
  m.dst_lost = true;
  if (m.src_lost)
    return undo_activation(m, cfg,
                           {outcome("vm_lost", "both QEMUs went away during the switchover: " + why)});
  return undo_activation(m, cfg,
                         {outcome("destination_lost", why + "; the VM resumed at the source"),
                          act(Act::resume_source), act(Act::unmark_switched)});
}

State running_state(const MachineConfig& cfg) {
  if (cfg.early) return State::holding;
  return cfg.tight ? State::migrating_tight : State::migrating;
}

// The source is paused and nothing is committed (pause-before-switchover): every ms here is
// guest downtime, so the HA, the FA and QEMU are all told in this one turn, replies later.
Transition on_pre_switchover(Machine m, const MachineConfig& cfg) {
  Acts acts{act(Act::disarm_timeout)};
  if (cfg.ha) acts.push_back(act(Act::ha_stopped));
  if (activated_early(m.state)) {
    acts.push_back(act(Act::early_lead));
  } else if (cfg.fa) {
    if (m.state == State::holding || (m.state == State::starting && cfg.early))
      acts.push_back(act(Act::converged_while_held));
    acts.push_back(act(Act::fa_activate));
  }
  if (cfg.previous_fa) {
    acts.push_back(act(Act::previous_fa_depart));
    m.depart = Depart::pending;
  }
  acts.push_back(act(Act::migrate_continue));
  acts.push_back(act(Act::mark_switched));
  return go(m, State::switching, std::move(acts));
}

// Completed without a pre-switchover stop (the capability was refused?): the VM moved
// without the coupled activation; activate now and let the retry loop make sure it lands.
Transition on_moved_unpaused(Machine m, const MachineConfig& cfg, State next) {
  Acts acts{act(Act::disarm_timeout), act(Act::mark_switched)};
  if (cfg.fa && !activated_early(m.state)) acts.push_back(act(Act::late_activate));
  return go(m, next, std::move(acts));
}

// Before the switch: what QEMU's progress and the early registration move on (the downtime
// rule's raises, the early handover). Anything else leaves the state as it is.
Transition pre_switch_progress(const Machine& m, const Event& e) {
  switch (e.kind) {
    case Ev::progress_stalled:
      // The downtime rule raised the limit (it stops raising at QEMU's default).
      if (m.state != State::migrating_tight) break;
      return go(m, State::migrating_tight, {act(Act::relax_downtime)});
    case Ev::progress_converging:
      if (m.state != State::holding) break;
      return go(m, State::activating_early, {act(Act::early_activate)});
    case Ev::early_registered:
      if (m.state != State::activating_early) break;
      return go(m, State::released, {act(Act::release_downtime)});
    case Ev::early_not_registered:
      // Nothing moved yet: cancel; the VM runs on at the source and keeps its binding.
      if (m.state != State::activating_early) break;
      return begin_cancel(m, true, "registration_failed_before_switch", e.detail);
    case Ev::release_refused:
      if (m.state != State::released) break;
      return begin_cancel(m, true, "migration_failed", "release downtime-limit: " + e.detail);
    default:
      break;
  }
  return go(m, m.state);
}

// States from `starting` up to the switch: QEMU is moving memory; nothing is committed.
Transition pre_switch(const Machine& m, const MachineConfig& cfg, const Event& e) {
  const bool activated = activated_early(m.state);
  const bool starting = m.state == State::starting;
  switch (e.kind) {
    case Ev::migrate_accepted:
      if (!starting) break;
      return go(m, running_state(cfg), {act(Act::arm_migration_timeout), act(Act::poll_progress)});
    case Ev::migrate_refused:
      if (!starting) break;  // events already moved us on
      return unwind(m, cfg, true, {outcome("setup_failed", e.detail)});
    case Ev::src_pre_switchover:
      return on_pre_switchover(m, cfg);
    case Ev::src_completed:
      return on_moved_unpaused(m, cfg, State::switching_src_done);
    case Ev::dst_resumed:
      return on_moved_unpaused(m, cfg, State::switching_dst_resumed);
    case Ev::src_failed:
    case Ev::src_cancelled: {
      // QEMU already gave up (no migrate_cancel needed); the VM runs on at the source.
      const bool failed = e.kind == Ev::src_failed;
      Acts acts{outcome(
          failed ? "migration_failed" : "cancelled",
          with_why(std::string("source reported MIGRATION ") + (failed ? "failed" : "cancelled"), e.detail))};
      return activated ? undo_activation(m, cfg, std::move(acts)) : unwind(m, cfg, true, std::move(acts));
    }
    case Ev::dst_failed:
      if (starting) break;
      return begin_cancel(m, activated, "migration_failed", "destination reported MIGRATION failed");
    case Ev::src_lost: {
      // The guest ran only there: nothing to cancel, nothing moved; the binding is put back.
      Machine n = m;
      n.src_lost = true;
      Acts acts{outcome("source_lost", with_why(kSourceLost, e.detail))};
      return activated ? undo_activation(n, cfg, std::move(acts)) : unwind(n, cfg, true, std::move(acts));
    }
    case Ev::dst_lost: {
      // As a destination failure: the source fails its migration on its own (the stream
      // broke); cancel to be sure. The VM runs on at the source.
      Machine n = m;
      n.dst_lost = true;
      return begin_cancel(n, activated, "migration_failed", kDestinationLost);
    }
    case Ev::cancel_requested:
      return begin_cancel(m, activated, "cancelled", e.detail);
    case Ev::migration_timeout:
      if (starting) break;
      return begin_cancel(m, activated, "timeout", "migration did not reach pre-switchover in time");
    default:
      return pre_switch_progress(m, e);
  }
  return go(m, m.state);
}

// A QEMU went away (or the destination's load failed) after migrate-continue.
Transition switching_lost(const Machine& m, const MachineConfig& cfg, const Event& e, const Acts& finalize) {
  Machine n = m;
  if (e.kind == Ev::src_lost) {
    // The destination may have every page (then its RESUME follows) or not (its load fails
    // and it goes away: dst_lost). After its RESUME the source is not needed any more.
    n.src_lost = true;
    if (m.state == State::switching) return go(n, State::switching_src_done);
    if (m.state == State::switching_dst_resumed) return go(n, State::finalizing, finalize);
    return go(n, m.state);
  }
  const std::string why = e.kind == Ev::dst_lost ? "the destination QEMU went away before it resumed the VM"
                                                 : "the destination reported MIGRATION failed";
  if (m.state == State::switching_src_done || (m.state == State::switching && m.src_lost))
    return destination_gone(m, cfg, why);
  if (e.kind == Ev::dst_lost) n.dst_lost = true;
  if (m.state == State::switching) return go(n, m.state);  // the source's verdict follows
  // After its RESUME: the guest ran there and is gone with it.
  if (e.kind == Ev::dst_lost)
    return go(n, State::done,
              {outcome("vm_lost", "the destination QEMU went away after the VM resumed there"),
               act(Act::stop_timers), act(Act::finish)});
  return go(n, m.state);
}

// After migrate-continue: the VM is (or will be) at the destination; no more cancelling.
Transition switching(const Machine& m, const MachineConfig& cfg, const Event& e) {
  const Acts finalize{act(Act::stop_timers), act(Act::final_query)};
  switch (e.kind) {
    case Ev::src_completed:
      if (m.state == State::switching && m.dst_lost)
        return destination_gone(m, cfg, "the destination QEMU went away before it resumed the VM");
      if (m.state == State::switching) return go(m, State::switching_src_done);
      if (m.state == State::switching_dst_resumed) return go(m, State::finalizing, finalize);
      break;
    case Ev::src_lost:
    case Ev::dst_lost:
    case Ev::dst_failed:
      return switching_lost(m, cfg, e, finalize);
    case Ev::dst_resumed:
      if (m.state == State::switching) return go(m, State::switching_dst_resumed);
      if (m.state == State::switching_src_done) return go(m, State::finalizing, finalize);
      break;
    case Ev::src_failed:
    case Ev::src_cancelled:
      // QEMU 7.2 runs the VM at the source again when its migration fails (it was running
      // before the stop): the VM did not move.
      return undo_activation(
          m, cfg,
          {outcome("failed_after_switch", with_why(std::string("source reported ") +
                                                       (e.kind == Ev::src_failed ? "failed" : "cancelled") +
                                                       " after migrate-continue",
                                                   e.detail)),
           act(Act::unmark_switched)});
    case Ev::continue_refused:
      // QEMU would not continue: the migration is stuck paused or failed; undo.
      if (m.state != State::switching) break;
      {
        auto t = begin_cancel(m, cfg.fa, "migration_failed", "migrate-continue: " + e.detail);
        t.actions.insert(t.actions.begin(), act(Act::unmark_switched));
        return t;
      }
    case Ev::cancel_requested:
      return go(m, m.state, {act(Act::too_late)});
    default:
      break;
  }
  return go(m, m.state);
}

// After both sides are done: the registration must land (or, without an FA, the depart).
Transition after_move(const Machine& m, const MachineConfig& cfg, const Event& e) {
  const Acts settle{act(Act::settle_without_fa), act(Act::finish)};
  switch (e.kind) {
    case Ev::final_query_done:
      if (m.state != State::finalizing) break;
      if (cfg.fa) return go(m, State::resuming, {act(Act::fa_resumed)});
      if (m.depart == Depart::pending) return go(m, State::awaiting_depart);
      return go(m, State::done, settle);
    case Ev::depart_answered:
      if (m.state == State::awaiting_depart) return go(m, State::done, settle);
      break;
    case Ev::fa_resumed_answered:
      if (m.state == State::resuming) return go(m, State::registering, {act(Act::fa_wait_registered)});
      break;
    case Ev::registered:
      if (m.state == State::registering) return go(m, State::done, {act(Act::finish)});
      break;
    case Ev::not_registered:
      if (m.state == State::registering) return go(m, State::retry_wait, {act(Act::arm_retry)});
      break;
    case Ev::gave_up:
      if (m.state == State::registering)
        return go(m, State::done, {outcome("registration_failed", e.detail), act(Act::finish)});
      break;
    case Ev::retry_due:
      if (m.state == State::retry_wait) return go(m, State::reactivating, {act(Act::fa_reactivate)});
      break;
    case Ev::dst_lost: {
      // The VM ran at the destination and went with it: said loudly; the registration steps
      // run on (the binding follows where the VM last ran).
      Machine n = m;
      n.dst_lost = true;
      return go(n, m.state,
                {outcome("vm_lost", "the destination QEMU went away after the VM resumed there")});
    }
    case Ev::reactivate_answered:
      if (m.state == State::reactivating) return go(m, State::registering, {act(Act::fa_wait_registered)});
      break;
    case Ev::cancel_requested:
      return go(m, m.state, {act(Act::too_late)});
    default:
      break;
  }
  return go(m, m.state);
}

// Undoing: every state waits for exactly one answer and ignores the rest.
Transition unwinding(const Machine& m, const MachineConfig& cfg, const Event& e) {
  const auto s = m.state;
  const bool qemu_gave_up = e.kind == Ev::src_failed || e.kind == Ev::src_cancelled ||
                            e.kind == Ev::cancel_timeout || e.kind == Ev::src_lost;
  // The source going away while the move is undone takes the VM with it: said so.
  Acts lost;
  if (e.kind == Ev::src_lost && !m.src_lost) lost.push_back(outcome("source_lost", kSourceLost));
  if (s == State::cancelling && qemu_gave_up) return unwind(m, cfg, true, std::move(lost));
  if (s == State::cancelling_activated && qemu_gave_up) return undo_activation(m, cfg, std::move(lost));
  if (!lost.empty()) {
    Machine n = m;
    n.src_lost = true;
    return go(n, s, std::move(lost));
  }
  if (s == State::undoing && e.kind == Ev::undo_found_active)
    return go(m, State::undoing_fa, {act(Act::undo_depart)});
  if (s == State::undoing && e.kind == Ev::undo_found_inactive)
    return go(m, State::undoing_fa, {act(Act::undo_abort)});
  if (s == State::undoing_fa && e.kind == Ev::fa_undone) {
    // The VM stays at the source: the HA gives back what it held.
    if (cfg.ha) return go(m, State::ha_cancel_then_done, {act(Act::ha_cancel)});
    return go(m, State::done, {act(Act::finish)});
  }
  if (s == State::ha_cancel_then_abort && e.kind == Ev::ha_cancel_answered)
    return go(m, State::aborting, {act(Act::fa_abort)});
  if (s == State::ha_cancel_then_done && e.kind == Ev::ha_cancel_answered)
    return go(m, State::done, {act(Act::finish)});
  if (s == State::aborting && e.kind == Ev::fa_abort_answered) return go(m, State::done, {act(Act::finish)});
  return go(m, s);
}

// Before migrate: FA prepare and the setup commands, one at a time.
Transition setting_up(const Machine& m, const MachineConfig& cfg, const Event& e) {
  const auto s = m.state;
  if (s == State::idle && e.kind == Ev::start) {
    Acts acts;
    if (cfg.ha) acts.push_back(act(Act::ha_prepare));  // recording starts long before the stop
    acts.push_back(act(cfg.fa ? Act::fa_prepare : Act::run_setup_step));
    return go(m, cfg.fa ? State::preparing : State::configuring, std::move(acts));
  }
  // A cancel waits for the outstanding answer: then we know what needs undoing. So does a
  // QEMU that went away (its pending command fails, or the next one does).
  if ((s == State::preparing || s == State::configuring) && e.kind == Ev::cancel_requested)
    return go(m, State::cancel_pending, {outcome("cancelled", e.detail)});
  if ((s == State::preparing || s == State::configuring) &&
      (e.kind == Ev::src_lost || e.kind == Ev::dst_lost)) {
    Machine n = m;
    (e.kind == Ev::src_lost ? n.src_lost : n.dst_lost) = true;
    return e.kind == Ev::src_lost
               ? go(n, State::cancel_pending, {outcome("source_lost", with_why(kSourceLost, e.detail))})
               : go(n, State::cancel_pending,
                    {outcome("setup_failed", with_why(kDestinationLost, e.detail))});
  }
  const bool pending = s == State::cancel_pending;
  switch (e.kind) {
    case Ev::fa_prepared:
      if (pending) return unwind(m, cfg, true, {});
      if (s == State::preparing) return go(m, State::configuring, {act(Act::run_setup_step)});
      break;
    case Ev::fa_prepare_failed:
      if (pending || s == State::preparing)
        return unwind(m, cfg, false, {outcome("prepare_failed", e.detail)});
      break;
    case Ev::setup_step_done:
      if (pending) return unwind(m, cfg, true, {});
      if (s == State::configuring) return go(m, s, {act(Act::run_setup_step)});
      break;
    case Ev::setup_done:
      if (pending) return unwind(m, cfg, true, {});
      if (s == State::configuring) return go(m, State::starting, {act(Act::send_migrate)});
      break;
    case Ev::setup_failed:
      // While a cancel waits, a failing step (one the cancel cut short, e.g. the disks'
      // mirror phase) leaves the cancel's outcome standing.
      if (pending) return unwind(m, cfg, true, {});
      if (s == State::configuring) return unwind(m, cfg, true, {outcome("setup_failed", e.detail)});
      break;
    default:
      break;
  }
  return go(m, s);
}

}  // namespace

std::optional<Ev> classify_progress(State s, const qmp::MigrationInfo& info, std::uint64_t target_ms) {
  if (info.status != "active") return std::nullopt;
  const auto passes = static_cast<std::int64_t>(info.dirty_sync_count);
  if (s == State::holding && passes >= 2 && info.expected_downtime_ms &&
      static_cast<std::uint64_t>(std::max<std::int64_t>(*info.expected_downtime_ms, 0)) <= target_ms)
    return Ev::progress_converging;
  return std::nullopt;
}

bool retry_deadline_passed(std::chrono::milliseconds elapsed, std::chrono::milliseconds backoff,
                           std::chrono::milliseconds deadline) {
  return elapsed + backoff > deadline;
}

bool is_pre_switch(State s) {
  switch (s) {
    case State::starting:
    case State::migrating:
    case State::migrating_tight:
    case State::holding:
    case State::activating_early:
    case State::released:
      return true;
    default:
      return false;
  }
}

Transition transition(const Machine& m, const MachineConfig& cfg, const Event& e) {
  Machine base = m;
  // The previous FA's depart is its own region: its answer is noted whatever the main state.
  if (e.kind == Ev::depart_answered && base.depart == Depart::pending) base.depart = Depart::answered;
  switch (m.state) {
    case State::idle:
    case State::preparing:
    case State::cancel_pending:
    case State::configuring:
      return setting_up(base, cfg, e);
    case State::switching:
    case State::switching_src_done:
    case State::switching_dst_resumed:
      return switching(base, cfg, e);
    case State::finalizing:
    case State::awaiting_depart:
    case State::resuming:
    case State::registering:
    case State::retry_wait:
    case State::reactivating:
      return after_move(base, cfg, e);
    case State::cancelling:
    case State::cancelling_activated:
    case State::undoing:
    case State::undoing_fa:
    case State::ha_cancel_then_abort:
    case State::ha_cancel_then_done:
    case State::aborting:
      return unwinding(base, cfg, e);
    case State::done:
      return go(base, State::done);
    default:
      break;
  }
  if (is_pre_switch(m.state)) return pre_switch(base, cfg, e);
  std::abort();  // every state is handled above
}

constexpr std::array kStateNames{"idle",
                                 "preparing",
                                 "cancel_pending",
                                 "configuring",
                                 "starting",
                                 "migrating",
                                 "migrating_tight",
                                 "holding",
                                 "activating_early",
                                 "released",
                                 "switching",
                                 "switching_src_done",
                                 "switching_dst_resumed",
                                 "finalizing",
                                 "awaiting_depart",
                                 "resuming",
                                 "registering",
                                 "retry_wait",
                                 "reactivating",
                                 "cancelling",
                                 "cancelling_activated",
                                 "undoing",
                                 "undoing_fa",
                                 "ha_cancel_then_abort",
                                 "ha_cancel_then_done",
                                 "aborting",
                                 "done"};

const char* to_string(State s) {
  static_assert(kStateNames.size() == static_cast<std::size_t>(State::done) + 1);
  return kStateNames.at(static_cast<std::size_t>(s));
}

constexpr std::array kEvNames{"start",
                              "fa_prepared",
                              "fa_prepare_failed",
                              "setup_step_done",
                              "setup_done",
                              "setup_failed",
                              "migrate_accepted",
                              "migrate_refused",
                              "progress_converging",
                              "progress_stalled",
                              "early_registered",
                              "early_not_registered",
                              "release_refused",
                              "src_pre_switchover",
                              "src_completed",
                              "src_failed",
                              "src_cancelled",
                              "continue_refused",
                              "dst_resumed",
                              "dst_failed",
                              "src_lost",
                              "dst_lost",
                              "final_query_done",
                              "depart_answered",
                              "fa_resumed_answered",
                              "registered",
                              "not_registered",
                              "gave_up",
                              "retry_due",
                              "reactivate_answered",
                              "cancel_requested",
                              "migration_timeout",
                              "cancel_timeout",
                              "undo_found_active",
                              "undo_found_inactive",
                              "fa_undone",
                              "ha_cancel_answered",
                              "fa_abort_answered"};

const char* to_string(Ev e) {
  static_assert(kEvNames.size() == static_cast<std::size_t>(Ev::fa_abort_answered) + 1);
  return kEvNames.at(static_cast<std::size_t>(e));
}

constexpr std::array kActNames{"set_outcome",
                               "ha_prepare",
                               "ha_stopped",
                               "ha_cancel",
                               "fa_prepare",
                               "run_setup_step",
                               "send_migrate",
                               "arm_migration_timeout",
                               "poll_progress",
                               "disarm_timeout",
                               "stop_timers",
                               "relax_downtime",
                               "early_activate",
                               "release_downtime",
                               "fa_activate",
                               "late_activate",
                               "mark_switched",
                               "unmark_switched",
                               "converged_while_held",
                               "early_lead",
                               "previous_fa_depart",
                               "migrate_continue",
                               "migrate_cancel",
                               "resume_source",
                               "final_query",
                               "fa_resumed",
                               "fa_wait_registered",
                               "arm_retry",
                               "fa_reactivate",
                               "undo_wait",
                               "undo_depart",
                               "undo_abort",
                               "fa_abort",
                               "settle_without_fa",
                               "too_late",
                               "finish"};

const char* to_string(Act a) {
  static_assert(kActNames.size() == static_cast<std::size_t>(Act::finish) + 1);
  return kActNames.at(static_cast<std::size_t>(a));
}

}  // namespace vmroam::migration
