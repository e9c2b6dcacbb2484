// Ethernet II frames and the ARP/RARP bodies the agents send and sniff.
//
// RFC 894   IPv4 over Ethernet II (ethertype 0x0800); frames shorter than 60 bytes
//           (without FCS) are padded with zeros
// RFC 826   ARP for IPv4 over Ethernet: htype 1, ptype 0x0800, hlen 6, plen 4, 28 bytes
// RFC 903   RARP: the same body under ethertype 0x8035, ops 3 (request) and 4 (reply)
// RFC 5944 §4.6 gratuitous ARP; RFC 5227 §3 ARP announcement
//
// Why: the home agent gratuitously ARPs the home address when a VM leaves and returns; the
// foreign agent detects a VM's arrival from QEMU's RARP self-announce (docs/protocol.md,
// "Ethernet, ARP, RARP") or a guest's gratuitous ARP. 802.1Q tags are not stripped: a tagged
// frame reports ethertype 0x8100 and the caller ignores it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/core/address.hpp"
#include "common/core/bytes.hpp"
#include "common/core/result.hpp"

namespace vmroam::wire {

inline constexpr std::size_t kEthernetHeaderSize = 14;
inline constexpr std::size_t kEthernetMinFrameSize = 60;  // 64 minus the 4-byte FCS (IEEE 802.3)
inline constexpr std::size_t kArpBodySize = 28;           // RFC 826 for Ethernet/IPv4
inline constexpr std::uint16_t kArpHardwareEthernet = 1;  // RFC 826 ar$hrd
inline constexpr MacAddress kBroadcastMac{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

struct EthernetFrame {
  MacAddress dst;
  MacAddress src;
  std::uint16_t ethertype = 0;
  ByteView payload;  // everything after the header, padding included
};

// Errors: truncated (under 14 bytes), not_ethernet_ii (an 802.3 length field, < 0x0600).
[[nodiscard]] Result<EthernetFrame> parse_ethernet(ByteView frame);

// dst | src | ethertype | payload, zero-padded to 60 bytes, into `out`.
[[nodiscard]] Result<std::size_t> write_ethernet_frame(MacAddress dst, MacAddress src,
                                                       std::uint16_t ethertype, ByteView payload,
                                                       std::span<std::uint8_t> out);
[[nodiscard]] Bytes build_ethernet_frame(MacAddress dst, MacAddress src, std::uint16_t ethertype,
                                         ByteView payload);

struct ArpPacket {
  std::uint16_t op = 0;
  MacAddress sender_mac;
  Ipv4 sender_ip;
  MacAddress target_mac;
  Ipv4 target_ip;
  friend bool operator==(const ArpPacket&, const ArpPacket&) = default;
};

// ARP (0x0806) and RARP (0x8035) bodies. Errors: truncated, bad_hardware_type,
// bad_protocol_type, bad_address_length, unsupported_arp_op (not 1–4). Bytes after the
// 28-byte body (Ethernet padding) are ignored.
[[nodiscard]] Result<ArpPacket> parse_arp(ByteView arp_payload);

// The 28-byte body alone.
[[nodiscard]] Bytes build_arp(const ArpPacket& arp);

// A whole frame, padded to 60 bytes.
[[nodiscard]] Bytes build_arp_frame(MacAddress eth_dst, MacAddress eth_src, std::uint16_t ethertype,
                                    const ArpPacket& arp);

// A broadcast gratuitous ARP saying "ip is at mac": an ARP *request* with sender and target
// protocol address both `ip`, sender hardware `mac`, target hardware zero. RFC 5944 §4.6
// allows request or reply; we send the request because it is the ARP Announcement of
// RFC 5227 §3 and what Linux itself sends (arp_notify, arping -U): every IPv4 stack updates
// an existing cache entry from a broadcast request, while some ignore unsolicited replies.
[[nodiscard]] Bytes build_gratuitous_arp(MacAddress mac, Ipv4 ip);

// Exactly QEMU's self-announce (docs/protocol.md): broadcast, ethertype 0x8035, RARP
// request (op 3), sender and target hardware = mac, both protocol addresses 0.0.0.0,
// zero-padded to 60 bytes.
[[nodiscard]] Bytes build_rarp_announce(MacAddress mac);

}  // namespace vmroam::wire
