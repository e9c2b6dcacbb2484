// Delivery with fakes for the kernel: what install/resume/remove create and remove, shared
// objects counted by reference, start-up reconciliation, garp on its schedule, and the ARP
// answers for other home addresses.
#include "foreign-agent/delivery.hpp"

#include <gtest/gtest.h>

#include "common/wire/ethernet.hpp"
#include "tests/fakes/fake_netlink.hpp"
#include "tests/fakes/fake_tunnel_driver.hpp"

namespace vmroam::fa {
namespace {

using namespace std::chrono_literals;
using binding::Visitor;

const Ipv4 kHa = Ipv4::from_octets(192, 0, 2, 1);
const Ipv4 kGw = Ipv4::from_octets(10, 1, 0, 1);
const MacAddress kGwMac = *MacAddress::parse("02:00:00:00:01:01");
const MacAddress kVmLinkMac = *MacAddress::parse("02:00:00:00:02:02");
constexpr int kVmIfindex = 5;
constexpr int kBufferIfindex = 9;

Visitor visitor(const std::string& id, std::uint8_t host, std::uint8_t mac_last) {
  Visitor v;
  v.id = id;
  v.home_address = Ipv4::from_octets(10, 1, 0, host);
  v.mac = MacAddress({0x52, 0x54, 0x00, 0x12, 0x34, mac_last});
  v.home_gateway = kGw;
  v.home_gateway_mac = kGwMac;
  v.home_agent = kHa;
  v.state = binding::VisitorState::registering;
  return v;
}

class DeliveryTest : public ::testing::Test {
 protected:
  boost::asio::io_context io;
  dataplane::FakeNetlink netlink;
  dataplane::FakeTunnelDriver driver;
  std::vector<Bytes> frames;
  std::vector<std::string> gateway_links;
  std::vector<std::string> removed_links;
  FaConfig config;
  std::unique_ptr<Delivery> delivery;

  void make(const std::string& gateway_mode) {
    auto c = parse_config_text(R"({"address":"192.0.2.2","vm_interface":"br-vm",
      "home_agents":[{"address":"192.0.2.1"}],
      "delivery":{"gateway_mode":")" +
                               gateway_mode + R"(","buffer_bytes":4096,"garp_schedule_ms":[0,0,50]}})");
    ASSERT_TRUE(c) << c.error().to_string();
    config = *c;
    netlink.links.push_back(dataplane::LinkInfo{kVmIfindex, "br-vm", kVmLinkMac, 1500, true, {}});
    DeliveryIo seams;
    seams.netlink = &netlink;
    seams.driver = &driver;
    seams.send_vm_frame = [this](ByteView f) { frames.emplace_back(f.begin(), f.end()); };
    seams.buffer_ifindex = kBufferIfindex;
    seams.add_gateway_link = [this](const MacAddress& m) -> Result<std::string> {
      gateway_links.push_back(m.to_string());
      return std::string("vmr-gw0");
    };
    seams.remove_gateway_link = [this](const std::string& name) {
      removed_links.push_back(name);
      if (!gateway_links.empty()) gateway_links.pop_back();
    };
    delivery = std::make_unique<Delivery>(io, seams, config);
    ASSERT_TRUE(delivery->open());
  }
};

TEST_F(DeliveryTest, InstallResumeRemove) {
  make("anycast");
  const Visitor v = visitor("vm1", 10, 0x56);
  EXPECT_TRUE(delivery->install(v, /*to_buffer=*/true));
  EXPECT_EQ(netlink.routes,
            (std::vector<dataplane::Route>{{{v.home_address, 32}, kBufferIfindex, dataplane::kMainTable}}));
  EXPECT_EQ(netlink.neighbours, (std::vector<dataplane::Neighbour>{{v.home_address, v.mac, kVmIfindex}}));
  ASSERT_EQ(netlink.rules.size(), 1u);
  EXPECT_EQ(netlink.rules[0].iif, "vmr-gw0");
  EXPECT_EQ(gateway_links, std::vector<std::string>{kGwMac.to_string()});
  EXPECT_EQ(driver.routes.at(v.home_address), kHa);
  delivery->resume(v);
  EXPECT_EQ(netlink.routes,
            (std::vector<dataplane::Route>{{{v.home_address, 32}, kVmIfindex, dataplane::kMainTable}}));
  EXPECT_TRUE(frames.empty()) << "anycast mode sends no gratuitous ARP";
  delivery->remove(v);
  EXPECT_TRUE(netlink.routes.empty());
  EXPECT_TRUE(netlink.rules.empty());
  EXPECT_TRUE(netlink.neighbours.empty());
  EXPECT_TRUE(netlink.proxies.empty());
  EXPECT_TRUE(gateway_links.empty());
  EXPECT_TRUE(driver.routes.empty());
  EXPECT_TRUE(driver.endpoints.empty());
}

TEST_F(DeliveryTest, SharedObjectsLiveAsLongAsTheirLastVisitor) {
  make("garp");
  const Visitor a = visitor("a", 10, 0x01), b = visitor("b", 11, 0x02);
  delivery->install(a, false);
  delivery->install(b, false);
  EXPECT_EQ(netlink.proxies, (std::vector<dataplane::ProxyNeighbour>{{kGw, kVmIfindex}}));
  delivery->remove(a);
  EXPECT_EQ(netlink.proxies.size(), 1u) << "b is still behind that gateway";
  EXPECT_TRUE(driver.endpoints.contains(kHa));
  delivery->remove(b);
  EXPECT_TRUE(netlink.proxies.empty());
  EXPECT_FALSE(driver.endpoints.contains(kHa));
}

TEST_F(DeliveryTest, GarpFollowsTheScheduleFromTheResume) {
  make("garp");
  const Visitor v = visitor("vm1", 10, 0x56);
  delivery->install(v, true);
  delivery->resume(v);
  ASSERT_EQ(frames.size(), 2u) << "both announcements due at 0 ms at once";
  auto arp = wire::parse_arp(wire::parse_ethernet(frames[0])->payload);
  ASSERT_TRUE(arp);
  EXPECT_EQ(arp->sender_ip, kGw);
  EXPECT_EQ(arp->sender_mac, kVmLinkMac);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (frames.size() < 3 && std::chrono::steady_clock::now() < deadline) io.run_one_for(20ms);
  EXPECT_EQ(frames.size(), 3u);
}

TEST_F(DeliveryTest, ReconcileRemovesWhatNoVisitorExplains) {
  make("garp");
  binding::VisitorList visitors;
  const Visitor v = visitor("vm1", 10, 0x56);
  ASSERT_TRUE(visitors.add(v));
  const dataplane::Route stale{{Ipv4::from_octets(10, 1, 0, 77), 32}, kVmIfindex, dataplane::kMainTable};
  const dataplane::Route explained{{v.home_address, 32}, kVmIfindex, dataplane::kMainTable};
  netlink.routes = {stale, explained};
  netlink.proxies = {{Ipv4::from_octets(10, 9, 9, 1), kVmIfindex}, {kGw, kVmIfindex}};
  delivery->reconcile(visitors);
  EXPECT_EQ(netlink.routes, std::vector<dataplane::Route>{explained});
  EXPECT_EQ(netlink.proxies, (std::vector<dataplane::ProxyNeighbour>{{kGw, kVmIfindex}}));
}

// A restarted FA takes over its predecessor's gateway link instead of deleting and recreating
// it: in between, the VM's frames to its gateway MAC would not be accepted on the VM link.
TEST_F(DeliveryTest, ReconcileAdoptsTheGatewayLinkAVisitorStillNeeds) {
  make("anycast");
  binding::VisitorList visitors;
  const Visitor v = visitor("vm1", 10, 0x56);
  ASSERT_TRUE(visitors.add(v));
  netlink.links.push_back(dataplane::LinkInfo{20, "vmr-gw0", kGwMac, 1500, true, {}});
  netlink.links.push_back(
      dataplane::LinkInfo{21, "vmr-gw1", *MacAddress::parse("02:00:00:00:09:09"), 1500, true, {}});
  delivery->reconcile(visitors);
  EXPECT_EQ(removed_links, std::vector<std::string>{"vmr-gw1"}) << "no visitor needs that MAC";
  delivery->install(v, /*to_buffer=*/false);
  EXPECT_TRUE(gateway_links.empty()) << "the predecessor's link is taken over, not recreated";
  ASSERT_EQ(netlink.rules.size(), 1u);
  EXPECT_EQ(netlink.rules[0].iif, "vmr-gw0");
  EXPECT_EQ(netlink.proxies, (std::vector<dataplane::ProxyNeighbour>{{kGw, 20}})) << "on the gateway link";
  delivery->remove(v);
  EXPECT_EQ(removed_links, (std::vector<std::string>{"vmr-gw1", "vmr-gw0"}))
      << "and removed with its last visitor";
}

TEST_F(DeliveryTest, HomeArpAnswer) {
  make("anycast");
  const Visitor v = visitor("vm1", 10, 0x56);
  // The ARP payload of the VM's request (a copy: the frame it was parsed from is gone).
  auto who_has = [&](Ipv4 sender, Ipv4 target) {
    wire::ArpPacket q{mip::kArpOpRequest, v.mac, sender, MacAddress{}, target};
    const Bytes frame =
        wire::build_arp_frame(*MacAddress::parse("ff:ff:ff:ff:ff:ff"), v.mac, mip::kEtherTypeArp, q);
    const ByteView payload = wire::parse_ethernet(frame)->payload;
    return Bytes(payload.begin(), payload.end());
  };
  const Ipv4 other = Ipv4::from_octets(10, 1, 0, 20);
  auto answer = delivery->home_arp_answer(v, who_has(v.home_address, other));
  ASSERT_TRUE(answer);
  auto arp = wire::parse_arp(wire::parse_ethernet(*answer)->payload);
  ASSERT_TRUE(arp);
  EXPECT_EQ(arp->sender_ip, other);
  EXPECT_EQ(arp->sender_mac, kGwMac) << "the anycast home gateway MAC";
  EXPECT_FALSE(delivery->home_arp_answer(v, who_has(v.home_address, v.home_address)));
  EXPECT_FALSE(delivery->home_arp_answer(v, who_has(v.home_address, kGw)));
  EXPECT_FALSE(delivery->home_arp_answer(v, who_has(Ipv4::from_octets(10, 1, 0, 99), other)));
  Visitor prepared = v;
  prepared.state = binding::VisitorState::prepared;
  EXPECT_FALSE(delivery->home_arp_answer(prepared, who_has(v.home_address, other))) << "not running here yet";
}

}  // namespace
}  // namespace vmroam::fa

namespace vmroam::fa {
namespace {

const Ipv6 kHoa6 = *Ipv6::parse("2001:db8:1::10");
const Ipv6 kGw6 = *Ipv6::parse("fe80::1");

Visitor dual_stack(const std::string& id) {
  Visitor v = visitor(id, 10, 0x56);
  v.home_addresses_v6 = {kHoa6};
  v.home_gateway_v6 = kGw6;
  return v;
}

// The VM's solicitation for `target` from `src` (RFC 4861 §4.3), parsed as the FA reads it.
wire::NeighborSolicitation solicitation(const Visitor& v, const Ipv6& src, const Ipv6& target) {
  return wire::NeighborSolicitation{v.mac, src, *Ipv6::parse("ff02::1:ff00:1"), target, v.mac};
}

TEST_F(DeliveryTest, DualStackVisitorsGetTheirIpv6RoutedBufferedAndReverseTunnelled) {
  make("anycast");
  const Visitor v = dual_stack("vm1");
  EXPECT_TRUE(delivery->install(v, /*to_buffer=*/true));
  EXPECT_EQ(netlink.routes6,
            (std::vector<dataplane::Route6>{{{kHoa6, 128}, kBufferIfindex, dataplane::kMainTable}}));
  ASSERT_EQ(netlink.rules6.size(), 1u);  // anycast: from HoA6 iif <gateway link>
  EXPECT_EQ(netlink.rules6[0].iif, "vmr-gw0");
  EXPECT_EQ(netlink.rules6[0].from, (Ipv6Prefix{kHoa6, 128}));
  EXPECT_EQ(driver.home_addresses_v6.at(v.home_address), std::vector<Ipv6>{kHoa6});
  // Its IPv6 neighbour entry is seeded like the IPv4 one (STALE, the VM's MAC).
  const std::vector<dataplane::Neighbour6> seeded{{kHoa6, v.mac, kVmIfindex}};
  EXPECT_EQ(netlink.neighbours6, seeded);
  netlink.neighbours6.clear();  // the kernel aged it out while the visitor was only prepared
  delivery->resume(v);
  EXPECT_EQ(netlink.routes6,
            (std::vector<dataplane::Route6>{{{kHoa6, 128}, kVmIfindex, dataplane::kMainTable}}));
  EXPECT_EQ(netlink.neighbours6, seeded) << "resume seeds it afresh";
  delivery->remove(v);
  EXPECT_TRUE(netlink.routes6.empty());
  EXPECT_TRUE(netlink.rules6.empty());
  EXPECT_TRUE(netlink.neighbours6.empty());
}

TEST_F(DeliveryTest, ReconcileRemovesIpv6NeighbourEntriesNoVisitorExplains) {
  make("garp");
  binding::VisitorList visitors;
  const Visitor v = dual_stack("vm1");
  ASSERT_TRUE(visitors.add(v));
  const dataplane::Neighbour6 explained{kHoa6, v.mac, kVmIfindex};
  netlink.neighbours6 = {explained,
                         {*Ipv6::parse("2001:db8:1::99"), v.mac, kVmIfindex},    // no visitor has it
                         {kHoa6, *MacAddress::parse("02:00:00:00:09:09"), 99}};  // not our link: left
  delivery->reconcile(visitors);
  EXPECT_EQ(netlink.neighbours6, (std::vector<dataplane::Neighbour6>{
                                     explained, {kHoa6, *MacAddress::parse("02:00:00:00:09:09"), 99}}));
}

TEST_F(DeliveryTest, NeighborSolicitationsForTheHomeLinkAreAnsweredWithTheGatewayMac) {
  make("anycast");
  const Visitor v = dual_stack("vm1");
  delivery->install(v, false);
  const Ipv6 vm_ll = *Ipv6::parse("fe80::5054:ff:fe12:3456");
  // The gateway's link-local address: R = 1, S = 1, O = 1, the anycast MAC, to the VM.
  auto a = delivery->home_ns_answer(v, solicitation(v, vm_ll, kGw6));
  ASSERT_TRUE(a);
  auto na = wire::parse_neighbor_advertisement(*a);
  ASSERT_TRUE(na) << na.error().to_string();
  EXPECT_EQ(na->eth_src, kGwMac);
  EXPECT_EQ(na->target, kGw6);
  EXPECT_EQ(na->dst, vm_ll);
  EXPECT_EQ(na->target_mac, kGwMac);
  EXPECT_TRUE(na->router && na->solicited && na->override_);
  EXPECT_EQ(wire::parse_ethernet(*a)->dst, v.mac);
  // Another global address of the home /64: answered, but not as a router.
  auto other = delivery->home_ns_answer(v, solicitation(v, kHoa6, *Ipv6::parse("2001:db8:1::20")));
  ASSERT_TRUE(other);
  EXPECT_FALSE(wire::parse_neighbor_advertisement(*other)->router);
  // Never: its own address, duplicate address detection, another link-local address.
  EXPECT_FALSE(delivery->home_ns_answer(v, solicitation(v, vm_ll, kHoa6)));
  EXPECT_FALSE(delivery->home_ns_answer(v, solicitation(v, Ipv6(), *Ipv6::parse("2001:db8:1::20"))));
  EXPECT_FALSE(delivery->home_ns_answer(v, solicitation(v, vm_ll, *Ipv6::parse("fe80::99"))));
  // An IPv4-only visitor gets no IPv6 answers.
  EXPECT_FALSE(delivery->home_ns_answer(visitor("v4", 11, 0x57), solicitation(v, vm_ll, kGw6)));
}

TEST_F(DeliveryTest, GarpModeAnswersWithTheVmLinkMacAndAnnouncesTheIpv6Gateway) {
  make("garp");
  const Visitor v = dual_stack("vm1");
  delivery->install(v, true);
  auto a = delivery->home_ns_answer(v, solicitation(v, *Ipv6::parse("fe80::5054:ff:fe12:3456"), kGw6));
  ASSERT_TRUE(a);
  EXPECT_EQ(wire::parse_neighbor_advertisement(*a)->target_mac, kVmLinkMac);
  delivery->resume(v);
  std::size_t nas = 0;
  for (const auto& f : frames)
    if (auto na = wire::parse_neighbor_advertisement(f)) {
      ++nas;
      EXPECT_EQ(na->target, kGw6);
      EXPECT_EQ(na->target_mac, kVmLinkMac);
      EXPECT_TRUE(na->override_);
    }
  EXPECT_EQ(nas, 2u) << "one NA with each gratuitous ARP due at 0 ms";
}

}  // namespace
}  // namespace vmroam::fa
