#include "home-agent/home_agent.hpp"

#include <chrono>

#include "common/auth/authenticator.hpp"
#include "common/core/log.hpp"
#include "common/wire/ethernet.hpp"
#include "common/wire/ipv4.hpp"
#include "common/wire/message.hpp"

namespace vmroam::ha {

namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

constexpr int kRevocationAttempts = 3;  // RFC 3543 §4: retransmit, then give up
constexpr milliseconds kRevocationInitial{1000};
constexpr std::size_t kMaxBatch = 1024;  // datagrams handled per flush

std::optional<auth::SecurityAssociation> to_sa(const std::optional<SecurityAssociationConfig>& c) {
  if (!c) return std::nullopt;
  auto alg = auth::parse_algorithm(c->algorithm);
  if (!alg) return std::nullopt;  // the config parser only admits known names
  return auth::SecurityAssociation{c->spi, *alg, c->key};
}

}  // namespace

HomeAgent::HomeAgent(boost::asio::io_context& io, HaConfig config, HomeAgentIo seams, store::Store store)
    : io_(io),
      config_(std::move(config)),
      seams_(std::move(seams)),
      store_(std::move(store)),
      registrar_(settings_from(config_)),
      expiry_timer_(io) {
  registrar_.set_foreign_agents(foreign_agents_from(config_));
  if (seams_.driver)
    if (dataplane::HoldPort* port = seams_.driver->hold_port())
      hold_ = std::make_unique<dataplane::HandoverHold>(*port);
  started_at_ = seams_.clock->now();
  commit_seconds_ = &metrics_.histogram("vmroam_store_commit_seconds", "Durable store commit latency",
                                        api::latency_buckets());
  store_failures_ = &metrics_.counter("vmroam_store_commit_failures_total", "Store commits that failed");
  metrics_.gauge_callback("vmroam_bindings", "Bindings in the cache", {},
                          [this] { return static_cast<double>(cache_.size()); });
  metrics_.gauge_callback("vmroam_vms", "VMs registered with this home agent", {},
                          [this] { return static_cast<double>(vms_.size()); });
  metrics_.gauge_callback("vmroam_revocations_pending", "Registration revocations awaiting an ack", {},
                          [this] { return static_cast<double>(revocations_.size()); });
  build_router();
}

HomeAgent::~HomeAgent() { stop(); }

RegistrarSettings HomeAgent::settings_from(const HaConfig& c) const {
  RegistrarSettings s;
  s.ha_address = c.address;
  s.home_prefix = c.home_prefix;
  s.max_lifetime_s = static_cast<std::uint16_t>(c.max_lifetime_s);
  s.replay_window = std::chrono::seconds(c.replay_window_s);
  s.replay_style = c.replay == "nonce" ? auth::ReplayStyle::nonce : auth::ReplayStyle::timestamp;
  s.mn_ha_required = c.mn_ha_auth == "required";
  s.fa_ha_required = c.fa_ha_auth == "required";
  s.udp_tunnelling = c.udp_tunnelling;
  s.revocation = c.revocation;
  return s;
}

std::unordered_map<Ipv4, ForeignAgent> HomeAgent::foreign_agents_from(const HaConfig& c) const {
  std::unordered_map<Ipv4, ForeignAgent> fas;
  for (const auto& f : c.foreign_agents) fas[f.address] = ForeignAgent{f.address, to_sa(f.fa_ha)};
  return fas;
}

// ---- Time in the store is wall-clock; in memory it is monotonic ---------------------------

store::BindingRecord HomeAgent::to_record(const binding::Binding& b,
                                          const dataplane::TunnelEndpoint& ep) const {
  auto to_wall_ms = [this](TimePoint t) { return unix_ms_from(*seams_.clock, t); };
  store::BindingRecord r;
  r.home_address = b.home_address;
  r.care_of_address = b.care_of_address;
  r.foreign_agent = b.foreign_agent;
  r.lifetime_granted = b.lifetime_granted;
  r.flags = b.flags;
  r.encapsulation = std::string(binding::to_string(b.encapsulation));
  r.registered_at_unix_ms = to_wall_ms(b.registered_at);
  if (!b.infinite()) r.expires_at_unix_ms = to_wall_ms(b.expires_at);
  r.identification = b.identification;
  r.move_seq = b.move_seq;
  r.packets_in = b.counters.packets_in;
  r.bytes_in = b.counters.bytes_in;
  r.packets_out = b.counters.packets_out;
  r.bytes_out = b.counters.bytes_out;
  if (ep.peer != b.care_of_address || ep.udp_port != mip::kRegistrationPort)
    r.params = api::Json{{"tunnel_peer", ep.peer.to_string()}, {"tunnel_port", ep.udp_port}}.dump();
  return r;
}

dataplane::TunnelEndpoint HomeAgent::endpoint_from_record(const store::BindingRecord& r,
                                                          const binding::Binding& b) {
  dataplane::TunnelEndpoint ep{b.care_of_address, b.encapsulation, mip::kRegistrationPort};
  const auto params = api::Json::parse(r.params, nullptr, /*allow_exceptions=*/false);
  if (params.is_object()) {
    if (auto it = params.find("tunnel_peer"); it != params.end() && it->is_string())
      if (auto peer = Ipv4::parse(it->get<std::string>())) ep.peer = *peer;
    if (auto it = params.find("tunnel_port"); it != params.end() && it->is_number_unsigned() &&
                                              it->get<std::uint64_t>() > 0 &&
                                              it->get<std::uint64_t>() < 65536)
      ep.udp_port = static_cast<std::uint16_t>(it->get<std::uint64_t>());
  }
  return ep;
}

binding::Binding HomeAgent::from_record(const store::BindingRecord& r) const {
  auto to_mono = [this](std::int64_t ms) { return monotonic_from_unix_ms(*seams_.clock, ms); };
  binding::Binding b;
  b.home_address = r.home_address;
  b.care_of_address = r.care_of_address;
  b.foreign_agent = r.foreign_agent;
  b.lifetime_granted = r.lifetime_granted;
  b.flags = r.flags;
  b.encapsulation = binding::parse_encapsulation(r.encapsulation).value_or(binding::Encapsulation::ipip);
  b.registered_at = to_mono(r.registered_at_unix_ms);
  b.expires_at = r.expires_at_unix_ms ? to_mono(*r.expires_at_unix_ms) : TimePoint::max();
  b.identification = r.identification;
  b.move_seq = r.move_seq;
  b.counters = {r.packets_in, r.bytes_in, r.packets_out, r.bytes_out};
  return b;
}

// ---- Start-up and shutdown --------------------------------------------------------------

Result<void> HomeAgent::start() {
  auto link = seams_.netlink->link(config_.home_interface);
  if (!link) return fail("home_interface_missing", config_.home_interface + ": " + link.error().to_string());
  home_ifindex_ = link->ifindex;
  home_mac_ = link->mac;

  VMROAM_TRY(store::Snapshot snap, store_.load());
  for (const auto& r : snap.vms) {
    Vm vm{r.id, r.home_address, r.mac, r.allowed_fas, std::nullopt};
    if (!r.key.empty()) {
      if (auto alg = auth::parse_algorithm(r.algorithm))
        vm.mn_ha = auth::SecurityAssociation{r.spi, *alg, r.key};
    }
    vms_.put(std::move(vm));
  }
  for (const auto& r : snap.replay) {
    auth::ReplayState s;
    s.style = registrar_.settings().replay_style;
    s.has_accepted = true;
    s.last_accepted = r.last_identification;
    replay_[r.home_address] = s;
  }
  // Restore bindings; expired ones (the HA was down past their lifetime) go from the store.
  store::Batch drop;
  const TimePoint now = seams_.clock->now();
  std::unordered_map<Ipv4, dataplane::TunnelEndpoint> endpoints;
  for (const auto& r : snap.bindings) {
    binding::Binding b = from_record(r);
    endpoints[b.home_address] = endpoint_from_record(r, b);
    if (!b.infinite() && b.expires_at <= now) {
      drop.delete_binding(b.home_address);
      continue;
    }
    if (auto ok = cache_.restore(b); !ok) {
      log_warn("binding_not_restored",
               {{"hoa", b.home_address.to_string()}, {"reason", ok.error().to_string()}});
      drop.delete_binding(b.home_address);
    }
  }
  if (!drop.empty()) VMROAM_TRY_VOID(commit(drop));

  // Reconcile the kernel: what a crashed predecessor left that no binding explains goes;
  // what a binding needs is (re)created.
  auto owned = seams_.netlink->list_owned({home_ifindex_});
  if (owned) {
    for (const auto& p : owned->proxies) {
      if (p.ifindex == home_ifindex_ && cache_.lookup(p.address)) {
        proxies_.emplace(p.address, dataplane::OwnedProxyNeighbour::adopt(*seams_.netlink, p));
      } else if (p.ifindex == home_ifindex_) {
        log_info("stale_proxy_removed", {{"address", p.address.to_string()}});
        (void)seams_.netlink->remove_proxy_neighbour(p);
      }
    }
  } else {
    log_warn("kernel_state_unreadable", {{"reason", owned.error().to_string()}});
  }
  std::size_t restored = 0;
  cache_.for_each([&](const binding::Binding& b) {
    bind_kernel_state(b, endpoints.at(b.home_address));
    ++restored;
  });
  arm_expiry();
  log_info("home_agent_started", {{"address", config_.address.to_string()},
                                  {"vms", std::to_string(vms_.size())},
                                  {"bindings_restored", std::to_string(restored)},
                                  {"bindings_expired", std::to_string(drop.size())}});
  return ok();
}

void HomeAgent::stop() {
  if (stopped_) return;
  stopped_ = true;
  expiry_timer_.cancel();
  for (auto& [id, r] : revocations_)
    if (r.timer) r.timer->cancel();
  revocations_.clear();
  for (auto& [id, t] : grace_timers_) t->cancel();
  grace_timers_.clear();
  while (!handovers_.empty()) end_handover(handovers_.begin()->first, "stopping");
  // Kernel state goes; the bindings stay in the store for the next start.
  if (seams_.driver) {
    for (const auto& [hoa, ep] : endpoint_of_) (void)seams_.driver->unroute(hoa);
    for (const auto& [peer, refs] : endpoint_refs_) (void)seams_.driver->remove_tunnel_endpoint(peer);
  }
  endpoint_of_.clear();
  endpoint_refs_.clear();
  proxies_.clear();  // RAII: each entry removes its proxy-ARP entry
}

Result<std::vector<std::string>> HomeAgent::reload(const HaConfig& next) {
  std::vector<std::string> needs_restart;
  auto keep = [&](bool same, const char* key) {
    if (!same) needs_restart.emplace_back(key);
  };
  keep(next.address == config_.address, "address");
  keep(next.listen_address == config_.listen_address && next.port == config_.port, "listen_address/port");
  keep(next.home_prefix == config_.home_prefix, "home_prefix");
  keep(next.home_interface == config_.home_interface, "home_interface");
  keep(next.dataplane_driver == config_.dataplane_driver && next.tun_name == config_.tun_name &&
           next.route_table == config_.route_table && next.route_protocol == config_.route_protocol,
       "dataplane");
  keep(next.store_path == config_.store_path, "store.path");
  keep(next.api_socket == config_.api_socket && next.api_tcp == config_.api_tcp &&
           next.api_token_file == config_.api_token_file,
       "api");
  // What can change now: registration policy, foreign agents, log level.
  HaConfig merged = config_;
  merged.max_lifetime_s = next.max_lifetime_s;
  merged.replay_window_s = next.replay_window_s;
  merged.replay = next.replay;
  merged.mn_ha_auth = next.mn_ha_auth;
  merged.fa_ha_auth = next.fa_ha_auth;
  merged.udp_tunnelling = next.udp_tunnelling;
  merged.revocation = next.revocation;
  merged.hold_timeout_ms = next.hold_timeout_ms;
  merged.recover_margin_ms = next.recover_margin_ms;
  merged.foreign_agents = next.foreign_agents;
  merged.log_level = next.log_level;
  config_ = std::move(merged);
  registrar_.set_settings(settings_from(config_));
  registrar_.set_foreign_agents(foreign_agents_from(config_));
  LogLevel level;
  if (parse_log_level(config_.log_level, level)) set_log_level(level);
  return needs_restart;
}

// ---- Registration: queue, decide, commit, apply, reply ------------------------------------

void HomeAgent::on_datagram(ByteView payload, Ipv4 src, std::uint16_t src_port) {
  if (payload.empty()) {
    count_message("empty", -1);
    return;
  }
  // RFC 3519 tunnel data shares the port; it is data-plane work, never queued.
  if (payload[0] == static_cast<std::uint8_t>(mip::MessageType::tunnel_data)) {
    seams_.driver->handle_udp_tunnel_payload(src, src_port, payload);
    return;
  }
  pending_.push_back(Pending{Bytes(payload.begin(), payload.end()), src, src_port});
  if (pending_.size() >= kMaxBatch) flush();
}

void HomeAgent::flush() {
  if (pending_.empty()) return;
  std::vector<Pending> work;
  work.swap(pending_);
  store::Batch batch;
  std::vector<Undo> undo;
  std::vector<Effect> effects;
  for (const auto& p : work) handle_one(p, batch, undo, effects);

  // Forward before durable: the tunnel to a new care-of address is switched now, the reply
  // still waits for the commit (nothing is acknowledged before it is on disk). Forwarding
  // early is harmless if we crash; if the commit fails the switch is undone below. Held VMs
  // (handover hold) are not switched early: their held packets must go first, in order.
  struct EarlySwitch {
    Ipv4 hoa;
    std::optional<dataplane::TunnelEndpoint> previous;
  };
  std::vector<EarlySwitch> switched;
  for (auto& e : effects) {
    if (!e.upsert || holding(e.upsert->binding.home_address)) continue;
    e.routed_early = true;
    const Ipv4 hoa = e.upsert->binding.home_address;
    auto prev = endpoint_of_.find(hoa);
    switched.push_back({hoa, prev == endpoint_of_.end() ? std::nullopt : std::optional(prev->second)});
    acquire_endpoint(hoa, {e.verdict.tunnel_peer, e.upsert->binding.encapsulation, e.verdict.tunnel_port});
    if (auto r = seams_.driver->route(hoa, e.verdict.tunnel_peer); !r)
      log_error("tunnel_route_failed", {{"hoa", hoa.to_string()}, {"reason", r.error().to_string()}});
  }

  if (!batch.empty()) {
    if (auto ok = commit(batch); !ok) {
      for (auto it = switched.rbegin(); it != switched.rend(); ++it) {
        if (it->previous) {
          acquire_endpoint(it->hoa, *it->previous);
          (void)seams_.driver->route(it->hoa, it->previous->peer);
        } else {
          (void)seams_.driver->unroute(it->hoa);
          release_endpoint(it->hoa);
        }
      }
      // Nothing of this batch is durable: forget it in memory too, and say so to every sender.
      log_error("store_commit_failed",
                {{"reason", ok.error().to_string()}, {"requests", std::to_string(effects.size())}});
      for (auto it = undo.rbegin(); it != undo.rend(); ++it) {
        cache_.remove(it->hoa);
        if (it->binding) (void)cache_.restore(*it->binding);
        if (it->replay)
          replay_[it->hoa] = *it->replay;
        else
          replay_.erase(it->hoa);
      }
      for (auto& e : effects) {
        if (e.verdict.kind == VerdictKind::deny) {
          seams_.send_udp(e.reply_to, e.reply_port, e.verdict.reply_bytes);
          continue;
        }
        wire::RegistrationReply r = e.verdict.reply;
        r.code = mip::code::ha_insufficient_resources;
        r.lifetime = 0;
        r.extensions.clear();
        seams_.send_udp(e.reply_to, e.reply_port, wire::encode(r));
        count_message("store_failed", r.code);
      }
      arm_expiry();
      return;
    }
  }
  for (const auto& e : effects) apply(e);
  arm_expiry();
}

void HomeAgent::handle_one(const Pending& p, store::Batch& batch, std::vector<Undo>& undo,
                           std::vector<Effect>& effects) {
  auto msg = wire::parse_message(p.payload);
  if (!msg) {
    // Answer a request we could not parse with 134 when we can address the reply.
    if (auto reply = registrar_.poorly_formed_reply(p.payload)) seams_.send_udp(p.src, p.port, *reply);
    count_message(msg.error().code, mip::code::ha_poorly_formed_request);
    log_debug("message_rejected", {{"from", p.src.to_string()}, {"reason", msg.error().to_string()}});
    return;
  }
  if (auto* ack = std::get_if<wire::RevocationAck>(&*msg)) {
    handle_revocation_ack(*ack, p.payload, p.src);
    return;
  }
  auto* req = std::get_if<wire::RegistrationRequest>(&*msg);
  if (!req) {
    count_message("unexpected_message", -1);
    return;
  }
  const TimePoint now = seams_.clock->now();
  RequestContext ctx{p.src, p.port, seams_.clock->wall_now(), seams_.random32 ? seams_.random32() : 0};
  const binding::Binding* current = cache_.lookup(req->home_address);
  auth::ReplayState replay;
  replay.style = registrar_.settings().replay_style;
  if (auto it = replay_.find(req->home_address); it != replay_.end()) replay = it->second;

  Effect e;
  e.verdict = registrar_.decide(*req, p.payload, ctx, vms_, current, replay);
  e.reply_to = p.src;
  e.reply_port = p.port;
  const Verdict& v = e.verdict;
  count_message(v.reason, v.code);

  if (v.kind != VerdictKind::deny || v.replay != replay) {
    Undo u{req->home_address, current ? std::optional<binding::Binding>(*current) : std::nullopt,
           std::nullopt};
    if (auto it = replay_.find(req->home_address); it != replay_.end()) u.replay = it->second;
    undo.push_back(std::move(u));
    replay_[req->home_address] = v.replay;
    batch.put_replay(store::ReplayRecord{req->home_address, v.replay.last_accepted});
  }
  switch (v.kind) {
    case VerdictKind::bind: {
      auto outcome = cache_.upsert(v.registration, now);
      if (!outcome) std::abort();  // the registrar never grants lifetime 0 or zero addresses
      batch.put_binding(
          to_record(outcome->binding, {v.tunnel_peer, outcome->binding.encapsulation, v.tunnel_port}));
      e.upsert = std::move(*outcome);
      break;
    }
    case VerdictKind::unbind:
      e.removed = cache_.remove(req->home_address);
      batch.delete_binding(req->home_address);
      break;
    case VerdictKind::unchanged:
    case VerdictKind::deny:
      break;
  }
  effects.push_back(std::move(e));
}

Result<void> HomeAgent::commit(const store::Batch& batch) {
  const auto t0 = std::chrono::steady_clock::now();
  auto r = store_.commit(batch);
  commit_seconds_->observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  if (!r) {
    store_failures_->inc();
    if (r.error().code == "store_poisoned" && seams_.on_fatal) seams_.on_fatal(r.error());
  }
  return r;
}

void HomeAgent::apply(const Effect& e) {
  const Verdict& v = e.verdict;
  if (e.upsert) {
    const auto& b = e.upsert->binding;
    dataplane::TunnelEndpoint ep{v.tunnel_peer, b.encapsulation, v.tunnel_port};
    bind_kernel_state(b, ep, /*route=*/!e.routed_early);
    log_info("registration_accepted", {{"hoa", b.home_address.to_string()},
                                       {"coa", b.care_of_address.to_string()},
                                       {"kind", binding::to_string(e.upsert->kind)},
                                       {"lifetime", std::to_string(b.lifetime_granted)},
                                       {"encapsulation", std::string(binding::to_string(b.encapsulation))}});
  } else if (e.removed) {
    // A deregistration means the VM is home again (a move elsewhere is an upsert, not this):
    // give the home link its MAC back.
    unbind_kernel_state(*e.removed, /*announce_home=*/true);
    log_info("registration_deregistered", {{"hoa", e.removed->home_address.to_string()}});
  } else if (v.kind == VerdictKind::deny) {
    log_info("registration_denied", {{"hoa", v.reply.home_address.to_string()},
                                     {"from", e.reply_to.to_string()},
                                     {"code", std::to_string(v.code)},
                                     {"reason", std::string(v.reason)},
                                     {"detail", v.detail}});
  }
  // The reply goes after the kernel state: when the FA hears "accepted", the tunnel is
  // already in place. The old FA is told after that (RFC 3543 §4): it is not in a hurry.
  seams_.send_udp(e.reply_to, e.reply_port, v.reply_bytes);
  // A held VM's binding changed: its packets go to the new place now, after the reply so
  // that the FA knows the binding when they arrive.
  const Ipv4 changed = e.upsert    ? e.upsert->binding.home_address
                       : e.removed ? e.removed->home_address
                                   : Ipv4();
  if (!changed.is_zero() && holding(changed)) end_handover(changed, e.upsert ? "registered" : "deregistered");
  if (e.upsert && e.upsert->kind == binding::UpsertKind::moved && e.upsert->previous && config_.revocation)
    send_revocation(*e.upsert->previous);
}

// ---- Kernel state ---------------------------------------------------------------------

void HomeAgent::acquire_endpoint(Ipv4 hoa, const dataplane::TunnelEndpoint& ep) {
  if (auto it = endpoint_of_.find(hoa); it != endpoint_of_.end()) {
    if (it->second == ep) return;
    release_endpoint(hoa);
  }
  if (auto r = seams_.driver->add_tunnel_endpoint(ep); !r)
    log_error("tunnel_endpoint_failed", {{"peer", ep.peer.to_string()}, {"reason", r.error().to_string()}});
  endpoint_of_[hoa] = ep;
  ++endpoint_refs_[ep.peer];
}

void HomeAgent::release_endpoint(Ipv4 hoa) {
  auto it = endpoint_of_.find(hoa);
  if (it == endpoint_of_.end()) return;
  const Ipv4 peer = it->second.peer;
  endpoint_of_.erase(it);
  // The FA the VM just left may still be reverse-tunnelling replies it had in flight: keep
  // its endpoint (and the driver's grace for this HoA) a little longer, then let go.
  const std::uint64_t id = next_grace_id_++;
  auto timer = std::make_unique<boost::asio::steady_timer>(io_, seams_.previous_peer_grace);
  timer->async_wait([this, id, hoa, peer](const boost::system::error_code& ec) {
    if (ec) return;
    grace_timers_.erase(id);
    seams_.driver->end_grace(hoa);  // the current route (if any) is unaffected
    drop_endpoint_ref(peer);
  });
  grace_timers_.emplace(id, std::move(timer));
}

void HomeAgent::drop_endpoint_ref(Ipv4 peer) {
  auto it = endpoint_refs_.find(peer);
  if (it == endpoint_refs_.end()) return;
  if (--it->second <= 0) {
    endpoint_refs_.erase(it);
    (void)seams_.driver->remove_tunnel_endpoint(peer);
  }
}

void HomeAgent::bind_kernel_state(const binding::Binding& b, const dataplane::TunnelEndpoint& ep,
                                  bool route) {
  const Ipv4 hoa = b.home_address;
  acquire_endpoint(hoa, ep);
  if (route)
    if (auto r = seams_.driver->route(hoa, ep.peer); !r)
      log_error("tunnel_route_failed", {{"hoa", hoa.to_string()}, {"reason", r.error().to_string()}});
  if (!proxies_.contains(hoa) && home_ifindex_ > 0) {
    auto p = dataplane::OwnedProxyNeighbour::create(*seams_.netlink, {hoa, home_ifindex_});
    if (p) {
      proxies_.emplace(hoa, std::move(*p));
      // The VM left: point the home link's caches at us now (RFC 5944 §4.6).
      announce(hoa, home_mac_);
    } else {
      log_error("proxy_arp_failed", {{"hoa", hoa.to_string()}, {"reason", p.error().to_string()}});
    }
  }
}

void HomeAgent::unbind_kernel_state(const binding::Binding& b, bool announce_home) {
  const Ipv4 hoa = b.home_address;
  (void)seams_.driver->unroute(hoa);
  release_endpoint(hoa);
  proxies_.erase(hoa);
  // The VM is home again: point the caches back at its own MAC (RFC 5944 §4.6).
  if (announce_home)
    if (const Vm* vm = vms_.by_home_address(hoa)) announce(hoa, vm->mac);
}

void HomeAgent::announce(Ipv4 hoa, const MacAddress& mac) {
  if (!seams_.send_home_frame || mac.is_zero()) return;
  const Bytes frame = wire::build_gratuitous_arp(mac, hoa);
  seams_.send_home_frame(frame);
}

// ---- Revocation (RFC 3543) --------------------------------------------------------------

void HomeAgent::send_revocation(const binding::Binding& previous) {
  const ForeignAgent* fa = registrar_.foreign_agent(previous.foreign_agent);
  if (!fa || !fa->fa_ha) return;  // RFC 3543 §3: revocations are always FA-HA authenticated
  wire::Revocation rev;
  rev.flags = mip::revocation::flag_A;
  rev.home_address = previous.home_address;
  rev.home_domain_address = config_.address;
  rev.foreign_domain_address = previous.foreign_agent;
  rev.revocation_id = seams_.random32 ? seams_.random32() : static_cast<std::uint32_t>(previous.move_seq);
  if (auto r = auth::append_auth(rev, mip::ext::fa_ha_auth, *fa->fa_ha); !r) return;
  PendingRevocation pr{wire::encode(rev), fa->address, 0, std::make_unique<boost::asio::steady_timer>(io_)};
  const std::uint32_t id = rev.revocation_id;
  revocations_[id] = std::move(pr);
  retransmit_revocation(id);
}

void HomeAgent::retransmit_revocation(std::uint32_t id) {
  auto it = revocations_.find(id);
  if (it == revocations_.end()) return;
  PendingRevocation& r = it->second;
  if (r.attempts >= kRevocationAttempts) {
    log_warn("revocation_unacknowledged", {{"fa", r.fa.to_string()}, {"id", std::to_string(id)}});
    revocations_.erase(it);
    return;
  }
  seams_.send_udp(r.fa, mip::kRegistrationPort, r.message);
  ++r.attempts;
  r.timer->expires_after(kRevocationInitial * (1 << (r.attempts - 1)));
  r.timer->async_wait([this, id](const boost::system::error_code& ec) {
    if (!ec) retransmit_revocation(id);
  });
}

void HomeAgent::handle_revocation_ack(const wire::RevocationAck& ack, ByteView raw, Ipv4 src) {
  auto it = revocations_.find(ack.revocation_id);
  if (it == revocations_.end() || it->second.fa != src) {
    count_message("revocation_ack_unknown", -1);
    return;
  }
  const ForeignAgent* fa = registrar_.foreign_agent(src);
  if (!fa || !fa->fa_ha || !auth::verify(raw, ack.extensions, mip::ext::fa_ha_auth, *fa->fa_ha)) {
    count_message("revocation_ack_auth_failed", -1);
    return;
  }
  it->second.timer->cancel();
  revocations_.erase(it);
  count_message("revocation_acknowledged", -1);
}

// ---- Expiry ---------------------------------------------------------------------------

void HomeAgent::arm_expiry() {
  auto next = cache_.next_expiry();
  if (!next) {
    expiry_timer_.cancel();
    return;
  }
  // steady_timer and our TimePoint share steady_clock, but the clock seam may be fake: go
  // through "time from now".
  const auto in = *next - seams_.clock->now();
  expiry_timer_.expires_after(in > Duration::zero() ? in : Duration::zero());
  expiry_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) on_expiry();
  });
}

void HomeAgent::on_expiry() {
  auto expired = cache_.expire(seams_.clock->now());
  if (!expired.empty()) {
    store::Batch batch;
    for (const auto& b : expired) batch.delete_binding(b.home_address);
    if (auto r = commit(batch); !r) {
      // Keep them: the next start will expire them from the store.
      log_error("store_commit_failed", {{"reason", r.error().to_string()}});
      for (const auto& b : expired) (void)cache_.restore(b);
    } else {
      for (const auto& b : expired) {
        unbind_kernel_state(b, false);
        log_info("binding_expired",
                 {{"hoa", b.home_address.to_string()}, {"coa", b.care_of_address.to_string()}});
        metrics_.counter("vmroam_bindings_expired_total", "Bindings whose lifetime ran out").inc();
      }
    }
  }
  arm_expiry();
}

// ---- Handover hold ----------------------------------------------------------------------

namespace {
// How long a prepared handover records before it gives up on the driver: longer than any
// migration we expect (a large guest over a slow WAN), short enough not to record for ever.
constexpr auto kHandoverPrepareLimit = std::chrono::hours(1);
}  // namespace

Result<HomeAgent::HandoverOutcome> HomeAgent::handover(Ipv4 hoa, HandoverPhase phase,
                                                       std::optional<WallTime> stopped_at) {
  auto& driver = *seams_.driver;
  auto it = handovers_.find(hoa);
  const binding::Binding* bound = cache_.lookup(hoa);
  switch (phase) {
    case HandoverPhase::prepare: {
      if (it != handovers_.end() && it->second.holding)
        return fail("holding", "a hold is in progress for " + hoa.to_string());
      Handover h;
      if (bound) h.coa_at_prepare = bound->care_of_address;
      // Record on both paths: the binding may change before the stop (an early handover).
      if (hold_)
        if (auto r = hold_->record(hoa); !r)
          log_warn("handover_record_failed", {{"hoa", hoa.to_string()}, {"reason", r.error().to_string()}});
      home_recorder_.watch(hoa);
      if (seams_.watch_home_link)
        if (auto r = seams_.watch_home_link(hoa, true); !r)
          log_warn("home_link_capture_failed", {{"hoa", hoa.to_string()}, {"reason", r.error().to_string()}});
      // Recording stops by itself if the driver never comes back (a dead driver must not
      // leave a capture running for ever).
      h.timer = std::make_unique<boost::asio::steady_timer>(io_, kHandoverPrepareLimit);
      h.timer->async_wait([this, hoa](const boost::system::error_code& ec) {
        if (!ec) end_handover(hoa, "prepare_expired");
      });
      handovers_[hoa] = std::move(h);
      log_info("handover_prepared", {{"hoa", hoa.to_string()}, {"at", bound ? "away" : "home"}});
      return HandoverOutcome{"recording", 0, 0};
    }
    case HandoverPhase::stopped: {
      if (it != handovers_.end() && it->second.holding) return HandoverOutcome{"holding", 0, 0};
      const bool prepared = it != handovers_.end();
      const std::optional<Ipv4> coa_at_prepare = prepared ? it->second.coa_at_prepare : std::nullopt;
      std::vector<Bytes> from_home;
      std::optional<WallTime> since;
      if (stopped_at) since = *stopped_at - std::chrono::milliseconds(config_.recover_margin_ms);
      if (prepared) {
        if (seams_.drain_home_link) seams_.drain_home_link();
        if (since) from_home = home_recorder_.take_since(hoa, *since);
      }
      if (!hold_)
        return fail("not_supported",
                    "the " + std::string(driver.name()) +
                        " data plane cannot hold packets (dataplane.driver \"userspace\" can)");
      auto held = hold_->hold(hoa, since, std::move(from_home));
      if (!held) return fail(held.error());
      Handover& h = handovers_[hoa];  // a stop without prepare holds too (nothing recorded)
      const std::optional<Ipv4> coa_now = bound ? std::optional(bound->care_of_address) : std::nullopt;
      const bool moved_already = prepared && coa_now != coa_at_prepare;
      h.holding = true;
      home_recorder_.unwatch(hoa);
      if (seams_.watch_home_link) (void)seams_.watch_home_link(hoa, false);
      log_info("handover_holding", {{"hoa", hoa.to_string()}, {"recovered", std::to_string(*held)}});
      metrics_.counter("vmroam_handover_recovered_packets_total", "Packets recovered at a handover stop")
          .inc(static_cast<double>(*held));
      if (moved_already) {
        // The new binding arrived before the driver's stop: nothing to wait for.
        const std::size_t released = hold_->release(hoa).value_or(0);
        drop_handover(hoa);
        return HandoverOutcome{"released", *held, released};
      }
      h.timer = std::make_unique<boost::asio::steady_timer>(
          io_, std::chrono::milliseconds(config_.hold_timeout_ms));
      h.timer->async_wait([this, hoa](const boost::system::error_code& ec) {
        if (!ec) end_handover(hoa, "hold_timeout");
      });
      return HandoverOutcome{"holding", *held, 0};
    }
    case HandoverPhase::cancel: {
      if (it == handovers_.end()) return HandoverOutcome{"idle", 0, 0};
      const bool was_holding = it->second.holding;
      const std::size_t released = was_holding && hold_ ? hold_->release(hoa).value_or(0) : 0;
      drop_handover(hoa);
      log_info("handover_cancelled", {{"hoa", hoa.to_string()}, {"released", std::to_string(released)}});
      return HandoverOutcome{"idle", 0, released};
    }
  }
  std::abort();  // every phase returned above
}

void HomeAgent::end_handover(Ipv4 hoa, std::string_view why) {
  auto it = handovers_.find(hoa);
  if (it == handovers_.end()) return;
  std::size_t released = 0;
  if (it->second.holding && hold_) {
    if (auto r = hold_->release(hoa)) released = *r;
  }
  drop_handover(hoa);
  // A hold that no registration ended is worth a warning: the move did not complete as planned.
  const bool planned = why == "registered" || why == "deregistered";
  log_event(planned ? LogLevel::info : LogLevel::warn, "handover_released",
            {{"hoa", hoa.to_string()}, {"why", std::string(why)}, {"released", std::to_string(released)}});
}

void HomeAgent::drop_handover(Ipv4 hoa) {
  auto it = handovers_.find(hoa);
  if (it == handovers_.end()) return;
  if (it->second.timer) it->second.timer->cancel();
  if (hold_) {
    // A failed untap is harmless: the hold has stopped keeping the copies either way.
    [[maybe_unused]] const auto untapped = hold_->stop_recording(hoa);
  }
  home_recorder_.unwatch(hoa);
  if (seams_.watch_home_link) (void)seams_.watch_home_link(hoa, false);
  handovers_.erase(it);
}

void HomeAgent::on_home_link_frame(WallTime at, ByteView frame) {
  auto eth = wire::parse_ethernet(frame);
  if (!eth || eth->ethertype != 0x0800) return;
  auto ip = wire::parse_ipv4(eth->payload);
  if (!ip) return;
  // The Ethernet payload may carry padding: keep the IPv4 packet only.
  const std::size_t len = std::min<std::size_t>(ip->total_length, eth->payload.size());
  home_recorder_.record(ip->dst, at, eth->payload.first(len));
}

void HomeAgent::count_message(std::string_view result, int code) {
  api::Labels labels{{"result", std::string(result)}};
  if (code >= 0) labels.emplace_back("code", std::to_string(code));
  metrics_
      .counter("vmroam_registration_messages_total", "UDP 434 control messages by outcome", std::move(labels))
      .inc();
}

}  // namespace vmroam::ha
