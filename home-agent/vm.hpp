// The VMs this home agent serves: registered through the API, kept in the store.
// A VM may roam only when it is known here, and only to the foreign agents it allows.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/auth/security_association.hpp"
#include "common/core/address.hpp"
#include "common/core/address6.hpp"

namespace vmroam::ha {

struct Vm {
  std::string id;
  Ipv4 home_address;
  MacAddress mac;
  std::vector<Ipv4> allowed_fas;                   // empty: any configured foreign agent
  std::optional<auth::SecurityAssociation> mn_ha;  // MN-HA key (RFC 5944 §3.5.2), used by proxies too
  // IPv6 home addresses, /128s inside the HA's home_prefix_v6 (docs/protocol.md "Dual-stack
  // VMs"); a registration must carry exactly these (RFC 5454 §2.1).
  std::vector<Ipv6> home_addresses_v6;
  friend bool operator==(const Vm&, const Vm&) = default;

  [[nodiscard]] bool allows(Ipv4 fa) const {
    if (allowed_fas.empty()) return true;
    for (auto a : allowed_fas)
      if (a == fa) return true;
    return false;
  }
};

// What is wrong with a VM's IPv6 home addresses: the field (with its index) and why.
struct FieldProblem {
  std::string field;
  std::string message;
};

// Checks a VM definition's IPv6 home addresses against the home agent's IPv6 home prefix
// (nullopt: none configured): each must be a unicast address inside the prefix, none twice.
[[nodiscard]] inline std::optional<FieldProblem> check_home_addresses_v6(
    const std::vector<Ipv6>& list, const std::optional<Ipv6Prefix>& prefix) {
  const std::string name = "home_addresses_v6";
  if (list.empty()) return std::nullopt;
  if (!prefix) return FieldProblem{name, "this home agent has no home_prefix_v6 configured"};
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string at = name + "[" + std::to_string(i) + "]";
    const Ipv6& a = list[i];
    if (a.is_zero() || a.is_multicast() || a.is_link_local())
      return FieldProblem{at, a.to_string() + " is not a unicast address from the home prefix"};
    if (!prefix->contains(a))
      return FieldProblem{at, a.to_string() + " is not in the home IPv6 prefix " + prefix->to_string()};
    for (std::size_t j = 0; j < i; ++j)
      if (list[j] == a)
        return FieldProblem{at, a.to_string() + " repeats " + name + "[" + std::to_string(j) + "]"};
  }
  return std::nullopt;
}

// Index by id (API paths) and by home address (registrations). Pure container.
class VmDirectory {
 public:
  [[nodiscard]] const Vm* by_id(const std::string& id) const {
    auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : &it->second;
  }
  [[nodiscard]] const Vm* by_home_address(Ipv4 hoa) const {
    auto it = by_hoa_.find(hoa);
    return it == by_hoa_.end() ? nullptr : by_id(it->second);
  }
  [[nodiscard]] const Vm* by_home_address_v6(const Ipv6& hoa) const {
    auto it = by_hoa6_.find(hoa);
    return it == by_hoa6_.end() ? nullptr : by_id(it->second);
  }
  // Replaces a VM with the same id. The caller has checked that the home addresses are free.
  void put(Vm vm) {
    if (const Vm* old = by_id(vm.id)) unindex(*old);
    by_hoa_[vm.home_address] = vm.id;
    for (const auto& a : vm.home_addresses_v6) by_hoa6_[a] = vm.id;
    std::string id = vm.id;
    by_id_.insert_or_assign(std::move(id), std::move(vm));
  }
  std::optional<Vm> remove(const std::string& id) {
    auto it = by_id_.find(id);
    if (it == by_id_.end()) return std::nullopt;
    Vm vm = std::move(it->second);
    by_id_.erase(it);
    unindex(vm);
    return vm;
  }
  [[nodiscard]] std::size_t size() const { return by_id_.size(); }
  // Ordered by id.
  [[nodiscard]] const std::map<std::string, Vm>& all() const { return by_id_; }

 private:
  void unindex(const Vm& vm) {
    by_hoa_.erase(vm.home_address);
    for (const auto& a : vm.home_addresses_v6) by_hoa6_.erase(a);
  }

  std::map<std::string, Vm> by_id_;
  std::unordered_map<Ipv4, std::string> by_hoa_;
  std::unordered_map<Ipv6, std::string> by_hoa6_;
};

}  // namespace vmroam::ha
