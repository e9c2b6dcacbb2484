// Lean fake kernel seams for the registration benchmark (bench/ha_registrations.cpp).
//
// Same contract as tests/fakes/fake_netlink.hpp and fake_tunnel_driver.hpp (duplicate add →
// "exists", remove of a missing object → "not_found"/"unknown_peer", route needs an
// endpoint), but with hash tables and no call log: the test fakes record every call as a
// string and keep proxies in a vector, which at 100 k bindings would make the fake, not the
// home agent, dominate both the time (linear search per proxy entry) and the memory per
// binding the benchmark reports. These fakes cost a hash node per proxy entry and per route;
// the benchmark measures and reports that separately.
#pragma once

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/dataplane/netlink.hpp"
#include "common/dataplane/tunnel_driver.hpp"

namespace vmroam::bench {

class LeanNetlink final : public dataplane::Netlink {
 public:
  explicit LeanNetlink(dataplane::LinkInfo home) : home_(std::move(home)) {}

  Result<void> add_route(const dataplane::Route&) override { return ok(); }
  Result<void> remove_route(const dataplane::Route&) override { return ok(); }
  Result<void> add_proxy_neighbour(const dataplane::ProxyNeighbour& p) override {
    if (!proxies_.insert(key(p)).second) return fail("exists", "add_proxy_neighbour");
    return ok();
  }
  Result<void> remove_proxy_neighbour(const dataplane::ProxyNeighbour& p) override {
    if (!proxies_.erase(key(p))) return fail("not_found", "remove_proxy_neighbour");
    return ok();
  }
  Result<void> add_rule(const dataplane::PolicyRule&) override { return ok(); }
  Result<void> remove_rule(const dataplane::PolicyRule&) override { return ok(); }
  Result<void> set_link(int, bool, unsigned) override { return ok(); }
  Result<void> delete_link(int) override { return ok(); }
  Result<dataplane::LinkInfo> link(std::string_view name) override {
    if (name == home_.name) return home_;
    return fail("no_such_link", std::string(name));
  }
  Result<dataplane::LinkInfo> link(int ifindex) override {
    if (ifindex == home_.ifindex) return home_;
    return fail("no_such_link", std::to_string(ifindex));
  }
  Result<dataplane::OwnedObjects> list_owned(const std::vector<int>&) override {
    dataplane::OwnedObjects o;
    for (auto k : proxies_)
      o.proxies.push_back({Ipv4(static_cast<std::uint32_t>(k)), static_cast<int>(k >> 32)});
    return o;
  }
  [[nodiscard]] std::size_t proxy_count() const { return proxies_.size(); }

 private:
  static std::uint64_t key(const dataplane::ProxyNeighbour& p) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(p.ifindex)) << 32) | p.address.value();
  }
  dataplane::LinkInfo home_;
  std::unordered_set<std::uint64_t> proxies_;
};

class LeanTunnelDriver final : public dataplane::TunnelDriver {
 public:
  Result<void> add_tunnel_endpoint(const dataplane::TunnelEndpoint& e) override {
    endpoints_[e.peer] = e;
    return ok();
  }
  Result<void> remove_tunnel_endpoint(Ipv4 peer) override {
    if (!endpoints_.erase(peer)) return fail("unknown_peer", peer.to_string());
    std::erase_if(routes_, [&](const auto& kv) { return kv.second == peer; });
    return ok();
  }
  Result<void> route(Ipv4 hoa, Ipv4 peer) override {
    if (!endpoints_.contains(peer)) return fail("unknown_peer", peer.to_string());
    routes_[hoa] = peer;
    return ok();
  }
  Result<void> unroute(Ipv4 hoa) override {
    if (!routes_.erase(hoa)) return fail("no_route", hoa.to_string());
    return ok();
  }
  [[nodiscard]] dataplane::TunnelStats stats() const override { return {}; }
  void end_grace(Ipv4) override {}
  void handle_udp_tunnel_payload(Ipv4, std::uint16_t, ByteView) override {}
  [[nodiscard]] std::string_view name() const override { return "fake"; }
  [[nodiscard]] std::size_t route_count() const { return routes_.size(); }

 private:
  std::unordered_map<Ipv4, dataplane::TunnelEndpoint> endpoints_;
  std::unordered_map<Ipv4, Ipv4> routes_;
};

}  // namespace vmroam::bench
