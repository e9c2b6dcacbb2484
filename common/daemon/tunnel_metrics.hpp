// TunnelMetrics: the tunnel driver's cumulative counters (TunnelStats) as Prometheus counters
// in an agent's MetricsRegistry, synced at each GET /metrics. Both agents export the same
// families (docs/api.md "Metrics"):
//   vmroam_tunnel_packets_total / _bytes_total {peer, direction="tx"|"rx"}
//   vmroam_<per_hoa>_packets_total / _bytes_total {home_address, direction}  (drivers that
//       count per HoA, the eBPF driver's per-HoA map: "binding" at the HA, "visitor" at the FA)
//   vmroam_tunnel_drops_total {reason}
// The registry's counters only go up by deltas; the driver's are read whole, so the last value
// synced is kept per series.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "common/api/metrics.hpp"
#include "common/dataplane/tunnel_driver.hpp"

namespace vmroam::daemon {

class TunnelMetrics {
 public:
  // `per_hoa`: the noun of the per-HoA families ("binding", "visitor").
  TunnelMetrics(api::MetricsRegistry& registry, std::string per_hoa)
      : registry_(registry), per_hoa_(std::move(per_hoa)) {}
  void sync(const dataplane::TunnelStats& st);

 private:
  void set(std::string_view name, std::string_view help, api::Labels labels, std::uint64_t value);

  api::MetricsRegistry& registry_;
  std::string per_hoa_;
  std::map<std::string, double, std::less<>> seen_;  // last value synced, per series
};

}  // namespace vmroam::daemon
