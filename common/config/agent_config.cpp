#include "common/config/agent_config.hpp"

namespace vmroam::config {

void read_agent_keys(ObjectReader& root, AgentConfig& c) {
  c.address = root.required_ipv4("address");
  c.listen_address = root.optional_ipv4("listen_address", Ipv4{});
  c.port = static_cast<std::uint16_t>(root.optional_uint("port", 434, 1, 65535));
  c.log_level = root.optional_enum("log_level", "info", {"debug", "info", "warn", "error"});
}

Result<void> read_dataplane_section(ObjectReader& root, AgentConfig& c,
                                    const std::function<void(ObjectReader&)>& agent_keys) {
  return read_section(root, "dataplane", [&](ObjectReader& d) {
    c.dataplane_driver =
        d.optional_enum("driver", c.dataplane_driver, {"auto", "ebpf", "userspace", "kernel"});
    c.tun_name = d.optional_string("tun_name", c.tun_name);
    c.tunnel_mtu = d.optional_u32("tunnel_mtu", c.tunnel_mtu, 576, 65535);
    c.bpffs = d.optional_string("bpffs", c.bpffs);
    c.route_protocol = d.optional_u32("route_protocol", c.route_protocol, 5, 255);
    if (d.ok() && (c.tun_name.size() > 15 || !c.tun_name.starts_with("vmr")))
      d.add_error("bad_field", "dataplane.tun_name: must start with \"vmr\" and be at most 15 characters");
    agent_keys(d);
  });
}

Result<void> read_store_and_api(ObjectReader& root, AgentConfig& c) {
  VMROAM_TRY_VOID(read_section(
      root, "store", [&c](ObjectReader& s) { c.store_path = s.optional_string("path", c.store_path); }));
  ApiSection api = api_section(c);
  read_api_section(root, api);
  c.api_socket = api.unix_socket;
  c.api_tcp = api.tcp;
  c.api_token_file = api.token_file;
  c.api_tls = api.tls;
  c.api_insecure = api.insecure;
  return ok();
}

ApiSection api_section(const AgentConfig& c) {
  return ApiSection{c.api_socket, c.api_tcp, c.api_token_file, c.api_tls, c.api_insecure};
}

Result<std::vector<PeerConfig>> read_peers(ObjectReader& root, std::string_view key, std::string_view noun) {
  std::vector<PeerConfig> peers;
  const Json* array = root.optional_array(key);
  if (!array) return peers;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const std::string path = std::string(key) + "[" + std::to_string(i) + "]";
    ObjectReader p((*array)[i], path);
    PeerConfig peer;
    peer.address = p.required_ipv4("address");
    if (const Json* sa = p.optional_object("fa_ha")) {
      auto parsed = parse_security_association(*sa, path + ".fa_ha");
      if (!parsed) return fail(parsed.error());
      peer.fa_ha = std::move(*parsed);
    }
    if (auto e = p.finish()) return fail(*e);
    for (const auto& other : peers)
      if (other.address == peer.address)
        return fail("bad_field",
                    path + ".address: duplicate " + std::string(noun) + " " + peer.address.to_string());
    peers.push_back(std::move(peer));
  }
  return peers;
}

std::vector<std::string> restart_keys(const AgentConfig& running, const AgentConfig& next,
                                      bool same_agent_dataplane) {
  std::vector<std::string> keys;
  auto keep = [&](bool same, const char* key) {
    if (!same) keys.emplace_back(key);
  };
  keep(next.address == running.address, "address");
  keep(next.listen_address == running.listen_address && next.port == running.port, "listen_address/port");
  keep(same_agent_dataplane && next.dataplane_driver == running.dataplane_driver &&
           next.tun_name == running.tun_name && next.route_protocol == running.route_protocol &&
           next.tunnel_mtu == running.tunnel_mtu && next.bpffs == running.bpffs,
       "dataplane");
  keep(next.store_path == running.store_path, "store.path");
  keep(next.api_socket == running.api_socket && next.api_tcp == running.api_tcp &&
           next.api_token_file == running.api_token_file && next.api_insecure == running.api_insecure &&
           next.api_tls.has_value() == running.api_tls.has_value(),
       "api");
  return keys;
}

Json to_json(const AgentConfig& c, Json dataplane_extra) {
  Json dataplane{{"driver", c.dataplane_driver},
                 {"tun_name", c.tun_name},
                 {"tunnel_mtu", c.tunnel_mtu},
                 {"bpffs", c.bpffs},
                 {"route_protocol", c.route_protocol}};
  dataplane.update(dataplane_extra);
  return Json{
      {"address", c.address.to_string()},
      {"listen_address", c.listen_address.to_string()},
      {"port", c.port},
      {"log_level", c.log_level},
      {"dataplane", std::move(dataplane)},
      {"store", {{"path", c.store_path}}},
      {"api", to_json(api_section(c))},
  };
}

Json to_json(const std::vector<PeerConfig>& peers) {
  Json out = Json::array();
  for (const auto& p : peers) {
    Json j{{"address", p.address.to_string()}};
    if (p.fa_ha) j["fa_ha"] = to_json_redacted(*p.fa_ha);
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace vmroam::config
