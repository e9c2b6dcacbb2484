// ClusterNode: this home agent's membership in the cluster that serves one home prefix
// (docs/architecture.md "Cluster", docs/decisions/0004-etcd-over-grpc.md).
//
// States: connecting → standby → electing → active, and deposed (final, for an active only:
// the daemon exits and its restart comes back as a standby; an HA that has acted never tries
// to rejoin with state that may be stale).
//
// * open(): grants our lease and reads the home prefix's subtree (start-up, blocking). If
//   etcd does not answer (etcd_unavailable), we start `connecting` with nothing loaded: the
//   daemon comes up, and reconnecting (below) fills the mirror once etcd answers.
// * start(): watches the subtree from the revision read, keeps the lease alive, campaigns.
// * Losing etcd while not active (a campaign that fails, the watch ending, the lease gone):
//   `connecting`, retried with backoff (200 ms doubling to 2 s): a new lease (the old one is
//   revoked, so a leader key we may have won unknowingly goes with it), the subtree read
//   again and the mirror brought in line with it (records it had that etcd no longer has go
//   through on_change as removals), our member record, the watch, a campaign. The daemon
//   stays up; role, reconnects and the last etcd error show in /v1/health, /v1/cluster and
//   /metrics. Only an *active* that loses etcd or its lease is deposed.
// * Election: a txn "if create_revision(leader) == 0 then put(leader = node, our lease)".
//   Losing it, we stay standby and campaign again when the leader key goes (its lease ran
//   out, or the active resigned). Winning it at revision R, we wait until our watch has
//   delivered revision R, so the mirror holds everything committed before we won, and only
//   then take over (on_elected). No re-read at takeover: the mirror is the binding cache.
// * Standby: every watched change goes to the agent's mirror (on_change).
// * Active: commits are pipelined (one txn in flight; batches queued meanwhile go together
//   in the next one, duplicates of a key merged, last write wins) and fenced: every txn
//   compares create_revision(leader) with R, so once our lease is gone nothing we send
//   can be applied. A failed or fenced txn deposes us.
// * Lease: a keepalive every TTL/6 (up to three in flight). The active deposes itself, on a
//   timer of its own, when no keepalive has been confirmed for TTL − 500 ms since the last
//   confirmed one was sent (etcd cannot have expired the lease before that: it renews from
//   when a keepalive arrives, which is after we sent it), so a partitioned active stops
//   acting before a standby can win. On a clean stop the lease is revoked: the standby takes
//   over at once. Timing of each failure: docs/operations.md "Failover timing".
//
// * Members: our record (ClusterKeys::member, on our lease) says our role, API address and
//   how far the mirror has got; it is written at open() and refreshed on the keepalive tick
//   when it changed. survey() reads every record and the leases' TTLs (GET /v1/cluster).
// * One key per registration: a registration's batch carries its binding, whose record holds
//   the replay state; a replay put queued earlier for the same HoA is dropped from the txn
//   (cluster_records.hpp says why that keeps "the later write wins" exact).
// * Txn size: etcd refuses a txn with more than --max-txn-ops operations. A txn carries
//   whole batches up to config.max_txn_ops mutations; a batch larger than that on its own is
//   split into several txns, each fenced, its callback after the last (such a batch is
//   not atomic in etcd: if we are deposed halfway, the next active loads a part of it,
//   which is a state no reply acknowledged).
//
// Timers: keepalive (TTL/6); the active's lease deadline (TTL − 500 ms after the last
// confirmed keepalive was sent).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/cluster/etcd.hpp"
#include "common/core/asio.hpp"
#include "common/core/clock.hpp"
#include "home-agent/cluster/cluster_config.hpp"
#include "home-agent/cluster/cluster_link.hpp"
#include "home-agent/cluster/cluster_records.hpp"

namespace vmroam::ha {

struct ClusterHooks {
  // A change another HA committed (standby and electing only): a record, or its removal.
  std::function<void(const ClusterKeys::Parsed& key, const cluster::KeyValue* value)> on_change;
  // We won and the mirror is complete: take over (service address, tunnels, proxy ARP).
  std::function<Result<void>()> on_elected;
  // We were active and are no longer allowed to act; the daemon ends (status 2).
  std::function<void(const Error&)> on_deposed;
};

class ClusterNode final : public ClusterLink {
 public:
  enum class State { connecting, standby, electing, active, deposed };

  ClusterNode(boost::asio::io_context& io, cluster::Etcd& etcd, ClusterConfig config, Ipv4Prefix home_prefix,
              const Clock& clock);
  ~ClusterNode() override;
  ClusterNode(const ClusterNode&) = delete;
  ClusterNode& operator=(const ClusterNode&) = delete;

  // Start-up, blocking: lease and the subtree (load() then returns it).
  [[nodiscard]] Result<void> open();
  void start(ClusterHooks hooks);
  // Clean shutdown: no more watch or keepalive; the lease is revoked (a standby takes over).
  void stop();

  bool active() const override { return state_ == State::active; }
  std::string active_node() const override { return leader_; }
  std::string role() const override;
  std::string etcd_error() const override { return last_error_; }
  std::uint64_t reconnects() const override { return reconnects_; }
  Result<store::Snapshot> load() override;
  void commit(const store::Batch& batch, std::function<void(Result<void>)> done) override;
  Result<void> commit_now(const store::Batch& batch) override;
  void survey(std::function<void(Result<ClusterStatus>)> done) override;

  [[nodiscard]] State state() const { return state_; }
  // The active HA's node name as last seen ("" if none), for errors and status.
  [[nodiscard]] const std::string& leader() const { return leader_; }
  [[nodiscard]] std::int64_t watched_revision() const { return watched_revision_; }
  [[nodiscard]] std::int64_t lease() const { return lease_; }
  [[nodiscard]] const ClusterKeys& keys() const { return keys_; }
  [[nodiscard]] std::size_t txns_sent() const { return txns_sent_; }

  // For tests: one keepalive round now (the timer does this every TTL/6).
  void keepalive_tick();
  // For tests: the reconnect attempt now (the backoff timer does this).
  void reconnect();

  static constexpr std::chrono::milliseconds kReconnectInitial{200};
  static constexpr std::chrono::milliseconds kReconnectMax{2000};

 private:
  void watch_from(std::int64_t revision);
  [[nodiscard]] Result<void> join_now();
  void lose_etcd(const Error& why);
  void arm_reconnect();
  void resync(const std::vector<cluster::KeyValue>& kvs);
  void rejoin(std::int64_t revision);
  void campaign();
  void on_campaign(const Result<cluster::TxnResult>& r);
  void on_events(std::int64_t revision, std::vector<cluster::WatchEvent> events);
  void maybe_take_over();
  void send_next();
  void on_committed(const Result<cluster::TxnResult>& r, std::vector<std::function<void(Result<void>)>> done);
  void arm_keepalive();
  void arm_lease_deadline();
  [[nodiscard]] TimePoint lease_deadline() const;
  [[nodiscard]] bool lease_expired_here();
  void depose(const Error& why);
  [[nodiscard]] Error standby_error() const;
  [[nodiscard]] MemberRecord own_record() const;
  void publish_member();
  // A binding put for `key` is queued: a replay put of its HoA queued before it leaves the txn.
  void drop_replay_before(const std::string& key);
  // Takes the next txn's mutations and callbacks off the queue (whole batches up to the limit).
  std::vector<std::function<void(Result<void>)>> take_next(std::vector<cluster::Mutation>& mutations);

  boost::asio::io_context& io_;
  cluster::Etcd& etcd_;
  ClusterConfig config_;
  ClusterKeys keys_;
  Ipv4Prefix home_prefix_;
  const Clock& clock_;
  ClusterHooks hooks_;
  State state_ = State::standby;
  bool stopped_ = false;
  std::int64_t lease_ = 0;
  std::optional<store::Snapshot> opened_;  // from open(), until load() hands it over
  std::int64_t opened_revision_ = 0;
  std::int64_t watched_revision_ = 0;
  std::int64_t won_revision_ = 0;  // create_revision of our leader key
  std::string leader_;
  // The keys of the records the mirror holds (standby): a resync removes those etcd lost.
  std::unordered_set<std::string> mirrored_keys_;
  // Reconnecting: the next wait, attempts so far, the last error etcd gave ("" once back).
  std::chrono::milliseconds backoff_ = kReconnectInitial;
  std::uint64_t reconnects_ = 0;
  std::string last_error_;
  // Bumped whenever etcd is lost and at each reconnect attempt: answers to older requests
  // (watch, campaign, keepalive, member record) are stale and dropped.
  std::uint64_t epoch_ = 0;
  // The commit pipeline: what the next txn carries (a key's index in `next_`, to merge).
  bool in_flight_ = false;
  std::vector<cluster::Mutation> next_;
  std::unordered_map<std::string, std::size_t> next_index_;
  struct Waiting {
    std::function<void(Result<void>)> done;
    std::size_t end = 0;  // next_.size() once its batch was queued: it needs next_[0, end)
  };
  std::vector<Waiting> next_done_;
  std::size_t txns_sent_ = 0;
  // Lease: when the last keepalive etcd confirmed was sent.
  TimePoint confirmed_sent_at_{};
  int keepalives_in_flight_ = 0;
  // Our member record as etcd last confirmed it, and whether a put is on its way.
  std::optional<MemberRecord> published_;
  bool publishing_ = false;
  boost::asio::steady_timer keepalive_timer_;
  boost::asio::steady_timer lease_deadline_timer_;
  boost::asio::steady_timer reconnect_timer_;
};

}  // namespace vmroam::ha
