// common/wire/mobile_ip.hpp: the classification rules every parser relies on, checked over
// the whole byte range rather than a few samples: reply-code classes (RFC 5944 §3.4: 0–1
// accepted, 64–127 and 194 FA denials, 128–191 HA denials), extension skippability (RFC 5944 §1.9:
// 0–127 non-skippable) and the three long-header types (36, 38, 47); and that the request
// flags are eight distinct bits filling byte 1 (RFC 5944 §3.3).
#include <gtest/gtest.h>

#include <cstdint>
#include <set>

#include "common/wire/mobile_ip.hpp"

namespace vmroam::mip {
namespace {

TEST(ReplyCode, ClassesPartitionTheByteRange) {
  for (int c = 0; c <= 255; ++c) {
    const auto u = static_cast<std::uint8_t>(c);
    const int classes = int{code::is_accepted(u)} + int{code::is_fa_denial(u)} + int{code::is_ha_denial(u)};
    EXPECT_LE(classes, 1) << c;  // never two classes at once
    EXPECT_EQ(code::is_accepted(u), c <= 1) << c;
    EXPECT_EQ(code::is_fa_denial(u), (c >= 64 && c <= 127) || c == 194) << c;
    EXPECT_EQ(code::is_ha_denial(u), c >= 128 && c <= 191) << c;
  }
}

TEST(ReplyCode, NamedCodesAreInTheirClass) {
  EXPECT_TRUE(code::is_accepted(code::accepted));
  EXPECT_TRUE(code::is_fa_denial(code::fa_delivery_style_unsupported));
  EXPECT_TRUE(code::is_fa_denial(code::fa_ha_port_unreachable));
  EXPECT_TRUE(code::is_fa_denial(code::fa_invalid_home_agent));  // RFC 5944 §3.4: 194
  EXPECT_FALSE(code::is_ha_denial(code::fa_invalid_home_agent));
  EXPECT_TRUE(code::is_ha_denial(code::ha_udp_encapsulation_unavailable));
  EXPECT_TRUE(code::is_ha_denial(code::ha_pmip_unsupported));
  EXPECT_TRUE(code::is_ha_denial(code::ha_pmip_disallowed));
}

TEST(Extension, SkippableFromType128On) {
  for (int t = 0; t <= 255; ++t) EXPECT_EQ(ext::is_skippable(static_cast<std::uint8_t>(t)), t >= 128) << t;
  // The extensions we must understand or reject are below 128; the ones we may skip above.
  for (auto t :
       {ext::mn_ha_auth, ext::mn_fa_auth, ext::fa_ha_auth, ext::udp_tunnel_reply, ext::pmipv4_nonskip})
    EXPECT_FALSE(ext::is_skippable(t)) << int{t};
  for (auto t : {ext::mn_nai, ext::revocation_support, ext::udp_tunnel_request, ext::pmipv4_skip})
    EXPECT_TRUE(ext::is_skippable(t)) << int{t};
}

TEST(Extension, ExactlyThreeLongHeaderTypes) {
  std::set<int> long_types;
  for (int t = 0; t <= 255; ++t)
    if (ext::has_long_header(static_cast<std::uint8_t>(t))) long_types.insert(t);
  EXPECT_EQ(long_types, (std::set<int>{36, 38, 47}));
  EXPECT_FALSE(ext::has_long_header(ext::pmipv4_skip));  // 147 uses the short header
}

TEST(RequestFlags, EightDistinctBitsFillByteOne) {
  const std::uint8_t flags[] = {request_flag::S, request_flag::B, request_flag::D, request_flag::M,
                                request_flag::G, request_flag::r, request_flag::T, request_flag::x};
  unsigned all = 0;
  for (auto f : flags) {
    EXPECT_EQ(f & (f - 1), 0) << "not a single bit: " << int{f};
    EXPECT_EQ(all & f, 0u) << "bit used twice: " << int{f};
    all |= f;
  }
  EXPECT_EQ(all, 0xffu);
}

TEST(Constants, PortsSizesAndLifetimes) {
  EXPECT_EQ(kRegistrationPort, 434);
  EXPECT_EQ(kSpiSize, 4u);
  EXPECT_EQ(kSpiReservedMax, 255u);
  EXPECT_EQ(kTunnelDataHeaderSize, 4u);
  EXPECT_EQ(kLifetimeDeregister, 0);
  EXPECT_EQ(kLifetimeInfinite, 0xffff);
}

}  // namespace
}  // namespace vmroam::mip
