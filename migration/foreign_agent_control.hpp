// The destination foreign agent as the migration driver sees it: the seam between the
// switchover and the FA's JSON API (docs/api.md "Foreign agent": prepare → activate →
// resumed, or abort). Every call is asynchronous on the driver's io_context and completes
// exactly once; the switchover never blocks on the FA (activate returns 202 at once and the
// outcome is fetched later with a long poll).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/core/clock.hpp"
#include "common/core/result.hpp"

namespace vmroam::migration {

using Json = nlohmann::json;

// What the FA knows about the proxy registration it sent for the visitor (RFC 5563 proxy
// Registration Request → the HA's Registration Reply, RFC 5944 §3.4/§3.6).
struct RegistrationOutcome {
  enum class State { pending, active, failed };
  State state = State::pending;
  std::string visitor_state;  // the FA's word: prepared, registering, active, failed, aborted…
  int reply_code = 0;         // RFC 5944 §3.4 code when failed (64–127 FA, 128–191 HA)
  std::string reason;
  // activate → HA reply as the FA measured it, if its visitor JSON carries it
  // (`handover_ms`, top level or under `registration`).
  std::optional<double> handover_ms;
  Json visitor;
};

// Pure: reads a visitor object (GET /v1/visitors/{id}). Unknown or missing state → pending.
[[nodiscard]] RegistrationOutcome outcome_from_visitor(const Json& visitor);

class ForeignAgentControl {
 public:
  template <typename T>
  using Done = std::function<void(Result<T>)>;
  virtual ~ForeignAgentControl() = default;
  // POST /v1/visitors: delivery state installed, buffering on. Errors name the FA's refusal.
  virtual void prepare(const Json& visitor, Done<Json> done) = 0;
  // POST /v1/visitors/{id}/activate: sends the Registration Request; 202 at once.
  virtual void activate(const std::string& id, Done<Json> done) = 0;
  // GET /v1/visitors/{id}?wait_ms=N: the outcome once known, or pending after `timeout`.
  virtual void wait_registered(const std::string& id, std::chrono::milliseconds timeout,
                               Done<RegistrationOutcome> done) = 0;
  // POST /v1/visitors/{id}/resumed: the VM runs at the destination; flush the buffer.
  virtual void resumed(const std::string& id, Done<Json> done) = 0;
  // POST /v1/visitors/{id}/abort: undo the prepare; the binding stays as it was. The FA
  // refuses it (409) once the visitor is active: then the binding points at the FA, and only
  // depart (a deregistration) gives it back.
  virtual void abort(const std::string& id, Done<Json> done) = 0;
  // POST /v1/visitors/{id}/depart: the VM left an active visitor; the FA deregisters it
  // (lifetime 0, RFC 5944 §3.6.1.1 — the HA ignores it if the binding moved on) and removes
  // its state. Used when the VM comes home, and to undo an activation after the switch failed.
  virtual void depart(const std::string& id, Done<Json> done) = 0;
  // For logs and the summary: "http unix:/run/vmroam/fa.sock".
  [[nodiscard]] virtual std::string describe() const = 0;
};

}  // namespace vmroam::migration
