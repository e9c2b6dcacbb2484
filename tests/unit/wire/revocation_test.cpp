// common/wire/revocation: Registration Revocation (type 7, 20-byte fixed part) and its
// Acknowledgement (type 15, 12 bytes), RFC 3543 §3.1–3.2: fields and flag bits, reserved bits
// kept for encode(parse(b)) == b, the exact truncation boundaries, the wrong type refused,
// and built messages parse back equal.
#include <gtest/gtest.h>

#include <string>

#include "common/core/hex.hpp"
#include "common/wire/message.hpp"
#include "tests/unit/wire/message_fixtures.hpp"

namespace vmroam::wire {
namespace {

using namespace fixtures;

TEST(Revocation, Fields) {
  auto r = parse_revocation(hex(kRev + kFaHa));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->from_home_agent());
  EXPECT_TRUE(r->inform());
  EXPECT_EQ(r->home_address.to_string(), "10.1.0.10");
  EXPECT_EQ(r->home_domain_address.to_string(), "10.1.0.1");
  EXPECT_EQ(r->foreign_domain_address.to_string(), "10.2.0.1");
  EXPECT_EQ(r->revocation_id, 7u);
  ASSERT_EQ(r->extensions.size(), 1u);
  EXPECT_EQ(r->extensions[0].offset, 20u);
  auto a = parse_revocation_ack(hex(kAck + kFaHa));
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->inform());
  EXPECT_EQ(a->home_address.to_string(), "10.1.0.10");
  EXPECT_EQ(a->revocation_id, 7u);
  EXPECT_EQ(a->extensions[0].offset, 12u);
}

TEST(Revocation, FlagBitsAreIndependent) {
  struct Case {
    const char* description;
    std::string flags;
    bool from_home_agent;
    bool inform;
  };
  const Case cases[] = {
      {"none", "0000", false, false},
      {"A only (sent by the home domain)", "8000", true, false},
      {"I only (inform the mobile node)", "4000", false, true},
      {"A and I", "c000", true, true},
      {"reserved bits alone set neither", "3fff", false, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    const Bytes b = hex("07 00 " + c.flags + " 0a01000a 0a010001 0a020001 00000007");
    auto r = parse_revocation(b);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->from_home_agent(), c.from_home_agent);
    EXPECT_EQ(r->inform(), c.inform);
    // Reserved bits and the reserved byte survive a round trip.
    EXPECT_EQ(to_hex(encode(*r)), to_hex(b));
  }
}

TEST(Revocation, ReservedByteIsKept) {
  const Bytes b = hex("07 5a 8000 0a01000a 0a010001 0a020001 ffffffff");
  auto r = parse_revocation(b);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reserved, 0x5a);
  EXPECT_EQ(r->revocation_id, 0xffffffffu);
  EXPECT_EQ(to_hex(encode(*r)), to_hex(b));
}

TEST(Revocation, TruncationBoundaries) {
  const Bytes rev = hex(kRev);
  ASSERT_EQ(rev.size(), 20u);
  for (std::size_t n = 0; n < rev.size(); ++n) {
    auto r = parse_revocation(ByteView(rev).first(n));
    ASSERT_FALSE(r) << n << " bytes";
    EXPECT_EQ(r.error().code, "truncated") << n << " bytes";
  }
  EXPECT_TRUE(parse_revocation(rev));
  const Bytes ack = hex(kAck);
  ASSERT_EQ(ack.size(), 12u);
  for (std::size_t n = 0; n < ack.size(); ++n) {
    auto r = parse_revocation_ack(ByteView(ack).first(n));
    ASSERT_FALSE(r) << n << " bytes";
    EXPECT_EQ(r.error().code, "truncated") << n << " bytes";
  }
  EXPECT_TRUE(parse_revocation_ack(ack));
}

TEST(Revocation, EachParserRefusesTheOtherType) {
  auto r = parse_revocation(hex(kAck + "0000000000000000"));  // 20 bytes, but type 15
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "bad_type");
  auto a = parse_revocation_ack(hex(kRev));  // type 7
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, "bad_type");
  auto q = parse_revocation(hex(kReq));  // a Registration Request
  ASSERT_FALSE(q);
  EXPECT_EQ(q.error().code, "bad_type");
}

TEST(Revocation, ExtensionsAreCheckedLikeAnyMessage) {
  auto cut = parse_revocation(hex(kRev + "22 14 00000200 f0f1"));
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().code, "extension_overrun");
  auto after_auth = parse_revocation_ack(hex(kAck + kFaHa + kNai));
  ASSERT_FALSE(after_auth);
  EXPECT_EQ(after_auth.error().code, "auth_not_last");
  auto unknown = parse_revocation(hex(kRev + "64 00" + kFaHa));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, "unknown_nonskippable_extension");
}

TEST(Revocation, AckInformBitIsTheTopBit) {
  auto a = parse_revocation_ack(hex("0f 00 4000 0a01000a 00000007"));
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->inform());  // 0x4000 is reserved in the ack (RFC 3543 §3.2)
  a = parse_revocation_ack(hex("0f 00 8000 0a01000a 00000007"));
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->inform());
}

TEST(RoundTrip, BuiltRevocationAndAckParseBackEqual) {
  Revocation v;
  v.flags = mip::revocation::flag_A | mip::revocation::flag_I;
  v.home_address = Ipv4::from_octets(10, 1, 0, 10);
  v.home_domain_address = Ipv4::from_octets(10, 1, 0, 1);
  v.foreign_domain_address = Ipv4::from_octets(10, 2, 0, 1);
  v.revocation_id = 42;
  v.append(AuthExtension{mip::ext::fa_ha_auth, 512, Bytes(32, 0xa5)}.to_extension().value());
  EXPECT_EQ(v.extensions.back().offset, 20u);
  const Bytes bv = encode(v);
  EXPECT_EQ(bv.size(), v.encoded_size());
  auto pv = parse_revocation(bv);
  ASSERT_TRUE(pv) << pv.error().to_string();
  EXPECT_EQ(*pv, v);

  RevocationAck k;
  k.flags = RevocationAck::kFlagI;
  k.home_address = v.home_address;
  k.revocation_id = 42;
  k.append(AuthExtension{mip::ext::fa_ha_auth, 512, Bytes(32, 0x5a)}.to_extension().value());
  EXPECT_EQ(k.extensions.back().offset, 12u);
  const Bytes bk = encode(k);
  EXPECT_EQ(bk.size(), k.encoded_size());
  auto pk = parse_revocation_ack(bk);
  ASSERT_TRUE(pk) << pk.error().to_string();
  EXPECT_EQ(*pk, k);
}

}  // namespace
}  // namespace vmroam::wire
