// common/auth/authenticator: authenticators over our own messages (RFC 5944 §3.5.1), tampering,
// truncation, SPI and keyring handling. HMAC itself is tested in security_association_test.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "common/auth/authenticator.hpp"
#include "common/core/hex.hpp"
#include "common/wire/message.hpp"

namespace vmroam::auth {
namespace {

Bytes hex(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), ' '), s.end());
  return from_hex(s).value();
}

const SecurityAssociation kFaHaMd5{0x1000, Algorithm::hmac_md5, hex("000102030405060708090a0b0c0d0e0f")};
const SecurityAssociation kMnHaSha{0x0101, Algorithm::hmac_sha256,
                                   hex("202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f")};

wire::RegistrationRequest proxy_request() {
  wire::RegistrationRequest q;
  q.flags = mip::request_flag::T;
  q.lifetime = 1800;
  q.home_address = Ipv4::from_octets(10, 1, 0, 10);
  q.home_agent = Ipv4::from_octets(10, 1, 0, 1);
  q.care_of_address = Ipv4::from_octets(10, 2, 0, 1);
  q.identification = 0xe9d2a4b000000001ull;
  q.append(wire::PmipDeviceId::ethernet(*MacAddress::parse("52:54:00:12:34:56")).to_extension().value());
  q.append(wire::PmipPerNodeAuth{}.to_extension());
  return q;
}

// Expected authenticators over our own messages. Cross-checked once with Python's hmac module
// over independently assembled bytes: MN = the covered prefix asserted below; then
//   /usr/bin/python3 -c "import hmac,hashlib; k=bytes(range(0x20,0x40)); mn=bytes.fromhex(MN);
//     a=hmac.new(k,mn,hashlib.sha256).digest(); print(a.hex());
//     print(hmac.new(bytes(range(16)), mn+a+bytes.fromhex('221400001000'), hashlib.md5).hexdigest())"
// which printed the two values below (the FA-HA one covers the MN-HA extension too).
TEST(Authenticator, KnownAnswerOverOurMessages) {
  auto q = proxy_request();
  ASSERT_TRUE(append_auth(q, mip::ext::mn_ha_auth, kMnHaSha));
  ASSERT_TRUE(append_auth(q, mip::ext::fa_ha_auth, kFaHaMd5));
  const Bytes b = encode(q);
  const auto& mn_ha = q.extensions[2];
  const auto& fa_ha = q.extensions[3];
  EXPECT_EQ(mn_ha.offset, 24u + 10 + 5);
  EXPECT_EQ(fa_ha.offset, mn_ha.offset + 2 + 4 + 32);
  auto mn_ha_covered = covered_bytes(b, mn_ha);
  auto fa_ha_covered = covered_bytes(b, fa_ha);
  ASSERT_TRUE(mn_ha_covered && fa_ha_covered);
  EXPECT_EQ(mn_ha_covered->size(), mn_ha.offset + 6);
  EXPECT_EQ(fa_ha_covered->size(), fa_ha.offset + 6);
  EXPECT_EQ(to_hex(*mn_ha_covered),
            "01020708"
            "0a01000a"
            "0a010001"
            "0a020001"
            "e9d2a4b000000001"
            "930802015254001234562f01000101"
            "202400000101");
  EXPECT_EQ(to_hex(*fa_ha_covered), to_hex(ByteView(b).first(fa_ha.offset)) + "221400001000");
  EXPECT_EQ(to_hex(wire::AuthExtension::from(mn_ha)->authenticator),
            "9a83924cd7bc5faab4670bce6de914c87e61988f2fd87d62b1c92c81e0b940d3");
  EXPECT_EQ(to_hex(wire::AuthExtension::from(fa_ha)->authenticator), "91f0bb56466ac8780e75f27238bc0d8f");
}

TEST(Authenticator, AppendThenVerifyEveryMessageKind) {
  for (const auto* sa : {&kFaHaMd5, &kMnHaSha}) {
    SCOPED_TRACE(algorithm_name(sa->algorithm));
    auto q = proxy_request();
    ASSERT_TRUE(append_auth(q, mip::ext::fa_ha_auth, *sa));
    EXPECT_TRUE(verify_message(q, mip::ext::fa_ha_auth, *sa));

    wire::RegistrationReply y;
    y.home_address = q.home_address;
    y.identification = q.identification;
    ASSERT_TRUE(append_auth(y, mip::ext::mn_ha_auth, *sa));
    EXPECT_TRUE(verify_message(y, mip::ext::mn_ha_auth, *sa));

    wire::Revocation v;  // RFC 3543 §3.1: FA-HA authentication
    v.flags = mip::revocation::flag_A;
    v.revocation_id = 9;
    ASSERT_TRUE(append_auth(v, mip::ext::fa_ha_auth, *sa));
    EXPECT_TRUE(verify_message(v, mip::ext::fa_ha_auth, *sa));

    wire::RevocationAck k;
    k.revocation_id = 9;
    ASSERT_TRUE(append_auth(k, mip::ext::fa_ha_auth, *sa));
    EXPECT_TRUE(verify_message(k, mip::ext::fa_ha_auth, *sa));
    // The built message parses (auth is last, lengths right) and verifies from the bytes.
    const Bytes kb = encode(k);
    auto parsed = wire::parse_revocation_ack(kb);
    ASSERT_TRUE(parsed) << parsed.error().to_string();
    EXPECT_TRUE(verify(kb, parsed->extensions, mip::ext::fa_ha_auth, *sa));
  }
}

TEST(Authenticator, KeyringPicksTheSaBySpi) {
  Keyring ring;
  ASSERT_TRUE(ring.add(kFaHaMd5));
  ASSERT_TRUE(ring.add(kMnHaSha));
  auto q = proxy_request();
  ASSERT_TRUE(append_auth(q, mip::ext::mn_ha_auth, kMnHaSha));
  ASSERT_TRUE(append_auth(q, mip::ext::fa_ha_auth, kFaHaMd5));
  const Bytes b = encode(q);
  auto p = wire::parse_registration_request(b);
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_TRUE(verify(b, p->extensions, mip::ext::mn_ha_auth, ring));
  EXPECT_TRUE(verify(b, p->extensions, mip::ext::fa_ha_auth, ring));
  EXPECT_EQ(*auth_spi(p->extensions, mip::ext::fa_ha_auth), 0x1000u);
  EXPECT_EQ(verify(b, p->extensions, mip::ext::mn_fa_auth, ring).error().code, "missing_auth");
  EXPECT_TRUE(ring.remove(kFaHaMd5.spi));
  EXPECT_FALSE(ring.remove(kFaHaMd5.spi));
  EXPECT_EQ(verify(b, p->extensions, mip::ext::fa_ha_auth, ring).error().code, "unknown_spi");
  EXPECT_EQ(verify(b, p->extensions, mip::ext::fa_ha_auth, kMnHaSha).error().code, "spi_mismatch");
  // Same SPI, different key: a mismatch, not a pass.
  SecurityAssociation other = kFaHaMd5;
  other.key[0] ^= 1;
  EXPECT_EQ(verify(b, p->extensions, mip::ext::fa_ha_auth, other).error().code, "auth_mismatch");
  // Same SPI, algorithm bound differently: the length no longer matches.
  other = kFaHaMd5;
  other.algorithm = Algorithm::hmac_sha256;
  EXPECT_EQ(verify(b, p->extensions, mip::ext::fa_ha_auth, other).error().code, "auth_length_mismatch");
}

TEST(Authenticator, TamperingAnyCoveredByteFails) {
  auto q = proxy_request();
  ASSERT_TRUE(append_auth(q, mip::ext::fa_ha_auth, kMnHaSha));
  const Bytes good = encode(q);
  ASSERT_TRUE(verify(good, q.extensions, mip::ext::fa_ha_auth, kMnHaSha));
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (std::uint8_t flip : {std::uint8_t{0x01}, std::uint8_t{0x80}}) {
      Bytes bad = good;
      bad[i] ^= flip;
      auto p = wire::parse_message(bad);
      if (!p) continue;  // the parser already refuses it (type, lengths): also a failure
      auto* req = std::get_if<wire::RegistrationRequest>(&*p);
      ASSERT_NE(req, nullptr);
      EXPECT_FALSE(verify(bad, req->extensions, mip::ext::fa_ha_auth, kMnHaSha))
          << "byte " << i << " flipped with " << int(flip);
    }
  }
}

TEST(Authenticator, WrongLengthAuthenticatorFailsNotAPrefixCompare) {
  auto q = proxy_request();
  const Bytes prefix = encode(q);
  auto full = make_auth_extension(prefix, mip::ext::fa_ha_auth, kFaHaMd5);
  ASSERT_TRUE(full);
  auto a = wire::AuthExtension::from(*full).value();
  for (std::size_t n : {std::size_t{1}, std::size_t{15}, std::size_t{17}}) {
    SCOPED_TRACE(n);
    wire::AuthExtension cut = a;
    cut.authenticator.resize(n, 0);  // a correct prefix, or the correct value plus a byte
    auto m = q;
    m.append(cut.to_extension().value());
    const Bytes b = encode(m);
    auto p = wire::parse_registration_request(b);
    ASSERT_TRUE(p);
    EXPECT_EQ(verify(b, p->extensions, mip::ext::fa_ha_auth, kFaHaMd5).error().code, "auth_length_mismatch");
  }
}

TEST(Authenticator, ExtensionListMustMatchTheBytes) {
  auto q = proxy_request();
  ASSERT_TRUE(append_auth(q, mip::ext::fa_ha_auth, kFaHaMd5));
  Bytes b = encode(q);
  b.pop_back();  // the list says the extension is longer than the bytes hold
  EXPECT_EQ(verify(b, q.extensions, mip::ext::fa_ha_auth, kFaHaMd5).error().code, "bad_extension_offset");
}

TEST(SecurityAssociation, Validation) {
  struct Case {
    const char* description;
    SecurityAssociation sa;
    std::string_view error;
  };
  const Case cases[] = {
      {"good md5", kFaHaMd5, ""},
      {"good sha256", kMnHaSha, ""},
      {"SPI 255 is reserved", {255, Algorithm::hmac_md5, Bytes(16, 1)}, "reserved_spi"},
      {"SPI 0 is reserved", {0, Algorithm::hmac_md5, Bytes(16, 1)}, "reserved_spi"},
      {"15-byte key", {256, Algorithm::hmac_md5, Bytes(15, 1)}, "short_key"},
      {"65-byte key", {256, Algorithm::hmac_sha256, Bytes(65, 1)}, "long_key"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    Keyring ring;
    auto r = ring.add(c.sa);
    if (c.error.empty()) {
      EXPECT_TRUE(r);
      ASSERT_NE(ring.find(c.sa.spi), nullptr);
      EXPECT_EQ(*ring.find(c.sa.spi), c.sa);
    } else {
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error().code, c.error);
      EXPECT_EQ(ring.size(), 0u);
      auto reasons = failure_reasons();
      EXPECT_NE(std::find(reasons.begin(), reasons.end(), r.error().code), reasons.end());
      // Appending with a bad SA fails and leaves the message untouched.
      auto q = proxy_request();
      EXPECT_EQ(append_auth(q, mip::ext::fa_ha_auth, c.sa).error().code, c.error);
      EXPECT_EQ(q.extensions.size(), 2u);
    }
  }
}

}  // namespace
}  // namespace vmroam::auth
