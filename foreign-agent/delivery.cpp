// Delivery: routes, neighbour seeding, proxy ARP, anycast gateway links, garp (see the header).
#include "foreign-agent/delivery.hpp"

#include <algorithm>
#include <chrono>

#include "common/core/log.hpp"
#include "common/wire/ethernet.hpp"
#include "common/wire/mobile_ip.hpp"
#include "common/wire/ndp.hpp"

namespace vmroam::fa {

namespace {

using binding::Visitor;
using binding::VisitorState;

// Our anycast rules sit one above the driver's reverse-tunnel rules, inside our range.
constexpr std::uint32_t kAnycastRuleOffset = 1;

dataplane::Encapsulation to_dataplane(binding::Encapsulation e) {
  return e == binding::Encapsulation::udp ? dataplane::Encapsulation::udp : dataplane::Encapsulation::ipip;
}

// One /128 route per IPv6 home address of `v` (dual-stack VMs) on `ifindex`; what the kernel
// refuses is logged and left out.
std::vector<dataplane::OwnedRoute6> host_routes6(dataplane::Netlink& nl, const Visitor& v, int ifindex,
                                                 std::string_view what) {
  std::vector<dataplane::OwnedRoute6> out;
  for (const Ipv6& a : v.home_addresses_v6) {
    auto r = dataplane::OwnedRoute6::create(nl, {{a, 128}, ifindex, dataplane::kMainTable});
    if (r)
      out.push_back(std::move(*r));
    else
      log_error(what, {{"hoa", a.to_string()}, {"reason", r.error().to_string()}});
  }
  return out;
}

bool holds_v6(const Visitor& v, const Ipv6& a) {
  return std::find(v.home_addresses_v6.begin(), v.home_addresses_v6.end(), a) != v.home_addresses_v6.end();
}

// A removal that fails leaves an object tagged as ours: the next start-up's reconcile
// removes it. Logged, not fatal.
void log_removal(const Result<void>& r, std::string_view what, const std::string& which) {
  if (!r)
    log_warn("kernel_removal_failed",
             {{"what", std::string(what)}, {"which", which}, {"reason", r.error().to_string()}});
}

}  // namespace

struct Delivery::State {
  std::optional<dataplane::OwnedRoute> host_route;  // HoA/32 dev <vm link>
  // Dual-stack VMs: the same for each IPv6 home address (/128s).
  std::vector<dataplane::OwnedRoute6> host_routes6;
  std::vector<dataplane::OwnedRoute6> buffer_routes6;
  std::vector<dataplane::OwnedRule6> anycast_rules6;
  std::optional<Ipv6> gateway6;                         // announced in garp mode
  std::optional<dataplane::OwnedRoute> buffer_route;    // HoA/32 dev <buffer TUN>
  std::optional<dataplane::OwnedRule> anycast_rule;     // from HoA iif <gateway link>
  std::optional<dataplane::OwnedNeighbour> neighbour;   // HoA lladdr <VM MAC> dev <vm link>
  std::vector<dataplane::OwnedNeighbour6> neighbours6;  // the same for each IPv6 home address
  std::string gateway_link;                             // its name (anycast)
  bool tunnel_routed = false;
  Ipv4 endpoint_peer;  // the HA we hold an endpoint ref for
  std::unique_ptr<boost::asio::steady_timer> garp_timer;
  std::size_t garp_next = 0;
};

Delivery::Delivery(boost::asio::io_context& io, DeliveryIo seams, const FaConfig& config)
    : io_(io), seams_(std::move(seams)), config_(config) {
  anycast_ = config_.gateway_mode == "anycast" && seams_.add_gateway_link != nullptr;
}

Delivery::~Delivery() {
  for (auto& [id, st] : visitors_)
    if (st->garp_timer) st->garp_timer->cancel();
}

Result<void> Delivery::open() {
  auto link = seams_.netlink->link(config_.vm_interface);
  if (!link) return fail("vm_interface_missing", config_.vm_interface + ": " + link.error().to_string());
  vm_ifindex_ = link->ifindex;
  vm_mac_ = link->mac;
  if (config_.gateway_mode == "anycast" && !anycast_) log_warn("anycast_unavailable", {{"fallback", "garp"}});
  return ok();
}

void Delivery::reconcile(const binding::VisitorList& visitors) {
  auto owned = seams_.netlink->list_owned({vm_ifindex_});
  if (!owned) {
    log_warn("kernel_state_unreadable", {{"reason", owned.error().to_string()}});
    return;
  }
  for (const auto& p : owned->proxies) {
    bool explained = false;
    visitors.for_each([&](const Visitor& v) { explained |= v.home_gateway == p.address; });
    if (p.ifindex == vm_ifindex_ && !explained) {
      log_info("stale_proxy_removed", {{"address", p.address.to_string()}});
      log_removal(seams_.netlink->remove_proxy_neighbour(p), "proxy", p.address.to_string());
    }
  }
  for (const auto& r : owned->routes) {
    const bool host = r.dst.length == 32 && r.table == dataplane::kMainTable;
    if (host && !visitors.find_by_home_address(r.dst.address)) {
      log_info("stale_route_removed", {{"dst", r.dst.to_string()}});
      log_removal(seams_.netlink->remove_route(r), "route", r.dst.to_string());
    }
  }
  for (const auto& r : owned->rules) {
    if (r.from.length == 32 && !visitors.find_by_home_address(r.from.address)) {
      log_info("stale_rule_removed",
               {{"from", r.from.to_string()}, {"priority", std::to_string(r.priority)}});
      log_removal(seams_.netlink->remove_rule(r), "rule", r.from.to_string());
    }
  }
  reconcile_v6(*owned, visitors);
  for (const auto& n : owned->neighbours) {
    const Visitor* v = visitors.find_by_home_address(n.address);
    if (n.ifindex == vm_ifindex_ && (!v || v->mac != n.mac)) {
      log_info("stale_neighbour_removed", {{"address", n.address.to_string()}, {"mac", n.mac.to_string()}});
      log_removal(seams_.netlink->remove_neighbour(n), "neighbour", n.address.to_string());
    }
  }
  // A gateway link a visitor still needs is adopted (install() takes it over): deleting and
  // recreating it would leave the VM's frames to its gateway MAC unaccepted on the VM link for
  // that moment, which a restart must not (docs/dataplane.md "Restart"). The rest go.
  for (const auto& l : owned->links) {
    if (l.name.rfind("vmr-gw", 0) != 0 || !seams_.remove_gateway_link) continue;
    bool needed = false;
    if (anycast_) visitors.for_each([&](const Visitor& v) { needed |= v.home_gateway_mac == l.mac; });
    if (needed && gateway_links_.emplace(l.mac, GatewayLink{l.name, 0}).second) {
      log_info("gateway_link_adopted", {{"link", l.name}, {"mac", l.mac.to_string()}});
      continue;
    }
    seams_.remove_gateway_link(l.name);
  }
}

// The IPv6 half of reconcile(): /128 routes and rules no visitor's IPv6 home address explains.
void Delivery::reconcile_v6(const dataplane::OwnedObjects& owned, const binding::VisitorList& visitors) {
  auto explained = [&](const Ipv6& a) { return visitors.find_by_home_address_v6(a) != nullptr; };
  for (const auto& r : owned.routes6) {
    if (r.dst.length == 128 && r.table == dataplane::kMainTable && !explained(r.dst.address)) {
      log_info("stale_route_removed", {{"dst", r.dst.to_string()}});
      log_removal(seams_.netlink->remove_route6(r), "route", r.dst.to_string());
    }
  }
  for (const auto& r : owned.rules6) {
    if (r.from.length == 128 && !explained(r.from.address)) {
      log_info("stale_rule_removed",
               {{"from", r.from.to_string()}, {"priority", std::to_string(r.priority)}});
      log_removal(seams_.netlink->remove_rule6(r), "rule", r.from.to_string());
    }
  }
  for (const auto& n : owned.neighbours6) {
    const Visitor* v = visitors.find_by_home_address_v6(n.address);
    if (n.ifindex == vm_ifindex_ && (!v || v->mac != n.mac)) {
      log_info("stale_neighbour_removed", {{"address", n.address.to_string()}, {"mac", n.mac.to_string()}});
      log_removal(seams_.netlink->remove_neighbour6(n), "neighbour", n.address.to_string());
    }
  }
}

bool Delivery::install(const Visitor& v, bool to_buffer) {
  auto& slot = visitors_[v.id];
  if (!slot) slot = std::make_unique<State>();
  State& st = *slot;
  if (anycast_ && !v.home_gateway_mac.is_zero()) install_anycast(v, st);
  install_proxy(v, st);
  seed_neighbour(v, st);
  install_reverse_tunnel(v, st);
  // To the buffer until the VM runs here, else straight to the VM link.
  const bool buffering = to_buffer && config_.buffer_bytes > 0 && seams_.buffer_ifindex > 0;
  if (!buffering) {
    route_to_vm_link(v, st);
    return false;
  }
  auto r = dataplane::OwnedRoute::create(
      *seams_.netlink, {{v.home_address, 32}, seams_.buffer_ifindex, dataplane::kMainTable});
  if (r)
    st.buffer_route.emplace(std::move(*r));
  else
    log_error("buffer_route_failed",
              {{"hoa", v.home_address.to_string()}, {"reason", r.error().to_string()}});
  if (st.buffer_routes6.empty())
    st.buffer_routes6 = host_routes6(*seams_.netlink, v, seams_.buffer_ifindex, "buffer_route_failed");
  return true;
}

// Anycast gateway: a link with the home gateway's MAC, and its reverse-tunnel rule.
void Delivery::install_anycast(const Visitor& v, State& st) {
  auto it = gateway_links_.find(v.home_gateway_mac);
  if (it == gateway_links_.end()) {
    auto name = seams_.add_gateway_link(v.home_gateway_mac);
    if (!name) {
      log_error("gateway_link_failed",
                {{"mac", v.home_gateway_mac.to_string()}, {"reason", name.error().to_string()}});
      return;
    }
    it = gateway_links_.emplace(v.home_gateway_mac, GatewayLink{*name, 0}).first;
  }
  ++it->second.refs;
  st.gateway_link = it->second.name;
  dataplane::PolicyRule rule{{v.home_address, 32},
                             it->second.name,
                             config_.reverse_table,
                             config_.rule_priority + kAnycastRuleOffset};
  auto r = dataplane::OwnedRule::create(*seams_.netlink, rule);
  if (r)
    st.anycast_rule.emplace(std::move(*r));
  else
    log_error("anycast_rule_failed",
              {{"hoa", v.home_address.to_string()}, {"reason", r.error().to_string()}});
  if (!st.anycast_rules6.empty()) return;
  for (const Ipv6& a : v.home_addresses_v6) {
    dataplane::PolicyRule6 rule6{{a, 128}, rule.iif, rule.table, rule.priority};
    if (auto r6 = dataplane::OwnedRule6::create(*seams_.netlink, rule6); r6)
      st.anycast_rules6.push_back(std::move(*r6));
    else
      log_error("anycast_rule_failed", {{"hoa", a.to_string()}, {"reason", r6.error().to_string()}});
  }
}

// Answer ARP for the home gateway on the VM link (per address, shared by its visitors). The
// kernel answers a proxy entry with the MAC of the device it sits on: in anycast mode that
// must be the gateway link, so that the VM's refreshed ARP entry keeps the home gateway's
// MAC. On the VM link itself the VM would learn this FA's own MAC, which is dead at the next
// FA (a move FA1 -> FA2 then loses every packet the VM sends).
void Delivery::install_proxy(const Visitor& v, const State& st) {
  if (auto it = proxies_.find(v.home_gateway); it != proxies_.end()) {
    ++it->second.refs;
    return;
  }
  int proxy_ifindex = vm_ifindex_;
  if (!st.gateway_link.empty())
    if (auto l = seams_.netlink->link(st.gateway_link)) proxy_ifindex = l->ifindex;
  auto p = dataplane::OwnedProxyNeighbour::create(*seams_.netlink, {v.home_gateway, proxy_ifindex});
  if (p)
    proxies_.emplace(v.home_gateway, SharedProxy{std::move(*p), 1});
  else
    log_error("proxy_arp_failed",
              {{"gateway", v.home_gateway.to_string()}, {"reason", p.error().to_string()}});
}

// Reverse tunnel (RFC 3024): everything from the HoA goes to its HA.
void Delivery::install_reverse_tunnel(const Visitor& v, State& st) {
  const dataplane::TunnelEndpoint ep{v.home_agent, to_dataplane(v.encapsulation), mip::kRegistrationPort};
  if (auto r = seams_.driver->add_tunnel_endpoint(ep); !r)
    log_error("tunnel_endpoint_failed", {{"peer", ep.peer.to_string()}, {"reason", r.error().to_string()}});
  if (st.endpoint_peer.is_zero()) ++endpoint_refs_[ep.peer];
  st.endpoint_peer = ep.peer;
  // Its IPv6 home addresses ride with the HoA (RFC 5454): reverse-tunnelled as it is.
  if (auto r = seams_.driver->set_home_addresses_v6(v.home_address, v.home_addresses_v6); !r)
    log_error("reverse_tunnel_failed",
              {{"hoa", v.home_address.to_string()}, {"reason", r.error().to_string()}});
  if (auto r = seams_.driver->route(v.home_address, v.home_agent); r)
    st.tunnel_routed = true;
  else
    log_error("reverse_tunnel_failed",
              {{"hoa", v.home_address.to_string()}, {"reason", r.error().to_string()}});
}

void Delivery::route_to_vm_link(const Visitor& v, State& st) {
  // The kernel refuses a second HoA/32 in the same table: the buffer route goes first.
  if (st.buffer_route) {
    log_removal(st.buffer_route->reset(), "buffer_route", v.home_address.to_string());
    st.buffer_route.reset();
  }
  for (auto& r : st.buffer_routes6) log_removal(r.reset(), "buffer_route", r.get().dst.to_string());
  st.buffer_routes6.clear();
  if (st.host_routes6.empty())
    st.host_routes6 = host_routes6(*seams_.netlink, v, vm_ifindex_, "host_route_failed");
  if (st.host_route) return;
  auto r = dataplane::OwnedRoute::create(*seams_.netlink,
                                         {{v.home_address, 32}, vm_ifindex_, dataplane::kMainTable});
  if (r)
    st.host_route.emplace(std::move(*r));
  else
    log_error("host_route_failed", {{"hoa", v.home_address.to_string()}, {"reason", r.error().to_string()}});
}

// We know the VM's MAC (prepare), so the kernel need not ARP for it: an unanswered first ARP
// (sent while the VM's link was still moving) costs a 1 s retransmission with every packet held
// in the neighbour queue meanwhile. NUD_STALE (netlink.hpp says why not REACHABLE/PERMANENT):
// the first packet goes out at once and the kernel validates the entry with a unicast probe.
// Called again at resume: the kernel may have aged the entry out, or failed it, while the
// visitor was only prepared; replacing it makes it fresh at the moment it matters.
// A dual-stack VM's IPv6 home addresses get the same (RFC 4861 §7.3.2 STALE): without it the
// FA's first IPv6 packet to the VM waits for Neighbor Discovery on a link the VM has only just
// reached.
void Delivery::seed_neighbour(const Visitor& v, State& st) {
  // The kernel replaces the entry in place: forget the old handles without removing them.
  if (st.neighbour) st.neighbour->release();
  st.neighbour.reset();
  for (auto& n6 : st.neighbours6) n6.release();
  st.neighbours6.clear();
  auto n = dataplane::OwnedNeighbour::create(*seams_.netlink, {v.home_address, v.mac, vm_ifindex_});
  if (n)
    st.neighbour.emplace(std::move(*n));
  else
    log_warn("neighbour_seed_failed",
             {{"hoa", v.home_address.to_string()}, {"reason", n.error().to_string()}});
  for (const Ipv6& a : v.home_addresses_v6) {
    auto n6 = dataplane::OwnedNeighbour6::create(*seams_.netlink, {a, v.mac, vm_ifindex_});
    if (n6)
      st.neighbours6.push_back(std::move(*n6));
    else
      log_warn("neighbour_seed_failed", {{"hoa", a.to_string()}, {"reason", n6.error().to_string()}});
  }
}

void Delivery::resume(const Visitor& v) {
  auto it = visitors_.find(v.id);
  if (it == visitors_.end()) return;
  State& st = *it->second;
  seed_neighbour(v, st);
  route_to_vm_link(v, st);
  // garp mode: tell the VM that its gateway is us now, on QEMU's announce schedule.
  if (anycast_ || !seams_.send_vm_frame || config_.garp_schedule_ms.empty()) return;
  st.garp_next = 0;
  st.gateway6 = v.home_gateway_v6;
  if (!st.garp_timer) st.garp_timer = std::make_unique<boost::asio::steady_timer>(io_);
  send_garp(v.id, v.home_gateway);
}

void Delivery::send_garp(const std::string& id, Ipv4 gateway) {
  auto it = visitors_.find(id);
  if (it == visitors_.end()) return;
  State& st = *it->second;
  const auto& sched = config_.garp_schedule_ms;
  if (st.garp_next >= sched.size()) return;  // a reload shortened the schedule
  // Send every announcement that is due now (schedule offsets are from the resume).
  const std::uint32_t due = sched[st.garp_next];
  while (st.garp_next < sched.size() && sched[st.garp_next] == due) {
    seams_.send_vm_frame(wire::build_gratuitous_arp(vm_mac_, gateway));
    // Its IPv6 twin (RFC 4861 §7.2.6, O = 1): the VM's cached gateway entry moves to us too.
    if (st.gateway6) seams_.send_vm_frame(wire::build_unsolicited_na(vm_mac_, *st.gateway6));
    ++st.garp_next;
  }
  if (st.garp_next >= sched.size()) return;
  st.garp_timer->expires_after(std::chrono::milliseconds(sched[st.garp_next] - due));
  st.garp_timer->async_wait([this, id, gateway](const boost::system::error_code& ec) {
    if (!ec) send_garp(id, gateway);
  });
}

void Delivery::use_ipip(const Visitor& v) {
  if (auto r = seams_.driver->add_tunnel_endpoint(
          {v.home_agent, dataplane::Encapsulation::ipip, mip::kRegistrationPort});
      !r)
    log_error("tunnel_endpoint_failed",
              {{"peer", v.home_agent.to_string()}, {"reason", r.error().to_string()}});
}

void Delivery::remove(const Visitor& v) {
  auto it = visitors_.find(v.id);
  if (it == visitors_.end()) return;
  State& st = *it->second;
  if (st.garp_timer) st.garp_timer->cancel();
  st.host_route.reset();
  st.buffer_route.reset();
  st.anycast_rule.reset();
  st.host_routes6.clear();
  st.buffer_routes6.clear();
  st.anycast_rules6.clear();
  st.neighbour.reset();
  st.neighbours6.clear();
  if (st.tunnel_routed)
    log_removal(seams_.driver->unroute(v.home_address), "reverse_tunnel", v.home_address.to_string());
  release_shared(v, st);
  visitors_.erase(it);
}

void Delivery::release_shared(const Visitor& v, State& st) {
  if (!st.endpoint_peer.is_zero() && --endpoint_refs_[st.endpoint_peer] <= 0) {
    endpoint_refs_.erase(st.endpoint_peer);
    log_removal(seams_.driver->remove_tunnel_endpoint(st.endpoint_peer), "tunnel_endpoint",
                st.endpoint_peer.to_string());
  }
  if (auto it = proxies_.find(v.home_gateway); it != proxies_.end() && --it->second.refs <= 0)
    proxies_.erase(it);
  if (st.gateway_link.empty()) return;
  if (auto it = gateway_links_.find(v.home_gateway_mac);
      it != gateway_links_.end() && --it->second.refs <= 0) {
    if (seams_.remove_gateway_link) seams_.remove_gateway_link(it->second.name);
    gateway_links_.erase(it);
  }
}

void Delivery::remove_all(const binding::VisitorList& visitors) {
  visitors.for_each([&](const Visitor& v) { remove(v); });
  visitors_.clear();
  proxies_.clear();
}

// The VM still believes it sits on its home subnet, so it ARPs for its neighbours there (other
// VMs, servers) as if they were on its link. Answer for them with the gateway MAC it already
// uses — the anycast home gateway MAC, or this FA's own in garp mode — so that their traffic
// enters the reverse tunnel like everything else (RFC 3024) and the HA delivers it at home.
// The home gateway itself is answered by the kernel's proxy entry; the VM's own address (its
// gratuitous ARP, duplicate address detection) never is.
std::optional<Bytes> Delivery::home_arp_answer(const Visitor& v, ByteView arp_payload) const {
  if (!seams_.send_vm_frame) return std::nullopt;
  if (v.state != VisitorState::active && v.state != VisitorState::registering) return std::nullopt;
  auto arp = wire::parse_arp(arp_payload);
  if (!arp || arp->op != mip::kArpOpRequest) return std::nullopt;
  if (arp->target_ip == v.home_address || arp->target_ip == v.home_gateway || arp->target_ip.is_zero())
    return std::nullopt;
  if (arp->sender_ip != v.home_address) return std::nullopt;  // only for the VM itself, at its home address
  const MacAddress answer = anycast_ && !v.home_gateway_mac.is_zero() ? v.home_gateway_mac : vm_mac_;
  wire::ArpPacket reply{mip::kArpOpReply, answer, arp->target_ip, v.mac, v.home_address};
  return wire::build_arp_frame(v.mac, answer, mip::kEtherTypeArp, reply);
}

std::optional<Delivery::Answer> Delivery::home_link_answer(const Visitor& v, const wire::EthernetFrame& eth,
                                                           ByteView frame) const {
  std::optional<Bytes> answer;
  if (eth.ethertype == mip::kEtherTypeArp) {
    if ((answer = home_arp_answer(v, eth.payload))) return Answer{std::move(*answer), "home_arp_answered"};
  } else if (eth.ethertype == mip::kEtherTypeIpv6) {
    if (auto ns = wire::parse_neighbor_solicitation(frame))
      if ((answer = home_ns_answer(v, *ns))) return Answer{std::move(*answer), "home_ns_answered"};
  }
  return std::nullopt;
}

std::string_view arrival_kind(const wire::EthernetFrame& eth, ByteView frame) {
  if (eth.ethertype == mip::kEtherTypeRarp) return "rarp";
  if (eth.ethertype == mip::kEtherTypeArp) return "arp";
  if (eth.ethertype == mip::kEtherTypeIpv6)
    if (auto na = wire::parse_neighbor_advertisement(frame); na && !na->solicited) return "na";
  return "ip";
}

// The IPv6 twin of home_arp_answer (RFC 4861 §7.2.4): the VM solicits its home gateway (the
// router's link-local or global address) or another address of its home /64 as if it were on
// its link. We answer with the MAC it already uses for its gateway, so its IPv6 enters the
// reverse tunnel like its IPv4. Never for its own addresses (duplicate address detection comes
// from ::, and the VM answers for itself), never link-local addresses but the gateway's (those
// cannot be tunnelled), and R = 1 only for the gateway (R = 0 would make the VM drop it as a
// router, §7.2.5).
std::optional<Bytes> Delivery::home_ns_answer(const binding::Visitor& v,
                                              const wire::NeighborSolicitation& ns) const {
  if (!seams_.send_vm_frame || v.home_addresses_v6.empty()) return std::nullopt;
  if (v.state != VisitorState::active && v.state != VisitorState::registering) return std::nullopt;
  if (ns.src.is_zero() || ns.src.is_multicast() || holds_v6(v, ns.target)) return std::nullopt;
  const bool gateway = v.home_gateway_v6 && ns.target == *v.home_gateway_v6;
  if (!gateway && ns.target.is_link_local()) return std::nullopt;
  const MacAddress answer = anycast_ && !v.home_gateway_mac.is_zero() ? v.home_gateway_mac : vm_mac_;
  const wire::NeighborAdvertisement na{answer, ns.target, ns.src, gateway, true, true, ns.target, answer};
  return wire::build_neighbor_advertisement(na, v.mac);
}

}  // namespace vmroam::fa
