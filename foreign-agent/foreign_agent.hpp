// ForeignAgent: the foreign agent's state and behaviour on one io_context, the OS behind seams.
//
// A visitor (an unmodified VM that is about to run, or runs, on our VM-facing link) arrives
// in two steps through the JSON API (docs/api.md): prepare, then activate (RFC 5563 proxy
// registration). Kernel state per visitor, all tagged (protocol 186, our rule priorities,
// links named vmr…) and owned by RAII handles:
//   * delivery: HoA/32 dev <vm link> proto 186 — or, while the visitor is buffering, HoA/32
//     dev <buffer TUN> proto 186, so that early packets reach us instead of an ARP queue;
//   * a proxy-ARP entry for the home gateway on the VM link (NTF_PROXY, per address, shared
//     by the visitors behind the same gateway);
//   * a neighbour entry HoA → the VM's MAC on the VM link (NUD_STALE, protocol 186), refreshed
//     at resume: the kernel's first packet to the VM goes out at once instead of waiting for
//     an ARP exchange that a move can lose (1 s retransmission);
//   * the reverse tunnel (RFC 3024): the driver's endpoint for the HA (reference counted) and
//     route(HoA → HA), which adds `from HoA iif <vm link> lookup <reverse table>`;
//   * gateway_mode "anycast": a macvlan on the VM link carrying the home gateway's MAC (the
//     VM's cached gateway entry keeps working the instant it resumes) and a second rule
//     `from HoA iif <that link>` into the same table; "garp": gratuitous ARP for the gateway
//     with the VM link's MAC when the VM appears, repeated on delivery.garp_schedule_ms.
//
// Buffering: packets the kernel routes to the buffer TUN are handed to on_buffered_packet()
// and queued per visitor (bounded by delivery.buffer_bytes and buffer_ms; overflow counted).
// When the VM is seen on the link or `resumed` is called, the HoA's route moves to the VM link
// and the queue is written back into the kernel in order (reinject seam), which now delivers
// it to the VM. buffer_bytes 0 disables buffering (the route goes to the VM link at prepare).
//
// Registration (RFC 5944 §3.6, RFC 5563): the request goes to the HA on UDP 434; it is
// retransmitted with backoff (registration.retransmit_*) with a fresh Identification each time
// (every one of the round is remembered, so a late reply still matches), until a reply that
// matches and verifies arrives. 133 → resynchronise the clock offset and retry once. Accepted
// → active, re-register at 2/3 of the granted lifetime. Denied → failed (reply_code, reason).
// Timeout → failed with 78. Replies are queued by on_datagram() and handled by flush() with one
// store commit for the whole batch (group commit).
//
// The store (StoreWriter) commits on a thread of its own: the loop also carries the data path,
// and an fsync on it held the first packets of a handover. Whatever a client is told (the 202
// of activate, the long-poll's outcome, depart/abort's 200, the revocation ack) is sent from the
// commit's completion, so acknowledged still means durable; prepare commits synchronously (its
// 4xx/5xx must leave nothing behind).
//
// Revocation (RFC 3543): an FA-HA-authenticated type 7 drops the visitor and its state and is
// answered with an authenticated type 15.
//
// Start-up (start()): visitors are restored from the store with their state; kernel objects a
// predecessor left that no visitor explains are removed; every visitor's state is recreated
// (identical objects are adopted); registering/active visitors register again at once.
#pragma once

#include <cstdint>
#include <deque>
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
#include "common/binding/visitor_list.hpp"
#include "common/core/clock.hpp"
#include "common/dataplane/netlink.hpp"
#include "common/dataplane/tunnel_driver.hpp"
#include "common/store/store.hpp"
#include "common/wire/registration.hpp"
#include "common/wire/revocation.hpp"
#include "foreign-agent/config.hpp"
#include "foreign-agent/proxy_registration.hpp"
#include "foreign-agent/store_writer.hpp"

namespace vmroam::fa {

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
};

class ForeignAgent {
 public:
  ForeignAgent(boost::asio::io_context& io, FaConfig config, ForeignAgentIo seams, store::Store store);
  ~ForeignAgent();
  ForeignAgent(const ForeignAgent&) = delete;
  ForeignAgent& operator=(const ForeignAgent&) = delete;

  // Restore + reconcile (see above). Errors: the store's, "vm_interface_missing".
  [[nodiscard]] Result<void> start();
  // Clean shutdown: removes every kernel object we created; visitors stay in the store.
  void stop();

  // A datagram that arrived on UDP 434 (copied; handled at the next flush()).
  void on_datagram(ByteView payload, Ipv4 src, std::uint16_t src_port);
  // Handles everything queued since the last flush: one store commit for all of it.
  void flush();
  // An IP packet the kernel routed to the buffer TUN.
  void on_buffered_packet(ByteView ip_packet);
  // An Ethernet frame seen on the VM link (arrival detection: RARP, ARP or IPv4 from a
  // visitor's MAC).
  void on_vm_frame(ByteView frame);

  // SIGHUP: takes what can change at run time; reports what needs a restart.
  [[nodiscard]] Result<std::vector<std::string>> reload(const FaConfig& next);

  [[nodiscard]] api::Reply handle_api(const api::Request& request);
  [[nodiscard]] api::MetricsRegistry& metrics() { return metrics_; }

  // For tests and listings.
  [[nodiscard]] const binding::VisitorList& visitors() const { return visitors_; }
  [[nodiscard]] const FaConfig& config() const { return config_; }
  [[nodiscard]] std::size_t buffered_packets(const std::string& id) const;
  [[nodiscard]] std::uint64_t buffer_overflows(const std::string& id) const;
  [[nodiscard]] std::optional<double> handover_ms(const std::string& id) const;
  [[nodiscard]] bool gateway_mode_anycast() const { return anycast_; }

 private:
  struct Pending {
    Bytes payload;
    Ipv4 src;
    std::uint16_t port = 0;
  };
  struct Buffered {
    Bytes packet;
    TimePoint at;
  };
  // Per-visitor run-time state that is not durable.
  struct Runtime {
    std::optional<dataplane::OwnedRoute> host_route;     // HoA/32 dev <vm link>
    std::optional<dataplane::OwnedRoute> buffer_route;   // HoA/32 dev <buffer TUN>
    std::optional<dataplane::OwnedRule> anycast_rule;    // from HoA iif <gateway link>
    std::optional<dataplane::OwnedNeighbour> neighbour;  // HoA lladdr <VM MAC> dev <vm link>
    std::string gateway_link;                            // its name (anycast)
    bool tunnel_routed = false;
    Ipv4 endpoint_peer;  // the HA we hold an endpoint ref for
    // Buffering.
    bool buffering = false;
    bool resumed = false;
    std::deque<Buffered> queue;
    std::size_t queue_bytes = 0;
    std::uint64_t overflow_packets = 0;
    std::uint64_t flushed_packets = 0;
    // Registration in flight.
    std::unique_ptr<boost::asio::steady_timer> timer;  // retransmission or renewal
    std::uint32_t sent = 0;
    std::vector<std::uint64_t> identifications;  // every one sent in this round
    bool in_flight = false;
    bool resynced = false;
    bool first_activation = true;
    TimePoint activated_at{};
    std::optional<double> handover_ms;
    std::uint16_t granted = 0;
    std::vector<api::Responder> waiters;
    // Departure: the deregistration in flight (RFC 5944 §3.6.1.1). Delivery stays in place
    // until its reply or kDepartLinger, because the HA keeps tunnelling here until it has
    // committed the deregistration.
    std::optional<std::uint64_t> deregistration_id;
    // Gratuitous ARP schedule (gateway_mode garp).
    std::unique_ptr<boost::asio::steady_timer> garp_timer;
    std::size_t garp_next = 0;
  };
  struct SharedProxy {
    dataplane::OwnedProxyNeighbour entry;
    int refs = 0;
  };
  struct GatewayLink {
    std::string name;
    int refs = 0;
  };

  // Delivery state.
  void install_delivery(const binding::Visitor& v, Runtime& rt, bool buffering);
  void remove_delivery(const binding::Visitor& v, Runtime& rt);
  void route_to_vm_link(const binding::Visitor& v, Runtime& rt);
  void seed_neighbour(const binding::Visitor& v, Runtime& rt);
  void flush_buffer(const binding::Visitor& v, Runtime& rt);
  void mark_resumed(const std::string& id, std::string_view how);
  void send_garp(const std::string& id);
  void acquire_endpoint(Runtime& rt, const dataplane::TunnelEndpoint& ep);
  void release_endpoint(Runtime& rt);
  // `on_durable` runs once the deletion is committed (what the caller may then acknowledge).
  void drop_visitor(const std::string& id, std::string_view why, StoreWriter::Done on_durable = nullptr);

  // Registration.
  // `on_durable` runs on the loop once the `registering` state is committed.
  [[nodiscard]] Result<void> begin_registration(const std::string& id,
                                                StoreWriter::Done on_durable = nullptr);
  void transmit(const std::string& id);
  void on_retransmit_timer(const std::string& id);
  void arm_renewal(const std::string& id);
  void handle_reply(const wire::RegistrationReply& reply, ByteView raw, store::Batch& batch,
                    std::vector<std::string>& completed);
  void handle_revocation(const wire::Revocation& rev, ByteView raw, Ipv4 src, std::uint16_t port);
  void fail_registration(const std::string& id, std::uint8_t code, std::string reason);
  void complete_waiters(const std::string& id);
  // Returns the Identification sent (nullopt if the request could not be built).
  std::optional<std::uint64_t> send_deregistration(const binding::Visitor& v);
  // Depart: deregister, keep delivering until the HA has answered (or kDepartLinger), then drop.
  void depart(const std::string& id, StoreWriter::Done on_durable = nullptr);
  void answer_home_arp(const binding::Visitor& v, ByteView arp_payload);
  [[nodiscard]] std::optional<auth::SecurityAssociation> fa_ha_for(Ipv4 ha) const;
  [[nodiscard]] std::optional<auth::SecurityAssociation> mn_ha_of(const binding::Visitor& v) const;
  [[nodiscard]] Result<Bytes> build_request(const binding::Visitor& v, std::uint16_t lifetime,
                                            std::uint64_t identification) const;
  [[nodiscard]] std::uint64_t fresh_identification(const binding::Visitor& v);

  // Store.
  [[nodiscard]] Result<void> commit(const store::Batch& batch);  // synchronous (start-up, prepare)
  void commit_async(store::Batch batch, std::string context, StoreWriter::Done on_durable = nullptr);
  [[nodiscard]] store::VisitorRecord to_record(const binding::Visitor& v) const;
  [[nodiscard]] binding::Visitor from_record(const store::VisitorRecord& r) const;
  void persist(const std::string& id, StoreWriter::Done on_durable = nullptr);  // asynchronous
  // A reply that is sent once `on_durable` has run (the response it makes is the answer).
  [[nodiscard]] static std::pair<api::Reply, StoreWriter::Done> reply_when_durable(
      std::function<api::Response(const Result<void>&)> make);

  void count_message(std::string_view result);
  void build_router();

  // API handlers (foreign_agent_api.cpp).
  api::Reply api_health(const api::Request&, const api::PathParams&);
  api::Reply api_metrics(const api::Request&, const api::PathParams&);
  api::Reply api_prepare(const api::Request&, const api::PathParams&);
  api::Reply api_list(const api::Request&, const api::PathParams&);
  api::Reply api_show(const api::Request&, const api::PathParams&);
  api::Reply api_activate(const api::Request&, const api::PathParams&);
  api::Reply api_resumed(const api::Request&, const api::PathParams&);
  api::Reply api_abort(const api::Request&, const api::PathParams&);
  api::Reply api_depart(const api::Request&, const api::PathParams&);
  [[nodiscard]] api::Json visitor_json(const binding::Visitor& v) const;

  boost::asio::io_context& io_;
  FaConfig config_;
  ForeignAgentIo seams_;
  StoreWriter store_;
  binding::VisitorList visitors_;
  std::map<std::string, Runtime, std::less<>> runtime_;
  bool anycast_ = false;
  int vm_ifindex_ = 0;
  MacAddress vm_mac_;
  std::map<Ipv4, SharedProxy> proxies_;                    // home gateway → its proxy entry
  std::map<MacAddress, GatewayLink> gateway_links_;        // anycast: gateway MAC → link
  std::unordered_map<Ipv4, int> endpoint_refs_;            // HA → visitors using its endpoint
  std::unordered_map<Ipv4, std::int64_t> clock_offset_s_;  // HA → offset learnt from a 133
  std::vector<Pending> pending_;
  TimePoint started_at_;
  bool stopped_ = false;
  api::Router router_;
  api::MetricsRegistry metrics_;
  api::Histogram* handover_seconds_ = nullptr;
  api::Counter* overflow_total_ = nullptr;
  api::Counter* buffered_total_ = nullptr;
  api::Counter* flushed_total_ = nullptr;
};

}  // namespace vmroam::fa
