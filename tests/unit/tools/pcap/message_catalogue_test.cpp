// tools/pcap/message_catalogue: the catalogue of every frame kind vmroam sends, which feeds
// the tshark/scapy oracles, the committed pcap fixture and the fuzz seeds. It must be
// deterministic (byte-stable fixtures), cover every kind, and hold only well-formed frames:
// each parses as Ethernet II, and each Mobile IP message parses with common/wire.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "common/auth/security_association.hpp"
#include "common/core/hex.hpp"
#include "common/wire/ethernet.hpp"
#include "common/wire/ipv4.hpp"
#include "common/wire/message.hpp"
#include "common/wire/mobile_ip.hpp"
#include "tools/pcap/message_catalogue.hpp"

namespace vmroam::pcap {
namespace {

TEST(MessageCatalogue, IsDeterministic) {
  const auto a = sample_frames();
  const auto b = sample_frames();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].description, b[i].description);
    EXPECT_EQ(to_hex(a[i].frame), to_hex(b[i].frame)) << a[i].description;
    EXPECT_EQ(a[i].expected, b[i].expected) << a[i].description;
  }
}

TEST(MessageCatalogue, CoversEveryKindWithUniqueDescriptions) {
  std::set<std::string> kinds, descriptions;
  for (const auto& s : sample_frames()) {
    ASSERT_TRUE(s.expected.contains("kind")) << s.description;
    kinds.insert(s.expected["kind"].get<std::string>());
    EXPECT_TRUE(descriptions.insert(s.description).second) << "duplicate: " << s.description;
    EXPECT_FALSE(s.description.empty());
  }
  for (auto k : {"registration_request", "registration_reply", "revocation", "revocation_ack", "tunnel",
                 "agent_advertisement", "agent_solicitation", "arp", "rarp"})
    EXPECT_TRUE(kinds.count(k)) << "no sample of kind " << k;
}

TEST(MessageCatalogue, EveryFrameIsWellFormed) {
  for (const auto& s : sample_frames()) {
    SCOPED_TRACE(s.description);
    EXPECT_GE(s.frame.size(), 60u);  // padded to the Ethernet minimum
    auto eth = wire::parse_ethernet(s.frame);
    ASSERT_TRUE(eth) << eth.error().to_string();
    const auto kind = s.expected["kind"].get<std::string>();
    if (kind == "arp" || kind == "rarp") continue;
    EXPECT_EQ(eth->ethertype, mip::kEtherTypeIpv4);
    auto ip = wire::parse_ipv4(eth->payload);
    ASSERT_TRUE(ip) << ip.error().to_string();
    if (kind.starts_with("registration") || kind.starts_with("revocation")) {
      auto udp = wire::parse_udp_datagram(eth->payload);
      ASSERT_TRUE(udp) << udp.error().to_string();
      EXPECT_TRUE(udp->src_port == mip::kRegistrationPort || udp->dst_port == mip::kRegistrationPort);
      auto m = wire::parse_message(udp->payload);
      ASSERT_TRUE(m) << m.error().to_string();
      EXPECT_EQ(wire::message_name(*m), kind);
    }
  }
}

TEST(MessageCatalogue, KeysAreValidAndDistinct) {
  std::set<std::uint32_t> spis;
  const auto keys = sample_keys();
  EXPECT_FALSE(keys.empty());
  for (const auto& sa : keys) {
    auto v = auth::validate(sa);
    EXPECT_TRUE(v) << v.error().to_string();
    EXPECT_TRUE(spis.insert(sa.spi).second) << "SPI " << sa.spi << " twice";
  }
}

}  // namespace
}  // namespace vmroam::pcap
