// Netlink: the routing-configuration seam (routes, proxy-neighbour entries, policy rules,
// links), with one libnl-3 implementation and a fake (tests/fakes/fake_netlink.hpp).
//
// Everything vmroam creates in the kernel is tagged so that a restarted daemon can find what
// a crashed predecessor left behind (list_owned) and reconcile it against its binding store:
//   * routes: protocol kRouteProtocol (186, "vmroam"), in a table from config;
//   * proxy-neighbour entries: NDA_PROTOCOL 186 as well (kernel ≥ 5.2 keeps it for pneigh);
//   * neighbour entries (the FA's pre-seeded HoA → VM MAC): NDA_PROTOCOL 186, NUD_STALE;
//   * policy rules: priority in [kRulePriorityBase, kRulePriorityBase + kRulePriorityRange)
//     and FRA_PROTOCOL 186;
//   * links: names prefixed "vmr".
// Each object we create is held by an Owned<T> RAII handle that removes it on destruction;
// release() hands it over without removal (e.g. on a graceful restart that keeps state).
//
// Why NTF_PROXY entries instead of the interface-wide proxy_arp sysctl: the HA must answer
// ARP only for HoAs that are away, per address (RFC 5944 §4.6, docs/home-agent.md).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/core/address.hpp"
#include "common/core/address6.hpp"
#include "common/core/result.hpp"

struct nl_sock;  // libnl, global namespace

namespace vmroam::dataplane {

inline constexpr std::uint8_t kRouteProtocol = 186;        // our RTPROT_* tag ("vmroam")
inline constexpr std::uint32_t kDefaultPolicyTable = 186;  // FA reverse-tunnel table
inline constexpr std::uint32_t kMainTable = 254;           // RT_TABLE_MAIN
inline constexpr std::uint32_t kRulePriorityBase = 1860;
inline constexpr std::uint32_t kRulePriorityRange = 100;  // 1860..1959 are ours
inline constexpr std::string_view kLinkPrefix = "vmr";

// dst/len dev ifindex table T proto 186 (scope link: the device is point-to-point or on-link).
struct Route {
  Ipv4Prefix dst;
  int ifindex = 0;
  std::uint32_t table = kMainTable;
  friend bool operator==(const Route&, const Route&) = default;
};

// The IPv6 twins of Route and PolicyRule, for dual-stack VMs' IPv6 home addresses (the
// data plane steers them as it steers the IPv4 HoA; docs/dataplane.md "IPv6").
struct Route6 {
  Ipv6Prefix dst;
  int ifindex = 0;
  std::uint32_t table = kMainTable;
  friend bool operator==(const Route6&, const Route6&) = default;
};

// `ip neigh add proxy <address> dev <ifindex>`
struct ProxyNeighbour {
  Ipv4 address;
  int ifindex = 0;
  friend bool operator==(const ProxyNeighbour&, const ProxyNeighbour&) = default;
};

// `ip -6 neigh add proxy <address> dev <ifindex>`: the home agent answers Neighbor
// Solicitations for an away VM's IPv6 home address (RFC 6275 §10.4.1). The kernel answers only
// with net.ipv6.conf.all.proxy_ndp = 1 (docs/home-agent.md "Dual-stack VMs").
struct ProxyNeighbour6 {
  Ipv6 address;
  int ifindex = 0;
  friend bool operator==(const ProxyNeighbour6&, const ProxyNeighbour6&) = default;
};

// `ip neigh replace <address> lladdr <mac> dev <ifindex> nud stale protocol 186`: a neighbour
// entry we seed because we already know the MAC (the FA's visitor), so the kernel's first
// packet does not wait for ARP. NUD_STALE, not REACHABLE or PERMANENT: STALE is usable at once
// (the first packet goes out and the entry enters DELAY), and the kernel then confirms it with
// its own unicast probe (RFC 1122 §2.3.2.1 cache validation) instead of trusting us forever.
struct Neighbour {
  Ipv4 address;
  MacAddress mac;
  int ifindex = 0;
  friend bool operator==(const Neighbour&, const Neighbour&) = default;
};

// `ip -6 neigh replace <address> lladdr <mac> dev <ifindex> nud stale protocol 186`: the same
// for a dual-stack VM's IPv6 home address (RFC 4861 §7.3.2: STALE is usable at once and the
// kernel confirms it with its own unicast Neighbor Solicitation).
struct Neighbour6 {
  Ipv6 address;
  MacAddress mac;
  int ifindex = 0;
  friend bool operator==(const Neighbour6&, const Neighbour6&) = default;
};

// `ip rule add from <from>/32 [iif <iif>] lookup <table> priority <priority>`
struct PolicyRule {
  Ipv4Prefix from;
  std::string iif;  // empty: any input interface
  std::uint32_t table = kDefaultPolicyTable;
  std::uint32_t priority = kRulePriorityBase;
  friend bool operator==(const PolicyRule&, const PolicyRule&) = default;
};

struct PolicyRule6 {
  Ipv6Prefix from;
  std::string iif;  // empty: any input interface
  std::uint32_t table = kDefaultPolicyTable;
  std::uint32_t priority = kRulePriorityBase;
  friend bool operator==(const PolicyRule6&, const PolicyRule6&) = default;
};

struct LinkInfo {
  int ifindex = 0;
  std::string name;
  MacAddress mac;
  unsigned mtu = 0;
  bool up = false;
  std::vector<Ipv4Prefix> addresses;
};

// What list_owned() found: candidates for start-up reconciliation.
struct OwnedObjects {
  std::vector<Route> routes;
  std::vector<ProxyNeighbour> proxies;
  std::vector<PolicyRule> rules;
  std::vector<LinkInfo> links;
  std::vector<Neighbour> neighbours;      // NDA_PROTOCOL 186 (not proxy) on one of our_ifindexes
  std::vector<ProxyNeighbour6> proxies6;  // as `proxies`, for IPv6
  std::vector<Route6> routes6;            // as `routes`, for IPv6
  std::vector<PolicyRule6> rules6;        // as `rules`, for IPv6
  std::vector<Neighbour6> neighbours6;    // as `neighbours`, for IPv6
};

class Netlink {
 public:
  virtual ~Netlink() = default;
  // "exists" when an identical object is already there (so callers can adopt it).
  virtual Result<void> add_route(const Route& r) = 0;
  virtual Result<void> remove_route(const Route& r) = 0;
  virtual Result<void> add_proxy_neighbour(const ProxyNeighbour& p) = 0;
  virtual Result<void> remove_proxy_neighbour(const ProxyNeighbour& p) = 0;
  virtual Result<void> add_rule(const PolicyRule& r) = 0;
  virtual Result<void> remove_rule(const PolicyRule& r) = 0;
  // Creates or replaces (NLM_F_REPLACE: the kernel may have learnt the address already) the
  // entry, tagged and NUD_STALE; remove deletes it by address and device. Not pure: only the
  // FA seeds neighbours, and seams that never do (the HA's benchmark kernel) need not care.
  virtual Result<void> add_neighbour(const Neighbour& n) {
    return fail("unsupported", "add_neighbour " + n.address.to_string());
  }
  virtual Result<void> remove_neighbour(const Neighbour& n) {
    return fail("unsupported", "remove_neighbour " + n.address.to_string());
  }
  // The same for IPv6 (a dual-stack visitor's home addresses at the FA).
  virtual Result<void> add_neighbour6(const Neighbour6& n) {
    return fail("unsupported", "add_neighbour6 " + n.address.to_string());
  }
  virtual Result<void> remove_neighbour6(const Neighbour6& n) {
    return fail("unsupported", "remove_neighbour6 " + n.address.to_string());
  }
  // IPv6 proxy entries (NTF_PROXY, tagged). Only the home agent of dual-stack VMs makes them;
  // seams that never do need not care.
  virtual Result<void> add_proxy_neighbour6(const ProxyNeighbour6& p) {
    return fail("unsupported", "add_proxy_neighbour6 " + p.address.to_string());
  }
  virtual Result<void> remove_proxy_neighbour6(const ProxyNeighbour6& p) {
    return fail("unsupported", "remove_proxy_neighbour6 " + p.address.to_string());
  }
  // IPv6 routes and rules (same tags as their IPv4 twins). Only the data plane of dual-stack
  // VMs makes them; seams that never do need not care.
  virtual Result<void> add_route6(const Route6& r) {
    return fail("unsupported", "add_route6 " + r.dst.to_string());
  }
  virtual Result<void> remove_route6(const Route6& r) {
    return fail("unsupported", "remove_route6 " + r.dst.to_string());
  }
  virtual Result<void> add_rule6(const PolicyRule6& r) {
    return fail("unsupported", "add_rule6 " + r.from.to_string());
  }
  virtual Result<void> remove_rule6(const PolicyRule6& r) {
    return fail("unsupported", "remove_rule6 " + r.from.to_string());
  }
  // Up/down and MTU (0 = leave as is).
  virtual Result<void> set_link(int ifindex, bool up, unsigned mtu) = 0;
  virtual Result<void> delete_link(int ifindex) = 0;
  virtual Result<LinkInfo> link(std::string_view name) = 0;
  virtual Result<LinkInfo> link(int ifindex) = 0;
  // Routes with protocol 186 (any table), proxy entries with protocol 186 or on one of
  // `our_ifindexes`, neighbour entries with protocol 186 on one of `our_ifindexes`, rules
  // whose priority is in our range, links named vmr*.
  virtual Result<OwnedObjects> list_owned(const std::vector<int>& our_ifindexes) = 0;
};

// The real thing: libnl-3 / libnl-route-3 over one NETLINK_ROUTE socket.
// create() fails only at start-up (no netlink socket); every method returns Result.
class LibnlNetlink final : public Netlink {
 public:
  static Result<std::unique_ptr<LibnlNetlink>> create();
  ~LibnlNetlink() override;
  LibnlNetlink(const LibnlNetlink&) = delete;
  LibnlNetlink& operator=(const LibnlNetlink&) = delete;

  Result<void> add_route(const Route& r) override;
  Result<void> remove_route(const Route& r) override;
  Result<void> add_proxy_neighbour(const ProxyNeighbour& p) override;
  Result<void> remove_proxy_neighbour(const ProxyNeighbour& p) override;
  Result<void> add_rule(const PolicyRule& r) override;
  Result<void> remove_rule(const PolicyRule& r) override;
  Result<void> add_neighbour(const Neighbour& n) override;
  Result<void> remove_neighbour(const Neighbour& n) override;
  Result<void> add_neighbour6(const Neighbour6& n) override;
  Result<void> remove_neighbour6(const Neighbour6& n) override;
  Result<void> add_proxy_neighbour6(const ProxyNeighbour6& p) override;
  Result<void> remove_proxy_neighbour6(const ProxyNeighbour6& p) override;
  Result<void> add_route6(const Route6& r) override;
  Result<void> remove_route6(const Route6& r) override;
  Result<void> add_rule6(const PolicyRule6& r) override;
  Result<void> remove_rule6(const PolicyRule6& r) override;
  Result<void> set_link(int ifindex, bool up, unsigned mtu) override;
  Result<void> delete_link(int ifindex) override;
  Result<LinkInfo> link(std::string_view name) override;
  Result<LinkInfo> link(int ifindex) override;
  Result<OwnedObjects> list_owned(const std::vector<int>& our_ifindexes) override;

  // Creates an ipip device `name` local→remote (RFC 2003 in the kernel); returns its ifindex.
  // Fails with code "ipip_unavailable" when the kernel has no ipip module.
  Result<int> add_ipip_link(const std::string& name, Ipv4 local, Ipv4 remote, std::uint8_t ttl);

  ::nl_sock* socket() { return sock_; }

 private:
  explicit LibnlNetlink(::nl_sock* s) : sock_(s) {}
  ::nl_sock* sock_;
};

// The message for a missing ipip module, shared by the kernel driver and its test.
inline constexpr std::string_view kIpipUnavailableMessage =
    "kernel module ipip not available (use dataplane driver \"userspace\")";

// Removal for each object kind, so Owned<T> is one template.
inline Result<void> remove_object(Netlink& nl, const Route& r) { return nl.remove_route(r); }
inline Result<void> remove_object(Netlink& nl, const ProxyNeighbour& p) {
  return nl.remove_proxy_neighbour(p);
}
inline Result<void> remove_object(Netlink& nl, const PolicyRule& r) { return nl.remove_rule(r); }
inline Result<void> remove_object(Netlink& nl, const Neighbour& n) { return nl.remove_neighbour(n); }
inline Result<void> remove_object(Netlink& nl, const Neighbour6& n) { return nl.remove_neighbour6(n); }
inline Result<void> remove_object(Netlink& nl, const ProxyNeighbour6& p) {
  return nl.remove_proxy_neighbour6(p);
}
inline Result<void> remove_object(Netlink& nl, const Route6& r) { return nl.remove_route6(r); }
inline Result<void> remove_object(Netlink& nl, const PolicyRule6& r) { return nl.remove_rule6(r); }
inline Result<void> add_object(Netlink& nl, const Route6& r) { return nl.add_route6(r); }
inline Result<void> add_object(Netlink& nl, const PolicyRule6& r) { return nl.add_rule6(r); }
inline Result<void> add_object(Netlink& nl, const Route& r) { return nl.add_route(r); }
inline Result<void> add_object(Netlink& nl, const ProxyNeighbour& p) { return nl.add_proxy_neighbour(p); }
inline Result<void> add_object(Netlink& nl, const PolicyRule& r) { return nl.add_rule(r); }
inline Result<void> add_object(Netlink& nl, const Neighbour& n) { return nl.add_neighbour(n); }
inline Result<void> add_object(Netlink& nl, const Neighbour6& n) { return nl.add_neighbour6(n); }
inline Result<void> add_object(Netlink& nl, const ProxyNeighbour6& p) { return nl.add_proxy_neighbour6(p); }

// RAII owner of one kernel object we created. Move-only. The Netlink must outlive it.
template <typename T>
class Owned {
 public:
  Owned() = default;
  // Creates the object; an identical existing one (left by a predecessor) is adopted.
  static Result<Owned> create(Netlink& nl, T object) {
    auto r = add_object(nl, object);
    if (!r && r.error().code != "exists") return fail(r.error());
    return Owned(nl, std::move(object));
  }
  // Takes ownership of an object found by list_owned() (reconciliation).
  static Owned adopt(Netlink& nl, T object) { return Owned(nl, std::move(object)); }
  Owned(Owned&& o) noexcept : nl_(std::exchange(o.nl_, nullptr)), object_(std::move(o.object_)) {}
  Owned& operator=(Owned&& o) noexcept {
    if (this != &o) {
      (void)reset();  // errors ignored, as in the destructor: see reset()
      nl_ = std::exchange(o.nl_, nullptr);
      object_ = std::move(o.object_);
    }
    return *this;
  }
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  ~Owned() { (void)reset(); }  // errors ignored: see reset()

  // Removes now; errors are returned (the destructor ignores them: the object may already be
  // gone, e.g. its link was deleted, which removes routes and proxies with it).
  Result<void> reset() {
    if (!nl_) return ok();
    auto* nl = std::exchange(nl_, nullptr);
    return remove_object(*nl, object_);
  }
  // Keeps the kernel object, forgets it.
  T release() {
    nl_ = nullptr;
    return object_;
  }
  [[nodiscard]] bool owns() const { return nl_ != nullptr; }
  [[nodiscard]] const T& get() const { return object_; }

 private:
  Owned(Netlink& nl, T object) : nl_(&nl), object_(std::move(object)) {}
  Netlink* nl_ = nullptr;
  T object_{};
};

using OwnedRoute = Owned<Route>;
using OwnedProxyNeighbour = Owned<ProxyNeighbour>;
using OwnedRule = Owned<PolicyRule>;
using OwnedNeighbour = Owned<Neighbour>;
using OwnedNeighbour6 = Owned<Neighbour6>;
using OwnedProxyNeighbour6 = Owned<ProxyNeighbour6>;
using OwnedRoute6 = Owned<Route6>;
using OwnedRule6 = Owned<PolicyRule6>;

}  // namespace vmroam::dataplane
