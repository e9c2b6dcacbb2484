// HomeLink: the home agent's duties on the home link for VMs that are away (RFC 5944 §4.6).
//
// While a VM is away the HA answers ARP for its home address (a per-address proxy-ARP entry,
// NTF_PROXY, owned by an RAII handle and tagged ours) and, when the VM leaves, sends a
// gratuitous ARP pointing the link's caches at the HA's MAC; when the VM comes home, one with
// the VM's own MAC, and one for each of our own addresses on the link whose subnet holds the
// VM's home address (the VM's gateway when the HA is the home router): a VM arriving home
// may hold an unusable entry for its gateway — INCOMPLETE, its first ARP request lost while
// its link came up (the next goes 1 s later, retrans_time), or the FA's MAC in the FA's `garp`
// gateway mode — and a gratuitous ARP replaces what a neighbour holds at once (RFC 5227 §3;
// RFC 826 updates existing entries only, so it creates nothing the VM did not ask for). Our
// addresses are read when the link is opened. At start-up our proxy entries on the link are
// reconciled against the bindings: those no binding explains go.
//
// Dual-stack VMs (docs/protocol.md "Dual-stack VMs"): the same for each IPv6 home address the
// binding was granted, as a Mobile IPv6 home agent does (RFC 6275 §10.4.1): a proxy-NDP entry
// (NTF_PROXY, family AF_INET6) and an unsolicited Neighbor Advertisement with O = 1 and our
// MAC when the VM leaves (proxy answers carry O = 0 and would not override what neighbours
// cached); on its return, the entries go and an NA carries the VM's own MAC. The kernel answers
// for the entries only with proxy_ndp on (the daemon sets it, docs/home-agent.md).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/core/address.hpp"
#include "common/core/address6.hpp"
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
  // Start-up: adopts our proxy entries on the link for the addresses `bound` (IPv4) and
  // `bound6` (IPv6) name, removes the others (a crashed predecessor's).
  void reconcile(
      const std::function<bool(Ipv4)>& bound,
      const std::function<bool(const Ipv6&)>& bound6 = [](const Ipv6&) { return false; });
  // The VM left (or its binding was restored): proxy ARP for its address; the first time, a
  // gratuitous ARP with our MAC.
  void attract(Ipv4 hoa);
  // Its binding went: no more proxy ARP. With `vm_mac` (the VM is home again) a gratuitous ARP
  // gives the link its MAC back, and ours re-announce the gateway to the VM.
  void release(Ipv4 hoa, const MacAddress* vm_mac);
  // The same for IPv6 home addresses: proxy NDP and, the first time, an unsolicited NA with
  // our MAC; on release the entries go and, with `vm_mac`, NAs give the link the VM's MAC.
  void attract6(const std::vector<Ipv6>& addresses);
  void release6(const std::vector<Ipv6>& addresses, const MacAddress* vm_mac);
  // Clean shutdown: every proxy entry goes (RAII).
  void clear() {
    proxies_.clear();
    proxies6_.clear();
  }

  [[nodiscard]] bool proxying(Ipv4 hoa) const { return proxies_.contains(hoa); }
  [[nodiscard]] bool proxying6(const Ipv6& hoa) const { return proxies6_.contains(hoa); }

 private:
  void announce(Ipv4 hoa, const MacAddress& mac);
  void announce6(const Ipv6& hoa, const MacAddress& mac);

  dataplane::Netlink& netlink_;
  std::function<void(ByteView)> send_frame_;
  int ifindex_ = 0;
  MacAddress mac_;
  std::vector<Ipv4Prefix> addresses_;  // ours on the link (with their subnets), from open()
  std::map<Ipv4, dataplane::OwnedProxyNeighbour> proxies_;
  std::map<Ipv6, dataplane::OwnedProxyNeighbour6> proxies6_;
};

}  // namespace vmroam::ha
