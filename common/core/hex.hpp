// Hex encoding/decoding for keys, identifications and authenticators in JSON and logs.
#pragma once

#include <string>
#include <string_view>

#include "common/core/bytes.hpp"
#include "common/core/result.hpp"

namespace vmroam {

[[nodiscard]] inline std::string to_hex(ByteView b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(b.size() * 2);
  for (auto c : b) {
    s += kDigits[c >> 4];
    s += kDigits[c & 15];
  }
  return s;
}

[[nodiscard]] inline Result<Bytes> from_hex(std::string_view s) {
  if (s.starts_with("0x") || s.starts_with("0X")) s.remove_prefix(2);
  if (s.size() % 2) return fail("bad_hex", "odd number of hex digits");
  auto val = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Bytes out;
  out.reserve(s.size() / 2);
  for (std::size_t i = 0; i < s.size(); i += 2) {
    int h = val(s[i]), l = val(s[i + 1]);
    if (h < 0 || l < 0) return fail("bad_hex", "not a hex digit at position " + std::to_string(i));
    out.push_back(static_cast<std::uint8_t>(h * 16 + l));
  }
  return out;
}

}  // namespace vmroam
