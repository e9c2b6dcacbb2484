// make_tunnel_driver: picks a TunnelDriver by its config name, "userspace", "kernel" or "ebpf".
#pragma once

#include <memory>
#include <string_view>

#include "common/dataplane/kernel_driver.hpp"
#include "common/dataplane/userspace_driver.hpp"

namespace vmroam::dataplane {

struct DriverConfig {
  std::string_view name = "userspace";
  LookupKey key = LookupKey::destination;
  Ipv4 local;
  std::uint8_t ttl = 64;
  std::string tun_name = "vmrtun0";  // userspace and ebpf
  unsigned mtu = 1468;               // userspace and ebpf (the tunnel MTU)
  SteeringConfig steering;
  UdpSender udp_send;             // userspace only
  UdpBatchSender udp_send_batch;  // userspace only, optional (UDP GSO)
};

// Errors: "unknown_driver" naming the bad value; "ebpf_unavailable" (built without the bpf
// feature); the drivers' own creation errors
// (e.g. "ipip_unavailable" for "kernel" here).
Result<std::unique_ptr<TunnelDriver>> make_tunnel_driver(const DriverConfig& config,
                                                         boost::asio::io_context& io, LibnlNetlink& nl);

}  // namespace vmroam::dataplane
