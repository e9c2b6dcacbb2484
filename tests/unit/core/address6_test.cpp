// Ipv6 and Ipv6Prefix (common/core/address6.hpp): parsing every RFC 4291 §2.2 text form,
// canonical RFC 5952 output, refusals, classification and prefix membership.
#include "common/core/address6.hpp"

#include <gtest/gtest.h>

#include <string>
#include <unordered_set>

namespace vmroam {
namespace {

struct TextCase {
  const char* text;
  const char* canonical;
};

TEST(Ipv6Test, ParsesEveryFormAndPrintsTheCanonicalOne) {
  const TextCase cases[] = {
      {"2001:db8:1::10", "2001:db8:1::10"},
      {"2001:0DB8:0001:0000:0000:0000:0000:0010", "2001:db8:1::10"},
      {"::", "::"},
      {"::1", "::1"},
      {"fe80::1", "fe80::1"},
      {"::ffff:10.1.0.10", "::ffff:10.1.0.10"},
      {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
  };
  for (const auto& c : cases) {
    auto a = Ipv6::parse(c.text);
    ASSERT_TRUE(a) << c.text;
    EXPECT_EQ(a->to_string(), c.canonical) << c.text;
    auto again = Ipv6::parse(a->to_string());
    ASSERT_TRUE(again) << c.text;
    EXPECT_EQ(*again, *a) << c.text;
  }
}

TEST(Ipv6Test, RefusesWhatIsNotAnAddress) {
  for (const char* bad : {"", "10.1.0.10", "2001:db8::1::2", "fe80::1%eth0", "2001:db8:1::10/64", "gggg::1",
                          "1:2:3:4:5:6:7:8:9"}) {
    auto a = Ipv6::parse(bad);
    ASSERT_FALSE(a) << bad;
    EXPECT_EQ(a.error().code, "bad_ipv6") << bad;
  }
}

TEST(Ipv6Test, Classifies) {
  EXPECT_TRUE(Ipv6{}.is_zero());
  EXPECT_TRUE(Ipv6::parse("ff02::1")->is_multicast());
  EXPECT_FALSE(Ipv6::parse("2001:db8::1")->is_multicast());
  EXPECT_TRUE(Ipv6::parse("fe80::1")->is_link_local());
  EXPECT_TRUE(Ipv6::parse("febf::1")->is_link_local());
  EXPECT_FALSE(Ipv6::parse("fec0::1")->is_link_local());
  EXPECT_FALSE(Ipv6::parse("2001:db8::1")->is_zero());
}

TEST(Ipv6Test, OrdersAndHashesByValue) {
  auto a = *Ipv6::parse("2001:db8::1");
  auto b = *Ipv6::parse("2001:db8::2");
  EXPECT_LT(a, b);
  std::unordered_set<Ipv6> set{a, b, *Ipv6::parse("2001:0db8::0001")};
  EXPECT_EQ(set.size(), 2u);
}

struct PrefixCase {
  const char* prefix;
  const char* address;
  bool inside;
};

TEST(Ipv6PrefixTest, ContainsByTheFirstLengthBits) {
  const PrefixCase cases[] = {
      {"2001:db8:1::/64", "2001:db8:1::10", true},
      {"2001:db8:1::/64", "2001:db8:1:0:ffff:ffff:ffff:ffff", true},
      {"2001:db8:1::/64", "2001:db8:1:1::10", false},
      {"2001:db8::/33", "2001:db8:7fff::1", true},
      {"2001:db8::/33", "2001:db8:8000::1", false},
      {"::/0", "fe80::1", true},
      {"2001:db8:1::10/128", "2001:db8:1::10", true},
      {"2001:db8:1::10/128", "2001:db8:1::11", false},
  };
  for (const auto& c : cases) {
    auto p = Ipv6Prefix::parse(c.prefix);
    ASSERT_TRUE(p) << c.prefix;
    EXPECT_EQ(p->contains(*Ipv6::parse(c.address)), c.inside) << c.prefix << " " << c.address;
  }
}

TEST(Ipv6PrefixTest, RoundTripsAndRefusesBadText) {
  auto p = Ipv6Prefix::parse("2001:db8:1::/64");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->to_string(), "2001:db8:1::/64");
  EXPECT_EQ(*Ipv6Prefix::parse(p->to_string()), *p);
  for (const char* bad : {"2001:db8:1::/129", "2001:db8:1::/-1", "2001:db8:1::/x", "/64", "10.0.0.0/8"})
    EXPECT_FALSE(Ipv6Prefix::parse(bad)) << bad;
}

}  // namespace
}  // namespace vmroam
