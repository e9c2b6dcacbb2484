// common/wire/ipip: IP in IP encapsulation and decapsulation (RFC 2003): the outer header's
// fields, rejections, round trips, zero-copy decapsulation; known-good bytes from scapy.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/wire/ipip.hpp"
#include "common/wire/ipv4.hpp"
#include "common/wire/mobile_ip.hpp"
#include "tests/unit/wire/packet_fixtures.hpp"

namespace vmroam::wire {
namespace {

using namespace fixtures;

// ---- IP in IP (RFC 2003) ----------------------------------------------------------------

TEST(Ipip, EncapsulationMatchesScapy) {
  std::uint8_t out[128];
  IpipParams params{ip("192.0.2.1"), ip("203.0.113.9"), 64, 7};
  auto n = ipip_encapsulate(kInner, params, out);
  ASSERT_TRUE(n) << n.error().to_string();
  EXPECT_EQ(to_hex(ByteView(out, *n)), to_hex(kIpip));
}

TEST(Ipip, OuterHeaderFollowsRfc2003) {
  struct Case {
    const char* description;
    std::uint8_t inner_tos;
    bool inner_df;
    std::uint8_t inner_ttl;
    std::uint8_t tunnel_ttl;
  };
  const Case cases[] = {
      {"TOS 0, no DF", 0x00, false, 64, 64},
      {"TOS EF (0xb8) copied, DF copied", 0xb8, true, 64, 64},
      {"ECN bits copied with TOS", 0x03, false, 1, 255},
      {"tunnel TTL independent of inner TTL 1", 0x00, true, 1, 17},
  };
  for (const auto& c : cases) {
    Ipv4Params inner_params{ip("10.1.0.5"), ip("198.51.100.7"), mip::kIpProtoUdp, c.inner_ttl, c.inner_tos,
                            0x1111,         c.inner_df};
    Bytes inner = build_ipv4_packet(inner_params, hex("deadbeef"));
    std::uint8_t out[64];
    auto n = ipip_encapsulate(inner, IpipParams{ip("10.2.0.1"), ip("10.0.0.1"), c.tunnel_ttl, 99}, out);
    ASSERT_TRUE(n) << c.description;
    auto outer = parse_ipv4(ByteView(out, *n));
    ASSERT_TRUE(outer) << c.description << ": " << outer.error().to_string();
    EXPECT_EQ(outer->protocol, mip::kIpProtoIpip) << c.description;
    EXPECT_EQ(outer->tos, c.inner_tos) << c.description;
    EXPECT_EQ(outer->df, c.inner_df) << c.description;
    EXPECT_EQ(outer->ttl, c.tunnel_ttl) << c.description;
    EXPECT_EQ(outer->id, 99) << c.description;
    EXPECT_FALSE(outer->is_fragment()) << c.description;
    EXPECT_EQ(outer->total_length, 20 + inner.size()) << c.description;
    // The inner packet is carried unchanged (its TTL too: the kernel decremented it already).
    EXPECT_EQ(to_hex(ByteView(out + 20, *n - 20)), to_hex(inner)) << c.description;
  }
}

TEST(Ipip, EncapsulationRejections) {
  std::uint8_t out[64];
  IpipParams params{ip("192.0.2.1"), ip("203.0.113.9")};
  auto small = ipip_encapsulate(kInner, params, std::span(out).first(51));
  ASSERT_FALSE(small);
  EXPECT_EQ(small.error().code, "buffer_too_small");
  EXPECT_TRUE(ipip_encapsulate(kInner, params, std::span(out).first(52)));

  auto not_ip = ipip_encapsulate(hex("6000000000000000000000000000000000000000"), params, out);
  ASSERT_FALSE(not_ip);
  EXPECT_EQ(not_ip.error().code, "inner_bad_version");
  auto cut = ipip_encapsulate(ByteView(kInner).first(10), params, out);
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().code, "inner_too_short");

  // An inner packet that would not fit an IPv4 total length once encapsulated.
  // build_ipv4_packet aborts on oversize payloads, so write a 65535-byte header by hand.
  Bytes fake(65535, 0);
  std::copy(kInner.begin(), kInner.begin() + 20, fake.begin());
  fake[2] = 0xff;
  fake[3] = 0xff;
  fix_ipv4_checksum(fake);
  std::vector<std::uint8_t> big_out(70000);
  auto too_big = ipip_encapsulate(fake, params, big_out);
  ASSERT_FALSE(too_big);
  EXPECT_EQ(too_big.error().code, "too_big");
}

TEST(Ipip, LinkPaddingAfterInnerIsNotCarried) {
  Bytes padded = kInner;
  padded.insert(padded.end(), {0, 0, 0, 0, 0, 0});
  std::uint8_t out[128];
  auto n = ipip_encapsulate(padded, IpipParams{ip("192.0.2.1"), ip("203.0.113.9"), 64, 7}, out);
  ASSERT_TRUE(n);
  EXPECT_EQ(to_hex(ByteView(out, *n)), to_hex(kIpip));
}

TEST(Ipip, DecapsulatesScapyPacketWithoutCopying) {
  auto d = ipip_decapsulate(kIpip);
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_EQ(d->outer_src, ip("192.0.2.1"));
  EXPECT_EQ(d->outer_dst, ip("203.0.113.9"));
  EXPECT_EQ(d->inner.data(), kIpip.data() + 20);  // a view into the caller's buffer
  EXPECT_EQ(to_hex(d->inner), to_hex(kInner));
}

TEST(Ipip, RoundTrips) {
  const std::size_t sizes[] = {0, 1, 20, 1380, 1480, 9000};
  for (auto size : sizes) {
    Bytes payload(size);
    for (std::size_t i = 0; i < size; ++i) payload[i] = static_cast<std::uint8_t>(i * 7);
    Bytes inner = build_udp_datagram(ip("10.1.0.5"), 5000, ip("198.51.100.7"), 53, payload, 9);
    Bytes out(inner.size() + kIpipOverhead);
    auto n = ipip_encapsulate(inner, IpipParams{ip("10.2.0.1"), ip("10.0.0.1"), 64, 1}, out);
    ASSERT_TRUE(n) << size;
    auto d = ipip_decapsulate(ByteView(out).first(*n));
    ASSERT_TRUE(d) << size << ": " << d.error().to_string();
    EXPECT_EQ(d->outer_src, ip("10.2.0.1"));
    EXPECT_EQ(d->outer_dst, ip("10.0.0.1"));
    EXPECT_TRUE(std::equal(d->inner.begin(), d->inner.end(), inner.begin(), inner.end())) << size;
    auto udp = parse_udp_datagram(d->inner);
    ASSERT_TRUE(udp) << size;
    EXPECT_EQ(udp->payload.size(), size);
  }
}

TEST(Ipip, DecapsulationRejections) {
  struct Case {
    const char* description;
    Bytes input;
    std::string_view expected;
  };
  const Ipv4Params outer{ip("10.0.0.1"), ip("10.2.0.1"), mip::kIpProtoIpip};
  auto wrap = [&](ByteView inner) { return build_ipv4_packet(outer, inner); };
  Bytes inner_bad_checksum = kInner;
  inner_bad_checksum[11] ^= 1;
  Bytes inner_short_total = kInner;  // claims 28 bytes, carries 32
  inner_short_total[3] = 28;
  fix_ipv4_checksum(inner_short_total);
  Bytes inner_long_total = kInner;  // claims 36 bytes, carries 32
  inner_long_total[3] = 36;
  fix_ipv4_checksum(inner_long_total);
  Bytes fragment = wrap(kInner);
  fragment[6] = 0x20;  // MF
  fix_ipv4_checksum(fragment);
  Bytes outer_bad = kIpip;
  outer_bad[8] = 1;  // TTL changed, checksum stale
  Bytes from_self =
      wrap(build_ipv4_packet(Ipv4Params{ip("10.2.0.1"), ip("10.1.0.5"), mip::kIpProtoUdp}, hex("00")));
  const Case cases[] = {
      {"outer truncated", Bytes(kIpip.begin(), kIpip.begin() + 12), "truncated"},
      {"outer bad checksum", outer_bad, "bad_checksum"},
      {"UDP, not IP in IP", kUdp, "wrong_protocol"},
      {"outer fragment", fragment, "fragment"},
      {"no inner at all", wrap({}), "inner_too_short"},
      {"inner of 19 bytes", wrap(ByteView(kInner).first(19)), "inner_too_short"},
      {"inner IPv6", wrap(hex("60000000000000000000000000000000000000000000")), "inner_bad_version"},
      {"inner IHL 3",
       [&] {
         Bytes b = kInner;
         b[0] = 0x43;
         return wrap(b);
       }(),
       "inner_bad_ihl"},
      {"inner bad checksum", wrap(inner_bad_checksum), "inner_bad_checksum"},
      {"inner shorter than outer payload", wrap(inner_short_total), "inner_length_mismatch"},
      {"inner longer than outer payload", wrap(inner_long_total), "inner_length_mismatch"},
      {"inner source is the tunnel exit", from_self, "inner_source_is_tunnel_endpoint"},
  };
  for (const auto& c : cases) {
    auto r = ipip_decapsulate(c.input);
    ASSERT_FALSE(r) << c.description;
    EXPECT_EQ(r.error().code, c.expected) << c.description << ": " << r.error().to_string();
  }
}

}  // namespace
}  // namespace vmroam::wire

namespace vmroam::wire {
namespace {

using namespace fixtures;

// ---- IPv6 in IPv4 (RFC 4213 §3.5, protocol 41) --------------------------------------------

TEST(SixInFour, EncapsulationMatchesScapy) {
  Bytes out(kInner6.size() + kIpipOverhead);
  auto n = ipv6_in_ipv4_encapsulate(kInner6, IpipParams{ip("192.0.2.1"), ip("203.0.113.9"), 64, 7}, out);
  ASSERT_TRUE(n) << n.error().to_string();
  EXPECT_EQ(to_hex(ByteView(out).first(*n)), to_hex(kSixInFour));  // TOS from the Traffic Class, DF clear
}

TEST(SixInFour, DecapsulatesScapyPacketWithoutCopying) {
  auto d = ipv6_in_ipv4_decapsulate(kSixInFour);
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_EQ(d->outer_src, ip("192.0.2.1"));
  EXPECT_EQ(d->outer_dst, ip("203.0.113.9"));
  EXPECT_EQ(d->inner.data(), kSixInFour.data() + 20);
  EXPECT_EQ(to_hex(d->inner), to_hex(kInner6));
}

TEST(SixInFour, Rejections) {
  Bytes out(256);
  auto v4 = ipv6_in_ipv4_encapsulate(kInner, IpipParams{ip("192.0.2.1"), ip("203.0.113.9"), 64, 7}, out);
  ASSERT_FALSE(v4);
  EXPECT_EQ(v4.error().code, "inner_bad_version");
  auto small = ipv6_in_ipv4_encapsulate(kInner6, IpipParams{ip("192.0.2.1"), ip("203.0.113.9"), 64, 7},
                                        std::span(out).first(40));
  ASSERT_FALSE(small);
  EXPECT_EQ(small.error().code, "buffer_too_small");
  struct Case {
    const char* description;
    Bytes input;
    std::string_view expected;
  };
  const Ipv4Params outer{ip("10.0.0.1"), ip("10.2.0.1"), mip::kIpProtoIpv6};
  auto wrap = [&](ByteView inner) { return build_ipv4_packet(outer, inner); };
  Bytes padded = kInner6;
  padded.push_back(0);
  const Case cases[] = {
      {"IP in IP, not 41", kIpip, "wrong_protocol"},
      {"no inner at all", wrap({}), "inner_too_short"},
      {"inner IPv4", wrap(kInner), "inner_bad_version"},
      {"inner cut short", wrap(ByteView(kInner6).first(50)), "inner_length_mismatch"},
      {"trailing byte after inner", wrap(padded), "inner_length_mismatch"},
  };
  for (const auto& c : cases) {
    auto r = ipv6_in_ipv4_decapsulate(c.input);
    ASSERT_FALSE(r) << c.description;
    EXPECT_EQ(r.error().code, c.expected) << c.description << ": " << r.error().to_string();
  }
}

}  // namespace
}  // namespace vmroam::wire
