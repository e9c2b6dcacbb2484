#include <gtest/gtest.h>

#include "common/core/address.hpp"
#include "common/core/bytes.hpp"
#include "common/core/hex.hpp"
#include "common/core/log.hpp"
#include "common/core/result.hpp"

namespace vmroam {
namespace {

Result<int> half(int x) {
  if (x % 2) return fail("odd", std::to_string(x));
  return x / 2;
}
Result<int> quarter(int x) {
  VMROAM_TRY(int h, half(x));
  return half(h);
}

TEST(Result, CarriesValueOrNamedError) {
  EXPECT_EQ(*quarter(8), 2);
  auto r = quarter(6);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "odd");
  EXPECT_EQ(r.error().to_string(), "odd: 3");
}

TEST(ByteReader, FailsInsteadOfReadingPastTheEnd) {
  const std::uint8_t data[] = {0x01, 0x02, 0x03, 0x04, 0x05};
  ByteReader r{ByteView(data)};
  EXPECT_EQ(r.u16(), 0x0102);
  EXPECT_EQ(r.u16(), 0x0304);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.u16(), 0);  // only one byte left
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.u8(), 0);  // sticky
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(ByteWriter, FixedBufferRecordsOverflow) {
  std::uint8_t buf[5];
  ByteWriter w{std::span<std::uint8_t>(buf)};
  w.u32(0xdeadbeef);
  EXPECT_TRUE(w.ok());
  w.u16(1);
  EXPECT_FALSE(w.ok());
  EXPECT_EQ(w.size(), 4u);
  Bytes v;
  ByteWriter g{v};
  g.u64(0x0102030405060708);
  g.patch_u16(0, 0xffff);
  EXPECT_EQ(to_hex(v), "ffff030405060708");
}

TEST(Address, ParsesAndRejects) {
  EXPECT_EQ(Ipv4::parse("10.1.0.10")->value(), 0x0a01000au);
  EXPECT_EQ(Ipv4::parse("10.1.0.10")->to_string(), "10.1.0.10");
  for (auto bad : {"", "10.1.0", "10.1.0.256", "10.1.0.1.2", "a.b.c.d", "10..0.1", "1.2.3.4 "})
    EXPECT_FALSE(Ipv4::parse(bad)) << bad;
  auto p = Ipv4Prefix::parse("10.1.0.0/24");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->contains(*Ipv4::parse("10.1.0.77")));
  EXPECT_FALSE(p->contains(*Ipv4::parse("10.2.0.77")));
  EXPECT_FALSE(Ipv4Prefix::parse("10.1.0.0/33"));
  EXPECT_EQ(MacAddress::parse("52:54:00:12:34:56")->to_string(), "52:54:00:12:34:56");
  EXPECT_FALSE(MacAddress::parse("52:54:00:12:34"));
  EXPECT_FALSE(MacAddress::parse("52-54-00-12-34-56"));
}

TEST(Hex, RoundTripsAndNamesBadDigits) {
  auto b = from_hex("00ff10");
  ASSERT_TRUE(b);
  EXPECT_EQ(to_hex(*b), "00ff10");
  EXPECT_EQ(from_hex("0g").error().code, "bad_hex");
  EXPECT_EQ(from_hex("abc").error().code, "bad_hex");
}

TEST(Log, QuotesValuesThatNeedIt) {
  EXPECT_EQ(format_log_line(LogLevel::warn, "bad_packet", {{"reason", "too short"}, {"len", "3"}}),
            "level=warn event=bad_packet reason=\"too short\" len=3");
}

}  // namespace
}  // namespace vmroam
