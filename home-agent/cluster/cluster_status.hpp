// What a cluster of home agents looks like to an operator (GET /v1/cluster, `vmroamctl
// status`; docs/api.md "Cluster"). Pure: member records in, JSON out.
//
// Each HA keeps one member record in etcd on its own lease (ClusterKeys::member): its node
// name, home prefix, role, API address and how far its mirror has got (the revision of the
// last change of the home subtree it has applied). The record goes when the lease does, so
// the records are the live members. Records are refreshed every lease TTL/6 when something
// changed; a standby's lag is therefore "revisions behind the active member of its home
// prefix, as of their last reports", and 0 once it has caught up.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/cluster/etcd.hpp"
#include "common/core/result.hpp"

namespace vmroam::ha {

struct MemberRecord {
  std::string node;
  std::string home_prefix;  // "10.1.0.0/24"
  std::string role;         // "active" | "standby" | "electing"
  std::string api;          // as vmroamctl --api takes it; may be ""
  std::string service_address;
  std::int64_t watched_revision = 0;
  friend bool operator==(const MemberRecord&, const MemberRecord&) = default;
};

[[nodiscard]] std::string encode(const MemberRecord& r);
[[nodiscard]] Result<MemberRecord> decode_member(std::string_view json);

struct MemberStatus {
  MemberRecord record;
  std::int64_t lease = 0;         // the record's lease (its node's)
  std::int64_t lease_ttl_s = -1;  // etcd's LeaseTimeToLive (-1: gone or not asked)
  std::int64_t lag = 0;           // revisions behind the active member of its home prefix
};

struct ClusterStatus {
  std::string node;                   // the HA that answers
  std::string role;                   // its role (ClusterLink::role)
  std::uint64_t reconnects = 0;       // its reconnects to etcd since it started
  std::string home_prefix;            // its home prefix
  std::string active;                 // the active HA of that prefix as it last saw it ("" none)
  std::int64_t revision = 0;          // etcd's revision at the read
  std::vector<MemberStatus> members;  // every home prefix under the key prefix, by prefix then node
};

// Members from the records under ClusterKeys::members() (one that does not decode is
// skipped: status is a display aid), sorted, lag filled in.
[[nodiscard]] std::vector<MemberStatus> members_from(const std::vector<cluster::KeyValue>& kvs);
void fill_lag(std::vector<MemberStatus>& members);
// The record of the active member of `home_prefix`, if one reports itself active.
[[nodiscard]] const MemberRecord* active_of(const ClusterStatus& s, std::string_view home_prefix);

[[nodiscard]] nlohmann::json to_json(const ClusterStatus& s);

}  // namespace vmroam::ha
