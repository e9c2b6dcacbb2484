// KernelDriver: the kernel encapsulates. One ipip device per peer ("vmr" + the peer address
// in hex, e.g. vmr0a020001), created with libnl (rtnl_link_ipip_*: local, remote, TTL,
// pmtudisc on so the outer DF follows RFC 2003 §5.1), steered into with the same Steering as
// the userspace driver. IP-in-IP only: RFC 3519 UDP endpoints are refused ("unsupported").
// Decapsulation happens in the kernel, so per-peer rx counters and the decapsulated hook are
// not available (stats() reports only what we count: tx is zero too — read the devices'
// own link statistics for traffic), and it offers no HoldPort: the handover hold is
// "not_supported".
//
// Without the ipip module (this testbed) creation fails with code "ipip_unavailable" and
// the message kIpipUnavailableMessage; create() checks up front so a daemon fails at start.
#pragma once

#include <map>
#include <memory>

#include "common/dataplane/netlink.hpp"
#include "common/dataplane/steering.hpp"
#include "common/dataplane/tunnel_driver.hpp"

namespace vmroam::dataplane {

struct KernelConfig {
  LookupKey key = LookupKey::destination;
  Ipv4 local;
  std::uint8_t ttl = 64;
  SteeringConfig steering;
};

class KernelDriver final : public TunnelDriver {
 public:
  static Result<std::unique_ptr<KernelDriver>> create(LibnlNetlink& nl, KernelConfig config);
  ~KernelDriver() override;

  Result<void> add_tunnel_endpoint(const TunnelEndpoint& endpoint) override;
  Result<void> remove_tunnel_endpoint(Ipv4 peer) override;
  Result<void> route(Ipv4 hoa, Ipv4 peer) override;
  Result<void> unroute(Ipv4 hoa) override;
  [[nodiscard]] TunnelStats stats() const override { return stats_; }
  void handle_udp_tunnel_payload(Ipv4, std::uint16_t, ByteView) override {
    ++stats_.drops[static_cast<std::size_t>(DropReason::unknown_peer)];
  }
  [[nodiscard]] std::string_view name() const override { return "kernel"; }
  // The kernel's ipip devices accept any inner address from their peer: nothing to end.
  void end_grace(Ipv4) override {}
  // The kernel forwards packets without showing them to us: no HoldPort, so the handover
  // hold is "not_supported" with this driver.

  // "vmr" + 8 hex digits of the peer.
  [[nodiscard]] static std::string link_name(Ipv4 peer);
  // True when the ipip module is loaded (or built in with its sysfs entry).
  [[nodiscard]] static bool ipip_available();

 private:
  KernelDriver(LibnlNetlink& nl, KernelConfig config);
  LibnlNetlink& nl_;
  KernelConfig config_;
  Steering steering_;
  std::map<Ipv4, int> devices_;  // peer → ifindex
  std::map<Ipv4, Ipv4> routes_;  // HoA → peer
  TunnelStats stats_;
};

}  // namespace vmroam::dataplane
