// Packets and bytes through the tunnel for one binding (HA) or visitor (FA): what the data
// plane counts, the binding cache and visitor list keep, and the store persists. "in" =
// towards the VM (encapsulated at the HA, decapsulated at the FA), "out" = from the VM.
#pragma once

#include <cstdint>

namespace vmroam {

struct TrafficCounters {
  std::uint64_t packets_in = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t packets_out = 0;
  std::uint64_t bytes_out = 0;
  friend bool operator==(const TrafficCounters&, const TrafficCounters&) = default;
};

}  // namespace vmroam
