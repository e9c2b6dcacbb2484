#!/usr/bin/env bash
# netns test: arrival detection. A prepared visitor (never activated through the API) becomes
# active when the FA sees the VM on its VM link (delivery.detect_arrival, libpcap): here the
# VM's gratuitous ARP after the move, what a guest sends after QEMU's announce.
#
#     wan ---- home 192.0.2.2 (vmroam-ha) ---- foreign 192.0.2.3 (vmroam-fa, detect_arrival)
#               br-home                          br-for  <- pcap: RARP/ARP/IP from the VM's MAC
#                  \_________ vm0 --(move)--> ______/
#                              |
#               vm 10.1.0.10/24 gw 10.1.0.1: `arping -U` once on arrival
# usage: arrival.sh
set -u
source "$(dirname "$0")/fa_lib.sh"
fa_up
fa_prepare foreign >/dev/null || fail "prepare"
move_link home foreign || fail "link move"
[ "$(fa_visitor foreign | jq -r .state)" = prepared ] || fail "active before the VM was seen: $(fa_visitor foreign)"
t0=$EPOCHREALTIME
ns_exec vm busybox arping -U -c 1 -I "$VMR_VM_IF" "$VMR_VM_ADDR" >/dev/null 2>&1 || fail "arping in the VM"
fa_wait_state foreign active 5 || fail "the VM's arrival did not activate the visitor"
t1=$EPOCHREALTIME
v=$(fa_visitor foreign)
jq -e '.resumed == true and .buffer.buffering == false' <<<"$v" >/dev/null || fail "not resumed: $v"
grep -q 'event=visitor_resumed visitor=vm1 how=arp' "$VMR_AGENTS_DIR/foreign.log" || fail "no 'resumed how=arp' in the FA's log"
ha_binding | jq -e --arg c "$VMR_FOREIGN_WAN" '.care_of_address == $c' >/dev/null || fail "HA binding: $(ha_binding)"
wait_for "ns_exec cn ping -n -c 1 -W 1 $VMR_VM_ADDR" 10 || fail "cn does not reach the VM"
echo "RESULT arp_to_active_ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", (b - a) * 1000 }') handover_ms=$(jq -r .handover_ms <<<"$v") run_s=$(elapsed)"
echo "PASS"
