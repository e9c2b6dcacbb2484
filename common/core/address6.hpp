// IPv6 address and prefix value types with parsing and formatting. Pure, no I/O.
//
// Text goes through inet_pton/inet_ntop (pure libc conversions): parsing accepts every form
// RFC 4291 §2.2 allows, formatting gives glibc's canonical form (RFC 5952), so a value
// printed and parsed again is the same value.
#pragma once

#include <arpa/inet.h>

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/core/result.hpp"

namespace vmroam {

class Ipv6 {
 public:
  using Octets = std::array<std::uint8_t, 16>;

  constexpr Ipv6() = default;
  constexpr explicit Ipv6(Octets b) : b_(b) {}

  // Errors: "bad_ipv6" (the text is not an IPv6 address; zone suffixes are refused).
  [[nodiscard]] static Result<Ipv6> parse(std::string_view s) {
    if (s.empty() || s.size() >= INET6_ADDRSTRLEN) return fail("bad_ipv6", std::string(s));
    const std::string text(s);
    Octets b{};
    if (inet_pton(AF_INET6, text.c_str(), b.data()) != 1) return fail("bad_ipv6", text);
    return Ipv6(b);
  }
  [[nodiscard]] constexpr const Octets& bytes() const { return b_; }
  [[nodiscard]] constexpr bool is_zero() const { return b_ == Octets{}; }
  [[nodiscard]] constexpr bool is_multicast() const { return b_[0] == 0xff; }
  [[nodiscard]] constexpr bool is_link_local() const { return b_[0] == 0xfe && (b_[1] & 0xc0) == 0x80; }
  [[nodiscard]] std::string to_string() const {
    char buf[INET6_ADDRSTRLEN];
    if (inet_ntop(AF_INET6, b_.data(), buf, sizeof buf) == nullptr) return "?";
    return buf;
  }
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 false positive on defaulted <=>
  friend constexpr auto operator<=>(const Ipv6&, const Ipv6&) = default;

 private:
  Octets b_{};
};

// An IPv6 prefix such as 2001:db8:1::/64.
struct Ipv6Prefix {
  Ipv6 address;
  int length = 128;

  // Errors: "bad_ipv6", "bad_prefix" (length missing, not a number or over 128).
  [[nodiscard]] static Result<Ipv6Prefix> parse(std::string_view s) {
    const auto slash = s.find('/');
    auto addr = Ipv6::parse(s.substr(0, slash));
    if (!addr) return fail(addr.error());
    int len = 128;
    if (slash != std::string_view::npos) {
      const auto tail = s.substr(slash + 1);
      if (tail.empty() || tail.size() > 3) return fail("bad_prefix", std::string(s));
      len = 0;
      for (char c : tail) {
        if (c < '0' || c > '9') return fail("bad_prefix", std::string(s));
        len = len * 10 + (c - '0');
      }
      if (len > 128) return fail("bad_prefix", std::string(s));
    }
    return Ipv6Prefix{*addr, len};
  }
  [[nodiscard]] bool contains(const Ipv6& a) const {
    const auto& p = address.bytes();
    const auto& q = a.bytes();
    int bits = length;
    for (std::size_t i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
      const auto mask = static_cast<std::uint8_t>(bits >= 8 ? 0xff : 0xff << (8 - bits));
      if ((p[i] & mask) != (q[i] & mask)) return false;
    }
    return true;
  }
  [[nodiscard]] std::string to_string() const { return address.to_string() + "/" + std::to_string(length); }
  friend bool operator==(const Ipv6Prefix&, const Ipv6Prefix&) = default;
};

}  // namespace vmroam

template <>
struct std::hash<vmroam::Ipv6> {
  std::size_t operator()(const vmroam::Ipv6& a) const noexcept {
    std::size_t h = 0;
    for (auto b : a.bytes()) h = h * 131 + b;
    return h;
  }
};
