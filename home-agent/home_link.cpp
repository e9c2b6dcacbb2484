// HomeLink: see home_link.hpp.
#include "home-agent/home_link.hpp"

#include "common/core/log.hpp"
#include "common/wire/ethernet.hpp"

namespace vmroam::ha {

Result<void> HomeLink::open(const std::string& ifname) {
  auto link = netlink_.link(ifname);
  if (!link) return fail("home_interface_missing", ifname + ": " + link.error().to_string());
  ifindex_ = link->ifindex;
  mac_ = link->mac;
  return ok();
}

void HomeLink::reconcile(const std::function<bool(Ipv4)>& bound) {
  auto owned = netlink_.list_owned({ifindex_});
  if (!owned) {
    log_warn("kernel_state_unreadable", {{"reason", owned.error().to_string()}});
    return;
  }
  for (const auto& p : owned->proxies) {
    if (p.ifindex != ifindex_) continue;
    if (bound(p.address)) {
      proxies_.emplace(p.address, dataplane::OwnedProxyNeighbour::adopt(netlink_, p));
      continue;
    }
    log_info("stale_proxy_removed", {{"address", p.address.to_string()}});
    if (auto r = netlink_.remove_proxy_neighbour(p); !r)
      log_warn("stale_proxy_not_removed",
               {{"address", p.address.to_string()}, {"reason", r.error().to_string()}});
  }
}

void HomeLink::attract(Ipv4 hoa) {
  if (proxies_.contains(hoa) || ifindex_ <= 0) return;
  auto p = dataplane::OwnedProxyNeighbour::create(netlink_, {hoa, ifindex_});
  if (!p) {
    log_error("proxy_arp_failed", {{"hoa", hoa.to_string()}, {"reason", p.error().to_string()}});
    return;
  }
  proxies_.emplace(hoa, std::move(*p));
  // The VM left: point the home link's caches at us now (RFC 5944 §4.6).
  announce(hoa, mac_);
}

void HomeLink::release(Ipv4 hoa, const MacAddress* vm_mac) {
  proxies_.erase(hoa);
  // The VM is home again: point the caches back at its own MAC (RFC 5944 §4.6).
  if (vm_mac) announce(hoa, *vm_mac);
}

void HomeLink::announce(Ipv4 hoa, const MacAddress& mac) {
  if (!send_frame_ || mac.is_zero()) return;
  const Bytes frame = wire::build_gratuitous_arp(mac, hoa);
  send_frame_(frame);
}

}  // namespace vmroam::ha
