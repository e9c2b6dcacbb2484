// TunDevice: an RAII layer-3 TUN device (/dev/net/tun, IFF_TUN | IFF_NO_PI) whose
// non-blocking fd joins the Asio loop. Not persistent: closing the fd removes the link, so
// a crashed daemon leaves no TUN behind. Up/MTU are set through Netlink (libnl).
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
  TunDevice() = default;
  TunDevice(TunDevice&& o) noexcept : fd_(std::exchange(o.fd_, -1)), name_(std::move(o.name_)) {}
  TunDevice& operator=(TunDevice&& o) noexcept;
  TunDevice(const TunDevice&) = delete;
  TunDevice& operator=(const TunDevice&) = delete;
  ~TunDevice();

  [[nodiscard]] int fd() const { return fd_; }
  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] bool is_open() const { return fd_ >= 0; }

 private:
  TunDevice(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  int fd_ = -1;
  std::string name_;
};

}  // namespace vmroam::dataplane
