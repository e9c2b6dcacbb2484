// The world the eBPF tests run in: a private network and mount namespace (unshare, so nothing
// is named and nothing is left behind), a bpffs mounted on a scratch directory for the pins,
// and one veth whose routes give bpf_fib_lookup fixed answers:
//
//     vmrw0 192.0.2.1/24, MAC 02:00:00:00:00:01 ──veth── vmrw1
//       default via 192.0.2.2 (neighbour 02:00:00:00:00:02, permanent: FIB "success")
//       203.0.113.0/24 via 192.0.2.3 (no neighbour: FIB "no_neigh")
//       2001:db8:ffff::1/64 (IPv6 forwarding on: the FA's own IPv6 address, FIB "not forwarded")
//       default via 2001:db8:ffff::2 (no neighbour: IPv6 destinations are forwarded)
//
// Skips (with the reason) when namespaces, veth or BPF are not available to us.
#pragma once

#include <net/if.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "common/dataplane/ebpf_loader.hpp"

namespace vmroam::test {

class EbpfTestEnv {
 public:
  // Sets the namespaces up once per process; returns why it cannot, or "" when ready.
  static const std::string& prepare() {
    static const std::string why = setup();
    return why;
  }
  static const std::string& bpffs() {
    static const std::string dir = make_dir();
    return dir;
  }
  static int wan_ifindex() { return static_cast<int>(if_nametoindex("vmrw0")); }
  static int other_ifindex() { return static_cast<int>(if_nametoindex("vmrw1")); }

 private:
  static std::string make_dir() {
    std::string tmpl = "/tmp/vmroam-bpffs-XXXXXX";
    if (!mkdtemp(tmpl.data())) std::abort();
    return tmpl;
  }
  static std::string setup() {
    if (::unshare(CLONE_NEWNET | CLONE_NEWNS) != 0)
      return "unshare(CLONE_NEWNET | CLONE_NEWNS) refused: needs CAP_SYS_ADMIN";
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      return "mount --make-rprivate / refused";
    if (::mount("bpf", bpffs().c_str(), "bpf", 0, "mode=0700") != 0)
      return "cannot mount a bpffs (kernel without CONFIG_BPF_SYSCALL?)";
    // The mount namespace dies with the process; the empty mount point is removed now
    // (rmdir of a mount point fails, so do it lazily at exit from outside: atexit).
    std::atexit([] {
      (void)::umount2(bpffs().c_str(), MNT_DETACH);
      (void)::rmdir(bpffs().c_str());
    });
    const char* script =
        "ip link set lo up && ip link add vmrw0 type veth peer name vmrw1 && "
        "ip link set vmrw0 address 02:00:00:00:00:01 && ip addr add 192.0.2.1/24 dev vmrw0 && "
        "ip link set vmrw0 up && ip link set vmrw1 up && "
        "ip neigh replace 192.0.2.2 lladdr 02:00:00:00:00:02 dev vmrw0 nud permanent && "
        "ip route add default via 192.0.2.2 && ip route add 203.0.113.0/24 via 192.0.2.3 && "
        "sysctl -qw net.ipv6.conf.all.forwarding=1 && ip addr add 2001:db8:ffff::1/64 dev vmrw0 nodad && "
        "ip -6 route add default via 2001:db8:ffff::2 dev vmrw0";
    if (std::system(script) != 0) return "veth or iproute2 unavailable";
    // bpf_fib_lookup answers only for devices that forward (a router's), like ip_forward.
    std::ofstream("/proc/sys/net/ipv4/conf/all/forwarding") << "1\n";
    std::ofstream("/proc/sys/net/ipv4/conf/vmrw0/forwarding") << "1\n";
    return "";
  }
};

// Skips the current test with the reason the environment is missing.
#define VMROAM_REQUIRE_EBPF_ENV()                                     \
  do {                                                                \
    const std::string& why_ = ::vmroam::test::EbpfTestEnv::prepare(); \
    if (!why_.empty()) GTEST_SKIP() << "SKIP: " << why_;              \
  } while (0)

}  // namespace vmroam::test
