// The switchover's state table (migration/switchover_machine.hpp), row by row: for every
// (state, event) pair that matters, the next state and the actions in order. The behaviour
// of the whole driver against fake QEMUs is switchover_test.cpp.
#include "migration/switchover_machine.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vmroam::migration {
namespace {

using A = Act;
using S = State;

struct Row {
  const char* description;
  MachineConfig cfg;
  S from;
  Ev event;
  S to;
  std::vector<Act> actions;
  Depart depart_before = Depart::none;
  Depart depart_after = Depart::none;
};

constexpr MachineConfig kFa{.fa = true};
constexpr MachineConfig kFaHa{.fa = true, .ha = true};
constexpr MachineConfig kNone{};
constexpr MachineConfig kHaOnly{.ha = true};
constexpr MachineConfig kEarly{.fa = true, .early = true};
constexpr MachineConfig kTight{.fa = true, .tight = true};
constexpr MachineConfig kHome{.previous_fa = true};  // coming home: no FA, a previous FA departs

std::vector<Act> kinds(const std::vector<Action>& actions) {
  std::vector<Act> out;
  for (const auto& a : actions) out.push_back(a.kind);
  return out;
}

std::string names(const std::vector<Act>& acts) {
  std::string s;
  for (auto a : acts) s += std::string(s.empty() ? "" : " ") + to_string(a);
  return s;
}

const std::vector<Row>& rows() {
  static const std::vector<Row> r = {
      // Start and set-up.
      {"start with an FA: prepare first", kFa, S::idle, Ev::start, S::preparing, {A::fa_prepare}},
      {"start with an HA: it records from the start",
       kFaHa,
       S::idle,
       Ev::start,
       S::preparing,
       {A::ha_prepare, A::fa_prepare}},
      {"start without FA: straight to the setup",
       kNone,
       S::idle,
       Ev::start,
       S::configuring,
       {A::run_setup_step}},
      {"prepared: setup", kFa, S::preparing, Ev::fa_prepared, S::configuring, {A::run_setup_step}},
      {"prepare refused: nothing to undo",
       kFa,
       S::preparing,
       Ev::fa_prepare_failed,
       S::done,
       {A::set_outcome, A::stop_timers, A::finish}},
      {"prepare refused with an HA: its recording is called off",
       kFaHa,
       S::preparing,
       Ev::fa_prepare_failed,
       S::ha_cancel_then_done,
       {A::set_outcome, A::stop_timers, A::ha_cancel}},
      {"cancel during prepare waits for its answer",
       kFa,
       S::preparing,
       Ev::cancel_requested,
       S::cancel_pending,
       {A::set_outcome}},
      {"… then the prepared visitor is aborted",
       kFa,
       S::cancel_pending,
       Ev::fa_prepared,
       S::aborting,
       {A::stop_timers, A::fa_abort}},
      {"… or the prepare failed anyway",
       kFa,
       S::cancel_pending,
       Ev::fa_prepare_failed,
       S::done,
       {A::set_outcome, A::stop_timers, A::finish}},
      {"setup step answered: next",
       kFa,
       S::configuring,
       Ev::setup_step_done,
       S::configuring,
       {A::run_setup_step}},
      {"setup complete: migrate", kFa, S::configuring, Ev::setup_done, S::starting, {A::send_migrate}},
      {"setup refused: abort the visitor",
       kFa,
       S::configuring,
       Ev::setup_failed,
       S::aborting,
       {A::set_outcome, A::stop_timers, A::fa_abort}},
      {"setup refused with an HA: HA cancel, then FA abort",
       kFaHa,
       S::configuring,
       Ev::setup_failed,
       S::ha_cancel_then_abort,
       {A::set_outcome, A::stop_timers, A::ha_cancel}},
      {"cancel during setup waits for the command",
       kFa,
       S::configuring,
       Ev::cancel_requested,
       S::cancel_pending,
       {A::set_outcome}},
      {"… then undoes without starting",
       kFa,
       S::cancel_pending,
       Ev::setup_step_done,
       S::aborting,
       {A::stop_timers, A::fa_abort}},
      {"… or when the step failed (cut short by the cancel): the cancel's outcome stands",
       kFa,
       S::cancel_pending,
       Ev::setup_failed,
       S::aborting,
       {A::stop_timers, A::fa_abort}},
      {"… also when it was the last",
       kNone,
       S::cancel_pending,
       Ev::setup_done,
       S::done,
       {A::stop_timers, A::finish}},
      // Migrate sent.
      {"migrate accepted",
       kFa,
       S::starting,
       Ev::migrate_accepted,
       S::migrating,
       {A::arm_migration_timeout, A::poll_progress}},
      {"migrate accepted, early: held",
       kEarly,
       S::starting,
       Ev::migrate_accepted,
       S::holding,
       {A::arm_migration_timeout, A::poll_progress}},
      {"migrate accepted, tight limit",
       kTight,
       S::starting,
       Ev::migrate_accepted,
       S::migrating_tight,
       {A::arm_migration_timeout, A::poll_progress}},
      {"migrate refused: nothing started, no migrate_cancel",
       kFa,
       S::starting,
       Ev::migrate_refused,
       S::aborting,
       {A::set_outcome, A::stop_timers, A::fa_abort}},
      {"cancel after migrate sent goes to QEMU",
       kFa,
       S::starting,
       Ev::cancel_requested,
       S::cancelling,
       {A::set_outcome, A::stop_timers, A::migrate_cancel}},
      {"pre-switchover before migrate's reply",
       kFa,
       S::starting,
       Ev::src_pre_switchover,
       S::switching,
       {A::disarm_timeout, A::fa_activate, A::migrate_continue, A::mark_switched}},
      {"a late migrate reply changes nothing", kFa, S::switching, Ev::migrate_accepted, S::switching, {}},
      // Migrating.
      {"pre-switchover: activate and continue in one turn",
       kFa,
       S::migrating,
       Ev::src_pre_switchover,
       S::switching,
       {A::disarm_timeout, A::fa_activate, A::migrate_continue, A::mark_switched}},
      {"pre-switchover with HA: stopped first",
       kFaHa,
       S::migrating,
       Ev::src_pre_switchover,
       S::switching,
       {A::disarm_timeout, A::ha_stopped, A::fa_activate, A::migrate_continue, A::mark_switched}},
      {"pre-switchover without FA",
       kNone,
       S::migrating,
       Ev::src_pre_switchover,
       S::switching,
       {A::disarm_timeout, A::migrate_continue, A::mark_switched}},
      {"pre-switchover coming home: the previous FA departs",
       kHome,
       S::migrating,
       Ev::src_pre_switchover,
       S::switching,
       {A::disarm_timeout, A::previous_fa_depart, A::migrate_continue, A::mark_switched},
       Depart::none,
       Depart::pending},
      {"source failed: QEMU gave up, abort the visitor",
       kFa,
       S::migrating,
       Ev::src_failed,
       S::aborting,
       {A::set_outcome, A::stop_timers, A::fa_abort}},
      {"source cancelled by someone else",
       kFa,
       S::migrating,
       Ev::src_cancelled,
       S::aborting,
       {A::set_outcome, A::stop_timers, A::fa_abort}},
      {"destination failed: cancel at the source",
       kFa,
       S::migrating,
       Ev::dst_failed,
       S::cancelling,
       {A::set_outcome, A::stop_timers, A::migrate_cancel}},
      {"cancel",
       kFa,
       S::migrating,
       Ev::cancel_requested,
       S::cancelling,
       {A::set_outcome, A::stop_timers, A::migrate_cancel}},
      {"timeout",
       kFa,
       S::migrating,
       Ev::migration_timeout,
       S::cancelling,
       {A::set_outcome, A::stop_timers, A::migrate_cancel}},
      {"completed without pre-switchover: activate late",
       kFa,
       S::migrating,
       Ev::src_completed,
       S::switching_src_done,
       {A::disarm_timeout, A::mark_switched, A::late_activate}},
      {"resumed at the destination without pre-switchover",
       kFa,
       S::migrating,
       Ev::dst_resumed,
       S::switching_dst_resumed,
       {A::disarm_timeout, A::mark_switched, A::late_activate}},
      {"stalled with a tight limit: the rule raised it",
       kTight,
       S::migrating_tight,
       Ev::progress_stalled,
       S::migrating_tight,
       {A::relax_downtime}},
      {"QEMU's default is never raised", kTight, S::migrating, Ev::progress_stalled, S::migrating, {}},
      {"converging is for early only", kFa, S::migrating, Ev::progress_converging, S::migrating, {}},
      // Early handover.
      {"early: converging, activate",
       kEarly,
       S::holding,
       Ev::progress_converging,
       S::activating_early,
       {A::early_activate}},
      {"early: registered, release",
       kEarly,
       S::activating_early,
       Ev::early_registered,
       S::released,
       {A::release_downtime}},
      {"early: refused, cancel and undo the activation",
       kEarly,
       S::activating_early,
       Ev::early_not_registered,
       S::cancelling_activated,
       {A::set_outcome, A::stop_timers, A::migrate_cancel}},
      {"early: release refused",
       kEarly,
       S::released,
       Ev::release_refused,
       S::cancelling_activated,
       {A::set_outcome, A::stop_timers, A::migrate_cancel}},
      {"early: pre-switchover after release, no second activate",
       kEarly,
       S::released,
       Ev::src_pre_switchover,
       S::switching,
       {A::disarm_timeout, A::early_lead, A::migrate_continue, A::mark_switched}},
      {"early: QEMU converged while held",
       kEarly,
       S::holding,
       Ev::src_pre_switchover,
       S::switching,
       {A::disarm_timeout, A::converged_while_held, A::fa_activate, A::migrate_continue, A::mark_switched}},
      {"early: source failed after the activation: undo it",
       kEarly,
       S::released,
       Ev::src_failed,
       S::undoing,
       {A::set_outcome, A::stop_timers, A::undo_wait}},
      {"early: a late reply after the stop changes nothing",
       kEarly,
       S::switching,
       Ev::early_registered,
       S::switching,
       {}},
      // Switching.
      {"source completed", kFa, S::switching, Ev::src_completed, S::switching_src_done, {}},
      {"destination resumed", kFa, S::switching, Ev::dst_resumed, S::switching_dst_resumed, {}},
      {"both: finalize",
       kFa,
       S::switching_src_done,
       Ev::dst_resumed,
       S::finalizing,
       {A::stop_timers, A::final_query}},
      {"both, other order",
       kFa,
       S::switching_dst_resumed,
       Ev::src_completed,
       S::finalizing,
       {A::stop_timers, A::final_query}},
      {"continue refused: cancel and undo",
       kFa,
       S::switching,
       Ev::continue_refused,
       S::cancelling_activated,
       {A::unmark_switched, A::set_outcome, A::stop_timers, A::migrate_cancel}},
      {"continue refused without FA",
       kNone,
       S::switching,
       Ev::continue_refused,
       S::cancelling,
       {A::unmark_switched, A::set_outcome, A::stop_timers, A::migrate_cancel}},
      {"source failed after continue (QEMU runs the VM there again): undo the activation",
       kFa,
       S::switching,
       Ev::src_failed,
       S::undoing,
       {A::set_outcome, A::unmark_switched, A::stop_timers, A::undo_wait}},
      {"… without FA: HA cancel",
       kHaOnly,
       S::switching,
       Ev::src_failed,
       S::ha_cancel_then_done,
       {A::set_outcome, A::unmark_switched, A::stop_timers, A::ha_cancel}},
      {"cancel after the switch: too late",
       kFa,
       S::switching,
       Ev::cancel_requested,
       S::switching,
       {A::too_late}},
      {"a timeout after the switch is stale", kFa, S::switching, Ev::migration_timeout, S::switching, {}},
      // After the move.
      {"final query: FA resumed", kFa, S::finalizing, Ev::final_query_done, S::resuming, {A::fa_resumed}},
      {"final query, no FA: done",
       kNone,
       S::finalizing,
       Ev::final_query_done,
       S::done,
       {A::settle_without_fa, A::finish}},
      {"final query, depart pending: wait for it",
       kHome,
       S::finalizing,
       Ev::final_query_done,
       S::awaiting_depart,
       {},
       Depart::pending,
       Depart::pending},
      {"final query, depart answered: done",
       kHome,
       S::finalizing,
       Ev::final_query_done,
       S::done,
       {A::settle_without_fa, A::finish},
       Depart::answered,
       Depart::answered},
      {"depart answers while switching",
       kHome,
       S::switching,
       Ev::depart_answered,
       S::switching,
       {},
       Depart::pending,
       Depart::answered},
      {"depart answers last",
       kHome,
       S::awaiting_depart,
       Ev::depart_answered,
       S::done,
       {A::settle_without_fa, A::finish},
       Depart::pending,
       Depart::answered},
      {"resumed: wait for the registration",
       kFa,
       S::resuming,
       Ev::fa_resumed_answered,
       S::registering,
       {A::fa_wait_registered}},
      {"registered: done", kFa, S::registering, Ev::registered, S::done, {A::finish}},
      {"not registered: back off", kFa, S::registering, Ev::not_registered, S::retry_wait, {A::arm_retry}},
      {"backoff over: activate again",
       kFa,
       S::retry_wait,
       Ev::retry_due,
       S::reactivating,
       {A::fa_reactivate}},
      {"re-activated: wait again",
       kFa,
       S::reactivating,
       Ev::reactivate_answered,
       S::registering,
       {A::fa_wait_registered}},
      {"deadline: give up loudly, never undo",
       kFa,
       S::registering,
       Ev::gave_up,
       S::done,
       {A::set_outcome, A::finish}},
      {"cancel while registering: too late",
       kFa,
       S::registering,
       Ev::cancel_requested,
       S::registering,
       {A::too_late}},
      // Undoing.
      {"cancelled: abort the visitor",
       kFa,
       S::cancelling,
       Ev::src_cancelled,
       S::aborting,
       {A::stop_timers, A::fa_abort}},
      {"failed while cancelling: the same",
       kFa,
       S::cancelling,
       Ev::src_failed,
       S::aborting,
       {A::stop_timers, A::fa_abort}},
      {"cancel never confirmed: undo anyway",
       kFaHa,
       S::cancelling,
       Ev::cancel_timeout,
       S::ha_cancel_then_abort,
       {A::stop_timers, A::ha_cancel}},
      {"pre-switchover while cancelling: ignored",
       kFa,
       S::cancelling,
       Ev::src_pre_switchover,
       S::cancelling,
       {}},
      {"cancelled after an activation: undo it",
       kFa,
       S::cancelling_activated,
       Ev::src_cancelled,
       S::undoing,
       {A::stop_timers, A::undo_wait}},
      {"activation became active: depart",
       kFa,
       S::undoing,
       Ev::undo_found_active,
       S::undoing_fa,
       {A::undo_depart}},
      {"activation not active: abort",
       kFa,
       S::undoing,
       Ev::undo_found_inactive,
       S::undoing_fa,
       {A::undo_abort}},
      {"undone: done", kFa, S::undoing_fa, Ev::fa_undone, S::done, {A::finish}},
      {"undone with HA: HA gives back what it held",
       kFaHa,
       S::undoing_fa,
       Ev::fa_undone,
       S::ha_cancel_then_done,
       {A::ha_cancel}},
      {"HA answered: FA abort",
       kFaHa,
       S::ha_cancel_then_abort,
       Ev::ha_cancel_answered,
       S::aborting,
       {A::fa_abort}},
      {"HA answered: done", kFaHa, S::ha_cancel_then_done, Ev::ha_cancel_answered, S::done, {A::finish}},
      {"aborted: done", kFa, S::aborting, Ev::fa_abort_answered, S::done, {A::finish}},
      {"events while aborting are ignored", kFa, S::aborting, Ev::src_completed, S::aborting, {}},
      {"done is final", kFa, S::done, Ev::src_pre_switchover, S::done, {}},
      {"cancel when done: nothing", kFa, S::done, Ev::cancel_requested, S::done, {}},
  };
  return r;
}

TEST(SwitchoverMachine, Table) {
  for (const auto& row : rows()) {
    SCOPED_TRACE(std::string(row.description) + " [" + to_string(row.from) + " + " + to_string(row.event) +
                 "]");
    Machine m{row.from, row.depart_before};
    auto t = transition(m, row.cfg, Event{row.event, "why"});
    EXPECT_EQ(to_string(t.next.state), std::string(to_string(row.to)));
    EXPECT_EQ(names(kinds(t.actions)), names(row.actions));
    EXPECT_EQ(static_cast<int>(t.next.depart), static_cast<int>(row.depart_after));
  }
}

// The outcome and error a set_outcome action carries: what the summary says.
TEST(SwitchoverMachine, Outcomes) {
  struct Case {
    S from;
    Ev event;
    const char* outcome;
    const char* error;
  };
  const Case cases[] = {
      {S::preparing, Ev::fa_prepare_failed, "prepare_failed", "why"},
      {S::configuring, Ev::setup_failed, "setup_failed", "why"},
      {S::migrating, Ev::src_failed, "migration_failed", "source reported MIGRATION failed: why"},
      {S::migrating, Ev::src_cancelled, "cancelled", "source reported MIGRATION cancelled: why"},
      {S::migrating, Ev::cancel_requested, "cancelled", "why"},
      {S::migrating, Ev::migration_timeout, "timeout", "migration did not reach pre-switchover in time"},
      {S::migrating, Ev::dst_failed, "migration_failed", "destination reported MIGRATION failed"},
      {S::activating_early, Ev::early_not_registered, "registration_failed_before_switch", "why"},
      {S::switching, Ev::src_failed, "failed_after_switch",
       "source reported failed after migrate-continue: why"},
      {S::switching, Ev::continue_refused, "migration_failed", "migrate-continue: why"},
      {S::registering, Ev::gave_up, "registration_failed", "why"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(to_string(c.from)) + " + " + to_string(c.event));
    auto t = transition(Machine{c.from}, kFa, Event{c.event, "why"});
    const Action* set = nullptr;
    for (const auto& a : t.actions)
      if (a.kind == Act::set_outcome) set = &a;
    ASSERT_NE(set, nullptr);
    EXPECT_EQ(set->outcome, c.outcome);
    EXPECT_EQ(set->error, c.error);
  }
}

// A QEMU that goes away (its QMP connection closes) at each step of a move: where the table
// leaves the VM. Each case is a sequence of events from a state; the last transition's state,
// the outcome set on the way and whether `cont` went to the source.
TEST(SwitchoverMachine, AQemuThatGoesAwayLeavesTheVmOnOneSide) {
  struct Case {
    const char* description;
    S from;
    std::vector<Ev> events;
    S to;
    const char* outcome;  // "" : none set
    bool resumes_source;
  };
  const std::vector<Case> cases = {
      {"source gone while the FA prepares: wait for its answer, then abort",
       S::preparing,
       {Ev::src_lost, Ev::fa_prepared},
       S::ha_cancel_then_abort,
       "source_lost",
       false},
      {"destination gone during the setup: the failing command ends it",
       S::configuring,
       {Ev::dst_lost, Ev::setup_failed},
       S::ha_cancel_then_abort,
       "setup_failed",
       false},
      {"source gone during the memory copy: nothing to cancel, FA and HA undone",
       S::migrating,
       {Ev::src_lost},
       S::ha_cancel_then_abort,
       "source_lost",
       false},
      {"destination gone during the memory copy: cancel, the source fails, undone",
       S::migrating,
       {Ev::dst_lost, Ev::src_failed},
       S::ha_cancel_then_abort,
       "migration_failed",
       false},
      {"source gone while a cancel waits: QEMU gave up, the VM with it",
       S::cancelling,
       {Ev::src_lost},
       S::ha_cancel_then_abort,
       "source_lost",
       false},
      {"destination gone first, then the source: the VM is lost",
       S::migrating,
       {Ev::dst_lost, Ev::src_lost},
       S::ha_cancel_then_abort,
       "source_lost",
       false},
      {"source gone while the activation is undone after a cont: said so",
       S::undoing,
       {Ev::src_lost},
       S::undoing,
       "source_lost",
       false},
      {"source gone after continue, destination resumes: the move completes",
       S::switching,
       {Ev::src_lost, Ev::dst_resumed},
       S::finalizing,
       "",
       false},
      {"source gone after continue, destination's load fails: lost",
       S::switching,
       {Ev::src_lost, Ev::dst_lost},
       S::undoing,
       "vm_lost",
       false},
      {"destination gone after the source completed: cont at the source, activation undone",
       S::switching_src_done,
       {Ev::dst_lost},
       S::undoing,
       "destination_lost",
       true},
      {"destination gone, then the source completes: cont at the source",
       S::switching,
       {Ev::dst_lost, Ev::src_completed},
       S::undoing,
       "destination_lost",
       true},
      {"destination gone, then the source fails: it resumes itself",
       S::switching,
       {Ev::dst_lost, Ev::src_failed},
       S::undoing,
       "failed_after_switch",
       false},
      {"destination failed its load after the source completed: cont at the source",
       S::switching_src_done,
       {Ev::dst_failed},
       S::undoing,
       "destination_lost",
       true},
      {"source gone after the destination resumed: finalize",
       S::switching_dst_resumed,
       {Ev::src_lost},
       S::finalizing,
       "",
       false},
      {"destination gone after it resumed the VM: lost, said so",
       S::switching_dst_resumed,
       {Ev::dst_lost},
       S::done,
       "vm_lost",
       false},
      {"destination gone while registering: said so, the registration runs on",
       S::registering,
       {Ev::dst_lost},
       S::registering,
       "vm_lost",
       false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    Machine m{c.from};
    std::string got_outcome;
    bool resumed = false;
    for (auto ev : c.events) {
      auto t = transition(m, kFaHa, Event{ev, "why"});
      for (const auto& a : t.actions) {
        if (a.kind == Act::set_outcome) got_outcome = a.outcome;
        if (a.kind == Act::resume_source) resumed = true;
      }
      m = t.next;
    }
    EXPECT_EQ(to_string(m.state), std::string(to_string(c.to)));
    EXPECT_EQ(got_outcome, c.outcome);
    EXPECT_EQ(resumed, c.resumes_source);
  }
}

// Every state reaches done by some event, and done answers nothing: no state is a trap.
TEST(SwitchoverMachine, EveryStateCanFinishAndUnexpectedEventsChangeNothing) {
  for (int s = 0; s <= static_cast<int>(S::done); ++s) {
    for (int e = 0; e <= static_cast<int>(Ev::fa_abort_answered); ++e) {
      Machine m{static_cast<S>(s)};
      auto t = transition(m, kFaHa, Event{static_cast<Ev>(e), {}});
      if (t.actions.empty() && t.next.state != m.state) {
        // A silent move is allowed only inside the switching group.
        EXPECT_TRUE(t.next.state == S::switching_src_done || t.next.state == S::switching_dst_resumed ||
                    t.next.state == S::awaiting_depart)
            << to_string(m.state) << " + " << to_string(static_cast<Ev>(e));
      }
      if (m.state == S::done) {
        EXPECT_EQ(t.next.state, S::done);
        EXPECT_TRUE(t.actions.empty());
      }
      // `finish` is always the last action and only ever leads to done.
      for (std::size_t i = 0; i < t.actions.size(); ++i)
        if (t.actions[i].kind == Act::finish) {
          EXPECT_EQ(i + 1, t.actions.size());
          EXPECT_EQ(t.next.state, S::done);
        }
    }
  }
}

// Without QEMU's reason the error is the bare fact.
TEST(SwitchoverMachine, FailureWithoutReason) {
  auto t = transition(Machine{S::migrating}, kFa, Event{Ev::src_failed, ""});
  ASSERT_FALSE(t.actions.empty());
  EXPECT_EQ(t.actions.front().error, "source reported MIGRATION failed");
}

TEST(SwitchoverMachine, ClassifyProgress) {
  qmp::MigrationInfo info;
  info.status = "active";
  info.dirty_sync_count = 1;
  info.expected_downtime_ms = 50;
  EXPECT_EQ(classify_progress(S::holding, info, 300), std::nullopt) << "one pass is not enough";
  info.dirty_sync_count = 2;
  EXPECT_EQ(classify_progress(S::holding, info, 300), Ev::progress_converging);
  info.expected_downtime_ms = 301;
  EXPECT_EQ(classify_progress(S::holding, info, 300), std::nullopt) << "does not fit yet";
  info.dirty_sync_count = 10;
  EXPECT_EQ(classify_progress(S::migrating_tight, info, 50), std::nullopt)
      << "raising a tight limit is the downtime rule's (next_downtime)";
  info.status = "pre-switchover";
  info.expected_downtime_ms = 10;
  EXPECT_EQ(classify_progress(S::holding, info, 300), std::nullopt) << "only while active";
}

TEST(SwitchoverMachine, RetryDeadline) {
  using std::chrono::milliseconds;
  EXPECT_FALSE(retry_deadline_passed(milliseconds(100), milliseconds(200), milliseconds(1000)));
  EXPECT_TRUE(retry_deadline_passed(milliseconds(900), milliseconds(200), milliseconds(1000)));
}

}  // namespace
}  // namespace vmroam::migration
