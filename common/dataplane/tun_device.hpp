// TunDevice: an RAII layer-3 TUN device (/dev/net/tun, IFF_TUN | IFF_NO_PI) whose
// non-blocking fd joins the Asio loop. Not persistent: closing the fd removes the link, so
// a crashed daemon leaves no TUN behind. Up/MTU are set through Netlink (libnl).
//
// With `vnet_header` (IFF_VNET_HDR) every read and write carries a 10-byte virtio_net_hdr
// first (gso.hpp), and TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4) lets the kernel hand over TCP
// super-packets of up to 64 KiB with a partial checksum instead of cutting them to the MTU
// first: one read per 64 KiB instead of ~45 (docs/dataplane.md "Performance").
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "common/core/result.hpp"

namespace vmroam::dataplane {

class TunDevice {
 public:
  // `name` must start with "vmr" and fit IFNAMSIZ. Fails with "tun_unavailable" when
  // /dev/net/tun is missing.
  static Result<TunDevice> open(std::string_view name);
  // As above; with vnet_header, offloads() tells whether the kernel accepted TSO4 too.
  static Result<TunDevice> open(std::string_view name, bool vnet_header);
  TunDevice() = default;
  TunDevice(TunDevice&& o) noexcept
      : fd_(std::exchange(o.fd_, -1)), name_(std::move(o.name_)), vnet_(o.vnet_), offloads_(o.offloads_) {}
  TunDevice& operator=(TunDevice&& o) noexcept;
  TunDevice(const TunDevice&) = delete;
  TunDevice& operator=(const TunDevice&) = delete;
  ~TunDevice();

  [[nodiscard]] int fd() const { return fd_; }
  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] bool is_open() const { return fd_ >= 0; }
  [[nodiscard]] bool vnet_header() const { return vnet_; }
  [[nodiscard]] bool offloads() const { return offloads_; }

 private:
  TunDevice(int fd, std::string name, bool vnet, bool offloads)
      : fd_(fd), name_(std::move(name)), vnet_(vnet), offloads_(offloads) {}
  int fd_ = -1;
  std::string name_;
  bool vnet_ = false;
  bool offloads_ = false;
};

}  // namespace vmroam::dataplane
