// HomeAgent: the home agent's state and behaviour on one io_context, with the OS behind seams.
//
// Datagrams for UDP 434 are queued by on_datagram() and handled together by flush(), which
// the daemon calls once per readiness event (group commit): every request is decided against
// the in-memory state (Registrar), its effect is applied in memory with an undo record, all
// mutations go to the store in ONE transaction, and only when that is durable are the kernel
// state changed and the replies sent. If the commit fails, memory is rolled back and every
// request of the batch is answered 130 (insufficient resources): nothing unacknowledged is
// kept, nothing acknowledged is lost.
//
// Kernel state per binding (all tagged, all RAII): the tunnel driver's endpoint (one per
// care-of, reference counted) and route for the HoA (protocol 186), and a proxy-ARP entry for
// the HoA on the home link (NTF_PROXY, per address). A gratuitous ARP goes out on the home
// link when a VM leaves (HoA → our MAC) and when it returns (HoA → its own MAC).
//
// Timers: one expiry timer armed at BindingCache::next_expiry(); per pending revocation a
// retransmission timer (RFC 3543 §4: 1 s, doubling, 3 tries).
//
// Start-up (start()): restore VMs, bindings and replay state from the store, drop expired
// bindings, then reconcile the kernel both ways: proxy entries on the home link that no
// binding explains are removed, and every binding's endpoint, route and proxy entry is
// (re)created. Only then does the daemon open its sockets to the world.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include "common/core/asio.hpp"
#pragma GCC diagnostic pop

#include "common/api/metrics.hpp"
#include "common/api/router.hpp"
#include "common/auth/replay.hpp"
#include "common/binding/binding_cache.hpp"
#include "common/core/clock.hpp"
#include "common/dataplane/handover_hold.hpp"
#include "common/dataplane/netlink.hpp"
#include "common/dataplane/tunnel_driver.hpp"
#include "common/store/store.hpp"
#include "common/wire/revocation.hpp"
#include "home-agent/config.hpp"
#include "home-agent/registrar.hpp"
#include "home-agent/vm.hpp"

namespace vmroam::ha {

// The outside world. The daemon passes real ones; tests pass fakes.
struct HomeAgentIo {
  dataplane::Netlink* netlink = nullptr;
  dataplane::TunnelDriver* driver = nullptr;
  // One UDP 434 datagram to dst:port (replies, revocations).
  std::function<void(Ipv4 dst, std::uint16_t port, ByteView payload)> send_udp;
  // One Ethernet frame onto the home link (gratuitous ARP); may be empty (no home link).
  std::function<void(ByteView frame)> send_home_frame;
  const Clock* clock = nullptr;
  std::function<std::uint32_t()> random32;
  // The store can no longer be trusted (an I/O error mid-commit left the outcome unknown):
  // the daemon must exit and let its restart restore from what is on disk.
  std::function<void(const Error&)> on_fatal;
  // How long the FA a VM just left may still deliver its in-flight reverse-tunnelled packets
  // (and how long packets already queued for a deregistered HoA are given back to the
  // kernel): a few WAN round trips. Tests set 0.
  Duration previous_peer_grace = std::chrono::seconds(2);
  // The capture of what the router sends onto the home link for an address (handover
  // recovery for a VM that leaves home; frames come back through on_home_link_frame). Either
  // may be empty: then nothing is recovered from the home link.
  std::function<Result<void>(Ipv4 hoa, bool on)> watch_home_link;
  // Hands over what the capture has buffered, now (before the stop moment is judged).
  std::function<void()> drain_home_link;
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
  // Handles everything queued since the last flush: one store commit for all of it.
  void flush();
  [[nodiscard]] std::size_t queued() const { return pending_.size(); }
  // Removes the bindings whose lifetime has run out (and their kernel state). The expiry
  // timer calls it; tests call it after moving a fake clock.
  void on_expiry();

  // SIGHUP: takes what can change at run time (registration policy, foreign agents, log
  // level); reports what needs a restart and keeps the old value for it.
  [[nodiscard]] Result<std::vector<std::string>> reload(const HaConfig& next);

  // Handover hold (docs/home-agent.md "Handover hold"): the migration driver tells us a VM is
  // about to move (prepare: start recording what we send it), that its source has stopped
  // (stopped: hold its packets, recover what was sent since the stop) or that the move is
  // off (cancel). The hold ends when the VM's binding changes, or after hold_timeout_ms.
  enum class HandoverPhase : std::uint8_t { prepare, stopped, cancel };
  struct HandoverOutcome {
    std::string state;          // "recording", "holding", "released", "idle"
    std::size_t recovered = 0;  // copies queued for re-delivery
    std::size_t released = 0;   // packets released at once
  };
  [[nodiscard]] Result<HandoverOutcome> handover(Ipv4 hoa, HandoverPhase phase,
                                                 std::optional<WallTime> stopped_at);
  // A frame the router sent onto the home link (the daemon's capture), stamped when it left.
  void on_home_link_frame(WallTime at, ByteView frame);
  [[nodiscard]] bool holding(Ipv4 hoa) const { return hold_ && hold_->holding(hoa); }

  // The JSON API (docs/api.md); the daemon puts it behind its HTTP server.
  [[nodiscard]] api::Reply handle_api(const api::Request& request);
  [[nodiscard]] api::MetricsRegistry& metrics() { return metrics_; }

  // For tests and listings.
  [[nodiscard]] const binding::BindingCache& bindings() const { return cache_; }
  [[nodiscard]] const VmDirectory& vms() const { return vms_; }
  [[nodiscard]] const HaConfig& config() const { return config_; }
  [[nodiscard]] bool proxy_arp_for(Ipv4 hoa) const { return proxies_.contains(hoa); }
  [[nodiscard]] std::size_t pending_revocations() const { return revocations_.size(); }

 private:
  struct Pending {
    Bytes payload;
    Ipv4 src;
    std::uint16_t port = 0;
  };
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
    bool routed_early = false;  // flush() switched the tunnel before the commit
  };
  struct PendingRevocation {
    Bytes message;
    Ipv4 fa;
    int attempts = 0;
    std::unique_ptr<boost::asio::steady_timer> timer;
  };

  void handle_one(const Pending& p, store::Batch& batch, std::vector<Undo>& undo,
                  std::vector<Effect>& effects);
  void handle_revocation_ack(const wire::RevocationAck& ack, ByteView raw, Ipv4 src);
  void apply(const Effect& e);
  void bind_kernel_state(const binding::Binding& b, const dataplane::TunnelEndpoint& ep, bool route = true);
  void unbind_kernel_state(const binding::Binding& b, bool announce_home);
  void acquire_endpoint(Ipv4 hoa, const dataplane::TunnelEndpoint& ep);
  void release_endpoint(Ipv4 hoa);
  void drop_endpoint_ref(Ipv4 peer);
  void send_revocation(const binding::Binding& previous);
  void retransmit_revocation(std::uint32_t id);
  void announce(Ipv4 hoa, const MacAddress& mac);
  void arm_expiry();
  [[nodiscard]] Result<void> commit(const store::Batch& batch);
  // The record carries the tunnel endpoint in its params when it differs from the care-of
  // address on port 434 (RFC 3519 through a NAT: the NAT's address and port), so that a
  // restart rebuilds the tunnel where it really goes.
  [[nodiscard]] store::BindingRecord to_record(const binding::Binding& b,
                                               const dataplane::TunnelEndpoint& ep) const;
  [[nodiscard]] static dataplane::TunnelEndpoint endpoint_from_record(const store::BindingRecord& r,
                                                                      const binding::Binding& b);
  [[nodiscard]] binding::Binding from_record(const store::BindingRecord& r) const;
  [[nodiscard]] RegistrarSettings settings_from(const HaConfig& c) const;
  [[nodiscard]] std::unordered_map<Ipv4, ForeignAgent> foreign_agents_from(const HaConfig& c) const;
  void count_message(std::string_view result, int code);
  // A hold ends (binding changed, timeout, cancel): the held packets go where the binding
  // points now, or onto the home link.
  void end_handover(Ipv4 hoa, std::string_view why);
  void drop_handover(Ipv4 hoa);  // forget it: timer, recording, capture
  void build_router();
  void sync_tunnel_metrics();

  // API handlers (home_agent_api.cpp).
  api::Reply api_health(const api::Request&, const api::PathParams&);
  api::Reply api_metrics(const api::Request&, const api::PathParams&);
  api::Reply api_vm_create(const api::Request&, const api::PathParams&);
  api::Reply api_vm_replace(const api::Request&, const api::PathParams&);
  api::Reply api_vm_list(const api::Request&, const api::PathParams&);
  api::Reply api_vm_show(const api::Request&, const api::PathParams&);
  api::Reply api_vm_delete(const api::Request&, const api::PathParams&);
  api::Reply api_binding_list(const api::Request&, const api::PathParams&);
  api::Reply api_binding_show(const api::Request&, const api::PathParams&);
  api::Reply api_vm_handover(const api::Request&, const api::PathParams&);
  api::Reply put_vm(const api::Request& req, const std::string& path_id, bool create);
  [[nodiscard]] api::Json vm_json(const Vm& vm) const;
  [[nodiscard]] api::Json binding_json(const binding::Binding& b) const;

  boost::asio::io_context& io_;
  HaConfig config_;
  HomeAgentIo seams_;
  store::Store store_;
  Registrar registrar_;
  VmDirectory vms_;
  binding::BindingCache cache_;
  std::unordered_map<Ipv4, auth::ReplayState> replay_;
  // Kernel state we own.
  int home_ifindex_ = 0;
  MacAddress home_mac_;
  std::map<Ipv4, dataplane::OwnedProxyNeighbour> proxies_;
  std::unordered_map<Ipv4, dataplane::TunnelEndpoint> endpoint_of_;  // HoA → its endpoint
  std::unordered_map<Ipv4, int> endpoint_refs_;                      // peer → bindings using it
  std::unordered_map<std::uint32_t, PendingRevocation> revocations_;
  // Endpoint references held through a handover grace (see HomeAgentIo::previous_peer_grace).
  std::unordered_map<std::uint64_t, std::unique_ptr<boost::asio::steady_timer>> grace_timers_;
  std::uint64_t next_grace_id_ = 0;
  // Handover holds by HoA (see handover()).
  struct Handover {
    bool holding = false;
    std::optional<Ipv4> coa_at_prepare;  // where the binding pointed at prepare (none: home)
    std::unique_ptr<boost::asio::steady_timer> timer;
  };
  std::unordered_map<Ipv4, Handover> handovers_;
  dataplane::PacketRecorder home_recorder_;        // frames sent onto the home link, by HoA
  std::unique_ptr<dataplane::HandoverHold> hold_;  // null: the driver offers no HoldPort
  std::vector<Pending> pending_;
  boost::asio::steady_timer expiry_timer_;
  TimePoint started_at_;
  bool stopped_ = false;
  // API and metrics.
  api::Router router_;
  api::MetricsRegistry metrics_;
  api::Histogram* commit_seconds_ = nullptr;
  api::Counter* store_failures_ = nullptr;
  std::map<std::string, double, std::less<>> tunnel_seen_;  // last synced driver counters
};

}  // namespace vmroam::ha
