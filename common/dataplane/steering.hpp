// Steering: the kernel state that sends a HoA's traffic into a tunnel device, owned (RAII)
// and tagged. Shared by both drivers; the device is the TUN (userspace) or the peer's ipip
// device (kernel).
//   * LookupKey::destination (HA): `HoA/32 dev <dev> table <table> proto 186` — table
//     defaults to main, so the /32 beats the home subnet's connected route for forwarded and
//     locally originated traffic alike (RFC 5944 §4.2.3).
//   * LookupKey::source (FA, RFC 3024 reverse tunnel): per device a table holding
//     `default dev <dev> proto 186` (tables from `table`, 186 by default, one more per extra
//     device), and per HoA `from HoA/32 [iif <vm link>] lookup <that table> prio <priority>`.
// A dual-stack VM's IPv6 home addresses are steered the same way (steer6): `HoA6/128 dev <dev>`
// at the HA, `from HoA6/128 [iif …] lookup <table>` with `default dev <dev>` in the same table
// number of the IPv6 routing tables at the FA.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/dataplane/netlink.hpp"
#include "common/dataplane/tunnel_driver.hpp"

namespace vmroam::dataplane {

struct SteeringConfig {
  LookupKey key = LookupKey::destination;
  std::uint32_t table = kMainTable;  // HA host routes; FA: first policy table
  std::string reverse_iif;           // FA: VM-facing link for the rules ("" = any)
  std::uint32_t rule_priority = kRulePriorityBase;
};

class Steering {
 public:
  Steering(Netlink& nl, SteeringConfig config) : nl_(nl), config_(std::move(config)) {}
  // Replaces any previous steering of this HoA (a move between devices/peers).
  Result<void> steer(Ipv4 hoa, int ifindex);
  Result<void> unsteer(Ipv4 hoa);
  [[nodiscard]] bool steered(Ipv4 hoa) const { return routes_.contains(hoa) || rules_.contains(hoa); }
  // The same for an IPv6 home address.
  Result<void> steer6(const Ipv6& hoa, int ifindex);
  Result<void> unsteer6(const Ipv6& hoa);
  [[nodiscard]] bool steered6(const Ipv6& hoa) const {
    return routes6_.contains(hoa) || rules6_.contains(hoa);
  }
  // Drops everything (and the per-device tables); also what the destructor does.
  void clear();
  ~Steering() { clear(); }
  Steering(const Steering&) = delete;
  Steering& operator=(const Steering&) = delete;

 private:
  Result<std::uint32_t> table_for(int ifindex);

  Netlink& nl_;
  SteeringConfig config_;
  std::map<Ipv4, OwnedRoute> routes_;                // destination mode
  std::map<Ipv4, std::pair<int, OwnedRule>> rules_;  // source mode: HoA → (ifindex, rule)
  std::map<int, OwnedRoute> tables_;                 // source mode: ifindex → its default route
  std::map<Ipv6, OwnedRoute6> routes6_;
  std::map<Ipv6, std::pair<int, OwnedRule6>> rules6_;
  std::map<int, OwnedRoute6> tables6_;  // source mode: ifindex → its IPv6 default route
};

}  // namespace vmroam::dataplane
