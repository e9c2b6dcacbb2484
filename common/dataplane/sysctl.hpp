// Sysctl: writes kernel parameters as files under /proc/sys (sysctls are files; no exec).
//
// What the agents set (docs/dataplane.md): net/ipv4/ip_forward 1; per interface
// net/ipv4/conf/<if>/forwarding 1 and rp_filter 0 (tunnel and VM-facing links: decapsulated
// packets arrive with sources the reverse path does not lead back to);
// net/ipv4/neigh/<if>/proxy_delay 0 (otherwise proxy ARP replies wait up to 0.8 s).
//
// Restoring on shutdown: the daemon does NOT restore by default. ip_forward and friends are
// properties of a router that usually needed them before vmroam started and needs them after
// (turning forwarding off on exit would cut a router off). Per-interface values on our own
// links vanish with the links. restore() exists for tests and for a daemon configured to
// undo its changes; it writes back every previous value, last change first.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/core/result.hpp"

namespace vmroam::dataplane {

class Sysctl {
 public:
  explicit Sysctl(std::string root = "/proc/sys") : root_(std::move(root)) {}
  // key uses slashes ("net/ipv4/conf/eth0.100/rp_filter": interface names may hold dots).
  // Returns the previous value (trimmed). Writing the current value records nothing.
  Result<std::string> set(std::string_view key, std::string_view value);
  Result<std::string> get(std::string_view key) const;
  // Writes back what set() changed, newest first; returns the first error (and goes on).
  Result<void> restore();
  [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& changed() const { return changed_; }

 private:
  std::string root_;
  std::vector<std::pair<std::string, std::string>> changed_;  // key, previous value
};

// RAII for settings that must not outlive the daemon that needed them: writes each value and
// writes the previous ones back when it goes (newest first). The home agent's proxy NDP
// settings are such: net.ipv6.conf.all.proxy_ndp is host-wide, and a host that did not proxy
// Neighbor Discovery before vmroam must not go on doing so after it (docs/home-agent.md).
class SysctlGuard {
 public:
  explicit SysctlGuard(std::string root = "/proc/sys") : sysctl_(std::move(root)) {}
  SysctlGuard(const SysctlGuard&) = delete;
  SysctlGuard& operator=(const SysctlGuard&) = delete;
  ~SysctlGuard() { (void)sysctl_.restore(); }
  // As Sysctl::set; what it changed is restored by the destructor.
  Result<std::string> set(std::string_view key, std::string_view value) { return sysctl_.set(key, value); }
  [[nodiscard]] const Sysctl& sysctl() const { return sysctl_; }

 private:
  Sysctl sysctl_;
};

}  // namespace vmroam::dataplane
