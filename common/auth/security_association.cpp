// Security associations, keyring and HMAC via OpenSSL 3 (see security_association.hpp).
#include "common/auth/security_association.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdlib>
#include <string>

#include "common/wire/mobile_ip.hpp"

namespace vmroam::auth {

std::string_view algorithm_name(Algorithm a) {
  switch (a) {
    case Algorithm::hmac_md5:
      return "hmac-md5";
    case Algorithm::hmac_sha256:
      return "hmac-sha256";
  }
  std::abort();
}

Result<Algorithm> parse_algorithm(std::string_view name) {
  if (name == "hmac-md5") return Algorithm::hmac_md5;
  if (name == "hmac-sha256") return Algorithm::hmac_sha256;
  return fail("unknown_algorithm", "\"" + std::string(name) + "\" (want hmac-md5 or hmac-sha256)");
}

std::size_t authenticator_size(Algorithm a) {
  switch (a) {
    case Algorithm::hmac_md5:
      return mip::kHmacMd5Size;
    case Algorithm::hmac_sha256:
      return mip::kHmacSha256Size;
  }
  std::abort();
}

Digest hmac(Algorithm a, ByteView key, ByteView data) {
  const EVP_MD* md = a == Algorithm::hmac_md5 ? EVP_md5() : EVP_sha256();
  Digest d;
  unsigned int len = 0;
  // HMAC() (one-shot) is not deprecated in OpenSSL 3.0, unlike HMAC_CTX. An empty key is
  // passed as a valid non-null pointer: OpenSSL treats a null key as "reuse the old key".
  static const std::uint8_t kEmpty = 0;
  const std::uint8_t* k = key.empty() ? &kEmpty : key.data();
  const std::uint8_t* p = data.empty() ? &kEmpty : data.data();
  if (HMAC(md, k, static_cast<int>(key.size()), p, data.size(), d.bytes.data(), &len) == nullptr ||
      len != authenticator_size(a))
    std::abort();
  d.size = len;
  return d;
}

Result<void> validate(const SecurityAssociation& sa) {
  if (sa.spi <= mip::kSpiReservedMax)
    return fail("reserved_spi", "SPI " + std::to_string(sa.spi) + " is reserved (0-255)");
  if (sa.key.size() < kMinKeySize)
    return fail("short_key", "SPI " + std::to_string(sa.spi) + ": key has " + std::to_string(sa.key.size()) +
                                 " bytes, need at least " + std::to_string(kMinKeySize));
  if (sa.key.size() > kMaxKeySize)
    return fail("long_key", "SPI " + std::to_string(sa.spi) + ": key has " + std::to_string(sa.key.size()) +
                                " bytes, at most " + std::to_string(kMaxKeySize));
  return ok();
}

Result<void> Keyring::add(SecurityAssociation sa) {
  VMROAM_TRY_VOID(validate(sa));
  const auto spi = sa.spi;
  by_spi_.insert_or_assign(spi, std::move(sa));
  return ok();
}

bool Keyring::remove(std::uint32_t spi) { return by_spi_.erase(spi) > 0; }

const SecurityAssociation* Keyring::find(std::uint32_t spi) const {
  auto it = by_spi_.find(spi);
  return it == by_spi_.end() ? nullptr : &it->second;
}

}  // namespace vmroam::auth
