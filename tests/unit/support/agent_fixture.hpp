// What the agents' unit tests share (tests/unit/home-agent/, tests/unit/foreign-agent/): the
// VM of the tests' configs and the FA-HA key they give SPI 1000, a record of what an agent
// sends through its send_udp seam, an API request, and waiting on the io_context for a
// condition with a deadline (never a bare sleep).
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "common/api/message.hpp"
#include "common/api/router.hpp"
#include "common/auth/security_association.hpp"
#include "common/core/address.hpp"
#include "common/core/bytes.hpp"
#include "common/core/hex.hpp"

namespace vmroam::test {

inline const Ipv4 kHoa = *Ipv4::parse("10.1.0.10");
inline const MacAddress kVmMac = *MacAddress::parse("52:54:00:12:34:56");
// The FA-HA key the tests' configs give SPI 1000 (HMAC-SHA-256).
inline constexpr const char* kFaHaKeyHex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
inline auth::SecurityAssociation fa_ha_key() {
  return {1000, auth::Algorithm::hmac_sha256, *from_hex(kFaHaKeyHex)};
}

// One datagram an agent sent through its send_udp seam.
struct Sent {
  Ipv4 dst;
  std::uint16_t port;
  Bytes payload;
};
// A send_udp seam that records into `sent`.
inline std::function<void(Ipv4, std::uint16_t, ByteView)> record_into(std::vector<Sent>& sent) {
  return [&sent](Ipv4 d, std::uint16_t p, ByteView b) { sent.push_back({d, p, Bytes(b.begin(), b.end())}); };
}

inline api::Request api_request(api::Method m, std::string path, std::string body = {}) {
  api::Request r;
  r.method = m;
  r.path = std::move(path);
  r.body = std::move(body);
  return r;
}

// Runs `io` until done() or `limit` has passed; the context stops whenever it runs out of work,
// so it is restarted as often as needed.
template <typename F>
void run_until(boost::asio::io_context& io, F done,
               std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    if (io.stopped()) io.restart();
    io.run_one_for(std::chrono::milliseconds(20));
  }
}

// The answer to an API call: at once, or a deferred one once `io` has run its completion.
// Empty (and the test failed) if none came within the deadline.
inline std::optional<api::Response> answer(boost::asio::io_context& io, const api::Reply& reply) {
  if (const auto* now = std::get_if<api::Response>(&reply)) return *now;
  std::optional<api::Response> later;
  std::get<api::Deferred>(reply).attach([&](api::Response x) { later = std::move(x); });
  run_until(io, [&] { return later.has_value(); });
  return later;
}

}  // namespace vmroam::test
