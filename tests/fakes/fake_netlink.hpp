// FakeNetlink: an in-memory kernel for the Netlink seam. Keeps routes, proxy entries,
// neighbour entries, rules and links in vectors with the kernel's add/remove semantics ("exists" on a
// duplicate, "not_found" on removing what is not there), records each call, and can fail on demand.
#pragma once

#include <algorithm>
#include <string>
#include <type_traits>
#include <vector>

#include "common/dataplane/netlink.hpp"

namespace vmroam::dataplane {

class FakeNetlink final : public Netlink {
 public:
  std::vector<Route> routes;
  std::vector<ProxyNeighbour> proxies;
  std::vector<ProxyNeighbour6> proxies6;
  std::vector<PolicyRule> rules;
  std::vector<Route6> routes6;
  std::vector<PolicyRule6> rules6;
  std::vector<LinkInfo> links;
  std::vector<Neighbour> neighbours;  // plain (not proxy) entries, keyed by address + device
  std::vector<Neighbour6> neighbours6;
  std::vector<std::string> calls;  // "add_route 10.1.0.10/32 dev 7 table 254", …
  std::string fail_next;           // name of the next call to fail with "fake_failure"

  // Each call is recorded as "<label> <describe(x)>"; `what` names it for fail_next.
  Result<void> add_route(const Route& r) override { return add(routes, r, "add_route", "add_route"); }
  Result<void> remove_route(const Route& r) override {
    return remove(routes, r, "remove_route", "remove_route");
  }
  Result<void> add_proxy_neighbour(const ProxyNeighbour& p) override {
    return add(proxies, p, "add_proxy", "add_proxy_neighbour");
  }
  Result<void> remove_proxy_neighbour(const ProxyNeighbour& p) override {
    return remove(proxies, p, "remove_proxy", "remove_proxy_neighbour");
  }
  Result<void> add_proxy_neighbour6(const ProxyNeighbour6& p) override {
    return add(proxies6, p, "add_proxy6", "add_proxy_neighbour6");
  }
  Result<void> remove_proxy_neighbour6(const ProxyNeighbour6& p) override {
    return remove(proxies6, p, "remove_proxy6", "remove_proxy_neighbour6");
  }
  // Like the kernel with NLM_F_REPLACE: an entry for the same address and device is replaced.
  Result<void> add_neighbour(const Neighbour& n) override { return replace(neighbours, n, "add_neighbour"); }
  Result<void> remove_neighbour(const Neighbour& n) override {
    return remove_keyed(neighbours, n, "remove_neighbour");
  }
  Result<void> add_neighbour6(const Neighbour6& n) override {
    return replace(neighbours6, n, "add_neighbour6");
  }
  Result<void> remove_neighbour6(const Neighbour6& n) override {
    return remove_keyed(neighbours6, n, "remove_neighbour6");
  }
  Result<void> add_rule(const PolicyRule& r) override { return add(rules, r, "add_rule", "add_rule"); }
  Result<void> remove_rule(const PolicyRule& r) override {
    return remove(rules, r, "remove_rule", "remove_rule");
  }
  Result<void> add_route6(const Route6& r) override { return add(routes6, r, "add_route6", "add_route6"); }
  Result<void> remove_route6(const Route6& r) override {
    return remove(routes6, r, "remove_route6", "remove_route6");
  }
  Result<void> add_rule6(const PolicyRule6& r) override { return add(rules6, r, "add_rule6", "add_rule6"); }
  Result<void> remove_rule6(const PolicyRule6& r) override {
    return remove(rules6, r, "remove_rule6", "remove_rule6");
  }
  Result<void> set_link(int ifindex, bool up, unsigned mtu) override {
    calls.push_back("set_link " + std::to_string(ifindex) + (up ? " up" : " down") + " mtu " +
                    std::to_string(mtu));
    if (should_fail("set_link")) return fail("fake_failure", "set_link");
    for (auto& l : links)
      if (l.ifindex == ifindex) {
        l.up = up;
        if (mtu) l.mtu = mtu;
        return ok();
      }
    return fail("not_found", std::to_string(ifindex));
  }
  Result<void> delete_link(int ifindex) override {
    calls.push_back("delete_link " + std::to_string(ifindex));
    if (should_fail("delete_link")) return fail("fake_failure", "delete_link");
    auto n = std::erase_if(links, [&](const LinkInfo& l) { return l.ifindex == ifindex; });
    // Like the kernel: objects on a deleted link go with it.
    std::erase_if(routes, [&](const Route& r) { return r.ifindex == ifindex; });
    std::erase_if(routes6, [&](const Route6& r) { return r.ifindex == ifindex; });
    std::erase_if(proxies, [&](const ProxyNeighbour& p) { return p.ifindex == ifindex; });
    std::erase_if(proxies6, [&](const ProxyNeighbour6& p) { return p.ifindex == ifindex; });
    std::erase_if(neighbours, [&](const Neighbour& x) { return x.ifindex == ifindex; });
    std::erase_if(neighbours6, [&](const Neighbour6& x) { return x.ifindex == ifindex; });
    return n ? ok() : Result<void>(fail("not_found", std::to_string(ifindex)));
  }
  Result<LinkInfo> link(std::string_view name) override {
    for (const auto& l : links)
      if (l.name == name) return l;
    return fail("no_such_link", std::string(name));
  }
  Result<LinkInfo> link(int ifindex) override {
    for (const auto& l : links)
      if (l.ifindex == ifindex) return l;
    return fail("no_such_link", std::to_string(ifindex));
  }
  Result<OwnedObjects> list_owned(const std::vector<int>& ours) override {
    OwnedObjects o;
    o.routes = routes;
    o.proxies = proxies;
    o.proxies6 = proxies6;
    o.rules = rules;
    o.routes6 = routes6;
    o.rules6 = rules6;
    for (const auto& n : neighbours)  // like the kernel dump: only on the links we name
      if (std::find(ours.begin(), ours.end(), n.ifindex) != ours.end()) o.neighbours.push_back(n);
    for (const auto& n : neighbours6)
      if (std::find(ours.begin(), ours.end(), n.ifindex) != ours.end()) o.neighbours6.push_back(n);
    for (const auto& l : links)
      if (l.name.starts_with(kLinkPrefix)) o.links.push_back(l);
    return o;
  }

  // Routes and rules read alike in both families.
  template <typename R>
  requires std::is_same_v<R, Route> || std::is_same_v<R, Route6>
  static std::string describe(const R& r) {
    return r.dst.to_string() + " dev " + std::to_string(r.ifindex) + " table " + std::to_string(r.table);
  }
  template <typename R>
  requires std::is_same_v<R, PolicyRule> || std::is_same_v<R, PolicyRule6>
  static std::string describe(const R& r) {
    return "from " + r.from.to_string() + (r.iif.empty() ? "" : " iif " + r.iif) + " lookup " +
           std::to_string(r.table) + " prio " + std::to_string(r.priority);
  }
  template <typename P>
  requires std::is_same_v<P, ProxyNeighbour> || std::is_same_v<P, ProxyNeighbour6>
  static std::string describe(const P& p) {
    return p.address.to_string() + " dev " + std::to_string(p.ifindex);
  }
  template <typename N>
  requires std::is_same_v<N, Neighbour> || std::is_same_v<N, Neighbour6>
  static std::string describe(const N& n) {
    return n.address.to_string() + " lladdr " + n.mac.to_string() + " dev " + std::to_string(n.ifindex);
  }

 private:
  template <typename N>
  static bool same_key(const N& a, const N& b) {
    return a.address == b.address && a.ifindex == b.ifindex;
  }
  // Neighbour entries: keyed by address and device, replaced in place (NLM_F_REPLACE).
  template <typename N>
  Result<void> replace(std::vector<N>& v, const N& n, const char* what) {
    calls.push_back(std::string(what) + " " + describe(n));
    if (should_fail(what)) return fail("fake_failure", what);
    std::erase_if(v, [&](const N& o) { return same_key(o, n); });
    v.push_back(n);
    return ok();
  }
  template <typename N>
  Result<void> remove_keyed(std::vector<N>& v, const N& n, const char* what) {
    calls.push_back(std::string(what) + " " + describe(n));
    if (should_fail(what)) return fail("fake_failure", what);
    auto gone = std::erase_if(v, [&](const N& o) { return same_key(o, n); });
    return gone ? ok() : Result<void>(fail("not_found", what));
  }
  bool should_fail(const std::string& what) {
    if (fail_next != what) return false;
    fail_next.clear();
    return true;
  }
  template <typename T>
  Result<void> add(std::vector<T>& v, const T& x, const char* label, const char* what) {
    calls.push_back(std::string(label) + " " + describe(x));
    if (should_fail(what)) return fail("fake_failure", what);
    if (std::find(v.begin(), v.end(), x) != v.end()) return fail("exists", what);
    v.push_back(x);
    return ok();
  }
  template <typename T>
  Result<void> remove(std::vector<T>& v, const T& x, const char* label, const char* what) {
    calls.push_back(std::string(label) + " " + describe(x));
    if (should_fail(what)) return fail("fake_failure", what);
    auto it = std::find(v.begin(), v.end(), x);
    if (it == v.end()) return fail("not_found", what);
    v.erase(it);
    return ok();
  }
};

}  // namespace vmroam::dataplane
