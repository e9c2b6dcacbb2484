// common/wire/ipv6: the IPv6 fixed header the tunnels read (RFC 8200 §3), against scapy's
// bytes, and every malformed header refused by name.
#include <gtest/gtest.h>

#include <string>

#include "common/wire/ipv6.hpp"
#include "tests/unit/wire/packet_fixtures.hpp"

namespace vmroam::wire {
namespace {

using namespace fixtures;

Ipv6 ip6(std::string_view s) { return *Ipv6::parse(s); }

TEST(Ipv6Header, ReadsScapyPacket) {
  auto h = parse_ipv6(kInner6);
  ASSERT_TRUE(h) << h.error().to_string();
  EXPECT_EQ(h->traffic_class, 0x10);
  EXPECT_EQ(h->payload_length, 12);
  EXPECT_EQ(h->total_length(), kInner6.size());
  EXPECT_EQ(h->next_header, 58);
  EXPECT_EQ(h->hop_limit, 63);
  EXPECT_EQ(h->src, ip6("2001:db8:1::10"));
  EXPECT_EQ(h->dst, ip6("2001:db8:2::1"));
  EXPECT_EQ(ip_version(kInner6), 6);
  EXPECT_EQ(ip_version(kInner), 4);
  EXPECT_EQ(ip_version(ByteView()), 0);
}

TEST(Ipv6Header, PaddingAfterThePacketIsAllowed) {
  Bytes padded = kInner6;
  padded.push_back(0);
  auto h = parse_ipv6(padded);
  ASSERT_TRUE(h) << h.error().to_string();
  EXPECT_EQ(h->total_length(), kInner6.size());
}

TEST(Ipv6Header, Rejections) {
  struct Case {
    const char* description;
    Bytes input;
    std::string_view expected;
  };
  Bytes jumbo = kInner6;
  jumbo[4] = jumbo[5] = 0;
  jumbo[6] = 0;  // hop-by-hop header: RFC 2675
  const Case cases[] = {
      {"empty", {}, "truncated"},
      {"39 bytes", Bytes(kInner6.begin(), kInner6.begin() + 39), "truncated"},
      {"IPv4", kInner, "bad_version"},
      {"payload cut short", Bytes(kInner6.begin(), kInner6.end() - 1), "total_length_mismatch"},
      {"jumbogram", jumbo, "jumbogram"},
  };
  for (const auto& c : cases) {
    auto r = parse_ipv6(c.input);
    ASSERT_FALSE(r) << c.description;
    EXPECT_EQ(r.error().code, c.expected) << c.description << ": " << r.error().to_string();
  }
}

}  // namespace
}  // namespace vmroam::wire
