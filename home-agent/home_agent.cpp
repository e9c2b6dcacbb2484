#include "home-agent/home_agent.hpp"

#include <algorithm>
#include <chrono>

#include "common/auth/authenticator.hpp"
#include "common/core/log.hpp"
#include "common/wire/message.hpp"
#include "home-agent/binding_record.hpp"

namespace vmroam::ha {

namespace {

std::optional<auth::SecurityAssociation> to_sa(const std::optional<SecurityAssociationConfig>& c) {
  if (!c) return std::nullopt;
  auto alg = auth::parse_algorithm(c->algorithm);
  if (!alg) return std::nullopt;  // the config parser only admits known names
  return auth::SecurityAssociation{c->spi, *alg, c->key};
}

RegistrarSettings settings_from(const HaConfig& c) {
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

std::unordered_map<Ipv4, ForeignAgent> foreign_agents_from(const HaConfig& c) {
  std::unordered_map<Ipv4, ForeignAgent> fas;
  for (const auto& f : c.foreign_agents) fas[f.address] = ForeignAgent{f.address, to_sa(f.fa_ha)};
  return fas;
}

HandoverSeams handover_seams(const HomeAgentIo& io) {
  HandoverSeams s;
  s.port = io.driver ? io.driver->hold_port() : nullptr;
  s.driver_name = io.driver ? std::string(io.driver->name()) : "absent";
  s.watch_home_link = io.watch_home_link;
  s.drain_home_link = io.drain_home_link;
  return s;
}

}  // namespace

HomeAgent::HomeAgent(boost::asio::io_context& io, HaConfig config, HomeAgentIo seams, store::Store store)
    : io_(io),
      config_(std::move(config)),
      seams_(std::move(seams)),
      store_(std::move(store)),
      registrar_(settings_from(config_)),
      tunnels_(io, *seams_.driver, seams_.previous_peer_grace),
      home_link_(*seams_.netlink, seams_.send_home_frame),
      revocations_(io, registrar_, seams_.send_udp, seams_.random32,
                   [this](std::uint32_t id) { forget_revocation(id); }),
      handovers_(io, handover_seams(seams_), config_),
      batch_([this](Ipv4 src, std::uint16_t port,
                    ByteView payload) { seams_.driver->handle_udp_tunnel_payload(src, port, payload); },
             [this](std::span<const daemon::ControlDatagram> datagrams) { handle_batch(datagrams); }),
      replies_(seams_.send_udp, seams_.send_udp_segmented),
      expiry_timer_(io),
      suppressed_timer_(io) {
  if (!seams_.cluster) pipeline_ = std::make_unique<store::CommitPipeline>(io, store_);
  registrar_.set_foreign_agents(foreign_agents_from(config_));
  started_at_ = seams_.clock->now();
  commit_seconds_ = &metrics_.histogram("vmroam_store_commit_seconds", "Durable store commit latency",
                                        api::latency_buckets());
  store_failures_ = &metrics_.counter("vmroam_store_commit_failures_total", "Store commits that failed");
  metrics_.gauge_callback("vmroam_bindings", "Bindings in the cache", {},
                          [this] { return static_cast<double>(cache_.size()); });
  metrics_.gauge_callback("vmroam_vms", "VMs registered with this home agent", {},
                          [this] { return static_cast<double>(vms_.size()); });
  metrics_.gauge_callback("vmroam_revocations_pending", "Registration revocations awaiting an ack", {},
                          [this] { return static_cast<double>(revocations_.pending()); });
  if (seams_.cluster) add_cluster_metrics();
}

HomeAgent::~HomeAgent() { stop(); }

// ---- Start-up and shutdown --------------------------------------------------------------

Result<void> HomeAgent::start() {
  VMROAM_TRY_VOID(home_link_.open(config_.home_interface));
  VMROAM_TRY(Restored restored, restore());
  if (standby()) {
    // A standby holds the state, not the duties: whatever a predecessor left on the home
    // link goes, and take_over() installs everything if this HA is elected.
    home_link_.reconcile([](Ipv4) { return false; });
    mirrored_endpoints_ = std::move(restored.endpoints);
    for (auto& r : restored.revocations) mirrored_revocations_[r.revocation_id] = std::move(r);
    log_info("home_agent_started", {{"address", config_.address.to_string()},
                                    {"role", "standby"},
                                    {"vms", std::to_string(vms_.size())},
                                    {"bindings_mirrored", std::to_string(cache_.size())}});
    return ok();
  }
  // Reconcile the kernel: what a crashed predecessor left that no binding explains goes;
  // what a binding needs is (re)created.
  home_link_.reconcile([this](Ipv4 hoa) { return cache_.lookup(hoa) != nullptr; },
                       [this](const Ipv6& a) { return bound_v6(a); });
  cache_.for_each(
      [&](const binding::Binding& b) { bind_kernel_state(b, restored.endpoints.at(b.home_address)); });
  arm_expiry();
  log_info("home_agent_started", {{"address", config_.address.to_string()},
                                  {"vms", std::to_string(vms_.size())},
                                  {"bindings_restored", std::to_string(cache_.size())},
                                  {"bindings_expired", std::to_string(restored.expired)},
                                  {"revocations_resent", std::to_string(restored.revocations.size())}});
  // Revocations a predecessor committed but never saw acknowledged go out again (RFC 3543 §4).
  for (const auto& r : restored.revocations) revocations_.start(r);
  return ok();
}

Result<HomeAgent::Restored> HomeAgent::restore() {
  VMROAM_TRY(store::Snapshot snap, load_snapshot());
  for (const auto& r : snap.vms) {
    Vm vm{r.id, r.home_address, r.mac, r.allowed_fas, std::nullopt, r.home_addresses_v6};
    if (!r.key.empty())
      if (auto alg = auth::parse_algorithm(r.algorithm))
        vm.mn_ha = auth::SecurityAssociation{r.spi, *alg, r.key};
    vms_.put(std::move(vm));
  }
  for (const auto& r : snap.replay) {
    auth::ReplayState s;
    s.style = registrar_.settings().replay_style;
    s.has_accepted = true;
    s.last_accepted = r.last_identification;
    replay_[r.home_address] = s;
  }
  // Expired bindings (the HA was down past their lifetime) go from the store.
  store::Batch drop;
  Restored restored;
  const TimePoint now = seams_.clock->now();
  for (const auto& r : snap.bindings) {
    binding::Binding b = from_record(r, *seams_.clock);
    restored.endpoints[b.home_address] = endpoint_from_record(r, b);
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
  // In a cluster the active HA expires bindings; a standby only leaves them out of memory.
  if (!drop.empty() && !seams_.cluster) VMROAM_TRY_VOID(commit(drop));
  restored.expired = drop.size();
  restored.revocations = std::move(snap.revocations);
  return restored;
}

void HomeAgent::stop() {
  if (stopped_) return;
  settle_commits();  // what is in flight is answered while everything it needs is still here
  stopped_ = true;
  expiry_timer_.cancel();
  suppressed_timer_.cancel();
  report_suppressed();
  revocations_.stop();
  handovers_.stop();
  // Kernel state goes; the bindings stay in the store for the next start.
  tunnels_.stop();
  home_link_.clear();  // RAII: each entry removes its proxy-ARP entry
}

Result<std::vector<std::string>> HomeAgent::reload(const HaConfig& next) {
  Reloaded r = reload_config(config_, next);
  config_ = std::move(r.config);
  registrar_.set_settings(settings_from(config_));
  registrar_.set_foreign_agents(foreign_agents_from(config_));
  LogLevel level;
  if (parse_log_level(config_.log_level, level)) set_log_level(level);
  return std::move(r.needs_restart);
}

// ---- Registration: queue, decide, commit, apply, reply ------------------------------------

void HomeAgent::on_datagram(ByteView payload, Ipv4 src, std::uint16_t src_port) {
  if (batch_.add(payload, src, src_port) == daemon::ControlBatch::Sorted::empty) count_message("empty", -1);
}

void HomeAgent::handle_batch(std::span<const daemon::ControlDatagram> datagrams) {
  if (standby()) {
    // Only the active HA answers (it holds the service address; this is a stray datagram).
    count_message("standby", -1);
    return;
  }
  if (seams_.cluster) {
    Batch batch;
    for (const auto& d : datagrams) handle_one(d, batch);
    commit_clustered(std::move(batch));
    return;
  }
  // A commit is in flight: decide against memory (which already holds its batch) into the
  // batch that follows it. Past kMaxWaiting the loop waits for the disk instead (memory stays
  // bounded; the socket's buffer, then the kernel, absorb the rest).
  if (in_flight_ && waiting_ && waiting_->effects.size() >= kMaxWaiting) pipeline_->settle();
  if (in_flight_) {
    if (!waiting_) waiting_.emplace();
    for (const auto& d : datagrams) handle_one(d, *waiting_);
    return;
  }
  Batch batch;
  for (const auto& d : datagrams) handle_one(d, batch);
  submit(std::move(batch));
  if (!overlap_commits_) settle_commits();
}

// Nothing in flight: a batch without mutations is answered now; one with mutations switches
// its tunnels early and goes to the writer thread, its effects wait for on_committed().
void HomeAgent::submit(Batch batch) {
  if (batch.store.empty()) {
    apply_all(batch.effects);
    arm_expiry();
    return;
  }
  std::vector<EarlySwitch> switched = switch_early(batch.effects);
  store::Batch mutations = std::move(batch.store);
  in_flight_.emplace(InFlight{std::move(batch), std::move(switched), std::chrono::steady_clock::now()});
  pipeline_->commit_async(std::move(mutations), [this](const Result<void>& r) { on_committed(r); });
}

// The batch in flight is durable (apply its effects and reply; the waiting batch goes next)
// or it failed: then the waiting batch goes too, since it was decided against memory that held
// the failed one. Memory is undone latest first, the senders hear in the order they asked.
void HomeAgent::on_committed(const Result<void>& r) {
  InFlight done = std::move(*in_flight_);
  in_flight_.reset();
  note_commit(done.started, r);
  if (!r) {
    std::optional<Batch> waiting = std::move(waiting_);
    waiting_.reset();
    log_error(
        "store_commit_failed",
        {{"reason", r.error().to_string()},
         {"requests", std::to_string(done.batch.effects.size() + (waiting ? waiting->effects.size() : 0))}});
    if (waiting) undo(*waiting, {});
    undo(done.batch, done.switched);
    answer_failed(done.batch);
    if (waiting) answer_failed(*waiting);
    arm_expiry();
    return;
  }
  apply_all(done.batch.effects);
  if (waiting_) {
    Batch next = std::move(*waiting_);
    waiting_.reset();
    submit(std::move(next));
  }
  arm_expiry();
}

void HomeAgent::settle_commits() {
  if (pipeline_) pipeline_->settle();
}

void HomeAgent::handle_one(const daemon::ControlDatagram& d, Batch& batch) {
  auto msg = wire::parse_message(d.payload);
  if (!msg) {
    // Answer a request we could not parse with 134 when we can address the reply.
    if (auto reply = registrar_.poorly_formed_reply(d.payload); reply && may_reply(msg.error().code))
      seams_.send_udp(d.src, d.port, *reply);
    count_message(msg.error().code, mip::code::ha_poorly_formed_request);
    if (may_log(msg.error().code))
      log_debug("message_rejected", {{"from", d.src.to_string()}, {"reason", msg.error().to_string()}});
    return;
  }
  if (auto* ack = std::get_if<wire::RevocationAck>(&*msg)) {
    count_message(revocations_.on_ack(*ack, d.payload, d.src), -1);
    return;
  }
  auto* req = std::get_if<wire::RegistrationRequest>(&*msg);
  if (!req) {
    count_message("unexpected_message", -1);
    return;
  }
  RequestContext ctx{d.src, d.port, seams_.clock->wall_now(), seams_.random32 ? seams_.random32() : 0};
  auth::ReplayState replay;
  replay.style = registrar_.settings().replay_style;
  if (auto it = replay_.find(req->home_address); it != replay_.end()) replay = it->second;
  Effect e;
  e.verdict = registrar_.decide(*req, d.payload, ctx, vms_, cache_.lookup(req->home_address), replay);
  e.reply_to = d.src;
  e.reply_port = d.port;
  count_message(e.verdict.reason, e.verdict.code);
  if (e.verdict.kind != VerdictKind::deny || e.verdict.replay != replay) record_effect(*req, e, batch);
  batch.effects.push_back(std::move(e));
}

// Applies an accepted request (or a denial that moved the replay state) to memory, with its
// undo record, and queues its store mutations.
void HomeAgent::record_effect(const wire::RegistrationRequest& req, Effect& e, Batch& batch) {
  const Verdict& v = e.verdict;
  const Ipv4 hoa = req.home_address;
  const binding::Binding* current = cache_.lookup(hoa);
  Undo u{hoa, current ? std::optional<binding::Binding>(*current) : std::nullopt, std::nullopt};
  if (auto it = replay_.find(hoa); it != replay_.end()) u.replay = it->second;
  batch.undo.push_back(std::move(u));
  replay_[hoa] = v.replay;
  batch.store.put_replay(store::ReplayRecord{hoa, v.replay.last_accepted});
  switch (v.kind) {
    case VerdictKind::bind: {
      auto outcome = cache_.upsert(v.registration, seams_.clock->now());
      if (!outcome) std::abort();  // the registrar never grants lifetime 0 or zero addresses
      const dataplane::TunnelEndpoint ep{v.tunnel_peer, outcome->binding.encapsulation, v.tunnel_port};
      batch.store.put_binding(to_record(outcome->binding, ep, *seams_.clock));
      // The old FA's revocation is committed with the move, so that a restart still sends it.
      if (outcome->kind == binding::UpsertKind::moved && outcome->previous && config_.revocation) {
        e.revocation = revocations_.prepare(*outcome->previous, config_.address,
                                            unix_ms_from(*seams_.clock, seams_.clock->now()));
        if (e.revocation) batch.store.put_revocation(*e.revocation);
      }
      e.upsert = std::move(*outcome);
      break;
    }
    case VerdictKind::unbind:
      e.removed = cache_.remove(hoa);
      batch.store.delete_binding(hoa);
      break;
    case VerdictKind::unchanged:
    case VerdictKind::deny:
      break;
  }
}

// Forward before durable: the tunnel to a new care-of address is switched now, the reply still
// waits for the commit (nothing is acknowledged before it is on disk). Forwarding early is
// harmless if we crash; if the commit fails the switch is undone. Held VMs (handover hold) are
// not switched early: their held packets must go first, in order.
std::vector<HomeAgent::EarlySwitch> HomeAgent::switch_early(std::vector<Effect>& effects) {
  std::vector<EarlySwitch> switched;
  for (auto& e : effects) {
    if (!e.upsert || holding(e.upsert->binding.home_address)) continue;
    e.routed_early = true;
    const Ipv4 hoa = e.upsert->binding.home_address;
    switched.push_back({hoa, tunnels_.endpoint_of(hoa)});
    tunnels_.set_home_addresses_v6(hoa, e.upsert->binding.home_addresses_v6);
    tunnels_.bind(hoa, {e.verdict.tunnel_peer, e.upsert->binding.encapsulation, e.verdict.tunnel_port});
  }
  return switched;
}

// Nothing of the batch is durable: the early switches are undone and memory forgets the batch.
void HomeAgent::undo(const Batch& batch, const std::vector<EarlySwitch>& switched) {
  for (auto it = switched.rbegin(); it != switched.rend(); ++it) tunnels_.restore(it->hoa, it->previous);
  for (auto it = batch.undo.rbegin(); it != batch.undo.rend(); ++it) {
    cache_.remove(it->hoa);
    if (it->binding)
      if (auto r = cache_.restore(*it->binding); !r) std::abort();  // it was in the cache moments ago
    if (it->replay)
      replay_[it->hoa] = *it->replay;
    else
      replay_.erase(it->hoa);
  }
}

// Every sender of an undone batch hears so (130, insufficient resources; denials keep theirs).
void HomeAgent::answer_failed(const Batch& batch) {
  for (const auto& e : batch.effects) {
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
}

// Synchronous: after everything in flight (API writes, expiry, start-up).
Result<void> HomeAgent::commit(const store::Batch& batch) {
  settle_commits();
  const auto t0 = std::chrono::steady_clock::now();
  auto r = seams_.cluster ? seams_.cluster->commit_now(batch) : store_.commit(batch);
  note_commit(t0, r);
  return r;
}

void HomeAgent::note_commit(std::chrono::steady_clock::time_point started, const Result<void>& r) {
  commit_seconds_->observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (!r) {
    store_failures_->inc();
    // The store cannot say whether the commit happened: nothing can be rolled back with
    // certainty, so the HA cannot go on (docs/home-agent.md "Durability").
    if (r.error().code == "store_poisoned" && seams_.on_fatal) seams_.on_fatal(r.error());
  }
}

void HomeAgent::apply(const Effect& e) {
  const Verdict& v = e.verdict;
  if (e.upsert) {
    const auto& b = e.upsert->binding;
    bind_kernel_state(b, {v.tunnel_peer, b.encapsulation, v.tunnel_port}, /*route=*/!e.routed_early);
    // A renewal at the same place is not news (one per VM per lifetime): debug, and its fields
    // are not even formatted unless debug is on.
    const LogLevel level =
        e.upsert->kind == binding::UpsertKind::refreshed ? LogLevel::debug : LogLevel::info;
    if (level >= log_level())
      log_event(level, "registration_accepted",
                {{"hoa", b.home_address.to_string()},
                 {"coa", b.care_of_address.to_string()},
                 {"kind", binding::to_string(e.upsert->kind)},
                 {"lifetime", std::to_string(b.lifetime_granted)},
                 {"encapsulation", std::string(binding::to_string(b.encapsulation))}});
  } else if (e.removed) {
    // A deregistration means the VM is home again (a move elsewhere is an upsert, not this):
    // give the home link its MAC back.
    unbind_kernel_state(*e.removed, /*announce_home=*/true);
    log_info("registration_deregistered", {{"hoa", e.removed->home_address.to_string()}});
  } else if (v.kind == VerdictKind::deny && may_log(v.reason)) {
    log_info("registration_denied", {{"hoa", v.reply.home_address.to_string()},
                                     {"from", e.reply_to.to_string()},
                                     {"code", std::to_string(v.code)},
                                     {"reason", std::string(v.reason)},
                                     {"detail", v.detail}});
  }
  // The reply goes after the kernel state: when the FA hears "accepted", the tunnel is
  // already in place.
  if (v.kind != VerdictKind::deny || may_reply(v.reason))
    replies_.add(e.reply_to, e.reply_port, v.reply_bytes);
}

void HomeAgent::apply_all(const std::vector<Effect>& effects) {
  for (const auto& e : effects) apply(e);
  if (const std::size_t refused = replies_.flush(); refused > 0)
    log_warn("udp_send_failed", {{"replies", std::to_string(refused)}});
  for (const auto& e : effects) {
    // A held VM's binding changed: its packets go to the new place now, after the reply so
    // that the FA knows the binding when they arrive. The old FA is told after that (RFC
    // 3543 §4): it is not in a hurry.
    if (e.upsert) handovers_.on_binding_changed(e.upsert->binding.home_address, "registered");
    if (e.removed) handovers_.on_binding_changed(e.removed->home_address, "deregistered");
    if (e.revocation) revocations_.start(*e.revocation);
  }
}

// A revocation ended (acknowledged or given up): its record goes. If that commit fails the
// record stays and a restart (or, in a cluster, the next active) sends it once more, which
// the FA acknowledges again (harmless). In a cluster the delete rides in the commit pipeline.
void HomeAgent::forget_revocation(std::uint32_t id) {
  store::Batch b;
  b.delete_revocation(id);
  if (seams_.cluster) {
    seams_.cluster->commit(b, [id](const Result<void>& r) {
      if (!r)
        log_warn("revocation_not_forgotten", {{"id", std::to_string(id)}, {"reason", r.error().to_string()}});
    });
    return;
  }
  if (auto r = commit(b); !r)
    log_warn("revocation_not_forgotten", {{"id", std::to_string(id)}, {"reason", r.error().to_string()}});
}

// ---- Kernel state ---------------------------------------------------------------------

void HomeAgent::bind_kernel_state(const binding::Binding& b, const dataplane::TunnelEndpoint& ep,
                                  bool route) {
  tunnels_.set_home_addresses_v6(b.home_address, b.home_addresses_v6);
  tunnels_.bind(b.home_address, ep, route);
  home_link_.attract(b.home_address);
  home_link_.attract6(b.home_addresses_v6);
}

void HomeAgent::unbind_kernel_state(const binding::Binding& b, bool announce_home) {
  const Ipv4 hoa = b.home_address;
  tunnels_.unbind(hoa);
  const Vm* vm = announce_home ? vms_.by_home_address(hoa) : nullptr;
  home_link_.release(hoa, vm ? &vm->mac : nullptr);
  home_link_.release6(b.home_addresses_v6, vm ? &vm->mac : nullptr);
}

bool HomeAgent::bound_v6(const Ipv6& a) const {
  bool found = false;
  cache_.for_each([&](const binding::Binding& b) {
    if (std::find(b.home_addresses_v6.begin(), b.home_addresses_v6.end(), a) != b.home_addresses_v6.end())
      found = true;
  });
  return found;
}

// ---- Expiry ---------------------------------------------------------------------------

void HomeAgent::arm_expiry() {
  auto next = cache_.next_expiry();
  if (!next) {
    expiry_timer_.cancel();
    return;
  }
  // steady_timer and our TimePoint share steady_clock, but the clock seam may be fake.
  const auto in = *next - seams_.clock->now();
  expiry_timer_.expires_after(in > Duration::zero() ? in : Duration::zero());
  expiry_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) on_expiry();
  });
}

void HomeAgent::on_expiry() {
  if (standby()) return;  // the active HA expires bindings; the mirror hears of it
  settle_commits();       // expire what is durable, not a batch that may still fail
  auto expired = cache_.expire(seams_.clock->now());
  if (!expired.empty()) {
    store::Batch batch;
    for (const auto& b : expired) drop_expired(batch, b.home_address);
    if (auto r = commit(batch); !r) {
      // Keep them: the next start will expire them from the store.
      log_error("store_commit_failed", {{"reason", r.error().to_string()}});
      for (const auto& b : expired)
        if (auto back = cache_.restore(b); !back) std::abort();  // it was in the cache moments ago
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

Result<HomeAgent::HandoverOutcome> HomeAgent::handover(Ipv4 hoa, HandoverPhase phase,
                                                       std::optional<WallTime> stopped_at) {
  const binding::Binding* bound = cache_.lookup(hoa);
  // The hold and the home-link recorder cover a dual-stack VM's IPv6, from its definition.
  const Vm* vm = vms_.by_home_address(hoa);
  const auto v6 = vm ? vm->home_addresses_v6 : std::vector<Ipv6>{};
  if (vm && phase != HandoverPhase::cancel && !bound) tunnels_.set_home_addresses_v6(hoa, v6);
  auto r = handovers_.on_phase(hoa, phase, stopped_at,
                               bound ? std::optional(bound->care_of_address) : std::nullopt, v6);
  if (r && phase == HandoverPhase::stopped)
    metrics_.counter("vmroam_handover_recovered_packets_total", "Packets recovered at a handover stop")
        .inc(static_cast<double>(r->recovered));
  return r;
}

}  // namespace vmroam::ha
