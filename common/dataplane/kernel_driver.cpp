// KernelDriver: see kernel_driver.hpp.
#include "common/dataplane/kernel_driver.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace vmroam::dataplane {

std::string KernelDriver::link_name(Ipv4 peer) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "vmr%08x", peer.value());
  return buf;
}

bool KernelDriver::ipip_available() {
  struct stat st {};
  if (::stat("/sys/module/ipip", &st) == 0) return true;
  std::ifstream modules("/proc/modules");
  std::string line;
  while (std::getline(modules, line))
    if (line.starts_with("ipip ")) return true;
  return false;
}

Result<std::unique_ptr<KernelDriver>> KernelDriver::create(LibnlNetlink& nl, KernelConfig config) {
  if (!ipip_available()) return fail("ipip_unavailable", std::string(kIpipUnavailableMessage));
  return std::unique_ptr<KernelDriver>(new KernelDriver(nl, std::move(config)));
}

KernelDriver::KernelDriver(LibnlNetlink& nl, KernelConfig config)
    : nl_(nl), config_(std::move(config)), steering_(nl, [&] {
        auto s = config_.steering;
        s.key = config_.key;
        return s;
      }()) {}

KernelDriver::~KernelDriver() {
  steering_.clear();
  // Shutting down: a device already gone is what we want; there is no one to tell otherwise.
  for (const auto& [peer, ifindex] : devices_) {
    [[maybe_unused]] const auto deleted = nl_.delete_link(ifindex);
  }
}

Result<void> KernelDriver::add_tunnel_endpoint(const TunnelEndpoint& e) {
  if (e.encapsulation != Encapsulation::ipip)
    return fail("unsupported",
                "kernel driver does IP-in-IP only; use dataplane driver \"userspace\" for UDP");
  if (devices_.contains(e.peer)) return ok();
  VMROAM_TRY(int ifindex, nl_.add_ipip_link(link_name(e.peer), config_.local, e.peer, config_.ttl));
  VMROAM_TRY_VOID(nl_.set_link(ifindex, true, 0));
  devices_[e.peer] = ifindex;
  stats_.peers.emplace_back(e.peer, PeerCounters{});
  return ok();
}

Result<void> KernelDriver::remove_tunnel_endpoint(Ipv4 peer) {
  auto it = devices_.find(peer);
  if (it == devices_.end()) return fail("unknown_peer", peer.to_string());
  // Deleting the device below removes the routes through it anyway: a failed unsteer is moot.
  for (auto r = routes_.begin(); r != routes_.end();) {
    if (r->second == peer) {
      [[maybe_unused]] const auto unsteered = steering_.unsteer(r->first);
      r = routes_.erase(r);
    } else {
      ++r;
    }
  }
  auto res = nl_.delete_link(it->second);
  devices_.erase(it);
  std::erase_if(stats_.peers, [&](const auto& p) { return p.first == peer; });
  return res;
}

Result<void> KernelDriver::route(Ipv4 hoa, Ipv4 peer) {
  auto it = devices_.find(peer);
  if (it == devices_.end()) return fail("unknown_peer", peer.to_string());
  VMROAM_TRY_VOID(steering_.steer(hoa, it->second));
  routes_[hoa] = peer;
  return ok();
}

Result<void> KernelDriver::unroute(Ipv4 hoa) {
  if (!routes_.erase(hoa)) return fail("no_route", hoa.to_string());
  return steering_.unsteer(hoa);
}

}  // namespace vmroam::dataplane
