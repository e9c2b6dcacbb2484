#!/usr/bin/env bash
# vm test 'demo-qemu': the demo (tests/netns/demo.sh) with the real QEMU guest, its default.
# The dual-stack guest is live-migrated home -> foreign -> foreign2 -> home by vmroam-migrate
# coupled to both agents while the correspondent pings it every 10 ms and holds a TCP echo
# stream, on IPv4 and on IPv6. Asserts the project's promise on all three moves: 0 pings lost
# on either family, both TCP streams survived, a measured VM pause and handover per move, the
# guest's clock on the console across the moves, and the documented demo-result.json.
# Data plane: the demo's default, `auto` (eBPF where the kernel has it; VMR_DATAPLANE_DRIVER
# overrides). (demo-namespace is the same scenario without QEMU;
# vm_agents_migration shows that without the HA's hold these moves lose pings.)
# Needs root, qemu-system-x86_64, /dev/net/tun: exit 77 naming what is missing.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces, taps)"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: no qemu-system-x86_64"; exit 77; }
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun (TUN/TAP)"; exit 77; }
out=$(mktemp -d /tmp/vmr-demo-qemu.XXXXXX)
trap 'rm -rf "$out"' EXIT
fail() {
  # The post-mortem, most telling last (a test runner may show only the tail): the agents'
  # logs, each move's timeline, the WAN emulators' drops, the guest's clock (a gap between its
  # ticks is the guest not running), the marks, the result and its `losses` (when pings were
  # lost and what the demo was doing then), and the failure.
  local f r=$out/demo-result.json
  for f in "$out"/agent-*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 8 "$f"; }; done
  for f in "$out"/migrate-*.json; do
    [ -f "$f" ] && echo "--- $(basename "$f"): $(jq -c '[.timeline[]? | "\(.t_ms | floor) ms \(.side): \(.what)"]' "$f")"
  done
  for f in "$out"/wanem-*.json; do
    [ -f "$f" ] && echo "--- $(basename "$f"): $(jq -c '{kernel_drops, ab: (.ab | {rx_packets, lost, queue_overflow, tx_errors}),
      ba: (.ba | {rx_packets, lost, queue_overflow, tx_errors})}' "$f" 2>/dev/null)"
  done
  if [ -f "$out/vm-console.log" ]; then
    echo "--- the guest's console: ticks more than 2 s apart, and its other lines"
    awk '/^vmroam-guest tick [0-9]+ / { if (last && $3 - last > 2) print "tick gap: " last " -> " $3 " (" $3 - last " s)"; last = $3; next }
         { print }' "$out/vm-console.log" | grep -v '^vmroam-memcheck ok' | tail -n 12
  fi
  [ -f "$out/marks" ] && echo "--- marks: $(tr '\n' ';' <"$out/marks")"
  if [ -f "$r" ]; then
    echo "--- demo-result.json"
    jq -c '.moves[]' "$r"
    jq -c 'del(.moves, .losses)' "$r"
    jq -c '.losses[]?' "$r" | head -n 12
  fi
  echo "FAIL: $*"
  exit 1
}

"$here/../netns/demo.sh" --vm qemu --out "$out" --dwell "${DEMO_DWELL:-4}" "$@"
rc=$?
[ "$rc" = 77 ] && exit 77
r=$out/demo-result.json
[ -f "$r" ] || fail "no demo-result.json (demo exit $rc)"
jq -e '.vm == "qemu" and (.accelerator == "tcg" or .accelerator == "kvm")' "$r" >/dev/null ||
  fail "not the QEMU guest: $(jq -c '{vm, accelerator}' "$r")"
jq -e '[.moves[] | [.from, .to]] == [["home","foreign"],["foreign","foreign2"],["foreign2","home"]]' "$r" >/dev/null ||
  fail "the moves are not home -> foreign -> foreign2 -> home"
jq -e '.dual_stack == true' "$r" >/dev/null || fail "not dual-stack"
jq -e '.moves | map(.sent >= 200 and .sent_v6 >= 200) | all' "$r" >/dev/null || fail "too few pings per move (< 200)"
jq -e '.moves | map(.lost == 0 and .lost_v6 == 0) | all' "$r" >/dev/null ||
  fail "pings lost: $(jq -c '[.moves[] | {from, to, lost, max_gap_ms, lost_v6, max_gap_v6_ms, vm_pause_ms}]' "$r")"
jq -e '.moves | map((.vm_pause_ms | type) == "number" and .vm_pause_ms > 0 and (.handover_ms | type) == "number") | all' \
  "$r" >/dev/null || fail "a move without a measured VM pause or handover time"
jq -e '.tcp_stream_survived == true' "$r" >/dev/null || fail "TCP stream broke: $(jq -r .tcp_error "$r")"
jq -e '.tcp6_stream_survived == true' "$r" >/dev/null || fail "IPv6 TCP stream broke: $(jq -r .tcp6_error "$r")"
[ "$rc" = 0 ] || fail "demo exited $rc (capture check or reachability)"
# The guest's clock kept printing through the moves (its console spans three QEMUs).
ticks=$(grep -c '^vmroam-guest tick [0-9]* 20' "$out/vm-console.log")
[ "$ticks" -ge 15 ] || fail "only $ticks dated ticks on the guest's console"
[ -s "$out/timeline.svg" ] || fail "no timeline plot"
echo "PASS: $(jq -c '[.moves[] | {from, to, sent, lost, max_gap_ms, sent_v6, lost_v6, max_gap_v6_ms, handover_ms, vm_pause_ms}]' "$r"), both tcp streams survived, $ticks console ticks"
