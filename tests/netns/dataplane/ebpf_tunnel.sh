#!/bin/bash
# netns test: the eBPF driver (tc programs, common/dataplane/bpf) tunnels real traffic
# between a correspondent and a "VM" through a home agent and a foreign agent, over IP-in-IP
# and over RFC 3519 UDP; tshark checks the outer headers on the WAN. The "VM" is dual-stack
# (RFC 5454): its IPv6 home address rides with the HoA in the same encapsulation.
#
#   ns C (correspondent)      ns A (home agent)                ns B (foreign agent)      ns V ("VM")
#   c0 10.8.0.1/24 ─── veth ─ ac 10.8.0.254/24                 bv 10.1.0.1/24 ─ veth ─── v0 10.1.0.10/24
#      2001:db8:8::1/64          2001:db8:8::fe/64                2001:db8:1::1/64          2001:db8:1::10/64
#   default via .254, ::fe    a0 10.9.0.1/24 ══ veth (WAN) ══ b0 10.9.0.2/24             default via .1, ::1
#                             vmr_ha_wan_in on ac, a0           vmr_fa_wan_in on b0, vmr_fa_vm_in on bv
#                             HoA 10.1.0.10 → CoA 10.9.0.2      visitor 10.1.0.10 → HA 10.9.0.1
#                             (+ 2001:db8:1::10)                (+ 2001:db8:1::10)
#
# C's packets for the HoA are tunnelled at A's ingress (fast path, GSO kept), decapsulated at
# B's ingress; V's replies are reverse-tunnelled at B's VM-link ingress (RFC 3024) and
# decapsulated at A's. The same for IPv6 (protocol 41, or UDP with Next Header 41; tshark
# checks both directions on the wire, a TCP transfer over IPv6 arrives intact; Hop Limit 1 and
# a packet over the tunnel MTU answered by A's kernel through the slow path). Then: 4 MB of TCP each way intact, C → V captured on the wire and at V
# twice: with GSO (super-packets cross encapsulation and decapsulation whole) and with a0's
# tunnel segmentation offloads off (the kernel cuts them; each packet's outer headers checked
# by tshark); a DF packet over the tunnel MTU
# answered with Fragmentation Needed carrying the tunnel MTU (the slow path through the
# TUN); the handover hold (packets queue in the TUN, then go through on release); the
# prepare-time recording (tapped copies recovered by a hold); IP-in-IP
# from an unregistered peer dropped and counted; a clean stop leaves no filters, pins or
# routes.
# usage: ebpf_tunnel.sh <path to dataplane_tunnel_endpoint>
set -eu
EP=$1
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (CAP_BPF, CAP_NET_ADMIN)"; exit 77; }
[ -c /dev/net/tun ] || { echo "SKIP: /dev/net/tun missing (TUN)"; exit 77; }
C=vmrC$$ A=vmrA$$ B=vmrB$$ V=vmrV$$
LOG=$(mktemp -d)
# A private bpffs for the pins, so nothing is left on the host's /sys/fs/bpf.
BPFFS=$LOG/bpffs
mkdir "$BPFFS"
cleanup() {
  for p in $(jobs -p); do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for n in "$C" "$A" "$B" "$V"; do ip netns del "$n" 2>/dev/null || true; done
  umount "$BPFFS" 2>/dev/null || true
  rm -rf "$LOG"
}
trap cleanup EXIT
mount -t bpf bpf "$BPFFS" || { echo "SKIP: cannot mount a bpffs (BPF)"; exit 77; }
for n in "$C" "$A" "$B" "$V"; do ip netns add "$n"; ip -n "$n" link set lo up; done
ip link add c0 netns "$C" type veth peer name ac netns "$A"
ip link add a0 netns "$A" type veth peer name b0 netns "$B"
ip link add bv netns "$B" type veth peer name v0 netns "$V"
ip -n "$C" addr add 10.8.0.1/24 dev c0
ip -n "$A" addr add 10.8.0.254/24 dev ac
ip -n "$A" addr add 10.9.0.1/24 dev a0
ip -n "$A" addr add 10.9.0.3/24 dev a0  # the unregistered peer's address, below
ip -n "$B" addr add 10.9.0.2/24 dev b0
ip -n "$B" addr add 10.1.0.1/24 dev bv
ip -n "$V" addr add 10.1.0.10/24 dev v0
ip -n "$C" addr add 2001:db8:8::1/64 dev c0 nodad
ip -n "$A" addr add 2001:db8:8::fe/64 dev ac nodad
ip -n "$B" addr add 2001:db8:1::1/64 dev bv nodad
ip -n "$V" addr add 2001:db8:1::10/64 dev v0 nodad
ip -n "$C" link set c0 up; ip -n "$A" link set ac up; ip -n "$A" link set a0 up
ip -n "$B" link set b0 up; ip -n "$B" link set bv up; ip -n "$V" link set v0 up
ip -n "$C" route add default via 10.8.0.254
ip -n "$V" route add default via 10.1.0.1
ip -n "$C" -6 route add default via 2001:db8:8::fe
ip -n "$V" -6 route add default via 2001:db8:1::1
ip -n "$B" route add default via 10.9.0.1  # the FA's WAN default route
for n in "$A" "$B"; do
  ip netns exec "$n" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv6.conf.all.forwarding=1
done
export VMR_HOA6=2001:db8:1::10  # the endpoints' dual-stack VM (tunnel_endpoint.cpp)
# The WAN carries no IPv6 of its own (as on the shared testbed): decapsulated IPv6 must not
# depend on it (it enters through the agent's TUN).
ip netns exec "$A" sysctl -qw net.ipv6.conf.a0.disable_ipv6=1
ip netns exec "$B" sysctl -qw net.ipv6.conf.b0.disable_ipv6=1

# shellcheck source=../../lib/wait.sh
. "$(dirname "$0")/../../lib/wait.sh"
# shellcheck source=../../lib/tunnel_traffic.sh
. "$(dirname "$0")/../../lib/tunnel_traffic.sh"
tt_init "$LOG"
wait_line() {  # wait_line FILE PATTERN: the line appears within 10 s
  wait_for "grep -q '$2' '$1'" 10 "'$2' in $1" || { cat "$1"; return 1; }
}
stats() { tt_stats "$@"; }  # stats PID LOGFILE → its newest JSON line
bulk() { tt_bulk "$@"; }    # bulk FROM_NS TO_NS TO_ADDR PORT

# ping_on_wire NAME FILTER ADDR: C pings ADDR 10 times, every one answered, while A's WAN
# link is captured (tcpdump FILTER) into $LOG/NAME.pcap.
ping_on_wire() {
  local name=$1 filter=$2 addr=$3 pt
  ip netns exec "$A" tcpdump -i a0 -U -w "$LOG/$name.pcap" "$filter" 2>"$LOG/$name.tcpdump" &
  pt=$!
  wait_line "$LOG/$name.tcpdump" 'listening on'
  ip netns exec "$C" ping -c 10 -i 0.1 -W 2 "$addr" >"$LOG/$name.ping"
  grep -q ' 0% packet loss' "$LOG/$name.ping" || { cat "$LOG/$name.ping"; return 1; }
  echo "$name: $(grep rtt "$LOG/$name.ping")"
  wait_for "[ \"\$(tcpdump -r '$LOG/$name.pcap' 2>/dev/null | wc -l)\" -ge 20 ]" 5 \
    "tcpdump to write the last reply" || true
  kill -INT "$pt"; wait "$pt" 2>/dev/null || true
}

# tunnelled NAME FILTER FIELDS OUT BACK: tshark's FIELDS of the packets in $LOG/NAME.pcap that
# match FILTER; at least 10 lines must read exactly OUT (the requests) and 10 BACK (the replies).
OUTER='-e ip.src -e ip.dst -e ip.ttl -e ip.flags.df'
RFC3519='-e udp.checksum -e mip.type -e mip.nattt.nexthdr'
tunnelled() {
  local name=$1 filter=$2 fields=$3 out back
  # shellcheck disable=SC2086  # $fields is a list of options
  tshark -r "$LOG/$name.pcap" -Y "$filter" -T fields -E separator=' ' $fields >"$LOG/$name.txt"
  head -2 "$LOG/$name.txt"
  out=$(grep -cxF "$4" "$LOG/$name.txt" || true)
  back=$(grep -cxF "$5" "$LOG/$name.txt" || true)
  echo "$name: $out requests and $back replies tunnelled as specified"
  if [ "$out" -lt 10 ] || [ "$back" -lt 10 ]; then
    echo "$name: outer headers wrong:"; cat "$LOG/$name.txt"; return 1
  fi
}

# wire ENCAP: capture on A's WAN link while C pings V; tshark checks the outer headers of
# both directions (RFC 2003 §3.1: protocol 4, TTL 64, DF copied — ping sets it, the echo
# reply does not; RFC 3519: UDP 434 → 434,
# checksum 0, type 4, next header 4) and that the inner packet is C's or V's ICMP.
wire() {
  local encap=$1
  ping_on_wire "wire.$encap" 'ip proto 4 or udp port 434' 10.1.0.10
  if [ "$encap" = ipip ]; then
    tunnelled "wire.$encap" 'ip.proto == 4 && icmp' "$OUTER -e icmp.type" \
      '10.9.0.1,10.8.0.1 10.9.0.2,10.1.0.10 64,63 1,1 8' '10.9.0.2,10.1.0.10 10.9.0.1,10.8.0.1 64,63 0,0 0'
  else
    tunnelled "wire.$encap" 'udp.srcport == 434 && udp.dstport == 434 && icmp' "$OUTER $RFC3519 -e icmp.type" \
      '10.9.0.1,10.8.0.1 10.9.0.2,10.1.0.10 64,63 1,1 0x0000 4 4 8' \
      '10.9.0.2,10.1.0.10 10.9.0.1,10.8.0.1 64,63 0,0 0x0000 4 4 0'
  fi
}

# wire_bulk ENCAP MODE: 4 MB of TCP from C to V while B's WAN link (what crossed the wire, seen
# before B's ingress program) and V's link are captured; tshark checks the outer headers of
# every tunnel packet (addresses, TTL 64, protocol; RFC 3519: UDP 434 → 434, checksum 0, type
# 4, next header 4) and that it carries the transfer.
#   gso:       offloads as they are: A's TCP super-packets cross the veth whole, so some outer
#              packets are larger than the WAN MTU (GSO kept through encapsulation), and V
#              receives inner packets larger than its MTU (GSO kept through decapsulation).
#   segmented: tunnel segmentation offloads off on a0, so the kernel cuts each tunnel
#              super-packet into MTU-sized packets (software GSO) before the wire: every one
#              must carry a complete outer header of its own with a valid checksum and, for
#              RFC 3519, a UDP length that matches (RFC 2003 §3.1, RFC 3519 §3.1).
wire_bulk() {
  local encap=$1 mode=$2 cap=$LOG/bulk.$1.$2 pw pv
  local offloads=(tx-ipxip4-segmentation tx-udp_tnl-segmentation tx-udp_tnl-csum-segmentation)
  if [ "$mode" = segmented ]; then
    ip netns exec "$A" ethtool -K a0 "${offloads[0]}" off "${offloads[1]}" off "${offloads[2]}" off
  fi
  ip netns exec "$B" tcpdump -i b0 --immediate-mode -U -s 160 -w "$cap.wan.pcap" 'ip proto 4 or udp port 434' 2>"$cap.wan.err" &
  pw=$!
  ip netns exec "$V" tcpdump -i v0 --immediate-mode -U -s 96 -w "$cap.vm.pcap" 'tcp dst port 5001' 2>"$cap.vm.err" &
  pv=$!
  wait_line "$cap.wan.err" 'listening on'; wait_line "$cap.vm.err" 'listening on'
  bulk "$C" "$V" 10.1.0.10 5001
  # The transfer's last packet (V's FIN) is written once both captures saw it.
  wait_for "tshark -r '$cap.wan.pcap' -Y 'tcp.flags.fin == 1' 2>/dev/null | grep -q . &&
    tshark -r '$cap.vm.pcap' -Y 'tcp.flags.fin == 1' 2>/dev/null | grep -q ." 10 "the captures to catch up" || true
  kill -INT "$pw" "$pv"; wait "$pw" "$pv" || true
  if [ "$mode" = segmented ]; then
    ip netns exec "$A" ethtool -K a0 "${offloads[0]}" on "${offloads[1]}" on "${offloads[2]}" on
  fi
  local fields='-e ip.src -e ip.dst -e ip.ttl -e ip.proto -e ip.len -e ip.checksum.status -e tcp.dstport'
  [ "$encap" = udp ] && fields="$fields -e udp.srcport -e udp.dstport -e udp.checksum -e udp.length -e mip.type -e mip.nattt.nexthdr"
  # shellcheck disable=SC2086  # $fields is a list of options
  tshark -o ip.check_checksum:TRUE -r "$cap.wan.pcap" -Y 'tcp.dstport == 5001' -T fields -E occurrence=f \
    -E separator=' ' $fields >"$cap.wan.txt"
  # Each line: outer src dst ttl proto len checksum-status, inner TCP port[, UDP/RFC 3519 fields].
  local verdict
  verdict=$(awk -v encap="$encap" -v mode="$mode" '
    { n++; if ($5 > max) max = $5
      ok = $1 == "10.9.0.1" && $2 == "10.9.0.2" && $3 == 64 && $7 == 5001
      ok = ok && (encap == "ipip" ? $4 == 4 : ($4 == 17 && $8 == 434 && $9 == 434 && $10 == "0x0000" && $12 == 4 && $13 == 4))
      if (mode == "segmented") ok = ok && $5 <= 1500 && $6 == 1 && (encap == "ipip" || $11 == $5 - 20)
      if (!ok) { bad++; if (bad <= 3) print "bad: " $0 > "/dev/stderr" } }
    END { printf "%d %d %d\n", n, bad + 0, max + 0 }' "$cap.wan.txt")
  local n bad max big_inner
  read -r n bad max <<<"$verdict"
  big_inner=$(tshark -r "$cap.vm.pcap" -T fields -e ip.len | awk '$1 > 1500 { c++ } END { print c + 0 }')
  echo "wire $encap $mode: $n tunnel packets, largest outer $max bytes, $bad with wrong headers;" \
    "V received $big_inner inner packets larger than its MTU"
  [ "$n" -gt 0 ] && [ "$bad" = 0 ] || { echo "wire $encap $mode: outer headers wrong"; return 1; }
  if [ "$mode" = gso ]; then
    [ "$max" -gt 1500 ] || { echo "no GSO on the wire: encapsulation cut the super-packets"; return 1; }
    [ "$big_inner" -gt 0 ] || { echo "no GSO at V: decapsulation cut the super-packets"; return 1; }
  else
    # ~2800 MSS-sized segments for 4 MB: the wire carried segments, not super-packets.
    [ "$n" -gt 2000 ] || { echo "wire $encap segmented: only $n packets, not segmented"; return 1; }
  fi
}

# wire6 ENCAP: the same for the VM's IPv6: C pings 2001:db8:1::10; tshark checks that A sent
# IPv6 in IPv4 (protocol 41, RFC 4213 §3.5: DF clear) or RFC 3519 UDP 434 → 434 with checksum 0,
# type 4 and Next Header 41, inner Hop Limit decremented, and that the replies came back the
# same way.
wire6() {
  local encap=$1 inner='-e ipv6.src -e ipv6.dst -e ipv6.hlim -e icmpv6.type'
  ping_on_wire "wire6.$encap" 'ip proto 41 or udp port 434' 2001:db8:1::10
  if [ "$encap" = ipip ]; then
    tunnelled "wire6.$encap" 'ip.proto == 41 && icmpv6' "$OUTER $inner" \
      '10.9.0.1 10.9.0.2 64 0 2001:db8:8::1 2001:db8:1::10 63 128' \
      '10.9.0.2 10.9.0.1 64 0 2001:db8:1::10 2001:db8:8::1 63 129'
  else
    tunnelled "wire6.$encap" 'udp.srcport == 434 && udp.dstport == 434 && icmpv6' "$OUTER $RFC3519 $inner" \
      '10.9.0.1 10.9.0.2 64 0 0x0000 4 41 2001:db8:8::1 2001:db8:1::10 63 128' \
      '10.9.0.2 10.9.0.1 64 0 0x0000 4 41 2001:db8:1::10 2001:db8:8::1 63 129'
  fi
  [ "$(tshark -r "$LOG/wire6.$encap.pcap" -Y '_ws.malformed || _ws.expert.severity >= error' | wc -l)" = 0 ] ||
    { echo "wire6 $encap: malformed packets"; return 1; }
}

run_pair() {  # run_pair ENCAP
  local encap=$1
  ip netns exec "$A" "$EP" ebpf destination 10.9.0.1 10.9.0.2 "$encap" 10.1.0.10 vmrtunA "$BPFFS/ha" ac a0 \
    >"$LOG/a.$encap" 2>&1 &
  PA=$!
  ip netns exec "$B" "$EP" ebpf source 10.9.0.2 10.9.0.1 "$encap" 10.1.0.10 vmrtunB "$BPFFS/fa" b0 bv \
    >"$LOG/b.$encap" 2>&1 &
  PB=$!
  wait_line "$LOG/a.$encap" '^ready'; wait_line "$LOG/b.$encap" '^ready'
  ip netns exec "$A" tc filter show dev a0 ingress | grep -q 'vmr_ha_wan_in'
  ip netns exec "$B" tc filter show dev bv ingress | grep -q 'vmr_fa_vm_in'
  ip netns exec "$A" tc filter show dev vmrtunA egress | grep -q 'vmr_ha_tun_out'
  wire "$encap"
  wire6 "$encap"
  # TCP over IPv6 through the tunnel (its ACKs come back); socat listens on IPv6 only when told.
  (export SOCAT_DEFAULT_LISTEN_IP=6; bulk "$C" "$V" '[2001:db8:1::10]' 5003)
  local sa sb; sa=$(stats "$PA" "$LOG/a.$encap"); sb=$(stats "$PB" "$LOG/b.$encap")
  echo "A $sa"; echo "B $sb"
  [ "$(echo "$sa" | jq '.peers["10.9.0.2"].tx_packets')" -ge 5 ]
  [ "$(echo "$sa" | jq '.peers["10.9.0.2"].rx_packets')" -ge 5 ]
  [ "$(echo "$sb" | jq '.peers["10.9.0.1"].tx_packets')" -ge 5 ]
  local sent0 sent1
  sent0=$(echo "$sa" | jq '.peers["10.9.0.2"].tx_packets')
  wire_bulk "$encap" gso
  sa=$(stats "$PA" "$LOG/a.$encap")
  sent1=$(echo "$sa" | jq '.peers["10.9.0.2"].tx_packets')
  # GSO kept: 4 MB is ~2800 MSS-sized segments; A tunnelled far fewer (super-)packets.
  echo "A tunnelled $((sent1 - sent0)) packets for 4 MB"
  [ $((sent1 - sent0)) -lt 1500 ] || { echo "no GSO: one tunnelled packet per segment"; return 1; }
  bulk "$V" "$C" 10.8.0.1 5002
  wire_bulk "$encap" segmented
  sa=$(stats "$PA" "$LOG/a.$encap"); sb=$(stats "$PB" "$LOG/b.$encap")
  echo "after bulk: A $sa"; echo "after bulk: B $sb"
  for r in malformed too_big send_failed deliver_failed peer_mismatch; do
    echo "$sa$sb" | grep -q "\"$r\":[1-9]" && { echo "bulk: $r drops"; return 1; }
  done
  return 0
}

run_pair ipip

# Path MTU (slow path): a DF packet over the tunnel MTU (1468) goes to A's kernel, which
# answers from the TUN's MTU.
# (The bulk transfer may have taught C the path MTU already: forget it first.)
ip -n "$C" route flush cache
ip netns exec "$C" ping -c 1 -W 2 -M 'do' -s 1472 10.1.0.10 >"$LOG/pmtu" 2>&1 || true
grep -q 'mtu = 1468' "$LOG/pmtu" || { echo "no Fragmentation Needed with mtu 1468:"; cat "$LOG/pmtu"; exit 1; }
echo "path MTU: $(grep -m1 'mtu = ' "$LOG/pmtu")"
# …and one that fits goes through the tunnel.
ip netns exec "$C" ping -c 1 -W 2 -M 'do' -s 1440 10.1.0.10 >/dev/null
# The same for IPv6: ICMPv6 Packet Too Big with the tunnel MTU (RFC 8201), and a Hop Limit 1
# packet answered with Time Exceeded, both by A's kernel (the programs leave them to it).
ip -n "$C" -6 route flush cache 2>/dev/null || true
ip netns exec "$C" ping -6 -c 1 -W 2 -M 'do' -s 1452 2001:db8:1::10 >"$LOG/pmtu6" 2>&1 || true
grep -qi 'mtu.*1468' "$LOG/pmtu6" || { echo "no Packet Too Big with mtu 1468:"; cat "$LOG/pmtu6"; exit 1; }
echo "path MTU (IPv6): $(grep -m1 -i 'mtu' "$LOG/pmtu6")"
ip netns exec "$C" ping -6 -c 1 -W 2 -t 1 2001:db8:1::10 >"$LOG/hlim6" 2>&1 || true
grep -qi 'time exceeded' "$LOG/hlim6" || { echo "no Time Exceeded for Hop Limit 1:"; cat "$LOG/hlim6"; exit 1; }
echo "hop limit 1 (IPv6): $(grep -m1 -i 'time exceeded' "$LOG/hlim6")"

# The handover hold: held packets queue in A's TUN and reach V only after the release.
kill -USR2 "$PA"; wait_line "$LOG/a.ipip" '^held'
# The VM's IPv6 is held with it.
ip netns exec "$C" ping -c 3 -i 0.2 -W 4 10.1.0.10 >"$LOG/ping.hold" &
PP=$!
ip netns exec "$C" ping -6 -c 3 -i 0.2 -W 4 2001:db8:1::10 >"$LOG/ping6.hold" &
PP6=$!
# All six echo requests (0.4 s of pinging) before the release. The bound is only how long to
# wait at most; the checks below are on what was released.
wait_for "[ \"\$(stats '$PA' '$LOG/a.ipip' | jq '.bpf.held')\" -ge 6 ]" 5 "six held packets" || true
kill -HUP "$PA"; wait_line "$LOG/a.ipip" '^released'
# `held` counts each held packet once: at its redirect to the TUN, not again when it passes
# the TUN's own program on its way into the queue (VMR_HELD_MARK).
HELD_COUNT=$(stats "$PA" "$LOG/a.ipip" | jq '.bpf.held')
[ "$HELD_COUNT" = "$(grep '^released' "$LOG/a.ipip" | cut -d' ' -f2)" ] ||
  { echo "hold: the held counter reads $HELD_COUNT for $(grep '^released' "$LOG/a.ipip")"; exit 1; }
wait "$PP" || true
wait "$PP6" || true
echo "hold: $(grep '^released' "$LOG/a.ipip"), ping $(grep -o '[0-9]* received' "$LOG/ping.hold")," \
  "ping -6 $(grep -o '[0-9]* received' "$LOG/ping6.hold")"
grep -q '^released [1-9]' "$LOG/a.ipip"
[ "$(grep '^released' "$LOG/a.ipip" | cut -d' ' -f2)" -ge 4 ] || { echo "hold: IPv6 not held"; exit 1; }
grep -q ' 3 received' "$LOG/ping.hold"
grep -q ' 3 received' "$LOG/ping6.hold"

# The prepare-time recording: copies of what A tunnels to the HoA reach the agent (the
# programs clone them into the TUN) while the originals go through; a hold then recovers them
# all, and the release sends them again (V answers the duplicates too).
kill -ALRM "$PA"; wait_line "$LOG/a.ipip" '^recording'
ip netns exec "$C" ping -c 5 -i 0.1 -W 2 10.1.0.10 >"$LOG/ping.tap"
grep -q ' 5 received' "$LOG/ping.tap" || { echo "tap: pings did not go through"; cat "$LOG/ping.tap"; exit 1; }
TAPPED=$(stats "$PA" "$LOG/a.ipip" | jq '.bpf.tapped')
kill -USR2 "$PA"
wait_for "[ \"\$(grep -c '^held' '$LOG/a.ipip')\" = 2 ]" 10 "the second hold" || exit 1
kill -HUP "$PA"
wait_for "[ \"\$(grep -c '^released' '$LOG/a.ipip')\" = 2 ]" 10 "the second release" || exit 1
HELD=$(grep '^held' "$LOG/a.ipip" | tail -1 | cut -d' ' -f2)
RELEASED=$(grep '^released' "$LOG/a.ipip" | tail -1 | cut -d' ' -f2)
echo "tap: $TAPPED copies cloned, $HELD recovered by the hold, $RELEASED released"
[ "$TAPPED" -ge 5 ] && [ "$HELD" -ge 5 ] && [ "$RELEASED" -ge 5 ] || { echo "tap: recording incomplete"; exit 1; }

# An unregistered peer (10.9.0.3, on A) sends IP-in-IP to B: dropped as unknown_peer.
tt_spoof_ipip "$A" 10.9.0.3 10.9.0.2 3
SB=""
wait_for "SB=\$(stats '$PB' '$LOG/b.ipip'); echo \"\$SB\" | grep -q '\"unknown_peer\":3'" 5 \
  "three unknown_peer drops at B" || true
echo "after spoof: B $SB"
echo "$SB" | grep -q '"unknown_peer":3'

# A clean stop: no filters, no pins, no routes left.
kill "$PA" "$PB"; wait "$PA" "$PB" || true
[ -z "$(ip netns exec "$A" tc filter show dev a0 ingress)" ] || { echo "filters left on a0"; exit 1; }
[ -z "$(ip netns exec "$B" tc filter show dev bv ingress)" ] || { echo "filters left on bv"; exit 1; }
# (a bpffs shows the kernel's own maps.debug/progs.debug; ours are the ha/ and fa/ pin dirs)
if [ -e "$BPFFS/ha" ] || [ -e "$BPFFS/fa" ]; then echo "pins left: $(ls -R "$BPFFS")"; exit 1; fi
[ "$(ip -n "$A" -j route show proto 186 table all)" = "[]" ]

run_pair udp
kill "$PA" "$PB"; wait "$PA" "$PB" || true
echo "PASS"
