// TunDevice: see tun_device.hpp.
#include "common/dataplane/tun_device.hpp"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/dataplane/netlink.hpp"

namespace vmroam::dataplane {

Result<TunDevice> TunDevice::open(std::string_view name) { return open(name, false); }

Result<TunDevice> TunDevice::open(std::string_view name, bool vnet_header) {
  if (!name.starts_with(kLinkPrefix) || name.size() >= IFNAMSIZ)
    return fail("bad_link_name", std::string(name) + " (needs prefix vmr, < 16 chars)");
  int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return fail("tun_unavailable", std::string("/dev/net/tun: ") + std::strerror(errno));
  ifreq ifr{};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;  // bare IPv4 packets, no 4-byte packet-info prefix
  if (vnet_header) ifr.ifr_flags |= IFF_VNET_HDR;
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  if (::ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int e = errno;
    ::close(fd);
    return fail("tun_failed", "TUNSETIFF " + std::string(name) + ": " + std::strerror(e));
  }
  bool offloads = false;
  if (vnet_header) {
    // Best effort: without it the kernel cuts super-packets itself and checksums are whole.
    offloads = ::ioctl(fd, TUNSETOFFLOAD, static_cast<unsigned long>(TUN_F_CSUM | TUN_F_TSO4)) == 0;
  }
  return TunDevice(fd, ifr.ifr_name, vnet_header, offloads);
}

TunDevice& TunDevice::operator=(TunDevice&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
    name_ = std::move(o.name_);
    vnet_ = o.vnet_;
    offloads_ = o.offloads_;
  }
  return *this;
}

TunDevice::~TunDevice() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace vmroam::dataplane
