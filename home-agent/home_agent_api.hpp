// HomeAgentApi: the home agent's JSON API (docs/api.md): VMs, bindings, health, metrics and the
// migration driver's handover calls, the cluster's status, routed to handlers over the
// HomeAgent's state. On a standby of a cluster, reads are answered from the mirror and
// writes are refused with the active HA's name and API address (we do not forward them:
// a client that retries there sees the active's own answer, validation included).
//
// Every mutating handler validates the whole body first (FieldReader names the field that is
// wrong), then commits to the store, and only then changes memory and the kernel: a 4xx or a
// failed commit changes nothing. The agent owns one; the daemon puts it behind its HTTP
// server through HomeAgent::handle_api().
#pragma once

#include <map>
#include <optional>
#include <string>

#include "common/api/router.hpp"
#include "common/binding/binding_cache.hpp"
#include "common/daemon/tunnel_metrics.hpp"
#include "home-agent/vm.hpp"

namespace vmroam::ha {

class HomeAgent;

class HomeAgentApi {
 public:
  explicit HomeAgentApi(HomeAgent& agent);
  HomeAgentApi(const HomeAgentApi&) = delete;
  HomeAgentApi& operator=(const HomeAgentApi&) = delete;

  [[nodiscard]] api::Reply handle(const api::Request& request) { return router_.dispatch(request); }

 private:
  api::Reply api_health(const api::Request&, const api::PathParams&);
  api::Reply api_metrics(const api::Request&, const api::PathParams&);
  api::Reply api_cluster(const api::Request&, const api::PathParams&);
  // A standby answers reads only: a write gets 503 naming the active HA and its API.
  [[nodiscard]] std::optional<api::Reply> refuse_on_standby();
  api::Reply api_vm_create(const api::Request&, const api::PathParams&);
  api::Reply api_vm_replace(const api::Request&, const api::PathParams&);
  api::Reply api_vm_list(const api::Request&, const api::PathParams&);
  api::Reply api_vm_show(const api::Request&, const api::PathParams&);
  api::Reply api_vm_delete(const api::Request&, const api::PathParams&);
  api::Reply api_binding_list(const api::Request&, const api::PathParams&);
  api::Reply api_binding_show(const api::Request&, const api::PathParams&);
  api::Reply api_vm_handover(const api::Request&, const api::PathParams&);
  api::Reply put_vm(const api::Request& req, const std::string& path_id, bool create);
  [[nodiscard]] std::optional<api::Reply> vm_conflict(const Vm& vm, bool create) const;
  [[nodiscard]] api::Json vm_json(const Vm& vm) const;
  [[nodiscard]] api::Json binding_json(const binding::Binding& b) const;
  void sync_tunnel_metrics();

  HomeAgent& ha_;
  api::Router router_;
  daemon::TunnelMetrics tunnel_metrics_;
};

}  // namespace vmroam::ha
