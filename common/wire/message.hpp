// One entry point for everything that arrives on UDP port 434 (RFC 5944 §3, RFC 3519 §3.3,
// RFC 3543 §3): check the length, then dispatch on the Type byte (length before dispatch).
//
// RFC 3519 tunnel data (type 4) shares the port but is not a control message: parse_message
// returns the TunnelData kind, without reading further, so the caller hands the whole payload
// to the data plane (common/wire's packet code parses its 4-byte header).
//
// Every rejection carries a stable reason name (Error::code) that agents count as a metrics
// label; rejection_reasons() lists them all.
#pragma once

#include <span>
#include <string_view>
#include <variant>

#include "common/core/bytes.hpp"
#include "common/core/result.hpp"
#include "common/wire/registration.hpp"
#include "common/wire/revocation.hpp"

namespace vmroam::wire {

// RFC 3519 §3.3 tunnel data: not parsed here; route the payload to the data plane.
struct TunnelData {
  friend bool operator==(const TunnelData&, const TunnelData&) = default;
};

using Message = std::variant<RegistrationRequest, RegistrationReply, Revocation, RevocationAck, TunnelData>;

// Errors: see rejection_reasons().
[[nodiscard]] Result<Message> parse_message(ByteView udp_payload);

// The message kind's name: "registration_request", "registration_reply", "revocation",
// "revocation_ack", "tunnel_data".
[[nodiscard]] std::string_view message_name(const Message& m);

// Every Error::code that parse_message (and the typed extension views) can return.
[[nodiscard]] std::span<const std::string_view> rejection_reasons();

}  // namespace vmroam::wire
