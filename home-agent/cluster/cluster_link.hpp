// ClusterLink: what HomeAgent needs from the cluster it belongs to (HomeAgentIo::cluster).
// Absent (nullptr): a single HA on its SQLite store. ClusterNode (cluster_node.hpp) is the
// real one; tests pass fakes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/core/result.hpp"
#include "common/store/store.hpp"
#include "home-agent/cluster/cluster_status.hpp"

namespace vmroam::ha {

class ClusterLink {
 public:
  virtual ~ClusterLink() = default;
  // Only the active HA of the home prefix answers registrations and changes state.
  [[nodiscard]] virtual bool active() const = 0;
  // The active HA's node name as last seen ("" while none is known).
  [[nodiscard]] virtual std::string active_node() const = 0;
  // This HA's part: "active", "standby", "electing", or "connecting" (etcd out of reach: a
  // standby that retries; docs/operations.md "Failover timing").
  [[nodiscard]] virtual std::string role() const { return active() ? "active" : "standby"; }
  // The last error from etcd while connecting ("" when connected), and reconnects so far.
  [[nodiscard]] virtual std::string etcd_error() const { return {}; }
  [[nodiscard]] virtual std::uint64_t reconnects() const { return 0; }
  // Everything the cluster holds for our home prefix (start-up).
  [[nodiscard]] virtual Result<store::Snapshot> load() = 0;
  // Makes `batch` durable in etcd, pipelined: returns at once, `done` runs on the loop once
  // the txn that carries it has committed (or failed), in submission order. A failure means
  // this HA is no longer active (its lease or leadership is gone, or etcd is out of reach).
  virtual void commit(const store::Batch& batch, std::function<void(Result<void>)> done) = 0;
  // The same, waiting for the commit (operator writes through the API, expiry): rare.
  // Error cluster_standby (naming the active) on a standby.
  [[nodiscard]] virtual Result<void> commit_now(const store::Batch& batch) = 0;
  // The cluster as etcd has it now (members, roles, lag, lease TTLs), for the API: `done`
  // runs on the loop. Error cluster_unreachable if etcd does not answer.
  virtual void survey(std::function<void(Result<ClusterStatus>)> done) = 0;
};

}  // namespace vmroam::ha
