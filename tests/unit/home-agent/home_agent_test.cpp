// HomeAgent with fakes for the OS: registrations end in the store, the driver and the
// proxy-ARP table before the reply leaves; restarts restore; the API changes nothing on bad
// input. The registrar's individual rules are covered in registrar_test.cpp.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>

#include "common/auth/authenticator.hpp"
#include "common/core/hex.hpp"
#include "common/wire/dsmip.hpp"
#include "common/wire/ethernet.hpp"
#include "common/wire/message.hpp"
#include "common/wire/ndp.hpp"
#include "home-agent/home_agent.hpp"
#include "tests/fakes/fake_clock.hpp"
#include "tests/fakes/fake_hold_port.hpp"
#include "tests/fakes/fake_netlink.hpp"
#include "tests/fakes/fake_tunnel_driver.hpp"
#include "tests/fakes/temp_dir.hpp"
#include "tests/unit/support/agent_fixture.hpp"

namespace vmroam::ha {
namespace {

using namespace std::chrono_literals;
using api::Json;
using namespace test;  // kHoa, kVmMac, Sent, … (tests/unit/support/agent_fixture.hpp)

const Ipv4 kHa = *Ipv4::parse("192.0.2.1");
const Ipv4 kFa1 = *Ipv4::parse("192.0.2.2");
const Ipv4 kFa2 = *Ipv4::parse("192.0.2.3");
const MacAddress kHomeMac = *MacAddress::parse("02:00:00:00:01:01");
const char* kKey1 = test::kFaHaKeyHex;
const char* kKey2 = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

HaConfig test_config(const std::string& store_path) {
  auto c = parse_config_text(R"({
    "address": "192.0.2.1", "home_prefix": "10.1.0.0/24", "home_interface": "br-home",
    "home_prefix_v6": "2001:db8:1::/64",
    "registration": { "max_lifetime_s": 300 },
    "handover": { "hold_timeout_ms": 100 },
    "foreign_agents": [
      { "address": "192.0.2.2", "fa_ha": { "spi": 1000, "key": ")" +
                             std::string(kKey1) + R"(" } },
      { "address": "192.0.2.3", "fa_ha": { "spi": 1001, "key": ")" +
                             std::string(kKey2) + R"(" } } ] })");
  if (!c) std::abort();
  c->store_path = store_path;
  return *c;
}

auth::SecurityAssociation fa_key(Ipv4 fa) {
  auto k = from_hex(fa == kFa1 ? kKey1 : kKey2);
  return {fa == kFa1 ? 1000u : 1001u, auth::Algorithm::hmac_sha256, *k};
}

class HomeAgentTest : public ::testing::Test {
 protected:
  boost::asio::io_context io;
  test::TempDir dir;
  test::FakeClock clock;
  dataplane::FakeNetlink netlink;
  dataplane::FakeTunnelDriver driver;
  dataplane::FakeHoldPort port;  // the driver's HoldPort
  std::vector<Sent> sent;
  std::vector<Bytes> frames;
  std::unique_ptr<HomeAgent> ha;
  std::uint32_t next_random = 0x1000;

  void SetUp() override {
    netlink.links.push_back(dataplane::LinkInfo{3, "br-home", kHomeMac, 1500, true, {}});
    port.route_of = [this](Ipv4 hoa) -> std::optional<Ipv4> {
      auto it = driver.routes.find(hoa);
      return it == driver.routes.end() ? std::nullopt : std::optional(it->second);
    };
    start();
  }
  // The agent goes first: stopping it ends handovers, which calls the seams below.
  void TearDown() override { ha.reset(); }
  // Home-link capture calls the agent made (handover recovery).
  std::vector<std::string> watch_calls;
  int drains = 0;
  bool diverted_at_drain = false;  // the VM's packets were diverted when the capture was drained
  [[nodiscard]] bool called(const std::string& call) const {
    return std::find(driver.calls.begin(), driver.calls.end(), call) != driver.calls.end();
  }
  [[nodiscard]] bool port_called(const std::string& call) const {
    return std::find(port.calls.begin(), port.calls.end(), call) != port.calls.end();
  }
  bool driver_can_hold = true;
  void start() {
    driver.offer(driver_can_hold ? &port : nullptr);
    auto store = store::Store::open(dir.file("ha.db"));
    ASSERT_TRUE(store) << store.error().to_string();
    HomeAgentIo seams;
    seams.netlink = &netlink;
    seams.driver = &driver;
    seams.send_udp = test::record_into(sent);
    seams.send_home_frame = [this](ByteView f) { frames.emplace_back(f.begin(), f.end()); };
    seams.clock = &clock;
    seams.random32 = [this] { return next_random++; };
    seams.previous_peer_grace = Duration::zero();
    seams.watch_home_link = [this](Ipv4 a, const std::vector<Ipv6>& v6, bool on) -> Result<void> {
      std::string call = a.to_string();
      for (const Ipv6& b : v6) call += " " + b.to_string();
      watch_calls.push_back(call + (on ? " on" : " off"));
      return ok();
    };
    seams.drain_home_link = [this] {
      ++drains;
      diverted_at_drain = port.diverted.contains(kHoa);
    };
    ha = std::make_unique<HomeAgent>(io, test_config(dir.file("ha.db")), seams, std::move(*store));
    auto started = ha->start();
    ASSERT_TRUE(started) << started.error().to_string();
  }
  // Decides what is queued and waits for its commit: the replies have left.
  void flush() {
    ha->flush();
    ha->settle_commits();
  }
  void flush_request(const Bytes& request, Ipv4 from) {
    ha->on_datagram(request, from, 434);
    flush();
  }
  // Lets due timers (the handover grace, 0 here) fire.
  void settle() {
    io.poll();
    io.restart();
  }
  api::Response call(api::Method m, const std::string& path, const std::string& body = {}) {
    return std::get<api::Response>(ha->handle_api(test::api_request(m, path, body)));
  }
  void add_vm(const std::string& extra = "") {
    auto r = call(api::Method::post, "/v1/vms",
                  R"({"id":"vm1","home_address":"10.1.0.10","mac":"52:54:00:12:34:56")" + extra + "}");
    ASSERT_EQ(r.status, 201) << r.body_text();
  }
  Bytes request_from(Ipv4 fa, std::uint16_t lifetime, std::uint64_t id_offset = 0, bool udp_tunnel = false) {
    wire::RegistrationRequest r;
    r.flags = mip::request_flag::T;
    r.lifetime = lifetime;
    r.home_address = kHoa;
    r.home_agent = kHa;
    r.care_of_address = fa;
    r.identification = auth::ntp_from_wall(clock.wall_now()) + id_offset;
    r.append(wire::PmipPerNodeAuth{}.to_extension());
    r.append(*wire::PmipDeviceId::ethernet(kVmMac).to_extension());
    r.append(wire::RevocationSupport{}.to_extension());
    if (udp_tunnel) r.append(wire::UdpTunnelRequest{}.to_extension());
    if (!auth::append_auth(r, mip::ext::fa_ha_auth, fa_key(fa))) std::abort();
    return wire::encode(r);
  }
  wire::RegistrationReply last_reply() {
    EXPECT_FALSE(sent.empty());
    auto r = wire::parse_registration_reply(sent.back().payload);
    EXPECT_TRUE(r) << r.error().to_string();
    return *r;
  }
  store::Snapshot stored() {
    auto s = store::Store::open(dir.file("ha.db"));
    EXPECT_TRUE(s);
    return *s->load();
  }
};

TEST_F(HomeAgentTest, AcceptedRegistrationIsDurableAndInTheKernelBeforeTheReply) {
  add_vm();
  ha->on_datagram(request_from(kFa1, 600), kFa1, 434);
  EXPECT_TRUE(sent.empty()) << "nothing is answered before the batch is flushed";
  flush();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].dst, kFa1);
  EXPECT_EQ(sent[0].port, 434);
  auto reply = last_reply();
  EXPECT_EQ(reply.code, 0);
  EXPECT_EQ(reply.lifetime, 300) << "clamped to max_lifetime_s";
  EXPECT_TRUE(auth::verify(sent[0].payload, reply.extensions, mip::ext::fa_ha_auth, fa_key(kFa1)));
  // Durable.
  auto snap = stored();
  ASSERT_EQ(snap.bindings.size(), 1u);
  EXPECT_EQ(snap.bindings[0].care_of_address, kFa1);
  ASSERT_EQ(snap.replay.size(), 1u);
  // Kernel: tunnel endpoint and route, proxy ARP on the home link, gratuitous ARP with our MAC.
  EXPECT_EQ(driver.routes.at(kHoa), kFa1);
  EXPECT_TRUE(driver.endpoints.contains(kFa1));
  ASSERT_EQ(netlink.proxies.size(), 1u);
  EXPECT_EQ(netlink.proxies[0].address, kHoa);
  EXPECT_EQ(netlink.proxies[0].ifindex, 3);
  ASSERT_EQ(frames.size(), 1u);
  auto eth = wire::parse_ethernet(frames[0]);
  ASSERT_TRUE(eth);
  auto arp = wire::parse_arp(eth->payload);
  ASSERT_TRUE(arp);
  EXPECT_EQ(arp->sender_ip, kHoa);
  EXPECT_EQ(arp->sender_mac, kHomeMac);
}

// The tunnel switches before the commit (forward before durable), the reply after it. When
// the commit fails the switch is undone: the binding, the route and the endpoint are as before,
// and the FA hears 130 (insufficient resources).
TEST_F(HomeAgentTest, AFailedCommitUndoesTheEarlyTunnelSwitch) {
  add_vm();
  ha->on_datagram(request_from(kFa1, 300, 1), kFa1, 434);
  flush();
  ASSERT_EQ(driver.routes.at(kHoa), kFa1);
  // Another connection holds the write lock: the HA's commit fails (busy, after 1 s).
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(dir.file("ha.db").c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  driver.calls.clear();
  ha->on_datagram(request_from(kFa2, 300, 2), kFa2, 434);
  flush();
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  EXPECT_EQ(last_reply().code, mip::code::ha_insufficient_resources);
  EXPECT_TRUE(called("route 10.1.0.10 192.0.2.3")) << "switched before the commit";
  EXPECT_EQ(driver.routes.at(kHoa), kFa1) << "and switched back when it failed";
  EXPECT_EQ(ha->bindings().lookup(kHoa)->care_of_address, kFa1);
  EXPECT_TRUE(driver.endpoints.contains(kFa1));
  // A VM at home whose first registration fails is not left routed into the tunnel.
  ASSERT_EQ(call(api::Method::post, "/v1/vms",
                 R"({"id":"vm2","home_address":"10.1.0.11","mac":"52:54:00:12:34:57"})")
                .status,
            201);
  ASSERT_EQ(sqlite3_open(dir.file("ha.db").c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  wire::RegistrationRequest r;
  r.flags = mip::request_flag::T;
  r.lifetime = 300;
  r.home_address = Ipv4(0x0a01000b);
  r.home_agent = kHa;
  r.care_of_address = kFa2;
  r.identification = auth::ntp_from_wall(clock.wall_now()) + 7;
  r.append(wire::PmipPerNodeAuth{}.to_extension());
  r.append(*wire::PmipDeviceId::ethernet(MacAddress({0x52, 0x54, 0x00, 0x12, 0x34, 0x57})).to_extension());
  ASSERT_TRUE(auth::append_auth(r, mip::ext::fa_ha_auth, fa_key(kFa2)));
  ha->on_datagram(wire::encode(r), kFa2, 434);
  flush();
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  EXPECT_EQ(last_reply().code, mip::code::ha_insufficient_resources);
  EXPECT_FALSE(driver.routes.contains(Ipv4(0x0a01000b)));
  EXPECT_EQ(ha->bindings().lookup(Ipv4(0x0a01000b)), nullptr);
}

// The commit is overlapped (store::CommitPipeline): while one batch is on the writer thread
// the loop decides the next against memory that already holds it, and each reply leaves only
// from its own batch's completion.
TEST_F(HomeAgentTest, TheNextBatchIsDecidedWhileACommitIsInFlightAndAnsweredAfterIt) {
  add_vm();
  ha->on_datagram(request_from(kFa1, 300, 1), kFa1, 434);
  ha->flush();
  EXPECT_TRUE(sent.empty()) << "no reply before its commit has completed";
  ha->on_datagram(request_from(kFa2, 300, 2), kFa2, 434);
  ha->flush();
  EXPECT_TRUE(sent.empty()) << "the second batch waits behind the first";
  ASSERT_NE(ha->bindings().lookup(kHoa), nullptr);
  EXPECT_EQ(ha->bindings().lookup(kHoa)->care_of_address, kFa2) << "decided against the first batch";
  ha->settle_commits();
  std::vector<Sent> replies;
  for (const auto& x : sent)
    if (wire::parse_registration_reply(x.payload)) replies.push_back(x);
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].dst, kFa1) << "answered in the order asked";
  EXPECT_EQ(wire::parse_registration_reply(replies[0].payload)->code, 0);
  EXPECT_EQ(replies[1].dst, kFa2);
  EXPECT_EQ(wire::parse_registration_reply(replies[1].payload)->code, 0);
  auto snap = stored();
  ASSERT_EQ(snap.bindings.size(), 1u);
  EXPECT_EQ(snap.bindings[0].care_of_address, kFa2);
  EXPECT_NE(ha->metrics().render().find("vmroam_store_commit_seconds_count 3"), std::string::npos)
      << "the VM, then one commit per batch";
}

// If the commit in flight fails, the batch decided behind it was decided against memory that
// held it: both are answered 130 and nothing of either stays, in memory, the kernel or on disk.
TEST_F(HomeAgentTest, AFailedCommitFailsTheBatchDecidedBehindItAndChangesNothing) {
  add_vm();
  flush_request(request_from(kFa1, 300, 1), kFa1);
  ASSERT_EQ(last_reply().code, 0);
  sent.clear();
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(dir.file("ha.db").c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  ha->on_datagram(request_from(kFa2, 300, 2), kFa2, 434);
  ha->flush();  // in flight: it will fail (busy)
  ha->on_datagram(request_from(kFa1, 300, 3), kFa1, 434);
  ha->flush();  // decided behind it
  ha->settle_commits();
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  ASSERT_EQ(sent.size(), 2u);
  for (const auto& x : sent)
    EXPECT_EQ(wire::parse_registration_reply(x.payload)->code, mip::code::ha_insufficient_resources);
  EXPECT_EQ(sent[0].dst, kFa2);
  EXPECT_EQ(sent[1].dst, kFa1);
  EXPECT_EQ(ha->bindings().lookup(kHoa)->care_of_address, kFa1);
  EXPECT_EQ(driver.routes.at(kHoa), kFa1);
  auto snap = stored();
  ASSERT_EQ(snap.bindings.size(), 1u);
  EXPECT_EQ(snap.bindings[0].care_of_address, kFa1);
  // The replay state is as it was: identifications 2 and 3 were never accepted.
  sent.clear();
  flush_request(request_from(kFa2, 300, 2), kFa2);
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(wire::parse_registration_reply(sent[0].payload)->code, 0) << "then the old FA's revocation";
  EXPECT_EQ(stored().bindings[0].care_of_address, kFa2);
}

TEST_F(HomeAgentTest, OneCommitForAWholeBurst) {
  add_vm();
  ha->on_datagram(request_from(kFa1, 300, 1), kFa1, 434);
  ha->on_datagram(request_from(kFa1, 300, 2), kFa1, 434);
  ha->on_datagram(request_from(kFa1, 300, 3), kFa1, 434);
  flush();
  ASSERT_EQ(sent.size(), 3u);
  for (const auto& s : sent) EXPECT_EQ(wire::parse_registration_reply(s.payload)->code, 0);
  auto text = ha->metrics().render();
  EXPECT_NE(text.find("vmroam_store_commit_seconds_count 2"), std::string::npos)
      << "one commit for the VM, one for the burst:\n"
      << text;
}

TEST_F(HomeAgentTest, ReplayedRequestIsDeniedAndChangesNothing) {
  add_vm();
  const Bytes req = request_from(kFa1, 300);
  ha->on_datagram(req, kFa1, 434);
  flush();
  ha->on_datagram(req, kFa1, 434);
  flush();
  EXPECT_EQ(last_reply().code, 133);
  EXPECT_EQ(ha->bindings().size(), 1u);
}

TEST_F(HomeAgentTest, DeregistrationRemovesKernelStateAndGivesTheHomeLinkTheVmsMac) {
  add_vm();
  ha->on_datagram(request_from(kFa1, 300, 1), kFa1, 434);
  flush();
  frames.clear();
  ha->on_datagram(request_from(kFa1, 0, 2), kFa1, 434);
  flush();
  EXPECT_EQ(last_reply().code, 0);
  EXPECT_EQ(ha->bindings().size(), 0u);
  EXPECT_TRUE(driver.routes.empty());
  EXPECT_TRUE(driver.endpoints.contains(kFa1)) << "FA1 may still deliver in-flight packets (grace)";
  settle();
  EXPECT_TRUE(driver.endpoints.empty());
  EXPECT_NE(std::find(driver.calls.begin(), driver.calls.end(), "end_grace 10.1.0.10"), driver.calls.end());
  EXPECT_TRUE(netlink.proxies.empty());
  ASSERT_EQ(frames.size(), 1u);
  auto arp = wire::parse_arp(wire::parse_ethernet(frames[0])->payload);
  EXPECT_EQ(arp->sender_mac, kVmMac);
  EXPECT_TRUE(stored().bindings.empty());
}

// Home again, the VM may hold an unusable entry for its gateway (INCOMPLETE with its first
// request lost while its link came up, or the FA's MAC in garp mode): after the VM's own
// announcement, the HA announces each of its addresses on the home link whose subnet holds the
// HoA, with the link's MAC. Not addresses of other subnets, and nothing on the way out.
TEST_F(HomeAgentTest, DeregistrationReannouncesTheGatewayToTheVm) {
  ha.reset();
  netlink.links[0].addresses = {*Ipv4Prefix::parse("10.1.0.1/24"), *Ipv4Prefix::parse("10.1.0.2/24"),
                                *Ipv4Prefix::parse("192.168.7.1/24")};
  start();
  add_vm();
  auto announced = [&] {
    std::vector<std::pair<Ipv4, MacAddress>> out;
    for (const auto& f : frames) {
      auto eth = wire::parse_ethernet(f);
      if (!eth) continue;
      auto arp = wire::parse_arp(eth->payload);
      if (!arp) continue;
      EXPECT_EQ(arp->sender_ip, arp->target_ip) << "gratuitous: sender = target";
      EXPECT_EQ(eth->src, arp->sender_mac);
      out.emplace_back(arp->sender_ip, arp->sender_mac);
    }
    return out;
  };
  ha->on_datagram(request_from(kFa1, 300, 1), kFa1, 434);
  flush();
  EXPECT_EQ(announced(), (std::vector<std::pair<Ipv4, MacAddress>>{{kHoa, kHomeMac}}))
      << "leaving: the HoA only";
  frames.clear();
  ha->on_datagram(request_from(kFa1, 0, 2), kFa1, 434);
  flush();
  ASSERT_EQ(last_reply().code, 0);
  EXPECT_EQ(announced(),
            (std::vector<std::pair<Ipv4, MacAddress>>{
                {kHoa, kVmMac}, {*Ipv4::parse("10.1.0.1"), kHomeMac}, {*Ipv4::parse("10.1.0.2"), kHomeMac}}));
}

// A move to another FA revokes the old one (RFC 3543 §4): the reply to FA2, then an
// authenticated revocation to FA1, durable with the move (the record holds the signed message
// exactly as sent), retransmitted until FA1 acknowledges. With `restart`, the HA goes away
// before the ack (as with kill -9: nothing runs on the way out that the store depends on) and
// comes back: the same revocation goes out again, and the ack then ends it.
struct RevocationCase {
  const char* name;
  bool restart;
};

class HomeAgentRevocationTest : public HomeAgentTest, public ::testing::WithParamInterface<RevocationCase> {};

TEST_P(HomeAgentRevocationTest, MoveToAnotherForeignAgentRevokesTheOldOneUntilItAcknowledges) {
  add_vm();
  ha->on_datagram(request_from(kFa1, 300, 1), kFa1, 434);
  flush();
  ha->on_datagram(request_from(kFa2, 300, 2), kFa2, 434);
  flush();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(wire::parse_registration_reply(sent[1].payload)->code, 0);
  EXPECT_EQ(sent[2].dst, kFa1);
  const Bytes first = sent[2].payload;
  auto rev = wire::parse_revocation(first);
  ASSERT_TRUE(rev) << rev.error().to_string();
  EXPECT_EQ(rev->home_address, kHoa);
  EXPECT_EQ(rev->foreign_domain_address, kFa1);
  EXPECT_TRUE(rev->from_home_agent());
  EXPECT_TRUE(auth::verify(first, rev->extensions, mip::ext::fa_ha_auth, fa_key(kFa1)));
  EXPECT_EQ(driver.routes.at(kHoa), kFa2);
  EXPECT_TRUE(driver.endpoints.contains(kFa1)) << "held through the handover grace";
  settle();
  EXPECT_FALSE(driver.endpoints.contains(kFa1)) << "the old endpoint is released after the grace";
  EXPECT_EQ(ha->pending_revocations(), 1u);
  auto snap = stored();
  ASSERT_EQ(snap.revocations.size(), 1u);
  EXPECT_EQ(snap.revocations[0].revocation_id, rev->revocation_id);
  EXPECT_EQ(snap.revocations[0].foreign_agent, kFa1);
  EXPECT_EQ(snap.revocations[0].home_address, kHoa);
  EXPECT_EQ(snap.revocations[0].message, first);
  if (GetParam().restart) {
    ha.reset();
    sent.clear();
    start();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].dst, kFa1);
    EXPECT_EQ(sent[0].port, 434);
    EXPECT_EQ(sent[0].payload, first);
    EXPECT_EQ(ha->pending_revocations(), 1u);
  }
  // FA1 acknowledges: no longer pending, no longer stored, no longer retransmitted.
  wire::RevocationAck ack;
  ack.home_address = kHoa;
  ack.revocation_id = rev->revocation_id;
  ASSERT_TRUE(auth::append_auth(ack, mip::ext::fa_ha_auth, fa_key(kFa1)));
  ha->on_datagram(wire::encode(ack), kFa1, 434);
  flush();
  EXPECT_EQ(ha->pending_revocations(), 0u);
  EXPECT_TRUE(stored().revocations.empty());
}

INSTANTIATE_TEST_SUITE_P(Revocation, HomeAgentRevocationTest,
                         ::testing::Values(RevocationCase{"AcknowledgedAtOnce", false},
                                           RevocationCase{"AcknowledgedAfterARestart", true}),
                         [](const auto& p) { return std::string(p.param.name); });

TEST_F(HomeAgentTest, FailedCommitOfTheMoveSendsNoRevocation) {
  add_vm();
  ha->on_datagram(request_from(kFa1, 300, 1), kFa1, 434);
  flush();
  // The store refuses the next commit (read-only file system in production).
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir.file("ha.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TRIGGER no_revocations BEFORE INSERT ON ha_revocations "
                         "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  sent.clear();
  ha->on_datagram(request_from(kFa2, 300, 2), kFa2, 434);
  flush();
  ASSERT_EQ(sent.size(), 1u) << "the denial only, no revocation";
  EXPECT_EQ(wire::parse_registration_reply(sent[0].payload)->code, mip::code::ha_insufficient_resources);
  EXPECT_EQ(ha->pending_revocations(), 0u);
  EXPECT_EQ(driver.routes.at(kHoa), kFa1) << "the binding stays where it was";
}

TEST_F(HomeAgentTest, ForgedRevocationAckIsIgnored) {
  add_vm();
  ha->on_datagram(request_from(kFa1, 300, 1), kFa1, 434);
  flush();
  ha->on_datagram(request_from(kFa2, 300, 2), kFa2, 434);
  flush();
  auto rev = wire::parse_revocation(sent.back().payload);
  wire::RevocationAck ack;
  ack.home_address = kHoa;
  ack.revocation_id = rev->revocation_id;
  ASSERT_TRUE(auth::append_auth(ack, mip::ext::fa_ha_auth, fa_key(kFa2)));  // wrong key
  ha->on_datagram(wire::encode(ack), kFa1, 434);
  flush();
  EXPECT_EQ(ha->pending_revocations(), 1u);
}

TEST_F(HomeAgentTest, ExpiryRemovesTheBindingEverywhere) {
  add_vm();
  ha->on_datagram(request_from(kFa1, 300), kFa1, 434);
  flush();
  clock.advance(299s);
  ha->on_expiry();
  EXPECT_EQ(ha->bindings().size(), 1u);
  clock.advance(2s);
  ha->on_expiry();
  EXPECT_EQ(ha->bindings().size(), 0u);
  EXPECT_TRUE(driver.routes.empty());
  EXPECT_TRUE(netlink.proxies.empty());
  EXPECT_TRUE(stored().bindings.empty());
}

TEST_F(HomeAgentTest, RestartRestoresBindingsAndKernelState) {
  add_vm();
  ha->on_datagram(request_from(kFa1, 300), kFa1, 434);
  flush();
  // A crash: the process dies without cleaning up; the proxy entry stays in the kernel, the
  // TUN (and with it the driver's state) goes.
  ha.reset();
  driver = dataplane::FakeTunnelDriver{};
  netlink.proxies.push_back({*Ipv4::parse("10.1.0.99"), 3});  // stale: no binding explains it
  netlink.proxies.push_back({kHoa, 3});
  clock.advance(10s);
  start();
  ASSERT_EQ(ha->bindings().size(), 1u);
  const auto* b = ha->bindings().lookup(kHoa);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->care_of_address, kFa1);
  EXPECT_NEAR(std::chrono::duration_cast<std::chrono::seconds>(b->remaining(clock.now())).count(), 290, 1);
  EXPECT_EQ(driver.routes.at(kHoa), kFa1);
  ASSERT_EQ(netlink.proxies.size(), 1u) << "stale entry removed, ours kept";
  EXPECT_EQ(netlink.proxies[0].address, kHoa);
  // The VM and its replay state survived too: the same request again is a replay.
  EXPECT_NE(ha->vms().by_id("vm1"), nullptr);
}

TEST_F(HomeAgentTest, RestartKeepsANattedUdpTunnelPointingAtTheNat) {
  add_vm();
  const Ipv4 nat = *Ipv4::parse("198.51.100.7");
  ha->on_datagram(request_from(kFa1, 300, 0, /*udp_tunnel=*/true), nat, 40000);
  flush();
  ASSERT_EQ(last_reply().code, 0);
  ASSERT_EQ(driver.routes.at(kHoa), nat);
  EXPECT_EQ(driver.endpoints.at(nat).udp_port, 40000);
  ha.reset();
  driver = dataplane::FakeTunnelDriver{};
  start();
  ASSERT_TRUE(driver.endpoints.contains(nat)) << "rebuilt towards the NAT, not the care-of address";
  EXPECT_EQ(driver.endpoints.at(nat).udp_port, 40000);
  EXPECT_EQ(driver.endpoints.at(nat).encapsulation, dataplane::Encapsulation::udp);
  EXPECT_EQ(driver.routes.at(kHoa), nat);
}

TEST_F(HomeAgentTest, RestartAfterTheLifetimeRanOutDropsTheBinding) {
  add_vm();
  ha->on_datagram(request_from(kFa1, 300), kFa1, 434);
  flush();
  ha.reset();
  clock.advance(400s);
  start();
  EXPECT_EQ(ha->bindings().size(), 0u);
  EXPECT_TRUE(stored().bindings.empty());
}

TEST_F(HomeAgentTest, CleanStopRemovesKernelStateButKeepsTheBinding) {
  add_vm();
  ha->on_datagram(request_from(kFa1, 300), kFa1, 434);
  flush();
  ha->stop();
  EXPECT_TRUE(netlink.proxies.empty());
  EXPECT_TRUE(driver.routes.empty());
  EXPECT_EQ(stored().bindings.size(), 1u);
}

TEST_F(HomeAgentTest, TunnelDataGoesToTheDataPlane) {
  Bytes payload{4, 4, 0, 0, 0x45};
  ha->on_datagram(payload, kFa1, 434);
  EXPECT_EQ(ha->queued(), 0u);
  ASSERT_EQ(driver.udp_payloads.size(), 1u);
  EXPECT_EQ(driver.udp_payloads[0].src, kFa1);
}

TEST_F(HomeAgentTest, MalformedRequestGets134) {
  add_vm();
  Bytes req = request_from(kFa1, 300);
  req.push_back(5);  // a non-skippable extension header with no length
  ha->on_datagram(req, kFa1, 434);
  flush();
  EXPECT_EQ(last_reply().code, 134);
  EXPECT_EQ(ha->bindings().size(), 0u);
}

TEST_F(HomeAgentTest, ApiRejectsBadInputAndChangesNothing) {
  struct Bad {
    std::string body;
    int status;
    std::string field;
  };
  const Bad cases[] = {
      {"{", 400, ""},
      {R"({"id":"vm1","home_address":"10.1.0","mac":"52:54:00:12:34:56"})", 400, "home_address"},
      {R"({"id":"vm1","home_address":"10.9.0.1","mac":"52:54:00:12:34:56"})", 400, "home_address"},
      {R"({"id":"vm1","home_address":"10.1.0.10","mac":"nope"})", 400, "mac"},
      {R"({"id":"vm1","home_address":"10.1.0.10","mac":"52:54:00:12:34:56","colour":"red"})", 400, "colour"},
      {R"({"id":"vm1","home_address":"10.1.0.10","mac":"52:54:00:12:34:56","spi":300})", 400, "key"},
      {R"({"id":"vm1","home_address":"10.1.0.10","mac":"52:54:00:12:34:56","allowed_fas":["192.0.2.99"]})",
       400, "allowed_fas"},
      {R"({"id":"a b","home_address":"10.1.0.10","mac":"52:54:00:12:34:56"})", 400, "id"},
  };
  for (const auto& c : cases) {
    auto r = call(api::Method::post, "/v1/vms", c.body);
    EXPECT_EQ(r.status, c.status) << c.body;
    if (!c.field.empty()) {
      EXPECT_EQ(r.json["error"]["field"], c.field) << c.body << " → " << r.body_text();
    }
  }
  EXPECT_EQ(ha->vms().size(), 0u);
  EXPECT_TRUE(stored().vms.empty());
  add_vm();
  EXPECT_EQ(call(api::Method::post, "/v1/vms",
                 R"({"id":"vm1","home_address":"10.1.0.11","mac":"52:54:00:12:34:57"})")
                .status,
            409);
  EXPECT_EQ(call(api::Method::post, "/v1/vms",
                 R"({"id":"vm2","home_address":"10.1.0.10","mac":"52:54:00:12:34:57"})")
                .status,
            409);
  EXPECT_EQ(call(api::Method::get, "/v1/vms/nope").status, 404);
  EXPECT_EQ(call(api::Method::delete_, "/v1/vms/nope").status, 404);
  EXPECT_EQ(call(api::Method::get, "/v1/bindings/10.1.0.10").status, 404);
  EXPECT_EQ(call(api::Method::get, "/v1/bindings/ten").status, 400);
}

// A VM's IPv6 home addresses: every bad one is refused naming the field and changes nothing;
// good ones are stored, shown, and cannot change while the VM is away.
TEST_F(HomeAgentTest, ApiValidatesIpv6HomeAddresses) {
  const std::string base = R"({"id":"vm1","home_address":"10.1.0.10","mac":"52:54:00:12:34:56",)";
  struct Bad {
    std::string v6;
    int status;
    std::string field;
  };
  const Bad cases[] = {
      {R"("home_addresses_v6":"2001:db8:1::10")", 400, "home_addresses_v6"},
      {R"("home_addresses_v6":["2001:db8:1::10","2001:db8:1::zz"])", 400, "home_addresses_v6[1]"},
      {R"("home_addresses_v6":["2001:db8:1::10",7])", 400, "home_addresses_v6[1]"},
      {R"("home_addresses_v6":["2001:db8:2::10"])", 400, "home_addresses_v6[0]"},
      {R"("home_addresses_v6":["2001:db8:1::10","2001:db8:1::10"])", 400, "home_addresses_v6[1]"},
      {R"("home_addresses_v6":["fe80::10"])", 400, "home_addresses_v6[0]"},
      {R"("home_addresses_v6":["10.1.0.10"])", 400, "home_addresses_v6[0]"},
  };
  for (const auto& c : cases) {
    auto r = call(api::Method::post, "/v1/vms", base + c.v6 + "}");
    EXPECT_EQ(r.status, c.status) << c.v6 << " → " << r.body_text();
    EXPECT_EQ(r.json["error"]["field"], c.field) << c.v6 << " → " << r.body_text();
  }
  EXPECT_EQ(ha->vms().size(), 0u);
  EXPECT_TRUE(stored().vms.empty());

  auto r = call(api::Method::post, "/v1/vms",
                base + R"("home_addresses_v6":["2001:DB8:1::10","2001:db8:1::11"]})");
  ASSERT_EQ(r.status, 201) << r.body_text();
  EXPECT_EQ(r.json["home_addresses_v6"], Json::array({"2001:db8:1::10", "2001:db8:1::11"}));
  EXPECT_EQ(call(api::Method::get, "/v1/vms/vm1").json["home_addresses_v6"],
            Json::array({"2001:db8:1::10", "2001:db8:1::11"}));
  ASSERT_EQ(stored().vms.size(), 1u);
  EXPECT_EQ(stored().vms[0].home_addresses_v6,
            (std::vector<Ipv6>{*Ipv6::parse("2001:db8:1::10"), *Ipv6::parse("2001:db8:1::11")}));
  // Another VM may not claim one of them.
  auto clash = call(api::Method::post, "/v1/vms",
                    R"({"id":"vm2","home_address":"10.1.0.11","mac":"52:54:00:12:34:57",)"
                    R"("home_addresses_v6":["2001:db8:1::11"]})");
  EXPECT_EQ(clash.status, 409) << clash.body_text();
  // Away, its IPv6 home addresses are fixed like its IPv4 one.
  ha->on_datagram(request_from(kFa1, 300), kFa1, 434);
  flush();
  ASSERT_EQ(last_reply().code, 0);
  auto change = call(
      api::Method::put, "/v1/vms/vm1",
      R"({"home_address":"10.1.0.10","mac":"52:54:00:12:34:56","home_addresses_v6":["2001:db8:1::10"]})");
  EXPECT_EQ(change.status, 409) << change.body_text();
  // Restarted, the definition is still there.
  ha.reset();
  start();
  EXPECT_EQ(ha->vms().by_id("vm1")->home_addresses_v6.size(), 2u);
}

// The proxy registration of a dual-stack VM: the HA grants its IPv6 home addresses, records
// them in the binding (memory, store, API) and echoes them in the reply (RFC 5454 §2.2).
TEST_F(HomeAgentTest, RegistrationGrantsAndRecordsIpv6HomeAddresses) {
  add_vm(R"(,"home_addresses_v6":["2001:db8:1::10","2001:db8:1::11"])");
  wire::RegistrationRequest r;
  r.flags = mip::request_flag::T;
  r.lifetime = 300;
  r.home_address = kHoa;
  r.home_agent = kHa;
  r.care_of_address = kFa1;
  r.identification = auth::ntp_from_wall(clock.wall_now());
  r.append(wire::PmipPerNodeAuth{}.to_extension());
  r.append(*wire::PmipDeviceId::ethernet(kVmMac).to_extension());
  r.append(wire::Ipv6PrefixRequest{128, *Ipv6::parse("2001:db8:1::11")}.to_extension());
  ASSERT_TRUE(auth::append_auth(r, mip::ext::fa_ha_auth, fa_key(kFa1)));
  ha->on_datagram(wire::encode(r), kFa1, 434);
  flush();
  auto reply = last_reply();
  ASSERT_EQ(reply.code, 0);
  auto granted = wire::ipv6_prefix_replies(reply.extensions);
  ASSERT_TRUE(granted);
  ASSERT_EQ(granted->size(), 1u);
  EXPECT_EQ(granted->front().prefix.to_string(), "2001:db8:1::11");
  const std::vector<Ipv6> want{*Ipv6::parse("2001:db8:1::11")};
  EXPECT_EQ(ha->bindings().lookup(kHoa)->home_addresses_v6, want);
  ASSERT_EQ(stored().bindings.size(), 1u);
  EXPECT_EQ(stored().bindings[0].home_addresses_v6, want);
  EXPECT_EQ(call(api::Method::get, "/v1/bindings/10.1.0.10").json["home_addresses_v6"],
            Json::array({"2001:db8:1::11"}));

  // An address that is not the VM's: denied 129, the binding stays as it was.
  r.identification += 1;
  r.extensions.clear();
  r.append(wire::PmipPerNodeAuth{}.to_extension());
  r.append(wire::Ipv6PrefixRequest{128, *Ipv6::parse("2001:db8:1::99")}.to_extension());
  ASSERT_TRUE(auth::append_auth(r, mip::ext::fa_ha_auth, fa_key(kFa1)));
  ha->on_datagram(wire::encode(r), kFa1, 434);
  flush();
  EXPECT_EQ(last_reply().code, mip::code::ha_prohibited);
  EXPECT_EQ(ha->bindings().lookup(kHoa)->home_addresses_v6, want);
}

// The home link while a dual-stack VM is away (RFC 6275 §10.4.1): a proxy-NDP entry and an
// unsolicited NA with our MAC (O = 1) for each granted IPv6 home address; on its return the
// entries go and the NA carries the VM's MAC; a restart adopts the entries it still needs.
TEST_F(HomeAgentTest, HomeLinkDefendsIpv6HomeAddressesWhileAway) {
  add_vm(R"(,"home_addresses_v6":["2001:db8:1::10","2001:db8:1::11"])");
  const Ipv6 a = *Ipv6::parse("2001:db8:1::10"), b = *Ipv6::parse("2001:db8:1::11");
  auto request = [&](std::uint16_t lifetime, std::uint64_t offset) {
    wire::RegistrationRequest r;
    r.flags = mip::request_flag::T;
    r.lifetime = lifetime;
    r.home_address = kHoa;
    r.home_agent = kHa;
    r.care_of_address = kFa1;
    r.identification = auth::ntp_from_wall(clock.wall_now()) + offset;
    r.append(wire::PmipPerNodeAuth{}.to_extension());
    if (lifetime) {
      r.append(wire::Ipv6PrefixRequest{128, a}.to_extension());
      r.append(wire::Ipv6PrefixRequest{128, b}.to_extension());
    }
    if (!auth::append_auth(r, mip::ext::fa_ha_auth, fa_key(kFa1))) std::abort();
    return wire::encode(r);
  };
  auto advertised = [&](const MacAddress& mac) {
    std::vector<Ipv6> targets;
    for (const auto& f : frames)
      if (auto na = wire::parse_neighbor_advertisement(f)) {
        EXPECT_TRUE(na->override_);
        EXPECT_EQ(na->eth_src, mac);
        EXPECT_EQ(na->target_mac, mac);
        targets.push_back(na->target);
      }
    return targets;
  };
  ha->on_datagram(request(300, 1), kFa1, 434);
  flush();
  ASSERT_EQ(last_reply().code, 0);
  EXPECT_EQ(netlink.proxies6, (std::vector<dataplane::ProxyNeighbour6>{{a, 3}, {b, 3}}));
  EXPECT_TRUE(ha->proxy_ndp_for(a));
  EXPECT_EQ(advertised(kHomeMac), (std::vector<Ipv6>{a, b}));

  // A restart adopts the entries its binding still needs (no second announcement).
  ha.reset();
  EXPECT_TRUE(netlink.proxies6.empty()) << "a clean stop removes them (RAII)";
  netlink.proxies6 = {{a, 3}, {b, 3}, {*Ipv6::parse("2001:db8:1::99"), 3}};  // as a crash leaves them
  frames.clear();
  start();
  EXPECT_EQ(netlink.proxies6, (std::vector<dataplane::ProxyNeighbour6>{{a, 3}, {b, 3}}))
      << "the stale entry no binding explains goes";
  EXPECT_TRUE(advertised(kHomeMac).empty());

  // Home again: the entries go, the NAs carry the VM's own MAC.
  frames.clear();
  ha->on_datagram(request(0, 2), kFa1, 434);
  flush();
  ASSERT_EQ(last_reply().code, 0);
  EXPECT_TRUE(netlink.proxies6.empty());
  EXPECT_FALSE(ha->proxy_ndp_for(a));
  EXPECT_EQ(advertised(kVmMac), (std::vector<Ipv6>{a, b}));
}

TEST_F(HomeAgentTest, ApiListsBindingsAndDeletingAVmRemovesItsBinding) {
  add_vm(R"(,"spi":500,"algorithm":"hmac-md5","key":"00112233445566778899aabbccddeeff")");
  auto vm = call(api::Method::get, "/v1/vms/vm1");
  EXPECT_EQ(vm.json["algorithm"], "hmac-md5");
  EXPECT_FALSE(vm.json.contains("key")) << "keys are never returned";
  // vm1 has an MN-HA key now, so a plain (non-proxy) request must carry MN-HA; a proxy one is fine.
  ha->on_datagram(request_from(kFa1, 300), kFa1, 434);
  flush();
  ASSERT_EQ(last_reply().code, 0);
  auto list = call(api::Method::get, "/v1/bindings");
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(list.json["bindings"].size(), 1u);
  const Json& b = list.json["bindings"][0];
  EXPECT_EQ(b["home_address"], "10.1.0.10");
  EXPECT_EQ(b["care_of_address"], "192.0.2.2");
  EXPECT_EQ(b["vm"], "vm1");
  EXPECT_EQ(b["remaining_s"], 300);
  EXPECT_EQ(b["flags"], Json::array({"T"}));
  EXPECT_EQ(b["tunnel"]["peer"], "192.0.2.2");
  auto del = call(api::Method::delete_, "/v1/vms/vm1");
  EXPECT_EQ(del.status, 200);
  EXPECT_EQ(ha->bindings().size(), 0u);
  EXPECT_TRUE(driver.routes.empty());
  auto snap = stored();
  EXPECT_TRUE(snap.vms.empty());
  EXPECT_TRUE(snap.bindings.empty());
}

TEST_F(HomeAgentTest, HealthAndMetrics) {
  auto h = call(api::Method::get, "/v1/health");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.json["role"], "home-agent");
  add_vm();
  ha->on_datagram(request_from(kFa1, 300), kFa1, 434);
  flush();
  auto m = call(api::Method::get, "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.text.find("vmroam_bindings 1"), std::string::npos) << m.text;
  EXPECT_NE(m.text.find(R"(vmroam_registration_messages_total{code="0",result="accepted"} 1)"),
            std::string::npos)
      << m.text;
}

// A driver that counts per HoA (the eBPF driver's maps): the binding shows its own counters
// in the API, and /metrics has them per home address.
TEST_F(HomeAgentTest, PerBindingCountersInApiAndMetrics) {
  add_vm();
  ha->on_datagram(request_from(kFa1, 300), kFa1, 434);
  flush();
  driver.canned_stats.hoas = {{kHoa, dataplane::PeerCounters{7, 700, 3, 250}}};
  auto b = call(api::Method::get, "/v1/bindings/10.1.0.10");
  ASSERT_EQ(b.status, 200);
  EXPECT_EQ(b.json["counters"],
            (Json{{"tx_packets", 7}, {"tx_bytes", 700}, {"rx_packets", 3}, {"rx_bytes", 250}}));
  auto m = call(api::Method::get, "/metrics");
  EXPECT_NE(m.text.find(R"(vmroam_binding_packets_total{direction="tx",home_address="10.1.0.10"} 7)"),
            std::string::npos)
      << m.text;
  EXPECT_NE(m.text.find(R"(vmroam_binding_bytes_total{direction="rx",home_address="10.1.0.10"} 250)"),
            std::string::npos)
      << m.text;
  driver.canned_stats.hoas = {{kHoa, dataplane::PeerCounters{9, 900, 3, 250}}};
  m = call(api::Method::get, "/metrics");  // cumulative: the registry follows the driver
  EXPECT_NE(m.text.find(R"(vmroam_binding_packets_total{direction="tx",home_address="10.1.0.10"} 9)"),
            std::string::npos)
      << m.text;
  driver.canned_stats.hoas.clear();  // a driver without per-HoA counters: no "counters" key
  EXPECT_FALSE(call(api::Method::get, "/v1/bindings/10.1.0.10").json.contains("counters"));
}

TEST_F(HomeAgentTest, ReloadTakesPolicyAndNamesWhatNeedsARestart) {
  HaConfig next = ha->config();
  next.max_lifetime_s = 60;
  next.home_interface = "eth9";
  auto r = ha->reload(next);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, std::vector<std::string>{"home_interface"});
  EXPECT_EQ(ha->config().max_lifetime_s, 60u);
  EXPECT_EQ(ha->config().home_interface, "br-home");
}

// ---- Handover hold (docs/home-agent.md "Handover hold") ------------------------------------

// An IPv4 packet from 198.51.100.1 to `dst` whose payload bytes are all `tag`.
Bytes packet_to(Ipv4 dst, std::uint8_t tag) {
  Bytes payload{tag, tag, tag, tag};
  Bytes ip(20 + payload.size());
  ip[0] = 0x45;
  ip[2] = 0;
  ip[3] = static_cast<std::uint8_t>(ip.size());
  ip[8] = 64;
  ip[9] = 17;
  const std::uint32_t s = 0xc6336401, d = dst.value();  // from 198.51.100.1
  for (int i = 0; i < 4; ++i) {
    ip[12 + i] = static_cast<std::uint8_t>(s >> (24 - 8 * i));
    ip[16 + i] = static_cast<std::uint8_t>(d >> (24 - 8 * i));
  }
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < 20; i += 2) sum += (ip[i] << 8) | ip[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  ip[10] = static_cast<std::uint8_t>(~sum >> 8);
  ip[11] = static_cast<std::uint8_t>(~sum);
  std::copy(payload.begin(), payload.end(), ip.begin() + 20);
  return ip;
}

// A frame the router sent onto the home link towards `dst` (what the capture hands over).
Bytes frame_to(Ipv4 dst, std::uint8_t tag) {
  return wire::build_ethernet_frame(kVmMac, kHomeMac, 0x0800, packet_to(dst, tag));
}

TEST_F(HomeAgentTest, HandoverFromHomeRecoversWhatTheHomeLinkSentAfterTheStopAndReleasesToTheNewFa) {
  add_vm();
  auto r = call(api::Method::post, "/v1/vms/vm1/handover", R"({"phase":"prepare"})");
  ASSERT_EQ(r.status, 200) << r.body_text();
  EXPECT_EQ(r.json["state"], "recording");
  EXPECT_EQ(watch_calls, std::vector<std::string>{"10.1.0.10 on"});
  EXPECT_TRUE(port.tapped.contains(kHoa)) << "what is tunnelled to it is recorded too";
  // Three frames towards the VM at t0, t0+30 ms, t0+60 ms; one to another address.
  const WallTime t0 = clock.wall_now();
  ha->on_home_link_frame(t0, frame_to(kHoa, 1));
  ha->on_home_link_frame(t0 + std::chrono::milliseconds(30), frame_to(kHoa, 2));
  ha->on_home_link_frame(t0 + std::chrono::milliseconds(30), frame_to(Ipv4(0x0a010063), 9));
  ha->on_home_link_frame(t0 + std::chrono::milliseconds(60), frame_to(kHoa, 3));
  // The source stopped at t0+45 ms: with the default 20 ms margin, frames from t0+25 ms on.
  const auto stop_us = std::chrono::duration_cast<std::chrono::microseconds>(
      (t0 + std::chrono::milliseconds(45)).time_since_epoch());
  r = call(api::Method::post, "/v1/vms/vm1/handover",
           R"({"phase":"stopped","stopped_at_us":)" + std::to_string(stop_us.count()) + "}");
  ASSERT_EQ(r.status, 200) << r.body_text();
  EXPECT_EQ(r.json["state"], "holding");
  EXPECT_EQ(r.json["recovered"], 2) << "frames 2 and 3; not 1 (before the margin), not the other address";
  EXPECT_EQ(drains, 1) << "the capture is drained before the stop is judged";
  EXPECT_TRUE(ha->holding(kHoa));
  EXPECT_TRUE(port.diverted.contains(kHoa));
  EXPECT_FALSE(port.tapped.contains(kHoa)) << "recording ends with the stop";
  EXPECT_EQ(watch_calls.back(), "10.1.0.10 off");
  // A packet the kernel routes to the VM meanwhile waits behind the recovered ones.
  const Bytes late = packet_to(kHoa, 4);
  port.see(late);
  EXPECT_TRUE(port.sent.empty()) << "held, not sent";
  // The FA's registration arrives: the reply goes first, then the held packets to the FA.
  ha->on_datagram(request_from(kFa1, 300, 1), kFa1, 434);
  flush();
  EXPECT_EQ(last_reply().code, 0);
  EXPECT_FALSE(ha->holding(kHoa));
  EXPECT_FALSE(port.diverted.contains(kHoa));
  ASSERT_EQ(port.reinjected.size(), 3u);
  EXPECT_EQ(port.reinjected[0].back(), 2) << "in order: recovered frames 2, 3, then the late one";
  EXPECT_EQ(port.reinjected[1].back(), 3);
  EXPECT_EQ(port.reinjected[2], late);
  EXPECT_EQ(port.reinjected_to, (std::vector<std::string>(3, "to 192.0.2.2")));
}

// An IPv6 packet from 2001:db8:100::10 to `dst` (no next header, or ICMPv6 of `icmp6_type`)
// whose payload bytes are all `tag`, in a frame the router sent onto the home link.
Bytes frame6_to(const std::string& dst, std::uint8_t tag, int icmp6_type = -1) {
  Bytes ip(40 + 4, tag);
  const Ipv6 src = *Ipv6::parse("2001:db8:100::10");
  const Ipv6 d = *Ipv6::parse(dst);
  ip[0] = 0x60;
  ip[1] = ip[2] = ip[3] = 0;
  ip[4] = 0;
  ip[5] = 4;
  ip[6] = 59;
  ip[7] = 64;
  if (icmp6_type >= 0) {
    ip[6] = 58;
    ip[7] = 255;
    ip[40] = static_cast<std::uint8_t>(icmp6_type);
  }
  std::copy(src.bytes().begin(), src.bytes().end(), ip.begin() + 8);
  std::copy(d.bytes().begin(), d.bytes().end(), ip.begin() + 24);
  return wire::build_ethernet_frame(kVmMac, kHomeMac, 0x86dd, ip);
}

// A dual-stack VM leaving home (docs/home-agent.md "Handover hold"): the home link is watched
// for its IPv6 home addresses too, and what the router sent to them after the stop is
// recovered with its IPv4, in the order it left; IPv6 to other addresses of the home /64 is not.
TEST_F(HomeAgentTest, HandoverFromHomeRecoversTheDualStackVmsIpv6FromTheHomeLink) {
  add_vm(R"(,"home_addresses_v6":["2001:db8:1::10","2001:db8:1::11"])");
  auto r = call(api::Method::post, "/v1/vms/vm1/handover", R"({"phase":"prepare"})");
  ASSERT_EQ(r.status, 200) << r.body_text();
  EXPECT_EQ(watch_calls, std::vector<std::string>{"10.1.0.10 2001:db8:1::10 2001:db8:1::11 on"});
  const WallTime t0 = clock.wall_now();
  ha->on_home_link_frame(t0, frame6_to("2001:db8:1::10", 1));  // before the stop
  ha->on_home_link_frame(t0 + std::chrono::milliseconds(30), frame6_to("2001:db8:1::11", 2));  // recovered
  ha->on_home_link_frame(t0 + std::chrono::milliseconds(35), frame_to(kHoa, 3));               // recovered
  ha->on_home_link_frame(t0 + std::chrono::milliseconds(40), frame6_to("2001:db8:1::99", 8));  // not the VM's
  ha->on_home_link_frame(t0 + std::chrono::milliseconds(42),
                         frame6_to("2001:db8:1::10", 7, 135));  // NUD probe
  Bytes padded = frame6_to("2001:db8:1::10", 4);                // Ethernet padding is not part of the packet
  padded.resize(padded.size() + 12, 0);
  ha->on_home_link_frame(t0 + std::chrono::milliseconds(50), padded);
  Bytes truncated = frame6_to("2001:db8:1::10", 9);
  truncated.resize(14 + 40 + 2);                                          // announces 4 payload bytes, has 2
  ha->on_home_link_frame(t0 + std::chrono::milliseconds(55), truncated);  // malformed: ignored
  const auto stop_us = std::chrono::duration_cast<std::chrono::microseconds>(
      (t0 + std::chrono::milliseconds(45)).time_since_epoch());
  r = call(api::Method::post, "/v1/vms/vm1/handover",
           R"({"phase":"stopped","stopped_at_us":)" + std::to_string(stop_us.count()) + "}");
  ASSERT_EQ(r.status, 200) << r.body_text();
  EXPECT_EQ(r.json["recovered"], 3)
      << "the IPv6 to ::11, the IPv4, the padded IPv6 to ::10; not the Neighbor Solicitation";
  EXPECT_EQ(watch_calls.back(), "10.1.0.10 2001:db8:1::10 2001:db8:1::11 off");
  // After the stop the home link is no longer recorded for it.
  ha->on_home_link_frame(t0 + std::chrono::milliseconds(60), frame6_to("2001:db8:1::10", 5));
  ha->on_datagram(request_from(kFa1, 300, 1), kFa1, 434);
  flush();
  ASSERT_EQ(last_reply().code, 0);
  ASSERT_EQ(port.reinjected.size(), 3u);
  const Bytes sent6 = frame6_to("2001:db8:1::11", 2);
  EXPECT_EQ(port.reinjected[0], Bytes(sent6.begin() + 14, sent6.begin() + 14 + 44))
      << "the IPv6 packet as it left, without its Ethernet header or padding";
  EXPECT_EQ(port.reinjected[1].back(), 3);
  EXPECT_EQ(port.reinjected[2].size(), 44u) << "the padding is cut off";
  EXPECT_EQ(port.reinjected[2].back(), 4);
}

// The router keeps forwarding to the VM's home link until the divert is in place, and the
// capture holds those packets only until it is drained: drained before the divert, a packet
// routed in between was in neither place and the guest never got it (a lost ping in a move
// from home). So the divert comes first, the drain second.
TEST_F(HomeAgentTest, HandoverFromHomeDrainsTheHomeLinkCaptureOnlyOnceDiverted) {
  add_vm();
  ASSERT_EQ(call(api::Method::post, "/v1/vms/vm1/handover", R"({"phase":"prepare"})").status, 200);
  auto r = call(api::Method::post, "/v1/vms/vm1/handover", R"({"phase":"stopped"})");
  ASSERT_EQ(r.status, 200) << r.body_text();
  EXPECT_EQ(drains, 1);
  EXPECT_TRUE(diverted_at_drain) << "drained before the divert: packets routed in between are lost";
}

TEST_F(HomeAgentTest, HandoverHomeReleasesToTheKernelAtTheDeregistration) {
  add_vm();
  ha->on_datagram(request_from(kFa1, 300, 1), kFa1, 434);
  flush();
  ASSERT_EQ(call(api::Method::post, "/v1/vms/vm1/handover", R"({"phase":"prepare"})").status, 200);
  auto r = call(api::Method::post, "/v1/vms/vm1/handover", R"({"phase":"stopped"})");
  ASSERT_EQ(r.status, 200) << r.body_text();
  EXPECT_EQ(r.json["state"], "holding");
  port.see(packet_to(kHoa, 1));
  ha->on_datagram(request_from(kFa1, 0, 2), kFa1, 434);
  flush();
  EXPECT_EQ(last_reply().code, 0);
  EXPECT_EQ(port.reinjected_to, std::vector<std::string>{"to kernel"})
      << "unrouted first: the kernel delivers at home";
}

TEST_F(HomeAgentTest, HandoverStopAfterTheNewBindingReleasesAtOnce) {
  add_vm();
  ASSERT_EQ(call(api::Method::post, "/v1/vms/vm1/handover", R"({"phase":"prepare"})").status, 200);
  ha->on_datagram(request_from(kFa1, 300, 1), kFa1, 434);
  flush();
  auto r = call(api::Method::post, "/v1/vms/vm1/handover", R"({"phase":"stopped"})");
  ASSERT_EQ(r.status, 200) << r.body_text();
  EXPECT_EQ(r.json["state"], "released") << "the binding moved before the stop was reported";
  EXPECT_FALSE(ha->holding(kHoa));
  EXPECT_TRUE(port_called("divert 10.1.0.10 on"));
  EXPECT_TRUE(port_called("divert 10.1.0.10 off"));
  EXPECT_TRUE(port.diverted.empty());
}

TEST_F(HomeAgentTest, HandoverCancelAndTimeoutGiveThePacketsBack) {
  add_vm();
  ASSERT_EQ(call(api::Method::post, "/v1/vms/vm1/handover", R"({"phase":"stopped"})").status, 200);
  const Bytes packet = packet_to(kHoa, 1);
  port.see(packet);
  auto r = call(api::Method::post, "/v1/vms/vm1/handover", R"({"phase":"cancel"})");
  ASSERT_EQ(r.status, 200) << r.body_text();
  EXPECT_EQ(r.json["state"], "idle");
  EXPECT_EQ(r.json["released"], 1);
  EXPECT_EQ(port.reinjected_to, std::vector<std::string>{"to kernel"});
  EXPECT_FALSE(ha->holding(kHoa));
  // A hold nobody ends is released after handover.hold_timeout_ms (100 ms here; a real timer).
  port.reinjected_to.clear();
  ASSERT_EQ(call(api::Method::post, "/v1/vms/vm1/handover", R"({"phase":"stopped"})").status, 200);
  EXPECT_TRUE(ha->holding(kHoa));
  port.see(packet);
  test::run_until(
      io, [&] { return !ha->holding(kHoa); }, std::chrono::seconds(20));
  EXPECT_FALSE(ha->holding(kHoa)) << "released by the hold timeout";
  EXPECT_EQ(port.reinjected_to, std::vector<std::string>{"to kernel"});
}

TEST_F(HomeAgentTest, HandoverRejectsBadInputAndChangesNothing) {
  add_vm();
  struct Case {
    std::string description, path, body;
    int status;
  };
  const std::vector<Case> cases = {
      {"unknown phase", "/v1/vms/vm1/handover", R"({"phase":"later"})", 400},
      {"no phase", "/v1/vms/vm1/handover", R"({})", 400},
      {"stop time in milliseconds", "/v1/vms/vm1/handover",
       R"({"phase":"stopped","stopped_at_us":1700000000000})", 400},
      {"stop time with prepare", "/v1/vms/vm1/handover",
       R"({"phase":"prepare","stopped_at_us":1700000000000000})", 400},
      {"unknown field", "/v1/vms/vm1/handover", R"({"phase":"prepare","extra":1})", 400},
      {"not JSON", "/v1/vms/vm1/handover", "phase=prepare", 400},
      {"unknown VM", "/v1/vms/nope/handover", R"({"phase":"prepare"})", 404},
  };
  for (const auto& c : cases) {
    auto r = call(api::Method::post, c.path, c.body);
    EXPECT_EQ(r.status, c.status) << c.description << ": " << r.body_text();
  }
  EXPECT_FALSE(ha->holding(kHoa));
  EXPECT_TRUE(port.tapped.empty());
  EXPECT_TRUE(watch_calls.empty());
  // The data plane fails: an error, nothing held.
  port.fail_next = "divert";
  auto r = call(api::Method::post, "/v1/vms/vm1/handover", R"({"phase":"stopped"})");
  EXPECT_EQ(r.status, 500) << r.body_text();
  EXPECT_FALSE(ha->holding(kHoa));
}

// A driver that offers no HoldPort (the kernel driver): recording the home link still works,
// the stop is refused with 409 and nothing is held.
TEST_F(HomeAgentTest, HandoverWithADriverThatCannotHoldIsRefused) {
  ha.reset();
  driver_can_hold = false;
  start();
  add_vm();
  auto r = call(api::Method::post, "/v1/vms/vm1/handover", R"({"phase":"prepare"})");
  ASSERT_EQ(r.status, 200) << r.body_text();
  r = call(api::Method::post, "/v1/vms/vm1/handover", R"({"phase":"stopped"})");
  EXPECT_EQ(r.status, 409) << r.body_text();
  EXPECT_NE(r.body_text().find("not_supported"), std::string::npos) << r.body_text();
  EXPECT_FALSE(ha->holding(kHoa));
  EXPECT_TRUE(port.calls.empty()) << "the port was never offered";
}

}  // namespace
}  // namespace vmroam::ha
