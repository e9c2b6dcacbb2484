// The foreign agent's JSON API: validation, answers, long polls (see the header).
#include "foreign-agent/foreign_agent_api.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "common/api/field_reader.hpp"
#include "common/core/log.hpp"
#include "foreign-agent/foreign_agent.hpp"
#include "foreign-agent/proxy_registration.hpp"

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
api::Handler bind_handler(ForeignAgentApi* self, F f) {
  return [self, f](const api::Request& r, const api::PathParams& p) { return (self->*f)(r, p); };
}

// The store could not record a change: a 500 that names the store's error (docs/api.md).
Response store_failed(const Error& e) { return api::internal("store commit failed: " + e.to_string()); }

// A reply sent once the command's commit has completed: `ok` if durable, else store_failed.
std::pair<api::Reply, ForeignAgent::Done> when_durable(std::function<Response()> ok) {
  auto [deferred, answer] = api::LongPoll::once();
  return {deferred, [answer = std::move(answer), ok = std::move(ok)](const Result<void>& r) {
            answer(r ? ok() : store_failed(r.error()));
          }};
}

// The body of a POST that takes none (or {}); a 4xx when it has fields.
std::optional<Response> reject_fields(const api::Request& req) {
  auto f = api::FieldReader::from_body(req.body, /*empty_is_object=*/true);
  f.reject_unknown();
  if (!f.ok()) return f.error();
  return std::nullopt;
}

Json v6_json(const std::vector<Ipv6>& list) {
  Json a = Json::array();
  for (const auto& x : list) a.push_back(x.to_string());
  return a;
}

// Another visitor holding one of `v`'s IPv6 home addresses, said for a 409.
std::optional<std::string> v6_conflict(const binding::VisitorList& visitors, const binding::Visitor& v) {
  std::optional<std::string> clash;
  visitors.for_each([&](const binding::Visitor& o) {
    for (const auto& a : v.home_addresses_v6)
      if (!clash && o.id != v.id &&
          std::find(o.home_addresses_v6.begin(), o.home_addresses_v6.end(), a) != o.home_addresses_v6.end())
        clash = "IPv6 home address " + a.to_string() + " belongs to visitor " + o.id;
  });
  return clash;
}

// A visitor's IPv6 fields (docs/api.md): unicast home addresses, none twice, and the home
// router's address to answer Neighbor Solicitations for whenever there are some. The FA does
// not know the home prefix; the HA checks the addresses against the VM's definition.
std::optional<std::pair<std::string, std::string>> check_v6(const binding::Visitor& v) {
  const auto& list = v.home_addresses_v6;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string at = "home_addresses_v6[" + std::to_string(i) + "]";
    if (list[i].is_zero() || list[i].is_multicast() || list[i].is_link_local())
      return std::pair{at, list[i].to_string() + " is not a global unicast address"};
    for (std::size_t j = 0; j < i; ++j)
      if (list[j] == list[i])
        return std::pair{at, list[i].to_string() + " repeats home_addresses_v6[" + std::to_string(j) + "]"};
  }
  if (v.home_gateway_v6 && (v.home_gateway_v6->is_zero() || v.home_gateway_v6->is_multicast()))
    return std::pair{std::string("home_gateway_v6"), "must be a unicast address"};
  if (!list.empty() && !v.home_gateway_v6)
    return std::pair{std::string("home_gateway_v6"),
                     "required with home_addresses_v6 (the VM's IPv6 gateway)"};
  return std::nullopt;
}

}  // namespace

ForeignAgentApi::ForeignAgentApi(boost::asio::io_context& io, ForeignAgent& agent, const Clock& clock,
                                 std::string dataplane)
    : agent_(agent),
      clock_(clock),
      dataplane_(std::move(dataplane)),
      started_at_(clock.now()),
      polls_(io),
      tunnel_metrics_(agent.metrics(), "visitor") {
  router_.add(Method::get, "/v1/health", bind_handler(this, &ForeignAgentApi::health));
  router_.add(Method::get, "/metrics", bind_handler(this, &ForeignAgentApi::metrics));
  router_.add(Method::post, "/v1/visitors", bind_handler(this, &ForeignAgentApi::prepare));
  router_.add(Method::get, "/v1/visitors", bind_handler(this, &ForeignAgentApi::list));
  router_.add(Method::get, "/v1/visitors/{id}", bind_handler(this, &ForeignAgentApi::show));
  router_.add(Method::post, "/v1/visitors/{id}/activate", bind_handler(this, &ForeignAgentApi::activate));
  router_.add(Method::post, "/v1/visitors/{id}/resumed", bind_handler(this, &ForeignAgentApi::resumed));
  router_.add(Method::post, "/v1/visitors/{id}/abort", bind_handler(this, &ForeignAgentApi::abort));
  router_.add(Method::post, "/v1/visitors/{id}/depart", bind_handler(this, &ForeignAgentApi::depart));
}

// ---- What the agent reports ---------------------------------------------------------------

void ForeignAgentApi::on_settled(const std::string& id) {
  polls_.complete(id, [&] {
    const Visitor* v = agent_.visitors().find(id);
    return v ? Response::make_json(200, visitor_json(*v)) : api::not_found("no visitor " + id);
  });
}

void ForeignAgentApi::on_commit_failed(const std::string& id, const Error& e) {
  polls_.complete(id, [&] { return store_failed(e); });
}

void ForeignAgentApi::on_removed(const std::string& id, std::string_view why) {
  polls_.complete(id, [&] { return api::not_found("visitor " + id + " was removed: " + std::string(why)); });
}

void ForeignAgentApi::on_stopping() {
  polls_.complete_all([] { return api::unavailable("the foreign agent is stopping"); });
}

// ---- Handlers -----------------------------------------------------------------------------

api::Reply ForeignAgentApi::health(const api::Request&, const api::PathParams&) {
  const auto up = std::chrono::duration_cast<std::chrono::seconds>(clock_.now() - started_at_).count();
  return Response::make_json(200, Json{{"status", "ok"},
                                       {"role", "foreign-agent"},
                                       {"version", VMROAM_VERSION},
                                       {"address", agent_.config().address.to_string()},
                                       {"uptime_s", up},
                                       {"visitors", agent_.visitors().size()},
                                       {"gateway_mode", agent_.gateway_mode_anycast() ? "anycast" : "garp"},
                                       {"dataplane", dataplane_}});
}

api::Reply ForeignAgentApi::metrics(const api::Request&, const api::PathParams&) {
  // The tunnel's counters as the driver keeps them: per HA, per visitor (the eBPF driver's
  // per-HoA map), drops by reason.
  tunnel_metrics_.sync(agent_.tunnel_stats());
  return Response::make_text(200, agent_.metrics().render(), api::kPrometheusType);
}

Json ForeignAgentApi::visitor_json(const Visitor& v) const {
  Json j{{"id", v.id},
         {"home_address", v.home_address.to_string()},
         {"mac", v.mac.to_string()},
         {"home_gateway", v.home_gateway.to_string()},
         {"home_gateway_mac", v.home_gateway_mac.to_string()},
         {"home_agent", v.home_agent.to_string()},
         {"state", std::string(binding::to_string(v.state))},
         {"lifetime_requested", v.lifetime_requested},
         {"encapsulation", std::string(binding::to_string(v.encapsulation))},
         {"identification", hex64(v.identification_sent)},
         {"home_addresses_v6", v6_json(v.home_addresses_v6)},
         {"granted_v6", v6_json(v.granted_v6)},
         {"home_gateway_v6", v.home_gateway_v6 ? Json(v.home_gateway_v6->to_string()) : Json(nullptr)}};
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
            : Json(std::chrono::duration_cast<std::chrono::seconds>(v.expires_at - clock_.now()).count());
  }
  if (auto s = agent_.status(v.id)) {
    if (s->handover_ms) j["handover_ms"] = *s->handover_ms;
    if (s->granted) j["lifetime_granted"] = s->granted;
    j["resumed"] = s->resumed;
    j["buffer"] = Json{{"buffering", s->buffer.buffering},
                       {"packets", s->buffer.packets},
                       {"bytes", s->buffer.bytes},
                       {"overflow_packets", s->buffer.overflow_packets},
                       {"flushed_packets", s->buffer.flushed_packets}};
  }
  const auto st = agent_.tunnel_stats();
  if (const auto* c = st.hoa(v.home_address))  // the visitor's own tunnel traffic (eBPF driver)
    j["counters"] = Json{{"tx_packets", c->tx_packets},
                         {"tx_bytes", c->tx_bytes},
                         {"rx_packets", c->rx_packets},
                         {"rx_bytes", c->rx_bytes}};
  return j;
}

api::Reply ForeignAgentApi::prepare(const api::Request& req, const api::PathParams&) {
  const FaConfig& config = agent_.config();
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
  v.home_addresses_v6 = f.optional_ipv6_list("home_addresses_v6", 16).value_or(std::vector<Ipv6>{});
  v.home_gateway_v6 = f.optional_ipv6("home_gateway_v6");
  f.reject_unknown();
  if (f.ok())
    if (auto p = check_v6(v)) f.fail_field(p->first, p->second);
  if (f.ok() && v.home_address.is_zero()) f.fail_field("home_address", "must not be 0.0.0.0");
  if (f.ok() && (v.mac.is_zero() || v.mac.is_broadcast())) f.fail_field("mac", "must be a unicast MAC");
  if (f.ok() && v.home_gateway == v.home_address)
    f.fail_field("home_gateway", "must differ from home_address");
  // RFC 5944 §3.7.2: an FA relays to a unicast home agent only (else it denies with code 194).
  if (auto why = home_agent_problem(v.home_agent); f.ok() && why)
    f.fail_field("home_agent",
                 v.home_agent.to_string() + " is " + std::string(*why) + ", not a unicast address");
  const HomeAgentPeer* ha = nullptr;
  for (const auto& h : config.home_agents)
    if (h.address == v.home_agent) ha = &h;
  if (f.ok() && !ha) f.fail_field("home_agent", v.home_agent.to_string() + " is not a configured home agent");
  if (f.ok() && spi.has_value() != key.has_value())
    f.fail_field(spi ? "key" : "spi", "spi and key come together (the VM's MN-HA association)");
  if (f.ok() && algorithm && !spi) f.fail_field("spi", "required with algorithm");
  if (f.ok() && !key && !ha->fa_ha)
    f.fail_field("key", "required: no FA-HA key is configured for home agent " + v.home_agent.to_string());
  if (!f.ok()) return f.error();
  if (spi) {
    v.spi = static_cast<std::uint32_t>(*spi);
    v.algorithm = algorithm.value_or("hmac-sha256");
    v.key = *key;
  }
  v.lifetime_requested = static_cast<std::uint16_t>(lifetime.value_or(0));
  v.encapsulation = binding::parse_encapsulation(encapsulation.value_or(config.encapsulation))
                        .value_or(binding::Encapsulation::ipip);
  v.state = VisitorState::prepared;
  v.created_at = clock_.now();
  if (auto clash = v6_conflict(agent_.visitors(), v)) return api::conflict(*clash);
  const std::string id = v.id;
  if (auto r = agent_.prepare(std::move(v)); !r)
    return r.error().code == "conflict" ? api::conflict(r.error().context) : store_failed(r.error());
  return Response::make_json(201, visitor_json(*agent_.visitors().find(id)));
}

api::Reply ForeignAgentApi::list(const api::Request&, const api::PathParams&) {
  Json out = Json::array();
  agent_.visitors().for_each([&](const Visitor& v) { out.push_back(visitor_json(v)); });
  return Response::make_json(200, Json{{"visitors", out}});
}

api::Reply ForeignAgentApi::show(const api::Request& req, const api::PathParams& p) {
  const std::string& id = p.at("id");
  auto q = api::FieldReader::from_query(req);
  auto wait_ms = q.optional_uint("wait_ms", 0, kMaxWaitMs);
  q.reject_unknown();
  if (!q.ok()) return q.error();
  const Visitor* v = agent_.visitors().find(id);
  if (!v) return api::not_found("no visitor " + id);
  const bool outcome_known = v->state == VisitorState::active || v->state == VisitorState::failed ||
                             v->state == VisitorState::prepared;
  if (!wait_ms || *wait_ms == 0 || outcome_known) return Response::make_json(200, visitor_json(*v));
  // Answered by on_settled() (or another report) or, when the time is up, with what is known.
  return polls_.wait(id, std::chrono::milliseconds(*wait_ms), [this, id] {
    const Visitor* now = agent_.visitors().find(id);
    return now ? Response::make_json(200, visitor_json(*now)) : api::not_found("no visitor " + id);
  });
}

api::Reply ForeignAgentApi::activate(const api::Request& req, const api::PathParams& p) {
  if (auto bad = reject_fields(req)) return *bad;
  const std::string& id = p.at("id");
  const Visitor* v = agent_.visitors().find(id);
  if (!v) return api::not_found("no visitor " + id);
  if (v->state == VisitorState::active) return Response::make_json(200, visitor_json(*v));
  if (v->state == VisitorState::registering)
    return Response::make_json(202, Json{{"id", id}, {"state", "registering"}});
  auto [reply, done] = when_durable([id] {
    return Response::make_json(202, Json{{"id", id}, {"state", "registering"}});
  });
  if (auto r = agent_.activate(id, std::move(done)); !r) return api::conflict(r.error().to_string());
  return reply;
}

api::Reply ForeignAgentApi::resumed(const api::Request& req, const api::PathParams& p) {
  if (auto bad = reject_fields(req)) return *bad;
  const std::string& id = p.at("id");
  if (!agent_.visitors().find(id)) return api::not_found("no visitor " + id);
  agent_.resume(id, "api");
  return Response::make_json(200, visitor_json(*agent_.visitors().find(id)));
}

api::Reply ForeignAgentApi::abort(const api::Request& req, const api::PathParams& p) {
  if (auto bad = reject_fields(req)) return *bad;
  const std::string& id = p.at("id");
  const Visitor* v = agent_.visitors().find(id);
  if (!v) return api::not_found("no visitor " + id);
  if (auto r = binding::check_transition(v->state, VisitorState::aborted); !r)
    return api::conflict("visitor " + id + " is " + std::string(binding::to_string(v->state)) +
                         ": abort undoes a prepare; use depart");
  auto [reply, done] = when_durable([id] {
    return Response::make_json(200, Json{{"id", id}, {"state", "aborted"}});
  });
  agent_.remove(id, "aborted", std::move(done));
  return reply;
}

api::Reply ForeignAgentApi::depart(const api::Request& req, const api::PathParams& p) {
  if (auto bad = reject_fields(req)) return *bad;
  const std::string& id = p.at("id");
  const Visitor* v = agent_.visitors().find(id);
  if (!v) return api::not_found("no visitor " + id);
  if (v->state != VisitorState::active)
    return api::conflict("visitor " + id + " is " + std::string(binding::to_string(v->state)) +
                         ": only an active visitor departs; use abort");
  auto [reply, done] = when_durable([id] {
    return Response::make_json(200, Json{{"id", id}, {"state", "departed"}});
  });
  agent_.depart(id, std::move(done));
  return reply;
}

}  // namespace vmroam::fa
