// EbpfObject: see ebpf_loader.hpp.
#include "common/dataplane/ebpf_loader.hpp"

#include <bpf/libbpf.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>

// The generated skeleton is C written for C compilers; its casts are not ours to fix.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wcast-align"
#pragma GCC diagnostic ignored "-Wzero-as-null-pointer-constant"
#pragma GCC diagnostic ignored "-Wuseless-cast"
#include "vmroam.skel.h"
#pragma GCC diagnostic pop

namespace vmroam::dataplane {
namespace {

// libbpf reports why a load failed through its print callback; the last lines go into the
// error's context instead of onto stderr.
thread_local std::string g_libbpf_log;

int collect_libbpf_log(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  char line[512];
  int n = std::vsnprintf(line, sizeof line, format, args);
  g_libbpf_log += line;
  constexpr std::size_t kKeep = 2048;
  if (g_libbpf_log.size() > kKeep) g_libbpf_log.erase(0, g_libbpf_log.size() - kKeep);
  return n;
}

std::string errno_text(int err) { return std::strerror(err < 0 ? -err : err); }

bool on_bpffs(const std::string& path) {
  struct statfs st {};
  return ::statfs(path.c_str(), &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

// A bpffs at config.bpffs (mounted if missing: hosts without systemd, fresh namespaces) and
// the pin directory inside it.
Result<void> prepare_bpffs(const EbpfLoaderConfig& c) {
  if (!on_bpffs(c.bpffs)) {
    (void)::mkdir(c.bpffs.c_str(), 0700);
    if (::mount("bpf", c.bpffs.c_str(), "bpf", 0, "mode=0700") != 0)
      return fail("bpffs", "mount -t bpf " + c.bpffs + ": " + errno_text(errno));
  }
  // mkdir -p below the bpffs root (a pin directory per agent and network namespace).
  for (std::size_t at = c.bpffs.size(); at != std::string::npos;) {
    at = c.pin_dir.find('/', at + 1);
    const std::string dir = c.pin_dir.substr(0, at);
    if (dir.size() <= c.bpffs.size()) continue;
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
      return fail("bpffs", "mkdir " + dir + ": " + errno_text(errno));
  }
  if (!on_bpffs(c.pin_dir)) return fail("bpffs", c.pin_dir + " is not on a bpffs");
  return ok();
}

bpf_tc_hook tc_hook(int ifindex, bpf_tc_attach_point point) {
  bpf_tc_hook hook{};
  hook.sz = sizeof hook;
  hook.ifindex = ifindex;
  hook.attach_point = point;
  return hook;
}

bpf_tc_attach_point side(EbpfProgram p) { return is_egress(p) ? BPF_TC_EGRESS : BPF_TC_INGRESS; }

}  // namespace

std::string_view to_string(EbpfProgram p) {
  constexpr std::array<std::string_view, kEbpfProgramCount> kNames = {
      "vmr_ha_wan_in", "vmr_ha_home_in", "vmr_ha_tun_out", "vmr_ha_tun_in",
      "vmr_fa_wan_in", "vmr_fa_vm_in",   "vmr_fa_tun_out"};
  return kNames[static_cast<std::size_t>(p)];
}

Result<std::unique_ptr<EbpfObject>> EbpfObject::load(const EbpfLoaderConfig& config) {
  VMROAM_TRY_VOID(prepare_bpffs(config));
  g_libbpf_log.clear();
  libbpf_set_print(collect_libbpf_log);
  bpf_object_open_opts opts{};
  opts.sz = sizeof opts;
  opts.pin_root_path = config.pin_dir.c_str();
  vmroam_bpf* skel = vmroam_bpf__open_opts(&opts);
  if (skel == nullptr) return fail("bpf_load", "open: " + errno_text(errno) + "; " + g_libbpf_log);
  if (int err = vmroam_bpf__load(skel); err != 0) {
    vmroam_bpf__destroy(skel);
    if (err == -EPERM || err == -EACCES)
      return fail("bpf_unavailable",
                  "loading BPF programs needs CAP_BPF and CAP_NET_ADMIN: " + errno_text(err));
    return fail("bpf_load", errno_text(err) + "; " + g_libbpf_log);
  }
  return std::unique_ptr<EbpfObject>(new EbpfObject(skel, config.pin_dir));
}

EbpfObject::~EbpfObject() {
  if (!keep_attached_) detach_all();
  vmroam_bpf__destroy(skel_);
}

int EbpfObject::program_fd(EbpfProgram p) const {
  const auto& g = skel_->progs;
  const std::array<bpf_program*, kEbpfProgramCount> programs = {
      g.vmr_ha_wan_in, g.vmr_ha_home_in, g.vmr_ha_tun_out, g.vmr_ha_tun_in,
      g.vmr_fa_wan_in, g.vmr_fa_vm_in,   g.vmr_fa_tun_out};
  return bpf_program__fd(programs[static_cast<std::size_t>(p)]);
}

int EbpfObject::map_fd(EbpfMap m) const {
  const auto& g = skel_->maps;
  const std::array<bpf_map*, kEbpfMapCount> maps = {g.vmr_cfg_v1,     g.vmr_peer_v1,   g.vmr_route_v1,
                                                    g.vmr_peer_st_v1, g.vmr_hoa_st_v1, g.vmr_cnt_v2,
                                                    g.vmr_addr6_v1};
  return bpf_map__fd(maps[static_cast<std::size_t>(m)]);
}

Result<void> EbpfObject::attach(int ifindex, EbpfProgram p) {
  bpf_tc_hook hook = tc_hook(ifindex, side(p));
  const std::string where = std::string(to_string(p)) + " on ifindex " + std::to_string(ifindex);
  int rc = bpf_tc_hook_create(&hook);  // -EEXIST: the clsact qdisc is there already
  if (rc != 0 && rc != -EEXIST) return fail("tc_attach", where + ": clsact qdisc: " + errno_text(rc));
  bpf_tc_opts opts{};
  opts.sz = sizeof opts;
  opts.handle = 1;
  opts.priority = 1;
  opts.prog_fd = program_fd(p);
  opts.flags = BPF_TC_F_REPLACE;
  if (int err = bpf_tc_attach(&hook, &opts); err != 0)
    return fail("tc_attach", where + ": " + errno_text(err));
  auto same = [&](const Attachment& a) {
    return a.ifindex == ifindex && is_egress(a.program) == is_egress(p);
  };
  std::erase_if(attached_, same);
  attached_.push_back({ifindex, p, rc == 0});
  return ok();
}

Result<void> EbpfObject::detach(int ifindex, EbpfProgram p) {
  auto it = std::find_if(attached_.begin(), attached_.end(),
                         [&](const Attachment& a) { return a.ifindex == ifindex && a.program == p; });
  bool created = false;
  for (const auto& a : attached_)
    if (a.ifindex == ifindex) created = created || a.created_qdisc;
  if (it != attached_.end()) attached_.erase(it);
  bpf_tc_hook hook = tc_hook(ifindex, side(p));
  bpf_tc_opts opts{};
  opts.sz = sizeof opts;
  opts.handle = 1;
  opts.priority = 1;
  int rc = bpf_tc_detach(&hook, &opts);
  bool left = std::any_of(attached_.begin(), attached_.end(),
                          [&](const Attachment& a) { return a.ifindex == ifindex; });
  if (created && !left) {
    bpf_tc_hook all = tc_hook(ifindex, static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS));
    (void)bpf_tc_hook_destroy(&all);
  }
  if (rc != 0 && rc != -ENOENT && rc != -ENODEV && rc != -EINVAL)
    return fail("tc_detach",
                std::string(to_string(p)) + " on ifindex " + std::to_string(ifindex) + ": " + errno_text(rc));
  return ok();
}

void EbpfObject::detach_all() {
  while (!attached_.empty()) {
    Attachment a = attached_.back();
    (void)detach(a.ifindex, a.program);  // a vanished device took its filters with it
  }
}

Result<void> EbpfObject::unpin_maps() {
  bpf_map* map = nullptr;
  bpf_object__for_each_map(map, skel_->obj) {
    if (!bpf_map__is_pinned(map)) continue;
    if (int err = bpf_map__unpin(map, nullptr); err != 0)
      return fail("bpf_unpin", std::string(bpf_map__name(map)) + ": " + errno_text(err));
  }
  (void)::rmdir(pin_dir_.c_str());  // ours and empty now; a shared parent stays
  return ok();
}

}  // namespace vmroam::dataplane
