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
