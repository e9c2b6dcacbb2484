// The foreign agent's daemon: the real world around ForeignAgent — libnl, the tunnel driver
// (reverse tunnel keyed by inner source), the UDP 434 port, the buffer TUN, the VM link
// (pcap watch + inject, macvlan anycast gateway links), the HTTP API — on the runner's one
// io_context (common/daemon/runner.hpp: argv, signals, reload, exit status).
//
// Start-up order (and shutdown in reverse): netlink → VM link → sysctls (forwarding,
// proxy_delay 0 and rp_filter 0 on the VM link) → store → UDP port (bound, not yet read) →
// tunnel driver → buffer TUN → VM link capture → ForeignAgent::start() (restore + reconcile)
// → API → [runner: drop capabilities] → read UDP.
#pragma once

#include <memory>

#include "common/daemon/runner.hpp"
#include "foreign-agent/config.hpp"

namespace vmroam::fa {

// Opens everything in start-up order; errors name the step that failed.
[[nodiscard]] Result<std::unique_ptr<daemon::Service<FaConfig>>> start_daemon(const FaConfig& config,
                                                                              const daemon::Context& context);

}  // namespace vmroam::fa
