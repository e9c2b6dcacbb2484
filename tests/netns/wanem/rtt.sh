#!/usr/bin/env bash
# The testbed's WAN delay is what it says: with --delay D ms one way, the median RTT of
# `ping -c 20 -i 0.05` is within 1 ms of 2·D, correspondent↔home and home↔foreign.
#   usage: rtt.sh DELAY_MS
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/topology.sh"
delay=${1:?usage: rtt.sh DELAY_MS}

topo_up --delay "$delay" || exit $?

fail=0
check() {
  local name=$1 role=$2 addr=$3 median sent received
  ns_exec "$role" ping -c 1 -W 2 "$addr" >/dev/null || true  # ARP resolved before measuring
  read -r median sent received < <(ping_stats "$role" "$addr" 20 0.05)
  echo "$name: median RTT $median ms over $received/$sent replies (want $((2 * delay)) ± 1 ms)"
  if ! awk -v m="$median" -v want="$((2 * delay))" 'BEGIN { exit !(m != "nan" && m >= want - 1 && m <= want + 1) }'; then
    echo "FAIL: $name median RTT $median ms is not within 1 ms of $((2 * delay)) ms" >&2
    fail=1
  fi
}
check "cn->home" cn "$VMR_HOME_WAN"
check "home->foreign" home "$VMR_FOREIGN_WAN"
check "cn->foreign2" cn "$VMR_FOREIGN2_WAN"
# How late the delay lines sent (their own measurement of timer error).
for host in cn home; do
  kill -TERM "$(cat "$VMR_RUN_DIR/wanem-$host.pid")"
  wait_for "jq -e .ab.lateness_us '$VMR_RUN_DIR/wanem-$host.json'" 5
  echo "wanem $host a->b send lateness (us): $(jq -c .ab.lateness_us "$VMR_RUN_DIR/wanem-$host.json")"
done
exit $fail
