// common/wire/udp_tunnel: the RFC 3519 §3.3 tunnel data header (type 4, next header 4 or 41) on
// its own and inside a UDP datagram; reserved bits ignored, every malformed header refused.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/wire/ipv4.hpp"
#include "common/wire/mobile_ip.hpp"
#include "common/wire/udp_tunnel.hpp"
#include "tests/unit/wire/packet_fixtures.hpp"

namespace vmroam::wire {
namespace {

using namespace fixtures;

// ---- UDP tunnel data header (RFC 3519 §3.3) ---------------------------------------------

TEST(UdpTunnel, EncapsulatesWithType4NextHeader4) {
  std::uint8_t out[64];
  auto n = udp_tunnel_encapsulate(kInner, out);
  ASSERT_TRUE(n) << n.error().to_string();
  EXPECT_EQ(*n, 4 + kInner.size());
  EXPECT_EQ(to_hex(ByteView(out, *n)), "04040000" + to_hex(kInner));
  auto small = udp_tunnel_encapsulate(kInner, std::span(out).first(35));
  ASSERT_FALSE(small);
  EXPECT_EQ(small.error().code, "buffer_too_small");
  auto bad = udp_tunnel_encapsulate(hex("45"), out);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, "inner_too_short");
}

TEST(UdpTunnel, RoundTripInsideAUdpDatagram) {
  std::uint8_t payload[64];
  auto n = udp_tunnel_encapsulate(kInner, payload);
  ASSERT_TRUE(n);
  Bytes datagram = build_udp_datagram(ip("192.0.2.1"), 434, ip("203.0.113.9"), 434, ByteView(payload, *n));
  auto udp = parse_udp_datagram(datagram);
  ASSERT_TRUE(udp) << udp.error().to_string();
  auto inner = udp_tunnel_decapsulate(udp->payload);
  ASSERT_TRUE(inner) << inner.error().to_string();
  EXPECT_EQ(to_hex(*inner), to_hex(kInner));
  EXPECT_EQ(inner->data(), udp->payload.data() + 4);  // a view, no copy
}

// RFC 3519 §3.3 names the tunnelled packet with an IP protocol number: 41 for IPv6 (RFC 5454).
TEST(UdpTunnel, CarriesIpv6WithNextHeader41) {
  std::uint8_t out[128];
  auto n = udp_tunnel_encapsulate(kInner6, out);
  ASSERT_TRUE(n) << n.error().to_string();
  EXPECT_EQ(to_hex(ByteView(out, *n)), "04290000" + to_hex(kInner6));
  auto inner = udp_tunnel_decapsulate(ByteView(out, *n));
  ASSERT_TRUE(inner) << inner.error().to_string();
  EXPECT_EQ(to_hex(*inner), to_hex(kInner6));
}

TEST(UdpTunnel, ReservedBitsAreIgnored) {
  Bytes p = hex("0404abcd");
  p.insert(p.end(), kInner.begin(), kInner.end());
  auto inner = udp_tunnel_decapsulate(p);
  ASSERT_TRUE(inner) << inner.error().to_string();
  EXPECT_EQ(inner->size(), kInner.size());
}

TEST(UdpTunnel, Rejections) {
  struct Case {
    const char* description;
    Bytes input;
    std::string_view expected;
  };
  auto with_header = [](std::string_view header, ByteView inner) {
    Bytes p = hex(header);
    p.insert(p.end(), inner.begin(), inner.end());
    return p;
  };
  Bytes inner_padded = kInner;
  inner_padded.push_back(0);
  const Case cases[] = {
      {"empty", {}, "truncated"},
      {"3 bytes", hex("040400"), "truncated"},
      {"registration request type 1", with_header("01000000", kInner), "not_tunnel_data"},
      {"registration reply type 3", with_header("03000000", kInner), "not_tunnel_data"},
      {"GRE next header", with_header("042f0000", kInner), "unsupported_next_header"},
      {"minimal encapsulation next header", with_header("04370000", kInner), "unsupported_next_header"},
      {"header only", hex("04040000"), "inner_too_short"},
      {"inner cut short", with_header("04040000", ByteView(kInner).first(25)), "inner_length_mismatch"},
      {"trailing byte after inner", with_header("04040000", inner_padded), "inner_length_mismatch"},
      {"inner not IPv4", with_header("04040000", hex("6000000000000000000000000000000000000000")),
       "inner_bad_version"},
      {"next header 41, inner IPv4", with_header("04290000", kInner), "inner_bad_version"},
      {"next header 41, inner cut short", with_header("04290000", ByteView(kInner6).first(50)),
       "inner_length_mismatch"},
  };
  for (const auto& c : cases) {
    auto r = udp_tunnel_decapsulate(c.input);
    ASSERT_FALSE(r) << c.description;
    EXPECT_EQ(r.error().code, c.expected) << c.description << ": " << r.error().to_string();
  }
}

}  // namespace
}  // namespace vmroam::wire
