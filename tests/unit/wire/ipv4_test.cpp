// common/wire/ipv4: the Internet checksum (RFC 1071), IPv4 headers (RFC 791), UDP (RFC 768)
// and ICMP (RFC 792). Table-driven: {description, input bytes, expected}; known-good bytes
// from scapy (packet_fixtures.hpp).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/wire/ipv4.hpp"
#include "common/wire/mobile_ip.hpp"
#include "tests/unit/wire/packet_fixtures.hpp"

namespace vmroam::wire {
namespace {

using namespace fixtures;

// ---- Internet checksum ------------------------------------------------------------------

TEST(InternetChecksum, KnownValues) {
  struct Case {
    const char* description;
    Bytes input;
    std::uint32_t initial;
    std::uint16_t expected;
  };
  const Case cases[] = {
      // RFC 1071 §3 worked example: words 0001 f203 f4f5 f6f7 sum to 0xddf2.
      {"RFC 1071 example", hex("0001f203f4f5f6f7"), 0, static_cast<std::uint16_t>(~0xddf2)},
      {"odd length pads a zero byte", hex("0001f203f4f5f6f7ab"), 0,
       static_cast<std::uint16_t>(~(0xddf2 + 0xab00 - 0xffff))},
      {"empty", {}, 0, 0xffff},
      {"initial partial sum is added", hex("0001"), 0x0002, 0xfffc},
      {"scapy header verifies to zero", Bytes(kUdp.begin(), kUdp.begin() + 20), 0, 0},
      {"scapy IPIP outer header verifies to zero", Bytes(kIpip.begin(), kIpip.begin() + 20), 0, 0},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(internet_checksum(c.input, c.initial), c.expected) << c.description;
  }
}

// ---- IPv4 ---------------------------------------------------------------------------------

TEST(Ipv4, ParsesScapyPacket) {
  auto h = parse_ipv4(kInner);
  ASSERT_TRUE(h) << h.error().to_string();
  EXPECT_EQ(h->tos, 0x10);
  EXPECT_EQ(h->total_length, 32);
  EXPECT_EQ(h->id, 0x4242);
  EXPECT_TRUE(h->df);
  EXPECT_FALSE(h->mf);
  EXPECT_EQ(h->fragment_offset, 0);
  EXPECT_EQ(h->ttl, 63);
  EXPECT_EQ(h->protocol, mip::kIpProtoIcmp);
  EXPECT_EQ(h->src, ip("198.51.100.7"));
  EXPECT_EQ(h->dst, ip("10.1.0.5"));
  EXPECT_EQ(h->header_length, 20u);
  EXPECT_EQ(ipv4_payload(kInner, *h).size(), 12u);
}

TEST(Ipv4, OptionsAndPaddingAndFragments) {
  // IHL 6 (one NOP/EOL options word), MF set, offset 0x0abc, buffer padded by 4 bytes.
  Bytes p = hex("4600001c 0001 2abc 4006 0000 0a000001 0a000002 01010100 aabbccdd 00000000");
  fix_ipv4_checksum(p);
  auto h = parse_ipv4(p);
  ASSERT_TRUE(h) << h.error().to_string();
  EXPECT_EQ(h->header_length, 24u);
  EXPECT_TRUE(h->mf);
  EXPECT_FALSE(h->df);
  EXPECT_EQ(h->fragment_offset, 0x0abc);
  EXPECT_TRUE(h->is_fragment());
  ByteView payload = ipv4_payload(p, *h);
  EXPECT_EQ(to_hex(payload), "aabbccdd");  // cut at total length, padding excluded
}

TEST(Ipv4, Rejections) {
  struct Case {
    const char* description;
    Bytes input;
    bool fix_checksum;
    std::string_view expected;
  };
  auto with = [](std::size_t at, std::uint8_t v) {
    Bytes p = kUdp;
    p[at] = v;
    return p;
  };
  const Case cases[] = {
      {"empty", {}, false, "truncated"},
      {"19 bytes", Bytes(kUdp.begin(), kUdp.begin() + 19), false, "truncated"},
      {"version 6", with(0, 0x65), false, "bad_version"},
      {"version 0", with(0, 0x05), false, "bad_version"},
      {"IHL 4", with(0, 0x44), false, "bad_ihl"},
      {"IHL 0", with(0, 0x40), false, "bad_ihl"},
      {"IHL 15 beyond a 33-byte buffer", with(0, 0x4f), false, "truncated"},
      {"total length 19 < header",
       [&] {
         Bytes p = kUdp;
         p[2] = 0;
         p[3] = 19;
         return p;
       }(),
       true, "bad_total_length"},
      {"total length 34 > 33-byte buffer",
       [&] {
         Bytes p = kUdp;
         p[3] = 34;
         return p;
       }(),
       true, "total_length_mismatch"},
      {"total length 0xffff",
       [&] {
         Bytes p = kUdp;
         p[2] = 0xff;
         p[3] = 0xff;
         return p;
       }(),
       true, "total_length_mismatch"},
      {"header checksum off by one", with(11, static_cast<std::uint8_t>(kUdp[11] + 1)), false,
       "bad_checksum"},
      {"TTL changed without checksum", with(8, 63), false, "bad_checksum"},
      {"source changed without checksum", with(12, 11), false, "bad_checksum"},
  };
  for (const auto& c : cases) {
    Bytes input = c.input;
    if (c.fix_checksum) fix_ipv4_checksum(input);
    auto r = parse_ipv4(input);
    ASSERT_FALSE(r) << c.description;
    EXPECT_EQ(r.error().code, c.expected) << c.description << ": " << r.error().to_string();
  }
}

TEST(Ipv4, BuildsHeaderThatParsesBack) {
  Ipv4Params params{ip("10.0.0.1"), ip("10.0.0.2"), 253, 5, 0xb8, 0xbeef, true};
  const std::uint8_t payload[] = {9, 8, 7};
  Bytes p = build_ipv4_packet(params, payload);
  ASSERT_EQ(p.size(), 23u);
  auto h = parse_ipv4(p);
  ASSERT_TRUE(h) << h.error().to_string();
  EXPECT_EQ(h->src, params.src);
  EXPECT_EQ(h->dst, params.dst);
  EXPECT_EQ(h->protocol, 253);
  EXPECT_EQ(h->ttl, 5);
  EXPECT_EQ(h->tos, 0xb8);
  EXPECT_EQ(h->id, 0xbeef);
  EXPECT_TRUE(h->df);
  EXPECT_EQ(to_hex(ipv4_payload(p, *h)), "090807");
}

TEST(Ipv4, WriteHeaderChecksSizes) {
  std::uint8_t small[19];
  auto r = write_ipv4_header(Ipv4Params{}, 0, small);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "buffer_too_small");
  std::uint8_t buf[20];
  auto big = write_ipv4_header(Ipv4Params{}, 65535 - 19, buf);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, "too_big");
  EXPECT_TRUE(write_ipv4_header(Ipv4Params{}, 65535 - 20, buf));
}

// ---- UDP ----------------------------------------------------------------------------------

TEST(Udp, BuildMatchesScapyByteForByte) {
  const std::uint8_t payload[] = {1, 2, 3, 4, 5};
  Bytes p = build_udp_datagram(ip("10.1.0.5"), 434, ip("192.0.2.1"), 434, payload);
  EXPECT_EQ(to_hex(p), to_hex(kUdp));
}

TEST(Udp, WriteIntoFixedBufferNeedsRoom) {
  const std::uint8_t payload[] = {1, 2, 3, 4, 5};
  std::uint8_t buf[33];
  UdpParams params{ip("10.1.0.5"), 434, ip("192.0.2.1"), 434, 64, 0, 0};
  auto n = write_udp_datagram(params, payload, buf);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 33u);
  EXPECT_EQ(to_hex(ByteView(buf)), to_hex(kUdp));
  auto small = write_udp_datagram(params, payload, std::span(buf).first(32));
  ASSERT_FALSE(small);
  EXPECT_EQ(small.error().code, "buffer_too_small");
}

TEST(Udp, ComputedZeroChecksumIsSentAsAllOnes) {
  // Search a payload word that makes the computed checksum 0 (RFC 768: send 0xFFFF).
  for (std::uint32_t w = 0; w <= 0xffff; ++w) {
    const std::uint8_t payload[] = {static_cast<std::uint8_t>(w >> 8), static_cast<std::uint8_t>(w)};
    Bytes p = build_udp_datagram(ip("10.0.0.1"), 1, ip("10.0.0.2"), 2, payload);
    if (p[26] == 0xff && p[27] == 0xff) {
      auto d = parse_udp_datagram(p);
      ASSERT_TRUE(d) << d.error().to_string();
      return;
    }
    ASSERT_FALSE(p[26] == 0 && p[27] == 0) << "checksum 0 sent for word " << w;
  }
  FAIL() << "no payload produced a zero checksum";
}

TEST(Udp, ParsesScapyDatagram) {
  auto d = parse_udp_datagram(kUdp);
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_EQ(d->src_port, 434);
  EXPECT_EQ(d->dst_port, 434);
  EXPECT_EQ(to_hex(d->payload), "0102030405");
  EXPECT_EQ(d->ip.src, ip("10.1.0.5"));
}

TEST(Udp, Rejections) {
  struct Case {
    const char* description;
    Bytes input;
    std::string_view expected;
  };
  auto mutate = [](auto f, bool fix = false) {
    Bytes p = kUdp;
    f(p);
    if (fix) fix_ipv4_checksum(p);
    return p;
  };
  const Case cases[] = {
      {"IP header fault propagates", Bytes(kUdp.begin(), kUdp.begin() + 10), "truncated"},
      {"IP in IP is not UDP", kIpip, "wrong_protocol"},
      {"fragment (MF)", mutate([](Bytes& p) { p[6] = 0x20; }, true), "fragment"},
      {"fragment (offset)", mutate([](Bytes& p) { p[7] = 0x01; }, true), "fragment"},
      {"UDP header cut",
       mutate(
           [](Bytes& p) {
             p.resize(27);
             p[3] = 27;
           },
           true),
       "truncated"},
      {"UDP length 7", mutate([](Bytes& p) { p[25] = 7; }), "bad_udp_length"},
      {"UDP length beyond IP payload", mutate([](Bytes& p) { p[25] = 14; }), "bad_udp_length"},
      {"payload byte flipped", mutate([](Bytes& p) { p[30] ^= 0x40; }), "bad_checksum"},
      {"checksum flipped", mutate([](Bytes& p) { p[27] ^= 0x01; }), "bad_checksum"},
  };
  for (const auto& c : cases) {
    auto r = parse_udp_datagram(c.input);
    ASSERT_FALSE(r) << c.description;
    EXPECT_EQ(r.error().code, c.expected) << c.description << ": " << r.error().to_string();
  }
}

TEST(Udp, ZeroChecksumMeansNotComputed) {
  Bytes p = kUdp;
  p[26] = 0;
  p[27] = 0;
  p[30] ^= 0x40;  // would fail a checksum, but there is none
  auto d = parse_udp_datagram(p);
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_EQ(d->payload[2], 0x43);
}

TEST(Udp, ShorterUdpLengthIgnoresTrailingBytes) {
  // UDP length 12 inside a 13-byte IP payload: the last byte is not part of the datagram.
  Bytes p = build_udp_datagram(ip("10.0.0.1"), 7, ip("10.0.0.2"), 9, hex("a1a2a3a4"));
  p.push_back(0xee);
  p[3] = static_cast<std::uint8_t>(p.size());
  fix_ipv4_checksum(p);
  auto d = parse_udp_datagram(p);
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_EQ(to_hex(d->payload), "a1a2a3a4");
}

// ---- ICMP ---------------------------------------------------------------------------------

TEST(Icmp, BuildParseAndRejections) {
  Bytes echo = build_icmp(8, 0, hex("0001000170696e67"));
  // The same echo request as inside the scapy packet kInner.
  EXPECT_EQ(to_hex(echo), to_hex(ByteView(kInner).subspan(20)));
  auto m = parse_icmp(echo);
  ASSERT_TRUE(m) << m.error().to_string();
  EXPECT_EQ(m->type, 8);
  EXPECT_EQ(m->code, 0);
  EXPECT_EQ(to_hex(m->body), "0001000170696e67");

  auto short_msg = parse_icmp(hex("080000"));
  ASSERT_FALSE(short_msg);
  EXPECT_EQ(short_msg.error().code, "truncated");
  echo[5] ^= 1;
  auto bad = parse_icmp(echo);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, "bad_checksum");
}

}  // namespace
}  // namespace vmroam::wire
