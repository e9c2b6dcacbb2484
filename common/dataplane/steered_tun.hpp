// SteeredTun: the TUN a tunnel driver has the kernel route HoAs into, with that steering — the
// part the userspace and the eBPF drivers share (docs/dataplane.md). The userspace driver
// reads every tunnelled packet from it; the eBPF driver only the kernel's slow path, held
// packets and tapped copies.
//   * open(): the TUN, MTU = the tunnel MTU, up, rp_filter 0 and forwarding 1 (decapsulated
//     packets enter with sources whose reverse path is elsewhere: correspondents at the FA,
//     HoAs at the HA); IPv6 on for dual-stack VMs' packets but without an address of its own
//     (addr_gen_mode 1, accept_ra 0), so the kernel sends no router solicitations or other
//     neighbour discovery into the tunnel;
//   * steer()/unsteer(): a HoA's route (HA) or rule (FA) into it, for a binding, and those of
//     its VM's IPv6 home addresses (`v6`, RFC 5454; docs/dataplane.md "IPv6");
//   * steer_for_hold()/end_hold_steering(): the handover hold of a VM at home, which has no
//     binding to steer it: steered here for the hold only (its IPv6 too), undone when the hold
//     ends unless a binding took the steering over meanwhile;
//   * resteer6(): a HoA's IPv6 addresses changed: the ones gone leave, the new ones follow the
//     HoA's steering if it has any;
//   * watch(): calls back on the Asio loop whenever there is something to read.
// The destructor removes the steering first, then the TUN (the routes would vanish with it).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

// g++ 12 at -O2 flags Boost 1.74's scheduler (thread_info cast) with -Wnull-dereference;
// the diagnostic belongs to Boost, not to us.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include "common/core/asio.hpp"
#pragma GCC diagnostic pop
#include "common/core/bytes.hpp"
#include "common/dataplane/netlink.hpp"
#include "common/dataplane/steering.hpp"
#include "common/dataplane/tun_device.hpp"

namespace vmroam::dataplane {

class SteeredTun {
 public:
  struct Config {
    std::string name;
    unsigned mtu = 1468;
    bool vnet_header = false;  // IFF_VNET_HDR with offloads (tun_device.hpp)
    SteeringConfig steering;   // its key is the driver's lookup key
  };
  // Errors: the TUN's ("tun_unavailable", …), netlink's, the sysctls'.
  static Result<std::unique_ptr<SteeredTun>> open(boost::asio::io_context& io, Netlink& nl, Config config);
  ~SteeredTun();
  SteeredTun(const SteeredTun&) = delete;
  SteeredTun& operator=(const SteeredTun&) = delete;

  [[nodiscard]] int fd() const { return tun_.fd(); }
  [[nodiscard]] int ifindex() const { return ifindex_; }
  [[nodiscard]] const std::string& name() const { return tun_.name(); }
  [[nodiscard]] bool vnet_header() const { return tun_.vnet_header(); }

  // Calls `on_readable` on the loop each time the TUN has something to read (read until
  // EAGAIN, or the callback comes again at once), until destroyed.
  void watch(std::function<void()> on_readable);
  // Writes one packet (no virtio_net_hdr); false if the kernel did not take all of it.
  [[nodiscard]] bool write(ByteView packet) const;

  // A binding's steering of the HoA and its IPv6 home addresses `v6`: replaces any earlier
  // steering of the HoA (a hold's among them). The first refusal is reported, the other
  // addresses are still tried.
  Result<void> steer(Ipv4 hoa, const std::vector<Ipv6>& v6 = {});
  // IPv6 routes that will not go are gone already (with their device) or found at the next
  // start; the IPv4 one's refusal is reported.
  Result<void> unsteer(Ipv4 hoa, const std::vector<Ipv6>& v6 = {});
  // A hold's steering of a HoA that has none (a VM at home); a no-op when it has.
  Result<void> steer_for_hold(Ipv4 hoa, const std::vector<Ipv6>& v6 = {});
  // Undoes steer_for_hold's steering, unless steer() took it over since.
  Result<void> end_hold_steering(Ipv4 hoa, const std::vector<Ipv6>& v6 = {});
  // The HoA's IPv6 home addresses changed: `gone` are unsteered, `now` steered if the HoA is
  // (by a binding or a hold).
  Result<void> resteer6(Ipv4 hoa, const std::vector<Ipv6>& gone, const std::vector<Ipv6>& now);
  [[nodiscard]] bool steered(Ipv4 hoa) const { return steering_.steered(hoa); }
  // Removes all steering (also what the destructor does).
  void clear() { steering_.clear(); }

 private:
  SteeredTun(boost::asio::io_context& io, Netlink& nl, Config config, TunDevice tun, int ifindex);
  void arm();
  Result<void> steer6(const std::vector<Ipv6>& v6);
  void unsteer6(const std::vector<Ipv6>& v6);

  Config config_;
  TunDevice tun_;
  int ifindex_;
  Steering steering_;
  std::unordered_set<Ipv4> steered_for_hold_;  // HoAs steered only because they are held
  boost::asio::posix::stream_descriptor sd_;
  std::function<void()> on_readable_;
};

}  // namespace vmroam::dataplane
