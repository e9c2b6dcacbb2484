// ForeignAgentApi: the foreign agent's JSON API (docs/api.md "Foreign agent").
//
// Every mutating handler validates the whole body first (FieldReader names the wrong field): a
// 4xx changes nothing. prepare commits before it changes memory and the kernel (a failed
// commit is a 500 and changes nothing); activate, abort and depart act at once (the request
// must not wait for an fsync) and answer once their commit is durable — or, when it failed,
// with a 500 naming the store's error, memory back to what is durable.
//
// GET /v1/visitors/{id}?wait_ms=N long-polls until the registration outcome is known (active
// or failed) or N ms pass. The waiting requests live here, in a LongPoll; the agent only
// reports what happened to a visitor (on_settled, on_commit_failed, on_removed, on_stopping).
#pragma once

#include <string>
#include <string_view>

#include "common/api/long_poll.hpp"
#include "common/api/router.hpp"
#include "common/binding/visitor_list.hpp"
#include "common/core/clock.hpp"
#include "common/daemon/tunnel_metrics.hpp"

namespace boost::asio {
class io_context;
}

namespace vmroam::fa {

class ForeignAgent;

class ForeignAgentApi {
 public:
  // `dataplane` is the tunnel driver's name (health).
  ForeignAgentApi(boost::asio::io_context& io, ForeignAgent& agent, const Clock& clock,
                  std::string dataplane);

  [[nodiscard]] api::Reply handle(const api::Request& request) { return router_.dispatch(request); }

  // What the agent reports.
  // The visitor's registration outcome (active or failed) is durable: waiting requests get it.
  void on_settled(const std::string& id);
  // It could not be recorded: waiting requests get a 500 naming `e`.
  void on_commit_failed(const std::string& id, const Error& e);
  void on_removed(const std::string& id, std::string_view why);
  void on_stopping();

 private:
  api::Reply health(const api::Request&, const api::PathParams&);
  api::Reply metrics(const api::Request&, const api::PathParams&);
  api::Reply prepare(const api::Request&, const api::PathParams&);
  api::Reply list(const api::Request&, const api::PathParams&);
  api::Reply show(const api::Request&, const api::PathParams&);
  api::Reply activate(const api::Request&, const api::PathParams&);
  api::Reply resumed(const api::Request&, const api::PathParams&);
  api::Reply abort(const api::Request&, const api::PathParams&);
  api::Reply depart(const api::Request&, const api::PathParams&);
  [[nodiscard]] api::Json visitor_json(const binding::Visitor& v) const;

  ForeignAgent& agent_;
  const Clock& clock_;
  std::string dataplane_;
  TimePoint started_at_;
  api::Router router_;
  api::LongPoll polls_;
  daemon::TunnelMetrics tunnel_metrics_;
};

}  // namespace vmroam::fa
