#!/usr/bin/env bash
# shellcheck disable=SC2034,SC2154 # sets and reads migration.sh's $row, $err, $window (and testbed.sh's, guest.sh's state)
# Mode 'libvirt' of the migration benchmark (bench/migration/migration.sh; sourced after
# testbed.sh, not run): the same guest as a libvirt domain, moved home → foreign with plain
# `virsh migrate --live` across the emulated WAN, coupled to the agents by vmroam-libvirt (one
# per site, next to that site's libvirtd): the path of docs/getting-started.md "Migrating with
# libvirt". The libvirtd instances, their private directories and the daemons come from the
# libvirt suite (tests/libvirt/libvirtd.sh, coupling.sh); the domain has the benchmark's memory
# and fill ($VM_MEM, $VMR_GUEST_APPEND) and the guest's image ($VMR_GUEST_CACHE).
#
# Row fields as one_mode's, taken from where libvirt leaves them:
#   real_pause_ms        QEMU STOP at home → RESUME at foreign (QEMU's own timestamps, as
#                        the daemons logged them)
#   qemu_downtime_ms, total_time_ms, bytes_transferred
#                        virsh domjobinfo --completed (libvirt's "Total downtime", "Time
#                        elapsed", "Data processed"), from the source (the domain is defined
#                        there, so its finished job stays readable), else the destination
#   handover_ms          the FA's activate → HA reply (foreign's vmroam-libvirt's log)
#   virsh_s              virsh migrate's wall time
#
#   mode_libvirt         the whole mode (starts and stops libvirtd and vmroam-libvirt at home
#                        and foreign); sets $row or returns 1 with $err set
#   libvirt_available    0 when libvirtd, virsh and vmroam-libvirt are there, else prints why

# shellcheck source=../../tests/libvirt/libvirtd.sh
source "$mb_top/tests/libvirt/libvirtd.sh"
# shellcheck source=../../tests/libvirt/coupling.sh
source "$mb_top/tests/libvirt/coupling.sh"

_lvb_up=0

libvirt_available() {
  local why
  why=$(lv_check) || { echo "$why"; return 1; }
  _lv_coupling_bin >/dev/null 2>&1 || { echo "vmroam-libvirt not built"; return 1; }
}

_lvb_teardown() {
  [ $_lvb_up = 1 ] || return 0
  coupling_stop_all
  lv_stop_all
  _lvb_up=0
}

_lvb_up_sites() {
  local site
  _lvb_up=1
  for site in home foreign; do
    lv_start "$site" && lv_tap_up "$site" && coupling_start "$site" || return 1
  done
}

# _lvb_jobinfo FIELD: the number of FIELD in the completed-job statistics ($LV_DIR/jobinfo.*),
# in bytes for sizes ("Data processed: 431.234 MiB"); the source's first.
_lvb_jobinfo() {
  cat "$LV_DIR/jobinfo.home" "$LV_DIR/jobinfo.foreign" 2>/dev/null |
    awk -F: -v f="$1" '$1 == f { split($2, v, " "); u = v[2];
      k = (u == "KiB") ? 1024 : (u == "MiB") ? 1048576 : (u == "GiB") ? 1073741824 : 1;
      printf "%d", v[1] * k; exit }'
}

_lvb_save_jobinfo() {
  local site
  for site in home foreign; do
    lv_virsh "$site" domjobinfo "$LV_DOMAIN" --completed >"$LV_DIR/jobinfo.$site" 2>&1
    mb_log "libvirt: domjobinfo --completed at $site: $(tr -s ' ' <"$LV_DIR/jobinfo.$site" | tr '\n' ';')"
  done
}

_lvb_measure() {
  local report=$1 virsh_s=$2 broken=$3 stop_us resume_us hms down total bytes
  stop_us=$(grep 'event=domain_event' "$(coupling_log home)" | grep -E 'what=STOP( |$)' | tail -n 1 |
    tr ' ' '\n' | sed -n 's/^at_us=//p')
  resume_us=$(grep 'event=domain_event' "$(coupling_log foreign)" | grep -E 'what=RESUME( |$)' | tail -n 1 |
    tr ' ' '\n' | sed -n 's/^at_us=//p')
  hms=$(_lv_last_field "$(coupling_log foreign)" registration_active handover_ms)
  _lvb_save_jobinfo
  down=$(_lvb_jobinfo "Total downtime")
  total=$(_lvb_jobinfo "Time elapsed")
  bytes=$(_lvb_jobinfo "Data processed")
  row=$(jq -cn --argjson p "$report" --arg stop "${stop_us:-}" --arg resume "${resume_us:-}" --arg hms "${hms:-}" \
    --arg down "${down:-}" --arg total "${total:-}" --arg bytes "${bytes:-}" --argjson virsh_s "$virsh_s" \
    --arg broken "$broken" '
    def n($s): if $s == "" then null else ($s | tonumber) end;
    (if $stop != "" and $resume != "" then ((n($resume) - n($stop)) / 100 | round / 10) else null end) as $pause
    | {mode: "libvirt", pings_lost: $p.pings_lost, longest_silence_ms: $p.longest_silence_ms,
       real_pause_ms: $pause,
       silence_minus_pause_ms: (if ($p.longest_silence_ms | type) == "number" and $pause != null
                                then ($p.longest_silence_ms - $pause) * 10 | round / 10 else null end),
       qemu_downtime_ms: n($down), total_time_ms: n($total), bytes_transferred: n($bytes),
       handover_ms: (if $hms == "" then null else (n($hms) * 10 | round / 10) end),
       pings_sent: $p.pings_sent, max_rtt_ms: $p.max_rtt_ms, tcp_survived: $p.tcp_survived,
       virsh_s: $virsh_s}
    + {guest_broken: (if $broken != "" then 1 else 0 end)}
    + (if $broken != "" then {error: "the guest broke in the move: \($broken)"} else {} end)')
}

mode_libvirt() {
  local why serial out t0 virsh_s report broken='' lines
  why=$(libvirt_available) || { err="libvirt mode unavailable: $why"; return 1; }
  agents_on || { err="agents did not start"; return 1; }
  trap '_lvb_teardown; mb_cleanup' EXIT
  _lvb_up_sites || { err="libvirtd or vmroam-libvirt did not start"; _lvb_teardown; return 1; }
  serial=$(lv_serial)
  rm -f "$serial"
  LV_APPEND=$VMR_GUEST_APPEND lv_domain_xml "$VMR_GUEST_CACHE" "$serial" >"$LV_DIR/guest.xml"
  if ! lv_virsh home define "$LV_DIR/guest.xml" >/dev/null || ! lv_virsh home start "$LV_DOMAIN" >/dev/null ||
    ! wait_for "grep -q 'vmroam-guest up' '$serial'" 300 ||
    ! wait_for "ns_exec cn ping -c1 -W1 $VMR_VM_ADDR" 30; then
    err="the libvirt guest did not come up: $(tail -n 3 "$serial" 2>/dev/null)"
    _lvb_teardown
    return 1
  fi
  mb_probe_start probe-libvirt || { err="the probe did not start"; _lvb_teardown; return 1; }
  lines=$(wc -l <"$serial")
  t0=$EPOCHREALTIME
  out=$(lv_migrate home foreign) || { err="virsh migrate: $(tail -n 2 <<<"$out")"; _lvb_teardown; return 1; }
  virsh_s=$(awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')
  mb_log "libvirt: virsh migrate took $virsh_s s"
  sleep "$window" # the same fixed measurement window as every mode
  mb_probe_stop
  report=$(mb_probe_report "$VMR_GUEST_DIR/probe-libvirt.json") || { err="probe report"; _lvb_teardown; return 1; }
  mb_log "libvirt: probe $report"
  broken=$(tail -n +"$((lines + 1))" "$serial" | grep -a -m1 -E 'not a head|virtio.*(broken|error)|Kernel panic|BUG:' | tr -d '\r')
  # A guest that died silently stops ticking on its console (testbed.sh mb_guest_broken); a
  # starved TCG guest may tick late, so give it a few seconds.
  if [ -z "$broken" ] && ! wait_for "tail -n +$((lines + 1)) '$serial' | grep -q 'vmroam-guest tick'" 10 2>/dev/null; then
    broken="no serial tick at foreign after the move"
  fi
  # A broken guest is counted in the row (guest_broken) and its move keeps its figures, as in
  # the other modes (migration.sh).
  _lvb_measure "$report" "$virsh_s" "$broken"
  # A move that lost pings keeps its evidence (the daemons', agents', libvirtd's and QEMU's logs).
  if [ "$(jq '.pings_lost // 0' <<<"$report")" != 0 ] || [ "$(jq '.tcp_survived' <<<"$report")" != true ]; then
    mkdir -p "/tmp/vmroam-bench-libvirt-$$" && cp -r "$LV_DIR" "$VMR_AGENTS_DIR" "$VMR_GUEST_DIR" "/tmp/vmroam-bench-libvirt-$$/" 2>/dev/null
    mb_log "libvirt: pings lost or TCP broken: logs kept in /tmp/vmroam-bench-libvirt-$$"
  fi
  [ -z "$broken" ] || err="the guest broke in the move (QEMU/guest, not the network): $broken"
  # Back to "the VM is at home, nothing runs": the visitor departs, the HA drops the binding.
  fa_depart foreign >/dev/null 2>&1 || fa_abort foreign >/dev/null 2>&1
  wait_for "! ha_binding" 10 || mb_log "libvirt: the HA still has a binding after depart"
  _lvb_teardown
}
