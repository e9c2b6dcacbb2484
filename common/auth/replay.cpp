// Replay protection, RFC 5944 §5.7 (see replay.hpp).
#include "common/auth/replay.hpp"

#include <string>

#include "common/core/hex.hpp"

namespace vmroam::auth {

namespace {
constexpr std::int64_t kEraSeconds = std::int64_t{1} << 32;
std::string id_hex(std::uint64_t v) {
  std::uint8_t b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<std::uint8_t>(v >> (56 - 8 * i));
  return to_hex(ByteView(b, 8));
}
// a - b as a signed 32.32 fixed-point value, modulo 2^64.
std::int64_t serial_diff(std::uint64_t a, std::uint64_t b) { return static_cast<std::int64_t>(a - b); }
}  // namespace

std::uint64_t ntp_from_wall(WallTime t) {
  using namespace std::chrono;
  const auto since_unix = duration_cast<nanoseconds>(t.time_since_epoch()).count();
  std::int64_t secs = since_unix / 1'000'000'000;
  std::int64_t nanos = since_unix % 1'000'000'000;
  if (nanos < 0) {
    nanos += 1'000'000'000;
    secs -= 1;
  }
  const auto ntp_secs =
      static_cast<std::uint32_t>(static_cast<std::uint64_t>(secs + mip::kNtpUnixEpochOffset));
  const auto frac = static_cast<std::uint32_t>((static_cast<std::uint64_t>(nanos) << 32) / 1'000'000'000u);
  return (std::uint64_t{ntp_secs} << 32) | frac;
}

WallTime wall_from_ntp(std::uint64_t ntp) {
  using namespace std::chrono;
  std::int64_t secs = high32(ntp);
  if (secs < (std::int64_t{1} << 31)) secs += kEraSeconds;  // era 1
  secs -= mip::kNtpUnixEpochOffset;
  const auto nanos = static_cast<std::int64_t>((std::uint64_t{low32(ntp)} * 1'000'000'000u) >> 32);
  return WallTime(duration_cast<WallTime::duration>(seconds(secs) + nanoseconds(nanos)));
}

std::uint64_t next_identification(WallTime now, std::uint64_t last_sent) {
  const std::uint64_t t = ntp_from_wall(now);
  // 0 means "none sent yet" (it is half the serial space away from any real time).
  return last_sent == 0 || serial_diff(t, last_sent) > 0 ? t : last_sent + 1;
}

std::int64_t clock_offset_seconds(std::uint64_t reply_id, WallTime now) {
  // Only the high 32 bits carry the HA's time; compare seconds, modulo the era.
  return static_cast<std::int32_t>(high32(reply_id) - high32(ntp_from_wall(now)));
}

Result<void> check_timestamp(std::uint64_t id, WallTime now, const ReplayState& s,
                             std::chrono::seconds window) {
  const std::int64_t diff = serial_diff(id, ntp_from_wall(now));
  const std::int64_t limit = static_cast<std::int64_t>(window.count()) << 32;
  if (diff > limit || diff < -limit)
    return fail("identification_out_of_window",
                "Identification " + id_hex(id) + " is " + std::to_string(diff / (std::int64_t{1} << 32)) +
                    " s from our clock, window " + std::to_string(window.count()) + " s");
  if (s.has_accepted && serial_diff(id, s.last_accepted) <= 0)
    return fail(
        "identification_not_increasing",
        "Identification " + id_hex(id) + " not greater than last accepted " + id_hex(s.last_accepted));
  return ok();
}

std::uint64_t timestamp_mismatch_identification(std::uint64_t request_id, WallTime now) {
  return (ntp_from_wall(now) & 0xFFFFFFFF00000000ull) | low32(request_id);
}

Result<void> check_nonce(std::uint64_t id, const ReplayState& s) {
  if (high32(id) != s.ha_nonce)
    return fail("nonce_mismatch", "request echoes nonce " + std::to_string(high32(id)) + ", expected " +
                                      std::to_string(s.ha_nonce));
  if (s.has_accepted && id == s.last_accepted)
    return fail("identification_not_increasing",
                "Identification " + id_hex(id) + " repeats the last accepted");
  return ok();
}

Result<void> check_identification(std::uint64_t id, WallTime now, const ReplayState& s,
                                  std::chrono::seconds window) {
  return s.style == ReplayStyle::nonce ? check_nonce(id, s) : check_timestamp(id, now, s, window);
}

void accept_identification(ReplayState& s, std::uint64_t id, std::uint32_t new_ha_nonce) {
  s.has_accepted = true;
  s.last_accepted = id;
  if (s.style == ReplayStyle::nonce) s.ha_nonce = new_ha_nonce;
}

}  // namespace vmroam::auth
