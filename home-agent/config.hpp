// vmroam-ha configuration: parsed from JSON (pure), printed back normalised by --check.
// Every key is documented in docs/configuration.md; tests/config keeps the two in step.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/config/agent_config.hpp"
#include "common/config/json_reader.hpp"
#include "common/core/address.hpp"
#include "common/core/bytes.hpp"
#include "common/core/result.hpp"
#include "home-agent/cluster/cluster_config.hpp"

namespace vmroam::ha {

using config::SecurityAssociationConfig;

// A foreign agent allowed to register VMs here, with its FA-HA key (required when
// registration.fa_ha_auth is "required").
using ForeignAgentPeer = config::PeerConfig;

// The shared keys (address, listen_address, port, dataplane driver/tun_name/route_protocol,
// store, api, log_level) are in config::AgentConfig.
struct HaConfig : config::AgentConfig {
  HaConfig() : AgentConfig({"vmr-ha0", "/var/lib/vmroam/ha.db", "/run/vmroam/ha.sock"}) {}

  Ipv4Prefix home_prefix;  // the home subnet
  // The home link's on-link IPv6 prefix (usually a /64); VMs' IPv6 home addresses come from
  // it (docs/protocol.md "Dual-stack VMs"). Absent: VMs are IPv4-only here.
  std::optional<Ipv6Prefix> home_prefix_v6;
  std::string home_interface;       // the home link (proxy ARP, gratuitous ARP)
  std::uint32_t route_table = 254;  // host routes for away VMs (main by default)
  std::uint32_t max_lifetime_s = 600;
  std::uint32_t replay_window_s = 7;
  std::string replay = "timestamp";     // "timestamp" | "nonce"
  std::string mn_ha_auth = "optional";  // "required" | "optional": MN-HA (32) extension
  std::string fa_ha_auth = "required";  // "required" | "optional": FA-HA (34) extension
  bool udp_tunnelling = true;           // grant RFC 3519 UDP encapsulation when requested
  bool revocation = true;               // RFC 3543: tell the old FA when a VM moves on
  // The handover hold (POST /v1/vms/{id}/handover; docs/home-agent.md "Handover hold").
  std::uint32_t hold_timeout_ms = 5000;  // a hold no registration ends is released after this
  std::uint32_t recover_margin_ms = 20;  // recovered copies start this long before the STOP
  std::vector<ForeignAgentPeer> foreign_agents;
  // Several HAs for this home prefix, sharing state through etcd (absent: a single HA).
  std::optional<ClusterConfig> cluster;
};

[[nodiscard]] Result<HaConfig> parse_config(const config::Json& doc);
[[nodiscard]] Result<HaConfig> parse_config_text(std::string_view text);
// Normalised form: every key, defaults filled in, keys redacted.
[[nodiscard]] config::Json to_json(const HaConfig& config);

// SIGHUP (docs/configuration.md): `running` with what can change at run time taken from
// `next` (registration policy, foreign agents, handover timing, log level), and the keys
// whose change needs a restart.
using Reloaded = config::Reloaded<HaConfig>;
[[nodiscard]] Reloaded reload_config(const HaConfig& running, const HaConfig& next);

using config::parse_security_association;

}  // namespace vmroam::ha
