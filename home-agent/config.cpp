#include "home-agent/config.hpp"

namespace vmroam::ha {

using config::Json;
using config::ObjectReader;

Result<HaConfig> parse_config(const Json& doc) {
  ObjectReader r(doc, "");
  HaConfig c;
  c.address = r.required_ipv4("address");
  c.listen_address = r.optional_ipv4("listen_address", Ipv4{});
  c.port = static_cast<std::uint16_t>(r.optional_uint("port", 434, 1, 65535));
  c.home_prefix = r.required_prefix("home_prefix");
  c.home_interface = r.required_string("home_interface");
  c.log_level = r.optional_enum("log_level", "info", {"debug", "info", "warn", "error"});

  if (const Json* dp = r.optional_object("dataplane")) {
    ObjectReader d(*dp, "dataplane");
    c.dataplane_driver = d.optional_enum("driver", c.dataplane_driver, {"userspace", "kernel", "ebpf"});
    c.tun_name = d.optional_string("tun_name", c.tun_name);
    c.route_table = static_cast<std::uint32_t>(d.optional_uint("route_table", c.route_table, 1, 0xffffffffu));
    c.route_protocol =
        static_cast<std::uint32_t>(d.optional_uint("route_protocol", c.route_protocol, 5, 255));
    if (d.ok() && (c.tun_name.size() > 15 || !c.tun_name.starts_with("vmr")))
      d.add_error("bad_field", "dataplane.tun_name: must start with \"vmr\" and be at most 15 characters");
    if (auto e = d.finish()) return fail(*e);
  }
  if (const Json* reg = r.optional_object("registration")) {
    ObjectReader g(*reg, "registration");
    c.max_lifetime_s =
        static_cast<std::uint32_t>(g.optional_uint("max_lifetime_s", c.max_lifetime_s, 1, 65534));
    c.replay_window_s =
        static_cast<std::uint32_t>(g.optional_uint("replay_window_s", c.replay_window_s, 1, 3600));
    c.replay = g.optional_enum("replay", c.replay, {"timestamp", "nonce"});
    c.mn_ha_auth = g.optional_enum("mn_ha_auth", c.mn_ha_auth, {"required", "optional"});
    c.fa_ha_auth = g.optional_enum("fa_ha_auth", c.fa_ha_auth, {"required", "optional"});
    c.udp_tunnelling = g.optional_bool("udp_tunnelling", c.udp_tunnelling);
    c.revocation = g.optional_bool("revocation", c.revocation);
    if (auto e = g.finish()) return fail(*e);
  }
  if (const Json* h = r.optional_object("handover")) {
    ObjectReader g(*h, "handover");
    c.hold_timeout_ms =
        static_cast<std::uint32_t>(g.optional_uint("hold_timeout_ms", c.hold_timeout_ms, 100, 600000));
    c.recover_margin_ms =
        static_cast<std::uint32_t>(g.optional_uint("recover_margin_ms", c.recover_margin_ms, 0, 1000));
    if (auto e = g.finish()) return fail(*e);
  }
  if (const Json* fas = r.optional_array("foreign_agents")) {
    for (std::size_t i = 0; i < fas->size(); ++i) {
      std::string path = "foreign_agents[" + std::to_string(i) + "]";
      ObjectReader f((*fas)[i], path);
      ForeignAgentPeer peer;
      peer.address = f.required_ipv4("address");
      if (const Json* sa = f.optional_object("fa_ha")) {
        auto parsed = parse_security_association(*sa, path + ".fa_ha");
        if (!parsed) return fail(parsed.error());
        peer.fa_ha = std::move(*parsed);
      }
      if (auto e = f.finish()) return fail(*e);
      for (const auto& other : c.foreign_agents)
        if (other.address == peer.address)
          return fail("bad_field", path + ".address: duplicate foreign agent " + peer.address.to_string());
      c.foreign_agents.push_back(std::move(peer));
    }
  }
  if (const Json* st = r.optional_object("store")) {
    ObjectReader s(*st, "store");
    c.store_path = s.optional_string("path", c.store_path);
    if (auto e = s.finish()) return fail(*e);
  }
  config::ApiSection api{c.api_socket, c.api_tcp, c.api_token_file};
  config::read_api_section(r, api);
  c.api_socket = api.unix_socket;
  c.api_tcp = api.tcp;
  c.api_token_file = api.token_file;
  if (auto e = r.finish()) return fail(*e);

  // Cross-field rules.
  if (c.fa_ha_auth == "required") {
    for (std::size_t i = 0; i < c.foreign_agents.size(); ++i)
      if (!c.foreign_agents[i].fa_ha)
        return fail("missing_field", "foreign_agents[" + std::to_string(i) +
                                         "].fa_ha: required because registration.fa_ha_auth is \"required\"");
  }
  if (c.home_prefix.contains(c.address) && c.home_prefix.length == 32)
    return fail("bad_field", "home_prefix: a /32 leaves no room for VMs");
  return c;
}

Result<HaConfig> parse_config_text(std::string_view text) {
  auto doc = config::parse_json_text(text);
  if (!doc) return fail(doc.error());
  return parse_config(*doc);
}

Json to_json(const HaConfig& c) {
  Json fas = Json::array();
  for (const auto& f : c.foreign_agents) {
    Json j{{"address", f.address.to_string()}};
    if (f.fa_ha) j["fa_ha"] = config::to_json_redacted(*f.fa_ha);
    fas.push_back(std::move(j));
  }
  const Json api = config::to_json(config::ApiSection{c.api_socket, c.api_tcp, c.api_token_file});
  return Json{
      {"address", c.address.to_string()},
      {"listen_address", c.listen_address.to_string()},
      {"port", c.port},
      {"home_prefix", c.home_prefix.to_string()},
      {"home_interface", c.home_interface},
      {"log_level", c.log_level},
      {"dataplane",
       {{"driver", c.dataplane_driver},
        {"tun_name", c.tun_name},
        {"route_table", c.route_table},
        {"route_protocol", c.route_protocol}}},
      {"registration",
       {{"max_lifetime_s", c.max_lifetime_s},
        {"replay_window_s", c.replay_window_s},
        {"replay", c.replay},
        {"mn_ha_auth", c.mn_ha_auth},
        {"fa_ha_auth", c.fa_ha_auth},
        {"udp_tunnelling", c.udp_tunnelling},
        {"revocation", c.revocation}}},
      {"handover", {{"hold_timeout_ms", c.hold_timeout_ms}, {"recover_margin_ms", c.recover_margin_ms}}},
      {"foreign_agents", fas},
      {"store", {{"path", c.store_path}}},
      {"api", api},
  };
}

}  // namespace vmroam::ha
