// Packet-level wire code: IPv4/UDP/ICMP, IP in IP (RFC 2003), the RFC 3519 tunnel data
// header, Ethernet/ARP/RARP. Table-driven: {description, input bytes, expected}.
//
// Known-good bytes marked "scapy" were produced independently with scapy 2.x under
// /usr/bin/python3, e.g.
//   raw(IP(src="10.1.0.5", dst="192.0.2.1", id=0, flags=0, ttl=64)
//       / UDP(sport=434, dport=434) / Raw(bytes([1,2,3,4,5]))).hex()
// so our checksums are compared against another implementation, not against themselves.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/core/hex.hpp"
#include "common/wire/ethernet.hpp"
#include "common/wire/ipip.hpp"
#include "common/wire/ipv4.hpp"
#include "common/wire/mobile_ip.hpp"
#include "common/wire/udp_tunnel.hpp"

namespace vmroam::wire {
namespace {

Bytes hex(std::string_view s) {
  std::string clean;
  for (char c : s) {
    if (c != ' ' && c != '\n') clean += c;
  }
  auto b = from_hex(clean);
  if (!b) std::abort();
  return *b;
}

Ipv4 ip(std::string_view s) { return *Ipv4::parse(s); }
MacAddress mac(std::string_view s) { return *MacAddress::parse(s); }

// scapy: UDP 10.1.0.5:434 -> 192.0.2.1:434, payload 01..05, id 0, TTL 64.
const Bytes kUdp = hex("45000021000000004011aec50a010005c000020101b201b2000d27630102030405");
// scapy: ICMP echo 198.51.100.7 -> 10.1.0.5, TOS 0x10, DF, TTL 63, id 0x4242, "ping".
const Bytes kInner = hex("45100020424240003f01c54ac63364070a0100050800192d0001000170696e67");
// scapy: kInner in IP-in-IP 192.0.2.1 -> 203.0.113.9, id 7, TTL 64, TOS and DF copied.
const Bytes kIpip =
    hex("451000340007400040043ca4c0000201cb007109"
        "45100020424240003f01c54ac63364070a0100050800192d0001000170696e67");

// Rewrites the header checksum after a test mutates a header field.
void fix_ipv4_checksum(Bytes& p, std::size_t at = 0) {
  std::size_t ihl = static_cast<std::size_t>(p[at] & 0x0f) * 4;
  p[at + 10] = 0;
  p[at + 11] = 0;
  auto c = internet_checksum(ByteView(p).subspan(at, ihl));
  p[at + 10] = static_cast<std::uint8_t>(c >> 8);
  p[at + 11] = static_cast<std::uint8_t>(c);
}

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
  };
  for (const auto& c : cases) {
    auto r = udp_tunnel_decapsulate(c.input);
    ASSERT_FALSE(r) << c.description;
    EXPECT_EQ(r.error().code, c.expected) << c.description << ": " << r.error().to_string();
  }
}

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
  // REFERENCE.md 4.5: broadcast, src VM MAC, 0x8035; htype 1, ptype 0x0800, 6, 4, op 3;
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
