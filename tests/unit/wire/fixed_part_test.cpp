// common/wire/fixed_part: the checks every control message's fixed part gets before a field
// is read (RFC 5944 §1.8: Type first; a fixed part shorter than its type's is truncated), and
// FixedLayout, which reads, writes and sizes a message from its one statement of layout. A
// toy message with one field of each kind keeps these tests independent of any RFC message.
#include "common/wire/fixed_part.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/core/hex.hpp"

namespace vmroam::wire {
namespace {

// Type 1 (a Registration Request's number: any type works) | u8 | u16 | Ipv4 | u32 | u64.
struct Toy {
  std::uint8_t a = 0;
  std::uint16_t b = 0;
  Ipv4 c;
  std::uint32_t d = 0;
  std::uint64_t e = 0;
  ExtensionList extensions;
  friend bool operator==(const Toy&, const Toy&) = default;
};
constexpr std::size_t kToyFixed = 1 + 1 + 2 + 4 + 4 + 8;
using ToyLayout = FixedLayout<Toy, mip::MessageType::registration_request, kToyFixed, &Toy::a, &Toy::b,
                              &Toy::c, &Toy::d, &Toy::e>;

// Hex with spaces between the fields, as the layouts are written.
Bytes bytes_of(std::string h) {
  std::erase(h, ' ');
  auto b = from_hex(h);
  if (!b) std::abort();
  return *b;
}

const std::string kToyHex = "01 aa 0102 0a01000a 01020304 0102030405060708";

TEST(FixedPart, CheckTable) {
  struct Case {
    const char* description;
    std::string hex;
    std::string error;  // "" = ok
  };
  const std::vector<Case> cases = {
      {"empty", "", "truncated"},
      {"wrong type", "03 aa 0102 0a01000a 01020304 0102030405060708", "bad_type"},
      {"one byte short of the fixed part", "01 aa 0102 0a01000a 01020304 01020304050607", "truncated"},
      {"exactly the fixed part", kToyHex, ""},
      {"fixed part and more", kToyHex + "00", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    const Bytes b = bytes_of(c.hex);
    auto r = check_fixed_part(b, mip::MessageType::registration_request, kToyFixed);
    if (c.error.empty()) {
      EXPECT_TRUE(r);
    } else {
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error().code, c.error);
    }
  }
}

TEST(FixedPart, LayoutReadsEachFieldInWireOrder) {
  auto m = ToyLayout::parse(bytes_of(kToyHex));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->a, 0xaa);
  EXPECT_EQ(m->b, 0x0102);
  EXPECT_EQ(m->c.to_string(), "10.1.0.10");
  EXPECT_EQ(m->d, 0x01020304u);
  EXPECT_EQ(m->e, 0x0102030405060708u);
  EXPECT_TRUE(m->extensions.empty());
}

TEST(FixedPart, LayoutRoundTripsWithExtensionsAtTheirOffsets) {
  Toy t{.a = 1, .b = 2, .c = Ipv4(0x0a020001), .d = 3, .e = 4};
  // Type 200: skippable (RFC 5944 §1.9) and unknown to us, so its data is anything.
  auto ext = Extension::make(200, bytes_of("0102 0304"));
  ASSERT_TRUE(ext);
  ToyLayout::append(t, *ext);
  ToyLayout::append(t, *ext);
  // Each extension knows where it will stand: right after the fixed part, then after the first.
  EXPECT_EQ(t.extensions[0].offset, kToyFixed);
  EXPECT_EQ(t.extensions[1].offset, kToyFixed + ext->size());
  EXPECT_EQ(ToyLayout::encoded_size(t), kToyFixed + 2 * ext->size());
  Bytes out;
  ByteWriter w(out);
  ToyLayout::encode(t, w);
  EXPECT_EQ(out.size(), ToyLayout::encoded_size(t));
  auto back = ToyLayout::parse(out);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(*back, t);
}

TEST(FixedPart, LayoutRefusesWhatTheCheckRefuses) {
  auto m = ToyLayout::parse(bytes_of("01 aa 0102"));
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, "truncated");
}

}  // namespace
}  // namespace vmroam::wire
