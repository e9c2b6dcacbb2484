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
using test::icmp_echo;
using test::ip;
using test::Ip;
using test::ipv4;
using test::kGatewayMac;
using test::kOurMac;
using test::kSenderMac;
using test::mip_data_header;
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
    opts.repeat = 1;
    int rc = bpf_prog_test_run_opts(object_->program_fd(program), &opts);
    EXPECT_EQ(rc, 0) << "BPF_PROG_TEST_RUN: " << std::strerror(errno);
    r.verdict = static_cast<int>(opts.retval);
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
