// Every Mobile IPv4 wire constant vmroam uses, each with the RFC section it comes from.
// One header for the whole protocol (WireGuard's messages.h habit): parsers, builders,
// agents and tools all take their numbers from here and nowhere else.
//
// RFC 5944  IP Mobility Support for IPv4, Revised
// RFC 3024  Reverse Tunneling for Mobile IP
// RFC 3519  Mobile IP Traversal of NAT Devices (UDP tunnelling)
// RFC 3543  Registration Revocation in Mobile IPv4
// RFC 5563  WiMAX Forum / 3GPP2 Proxy Mobile IPv4 (PMIPv4 extensions 47 and 147)
// RFC 5454  Dual-Stack Mobile IPv4 (extension 152)
// RFC 2003  IP Encapsulation within IP
// RFC 2104 / RFC 4231  HMAC, HMAC-SHA-256 test vectors
#pragma once

#include <cstdint>
#include <string_view>

namespace vmroam::mip {

// ---- Ports and protocol numbers -------------------------------------------------------------
inline constexpr std::uint16_t kRegistrationPort = 434;  // RFC 5944 §3.3 (also RFC 3519 tunnel data)
inline constexpr std::uint8_t kIpProtoIpip = 4;          // RFC 2003 §3
inline constexpr std::uint8_t kIpProtoGre = 47;          // RFC 2784
inline constexpr std::uint8_t kIpProtoMinimal = 55;      // RFC 2004
inline constexpr std::uint8_t kIpProtoUdp = 17;
inline constexpr std::uint8_t kIpProtoIcmp = 1;
inline constexpr std::uint8_t kIpProtoIpv6 = 41;    // RFC 4213 §3.5 (IPv6 in IPv4)
inline constexpr std::uint8_t kIpProtoIcmpv6 = 58;  // RFC 4443

// ---- Message types (first byte of the UDP payload) ------------------------------------------
enum class MessageType : std::uint8_t {
  registration_request = 1,  // RFC 5944 §3.3
  registration_reply = 3,    // RFC 5944 §3.4
  tunnel_data = 4,           // RFC 3519 §3.3 (UDP tunnel data header)
  revocation = 7,            // RFC 3543 §3.1
  revocation_ack = 15,       // RFC 3543 §3.2
};

// ---- Fixed sizes --------------------------------------------------------------------------
inline constexpr std::size_t kRequestFixedSize = 24;     // RFC 5944 §3.3
inline constexpr std::size_t kReplyFixedSize = 20;       // RFC 5944 §3.4
inline constexpr std::size_t kRevocationFixedSize = 20;  // RFC 3543 §3.1: type,res,flags16,HoA,HDA,FDA,revid
inline constexpr std::size_t kRevocationAckFixedSize = 12;  // RFC 3543 §3.2: type,res,flags16,HoA,revid
inline constexpr std::size_t kTunnelDataHeaderSize = 4;     // RFC 3519 §3.3

// ---- Registration Request flags (byte 1), RFC 5944 §3.3 --------------------------------------
namespace request_flag {
inline constexpr std::uint8_t S = 0x80;  // simultaneous bindings
inline constexpr std::uint8_t B = 0x40;  // broadcast datagrams
inline constexpr std::uint8_t D = 0x20;  // decapsulation by mobile node (co-located CoA)
inline constexpr std::uint8_t M = 0x10;  // minimal encapsulation (RFC 2004)
inline constexpr std::uint8_t G = 0x08;  // GRE encapsulation
inline constexpr std::uint8_t r = 0x04;  // reserved, sent 0, ignored (formerly V)
inline constexpr std::uint8_t T = 0x02;  // reverse tunnelling requested (RFC 3024 §4.1)
inline constexpr std::uint8_t x = 0x01;  // reserved, sent 0, ignored
}  // namespace request_flag

// ---- Lifetimes, RFC 5944 §3.3 --------------------------------------------------------------
inline constexpr std::uint16_t kLifetimeDeregister = 0;
inline constexpr std::uint16_t kLifetimeInfinite = 0xFFFF;

// ---- Reply codes, RFC 5944 §3.4 (and the RFCs named) ----------------------------------------
// "display only": we never send it, but name it so that what other implementations send reads
// well (wire/reply_code.hpp; codes as the IANA Mobile IPv4 registry lists them).
namespace code {
inline constexpr std::uint8_t accepted = 0;
inline constexpr std::uint8_t accepted_no_simultaneous = 1;
// 64–127: denied by the foreign agent
inline constexpr std::uint8_t fa_unspecified = 64;
inline constexpr std::uint8_t fa_prohibited = 65;
inline constexpr std::uint8_t fa_insufficient_resources = 66;
inline constexpr std::uint8_t fa_mn_auth_failed = 67;
inline constexpr std::uint8_t fa_ha_auth_failed = 68;
inline constexpr std::uint8_t fa_lifetime_too_long = 69;
inline constexpr std::uint8_t fa_poorly_formed_request = 70;
inline constexpr std::uint8_t fa_poorly_formed_reply = 71;
inline constexpr std::uint8_t fa_encapsulation_unavailable = 72;
inline constexpr std::uint8_t fa_vj_compression_unavailable = 73;
inline constexpr std::uint8_t fa_reverse_tunnel_unavailable = 74;  // RFC 3024 §4.3
inline constexpr std::uint8_t fa_reverse_tunnel_mandatory = 75;    // RFC 3024 §4.3
inline constexpr std::uint8_t fa_mn_too_distant = 76;              // display only
inline constexpr std::uint8_t fa_invalid_care_of = 77;
inline constexpr std::uint8_t fa_registration_timeout = 78;
inline constexpr std::uint8_t fa_delivery_style_unsupported = 79;  // RFC 3024 §4.3
inline constexpr std::uint8_t fa_home_network_unreachable = 80;
inline constexpr std::uint8_t fa_ha_host_unreachable = 81;
inline constexpr std::uint8_t fa_ha_port_unreachable = 82;
inline constexpr std::uint8_t fa_ha_unreachable = 88;
inline constexpr std::uint8_t fa_vendor_specific = 89;                // display only
inline constexpr std::uint8_t fa_nonzero_ha_required = 90;            // display only
inline constexpr std::uint8_t fa_nonzero_home_address_required = 96;  // display only
inline constexpr std::uint8_t fa_missing_nai = 97;                    // display only
inline constexpr std::uint8_t fa_missing_home_agent = 98;             // display only
inline constexpr std::uint8_t fa_missing_home_address = 99;           // display only
inline constexpr std::uint8_t fa_unknown_cvse_from_mn = 100;          // display only
inline constexpr std::uint8_t fa_unknown_cvse_from_ha = 101;          // display only
// RFC 5944 §3.4, §3.7.2: a foreign agent's denial numbered outside 64–127 (the IANA registry
// has it so); the FA refuses to relay to a Home Agent field that is no unicast address.
inline constexpr std::uint8_t fa_invalid_home_agent = 194;
// 128–191: denied by the home agent
inline constexpr std::uint8_t ha_unspecified = 128;
inline constexpr std::uint8_t ha_prohibited = 129;
inline constexpr std::uint8_t ha_insufficient_resources = 130;
inline constexpr std::uint8_t ha_mn_auth_failed = 131;
inline constexpr std::uint8_t ha_fa_auth_failed = 132;
inline constexpr std::uint8_t ha_identification_mismatch = 133;
inline constexpr std::uint8_t ha_poorly_formed_request = 134;
inline constexpr std::uint8_t ha_too_many_bindings = 135;
inline constexpr std::uint8_t ha_unknown_ha_address = 136;
inline constexpr std::uint8_t ha_reverse_tunnel_unavailable = 137;  // RFC 3024 §4.4
inline constexpr std::uint8_t ha_reverse_tunnel_mandatory = 138;    // RFC 3024 §4.4
inline constexpr std::uint8_t ha_encapsulation_unavailable = 139;
inline constexpr std::uint8_t ha_unknown_cvse_from_mn = 140;           // display only
inline constexpr std::uint8_t ha_unknown_cvse_from_fa = 141;           // display only
inline constexpr std::uint8_t ha_udp_encapsulation_unavailable = 142;  // RFC 3519 §3.2.3
inline constexpr std::uint8_t ha_redirected = 143;                     // display only
inline constexpr std::uint8_t ha_mn_aaa_auth_failed = 144;             // display only
inline constexpr std::uint8_t ha_pmip_unsupported = 149;               // RFC 5563 §4
inline constexpr std::uint8_t ha_pmip_disallowed = 150;                // RFC 5563 §4

[[nodiscard]] constexpr bool is_accepted(std::uint8_t c) { return c <= 1; }
[[nodiscard]] constexpr bool is_fa_denial(std::uint8_t c) {
  return (c >= 64 && c <= 127) || c == fa_invalid_home_agent;
}
[[nodiscard]] constexpr bool is_ha_denial(std::uint8_t c) { return c >= 128 && c <= 191; }
}  // namespace code

// ---- Extension types -----------------------------------------------------------------------
// RFC 5944 §1.9: types 0–127 are non-skippable (an unknown one rejects the message),
// 128–255 skippable (an unknown one is passed over).
namespace ext {
inline constexpr std::uint8_t mn_ha_auth = 32;               // RFC 5944 §3.5.2
inline constexpr std::uint8_t mn_fa_auth = 33;               // RFC 5944 §3.5.3
inline constexpr std::uint8_t fa_ha_auth = 34;               // RFC 5944 §3.5.4
inline constexpr std::uint8_t generalized_auth = 36;         // RFC 3012 §5 (long header)
inline constexpr std::uint8_t cvse = 38;                     // RFC 3115 §3.1 (long header)
inline constexpr std::uint8_t udp_tunnel_reply = 44;         // RFC 3519 §3.2
inline constexpr std::uint8_t pmipv4_nonskip = 47;           // RFC 5563 §3.1 (long header)
inline constexpr std::uint8_t encapsulating_delivery = 130;  // RFC 3024 §3.3
inline constexpr std::uint8_t mn_nai = 131;                  // RFC 2794 §2
inline constexpr std::uint8_t nvse = 134;                    // RFC 3115 §3.2
inline constexpr std::uint8_t revocation_support = 137;      // RFC 3543 §3.3
inline constexpr std::uint8_t udp_tunnel_request = 144;      // RFC 3519 §3.1
inline constexpr std::uint8_t pmipv4_skip = 147;             // RFC 5563 §3.2
inline constexpr std::uint8_t dsmipv4 = 152;                 // RFC 5454 §2
inline constexpr std::uint8_t agent_advertisement = 16;      // ICMP extension, RFC 5944 §2.1.1
inline constexpr std::uint8_t prefix_lengths = 19;           // ICMP extension, RFC 5944 §2.1.2
inline constexpr std::uint8_t one_byte_padding = 0;          // ICMP extension, RFC 5944 §2.1.3

[[nodiscard]] constexpr bool is_skippable(std::uint8_t type) { return type >= 128; }
// Extensions whose header is Type(1) | Sub-type or Reserved(1) | Length(2) (RFC 3012 §5,
// RFC 3115 §3.1, RFC 5563 §3.1); Wireshark special-cases exactly these.
[[nodiscard]] constexpr bool has_long_header(std::uint8_t type) {
  return type == generalized_auth || type == cvse || type == pmipv4_nonskip;
}
}  // namespace ext

// ---- Authentication, RFC 5944 §3.5 -----------------------------------------------------------
inline constexpr std::size_t kSpiSize = 4;
inline constexpr std::uint32_t kSpiReservedMax = 255;  // SPIs 0–255 are reserved (RFC 5944 §1.9)
inline constexpr std::size_t kHmacMd5Size = 16;        // RFC 5944 §3.5.1 default algorithm
inline constexpr std::size_t kHmacSha256Size = 32;

// ---- Replay protection, RFC 5944 §5.7 --------------------------------------------------------
inline constexpr std::uint32_t kDefaultReplayWindowSeconds = 7;    // RFC 5944 §5.7
inline constexpr std::uint32_t kNtpUnixEpochOffset = 2208988800u;  // 1900-01-01 → 1970-01-01

// ---- PMIPv4, RFC 5563 §3 ---------------------------------------------------------------------
namespace pmip {
// Sub-types of the non-skippable extension 47.
inline constexpr std::uint8_t per_node_auth_method = 1;  // RFC 5563 §3.1.1
// Per-node authentication methods.
inline constexpr std::uint8_t auth_fa_ha = 1;  // FA-HA authentication extension
inline constexpr std::uint8_t auth_ipsec = 2;  // IPsec between proxy and HA
// Sub-types of the skippable extension 147.
inline constexpr std::uint8_t interface_id = 1;       // RFC 5563 §3.2.1
inline constexpr std::uint8_t device_id = 2;          // RFC 5563 §3.2.2
inline constexpr std::uint8_t subscriber_id = 3;      // RFC 5563 §3.2.3
inline constexpr std::uint8_t access_technology = 4;  // RFC 5563 §3.2.4
// Device ID types.
inline constexpr std::uint8_t device_id_ethernet_mac = 1;
// Access technology types.
inline constexpr std::uint8_t access_802_3 = 1;
}  // namespace pmip

// ---- Dual-stack Mobile IPv4, RFC 5454 §2 ---------------------------------------------------
// Extension 152 is skippable and short-headed: Type | Length | Sub-Type | data.
namespace dsmip {
inline constexpr std::uint8_t prefix_request = 1;  // RFC 5454 §2.1, in a Registration Request
inline constexpr std::uint8_t prefix_reply = 2;    // RFC 5454 §2.2, in a Registration Reply
inline constexpr std::uint8_t tunneling_mode = 3;  // RFC 5454 §2.3 (we neither send nor act on it)
// Length field values: Sub-Type + Prefix Length + Prefix(16); Sub-Type + Code + Prefix
// Length + Reserved + Prefix(16).
inline constexpr std::size_t kPrefixRequestLength = 18;
inline constexpr std::size_t kPrefixReplyLength = 20;
inline constexpr std::uint8_t reply_code_success = 0;  // RFC 5454 §2.2; anything else is a refusal
}  // namespace dsmip

// ---- UDP tunnelling, RFC 3519 §3.1–3.3 -------------------------------------------------------
namespace udp_tunnel {
inline constexpr std::uint8_t request_flag_F = 0x80;            // force UDP tunnelling
inline constexpr std::uint8_t request_flag_R = 0x40;            // registration through FA required
inline constexpr std::uint16_t reply_flag_F = 0x8000;           // tunnelling forced
inline constexpr std::uint8_t reply_code_accepted = 0;          // will do UDP tunnelling
inline constexpr std::uint8_t reply_code_declined = 64;         // declined, use standard tunnelling
inline constexpr std::uint16_t kDefaultKeepaliveSeconds = 110;  // RFC 3519 §3.1.1
}  // namespace udp_tunnel

// ---- Registration revocation, RFC 3543 §3 ----------------------------------------------------
namespace revocation {
inline constexpr std::uint16_t flag_A = 0x8000;          // sent by the home domain (the HA)
inline constexpr std::uint16_t flag_I = 0x4000;          // inform the mobile node
inline constexpr std::uint16_t support_flag_I = 0x8000;  // extension 137: I bit supported
}  // namespace revocation

// ---- Agent discovery, RFC 5944 §2.1 ----------------------------------------------------------
namespace advert {
inline constexpr std::uint8_t kIcmpRouterAdvertisement = 9;  // RFC 1256
inline constexpr std::uint8_t kIcmpRouterSolicitation = 10;  // RFC 1256
inline constexpr std::uint8_t kCodeNormal = 0;
inline constexpr std::uint8_t kCodeNotRouter = 16;   // mobility agent that does not route common traffic
inline constexpr std::uint8_t kSolicitationTtl = 1;  // RFC 5944 §2.4.1
inline constexpr std::uint16_t flag_R = 0x8000;      // registration required
inline constexpr std::uint16_t flag_B = 0x4000;      // busy
inline constexpr std::uint16_t flag_H = 0x2000;      // home agent
inline constexpr std::uint16_t flag_F = 0x1000;      // foreign agent
inline constexpr std::uint16_t flag_M = 0x0800;      // minimal encapsulation
inline constexpr std::uint16_t flag_G = 0x0400;      // GRE
inline constexpr std::uint16_t flag_r = 0x0200;      // reserved (formerly V)
inline constexpr std::uint16_t flag_T = 0x0100;      // reverse tunnelling (RFC 3024 §3.1)
inline constexpr std::uint16_t flag_U = 0x0080;      // UDP tunnelling (RFC 3519 §3.5)
inline constexpr std::uint16_t flag_X = 0x0040;      // revocation support (RFC 3543 §3.4)
inline constexpr std::uint16_t flag_I =
    0x0020;  // regional registration (RFC 4857); Wireshark shows it as reserved
}  // namespace advert

// ---- Link layer -----------------------------------------------------------------------------
inline constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr std::uint16_t kEtherTypeIpv6 = 0x86DD;  // RFC 2464
inline constexpr std::uint16_t kEtherTypeArp = 0x0806;
inline constexpr std::uint16_t kEtherTypeRarp = 0x8035;  // QEMU's self-announce
inline constexpr std::uint16_t kArpOpRequest = 1;
inline constexpr std::uint16_t kArpOpReply = 2;
inline constexpr std::uint16_t kRarpOpRequest = 3;  // RFC 903 (QEMU announce uses 3)
inline constexpr std::uint16_t kRarpOpReply = 4;

}  // namespace vmroam::mip
