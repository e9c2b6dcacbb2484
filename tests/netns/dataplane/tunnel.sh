#!/bin/bash
# netns test: the userspace driver tunnels ping traffic between two namespaces, over
# IP-in-IP and over RFC 3519 UDP, and drops (and counts) IP-in-IP from an unregistered peer.
#
#   ns A = "home agent" (lookup by destination)          ns B = "foreign agent" (by source)
#   lo 10.8.0.1 (correspondent)                          lo 10.1.0.10 (the HoA, "the VM")
#   vmrtunA ── raw IPIP / UDP 434 ──┐          ┌── vmrtunB
#   veth a0 10.9.0.1/24 (+10.9.0.3) ─┴──────────┴─ veth b0 10.9.0.2/24
#   route 10.1.0.10/32 dev vmrtunA proto 186             rule from 10.1.0.10 lookup 186
#                                                        table 186: default dev vmrtunB
# usage: tunnel.sh <path to dataplane_tunnel_endpoint>
set -eu
EP=$1
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
[ -c /dev/net/tun ] || { echo "SKIP: /dev/net/tun missing (TUN)"; exit 77; }
A=vmrA$$ B=vmrB$$
LOG=$(mktemp -d)
cleanup() {
  for p in $(jobs -p); do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ip netns del "$A" 2>/dev/null || true
  ip netns del "$B" 2>/dev/null || true
  rm -rf "$LOG"
}
trap cleanup EXIT
ip netns add "$A"; ip netns add "$B"
ip link add a0 netns "$A" type veth peer name b0 netns "$B"
ip -n "$A" link set lo up; ip -n "$B" link set lo up
ip -n "$A" link set a0 up; ip -n "$B" link set b0 up
ip -n "$A" addr add 10.9.0.1/24 dev a0
ip -n "$A" addr add 10.9.0.3/24 dev a0
ip -n "$B" addr add 10.9.0.2/24 dev b0
ip -n "$A" addr add 10.8.0.1/32 dev lo
ip -n "$B" addr add 10.1.0.10/32 dev lo

# wait_for FILE PATTERN: poll with a 10 s deadline.
wait_for() {
  for _ in $(seq 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "timeout waiting for '$2' in $1:"; cat "$1"; return 1
}
stats() {  # stats NS PID LOGFILE → last JSON line
  local before; before=$(grep -c '^{' "$3" || true)
  kill -USR1 "$2"
  for _ in $(seq 100); do [ "$(grep -c '^{' "$3" || true)" -gt "$before" ] && break; sleep 0.1; done
  grep '^{' "$3" | tail -1
}

run_pair() {  # run_pair ENCAP
  local encap=$1
  ip netns exec "$A" "$EP" destination 10.9.0.1 10.9.0.2 "$encap" 10.1.0.10 vmrtunA >"$LOG/a.$encap" 2>&1 &
  PA=$!
  ip netns exec "$B" "$EP" source 10.9.0.2 10.9.0.1 "$encap" 10.1.0.10 vmrtunB >"$LOG/b.$encap" 2>&1 &
  PB=$!
  wait_for "$LOG/a.$encap" '^ready'; wait_for "$LOG/b.$encap" '^ready'
  ip -n "$A" -j route show proto 186 | grep -q '"dst":"10.1.0.10"'
  ip -n "$B" -j rule show priority 1860 | grep -q '"src":"10.1.0.10"'
  ip -n "$B" -j route show table 186 proto 186 | grep -q '"dev":"vmrtunB"'
  ip netns exec "$A" ping -c 5 -i 0.2 -W 2 -I 10.8.0.1 10.1.0.10 >"$LOG/ping.$encap"
  grep -q ' 0% packet loss' "$LOG/ping.$encap"
  echo "$encap: $(grep rtt "$LOG/ping.$encap")"
  local sa sb; sa=$(stats "$A" "$PA" "$LOG/a.$encap"); sb=$(stats "$B" "$PB" "$LOG/b.$encap")
  echo "A $sa"; echo "B $sb"
  echo "$sa" | grep -q '"10.9.0.2":{"tx_packets":5,"rx_packets":5}'
  echo "$sb" | grep -q '"10.9.0.1":{"tx_packets":5,"rx_packets":5}'
  echo "$sa$sb" | grep -q -v "\"malformed\":[1-9]"
}

run_pair ipip
# An unregistered peer (10.9.0.3) sends IP-in-IP to B: dropped as unknown_peer.
ip netns exec "$A" /usr/bin/python3 - <<'PY'
import socket, struct
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
hdr = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 28, 1, 0, 64, 1, 0, socket.inet_aton('10.8.0.1'), socket.inet_aton('10.1.0.10'))
hdr = hdr[:10] + struct.pack('!H', csum(hdr)) + hdr[12:]
inner = hdr + bytes([8, 0, 0xf7, 0xff, 0, 0, 0, 0])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 4)
s.bind(('10.9.0.3', 0))
for _ in range(3): s.sendto(inner, ('10.9.0.2', 0))
PY
SB=""
for _ in $(seq 50); do
  SB=$(stats "$B" "$PB" "$LOG/b.ipip")
  echo "$SB" | grep -q '"unknown_peer":3' && break
  sleep 0.1
done
echo "after spoof: B $SB"
echo "$SB" | grep -q '"unknown_peer":3'
kill "$PA" "$PB"; wait "$PA" "$PB" || true
# RAII: the drivers' routes and rules are gone with them.
[ "$(ip -n "$A" -j route show proto 186 table all)" = "[]" ]
[ "$(ip -n "$B" -j rule show priority 1860)" = "[]" ]

run_pair udp
kill "$PA" "$PB"; wait "$PA" "$PB" || true
echo "PASS"
