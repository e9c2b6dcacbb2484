// common/core/address: Ipv4, Ipv4Prefix and MacAddress parsing (strict: no leading or
// trailing junk, no empty or oversized parts, named errors), formatting and ordering.
#include <gtest/gtest.h>

#include <unordered_set>

#include "common/core/address.hpp"

namespace vmroam {
namespace {

TEST(Ipv4, ParsesAndFormats) {
  EXPECT_EQ(Ipv4::parse("10.1.0.10")->value(), 0x0a01000au);
  EXPECT_EQ(Ipv4::parse("10.1.0.10")->to_string(), "10.1.0.10");
  EXPECT_EQ(Ipv4::parse("0.0.0.0")->value(), 0u);
  EXPECT_TRUE(Ipv4::parse("0.0.0.0")->is_zero());
  EXPECT_EQ(Ipv4::parse("255.255.255.255")->value(), 0xffffffffu);
  EXPECT_EQ(Ipv4::parse("010.001.000.010")->to_string(), "10.1.0.10");  // leading zeros: decimal
  EXPECT_EQ(Ipv4::from_octets(192, 0, 2, 1), *Ipv4::parse("192.0.2.1"));
}

TEST(Ipv4, RejectsWithANamedError) {
  for (auto bad : {"", "10.1.0", "10.1.0.256", "10.1.0.1.2", "a.b.c.d", "10..0.1", "1.2.3.4 ", " 1.2.3.4",
                   "1.2.3.4.", ".1.2.3", "1.2.3.0004", "1.2.3.-4", "1,2,3,4", "999.1.1.1"}) {
    auto r = Ipv4::parse(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, "bad_ipv4") << bad;
    EXPECT_EQ(r.error().context, bad);  // the error names what was given
  }
}

TEST(Ipv4, OrdersNumericallyAndHashes) {
  EXPECT_LT(*Ipv4::parse("10.1.0.9"), *Ipv4::parse("10.1.0.10"));
  EXPECT_LT(*Ipv4::parse("9.255.255.255"), *Ipv4::parse("10.0.0.0"));
  std::unordered_set<Ipv4> s{*Ipv4::parse("10.1.0.10"), *Ipv4::parse("10.1.0.10"), *Ipv4::parse("10.1.0.11")};
  EXPECT_EQ(s.size(), 2u);
}

TEST(Ipv4Prefix, ParsesContainsAndFormats) {
  auto p = Ipv4Prefix::parse("10.1.0.0/24");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->contains(*Ipv4::parse("10.1.0.77")));
  EXPECT_TRUE(p->contains(*Ipv4::parse("10.1.0.255")));
  EXPECT_FALSE(p->contains(*Ipv4::parse("10.2.0.77")));
  EXPECT_EQ(p->mask(), 0xffffff00u);
  EXPECT_EQ(p->to_string(), "10.1.0.0/24");
  auto host = Ipv4Prefix::parse("10.1.0.10");  // no length: a host route
  ASSERT_TRUE(host);
  EXPECT_EQ(host->length, 32);
  EXPECT_TRUE(host->contains(*Ipv4::parse("10.1.0.10")));
  EXPECT_FALSE(host->contains(*Ipv4::parse("10.1.0.11")));
  auto all = Ipv4Prefix::parse("0.0.0.0/0");
  ASSERT_TRUE(all);
  EXPECT_EQ(all->mask(), 0u);  // no undefined shift by 32
  EXPECT_TRUE(all->contains(*Ipv4::parse("203.0.113.9")));
}

TEST(Ipv4Prefix, RejectsWithANamedError) {
  struct Case {
    const char* text;
    std::string_view code;
  };
  for (const Case& c :
       {Case{"10.1.0.0/33", "bad_prefix"}, Case{"10.1.0.0/", "bad_prefix"},
        Case{"10.1.0.0/100", "bad_prefix"}, Case{"10.1.0.0/2x", "bad_prefix"},
        Case{"10.1.0.0/-1", "bad_prefix"}, Case{"10.1.0/24", "bad_ipv4"}, Case{"/24", "bad_ipv4"}}) {
    auto r = Ipv4Prefix::parse(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().code, c.code) << c.text;
  }
}

TEST(MacAddress, ParsesAndFormatsLowerCase) {
  EXPECT_EQ(MacAddress::parse("52:54:00:12:34:56")->to_string(), "52:54:00:12:34:56");
  EXPECT_EQ(MacAddress::parse("52:54:00:AB:cd:Ef")->to_string(), "52:54:00:ab:cd:ef");
  EXPECT_TRUE(MacAddress::parse("ff:ff:ff:ff:ff:ff")->is_broadcast());
  EXPECT_TRUE(MacAddress::parse("00:00:00:00:00:00")->is_zero());
  EXPECT_FALSE(MacAddress::parse("52:54:00:12:34:56")->is_broadcast());
  EXPECT_EQ(MacAddress::parse("01:02:03:04:05:06")->bytes()[5], 6);
}

TEST(MacAddress, RejectsWithANamedError) {
  for (auto bad : {"", "52:54:00:12:34", "52-54-00-12-34-56", "52:54:00:12:34:5g", "52:54:00:12:34:567",
                   "5254.0012.3456", "52:54:00:12:34:56 ", "52::54:00:12:34:5"}) {
    auto r = MacAddress::parse(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, "bad_mac") << bad;
  }
}

}  // namespace
}  // namespace vmroam
