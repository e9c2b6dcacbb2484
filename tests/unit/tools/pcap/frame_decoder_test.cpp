// tools/pcap/frame_decoder: vmroam-pcap's pure parts: key specs, names,
// timestamps, and the link layers the fixtures do not cover (Linux cooked v1/v2, raw IPv4,
// 802.1Q, snap-length truncation). Frames come from the message catalogue, so the bytes are
// common/wire's.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/core/bytes.hpp"
#include "common/wire/ethernet.hpp"
#include "common/wire/ipv4.hpp"
#include "tools/pcap/frame_decoder.hpp"
#include "tools/pcap/message_catalogue.hpp"

namespace vmroam::pcap {
namespace {

TEST(PcapKeySpec, Table) {
  struct Case {
    const char* description;
    const char* spec;
    const char* error;  // nullptr: accepted
    std::uint32_t spi;
  };
  const Case cases[] = {
      {"decimal SPI, md5", "4096:hmac-md5:00112233445566778899aabbccddeeff", nullptr, 4096},
      {"hex SPI, sha256", "0x2000:hmac-sha256:000102030405060708090a0b0c0d0e0f", nullptr, 0x2000},
      {"missing key part", "4096:hmac-md5", "bad_key_spec", 0},
      {"SPI not a number", "abc:hmac-md5:00112233445566778899aabbccddeeff", "bad_key_spec", 0},
      {"SPI over 32 bits", "4294967296:hmac-md5:00112233445566778899aabbccddeeff", "bad_key_spec", 0},
      {"unknown algorithm", "4096:hmac-sha1:00112233445566778899aabbccddeeff", "unknown_algorithm", 0},
      {"key not hex", "4096:hmac-md5:zz112233445566778899aabbccddeeff", "bad_hex", 0},
      {"key too short", "4096:hmac-md5:0011", "short_key", 0},
      {"reserved SPI", "255:hmac-md5:00112233445566778899aabbccddeeff", "reserved_spi", 0},
  };
  for (const auto& c : cases) {
    auto r = parse_key_spec(c.spec);
    if (c.error == nullptr) {
      ASSERT_TRUE(r.has_value()) << c.description << ": " << r.error().to_string();
      EXPECT_EQ(r->spi, c.spi) << c.description;
    } else {
      ASSERT_FALSE(r.has_value()) << c.description;
      EXPECT_EQ(r.error().code, c.error) << c.description;
    }
  }
}

TEST(PcapNames, ReplyCodes) {
  EXPECT_EQ(reply_code_name(0), "accepted");
  EXPECT_EQ(reply_code_name(133), "ha_identification_mismatch");
  EXPECT_EQ(reply_code_name(149), "ha_pmip_unsupported");
  EXPECT_EQ(reply_code_name(120), "fa_denied");
  EXPECT_EQ(reply_code_name(190), "ha_denied");
  EXPECT_EQ(reply_code_name(250), "unknown");
}

TEST(PcapNames, Timestamp) {
  EXPECT_EQ(format_timestamp(1700000000, 123), "1700000000.000123");
  EXPECT_EQ(format_timestamp(0, 999999), "0.999999");
}

// The first catalogue sample: a registration request inside Ethernet.
Bytes first_request_frame() { return sample_frames().at(0).frame; }

Bytes sll_header(std::uint16_t protocol) {
  // packet type 4 (outgoing), ARPHRD_ETHER, address length 6, address, protocol
  Bytes h{0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 2, 1, 0, 0};
  h.push_back(static_cast<std::uint8_t>(protocol >> 8));
  h.push_back(static_cast<std::uint8_t>(protocol));
  return h;
}

Bytes sll2_header(std::uint16_t protocol) {
  Bytes h{static_cast<std::uint8_t>(protocol >> 8),
          static_cast<std::uint8_t>(protocol),
          0,
          0,
          0,
          0,
          0,
          3,
          0,
          1,
          4,
          6,
          2,
          0,
          0,
          0,
          2,
          1,
          0,
          0};
  return h;
}

TEST(PcapDecoder, LinkTypes) {
  const Bytes eth = first_request_frame();
  auto parsed = wire::parse_ethernet(eth);
  ASSERT_TRUE(parsed.has_value());
  const Bytes ip(parsed->payload.begin(), parsed->payload.end());
  auto with = [](Bytes head, const Bytes& tail) {
    head.insert(head.end(), tail.begin(), tail.end());
    return head;
  };
  Bytes vlan(eth.begin(), eth.begin() + 12);
  for (std::uint8_t b : {0x81, 0x00, 0x00, 0x2a}) vlan.push_back(b);  // tag, VLAN 42
  vlan.insert(vlan.end(), eth.begin() + 12, eth.end());

  struct Case {
    const char* description;
    int link_type;
    Bytes frame;
    std::uint32_t original_length;
    const char* kind;   // expected "kind", or nullptr for an error record
    const char* error;  // expected "error"
  };
  const std::vector<Case> cases = {
      {"Ethernet", link_type::kEthernet, eth, 0, "registration_request", nullptr},
      {"Ethernet with an 802.1Q tag", link_type::kEthernet, vlan, 0, "registration_request", nullptr},
      {"Linux cooked v1", link_type::kLinuxSll, with(sll_header(0x0800), ip), 0, "registration_request",
       nullptr},
      {"Linux cooked v2", link_type::kLinuxSll2, with(sll2_header(0x0800), ip), 0, "registration_request",
       nullptr},
      {"raw IPv4 (DLT_RAW)", link_type::kRaw, ip, 0, "registration_request", nullptr},
      {"raw IPv4 (LINKTYPE_IPV4)", link_type::kIpv4, ip, 0, "registration_request", nullptr},
      {"Linux cooked v1 cut short", link_type::kLinuxSll, Bytes(10, 0), 0, nullptr, "truncated"},
      {"snap length cut the frame", link_type::kEthernet, Bytes(eth.begin(), eth.begin() + 40),
       static_cast<std::uint32_t>(eth.size()), nullptr, "truncated_capture"},
      {"unsupported link type", 105, eth, 0, nullptr, "unsupported_link_type"},
  };
  const FrameDecoder decoder;
  for (const auto& c : cases) {
    FrameInfo info{3, 1700000000, 5, c.link_type, c.original_length};
    auto records = decoder.decode(info, c.frame);
    ASSERT_EQ(records.size(), 1u) << c.description;
    const Json& r = records[0];
    EXPECT_EQ(r.at("frame"), 3) << c.description;
    EXPECT_EQ(r.at("time"), "1700000000.000005") << c.description;
    if (c.kind != nullptr) {
      EXPECT_EQ(r.value("kind", ""), c.kind) << c.description << ": " << r.dump();
      EXPECT_EQ(r.value("home_address", ""), "10.1.0.10") << c.description;
    } else {
      EXPECT_EQ(r.value("error", ""), c.error) << c.description << ": " << r.dump();
    }
  }
}

TEST(PcapDecoder, VerifiesWithCatalogueKeysAndNotWithout) {
  auth::Keyring keys;
  for (const auto& sa : sample_keys()) ASSERT_TRUE(keys.add(sa).has_value());
  const FrameDecoder with_keys(std::move(keys));
  const FrameDecoder without_keys;
  std::size_t verified = 0;
  for (const auto& s : sample_frames()) {
    for (const auto& r : with_keys.decode(FrameInfo{}, s.frame)) {
      ASSERT_FALSE(r.contains("error")) << s.description << ": " << r.dump();
      if (!r.contains("auth")) continue;
      for (const auto& a : r.at("auth")) {
        EXPECT_EQ(a.at("verified"), true) << s.description;
        ++verified;
      }
    }
    for (const auto& r : without_keys.decode(FrameInfo{}, s.frame)) {
      EXPECT_FALSE(r.contains("auth")) << s.description;
    }
  }
  EXPECT_EQ(verified, 29u);
}

TEST(PcapDecoder, IgnoresTrafficThatIsNotOurs) {
  // A UDP datagram between ports 53 and 5353 inside Ethernet: no record at all.
  Bytes udp = wire::build_ethernet_frame(
      MacAddress{}, MacAddress{}, 0x0800,
      wire::build_udp_datagram(Ipv4::from_octets(10, 0, 0, 1), 53, Ipv4::from_octets(10, 0, 0, 2), 5353,
                               Bytes{1, 2, 3}));
  EXPECT_TRUE(FrameDecoder().decode(FrameInfo{}, udp).empty());
  // An IPv6 packet on a raw link.
  EXPECT_TRUE(FrameDecoder().decode(FrameInfo{0, 0, 0, link_type::kRaw, 0}, Bytes{0x60, 0, 0, 0}).empty());
}

}  // namespace
}  // namespace vmroam::pcap
