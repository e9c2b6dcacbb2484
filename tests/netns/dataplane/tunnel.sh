#!/bin/bash
# netns test: the userspace driver tunnels ping traffic between two site routers of the shared
# testbed, over IP-in-IP and over RFC 3519 UDP, and drops (and counts) IP-in-IP from an
# unregistered peer.
#
#   home (vmr-home-PID) = A, "home agent"             foreign (vmr-foreign-PID) = B, "foreign
#   (lookup by destination)                           agent" (lookup by source)
#   lo 10.8.0.1 (correspondent)                       lo 10.1.0.10 (the HoA, "the VM")
#   vmrtunA ── raw IPIP / UDP 434 ──┐          ┌── vmrtunB
#   wan0 192.0.2.2/24 (+192.0.2.12) ┴── wan ───┴─ wan0 192.0.2.3/24
#   route 10.1.0.10/32 dev vmrtunA proto 186          rule from 10.1.0.10 lookup 186
#                                                     table 186: default dev vmrtunB
# tests/lib/topology.sh with --sites "home foreign" --vm-site none --no-wanem --rate 0: the two
# routers meet at layer 2 on the wan's transit bridge, no delay line, no shaping, no VM.
# Then 4 MB of TCP each way (socat; the receiver's sha256 must match): the TUNs hand over 64 KiB
# super-packets, so this runs the userspace GSO (segments with fresh checksums, which the
# receiving TCP verifies) and GRO (merged segments written back as one GSO packet) for real.
# usage: tunnel.sh <path to dataplane_tunnel_endpoint>
set -eu
EP=$1
[ -c /dev/net/tun ] || { echo "SKIP: /dev/net/tun missing (TUN)"; exit 77; }
# shellcheck source=../../lib/topology.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/topology.sh"
A=$VMR_NS_HOME B=$VMR_NS_FOREIGN
AW=$VMR_HOME_WAN BW=$VMR_FOREIGN_WAN SPOOF=192.0.2.12 IF=$VMR_WAN_IF
LOG=$(mktemp -d)
cleanup() {
  for p in $(jobs -p); do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  topo_down
  rm -rf "$LOG"
}
rc=0
topo_up --sites "home foreign" --vm-site none --no-wanem --rate 0 || rc=$?
[ "$rc" = 77 ] && { echo "SKIP: the testbed needs what the kernel lacks (see above)"; exit 77; }
[ "$rc" = 0 ] || { echo "FAIL: the testbed did not come up"; exit 1; }
trap cleanup EXIT
ip -n "$A" addr add "$SPOOF/24" dev "$IF"
ip -n "$A" addr add 10.8.0.1/32 dev lo
ip -n "$B" addr add 10.1.0.10/32 dev lo

# shellcheck source=../../lib/tunnel_traffic.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/tunnel_traffic.sh"
tt_init "$LOG"
ready() { tt_ready "$1"; }
stats() { tt_stats "$2" "$3"; }  # stats NS PID LOGFILE → last JSON line
bulk() { tt_bulk "$1" "$3" "$4" "$5" "$2"; }  # bulk FROM_NS FROM_ADDR TO_NS TO_ADDR PORT

run_pair() {  # run_pair ENCAP [smallmtu: the veths' MTU is below a datagram, UDP GSO is refused]
  local encap=$1 mode=${2:-}
  ip netns exec "$A" "$EP" userspace destination "$AW" "$BW" "$encap" 10.1.0.10 vmrtunA >"$LOG/a.$encap" 2>&1 &
  PA=$!
  ip netns exec "$B" "$EP" userspace source "$BW" "$AW" "$encap" 10.1.0.10 vmrtunB >"$LOG/b.$encap" 2>&1 &
  PB=$!
  ready "$LOG/a.$encap"; ready "$LOG/b.$encap"
  ip -n "$A" -j route show proto 186 | grep -q '"dst":"10.1.0.10"'
  ip -n "$B" -j rule show priority 1860 | grep -q '"src":"10.1.0.10"'
  ip -n "$B" -j route show table 186 proto 186 | grep -q '"dev":"vmrtunB"'
  ip netns exec "$A" ping -c 5 -i 0.2 -W 2 -I 10.8.0.1 10.1.0.10 >"$LOG/ping.$encap"
  grep -q ' 0% packet loss' "$LOG/ping.$encap"
  echo "$encap: $(grep rtt "$LOG/ping.$encap")"
  local sa sb; sa=$(stats "$A" "$PA" "$LOG/a.$encap"); sb=$(stats "$B" "$PB" "$LOG/b.$encap")
  echo "A $sa"; echo "B $sb"
  echo "$sa" | grep -q "\"$BW\":{\"tx_packets\":5,\"rx_packets\":5}"
  echo "$sb" | grep -q "\"$AW\":{\"tx_packets\":5,\"rx_packets\":5}"
  echo "$sa$sb" | grep -q -v "\"malformed\":[1-9]"
  local tun0 sent0
  tun0=$(ip -n "$A" -j -s link show vmrtunA | jq '.[0].stats64.tx.packets')
  sent0=$(echo "$sa" | jq --arg p "$BW" '.peers[$p].tx_packets')
  bulk "$A" 10.8.0.1 "$B" 10.1.0.10 5001
  bulk "$B" 10.1.0.10 "$A" 10.8.0.1 5002
  sa=$(stats "$A" "$PA" "$LOG/a.$encap"); sb=$(stats "$B" "$PB" "$LOG/b.$encap")
  echo "after bulk: A $sa"; echo "after bulk: B $sb"
  # GSO at work: the kernel handed A's driver far fewer (super-)packets than it tunnelled.
  local tun1 sent1
  tun1=$(ip -n "$A" -j -s link show vmrtunA | jq '.[0].stats64.tx.packets')
  sent1=$(echo "$sa" | jq --arg p "$BW" '.peers[$p].tx_packets')
  echo "A: kernel -> TUN $((tun1 - tun0)) packets, tunnelled $((sent1 - sent0))"
  [ $(((tun1 - tun0) * 4)) -lt $(((sent1 - sent0) * 3)) ] || { echo "no GSO super-packets from the TUN"; return 1; }
  if [ "$mode" = smallmtu ]; then
    # The kernel refuses UDP_SEGMENT (EMSGSIZE: a segment bigger than the route's MTU, GSO
    # does not fragment); the port sends those batches one datagram at a time (the kernel
    # fragments them, as before UDP GSO) without losing any (no send_failed below), and keeps
    # trying GSO.
    # Small datagrams (ACKs) still go with GSO. Fragments reaching B show the big ones went
    # the fallback way.
    local reasm
    reasm=$(ip netns exec "$B" nstat -az IpReasmOKs | awk '$1 == "IpReasmOKs" { print $2 }')
    echo "udp with a small path MTU: $(echo "$sa" | jq -c '.udp'), B reassembled $reasm datagrams"
    [ "${reasm:-0}" -gt 1000 ] || { echo "no fragmented tunnel datagrams at B"; return 1; }
    [ "$(echo "$sa" | jq '.udp.gso')" = true ] || { echo "UDP GSO given up for an MTU"; return 1; }
  elif [ "$encap" = udp ]; then
    # RFC 3519 with UDP GSO/GRO (common/daemon/udp_port.hpp): A sent the segments of its
    # super-packets in UDP_SEGMENT batches, B's socket received them coalesced (UDP GRO).
    local gso gro
    gso=$(echo "$sa" | jq '.udp.segmented_sends'); gro=$(echo "$sb" | jq '.udp.coalesced_receives')
    echo "udp: A segmented sends $gso, B coalesced receives $gro"
    [ "$gso" -gt 0 ] || { echo "no UDP GSO sends"; return 1; }
    [ "$gro" -gt 0 ] || { echo "no UDP GRO receives"; return 1; }
  fi
  # Nothing dropped on the way (no malformed segment, nothing too big for the path).
  for r in malformed too_big send_failed deliver_failed; do
    echo "$sa$sb" | grep -q "\"$r\":[1-9]" && { echo "bulk: $r drops"; return 1; }
  done
  if [ "$encap" = udp ] && [ -z "$mode" ]; then wire_check || return 1; fi
  return 0
}

# wire_check: the UDP GSO batches become ordinary RFC 3519 datagrams on the wire. A capture on
# a veth sees a GSO skb unsegmented, so A's veth is told to cut them itself (software GSO
# before the veth: tx-udp-segmentation off) and B captures what arrives; tshark must decode
# every datagram from A as RFC 3519 type 4 / next header 4 carrying one whole inner IPv4
# packet, none longer than the path MTU allows.
wire_check() {
  if ! command -v tshark >/dev/null || ! command -v tcpdump >/dev/null; then
    echo "wire check: no tshark/tcpdump, skipped"
    return 0
  fi
  ip netns exec "$A" ethtool -K "$IF" tx-udp-segmentation off >/dev/null 2>&1 ||
    { echo "wire check: cannot turn off tx-udp-segmentation on the veth, skipped"; return 0; }
  ip netns exec "$B" tcpdump -i "$IF" -U -w "$LOG/wire.pcap" 'udp port 434' 2>"$LOG/tcpdump.log" &
  local pt=$! s0 s1
  wait_for "grep -q 'listening on' '$LOG/tcpdump.log'" 10 "tcpdump to listen on $IF in $B"
  s0=$(stats "$A" "$PA" "$LOG/a.udp" | jq '.udp.segmented_sends')
  bulk "$A" 10.8.0.1 "$B" 10.1.0.10 5003
  s1=$(stats "$A" "$PA" "$LOG/a.udp" | jq '.udp.segmented_sends')
  kill -INT "$pt"; wait "$pt" 2>/dev/null || true  # SIGINT: tcpdump writes what it has, then exits
  ip netns exec "$A" ethtool -K "$IF" tx-udp-segmentation on >/dev/null 2>&1 || true
  # Per datagram: UDP length, RFC 3519 type, next header, outer and inner IPv4 total lengths.
  tshark -r "$LOG/wire.pcap" -Y "ip.src == $AW && udp.srcport == 434" -T fields -E separator=' ' \
    -e udp.length -e mip.type -e mip.nattt.nexthdr -e ip.len >"$LOG/wire.txt"
  local bad malformed n
  n=$(wc -l <"$LOG/wire.txt")
  bad=$(awk '{ split($4, len, ","); if ($2 != 4 || $3 != 4 || $1 > 1480 || len[2] + 12 != $1) print }' "$LOG/wire.txt" | head -3)
  # The TCP payload is random bytes: decode it as data, or a heuristic dissector (Thrift)
  # now and then claims a segment and calls it malformed.
  malformed=$(tshark -r "$LOG/wire.pcap" -d tcp.port==5003,data -Y '_ws.malformed || _ws.expert.severity >= "error"' \
    2>/dev/null | wc -l)
  echo "wire check: $n datagrams from A, $((s1 - s0)) GSO sends, malformed $malformed"
  [ "$((s1 - s0))" -gt 0 ] || { echo "wire check: no GSO sends during the capture"; return 1; }
  [ "$n" -gt 2000 ] || { echo "wire check: only $n datagrams captured"; return 1; }
  [ -z "$bad" ] || { echo "wire check: bad datagrams: $bad"; return 1; }
  [ "$malformed" = 0 ] || { echo "wire check: tshark found malformed packets"; return 1; }
}

run_pair ipip
# An unregistered peer ($SPOOF) sends IP-in-IP to B: dropped as unknown_peer.
tt_spoof_ipip "$A" "$SPOOF" "$BW" 3
SB=""
spoof_counted() { SB=$(stats "$B" "$PB" "$LOG/b.ipip") && echo "$SB" | grep -q '"unknown_peer":3'; }
wait_for spoof_counted 5 "B to count the 3 spoofed packets as unknown_peer" || true
echo "after spoof: B $SB"
echo "$SB" | grep -q '"unknown_peer":3'
kill "$PA" "$PB"; wait "$PA" "$PB" || true
# RAII: the drivers' routes and rules are gone with them.
[ "$(ip -n "$A" -j route show proto 186 table all)" = "[]" ]
[ "$(ip -n "$B" -j rule show priority 1860)" = "[]" ]

run_pair udp
kill "$PA" "$PB"; wait "$PA" "$PB" || true

# The fallback: with a path MTU below the tunnel datagrams the kernel refuses UDP_SEGMENT
# (and fragments single datagrams, so the tunnel must still carry everything).
ip -n "$A" link set "$IF" mtu 1400; ip -n "$B" link set "$IF" mtu 1400
run_pair udp smallmtu
kill "$PA" "$PB"; wait "$PA" "$PB" || true
echo "PASS"
