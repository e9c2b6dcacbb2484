// vmroam-fa configuration: parsed from JSON (pure), printed back normalised by --check.
// Every key is documented in docs/configuration.md; tests/config keeps the two in step.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/config/agent_config.hpp"
#include "common/config/json_reader.hpp"
#include "common/core/address.hpp"
#include "common/core/result.hpp"

namespace vmroam::fa {

using config::SecurityAssociationConfig;

// A home agent this FA registers visitors with, and the FA-HA key shared with it.
using HomeAgentPeer = config::PeerConfig;

// The shared keys (address = the care-of address, listen_address, port, dataplane
// driver/tun_name/route_protocol, store, api, log_level) are in config::AgentConfig.
struct FaConfig : config::AgentConfig {
  FaConfig() : AgentConfig({"vmr-fa0", "/var/lib/vmroam/fa.db", "/run/vmroam/fa.sock"}) {}

  std::string vm_interface;  // the VM-facing link (bridge or port)
  std::vector<HomeAgentPeer> home_agents;
  // Data plane and kernel objects.
  std::uint32_t reverse_table = 186;  // policy table: default dev <tun> (RFC 3024)
  std::uint32_t rule_priority = 1860;
  // Registration (RFC 5944 §3.6.3 retransmission, with a faster start: this is a handover).
  std::uint32_t lifetime_s = 600;
  std::uint32_t retransmit_initial_ms = 200;
  std::uint32_t retransmit_max_ms = 3200;
  std::uint32_t retransmit_attempts = 8;
  std::string encapsulation = "ipip";  // "ipip" | "udp" (RFC 3519)
  // Delivery to the unmodified VM.
  std::string gateway_mode = "anycast";                               // "anycast" | "garp"
  std::vector<std::uint32_t> garp_schedule_ms{0, 50, 200, 450, 800};  // QEMU's announce timing
  bool detect_arrival = true;                                   // watch the VM link for RARP/ARP/IP (libpcap)
  std::uint64_t buffer_bytes = std::uint64_t{4} * 1024 * 1024;  // per visitor, while prepared
  std::uint32_t buffer_ms = 5000;                               // oldest packet kept at most this long
};

[[nodiscard]] Result<FaConfig> parse_config(const config::Json& doc);
[[nodiscard]] Result<FaConfig> parse_config_text(std::string_view text);
[[nodiscard]] config::Json to_json(const FaConfig& config);

// SIGHUP (docs/configuration.md): `running` with what can change at run time taken from
// `next` (home agents, registration timing, encapsulation, delivery timing, buffering, log
// level), and the keys whose change needs a restart.
using Reloaded = config::Reloaded<FaConfig>;
[[nodiscard]] Reloaded reload_config(const FaConfig& running, const FaConfig& next);

}  // namespace vmroam::fa
