// LibnlNetlink: Netlink over libnl-3 / libnl-route-3. Routes, rules and links use libnl's
// object API; neighbour and proxy-neighbour entries are built by hand because libnl's
// rtnl_neigh (3.7) can neither carry nor report NDA_PROTOCOL, nor dump NTF_PROXY entries.
#include "common/dataplane/netlink.hpp"

#include <arpa/inet.h>
#include <linux/fib_rules.h>
#include <linux/if.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/ipip.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>
#include <netlink/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <type_traits>

namespace vmroam::dataplane {
namespace {

// Maps a libnl error to our vocabulary: "exists" and "not_found" are distinguished because
// callers treat them as success (adopt / already gone); everything else gets `code`.
Error nl_error(std::string_view code, int err, const std::string& what) {
  if (err == -NLE_EXIST) return make_error("exists", what);
  if (err == -NLE_OBJ_NOTFOUND) return make_error("not_found", what);
  return make_error(code, what + ": " + nl_geterror(err));
}

// RAII for libnl objects and caches.
struct AddrPtr {
  nl_addr* p = nullptr;
  ~AddrPtr() {
    if (p) nl_addr_put(p);
  }
};
struct ObjPtr {
  nl_object* p = nullptr;
  ~ObjPtr() {
    if (p) nl_object_put(p);
  }
};
struct CachePtr {
  nl_cache* p = nullptr;
  ~CachePtr() {
    if (p) nl_cache_free(p);
  }
};

AddrPtr make_addr(Ipv4Prefix prefix) {
  std::uint32_t be = htonl(prefix.address.value());
  AddrPtr a{nl_addr_build(AF_INET, &be, sizeof be)};
  if (!a.p) std::abort();  // allocation failure: can't continue
  nl_addr_set_prefixlen(a.p, prefix.length);
  return a;
}

AddrPtr make_addr(const Ipv6Prefix& prefix) {
  AddrPtr a{nl_addr_build(AF_INET6, prefix.address.bytes().data(), 16)};
  if (!a.p) std::abort();  // allocation failure: can't continue
  nl_addr_set_prefixlen(a.p, prefix.length);
  return a;
}

Ipv6Prefix to_prefix6(nl_addr* a) {
  if (!a || nl_addr_get_family(a) != AF_INET6 || nl_addr_get_len(a) != 16) return Ipv6Prefix{Ipv6(), 0};
  Ipv6::Octets b{};
  std::memcpy(b.data(), nl_addr_get_binary_addr(a), 16);
  return Ipv6Prefix{Ipv6(b), static_cast<int>(nl_addr_get_prefixlen(a))};
}

Ipv4Prefix to_prefix(nl_addr* a) {
  if (!a || nl_addr_get_family(a) != AF_INET || nl_addr_get_len(a) != 4) return Ipv4Prefix{Ipv4(), 0};
  std::uint32_t be = 0;
  std::memcpy(&be, nl_addr_get_binary_addr(a), 4);
  return Ipv4Prefix{Ipv4(ntohl(be)), static_cast<int>(nl_addr_get_prefixlen(a))};
}

// IPv4 routes are scope link (on the device); IPv6 routes have no such scope (universe).
template <typename R>
rtnl_route* build_route(const R& r) {
  constexpr bool v6 = std::is_same_v<R, Route6>;
  auto* route = rtnl_route_alloc();
  auto dst = make_addr(r.dst);
  rtnl_route_set_family(route, v6 ? AF_INET6 : AF_INET);
  rtnl_route_set_table(route, r.table);
  rtnl_route_set_protocol(route, kRouteProtocol);
  rtnl_route_set_scope(route, v6 ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
  rtnl_route_set_type(route, RTN_UNICAST);
  rtnl_route_set_dst(route, dst.p);  // takes its own reference
  auto* nh = rtnl_route_nh_alloc();
  rtnl_route_nh_set_ifindex(nh, r.ifindex);
  rtnl_route_add_nexthop(route, nh);  // route owns nh
  return route;
}

template <typename R>
rtnl_rule* build_rule(const R& r) {
  constexpr bool v6 = std::is_same_v<R, PolicyRule6>;
  auto* rule = rtnl_rule_alloc();
  auto src = make_addr(r.from);
  rtnl_rule_set_family(rule, v6 ? AF_INET6 : AF_INET);
  rtnl_rule_set_prio(rule, r.priority);
  rtnl_rule_set_table(rule, r.table);
  rtnl_rule_set_action(rule, FR_ACT_TO_TBL);
  rtnl_rule_set_src(rule, src.p);
  if (!r.iif.empty()) rtnl_rule_set_iif(rule, r.iif.c_str());
  rtnl_rule_set_protocol(rule, kRouteProtocol);
  return rule;
}

// A proxy entry of either family (`ip [-6] neigh add|del proxy A dev X protocol 186`).
Result<void> send_proxy(nl_sock* sk, int type, int flags, int family, const void* address, int length,
                        int ifindex, const std::string& what) {
  nl_msg* msg = nlmsg_alloc_simple(type, flags);
  if (!msg) std::abort();
  ndmsg ndm{};
  ndm.ndm_family = static_cast<std::uint8_t>(family);
  ndm.ndm_ifindex = ifindex;
  ndm.ndm_flags = NTF_PROXY;
  ndm.ndm_state = NUD_PERMANENT;
  if (nlmsg_append(msg, &ndm, sizeof ndm, NLMSG_ALIGNTO) < 0 || nla_put(msg, NDA_DST, length, address) < 0 ||
      nla_put_u8(msg, NDA_PROTOCOL, kRouteProtocol) < 0) {
    nlmsg_free(msg);
    std::abort();  // a fixed-size message cannot overflow
  }
  int err = nl_send_sync(sk, msg);  // frees msg, waits for the ACK
  if (err < 0)
    return fail(nl_error(type == RTM_NEWNEIGH ? "add_proxy_failed" : "remove_proxy_failed", err,
                         "proxy " + what + " dev " + std::to_string(ifindex)));
  return ok();
}

Result<void> send_neigh(nl_sock* sk, int type, int flags, const ProxyNeighbour& p) {
  const std::uint32_t be = htonl(p.address.value());
  return send_proxy(sk, type, flags, AF_INET, &be, 4, p.ifindex, p.address.to_string());
}

Result<void> send_neigh6(nl_sock* sk, int type, int flags, const ProxyNeighbour6& p) {
  return send_proxy(sk, type, flags, AF_INET6, p.address.bytes().data(), 16, p.ifindex,
                    p.address.to_string());
}

// A plain neighbour entry (`ip [-6] neigh replace A lladdr M dev X nud stale protocol 186`) of
// `family`, the address `len` bytes at `dst`; `what` names it in errors.
Result<void> send_plain_neigh(nl_sock* sk, int type, int flags, std::uint8_t family, const void* dst, int len,
                              const MacAddress& mac, int ifindex, const std::string& what) {
  nl_msg* msg = nlmsg_alloc_simple(type, flags);
  if (!msg) std::abort();
  ndmsg ndm{};
  ndm.ndm_family = family;
  ndm.ndm_ifindex = ifindex;
  ndm.ndm_state = NUD_STALE;  // usable at once, verified by the kernel (netlink.hpp)
  bool built =
      nlmsg_append(msg, &ndm, sizeof ndm, NLMSG_ALIGNTO) >= 0 && nla_put(msg, NDA_DST, len, dst) >= 0;
  if (built && type == RTM_NEWNEIGH)
    built = nla_put(msg, NDA_LLADDR, 6, mac.bytes().data()) >= 0 &&
            nla_put_u8(msg, NDA_PROTOCOL, kRouteProtocol) >= 0;
  if (!built) {
    nlmsg_free(msg);
    std::abort();  // a fixed-size message cannot overflow
  }
  int err = nl_send_sync(sk, msg);  // frees msg, waits for the ACK
  if (err < 0) {
    auto full = what + " lladdr " + mac.to_string() + " dev " + std::to_string(ifindex);
    return fail(
        nl_error(type == RTM_NEWNEIGH ? "add_neighbour_failed" : "remove_neighbour_failed", err, full));
  }
  return ok();
}

Result<void> send_plain_neigh(nl_sock* sk, int type, int flags, const Neighbour& n) {
  const std::uint32_t be = htonl(n.address.value());
  return send_plain_neigh(sk, type, flags, AF_INET, &be, 4, n.mac, n.ifindex, n.address.to_string());
}

Result<void> send_plain_neigh(nl_sock* sk, int type, int flags, const Neighbour6& n) {
  return send_plain_neigh(sk, type, flags, AF_INET6, n.address.bytes().data(), 16, n.mac, n.ifindex,
                          n.address.to_string());
}

struct NeighbourDump {
  const std::vector<int>* ours;
  std::vector<Neighbour>* out;
  std::vector<Neighbour6>* out6;
};

int on_neighbour_message(nl_msg* msg, void* arg) {
  auto* dump = static_cast<NeighbourDump*>(arg);
  nlmsghdr* hdr = nlmsg_hdr(msg);
  if (hdr->nlmsg_type != RTM_NEWNEIGH || !nlmsg_valid_hdr(hdr, sizeof(ndmsg))) return NL_SKIP;
  auto* ndm = static_cast<ndmsg*>(nlmsg_data(hdr));
  const bool v6 = ndm->ndm_family == AF_INET6;
  if ((ndm->ndm_family != AF_INET && !v6) || (ndm->ndm_flags & NTF_PROXY)) return NL_SKIP;
  if (std::find(dump->ours->begin(), dump->ours->end(), ndm->ndm_ifindex) == dump->ours->end())
    return NL_SKIP;
  nlattr* tb[NDA_MAX + 1] = {};
  if (nlmsg_parse(hdr, sizeof(ndmsg), tb, NDA_MAX, nullptr) < 0 || !tb[NDA_DST] ||
      nla_len(tb[NDA_DST]) != (v6 ? 16 : 4))
    return NL_SKIP;
  if (!tb[NDA_PROTOCOL] || nla_get_u8(tb[NDA_PROTOCOL]) != kRouteProtocol) return NL_SKIP;
  MacAddress mac;
  if (tb[NDA_LLADDR] && nla_len(tb[NDA_LLADDR]) == 6) {
    std::array<std::uint8_t, 6> b{};
    std::memcpy(b.data(), nla_data(tb[NDA_LLADDR]), 6);
    mac = MacAddress(b);
  }
  if (v6) {
    Ipv6::Octets b{};
    std::memcpy(b.data(), nla_data(tb[NDA_DST]), 16);
    dump->out6->push_back(Neighbour6{Ipv6(b), mac, ndm->ndm_ifindex});
    return NL_OK;
  }
  std::uint32_t be = 0;
  std::memcpy(&be, nla_data(tb[NDA_DST]), 4);
  dump->out->push_back(Neighbour{Ipv4(ntohl(be)), mac, ndm->ndm_ifindex});
  return NL_OK;
}

struct ProxyDump {
  const std::vector<int>* ours;
  std::vector<ProxyNeighbour>* out;
  std::vector<ProxyNeighbour6>* out6;
};

int on_proxy_message(nl_msg* msg, void* arg) {
  auto* dump = static_cast<ProxyDump*>(arg);
  nlmsghdr* hdr = nlmsg_hdr(msg);
  if (hdr->nlmsg_type != RTM_NEWNEIGH || !nlmsg_valid_hdr(hdr, sizeof(ndmsg))) return NL_SKIP;
  auto* ndm = static_cast<ndmsg*>(nlmsg_data(hdr));
  const bool v6 = ndm->ndm_family == AF_INET6;
  if ((ndm->ndm_family != AF_INET && !v6) || !(ndm->ndm_flags & NTF_PROXY)) return NL_SKIP;
  nlattr* tb[NDA_MAX + 1] = {};
  if (nlmsg_parse(hdr, sizeof(ndmsg), tb, NDA_MAX, nullptr) < 0 || !tb[NDA_DST] ||
      nla_len(tb[NDA_DST]) != (v6 ? 16 : 4))
    return NL_SKIP;
  bool tagged = tb[NDA_PROTOCOL] && nla_get_u8(tb[NDA_PROTOCOL]) == kRouteProtocol;
  bool our_link = std::find(dump->ours->begin(), dump->ours->end(), ndm->ndm_ifindex) != dump->ours->end();
  if (!tagged && !our_link) return NL_SKIP;
  if (v6) {
    Ipv6::Octets b{};
    std::memcpy(b.data(), nla_data(tb[NDA_DST]), 16);
    dump->out6->push_back(ProxyNeighbour6{Ipv6(b), ndm->ndm_ifindex});
    return NL_OK;
  }
  std::uint32_t be = 0;
  std::memcpy(&be, nla_data(tb[NDA_DST]), 4);
  dump->out->push_back(ProxyNeighbour{Ipv4(ntohl(be)), ndm->ndm_ifindex});
  return NL_OK;
}

void fill_link(rtnl_link* l, LinkInfo& info) {
  info.ifindex = rtnl_link_get_ifindex(l);
  info.name = rtnl_link_get_name(l) ? rtnl_link_get_name(l) : "";
  info.mtu = rtnl_link_get_mtu(l);
  info.up = (rtnl_link_get_flags(l) & IFF_UP) != 0;
  nl_addr* a = rtnl_link_get_addr(l);
  if (a && nl_addr_get_len(a) == 6) {
    std::array<std::uint8_t, 6> b{};
    std::memcpy(b.data(), nl_addr_get_binary_addr(a), 6);
    info.mac = MacAddress(b);
  }
}

}  // namespace

Result<std::unique_ptr<LibnlNetlink>> LibnlNetlink::create() {
  nl_sock* sk = nl_socket_alloc();
  if (!sk) return fail("netlink_failed", "nl_socket_alloc");
  int err = nl_connect(sk, NETLINK_ROUTE);
  if (err < 0) {
    nl_socket_free(sk);
    return fail("netlink_failed", std::string("connect NETLINK_ROUTE: ") + nl_geterror(err));
  }
  return std::unique_ptr<LibnlNetlink>(new LibnlNetlink(sk));
}

LibnlNetlink::~LibnlNetlink() { nl_socket_free(sock_); }

namespace {
template <typename R>
Result<void> add_route_any(nl_sock* sock, const R& r) {
  auto* route = build_route(r);
  int err = rtnl_route_add(sock, route, NLM_F_EXCL);
  rtnl_route_put(route);
  if (err < 0)
    return fail(nl_error(
        "add_route_failed", err,
        r.dst.to_string() + " dev " + std::to_string(r.ifindex) + " table " + std::to_string(r.table)));
  return ok();
}

template <typename R>
Result<void> remove_route_any(nl_sock* sock, const R& r) {
  auto* route = build_route(r);
  int err = rtnl_route_delete(sock, route, 0);
  rtnl_route_put(route);
  if (err < 0)
    return fail(
        nl_error("remove_route_failed", err, r.dst.to_string() + " table " + std::to_string(r.table)));
  return ok();
}

template <typename R>
Result<void> add_rule_any(nl_sock* sock, const R& r) {
  auto* rule = build_rule(r);
  int err = rtnl_rule_add(sock, rule, NLM_F_EXCL);
  rtnl_rule_put(rule);
  if (err < 0)
    return fail(nl_error("add_rule_failed", err,
                         "from " + r.from.to_string() + " prio " + std::to_string(r.priority)));
  return ok();
}

template <typename R>
Result<void> remove_rule_any(nl_sock* sock, const R& r) {
  auto* rule = build_rule(r);
  int err = rtnl_rule_delete(sock, rule, 0);
  rtnl_rule_put(rule);
  if (err < 0)
    return fail(nl_error("remove_rule_failed", err,
                         "from " + r.from.to_string() + " prio " + std::to_string(r.priority)));
  return ok();
}
}  // namespace

Result<void> LibnlNetlink::add_route(const Route& r) { return add_route_any(sock_, r); }
Result<void> LibnlNetlink::remove_route(const Route& r) { return remove_route_any(sock_, r); }
Result<void> LibnlNetlink::add_route6(const Route6& r) { return add_route_any(sock_, r); }
Result<void> LibnlNetlink::remove_route6(const Route6& r) { return remove_route_any(sock_, r); }
Result<void> LibnlNetlink::add_rule(const PolicyRule& r) { return add_rule_any(sock_, r); }
Result<void> LibnlNetlink::remove_rule(const PolicyRule& r) { return remove_rule_any(sock_, r); }
Result<void> LibnlNetlink::add_rule6(const PolicyRule6& r) { return add_rule_any(sock_, r); }
Result<void> LibnlNetlink::remove_rule6(const PolicyRule6& r) { return remove_rule_any(sock_, r); }

Result<void> LibnlNetlink::add_proxy_neighbour(const ProxyNeighbour& p) {
  return send_neigh(sock_, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_EXCL, p);
}

Result<void> LibnlNetlink::remove_proxy_neighbour(const ProxyNeighbour& p) {
  return send_neigh(sock_, RTM_DELNEIGH, 0, p);
}

Result<void> LibnlNetlink::add_proxy_neighbour6(const ProxyNeighbour6& p) {
  return send_neigh6(sock_, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_EXCL, p);
}

Result<void> LibnlNetlink::remove_proxy_neighbour6(const ProxyNeighbour6& p) {
  return send_neigh6(sock_, RTM_DELNEIGH, 0, p);
}

Result<void> LibnlNetlink::add_neighbour(const Neighbour& n) {
  // REPLACE, not EXCL: the kernel may already hold an entry it learnt (or a FAILED one from an
  // ARP that went unanswered while the VM was not here yet); ours supersedes it.
  return send_plain_neigh(sock_, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, n);
}

Result<void> LibnlNetlink::remove_neighbour(const Neighbour& n) {
  return send_plain_neigh(sock_, RTM_DELNEIGH, 0, n);
}

Result<void> LibnlNetlink::add_neighbour6(const Neighbour6& n) {
  return send_plain_neigh(sock_, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, n);  // as add_neighbour
}

Result<void> LibnlNetlink::remove_neighbour6(const Neighbour6& n) {
  return send_plain_neigh(sock_, RTM_DELNEIGH, 0, n);
}

Result<void> LibnlNetlink::set_link(int ifindex, bool up, unsigned mtu) {
  rtnl_link* orig = nullptr;
  int err = rtnl_link_get_kernel(sock_, ifindex, nullptr, &orig);
  if (err < 0) return fail(nl_error("set_link_failed", err, "ifindex " + std::to_string(ifindex)));
  rtnl_link* change = rtnl_link_alloc();
  if (up)
    rtnl_link_set_flags(change, IFF_UP);
  else
    rtnl_link_unset_flags(change, IFF_UP);
  if (mtu) rtnl_link_set_mtu(change, mtu);
  err = rtnl_link_change(sock_, orig, change, 0);
  rtnl_link_put(change);
  rtnl_link_put(orig);
  if (err < 0) return fail(nl_error("set_link_failed", err, "ifindex " + std::to_string(ifindex)));
  return ok();
}

Result<void> LibnlNetlink::delete_link(int ifindex) {
  rtnl_link* l = rtnl_link_alloc();
  rtnl_link_set_ifindex(l, ifindex);
  int err = rtnl_link_delete(sock_, l);
  rtnl_link_put(l);
  if (err < 0) return fail(nl_error("delete_link_failed", err, "ifindex " + std::to_string(ifindex)));
  return ok();
}

namespace {
Result<LinkInfo> fetch_link(nl_sock* sk, int ifindex, const char* name) {
  rtnl_link* l = nullptr;
  int err = rtnl_link_get_kernel(sk, ifindex, name, &l);
  if (err < 0) return fail(nl_error("no_such_link", err, name ? name : std::to_string(ifindex)));
  LinkInfo info;
  fill_link(l, info);
  rtnl_link_put(l);
  CachePtr addrs;
  err = rtnl_addr_alloc_cache(sk, &addrs.p);
  if (err < 0) return fail(nl_error("netlink_failed", err, "address dump"));
  for (auto* o = nl_cache_get_first(addrs.p); o; o = nl_cache_get_next(o)) {
    auto* a = reinterpret_cast<rtnl_addr*>(o);
    if (rtnl_addr_get_ifindex(a) != info.ifindex || rtnl_addr_get_family(a) != AF_INET) continue;
    info.addresses.push_back(to_prefix(rtnl_addr_get_local(a)));
  }
  return info;
}
}  // namespace

Result<LinkInfo> LibnlNetlink::link(std::string_view name) {
  std::string n(name);
  return fetch_link(sock_, 0, n.c_str());
}

Result<LinkInfo> LibnlNetlink::link(int ifindex) { return fetch_link(sock_, ifindex, nullptr); }

namespace {

// Our routes: protocol kRouteProtocol, in any table (Route: IPv4, Route6: IPv6).
template <typename R>
Result<void> owned_routes(nl_sock* sock, std::vector<R>& out) {
  constexpr bool v6 = std::is_same_v<R, Route6>;
  CachePtr routes;
  int err = rtnl_route_alloc_cache(sock, v6 ? AF_INET6 : AF_INET, 0, &routes.p);
  if (err < 0) return fail(nl_error("netlink_failed", err, "route dump"));
  for (auto* o = nl_cache_get_first(routes.p); o; o = nl_cache_get_next(o)) {
    auto* r = reinterpret_cast<rtnl_route*>(o);
    if (rtnl_route_get_protocol(r) != kRouteProtocol) continue;
    if (rtnl_route_get_family(r) != (v6 ? AF_INET6 : AF_INET)) continue;
    R route;
    if constexpr (v6)
      route.dst = to_prefix6(rtnl_route_get_dst(r));
    else
      route.dst = to_prefix(rtnl_route_get_dst(r));
    route.table = rtnl_route_get_table(r);
    if (rtnl_route_get_nnexthops(r) > 0)
      route.ifindex = rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(r, 0));
    out.push_back(route);
  }
  return {};
}

// An RTM_GETNEIGH dump of `family` (AF_UNSPEC: every table) with `ndm_flags` (NTF_PROXY asks
// for the pneigh tables, neigh_dump_info), each message handed to `on_message` with `arg`;
// `what` names it in errors.
Result<void> dump_neighbours(nl_sock* sock, std::uint8_t family, std::uint8_t ndm_flags,
                             int (*on_message)(nl_msg*, void*), void* arg, const char* what) {
  nl_msg* msg = nlmsg_alloc_simple(RTM_GETNEIGH, NLM_F_DUMP);
  ndmsg ndm{};
  ndm.ndm_family = family;
  ndm.ndm_flags = ndm_flags;
  if (!msg || nlmsg_append(msg, &ndm, sizeof ndm, NLMSG_ALIGNTO) < 0) std::abort();
  int err = nl_send_auto(sock, msg);
  nlmsg_free(msg);
  if (err < 0) return fail(nl_error("netlink_failed", err, what));
  nl_cb* cb = nl_cb_alloc(NL_CB_DEFAULT);
  nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_message, arg);
  err = nl_recvmsgs(sock, cb);
  nl_cb_put(cb);
  if (err < 0) return fail(nl_error("netlink_failed", err, what));
  return {};
}

// Our policy rules: priorities in [kRulePriorityBase, + kRulePriorityRange).
template <typename R>
Result<void> owned_rules(nl_sock* sock, std::vector<R>& out) {
  constexpr bool v6 = std::is_same_v<R, PolicyRule6>;
  CachePtr rules;
  int err = rtnl_rule_alloc_cache(sock, v6 ? AF_INET6 : AF_INET, &rules.p);
  if (err < 0) return fail(nl_error("netlink_failed", err, "rule dump"));
  for (auto* o = nl_cache_get_first(rules.p); o; o = nl_cache_get_next(o)) {
    auto* r = reinterpret_cast<rtnl_rule*>(o);
    // libnl's rule cache holds both families whatever it was asked for: keep ours only.
    if (rtnl_rule_get_family(r) != (v6 ? AF_INET6 : AF_INET)) continue;
    auto prio = rtnl_rule_get_prio(r);
    if (prio < kRulePriorityBase || prio >= kRulePriorityBase + kRulePriorityRange) continue;
    R rule;
    if constexpr (v6)
      rule.from = to_prefix6(rtnl_rule_get_src(r));
    else
      rule.from = to_prefix(rtnl_rule_get_src(r));
    const char* iif = rtnl_rule_get_iif(r);
    rule.iif = iif ? iif : "";
    rule.table = rtnl_rule_get_table(r);
    rule.priority = prio;
    out.push_back(rule);
  }
  return {};
}

// Our links: names starting with kLinkPrefix.
Result<void> owned_links(nl_sock* sock, std::vector<LinkInfo>& out) {
  CachePtr links;
  int err = rtnl_link_alloc_cache(sock, AF_UNSPEC, &links.p);
  if (err < 0) return fail(nl_error("netlink_failed", err, "link dump"));
  for (auto* o = nl_cache_get_first(links.p); o; o = nl_cache_get_next(o)) {
    auto* l = reinterpret_cast<rtnl_link*>(o);
    const char* name = rtnl_link_get_name(l);
    if (!name || !std::string_view(name).starts_with(kLinkPrefix)) continue;
    LinkInfo info;
    fill_link(l, info);
    out.push_back(std::move(info));
  }
  return {};
}

}  // namespace

Result<OwnedObjects> LibnlNetlink::list_owned(const std::vector<int>& our_ifindexes) {
  OwnedObjects out;
  VMROAM_TRY_VOID(owned_routes(sock_, out.routes));
  // AF_UNSPEC with NTF_PROXY dumps both pneigh tables: ARP (IPv4) and ND (IPv6) proxies.
  ProxyDump proxies{&our_ifindexes, &out.proxies, &out.proxies6};
  VMROAM_TRY_VOID(dump_neighbours(sock_, AF_UNSPEC, NTF_PROXY, on_proxy_message, &proxies, "proxy dump"));
  if (!our_ifindexes.empty()) {
    // AF_UNSPEC: the ARP and ND tables both.
    NeighbourDump neighbours{&our_ifindexes, &out.neighbours, &out.neighbours6};
    VMROAM_TRY_VOID(
        dump_neighbours(sock_, AF_UNSPEC, 0, on_neighbour_message, &neighbours, "neighbour dump"));
  }
  VMROAM_TRY_VOID(owned_rules(sock_, out.rules));
  VMROAM_TRY_VOID(owned_links(sock_, out.links));
  // A kernel without IPv6 has no IPv6 routes or rules to own: an empty list, not a failure.
  if (auto r = owned_routes(sock_, out.routes6); !r) out.routes6.clear();
  if (auto r = owned_rules(sock_, out.rules6); !r) out.rules6.clear();
  return out;
}

Result<int> LibnlNetlink::add_ipip_link(const std::string& name, Ipv4 local, Ipv4 remote, std::uint8_t ttl) {
  rtnl_link* l = rtnl_link_ipip_alloc();
  if (!l) std::abort();
  rtnl_link_set_name(l, name.c_str());
  rtnl_link_ipip_set_local(l, htonl(local.value()));
  rtnl_link_ipip_set_remote(l, htonl(remote.value()));
  rtnl_link_ipip_set_ttl(l, ttl);
  rtnl_link_ipip_set_pmtudisc(l, 1);  // RFC 2003 §5.1: DF on the outer header, track path MTU
  int err = rtnl_link_add(sock_, l, NLM_F_CREATE | NLM_F_EXCL);
  rtnl_link_put(l);
  if (err < 0) {
    // Without the module the kernel answers EOPNOTSUPP (rtnl_link_ops "ipip" unknown after a
    // failed request_module); check /sys/module too so the message is certain.
    struct stat st {};
    bool module_present = ::stat("/sys/module/ipip", &st) == 0;
    if (!module_present && (err == -NLE_OPNOTSUPP || err == -NLE_NODEV || err == -NLE_OBJ_NOTFOUND ||
                            err == -NLE_AF_NOSUPPORT || err == -NLE_INVAL))
      return fail("ipip_unavailable", std::string(kIpipUnavailableMessage));
    return fail(nl_error("add_link_failed", err, "ipip " + name));
  }
  auto info = link(name);
  if (!info) return fail(info.error());
  return info->ifindex;
}

}  // namespace vmroam::dataplane
