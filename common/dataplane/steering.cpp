// Steering: see steering.hpp.
#include "common/dataplane/steering.hpp"

namespace vmroam::dataplane {

Result<std::uint32_t> Steering::table_for(int ifindex) {
  auto it = tables_.find(ifindex);
  if (it != tables_.end()) return it->second.get().table;
  // Lowest table number from config.table not used by another device.
  std::uint32_t table = config_.table;
  for (bool taken = true; taken;) {
    taken = false;
    for (const auto& [_, r] : tables_)
      if (r.get().table == table) {
        taken = true;
        ++table;
      }
  }
  VMROAM_TRY(auto route, OwnedRoute::create(nl_, Route{Ipv4Prefix{Ipv4(), 0}, ifindex, table}));
  tables_.emplace(ifindex, std::move(route));
  return table;
}

Result<void> Steering::steer(Ipv4 hoa, int ifindex) {
  if (config_.key == LookupKey::destination) {
    auto it = routes_.find(hoa);
    if (it != routes_.end() && it->second.get().ifindex == ifindex) return ok();
    // One /32 per table: the old route goes first. Only the kernel driver moves a HoA between
    // devices; with the userspace driver every HoA uses the TUN and this is a no-op.
    if (it != routes_.end()) {
      // A route that will not go is already gone, or create() below fails and says why.
      [[maybe_unused]] const auto removed = it->second.reset();
      routes_.erase(it);
    }
    VMROAM_TRY(auto route, OwnedRoute::create(nl_, Route{Ipv4Prefix{hoa, 32}, ifindex, config_.table}));
    routes_.emplace(hoa, std::move(route));
    return ok();
  }
  VMROAM_TRY(std::uint32_t table, table_for(ifindex));
  auto it = rules_.find(hoa);
  if (it != rules_.end() && it->second.first == ifindex) return ok();
  if (it != rules_.end()) {
    // As above: a rule that will not go is gone already, or create() below says why.
    [[maybe_unused]] const auto removed = it->second.second.reset();
    rules_.erase(it);
  }
  PolicyRule rule{Ipv4Prefix{hoa, 32}, config_.reverse_iif, table, config_.rule_priority};
  VMROAM_TRY(auto owned, OwnedRule::create(nl_, std::move(rule)));
  rules_.emplace(hoa, std::make_pair(ifindex, std::move(owned)));
  return ok();
}

Result<void> Steering::unsteer(Ipv4 hoa) {
  if (auto it = routes_.find(hoa); it != routes_.end()) {
    auto r = it->second.reset();
    routes_.erase(it);
    if (!r && r.error().code != "not_found") return r;
    return ok();
  }
  if (auto it = rules_.find(hoa); it != rules_.end()) {
    auto r = it->second.second.reset();
    rules_.erase(it);
    if (!r && r.error().code != "not_found") return r;
    return ok();
  }
  return fail("no_route", hoa.to_string());
}

Result<void> Steering::steer6(const Ipv6& hoa, int ifindex) {
  const Ipv6Prefix host{hoa, 128};
  if (config_.key == LookupKey::destination) {
    auto it = routes6_.find(hoa);
    if (it != routes6_.end() && it->second.get().ifindex == ifindex) return ok();
    if (it != routes6_.end()) {
      [[maybe_unused]] const auto removed = it->second.reset();  // as in steer()
      routes6_.erase(it);
    }
    VMROAM_TRY(auto route, OwnedRoute6::create(nl_, Route6{host, ifindex, config_.table}));
    routes6_.emplace(hoa, std::move(route));
    return ok();
  }
  // The IPv6 table with the same number as the device's IPv4 one, and its default route.
  VMROAM_TRY(std::uint32_t table, table_for(ifindex));
  if (!tables6_.contains(ifindex)) {
    VMROAM_TRY(auto route, OwnedRoute6::create(nl_, Route6{Ipv6Prefix{Ipv6(), 0}, ifindex, table}));
    tables6_.emplace(ifindex, std::move(route));
  }
  auto it = rules6_.find(hoa);
  if (it != rules6_.end() && it->second.first == ifindex) return ok();
  if (it != rules6_.end()) {
    [[maybe_unused]] const auto removed = it->second.second.reset();
    rules6_.erase(it);
  }
  VMROAM_TRY(auto owned,
             OwnedRule6::create(nl_, PolicyRule6{host, config_.reverse_iif, table, config_.rule_priority}));
  rules6_.emplace(hoa, std::make_pair(ifindex, std::move(owned)));
  return ok();
}

Result<void> Steering::unsteer6(const Ipv6& hoa) {
  Result<void> r = ok();
  if (auto it = routes6_.find(hoa); it != routes6_.end()) {
    r = it->second.reset();
    routes6_.erase(it);
  } else if (auto jt = rules6_.find(hoa); jt != rules6_.end()) {
    r = jt->second.second.reset();
    rules6_.erase(jt);
  } else {
    return fail("no_route", hoa.to_string());
  }
  if (!r && r.error().code != "not_found") return r;
  return ok();
}

void Steering::clear() {
  rules6_.clear();
  routes6_.clear();
  tables6_.clear();
  rules_.clear();
  routes_.clear();
  tables_.clear();
}

}  // namespace vmroam::dataplane
