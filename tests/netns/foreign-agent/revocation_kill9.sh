#!/usr/bin/env bash
# netns test: the home agent is killed (SIGKILL) while a registration revocation is pending,
# and nothing is lost. The VM moves home -> FA1 -> FA2 with the real vmroam-ha and two real
# vmroam-fa; the HA's revocation of FA1 (RFC 3543 §4) is dropped on its way out (nftables in
# the home router, only UDP 434 messages of type 7 to FA1), so FA1 never acknowledges; the HA
# is SIGKILLed with the revocation pending and its record in the store (ha_revocations,
# committed with the move: docs/home-agent.md). The drop is lifted and the HA restarted: it
# sends the same revocation again, FA1 acknowledges (type 15, authenticated) and drops the
# visitor, and the HA deletes the record. The binding stays at FA2 throughout.
#
#     cn 198.51.100.10
#      |
#     wan ---- home 192.0.2.2 (vmroam-ha, SIGKILLed) ---- foreign 192.0.2.3 (FA1) ---- foreign2 192.0.2.4 (FA2)
#               nft: drop type 7 to FA1                    ^ capture wan0
#                  \___________ vm0: home -> br-for -> br-for2 ________/
# usage: revocation_kill9.sh
set -u
source "$(dirname "$0")/fa_lib.sh"
fa_up --sites "foreign foreign2"
home_ns=$(topo_ns home)
f1=$(topo_ns foreign)
hoa=$VMR_VM_ADDR
reach() { ns_exec cn ping -n -c 1 -W 1 "$hoa" >/dev/null 2>&1; }
pending() { agent_api home GET /metrics | awk '$1 == "vmroam_revocations_pending" { print $2 + 0 }'; }
# Rows of ha_revocations in the HA's store (the daemon may be dead: read the file itself).
stored_revocations() {
  /usr/bin/python3 - "$(jq -r .store.path "$VMR_AGENTS_DIR/home.json")" <<'PY'
import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM ha_revocations").fetchone()[0])
PY
}
nft_drop_revocations() {
  ip netns exec "$home_ns" nft -f - <<EOF || fail "nft: the drop rule"
table ip vmr_kill9 {
  chain out {
    type filter hook output priority 0; policy accept;
    ip daddr $VMR_FOREIGN_WAN udp dport 434 @th,64,8 7 counter drop
  }
}
EOF
}
dropped() { ip netns exec "$home_ns" nft -j list table ip vmr_kill9 | jq '[.nftables[] | .rule? // empty | .expr[] | .counter? // empty | .packets] | add // 0'; }

# home -> FA1.
fa_move home foreign
wait_for reach 10 || fail "cn does not reach the VM at FA1"

# FA1 -> FA2, the revocation of FA1 dropped: it stays pending (retransmitted at 1 s, 2 s).
nft_drop_revocations
fa_move foreign foreign2
wait_for '[ "$(dropped)" -ge 1 ]' 5 "the revocation to FA1 (dropped)" || fail "the HA sent no revocation to FA1"
[ "$(pending)" = 1 ] || fail "vmroam_revocations_pending is '$(pending)', expected 1"
fa_visitor foreign >/dev/null || fail "FA1 lost the visitor without a revocation"

# SIGKILL with the revocation pending (its last retransmission would give up after 7 s).
ha_pid=$(cat "$VMR_AGENTS_DIR/home.pid")
kill -KILL "$ha_pid"
wait_for "! kill -0 $ha_pid" 5 "vmroam-ha to die" || fail "vmroam-ha survived SIGKILL"
rm -f "$VMR_AGENTS_DIR/home.pid"
n=$(stored_revocations) || fail "cannot read the HA's store"
[ "$n" = 1 ] || fail "$n revocation(s) in the HA's store after SIGKILL, expected 1"
note "killed with the revocation pending: $(dropped) copies dropped, 1 in the store"

# Lifted, restarted: the same revocation again, acknowledged, forgotten.
ip netns exec "$home_ns" nft delete table ip vmr_kill9 || fail "nft: delete the drop rule"
capture_start fa1 foreign
agent_start home || fail "vmroam-ha did not restart"
grep -q 'revocations_resent=1' "$VMR_AGENTS_DIR/home.log" ||
  fail "the restarted HA did not report a revocation to re-send: $(grep 'home_agent_started' "$VMR_AGENTS_DIR/home.log" | tail -1)"
wait_for "! fa_visitor foreign" 10 "FA1 to drop the visitor" || fail "FA1 still has the visitor: $(fa_visitor foreign)"
wait_for '[ "$(pending)" = 0 ]' 10 "the revocation to be acknowledged" || fail "still pending: $(pending)"
wait_for '[ "$(stored_revocations)" = 0 ]' 10 "the record to go" ||
  fail "$(stored_revocations) revocation(s) still in the HA's store after the ack"
revocation_capture_stop fa1
[ "$n_rev" -ge 1 ] || fail "no authenticated revocation to FA1 after the restart"
[ "$n_ack" -ge 1 ] || fail "FA1 sent no authenticated acknowledgement"
ha_binding | jq -e --arg c "$VMR_FOREIGN2_WAN" '.care_of_address == $c' >/dev/null ||
  fail "the HA's binding is not at FA2 after the restart: $(ha_binding)"
[ -z "$(ip -n "$f1" route show "$hoa/32")" ] || fail "FA1 kept a route: $(ip -n "$f1" route show "$hoa/32")"
wait_for reach 10 || fail "cn does not reach the VM at FA2 after the restart"
echo "RESULT revocations_after_restart=$n_rev acks=$n_ack run_s=$(elapsed)"
echo "PASS"
