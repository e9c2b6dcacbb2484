// SteeredTun: see steered_tun.hpp.
#include "common/dataplane/steered_tun.hpp"

#include <unistd.h>

#include "common/dataplane/sysctl.hpp"

namespace vmroam::dataplane {

namespace asio = boost::asio;

Result<std::unique_ptr<SteeredTun>> SteeredTun::open(asio::io_context& io, Netlink& nl, Config config) {
  VMROAM_TRY(TunDevice tun, TunDevice::open(config.name, config.vnet_header));
  VMROAM_TRY(LinkInfo link, nl.link(tun.name()));
  Sysctl sysctl;
  // IPv4-only tunnel. Absent IPv6 is fine, so a failure here is not one.
  [[maybe_unused]] const auto ipv6_off = sysctl.set("net/ipv6/conf/" + tun.name() + "/disable_ipv6", "1");
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

Result<void> SteeredTun::steer(Ipv4 hoa) {
  VMROAM_TRY_VOID(steering_.steer(hoa, ifindex_));
  steered_for_hold_.erase(hoa);  // the binding owns the steering now
  return ok();
}

Result<void> SteeredTun::unsteer(Ipv4 hoa) {
  steered_for_hold_.erase(hoa);
  return steering_.unsteer(hoa);
}

Result<void> SteeredTun::steer_for_hold(Ipv4 hoa) {
  if (steering_.steered(hoa)) return ok();  // a binding steers it already
  VMROAM_TRY_VOID(steering_.steer(hoa, ifindex_));
  steered_for_hold_.insert(hoa);
  return ok();
}

Result<void> SteeredTun::end_hold_steering(Ipv4 hoa) {
  // Still only the hold's: the VM is at home (or the move was cancelled there), and what is
  // reinjected now must reach the kernel's home-link route.
  if (steered_for_hold_.erase(hoa)) return steering_.unsteer(hoa);
  return ok();
}

Ipv4 SteeredTun::key_address(ByteView packet) const {
  if (packet.size() < 20) return Ipv4();
  const std::size_t at = config_.steering.key == LookupKey::destination ? 16 : 12;
  return Ipv4((std::uint32_t{packet[at]} << 24) | (std::uint32_t{packet[at + 1]} << 16) |
              (std::uint32_t{packet[at + 2]} << 8) | std::uint32_t{packet[at + 3]});
}

}  // namespace vmroam::dataplane
