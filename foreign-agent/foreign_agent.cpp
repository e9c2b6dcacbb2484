// ForeignAgent: visitors, their registration, the store, revocation (see the header).
#include "foreign-agent/foreign_agent.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "common/auth/authenticator.hpp"
#include "common/auth/replay.hpp"
#include "common/core/log.hpp"
#include "common/wire/ethernet.hpp"
#include "common/wire/ipv6.hpp"
#include "common/wire/message.hpp"
#include "common/wire/mobile_ip.hpp"
#include "foreign-agent/foreign_agent_api.hpp"
#include "foreign-agent/proxy_registration.hpp"

namespace vmroam::fa {

namespace {

using binding::Visitor;
using binding::VisitorState;
using std::chrono::milliseconds;

constexpr milliseconds kDepartLinger{2000};  // > one WAN RTT + the HA's commit

bool final_state(VisitorState s) { return s == VisitorState::aborted || s == VisitorState::departed; }

void count_message(api::MetricsRegistry& metrics, std::string_view result) {
  if (result.empty()) return;
  metrics
      .counter("vmroam_fa_registration_messages_total", "UDP 434 control messages by outcome",
               {{"result", std::string(result)}})
      .inc();
}

BufferLimits buffer_limits(const FaConfig& c) { return {c.buffer_bytes, milliseconds(c.buffer_ms)}; }

// What a registration's outcome (activate or fail) changes in its visitor's record.
void record_outcome(Visitor& m, const RegistrationOutcome& o) {
  m.last_reply_code = o.code;
  m.reason = o.step == RegistrationStep::activate ? std::string() : o.reason;
  if (o.step == RegistrationStep::activate) {
    m.expires_at = o.expires_at;
    m.granted_v6 = o.granted_v6;  // RFC 5454 §2.2: what the HA defends for it at home
  } else if (o.step == RegistrationStep::fail) {
    m.granted_v6.clear();
  }
  if (o.fall_back_to_ipip) m.encapsulation = binding::Encapsulation::ipip;
}

}  // namespace

ForeignAgent::ForeignAgent(boost::asio::io_context& io, FaConfig config, ForeignAgentIo seams,
                           store::Store store)
    : io_(io),
      config_(std::move(config)),
      seams_(std::move(seams)),
      store_(std::move(store)),
      pipeline_(io, store_),
      delivery_(io,
                DeliveryIo{seams_.netlink, seams_.driver, seams_.send_vm_frame, seams_.buffer_ifindex,
                           seams_.add_gateway_link, seams_.remove_gateway_link},
                config_),
      buffer_(buffer_limits(config_)),
      batch_([this](Ipv4 src, std::uint16_t port,
                    ByteView payload) { seams_.driver->handle_udp_tunnel_payload(src, port, payload); },
             [this](std::span<const daemon::ControlDatagram> datagrams) { handle_batch(datagrams); }) {
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
  api_ = std::make_unique<ForeignAgentApi>(io, *this, *seams_.clock, std::string(seams_.driver->name()));
}

ForeignAgent::~ForeignAgent() { stop(); }

// ---- Start-up and shutdown --------------------------------------------------------------

Result<void> ForeignAgent::start() {
  VMROAM_TRY_VOID(delivery_.open());
  pipeline_.settle();  // nothing is queued yet; the Store is the loop's until the first commit
  VMROAM_TRY(std::vector<store::VisitorRecord> records, store_.load_visitors());
  store::Batch drop;
  for (const auto& r : records) {
    Visitor v = from_record(r, *seams_.clock);
    if (final_state(v.state)) {
      drop.delete_visitor(v.id);
      continue;
    }
    if (auto added = visitors_.add(v); !added) {
      log_warn("visitor_not_restored", {{"id", v.id}, {"reason", added.error().to_string()}});
      drop.delete_visitor(v.id);
      continue;
    }
    durable_[r.id] = r;
  }
  if (!drop.empty()) VMROAM_TRY_VOID(store_.commit(drop));
  // What a predecessor left that no visitor explains goes; identical objects are adopted
  // when restore() recreates the visitors' delivery ("exists" → adopt).
  delivery_.reconcile(visitors_);
  std::vector<std::string> reregister;
  visitors_.for_each([&](const Visitor& v) {
    restore(v);
    if (v.state == VisitorState::active || v.state == VisitorState::registering) reregister.push_back(v.id);
  });
  for (const auto& id : reregister) {
    // Cannot fail for a visitor that is registering or active (no state change).
    if (auto r = activate(id, nullptr); !r)
      log_error("reregistration_failed", {{"visitor", id}, {"reason", r.error().to_string()}});
  }
  log_info("foreign_agent_started", {{"address", config_.address.to_string()},
                                     {"vm_interface", config_.vm_interface},
                                     {"gateway_mode", delivery_.anycast() ? "anycast" : "garp"},
                                     {"visitors_restored", std::to_string(visitors_.size())}});
  return ok();
}

void ForeignAgent::stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& [id, rt] : runtime_)
    if (rt.timer) rt.timer->cancel();
  api_->on_stopping();
  delivery_.remove_all(visitors_);
  runtime_.clear();
}

Result<std::vector<std::string>> ForeignAgent::reload(const FaConfig& next) {
  Reloaded r = reload_config(config_, next);
  config_ = std::move(r.config);
  buffer_.set_limits(buffer_limits(config_));
  LogLevel level;
  if (parse_log_level(config_.log_level, level)) set_log_level(level);
  return std::move(r.needs_restart);
}

// ---- Visitors in memory -------------------------------------------------------------------

// A visitor's run-time state and delivery, from its record (start-up, prepare, rollback).
void ForeignAgent::restore(const Visitor& v) {
  Runtime& rt = runtime_[v.id];
  rt.first_activation = v.state != VisitorState::active;
  rt.resumed = v.state == VisitorState::active;
  if (delivery_.install(v, /*to_buffer=*/!rt.resumed)) buffer_.start(v.id);
  update_arrival_watch();
}

void ForeignAgent::update_arrival_watch() {
  if (!seams_.watch_arrivals) return;
  std::vector<MacAddress> awaited;
  if (config_.detect_arrival)
    for (const auto& [id, rt] : runtime_)
      if (const Visitor* v = visitors_.find(id); v && !rt.resumed) awaited.push_back(v->mac);
  std::sort(awaited.begin(), awaited.end());
  if (awaited_ == awaited) return;
  awaited_ = awaited;
  seams_.watch_arrivals(awaited);
}

// Gone from memory and the kernel at once; `on_durable` runs once the deletion is committed.
// `id` is a copy: callers often pass the visitor's own id, which remove() destroys.
void ForeignAgent::remove(std::string id, std::string_view why, Done on_durable) {
  const Visitor* v = visitors_.find(id);
  if (!v) {
    if (on_durable) on_durable(ok());
    return;
  }
  if (auto it = runtime_.find(id); it != runtime_.end()) {
    if (it->second.timer) it->second.timer->cancel();
    runtime_.erase(it);
  }
  delivery_.remove(*v);
  buffer_.erase(id);
  update_arrival_watch();
  api_->on_removed(id, why);
  log_info("visitor_removed", {{"visitor", id}, {"why", std::string(why)}});
  visitors_.remove(id);
  commit({{id, std::nullopt}}, std::move(on_durable));
}

Result<void> ForeignAgent::prepare(Visitor v) {
  // A synchronous commit: everything queued before it completes first (and its completion
  // runs now, so the checks below see memory as the store will), then the Store is ours.
  pipeline_.settle();
  if (visitors_.find(v.id)) return fail("conflict", "visitor " + v.id + " exists");
  if (const Visitor* o = visitors_.find_by_home_address(v.home_address))
    return fail("conflict", "home address " + v.home_address.to_string() + " belongs to visitor " + o->id);
  if (const Visitor* o = visitors_.find_by_mac(v.mac))
    return fail("conflict", "MAC " + v.mac.to_string() + " belongs to visitor " + o->id);
  // Durable first: a failed commit leaves nothing behind.
  auto record = to_record(v, *seams_.clock);
  store::Batch batch;
  batch.put_visitor(record);
  VMROAM_TRY_VOID(store_.commit(batch));
  durable_[v.id] = std::move(record);
  auto added = visitors_.add(v);
  if (!added) std::abort();  // checked above; nothing else runs in between (one loop)
  restore(**added);
  log_info("visitor_prepared", {{"visitor", v.id},
                                {"hoa", v.home_address.to_string()},
                                {"mac", v.mac.to_string()},
                                {"buffering", buffer_.stats(v.id).buffering ? "on" : "off"}});
  return ok();
}

void ForeignAgent::depart(const std::string& id, Done done) {
  const Visitor* v = visitors_.find(id);
  if (!v) {
    if (done) done(ok());
    return;
  }
  Runtime& rt = runtime_[id];
  rt.round = RegistrationRound{};
  if (auto bytes = request(id, mip::kLifetimeDeregister)) {
    seams_.send_udp(v->home_agent, mip::kRegistrationPort, *bytes);
    count_message(metrics_, "deregistration_sent");
    rt.round.deregistration = v->identification_sent;
  } else {
    log_error("deregistration_not_sent", {{"visitor", id}, {"reason", bytes.error().to_string()}});
  }
  if (auto r = visitors_.transition(id, VisitorState::departed); !r) {
    log_error("depart_refused", {{"visitor", id}, {"reason", r.error().to_string()}});
    if (done) done(fail(r.error()));
    return;
  }
  // Gone from the store at once: a restart must not bring a departed visitor back.
  commit({{id, std::nullopt}}, std::move(done));
  arm_timer(id, kDepartLinger);
}

void ForeignAgent::resume(const std::string& id, std::string_view how) {
  const Visitor* v = visitors_.find(id);
  auto it = runtime_.find(id);
  if (!v || it == runtime_.end() || it->second.resumed) return;
  it->second.resumed = true;
  update_arrival_watch();
  delivery_.resume(*v);
  // The HoA routes to the VM link now: what was held goes back to the kernel, in order.
  const auto f = buffer_.flush(id, seams_.clock->now(), seams_.reinject);
  overflow_total_->inc(static_cast<double>(f.expired));
  flushed_total_->inc(static_cast<double>(f.delivered));
  if (f.was_buffering)
    log_info("buffer_flushed", {{"visitor", id}, {"packets", std::to_string(f.delivered)}});
  log_info("visitor_resumed", {{"visitor", id}, {"how", std::string(how)}});
}

std::optional<ForeignAgent::Status> ForeignAgent::status(const std::string& id) const {
  auto it = runtime_.find(id);
  if (it == runtime_.end()) return std::nullopt;
  return Status{it->second.resumed, it->second.handover_ms, it->second.granted, buffer_.stats(id)};
}

api::Reply ForeignAgent::handle_api(const api::Request& request) { return api_->handle(request); }

// ---- Packets ------------------------------------------------------------------------------

void ForeignAgent::on_buffered_packet(ByteView ip) {
  const Visitor* v = nullptr;
  if (wire::ip_version(ip) == 6) {  // a dual-stack VM's IPv6 is buffered with its IPv4, in one queue
    if (auto h = wire::parse_ipv6(ip)) v = visitors_.find_by_home_address_v6(h->dst);
  } else {
    if (ip.size() < 20 || (ip[0] >> 4) != 4) return;
    v = visitors_.find_by_home_address(Ipv4((std::uint32_t{ip[16]} << 24) | (std::uint32_t{ip[17]} << 16) |
                                            (std::uint32_t{ip[18]} << 8) | ip[19]));
  }
  if (!v || !runtime_.contains(v->id)) return;
  const auto pushed = buffer_.push(v->id, ip, seams_.clock->now());
  if (!pushed.buffering) {
    // Raced with the flush: the route has moved, so deliver at once, still in order.
    if (seams_.reinject) seams_.reinject(ip);
    return;
  }
  overflow_total_->inc(static_cast<double>(pushed.dropped));
  if (pushed.queued) buffered_total_->inc();
}

void ForeignAgent::on_vm_frame(ByteView frame) {
  auto eth = wire::parse_ethernet(frame);
  if (!eth) return;
  if (eth->ethertype != mip::kEtherTypeRarp && eth->ethertype != mip::kEtherTypeArp &&
      eth->ethertype != mip::kEtherTypeIpv4 && eth->ethertype != mip::kEtherTypeIpv6)
    return;
  const Visitor* v = visitors_.find_by_mac(eth->src);
  if (!v) return;
  if (auto answer = delivery_.home_link_answer(*v, *eth, frame)) {
    seams_.send_vm_frame(answer->frame);
    count_message(metrics_, answer->metric);
  }
  if (!config_.detect_arrival) return;
  const std::string id = v->id;
  auto it = runtime_.find(id);
  if (it == runtime_.end() || it->second.resumed) return;
  if (v->state == VisitorState::prepared || v->state == VisitorState::failed) {
    if (auto r = activate(id, nullptr); !r)
      log_error("registration_not_started", {{"visitor", id}, {"reason", r.error().to_string()}});
  }
  resume(id, arrival_kind(*eth, frame));
}

// ---- Registration -------------------------------------------------------------------------

Result<Bytes> ForeignAgent::request(const std::string& id, std::uint16_t lifetime) {
  const Visitor* v = visitors_.find(id);
  if (!v) return fail("not_found", id);
  WallTime now = seams_.clock->wall_now();
  if (auto it = clock_offset_s_.find(v->home_agent); it != clock_offset_s_.end())
    now += std::chrono::seconds(it->second);
  const std::uint64_t ident = auth::next_identification(now, v->identification_sent);
  VMROAM_TRY(Bytes bytes, build_visitor_request(*v, config_.address, lifetime, ident, config_.home_agents));
  VMROAM_TRY_VOID(visitors_.modify(id, [&](Visitor& m) { m.identification_sent = ident; }));
  return bytes;
}

Result<void> ForeignAgent::activate(const std::string& id, Done on_durable) {
  const Visitor* v = visitors_.find(id);
  if (!v) return fail("not_found", id);
  Runtime& rt = runtime_[id];
  const bool starts = v->state == VisitorState::prepared || v->state == VisitorState::failed;
  if (starts) {
    VMROAM_TRY_VOID(visitors_.transition(id, VisitorState::registering));
    rt.first_activation = true;
    rt.activated_at = seams_.clock->now();
  }
  rt.round = RegistrationRound{.in_flight = true};
  // The request first: the round trip to the HA runs while the writer thread commits.
  transmit(id);
  // Only a new state needs to be durable (a renewal's outcome is committed with its reply).
  if (starts)
    commit({change_of(visitors_, id, *seams_.clock)}, std::move(on_durable));
  else if (on_durable)
    on_durable(ok());
  return ok();
}

void ForeignAgent::transmit(const std::string& id) {
  const Visitor* v = visitors_.find(id);
  auto it = runtime_.find(id);
  if (!v || it == runtime_.end()) return;
  Runtime& rt = it->second;
  const std::uint16_t lifetime =
      v->lifetime_requested ? v->lifetime_requested
                            : static_cast<std::uint16_t>(std::min<std::uint32_t>(config_.lifetime_s, 0xFFFE));
  auto bytes = request(id, lifetime);
  if (!bytes) {
    Changes changes;
    apply(id, decide_unbuildable(bytes.error()), changes);
    commit_outcomes(std::move(changes));
    return;
  }
  rt.round.identifications.push_back(v->identification_sent);
  ++rt.round.sent;
  seams_.send_udp(v->home_agent, mip::kRegistrationPort, *bytes);
  count_message(metrics_, rt.round.sent == 1 ? "request_sent" : "request_retransmitted");
  const RetransmitSchedule sched{milliseconds(config_.retransmit_initial_ms),
                                 milliseconds(config_.retransmit_max_ms), config_.retransmit_attempts};
  // After the last transmission, wait one more (capped) interval for a late reply.
  arm_timer(id, sched.after(rt.round.sent).value_or(milliseconds(config_.retransmit_max_ms)));
}

// One timer per visitor: retransmission (a round in flight), depart's linger (departed), or
// renewal (active).
void ForeignAgent::arm_timer(const std::string& id, milliseconds after) {
  Runtime& rt = runtime_[id];
  if (!rt.timer) rt.timer = std::make_unique<boost::asio::steady_timer>(io_);
  rt.timer->expires_after(after);
  rt.timer->async_wait([this, id](const boost::system::error_code& ec) {
    const Visitor* v = visitors_.find(id);
    auto it = runtime_.find(id);
    if (ec || !v || it == runtime_.end()) return;
    if (v->state == VisitorState::departed) {
      remove(id, "departed (no deregistration reply)", nullptr);
    } else if (it->second.round.in_flight) {
      Changes changes;
      apply(id, decide_timer(it->second.round, config_.retransmit_attempts), changes);
      commit_outcomes(std::move(changes));
    } else if (v->state == VisitorState::active) {
      if (auto r = activate(id, nullptr); !r)
        log_error("renewal_not_started", {{"visitor", id}, {"reason", r.error().to_string()}});
    }
  });
}

void ForeignAgent::apply(const std::string& id, const RegistrationOutcome& o, Changes& changes) {
  const Visitor* v = visitors_.find(id);
  Runtime& rt = runtime_[id];
  if (!v || o.step == RegistrationStep::ignore) return;
  switch (o.step) {
    case RegistrationStep::ignore:
      return;
    case RegistrationStep::retransmit:
      transmit(id);
      return;
    case RegistrationStep::release:
      remove(id, "departed", nullptr);
      return;
    case RegistrationStep::resync:
      clock_offset_s_[v->home_agent] = o.clock_offset_s;
      rt.round = RegistrationRound{.in_flight = true, .resynced = true};
      log_info("registration_resync", {{"visitor", id}, {"offset_s", std::to_string(o.clock_offset_s)}});
      transmit(id);
      return;
    case RegistrationStep::fail:
      // Only registering and active visitors have a round (both may fail: cannot be refused).
      if (v->state != VisitorState::failed) static_cast<void>(visitors_.transition(id, VisitorState::failed));
      log_warn(o.metric.empty() ? "registration_failed" : "registration_denied",
               {{"visitor", id}, {"code", std::to_string(o.code)}, {"reason", o.reason}});
      break;
    case RegistrationStep::activate:
      // registering → active is always allowed; a renewal stays active.
      if (v->state == VisitorState::registering)
        static_cast<void>(visitors_.transition(id, VisitorState::active));
      rt.granted = o.lifetime;
      if (rt.first_activation) {
        rt.first_activation = false;
        rt.handover_ms =
            std::chrono::duration<double, std::milli>(seams_.clock->now() - rt.activated_at).count();
        handover_seconds_->observe(*rt.handover_ms / 1000.0);
      }
      if (o.fall_back_to_ipip) delivery_.use_ipip(*v);
      log_info("registration_accepted",
               {{"visitor", id},
                {"hoa", v->home_address.to_string()},
                {"lifetime", std::to_string(o.lifetime)},
                {"handover_ms", rt.handover_ms ? std::to_string(*rt.handover_ms) : "-"}});
      break;
  }
  rt.round.in_flight = false;
  if (rt.timer) rt.timer->cancel();
  if (o.renew_after) arm_timer(id, *o.renew_after);
  // Only the fields below change (the id is known: modify cannot fail).
  static_cast<void>(visitors_.modify(id, [&](Visitor& m) { record_outcome(m, o); }));
  changes.push_back(change_of(visitors_, id, *seams_.clock));
}

// ---- UDP 434: queue, then handle the batch ------------------------------------------------

void ForeignAgent::on_datagram(ByteView payload, Ipv4 src, std::uint16_t src_port) {
  if (batch_.add(payload, src, src_port) == daemon::ControlBatch::Sorted::empty)
    count_message(metrics_, "empty");
}

void ForeignAgent::flush() { batch_.flush(); }

void ForeignAgent::handle_batch(std::span<const daemon::ControlDatagram> datagrams) {
  Changes changes;
  for (const auto& p : datagrams) {
    auto msg = wire::parse_message(p.payload);
    if (!msg) {
      count_message(metrics_, msg.error().code);
    } else if (auto* reply = std::get_if<wire::RegistrationReply>(&*msg)) {
      const Visitor* v = visitors_.find_by_home_address(reply->home_address);
      std::optional<ReplyContext> context;
      if (v)
        context = reply_context(*v, runtime_[v->id].round, fa_ha_for(config_.home_agents, v->home_agent));
      const auto o = decide_reply(context, *reply, p.payload, seams_.clock->wall_now(), seams_.clock->now());
      count_message(metrics_, o.metric);
      if (v) apply(std::string(v->id), o, changes);
    } else if (auto* rev = std::get_if<wire::Revocation>(&*msg)) {
      handle_revocation(*rev, p.payload, p.src, p.port);
    } else {
      count_message(metrics_, "unexpected_message");
    }
  }
  // One durable commit for the whole batch, then the API tells its waiting clients. It runs on
  // the writer thread: the loop goes back to delivering at once (the HA tunnels the VM's
  // traffic here right after its reply, and those first packets must not wait for our fsync).
  commit_outcomes(std::move(changes));
}

void ForeignAgent::handle_revocation(const wire::Revocation& rev, ByteView raw, Ipv4 src,
                                     std::uint16_t port) {
  auto ack = revocation_ack(rev, raw, src, config_.home_agents);
  if (!ack) {
    count_message(metrics_, ack.error().code);
    log_warn("revocation_rejected", {{"from", src.to_string()}, {"reason", ack.error().to_string()}});
    return;
  }
  // The ack says "gone": only once the deletion is durable (a restart must not bring the
  // visitor back and re-register it over the FA the VM moved to). Not durable: no ack; the HA
  // retransmits the revocation (RFC 3543 §3.2) and we try again.
  Done send_ack = [this, src, port, bytes = std::move(*ack)](const Result<void>& r) {
    if (!r) return;
    seams_.send_udp(src, port, bytes);
    count_message(metrics_, "revocation_acknowledged");
  };
  const Visitor* v = visitors_.find_by_home_address(rev.home_address);
  if (v && !final_state(v->state)) {
    // The VM moved on: a prepared visitor is no longer coming, an active one has left.
    remove(v->id, "revoked by the home agent", std::move(send_ack));
  } else {
    send_ack(ok());
  }
}

// ---- The store ----------------------------------------------------------------------------

void ForeignAgent::commit(Changes changes, Done done, bool undo) {
  store::Batch batch;
  for (const auto& c : changes) {
    if (c.record)
      batch.put_visitor(*c.record);
    else
      batch.delete_visitor(c.id);
  }
  pipeline_.commit_async(std::move(batch), [this, changes = std::move(changes), done = std::move(done),
                                            undo](const Result<void>& r) {
    if (r) {
      for (const auto& c : changes) {
        if (c.record)
          durable_[c.id] = *c.record;
        else
          durable_.erase(c.id);
      }
    } else {
      log_error("store_commit_failed",
                {{"visitor", changes.empty() ? "" : changes.front().id}, {"reason", r.error().to_string()}});
      metrics_.counter("vmroam_store_commit_failures_total", "Store commits that failed").inc();
      if (undo) rollback(changes);
    }
    if (done) done(r);
  });
}

// Registration outcomes: the API answers the requests waiting on them once they are durable.
// One the HA acted upon but we cannot record leaves memory, disk and the HA disagreeing: fatal
// (the restart re-registers every registering/active visitor from the store).
void ForeignAgent::commit_outcomes(Changes changes) {
  if (changes.empty()) return;
  std::vector<std::string> ids;
  for (const auto& c : changes) ids.push_back(c.id);
  commit(std::move(changes), [this, ids = std::move(ids)](const Result<void>& r) {
    for (const auto& id : ids) {
      if (r)
        api_->on_settled(id);
      else
        api_->on_commit_failed(id, r.error());
    }
    if (r || fatal_) return;
    fatal_ = true;
    log_error("foreign_agent_fatal", {{"reason", r.error().to_string()}});
    if (seams_.on_fatal) seams_.on_fatal(r.error());
  });
}

// Memory back to what the store holds for each visitor of a failed commit: its durable record,
// or nothing. Delivery that is gone is recreated; the round in flight stops.
void ForeignAgent::rollback(const Changes& changes) {
  if (stopped_) return;  // nothing is recreated during shutdown
  for (const auto& c : changes) {
    if (auto it = runtime_.find(c.id); it != runtime_.end()) {
      it->second.round = RegistrationRound{};
      if (it->second.timer) it->second.timer->cancel();
    }
    std::optional<Visitor> was = visitors_.remove(c.id);
    auto d = durable_.find(c.id);
    if (d == durable_.end()) {
      if (was) {
        delivery_.remove(*was);
        buffer_.erase(c.id);
        runtime_.erase(c.id);
        update_arrival_watch();
      }
      continue;
    }
    auto added = visitors_.add(from_record(d->second, *seams_.clock));
    if (!added) {
      // Another visitor took its address or MAC meanwhile: the store's copy cannot come back.
      log_error("rollback_failed", {{"visitor", c.id}, {"reason", added.error().to_string()}});
      continue;
    }
    if (!was) restore(**added);
    log_warn("visitor_rolled_back",
             {{"visitor", c.id}, {"state", std::string(binding::to_string((*added)->state))}});
    const Runtime& rt = runtime_[c.id];
    if ((*added)->state == VisitorState::active)
      if (auto renew = renewal_delay(rt.granted)) arm_timer(c.id, *renew);
  }
  // Commits queued after the failed one may still write what memory no longer holds (a round
  // that went on meanwhile): this one, queued after them, makes the store match memory again.
  // Its own failure is only logged (undoing it would loop for as long as the store fails).
  Changes again;
  for (const auto& c : changes) again.push_back(change_of(visitors_, c.id, *seams_.clock));
  commit(std::move(again), nullptr, /*undo=*/false);
}

}  // namespace vmroam::fa
