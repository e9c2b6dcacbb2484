// make_tunnel_driver: see driver_factory.hpp.
#include "common/dataplane/driver_factory.hpp"

namespace vmroam::dataplane {

Result<std::unique_ptr<TunnelDriver>> make_tunnel_driver(const DriverConfig& c, boost::asio::io_context& io,
                                                         LibnlNetlink& nl) {
  if (c.name == "userspace") {
    UserspaceConfig u{c.key, c.local, c.tun_name, c.mtu, c.ttl, c.steering, c.udp_send, c.udp_send_batch};
    VMROAM_TRY(auto d, UserspaceDriver::create(io, nl, std::move(u)));
    return std::unique_ptr<TunnelDriver>(std::move(d));
  }
  if (c.name == "kernel") {
    VMROAM_TRY(auto d, KernelDriver::create(nl, KernelConfig{c.key, c.local, c.ttl, c.steering}));
    return std::unique_ptr<TunnelDriver>(std::move(d));
  }
  return fail("unknown_driver",
              "dataplane driver \"" + std::string(c.name) + "\" (expected \"userspace\" or \"kernel\")");
}

}  // namespace vmroam::dataplane
