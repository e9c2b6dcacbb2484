#!/usr/bin/env bash
# netns test: the daemon's life (topology drawn in ha_topology.sh). After start-up it holds
# only CAP_NET_ADMIN + CAP_NET_RAW; SIGHUP with a new max_lifetime_s grants the new maximum;
# SIGHUP with a broken file is logged and the old config kept; SIGTERM exits 0 and removes
# its routes, proxy entries, TUN device and API socket file.
# usage: lifecycle.sh PATH_TO_vmroam-ha
set -u
source "$(dirname "$0")/ha_topology.sh"
ha_up
ha_start

cap=$(awk '/^CapEff:/ { print $2 }' "/proc/$HA_PID/status")
[ "$cap" = 0000000000003000 ] || die "CapEff $cap, expected 0000000000003000 (CAP_NET_ADMIN|CAP_NET_RAW)"
echo "ok   CapEff $cap (CAP_NET_ADMIN + CAP_NET_RAW only)"

[ "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$HA_SOCK" -H 'Content-Type: application/json' \
      -d '{"id":"vm1","home_address":"10.1.0.10","mac":"52:54:00:12:34:56","allowed_fas":["'"$FA1"'"]}' \
      http://ha/v1/vms)" = 201 ] || die "API: VM not created"
peer lifecycle-register 10.1.0.10 600 300 || die "registration capped at 300"

# hup EVENT: send SIGHUP and wait for the daemon to log EVENT once more.
hup() {
  local before
  before=$(grep -c "event=$1" "$HA_DIR/ha.log")
  kill -HUP "$HA_PID"
  wait_for "[ \$(grep -c 'event=$1' '$HA_DIR/ha.log') -gt $before ]" 5 "event=$1 in the log" || die "no $1 logged after SIGHUP"
  echo "ok   SIGHUP: $(grep "event=$1" "$HA_DIR/ha.log" | tail -1)"
}
write_config 120
hup reloaded
peer lifecycle-register 10.1.0.10 600 120 || die "new max_lifetime_s not applied"
echo "{ \"address\": \"$HA\", \"home_prefix\": " >"$HA_CONF"
hup reload_rejected
kill -0 "$HA_PID" || die "vmroam-ha died on a broken config"
peer lifecycle-register 10.1.0.10 600 120 || die "old config not kept"

[ -n "$(ip -n "$NS_HA" -j route show proto 186 | grep 10.1.0.10)" ] || die "no route before SIGTERM"
[ -n "$(ip -n "$NS_HA" -j neigh show proxy dev br-home | grep 10.1.0.10)" ] || die "no proxy entry before SIGTERM"
kill -TERM "$HA_PID"
wait "$HA_PID"
rc=$?
HA_PID=
[ "$rc" = 0 ] || die "exit status $rc after SIGTERM"
echo "ok   SIGTERM: exit 0"
[ "$(ip -n "$NS_HA" -j route show proto 186)" = "[]" ] || die "routes left: $(ip -n "$NS_HA" route show proto 186)"
[ "$(ip -n "$NS_HA" -j neigh show proxy dev br-home)" = "[]" ] || die "proxy entries left"
ip -n "$NS_HA" link show vmr-ha0 >/dev/null 2>&1 && die "TUN vmr-ha0 left"
[ -e "$HA_SOCK" ] && die "API socket file left"
echo "ok   SIGTERM: no route, proxy entry, TUN or socket left"
echo "PASS"
