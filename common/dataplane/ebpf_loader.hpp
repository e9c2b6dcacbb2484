// EbpfObject: the tc/eBPF programs (bpf/vmroam.bpf.c) loaded into the kernel, their maps
// pinned, and the tc filters this process attached. RAII: destruction detaches what it
// attached (a clean stop) unless keep_attached() was called (a restart: the successor's
// attach replaces the programs atomically, handle 1 priority 1 with BPF_TC_F_REPLACE, and
// the filters keep running meanwhile). Maps are pinned by name under `pin_dir` and reused by
// the next load, contents included (vmroam_bpf_shared.h: versioned names); unpin_maps()
// forgets them. docs/dataplane.md "eBPF" describes hooks, maps and the restart story.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/core/result.hpp"

struct vmroam_bpf;  // the bpftool skeleton (vmroam.skel.h), seen only by ebpf_loader.cpp

namespace vmroam::dataplane {

enum class EbpfProgram : std::uint8_t {
  ha_wan_in,   // HA, WAN ingress: decapsulate reverse tunnel, tunnel correspondents' packets
  ha_home_in,  // HA, home-link ingress: tunnel packets for HoAs away from home
  ha_tun_out,  // HA, TUN egress: the kernel's slow path into the tunnel; the hold's queue
  ha_tun_in,   // HA, TUN ingress: packets released from a hold
  fa_wan_in,   // FA, WAN ingress: decapsulate for visitors
  fa_vm_in,    // FA, VM-link ingress: reverse tunnel (RFC 3024)
  fa_tun_out,  // FA, TUN egress: the kernel's slow path into the reverse tunnel
  count_,
};
inline constexpr std::size_t kEbpfProgramCount = static_cast<std::size_t>(EbpfProgram::count_);
[[nodiscard]] std::string_view to_string(EbpfProgram p);
// The programs on a TUN's egress run where the kernel transmits; every other one at ingress.
[[nodiscard]] constexpr bool is_egress(EbpfProgram p) {
  return p == EbpfProgram::ha_tun_out || p == EbpfProgram::fa_tun_out;
}

enum class EbpfMap : std::uint8_t { config, peers, routes, peer_stats, hoa_stats, counters, addrs6, count_ };
inline constexpr std::size_t kEbpfMapCount = static_cast<std::size_t>(EbpfMap::count_);

struct EbpfLoaderConfig {
  std::string bpffs = "/sys/fs/bpf";           // mounted (type bpf) here if it is not one yet
  std::string pin_dir = "/sys/fs/bpf/vmroam";  // maps are pinned here by name; inside bpffs (made)
};

class EbpfObject {
 public:
  // Loads every program, reusing the maps pinned in pin_dir and pinning the missing ones.
  // Errors: "bpf_unavailable" (the kernel or our capabilities refuse BPF: CAP_BPF and
  // CAP_NET_ADMIN are needed), "bpffs" (pin_dir cannot be made on a bpffs), "bpf_load" (the
  // verifier or a pinned map of another shape refused, with libbpf's reason).
  static Result<std::unique_ptr<EbpfObject>> load(const EbpfLoaderConfig& config);
  ~EbpfObject();
  EbpfObject(const EbpfObject&) = delete;
  EbpfObject& operator=(const EbpfObject&) = delete;

  [[nodiscard]] int program_fd(EbpfProgram p) const;
  [[nodiscard]] int map_fd(EbpfMap m) const;

  // Puts `p` on its side of ifindex's clsact qdisc (created if missing) at handle 1, priority
  // 1, replacing whatever program held that slot. Errors: "tc_attach" with the errno.
  Result<void> attach(int ifindex, EbpfProgram p);
  // Removes our filter from that hook, and the clsact qdisc if we created it and nothing of
  // ours is left on the device. Errors: "tc_detach".
  Result<void> detach(int ifindex, EbpfProgram p);
  // From now on the destructor leaves the filters in place.
  void keep_attached() { keep_attached_ = true; }
  // Unpins every map (they live on while a program uses them) and removes pin_dir if it is
  // empty then. Errors: "bpf_unpin".
  Result<void> unpin_maps();

 private:
  struct Attachment {
    int ifindex;
    EbpfProgram program;
    bool created_qdisc;
  };
  EbpfObject(vmroam_bpf* skel, std::string pin_dir) : skel_(skel), pin_dir_(std::move(pin_dir)) {}
  void detach_all();

  vmroam_bpf* skel_;
  std::string pin_dir_;
  std::vector<Attachment> attached_;
  bool keep_attached_ = false;
};

}  // namespace vmroam::dataplane
