#!/usr/bin/env bash
# shellcheck disable=SC2034,SC2154 # sets and reads migration.sh's $row, $err, $window (and testbed.sh's, guest.sh's state)
# Mode 'local' of the migration benchmark (bench/migration/migration.sh; sourced after
# testbed.sh, not run): the floor no network handover can beat. The same guest is migrated
# between two QEMUs on one layer-2 segment: both in the home router's namespace, their taps
# (vmrg-home, vmrl-home2) on br-home, so nothing routes differently after the move and no agent
# runs. The bridge learns the guest's new port from QEMU's RARP announce after RESUME. What the
# correspondent sees beyond the real pause is what the guest itself costs after it resumes
# (QEMU's announce, the guest's vCPU and NIC getting going, the next ping): every other mode's
# silence_minus_pause_ms is reported next to this one (over_local_ms).
#
# The migration stream stays inside the home namespace (the destination listens on home's WAN
# address, a local route: no WAN shaping), so the pause is not the other modes'; only the
# silence beyond the pause is compared. vmroam-migrate --fa none with its default tuning, in
# clear, as modes reactive/vxlan/none run it.
#
#   mode_local           the whole mode; sets $row (JSON, the fields of one_mode's rows) or
#                        returns 1 with $err set
#   local_compare FILE   rewrites the rows (JSON lines) in FILE: each row with a number for
#                        silence_minus_pause_ms gains local_silence_minus_pause_ms (the local
#                        row's, same run) and over_local_ms (its own minus local's)


kLocalTap=vmrl-home2 # the destination QEMU's tap on br-home

# _local_start_dest: the destination QEMU beside the source, as guest.sh's bookkeeping expects
# (VMR_GUEST_NEXT at "home"), listening on home's WAN address.
_local_start_dest() {
  local ns name wan
  ns=$(topo_ns home) || return 1
  wan=$(_vmr_site_wan home) || return 1
  if ! ip -n "$ns" link show $kLocalTap >/dev/null 2>&1; then
    ip -n "$ns" tuntap add dev $kLocalTap mode tap || return 1
  fi
  ip -n "$ns" link set $kLocalTap master "$VMR_HOME_BRIDGE" up || return 1
  VMR_GUEST_GEN=$((VMR_GUEST_GEN + 1))
  name=g$VMR_GUEST_GEN
  vm_start "$name" "$ns" $kLocalTap "$VMR_GUEST_DIR" "$VMR_GUEST_ACCEL" "$VMR_GUEST_CACHE" \
    "tcp:$wan:$VMR_GUEST_PORT" "$VMR_GUEST_APPEND"
  if ! wait_for "[ -S '$VMR_GUEST_DIR/$name.qmp' ] && ip netns exec $ns ss -Hltn 'sport = :$VMR_GUEST_PORT' | grep -q LISTEN" 20 \
    "the destination QEMU $name to listen"; then
    vm_stop "$VMR_GUEST_DIR" "$name"
    return 1
  fi
  VMR_GUEST_NEXT=$name
  VMR_GUEST_NEXT_SITE=home
}

_local_cleanup() {
  mb_probe_stop
  guest_stop
  ip -n "$(topo_ns home)" link del $kLocalTap 2>/dev/null
  return 0
}

mode_local() {
  local rc summary report broken='' t0
  agents_off
  mb_boot home || { err="the guest did not boot"; _local_cleanup; return 1; }
  mb_probe_start probe-local || { err="the probe did not start"; _local_cleanup; return 1; }
  _local_start_dest || { err="destination QEMU"; _local_cleanup; return 1; }
  t0=$EPOCHREALTIME
  VMR_GUEST_TLS=0 mb_migrate_plain home home
  rc=$?
  summary=$VMR_GUEST_JSON
  mb_log "local: driver exit $rc after $(awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN { printf "%.1f", a - b }') s: $(jq -c '{outcome, error, real_pause_ms, qemu_downtime_ms, total_time_ms}' "$summary" 2>/dev/null)"
  if ! jq -e '.switched' "$summary" >/dev/null 2>&1; then
    err="migration did not switch (driver exit $rc: $(jq -r '.error // empty' "$summary" 2>/dev/null))"
    _local_cleanup
    return 1
  fi
  sleep "$window" # the same fixed measurement window as every mode
  mb_probe_stop
  report=$(mb_probe_report "$VMR_GUEST_DIR/probe-local.json") || { err="probe report"; _local_cleanup; return 1; }
  mb_log "local: probe $report"
  if broken=$(mb_guest_broken 1); then
    err="the guest broke in the move (QEMU/guest, not the network): $broken"
  else
    broken=
  fi
  row=$(jq -c --argjson p "$report" --argjson rc "$rc" --arg broken "$broken" '
    def num: if type == "number" then . else null end;
    {mode: "local", pings_lost: $p.pings_lost, longest_silence_ms: $p.longest_silence_ms,
     real_pause_ms: (.real_pause_ms | num),
     silence_minus_pause_ms: (if ($p.longest_silence_ms | type) == "number" and (.real_pause_ms | type) == "number"
                              then ($p.longest_silence_ms - .real_pause_ms) * 10 | round / 10 else null end),
     qemu_downtime_ms: (.qemu_downtime_ms | num), total_time_ms: (.total_time_ms | num),
     bytes_transferred: (.bytes_transferred | num), handover_ms: null,
     pings_sent: $p.pings_sent, max_rtt_ms: $p.max_rtt_ms, tcp_survived: $p.tcp_survived,
     outcome: .outcome, driver_exit: $rc}
    + {guest_broken: (if $broken != "" then 1 else 0 end)}
    + (if $broken != "" then {error: "the guest broke in the move: \($broken)"} else {} end)' "$summary")
  _local_cleanup
}

local_compare() {
  local file=$1 tmp
  tmp=$(mktemp) || return 1
  jq -s -c '
    (map(select(.mode == "local")) | first | .silence_minus_pause_ms? // null) as $floor
    | map(if $floor != null and (.silence_minus_pause_ms | type) == "number"
          then . + {local_silence_minus_pause_ms: $floor,
                    over_local_ms: ((.silence_minus_pause_ms - $floor) * 10 | round / 10)}
          else . end) | .[]' "$file" >"$tmp" && mv "$tmp" "$file"
}
