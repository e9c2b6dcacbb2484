#!/usr/bin/env bash
# netns test: the active home agent's traffic to etcd is dropped silently (no RST, no ICMP:
# nftables on the control network's bridge eats its packets, both ways) while an FA keeps
# registering. docs/operations.md "Failover timing" says what must happen, and this checks it:
#
# * the cut-off active steps down on its own lease deadline, T − 500 ms after the last
#   keepalive it saw confirmed was sent (T = lease_ttl_s = 2 s here): it removes the service
#   address before the standby adds it (never two holders), within T − 500 ms of the cut plus
#   1 s for a late timer on this shared machine, and exits 2. Nothing in the network tells it
#   the connection is dead: gRPC's HTTP/2 keepalive would find that out only after ≈ 8 s
#   (ping every 6 s, 2 s unanswered), and its own requests just go unanswered until their
#   deadline (request_timeout_ms, 1.5 s). Its exit waits for no reply from etcd: it is bounded
#   by the step-down bound plus one request deadline (plus 1 s of slack).
# * the standby takes over (service address, role active) and the FA's next registrations
#   are accepted, now by it: its binding cache answers the API with their Identifications.
# * nothing acknowledged is lost: for every VM, the binding at the new active carries at
#   least the Identification of the last accepted reply the FA got, before or after the cut.
# * the old active, restarted while still cut off, comes up `connecting` and does not take
#   the service address; once the drop rules go it joins as a standby with a full mirror.
# * that standby, cut off silently in turn, stays up as `connecting` (its watch just goes
#   quiet) and rejoins as the same process once the rules go.
#
#     foreign 192.0.2.3 (cluster_register_loop.py: an FA registering 10.1.0.100… at 50/s)
#      |
#     wan ---- home 192.0.2.2 ---- br-home 10.1.0.1
#                                   |        |
#                                  h0       h0
#                             ha1 (vmroam-ha)   ha2 (vmroam-ha)   h0 10.1.0.21 / .22; the active
#                                  c0       c0                      one also holds 10.1.0.2/24
#                                   |        |
#      ctl: br-ctl 172.31.0.0/24 ---- e1 .11, e2 .12, e3 .13 (etcd members); ha1 .21, ha2 .22
#           (the cut: `table bridge vmr_cut` in ctl drops every frame to or from the active)
#
# Prints "RESULT step_down_ms=... exit_ms=... takeover_ms=..." (figures; the targets are the
# model's bounds above, and the timing table in docs/operations.md).
# The namespaces, etcd and the HAs are tests/lib/cluster.sh's.
# usage: cluster_silent_partition.sh PATH_TO_vmroam-ha
set -u
here=$(cd "$(dirname "$0")" && pwd)
HA_BIN=${1:?usage: cluster_silent_partition.sh PATH_TO_vmroam-ha}
source "$here/../../lib/topology.sh"
source "$here/../../lib/agents.sh"
MEMBERS=(e1 e2 e3)
HAS=(ha1 ha2)
source "$here/../../lib/cluster.sh"
PY=/usr/bin/python3  # has scapy (cluster_register_loop.py)
cluster_need "$HA_BIN" cluster-silent-partition nft "$PY"

TTL_S=2               # cluster.lease_ttl_s
REQUEST_TIMEOUT_MS=1500  # cluster.request_timeout_ms (its default)
VMS=16                # 10.1.0.100 … 10.1.0.115
RATE=50               # registrations/s from the FA
LOOP_PID=
stop_loop() { [ -z "$LOOP_PID" ] || kill -KILL "$LOOP_PID" 2>/dev/null; }
cluster_on_cleanup stop_loop
cluster_fail_log "$VMR_RUN_DIR/loop.err"

# ---- the testbed: home and one foreign site, the control network, etcd, two HA hosts ---------
cluster_up --no-wanem --sites "home foreign" --vm-site none || exit $?
cluster_addr_monitor  # step-down and takeover times: see tests/lib/cluster.sh
cluster_etcd_up

# ---- two HAs ----------------------------------------------------------------------------------
cluster_agents_setup 600 "{\"lease_ttl_s\": $TTL_S, \"request_timeout_ms\": $REQUEST_TIMEOUT_MS}"
bindings_at() { agent_api "$1" GET /v1/health 2>/dev/null | jq -r '.bindings // empty'; }
# Generous: an HA started while cut off waits for its first etcd request's deadline.
HA_START_S=20

ha_start ha1 "$HA_START_S"
wait_for "[ \"\$(role_of ha1)\" = active ] && has_service ha1" 15 "ha1 to be elected" || fail "ha1 not active"
ha_start ha2 "$HA_START_S"
wait_for "[ \"\$(role_of ha2)\" = standby ]" 15 "ha2 to be standby" || fail "ha2 not standby"
[ "$(leader)" = ha1 ] || fail "etcd's leader key is '$(leader)', expected ha1"
for i in $(seq 0 $((VMS - 1))); do
  agent_api ha1 POST /v1/vms "$(printf '{"id":"v%d","home_address":"10.1.0.%d","mac":"52:54:00:00:03:%02x","allowed_fas":["%s"]}' \
    "$i" $((100 + i)) "$i" "$VMR_FOREIGN_WAN")" >/dev/null || fail "POST /v1/vms v$i"
done
wait_for "agent_api ha2 GET /v1/vms/v$((VMS - 1))" 10 "the VMs at the standby" || fail "ha2 did not mirror the VMs"

# ---- the FA registers the VMs, on and on ---------------------------------------------------
LOOP_LOG=$VMR_RUN_DIR/acks.txt
LOOP_STOP=$VMR_RUN_DIR/loop.stop
ip netns exec "$VMR_NS_FOREIGN" "$PY" "$here/cluster_register_loop.py" "$SERVICE" "$VMR_FOREIGN_WAN" \
  "$VMR_FA_HA_SPI_FOREIGN" "$VMR_FA_HA_KEY_FOREIGN" 100 "$VMS" "$RATE" "$LOOP_LOG" "$LOOP_STOP" 120 \
  2>"$VMR_RUN_DIR/loop.err" &
LOOP_PID=$!
acks() { grep -c ' 0x' "$LOOP_LOG" 2>/dev/null; }
acks_after() { awk -v t="$1" '$1 >= t && $3 ~ /^0x/ { n++ } END { print n + 0 }' "$LOOP_LOG"; }
wait_for "[ \$(acks) -ge $((2 * VMS)) ] && [ \"\$(bindings_at ha2)\" = $VMS ]" 20 \
  "every VM bound at ha1 and mirrored at ha2" ||
  fail "$(acks) registrations accepted, ha2 mirrors $(bindings_at ha2) bindings"
note "the FA registers $VMS VMs at $RATE/s through ha1; ha2 mirrors them"

# ---- the cut: ha1's packets to and from etcd vanish --------------------------------------------
# cut_off ADDR: every frame to or from ADDR on the control network's bridge is dropped.
cut_off() {
  ip netns exec "$NS_CTL" nft -f - <<EOF || fail "nft: the drop rules for $1"
table bridge vmr_cut {
  chain forward {
    type filter hook forward priority 0; policy accept;
    ip saddr $1 counter drop
    ip daddr $1 counter drop
  }
}
EOF
}
pid1=$(ha_pid ha1)
t_cut=$(now_ms)
cut_off "$(cluster_addr ha1)"
# The bound the model gives (docs/operations.md "Failover timing"), with 1 s for a late timer.
STEP_DOWN_BOUND_MS=$((TTL_S * 1000 - 500 + 1000))
EXIT_BOUND_MS=$((STEP_DOWN_BOUND_MS + REQUEST_TIMEOUT_MS + 1000))
# Waited for longer than the bound, so that a slow step-down is measured and reported.
wait_for "! kill -0 $pid1" 20 "ha1 to step down and exit" ||
  fail "the silently cut-off active ha1 is still running $(($(now_ms) - t_cut)) ms after the cut (role $(role_of ha1))"
t_exit=$(now_ms)
wait "$pid1" 2>/dev/null
rc=$?
[ "$rc" = 2 ] || fail "ha1 exit status $rc (expected 2: deposed)"
grep -q cluster_deposed "$VMR_AGENTS_DIR/ha1.log" ||
  fail "ha1 did not log why it stepped down"
has_service ha1 && fail "the deposed ha1 kept the service address"
t_down=$(event_ms ha1 deleted "$t_cut") || fail "no address event for ha1's step-down"
wait_for "has_service ha2 && [ \"\$(role_of ha2)\" = active ]" 20 "ha2 to take over" ||
  fail "ha2 did not take over (role $(role_of ha2))"
t_back=$(event_ms ha2 added "$t_cut") || fail "no address event for ha2's takeover"
step_down_ms=$((t_down - t_cut))
exit_ms=$((t_exit - t_cut))
takeover_ms=$((t_back - t_cut))
dropped=$(ip netns exec "$NS_CTL" nft list table bridge vmr_cut | awk '/counter packets/ { n += $(NF - 3) } END { print n + 0 }')
[ "$dropped" -gt 0 ] || fail "the drop rules dropped nothing: the cut did not happen"
note "ha1 cut off silently ($dropped packets dropped): address gone after $step_down_ms ms, exit 2 after $exit_ms ms; ha2 active after $takeover_ms ms"
[ "$t_down" -le "$t_back" ] || fail "ha2 added the service address $((t_down - t_back)) ms before the cut-off ha1 dropped it"
[ "$step_down_ms" -le "$STEP_DOWN_BOUND_MS" ] ||
  fail "ha1 stepped down $step_down_ms ms after the cut (bound $STEP_DOWN_BOUND_MS ms: lease TTL − 500 ms + 1 s)"
[ "$exit_ms" -le "$EXIT_BOUND_MS" ] ||
  fail "ha1 exited $exit_ms ms after the cut (bound $EXIT_BOUND_MS ms: the step-down bound + one request deadline + 1 s)"
[ "$(leader)" = ha2 ] || fail "etcd's leader key is '$(leader)' after the takeover"

# ---- the FA goes on, now with ha2 ------------------------------------------------------------
# Its requests reach ha2 through the home router (ha2's gratuitous ARP for the service address).
wait_for "[ \$(acks_after $t_back) -ge $((2 * VMS)) ]" 20 "registrations accepted by ha2" ||
  fail "only $(acks_after "$t_back") registrations accepted since ha2 took over"
touch "$LOOP_STOP"
wait "$LOOP_PID"
rc=$?
LOOP_PID=
[ "$rc" = 0 ] || fail "the FA got a refusal or a reply from another address: $(cat "$VMR_RUN_DIR/loop.err")"
sent=$(awk '$1 == "sent" { print $2 }' "$LOOP_LOG")
total=$(acks)

# ---- nothing acknowledged is lost ---------------------------------------------------------------
# The last Identification accepted per HoA (the log is in time order) against the binding at
# ha2: equal, or later (a registration etcd committed whose reply the cut swallowed).
lost=0
while read -r hoa id; do
  have=$(agent_api ha2 GET "/v1/bindings/$hoa" | jq -r .identification) || { lost=$((lost + 1)); continue; }
  [[ "$have" < "$id" ]] && { echo "lost: $hoa acknowledged $id, ha2 has $have" >&2; lost=$((lost + 1)); }
done < <(awk '$3 ~ /^0x/ { last[$2] = $3 } END { for (h in last) print h, last[h] }' "$LOOP_LOG")
[ "$lost" = 0 ] || fail "$lost acknowledged bindings lost"
[ "$(bindings_at ha2)" = "$VMS" ] || fail "ha2 holds $(bindings_at ha2) bindings, not $VMS"
note "$sent registrations sent, $total accepted ($(acks_after "$t_back") by ha2); every VM's last acknowledged binding is at ha2"

# ---- the old active comes back while still cut off, then the cut heals ----------------------------
ha_start ha1 "$HA_START_S"
wait_for "[ \"\$(role_of ha1)\" = connecting ]" 15 "ha1 to report connecting" || fail "ha1 came back as '$(role_of ha1)'"
has_service ha1 && fail "ha1, restarted while cut off, holds the service address"
ip netns exec "$NS_CTL" nft delete table bridge vmr_cut || fail "nft: removing the drop rules"
wait_for "[ \"\$(role_of ha1)\" = standby ] && [ \"\$(bindings_at ha1)\" = $VMS ]" 20 "ha1 to join as a standby" ||
  fail "ha1 is '$(role_of ha1)' with $(bindings_at ha1) bindings once the cut healed"
has_service ha1 && fail "the rejoined ha1 holds the service address"
[ "$(leader)" = ha2 ] || fail "leader is '$(leader)' after ha1 rejoined"
note "ha1 restarted while cut off: connecting, no service address; once healed a standby with all $VMS bindings"

# ---- the standby cut off silently: it stays up, reconnects once the cut heals -------------------
# Its watch stream sees nothing (no RST): its own lease deadline makes it `connecting`, and
# it must rejoin as the same process once etcd's packets flow again.
pid1=$(ha_pid ha1)
cut_off "$(cluster_addr ha1)"
wait_for "[ \"\$(role_of ha1)\" = connecting ]" 15 "the cut-off standby ha1 to report connecting" ||
  fail "the silently cut-off standby is '$(role_of ha1)'"
kill -0 "$pid1" 2>/dev/null || fail "the silently cut-off standby ended"
has_service ha1 && fail "the cut-off standby took the service address"
[ "$(role_of ha2)" = active ] || fail "the active ha2 is '$(role_of ha2)' while the standby is cut off"
ip netns exec "$NS_CTL" nft delete table bridge vmr_cut || fail "nft: removing the drop rules"
wait_for "[ \"\$(role_of ha1)\" = standby ]" 20 "ha1 to rejoin as a standby" || fail "ha1 is '$(role_of ha1)' once healed"
[ "$(ha_pid ha1)" = "$pid1" ] && kill -0 "$pid1" 2>/dev/null || fail "ha1 was restarted"
[ "$(bindings_at ha1)" = "$VMS" ] || fail "ha1 mirrors $(bindings_at ha1) bindings after rejoining"
note "the standby ha1 cut off silently: connecting, still running; rejoined as a standby once healed"

echo "RESULT step_down_ms=$step_down_ms exit_ms=$exit_ms takeover_ms=$takeover_ms accepted=$total sent=$sent load=$(cut -d' ' -f1 /proc/loadavg)"
echo "PASS"
