// vmroamctl's subcommand table: one row per command, and the planner that turns its parsed
// arguments into API calls (see command_line.hpp for the grammar). Pure.
#include "tools/ctl/command_line.hpp"

#include <cctype>
#include <iterator>

namespace vmroam::ctl {

namespace {

using api::Method;

// ---- planners: one per command, pure --------------------------------------------------------

Json body_of(const Invocation& inv, std::string_view id_field = {}) {
  Json body = Json::object();
  if (!id_field.empty()) body[std::string(id_field)] = inv.positional;
  for (const auto& p : inv.command->params)
    if (!p.query)
      if (auto it = inv.values.find(p.name); it != inv.values.end()) body[std::string(p.name)] = it->second;
  return body;
}

std::string query_of(const Invocation& inv) {
  std::string q;
  for (const auto& p : inv.command->params) {
    if (!p.query) continue;
    auto it = inv.values.find(p.name);
    if (it == inv.values.end()) continue;
    q += q.empty() ? "?" : "&";
    q += std::string(p.name) + "=" +
         encode_segment(it->second.is_string() ? it->second.get<std::string>() : it->second.dump());
  }
  return q;
}

std::vector<ApiCall> plan_get(std::string target) {
  return {ApiCall{Method::get, std::move(target), {}, {}}};
}

std::vector<ApiCall> plan_vm_add(const Invocation& inv) {
  return {ApiCall{Method::post, "/v1/vms", body_of(inv, "id"), {}}};
}
std::vector<ApiCall> plan_vm_set(const Invocation& inv) {
  return {ApiCall{Method::put, "/v1/vms/" + encode_segment(inv.positional), body_of(inv), {}}};
}
std::vector<ApiCall> plan_vm_remove(const Invocation& inv) {
  return {ApiCall{Method::delete_, "/v1/vms/" + encode_segment(inv.positional), {}, {}}};
}
std::vector<ApiCall> plan_vm_list(const Invocation&) { return plan_get("/v1/vms"); }
std::vector<ApiCall> plan_vm_show(const Invocation& inv) {
  return plan_get("/v1/vms/" + encode_segment(inv.positional));
}
std::vector<ApiCall> plan_binding_list(const Invocation&) { return plan_get("/v1/bindings"); }
std::vector<ApiCall> plan_binding_show(const Invocation& inv) {
  return plan_get("/v1/bindings/" + encode_segment(inv.positional));
}
std::vector<ApiCall> plan_visitor_list(const Invocation&) { return plan_get("/v1/visitors"); }

std::chrono::milliseconds wait_of(const Invocation& inv) {
  auto it = inv.values.find("wait_ms");
  return it == inv.values.end() ? std::chrono::milliseconds{0}
                                : std::chrono::milliseconds{it->second.get<std::uint64_t>()};
}

std::vector<ApiCall> plan_visitor_show(const Invocation& inv) {
  return {ApiCall{
      Method::get, "/v1/visitors/" + encode_segment(inv.positional) + query_of(inv), {}, wait_of(inv)}};
}
std::vector<ApiCall> plan_move_prepare(const Invocation& inv) {
  return {ApiCall{Method::post, "/v1/visitors", body_of(inv, "id"), {}}};
}
// activate answers 202 at once; with wait_ms we then long-poll the visitor for the outcome.
std::vector<ApiCall> plan_move_activate(const Invocation& inv) {
  const std::string path = "/v1/visitors/" + encode_segment(inv.positional);
  std::vector<ApiCall> calls{ApiCall{Method::post, path + "/activate", Json::object(), {}}};
  if (inv.values.contains("wait_ms"))
    calls.push_back(ApiCall{Method::get, path + query_of(inv), {}, wait_of(inv)});
  return calls;
}
template <const char* kAction>
std::vector<ApiCall> plan_visitor_action(const Invocation& inv) {
  return {ApiCall{
      Method::post, "/v1/visitors/" + encode_segment(inv.positional) + "/" + kAction, Json::object(), {}}};
}
constexpr char kAbort[] = "abort";
constexpr char kResumed[] = "resumed";
constexpr char kDepart[] = "depart";

std::vector<ApiCall> plan_status(const Invocation&) { return plan_get("/v1/health"); }
std::vector<ApiCall> plan_metrics(const Invocation&) { return plan_get("/metrics"); }

// ---- the table ------------------------------------------------------------------------------

const ParamSpec kKeyParams[] = {
    {"spi", ParamType::uint, false, false, "security parameter index (256 or more)"},
    {"algorithm", ParamType::string, false, false, "hmac-sha256 (default) or hmac-md5"},
    {"key", ParamType::key, false, false, "hex key, at least 32 digits; @FILE reads it from FILE"},
};

std::vector<ParamSpec> vm_params() {
  std::vector<ParamSpec> p{
      {"home_address", ParamType::string, true, false, "the VM's IPv4 address in the home prefix"},
      {"mac", ParamType::string, true, false, "the VM's MAC address"},
      {"allowed_fas", ParamType::address_list, false, false,
       "comma-separated foreign agents it may register through"},
      {"home_addresses_v6", ParamType::address_list, false, false,
       "comma-separated IPv6 home addresses (/128s in the home IPv6 prefix)"},
  };
  p.insert(p.end(), std::begin(kKeyParams), std::end(kKeyParams));
  return p;
}

std::vector<ParamSpec> prepare_params() {
  std::vector<ParamSpec> p{
      {"home_address", ParamType::string, true, false, "the VM's home IPv4 address"},
      {"mac", ParamType::string, true, false, "the VM's MAC address"},
      {"home_gateway", ParamType::string, true, false, "the VM's default gateway at home"},
      {"home_gateway_mac", ParamType::string, true, false, "that gateway's MAC address"},
      {"home_agent", ParamType::string, true, false, "the home agent's address"},
  };
  p.insert(p.end(), std::begin(kKeyParams), std::end(kKeyParams));
  p.push_back({"lifetime", ParamType::uint, false, false, "registration lifetime in seconds"});
  p.push_back({"encapsulation", ParamType::string, false, false, "ipip (default) or udp (RFC 3519)"});
  p.push_back({"home_addresses_v6", ParamType::address_list, false, false,
               "comma-separated IPv6 home addresses to register (RFC 5454)"});
  p.push_back({"home_gateway_v6", ParamType::string, false, false,
               "the VM's IPv6 gateway at home (required with home_addresses_v6)"});
  return p;
}

const ParamSpec kWaitParam{"wait_ms", ParamType::uint, false, true,
                           "wait up to this many ms for the registration outcome"};

// The home agent's VM table.
std::vector<CommandSpec> vm_commands() {
  return {
      {"vm", "add", "", "ID", vm_params(), Agent::home, View::fields, "register a VM with the home agent",
       plan_vm_add},
      {"vm", "set", "", "ID", vm_params(), Agent::home, View::fields,
       "replace a VM's settings (give all of them)", plan_vm_set},
      {"vm",
       "remove",
       "rm",
       "ID",
       {},
       Agent::home,
       View::fields,
       "remove a VM and its binding",
       plan_vm_remove},
      {"vm", "list", "ls", "", {}, Agent::home, View::vm_table, "list VMs", plan_vm_list},
      {"vm", "show", "", "ID", {}, Agent::home, View::fields, "show a VM and its binding", plan_vm_show},
  };
}

// Read-only views of bindings (home agent) and visitors (foreign agent).
std::vector<CommandSpec> lookup_commands() {
  return {
      {"binding",
       "list",
       "ls",
       "",
       {},
       Agent::home,
       View::binding_table,
       "list bindings (VMs away from home)",
       plan_binding_list},
      {"binding",
       "show",
       "",
       "HOME_ADDRESS",
       {},
       Agent::home,
       View::fields,
       "show one binding",
       plan_binding_show},
      {"visitor",
       "list",
       "ls",
       "",
       {},
       Agent::foreign,
       View::visitor_table,
       "list visitors at this foreign agent",
       plan_visitor_list},
      {"visitor",
       "show",
       "",
       "ID",
       {kWaitParam},
       Agent::foreign,
       View::fields,
       "show a visitor (wait_ms=N long-polls for the registration outcome)",
       plan_visitor_show},
  };
}

// A move's steps at the foreign agent (docs/operations.md "vmroamctl").
std::vector<CommandSpec> move_commands() {
  return {
      {"move", "prepare", "", "ID", prepare_params(), Agent::foreign, View::fields,
       "prepare a VM's arrival: install delivery state and start buffering", plan_move_prepare},
      {"move",
       "activate",
       "",
       "ID",
       {kWaitParam},
       Agent::foreign,
       View::fields,
       "send the proxy registration; wait_ms=N waits for the outcome (exit 1 if it failed)",
       plan_move_activate},
      {"move",
       "abort",
       "",
       "ID",
       {},
       Agent::foreign,
       View::fields,
       "undo a prepare (before activation succeeded)",
       plan_visitor_action<kAbort>},
      {"move",
       "resumed",
       "",
       "ID",
       {},
       Agent::foreign,
       View::fields,
       "the VM runs here now: flush its buffered packets",
       plan_visitor_action<kResumed>},
      {"move",
       "depart",
       "",
       "ID",
       {},
       Agent::foreign,
       View::fields,
       "deregister a visitor that left",
       plan_visitor_action<kDepart>},
  };
}

// The agent itself, whichever it is.
std::vector<CommandSpec> agent_commands() {
  return {
      {"status",
       "",
       "",
       "",
       {},
       Agent::home,
       View::status,
       "the agent's health (role, version, uptime, counts); in a cluster also its members: who is "
       "active for which home prefix, each one's lag and lease TTL",
       plan_status},
      {"metrics", "", "", "", {}, Agent::home, View::text, "the agent's Prometheus metrics", plan_metrics},
  };
}

// In the order the general help lists them.
std::vector<CommandSpec> build_commands() {
  std::vector<CommandSpec> all;
  for (auto part : {vm_commands(), lookup_commands(), move_commands(), agent_commands()})
    all.insert(all.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
  return all;
}

}  // namespace

const std::vector<CommandSpec>& commands() {
  static const std::vector<CommandSpec> kCommands = build_commands();
  return kCommands;
}

std::string encode_segment(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '.' || c == '_' || c == '~' || c == '-') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace vmroam::ctl
