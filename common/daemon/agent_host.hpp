// AgentHost: what every agent daemon opens on its host before the agent itself, in this
// order, and closes in reverse: libnl → the agent's own link (home link / VM link) → router
// sysctls (forwarding on, proxy_delay 0 so proxy ARP answers at once instead of after up to
// 0.8 s) → the binding store (its directory created) → the UDP 434 port (bound, not yet
// read) → the tunnel driver. It hands out the seams every agent's Io takes from them (UDP
// send, clock, random numbers) and, once the agent exists, opens the API listener.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/api/http_server.hpp"
#include "common/config/agent_config.hpp"
#include "common/core/asio.hpp"
#include "common/core/clock.hpp"
#include "common/daemon/api_listener.hpp"
#include "common/daemon/runner.hpp"
#include "common/daemon/udp_port.hpp"
#include "common/dataplane/driver_factory.hpp"
#include "common/dataplane/netlink.hpp"
#include "common/dataplane/sysctl.hpp"
#include "common/store/store.hpp"

namespace vmroam::daemon {

struct HostSetup {
  std::string link;            // the agent's own link: forwarding on, proxy_delay 0
  std::string_view link_step;  // its config key, the step named when it is missing
  std::vector<std::pair<std::string, std::string>> sysctls;  // more, after those
  // Lookup key and steering; name, local address, TUN name and UDP senders are filled in.
  dataplane::DriverConfig driver;
};

// The API listener for `config`'s "api" section, started. Errors name the step ("api").
[[nodiscard]] Result<std::unique_ptr<api::HttpServer>> open_api(boost::asio::io_context& io,
                                                                const config::AgentConfig& config,
                                                                api::RequestHandler handler);

class AgentHost {
 public:
  // Errors name the step that failed (fail_at, common/daemon/runner.hpp).
  [[nodiscard]] static Result<std::unique_ptr<AgentHost>> open(boost::asio::io_context& io,
                                                               const config::AgentConfig& config,
                                                               HostSetup setup);
  AgentHost(const AgentHost&) = delete;
  AgentHost& operator=(const AgentHost&) = delete;

  [[nodiscard]] dataplane::LibnlNetlink& netlink() { return *netlink_; }
  [[nodiscard]] const dataplane::LinkInfo& link() const { return link_; }
  [[nodiscard]] dataplane::Sysctl& sysctl() { return sysctl_; }
  [[nodiscard]] UdpPort& udp() { return *udp_; }
  [[nodiscard]] dataplane::TunnelDriver& driver() { return *driver_; }
  [[nodiscard]] Clock& clock() { return clock_; }
  // The store, once: it moves into the agent.
  [[nodiscard]] store::Store take_store();

  // Seams for the agent's Io: a send that logs `udp_send_failed` (the protocol retransmits),
  // and uniformly random 32-bit numbers (registration Identification, RFC 5944 §5.7).
  [[nodiscard]] std::function<void(Ipv4, std::uint16_t, ByteView)> udp_sender();
  [[nodiscard]] std::function<std::uint32_t()> random32();

  // The agent on the store: built, started (restore + reconcile: its state back in the
  // kernel), then the API listener for it. Errors name the step ("restore", "api").
  template <typename Agent, typename Config, typename Io>
  [[nodiscard]] Result<void> start_agent(const Config& config, Io seams, std::unique_ptr<Agent>& agent,
                                         std::unique_ptr<api::HttpServer>& api) {
    agent = std::make_unique<Agent>(io_, config, std::move(seams), take_store());
    if (auto r = agent->start(); !r) return fail_at("restore", r.error());
    Agent* a = agent.get();
    auto server = open_api(io_, config, [a](const api::Request& r) { return a->handle_api(r); });
    if (!server) return fail(server.error());
    api = std::move(*server);
    return ok();
  }

  // SIGHUP: the agent's reload and a new TLS context for the API, all or nothing. The TLS
  // files are read again even when their paths did not change (certificate rotation); one
  // that does not load rejects the reload before the agent sees it.
  template <typename Agent, typename Config>
  [[nodiscard]] Result<std::vector<std::string>> reload(Agent& agent, api::HttpServer& api,
                                                        const Config& next) {
    auto tls = reload_api_tls(config::api_section(next));
    if (!tls) return fail(tls.error());
    auto r = agent.reload(next);
    if (r && *tls && api.tls_enabled()) api.set_tls(std::move(*tls));
    return r;
  }

  // Starts reading UDP 434 into `agent`: on_datagram() per datagram, flush() once per
  // readiness event (the group-commit point, common/daemon/udp_port.hpp).
  template <typename Agent>
  void serve(Agent& agent) {
    udp_->start([&agent](ByteView p, Ipv4 src, std::uint16_t sport) { agent.on_datagram(p, src, sport); },
                [&agent] { agent.flush(); });
  }
  // Stop, mirroring start-up: no more UDP 434, then the agent, then the API (`done` runs once
  // its connections are closed). Without `done` (after a fatal stop there is no loop) the
  // API is left to its destructor, which closes everything at once.
  template <typename Agent>
  void stop(Agent& agent, api::HttpServer& api, std::function<void()> done) {
    udp_->close();
    agent.stop();
    if (done) api.stop(std::move(done));
  }

  // The "udp" field of the <agent>_ready event: "address:port" as bound.
  [[nodiscard]] std::string udp_endpoint() const;

 private:
  AgentHost(boost::asio::io_context& io, std::unique_ptr<dataplane::LibnlNetlink> netlink,
            dataplane::LinkInfo link);
  [[nodiscard]] Result<void> set_sysctls(const HostSetup& setup);
  [[nodiscard]] Result<void> open_store(const std::string& path);
  [[nodiscard]] Result<void> open_driver(boost::asio::io_context& io, const config::AgentConfig& config,
                                         dataplane::DriverConfig dc);

  boost::asio::io_context& io_;
  std::unique_ptr<dataplane::LibnlNetlink> netlink_;
  dataplane::LinkInfo link_;
  dataplane::Sysctl sysctl_;
  std::optional<store::Store> store_;
  std::unique_ptr<UdpPort> udp_;
  std::unique_ptr<dataplane::TunnelDriver> driver_;
  SystemClock clock_;
  std::mt19937 rng_{std::random_device{}()};
  Ipv4 listen_address_;
};

}  // namespace vmroam::daemon
