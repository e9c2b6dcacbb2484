// vmroam-libvirt: couples libvirt-managed live migrations (virsh migrate, OpenStack, oVirt) to
// vmroam's agents (docs/migration.md "Migrating with libvirt"). Thin: parse argv, load the
// config, connect to libvirtd, run the loop until SIGINT/SIGTERM.
//
// Exit codes: 0 stopped by a signal, or --check passed; 1 cannot start; 64 usage; 78 bad config.
#include <csignal>
#include <cstring>
#include <iostream>

#include "common/config/json_reader.hpp"
#include "common/core/asio.hpp"
#include "common/core/log.hpp"
#include "libvirt/config.hpp"
#include "libvirt/coupler.hpp"
#include "libvirt/libvirt_monitor.hpp"
#include "migration/http_foreign_agent.hpp"
#include "migration/http_home_agent.hpp"

namespace {

using namespace vmroam;
using namespace vmroam::virt;

constexpr const char* kUsage = R"(usage: vmroam-libvirt --config FILE [--check] [--verbose]

  --config FILE   JSON configuration (docs/getting-started.md "Migrating with libvirt")
  --check         validate the configuration, print it normalised (secrets redacted), exit
  --verbose       debug logging
  --help, --version
)";

struct Args {
  std::string config;
  bool check = false, verbose = false;
};

int parse_args(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "--help") {
      std::cout << kUsage;
      return 0;
    }
    if (s == "--version") {
      std::cout << "vmroam-libvirt " << VMROAM_VERSION << "\n";
      return 0;
    }
    if (s == "--check")
      a.check = true;
    else if (s == "--verbose")
      a.verbose = true;
    else if (s == "--config" && i + 1 < argc)
      a.config = argv[++i];
    else {
      std::cerr << "vmroam-libvirt: unknown or incomplete argument '" << s << "'\n" << kUsage;
      return 64;
    }
  }
  if (a.config.empty()) {
    std::cerr << "vmroam-libvirt: --config FILE is required\n" << kUsage;
    return 64;
  }
  return -1;
}

int run(const Config& cfg) {
  boost::asio::io_context io;
  std::unique_ptr<migration::HttpHomeAgent> ha;
  if (cfg.home_agent)
    ha = std::make_unique<migration::HttpHomeAgent>(io, *cfg.home_agent, cfg.home_agent_token, cfg.api_tls);
  std::map<std::string, std::unique_ptr<ForeignAgentControl>> fas;
  for (const auto& [name, site] : cfg.sites)
    if (site.fa)
      fas.emplace(name,
                  std::make_unique<migration::HttpForeignAgent>(io, *site.fa, site.fa_token, cfg.api_tls));

  std::unique_ptr<Coupler> coupler;
  LibvirtMonitor monitor(io, cfg.libvirt_uri, cfg.reconnect_initial, cfg.reconnect_max,
                         [&coupler](DomainEvent e) { coupler->on_domain_event(e); });
  coupler = std::make_unique<Coupler>(io, cfg, monitor, ha.get(), std::move(fas));

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    log_info("stopping", {{"signal", std::to_string(sig)}});
    monitor.stop();
    io.stop();
  });
  if (auto r = monitor.start(); !r) {
    log_error("start_failed", {{"error", r.error().to_string()}});
    return 1;
  }
  log_info("started", {{"site", cfg.site},
                       {"uri", cfg.libvirt_uri},
                       {"vms", std::to_string(cfg.vms.size())},
                       {"home_agent", ha ? ha->describe() : "none"}});
  io.run();
  monitor.stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (int rc = parse_args(argc, argv, a); rc >= 0) return rc;
  auto text = config::read_text_file(a.config);
  if (!text) {
    std::cerr << "vmroam-libvirt: " << text.error().to_string() << "\n";
    return 78;
  }
  auto cfg = parse_config_text(*text);
  if (!cfg) {
    std::cerr << "vmroam-libvirt: " << a.config << ": " << cfg.error().to_string() << "\n";
    return 78;
  }
  if (a.check) {
    std::cout << to_json(*cfg).dump(2) << "\n";
    return 0;
  }
  LogLevel level = LogLevel::info;
  if (!parse_log_level(cfg->log_level, level)) level = LogLevel::info;
  set_log_level(a.verbose ? LogLevel::debug : level);
  // A write to a closed API socket must be an error, not the end of the daemon.
  std::signal(SIGPIPE, SIG_IGN);
  return run(*cfg);
}
