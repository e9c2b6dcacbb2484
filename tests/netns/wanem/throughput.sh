#!/usr/bin/env bash
# Throughput through the delay lines and tc tbf (100mbit burst 64kb latency 50ms): iperf3 for
# 2 s correspondent→home; the median of three runs is within 90–100 Mbit/s. (TCP goodput
# tops out near 95.7 Mbit/s: tbf counts Ethernet and TCP/IP headers.)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/topology.sh"

topo_up --delay 4 --rate 100 || exit $?
ns_exec home iperf3 -s -B "$VMR_HOME_WAN" >/dev/null 2>&1 &
wait_for "ns_exec home ss -ltn | grep -q ':5201'" 5

rates=()
for run in 1 2 3; do
  bps=$(ns_exec cn iperf3 -c "$VMR_HOME_WAN" -t 2 -J | jq '.end.sum_received.bits_per_second')
  rates+=("$(awk -v b="$bps" 'BEGIN { printf "%.1f", b / 1e6 }')")
  echo "run $run: ${rates[-1]} Mbit/s"
done
median=$(printf '%s\n' "${rates[@]}" | sort -n | sed -n 2p)
echo "median: $median Mbit/s (want 90..100)"
awk -v m="$median" 'BEGIN { exit !(m >= 90 && m <= 100) }' || { echo "FAIL: median $median Mbit/s" >&2; exit 1; }
