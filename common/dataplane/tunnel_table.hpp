// TunnelTable: the pure core of the userspace data plane — which peer an outbound packet is
// tunnelled to, whether an inbound tunnelled packet is acceptable, and the counters.
// No I/O: UserspaceDriver feeds it bytes from the TUN device and the sockets.
//
// Outbound (kernel → TUN → here): look the inner packet's destination (HA) or source (FA)
// up in HoA → peer, encapsulate for that peer's endpoint (RFC 2003 header built by
// wire::ipip_encapsulate: TOS and DF copied from the inner header, TTL from config; or the
// RFC 3519 type-4 header for UDP).
// Inbound (raw socket / UDP 434 → here): accept only from a registered endpoint; the inner
// packet must belong to a binding routed to that same peer (HA: inner source is a HoA bound
// to the sender, RFC 3024 §4.2 "the HA must verify the inner source"; FA: inner destination
// is a visitor whose HA is the sender), so a peer cannot inject traffic for others.
// Lookups never allocate; only add/route do (control plane).
//
// Dual-stack VMs (RFC 5454): a HoA's IPv6 home addresses ride with its binding. An IPv6 inner
// packet is looked up by its IPv6 address (destination at the HA, source at the FA), which
// names the IPv4 HoA that owns it; from there everything is as for IPv4 — the same peer, the
// same encapsulation (IPv6-in-IPv4, protocol 41, RFC 4213 §3.5; or RFC 3519 UDP with Next
// Header 41), the same anti-spoofing (RFC 3024 §4.2: an inner IPv6 source that is not one of the
// sending peer's bindings' addresses is dropped as peer_mismatch), the same handover grace.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "common/core/address.hpp"
#include "common/core/address6.hpp"
#include "common/core/bytes.hpp"
#include "common/core/result.hpp"
#include "common/dataplane/tunnel_driver.hpp"

namespace vmroam::dataplane {

struct Outbound {
  TunnelEndpoint endpoint;
  std::size_t size = 0;  // bytes written to `out`: outer IPv4 packet (ipip) or UDP payload (udp)
};

struct Inbound {
  DecapsulatedPacket packet;
  ByteView inner;  // view into the caller's buffer
};

class TunnelTable {
 public:
  TunnelTable(LookupKey key, Ipv4 local, std::uint8_t ttl) : key_(key), local_(local), ttl_(ttl) {}

  Result<void> add_endpoint(const TunnelEndpoint& e);
  Result<void> remove_endpoint(Ipv4 peer);  // and its routes
  Result<void> route(Ipv4 hoa, Ipv4 peer);
  Result<void> unroute(Ipv4 hoa);
  // Handover grace (see TunnelDriver::end_grace): the peer a HoA was routed to before.
  [[nodiscard]] bool in_grace(Ipv4 hoa) const { return previous_.contains(hoa); }
  void end_grace(Ipv4 hoa) { previous_.erase(hoa); }
  [[nodiscard]] bool has_endpoint(Ipv4 peer) const { return peers_.contains(peer); }
  [[nodiscard]] bool routed(Ipv4 hoa) const { return routes_.contains(hoa); }
  [[nodiscard]] const TunnelEndpoint* endpoint(Ipv4 peer) const;
  [[nodiscard]] std::vector<Ipv4> hoas_of(Ipv4 peer) const;  // control plane only

  // The IPv6 home addresses of `hoa`'s VM, replacing the previous list (an address another HoA
  // held moves to this one). Returns the addresses `hoa` no longer has. Needs no route: the
  // addresses follow whatever route `hoa` has, now or later.
  std::vector<Ipv6> set_home_addresses_v6(Ipv4 hoa, const std::vector<Ipv6>& addresses);
  [[nodiscard]] const std::vector<Ipv6>& home_addresses_v6(Ipv4 hoa) const;
  // The IPv4 HoA that owns an IPv6 home address (0.0.0.0: none).
  [[nodiscard]] Ipv4 owner_of(const Ipv6& address) const;
  // The HoA an inner packet of either version belongs to by the lookup key (0.0.0.0 when it is
  // too short to say or names no HoA we know).
  [[nodiscard]] Ipv4 key_hoa(ByteView inner) const;

  // Errors carry a DropReason name as code and are already counted — except "in_grace": a
  // destination-keyed packet for a HoA unrouted moments ago, which the driver gives back to
  // the kernel (not a drop).
  Result<Outbound> encapsulate(ByteView inner, std::span<std::uint8_t> out);
  Result<Inbound> accept_ipip(ByteView outer_packet);
  Result<Inbound> accept_udp(Ipv4 src, ByteView udp_payload);

  // The driver reports what happened after the I/O.
  void count_sent(Ipv4 peer, std::size_t outer_bytes);
  void count_delivered(const Inbound& in);
  // drop(): counts and returns the error to pass on; count(): counts only.
  Unexpected drop(DropReason r);
  void count(DropReason r) { ++drops_[static_cast<std::size_t>(r)]; }

  [[nodiscard]] TunnelStats stats() const;
  [[nodiscard]] LookupKey lookup_key() const { return key_; }

 private:
  struct Peer {
    TunnelEndpoint endpoint;
    PeerCounters counters;
  };
  Result<Inbound> check_inner(Ipv4 peer, ByteView inner);
  // The lookup key of an outbound packet as the HoA it belongs to; errors are counted, except
  // "not_tunnelled" (an IPv6 multicast: the kernel's own neighbour discovery, never a VM's).
  Result<Ipv4> outbound_hoa(ByteView inner);

  LookupKey key_;
  Ipv4 local_;
  std::uint8_t ttl_;
  std::unordered_map<Ipv4, Peer> peers_;
  std::unordered_map<Ipv4, Ipv4> routes_;    // HoA → peer
  std::unordered_map<Ipv4, Ipv4> previous_;  // HoA → the peer it was routed to before (grace)
  std::unordered_map<Ipv6, Ipv4> owner6_;    // IPv6 home address → its IPv4 HoA
  std::unordered_map<Ipv4, std::vector<Ipv6>> v6_of_;
  std::array<std::uint64_t, kDropReasonCount> drops_{};
};

}  // namespace vmroam::dataplane
