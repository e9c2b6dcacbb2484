#include "home-agent/cluster/cluster_config.hpp"

namespace vmroam::ha {

namespace {

// "IPv4:port" with a port 1..65535.
bool valid_endpoint(const std::string& e) {
  const auto colon = e.rfind(':');
  if (colon == std::string::npos || !Ipv4::parse(e.substr(0, colon))) return false;
  const std::string port = e.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
    return false;
  const unsigned long n = std::stoul(port);
  return n >= 1 && n <= 65535;
}

}  // namespace

std::optional<ClusterConfig> read_cluster_section(config::ObjectReader& root) {
  const config::Json* section = root.optional_object("cluster");
  if (!section) return std::nullopt;
  config::ObjectReader r(*section, "cluster");
  ClusterConfig c;
  if (const config::Json* list = r.optional_array("etcd")) {
    for (std::size_t i = 0; i < list->size(); ++i) {
      const auto& e = (*list)[i];
      if (!e.is_string() || !valid_endpoint(e.get<std::string>())) {
        root.add_error("bad_field", "cluster.etcd[" + std::to_string(i) + "]: expected \"IPv4:port\"");
        return c;
      }
      c.etcd.push_back(e.get<std::string>());
    }
  }
  if (c.etcd.empty()) root.add_error("missing_field", "cluster.etcd: at least one etcd endpoint");
  c.prefix = r.optional_string("prefix", c.prefix);
  if (c.prefix.empty() || c.prefix.front() != '/' || c.prefix.back() == '/')
    root.add_error("bad_field", "cluster.prefix: must start with '/' and not end with one");
  c.node = r.required_string("node");
  if (r.ok() && (c.node.empty() || c.node.find('/') != std::string::npos))
    root.add_error("bad_field", "cluster.node: a non-empty name without '/'");
  c.service_address = r.required_prefix("service_address");
  c.lease_ttl_s = static_cast<std::uint32_t>(r.optional_uint("lease_ttl_s", c.lease_ttl_s, 2, 60));
  c.request_timeout_ms =
      static_cast<std::uint32_t>(r.optional_uint("request_timeout_ms", c.request_timeout_ms, 100, 60000));
  c.max_txn_ops = static_cast<std::uint32_t>(r.optional_uint("max_txn_ops", c.max_txn_ops, 2, 1000000));
  c.api_address = r.optional_string("api_address", c.api_address);
  if (auto e = r.finish()) root.add_error(e->code, e->context);
  return c;
}

config::Json cluster_to_json(const ClusterConfig& c) {
  return {{"etcd", c.etcd},
          {"prefix", c.prefix},
          {"node", c.node},
          {"service_address", c.service_address.to_string()},
          {"lease_ttl_s", c.lease_ttl_s},
          {"request_timeout_ms", c.request_timeout_ms},
          {"max_txn_ops", c.max_txn_ops},
          {"api_address", c.api_address}};
}

}  // namespace vmroam::ha
