// Unit tests for the data plane's pure parts: TunnelTable (lookup, anti-spoof, drop reasons,
// counters), Steering and Owned<T> against FakeNetlink, Sysctl on a scratch directory.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/dataplane/steering.hpp"
#include "common/dataplane/sysctl.hpp"
#include "common/dataplane/tunnel_table.hpp"
#include "common/wire/ipip.hpp"
#include "common/wire/ipv4.hpp"
#include "common/wire/udp_tunnel.hpp"
#include "tests/fakes/fake_netlink.hpp"
#include "tests/fakes/fake_tunnel_driver.hpp"

namespace vmroam::dataplane {
namespace {

Ipv4 ip(const char* s) { return *Ipv4::parse(s); }

const Ipv4 kLocal = ip("192.0.2.1");
const Ipv4 kCoa = ip("198.51.100.7");
const Ipv4 kOtherCoa = ip("198.51.100.8");
const Ipv4 kHoa = ip("10.1.0.10");
const Ipv4 kCorrespondent = ip("203.0.113.5");

Bytes packet(Ipv4 src, Ipv4 dst, std::uint8_t tos = 0, bool df = false) {
  const std::uint8_t payload[] = {8, 0, 0, 0, 0, 1, 0, 1};
  return wire::build_ipv4_packet(wire::Ipv4Params{src, dst, 1, 63, tos, 7, df}, ByteView(payload));
}

Bytes ipip(Ipv4 outer_src, Ipv4 outer_dst, const Bytes& inner) {
  Bytes out(inner.size() + 20);
  auto n = wire::ipip_encapsulate(inner, wire::IpipParams{outer_src, outer_dst, 64, 1}, out);
  EXPECT_TRUE(n);
  out.resize(*n);
  return out;
}

Bytes udp_payload(const Bytes& inner) {
  Bytes out(inner.size() + 4);
  auto n = wire::udp_tunnel_encapsulate(inner, out);
  EXPECT_TRUE(n);
  out.resize(*n);
  return out;
}

TunnelTable ha_table() {
  TunnelTable t(LookupKey::destination, kLocal, 64);
  EXPECT_TRUE(t.add_endpoint({kCoa, Encapsulation::ipip, 434}));
  EXPECT_TRUE(t.add_endpoint({kOtherCoa, Encapsulation::udp, 40000}));
  EXPECT_TRUE(t.route(kHoa, kCoa));
  return t;
}

TEST(TunnelTable, OutboundLooksUpTheKeyAndEncapsulatesPerEndpoint) {
  struct Case {
    const char* description;
    LookupKey key;
    Bytes inner;
    Ipv4 route_to;
    const char* expected_error;  // nullptr: success
    Ipv4 expected_peer;
    Encapsulation expected_encap;
  };
  const Case cases[] = {
      {"HA: inner dst is a routed HoA → its CoA over IP-in-IP", LookupKey::destination,
       packet(kCorrespondent, kHoa), kCoa, nullptr, kCoa, Encapsulation::ipip},
      {"HA: routed to a UDP endpoint → RFC 3519 payload", LookupKey::destination,
       packet(kCorrespondent, kHoa), kOtherCoa, nullptr, kOtherCoa, Encapsulation::udp},
      {"HA: unknown destination → no_route",
       LookupKey::destination,
       packet(kCorrespondent, ip("10.1.0.11")),
       kCoa,
       "no_route",
       {},
       {}},
      {"FA: inner source is a visitor → its HA (reverse tunnel)", LookupKey::source,
       packet(kHoa, kCorrespondent), kCoa, nullptr, kCoa, Encapsulation::ipip},
      {"FA: destination-only match does not count",
       LookupKey::source,
       packet(kCorrespondent, kHoa),
       kCoa,
       "no_route",
       {},
       {}},
      {"garbage from the TUN → malformed",
       LookupKey::destination,
       Bytes{0x45, 0, 0},
       kCoa,
       "malformed",
       {},
       {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    TunnelTable t(c.key, kLocal, 64);
    ASSERT_TRUE(t.add_endpoint({kCoa, Encapsulation::ipip, 434}));
    ASSERT_TRUE(t.add_endpoint({kOtherCoa, Encapsulation::udp, 40000}));
    ASSERT_TRUE(t.route(kHoa, c.route_to));
    std::array<std::uint8_t, 2048> out{};
    auto r = t.encapsulate(c.inner, out);
    if (c.expected_error) {
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error().code, c.expected_error);
      std::uint64_t total = 0;
      for (auto d : t.stats().drops) total += d;
      EXPECT_EQ(total, 1u);
      continue;
    }
    ASSERT_TRUE(r);
    EXPECT_EQ(r->endpoint.peer, c.expected_peer);
    EXPECT_EQ(r->endpoint.encapsulation, c.expected_encap);
    const ByteView produced(out.data(), r->size);
    if (c.expected_encap == Encapsulation::ipip) {
      auto d = wire::ipip_decapsulate(produced);
      ASSERT_TRUE(d);
      EXPECT_EQ(d->outer_src, kLocal);
      EXPECT_EQ(d->outer_dst, c.expected_peer);
      EXPECT_TRUE(std::equal(d->inner.begin(), d->inner.end(), c.inner.begin(), c.inner.end()));
    } else {
      EXPECT_EQ(r->endpoint.udp_port, 40000);
      auto inner = wire::udp_tunnel_decapsulate(produced);
      ASSERT_TRUE(inner);
      EXPECT_EQ(inner->size(), c.inner.size());
    }
  }
}

TEST(TunnelTable, OuterHeaderFollowsRfc2003TosDfTtl) {
  TunnelTable t = ha_table();
  std::array<std::uint8_t, 2048> out{};
  auto r = t.encapsulate(packet(kCorrespondent, kHoa, 0xb8, true), out);
  ASSERT_TRUE(r);
  auto outer = wire::parse_ipv4(ByteView(out.data(), r->size));
  ASSERT_TRUE(outer);
  EXPECT_EQ(outer->tos, 0xb8);  // §3.1: TOS copied from the inner header
  EXPECT_TRUE(outer->df);       // §5.1: DF copied
  EXPECT_EQ(outer->ttl, 64);    // configured outer TTL
  EXPECT_EQ(outer->protocol, 4);
}

TEST(TunnelTable, InboundAcceptsOnlyRegisteredPeersAndTheirOwnBindings) {
  struct Case {
    const char* description;
    LookupKey key;
    Bytes outer;
    const char* expected_error;
  };
  const Case cases[] = {
      {"HA: reverse-tunnelled packet from the HoA's CoA", LookupKey::destination,
       ipip(kCoa, kLocal, packet(kHoa, kCorrespondent)), nullptr},
      {"HA: outer source not registered → unknown_peer", LookupKey::destination,
       ipip(ip("198.51.100.99"), kLocal, packet(kHoa, kCorrespondent)), "unknown_peer"},
      {"HA: registered peer spoofing another HoA → peer_mismatch", LookupKey::destination,
       ipip(kOtherCoa, kLocal, packet(kHoa, kCorrespondent)), "peer_mismatch"},
      {"HA: inner source not a binding → peer_mismatch", LookupKey::destination,
       ipip(kCoa, kLocal, packet(ip("10.1.0.99"), kCorrespondent)), "peer_mismatch"},
      {"FA: packet from the visitor's HA to the visitor", LookupKey::source,
       ipip(kCoa, kLocal, packet(kCorrespondent, kHoa)), nullptr},
      {"FA: HA sending to a non-visitor → peer_mismatch", LookupKey::source,
       ipip(kCoa, kLocal, packet(kCorrespondent, ip("10.1.0.99"))), "peer_mismatch"},
      {"truncated outer → malformed", LookupKey::destination, Bytes{0x45, 0, 0, 20}, "malformed"},
      {"not IP-in-IP → malformed", LookupKey::destination, packet(kCoa, kLocal), "malformed"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    TunnelTable t(c.key, kLocal, 64);
    ASSERT_TRUE(t.add_endpoint({kCoa, Encapsulation::ipip, 434}));
    ASSERT_TRUE(t.add_endpoint({kOtherCoa, Encapsulation::ipip, 434}));
    ASSERT_TRUE(t.route(kHoa, kCoa));
    auto r = t.accept_ipip(c.outer);
    if (c.expected_error) {
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error().code, c.expected_error);
      std::uint64_t total = 0;
      for (auto d : t.stats().drops) total += d;
      EXPECT_EQ(total, 1u);
    } else {
      ASSERT_TRUE(r);
      EXPECT_EQ(r->packet.peer, kCoa);
      t.count_delivered(*r);
      EXPECT_EQ(t.stats().peer(kCoa)->rx_packets, 1u);
      EXPECT_EQ(t.stats().peer(kCoa)->rx_bytes, r->inner.size());
    }
  }
}

TEST(TunnelTable, UdpPayloadsAreCheckedLikeIpip) {
  TunnelTable t = ha_table();
  EXPECT_TRUE(t.accept_udp(kCoa, udp_payload(packet(kHoa, kCorrespondent))));
  auto r = t.accept_udp(ip("203.0.113.200"), udp_payload(packet(kHoa, kCorrespondent)));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "unknown_peer");
  auto bad = t.accept_udp(kCoa, Bytes{4, 47, 0, 0});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, "malformed");
  EXPECT_EQ(t.stats().dropped(DropReason::unknown_peer), 1u);
  EXPECT_EQ(t.stats().dropped(DropReason::malformed), 1u);
}

TEST(TunnelTable, AfterAMoveThePreviousPeerIsAcceptedUntilTheGraceEnds) {
  TunnelTable t = ha_table();
  ASSERT_TRUE(t.route(kHoa, kOtherCoa));  // the VM moved on
  EXPECT_TRUE(t.in_grace(kHoa));
  // A reply the old FA had in flight is still welcome; a stranger's is not.
  EXPECT_TRUE(t.accept_ipip(ipip(kCoa, kLocal, packet(kHoa, kCorrespondent))));
  EXPECT_TRUE(t.accept_udp(kOtherCoa, udp_payload(packet(kHoa, kCorrespondent))));
  t.end_grace(kHoa);
  auto r = t.accept_ipip(ipip(kCoa, kLocal, packet(kHoa, kCorrespondent)));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "peer_mismatch");
}

TEST(TunnelTable, PacketsForAnUnroutedHoaAreGivenBackDuringTheGraceOnly) {
  TunnelTable t = ha_table();
  ASSERT_TRUE(t.unroute(kHoa));  // the VM came home
  std::array<std::uint8_t, 2048> out{};
  auto r = t.encapsulate(packet(kCorrespondent, kHoa), out);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "in_grace");
  EXPECT_EQ(t.stats().dropped(DropReason::no_route), 0u) << "not a drop: the driver re-injects it";
  t.end_grace(kHoa);
  r = t.encapsulate(packet(kCorrespondent, kHoa), out);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "no_route");
}

TEST(TunnelTable, ReverseTunnelNeverReinjects) {
  // At the FA a packet from an unrouted visitor must never go back to the kernel: it would
  // leave untunnelled with a home source address (RFC 3024).
  TunnelTable t(LookupKey::source, kLocal, 64);
  ASSERT_TRUE(t.add_endpoint({kCoa, Encapsulation::ipip, 434}));
  ASSERT_TRUE(t.route(kHoa, kCoa));
  ASSERT_TRUE(t.unroute(kHoa));
  std::array<std::uint8_t, 2048> out{};
  auto r = t.encapsulate(packet(kHoa, kCorrespondent), out);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "no_route");
}

TEST(TunnelTable, RemovingAnEndpointRemovesItsRoutesAndCountsAreKept) {
  TunnelTable t = ha_table();
  t.count_sent(kCoa, 100);
  EXPECT_EQ(t.stats().peer(kCoa)->tx_bytes, 100u);
  EXPECT_EQ(t.hoas_of(kCoa), std::vector<Ipv4>{kHoa});
  ASSERT_TRUE(t.remove_endpoint(kCoa));
  std::array<std::uint8_t, 2048> out{};
  auto r = t.encapsulate(packet(kCorrespondent, kHoa), out);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "no_route");
  EXPECT_FALSE(t.route(kHoa, kCoa));  // unknown peer now
  EXPECT_EQ(t.stats().peer(kCoa), nullptr);
}

TEST(TunnelTable, TooSmallBufferIsTooBig) {
  TunnelTable t = ha_table();
  std::array<std::uint8_t, 30> out{};
  auto r = t.encapsulate(packet(kCorrespondent, kHoa), out);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "too_big");
  EXPECT_EQ(to_string(DropReason::too_big), "too_big");
}

// ---- Dual-stack VMs: IPv6 home addresses ride with the HoA (RFC 5454, RFC 4213) ------------

Ipv6 ip6(const char* s) { return *Ipv6::parse(s); }
const Ipv6 kHoa6 = ip6("2001:db8:1::10");
const Ipv6 kCorrespondent6 = ip6("2001:db8:99::5");

Bytes packet6(const Ipv6& src, const Ipv6& dst) {
  Bytes p = {0x60, 0, 0, 0, 0, 8, 58, 63};  // version 6, payload 8, ICMPv6, hop limit 63
  p.insert(p.end(), src.bytes().begin(), src.bytes().end());
  p.insert(p.end(), dst.bytes().begin(), dst.bytes().end());
  p.insert(p.end(), {128, 0, 0, 0, 0, 1, 0, 1});  // echo request
  return p;
}

Bytes six_in_four(Ipv4 outer_src, Ipv4 outer_dst, const Bytes& inner) {
  Bytes out(inner.size() + 20);
  auto n = wire::ipv6_in_ipv4_encapsulate(inner, wire::IpipParams{outer_src, outer_dst, 64, 1}, out);
  EXPECT_TRUE(n);
  out.resize(*n);
  return out;
}

TEST(TunnelTable, Ipv6FollowsItsHoaOutInTheBindingsEncapsulation) {
  TunnelTable t = ha_table();
  EXPECT_TRUE(t.set_home_addresses_v6(kHoa, {kHoa6}).empty());
  EXPECT_EQ(t.owner_of(kHoa6), kHoa);
  std::array<std::uint8_t, 2048> out{};
  // IP-in-IP binding: IPv6-in-IPv4, protocol 41 (RFC 4213 §3.5).
  auto r = t.encapsulate(packet6(kCorrespondent6, kHoa6), out);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->endpoint.peer, kCoa);
  auto outer = wire::parse_ipv4(ByteView(out.data(), r->size));
  ASSERT_TRUE(outer);
  EXPECT_EQ(outer->protocol, 41);
  EXPECT_EQ(outer->dst, kCoa);
  EXPECT_FALSE(outer->df);
  // The VM moves behind a NAT: RFC 3519 UDP with Next Header 41.
  ASSERT_TRUE(t.route(kHoa, kOtherCoa));
  r = t.encapsulate(packet6(kCorrespondent6, kHoa6), out);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->endpoint.peer, kOtherCoa);
  EXPECT_EQ(out[0], 4);
  EXPECT_EQ(out[1], 41);
  // An IPv6 address no binding holds, and the kernel's own multicast (not counted).
  auto stranger = t.encapsulate(packet6(kCorrespondent6, ip6("2001:db8:1::99")), out);
  ASSERT_FALSE(stranger);
  EXPECT_EQ(stranger.error().code, "no_route");
  auto mld = t.encapsulate(packet6(ip6("fe80::1"), ip6("ff02::16")), out);
  ASSERT_FALSE(mld);
  EXPECT_EQ(mld.error().code, "not_tunnelled");
  EXPECT_EQ(t.stats().dropped(DropReason::no_route), 1u);
}

TEST(TunnelTable, ReverseTunnelledIpv6NeedsAnInnerSourceOfThatBinding) {
  TunnelTable t = ha_table();
  (void)t.set_home_addresses_v6(kHoa, {kHoa6});
  (void)t.set_home_addresses_v6(ip("10.1.0.11"), {ip6("2001:db8:1::11")});  // another VM's, not bound
  auto r = t.accept_ipip(six_in_four(kCoa, kLocal, packet6(kHoa6, kCorrespondent6)));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(r->packet.ipv6);
  EXPECT_EQ(r->packet.peer, kCoa);
  // A foreign inner source (RFC 3024 §4.2): not one of this binding's IPv6 home addresses.
  const Ipv6 foreign[] = {ip6("2001:db8:66::1"), ip6("2001:db8:1::11")};
  for (const auto& src : foreign) {
    auto spoof = t.accept_ipip(six_in_four(kCoa, kLocal, packet6(src, kCorrespondent6)));
    ASSERT_FALSE(spoof) << src.to_string();
    EXPECT_EQ(spoof.error().code, "peer_mismatch");
  }
  // The right source from the wrong peer, over UDP.
  auto wrong_peer = t.accept_udp(kOtherCoa, udp_payload(packet6(kHoa6, kCorrespondent6)));
  ASSERT_FALSE(wrong_peer);
  EXPECT_EQ(wrong_peer.error().code, "peer_mismatch");
  EXPECT_EQ(t.stats().dropped(DropReason::peer_mismatch), 3u);
  // The FA's mirror: the HA's packet to the visitor's IPv6 address.
  TunnelTable fa(LookupKey::source, kLocal, 64);
  ASSERT_TRUE(fa.add_endpoint({kCoa, Encapsulation::udp, 434}));
  ASSERT_TRUE(fa.route(kHoa, kCoa));
  (void)fa.set_home_addresses_v6(kHoa, {kHoa6});
  EXPECT_TRUE(fa.accept_udp(kCoa, udp_payload(packet6(kCorrespondent6, kHoa6))));
  EXPECT_FALSE(fa.accept_udp(kCoa, udp_payload(packet6(kCorrespondent6, ip6("2001:db8:1::99")))));
}

TEST(TunnelTable, Ipv6HomeAddressesAreReplacedAndMoveBetweenHoas) {
  TunnelTable t = ha_table();
  const Ipv6 second = ip6("2001:db8:1::20");
  (void)t.set_home_addresses_v6(kHoa, {kHoa6, second});
  EXPECT_EQ(t.set_home_addresses_v6(kHoa, {second}), std::vector<Ipv6>{kHoa6});
  EXPECT_TRUE(t.owner_of(kHoa6).is_zero());
  (void)t.set_home_addresses_v6(ip("10.1.0.11"), {second});  // redefined as another VM's
  EXPECT_EQ(t.owner_of(second), ip("10.1.0.11"));
  EXPECT_TRUE(t.home_addresses_v6(kHoa).empty());
  EXPECT_EQ(t.key_hoa(packet6(kCorrespondent6, second)), ip("10.1.0.11"));
  EXPECT_EQ(t.key_hoa(packet(kCorrespondent, kHoa)), kHoa);
}

TEST(TunnelTable, Ipv6ForAnUnroutedHoaIsGivenBackDuringTheGrace) {
  TunnelTable t = ha_table();
  (void)t.set_home_addresses_v6(kHoa, {kHoa6});
  ASSERT_TRUE(t.unroute(kHoa));
  std::array<std::uint8_t, 2048> out{};
  auto r = t.encapsulate(packet6(kCorrespondent6, kHoa6), out);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "in_grace");
  // And the old FA's in-flight IPv6 is still accepted.
  EXPECT_TRUE(t.accept_ipip(six_in_four(kCoa, kLocal, packet6(kHoa6, kCorrespondent6))));
}

TEST(Steering, Ipv6HomeAddressesAreSteeredLikeTheirHoa) {
  FakeNetlink nl;
  {
    Steering ha(nl, SteeringConfig{LookupKey::destination, kMainTable, "", kRulePriorityBase});
    ASSERT_TRUE(ha.steer6(kHoa6, 7));
    ASSERT_TRUE(ha.steer6(kHoa6, 7));  // idempotent
    ASSERT_EQ(nl.routes6.size(), 1u);
    EXPECT_EQ(nl.routes6[0], (Route6{Ipv6Prefix{kHoa6, 128}, 7, kMainTable}));
    EXPECT_TRUE(ha.steered6(kHoa6));
    ASSERT_TRUE(ha.unsteer6(kHoa6));
    EXPECT_TRUE(nl.routes6.empty());
    EXPECT_FALSE(ha.unsteer6(kHoa6));
    Steering fa(nl, SteeringConfig{LookupKey::source, kDefaultPolicyTable, "vmrbr0", kRulePriorityBase});
    ASSERT_TRUE(fa.steer6(kHoa6, 7));
    ASSERT_EQ(nl.routes6.size(), 1u);  // the IPv6 default route of table 186
    EXPECT_EQ(nl.routes6[0], (Route6{Ipv6Prefix{Ipv6(), 0}, 7, 186}));
    ASSERT_EQ(nl.rules6.size(), 1u);
    EXPECT_EQ(nl.rules6[0], (PolicyRule6{Ipv6Prefix{kHoa6, 128}, "vmrbr0", 186, 1860}));
  }
  EXPECT_TRUE(nl.routes6.empty());  // RAII
  EXPECT_TRUE(nl.rules6.empty());
  EXPECT_TRUE(nl.routes.empty());
}

TEST(Steering, HomeAgentInstallsTaggedHostRoutesAndRemovesThem) {
  FakeNetlink nl;
  {
    Steering s(nl, SteeringConfig{LookupKey::destination, kMainTable, "", kRulePriorityBase});
    ASSERT_TRUE(s.steer(kHoa, 7));
    ASSERT_TRUE(s.steer(kHoa, 7));  // idempotent
    ASSERT_EQ(nl.routes.size(), 1u);
    EXPECT_EQ(nl.routes[0], (Route{Ipv4Prefix{kHoa, 32}, 7, kMainTable}));
    ASSERT_TRUE(s.steer(kHoa, 9));  // moved to another device
    ASSERT_EQ(nl.routes.size(), 1u);
    EXPECT_EQ(nl.routes[0].ifindex, 9);
    ASSERT_TRUE(s.steer(ip("10.1.0.11"), 9));
    ASSERT_TRUE(s.unsteer(kHoa));
    EXPECT_EQ(nl.routes.size(), 1u);
    EXPECT_FALSE(s.unsteer(kHoa));
  }
  EXPECT_TRUE(nl.routes.empty());  // RAII
}

TEST(Steering, ForeignAgentUsesPolicyRulesIntoOneTablePerDevice) {
  FakeNetlink nl;
  {
    Steering s(nl, SteeringConfig{LookupKey::source, kDefaultPolicyTable, "vmrbr0", kRulePriorityBase});
    ASSERT_TRUE(s.steer(kHoa, 7));
    ASSERT_TRUE(s.steer(ip("10.1.0.11"), 7));
    ASSERT_TRUE(s.steer(ip("10.3.0.5"), 8));
    ASSERT_EQ(nl.routes.size(), 2u);
    EXPECT_EQ(nl.routes[0], (Route{Ipv4Prefix{Ipv4(), 0}, 7, 186}));
    EXPECT_EQ(nl.routes[1], (Route{Ipv4Prefix{Ipv4(), 0}, 8, 187}));
    ASSERT_EQ(nl.rules.size(), 3u);
    EXPECT_EQ(nl.rules[0], (PolicyRule{Ipv4Prefix{kHoa, 32}, "vmrbr0", 186, 1860}));
    EXPECT_EQ(nl.rules[2].table, 187u);
  }
  EXPECT_TRUE(nl.routes.empty());
  EXPECT_TRUE(nl.rules.empty());
}

TEST(Steering, FailureLeavesNothingHalfDone) {
  FakeNetlink nl;
  Steering s(nl, SteeringConfig{LookupKey::source, kDefaultPolicyTable, "", kRulePriorityBase});
  nl.fail_next = "add_rule";
  auto r = s.steer(kHoa, 7);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "fake_failure");
  EXPECT_TRUE(nl.rules.empty());
  EXPECT_FALSE(s.steered(kHoa));
}

TEST(Owned, AdoptsExistingReleasesAndRemoves) {
  FakeNetlink nl;
  ProxyNeighbour p{kHoa, 3};
  nl.proxies.push_back(p);  // left by a crashed predecessor
  {
    auto owned = OwnedProxyNeighbour::create(nl, p);  // "exists" → adopted
    ASSERT_TRUE(owned);
    EXPECT_TRUE(owned->owns());
  }
  EXPECT_TRUE(nl.proxies.empty());
  {
    auto owned = OwnedProxyNeighbour::create(nl, p);
    ASSERT_TRUE(owned);
    (void)owned->release();
  }
  EXPECT_EQ(nl.proxies.size(), 1u);  // released: kept in the kernel
}

TEST(Sysctl, RecordsPreviousValuesAndRestoresThem) {
  auto dir = std::filesystem::temp_directory_path() / ("vmroam-sysctl-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "net/ipv4/conf/eth0.100");
  std::ofstream(dir / "net/ipv4/ip_forward") << "0\n";
  std::ofstream(dir / "net/ipv4/conf/eth0.100/rp_filter") << "1\n";
  Sysctl s(dir.string());
  EXPECT_EQ(*s.set("net/ipv4/ip_forward", "1"), "0");
  EXPECT_EQ(*s.set("net/ipv4/conf/eth0.100/rp_filter", "0"), "1");
  EXPECT_EQ(*s.set("net/ipv4/ip_forward", "1"), "1");  // unchanged: not recorded again
  EXPECT_EQ(s.changed().size(), 2u);
  EXPECT_EQ(*s.get("net/ipv4/ip_forward"), "1");
  EXPECT_FALSE(s.set("../etc/passwd", "x"));
  EXPECT_FALSE(s.set("net/ipv4/nonexistent", "1"));
  ASSERT_TRUE(s.restore());
  EXPECT_EQ(*s.get("net/ipv4/ip_forward"), "0");
  EXPECT_EQ(*s.get("net/ipv4/conf/eth0.100/rp_filter"), "1");
  std::filesystem::remove_all(dir);
}

TEST(FakeTunnelDriver, RecordsCallsForTheAgentsTests) {
  FakeTunnelDriver d;
  ASSERT_TRUE(d.add_tunnel_endpoint({kCoa, Encapsulation::udp, 4500}));
  ASSERT_TRUE(d.route(kHoa, kCoa));
  EXPECT_FALSE(d.route(kHoa, kOtherCoa));
  d.fail_next = "unroute";
  EXPECT_FALSE(d.unroute(kHoa));
  ASSERT_TRUE(d.remove_tunnel_endpoint(kCoa));
  EXPECT_TRUE(d.routes.empty());
  EXPECT_EQ(d.calls[0], "add_tunnel_endpoint 198.51.100.7 udp 4500");
  EXPECT_EQ(d.calls[1], "route 10.1.0.10 198.51.100.7");
}

}  // namespace
}  // namespace vmroam::dataplane
