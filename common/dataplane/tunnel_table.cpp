// TunnelTable: see tunnel_table.hpp.
#include "common/dataplane/tunnel_table.hpp"

#include <algorithm>

#include "common/wire/ipip.hpp"
#include "common/wire/ipv4.hpp"
#include "common/wire/udp_tunnel.hpp"

namespace vmroam::dataplane {

Result<void> TunnelTable::add_endpoint(const TunnelEndpoint& e) {
  if (e.peer.is_zero()) return fail("bad_endpoint", "peer 0.0.0.0");
  if (e.encapsulation == Encapsulation::udp && e.udp_port == 0) return fail("bad_endpoint", "udp port 0");
  auto& p = peers_[e.peer];
  p.endpoint = e;  // an update keeps the counters
  return ok();
}

Result<void> TunnelTable::remove_endpoint(Ipv4 peer) {
  if (!peers_.erase(peer)) return fail("unknown_peer", peer.to_string());
  std::erase_if(routes_, [&](const auto& kv) { return kv.second == peer; });
  std::erase_if(previous_, [&](const auto& kv) { return kv.second == peer; });
  return ok();
}

Result<void> TunnelTable::route(Ipv4 hoa, Ipv4 peer) {
  if (!peers_.contains(peer)) return fail("unknown_peer", peer.to_string());
  auto [it, created] = routes_.try_emplace(hoa, peer);
  if (!created && it->second != peer) {
    previous_[hoa] = it->second;  // a move: the old peer's in-flight packets stay welcome
    it->second = peer;
  }
  return ok();
}

Result<void> TunnelTable::unroute(Ipv4 hoa) {
  auto it = routes_.find(hoa);
  if (it == routes_.end()) return fail("no_route", hoa.to_string());
  previous_[hoa] = it->second;
  routes_.erase(it);
  return ok();
}

const TunnelEndpoint* TunnelTable::endpoint(Ipv4 peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() ? nullptr : &it->second.endpoint;
}

std::vector<Ipv4> TunnelTable::hoas_of(Ipv4 peer) const {
  std::vector<Ipv4> out;
  for (const auto& [hoa, p] : routes_)
    if (p == peer) out.push_back(hoa);
  return out;
}

Unexpected TunnelTable::drop(DropReason r) {
  count(r);
  return fail(to_string(r));
}

Result<Outbound> TunnelTable::encapsulate(ByteView inner, std::span<std::uint8_t> out) {
  auto h = wire::parse_ipv4(inner);
  if (!h) return drop(DropReason::malformed);
  const Ipv4 key = key_ == LookupKey::destination ? h->dst : h->src;
  auto r = routes_.find(key);
  if (r == routes_.end()) {
    if (key_ == LookupKey::destination && previous_.contains(key)) return fail("in_grace");
    return drop(DropReason::no_route);
  }
  auto p = peers_.find(r->second);
  if (p == peers_.end()) return drop(DropReason::no_endpoint);  // can't happen: routes follow peers
  const TunnelEndpoint& ep = p->second.endpoint;
  Result<std::size_t> n = ep.encapsulation == Encapsulation::ipip
                              ? wire::ipip_encapsulate(inner, wire::IpipParams{local_, ep.peer, ttl_, 0}, out)
                              : wire::udp_tunnel_encapsulate(inner, out);
  if (!n) {
    if (n.error().code == "buffer_too_small" || n.error().code == "too_big") return drop(DropReason::too_big);
    return drop(DropReason::malformed);
  }
  return Outbound{ep, *n};
}

Result<Inbound> TunnelTable::check_inner(Ipv4 peer, ByteView inner) {
  auto h = wire::parse_ipv4(inner);
  if (!h) return drop(DropReason::malformed);
  // The inner address that names the binding is the mirror of the outbound lookup key.
  const Ipv4 hoa = key_ == LookupKey::destination ? h->src : h->dst;
  auto r = routes_.find(hoa);
  const bool current = r != routes_.end() && r->second == peer;
  auto prev = previous_.find(hoa);
  const bool previous = prev != previous_.end() && prev->second == peer;
  if (!current && !previous) return drop(DropReason::peer_mismatch);
  return Inbound{DecapsulatedPacket{peer, h->src, h->dst, inner.size()}, inner};
}

Result<Inbound> TunnelTable::accept_ipip(ByteView outer_packet) {
  auto outer = wire::parse_ipv4(outer_packet);
  if (!outer) return drop(DropReason::malformed);
  if (!peers_.contains(outer->src)) return drop(DropReason::unknown_peer);
  auto d = wire::ipip_decapsulate(outer_packet);
  if (!d) return drop(DropReason::malformed);
  return check_inner(d->outer_src, d->inner);
}

Result<Inbound> TunnelTable::accept_udp(Ipv4 src, ByteView udp_payload) {
  // Any registered peer may use UDP (it may have fallen back after a NAT appeared); the
  // source port is not checked because a NAT may rebind it (RFC 3519 §5.3).
  if (!peers_.contains(src)) return drop(DropReason::unknown_peer);
  auto inner = wire::udp_tunnel_decapsulate(udp_payload);
  if (!inner) return drop(DropReason::malformed);
  return check_inner(src, *inner);
}

void TunnelTable::count_sent(Ipv4 peer, std::size_t outer_bytes) {
  auto p = peers_.find(peer);
  if (p == peers_.end()) return;
  ++p->second.counters.tx_packets;
  p->second.counters.tx_bytes += outer_bytes;
}

void TunnelTable::count_delivered(const Inbound& in) {
  auto p = peers_.find(in.packet.peer);
  if (p == peers_.end()) return;
  ++p->second.counters.rx_packets;
  p->second.counters.rx_bytes += in.packet.inner_bytes;
}

TunnelStats TunnelTable::stats() const {
  TunnelStats s;
  s.drops = drops_;
  for (const auto& [addr, p] : peers_) s.peers.emplace_back(addr, p.counters);
  std::sort(s.peers.begin(), s.peers.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return s;
}

}  // namespace vmroam::dataplane
