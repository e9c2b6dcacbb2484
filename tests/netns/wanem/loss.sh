#!/usr/bin/env bash
# Random loss: 10% on the correspondent's access link (towards the WAN only) loses between 5%
# and 15% of 400 pings, and the delay line's own count agrees with ping's.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/topology.sh"

topo_up --delay 4 || exit $?
topo_set_link cn --delay 4ms --delay-ba 0 --loss 10% --loss-ba 0 --seed 7
wait_for "ns_exec cn ping -c1 -W1 $VMR_HOME_WAN" 10

read -r median sent received < <(ping_stats cn "$VMR_HOME_WAN" 400 0.01)
lost=$((sent - received))
echo "ping: $lost of $sent lost (median RTT $median ms)"

kill -TERM "$(cat "$VMR_RUN_DIR/wanem-cn.pid")"
wait_for "jq -e .ab.lost '$VMR_RUN_DIR/wanem-cn.json'" 5
counted=$(jq .ab.lost "$VMR_RUN_DIR/wanem-cn.json")
echo "vmroam-wanem counted $counted lost (seed $(jq .seed "$VMR_RUN_DIR/wanem-cn.json"))"

fail=0
if ((lost < 20 || lost > 60)); then echo "FAIL: $lost/400 lost is not within 5%..15%" >&2; fail=1; fi
# Every lost ping was lost by the model; a few more frames (ARP, the warm-up ping) may be too.
if ((counted < lost || counted > lost + 5)); then
  echo "FAIL: wanem counted $counted lost, ping saw $lost" >&2
  fail=1
fi
exit $fail
