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

// The shared keys in normalised form; `dataplane` also gets the agent's own keys merged in.
[[nodiscard]] Json to_json(const AgentConfig& c, Json dataplane_extra);
[[nodiscard]] Json to_json(const std::vector<PeerConfig>& peers);  // keys redacted

// JSON text → Config through `parse` (an agent's parse_config).
template <typename Config>
[[nodiscard]] Result<Config> parse_text(std::string_view text, Result<Config> (*parse)(const Json&)) {
  auto doc = parse_json_text(text);
  if (!doc) return fail(doc.error());
  return parse(*doc);
}

}  // namespace vmroam::config
