// IPv4 and MAC address value types with parsing and formatting. Pure, no I/O.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

#include "common/core/result.hpp"

namespace vmroam {

// An IPv4 address held in host byte order (so comparisons and arithmetic are natural).
class Ipv4 {
 public:
  constexpr Ipv4() = default;
  constexpr explicit Ipv4(std::uint32_t host_order) : v_(host_order) {}
  static constexpr Ipv4 from_octets(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    return Ipv4((std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) | d);
  }
  [[nodiscard]] static Result<Ipv4> parse(std::string_view s) {
    std::uint32_t v = 0;
    int parts = 0;
    std::size_t i = 0;
    while (parts < 4) {
      if (i >= s.size() || s[i] < '0' || s[i] > '9') return fail("bad_ipv4", std::string(s));
      std::uint32_t octet = 0;
      std::size_t digits = 0;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        octet = octet * 10 + static_cast<std::uint32_t>(s[i] - '0');
        if (++digits > 3 || octet > 255) return fail("bad_ipv4", std::string(s));
        ++i;
      }
      v = (v << 8) | octet;
      ++parts;
      if (parts < 4) {
        if (i >= s.size() || s[i] != '.') return fail("bad_ipv4", std::string(s));
        ++i;
      }
    }
    if (i != s.size()) return fail("bad_ipv4", std::string(s));
    return Ipv4(v);
  }
  [[nodiscard]] constexpr std::uint32_t value() const { return v_; }
  [[nodiscard]] constexpr bool is_zero() const { return v_ == 0; }
  [[nodiscard]] std::string to_string() const {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", v_ >> 24, (v_ >> 16) & 0xff, (v_ >> 8) & 0xff, v_ & 0xff);
    return buf;
  }
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 false positive on defaulted <=>
  friend constexpr auto operator<=>(Ipv4, Ipv4) = default;

 private:
  std::uint32_t v_ = 0;
};

// An IPv4 prefix such as 10.1.0.0/24.
struct Ipv4Prefix {
  Ipv4 address;
  int length = 32;
  [[nodiscard]] static Result<Ipv4Prefix> parse(std::string_view s) {
    auto slash = s.find('/');
    auto addr = Ipv4::parse(s.substr(0, slash));
    if (!addr) return fail(addr.error());
    int len = 32;
    if (slash != std::string_view::npos) {
      auto tail = s.substr(slash + 1);
      if (tail.empty() || tail.size() > 2) return fail("bad_prefix", std::string(s));
      len = 0;
      for (char c : tail) {
        if (c < '0' || c > '9') return fail("bad_prefix", std::string(s));
        len = len * 10 + (c - '0');
      }
      if (len > 32) return fail("bad_prefix", std::string(s));
    }
    return Ipv4Prefix{*addr, len};
  }
  [[nodiscard]] std::uint32_t mask() const { return length == 0 ? 0 : ~std::uint32_t{0} << (32 - length); }
  [[nodiscard]] bool contains(Ipv4 a) const { return (a.value() & mask()) == (address.value() & mask()); }
  [[nodiscard]] std::string to_string() const { return address.to_string() + "/" + std::to_string(length); }
  friend bool operator==(const Ipv4Prefix&, const Ipv4Prefix&) = default;
};

class MacAddress {
 public:
  constexpr MacAddress() = default;
  constexpr explicit MacAddress(std::array<std::uint8_t, 6> b) : b_(b) {}
  [[nodiscard]] static Result<MacAddress> parse(std::string_view s) {
    if (s.size() != 17) return fail("bad_mac", std::string(s));
    std::array<std::uint8_t, 6> b{};
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    for (int i = 0; i < 6; ++i) {
      const std::size_t o = static_cast<std::size_t>(i) * 3;
      int h = hex(s[o]), l = hex(s[o + 1]);
      if (h < 0 || l < 0 || (i < 5 && s[o + 2] != ':')) return fail("bad_mac", std::string(s));
      b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(h * 16 + l);
    }
    return MacAddress(b);
  }
  [[nodiscard]] const std::array<std::uint8_t, 6>& bytes() const { return b_; }
  [[nodiscard]] bool is_zero() const { return b_ == std::array<std::uint8_t, 6>{}; }
  [[nodiscard]] bool is_broadcast() const {
    return b_ == std::array<std::uint8_t, 6>{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  }
  [[nodiscard]] std::string to_string() const {
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", b_[0], b_[1], b_[2], b_[3], b_[4], b_[5]);
    return buf;
  }
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 false positive on defaulted <=>
  friend constexpr auto operator<=>(const MacAddress&, const MacAddress&) = default;

 private:
  std::array<std::uint8_t, 6> b_{};
};

}  // namespace vmroam

template <>
struct std::hash<vmroam::Ipv4> {
  std::size_t operator()(vmroam::Ipv4 a) const noexcept { return std::hash<std::uint32_t>{}(a.value()); }
};
