// FaDaemon: the real world around ForeignAgent — the io_context, libnl, the tunnel driver
// (reverse tunnel keyed by inner source), the UDP 434 port, the buffer TUN, the VM link (pcap
// watch + inject, macvlan anycast gateway links), the HTTP API, signals and capabilities.
//
// Start-up order (and shutdown in reverse): netlink → sysctls (forwarding, proxy_delay 0 and
// rp_filter 0 on the VM link) → store → UDP port (bound, not yet read) → tunnel driver →
// buffer TUN → VM link → ForeignAgent::start() (restore + reconcile) → API → drop
// capabilities → read UDP. Signals: SIGTERM/SIGINT stop cleanly; SIGHUP re-reads the config.
#pragma once

#include <string>

#include "foreign-agent/config.hpp"

namespace vmroam::fa {

struct DaemonOptions {
  std::string config_path;
  bool keep_capabilities = false;  // --no-drop-caps, for debugging under a debugger
};

// Runs until stopped. Returns the exit code (0 clean stop, 1 start-up failure, 2 fatal error).
int run_daemon(const FaConfig& config, const DaemonOptions& options);

}  // namespace vmroam::fa
