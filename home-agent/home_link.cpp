// HomeLink: see home_link.hpp.
#include "home-agent/home_link.hpp"

#include "common/core/log.hpp"
#include "common/wire/ethernet.hpp"
#include "common/wire/ndp.hpp"

namespace vmroam::ha {

Result<void> HomeLink::open(const std::string& ifname) {
  auto link = netlink_.link(ifname);
  if (!link) return fail("home_interface_missing", ifname + ": " + link.error().to_string());
  ifindex_ = link->ifindex;
  mac_ = link->mac;
  addresses_ = link->addresses;
  return ok();
}

void HomeLink::reconcile(const std::function<bool(Ipv4)>& bound,
                         const std::function<bool(const Ipv6&)>& bound6) {
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
  for (const auto& p : owned->proxies6) {
    if (p.ifindex != ifindex_) continue;
    if (bound6(p.address)) {
      proxies6_.emplace(p.address, dataplane::OwnedProxyNeighbour6::adopt(netlink_, p));
      continue;
    }
    log_info("stale_proxy_removed", {{"address", p.address.to_string()}});
    if (auto r = netlink_.remove_proxy_neighbour6(p); !r)
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
  if (!vm_mac) return;
  // The VM is home again: point the caches back at its own MAC (RFC 5944 §4.6), and the VM's
  // at its gateway here (the header says why): the packets released to it next are answered
  // at once instead of after its next ARP retransmission.
  announce(hoa, *vm_mac);
  for (const auto& a : addresses_)
    if (a.contains(hoa) && a.address != hoa) announce(a.address, mac_);
}

void HomeLink::attract6(const std::vector<Ipv6>& addresses) {
  if (ifindex_ <= 0) return;
  for (const auto& a : addresses) {
    if (proxies6_.contains(a)) continue;
    auto p = dataplane::OwnedProxyNeighbour6::create(netlink_, {a, ifindex_});
    if (!p) {
      log_error("proxy_ndp_failed", {{"hoa", a.to_string()}, {"reason", p.error().to_string()}});
      continue;
    }
    proxies6_.emplace(a, std::move(*p));
    // The VM left: override what the home link cached for it (RFC 6275 §10.4.1).
    announce6(a, mac_);
  }
}

void HomeLink::release6(const std::vector<Ipv6>& addresses, const MacAddress* vm_mac) {
  for (const auto& a : addresses) {
    proxies6_.erase(a);
    // The VM is home again: its neighbours learn its own MAC back (RFC 4861 §7.2.6).
    if (vm_mac) announce6(a, *vm_mac);
  }
}

void HomeLink::announce6(const Ipv6& hoa, const MacAddress& mac) {
  if (!send_frame_ || mac.is_zero()) return;
  const Bytes frame = wire::build_unsolicited_na(mac, hoa);
  send_frame_(frame);
}

void HomeLink::announce(Ipv4 hoa, const MacAddress& mac) {
  if (!send_frame_ || mac.is_zero()) return;
  const Bytes frame = wire::build_gratuitous_arp(mac, hoa);
  send_frame_(frame);
}

}  // namespace vmroam::ha
