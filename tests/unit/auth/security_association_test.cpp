// common/auth/security_association: HMAC known answers (RFC 2104, RFC 4231), algorithm names,
// security-association validation at its exact boundaries (RFC 5944 §1.9 reserved SPIs,
// §5.1 key sizes) and the keyring: add, replace, remove, find; bad input changes nothing.
#include <gtest/gtest.h>

#include <string>

#include "common/auth/security_association.hpp"
#include "common/core/hex.hpp"

namespace vmroam::auth {
namespace {

Bytes text(std::string_view s) { return Bytes(s.begin(), s.end()); }

TEST(Hmac, KnownAnswers) {
  struct Case {
    const char* description;
    Algorithm algorithm;
    Bytes key;
    Bytes data;
    std::string digest;
  };
  const Case cases[] = {
      // RFC 2104 appendix test vectors (HMAC-MD5).
      {"RFC 2104 #1", Algorithm::hmac_md5, Bytes(16, 0x0b), text("Hi There"),
       "9294727a3638bb1c13f48ef8158bfc9d"},
      {"RFC 2104 #2", Algorithm::hmac_md5, text("Jefe"), text("what do ya want for nothing?"),
       "750c783e6ab0b503eaa86e310a5db738"},
      {"RFC 2104 #3", Algorithm::hmac_md5, Bytes(16, 0xaa), Bytes(50, 0xdd),
       "56be34521d144c88dbb8c733f0e8b3f6"},
      // RFC 4231 §4.2, 4.3, 4.4, 4.7 (HMAC-SHA-256).
      {"RFC 4231 case 1", Algorithm::hmac_sha256, Bytes(20, 0x0b), text("Hi There"),
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {"RFC 4231 case 2", Algorithm::hmac_sha256, text("Jefe"), text("what do ya want for nothing?"),
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {"RFC 4231 case 3", Algorithm::hmac_sha256, Bytes(20, 0xaa), Bytes(50, 0xdd),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {"RFC 4231 case 6", Algorithm::hmac_sha256, Bytes(131, 0xaa),
       text("Test Using Larger Than Block-Size Key - Hash Key First"),
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    const Digest d = hmac(c.algorithm, c.key, c.data);
    EXPECT_EQ(d.size, authenticator_size(c.algorithm));
    EXPECT_EQ(to_hex(d.view()), c.digest);
  }
}

TEST(Algorithm, NamesRoundTrip) {
  for (auto a : {Algorithm::hmac_md5, Algorithm::hmac_sha256})
    EXPECT_EQ(*parse_algorithm(algorithm_name(a)), a);
  EXPECT_EQ(parse_algorithm("md5").error().code, "unknown_algorithm");
  EXPECT_EQ(authenticator_size(Algorithm::hmac_md5), 16u);
  EXPECT_EQ(authenticator_size(Algorithm::hmac_sha256), 32u);
}

TEST(Algorithm, NamesAreExactAndErrorsSayWhatIsAccepted) {
  EXPECT_EQ(algorithm_name(Algorithm::hmac_md5), "hmac-md5");
  EXPECT_EQ(algorithm_name(Algorithm::hmac_sha256), "hmac-sha256");
  for (auto bad : {"", "HMAC-MD5", "hmac-sha-256", "hmac_sha256", "sha256", " hmac-md5"}) {
    auto r = parse_algorithm(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, "unknown_algorithm");
    EXPECT_NE(r.error().context.find("hmac-md5 or hmac-sha256"), std::string::npos);
  }
}

TEST(Hmac, EmptyDataAndKeyOfEveryAllowedSize) {
  // Same key and data give the same digest; one key bit more gives another.
  for (std::size_t n : {kMinKeySize, std::size_t{32}, kMaxKeySize}) {
    Bytes key(n, 0x42);
    const auto a = hmac(Algorithm::hmac_sha256, key, {});
    const auto b = hmac(Algorithm::hmac_sha256, key, {});
    EXPECT_EQ(a.size, 32u);
    EXPECT_EQ(to_hex(a.view()), to_hex(b.view()));
    key.back() ^= 1;
    EXPECT_NE(to_hex(hmac(Algorithm::hmac_sha256, key, {}).view()), to_hex(a.view()));
  }
  EXPECT_EQ(hmac(Algorithm::hmac_md5, Bytes(16, 1), {}).size, 16u);
}

TEST(SecurityAssociation, ValidationBoundaries) {
  struct Case {
    const char* description;
    SecurityAssociation sa;
    std::string_view error;
  };
  const Case cases[] = {
      {"SPI 256 is the first usable", {256, Algorithm::hmac_md5, Bytes(16, 1)}, ""},
      {"SPI 0xffffffff is usable", {0xffffffffu, Algorithm::hmac_md5, Bytes(16, 1)}, ""},
      {"SPI 255 is reserved", {255, Algorithm::hmac_md5, Bytes(16, 1)}, "reserved_spi"},
      {"16-byte key is the minimum", {300, Algorithm::hmac_sha256, Bytes(kMinKeySize, 1)}, ""},
      {"64-byte key is the maximum", {300, Algorithm::hmac_sha256, Bytes(kMaxKeySize, 1)}, ""},
      {"empty key", {300, Algorithm::hmac_sha256, {}}, "short_key"},
      {"15-byte key", {300, Algorithm::hmac_sha256, Bytes(kMinKeySize - 1, 1)}, "short_key"},
      {"65-byte key", {300, Algorithm::hmac_md5, Bytes(kMaxKeySize + 1, 1)}, "long_key"},
      {"reserved SPI wins over a short key", {7, Algorithm::hmac_md5, {}}, "reserved_spi"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    auto r = validate(c.sa);
    if (c.error.empty()) {
      EXPECT_TRUE(r) << r.error().to_string();
    } else {
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error().code, c.error);
      // The message names the SPI and never the key.
      EXPECT_NE(r.error().context.find("SPI " + std::to_string(c.sa.spi)), std::string::npos);
      if (!c.sa.key.empty()) {
        EXPECT_EQ(r.error().context.find(to_hex(c.sa.key)), std::string::npos);
      }
    }
  }
}

TEST(Keyring, AddReplaceRemoveFind) {
  Keyring ring;
  EXPECT_EQ(ring.find(1000), nullptr);
  const SecurityAssociation a{1000, Algorithm::hmac_md5, Bytes(16, 0xaa)};
  const SecurityAssociation b{1001, Algorithm::hmac_sha256, Bytes(32, 0xbb)};
  ASSERT_TRUE(ring.add(a));
  ASSERT_TRUE(ring.add(b));
  EXPECT_EQ(ring.size(), 2u);
  ASSERT_NE(ring.find(1000), nullptr);
  EXPECT_EQ(*ring.find(1000), a);
  // Adding the same SPI replaces its association (a key rotation).
  const SecurityAssociation a2{1000, Algorithm::hmac_sha256, Bytes(32, 0xcc)};
  ASSERT_TRUE(ring.add(a2));
  EXPECT_EQ(ring.size(), 2u);
  EXPECT_EQ(*ring.find(1000), a2);
  EXPECT_TRUE(ring.remove(1000));
  EXPECT_FALSE(ring.remove(1000));
  EXPECT_EQ(ring.find(1000), nullptr);
  EXPECT_EQ(ring.size(), 1u);
  EXPECT_EQ(*ring.find(1001), b);
}

TEST(Keyring, ABadReplacementKeepsTheOldAssociation) {
  Keyring ring;
  const SecurityAssociation a{1000, Algorithm::hmac_md5, Bytes(16, 0xaa)};
  ASSERT_TRUE(ring.add(a));
  auto r = ring.add({1000, Algorithm::hmac_md5, Bytes(3, 0xaa)});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "short_key");
  ASSERT_NE(ring.find(1000), nullptr);
  EXPECT_EQ(*ring.find(1000), a);
  EXPECT_EQ(ring.size(), 1u);
}

}  // namespace
}  // namespace vmroam::auth
