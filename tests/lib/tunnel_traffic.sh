#!/usr/bin/env bash
# Traffic through a tunnel under test, for the data-plane netns tests (tests/netns/dataplane):
# the endpoint program's output (tunnel_endpoint.cpp prints "ready", JSON stats lines on
# SIGUSR1), bulk TCP compared end to end, and IP-in-IP from a peer nobody registered.
#
#   tt_init DIR                       # scratch dir; makes DIR/data (4 MB of random bytes)
#   tt_ready LOGFILE                  # the endpoint printed "ready" (its log shown if not)
#   tt_stats PID LOGFILE              # SIGUSR1, then prints its newest JSON line
#   tt_bulk FROM_NS TO_NS TO_ADDR PORT [FROM_ADDR]   # 4 MB over TCP, sha256 compared
#   tt_spoof_ipip NS SRC DST COUNT    # COUNT IP-in-IP packets (an inner echo request for
#                                     # 10.8.0.1 -> 10.1.0.10) from SRC to DST, sent from NS
# Source after wait.sh (or topology.sh, which sources it).

TT_DIR=${TT_DIR:-}

tt_init() {
  TT_DIR=${1:?tt_init needs a directory}
  head -c 4000000 /dev/urandom >"$TT_DIR/data"
}

tt_ready() {
  wait_for "grep -q '^ready' '$1'" 10 "'ready' in $1" || { cat "$1"; return 1; }
}

tt_stats() {
  local before
  before=$(grep -c '^{' "$2" || true)
  kill -USR1 "$1"
  wait_for "[ \$(grep -c '^{' '$2') -gt $before ]" 10 "a new statistics line in $2" || return 1
  grep '^{' "$2" | tail -1
}

tt_bulk() {
  local from=$1 to=$2 addr=$3 port=$4 bind=${5:+,bind=$5} out=$TT_DIR/recv.$4 pr
  ip netns exec "$to" socat -u "TCP-LISTEN:$port,bind=$addr,reuseaddr" "OPEN:$out,creat,trunc" &
  pr=$!
  wait_for "ip netns exec '$to' ss -Hltn 'sport = :$port' | grep -q LISTEN" 10 "socat to listen on $addr:$port"
  timeout 20 ip netns exec "$from" socat -u "OPEN:$TT_DIR/data" "TCP:$addr:$port$bind"
  timeout 20 tail --pid="$pr" -f /dev/null
  wait "$pr"
  [ "$(sha256sum <"$out")" = "$(sha256sum <"$TT_DIR/data")" ] || { echo "bulk -> $addr: data differs"; return 1; }
  echo "bulk ${5:-$from} -> $addr: $(stat -c %s "$out") bytes intact"
}

tt_spoof_ipip() {
  ip netns exec "$1" /usr/bin/python3 - "$2" "$3" "$4" <<'PY'
import socket, struct, sys
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
hdr = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 28, 1, 0, 64, 1, 0, socket.inet_aton('10.8.0.1'), socket.inet_aton('10.1.0.10'))
hdr = hdr[:10] + struct.pack('!H', csum(hdr)) + hdr[12:]
inner = hdr + bytes([8, 0, 0xf7, 0xff, 0, 0, 0, 0])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 4)
s.bind((sys.argv[1], 0))
for _ in range(int(sys.argv[3])): s.sendto(inner, (sys.argv[2], 0))
PY
}
