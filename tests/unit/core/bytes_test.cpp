// common/core/bytes: the bounds-checked big-endian ByteReader and ByteWriter. A read past the
// end returns zeros and fails the reader for good; a fixed-buffer writer records overflow
// instead of writing past its buffer; patches outside what was written fail.
#include <gtest/gtest.h>

#include <array>

#include "common/core/bytes.hpp"
#include "common/core/hex.hpp"

namespace vmroam {
namespace {

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

TEST(ByteReader, ReadsBigEndianWidths) {
  const std::uint8_t data[] = {0xfe, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                               0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e};
  ByteReader r{ByteView(data)};
  EXPECT_EQ(r.u8(), 0xfe);
  EXPECT_EQ(r.u16(), 0x0102);
  EXPECT_EQ(r.u32(), 0x03040506u);
  EXPECT_EQ(r.u64(), 0x0708090a0b0c0d0eull);
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.at_end());
  EXPECT_EQ(r.offset(), sizeof data);
}

TEST(ByteReader, BytesSkipAndRest) {
  const std::uint8_t data[] = {1, 2, 3, 4, 5, 6};
  ByteReader r{ByteView(data)};
  auto two = r.bytes(2);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two.data(), data);  // a view, not a copy
  r.skip(1);
  EXPECT_EQ(r.peek_u8(), 4);
  EXPECT_EQ(r.peek_u8(2), 6);
  EXPECT_EQ(r.peek_u8(3), 0);  // past the end: 0, and no failure
  EXPECT_TRUE(r.ok());
  auto rest = r.rest();
  EXPECT_EQ(rest.size(), 3u);
  EXPECT_TRUE(r.at_end());
  EXPECT_TRUE(r.ok());
}

TEST(ByteReader, TooLargeSpanFailsWithoutConsuming) {
  const std::uint8_t data[] = {1, 2, 3};
  ByteReader r{ByteView(data)};
  EXPECT_TRUE(r.bytes(4).empty());
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_EQ(r.peek_u8(), 0);  // a failed reader peeks nothing
}

TEST(ByteReader, U64IsAtomicInFailure) {
  const std::uint8_t data[] = {1, 2, 3, 4, 5, 6, 7};  // one byte short of a u64
  ByteReader r{ByteView(data)};
  (void)r.u64();
  EXPECT_FALSE(r.ok());
}

TEST(ByteReader, EmptyInput) {
  ByteReader r{ByteView{}};
  EXPECT_TRUE(r.at_end());
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.rest().empty());
  EXPECT_TRUE(r.ok());  // reading zero bytes is fine
  EXPECT_EQ(r.u8(), 0);
  EXPECT_FALSE(r.ok());
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

TEST(ByteWriter, OverflowIsStickyAndWritesNothingMore) {
  std::array<std::uint8_t, 3> buf{0xaa, 0xaa, 0xaa};
  ByteWriter w{std::span<std::uint8_t>(buf)};
  w.u16(0x0102);
  w.u16(0x0304);  // does not fit: nothing of it is written
  EXPECT_FALSE(w.ok());
  w.u8(0x05);  // would fit, but the writer has failed
  EXPECT_EQ(w.size(), 2u);
  EXPECT_EQ(buf[2], 0xaa);
}

TEST(ByteWriter, ExactFitIsFine) {
  std::array<std::uint8_t, 4> buf{};
  ByteWriter w{std::span<std::uint8_t>(buf)};
  w.u16(0x0102);
  w.u8(3);
  w.zeros(1);
  EXPECT_TRUE(w.ok());
  EXPECT_EQ(to_hex(w.written()), "01020300");
}

TEST(ByteWriter, PatchesOnlyWhatWasWritten) {
  Bytes v;
  ByteWriter w{v};
  w.u16(0);
  w.u8(0);
  w.patch_u8(2, 0x7f);
  w.patch_u16(0, 0xabcd);
  EXPECT_TRUE(w.ok());
  EXPECT_EQ(to_hex(v), "abcd7f");
  w.patch_u16(2, 1);  // would run one byte past the end
  EXPECT_FALSE(w.ok());
  EXPECT_EQ(to_hex(v), "abcd7f");
}

TEST(ByteWriter, GrowingVectorAppendsBytes) {
  Bytes v{0x01};
  ByteWriter w{v};
  const std::uint8_t more[] = {0x02, 0x03};
  w.bytes(more);
  w.bytes({});
  EXPECT_TRUE(w.ok());
  EXPECT_EQ(w.size(), 3u);
  EXPECT_EQ(to_hex(v), "010203");
}

}  // namespace
}  // namespace vmroam
