#!/bin/sh
# The one way vmroam's shell tests and benchmarks wait: poll a condition with a deadline.
# Never a bare `sleep` for "long enough" (the machine may be slow and shared): say what is
# awaited and how long is too long.
#
#   . tests/lib/wait.sh
#   wait_for CONDITION TIMEOUT_S [DESCRIPTION]
#       CONDITION is shell code, evaluated in the caller's shell (so functions, pipelines, `!`,
#       `&&` and variable assignments work; its output is discarded) every 50 ms until it
#       succeeds. It is evaluated at least once, also with TIMEOUT_S 0. TIMEOUT_S is seconds,
#       decimals allowed, counted from the call on the wall clock. On timeout prints
#       "wait: timed out after TIMEOUT_S s waiting for DESCRIPTION" (DESCRIPTION defaults to
#       CONDITION) on stderr and returns 1; a malformed call returns 2.
#
# Examples:
#   wait_for "[ -S '$sock' ]" 10 "the API socket of vmroam-ha" || fail "..."
#   wait_for "! kill -0 $pid" 5 || kill -KILL "$pid"
#   ready() { grep -q '^ready' "$log"; }; wait_for ready 10 "the endpoint to print ready"
#
# POSIX sh, so that the dash-run vm suite and the bash tests share it; quote data inside
# CONDITION as for `eval`.

wait_for() {
  local _wf_cond _wf_timeout _wf_desc _wf_limit
  if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    echo "wait: usage: wait_for CONDITION TIMEOUT_S [DESCRIPTION]" >&2
    return 2
  fi
  _wf_cond=$1 _wf_timeout=$2 _wf_desc=${3:-$1}
  case $_wf_timeout in
    '' | *[!0-9.]* | *.*.* | .)
      echo "wait: timeout '$_wf_timeout' is not a number of seconds (waiting for $_wf_desc)" >&2
      return 2
      ;;
  esac
  _wf_limit=$(($(_wait_now_ms) + $(awk -v t="$_wf_timeout" 'BEGIN { printf "%d", t * 1000 }')))
  while :; do
    # Underscored locals: CONDITION runs in this function's scope and must see the caller's
    # variables, not ours.
    if eval "$_wf_cond" >/dev/null 2>&1; then return 0; fi
    if [ "$(_wait_now_ms)" -ge "$_wf_limit" ]; then
      echo "wait: timed out after ${_wf_timeout}s waiting for $_wf_desc" >&2
      return 1
    fi
    sleep 0.05
  done
}

# Milliseconds since the epoch (GNU date; POSIX sh has no clock of its own).
_wait_now_ms() { date +%s%3N; }
