// The home agent's daemon: the real world around HomeAgent — libnl, the tunnel driver, the
// UDP 434 port, the home-link packet socket and capture, the HTTP API — on the runner's one
// io_context (common/daemon/runner.hpp: argv, signals, reload, exit status).
//
// Start-up order (and shutdown in reverse): netlink → home link → sysctls (forwarding,
// proxy_delay 0 on the home link) → store → UDP port (bound, not yet read) → tunnel driver →
// packet socket → HomeAgent::start() (restore + reconcile) → API → [runner: drop
// capabilities] → read UDP. So nothing is answered before the restored state is in the kernel.
#pragma once

#include <memory>

#include "common/daemon/runner.hpp"
#include "home-agent/config.hpp"

namespace vmroam::ha {

// Opens everything in start-up order; errors name the step that failed. The daemon's
// on_fatal (a store that can no longer make a registration durable) ends the process with 2.
[[nodiscard]] Result<std::unique_ptr<daemon::Service<HaConfig>>> start_daemon(const HaConfig& config,
                                                                              const daemon::Context& context);

}  // namespace vmroam::ha
