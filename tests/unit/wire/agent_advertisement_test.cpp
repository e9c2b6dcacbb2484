// Agent Advertisement / Agent Solicitation codec (RFC 5944 §2, RFC 1256). Table-driven.
//
// kAdvert's checksum was computed independently with scapy's checksum() under
// /usr/bin/python3 over the same bytes with a zero checksum field.
#include <gtest/gtest.h>

#include <string>

#include "common/core/hex.hpp"
#include "common/wire/agent_advertisement.hpp"
#include "common/wire/ipv4.hpp"
#include "common/wire/mobile_ip.hpp"

namespace vmroam::wire {
namespace {

namespace advert = mip::advert;

Bytes hex(std::string_view s) {
  std::string clean;
  for (char c : s) {
    if (c != ' ') clean += c;
  }
  auto b = from_hex(clean);
  if (!b) std::abort();
  return *b;
}
Ipv4 ip(std::string_view s) { return *Ipv4::parse(s); }

// Router advertisement: 1 address 10.2.0.1 preference 0, lifetime 1800; extension 16:
// length 10, sequence 5, registration lifetime 600, flags F|T, care-of 10.2.0.1.
const Bytes kAdvert =
    hex("09 00 b788 01 02 0708"
        "0a020001 00000000"
        "10 0a 0005 0258 1100 0a020001");

AgentAdvertisement fa_advert() {
  AgentAdvertisement a;
  a.router_lifetime = 1800;
  a.routers = {{ip("10.2.0.1"), 0}};
  a.sequence = 5;
  a.registration_lifetime = 600;
  a.flags = advert::flag_F | advert::flag_T;
  a.care_of_addresses = {ip("10.2.0.1")};
  return a;
}

// Recomputes the ICMP checksum after a test edits bytes.
Bytes with_checksum(Bytes m) {
  m[2] = 0;
  m[3] = 0;
  auto c = internet_checksum(m);
  m[2] = static_cast<std::uint8_t>(c >> 8);
  m[3] = static_cast<std::uint8_t>(c);
  return m;
}

TEST(AgentAdvertisement, BuildMatchesKnownBytes) {
  auto b = build_agent_advertisement(fa_advert());
  ASSERT_TRUE(b) << b.error().to_string();
  EXPECT_EQ(to_hex(*b), to_hex(kAdvert));
}

TEST(AgentAdvertisement, ParsesKnownBytes) {
  auto a = parse_agent_advertisement(kAdvert);
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_EQ(*a, fa_advert());
  EXPECT_FALSE(a->prefix_lengths.has_value());
}

TEST(AgentAdvertisement, RoundTrips) {
  struct Case {
    const char* description;
    AgentAdvertisement adv;
  };
  auto make = [](auto f) {
    AgentAdvertisement a = fa_advert();
    f(a);
    return a;
  };
  std::vector<Ipv4> many;
  for (std::uint32_t i = 0; i < kMaxCareOfAddresses; ++i) many.push_back(Ipv4(0x0a020000 + i));
  const Case cases[] = {
      {"FA with one care-of", fa_advert()},
      {"HA: no care-of, no routers, code 16", make([](AgentAdvertisement& a) {
         a.code = advert::kCodeNotRouter;
         a.routers.clear();
         a.care_of_addresses.clear();
         a.flags = advert::flag_H;
       })},
      {"three care-of addresses, all flags", make([](AgentAdvertisement& a) {
         a.care_of_addresses = {ip("10.2.0.1"), ip("10.3.0.1"), ip("192.0.2.77")};
         a.flags = 0xffe0;  // R B H F M G r T U X I
         a.sequence = 0xffff;
         a.registration_lifetime = mip::kLifetimeInfinite;
       })},
      {"62 care-of addresses (the most the length byte allows)",
       make([&](AgentAdvertisement& a) { a.care_of_addresses = many; })},
      {"two routers with prefix lengths and negative preference", make([](AgentAdvertisement& a) {
         a.routers = {{ip("10.2.0.1"), -5}, {ip("10.2.1.1"), 0x7fffffff}};
         a.prefix_lengths = std::vector<std::uint8_t>{24, 32};
       })},
      {"no routers, empty prefix-lengths extension", make([](AgentAdvertisement& a) {
         a.routers.clear();
         a.prefix_lengths = std::vector<std::uint8_t>{};
       })},
      {"challenge extension", make([](AgentAdvertisement& a) { a.challenge = hex("0102030405060708"); })},
  };
  for (const auto& c : cases) {
    auto b = build_agent_advertisement(c.adv);
    ASSERT_TRUE(b) << c.description << ": " << b.error().to_string();
    auto back = parse_agent_advertisement(*b);
    ASSERT_TRUE(back) << c.description << ": " << back.error().to_string();
    EXPECT_EQ(*back, c.adv) << c.description;
    auto again = build_agent_advertisement(*back);
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, *b) << c.description << ": encode(decode(b)) != b";
  }
}

TEST(AgentAdvertisement, ExtensionLengthCountsCareOfAddresses) {
  AgentAdvertisement a = fa_advert();
  a.care_of_addresses = {ip("10.2.0.1"), ip("10.3.0.1"), ip("10.4.0.1")};
  auto b = build_agent_advertisement(a);
  ASSERT_TRUE(b);
  // ICMP header 4 + RA fixed 4 + one router 8 = offset 16 of extension 16.
  EXPECT_EQ((*b)[16], mip::ext::agent_advertisement);
  EXPECT_EQ((*b)[17], 6 + 4 * 3);
}

TEST(AgentAdvertisement, ReservedFlagBitsAreSentZeroAndIgnoredOnReceipt) {
  AgentAdvertisement a = fa_advert();
  a.flags = 0xffff;
  auto b = build_agent_advertisement(a);
  ASSERT_TRUE(b);
  auto back = parse_agent_advertisement(*b);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->flags, 0xffe0);
  Bytes m = kAdvert;
  m[21] |= 0x1f;  // reserved bits set by a peer
  auto parsed = parse_agent_advertisement(with_checksum(m));
  ASSERT_TRUE(parsed) << parsed.error().to_string();
  EXPECT_EQ(parsed->flags & advert::flag_F, advert::flag_F);
  EXPECT_EQ(parsed->flags & kAdvertFlagsReservedMask, 0);  // dropped on receipt, not kept
}

TEST(AgentAdvertisement, PaddingSkippableExtensionsAndLargerEntries) {
  // Entry size 3 (an extra word per router, skipped), padding bytes around extension 16, a
  // skippable extension 200 after it.
  Bytes m =
      hex("09 00 0000 01 03 0708"
          "0a020001 00000007 deadbeef"
          "00 10 0a 0005 0258 1100 0a020001 00"
          "c8 02 abcd");
  auto a = parse_agent_advertisement(with_checksum(m));
  ASSERT_TRUE(a) << a.error().to_string();
  ASSERT_EQ(a->routers.size(), 1u);
  EXPECT_EQ(a->routers[0].preference, 7);
  EXPECT_EQ(a->care_of_addresses, std::vector<Ipv4>{ip("10.2.0.1")});
}

TEST(AgentAdvertisement, Rejections) {
  struct Case {
    const char* description;
    Bytes input;
    std::string_view expected;
  };
  auto edit = [](std::size_t at, std::string_view replacement) {
    Bytes m = kAdvert;
    Bytes r = hex(replacement);
    m.resize(std::max(m.size(), at + r.size()));
    std::copy(r.begin(), r.end(), m.begin() + static_cast<std::ptrdiff_t>(at));
    return with_checksum(m);
  };
  auto append = [](std::string_view more) {
    Bytes m = kAdvert;
    Bytes r = hex(more);
    m.insert(m.end(), r.begin(), r.end());
    return with_checksum(m);
  };
  auto cut = [](std::size_t n) { return with_checksum(Bytes(kAdvert.begin(), kAdvert.begin() + n)); };
  Bytes bad_sum = kAdvert;
  bad_sum[20] ^= 0x80;  // flag R flipped, checksum stale
  const Case cases[] = {
      {"3 bytes", hex("090000"), "truncated"},
      {"checksum", bad_sum, "bad_checksum"},
      {"echo request type", edit(0, "08"), "not_router_advertisement"},
      {"code 1", edit(1, "01"), "bad_code"},
      {"RA header cut", cut(6), "truncated"},
      {"entry size 1", edit(5, "01"), "bad_entry_size"},
      {"three routers claimed, one present", edit(4, "03"), "truncated"},
      {"plain router advertisement", cut(16), "not_agent_advertisement"},
      {"extension 16 length 5", edit(17, "05"), "bad_extension_length"},
      {"extension 16 length 8 (not 6+4N)",
       [&] {
         Bytes m = kAdvert;
         m[17] = 8;
         m.resize(16 + 2 + 8);
         return with_checksum(m);
       }(),
       "bad_extension_length"},
      {"extension 16 longer than the message", edit(17, "0e"), "truncated"},
      {"extension type byte without length", append("13"), "truncated"},
      {"second extension 16", append("10 06 0006 0258 1000"), "duplicate_extension"},
      {"prefix lengths: 2 for 1 router", append("13 02 18 18"), "prefix_count_mismatch"},
      {"prefix length 33", append("13 01 21"), "bad_prefix_length"},
      {"second prefix-lengths", append("13 01 18 13 01 18"), "duplicate_extension"},
      {"empty challenge", append("18 00"), "bad_extension_length"},
      {"unknown non-skippable extension 20", append("14 02 0000"), "unknown_extension"},
  };
  for (const auto& c : cases) {
    auto r = parse_agent_advertisement(c.input);
    ASSERT_FALSE(r) << c.description;
    EXPECT_EQ(r.error().code, c.expected) << c.description << ": " << r.error().to_string();
  }
}

TEST(AgentAdvertisement, BuildRejections) {
  struct Case {
    const char* description;
    AgentAdvertisement adv;
    std::string_view expected;
  };
  auto make = [](auto f) {
    AgentAdvertisement a = fa_advert();
    f(a);
    return a;
  };
  const Case cases[] = {
      {"63 care-of addresses",
       make([](AgentAdvertisement& a) { a.care_of_addresses.assign(63, ip("10.2.0.1")); }),
       "too_many_care_of"},
      {"256 routers", make([](AgentAdvertisement& a) { a.routers.resize(256); }), "too_many_routers"},
      {"prefix lengths without matching routers", make([](AgentAdvertisement& a) {
         a.prefix_lengths = std::vector<std::uint8_t>{24, 24};
       }),
       "prefix_count_mismatch"},
      {"prefix length 40",
       make([](AgentAdvertisement& a) { a.prefix_lengths = std::vector<std::uint8_t>{40}; }),
       "bad_prefix_length"},
      {"code 3", make([](AgentAdvertisement& a) { a.code = 3; }), "bad_code"},
      {"empty challenge", make([](AgentAdvertisement& a) { a.challenge = Bytes{}; }), "bad_challenge"},
  };
  for (const auto& c : cases) {
    auto r = build_agent_advertisement(c.adv);
    ASSERT_FALSE(r) << c.description;
    EXPECT_EQ(r.error().code, c.expected) << c.description;
  }
}

TEST(AgentAdvertisement, PacketHasTtl1AndValidChecksums) {
  auto p = build_agent_advertisement_packet(ip("10.2.0.1"), ip("224.0.0.1"), fa_advert());
  ASSERT_TRUE(p);
  auto h = parse_ipv4(*p);
  ASSERT_TRUE(h) << h.error().to_string();
  EXPECT_EQ(h->ttl, 1);
  EXPECT_EQ(h->protocol, mip::kIpProtoIcmp);
  EXPECT_EQ(h->dst, ip("224.0.0.1"));
  EXPECT_EQ(to_hex(ipv4_payload(*p, *h)), to_hex(kAdvert));
}

TEST(AgentSolicitation, BuildParseAndPacket) {
  EXPECT_EQ(to_hex(build_agent_solicitation()), "0a00f5ff00000000");
  EXPECT_TRUE(parse_agent_solicitation(build_agent_solicitation()));
  Bytes p = build_agent_solicitation_packet(ip("10.2.0.50"), ip("255.255.255.255"));
  auto h = parse_ipv4(p);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->ttl, advert::kSolicitationTtl);
  EXPECT_EQ(h->protocol, mip::kIpProtoIcmp);
  EXPECT_TRUE(parse_agent_solicitation(ipv4_payload(p, *h)));
}

TEST(AgentSolicitation, Rejections) {
  struct Case {
    const char* description;
    Bytes input;
    std::string_view expected;
  };
  const Case cases[] = {
      {"3 bytes", hex("0a0000"), "truncated"},
      {"4 bytes (RFC 1256 needs 8)", with_checksum(hex("0a000000")), "truncated"},
      {"checksum", hex("0a00f5fe00000000"), "bad_checksum"},
      {"advertisement type", with_checksum(hex("0900000000000000")), "not_router_solicitation"},
      {"code 1", with_checksum(hex("0a01000000000000")), "bad_code"},
  };
  for (const auto& c : cases) {
    auto r = parse_agent_solicitation(c.input);
    ASSERT_FALSE(r) << c.description;
    EXPECT_EQ(r.error().code, c.expected) << c.description;
  }
}

}  // namespace
}  // namespace vmroam::wire
