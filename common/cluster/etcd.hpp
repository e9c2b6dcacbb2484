// Etcd: the seam between vmroam and an etcd 3.4 cluster (KV, Txn, Lease, Watch of its v3 API).
//
// Only what the home agent's clustering needs (home-agent/cluster/): transactions guarded by
// a key's create revision (election and fencing), prefix reads, leases and one prefix watch.
// etcd refuses a txn with more than its --max-txn-ops operations (128 by default): callers
// keep their txns below that (ClusterConfig::max_txn_ops).
// The real one talks gRPC with stubs generated from etcd's own .proto files (grpc_etcd.hpp,
// docs/decisions/0004-etcd-over-grpc.md); tests use tests/fakes/fake_etcd.hpp.
//
// Threading: callbacks of the asynchronous calls run on the daemon's io_context, never on
// another thread. The *_now calls block (start-up, and rare operator writes) for at most the
// implementation's deadline.
//
// Error codes: etcd_unavailable (no member answered in time), etcd_error (etcd refused the
// request; the context has its message), etcd_watch_ended.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/core/result.hpp"

namespace vmroam::cluster {

struct KeyValue {
  std::string key;
  std::string value;
  std::int64_t create_revision = 0;
  std::int64_t mod_revision = 0;
  std::int64_t lease = 0;
  friend bool operator==(const KeyValue&, const KeyValue&) = default;
};

// A compare of a transaction: create_revision(key) == create_revision (0: the key is absent).
struct Compare {
  std::string key;
  std::int64_t create_revision = 0;
};

// A put (with a lease, or 0 for none) or a delete of one key.
struct Mutation {
  bool erase = false;
  std::string key;
  std::string value;
  std::int64_t lease = 0;
};

// If every compare holds, the mutations are applied atomically at one new revision; else
// nothing is applied and `read_on_failure` (if not empty) is read.
struct Txn {
  std::vector<Compare> compares;
  std::vector<Mutation> mutations;
  std::string read_on_failure;
};

struct TxnResult {
  bool succeeded = false;
  std::int64_t revision = 0;   // the store's revision after the txn (header.revision)
  std::vector<KeyValue> read;  // read_on_failure, when the compares failed
};

struct RangeResult {
  std::int64_t revision = 0;
  std::vector<KeyValue> kvs;
};

struct WatchEvent {
  bool erased = false;
  KeyValue kv;  // for an erase: key and mod_revision only
};

class Etcd {
 public:
  virtual ~Etcd() = default;

  [[nodiscard]] virtual Result<std::int64_t> grant_lease_now(std::int64_t ttl_s) = 0;
  virtual void revoke_lease_now(std::int64_t lease) = 0;  // best effort (clean shutdown)
  [[nodiscard]] virtual Result<RangeResult> range_prefix_now(const std::string& prefix) = 0;
  [[nodiscard]] virtual Result<TxnResult> txn_now(const Txn& txn) = 0;

  virtual void txn(Txn txn, std::function<void(Result<TxnResult>)> done) = 0;
  // A new lease of `ttl_s` seconds (a standby that reconnects after losing etcd).
  virtual void grant_lease(std::int64_t ttl_s, std::function<void(Result<std::int64_t>)> done) = 0;
  // One put outside any txn (a member record: not fenced, not part of the commit pipeline).
  virtual void put(Mutation m, std::function<void(Result<void>)> done) = 0;
  // Every key under `prefix` (operator reads: the cluster's status).
  virtual void range_prefix(const std::string& prefix, std::function<void(Result<RangeResult>)> done) = 0;
  // The seconds `lease` has left as etcd sees it (LeaseTimeToLive; -1: expired or unknown).
  virtual void lease_ttl(std::int64_t lease, std::function<void(Result<std::int64_t>)> done) = 0;
  // One lease keepalive; `done` gets the TTL left (0: the lease is gone).
  virtual void keep_alive(std::int64_t lease, std::function<void(Result<std::int64_t>)> done) = 0;
  // Every change under `prefix` from revision `from` on, in revision order, each callback
  // with the revision of its last event; `ended` once if the watch stops (then no more).
  using OnEvents = std::function<void(std::int64_t revision, std::vector<WatchEvent> events)>;
  virtual void watch_prefix(const std::string& prefix, std::int64_t from, OnEvents on_events,
                            std::function<void(Error)> ended) = 0;
  // Ends the watch (no more callbacks, `ended` not called).
  virtual void cancel_watch() = 0;
};

// "key prefix + 1" for a range over every key that starts with `prefix` (etcd's range_end).
[[nodiscard]] inline std::string prefix_end(std::string prefix) {
  while (!prefix.empty()) {
    auto& c = prefix.back();
    if (static_cast<unsigned char>(c) < 0xff) {
      c = static_cast<char>(static_cast<unsigned char>(c) + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return std::string(1, '\0');  // every key
}

}  // namespace vmroam::cluster
