// checksum_add (common/dataplane/gso.hpp) against the plain RFC 1071 definition: big-endian
// 16-bit words, an odd last byte padded with zero, end-around carry. The fast path sums
// 64-byte blocks in native order, so the table covers lengths around the block size, every
// alignment of the start, sums that carry a lot (all 0xff), and `initial` partial sums.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/dataplane/gso.hpp"

namespace vmroam::dataplane {
namespace {

std::uint32_t reference_sum(ByteView d, std::uint32_t initial) {
  std::uint64_t s = initial;
  for (std::size_t i = 0; i < d.size(); i += 2)
    s += (std::uint32_t{d[i]} << 8) | (i + 1 < d.size() ? d[i + 1] : 0u);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<std::uint32_t>(s);
}

struct ChecksumCase {
  std::string description;
  std::vector<std::size_t> lengths;
  std::optional<std::uint8_t> fill;  // every byte this value; none = a pattern
  std::uint32_t initial;
};

TEST(ChecksumAdd, MatchesRfc1071Definition) {
  const std::vector<ChecksumCase> cases = {
      {"empty and tiny", {0, 1, 2, 3, 4, 5}, std::nullopt, 0},
      {"around one block", {62, 63, 64, 65, 66, 67}, std::nullopt, 0},
      {"around two blocks", {127, 128, 129, 130}, std::nullopt, 0x1234},
      {"a segment", {1416, 1428, 1468}, std::nullopt, 0x1c46f},
      {"a super-packet", {65535, 65516}, std::nullopt, 0},
      {"all ones carries everywhere", {63, 64, 1416, 65535}, 0xff, 0xffff},
      {"zeros stay zero", {0, 64, 1000}, 0x00, 0},
      {"initial only", {0}, std::nullopt, 0xabcd},
  };
  for (const auto& c : cases) {
    for (std::size_t length : c.lengths)
      for (std::size_t offset = 0; offset < 8; ++offset) {
        SCOPED_TRACE(c.description + ": length " + std::to_string(length) + " offset " +
                     std::to_string(offset));
        std::vector<std::uint8_t> buf(length + offset);
        for (std::size_t i = 0; i < buf.size(); ++i)
          buf[i] = c.fill ? *c.fill : static_cast<std::uint8_t>(i * 151 + 7 + (i >> 8));
        const ByteView d(buf.data() + offset, length);
        EXPECT_EQ(checksum_add(d, c.initial), reference_sum(d, c.initial));
      }
  }
}

}  // namespace
}  // namespace vmroam::dataplane
