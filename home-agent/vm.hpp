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

namespace vmroam::ha {

struct Vm {
  std::string id;
  Ipv4 home_address;
  MacAddress mac;
  std::vector<Ipv4> allowed_fas;                   // empty: any configured foreign agent
  std::optional<auth::SecurityAssociation> mn_ha;  // MN-HA key (RFC 5944 §3.5.2), used by proxies too
  friend bool operator==(const Vm&, const Vm&) = default;

  [[nodiscard]] bool allows(Ipv4 fa) const {
    if (allowed_fas.empty()) return true;
    for (auto a : allowed_fas)
      if (a == fa) return true;
    return false;
  }
};

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
  // Replaces a VM with the same id. The caller has checked that the home address is free.
  void put(Vm vm) {
    if (const Vm* old = by_id(vm.id)) by_hoa_.erase(old->home_address);
    by_hoa_[vm.home_address] = vm.id;
    std::string id = vm.id;
    by_id_.insert_or_assign(std::move(id), std::move(vm));
  }
  std::optional<Vm> remove(const std::string& id) {
    auto it = by_id_.find(id);
    if (it == by_id_.end()) return std::nullopt;
    Vm vm = std::move(it->second);
    by_id_.erase(it);
    by_hoa_.erase(vm.home_address);
    return vm;
  }
  [[nodiscard]] std::size_t size() const { return by_id_.size(); }
  // Ordered by id.
  [[nodiscard]] const std::map<std::string, Vm>& all() const { return by_id_; }

 private:
  std::map<std::string, Vm> by_id_;
  std::unordered_map<Ipv4, std::string> by_hoa_;
};

}  // namespace vmroam::ha
