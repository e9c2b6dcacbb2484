#!/usr/bin/env bash
# Home agents in a cluster (docs/operations.md): real vmroam-ha processes, each in a namespace
# of its own, on a real etcd (one member or more, each in its own namespace), on the shared
# testbed (topology.sh) with the agents' configs of agents.sh. Source after topology.sh and
# agents.sh; set HAS and MEMBERS first.
#
#        br-home 10.1.0.1 (home site router)
#          |        |
#         h0       h0
#      ha1 (vmroam-ha)   ha2 (vmroam-ha)     h0 10.1.0.21 / 10.1.0.22; the active one also
#         c0       c0                        holds 10.1.0.2/24 (the HA service address)
#          |        |
#   ctl (vmr-ctl-PID): br-ctl 172.31.0.0/24 ---- e1 .11, e2 .12, … (etcd members)
#                                                ha1 .21, ha2 .22, …
#
#   HAS=(ha1 ha2) MEMBERS=(e1 e2 e3)  # before sourcing: the HAs' and the etcd members' names
#                        # (haN is 172.31.0.2N and 10.1.0.2N, eN 172.31.0.1N)
#   cluster_need HA_BIN NAME [TOOL…]  # exit 77 naming the first of etcd, etcdctl, jq, curl,
#                        # vmroamctl and TOOL… that is missing; sets CTL_BIN (vmroamctl next to
#                        # HA_BIN), S, NS_CTL, SERVICE (10.1.0.2) and note's prefix NAME
#   cluster_on_cleanup CMD  # CMD runs at cleanup, first (before the HAs and etcd are killed)
#   cluster_up [topo_up ARGS…]  # the testbed (its exit status when topo_up fails), the cleanup
#                        # traps, the control network, a namespace per member and per HA, the
#                        # HAs' home links (h0 on br-home)
#   cluster_etcd_start MEMBER [NAME INITIAL STATE]  # etcd NAME (default MEMBER) in MEMBER's
#                        # namespace at its address; INITIAL, STATE: --initial-cluster (default
#                        # all MEMBERS) and --initial-cluster-state (default new); extra etcd
#                        # arguments in $CLUSTER_ETCD_ARGS; its pid in $VMR_RUN_DIR/MEMBER.pid
#   cluster_etcd_up      # every member started; fails unless the cluster is healthy in 30 s
#   etcd_ctl ARGS…       # etcdctl against $CTL_ENDPOINTS (default: every member)
#   cluster_agents_setup LIFETIME_S [CLUSTER_JSON]  # agents.sh's configs (the FAs register with
#                        # SERVICE), and HA's $VMR_AGENTS_DIR/HA.json: h0, its own store and API
#                        # socket, "cluster" with every member, lease TTL 2 s, plus CLUSTER_JSON
#   ha_start HA [TIMEOUT_S]  # runs HA in its namespace (log $VMR_AGENTS_DIR/HA.log); fails
#                        # unless its API answers within TIMEOUT_S (default 15)
#   ha_pid HA; alive HA; role_of HA; has_service HA  # pid, running?, cluster role, holds SERVICE?
#   leader               # the HA named by etcd's leader key
#   metric HA NAME       # the value of metric NAME at HA's /metrics
#   vctl HA ARGS…        # vmroamctl against HA's API
#   cluster_addr NAME    # NAME's (haN's, eN's) address on the control network
#   cluster_addr_monitor # records, per HA, when the kernel adds and deletes addresses on its
#                        # h0 (`ip -ts monitor`; stopped at cleanup), for:
#   addr_event_ms HA added|deleted AFTER_MS  # epoch ms of the first time SERVICE was added to
#                        # (deleted from) HA's h0 at or after AFTER_MS; nothing printed if not
#   event_ms HA added|deleted AFTER_MS  # the same, waiting up to 5 s for the monitor to log it
#   cluster_fail_log FILE  # fail also prints the last lines of FILE
#   fail MSG             # prints FAIL: MSG and the last lines of the logs, exits 1
#   note MSG; ns_of NAME; now_ms
# At exit: the cleanup commands, then every HA and member killed, the agents stopped, the
# namespaces and the testbed gone.

# shellcheck source=wait.sh
source "$(dirname "${BASH_SOURCE[0]}")/wait.sh"

LEADER_KEY=/vmroam/homes/10.1.0.0_24/leader
_vmr_cluster_hooks=()
_vmr_cluster_name=cluster
_vmr_cluster_mon_pids=()
_vmr_cluster_fail_logs=()

cluster_need() {
  local tool
  HA_BIN=$1
  _vmr_cluster_name=$2
  CTL_BIN=$(dirname "$HA_BIN")/../tools/ctl/vmroamctl
  for tool in etcd etcdctl jq curl "$CTL_BIN" "${@:3}"; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed (./dev setup)"; exit 77; }
  done
  S=$VMR_SUFFIX
  NS_CTL=vmr-ctl-$S
  SERVICE=10.1.0.2
}

fail() {
  echo "FAIL: $*" >&2
  local f
  for f in "$VMR_AGENTS_DIR"/ha*.log "$VMR_AGENTS_DIR"/foreign.log "$VMR_RUN_DIR"/e*.log \
    "${_vmr_cluster_fail_logs[@]}"; do
    [ -f "$f" ] && { echo "--- $f" >&2; tail -n 25 "$f" >&2; }
  done
  exit 1
}
note() { echo "$_vmr_cluster_name: $*"; }
ns_of() { echo "vmr-$1-$S"; }
now_ms() { echo $((${EPOCHREALTIME/[.,]/} / 1000)); }
# The control-network address of an HA (haN) or an etcd member (eN).
cluster_addr() {
  case "$1" in ha*) echo "172.31.0.2${1#ha}" ;; *) echo "172.31.0.1${1#e}" ;; esac
}

cluster_on_cleanup() { _vmr_cluster_hooks+=("$1"); }
cluster_fail_log() { _vmr_cluster_fail_logs+=("$1"); }

_vmr_cluster_down() {
  local hook n pid
  for hook in "${_vmr_cluster_hooks[@]}"; do eval "$hook"; done
  for pid in "${_vmr_cluster_mon_pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  for n in "${HAS[@]}" "${MEMBERS[@]}"; do
    [ -f "$VMR_RUN_DIR/$n.pid" ] || continue
    pid=$(cat "$VMR_RUN_DIR/$n.pid")
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  agents_stop 2>/dev/null
  for n in "${HAS[@]}" "${MEMBERS[@]}" ctl; do ip netns del "$(ns_of "$n")" 2>/dev/null; done
  topo_down
}

_vmr_cluster_ns() {
  local ns
  ns=$(ns_of "$1")
  ip netns add "$ns" && ip -n "$ns" link set lo up || return 1
  ip netns exec "$ns" sysctl -q -w net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
    net.ipv4.conf.default.rp_filter=0 net.ipv6.conf.all.disable_ipv6=1 >/dev/null
}

# _vmr_cluster_ctl_attach NAME: NAME's namespace, its c0 on br-ctl.
_vmr_cluster_ctl_attach() {
  local ns
  ns=$(ns_of "$1")
  _vmr_cluster_ns "$1" &&
    ip link add c0 netns "$ns" type veth peer name "c-$1" netns "$NS_CTL" &&
    ip -n "$NS_CTL" link set "c-$1" master br-ctl up &&
    ip -n "$ns" addr add "$(cluster_addr "$1")/24" dev c0 && ip -n "$ns" link set c0 up
}

cluster_up() {
  local m h i ns
  topo_up "$@" || return $?
  trap _vmr_cluster_down EXIT
  trap '_vmr_cluster_down; exit 130' INT
  trap '_vmr_cluster_down; exit 143' TERM
  _vmr_cluster_ns ctl || fail "namespace ctl"
  ip -n "$NS_CTL" link add br-ctl type bridge && ip -n "$NS_CTL" link set br-ctl up || fail "br-ctl"
  for m in "${MEMBERS[@]}"; do _vmr_cluster_ctl_attach "$m" || fail "etcd member namespace $m"; done
  for h in "${HAS[@]}"; do
    _vmr_cluster_ctl_attach "$h" || fail "HA namespace $h"
    # h0: a port of br-home with the host's own address (the active HA adds the service
    # address next to it; without an address of its own the kernel would flush the host's
    # routes on h0 whenever the service address goes).
    i=${h#ha}
    ns=$(ns_of "$h")
    ip link add h0 netns "$ns" type veth peer name "h-$h" netns "$VMR_NS_HOME" &&
      ip -n "$VMR_NS_HOME" link set "h-$h" master "$VMR_HOME_BRIDGE" up &&
      ip -n "$ns" link set h0 address "02:00:0a:01:00:2$i" up &&
      ip -n "$ns" addr add "10.1.0.2$i/24" dev h0 &&
      ip -n "$ns" route add default via "$VMR_HOME_LAN" dev h0 || fail "home link of $h"
  done
}

_vmr_cluster_list() {  # _vmr_cluster_list FORMAT SEP: FORMAT (%s: a member) for every member
  local m out=
  for m in "${MEMBERS[@]}"; do out+="${out:+$2}$(printf "$1" "$m" "$(cluster_addr "$m")")"; done
  echo "$out"
}

cluster_etcd_start() {
  local m=$1 name=${2:-$1} addr initial
  addr=$(cluster_addr "$m")
  initial=${3:-$(_vmr_cluster_list '%s=http://%s:2380' ,)}
  # shellcheck disable=SC2086  # CLUSTER_ETCD_ARGS: words, no spaces inside
  ip netns exec "$(ns_of "$m")" etcd --name "$name" --data-dir "$VMR_RUN_DIR/$name.etcd" \
    --listen-client-urls "http://$addr:2379" --advertise-client-urls "http://$addr:2379" \
    --listen-peer-urls "http://$addr:2380" --initial-advertise-peer-urls "http://$addr:2380" \
    --initial-cluster "$initial" --initial-cluster-token "vmr-$S" --initial-cluster-state "${4:-new}" \
    ${CLUSTER_ETCD_ARGS:-} --logger zap --log-level warn >"$VMR_RUN_DIR/$name.log" 2>&1 &
  echo $! >"$VMR_RUN_DIR/$m.pid"
}

etcd_ctl() {
  ip netns exec "$(ns_of "${MEMBERS[0]}")" env ETCDCTL_API=3 etcdctl --dial-timeout=1s --command-timeout=2s \
    --endpoints "${CTL_ENDPOINTS:-$(_vmr_cluster_list '%.0s%s:2379' ,)}" "$@"
}

cluster_etcd_up() {
  local m
  for m in "${MEMBERS[@]}"; do cluster_etcd_start "$m"; done
  wait_for "etcd_ctl endpoint health --cluster" 30 "${#MEMBERS[@]} healthy etcd member(s)" ||
    fail "etcd did not come up: $(tail -n 5 "$VMR_RUN_DIR/${MEMBERS[0]}.log")"
}

cluster_agents_setup() {
  local h endpoints extra=${2:-}
  [ -n "$extra" ] || extra='{}'
  endpoints=$(_vmr_cluster_list '%.0s%s:2379' ' ' | jq -R 'split(" ")')
  VMR_HOME_WAN=$SERVICE
  agents_setup --lifetime "$1" || fail "agents_setup"
  for h in "${HAS[@]}"; do
    jq --arg n "$h" --arg d "$VMR_AGENTS_DIR" --arg s "$SERVICE" --argjson e "$endpoints" \
      --argjson extra "$extra" '
      .home_interface = "h0" | .store.path = ($d + "/" + $n + ".db") | .api.unix_socket = ($d + "/" + $n + ".sock")
      | .cluster = {etcd: $e, node: $n, service_address: ($s + "/24"), lease_ttl_s: 2} + $extra' \
      "$VMR_AGENTS_DIR/home.json" >"$VMR_AGENTS_DIR/$h.json" || fail "config of $h"
  done
}

ha_start() {
  local h=$1 timeout=${2:-15} pid
  ip netns exec "$(ns_of "$h")" "$HA_BIN" -c "$VMR_AGENTS_DIR/$h.json" >>"$VMR_AGENTS_DIR/$h.log" 2>&1 &
  pid=$!
  echo "$pid" >"$VMR_RUN_DIR/$h.pid"
  wait_for "agent_api $h GET /v1/health || ! kill -0 $pid" "$timeout" "the API of $h" && kill -0 "$pid" 2>/dev/null ||
    fail "$h did not come up"
}
ha_pid() { cat "$VMR_RUN_DIR/$1.pid"; }
alive() { kill -0 "$(ha_pid "$1")" 2>/dev/null; }
role_of() { agent_api "$1" GET /v1/health 2>/dev/null | jq -r '.cluster.role // empty'; }
has_service() { ip -n "$(ns_of "$1")" -4 addr show dev h0 | grep -q "inet $SERVICE/"; }
leader() { etcd_ctl get "$LEADER_KEY" --print-value-only 2>/dev/null; }
metric() { agent_api "$1" GET /metrics 2>/dev/null | awk -v m="$2" '$1 == m { print $2 }'; }
vctl() { "$CTL_BIN" --api "$VMR_AGENTS_DIR/$1.sock" "${@:2}"; }

# The service address's comings and goings on each HA host, timestamped by the kernel's
# notification as `ip -ts monitor` prints it ("[2026-12-05T11:12:07.897133] …", "[…] Deleted
# …"): a takeover or step-down time is when the address changed, not when a poll noticed.
cluster_addr_monitor() {
  local h
  for h in "${HAS[@]}"; do
    ip -n "$(ns_of "$h")" -ts monitor address dev h0 >"$VMR_RUN_DIR/addr-$h.log" 2>&1 &
    _vmr_cluster_mon_pids+=("$!")
  done
}
addr_event_ms() {
  local ts ms
  while read -r ts; do
    ms=$(date -d "$ts" +%s%3N) || continue
    [ "$ms" -ge "$3" ] && { echo "$ms"; return 0; }
  done < <(awk -v want="$2" -v a="inet $SERVICE/" 'index($0, a) {
      del = ($2 == "Deleted") ? "deleted" : "added"
      if (del == want) print substr($1, 2, length($1) - 2) }' "$VMR_RUN_DIR/addr-$1.log")
  return 1
}
event_ms() {  # the monitor writes a moment after the kernel
  wait_for "addr_event_ms $1 $2 $3" 5 "the monitor to log $1's service address $2" >/dev/null &&
    addr_event_ms "$1" "$2" "$3"
}
