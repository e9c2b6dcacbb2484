#include "foreign-agent/daemon.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <unistd.h>

#include "common/core/log.hpp"
#include "common/daemon/agent_host.hpp"
#include "common/dataplane/tun_device.hpp"
#include "foreign-agent/foreign_agent.hpp"
#include "foreign-agent/vm_link.hpp"

namespace vmroam::fa {

namespace {

constexpr const char* kBufferTun = "vmr-fab0";

// Decapsulated packets and the VM's own arrive with sources the reverse path does not lead
// back to, so every link they come in on needs rp_filter 0 (docs/foreign-agent.md). Links we
// have just created take it; if one does not, the packets it drops are counted by the kernel
// and the warning says which link to look at: not a reason to stop serving the others.
void set_link_sysctl(dataplane::Sysctl& sysctl, const std::string& key, std::string_view value) {
  if (auto r = sysctl.set(key, value); !r) log_warn("sysctl_failed", {{"reason", r.error().to_string()}});
}

class FaDaemon final : public daemon::Service<FaConfig> {
 public:
  FaDaemon(const FaConfig& config, const daemon::Context& context)
      : config_(config), context_(context), buffer_sd_(context.io) {}

  Result<void> open() {
    daemon::HostSetup setup{
        config_.vm_interface,
        "vm_interface",
        {{"net/ipv4/conf/" + config_.vm_interface + "/rp_filter", "0"}, {"net/ipv4/conf/all/rp_filter", "0"}},
        {}};
    setup.driver.key = dataplane::LookupKey::source;  // RFC 3024: the inner source picks the HA
    setup.driver.steering.key = dataplane::LookupKey::source;
    setup.driver.steering.table = config_.reverse_table;
    setup.driver.steering.reverse_iif = config_.vm_interface;
    setup.driver.steering.rule_priority = config_.rule_priority;
    VMROAM_TRY(host_, daemon::AgentHost::open(context_.io, config_, std::move(setup)));
    // The kernel driver has no TUN of that name: nothing to relax then.
    if (host_->netlink().link(config_.tun_name))
      set_link_sysctl(host_->sysctl(), "net/ipv4/conf/" + config_.tun_name + "/rp_filter", "0");
    enable_ipv6();
    VMROAM_TRY_VOID(open_buffer_tun());
    auto vm_link = VmLink::open(context_.io, config_.vm_interface, [this](ByteView frame) {
      if (agent_) agent_->on_vm_frame(frame);
    });
    if (!vm_link) return daemon::fail_at("vm_link", vm_link.error());
    vm_link_ = std::move(*vm_link);
    VMROAM_TRY_VOID(host_->start_agent(config_, seams(), agent_, api_));
    arm_buffer();
    return ok();
  }

  void serve() override {
    host_->serve(*agent_);
    log_info("foreign_agent_ready", {{"udp", host_->udp_endpoint()},
                                     {"api", config_.api_socket},
                                     {"dataplane", std::string(host_->driver().name())},
                                     {"gateway_mode", agent_->gateway_mode_anycast() ? "anycast" : "garp"}});
  }

  Result<std::vector<std::string>> reload(const FaConfig& next) override {
    return host_->reload(*agent_, *api_, next);
  }

  void stop(std::function<void()> done) override {
    boost::system::error_code ignored;  // cancelling a descriptor with nothing pending is fine
    buffer_sd_.cancel(ignored);
    host_->stop(*agent_, *api_, std::move(done));
  }

 private:
  // Dual-stack VMs (docs/foreign-agent.md "Dual-stack VMs"): their IPv6 is forwarded between
  // the VM link and the tunnel only with IPv6 forwarding on (ip6_forward reads `all`), and
  // delivered on the VM link only with IPv6 on there (the kernel resolves the VM's address
  // with Neighbor Discovery from its link-local address). A kernel without IPv6 serves IPv4.
  void enable_ipv6() {
    if (!host_->sysctl().get("net/ipv6/conf/all/forwarding")) return;
    set_link_sysctl(host_->sysctl(), "net/ipv6/conf/all/forwarding", "1");
    set_link_sysctl(host_->sysctl(), "net/ipv6/conf/" + config_.vm_interface + "/disable_ipv6", "0");
  }
  // IPv6 on one of our links without an address of its own (no router solicitations, no
  // duplicate address detection: it only carries the visitors' packets).
  void enable_ipv6_on(const std::string& link) {
    if (!host_->sysctl().get("net/ipv6/conf/" + link + "/disable_ipv6")) return;  // no IPv6 here
    set_link_sysctl(host_->sysctl(), "net/ipv6/conf/" + link + "/addr_gen_mode", "1");
    set_link_sysctl(host_->sysctl(), "net/ipv6/conf/" + link + "/disable_ipv6", "0");
  }

  // The buffer TUN: HoAs of visitors not yet running here route to it (docs/foreign-agent.md).
  Result<void> open_buffer_tun() {
    auto tun = dataplane::TunDevice::open(kBufferTun);
    if (!tun) return daemon::fail_at("buffer_tun", tun.error());
    buffer_tun_ = std::move(*tun);
    auto link = host_->netlink().link(kBufferTun);
    if (!link) return daemon::fail_at("buffer_tun", link.error());
    buffer_ifindex_ = link->ifindex;
    if (auto r = host_->netlink().set_link(buffer_ifindex_, true, 0); !r)
      return daemon::fail_at("buffer_tun", r.error());
    set_link_sysctl(host_->sysctl(), std::string("net/ipv4/conf/") + kBufferTun + "/rp_filter", "0");
    set_link_sysctl(host_->sysctl(), std::string("net/ipv4/conf/") + kBufferTun + "/forwarding", "1");
    enable_ipv6_on(kBufferTun);
    const int flags = ::fcntl(buffer_tun_.fd(), F_GETFL);
    if (flags < 0 || ::fcntl(buffer_tun_.fd(), F_SETFL, flags | O_NONBLOCK) < 0)
      return daemon::fail_at("buffer_tun", make_error("io_error", "O_NONBLOCK on the buffer TUN"));
    buffer_sd_.assign(::dup(buffer_tun_.fd()));
    return ok();
  }

  // Packets for buffering visitors: read until EAGAIN (at most 256) per readiness event.
  void arm_buffer() {
    buffer_sd_.async_wait(
        boost::asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
          if (ec) return;
          for (int i = 0; i < 256; ++i) {
            const ssize_t n = ::read(buffer_tun_.fd(), buffer_.data(), buffer_.size());
            if (n <= 0) break;
            agent_->on_buffered_packet(ByteView(buffer_.data(), static_cast<std::size_t>(n)));
          }
          arm_buffer();
        });
  }

  ForeignAgentIo seams() {
    ForeignAgentIo s;
    s.netlink = &host_->netlink();
    s.driver = &host_->driver();
    s.send_udp = host_->udp_sender();
    s.send_vm_frame = [this](ByteView frame) {
      if (auto r = vm_link_->send(frame); !r)
        log_warn("frame_send_failed", {{"reason", r.error().to_string()}});
    };
    s.reinject = [this](ByteView packet) {
      if (::write(buffer_tun_.fd(), packet.data(), packet.size()) < 0) log_warn("reinject_failed", {});
    };
    s.watch_arrivals = [this](const std::vector<MacAddress>& awaited) {
      if (auto r = vm_link_->watch_arrivals(awaited); !r)
        log_warn("arrival_filter_failed", {{"reason", r.error().to_string()}});
    };
    s.buffer_ifindex = buffer_ifindex_;
    s.add_gateway_link = [this](const MacAddress& mac) { return add_gateway_link(mac); };
    s.remove_gateway_link = [this](const std::string& name) {
      delete_link_by_name(host_->netlink().socket(), name);
    };
    s.clock = &host_->clock();
    s.random32 = host_->random32();
    s.on_fatal = context_.on_fatal;
    return s;
  }

  // An anycast gateway link: a macvlan on the VM link with the home gateway's MAC.
  Result<std::string> add_gateway_link(const MacAddress& mac) {
    // A name no link has (start-up may have adopted a predecessor's vmr-gwN).
    std::string name;
    do name = "vmr-gw" + std::to_string(next_gateway_++);
    while (::if_nametoindex(name.c_str()) != 0);
    auto ifindex = add_macvlan(host_->netlink().socket(), name, host_->link().ifindex, mac);
    if (!ifindex) return fail(ifindex.error());
    set_link_sysctl(host_->sysctl(), "net/ipv4/conf/" + name + "/rp_filter", "0");
    set_link_sysctl(host_->sysctl(), "net/ipv4/conf/" + name + "/forwarding", "1");
    // It answers ARP for the home gateway (its proxy entry): at once, like the VM link.
    set_link_sysctl(host_->sysctl(), "net/ipv4/neigh/" + name + "/proxy_delay", "0");
    // A dual-stack VM's IPv6 to its gateway MAC arrives here too.
    enable_ipv6_on(name);
    return name;
  }

  const FaConfig config_;
  daemon::Context context_;
  // Declared in start-up order: destroyed in reverse.
  std::unique_ptr<daemon::AgentHost> host_;
  dataplane::TunDevice buffer_tun_;
  int buffer_ifindex_ = 0;
  boost::asio::posix::stream_descriptor buffer_sd_;
  std::vector<std::uint8_t> buffer_ = std::vector<std::uint8_t>(65536);
  std::unique_ptr<VmLink> vm_link_;
  std::unique_ptr<ForeignAgent> agent_;
  std::unique_ptr<api::HttpServer> api_;
  int next_gateway_ = 0;
};

}  // namespace

Result<std::unique_ptr<daemon::Service<FaConfig>>> start_daemon(const FaConfig& config,
                                                                const daemon::Context& context) {
  auto d = std::make_unique<FaDaemon>(config, context);
  VMROAM_TRY_VOID(d->open());
  return std::unique_ptr<daemon::Service<FaConfig>>(std::move(d));
}

}  // namespace vmroam::fa
