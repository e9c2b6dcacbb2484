#!/usr/bin/env bash
# The vmroam demo (`./dev demo`): a dual-stack VM keeps its home addresses 10.1.0.10 and
# 2001:db8:1::10 while it moves home -> foreign -> foreign2 -> home, and a correspondent on the
# internet never loses it.
#
#   demo.sh [--out DIR] [--keep] [--vm auto|qemu|namespace] [--no-agents] [--delay MS] [--rate MBIT]
#           [--dwell S] [--interval-ms MS] [--fixed-keys] [--encapsulation ipip|udp]
#           [--fixture DIR] [--ha-pair] [--ipv4-only] [--dataplane auto|ebpf|userspace]
#
# On the testbed of tests/lib/topology.sh (drawing: `topology.sh draw`): vmroam-ha runs in
# the home site router, vmroam-fa in foreign and foreign2 (configs by tests/lib/agents.sh,
# random keys per run). While the VM moves, the correspondent pings it every 10 ms and holds a
# TCP stream to it (tools/probe/vmroam-probe), on IPv4 and on IPv6 (the testbed's --ipv6: the
# VM's IPv6 home address in the home /64, its IPv6 gateway the home router's link-local
# address; docs/protocol.md "Dual-stack VMs"), the VM prints the date every second, and the
# home router's WAN side is captured. At the end: a summary table (both families),
# DIR/demo-result.json, DIR/timeline.svg (RTT over time per family, moves marked), the capture
# checked with tshark.
#
# With the QEMU guest (tests/lib/guest.sh) each move is a real live migration by vmroam-migrate
# coupled to the agents (docs/migration.md): the destination QEMU waits at the next site, the
# migration stream crosses the WAN, at the switchover the FA activates and the HA holds the VM's
# packets (and recovers what reached the paused source), coming home the FA departs.
# With the namespace VM each move is the same sequence by hand (docs/architecture.md, life of
# a move): prepare at the destination FA -> activate (the registration; packets for the VM are
# now tunnelled to the FA, which buffers them) -> the VM's link moves and the VM announces
# itself (RARP + gratuitous ARP, as a migrated QEMU guest does) -> resumed (the FA flushes its
# buffer). Back home: the HA is told the VM is moving (prepare), the link moves home (the
# "stop"), the HA holds the VM's packets and recovers those tunnelled since the stop
# (stopped), the FA departs (the HA drops the binding and releases them onto the home link).
#
# --fixture DIR (implies --fixed-keys): also write DIR/demo-registration.pcap (every UDP 434
#   message of the run: the three registrations and replies, the revocation and its ack, the
#   deregistration) and DIR/demo-registration.ok (`vmroam-pcap decode` with the fixed keys).
# --ha-pair: instead, the home agent pair on a three-member etcd (tests/netns/home-agent/
#   cluster_failover.sh --out DIR): the namespace VM moves away, the active HA is killed -9 in
#   the middle (the standby takes over), later cut off from etcd; the timeline marks both.
# --no-agents: the same moves with no agent running (the baseline: reachability is lost).
# --ipv4-only: the VM, the testbed and the probe without IPv6 (the demo before dual stack).
# --dataplane: the agents' data plane (dataplane.driver). Default `auto`: eBPF where the kernel
#   has it (both families, docs/dataplane.md "IPv6 in the kernel data plane"), else userspace.
# --vm: the VM is an abstraction (vm_* functions below). `qemu`: the real guest of tests/vm/
#   (KVM if it works, else TCG; VM pause = QEMU's STOP -> RESUME). `namespace`: a network
#   namespace whose veth moves between site bridges (VM pause null). `auto` (the default): qemu,
#   or the namespace VM when no QEMU guest can run here, saying why.
# Exit status: 0 when the VM was reachable at the end and its TCP streams survived (with
# agents), 1 otherwise, 2 bad usage, 77 missing kernel feature.
set -uo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=lib/topology.sh
source "$top/tests/lib/topology.sh"
# shellcheck source=lib/agents.sh
source "$top/tests/lib/agents.sh"

out=$top/demo-out
keep=0 vm_kind=auto agents=1 delay=4 rate=100 dwell=8 interval=10 fixed_keys=0 encap=ipip fixture= ha_pair=0
ipv6=1 dataplane=${VMR_DATAPLANE_DRIVER:-auto}
usage() { sed -n '5,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=${2:?}; shift 2 ;;
    --keep) keep=1; shift ;;
    --vm) vm_kind=${2:?}; shift 2 ;;
    --no-agents) agents=0; shift ;;
    --delay) delay=${2:?}; shift 2 ;;
    --rate) rate=${2:?}; shift 2 ;;
    --dwell) dwell=${2:?}; shift 2 ;;
    --interval-ms) interval=${2:?}; shift 2 ;;
    --fixed-keys) fixed_keys=1; shift ;;
    --encapsulation) encap=${2:?}; shift 2 ;;
    --fixture) fixture=${2:?}; fixed_keys=1; shift 2 ;;
    --ha-pair) ha_pair=1; shift ;;
    --ipv4-only) ipv6=0; shift ;;
    --dataplane) dataplane=${2:?}; shift 2 ;;
    -h | --help) usage ;;
    *) echo "demo: unknown option '$1'" >&2; usage ;;
  esac
done

if [ "$ha_pair" = 1 ]; then
  exec "$top/tests/netns/home-agent/cluster_failover.sh" "${VMROAM_BUILD_DIR:-$top/build}/home-agent/vmroam-ha" \
    --out "$out"
fi

probe=$top/tools/probe/vmroam-probe
pcap_tool=${VMR_PCAP:-${VMROAM_BUILD_DIR:-$top/build}/tools/pcap/vmroam-pcap}

# ---- progress display (stderr) -------------------------------------------------------------
t_start=${EPOCHREALTIME}
clear_line=
[ -t 2 ] && clear_line=$'\r\033[K'  # erase the live status line (terminals only)
phase() { printf '%s[%6.2fs] %s\n' "$clear_line" "$(awk -v a="$EPOCHREALTIME" -v b="$t_start" 'BEGIN{print a-b}')" "$*" >&2; }
die() { phase "FAILED: $*"; exit 1; }
marks=
mark() { echo "$EPOCHREALTIME $*" >>"$marks"; }

# dwell S: let the measurement run for S seconds, showing the probe's live counters and the
# VM's console (its date line) on one status line.
dwell() {
  local until=$(($(date +%s%N) / 1000 + $(awk -v s="$1" 'BEGIN{printf "%d", s*1000000}'))) st con
  while (($(date +%s%N) / 1000 < until)); do
    st=$(cat "$run/probe.status" 2>/dev/null)
    con=$(vm_console)
    [ -t 2 ] && printf '\r\033[K    %s | VM@%s: %s' "$st" "$(demo_vm_site)" "$con" >&2
    sleep 0.25
  done
  [ -t 2 ] && printf '\r\033[K' >&2
  return 0
}

# ---- the VM abstraction ----------------------------------------------------------------
# vm_setup, vm_start_workload, vm_console (its last console line), vm_migrate FROM TO (records
# a `link` mark when the VM runs at TO, and `pause`/`handover` marks when it knows them),
# vm_save_console. Chosen after the topology is up (vm_choose): the QEMU guest needs it.
case "$vm_kind" in
  auto | qemu | namespace) ;;
  *) echo "demo: --vm must be auto, qemu or namespace" >&2; exit 2 ;;
esac
vm_port=7007        # the workload's TCP echo port
vm_accelerator=     # qemu: kvm or tcg

vm_choose() {
  [ "$vm_kind" != namespace ] || return 0
  # shellcheck source=../lib/guest.sh
  source "$top/tests/lib/guest.sh"
  VMR_GUEST_DIR=$run/guest
  local rc=0
  guest_setup 2>"$run/guest-setup.err" || rc=$?
  if [ "$rc" = 0 ]; then
    vm_kind=qemu vm_port=7 vm_accelerator=$VMR_GUEST_ACCEL
    # The guest's IPv6 (or none): its address and gateway on its kernel command line.
    if [ "$ipv6" = 1 ]; then
      VMR_GUEST_APPEND="$VMR_GUEST_APPEND $(guest_dualstack_append)"
    else
      VMR_GUEST_APPEND="$VMR_GUEST_APPEND vmroam.ip6=none"
    fi
    return 0
  fi
  [ "$vm_kind" = qemu ] && die "--vm qemu: the QEMU guest cannot run here: $(tail -n 2 "$run/guest-setup.err")"
  phase "the QEMU guest cannot run here ($(tail -n 1 "$run/guest-setup.err")): falling back to the namespace VM"
  vm_kind=namespace
}

vm_setup() {
  [ "$vm_kind" = qemu ] || return 0  # topo_up built it: eth0 10.1.0.10 at home
  phase "booting the QEMU guest at home ($vm_accelerator; kernel and busybox from Debian, cached)"
  guest_start_source home || die "the QEMU guest did not boot: $(tail -n 3 "$run/guest-setup.err" 2>/dev/null)"
}
vm_start_workload() {
  # The guest's services: a TCP echo server and the founding demo's clock on the console.
  if [ "$vm_kind" = qemu ]; then
    # The guest's init runs both (echo on port 7, "vmroam-guest tick EPOCH DATE" every second).
    wait_for "ns_exec cn ping -c1 -W1 $VMR_VM_ADDR >/dev/null" 30 || return 1
    [ "$ipv6" = 0 ] || wait_for "ns_exec cn ping -6 -c1 -W1 $VMR_VM_ADDR6 >/dev/null" 30
    return
  fi
  ns_exec vm "$probe" serve --port 7007 >"$run/echo.log" 2>&1 &
  ns_exec vm bash -c 'while :; do date "+%F %T %Z  (vm 10.1.0.10)"; sleep 1; done' >"$out/vm-console.log" 2>&1 &
  wait_for "ns_exec vm ss -Hltn 'sport = :7007' | grep -q LISTEN" 5
}
vm_console() {
  if [ "$vm_kind" = qemu ]; then
    grep 'vmroam-guest tick' "$VMR_GUEST_DIR/$(guest_qemu_name).serial" 2>/dev/null | tail -n 1
  else
    tail -n 1 "$out/vm-console.log" 2>/dev/null
  fi
}
demo_vm_site() {
  if [ "$vm_kind" = qemu ]; then guest_site; else vm_site; fi
}
vm_save_console() {
  [ "$vm_kind" = qemu ] || return 0
  guest_serial >"$out/vm-console.log"
}
vm_migrate() {
  local from=$1 to=$2
  [ "$(demo_vm_site)" = "$from" ] || { echo "demo: the VM is not on $from" >&2; return 1; }
  if [ "$vm_kind" = qemu ]; then
    guest_start_dest "$to" || return 1
    guest_migrate_dualstack "$from" "$to" >/dev/null
    local rc=$? j=$VMR_GUEST_JSON v
    mark link
    # The driver's summary (its timeline of the move) beside the result, for the post-mortem.
    cp "$j" "$out/migrate-$from-$to.json" 2>/dev/null
    v=$(jq -r '.real_pause_ms // empty' "$j" 2>/dev/null)
    [ -n "$v" ] && mark pause "ms=$v"
    # The FA's activate → HA reply; coming home, the switchover → the FA's deregistration sent.
    v=$(jq -r '.handover_ms // .depart_ms // empty' "$j" 2>/dev/null)
    [ -n "$v" ] && mark handover "ms=$v"
    phase "move $from -> $to: $(jq -c '{outcome, migration_tls, real_pause_ms, qemu_downtime_ms, handover_ms, registration, ha_hold, recovered_packets}' "$j" 2>/dev/null)"
    return $rc
  fi
  # vm_move's effect in two ip calls instead of its seven: every millisecond here is time the
  # FA holds the VM's packets in its buffer (the namespace VM's "pause").
  ip -n "$(topo_ns "$from")" link set "$VMR_VM_PORT" netns "$(topo_ns "$to")" || return 1
  ip -n "$(topo_ns "$to")" link set "$VMR_VM_PORT" master "$(_vmr_site_bridge "$to")" up || return 1
  mark link
  # What a migrated guest puts on its new link at once: QEMU's RARP and the guest's GARP (and
  # its unsolicited NA, dual-stack). The GARP first with busybox (a few ms; Python takes 100+ ms
  # to start under load): the home router holds the VM's packets in its ARP queue until it
  # hears it. Then RARP + GARP (+ NA) like QEMU and the guest, in the background.
  ns_exec vm busybox arping -U -c 1 -I "$VMR_VM_IF" "$VMR_VM_ADDR" >/dev/null 2>&1
  local na=()
  [ "$ipv6" = 0 ] || na=(--ip6 "$VMR_VM_ADDR6")
  ip netns exec "$VMR_NS_VM" "$probe" announce --if "$VMR_VM_IF" --ip "$VMR_VM_ADDR" --mac "$VMR_VM_MAC" "${na[@]}" &
}

# ---- moves ------------------------------------------------------------------------------
# move_with_agents FROM TO
move_with_agents() {
  local from=$1 to=$2 t_act t_done t_stop v hms=
  mark move "from=$from" "to=$to"
  if [ "$vm_kind" = qemu ]; then
    if [ "$to" = home ]; then
      phase "move $from -> home: live migration; at the switchover the $from FA departs (deregistration) and the HA holds the VM's packets"
    else
      phase "move $from -> $to: live migration coupled to the $to FA (prepare, activate at the switchover) and the HA's hold"
    fi
    vm_migrate "$from" "$to" || die "vmroam-migrate $from -> $to"
    phase "move $from -> $to: done; binding: $(ha_binding | jq -c '{care_of_address} // empty' 2>/dev/null || echo none)"
    return
  fi
  if [ "$to" = home ]; then
    phase "move $from -> home: the HA records what it sends the VM; the link moves home; the HA holds and recovers; the $from FA departs"
    agent_api home POST "/v1/vms/$VMR_VM_ID/handover" '{"phase":"prepare"}' >/dev/null || die "handover prepare at the HA"
    # The link leaving the FA's bridge is this VM's "STOP": what the HA tunnels to the FA from
    # then on is recovered and delivered at home instead.
    t_stop=$EPOCHREALTIME
    vm_migrate "$from" home || die "vm link move"
    agent_api home POST "/v1/vms/$VMR_VM_ID/handover" \
      "{\"phase\":\"stopped\",\"stopped_at_us\":${t_stop//[.,]/}}" >"$run/hold.json" || die "handover stopped at the HA"
    t_act=$EPOCHREALTIME
    fa_depart "$from" >/dev/null || die "depart at $from"
    local limit=$((${EPOCHREALTIME//[.,]/} + 5000000))
    while ha_binding >/dev/null; do
      ((${EPOCHREALTIME//[.,]/} < limit)) || die "the HA kept the binding after depart"
    done
    t_done=$EPOCHREALTIME
    # depart removes the visitor at once (the FA answers 404 for it afterwards).
    if fa_visitor "$from" >/dev/null 2>&1; then phase "warning: the $from FA still lists the visitor"; fi
    hms=$(awk -v a="$t_act" -v b="$t_done" 'BEGIN{printf "%.1f", (b-a)*1000}')
    phase "move $from -> home: the HA recovered $(jq -r .recovered "$run/hold.json") packets sent after the link left"
  else
    phase "move $from -> $to: prepare at the $to FA"
    fa_prepare "$to" >/dev/null || die "prepare at $to"
    phase "move $from -> $to: activate (proxy registration with the HA)"
    t_act=$EPOCHREALTIME
    fa_activate "$to" >/dev/null || die "activate at $to"
    fa_wait_state "$to" active 5 || die "registration at $to"
    t_done=$EPOCHREALTIME
    phase "move $from -> $to: registered; the VM's link moves"
    vm_migrate "$from" "$to" || die "vm link move"
    fa_resumed "$to" >/dev/null || die "resumed at $to"
    v=$(fa_visitor "$to")
    hms=$(jq -r '.handover_ms // empty' <<<"$v")
    [ -n "$hms" ] || hms=$(awk -v a="$t_act" -v b="$t_done" 'BEGIN{printf "%.1f", (b-a)*1000}')
    if [ "$from" != home ]; then
      # RFC 3543: the HA revokes the previous FA's registration.
      if wait_for "[ \"\$(fa_visitor $from | jq -r .state)\" != active ]" 5; then
        phase "move $from -> $to: the HA revoked the $from FA (visitor $(fa_visitor "$from" 2>/dev/null | jq -r .state || echo removed))"
      else
        phase "warning: the $from FA still has the visitor active (no revocation seen)"
      fi
    fi
  fi
  mark handover "ms=$hms"
  phase "move $from -> $to: done (handover ${hms} ms); binding: $(ha_binding | jq -c '{care_of_address} // empty' 2>/dev/null || echo none)"
}

move_without_agents() {
  mark move "from=$1" "to=$2"
  phase "move $1 -> $2 (no agents): the link moves"
  vm_migrate "$1" "$2" || die "vm link move"
}

# Background processes are started with `ip netns exec` itself, never through the ns_exec
# function, so that $! is the process (ip netns exec execs it) and not a subshell.
# ---- run -----------------------------------------------------------------------------------
mkdir -p "$out" || exit 1
rm -f "$out"/demo-result.json "$out"/timeline.svg "$out"/rtt.dat "$out"/marks "$out"/samples.json "$out"/migrate-*.json "$out"/wanem-*.json
marks=$out/marks
: >"$marks"
phase "vmroam demo: VM '$vm_kind' (auto: the QEMU guest if it can run here, else the namespace VM)," \
  "$([ $ipv6 = 1 ] && echo dual-stack || echo IPv4 only), agents $([ $agents = 1 ] && echo "on ($dataplane data plane)" || echo OFF)," \
  "WAN ${delay} ms each way, ${rate} Mbit/s, out $out"

topo_args=(--delay "$delay" --rate "$rate")
[ "$ipv6" = 0 ] || topo_args+=(--ipv6)
[ "$keep" = 1 ] && topo_args+=(--keep)
topo_up "${topo_args[@]}" >/dev/null
rc=$?
if [ "$rc" != 0 ]; then
  [ "$rc" = 77 ] && echo "demo: skipped (missing kernel feature, see above)" >&2
  exit "$rc"
fi
run=$VMR_RUN_DIR
cleanup() {
  [ -n "${probe_pid:-}" ] && kill -TERM "$probe_pid" 2>/dev/null
  if [ "$vm_kind" = qemu ] && [ "$keep" = 0 ]; then vm_save_console; guest_stop; fi
  [ -n "${tcpdump_pid:-}" ] && kill -TERM "$tcpdump_pid" 2>/dev/null
  if [ "$agents" = 1 ]; then
    # The agents' counters (drops by reason, buffer, handover histogram) for the post-mortem.
    for r in home foreign foreign2; do agent_api "$r" GET /metrics >"$out/metrics-$r.txt" 2>/dev/null; done
  fi
  if [ "$keep" = 0 ]; then
    if [ "$agents" = 1 ]; then
      agents_stop
      for f in "$VMR_AGENTS_DIR"/*.log; do [ -f "$f" ] && cp "$f" "$out/agent-$(basename "$f")"; done
    fi
    # The WAN emulators' final counters (drops by cause, kernel drops, lateness) land in the
    # run dir when topo_down stops them: kept beside the result for the post-mortem.
    VMR_KEEP_LOGS=1 topo_down
    local h
    for h in "${VMR_HOSTS[@]}"; do cp "$run/wanem-$h.stats.json" "$out/wanem-$h.json" 2>/dev/null; done
    [ "${VMR_KEEP_LOGS:-0}" = 1 ] || rm -rf "$run"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
phase "topology up: cn, wan, home, foreign, foreign2, vm (suffix $VMR_SUFFIX)"

if [ "$agents" = 1 ]; then
  setup_args=(--encapsulation "$encap" --driver "$dataplane")
  [ "$fixed_keys" = 1 ] && setup_args+=(--fixed-keys)
  agents_setup "${setup_args[@]}" || die "agent configs"
  agent_start home || die "vmroam-ha"
  agent_start foreign || die "vmroam-fa (foreign)"
  agent_start foreign2 || die "vmroam-fa (foreign2)"
  ha_register_vm >/dev/null || die "registering the VM at the HA"
  phase "agents up: vmroam-ha in home, vmroam-fa in foreign and foreign2; VM $VMR_VM_ID registered at the HA"
fi

if [ -n "$fixture" ]; then
  # A fixture is a wire reference: let the senders compute UDP checksums (veth would leave
  # them partial, and the capture would show them as bad).
  for r in home foreign foreign2; do
    ns_exec "$r" ethtool -K "$VMR_WAN_IF" tx off >/dev/null 2>&1 || die "ethtool -K $VMR_WAN_IF tx off in $r"
  done
fi

# The capture: the home router's WAN side (registrations, tunnel, revocations).
ip netns exec "$VMR_NS_HOME" tcpdump -i "$VMR_WAN_IF" -U -s 256 -w "$out/wan-home.pcap" \
  'udp port 434 or ip proto 4 or ip proto 41 or arp or icmp' >"$run/tcpdump.log" 2>&1 &
tcpdump_pid=$!
wait_for "grep -q 'listening on' '$run/tcpdump.log'" 5 || die "tcpdump did not start: $(cat "$run/tcpdump.log")"

vm_choose
vm_setup
vm_start_workload || die "the VM's echo server did not start"
targets=(--target "$VMR_VM_ADDR")
[ "$ipv6" = 0 ] || targets+=(--target6 "$VMR_VM_ADDR6")
ip netns exec "$VMR_NS_CN" "$probe" run "${targets[@]}" --port "$vm_port" --interval-ms "$interval" \
  --out "$out/samples.json" --status "$run/probe.status" 2>"$run/probe.err" &
probe_pid=$!
wait_for "[ -s '$run/probe.status' ] || ! kill -0 $probe_pid" 5
kill -0 "$probe_pid" 2>/dev/null || die "the probe did not start: $(cat "$run/probe.err")"
phase "measuring: ping every ${interval} ms + a TCP echo stream from cn to $VMR_VM_ADDR$([ $ipv6 = 0 ] || echo " and to $VMR_VM_ADDR6");" \
  "the VM prints the date every second"
dwell 2

for m in "home foreign" "foreign foreign2" "foreign2 home"; do
  # shellcheck disable=SC2086
  if [ "$agents" = 1 ]; then move_with_agents $m; else move_without_agents $m; fi
  dwell "$dwell"
done

phase "stopping the probe (waiting for late replies)"
kill -TERM "$probe_pid"
wait "$probe_pid"
probe_pid=
kill -TERM "$tcpdump_pid" 2>/dev/null
wait "$tcpdump_pid" 2>/dev/null
tcpdump_pid=

echo >&2
vm_save_console
analyse_args=(--samples "$out/samples.json" --marks "$marks" --out "$out" --vm "$vm_kind")
[ -z "$vm_accelerator" ] || analyse_args+=(--accelerator "$vm_accelerator")
[ "$agents" = 1 ] || analyse_args+=(--title "WITHOUT agents: RTT from the correspondent to the VM")
"$probe" analyse "${analyse_args[@]}"
status=$?

# The capture: every Mobile IP packet well-formed (Wireshark's dissector is the oracle).
if [ "$agents" = 1 ]; then
  nmip=$(tshark -r "$out/wan-home.pcap" -Y mip 2>/dev/null | wc -l)
  nbad=$(tshark -r "$out/wan-home.pcap" -Y 'mip && (_ws.malformed || _ws.expert.severity >= error)' 2>/dev/null | wc -l)
  echo "capture:  $out/wan-home.pcap ($nmip Mobile IP messages, $nbad malformed)"
  if [ "$nmip" = 0 ] || [ "$nbad" != 0 ]; then
    echo "demo: the capture has $nmip Mobile IP messages, $nbad malformed or with errors" >&2
    status=1
  fi
  if [ -n "$fixture" ]; then
    mkdir -p "$fixture"
    tshark -r "$out/wan-home.pcap" -Y 'udp.port == 434' -w "$fixture/demo-registration.pcap" 2>/dev/null ||
      { echo "demo: could not cut the fixture" >&2; status=1; }
    "$pcap_tool" decode "$fixture/demo-registration.pcap" \
      --key "$VMR_FA_HA_SPI_FOREIGN:$VMR_ALGORITHM:$VMR_FIXED_FA_HA_KEY_FOREIGN" \
      --key "$VMR_FA_HA_SPI_FOREIGN2:$VMR_ALGORITHM:$VMR_FIXED_FA_HA_KEY_FOREIGN2" \
      --key "$VMR_MN_HA_SPI:$VMR_ALGORITHM:$VMR_FIXED_MN_HA_KEY" >"$fixture/demo-registration.ok" ||
      { echo "demo: vmroam-pcap decode failed on the fixture" >&2; status=1; }
    echo "fixture:  $fixture/demo-registration.pcap (+ .ok, $(wc -l <"$fixture/demo-registration.ok") messages)"
  fi
  echo "agent logs: $([ "$keep" = 1 ] && echo "$VMR_AGENTS_DIR/*.log" || echo "$out/agent-*.log")"
fi
echo "VM console: $out/vm-console.log"
if [ "$keep" = 1 ]; then topo_keep; fi
exit "$status"
