// Katran-style fixture tables for the tc/eBPF programs (common/dataplane/bpf/): each row is
// {description, program, input frame, expected verdict, expected output frame, counter}, run
// with BPF_PROG_TEST_RUN on the real, verified programs. The outer IPv4 ID is random per
// packet (tunnel.bpf.h): the comparison takes it from the output and checks the checksum.
// A GSO skb that is tunnelled whole cannot be made here (the test run gives an skb a
// gso_size but no GSO type, which bpf_skb_adjust_room refuses); the netns test sends real
// GSO traffic through the programs. Its MTU check (gso_size + headers) is a row below.
//
// Maps (one agent's worth; HA rows look routes up by inner destination, FA rows by source):
//   config   local 192.0.2.1, tunnel MTU 1480, TTL 64, TUN = vmrw1
//   peers    198.51.100.7 IP-in-IP, 198.51.100.9 UDP (port 4434), 203.0.113.5 IP-in-IP
//   routes   10.1.0.10 → .7    10.1.0.11 → .9    10.1.0.12 → 203.0.113.5
//            10.1.0.13 → .7 held                  10.1.0.14 → .7, grace .9
//            10.1.0.15 not routed, grace .7 (the VM came home a moment ago)
//            10.1.0.16 → .7 tapped (the prepare-time recording: copies cloned to the TUN)
//   IPv6     2001:db8:1::10 → 10.1.0.10   2001:db8:1::11 → 10.1.0.11   2001:db8:1::13 → 10.1.0.13
//            (dual-stack VMs' home addresses, RFC 5454: they follow their HoA's route)
// Root (CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN for the namespaces) is needed: skipped without.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <linux/pkt_cls.h>

#include <cstring>
#include <optional>
#include <string>

#include "common/dataplane/ebpf_loader.hpp"
#include "common/dataplane/ebpf_maps.hpp"
#include "tests/unit/dataplane/ebpf_packets.hpp"
#include "tests/unit/dataplane/ebpf_test_env.hpp"

namespace vmroam::dataplane {
namespace {

using test::eth;
using test::icmp6_echo;
using test::icmp_echo;
using test::ip;
using test::Ip;
using test::ip6;
using test::Ip6;
using test::Ip6Addr;
using test::ipv4;
using test::ipv6;
using test::kGatewayMac;
using test::kOurMac;
using test::kSenderMac;
using test::mip_data_header;
using test::mip_data_header6;
using test::operator+;
using test::Packet;
using test::tcp;
using test::udp;

constexpr std::uint32_t kLocal = ip(192, 0, 2, 1);
constexpr std::uint32_t kCoaIpip = ip(198, 51, 100, 7);
constexpr std::uint32_t kCoaUdp = ip(198, 51, 100, 9);
constexpr std::uint32_t kCoaUnresolved = ip(203, 0, 113, 5);
constexpr std::uint32_t kStranger = ip(198, 51, 100, 66);
constexpr std::uint32_t kHoa = ip(10, 1, 0, 10);
constexpr std::uint32_t kHoaUdp = ip(10, 1, 0, 11);
constexpr std::uint32_t kHoaUnresolved = ip(10, 1, 0, 12);
constexpr std::uint32_t kHoaHeld = ip(10, 1, 0, 13);
constexpr std::uint32_t kHoaGrace = ip(10, 1, 0, 14);
constexpr std::uint32_t kHoaHome = ip(10, 1, 0, 15);
constexpr std::uint32_t kHoaTapped = ip(10, 1, 0, 16);
constexpr std::uint32_t kCorrespondent = ip(8, 8, 8, 8);
constexpr unsigned kPeerUdpPort = 4434;
const Ip6Addr kHoa6 = ip6("2001:db8:1::10");     // kHoa's VM
const Ip6Addr kHoa6Udp = ip6("2001:db8:1::11");  // kHoaUdp's VM
const Ip6Addr kHoa6Held = ip6("2001:db8:1::13");
const Ip6Addr kNobody6 = ip6("2001:db8:1::99");
const Ip6Addr kCorrespondent6 = ip6("2001:db8:8::1");
const Ip6Addr kFa6 = ip6("2001:db8:ffff::1");  // the test netns's own address (ebpf_test_env.hpp)

struct Fixture {
  const char* description;
  EbpfProgram program;
  Packet input;
  int verdict;
  std::optional<Packet> output;  // nullopt: the input, unchanged
  std::optional<vmr_counter> counter;
  unsigned gso_size = 0;
  bool random_outer_id = false;  // the output carries an outer header we built
};

// Helpers that say what a row means.
Packet from_sender(const Packet& ip_packet) { return eth(kOurMac, kSenderMac) + ip_packet; }
Packet to_gateway(const Packet& ip_packet) { return eth(kGatewayMac, kOurMac) + ip_packet; }
Packet ipip(std::uint32_t src, std::uint32_t dst, const Packet& inner, unsigned tos = 0,
            unsigned df = 0x4000) {
  return ipv4({.src = src, .dst = dst, .proto = 4, .ttl = 64, .tos = tos, .frag = df, .id = 0}, inner);
}
Packet udp_tunnel(std::uint32_t src, std::uint32_t dst, unsigned sport, unsigned dport, const Packet& inner,
                  unsigned df = 0x4000) {
  return ipv4({.src = src, .dst = dst, .proto = 17, .ttl = 64, .frag = df, .id = 0},
              udp(sport, dport, mip_data_header() + inner));
}
Packet ping(std::uint32_t src, std::uint32_t dst, unsigned ttl = 64, unsigned tos = 0, unsigned frag = 0x4000,
            std::size_t data = 16) {
  return ipv4({.src = src, .dst = dst, .proto = 1, .ttl = ttl, .tos = tos, .frag = frag}, icmp_echo(data));
}
Packet ping6(const Ip6Addr& src, const Ip6Addr& dst, unsigned hops = 64, unsigned tclass = 0,
             std::size_t data = 16) {
  return ipv6({.src = src, .dst = dst, .next = 58, .hops = hops, .tclass = tclass}, icmp6_echo(data));
}
// IPv6 frames (EtherType 0x86dd) and IPv6 in IPv4 (protocol 41, RFC 4213 §3.5: TOS from the
// Traffic Class, DF clear).
Packet from_sender6(const Packet& ip_packet) { return eth(kOurMac, kSenderMac, 0x86dd) + ip_packet; }
Packet sit(std::uint32_t src, std::uint32_t dst, const Packet& inner, unsigned tos = 0) {
  return ipv4({.src = src, .dst = dst, .proto = 41, .ttl = 64, .tos = tos, .frag = 0, .id = 0}, inner);
}
Packet udp_tunnel6(std::uint32_t src, std::uint32_t dst, unsigned sport, unsigned dport,
                   const Packet& inner) {
  return ipv4({.src = src, .dst = dst, .proto = 17, .ttl = 64, .frag = 0, .id = 0},
              udp(sport, dport, mip_data_header6() + inner));
}
Ipv6 addr6(const Ip6Addr& a) { return Ipv6(a); }

class EbpfFixtureTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!test::EbpfTestEnv::prepare().empty()) return;
    auto loaded = EbpfObject::load({test::EbpfTestEnv::bpffs(), test::EbpfTestEnv::bpffs() + "/fixtures"});
    if (!loaded) {
      load_error_ = new std::string(loaded.error().to_string());
      return;
    }
    object_ = loaded.value().release();
    maps_ = new EbpfMaps(*object_);
    ASSERT_TRUE(maps_->set_config({Ipv4(kLocal), test::EbpfTestEnv::other_ifindex(), 1480, 64}));
    ASSERT_TRUE(maps_->put_peer({Ipv4(kCoaIpip), VMR_ENCAP_IPIP, 434}));
    ASSERT_TRUE(maps_->put_peer({Ipv4(kCoaUdp), VMR_ENCAP_UDP, kPeerUdpPort}));
    ASSERT_TRUE(maps_->put_peer({Ipv4(kCoaUnresolved), VMR_ENCAP_IPIP, 434}));
    ASSERT_TRUE(maps_->put_route({Ipv4(kHoa), Ipv4(kCoaIpip), {}, false}));
    ASSERT_TRUE(maps_->put_route({Ipv4(kHoaUdp), Ipv4(kCoaUdp), {}, false}));
    ASSERT_TRUE(maps_->put_route({Ipv4(kHoaUnresolved), Ipv4(kCoaUnresolved), {}, false}));
    ASSERT_TRUE(maps_->put_route({Ipv4(kHoaHeld), Ipv4(kCoaIpip), {}, true}));
    ASSERT_TRUE(maps_->put_route({Ipv4(kHoaGrace), Ipv4(kCoaIpip), Ipv4(kCoaUdp), false}));
    ASSERT_TRUE(maps_->put_route({Ipv4(kHoaHome), Ipv4(0), Ipv4(kCoaIpip), false}));
    ASSERT_TRUE(maps_->put_route({Ipv4(kHoaTapped), Ipv4(kCoaIpip), {}, false, true}));
    ASSERT_TRUE(maps_->put_address6(addr6(kHoa6), Ipv4(kHoa)));
    ASSERT_TRUE(maps_->put_address6(addr6(kHoa6Udp), Ipv4(kHoaUdp)));
    ASSERT_TRUE(maps_->put_address6(addr6(kHoa6Held), Ipv4(kHoaHeld)));
  }
  static void TearDownTestSuite() {
    delete maps_;
    delete object_;
    delete load_error_;
  }
  void SetUp() override {
    VMROAM_REQUIRE_EBPF_ENV();
    if (load_error_ != nullptr) GTEST_SKIP() << "SKIP: " << *load_error_;
  }

  struct Run {
    int verdict = -1;
    Packet output;
    std::uint32_t mark = 0;  // skb->mark as the program left it
  };
  static Run run(EbpfProgram program, const Packet& input, unsigned gso_size = 0) {
    Run r;
    r.output.resize(input.size() + 256);
    __sk_buff ctx{};
    ctx.ifindex = static_cast<__u32>(test::EbpfTestEnv::wan_ifindex());
    ctx.gso_size = gso_size;
    ctx.gso_segs = gso_size ? 2 : 0;
    bpf_test_run_opts opts{};
    opts.sz = sizeof opts;
    opts.data_in = input.data();
    opts.data_size_in = static_cast<__u32>(input.size());
    opts.data_out = r.output.data();
    opts.data_size_out = static_cast<__u32>(r.output.size());
    opts.ctx_in = &ctx;
    opts.ctx_size_in = sizeof ctx;
    __sk_buff ctx_out{};
    opts.ctx_out = &ctx_out;
    opts.ctx_size_out = sizeof ctx_out;
    opts.repeat = 1;
    int rc = bpf_prog_test_run_opts(object_->program_fd(program), &opts);
    EXPECT_EQ(rc, 0) << "BPF_PROG_TEST_RUN: " << std::strerror(errno);
    r.verdict = static_cast<int>(opts.retval);
    r.mark = ctx_out.mark;
    r.output.resize(opts.data_size_out);
    return r;
  }

  void check(const Fixture& f) {
    SCOPED_TRACE(f.description);
    EbpfCounters before = maps_->counters();
    Run r = run(f.program, f.input, f.gso_size);
    EXPECT_EQ(r.verdict, f.verdict);
    Packet expected = f.output.value_or(f.input);
    if (f.random_outer_id && r.output.size() >= 34 && expected.size() >= 34) {
      // The ID is ours to choose; everything else is fixed, and the checksum must match it.
      expected[18] = r.output[18];
      expected[19] = r.output[19];
      test::put16(expected, 24, 0);
      test::put16(expected, 24, test::ip_checksum(expected, 14));
    }
    EXPECT_EQ(r.output.size(), expected.size());
    EXPECT_TRUE(r.output == expected) << "got\n"
                                      << test::hex(r.output) << "\nexpected\n"
                                      << test::hex(expected);
    EbpfCounters after = maps_->counters();
    for (std::uint32_t c = 0; c < VMR_COUNTER_MAX; ++c) {
      auto counter = static_cast<vmr_counter>(c);
      std::uint64_t want = f.counter == counter ? 1 : 0;
      EXPECT_EQ(after[c] - before[c], want) << "counter " << counter_name(counter);
    }
  }

  static EbpfObject* object_;
  static EbpfMaps* maps_;
  static std::string* load_error_;
};
EbpfObject* EbpfFixtureTest::object_ = nullptr;
EbpfMaps* EbpfFixtureTest::maps_ = nullptr;
std::string* EbpfFixtureTest::load_error_ = nullptr;

TEST_F(EbpfFixtureTest, HomeAgentEncapsulation) {
  const Fixture fixtures[] = {
      {"IP-in-IP to the care-of address: TOS and DF copied, inner TTL decremented (RFC 2003 §3.1)",
       EbpfProgram::ha_home_in, from_sender(ping(kCorrespondent, kHoa, 64, 0x10)), TC_ACT_REDIRECT,
       to_gateway(ipip(kLocal, kCoaIpip, ping(kCorrespondent, kHoa, 63, 0x10), 0x10)), std::nullopt, 0, true},
      {"RFC 3519 UDP to the peer's port, checksum 0, data header 04 04 00 00", EbpfProgram::ha_home_in,
       from_sender(ping(kCorrespondent, kHoaUdp)), TC_ACT_REDIRECT,
       to_gateway(udp_tunnel(kLocal, kCoaUdp, 434, kPeerUdpPort, ping(kCorrespondent, kHoaUdp, 63))),
       std::nullopt, 0, true},
      {"correspondent on the WAN side: tunnelled from WAN ingress too", EbpfProgram::ha_wan_in,
       from_sender(ping(kCorrespondent, kHoa)), TC_ACT_REDIRECT,
       to_gateway(ipip(kLocal, kCoaIpip, ping(kCorrespondent, kHoa, 63))), std::nullopt, 0, true},
      {"next hop without a neighbour entry: bpf_redirect_neigh, MACs left to it", EbpfProgram::ha_home_in,
       from_sender(ping(kCorrespondent, kHoaUnresolved)), TC_ACT_REDIRECT,
       from_sender(ipip(kLocal, kCoaUnresolved, ping(kCorrespondent, kHoaUnresolved, 63))), VMR_NO_NEIGH, 0,
       true},
      {"inner fragment (MF, DF clear): tunnelled as it is, outer DF clear", EbpfProgram::ha_home_in,
       from_sender(ping(kCorrespondent, kHoa, 64, 0, 0x2000)), TC_ACT_REDIRECT,
       to_gateway(ipip(kLocal, kCoaIpip, ping(kCorrespondent, kHoa, 63, 0, 0x2000), 0, 0)), std::nullopt, 0,
       true},
      {"tapped HoA: tunnelled as usual, and a copy cloned to the TUN for the recording",
       EbpfProgram::ha_home_in, from_sender(ping(kCorrespondent, kHoaTapped)), TC_ACT_REDIRECT,
       to_gateway(ipip(kLocal, kCoaIpip, ping(kCorrespondent, kHoaTapped, 63))), VMR_TAPPED, 0, true},
      {"held HoA: redirected to the TUN, unchanged", EbpfProgram::ha_home_in,
       from_sender(ping(kCorrespondent, kHoaHeld)), TC_ACT_REDIRECT, std::nullopt, VMR_PASS_HELD},
      {"TTL 1: left to the kernel (Time Exceeded)", EbpfProgram::ha_home_in,
       from_sender(ping(kCorrespondent, kHoa, 1)), TC_ACT_OK, std::nullopt, VMR_PASS_TTL},
      {"too big with DF: left to the kernel (Fragmentation Needed with the TUN's MTU)",
       EbpfProgram::ha_home_in, from_sender(ping(kCorrespondent, kHoa, 64, 0, 0x4000, 1500 - 28)), TC_ACT_OK,
       std::nullopt, VMR_PASS_TOO_BIG},
      {"too big without DF: left to the kernel (it fragments into the TUN)", EbpfProgram::ha_home_in,
       from_sender(ping(kCorrespondent, kHoa, 64, 0, 0, 1500 - 28)), TC_ACT_OK, std::nullopt,
       VMR_PASS_TOO_BIG},
      {"GSO segments over the tunnel MTU: left to the kernel", EbpfProgram::ha_home_in,
       from_sender(ipv4({.src = kCorrespondent, .dst = kHoa, .proto = 6}, tcp(2 * 1460))), TC_ACT_OK,
       std::nullopt, VMR_PASS_TOO_BIG, 1460},
      {"not a HoA away from home: untouched", EbpfProgram::ha_home_in,
       from_sender(ping(kCorrespondent, ip(10, 1, 0, 99))), TC_ACT_OK, std::nullopt, std::nullopt},
      {"HoA back home, still in its grace: untouched (delivered on the home link)", EbpfProgram::ha_home_in,
       from_sender(ping(kCorrespondent, kHoaHome)), TC_ACT_OK, std::nullopt, std::nullopt},
      {"not IPv4 (ARP): untouched", EbpfProgram::ha_home_in, eth(kOurMac, kSenderMac, 0x0806) + Packet(28, 1),
       TC_ACT_OK, std::nullopt, std::nullopt},
  };
  for (const auto& f : fixtures) check(f);
}

// A held packet passes two programs: the link's, which redirects it to the TUN, and the TUN's
// egress on its way into the agent's queue. It is counted once, at the redirect; the mark
// tells the TUN's program so (it clears it; the netns test ebpf_tunnel.sh counts end to end).
TEST_F(EbpfFixtureTest, HeldPacketIsMarkedForTheTunsProgram) {
  Run held = run(EbpfProgram::ha_home_in, from_sender(ping(kCorrespondent, kHoaHeld)));
  EXPECT_EQ(held.verdict, TC_ACT_REDIRECT);
  EXPECT_EQ(held.mark, VMR_HELD_MARK);
  Run held6 = run(EbpfProgram::ha_wan_in, from_sender6(ping6(kCorrespondent6, kHoa6Held)));
  EXPECT_EQ(held6.verdict, TC_ACT_REDIRECT);
  EXPECT_EQ(held6.mark, VMR_HELD_MARK);
  Run tunnelled = run(EbpfProgram::ha_home_in, from_sender(ping(kCorrespondent, kHoa)));
  EXPECT_EQ(tunnelled.verdict, TC_ACT_REDIRECT);
  EXPECT_EQ(tunnelled.mark, 0u);
}

TEST_F(EbpfFixtureTest, HomeAgentDecapsulation) {
  const Packet reverse = ping(kHoa, kCorrespondent);
  const Fixture fixtures[] = {
      {"reverse-tunnelled IP-in-IP from the binding's CoA: decapsulated for the kernel to route",
       EbpfProgram::ha_wan_in, from_sender(ipip(kCoaIpip, kLocal, reverse)), TC_ACT_OK, from_sender(reverse),
       std::nullopt},
      {"reverse-tunnelled RFC 3519 UDP: decapsulated", EbpfProgram::ha_wan_in,
       from_sender(udp_tunnel(kCoaUdp, kLocal, kPeerUdpPort, 434, ping(kHoaUdp, kCorrespondent))), TC_ACT_OK,
       from_sender(ping(kHoaUdp, kCorrespondent)), std::nullopt},
      {"from the previous CoA during the handover grace: accepted", EbpfProgram::ha_wan_in,
       from_sender(udp_tunnel(kCoaUdp, kLocal, kPeerUdpPort, 434, ping(kHoaGrace, kCorrespondent))),
       TC_ACT_OK, from_sender(ping(kHoaGrace, kCorrespondent)), std::nullopt},
      {"from the last CoA of a HoA back home, during its grace: accepted", EbpfProgram::ha_wan_in,
       from_sender(ipip(kCoaIpip, kLocal, ping(kHoaHome, kCorrespondent))), TC_ACT_OK,
       from_sender(ping(kHoaHome, kCorrespondent)), std::nullopt},
      {"unknown peer: dropped", EbpfProgram::ha_wan_in, from_sender(ipip(kStranger, kLocal, reverse)),
       TC_ACT_SHOT, std::nullopt, VMR_DROP_UNKNOWN_PEER},
      {"foreign inner source (HoA bound to another CoA): dropped", EbpfProgram::ha_wan_in,
       from_sender(ipip(kCoaIpip, kLocal, ping(kHoaUdp, kCorrespondent))), TC_ACT_SHOT, std::nullopt,
       VMR_DROP_PEER_MISMATCH},
      {"inner source that is no HoA at all: dropped", EbpfProgram::ha_wan_in,
       from_sender(ipip(kCoaIpip, kLocal, ping(ip(10, 9, 9, 9), kCorrespondent))), TC_ACT_SHOT, std::nullopt,
       VMR_DROP_PEER_MISMATCH},
      {"inner packet not IPv4: dropped as malformed", EbpfProgram::ha_wan_in,
       from_sender(ipip(kCoaIpip, kLocal, Packet(40, 0x60))), TC_ACT_SHOT, std::nullopt, VMR_DROP_MALFORMED},
      {"RFC 3519 data with an unknown next header: dropped as malformed", EbpfProgram::ha_wan_in,
       from_sender(ipv4({.src = kCoaUdp, .dst = kLocal, .proto = 17},
                        udp(kPeerUdpPort, 434, Packet{4, 41, 0, 0} + reverse))),
       TC_ACT_SHOT, std::nullopt, VMR_DROP_MALFORMED},
      {"outer fragment of an IP-in-IP packet: dropped", EbpfProgram::ha_wan_in,
       from_sender(ipv4({.src = kCoaIpip, .dst = kLocal, .proto = 4, .frag = 0x2000}, reverse)), TC_ACT_SHOT,
       std::nullopt, VMR_DROP_FRAGMENT},
      {"registration request on UDP 434 (type 1): left to the agent's socket", EbpfProgram::ha_wan_in,
       from_sender(
           ipv4({.src = kCoaUdp, .dst = kLocal, .proto = 17}, udp(434, 434, Packet{1} + Packet(23, 0)))),
       TC_ACT_OK, std::nullopt, std::nullopt},
      {"datagrams merged by UDP GRO (outer length covers more than one): left to the agent's socket",
       EbpfProgram::ha_wan_in,
       from_sender(
           ipv4({.src = kCoaUdp, .dst = kLocal, .proto = 17},
                udp(kPeerUdpPort, 434,
                    mip_data_header() + ping(kHoaUdp, kCorrespondent) + udp(kPeerUdpPort, 434, Packet{}) +
                        mip_data_header() + ping(kHoaUdp, kCorrespondent)))),
       TC_ACT_OK, std::nullopt, VMR_PASS_GRO, 1000},
      {"IP-in-IP to another address of ours: not our tunnel, untouched", EbpfProgram::ha_wan_in,
       from_sender(ipip(kCoaIpip, ip(192, 0, 2, 77), reverse)), TC_ACT_OK, std::nullopt, std::nullopt},
  };
  for (const auto& f : fixtures) check(f);
}

TEST_F(EbpfFixtureTest, ForeignAgent) {
  const Packet for_visitor = ping(kCorrespondent, kHoa);
  const Fixture fixtures[] = {
      {"from the visitor's HA: decapsulated for the kernel to deliver", EbpfProgram::fa_wan_in,
       from_sender(ipip(kCoaIpip, kLocal, for_visitor)), TC_ACT_OK, from_sender(for_visitor), std::nullopt},
      {"from another HA than the visitor's: dropped", EbpfProgram::fa_wan_in,
       from_sender(udp_tunnel(kCoaUdp, kLocal, kPeerUdpPort, 434, for_visitor)), TC_ACT_SHOT, std::nullopt,
       VMR_DROP_PEER_MISMATCH},
      {"from an unknown address: dropped", EbpfProgram::fa_wan_in,
       from_sender(ipip(kStranger, kLocal, for_visitor)), TC_ACT_SHOT, std::nullopt, VMR_DROP_UNKNOWN_PEER},
      {"plain traffic on the WAN: untouched", EbpfProgram::fa_wan_in, from_sender(for_visitor), TC_ACT_OK,
       std::nullopt, std::nullopt},
      {"visitor's packet: reverse-tunnelled to its HA (RFC 3024), TTL decremented", EbpfProgram::fa_vm_in,
       from_sender(ping(kHoa, kCorrespondent)), TC_ACT_REDIRECT,
       to_gateway(ipip(kLocal, kCoaIpip, ping(kHoa, kCorrespondent, 63))), std::nullopt, 0, true},
      {"visitor's packet over UDP", EbpfProgram::fa_vm_in, from_sender(ping(kHoaUdp, kCorrespondent)),
       TC_ACT_REDIRECT,
       to_gateway(udp_tunnel(kLocal, kCoaUdp, 434, kPeerUdpPort, ping(kHoaUdp, kCorrespondent, 63))),
       std::nullopt, 0, true},
      {"visitor's packet with TTL 1: left to the kernel", EbpfProgram::fa_vm_in,
       from_sender(ping(kHoa, kCorrespondent, 1)), TC_ACT_OK, std::nullopt, VMR_PASS_TTL},
      {"visitor's packet too big with DF: left to the kernel", EbpfProgram::fa_vm_in,
       from_sender(ping(kHoa, kCorrespondent, 64, 0, 0x4000, 1500 - 28)), TC_ACT_OK, std::nullopt,
       VMR_PASS_TOO_BIG},
      {"visitor to the FA's own address: not tunnelled", EbpfProgram::fa_vm_in,
       from_sender(ping(kHoa, kLocal)), TC_ACT_OK, std::nullopt, VMR_PASS_LOCAL},
      {"visitor's broadcast: not tunnelled", EbpfProgram::fa_vm_in,
       from_sender(ping(kHoa, ip(255, 255, 255, 255))), TC_ACT_OK, std::nullopt, VMR_PASS_LOCAL},
      {"source that is no visitor: untouched", EbpfProgram::fa_vm_in,
       from_sender(ping(ip(10, 1, 0, 99), kCorrespondent)), TC_ACT_OK, std::nullopt, std::nullopt},
  };
  for (const auto& f : fixtures) check(f);
}

TEST_F(EbpfFixtureTest, HomeAgentEncapsulationIpv6) {
  const Fixture fixtures[] = {
      {"IPv6 in IPv4 (protocol 41) to the HoA's care-of address: TOS from the Traffic Class, DF "
       "clear, Hop Limit decremented (RFC 4213 §3.5, §3.2.1)",
       EbpfProgram::ha_home_in, from_sender6(ping6(kCorrespondent6, kHoa6, 64, 0x28)), TC_ACT_REDIRECT,
       to_gateway(sit(kLocal, kCoaIpip, ping6(kCorrespondent6, kHoa6, 63, 0x28), 0x28)), std::nullopt, 0,
       true},
      {"RFC 3519 UDP with Next Header 41 (data header 04 29 00 00)", EbpfProgram::ha_home_in,
       from_sender6(ping6(kCorrespondent6, kHoa6Udp)), TC_ACT_REDIRECT,
       to_gateway(udp_tunnel6(kLocal, kCoaUdp, 434, kPeerUdpPort, ping6(kCorrespondent6, kHoa6Udp, 63))),
       std::nullopt, 0, true},
      {"IPv6 from the WAN side: tunnelled from WAN ingress too", EbpfProgram::ha_wan_in,
       from_sender6(ping6(kCorrespondent6, kHoa6)), TC_ACT_REDIRECT,
       to_gateway(sit(kLocal, kCoaIpip, ping6(kCorrespondent6, kHoa6, 63))), std::nullopt, 0, true},
      {"Hop Limit 1: left to the kernel (ICMPv6 Time Exceeded)", EbpfProgram::ha_home_in,
       from_sender6(ping6(kCorrespondent6, kHoa6, 1)), TC_ACT_OK, std::nullopt, VMR_PASS_TTL},
      {"over the tunnel MTU: left to the kernel (ICMPv6 Packet Too Big with the TUN's MTU)",
       EbpfProgram::ha_home_in, from_sender6(ping6(kCorrespondent6, kHoa6, 64, 0, 1500 - 48)), TC_ACT_OK,
       std::nullopt, VMR_PASS_TOO_BIG},
      {"held HoA's IPv6: redirected to the TUN, unchanged", EbpfProgram::ha_home_in,
       from_sender6(ping6(kCorrespondent6, kHoa6Held)), TC_ACT_REDIRECT, std::nullopt, VMR_PASS_HELD},
      {"IPv6 address of no VM: untouched", EbpfProgram::ha_home_in,
       from_sender6(ping6(kCorrespondent6, kNobody6)), TC_ACT_OK, std::nullopt, std::nullopt},
      {"multicast (neighbour discovery): untouched", EbpfProgram::ha_home_in,
       from_sender6(ping6(kCorrespondent6, ip6("ff02::1:ff00:10"), 255)), TC_ACT_OK, std::nullopt,
       std::nullopt},
  };
  for (const auto& f : fixtures) check(f);
}

TEST_F(EbpfFixtureTest, HomeAgentDecapsulationIpv6) {
  const Packet reverse = ping6(kHoa6, kCorrespondent6);
  const Fixture fixtures[] = {
      {"reverse-tunnelled IPv6 in IPv4 from the binding's CoA: decapsulated, EtherType IPv6, into the TUN",
       EbpfProgram::ha_wan_in, from_sender(sit(kCoaIpip, kLocal, reverse)), TC_ACT_REDIRECT,
       from_sender6(reverse), std::nullopt},
      {"reverse-tunnelled RFC 3519 UDP with Next Header 41: decapsulated", EbpfProgram::ha_wan_in,
       from_sender(udp_tunnel6(kCoaUdp, kLocal, kPeerUdpPort, 434, ping6(kHoa6Udp, kCorrespondent6))),
       TC_ACT_REDIRECT, from_sender6(ping6(kHoa6Udp, kCorrespondent6)), std::nullopt},
      {"foreign inner source (another binding's IPv6 address): dropped (RFC 3024 §4.2)",
       EbpfProgram::ha_wan_in, from_sender(sit(kCoaIpip, kLocal, ping6(kHoa6Udp, kCorrespondent6))),
       TC_ACT_SHOT, std::nullopt, VMR_DROP_PEER_MISMATCH},
      {"inner source that is no VM's IPv6 address: dropped", EbpfProgram::ha_wan_in,
       from_sender(sit(kCoaIpip, kLocal, ping6(kNobody6, kCorrespondent6))), TC_ACT_SHOT, std::nullopt,
       VMR_DROP_PEER_MISMATCH},
      {"protocol 41 from an unknown peer: dropped", EbpfProgram::ha_wan_in,
       from_sender(sit(kStranger, kLocal, reverse)), TC_ACT_SHOT, std::nullopt, VMR_DROP_UNKNOWN_PEER},
      {"protocol 41 carrying no IPv6: dropped as malformed", EbpfProgram::ha_wan_in,
       from_sender(sit(kCoaIpip, kLocal, ping(kHoa, kCorrespondent))), TC_ACT_SHOT, std::nullopt,
       VMR_DROP_MALFORMED},
      {"protocol 41 with an inner length that disagrees with the outer one: malformed",
       EbpfProgram::ha_wan_in, from_sender(sit(kCoaIpip, kLocal, reverse + Packet(8, 0))), TC_ACT_SHOT,
       std::nullopt, VMR_DROP_MALFORMED},
  };
  for (const auto& f : fixtures) check(f);
}

TEST_F(EbpfFixtureTest, ForeignAgentIpv6) {
  const Packet for_visitor = ping6(kCorrespondent6, kHoa6);
  const Fixture fixtures[] = {
      {"IPv6 for a visitor from its HA: decapsulated, into the TUN for the kernel", EbpfProgram::fa_wan_in,
       from_sender(sit(kCoaIpip, kLocal, for_visitor)), TC_ACT_REDIRECT, from_sender6(for_visitor),
       std::nullopt},
      {"IPv6 for a visitor from another HA: dropped", EbpfProgram::fa_wan_in,
       from_sender(udp_tunnel6(kCoaUdp, kLocal, kPeerUdpPort, 434, for_visitor)), TC_ACT_SHOT, std::nullopt,
       VMR_DROP_PEER_MISMATCH},
      {"visitor's IPv6: reverse-tunnelled to its HA in protocol 41, Hop Limit decremented",
       EbpfProgram::fa_vm_in, from_sender6(ping6(kHoa6, kCorrespondent6)), TC_ACT_REDIRECT,
       to_gateway(sit(kLocal, kCoaIpip, ping6(kHoa6, kCorrespondent6, 63))), std::nullopt, 0, true},
      {"visitor's IPv6 over UDP", EbpfProgram::fa_vm_in, from_sender6(ping6(kHoa6Udp, kCorrespondent6)),
       TC_ACT_REDIRECT,
       to_gateway(udp_tunnel6(kLocal, kCoaUdp, 434, kPeerUdpPort, ping6(kHoa6Udp, kCorrespondent6, 63))),
       std::nullopt, 0, true},
      {"visitor's IPv6 with Hop Limit 1: left to the kernel", EbpfProgram::fa_vm_in,
       from_sender6(ping6(kHoa6, kCorrespondent6, 1)), TC_ACT_OK, std::nullopt, VMR_PASS_TTL},
      {"visitor's neighbour solicitation (multicast): not tunnelled", EbpfProgram::fa_vm_in,
       from_sender6(ping6(kHoa6, ip6("ff02::1:ff00:1"), 255)), TC_ACT_OK, std::nullopt, VMR_PASS_LOCAL},
      {"visitor to a link-local address: not tunnelled", EbpfProgram::fa_vm_in,
       from_sender6(ping6(kHoa6, ip6("fe80::1"))), TC_ACT_OK, std::nullopt, VMR_PASS_LOCAL},
      {"visitor to the FA's own IPv6 address: not tunnelled", EbpfProgram::fa_vm_in,
       from_sender6(ping6(kHoa6, kFa6)), TC_ACT_OK, std::nullopt, VMR_PASS_LOCAL},
      {"link-local source (no VM's home address): untouched", EbpfProgram::fa_vm_in,
       from_sender6(ping6(ip6("fe80::5054:ff:fe12:3456"), kCorrespondent6)), TC_ACT_OK, std::nullopt,
       std::nullopt},
  };
  for (const auto& f : fixtures) check(f);
}

TEST_F(EbpfFixtureTest, TrafficCountersPerPeerAndHoa) {
  vmr_traffic peer_before = maps_->peer_traffic(Ipv4(kCoaIpip));
  vmr_traffic hoa_before = maps_->hoa_traffic(Ipv4(kHoa));
  Packet inner = ping(kCorrespondent, kHoa);
  EXPECT_EQ(run(EbpfProgram::ha_home_in, from_sender(inner)).verdict, TC_ACT_REDIRECT);
  Packet reverse = ping(kHoa, kCorrespondent);
  EXPECT_EQ(run(EbpfProgram::ha_wan_in, from_sender(ipip(kCoaIpip, kLocal, reverse))).verdict, TC_ACT_OK);
  vmr_traffic peer = maps_->peer_traffic(Ipv4(kCoaIpip));
  vmr_traffic hoa = maps_->hoa_traffic(Ipv4(kHoa));
  EXPECT_EQ(peer.tx_packets - peer_before.tx_packets, 1u);
  EXPECT_EQ(peer.tx_bytes - peer_before.tx_bytes, inner.size() + 20);
  EXPECT_EQ(peer.rx_packets - peer_before.rx_packets, 1u);
  EXPECT_EQ(peer.rx_bytes - peer_before.rx_bytes, reverse.size());
  EXPECT_EQ(hoa.tx_packets - hoa_before.tx_packets, 1u);
  EXPECT_EQ(hoa.rx_packets - hoa_before.rx_packets, 1u);
}

TEST_F(EbpfFixtureTest, Ipv6CountsUnderItsHoa) {
  vmr_traffic peer_before = maps_->peer_traffic(Ipv4(kCoaIpip));
  vmr_traffic hoa_before = maps_->hoa_traffic(Ipv4(kHoa));
  Packet inner = ping6(kCorrespondent6, kHoa6);
  EXPECT_EQ(run(EbpfProgram::ha_home_in, from_sender6(inner)).verdict, TC_ACT_REDIRECT);
  Packet reverse = ping6(kHoa6, kCorrespondent6);
  EXPECT_EQ(run(EbpfProgram::ha_wan_in, from_sender(sit(kCoaIpip, kLocal, reverse))).verdict,
            TC_ACT_REDIRECT);
  vmr_traffic peer = maps_->peer_traffic(Ipv4(kCoaIpip));
  vmr_traffic hoa = maps_->hoa_traffic(Ipv4(kHoa));
  EXPECT_EQ(peer.tx_packets - peer_before.tx_packets, 1u);
  EXPECT_EQ(hoa.tx_packets - hoa_before.tx_packets, 1u);
  EXPECT_EQ(hoa.tx_bytes - hoa_before.tx_bytes, inner.size() + 20);
  EXPECT_EQ(hoa.rx_packets - hoa_before.rx_packets, 1u);
  EXPECT_EQ(hoa.rx_bytes - hoa_before.rx_bytes, reverse.size());
}

TEST_F(EbpfFixtureTest, UnconfiguredAgentPassesEverything) {
  ASSERT_TRUE(maps_->set_config({Ipv4(0), 0, 1480, 64}));
  Packet frame = from_sender(ping(kCorrespondent, kHoa));
  Run r = run(EbpfProgram::ha_home_in, frame);
  ASSERT_TRUE(maps_->set_config({Ipv4(kLocal), test::EbpfTestEnv::other_ifindex(), 1480, 64}));
  EXPECT_EQ(r.verdict, TC_ACT_OK);
  EXPECT_EQ(test::hex(r.output), test::hex(frame));
}

}  // namespace
}  // namespace vmroam::dataplane
