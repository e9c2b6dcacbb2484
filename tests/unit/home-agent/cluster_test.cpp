// Home agents in a cluster, on FakeEtcd: how state lies in etcd, the "cluster" config
// section, the election (one active, the rest mirror), the pipelined and fenced commits,
// and a takeover in which the standby's mirror becomes the active binding cache.
#include <gtest/gtest.h>

#include <algorithm>

#include "common/auth/authenticator.hpp"
#include "common/core/hex.hpp"
#include "common/wire/message.hpp"
#include "home-agent/cluster/cluster_node.hpp"
#include "home-agent/home_agent.hpp"
#include "tests/fakes/fake_clock.hpp"
#include "tests/fakes/fake_etcd.hpp"
#include "tests/fakes/fake_netlink.hpp"
#include "tests/fakes/fake_tunnel_driver.hpp"
#include "tests/fakes/temp_dir.hpp"
#include "tests/unit/support/agent_fixture.hpp"

namespace vmroam::ha {
namespace {

const Ipv4Prefix kHome = *Ipv4Prefix::parse("10.1.0.0/24");
const Ipv4 kHa = *Ipv4::parse("10.1.0.2");
const Ipv4 kFa = *Ipv4::parse("192.0.2.3");
const Ipv4 kFa2 = *Ipv4::parse("192.0.2.4");
using test::kHoa;
using test::kVmMac;
const char* kFaKey = test::kFaHaKeyHex;

std::string config_text(const std::string& node, const std::string& cluster_extra = "") {
  return R"({"address": "10.1.0.2", "home_prefix": "10.1.0.0/24", "home_interface": "h0",
    "foreign_agents": [ { "address": "192.0.2.3", "fa_ha": { "spi": 1000, "key": ")" +
         std::string(kFaKey) + R"(" } },
                        { "address": "192.0.2.4", "fa_ha": { "spi": 1000, "key": ")" +
         std::string(kFaKey) + R"(" } } ],
    "cluster": { "etcd": ["172.31.0.11:2379", "172.31.0.12:2379"], "node": ")" +
         node + R"(", "service_address": "10.1.0.2/24")" + cluster_extra + "}}";
}

// ---- Records and keys ----------------------------------------------------------------------

TEST(ClusterRecords, KeysNameTheHomePrefixAndParseBack) {
  ClusterKeys keys("/vmroam", kHome);
  EXPECT_EQ(keys.leader(), "/vmroam/homes/10.1.0.0_24/leader");
  EXPECT_EQ(keys.binding(kHoa), "/vmroam/homes/10.1.0.0_24/bindings/10.1.0.10");
  auto p = keys.parse(keys.vm("vm1"));
  EXPECT_EQ(p.kind, ClusterKeys::Kind::vm);
  EXPECT_EQ(p.name, "vm1");
  EXPECT_EQ(keys.parse("/vmroam/homes/10.2.0.0_24/leader").kind, ClusterKeys::Kind::unknown);
  EXPECT_EQ(keys.parse(keys.home() + "bindings/").kind, ClusterKeys::Kind::unknown);
}

TEST(ClusterRecords, RecordsRoundTripAndBadValuesAreNamed) {
  store::BindingRecord b{kHoa, kFa, kFa, 300, 0x02, "udp", 1700000000000,           1700000300000,
                         42,   7,   0,   0,   0,    0,     R"({"tunnel_port":434})"};
  auto back = decode_binding(encode(b));
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(*back, b);
  store::VmRecord vm{"vm1", kHoa, kVmMac, {kFa}, 300, "hmac-sha256", *from_hex("0011"), 9, "{}"};
  auto vm_back = decode_vm(encode(vm));
  ASSERT_TRUE(vm_back) << vm_back.error().to_string();
  EXPECT_EQ(*vm_back, vm);
  // Dual-stack: the IPv6 home addresses travel too (and their absence above reads as none).
  vm.home_addresses_v6 = {*Ipv6::parse("2001:db8:1::10"), *Ipv6::parse("2001:db8:1::11")};
  b.home_addresses_v6 = {*Ipv6::parse("2001:db8:1::10")};
  EXPECT_EQ(decode_vm(encode(vm)).value(), vm);
  EXPECT_EQ(decode_binding(encode(b)).value(), b);
  auto bad6 = decode_vm(R"({"id":"v","hoa":"10.1.0.10","mac":"52:54:00:12:34:56","allowed_fas":[],"spi":0,)"
                        R"("algorithm":"","key":"","params":"{}","hoa_v6":["10.1.0.1"]})");
  ASSERT_FALSE(bad6);
  EXPECT_NE(bad6.error().context.find("hoa_v6"), std::string::npos) << bad6.error().to_string();
  auto bad = decode_binding(R"({"hoa":"10.1.0.10","coa":"x"})");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, "cluster_bad_value");
  ClusterKeys keys("/vmroam", kHome);
  auto snap = to_snapshot(keys, {{keys.binding(kHoa), "{", 5, 5, 0}});
  ASSERT_FALSE(snap);
  EXPECT_NE(snap.error().context.find("bindings/10.1.0.10"), std::string::npos) << snap.error().to_string();
}

TEST(ClusterRecords, ABatchBecomesMutationsInOrder) {
  ClusterKeys keys("/vmroam", kHome);
  store::Batch batch;
  batch.put_replay({kHoa, 5});
  batch.delete_binding(kHoa);
  batch.delete_vm("vm1");
  batch.put_revocation({4000000001u, kFa, kHoa, {7, 0, 0x80, 0}, 1700000000000, "{}"});
  batch.delete_revocation(4000000001u);
  auto m = to_mutations(keys, batch);
  ASSERT_EQ(m.size(), 5u);
  EXPECT_EQ(m[0].key, keys.replay(kHoa));
  EXPECT_FALSE(m[0].erase);
  EXPECT_TRUE(m[1].erase);
  EXPECT_EQ(m[2].key, keys.vm("vm1"));
  EXPECT_EQ(m[3].key, "/vmroam/homes/10.1.0.0_24/revocations/4000000001");
  EXPECT_FALSE(m[3].erase);
  EXPECT_EQ(m[4].key, m[3].key);
  EXPECT_TRUE(m[4].erase);
  // A pending revocation is in the snapshot a new HA loads, exactly as it was signed.
  auto snap = to_snapshot(keys, {{m[3].key, m[3].value, 9, 9, 0}});
  ASSERT_TRUE(snap) << snap.error().to_string();
  ASSERT_EQ(snap->revocations.size(), 1u);
  EXPECT_EQ(snap->revocations[0],
            (store::RevocationRecord{4000000001u, kFa, kHoa, {7, 0, 0x80, 0}, 1700000000000, "{}"}));
  EXPECT_EQ(keys.parse(m[3].key).kind, ClusterKeys::Kind::revocation);
  EXPECT_EQ(keys.parse(m[3].key).name, "4000000001");
  EXPECT_FALSE(decode_revocation(R"({"id":1,"fa":"192.0.2.3","hoa":"10.1.0.10","message":"zz",)"
                                 R"("created_at_ms":0,"params":"{}"})"))
      << "a message that is not hex is an error";
}

TEST(ClusterRecords, ARegistrationIsOneKeyItsBindingCarriesTheReplayState) {
  ClusterKeys keys("/vmroam", kHome);
  const store::BindingRecord b{kHoa, kFa, kFa, 300, 0, "ipip", 1700000000000, 1700000300000, 9, 1, {}, "{}"};
  store::Batch reg;
  reg.put_replay({kHoa, 9});
  reg.put_binding(b);
  auto m = to_mutations(keys, reg);
  ASSERT_EQ(m.size(), 1u) << "the binding record holds the Identification: no replay key";
  EXPECT_EQ(m[0].key, keys.binding(kHoa));
  store::Batch dereg;  // the binding goes: the replay state needs its own key
  dereg.put_replay({kHoa, 10});
  dereg.delete_binding(kHoa);
  EXPECT_EQ(to_mutations(keys, dereg).size(), 2u);
  // Readers take whichever was written last; replay/<hoa> when one txn wrote both.
  const cluster::KeyValue binding_at_7{keys.binding(kHoa), encode(b), 5, 7, 0};
  auto replay_at = [&](std::int64_t rev, std::uint64_t id) {
    return cluster::KeyValue{keys.replay(kHoa), encode(store::ReplayRecord{kHoa, id}), 2, rev, 0};
  };
  const struct {
    std::vector<cluster::KeyValue> kvs;
    std::uint64_t want;
  } cases[] = {
      {{binding_at_7}, 9},
      {{binding_at_7, replay_at(6, 3)}, 9},
      {{binding_at_7, replay_at(8, 11)}, 11},
      {{binding_at_7, replay_at(7, 11)}, 11},
      {{replay_at(4, 3)}, 3},
  };
  for (const auto& c : cases) {
    auto snap = to_snapshot(keys, c.kvs);
    ASSERT_TRUE(snap) << snap.error().to_string();
    ASSERT_EQ(snap->replay.size(), 1u);
    EXPECT_EQ(snap->replay[0], (store::ReplayRecord{kHoa, c.want})) << c.kvs.size() << " keys";
  }
}

// ---- Config ------------------------------------------------------------------------------------

TEST(ClusterConfigTest, ParsesAndPrintsBack) {
  auto c = parse_config_text(config_text("ha1", R"(, "lease_ttl_s": 3)"));
  ASSERT_TRUE(c) << c.error().to_string();
  ASSERT_TRUE(c->cluster);
  EXPECT_EQ(c->cluster->node, "ha1");
  EXPECT_EQ(c->cluster->etcd.size(), 2u);
  EXPECT_EQ(c->cluster->prefix, "/vmroam");
  EXPECT_EQ(c->cluster->lease_ttl_s, 3u);
  EXPECT_EQ(c->cluster->request_timeout_ms, 1500u) << "the default documented in docs/configuration.md";
  EXPECT_EQ(c->cluster->max_txn_ops, 128u) << "etcd's own default --max-txn-ops";
  EXPECT_EQ(c->cluster->api_address, "") << "derived from the api section by the daemon";
  // Printed back (--check), the section parses to the same values (keys elsewhere are redacted).
  auto doc = config::Json::parse(config_text("ha1"));
  doc["cluster"] = to_json(*c)["cluster"];
  auto again = parse_config(doc);
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(again->cluster, c->cluster);
}

TEST(ClusterConfigTest, WithoutTheSectionThereIsNoCluster) {
  auto c = parse_config_text(R"({"address": "10.1.0.2", "home_prefix": "10.1.0.0/24", "home_interface": "h0",
    "registration": {"fa_ha_auth": "optional"}})");
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_FALSE(c->cluster);
  EXPECT_FALSE(to_json(*c).contains("cluster"));
}

TEST(ClusterConfigTest, BadValuesNameTheirKey) {
  struct Case {
    std::string text;
    std::string names;
  };
  const std::vector<Case> cases = {
      {R"({"address": "10.1.0.2", "home_prefix": "10.1.0.0/24", "home_interface": "h0",
          "registration": {"fa_ha_auth": "optional"},
          "cluster": {"etcd": ["etcd1"], "node": "a", "service_address": "10.1.0.2/24"}})",
       "cluster.etcd[0]"},
      {R"({"address": "10.1.0.2", "home_prefix": "10.1.0.0/24", "home_interface": "h0",
          "registration": {"fa_ha_auth": "optional"},
          "cluster": {"etcd": ["10.0.0.1:2379"], "node": "a", "service_address": "10.1.0.3/24"}})",
       "cluster.service_address"},
      {R"({"address": "10.1.0.2", "home_prefix": "10.1.0.0/24", "home_interface": "h0",
          "registration": {"fa_ha_auth": "optional"},
          "cluster": {"etcd": ["10.0.0.1:2379"], "service_address": "10.1.0.2/24"}})",
       "cluster.node"},
      {R"({"address": "10.1.0.2", "home_prefix": "10.1.0.0/24", "home_interface": "h0",
          "registration": {"fa_ha_auth": "optional"},
          "cluster": {"etcd": ["10.0.0.1:2379"], "node": "a", "service_address": "10.1.0.2/24",
                      "lease": 3}})",
       "cluster.lease"},
      {R"({"address": "10.1.0.2", "home_prefix": "10.1.0.0/24", "home_interface": "h0",
          "registration": {"fa_ha_auth": "optional"},
          "cluster": {"etcd": ["10.0.0.1:2379"], "node": "a", "service_address": "10.1.0.2/24",
                      "max_txn_ops": 1}})",
       "cluster.max_txn_ops"},
  };
  for (const auto& c : cases) {
    auto r = parse_config_text(c.text);
    ASSERT_FALSE(r) << c.names;
    EXPECT_NE(r.error().to_string().find(c.names), std::string::npos) << r.error().to_string();
  }
}

// ---- Election and commits (ClusterNode alone) --------------------------------------------------

struct Node {
  test::FakeEtcd etcd;
  ClusterNode node;
  std::vector<std::string> changes;
  int elected = 0;
  std::optional<Error> deposed;
  Node(boost::asio::io_context& io, test::FakeEtcdStore& store, const std::string& name, const Clock& clock,
       const std::string& extra = "")
      : etcd(io, store),
        node(io, etcd, parse_config_text(config_text(name, extra))->cluster.value(), kHome, clock) {}
  void start() {
    ASSERT_TRUE(node.open());
    ClusterHooks h;
    h.on_change = [this](const ClusterKeys::Parsed& k, const cluster::KeyValue* kv) {
      changes.push_back(k.name + (kv ? "=" + kv->value : " gone"));
    };
    h.on_elected = [this]() -> Result<void> {
      ++elected;
      return ok();
    };
    h.on_deposed = [this](const Error& e) { deposed = e; };
    node.start(std::move(h));
  }
};

class ClusterNodeTest : public ::testing::Test {
 protected:
  boost::asio::io_context io;
  test::FakeClock clock;
  test::FakeEtcdStore store;
  void settle() {
    io.poll();
    io.restart();
  }
  store::Batch replay_batch(std::uint64_t id) {
    store::Batch b;
    b.put_replay({kHoa, id});
    return b;
  }
  // `n` replay records for home addresses 10.1.0.<first>, …
  static store::Batch wide_batch(int first, int n) {
    store::Batch b;
    for (int i = 0; i < n; ++i) b.put_replay({*Ipv4::parse("10.1.0." + std::to_string(first + i)), 1});
    return b;
  }
  std::optional<ClusterStatus> survey(ClusterNode& node) {
    std::optional<Result<ClusterStatus>> got;
    node.survey([&](const Result<ClusterStatus>& s) { got = s; });
    settle();
    if (!got || !*got) {
      ADD_FAILURE() << "survey: " << (got ? got->error().to_string() : "no answer");
      return std::nullopt;
    }
    return **got;
  }
};

TEST_F(ClusterNodeTest, TheFirstCampaignWinsTheOtherMirrorsAndTakesOverWhenTheLeaseRunsOut) {
  Node a(io, store, "ha1", clock), b(io, store, "ha2", clock);
  a.start();
  settle();
  b.start();
  settle();
  EXPECT_TRUE(a.node.active());
  EXPECT_EQ(a.elected, 1);
  EXPECT_EQ(b.node.state(), ClusterNode::State::standby);
  EXPECT_EQ(b.node.leader(), "ha1");
  std::optional<Result<void>> done;
  a.node.commit(replay_batch(7), [&](const Result<void>& r) { done = r; });
  settle();
  ASSERT_TRUE(done && *done);
  ASSERT_EQ(b.changes.size(), 1u);
  EXPECT_EQ(b.changes[0], "10.1.0.10=" + encode(store::ReplayRecord{kHoa, 7}));
  EXPECT_TRUE(a.changes.empty()) << "the active does not mirror its own writes";
  // a dies: its lease runs out; b campaigns, waits for its own key in the watch, takes over.
  store.expire_lease(a.etcd.lease);
  settle();
  EXPECT_TRUE(b.node.active());
  EXPECT_EQ(b.elected, 1);
  EXPECT_TRUE(a.deposed) << "a saw its leader key go";
}

TEST_F(ClusterNodeTest, CommitsArePipelinedOneTxnInFlightAndRepliesFollowTheirOwnCommit) {
  Node a(io, store, "ha1", clock);
  a.start();
  settle();
  ASSERT_TRUE(a.node.active());
  a.etcd.hold_txns = true;
  const std::size_t before = a.etcd.sent.size();
  std::vector<int> done;
  a.node.commit(replay_batch(1), [&](const Result<void>& r) { done.push_back(r ? 1 : -1); });
  a.node.commit(replay_batch(2), [&](const Result<void>& r) { done.push_back(r ? 2 : -2); });
  a.node.commit(replay_batch(3), [&](const Result<void>& r) { done.push_back(r ? 3 : -3); });
  settle();
  ASSERT_EQ(a.etcd.sent.size(), before + 1) << "one txn in flight; the others wait for it";
  EXPECT_TRUE(done.empty());
  a.etcd.release_one();
  settle();
  EXPECT_EQ(done, std::vector<int>{1}) << "the first reply goes with its own commit only";
  ASSERT_EQ(a.etcd.sent.size(), before + 2) << "batches 2 and 3 go together";
  EXPECT_EQ(a.etcd.sent.back().mutations.size(), 1u) << "the same key twice: the later write only";
  EXPECT_EQ(a.etcd.sent.back().mutations[0].value, encode(store::ReplayRecord{kHoa, 3}));
  ASSERT_EQ(a.etcd.sent.back().compares.size(), 1u) << "fenced by our leader key";
  EXPECT_EQ(a.etcd.sent.back().compares[0].key, a.node.keys().leader());
  a.etcd.release_one();
  settle();
  EXPECT_EQ(done, (std::vector<int>{1, 2, 3}));
}

TEST_F(ClusterNodeTest, AReplayPutQueuedBeforeABindingOfItsHoaStaysOutOfTheTxn) {
  Node a(io, store, "ha1", clock);
  a.start();
  settle();
  a.etcd.hold_txns = true;
  int ok_count = 0;
  auto count = [&](const Result<void>& r) { ok_count += r ? 1 : 0; };
  a.node.commit(replay_batch(1), count);  // in flight
  a.node.commit(replay_batch(2), count);  // queued: a denial that moved the replay state
  const store::BindingRecord b{kHoa, kFa, kFa, 300, 0, "ipip", 1700000000000, 1700000300000, 3, 1, {}, "{}"};
  store::Batch reg;
  reg.put_replay({kHoa, 3});
  reg.put_binding(b);
  a.node.commit(reg, count);
  a.etcd.release_one();
  settle();
  ASSERT_EQ(a.etcd.held.size(), 1u);
  const cluster::Txn& second = a.etcd.held.front().first;
  ASSERT_EQ(second.mutations.size(), 1u) << "replay 2 is stale behind binding 3, replay 3 rides in it";
  EXPECT_EQ(second.mutations[0].key, a.node.keys().binding(kHoa));
  a.etcd.release_one();
  settle();
  EXPECT_EQ(ok_count, 3);
  // What a new HA would load: the binding is later than replay/<hoa> (1).
  std::vector<cluster::KeyValue> kvs;
  for (const auto& [k, kv] : store.kvs) kvs.push_back(kv);
  auto snap = to_snapshot(a.node.keys(), kvs);
  ASSERT_TRUE(snap) << snap.error().to_string();
  ASSERT_EQ(snap->replay.size(), 1u);
  EXPECT_EQ(snap->replay[0].last_identification, 3u);
}

TEST_F(ClusterNodeTest, AFencedCommitDeposesAndNothingIsApplied) {
  Node a(io, store, "ha1", clock);
  a.start();
  settle();
  a.etcd.hold_txns = true;
  std::optional<Result<void>> done;
  a.node.commit(replay_batch(1), [&](const Result<void>& r) { done = r; });
  // The lease runs out while the txn is on its way (a partition): etcd refuses it.
  store.leases.erase(a.etcd.lease);
  store.kvs.erase(a.node.keys().leader());
  a.etcd.release_one();
  settle();
  ASSERT_TRUE(done);
  ASSERT_FALSE(*done);
  EXPECT_EQ(done->error().code, "cluster_fenced");
  EXPECT_FALSE(store.kvs.contains(a.node.keys().replay(kHoa)));
  ASSERT_TRUE(a.deposed);
  EXPECT_EQ(a.node.state(), ClusterNode::State::deposed);
}

TEST_F(ClusterNodeTest, AStandbyRefusesWritesNamingTheActive) {
  Node a(io, store, "ha1", clock), b(io, store, "ha2", clock);
  a.start();
  settle();
  b.start();
  settle();
  auto r = b.node.commit_now(replay_batch(1));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "cluster_standby");
  EXPECT_NE(r.error().context.find("ha1"), std::string::npos);
}

TEST_F(ClusterNodeTest, MembersReportRoleAndProgressAndTheSurveyShowsLagAndLeases) {
  Node a(io, store, "ha1", clock, R"(, "api_address": "/run/ha1.sock")");
  Node b(io, store, "ha2", clock, R"(, "api_address": "https://10.0.0.6:8434")");
  a.start();
  settle();
  b.start();
  settle();
  auto s = survey(b.node);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->node, "ha2");
  EXPECT_EQ(s->home_prefix, "10.1.0.0/24");
  EXPECT_EQ(s->active, "ha1");
  ASSERT_EQ(s->members.size(), 2u);
  EXPECT_EQ(s->members[0].record.node, "ha1");
  EXPECT_EQ(s->members[0].record.role, "active");
  EXPECT_EQ(s->members[0].record.api, "/run/ha1.sock");
  EXPECT_EQ(s->members[0].lease_ttl_s, 2) << "etcd's LeaseTimeToLive";
  EXPECT_EQ(s->members[1].record.role, "standby");
  EXPECT_EQ(s->members[1].lag, 0);
  EXPECT_FALSE(store.kvs.at(b.node.keys().member("ha2")).value.empty());
  EXPECT_EQ(store.kvs.at(b.node.keys().member("ha2")).lease, b.etcd.lease) << "the record goes with its node";
  // ha1 commits; ha2 mirrors it but has not reported since: as of the reports it is behind.
  std::optional<Result<void>> done;
  a.node.commit(replay_batch(7), [&](const Result<void>& r) { done = r; });
  settle();
  ASSERT_TRUE(done && *done);
  s = survey(a.node);
  ASSERT_TRUE(s);
  // (Revisions of the whole store: member records count too, hence not just 1.)
  EXPECT_GT(s->members[1].lag, 0) << "behind, as of its last report";
  b.node.keepalive_tick();  // the refresh every TTL/6
  settle();
  s = survey(a.node);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->members[1].lag, 0);
  // ha1 dies: its record goes with its lease; ha2 reports itself active.
  store.expire_lease(a.etcd.lease);
  settle();
  ASSERT_TRUE(b.node.active());
  s = survey(b.node);
  ASSERT_TRUE(s);
  ASSERT_EQ(s->members.size(), 1u);
  EXPECT_EQ(s->members[0].record.node, "ha2");
  EXPECT_EQ(s->members[0].record.role, "active");
  EXPECT_EQ(s->active, "ha2");
}

TEST(ClusterStatusTest, LagIsCountedBehindTheActiveWithinEachHomePrefix) {
  std::vector<MemberStatus> m = {{{"a1", "10.1.0.0/24", "active", "", "", 50}, 1, -1, 0},
                                 {{"a2", "10.1.0.0/24", "standby", "", "", 42}, 2, -1, 0},
                                 {{"a3", "10.1.0.0/24", "standby", "", "", 61}, 4, -1, 0},
                                 {{"b1", "10.9.0.0/24", "active", "", "", 7}, 3, -1, 0},
                                 {{"c1", "10.8.0.0/24", "electing", "", "", 9}, 5, -1, 0},
                                 {{"c2", "10.8.0.0/24", "standby", "", "", 5}, 6, -1, 0}};
  fill_lag(m);
  EXPECT_EQ(m[0].lag, 0);
  EXPECT_EQ(m[1].lag, 8);
  EXPECT_EQ(m[2].lag, 0) << "joined after the active's last change: it read from a later revision";
  EXPECT_EQ(m[3].lag, 0) << "another home prefix's progress is not ours to lag behind";
  EXPECT_EQ(m[5].lag, 4) << "no active: behind the most advanced member";
  EXPECT_FALSE(decode_member("{\"node\": 3}")) << "a bad record is an error, not a guess";
  EXPECT_EQ(*decode_member(encode(m[1].record)), m[1].record);
  EXPECT_EQ(m[4].lag, 0);
}

TEST_F(ClusterNodeTest, ABatchLargerThanEtcdsTxnLimitGoesInSeveralFencedTxns) {
  store.max_ops = 4;  // etcd --max-txn-ops 4
  Node a(io, store, "ha1", clock, R"(, "max_txn_ops": 4)");
  a.start();
  settle();
  ASSERT_TRUE(a.node.active());
  a.etcd.hold_txns = true;
  const std::size_t before = a.etcd.sent.size();
  std::vector<int> done;
  a.node.commit(wide_batch(10, 10), [&](const Result<void>& r) { done.push_back(r ? 1 : -1); });
  a.node.commit(wide_batch(30, 1), [&](const Result<void>& r) { done.push_back(r ? 2 : -2); });
  a.node.commit(wide_batch(40, 2), [&](const Result<void>& r) { done.push_back(r ? 3 : -3); });
  for (int i = 0; i < 3; ++i) {
    settle();
    EXPECT_TRUE(done.empty()) << "the big batch is acknowledged only after its last part";
    a.etcd.release_one();
  }
  settle();
  EXPECT_EQ(done, (std::vector<int>{1, 2})) << "the third txn: the big batch's tail and the whole next batch";
  a.etcd.release_one();
  settle();
  EXPECT_EQ(done, (std::vector<int>{1, 2, 3}));
  ASSERT_EQ(a.etcd.sent.size(), before + 4);
  const std::vector<std::size_t> sizes{4, 4, 3, 2};
  for (std::size_t i = 0; i < 4; ++i) {
    const auto& t = a.etcd.sent[before + i];
    EXPECT_EQ(t.mutations.size(), sizes[i]) << "txn " << i;
    ASSERT_EQ(t.compares.size(), 1u);
    EXPECT_EQ(t.compares[0].key, a.node.keys().leader()) << "every part is fenced";
  }
  EXPECT_TRUE(store.kvs.contains(a.node.keys().replay(*Ipv4::parse("10.1.0.19"))));
  EXPECT_TRUE(store.kvs.contains(a.node.keys().replay(*Ipv4::parse("10.1.0.41"))));
  // The blocking path (expiry, API writes) splits the same way.
  a.etcd.hold_txns = false;
  const auto rev = store.revision;
  ASSERT_TRUE(a.node.commit_now(wide_batch(100, 9)));
  EXPECT_EQ(store.revision, rev + 3) << "9 mutations in txns of 4, 4 and 1";
  EXPECT_TRUE(store.kvs.contains(a.node.keys().replay(*Ipv4::parse("10.1.0.108"))));
}

TEST_F(ClusterNodeTest, AnActiveWhoseKeepalivesGoUnansweredStepsDownBeforeItsLeaseCanRunOut) {
  Node a(io, store, "ha1", clock);
  a.start();
  settle();
  ASSERT_TRUE(a.node.active());
  a.etcd.unavailable = true;  // partitioned from etcd
  a.node.keepalive_tick();
  settle();
  clock.advance(std::chrono::milliseconds(1400));
  a.node.keepalive_tick();
  EXPECT_TRUE(a.node.active()) << "TTL 2 s: still inside the lease, and inside its margin";
  clock.advance(std::chrono::milliseconds(100));
  a.node.keepalive_tick();
  ASSERT_TRUE(a.deposed) << "1.5 s without a confirmed keepalive: TTL minus the 500 ms margin has passed";
  EXPECT_EQ(a.deposed->code, "cluster_lease_unconfirmed");
}

// ---- Losing etcd and finding it again ----------------------------------------------------------

TEST_F(ClusterNodeTest, AnHaStartedBeforeEtcdComesUpConnectingAndJoinsOnceEtcdAnswers) {
  Node a(io, store, "ha1", clock);
  a.etcd.unavailable = true;  // etcd not listening yet
  a.start();
  settle();
  EXPECT_EQ(a.node.state(), ClusterNode::State::connecting);
  EXPECT_EQ(a.node.role(), "connecting");
  EXPECT_NE(a.node.etcd_error().find("etcd_unavailable"), std::string::npos) << a.node.etcd_error();
  auto loaded = a.node.load();
  ASSERT_TRUE(loaded);
  EXPECT_TRUE(loaded->bindings.empty());
  a.node.reconnect();  // the backoff timer's attempt, etcd still down
  settle();
  EXPECT_EQ(a.node.state(), ClusterNode::State::connecting);
  EXPECT_FALSE(a.deposed) << "a standby that cannot reach etcd retries, it does not end";
  // What another HA committed meanwhile is in the mirror once we are in.
  ASSERT_TRUE(
      store.apply({{}, {{false, a.node.keys().replay(kHoa), encode(store::ReplayRecord{kHoa, 5}), 0}}, {}}));
  a.etcd.unavailable = false;
  a.node.reconnect();
  settle();
  EXPECT_TRUE(a.node.active()) << a.node.role();
  EXPECT_EQ(a.elected, 1);
  ASSERT_EQ(a.changes.size(), 1u);
  EXPECT_EQ(a.changes[0], "10.1.0.10=" + encode(store::ReplayRecord{kHoa, 5}));
  EXPECT_EQ(a.node.reconnects(), 2u);
  EXPECT_EQ(a.node.etcd_error(), "");
}

TEST_F(ClusterNodeTest, AStandbyWhoseCampaignFailsStaysUpRetriesAndResyncsItsMirror) {
  Node a(io, store, "ha1", clock), b(io, store, "ha2", clock);
  a.start();
  settle();
  b.start();
  settle();
  ASSERT_EQ(b.node.state(), ClusterNode::State::standby);
  std::optional<Result<void>> done;
  a.node.commit(wide_batch(20, 2), [&](const Result<void>& r) { done = r; });
  settle();
  ASSERT_TRUE(done && *done);
  ASSERT_EQ(b.changes.size(), 2u);
  const std::int64_t old_lease = b.etcd.lease;
  // The active dies while b cannot reach etcd: b's campaign fails.
  b.etcd.unavailable = true;
  store.expire_lease(a.etcd.lease);
  settle();
  EXPECT_EQ(b.node.state(), ClusterNode::State::connecting);
  EXPECT_FALSE(b.deposed) << "a failed campaign is not a reason for a standby to end";
  EXPECT_NE(b.node.etcd_error().find("cluster_campaign_failed"), std::string::npos) << b.node.etcd_error();
  // Meanwhile one record goes from etcd (the standby's watch is gone: no event for it).
  ASSERT_TRUE(store.apply({{}, {{true, a.node.keys().replay(*Ipv4::parse("10.1.0.20")), "", 0}}, {}}));
  b.changes.clear();
  b.etcd.unavailable = false;
  b.node.reconnect();
  settle();
  EXPECT_TRUE(b.node.active()) << b.node.role();
  EXPECT_EQ(b.elected, 1);
  EXPECT_NE(b.etcd.lease, old_lease) << "a new lease";
  EXPECT_FALSE(store.leases.contains(old_lease)) << "the old lease is revoked";
  EXPECT_NE(std::find(b.changes.begin(), b.changes.end(), "10.1.0.20 gone"), b.changes.end())
      << "the record etcd lost leaves the mirror";
  EXPECT_NE(std::find(b.changes.begin(), b.changes.end(),
                      "10.1.0.21=" + encode(store::ReplayRecord{*Ipv4::parse("10.1.0.21"), 1})),
            b.changes.end());
  EXPECT_EQ(b.etcd.watches, 2);
}

TEST_F(ClusterNodeTest, AStandbyWhoseWatchEndsOrLeaseGoesReconnectsAnActiveIsDeposed) {
  Node a(io, store, "ha1", clock), b(io, store, "ha2", clock);
  a.start();
  settle();
  b.start();
  settle();
  b.etcd.end_watch(make_error("etcd_unavailable", "14 connection reset"));
  settle();
  EXPECT_EQ(b.node.state(), ClusterNode::State::connecting);
  EXPECT_FALSE(b.deposed);
  b.node.reconnect();
  settle();
  EXPECT_EQ(b.node.state(), ClusterNode::State::standby);
  EXPECT_EQ(b.node.leader(), "ha1");
  EXPECT_TRUE(b.etcd.watching());
  // Its lease runs out in etcd (a partition longer than the TTL): the keepalive says so.
  store.expire_lease(b.etcd.lease);
  settle();
  b.node.keepalive_tick();
  settle();
  EXPECT_EQ(b.node.state(), ClusterNode::State::connecting);
  EXPECT_FALSE(b.deposed);
  // The active's watch ends: it may no longer act.
  a.etcd.end_watch(make_error("etcd_unavailable", "14 connection reset"));
  settle();
  ASSERT_TRUE(a.deposed);
  EXPECT_EQ(a.deposed->code, "cluster_watch_ended");
}

// ---- Two home agents: the standby's mirror becomes the active binding cache -----------------

struct Agent {
  test::TempDir dir;
  dataplane::FakeNetlink netlink;
  dataplane::FakeTunnelDriver driver;
  Node member;
  std::unique_ptr<HomeAgent> ha;
  std::vector<Bytes> sent;
  std::vector<Ipv4> sent_to;  // sent[i] went to sent_to[i]
  boost::asio::io_context& io;
  Agent(boost::asio::io_context& i, test::FakeEtcdStore& store, const std::string& name,
        test::FakeClock& clock)
      : member(i, store, name, clock, R"(, "api_address": "/run/)" + name + R"(.sock")"), io(i) {
    init(io, name, clock);
  }
  void init(boost::asio::io_context& ctx, const std::string& name, test::FakeClock& clock) {
    netlink.links.push_back(
        dataplane::LinkInfo{3, "h0", *MacAddress::parse("02:00:00:00:01:01"), 1500, true, {}});
    driver.offer(nullptr);
    ASSERT_TRUE(member.node.open());
    HomeAgentIo seams;
    seams.netlink = &netlink;
    seams.driver = &driver;
    seams.send_udp = [this](Ipv4 dst, std::uint16_t, ByteView b) {
      sent.emplace_back(b.begin(), b.end());
      sent_to.push_back(dst);
    };
    seams.send_home_frame = [](ByteView) {};
    seams.clock = &clock;
    seams.random32 = [] { return 7u; };
    seams.previous_peer_grace = Duration::zero();
    seams.cluster = &member.node;
    auto st = store::Store::open(dir.file("ha.db"));
    ASSERT_TRUE(st);
    ha = std::make_unique<HomeAgent>(ctx, *parse_config_text(config_text(name)), seams, std::move(*st));
    ASSERT_TRUE(ha->start());
    ClusterHooks h;
    h.on_change = [this](const ClusterKeys::Parsed& k, const cluster::KeyValue* kv) {
      ha->mirror(k, kv ? &kv->value : nullptr);
    };
    h.on_elected = [this] { return ha->take_over(); };
    h.on_deposed = [this](const Error& e) { member.deposed = e; };
    member.node.start(std::move(h));
  }
  ~Agent() {
    member.node.stop();
    ha.reset();
  }
  api::Response call(api::Method m, const std::string& path, const std::string& body) {
    auto reply = ha->handle_api(test::api_request(m, path, body));
    if (auto* now = std::get_if<api::Response>(&reply)) return *now;
    // Deferred (it asks etcd first): the answer comes on the loop.
    std::optional<api::Response> later;
    std::get<api::Deferred>(reply).attach([&](api::Response x) { later = std::move(x); });
    io.poll();
    io.restart();
    if (!later) ADD_FAILURE() << "no deferred answer";
    return later.value_or(api::Response{});
  }
};

class ClusterHaTest : public ClusterNodeTest {
 protected:
  Bytes request(std::uint64_t id_offset, Ipv4 fa = kFa) {
    wire::RegistrationRequest r;
    r.flags = mip::request_flag::T;
    r.lifetime = 300;
    r.home_address = kHoa;
    r.home_agent = kHa;
    r.care_of_address = fa;
    r.identification = auth::ntp_from_wall(clock.wall_now()) + id_offset;
    r.append(wire::PmipPerNodeAuth{}.to_extension());
    r.append(*wire::PmipDeviceId::ethernet(kVmMac).to_extension());
    if (!auth::append_auth(r, mip::ext::fa_ha_auth, test::fa_ha_key())) std::abort();
    return wire::encode(r);
  }
  static int code_of(const Bytes& reply) {
    auto r = wire::parse_registration_reply(reply);
    return r ? r->code : -1;
  }
};

TEST_F(ClusterHaTest, AReplyWaitsForEtcdAndTheStandbyTakesOverWithItsMirror) {
  Agent a(io, store, "ha1", clock);
  settle();
  Agent b(io, store, "ha2", clock);
  settle();
  ASSERT_TRUE(a.member.node.active());
  ASSERT_FALSE(b.member.node.active());
  // The VM definition goes through etcd: the standby has it too.
  auto created = a.call(api::Method::post, "/v1/vms",
                        R"({"id":"vm1","home_address":"10.1.0.10","mac":"52:54:00:12:34:56"})");
  ASSERT_EQ(created.status, 201) << created.body_text();
  settle();
  ASSERT_NE(b.ha->vms().by_id("vm1"), nullptr);
  // A standby refuses writes, naming the active.
  auto refused = b.call(api::Method::post, "/v1/vms",
                        R"({"id":"vm2","home_address":"10.1.0.11","mac":"52:54:00:12:34:57"})");
  EXPECT_EQ(refused.status, 503);
  const auto why = api::Json::parse(refused.body_text());
  EXPECT_EQ(why["error"]["code"], "standby");
  EXPECT_EQ(why["error"]["active"]["node"], "ha1");
  EXPECT_EQ(why["error"]["active"]["api"], "/run/ha1.sock");
  EXPECT_NE(why["error"]["message"].get<std::string>().find("ha1, at /run/ha1.sock"), std::string::npos)
      << refused.body_text();
  EXPECT_EQ(b.ha->vms().by_id("vm2"), nullptr) << "nothing changed";
  EXPECT_EQ(b.call(api::Method::delete_, "/v1/vms/vm1", "").status, 503);
  EXPECT_NE(b.ha->vms().by_id("vm1"), nullptr);
  // Reads are answered from the mirror; the cluster's status from etcd.
  EXPECT_EQ(b.call(api::Method::get, "/v1/vms/vm1", "").status, 200);
  auto cluster = b.call(api::Method::get, "/v1/cluster", "");
  ASSERT_EQ(cluster.status, 200) << cluster.body_text();
  const auto st = api::Json::parse(cluster.body_text());
  EXPECT_EQ(st["active"], "ha1");
  ASSERT_EQ(st["members"].size(), 2u);
  EXPECT_EQ(st["members"][1]["node"], "ha2");
  EXPECT_EQ(st["members"][1]["role"], "standby");
  EXPECT_EQ(st["members"][1]["api"], "/run/ha2.sock");
  // A registration: no reply before its txn committed.
  a.member.etcd.hold_txns = true;
  a.ha->on_datagram(request(1), kFa, 434);
  a.ha->flush();
  settle();
  EXPECT_TRUE(a.sent.empty()) << "nothing is acknowledged before etcd has it";
  a.member.etcd.release_one();
  settle();
  ASSERT_EQ(a.sent.size(), 1u);
  EXPECT_EQ(code_of(a.sent[0]), 0);
  ASSERT_NE(b.ha->bindings().lookup(kHoa), nullptr) << "the standby mirrors the binding";
  EXPECT_TRUE(b.driver.routes.empty()) << "but installs nothing while standby";
  EXPECT_TRUE(b.netlink.proxies.empty());
  // The active dies. The standby takes over: tunnel, route and proxy ARP for the binding.
  store.expire_lease(a.member.etcd.lease);
  settle();
  ASSERT_TRUE(b.member.node.active());
  EXPECT_EQ(b.driver.routes.at(kHoa), kFa);
  ASSERT_EQ(b.netlink.proxies.size(), 1u);
  EXPECT_EQ(b.netlink.proxies[0].address, kHoa);
  // The FA's next renewal reaches the new active and is accepted (replay state came too).
  b.ha->on_datagram(request(2), kFa, 434);
  b.ha->flush();
  settle();
  ASSERT_EQ(b.sent.size(), 1u);
  EXPECT_EQ(code_of(b.sent[0]), 0);
  // ... but a replay of the old request is not.
  b.ha->on_datagram(request(1), kFa, 434);
  b.ha->flush();
  settle();
  ASSERT_EQ(b.sent.size(), 2u);
  EXPECT_EQ(code_of(b.sent[1]), mip::code::ha_identification_mismatch);
  // The binding runs out: the active removes its key from etcd (a fenced txn, as every write).
  ASSERT_TRUE(store.kvs.contains(b.member.node.keys().binding(kHoa)));
  clock.advance(std::chrono::seconds(301));
  b.ha->on_expiry();
  EXPECT_FALSE(store.kvs.contains(b.member.node.keys().binding(kHoa)));
  EXPECT_EQ(b.ha->bindings().lookup(kHoa), nullptr);
  EXPECT_TRUE(b.member.node.active());
}

// RFC 3543 §4 across a takeover: the revocation committed with a move is in etcd, so when
// the active dies before the old FA acknowledged it (kill -9: nothing runs on the way out),
// the new active sends it again, and forgets it (in etcd too) once acknowledged.
TEST_F(ClusterHaTest, ARevocationPendingWhenTheActiveDiesIsSentByTheNewActive) {
  Agent a(io, store, "ha1", clock);
  settle();
  Agent b(io, store, "ha2", clock);
  settle();
  ASSERT_TRUE(a.member.node.active());
  ASSERT_EQ(a.call(api::Method::post, "/v1/vms",
                   R"({"id":"vm1","home_address":"10.1.0.10","mac":"52:54:00:12:34:56"})")
                .status,
            201);
  a.ha->on_datagram(request(1, kFa), kFa, 434);
  a.ha->flush();
  settle();
  // The VM moves on to FA2: the reply to FA2, then the revocation to FA1.
  a.ha->on_datagram(request(2, kFa2), kFa2, 434);
  a.ha->flush();
  settle();
  ASSERT_EQ(a.sent.size(), 3u);
  EXPECT_EQ(code_of(a.sent[1]), 0);
  EXPECT_EQ(a.sent_to[2], kFa);
  const Bytes first = a.sent[2];
  auto rev = wire::parse_revocation(first);
  ASSERT_TRUE(rev) << rev.error().to_string();
  const std::string key = a.member.node.keys().revocation(rev->revocation_id);
  ASSERT_TRUE(store.kvs.contains(key)) << "committed to etcd with the move";
  EXPECT_EQ(a.ha->pending_revocations(), 1u);
  // ha1 dies before FA1 acknowledges; ha2 takes over and sends the same signed revocation.
  store.expire_lease(a.member.etcd.lease);
  settle();
  ASSERT_TRUE(b.member.node.active());
  ASSERT_EQ(b.sent.size(), 1u);
  EXPECT_EQ(b.sent_to[0], kFa);
  EXPECT_EQ(b.sent[0], first);
  EXPECT_EQ(b.ha->pending_revocations(), 1u);
  EXPECT_EQ(b.driver.routes.at(kHoa), kFa2);
  // FA1's ack reaches the new active: no longer pending, and its key leaves etcd.
  wire::RevocationAck ack;
  ack.home_address = kHoa;
  ack.revocation_id = rev->revocation_id;
  ASSERT_TRUE(auth::append_auth(ack, mip::ext::fa_ha_auth, test::fa_ha_key()));
  b.ha->on_datagram(wire::encode(ack), kFa, 434);
  b.ha->flush();
  settle();
  EXPECT_EQ(b.ha->pending_revocations(), 0u);
  EXPECT_FALSE(store.kvs.contains(key));
  EXPECT_TRUE(b.member.node.active());
}

}  // namespace
}  // namespace vmroam::ha
