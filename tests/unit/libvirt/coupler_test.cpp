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

TEST(Coupler, SourceAtHomeActivatesTheFaFoundPrepared) {
  boost::asio::io_context io;
  Calls calls;
  Config cfg = config("home");
  FakeHypervisor hv;
  hv.metadata["u1"] = "<vmroam:vm xmlns:vmroam='https://vmroam.example/xmlns/1' id='vm2'/>";
  FakeHa ha(calls);
  std::map<std::string, std::unique_ptr<ForeignAgentControl>> fas;
  fas.emplace("foreign", std::make_unique<FakeFa>("foreign", calls, ""));  // no visitor there
  fas.emplace("foreign2", std::make_unique<FakeFa>("foreign2", calls, "prepared"));
  Coupler c(io, cfg, hv, &ha, std::move(fas), fast());
  c.on_domain_event(event(K::migration_status, "active"));
  io.run_for(std::chrono::milliseconds(20));
  c.on_domain_event(event(K::vcpus_stopped));
  io.run_for(std::chrono::milliseconds(20));
  EXPECT_EQ(c.phase("u1"), DomainCoupling::Phase::switching);
  c.on_domain_event(event(K::migration_status, "completed"));
  c.on_domain_event(event(K::domain_gone));
  // The metadata named vm2 (not the MAC's vm1); the STOP carried its time to the HA.
  EXPECT_EQ(calls.log, (std::vector<std::string>{"ha: stopped vm2 at", "foreign2: activate vm2"}));
}

TEST(Coupler, DestinationPreparesThenConfirms) {
  boost::asio::io_context io;
  Calls calls;
  Config cfg = config("foreign");
  FakeHypervisor hv;
  hv.xml["u1"] =
      "<domain><devices><interface><mac address='52:54:00:12:34:56'/></interface></devices></domain>";
  FakeHa ha(calls);
  std::map<std::string, std::unique_ptr<ForeignAgentControl>> fas;
  fas.emplace("foreign", std::make_unique<FakeFa>("foreign", calls, "active"));
  Coupler c(io, cfg, hv, &ha, std::move(fas), fast());
  c.on_domain_event(event(K::migration_status, "setup"));
  c.on_domain_event(event(K::incoming_started));
  c.on_domain_event(event(K::vcpus_resumed));
  io.run_for(std::chrono::milliseconds(20));
  EXPECT_EQ(calls.log,
            (std::vector<std::string>{"ha: prepare vm1", "foreign: prepare vm1", "foreign: resumed vm1"}));
  EXPECT_EQ(c.phase("u1"), DomainCoupling::Phase::idle);
}

TEST(Coupler, DestinationWhoseFaWasDownRegistersOnceItAnswers) {
  // The FA's API was unreachable at libvirt's Prepare and at the RESUME: the move went on; the
  // confirmation prepares and activates the visitor as soon as the FA answers again, and tells
  // it the VM runs here (else the FA would keep buffering its packets).
  boost::asio::io_context io;
  Calls calls;
  Config cfg = config("foreign");
  FakeHypervisor hv;
  hv.metadata["u1"] = "<vmroam:vm xmlns:vmroam='https://vmroam.example/xmlns/1' id='vm1'/>";
  std::map<std::string, std::unique_ptr<ForeignAgentControl>> fas;
  auto fa = std::make_unique<FakeFa>("foreign", calls, "");
  FakeFa* local = fa.get();
  local->down = true;
  fas.emplace("foreign", std::move(fa));
  Coupler::Timing t = fast();
  t.retry_max = std::chrono::milliseconds(2);
  Coupler c(io, cfg, hv, nullptr, std::move(fas), t);
  c.on_domain_event(event(K::incoming_started));
  c.on_domain_event(event(K::vcpus_resumed));
  io.run_for(std::chrono::milliseconds(20));
  EXPECT_EQ(c.phase("u1"), DomainCoupling::Phase::idle);  // libvirt was never held up
  ASSERT_GE(calls.log.size(), 3u);
  EXPECT_EQ(calls.log[0], "foreign: prepare vm1 (down)");
  EXPECT_EQ(calls.log[1], "foreign: resumed vm1 (down)");
  local->down = false;
  io.run_for(std::chrono::milliseconds(50));
  EXPECT_EQ(local->state(), "active");
  EXPECT_TRUE(local->was_resumed());
  ASSERT_GE(calls.log.size(), 3u);
  EXPECT_EQ(calls.log[calls.log.size() - 3], "foreign: prepare vm1");
  EXPECT_EQ(calls.log[calls.log.size() - 2], "foreign: activate vm1");
  EXPECT_EQ(calls.log.back(), "foreign: resumed vm1");
}

TEST(Coupler, ActiveVisitorThatMissedTheResumeIsToldAgain) {
  // The FA was unreachable only at the RESUME: the registration is active, the buffer is not
  // flushed; the confirmation sends `resumed` once more.
  boost::asio::io_context io;
  Calls calls;
  Config cfg = config("foreign");
  FakeHypervisor hv;
  hv.metadata["u1"] = "<vmroam:vm xmlns:vmroam='https://vmroam.example/xmlns/1' id='vm1'/>";
  std::map<std::string, std::unique_ptr<ForeignAgentControl>> fas;
  auto fa = std::make_unique<FakeFa>("foreign", calls, "active");
  FakeFa* local = fa.get();
  fas.emplace("foreign", std::move(fa));
  Coupler c(io, cfg, hv, nullptr, std::move(fas), fast());
  c.on_domain_event(event(K::incoming_started));
  local->down = true;
  c.on_domain_event(event(K::vcpus_resumed));
  local->down = false;
  io.run_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(local->was_resumed());
  ASSERT_GE(calls.log.size(), 3u);
  EXPECT_EQ(calls.log[1], "foreign: resumed vm1 (down)");
  EXPECT_EQ(calls.log.back(), "foreign: resumed vm1");
}

TEST(Coupler, DomainsThatAreNotOursAreIgnored) {
  boost::asio::io_context io;
  Calls calls;
  Config cfg = config("foreign");
  FakeHypervisor hv;
  hv.xml["u1"] =
      "<domain><devices><interface><mac address='52:54:00:99:99:99'/></interface></devices></domain>";
  FakeHa ha(calls);
  std::map<std::string, std::unique_ptr<ForeignAgentControl>> fas;
  fas.emplace("foreign", std::make_unique<FakeFa>("foreign", calls, "prepared"));
  Coupler c(io, cfg, hv, &ha, std::move(fas), fast());
  c.on_domain_event(event(K::incoming_started));
  c.on_domain_event(event(K::vcpus_resumed));
  io.run_for(std::chrono::milliseconds(5));
  EXPECT_TRUE(calls.log.empty());
  EXPECT_EQ(c.phase("u1"), DomainCoupling::Phase::idle);
}

}  // namespace
}  // namespace vmroam::virt
