// EbpfDriver: see ebpf_driver.hpp.
#include "common/dataplane/ebpf_driver.hpp"

#include <net/if.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "common/dataplane/sysctl.hpp"
#include "common/wire/ipv6.hpp"

namespace vmroam::dataplane {
namespace asio = boost::asio;
namespace {

constexpr std::size_t kTunBuffer = 65536;  // any packet the kernel hands a TUN without offloads
constexpr int kArphrdEther = 1;

// Every Ethernet link (veth, bridge, NIC) but ours (the vmr prefix) and those enslaved to a
// master (bridge ports, bond members): what they receive for this host reaches the master's
// ingress, which has the program. Attaching creates a clsact qdisc where there is none, and
// the kernel deactivates a device's queues while it grafts one (dev_deactivate waits for an RCU
// grace period, and what is sent meanwhile is dropped): a restarted agent must not do that to
// the port of a VM that moved in after its predecessor started.
std::vector<std::string> ethernet_links() {
  std::vector<std::string> out;
  struct if_nameindex* list = ::if_nameindex();
  if (list == nullptr) return out;
  for (struct if_nameindex* i = list; i->if_index != 0; ++i) {
    std::string name = i->if_name;
    if (name.rfind("vmr", 0) == 0) continue;
    if (::access(("/sys/class/net/" + name + "/master").c_str(), F_OK) == 0) continue;
    std::ifstream type("/sys/class/net/" + name + "/type");
    int t = 0;
    if (type >> t && t == kArphrdEther) out.push_back(name);
  }
  ::if_freenameindex(list);
  return out;
}

EbpfProgram link_program(const EbpfDriverConfig& c, const std::string& link) {
  if (c.key == LookupKey::destination) return EbpfProgram::ha_wan_in;
  return link == c.steering.reverse_iif ? EbpfProgram::fa_vm_in : EbpfProgram::fa_wan_in;
}

}  // namespace

Result<std::unique_ptr<EbpfDriver>> EbpfDriver::create(asio::io_context& io, Netlink& nl,
                                                       EbpfDriverConfig config) {
  VMROAM_TRY(auto object, EbpfObject::load(config.loader));
  SteeringConfig steering = config.steering;
  steering.key = config.key;
  // Plain IFF_TUN: the kernel segments GSO packets before handing them over.
  VMROAM_TRY(auto tun,
             SteeredTun::open(io, nl, {config.tun_name, config.mtu, /*vnet_header=*/false, steering}));
  std::unique_ptr<EbpfDriver> d(new EbpfDriver(std::move(config), std::move(object), std::move(tun)));
  const auto mtu = static_cast<std::uint16_t>(d->config_.mtu);
  VMROAM_TRY_VOID(d->maps_.set_config({d->config_.local, d->tun_ifindex(), mtu, d->config_.ttl}));
  VMROAM_TRY_VOID(d->attach(nl));
  d->tun_->watch([raw = d.get()] { raw->drain_tun(); });
  // The daemon restores its bindings before its loop runs: by the first turn of the loop the
  // maps hold everything it wants, and what is left over from a predecessor can go.
  asio::post(io, [raw = d.get(), alive = std::weak_ptr<int>(d->alive_)] {
    if (!alive.expired()) raw->reconcile();
  });
  return d;
}

EbpfDriver::EbpfDriver(EbpfDriverConfig config, std::unique_ptr<EbpfObject> object,
                       std::unique_ptr<SteeredTun> tun)
    : config_(std::move(config)),
      object_(std::move(object)),
      maps_(*object_),
      tun_(std::move(tun)),
      table_(config_.key, config_.local, config_.ttl),
      buf_(kTunBuffer) {
  if (config_.key == LookupKey::destination) offer_hold_port(this);
}

EbpfDriver::~EbpfDriver() {
  (void)object_->unpin_maps();  // a clean stop hands nothing over
  object_.reset();              // detaches the programs
  tun_->clear();                // the steering, then (with tun_) the TUN
}

Result<void> EbpfDriver::attach(Netlink& nl) {
  const std::vector<std::string> links = config_.links.empty() ? ethernet_links() : config_.links;
  if (links.empty()) return fail("no_links", "no Ethernet link to attach the eBPF programs to");
  Sysctl sysctl;
  for (const std::string& name : links) {
    VMROAM_TRY(LinkInfo l, nl.link(name));
    // bpf_fib_lookup answers only on forwarding devices (as ip_forward would), and
    // decapsulated packets enter here with sources whose reverse path is not this link
    // (HoAs at the HA, correspondents at the FA).
    (void)sysctl.set("net/ipv4/conf/" + name + "/forwarding", "1");
    (void)sysctl.set("net/ipv4/conf/" + name + "/rp_filter", "0");
    VMROAM_TRY_VOID(object_->attach(l.ifindex, link_program(config_, name)));
  }
  const bool ha = config_.key == LookupKey::destination;
  VMROAM_TRY_VOID(object_->attach(tun_ifindex(), ha ? EbpfProgram::ha_tun_out : EbpfProgram::fa_tun_out));
  if (ha) VMROAM_TRY_VOID(object_->attach(tun_ifindex(), EbpfProgram::ha_tun_in));
  return ok();
}

Result<void> EbpfDriver::add_tunnel_endpoint(const TunnelEndpoint& e) {
  VMROAM_TRY_VOID(table_.add_endpoint(e));
  const vmr_encap encap = e.encapsulation == Encapsulation::udp ? VMR_ENCAP_UDP : VMR_ENCAP_IPIP;
  return maps_.put_peer({e.peer, encap, e.udp_port});
}

Result<void> EbpfDriver::remove_tunnel_endpoint(Ipv4 peer) {
  if (!table_.has_endpoint(peer)) return fail("unknown_peer", peer.to_string());
  std::vector<Ipv4> affected = table_.hoas_of(peer);
  for (Ipv4 hoa : affected) {
    (void)tun_->unsteer(hoa, table_.home_addresses_v6(hoa));
    routes_.erase(hoa);
  }
  for (auto it = grace_.begin(); it != grace_.end();) {
    if (it->second != peer) {
      ++it;
      continue;
    }
    affected.push_back(it->first);
    it = grace_.erase(it);
  }
  VMROAM_TRY_VOID(table_.remove_endpoint(peer));
  for (Ipv4 hoa : affected) VMROAM_TRY_VOID(sync(hoa));
  return maps_.erase_peer(peer);  // after its routes: no packet finds a route without a peer
}

Result<void> EbpfDriver::route(Ipv4 hoa, Ipv4 peer) {
  if (!table_.has_endpoint(peer)) return fail("unknown_peer", peer.to_string());
  VMROAM_TRY_VOID(tun_->steer(hoa));  // the kernel's slow path
  VMROAM_TRY_VOID(table_.route(hoa, peer));
  auto [it, created] = routes_.try_emplace(hoa, peer);
  if (!created && it->second != peer) {
    grace_[hoa] = it->second;  // a move: the old peer's in-flight packets stay welcome
    it->second = peer;
  }
  VMROAM_TRY_VOID(sync(hoa));  // one map update switches the HoA (and its IPv6) to the new peer
  // Its VM's IPv6 addresses' slow path; a refusal is reported, the IPv4 route stands.
  return tun_->resteer6(hoa, {}, table_.home_addresses_v6(hoa));
}

Result<void> EbpfDriver::unroute(Ipv4 hoa) {
  VMROAM_TRY_VOID(table_.unroute(hoa));
  grace_[hoa] = routes_[hoa];
  routes_.erase(hoa);
  VMROAM_TRY_VOID(sync(hoa));
  return tun_->unsteer(hoa, table_.home_addresses_v6(hoa));
}

// The addresses go into the map whatever the HoA's state: the programs look an IPv6 packet's
// HoA up there, and the HoA's route entry (or its absence) decides the rest. New entries are
// written before the steering sends packets for them into the TUN; old ones are removed after
// it stopped.
Result<void> EbpfDriver::set_home_addresses_v6(Ipv4 hoa, const std::vector<Ipv6>& addresses) {
  const std::vector<Ipv6> gone = table_.set_home_addresses_v6(hoa, addresses);
  Result<void> done = ok();
  auto first_error = [&done](Result<void> r) {
    if (!r && done) done = std::move(r);
  };
  for (const Ipv6& a : addresses) first_error(maps_.put_address6(a, hoa));
  first_error(tun_->resteer6(hoa, gone, addresses));
  for (const Ipv6& a : gone)
    if (table_.owner_of(a).is_zero()) first_error(maps_.erase_address6(a));
  return done;
}

void EbpfDriver::end_grace(Ipv4 hoa) {
  table_.end_grace(hoa);
  if (grace_.erase(hoa)) (void)sync(hoa);
}

Result<void> EbpfDriver::sync(Ipv4 hoa) {
  EbpfRoute r{hoa, {}, {}, diverted_.contains(hoa), tapped_.contains(hoa)};
  if (auto it = routes_.find(hoa); it != routes_.end()) r.peer = it->second;
  if (auto it = grace_.find(hoa); it != grace_.end()) r.grace_peer = it->second;
  if (r.peer.is_zero() && r.grace_peer.is_zero() && !r.hold) return maps_.erase_route(hoa);
  return maps_.put_route(r);
}

void EbpfDriver::reconcile() {
  if (auto routes = maps_.routes()) {
    for (const EbpfRoute& r : *routes) {
      if (routes_.contains(r.hoa) || grace_.contains(r.hoa) || diverted_.contains(r.hoa)) continue;
      (void)maps_.erase_route(r.hoa);
      (void)maps_.erase_hoa_traffic(r.hoa);
    }
  }
  if (auto addresses = maps_.addresses6()) {
    for (const auto& [address, hoa] : *addresses)
      if (table_.owner_of(address) != hoa) (void)maps_.erase_address6(address);
  }
  if (auto peers = maps_.peers()) {
    for (const EbpfPeer& p : *peers)
      if (!table_.has_endpoint(p.address)) (void)maps_.erase_peer(p.address);
  }
}

TunnelStats EbpfDriver::stats() const {
  TunnelStats s = table_.stats();  // what went through user space
  for (auto& [peer, c] : s.peers) {
    const vmr_traffic t = maps_.peer_traffic(peer);
    c.tx_packets += t.tx_packets;
    c.tx_bytes += t.tx_bytes;
    c.rx_packets += t.rx_packets;
    c.rx_bytes += t.rx_bytes;
  }
  // Per HoA: the programs count tunnelled and decapsulated traffic under the HoA's key
  // (user-space deliveries, a handful of GRO'd datagrams, are in the peer counters only).
  for (const auto& [hoa, peer] : routes_) {
    (void)peer;
    const vmr_traffic t = maps_.hoa_traffic(hoa);
    s.hoas.push_back({hoa, PeerCounters{t.tx_packets, t.tx_bytes, t.rx_packets, t.rx_bytes}});
  }
  std::sort(s.hoas.begin(), s.hoas.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  const EbpfCounters k = maps_.counters();
  auto add = [&](DropReason r, vmr_counter c) { s.drops[static_cast<std::size_t>(r)] += k[c]; };
  add(DropReason::unknown_peer, VMR_DROP_UNKNOWN_PEER);
  add(DropReason::malformed, VMR_DROP_MALFORMED);
  add(DropReason::malformed, VMR_DROP_FRAGMENT);
  add(DropReason::peer_mismatch, VMR_DROP_PEER_MISMATCH);
  add(DropReason::no_endpoint, VMR_DROP_NO_ENDPOINT);
  add(DropReason::too_big, VMR_DROP_TOO_BIG);
  add(DropReason::send_failed, VMR_DROP_NO_ROUTE);
  add(DropReason::send_failed, VMR_DROP_ENCAP_FAILED);
  add(DropReason::send_failed, VMR_DROP_NO_TUN);
  return s;
}

void EbpfDriver::handle_udp_tunnel_payload(Ipv4 src, std::uint16_t src_port, ByteView payload) {
  (void)src_port;
  auto in = table_.accept_udp(src, payload);  // anti-spoofing and counters as in the programs
  if (!in) return;
  if (!tun_->write(in->inner)) {
    (void)table_.drop(DropReason::deliver_failed);
    return;
  }
  table_.count_delivered(*in);
  decapsulated(in->packet);
}

Result<void> EbpfDriver::divert(Ipv4 hoa, bool on) {
  if (config_.key != LookupKey::destination) return fail("not_supported", "divert: destination lookup only");
  if (on) {
    if (diverted_.contains(hoa)) return ok();
    // Tapped copies still queued in the TUN left before the divert: the recorder gets them
    // first, in order, and from now on the HoA's packets themselves come as diverted.
    drain_tun();
    // A VM at home has no route into the TUN: steer it there so that the kernel's packets for
    // it come to us too (the map's hold flag catches the fast path's).
    VMROAM_TRY_VOID(tun_->steer_for_hold(hoa, table_.home_addresses_v6(hoa)));
    diverted_.insert(hoa);
    return sync(hoa);
  }
  if (!diverted_.contains(hoa)) return ok();
  drain_tun();  // until EAGAIN: what the programs diverted so far goes to the sink first
  diverted_.erase(hoa);
  auto synced = sync(hoa);  // no hold flag: the programs tunnel (or pass) the HoA again
  VMROAM_TRY_VOID(tun_->end_hold_steering(hoa, table_.home_addresses_v6(hoa)));
  return synced;
}

Result<void> EbpfDriver::tap(Ipv4 hoa, bool on) {
  if (config_.key != LookupKey::destination) return fail("not_supported", "tap: destination lookup only");
  if (on == tapped_.contains(hoa)) return ok();
  if (on)
    tapped_.insert(hoa);
  else
    tapped_.erase(hoa);
  return sync(hoa);  // the route's tap flag: the programs clone what they tunnel to the TUN
}

Result<void> EbpfDriver::reinject(ByteView packet) {
  if (config_.key != LookupKey::destination)
    return fail("not_supported", "reinject: destination lookup only");
  // Into the TUN: its ingress program tunnels the packet per the binding in the map now, or,
  // with no route, the kernel delivers it on the home link.
  if (!tun_->write(packet)) return table_.drop(DropReason::deliver_failed);
  return ok();
}

void EbpfDriver::drain_tun() {
  for (;;) {
    ssize_t got = ::read(tun_->fd(), buf_.data(), buf_.size());
    if (got <= 0) return;  // EAGAIN: drained
    from_tun(ByteView(buf_.data(), static_cast<std::size_t>(got)));
  }
}

// What reaches the TUN's reader: packets of a diverted HoA (to the sink), copies of what the
// programs tunnelled to a tapped HoA (to the sink, stamped now: a few microseconds after they
// left), and packets the programs passed on because their HoA is not routed (any more).
void EbpfDriver::from_tun(ByteView packet) {
  // IPv6 multicast is the kernel's own (MLD when the TUN comes up): never a VM's, which the
  // programs leave to the kernel on the VM link. Not tunnelled, not counted (as TunnelTable's
  // "not_tunnelled").
  constexpr std::size_t kIpv6Destination = 24;
  if (wire::ip_version(packet) == 6 && packet.size() > kIpv6Destination && packet[kIpv6Destination] == 0xff)
    return;
  const Ipv4 hoa = table_.key_hoa(packet);  // an IPv6 packet's by the address's owner
  if (diverted_.contains(hoa)) {
    if (sink_) sink_(Seen::diverted, hoa, std::chrono::system_clock::now(), packet);
    return;
  }
  // A routed, tapped HoA's packets reach the TUN's reader only as tapped copies (the egress
  // program tunnels the kernel's own).
  if (tapped_.contains(hoa) && routes_.contains(hoa)) {
    if (sink_) sink_(Seen::tapped, hoa, std::chrono::system_clock::now(), packet);
    return;
  }
  if (config_.key == LookupKey::source) {
    (void)table_.drop(DropReason::no_route);  // RFC 3024: a visitor's packet never leaves bare
    return;
  }
  // HA: a packet for a HoA that just came home or was undiverted: the TUN's ingress program
  // tunnels it if the HoA is routed again, otherwise the kernel delivers it on the home link.
  if (!tun_->write(packet)) (void)table_.drop(DropReason::deliver_failed);
}

}  // namespace vmroam::dataplane
