#!/usr/bin/env bash
# netns test: kill -9 in a registration storm loses no acknowledged binding and leaves no
# stray kernel state (topology drawn in ha_topology.sh).
#
# 50 VMs are registered via the API; the scapy peer fires authenticated proxy registrations
# for them from two FAs (random care-of per request) as fast as it can, recording which got
# code 0, and SIGKILLs the HA right after a random request (so others are in flight). Before
# the restart a stray proxy-ARP entry is planted on br-home. After it: every acknowledged
# binding is in GET /v1/bindings with the care-of address of its newest committed request,
# and routes (proto 186) and proxy entries are exactly the bindings. Repeated KILLS times.
# usage: durability.sh PATH_TO_vmroam-ha [KILLS]
set -u
source "$(dirname "$0")/ha_topology.sh"
KILLS=${2:-4}
ha_up
ha_start
for i in $(seq 0 49); do
  body=$(printf '{"id":"s%d","home_address":"10.1.0.%d","mac":"52:54:00:00:01:%02x","allowed_fas":["%s","%s"]}' \
    "$i" $((100 + i)) "$i" "$FA1" "$FA2")
  [ "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$HA_SOCK" -H 'Content-Type: application/json' \
        -d "$body" http://ha/v1/vms)" = 201 ] || die "API: VM s$i not created"
done
STATE=$HA_DIR/storm.json
for k in $(seq 1 "$KILLS"); do
  kill_after=$((100 + RANDOM % 900))
  peer storm "$STATE" "$kill_after" || die "storm $k"
  wait "$HA_PID"
  rc=$?
  [ "$rc" = 137 ] || die "vmroam-ha exit status $rc after SIGKILL (expected 137)"
  ip -n "$NS_HA" neigh add proxy 10.1.0.77 dev br-home || die "planting a stray proxy entry"
  t0=${EPOCHREALTIME/[.,]/}
  ha_start
  t1=${EPOCHREALTIME/[.,]/}
  echo "restart $k: ready in $(((t1 - t0) / 1000)) ms"
  peer verify "$STATE" || die "after kill $k"
done
echo "PASS"
