// The foreign agent's JSON API (docs/api.md "Foreign agent"): visitors, health, metrics.
//
// Every mutating handler validates the whole body first (FieldReader names the wrong field): a
// 4xx changes nothing. prepare commits to the store before it changes memory and the kernel (a
// failed commit changes nothing); activate, abort and depart act at once (the request must not
// wait for an fsync) and answer once their commit is durable (a Deferred reply). GET
// /v1/visitors/{id}?wait_ms=N long-polls (a Deferred reply) until the registration outcome is known (active
// or failed) or N ms pass.
#include <cinttypes>
#include <cstdio>

#include "common/api/field_reader.hpp"
#include "common/core/log.hpp"
#include "foreign-agent/foreign_agent.hpp"

namespace vmroam::fa {

namespace {

using api::Json;
using api::Method;
using api::Response;
using binding::Visitor;
using binding::VisitorState;

constexpr std::uint64_t kMaxWaitMs = 60000;

std::string hex64(std::uint64_t v) {
  char buf[19];
  std::snprintf(buf, sizeof buf, "0x%016" PRIx64, v);
  return buf;
}

template <typename F>
api::Handler bind_handler(ForeignAgent* self, F f) {
  return [self, f](const api::Request& r, const api::PathParams& p) { return (self->*f)(r, p); };
}

}  // namespace

void ForeignAgent::build_router() {
  router_.add(Method::get, "/v1/health", bind_handler(this, &ForeignAgent::api_health));
  router_.add(Method::get, "/metrics", bind_handler(this, &ForeignAgent::api_metrics));
  router_.add(Method::post, "/v1/visitors", bind_handler(this, &ForeignAgent::api_prepare));
  router_.add(Method::get, "/v1/visitors", bind_handler(this, &ForeignAgent::api_list));
  router_.add(Method::get, "/v1/visitors/{id}", bind_handler(this, &ForeignAgent::api_show));
  router_.add(Method::post, "/v1/visitors/{id}/activate", bind_handler(this, &ForeignAgent::api_activate));
  router_.add(Method::post, "/v1/visitors/{id}/resumed", bind_handler(this, &ForeignAgent::api_resumed));
  router_.add(Method::post, "/v1/visitors/{id}/abort", bind_handler(this, &ForeignAgent::api_abort));
  router_.add(Method::post, "/v1/visitors/{id}/depart", bind_handler(this, &ForeignAgent::api_depart));
}

api::Reply ForeignAgent::handle_api(const api::Request& request) { return router_.dispatch(request); }

api::Reply ForeignAgent::api_health(const api::Request&, const api::PathParams&) {
  const auto up = std::chrono::duration_cast<std::chrono::seconds>(seams_.clock->now() - started_at_).count();
  return Response::make_json(200, Json{{"status", "ok"},
                                       {"role", "foreign-agent"},
                                       {"version", VMROAM_VERSION},
                                       {"address", config_.address.to_string()},
                                       {"uptime_s", up},
                                       {"visitors", visitors_.size()},
                                       {"gateway_mode", anycast_ ? "anycast" : "garp"},
                                       {"dataplane", std::string(seams_.driver->name())}});
}

api::Reply ForeignAgent::api_metrics(const api::Request&, const api::PathParams&) {
  return Response::make_text(200, metrics_.render(), api::kPrometheusType);
}

Json ForeignAgent::visitor_json(const Visitor& v) const {
  const TimePoint now = seams_.clock->now();
  Json j{{"id", v.id},
         {"home_address", v.home_address.to_string()},
         {"mac", v.mac.to_string()},
         {"home_gateway", v.home_gateway.to_string()},
         {"home_gateway_mac", v.home_gateway_mac.to_string()},
         {"home_agent", v.home_agent.to_string()},
         {"state", std::string(binding::to_string(v.state))},
         {"lifetime_requested", v.lifetime_requested},
         {"encapsulation", std::string(binding::to_string(v.encapsulation))},
         {"identification", hex64(v.identification_sent)}};
  if (!v.key.empty()) {
    j["spi"] = v.spi;
    j["algorithm"] = v.algorithm;
  }
  if (v.last_reply_code) j["reply_code"] = *v.last_reply_code;
  if (!v.reason.empty()) j["reason"] = v.reason;
  if (v.state == VisitorState::active && v.expires_at != TimePoint{}) {
    j["remaining_s"] =
        v.expires_at == TimePoint::max()
            ? Json(nullptr)
            : Json(std::chrono::duration_cast<std::chrono::seconds>(v.expires_at - now).count());
  }
  if (auto it = runtime_.find(v.id); it != runtime_.end()) {
    const Runtime& rt = it->second;
    if (rt.handover_ms) j["handover_ms"] = *rt.handover_ms;
    if (rt.granted) j["lifetime_granted"] = rt.granted;
    j["resumed"] = rt.resumed;
    j["buffer"] = Json{{"buffering", rt.buffering},
                       {"packets", rt.queue.size()},
                       {"bytes", rt.queue_bytes},
                       {"overflow_packets", rt.overflow_packets},
                       {"flushed_packets", rt.flushed_packets}};
  }
  return j;
}

api::Reply ForeignAgent::api_prepare(const api::Request& req, const api::PathParams&) {
  auto f = api::FieldReader::from_body(req.body);
  Visitor v;
  v.id = f.require_id("id");
  v.home_address = f.require_ipv4("home_address");
  v.mac = f.require_mac("mac");
  v.home_gateway = f.require_ipv4("home_gateway");
  v.home_gateway_mac = f.require_mac("home_gateway_mac");
  v.home_agent = f.require_ipv4("home_agent");
  auto spi = f.optional_uint("spi", mip::kSpiReservedMax + 1, 0xffffffffu);
  auto algorithm = f.optional_enum("algorithm", {"hmac-sha256", "hmac-md5"});
  auto key = f.optional_hex_key("key", auth::kMinKeySize, auth::kMaxKeySize);
  auto lifetime = f.optional_uint("lifetime", 1, 0xFFFF);
  auto encapsulation = f.optional_enum("encapsulation", {"ipip", "udp"});
  f.reject_unknown();
  if (f.ok() && v.home_address.is_zero()) f.fail_field("home_address", "must not be 0.0.0.0");
  if (f.ok() && (v.mac.is_zero() || v.mac.is_broadcast())) f.fail_field("mac", "must be a unicast MAC");
  if (f.ok() && v.home_gateway == v.home_address)
    f.fail_field("home_gateway", "must differ from home_address");
  if (f.ok() && v.home_agent.is_zero()) f.fail_field("home_agent", "must not be 0.0.0.0");
  bool known_ha = false;
  for (const auto& h : config_.home_agents) known_ha |= h.address == v.home_agent;
  if (f.ok() && !known_ha)
    f.fail_field("home_agent", v.home_agent.to_string() + " is not a configured home agent");
  if (f.ok() && spi.has_value() != key.has_value())
    f.fail_field(spi ? "key" : "spi", "spi and key come together (the VM's MN-HA association)");
  if (f.ok() && algorithm && !spi) f.fail_field("spi", "required with algorithm");
  if (f.ok() && !key && !fa_ha_for(v.home_agent))
    f.fail_field("key", "required: no FA-HA key is configured for home agent " + v.home_agent.to_string());
  if (!f.ok()) return f.error();
  if (spi) {
    v.spi = static_cast<std::uint32_t>(*spi);
    v.algorithm = algorithm.value_or("hmac-sha256");
    v.key = *key;
  }
  v.lifetime_requested = static_cast<std::uint16_t>(lifetime.value_or(0));
  v.encapsulation = binding::parse_encapsulation(encapsulation.value_or(config_.encapsulation))
                        .value_or(binding::Encapsulation::ipip);
  v.state = VisitorState::prepared;
  v.created_at = seams_.clock->now();

  if (visitors_.find(v.id)) return api::conflict("visitor " + v.id + " exists");
  if (const Visitor* o = visitors_.find_by_home_address(v.home_address))
    return api::conflict("home address " + v.home_address.to_string() + " belongs to visitor " + o->id);
  if (const Visitor* o = visitors_.find_by_mac(v.mac))
    return api::conflict("MAC " + v.mac.to_string() + " belongs to visitor " + o->id);

  store::Batch batch;
  batch.put_visitor(to_record(v));
  if (auto r = commit(batch); !r) return api::internal(r.error());
  auto added = visitors_.add(v);
  if (!added) std::abort();  // checked above
  Runtime& rt = runtime_[v.id];
  install_delivery(**added, rt, /*buffering=*/true);
  log_info("visitor_prepared", {{"visitor", v.id},
                                {"hoa", v.home_address.to_string()},
                                {"mac", v.mac.to_string()},
                                {"buffering", rt.buffering ? "on" : "off"}});
  return Response::make_json(201, visitor_json(**added));
}

api::Reply ForeignAgent::api_list(const api::Request&, const api::PathParams&) {
  Json out = Json::array();
  visitors_.for_each([&](const Visitor& v) { out.push_back(visitor_json(v)); });
  return Response::make_json(200, Json{{"visitors", out}});
}

api::Reply ForeignAgent::api_show(const api::Request& req, const api::PathParams& p) {
  const std::string& id = p.at("id");
  auto q = api::FieldReader::from_query(req);
  auto wait_ms = q.optional_uint("wait_ms", 0, kMaxWaitMs);
  q.reject_unknown();
  if (!q.ok()) return q.error();
  const Visitor* v = visitors_.find(id);
  if (!v) return api::not_found("no visitor " + id);
  const bool outcome_known = v->state == VisitorState::active || v->state == VisitorState::failed ||
                             v->state == VisitorState::prepared;
  if (!wait_ms || *wait_ms == 0 || outcome_known) return Response::make_json(200, visitor_json(*v));
  // Long poll: answered by complete_waiters() or when the time is up.
  auto [deferred, responder] = api::make_deferred();
  auto timer = std::make_shared<boost::asio::steady_timer>(io_);
  timer->expires_after(std::chrono::milliseconds(*wait_ms));
  timer->async_wait([this, id, responder](const boost::system::error_code& ec) {
    if (ec || !responder.active()) return;
    if (const Visitor* now = visitors_.find(id))
      (void)responder.send(Response::make_json(200, visitor_json(*now)));
    else
      (void)responder.send(api::not_found("no visitor " + id));
  });
  responder.on_cancel([timer] { timer->cancel(); });
  runtime_[id].waiters.push_back(responder);
  return deferred;
}

api::Reply ForeignAgent::api_activate(const api::Request& req, const api::PathParams& p) {
  auto f = api::FieldReader::from_body(req.body, /*empty_is_object=*/true);
  f.reject_unknown();
  if (!f.ok()) return f.error();
  const std::string& id = p.at("id");
  const Visitor* v = visitors_.find(id);
  if (!v) return api::not_found("no visitor " + id);
  if (v->state == VisitorState::active) return Response::make_json(200, visitor_json(*v));
  if (v->state == VisitorState::registering)
    return Response::make_json(202, Json{{"id", id}, {"state", "registering"}});
  auto [reply, on_durable] = reply_when_durable([id](const Result<void>& r) {
    return r ? Response::make_json(202, Json{{"id", id}, {"state", "registering"}})
             : api::internal(r.error());
  });
  if (auto r = begin_registration(id, std::move(on_durable)); !r) return api::conflict(r.error().to_string());
  return reply;
}

api::Reply ForeignAgent::api_resumed(const api::Request& req, const api::PathParams& p) {
  auto f = api::FieldReader::from_body(req.body, /*empty_is_object=*/true);
  f.reject_unknown();
  if (!f.ok()) return f.error();
  const std::string& id = p.at("id");
  const Visitor* v = visitors_.find(id);
  if (!v) return api::not_found("no visitor " + id);
  mark_resumed(id, "api");
  return Response::make_json(200, visitor_json(*visitors_.find(id)));
}

api::Reply ForeignAgent::api_abort(const api::Request& req, const api::PathParams& p) {
  auto f = api::FieldReader::from_body(req.body, /*empty_is_object=*/true);
  f.reject_unknown();
  if (!f.ok()) return f.error();
  const std::string& id = p.at("id");
  const Visitor* v = visitors_.find(id);
  if (!v) return api::not_found("no visitor " + id);
  if (auto r = binding::check_transition(v->state, VisitorState::aborted); !r)
    return api::conflict("visitor " + id + " is " + std::string(binding::to_string(v->state)) +
                         ": abort undoes a prepare; use depart");
  auto [reply, on_durable] = reply_when_durable([id](const Result<void>& r) {
    return r ? Response::make_json(200, Json{{"id", id}, {"state", "aborted"}}) : api::internal(r.error());
  });
  drop_visitor(id, "aborted", std::move(on_durable));
  return reply;
}

api::Reply ForeignAgent::api_depart(const api::Request& req, const api::PathParams& p) {
  auto f = api::FieldReader::from_body(req.body, /*empty_is_object=*/true);
  f.reject_unknown();
  if (!f.ok()) return f.error();
  const std::string& id = p.at("id");
  const Visitor* v = visitors_.find(id);
  if (!v) return api::not_found("no visitor " + id);
  if (v->state != VisitorState::active)
    return api::conflict("visitor " + id + " is " + std::string(binding::to_string(v->state)) +
                         ": only an active visitor departs; use abort");
  // RFC 5944 §3.6.1.1: lifetime 0 deregisters; the HA ignores it if the binding moved on.
  // Delivery lingers until the HA has answered (packets it sent before are still coming).
  auto [reply, on_durable] = reply_when_durable([id](const Result<void>& r) {
    return r ? Response::make_json(200, Json{{"id", id}, {"state", "departed"}}) : api::internal(r.error());
  });
  depart(id, std::move(on_durable));
  return reply;
}

}  // namespace vmroam::fa
