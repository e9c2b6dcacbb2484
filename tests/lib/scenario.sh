#!/usr/bin/env bash
# The frame of an end-to-end test on the netns testbed with the real guest
# (tests/vm/vm_*_test.sh, tests/libvirt/libvirt_test.sh): the build directory, the root
# check, timed steps, failing with the run's logs, the topology brought up (100 Mbit/s, 4 ms per
# access link: 8 ms RTT) and torn down on every exit, the run's files kept on failure or KEEP=1.
# bash; source after topology.sh.
#
#   scenario_begin NAME BUILD_DIR WHY_ROOT
#                      $build (absolute), $VMROAM_BUILD_DIR, the clock of `step`; not root:
#                      "SKIP: needs root (WHY_ROOT)", exit 77. NAME: files are kept in
#                      /tmp/vmroam-NAME
#   scenario_up        topo_up --delay 4 --rate 100 (a missing kernel feature: SKIP, exit 77),
#                      then traps: on exit the test's own `scenario_teardown` (it defines it:
#                      stop what it started), the background probe $probe_pid ended, the files
#                      kept, topo_down
#   step TEXT          "== [  12.3s] TEXT"
#   die TEXT           "FAIL: TEXT", the test's `scenario_logs` (it defines it: tails of its
#                      logs), exit 1 (files kept)
#   $failed            1 keeps the files even when the test ends well (a deferred failure)

_scn_name=
_scn_t0=$EPOCHREALTIME
failed=0
probe_pid=

scenario_begin() {
  _scn_name=${1:?scenario_begin NAME BUILD_DIR WHY_ROOT}
  build=${2:?usage: $0 BUILD_DIR}
  build=$(cd "$build" && pwd) || exit 1
  export VMROAM_BUILD_DIR=$build
  _scn_t0=$EPOCHREALTIME
  [ "$(id -u)" = 0 ] || { echo "SKIP: needs root (${3:-network namespaces})"; exit 77; }
}

step() { printf '== [%6.1fs] %s\n' "$(awk -v a="$EPOCHREALTIME" -v b="$_scn_t0" 'BEGIN{print a-b}')" "$*"; }

die() {
  echo "FAIL: $*"
  declare -F scenario_logs >/dev/null && scenario_logs
  failed=1
  exit 1
}

_scn_cleanup() {
  [ -n "$probe_pid" ] && kill -TERM "$probe_pid" 2>/dev/null
  declare -F scenario_teardown >/dev/null && scenario_teardown
  if [ "${KEEP:-0}" = 1 ] || [ "$failed" = 1 ]; then
    mkdir -p "/tmp/vmroam-$_scn_name" && cp -r "$VMR_RUN_DIR"/. "/tmp/vmroam-$_scn_name/" 2>/dev/null
    echo "run files kept in /tmp/vmroam-$_scn_name"
  fi
  topo_down
}

scenario_up() {
  local rc
  step "topology: WAN 100 Mbit/s, 4 ms per access link (8 ms RTT)"
  topo_up --delay 4 --rate 100
  rc=$?
  [ "$rc" = 77 ] && { echo "SKIP: missing kernel feature (see above)"; exit 77; }
  [ "$rc" = 0 ] || { echo "FAIL: topo_up"; exit 1; }
  trap _scn_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}
