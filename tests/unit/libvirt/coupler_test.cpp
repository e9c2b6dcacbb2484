// Coupler (libvirt/coupler.hpp) against a fake hypervisor and fake agents on a real
// io_context: the calls each side makes, in order, for a move home → foreign as libvirt
// reports it, and the mapping of domains to VMs.
#include "libvirt/coupler.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace vmroam::virt {
namespace {

using Json = nlohmann::json;
using K = CouplingEvent::Kind;
using migration::RegistrationOutcome;

struct Calls {
  std::vector<std::string> log;
};

class FakeHypervisor final : public Hypervisor {
 public:
  std::map<std::string, std::string> xml, metadata;
  Result<std::string> domain_xml(const std::string& uuid) override {
    auto it = xml.find(uuid);
    if (it == xml.end()) return fail("no_domain", uuid);
    return it->second;
  }
  Result<std::string> domain_metadata(const std::string& uuid) override {
    auto it = metadata.find(uuid);
    if (it == metadata.end()) return fail("no_metadata", uuid);
    return it->second;
  }
};

class FakeFa final : public ForeignAgentControl {
 public:
  FakeFa(std::string site, Calls& calls, std::string state)
      : site_(std::move(site)), calls_(calls), state_(std::move(state)) {}
  // An unknown visitor ("") becomes prepared, a prepared one active, as the FA does.
  void prepare(const Json& v, Done<Json> done) override {
    if (!down && state_.empty()) state_ = "prepared";
    rec("prepare " + v.value("id", ""), done);
  }
  void activate(const std::string& id, Done<Json> done) override {
    if (!down && state_ == "prepared") state_ = "active";
    rec("activate " + id, done);
  }
  void wait_registered(const std::string& id, std::chrono::milliseconds,
                       Done<RegistrationOutcome> done) override {
    if (down) return done(fail("connect", "refused"));
    RegistrationOutcome o;
    o.visitor_state = state_;
    o.state = state_ == "active" ? RegistrationOutcome::State::active : RegistrationOutcome::State::pending;
    if (state_ == "active") o.handover_ms = 12.5;
    o.visitor = Json{{"state", state_}, {"resumed", resumed_}};
    if (state_.empty()) return done(fail("fa_refused", "404 " + id));
    done(o);
  }
  void resumed(const std::string& id, Done<Json> done) override {
    if (!down) resumed_ = true;
    rec("resumed " + id, done);
  }
  void abort(const std::string& id, Done<Json> done) override { rec("abort " + id, done); }
  void depart(const std::string& id, Done<Json> done) override { rec("depart " + id, done); }
  [[nodiscard]] std::string describe() const override { return "fake " + site_; }
  [[nodiscard]] const std::string& state() const { return state_; }
  [[nodiscard]] bool was_resumed() const { return resumed_; }
  bool down = false;  // its API unreachable: every call fails

 private:
  void rec(const std::string& what, Done<Json>& done) {
    calls_.log.push_back(site_ + ": " + what + (down ? " (down)" : ""));
    if (down) return done(fail("connect", "refused"));
    done(Json::object());
  }
  std::string site_;
  Calls& calls_;
  std::string state_;
  bool resumed_ = false;
};

class FakeHa final : public HomeAgentControl {
 public:
  explicit FakeHa(Calls& calls) : calls_(calls) {}
  void handover(const std::string& vm, Phase phase, std::optional<WallTime> at, Done<Json> done) override {
    calls_.log.push_back(std::string("ha: ") + to_string(phase) + " " + vm + (at ? " at" : ""));
    done(Json{{"state", "recording"}});
  }
  [[nodiscard]] std::string describe() const override { return "fake ha"; }

 private:
  Calls& calls_;
};

Config config(const std::string& site) {
  auto c = parse_config_text(R"({"site": ")" + site + R"(",
    "sites": {"home": {}, "foreign": {"fa": "/f.sock"}, "foreign2": {"fa": "/f2.sock"}},
    "vms": [{"id": "vm1", "mac": "52:54:00:12:34:56"}, {"id": "vm2", "mac": "52:54:00:00:00:02"}]})");
  if (!c) std::abort();
  return *c;
}

DomainEvent event(K k, std::string status = {}) {
  WallTime at = k == K::vcpus_stopped ? WallTime{std::chrono::seconds(5)} : WallTime{};
  return DomainEvent{"u1", "guest", std::string(to_string(k)) + " " + status,
                     CouplingEvent{k, status, at, {}}};
}

Coupler::Timing fast() {
  Coupler::Timing t;
  t.find_interval = std::chrono::milliseconds(1);
  t.retry_initial = std::chrono::milliseconds(1);
  return t;
}

// The domain u1 as the hypervisor describes it: vmroam metadata naming the VM, or only its
// interface's MAC (then the config's vms map it).
struct Domain {
  std::string metadata_vm;
  std::string mac;
};

// One host: its coupler (at `site`), the hypervisor describing u1, the HA (or none) and one
// fake FA per {site, initial visitor state} ("" = no visitor there). Every case builds one.
struct Host {
  Host(const std::string& site, const Domain& d,
       const std::vector<std::pair<std::string, std::string>>& fa_states, bool with_ha = true,
       Coupler::Timing timing = fast())
      : cfg(config(site)) {
    if (!d.metadata_vm.empty())
      hv.metadata["u1"] =
          "<vmroam:vm xmlns:vmroam='https://vmroam.example/xmlns/1' id='" + d.metadata_vm + "'/>";
    if (!d.mac.empty())
      hv.xml["u1"] =
          "<domain><devices><interface><mac address='" + d.mac + "'/></interface></devices></domain>";
    std::map<std::string, std::unique_ptr<ForeignAgentControl>> fas;
    for (const auto& [name, state] : fa_states) {
      auto f = std::make_unique<FakeFa>(name, calls, state);
      fa[name] = f.get();
      fas.emplace(name, std::move(f));
    }
    coupler = std::make_unique<Coupler>(io, cfg, hv, with_ha ? &ha : nullptr, std::move(fas), timing);
  }
  void on(K k, std::string status = {}) { coupler->on_domain_event(event(k, std::move(status))); }
  void run_ms(int ms) { io.run_for(std::chrono::milliseconds(ms)); }
  [[nodiscard]] DomainCoupling::Phase phase() const { return coupler->phase("u1"); }

  boost::asio::io_context io;
  Calls calls;
  Config cfg;
  FakeHypervisor hv;
  FakeHa ha{calls};
  std::map<std::string, FakeFa*> fa;
  std::unique_ptr<Coupler> coupler;
};

TEST(Coupler, SourceAtHomeActivatesTheFaFoundPrepared) {
  Host h("home", {.metadata_vm = "vm2"},
         {{"foreign", ""}, {"foreign2", "prepared"}});  // no visitor at foreign
  h.on(K::migration_status, "active");
  h.run_ms(20);
  h.on(K::vcpus_stopped);
  h.run_ms(20);
  EXPECT_EQ(h.phase(), DomainCoupling::Phase::switching);
  h.on(K::migration_status, "completed");
  h.on(K::domain_gone);
  // The metadata named vm2 (not the MAC's vm1); the STOP carried its time to the HA.
  EXPECT_EQ(h.calls.log, (std::vector<std::string>{"ha: stopped vm2 at", "foreign2: activate vm2"}));
}

TEST(Coupler, DestinationPreparesThenConfirms) {
  Host h("foreign", {.mac = "52:54:00:12:34:56"}, {{"foreign", "active"}});
  h.on(K::migration_status, "setup");
  h.on(K::incoming_started);
  h.on(K::vcpus_resumed);
  h.run_ms(20);
  EXPECT_EQ(h.calls.log,
            (std::vector<std::string>{"ha: prepare vm1", "foreign: prepare vm1", "foreign: resumed vm1"}));
  EXPECT_EQ(h.phase(), DomainCoupling::Phase::idle);
}

// The destination FA's API was unreachable for part of the move: the move went on (libvirt is
// never held up), and the confirmation completes what the FA missed as soon as it answers
// again, ending with `resumed` (else the FA would keep buffering the VM's packets).
TEST(Coupler, DestinationFaThatWasDownIsBroughtUpToDate) {
  struct Case {
    const char* what;
    std::string visitor;                     // the FA's visitor state at the start ("" = none)
    bool down_at_prepare;                    // unreachable at libvirt's Prepare too, not only at the RESUME
    std::vector<std::string> calls_once_up;  // the last calls, after it answers again
  };
  const std::vector<Case> cases = {
      {"down at Prepare and RESUME: prepared, activated and told once it answers",
       "",
       true,
       {"foreign: prepare vm1", "foreign: activate vm1", "foreign: resumed vm1"}},
      {"down only at the RESUME: already active, told `resumed` again",
       "active",
       false,
       {"foreign: resumed vm1"}},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.what);
    Coupler::Timing t = fast();
    t.retry_max = std::chrono::milliseconds(2);
    Host h("foreign", {.metadata_vm = "vm1"}, {{"foreign", k.visitor}}, /*with_ha=*/false, t);
    FakeFa& fa = *h.fa.at("foreign");
    fa.down = k.down_at_prepare;
    h.on(K::incoming_started);
    fa.down = true;
    h.on(K::vcpus_resumed);
    h.run_ms(20);
    EXPECT_EQ(h.phase(), DomainCoupling::Phase::idle);
    const std::vector<std::string>& log = h.calls.log;
    ASSERT_GE(log.size(), 2u);
    EXPECT_EQ(log[0], k.down_at_prepare ? "foreign: prepare vm1 (down)" : "foreign: prepare vm1");
    EXPECT_EQ(log[1], "foreign: resumed vm1 (down)");
    fa.down = false;
    h.run_ms(50);
    EXPECT_EQ(fa.state(), "active");
    EXPECT_TRUE(fa.was_resumed());
    ASSERT_GE(log.size(), 2 + k.calls_once_up.size());
    EXPECT_EQ(
        std::vector<std::string>(log.end() - static_cast<std::ptrdiff_t>(k.calls_once_up.size()), log.end()),
        k.calls_once_up);
  }
}

TEST(Coupler, DomainsThatAreNotOursAreIgnored) {
  Host h("foreign", {.mac = "52:54:00:99:99:99"}, {{"foreign", "prepared"}});
  h.on(K::incoming_started);
  h.on(K::vcpus_resumed);
  h.run_ms(5);
  EXPECT_TRUE(h.calls.log.empty());
  EXPECT_EQ(h.phase(), DomainCoupling::Phase::idle);
}

}  // namespace
}  // namespace vmroam::virt
