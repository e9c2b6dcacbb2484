// The coupled migration's decisions as a state table: (state, event) → (next state, actions).
// Pure: no I/O, no clocks, no logging. Switchover (switchover.hpp) turns QMP events, QMP
// replies, FA/HA answers and timer expiries into Events, feeds them here, and executes the
// Actions that come back in order. Every decision the driver takes is in transition().
//
//   idle ─start→ preparing ─fa prepared→ configuring ─setup done→ starting ─migrate ok→
//     migrating | migrating_tight (downtime-limit below QEMU's default) | holding (early)
//   holding ─converging→ activating_early ─registered→ released
//   (any pre-switch state) ─src pre-switchover→ switching ─src completed + dst RESUME→
//     finalizing → resuming → registering ⇄ retry_wait → reactivating      (FA)
//     finalizing → awaiting_depart (previous FA still answering) → done  (no FA)
//   a QEMU that dies (src_lost/dst_lost): before the switch the move is undone (the source's
//     loss takes the VM with it); after it the VM runs where it can: a destination lost before
//     its RESUME → `cont` at the source and the activation undone (docs/migration.md "Faults")
//   before the switch, errors and cancel → cancelling (migrate_cancel) → ha_cancel_then_* →
//     aborting (FA abort) → done; once the FA was told to activate → undoing (wait for the
//     registration's outcome) → undoing_fa (depart if active, abort otherwise) → done
//
// The previous FA's depart (set_previous_fa) runs beside the main flow: `Depart` is its own
// region of the machine (pending from the switch until it answers).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "migration/qmp_codec.hpp"

namespace vmroam::migration {

enum class State : std::uint8_t {
  idle,
  preparing,         // FA prepare sent
  cancel_pending,    // cancel asked while an FA prepare or a setup command is answering
  configuring,       // setup commands run one by one (capabilities, parameters, TLS, getfd)
  starting,          // migrate sent, its reply outstanding (events may overtake it)
  migrating,         // waiting for pre-switchover
  migrating_tight,   // … with a downtime-limit below QEMU's default (the rule may raise it)
  holding,           // Handover::early: held at downtime-limit 1 ms until the last pass is small
  activating_early,  // early activate sent; waiting for the registration outcome
  released,          // early registration active, real downtime-limit set
  switching,         // migrate-continue sent; waiting for src completed and dst RESUME
  switching_src_done,
  switching_dst_resumed,
  finalizing,            // final query-migrate
  awaiting_depart,       // no FA: the previous FA's depart still answering
  resuming,              // FA resumed sent
  registering,           // waiting for the registration outcome
  retry_wait,            // backoff before another activate
  reactivating,          // activate re-sent
  cancelling,            // migrate_cancel sent, nothing activated
  cancelling_activated,  // migrate_cancel sent after the FA was told to activate
  undoing,               // waiting for the outcome of an activation to undo
  undoing_fa,            // depart (active) or abort (not active) sent
  ha_cancel_then_abort,  // HA cancel sent; the FA abort follows
  ha_cancel_then_done,   // HA cancel sent; then done
  aborting,              // FA abort sent
  done
};
[[nodiscard]] const char* to_string(State s);

enum class Depart : std::uint8_t { none, pending, answered };

struct Machine {
  State state = State::idle;
  Depart depart = Depart::none;
  // A QEMU went away (its QMP connection closed: the process died) while the move was on.
  bool src_lost = false;
  bool dst_lost = false;
  friend bool operator==(const Machine&, const Machine&) = default;
};

// What does not change during a run: which parties take part, and how.
struct MachineConfig {
  bool fa = false;           // a destination FA (not `--fa none`)
  bool previous_fa = false;  // an FA the VM leaves (departs at the switch)
  bool ha = false;           // the VM's home agent (handover hold)
  bool early = false;        // Handover::early (only with an FA)
  bool tight = false;        // downtime-limit below QEMU's default, raised without convergence
};

enum class Ev : std::uint8_t {
  start,
  fa_prepared,
  fa_prepare_failed,
  setup_step_done,  // one setup command answered; more follow
  setup_done,       // the last setup command answered
  setup_failed,
  migrate_accepted,
  migrate_refused,
  progress_converging,  // early: ≥ 1 full pass and the expected downtime fits the real limit
  progress_stalled,     // tight: the downtime rule raised the limit (no convergence)
  early_registered,
  early_not_registered,
  release_refused,
  src_pre_switchover,
  src_completed,
  src_failed,
  src_cancelled,
  continue_refused,
  dst_resumed,
  dst_failed,
  src_lost,  // the source QEMU's QMP connection closed (the process died)
  dst_lost,  // the destination's
  final_query_done,
  depart_answered,
  fa_resumed_answered,
  registered,
  not_registered,  // still time to retry
  gave_up,         // not registered and the retry deadline has passed
  retry_due,
  reactivate_answered,
  cancel_requested,
  migration_timeout,
  cancel_timeout,
  undo_found_active,
  undo_found_inactive,
  fa_undone,
  ha_cancel_answered,
  fa_abort_answered,
};
[[nodiscard]] const char* to_string(Ev e);

struct Event {
  Ev kind;
  std::string detail;  // the error or reason, for the summary
};

enum class Act : std::uint8_t {
  set_outcome,  // summary outcome and error (fields below)
  ha_prepare,
  ha_stopped,
  ha_cancel,
  fa_prepare,
  run_setup_step,
  send_migrate,
  arm_migration_timeout,
  poll_progress,
  disarm_timeout,  // the migration timeout only (progress keeps being shown)
  stop_timers,     // progress poll and migration timeout
  relax_downtime,
  early_activate,  // activate, then wait for its outcome (→ early_registered / not)
  release_downtime,
  fa_activate,           // at pre-switchover: activate, reply collected later
  late_activate,         // completed without a pre-switchover stop: activate now
  mark_switched,         // migrate-continue is (about to be) sent
  unmark_switched,       // migrate-continue was refused
  converged_while_held,  // early: QEMU stopped on its own before the early activate
  early_lead,            // early: record activate → pre-switchover
  previous_fa_depart,
  migrate_continue,
  migrate_cancel,  // and arm the cancel timeout
  resume_source,   // `cont` at the source: the destination died before it ran the VM
  final_query,
  fa_resumed,
  fa_wait_registered,
  arm_retry,
  fa_reactivate,
  undo_wait,  // wait for the outcome of the activation being undone
  undo_depart,
  undo_abort,
  fa_abort,
  settle_without_fa,  // registration from the previous FA's depart (or skipped)
  too_late,           // cancel after the switch: logged, the move finishes
  finish,
};
[[nodiscard]] const char* to_string(Act a);

struct Action {
  Act kind;
  std::string outcome;  // set_outcome only
  std::string error;
  friend bool operator==(const Action&, const Action&) = default;
};

struct Transition {
  Machine next;
  std::vector<Action> actions;
};

// The table. An event a state does not expect leaves the machine as it is, with no actions.
[[nodiscard]] Transition transition(const Machine& m, const MachineConfig& cfg, const Event& e);

// What a query-migrate reply means for the table, if anything: progress_converging (holding:
// ≥ 1 full pass done and the expected downtime fits `target_ms`, the real limit). The other
// progress event, progress_stalled, is the downtime rule's (downtime.hpp: next_downtime).
[[nodiscard]] std::optional<Ev> classify_progress(State s, const qmp::MigrationInfo& info,
                                                  std::uint64_t target_ms);

// After a registration that is not active: give up if the next retry would end past the deadline.
[[nodiscard]] bool retry_deadline_passed(std::chrono::milliseconds elapsed, std::chrono::milliseconds backoff,
                                         std::chrono::milliseconds deadline);

// True while migrate was sent and QEMU may still be moving the VM (a cancel must go to QEMU).
[[nodiscard]] bool is_pre_switch(State s);

}  // namespace vmroam::migration
