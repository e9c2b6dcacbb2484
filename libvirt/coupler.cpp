// See coupler.hpp.
#include "libvirt/coupler.hpp"

#include "common/core/log.hpp"
#include "libvirt/domain_xml.hpp"

namespace vmroam::virt {

namespace {
using A = CouplingAction::Kind;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

std::string unix_us(WallTime t) {
  return std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count());
}

template <typename T>
std::string outcome_of(const Result<T>& r) {
  return r ? "ok" : r.error().to_string();
}
}  // namespace

Coupler::Coupler(boost::asio::io_context& io, const Config& config, Hypervisor& hypervisor,
                 HomeAgentControl* ha, std::map<std::string, std::unique_ptr<ForeignAgentControl>> fas,
                 Timing timing)
    : io_(io), config_(config), hypervisor_(hypervisor), ha_(ha), fas_(std::move(fas)), timing_(timing) {}

DomainCoupling::Phase Coupler::phase(const std::string& uuid) const {
  auto it = domains_.find(uuid);
  return it == domains_.end() ? DomainCoupling::Phase::idle : it->second.coupling.phase();
}

ForeignAgentControl* Coupler::local_fa() const {
  auto it = fas_.find(config_.site);
  return it == fas_.end() ? nullptr : it->second.get();
}

const VmConfig* Coupler::resolve_vm(const std::string& uuid) {
  // The metadata element names the VM; else an interface MAC does.
  if (auto meta = hypervisor_.domain_metadata(uuid)) {
    if (auto id = vm_id_from_metadata(*meta)) {
      if (const VmConfig* vm = config_.vm_by_id(*id)) return vm;
      log_warn("domain_vm_unknown", {{"uuid", uuid}, {"vm", *id}});
      return nullptr;
    }
  }
  auto xml = hypervisor_.domain_xml(uuid);
  if (!xml) {
    log_warn("domain_xml_failed", {{"uuid", uuid}, {"error", xml.error().to_string()}});
    return nullptr;
  }
  for (const MacAddress& mac : interface_macs(*xml))
    if (const VmConfig* vm = config_.vm_by_mac(mac)) return vm;
  return nullptr;
}

Coupler::Domain* Coupler::domain_for(const DomainEvent& e) {
  auto it = domains_.find(e.uuid);
  if (it == domains_.end()) {
    // Looked up once per domain (the first event comes seconds before the switchover).
    Domain d{e.uuid, e.name, resolve_vm(e.uuid), DomainCoupling(local_fa() != nullptr), nullptr, 0};
    d.timer = std::make_unique<boost::asio::steady_timer>(io_);
    if (d.vm)
      log_info("domain_mapped", {{"domain", e.name}, {"uuid", e.uuid}, {"vm", d.vm->id}});
    else
      log_debug("domain_not_ours", {{"domain", e.name}, {"uuid", e.uuid}});
    it = domains_.emplace(e.uuid, std::move(d)).first;
  }
  return it->second.vm ? &it->second : nullptr;
}

void Coupler::on_domain_event(const DomainEvent& e) {
  Domain* d = domain_for(e);
  if (!d) return;
  std::string at = e.event.at == WallTime{} ? "" : unix_us(e.event.at);
  log_info("domain_event", {{"vm", d->vm->id},
                            {"domain", d->name},
                            {"what", e.what},
                            {"at_us", at},
                            {"phase", to_string(d->coupling.phase())}});
  feed(*d, e.event);
  // A domain that left this host is looked up afresh next time (its XML may change).
  if (e.event.kind == CouplingEvent::Kind::domain_gone &&
      d->coupling.phase() == DomainCoupling::Phase::idle) {
    d->timer->cancel();
    domains_.erase(e.uuid);
  }
}

void Coupler::feed(Domain& d, const CouplingEvent& ev) {
  for (const CouplingAction& a : d.coupling.on(ev)) run(d, a);
}

void Coupler::ha_call(Domain& d, HomeAgentControl::Phase phase, std::optional<WallTime> at) {
  if (!ha_) return;
  const auto t0 = Clock::now();
  ha_->handover(d.vm->id, phase, at, [vm = d.vm->id, phase, t0](Result<nlohmann::json> r) {
    const auto ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (!r)
      return log_warn("ha_handover_failed",
                      {{"vm", vm}, {"phase", to_string(phase)}, {"error", outcome_of(r)}});
    log_info("ha_handover", {{"vm", vm},
                             {"phase", to_string(phase)},
                             {"state", r->value("state", "")},
                             {"ms", std::to_string(ms)}});
  });
}

void Coupler::run(Domain& d, const CouplingAction& a) {
  log_info("action", {{"vm", d.vm->id}, {"action", to_string(a.kind)}, {"site", a.site}});
  switch (a.kind) {
    case A::ha_prepare:
      return ha_call(d, HomeAgentControl::Phase::prepare, std::nullopt);
    case A::ha_stopped:
      return ha_call(d, HomeAgentControl::Phase::stopped, a.at);
    case A::ha_cancel:
      return ha_call(d, HomeAgentControl::Phase::cancel, std::nullopt);
    case A::find_destination:
      d.timer->cancel();
      return find_destination(d.uuid, ++d.round);
    case A::stop_finding:
      ++d.round;
      d.timer->cancel();
      return;
    default:
      return run_fa(d, a);
  }
}

void Coupler::run_fa(Domain& d, const CouplingAction& a) {
  const std::string id = d.vm->id;
  auto logged = [id](const char* what) {
    return [id, what](Result<Json> r) {
      if (r)
        log_info(what, {{"vm", id}});
      else
        log_warn("fa_call_failed", {{"vm", id}, {"call", what}, {"error", outcome_of(r)}});
    };
  };
  if (a.kind == A::fa_activate) {
    auto it = fas_.find(a.site);
    if (it != fas_.end()) it->second->activate(id, logged("fa_activated"));
    return;
  }
  ForeignAgentControl* fa = local_fa();
  if (!fa) return;
  switch (a.kind) {
    case A::fa_prepare_local:
      return fa->prepare(d.vm->visitor, logged("fa_prepared"));
    case A::fa_depart_local:
      return fa->depart(id, logged("fa_departed"));
    case A::fa_resumed_local:
      return fa->resumed(id, logged("fa_resumed"));
    case A::fa_abort_local:
      return abort_local(d);
    case A::fa_confirm_local:
      d.timer->cancel();
      return confirm(d.uuid, ++d.round, timing_.retry_initial, Clock::now() + timing_.retry_deadline);
    case A::fa_reactivate_local:
      // Prepare again (the visitor was departed), then activate whatever the prepare said.
      return fa->prepare(d.vm->visitor, [this, id](Result<Json> r) {
        if (!r) log_warn("fa_call_failed", {{"vm", id}, {"call", "fa_prepared"}, {"error", outcome_of(r)}});
        if (ForeignAgentControl* f = local_fa())
          f->activate(id, [id](Result<Json> r2) {
            log_info("fa_reactivated", {{"vm", id}, {"result", outcome_of(r2)}});
          });
      });
    default:
      return;
  }
}

void Coupler::abort_local(const Domain& d) {
  // abort is refused (409) once the visitor is active: then only a deregistration gives the
  // binding back (docs/api.md).
  ForeignAgentControl* fa = local_fa();
  fa->abort(d.vm->id, [this, id = d.vm->id](Result<Json> r) {
    if (r) return log_info("fa_aborted", {{"vm", id}});
    if (r.error().code != "fa_refused")
      return log_warn("fa_call_failed", {{"vm", id}, {"call", "fa_aborted"}, {"error", outcome_of(r)}});
    if (ForeignAgentControl* f = local_fa())
      f->depart(id, [id](Result<Json> r2) {
        log_info("fa_departed", {{"vm", id}, {"result", outcome_of(r2)}});
      });
  });
}

void Coupler::find_destination(const std::string& uuid, std::uint64_t round) {
  auto it = domains_.find(uuid);
  if (it == domains_.end() || it->second.round != round) return;
  Domain& d = it->second;
  for (auto& [site, fa] : fas_) {
    if (site == config_.site) continue;
    fa->wait_registered(
        d.vm->id, std::chrono::milliseconds(0),
        [this, uuid, round, site = site](Result<migration::RegistrationOutcome> r) {
          auto dit = domains_.find(uuid);
          if (!r || dit == domains_.end() || dit->second.round != round) return;
          if (r->visitor_state != "prepared") return;
          log_info("destination_found", {{"vm", dit->second.vm->id}, {"site", site}});
          feed(dit->second, CouplingEvent{CouplingEvent::Kind::destination_found, {}, {}, site});
        });
  }
  d.timer->expires_after(timing_.find_interval);
  d.timer->async_wait([this, uuid, round](const boost::system::error_code& ec) {
    if (!ec) find_destination(uuid, round);
  });
}

void Coupler::confirm(const std::string& uuid, std::uint64_t round, std::chrono::milliseconds backoff,
                      Clock::time_point deadline) {
  auto it = domains_.find(uuid);
  if (it == domains_.end() || it->second.round != round || !local_fa()) return;
  const std::string id = it->second.vm->id;
  local_fa()->wait_registered(id, timing_.confirm_wait, [=, this](Result<migration::RegistrationOutcome> r) {
    auto dit = domains_.find(uuid);
    if (dit == domains_.end() || dit->second.round != round) return;
    if (r && r->state == migration::RegistrationOutcome::State::active) {
      std::string handover = r->handover_ms ? std::to_string(*r->handover_ms) : "";
      log_info("registration_active", {{"vm", id}, {"handover_ms", handover}});
      return resume_if_buffering(id, *r);
    }
    if (Clock::now() >= deadline)
      return log_error("vm_unreachable_registration_not_active",
                       {{"vm", id}, {"state", r ? r->visitor_state : outcome_of(r)}});
    log_warn("registration_not_active", {{"vm", id},
                                         {"state", r ? r->visitor_state : outcome_of(r)},
                                         {"retry_ms", std::to_string(backoff.count())}});
    Domain& d = dit->second;
    if (r) {
      // Activate again: the source's coupling may be down, or the request was lost.
      local_fa()->activate(id, [](Result<Json>) {});
      resume_if_buffering(id, *r);
    } else {
      // The FA does not know the visitor (it was unreachable at libvirt's Prepare): prepare it
      // now; the prepare answers once durable, then activate, and say that the VM runs here
      // (its RESUME came while the FA could not hear it).
      local_fa()->prepare(d.vm->visitor, [this, id](Result<Json>) {
        ForeignAgentControl* f = local_fa();
        if (!f) return;
        f->activate(id, [](Result<Json>) {});
        f->resumed(id, [id](Result<Json> r2) {
          log_info("fa_resumed", {{"vm", id}, {"result", outcome_of(r2)}});
        });
      });
    }
    d.timer->expires_after(backoff);
    d.timer->async_wait([=, this](const boost::system::error_code& ec) {
      if (!ec) confirm(uuid, round, std::min(backoff * 2, timing_.retry_max), deadline);
    });
  });
}

void Coupler::resume_if_buffering(const std::string& id, const migration::RegistrationOutcome& o) {
  // The VM runs here (confirming starts at its RESUME); a `resumed` the FA did not hear would
  // leave its packets in the FA's buffer.
  if (!o.visitor.is_object() || o.visitor.value("resumed", true)) return;
  if (ForeignAgentControl* f = local_fa())
    f->resumed(id, [id](Result<Json> r) { log_info("fa_resumed", {{"vm", id}, {"result", outcome_of(r)}}); });
}

}  // namespace vmroam::virt
