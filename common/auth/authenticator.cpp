// Authenticator computation and verification, RFC 5944 §3.5.1 (see authenticator.hpp).
#include "common/auth/authenticator.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <string>

#include "common/wire/mobile_ip.hpp"

namespace vmroam::auth {

namespace {

std::string describe(std::uint8_t type) {
  return std::string(wire::extension_name(type)) + " (" + std::to_string(type) + ")";
}

Result<const wire::Extension*> find_auth(const wire::ExtensionList& list, std::uint8_t type) {
  const wire::Extension* e = wire::find_extension(list, type);
  if (e == nullptr) return fail("missing_auth", "no " + describe(type) + " extension");
  return e;
}

}  // namespace

Result<ByteView> covered_bytes(ByteView message, const wire::Extension& ext) {
  const std::size_t end = ext.offset + ext.header_size() + mip::kSpiSize;
  if (ext.raw.size() < ext.header_size() + mip::kSpiSize || ext.offset > message.size() ||
      message.size() - ext.offset < ext.raw.size() ||
      !std::equal(ext.raw.begin(), ext.raw.end(), message.begin() + static_cast<std::ptrdiff_t>(ext.offset)))
    return fail("bad_extension_offset",
                describe(ext.type) + " is not at offset " + std::to_string(ext.offset));
  return message.first(end);
}

Result<wire::Extension> make_auth_extension(ByteView preceding, std::uint8_t type,
                                            const SecurityAssociation& sa) {
  VMROAM_TRY_VOID(validate(sa));
  const std::size_t auth_size = authenticator_size(sa.algorithm);
  Bytes covered(preceding.begin(), preceding.end());
  ByteWriter w(covered);
  w.u8(type);
  w.u8(static_cast<std::uint8_t>(mip::kSpiSize + auth_size));
  w.u32(sa.spi);
  const Digest d = hmac(sa.algorithm, sa.key, covered);
  wire::Extension e;
  e.type = type;
  e.offset = preceding.size();
  e.raw.assign(covered.end() - 6, covered.end());
  e.raw.insert(e.raw.end(), d.view().begin(), d.view().end());
  return e;
}

Result<void> verify(ByteView message, const wire::ExtensionList& extensions, std::uint8_t type,
                    const SecurityAssociation& sa) {
  VMROAM_TRY(const wire::Extension* e, find_auth(extensions, type));
  VMROAM_TRY(wire::AuthExtension a, wire::AuthExtension::from(*e));
  if (a.spi != sa.spi)
    return fail("spi_mismatch",
                describe(type) + ": SPI " + std::to_string(a.spi) + ", expected " + std::to_string(sa.spi));
  VMROAM_TRY(ByteView covered, covered_bytes(message, *e));
  const std::size_t want = authenticator_size(sa.algorithm);
  // A shorter authenticator is a failure, not a prefix compare (and a longer one too).
  if (a.authenticator.size() != want)
    return fail("auth_length_mismatch", describe(type) + ": " + std::to_string(a.authenticator.size()) +
                                            " bytes, " + std::string(algorithm_name(sa.algorithm)) +
                                            " gives " + std::to_string(want));
  const Digest d = hmac(sa.algorithm, sa.key, covered);
  if (CRYPTO_memcmp(d.bytes.data(), a.authenticator.data(), want) != 0)
    return fail("auth_mismatch", describe(type) + " with SPI " + std::to_string(sa.spi));
  return ok();
}

Result<void> verify(ByteView message, const wire::ExtensionList& extensions, std::uint8_t type,
                    const Keyring& keyring) {
  VMROAM_TRY(std::uint32_t spi, auth_spi(extensions, type));
  const SecurityAssociation* sa = keyring.find(spi);
  if (sa == nullptr) return fail("unknown_spi", describe(type) + ": SPI " + std::to_string(spi));
  return verify(message, extensions, type, *sa);
}

Result<std::uint32_t> auth_spi(const wire::ExtensionList& extensions, std::uint8_t type) {
  VMROAM_TRY(const wire::Extension* e, find_auth(extensions, type));
  VMROAM_TRY(wire::AuthExtension a, wire::AuthExtension::from(*e));
  return a.spi;
}

std::span<const std::string_view> failure_reasons() {
  static constexpr std::array<std::string_view, 11> kReasons = {
      "missing_auth",  "unknown_spi",          "spi_mismatch",         "auth_length_mismatch",
      "auth_mismatch", "bad_extension_offset", "reserved_spi",         "short_key",
      "long_key",      "unknown_algorithm",    "bad_extension_length",
  };
  return kReasons;
}

}  // namespace vmroam::auth
