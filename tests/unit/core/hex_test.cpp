// common/core/hex: to_hex/from_hex, used for keys in configs and for packet fixtures: round
// trips, both cases and an optional 0x prefix accepted, odd lengths and bad digits named.
#include <gtest/gtest.h>

#include "common/core/hex.hpp"

namespace vmroam {
namespace {

TEST(Hex, RoundTripsAndNamesBadDigits) {
  auto b = from_hex("00ff10");
  ASSERT_TRUE(b);
  EXPECT_EQ(to_hex(*b), "00ff10");
  EXPECT_EQ(from_hex("0g").error().code, "bad_hex");
  EXPECT_EQ(from_hex("abc").error().code, "bad_hex");
}

TEST(Hex, AcceptsUpperCaseAndPrefix) {
  EXPECT_EQ(to_hex(*from_hex("DEADbeef")), "deadbeef");
  EXPECT_EQ(to_hex(*from_hex("0xAB")), "ab");
  EXPECT_EQ(to_hex(*from_hex("0X01")), "01");
}

TEST(Hex, EmptyIsEmpty) {
  auto b = from_hex("");
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->empty());
  EXPECT_EQ(to_hex({}), "");
  auto p = from_hex("0x");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->empty());
}

TEST(Hex, ErrorsSayWhereAndWhy) {
  auto odd = from_hex("abc");
  ASSERT_FALSE(odd);
  EXPECT_EQ(odd.error().context, "odd number of hex digits");
  auto bad = from_hex("00112g");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().context, "not a hex digit at position 4");
  for (auto s : {"0 ", " 0", "-1", "zz", "0x0x"}) EXPECT_FALSE(from_hex(s)) << s;
}

TEST(Hex, EveryByteValueRoundTrips) {
  Bytes all(256);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::uint8_t>(i);
  const auto text = to_hex(all);
  EXPECT_EQ(text.size(), 512u);
  EXPECT_EQ(text.substr(0, 6), "000102");
  EXPECT_EQ(text.substr(506), "fdfeff");
  EXPECT_EQ(*from_hex(text), all);
}

}  // namespace
}  // namespace vmroam
