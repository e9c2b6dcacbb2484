// make_tunnel_driver: see driver_factory.hpp.
#include "common/dataplane/driver_factory.hpp"

#include <sys/stat.h>

#ifdef VMROAM_HAVE_BPF
#include "common/dataplane/ebpf_driver.hpp"
#endif

namespace vmroam::dataplane {
namespace {

// The eBPF driver's maps are pinned per network namespace and TUN (two agents on one host,
// or in namespaces sharing a bpffs, must not share maps); a restarted agent finds its own.
Result<std::unique_ptr<TunnelDriver>> make_ebpf_driver(const DriverConfig& c, boost::asio::io_context& io,
                                                       LibnlNetlink& nl) {
#ifdef VMROAM_HAVE_BPF
  EbpfDriverConfig e;
  e.key = c.key;
  e.local = c.local;
  e.ttl = c.ttl;
  e.tun_name = c.tun_name;
  e.mtu = c.mtu;
  e.steering = c.steering;
  struct stat netns {};
  const auto ns = ::stat("/proc/self/ns/net", &netns) == 0 ? netns.st_ino : 0;
  e.loader.bpffs = c.bpffs;
  e.loader.pin_dir = e.loader.bpffs + "/vmroam/net" + std::to_string(ns) + "-" + c.tun_name;
  VMROAM_TRY(auto d, EbpfDriver::create(io, nl, std::move(e)));
  return std::unique_ptr<TunnelDriver>(std::move(d));
#else
  (void)c;
  (void)io;
  (void)nl;
  return fail("ebpf_unavailable",
              "this build has no eBPF data plane (meson feature bpf: clang, bpftool, libbpf)");
#endif
}

}  // namespace

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
  if (c.name == "ebpf") return make_ebpf_driver(c, io, nl);
  if (c.name == "auto") {
    // Loading and attaching the programs is the probe: it needs CAP_BPF and CAP_NET_ADMIN, a
    // bpffs, and a kernel whose verifier accepts the helpers they call (bpf_skb_adjust_room
    // with the ENCAP flags, bpf_fib_lookup, bpf_redirect_neigh: Linux 5.10 or later).
    auto e = make_ebpf_driver(c, io, nl);
    if (e) return e;
    if (c.on_fallback) c.on_fallback(e.error());
    DriverConfig u = c;
    u.name = "userspace";
    return make_tunnel_driver(u, io, nl);
  }
  return fail("unknown_driver", "dataplane driver \"" + std::string(c.name) +
                                    "\" (expected \"auto\", \"ebpf\", \"userspace\" or \"kernel\")");
}

}  // namespace vmroam::dataplane
