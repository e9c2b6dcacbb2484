#include "home-agent/config.hpp"

namespace vmroam::ha {

using config::Json;
using config::ObjectReader;

namespace {

// "registration" and "handover": the policy a SIGHUP may change.
Result<void> read_policy(ObjectReader& r, HaConfig& c) {
  VMROAM_TRY_VOID(config::read_section(r, "registration", [&c](ObjectReader& g) {
    c.max_lifetime_s = g.optional_u32("max_lifetime_s", c.max_lifetime_s, 1, 65534);
    c.replay_window_s = g.optional_u32("replay_window_s", c.replay_window_s, 1, 3600);
    c.replay = g.optional_enum("replay", c.replay, {"timestamp", "nonce"});
    c.mn_ha_auth = g.optional_enum("mn_ha_auth", c.mn_ha_auth, {"required", "optional"});
    c.fa_ha_auth = g.optional_enum("fa_ha_auth", c.fa_ha_auth, {"required", "optional"});
    c.udp_tunnelling = g.optional_bool("udp_tunnelling", c.udp_tunnelling);
    c.revocation = g.optional_bool("revocation", c.revocation);
  }));
  return config::read_section(r, "handover", [&c](ObjectReader& g) {
    c.hold_timeout_ms = g.optional_u32("hold_timeout_ms", c.hold_timeout_ms, 100, 600000);
    c.recover_margin_ms = g.optional_u32("recover_margin_ms", c.recover_margin_ms, 0, 1000);
  });
}

// The HA's own keys: its home prefix and link, its "dataplane" route table, the policy, its
// foreign agents and the "cluster" section.
Result<void> read_own_keys(ObjectReader& r, HaConfig& c) {
  c.home_prefix = r.required_prefix("home_prefix");
  c.home_prefix_v6 = r.optional_prefix_v6("home_prefix_v6");
  c.home_interface = r.required_string("home_interface");
  VMROAM_TRY_VOID(config::read_dataplane_section(r, c, [&c](ObjectReader& d) {
    c.route_table = d.optional_u32("route_table", c.route_table, 1, 0xffffffffu);
  }));
  VMROAM_TRY_VOID(read_policy(r, c));
  VMROAM_TRY(c.foreign_agents, config::read_peers(r, "foreign_agents", "foreign agent"));
  c.cluster = read_cluster_section(r);
  return ok();
}

}  // namespace

Result<HaConfig> parse_config(const Json& doc) {
  VMROAM_TRY(HaConfig c, config::parse_agent<HaConfig>(doc, read_own_keys));
  // Cross-field rules.
  if (c.fa_ha_auth == "required") {
    for (std::size_t i = 0; i < c.foreign_agents.size(); ++i)
      if (!c.foreign_agents[i].fa_ha)
        return fail("missing_field", "foreign_agents[" + std::to_string(i) +
                                         "].fa_ha: required because registration.fa_ha_auth is \"required\"");
  }
  if (c.cluster && c.cluster->service_address.address != c.address)
    return fail("bad_field", "cluster.service_address: must be `address` (" + c.address.to_string() +
                                 ") with its prefix length: the active HA's address is the service address");
  if (c.home_prefix.contains(c.address) && c.home_prefix.length == 32)
    return fail("bad_field", "home_prefix: a /32 leaves no room for VMs");
  if (const auto& p6 = c.home_prefix_v6) {
    if (p6->length == 128) return fail("bad_field", "home_prefix_v6: a /128 leaves no room for VMs");
    if (p6->length == 0 || p6->address.is_link_local() || p6->address.is_multicast())
      return fail("bad_field", "home_prefix_v6: " + p6->to_string() + " is not a unicast on-link prefix");
  }
  return c;
}

Result<HaConfig> parse_config_text(std::string_view text) { return config::parse_text(text, &parse_config); }

Json to_json(const HaConfig& c) {
  Json j = config::to_json(c, {{"route_table", c.route_table}});
  j["home_prefix"] = c.home_prefix.to_string();
  if (c.home_prefix_v6) j["home_prefix_v6"] = c.home_prefix_v6->to_string();
  j["home_interface"] = c.home_interface;
  j["registration"] = {{"max_lifetime_s", c.max_lifetime_s},
                       {"replay_window_s", c.replay_window_s},
                       {"replay", c.replay},
                       {"mn_ha_auth", c.mn_ha_auth},
                       {"fa_ha_auth", c.fa_ha_auth},
                       {"udp_tunnelling", c.udp_tunnelling},
                       {"revocation", c.revocation}};
  j["handover"] = {{"hold_timeout_ms", c.hold_timeout_ms}, {"recover_margin_ms", c.recover_margin_ms}};
  j["foreign_agents"] = config::to_json(c.foreign_agents);
  if (c.cluster) j["cluster"] = cluster_to_json(*c.cluster);
  return j;
}

Reloaded reload_config(const HaConfig& running, const HaConfig& next) {
  using C = HaConfig;
  return config::Reload(running, next, next.route_table == running.route_table)
      .restart(&C::home_prefix, "home_prefix")
      .restart(&C::home_prefix_v6, "home_prefix_v6")
      .restart(&C::home_interface, "home_interface")
      .take(&C::max_lifetime_s, &C::replay_window_s, &C::replay, &C::mn_ha_auth, &C::fa_ha_auth,
            &C::udp_tunnelling, &C::revocation, &C::hold_timeout_ms, &C::recover_margin_ms,
            &C::foreign_agents)
      .done();
}

}  // namespace vmroam::ha
