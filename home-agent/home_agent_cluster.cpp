// HomeAgent's part in a cluster of home agents (HomeAgentIo::cluster; docs/architecture.md
// "Cluster"): state from etcd, pipelined durable commits, the standby's mirror, the takeover.
#include <charconv>
#include <memory>

#include "common/auth/authenticator.hpp"
#include "common/core/log.hpp"
#include "home-agent/binding_record.hpp"
#include "home-agent/home_agent.hpp"

namespace vmroam::ha {

Result<store::Snapshot> HomeAgent::load_snapshot() {
  return seams_.cluster ? seams_.cluster->load() : store_.load();
}

// The registration path in a cluster: the batch's effects wait for its txn. Meanwhile the
// loop goes on deciding the next datagrams against memory (which already holds this batch),
// and their batch rides in the next txn (ClusterNode's pipeline). A reply still leaves only
// after its own commit. If the commit fails this HA is deposed and ends: no reply at all
// (the outcome may be unknown; the FA retransmits and reaches the new active).
void HomeAgent::commit_clustered(Batch batch) {
  if (batch.store.empty()) {
    apply_all(batch.effects);
    return;
  }
  auto effects = std::make_shared<std::vector<Effect>>(std::move(batch.effects));
  const auto t0 = std::chrono::steady_clock::now();
  seams_.cluster->commit(batch.store, [this, effects, t0](const Result<void>& r) {
    commit_seconds_->observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    if (!r) {
      store_failures_->inc();
      log_error("cluster_commit_failed",
                {{"reason", r.error().to_string()}, {"requests", std::to_string(effects->size())}});
      return;
    }
    apply_all(*effects);
    arm_expiry();
  });
}

namespace {

// A revocation key's last part: the decimal Revocation Identifier (RFC 3543 §3).
Result<std::uint32_t> parse_revocation_id(const std::string& name) {
  std::uint32_t id = 0;
  const char* end = name.data() + name.size();
  auto [p, ec] = std::from_chars(name.data(), end, id);
  if (ec != std::errc() || p != end)
    return fail("cluster_bad_key", "revocations/" + name + ": not a revocation id");
  return id;
}

// A revocation the active committed (value) or ended (nullptr), into the standby's mirror.
Result<void> mirror_revocation(std::map<std::uint32_t, store::RevocationRecord>& mirror,
                               const std::string& name, const std::string* value) {
  VMROAM_TRY(std::uint32_t id, parse_revocation_id(name));
  mirror.erase(id);
  if (!value) return ok();
  VMROAM_TRY(store::RevocationRecord rec, decode_revocation(*value));
  mirror[id] = std::move(rec);
  return ok();
}

// The HoA's replay state as the active left it: `id` was the last Identification it accepted.
void accept_into(auth::ReplayState& s, const RegistrarSettings& settings, std::uint64_t id) {
  s.style = settings.replay_style;
  s.has_accepted = true;
  s.last_accepted = id;
}

}  // namespace

void HomeAgent::mirror(const ClusterKeys::Parsed& key, const std::string* value) {
  auto warn = [&](const Error& e) {
    log_warn("cluster_mirror_skipped", {{"name", key.name}, {"reason", e.to_string()}});
  };
  auto accepted = [&](Ipv4 hoa, std::uint64_t id) { accept_into(replay_[hoa], registrar_.settings(), id); };
  switch (key.kind) {
    case ClusterKeys::Kind::binding: {
      auto hoa = Ipv4::parse(key.name);
      if (!hoa) return warn(hoa.error());
      cache_.remove(*hoa);
      mirrored_endpoints_.erase(*hoa);
      if (!value) return;
      auto rec = decode_binding(*value);
      if (!rec) return warn(rec.error());
      const binding::Binding b = from_record(*rec, *seams_.clock);
      mirrored_endpoints_[*hoa] = endpoint_from_record(*rec, b);
      // The binding's Identification is the HoA's replay state, unless a later replay key
      // says otherwise (cluster_records.hpp: the active writes one key per registration).
      accepted(*hoa, rec->identification);
      if (b.infinite() || b.expires_at > seams_.clock->now())
        if (auto r = cache_.restore(b); !r) warn(r.error());
      return;
    }
    case ClusterKeys::Kind::replay: {
      auto hoa = Ipv4::parse(key.name);
      if (!hoa) return warn(hoa.error());
      if (!value) {
        replay_.erase(*hoa);
        return;
      }
      auto rec = decode_replay(*value);
      if (!rec) return warn(rec.error());
      accepted(*hoa, rec->last_identification);
      return;
    }
    case ClusterKeys::Kind::vm: {
      if (!value) {
        vms_.remove(key.name);
        return;
      }
      auto rec = decode_vm(*value);
      if (!rec) return warn(rec.error());
      Vm vm{rec->id, rec->home_address, rec->mac, rec->allowed_fas, std::nullopt, rec->home_addresses_v6};
      if (!rec->key.empty())
        if (auto alg = auth::parse_algorithm(rec->algorithm))
          vm.mn_ha = auth::SecurityAssociation{rec->spi, *alg, rec->key};
      vms_.put(std::move(vm));
      return;
    }
    case ClusterKeys::Kind::revocation:
      if (auto r = mirror_revocation(mirrored_revocations_, key.name, value); !r) warn(r.error());
      return;
    case ClusterKeys::Kind::leader:
    case ClusterKeys::Kind::unknown:
      return;
  }
}

// One series per role, 1 for this HA's (docs/operations.md "What to monitor"): an alert on
// role="connecting" finds an HA that lost etcd and retries.
void HomeAgent::add_cluster_metrics() {
  for (const char* role : {"active", "standby", "electing", "connecting"})
    metrics_.gauge_callback("vmroam_cluster_role", "This home agent's role in its cluster", {{"role", role}},
                            [this, role] { return seams_.cluster->role() == role ? 1.0 : 0.0; });
  metrics_.gauge_callback("vmroam_cluster_reconnects",
                          "Reconnects to etcd since start (a standby that lost it)", {},
                          [this] { return static_cast<double>(seams_.cluster->reconnects()); });
}

// An expired binding leaves the store. In a cluster its record was the HoA's replay state
// (one key per registration, cluster_records.hpp): that goes on in replay/<hoa>.
void HomeAgent::drop_expired(store::Batch& batch, Ipv4 hoa) {
  batch.delete_binding(hoa);
  if (auto it = replay_.find(hoa); seams_.cluster && it != replay_.end())
    batch.put_replay(store::ReplayRecord{hoa, it->second.last_accepted});
}

Result<void> HomeAgent::take_over() {
  std::size_t n = 0;
  cache_.for_each([&](const binding::Binding& b) {
    auto it = mirrored_endpoints_.find(b.home_address);
    bind_kernel_state(
        b, it != mirrored_endpoints_.end()
               ? it->second
               : dataplane::TunnelEndpoint{b.care_of_address, b.encapsulation, mip::kRegistrationPort});
    ++n;
  });
  mirrored_endpoints_.clear();
  arm_expiry();
  log_info("home_agent_took_over", {{"address", config_.address.to_string()},
                                    {"bindings", std::to_string(n)},
                                    {"revocations_resent", std::to_string(mirrored_revocations_.size())}});
  // Revocations the old active committed but never saw acknowledged go out from here (RFC
  // 3543 §4), as after a restart of a single HA; their acks now come to us.
  for (const auto& [id, r] : mirrored_revocations_) revocations_.start(r);
  mirrored_revocations_.clear();
  return ok();
}

}  // namespace vmroam::ha
