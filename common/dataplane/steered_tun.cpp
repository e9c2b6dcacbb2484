// SteeredTun: see steered_tun.hpp.
#include "common/dataplane/steered_tun.hpp"

#include <unistd.h>

#include <utility>

#include "common/dataplane/sysctl.hpp"

namespace vmroam::dataplane {

namespace asio = boost::asio;

Result<std::unique_ptr<SteeredTun>> SteeredTun::open(asio::io_context& io, Netlink& nl, Config config) {
  VMROAM_TRY(TunDevice tun, TunDevice::open(config.name, config.vnet_header));
  VMROAM_TRY(LinkInfo link, nl.link(tun.name()));
  Sysctl sysctl;
  // IPv6 on, for dual-stack VMs' packets, but no address of its own (addr_gen_mode 1, set
  // before IPv6 comes up): without a link-local address the kernel sends no router
  // solicitations or other neighbour discovery into the tunnel. Absent IPv6 is fine (IPv4
  // works alone), so failures here are not ones.
  for (const auto& [key, value] : {std::pair<const char*, const char*>{"addr_gen_mode", "1"},
                                   {"accept_ra", "0"},
                                   {"disable_ipv6", "0"}}) {
    [[maybe_unused]] const auto ipv6 = sysctl.set("net/ipv6/conf/" + tun.name() + "/" + key, value);
  }
  // The TUN's MTU is the tunnel MTU: the kernel answers DF packets above it with Fragmentation
  // Needed carrying it (RFC 2003 §4) and fragments the others.
  VMROAM_TRY_VOID(nl.set_link(link.ifindex, true, config.mtu));
  // (set() returns the previous value, which we do not need: the TUN goes with its settings.)
  VMROAM_TRY_VOID(sysctl.set("net/ipv4/conf/" + tun.name() + "/rp_filter", "0"));
  VMROAM_TRY_VOID(sysctl.set("net/ipv4/conf/" + tun.name() + "/forwarding", "1"));
  return std::unique_ptr<SteeredTun>(new SteeredTun(io, nl, std::move(config), std::move(tun), link.ifindex));
}

SteeredTun::SteeredTun(asio::io_context& io, Netlink& nl, Config config, TunDevice tun, int ifindex)
    : config_(std::move(config)),
      tun_(std::move(tun)),
      ifindex_(ifindex),
      steering_(nl, config_.steering),
      sd_(io) {
  // The TunDevice keeps owning its fd; the descriptor only waits on it (released below).
  sd_.assign(tun_.fd());
}

SteeredTun::~SteeredTun() {
  boost::system::error_code ec;
  sd_.cancel(ec);
  (void)sd_.release();  // TunDevice closes it
  steering_.clear();    // routes and rules before the TUN (they would vanish with it anyway)
}

void SteeredTun::watch(std::function<void()> on_readable) {
  on_readable_ = std::move(on_readable);
  arm();
}

void SteeredTun::arm() {
  sd_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
    if (ec == asio::error::operation_aborted) return;  // TUN gone: touch nothing
    if (!ec) on_readable_();
    arm();
  });
}

bool SteeredTun::write(ByteView packet) const {
  return ::write(tun_.fd(), packet.data(), packet.size()) == static_cast<ssize_t>(packet.size());
}

Result<void> SteeredTun::steer(Ipv4 hoa, const std::vector<Ipv6>& v6) {
  VMROAM_TRY_VOID(steering_.steer(hoa, ifindex_));
  steered_for_hold_.erase(hoa);  // the binding owns the steering now
  return steer6(v6);
}

Result<void> SteeredTun::unsteer(Ipv4 hoa, const std::vector<Ipv6>& v6) {
  steered_for_hold_.erase(hoa);
  unsteer6(v6);
  return steering_.unsteer(hoa);
}

Result<void> SteeredTun::steer_for_hold(Ipv4 hoa, const std::vector<Ipv6>& v6) {
  if (steering_.steered(hoa)) return ok();  // a binding steers it already
  VMROAM_TRY_VOID(steering_.steer(hoa, ifindex_));
  steered_for_hold_.insert(hoa);
  return steer6(v6);  // the hold covers the VM's IPv6 as well
}

Result<void> SteeredTun::end_hold_steering(Ipv4 hoa, const std::vector<Ipv6>& v6) {
  // Still only the hold's: the VM is at home (or the move was cancelled there), and what is
  // reinjected now must reach the kernel's home-link route.
  if (!steered_for_hold_.erase(hoa)) return ok();
  unsteer6(v6);
  return steering_.unsteer(hoa);
}

Result<void> SteeredTun::resteer6(Ipv4 hoa, const std::vector<Ipv6>& gone, const std::vector<Ipv6>& now) {
  unsteer6(gone);
  return steering_.steered(hoa) ? steer6(now) : ok();
}

Result<void> SteeredTun::steer6(const std::vector<Ipv6>& v6) {
  Result<void> steered = ok();
  for (const Ipv6& a : v6)
    if (auto r = steering_.steer6(a, ifindex_); !r && steered) steered = fail(r.error());
  return steered;
}

void SteeredTun::unsteer6(const std::vector<Ipv6>& v6) {
  for (const Ipv6& a : v6) {
    if (!steering_.steered6(a)) continue;
    [[maybe_unused]] const auto gone = steering_.unsteer6(a);
  }
}

}  // namespace vmroam::dataplane
