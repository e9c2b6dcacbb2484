// vmroam-libvirt's configuration (docs/getting-started.md "Migrating with libvirt"), pure:
// JSON text in, a checked Config out; every error names the key. `--check` prints
// to_json(config) with keys redacted.
//
//   {
//     "libvirt": {"uri": "qemu:///system", "reconnect_initial_ms": 500, "reconnect_max_ms": 10000},
//     "site": "foreign",                          this host's site (a key of "sites")
//     "home_agent": {"api": "/run/vmroam/ha.sock", "token": ""},     optional: the handover hold
//     "sites": {"home": {}, "foreign": {"fa": "https://192.0.2.3:8186", "token": "…"}, …},
//     "api_tls": {"ca_file": …, "cert_file": …, "key_file": …},   optional: for https:// agents
//     "vms": [ {"id": "vm1", "mac": "52:54:00:12:34:56", …the FA's prepare body…} ],
//     "log_level": "info"
//   }
//
// A site without "fa" has no foreign agent (the home site). Every VM's object is the body of
// the FA's POST /v1/visitors (docs/api.md), sent as it is; "id" and "mac" are required here
// because domains are matched by them.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/api/http_client.hpp"
#include "common/core/address.hpp"
#include "common/core/result.hpp"

namespace vmroam::virt {

struct SiteConfig {
  std::optional<api::Endpoint> fa;
  std::string fa_token;
};

struct VmConfig {
  std::string id;
  MacAddress mac;
  nlohmann::json visitor;  // the FA prepare body, as configured
};

struct Config {
  std::string libvirt_uri = "qemu:///system";
  std::chrono::milliseconds reconnect_initial{500};
  std::chrono::milliseconds reconnect_max{10'000};
  std::string site;
  std::optional<api::Endpoint> home_agent;
  std::string home_agent_token;
  std::map<std::string, SiteConfig> sites;
  api::TlsClientFiles api_tls;  // for every https:// agent endpoint
  std::vector<VmConfig> vms;
  std::string log_level = "info";

  [[nodiscard]] const SiteConfig& local_site() const { return sites.at(site); }
  [[nodiscard]] const VmConfig* vm_by_id(const std::string& id) const;
  [[nodiscard]] const VmConfig* vm_by_mac(const MacAddress& mac) const;
};

[[nodiscard]] Result<Config> parse_config(const nlohmann::json& root);
[[nodiscard]] Result<Config> parse_config_text(std::string_view text);
// Normalised, tokens and keys replaced by "<redacted>".
[[nodiscard]] nlohmann::json to_json(const Config& c);

}  // namespace vmroam::virt
