#!/usr/bin/env bash
# The testbed of the two real-guest benchmarks, bench/migration/migration.sh ('migration') and
# bench/migration/pause.sh ('pause'). Sourced, not run (it is not executable and not in
# bench/scripts/, so bench/run.sh does not take it for a benchmark).
#
#   cn ── wan (100 Mbit/s, 4 ms per access link: 8 ms RTT) ──┬── home    QEMU (source), tap vmrg-home
#                                                            │          on br-home 10.1.0.1/24
#                                                            └── foreign QEMU (-incoming on 192.0.2.3),
#                                                                       tap vmrg-foreign on br-for
#
# tests/lib/topology.sh (topo_up --delay 4 --rate 100, the link of tests/vm) plus the real
# guest of tests/lib/guest.sh (QEMU in the site routers' namespaces, the migration stream across
# the emulated WAN). The guest's size comes from qemu.sh's $VM_MEM (MiB, both QEMUs) and its
# filled memory from the guest's vmroam.fill=N kernel argument ($VMR_GUEST_APPEND): N MiB of
# /dev/urandom in a tmpfs, incompressible pages that QEMU must really copy.
#
#   mb_setup NAME MEM_MIB FILL_MIB   root and tools (exit 77 when missing), topology, guest build
#                                    and accelerator, EXIT trap (mb_cleanup); sets $run
#   mb_boot SITE                     boot the guest at SITE; returns once cn pings it
#   mb_migrate_plain FROM TO [ARGS]  plain QEMU migration by vmroam-migrate --fa none (no FA,
#                                    whatever agents run), guest.sh's bookkeeping kept; sets
#                                    $VMR_GUEST_JSON to the driver's summary. TLS as guest.sh
#                                    does it (guest_tls_args: VMR_GUEST_TLS=0 → plaintext)
#   mb_probe_start NAME; mb_probe_stop   tools/probe/vmroam-probe in cn: a ping every 10 ms and
#                                    a 16-byte TCP echo message to the guest's port 7 every 10 ms
#   mb_probe_report FILE             the probe's result as one JSON line (see below)
#   mb_guest_broken [WAIT_S]         after a move: prints why the guest is broken and returns 0,
#                                    or returns 1 when it is whole (guest_integrity, see below)
#   mb_date; mb_machine              ISO-8601 UTC now; the {nproc, cpu, kernel, guest_ram_kib}
#                                    object (guest_ram_kib: qemu.sh's vm_ram_kib, 8 KiB over
#                                    $VM_MEM MiB unless VM_RAM_PAD_KIB=0 asks for the layout
#                                    exposed to QEMU's TCG dirty-tracking defect)
#
# MB_KEEP=1 keeps the run's files (QEMU logs, serial consoles, driver summaries, probe
# results) in /tmp/vmroam-bench-NAME after the run.

mb_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mb_name=bench

export VMROAM_BUILD_DIR=${VMROAM_BUILD_DIR:-$mb_top/build}
# shellcheck source=../../tests/lib/topology.sh
source "$mb_top/tests/lib/topology.sh"
# shellcheck source=../../tests/lib/agents.sh
source "$mb_top/tests/lib/agents.sh"
# shellcheck source=../../tests/lib/guest.sh
source "$mb_top/tests/lib/guest.sh"

mb_log() { echo "$mb_name: $*" >&2; }

mb_setup() {
  mb_name=$1
  local mem=$2 fill=$3 tool rc
  [ "$(id -u)" = 0 ] || { mb_log "skipped: needs root (network namespaces, taps)"; exit 77; }
  for tool in qemu-system-x86_64 jq curl; do
    command -v "$tool" >/dev/null || { mb_log "skipped: $tool not installed (./dev setup)"; exit 77; }
  done
  [ -c /dev/net/tun ] || { mb_log "skipped: no /dev/net/tun (TUN/TAP)"; exit 77; }
  # qemu.sh reads $VM_MEM at each vm_start: both QEMUs of a migration get the same machine.
  # shellcheck disable=SC2034 # read by qemu.sh
  VM_MEM=$mem
  # shellcheck disable=SC2034 # read by guest.sh
  VMR_GUEST_APPEND="vmroam.fill=$fill"
  topo_up --delay 4 --rate 100 >&2
  rc=$?
  [ $rc = 77 ] && { mb_log "skipped: missing kernel feature (see above)"; exit 77; }
  [ $rc = 0 ] || { mb_log "the testbed did not come up"; exit 1; }
  # shellcheck disable=SC2034 # for the benchmark scripts
  run=$VMR_RUN_DIR
  trap mb_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  guest_setup >&2
  rc=$?
  [ $rc = 77 ] && { mb_log "skipped: the guest needs a missing device (see above)"; exit 77; }
  [ $rc = 0 ] || { mb_log "guest_setup failed"; exit 1; }
  mb_log "testbed up: WAN ${VMR_RATE_MBIT} Mbit/s, ${VMR_DELAY_MS} ms per access link; guest $(vm_ram_kib) KiB (${mem} MiB + ${VM_RAM_PAD_KIB} KiB), ${fill} MiB filled, accelerator $VMR_GUEST_ACCEL"
}

mb_cleanup() {
  mb_probe_stop
  guest_stop
  agents_stop
  if [ "${MB_KEEP:-0}" = 1 ]; then
    rm -rf "/tmp/vmroam-bench-$mb_name" && mkdir -p "/tmp/vmroam-bench-$mb_name" &&
      cp -r "$VMR_RUN_DIR"/. "/tmp/vmroam-bench-$mb_name/" 2>/dev/null
    mb_log "run files kept in /tmp/vmroam-bench-$mb_name"
  fi
  topo_down
}

mb_boot() {
  local site=$1 t0=$EPOCHREALTIME
  guest_start_source "$site" || return 1
  wait_for "ns_exec cn ping -c1 -W1 $VMR_VM_ADDR" 30 || { mb_log "cn cannot ping the guest at $site"; return 1; }
  mb_log "guest up at $site in $(awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN { printf "%.1f", a - b }') s"
}

# The same bookkeeping as guest_migrate (tests/lib/guest.sh), but always --fa none: with the
# agents running guest_migrate would couple the switchover to the FA, which the reactive mode
# must not do.
mb_migrate_plain() {
  local from=$1 to=$2 wan out rc
  shift 2
  [ "$VMR_GUEST_CUR_SITE" = "$from" ] || { mb_log "the guest is at '${VMR_GUEST_CUR_SITE:-nowhere}', not at $from"; return 1; }
  [ "$VMR_GUEST_NEXT_SITE" = "$to" ] || { mb_log "no destination QEMU at $to"; return 1; }
  wan=$(_vmr_site_wan "$to") || return 1
  out=$VMR_GUEST_DIR/migrate-$VMR_GUEST_CUR-$VMR_GUEST_NEXT.json
  local tls
  tls=$(guest_tls_args "$from" "$to") || return 1
  # shellcheck disable=SC2086  # paths without spaces
  ip netns exec "$(topo_ns "$from")" "$VMR_GUEST_MIGRATE" --source "$VMR_GUEST_DIR/$VMR_GUEST_CUR.qmp" \
    --dest "$VMR_GUEST_DIR/$VMR_GUEST_NEXT.qmp" --uri "tcp:$wan:$VMR_GUEST_PORT" --json "$out" --quiet \
    --fa none $tls "$@" >"$out.log" 2>&1
  rc=$?
  guest_migrated "$out"
  [ "$rc" = 0 ] || mb_log "vmroam-migrate $from -> $to exited $rc: $(tail -n 8 "$out.log")"
  return "$rc"
}

mb_probe_start() { guest_probe_start "$1" || { mb_log "the probe did not start (see above)"; return 1; }; }
mb_probe_stop() { guest_probe_stop; }

# mb_probe_report FILE: {pings_sent, pings_lost, longest_silence_ms, max_rtt_ms, tcp_survived,
# tcp_error}. The longest silence is the longest time between two consecutive echo replies at
# the correspondent, the end of the measurement (the last ping sent) counting as a reply: a VM
# that never answers again (mode none) is silent until the window closes, not "0 ms".
mb_probe_report() {
  /usr/bin/python3 - "$1" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
p = s["pings"]
got = sorted(b for a, b in p if b is not None)
marks = got + ([p[-1][0]] if p else [])
marks.sort()
gap = max((y - x for x, y in zip(marks, marks[1:])), default=None)
rtt = max((b - a for a, b in p if b is not None), default=None)
t = s["tcp"]
print(json.dumps({"pings_sent": len(p), "pings_lost": sum(1 for a, b in p if b is None),
                  "longest_silence_ms": None if gap is None else round(gap * 1000, 1),
                  "max_rtt_ms": None if rtt is None else round(rtt * 1000, 1),
                  "tcp_survived": t["survived"], "tcp_error": t["error"]}))
PY
}

# After a move: the guest's integrity (tests/lib/guest.sh guest_integrity: it ticks, no
# virtio/panic line, its memory check passes with the host's checksum). Prints why the guest is
# broken and returns 0, or returns 1 when it is whole. Under TCG here QEMU 7.2 has broken the
# 350 MiB guest in some moves (docs/migration.md "Guests that break"); that is QEMU/the guest,
# not the network, and the benchmarks count it per mode.
mb_guest_broken() {
  local why
  why=$(guest_integrity "${1:-20}") && return 1
  echo "$why"
  return 0
}

mb_date() { date -u +%Y-%m-%dT%H:%M:%SZ; }
mb_machine() {
  jq -cn --argjson nproc "$(nproc)" --arg cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" \
    --arg kernel "$(uname -r)" --argjson ram "$(vm_ram_kib)" \
    '{nproc: $nproc, cpu: $cpu, kernel: $kernel, guest_ram_kib: $ram}'
}
