// ForeignAgent with fakes for the OS: prepare installs the delivery state, activate sends an
// authenticated proxy request, a verified reply makes the visitor active, revocation drops it,
// the buffer is bounded and flushed in order, and bad API input changes nothing.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "common/auth/authenticator.hpp"
#include "common/core/hex.hpp"
#include "common/wire/dsmip.hpp"
#include "common/wire/ethernet.hpp"
#include "common/wire/message.hpp"
#include "foreign-agent/foreign_agent.hpp"
#include "tests/fakes/fake_clock.hpp"
#include "tests/fakes/fake_netlink.hpp"
#include "tests/fakes/fake_tunnel_driver.hpp"
#include "tests/fakes/temp_dir.hpp"
#include "tests/unit/support/agent_fixture.hpp"

namespace vmroam::fa {
namespace {

using namespace std::chrono_literals;
using api::Json;
using namespace test;  // kHoa, kVmMac, Sent, … (tests/unit/support/agent_fixture.hpp)

const Ipv4 kHa = *Ipv4::parse("192.0.2.1");
const Ipv4 kGw = *Ipv4::parse("10.1.0.1");
const MacAddress kVmLinkMac = *MacAddress::parse("02:00:00:00:02:02");
constexpr int kVmIfindex = 5;
constexpr int kBufferIfindex = 9;

const char* kPrepare = R"({"id":"vm1","home_address":"10.1.0.10","mac":"52:54:00:12:34:56",
  "home_gateway":"10.1.0.1","home_gateway_mac":"02:00:00:00:01:01","home_agent":"192.0.2.1"})";

auth::SecurityAssociation ha_key() { return test::fa_ha_key(); }

Bytes ip_packet(std::uint8_t tag, std::size_t size = 40) {
  Bytes p(size, 0);
  p[0] = 0x45;
  p[12] = 198, p[13] = 51, p[14] = 100, p[15] = 7;  // source: a correspondent
  p[16] = 10, p[17] = 1, p[18] = 0, p[19] = 10;     // destination: the HoA
  p[20] = tag;
  return p;
}

class ForeignAgentTest : public ::testing::Test {
 protected:
  boost::asio::io_context io;
  test::TempDir dir;
  test::FakeClock clock;
  dataplane::FakeNetlink netlink;
  dataplane::FakeTunnelDriver driver;
  std::vector<Sent> sent;
  std::vector<Bytes> frames;
  std::vector<Bytes> reinjected;
  std::vector<std::string> gateway_links;
  std::unique_ptr<ForeignAgent> fa;
  std::string gateway_mode = "anycast";
  std::uint64_t buffer_bytes = 4096;
  std::vector<std::string> fatal;

  void SetUp() override {
    netlink.links.push_back(dataplane::LinkInfo{kVmIfindex, "br-vm", kVmLinkMac, 1500, true, {}});
  }
  void start() {
    auto store = store::Store::open(dir.file("fa.db"));
    ASSERT_TRUE(store) << store.error().to_string();
    auto c = parse_config_text(R"({"address":"192.0.2.2","vm_interface":"br-vm",
      "home_agents":[{"address":"192.0.2.1","fa_ha":{"spi":1000,"key":")" +
                               std::string(test::kFaHaKeyHex) + R"("}}],
      "registration":{"retransmit_initial_ms":100,"retransmit_max_ms":400,"retransmit_attempts":3},
      "delivery":{"gateway_mode":")" +
                               gateway_mode + R"(","buffer_bytes":)" + std::to_string(buffer_bytes) +
                               R"(,"buffer_ms":1000,"garp_schedule_ms":[0,50]}})");
    ASSERT_TRUE(c) << c.error().to_string();
    ForeignAgentIo seams;
    seams.netlink = &netlink;
    seams.driver = &driver;
    seams.send_udp = test::record_into(sent);
    seams.send_vm_frame = [this](ByteView f) { frames.emplace_back(f.begin(), f.end()); };
    seams.reinject = [this](ByteView p) { reinjected.emplace_back(p.begin(), p.end()); };
    seams.buffer_ifindex = kBufferIfindex;
    seams.add_gateway_link = [this](const MacAddress& m) -> Result<std::string> {
      gateway_links.push_back(m.to_string());
      return std::string("vmr-gw0");
    };
    seams.remove_gateway_link = [this](const std::string&) { gateway_links.pop_back(); };
    seams.clock = &clock;
    seams.on_fatal = [this](const Error& e) { fatal.push_back(e.to_string()); };
    fa = std::make_unique<ForeignAgent>(io, *c, seams, std::move(*store));
    auto started = fa->start();
    ASSERT_TRUE(started) << started.error().to_string();
  }
  // The answer, waiting for a deferred one (activate, abort, depart answer once their commit
  // is durable; the completion comes back through the io_context).
  api::Response call(api::Method m, const std::string& path, const std::string& body = {}) {
    auto got = test::answer(io, fa->handle_api(test::api_request(m, path, body)));
    EXPECT_TRUE(got) << "no answer to " << path;
    return got.value_or(api::Response{});
  }
  template <typename F>
  void run_until(F done) {
    test::run_until(io, done);
  }
  wire::RegistrationRequest last_request() {
    EXPECT_FALSE(sent.empty());
    auto r = wire::parse_registration_request(sent.back().payload);
    EXPECT_TRUE(r) << r.error().to_string();
    return *r;
  }
  void reply(std::uint8_t code, std::uint16_t lifetime = 300,
             const auth::SecurityAssociation& key = ha_key()) {
    const auto req = last_request();
    wire::RegistrationReply r;
    r.code = code;
    r.lifetime = lifetime;
    r.home_address = req.home_address;
    r.home_agent = req.home_agent;
    r.identification = req.identification;
    if (!auth::append_auth(r, mip::ext::fa_ha_auth, key)) std::abort();
    fa->on_datagram(wire::encode(r), kHa, 434);
    fa->flush();
  }
  std::string state() { return std::string(binding::to_string(fa->visitors().find("vm1")->state)); }
  // What is durable: the store as a second connection sees it.
  std::vector<store::VisitorRecord> store_visitors() {
    auto s = store::Store::open(dir.file("fa.db"));
    EXPECT_TRUE(s) << s.error().to_string();
    auto v = s ? s->load_visitors() : Result<std::vector<store::VisitorRecord>>(fail("no_store", ""));
    EXPECT_TRUE(v);
    return v.value_or(std::vector<store::VisitorRecord>{});
  }
  const dataplane::Neighbour kVmNeighbour{kHoa, kVmMac, kVmIfindex};
  // Another connection holds SQLite's write lock while it lives: the FA's commits fail (busy,
  // after the store's busy timeout).
  struct WriteLock {
    explicit WriteLock(const std::string& path) {
      EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
      EXPECT_EQ(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
    }
    ~WriteLock() {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      sqlite3_close(db);
    }
    sqlite3* db = nullptr;
  };
  api::Response wait_for(const api::Reply& reply) {
    auto got = test::answer(io, reply);
    EXPECT_TRUE(got) << "no answer";
    return got.value_or(api::Response{});
  }
};

TEST_F(ForeignAgentTest, PrepareInstallsDeliveryStateAndBuffers) {
  start();
  auto r = call(api::Method::post, "/v1/visitors", kPrepare);
  ASSERT_EQ(r.status, 201) << r.body_text();
  EXPECT_EQ(r.json["state"], "prepared");
  // While buffering, the HoA routes to the buffer TUN, not the VM link.
  EXPECT_EQ(netlink.routes,
            (std::vector<dataplane::Route>{{{kHoa, 32}, kBufferIfindex, dataplane::kMainTable}}));
  EXPECT_EQ(netlink.proxies, (std::vector<dataplane::ProxyNeighbour>{{kGw, kVmIfindex}}));
  // The VM's neighbour entry is seeded from the MAC we were given: no ARP at the first packet.
  EXPECT_EQ(netlink.neighbours, std::vector<dataplane::Neighbour>{kVmNeighbour});
  ASSERT_EQ(netlink.rules.size(), 1u);
  EXPECT_EQ(netlink.rules[0].iif, "vmr-gw0");
  EXPECT_EQ(gateway_links, std::vector<std::string>{"02:00:00:00:01:01"});
  EXPECT_TRUE(driver.endpoints.contains(kHa));
  EXPECT_EQ(driver.routes.at(kHoa), kHa);
}

TEST_F(ForeignAgentTest, ActivateRegistersAndAcceptedReplyMakesItActive) {
  start();
  ASSERT_EQ(call(api::Method::post, "/v1/visitors", kPrepare).status, 201);
  auto a = call(api::Method::post, "/v1/visitors/vm1/activate");
  EXPECT_EQ(a.status, 202);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].dst, kHa);
  EXPECT_EQ(sent[0].port, 434);
  const auto req = last_request();
  EXPECT_TRUE(auth::verify(sent[0].payload, req.extensions, mip::ext::fa_ha_auth, ha_key()));
  EXPECT_TRUE(req.reverse_tunnel());
  EXPECT_EQ(state(), "registering");
  clock.advance(12ms);
  reply(mip::code::accepted, 300);
  EXPECT_EQ(state(), "active");
  ASSERT_TRUE(fa->status("vm1")->handover_ms);
  EXPECT_NEAR(*fa->status("vm1")->handover_ms, 12.0, 0.5);
  auto show = call(api::Method::get, "/v1/visitors/vm1");
  EXPECT_EQ(show.json["lifetime_granted"], 300);
  EXPECT_EQ(show.json["reply_code"], 0);
}

// A dual-stack visitor (docs/protocol.md "Dual-stack VMs"): its IPv6 home addresses go into
// the proxy registration as RFC 5454 Prefix Requests; what the HA grants is recorded and
// durable; bad IPv6 fields are refused naming the field and change nothing.
TEST_F(ForeignAgentTest, DualStackVisitorRegistersItsIpv6HomeAddresses) {
  start();
  const std::string base =
      R"({"id":"vm1","home_address":"10.1.0.10","mac":"52:54:00:12:34:56",)"
      R"("home_gateway":"10.1.0.1","home_gateway_mac":"02:00:00:00:01:01","home_agent":"192.0.2.1",)";
  const struct {
    std::string v6;
    std::string field;
  } bad[] = {
      {R"("home_addresses_v6":["2001:db8:1::10"])", "home_gateway_v6"},
      {R"("home_addresses_v6":["2001:db8:1::10","nope"],"home_gateway_v6":"fe80::1")",
       "home_addresses_v6[1]"},
      {R"("home_addresses_v6":["fe80::10"],"home_gateway_v6":"fe80::1")", "home_addresses_v6[0]"},
      {R"("home_addresses_v6":["2001:db8:1::10","2001:db8:1::10"],"home_gateway_v6":"fe80::1")",
       "home_addresses_v6[1]"},
      {R"("home_addresses_v6":[],"home_gateway_v6":"ff02::1")", "home_gateway_v6"},
  };
  for (const auto& c : bad) {
    auto r = call(api::Method::post, "/v1/visitors", base + c.v6 + "}");
    EXPECT_EQ(r.status, 400) << c.v6 << " → " << r.body_text();
    EXPECT_EQ(r.json["error"]["field"], c.field) << c.v6 << " → " << r.body_text();
    EXPECT_EQ(fa->visitors().size(), 0u);
  }
  auto p =
      call(api::Method::post, "/v1/visitors",
           base + R"("home_addresses_v6":["2001:db8:1::10","2001:db8:1::11"],"home_gateway_v6":"fe80::1"})");
  ASSERT_EQ(p.status, 201) << p.body_text();
  EXPECT_EQ(p.json["home_addresses_v6"], Json::array({"2001:db8:1::10", "2001:db8:1::11"}));
  EXPECT_EQ(p.json["home_gateway_v6"], "fe80::1");
  EXPECT_EQ(p.json["granted_v6"], Json::array());
  ASSERT_EQ(call(api::Method::post, "/v1/visitors/vm1/activate").status, 202);
  const auto req = last_request();
  auto asked = wire::ipv6_prefix_requests(req.extensions);
  ASSERT_TRUE(asked);
  ASSERT_EQ(asked->size(), 2u);
  EXPECT_EQ((*asked)[1].prefix.to_string(), "2001:db8:1::11");
  EXPECT_TRUE(auth::verify(sent.back().payload, req.extensions, mip::ext::fa_ha_auth, ha_key()));
  // The HA grants one of them.
  wire::RegistrationReply r;
  r.lifetime = 300;
  r.home_address = req.home_address;
  r.home_agent = req.home_agent;
  r.identification = req.identification;
  wire::Ipv6PrefixReply g;
  g.prefix = *Ipv6::parse("2001:db8:1::11");
  r.append(g.to_extension());
  ASSERT_TRUE(auth::append_auth(r, mip::ext::fa_ha_auth, ha_key()));
  // A long poll answers once the outcome is durable (the store commits on its own thread).
  api::Request poll;
  poll.method = api::Method::get;
  poll.path = "/v1/visitors/vm1";
  poll.query = {{"wait_ms", "5000"}};
  auto deferred = fa->handle_api(poll);
  ASSERT_TRUE(std::holds_alternative<api::Deferred>(deferred));
  std::optional<api::Response> got;
  std::get<api::Deferred>(deferred).attach([&](api::Response x) { got = std::move(x); });
  fa->on_datagram(wire::encode(r), kHa, 434);
  fa->flush();
  EXPECT_EQ(state(), "active");
  run_until([&] { return got.has_value(); });
  ASSERT_TRUE(got);
  EXPECT_EQ(got->json["granted_v6"], Json::array({"2001:db8:1::11"}));
  const auto stored = store_visitors();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].granted_v6, (std::vector<Ipv6>{*Ipv6::parse("2001:db8:1::11")}));
  EXPECT_EQ(stored[0].home_addresses_v6.size(), 2u);
  EXPECT_EQ(stored[0].home_gateway_v6, Ipv6::parse("fe80::1").value());
}

TEST_F(ForeignAgentTest, RepliesThatDoNotVerifyAreIgnoredDenialFails) {
  start();
  ASSERT_EQ(call(api::Method::post, "/v1/visitors", kPrepare).status, 201);
  ASSERT_EQ(call(api::Method::post, "/v1/visitors/vm1/activate").status, 202);
  auth::SecurityAssociation wrong = ha_key();
  wrong.key[0] ^= 1;
  reply(mip::code::ha_prohibited, 0, wrong);
  EXPECT_EQ(state(), "registering") << "a forged denial must not fail the move";
  reply(mip::code::ha_prohibited, 0);
  EXPECT_EQ(state(), "failed");
  auto show = call(api::Method::get, "/v1/visitors/vm1");
  EXPECT_EQ(show.json["reply_code"], 129);
  EXPECT_EQ(show.json["reason"], "ha_prohibited");
}

TEST_F(ForeignAgentTest, RetransmitsThenTimesOut) {
  start();
  ASSERT_EQ(call(api::Method::post, "/v1/visitors", kPrepare).status, 201);
  ASSERT_EQ(call(api::Method::post, "/v1/visitors/vm1/activate").status, 202);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (state() == "registering" && std::chrono::steady_clock::now() < deadline) io.run_one_for(100ms);
  EXPECT_EQ(sent.size(), 3u);
  EXPECT_EQ(state(), "failed");
  EXPECT_EQ(call(api::Method::get, "/v1/visitors/vm1").json["reply_code"], 78);
}

TEST_F(ForeignAgentTest, BufferIsBoundedAndFlushedInOrder) {
  buffer_bytes = 100;
  gateway_mode = "garp";
  start();
  ASSERT_EQ(call(api::Method::post, "/v1/visitors", kPrepare).status, 201);
  fa->on_buffered_packet(ip_packet(1));
  fa->on_buffered_packet(ip_packet(2));
  fa->on_buffered_packet(ip_packet(3));  // 120 > 100 bytes: dropped and counted
  EXPECT_EQ(fa->status("vm1")->buffer.packets, 2u);
  EXPECT_EQ(fa->status("vm1")->buffer.overflow_packets, 1u);
  EXPECT_TRUE(reinjected.empty());
  auto r = call(api::Method::post, "/v1/visitors/vm1/resumed");
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(reinjected.size(), 2u);
  EXPECT_EQ(reinjected[0][20], 1);
  EXPECT_EQ(reinjected[1][20], 2);
  EXPECT_EQ(netlink.routes, (std::vector<dataplane::Route>{{{kHoa, 32}, kVmIfindex, dataplane::kMainTable}}));
  // garp mode: an announcement for the gateway with the VM link's MAC at once.
  ASSERT_FALSE(frames.empty());
  auto eth = wire::parse_ethernet(frames[0]);
  ASSERT_TRUE(eth);
  auto arp = wire::parse_arp(eth->payload);
  ASSERT_TRUE(arp);
  EXPECT_EQ(arp->sender_ip, kGw);
  EXPECT_EQ(arp->sender_mac, kVmLinkMac);
}

TEST_F(ForeignAgentTest, OldPacketsLeaveTheBuffer) {
  start();
  ASSERT_EQ(call(api::Method::post, "/v1/visitors", kPrepare).status, 201);
  fa->on_buffered_packet(ip_packet(1));
  clock.advance(1500ms);  // buffer_ms is 1000
  fa->on_buffered_packet(ip_packet(2));
  EXPECT_EQ(fa->status("vm1")->buffer.packets, 1u);
  EXPECT_EQ(fa->status("vm1")->buffer.overflow_packets, 1u);
}

TEST_F(ForeignAgentTest, RarpFromTheVmActivatesAndFlushes) {
  start();
  ASSERT_EQ(call(api::Method::post, "/v1/visitors", kPrepare).status, 201);
  fa->on_buffered_packet(ip_packet(7));
  fa->on_vm_frame(wire::build_rarp_announce(kVmMac));
  EXPECT_EQ(state(), "registering");
  EXPECT_EQ(sent.size(), 1u);
  ASSERT_EQ(reinjected.size(), 1u);
  fa->on_vm_frame(wire::build_rarp_announce(*MacAddress::parse("52:54:00:00:00:99")));
  EXPECT_EQ(sent.size(), 1u) << "another MAC is not our visitor";
}

TEST_F(ForeignAgentTest, RevocationDropsStateAndIsAcknowledged) {
  start();
  ASSERT_EQ(call(api::Method::post, "/v1/visitors", kPrepare).status, 201);
  ASSERT_EQ(call(api::Method::post, "/v1/visitors/vm1/activate").status, 202);
  reply(mip::code::accepted);
  wire::Revocation rev;
  rev.flags = mip::revocation::flag_A;
  rev.home_address = kHoa;
  rev.home_domain_address = kHa;
  rev.foreign_domain_address = *Ipv4::parse("192.0.2.2");
  rev.revocation_id = 77;
  ASSERT_TRUE(auth::append_auth(rev, mip::ext::fa_ha_auth, ha_key()));
  const std::size_t before = sent.size();
  fa->on_datagram(wire::encode(rev), kHa, 434);
  fa->flush();
  EXPECT_EQ(fa->visitors().find("vm1"), nullptr);
  EXPECT_TRUE(netlink.routes.empty());
  EXPECT_TRUE(netlink.proxies.empty());
  EXPECT_TRUE(netlink.rules.empty());
  EXPECT_TRUE(netlink.neighbours.empty());
  EXPECT_TRUE(driver.routes.empty());
  // The ack says "gone": it waits for the durable deletion (the completion on the loop).
  EXPECT_EQ(sent.size(), before) << "acknowledged before the deletion was durable";
  run_until([&] { return sent.size() > before; });
  ASSERT_EQ(sent.size(), before + 1);
  EXPECT_TRUE(store_visitors().empty());
  auto ack = wire::parse_revocation_ack(sent.back().payload);
  ASSERT_TRUE(ack) << ack.error().to_string();
  EXPECT_EQ(ack->revocation_id, 77u);
  EXPECT_TRUE(auth::verify(sent.back().payload, ack->extensions, mip::ext::fa_ha_auth, ha_key()));
}

TEST_F(ForeignAgentTest, BadInputChangesNothing) {
  start();
  struct Case {
    const char* description;
    std::string body;
    int status;
    std::string field;
  };
  const Case cases[] = {
      {"not JSON", "{", 400, ""},
      {"bad home address",
       R"({"id":"vm1","home_address":"10.1.0","mac":"52:54:00:12:34:56","home_gateway":"10.1.0.1","home_gateway_mac":"02:00:00:00:01:01","home_agent":"192.0.2.1"})",
       400, "home_address"},
      {"unknown home agent",
       R"({"id":"vm1","home_address":"10.1.0.10","mac":"52:54:00:12:34:56","home_gateway":"10.1.0.1","home_gateway_mac":"02:00:00:00:01:01","home_agent":"192.0.2.9"})",
       400, "home_agent"},
      {"multicast home agent (RFC 5944 §3.7.2: code 194 on the wire)",
       R"({"id":"vm1","home_address":"10.1.0.10","mac":"52:54:00:12:34:56","home_gateway":"10.1.0.1","home_gateway_mac":"02:00:00:00:01:01","home_agent":"224.0.0.11"})",
       400, "home_agent"},
      {"spi without key",
       R"({"id":"vm1","home_address":"10.1.0.10","mac":"52:54:00:12:34:56","home_gateway":"10.1.0.1","home_gateway_mac":"02:00:00:00:01:01","home_agent":"192.0.2.1","spi":300})",
       400, "key"},
      {"typo",
       R"({"id":"vm1","home_address":"10.1.0.10","mac":"52:54:00:12:34:56","home_gateway":"10.1.0.1","home_gateway_mac":"02:00:00:00:01:01","home_agent":"192.0.2.1","lifetme":5})",
       400, "lifetme"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    auto r = call(api::Method::post, "/v1/visitors", c.body);
    EXPECT_EQ(r.status, c.status) << r.body_text();
    if (!c.field.empty()) {
      EXPECT_EQ(r.json["error"]["field"], c.field);
    }
    EXPECT_EQ(fa->visitors().size(), 0u);
    EXPECT_TRUE(netlink.routes.empty());
    EXPECT_TRUE(netlink.proxies.empty());
    EXPECT_TRUE(driver.endpoints.empty());
  }
  ASSERT_EQ(call(api::Method::post, "/v1/visitors", kPrepare).status, 201);
  EXPECT_EQ(call(api::Method::post, "/v1/visitors", kPrepare).status, 409);
  EXPECT_EQ(call(api::Method::post, "/v1/visitors/nope/activate").status, 404);
  EXPECT_EQ(call(api::Method::post, "/v1/visitors/vm1/depart").status, 409) << "not active yet";
}

TEST_F(ForeignAgentTest, AbortUndoesPrepareButNotAfterActive) {
  start();
  ASSERT_EQ(call(api::Method::post, "/v1/visitors", kPrepare).status, 201);
  EXPECT_EQ(call(api::Method::post, "/v1/visitors/vm1/abort").status, 200);
  EXPECT_TRUE(netlink.routes.empty());
  EXPECT_TRUE(netlink.neighbours.empty());
  EXPECT_TRUE(store_visitors().empty()) << "abort answered before its deletion was durable";
  EXPECT_TRUE(netlink.rules.empty());
  EXPECT_TRUE(gateway_links.empty());
  ASSERT_EQ(call(api::Method::post, "/v1/visitors", kPrepare).status, 201);
  ASSERT_EQ(call(api::Method::post, "/v1/visitors/vm1/activate").status, 202);
  reply(mip::code::accepted);
  EXPECT_EQ(call(api::Method::post, "/v1/visitors/vm1/abort").status, 409);
  EXPECT_EQ(call(api::Method::post, "/v1/visitors/vm1/depart").status, 200);
  auto dereg = last_request();
  EXPECT_EQ(dereg.lifetime, 0);
  // Delivery lingers until the HA has answered: it still tunnels here until then.
  EXPECT_EQ(state(), "departed");
  EXPECT_FALSE(netlink.routes.empty());
  EXPECT_FALSE(netlink.neighbours.empty());
  EXPECT_TRUE(store_visitors().empty()) << "depart answered before its deletion was durable";
  reply(mip::code::accepted, 0);
  EXPECT_EQ(fa->visitors().find("vm1"), nullptr);
  EXPECT_TRUE(netlink.routes.empty());
  EXPECT_TRUE(netlink.neighbours.empty());
}

TEST_F(ForeignAgentTest, DepartWithoutAReplyLetsGoAfterTheLinger) {
  start();
  ASSERT_EQ(call(api::Method::post, "/v1/visitors", kPrepare).status, 201);
  ASSERT_EQ(call(api::Method::post, "/v1/visitors/vm1/activate").status, 202);
  reply(mip::code::accepted);
  ASSERT_EQ(call(api::Method::post, "/v1/visitors/vm1/depart").status, 200);
  EXPECT_NE(fa->visitors().find("vm1"), nullptr);
  io.run_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(fa->visitors().find("vm1"), nullptr);
  EXPECT_TRUE(netlink.routes.empty());
  EXPECT_TRUE(netlink.neighbours.empty());
}

TEST_F(ForeignAgentTest, ArpForOtherHomeAddressesIsAnsweredWithTheGatewayMac) {
  start();
  ASSERT_EQ(call(api::Method::post, "/v1/visitors", kPrepare).status, 201);
  ASSERT_EQ(call(api::Method::post, "/v1/visitors/vm1/activate").status, 202);
  reply(mip::code::accepted);
  frames.clear();
  const Ipv4 neighbour = *Ipv4::parse("10.1.0.20");
  auto who_has = [&](Ipv4 sender, Ipv4 target) {
    wire::ArpPacket q{mip::kArpOpRequest, kVmMac, sender, MacAddress{}, target};
    return wire::build_arp_frame(*MacAddress::parse("ff:ff:ff:ff:ff:ff"), kVmMac, mip::kEtherTypeArp, q);
  };
  fa->on_vm_frame(who_has(kHoa, neighbour));
  ASSERT_EQ(frames.size(), 1u);
  auto eth = wire::parse_ethernet(frames[0]);
  ASSERT_TRUE(eth);
  EXPECT_EQ(eth->dst, kVmMac);
  auto arp = wire::parse_arp(eth->payload);
  ASSERT_TRUE(arp);
  EXPECT_EQ(arp->op, mip::kArpOpReply);
  EXPECT_EQ(arp->sender_ip, neighbour);
  EXPECT_EQ(arp->sender_mac, *MacAddress::parse("02:00:00:00:01:01")) << "the anycast home gateway MAC";
  EXPECT_EQ(arp->target_ip, kHoa);
  // Never for the VM's own address (its duplicate-address probe or gratuitous ARP), never for
  // the gateway (the kernel's proxy entry answers), never for someone else's request.
  fa->on_vm_frame(who_has(kHoa, kHoa));
  fa->on_vm_frame(who_has(Ipv4{}, kHoa));
  fa->on_vm_frame(who_has(kHoa, kGw));
  fa->on_vm_frame(who_has(*Ipv4::parse("10.1.0.99"), neighbour));
  EXPECT_EQ(frames.size(), 1u);
}

// Dual-stack VMs: their IPv6 is buffered with their IPv4 (one queue, in order), their
// unsolicited NA is an arrival, their solicitations for the home gateway are answered.
TEST_F(ForeignAgentTest, DualStackVmIsBufferedAnsweredAndDetectedByItsNeighborAdvertisement) {
  start();
  const std::string prepare = std::string(kPrepare).substr(0, std::string(kPrepare).size() - 1) +
                              R"(,"home_addresses_v6":["2001:db8:1::10"],"home_gateway_v6":"fe80::1"})";
  ASSERT_EQ(call(api::Method::post, "/v1/visitors", prepare).status, 201);
  const Ipv6 hoa6 = *Ipv6::parse("2001:db8:1::10");
  Bytes v6(48, 0);  // an IPv6 packet for the VM: 40-byte header, 8 bytes of payload
  v6[0] = 0x60, v6[5] = 8, v6[6] = 59, v6[7] = 64;
  std::copy(hoa6.bytes().begin(), hoa6.bytes().end(), v6.begin() + 24);
  fa->on_buffered_packet(ip_packet(1));
  fa->on_buffered_packet(v6);
  fa->on_buffered_packet(ip_packet(2));
  // Its own announcement (RFC 4861 §7.2.6) says it runs here: registration, then the flush.
  fa->on_vm_frame(wire::build_unsolicited_na(kVmMac, hoa6));
  EXPECT_EQ(state(), "registering");
  ASSERT_EQ(reinjected.size(), 3u);
  EXPECT_EQ(reinjected[0][20], 1);
  EXPECT_EQ(reinjected[1], v6);
  EXPECT_EQ(reinjected[2][20], 2);
  // Its solicitation for the gateway's link-local address gets the anycast MAC back.
  frames.clear();
  // scapy: Ether(src=VM, dst='33:33:ff:00:00:01') / IPv6(src='fe80::5054:ff:fe12:3456',
  // dst='ff02::1:ff00:1', hlim=255) / ICMPv6ND_NS(tgt='fe80::1') / ICMPv6NDOptSrcLLAddr(lladdr=VM)
  const Bytes ns = *from_hex(
      "3333ff00000152540012345686dd6000000000203afffe80000000000000505400fffe123456ff020000000000"
      "0000000001ff0000018700722200000000fe8000000000000000000000000000010101525400123456");
  fa->on_vm_frame(ns);
  ASSERT_EQ(frames.size(), 1u);
  auto na = wire::parse_neighbor_advertisement(frames[0]);
  ASSERT_TRUE(na) << na.error().to_string();
  EXPECT_EQ(na->target_mac, *MacAddress::parse("02:00:00:00:01:01"));
  EXPECT_TRUE(na->router && na->solicited);
}

TEST_F(ForeignAgentTest, RestartRestoresVisitorsAndState) {
  start();
  ASSERT_EQ(call(api::Method::post, "/v1/visitors", kPrepare).status, 201);
  ASSERT_EQ(call(api::Method::post, "/v1/visitors/vm1/activate").status, 202);
  reply(mip::code::accepted);
  ASSERT_EQ(call(api::Method::post, "/v1/visitors/vm1/resumed").status, 200);
  // A crash: the kernel keeps what we made; a stale proxy from long ago is there too.
  fa.reset();
  netlink.proxies.push_back({*Ipv4::parse("10.9.9.1"), kVmIfindex});
  netlink.routes.push_back({{kHoa, 32}, kVmIfindex, dataplane::kMainTable});
  sent.clear();
  start();
  EXPECT_EQ(state(), "active");
  EXPECT_EQ(netlink.proxies, (std::vector<dataplane::ProxyNeighbour>{{kGw, kVmIfindex}}));
  EXPECT_EQ(sent.size(), 1u) << "an active visitor re-registers at start-up";
}

TEST_F(ForeignAgentTest, NeighbourIsRefreshedAtResumeAndReconciledAtStartUp) {
  start();
  ASSERT_EQ(call(api::Method::post, "/v1/visitors", kPrepare).status, 201);
  // The kernel aged the entry out (or failed it) while the VM was not here yet.
  netlink.neighbours.clear();
  ASSERT_EQ(call(api::Method::post, "/v1/visitors/vm1/resumed").status, 200);
  EXPECT_EQ(netlink.neighbours, std::vector<dataplane::Neighbour>{kVmNeighbour});
  // Replaced in place: the old handle must not remove the new entry.
  fa->on_vm_frame(wire::build_rarp_announce(kVmMac));
  EXPECT_EQ(netlink.neighbours, std::vector<dataplane::Neighbour>{kVmNeighbour});
  // A crash, then a restart: a tagged entry no visitor explains goes (on the VM link only),
  // the visitor's own is adopted, one on another link is not ours to judge.
  fa.reset();
  const dataplane::Neighbour stale{*Ipv4::parse("10.1.0.77"), kVmMac, kVmIfindex};
  const dataplane::Neighbour wrong_mac{kHoa, *MacAddress::parse("52:54:00:00:00:99"), kVmIfindex};
  const dataplane::Neighbour elsewhere{*Ipv4::parse("10.1.0.78"), kVmMac, 42};
  netlink.neighbours = {stale, elsewhere, wrong_mac};
  start();
  EXPECT_EQ(netlink.neighbours, (std::vector<dataplane::Neighbour>{elsewhere, kVmNeighbour}));
  // Gone with the visitor.
  ASSERT_EQ(call(api::Method::post, "/v1/visitors/vm1/abort").status, 200);
  EXPECT_EQ(netlink.neighbours, std::vector<dataplane::Neighbour>{elsewhere});
}

TEST_F(ForeignAgentTest, ActivateSendsFirstAndAnswersOnceDurable) {
  start();
  ASSERT_EQ(call(api::Method::post, "/v1/visitors", kPrepare).status, 201);
  api::Request r;
  r.method = api::Method::post;
  r.path = "/v1/visitors/vm1/activate";
  auto reply = fa->handle_api(r);
  // The request is on the wire before anything waits for the disk.
  EXPECT_EQ(sent.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<api::Deferred>(reply));
  std::optional<api::Response> got;
  std::get<api::Deferred>(reply).attach([&](api::Response x) { got = std::move(x); });
  run_until([&] { return got.has_value(); });
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 202);
  auto durable = store_visitors();
  ASSERT_EQ(durable.size(), 1u);
  EXPECT_EQ(durable[0].state, "registering") << "202 before the state was durable";
}

TEST_F(ForeignAgentTest, ReplyIsActedOnAtOnceAndWaitersAnsweredOnceDurable) {
  start();
  ASSERT_EQ(call(api::Method::post, "/v1/visitors", kPrepare).status, 201);
  ASSERT_EQ(call(api::Method::post, "/v1/visitors/vm1/activate").status, 202);
  api::Request r;
  r.method = api::Method::get;
  r.path = "/v1/visitors/vm1";
  r.query = {{"wait_ms", "5000"}};
  auto poll = fa->handle_api(r);
  ASSERT_TRUE(std::holds_alternative<api::Deferred>(poll));
  std::optional<api::Response> got;
  std::get<api::Deferred>(poll).attach([&](api::Response x) { got = std::move(x); });
  reply(mip::code::accepted, 300);
  // flush() did not wait for the commit: the visitor is active in memory at once...
  EXPECT_EQ(state(), "active");
  // ...and the long poll learns it only from the commit's completion on the loop.
  EXPECT_FALSE(got) << "answered before the outcome was durable";
  run_until([&] { return got.has_value(); });
  ASSERT_TRUE(got);
  EXPECT_EQ(got->json["state"], "active");
  auto durable = store_visitors();
  ASSERT_EQ(durable.size(), 1u);
  EXPECT_EQ(durable[0].state, "active");
}

// A failed commit is answered as failed and changes nothing (docs/foreign-agent.md "Failures").
TEST_F(ForeignAgentTest, ActivateWhoseCommitFailsIsA500AndLeavesThePrepare) {
  start();
  ASSERT_EQ(call(api::Method::post, "/v1/visitors", kPrepare).status, 201);
  api::Response r;
  {
    WriteLock lock(dir.file("fa.db"));
    r = call(api::Method::post, "/v1/visitors/vm1/activate");
  }
  EXPECT_EQ(r.status, 500) << r.body_text();
  EXPECT_EQ(r.json["error"]["code"], "internal");
  EXPECT_NE(r.json["error"]["message"].get<std::string>().find("store commit failed"), std::string::npos);
  EXPECT_EQ(state(), "prepared") << "memory back to what is durable";
  // Meanwhile the round timed out and queued its outcome behind the failed commit; once every
  // queued commit has completed (the loop runs out of work), the store matches memory.
  if (io.stopped()) io.restart();
  io.run_for(5s);
  EXPECT_EQ(state(), "prepared");
  ASSERT_EQ(store_visitors().size(), 1u);
  EXPECT_EQ(store_visitors()[0].state, "prepared");
  EXPECT_TRUE(fatal.empty()) << "the FA goes on: nothing it cannot undo happened";
  // And it can be activated again once the store works.
  EXPECT_EQ(call(api::Method::post, "/v1/visitors/vm1/activate").status, 202);
  EXPECT_EQ(state(), "registering");
}

TEST_F(ForeignAgentTest, AnOutcomeThatCannotBeRecordedFailsTheLongPollAndIsFatal) {
  start();
  ASSERT_EQ(call(api::Method::post, "/v1/visitors", kPrepare).status, 201);
  ASSERT_EQ(call(api::Method::post, "/v1/visitors/vm1/activate").status, 202);
  api::Request poll;
  poll.method = api::Method::get;
  poll.path = "/v1/visitors/vm1";
  poll.query = {{"wait_ms", "10000"}};
  auto deferred = fa->handle_api(poll);
  api::Response got;
  {
    WriteLock lock(dir.file("fa.db"));
    reply(mip::code::accepted, 300);
    got = wait_for(deferred);
  }
  EXPECT_EQ(got.status, 500) << "not 200: the outcome is not durable";
  EXPECT_NE(got.body_text().find("store commit failed"), std::string::npos);
  EXPECT_EQ(state(), "registering") << "memory back to what is durable";
  ASSERT_EQ(fatal.size(), 1u);
  EXPECT_NE(fatal[0].find("busy"), std::string::npos) << fatal[0];
}

TEST_F(ForeignAgentTest, AbortWhoseCommitFailsKeepsTheVisitorAndItsDelivery) {
  start();
  ASSERT_EQ(call(api::Method::post, "/v1/visitors", kPrepare).status, 201);
  api::Response r;
  {
    WriteLock lock(dir.file("fa.db"));
    r = call(api::Method::post, "/v1/visitors/vm1/abort");
  }
  EXPECT_EQ(r.status, 500) << r.body_text();
  ASSERT_NE(fa->visitors().find("vm1"), nullptr) << "still durable, so still here";
  EXPECT_EQ(state(), "prepared");
  EXPECT_EQ(netlink.routes,
            (std::vector<dataplane::Route>{{{kHoa, 32}, kBufferIfindex, dataplane::kMainTable}}));
  EXPECT_EQ(netlink.neighbours, std::vector<dataplane::Neighbour>{kVmNeighbour});
  EXPECT_TRUE(fatal.empty());
  EXPECT_EQ(call(api::Method::post, "/v1/visitors/vm1/abort").status, 200);
  EXPECT_TRUE(store_visitors().empty());
}

TEST_F(ForeignAgentTest, ARevocationWhoseDeletionFailsIsNotAcknowledged) {
  start();
  ASSERT_EQ(call(api::Method::post, "/v1/visitors", kPrepare).status, 201);
  wire::Revocation rev;
  rev.flags = mip::revocation::flag_A;
  rev.home_address = kHoa;
  rev.home_domain_address = kHa;
  rev.revocation_id = 78;
  ASSERT_TRUE(auth::append_auth(rev, mip::ext::fa_ha_auth, ha_key()));
  const std::size_t before = sent.size();
  {
    WriteLock lock(dir.file("fa.db"));
    fa->on_datagram(wire::encode(rev), kHa, 434);
    fa->flush();
    run_until([&] { return fa->visitors().find("vm1") != nullptr; });
  }
  EXPECT_NE(fa->visitors().find("vm1"), nullptr) << "rolled back: the deletion is not durable";
  EXPECT_EQ(sent.size(), before) << "no ack: the HA retransmits the revocation";
  fa->on_datagram(wire::encode(rev), kHa, 434);
  fa->flush();
  run_until([&] { return sent.size() > before; });
  EXPECT_EQ(sent.size(), before + 1);
  EXPECT_EQ(fa->visitors().find("vm1"), nullptr);
}

}  // namespace
}  // namespace vmroam::fa
