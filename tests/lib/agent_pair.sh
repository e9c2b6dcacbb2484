#!/usr/bin/env bash
# A home agent and a foreign agent the test configures and starts itself, on the shared testbed
# (topology.sh) with the home and foreign sites only: no VM namespace, layer 2 between the
# routers (--no-wanem --rate 0). Sources topology.sh.
#
#   home (vmr-home-PID)                          foreign (vmr-foreign-PID)
#   br-home 10.1.0.1/24                          br-for 10.2.0.1/24
#   wan0 192.0.2.2/24 ---------- wan ------------ wan0 192.0.2.3/24
#
#   agent_pair_up NAME   # S, NH, NF, RUN=/tmp/vmr-NAME-PID (made), KEY (the FA-HA key),
#                        # failed=0, ha_pid="" fa_pid=""; brings the testbed up (exit 77 when
#                        # the kernel lacks something, 1 when it fails) and traps cleanup
#   agent_pair_on_cleanup CMD   # CMD runs at cleanup, after the agents stop, before RUN goes
#   stop_agent VAR       # kills and reaps the agent whose pid VAR holds; empties VAR
#   fail MSG             # prints FAIL: MSG and marks the test failed
#   agent_pair_ha_json STORE API   # the HA's config: home prefix 10.1.0.0/24 on br-home, the FA
#                        # 192.0.2.3 with KEY; STORE is its store path, API its "api": {…} member
#   agent_pair_fa_json STORE API   # the FA's: the VM link br-for, the HA 192.0.2.2 with KEY,
#                        # gratuitous ARP, no arrival detection; STORE and API as above
#   start_agent ha|fa [READY]  # runs $HA (or $FA) in its site with $RUN/ha.json (fa.json),
#                        # stderr appended to $RUN/ha.log (fa.log), its pid in ha_pid (fa_pid);
#                        # waits 10 s for the shell condition READY (default: the API socket
#                        # $RUN/ha.sock, or fa.sock, exists) and exits 1 if it never holds
#   ctl WANT_RC ARGS…    # runs $CTL ARGS…: stdout in $out, stderr in $err; fails unless it
#                        # exits WANT_RC
#   jcheck EXPR DESC     # fails with DESC unless the Python expression EXPR holds for j, the
#                        # JSON in $out
# At exit: the agents stop, the testbed goes, and on failure the last lines of $RUN/ha.log and
# $RUN/fa.log are printed.

# shellcheck source=topology.sh
source "$(dirname "${BASH_SOURCE[0]}")/topology.sh"

_vmr_pair_hooks=()

fail() {
  echo "FAIL: $*"
  failed=1
}

stop_agent() {
  local pid=${!1}
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  printf -v "$1" '%s' ""
}

agent_pair_on_cleanup() { _vmr_pair_hooks+=("$1"); }

_vmr_pair_cleanup() {
  local hook
  stop_agent ha_pid
  stop_agent fa_pid
  topo_down
  if [[ $failed -ne 0 ]]; then
    echo "--- ha log"
    tail -20 "$RUN/ha.log"
    echo "--- fa log"
    tail -20 "$RUN/fa.log"
  fi
  for hook in "${_vmr_pair_hooks[@]}"; do eval "$hook"; done
  rm -rf "$RUN"
}

agent_pair_up() {
  S=$$
  NH=$VMR_NS_HOME NF=$VMR_NS_FOREIGN
  RUN=/tmp/vmr-$1-$S
  KEY=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
  failed=0
  ha_pid="" fa_pid=""
  [[ -c /dev/net/tun ]] || { echo "SKIP: no /dev/net/tun"; exit 77; }
  local rc=0
  topo_up --sites "home foreign" --vm-site none --no-wanem --rate 0 || rc=$?
  [[ $rc -eq 77 ]] && { echo "SKIP: the testbed needs what the kernel lacks (see above)"; exit 77; }
  [[ $rc -eq 0 ]] || { echo "FAIL: the testbed did not come up"; exit 1; }
  trap _vmr_pair_cleanup EXIT INT TERM
  mkdir -p "$RUN"
}

agent_pair_ha_json() {
  cat <<JSON
{ "address": "192.0.2.2", "home_prefix": "10.1.0.0/24", "home_interface": "br-home",
  "foreign_agents": [ { "address": "192.0.2.3", "fa_ha": { "spi": 1000, "key": "$KEY" } } ],
  "store": { "path": "$1" }, $2 }
JSON
}

agent_pair_fa_json() {
  cat <<JSON
{ "address": "192.0.2.3", "vm_interface": "br-for",
  "home_agents": [ { "address": "192.0.2.2", "fa_ha": { "spi": 1000, "key": "$KEY" } } ],
  "delivery": { "gateway_mode": "garp", "detect_arrival": false },
  "store": { "path": "$1" }, $2 }
JSON
}

start_agent() {
  local role=$1 ns exe
  local ready=${2:-"[[ -S $RUN/$1.sock ]]"}
  case $role in
    ha) ns=$NH exe=$HA ;;
    fa) ns=$NF exe=$FA ;;
    *) echo "start_agent: ha or fa, not '$role'" >&2; exit 2 ;;
  esac
  ip netns exec "$ns" "$exe" -c "$RUN/$role.json" 2>>"$RUN/$role.log" &
  printf -v "${role}_pid" '%s' "$!"
  wait_for "$ready" 10 "vmroam-$role to be ready" || { fail "vmroam-$role did not start"; exit 1; }
}

ctl() {
  local want=$1 rc
  shift
  out=$("$CTL" "$@" 2>"$RUN/err")
  rc=$?
  err=$(cat "$RUN/err")
  if [[ $rc -ne $want ]]; then fail "vmroamctl $* exited $rc, want $want: $err"; return 1; fi
  echo "ok: vmroamctl $* -> $rc ${err:+($err)}"
}

jcheck() {
  J="$out" /usr/bin/python3 -c "import json,os,sys; j=json.loads(os.environ['J']); sys.exit(0 if ($1) else 1)" \
    2>/dev/null || fail "$2: got $out"
}
