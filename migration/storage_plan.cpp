// Storage migration's commands and decisions (storage_plan.hpp).
#include "migration/storage_plan.hpp"

#include <algorithm>
#include <cstdio>

#include "migration/progress.hpp"

namespace vmroam::migration {

namespace {

constexpr std::string_view kPeripheral = "/machine/peripheral/";

struct BlockDevice {
  std::string qdev, node;
  bool writable = false;
  std::uint64_t virtual_size = 0, allocated = 0;
};

// query-block's devices that have a medium; fails on a reply that is not a list of objects.
Result<std::vector<BlockDevice>> devices(const Json& reply) {
  if (!reply.is_array()) return fail("bad_query_block", "query-block did not return a list");
  std::vector<BlockDevice> out;
  for (const auto& b : reply) {
    if (!b.is_object()) return fail("bad_query_block", "query-block entry is not an object");
    const auto in = b.find("inserted");
    if (in == b.end() || !in->is_object()) continue;  // empty drive (CD-ROM without a disc)
    BlockDevice d;
    d.qdev = b.value("qdev", std::string());
    d.node = in->value("node-name", std::string());
    d.writable = !in->value("ro", false);
    if (const auto img = in->find("image"); img != in->end() && img->is_object()) {
      d.virtual_size = img->value("virtual-size", std::uint64_t{0});
      d.allocated = img->value("actual-size", std::uint64_t{0});
    }
    if (!d.qdev.empty() && !d.node.empty()) out.push_back(d);
  }
  return out;
}

bool names(const BlockDevice& d, const std::string& want) {
  return want == d.qdev || want == d.node || want == device_id(d.qdev);
}

QmpStep step(std::string name, Json args, bool may_fail = false) {
  return QmpStep{std::move(name), std::move(args), may_fail};
}

std::string creds_id(const MigrationTls& tls, MigrationSide side) {
  if (!tls.creds_id.empty()) return tls.creds_id;
  return side == MigrationSide::source ? kTlsCredsSourceId : kTlsCredsDestinationId;
}

}  // namespace

std::string device_id(const std::string& qdev) {
  if (!qdev.starts_with(kPeripheral)) return qdev;
  const auto rest = qdev.substr(kPeripheral.size());
  return rest.substr(0, rest.find('/'));
}

Result<std::vector<DiskPair>> match_disks(const Json& src_query_block, const Json& dst_query_block,
                                          const std::vector<std::string>& wanted) {
  auto src = devices(src_query_block);
  if (!src) return fail(src.error());
  auto dst = devices(dst_query_block);
  if (!dst) return fail(dst.error());
  std::vector<BlockDevice> chosen;
  for (const auto& w : wanted) {
    const auto it = std::find_if(src->begin(), src->end(), [&](const BlockDevice& d) { return names(d, w); });
    if (it == src->end()) return fail("storage_no_disk", "the source has no disk named " + w);
    if (!it->writable) return fail("storage_no_disk", w + " is read-only at the source: nothing to move");
    chosen.push_back(*it);
  }
  if (wanted.empty())
    std::copy_if(src->begin(), src->end(), std::back_inserter(chosen),
                 [](const BlockDevice& d) { return d.writable; });
  if (chosen.empty()) return fail("storage_no_disk", "the source has no writable disk to move");
  std::vector<DiskPair> out;
  for (const auto& s : chosen) {
    const auto t =
        std::find_if(dst->begin(), dst->end(), [&](const BlockDevice& d) { return d.qdev == s.qdev; });
    if (t == dst->end())
      return fail("storage_no_target",
                  "the destination has no device " + s.qdev + " (start it with the same disks)");
    if (t->virtual_size != s.virtual_size)
      return fail("storage_size_mismatch",
                  device_id(s.qdev) + ": the source is " + std::to_string(s.virtual_size) +
                      " bytes, the destination's target " + std::to_string(t->virtual_size));
    out.push_back(DiskPair{s.qdev, device_id(s.qdev), s.node, t->node, s.virtual_size, s.allocated});
  }
  return out;
}

std::string mirror_job_id(const DiskPair& d) { return "vmroam-mirror-" + d.name; }
std::string nbd_node_name(const DiskPair& d) { return "vmroam-nbd-" + d.name; }
std::string export_name(const DiskPair& d) { return "vmroam-" + d.name; }

std::vector<QmpStep> destination_setup(const StoragePlan& p) {
  std::vector<QmpStep> steps{step("nbd-server-stop", Json::object(), true)};
  Json start{{"addr", {{"type", "inet"}, {"data", {{"host", p.nbd_host}, {"port", p.nbd_port}}}}}};
  if (p.tls.enabled) {
    start["tls-creds"] = creds_id(p.tls, MigrationSide::destination);
    // Only the expected source may connect (its certificate's distinguished name).
    if (!p.tls.peer_dn.empty()) start["tls-authz"] = kTlsAuthzId;
  }
  steps.push_back(step("nbd-server-start", start));
  for (const auto& d : p.disks)
    steps.push_back(step("block-export-add", Json{{"type", "nbd"},
                                                  {"id", export_name(d)},
                                                  {"node-name", d.dst_node},
                                                  {"name", export_name(d)},
                                                  {"writable", true}}));
  return steps;
}

std::vector<QmpStep> source_setup(const StoragePlan& p, const DiskPair& d, std::uint64_t speed) {
  Json nbd{{"driver", "nbd"},
           {"node-name", nbd_node_name(d)},
           {"server", {{"type", "inet"}, {"host", p.nbd_host}, {"port", p.nbd_port}}},
           {"export", export_name(d)}};
  if (p.tls.enabled) {
    nbd["tls-creds"] = creds_id(p.tls, MigrationSide::source);
    nbd["tls-hostname"] = p.tls.hostname;
  }
  Json mirror{
      {"job-id", mirror_job_id(d)}, {"device", d.src_node}, {"target", nbd_node_name(d)}, {"sync", "full"}};
  if (speed) mirror["speed"] = speed;
  // A stale node of this name (a crashed earlier run) would make blockdev-add fail.
  return {step("blockdev-del", Json{{"node-name", nbd_node_name(d)}}, true), step("blockdev-add", nbd),
          step("blockdev-mirror", mirror)};
}

std::vector<QmpStep> switchover_steps(const StoragePlan& p) {
  std::vector<QmpStep> steps;
  for (const auto& d : p.disks) steps.push_back(step("block-job-cancel", Json{{"device", mirror_job_id(d)}}));
  return steps;
}

std::vector<QmpStep> source_teardown(const StoragePlan& p, const std::vector<std::string>& jobs_alive) {
  std::vector<QmpStep> steps;
  for (const auto& j : jobs_alive)
    steps.push_back(step("block-job-cancel", Json{{"device", j}, {"force", true}}, true));
  for (const auto& d : p.disks)
    steps.push_back(step("blockdev-del", Json{{"node-name", nbd_node_name(d)}}, true));
  return steps;
}

std::vector<QmpStep> destination_teardown() { return {step("nbd-server-stop", Json::object(), true)}; }

Result<std::vector<MirrorJob>> parse_block_jobs(const Json& reply) {
  if (!reply.is_array()) return fail("bad_block_jobs", "query-block-jobs did not return a list");
  std::vector<MirrorJob> out;
  for (const auto& j : reply) {
    if (!j.is_object()) return fail("bad_block_jobs", "query-block-jobs entry is not an object");
    MirrorJob m;
    m.id = j.value("device", std::string());
    m.status = j.value("status", std::string());
    m.len = j.value("len", std::uint64_t{0});
    m.offset = j.value("offset", std::uint64_t{0});
    m.ready = j.value("ready", false);
    m.io_status = j.value("io-status", std::string("ok"));
    out.push_back(m);
  }
  return out;
}

MirrorState classify_mirrors(const std::vector<MirrorJob>& jobs, const StoragePlan& p, std::uint64_t small) {
  bool settled = true;
  for (const auto& d : p.disks) {
    const auto id = mirror_job_id(d);
    const auto it = std::find_if(jobs.begin(), jobs.end(), [&](const MirrorJob& j) { return j.id == id; });
    if (it == jobs.end()) return {MirrorVerdict::failed, d.name + ": the mirror job ended"};
    if (it->io_status != "ok")
      return {MirrorVerdict::failed, d.name + ": mirror I/O status " + it->io_status};
    if (!it->ready || it->remaining() > small) settled = false;
  }
  return {settled ? MirrorVerdict::settled : MirrorVerdict::copying, {}};
}

LinkShare share_link(std::uint64_t budget, std::size_t disks) {
  if (budget == 0 || disks == 0) return {};
  const auto disk_total = std::max<std::uint64_t>(budget / kDiskShareDivisor, 1);
  return LinkShare{budget - disk_total, std::max<std::uint64_t>(disk_total / disks, 1)};
}

Json to_json(const DiskReport& r) {
  auto opt = [](const auto& v) -> Json { return v ? Json(*v) : Json(); };
  return Json{{"disk", r.name},
              {"virtual_size", r.virtual_size},
              {"allocated_bytes", r.allocated},
              {"mirrored_bytes", r.mirrored},
              {"ready_ms", opt(r.ready_ms)},
              {"dirty_bytes_at_switchover", opt(r.dirty_at_switch)},
              {"outcome", r.outcome}};
}

std::string render_disk_progress(const std::vector<MirrorJob>& jobs, std::size_t disks, double rate,
                                 double elapsed_s, int bar_width) {
  std::uint64_t len = 0, done = 0;
  std::size_t ready = 0;
  for (const auto& j : jobs) {
    len += j.len;
    done += std::min(j.offset, j.len);
    if (j.ready) ++ready;
  }
  const double frac = len ? static_cast<double>(done) / static_cast<double>(len) : 0.0;
  const int filled = static_cast<int>(frac * bar_width + 0.5);
  std::string s = "disk [";
  for (int i = 0; i < bar_width; ++i) s += i < filled ? '#' : '.';
  char buf[160];
  std::snprintf(buf, sizeof buf, "] %3d%%  %s/%s  ready %zu/%zu  %.1f MB/s  %.1f s",
                static_cast<int>(frac * 100 + 0.5), format_bytes(done).c_str(), format_bytes(len).c_str(),
                ready, disks, rate / 1e6, elapsed_s);
  return s + buf;
}

}  // namespace vmroam::migration
