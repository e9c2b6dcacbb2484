// See coupling.hpp for the table this implements.
#include "libvirt/coupling.hpp"

namespace vmroam::virt {

namespace {
using A = CouplingAction::Kind;
using E = CouplingEvent::Kind;

CouplingAction act(A k, std::string site = {}, std::optional<WallTime> at = std::nullopt) {
  return CouplingAction{k, std::move(site), at};
}

bool migration_over_badly(const std::string& status) { return status == "failed" || status == "cancelled"; }
}  // namespace

const char* to_string(CouplingAction::Kind k) {
  switch (k) {
    case A::ha_prepare:
      return "ha_prepare";
    case A::fa_prepare_local:
      return "fa_prepare_local";
    case A::find_destination:
      return "find_destination";
    case A::stop_finding:
      return "stop_finding";
    case A::ha_stopped:
      return "ha_stopped";
    case A::fa_activate:
      return "fa_activate";
    case A::fa_depart_local:
      return "fa_depart_local";
    case A::fa_resumed_local:
      return "fa_resumed_local";
    case A::fa_confirm_local:
      return "fa_confirm_local";
    case A::fa_abort_local:
      return "fa_abort_local";
    case A::fa_reactivate_local:
      return "fa_reactivate_local";
    case A::ha_cancel:
      return "ha_cancel";
  }
  return "?";
}

const char* to_string(CouplingEvent::Kind k) {
  switch (k) {
    case E::incoming_started:
      return "incoming_started";
    case E::migration_status:
      return "migration_status";
    case E::vcpus_stopped:
      return "vcpus_stopped";
    case E::vcpus_resumed:
      return "vcpus_resumed";
    case E::domain_gone:
      return "domain_gone";
    case E::destination_found:
      return "destination_found";
  }
  return "?";
}

const char* to_string(DomainCoupling::Phase p) {
  switch (p) {
    case DomainCoupling::Phase::idle:
      return "idle";
    case DomainCoupling::Phase::incoming:
      return "incoming";
    case DomainCoupling::Phase::migrating:
      return "migrating";
    case DomainCoupling::Phase::switching:
      return "switching";
  }
  return "?";
}

std::vector<CouplingAction> DomainCoupling::on(const CouplingEvent& e) {
  switch (phase_) {
    case Phase::idle:
      return on_idle(e);
    case Phase::incoming:
      return on_incoming(e);
    case Phase::migrating:
      return on_migrating(e);
    case Phase::switching:
      return on_switching(e);
  }
  return {};
}

std::vector<CouplingAction> DomainCoupling::start_incoming() {
  // libvirt's Prepare runs before any memory moves: seconds before the switchover.
  phase_ = Phase::incoming;
  std::vector<CouplingAction> out{act(A::ha_prepare)};
  if (has_local_fa_) out.push_back(act(A::fa_prepare_local));
  return out;
}

std::vector<CouplingAction> DomainCoupling::on_idle(const CouplingEvent& e) {
  if (e.kind == E::incoming_started) return start_incoming();
  if (e.kind == E::migration_status && (e.status == "setup" || e.status == "active")) {
    phase_ = Phase::migrating;
    destination_.clear();
    switch_step_.clear();
    return {act(A::find_destination)};
  }
  // A STOP or RESUME outside a migration (virsh suspend/resume) is not ours.
  return {};
}

std::vector<CouplingAction> DomainCoupling::on_incoming(const CouplingEvent& e) {
  if (e.kind == E::vcpus_resumed) {
    // libvirt's Finish resumed the guest here: flush what the FA buffered, and make sure the
    // registration happened even if the source's coupling never activated it.
    phase_ = Phase::idle;
    if (!has_local_fa_) return {};
    return {act(A::fa_resumed_local), act(A::fa_confirm_local)};
  }
  if (e.kind == E::domain_gone) {
    // The incoming migration failed or was cancelled; the VM runs on at the source.
    phase_ = Phase::idle;
    std::vector<CouplingAction> out;
    if (has_local_fa_) out.push_back(act(A::fa_abort_local));
    out.push_back(act(A::ha_cancel));
    return out;
  }
  return {};  // the incoming QEMU's own MIGRATION events: libvirt's business
}

std::vector<CouplingAction> DomainCoupling::on_migrating(const CouplingEvent& e) {
  switch (e.kind) {
    case E::incoming_started: {
      // The incoming QEMU reports MIGRATION setup/active before libvirt's STARTED_MIGRATED:
      // this host is the destination after all.
      std::vector<CouplingAction> out{act(A::stop_finding)};
      for (auto& a : start_incoming()) out.push_back(std::move(a));
      return out;
    }
    case E::destination_found:
      destination_ = e.site;
      return {act(A::stop_finding)};
    case E::vcpus_stopped: {
      // The start of the downtime (libvirt pauses before switchover and continues at once):
      // the binding switches now, in the same turn, as vmroam-migrate does at pre-switchover.
      phase_ = Phase::switching;
      std::vector<CouplingAction> out{act(A::stop_finding)};
      if (!destination_.empty()) {
        out.push_back(act(A::ha_stopped, {}, e.at));
        out.push_back(act(A::fa_activate, destination_));
        switch_step_ = "activate " + destination_;
      } else if (has_local_fa_) {
        // No FA prepared anywhere: the VM goes home (RFC 5944 §3.6.1.1 deregistration).
        out.push_back(act(A::ha_stopped, {}, e.at));
        out.push_back(act(A::fa_depart_local));
        switch_step_ = "depart";
      }
      return out;
    }
    case E::migration_status:
      if (!migration_over_badly(e.status)) return {};
      [[fallthrough]];
    case E::domain_gone:
      phase_ = Phase::idle;
      return {act(A::stop_finding), act(A::ha_cancel)};
    default:
      return {};
  }
}

std::vector<CouplingAction> DomainCoupling::undo_after_switch() {
  // The guest stays here after all. The destination's coupling aborts (or departs) its own
  // visitor when its QEMU goes; a departed local visitor must register again.
  phase_ = Phase::idle;
  std::vector<CouplingAction> out{act(A::ha_cancel)};
  if (has_local_fa_) out.push_back(act(A::fa_reactivate_local));
  return out;
}

std::vector<CouplingAction> DomainCoupling::on_switching(const CouplingEvent& e) {
  // QEMU's `completed` only says the source wrote everything: libvirt's Finish at the
  // destination can still fail (its QEMU died), and then libvirt resumes the guest here. So the
  // move is over only when the source QEMU goes (success: the destination confirms the
  // registration) or runs again (failure: undo).
  switch (e.kind) {
    case E::migration_status:
      if (migration_over_badly(e.status)) return undo_after_switch();
      if (e.status == "setup" || e.status == "active") return on_idle(e);  // a new migration
      return {};
    case E::vcpus_resumed:
      return undo_after_switch();
    case E::domain_gone:
      phase_ = Phase::idle;
      return {};
    case E::incoming_started:
      return start_incoming();  // the guest came back: the earlier move is long over
    default:
      return {};
  }
}

}  // namespace vmroam::virt
