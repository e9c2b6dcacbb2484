#!/usr/bin/env bash
# The foreign agent's netns tests: a real vmroam-ha (home) and real vmroam-fa (foreign,
# foreign2) on the standard testbed, with configs from tests/lib/agents.sh (random FA-HA
# and MN-HA keys per run). Sourced by the tests in this directory; what this file adds:
#
#   fa_up [--sites "foreign foreign2"] [--no-buffer] [--garp] [--no-detect-arrival] [--ipv6]
#         topology up (trap cleanup), configs written (and adjusted), daemons started, the VM
#         registered at the HA through its API; --ipv6: the dual-stack testbed (topology.sh
#         --ipv6), the VM defined and prepared with its IPv6 home address
#   capture_start NAME ROLE [IF]; capture_stop NAME      tcpdump -U into $FA_DIR/NAME.pcap
#   tshark_count PCAP FILTER                             packets matching a display filter
#   ping_start NAME ROLE ADDR; ping_wait_replies NAME N TIMEOUT; ping_stop NAME;
#   ping_report NAME   10 ms pings with receive timestamps (-D); the report is "sent lost
#         max_gap_ms dups", lost counted up to the last answered sequence number
#   move_link FROM TO     the VM's link to TO's bridge (two ip calls: the migration's "pause")
#   fa_move FROM TO       the VM moves FROM -> TO as the migration driver moves it: prepare and
#         activate at TO's FA, its registration active within 5 s, move_link, resumed; fails
#         naming the step
#   revocation_capture_stop NAME   stops capture NAME once it holds an acknowledgement (or
#         after 10 s); pcap: its file; n_rev, n_ack: the authenticated Registration Revocations
#         from the HA to FA1 and FA1's acknowledgements in it (RFC 3543, types 7 and 15)
#   fail MSG / skip MSG / note MSG
#
#                          cn 198.51.100.10 (pings the VM)
#                           |
#                          wan (router, 4 ms delay lines, 100 Mbit/s)
#            +--------------+----------------+
#   home 192.0.2.2       foreign 192.0.2.3   foreign2 192.0.2.4
#   vmroam-ha            vmroam-fa (FA1)     vmroam-fa (FA2)
#   br-home 10.1.0.1     br-for              br-for2
#        \___________________ vm0 ____________/   (the VM's link, moved by the tests)
#                             |
#                  vm: 10.1.0.10/24 gw 10.1.0.1, MAC 52:54:00:12:34:56 (knows no Mobile IP)

here_fa=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../lib/topology.sh
source "$here_fa/../../lib/topology.sh"
# shellcheck source=../../lib/agents.sh
source "$here_fa/../../lib/agents.sh"

FA_DIR=$VMR_RUN_DIR
FA_T0=$EPOCHREALTIME
declare -A FA_CAPTURE_PID=()
declare -A FA_PING_PID=()

note() { echo "# $*"; }
skip() { echo "SKIP: $*"; exit 77; }
fail() {
  echo "FAIL: $*"
  local r
  for r in home foreign foreign2; do
    [ -f "$VMR_AGENTS_DIR/$r.log" ] && { echo "--- $r.log"; tail -n 15 "$VMR_AGENTS_DIR/$r.log"; }
  done
  exit 1
}
elapsed() { awk -v a="$FA_T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

# _fa_edit SITE JQ-EXPR: change a written FA config.
_fa_edit() {
  local f=$VMR_AGENTS_DIR/$1.json
  jq "$2" "$f" >"$f.new" && mv "$f.new" "$f" && chmod 600 "$f"
}

fa_up() {
  local sites="foreign" buffer=1 mode=anycast detect=1 topo=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --sites) sites=$2; shift 2 ;;
      --no-buffer) buffer=0; shift ;;
      --garp) mode=garp; shift ;;
      --no-detect-arrival) detect=0; shift ;;
      --ipv6) topo+=(--ipv6); shift ;;
      *) echo "fa_up: unknown option $1" >&2; return 1 ;;
    esac
  done
  [ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
  [ -c /dev/net/tun ] || skip "/dev/net/tun missing (TUN devices)"
  command -v tshark >/dev/null || fail "tshark not installed (./dev setup)"
  local rc=0
  VMR_KEEP_LOGS=${FA_KEEP:-0}
  topo_up "${topo[@]}" || rc=$?
  [ "$rc" = 77 ] && exit 77
  [ "$rc" = 0 ] || fail "topology did not come up"
  # topo_up's trap removes the namespaces (and every daemon in them); stop ours first so
  # they remove their kernel state and say so in their logs.
  trap 'fa_down' EXIT
  trap 'fa_down; exit 130' INT
  trap 'fa_down; exit 143' TERM
  # A live-migrated guest sees no carrier loss and keeps its ARP cache (its gateway's MAC); the
  # namespace VM's veth does lose carrier while its peer moves, so tell its kernel to keep
  # the cache as the guest would (arp_evict_nocarrier, Linux 5.16+; older kernels keep it).
  local k
  for k in all default "$VMR_VM_IF"; do
    f=/proc/sys/net/ipv4/conf/$k/arp_evict_nocarrier
    ns_exec vm test -e "$f" && { ns_exec vm sh -c "echo 0 > $f" || fail "arp_evict_nocarrier"; }
  done
  local args=()
  [ "$detect" = 1 ] || args+=(--no-detect-arrival)
  agents_setup "${args[@]}" || fail "agents_setup"
  local s
  for s in $sites; do
    [ "$buffer" = 1 ] || _fa_edit "$s" '.delivery.buffer_bytes = 0' || fail "config edit"
    _fa_edit "$s" ".delivery.gateway_mode = \"$mode\"" || fail "config edit"
  done
  agent_start home || fail "vmroam-ha did not start"
  for s in $sites; do agent_start "$s" || fail "vmroam-fa did not start in $s"; done
  ha_register_vm >/dev/null || fail "POST /v1/vms at the HA"
  note "up in $(elapsed) s: HA + FA in: $sites (buffer $([ $buffer = 1 ] && echo on || echo off), gateway $mode)"
}

fa_down() {
  local n
  for n in "${!FA_PING_PID[@]}"; do ping_stop "$n" 2>/dev/null; done
  for n in "${!FA_CAPTURE_PID[@]}"; do capture_stop "$n" 2>/dev/null; done
  agents_stop 2>/dev/null
  topo_down
}

# capture_start NAME ROLE [IF]: tcpdump in ROLE's namespace on IF (default wan0).
capture_start() {
  local name=$1 role=$2 ifc=${3:-$VMR_WAN_IF}
  ip netns exec "$(topo_ns "$role")" tcpdump -n -U -s 0 -i "$ifc" -w "$FA_DIR/$name.pcap" \
    >"$FA_DIR/$name.tcpdump.log" 2>&1 &
  FA_CAPTURE_PID[$name]=$!
  wait_for "grep -q 'listening on' '$FA_DIR/$name.tcpdump.log'" 10 || fail "tcpdump on $role $ifc did not start"
}

capture_stop() {
  local pid=${FA_CAPTURE_PID[$1]:-}
  [ -n "$pid" ] || return 0
  unset "FA_CAPTURE_PID[$1]"
  kill -INT "$pid" 2>/dev/null
  wait_for "! kill -0 $pid" 5 || kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}

tshark_count() {
  tshark -r "$1" -Y "$2" -T fields -e frame.number 2>/dev/null | wc -l
}

# ping_start NAME ROLE ADDR: 10 ms pings from ROLE, output in $FA_DIR/ping-NAME.txt.
ping_start() {
  ip netns exec "$(topo_ns "$2")" ping -n -D -i 0.01 -W 3 "$3" >"$FA_DIR/ping-$1.txt" 2>&1 &
  FA_PING_PID[$1]=$!
}

_ping_replies() { grep -c 'icmp_seq=.*time=' "$FA_DIR/ping-$1.txt" 2>/dev/null; }

# ping_wait_replies NAME N TIMEOUT: until N more replies than when called have arrived.
ping_wait_replies() {
  local want=$(($(_ping_replies "$1") + $2))
  wait_for "[ \$(_ping_replies $1) -ge $want ]" "$3"
}

ping_stop() {
  local pid=${FA_PING_PID[$1]:-}
  [ -n "$pid" ] || return 0
  unset "FA_PING_PID[$1]"
  kill -INT "$pid" 2>/dev/null
  wait_for "! kill -0 $pid" 5 || kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}

# ping_report NAME: "sent lost max_gap_ms dups" from the stopped ping's output. A sequence
# number is lost when it is missing from the replies and a later one was answered (the tail
# still in flight when ping was stopped is not a loss). max_gap_ms: the longest time between
# two consecutive replies' arrival (-D timestamps).
ping_report() {
  awk '
    /icmp_seq=/ && /time=/ {
      ts = substr($1, 2, length($1) - 2) + 0
      for (i = 1; i <= NF; i++) if ($i ~ /^icmp_seq=/) { split($i, a, "="); s = a[2] + 0 }
      if (s in got) { dup++; next }
      got[s] = 1
      if (s > maxs) maxs = s
      if (last != "" && ts - last > gap) gap = ts - last
      last = ts
    }
    /packets transmitted/ { sent = $1 }
    END {
      lost = 0
      for (i = 1; i <= maxs; i++) if (!(i in got)) lost++
      printf "%d %d %.0f %d\n", sent, lost, gap * 1000, dup
    }' "$FA_DIR/ping-$1.txt"
}

# move_link FROM TO: the VM's link leaves FROM's bridge and joins TO's, in two ip calls
# (vm_move's effect without its checks: the time between is the VM's "pause").
move_link() {
  ip -n "$(topo_ns "$1")" link set "$VMR_VM_PORT" netns "$(topo_ns "$2")" || return 1
  ip -n "$(topo_ns "$2")" link set "$VMR_VM_PORT" master "$(_vmr_site_bridge "$2")" up
}

fa_move() {
  fa_prepare "$2" >/dev/null || fail "prepare at $2"
  fa_activate "$2" >/dev/null || fail "activate at $2"
  fa_wait_state "$2" active 5 || fail "registration at $2"
  move_link "$1" "$2" || fail "link move $1 -> $2"
  fa_resumed "$2" >/dev/null || fail "resumed at $2"
}

revocation_capture_stop() {
  pcap=$FA_DIR/$1.pcap
  wait_for "[ \$(tshark_count $pcap 'mip.type == 15') -ge 1 ]" 10 || true
  capture_stop "$1"
  n_rev=$(tshark_count "$pcap" "mip.type == 7 && ip.src == $VMR_HOME_WAN && ip.dst == $VMR_FOREIGN_WAN && mip.auth.spi == $VMR_FA_HA_SPI_FOREIGN")
  n_ack=$(tshark_count "$pcap" "mip.type == 15 && ip.src == $VMR_FOREIGN_WAN && ip.dst == $VMR_HOME_WAN && mip.auth.spi == $VMR_FA_HA_SPI_FOREIGN")
}

# ip_json ROLE ARGS...: `ip -N -j ARGS` (numeric protocols) in ROLE's namespace.
ip_json() {
  local role=$1
  shift
  ip -N -j -n "$(topo_ns "$role")" "$@"
}
