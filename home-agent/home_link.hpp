// HomeLink: the home agent's duties on the home link for VMs that are away (RFC 5944 §4.6).
//
// While a VM is away the HA answers ARP for its home address (a per-address proxy-ARP entry,
// NTF_PROXY, owned by an RAII handle and tagged ours) and, when the VM leaves, sends a
// gratuitous ARP pointing the link's caches at the HA's MAC; when the VM comes home, one with
// the VM's own MAC. At start-up our proxy entries on the link are reconciled against the
// bindings: those no binding explains go.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "common/core/address.hpp"
#include "common/core/bytes.hpp"
#include "common/core/result.hpp"
#include "common/dataplane/netlink.hpp"

namespace vmroam::ha {

class HomeLink {
 public:
  // `send_frame` puts one Ethernet frame on the link; may be empty (no gratuitous ARP).
  HomeLink(dataplane::Netlink& netlink, std::function<void(ByteView frame)> send_frame)
      : netlink_(netlink), send_frame_(std::move(send_frame)) {}

  // Errors: "home_interface_missing" naming the interface and why.
  [[nodiscard]] Result<void> open(const std::string& ifname);
  // Start-up: adopts our proxy entries on the link for the addresses `bound` names, removes
  // the others (a crashed predecessor's).
  void reconcile(const std::function<bool(Ipv4)>& bound);
  // The VM left (or its binding was restored): proxy ARP for its address; the first time, a
  // gratuitous ARP with our MAC.
  void attract(Ipv4 hoa);
  // Its binding went: no more proxy ARP. With `vm_mac` (the VM is home again) a gratuitous ARP
  // gives the link its MAC back.
  void release(Ipv4 hoa, const MacAddress* vm_mac);
  // Clean shutdown: every proxy entry goes (RAII).
  void clear() { proxies_.clear(); }

  [[nodiscard]] bool proxying(Ipv4 hoa) const { return proxies_.contains(hoa); }

 private:
  void announce(Ipv4 hoa, const MacAddress& mac);

  dataplane::Netlink& netlink_;
  std::function<void(ByteView)> send_frame_;
  int ifindex_ = 0;
  MacAddress mac_;
  std::map<Ipv4, dataplane::OwnedProxyNeighbour> proxies_;
};

}  // namespace vmroam::ha
