// Storage migration (--copy-storage, docs/migration.md "Moving the disks too"): the QMP
// commands and the decisions, pure. StorageMirror (storage_mirror.hpp) runs them.
//
//   destination  nbd-server-start on the migration address (TLS + tls-authz by default),
//                block-export-add {type nbd, writable} of each target disk's node
//   source       blockdev-add {driver nbd, tls-creds, tls-hostname} per disk, then
//                blockdev-mirror {sync full} from the disk's node into it
//   ready        every job `ready` (BLOCK_JOB_READY) and its remaining dirty bytes
//                (len − offset) ≤ the threshold → RAM migration may start
//   switchover   at pre-switchover (guest stopped): block-job-cancel completes a ready mirror
//                gracefully — the source keeps its own disk, the target is a full copy; the
//                jobs' BLOCK_JOB_COMPLETED come before migrate-continue
//   teardown     source: block-job-cancel force (if any job is still alive), blockdev-del of
//                the NBD client nodes; destination: nbd-server-stop (removes the exports)
//
// The source never switches to the target (no block-job-complete): if anything fails the VM
// runs on at the source on its own disk, and a partial target is never attached to a running
// guest (the destination only runs after a completed migration).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/core/result.hpp"
#include "migration/migration_tls.hpp"

namespace vmroam::migration {

// One disk to move: the same guest device (its qdev path) on both QEMUs.
struct DiskPair {
  std::string qdev;      // e.g. /machine/peripheral/vdisk0/virtio-backend
  std::string name;      // short name for people and ids: the device id (vdisk0)
  std::string src_node;  // the source's root node of that device (mirror from)
  std::string dst_node;  // the destination's (exported over NBD)
  std::uint64_t virtual_size = 0;
  std::uint64_t allocated = 0;  // image actual-size at the source (host bytes in use)
  friend bool operator==(const DiskPair&, const DiskPair&) = default;
};

// The device id in a qdev path: /machine/peripheral/ID[/…] → ID; anything else unchanged.
[[nodiscard]] std::string device_id(const std::string& qdev);

// The disks to move, from both sides' query-block: `wanted` empty = every writable disk with
// a medium (CD-ROMs and read-only disks stay); otherwise each entry names a device id, a qdev
// path or a source node name. Errors: "storage_no_disk" (a wanted name matches nothing, or
// there is nothing to move), "storage_no_target" (the destination has no such device),
// "storage_size_mismatch" (the target is smaller or larger: QEMU cannot mirror into it),
// "bad_query_block".
[[nodiscard]] Result<std::vector<DiskPair>> match_disks(const Json& src_query_block,
                                                        const Json& dst_query_block,
                                                        const std::vector<std::string>& wanted);

struct StoragePlan {
  std::vector<DiskPair> disks;
  std::string nbd_host;  // the destination's migration address (it listens only there)
  std::string nbd_port = "10809";
  MigrationTls tls;  // the migration stream's: the same creds secure NBD
};

// Ids the driver gives what it creates (stable, so a crashed run's leftovers are recognised).
[[nodiscard]] std::string mirror_job_id(const DiskPair& d);
[[nodiscard]] std::string nbd_node_name(const DiskPair& d);
[[nodiscard]] std::string export_name(const DiskPair& d);

// Destination: nbd-server-stop of a stale server (may fail), nbd-server-start (tls-creds and
// tls-authz unless --insecure-migration), one block-export-add per disk.
[[nodiscard]] std::vector<QmpStep> destination_setup(const StoragePlan& p);
// Source, for one disk: blockdev-add of the NBD client node, then blockdev-mirror into it.
// `speed` 0 = unlimited (the link is the limit).
[[nodiscard]] std::vector<QmpStep> source_setup(const StoragePlan& p, const DiskPair& d, std::uint64_t speed);
// At pre-switchover: block-job-cancel of each ready mirror (graceful completion).
[[nodiscard]] std::vector<QmpStep> switchover_steps(const StoragePlan& p);
// After the move, or to give up: source first (nothing writes to the target any more), then
// the destination. `jobs_alive`: mirrors that still run (force-cancelled: abandoned).
[[nodiscard]] std::vector<QmpStep> source_teardown(const StoragePlan& p,
                                                   const std::vector<std::string>& jobs_alive);
[[nodiscard]] std::vector<QmpStep> destination_teardown();

// query-block-jobs, the fields we use.
struct MirrorJob {
  std::string id;
  std::string status;  // created | running | ready | …
  std::uint64_t len = 0;
  std::uint64_t offset = 0;
  bool ready = false;
  std::string io_status = "ok";
  [[nodiscard]] std::uint64_t remaining() const { return len > offset ? len - offset : 0; }
  friend bool operator==(const MirrorJob&, const MirrorJob&) = default;
};
[[nodiscard]] Result<std::vector<MirrorJob>> parse_block_jobs(const Json& reply);

enum class MirrorVerdict { copying, settled, failed };
struct MirrorState {
  MirrorVerdict verdict = MirrorVerdict::copying;
  std::string why;  // failed: which job and how
};
// Every expected job present, ready, io-status ok and remaining ≤ `small` → settled; a job
// missing (it ended: error or cancel) or with an I/O error → failed; otherwise copying.
[[nodiscard]] MirrorState classify_mirrors(const std::vector<MirrorJob>& jobs, const StoragePlan& p,
                                           std::uint64_t small);

// The link is one budget (--max-bandwidth, bytes/s) that disk and memory share while both
// run: the ready mirrors carry only the guest's new writes, RAM gets the rest. 0 = no budget
// (the link itself shares: TCP).
struct LinkShare {
  std::uint64_t ram = 0;       // migrate-set-parameters max-bandwidth
  std::uint64_t per_disk = 0;  // block-job-set-speed per mirror
  friend bool operator==(const LinkShare&, const LinkShare&) = default;
};
inline constexpr std::uint64_t kDiskShareDivisor = 8;  // disks get 1/8 while RAM migrates
[[nodiscard]] LinkShare share_link(std::uint64_t budget, std::size_t disks);

// Per disk, for the summary and the progress line.
struct DiskReport {
  std::string name;
  std::uint64_t virtual_size = 0;
  std::uint64_t allocated = 0;
  std::uint64_t mirrored = 0;                    // the job's offset at the end (re-copies included)
  std::optional<double> ready_ms;                // mirror start → ready and settled
  std::optional<std::uint64_t> dirty_at_switch;  // remaining when the guest stopped
  std::string outcome = "not started";           // copying | ready | completed | abandoned | failed: …
};
[[nodiscard]] Json to_json(const DiskReport& r);

// "disk [######......]  48%  61.5/128.0 MiB  ready 0/1  11.3 MB/s  5.2 s"; `jobs` from
// query-block-jobs, rate in bytes/s over the last interval.
[[nodiscard]] std::string render_disk_progress(const std::vector<MirrorJob>& jobs, std::size_t disks,
                                               double rate, double elapsed_s, int bar_width = 16);

}  // namespace vmroam::migration
