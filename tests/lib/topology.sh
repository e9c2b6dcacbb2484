#!/usr/bin/env bash
# vmroam's standard network-namespace testbed. Source it from a test (or run it, see the end).
#
#                          cn  (vmr-cn-PID: the correspondent, "a host on the internet")
#                          wan0 198.51.100.10/24, default via 198.51.100.1
#                           |
#   +--------------------- wan  (vmr-wan-PID: "the internet", one router) ------------------+
#   |  br-inet  198.51.100.1/24                   br-transit  192.0.2.1/24                    |
#   |     p-cn                                    p-home      p-foreign      p-foreign2       |
#   |   ( q-cn =wanem= w-cn )                   ( q-X =wanem= w-X ) for every site X         |
#   |  each host's access link: vmroam-wanem delays host->WAN by --delay (WAN->host 0),     |
#   |  tc tbf on w-X shapes WAN->host to --rate; so every path (cn<->site, site<->site)      |
#   |  gets exactly one delay and one rate limit per direction                               |
#   +--------------|------------------------------|----------------------|-------------------+
#                  |                              |                      |
#   home (vmr-home-PID)              foreign (vmr-foreign-PID)    foreign2 (vmr-foreign2-PID)
#   wan0    192.0.2.2/24             wan0   192.0.2.3/24          wan0    192.0.2.4/24
#   br-home 10.1.0.1/24              br-for 10.2.0.1/24           br-for2 10.3.0.1/24
#           02:00:0a:01:00:01               02:00:0a:02:00:01             02:00:0a:03:00:01
#   default via 192.0.2.1            default via 192.0.2.1        default via 192.0.2.1
#      |                                 :                           :
#      vm0 (port of the site bridge; vm_move moves it to br-for / br-for2)
#      |
#   vm (vmr-vm-PID): eth0 10.1.0.10/24, MAC 52:54:00:12:34:56, default via 10.1.0.1
#
#   wan routes: 10.1.0.0/24 via 192.0.2.2, 10.2.0.0/24 via 192.0.2.3, 10.3.0.0/24 via 192.0.2.4
#
#   lan (vmr-lan-PID, only with --lan): eth0 10.1.0.20/24, MAC 52:54:00:00:00:20, default via
#   10.1.0.1: a host on the home link (port l-lan of br-home) that talks to the VM's home address
#
#   --ipv6 (dual-stack VMs, docs/protocol.md "Dual-stack VMs"): IPv6 on the paths the VM's IPv6
#   takes, and nowhere else (no RS/DAD/MLD noise on the other links; no DAD at all):
#     cn wan0 2001:db8:100::10/64, default via 2001:db8:100::1 (wan br-inet)
#     home wan0 2001:db8:200::2/64, default via 2001:db8:200::1 (wan br-transit)
#     home br-home 2001:db8:1::1/64 and fe80::aff:fe01:1 (its EUI-64 link-local, given explicitly)
#     vm eth0 2001:db8:1::10/64, default via fe80::aff:fe01:1 (the home router's link-local)
#     wan: 2001:db8:1::/64 via 2001:db8:200::2; IPv6 forwarding in wan and home
#   The foreign sites get no IPv6 of their own: their agents carry the VM's IPv6 in IPv4 tunnels
#   and turn IPv6 on for their VM link themselves (docs/foreign-agent.md "Dual-stack visitors").
#
#   --sites LIST builds only the sites named (the others, their links and routes are absent);
#   --vm-site none builds no VM namespace (a test that brings its own VM, or none).
#
# Use:
#   source tests/lib/topology.sh
#   topo_up [--delay MS] [--rate MBIT] [--loss PCT] [--jitter MS] [--seed N] [--no-wanem]
#           [--sites "home foreign foreign2"] [--vm-site SITE|none] [--lan] [--ipv6] [--keep]
#                                        # installs `trap topo_down EXIT INT TERM` unless --keep
#   ns_exec ROLE cmd...                  # ROLE: cn wan home foreign foreign2 vm lan
#   vm_attach SITE; vm_move FROM TO; vm_site
#   topo_set_link HOST vmroam-wanem-args...   # re-run one access link's delay line
#   wait_for 'CONDITION' TIMEOUT_S [DESCRIPTION]   # from wait.sh, sourced here
#   ping_stats ROLE ADDR COUNT INTERVAL     # prints: median_ms sent received
#   draw_topology; topo_down
# Run directly: topology.sh up [options]  (stays up, prints how to enter it) |
#               topology.sh down SUFFIX | topology.sh draw
#
# Sites are plain routers here; agents' tests start daemons in them using the VMR_* variables.
# Functions print "topology: ..." and return non-zero on failure (77 = missing kernel feature).

export PATH="$PATH:/usr/sbin:/sbin"
# shellcheck source=wait.sh
source "$(dirname "${BASH_SOURCE[0]}")/wait.sh"

# ---- names and addresses (read-only for users) -------------------------------------------
VMR_SUFFIX=${VMR_SUFFIX:-$$}
# What topo_up builds (it narrows these by --sites, --vm-site none and --lan).
VMR_ROLES=(cn wan home foreign foreign2 vm)
VMR_SITES=(home foreign foreign2)
VMR_HOSTS=(cn home foreign foreign2)  # everything with an access link into wan

VMR_NS_CN=vmr-cn-$VMR_SUFFIX
VMR_NS_WAN=vmr-wan-$VMR_SUFFIX
VMR_NS_HOME=vmr-home-$VMR_SUFFIX
VMR_NS_FOREIGN=vmr-foreign-$VMR_SUFFIX
VMR_NS_FOREIGN2=vmr-foreign2-$VMR_SUFFIX
VMR_NS_VM=vmr-vm-$VMR_SUFFIX
VMR_NS_LAN=vmr-lan-$VMR_SUFFIX

VMR_WAN_IF=wan0                 # every host's interface towards the WAN
VMR_CN_ADDR=198.51.100.10
VMR_INET_NET=198.51.100.0/24
VMR_INET_GW=198.51.100.1
VMR_TRANSIT_NET=192.0.2.0/24
VMR_TRANSIT_GW=192.0.2.1
VMR_HOME_WAN=192.0.2.2          # HA's address on the WAN
VMR_FOREIGN_WAN=192.0.2.3       # FA1's care-of address
VMR_FOREIGN2_WAN=192.0.2.4      # FA2's care-of address
VMR_HOME_NET=10.1.0.0/24
VMR_HOME_LAN=10.1.0.1
VMR_HOME_BRIDGE=br-home
VMR_HOME_MAC=02:00:0a:01:00:01
VMR_FOREIGN_NET=10.2.0.0/24
VMR_FOREIGN_LAN=10.2.0.1
VMR_FOREIGN_BRIDGE=br-for       # also the VM-facing bridge of the foreign site
VMR_FOREIGN_MAC=02:00:0a:02:00:01
VMR_FOREIGN2_NET=10.3.0.0/24
VMR_FOREIGN2_LAN=10.3.0.1
VMR_FOREIGN2_BRIDGE=br-for2
VMR_FOREIGN2_MAC=02:00:0a:03:00:01
VMR_VM_IF=eth0                  # inside the vm namespace
VMR_VM_PORT=vm0                 # its peer: a port of whichever site bridge the VM is on
VMR_VM_ADDR=10.1.0.10
VMR_VM_PREFIX=24
VMR_VM_MAC=52:54:00:12:34:56
VMR_VM_GW=10.1.0.1
VMR_LAN_ADDR=10.1.0.20          # the home-link host of --lan
VMR_LAN_MAC=52:54:00:00:00:20
VMR_LAN_PORT=l-lan              # its port on br-home
# --ipv6 only (VMR_IPV6=1 once topo_up built it).
VMR_IPV6=0
VMR_CN_ADDR6=2001:db8:100::10
VMR_INET6_GW=2001:db8:100::1
VMR_TRANSIT6_GW=2001:db8:200::1
VMR_HOME_WAN6=2001:db8:200::2
VMR_HOME_NET6=2001:db8:1::/64
VMR_HOME_LAN6=2001:db8:1::1     # the home router's global address on br-home
VMR_HOME_LL6=fe80::aff:fe01:1   # its link-local (EUI-64 of VMR_HOME_MAC): the VM's IPv6 gateway
VMR_VM_ADDR6=2001:db8:1::10     # the VM's IPv6 home address
VMR_VM_GW6=$VMR_HOME_LL6

# Per-run state: wanem logs/pids; removed by topo_down unless VMR_KEEP_LOGS=1 or --keep.
VMR_RUN_DIR=${VMR_RUN_DIR:-/tmp/vmr-topo-$VMR_SUFFIX}
VMR_DELAY_MS=4
VMR_RATE_MBIT=100
VMR_LOSS_PCT=0
VMR_JITTER_MS=0
VMR_SEED=1
VMR_USE_WANEM=1
VMR_KEEP=0

_vmr_err() { echo "topology: $*" >&2; }

# Runs a command; on failure says which and returns 1.
_vmr_do() {
  local out
  if ! out=$("$@" 2>&1); then
    _vmr_err "failed: $* -- $out"
    return 1
  fi
}

# topo_ns ROLE: the namespace name of a role.
topo_ns() {
  case "${1:-}" in
    cn) echo "$VMR_NS_CN" ;;
    wan) echo "$VMR_NS_WAN" ;;
    home) echo "$VMR_NS_HOME" ;;
    foreign) echo "$VMR_NS_FOREIGN" ;;
    foreign2) echo "$VMR_NS_FOREIGN2" ;;
    vm) echo "$VMR_NS_VM" ;;
    lan) echo "$VMR_NS_LAN" ;;
    *) _vmr_err "unknown role '${1:-}' (cn wan home foreign foreign2 vm lan)"; return 1 ;;
  esac
}

# ns_exec ROLE cmd...: run a command inside a role's namespace.
ns_exec() {
  local ns
  ns=$(topo_ns "${1:-}") || return 1
  shift
  ip netns exec "$ns" "$@"
}

_vmr_site_bridge() {
  case "$1" in
    home) echo "$VMR_HOME_BRIDGE" ;;
    foreign) echo "$VMR_FOREIGN_BRIDGE" ;;
    foreign2) echo "$VMR_FOREIGN2_BRIDGE" ;;
    *) _vmr_err "unknown site '$1' (home foreign foreign2)"; return 1 ;;
  esac
}

# Locates the wanem binary: $VMR_WANEM, then a build dir next to the sources, then PATH.
_vmr_find_wanem() {
  if [ -n "${VMR_WANEM:-}" ] && [ -x "$VMR_WANEM" ]; then echo "$VMR_WANEM"; return 0; fi
  local top d
  top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  for d in "${VMROAM_BUILD_DIR:-}" "$top/build"; do
    if [ -n "$d" ] && [ -x "$d/tools/wanem/vmroam-wanem" ]; then echo "$d/tools/wanem/vmroam-wanem"; return 0; fi
  done
  command -v vmroam-wanem && return 0
  _vmr_err "vmroam-wanem not found: build it (ninja -C build tools/wanem/vmroam-wanem) or set VMR_WANEM"
  return 1
}

_vmr_sysctls() {
  local ns=$1 k
  # rp_filter off: agents route asymmetrically (tunnels); IPv6 off: no RS/DAD/MLD noise.
  for k in net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0; do
    _vmr_do ip netns exec "$ns" sysctl -q -w "$k" || return 1
  done
  if ip netns exec "$ns" test -e /proc/sys/net/ipv6/conf/all/disable_ipv6; then
    _vmr_do ip netns exec "$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 || return 1
    _vmr_do ip netns exec "$ns" sysctl -q -w net.ipv6.conf.default.disable_ipv6=1 || return 1
  fi
}

# _vmr_start_wanem HOST ARGS...: (re)start the delay line of HOST's access link in wan.
_vmr_start_wanem() {
  local host=$1 bin pidf log pid
  shift
  bin=$(_vmr_find_wanem) || return 1
  pidf=$VMR_RUN_DIR/wanem-$host.pid
  log=$VMR_RUN_DIR/wanem-$host.json
  _vmr_stop_wanem "$host" || return 1
  ip netns exec "$VMR_NS_WAN" "$bin" --a "w-$host" --b "q-$host" --realtime \
    --json-stats "$VMR_RUN_DIR/wanem-$host.stats.json" "$@" >"$log" 2>"$VMR_RUN_DIR/wanem-$host.err" &
  pid=$!
  echo "$pid" >"$pidf"
  # Ready once it holds both interfaces in promiscuous mode.
  if ! wait_for "_vmr_promiscuous w-$host && _vmr_promiscuous q-$host" 5 "vmroam-wanem to open w-$host and q-$host"; then
    _vmr_err "vmroam-wanem for $host did not start: $(cat "$VMR_RUN_DIR/wanem-$host.err" 2>/dev/null)"
    return 1
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    _vmr_err "vmroam-wanem for $host exited: $(cat "$VMR_RUN_DIR/wanem-$host.err" 2>/dev/null)"
    return 1
  fi
}

# _vmr_promiscuous IF: IF in wan is in promiscuous mode (the delay line holds it).
_vmr_promiscuous() { ip -d -n "$VMR_NS_WAN" link show "$1" | grep -q 'promiscuity [1-9]'; }

# Stops HOST's delay line (SIGTERM, it prints its counters into wanem-HOST.json).
_vmr_stop_wanem() {
  local pidf=$VMR_RUN_DIR/wanem-$1.pid pid
  [ -f "$pidf" ] || return 0
  pid=$(cat "$pidf")
  rm -f "$pidf"
  kill -TERM "$pid" 2>/dev/null || return 0
  wait_for "! kill -0 $pid" 3 "vmroam-wanem ($pid) to exit" || { kill -KILL "$pid" 2>/dev/null; true; }
  wait "$pid" 2>/dev/null || true
}

# The wanem arguments of a host's access link under the current settings.
_vmr_wanem_args() {
  echo --delay "${VMR_DELAY_MS}ms" --delay-ba 0 --jitter "${VMR_JITTER_MS}ms" --jitter-ba 0 \
    --loss "${VMR_LOSS_PCT}%" --loss-ba 0 --seed "$VMR_SEED"
}

# topo_set_link HOST ARGS...: restart HOST's (cn home foreign foreign2) access-link delay
# line with other vmroam-wanem arguments (--a w-HOST, host side, and --b q-HOST are fixed).
# E.g. topo_set_link cn --delay 4ms --delay-ba 0 --loss 10% --loss-ba 0 --seed 7
topo_set_link() {
  local host=${1:-}
  shift || true
  case " ${VMR_HOSTS[*]} " in *" $host "*) ;; *) _vmr_err "topo_set_link: unknown host '$host'"; return 1 ;; esac
  [ "$VMR_USE_WANEM" = 1 ] || { _vmr_err "topo_set_link: topology is up with --no-wanem"; return 1; }
  _vmr_start_wanem "$host" "$@"
}

# topo_wanem_stats HOST: the latest counters of HOST's delay line (JSON).
topo_wanem_stats() {
  cat "$VMR_RUN_DIR/wanem-${1:?host}.stats.json"
}

# _vmr_host_link HOST ADDR/PREFIX GW BRIDGE: HOST's access link into wan.
_vmr_host_link() {
  local host=$1 addr=$2 gw=$3 bridge=$4 ns
  ns=$(topo_ns "$host") || return 1
  _vmr_do ip -n "$ns" link add "$VMR_WAN_IF" type veth peer name "w-$host" netns "$VMR_NS_WAN" || return 1
  _vmr_do ip -n "$ns" addr add "$addr" dev "$VMR_WAN_IF" || return 1
  _vmr_do ip -n "$ns" link set "$VMR_WAN_IF" up || return 1
  _vmr_do ip -n "$ns" route add default via "$gw" || return 1
  if [ "$VMR_USE_WANEM" = 1 ]; then
    # vmroam-wanem carries GSO frames in a virtio-net header, which has no tunnel GSO types:
    # a tunnel super-packet (the eBPF data plane keeps GSO through encapsulation) would reach
    # the far side as plain TCP GSO that no device can segment, and be dropped. So the host's
    # side segments tunnel packets itself, as a NIC puts segments on a real WAN link.
    _vmr_do ip netns exec "$ns" ethtool -K "$VMR_WAN_IF" tx-ipxip4-segmentation off \
      tx-udp_tnl-segmentation off tx-udp_tnl-csum-segmentation off || return 1
    _vmr_do ip -n "$VMR_NS_WAN" link add "q-$host" type veth peer name "p-$host" || return 1
    _vmr_do ip -n "$VMR_NS_WAN" link set "p-$host" master "$bridge" up || return 1
    # The delay line's two ends are plain wires: the wan router must neither answer ARP on
    # them (it would offer its own MAC and pull traffic around the delay line) nor route
    # what arrives on them.
    local ifc
    for ifc in "q-$host" "w-$host"; do
      _vmr_do ip netns exec "$VMR_NS_WAN" sysctl -q -w "net.ipv4.conf.$ifc.arp_ignore=8" \
        "net.ipv4.conf.$ifc.forwarding=0" || return 1
      _vmr_do ip -n "$VMR_NS_WAN" link set "$ifc" up || return 1
    done
  else
    _vmr_do ip -n "$VMR_NS_WAN" link set "w-$host" master "$bridge" up || return 1
  fi
  if [ "$VMR_RATE_MBIT" != 0 ]; then
    if ! ip -n "$VMR_NS_WAN" link show "w-$host" >/dev/null ||
      ! tc -n "$VMR_NS_WAN" qdisc replace dev "w-$host" root tbf rate "${VMR_RATE_MBIT}mbit" \
        burst 64kb latency 50ms 2>"$VMR_RUN_DIR/tc.err"; then
      _vmr_err "tc tbf unavailable (kernel module sch_tbf): $(cat "$VMR_RUN_DIR/tc.err")"
      return 77
    fi
  fi
}

# _vmr_select_roles SITES VM_SITE LAN: narrow VMR_SITES/VMR_HOSTS/VMR_ROLES to what is built.
_vmr_select_roles() {
  local site vm_site=$2 lan=$3
  VMR_SITES=()
  for site in $1; do
    case "$site" in
      home | foreign | foreign2) VMR_SITES+=("$site") ;;
      *) _vmr_err "topo_up: unknown site '$site' in --sites (home foreign foreign2)"; return 1 ;;
    esac
  done
  [ ${#VMR_SITES[@]} -gt 0 ] || { _vmr_err "topo_up: --sites names no site"; return 1; }
  if [ "$vm_site" != none ] && [[ " ${VMR_SITES[*]} " != *" $vm_site "* ]]; then
    _vmr_err "topo_up: --vm-site '$vm_site' is not one of the sites built (${VMR_SITES[*]})"
    return 1
  fi
  if [ "$lan" = 1 ] && [[ " ${VMR_SITES[*]} " != *" home "* ]]; then
    _vmr_err "topo_up: --lan needs the home site"
    return 1
  fi
  VMR_HOSTS=(cn "${VMR_SITES[@]}")
  VMR_ROLES=(cn wan "${VMR_SITES[@]}")
  [ "$vm_site" = none ] || VMR_ROLES+=(vm)
  [ "$lan" = 0 ] || VMR_ROLES+=(lan)
}

# _vmr_site_addr SITE wan|lan|net|bridge|mac: one of a site's addresses or names.
_vmr_site_addr() {
  local v
  case "$1" in
    home | foreign | foreign2) ;;
    *) _vmr_err "unknown site '$1' (home foreign foreign2)"; return 1 ;;
  esac
  v=VMR_${1^^}_${2^^}
  echo "${!v}"
}

# _vmr_site_up SITE: the site router's access link, its bridge, and the wan's route to it.
_vmr_site_up() {
  local site=$1 wan net
  wan=$(_vmr_site_addr "$site" wan) || return 1
  net=$(_vmr_site_addr "$site" net) || return 1
  _vmr_host_link "$site" "$wan/24" "$VMR_TRANSIT_GW" br-transit || return $?
  _vmr_bridge "$(topo_ns "$site")" "$(_vmr_site_addr "$site" bridge)" "$(_vmr_site_addr "$site" mac)" \
    "$(_vmr_site_addr "$site" lan)/24" || return 1
  _vmr_do ip -n "$VMR_NS_WAN" route add "$net" via "$wan"
}

# _vmr_lan_up: the --lan host on the home link.
_vmr_lan_up() {
  _vmr_do ip -n "$VMR_NS_LAN" link add "$VMR_VM_IF" address "$VMR_LAN_MAC" type veth \
    peer name "$VMR_LAN_PORT" netns "$VMR_NS_HOME" || return 1
  _vmr_do ip -n "$VMR_NS_HOME" link set "$VMR_LAN_PORT" master "$VMR_HOME_BRIDGE" up || return 1
  _vmr_do ip -n "$VMR_NS_LAN" addr add "$VMR_LAN_ADDR/24" dev "$VMR_VM_IF" || return 1
  _vmr_do ip -n "$VMR_NS_LAN" link set "$VMR_VM_IF" up || return 1
  _vmr_do ip -n "$VMR_NS_LAN" route add default via "$VMR_HOME_LAN"
}

# _vmr_v6_on ROLE IF: IPv6 on one interface (the namespace's default is off, see _vmr_sysctls),
# without DAD (addresses are usable at once) and without listening to router advertisements.
_vmr_v6_on() {
  local ns k
  ns=$(topo_ns "$1") || return 1
  for k in accept_dad=0 accept_ra=0 disable_ipv6=0; do
    _vmr_do ip netns exec "$ns" sysctl -q -w "net.ipv6.conf.$2.$k" || return 1
  done
}

# _vmr_ipv6_up: --ipv6 (the drawing at the top): addresses, routes and forwarding.
_vmr_ipv6_up() {
  if ! ip netns exec "$VMR_NS_WAN" test -e /proc/sys/net/ipv6/conf/all/disable_ipv6; then
    _vmr_err "--ipv6: this kernel has no IPv6"
    return 77
  fi
  [[ " ${VMR_SITES[*]} " == *" home "* ]] || { _vmr_err "--ipv6 needs the home site"; return 1; }
  local ns
  for ns in "$VMR_NS_WAN" "$VMR_NS_HOME"; do
    _vmr_do ip netns exec "$ns" sysctl -q -w net.ipv6.conf.all.forwarding=1 || return 1
  done
  _vmr_v6_on wan br-inet && _vmr_v6_on wan br-transit || return 1
  _vmr_do ip -n "$VMR_NS_WAN" addr add "$VMR_INET6_GW/64" dev br-inet nodad || return 1
  _vmr_do ip -n "$VMR_NS_WAN" addr add "$VMR_TRANSIT6_GW/64" dev br-transit nodad || return 1
  _vmr_do ip -n "$VMR_NS_WAN" route add "$VMR_HOME_NET6" via "$VMR_HOME_WAN6" || return 1
  _vmr_v6_on cn "$VMR_WAN_IF" || return 1
  _vmr_do ip -n "$VMR_NS_CN" addr add "$VMR_CN_ADDR6/64" dev "$VMR_WAN_IF" nodad || return 1
  _vmr_do ip -n "$VMR_NS_CN" route add default via "$VMR_INET6_GW" || return 1
  _vmr_v6_on home "$VMR_WAN_IF" || return 1
  _vmr_do ip -n "$VMR_NS_HOME" addr add "$VMR_HOME_WAN6/64" dev "$VMR_WAN_IF" nodad || return 1
  _vmr_do ip -n "$VMR_NS_HOME" route add default via "$VMR_TRANSIT6_GW" || return 1
  # The link-local is given, not generated: a bridge without a port has no carrier and would
  # get none, and the VM's default route names it.
  _vmr_do ip netns exec "$VMR_NS_HOME" sysctl -q -w "net.ipv6.conf.$VMR_HOME_BRIDGE.addr_gen_mode=1" || return 1
  _vmr_v6_on home "$VMR_HOME_BRIDGE" || return 1
  _vmr_do ip -n "$VMR_NS_HOME" addr add "$VMR_HOME_LL6/64" dev "$VMR_HOME_BRIDGE" nodad || return 1
  _vmr_do ip -n "$VMR_NS_HOME" addr add "$VMR_HOME_LAN6/64" dev "$VMR_HOME_BRIDGE" nodad || return 1
  [[ " ${VMR_ROLES[*]} " == *" vm "* ]] || return 0
  _vmr_v6_on vm "$VMR_VM_IF" || return 1
  # A live-migrated guest keeps its neighbour cache (its link never loses carrier); the
  # namespace VM's veth does, so keep the cache as the guest would (Linux 5.18+).
  local f=/proc/sys/net/ipv6/conf/$VMR_VM_IF/ndisc_evict_nocarrier
  if ip netns exec "$VMR_NS_VM" test -e "$f"; then
    _vmr_do ip netns exec "$VMR_NS_VM" sysctl -q -w "net.ipv6.conf.$VMR_VM_IF.ndisc_evict_nocarrier=0" || return 1
  fi
  _vmr_do ip -n "$VMR_NS_VM" addr add "$VMR_VM_ADDR6/64" dev "$VMR_VM_IF" nodad || return 1
  _vmr_do ip -n "$VMR_NS_VM" route add default via "$VMR_VM_GW6" dev "$VMR_VM_IF"
}

_vmr_bridge() {
  local ns=$1 name=$2 mac=$3 addr=${4:-}
  _vmr_do ip -n "$ns" link add "$name" address "$mac" type bridge forward_delay 0 stp_state 0 || return 1
  [ -z "$addr" ] || _vmr_do ip -n "$ns" addr add "$addr" dev "$name" || return 1
  _vmr_do ip -n "$ns" link set "$name" up
}

# topo_up [options]: build the whole testbed; see the top of this file. A failed topo_up
# removes what it built, --keep or not.
topo_up() {
  local rc=0
  _vmr_up "$@" || rc=$?
  if [ "$rc" != 0 ] && [ "$VMR_KEEP" = 1 ]; then
    VMR_KEEP=0
    topo_down
  fi
  return "$rc"
}

_vmr_up() {
  local sites="home foreign foreign2" lan=0
  while [ $# -gt 0 ]; do
    case "$1" in
      --delay) VMR_DELAY_MS=${2:?--delay needs milliseconds}; shift 2 ;;
      --rate) VMR_RATE_MBIT=${2:?--rate needs Mbit/s (0 = no tbf)}; shift 2 ;;
      --loss) VMR_LOSS_PCT=${2:?--loss needs a percentage}; shift 2 ;;
      --jitter) VMR_JITTER_MS=${2:?--jitter needs milliseconds}; shift 2 ;;
      --seed) VMR_SEED=${2:?--seed needs a number}; shift 2 ;;
      --vm-site) VMR_VM_INITIAL_SITE=${2:?--vm-site needs a site or none}; shift 2 ;;
      --sites) sites=${2:?--sites needs a list of sites}; shift 2 ;;
      --lan) lan=1; shift ;;
      --ipv6) VMR_IPV6=1; shift ;;
      --no-wanem) VMR_USE_WANEM=0; shift ;;
      --keep) VMR_KEEP=1; shift ;;
      *) _vmr_err "topo_up: unknown option '$1'"; return 1 ;;
    esac
  done
  local num='^[0-9]+([.][0-9]+)?$'
  for v in VMR_DELAY_MS VMR_RATE_MBIT VMR_LOSS_PCT VMR_JITTER_MS VMR_SEED; do
    [[ ${!v} =~ $num ]] || { _vmr_err "topo_up: ${v} '${!v}' is not a number"; return 1; }
  done
  _vmr_select_roles "$sites" "${VMR_VM_INITIAL_SITE:-home}" "$lan" || return 1
  if [ "$(id -u)" != 0 ]; then
    _vmr_err "needs root (CAP_NET_ADMIN) for network namespaces"
    return 77
  fi
  if [ "$VMR_KEEP" = 0 ]; then
    trap topo_down EXIT
    trap 'topo_down; exit 130' INT
    trap 'topo_down; exit 143' TERM
  fi
  mkdir -p "$VMR_RUN_DIR" || return 1

  local role ns
  for role in "${VMR_ROLES[@]}"; do
    ns=$(topo_ns "$role")
    if ip netns list | grep -qw "$ns"; then _vmr_err "namespace $ns exists already"; return 1; fi
    _vmr_do ip netns add "$ns" || return 1
    _vmr_sysctls "$ns" || return 1
    _vmr_do ip -n "$ns" link set lo up || return 1
  done

  # Feature probes with a clear skip reason.
  if ! ip -n "$VMR_NS_WAN" link add br-inet address 02:00:c6:33:64:01 type bridge forward_delay 0 \
    2>"$VMR_RUN_DIR/probe.err"; then
    _vmr_err "bridge devices unavailable: $(cat "$VMR_RUN_DIR/probe.err")"
    return 77
  fi
  if ! ip -n "$VMR_NS_WAN" link add vmr-probe0 type veth peer name vmr-probe1 2>"$VMR_RUN_DIR/probe.err"; then
    _vmr_err "veth devices unavailable: $(cat "$VMR_RUN_DIR/probe.err")"
    return 77
  fi
  ip -n "$VMR_NS_WAN" link del vmr-probe0

  # wan: the internet router.
  _vmr_do ip -n "$VMR_NS_WAN" addr add "$VMR_INET_GW/24" dev br-inet || return 1
  _vmr_do ip -n "$VMR_NS_WAN" link set br-inet up || return 1
  _vmr_bridge "$VMR_NS_WAN" br-transit 02:00:c0:00:02:01 "$VMR_TRANSIT_GW/24" || return 1

  # Hosts and their access links, and each site's bridge (its subnet, where a VM lands).
  local rc=0 site
  _vmr_host_link cn "$VMR_CN_ADDR/24" "$VMR_INET_GW" br-inet || return $?
  for site in "${VMR_SITES[@]}"; do
    _vmr_site_up "$site" || return $?
  done

  # The VM: one veth whose site end moves between site bridges.
  if [ "${VMR_VM_INITIAL_SITE:-home}" != none ]; then
    vm_attach "${VMR_VM_INITIAL_SITE:-home}" || return 1
    _vmr_do ip -n "$VMR_NS_VM" addr add "$VMR_VM_ADDR/$VMR_VM_PREFIX" dev "$VMR_VM_IF" || return 1
    _vmr_do ip -n "$VMR_NS_VM" link set "$VMR_VM_IF" up || return 1
    _vmr_do ip -n "$VMR_NS_VM" route add default via "$VMR_VM_GW" || return 1
  fi
  [ "$lan" = 0 ] || _vmr_lan_up || return 1
  if [ "$VMR_IPV6" = 1 ]; then _vmr_ipv6_up || return $?; fi

  # Delay lines last, once every interface exists.
  if [ "$VMR_USE_WANEM" = 1 ]; then
    local host
    for host in "${VMR_HOSTS[@]}"; do
      # shellcheck disable=SC2046
      _vmr_start_wanem "$host" $(_vmr_wanem_args) || return 1
    done
  fi

  # Up when the correspondent reaches every site router across the WAN (unless loss is set,
  # which would make this flaky; then wait for the links only).
  local addr
  for site in "${VMR_SITES[@]}"; do
    addr=$(_vmr_site_addr "$site" wan)
    wait_for "ip netns exec $VMR_NS_CN ping -c1 -W1 $addr" 10 "cn to reach $addr across the WAN" || return 1
  done
  if [ "$VMR_IPV6" = 1 ]; then
    wait_for "ip netns exec $VMR_NS_CN ping -6 -c1 -W1 $VMR_HOME_WAN6" 10 "cn to reach $VMR_HOME_WAN6 across the WAN" ||
      return 1
  fi
  [ "$VMR_KEEP" = 0 ] || topo_keep
  return $rc
}

# topo_keep: how to look around in a topology left standing.
topo_keep() {
  local role
  echo "topology vmr-*-$VMR_SUFFIX is up (delay ${VMR_DELAY_MS} ms one way, rate ${VMR_RATE_MBIT} Mbit/s)."
  echo "Enter a namespace:"
  for role in "${VMR_ROLES[@]}"; do
    printf '  %-9s ip netns exec %s bash\n' "$role" "$(topo_ns "$role")"
  done
  echo "Delay-line logs: $VMR_RUN_DIR"
  echo "Tear down: $(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/topology.sh down $VMR_SUFFIX"
}

# topo_down [SUFFIX]: remove every namespace of this run (or of SUFFIX's run), every process in
# them (delay lines, daemons, iperf3 ...), and the run dir. Idempotent; safe from a trap.
topo_down() {
  local suffix=${1:-$VMR_SUFFIX} ns pid pids=() host
  # Delay lines first, so their final counters land in the run dir.
  if [ "$suffix" = "$VMR_SUFFIX" ]; then
    for host in "${VMR_HOSTS[@]}"; do _vmr_stop_wanem "$host" 2>/dev/null || true; done
  fi
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^vmr-[a-z0-9]+-${suffix}\$"); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
      kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
    done
  done
  for pid in "${pids[@]}"; do
    wait_for "! kill -0 $pid" 3 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  done
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^vmr-[a-z0-9]+-${suffix}\$"); do
    ip netns del "$ns" 2>/dev/null || _vmr_err "could not delete namespace $ns"
  done
  if [ "$suffix" != "$VMR_SUFFIX" ]; then
    rm -rf "/tmp/vmr-topo-$suffix"
  elif [ "${VMR_KEEP_LOGS:-0}" != 1 ] && [ "$VMR_KEEP" = 0 ]; then
    rm -rf "$VMR_RUN_DIR"
  fi
  [ "$suffix" = "$VMR_SUFFIX" ] && trap - EXIT INT TERM
  return 0
}

# vm_site: the site whose bridge the VM is on (nothing if detached).
vm_site() {
  local site
  for site in "${VMR_SITES[@]}"; do
    if ip -n "$(topo_ns "$site")" link show "$VMR_VM_PORT" >/dev/null 2>&1; then
      echo "$site"
      return 0
    fi
  done
  return 1
}

# vm_attach SITE: put the VM's link on SITE's bridge, wherever it is now. The VM side (address,
# MAC, gateway) is untouched; its carrier drops and returns, as after a live migration.
vm_attach() {
  local site=${1:-} bridge ns cur
  bridge=$(_vmr_site_bridge "$site") || return 1
  ns=$(topo_ns "$site")
  cur=$(vm_site || true)
  if [ -z "$cur" ]; then
    if ! ip -n "$VMR_NS_VM" link show "$VMR_VM_IF" >/dev/null 2>&1; then
      _vmr_do ip -n "$VMR_NS_VM" link add "$VMR_VM_IF" address "$VMR_VM_MAC" type veth \
        peer name "$VMR_VM_PORT" netns "$ns" || return 1
    else
      _vmr_err "vm_attach: the VM's port is in no site namespace"
      return 1
    fi
  elif [ "$cur" != "$site" ]; then
    _vmr_do ip -n "$(topo_ns "$cur")" link set "$VMR_VM_PORT" netns "$ns" || return 1
  fi
  _vmr_do ip -n "$ns" link set "$VMR_VM_PORT" master "$bridge" || return 1
  _vmr_do ip -n "$ns" link set "$VMR_VM_PORT" up || return 1
}

# vm_move FROM TO: move the VM's link from FROM's bridge to TO's (fails if it is not on FROM).
vm_move() {
  local from=${1:-} to=${2:-} cur
  _vmr_site_bridge "$from" >/dev/null || return 1
  _vmr_site_bridge "$to" >/dev/null || return 1
  cur=$(vm_site || true)
  if [ "$cur" != "$from" ]; then
    _vmr_err "vm_move: the VM is on '${cur:-nowhere}', not on '$from'"
    return 1
  fi
  vm_attach "$to"
}

# ping_stats ROLE ADDR COUNT INTERVAL: ping from ROLE; prints "median_ms sent received"
# (median of the replies' RTTs; "nan" if none came back).
ping_stats() {
  local role=$1 addr=$2 count=$3 interval=$4 out
  out=$(ns_exec "$role" ping -n -c "$count" -i "$interval" -W 1 "$addr" 2>&1) || true
  awk -v count="$count" '
    /time=/ { for (i = 1; i <= NF; i++) if ($i ~ /^time=/) { sub(/^time=/, "", $i); r[n++] = $i + 0 } }
    END {
      for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
      if (n == 0) m = "nan"; else if (n % 2) m = r[int(n / 2)]; else m = (r[n / 2 - 1] + r[n / 2]) / 2
      print m, count, n + 0
    }' <<<"$out"
}

# draw_topology: the drawing at the top of this file.
draw_topology() {
  awk 'NR > 1 && /^# Use:/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"
}

# Run as a program: up (stays up), down SUFFIX, draw.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-}" in
    up) shift; topo_up --keep "$@" ;;
    down) topo_down "${2:?usage: topology.sh down SUFFIX}" ;;
    draw) draw_topology ;;
    *) echo "usage: $0 up [topo_up options] | down SUFFIX | draw" >&2; exit 2 ;;
  esac
fi
