#!/usr/bin/env bash
# netns test 'demo-namespace': the demo scenario with the namespace VM and both agents, dual
# stack. Asserts what the project promises: across all three moves (home -> foreign -> foreign2
# -> home) not one of the correspondent's 10 ms pings is lost, on IPv4 or on IPv6, and both its
# TCP streams survive (every message echoed, no stall over 2 s); the capture holds Mobile IP
# messages and none is malformed (tshark); demo-result.json has every documented key.
# Data plane: the demo's default, `auto` (eBPF where the kernel has it; VMR_DATAPLANE_DRIVER
# overrides).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=$(mktemp -d /tmp/vmr-demo-test.XXXXXX)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*"; [ -f "$out/demo-result.json" ] && cat "$out/demo-result.json"; \
  for f in "$out"/agent-*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done; exit 1; }

"$here/../demo.sh" --vm namespace --out "$out" --dwell "${DEMO_DWELL:-6}" "$@"
rc=$?
[ "$rc" = 77 ] && exit 77
r=$out/demo-result.json
[ -f "$r" ] || fail "no demo-result.json (demo exit $rc)"
jq -e '(.moves | length) == 3 and (.moves | map(has("from") and has("to") and has("sent") and has("lost")
  and has("max_gap_ms") and has("handover_ms") and has("vm_pause_ms")
  and has("sent_v6") and has("lost_v6") and has("max_gap_v6_ms")) | all)
  and has("tcp_stream_survived") and has("tcp6_stream_survived") and .dual_stack == true
  and .vm == "namespace" and .accelerator == null' "$r" >/dev/null ||
  fail "demo-result.json lacks documented keys"
jq -e '[.moves[] | [.from, .to]] == [["home","foreign"],["foreign","foreign2"],["foreign2","home"]]' "$r" >/dev/null ||
  fail "the moves are not home -> foreign -> foreign2 -> home"
jq -e '.moves | map(.sent >= 300 and .sent_v6 >= 300) | all' "$r" >/dev/null || fail "too few pings per move (< 300)"
# Not one ping lost on any move: the foreign agents buffer on the way out, and coming home the
# HA holds the VM's packets and recovers those tunnelled to the FA after the link left.
jq -e '.moves | map(.lost == 0 and .lost_v6 == 0) | all' "$r" >/dev/null ||
  fail "pings lost: $(jq -c '[.moves[] | {from, to, lost, max_gap_ms, lost_v6, max_gap_v6_ms}]' "$r")"
jq -e '.tcp_stream_survived == true' "$r" >/dev/null || fail "TCP stream broke: $(jq -r .tcp_error "$r")"
jq -e '.tcp6_stream_survived == true' "$r" >/dev/null || fail "IPv6 TCP stream broke: $(jq -r .tcp6_error "$r")"
jq -e '.moves | map(.handover_ms != null) | all' "$r" >/dev/null || fail "a move without a handover time"
[ "$rc" = 0 ] || fail "demo exited $rc (capture check or reachability)"
[ -s "$out/timeline.svg" ] || fail "no timeline plot"
echo "PASS: $(jq -c '[.moves[] | {from, to, sent, lost, max_gap_ms, sent_v6, lost_v6, max_gap_v6_ms, handover_ms}]' "$r"), both tcp streams survived"
