// HaDaemon: the real world around HomeAgent — the io_context, libnl, the tunnel driver, the
// UDP 434 port, the home-link packet socket, the HTTP API, signals and capabilities.
//
// Start-up order (and shutdown in reverse): config → netlink → sysctls (forwarding, proxy_delay
// 0 on the home link) → store → UDP port (bound, not yet read) → tunnel driver → packet socket
// → HomeAgent::start() (restore + reconcile) → API → drop capabilities → read UDP. So nothing
// is answered before the restored state is in the kernel.
// Signals: SIGTERM/SIGINT stop cleanly; SIGHUP re-reads the config file (all or nothing).
#pragma once

#include <string>

#include "home-agent/config.hpp"

namespace vmroam::ha {

struct DaemonOptions {
  std::string config_path;
  bool keep_capabilities = false;  // --no-drop-caps, for debugging under a debugger
};

// Runs until stopped. Returns the process exit code (0 clean stop, 1 start-up failure,
// 2 fatal error while running).
int run_daemon(const HaConfig& config, const DaemonOptions& options);

}  // namespace vmroam::ha
