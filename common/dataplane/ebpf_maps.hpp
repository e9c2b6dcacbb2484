// EbpfMaps: typed reads and writes of the eBPF data plane's maps (bpf/vmroam_bpf_shared.h),
// for the agent that owns them: the configuration, endpoints (peers), routes (HoA → peer,
// with the hold and tap flags and the handover grace peer), dual-stack VMs' IPv6 home
// addresses (IPv6 → the HoA whose route they follow), and the per-CPU counters summed over
// CPUs. Addresses cross this class as Ipv4 (host order) and are stored in network order, as
// the programs compare them with packet fields.
#pragma once

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "common/core/address.hpp"
#include "common/core/address6.hpp"
#include "common/core/result.hpp"
#include "common/dataplane/bpf/vmroam_bpf_shared.h"
#include "common/dataplane/ebpf_loader.hpp"

namespace vmroam::dataplane {

struct EbpfConfig {
  Ipv4 local;                       // outer source; tunnel packets must be addressed to it
  int tun_ifindex = 0;              // the hold's and the slow path's TUN (0: none)
  std::uint16_t tunnel_mtu = 1480;  // largest inner packet on the fast path (RFC 2003 §4)
  std::uint8_t ttl = 64;            // outer TTL
};

struct EbpfPeer {
  Ipv4 address;
  vmr_encap encap = VMR_ENCAP_IPIP;
  std::uint16_t udp_port = VMR_UDP_PORT;  // host order here
};

struct EbpfRoute {
  Ipv4 hoa;
  Ipv4 peer;
  Ipv4 grace_peer;  // zero: none
  bool hold = false;
  bool tap = false;  // copies of what is tunnelled go to the TUN (the prepare-time recording)
  friend bool operator==(const EbpfRoute&, const EbpfRoute&) = default;
};

using EbpfCounters = std::array<std::uint64_t, VMR_COUNTER_MAX>;

class EbpfMaps {
 public:
  explicit EbpfMaps(const EbpfObject& object);

  // Errors (all): "bpf_map" naming the map, the key and the errno.
  Result<void> set_config(const EbpfConfig& config);
  Result<void> put_peer(const EbpfPeer& peer);  // also creates its counters
  Result<void> erase_peer(Ipv4 peer);           // and its counters
  Result<void> put_route(const EbpfRoute& route);
  Result<void> erase_route(Ipv4 hoa);
  [[nodiscard]] Result<std::vector<EbpfRoute>> routes() const;
  [[nodiscard]] Result<std::vector<EbpfPeer>> peers() const;
  [[nodiscard]] vmr_traffic peer_traffic(Ipv4 peer) const;  // zeros when absent
  [[nodiscard]] vmr_traffic hoa_traffic(Ipv4 hoa) const;
  Result<void> erase_hoa_traffic(Ipv4 hoa);
  // A dual-stack VM's IPv6 home address → its IPv4 HoA (RFC 5454).
  Result<void> put_address6(const Ipv6& address, Ipv4 hoa);
  Result<void> erase_address6(const Ipv6& address);
  [[nodiscard]] Result<std::vector<std::pair<Ipv6, Ipv4>>> addresses6() const;
  [[nodiscard]] EbpfCounters counters() const;

 private:
  [[nodiscard]] vmr_traffic traffic(int fd, Ipv4 key) const;
  [[nodiscard]] int fd(EbpfMap m) const { return fds_[static_cast<std::size_t>(m)]; }
  std::array<int, kEbpfMapCount> fds_{};
  int cpus_;
};

[[nodiscard]] std::string_view counter_name(vmr_counter c);

}  // namespace vmroam::dataplane
