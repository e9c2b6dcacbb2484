// Userspace GSO/GRO (common/dataplane/gso.hpp): segmentation of TCP super-packets with every
// header field and checksum checked against the wire parsers, partial-checksum completion,
// and the coalescer (what merges, what does not, and that merge + segment is the identity).
#include "common/dataplane/gso.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/wire/ipv4.hpp"

namespace vmroam::dataplane {
namespace {

constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kPsh = 0x08, kAck = 0x10, kCwr = 0x80;
const Ipv4 kSrc(0x0a080001);  // 10.8.0.1
const Ipv4 kDst(0x0a01000a);  // 10.1.0.10

struct TcpSpec {
  std::uint32_t seq = 1000;
  std::uint8_t flags = kAck;
  std::size_t payload = 100;
  std::size_t options = 12;  // NOP NOP timestamp
  std::uint16_t id = 7;
  std::uint16_t sport = 40000;
  std::uint8_t fill = 0;     // payload byte i = fill + seq offset (so slices are recognisable)
  std::uint32_t tsval = 55;  // in the timestamp option
};

std::uint16_t get16(const Bytes& b, std::size_t at) {
  return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}
std::uint32_t get32(const Bytes& b, std::size_t at) {
  return (std::uint32_t{get16(b, at)} << 16) | get16(b, at + 2);
}

// An IPv4/TCP packet with correct checksums.
Bytes tcp_packet(const TcpSpec& s) {
  const std::size_t tcp_len = 20 + s.options;
  Bytes tcp;
  ByteWriter w(tcp);
  w.u16(s.sport);
  w.u16(5201);
  w.u32(s.seq);
  w.u32(0x12345678);
  w.u8(static_cast<std::uint8_t>((tcp_len / 4) << 4));
  w.u8(s.flags);
  w.u16(501);
  w.u16(0);  // checksum, patched below
  w.u16(0);  // urgent pointer
  if (s.options == 12) {
    w.bytes(Bytes{1, 1, 8, 10});
    w.u32(s.tsval);
    w.u32(0);
  }
  for (std::size_t i = 0; i < s.payload; ++i) w.u8(static_cast<std::uint8_t>(s.fill + s.seq + i));
  const auto len = static_cast<std::uint16_t>(tcp.size());
  w.patch_u16(16, wire::internet_checksum(tcp, wire::pseudo_header_sum(kSrc, kDst, 6, len)));
  wire::Ipv4Params ip{kSrc, kDst, 6, 63, 0x10, s.id, true};
  return wire::build_ipv4_packet(ip, tcp);
}

// Overwrites a 16-bit field of a built packet.
void put16(Bytes& b, std::size_t at, std::uint16_t v) {
  ByteWriter w(b);
  w.patch_u16(at, v);
}

bool tcp_checksum_ok(const Bytes& p) {
  auto h = wire::parse_ipv4(p);
  if (!h) return false;
  ByteView tcp = wire::ipv4_payload(p, *h);
  return wire::internet_checksum(
             tcp, wire::pseudo_header_sum(h->src, h->dst, 6, static_cast<std::uint16_t>(tcp.size()))) == 0;
}

TEST(VnetHeader, RoundTrip) {
  VnetHeader h{kVnetNeedsCsum, kVnetGsoTcpv4, 52, 1416, 20, 16};
  std::array<std::uint8_t, kVnetHeaderSize> b{};
  write_vnet_header(h, b);
  EXPECT_EQ(read_vnet_header(b), h);
  EXPECT_EQ(b[0], kVnetNeedsCsum);
  EXPECT_EQ(b[1], kVnetGsoTcpv4);
}

TEST(Checksum, MatchesWireChecksum) {
  for (std::size_t n : {0U, 1U, 2U, 3U, 4U, 5U, 19U, 20U, 1467U, 1500U}) {
    Bytes d(n);
    for (std::size_t i = 0; i < n; ++i) d[i] = static_cast<std::uint8_t>(i * 37 + 11);
    SCOPED_TRACE(n);
    EXPECT_EQ(static_cast<std::uint16_t>(~checksum_add(d, 0x1234) & 0xffff),
              wire::internet_checksum(d, 0x1234));
  }
}

TEST(CompleteChecksum, FinishesPartialTcpAndUdp) {
  // TCP: replace the checksum by the pseudo-header sum, as the kernel hands it over.
  Bytes p = tcp_packet({});
  const std::uint16_t good = get16(p, 36);
  const auto tcp_len = static_cast<std::uint16_t>(p.size() - 20);
  put16(p, 36, static_cast<std::uint16_t>(wire::pseudo_header_sum(kSrc, kDst, 6, tcp_len)));
  VnetHeader h{kVnetNeedsCsum, kVnetGsoNone, 0, 0, 20, 16};
  ASSERT_TRUE(complete_checksum(h, p));
  EXPECT_EQ(get16(p, 36), good);
  EXPECT_TRUE(tcp_checksum_ok(p));

  // UDP: the same through parse_udp_datagram, which verifies the checksum.
  Bytes u = wire::build_udp_datagram(kSrc, 5000, kDst, 5201, Bytes{1, 2, 3, 4, 5});
  put16(u, 26, static_cast<std::uint16_t>(wire::pseudo_header_sum(kSrc, kDst, 17, 13)));
  ASSERT_TRUE(complete_checksum(VnetHeader{kVnetNeedsCsum, kVnetGsoNone, 0, 0, 20, 6}, u));
  EXPECT_TRUE(wire::parse_udp_datagram(u));

  // Without the flag nothing changes; offsets outside the packet are refused.
  Bytes before = u;
  ASSERT_TRUE(complete_checksum(VnetHeader{}, u));
  EXPECT_EQ(u, before);
  auto bad = complete_checksum(VnetHeader{kVnetNeedsCsum, kVnetGsoNone, 0, 0, 30, 6}, u);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, "bad_csum_offsets");
}

struct SegmentCase {
  std::string description;
  std::size_t payload;
  std::uint16_t mss;
  std::uint8_t flags;
  std::size_t options;
  std::size_t expected_segments;
};

class GsoSegment : public ::testing::TestWithParam<SegmentCase> {};

TEST_P(GsoSegment, EverySegmentIsAValidPacket) {
  const SegmentCase& c = GetParam();
  TcpSpec spec;
  spec.seq = 0xfffff000;  // wraps inside the super-packet
  spec.payload = c.payload;
  spec.flags = c.flags;
  spec.options = c.options;
  spec.id = 0xfffe;  // wraps too
  Bytes super = tcp_packet(spec);
  const std::size_t hdr = 20 + 20 + c.options;
  // As the kernel hands it over: partial checksum.
  put16(super, 36,
        static_cast<std::uint16_t>(
            wire::pseudo_header_sum(kSrc, kDst, 6, static_cast<std::uint16_t>(super.size() - 20))));
  const VnetHeader h{kVnetNeedsCsum, kVnetGsoTcpv4, static_cast<std::uint16_t>(hdr), c.mss, 20, 16};
  constexpr std::size_t kStride = 2048;
  std::vector<std::uint8_t> out(kMaxGsoSegments * kStride);
  std::array<std::size_t, kMaxGsoSegments> lengths{};
  auto n = gso_segment(h, super, out, kStride, lengths);
  ASSERT_TRUE(n) << n.error().code;
  ASSERT_EQ(*n, c.expected_segments);
  std::size_t carried = 0;
  for (std::size_t i = 0; i < *n; ++i) {
    SCOPED_TRACE(i);
    Bytes seg(out.begin() + static_cast<std::ptrdiff_t>(i * kStride),
              out.begin() + static_cast<std::ptrdiff_t>(i * kStride + lengths[i]));
    auto ip = wire::parse_ipv4(seg);  // header checksum and total length
    ASSERT_TRUE(ip) << ip.error().code;
    EXPECT_EQ(ip->total_length, seg.size());
    EXPECT_EQ(ip->id, static_cast<std::uint16_t>(0xfffe + i));
    EXPECT_TRUE(ip->df);
    EXPECT_EQ(ip->tos, 0x10);
    EXPECT_EQ(ip->ttl, 63);
    EXPECT_TRUE(tcp_checksum_ok(seg));
    EXPECT_EQ(get32(seg, 24), static_cast<std::uint32_t>(spec.seq + carried));
    const bool last = i + 1 == *n;
    const std::uint8_t f = seg[33];
    EXPECT_EQ((f & kPsh) != 0, last && (c.flags & kPsh));
    EXPECT_EQ((f & kFin) != 0, last && (c.flags & kFin));
    EXPECT_EQ((f & kCwr) != 0, i == 0 && (c.flags & kCwr));
    EXPECT_TRUE(f & kAck);
    const std::size_t payload = seg.size() - hdr;
    EXPECT_LE(payload, c.mss);
    if (!last) {
      EXPECT_EQ(payload, c.mss);
    }
    EXPECT_TRUE(std::equal(seg.begin() + static_cast<std::ptrdiff_t>(hdr), seg.end(),
                           super.begin() + static_cast<std::ptrdiff_t>(hdr + carried)));
    carried += payload;
  }
  EXPECT_EQ(carried, c.payload);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, GsoSegment,
    ::testing::Values(SegmentCase{"full_64k_timestamps", 65535 - 52, 1416, kAck | kPsh, 12, 47},
                      SegmentCase{"exact_multiple", 3 * 1000, 1000, kAck, 12, 3},
                      SegmentCase{"one_byte_tail_fin", 2 * 1448 + 1, 1448, kAck | kPsh | kFin, 0, 3},
                      SegmentCase{"cwr_first_only", 5000, 1400, kAck | kCwr, 12, 4},
                      SegmentCase{"smaller_than_mss", 500, 1448, kAck | kPsh, 12, 1},
                      SegmentCase{"headers_only", 0, 1448, kAck | kFin, 12, 1}),
    [](const auto& p) { return p.param.description; });

struct SegmentErrorCase {
  std::string description;
  std::uint8_t gso_type;
  std::uint16_t mss;
  bool udp;
  std::size_t max_segments;
  std::size_t stride;
  std::string code;
};

class GsoSegmentError : public ::testing::TestWithParam<SegmentErrorCase> {};

TEST_P(GsoSegmentError, IsRefusedWithItsCode) {
  const auto& c = GetParam();
  TcpSpec spec;
  spec.payload = 10000;
  Bytes p = c.udp ? wire::build_udp_datagram(kSrc, 1, kDst, 2, Bytes(10000, 1)) : tcp_packet(spec);
  std::vector<std::uint8_t> out(c.max_segments * c.stride);
  std::vector<std::size_t> lengths(c.max_segments);
  auto n = gso_segment(VnetHeader{kVnetNeedsCsum, c.gso_type, 0, c.mss, 20, 16}, p, out, c.stride, lengths);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code, c.code);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, GsoSegmentError,
    ::testing::Values(SegmentErrorCase{"ecn_not_negotiated", kVnetGsoTcpv4 | kVnetGsoEcn, 1000, false, 64,
                                       2048, "unsupported_gso"},
                      SegmentErrorCase{"udp_gso_type", 5, 1000, false, 64, 2048, "unsupported_gso"},
                      SegmentErrorCase{"zero_mss", kVnetGsoTcpv4, 0, false, 64, 2048, "bad_gso_size"},
                      SegmentErrorCase{"not_tcp", kVnetGsoTcpv4, 1000, true, 64, 2048, "malformed"},
                      SegmentErrorCase{"no_room", kVnetGsoTcpv4, 100, false, 0, 2048, "no_room"},
                      SegmentErrorCase{"stride_too_small", kVnetGsoTcpv4, 1448, false, 64, 1024,
                                       "segment_too_big"}),
    [](const auto& p) { return p.param.description; });

TEST(GsoSegmentChunks, ATinyMssTakesSeveralCalls) {
  // MSS 48 (Linux's floor): 10 000 bytes are 209 segments, more than one call's room.
  TcpSpec spec;
  spec.payload = 10000;
  spec.flags = kAck | kPsh;
  const Bytes super = tcp_packet(spec);
  const VnetHeader h{kVnetNeedsCsum, kVnetGsoTcpv4, 52, 48, 20, 16};
  constexpr std::size_t kStride = 256;
  std::vector<std::uint8_t> out(kMaxGsoSegments * kStride);
  std::array<std::size_t, kMaxGsoSegments> lengths{};
  std::size_t first = 0;
  std::size_t calls = 0;
  std::size_t carried = 0;
  for (;;) {
    auto n = gso_segment(h, super, out, kStride, lengths, first);
    ASSERT_TRUE(n) << n.error().code;
    if (*n == 0) break;
    ++calls;
    for (std::size_t i = 0; i < *n; ++i) {
      Bytes seg(out.begin() + static_cast<std::ptrdiff_t>(i * kStride),
                out.begin() + static_cast<std::ptrdiff_t>(i * kStride + lengths[i]));
      auto ip = wire::parse_ipv4(seg);
      ASSERT_TRUE(ip);
      EXPECT_EQ(ip->id, static_cast<std::uint16_t>(spec.id + first + i));
      EXPECT_EQ(get32(seg, 24), static_cast<std::uint32_t>(spec.seq + carried));
      EXPECT_TRUE(tcp_checksum_ok(seg));
      EXPECT_EQ((seg[33] & kPsh) != 0, first + i == 208);
      carried += seg.size() - 52;
    }
    first += *n;
  }
  EXPECT_EQ(first, 209U);
  EXPECT_EQ(calls, 2U);
  EXPECT_EQ(carried, 10000U);
}

// Segments of one flow, as the sender's TSO would have cut them.
std::vector<Bytes> flow(std::size_t count, std::size_t mss, std::size_t last_payload,
                        std::uint8_t last_flags) {
  std::vector<Bytes> v;
  for (std::size_t i = 0; i < count; ++i) {
    TcpSpec s;
    s.seq = 5000 + static_cast<std::uint32_t>(i * mss);
    s.payload = i + 1 == count ? last_payload : mss;
    s.flags = i + 1 == count ? last_flags : kAck;
    s.id = static_cast<std::uint16_t>(100 + i);
    s.fill = 0;
    v.push_back(tcp_packet(s));
  }
  return v;
}

TEST(TcpCoalescer, MergeThenSegmentGivesTheSegmentsBack) {
  const std::vector<Bytes> in = flow(10, 1416, 700, kAck | kPsh);
  std::vector<std::uint8_t> buf(65535);
  TcpCoalescer co(buf);
  for (const Bytes& p : in) ASSERT_TRUE(co.add(p));
  EXPECT_EQ(co.segments(), 10U);
  const auto m = co.flush();
  EXPECT_TRUE(co.empty());
  EXPECT_EQ(m.header.gso_type, kVnetGsoTcpv4);
  EXPECT_EQ(m.header.flags, kVnetNeedsCsum);
  EXPECT_EQ(m.header.gso_size, 1416);
  EXPECT_EQ(m.header.csum_start, 20);
  EXPECT_EQ(m.header.csum_offset, 16);
  EXPECT_EQ(m.header.hdr_len, 52);
  EXPECT_EQ(m.packet.size(), 52 + 9 * 1416 + 700U);
  Bytes merged(m.packet.begin(), m.packet.end());
  ASSERT_TRUE(wire::parse_ipv4(merged));  // header checksum over the new length
  EXPECT_EQ(merged[33] & kPsh, kPsh);
  // The partial checksum completes to a valid one over the whole super-packet.
  Bytes whole = merged;
  ASSERT_TRUE(complete_checksum(m.header, whole));
  EXPECT_TRUE(tcp_checksum_ok(whole));
  // And cutting it again gives exactly the segments that went in.
  std::vector<std::uint8_t> out(kMaxGsoSegments * 2048);
  std::array<std::size_t, kMaxGsoSegments> lengths{};
  auto n = gso_segment(m.header, merged, out, 2048, lengths);
  ASSERT_TRUE(n);
  ASSERT_EQ(*n, in.size());
  for (std::size_t i = 0; i < in.size(); ++i)
    EXPECT_EQ(Bytes(out.begin() + static_cast<std::ptrdiff_t>(i * 2048),
                    out.begin() + static_cast<std::ptrdiff_t>(i * 2048 + lengths[i])),
              in[i])
        << "segment " << i;
}

TEST(TcpCoalescer, SingleSegmentIsSentUnchanged) {
  const Bytes p = tcp_packet({});
  std::vector<std::uint8_t> buf(65535);
  TcpCoalescer co(buf);
  ASSERT_TRUE(co.add(p));
  const auto m = co.flush();
  EXPECT_EQ(m.header, VnetHeader{});
  EXPECT_EQ(Bytes(m.packet.begin(), m.packet.end()), p);
}

struct RefuseCase {
  std::string description;
  // Mutates the second packet of a two-packet flow (payloads 1000, 1000).
  std::function<Bytes(TcpSpec)> second;
  bool first_ends_run = false;  // the first packet closes the run by itself
  TcpSpec first{};
};

class TcpCoalescerRefuses : public ::testing::TestWithParam<RefuseCase> {};

TEST_P(TcpCoalescerRefuses, TheSecondPacket) {
  const auto& c = GetParam();
  TcpSpec a = c.first;
  a.payload = c.first_ends_run ? a.payload : 1000;
  TcpSpec b;
  b.seq = a.seq + static_cast<std::uint32_t>(a.payload);
  b.payload = 1000;
  std::vector<std::uint8_t> buf(65535);
  TcpCoalescer co(buf);
  ASSERT_TRUE(co.add(tcp_packet(a)));
  EXPECT_FALSE(co.add(c.second(b)));
  EXPECT_EQ(co.segments(), 1U);
}

Bytes corrupt_payload(TcpSpec s) {
  Bytes p = tcp_packet(s);
  p.back() ^= 0xff;
  return p;
}

INSTANTIATE_TEST_SUITE_P(Cases, TcpCoalescerRefuses,
                         ::testing::Values(RefuseCase{"sequence_gap",
                                                      [](TcpSpec s) {
                                                        s.seq += 1;
                                                        return tcp_packet(s);
                                                      }},
                                           RefuseCase{"other_flow",
                                                      [](TcpSpec s) {
                                                        s.sport = 40001;
                                                        return tcp_packet(s);
                                                      }},
                                           RefuseCase{"syn",
                                                      [](TcpSpec s) {
                                                        s.flags = kAck | kSyn;
                                                        return tcp_packet(s);
                                                      }},
                                           RefuseCase{"fin",
                                                      [](TcpSpec s) {
                                                        s.flags = kAck | kFin;
                                                        return tcp_packet(s);
                                                      }},
                                           RefuseCase{"pure_ack",
                                                      [](TcpSpec s) {
                                                        s.payload = 0;
                                                        return tcp_packet(s);
                                                      }},
                                           RefuseCase{"bigger_than_first",
                                                      [](TcpSpec s) {
                                                        s.payload = 1001;
                                                        return tcp_packet(s);
                                                      }},
                                           RefuseCase{"timestamp_changed",
                                                      [](TcpSpec s) {
                                                        s.tsval = 56;
                                                        return tcp_packet(s);
                                                      }},
                                           RefuseCase{"bad_tcp_checksum", corrupt_payload},
                                           RefuseCase{"after_psh", [](TcpSpec s) { return tcp_packet(s); },
                                                      true, TcpSpec{.flags = kAck | kPsh, .payload = 1000}}),
                         [](const auto& p) { return p.param.description; });

TEST(TcpCoalescer, ShortSegmentEndsTheRun) {
  const auto in = flow(3, 1000, 1000, kAck);  // seq 5000, 6000, 7000
  TcpSpec shorter;
  shorter.seq = 6000;
  shorter.payload = 500;
  TcpSpec after;
  after.seq = 6500;
  after.payload = 500;
  std::vector<std::uint8_t> buf(65535);
  TcpCoalescer co(buf);
  ASSERT_TRUE(co.add(in[0]));
  ASSERT_TRUE(co.add(tcp_packet(shorter)));
  EXPECT_FALSE(co.add(tcp_packet(after)));  // in order, but the run ended
  EXPECT_EQ(co.segments(), 2U);
}

TEST(TcpCoalescer, SameFlowNamesThePendingFlowOnly) {
  std::vector<std::uint8_t> buf(65535);
  TcpCoalescer co(buf);
  TcpSpec s;
  EXPECT_FALSE(co.same_flow(tcp_packet(s)));  // nothing pending
  ASSERT_TRUE(co.add(tcp_packet(s)));
  TcpSpec fin = s;
  fin.flags = kAck | kFin;
  EXPECT_TRUE(co.same_flow(tcp_packet(fin)));  // would not merge, but must not overtake
  TcpSpec other = s;
  other.sport = 40001;
  EXPECT_FALSE(co.same_flow(tcp_packet(other)));
  EXPECT_FALSE(co.same_flow(wire::build_udp_datagram(kSrc, 40000, kDst, 5201, Bytes(10, 0))));
}

TEST(TcpCoalescer, NonTcpNeverStarts) {
  std::vector<std::uint8_t> buf(65535);
  TcpCoalescer co(buf);
  EXPECT_FALSE(co.add(wire::build_udp_datagram(kSrc, 1, kDst, 2, Bytes(100, 1))));
  EXPECT_FALSE(co.add(Bytes{0x45, 0}));
  EXPECT_TRUE(co.empty());
}

TEST(TcpCoalescer, StopsBelow64KiB) {
  std::vector<std::uint8_t> buf(65535);
  TcpCoalescer co(buf);
  const auto in = flow(60, 1416, 1416, kAck);
  std::size_t taken = 0;
  while (taken < in.size() && co.add(in[taken])) ++taken;
  EXPECT_EQ(taken, (65535 - 52) / 1416);
  EXPECT_LE(co.flush().packet.size(), 65535U);
}

}  // namespace
}  // namespace vmroam::dataplane
