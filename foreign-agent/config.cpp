#include "foreign-agent/config.hpp"

namespace vmroam::fa {

using config::Json;
using config::ObjectReader;

namespace {

// The FA's own "dataplane" keys: the reverse tunnel's policy table and rule (RFC 3024).
void read_reverse_tunnel(ObjectReader& d, FaConfig& c) {
  c.reverse_table = d.optional_u32("reverse_table", c.reverse_table, 1, 0xffffffffu);
  c.rule_priority = d.optional_u32("rule_priority", c.rule_priority, 1, 32765);
  if (d.ok() && (c.reverse_table == 253 || c.reverse_table == 254 || c.reverse_table == 255))
    d.add_error("bad_field", "dataplane.reverse_table: 253-255 are the kernel's default/main/local tables");
}

void read_registration(ObjectReader& g, FaConfig& c) {
  c.lifetime_s = g.optional_u32("lifetime_s", c.lifetime_s, 1, 65534);
  c.retransmit_initial_ms = g.optional_u32("retransmit_initial_ms", c.retransmit_initial_ms, 10, 60000);
  c.retransmit_max_ms = g.optional_u32("retransmit_max_ms", c.retransmit_max_ms, 10, 600000);
  c.retransmit_attempts = g.optional_u32("retransmit_attempts", c.retransmit_attempts, 1, 100);
  c.encapsulation = g.optional_enum("encapsulation", c.encapsulation, {"ipip", "udp"});
  if (g.ok() && c.retransmit_max_ms < c.retransmit_initial_ms)
    g.add_error("bad_field", "registration.retransmit_max_ms: smaller than retransmit_initial_ms");
}

// Gratuitous ARP times after arrival: each 0..60000 ms, never decreasing.
void read_garp_schedule(ObjectReader& d, FaConfig& c) {
  const Json* sched = d.optional_array("garp_schedule_ms");
  if (!sched) return;
  c.garp_schedule_ms.clear();
  for (std::size_t i = 0; i < sched->size() && d.ok(); ++i) {
    const Json& v = (*sched)[i];
    const std::string at = "delivery.garp_schedule_ms[" + std::to_string(i) + "]";
    if (!v.is_number_unsigned() || v.get<std::uint64_t>() > 60000)
      d.add_error("bad_field", at + ": expected 0..60000");
    else if (!c.garp_schedule_ms.empty() && v.get<std::uint32_t>() < c.garp_schedule_ms.back())
      d.add_error("bad_field", at + ": must not decrease");
    else
      c.garp_schedule_ms.push_back(v.get<std::uint32_t>());
  }
}

void read_delivery(ObjectReader& d, FaConfig& c) {
  c.gateway_mode = d.optional_enum("gateway_mode", c.gateway_mode, {"anycast", "garp"});
  c.detect_arrival = d.optional_bool("detect_arrival", c.detect_arrival);
  c.buffer_bytes = d.optional_uint("buffer_bytes", c.buffer_bytes, 0, std::uint64_t{1} << 32);
  c.buffer_ms = d.optional_u32("buffer_ms", c.buffer_ms, 0, 600000);
  read_garp_schedule(d, c);
}

}  // namespace

Result<FaConfig> parse_config(const Json& doc) {
  ObjectReader r(doc, "");
  FaConfig c;
  config::read_agent_keys(r, c);
  c.vm_interface = r.required_string("vm_interface");
  VMROAM_TRY(c.home_agents, config::read_peers(r, "home_agents", "home agent"));
  const auto reverse_tunnel = [&c](ObjectReader& d) { read_reverse_tunnel(d, c); };
  VMROAM_TRY_VOID(config::read_dataplane_section(r, c, reverse_tunnel));
  VMROAM_TRY_VOID(
      config::read_section(r, "registration", [&c](ObjectReader& g) { read_registration(g, c); }));
  VMROAM_TRY_VOID(config::read_section(r, "delivery", [&c](ObjectReader& d) { read_delivery(d, c); }));
  VMROAM_TRY_VOID(config::read_store_and_api(r, c));
  if (auto e = r.finish()) return fail(*e);
  return c;
}

Result<FaConfig> parse_config_text(std::string_view text) { return config::parse_text(text, &parse_config); }

Json to_json(const FaConfig& c) {
  Json j = config::to_json(c, {{"reverse_table", c.reverse_table}, {"rule_priority", c.rule_priority}});
  j["vm_interface"] = c.vm_interface;
  j["home_agents"] = config::to_json(c.home_agents);
  j["registration"] = {{"lifetime_s", c.lifetime_s},
                       {"retransmit_initial_ms", c.retransmit_initial_ms},
                       {"retransmit_max_ms", c.retransmit_max_ms},
                       {"retransmit_attempts", c.retransmit_attempts},
                       {"encapsulation", c.encapsulation}};
  j["delivery"] = {{"gateway_mode", c.gateway_mode},
                   {"garp_schedule_ms", c.garp_schedule_ms},
                   {"detect_arrival", c.detect_arrival},
                   {"buffer_bytes", c.buffer_bytes},
                   {"buffer_ms", c.buffer_ms}};
  return j;
}

Reloaded reload_config(const FaConfig& running, const FaConfig& next) {
  Reloaded r{running, config::restart_keys(running, next,
                                           next.reverse_table == running.reverse_table &&
                                               next.rule_priority == running.rule_priority)};
  auto keep = [&](bool same, const char* key) {
    if (!same) r.needs_restart.emplace_back(key);
  };
  keep(next.vm_interface == running.vm_interface, "vm_interface");
  keep(next.gateway_mode == running.gateway_mode, "delivery.gateway_mode");
  FaConfig& merged = r.config;
  merged.home_agents = next.home_agents;
  merged.lifetime_s = next.lifetime_s;
  merged.retransmit_initial_ms = next.retransmit_initial_ms;
  merged.retransmit_max_ms = next.retransmit_max_ms;
  merged.retransmit_attempts = next.retransmit_attempts;
  merged.encapsulation = next.encapsulation;
  merged.garp_schedule_ms = next.garp_schedule_ms;
  merged.detect_arrival = next.detect_arrival;
  merged.buffer_bytes = next.buffer_bytes;
  merged.buffer_ms = next.buffer_ms;
  merged.log_level = next.log_level;
  return r;
}

}  // namespace vmroam::fa
