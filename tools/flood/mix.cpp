// The flood's packets (see mix.hpp).
#include "tools/flood/mix.hpp"

#include <chrono>
#include <cstdlib>

#include "common/auth/authenticator.hpp"
#include "common/auth/replay.hpp"
#include "common/wire/extension.hpp"
#include "common/wire/registration.hpp"

namespace vmroam::flood {

namespace {

struct Names {
  Kind kind;
  std::string_view name;
};
constexpr Names kNames[] = {
    {Kind::bad_auth, "bad_auth"}, {Kind::unknown_spi, "unknown_spi"}, {Kind::unknown_hoa, "unknown_hoa"},
    {Kind::replayed, "replayed"}, {Kind::truncated, "truncated"},     {Kind::wrong_type, "wrong_type"},
    {Kind::random, "random"}};

// A small deterministic generator (xorshift32): reproducible floods.
std::uint32_t next(std::uint32_t& s) {
  s ^= s << 13;
  s ^= s >> 17;
  s ^= s << 5;
  return s;
}

// An RFC 5563 proxy registration as an FA sends it, signed with `sa`.
Bytes proxy_request(const Target& t, Ipv4 hoa, std::uint64_t identification,
                    const auth::SecurityAssociation& sa) {
  wire::RegistrationRequest r;
  r.flags = mip::request_flag::T;
  r.lifetime = 300;
  r.home_address = hoa;
  r.home_agent = t.home_agent;
  r.care_of_address = t.care_of_address;
  r.identification = identification;
  r.append(wire::PmipPerNodeAuth{}.to_extension());
  r.append(*wire::PmipDeviceId::ethernet(t.mac).to_extension());
  if (!auth::append_auth(r, mip::ext::fa_ha_auth, sa)) std::abort();  // our own, well-formed SA
  return wire::encode(r);
}

}  // namespace

std::string_view to_string(Kind k) {
  for (const auto& n : kNames)
    if (n.kind == k) return n.name;
  return "unknown";
}

Result<Kind> parse_kind(std::string_view s) {
  for (const auto& n : kNames)
    if (n.name == s) return n.kind;
  return fail("unknown_kind", std::string(s));
}

std::vector<Bytes> make_packets(Kind k, const Target& t, std::size_t count, WallTime now,
                                std::uint32_t seed) {
  std::uint32_t rnd = seed ? seed : 1;
  const std::uint64_t fresh = auth::ntp_from_wall(now);
  const std::uint64_t stale = auth::ntp_from_wall(now - std::chrono::hours(1));
  auth::SecurityAssociation wrong_key = t.key;
  for (auto& b : wrong_key.key) b ^= 0x5a;
  auth::SecurityAssociation wrong_spi = t.key;
  wrong_spi.spi ^= 0x8000;
  std::vector<Bytes> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint64_t id = fresh + (std::uint64_t{next(rnd)} & 0xffff);
    switch (k) {
      case Kind::bad_auth:
        out.push_back(proxy_request(t, t.home_address, id, wrong_key));
        break;
      case Kind::unknown_spi:
        out.push_back(proxy_request(t, t.home_address, id, wrong_spi));
        break;
      case Kind::unknown_hoa:
        out.push_back(proxy_request(t, t.unknown_home_address, id, t.key));
        break;
      case Kind::replayed:
        out.push_back(proxy_request(t, t.home_address, stale + i, t.key));
        break;
      case Kind::truncated: {
        Bytes b = proxy_request(t, t.home_address, id, wrong_key);
        b.resize(1 + next(rnd) % 23);  // inside the 24-byte fixed part (RFC 5944 §3.3)
        out.push_back(std::move(b));
        break;
      }
      case Kind::wrong_type: {
        Bytes b = proxy_request(t, t.home_address, id, wrong_key);
        b[0] = static_cast<std::uint8_t>(100 + next(rnd) % 100);  // no such message type
        out.push_back(std::move(b));
        break;
      }
      case Kind::random: {
        Bytes b(1 + next(rnd) % 200);
        for (auto& x : b) x = static_cast<std::uint8_t>(next(rnd));
        if (b[0] == 4) b[0] = 5;
        out.push_back(std::move(b));
        break;
      }
    }
  }
  return out;
}

}  // namespace vmroam::flood
