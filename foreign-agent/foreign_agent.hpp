// ForeignAgent: the foreign agent's visitors and what happens to them, on one io_context, the
// OS behind seams. docs/foreign-agent.md tells the story; the parts live in their own units:
//
//   registration_outcome   pure: what to do about a reply or a retransmission timer
//   proxy_registration     pure: the request's bytes, reply verification, backoff, renewal
//   delivery               kernel state per visitor (routes, neighbour, proxy ARP, anycast,
//                          garp, reverse tunnel)
//   visitor_buffer         pure: packets held for a visitor until it runs here
//   visitor_record         pure: visitor ⇄ store record
//   foreign_agent_api      the JSON API (docs/api.md); it owns the HTTP requests that wait
//
// A visitor arrives in two steps through the JSON API: prepare, then activate (RFC 5563 proxy
// registration, RFC 5944 §3.6): the request goes to the HA on UDP 434, retransmitted with
// backoff and a fresh Identification each time, until a reply matches and verifies. Accepted →
// active, re-register at 2/3 of the granted lifetime; denied or timed out → failed. Replies
// are queued by on_datagram() (a daemon::ControlBatch, as the HA's) and handled by flush()
// with one store commit for the whole batch (group commit). Revocation (RFC 3543): an FA-HA-authenticated
// type 7 drops the visitor and is answered with an authenticated type 15 once the deletion is durable.
//
// Durability: commits run on a writer thread (store::CommitPipeline, as the HA's), so the loop
// never waits for an fsync; whatever a client is told (activate's 202, the long poll's outcome, abort and
// depart's 200, the revocation ack) is sent from the commit's completion. A failed commit is
// answered as failed and memory goes back to what is durable (docs/foreign-agent.md
// "Failures"); when the FA cannot go on (a registration outcome the HA acted upon cannot be
// recorded) it reports on_fatal and the daemon exits; the restart re-registers from the store.
//
// Start-up (start()): visitors are restored from the store with their state; kernel objects a
// predecessor left that no visitor explains are removed; every visitor's delivery is recreated
// (identical objects are adopted); registering/active visitors register again at once.
#pragma once

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
#include "common/binding/visitor_list.hpp"
#include "common/core/clock.hpp"
#include "common/daemon/control_batch.hpp"
#include "common/dataplane/netlink.hpp"
#include "common/dataplane/tunnel_driver.hpp"
#include "common/store/commit_pipeline.hpp"
#include "common/store/store.hpp"
#include "common/wire/registration.hpp"
#include "common/wire/revocation.hpp"
#include "foreign-agent/config.hpp"
#include "foreign-agent/delivery.hpp"
#include "foreign-agent/registration_outcome.hpp"
#include "foreign-agent/visitor_buffer.hpp"
#include "foreign-agent/visitor_record.hpp"

namespace vmroam::fa {

class ForeignAgentApi;

// The outside world. The daemon passes real ones; tests pass fakes.
struct ForeignAgentIo {
  dataplane::Netlink* netlink = nullptr;
  dataplane::TunnelDriver* driver = nullptr;
  // One UDP 434 datagram to dst:port (requests, revocation acks).
  std::function<void(Ipv4 dst, std::uint16_t port, ByteView payload)> send_udp;
  // One Ethernet frame onto the VM link (gratuitous ARP); may be empty.
  std::function<void(ByteView frame)> send_vm_frame;
  // An IP packet handed back to the kernel to route (the buffer flush); may be empty.
  std::function<void(ByteView ip_packet)> reinject;
  // The TUN that HoAs route to while buffering; 0 disables buffering.
  int buffer_ifindex = 0;
  // Anycast gateway: a link on the VM link answering to `mac` (returns its name), and its
  // removal. Empty: anycast is not available (the daemon logs it and falls back to garp).
  std::function<Result<std::string>(const MacAddress& mac)> add_gateway_link;
  std::function<void(const std::string& name)> remove_gateway_link;
  const Clock* clock = nullptr;
  std::function<std::uint32_t()> random32;
  // Arrival detection (docs/foreign-agent.md): the MACs of the visitors whose VM is expected
  // but not seen yet, each time that set changes. The VM link passes us their IP frames (and
  // everyone's ARP and RARP) and no other IP frame. Empty: every frame comes.
  std::function<void(const std::vector<MacAddress>& awaited)> watch_arrivals;
  // The FA cannot go on (docs/foreign-agent.md "Failures"): the daemon stops and exits 2.
  // Called on the loop, at most once. Empty: logged only.
  std::function<void(const Error&)> on_fatal;
};

class ForeignAgent {
 public:
  using Done = store::CommitPipeline::Done;

  ForeignAgent(boost::asio::io_context& io, FaConfig config, ForeignAgentIo seams, store::Store store);
  ~ForeignAgent();
  ForeignAgent(const ForeignAgent&) = delete;
  ForeignAgent& operator=(const ForeignAgent&) = delete;

  // Restore + reconcile (see above). Errors: the store's, "vm_interface_missing".
  [[nodiscard]] Result<void> start();
  // Clean shutdown: removes every kernel object we created; visitors stay in the store.
  void stop();
  // SIGHUP: takes what can change at run time; reports what needs a restart.
  [[nodiscard]] Result<std::vector<std::string>> reload(const FaConfig& next);

  // A datagram that arrived on UDP 434 (copied; handled at the next flush()).
  void on_datagram(ByteView payload, Ipv4 src, std::uint16_t src_port);
  // Handles everything queued since the last flush: one store commit for all of it.
  void flush();
  // An IP packet the kernel routed to the buffer TUN.
  void on_buffered_packet(ByteView ip_packet);
  // An Ethernet frame seen on the VM link (arrival detection: RARP, ARP, IPv4 or IPv6 — an
  // unsolicited Neighbor Advertisement among them — from a visitor's MAC; the VM's ARP and
  // Neighbor Solicitations for its home gateway and home link are answered).
  void on_vm_frame(ByteView frame);

  // The JSON API's commands (docs/api.md). `done` runs on the loop once the change is durable
  // or has failed (then memory is back to what is durable).
  // prepare commits synchronously: an error ("conflict" naming the visitor that holds the
  // id, home address or MAC; the store's) changes nothing.
  [[nodiscard]] Result<void> prepare(binding::Visitor v);
  // Registers a prepared or failed visitor (it becomes registering), or renews an active one:
  // the request goes out at once, `done` runs once the new state is durable. Errors
  // ("not_found", "illegal_transition") change nothing and do not call `done`.
  [[nodiscard]] Result<void> activate(const std::string& id, Done done);
  void resume(const std::string& id, std::string_view how);
  // Gone from memory and the kernel at once, deleted from the store (abort undoes a prepare:
  // the API checks the state; a revocation, the end of a departure). `id` is a copy: callers
  // often pass the visitor's own id, which this destroys.
  void remove(std::string id, std::string_view why, Done done);
  // RFC 5944 §3.6.1.1: deregisters (lifetime 0) an active visitor that left. Delivery stays
  // until the HA has answered or kDepartLinger passed: it tunnels here until it has
  // committed the deregistration.
  void depart(const std::string& id, Done done);

  [[nodiscard]] api::Reply handle_api(const api::Request& request);

  // What the API and tests read.
  struct Status {
    bool resumed = false;
    std::optional<double> handover_ms;  // activate → accepted reply
    std::uint16_t granted = 0;          // lifetime the HA granted
    BufferStats buffer;
  };
  [[nodiscard]] std::optional<Status> status(const std::string& id) const;
  [[nodiscard]] const binding::VisitorList& visitors() const { return visitors_; }
  [[nodiscard]] const FaConfig& config() const { return config_; }
  [[nodiscard]] api::MetricsRegistry& metrics() { return metrics_; }
  // The tunnel driver's counters (per HoA where it counts them: the eBPF driver).
  [[nodiscard]] dataplane::TunnelStats tunnel_stats() const {
    return seams_.driver ? seams_.driver->stats() : dataplane::TunnelStats{};
  }
  [[nodiscard]] bool gateway_mode_anycast() const { return delivery_.anycast(); }

 private:
  // Per-visitor run-time state that is not durable.
  struct Runtime {
    RegistrationRound round;
    std::unique_ptr<boost::asio::steady_timer> timer;  // retransmission, renewal or depart linger
    bool resumed = false;
    bool first_activation = true;
    TimePoint activated_at{};
    std::optional<double> handover_ms;
    std::uint16_t granted = 0;
  };
  using Changes = std::vector<VisitorChange>;

  // Registration.
  void transmit(const std::string& id);
  void arm_timer(const std::string& id, std::chrono::milliseconds after);
  void apply(const std::string& id, const RegistrationOutcome& o, Changes& changes);
  void handle_batch(std::span<const daemon::ControlDatagram> datagrams);
  void handle_revocation(const wire::Revocation& rev, ByteView raw, Ipv4 src, std::uint16_t port);
  // The request for `id` with a fresh Identification (recorded in the visitor).
  [[nodiscard]] Result<Bytes> request(const std::string& id, std::uint16_t lifetime);

  // Visitors in memory.
  void restore(const binding::Visitor& v);
  // Tells the VM link which visitors' IP frames arrival detection still needs.
  void update_arrival_watch();

  // The store. Commands answer through `done`; outcomes are reported to the API.
  // `undo`: a failure rolls memory back to what is durable.
  void commit(Changes changes, Done done, bool undo = true);
  void commit_outcomes(Changes changes);
  void rollback(const Changes& changes);

  boost::asio::io_context& io_;
  FaConfig config_;
  ForeignAgentIo seams_;
  // The store, committed on a writer thread (store::CommitPipeline): the loop also carries the
  // data path and must not wait for an fsync. Declared in this order: the pipeline goes first.
  store::Store store_;
  store::CommitPipeline pipeline_;
  binding::VisitorList visitors_;
  std::map<std::string, Runtime, std::less<>> runtime_;
  std::optional<std::vector<MacAddress>> awaited_;  // last set given to watch_arrivals
  // What the store holds (the last successful commit of each visitor): rollback's target.
  std::map<std::string, store::VisitorRecord, std::less<>> durable_;
  Delivery delivery_;
  VisitorBuffer buffer_;
  std::unordered_map<Ipv4, std::int64_t> clock_offset_s_;  // HA → offset learnt from a 133
  daemon::ControlBatch batch_;                             // UDP 434: registration replies and revocations
  bool stopped_ = false;
  bool fatal_ = false;
  api::MetricsRegistry metrics_;
  api::Histogram* handover_seconds_ = nullptr;
  api::Counter* overflow_total_ = nullptr;
  api::Counter* buffered_total_ = nullptr;
  api::Counter* flushed_total_ = nullptr;
  std::unique_ptr<ForeignAgentApi> api_;
};

}  // namespace vmroam::fa
