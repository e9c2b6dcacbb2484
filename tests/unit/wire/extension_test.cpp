// common/wire/extension: the TLV list after every fixed part (RFC 5944 §1.9–1.11): order and
// offsets kept, typed views (authentication, PMIPv4 RFC 5563, UDP tunnelling RFC 3519,
// revocation support RFC 3543), builders, and the two-step split/check.
#include <gtest/gtest.h>

#include <string>

#include "common/core/hex.hpp"
#include "common/wire/message.hpp"
#include "tests/unit/wire/message_fixtures.hpp"

namespace vmroam::wire {
namespace {

using namespace fixtures;

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

}  // namespace
}  // namespace vmroam::wire
