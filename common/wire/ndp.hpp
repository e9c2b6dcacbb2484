// IPv6 Neighbor Advertisements on Ethernet: the IPv6 twin of the gratuitous ARP in
// ethernet.hpp, for dual-stack VMs (docs/protocol.md "Dual-stack VMs"); and the Neighbor
// Solicitations a visiting VM sends for its home gateway, which the foreign agent answers.
//
// RFC 4861 §4.3   Neighbor Solicitation: ICMPv6 type 135, code 0, Target Address, options;
//                 §4.6.1 Source Link-Layer Address option (type 1)
// RFC 4861 §7.2.4 a solicited advertisement goes to the solicitation's source with S = 1
// RFC 4861 §4.4   Neighbor Advertisement: ICMPv6 type 136, code 0, R S O flags, Target
//                 Address, options; §4.6.1 Target Link-Layer Address option (type 2)
// RFC 4861 §7.2.6 unsolicited advertisements: to all-nodes ff02::1, S = 0, hop limit 255
// RFC 6275 §10.4.1 a home agent defending an away node's address sets O = 1 and gives its
//                 own link-layer address; on return the node's own address is advertised
// RFC 2464 §7     IPv6 multicast on Ethernet: 33:33 + the low 32 bits of the group
// RFC 8200 §8.1   the upper-layer checksum covers a pseudo-header (source, destination,
//                 length, next header)
//
// Why: when a VM leaves, the HA's unsolicited NA (O = 1) overrides what the home link's
// neighbours cached for the VM's IPv6 home addresses (proxy answers carry O = 0 and would not);
// when it returns, an NA with the VM's MAC gives them back. The foreign agent reads a guest's
// own unsolicited NA as a sign that it arrived (as with RARP and gratuitous ARP).
// Pure: bytes in, values out.
#pragma once

#include <cstdint>
#include <optional>

#include "common/core/address.hpp"
#include "common/core/address6.hpp"
#include "common/core/bytes.hpp"
#include "common/core/result.hpp"

namespace vmroam::wire {

inline constexpr std::size_t kIpv6HeaderSize = 40;           // RFC 8200 §3
inline constexpr std::uint8_t kIcmpv6NeighborSolicit = 135;  // RFC 4861 §4.3
inline constexpr std::uint8_t kIcmpv6NeighborAdvert = 136;   // RFC 4861 §4.4
inline constexpr std::uint8_t kNdpOptionSourceLinkAddr = 1;  // RFC 4861 §4.6.1
inline constexpr std::uint8_t kNdpOptionTargetLinkAddr = 2;  // RFC 4861 §4.6.1
inline constexpr std::uint8_t kNdpHopLimit = 255;            // RFC 4861 §7.1.2: else discarded

struct NeighborAdvertisement {
  MacAddress eth_src;
  Ipv6 src;
  Ipv6 dst;
  bool router = false;     // R
  bool solicited = false;  // S
  bool override_ = false;  // O
  Ipv6 target;
  std::optional<MacAddress> target_mac;  // Target Link-Layer Address option, when present
  friend bool operator==(const NeighborAdvertisement&, const NeighborAdvertisement&) = default;
};

struct NeighborSolicitation {
  MacAddress eth_src;
  Ipv6 src;  // :: for duplicate address detection (RFC 4862 §5.4.2)
  Ipv6 dst;
  Ipv6 target;
  std::optional<MacAddress> source_mac;  // Source Link-Layer Address option, when present
  friend bool operator==(const NeighborSolicitation&, const NeighborSolicitation&) = default;
};

// `na` as an Ethernet frame from na.eth_src to `eth_dst`, hop limit 255, with a Target
// Link-Layer Address option when na.target_mac is set (RFC 4861 §4.4, §7.2.4).
[[nodiscard]] Bytes build_neighbor_advertisement(const NeighborAdvertisement& na, MacAddress eth_dst);

// Reads an Ethernet frame as a Neighbor Solicitation. Errors as parse_neighbor_advertisement
// (not_neighbor_solicitation for another message), and bad_source (the unspecified source with
// a Source Link-Layer Address option, RFC 4861 §7.1.1).
[[nodiscard]] Result<NeighborSolicitation> parse_neighbor_solicitation(ByteView frame);

// An unsolicited NA (RFC 4861 §7.2.6) saying "target is at mac": Ethernet from `mac` to
// 33:33:00:00:00:01, IPv6 from `target` to ff02::1 with hop limit 255, ICMPv6 136 with R = 0,
// S = 0, O = 1 and a Target Link-Layer Address option carrying `mac`.
[[nodiscard]] Bytes build_unsolicited_na(MacAddress mac, const Ipv6& target);

// Reads an Ethernet frame as a Neighbor Advertisement. Errors: not_ipv6 (another ethertype),
// truncated, bad_version, not_neighbor_advertisement (another next header or ICMPv6 type, or
// code ≠ 0), bad_hop_limit (≠ 255: RFC 4861 §7.1.2), bad_checksum, bad_option (a zero-length
// or overrunning option). A multicast target is refused as not_neighbor_advertisement.
[[nodiscard]] Result<NeighborAdvertisement> parse_neighbor_advertisement(ByteView frame);
// The same from the IPv6 packet (a capture without Ethernet); eth_src stays zero.
[[nodiscard]] Result<NeighborAdvertisement> parse_neighbor_advertisement_packet(ByteView ipv6_packet);

}  // namespace vmroam::wire
