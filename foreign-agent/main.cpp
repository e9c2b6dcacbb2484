// vmroam-fa: parse argv, load the config, run the daemon, map the outcome to an exit code.
#include <cstdio>
#include <cstring>
#include <string>

#include "common/config/json_reader.hpp"
#include "foreign-agent/config.hpp"
#include "foreign-agent/daemon.hpp"

namespace {

constexpr const char* kUsage = R"(usage: vmroam-fa -c FILE [--check] [--no-drop-caps]
       vmroam-fa --help | --version

The vmroam foreign agent: registers visiting VMs with their home agents (proxy Mobile IPv4),
delivers their traffic and reverse-tunnels their replies.

  -c, --config FILE   JSON configuration (see docs/configuration.md)
  --check             validate FILE, print the normalised configuration, and exit
  --no-drop-caps      keep all capabilities (debugging only)
  -h, --help          this text
  -V, --version       print the version

Signals: SIGTERM/SIGINT stop cleanly, SIGHUP reloads FILE (all of it or none of it).
Exit status: 0 stopped cleanly, 1 bad usage/configuration or start-up failure, 2 fatal error.
)";

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  bool check = false;
  vmroam::fa::DaemonOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "-V" || a == "--version") {
      std::printf("vmroam-fa %s\n", VMROAM_VERSION);
      return 0;
    } else if ((a == "-c" || a == "--config") && i + 1 < argc) {
      config_path = argv[++i];
    } else if (a == "--check") {
      check = true;
    } else if (a == "--no-drop-caps") {
      options.keep_capabilities = true;
    } else {
      std::fprintf(stderr, "vmroam-fa: unknown argument '%s' (try --help)\n", a.c_str());
      return 1;
    }
  }
  if (config_path.empty()) {
    std::fprintf(stderr, "vmroam-fa: -c FILE is required (try --help)\n");
    return 1;
  }
  auto text = vmroam::config::read_text_file(config_path);
  if (!text) {
    std::fprintf(stderr, "vmroam-fa: %s\n", text.error().to_string().c_str());
    return 1;
  }
  auto config = vmroam::fa::parse_config_text(*text);
  if (!config) {
    std::fprintf(stderr, "vmroam-fa: %s: %s\n", config_path.c_str(), config.error().to_string().c_str());
    return 1;
  }
  if (check) {
    std::printf("%s\n", vmroam::fa::to_json(*config).dump(2).c_str());
    return 0;
  }
  options.config_path = config_path;
  return vmroam::fa::run_daemon(*config, options);
}
