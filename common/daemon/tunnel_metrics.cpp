// TunnelMetrics: see tunnel_metrics.hpp.
#include "common/daemon/tunnel_metrics.hpp"

namespace vmroam::daemon {

void TunnelMetrics::set(std::string_view name, std::string_view help, api::Labels labels,
                        std::uint64_t value) {
  std::string key(name);
  for (const auto& [k, v] : labels) key += "|" + k + "=" + v;
  double& seen = seen_[key];
  registry_.counter(name, help, std::move(labels)).inc(static_cast<double>(value) - seen);
  seen = static_cast<double>(value);
}

void TunnelMetrics::sync(const dataplane::TunnelStats& st) {
  auto four = [&](std::string_view family, std::string_view label, const std::string& who,
                  std::string_view what, const dataplane::PeerCounters& c) {
    const std::string packets = "vmroam_" + std::string(family) + "_packets_total";
    const std::string bytes = "vmroam_" + std::string(family) + "_bytes_total";
    const std::string ph = "Tunnel packets by " + std::string(what) + " and direction";
    const std::string bh = "Tunnel bytes by " + std::string(what) + " and direction";
    const std::string l(label);
    set(packets, ph, {{l, who}, {"direction", "tx"}}, c.tx_packets);
    set(packets, ph, {{l, who}, {"direction", "rx"}}, c.rx_packets);
    set(bytes, bh, {{l, who}, {"direction", "tx"}}, c.tx_bytes);
    set(bytes, bh, {{l, who}, {"direction", "rx"}}, c.rx_bytes);
  };
  for (const auto& [peer, c] : st.peers) four("tunnel", "peer", peer.to_string(), "peer", c);
  const std::string what = per_hoa_ + " (home address)";
  for (const auto& [hoa, c] : st.hoas) four(per_hoa_, "home_address", hoa.to_string(), what, c);
  for (std::size_t i = 0; i < dataplane::kDropReasonCount; ++i) {
    const auto reason = static_cast<dataplane::DropReason>(i);
    set("vmroam_tunnel_drops_total", "Tunnel packets dropped, by reason",
        {{"reason", std::string(dataplane::to_string(reason))}}, st.drops[i]);
  }
}

}  // namespace vmroam::daemon
