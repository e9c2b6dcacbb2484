// ServiceAddress: the HA service address on the home interface, held only by the active HA
// of a cluster (docs/architecture.md "Cluster"). Added at takeover, removed on a clean stop
// (RAII) and, at start-up, removed if a predecessor that died left it behind: a standby
// never answers for it.
#pragma once

#include <string>

#include "common/core/address.hpp"
#include "common/core/result.hpp"

struct nl_sock;  // libnl

namespace vmroam::ha {

class ServiceAddress {
 public:
  // Errors: netlink_open_failed.
  [[nodiscard]] static Result<ServiceAddress> open(int ifindex, Ipv4Prefix address);
  ServiceAddress(ServiceAddress&& o) noexcept;
  ServiceAddress& operator=(ServiceAddress&&) = delete;
  ServiceAddress(const ServiceAddress&) = delete;
  ~ServiceAddress();

  // Start-up: removes the address if it is there (a crashed predecessor's). Absent is fine.
  [[nodiscard]] Result<void> remove_stale();
  // Takeover: adds it (already there is fine). Errors: address_add_failed.
  [[nodiscard]] Result<void> claim();
  // Deposed: removes it at once, before the daemon's teardown, so that a new active never
  // finds it still here (best effort: the destructor tries again).
  void release();
  [[nodiscard]] bool claimed() const { return claimed_; }

 private:
  ServiceAddress(nl_sock* sock, int ifindex, Ipv4Prefix address)
      : sock_(sock), ifindex_(ifindex), address_(address) {}
  [[nodiscard]] int change(bool add);

  nl_sock* sock_ = nullptr;
  int ifindex_ = 0;
  Ipv4Prefix address_;
  bool claimed_ = false;
};

}  // namespace vmroam::ha
