// common/wire/dsmip: the RFC 5454 §2 extension (type 152) carrying IPv6 home addresses. Bytes
// are written from the RFC's layout, not from our builders; then views, builders, the
// message-level check and the gatherers are run against them.
#include <gtest/gtest.h>

#include <string>

#include "common/core/hex.hpp"
#include "common/wire/dsmip.hpp"
#include "common/wire/registration.hpp"
#include "tests/unit/wire/message_fixtures.hpp"

namespace vmroam::wire {
namespace {

using fixtures::hex;

// 2001:db8:1::10/128 and 2001:db8:1::11/128.
const std::string kAddr10 = "20010db8000100000000000000000010";
const std::string kAddr11 = "20010db8000100000000000000000011";
const std::string kRequest10 = "98 12 01 80 " + kAddr10;  // §2.1, Length 18
const std::string kRequest11 = "98 12 01 80 " + kAddr11;
const std::string kReply10 = "98 14 02 00 80 00 " + kAddr10;  // §2.2, Length 20, code 0
const std::string kTunnelingMode = "98 02 03 00";             // §2.3: passed over

Extension one(const std::string& h) {
  auto list = split_extensions(hex(h), 0);
  EXPECT_TRUE(list) << h;
  EXPECT_EQ(list->size(), 1u) << h;
  return list->front();
}

TEST(Dsmip, RequestReadsAndRebuildsExactly) {
  const Extension e = one(kRequest10);
  auto q = Ipv6PrefixRequest::from(e);
  ASSERT_TRUE(q) << q.error().to_string();
  EXPECT_EQ(q->prefix_length, 128);
  EXPECT_EQ(q->prefix.to_string(), "2001:db8:1::10");
  EXPECT_EQ(to_hex(q->to_extension().raw), to_hex(e.raw));
  EXPECT_EQ(extension_name(e.type), "dsmipv4");
  EXPECT_TRUE(e.skippable());
}

TEST(Dsmip, ReplyReadsAndRebuildsExactlyKeepingReserved) {
  auto p = Ipv6PrefixReply::from(one(kReply10));
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_TRUE(p->success());
  EXPECT_EQ(p->prefix_length, 128);
  EXPECT_EQ(p->prefix.to_string(), "2001:db8:1::10");

  const Extension odd = one("98 14 02 81 40 7f " + kAddr11);  // a refusal, reserved set
  auto r = Ipv6PrefixReply::from(odd);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->success());
  EXPECT_EQ(r->code, 0x81);
  EXPECT_EQ(r->prefix_length, 64);
  EXPECT_EQ(r->reserved, 0x7f);
  EXPECT_EQ(to_hex(r->to_extension().raw), to_hex(odd.raw));
}

TEST(Dsmip, BuildersWriteTheRfcLayout) {
  Ipv6PrefixRequest q{128, *Ipv6::parse("2001:db8:1::11")};
  EXPECT_EQ(to_hex(q.to_extension().raw), to_hex(hex(kRequest11)));
  Ipv6PrefixReply p;
  p.prefix = *Ipv6::parse("2001:db8:1::10");
  EXPECT_EQ(to_hex(p.to_extension().raw), to_hex(hex(kReply10)));
}

struct BadCase {
  const char* description;
  std::string bytes;
  const char* code;
};

TEST(Dsmip, ViewsRefuseWhatTheRfcDoesNotAllow) {
  const BadCase cases[] = {
      {"request, length 17", "98 11 01 80 " + kAddr10.substr(0, 30), "bad_extension_length"},
      {"request, length 19", "98 13 01 80 " + kAddr10 + "00", "bad_extension_length"},
      {"reply, length 18", "98 12 02 00 " + kAddr10, "bad_extension_length"},
      {"reply, length 21", "98 15 02 00 80 00 " + kAddr10 + "00", "bad_extension_length"},
      {"request, prefix length 129", "98 12 01 81 " + kAddr10, "bad_prefix_length"},
      {"reply, prefix length 255", "98 14 02 00 ff 00 " + kAddr10, "bad_prefix_length"},
      {"no sub-type at all", "98 00", "bad_extension_length"},
  };
  for (const auto& c : cases) {
    const Extension e = one(c.bytes);
    auto r = check_dsmip(e);
    ASSERT_FALSE(r) << c.description;
    EXPECT_EQ(r.error().code, c.code) << c.description;
  }
}

TEST(Dsmip, ViewOfTheOtherSubTypeOrTypeIsRefused) {
  auto asReply = Ipv6PrefixReply::from(one(kRequest10));
  ASSERT_FALSE(asReply);
  EXPECT_EQ(asReply.error().code, "wrong_extension_type");
  auto asRequest = Ipv6PrefixRequest::from(one("93 12 01 80 " + kAddr10));  // type 147
  ASSERT_FALSE(asRequest);
  EXPECT_EQ(asRequest.error().code, "wrong_extension_type");
}

TEST(Dsmip, UnknownAndTunnelingModeSubTypesArePassedOver) {
  for (const std::string& h : {kTunnelingMode, std::string("98 01 00"), std::string("98 03 fe 01 02")}) {
    EXPECT_TRUE(check_dsmip(one(h))) << h;
  }
  EXPECT_EQ(dsmip_sub_type_name(3), "tunneling_mode");
  EXPECT_EQ(dsmip_sub_type_name(9), "unknown");
}

TEST(Dsmip, RequestMessageCarriesSeveralAddressesBeforeTheAuthenticator) {
  const std::string all = fixtures::kReq + kRequest10 + kTunnelingMode + kRequest11 + fixtures::kFaHa;
  auto m = parse_registration_request(hex(all));
  ASSERT_TRUE(m) << m.error().to_string();
  auto qs = ipv6_prefix_requests(m->extensions);
  ASSERT_TRUE(qs);
  ASSERT_EQ(qs->size(), 2u);
  EXPECT_EQ((*qs)[0].prefix.to_string(), "2001:db8:1::10");
  EXPECT_EQ((*qs)[1].prefix.to_string(), "2001:db8:1::11");
  auto ps = ipv6_prefix_replies(m->extensions);
  ASSERT_TRUE(ps);
  EXPECT_TRUE(ps->empty());
  EXPECT_EQ(to_hex(encode(*m)), to_hex(hex(all)));
}

TEST(Dsmip, ReplyMessageGathersReplies) {
  auto m = parse_registration_reply(hex(fixtures::kRep + kReply10 + fixtures::kFaHa));
  ASSERT_TRUE(m) << m.error().to_string();
  auto ps = ipv6_prefix_replies(m->extensions);
  ASSERT_TRUE(ps);
  ASSERT_EQ(ps->size(), 1u);
  EXPECT_EQ(ps->front().prefix.to_string(), "2001:db8:1::10");
}

TEST(Dsmip, MessageChecksRejectBadOnesAndUnauthenticatedOnes) {
  // A malformed known sub-type rejects the message (as the RFC 5563 §3.2 sub-types do).
  auto bad = parse_registration_request(hex(fixtures::kReq + "98 11 01 80 " + kAddr10.substr(0, 30)));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, "bad_extension_length");
  // After the authenticator it would not be covered by it (RFC 5944 §3.6.1.3).
  auto after = parse_registration_request(hex(fixtures::kReq + fixtures::kFaHa + kRequest10));
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().code, "auth_not_last");
  // Truncated: the Length runs past the end of the message.
  auto cut = parse_registration_request(hex(fixtures::kReq + kRequest10.substr(0, 20)));
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().code, "extension_overrun");
}

TEST(Ipv6Address, ParsesFormatsAndContains) {
  auto a = Ipv6::parse("2001:DB8:1:0:0:0:0:10");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->to_string(), "2001:db8:1::10");
  EXPECT_FALSE(a->is_link_local());
  EXPECT_TRUE(Ipv6::parse("fe80::1")->is_link_local());
  for (const char* bad : {"", "10.1.0.1", "2001:db8::1::2", "fe80::1%eth0", "2001:db8::g"}) {
    auto r = Ipv6::parse(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, "bad_ipv6") << bad;
  }
  auto p = Ipv6Prefix::parse("2001:db8:1::/64");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->contains(*a));
  EXPECT_FALSE(p->contains(*Ipv6::parse("2001:db8:2::10")));
  // A length that is not a multiple of 8: /45 covers 2001:db8:0:: to 2001:db8:7:ffff:….
  EXPECT_TRUE(Ipv6Prefix::parse("2001:db8::/45")->contains(*Ipv6::parse("2001:db8:7::1")));
  EXPECT_FALSE(Ipv6Prefix::parse("2001:db8::/45")->contains(*Ipv6::parse("2001:db8:8::1")));
  for (const char* bad : {"2001:db8::/129", "2001:db8::/", "2001:db8::/6x"}) {
    EXPECT_FALSE(Ipv6Prefix::parse(bad)) << bad;
  }
}

}  // namespace
}  // namespace vmroam::wire
