#!/usr/bin/env bash
# Benchmark 'migration': is the VM reachable through a live migration, and
# how long is it silent compared with its real pause?
#
# Testbed (bench/migration/testbed.sh): the netns topology at 100 Mbit/s and 8 ms RTT, the real
# guest of tests/vm (512 MiB, 350 MiB of it filled with /dev/urandom: vmroam.fill=350) booted
# at home, migrated home -> foreign across the WAN while the correspondent pings it every
# 10 ms and keeps a TCP echo stream to its port 7 (tools/probe/vmroam-probe). Each mode once
# per invocation, in this order, the guest rebooted at home for each (bench/run.sh repeats
# invocations, so the modes alternate):
#
#   coupled   vmroam: vmroam-ha at home, vmroam-fa at foreign, vmroam-migrate couples the
#             switchover to the FA (prepare, activate at pre-switchover, resumed): guest_migrate
#             of tests/lib/guest.sh, so whatever it passes to the driver is measured; the
#             migration stream in clear (--insecure-migration), as in earlier runs
#   coupled-tls  the same with the migration stream in TLS (mutual x509, guest.sh's creds):
#             what vmroam-migrate does by default; its row adds tls_total_vs_plain and
#             tls_pause_vs_plain (its total_time_ms / real_pause_ms over coupled's; target
#             <= 1.1 at 100 Mbit/s)
#   coupled-target  coupled with the downtime rule (vmroam-migrate --target-pause 30,
#             docs/migration.md "The downtime rule"): the pause at the link's limit, with the
#             handover hold; in clear like coupled; its row's real_pause_ms has the target <= 30
#   reactive  vmroam without driver coupling: the visitor is prepared at the foreign FA through
#             its API (agents.sh fa_prepare) before the migration, then a plain QEMU migration
#             (vmroam-migrate --fa none); the FA activates when it sees the guest's RARP
#             announce on its VM link (delivery.detect_arrival)
#   vxlan     what people use today: no agents; the home bridge br-home and a bridge at the
#             foreign site (vmrvxbr, holding only the guest's tap; not br-for, whose subnet and
#             gateway are the foreign site's) are one layer-2 segment through a kernel VXLAN
#             tunnel between the routers' WAN addresses (VNI 186, UDP 4789, MTU 1500 on the
#             VXLAN ports so the guest's MTU holds: the outer packets are fragmented on the WAN).
#             The guest keeps its address, reaches its home gateway 10.1.0.1 across the tunnel,
#             and the home router keeps routing to it; plain QEMU migration (--fa none)
#   none      plain QEMU migration, no mobility at all: the guest lands on br-for, where
#             nothing routes 10.1.0.10 to it; unreachable for good (the loss is bounded by the
#             measurement window)
#   libvirt   the guest as a libvirt domain, `virsh migrate --live` home -> foreign, coupled by
#             vmroam-libvirt at both sites (bench/migration/libvirt.sh)
#   local     the floor: the same guest between two QEMUs on br-home, nothing to switch
#             (bench/migration/local.sh); every row with a silence_minus_pause_ms gains
#             over_local_ms, its own minus local's in the same run (local_compare)
#
# The probe runs from before the migration starts until --window seconds (3) after the driver
# returns. After each move the guest's integrity is checked (guest_integrity of
# tests/lib/guest.sh: it ticks, no virtio/panic line, its memory check passes with the host's
# checksum); a broken guest is counted in its mode's row (guest_broken, target 0) and its move
# stays in every median. --repeat N moves each mode N times (modes alternating: coupled,
# coupled-tls, …, coupled, coupled-tls, …); a row holds the median of its mode's moves, with
# moves and pings_lost_max. Row per mode (its fields are null when the mode failed in every
# move of this run; "error" says why):
#   pings_lost              echo requests without a reply (in the whole measurement)
#   longest_silence_ms      longest time between two replies at the correspondent (the end
#                           of the measurement counts as a reply: mode none is silent until then)
#   real_pause_ms           STOP -> RESUME of the guest (the driver's real_pause_ms)
#   silence_minus_pause_ms  longest_silence_ms - real_pause_ms (target <= 10)
#   qemu_downtime_ms        QEMU's own downtime figure
#   total_time_ms, bytes_transferred   the migration's (driver summary)
#   handover_ms             activate -> registration accepted (coupled: the driver's; reactive:
#                           the FA visitor's)
#   pings_sent, max_rtt_ms, tcp_survived (the echo stream had no reset/reorder/2 s stall)
#   guest_broken            moves after which the guest was not whole (count; target 0)
#
# Every mode but coupled-tls migrates in clear (VMR_GUEST_TLS=0).
#
#   migration.sh [--quick] [--modes coupled,coupled-tls,coupled-target,reactive,vxlan,none,libvirt,local]
#                [--repeat N]
#                [--window S] [--mem MIB] [--fill MIB]
# --quick: a 128 MiB guest, no fill, modes coupled and coupled-tls only (the smoke run). One JSON object on
# stdout, logs on stderr; exit 77 when root, QEMU, TUN/TAP or a kernel feature is missing.
set -uo pipefail
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)

modes=(coupled coupled-tls coupled-target reactive vxlan none libvirt local)
window=3
repeat=1
mem=512
fill=350
quick=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; mem=128; fill=0; modes=(coupled coupled-tls); shift ;;
    --modes) IFS=, read -r -a modes <<<"${2:?}"; shift 2 ;;
    --window) window=${2:?}; shift 2 ;;
    --repeat) repeat=${2:?}; shift 2 ;;
    --mem) mem=${2:?}; shift 2 ;;
    --fill) fill=${2:?}; shift 2 ;;
    *) echo "migration: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
for m in "${modes[@]}"; do
  case "$m" in coupled | coupled-tls | coupled-target | reactive | vxlan | none | libvirt | local) ;; *) echo "migration: unknown mode '$m'" >&2; exit 2 ;; esac
done

# shellcheck source=testbed.sh
source "$here/testbed.sh"
mb_setup migration "$mem" "$fill"
# shellcheck source=local.sh
source "$here/local.sh"
# shellcheck source=libvirt.sh
source "$here/libvirt.sh"

kVxDev=vmrvx0     # the VXLAN port on both routers
kVxBridge=vmrvxbr # the foreign site's bridge for the guest's tap in mode vxlan
kVni=186

agents_up=0
vm_registered=0
agents_on() {
  [ $agents_up = 1 ] && return 0
  if [ ! -f "$VMR_AGENTS_DIR/home.json" ]; then agents_setup --encapsulation ipip || return 1; fi
  agent_start home && agent_start foreign || return 1
  if [ $vm_registered = 0 ]; then ha_register_vm >/dev/null || return 1; vm_registered=1; fi
  agents_up=1
}
agents_off() {
  [ $agents_up = 1 ] || return 0
  agents_stop
  agents_up=0
}

vx_up() {
  local side local_addr remote
  ns_exec foreign ip link add $kVxBridge type bridge forward_delay 0 stp_state 0 || return 1
  ns_exec foreign ip link set $kVxBridge up || return 1
  for side in home foreign; do
    if [ $side = home ]; then local_addr=$VMR_HOME_WAN remote=$VMR_FOREIGN_WAN
    else local_addr=$VMR_FOREIGN_WAN remote=$VMR_HOME_WAN; fi
    # No `dev`: the kernel then allows MTU 1500 on the VXLAN port (with `dev wan0` it caps it
    # at 1450), so the stretched segment keeps the guest's MTU and br-home's.
    ns_exec $side ip link add $kVxDev type vxlan id $kVni local "$local_addr" remote "$remote" dstport 4789 || return 1
    ns_exec $side ip link set $kVxDev mtu 1500 || return 1
  done
  ns_exec home ip link set $kVxDev master "$VMR_HOME_BRIDGE" up || return 1
  ns_exec foreign ip link set $kVxDev master $kVxBridge up
}
vx_down() {
  ns_exec home ip link del $kVxDev 2>/dev/null
  ns_exec foreign ip link del $kVxDev 2>/dev/null
  ns_exec foreign ip link del $kVxBridge 2>/dev/null
  return 0
}

# mode_cleanup MODE: back to "nothing runs, the VM is at home" for the next mode.
mode_cleanup() {
  mb_probe_stop
  guest_stop
  case "$1" in
    coupled | coupled-tls | coupled-target | reactive)
      if fa_visitor foreign >/dev/null 2>&1; then
        fa_depart foreign >/dev/null 2>&1 || fa_abort foreign >/dev/null 2>&1
      fi
      wait_for "! ha_binding" 10 || mb_log "$1: the HA still has a binding after depart"
      ;;
    vxlan) vx_down ;;
  esac
}

# one_mode MODE: sets $row (JSON) or returns 1 with $err set. Not in $(…): it updates the
# state of guest.sh (which QEMU runs where), the probe's pid and $agents_up.
err=
row=
one_mode() {
  local mode=$1 probe=probe-$1 rc summary report hms=null t0 tls=0
  [ "$mode" = coupled-tls ] && tls=1
  case "$mode" in
    coupled | coupled-tls | coupled-target | reactive) agents_on || { err="agents did not start"; return 1; } ;;
    *) agents_off ;;
  esac
  mb_boot home || { err="the guest did not boot"; return 1; }
  if [ "$mode" = vxlan ]; then vx_up || { err="vxlan setup"; return 1; }; fi
  mb_probe_start "$probe" || { err="the probe did not start"; return 1; }
  if [ "$mode" = reactive ]; then fa_prepare foreign >/dev/null || { err="fa_prepare"; return 1; }; fi
  guest_start_dest foreign || { err="destination QEMU"; return 1; }
  if [ "$mode" = vxlan ]; then
    ns_exec foreign ip link set "$(_vmr_guest_tap foreign)" master $kVxBridge || { err="tap to $kVxBridge"; return 1; }
  fi
  t0=$EPOCHREALTIME
  if [ "$mode" = coupled ] || [ "$mode" = coupled-tls ]; then
    VMR_GUEST_TLS=$tls guest_migrate home foreign >/dev/null
  elif [ "$mode" = coupled-target ]; then
    VMR_GUEST_TLS=0 guest_migrate home foreign --target-pause 30 >/dev/null
  else
    VMR_GUEST_TLS=0 mb_migrate_plain home foreign
  fi
  rc=$?
  summary=$VMR_GUEST_JSON
  mb_log "$mode: driver exit $rc after $(awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN { printf "%.1f", a - b }') s: $(jq -c '{outcome, error, real_pause_ms, qemu_downtime_ms, total_time_ms, bytes_transferred, handover_ms, registration}' "$summary" 2>/dev/null)"
  if ! jq -e '.switched' "$summary" >/dev/null 2>&1; then
    err="migration did not switch (driver exit $rc: $(jq -r '.error // empty' "$summary" 2>/dev/null))"
    return 1
  fi
  # The measurement window after the switch: a fixed time, not a wait for a condition (in
  # mode none nothing ever comes back).
  sleep "$window"
  if [ "$mode" = reactive ]; then
    hms=$(fa_visitor foreign 2>/dev/null | jq '.handover_ms // null')
    [ -n "$hms" ] || hms=null
    mb_log "reactive: FA visitor $(fa_visitor foreign 2>/dev/null | jq -c '{state, resumed, handover_ms}')"
  fi
  if [ "$mode" = vxlan ]; then
    mb_log "vxlan: the VM's MAC in br-home: $(ns_exec home bridge fdb show br "$VMR_HOME_BRIDGE" | grep -i "$VMR_VM_MAC" | tr '\n' ';')" \
      "in $kVxBridge: $(ns_exec foreign bridge fdb show br $kVxBridge | grep -i "$VMR_VM_MAC" | tr '\n' ';')"
  fi
  mb_probe_stop
  report=$(mb_probe_report "$VMR_GUEST_DIR/$probe.json") || { err="probe report"; return 1; }
  mb_log "$mode: probe $report"
  local broken
  broken=$(move_integrity "$mode")
  row=$(jq -c --arg mode "$mode" --argjson p "$report" --argjson hms "$hms" --argjson rc "$rc" --arg broken "$broken" '
    def num: if type == "number" then . else null end;
    {mode: $mode, pings_lost: $p.pings_lost, longest_silence_ms: $p.longest_silence_ms,
     real_pause_ms: (.real_pause_ms | num),
     silence_minus_pause_ms: (if ($p.longest_silence_ms | type) == "number" and (.real_pause_ms | type) == "number"
                              then ($p.longest_silence_ms - .real_pause_ms) * 10 | round / 10 else null end),
     qemu_downtime_ms: (.qemu_downtime_ms | num), total_time_ms: (.total_time_ms | num),
     bytes_transferred: (.bytes_transferred | num),
     handover_ms: (if $mode == "reactive" then $hms else (.handover_ms | num) end),
     pings_sent: $p.pings_sent, max_rtt_ms: $p.max_rtt_ms, tcp_survived: $p.tcp_survived,
     outcome: .outcome, driver_exit: $rc, registration: .registration, migration_tls: .migration_tls}
    + {guest_broken: (if $broken != "" then 1 else 0 end)}
    + (if $broken != "" then {error: "the guest broke in the move: \($broken)"} else {} end)' "$summary")
}

# move_integrity MODE: after a move, prints why the guest is broken (nothing when it is whole).
# A broken guest is the hypervisor's failure, not the network's: the move's figures stay, and
# its row counts it.
move_integrity() {
  local why
  if why=$(mb_guest_broken 20); then
    mb_log "$1: THE GUEST BROKE in the move: $why"
    echo "$why"
  else
    mb_log "$1: the guest is whole after the move"
  fi
}

# aggregate_modes: rows of every move (stdin, JSON lines) → one row per mode, in the order of
# $modes: the median of each number over the mode's moves, guest_broken summed, moves counted.
aggregate_modes() {
  jq -s -c --arg order "${modes[*]}" '
    def median: sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
                       else (.[length / 2 - 1] + .[length / 2]) / 2 end;
    . as $all
    | ($order | split(" ")) as $names
    | [$names[] as $m | $all | map(select(.mode == $m)) | select(length > 0)
       | . as $rows
       | (map(keys[]) | unique) as $keys
       | reduce $keys[] as $k ({};
           . + {($k): ($rows | map(.[$k]) | if $k == "guest_broken" then map(select(type == "number")) | add
                     elif (map(select(type == "number")) | length) > 0 then map(select(type == "number")) | median
                     else map(select(. != null)) | first end)})
       | . + {moves: ($rows | length), pings_lost_max: ($rows | map(.pings_lost | select(type == "number")) | max)}]
    | .[]'
}

# run_mode MODE: a mode with a file of its own (mode_MODE: local.sh, libvirt.sh) or one_mode.
run_mode() { if declare -F "mode_$1" >/dev/null; then "mode_$1"; else one_mode "$1"; fi; }

rows=()
measured=0
plan=()
for ((r = 0; r < repeat; r++)); do plan+=("${modes[@]}"); done
for mode in "${plan[@]}"; do
  mb_log "== mode $mode"
  err=
  if run_mode "$mode"; then
    measured=$((measured + 1))
  else
    mb_log "$mode failed: $err"
    for f in "$VMR_GUEST_DIR"/*.log "$VMR_AGENTS_DIR"/*.log; do
      [ -f "$f" ] && tail -n 5 "$f" | sed "s|^|  $(basename "$f"): |" >&2
    done
    row=$(jq -cn --arg mode "$mode" --arg err "$err" '{mode: $mode, pings_lost: null, longest_silence_ms: null,
      real_pause_ms: null, silence_minus_pause_ms: null, qemu_downtime_ms: null, total_time_ms: null,
      bytes_transferred: null, handover_ms: null, error: $err}')
  fi
  rows+=("$row")
  mode_cleanup "$mode"
done
agents_off
mapfile -t rows < <(printf '%s\n' "${rows[@]}" | aggregate_modes)

# coupled-tls against coupled (same run): the cost of encrypting the stream.
printf '%s\n' "${rows[@]}" | jq -s -c '
  def ratio(a; b): if (a | type) == "number" and (b | type) == "number" and b > 0 then a / b * 1000 | round / 1000 else null end;
  . as $all | (map(select(.mode == "coupled")) | first) as $plain
  | map(if .mode == "coupled-tls" then . + {tls_total_vs_plain: ratio(.total_time_ms; $plain.total_time_ms),
                                            tls_pause_vs_plain: ratio(.real_pause_ms; $plain.real_pause_ms)}
        else . end) | .[]' >"$run/rows.jsonl" 2>/dev/null || printf '%s\n' "${rows[@]}" >"$run/rows.jsonl"
local_compare "$run/rows.jsonl"
mapfile -t rows <"$run/rows.jsonl"

printf '%s\n' "${rows[@]}" | jq -s --argjson quick "$quick" --argjson mem "$mem" --argjson fill "$fill" \
  --argjson window "$window" --argjson repeat "$repeat" --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" --arg accel "$VMR_GUEST_ACCEL" --arg date "$(mb_date)" --argjson machine "$(mb_machine)" '
  {benchmark: "migration",
   key: "mode",
   summary: ["pings_lost", "longest_silence_ms", "real_pause_ms", "silence_minus_pause_ms", "qemu_downtime_ms",
             "total_time_ms", "bytes_transferred", "handover_ms", "guest_broken", "tls_total_vs_plain",
             "tls_pause_vs_plain", "over_local_ms"],
   plot: {y: ["longest_silence_ms", "pings_lost"]},
   targets: {pings_lost: "0 (coupled, coupled-target)", silence_minus_pause_ms: "<= 10 (coupled)", guest_broken: "0",
             real_pause_ms: "<= 30 (coupled-target)",
             tls_total_vs_plain: "<= 1.1 (coupled-tls)", tls_pause_vs_plain: "<= 1.1 (coupled-tls)"},
   results: .,
   setup: {quick: ($quick == 1), repeat: $repeat, load_average_at_end: $load, guest_mib: $mem, filled_mib: $fill, accelerator: $accel, wan_mbit: 100, rtt_ms: 8,
           ping_interval_ms: 10, window_after_switch_s: $window, direction: "home -> foreign",
           encapsulation: "ipip", vxlan: {vni: 186, port: 4789, mtu: 1500, foreign_bridge: "vmrvxbr"}},
   date: $date, machine: $machine}'
[ $measured -gt 0 ] || exit 1
