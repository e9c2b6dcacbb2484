// Registration messages and extensions (common/wire/registration, revocation, extension,
// message): table-driven parse results and rejection reasons, typed extension views, and
// encode(parse(b)) == b for every valid message.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <variant>

#include "common/core/hex.hpp"
#include "common/wire/message.hpp"

namespace vmroam::wire {
namespace {

Bytes hex(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), ' '), s.end());
  return from_hex(s).value();
}

// Fixed parts used throughout.
// Request: T flag, lifetime 1800, HoA 10.1.0.10, HA 10.1.0.1, CoA 10.2.0.1, Identification.
const std::string kReq = "01 02 0708 0a01000a 0a010001 0a020001 e9d2a4b0 00000001";
// Reply: code 0, lifetime 1800, HoA, HA, Identification.
const std::string kRep = "03 00 0708 0a01000a 0a010001 e9d2a4b0 00000001";
// Revocation: reserved 0, A|I, HoA, HDA 10.1.0.1, FDA 10.2.0.1, revocation id 7.
const std::string kRev = "07 00 c000 0a01000a 0a010001 0a020001 00000007";
// Revocation Ack: I, HoA, revocation id 7.
const std::string kAck = "0f 00 8000 0a01000a 00000007";

// Extensions.
const std::string kMnHa = "20 14 00000100 000102030405060708090a0b0c0d0e0f";  // SPI 256, 16-byte auth
const std::string kFaHa = "22 14 00000200 f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";  // SPI 512
const std::string kMnFa = "21 08 00000300 a1a2a3a4";                          // SPI 768, 4-byte auth
const std::string kDeviceId = "93 08 02 01 525400123456";                     // 147 device ID, Ethernet MAC
const std::string kInterfaceId = "93 03 01 aabb";                             // 147 interface ID
const std::string kSubscriberId = "93 04 03 01 3132";                         // 147 subscriber ID, IMSI "12"
const std::string kAccessTech = "93 02 04 01";                                // 147 access technology 802.3
const std::string kPerNode = "2f 01 0001 01";                                 // 47 per-node auth: FA-HA
const std::string kUdpReq = "90 06 00 00 80 04 0000";                         // 144: F, IP-in-IP
const std::string kUdpRep = "2c 06 00 00 8000 006e";    // 44: accepted, F, keepalive 110
const std::string kRevSupport = "89 06 8000 00000005";  // 137: I supported, timestamp 5
const std::string kNai = "83 04 766d4078";              // 131: "vm@x"
const std::string kSkipUnknown = "c8 02 abcd";          // 200: unknown skippable

struct Case {
  const char* description;
  std::string bytes;
  std::string_view error;  // empty: valid
};

const Case kCases[] = {
    // ---- valid --------------------------------------------------------------------------
    {"request, no extensions", kReq, ""},
    {"request with MN-HA", kReq + kMnHa, ""},
    {"proxy request: 147s, 47, 144, 137, NAI, then FA-HA",
     kReq + kDeviceId + kInterfaceId + kSubscriberId + kAccessTech + kPerNode + kUdpReq + kRevSupport + kNai +
         kFaHa,
     ""},
    {"request: MN-HA, FA extensions, MN-FA", kReq + kMnHa + kRevSupport + kMnFa, ""},
    {"request: MN-HA then FA-HA", kReq + kMnHa + kFaHa, ""},
    {"request: unknown skippable is kept", kReq + kSkipUnknown + kMnHa, ""},
    {"request: unknown 147 sub-type is skippable", kReq + "93 02 09 00" + kMnHa, ""},
    {"request: all flags set", "01 ff 0708 0a01000a 0a010001 0a020001 e9d2a4b0 00000001", ""},
    {"reply, no extensions", kRep, ""},
    {"reply with UDP tunnel reply and MN-HA", kRep + kUdpRep + kMnHa, ""},
    {"revocation with FA-HA", kRev + kFaHa, ""},
    {"revocation, no extensions", kRev, ""},
    {"revocation ack with FA-HA", kAck + kFaHa, ""},
    // ---- rejections ---------------------------------------------------------------------
    {"empty payload", "", "truncated"},
    {"request, 23 bytes", kReq.substr(0, kReq.size() - 2), "truncated"},
    {"reply, 19 bytes", kRep.substr(0, kRep.size() - 2), "truncated"},
    {"revocation, 19 bytes", kRev.substr(0, kRev.size() - 2), "truncated"},
    {"ack, 11 bytes", kAck.substr(0, kAck.size() - 2), "truncated"},
    {"type 2", "02 00 0708 0a01000a 0a010001 0a020001 e9d2a4b0 00000001", "bad_type"},
    {"type 255", "ff", "bad_type"},
    {"unknown non-skippable 100", kReq + "64 00" + kMnHa, "unknown_nonskippable_extension"},
    {"generalized auth 36 is not implemented", kReq + "24 01 0008 00000100 aabbccdd",
     "unknown_nonskippable_extension"},
    {"PMIPv4 47 unknown sub-type", kReq + "2f 02 0001 01" + kFaHa, "unknown_nonskippable_extension"},
    {"extension header cut (1 byte)", kReq + "20", "extension_overrun"},
    {"long header cut (3 bytes)", kReq + "2f 01 00", "extension_overrun"},
    {"extension length runs past end", kReq + "20 14 00000100 0001", "extension_overrun"},
    {"long extension length runs past end", kReq + "2f 01 0002 01", "extension_overrun"},
    {"MN-HA with SPI only", kReq + "20 04 00000100", "bad_extension_length"},
    {"MN-HA shorter than an SPI", kReq + "20 02 0001", "bad_extension_length"},
    {"UDP tunnel request length 5", kReq + "90 05 00 00 80 04 00" + kMnHa, "bad_extension_length"},
    {"UDP tunnel reply length 7", kRep + "2c 07 00 00 8000 006e 00" + kMnHa, "bad_extension_length"},
    {"revocation support length 4", kReq + "89 04 8000 0000" + kMnHa, "bad_extension_length"},
    {"PMIPv4 per-node length 2", kReq + "2f 01 0002 0100" + kFaHa, "bad_extension_length"},
    {"147 with no sub-type", kReq + "93 00" + kMnHa, "bad_extension_length"},
    {"147 device ID without identifier", kReq + "93 02 02 01" + kMnHa, "bad_extension_length"},
    {"147 access technology length 3", kReq + "93 03 04 01 00" + kMnHa, "bad_extension_length"},
    {"NAI empty", kReq + "83 00" + kMnHa, "bad_extension_length"},
    {"extension after the last authenticator", kReq + kMnHa + kNai, "auth_not_last"},
    {"two MN-HA", kReq + kMnHa + kMnHa, "duplicate_auth_extension"},
    {"reply: extension after MN-HA", kRep + kMnHa + kUdpRep, "auth_not_last"},
    {"revocation: truncated FA-HA", kRev + "22 14 00000200 f0f1", "extension_overrun"},
};

Bytes encode_any(const Message& m) {
  return std::visit(
      [](const auto& v) -> Bytes {
        if constexpr (std::is_same_v<std::decay_t<decltype(v)>, TunnelData>) {
          ADD_FAILURE() << "tunnel data has no encoding here";
          return {};
        } else {
          return encode(v);
        }
      },
      m);
}

TEST(ParseMessage, TableOfValidAndRejectedMessages) {
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.description);
    const Bytes b = hex(c.bytes);
    auto r = parse_message(b);
    if (c.error.empty()) {
      ASSERT_TRUE(r) << r.error().to_string();
      // Round trip: build(parse(b)) == b.
      EXPECT_EQ(to_hex(encode_any(*r)), to_hex(b));
    } else {
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error().code, c.error) << r.error().to_string();
      // Every reason is a listed metrics label.
      auto reasons = rejection_reasons();
      EXPECT_NE(std::find(reasons.begin(), reasons.end(), r.error().code), reasons.end());
    }
  }
}

TEST(ParseMessage, EveryListedReasonIsExercised) {
  std::set<std::string_view> seen;
  for (const auto& c : kCases)
    if (!c.error.empty()) seen.insert(c.error);
  // The typed-view and builder reasons are exercised in the tests below.
  seen.insert("wrong_extension_type");
  seen.insert("extension_too_long");
  for (auto reason : rejection_reasons()) EXPECT_TRUE(seen.count(reason)) << reason;
}

TEST(ParseMessage, TunnelDataIsADistinctKind) {
  const Bytes b = hex("04 04 0000 45000014");
  auto r = parse_message(b);
  ASSERT_TRUE(r);
  EXPECT_TRUE(std::holds_alternative<TunnelData>(*r));
  EXPECT_EQ(message_name(*r), "tunnel_data");
}

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

TEST(Extensions, ProxyRequestEnumeratesInOrderWithOffsets) {
  const std::string exts[] = {kDeviceId, kInterfaceId, kSubscriberId, kAccessTech, kPerNode,
                              kUdpReq,   kRevSupport,  kNai,          kFaHa};
  std::string all = kReq;
  for (const auto& e : exts) all += e;
  auto m = parse_registration_request(hex(all));
  ASSERT_TRUE(m);
  ASSERT_EQ(m->extensions.size(), std::size(exts));
  std::size_t offset = 24;
  for (std::size_t i = 0; i < std::size(exts); ++i) {
    EXPECT_EQ(m->extensions[i].offset, offset) << i;
    EXPECT_EQ(to_hex(m->extensions[i].raw), to_hex(hex(exts[i]))) << i;
    offset += m->extensions[i].size();
  }
  EXPECT_TRUE(m->extensions[4].long_header());
  EXPECT_EQ(m->extensions[4].long_sub_type(), 1);
  EXPECT_EQ(m->extensions[4].length(), 1u);
  EXPECT_EQ(extension_name(m->extensions[4].type), "pmipv4_nonskippable");

  auto dev = PmipDeviceId::from(*find_pmip_skippable(m->extensions, mip::pmip::device_id));
  ASSERT_TRUE(dev);
  EXPECT_EQ(dev->mac()->to_string(), "52:54:00:12:34:56");
  auto ifid = PmipInterfaceId::from(*find_pmip_skippable(m->extensions, mip::pmip::interface_id));
  ASSERT_TRUE(ifid);
  EXPECT_EQ(to_hex(ifid->id), "aabb");
  auto sub = PmipSubscriberId::from(*find_pmip_skippable(m->extensions, mip::pmip::subscriber_id));
  ASSERT_TRUE(sub);
  EXPECT_EQ(sub->id_type, 1);
  EXPECT_EQ(to_hex(sub->id), "3132");
  auto tech = PmipAccessTechnology::from(*find_pmip_skippable(m->extensions, mip::pmip::access_technology));
  ASSERT_TRUE(tech);
  EXPECT_EQ(tech->technology, mip::pmip::access_802_3);
  auto pn = PmipPerNodeAuth::from(*find_extension(m->extensions, mip::ext::pmipv4_nonskip));
  ASSERT_TRUE(pn);
  EXPECT_EQ(pn->method, mip::pmip::auth_fa_ha);
  auto utr = UdpTunnelRequest::from(*find_extension(m->extensions, mip::ext::udp_tunnel_request));
  ASSERT_TRUE(utr);
  EXPECT_TRUE(utr->force());
  EXPECT_FALSE(utr->fa_required());
  EXPECT_EQ(utr->encapsulation, mip::kIpProtoIpip);
  auto rs = RevocationSupport::from(*find_extension(m->extensions, mip::ext::revocation_support));
  ASSERT_TRUE(rs);
  EXPECT_TRUE(rs->inform_supported());
  EXPECT_EQ(rs->timestamp, 5u);
  auto nai = MnNai::from(*find_extension(m->extensions, mip::ext::mn_nai));
  ASSERT_TRUE(nai);
  EXPECT_EQ(std::string(nai->nai.begin(), nai->nai.end()), "vm@x");
  auto fh = AuthExtension::from(*find_extension(m->extensions, mip::ext::fa_ha_auth));
  ASSERT_TRUE(fh);
  EXPECT_EQ(fh->type, mip::ext::fa_ha_auth);
  EXPECT_EQ(fh->spi, 512u);
  EXPECT_EQ(to_hex(fh->authenticator), "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
}

TEST(Extensions, UdpTunnelReplyView) {
  auto e = split_extensions(hex(kUdpRep), 0);
  ASSERT_TRUE(e);
  auto r = UdpTunnelReply::from(e->at(0));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, mip::udp_tunnel::reply_code_accepted);
  EXPECT_TRUE(r->forced());
  EXPECT_EQ(r->keepalive_seconds, 110);
}

// Each typed builder produces exactly the bytes its view parses (and the table above uses).
TEST(Extensions, BuildersProduceTheWireBytes) {
  struct BuildCase {
    const char* description;
    Result<Extension> built;
    std::string expected;
  };
  const BuildCase cases[] = {
      {"MN-HA",
       AuthExtension{mip::ext::mn_ha_auth, 256, hex("000102030405060708090a0b0c0d0e0f")}.to_extension(),
       kMnHa},
      {"device ID", PmipDeviceId::ethernet(*MacAddress::parse("52:54:00:12:34:56")).to_extension(),
       kDeviceId},
      {"interface ID", PmipInterfaceId{hex("aabb")}.to_extension(), kInterfaceId},
      {"subscriber ID", PmipSubscriberId{1, hex("3132")}.to_extension(), kSubscriberId},
      {"access technology", PmipAccessTechnology{}.to_extension(), kAccessTech},
      {"per-node auth", PmipPerNodeAuth{}.to_extension(), kPerNode},
      {"UDP tunnel request", UdpTunnelRequest{0, mip::udp_tunnel::request_flag_F, 4}.to_extension(), kUdpReq},
      {"UDP tunnel reply", UdpTunnelReply{0, 0, mip::udp_tunnel::reply_flag_F, 110}.to_extension(), kUdpRep},
      {"revocation support", RevocationSupport{mip::revocation::support_flag_I, 5}.to_extension(),
       kRevSupport},
      {"NAI", MnNai{hex("766d4078")}.to_extension(), kNai},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    ASSERT_TRUE(c.built);
    EXPECT_EQ(to_hex(c.built->raw), to_hex(hex(c.expected)));
  }
}

TEST(Extensions, ViewsRejectTheWrongExtension) {
  auto e = split_extensions(hex(kNai + kUdpReq), 0);
  ASSERT_TRUE(e);
  EXPECT_EQ(UdpTunnelRequest::from(e->at(0)).error().code, "wrong_extension_type");
  EXPECT_EQ(AuthExtension::from(e->at(1)).error().code, "wrong_extension_type");
  EXPECT_EQ(PmipDeviceId::from(e->at(0)).error().code, "wrong_extension_type");
  auto dev = split_extensions(hex(kDeviceId), 0);
  EXPECT_EQ(PmipInterfaceId::from(dev->at(0)).error().code, "wrong_extension_type");
  EXPECT_EQ((PmipDeviceId{2, hex("0102")}.mac().error().code), "not_a_mac");
}

TEST(Extensions, BuildersRejectOversizedData) {
  EXPECT_EQ(MnNai{Bytes(256, 'a')}.to_extension().error().code, "extension_too_long");
  EXPECT_TRUE(MnNai{Bytes(255, 'a')}.to_extension());
  EXPECT_EQ(Extension::make(mip::ext::pmipv4_nonskip, {}).error().code, "extension_too_long");
  EXPECT_EQ(Extension::make_long(mip::ext::mn_nai, 0, {}).error().code, "extension_too_long");
  EXPECT_TRUE(Extension::make_long(mip::ext::pmipv4_nonskip, 1, Bytes(300, 0)));
}

TEST(Extensions, SplitKeepsWhatCheckRejects) {
  // A tool can still enumerate a message that the strict parser rejects.
  const Bytes b = hex(kReq + "64 01 00" + kMnHa);
  auto split = split_extensions(b, 24);
  ASSERT_TRUE(split);
  ASSERT_EQ(split->size(), 2u);
  EXPECT_EQ(split->at(0).type, 100);
  EXPECT_EQ(split->at(1).offset, 27u);
  EXPECT_EQ(check_extensions(*split).error().code, "unknown_nonskippable_extension");
}

TEST(RoundTrip, BuiltMessagesParseBackEqual) {
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

  Revocation v;
  v.flags = mip::revocation::flag_A;
  v.home_address = q.home_address;
  v.home_domain_address = q.home_agent;
  v.foreign_domain_address = q.care_of_address;
  v.revocation_id = 42;
  auto pv = parse_revocation(encode(v));
  ASSERT_TRUE(pv);
  EXPECT_EQ(*pv, v);

  RevocationAck k;
  k.home_address = q.home_address;
  k.revocation_id = 42;
  auto pk = parse_revocation_ack(encode(k));
  ASSERT_TRUE(pk);
  EXPECT_EQ(*pk, k);
}

}  // namespace
}  // namespace vmroam::wire
