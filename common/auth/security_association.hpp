// Mobility security associations (RFC 5944 §3.5.1, §5.1): an SPI names an algorithm and a
// key; the Keyring maps SPI → association. HMAC is computed with OpenSSL.
//
// Algorithms: HMAC-MD5 (RFC 2104; RFC 5944's default, 16-byte authenticator) for
// interoperability and HMAC-SHA-256 (32 bytes), vmroam's default. The algorithm is bound to
// the SPI, never negotiated from the packet.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <unordered_map>

#include "common/core/bytes.hpp"
#include "common/core/result.hpp"

namespace vmroam::auth {

enum class Algorithm : std::uint8_t {
  hmac_md5,     // RFC 2104, RFC 5944 §3.5.1 default
  hmac_sha256,  // RFC 4231
};

// "hmac-md5" / "hmac-sha256" (config and JSON spelling).
[[nodiscard]] std::string_view algorithm_name(Algorithm a);
// Errors: "unknown_algorithm".
[[nodiscard]] Result<Algorithm> parse_algorithm(std::string_view name);
// Authenticator size in bytes: 16 or 32.
[[nodiscard]] std::size_t authenticator_size(Algorithm a);

// An HMAC output, at most 32 bytes, no allocation.
struct Digest {
  std::array<std::uint8_t, 32> bytes{};
  std::size_t size = 0;
  [[nodiscard]] ByteView view() const { return ByteView(bytes.data(), size); }
};

// HMAC(key, data). Aborts only if OpenSSL itself fails (can't happen with these digests).
[[nodiscard]] Digest hmac(Algorithm a, ByteView key, ByteView data);

inline constexpr std::size_t kMinKeySize = 16;  // RFC 5944 §5.1: 128-bit keys by default
inline constexpr std::size_t kMaxKeySize = 64;  // one hash block; longer keys gain nothing

struct SecurityAssociation {
  std::uint32_t spi = 0;
  Algorithm algorithm = Algorithm::hmac_sha256;
  Bytes key;
  friend bool operator==(const SecurityAssociation&, const SecurityAssociation&) = default;
};

// Errors: "reserved_spi" (0–255, RFC 5944 §1.9), "short_key", "long_key".
[[nodiscard]] Result<void> validate(const SecurityAssociation& sa);

class Keyring {
 public:
  // Adds or replaces the association for sa.spi. Errors as validate().
  [[nodiscard]] Result<void> add(SecurityAssociation sa);
  // True if there was one.
  bool remove(std::uint32_t spi);
  [[nodiscard]] const SecurityAssociation* find(std::uint32_t spi) const;
  [[nodiscard]] std::size_t size() const { return by_spi_.size(); }

 private:
  std::unordered_map<std::uint32_t, SecurityAssociation> by_spi_;
};

}  // namespace vmroam::auth
