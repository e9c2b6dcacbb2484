// Delivery: the kernel state that carries a visitor's packets, per visitor, all tagged
// (protocol 186, our rule priorities, links named vmr…) and owned by RAII handles.
//
//   * HoA/32 dev <vm link> proto 186 — or, while the visitor is buffering, HoA/32 dev <buffer
//     TUN> proto 186, so that early packets reach us instead of an ARP queue (VisitorBuffer);
//     a dual-stack VM's IPv6 home addresses likewise (/128s), and its anycast rules too;
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
//     with the VM link's MAC when the VM runs here, repeated on delivery.garp_schedule_ms
//     (one timer per visitor, offsets from the resume).
//
// A kernel object that cannot be created is logged and counted out (the visitor still gets
// everything else); delivery degrades, the control plane goes on. Removal errors are logged:
// the object may already be gone with its link.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/core/asio.hpp"

#include "common/binding/visitor_list.hpp"
#include "common/dataplane/netlink.hpp"
#include "common/dataplane/tunnel_driver.hpp"
#include "common/wire/ethernet.hpp"
#include "common/wire/ndp.hpp"
#include "foreign-agent/config.hpp"

namespace vmroam::fa {

// The OS seams delivery uses (a subset of ForeignAgentIo).
struct DeliveryIo {
  dataplane::Netlink* netlink = nullptr;
  dataplane::TunnelDriver* driver = nullptr;
  std::function<void(ByteView frame)> send_vm_frame;  // may be empty: no garp, no ARP answers
  int buffer_ifindex = 0;                             // 0: no buffer TUN
  std::function<Result<std::string>(const MacAddress& mac)> add_gateway_link;  // empty: no anycast
  std::function<void(const std::string& name)> remove_gateway_link;
};

// How a frame from an awaited VM shows that it runs here (the `how` of its resume): "rarp",
// "arp", "na" (its unsolicited Neighbor Advertisement, RFC 4861 §7.2.6) or "ip".
[[nodiscard]] std::string_view arrival_kind(const wire::EthernetFrame& eth, ByteView frame);

class Delivery {
 public:
  // `config` is the agent's, read at each call (a reload changes the garp schedule).
  Delivery(boost::asio::io_context& io, DeliveryIo seams, const FaConfig& config);
  ~Delivery();
  Delivery(const Delivery&) = delete;
  Delivery& operator=(const Delivery&) = delete;

  // Finds the VM link. Error "vm_interface_missing".
  [[nodiscard]] Result<void> open();
  // Start-up: removes what a predecessor left that none of `visitors` explains (identical
  // objects are adopted when install() recreates them).
  void reconcile(const binding::VisitorList& visitors);

  // Everything above for `v`; HoA routes to the buffer TUN when `to_buffer` and buffering is
  // possible (buffer_bytes > 0 and a buffer TUN). Returns whether it does.
  bool install(const binding::Visitor& v, bool to_buffer);
  // The VM runs here: fresh neighbour entry, HoA/32 to the VM link, and (garp mode) the
  // gratuitous ARP schedule starts.
  void resume(const binding::Visitor& v);
  // The HA declined UDP tunnelling: its endpoint becomes IP-in-IP (RFC 3519 §3.2).
  void use_ipip(const binding::Visitor& v);
  void remove(const binding::Visitor& v);
  // Removes every visitor's objects (clean shutdown).
  void remove_all(const binding::VisitorList& visitors);

  // The frame answering the VM's ARP request for another home address, if it gets one.
  [[nodiscard]] std::optional<Bytes> home_arp_answer(const binding::Visitor& v, ByteView arp_payload) const;
  // The frame answering what the VM asked of its home link — ARP (home_arp_answer) or a
  // Neighbor Solicitation (home_ns_answer) — if it gets one, with the metric result naming it.
  struct Answer {
    Bytes frame;
    std::string_view metric;  // "home_arp_answered" | "home_ns_answered"
  };
  [[nodiscard]] std::optional<Answer> home_link_answer(const binding::Visitor& v,
                                                       const wire::EthernetFrame& eth, ByteView frame) const;
  // The frame answering the VM's Neighbor Solicitation for its home gateway or another home
  // address (dual-stack VMs), if it gets one.
  [[nodiscard]] std::optional<Bytes> home_ns_answer(const binding::Visitor& v,
                                                    const wire::NeighborSolicitation& ns) const;
  [[nodiscard]] bool anycast() const { return anycast_; }

 private:
  struct State;
  struct SharedProxy {
    dataplane::OwnedProxyNeighbour entry;
    int refs = 0;
  };
  struct GatewayLink {
    std::string name;
    int refs = 0;
  };
  void reconcile_v6(const dataplane::OwnedObjects& owned, const binding::VisitorList& visitors);
  void install_anycast(const binding::Visitor& v, State& st);
  void install_proxy(const binding::Visitor& v, const State& st);
  void install_reverse_tunnel(const binding::Visitor& v, State& st);
  void route_to_vm_link(const binding::Visitor& v, State& st);
  void seed_neighbour(const binding::Visitor& v, State& st);
  void release_shared(const binding::Visitor& v, State& st);
  void send_garp(const std::string& id, Ipv4 gateway);

  boost::asio::io_context& io_;
  DeliveryIo seams_;
  const FaConfig& config_;
  bool anycast_ = false;
  int vm_ifindex_ = 0;
  MacAddress vm_mac_;
  std::map<std::string, std::unique_ptr<State>, std::less<>> visitors_;
  std::map<Ipv4, SharedProxy> proxies_;              // home gateway → its proxy entry
  std::map<MacAddress, GatewayLink> gateway_links_;  // anycast: gateway MAC → link
  std::unordered_map<Ipv4, int> endpoint_refs_;      // HA → visitors using its endpoint
};

}  // namespace vmroam::fa
