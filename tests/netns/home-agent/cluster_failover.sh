#!/usr/bin/env bash
# netns test: two home agents on a real three-member etcd cluster; the active one dies, is cut
# off from etcd, comes back; an etcd member dies. Nothing acknowledged is lost.
#
#     cn 198.51.100.10 --ping -i 0.01--> 10.1.0.10
#      |
#     wan ---- home 192.0.2.2 (the home site's router) ------------- foreign 192.0.2.3 (vmroam-fa)
#      \_______ foreign2 192.0.2.4 (revocation_listener.py: an FA that never acknowledges)
#               br-home 10.1.0.1                                       br-for
#               |      |      \___ vm0 --(move)--> ___________________/
#              h0     h0
#         ha1 (vmroam-ha)   ha2 (vmroam-ha)      h0 10.1.0.21 / 10.1.0.22; the active one also
#              c0     c0                          holds 10.1.0.2/24 (the HA service address)
#               |      |
#      ctl: br-ctl 172.31.0.0/24 ---- e1 .11, e2 .12, e3 .13 (etcd members, own namespaces)
#           ha1 .21, ha2 .22
#
# Steps: etcd up (--max-txn-ops 4); ha1 starts first and is elected, ha2 mirrors; a VM
# defined at ha1 is readable at ha2, which refuses writes naming ha1 and its API; `vmroamctl
# status` shows both members. The FA registers the VM (it left home) with ha1; a TCP stream
# with a checksum runs from cn to the VM; a second VM moves from foreign2 to foreign (fake FAs,
# cluster_burst.py), so ha1 commits and sends a revocation to foreign2 that nobody there
# acknowledges; kill -9 ha1 while cn pings every 10 ms: ha2 sends that revocation again, takes
# the service address, tunnel and proxy ARP; pings resume; the binding is the one ha1
# acknowledged; the FA's next renewal is accepted by ha2; the TCP stream survives. ha1
# restarts: it stays standby and removed the address its killed predecessor left. ha2 is cut
# off from etcd: it steps down (exits 2) and ha1 takes over; ha2 restarts as a standby. A
# burst of registrations (more operations than one etcd txn may hold) is accepted, every
# reply from the service address; the bindings expire and the active removes their keys
# from etcd, the standby's mirror drops them. One etcd member is killed: registrations go on
# and nothing is lost; it is replaced by a fresh member (etcdctl member remove/add). At last
# the active is stopped (SIGTERM, "removing a HA"): it revokes its lease and the standby takes
# over at once.
# Prints "RESULT takeover_ms=... ping_gap_ms=... ..." (figures, not pass/fail: the targets
# are in docs/performance.md). Takeover times are when the kernel added the service address
# on the new active (`ip -ts monitor address` in each HA's namespace), less when the test
# killed, cut off or stopped the old one: not when a polling loop noticed. The partition
# step checks from the same events that the cut-off HA had dropped the address before the
# other one added it (never two holders).
# --out DIR (`./dev demo --ha-pair`): also runs tools/probe/vmroam-probe from cn to the VM (a
# ping every 10 ms and a TCP echo stream), marks the VM's move and both failovers, and writes
# DIR/demo-result.json (with a "cluster" object: the takeover times) and DIR/timeline.svg.
# usage: cluster_failover.sh PATH_TO_vmroam-ha [--out DIR]
set -u
here=$(cd "$(dirname "$0")" && pwd)
HA_BIN=${1:?usage: cluster_failover.sh PATH_TO_vmroam-ha [--out DIR]}
OUT=
[ "${2:-}" = --out ] && OUT=${3:?--out needs a directory}
PROBE=$here/../../../tools/probe/vmroam-probe
PROBE_PID=
source "$here/../../lib/topology.sh"
source "$here/../../lib/agents.sh"
MEMBERS=(e1 e2 e3)
HAS=(ha1 ha2)
source "$here/../../lib/cluster.sh"
PY=/usr/bin/python3  # has scapy (cluster_burst.py)
cluster_need "$HA_BIN" cluster ping "$PY"

CL_PING_PID=
CL_STREAM_PIDS=
CL_MON_PIDS=  # the revocation listener
MAX_TXN_OPS=4
CLUSTER_ETCD_ARGS="--max-txn-ops $MAX_TXN_OPS"

cluster_stop_traffic() {
  [ -n "$CL_PING_PID" ] && kill -INT "$CL_PING_PID" 2>/dev/null
  [ -n "$PROBE_PID" ] && kill -KILL "$PROBE_PID" 2>/dev/null
  local p
  for p in $CL_STREAM_PIDS $CL_MON_PIDS; do kill -KILL "$p" 2>/dev/null; done
}
cluster_on_cleanup cluster_stop_traffic

# ---- the testbed: the standard one, plus the control network, etcd and two HA hosts ----------
cluster_up --no-wanem --sites "home foreign foreign2" || exit $?

cluster_addr_monitor  # takeover and step-down times: see tests/lib/cluster.sh

# ---- etcd ------------------------------------------------------------------------------------
cluster_etcd_up
note "etcd: 3 members healthy"

# ---- agents --------------------------------------------------------------------------------
cluster_agents_setup 8 "{\"max_txn_ops\": $MAX_TXN_OPS}"
binding_of() { agent_api "$1" GET "/v1/bindings/$VMR_VM_ADDR" 2>/dev/null; }

ha_start ha1
wait_for "[ \"\$(role_of ha1)\" = active ] && has_service ha1" 10 "ha1 to be elected" || fail "ha1 not active"
ha_start ha2
wait_for "[ \"\$(role_of ha2)\" = standby ]" 10 "ha2 to be standby" || fail "ha2 not standby"
[ "$(leader)" = ha1 ] || fail "etcd's leader key is '$(leader)', expected ha1"
has_service ha2 && fail "the standby holds the service address"
agent_start foreign || fail "vmroam-fa did not start"
agent_api ha1 POST /v1/vms "$(jq -cn --arg id "$VMR_VM_ID" --arg hoa "$VMR_VM_ADDR" --arg mac "$VMR_VM_MAC" \
  --arg f1 "$VMR_FOREIGN_WAN" --argjson spi "$VMR_MN_HA_SPI" --arg alg "$VMR_ALGORITHM" --arg key "$VMR_MN_HA_KEY" \
  '{id: $id, home_address: $hoa, mac: $mac, allowed_fas: [$f1], spi: $spi, algorithm: $alg, key: $key}')" \
  >/dev/null || fail "POST /v1/vms at ha1"
wait_for "agent_api ha2 GET /v1/vms/$VMR_VM_ID" 5 "the VM definition at the standby" || fail "ha2 did not mirror the VM"
agent_api ha2 POST /v1/vms '{"id":"x","home_address":"10.1.0.99","mac":"52:54:00:00:00:99"}' 2>"$VMR_RUN_DIR/refused" &&
  fail "the standby accepted a write"
grep -q "503.*ha1, at $VMR_AGENTS_DIR/ha1.sock" "$VMR_RUN_DIR/refused" ||
  fail "the standby's refusal does not name the active and its API: $(cat "$VMR_RUN_DIR/refused")"
agent_api ha2 GET /v1/vms/x >/dev/null 2>&1 && fail "the refused write changed something"
# vmroamctl status at the standby: both members, who is active, lag and lease TTL.
status_ok() {  # status_ok AT ACTIVE STANDBY: the members as AT sees them, the standby caught up
  vctl "$1" --json status | jq -e --arg a "$2" --arg s "$3" '.cluster.active == $a and
    ([.cluster.members[] | select(.role == "active") | .node] == [$a]) and
    ([.cluster.members[] | select(.role == "standby" and .lag == 0 and .lease_ttl_s >= 0) | .node] == [$s])' >/dev/null
}
wait_for "status_ok ha2 ha1 ha2" 10 "vmroamctl status at ha2" || fail "vmroamctl status: $(vctl ha2 --json status)"
vctl ha2 status | grep -Eq "^ha1 +10\.1\.0\.0/24 +active +0 +[0-9]+ +$VMR_AGENTS_DIR/ha1.sock\$" ||
  fail "vmroamctl status does not show ha1 as the active: $(vctl ha2 status)"
note "ha2 reads the VM ha1 defined, refuses writes naming ha1's API; vmroamctl status shows both"

# ---- the VM leaves home --------------------------------------------------------------------
ip netns exec "$VMR_NS_CN" ping -n -D -i 0.01 -W 3 "$VMR_VM_ADDR" >"$VMR_RUN_DIR/ping.txt" 2>&1 &
CL_PING_PID=$!
mark() { [ -z "$OUT" ] || echo "$EPOCHREALTIME $*" >>"$OUT/marks"; }
if [ -n "$OUT" ]; then
  mkdir -p "$OUT" && rm -f "$OUT/marks" "$OUT/samples.json" "$OUT/demo-result.json" || fail "--out $OUT"
  ip netns exec "$VMR_NS_VM" "$PROBE" serve --port 7007 >"$VMR_RUN_DIR/echo.log" 2>&1 &
  CL_STREAM_PIDS="$!"
  wait_for "ip netns exec $VMR_NS_VM ss -Hltn 'sport = :7007' | grep -q LISTEN" 5 "the probe's echo server" ||
    fail "vmroam-probe serve"
  # A TCP echo overdue by 10 s (not the default 2 s) counts as broken: a takeover takes ~2.5 s.
  ip netns exec "$VMR_NS_CN" "$PROBE" run --target "$VMR_VM_ADDR" --port 7007 --interval-ms 10 \
    --tcp-timeout-s 10 --out "$OUT/samples.json" >"$VMR_RUN_DIR/probe.log" 2>&1 &
  PROBE_PID=$!
fi
replies() { grep -c 'icmp_seq=.*time=' "$VMR_RUN_DIR/ping.txt" 2>/dev/null; }
wait_more() { local want=$(($(replies) + $1)); wait_for "[ \$(replies) -ge $want ]" "$2"; }
wait_more 50 10 || fail "the VM at home does not answer"
mark move from=home to=foreign
fa_prepare foreign >/dev/null || fail "prepare"
fa_activate foreign >/dev/null || fail "activate"
fa_wait_state foreign active 10 || fail "registration with ha1"
ip -n "$VMR_NS_HOME" link set "$VMR_VM_PORT" netns "$VMR_NS_FOREIGN" &&
  ip -n "$VMR_NS_FOREIGN" link set "$VMR_VM_PORT" master "$VMR_FOREIGN_BRIDGE" up || fail "link move"
mark link
fa_resumed foreign >/dev/null || fail "resumed"
wait_more 100 10 || fail "the VM at the foreign site does not answer through ha1"
acked=$(binding_of ha1) || fail "no binding at ha1"
wait_for "[ \"\$(agent_api ha2 GET /v1/health | jq .bindings)\" = 1 ]" 5 "the binding at the standby" ||
  fail "ha2 does not mirror the binding"
note "VM away, bound at ha1 to $(jq -r .care_of_address <<<"$acked"); ha2 mirrors it"

# A TCP stream from cn to the VM, through the tunnel, across the takeover.
STREAM_STOP=$VMR_RUN_DIR/stream.stop
ip netns exec "$VMR_NS_VM" "$PY" "$here/tcp_stream.py" serve "$VMR_VM_ADDR" 5001 >"$VMR_RUN_DIR/stream-serve.txt" 2>&1 &
CL_STREAM_PIDS="$!"
wait_for "ip netns exec $VMR_NS_VM ss -Hltn 'sport = :5001' | grep -q LISTEN" 5 "the stream's server" || fail "no stream server"
ip netns exec "$VMR_NS_CN" "$PY" "$here/tcp_stream.py" send "$VMR_VM_ADDR" 5001 "$STREAM_STOP" >"$VMR_RUN_DIR/stream.txt" 2>&1 &
STREAM_PID=$!
CL_STREAM_PIDS="$CL_STREAM_PIDS $STREAM_PID"
wait_for "ip netns exec $VMR_NS_VM ss -Htn state established 'sport = :5001' | grep -q ." 5 "the stream to connect" ||
  fail "the TCP stream did not connect: $(cat "$VMR_RUN_DIR/stream.txt")"

# ---- a revocation pending when the active dies (RFC 3543 §4) ----------------------------------
# r0 (10.1.0.90, lifetime 6 s: gone before the burst below counts bindings) registers through
# FA2's address, then through FA1's: ha1 commits the move with a revocation for FA2 and sends
# it; nothing at FA2 acknowledges it, so it is pending when ha1 is killed below.
REV_LOG=$VMR_RUN_DIR/revocations.txt
: >"$REV_LOG"
ip netns exec "$VMR_NS_FOREIGN2" "$PY" "$here/revocation_listener.py" "$VMR_FOREIGN2_WAN" "$REV_LOG" \
  >"$VMR_RUN_DIR/revocation-listener.txt" 2>&1 &
CL_MON_PIDS="$CL_MON_PIDS $!"
agent_api ha1 POST /v1/vms "$(printf '{"id":"r0","home_address":"10.1.0.90","mac":"52:54:00:00:02:00","allowed_fas":["%s","%s"]}' \
  "$VMR_FOREIGN2_WAN" "$VMR_FOREIGN_WAN")" >/dev/null || fail "POST /v1/vms r0"
r0_at() {  # r0_at NS FA SPI KEY: r0 registers through FA (cluster_burst.py as that FA)
  ip netns exec "$1" "$PY" "$here/cluster_burst.py" "$SERVICE" "$2" "$3" "$4" 90 1 6
}
r=$(r0_at "$VMR_NS_FOREIGN2" "$VMR_FOREIGN2_WAN" "$VMR_FA_HA_SPI_FOREIGN2" "$VMR_FA_HA_KEY_FOREIGN2") ||
  fail "r0 through FA2: $r"
r=$(r0_at "$VMR_NS_FOREIGN" "$VMR_FOREIGN_WAN" "$VMR_FA_HA_SPI_FOREIGN" "$VMR_FA_HA_KEY_FOREIGN") ||
  fail "r0 through FA1: $r"
wait_for "[ -s '$REV_LOG' ]" 5 "ha1's revocation at FA2" || fail "no revocation reached FA2 when r0 moved on"
rev_id=$(awk 'NR == 1 { print $3 }' "$REV_LOG")
note "r0 moved from FA2 to FA1: revocation $rev_id sent to FA2, not acknowledged"

# ---- kill -9 the active --------------------------------------------------------------------
before=$(replies)
t_kill=$(now_ms)
mark move "from=ha1" "to=ha2(kill-9)"
mark link
kill -KILL "$(ha_pid ha1)"
wait "$(ha_pid ha1)" 2>/dev/null
wait_for "has_service ha2" 15 "ha2 to take the service address" || fail "ha2 did not take over"
wait_for "[ \$(replies) -gt $before ]" 15 "pings to resume" || fail "pings did not resume after the takeover"
t_ping=$(now_ms)
t_active=$(event_ms ha2 added "$t_kill") || fail "no address event for ha2's takeover"
# The revocation ha1 never saw acknowledged comes again, from the new active (a second after
# the kill at the earliest: no retransmission of ha1's can be taken for it).
resent() { awk -v t=$((t_kill + 1000)) -v id="$rev_id" -v s="$SERVICE" \
  '$1 >= t && $2 == s && $3 == id { f = 1 } END { exit !f }' "$REV_LOG"; }
wait_for resent 10 "ha2 to send ha1's pending revocation" ||
  fail "the new active did not send the revocation pending at ha1 ($rev_id): $(cat "$REV_LOG")"
wait_more 100 10 || fail "pings do not go on through ha2"
[ "$(role_of ha2)" = active ] || fail "ha2 reports role $(role_of ha2)"
now=$(binding_of ha2) || fail "the acknowledged binding is lost"
[ "$(jq -r .care_of_address <<<"$now")" = "$(jq -r .care_of_address <<<"$acked")" ] || fail "binding differs: $now"
# The FA's next renewal (lifetime 8 s) reaches ha2 without a new registration from scratch.
id0=$(jq -r .identification <<<"$now")
wait_for "[ \"\$(binding_of ha2 | jq -r .identification)\" != '$id0' ]" 15 "a renewal accepted by ha2" ||
  fail "no renewal reached ha2"
fa_visitor foreign | jq -e '.state == "active"' >/dev/null || fail "the FA's visitor is not active: $(fa_visitor foreign)"
touch "$STREAM_STOP"
wait "$STREAM_PID"
rc=$?
stream=$(cat "$VMR_RUN_DIR/stream.txt")
[ "$rc" = 0 ] || fail "the TCP stream did not survive the takeover: $stream"
CL_STREAM_PIDS=
note "$stream"
takeover_ms=$((t_active - t_kill))
resume_ms=$((t_ping - t_kill))
mark handover "ms=$takeover_ms"
note "kill -9 ha1: ha2 active after ${takeover_ms} ms, pings back after ${resume_ms} ms; renewal accepted by ha2; it re-sent revocation $rev_id"

# ---- the old active comes back: it stays standby ----------------------------------------------
has_service ha1 || fail "expected the killed ha1 to have left its service address behind (kernel state)"
ha_start ha1
wait_for "[ \"\$(role_of ha1)\" = standby ]" 10 "ha1 to come back as standby" || fail "ha1 is $(role_of ha1)"
has_service ha1 && fail "the restarted ha1 still holds the service address"
[ "$(leader)" = ha2 ] || fail "leader is '$(leader)' after ha1's restart"
wait_more 50 10 || fail "pings stopped when ha1 came back"

# ---- partition the active from etcd: it steps down -------------------------------------------
before=$(replies)
t_cut=$(now_ms)
mark move "from=ha2" "to=ha1(partition)"
mark link
ip -n "$(ns_of ha2)" link set c0 down || fail "cutting ha2 off"
wait_for "! kill -0 $(ha_pid ha2)" 10 "ha2 to step down" || fail "the partitioned ha2 did not step down"
wait "$(ha_pid ha2)" 2>/dev/null
rc=$?
[ "$rc" = 2 ] || fail "ha2 exit status $rc (expected 2: deposed)"
has_service ha2 && fail "the deposed ha2 kept the service address"
wait_for "has_service ha1 && [ \"\$(role_of ha1)\" = active ]" 15 "ha1 to take over" || fail "ha1 did not take over"
t_down=$(event_ms ha2 deleted "$t_cut") || fail "no address event for ha2's step-down"
t_back=$(event_ms ha1 added "$t_cut") || fail "no address event for ha1's takeover"
[ "$t_down" -le "$t_back" ] ||
  fail "ha1 added the service address $((t_down - t_back)) ms before the cut-off ha2 dropped it"
wait_for "[ \$(replies) -gt $before ]" 15 "pings to resume" || fail "pings did not resume after the partition"
binding_of ha1 >/dev/null || fail "the binding is lost after the partition"
ip -n "$(ns_of ha2)" link set c0 up
partition_ms=$((t_back - t_cut))
mark handover "ms=$partition_ms"
note "ha2 cut off from etcd: it stepped down after $((t_down - t_cut)) ms; ha1 active after ${partition_ms} ms"
ha_start ha2
wait_for "[ \"\$(role_of ha2)\" = standby ]" 10 "ha2 to come back as standby" || fail "ha2 is $(role_of ha2)"

# ---- a burst larger than one etcd txn; the bindings expire and leave etcd ----------------------
BURST=12
for i in $(seq 0 $((BURST - 1))); do
  agent_api ha1 POST /v1/vms "$(printf '{"id":"b%d","home_address":"10.1.0.%d","mac":"52:54:00:00:02:%02x","allowed_fas":["%s"]}' \
    "$i" $((100 + i)) "$i" "$VMR_FOREIGN_WAN")" >/dev/null || fail "POST /v1/vms b$i"
done
burst=$(ip netns exec "$VMR_NS_FOREIGN" "$PY" "$here/cluster_burst.py" "$SERVICE" "$VMR_FOREIGN_WAN" \
  "$VMR_FA_HA_SPI_FOREIGN" "$VMR_FA_HA_KEY_FOREIGN" 100 "$BURST" 4) || fail "$burst"
note "$burst (etcd --max-txn-ops $MAX_TXN_OPS; each registration writes 1 key, its binding)"
burst_keys() { etcd_ctl get --prefix --keys-only /vmroam/homes/10.1.0.0_24/bindings/10.1.0.1 | grep -c '/10\.1\.0\.1[01][0-9]$'; }
[ "$(burst_keys)" = "$BURST" ] || fail "$(burst_keys) of $BURST burst bindings in etcd"
[ "$(role_of ha1)" = active ] || fail "ha1 is $(role_of ha1) after the burst"
wait_for "[ \$(burst_keys) = 0 ]" 20 "the expired bindings' keys to leave etcd" || fail "expired bindings stay in etcd"
wait_for "[ \"\$(agent_api ha2 GET /v1/health | jq .bindings)\" = 1 ]" 5 "the standby's mirror to drop them" ||
  fail "ha2 still mirrors expired bindings: $(agent_api ha2 GET /v1/health)"
binding_of ha1 >/dev/null || fail "the VM's binding expired with the burst"
wait_for "status_ok ha1 ha1 ha2" 10 "vmroamctl status at ha1" || fail "vmroamctl status: $(vctl ha1 --json status)"
note "the active removed the expired bindings from etcd; the standby's mirror followed"

# ---- an etcd member dies: nothing lost, registrations go on ------------------------------------
victim=e3
[ "$(CTL_ENDPOINTS=172.31.0.13:2379 etcd_ctl endpoint status -w json | jq '.[0].Status.header.member_id == .[0].Status.leader')" = true ] &&
  victim=e2  # keep the raft leader: a member loss, not an election
kill -KILL "$(cat "$VMR_RUN_DIR/$victim.pid")"
id1=$(binding_of ha1 | jq -r .identification)
wait_for "[ \"\$(binding_of ha1 | jq -r .identification)\" != '$id1' ]" 15 "a renewal with $victim dead" ||
  fail "no renewal committed with one etcd member dead"
CTL_ENDPOINTS=172.31.0.11:2379 etcd_ctl get "/vmroam/homes/10.1.0.0_24/bindings/$VMR_VM_ADDR" --print-value-only |
  jq -e --arg coa "$(jq -r .care_of_address <<<"$acked")" '.coa == $coa' >/dev/null ||
  fail "the binding is not in etcd after losing $victim"
wait_more 50 10 || fail "pings stopped with $victim dead"

# ---- replacing the dead member (docs/operations.md "Adding an etcd member") ------------------
# Remove it, add a fresh one (new name and data) at its address, started with the cluster as
# `member add` prints it and state "existing"; the HAs' cluster.etcd stays valid.
i=${victim#e}
victim_addr=172.31.0.1$i
id=$(etcd_ctl member list | awk -F', ' -v n="$victim" '$3 == n { print $1 }')
[ -n "$id" ] || fail "no member id for $victim: $(etcd_ctl member list)"
etcd_ctl member remove "$id" >/dev/null || fail "etcdctl member remove $id"
initial=$(etcd_ctl member add "r$i" --peer-urls="http://$victim_addr:2380" | sed -n 's/^ETCD_INITIAL_CLUSTER="\(.*\)"$/\1/p')
[ -n "$initial" ] || fail "etcdctl member add r$i printed no initial cluster"
cluster_etcd_start "$victim" "r$i" "$initial" existing
wait_for "etcd_ctl endpoint health --cluster" 30 "three healthy members again" ||
  fail "the replacement member r$i did not join: $(tail -n 5 "$VMR_RUN_DIR/r$i.log")"
[ "$(etcd_ctl member list | wc -l)" = 3 ] || fail "members: $(etcd_ctl member list)"
[ "$(CTL_ENDPOINTS=$victim_addr:2379 etcd_ctl get "$LEADER_KEY" --print-value-only)" = ha1 ] ||
  fail "the new member r$i does not serve the cluster's data"
id2=$(binding_of ha1 | jq -r .identification)
wait_for "[ \"\$(binding_of ha1 | jq -r .identification)\" != '$id2' ]" 15 "a renewal with r$i in place of $victim" ||
  fail "no renewal committed after replacing $victim"
note "etcd member $victim removed and replaced by r$i (member remove/add): renewals go on"

# ---- removing a HA (docs/operations.md): SIGTERM the active; the standby takes over at once --
t_term=$(now_ms)
mark move "from=ha1" "to=ha2(stop)"
mark link
kill -TERM "$(ha_pid ha1)"
wait_for "! kill -0 $(ha_pid ha1)" 10 "ha1 to stop" || fail "ha1 did not stop on SIGTERM"
wait "$(ha_pid ha1)" 2>/dev/null
wait_for "has_service ha2 && [ \"\$(role_of ha2)\" = active ]" 10 "ha2 to take over from the stopped ha1" ||
  fail "ha2 did not take over when ha1 stopped"
t_took=$(event_ms ha2 added "$t_term") || fail "no address event for ha2's takeover after the stop"
stop_ms=$((t_took - t_term))
mark handover "ms=$stop_ms"
has_service ha1 && fail "the stopped ha1 left the service address behind"
wait_for "[ \"\$(vctl ha2 --json status | jq -c '[.cluster.members[].node]')\" = '[\"ha2\"]' ]" 5 \
  "ha1's member record to go" || fail "members after stopping ha1: $(vctl ha2 --json status)"
binding_of ha2 >/dev/null || fail "the binding is lost after ha1 stopped"
wait_more 50 10 || fail "pings stopped after ha1 stopped"
note "ha1 stopped (SIGTERM): it revoked its lease, ha2 active after ${stop_ms} ms; status lists ha2 alone"

kill -INT "$CL_PING_PID"
wait "$CL_PING_PID" 2>/dev/null
CL_PING_PID=
CL_STREAM_PIDS=
MAX_TXN_OPS=4
# The longest time between two replies (-D receive timestamps): the outages as cn saw them.
# (Lost sequence numbers say little here: ping slows down while nothing comes back.)
gap=$(awk '/icmp_seq=/ && /time=/ { ts = substr($1, 2, length($1) - 2) + 0; if (last != "" && ts - last > g) g = ts - last; last = ts }
  END { printf "%.0f", g * 1000 }' "$VMR_RUN_DIR/ping.txt")
echo "RESULT takeover_ms=$takeover_ms ping_resume_ms=$resume_ms partition_takeover_ms=$partition_ms partition_step_down_ms=$((t_down - t_cut)) stop_takeover_ms=$stop_ms max_ping_gap_ms=$gap etcd_member_killed=$victim load=$(cut -d' ' -f1 /proc/loadavg)"
if [ -n "$OUT" ]; then
  kill -TERM "$PROBE_PID"
  wait "$PROBE_PID" || fail "vmroam-probe run: $(cat "$VMR_RUN_DIR/probe.log")"
  PROBE_PID=
  "$PROBE" analyse --samples "$OUT/samples.json" --marks "$OUT/marks" --out "$OUT" --vm namespace \
    --title "vmroam HA pair: the VM moves away, then the active HA is killed (-9) and later cut off from etcd" ||
    fail "the demo's analysis: unreachable at the end or the TCP stream broke"
  jq --argjson k "$takeover_ms" --argjson r "$resume_ms" --argjson p "$partition_ms" --argjson s "$stop_ms" \
    --arg v "$victim" \
    '.cluster = {members: 3, home_agents: 2, kill9_takeover_ms: $k, kill9_ping_resume_ms: $r,
                 partition_takeover_ms: $p, stop_takeover_ms: $s, etcd_member_killed: $v}' "$OUT/demo-result.json" >"$OUT/demo-result.json.new" &&
    mv "$OUT/demo-result.json.new" "$OUT/demo-result.json" || fail "demo-result.json"
fi
echo "PASS"
