#!/usr/bin/env bash
# Benchmark 'dataplane' (docs/performance.md, "Data plane"): what a tunnel costs on the data path.
#
# On the netns testbed (tests/lib/topology.sh) the correspondent (cn) sends to the VM
# (10.1.0.10), which sits at the FOREIGN site; every path below carries cn -> wan -> home
# router -> (tunnel or plain routing) -> foreign router -> VM, so only the home->foreign leg
# differs:
#
#   plain         home routes 10.1.0.10/32 via the foreign router, no tunnel (the limit)
#   vmroam-ipip   vmroam-ha + vmroam-fa, userspace driver, IP-in-IP (RFC 2003)
#   vmroam-udp    the same with FA registration.encapsulation "udp" (RFC 3519)
#   ebpf-ipip     vmroam-ha + vmroam-fa, eBPF driver (tc programs), IP-in-IP
#   ebpf-udp      the same, RFC 3519 UDP
#   openvpn       Debian's OpenVPN, tun mode, home <-> foreign over UDP, TLS p2p with
#                 self-signed certificates pinned by --peer-fingerprint (AES-256-GCM data
#                 channel; DCO off: the kernel has no ovpn-dco module)
#   vxlan         kernel VXLAN between the two routers (the kernel-tunnel reference)
#
# The VM's answers (TCP ACKs) go back through the same tunnel (reverse tunnelling), except on
# `plain`, where the foreign router routes them straight out.
#
# Per path, once per invocation (bench/run.sh repeats the invocation, default 5 times, so the
# paths alternate and every ratio is taken within one run): iperf3 TCP 1 stream, TCP 4
# streams (-P 4), UDP with 64-byte payloads at full speed (-u -l 64 -b 0; the received rate
# counts datagrams the VM's iperf3 got: sent - lost).
#
# CPU seconds per GB (single-stream TCP test), two parts, both in CPU seconds per 10^9 bytes
# received by the VM:
#   endpoint_cpu_s_per_gb  utime+stime of the tunnel endpoints' processes (/proc/PID/stat,
#                          before/after): vmroam-ha + vmroam-fa, or both openvpn processes;
#                          0 for plain and vxlan (no process). A userspace tunnel's
#                          sendmmsg/write into the kernel is in its stime.
#   softirq_s_per_gb       the machine-wide softirq time (/proc/stat) in the same interval:
#                          every in-kernel packet path (forwarding, veth, bridge, VXLAN
#                          encap/decap, TCP receive). Machine-wide, so other load on the shared
#                          machine lands here too: compare rows within a run.
#   cpu_s_per_gb           the sum.
# iperf3's own process time is not counted (it is the same traffic for every path).
#
# WAN: no delay line and no tbf (topo_up --no-wanem --rate 0): the wan namespace is a plain
# kernel bridge/router, so we measure the tunnels and not the emulator.
#
#   dataplane.sh [--quick] [--seconds S] [--paths p1,p2,...]
# Prints one JSON object (bench/README.md); logs on stderr. Exit 77: not root / no netns.
set -uo pipefail
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
top=$(cd "$here/../.." && pwd)

secs=3
all_paths=(plain vmroam-ipip vmroam-udp ebpf-ipip ebpf-udp openvpn vxlan)
paths=("${all_paths[@]}")
quick=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; secs=1; shift ;;
    --seconds) secs=${2:?}; shift 2 ;;
    --paths) IFS=, read -r -a paths <<<"${2:?}"; shift 2 ;;
    *) echo "dataplane: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
for p in "${paths[@]}"; do
  case " ${all_paths[*]} " in *" $p "*) ;; *) echo "dataplane: unknown path '$p'" >&2; exit 2 ;; esac
done

log() { echo "dataplane: $*" >&2; }
[ "$(id -u)" = 0 ] || { log "skipped: needs root (network namespaces)"; exit 77; }
for tool in iperf3 jq; do
  command -v "$tool" >/dev/null || { log "skipped: $tool not installed (./dev setup)"; exit 77; }
done

export VMROAM_BUILD_DIR=${VMROAM_BUILD_DIR:-$top/build}
# shellcheck source=../../tests/lib/topology.sh
source "$top/tests/lib/topology.sh"
# shellcheck source=../../tests/lib/agents.sh
source "$top/tests/lib/agents.sh"

kRevTable=187      # reverse-path table for the non-vmroam tunnels (vmroam uses 186)
kRevPref=1870
kOvpnDev=vmrovpn0
kVxDev=vmrvx0
kNatAddr=192.0.2.33  # the foreign site's NAT address (vmroam-udp only)

# ---- CPU accounting ------------------------------------------------------------------------
clk_tck=$(getconf CLK_TCK)
# proc_ticks PID...: utime+stime (fields 14, 15 of /proc/PID/stat; the name in field 2 may hold
# spaces, so count from the closing parenthesis).
proc_ticks() {
  local sum=0 pid s
  for pid in "$@"; do
    s=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    s=${s##*) }
    # After ") ": field 3 is state, so utime is word 12 and stime word 13 (1-based).
    set -- $s
    sum=$((sum + ${12} + ${13}))
  done
  echo "$sum"
}
softirq_ticks() { awk '$1 == "cpu" { print $8; exit }' /proc/stat; }

# ---- paths ---------------------------------------------------------------------------------
endpoint_pids=()

vm_to_foreign() { vm_attach foreign && ns_exec vm ip neigh flush dev "$VMR_VM_IF"; }
vm_to_home() { vm_attach home && ns_exec vm ip neigh flush dev "$VMR_VM_IF"; }

# The foreign router delivers 10.1.0.10 on its bridge and is the VM's gateway (10.1.0.1/32 on
# the bridge answers its ARP); what the VM sends goes to table kRevTable when a tunnel carries
# the reverse direction.
foreign_delivery() {
  ns_exec foreign ip addr add "$VMR_VM_GW/32" dev "$VMR_FOREIGN_BRIDGE" &&
    ns_exec foreign ip route add "$VMR_VM_ADDR/32" dev "$VMR_FOREIGN_BRIDGE" proto 186
}
reverse_into() {
  ns_exec foreign ip route add default dev "$1" table $kRevTable proto 186 ${2:+via $2} &&
    ns_exec foreign ip rule add from "$VMR_VM_ADDR" iif "$VMR_FOREIGN_BRIDGE" lookup $kRevTable pref $kRevPref
}
foreign_undo() {
  ns_exec foreign ip rule del pref $kRevPref 2>/dev/null
  ns_exec foreign ip route flush table $kRevTable 2>/dev/null
  ns_exec foreign ip route del "$VMR_VM_ADDR/32" dev "$VMR_FOREIGN_BRIDGE" 2>/dev/null
  ns_exec foreign ip addr del "$VMR_VM_GW/32" dev "$VMR_FOREIGN_BRIDGE" 2>/dev/null
  true
}

up_plain() {
  vm_to_foreign && foreign_delivery &&
    ns_exec home ip route add "$VMR_VM_ADDR/32" via "$VMR_FOREIGN_WAN" proto 186
}
down_plain() {
  ns_exec home ip route del "$VMR_VM_ADDR/32" 2>/dev/null
  foreign_undo
  vm_to_home
}

up_vxlan() {
  local side local_addr remote addr
  for side in home foreign; do
    if [ $side = home ]; then local_addr=$VMR_HOME_WAN remote=$VMR_FOREIGN_WAN addr=10.98.0.1/30
    else local_addr=$VMR_FOREIGN_WAN remote=$VMR_HOME_WAN addr=10.98.0.2/30; fi
    ns_exec $side ip link add $kVxDev type vxlan id 186 local "$local_addr" remote "$remote" \
      dstport 4789 dev "$VMR_WAN_IF" || return 1
    ns_exec $side ip addr add $addr dev $kVxDev || return 1
    ns_exec $side ip link set $kVxDev up || return 1
  done
  vm_to_foreign && foreign_delivery && reverse_into $kVxDev 10.98.0.1 &&
    ns_exec home ip route add "$VMR_VM_ADDR/32" via 10.98.0.2 dev $kVxDev proto 186
}
down_vxlan() {
  ns_exec home ip link del $kVxDev 2>/dev/null
  ns_exec foreign ip link del $kVxDev 2>/dev/null
  foreign_undo
  vm_to_home
}

ovpn_dir=""
up_openvpn() {
  command -v openvpn >/dev/null || { log "openvpn not installed"; return 1; }
  ovpn_dir=$VMR_RUN_DIR/openvpn
  mkdir -p "$ovpn_dir" && chmod 700 "$ovpn_dir" || return 1
  local side fp other role ifc local_addr remote
  # One self-signed EC certificate per router; each pins the other's by fingerprint
  # (OpenVPN 2.6 peer-fingerprint mode: no CA).
  for side in home foreign; do
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
      -subj "/CN=vmroam-bench-$side" -keyout "$ovpn_dir/$side.key" -out "$ovpn_dir/$side.crt" \
      >/dev/null 2>&1 || { log "openssl could not make a certificate"; return 1; }
  done
  endpoint_pids=()
  for side in home foreign; do
    if [ $side = home ]; then
      other=foreign role=--tls-server ifc="10.99.0.1 10.99.0.2" local_addr=$VMR_HOME_WAN remote=$VMR_FOREIGN_WAN
    else
      other=home role=--tls-client ifc="10.99.0.2 10.99.0.1" local_addr=$VMR_FOREIGN_WAN remote=$VMR_HOME_WAN
    fi
    fp=$(openssl x509 -in "$ovpn_dir/$other.crt" -noout -fingerprint -sha256 | sed 's/^.*=//')
    # shellcheck disable=SC2086
    ip netns exec "$(topo_ns $side)" openvpn --dev $kOvpnDev --dev-type tun --proto udp \
      --local "$local_addr" --lport 1194 --remote "$remote" 1194 --ifconfig $ifc \
      $role --dh none --cert "$ovpn_dir/$side.crt" --key "$ovpn_dir/$side.key" \
      --peer-fingerprint "$fp" --data-ciphers AES-256-GCM --disable-dco --verb 3 \
      >"$ovpn_dir/$side.log" 2>&1 &
    endpoint_pids+=($!)
    echo $! >"$ovpn_dir/$side.pid"
  done
  for side in home foreign; do
    wait_for "grep -q 'Initialization Sequence Completed' '$ovpn_dir/$side.log'" 20 ||
      { log "openvpn at $side did not come up:"; tail -n 15 "$ovpn_dir/$side.log" >&2; return 1; }
  done
  vm_to_foreign && foreign_delivery && reverse_into $kOvpnDev &&
    ns_exec home ip route add "$VMR_VM_ADDR/32" dev $kOvpnDev proto 186
}
down_openvpn() {
  local pid
  for pid in "${endpoint_pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${endpoint_pids[@]}"; do
    wait_for "! kill -0 $pid" 5 2>/dev/null || kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  endpoint_pids=()
  foreign_undo
  vm_to_home
}

# vmroam: what the hypervisor does for a move (docs/api.md): register the VM at the HA,
# prepare + activate at the FA, the VM's link moves, resumed.
up_vmroam() {
  local encap=$1 driver=$2
  rm -rf "$VMR_AGENTS_DIR"
  # The HA grants RFC 3519 UDP tunnelling only through a NAT (RFC 3519 §3.2.1: source !=
  # care-of address; our FA never sets the F "force" flag). So for vmroam-udp the foreign
  # router NATs its own registration/tunnel flow (UDP 434) to a second address, as a NAT'd
  # site would: the HA then sees the NAT and tunnels over UDP to the mapped address.
  # ebpf-udp has no NAT: the tc programs transmit without netfilter's POSTROUTING, so a NAT
  # on the FA's own router would never see the tunnel (a real NAT sits on another box); the FA
  # forces UDP tunnelling (RFC 3519 §3.1, the F flag), so the HA grants it without one.
  if [ "$encap" = udp ] && [ "$driver" = userspace ]; then
    ns_exec foreign ip addr add "$kNatAddr/32" dev "$VMR_WAN_IF" || return 1
    ns_exec foreign nft -f - <<EOF || return 1
table ip vmrbench {
  chain post { type nat hook postrouting priority srcnat; oifname "$VMR_WAN_IF" ip saddr $VMR_FOREIGN_WAN udp sport 434 snat to $kNatAddr; }
}
EOF
  fi
  agents_setup --encapsulation "$encap" --driver "$driver" || return 1
  agent_start home || return 1
  agent_start foreign || return 1
  endpoint_pids=("$(cat "$VMR_AGENTS_DIR/home.pid")" "$(cat "$VMR_AGENTS_DIR/foreign.pid")")
  ha_register_vm >/dev/null || return 1
  fa_prepare foreign >/dev/null || return 1
  fa_activate foreign >/dev/null || return 1
  fa_wait_state foreign active 10 || return 1
  vm_attach foreign || return 1
  fa_resumed foreign >/dev/null
}
down_vmroam() {
  # The agents' tunnel counters (drops by reason) for the log: what a slow run lost where.
  local r
  for r in home foreign; do
    agent_api $r GET /metrics 2>/dev/null | grep -E '^vmroam_(tunnel|dataplane)[a-z_]*(drop|sent|delivered|malformed)[a-z_]*[{ ]' |
      sed "s/^/  $r metric: /" >&2
    # Where packets die outside the daemon: the TUN's queue (TX drops: the daemon did not read
    # fast enough) and the raw IP-in-IP socket's receive buffer (/proc/net/raw, last column).
    ns_exec $r ip -s link show dev "$( [ $r = home ] && echo vmr-ha0 || echo vmr-fa0)" 2>/dev/null |
      sed "s/^/  $r tun: /" >&2
    # shellcheck disable=SC2016  # an awk program: its $2 and $NF are awk's
    ns_exec $r awk -v r=$r 'NR > 1 { print "  " r " raw socket: local", $2, "drops", $NF }' /proc/net/raw >&2
    # The daemon's UDP 434 socket (RFC 3519 tunnel data arrives there): receive-buffer drops.
    # shellcheck disable=SC2016
    ns_exec $r awk -v r=$r 'NR > 1 && $2 ~ /:01B2$/ { print "  " r " udp 434 socket: local", $2, "drops", $NF }' /proc/net/udp >&2
  done
  agents_stop
  ns_exec foreign nft delete table ip vmrbench 2>/dev/null
  ns_exec foreign ip addr del "$kNatAddr/32" dev "$VMR_WAN_IF" 2>/dev/null
  endpoint_pids=()
  for f in "$VMR_AGENTS_DIR"/*.log; do [ -f "$f" ] && sed 's/^/  agent: /' "$f" | tail -n 5 >&2; done
  vm_to_home
}
up_vmroam-ipip() { up_vmroam ipip userspace; }
down_vmroam-ipip() { down_vmroam; }
up_vmroam-udp() { up_vmroam udp userspace; }
down_vmroam-udp() { down_vmroam; }
up_ebpf-ipip() { up_vmroam ipip ebpf; }
down_ebpf-ipip() { down_vmroam; }
up_ebpf-udp() { up_vmroam udp ebpf; }
down_ebpf-udp() { down_vmroam; }

# ---- measurement ---------------------------------------------------------------------------
# iperf_run OUTVAR ARGS...: one iperf3 client run from cn to the VM; its JSON in OUTVAR's file.
iperf_client() {
  ns_exec cn timeout $((secs + 15)) iperf3 -c "$VMR_VM_ADDR" -t "$secs" -J "$@"
}

# measure PATH: prints one JSON row.
measure() {
  local path=$1 t0 t1 s0 s1 tcp1 tcp4 udp err=""
  if ! "up_$path" >&2; then
    err="setup failed"
  elif ! wait_for "ns_exec cn ping -c1 -W1 $VMR_VM_ADDR" 10 2>/dev/null; then
    err="VM unreachable through $path"
  fi
  if [ -n "$err" ]; then
    log "$path: $err"
    "down_$path" >&2
    jq -cn --arg p "$path" --arg e "$err" '{path: $p, tcp1_gbps: null, tcp4_gbps: null, udp64_kpps: null,
      cpu_s_per_gb: null, endpoint_cpu_s_per_gb: null, softirq_s_per_gb: null, ok: 0, error: $e}'
    return
  fi
  t0=$(proc_ticks "${endpoint_pids[@]}")
  s0=$(softirq_ticks)
  tcp1=$(iperf_client) || log "$path: tcp 1 stream failed: $(jq -r .error <<<"$tcp1" 2>/dev/null)"
  t1=$(proc_ticks "${endpoint_pids[@]}")
  s1=$(softirq_ticks)
  tcp4=$(iperf_client -P 4) || log "$path: tcp 4 streams failed: $(jq -r .error <<<"$tcp4" 2>/dev/null)"
  udp=$(iperf_client -u -l 64 -b 0) || log "$path: udp failed: $(jq -r .error <<<"$udp" 2>/dev/null)"
  "down_$path" >&2
  jq -cn --arg p "$path" --argjson tcp1 "${tcp1:-null}" --argjson tcp4 "${tcp4:-null}" \
    --argjson udp "${udp:-null}" --argjson proc $((t1 - t0)) --argjson sirq $((s1 - s0)) \
    --argjson hz "$clk_tck" '
    def gbps(j): (j.end.sum_received.bits_per_second // null) | if . then . / 1e9 else null end;
    ($tcp1.end.sum_received.bytes // 0) as $bytes |
    (if $bytes > 0 then ($proc / $hz) / ($bytes / 1e9) else null end) as $ep |
    (if $bytes > 0 then ($sirq / $hz) / ($bytes / 1e9) else null end) as $sq |
    ($udp.end.sum // {}) as $u |
    {path: $p,
     tcp1_gbps: gbps($tcp1), tcp4_gbps: gbps($tcp4),
     udp64_kpps: (if $u.packets then (($u.packets - ($u.lost_packets // 0)) / $u.seconds / 1000) else null end),
     cpu_s_per_gb: (if $ep then $ep + $sq else null end),
     endpoint_cpu_s_per_gb: $ep, softirq_s_per_gb: $sq,
     udp64_sent_kpps: (if $u.packets then $u.packets / $u.seconds / 1000 else null end),
     tcp1_retransmits: ($tcp1.end.sum_sent.retransmits // null),
     ok: (if $tcp1 and $tcp4 and $udp then 1 else 0 end)}'
}

# ---- run -----------------------------------------------------------------------------------
topo_up --no-wanem --rate 0 >&2
rc=$?
if [ $rc != 0 ]; then
  [ $rc = 77 ] && { log "skipped: missing kernel feature (see above)"; exit 77; }
  log "testbed did not come up"; exit 1
fi
ip netns exec "$VMR_NS_VM" iperf3 -s >"$VMR_RUN_DIR/iperf3-server.log" 2>&1 &
wait_for "ns_exec vm ss -Hltn 'sport = :5201' | grep -q LISTEN" 5 || { log "iperf3 server did not start"; exit 1; }

rows=()
for p in "${paths[@]}"; do
  log "measuring $p (${secs} s per test)"
  rows+=("$(measure "$p")")
  log "$p: ${rows[-1]}"
done

# Ratios within this run: each row against plain and against openvpn (when measured).
printf '%s\n' "${rows[@]}" | jq -s --argjson secs "$secs" --argjson quick "$quick" \
  --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --argjson nproc "$(nproc)" \
  --arg cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" --arg kernel "$(uname -r)" '
  def ratio(a; b): if a != null and b != null and b > 0 then a / b else null end;
  (map(select(.path == "plain")) | first // {}) as $plain |
  (map(select(.path == "openvpn")) | first // {}) as $ovpn |
  {benchmark: "dataplane",
   key: "path",
   summary: ["tcp1_gbps", "tcp4_gbps", "udp64_kpps", "cpu_s_per_gb", "tcp1_vs_plain", "tcp1_vs_openvpn",
             "tcp4_vs_plain", "cpu_vs_plain", "udp64_vs_plain", "udp64_vs_openvpn"],
   plot: {y: ["tcp1_gbps", "tcp4_gbps", "udp64_kpps", "cpu_s_per_gb"]},
   targets: {"vmroam tcp1_vs_plain": ">= 0.8", "vmroam tcp1_vs_openvpn": ">= 5",
             "ebpf tcp1_vs_plain": ">= 0.8", "ebpf tcp1_vs_openvpn": ">= 20", "ebpf tcp4_vs_plain": ">= 0.8",
             "ebpf cpu_vs_plain": "<= 1.5", "ebpf udp64_vs_plain": ">= 0.7"},
   results: map(. + {tcp1_vs_plain: ratio(.tcp1_gbps; $plain.tcp1_gbps),
                     tcp1_vs_openvpn: ratio(.tcp1_gbps; $ovpn.tcp1_gbps),
                     tcp4_vs_plain: ratio(.tcp4_gbps; $plain.tcp4_gbps),
                     cpu_vs_plain: ratio(.cpu_s_per_gb; $plain.cpu_s_per_gb),
                     udp64_vs_plain: ratio(.udp64_kpps; $plain.udp64_kpps),
                     udp64_vs_openvpn: ratio(.udp64_kpps; $ovpn.udp64_kpps)}),
   setup: {seconds_per_test: $secs, quick: ($quick == 1), wan: "no delay line, no tbf",
           tcp: "iperf3 -t S (1 stream) and -P 4", udp: "iperf3 -u -l 64 -b 0, received = sent - lost",
           cpu: "endpoint processes utime+stime + machine-wide softirq, per 10^9 bytes of the 1-stream TCP test"},
   date: $date, machine: {nproc: $nproc, cpu: $cpu, kernel: $kernel}}'
