// Security associations, keyring and HMAC via OpenSSL 3 (see security_association.hpp).
#include "common/auth/security_association.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

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

namespace {

// HMAC (RFC 2104 §2) with each key's inner and outer digest states computed once and kept:
// H(K ⊕ opad ‖ H(K ⊕ ipad ‖ text)), where the two states after absorbing K ⊕ ipad and
// K ⊕ opad depend on the key alone. OpenSSL 3's one-shot HMAC() looked the MAC and the digest
// up by name on every call, under the provider store's locks; at two HMACs per registration
// that cost the home agent's loop more than the hashing itself (docs/performance.md).
// Per thread (no lock), a few keys (the FAs an agent talks to), the oldest evicted first.
constexpr std::size_t kBlock = 64;       // the block size of MD5 and SHA-256 (RFC 2104 §2: B)
constexpr std::size_t kCachedKeys = 32;  // more FAs than that: the oldest is recomputed

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

const EVP_MD* digest_of(Algorithm a) {
  // Fetched once (thread-safe statics): no lookup by name per call.
  static EVP_MD* const md5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  const EVP_MD* md = a == Algorithm::hmac_md5 ? md5 : sha256;
  if (md == nullptr) std::abort();
  return md;
}

void digest_into(EVP_MD_CTX* c, const EVP_MD* md, ByteView data, std::uint8_t* out, unsigned* len) {
  if (EVP_DigestInit_ex2(c, md, nullptr) != 1 || EVP_DigestUpdate(c, data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(c, out, len) != 1)
    std::abort();
}

struct KeyState {
  Algorithm algorithm;
  Bytes key;
  MdCtx inner;  // after K ⊕ ipad
  MdCtx outer;  // after K ⊕ opad
  ~KeyState() { OPENSSL_cleanse(key.data(), key.size()); }
};

std::unique_ptr<KeyState> key_state(Algorithm a, ByteView key) {
  const EVP_MD* md = digest_of(a);
  std::unique_ptr<KeyState> st(
      new KeyState{a, Bytes(key.begin(), key.end()), MdCtx(EVP_MD_CTX_new()), MdCtx(EVP_MD_CTX_new())});
  std::array<std::uint8_t, kBlock> k{};
  if (key.size() > kBlock) {  // RFC 2104 §2: a longer key is hashed first
    unsigned len = 0;
    digest_into(st->inner.get(), md, key, k.data(), &len);
  } else {
    std::copy(key.begin(), key.end(), k.begin());
  }
  std::array<std::uint8_t, kBlock> pad{};
  for (auto [ctx, byte] : {std::pair{st->inner.get(), 0x36}, std::pair{st->outer.get(), 0x5c}}) {
    for (std::size_t i = 0; i < kBlock; ++i) pad[i] = static_cast<std::uint8_t>(k[i] ^ byte);
    if (ctx == nullptr || EVP_DigestInit_ex2(ctx, md, nullptr) != 1 ||
        EVP_DigestUpdate(ctx, pad.data(), kBlock) != 1)
      std::abort();
  }
  OPENSSL_cleanse(k.data(), k.size());
  OPENSSL_cleanse(pad.data(), pad.size());
  return st;
}

const KeyState& cached_key_state(Algorithm a, ByteView key) {
  thread_local std::vector<std::unique_ptr<KeyState>> cache;
  for (const auto& st : cache)
    if (st->algorithm == a && std::equal(st->key.begin(), st->key.end(), key.begin(), key.end())) return *st;
  if (cache.size() == kCachedKeys) cache.erase(cache.begin());
  cache.push_back(key_state(a, key));
  return *cache.back();
}

}  // namespace

Digest hmac(Algorithm a, ByteView key, ByteView data) {
  const KeyState& st = cached_key_state(a, key);
  thread_local MdCtx work(EVP_MD_CTX_new());
  Digest d;
  std::array<std::uint8_t, EVP_MAX_MD_SIZE> inner{};
  unsigned inner_len = 0, len = 0;
  if (!work || EVP_MD_CTX_copy_ex(work.get(), st.inner.get()) != 1 ||
      EVP_DigestUpdate(work.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(work.get(), inner.data(), &inner_len) != 1 ||
      EVP_MD_CTX_copy_ex(work.get(), st.outer.get()) != 1 ||
      EVP_DigestUpdate(work.get(), inner.data(), inner_len) != 1 ||
      EVP_DigestFinal_ex(work.get(), d.bytes.data(), &len) != 1 || len != authenticator_size(a))
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
