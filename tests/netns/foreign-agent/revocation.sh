#!/usr/bin/env bash
# netns test: the VM moves home -> foreign (FA1) -> foreign2 (FA2) -> home with the real
# vmroam-ha and two real vmroam-fa. On the FA1 -> FA2 move the HA revokes FA1's registration
# (RFC 3543): FA1 answers the Registration Revocation (type 7) with an acknowledgement
# (type 15), drops the visitor and every kernel object for it. Back home: depart at FA2
# (deregistration), the link returns to the home bridge, the correspondent reaches the VM
# directly again, the HA's binding and FA2's visitor are gone.
#
#     cn 198.51.100.10 (pings the VM)
#      |
#     wan ---- home 192.0.2.2 (vmroam-ha) ---- foreign 192.0.2.3 (FA1) ---- foreign2 192.0.2.4 (FA2)
#               br-home                          br-for  ^ capture wan0       br-for2
#                  \___________ vm0: home -> br-for -> br-for2 -> home ________/
#                                |
#                 vm 10.1.0.10/24 gw 10.1.0.1 (unmodified)
# usage: revocation.sh
set -u
source "$(dirname "$0")/fa_lib.sh"
fa_up --sites "foreign foreign2"
f1=$(topo_ns foreign)
hoa=$VMR_VM_ADDR
reach() { ns_exec cn ping -n -c 1 -W 1 "$hoa" >/dev/null 2>&1; }

# home -> foreign (FA1), as the migration driver does it.
fa_move home foreign
wait_for reach 10 || fail "cn does not reach the VM at FA1"

# ---- 5. FA1 -> FA2: revocation -------------------------------------------------------------
capture_start fa1 foreign
t0=$EPOCHREALTIME
fa_move foreign foreign2
# FA1 lets go: the visitor is gone (404) once the revocation is handled.
wait_for "! fa_visitor foreign" 5 || fail "FA1 still has the visitor: $(fa_visitor foreign)"
t_gone=$EPOCHREALTIME
ha_binding | jq -e --arg c "$VMR_FOREIGN2_WAN" '.care_of_address == $c' >/dev/null ||
  fail "the HA's binding is not at FA2: $(ha_binding)"
[ -z "$(ip -n "$f1" route show "$hoa/32")" ] || fail "FA1 kept a route: $(ip -n "$f1" route show "$hoa/32")"
ip -n "$f1" rule show | grep -q "from $hoa" && fail "FA1 kept a rule: $(ip -n "$f1" rule show)"
ip -n "$f1" neigh show proxy | grep -q "^$VMR_VM_GW " && fail "FA1 kept its proxy entry for $VMR_VM_GW"
ip -n "$f1" link show | grep -q 'vmr-gw' && fail "FA1 kept its anycast gateway link"
ip -n "$f1" -N -j neigh show "$hoa" | jq -e 'map(select((.protocol | tostring) == "186")) | length == 0' >/dev/null ||
  fail "FA1 kept its neighbour entry for $hoa: $(ip -n "$f1" neigh show "$hoa")"
wait_for reach 10 || fail "cn does not reach the VM at FA2"
revocation_capture_stop fa1
bad=$(tshark_count "$pcap" "mip && (_ws.malformed || _ws.expert.severity >= error)")
note "FA1 wire: revocation(s) $n_rev, acknowledgement(s) $n_ack, malformed $bad"
[ "$n_rev" -ge 1 ] || fail "no authenticated Registration Revocation to FA1: $(tshark -r "$pcap" -Y mip | head)"
[ "$n_ack" -ge 1 ] || fail "FA1 sent no authenticated Revocation Acknowledgement: $(tshark -r "$pcap" -Y mip | head)"
[ "$bad" = 0 ] || fail "malformed Mobile IP packets at FA1"
revoke_ms=$(awk -v a="$t0" -v b="$t_gone" 'BEGIN { printf "%.0f", (b - a) * 1000 }')

# ---- 6. return home ------------------------------------------------------------------------
t0=$EPOCHREALTIME
fa_depart foreign2 >/dev/null || fail "depart at FA2"
wait_for "! ha_binding" 5 || fail "the HA kept the binding after the deregistration: $(ha_binding)"
move_link foreign2 home || fail "link move home"
# What a migrated guest sends on arrival (its gratuitous ARP after QEMU's announce): the home
# router learns where 10.1.0.10 is again.
ns_exec vm busybox arping -U -c 1 -I "$VMR_VM_IF" "$hoa" >/dev/null 2>&1 || true
wait_for reach 10 || fail "cn does not reach the VM back home"
t_home=$EPOCHREALTIME
fa_visitor foreign2 >/dev/null 2>&1 && fail "FA2 still lists the visitor: $(fa_visitor foreign2)"
f2=$(topo_ns foreign2)
[ -z "$(ip -n "$f2" route show "$hoa/32")" ] || fail "FA2 kept a route"
ip -n "$f2" rule show | grep -q "from $hoa" && fail "FA2 kept a rule"
[ -z "$(ip -n "$(topo_ns home)" route show "$hoa/32" proto 186)" ] || fail "the HA kept its tunnel route"
home_ms=$(awk -v a="$t0" -v b="$t_home" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
# The home path carries the VM's traffic now: no tunnel, the ping goes straight to br-home.
out=$(ns_exec cn ping -n -c 20 -i 0.05 -W 1 "$hoa" 2>&1)
got=$(grep -c 'time=' <<<"$out")
[ "$got" -ge 19 ] || fail "home again: $got/20 pings answered"
echo "RESULT revocations=$n_rev acks=$n_ack prepare_to_fa1_gone_ms=$revoke_ms depart_to_reachable_home_ms=$home_ms home_pings=$got/20 run_s=$(elapsed)"
echo "PASS"
