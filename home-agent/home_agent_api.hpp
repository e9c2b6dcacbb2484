// HomeAgentApi: the home agent's JSON API (docs/api.md): VMs, bindings, health, metrics and the
// migration driver's handover calls, routed to handlers over the HomeAgent's state.
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
  // Driver counters are cumulative; the registry's counters only go up by deltas.
  void sync_tunnel_metrics();

  HomeAgent& ha_;
  api::Router router_;
  std::map<std::string, double, std::less<>> tunnel_seen_;  // last synced driver counters
};

}  // namespace vmroam::ha
