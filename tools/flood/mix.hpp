// The flood's packets: forged and garbage Registration Requests for UDP 434, one kind at a
// time, built once and sent many times (tools/flood/main.cpp). Pure: the wall time and the
// random seed are parameters.
//
// Forged (well-formed RFC 5563 proxy registrations, each failing one check at the HA):
//   bad_auth     FA-HA authenticator made with the wrong key (RFC 5944 §3.5.4: 132)
//   unknown_spi  FA-HA with an SPI the sender has no key for (132)
//   unknown_hoa  properly signed, for a home address the HA has no VM for (129)
//   replayed     properly signed, Identification an hour old (RFC 5944 §5.7: 133)
// Garbage:
//   truncated    a request cut inside its 24-byte fixed part (134 where addressable)
//   wrong_type   a message type that does not exist on UDP 434
//   random       random bytes, whose first byte is never 4 (4 is RFC 3519 tunnel data, which
//                the data plane handles and counts on its own)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/auth/security_association.hpp"
#include "common/core/address.hpp"
#include "common/core/bytes.hpp"
#include "common/core/clock.hpp"
#include "common/core/result.hpp"

namespace vmroam::flood {

enum class Kind : std::uint8_t {
  bad_auth,
  unknown_spi,
  unknown_hoa,
  replayed,
  truncated,
  wrong_type,
  random
};
inline constexpr Kind kKinds[] = {Kind::bad_auth,  Kind::unknown_spi, Kind::unknown_hoa, Kind::replayed,
                                  Kind::truncated, Kind::wrong_type,  Kind::random};
[[nodiscard]] std::string_view to_string(Kind k);
[[nodiscard]] Result<Kind> parse_kind(std::string_view s);

// What the forged ones claim: sent to `home_agent`, for the VM `home_address`/`mac` (a real
// one, so that they reach the authentication and replay checks), signed with `key` (the key
// the HA has for the flood's source addresses) unless the kind says otherwise.
struct Target {
  Ipv4 home_agent;
  Ipv4 care_of_address;
  Ipv4 home_address;
  MacAddress mac;
  Ipv4 unknown_home_address;  // inside the home prefix, no VM has it
  auth::SecurityAssociation key;
};

// `count` distinct packets of kind `k` (Identifications and random bytes differ).
[[nodiscard]] std::vector<Bytes> make_packets(Kind k, const Target& t, std::size_t count, WallTime now,
                                              std::uint32_t seed);

}  // namespace vmroam::flood
