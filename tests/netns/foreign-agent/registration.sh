#!/usr/bin/env bash
# netns test: a real vmroam-fa registers the VM with the real vmroam-ha (proxy registration),
# installs its delivery state, and reverse-tunnels what the VM sends (RFC 3024), all seen on
# the wire by tshark on the FA's WAN side.
#
#     cn 198.51.100.10 <--------------------------------------+
#      |                                                      | ICMP replies to the VM
#     wan ---- home 192.0.2.2 (vmroam-ha) ====IP-in-IP==== foreign 192.0.2.3 (vmroam-fa)
#                                                  ^ capture    br-for, vmr-gw0 (anycast
#                                                  | wan0        gateway MAC), vmr-fab0, vmr-fa0
#                                                               |
#                                          vm 10.1.0.10/24 gw 10.1.0.1 (pings cn)
#
# Checks: 1. Registration Request (type 1, T bit, PMIPv4 device ID = the VM's MAC, FA-HA SPI)
# and Reply code 0 on the wire, nothing malformed; the visitor active with handover_ms.
# 2. Delivery state: HoA/32 on the buffer TUN while prepared, on the VM link once resumed;
# `from HoA iif br-for lookup 186`; table 186 default dev vmr-fa0; a macvlan with the home
# gateway's MAC; the proxy entry for the gateway. 4. Everything the VM sends leaves the FA's
# WAN side inside IP-in-IP to the HA, nothing with the VM's address as the outer source.
# usage: registration.sh
set -u
source "$(dirname "$0")/fa_lib.sh"
fa_up
fns=$(topo_ns foreign)
hoa=$VMR_VM_ADDR
capture_start wan foreign

# ---- 2. delivery state after prepare -----------------------------------------------------
fa_prepare foreign >/dev/null || fail "prepare"
state=$(fa_visitor foreign | jq -r .state)
[ "$state" = prepared ] || fail "visitor state after prepare: $state"
dev=$(ip_json foreign route show "$hoa/32" | jq -r '.[0].dev // empty')
[ "$dev" = vmr-fab0 ] || fail "prepared: HoA/32 on '$dev', expected the buffer TUN vmr-fab0: $(ip -n "$fns" route)"
ip_json foreign route show "$hoa/32" | jq -e '.[0].protocol | tostring | . == "186"' >/dev/null ||
  fail "HoA/32 not tagged proto 186: $(ip -n "$fns" route show "$hoa/32")"
ip_json foreign rule show | jq -e --arg h "$hoa" --arg i "$VMR_FOREIGN_BRIDGE" \
  'map(select(.src == $h and .iif == $i and (.table | tostring) == "186" and .priority == 1860)) | length == 1' \
  >/dev/null || fail "no rule 'from $hoa iif $VMR_FOREIGN_BRIDGE lookup 186 prio 1860': $(ip -n "$fns" rule)"
ip_json foreign route show table 186 | jq -e 'map(select(.dst == "default" and .dev == "vmr-fa0")) | length == 1' \
  >/dev/null || fail "table 186 has no default dev vmr-fa0: $(ip -n "$fns" route show table 186)"
gw=$(ip_json foreign -d link show | jq -r --arg m "$VMR_HOME_MAC" --arg b "$VMR_FOREIGN_BRIDGE" \
  'map(select(.linkinfo.info_kind == "macvlan" and .address == $m and .link == $b)) | .[0].ifname // empty')
[ -n "$gw" ] || fail "no macvlan with the home gateway's MAC $VMR_HOME_MAC on $VMR_FOREIGN_BRIDGE: $(ip -n "$fns" -d link)"
ip_json foreign rule show | jq -e --arg h "$hoa" --arg i "$gw" 'map(select(.src == $h and .iif == $i)) | length == 1' \
  >/dev/null || fail "no rule 'from $hoa iif $gw': $(ip -n "$fns" rule)"
# Anycast: the gateway's proxy entry sits on the macvlan carrying the home gateway's MAC, so
# the VM's ARP refresh keeps that MAC (on the bridge it would learn this FA's own, dead at FA2).
ip -n "$fns" neigh show proxy | grep -q "^$VMR_VM_GW dev $gw " ||
  fail "no proxy entry for $VMR_VM_GW on $gw: $(ip -n "$fns" neigh show proxy)"
# The VM's neighbour entry, seeded from its MAC so that the first packet needs no ARP.
ip -n "$fns" -N -j neigh show "$hoa" dev "$VMR_FOREIGN_BRIDGE" | jq -e --arg m "$VMR_VM_MAC" \
  'map(select(.lladdr == $m and (.protocol | tostring) == "186")) | length == 1' >/dev/null ||
  fail "no neighbour entry $hoa lladdr $VMR_VM_MAC proto 186: $(ip -n "$fns" neigh show dev "$VMR_FOREIGN_BRIDGE")"
note "prepared: $hoa/32 dev vmr-fab0, rules iif $VMR_FOREIGN_BRIDGE and iif $gw -> 186, anycast $gw $VMR_HOME_MAC," \
  "neighbour $hoa lladdr $VMR_VM_MAC"


# ---- 1. registration round trip ------------------------------------------------------------
fa_activate foreign >/dev/null || fail "activate"
fa_wait_state foreign active 5 || fail "registration"
visitor=$(fa_visitor foreign)
hms=$(jq -r '.handover_ms // empty' <<<"$visitor")
[ -n "$hms" ] && awk -v h="$hms" 'BEGIN { exit !(h > 0) }' || fail "no handover_ms in $visitor"
jq -e '.reply_code == 0 and .lifetime_granted > 0' <<<"$visitor" >/dev/null || fail "visitor: $visitor"
ha_binding | jq -e --arg c "$VMR_FOREIGN_WAN" '.care_of_address == $c' >/dev/null ||
  fail "the HA's binding: $(ha_binding)"

# The VM arrives; resumed moves HoA/32 to the VM link.
move_link home foreign || fail "link move"
fa_resumed foreign >/dev/null || fail "resumed"
dev=$(ip_json foreign route show "$hoa/32" | jq -r 'map(.dev) | join(",")')
[ "$dev" = "$VMR_FOREIGN_BRIDGE" ] || fail "resumed: HoA/32 on '$dev', expected $VMR_FOREIGN_BRIDGE only"

# ---- 4. reverse tunnelling: the VM pings the correspondent ----------------------------
out=$(ns_exec vm ping -n -c 20 -i 0.05 -W 2 "$VMR_CN_ADDR" 2>&1)
got=$(grep -c 'time=' <<<"$out")
[ "$got" -ge 18 ] || fail "the VM reached cn $got/20 times: $out"
pcap=$FA_DIR/wan.pcap
# Every answered echo request crossed the WAN: wait until tcpdump has written them all.
wait_for "[ \$(tshark_count $pcap 'icmp.type == 0 && ip.dst == $hoa') -ge $got ]" 10 ||
  fail "the capture holds fewer echo replies than the VM received ($got)"
capture_stop wan

req="mip.type == 1 && mip.t == 1 && ip.src == $VMR_FOREIGN_WAN && ip.dst == $VMR_HOME_WAN"
req+=" && mip.ext.pmipv4skipext.deviceid_id == $VMR_VM_MAC && mip.auth.spi == $VMR_FA_HA_SPI_FOREIGN"
n_req=$(tshark_count "$pcap" "$req")
[ "$n_req" -ge 1 ] || fail "no Registration Request (T bit, device ID, FA-HA SPI) on the wire: $(tshark -r "$pcap" -Y mip 2>&1 | head)"
n_rep=$(tshark_count "$pcap" "mip.type == 3 && mip.code == 0 && ip.src == $VMR_HOME_WAN && ip.dst == $VMR_FOREIGN_WAN")
[ "$n_rep" -ge 1 ] || fail "no Registration Reply code 0: $(tshark -r "$pcap" -Y mip 2>&1 | head)"
bad=$(tshark_count "$pcap" "_ws.malformed || _ws.expert.severity >= error")
[ "$bad" = 0 ] || fail "$bad malformed/expert-error packets: $(tshark -r "$pcap" -Y '_ws.malformed || _ws.expert.severity >= error' | head)"

inner=$(tshark_count "$pcap" "icmp.type == 8 && ip.src == $hoa")
tunnelled=$(tshark_count "$pcap" "icmp.type == 8 && ip.proto == 4 && ip.src#1 == $VMR_FOREIGN_WAN && ip.dst#1 == $VMR_HOME_WAN && ip.src#2 == $hoa")
outer=$(tshark_count "$pcap" "ip.src#1 == $hoa")
back=$(tshark_count "$pcap" "icmp.type == 0 && ip.src#1 == $VMR_HOME_WAN && ip.dst#1 == $VMR_FOREIGN_WAN && ip.dst#2 == $hoa")
note "wire: $n_req request(s), $n_rep reply(ies) code 0; VM echo requests $inner, in IP-in-IP to the HA $tunnelled, with the HoA as outer source $outer; replies tunnelled back $back"
[ "$inner" -ge 18 ] || fail "only $inner of the VM's echo requests on the WAN side"
[ "$tunnelled" = "$inner" ] || fail "$((inner - tunnelled)) of the VM's echo requests left untunnelled"
[ "$outer" = 0 ] || fail "$outer packets left with $hoa as the outer source"
[ "$back" -ge 18 ] || fail "only $back echo replies came back through the tunnel"
echo "RESULT handover_ms=$hms requests=$n_req replies=$n_rep reverse_tunnelled=$tunnelled/$inner outer_hoa=$outer run_s=$(elapsed)"
echo "PASS"
