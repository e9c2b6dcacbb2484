// HomeAgentApi: see home_agent_api.hpp.
//
// Every mutating handler validates the whole body first (FieldReader names the field that is
// wrong), then commits to the store, and only then changes memory and the kernel: a 4xx or a
// failed commit changes nothing.
#include <cinttypes>
#include <cstdio>

#include "common/api/field_reader.hpp"
#include "common/core/hex.hpp"
#include "common/core/log.hpp"
#include "home-agent/home_agent_api.hpp"

#include "home-agent/home_agent.hpp"

namespace vmroam::ha {

namespace {

using api::Json;
using api::Method;

// A write that reaches the store on a standby (it lost an election since the handler
// checked) is refused (503, naming the active HA); any other commit failure is ours (500).
api::Response commit_failed(const Error& e) {
  return e.code == "cluster_standby" ? api::unavailable(e.to_string()) : api::internal(e);
}
using api::Response;

// 503 from a standby for a write (docs/api.md "Cluster"): names the active HA of our home
// prefix and its API address, from the member records in etcd (`status`), else from the
// leader key as the watch last saw it.
Response standby_refusal(const std::string& node, const std::string& home, const std::string& leader,
                         const Result<ClusterStatus>& status) {
  std::string active = leader;
  std::string address;
  if (status)
    if (const MemberRecord* a = active_of(*status, home)) {
      active = a->node;
      address = a->api;
    }
  std::string message = "this home agent (" + node + ") is a standby for " + home + "; ";
  Json e{{"code", "standby"}};
  if (active.empty()) {
    message += "no active one is known yet (an election is under way): try again in a few seconds";
  } else {
    message += "writes go to the active one, " + active + (address.empty() ? "" : ", at " + address);
    if (!status) message += " (its API address is unknown: " + status.error().to_string() + ")";
    e["active"] = Json{{"node", active}, {"api", address.empty() ? Json(nullptr) : Json(address)}};
  }
  e["message"] = message;
  return Response::make_json(503, Json{{"error", e}});
}

std::string hex64(std::uint64_t v) {
  char buf[19];
  std::snprintf(buf, sizeof buf, "0x%016" PRIx64, v);
  return buf;
}

Json flag_names(std::uint8_t flags) {
  static constexpr std::pair<std::uint8_t, const char*> kNames[] = {
      {mip::request_flag::S, "S"}, {mip::request_flag::B, "B"}, {mip::request_flag::D, "D"},
      {mip::request_flag::M, "M"}, {mip::request_flag::G, "G"}, {mip::request_flag::r, "r"},
      {mip::request_flag::T, "T"}, {mip::request_flag::x, "x"}};
  Json out = Json::array();
  for (const auto& [mask, name] : kNames)
    if (flags & mask) out.push_back(name);
  return out;
}

template <typename F>
api::Handler bind_handler(HomeAgentApi* self, F f) {
  return [self, f](const api::Request& r, const api::PathParams& p) { return (self->*f)(r, p); };
}

// IPv6 home addresses as JSON text (docs/api.md "home_addresses_v6").
Json v6_json(const std::vector<Ipv6>& list) {
  Json a = Json::array();
  for (const auto& x : list) a.push_back(x.to_string());
  return a;
}

// A VM has at most this many IPv6 home addresses: each one is a 20-byte extension in every
// registration (RFC 5454 §2.1) and a proxy neighbour entry at home while it is away.
constexpr std::size_t kMaxHomeAddressesV6 = 16;

}  // namespace

HomeAgentApi::HomeAgentApi(HomeAgent& agent) : ha_(agent), tunnel_metrics_(agent.metrics_, "binding") {
  router_.add(Method::get, "/v1/health", bind_handler(this, &HomeAgentApi::api_health));
  router_.add(Method::get, "/metrics", bind_handler(this, &HomeAgentApi::api_metrics));
  router_.add(Method::get, "/v1/cluster", bind_handler(this, &HomeAgentApi::api_cluster));
  router_.add(Method::post, "/v1/vms", bind_handler(this, &HomeAgentApi::api_vm_create));
  router_.add(Method::get, "/v1/vms", bind_handler(this, &HomeAgentApi::api_vm_list));
  router_.add(Method::get, "/v1/vms/{id}", bind_handler(this, &HomeAgentApi::api_vm_show));
  router_.add(Method::put, "/v1/vms/{id}", bind_handler(this, &HomeAgentApi::api_vm_replace));
  router_.add(Method::delete_, "/v1/vms/{id}", bind_handler(this, &HomeAgentApi::api_vm_delete));
  router_.add(Method::post, "/v1/vms/{id}/handover", bind_handler(this, &HomeAgentApi::api_vm_handover));
  router_.add(Method::get, "/v1/bindings", bind_handler(this, &HomeAgentApi::api_binding_list));
  router_.add(Method::get, "/v1/bindings/{home_address}",
              bind_handler(this, &HomeAgentApi::api_binding_show));
}

api::Reply HomeAgentApi::api_health(const api::Request&, const api::PathParams&) {
  const auto up =
      std::chrono::duration_cast<std::chrono::seconds>(ha_.seams_.clock->now() - ha_.started_at_).count();
  Json cluster = nullptr;
  if (const auto* c = ha_.seams_.cluster)
    cluster = Json{{"role", c->role()},
                   {"active", c->active_node()},
                   {"reconnects", c->reconnects()},
                   {"etcd_error", c->etcd_error().empty() ? Json(nullptr) : Json(c->etcd_error())}};
  return Response::make_json(200, Json{{"status", "ok"},
                                       {"cluster", cluster},
                                       {"role", "home-agent"},
                                       {"version", VMROAM_VERSION},
                                       {"address", ha_.config_.address.to_string()},
                                       {"uptime_s", up},
                                       {"vms", ha_.vms_.size()},
                                       {"bindings", ha_.cache_.size()},
                                       {"dataplane", std::string(ha_.seams_.driver->name())}});
}

// GET /v1/cluster (docs/api.md "Cluster"): members, roles, lag and lease TTLs, read from etcd.
api::Reply HomeAgentApi::api_cluster(const api::Request&, const api::PathParams&) {
  ClusterLink* c = ha_.seams_.cluster;
  if (!c) return api::not_found("this home agent is not in a cluster (no \"cluster\" section)");
  auto [deferred, responder] = api::make_deferred();
  c->survey([responder = responder](const Result<ClusterStatus>& s) {
    responder.send(s ? Response::make_json(200, to_json(*s)) : api::unavailable(s.error().to_string()));
  });
  return std::move(deferred);
}

std::optional<api::Reply> HomeAgentApi::refuse_on_standby() {
  ClusterLink* c = ha_.seams_.cluster;
  if (!c || c->active()) return std::nullopt;
  auto [deferred, responder] = api::make_deferred();
  c->survey([responder = responder, node = ha_.config_.cluster ? ha_.config_.cluster->node : std::string(),
             home = ha_.config_.home_prefix.to_string(), leader = c->active_node()](
                const Result<ClusterStatus>& s) { responder.send(standby_refusal(node, home, leader, s)); });
  return api::Reply(std::move(deferred));
}

api::Reply HomeAgentApi::api_metrics(const api::Request&, const api::PathParams&) {
  sync_tunnel_metrics();
  return Response::make_text(200, ha_.metrics_.render(), api::kPrometheusType);
}

void HomeAgentApi::sync_tunnel_metrics() {
  dataplane::TunnelStats st = ha_.seams_.driver->stats();
  // The handover hold keeps its queue itself; its tail drops are reported with the tunnel's.
  st.drops[static_cast<std::size_t>(dataplane::DropReason::hold_full)] += ha_.handovers_.dropped();
  tunnel_metrics_.sync(st);
}

Json HomeAgentApi::vm_json(const Vm& vm) const {
  Json fas = Json::array();
  for (auto a : vm.allowed_fas) fas.push_back(a.to_string());
  Json j{{"id", vm.id},
         {"home_address", vm.home_address.to_string()},
         {"mac", vm.mac.to_string()},
         {"allowed_fas", fas},
         {"home_addresses_v6", v6_json(vm.home_addresses_v6)},
         {"away", ha_.cache_.lookup(vm.home_address) != nullptr}};
  if (vm.mn_ha) {
    j["spi"] = vm.mn_ha->spi;
    j["algorithm"] = std::string(auth::algorithm_name(vm.mn_ha->algorithm));
  }
  return j;  // keys are never returned
}

Json HomeAgentApi::binding_json(const binding::Binding& b) const {
  const TimePoint now = ha_.seams_.clock->now();
  Json j{{"home_address", b.home_address.to_string()},
         {"care_of_address", b.care_of_address.to_string()},
         {"foreign_agent", b.foreign_agent.to_string()},
         {"lifetime_granted", b.lifetime_granted},
         {"remaining_s",
          b.infinite() ? Json(nullptr)
                       : Json(std::chrono::duration_cast<std::chrono::seconds>(b.remaining(now)).count())},
         {"flags", flag_names(b.flags)},
         {"encapsulation", std::string(binding::to_string(b.encapsulation))},
         {"identification", hex64(b.identification)},
         {"move_seq", b.move_seq},
         {"home_addresses_v6", v6_json(b.home_addresses_v6)}};
  if (const Vm* vm = ha_.vms_.by_home_address(b.home_address)) j["vm"] = vm->id;
  const auto st = ha_.seams_.driver->stats();
  if (const auto ep = ha_.tunnels_.endpoint_of(b.home_address)) {
    j["tunnel"] = Json{{"peer", ep->peer.to_string()},
                       {"port", ep->udp_port},
                       {"encapsulation", std::string(dataplane::to_string(ep->encapsulation))}};
    if (const auto* c = st.peer(ep->peer))
      j["tunnel"]["counters"] = Json{{"tx_packets", c->tx_packets},
                                     {"tx_bytes", c->tx_bytes},
                                     {"rx_packets", c->rx_packets},
                                     {"rx_bytes", c->rx_bytes}};
  }
  if (const auto* c = st.hoa(b.home_address))  // this binding's own traffic (eBPF driver)
    j["counters"] = Json{{"tx_packets", c->tx_packets},
                         {"tx_bytes", c->tx_bytes},
                         {"rx_packets", c->rx_packets},
                         {"rx_bytes", c->rx_bytes}};
  return j;
}

api::Reply HomeAgentApi::api_vm_create(const api::Request& r, const api::PathParams&) {
  return put_vm(r, {}, true);
}
api::Reply HomeAgentApi::api_vm_replace(const api::Request& r, const api::PathParams& p) {
  return put_vm(r, p.at("id"), false);
}

api::Reply HomeAgentApi::put_vm(const api::Request& req, const std::string& path_id, bool create) {
  if (auto refused = refuse_on_standby()) return std::move(*refused);
  auto f = api::FieldReader::from_body(req.body);
  Vm vm;
  if (create) {
    vm.id = f.require_id("id");
  } else {
    vm.id = path_id;
    if (auto body_id = f.optional_string("id"); body_id && *body_id != path_id)
      f.fail_field("id", "does not match the id in the path");
  }
  vm.home_address = f.require_ipv4("home_address");
  vm.mac = f.require_mac("mac");
  vm.allowed_fas = f.optional_ipv4_list("allowed_fas").value_or(std::vector<Ipv4>{});
  vm.home_addresses_v6 =
      f.optional_ipv6_list("home_addresses_v6", kMaxHomeAddressesV6).value_or(std::vector<Ipv6>{});
  auto spi = f.optional_uint("spi", mip::kSpiReservedMax + 1, 0xffffffffu);
  auto algorithm = f.optional_enum("algorithm", {"hmac-sha256", "hmac-md5"});
  auto key = f.optional_hex_key("key", auth::kMinKeySize, auth::kMaxKeySize);
  f.reject_unknown();
  if (f.ok() && !ha_.config_.home_prefix.contains(vm.home_address))
    f.fail_field("home_address", "not in the home prefix " + ha_.config_.home_prefix.to_string());
  if (f.ok())
    if (auto p = check_home_addresses_v6(vm.home_addresses_v6, ha_.config_.home_prefix_v6))
      f.fail_field(p->field, p->message);
  if (f.ok() && vm.mac.is_zero()) f.fail_field("mac", "must not be 00:00:00:00:00:00");
  if (f.ok() && spi.has_value() != key.has_value())
    f.fail_field(spi ? "key" : "spi", "spi and key come together (the VM's MN-HA association)");
  if (f.ok() && algorithm && !spi) f.fail_field("spi", "required with algorithm");
  for (auto fa : vm.allowed_fas)
    if (f.ok() && !ha_.registrar_.foreign_agent(fa))
      f.fail_field("allowed_fas", fa.to_string() + " is not a configured foreign agent");
  if (!f.ok()) return f.error();
  if (spi) {
    auto alg = auth::parse_algorithm(algorithm.value_or("hmac-sha256"));
    vm.mn_ha = auth::SecurityAssociation{static_cast<std::uint32_t>(*spi), *alg, *key};
  }

  if (auto clash = vm_conflict(vm, create)) return std::move(*clash);

  store::VmRecord rec{vm.id, vm.home_address, vm.mac, vm.allowed_fas,      0, {},
                      {},    std::nullopt,    "{}",   vm.home_addresses_v6};
  if (vm.mn_ha) {
    rec.spi = vm.mn_ha->spi;
    rec.algorithm = std::string(auth::algorithm_name(vm.mn_ha->algorithm));
    rec.key = vm.mn_ha->key;
  }
  store::Batch batch;
  batch.put_vm(std::move(rec));
  if (auto ok = ha_.commit(batch); !ok) return commit_failed(ok.error());
  ha_.vms_.put(vm);
  log_info(create ? "vm_added" : "vm_updated", {{"id", vm.id}, {"hoa", vm.home_address.to_string()}});
  return Response::make_json(create ? 201 : 200, vm_json(*ha_.vms_.by_id(vm.id)));
}

// 404 or 409 when `vm` cannot be put as asked: it exists (create) or does not (replace), one
// of its home addresses is another VM's, or it is away and its home addresses would change.
std::optional<api::Reply> HomeAgentApi::vm_conflict(const Vm& vm, bool create) const {
  const Vm* existing = ha_.vms_.by_id(vm.id);
  if (create && existing) return api::conflict("VM " + vm.id + " exists; use PUT /v1/vms/" + vm.id);
  if (!create && !existing) return api::not_found("no VM " + vm.id);
  if (const Vm* other = ha_.vms_.by_home_address(vm.home_address); other && other->id != vm.id)
    return api::conflict("home address " + vm.home_address.to_string() + " belongs to VM " + other->id);
  for (const auto& a : vm.home_addresses_v6)
    if (const Vm* other = ha_.vms_.by_home_address_v6(a); other && other->id != vm.id)
      return api::conflict("IPv6 home address " + a.to_string() + " belongs to VM " + other->id);
  if (existing && ha_.cache_.lookup(existing->home_address) &&
      (existing->home_address != vm.home_address || existing->home_addresses_v6 != vm.home_addresses_v6))
    return api::conflict("VM " + vm.id + " is away; its home addresses cannot change until it is home");
  return std::nullopt;
}

api::Reply HomeAgentApi::api_vm_list(const api::Request&, const api::PathParams&) {
  Json out = Json::array();
  for (const auto& [id, vm] : ha_.vms_.all()) out.push_back(vm_json(vm));
  return Response::make_json(200, Json{{"vms", out}});
}

api::Reply HomeAgentApi::api_vm_show(const api::Request&, const api::PathParams& p) {
  const Vm* vm = ha_.vms_.by_id(p.at("id"));
  if (!vm) return api::not_found("no VM " + p.at("id"));
  Json j = vm_json(*vm);
  if (const auto* b = ha_.cache_.lookup(vm->home_address)) j["binding"] = binding_json(*b);
  return Response::make_json(200, j);
}

api::Reply HomeAgentApi::api_vm_delete(const api::Request&, const api::PathParams& p) {
  if (auto refused = refuse_on_standby()) return std::move(*refused);
  const Vm* vm = ha_.vms_.by_id(p.at("id"));
  if (!vm) return api::not_found("no VM " + p.at("id"));
  const Ipv4 hoa = vm->home_address;
  store::Batch batch;
  batch.delete_vm(vm->id);
  batch.delete_binding(hoa);
  batch.delete_replay(hoa);
  if (auto ok = ha_.commit(batch); !ok) return commit_failed(ok.error());
  const std::string id = vm->id;
  if (auto b = ha_.cache_.remove(hoa)) ha_.unbind_kernel_state(*b, /*announce_home=*/false);
  ha_.replay_.erase(hoa);
  ha_.vms_.remove(id);
  ha_.arm_expiry();
  log_info("vm_removed", {{"id", id}, {"hoa", hoa.to_string()}});
  return Response::make_json(200, Json{{"removed", id}});
}

api::Reply HomeAgentApi::api_binding_list(const api::Request&, const api::PathParams&) {
  Json out = Json::array();
  for (const auto& b : ha_.cache_.snapshot()) out.push_back(binding_json(b));
  return Response::make_json(200, Json{{"bindings", out}});
}

api::Reply HomeAgentApi::api_binding_show(const api::Request&, const api::PathParams& p) {
  auto hoa = Ipv4::parse(p.at("home_address"));
  if (!hoa) return api::bad_field("home_address", "not an IPv4 address: " + p.at("home_address"));
  const auto* b = ha_.cache_.lookup(*hoa);
  if (!b) return api::not_found("no binding for " + hoa->to_string());
  return Response::make_json(200, binding_json(*b));
}

// POST /v1/vms/{id}/handover {"phase": "prepare" | "stopped" | "cancel", "stopped_at_us": N}
// (docs/api.md): the migration driver's side of the handover hold.
api::Reply HomeAgentApi::api_vm_handover(const api::Request& req, const api::PathParams& p) {
  if (auto refused = refuse_on_standby()) return std::move(*refused);
  auto f = api::FieldReader::from_body(req.body);
  const std::string phase = f.require_enum("phase", {"prepare", "stopped", "cancel"});
  // Unix microseconds of the source's STOP (QMP event timestamps have microseconds); a year
  // 2001..2286 bound catches milliseconds or seconds sent by mistake.
  auto stopped_us = f.optional_uint("stopped_at_us", 1'000'000'000'000'000ull, 9'999'999'999'000'000ull);
  f.reject_unknown();
  if (!f.ok()) return f.error();
  if (stopped_us && phase != "stopped") return api::bad_request("stopped_at_us: only with phase \"stopped\"");
  const Vm* vm = ha_.vms_.by_id(p.at("id"));
  if (!vm) return api::not_found("no VM " + p.at("id"));
  std::optional<WallTime> at;
  if (stopped_us)
    at = WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::microseconds(*stopped_us)));
  const HandoverPhase ph = phase == "prepare"   ? HandoverPhase::prepare
                           : phase == "stopped" ? HandoverPhase::stopped
                                                : HandoverPhase::cancel;
  auto r = ha_.handover(vm->home_address, ph, at);
  if (!r) {
    if (r.error().code == "not_supported" || r.error().code == "holding")
      return api::conflict(r.error().to_string());
    return api::internal(r.error());
  }
  return Response::make_json(200, Json{{"vm", vm->id},
                                       {"home_address", vm->home_address.to_string()},
                                       {"state", r->state},
                                       {"recovered", r->recovered},
                                       {"released", r->released}});
}

}  // namespace vmroam::ha
