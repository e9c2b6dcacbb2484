// TunnelDriver: the seam between the agents and whatever moves tunnelled packets.
//
// Both agents use the same five verbs:
//   * HA: add_tunnel_endpoint(CoA), route(HoA → CoA): the kernel's traffic for HoA goes into
//     the tunnel and is encapsulated to the CoA (RFC 5944 §4.2.3, RFC 2003 / RFC 3519);
//     decapsulated reverse-tunnelled packets (RFC 3024) are handed to the kernel to route on.
//   * FA: add_tunnel_endpoint(HA), route(HoA → HA): everything the visiting VM sends (policy
//     routing steers it into the tunnel) is encapsulated to the VM's HA, chosen by the inner
//     *source* address (RFC 3024 §5.2); packets decapsulated from the HA go to the kernel,
//     which delivers them to the VM through its host route.
// Which inner address selects the peer is the driver's LookupKey (destination at the HA,
// source at the FA), fixed at construction.
//
// Implementations: "userspace" (TUN + raw IPPROTO_IPIP socket + the daemon's UDP 434 socket;
// also a HoldPort) and "kernel" (one libnl ipip device per peer; no HoldPort); see
// docs/dataplane.md "How a driver plugs in". FakeTunnelDriver in tests/fakes records calls for
// the agents' unit tests.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/binding/tunnel.hpp"
#include "common/core/address.hpp"
#include "common/core/address6.hpp"
#include "common/core/bytes.hpp"
#include "common/core/result.hpp"
#include "common/dataplane/hold_port.hpp"
#include "common/wire/mobile_ip.hpp"

namespace vmroam::dataplane {

// A tunnel uses the encapsulation its binding negotiated (RFC 2003 IP-in-IP, or RFC 3519 UDP
// to port 434 by default): one type for the binding cache, the visitor list and the drivers.
using binding::Encapsulation;
using binding::to_string;

// Which inner address picks the peer an outbound packet is tunnelled to.
enum class LookupKey : std::uint8_t {
  destination,  // HA: inner destination = HoA → its care-of address
  source,       // FA: inner source = HoA of a visitor → its home agent (reverse tunnel)
};

struct TunnelEndpoint {
  Ipv4 peer;  // CoA (at the HA) or HA address (at the FA)
  Encapsulation encapsulation = Encapsulation::ipip;
  std::uint16_t udp_port = mip::kRegistrationPort;  // peer's UDP port (NAT may change it)
  friend bool operator==(const TunnelEndpoint&, const TunnelEndpoint&) = default;
};

// Why a packet was not forwarded. Every drop is counted under exactly one reason.
enum class DropReason : std::uint8_t {
  unknown_peer,    // outer source is not a registered tunnel endpoint
  malformed,       // not a valid IPv4 / IP-in-IP / RFC 3519 packet
  no_route,        // outbound inner address has no route (no binding/visitor)
  peer_mismatch,   // inbound inner address is not bound to the sending peer (anti-spoof)
  no_endpoint,     // routed to a peer whose endpoint was removed
  too_big,         // encapsulated packet exceeds the buffer or path MTU
  send_failed,     // the outer socket refused the packet
  deliver_failed,  // writing the inner packet to the kernel (TUN) failed
  hold_full,       // a handover hold's queue was full (tail drop; counted by HandoverHold)
  count_,
};
inline constexpr std::size_t kDropReasonCount = static_cast<std::size_t>(DropReason::count_);
[[nodiscard]] constexpr std::string_view to_string(DropReason r) {
  constexpr std::array<std::string_view, kDropReasonCount> kNames = {
      "unknown_peer", "malformed",   "no_route",       "peer_mismatch", "no_endpoint",
      "too_big",      "send_failed", "deliver_failed", "hold_full"};
  return kNames[static_cast<std::size_t>(r)];
}

struct PeerCounters {
  std::uint64_t tx_packets = 0;  // encapsulated and sent to this peer
  std::uint64_t tx_bytes = 0;    // outer bytes
  std::uint64_t rx_packets = 0;  // accepted from this peer and delivered
  std::uint64_t rx_bytes = 0;    // inner bytes delivered
  friend bool operator==(const PeerCounters&, const PeerCounters&) = default;
};

struct TunnelStats {
  std::vector<std::pair<Ipv4, PeerCounters>> peers;  // sorted by address
  // Per routed HoA (a binding at the HA, a visitor at the FA), from drivers that count per HoA
  // (the eBPF driver's per-HoA map); empty otherwise. Sorted by address.
  std::vector<std::pair<Ipv4, PeerCounters>> hoas;
  std::array<std::uint64_t, kDropReasonCount> drops{};
  [[nodiscard]] std::uint64_t dropped(DropReason r) const { return drops[static_cast<std::size_t>(r)]; }
  [[nodiscard]] const PeerCounters* peer(Ipv4 a) const { return find(peers, a); }
  [[nodiscard]] const PeerCounters* hoa(Ipv4 a) const { return find(hoas, a); }

 private:
  static const PeerCounters* find(const std::vector<std::pair<Ipv4, PeerCounters>>& v, Ipv4 a) {
    for (const auto& [addr, c] : v)
      if (addr == a) return &c;
    return nullptr;
  }
};

// Called once per decapsulated inner packet that was delivered, for accounting (e.g. the FA
// noticing the first packet for a visitor, or per-binding byte counters). Runs on the loop.
struct DecapsulatedPacket {
  Ipv4 peer;
  Ipv4 inner_src;  // IPv4 inner packets; 0.0.0.0 for IPv6 ones
  Ipv4 inner_dst;
  std::size_t inner_bytes = 0;
  bool ipv6 = false;  // a dual-stack VM's IPv6 packet (RFC 5454)
};
using DecapsulatedHook = std::function<void(const DecapsulatedPacket&)>;

// Nine virtual verbs, the tunnel's own; the handover hold has its own seam (HoldPort), which
// a driver offers beside this one when it can (hold_port()).
class TunnelDriver {
 public:
  virtual ~TunnelDriver() = default;
  // Idempotent for an identical endpoint; changing a peer's encapsulation/port updates it.
  virtual Result<void> add_tunnel_endpoint(const TunnelEndpoint& endpoint) = 0;
  // Also drops every route to that peer.
  virtual Result<void> remove_tunnel_endpoint(Ipv4 peer) = 0;
  // Tunnel the HoA's traffic to `peer` (which must be an endpoint). Re-routing an HoA to
  // another peer replaces the old route (a move).
  virtual Result<void> route(Ipv4 hoa, Ipv4 peer) = 0;
  virtual Result<void> unroute(Ipv4 hoa) = 0;
  [[nodiscard]] virtual TunnelStats stats() const = 0;
  // The daemon owns the UDP 434 socket (registrations share it, RFC 3519 §3.3): it calls this
  // for every datagram whose first byte is 4 (tunnel data). Never fails: a bad payload is
  // dropped and counted.
  virtual void handle_udp_tunnel_payload(Ipv4 src, std::uint16_t src_port, ByteView payload) = 0;
  // Handover grace. After route() moved a HoA to another peer, or unroute() removed it, the
  // previous peer may still deliver packets that were in flight across the handover (the
  // reverse tunnel of RFC 3024 from the FA the VM just left). Until end_grace(hoa) the driver
  // keeps accepting the HoA from that previous peer, and (destination lookup, at the HA) hands
  // packets the kernel had already queued for an unrouted HoA back to the kernel, which now
  // delivers them on the home link, instead of dropping them.
  virtual void end_grace(Ipv4 hoa) = 0;
  [[nodiscard]] virtual std::string_view name() const = 0;
  // Dual-stack VMs (RFC 5454, docs/dataplane.md "IPv6"): the IPv6 home addresses of `hoa`'s VM,
  // replacing the previous list. They follow `hoa`'s route — steered into the tunnel while it is
  // routed, to the same peer, in the same encapsulation, accepted from that peer only as their
  // inner address — so a move or an unroute needs no second call. The default: a driver that
  // cannot carry IPv6 says so for a non-empty list ("not_supported"); the agents log it and the
  // VM's IPv4 goes on working.
  virtual Result<void> set_home_addresses_v6(Ipv4 hoa, const std::vector<Ipv6>& addresses) {
    if (addresses.empty()) return ok();
    return fail("not_supported",
                std::string(name()) + " data plane carries no IPv6 (" + hoa.to_string() + ")");
  }

  // Called for every decapsulated packet the driver delivers, if the driver sees them (the
  // kernel driver does not).
  void set_decapsulated_hook(DecapsulatedHook hook) { hook_ = std::move(hook); }
  // The handover hold's seam (hold_port.hpp), or null: this driver cannot hold packets.
  [[nodiscard]] HoldPort* hold_port() const { return hold_port_; }

 protected:
  void decapsulated(const DecapsulatedPacket& p) const {
    if (hook_) hook_(p);
  }
  void offer_hold_port(HoldPort* port) { hold_port_ = port; }

 private:
  DecapsulatedHook hook_;
  HoldPort* hold_port_ = nullptr;
};

}  // namespace vmroam::dataplane
