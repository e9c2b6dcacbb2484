// DomainCoupling (libvirt/coupling.hpp) as a table: each row is a sequence of events on one
// domain and the actions each step must produce, for a host with and without a local FA.
#include "libvirt/coupling.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vmroam::virt {
namespace {

using A = CouplingAction::Kind;
using E = CouplingEvent::Kind;
using P = DomainCoupling::Phase;

const WallTime kStop{std::chrono::microseconds(1'700'000'000'123'456)};

CouplingEvent ev(E k, std::string status = {}, std::string site = {}) {
  return CouplingEvent{k, std::move(status), k == E::vcpus_stopped ? kStop : WallTime{}, std::move(site)};
}

struct Step {
  CouplingEvent event;
  std::vector<A> actions;
};

struct Row {
  const char* description;
  bool local_fa;
  std::vector<Step> steps;
  P final_phase;
  std::string switch_step;
};

std::vector<A> kinds(const std::vector<CouplingAction>& actions) {
  std::vector<A> out;
  for (const auto& a : actions) out.push_back(a.kind);
  return out;
}

std::string names(const std::vector<A>& ks) {
  std::string s;
  for (A k : ks) s += std::string(s.empty() ? "" : ",") + to_string(k);
  return "[" + s + "]";
}

const std::vector<Row>& rows() {
  static const std::vector<Row> r = {
      {"destination with an FA: prepare at STARTED_MIGRATED, resumed + confirm at RESUME",
       true,
       {{ev(E::incoming_started), {A::ha_prepare, A::fa_prepare_local}},
        {ev(E::migration_status, "active"), {}},
        {ev(E::migration_status, "completed"), {}},
        {ev(E::vcpus_resumed), {A::fa_resumed_local, A::fa_confirm_local}}},
       P::idle,
       ""},
      {"destination as libvirt 9 orders it: the incoming QEMU's MIGRATION setup before STARTED_MIGRATED",
       true,
       {{ev(E::migration_status, "setup"), {A::find_destination}},
        {ev(E::incoming_started), {A::stop_finding, A::ha_prepare, A::fa_prepare_local}},
        {ev(E::migration_status, "active"), {}},
        {ev(E::migration_status, "completed"), {}},
        {ev(E::vcpus_resumed), {A::fa_resumed_local, A::fa_confirm_local}}},
       P::idle,
       ""},
      {"destination at home (no FA): only the HA records",
       false,
       {{ev(E::incoming_started), {A::ha_prepare}}, {ev(E::vcpus_resumed), {}}},
       P::idle,
       ""},
      {"destination whose incoming QEMU goes away: abort, HA cancel",
       true,
       {{ev(E::incoming_started), {A::ha_prepare, A::fa_prepare_local}},
        {ev(E::domain_gone), {A::fa_abort_local, A::ha_cancel}}},
       P::idle,
       ""},
      {"source at home to a foreign FA: activate it at the STOP",
       false,
       {{ev(E::migration_status, "setup"), {A::find_destination}},
        {ev(E::destination_found, {}, "foreign"), {A::stop_finding}},
        {ev(E::migration_status, "active"), {}},
        {ev(E::vcpus_stopped), {A::stop_finding, A::ha_stopped, A::fa_activate}},
        {ev(E::migration_status, "pre-switchover"), {}},
        {ev(E::migration_status, "completed"), {}},
        {ev(E::domain_gone), {}}},
       P::idle,
       "activate foreign"},
      {"source at a foreign site, no FA prepared anywhere: coming home, depart",
       true,
       {{ev(E::migration_status, "active"), {A::find_destination}},
        {ev(E::vcpus_stopped), {A::stop_finding, A::ha_stopped, A::fa_depart_local}},
        {ev(E::migration_status, "completed"), {}},
        {ev(E::domain_gone), {}}},
       P::idle,
       "depart"},
      {"source at home, destination unknown (home to home): nothing to switch",
       false,
       {{ev(E::migration_status, "active"), {A::find_destination}},
        {ev(E::vcpus_stopped), {A::stop_finding}},
        {ev(E::migration_status, "completed"), {}},
        {ev(E::domain_gone), {}}},
       P::idle,
       ""},
      {"source: migration fails before the STOP: HA cancel, nothing else",
       true,
       {{ev(E::migration_status, "active"), {A::find_destination}},
        {ev(E::destination_found, {}, "foreign2"), {A::stop_finding}},
        {ev(E::migration_status, "failed"), {A::stop_finding, A::ha_cancel}}},
       P::idle,
       ""},
      {"source: cancelled (virsh domjobabort)",
       false,
       {{ev(E::migration_status, "active"), {A::find_destination}},
        {ev(E::migration_status, "cancelled"), {A::stop_finding, A::ha_cancel}}},
       P::idle,
       ""},
      {"source: domain destroyed mid-migration",
       false,
       {{ev(E::migration_status, "active"), {A::find_destination}},
        {ev(E::domain_gone), {A::stop_finding, A::ha_cancel}}},
       P::idle,
       ""},
      {"source at a foreign site fails after the depart: register the local visitor again",
       true,
       {{ev(E::migration_status, "active"), {A::find_destination}},
        {ev(E::vcpus_stopped), {A::stop_finding, A::ha_stopped, A::fa_depart_local}},
        {ev(E::migration_status, "failed"), {A::ha_cancel, A::fa_reactivate_local}}},
       P::idle,
       "depart"},
      {"source resumed after the switch (libvirt gave up): undo",
       false,
       {{ev(E::migration_status, "active"), {A::find_destination}},
        {ev(E::destination_found, {}, "foreign"), {A::stop_finding}},
        {ev(E::vcpus_stopped), {A::stop_finding, A::ha_stopped, A::fa_activate}},
        {ev(E::vcpus_resumed), {A::ha_cancel}}},
       P::idle,
       "activate foreign"},
      {"source: QEMU completed but libvirt's Finish failed at the destination and it resumed the guest here",
       false,
       {{ev(E::migration_status, "active"), {A::find_destination}},
        {ev(E::destination_found, {}, "foreign"), {A::stop_finding}},
        {ev(E::vcpus_stopped), {A::stop_finding, A::ha_stopped, A::fa_activate}},
        {ev(E::migration_status, "completed"), {}},
        {ev(E::vcpus_resumed), {A::ha_cancel}}},
       P::idle,
       "activate foreign"},
      {"the same at a foreign site after a depart: register the local visitor again",
       true,
       {{ev(E::migration_status, "active"), {A::find_destination}},
        {ev(E::vcpus_stopped), {A::stop_finding, A::ha_stopped, A::fa_depart_local}},
        {ev(E::migration_status, "completed"), {}},
        {ev(E::vcpus_resumed), {A::ha_cancel, A::fa_reactivate_local}}},
       P::idle,
       "depart"},
      {"the source's end of a move was never seen (libvirtd restarted): the guest's return starts afresh",
       true,
       {{ev(E::migration_status, "active"), {A::find_destination}},
        {ev(E::vcpus_stopped), {A::stop_finding, A::ha_stopped, A::fa_depart_local}},
        {ev(E::migration_status, "completed"), {}},
        {ev(E::incoming_started), {A::ha_prepare, A::fa_prepare_local}}},
       P::incoming,
       "depart"},
      {"the same, the next thing seen is another migration from here",
       false,
       {{ev(E::migration_status, "active"), {A::find_destination}},
        {ev(E::vcpus_stopped), {A::stop_finding}},
        {ev(E::migration_status, "completed"), {}},
        {ev(E::migration_status, "setup"), {A::find_destination}}},
       P::migrating,
       ""},
      {"STOP and RESUME outside a migration (virsh suspend/resume) are ignored",
       true,
       {{ev(E::vcpus_stopped), {}}, {ev(E::vcpus_resumed), {}}, {ev(E::domain_gone), {}}},
       P::idle,
       ""},
      {"a destination found after the STOP is too late and ignored",
       false,
       {{ev(E::migration_status, "active"), {A::find_destination}},
        {ev(E::vcpus_stopped), {A::stop_finding}},
        {ev(E::destination_found, {}, "foreign"), {}}},
       P::switching,
       ""},
  };
  return r;
}

TEST(Coupling, Table) {
  for (const Row& row : rows()) {
    SCOPED_TRACE(row.description);
    DomainCoupling c(row.local_fa);
    std::size_t i = 0;
    for (const Step& s : row.steps) {
      SCOPED_TRACE("step " + std::to_string(i++) + " " + to_string(s.event.kind) + " " + s.event.status);
      auto got = kinds(c.on(s.event));
      EXPECT_EQ(names(got), names(s.actions));
    }
    EXPECT_EQ(to_string(c.phase()), std::string(to_string(row.final_phase)));
    EXPECT_EQ(c.switch_step(), row.switch_step);
  }
}

TEST(Coupling, StopCarriesQemuTimeAndDestination) {
  DomainCoupling c(false);
  (void)c.on(ev(E::migration_status, "active"));
  (void)c.on(ev(E::destination_found, {}, "foreign2"));
  auto actions = c.on(ev(E::vcpus_stopped));
  ASSERT_EQ(actions.size(), 3u);
  EXPECT_EQ(actions[1].kind, A::ha_stopped);
  ASSERT_TRUE(actions[1].at.has_value());
  EXPECT_EQ(*actions[1].at, kStop);
  EXPECT_EQ(actions[2].kind, A::fa_activate);
  EXPECT_EQ(actions[2].site, "foreign2");
  EXPECT_EQ(c.destination(), "foreign2");
}

TEST(Coupling, SecondMigrationStartsClean) {
  DomainCoupling c(true);
  (void)c.on(ev(E::migration_status, "active"));
  (void)c.on(ev(E::destination_found, {}, "foreign2"));
  (void)c.on(ev(E::migration_status, "cancelled"));
  // Retried: the old destination is forgotten until found again.
  EXPECT_EQ(names(kinds(c.on(ev(E::migration_status, "setup")))), names({A::find_destination}));
  EXPECT_EQ(c.destination(), "");
  EXPECT_EQ(names(kinds(c.on(ev(E::vcpus_stopped)))),
            names({A::stop_finding, A::ha_stopped, A::fa_depart_local}));
}

}  // namespace
}  // namespace vmroam::virt
