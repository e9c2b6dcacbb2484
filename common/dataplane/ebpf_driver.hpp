// EbpfDriver: the tc/eBPF data plane (bpf/vmroam.bpf.c) behind the TunnelDriver seam. The
// packets never reach user space on the fast path: programs on the links encapsulate and
// decapsulate with GSO kept (docs/dataplane.md "eBPF data plane"). This class is the agent's
// hand on them: it loads and attaches the programs (EbpfObject), mirrors the agent's
// endpoints and routes into the maps (EbpfMaps) — the agent stays the source of truth — and
// runs the few things a program leaves to user space:
//   * a TUN (`tun_name`, MTU = the tunnel MTU) with the same steering as the userspace
//     driver: the kernel's slow path (TTL expiry, too big → ICMP or fragments, the host's own
//     traffic) reaches it, and its egress program tunnels what the kernel sends there;
//   * the handover hold's seam (HoldPort, at the HA): divert sets the route's hold flag, the
//     programs redirect the HoA's packets into the TUN, and they are read here and handed to
//     the sink; reinject writes a packet back into the TUN, where the TUN's ingress program
//     tunnels it to the HoA's care-of address now (or the kernel delivers it on the home
//     link). tap sets the route's tap flag: the programs clone each packet they tunnel to the
//     HoA into the TUN (marked, so that its egress program lets the copy through), and the
//     reader hands the copies to the sink as `tapped`;
//   * a dual-stack VM's IPv6 home addresses (set_home_addresses_v6) go into the programs' IPv6
//     map, naming the HoA whose route they follow, and are steered with it: its IPv6 is
//     tunnelled, held, tapped and accepted exactly as its IPv4;
//   * RFC 3519 datagrams the kernel aggregated (GRO) or fragmented go to the daemon's UDP 434
//     socket, which hands them here (handle_udp_tunnel_payload): checked by a TunnelTable
//     like the userspace driver's, then written into the TUN for the kernel to route.
// Start-up: maps pinned by a crashed predecessor are reused (its programs kept forwarding),
// the programs replaced atomically; once the agent has restored its bindings (the first turn
// of the loop after create()), map entries it did not re-add are removed. A clean stop (the
// destructor) detaches the programs, unpins the maps and removes the steering.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

// g++ 12 at -O2 flags Boost 1.74's scheduler (thread_info cast) with -Wnull-dereference;
// the diagnostic belongs to Boost, not to us.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include "common/core/asio.hpp"
#pragma GCC diagnostic pop
#include "common/dataplane/ebpf_loader.hpp"
#include "common/dataplane/ebpf_maps.hpp"
#include "common/dataplane/hold_port.hpp"
#include "common/dataplane/netlink.hpp"
#include "common/dataplane/steered_tun.hpp"
#include "common/dataplane/tunnel_driver.hpp"
#include "common/dataplane/tunnel_table.hpp"

namespace vmroam::dataplane {

struct EbpfDriverConfig {
  LookupKey key = LookupKey::destination;
  Ipv4 local;  // outer source; tunnel packets must be addressed to it
  std::uint8_t ttl = 64;
  std::string tun_name = "vmrtun0";
  unsigned mtu = 1468;  // the tunnel MTU: the TUN's MTU and the fast path's limit
  SteeringConfig steering;
  EbpfLoaderConfig loader;
  // Links that get the link programs; empty: every Ethernet link at start-up. At the FA,
  // steering.reverse_iif gets the reverse-tunnel program, every other link the decapsulator.
  std::vector<std::string> links;
};

class EbpfDriver final : public TunnelDriver, public HoldPort {
 public:
  // Errors: the loader's ("bpf_unavailable", "bpffs", "bpf_load", "tc_attach"), the TUN's and
  // netlink's, "no_links" when there is nothing to attach to.
  static Result<std::unique_ptr<EbpfDriver>> create(boost::asio::io_context& io, Netlink& nl,
                                                    EbpfDriverConfig config);
  ~EbpfDriver() override;

  Result<void> add_tunnel_endpoint(const TunnelEndpoint& endpoint) override;
  Result<void> remove_tunnel_endpoint(Ipv4 peer) override;
  Result<void> route(Ipv4 hoa, Ipv4 peer) override;
  Result<void> unroute(Ipv4 hoa) override;
  [[nodiscard]] TunnelStats stats() const override;
  void handle_udp_tunnel_payload(Ipv4 src, std::uint16_t src_port, ByteView payload) override;
  [[nodiscard]] std::string_view name() const override { return "ebpf"; }
  void end_grace(Ipv4 hoa) override;
  // Dual-stack VMs (RFC 5454): the addresses go into the IPv6 map (address → HoA), and follow
  // the HoA's steering into the TUN (docs/dataplane.md "IPv6 in the kernel data plane").
  Result<void> set_home_addresses_v6(Ipv4 hoa, const std::vector<Ipv6>& addresses) override;

  // HoldPort (destination lookup only; "not_supported" at the FA).
  void set_sink(Sink sink) override { sink_ = std::move(sink); }
  // Off: first reads the TUN until EAGAIN, so that everything the programs diverted so far
  // reaches the sink, then clears the flag.
  Result<void> divert(Ipv4 hoa, bool on) override;
  // Copies of what the programs tunnel to the HoA reach the sink, stamped when read.
  Result<void> tap(Ipv4 hoa, bool on) override;
  Result<void> reinject(ByteView packet) override;

  [[nodiscard]] int tun_ifindex() const { return tun_->ifindex(); }
  [[nodiscard]] const EbpfMaps& maps() const { return maps_; }

 private:
  EbpfDriver(EbpfDriverConfig config, std::unique_ptr<EbpfObject> object, std::unique_ptr<SteeredTun> tun);
  Result<void> attach(Netlink& nl);
  // Writes the HoA's map entry from what the agent asked for (route, grace, divert), or
  // removes it when none applies.
  Result<void> sync(Ipv4 hoa);
  // Removes map entries the agent did not restore (left by a crashed predecessor).
  void reconcile();
  void drain_tun();
  void from_tun(ByteView packet);

  EbpfDriverConfig config_;
  std::unique_ptr<EbpfObject> object_;
  EbpfMaps maps_;
  std::unique_ptr<SteeredTun> tun_;  // the TUN and the steering into it
  TunnelTable table_;                // endpoints, routes and grace as the agent set them; userspace counters
  Sink sink_;
  std::unordered_set<Ipv4> diverted_;
  std::unordered_set<Ipv4> tapped_;
  std::unordered_map<Ipv4, Ipv4> routes_;  // HoA → peer
  std::unordered_map<Ipv4, Ipv4> grace_;   // HoA → the peer it was routed to before
  std::vector<std::uint8_t> buf_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // expires with the driver
};

}  // namespace vmroam::dataplane
