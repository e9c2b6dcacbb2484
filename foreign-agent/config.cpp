#include "foreign-agent/config.hpp"

namespace vmroam::fa {

using config::Json;
using config::ObjectReader;

Result<FaConfig> parse_config(const Json& doc) {
  ObjectReader r(doc, "");
  FaConfig c;
  c.address = r.required_ipv4("address");
  c.listen_address = r.optional_ipv4("listen_address", Ipv4{});
  c.port = static_cast<std::uint16_t>(r.optional_uint("port", 434, 1, 65535));
  c.vm_interface = r.required_string("vm_interface");
  c.log_level = r.optional_enum("log_level", "info", {"debug", "info", "warn", "error"});

  if (const Json* has = r.optional_array("home_agents")) {
    for (std::size_t i = 0; i < has->size(); ++i) {
      std::string path = "home_agents[" + std::to_string(i) + "]";
      ObjectReader h((*has)[i], path);
      HomeAgentPeer peer;
      peer.address = h.required_ipv4("address");
      if (const Json* sa = h.optional_object("fa_ha")) {
        auto parsed = config::parse_security_association(*sa, path + ".fa_ha");
        if (!parsed) return fail(parsed.error());
        peer.fa_ha = std::move(*parsed);
      }
      if (auto e = h.finish()) return fail(*e);
      for (const auto& other : c.home_agents)
        if (other.address == peer.address)
          return fail("bad_field", path + ".address: duplicate home agent " + peer.address.to_string());
      c.home_agents.push_back(std::move(peer));
    }
  }
  if (const Json* dp = r.optional_object("dataplane")) {
    ObjectReader d(*dp, "dataplane");
    c.dataplane_driver = d.optional_enum("driver", c.dataplane_driver, {"userspace", "kernel", "ebpf"});
    c.tun_name = d.optional_string("tun_name", c.tun_name);
    c.route_protocol =
        static_cast<std::uint32_t>(d.optional_uint("route_protocol", c.route_protocol, 5, 255));
    c.reverse_table =
        static_cast<std::uint32_t>(d.optional_uint("reverse_table", c.reverse_table, 1, 0xffffffffu));
    c.rule_priority = static_cast<std::uint32_t>(d.optional_uint("rule_priority", c.rule_priority, 1, 32765));
    if (d.ok() && (c.tun_name.size() > 15 || !c.tun_name.starts_with("vmr")))
      d.add_error("bad_field", "dataplane.tun_name: must start with \"vmr\" and be at most 15 characters");
    if (d.ok() && (c.reverse_table == 253 || c.reverse_table == 254 || c.reverse_table == 255))
      d.add_error("bad_field", "dataplane.reverse_table: 253-255 are the kernel's default/main/local tables");
    if (auto e = d.finish()) return fail(*e);
  }
  if (const Json* reg = r.optional_object("registration")) {
    ObjectReader g(*reg, "registration");
    c.lifetime_s = static_cast<std::uint32_t>(g.optional_uint("lifetime_s", c.lifetime_s, 1, 65534));
    c.retransmit_initial_ms = static_cast<std::uint32_t>(
        g.optional_uint("retransmit_initial_ms", c.retransmit_initial_ms, 10, 60000));
    c.retransmit_max_ms =
        static_cast<std::uint32_t>(g.optional_uint("retransmit_max_ms", c.retransmit_max_ms, 10, 600000));
    c.retransmit_attempts =
        static_cast<std::uint32_t>(g.optional_uint("retransmit_attempts", c.retransmit_attempts, 1, 100));
    c.encapsulation = g.optional_enum("encapsulation", c.encapsulation, {"ipip", "udp"});
    if (g.ok() && c.retransmit_max_ms < c.retransmit_initial_ms)
      g.add_error("bad_field", "registration.retransmit_max_ms: smaller than retransmit_initial_ms");
    if (auto e = g.finish()) return fail(*e);
  }
  if (const Json* del = r.optional_object("delivery")) {
    ObjectReader d(*del, "delivery");
    c.gateway_mode = d.optional_enum("gateway_mode", c.gateway_mode, {"anycast", "garp"});
    c.detect_arrival = d.optional_bool("detect_arrival", c.detect_arrival);
    c.buffer_bytes = d.optional_uint("buffer_bytes", c.buffer_bytes, 0, std::uint64_t{1} << 32);
    c.buffer_ms = static_cast<std::uint32_t>(d.optional_uint("buffer_ms", c.buffer_ms, 0, 600000));
    if (const Json* sched = d.optional_array("garp_schedule_ms")) {
      c.garp_schedule_ms.clear();
      for (std::size_t i = 0; i < sched->size(); ++i) {
        const Json& v = (*sched)[i];
        if (!v.is_number_unsigned() || v.get<std::uint64_t>() > 60000)
          return fail("bad_field", "delivery.garp_schedule_ms[" + std::to_string(i) + "]: expected 0..60000");
        if (!c.garp_schedule_ms.empty() && v.get<std::uint32_t>() < c.garp_schedule_ms.back())
          return fail("bad_field", "delivery.garp_schedule_ms[" + std::to_string(i) + "]: must not decrease");
        c.garp_schedule_ms.push_back(v.get<std::uint32_t>());
      }
    }
    if (auto e = d.finish()) return fail(*e);
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
  return c;
}

Result<FaConfig> parse_config_text(std::string_view text) {
  auto doc = config::parse_json_text(text);
  if (!doc) return fail(doc.error());
  return parse_config(*doc);
}

Json to_json(const FaConfig& c) {
  Json has = Json::array();
  for (const auto& h : c.home_agents) {
    Json j{{"address", h.address.to_string()}};
    if (h.fa_ha) j["fa_ha"] = config::to_json_redacted(*h.fa_ha);
    has.push_back(std::move(j));
  }
  const Json api = config::to_json(config::ApiSection{c.api_socket, c.api_tcp, c.api_token_file});
  return Json{
      {"address", c.address.to_string()},
      {"listen_address", c.listen_address.to_string()},
      {"port", c.port},
      {"vm_interface", c.vm_interface},
      {"log_level", c.log_level},
      {"home_agents", has},
      {"dataplane",
       {{"driver", c.dataplane_driver},
        {"tun_name", c.tun_name},
        {"route_protocol", c.route_protocol},
        {"reverse_table", c.reverse_table},
        {"rule_priority", c.rule_priority}}},
      {"registration",
       {{"lifetime_s", c.lifetime_s},
        {"retransmit_initial_ms", c.retransmit_initial_ms},
        {"retransmit_max_ms", c.retransmit_max_ms},
        {"retransmit_attempts", c.retransmit_attempts},
        {"encapsulation", c.encapsulation}}},
      {"delivery",
       {{"gateway_mode", c.gateway_mode},
        {"garp_schedule_ms", c.garp_schedule_ms},
        {"detect_arrival", c.detect_arrival},
        {"buffer_bytes", c.buffer_bytes},
        {"buffer_ms", c.buffer_ms}}},
      {"store", {{"path", c.store_path}}},
      {"api", api},
  };
}

}  // namespace vmroam::fa
