#!/usr/bin/env bash
# netns test: the home agent defends a dual-stack VM's IPv6 home address on the home link
# while it is away (docs/protocol.md "Dual-stack VMs", RFC 6275 §10.4.1). Topology drawn in
# ha_topology.sh, plus IPv6 on the home link:
#
#   lan: eth0 2001:db8:1::20/64 ── br-home (HA, 2001:db8:1::1/64; proxy_ndp on while it runs)
#
#   1. the VM is defined with 2001:db8:1::10; the lan host's cache says it is at the VM's MAC
#   2. a proxy registration (scapy, RFC 5454 Prefix Request) is granted and echoed
#   3. the HA has a proxy-NDP entry; its unsolicited NA (O=1) overrode the lan host's cache
#   4. a fresh Neighbor Solicitation from the lan host is answered by the HA (proxy NDP)
#   4b. the data plane (docs/dataplane.md "IPv6"): HoA6/128 into the HA's TUN; the lan host's
#      pings to the VM leave for FA1 as IPv6-in-IPv4 (protocol 41); FA1's reverse-tunnelled IPv6
#      from the VM reaches the lan host, one with a foreign inner source is dropped and counted
#      (peer_mismatch); the same again over RFC 3519 UDP (Next Header 41) after a re-registration
#   5. lifetime 0 (the VM is home): the entry goes; the lan host's cache has the VM's MAC
#      again; a fresh solicitation is no longer answered by the HA
#   6. SIGTERM: net.ipv6.conf.all.proxy_ndp is back to what it was
#   7. tshark on the captures (the FA's wan0, the home link): the registration carries type
#      152 and dissects cleanly; the NAs have O=1, the HA's MAC when leaving, the VM's on return;
#      protocol 41 and UDP 434 with Next Header 41 carry IPv6 to the VM, and only the VM's own
#      reverse-tunnelled IPv6 reached the home link
# HA_SAVE_PCAP=FILE saves both captures merged (the dual-stack fixture, pcap-fixtures/README.md).
# usage: dualstack.sh PATH_TO_vmroam-ha
set -u
source "$(dirname "$0")/ha_topology.sh"
VM6=2001:db8:1::10
VM_MAC=52:54:00:12:34:56
ha_up
[ -d "/proc/sys/net/ipv6" ] || skip "no IPv6 in this kernel"
# The testbed turns IPv6 off everywhere (tests/lib/topology.sh); this test needs it on the home
# link: the HA's bridge and the home-link host's interface.
ip netns exec "$NS_HA" sysctl -q -w net.ipv6.conf.br-home.disable_ipv6=0 || die "IPv6 on br-home"
ip netns exec "$NS_LAN" sysctl -q -w "net.ipv6.conf.$VMR_VM_IF.disable_ipv6=0" || die "IPv6 on the lan host"
ip -n "$NS_HA" addr add 2001:db8:1::1/64 dev br-home nodad || die "HA IPv6 address"
ip -n "$NS_LAN" addr add 2001:db8:1::20/64 dev "$VMR_VM_IF" nodad || die "lan IPv6 address"
# The HA config gains the home IPv6 prefix.
sed -i 's|"home_interface": "br-home",|"home_interface": "br-home", "home_prefix_v6": "2001:db8:1::/64",|' "$HA_CONF"
before_ndp=$(ip netns exec "$NS_HA" cat /proc/sys/net/ipv6/conf/all/proxy_ndp)
# capture NS IFACE NAME FILTER: tcpdump in the background until stop_captures.
CAPTURES=()
capture() {
  ip netns exec "$1" tcpdump -U -n -i "$2" -w "$HA_DIR/$3.pcap" "$4" 2>"$HA_DIR/$3.err" &
  CAPTURES+=($!)
  wait_for "grep -q 'listening on' '$HA_DIR/$3.err'" 5 "tcpdump on $2 to listen" || die "tcpdump on $2"
}
stop_captures() {
  local p
  for p in "${CAPTURES[@]}"; do kill -INT "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  CAPTURES=()
}
capture "$NS_FA" "$VMR_WAN_IF" wan6 "udp port 434 or ip proto 41 or ip proto 4"
capture "$NS_HA" br-home home6 "icmp6 and (ip6[40] == 136 or ip6[40] == 128)"
ha_start
HA_MAC=$(ip -n "$NS_HA" -j link show br-home | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
[ "$(ip netns exec "$NS_HA" cat /proc/sys/net/ipv6/conf/all/proxy_ndp)" = 1 ] || die "all.proxy_ndp not set"
[ "$(ip netns exec "$NS_HA" cat /proc/sys/net/ipv6/neigh/br-home/proxy_delay)" = 0 ] || die "proxy_delay not 0"
echo "ok   proxy_ndp 1 and proxy_delay 0 while the HA runs"

# lladdr_of ADDRESS: the lan host's cached MAC for ADDRESS ("" when none or unresolved).
lladdr_of() {
  ip -n "$NS_LAN" -6 -j neigh show "$1" dev "$VMR_VM_IF" |
    /usr/bin/python3 -c 'import json,sys; e=json.load(sys.stdin); print(e[0].get("lladdr","") if e else "")'
}
proxy6() { ip -n "$NS_HA" -6 -j neigh show proxy dev br-home | grep -c "\"$VM6\""; }

# 1. Defined, and at home as far as the lan host knows.
[ "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$HA_SOCK" -H 'Content-Type: application/json' \
      -d '{"id":"vm1","home_address":"10.1.0.10","mac":"'"$VM_MAC"'","home_addresses_v6":["'"$VM6"'"]}' \
      http://ha/v1/vms)" = 201 ] || die "API: dual-stack VM not created"
ip -n "$NS_LAN" -6 neigh replace "$VM6" lladdr "$VM_MAC" dev "$VMR_VM_IF" nud stale || die "seed lan cache"

# 2. Away: the registration is granted and echoed (checked by the scapy peer).
peer dualstack-register 10.1.0.10 300 "$VM6" 0 || die "dual-stack registration"

# 3. Proxy entry; the unsolicited NA (O=1) moved the lan host's cache to the HA's MAC.
wait_for "[ \$(proxy6) = 1 ]" 5 "a proxy-NDP entry for $VM6 on br-home" || die "no proxy-NDP entry"
echo "ok   proxy-NDP entry for $VM6 on br-home"
wait_for "[ \"\$(lladdr_of $VM6)\" = $HA_MAC ]" 5 "the lan host's cache to say $HA_MAC" ||
  die "lan cache not overridden: $(ip -n "$NS_LAN" -6 neigh show "$VM6")"
echo "ok   the unsolicited NA overrode the lan host's cache ($VM_MAC -> $HA_MAC)"

# 4. A fresh solicitation is answered by the HA (proxy NDP, proxy_delay 0).
ip -n "$NS_LAN" -6 neigh del "$VM6" dev "$VMR_VM_IF" 2>/dev/null
ip netns exec "$NS_LAN" ping -6 -c 1 -W 1 "$VM6" >/dev/null 2>&1  # resolution is what matters
wait_for "[ \"\$(lladdr_of $VM6)\" = $HA_MAC ]" 5 "proxy NDP to answer for $VM6" ||
  die "proxy NDP did not answer: $(ip -n "$NS_LAN" -6 neigh show "$VM6")"
echo "ok   proxy NDP answers a fresh solicitation for $VM6 with $HA_MAC"

# 4b. The data plane carries the VM's IPv6 (userspace driver; docs/dataplane.md "IPv6").
LAN6=2001:db8:1::20 FOREIGN6=2001:db8:66::1
route6() { ip -n "$NS_HA" -6 route show proto 186 | grep -c "^$VM6 dev vmr-ha0"; }
drops() {
  curl -s --unix-socket "$HA_SOCK" http://ha/metrics |
    awk -v r="$1" '$1 == "vmroam_tunnel_drops_total{reason=\"" r "\"}" { print $2 }'
}
lan_saw() {  # echo requests from $1 that reached the home link so far
  ip netns exec "$NS_HA" tcpdump -n -r "$HA_DIR/home6.pcap" "icmp6 and ip6[40] == 128 and src $1" 2>/dev/null | wc -l
}
wait_for "[ \$(route6) = 1 ]" 5 "$VM6/128 into the tunnel device" || die "no IPv6 route into the tunnel"
echo "ok   $VM6/128 dev vmr-ha0 proto 186"
ip netns exec "$NS_LAN" ping -6 -c 3 -i 0.2 -W 1 "$VM6" >/dev/null 2>&1  # nobody answers: only the HA's encapsulation matters
ip netns exec "$NS_LAN" ping -c 2 -i 0.2 -W 1 10.1.0.10 >/dev/null 2>&1  # and IPv4 beside it (IP in IP)
base=$(drops peer_mismatch)
peer send6 ipip "$VM6" "$LAN6" 3 || die "send6 ipip"
wait_for "[ \$(lan_saw $VM6) -ge 3 ]" 5 "the VM's reverse-tunnelled IPv6 on the home link" ||
  die "reverse-tunnelled IPv6 (protocol 41) not delivered: $(lan_saw "$VM6")"
echo "ok   reverse-tunnelled IPv6 (protocol 41) from $VM6 delivered on the home link"
peer send6 ipip "$FOREIGN6" "$LAN6" 2 || die "send6 foreign"
wait_for "[ \$(drops peer_mismatch) -ge \$((${base:-0} + 2)) ]" 5 "2 peer_mismatch drops" ||
  die "foreign inner source not counted: peer_mismatch $(drops peer_mismatch), was ${base:-0}"
[ "$(lan_saw "$FOREIGN6")" = 0 ] || die "IPv6 with a foreign inner source reached the home link"
echo "ok   reverse-tunnelled IPv6 with a foreign inner source ($FOREIGN6) dropped as peer_mismatch"
# RFC 3519 UDP tunnelling: the same VM re-registers with extension 144 (F = 1).
peer dualstack-register 10.1.0.10 300 "$VM6" 0 udp || die "dual-stack registration over UDP"
ip netns exec "$NS_LAN" ping -6 -c 3 -i 0.2 -W 1 "$VM6" >/dev/null 2>&1
seen=$(lan_saw "$VM6")
peer send6 udp "$VM6" "$LAN6" 3 || die "send6 udp"
wait_for "[ \$(lan_saw $VM6) -ge \$(($seen + 3)) ]" 5 "the VM's UDP-tunnelled IPv6 on the home link" ||
  die "UDP-tunnelled IPv6 not delivered"
peer send6 udp "$FOREIGN6" "$LAN6" 1 || die "send6 udp foreign"
wait_for "[ \$(drops peer_mismatch) -ge \$((${base:-0} + 3)) ]" 5 "a third peer_mismatch drop" ||
  die "foreign inner source over UDP not counted"
[ "$(lan_saw "$FOREIGN6")" = 0 ] || die "UDP-tunnelled IPv6 with a foreign inner source reached the home link"
echo "ok   RFC 3519 UDP (Next Header 41): the VM's IPv6 delivered, a foreign source dropped"

# 5. Home again: the entry goes, the NA gives the lan host the VM's MAC back.
peer dualstack-register 10.1.0.10 0 "" 0 || die "deregistration"
wait_for "[ \$(proxy6) = 0 ]" 5 "the proxy-NDP entry to go" || die "proxy-NDP entry left after return"
echo "ok   no proxy-NDP entry once the VM is home"
wait_for "[ \$(route6) = 0 ]" 5 "the IPv6 route into the tunnel to go" || die "IPv6 route left after return"
echo "ok   no IPv6 route into the tunnel once the VM is home"
wait_for "[ \"\$(lladdr_of $VM6)\" = $VM_MAC ]" 5 "the lan host's cache to say $VM_MAC" ||
  die "lan cache not given back: $(ip -n "$NS_LAN" -6 neigh show "$VM6")"
echo "ok   the NA on return gave the lan host the VM's MAC back"
# No VM answers here (it is only simulated), so a fresh solicitation must now fail.
ip -n "$NS_LAN" -6 neigh del "$VM6" dev "$VMR_VM_IF" 2>/dev/null
ip netns exec "$NS_LAN" ping -6 -c 1 -W 1 "$VM6" >/dev/null 2>&1
wait_for "ip -n $NS_LAN -6 neigh show $VM6 dev $VMR_VM_IF | grep -q FAILED" 10 \
  "the lan host's solicitations to go unanswered (FAILED)" ||
  die "someone still answers for $VM6: $(ip -n "$NS_LAN" -6 neigh show "$VM6")"
[ "$(lladdr_of "$VM6")" != "$HA_MAC" ] || die "the HA still answers for $VM6"
echo "ok   proxy NDP stopped answering on return"

# 6. SIGTERM restores what proxy NDP needed.
kill -TERM "$HA_PID"
wait "$HA_PID"
rc=$?
HA_PID=
[ "$rc" = 0 ] || die "exit status $rc after SIGTERM"
after_ndp=$(ip netns exec "$NS_HA" cat /proc/sys/net/ipv6/conf/all/proxy_ndp)
[ "$after_ndp" = "$before_ndp" ] || die "all.proxy_ndp is $after_ndp after exit, was $before_ndp"
echo "ok   SIGTERM: all.proxy_ndp back to $before_ndp"

# 7. What went over the wire, as Wireshark reads it.
stop_captures
# Checksums are not judged: veth leaves them to an offload that never happens, so a capture
# shows them unfinished (the catalogue's tshark oracle judges ours, docs/testing-oracles.md).
tsh() { tshark -n -r "$@" 2>/dev/null; }
[ "$(tsh "$HA_DIR/wan6.pcap" -Y 'mip.type == 1 && mip.ext.type == 152' | wc -l)" -ge 1 ] ||
  die "tshark: no registration request with extension 152"
[ "$(tsh "$HA_DIR/wan6.pcap" -Y 'mip.type == 3 && mip.ext.type == 152' | wc -l)" -ge 1 ] ||
  die "tshark: no registration reply with extension 152"
[ "$(tsh "$HA_DIR/wan6.pcap" -Y "ip.src == $HA && (_ws.malformed || _ws.expert.severity >= error)" | wc -l)" = 0 ] ||
  die "tshark: the HA's replies are malformed or erroneous"
na() { tsh "$HA_DIR/home6.pcap" -Y "icmpv6.type == 136 && icmpv6.nd.na.target_address == $VM6 && icmpv6.nd.na.flag.o == 1 && icmpv6.opt.linkaddr == $1" | wc -l; }
[ "$(na "$HA_MAC")" -ge 1 ] || die "tshark: no NA (O=1) for $VM6 with the HA's MAC"
[ "$(na "$VM_MAC")" -ge 1 ] || die "tshark: no NA (O=1) for $VM6 with the VM's MAC"
[ "$(tsh "$HA_DIR/home6.pcap" -Y '_ws.malformed || _ws.expert.severity >= error' | wc -l)" = 0 ] ||
  die "tshark: malformed or erroneous NAs"
echo "ok   tshark: 152 in request and reply, clean; NAs with O=1, the HA's MAC then the VM's"
[ "$(tsh "$HA_DIR/wan6.pcap" -Y "ip.src == $HA && ip.dst == $FA1 && ip.proto == 41 && ipv6.dst == $VM6 && icmpv6.type == 128" | wc -l)" -ge 1 ] ||
  die "tshark: no IPv6-in-IPv4 (protocol 41) from the HA to FA1 for $VM6"
[ "$(tsh "$HA_DIR/wan6.pcap" -Y "ip.src == $HA && udp.srcport == 434 && mip.nattt.nexthdr == 41 && ipv6.dst == $VM6 && icmpv6.type == 128" | wc -l)" -ge 1 ] ||
  die "tshark: no RFC 3519 UDP tunnel data with Next Header 41 from the HA for $VM6"
[ "$(tsh "$HA_DIR/wan6.pcap" -Y "ip.src == $HA && (ip.proto == 41 || mip.nattt.nexthdr == 41) && (_ws.malformed || _ws.expert.severity >= error)" | wc -l)" = 0 ] ||
  die "tshark: the HA's tunnelled IPv6 is malformed or erroneous"
[ "$(tsh "$HA_DIR/wan6.pcap" -Y "ip.src == $HA && ip.proto == 4 && ip.dst == $FA1" | wc -l)" -ge 1 ] ||
  die "tshark: no IP-in-IP beside the IPv6 (both families through one binding)"
echo "ok   tshark: IPv6 to the VM as protocol 41 and as UDP 434 Next Header 41 beside IPv4 in IP, clean"
if [ -n "${HA_SAVE_PCAP:-}" ]; then
  mergecap -F pcap -w "$HA_SAVE_PCAP" "$HA_DIR/wan6.pcap" "$HA_DIR/home6.pcap" || die "mergecap"
  echo "saved $HA_SAVE_PCAP"
fi
echo "PASS"
