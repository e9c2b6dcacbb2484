// See config.hpp.
#include "libvirt/config.hpp"

#include <set>

#include "common/config/json_reader.hpp"

namespace vmroam::virt {

using Json = nlohmann::json;
using config::ObjectReader;

const VmConfig* Config::vm_by_id(const std::string& id) const {
  for (const auto& vm : vms)
    if (vm.id == id) return &vm;
  return nullptr;
}

const VmConfig* Config::vm_by_mac(const MacAddress& mac) const {
  for (const auto& vm : vms)
    if (vm.mac == mac) return &vm;
  return nullptr;
}

namespace {

std::optional<api::Endpoint> read_endpoint(ObjectReader& r, std::string_view key) {
  if (!r.has(key)) return std::nullopt;
  std::string text = r.required_string(key);
  if (!r.ok()) return std::nullopt;
  auto ep = api::Endpoint::parse(text);
  if (!ep) {
    r.add_error("bad_field",
                r.path_of(key) +
                    ": not an API endpoint (/path.sock, https://host:port or http://host:port): " + text);
    return std::nullopt;
  }
  return *ep;
}

void read_libvirt(ObjectReader& root, Config& c) {
  const Json* lv = root.optional_object("libvirt");
  if (!lv || !root.ok()) return;
  ObjectReader r(*lv, "libvirt");
  c.libvirt_uri = r.optional_string("uri", c.libvirt_uri);
  c.reconnect_initial = std::chrono::milliseconds(r.optional_uint("reconnect_initial_ms", 500, 10, 60'000));
  c.reconnect_max = std::chrono::milliseconds(r.optional_uint("reconnect_max_ms", 10'000, 10, 600'000));
  if (r.ok() && c.reconnect_max < c.reconnect_initial)
    r.add_error("bad_field", "libvirt.reconnect_max_ms: below reconnect_initial_ms");
  if (auto e = r.finish()) root.add_error(e->code, e->context);
}

void read_home_agent(ObjectReader& root, Config& c) {
  const Json* ha = root.optional_object("home_agent");
  if (!ha || !root.ok()) return;
  ObjectReader r(*ha, "home_agent");
  c.home_agent = read_endpoint(r, "api");
  if (r.ok() && !c.home_agent) r.add_error("missing_field", "home_agent.api");
  c.home_agent_token = r.optional_string("token", "");
  if (auto e = r.finish()) root.add_error(e->code, e->context);
}

void read_sites(ObjectReader& root, Config& c) {
  const Json* sites = root.optional_object("sites");
  if (!root.ok()) return;
  if (!sites || sites->empty()) return root.add_error("missing_field", "sites: at least this host's site");
  for (const auto& [name, obj] : sites->items()) {
    if (!obj.is_object()) return root.add_error("bad_field", "sites." + name + ": expected an object");
    ObjectReader r(obj, "sites." + name);
    SiteConfig s;
    s.fa = read_endpoint(r, "fa");
    s.fa_token = r.optional_string("token", "");
    if (auto e = r.finish()) return root.add_error(e->code, e->context);
    c.sites.emplace(name, std::move(s));
  }
}

void read_api_tls(ObjectReader& root, Config& c) {
  const Json* tls = root.optional_object("api_tls");
  if (!tls || !root.ok()) return;
  ObjectReader r(*tls, "api_tls");
  c.api_tls.ca_file = r.optional_string("ca_file", "");
  c.api_tls.cert_file = r.optional_string("cert_file", "");
  c.api_tls.key_file = r.optional_string("key_file", "");
  if (r.ok() && c.api_tls.cert_file.empty() != c.api_tls.key_file.empty())
    r.add_error("missing_field", "api_tls: cert_file and key_file go together");
  if (auto e = r.finish()) root.add_error(e->code, e->context);
}

void read_vms(ObjectReader& root, Config& c) {
  const Json* vms = root.optional_array("vms");
  if (!vms || !root.ok()) return;
  std::set<std::string> ids;
  for (std::size_t i = 0; i < vms->size(); ++i) {
    const Json& v = (*vms)[i];
    const std::string path = "vms[" + std::to_string(i) + "]";
    if (!v.is_object()) return root.add_error("bad_field", path + ": expected an object");
    VmConfig vm;
    auto id = v.find("id");
    auto mac = v.find("mac");
    if (id == v.end() || !id->is_string() || id->get<std::string>().empty())
      return root.add_error("missing_field", path + ".id: a non-empty string");
    if (mac == v.end() || !mac->is_string()) return root.add_error("missing_field", path + ".mac");
    auto m = MacAddress::parse(mac->get<std::string>());
    if (!m) return root.add_error("bad_field", path + ".mac: not a MAC address: " + mac->get<std::string>());
    vm.id = id->get<std::string>();
    vm.mac = *m;
    vm.visitor = v;
    if (!ids.insert(vm.id).second) return root.add_error("bad_field", path + ".id: duplicate " + vm.id);
    if (c.vm_by_mac(vm.mac)) return root.add_error("bad_field", path + ".mac: duplicate " + m->to_string());
    c.vms.push_back(std::move(vm));
  }
}

}  // namespace

Result<Config> parse_config(const Json& root) {
  if (!root.is_object()) return fail("bad_config", "expected a JSON object");
  Config c;
  ObjectReader r(root, "");
  read_libvirt(r, c);
  c.site = r.required_string("site");
  read_home_agent(r, c);
  read_sites(r, c);
  read_api_tls(r, c);
  read_vms(r, c);
  c.log_level = r.optional_enum("log_level", "info", {"debug", "info", "warn", "error"});
  if (auto e = r.finish()) return fail(*e);
  if (!c.sites.count(c.site)) return fail("bad_field", "site: '" + c.site + "' is not a key of sites");
  return c;
}

Result<Config> parse_config_text(std::string_view text) {
  auto j = config::parse_json_text(text);
  if (!j) return fail(j.error());
  return parse_config(*j);
}

Json to_json(const Config& c) {
  Json sites = Json::object();
  for (const auto& [name, s] : c.sites) {
    Json o = Json::object();
    if (s.fa) o["fa"] = s.fa->to_string();
    if (!s.fa_token.empty()) o["token"] = "<redacted>";
    sites[name] = o;
  }
  Json vms = Json::array();
  for (const auto& vm : c.vms) {
    Json v = vm.visitor;
    if (v.contains("key")) v["key"] = "<redacted>";
    v["mac"] = vm.mac.to_string();
    vms.push_back(v);
  }
  Json out{{"libvirt",
            {{"uri", c.libvirt_uri},
             {"reconnect_initial_ms", static_cast<std::uint64_t>(c.reconnect_initial.count())},
             {"reconnect_max_ms", static_cast<std::uint64_t>(c.reconnect_max.count())}}},
           {"site", c.site},
           {"sites", sites},
           {"vms", vms},
           {"log_level", c.log_level}};
  Json tls = Json::object();
  if (!c.api_tls.ca_file.empty()) tls["ca_file"] = c.api_tls.ca_file;
  if (!c.api_tls.cert_file.empty()) tls["cert_file"] = c.api_tls.cert_file;
  if (!c.api_tls.key_file.empty()) tls["key_file"] = c.api_tls.key_file;
  if (!tls.empty()) out["api_tls"] = tls;
  if (c.home_agent) {
    out["home_agent"] = {{"api", c.home_agent->to_string()}};
    if (!c.home_agent_token.empty()) out["home_agent"]["token"] = "<redacted>";
  }
  return out;
}

}  // namespace vmroam::virt
