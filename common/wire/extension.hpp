// Mobile IPv4 registration extensions: the TLV list that follows every fixed message part.
//
// Two header shapes exist (RFC 5944 §1.10–1.11):
//   short: Type(1) | Length(1) | data            (Length counts the data only)
//   long:  Type(1) | Sub-Type(1) | Length(2) | data   (types 36, 38, 47; Wireshark agrees)
// Each parsed Extension keeps its exact wire bytes and its offset in the UDP payload, because
// an authenticator covers the payload byte-exactly up to its own SPI (RFC 5944 §3.5.1), and
// because build(parse(b)) must give back b.
//
// Parsing is two steps so that tools can still show what a rejected message held:
//   split_extensions()  structure only: headers and lengths fit inside the message;
//   check_extensions()  semantics: non-skippable types we do not implement reject the message
//                       (RFC 5944 §1.9), known types have the lengths their RFC gives, and
//                       nothing follows the last authentication extension.
// Typed views (AuthExtension, UdpTunnelRequest, Pmip…) read and build single extensions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "common/core/address.hpp"
#include "common/core/bytes.hpp"
#include "common/core/result.hpp"
#include "common/wire/mobile_ip.hpp"

namespace vmroam::wire {

// One extension exactly as on the wire.
struct Extension {
  std::uint8_t type = 0;
  // Offset of the Type byte within the UDP payload. Set by parsing; builders that append
  // extensions to a message set it from the message's encoded size.
  std::size_t offset = 0;
  // The whole extension: header and data.
  Bytes raw;

  [[nodiscard]] bool long_header() const { return mip::ext::has_long_header(type); }
  [[nodiscard]] std::size_t header_size() const { return long_header() ? 4 : 2; }
  [[nodiscard]] bool skippable() const { return mip::ext::is_skippable(type); }
  // The Length field's value (the data size; both header shapes exclude the header).
  [[nodiscard]] std::size_t length() const { return raw.size() - header_size(); }
  // Total size on the wire.
  [[nodiscard]] std::size_t size() const { return raw.size(); }
  // Long header only: the Sub-Type (36, 47) or Reserved (38) byte; 0 for short headers.
  [[nodiscard]] std::uint8_t long_sub_type() const { return long_header() ? raw[1] : 0; }
  [[nodiscard]] ByteView data() const { return ByteView(raw).subspan(header_size()); }

  // A short-header extension; fails with "extension_too_long" past 255 data bytes.
  [[nodiscard]] static Result<Extension> make(std::uint8_t type, ByteView data);
  // A long-header extension (RFC 5944 §1.11); fails past 65535 data bytes.
  [[nodiscard]] static Result<Extension> make_long(std::uint8_t type, std::uint8_t sub_type, ByteView data);

  friend bool operator==(const Extension& a, const Extension& b) {
    return a.type == b.type && a.raw == b.raw;
  }
};

using ExtensionList = std::vector<Extension>;

// Splits message[start..] into extensions; offsets are relative to message[0].
// Errors: "extension_overrun" (a header or its data runs past the end of the message).
[[nodiscard]] Result<ExtensionList> split_extensions(ByteView message, std::size_t start);

// Errors: "unknown_nonskippable_extension", "bad_extension_length", "auth_not_last",
// "duplicate_auth_extension".
[[nodiscard]] Result<void> check_extensions(const ExtensionList& list);

// split + check.
[[nodiscard]] Result<ExtensionList> parse_extensions(ByteView message, std::size_t start);

// Appends every extension's raw bytes.
void encode_extensions(const ExtensionList& list, ByteWriter& w);

// The encoded size of the list: every extension's header and data.
[[nodiscard]] std::size_t extensions_size(const ExtensionList& list);

// Appends e to the list of a message whose fixed part is `fixed_size` bytes, setting e.offset
// to where it will be encoded (an authenticator covers the bytes before its own offset).
void append_extension(ExtensionList& list, std::size_t fixed_size, Extension e);

// Sets each extension's offset as if the list followed a fixed part of `fixed_size` bytes.
void assign_offsets(ExtensionList& list, std::size_t fixed_size);

[[nodiscard]] bool is_auth_extension(std::uint8_t type);

// First extension of `type`, or nullptr.
[[nodiscard]] const Extension* find_extension(const ExtensionList& list, std::uint8_t type);
// First PMIPv4 skippable extension (147) with this sub-type, or nullptr.
[[nodiscard]] const Extension* find_pmip_skippable(const ExtensionList& list, std::uint8_t sub_type);

// Display name of an extension type ("mn_ha_auth", … "unknown").
[[nodiscard]] std::string_view extension_name(std::uint8_t type);

// ---- Typed views -------------------------------------------------------------------------
// Each has from(const Extension&) (fails with "bad_extension_length" or
// "wrong_extension_type") and to_extension().

// MN-HA (32), MN-FA (33), FA-HA (34) authentication, RFC 5944 §3.5.2–3.5.4:
// Type | Length | SPI(4) | Authenticator(Length-4).
struct AuthExtension {
  std::uint8_t type = mip::ext::mn_ha_auth;
  std::uint32_t spi = 0;
  Bytes authenticator;
  [[nodiscard]] static Result<AuthExtension> from(const Extension& e);
  [[nodiscard]] Result<Extension> to_extension() const;
};

// PMIPv4 non-skippable extension 47, sub-type 1 (per-node authentication method),
// RFC 5563 §3.1: Type | Sub-Type=1 | Length(2)=1 | Method. Long header, as in Wireshark.
struct PmipPerNodeAuth {
  std::uint8_t method = mip::pmip::auth_fa_ha;
  [[nodiscard]] static Result<PmipPerNodeAuth> from(const Extension& e);
  [[nodiscard]] Extension to_extension() const;
};

// PMIPv4 skippable extension 147, RFC 5563 §3.2: Type | Length | Sub-Type | data.
// Sub-type 1, interface ID: data = the interface identifier.
struct PmipInterfaceId {
  Bytes id;
  [[nodiscard]] static Result<PmipInterfaceId> from(const Extension& e);
  [[nodiscard]] Result<Extension> to_extension() const;
};
// Sub-type 2, device ID: ID-Type(1) | Identifier. ID-Type 1 = Ethernet MAC (the VM's MAC).
struct PmipDeviceId {
  std::uint8_t id_type = mip::pmip::device_id_ethernet_mac;
  Bytes id;
  [[nodiscard]] static PmipDeviceId ethernet(const MacAddress& mac);
  // Fails with "not_a_mac" unless ID-Type is 1 and the identifier has 6 bytes.
  [[nodiscard]] Result<MacAddress> mac() const;
  [[nodiscard]] static Result<PmipDeviceId> from(const Extension& e);
  [[nodiscard]] Result<Extension> to_extension() const;
};
// Sub-type 3, subscriber ID: ID-Type(1) | Identifier (ID-Type 1 = IMSI).
struct PmipSubscriberId {
  std::uint8_t id_type = 1;
  Bytes id;
  [[nodiscard]] static Result<PmipSubscriberId> from(const Extension& e);
  [[nodiscard]] Result<Extension> to_extension() const;
};
// Sub-type 4, access technology: Access-Technology-Type(1) (1 = IEEE 802.3).
struct PmipAccessTechnology {
  std::uint8_t technology = mip::pmip::access_802_3;
  [[nodiscard]] static Result<PmipAccessTechnology> from(const Extension& e);
  [[nodiscard]] Extension to_extension() const;
};
// The sub-type of a 147 extension (fails if it has no data).
[[nodiscard]] Result<std::uint8_t> pmip_skippable_sub_type(const Extension& e);

// UDP tunnel request, type 144, RFC 3519 §3.1:
// Type | Length=6 | Sub-Type | Reserved1 | F|R|Reserved2 | Encapsulation | Reserved3(2).
struct UdpTunnelRequest {
  std::uint8_t sub_type = 0;
  std::uint8_t flags = 0;                          // mip::udp_tunnel::request_flag_F / _R
  std::uint8_t encapsulation = mip::kIpProtoIpip;  // 4 IP-in-IP, 47 GRE, 55 minimal
  [[nodiscard]] bool force() const { return (flags & mip::udp_tunnel::request_flag_F) != 0; }
  [[nodiscard]] bool fa_required() const { return (flags & mip::udp_tunnel::request_flag_R) != 0; }
  [[nodiscard]] static Result<UdpTunnelRequest> from(const Extension& e);
  [[nodiscard]] Extension to_extension() const;
};

// UDP tunnel reply, type 44, RFC 3519 §3.2:
// Type | Length=6 | Sub-Type | Reply Code | F|Reserved(15) | Keepalive Interval(2).
struct UdpTunnelReply {
  std::uint8_t sub_type = 0;
  std::uint8_t code = mip::udp_tunnel::reply_code_accepted;
  std::uint16_t flags = 0;  // mip::udp_tunnel::reply_flag_F
  std::uint16_t keepalive_seconds = mip::udp_tunnel::kDefaultKeepaliveSeconds;
  [[nodiscard]] bool forced() const { return (flags & mip::udp_tunnel::reply_flag_F) != 0; }
  [[nodiscard]] static Result<UdpTunnelReply> from(const Extension& e);
  [[nodiscard]] Extension to_extension() const;
};

// Revocation support, type 137, RFC 3543 §3.3:
// Type | Length=6 | I|Reserved(15) | Timestamp(4).
struct RevocationSupport {
  std::uint16_t flags = 0;  // mip::revocation::support_flag_I
  std::uint32_t timestamp = 0;
  [[nodiscard]] bool inform_supported() const { return (flags & mip::revocation::support_flag_I) != 0; }
  [[nodiscard]] static Result<RevocationSupport> from(const Extension& e);
  [[nodiscard]] Extension to_extension() const;
};

// Mobile node NAI, type 131, RFC 2794 §2: Type | Length | NAI (kept as bytes).
struct MnNai {
  Bytes nai;
  [[nodiscard]] static Result<MnNai> from(const Extension& e);
  [[nodiscard]] Result<Extension> to_extension() const;
};

}  // namespace vmroam::wire
