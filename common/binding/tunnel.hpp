// Vocabulary shared by the binding cache (HA) and the visitor list (FA): how a binding's
// traffic is encapsulated, and the per-binding traffic counters the data plane fills in.
// Pure value types, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/core/traffic.hpp"

namespace vmroam::binding {

// Tunnel encapsulation negotiated at registration. IP-in-IP is the default (RFC 2003,
// RFC 5944 §3.3 flags M/G clear); UDP tunnelling when the registration asked for it
// (RFC 3519 §3.1, extension 144) for NAT'd paths.
enum class Encapsulation : std::uint8_t { ipip = 0, udp = 1 };

[[nodiscard]] constexpr std::string_view to_string(Encapsulation e) {
  switch (e) {
    case Encapsulation::ipip:
      return "ipip";
    case Encapsulation::udp:
      return "udp";
  }
  return "ipip";  // unreachable: every enumerator is handled above
}

[[nodiscard]] constexpr std::optional<Encapsulation> parse_encapsulation(std::string_view s) {
  if (s == "ipip") return Encapsulation::ipip;
  if (s == "udp") return Encapsulation::udp;
  return std::nullopt;
}

// Packets and bytes through the tunnel for one binding/visitor (common/core/traffic.hpp).
using TrafficCounters = vmroam::TrafficCounters;

}  // namespace vmroam::binding
