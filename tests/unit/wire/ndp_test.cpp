// common/wire/ndp: unsolicited Neighbor Advertisements (RFC 4861 §4.4, §7.2.6), built by the
// home agent for dual-stack VMs and read by the foreign agent. The expected frame was built
// independently with scapy:
//   Ether(src=MAC, dst='33:33:00:00:00:01') / IPv6(src=T, dst='ff02::1', hlim=255) /
//   ICMPv6ND_NA(R=0, S=0, O=1, tgt=T) / ICMPv6NDOptDstLLAddr(lladdr=MAC)
#include "common/wire/ndp.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/core/hex.hpp"
#include "tests/unit/wire/packet_fixtures.hpp"

namespace vmroam::wire {
namespace {

using fixtures::hex;

const MacAddress kHaMac = *MacAddress::parse("02:00:00:00:01:01");
const Ipv6 kTarget = *Ipv6::parse("2001:db8:1::10");
const std::string kScapyNa =
    "333300000001020000000101 86dd"
    "6000000000203aff 20010db8000100000000000000000010 ff020000000000000000000000000001"
    "8800f80a 20000000 20010db8000100000000000000000010 0201 020000000101";

// `frame` with the byte at `at` set to `value`: one field broken at a time.
Bytes with_byte(Bytes frame, std::size_t at, std::uint8_t value) {
  frame.at(at) = value;
  return frame;
}

// A frame a parser must refuse, with the reason it must give.
struct Refusal {
  const char* description;
  Bytes frame;
  const char* code;
};
template <typename Parse>
void expect_refusals(Parse parse, const std::vector<Refusal>& cases) {
  for (const auto& c : cases) {
    auto r = parse(c.frame);
    ASSERT_FALSE(r) << c.description;
    EXPECT_EQ(r.error().code, c.code) << c.description << ": " << r.error().to_string();
  }
}

TEST(Ndp, UnsolicitedAdvertisementIsWhatScapyBuilds) {
  EXPECT_EQ(to_hex(build_unsolicited_na(kHaMac, kTarget)), to_hex(hex(kScapyNa)));
}

TEST(Ndp, ParsesWhatItBuilds) {
  const MacAddress vm = *MacAddress::parse("52:54:00:12:34:56");
  auto na = parse_neighbor_advertisement(build_unsolicited_na(vm, kTarget));
  ASSERT_TRUE(na) << na.error().to_string();
  EXPECT_EQ(na->eth_src, vm);
  EXPECT_EQ(na->src, kTarget);
  EXPECT_EQ(na->dst.to_string(), "ff02::1");
  EXPECT_FALSE(na->router);
  EXPECT_FALSE(na->solicited);
  EXPECT_TRUE(na->override_);
  EXPECT_EQ(na->target, kTarget);
  ASSERT_TRUE(na->target_mac);
  EXPECT_EQ(*na->target_mac, vm);
}

// A bit or byte changed in the scapy frame, with the reason the parser must give.
TEST(Ndp, RefusesWhatIsNotAnAdvertisement) {
  const Bytes good = hex(kScapyNa);
  auto with = [&](std::size_t at, std::uint8_t value) { return with_byte(good, at, value); };
  expect_refusals(
      parse_neighbor_advertisement,
      {
          {"IPv4 ethertype", with(12, 0x08), "not_ipv6"},
          {"cut inside the IPv6 header", Bytes(good.begin(), good.begin() + 40), "truncated"},
          {"payload length past the frame", with(19, 0x40), "truncated"},
          {"version 4 in the IPv6 header", with(14, 0x40), "bad_version"},
          {"next header UDP", with(20, 17), "not_neighbor_advertisement"},
          {"a Neighbor Solicitation (135)", with(54, 135), "not_neighbor_advertisement"},
          {"hop limit 64 (forwarded, RFC 4861 §7.1.2)", with(21, 64), "bad_hop_limit"},
          {"checksum off by one", with(57, 0x0b), "bad_checksum"},
          // scapy: the same NA with its option's length byte 0 (checksum recomputed by scapy).
          {"zero-length option",
           hex("333300000001020000000101 86dd 6000000000203aff 20010db8000100000000000000000010"
               "ff020000000000000000000000000001 8800f80b 20000000 20010db8000100000000000000000010"
               "0200 020000000101"),
           "bad_option"},
      });
}

TEST(Ndp, AdvertisementWithoutTheOptionHasNoMac) {
  // scapy: ICMPv6ND_NA(R=0, S=1, O=0, tgt=T) without options.
  auto r = parse_neighbor_advertisement(
      hex("333300000001020000000101 86dd 6000000000183aff 20010db8000100000000000000000010"
          "ff020000000000000000000000000001 8800dd14 40000000 20010db8000100000000000000000010"));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(r->solicited);
  EXPECT_FALSE(r->override_);
  EXPECT_FALSE(r->target_mac.has_value());
}

// scapy: the VM's solicitation for its gateway's link-local address, and the FA's answer:
//   Ether(src=VM, dst='33:33:ff:00:00:01') / IPv6(src='fe80::5054:ff:fe12:3456',
//   dst='ff02::1:ff00:1', hlim=255) / ICMPv6ND_NS(tgt='fe80::1') / ICMPv6NDOptSrcLLAddr(lladdr=VM)
//   Ether(src=GW, dst=VM) / IPv6(src='fe80::1', dst='fe80::5054:ff:fe12:3456', hlim=255) /
//   ICMPv6ND_NA(R=1, S=1, O=1, tgt='fe80::1') / ICMPv6NDOptDstLLAddr(lladdr=GW)
const MacAddress kVm = *MacAddress::parse("52:54:00:12:34:56");
const MacAddress kGw = *MacAddress::parse("02:00:00:00:00:01");
const std::string kScapyNs =
    "3333ff000001525400123456 86dd"
    "6000000000203aff fe80000000000000505400fffe123456 ff0200000000000000000001ff000001"
    "87007222 00000000 fe800000000000000000000000000001 0101 525400123456";
const std::string kScapySolicitedNa =
    "525400123456020000000001 86dd"
    "6000000000203aff fe800000000000000000000000000001 fe80000000000000505400fffe123456"
    "88001461 e0000000 fe800000000000000000000000000001 0201 020000000001";

TEST(Ndp, ReadsTheVmsSolicitation) {
  auto ns = parse_neighbor_solicitation(hex(kScapyNs));
  ASSERT_TRUE(ns) << ns.error().to_string();
  EXPECT_EQ(ns->eth_src, kVm);
  EXPECT_EQ(ns->src.to_string(), "fe80::5054:ff:fe12:3456");
  EXPECT_EQ(ns->dst.to_string(), "ff02::1:ff00:1");
  EXPECT_EQ(ns->target.to_string(), "fe80::1");
  EXPECT_EQ(ns->source_mac, kVm);
  // An advertisement is not a solicitation, nor the other way round.
  auto na = parse_neighbor_solicitation(hex(kScapySolicitedNa));
  ASSERT_FALSE(na);
  EXPECT_EQ(na.error().code, "not_neighbor_solicitation");
  auto not_na = parse_neighbor_advertisement(hex(kScapyNs));
  ASSERT_FALSE(not_na);
  EXPECT_EQ(not_na.error().code, "not_neighbor_advertisement");
}

TEST(Ndp, SolicitationRejections) {
  const Bytes good = hex(kScapyNs);
  auto with = [&](std::size_t at, std::uint8_t value) { return with_byte(good, at, value); };
  expect_refusals(parse_neighbor_solicitation,
                  {
                      {"IPv4 frame", with(12, 0x08), "not_ipv6"},
                      {"cut inside the IPv6 header", Bytes(good.begin(), good.begin() + 40), "truncated"},
                      {"hop limit 64", with(21, 64), "bad_hop_limit"},
                      {"checksum off by one", with(57, 0x23), "bad_checksum"},
                  });
}

TEST(Ndp, SolicitedAdvertisementIsWhatScapyBuilds) {
  const NeighborAdvertisement na{kGw,
                                 *Ipv6::parse("fe80::1"),
                                 *Ipv6::parse("fe80::5054:ff:fe12:3456"),
                                 true,
                                 true,
                                 true,
                                 *Ipv6::parse("fe80::1"),
                                 kGw};
  EXPECT_EQ(to_hex(build_neighbor_advertisement(na, kVm)), to_hex(hex(kScapySolicitedNa)));
}

}  // namespace
}  // namespace vmroam::wire
