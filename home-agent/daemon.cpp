#include "home-agent/daemon.hpp"

#include <random>

#include "common/api/http_server.hpp"
#include "common/core/asio.hpp"
#include "common/core/log.hpp"
#include "common/daemon/api_listener.hpp"
#include "common/daemon/capabilities.hpp"
#include "common/daemon/packet_socket.hpp"
#include "common/daemon/udp_port.hpp"
#include "common/dataplane/driver_factory.hpp"
#include "common/dataplane/sysctl.hpp"
#include "home-agent/home_agent.hpp"
#include "home-agent/home_link_capture.hpp"

namespace vmroam::ha {

namespace {

int fail_start(std::string_view what, const Error& e) {
  log_error("start_failed", {{"step", std::string(what)}, {"reason", e.to_string()}});
  return 1;
}

}  // namespace

int run_daemon(const HaConfig& config, const DaemonOptions& options) {
  LogLevel level;
  if (parse_log_level(config.log_level, level)) set_log_level(level);
  boost::asio::io_context io;
  int exit_code = 0;

  auto netlink = dataplane::LibnlNetlink::create();
  if (!netlink) return fail_start("netlink", netlink.error());
  auto home = (*netlink)->link(config.home_interface);
  if (!home) return fail_start("home_interface", home.error());

  // A router forwards; proxy ARP answers at once (the default proxy_delay waits up to 0.8 s).
  dataplane::Sysctl sysctl;
  for (const auto& [key, value] : {std::pair<std::string, std::string>{"net/ipv4/ip_forward", "1"},
                                   {"net/ipv4/conf/" + config.home_interface + "/forwarding", "1"},
                                   {"net/ipv4/neigh/" + config.home_interface + "/proxy_delay", "0"}}) {
    if (auto r = sysctl.set(key, value); !r) return fail_start("sysctl", r.error());
  }

  {
    std::error_code ec;
    const auto dir = std::filesystem::path(config.store_path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  }
  auto store = store::Store::open(config.store_path);
  if (!store) return fail_start("store", store.error());

  auto udp = daemon::UdpPort::open(io, config.listen_address, config.port);
  if (!udp) return fail_start("udp", udp.error());

  dataplane::DriverConfig dc;
  dc.name = config.dataplane_driver;
  dc.key = dataplane::LookupKey::destination;
  dc.local = config.address;
  dc.tun_name = config.tun_name;
  dc.steering.key = dataplane::LookupKey::destination;
  dc.steering.table = config.route_table;
  daemon::UdpPort* port = udp->get();
  dc.udp_send = [port](Ipv4 dst, std::uint16_t p, ByteView payload) { return port->send(dst, p, payload); };
  dc.udp_send_batch = [port](Ipv4 dst, std::uint16_t p, ByteView payload, std::size_t segment_size) {
    return port->send_batch(dst, p, payload, segment_size);
  };
  auto driver = dataplane::make_tunnel_driver(dc, io, **netlink);
  if (!driver) return fail_start("dataplane", driver.error());

  auto packets = daemon::PacketSocket::open(home->ifindex, config.home_interface);
  if (!packets) return fail_start("packet_socket", packets.error());

  std::random_device rd;
  std::mt19937 rng(rd());
  SystemClock clock;
  HomeAgentIo seams;
  seams.netlink = netlink->get();
  seams.driver = driver->get();
  seams.send_udp = [port](Ipv4 dst, std::uint16_t p, ByteView payload) {
    if (!port->send(dst, p, payload)) log_warn("udp_send_failed", {{"to", dst.to_string()}});
  };
  seams.send_home_frame = [&packets](ByteView frame) {
    if (auto r = packets->send(frame); !r) log_warn("frame_send_failed", {{"reason", r.error().to_string()}});
  };
  seams.clock = &clock;
  seams.random32 = [&rng] { return static_cast<std::uint32_t>(rng()); };
  seams.on_fatal = [&io, &exit_code](const Error& e) {
    log_error("fatal", {{"reason", e.to_string()}});
    exit_code = 2;
    io.stop();
  };
  // Handover recovery for VMs leaving home: frames come back to the agent, created below.
  HomeAgent* agent_ptr = nullptr;
  HomeLinkCapture capture(io, config.home_interface, [&agent_ptr](WallTime at, ByteView frame) {
    if (agent_ptr) agent_ptr->on_home_link_frame(at, frame);
  });
  seams.watch_home_link = [&capture](Ipv4 hoa, bool on) { return capture.watch(hoa, on); };
  seams.drain_home_link = [&capture] { capture.drain(); };
  HomeAgent agent(io, config, seams, std::move(*store));
  agent_ptr = &agent;
  if (auto r = agent.start(); !r) return fail_start("restore", r.error());

  auto api_options = daemon::api_listener_options(config.api_socket, config.api_tcp, config.api_token_file);
  if (!api_options) return fail_start("api", api_options.error());
  api::HttpServer server(io, *api_options, [&agent](const api::Request& r) { return agent.handle_api(r); });
  if (auto r = server.start(); !r) return fail_start("api", r.error());

  if (!options.keep_capabilities) {
    if (auto r = daemon::keep_only_network_capabilities(); !r && r.error().code != "not_privileged")
      return fail_start("capabilities", r.error());
  }

  bool stopping = false;
  auto stop = [&] {
    if (stopping) return;
    stopping = true;
    log_info("home_agent_stopping");
    (*udp)->close();
    agent.stop();
    server.stop([&io] { io.stop(); });
  };
  boost::asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
          auto text = config::read_text_file(options.config_path);
          auto next = text ? parse_config_text(*text) : Result<HaConfig>(fail(text.error()));
          if (!next) {
            log_error("reload_rejected", {{"reason", next.error().to_string()}});
          } else if (auto r = agent.reload(*next)) {
            std::string restart;
            for (const auto& k : *r) restart += (restart.empty() ? "" : ",") + k;
            log_info("reloaded", {{"needs_restart", restart.empty() ? "none" : restart}});
          }
          signals.async_wait(on_signal);
          return;
        }
        stop();
      };
  signals.async_wait(on_signal);

  (*udp)->start([&agent](ByteView p, Ipv4 src, std::uint16_t sport) { agent.on_datagram(p, src, sport); },
                [&agent] { agent.flush(); });
  log_info("home_agent_ready",
           {{"udp", config.listen_address.to_string() + ":" + std::to_string((*udp)->local_port())},
            {"api", config.api_socket},
            {"dataplane", std::string((*driver)->name())}});
  io.run();
  if (!stopping) agent.stop();
  log_info("home_agent_stopped", {{"exit_code", std::to_string(exit_code)}});
  return exit_code;
}

}  // namespace vmroam::ha
