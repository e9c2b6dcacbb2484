// Agent discovery (RFC 5944 §2): Agent Advertisements and Agent Solicitations.
//
// An Agent Advertisement is an ICMP Router Advertisement (RFC 1256, type 9) followed by
// extensions (RFC 5944 §2.1):
//   type 9 | code | checksum | num addrs | addr entry size (2) | lifetime
//   num addrs × (router address | preference)
//   16 Mobility Agent Advertisement: length 6+4N | sequence | registration lifetime |
//      flags R B H F M G r T U X I + 5 reserved bits | N care-of addresses   (§2.1.1)
//   19 Prefix-Lengths: length = num addrs, one prefix length per router address (§2.1.2)
//   24 Challenge (RFC 3012, revised by RFC 4721), 0 one-byte padding (§2.1.3)
// Code 16 means the agent does not route common traffic (§2.1). An Agent Solicitation is an
// ICMP Router Solicitation (type 10, §2.2). Both go out with IP TTL 1 (§2.1, §2.2).
//
// The parser works on the ICMP message (the IPv4 payload) and checks its checksum.
// Wireshark has no I flag (0x0020): it shows that bit inside icmp.mip.reserved.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/core/address.hpp"
#include "common/core/bytes.hpp"
#include "common/core/result.hpp"

namespace vmroam::wire {

// Not in mobile_ip.hpp (defined here, owned by this file):
inline constexpr std::uint8_t kAdvertisementTtl = 1;      // RFC 5944 §2.1: IP TTL MUST be 1
inline constexpr std::uint8_t kRouterAddrEntryWords = 2;  // RFC 1256 §3: address + preference
inline constexpr std::uint8_t kExtChallenge = 24;         // RFC 4721 §2 (obsoletes RFC 3012)
inline constexpr std::size_t kAgentExtFixedLength = 6;    // RFC 5944 §2.1.1: length = 6 + 4N
inline constexpr std::size_t kMaxCareOfAddresses = (255 - kAgentExtFixedLength) / 4;  // 62
inline constexpr std::uint16_t kAdvertFlagsReservedMask = 0x001f;  // RFC 5944 §2.1.1: sent 0

struct RouterAddress {
  Ipv4 address;
  std::int32_t preference = 0;  // RFC 1256: signed, higher is preferred
  friend bool operator==(const RouterAddress&, const RouterAddress&) = default;
};

struct AgentAdvertisement {
  std::uint8_t code = 0;                    // mip::advert::kCodeNormal or kCodeNotRouter
  std::uint16_t router_lifetime = 0;        // RFC 1256 Lifetime: seconds this advertisement is valid
  std::vector<RouterAddress> routers;       // RFC 5944 §2.1: may be empty
  std::uint16_t sequence = 0;               // §2.1.1: 0 at start, +1 per advertisement (wraps to 256)
  std::uint16_t registration_lifetime = 0;  // §2.1.1: longest lifetime accepted; 0xFFFF infinite
  std::uint16_t flags = 0;                  // mip::advert::flag_*
  std::vector<Ipv4> care_of_addresses;
  std::optional<std::vector<std::uint8_t>> prefix_lengths;  // extension 19, if present
  std::optional<Bytes> challenge;                           // extension 24, if present
  friend bool operator==(const AgentAdvertisement&, const AgentAdvertisement&) = default;
};

// The ICMP message (type 9 … end of extensions) with checksum. Errors: too_many_care_of
// (over 62 fit the length byte), too_many_routers (over 255), prefix_count_mismatch
// (extension 19 needs one entry per router address), bad_prefix_length (> 32),
// bad_challenge (empty or over 255 bytes), bad_code (not 0 or 16).
[[nodiscard]] Result<Bytes> build_agent_advertisement(const AgentAdvertisement& adv);

// Errors: truncated, bad_checksum, not_router_advertisement (type), bad_code,
// bad_entry_size (< 2 words), bad_extension_length, bad_prefix_length, prefix_count_mismatch,
// duplicate_extension, unknown_extension (types 0–127 we do not know reject the message,
// 128–255 are skipped: RFC 5944 §1.9), not_agent_advertisement (no extension 16: a plain
// router advertisement). Reserved flag bits are ignored on receipt.
[[nodiscard]] Result<AgentAdvertisement> parse_agent_advertisement(ByteView icmp);

// The whole IPv4 packet, TTL 1. dst is usually 224.0.0.1 or 255.255.255.255 (§2.3) or the
// soliciting node.
[[nodiscard]] Result<Bytes> build_agent_advertisement_packet(Ipv4 src, Ipv4 dst,
                                                             const AgentAdvertisement& adv);

// ICMP Router Solicitation: type 10 | code 0 | checksum | reserved (32 bits).
[[nodiscard]] Bytes build_agent_solicitation();
// Errors: truncated (< 8 bytes, RFC 1256 §5.1), bad_checksum, not_router_solicitation,
// bad_code.
[[nodiscard]] Result<void> parse_agent_solicitation(ByteView icmp);
// The whole IPv4 packet with TTL 1 (RFC 5944 §2.2, mip::advert::kSolicitationTtl).
[[nodiscard]] Bytes build_agent_solicitation_packet(Ipv4 src, Ipv4 dst);

}  // namespace vmroam::wire
