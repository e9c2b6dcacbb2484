// ForeignAgent: delivery state, buffering, proxy registration, revocation (see the header).
#include "foreign-agent/foreign_agent.hpp"

#include <algorithm>
#include <chrono>

#include "common/auth/authenticator.hpp"
#include "common/auth/replay.hpp"
#include "common/core/log.hpp"
#include "common/wire/ethernet.hpp"
#include "common/wire/message.hpp"

namespace vmroam::fa {

namespace {

using binding::Visitor;
using binding::VisitorState;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

constexpr std::size_t kMaxBatch = 1024;                   // datagrams handled per flush
constexpr std::chrono::milliseconds kDepartLinger{2000};  // > one WAN RTT + the HA's commit
constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
constexpr std::uint16_t kEtherTypeArp = 0x0806;
constexpr std::uint16_t kEtherTypeRarp = 0x8035;
// Our anycast rules sit one above the driver's reverse-tunnel rules, inside our range.
constexpr std::uint32_t kAnycastRuleOffset = 1;

std::optional<auth::SecurityAssociation> to_sa(const std::optional<SecurityAssociationConfig>& c) {
  if (!c) return std::nullopt;
  auto alg = auth::parse_algorithm(c->algorithm);
  if (!alg) return std::nullopt;  // the config parser only admits known names
  return auth::SecurityAssociation{c->spi, *alg, c->key};
}

dataplane::Encapsulation to_dataplane(binding::Encapsulation e) {
  return e == binding::Encapsulation::udp ? dataplane::Encapsulation::udp : dataplane::Encapsulation::ipip;
}

bool final_state(VisitorState s) { return s == VisitorState::aborted || s == VisitorState::departed; }

}  // namespace

ForeignAgent::ForeignAgent(boost::asio::io_context& io, FaConfig config, ForeignAgentIo seams,
                           store::Store store)
    : io_(io), config_(std::move(config)), seams_(std::move(seams)), store_(io, std::move(store)) {
  started_at_ = seams_.clock->now();
  anycast_ = config_.gateway_mode == "anycast" && seams_.add_gateway_link != nullptr;
  handover_seconds_ = &metrics_.histogram("vmroam_fa_handover_seconds",
                                          "Activate to accepted Registration Reply", api::latency_buckets());
  overflow_total_ =
      &metrics_.counter("vmroam_fa_buffer_overflow_total", "Packets dropped: visitor buffer full or too old");
  buffered_total_ =
      &metrics_.counter("vmroam_fa_buffered_packets_total", "Packets held for visitors not yet running");
  flushed_total_ =
      &metrics_.counter("vmroam_fa_flushed_packets_total", "Buffered packets delivered at resume");
  metrics_.gauge_callback("vmroam_fa_visitors", "Visitors in the list", {},
                          [this] { return static_cast<double>(visitors_.size()); });
  build_router();
}

ForeignAgent::~ForeignAgent() { stop(); }

// ---- Store records: wall-clock time on disk, monotonic in memory --------------------------

store::VisitorRecord ForeignAgent::to_record(const Visitor& v) const {
  auto to_wall_ms = [this](TimePoint t) { return unix_ms_from(*seams_.clock, t); };
  store::VisitorRecord r;
  r.id = v.id;
  r.home_address = v.home_address;
  r.mac = v.mac;
  r.home_gateway = v.home_gateway;
  r.home_gateway_mac = v.home_gateway_mac;
  r.home_agent = v.home_agent;
  r.spi = v.spi;
  r.algorithm = v.algorithm;
  r.key = v.key;
  r.lifetime_requested = v.lifetime_requested;
  r.encapsulation = std::string(binding::to_string(v.encapsulation));
  r.state = std::string(binding::to_string(v.state));
  r.last_reply_code = v.last_reply_code;
  r.reason = v.reason;
  r.identification_sent = v.identification_sent;
  if (v.expires_at != TimePoint{}) r.expires_at_unix_ms = to_wall_ms(v.expires_at);
  r.created_at_unix_ms = to_wall_ms(v.created_at);
  r.packets_in = v.counters.packets_in;
  r.bytes_in = v.counters.bytes_in;
  r.packets_out = v.counters.packets_out;
  r.bytes_out = v.counters.bytes_out;
  return r;
}

Visitor ForeignAgent::from_record(const store::VisitorRecord& r) const {
  auto to_mono = [this](std::int64_t ms) { return monotonic_from_unix_ms(*seams_.clock, ms); };
  Visitor v;
  v.id = r.id;
  v.home_address = r.home_address;
  v.mac = r.mac;
  v.home_gateway = r.home_gateway;
  v.home_gateway_mac = r.home_gateway_mac;
  v.home_agent = r.home_agent;
  v.spi = r.spi;
  v.algorithm = r.algorithm;
  v.key = r.key;
  v.lifetime_requested = r.lifetime_requested;
  v.encapsulation = binding::parse_encapsulation(r.encapsulation).value_or(binding::Encapsulation::ipip);
  v.state = binding::parse_visitor_state(r.state).value_or(VisitorState::failed);
  v.last_reply_code = r.last_reply_code;
  v.reason = r.reason;
  v.identification_sent = r.identification_sent;
  if (r.expires_at_unix_ms) v.expires_at = to_mono(*r.expires_at_unix_ms);
  v.created_at = to_mono(r.created_at_unix_ms);
  v.counters = {r.packets_in, r.bytes_in, r.packets_out, r.bytes_out};
  return v;
}

Result<void> ForeignAgent::commit(const store::Batch& batch) { return store_.commit(batch); }

void ForeignAgent::commit_async(store::Batch batch, std::string context, StoreWriter::Done on_durable) {
  store_.commit_async(std::move(batch), [context = std::move(context),
                                         on_durable = std::move(on_durable)](const Result<void>& r) {
    if (!r) log_error("store_commit_failed", {{"visitor", context}, {"reason", r.error().to_string()}});
    if (on_durable) on_durable(r);
  });
}

void ForeignAgent::persist(const std::string& id, StoreWriter::Done on_durable) {
  const Visitor* v = visitors_.find(id);
  if (!v) {
    if (on_durable) on_durable(ok());
    return;
  }
  store::Batch b;
  b.put_visitor(to_record(*v));
  commit_async(std::move(b), id, std::move(on_durable));
}

std::pair<api::Reply, StoreWriter::Done> ForeignAgent::reply_when_durable(
    std::function<api::Response(const Result<void>&)> make) {
  auto [deferred, responder] = api::make_deferred();
  return {deferred,
          [responder, make = std::move(make)](const Result<void>& r) { (void)responder.send(make(r)); }};
}

// ---- Start-up and shutdown --------------------------------------------------------------

Result<void> ForeignAgent::start() {
  auto link = seams_.netlink->link(config_.vm_interface);
  if (!link) return fail("vm_interface_missing", config_.vm_interface + ": " + link.error().to_string());
  vm_ifindex_ = link->ifindex;
  vm_mac_ = link->mac;
  if (config_.gateway_mode == "anycast" && !anycast_) log_warn("anycast_unavailable", {{"fallback", "garp"}});

  VMROAM_TRY(std::vector<store::VisitorRecord> records, store_.load_visitors());
  store::Batch drop;
  for (const auto& r : records) {
    Visitor v = from_record(r);
    if (final_state(v.state)) {
      drop.delete_visitor(v.id);
      continue;
    }
    if (auto added = visitors_.add(v); !added) {
      log_warn("visitor_not_restored", {{"id", v.id}, {"reason", added.error().to_string()}});
      drop.delete_visitor(v.id);
    }
  }
  if (!drop.empty()) VMROAM_TRY_VOID(commit(drop));

  // Reconcile: what a predecessor left that no visitor explains goes; identical objects are
  // adopted below when the visitors' state is recreated ("exists" → adopt).
  auto owned = seams_.netlink->list_owned({vm_ifindex_});
  if (owned) {
    for (const auto& p : owned->proxies) {
      bool explained = false;
      visitors_.for_each([&](const Visitor& v) { explained |= v.home_gateway == p.address; });
      if (p.ifindex == vm_ifindex_ && !explained) {
        log_info("stale_proxy_removed", {{"address", p.address.to_string()}});
        (void)seams_.netlink->remove_proxy_neighbour(p);
      }
    }
    for (const auto& r : owned->routes) {
      const bool host = r.dst.length == 32 && r.table == dataplane::kMainTable;
      if (host && !visitors_.find_by_home_address(r.dst.address)) {
        log_info("stale_route_removed", {{"dst", r.dst.to_string()}});
        (void)seams_.netlink->remove_route(r);
      }
    }
    for (const auto& r : owned->rules) {
      if (r.from.length == 32 && !visitors_.find_by_home_address(r.from.address)) {
        log_info("stale_rule_removed",
                 {{"from", r.from.to_string()}, {"priority", std::to_string(r.priority)}});
        (void)seams_.netlink->remove_rule(r);
      }
    }
    for (const auto& n : owned->neighbours) {
      const Visitor* v = visitors_.find_by_home_address(n.address);
      if (n.ifindex == vm_ifindex_ && (!v || v->mac != n.mac)) {
        log_info("stale_neighbour_removed", {{"address", n.address.to_string()}, {"mac", n.mac.to_string()}});
        (void)seams_.netlink->remove_neighbour(n);
      }
    }
    for (const auto& l : owned->links) {
      if (l.name.rfind("vmr-gw", 0) == 0 && seams_.remove_gateway_link) {
        // Recreated below for the visitors that need one (the MAC→name map is not durable).
        seams_.remove_gateway_link(l.name);
      }
    }
  } else {
    log_warn("kernel_state_unreadable", {{"reason", owned.error().to_string()}});
  }

  std::size_t restored = 0;
  std::vector<std::string> reregister;
  visitors_.for_each([&](const Visitor& v) {
    Runtime& rt = runtime_[v.id];
    rt.first_activation = v.state != VisitorState::active;
    rt.resumed = v.state == VisitorState::active;
    install_delivery(v, rt, /*buffering=*/v.state != VisitorState::active);
    if (v.state == VisitorState::active || v.state == VisitorState::registering) reregister.push_back(v.id);
    ++restored;
  });
  for (const auto& id : reregister) (void)begin_registration(id);
  log_info("foreign_agent_started", {{"address", config_.address.to_string()},
                                     {"vm_interface", config_.vm_interface},
                                     {"gateway_mode", anycast_ ? "anycast" : "garp"},
                                     {"visitors_restored", std::to_string(restored)}});
  return ok();
}

void ForeignAgent::stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& [id, rt] : runtime_) {
    if (rt.timer) rt.timer->cancel();
    if (rt.garp_timer) rt.garp_timer->cancel();
    for (auto& w : rt.waiters) (void)w.send(api::unavailable("the foreign agent is stopping"));
    rt.waiters.clear();
  }
  visitors_.for_each([&](const Visitor& v) {
    if (auto it = runtime_.find(v.id); it != runtime_.end()) remove_delivery(v, it->second);
  });
  runtime_.clear();
  proxies_.clear();
}

Result<std::vector<std::string>> ForeignAgent::reload(const FaConfig& next) {
  std::vector<std::string> needs_restart;
  auto keep = [&](bool same, const char* key) {
    if (!same) needs_restart.emplace_back(key);
  };
  keep(next.address == config_.address, "address");
  keep(next.listen_address == config_.listen_address && next.port == config_.port, "listen_address/port");
  keep(next.vm_interface == config_.vm_interface, "vm_interface");
  keep(next.dataplane_driver == config_.dataplane_driver && next.tun_name == config_.tun_name &&
           next.reverse_table == config_.reverse_table && next.route_protocol == config_.route_protocol &&
           next.rule_priority == config_.rule_priority,
       "dataplane");
  keep(next.gateway_mode == config_.gateway_mode, "delivery.gateway_mode");
  keep(next.store_path == config_.store_path, "store.path");
  keep(next.api_socket == config_.api_socket && next.api_tcp == config_.api_tcp &&
           next.api_token_file == config_.api_token_file,
       "api");
  FaConfig merged = config_;
  merged.home_agents = next.home_agents;
  merged.lifetime_s = next.lifetime_s;
  merged.retransmit_initial_ms = next.retransmit_initial_ms;
  merged.retransmit_max_ms = next.retransmit_max_ms;
  merged.retransmit_attempts = next.retransmit_attempts;
  merged.encapsulation = next.encapsulation;
  merged.garp_schedule_ms = next.garp_schedule_ms;
  merged.detect_arrival = next.detect_arrival;
  merged.buffer_bytes = next.buffer_bytes;
  merged.buffer_ms = next.buffer_ms;
  merged.log_level = next.log_level;
  config_ = std::move(merged);
  LogLevel level;
  if (parse_log_level(config_.log_level, level)) set_log_level(level);
  return needs_restart;
}

// ---- Delivery state -----------------------------------------------------------------------

void ForeignAgent::acquire_endpoint(Runtime& rt, const dataplane::TunnelEndpoint& ep) {
  if (auto r = seams_.driver->add_tunnel_endpoint(ep); !r)
    log_error("tunnel_endpoint_failed", {{"peer", ep.peer.to_string()}, {"reason", r.error().to_string()}});
  if (rt.endpoint_peer.is_zero()) ++endpoint_refs_[ep.peer];
  rt.endpoint_peer = ep.peer;
}

void ForeignAgent::release_endpoint(Runtime& rt) {
  if (rt.endpoint_peer.is_zero()) return;
  const Ipv4 peer = rt.endpoint_peer;
  rt.endpoint_peer = Ipv4{};
  if (--endpoint_refs_[peer] <= 0) {
    endpoint_refs_.erase(peer);
    (void)seams_.driver->remove_tunnel_endpoint(peer);
  }
}

void ForeignAgent::install_delivery(const Visitor& v, Runtime& rt, bool buffering) {
  const Ipv4 hoa = v.home_address;
  // Anycast gateway: a link with the home gateway's MAC, and its reverse-tunnel rule.
  if (anycast_ && !v.home_gateway_mac.is_zero()) {
    auto it = gateway_links_.find(v.home_gateway_mac);
    if (it == gateway_links_.end()) {
      auto name = seams_.add_gateway_link(v.home_gateway_mac);
      if (name)
        it = gateway_links_.emplace(v.home_gateway_mac, GatewayLink{*name, 0}).first;
      else
        log_error("gateway_link_failed",
                  {{"mac", v.home_gateway_mac.to_string()}, {"reason", name.error().to_string()}});
    }
    if (it != gateway_links_.end()) {
      ++it->second.refs;
      rt.gateway_link = it->second.name;
      dataplane::PolicyRule rule{
          {hoa, 32}, it->second.name, config_.reverse_table, config_.rule_priority + kAnycastRuleOffset};
      auto r = dataplane::OwnedRule::create(*seams_.netlink, rule);
      if (r)
        rt.anycast_rule.emplace(std::move(*r));
      else
        log_error("anycast_rule_failed", {{"hoa", hoa.to_string()}, {"reason", r.error().to_string()}});
    }
  }
  // Answer ARP for the home gateway on the VM link (per address, shared by its visitors). The
  // kernel answers a proxy entry with the MAC of the device it sits on: in anycast mode that
  // must be the gateway link, so that the VM's refreshed ARP entry keeps the home gateway's
  // MAC. On the VM link itself the VM would learn this FA's own MAC, which is dead at the next
  // FA (a move FA1 -> FA2 then loses every packet the VM sends).
  int proxy_ifindex = vm_ifindex_;
  if (!rt.gateway_link.empty())
    if (auto l = seams_.netlink->link(rt.gateway_link)) proxy_ifindex = l->ifindex;
  if (auto it = proxies_.find(v.home_gateway); it != proxies_.end()) {
    ++it->second.refs;
  } else {
    auto p = dataplane::OwnedProxyNeighbour::create(*seams_.netlink, {v.home_gateway, proxy_ifindex});
    if (p)
      proxies_.emplace(v.home_gateway, SharedProxy{std::move(*p), 1});
    else
      log_error("proxy_arp_failed",
                {{"gateway", v.home_gateway.to_string()}, {"reason", p.error().to_string()}});
  }
  seed_neighbour(v, rt);
  // Reverse tunnel (RFC 3024): everything from the HoA goes to its HA.
  acquire_endpoint(rt, {v.home_agent, to_dataplane(v.encapsulation), mip::kRegistrationPort});
  if (auto r = seams_.driver->route(hoa, v.home_agent); r)
    rt.tunnel_routed = true;
  else
    log_error("reverse_tunnel_failed", {{"hoa", hoa.to_string()}, {"reason", r.error().to_string()}});
  // Delivery: to the buffer until the VM runs here, else straight to the VM link.
  rt.buffering = buffering && config_.buffer_bytes > 0 && seams_.buffer_ifindex > 0;
  if (rt.buffering) {
    auto r = dataplane::OwnedRoute::create(*seams_.netlink,
                                           {{hoa, 32}, seams_.buffer_ifindex, dataplane::kMainTable});
    if (r)
      rt.buffer_route.emplace(std::move(*r));
    else
      log_error("buffer_route_failed", {{"hoa", hoa.to_string()}, {"reason", r.error().to_string()}});
  } else {
    route_to_vm_link(v, rt);
  }
}

void ForeignAgent::route_to_vm_link(const Visitor& v, Runtime& rt) {
  // The kernel refuses a second HoA/32 in the same table: the buffer route goes first.
  if (rt.buffer_route) {
    (void)rt.buffer_route->reset();
    rt.buffer_route.reset();
  }
  if (rt.host_route) return;
  auto r = dataplane::OwnedRoute::create(*seams_.netlink,
                                         {{v.home_address, 32}, vm_ifindex_, dataplane::kMainTable});
  if (r)
    rt.host_route.emplace(std::move(*r));
  else
    log_error("host_route_failed", {{"hoa", v.home_address.to_string()}, {"reason", r.error().to_string()}});
}

// We know the VM's MAC (prepare), so the kernel need not ARP for it: an unanswered first ARP
// (sent while the VM's link was still moving) costs a 1 s retransmission with every packet held
// in the neighbour queue meanwhile. NUD_STALE (netlink.hpp says why not REACHABLE/PERMANENT):
// the first packet goes out at once and the kernel validates the entry with a unicast probe.
// Called again at resume: the kernel may have aged the entry out, or failed it, while the
// visitor was only prepared; replacing it makes it fresh at the moment it matters.
void ForeignAgent::seed_neighbour(const Visitor& v, Runtime& rt) {
  // The kernel replaces the entry in place: forget the old handle without removing it.
  if (rt.neighbour) (void)rt.neighbour->release();
  rt.neighbour.reset();
  auto n = dataplane::OwnedNeighbour::create(*seams_.netlink, {v.home_address, v.mac, vm_ifindex_});
  if (n)
    rt.neighbour.emplace(std::move(*n));
  else
    log_warn("neighbour_seed_failed",
             {{"hoa", v.home_address.to_string()}, {"reason", n.error().to_string()}});
}

void ForeignAgent::remove_delivery(const Visitor& v, Runtime& rt) {
  if (rt.timer) rt.timer->cancel();
  if (rt.garp_timer) rt.garp_timer->cancel();
  rt.host_route.reset();
  rt.buffer_route.reset();
  rt.anycast_rule.reset();
  rt.neighbour.reset();
  if (rt.tunnel_routed) (void)seams_.driver->unroute(v.home_address);
  rt.tunnel_routed = false;
  release_endpoint(rt);
  if (auto it = proxies_.find(v.home_gateway); it != proxies_.end() && --it->second.refs <= 0)
    proxies_.erase(it);
  if (!rt.gateway_link.empty()) {
    if (auto it = gateway_links_.find(v.home_gateway_mac);
        it != gateway_links_.end() && --it->second.refs <= 0) {
      if (seams_.remove_gateway_link) seams_.remove_gateway_link(it->second.name);
      gateway_links_.erase(it);
    }
    rt.gateway_link.clear();
  }
  rt.queue.clear();
  rt.queue_bytes = 0;
}

void ForeignAgent::on_buffered_packet(ByteView ip) {
  if (ip.size() < 20 || (ip[0] >> 4) != 4) return;
  const Ipv4 dst((std::uint32_t{ip[16]} << 24) | (std::uint32_t{ip[17]} << 16) |
                 (std::uint32_t{ip[18]} << 8) | ip[19]);
  const Visitor* v = visitors_.find_by_home_address(dst);
  if (!v) return;
  auto it = runtime_.find(v->id);
  if (it == runtime_.end()) return;
  Runtime& rt = it->second;
  if (!rt.buffering) {
    // Raced with the flush: the route has moved, so deliver at once, still in order.
    if (seams_.reinject) seams_.reinject(ip);
    return;
  }
  const TimePoint now = seams_.clock->now();
  // Bound by age (buffer_ms) first, then by size (buffer_bytes): the newest packets are the
  // ones a resumed TCP connection still wants.
  while (!rt.queue.empty() && now - rt.queue.front().at > milliseconds(config_.buffer_ms)) {
    rt.queue_bytes -= rt.queue.front().packet.size();
    rt.queue.pop_front();
    ++rt.overflow_packets;
    overflow_total_->inc();
  }
  if (rt.queue_bytes + ip.size() > config_.buffer_bytes) {
    ++rt.overflow_packets;
    overflow_total_->inc();
    return;
  }
  rt.queue.push_back(Buffered{Bytes(ip.begin(), ip.end()), now});
  rt.queue_bytes += ip.size();
  buffered_total_->inc();
}

void ForeignAgent::flush_buffer(const Visitor& v, Runtime& rt) {
  seed_neighbour(v, rt);
  route_to_vm_link(v, rt);
  const bool was_buffering = rt.buffering;
  rt.buffering = false;
  if (!was_buffering) return;
  const TimePoint now = seams_.clock->now();
  std::size_t n = 0;
  for (auto& b : rt.queue) {
    if (now - b.at > milliseconds(config_.buffer_ms)) {
      ++rt.overflow_packets;
      overflow_total_->inc();
      continue;
    }
    if (seams_.reinject) seams_.reinject(b.packet);
    ++n;
  }
  rt.queue.clear();
  rt.queue_bytes = 0;
  rt.flushed_packets += n;
  flushed_total_->inc(static_cast<double>(n));
  log_info("buffer_flushed", {{"visitor", v.id}, {"packets", std::to_string(n)}});
}

void ForeignAgent::mark_resumed(const std::string& id, std::string_view how) {
  const Visitor* v = visitors_.find(id);
  auto it = runtime_.find(id);
  if (!v || it == runtime_.end()) return;
  Runtime& rt = it->second;
  if (rt.resumed) return;
  rt.resumed = true;
  flush_buffer(*v, rt);
  log_info("visitor_resumed", {{"visitor", id}, {"how", std::string(how)}});
  // garp mode: tell the VM that its gateway is us now, on QEMU's announce schedule.
  if (!anycast_ && seams_.send_vm_frame && !config_.garp_schedule_ms.empty()) {
    rt.garp_next = 0;
    if (!rt.garp_timer) rt.garp_timer = std::make_unique<boost::asio::steady_timer>(io_);
    send_garp(id);
  }
}

void ForeignAgent::send_garp(const std::string& id) {
  const Visitor* v = visitors_.find(id);
  auto it = runtime_.find(id);
  if (!v || it == runtime_.end()) return;
  Runtime& rt = it->second;
  const auto& sched = config_.garp_schedule_ms;
  // Send every announcement that is due now (schedule offsets are from the resume).
  const std::uint32_t due = sched[rt.garp_next];
  while (rt.garp_next < sched.size() && sched[rt.garp_next] == due) {
    seams_.send_vm_frame(wire::build_gratuitous_arp(vm_mac_, v->home_gateway));
    ++rt.garp_next;
  }
  if (rt.garp_next >= sched.size()) return;
  rt.garp_timer->expires_after(milliseconds(sched[rt.garp_next] - due));
  rt.garp_timer->async_wait([this, id](const boost::system::error_code& ec) {
    if (!ec) send_garp(id);
  });
}

void ForeignAgent::on_vm_frame(ByteView frame) {
  auto eth = wire::parse_ethernet(frame);
  if (!eth) return;
  if (eth->ethertype != kEtherTypeRarp && eth->ethertype != kEtherTypeArp && eth->ethertype != kEtherTypeIpv4)
    return;
  const Visitor* v = visitors_.find_by_mac(eth->src);
  if (!v) return;
  if (eth->ethertype == kEtherTypeArp) answer_home_arp(*v, eth->payload);
  if (!config_.detect_arrival) return;
  const std::string id = v->id;
  auto it = runtime_.find(id);
  if (it == runtime_.end() || it->second.resumed) return;
  if (v->state == VisitorState::prepared || v->state == VisitorState::failed) (void)begin_registration(id);
  const char* how = eth->ethertype == kEtherTypeRarp  ? "rarp"
                    : eth->ethertype == kEtherTypeArp ? "arp"
                                                      : "ip";
  mark_resumed(id, how);
}

// The VM still believes it sits on its home subnet, so it ARPs for its neighbours there (other
// VMs, servers) as if they were on its link. Answer for them with the gateway MAC it already
// uses — the anycast home gateway MAC, or this FA's own in garp mode — so that their traffic
// enters the reverse tunnel like everything else (RFC 3024) and the HA delivers it at home.
// The home gateway itself is answered by the kernel's proxy entry; the VM's own address (its
// gratuitous ARP, duplicate address detection) never is.
void ForeignAgent::answer_home_arp(const Visitor& v, ByteView arp_payload) {
  if (!seams_.send_vm_frame) return;
  if (v.state != VisitorState::active && v.state != VisitorState::registering) return;
  auto arp = wire::parse_arp(arp_payload);
  if (!arp || arp->op != mip::kArpOpRequest) return;
  if (arp->target_ip == v.home_address || arp->target_ip == v.home_gateway || arp->target_ip.is_zero())
    return;
  if (arp->sender_ip != v.home_address) return;  // only for the VM itself, at its home address
  const MacAddress answer = anycast_ && !v.home_gateway_mac.is_zero() ? v.home_gateway_mac : vm_mac_;
  wire::ArpPacket reply{mip::kArpOpReply, answer, arp->target_ip, v.mac, v.home_address};
  seams_.send_vm_frame(wire::build_arp_frame(v.mac, answer, mip::kEtherTypeArp, reply));
  count_message("home_arp_answered");
}

void ForeignAgent::drop_visitor(const std::string& id, std::string_view why, StoreWriter::Done on_durable) {
  const Visitor* v = visitors_.find(id);
  if (!v) {
    if (on_durable) on_durable(ok());
    return;
  }
  store::Batch b;
  b.delete_visitor(id);
  commit_async(std::move(b), id, std::move(on_durable));
  if (auto it = runtime_.find(id); it != runtime_.end()) {
    remove_delivery(*v, it->second);
    for (auto& w : it->second.waiters)
      (void)w.send(api::not_found("visitor " + id + " was removed: " + std::string(why)));
    runtime_.erase(it);
  }
  log_info("visitor_removed", {{"visitor", id}, {"why", std::string(why)}});
  (void)visitors_.remove(id);
}

// ---- Registration ---------------------------------------------------------------------

std::optional<auth::SecurityAssociation> ForeignAgent::fa_ha_for(Ipv4 ha) const {
  for (const auto& h : config_.home_agents)
    if (h.address == ha) return to_sa(h.fa_ha);
  return std::nullopt;
}

std::optional<auth::SecurityAssociation> ForeignAgent::mn_ha_of(const Visitor& v) const {
  if (v.key.empty()) return std::nullopt;
  auto alg = auth::parse_algorithm(v.algorithm.empty() ? "hmac-sha256" : v.algorithm);
  if (!alg) return std::nullopt;
  return auth::SecurityAssociation{v.spi, *alg, v.key};
}

std::uint64_t ForeignAgent::fresh_identification(const Visitor& v) {
  WallTime now = seams_.clock->wall_now();
  if (auto it = clock_offset_s_.find(v.home_agent); it != clock_offset_s_.end())
    now += std::chrono::seconds(it->second);
  return auth::next_identification(now, v.identification_sent);
}

Result<Bytes> ForeignAgent::build_request(const Visitor& v, std::uint16_t lifetime,
                                          std::uint64_t identification) const {
  ProxyRequestParams p;
  p.home_address = v.home_address;
  p.home_agent = v.home_agent;
  p.care_of_address = config_.address;
  p.mac = v.mac;
  p.lifetime = lifetime;
  p.identification = identification;
  p.udp_tunnel = v.encapsulation == binding::Encapsulation::udp;
  p.mn_ha = mn_ha_of(v);
  p.fa_ha = fa_ha_for(v.home_agent);
  VMROAM_TRY(wire::RegistrationRequest req, build_proxy_request(p));
  return wire::encode(req);
}

Result<void> ForeignAgent::begin_registration(const std::string& id, StoreWriter::Done on_durable) {
  const Visitor* v = visitors_.find(id);
  if (!v) return fail("not_found", id);
  Runtime& rt = runtime_[id];
  if (v->state == VisitorState::prepared || v->state == VisitorState::failed) {
    VMROAM_TRY_VOID(visitors_.transition(id, VisitorState::registering));
    rt.first_activation = true;
    rt.activated_at = seams_.clock->now();
  }
  rt.sent = 0;
  rt.identifications.clear();
  rt.resynced = false;
  rt.in_flight = true;
  if (!rt.timer) rt.timer = std::make_unique<boost::asio::steady_timer>(io_);
  // The request first: the round trip to the HA runs while the writer thread commits.
  transmit(id);
  persist(id, std::move(on_durable));
  return ok();
}

void ForeignAgent::transmit(const std::string& id) {
  const Visitor* v = visitors_.find(id);
  auto it = runtime_.find(id);
  if (!v || it == runtime_.end()) return;
  Runtime& rt = it->second;
  const std::uint64_t ident = fresh_identification(*v);
  const std::uint16_t lifetime =
      v->lifetime_requested ? v->lifetime_requested
                            : static_cast<std::uint16_t>(std::min<std::uint32_t>(config_.lifetime_s, 0xFFFE));
  auto bytes = build_request(*v, lifetime, ident);
  if (!bytes) {
    fail_registration(id, mip::code::fa_unspecified,
                      "cannot build the request: " + bytes.error().to_string());
    return;
  }
  (void)visitors_.modify(id, [&](Visitor& m) { m.identification_sent = ident; });
  rt.identifications.push_back(ident);
  ++rt.sent;
  seams_.send_udp(v->home_agent, mip::kRegistrationPort, *bytes);
  count_message(rt.sent == 1 ? "request_sent" : "request_retransmitted");
  const RetransmitSchedule sched{milliseconds(config_.retransmit_initial_ms),
                                 milliseconds(config_.retransmit_max_ms), config_.retransmit_attempts};
  // After the last transmission, wait one more (capped) interval for a late reply.
  const auto delay = sched.after(rt.sent).value_or(milliseconds(config_.retransmit_max_ms));
  rt.timer->expires_after(delay);
  rt.timer->async_wait([this, id](const boost::system::error_code& ec) {
    if (!ec) on_retransmit_timer(id);
  });
}

void ForeignAgent::on_retransmit_timer(const std::string& id) {
  auto it = runtime_.find(id);
  if (it == runtime_.end() || !it->second.in_flight) return;
  if (it->second.sent >= config_.retransmit_attempts) {
    fail_registration(id, mip::code::fa_registration_timeout, "no reply from the home agent");
    return;
  }
  transmit(id);
}

void ForeignAgent::fail_registration(const std::string& id, std::uint8_t code, std::string reason) {
  const Visitor* v = visitors_.find(id);
  if (!v) return;
  if (auto it = runtime_.find(id); it != runtime_.end()) {
    it->second.in_flight = false;
    if (it->second.timer) it->second.timer->cancel();
  }
  if (v->state != VisitorState::failed) (void)visitors_.transition(id, VisitorState::failed);
  (void)visitors_.modify(id, [&](Visitor& m) {
    m.last_reply_code = code;
    m.reason = reason;
  });
  log_warn("registration_failed", {{"visitor", id}, {"code", std::to_string(code)}, {"reason", reason}});
  persist(id, [this, id](const Result<void>&) { complete_waiters(id); });
}

void ForeignAgent::arm_renewal(const std::string& id) {
  auto it = runtime_.find(id);
  if (it == runtime_.end()) return;
  Runtime& rt = it->second;
  auto delay = renewal_delay(rt.granted);
  if (!delay) return;
  rt.timer->expires_after(*delay);
  rt.timer->async_wait([this, id](const boost::system::error_code& ec) {
    if (!ec) (void)begin_registration(id);
  });
}

void ForeignAgent::complete_waiters(const std::string& id) {
  auto it = runtime_.find(id);
  const Visitor* v = visitors_.find(id);
  if (it == runtime_.end() || !v) return;
  auto waiters = std::move(it->second.waiters);
  it->second.waiters.clear();
  for (auto& w : waiters) (void)w.send(api::Response::make_json(200, visitor_json(*v)));
}

std::optional<std::uint64_t> ForeignAgent::send_deregistration(const Visitor& v) {
  const std::uint64_t ident = fresh_identification(v);
  auto bytes = build_request(v, mip::kLifetimeDeregister, ident);
  if (!bytes) return std::nullopt;
  seams_.send_udp(v.home_agent, mip::kRegistrationPort, *bytes);
  count_message("deregistration_sent");
  return ident;
}

void ForeignAgent::depart(const std::string& id, StoreWriter::Done on_durable) {
  const Visitor* v = visitors_.find(id);
  if (!v) {
    if (on_durable) on_durable(ok());
    return;
  }
  Runtime& rt = runtime_[id];
  rt.in_flight = false;
  if (rt.timer) rt.timer->cancel();
  rt.deregistration_id = send_deregistration(*v);
  (void)visitors_.transition(id, VisitorState::departed);
  // Gone from the store at once: a restart must not bring a departed visitor back.
  store::Batch b;
  b.delete_visitor(id);
  commit_async(std::move(b), id, std::move(on_durable));
  if (!rt.timer) rt.timer = std::make_unique<boost::asio::steady_timer>(io_);
  rt.timer->expires_after(kDepartLinger);
  rt.timer->async_wait([this, id](const boost::system::error_code& ec) {
    if (!ec) drop_visitor(id, "departed (no deregistration reply)");
  });
}

// ---- UDP 434: queue, then handle the batch --------------------------------------------

void ForeignAgent::on_datagram(ByteView payload, Ipv4 src, std::uint16_t src_port) {
  if (payload.empty()) {
    count_message("empty");
    return;
  }
  if (payload[0] == static_cast<std::uint8_t>(mip::MessageType::tunnel_data)) {
    seams_.driver->handle_udp_tunnel_payload(src, src_port, payload);
    return;
  }
  pending_.push_back(Pending{Bytes(payload.begin(), payload.end()), src, src_port});
  if (pending_.size() >= kMaxBatch) flush();
}

void ForeignAgent::flush() {
  if (pending_.empty()) return;
  std::vector<Pending> work;
  work.swap(pending_);
  store::Batch batch;
  std::vector<std::string> completed;
  for (const auto& p : work) {
    auto msg = wire::parse_message(p.payload);
    if (!msg) {
      count_message(msg.error().code);
      continue;
    }
    if (auto* reply = std::get_if<wire::RegistrationReply>(&*msg)) {
      handle_reply(*reply, p.payload, batch, completed);
    } else if (auto* rev = std::get_if<wire::Revocation>(&*msg)) {
      handle_revocation(*rev, p.payload, p.src, p.port);
    } else {
      count_message("unexpected_message");
    }
  }
  // One durable commit for the whole batch, then tell the waiting API clients. It runs on the
  // writer thread: the loop goes back to delivering at once (the HA tunnels the VM's traffic
  // here right after its reply, and those first packets must not wait for our fsync).
  if (batch.empty()) {
    for (const auto& id : completed) complete_waiters(id);
    return;
  }
  commit_async(std::move(batch), "reply batch",
               [this, completed = std::move(completed)](const Result<void>&) {
                 for (const auto& id : completed) complete_waiters(id);
               });
}

void ForeignAgent::handle_reply(const wire::RegistrationReply& reply, ByteView raw, store::Batch& batch,
                                std::vector<std::string>& completed) {
  const Visitor* v = visitors_.find_by_home_address(reply.home_address);
  if (!v) {
    count_message("reply_unknown_visitor");
    return;
  }
  const std::string id = v->id;
  Runtime& rt = runtime_[id];
  if (v->state == VisitorState::departed) {
    // The answer to our deregistration: the HA no longer tunnels here, delivery can go.
    if (rt.deregistration_id) {
      PendingRequest p{v->home_address,       v->home_agent,
                       *rt.deregistration_id, v->encapsulation == binding::Encapsulation::udp,
                       mn_ha_of(*v),          fa_ha_for(v->home_agent)};
      const ReplyVerdict verdict = judge_reply(reply, raw, p, seams_.clock->wall_now());
      if (verdict.outcome != ReplyOutcome::ignore) {
        count_message("deregistration_answered");
        drop_visitor(id, "departed");
        return;
      }
    }
    count_message("reply_ignored_departed");
    return;
  }
  if (!rt.in_flight) {
    count_message("reply_unexpected");
    return;
  }
  ReplyVerdict verdict;
  for (auto ident : rt.identifications) {
    PendingRequest p{v->home_address, v->home_agent,
                     ident,           v->encapsulation == binding::Encapsulation::udp,
                     mn_ha_of(*v),    fa_ha_for(v->home_agent)};
    verdict = judge_reply(reply, raw, p, seams_.clock->wall_now());
    if (verdict.outcome != ReplyOutcome::ignore) break;
  }
  count_message(verdict.outcome == ReplyOutcome::ignore
                    ? std::string("reply_ignored_") + std::string(verdict.reason)
                    : std::string("reply_") + std::string(verdict.reason));
  switch (verdict.outcome) {
    case ReplyOutcome::ignore:
      return;
    case ReplyOutcome::resync:
      if (!rt.resynced) {
        // RFC 5944 §5.7.1: adopt the HA's clock and try once more at once.
        clock_offset_s_[v->home_agent] = verdict.clock_offset_s;
        rt.resynced = true;
        rt.sent = 0;
        rt.identifications.clear();
        log_info("registration_resync",
                 {{"visitor", id}, {"offset_s", std::to_string(verdict.clock_offset_s)}});
        transmit(id);
        return;
      }
      [[fallthrough]];
    case ReplyOutcome::denied: {
      rt.in_flight = false;
      rt.timer->cancel();
      if (v->state != VisitorState::failed) (void)visitors_.transition(id, VisitorState::failed);
      (void)visitors_.modify(id, [&](Visitor& m) {
        m.last_reply_code = verdict.code;
        m.reason = std::string(verdict.reason);
      });
      log_warn(
          "registration_denied",
          {{"visitor", id}, {"code", std::to_string(verdict.code)}, {"reason", std::string(verdict.reason)}});
      break;
    }
    case ReplyOutcome::accepted: {
      rt.in_flight = false;
      rt.timer->cancel();
      const TimePoint now = seams_.clock->now();
      if (v->state == VisitorState::registering) (void)visitors_.transition(id, VisitorState::active);
      rt.granted = verdict.lifetime;
      (void)visitors_.modify(id, [&](Visitor& m) {
        m.last_reply_code = verdict.code;
        m.reason.clear();
        m.expires_at = verdict.lifetime == mip::kLifetimeInfinite
                           ? TimePoint::max()
                           : now + std::chrono::seconds(verdict.lifetime);
      });
      if (rt.first_activation) {
        rt.first_activation = false;
        const double ms = std::chrono::duration<double, std::milli>(now - rt.activated_at).count();
        rt.handover_ms = ms;
        handover_seconds_->observe(ms / 1000.0);
      }
      // The HA declined UDP tunnelling (no 44, or code 64): IP-in-IP it is (RFC 3519 §3.2).
      if (v->encapsulation == binding::Encapsulation::udp && !verdict.udp_tunnel) {
        (void)visitors_.modify(id, [&](Visitor& m) { m.encapsulation = binding::Encapsulation::ipip; });
        (void)seams_.driver->add_tunnel_endpoint(
            {v->home_agent, dataplane::Encapsulation::ipip, mip::kRegistrationPort});
      }
      log_info("registration_accepted",
               {{"visitor", id},
                {"hoa", v->home_address.to_string()},
                {"lifetime", std::to_string(verdict.lifetime)},
                {"handover_ms", rt.handover_ms ? std::to_string(*rt.handover_ms) : "-"}});
      arm_renewal(id);
      break;
    }
  }
  batch.put_visitor(to_record(*visitors_.find(id)));
  completed.push_back(id);
}

void ForeignAgent::handle_revocation(const wire::Revocation& rev, ByteView raw, Ipv4 src,
                                     std::uint16_t port) {
  // RFC 3543 §3: revocations are FA-HA authenticated; the HA is the one that sent it.
  const Ipv4 ha = rev.home_domain_address.is_zero() ? src : rev.home_domain_address;
  auto sa = fa_ha_for(ha);
  if (!sa) sa = fa_ha_for(src);
  if (!sa || !auth::verify(raw, rev.extensions, mip::ext::fa_ha_auth, *sa)) {
    count_message("revocation_auth_failed");
    log_warn("revocation_rejected", {{"from", src.to_string()}, {"hoa", rev.home_address.to_string()}});
    return;
  }
  wire::RevocationAck ack;
  ack.home_address = rev.home_address;
  ack.revocation_id = rev.revocation_id;
  if (auto r = auth::append_auth(ack, mip::ext::fa_ha_auth, *sa); !r) return;
  // The ack says "gone": only once the deletion is durable (a restart must not bring the
  // visitor back and re-register it over the FA the VM moved to).
  StoreWriter::Done send_ack = [this, src, port, bytes = wire::encode(ack)](const Result<void>&) {
    seams_.send_udp(src, port, bytes);
    count_message("revocation_acknowledged");
  };
  const Visitor* v = visitors_.find_by_home_address(rev.home_address);
  if (v && v->state != VisitorState::departed && v->state != VisitorState::aborted) {
    // The VM moved on: a prepared visitor is no longer coming, an active one has left.
    drop_visitor(v->id, "revoked by the home agent", std::move(send_ack));
  } else {
    send_ack(ok());
  }
}

void ForeignAgent::count_message(std::string_view result) {
  metrics_
      .counter("vmroam_fa_registration_messages_total", "UDP 434 control messages by outcome",
               {{"result", std::string(result)}})
      .inc();
}

std::size_t ForeignAgent::buffered_packets(const std::string& id) const {
  auto it = runtime_.find(id);
  return it == runtime_.end() ? 0 : it->second.queue.size();
}

std::uint64_t ForeignAgent::buffer_overflows(const std::string& id) const {
  auto it = runtime_.find(id);
  return it == runtime_.end() ? 0 : it->second.overflow_packets;
}

std::optional<double> ForeignAgent::handover_ms(const std::string& id) const {
  auto it = runtime_.find(id);
  return it == runtime_.end() ? std::nullopt : it->second.handover_ms;
}

}  // namespace vmroam::fa
