// Authentication extensions: compute and verify MN-HA (32), MN-FA (33) and FA-HA (34)
// authenticators, RFC 5944 §3.5.1–3.5.4 (and RFC 3543 §3.1 for revocation, which uses FA-HA).
//
// What is covered (RFC 5944 §3.5.1): the UDP payload from the Type byte through the end of
// every extension before this one, then this extension's Type, Length and SPI — i.e. exactly
// the first (offset + header + 4) bytes of the payload. So the covered region is always a
// prefix of the message as it was received, and verify() works on those received bytes.
//
// Comparison is constant-time over the whole authenticator (CRYPTO_memcmp); an authenticator
// of the wrong length fails before any comparison, never as a prefix match.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "common/auth/security_association.hpp"
#include "common/core/bytes.hpp"
#include "common/core/result.hpp"
#include "common/wire/extension.hpp"

namespace vmroam::auth {

// The bytes an authentication extension at `ext` covers. Errors: "bad_extension_offset"
// (ext is not where `message` has it: the list does not belong to these bytes).
[[nodiscard]] Result<ByteView> covered_bytes(ByteView message, const wire::Extension& ext);

// Builds the authentication extension of `type` (32/33/34) that would follow `preceding`,
// the encoded message including every extension before it. Its offset is preceding.size().
// Errors as validate(sa).
[[nodiscard]] Result<wire::Extension> make_auth_extension(ByteView preceding, std::uint8_t type,
                                                          const SecurityAssociation& sa);

// Appends the authentication extension of `type` to a message being built (any wire message
// with encode() and append(): requests, replies, revocations, acks).
template <typename Message>
[[nodiscard]] Result<void> append_auth(Message& m, std::uint8_t type, const SecurityAssociation& sa) {
  const Bytes so_far = encode(m);  // found by ADL in vmroam::wire
  VMROAM_TRY(wire::Extension ext, make_auth_extension(so_far, type, sa));
  m.append(std::move(ext));
  return ok();
}

// Verifies the (single) authentication extension of `type` in a parsed message, whose exact
// received bytes are `message` and whose extensions are `extensions`.
// Errors: "missing_auth", "spi_mismatch" (the SA's SPI is not the one in the packet),
// "unknown_spi" (keyring form), "auth_length_mismatch", "auth_mismatch", "bad_extension_offset".
[[nodiscard]] Result<void> verify(ByteView message, const wire::ExtensionList& extensions, std::uint8_t type,
                                  const SecurityAssociation& sa);
[[nodiscard]] Result<void> verify(ByteView message, const wire::ExtensionList& extensions, std::uint8_t type,
                                  const Keyring& keyring);

// The same on a message value: re-encodes it (encode(parse(b)) == b, so this is exact for a
// parsed message).
template <typename Message, typename Key>
[[nodiscard]] Result<void> verify_message(const Message& m, std::uint8_t type, const Key& sa_or_keyring) {
  const Bytes b = encode(m);  // found by ADL in vmroam::wire
  return verify(b, m.extensions, type, sa_or_keyring);
}

// The SPI of the authentication extension of `type`. Errors: "missing_auth".
[[nodiscard]] Result<std::uint32_t> auth_spi(const wire::ExtensionList& extensions, std::uint8_t type);

// Every Error::code the functions above (and Keyring/validate) can return.
[[nodiscard]] std::span<const std::string_view> failure_reasons();

}  // namespace vmroam::auth
