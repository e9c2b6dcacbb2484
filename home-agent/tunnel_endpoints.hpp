// TunnelEndpoints: the home agent's use of the tunnel driver per binding.
//
// A binding needs its tunnel endpoint (one per care-of address or NAT'd address:port, shared
// by the bindings using it, reference counted) and the route for its HoA into the tunnel. When
// a binding moves or goes, the endpoint it used is released only after a grace period: the FA
// the VM just left may still be reverse-tunnelling replies it had in flight (RFC 3024), and
// the driver keeps accepting them until end_grace() (docs/dataplane.md "Handover grace").
//
// Timers: one per released endpoint, `grace` long.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/core/asio.hpp"

#include "common/core/clock.hpp"
#include "common/dataplane/tunnel_driver.hpp"

namespace vmroam::ha {

class TunnelEndpoints {
 public:
  TunnelEndpoints(boost::asio::io_context& io, dataplane::TunnelDriver& driver, Duration grace)
      : io_(io), driver_(driver), grace_(grace) {}
  ~TunnelEndpoints() { stop(); }
  TunnelEndpoints(const TunnelEndpoints&) = delete;
  TunnelEndpoints& operator=(const TunnelEndpoints&) = delete;

  // The HoA's binding uses `ep` from now on (its previous endpoint, if another, is released);
  // with `route`, its traffic is routed into the tunnel too. Driver failures are logged: the
  // binding stands, and a restart's reconciliation tries again.
  void bind(Ipv4 hoa, const dataplane::TunnelEndpoint& ep, bool route = true);
  // A dual-stack VM's IPv6 home addresses ride with its HoA in the data plane (they follow its
  // route and its hold). A driver that carries no IPv6 is logged once per call: IPv4 goes on.
  void set_home_addresses_v6(Ipv4 hoa, const std::vector<Ipv6>& addresses);
  // The HoA's binding went: its route goes now, its endpoint after the grace.
  void unbind(Ipv4 hoa);
  // Undoes an early switch (the commit failed): back to `previous`, or unbound.
  void restore(Ipv4 hoa, const std::optional<dataplane::TunnelEndpoint>& previous);
  [[nodiscard]] std::optional<dataplane::TunnelEndpoint> endpoint_of(Ipv4 hoa) const;
  // Clean shutdown: every route and endpoint goes now, graces are cut short.
  void stop();

 private:
  void acquire(Ipv4 hoa, const dataplane::TunnelEndpoint& ep);
  void release(Ipv4 hoa);
  void drop_ref(Ipv4 peer);

  boost::asio::io_context& io_;
  dataplane::TunnelDriver& driver_;
  Duration grace_;
  std::unordered_map<Ipv4, dataplane::TunnelEndpoint> endpoint_of_;  // HoA → its endpoint
  std::unordered_map<Ipv4, int> refs_;                               // peer → bindings using it
  // Endpoint references held through a handover grace.
  std::unordered_map<std::uint64_t, std::unique_ptr<boost::asio::steady_timer>> grace_timers_;
  std::uint64_t next_grace_id_ = 0;
};

}  // namespace vmroam::ha
