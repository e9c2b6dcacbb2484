// Table tests for the FA's pure proxy-registration part: the request bytes (fields,
// extensions, authenticators that verify with the HA's keys), reply matching, verification
// and outcomes, the retransmission schedule and the renewal time.
#include "foreign-agent/proxy_registration.hpp"

#include <gtest/gtest.h>

#include "common/auth/authenticator.hpp"
#include "common/auth/replay.hpp"
#include "common/wire/dsmip.hpp"
#include "common/wire/extension.hpp"
#include "common/wire/message.hpp"

namespace vmroam::fa {
namespace {

using std::chrono::milliseconds;

const Ipv4 kHoa = Ipv4::from_octets(10, 1, 0, 10);
const Ipv4 kHa = Ipv4::from_octets(192, 0, 2, 1);
const Ipv4 kFa = Ipv4::from_octets(192, 0, 2, 2);
const MacAddress kMac = *MacAddress::parse("52:54:00:12:34:56");
const Ipv6 kHoa6a = *Ipv6::parse("2001:db8:1::10");
const Ipv6 kHoa6b = *Ipv6::parse("2001:db8:1::11");

auth::SecurityAssociation sa(std::uint32_t spi, std::uint8_t fill,
                             auth::Algorithm a = auth::Algorithm::hmac_sha256) {
  return auth::SecurityAssociation{spi, a, Bytes(32, fill)};
}

ProxyRequestParams base_params() {
  ProxyRequestParams p;
  p.home_address = kHoa;
  p.home_agent = kHa;
  p.care_of_address = kFa;
  p.mac = kMac;
  p.lifetime = 600;
  p.identification = 0xE8000000'12345678ull;
  p.fa_ha = sa(1000, 0x11);
  return p;
}

TEST(ProxyRequest, FieldsAndExtensions) {
  struct Case {
    const char* description;
    bool udp;
    bool mn_ha;
    std::vector<std::uint8_t> types;  // extension types in order
  };
  const Case cases[] = {
      {"FA-HA only", false, false, {147, 147, 47, 137, 34}},
      {"UDP tunnelling adds 144", true, false, {147, 147, 47, 144, 137, 34}},
      {"visitor key adds MN-HA before FA-HA", false, true, {147, 147, 47, 137, 32, 34}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    auto p = base_params();
    p.udp_tunnel = c.udp;
    if (c.mn_ha) p.mn_ha = sa(2000, 0x22, auth::Algorithm::hmac_md5);
    auto req = build_proxy_request(p);
    ASSERT_TRUE(req) << req.error().to_string();
    const Bytes bytes = wire::encode(*req);
    // The HA's view: parse the bytes as received and verify with its keys.
    auto parsed = wire::parse_registration_request(bytes);
    ASSERT_TRUE(parsed) << parsed.error().to_string();
    EXPECT_EQ(bytes[0], 1);
    EXPECT_EQ(bytes[1], mip::request_flag::T);
    EXPECT_EQ(parsed->lifetime, 600);
    EXPECT_EQ(parsed->home_address, kHoa);
    EXPECT_EQ(parsed->home_agent, kHa);
    EXPECT_EQ(parsed->care_of_address, kFa);
    EXPECT_EQ(parsed->identification, p.identification);
    std::vector<std::uint8_t> types;
    for (const auto& e : parsed->extensions) types.push_back(e.type);
    EXPECT_EQ(types, c.types);
    const auto* dev = wire::find_pmip_skippable(parsed->extensions, mip::pmip::device_id);
    ASSERT_NE(dev, nullptr);
    auto id = wire::PmipDeviceId::from(*dev);
    ASSERT_TRUE(id);
    EXPECT_EQ(*id->mac(), kMac);
    const auto* tech = wire::find_pmip_skippable(parsed->extensions, mip::pmip::access_technology);
    ASSERT_NE(tech, nullptr);
    EXPECT_EQ(wire::PmipAccessTechnology::from(*tech)->technology, mip::pmip::access_802_3);
    auto method =
        wire::PmipPerNodeAuth::from(*wire::find_extension(parsed->extensions, mip::ext::pmipv4_nonskip));
    ASSERT_TRUE(method);
    EXPECT_EQ(method->method, mip::pmip::auth_fa_ha);
    EXPECT_TRUE(auth::verify(bytes, parsed->extensions, mip::ext::fa_ha_auth, *p.fa_ha));
    EXPECT_FALSE(auth::verify(bytes, parsed->extensions, mip::ext::fa_ha_auth, sa(1000, 0x12)));
    if (c.mn_ha) {
      EXPECT_TRUE(auth::verify(bytes, parsed->extensions, mip::ext::mn_ha_auth, *p.mn_ha));
    }
    if (c.udp) {
      auto u = wire::UdpTunnelRequest::from(
          *wire::find_extension(parsed->extensions, mip::ext::udp_tunnel_request));
      ASSERT_TRUE(u);
      EXPECT_EQ(u->encapsulation, mip::kIpProtoIpip);
      EXPECT_TRUE(u->force()) << "configured UDP is asked for with or without a NAT";
    }
  }
}

// RFC 5454 §2.1: one /128 Prefix Request per IPv6 home address, in order, before the
// authenticators that cover them; none in a deregistration.
TEST(ProxyRequest, Ipv6HomeAddressesGoBeforeTheAuthenticators) {
  auto p = base_params();
  p.home_addresses_v6 = {kHoa6a, kHoa6b};
  auto req = build_proxy_request(p);
  ASSERT_TRUE(req) << req.error().to_string();
  const Bytes bytes = wire::encode(*req);
  auto parsed = wire::parse_registration_request(bytes);
  ASSERT_TRUE(parsed) << parsed.error().to_string();
  std::vector<std::uint8_t> types;
  for (const auto& e : parsed->extensions) types.push_back(e.type);
  EXPECT_EQ(types, (std::vector<std::uint8_t>{147, 147, 47, 137, 152, 152, 34}));
  auto qs = wire::ipv6_prefix_requests(parsed->extensions);
  ASSERT_TRUE(qs);
  ASSERT_EQ(qs->size(), 2u);
  EXPECT_EQ((*qs)[0], (wire::Ipv6PrefixRequest{128, kHoa6a}));
  EXPECT_EQ((*qs)[1], (wire::Ipv6PrefixRequest{128, kHoa6b}));
  EXPECT_TRUE(auth::verify(bytes, parsed->extensions, mip::ext::fa_ha_auth, *p.fa_ha));

  p.lifetime = 0;
  auto dereg = build_proxy_request(p);
  ASSERT_TRUE(dereg);
  EXPECT_EQ(wire::find_extension(dereg->extensions, mip::ext::dsmipv4), nullptr);
}

TEST(ProxyRequest, Errors) {
  struct Case {
    const char* description;
    std::function<void(ProxyRequestParams&)> change;
    std::string_view code;
  };
  const Case cases[] = {
      {"no key at all", [](ProxyRequestParams& p) { p.fa_ha.reset(); }, "no_authentication"},
      {"reserved SPI", [](ProxyRequestParams& p) { p.fa_ha->spi = 7; }, "reserved_spi"},
      {"short key", [](ProxyRequestParams& p) { p.fa_ha->key = Bytes(4, 1); }, "short_key"},
      {"multicast home agent (RFC 5944 §3.7.2)",
       [](ProxyRequestParams& p) { p.home_agent = Ipv4(0xE000000B); }, "invalid_home_agent"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    auto p = base_params();
    c.change(p);
    auto r = build_proxy_request(p);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, c.code);
  }
}

// RFC 5944 §3.7.2: the Home Agent fields an FA denies with code 194, and their neighbours it
// relays to.
TEST(ProxyRequest, HomeAgentAddressProblems) {
  struct Case {
    const char* address;
    std::optional<std::string_view> problem;
  };
  const Case cases[] = {
      {"0.0.0.0", "unspecified"},        {"255.255.255.255", "broadcast"}, {"127.0.0.1", "loopback"},
      {"127.255.255.254", "loopback"},   {"224.0.0.1", "multicast"},       {"239.255.255.255", "multicast"},
      {"240.0.0.1", "reserved"},         {"0.0.0.1", "unspecified"},       {"1.0.0.1", std::nullopt},
      {"126.255.255.255", std::nullopt}, {"128.0.0.1", std::nullopt},      {"192.0.2.1", std::nullopt},
      {"223.255.255.254", std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.address);
    auto a = Ipv4::parse(c.address);
    ASSERT_TRUE(a);
    EXPECT_EQ(home_agent_problem(*a), c.problem);
  }
}

struct ReplySpec {
  std::uint8_t code = 0;
  std::uint16_t lifetime = 300;
  Ipv4 hoa = kHoa;
  Ipv4 ha = kHa;
  std::uint64_t identification = 0x00000001'12345678ull;  // low word echoes the request
  std::optional<auth::SecurityAssociation> fa_ha = sa(1000, 0x11);
  bool udp_reply = false;
  std::vector<wire::Ipv6PrefixReply> v6;
};

Bytes make_reply(const ReplySpec& s) {
  wire::RegistrationReply r;
  r.code = s.code;
  r.lifetime = s.lifetime;
  r.home_address = s.hoa;
  r.home_agent = s.ha;
  r.identification = s.identification;
  if (s.udp_reply) r.append(wire::UdpTunnelReply{}.to_extension());
  for (const auto& g : s.v6) r.append(g.to_extension());
  if (s.fa_ha) {
    if (!auth::append_auth(r, mip::ext::fa_ha_auth, *s.fa_ha)) std::abort();
  }
  return wire::encode(r);
}

TEST(ProxyReply, Judge) {
  const WallTime now = std::chrono::system_clock::now();
  struct Case {
    const char* description;
    ReplySpec reply;
    bool udp_requested;
    ReplyOutcome outcome;
    std::string_view reason;
  };
  const Case cases[] = {
      {"accepted", {}, false, ReplyOutcome::accepted, "accepted"},
      {"accepted without simultaneous bindings", {.code = 1}, false, ReplyOutcome::accepted, "accepted"},
      {"denied by the HA: FA failed authentication",
       {.code = 132},
       false,
       ReplyOutcome::denied,
       "ha_fa_auth_failed"},
      {"denied: PMIP disallowed", {.code = 150}, false, ReplyOutcome::denied, "ha_pmip_disallowed"},
      {"denied with an unnamed HA code", {.code = 160}, false, ReplyOutcome::denied, "ha_other"},
      {"identification mismatch: resync",
       {.code = 133},
       false,
       ReplyOutcome::resync,
       "ha_identification_mismatch"},
      {"another request's identification",
       {.identification = 0x12345679ull},
       false,
       ReplyOutcome::ignore,
       "unmatched_identification"},
      {"another home address",
       {.hoa = Ipv4::from_octets(10, 1, 0, 11)},
       false,
       ReplyOutcome::ignore,
       "unmatched_address"},
      {"another home agent",
       {.ha = Ipv4::from_octets(192, 0, 2, 9)},
       false,
       ReplyOutcome::ignore,
       "unmatched_address"},
      {"no FA-HA authenticator", {.fa_ha = std::nullopt}, false, ReplyOutcome::ignore, "fa_ha_auth_failed"},
      {"forged denial (wrong key)",
       {.code = 129, .fa_ha = sa(1000, 0x99)},
       false,
       ReplyOutcome::ignore,
       "fa_ha_auth_failed"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    const Bytes raw = make_reply(c.reply);
    auto reply = wire::parse_registration_reply(raw);
    ASSERT_TRUE(reply) << reply.error().to_string();
    PendingRequest p{kHoa, kHa, 0xE8000000'12345678ull, c.udp_requested, std::nullopt, sa(1000, 0x11)};
    auto v = judge_reply(*reply, raw, p, now);
    EXPECT_EQ(v.outcome, c.outcome);
    EXPECT_EQ(v.reason, c.reason);
    if (v.outcome == ReplyOutcome::accepted) {
      EXPECT_EQ(v.lifetime, 300);
    }
  }
}

// RFC 5454 §2.2: what the HA granted is what the FA records; refusals, prefixes and
// addresses we did not ask for are not.
TEST(ProxyReply, GrantedIpv6HomeAddresses) {
  const WallTime now = std::chrono::system_clock::now();
  PendingRequest p{kHoa, kHa, 0xE8000000'12345678ull, false, std::nullopt, sa(1000, 0x11), {kHoa6a, kHoa6b}};
  auto granted = [&](std::vector<wire::Ipv6PrefixReply> v6) {
    const Bytes raw = make_reply({.v6 = std::move(v6)});
    auto v = judge_reply(*wire::parse_registration_reply(raw), raw, p, now);
    EXPECT_EQ(v.outcome, ReplyOutcome::accepted);
    return v.granted_v6;
  };
  wire::Ipv6PrefixReply a, b, refused, other, prefix;
  a.prefix = kHoa6a;
  b.prefix = kHoa6b;
  refused.prefix = kHoa6b;
  refused.code = 128;
  other.prefix = *Ipv6::parse("2001:db8:1::99");
  prefix.prefix = kHoa6a;
  prefix.prefix_length = 64;
  EXPECT_EQ(granted({b, a}), (std::vector<Ipv6>{kHoa6b, kHoa6a}));
  EXPECT_EQ(granted({a, refused, other, prefix, a}), (std::vector<Ipv6>{kHoa6a}));
  EXPECT_TRUE(granted({}).empty()) << "an IPv4-only reply grants no IPv6";
}

TEST(ProxyReply, UdpTunnelAndClockOffset) {
  const WallTime now = std::chrono::system_clock::now();
  PendingRequest p{kHoa, kHa, 0xE8000000'12345678ull, true, std::nullopt, sa(1000, 0x11)};
  {
    const Bytes raw = make_reply({.udp_reply = true});
    auto v = judge_reply(*wire::parse_registration_reply(raw), raw, p, now);
    EXPECT_TRUE(v.udp_tunnel);
  }
  {
    const Bytes raw = make_reply({});
    auto v = judge_reply(*wire::parse_registration_reply(raw), raw, p, now);
    EXPECT_EQ(v.outcome, ReplyOutcome::accepted);
    EXPECT_FALSE(v.udp_tunnel) << "no 44 in the reply: the HA declined, IP-in-IP it is";
  }
  {
    // The HA's clock is 100 s ahead.
    const std::uint64_t ha_id =
        auth::timestamp_mismatch_identification(p.identification, now + std::chrono::seconds(100));
    const Bytes raw = make_reply({.code = 133, .identification = ha_id});
    auto v = judge_reply(*wire::parse_registration_reply(raw), raw, p, now);
    EXPECT_EQ(v.outcome, ReplyOutcome::resync);
    EXPECT_NEAR(static_cast<double>(v.clock_offset_s), 100.0, 1.0);
  }
}

TEST(RetransmitSchedule, BackoffCappedAndBounded) {
  const RetransmitSchedule s{milliseconds(200), milliseconds(1000), 5};
  struct Case {
    std::uint32_t sent;
    std::optional<milliseconds> expected;
  };
  const Case cases[] = {{0, std::nullopt},      {1, milliseconds(200)},  {2, milliseconds(400)},
                        {3, milliseconds(800)}, {4, milliseconds(1000)}, {5, std::nullopt},
                        {50, std::nullopt}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.sent);
    EXPECT_EQ(s.after(c.sent), c.expected);
  }
  const RetransmitSchedule many{milliseconds(100), milliseconds(3200), 100};
  EXPECT_EQ(many.after(99), milliseconds(3200)) << "large attempt numbers stay capped, no overflow";
}

TEST(Renewal, TwoThirdsOfTheLifetime) {
  EXPECT_EQ(renewal_delay(600), milliseconds(400000));
  EXPECT_EQ(renewal_delay(1), milliseconds(1000));
  EXPECT_EQ(renewal_delay(0xFFFF), std::nullopt);
  EXPECT_EQ(renewal_delay(0), std::nullopt);
}

TEST(ReplyCodeName, NamesKnownAndGroupsUnknown) {
  EXPECT_EQ(reply_code_name(78), "fa_registration_timeout");
  EXPECT_EQ(reply_code_name(100), "fa_unknown_cvse_from_mn");
  EXPECT_EQ(reply_code_name(102), "fa_other");
  EXPECT_EQ(reply_code_name(194), "fa_invalid_home_agent");
  EXPECT_EQ(reply_code_name(250), "unknown_code");
}

TEST(Revocation, AckOnlyForWhatTheSendingHomeAgentAuthenticated) {
  const std::vector<HomeAgentPeer> has{
      {kHa, SecurityAssociationConfig{1000, "hmac-sha256", Bytes(32, 0x11)}}};
  auto revocation = [](std::uint8_t key_fill, Ipv4 home_domain) {
    wire::Revocation rev;
    rev.flags = mip::revocation::flag_A;
    rev.home_address = kHoa;
    rev.home_domain_address = home_domain;
    rev.revocation_id = 77;
    if (!auth::append_auth(rev, mip::ext::fa_ha_auth, sa(1000, key_fill))) std::abort();
    return rev;
  };
  struct Case {
    const char* description;
    std::uint8_t key_fill;
    Ipv4 home_domain;
    Ipv4 src;
    bool acked;
  };
  const Case cases[] = {
      {"the HA's key", 0x11, kHa, kHa, true},
      {"no home domain address: the sender's key", 0x11, Ipv4{}, kHa, true},
      {"a wrong key", 0x22, kHa, kHa, false},
      {"an HA we have no key for", 0x11, kFa, kFa, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    const auto rev = revocation(c.key_fill, c.home_domain);
    const Bytes raw = wire::encode(rev);
    auto ack = revocation_ack(rev, raw, c.src, has);
    ASSERT_EQ(ack.has_value(), c.acked);
    if (!c.acked) {
      EXPECT_EQ(ack.error().code, "revocation_auth_failed");
      continue;
    }
    auto parsed = wire::parse_revocation_ack(*ack);
    ASSERT_TRUE(parsed) << parsed.error().to_string();
    EXPECT_EQ(parsed->revocation_id, 77u);
    EXPECT_EQ(parsed->home_address, kHoa);
    EXPECT_TRUE(auth::verify(*ack, parsed->extensions, mip::ext::fa_ha_auth, sa(1000, 0x11)));
  }
}

}  // namespace
}  // namespace vmroam::fa
