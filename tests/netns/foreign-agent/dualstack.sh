#!/usr/bin/env bash
# netns test: the foreign agent's IPv6 half for a dual-stack visitor (docs/foreign-agent.md
# "Dual-stack visitors", docs/protocol.md "Dual-stack VMs"), on the dual-stack testbed
# (tests/lib/topology.sh --ipv6) with a real vmroam-ha and vmroam-fa:
#
#   cn 198.51.100.10, 2001:db8:100::10 ── wan ── home 192.0.2.2 (vmroam-ha, home_prefix_v6
#                                         │      2001:db8:1::/64; br-home 2001:db8:1::1,
#                                         │      fe80::aff:fe01:1 = the VM's IPv6 gateway)
#                                         └──── foreign 192.0.2.3 (vmroam-fa), br-for
#                                                    │  (no IPv6 of its own)
#                      vm 10.1.0.10, 2001:db8:1::10 ─┘  default via fe80::aff:fe01:1
#
#   1. at home the correspondent reaches the VM's IPv6 home address (plain routing)
#   2. arrival by NA: the link moves to the foreign bridge, the visitor is prepared, and the
#      VM's unsolicited Neighbor Advertisement alone (what a guest sends after a move) activates
#      it (`how=na`); the HA granted the IPv6 home address (binding and visitor)
#   3. the FA answers the VM's Neighbor Solicitations for its gateway's link-local address and
#      for the home router's global address with the home gateway's MAC (the VM's neighbour
#      cache shows it), counted home_ns_answered
#   4. end to end: the correspondent's ping6 to the VM crosses HA and FA (protocol 41 on the
#      FA's WAN link, in both directions: delivered, and the replies reverse-tunnelled)
#   5. the VM's IPv6 from a source that is not its home address is not reverse-tunnelled (the
#      HA's own check of the inner source is tests/netns/home-agent/dualstack.sh's)
# Data plane: `auto` (eBPF where the kernel has it), as the other agent tests; VMR_DATAPLANE_DRIVER
# overrides (both carry IPv6).
# usage: dualstack.sh
set -u
source "$(dirname "$0")/fa_lib.sh"
probe=$(cd "$here_fa/../../.." && pwd)/tools/probe/vmroam-probe
[ -e /proc/sys/net/ipv6 ] || skip "no IPv6 in this kernel"
fa_up --ipv6

# 1. At home.
wait_for "ns_exec cn ping -6 -n -c 1 -W 1 $VMR_VM_ADDR6 >/dev/null" 10 ||
  fail "cn does not reach $VMR_VM_ADDR6 at home"
note "ok   at home: cn reaches $VMR_VM_ADDR6"

# 2. Arrival by NA. The link moves first and the VM's own link-up traffic (MLD reports) passes
# before the visitor is awaited, so that the NA is the first frame the FA sees from it; the VM
# forgets its neighbours first, else its reachability probes for the gateway it used at home
# (unicast NS 5-8 s later, RFC 4861 §7.3.3) would come first.
ip -n "$VMR_NS_VM" -6 neigh flush dev "$VMR_VM_IF" || fail "neigh flush"
tx_packets() { ip -n "$VMR_NS_VM" -j -s link show "$VMR_VM_IF" | jq '.[0].stats64.tx.packets'; }
quiet_since=$EPOCHREALTIME quiet_tx=
vm_quiet() {  # true once the VM has sent nothing for 1.5 s
  local tx
  tx=$(tx_packets)
  if [ "$tx" != "$quiet_tx" ]; then quiet_tx=$tx quiet_since=$EPOCHREALTIME; fi
  awk -v a="$quiet_since" -v b="$EPOCHREALTIME" 'BEGIN { exit !(b - a >= 1.5) }'
}
capture_start wan-foreign foreign
move_link home foreign || fail "link move"
wait_for vm_quiet 15 "the VM's link to settle" || fail "the VM kept sending after the link move"
fa_prepare foreign >/dev/null || fail "prepare"
[ "$(fa_visitor foreign | jq -r .state)" = prepared ] || fail "not prepared: $(fa_visitor foreign)"
ip netns exec "$VMR_NS_VM" "$probe" announce --if "$VMR_VM_IF" --ip "$VMR_VM_ADDR" --mac "$VMR_VM_MAC" \
  --ip6 "$VMR_VM_ADDR6" --na-only || fail "the VM's NA"
fa_wait_state foreign active 5 || fail "the VM's NA did not activate the visitor"
grep -q 'event=visitor_resumed visitor=vm1 how=na' "$VMR_AGENTS_DIR/foreign.log" ||
  fail "no 'resumed how=na' in the FA's log: $(grep visitor_resumed "$VMR_AGENTS_DIR/foreign.log")"
fa_visitor foreign | jq -e --arg a "$VMR_VM_ADDR6" '.granted_v6 == [$a]' >/dev/null ||
  fail "visitor granted_v6: $(fa_visitor foreign)"
ha_binding | jq -e --arg a "$VMR_VM_ADDR6" --arg c "$VMR_FOREIGN_WAN" \
  '.care_of_address == $c and .home_addresses_v6 == [$a]' >/dev/null || fail "HA binding: $(ha_binding)"
note "ok   arrival by the VM's unsolicited NA (how=na); $VMR_VM_ADDR6 granted"

# 3. Neighbor Solicitations for the gateway (link-local) and the home router (global): the VM
# forgets what it knew, then its traffic makes it solicit both.
ns_answered() {
  agent_api foreign GET /metrics | awk '/^vmroam_fa_registration_messages_total\{.*result="home_ns_answered"/ { n += $NF } END { print n + 0 }'
}
lladdr_of() {
  ip -n "$VMR_NS_VM" -6 -j neigh show "$1" dev "$VMR_VM_IF" | jq -r '.[0].lladdr // empty'
}
answered0=$(ns_answered)
ip -n "$VMR_NS_VM" -6 neigh flush dev "$VMR_VM_IF" || fail "neigh flush"
wait_for "ns_exec vm ping -6 -n -c 1 -W 1 $VMR_CN_ADDR6 >/dev/null" 10 ||
  fail "the VM does not reach cn over IPv6 from the foreign site"
wait_for "ns_exec vm ping -6 -n -c 1 -W 1 $VMR_HOME_LAN6 >/dev/null" 10 ||
  fail "the VM does not reach its home router's global address from the foreign site"
for a in "$VMR_VM_GW6" "$VMR_HOME_LAN6"; do
  [ "$(lladdr_of "$a")" = "$VMR_HOME_MAC" ] ||
    fail "the VM's neighbour cache for $a: $(ip -n "$VMR_NS_VM" -6 neigh show "$a" dev "$VMR_VM_IF")"
done
ip -n "$VMR_NS_VM" -6 neigh show "$VMR_VM_GW6" dev "$VMR_VM_IF" | grep -q router ||
  fail "the gateway's entry is not a router's (R=1): $(ip -n "$VMR_NS_VM" -6 neigh show "$VMR_VM_GW6" dev "$VMR_VM_IF")"
answered=$(($(ns_answered) - answered0))
[ "$answered" -ge 2 ] || fail "home_ns_answered went up by $answered, want >= 2"
note "ok   the FA answered $answered solicitations: $VMR_VM_GW6 and $VMR_HOME_LAN6 at $VMR_HOME_MAC"

# 4. End to end: the correspondent's pings cross the tunnel both ways.
out=$(ns_exec cn ping -6 -n -c 20 -i 0.01 -W 2 "$VMR_VM_ADDR6" 2>&1)
grep -q ' 20 received' <<<"$out" || fail "cn -> $VMR_VM_ADDR6 across HA and FA: $(tail -n 2 <<<"$out")"
note "ok   20/20 pings from cn to $VMR_VM_ADDR6 through the HA and the FA"

# 5. A source that is not the VM's home address stays out of the reverse tunnel.
spoof=2001:db8:1::99
ip -n "$VMR_NS_VM" addr add "$spoof/128" dev "$VMR_VM_IF" nodad || fail "second address"
if ns_exec vm ping -6 -n -c 3 -i 0.2 -W 1 -I "$spoof" "$VMR_CN_ADDR6" >/dev/null 2>&1; then
  fail "cn answered pings from $spoof: the FA reverse-tunnelled a foreign inner source"
fi
capture_stop wan-foreign
pcap=$FA_DIR/wan-foreign.pcap
to_vm=$(tshark_count "$pcap" "ip.src == $VMR_HOME_WAN && ip.proto == 41 && ipv6.dst == $VMR_VM_ADDR6 && icmpv6.type == 128")
from_vm=$(tshark_count "$pcap" "ip.dst == $VMR_HOME_WAN && ip.proto == 41 && ipv6.src == $VMR_VM_ADDR6 && icmpv6.type == 129")
spoofed=$(tshark_count "$pcap" "ipv6.src == $spoof")
[ "$to_vm" -ge 20 ] && [ "$from_vm" -ge 20 ] ||
  fail "protocol 41 on the FA's WAN link: $to_vm echo requests to the VM, $from_vm replies from it (want >= 20 each)"
[ "$spoofed" = 0 ] || fail "$spoofed packets from $spoof left the foreign site"
note "ok   protocol 41 on the FA's WAN link: $to_vm requests in, $from_vm replies out; none from $spoof"
echo "PASS ($(elapsed) s)"
