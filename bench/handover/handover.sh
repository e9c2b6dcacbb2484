#!/usr/bin/env bash
# Benchmark 'handover' (docs/performance.md, "Handover latency"): how long after the
# switchover moment the VM gets its traffic at the new site, with the home<->foreign RTT at
# 8 ms and 80 ms.
#
# Testbed: tests/lib/topology.sh with the delay line at D ms per direction on every
# access link (D = 4 and 40: FA<->HA RTT 2D), no tbf; vmroam-ha at home, vmroam-fa at the
# foreign site (tests/lib/agents.sh, IP-in-IP). The correspondent pings the VM every
# 1 ms through the whole measurement (pinger.py: a fixed schedule; iputils ping slows down
# while nothing answers).
#
# One repetition (the namespace VM; the moment the migration driver calls `activate` at QEMU's
# pre-switchover is reproduced by calling it ourselves):
#   1. prepare at the FA; the VM's link moves to the foreign bridge; `resumed` at the FA (the
#      VM runs there already, so what we time is the network's switch, not a VM pause; the
#      HA still tunnels nothing, so the correspondent's pings die at home meanwhile);
#   2. activate (t_act) -> the FA's Registration Request (t_rrq, on the FA's WAN capture) ->
#      the HA commits, switches its tunnel and replies (t_rrp, same capture) -> the first
#      echo request that reaches the VM's eth0 (t_vm, capture in the VM) -> the first echo
#      reply back at the correspondent (t_cn, pinger.py);
#   3. back home: depart at the FA (deregistration), the link moves home, the VM's GARP.
# t_act is the FA's own clock reading: t_act = t_rrp - the visitor's handover_ms (activate ->
# accepted reply, measured inside vmroam-fa), so curl's start-up does not count.
#
# Row per RTT (median of this invocation's repetitions; bench/run.sh repeats invocations):
#   reply_ms            activate -> reply accepted at the FA (the FA's handover_ms)
#   wire_ms             t_rrp - t_rrq (the round trip + the HA's durable commit)
#   first_delivered_ms  t_vm - t_act: the handover latency; target <= RTT + 2 ms
#   over_rtt_ms         first_delivered_ms - nominal RTT (target <= 2)
#   first_reply_ms      t_cn - t_act (+ the way back through the reverse tunnel)
#   rtt_measured_ms     ping FA -> HA before the repetitions (the delay line's real RTT)
#   ha_commit_ms        request in -> reply out on the HA's WAN capture (commit + processing)
#   ha_first_tunnelled_ms  reply out -> first IP-in-IP packet out of the HA (same capture)
#   fa_deliver_ms       first IP-in-IP packet in at the FA's WAN -> first echo at the VM
#
#   handover.sh [--quick] [--reps N] [--rtts 8,80]
# Prints one JSON object (bench/README.md); logs on stderr. Exit 77: not root / no netns.
set -uo pipefail
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
top=$(cd "$here/../.." && pwd)

reps=3
quick=0
rtts=(8 80)
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; reps=1; shift ;;
    --reps) reps=${2:?}; shift 2 ;;
    --rtts) IFS=, read -r -a rtts <<<"${2:?}"; shift 2 ;;
    *) echo "handover: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
log() { echo "handover: $*" >&2; }
[ "$(id -u)" = 0 ] || { log "skipped: needs root (network namespaces)"; exit 77; }
for tool in tcpdump jq curl; do
  command -v "$tool" >/dev/null || { log "skipped: $tool not installed (./dev setup)"; exit 77; }
done

export VMROAM_BUILD_DIR=${VMROAM_BUILD_DIR:-$top/build}
# shellcheck source=../../tests/lib/topology.sh
source "$top/tests/lib/topology.sh"
# shellcheck source=../../tests/lib/agents.sh
source "$top/tests/lib/agents.sh"

now_us() { echo "${EPOCHREALTIME//[.,]/}"; }

# bg_start NAME ROLE CMD...: a background process inside a namespace (ip netns exec execs it,
# so $! is the process itself); its output in $run/NAME.out.
bg_pids=()
bg_start() {
  local name=$1 role=$2
  shift 2
  ip netns exec "$(topo_ns "$role")" "$@" >"$run/$name.out" 2>"$run/$name.err" &
  bg_pids+=($!)
}
bg_stop_all() {
  local pid
  for pid in "${bg_pids[@]}"; do kill -INT "$pid" 2>/dev/null; done
  for pid in "${bg_pids[@]}"; do
    wait_for "! kill -0 $pid" 3 2>/dev/null || kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  bg_pids=()
}

# One repetition; prints a JSON sample or returns 1.
one_rep() {
  local t_call v hms
  bg_start fa-cap foreign tcpdump -i "$VMR_WAN_IF" -n -tt -l -U 'udp port 434 or ip proto 4'
  bg_start vm-cap vm tcpdump -i "$VMR_VM_IF" -n -tt -l -U 'icmp[icmptype] = icmp-echo'
  bg_start ha-cap home tcpdump -i "$VMR_WAN_IF" -n -tt -l -U 'udp port 434 or ip proto 4'
  wait_for "grep -q 'listening on' '$run/fa-cap.err' && grep -q 'listening on' '$run/vm-cap.err' && grep -q 'listening on' '$run/ha-cap.err'" 5 || return 1
  bg_start ping cn /usr/bin/python3 "$here/pinger.py" "$VMR_VM_ADDR" 1

  fa_prepare foreign >/dev/null || return 1
  vm_attach foreign || return 1
  fa_resumed foreign >/dev/null || return 1
  # The FA resolves the VM on its new link before the switch (a migrated guest's RARP/GARP
  # does this at resume).
  ns_exec foreign ping -c 1 -W 0.2 "$VMR_VM_ADDR" >/dev/null 2>&1
  wait_for "ns_exec foreign ip neigh show $VMR_VM_ADDR | grep -q lladdr" 2 || return 1

  t_call=$(now_us)
  fa_activate foreign >/dev/null || return 1
  fa_wait_state foreign active 10 || return 1
  v=$(fa_visitor foreign) || return 1
  hms=$(jq -r '.handover_ms // empty' <<<"$v")
  [ -n "$hms" ] || { log "the visitor JSON has no handover_ms: $v"; return 1; }
  # Until the VM has seen a packet and the correspondent a reply after the call.
  local after=$((t_call / 1000000)).$(printf %06d $((t_call % 1000000)))
  wait_for "awk -v t=$after '\$1 + 0 > t { f = 1 } END { exit !f }' '$run/vm-cap.out' &&
    awk -v t=$after '\$1 + 0 > t { f = 1 } END { exit !f }' '$run/ping.out'" 5 || return 1
  bg_stop_all

  # Back home for the next repetition.
  fa_depart foreign >/dev/null || return 1
  wait_for "! ha_binding" 5 || return 1
  vm_attach home || return 1
  ns_exec vm busybox arping -U -c 1 -I "$VMR_VM_IF" "$VMR_VM_ADDR" >/dev/null 2>&1
  wait_for "ns_exec cn ping -c1 -W1 $VMR_VM_ADDR" 10 || return 1

  awk -v after="$after" -v hms="$hms" -v fa="$VMR_FOREIGN_WAN" -v ha="$VMR_HOME_WAN" '
    FILENAME ~ /fa-cap/ {
      if ($1 + 0 < after) next
      if (!rrq && $3 == fa ".434" && $5 == ha ".434:") rrq = $1
      else if (rrq && !rrp && $3 == ha ".434" && $5 == fa ".434:") rrp = $1
      else if (rrq && !fa_tun && $3 == ha && $5 == fa ":") fa_tun = $1
      next }
    FILENAME ~ /ha-cap/ {
      if ($1 + 0 < after) next
      if (!ha_in && $3 == fa ".434" && $5 == ha ".434:") ha_in = $1
      else if (ha_in && !ha_out && $3 == ha ".434" && $5 == fa ".434:") ha_out = $1
      else if (ha_in && !ha_tun && $3 == ha && $5 == fa ":") ha_tun = $1
      next }
    FILENAME ~ /vm-cap/ { if (rrq && !vm && $1 + 0 > rrq) vm = $1; next }
    FILENAME ~ /ping/ { if (rrq && !cn && $1 + 0 > rrq) cn = $1 }
    END {
      if (!rrq || !rrp || !vm || !cn) { print "incomplete rrq=" rrq " rrp=" rrp " vm=" vm " cn=" cn > "/dev/stderr"; exit 1 }
      act = rrp - hms / 1000
      printf "{\"reply_ms\": %.3f, \"wire_ms\": %.3f, \"first_delivered_ms\": %.3f, \"first_reply_ms\": %.3f, \"act_to_rrq_ms\": %.3f, \"ha_commit_ms\": %s, \"ha_first_tunnelled_ms\": %s, \"fa_deliver_ms\": %s}\n",
        hms, (rrp - rrq) * 1000, (vm - act) * 1000, (cn - act) * 1000, (rrq - act) * 1000,
        (ha_in && ha_out) ? sprintf("%.3f", (ha_out - ha_in) * 1000) : "null",
        (ha_out && ha_tun) ? sprintf("%.3f", (ha_tun - ha_out) * 1000) : "null",
        (fa_tun && vm > fa_tun) ? sprintf("%.3f", (vm - fa_tun) * 1000) : "null"
    }' "$run/fa-cap.out" "$run/ha-cap.out" "$run/vm-cap.out" "$run/ping.out"
}

# ---- run -----------------------------------------------------------------------------------
topo_up --delay "$((rtts[0] / 2))" --rate 0 >&2
rc=$?
if [ $rc != 0 ]; then
  [ $rc = 77 ] && { log "skipped: missing kernel feature (see above)"; exit 77; }
  log "testbed did not come up"; exit 1
fi
run=$VMR_RUN_DIR
trap 'bg_stop_all; agents_stop; topo_down' EXIT
agents_setup --encapsulation ipip || exit 1
agent_start home || exit 1
agent_start foreign || exit 1
ha_register_vm >/dev/null || exit 1

rows=()
for rtt in "${rtts[@]}"; do
  half=$(awk -v r="$rtt" 'BEGIN { printf "%g", r / 2 }')
  if [ "$half" != "$VMR_DELAY_MS" ]; then
    VMR_DELAY_MS=$half
    for h in "${VMR_HOSTS[@]}"; do
      # shellcheck disable=SC2046
      topo_set_link "$h" $(_vmr_wanem_args) || exit 1
    done
  fi
  read -r rtt_meas _ got < <(ping_stats foreign "$VMR_HOME_WAN" 20 0.01)
  log "RTT $rtt ms (delay ${half} ms each way): FA -> HA ping median ${rtt_meas} ms ($got/20)"
  samples=()
  for ((i = 1; i <= reps; i++)); do
    if s=$(one_rep); then
      samples+=("$s")
      log "RTT $rtt ms rep $i: $s"
    else
      log "RTT $rtt ms rep $i failed"
      bg_stop_all
      for f in "$VMR_AGENTS_DIR"/*.log; do tail -n 5 "$f" | sed 's/^/  agent: /' >&2; done
      exit 1
    fi
  done
  rows+=("$(printf '%s\n' "${samples[@]}" | jq -cs --argjson rtt "$rtt" --arg meas "$rtt_meas" '
    def median: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
    {rtt: "\($rtt) ms", rtt_ms: $rtt,
     first_delivered_ms: (map(.first_delivered_ms) | median),
     over_rtt_ms: ((map(.first_delivered_ms) | median) - $rtt),
     reply_ms: (map(.reply_ms) | median), wire_ms: (map(.wire_ms) | median),
     first_reply_ms: (map(.first_reply_ms) | median), act_to_rrq_ms: (map(.act_to_rrq_ms) | median),
     ha_commit_ms: (map(.ha_commit_ms // empty) | if length > 0 then median else null end),
     ha_first_tunnelled_ms: (map(.ha_first_tunnelled_ms // empty) | if length > 0 then median else null end),
     fa_deliver_ms: (map(.fa_deliver_ms // empty) | if length > 0 then median else null end),
     rtt_measured_ms: ($meas | tonumber? // null), repetitions: length, samples: .}')")
done

printf '%s\n' "${rows[@]}" | jq -s --argjson reps "$reps" --argjson quick "$quick" \
  --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --argjson nproc "$(nproc)" \
  --arg cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" --arg kernel "$(uname -r)" '
  {benchmark: "handover",
   key: "rtt",
   summary: ["first_delivered_ms", "over_rtt_ms", "reply_ms", "wire_ms", "ha_commit_ms", "ha_first_tunnelled_ms",
             "fa_deliver_ms", "rtt_measured_ms"],
   plot: {y: ["first_delivered_ms", "over_rtt_ms"]},
   targets: {over_rtt_ms: "<= 2"},
   results: map(del(.samples)),
   samples: map({rtt, samples}),
   setup: {repetitions_per_run: $reps, quick: ($quick == 1), ping_interval_ms: 1, encapsulation: "ipip",
           vm: "namespace", moment: "FA activate (t_rrp - handover_ms)"},
   date: $date, machine: {nproc: $nproc, cpu: $cpu, kernel: $kernel}}'
