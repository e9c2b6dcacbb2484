// Least privilege after start-up: once its sockets, TUN device and files are open, a daemon
// keeps only CAP_NET_ADMIN (routes, neighbours, rules) and CAP_NET_RAW (raw/packet sockets),
// in its permitted, effective and bounding sets, so nothing it runs later can regain more.
#pragma once

#include "common/core/result.hpp"

namespace vmroam::daemon {

// Errors: "capabilities_failed" naming the step. Without CAP_SETPCAP (not root) there is
// nothing to drop: "not_privileged" — callers may treat that as fine.
[[nodiscard]] Result<void> keep_only_network_capabilities();

// Whether the calling thread's effective set holds exactly CAP_NET_ADMIN and CAP_NET_RAW.
[[nodiscard]] bool holds_only_network_capabilities();

}  // namespace vmroam::daemon
