#!/usr/bin/env bash
# netns test 'demo-no-agents': the same three moves with no agent running. The baseline the
# agents fix, and the proof that demo-namespace's assertions can fail: while the VM is at a
# foreign site the correspondent loses it (pings lost in both foreign moves, on IPv4 and IPv6)
# and the TCP streams break (an echo overdue by more than 2 s); the demo exits non-zero.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=$(mktemp -d /tmp/vmr-demo-test.XXXXXX)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*"; [ -f "$out/demo-result.json" ] && cat "$out/demo-result.json"; exit 1; }

"$here/../demo.sh" --vm namespace --no-agents --out "$out" --dwell "${DEMO_DWELL:-4}" "$@"
rc=$?
[ "$rc" = 77 ] && exit 77
r=$out/demo-result.json
[ -f "$r" ] || fail "no demo-result.json (demo exit $rc)"
jq -e '.moves[0].lost > 0 and .moves[1].lost > 0' "$r" >/dev/null ||
  fail "the VM stayed reachable at a foreign site without agents"
jq -e '.dual_stack and .moves[0].lost_v6 > 0 and .moves[1].lost_v6 > 0' "$r" >/dev/null ||
  fail "the VM stayed reachable over IPv6 at a foreign site without agents"
jq -e '.tcp_stream_survived == false and .tcp6_stream_survived == false' "$r" >/dev/null ||
  fail "a TCP stream survived without agents"
jq -e '.reachable_at_end and .reachable6_at_end' "$r" >/dev/null || fail "not reachable again once home"
[ "$rc" != 0 ] || fail "the demo exited 0 although the stream broke"
echo "PASS: without agents: $(jq -c '[.moves[] | {from, to, sent, lost, lost_v6, max_gap_ms}]' "$r"); tcp: $(jq -r .tcp_error "$r")"
