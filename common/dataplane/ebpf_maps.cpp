// EbpfMaps: see ebpf_maps.hpp.
#include "common/dataplane/ebpf_maps.hpp"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace vmroam::dataplane {
namespace {

std::uint32_t net(Ipv4 a) { return htonl(a.value()); }
Ipv4 host(std::uint32_t a) { return Ipv4(ntohl(a)); }

Error map_error(std::string_view map, Ipv4 key, int err) {
  return make_error("bpf_map",
                    std::string(map) + "[" + key.to_string() + "]: " + std::strerror(err < 0 ? -err : err));
}

Error map_error(std::string_view map, const Ipv6& key, int err) {
  return make_error("bpf_map",
                    std::string(map) + "[" + key.to_string() + "]: " + std::strerror(err < 0 ? -err : err));
}

vmr_addr6 key6(const Ipv6& a) {
  vmr_addr6 k{};
  std::copy(a.bytes().begin(), a.bytes().end(), std::begin(k.addr));
  return k;
}

// Every key of a hash map, in the kernel's order.
template <typename Key = std::uint32_t>
std::vector<Key> keys(int fd) {
  std::vector<Key> out;
  Key key{};
  const void* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &key) == 0) {
    out.push_back(key);
    prev = &out.back();
  }
  return out;
}

}  // namespace

std::string_view counter_name(vmr_counter c) {
  constexpr std::array<std::string_view, VMR_COUNTER_MAX> kNames = {
      "unknown_peer", "malformed", "peer_mismatch", "no_endpoint", "too_big",   "no_route",
      "encap_failed", "fragment",  "no_tun",        "held",        "ttl",       "pass_too_big",
      "gro",          "local",     "no_neigh",      "tapped",      "tap_failed"};
  return kNames[static_cast<std::size_t>(c)];
}

EbpfMaps::EbpfMaps(const EbpfObject& object) : cpus_(libbpf_num_possible_cpus()) {
  for (std::size_t i = 0; i < kEbpfMapCount; ++i) fds_[i] = object.map_fd(static_cast<EbpfMap>(i));
  if (cpus_ < 1) cpus_ = 1;
}

Result<void> EbpfMaps::set_config(const EbpfConfig& c) {
  vmr_config v{};
  v.local = net(c.local);
  v.tun_ifindex = static_cast<std::uint32_t>(c.tun_ifindex);
  v.tunnel_mtu = c.tunnel_mtu;
  v.ttl = c.ttl;
  std::uint32_t key = 0;
  if (bpf_map_update_elem(fd(EbpfMap::config), &key, &v, BPF_ANY) != 0)
    return fail(map_error(VMR_MAP_CONFIG, c.local, errno));
  return ok();
}

Result<void> EbpfMaps::put_peer(const EbpfPeer& p) {
  std::uint32_t key = net(p.address);
  vmr_peer v{};
  v.encap = static_cast<std::uint8_t>(p.encap);
  v.udp_port = htons(p.udp_port);
  if (bpf_map_update_elem(fd(EbpfMap::peers), &key, &v, BPF_ANY) != 0)
    return fail(map_error(VMR_MAP_PEERS, p.address, errno));
  std::vector<vmr_traffic> zero(static_cast<std::size_t>(cpus_));
  int rc = bpf_map_update_elem(fd(EbpfMap::peer_stats), &key, zero.data(), BPF_NOEXIST);
  if (rc != 0 && errno != EEXIST) return fail(map_error(VMR_MAP_PEER_STATS, p.address, errno));
  return ok();
}

Result<void> EbpfMaps::erase_peer(Ipv4 peer) {
  std::uint32_t key = net(peer);
  if (bpf_map_delete_elem(fd(EbpfMap::peers), &key) != 0 && errno != ENOENT)
    return fail(map_error(VMR_MAP_PEERS, peer, errno));
  (void)bpf_map_delete_elem(fd(EbpfMap::peer_stats), &key);
  return ok();
}

Result<void> EbpfMaps::put_route(const EbpfRoute& r) {
  std::uint32_t key = net(r.hoa);
  vmr_route v{};
  v.peer = net(r.peer);
  v.grace_peer = r.grace_peer.is_zero() ? 0 : net(r.grace_peer);
  v.flags = (r.hold ? VMR_ROUTE_HOLD : 0) | (r.tap ? VMR_ROUTE_TAP : 0);
  if (bpf_map_update_elem(fd(EbpfMap::routes), &key, &v, BPF_ANY) != 0)
    return fail(map_error(VMR_MAP_ROUTES, r.hoa, errno));
  std::vector<vmr_traffic> zero(static_cast<std::size_t>(cpus_));
  int rc = bpf_map_update_elem(fd(EbpfMap::hoa_stats), &key, zero.data(), BPF_NOEXIST);
  if (rc != 0 && errno != EEXIST) return fail(map_error(VMR_MAP_HOA_STATS, r.hoa, errno));
  return ok();
}

Result<void> EbpfMaps::erase_route(Ipv4 hoa) {
  std::uint32_t key = net(hoa);
  if (bpf_map_delete_elem(fd(EbpfMap::routes), &key) != 0 && errno != ENOENT)
    return fail(map_error(VMR_MAP_ROUTES, hoa, errno));
  return ok();
}

Result<std::vector<EbpfRoute>> EbpfMaps::routes() const {
  std::vector<EbpfRoute> out;
  for (std::uint32_t key : keys(fd(EbpfMap::routes))) {
    vmr_route v{};
    if (bpf_map_lookup_elem(fd(EbpfMap::routes), &key, &v) != 0) continue;  // deleted meanwhile
    out.push_back({host(key), host(v.peer), host(v.grace_peer), (v.flags & VMR_ROUTE_HOLD) != 0,
                   (v.flags & VMR_ROUTE_TAP) != 0});
  }
  return out;
}

Result<std::vector<EbpfPeer>> EbpfMaps::peers() const {
  std::vector<EbpfPeer> out;
  for (std::uint32_t key : keys(fd(EbpfMap::peers))) {
    vmr_peer v{};
    if (bpf_map_lookup_elem(fd(EbpfMap::peers), &key, &v) != 0) continue;
    out.push_back({host(key), static_cast<vmr_encap>(v.encap), ntohs(v.udp_port)});
  }
  return out;
}

vmr_traffic EbpfMaps::traffic(int fd, Ipv4 a) const {
  std::vector<vmr_traffic> per_cpu(static_cast<std::size_t>(cpus_));
  std::uint32_t key = net(a);
  vmr_traffic sum{};
  if (bpf_map_lookup_elem(fd, &key, per_cpu.data()) != 0) return sum;
  for (const auto& t : per_cpu) {
    sum.tx_packets += t.tx_packets;
    sum.tx_bytes += t.tx_bytes;
    sum.rx_packets += t.rx_packets;
    sum.rx_bytes += t.rx_bytes;
  }
  return sum;
}

vmr_traffic EbpfMaps::peer_traffic(Ipv4 peer) const { return traffic(fd(EbpfMap::peer_stats), peer); }
vmr_traffic EbpfMaps::hoa_traffic(Ipv4 hoa) const { return traffic(fd(EbpfMap::hoa_stats), hoa); }

Result<void> EbpfMaps::erase_hoa_traffic(Ipv4 hoa) {
  std::uint32_t key = net(hoa);
  if (bpf_map_delete_elem(fd(EbpfMap::hoa_stats), &key) != 0 && errno != ENOENT)
    return fail(map_error(VMR_MAP_HOA_STATS, hoa, errno));
  return ok();
}

Result<void> EbpfMaps::put_address6(const Ipv6& address, Ipv4 hoa) {
  const vmr_addr6 key = key6(address);
  const std::uint32_t value = net(hoa);
  if (bpf_map_update_elem(fd(EbpfMap::addrs6), &key, &value, BPF_ANY) != 0)
    return fail(map_error(VMR_MAP_ADDRS6, address, errno));
  return ok();
}

Result<void> EbpfMaps::erase_address6(const Ipv6& address) {
  const vmr_addr6 key = key6(address);
  if (bpf_map_delete_elem(fd(EbpfMap::addrs6), &key) != 0 && errno != ENOENT)
    return fail(map_error(VMR_MAP_ADDRS6, address, errno));
  return ok();
}

Result<std::vector<std::pair<Ipv6, Ipv4>>> EbpfMaps::addresses6() const {
  std::vector<std::pair<Ipv6, Ipv4>> out;
  for (const vmr_addr6& key : keys<vmr_addr6>(fd(EbpfMap::addrs6))) {
    std::uint32_t hoa = 0;
    if (bpf_map_lookup_elem(fd(EbpfMap::addrs6), &key, &hoa) != 0) continue;  // deleted meanwhile
    Ipv6::Octets o{};
    std::copy(std::begin(key.addr), std::end(key.addr), o.begin());
    out.emplace_back(Ipv6(o), host(hoa));
  }
  return out;
}

EbpfCounters EbpfMaps::counters() const {
  EbpfCounters out{};
  std::vector<std::uint64_t> per_cpu(static_cast<std::size_t>(cpus_));
  for (std::uint32_t i = 0; i < VMR_COUNTER_MAX; ++i) {
    if (bpf_map_lookup_elem(fd(EbpfMap::counters), &i, per_cpu.data()) != 0) continue;
    for (auto v : per_cpu) out[i] += v;
  }
  return out;
}

}  // namespace vmroam::dataplane
