// Registration Revocation (type 7) and Revocation Acknowledgement (type 15), RFC 3543 §3.1–3.2.
//
//   Revocation, 20-byte fixed part:
//     Type=7 | Reserved | A|I|Reserved(14) | Home Address | Home Domain Address |
//     Foreign Domain Address | Revocation Identifier(4) | extensions…
//   Revocation Ack, 12-byte fixed part:
//     Type=15 | Reserved | I|Reserved(15) | Home Address | Revocation Identifier(4) | extensions…
//
// RFC 3543 §3 requires both to carry an FA-HA authentication extension (34); that is checked
// by the authenticator (common/auth), not here. Reserved bits are kept so that
// encode(parse(b)) == b.
#pragma once

#include <cstdint>

#include "common/core/address.hpp"
#include "common/core/bytes.hpp"
#include "common/core/result.hpp"
#include "common/wire/extension.hpp"
#include "common/wire/mobile_ip.hpp"

namespace vmroam::wire {

struct Revocation {
  std::uint8_t reserved = 0;
  std::uint16_t flags = 0;  // mip::revocation::flag_A | flag_I
  Ipv4 home_address;
  Ipv4 home_domain_address;     // the HA (or home domain agent)
  Ipv4 foreign_domain_address;  // the FA (or foreign domain agent)
  std::uint32_t revocation_id = 0;
  ExtensionList extensions;

  // A: sent by the home domain (RFC 3543 §3.1).
  [[nodiscard]] bool from_home_agent() const { return (flags & mip::revocation::flag_A) != 0; }
  // I: the mobile node is to be informed.
  [[nodiscard]] bool inform() const { return (flags & mip::revocation::flag_I) != 0; }
  void append(Extension e);
  [[nodiscard]] std::size_t encoded_size() const;

  friend bool operator==(const Revocation&, const Revocation&) = default;
};

struct RevocationAck {
  std::uint8_t reserved = 0;
  std::uint16_t flags = 0;  // I bit: 0x8000 (RFC 3543 §3.2; Wireshark mip.ack.i)
  Ipv4 home_address;
  std::uint32_t revocation_id = 0;
  ExtensionList extensions;

  static constexpr std::uint16_t kFlagI = 0x8000;
  [[nodiscard]] bool inform() const { return (flags & kFlagI) != 0; }
  void append(Extension e);
  [[nodiscard]] std::size_t encoded_size() const;

  friend bool operator==(const RevocationAck&, const RevocationAck&) = default;
};

// Errors: "truncated", "bad_type", and the extension reasons of extension.hpp.
[[nodiscard]] Result<Revocation> parse_revocation(ByteView udp_payload);
[[nodiscard]] Result<RevocationAck> parse_revocation_ack(ByteView udp_payload);

[[nodiscard]] Bytes encode(const Revocation& m);
[[nodiscard]] Bytes encode(const RevocationAck& m);
void encode(const Revocation& m, ByteWriter& w);
void encode(const RevocationAck& m, ByteWriter& w);

}  // namespace vmroam::wire
