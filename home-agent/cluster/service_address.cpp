#include "home-agent/cluster/service_address.hpp"

#include <arpa/inet.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>

#include <cerrno>
#include <utility>

namespace vmroam::ha {

Result<ServiceAddress> ServiceAddress::open(int ifindex, Ipv4Prefix address) {
  nl_sock* sock = nl_socket_alloc();
  if (!sock) return fail("netlink_open_failed", "nl_socket_alloc");
  if (int e = nl_connect(sock, NETLINK_ROUTE); e < 0) {
    nl_socket_free(sock);
    return fail("netlink_open_failed", nl_geterror(e));
  }
  return ServiceAddress(sock, ifindex, address);
}

ServiceAddress::ServiceAddress(ServiceAddress&& o) noexcept
    : sock_(std::exchange(o.sock_, nullptr)),
      ifindex_(o.ifindex_),
      address_(o.address_),
      claimed_(std::exchange(o.claimed_, false)) {}

ServiceAddress::~ServiceAddress() {
  if (!sock_) return;
  if (claimed_) (void)change(false);
  nl_socket_free(sock_);
}

// RTM_NEWADDR / RTM_DELADDR for address_/len on ifindex_ (scope global, broadcast derived
// by the kernel as `ip addr add` leaves it). Returns libnl's error code (0: done).
int ServiceAddress::change(bool add) {
  rtnl_addr* a = rtnl_addr_alloc();
  if (!a) return -NLE_NOMEM;
  std::uint32_t be = htonl(address_.address.value());
  nl_addr* local = nl_addr_build(AF_INET, &be, sizeof be);
  nl_addr_set_prefixlen(local, address_.length);
  rtnl_addr_set_ifindex(a, ifindex_);
  rtnl_addr_set_family(a, AF_INET);
  rtnl_addr_set_local(a, local);
  rtnl_addr_set_prefixlen(a, address_.length);
  const int e = add ? rtnl_addr_add(sock_, a, NLM_F_REPLACE) : rtnl_addr_delete(sock_, a, 0);
  nl_addr_put(local);
  rtnl_addr_put(a);
  return e;
}

Result<void> ServiceAddress::remove_stale() {
  const int e = change(false);
  // Absent: EADDRNOTAVAIL from the kernel, which libnl reports as NLE_NOADDR or NLE_OBJ_NOTFOUND.
  if (e < 0 && e != -NLE_NOADDR && e != -NLE_OBJ_NOTFOUND && e != -NLE_FAILURE)
    return fail("address_remove_failed", address_.to_string() + ": " + nl_geterror(e));
  return ok();
}

Result<void> ServiceAddress::claim() {
  const int e = change(true);
  if (e < 0 && e != -NLE_EXIST)
    return fail("address_add_failed", address_.to_string() + ": " + nl_geterror(e));
  claimed_ = true;
  return ok();
}

void ServiceAddress::release() {
  if (claimed_ && change(false) == 0) claimed_ = false;
}

}  // namespace vmroam::ha
