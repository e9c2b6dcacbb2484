// TunnelTable: see tunnel_table.hpp.
#include "common/dataplane/tunnel_table.hpp"

#include <algorithm>

#include "common/wire/ipip.hpp"
#include "common/wire/ipv4.hpp"
#include "common/wire/ipv6.hpp"
#include "common/wire/mobile_ip.hpp"
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

std::vector<Ipv6> TunnelTable::set_home_addresses_v6(Ipv4 hoa, const std::vector<Ipv6>& addresses) {
  std::vector<Ipv6> gone;
  if (auto it = v6_of_.find(hoa); it != v6_of_.end()) {
    for (const Ipv6& a : it->second)
      if (std::find(addresses.begin(), addresses.end(), a) == addresses.end()) {
        gone.push_back(a);
        owner6_.erase(a);
      }
    v6_of_.erase(it);
  }
  for (const Ipv6& a : addresses) {
    // An address another HoA held moves here (its VM was redefined).
    if (auto o = owner6_.find(a); o != owner6_.end() && o->second != hoa) std::erase(v6_of_[o->second], a);
    owner6_[a] = hoa;
  }
  if (!addresses.empty()) v6_of_[hoa] = addresses;
  return gone;
}

const std::vector<Ipv6>& TunnelTable::home_addresses_v6(Ipv4 hoa) const {
  static const std::vector<Ipv6> kNone;
  auto it = v6_of_.find(hoa);
  return it == v6_of_.end() ? kNone : it->second;
}

Ipv4 TunnelTable::owner_of(const Ipv6& address) const {
  auto it = owner6_.find(address);
  return it == owner6_.end() ? Ipv4() : it->second;
}

Ipv4 TunnelTable::key_hoa(ByteView inner) const {
  const bool dst = key_ == LookupKey::destination;
  if (wire::ip_version(inner) == 6) {
    if (inner.size() < wire::kIpv6FixedHeaderSize) return Ipv4();
    Ipv6::Octets b{};
    std::copy_n(inner.begin() + (dst ? 24 : 8), 16, b.begin());
    return owner_of(Ipv6(b));
  }
  if (inner.size() < 20) return Ipv4();
  const std::size_t at = dst ? 16 : 12;
  return Ipv4((std::uint32_t{inner[at]} << 24) | (std::uint32_t{inner[at + 1]} << 16) |
              (std::uint32_t{inner[at + 2]} << 8) | std::uint32_t{inner[at + 3]});
}

Result<Ipv4> TunnelTable::outbound_hoa(ByteView inner) {
  const bool dst = key_ == LookupKey::destination;
  if (wire::ip_version(inner) == 6) {
    auto h = wire::parse_ipv6(inner);
    if (!h) return drop(DropReason::malformed);
    const Ipv6& key = dst ? h->dst : h->src;
    if (dst && key.is_multicast()) return fail("not_tunnelled");
    const Ipv4 hoa = owner_of(key);
    if (hoa.is_zero()) return drop(DropReason::no_route);
    return hoa;
  }
  auto h = wire::parse_ipv4(inner);
  if (!h) return drop(DropReason::malformed);
  return dst ? h->dst : h->src;
}

Result<Outbound> TunnelTable::encapsulate(ByteView inner, std::span<std::uint8_t> out) {
  VMROAM_TRY(Ipv4 key, outbound_hoa(inner));
  auto r = routes_.find(key);
  if (r == routes_.end()) {
    if (key_ == LookupKey::destination && previous_.contains(key)) return fail("in_grace");
    return drop(DropReason::no_route);
  }
  auto p = peers_.find(r->second);
  if (p == peers_.end()) return drop(DropReason::no_endpoint);  // can't happen: routes follow peers
  const TunnelEndpoint& ep = p->second.endpoint;
  const wire::IpipParams params{local_, ep.peer, ttl_, 0};
  Result<std::size_t> n = ep.encapsulation == Encapsulation::udp ? wire::udp_tunnel_encapsulate(inner, out)
                          : wire::ip_version(inner) == 6 ? wire::ipv6_in_ipv4_encapsulate(inner, params, out)
                                                         : wire::ipip_encapsulate(inner, params, out);
  if (!n) {
    if (n.error().code == "buffer_too_small" || n.error().code == "too_big") return drop(DropReason::too_big);
    return drop(DropReason::malformed);
  }
  return Outbound{ep, *n};
}

Result<Inbound> TunnelTable::check_inner(Ipv4 peer, ByteView inner) {
  // The inner address that names the binding is the mirror of the outbound lookup key.
  const bool src = key_ == LookupKey::destination;
  DecapsulatedPacket packet{peer, Ipv4(), Ipv4(), inner.size()};
  Ipv4 hoa;
  if (wire::ip_version(inner) == 6) {
    auto h = wire::parse_ipv6(inner);
    if (!h) return drop(DropReason::malformed);
    hoa = owner_of(src ? h->src : h->dst);
    packet.ipv6 = true;
    if (hoa.is_zero()) return drop(DropReason::peer_mismatch);  // no binding's IPv6 address
  } else {
    auto h = wire::parse_ipv4(inner);
    if (!h) return drop(DropReason::malformed);
    hoa = src ? h->src : h->dst;
    packet.inner_src = h->src;
    packet.inner_dst = h->dst;
  }
  auto r = routes_.find(hoa);
  const bool current = r != routes_.end() && r->second == peer;
  auto prev = previous_.find(hoa);
  const bool previous = prev != previous_.end() && prev->second == peer;
  if (!current && !previous) return drop(DropReason::peer_mismatch);
  return Inbound{packet, inner};
}

Result<Inbound> TunnelTable::accept_ipip(ByteView outer_packet) {
  auto outer = wire::parse_ipv4(outer_packet);
  if (!outer) return drop(DropReason::malformed);
  if (!peers_.contains(outer->src)) return drop(DropReason::unknown_peer);
  // Protocol 41 carries a dual-stack VM's IPv6 (RFC 4213 §3.5), 4 its IPv4 (RFC 2003).
  auto d = outer->protocol == mip::kIpProtoIpv6 ? wire::ipv6_in_ipv4_decapsulate(outer_packet)
                                                : wire::ipip_decapsulate(outer_packet);
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
