// HomeAgent: the home agent's state and behaviour on one io_context, with the OS behind seams.
//
// Datagrams for UDP 434 are queued by on_datagram() (a daemon::ControlBatch) and handled
// together by flush(), which the daemon calls once per readiness event (group commit): every
// request is decided against
// the in-memory state (Registrar), its effect is applied in memory with an undo record, all
// mutations go to the store in ONE transaction, and only when that is durable are the kernel
// state changed and the replies sent. If the commit fails, memory is rolled back and every
// request of the batch is answered 130 (insufficient resources): nothing unacknowledged is
// kept, nothing acknowledged is lost. The commit is overlapped: it runs on a writer thread
// (store::CommitPipeline) while the loop decides the next batch against memory; that batch is
// committed after it, and if a commit fails the batch decided behind it fails with it.
//
// The parts, each its own unit: Registrar (the pure decision, registrar.hpp), TunnelEndpoints
// (the driver's endpoint and route per binding, with the handover grace), HomeLink (proxy ARP
// and gratuitous ARP on the home link), Revocations (RFC 3543), Handovers (the handover hold,
// handover.hpp), binding records (binding_record.hpp), the JSON API (home_agent_api.hpp).
//
// Timers here: one expiry timer armed at BindingCache::next_expiry(); the units keep theirs.
//
// Start-up (start()): restore VMs, bindings and replay state from the store, drop expired
// bindings, then reconcile the kernel both ways: proxy entries on the home link that no
// binding explains are removed, and every binding's endpoint, route and proxy entry is
// (re)created. Only then does the daemon open its sockets to the world.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/core/asio.hpp"

#include "common/api/metrics.hpp"
#include "common/api/router.hpp"
#include "common/auth/replay.hpp"
#include "common/binding/binding_cache.hpp"
#include "common/core/clock.hpp"
#include "common/core/rate_limit.hpp"
#include "common/daemon/control_batch.hpp"
#include "common/dataplane/netlink.hpp"
#include "common/dataplane/tunnel_driver.hpp"
#include "common/store/commit_pipeline.hpp"
#include "common/store/store.hpp"
#include "home-agent/cluster/cluster_link.hpp"
#include "home-agent/cluster/cluster_records.hpp"
#include "home-agent/config.hpp"
#include "home-agent/handover.hpp"
#include "home-agent/home_agent_api.hpp"
#include "home-agent/home_link.hpp"
#include "home-agent/registrar.hpp"
#include "home-agent/reply_batch.hpp"
#include "home-agent/revocations.hpp"
#include "home-agent/tunnel_endpoints.hpp"
#include "home-agent/vm.hpp"

namespace vmroam::ha {

// The outside world. The daemon passes real ones; tests pass fakes.
struct HomeAgentIo {
  dataplane::Netlink* netlink = nullptr;
  // The tunnel driver; if it offers a HoldPort (TunnelDriver::hold_port()), the handover
  // hold uses it.
  dataplane::TunnelDriver* driver = nullptr;
  // One UDP 434 datagram to dst:port (replies, revocations).
  std::function<void(Ipv4 dst, std::uint16_t port, ByteView payload)> send_udp;
  // Datagrams of segment_size bytes end to end to dst:port in one send (UdpPort::send_batch,
  // UDP GSO); returns how many were accepted. May be empty: replies then go one by one.
  ReplyBatch::SendSegmented send_udp_segmented;
  // One Ethernet frame onto the home link (gratuitous ARP); may be empty (no home link).
  std::function<void(ByteView frame)> send_home_frame;
  const Clock* clock = nullptr;
  std::function<std::uint32_t()> random32;
  // The HA cannot go on: the store can no longer be trusted (an I/O error mid-commit left
  // the outcome unknown, "store_poisoned"). The daemon must exit (status 2) and let its
  // restart restore from what is on disk. May be empty (tests): then the HA carries on.
  std::function<void(const Error&)> on_fatal;
  // How long the FA a VM just left may still deliver its in-flight reverse-tunnelled packets
  // (and how long packets already queued for a deregistered HoA are given back to the
  // kernel): a few WAN round trips. Tests set 0.
  Duration previous_peer_grace = std::chrono::seconds(2);
  // The capture of what the router sends onto the home link for an address (handover
  // recovery for a VM that leaves home; frames come back through on_home_link_frame). Either
  // may be empty: then nothing is recovered from the home link.
  std::function<Result<void>(Ipv4 hoa, const std::vector<Ipv6>& home_addresses_v6, bool on)> watch_home_link;
  // Hands over what the capture has buffered, now (before the stop moment is judged).
  std::function<void()> drain_home_link;
  // The cluster this HA belongs to (home-agent/cluster/), or nullptr for a single HA on its
  // SQLite store. With one, state comes from and goes to etcd, and only the active HA of the
  // home prefix answers registrations; a standby mirrors (mirror()) and waits (take_over()).
  ClusterLink* cluster = nullptr;
};

class HomeAgent {
 public:
  HomeAgent(boost::asio::io_context& io, HaConfig config, HomeAgentIo seams, store::Store store);
  ~HomeAgent();
  HomeAgent(const HomeAgent&) = delete;
  HomeAgent& operator=(const HomeAgent&) = delete;

  // Restore + reconcile (see above). Errors: the store's, or a home interface that is missing.
  [[nodiscard]] Result<void> start();
  // Clean shutdown: removes every kernel object we created. Bindings stay in the store, so a
  // restart restores them.
  void stop();

  // A datagram that arrived on UDP 434 (copied; handled at the next flush()).
  void on_datagram(ByteView payload, Ipv4 src, std::uint16_t src_port);
  // Decides everything queued since the last flush: one store commit for all of it. On a
  // single HA the commit runs on the writer thread (store::CommitPipeline) and the replies
  // leave from its completion, on the loop; while it is in flight, later flushes are decided
  // into the batch that follows it ("Pipelined commit" in docs/home-agent.md).
  void flush() { batch_.flush(); }
  // Waits for every commit in flight and sends what it answers (tests, tools, shutdown).
  void settle_commits();
  // Single HA: decide the next batch while the previous commit is in flight (the default).
  // Off, each flush waits for its own commit, as before the pipeline: only for the
  // benchmark's reference rows (bench/ha_registrations.cpp).
  void set_overlap_commits(bool on) { overlap_commits_ = on; }
  [[nodiscard]] std::size_t queued() const { return batch_.size(); }
  // Removes the bindings whose lifetime has run out (and their kernel state). The expiry
  // timer calls it; tests call it after moving a fake clock.
  void on_expiry();

  // SIGHUP: takes what can change at run time (registration policy, foreign agents, log
  // level); reports what needs a restart and keeps the old value for it.
  [[nodiscard]] Result<std::vector<std::string>> reload(const HaConfig& next);

  // Handover hold (handover.hpp, docs/home-agent.md "Handover hold"): the migration driver
  // tells us a VM is about to move, that its source has stopped, or that the move is off.
  using HandoverPhase = ha::HandoverPhase;
  using HandoverOutcome = ha::HandoverOutcome;
  [[nodiscard]] Result<HandoverOutcome> handover(Ipv4 hoa, HandoverPhase phase,
                                                 std::optional<WallTime> stopped_at);
  // A frame the router sent onto the home link (the daemon's capture), stamped when it left.
  void on_home_link_frame(WallTime at, ByteView frame) { handovers_.on_home_link_frame(at, frame); }
  [[nodiscard]] bool holding(Ipv4 hoa) const { return handovers_.holding(hoa); }

  // Cluster (HomeAgentIo::cluster, home_agent_cluster.cpp). A standby applies what the active
  // committed to its memory only (no kernel state): `value` is the record, nullptr a removal.
  void mirror(const ClusterKeys::Parsed& key, const std::string* value);
  // This standby won the election: every binding's tunnel, route and proxy ARP goes in (with
  // a gratuitous ARP each), the revocations the old active had not seen acknowledged go out
  // again, and expiry runs here from now on.
  [[nodiscard]] Result<void> take_over();

  // The JSON API (docs/api.md); the daemon puts it behind its HTTP server. It sees durable
  // state only: what is in flight is settled first (at most one commit's wait).
  [[nodiscard]] api::Reply handle_api(const api::Request& request) {
    settle_commits();
    return api_.handle(request);
  }
  [[nodiscard]] api::MetricsRegistry& metrics() { return metrics_; }

  // For tests and listings.
  [[nodiscard]] const binding::BindingCache& bindings() const { return cache_; }
  [[nodiscard]] const VmDirectory& vms() const { return vms_; }
  [[nodiscard]] const HaConfig& config() const { return config_; }
  [[nodiscard]] bool proxy_arp_for(Ipv4 hoa) const { return home_link_.proxying(hoa); }
  [[nodiscard]] bool proxy_ndp_for(const Ipv6& hoa) const { return home_link_.proxying6(hoa); }
  [[nodiscard]] std::size_t pending_revocations() const { return revocations_.pending(); }

 private:
  // What one accepted request changed in memory, to undo it if the commit fails.
  struct Undo {
    Ipv4 hoa;
    std::optional<binding::Binding> binding;
    std::optional<auth::ReplayState> replay;
  };
  // What to do once the batch is durable.
  struct Effect {
    Verdict verdict;
    std::optional<binding::UpsertOutcome> upsert;  // bind
    std::optional<binding::Binding> removed;       // unbind
    Ipv4 reply_to;
    std::uint16_t reply_port = 0;
    bool routed_early = false;                          // the tunnel was switched before the commit
    std::optional<store::RevocationRecord> revocation;  // to the FA the binding left
  };
  // A tunnel switched before the commit, and where it pointed before.
  struct EarlySwitch {
    Ipv4 hoa;
    std::optional<dataplane::TunnelEndpoint> previous;
  };
  // One flush's work, built by handle_one().
  struct Batch {
    store::Batch store;
    std::vector<Undo> undo;
    std::vector<Effect> effects;
  };

  // The batch whose commit is on the writer thread, and when it went.
  struct InFlight {
    Batch batch;  // its undo records and effects (the mutations went to the writer)
    std::vector<EarlySwitch> switched;
    std::chrono::steady_clock::time_point started;
  };
  // Requests decided while a commit is in flight before the loop waits for the disk.
  static constexpr std::size_t kMaxWaiting = 16384;

  // Registration: decide each datagram, switch early, commit once (overlapped with deciding
  // the next batch), then apply or undo.
  void handle_batch(std::span<const daemon::ControlDatagram> datagrams);
  void handle_one(const daemon::ControlDatagram& d, Batch& batch);
  void record_effect(const wire::RegistrationRequest& req, Effect& e, Batch& batch);
  void submit(Batch batch);
  void on_committed(const Result<void>& r);
  [[nodiscard]] std::vector<EarlySwitch> switch_early(std::vector<Effect>& effects);
  void undo(const Batch& batch, const std::vector<EarlySwitch>& switched);
  void answer_failed(const Batch& batch);
  void note_commit(std::chrono::steady_clock::time_point started, const Result<void>& r);
  void apply(const Effect& e);
  // A committed batch's effects: apply() each, its replies sent together, then what must
  // follow the replies (handovers, revocations to the FA a binding left).
  void apply_all(const std::vector<Effect>& effects);
  void forget_revocation(std::uint32_t id);
  // Start-up: memory from the store (expired bindings go from it); the kernel follows.
  struct Restored {
    std::unordered_map<Ipv4, dataplane::TunnelEndpoint> endpoints;  // per restored HoA
    std::size_t expired = 0;
    std::vector<store::RevocationRecord> revocations;  // pending when the HA stopped
  };
  [[nodiscard]] Result<Restored> restore();
  void bind_kernel_state(const binding::Binding& b, const dataplane::TunnelEndpoint& ep, bool route = true);
  void unbind_kernel_state(const binding::Binding& b, bool announce_home);
  // Some binding holds this IPv6 home address (start-up reconciliation of proxy NDP).
  [[nodiscard]] bool bound_v6(const Ipv6& a) const;
  void arm_expiry();
  [[nodiscard]] Result<void> commit(const store::Batch& batch);
  // Cluster: the batch goes to etcd pipelined; its effects apply once it is committed.
  void commit_clustered(Batch batch);
  void add_cluster_metrics();
  void drop_expired(store::Batch& batch, Ipv4 hoa);
  [[nodiscard]] bool standby() const { return seams_.cluster && !seams_.cluster->active(); }
  [[nodiscard]] Result<store::Snapshot> load_snapshot();
  void count_message(std::string_view result, int code);
  [[nodiscard]] bool may_log(std::string_view reason);
  [[nodiscard]] bool may_reply(std::string_view reason);
  void report_suppressed();
  static constexpr std::chrono::seconds kSuppressedReport{10};

  // The JSON API works on the agent's state directly (home_agent_api.hpp).
  friend class HomeAgentApi;

  boost::asio::io_context& io_;
  HaConfig config_;
  HomeAgentIo seams_;
  store::Store store_;
  Registrar registrar_;
  VmDirectory vms_;
  binding::BindingCache cache_;
  std::unordered_map<Ipv4, auth::ReplayState> replay_;
  // Kernel state we own, and the protocol duties that go with it.
  TunnelEndpoints tunnels_;
  HomeLink home_link_;
  Revocations revocations_;
  Handovers handovers_;
  daemon::ControlBatch batch_;
  ReplyBatch replies_;  // the replies of the effects being applied (apply_all())
  // Single HA: commits on the writer thread (nullptr in a cluster: ClusterLink pipelines).
  std::unique_ptr<store::CommitPipeline> pipeline_;
  std::optional<InFlight> in_flight_;
  std::optional<Batch> waiting_;  // decided while in_flight_ commits; the next commit
  bool overlap_commits_ = true;
  boost::asio::steady_timer expiry_timer_;
  // Lines about rejected messages: 5/s per reason after a burst of 20 (may_log()).
  RateLimit rejection_log_{5, 20};
  // Denials sent: 100/s per reason after a burst of 200 (may_reply()).
  RateLimit denial_replies_{100, 200};
  std::unordered_map<std::string, api::Counter*> message_counters_;  // count_message()
  boost::asio::steady_timer suppressed_timer_;
  bool suppressed_armed_ = false;
  TimePoint started_at_;
  bool stopped_ = false;
  // Standby: where each mirrored binding's tunnel goes (its record's endpoint), for take_over().
  std::unordered_map<Ipv4, dataplane::TunnelEndpoint> mirrored_endpoints_;
  // Standby: the active's revocations not yet acknowledged (RFC 3543 §4), sent by take_over().
  std::map<std::uint32_t, store::RevocationRecord> mirrored_revocations_;
  // Metrics and the API (last: it works on everything above).
  api::MetricsRegistry metrics_;
  api::Histogram* commit_seconds_ = nullptr;
  api::Counter* store_failures_ = nullptr;
  HomeAgentApi api_{*this};
};

}  // namespace vmroam::ha
