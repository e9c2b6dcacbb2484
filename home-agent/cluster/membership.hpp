// ClusterMembership: the daemon's side of a cluster of home agents — the gRPC etcd client,
// this node (ClusterNode), the service address, and what a takeover does on the home link.
//
// Takeover, in this order: the service address goes on the home interface, with gratuitous
// ARP for it; every mirrored binding's tunnel, route and proxy ARP go in
// (HomeAgent::take_over()); then commits are allowed. The gratuitous ARPs (service address
// and every away VM's home address) are repeated 1 s and 2 s later: a neighbour entry the
// router refreshed within its locktime (1 s by default) ignores the first one.
//
// Built without the `cluster` feature, open() refuses a config with a "cluster" section.
#pragma once

#include <functional>
#include <memory>

#include "common/core/asio.hpp"
#include "common/core/bytes.hpp"
#include "common/core/clock.hpp"
#include "common/dataplane/netlink.hpp"
#include "home-agent/cluster/cluster_link.hpp"
#include "home-agent/config.hpp"

namespace vmroam::ha {

class HomeAgent;

class ClusterMembership {
 public:
  // Start-up, blocking: lease, the home prefix's subtree from etcd, a predecessor's service
  // address removed. Errors name etcd's answer (cluster_unsupported without the feature).
  [[nodiscard]] static Result<std::unique_ptr<ClusterMembership>> open(boost::asio::io_context& io,
                                                                       const HaConfig& config,
                                                                       const dataplane::LinkInfo& home_link,
                                                                       const Clock& clock);
  virtual ~ClusterMembership() = default;
  [[nodiscard]] virtual ClusterLink& link() = 0;
  // Watch, keepalive and campaign start; `on_fatal` ends the daemon when we are deposed.
  virtual void start(HomeAgent& agent, std::function<void(ByteView)> send_home_frame,
                     std::function<void(const Error&)> on_fatal) = 0;
  virtual void stop() = 0;
};

}  // namespace vmroam::ha
