// The libvirt coupling's decisions, pure: what vmroam-libvirt does for one domain when libvirt
// or QEMU (through libvirt-qemu) reports something about it (docs/migration.md "Migrating with
// libvirt"). One DomainCoupling per domain on this host; events in, actions out; no I/O, time
// arrives inside the events.
//
// libvirt drives the migration and never waits for us (it pauses before switchover and sends
// migrate-continue at once), so the coupling reacts to what it sees:
//
//   destination  STARTED_MIGRATED (libvirt Prepare)  → HA prepare; local FA prepare (the
//                                                       incoming QEMU's MIGRATION setup comes
//                                                       first: that looked like a source)
//                QEMU RESUME                          → local FA resumed; confirm the
//                                                       registration (re-activate if needed)
//                domain gone before RESUME            → local FA abort (or depart); HA cancel
//   source       QEMU MIGRATION setup/active          → find the destination FA (the site whose
//                                                       FA holds a prepared visitor for the VM)
//                QEMU STOP while migrating            → HA stopped (STOP time) and destination
//                                                       FA activate; no FA found and a local FA:
//                                                       the VM goes home, local FA depart
//                QEMU MIGRATION completed             → nothing yet: libvirt's Finish may fail
//                domain gone after the STOP           → done (the destination confirms)
//                MIGRATION failed/cancelled, or the
//                domain gone before the STOP          → HA cancel
//                failed/cancelled or RESUME after the
//                STOP (also after completed)          → HA cancel; a departed local visitor is
//                                                       prepared and activated again
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/core/clock.hpp"

namespace vmroam::virt {

struct CouplingEvent {
  enum class Kind {
    incoming_started,   // lifecycle STARTED_MIGRATED: this host is the destination
    migration_status,   // QEMU MIGRATION event; `status` is QEMU's word
    vcpus_stopped,      // QEMU STOP; `at` is QEMU's timestamp
    vcpus_resumed,      // QEMU RESUME
    domain_gone,        // lifecycle STOPPED / UNDEFINED / CRASHED: the QEMU is gone
    destination_found,  // the FA of `site` holds a prepared visitor for the VM
  };
  Kind kind;
  std::string status;
  WallTime at{};
  std::string site;
};

struct CouplingAction {
  enum class Kind {
    ha_prepare,           // HA: record what is sent to the VM (handover prepare)
    fa_prepare_local,     // local FA: POST /v1/visitors
    find_destination,     // start asking the other sites' FAs for a prepared visitor
    stop_finding,         // stop asking
    ha_stopped,           // HA: hold from `at` (the STOP)
    fa_activate,          // FA of `site`: activate (the proxy Registration Request)
    fa_depart_local,      // local FA: depart (the VM goes home: deregistration)
    fa_resumed_local,     // local FA: the VM runs here, flush
    fa_confirm_local,     // local FA: long-poll the registration, re-activate until active
    fa_abort_local,       // local FA: abort the prepared visitor (depart if already active)
    fa_reactivate_local,  // local FA: prepare + activate again (a failure after a depart)
    ha_cancel,            // HA: end the hold/recording, packets go where the binding points
  };
  Kind kind;
  std::string site;
  std::optional<WallTime> at;
  friend bool operator==(const CouplingAction&, const CouplingAction&) = default;
};

[[nodiscard]] const char* to_string(CouplingAction::Kind k);
[[nodiscard]] const char* to_string(CouplingEvent::Kind k);

class DomainCoupling {
 public:
  enum class Phase { idle, incoming, migrating, switching };
  // `has_local_fa`: this host's site has a foreign agent (not the home site).
  explicit DomainCoupling(bool has_local_fa) : has_local_fa_(has_local_fa) {}

  [[nodiscard]] std::vector<CouplingAction> on(const CouplingEvent& e);

  [[nodiscard]] Phase phase() const { return phase_; }
  // The site whose FA was found prepared for this migration (empty if none yet).
  [[nodiscard]] const std::string& destination() const { return destination_; }
  // What the STOP did: "activate SITE", "depart", or "" (nothing to switch).
  [[nodiscard]] const std::string& switch_step() const { return switch_step_; }

 private:
  std::vector<CouplingAction> start_incoming();
  std::vector<CouplingAction> on_idle(const CouplingEvent& e);
  std::vector<CouplingAction> on_incoming(const CouplingEvent& e);
  std::vector<CouplingAction> on_migrating(const CouplingEvent& e);
  std::vector<CouplingAction> on_switching(const CouplingEvent& e);
  std::vector<CouplingAction> undo_after_switch();

  bool has_local_fa_;
  Phase phase_ = Phase::idle;
  std::string destination_;
  std::string switch_step_;
};

[[nodiscard]] const char* to_string(DomainCoupling::Phase p);

}  // namespace vmroam::virt
