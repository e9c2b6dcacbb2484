// make_tunnel_driver: picks a TunnelDriver by its config name, "userspace", "kernel", "ebpf" or
// "auto" (the default): the eBPF driver wherever the kernel and this build support it, else the
// userspace driver, and the reason goes to `on_fallback` (the agent logs it, once).
#pragma once

#include <functional>
#include <memory>
#include <string_view>

#include "common/dataplane/kernel_driver.hpp"
#include "common/dataplane/userspace_driver.hpp"

namespace vmroam::dataplane {

// Why "auto" did not get the eBPF driver: the error its creation failed with.
using DriverFallback = std::function<void(const Error& why)>;

struct DriverConfig {
  std::string_view name = "auto";
  LookupKey key = LookupKey::destination;
  Ipv4 local;
  std::uint8_t ttl = 64;
  std::string tun_name = "vmrtun0";   // userspace and ebpf
  unsigned mtu = 1468;                // userspace and ebpf (the tunnel MTU)
  std::string bpffs = "/sys/fs/bpf";  // ebpf: the bpffs its maps are pinned in (mounted if not)
  SteeringConfig steering;
  UdpSender udp_send;             // userspace only
  UdpBatchSender udp_send_batch;  // userspace only, optional (UDP GSO)
  DriverFallback on_fallback;     // "auto" only, optional
};

// Errors: "unknown_driver" naming the bad value; "ebpf_unavailable" (built without the bpf
// feature); the drivers' own creation errors
// (e.g. "ipip_unavailable" for "kernel" here).
Result<std::unique_ptr<TunnelDriver>> make_tunnel_driver(const DriverConfig& config,
                                                         boost::asio::io_context& io, LibnlNetlink& nl);

}  // namespace vmroam::dataplane
