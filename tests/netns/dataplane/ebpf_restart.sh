#!/usr/bin/env bash
# netns test: `kill -9` of an agent and its restart do not interrupt the traffic of existing
# bindings on the eBPF data plane (docs/dataplane.md "Restart").
#
#   cn ── wan ── home (vmroam-ha, ebpf) ══ IP-in-IP ══ foreign (vmroam-fa, ebpf) ── vm
#   (the shared testbed, tests/lib/topology.sh; the VM sits at the foreign site)
#
# Both agents pin their maps on one bpffs mounted for this test (dataplane.bpffs), so that a
# restarted agent finds its predecessor's maps as a host's /sys/fs/bpf would keep them. With a
# TCP stream (iperf3, rate-limited so that the shared machine is not the bottleneck) and pings
# every 10 ms from the correspondent to the VM running:
#   1. a stale route entry for a HoA the HA does not know is planted in the HA's pinned route
#      map (bpftool), as a crashed predecessor could leave it;
#   2. kill -9 of the HA, restart; kill -9 of the FA, restart;
#   3. the pings: 0 lost across either restart (the successor replaces the programs and adopts
#      the kernel state, docs/dataplane.md "Restart"); the TCP stream: finished without error;
#      the stale entry: gone, the VM's entry kept; the programs on the links are the new
#      agents' (tc shows new ids);
#   4. the binding's own counters (the per-HoA map) in the HA's API and /metrics, and the
#      visitor's in the FA's API and /metrics.
# usage: ebpf_restart.sh   (vmroam-ha/-fa from $VMROAM_BUILD_DIR or build/)
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
# shellcheck source=../../lib/topology.sh
source "$top/tests/lib/topology.sh"
# shellcheck source=../../lib/agents.sh
source "$top/tests/lib/agents.sh"

skip() { echo "SKIP: $*"; exit 77; }
die() {
  echo "FAIL: $*"
  for r in home foreign; do [ -f "$VMR_AGENTS_DIR/$r.log" ] && tail -n 15 "$VMR_AGENTS_DIR/$r.log"; done
  exit 1
}
[ "$(id -u)" = 0 ] || skip "needs root"
for tool in bpftool iperf3 ping; do command -v $tool >/dev/null || skip "$tool not installed"; done

BPFFS=$(mktemp -d /tmp/vmroam-restart-bpffs.XXXXXX)
mount -t bpf bpf "$BPFFS" 2>/dev/null || { rmdir "$BPFFS"; skip "cannot mount a bpffs"; }
PING_PID="" IPERF_PID="" SERVER_PID=""
cleanup() {
  for p in $PING_PID $IPERF_PID $SERVER_PID; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  agents_stop
  topo_down
  umount "$BPFFS" 2>/dev/null
  rmdir "$BPFFS" 2>/dev/null
}
topo_up --no-wanem --rate 0 || { rc=$?; [ $rc = 77 ] && skip "testbed: missing kernel feature"; die "testbed"; }
trap cleanup EXIT INT TERM
agents_setup --driver ebpf --bpffs "$BPFFS" || die "agents_setup"
agent_start home || die "HA start"
agent_start foreign || die "FA start"
for r in home foreign; do
  grep -q dataplane_fallback "$VMR_AGENTS_DIR/$r.log" && die "$r fell back to userspace"
done

# The VM moves to the foreign site as the hypervisor would move it (docs/api.md).
ha_register_vm >/dev/null || die "register VM"
fa_prepare foreign >/dev/null || die "prepare"
fa_activate foreign >/dev/null || die "activate"
fa_wait_state foreign active 10 || die "visitor not active"
vm_attach foreign || die "vm to foreign"
fa_resumed foreign >/dev/null || die "resumed"
wait_for "ns_exec cn ping -c1 -W1 $VMR_VM_ADDR >/dev/null" 10 "the VM through the tunnel" || die "VM unreachable"

# pin_dir SITE: where that agent pins its maps (per network namespace and TUN).
pin_dir() {
  local tun=vmr-ha0
  [ "$1" = home ] || tun=vmr-fa0
  echo "$BPFFS/vmroam/net$(stat -L -c %i "/run/netns/$(topo_ns "$1")")-$tun"
}
HA_PINS=$(pin_dir home)
FA_PINS=$(pin_dir foreign)
[ -e "$HA_PINS/vmr_route_v1" ] && [ -e "$FA_PINS/vmr_route_v1" ] || die "no pinned maps in $HA_PINS / $FA_PINS"
# prog_ids SITE: the ids of the programs attached in that site (tc filters on every link).
prog_ids() {
  local ns l
  ns=$(topo_ns "$1")
  for l in $(ip -n "$ns" -o link show | awk -F': ' '{ print $2 }' | cut -d@ -f1); do
    tc -n "$ns" filter show dev "$l" ingress 2>/dev/null | grep -o ' id [0-9]*'
  done | sort -u | tr -d '\n'
}

# A stale entry: HoA 10.1.0.99 → 192.0.2.3, which the HA's store has never heard of
# (key and value in network order: vmr_route = peer, grace_peer, flags).
bpftool map update pinned "$HA_PINS/vmr_route_v1" key 10 1 0 99 value 192 0 2 3 0 0 0 0 0 0 0 0 ||
  die "planting a stale route entry"

ns_exec vm iperf3 -s -1 >"$VMR_RUN_DIR/iperf3-server.log" 2>&1 &
SERVER_PID=$!
wait_for "ns_exec vm ss -Hltn 'sport = :5201' | grep -q LISTEN" 5 "iperf3 server" || die "iperf3 server"
ns_exec cn ping -D -i 0.01 -c 4000 -W 2 "$VMR_VM_ADDR" >"$VMR_RUN_DIR/ping.log" 2>&1 &
PING_PID=$!
ns_exec cn iperf3 -c "$VMR_VM_ADDR" -t 40 -b 100M -J >"$VMR_RUN_DIR/iperf3.json" 2>&1 &
IPERF_PID=$!
wait_for "grep -q 'bytes from' '$VMR_RUN_DIR/ping.log'" 5 "the first ping reply" || die "pings do not start"

for role in home foreign; do
  before=$(prog_ids "$role")
  killed=$(date +%s.%N)
  [ "$role" = foreign ] && FA_KILLED=$killed
  [ "$role" = home ] && HA_KILLED=$killed
  echo "$role: kill -9 at $killed"
  kill -KILL "$(cat "$VMR_AGENTS_DIR/$role.pid")" || die "kill -9 $role"
  wait "$(cat "$VMR_AGENTS_DIR/$role.pid")" 2>/dev/null
  rm -f "$VMR_AGENTS_DIR/$role.pid"
  t0=$(date +%s%3N)
  agent_start "$role" || die "$role restart"
  echo "$role: killed and restarted, API up after $(($(date +%s%3N) - t0)) ms (at $(date +%s.%N))"
  wait_for "[ \"\$(prog_ids $role)\" != '$before' ]" 10 "$role's programs replaced" || die "$role: programs not replaced"
done
kill -0 "$PING_PID" 2>/dev/null || die "the restarts outlasted the pings (40 s): the loss window is not covered"

wait_for "bpftool map lookup pinned '$HA_PINS/vmr_route_v1' key 10 1 0 99 >/dev/null 2>&1; [ \$? != 0 ]" 5 \
  "the stale entry removed" || die "stale route entry for 10.1.0.99 still in the HA's map"
bpftool map lookup pinned "$HA_PINS/vmr_route_v1" key 10 1 0 10 >/dev/null 2>&1 || die "the VM's route entry is gone"

wait "$PING_PID"
sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$VMR_RUN_DIR/ping.log")
received=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$VMR_RUN_DIR/ping.log")
PING_PID=""
echo "pings: sent $sent, received $received"
[ -n "$sent" ] && [ -n "$received" ] || die "no ping summary"
# Which ones were lost, and when (-D: the unix time of the last reply before each), so that a
# failure says which restart it fell in.
lost=0
for seq in $(comm -23 <(seq 1 "$sent" | sort) <(sed -n 's/.*icmp_seq=\([0-9]*\) .*/\1/p' "$VMR_RUN_DIR/ping.log" | sort -u)); do
  before=$(awk -v s="$seq" 'match($0, /icmp_seq=[0-9]+ /) { n = substr($0, RSTART + 9, RLENGTH - 10) + 0;
    if (n < s) t = substr($0, 2, index($0, ".") - 2) } END { print t }' "$VMR_RUN_DIR/ping.log")
  echo "lost icmp_seq=$seq after the reply at ${before:-?} (HA killed at ${HA_KILLED%.*}, FA at ${FA_KILLED%.*})"
  lost=$((lost + 1))
done
[ "$lost" = 0 ] || die "$lost pings lost across the restarts"
wait "$IPERF_PID"
rc=$?
IPERF_PID=""
[ "$rc" = 0 ] || die "iperf3 exited $rc: $(jq -r .error "$VMR_RUN_DIR/iperf3.json" 2>/dev/null)"
bytes=$(jq -r '.end.sum_received.bytes' "$VMR_RUN_DIR/iperf3.json")
echo "tcp stream: $bytes bytes, $(jq -r '.end.sum_sent.retransmits' "$VMR_RUN_DIR/iperf3.json") retransmits"
[ "${bytes:-0}" -gt 0 ] || die "the TCP stream carried nothing"
# The binding's own counters, read from the per-HoA map: in the API and in /metrics.
tx=$(ha_binding | jq '.counters.tx_packets // 0')
rx=$(ha_binding | jq '.counters.rx_packets // 0')
echo "binding counters: tx $tx rx $rx"
[ "$tx" -gt 0 ] && [ "$rx" -gt 0 ] || die "no per-binding counters in GET /v1/bindings/$VMR_VM_ADDR"
agent_api home GET /metrics | grep -q "^vmroam_binding_packets_total{direction=\"tx\",home_address=\"$VMR_VM_ADDR\"} [1-9]" ||
  die "no vmroam_binding_packets_total for $VMR_VM_ADDR in /metrics"
[ "$(agent_api foreign GET /v1/visitors | jq '.visitors[0].counters.tx_packets // 0')" -gt 0 ] ||
  die "no per-visitor counters at the FA"
agent_api foreign GET /metrics | grep -q "^vmroam_visitor_packets_total{direction=\"tx\",home_address=\"$VMR_VM_ADDR\"} [1-9]" ||
  die "no vmroam_visitor_packets_total for $VMR_VM_ADDR in the FA's /metrics"
echo "PASS"
