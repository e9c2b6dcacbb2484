#include "home-agent/daemon.hpp"

#include "common/core/log.hpp"
#include "common/daemon/agent_host.hpp"
#include "common/daemon/packet_socket.hpp"
#include "common/dataplane/sysctl.hpp"
#include "home-agent/cluster/membership.hpp"
#include "home-agent/home_agent.hpp"
#include "home-agent/home_link_capture.hpp"

namespace vmroam::ha {

namespace {

class HaDaemon final : public daemon::Service<HaConfig> {
 public:
  HaDaemon(const HaConfig& config, const daemon::Context& context) : config_(config), context_(context) {}

  Result<void> open() {
    daemon::HostSetup setup{config_.home_interface, "home_interface", {}, {}};
    setup.driver.key = dataplane::LookupKey::destination;
    setup.driver.steering.key = dataplane::LookupKey::destination;
    setup.driver.steering.table = config_.route_table;
    VMROAM_TRY(host_, daemon::AgentHost::open(context_.io, host_config(), std::move(setup)));
    VMROAM_TRY_VOID(enable_proxy_ndp());
    auto packets = daemon::PacketSocket::open(host_->link().ifindex, config_.home_interface);
    if (!packets) return daemon::fail_at("packet_socket", packets.error());
    packets_.emplace(std::move(*packets));
    // Handover recovery for VMs leaving home: frames come back to the agent (created below).
    capture_ = std::make_unique<HomeLinkCapture>(context_.io, config_.home_interface,
                                                 [this](WallTime at, ByteView frame) {
                                                   if (agent_) agent_->on_home_link_frame(at, frame);
                                                 });
    if (config_.cluster) {
      auto cluster = ClusterMembership::open(context_.io, config_, host_->link(), host_->clock());
      if (!cluster) return daemon::fail_at("cluster", cluster.error());
      cluster_ = std::move(*cluster);
    }
    VMROAM_TRY_VOID(host_->start_agent(config_, seams(), agent_, api_));
    return ok();
  }

  void serve() override {
    host_->serve(*agent_);
    if (cluster_) cluster_->start(*agent_, home_frame_sender(), context_.on_fatal);
    log_info("home_agent_ready", {{"udp", host_->udp_endpoint()},
                                  {"api", config_.api_socket},
                                  {"dataplane", std::string(host_->driver().name())}});
  }

  Result<std::vector<std::string>> reload(const HaConfig& next) override {
    return host_->reload(*agent_, *api_, next);
  }

  void stop(std::function<void()> done) override {
    if (cluster_) cluster_->stop();
    host_->stop(*agent_, *api_, std::move(done));
  }

 private:
  // In a cluster the UDP 434 socket binds the service address unless listen_address says
  // otherwise: replies then leave from the address the FAs registered with, not from this
  // host's own address on the home link (RFC 5944 §3.8.3.1: the reply's source is the address
  // the request was sent to). A standby binds it before it holds it (IP_FREEBIND).
  HaConfig host_config() const {
    HaConfig c = config_;
    if (c.cluster && c.listen_address.is_zero()) c.listen_address = c.cluster->service_address.address;
    return c;
  }
  HomeAgentIo seams() {
    HomeAgentIo s;
    s.netlink = &host_->netlink();
    s.driver = &host_->driver();
    s.send_udp = host_->udp_sender();
    s.send_udp_segmented = [port = &host_->udp()](Ipv4 dst, std::uint16_t p, ByteView payload,
                                                  std::size_t size) {
      return port->send_batch(dst, p, payload, size);
    };
    s.send_home_frame = home_frame_sender();
    s.clock = &host_->clock();
    s.random32 = host_->random32();
    s.on_fatal = context_.on_fatal;
    s.watch_home_link = [this](Ipv4 hoa, const std::vector<Ipv6>& v6, bool on) {
      return capture_->watch(hoa, v6, on);
    };
    s.drain_home_link = [this] { capture_->drain(); };
    s.cluster = cluster_ ? &cluster_->link() : nullptr;
    return s;
  }
  // Dual-stack VMs (docs/home-agent.md "Dual-stack VMs"): the kernel answers Neighbor
  // Solicitations for our proxy entries only with proxy_ndp on (its forwarding path reads
  // `all`, not the link's) and forwarding on the home link, and at once only with
  // proxy_delay 0. Their IPv6 is forwarded into and out of the tunnel only with IPv6
  // forwarding on (ip6_forward reads `all`). Restored when the daemon goes (SysctlGuard).
  Result<void> enable_proxy_ndp() {
    if (!config_.home_prefix_v6) return ok();
    const std::string& link = config_.home_interface;
    for (const auto& [key, value] : {std::pair<std::string, std::string>{"net/ipv6/conf/all/forwarding", "1"},
                                     {"net/ipv6/conf/all/proxy_ndp", "1"},
                                     {"net/ipv6/conf/" + link + "/proxy_ndp", "1"},
                                     {"net/ipv6/conf/" + link + "/forwarding", "1"},
                                     {"net/ipv6/neigh/" + link + "/proxy_delay", "0"}})
      if (auto r = ndp_sysctls_.set(key, value); !r) return daemon::fail_at("sysctl", r.error());
    return ok();
  }
  std::function<void(ByteView)> home_frame_sender() {
    return [this](ByteView frame) {
      if (auto r = packets_->send(frame); !r)
        log_warn("frame_send_failed", {{"reason", r.error().to_string()}});
    };
  }

  const HaConfig config_;
  daemon::Context context_;
  // Declared in start-up order: destroyed in reverse.
  std::unique_ptr<daemon::AgentHost> host_;
  dataplane::SysctlGuard ndp_sysctls_;
  std::optional<daemon::PacketSocket> packets_;
  std::unique_ptr<HomeLinkCapture> capture_;
  std::unique_ptr<ClusterMembership> cluster_;
  std::unique_ptr<HomeAgent> agent_;
  std::unique_ptr<api::HttpServer> api_;
};

}  // namespace

Result<std::unique_ptr<daemon::Service<HaConfig>>> start_daemon(const HaConfig& config,
                                                                const daemon::Context& context) {
  auto d = std::make_unique<HaDaemon>(config, context);
  VMROAM_TRY_VOID(d->open());
  return std::unique_ptr<daemon::Service<HaConfig>>(std::move(d));
}

}  // namespace vmroam::ha
