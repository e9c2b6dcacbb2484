// Replay protection for registrations, RFC 5944 §5.7. Pure: the time is always a parameter.
//
// Timestamps (§5.7.1, the default): the 64-bit Identification is an NTP time — high 32 bits
// seconds since 1900-01-01, low 32 bits the fraction. The home agent accepts a request whose
// Identification is within a window of its own clock (7 s by default) AND strictly greater
// than the last one it accepted for that home address. Otherwise it denies with code 133 and
// an Identification whose high 32 bits are its own time and whose low 32 bits are copied
// from the request, so the mobile node can resynchronise (§3.6.1.3 / §5.7.1).
//
// Nonces (§5.7.2): the request's high 32 bits must echo the nonce the HA sent in its last
// reply; the low 32 bits are the MN's nonce. Every reply carries a fresh HA nonce (high) and
// copies the MN's nonce (low). Fresh nonces come from the caller (randomness is I/O).
//
// ReplayState is one home address's state: plain values, persisted with the binding.
// Comparisons are modulo 2^64 (serial-number arithmetic), so the NTP era rollover in 2036
// does not turn "newer" into "older".
#pragma once

#include <chrono>
#include <cstdint>

#include "common/core/clock.hpp"
#include "common/core/result.hpp"
#include "common/wire/mobile_ip.hpp"

namespace vmroam::auth {

enum class ReplayStyle : std::uint8_t { timestamp, nonce };

struct ReplayState {
  ReplayStyle style = ReplayStyle::timestamp;
  bool has_accepted = false;        // false until the first accepted request
  std::uint64_t last_accepted = 0;  // Identification of the last accepted request
  std::uint32_t ha_nonce = 0;       // nonce style: high 32 bits the next request must carry
  friend bool operator==(const ReplayState&, const ReplayState&) = default;
};

inline constexpr std::chrono::seconds kDefaultReplayWindow{mip::kDefaultReplayWindowSeconds};

// Wall time → NTP 64-bit (seconds since 1900 in the high word, fraction in the low word).
[[nodiscard]] std::uint64_t ntp_from_wall(WallTime t);
// NTP 64-bit → wall time; seconds below 2^31 are read as era 1 (after 2036-02-07).
[[nodiscard]] WallTime wall_from_ntp(std::uint64_t ntp);
[[nodiscard]] constexpr std::uint32_t high32(std::uint64_t v) { return static_cast<std::uint32_t>(v >> 32); }
[[nodiscard]] constexpr std::uint32_t low32(std::uint64_t v) { return static_cast<std::uint32_t>(v); }

// Mobile node side (our FA registering as a proxy): an Identification for `now` that is
// strictly greater than `last_sent` (a clock that stepped back never repeats one);
// last_sent 0 means none yet.
[[nodiscard]] std::uint64_t next_identification(WallTime now, std::uint64_t last_sent);
// Mobile node side: does the reply belong to the request? (low 32 bits echoed, §5.7)
[[nodiscard]] constexpr bool reply_matches_request(std::uint64_t request_id, std::uint64_t reply_id) {
  return low32(request_id) == low32(reply_id);
}
// Mobile node side, after a code-133 reply in timestamp style: HA time minus our time,
// seconds (add it to our clock for the retry).
[[nodiscard]] std::int64_t clock_offset_seconds(std::uint64_t reply_id, WallTime now);

// Home agent side, timestamp style.
// Errors: "identification_out_of_window", "identification_not_increasing".
[[nodiscard]] Result<void> check_timestamp(std::uint64_t id, WallTime now, const ReplayState& s,
                                           std::chrono::seconds window = kDefaultReplayWindow);
// Code-133 reply Identification: our time in the high 32 bits, the request's low 32 bits.
[[nodiscard]] std::uint64_t timestamp_mismatch_identification(std::uint64_t request_id, WallTime now);

// Home agent side, nonce style. Errors: "nonce_mismatch", "identification_not_increasing"
// (the same request again).
[[nodiscard]] Result<void> check_nonce(std::uint64_t id, const ReplayState& s);
// Reply Identification in nonce style (accepted or 133): fresh HA nonce high, MN nonce low.
[[nodiscard]] constexpr std::uint64_t nonce_reply_identification(std::uint64_t request_id,
                                                                 std::uint32_t new_ha_nonce) {
  return (std::uint64_t{new_ha_nonce} << 32) | low32(request_id);
}

// Dispatches on s.style. Errors: the union of the two above.
[[nodiscard]] Result<void> check_identification(std::uint64_t id, WallTime now, const ReplayState& s,
                                                std::chrono::seconds window = kDefaultReplayWindow);

// Records an accepted request. In nonce style `new_ha_nonce` is the nonce the reply will
// carry and the next request must echo; it is ignored in timestamp style.
void accept_identification(ReplayState& s, std::uint64_t id, std::uint32_t new_ha_nonce = 0);

}  // namespace vmroam::auth
