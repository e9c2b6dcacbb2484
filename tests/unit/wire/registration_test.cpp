// common/wire/registration: Registration Request (24-byte fixed part) and Reply (20 bytes),
// RFC 5944 §3.3–3.4: every field and flag bit, and built messages parse back equal.
#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "common/core/hex.hpp"
#include "common/wire/message.hpp"
#include "tests/unit/wire/message_fixtures.hpp"

namespace vmroam::wire {
namespace {

using namespace fixtures;

TEST(RegistrationRequest, Fields) {
  auto r = parse_message(hex(kReq + kMnHa));
  ASSERT_TRUE(r);
  ASSERT_TRUE(std::holds_alternative<RegistrationRequest>(*r));
  EXPECT_EQ(message_name(*r), "registration_request");
  const auto& m = std::get<RegistrationRequest>(*r);
  EXPECT_EQ(m.flags, 0x02);
  EXPECT_TRUE(m.reverse_tunnel());
  EXPECT_FALSE(m.simultaneous_bindings());
  EXPECT_EQ(m.lifetime, 1800);
  EXPECT_EQ(m.home_address.to_string(), "10.1.0.10");
  EXPECT_EQ(m.home_agent.to_string(), "10.1.0.1");
  EXPECT_EQ(m.care_of_address.to_string(), "10.2.0.1");
  EXPECT_EQ(m.identification, 0xe9d2a4b000000001ull);
  ASSERT_EQ(m.extensions.size(), 1u);
  EXPECT_EQ(m.extensions[0].type, mip::ext::mn_ha_auth);
  EXPECT_EQ(m.extensions[0].offset, 24u);
  EXPECT_EQ(m.extensions[0].length(), 20u);
  EXPECT_EQ(m.extensions[0].size(), 22u);
  EXPECT_EQ(to_hex(m.extensions[0].raw), to_hex(hex(kMnHa)));
}

TEST(RegistrationRequest, EachFlagHasItsBit) {
  struct FlagCase {
    std::uint8_t mask;
    bool (RegistrationRequest::*get)() const;
  };
  const FlagCase flags[] = {
      {mip::request_flag::S, &RegistrationRequest::simultaneous_bindings},
      {mip::request_flag::B, &RegistrationRequest::broadcast},
      {mip::request_flag::D, &RegistrationRequest::decapsulation_by_mn},
      {mip::request_flag::M, &RegistrationRequest::minimal_encapsulation},
      {mip::request_flag::G, &RegistrationRequest::gre},
      {mip::request_flag::r, &RegistrationRequest::reserved_r},
      {mip::request_flag::T, &RegistrationRequest::reverse_tunnel},
      {mip::request_flag::x, &RegistrationRequest::reserved_x},
  };
  for (const auto& f : flags) {
    RegistrationRequest m;
    m.set_flag(f.mask, true);
    auto b = encode(m);
    EXPECT_EQ(b[1], f.mask);
    auto p = parse_registration_request(b);
    ASSERT_TRUE(p);
    for (const auto& g : flags)
      EXPECT_EQ(((*p).*(g.get))(), g.mask == f.mask) << int(f.mask) << " " << int(g.mask);
    m.set_flag(f.mask, false);
    EXPECT_EQ(m.flags, 0);
  }
}

TEST(RegistrationReply, Fields) {
  auto r = parse_registration_reply(hex("03 85 0000 0a01000a 0a010001 e9d2a4b5 00000001"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, mip::code::ha_identification_mismatch);
  EXPECT_FALSE(r->accepted());
  EXPECT_EQ(r->lifetime, 0);
  EXPECT_EQ(r->home_address.to_string(), "10.1.0.10");
  EXPECT_EQ(r->home_agent.to_string(), "10.1.0.1");
  EXPECT_EQ(r->identification, 0xe9d2a4b500000001ull);
  EXPECT_TRUE(r->extensions.empty());
  // A reply is not a request: the specific parsers check the type.
  EXPECT_EQ(parse_registration_request(hex(kRep)).error().code, "bad_type");
}

TEST(RoundTrip, BuiltRequestAndReplyParseBackEqual) {
  RegistrationRequest q;
  q.flags = mip::request_flag::T;
  q.lifetime = 600;
  q.home_address = Ipv4::from_octets(10, 1, 0, 10);
  q.home_agent = Ipv4::from_octets(10, 1, 0, 1);
  q.care_of_address = Ipv4::from_octets(10, 2, 0, 1);
  q.identification = 0x0102030405060708ull;
  q.append(PmipDeviceId::ethernet(*MacAddress::parse("52:54:00:aa:bb:cc")).to_extension().value());
  q.append(PmipPerNodeAuth{}.to_extension());
  q.append(UdpTunnelRequest{}.to_extension());
  q.append(AuthExtension{mip::ext::fa_ha_auth, 300, Bytes(32, 0x5a)}.to_extension().value());
  EXPECT_EQ(q.extensions.back().offset, 24u + 10 + 5 + 8);
  const Bytes b = encode(q);
  EXPECT_EQ(b.size(), q.encoded_size());
  auto p = parse_registration_request(b);
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_EQ(*p, q);
  for (std::size_t i = 0; i < q.extensions.size(); ++i)
    EXPECT_EQ(p->extensions[i].offset, q.extensions[i].offset);

  RegistrationReply y;
  y.code = mip::code::accepted;
  y.lifetime = 600;
  y.home_address = q.home_address;
  y.home_agent = q.home_agent;
  y.identification = q.identification;
  y.append(UdpTunnelReply{}.to_extension());
  auto py = parse_registration_reply(encode(y));
  ASSERT_TRUE(py);
  EXPECT_EQ(*py, y);
}

}  // namespace
}  // namespace vmroam::wire
