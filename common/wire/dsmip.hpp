// Dual-Stack Mobile IPv4 extension (type 152), RFC 5454 §2: how a registration carries the
// VM's IPv6 home addresses.
//
//   IPv6 Prefix Request (§2.1), in a Registration Request:
//     Type=152 | Length=18 | Sub-Type=1 | Prefix Length | Home Network Prefix(16)
//   IPv6 Prefix Reply (§2.2), in a Registration Reply:
//     Type=152 | Length=20 | Sub-Type=2 | Code | Prefix Length | Reserved | Home Network Prefix(16)
//   IPv6 Tunneling Mode (§2.3): recognised by sub-type, never sent, never acted on.
//
// Like every extension a receiver acts on, these sit before the authentication extension that
// covers them (RFC 5944 §3.6.1.3; check_extensions() enforces it). vmroam sends one request
// (and gets one reply) per IPv6 home address, each a /128 (docs/protocol.md says why).
//
// The extension is skippable, so an unknown sub-type is passed over; a known sub-type with the
// wrong length rejects the message, as for the PMIPv4 skippable extension (RFC 5563 §3.2).
// Pure: bytes in, values out. Each view keeps every wire bit, so to_extension(from(e)) == e.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/core/address6.hpp"
#include "common/core/result.hpp"
#include "common/wire/extension.hpp"
#include "common/wire/mobile_ip.hpp"

namespace vmroam::wire {

struct Ipv6PrefixRequest {
  std::uint8_t prefix_length = 128;
  Ipv6 prefix;
  // Errors: "wrong_extension_type", "bad_extension_length", "bad_prefix_length" (over 128).
  [[nodiscard]] static Result<Ipv6PrefixRequest> from(const Extension& e);
  [[nodiscard]] Extension to_extension() const;
  friend bool operator==(const Ipv6PrefixRequest&, const Ipv6PrefixRequest&) = default;
};

struct Ipv6PrefixReply {
  std::uint8_t code = mip::dsmip::reply_code_success;
  std::uint8_t prefix_length = 128;
  std::uint8_t reserved = 0;  // sent 0; kept so that a received extension re-encodes exactly
  Ipv6 prefix;
  [[nodiscard]] bool success() const { return code == mip::dsmip::reply_code_success; }
  // Errors as for Ipv6PrefixRequest.
  [[nodiscard]] static Result<Ipv6PrefixReply> from(const Extension& e);
  [[nodiscard]] Extension to_extension() const;
  friend bool operator==(const Ipv6PrefixReply&, const Ipv6PrefixReply&) = default;
};

// The sub-type of a 152 extension. Errors: "wrong_extension_type", "bad_extension_length"
// (no data at all).
[[nodiscard]] Result<std::uint8_t> dsmip_sub_type(const Extension& e);

// Length rules of the known sub-types, for check_extensions(). Errors as for the views.
[[nodiscard]] Result<void> check_dsmip(const Extension& e);

// Every prefix request (resp. reply) of a message, in wire order; other sub-types are passed
// over. Errors as for the views, naming the extension's offset.
[[nodiscard]] Result<std::vector<Ipv6PrefixRequest>> ipv6_prefix_requests(const ExtensionList& list);
[[nodiscard]] Result<std::vector<Ipv6PrefixReply>> ipv6_prefix_replies(const ExtensionList& list);

// Display name of a sub-type: "prefix_request", "prefix_reply", "tunneling_mode", "unknown".
[[nodiscard]] std::string_view dsmip_sub_type_name(std::uint8_t sub_type);

}  // namespace vmroam::wire
