#!/usr/bin/env bash
# Benchmark 'storage': what moving the disks with the memory costs (vmroam-migrate
# --copy-storage, docs/migration.md "Moving the disks too").
#
# Testbed (bench/migration/testbed.sh): the netns topology at 100 Mbit/s and 8 ms RTT, vmroam-ha
# at home and vmroam-fa at foreign, the real guest of tests/vm (128 MiB RAM) with a virtio-blk
# data disk (256 MiB raw, 128 MiB of random data, cache.direct=on) and the disk writer running
# (tests/vm/guest-disk-writer.sh: a checksummed record every 0.1 s, fsync'ed). The
# correspondent pings every 10 ms with a TCP echo stream. Two moves home -> foreign per
# invocation, alternating with bench/run.sh's repetitions, the guest rebooted for each, TLS on
# both (the driver's default):
#
#   memory   the disk image is shared by both QEMUs (one file, as on shared storage): memory
#            only, the reference pause
#   storage  each QEMU has its own image, the destination's empty: --copy-storage all
#
# Row per mode: real_pause_ms (STOP -> RESUME), qemu_downtime_ms, total_time_ms (migrate ->
# done: RAM only; the mirror runs before it), pings_lost, tcp_survived; storage adds
# mirror_ready_ms (mirror start -> every mirror ready and small), allocated_mib (the source
# image's host allocation), mirror_rate_vs_link (allocated bytes / mirror_ready_ms over the
# 100 Mbit/s link's 12.5 MB/s; target >= 0.85), dirty_bytes_at_switchover and
# pause_vs_memory (its real pause over the memory row's, same invocation; target <= 1.2);
# guest_broken (1 when the guest was not whole after the move: testbed.sh mb_guest_broken,
# its reason in broken_why; target 0).
#
#   storage.sh [--quick]   --quick: a 32 MiB disk with 16 MiB random (the smoke run)
# One JSON object on stdout, logs on stderr; exit 77 when root, QEMU, qemu-img, TUN/TAP or a
# kernel feature is missing.
set -uo pipefail
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)

disk_mib=256
random_mib=128
quick=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; disk_mib=32; random_mib=16; shift ;;
    *) echo "storage: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
command -v qemu-img >/dev/null || { echo "storage: skipped: no qemu-img (./dev setup installs qemu-utils)" >&2; exit 77; }

# shellcheck source=testbed.sh
source "$here/testbed.sh"
mb_setup storage 128 0
VMR_GUEST_APPEND="vmroam.disk=/dev/vda vmroam.disk_base=$(((random_mib + 8) * 2048))"
link_bytes_per_s=12500000

agents_setup --encapsulation ipip >&2 && agent_start home >&2 && agent_start foreign >&2 &&
  ha_register_vm >/dev/null || { mb_log "the agents did not start"; exit 1; }

# disk_args IMAGE_PATTERN: the data disk on every QEMU started from now on. cache.direct=on
# (O_DIRECT, QEMU's cache=none, the usual production setting): with the host's page cache in
# between, the mirror's flush at the switchover writes back everything it copied, inside the
# pause.
disk_args() {
  export VM_EXTRA_ARGS="-blockdev driver=file,filename=$1,node-name=data0-file,cache.direct=on \
-blockdev driver=raw,file=data0-file,node-name=data0 -device virtio-blk-pci,drive=data0,id=vdisk0"
}
new_image() {  # PATH [RANDOM_MIB]
  rm -f "$1"
  qemu-img create -q -f raw "$1" "${disk_mib}M" || return 1
  [ "${2:-0}" -gt 0 ] && dd if=/dev/urandom of="$1" bs=1M count="$2" conv=notrunc status=none
  return 0
}

# storage_row MODE: one move home -> foreign; sets $row or returns 1 with $err.
err=
row=
storage_row() {
  local mode=$1 summary report rc
  if [ "$mode" = memory ]; then
    new_image "$VMR_GUEST_DIR/shared.img" "$random_mib" || { err="qemu-img"; return 1; }
    disk_args "$VMR_GUEST_DIR/shared.img"
  else
    disk_args "$VMR_GUEST_DIR/@NAME@.img"
    new_image "$VMR_GUEST_DIR/g$((VMR_GUEST_GEN + 1)).img" "$random_mib" || { err="qemu-img"; return 1; }
  fi
  mb_boot home || { err="the guest did not boot"; return 1; }
  wait_for "grep -q 'vmroam-disk ack 3' '$VMR_GUEST_DIR/$(guest_qemu_name).serial'" 30 || { err="no disk writer"; return 1; }
  mb_probe_start "probe-$mode" || { err="the probe did not start"; return 1; }
  [ "$mode" = memory ] || new_image "$VMR_GUEST_DIR/g$((VMR_GUEST_GEN + 1)).img" || { err="qemu-img"; return 1; }
  guest_start_dest foreign || { err="destination QEMU"; return 1; }
  if [ "$mode" = memory ]; then
    guest_migrate home foreign >/dev/null
  else
    guest_migrate home foreign --copy-storage all >/dev/null
  fi
  rc=$?
  summary=$VMR_GUEST_JSON
  mb_log "$mode: driver exit $rc: $(jq -c '{outcome, error, real_pause_ms, qemu_downtime_ms, total_time_ms, storage}' "$summary" 2>/dev/null)"
  jq -e '.switched' "$summary" >/dev/null 2>&1 || { err="no switch (exit $rc): $(jq -r '.error // empty' "$summary" 2>/dev/null)"; return 1; }
  wait_for "[ \$(grep -c 'vmroam-disk ack' '$VMR_GUEST_DIR/$(guest_qemu_name).serial') -ge 3 ]" 10 || mb_log "$mode: no disk acks after the move"
  local broken=
  if broken=$(mb_guest_broken 20); then
    mb_log "$mode: THE GUEST BROKE in the move: $broken"
  else
    broken=
    mb_log "$mode: the guest is whole after the move"
  fi
  mb_probe_stop
  report=$(mb_probe_report "$VMR_GUEST_DIR/probe-$mode.json") || { err="probe report"; return 1; }
  row=$(jq -c --arg mode "$mode" --argjson p "$report" --argjson link "$link_bytes_per_s" --arg broken "$broken" '
    def num: if type == "number" then . else null end;
    (.storage.disks[0] // {}) as $d
    | {mode: $mode, real_pause_ms: (.real_pause_ms | num), qemu_downtime_ms: (.qemu_downtime_ms | num),
       total_time_ms: (.total_time_ms | num), pings_lost: $p.pings_lost, tcp_survived: $p.tcp_survived,
       mirror_ready_ms: ($d.ready_ms | num),
       allocated_mib: (if ($d.allocated_bytes | type) == "number" then $d.allocated_bytes / 1048576 * 10 | round / 10 else null end),
       mirror_rate_vs_link: (if ($d.ready_ms | type) == "number" and $d.ready_ms > 0
                             then $d.allocated_bytes / ($d.ready_ms / 1000) / $link * 1000 | round / 1000 else null end),
       dirty_bytes_at_switchover: ($d.dirty_bytes_at_switchover | num), outcome: .outcome,
       guest_broken: (if $broken == "" then 0 else 1 end)}
    + (if $broken != "" then {broken_why: $broken} else {} end)' "$summary")
}

rows=()
for mode in memory storage; do
  mb_log "== mode $mode"
  err=
  if ! storage_row "$mode"; then
    mb_log "$mode failed: $err"
    row=$(jq -cn --arg mode "$mode" --arg err "$err" '{mode: $mode, real_pause_ms: null, error: $err}')
  fi
  rows+=("$row")
  mb_probe_stop
  guest_stop
  if fa_visitor foreign >/dev/null 2>&1; then fa_depart foreign >/dev/null 2>&1 || fa_abort foreign >/dev/null 2>&1; fi
  wait_for "! ha_binding" 10 || mb_log "$mode: the HA still has a binding after depart"
  rm -f "$VMR_GUEST_DIR"/*.img
done

printf '%s\n' "${rows[@]}" | jq -s --argjson quick "$quick" --argjson disk "$disk_mib" --argjson rnd "$random_mib" \
  --arg accel "$VMR_GUEST_ACCEL" --arg date "$(mb_date)" --argjson machine "$(mb_machine)" --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" '
  (map(select(.mode == "memory")) | first | .real_pause_ms) as $mem
  | map(if .mode == "storage" and (.real_pause_ms | type) == "number" and ($mem | type) == "number" and $mem > 0
        then . + {pause_vs_memory: (.real_pause_ms / $mem * 1000 | round / 1000)} else . end)
  | {benchmark: "storage",
     key: "mode",
     summary: ["real_pause_ms", "qemu_downtime_ms", "total_time_ms", "pings_lost", "mirror_ready_ms", "allocated_mib",
               "mirror_rate_vs_link", "dirty_bytes_at_switchover", "pause_vs_memory", "guest_broken"],
     plot: {y: ["real_pause_ms", "mirror_ready_ms"]},
     targets: {mirror_rate_vs_link: ">= 0.85", pause_vs_memory: "<= 1.2", pings_lost: 0, guest_broken: 0},
     results: .,
     setup: {quick: ($quick == 1), guest_mib: 128, disk_mib: $disk, random_mib: $rnd, accelerator: $accel,
             wan_mbit: 100, rtt_ms: 8, writer_interval_s: 0.1, tls: true, load_average: $load},
     date: $date, machine: $machine}'
