#include "common/daemon/agent_host.hpp"

#include <filesystem>

#include "common/core/log.hpp"
#include "common/daemon/api_listener.hpp"

namespace vmroam::daemon {

AgentHost::AgentHost(boost::asio::io_context& io, std::unique_ptr<dataplane::LibnlNetlink> netlink,
                     dataplane::LinkInfo link)
    : io_(io), netlink_(std::move(netlink)), link_(std::move(link)) {}

Result<std::unique_ptr<AgentHost>> AgentHost::open(boost::asio::io_context& io,
                                                   const config::AgentConfig& config, HostSetup setup) {
  auto netlink = dataplane::LibnlNetlink::create();
  if (!netlink) return fail_at("netlink", netlink.error());
  auto link = (*netlink)->link(setup.link);
  if (!link) return fail_at(setup.link_step, link.error());
  std::unique_ptr<AgentHost> host(new AgentHost(io, std::move(*netlink), std::move(*link)));
  VMROAM_TRY_VOID(host->set_sysctls(setup));
  VMROAM_TRY_VOID(host->open_store(config.store_path));
  auto udp = UdpPort::open(io, config.listen_address, config.port);
  if (!udp) return fail_at("udp", udp.error());
  host->udp_ = std::move(*udp);
  host->listen_address_ = config.listen_address;
  VMROAM_TRY_VOID(host->open_driver(io, config, std::move(setup.driver)));
  return host;
}

Result<void> AgentHost::set_sysctls(const HostSetup& setup) {
  // A router forwards; proxy ARP answers at once (the default proxy_delay waits up to 0.8 s).
  std::vector<std::pair<std::string, std::string>> all{
      {"net/ipv4/ip_forward", "1"},
      {"net/ipv4/conf/" + setup.link + "/forwarding", "1"},
      {"net/ipv4/neigh/" + setup.link + "/proxy_delay", "0"}};
  all.insert(all.end(), setup.sysctls.begin(), setup.sysctls.end());
  for (const auto& [key, value] : all)
    if (auto r = sysctl_.set(key, value); !r) return fail_at("sysctl", r.error());
  return ok();
}

Result<void> AgentHost::open_store(const std::string& path) {
  // A missing directory is created; if that fails, opening the store says why.
  std::error_code ignored;
  const auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir, ignored);
  auto store = store::Store::open(path);
  if (!store) return fail_at("store", store.error());
  store_.emplace(std::move(*store));
  return ok();
}

Result<void> AgentHost::open_driver(boost::asio::io_context& io, const config::AgentConfig& config,
                                    dataplane::DriverConfig dc) {
  dc.name = config.dataplane_driver;
  dc.local = config.address;
  dc.tun_name = config.tun_name;
  dc.mtu = config.tunnel_mtu;
  dc.bpffs = config.bpffs;
  dc.on_fallback = [](const Error& why) {
    log_warn("dataplane_fallback", {{"driver", "userspace"}, {"reason", why.to_string()}});
  };
  UdpPort* port = udp_.get();
  dc.udp_send = [port](Ipv4 dst, std::uint16_t p, ByteView payload) { return port->send(dst, p, payload); };
  dc.udp_send_batch = [port](Ipv4 dst, std::uint16_t p, ByteView payload, std::size_t segment_size) {
    return port->send_batch(dst, p, payload, segment_size);
  };
  auto driver = dataplane::make_tunnel_driver(dc, io, *netlink_);
  if (!driver) return fail_at("dataplane", driver.error());
  driver_ = std::move(*driver);
  return ok();
}

store::Store AgentHost::take_store() {
  store::Store s = std::move(*store_);
  store_.reset();
  return s;
}

std::function<void(Ipv4, std::uint16_t, ByteView)> AgentHost::udp_sender() {
  UdpPort* port = udp_.get();
  return [port](Ipv4 dst, std::uint16_t p, ByteView payload) {
    if (!port->send(dst, p, payload)) log_warn("udp_send_failed", {{"to", dst.to_string()}});
  };
}

std::function<std::uint32_t()> AgentHost::random32() {
  return [this] { return static_cast<std::uint32_t>(rng_()); };
}

std::string AgentHost::udp_endpoint() const {
  return listen_address_.to_string() + ":" + std::to_string(udp_->local_port());
}

Result<std::unique_ptr<api::HttpServer>> open_api(boost::asio::io_context& io,
                                                  const config::AgentConfig& config,
                                                  api::RequestHandler handler) {
  auto options = api_listener_options(config::api_section(config));
  if (!options) return fail_at("api", options.error());
  auto server = std::make_unique<api::HttpServer>(io, *options, std::move(handler));
  if (auto r = server->start(); !r) return fail_at("api", r.error());
  return server;
}

}  // namespace vmroam::daemon
