// The "cluster" section of vmroam-ha's config (docs/configuration.md "cluster"): several home
// agents share one home network's bindings through etcd; one is active per home prefix.
// Absent: a single HA on its own SQLite store, as without clustering.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/config/json_reader.hpp"
#include "common/core/address.hpp"

namespace vmroam::ha {

struct ClusterConfig {
  std::vector<std::string> etcd;   // members' client endpoints, "IPv4:port"
  std::string prefix = "/vmroam";  // every key we write starts with this
  std::string node;                // this HA's name, unique in the cluster
  // The HA service address (the FAs' registration target, `address`) with its prefix length:
  // the active HA puts it on the home interface, a standby does not have it.
  Ipv4Prefix service_address;
  std::uint32_t lease_ttl_s = 2;            // leadership lease: a dead active is replaced after this
  std::uint32_t request_timeout_ms = 1500;  // per etcd request
  // etcd refuses a txn with more operations than its --max-txn-ops (128 by default): a
  // larger batch goes in several fenced txns. Keep it at or below the members' setting.
  std::uint32_t max_txn_ops = 128;
  // Where this HA's API answers, as vmroamctl --api takes it; told to the other HAs so that a
  // standby's refusal of a write and `vmroamctl status` can name it. "": the API's own
  // listener (api.tcp as http(s)://, else api.unix_socket).
  std::string api_address;
  friend bool operator==(const ClusterConfig&, const ClusterConfig&) = default;
};

// Reads root["cluster"] if present; errors are recorded in `root` and name the key.
[[nodiscard]] std::optional<ClusterConfig> read_cluster_section(config::ObjectReader& root);
[[nodiscard]] config::Json cluster_to_json(const ClusterConfig& c);

}  // namespace vmroam::ha
