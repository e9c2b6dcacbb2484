// common/wire/ethernet: Ethernet II frames (RFC 894, padding to 60 bytes), ARP (RFC 826),
// RARP (RFC 903), the gratuitous ARP of RFC 5944 §4.6 / RFC 5227 §3 and QEMU's RARP
// self-announce (docs/protocol.md, "Ethernet, ARP, RARP").
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/wire/ethernet.hpp"
#include "common/wire/mobile_ip.hpp"
#include "tests/unit/wire/packet_fixtures.hpp"

namespace vmroam::wire {
namespace {

using namespace fixtures;

// ---- Ethernet, ARP, RARP ----------------------------------------------------------------

const MacAddress kVmMac = *MacAddress::parse("52:54:00:12:34:56");

TEST(Ethernet, ParseAndBuild) {
  Bytes f = build_ethernet_frame(kBroadcastMac, kVmMac, mip::kEtherTypeIpv4, kInner);
  EXPECT_EQ(f.size(), kEthernetMinFrameSize);  // 14 + 32 = 46 bytes: padded to 60
  Bytes big = build_ethernet_frame(kBroadcastMac, kVmMac, mip::kEtherTypeIpv4, kIpip);
  EXPECT_EQ(big.size(), 14 + kIpip.size());
  auto e = parse_ethernet(big);
  ASSERT_TRUE(e) << e.error().to_string();
  EXPECT_TRUE(e->dst.is_broadcast());
  EXPECT_EQ(e->src, kVmMac);
  EXPECT_EQ(e->ethertype, mip::kEtherTypeIpv4);
  EXPECT_EQ(to_hex(e->payload), to_hex(kIpip));
}

TEST(Ethernet, ShortPayloadIsPaddedTo60) {
  Bytes f = build_ethernet_frame(kBroadcastMac, kVmMac, mip::kEtherTypeIpv4, hex("4500"));
  ASSERT_EQ(f.size(), kEthernetMinFrameSize);
  EXPECT_EQ(f[14], 0x45);
  for (std::size_t i = 16; i < f.size(); ++i) EXPECT_EQ(f[i], 0) << i;
  std::uint8_t buf[59];
  auto small = write_ethernet_frame(kBroadcastMac, kVmMac, 0x0800, hex("4500"), buf);
  ASSERT_FALSE(small);
  EXPECT_EQ(small.error().code, "buffer_too_small");
}

TEST(Ethernet, Rejections) {
  struct Case {
    const char* description;
    Bytes input;
    std::string_view expected;
  };
  const Case cases[] = {
      {"empty", {}, "truncated"},
      {"13 bytes", hex("ffffffffffff52540012345608"), "truncated"},
      {"802.3 length field", hex("ffffffffffff5254001234560040"), "not_ethernet_ii"},
      {"largest length value 0x05ff", hex("ffffffffffff52540012345605ff"), "not_ethernet_ii"},
  };
  for (const auto& c : cases) {
    auto r = parse_ethernet(c.input);
    ASSERT_FALSE(r) << c.description;
    EXPECT_EQ(r.error().code, c.expected) << c.description;
  }
  EXPECT_TRUE(parse_ethernet(hex("ffffffffffff5254001234560600")));  // header only: empty payload
}

TEST(Rarp, AnnounceIsExactlyQemus) {
  // QEMU (docs/protocol.md): broadcast, src VM MAC, 0x8035; htype 1, ptype 0x0800, 6, 4, op 3;
  // sender hw = VM MAC, sender IP 0, target hw = VM MAC, target IP 0; zero padding to 60.
  const Bytes expected =
      hex("ffffffffffff 525400123456 8035"
          "0001 0800 06 04 0003"
          "525400123456 00000000"
          "525400123456 00000000"
          "000000000000000000000000000000000000");
  ASSERT_EQ(expected.size(), 60u);
  EXPECT_EQ(to_hex(build_rarp_announce(kVmMac)), to_hex(expected));
}

TEST(Arp, GratuitousArpIsABroadcastRequestForItsOwnAddress) {
  const Bytes expected =
      hex("ffffffffffff 525400123456 0806"
          "0001 0800 06 04 0001"
          "525400123456 0a010005"
          "000000000000 0a010005"
          "000000000000000000000000000000000000");
  Bytes f = build_gratuitous_arp(kVmMac, ip("10.1.0.5"));
  EXPECT_EQ(to_hex(f), to_hex(expected));
  auto e = parse_ethernet(f);
  ASSERT_TRUE(e);
  auto a = parse_arp(e->payload);  // padding after the 28-byte body is ignored
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_EQ(a->op, mip::kArpOpRequest);
  EXPECT_EQ(a->sender_ip, a->target_ip);
}

TEST(Arp, RoundTrips) {
  const ArpPacket cases[] = {
      {mip::kArpOpRequest, kVmMac, ip("10.1.0.5"), MacAddress{}, ip("10.1.0.1")},
      {mip::kArpOpReply, mac("02:00:00:00:00:01"), ip("10.1.0.1"), kVmMac, ip("10.1.0.5")},
      {mip::kRarpOpRequest, kVmMac, Ipv4{}, kVmMac, Ipv4{}},
      {mip::kRarpOpReply, mac("02:00:00:00:00:01"), ip("10.2.0.1"), kVmMac, ip("10.1.0.5")},
  };
  for (const auto& arp : cases) {
    const std::uint16_t type = arp.op >= mip::kRarpOpRequest ? mip::kEtherTypeRarp : mip::kEtherTypeArp;
    Bytes f = build_arp_frame(kBroadcastMac, arp.sender_mac, type, arp);
    ASSERT_EQ(f.size(), 60u);
    auto e = parse_ethernet(f);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->ethertype, type);
    auto back = parse_arp(e->payload);
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(*back, arp) << "op " << arp.op;
    EXPECT_EQ(build_arp(*back).size(), kArpBodySize);
  }
}

TEST(Arp, Rejections) {
  struct Case {
    const char* description;
    Bytes input;
    std::string_view expected;
  };
  const std::string good =
      "0001080006040001525400123456"
      "0a010005000000000000"
      "0a010001";
  auto with = [&](std::size_t at, std::string_view repl) {
    std::string s = good;
    s.replace(at * 2, repl.size(), repl);
    return hex(s);
  };
  const Case cases[] = {
      {"27 bytes", hex(std::string_view(good).substr(0, 54)), "truncated"},
      {"empty", {}, "truncated"},
      {"IEEE 802 hardware type 6", with(0, "0006"), "bad_hardware_type"},
      {"IPv6 protocol type", with(2, "86dd"), "bad_protocol_type"},
      {"hardware length 8", with(4, "08"), "bad_address_length"},
      {"protocol length 16", with(5, "10"), "bad_address_length"},
      {"op 0", with(6, "0000"), "unsupported_arp_op"},
      {"InARP request op 8", with(6, "0008"), "unsupported_arp_op"},
  };
  ASSERT_TRUE(parse_arp(hex(good)));
  for (const auto& c : cases) {
    auto r = parse_arp(c.input);
    ASSERT_FALSE(r) << c.description;
    EXPECT_EQ(r.error().code, c.expected) << c.description;
  }
}

}  // namespace
}  // namespace vmroam::wire
