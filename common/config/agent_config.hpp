// AgentConfig: the keys every agent's config file shares, read and printed in one place so
// that vmroam-ha and vmroam-fa name, default, check and normalise them the same way:
//
//   { "address", "listen_address", "port", "log_level",
//     "dataplane": { "driver", "tun_name", "route_protocol", …agent keys },
//     "store": { "path" }, "api": { "unix_socket", "tcp", "token_file", "tls", "insecure" },
//     "<peers>": [ { "address", "fa_ha": { "spi", "algorithm", "key" } } ] }
//
// Every key is documented in docs/configuration.md. Pure: no I/O.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/config/json_reader.hpp"
#include "common/core/address.hpp"
#include "common/core/result.hpp"

namespace vmroam::config {

// A peer agent (the FAs an HA accepts, the HAs an FA registers with) and the FA-HA key
// shared with it (RFC 5944 §3.5.3).
struct PeerConfig {
  Ipv4 address;
  std::optional<SecurityAssociationConfig> fa_ha;
};

// Defaults that differ between the agents.
struct AgentDefaults {
  std::string tun_name;
  std::string store_path;
  std::string api_socket;
};

struct AgentConfig {
  Ipv4 address;         // our address: the HA / care-of address; the tunnel's local end
  Ipv4 listen_address;  // UDP 434 bind address (0.0.0.0 = any)
  std::uint16_t port = 434;
  std::string dataplane_driver = "auto";  // ebpf where the kernel allows, else userspace (one warning)
  std::string tun_name;
  unsigned tunnel_mtu = 1468;         // 1500 − 32: both encapsulations fit a 1500 path
  std::string bpffs = "/sys/fs/bpf";  // the eBPF driver's maps are pinned below it
  std::uint32_t route_protocol = 186;
  std::string store_path;
  std::string api_socket;
  std::optional<std::string> api_tcp;         // "127.0.0.1:8434"
  std::optional<std::string> api_token_file;  // required with api_tcp
  std::optional<ApiTlsFiles> api_tls;         // api_tcp needs this or api_insecure
  bool api_insecure = false;
  std::string log_level = "info";

 protected:
  explicit AgentConfig(AgentDefaults defaults)
      : tun_name(std::move(defaults.tun_name)),
        store_path(std::move(defaults.store_path)),
        api_socket(std::move(defaults.api_socket)) {}
};

// Root keys: "address" (required), "listen_address", "port", "log_level". Errors are
// recorded in `root` (its finish() reports them).
void read_agent_keys(ObjectReader& root, AgentConfig& c);
// The "dataplane" section if present: "driver", "tun_name", "tunnel_mtu", "bpffs",
// "route_protocol", then whatever
// `agent_keys` reads; tun_name must start with "vmr" (our kernel objects carry that prefix)
// and fit IFNAMSIZ. Returns the section's first error.
[[nodiscard]] Result<void> read_dataplane_section(ObjectReader& root, AgentConfig& c,
                                                  const std::function<void(ObjectReader&)>& agent_keys);
// The "store" and "api" sections if present.
[[nodiscard]] Result<void> read_store_and_api(ObjectReader& root, AgentConfig& c);
// The array `key` of peers, each {"address", "fa_ha"?}; `noun` names one in the error for a
// duplicate address ("duplicate foreign agent 192.0.2.2").
[[nodiscard]] Result<std::vector<PeerConfig>> read_peers(ObjectReader& root, std::string_view key,
                                                         std::string_view noun);

// The "api" keys as one section (for the listener, common/daemon/api_listener.hpp).
[[nodiscard]] ApiSection api_section(const AgentConfig& c);
// SIGHUP: the shared keys whose change only a restart applies, named as the `reloaded` event
// reports them: "address", "listen_address/port", "dataplane" (driver, tun_name,
// route_protocol, tunnel_mtu, bpffs; `same_agent_dataplane` false adds it for the agent's own dataplane
// keys), "store.path", "api". The agent appends its own.
[[nodiscard]] std::vector<std::string> restart_keys(const AgentConfig& running, const AgentConfig& next,
                                                    bool same_agent_dataplane);

// SIGHUP (docs/configuration.md): the running config with what a reload applies taken from
// the new one, and the keys whose change only a restart applies (they keep their running
// values and are reported).
template <class Config>
struct Reloaded {
  Config config;
  std::vector<std::string> needs_restart;
};

// Builds a Reloaded, so that each agent lists its own keys once and nothing else:
//   return Reload(running, next, same_own_dataplane).restart(&C::key, "key").take(&C::a, &C::b).done();
// It starts from the shared keys: restart_keys, and log_level taken.
template <class Config>
class Reload {
 public:
  Reload(const Config& running, const Config& next, bool same_agent_dataplane)
      : next_(next), out_{running, restart_keys(running, next, same_agent_dataplane)} {
    take(&Config::log_level);
  }
  // A key only a restart applies: it keeps its running value; a change is reported as `name`.
  template <class Key>
  Reload& restart(Key key, const char* name) {
    if (!(next_.*key == out_.config.*key)) out_.needs_restart.emplace_back(name);
    return *this;
  }
  // Keys (members of Config or AgentConfig) a reload applies: taken from the new config.
  template <class... Keys>
  Reload& take(Keys... keys) {
    ((out_.config.*keys = next_.*keys), ...);
    return *this;
  }
  [[nodiscard]] Reloaded<Config> done() { return std::move(out_); }

 private:
  const Config& next_;
  Reloaded<Config> out_;
};

// The shared keys in normalised form; `dataplane` also gets the agent's own keys merged in.
[[nodiscard]] Json to_json(const AgentConfig& c, Json dataplane_extra);
[[nodiscard]] Json to_json(const std::vector<PeerConfig>& peers);  // keys redacted

// An agent's config from its document, read in the order docs/configuration.md lists the
// keys: the shared root keys, then `own(root, config)` (the agent's own keys and sections,
// returning a section's first error), then "store" and "api"; a key no reader asked for is an
// error (ObjectReader::finish). The agent's cross-field rules follow on the result.
template <typename Config, typename OwnKeys>
[[nodiscard]] Result<Config> parse_agent(const Json& doc, OwnKeys own) {
  ObjectReader r(doc, "");
  Config c;
  read_agent_keys(r, c);
  VMROAM_TRY_VOID(own(r, c));
  VMROAM_TRY_VOID(read_store_and_api(r, c));
  if (auto e = r.finish()) return fail(*e);
  return c;
}

// JSON text → Config through `parse` (an agent's parse_config).
template <typename Config>
[[nodiscard]] Result<Config> parse_text(std::string_view text, Result<Config> (*parse)(const Json&)) {
  auto doc = parse_json_text(text);
  if (!doc) return fail(doc.error());
  return parse(*doc);
}

}  // namespace vmroam::config
