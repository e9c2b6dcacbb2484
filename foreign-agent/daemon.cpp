#include "foreign-agent/daemon.hpp"

#include <unistd.h>

#include <filesystem>
#include <random>

#include "common/api/http_server.hpp"
#include "common/config/json_reader.hpp"
#include "common/core/asio.hpp"
#include "common/core/log.hpp"
#include "common/daemon/api_listener.hpp"
#include "common/daemon/capabilities.hpp"
#include "common/daemon/udp_port.hpp"
#include "common/dataplane/driver_factory.hpp"
#include "common/dataplane/sysctl.hpp"
#include "common/dataplane/tun_device.hpp"
#include "foreign-agent/foreign_agent.hpp"
#include "foreign-agent/vm_link.hpp"

namespace vmroam::fa {

namespace {

constexpr const char* kBufferTun = "vmr-fab0";

int fail_start(std::string_view what, const Error& e) {
  log_error("start_failed", {{"step", std::string(what)}, {"reason", e.to_string()}});
  return 1;
}

}  // namespace

int run_daemon(const FaConfig& config, const DaemonOptions& options) {
  LogLevel level;
  if (parse_log_level(config.log_level, level)) set_log_level(level);
  boost::asio::io_context io;
  int exit_code = 0;

  auto netlink = dataplane::LibnlNetlink::create();
  if (!netlink) return fail_start("netlink", netlink.error());
  auto vm = (*netlink)->link(config.vm_interface);
  if (!vm) return fail_start("vm_interface", vm.error());

  // A router forwards; proxy ARP answers at once; decapsulated packets and the VM's own arrive
  // with sources the reverse path does not lead back to (REFERENCE §5).
  dataplane::Sysctl sysctl;
  for (const auto& [key, value] : {std::pair<std::string, std::string>{"net/ipv4/ip_forward", "1"},
                                   {"net/ipv4/conf/" + config.vm_interface + "/forwarding", "1"},
                                   {"net/ipv4/conf/" + config.vm_interface + "/rp_filter", "0"},
                                   {"net/ipv4/conf/all/rp_filter", "0"},
                                   {"net/ipv4/neigh/" + config.vm_interface + "/proxy_delay", "0"}}) {
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
  daemon::UdpPort* port = udp->get();

  dataplane::DriverConfig dc;
  dc.name = config.dataplane_driver;
  dc.key = dataplane::LookupKey::source;  // RFC 3024: the inner source picks the HA
  dc.local = config.address;
  dc.tun_name = config.tun_name;
  dc.steering.key = dataplane::LookupKey::source;
  dc.steering.table = config.reverse_table;
  dc.steering.reverse_iif = config.vm_interface;
  dc.steering.rule_priority = config.rule_priority;
  dc.udp_send = [port](Ipv4 dst, std::uint16_t p, ByteView payload) { return port->send(dst, p, payload); };
  dc.udp_send_batch = [port](Ipv4 dst, std::uint16_t p, ByteView payload, std::size_t segment_size) {
    return port->send_batch(dst, p, payload, segment_size);
  };
  auto driver = dataplane::make_tunnel_driver(dc, io, **netlink);
  if (!driver) return fail_start("dataplane", driver.error());
  (void)sysctl.set("net/ipv4/conf/" + config.tun_name + "/rp_filter", "0");

  // The buffer TUN: HoAs of visitors not yet running here route to it (docs/foreign-agent.md).
  auto buffer_tun = dataplane::TunDevice::open(kBufferTun);
  if (!buffer_tun) return fail_start("buffer_tun", buffer_tun.error());
  auto buffer_link = (*netlink)->link(kBufferTun);
  if (!buffer_link) return fail_start("buffer_tun", buffer_link.error());
  if (auto r = (*netlink)->set_link(buffer_link->ifindex, true, 0); !r)
    return fail_start("buffer_tun", r.error());
  (void)sysctl.set(std::string("net/ipv4/conf/") + kBufferTun + "/rp_filter", "0");
  (void)sysctl.set(std::string("net/ipv4/conf/") + kBufferTun + "/forwarding", "1");
  boost::asio::posix::stream_descriptor buffer_sd(io, ::dup(buffer_tun->fd()));

  std::unique_ptr<ForeignAgent> agent;
  auto vm_link = VmLink::open(io, config.vm_interface, [&agent](ByteView frame) {
    if (agent) agent->on_vm_frame(frame);
  });
  if (!vm_link) return fail_start("vm_link", vm_link.error());

  std::random_device rd;
  std::mt19937 rng(rd());
  SystemClock clock;
  ForeignAgentIo seams;
  seams.netlink = netlink->get();
  seams.driver = driver->get();
  seams.send_udp = [port](Ipv4 dst, std::uint16_t p, ByteView payload) {
    if (!port->send(dst, p, payload)) log_warn("udp_send_failed", {{"to", dst.to_string()}});
  };
  seams.send_vm_frame = [&vm_link](ByteView frame) {
    if (auto r = (*vm_link)->send(frame); !r)
      log_warn("frame_send_failed", {{"reason", r.error().to_string()}});
  };
  const int tun_fd = buffer_tun->fd();
  seams.reinject = [tun_fd](ByteView packet) {
    if (::write(tun_fd, packet.data(), packet.size()) < 0) log_warn("reinject_failed", {});
  };
  seams.buffer_ifindex = buffer_link->ifindex;
  ::nl_sock* sock = (*netlink)->socket();
  const int vm_ifindex = vm->ifindex;
  int next_gateway = 0;
  seams.add_gateway_link = [sock, vm_ifindex, &next_gateway,
                            &sysctl](const MacAddress& mac) -> Result<std::string> {
    const std::string name = "vmr-gw" + std::to_string(next_gateway++);
    VMROAM_TRY(int idx, add_macvlan(sock, name, vm_ifindex, mac));
    (void)idx;
    (void)sysctl.set("net/ipv4/conf/" + name + "/rp_filter", "0");
    (void)sysctl.set("net/ipv4/conf/" + name + "/forwarding", "1");
    // It answers ARP for the home gateway (its proxy entry): at once, like the VM link.
    (void)sysctl.set("net/ipv4/neigh/" + name + "/proxy_delay", "0");
    return name;
  };
  seams.remove_gateway_link = [sock](const std::string& name) { delete_link_by_name(sock, name); };
  seams.clock = &clock;
  seams.random32 = [&rng] { return static_cast<std::uint32_t>(rng()); };
  agent = std::make_unique<ForeignAgent>(io, config, seams, std::move(*store));
  if (auto r = agent->start(); !r) return fail_start("restore", r.error());

  // Packets for buffering visitors: read until EAGAIN per readiness event.
  std::vector<std::uint8_t> buf(65536);
  std::function<void()> arm_buffer = [&] {
    buffer_sd.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                         [&](const boost::system::error_code& ec) {
                           if (ec) return;
                           for (int i = 0; i < 256; ++i) {
                             const ssize_t n = ::read(buffer_tun->fd(), buf.data(), buf.size());
                             if (n <= 0) break;
                             agent->on_buffered_packet(ByteView(buf.data(), static_cast<std::size_t>(n)));
                           }
                           arm_buffer();
                         });
  };
  {
    const int fl = ::fcntl(buffer_tun->fd(), F_GETFL);
    (void)::fcntl(buffer_tun->fd(), F_SETFL, fl | O_NONBLOCK);
  }
  arm_buffer();

  auto api_options = daemon::api_listener_options(config.api_socket, config.api_tcp, config.api_token_file);
  if (!api_options) return fail_start("api", api_options.error());
  api::HttpServer server(io, *api_options, [&agent](const api::Request& r) { return agent->handle_api(r); });
  if (auto r = server.start(); !r) return fail_start("api", r.error());

  if (!options.keep_capabilities) {
    if (auto r = daemon::keep_only_network_capabilities(); !r && r.error().code != "not_privileged")
      return fail_start("capabilities", r.error());
  }

  bool stopping = false;
  auto stop = [&] {
    if (stopping) return;
    stopping = true;
    log_info("foreign_agent_stopping");
    (*udp)->close();
    boost::system::error_code ec;
    buffer_sd.cancel(ec);
    agent->stop();
    server.stop([&io] { io.stop(); });
  };
  boost::asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
          auto text = config::read_text_file(options.config_path);
          auto next = text ? parse_config_text(*text) : Result<FaConfig>(fail(text.error()));
          if (!next) {
            log_error("reload_rejected", {{"reason", next.error().to_string()}});
          } else if (auto r = agent->reload(*next)) {
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

  (*udp)->start([&agent](ByteView p, Ipv4 src, std::uint16_t sport) { agent->on_datagram(p, src, sport); },
                [&agent] { agent->flush(); });
  log_info("foreign_agent_ready",
           {{"udp", config.listen_address.to_string() + ":" + std::to_string((*udp)->local_port())},
            {"api", config.api_socket},
            {"dataplane", std::string((*driver)->name())},
            {"gateway_mode", agent->gateway_mode_anycast() ? "anycast" : "garp"}});
  io.run();
  if (!stopping) agent->stop();
  log_info("foreign_agent_stopped", {{"exit_code", std::to_string(exit_code)}});
  return exit_code;
}

}  // namespace vmroam::fa
