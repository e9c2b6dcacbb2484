#!/usr/bin/env bash
# libvirt-managed live migrations coupled to the agents by vmroam-libvirt, end to end: real
# libvirtd 9 instances (one per site, each in its site router's namespace with its own
# config/runtime dirs and host_uuid), the real HA and FAs, the test guest (Debian kernel +
# busybox) as a libvirt domain, moved with plain `virsh migrate --live`:
#
#   cn ── wan (100 Mbit/s, 4 ms per access link) ──┬── home:     vmroam-ha, libvirtd, vmroam-libvirt
#                                                  ├── foreign:  vmroam-fa, libvirtd, vmroam-libvirt
#                                                  └── foreign2: vmroam-fa, libvirtd, vmroam-libvirt
#   the domain's <interface type='ethernet'> is the tap vmrl0, made on every site's VM bridge
#
# Moves: home → foreign → foreign2 → home, each while the correspondent pings the guest every
# 10 ms and holds a TCP echo stream (tools/probe/vmroam-probe). The FAs run without arrival
# detection, so every registration comes from vmroam-libvirt: the source's STOP activates the
# destination FA (or, coming home, departs the FA the VM leaves), the destination confirms.
# Asserts per move: 0 pings lost, the TCP stream survived with messages after the move echoed,
# the HA's binding where it must be; prints one JSON line per move (pause STOP→RESUME,
# handover, longest silence). Before move 2 foreign2's libvirtd is restarted: its
# vmroam-libvirt must reconnect and still couple the move.
# Two failures around the moves:
#   before move 1, a move home → foreign that fails after the STOP: foreign's QEMU is killed
#   as soon as home's vmroam-libvirt has activated foreign's FA. virsh fails, libvirt resumes
#   the guest at home; asserted: the guest runs at home and not at foreign, the HA has no
#   binding and foreign's FA no visitor (through their APIs), the undo in both daemons' logs,
#   the correspondent's pings come back; move 1 then must be as clean as ever;
#   after move 3, move 4 home → foreign with every agent API unreachable (the sockets renamed
#   away; the agents run on): virsh migrate succeeds, both daemons log the failed calls and
#   stay up; once the APIs are back, foreign's vmroam-libvirt (still confirming) prepares and
#   registers the VM: the HA's binding points at foreign and the pings come back.
# Needs root, libvirtd + virsh, qemu-system-x86_64, /dev/net/tun; exit 77 naming what is missing.
# Usage: libvirt_test.sh BUILD_DIR   (KEEP=1 keeps the run's files)
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)

# shellcheck source=../lib/topology.sh
source "$top/tests/lib/topology.sh"
# shellcheck source=../lib/agents.sh
source "$top/tests/lib/agents.sh"
# shellcheck source=../lib/guest.sh
source "$top/tests/lib/guest.sh"
# shellcheck source=../lib/scenario.sh
source "$top/tests/lib/scenario.sh"
# shellcheck source=libvirtd.sh
source "$here/libvirtd.sh"
# shellcheck source=coupling.sh
source "$here/coupling.sh"

scenario_begin libvirt-test "${1:-}" "network namespaces, mount namespaces, taps"
guest_test_need
missing=$(lv_check) || { echo "SKIP: $missing"; exit 77; }

scenario_logs() {
  local f
  for f in "$LV_DIR"/*/vmroam-libvirt.log "$VMR_AGENTS_DIR"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 25 "$f"; }; done
  for f in "$LV_DIR"/*/log/libvirtd.log "$LV_DIR"/*/log/qemu/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 8 "$f"; }; done
}
LV_KILLER_PID=
scenario_teardown() {
  [ -n "$LV_KILLER_PID" ] && kill "$LV_KILLER_PID" 2>/dev/null
  guest_probe_stop
  coupling_agents_reachable
  coupling_stop_all
  lv_stop_all
  agents_stop
}
scenario_up

step "guest image (cached)"
guest_image || die "the guest image"
# No arrival detection: every registration comes from vmroam-libvirt.
guest_test_agents --no-detect-arrival home foreign foreign2

step "libvirtd and vmroam-libvirt at every site"
for site in "${VMR_SITES[@]}"; do
  lv_start "$site" || die "libvirtd at $site"
  lv_tap_up "$site" || die "tap at $site"
  coupling_start "$site" || die "vmroam-libvirt at $site"
done

step "define and start the guest at home"
serial=$(lv_serial)
rm -f "$serial"
LV_METADATA=0 lv_domain_xml "$VMR_GUEST_CACHE" "$serial" >"$LV_DIR/guest.xml"
lv_virsh home define "$LV_DIR/guest.xml" >/dev/null || die "virsh define"
lv_virsh home start "$LV_DOMAIN" >/dev/null || die "virsh start"
# The VM named in the domain's metadata as docs/getting-started.md tells (its MAC would also
# match); the daemon reads the metadata first.
lv_virsh home metadata "$LV_DOMAIN" https://vmroam.example/xmlns/1 --key vmroam --config --live \
  --set "<vm id='$VMR_VM_ID'/>" >/dev/null || die "virsh metadata --set"
meta=$(lv_virsh home metadata "$LV_DOMAIN" https://vmroam.example/xmlns/1) || die "virsh metadata"
echo "$meta" | grep -q "id=.$VMR_VM_ID." || die "the domain's vmroam metadata reads '$meta'"
wait_for "grep -q 'vmroam-guest up' '$serial'" 120 || die "the guest did not come up: $(tail -n 5 "$serial")"
wait_for "ns_exec cn ping -c1 -W1 $VMR_VM_ADDR" 30 || die "the correspondent cannot ping the guest at home"

# check_binding TO: the HA's binding after a move to TO (none when the VM is home).
check_binding() {
  local to=$1
  if [ "$to" = home ]; then
    wait_for "! ha_binding" 10 || die "the HA still has a binding after the VM came home: $(ha_binding)"
    return 0
  fi
  wait_for "ha_binding | jq -e --arg c '$(_vmr_site_wan "$to")' '.care_of_address == \$c'" 10 ||
    die "the HA's binding does not point at $to: $(ha_binding)"
}

reports=()
# move N FROM TO: one live migration with virsh, watched by the probe.
move() {
  local n=$1 from=$2 to=$3 ticks lines out report
  step "move $n: $from -> $to (virsh migrate --live)"
  guest_probe_start "probe$n" || die "the probe (move $n)"
  lines=$(wc -l <"$serial")
  t_switch=$EPOCHREALTIME
  out=$(lv_migrate "$from" "$to") || die "virsh migrate $from -> $to: $out"
  echo "virsh migrate took $(awk -v a="$EPOCHREALTIME" -v b="$t_switch" 'BEGIN { printf "%.1f", a - b }') s"
  t_switch=$EPOCHREALTIME
  lv_virsh "$to" domstate "$LV_DOMAIN" | grep -q running || die "the guest is not running at $to"
  # Two seconds of the guest running at the destination (its ticks), the probe still going.
  ticks=$(grep -c 'vmroam-guest tick' "$serial")
  wait_for "[ \$(grep -c 'vmroam-guest tick' '$serial') -ge $((ticks + 2)) ]" 15 || die "no serial ticks after the move"
  if [ "$to" != home ]; then
    wait_for "grep -q 'event=registration_active\\|event=vm_unreachable' '$(coupling_log "$to")'" 10 ||
      die "no registration outcome at $to"
  fi
  guest_probe_stop
  check_binding "$to"
  report=$(coupling_move_report "$from" "$to" "$VMR_GUEST_DIR/probe$n.json" "$t_switch")
  echo "$report"
  reports+=("$report")
  # QEMU 7.2 under TCG sometimes corrupts the guest's virtio-net ring across a migration
  # (docs/migration.md "A tighter downtime-limit"): say so rather than blame the network.
  if tail -n +"$((lines + 1))" "$serial" | grep -Eq 'Kernel panic|is not a head|Oops'; then
    die "move $n: the guest kernel broke after the move (QEMU/TCG migration): $(tail -n +"$((lines + 1))" "$serial" |
      grep -Em 3 'Kernel panic|is not a head|Oops|RIP:')"
  fi
}

# failed_move: home → foreign, foreign's QEMU killed right after home's vmroam-libvirt
# activated foreign's FA at the source's STOP (the binding then switches to foreign, and the
# move must be undone).
failed_move() {
  local out home_log foreign_log
  home_log=$(coupling_log home)
  foreign_log=$(coupling_log foreign)
  step "a move home -> foreign that fails after the STOP: foreign's QEMU killed once the FA is activated"
  lv_kill_qemu_on "$home_log" "action=fa_activate" foreign
  if out=$(lv_migrate home foreign); then die "virsh migrate succeeded although the destination QEMU was killed: $out"; fi
  echo "virsh: $(echo "$out" | tail -n 1)"
  wait "$LV_KILLER_PID" 2>/dev/null
  LV_KILLER_PID=
  grep -q 'action=fa_activate' "$home_log" || die "home's vmroam-libvirt never activated foreign's FA (the kill never came)"
  wait_for "lv_virsh home domstate $LV_DOMAIN | grep -q running" 30 ||
    die "the guest does not run at home after the failed move: $(lv_virsh home domstate "$LV_DOMAIN" 2>&1)"
  wait_for "! lv_virsh foreign domstate $LV_DOMAIN" 30 || die "the domain is still at foreign"
  # The undo: the source cancels the HA's hold, foreign gives its (active) visitor back.
  wait_for "grep -q 'action=ha_cancel' '$home_log'" 15 || die "home's vmroam-libvirt did not cancel the hold"
  wait_for "grep -Eq 'event=fa_(aborted|departed)' '$foreign_log'" 15 || die "foreign's vmroam-libvirt did not undo its visitor"
  # The bindings end consistent: the HA has none (the VM is home), foreign's FA no visitor.
  wait_for "! ha_binding" 15 || die "the HA still has a binding after the failed move: $(ha_binding)"
  wait_for "! fa_visitor foreign" 15 || die "foreign's FA still holds the visitor: $(fa_visitor foreign 2>&1)"
  wait_for "ns_exec cn ping -c1 -W1 $VMR_VM_ADDR" 20 || die "the correspondent cannot ping the guest after the failed move"
  echo "after the failed move: the guest runs at home, no binding, no visitor at foreign, pings answered;" \
    "home: $(grep -Eo 'action=(ha_cancel|fa_reactivate_local)' "$home_log" | sort -u | tr '\n' ' ')" \
    "foreign: $(grep -Eo 'event=fa_(aborted|departed)' "$foreign_log" | sort -u | tr '\n' ' ')"
}

failed_move
move 1 home foreign
# The destination of move 2 restarts its libvirtd first: its vmroam-libvirt must reconnect and
# register its callbacks again, else foreign2's FA is never prepared and the move loses the VM.
# (Restarting the libvirtd that runs the guest, then migrating it, broke the guest's kernel
# under QEMU 7.2/TCG in 2 of 2 runs here: not part of this test.)
step "restart foreign2's libvirtd: its vmroam-libvirt must reconnect"
connects=$(grep -c 'event=libvirt_connected' "$(coupling_log foreign2)")
lv_restart foreign2 || die "libvirtd restart at foreign2"
wait_for "[ \$(grep -c 'event=libvirt_connected' '$(coupling_log foreign2)') -gt $connects ]" 30 ||
  die "vmroam-libvirt at foreign2 did not reconnect"
grep -q 'event=libvirt_disconnected' "$(coupling_log foreign2)" || die "vmroam-libvirt at foreign2 never saw libvirtd go"
move 2 foreign foreign2
move 3 foreign2 home

# move_unreachable: home → foreign with every agent API unreachable; virsh must not notice.
move_unreachable() {
  local out t_start secs foreign_log n
  foreign_log=$(coupling_log foreign)
  n=$(wc -l <"$foreign_log")
  # new_lines: foreign's log since this move began.
  new_lines() { tail -n +"$((n + 1))" "$foreign_log"; }
  step "move 4: home -> foreign with the agents' APIs unreachable"
  coupling_agents_unreachable
  t_start=$EPOCHREALTIME
  out=$(lv_migrate home foreign) || die "virsh migrate failed with the agents unreachable: $out"
  secs=$(awk -v a="$EPOCHREALTIME" -v b="$t_start" 'BEGIN { printf "%.1f", a - b }')
  lv_virsh foreign domstate "$LV_DOMAIN" | grep -q running || die "the guest is not running at foreign"
  wait_for "new_lines | grep -q 'event=registration_not_active'" 15 ||
    die "foreign's vmroam-libvirt is not retrying the registration"
  new_lines | grep -q 'event=ha_handover_failed' || die "foreign's vmroam-libvirt did not log the HA call that failed"
  new_lines | grep -q 'event=fa_call_failed' || die "foreign's vmroam-libvirt did not log the FA calls that failed"
  coupling_alive home || die "home's vmroam-libvirt died with the agents unreachable"
  coupling_alive foreign || die "foreign's vmroam-libvirt died with the agents unreachable"
  echo "virsh migrate took ${secs} s with the agents unreachable"
  step "the agents' APIs back: foreign's vmroam-libvirt registers the VM"
  coupling_agents_reachable
  wait_for "new_lines | grep -q 'event=registration_active'" 30 || die "no registration after the APIs came back"
  check_binding foreign
  wait_for "ns_exec cn ping -c1 -W1 $VMR_VM_ADDR" 20 || die "the correspondent cannot ping the guest at foreign"
}

move_unreachable

step "verdict"
bad=$(/usr/bin/python3 - "${reports[@]}" <<'PY'
import json, sys
bad = []
for line in sys.argv[1:]:
    r = json.loads(line)
    m = r["move"]
    if r["pings_lost"] != 0: bad.append("%s: %d of %d pings lost" % (m, r["pings_lost"], r["pings_sent"]))
    if r["pings_sent"] < 100: bad.append("%s: only %d pings sent" % (m, r["pings_sent"]))
    if not r["tcp_survived"]: bad.append("%s: TCP stream broke: %s" % (m, r["tcp_error"]))
    if r["tcp_echoed_after_move"] <= 0: bad.append("%s: nothing sent after the move was echoed" % m)
    if r["pause_ms"] is None: bad.append("%s: no STOP/RESUME pair in the daemons' logs" % m)
    want = "fa_depart_local" if m.endswith("->home") else "fa_activate"
    if r["switch_step"] != want: bad.append("%s: the STOP did %s, not %s" % (m, r["switch_step"], want))
print("; ".join(bad))
PY
)
[ -z "$bad" ] || die "$bad"
step "PASS: ${#reports[@]} coupled moves with virsh migrate, 0 pings lost on each; a move failed after the STOP undone; a move with the agents unreachable registered once they were back"
