#!/usr/bin/env bash
# Benchmark 'ha_flood' (docs/performance.md "Registration flood"): real registrations through
# vmroam-ha while vmroam-flood (tools/flood/) storms its UDP 434 with forged and garbage
# registrations from five source addresses (one sender thread per CPU, each with its own
# sockets); the same HA without the storm first, in the same invocation, as the reference.
#
# Testbed: the home agent's netns testbed (tests/netns/home-agent/ha_topology.sh: vmroam-ha in
# the home router, layer 2 to the foreign router, no delay line), the flood's sources and the
# real FA (FA1) on the foreign router, 20 VMs registered through the API. The real FA registers
# and renews them at --legit-rate (200/s), open loop, latency due → reply.
#
# Rows: "quiet" (no flood) and "flood@RATE" (the storm at RATE datagrams/s). Fields:
#   offered_per_second, flood_per_second   what the flood was asked to send and sent
#   flood_threads                          the tool's sender threads
#   ha_handled_per_second                  UDP 434 messages the HA decided (/metrics,
#                                          vmroam_registration_messages_total, every result)
#   ha_accepted, ha_rejected               of those, accepted (code 0/1) and the rest; the
#                                          rest by reason under last_run.ha_by_result
#   kernel_dropped                         datagrams the kernel dropped from the HA's full
#                                          receive buffer (Udp RcvbufErrors in its netns)
#   legit_success_rate                     real registrations accepted / started (the tool
#                                          retransmits after 1 s, 3 attempts, as a real FA)
#   legit_p50_ms, legit_p99_ms, legit_max_ms
#   rss_before_kib, rss_kib, rss_growth_kib the HA's RSS before and after the round; max growth
#   log_lines                              lines the HA logged during the round
#   cpu_s                                  the HA's CPU seconds (user + system) in the round
#   load                                   the 1-minute load average at the end (shared machine)
#
#   ha_flood.sh [--quick] [--rate R] [--seconds S]
# Prints one JSON object (bench/README.md); logs on stderr. Exit 77: not root / no TUN.
set -uo pipefail
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
top=$(cd "$here/../.." && pwd)
rate=60000
seconds=5
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) seconds=1; shift ;;
    --rate) rate=${2:?}; shift 2 ;;
    --seconds) seconds=${2:?}; shift 2 ;;
    *) echo "ha_flood: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
log() { echo "ha_flood: $*" >&2; }
[ "$(id -u)" = 0 ] || { log "skipped: needs root (network namespaces)"; exit 77; }
build=${VMROAM_BUILD_DIR:-$top/build}
FLOOD_BIN=$build/tools/flood/vmroam-flood
[ -x "$FLOOD_BIN" ] || { log "no $FLOOD_BIN (build first)"; exit 1; }
# ha_topology.sh: the testbed, ha_up/ha_start/die, the HA's config (its FA list is replaced).
set -- "${VMR_HA:-$build/home-agent/vmroam-ha}"
# shellcheck source=../../tests/netns/home-agent/ha_topology.sh
source "$top/tests/netns/home-agent/ha_topology.sh" >&2
# shellcheck source=../../tests/lib/flood.sh
source "$top/tests/lib/flood.sh"
flood_up >&2
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$HA_PID/stat"; }
# The HA's UDP 434 messages so far by result and code (/metrics): {"RESULT|CODE": N, …}.
by_result() {
  curl -s --unix-socket "$HA_SOCK" http://ha/metrics | awk '
    index($0, "vmroam_registration_messages_total{") == 1 {
      r = ""; c = "-"
      if (match($0, /result="[^"]*"/)) r = substr($0, RSTART + 8, RLENGTH - 9)
      if (match($0, /code="[^"]*"/)) c = substr($0, RSTART + 6, RLENGTH - 7)
      n[r "|" c] += $NF
    }
    END { printf "{"; s = ""; for (k in n) { printf "%s\"%s\":%d", s, k, n[k]; s = "," } print "}" }'
}
# Datagrams the kernel dropped from a full receive buffer in the HA's namespace.
rcvbuf_errors() {
  ip netns exec "$NS_HA" awk '/^Udp:/ { if (!c) { for (i = 1; i <= NF; i++) if ($i == "RcvbufErrors") c = i } else { print $c; exit } }' /proc/net/snmp
}
# round NAME RATE: one run of the tool; prints the row.
round() {
  local name=$1 r=$2 out=$HA_DIR/$1.json rss0 lines0 cpu0 m0 drops0
  rss0=$(flood_rss_kib) lines0=$(wc -l <"$HA_DIR/ha.log") cpu0=$(cpu_ticks) m0=$(by_result) drops0=$(rcvbuf_errors)
  local kinds=()
  [ "$r" = 0 ] && kinds=(--kinds truncated)  # the tool needs one kind; at rate 0 it sends none
  flood_start "$out" "$r" "$seconds" "${kinds[@]}"
  flood_wait $((seconds + 60))
  log "$name: $(jq -c . "$out")"
  # What the HA decided in the round, by result and code (the deltas of /metrics).
  jq -n --argjson a "$m0" --argjson b "$(by_result)" '$b | with_entries(.value -= ($a[.key] // 0)) | with_entries(select(.value > 0))' \
    >"$HA_DIR/$name.by_result.json"
  log "$name: the HA decided $(jq -c . "$HA_DIR/$name.by_result.json")"
  jq -c --arg name "$name" --argjson offered "$r" --argjson rss "$(flood_rss_kib)" --argjson growth $((FLOOD_RSS_MAX - rss0)) \
    --argjson rss0 "$rss0" --argjson dropped $(($(rcvbuf_errors) - drops0)) --slurpfile m "$HA_DIR/$name.by_result.json" \
    --argjson lines $(($(wc -l <"$HA_DIR/ha.log") - lines0)) \
    --argjson cpu "$(echo "$(cpu_ticks) $cpu0 $(getconf CLK_TCK)" | awk '{ printf "%.2f", ($1 - $2) / $3 }')" \
    --argjson load "$(cut -d' ' -f1 /proc/loadavg)" '
    ($m[0] | to_entries) as $e | ([$e[].value] | add // 0) as $handled |
    ([$e[] | select(.key | test("[|][01]$")) | .value] | add // 0) as $accepted |
    {point: $name, offered_per_second: $offered, flood_per_second: .flood.per_second, flood_threads: .flood.threads,
     ha_handled_per_second: ($handled / .seconds), ha_accepted: $accepted, ha_rejected: ($handled - $accepted),
     kernel_dropped: $dropped,
     legit_success_rate: .legit.success_rate, legit_p50_ms: .legit.p50_ms, legit_p99_ms: .legit.p99_ms,
     legit_max_ms: .legit.max_ms, legit_registrations: .legit.registrations, legit_retransmissions: .legit.retransmissions, legit_lost: .legit.lost,
     rss_before_kib: $rss0, rss_kib: $rss, rss_growth_kib: $growth, log_lines: $lines, cpu_s: $cpu, load: $load}' "$out"
}
quiet=$(round quiet 0)
flood=$(round "flood@$rate" "$rate")
jq -n --argjson q "$quiet" --argjson f "$flood" --slurpfile bq "$HA_DIR/quiet.by_result.json" \
  --slurpfile bf "$HA_DIR/flood@$rate.by_result.json" --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  --arg cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" --arg kernel "$(uname -r)" \
  --argjson nproc "$(nproc)" --argjson seconds "$seconds" '
  {benchmark: "ha_flood", date: $date, machine: {nproc: $nproc, cpu: $cpu, kernel: $kernel},
   setup: {seconds: $seconds, sources: 5, real_vms: 20, real_rate: 200,
           kinds: ["bad_auth", "unknown_spi", "unknown_hoa", "replayed", "truncated", "wrong_type", "random"]},
   targets: {legit_success_rate: 0.99},
   key: "point",
   summary: ["flood_per_second", "ha_handled_per_second", "kernel_dropped", "legit_success_rate", "legit_p50_ms",
             "legit_p99_ms", "rss_before_kib", "rss_kib", "log_lines", "cpu_s", "load"],
   ha_by_result: {quiet: $bq[0], flood: $bf[0]},
   plot: {y: ["legit_p99_ms", "legit_success_rate"]},
   results: [$q, $f]}'
