#!/usr/bin/env bash
# End to end: the real QEMU guest live-migrated across subnets by vmroam-migrate,
# coupled to the real agents, on the netns testbed (tests/lib/topology.sh):
#
#   cn ── wan (100 Mbit/s, 4 ms per access link: 8 ms RTT) ──┬── home: vmroam-ha, QEMU g1 (source)
#                                                            │   tap vmrg-home on br-home
#                                                            ├── foreign: vmroam-fa, QEMU g2
#                                                            │   (-incoming tcp:192.0.2.3:4444)
#                                                            │   tap vmrg-foreign on br-for
#                                                            └── foreign2: vmroam-fa, QEMU g3
#
# 1. the guest (128 MiB, 10.1.0.10/24 via 10.1.0.1, 52:54:00:12:34:56) boots at home; the HA
#    knows the VM; the correspondent pings it every 10 ms and holds a TCP echo stream to its
#    port 7 (tools/probe/vmroam-probe);
# 2. move 1, home → foreign, `--tuning socket`: the migration stream crosses the WAN in TLS
#    (guest.sh's credentials: mutual x509, the destination's WAN address checked); asserts
#    0 pings lost (the HA holds the VM's packets from the source's STOP and re-sends what
#    reached the paused source: vmroam-migrate --ha), the TCP stream survived (messages after
#    the move echoed), the serial log ticks on after the move with no gap > 2 s, the guest
#    whole (guest_integrity: no virtio/panic line, its memory check passes with the host's
#    checksum; also after move 2), the driver's JSON complete (total time, bytes,
#    passes, real pause, QEMU downtime, handover_ms, registration active, accelerator) and the
#    HA's binding points at the foreign FA;
# 3. move 2, foreign → foreign2, `--tuning none` (QEMU's defaults), same kind of path: it
#    completes with a measured pause and, again, 0 pings lost (here the copies come from the
#    HA's tunnel to the FA the VM left, not from the home link); the real pause of both moves is
#    printed side by side (tuning vs QEMU's defaults in the same run).
# Needs root, qemu-system-x86_64, /dev/net/tun, tc tbf; exit 77 when missing.
# Usage: vm_agents_test.sh BUILD_DIR   (KEEP=1 keeps the run's files)
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

scenario_begin vm-agents "${1:-}" "network namespaces, taps"
guest_test_need

scenario_logs() {
  echo "--- files in $VMR_GUEST_DIR"
  guest_test_logs 12 15
}
scenario_teardown() {
  guest_stop
  agents_stop
}
scenario_up

guest_test_setup

guest_test_agents home foreign foreign2

step "boot the guest at home (QEMU in the home router namespace)"
guest_start_source home || die "guest at home"
wait_for "ns_exec cn ping -c1 -W1 $VMR_VM_ADDR" 30 || die "the correspondent cannot ping the guest at home"

# probe_report FILE T_SWITCH: sent, lost, longest silence, max RTT, TCP stream verdict and
# whether messages sent after T_SWITCH (epoch s) were echoed.
probe_report() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); t_switch = float(sys.argv[2])
p = s["pings"]
sent = len(p); lost = sum(1 for a, b in p if b is None)
got = sorted(b for a, b in p if b is not None)
gap = max((y - x for x, y in zip(got, got[1:])), default=float("nan")) * 1000
rtt = max((b - a for a, b in p if b is not None), default=float("nan")) * 1000
t = s["tcp"]
after = sum(1 for x in t["sent"] if x > t_switch)
echoed_after = sum(1 for x in t["sent"][:len(t["echoed"])] if x > t_switch)
print(json.dumps({"pings_sent": sent, "pings_lost": lost, "longest_silence_ms": round(gap, 1),
                  "max_rtt_ms": round(rtt, 1), "tcp_sent": len(t["sent"]), "tcp_echoed": len(t["echoed"]),
                  "tcp_error": t["error"], "tcp_survived": t["survived"],
                  "tcp_sent_after_move": after, "tcp_echoed_after_move": echoed_after}))
PY
}

# ticks_ok FROM_GEN: the serial log's "vmroam-guest tick EPOCH" lines across the QEMUs: they
# continue after the move and no two consecutive ones are more than 2 s apart.
ticks_report() {
  guest_serial | /usr/bin/python3 -c '
import json, sys
t = [int(l.split()[2]) for l in sys.stdin if l.startswith("vmroam-guest tick ")]
gaps = [b - a for a, b in zip(t, t[1:])]
print(json.dumps({"ticks": len(t), "max_gap_s": max(gaps, default=None), "last": t[-1] if t else None}))'
}

step "correspondent: ping every 10 ms + TCP echo stream to $VMR_VM_ADDR:7"
guest_probe_start probe1 || die "the probe"
wait_for "[ \$(grep -c 'vmroam-guest tick' $VMR_GUEST_DIR/g1.serial) -ge 2 ]" 5 || true

step "move 1: home -> foreign, --tuning socket (destination QEMU in the foreign router, stream across the WAN)"
guest_start_dest foreign || die "destination QEMU at foreign"
ticks_before=$(guest_serial | grep -c 'vmroam-guest tick')
guest_migrate home foreign --tuning socket ${VMR_TEST_MIGRATE_ARGS:-} >/dev/null || die "vmroam-migrate home -> foreign: $(cat "$json1.log" 2>/dev/null | tail -n 5)"
json1=$VMR_GUEST_JSON
t_switch=$EPOCHREALTIME
step "move 1 done: $(jq -c '{outcome, migration_tls, real_pause_ms, qemu_downtime_ms, handover_ms, registration}' "$json1")"
# Let the stream run on after the move, then a serial tick from the new QEMU.
wait_for "[ \$(grep -c 'vmroam-guest tick' $VMR_GUEST_DIR/g2.serial 2>/dev/null || echo 0) -ge 3 ]" 10 ||
  die "no ticks on the destination's serial console after the move"
guest_probe_stop
r1=$(probe_report "$VMR_GUEST_DIR/probe1.json" "$t_switch")
whole=$(guest_integrity) || die "the guest broke in move 1: $whole"
step "move 1 guest integrity: $whole"
k1=$(ticks_report)
echo "move 1 probe: $r1"
echo "move 1 serial: $k1 (ticks before the move: $ticks_before)"

binding=$(ha_binding) || die "the HA has no binding for $VMR_VM_ADDR after the move"
coa=$(jq -r .care_of_address <<<"$binding")
[ "$coa" = "$VMR_FOREIGN_WAN" ] || die "binding care-of $coa, expected $VMR_FOREIGN_WAN"
visitor=$(fa_visitor foreign) || die "no visitor at the foreign FA"

check=$(/usr/bin/python3 - "$json1" "$r1" "$k1" "$visitor" "$(vm_ram_kib)" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); r = json.loads(sys.argv[2]); k = json.loads(sys.argv[3])
v = json.loads(sys.argv[4]); ram = int(sys.argv[5]) * 1024
bad = []
def need(cond, what):
    if not cond: bad.append(what)
need(s["outcome"] == "completed", "outcome %s: %s" % (s["outcome"], s["error"]))
for key in ("total_time_ms", "real_pause_ms", "qemu_downtime_ms", "handover_ms", "bytes_transferred", "passes"):
    need(isinstance(s.get(key), (int, float)) and s[key] > 0, "summary %s = %r" % (key, s.get(key)))
need(s["registration"] == "active", "registration %s" % s["registration"])
need(s["accelerator"] in ("tcg", "kvm"), "accelerator %r" % s["accelerator"])
# The guest's RAM as QEMU reports it is what tests/lib/qemu.sh booted (-m, padded off the
# 256 KiB grid by default), and the driver judges it off the defective TCG path: no
# tcg-dirty-tlb warning (docs/migration.md "A tighter downtime-limit, and guests that break").
need(s.get("guest_ram_bytes") == ram, "guest_ram_bytes %r, booted with %d" % (s.get("guest_ram_bytes"), ram))
warned = [w["id"] for w in s.get("warnings", [])]
major = int(str(s.get("qemu_version") or "0").split(".")[0])
exposed = s["accelerator"] == "tcg" and major < 9 and ram % (256 * 1024) == 0
need(("tcg-dirty-tlb" in warned) == exposed, "warnings %r for %d bytes under %s" % (warned, ram, s["accelerator"]))
need(s["migration_tls"].startswith("x509"), "migration stream not TLS: %r" % s["migration_tls"])
need(s["tuning"] == "socket", "tuning %r" % s["tuning"])
need(v.get("state") == "active" and v.get("resumed") is True, "visitor %s" % v)
# The promise: no packet lost. What reached the paused source after its STOP is recovered by
# the HA (ha_hold, recovered_packets in the summary) and held packets wait for the new binding.
need(r["pings_lost"] == 0, "%d of %d pings lost" % (r["pings_lost"], r["pings_sent"]))
need(s.get("ha_hold") in ("holding", "released"), "HA hold %r" % s.get("ha_hold"))
need(r["pings_sent"] > 100, "only %d pings sent" % r["pings_sent"])
need(r["tcp_survived"], "TCP echo stream broke: %s" % r["tcp_error"])
need(r["tcp_echoed_after_move"] > 0, "no TCP message sent after the move was echoed")
need(k["max_gap_s"] is not None and k["max_gap_s"] <= 2, "serial ticks gap %s s" % k["max_gap_s"])
print("; ".join(bad))
PY
)
# Diagnostics for the report: full-size packets through the tunnel (1500 + 20 bytes IPIP).
for size in 1400 1472; do
  if ns_exec cn ping -c 2 -W 1 -s "$size" -M dont "$VMR_VM_ADDR" >/dev/null 2>&1; then echo "diag: ping -s $size cn -> guest: ok"
  else echo "diag: ping -s $size cn -> guest: NO ANSWER"; fi
done
move1_failed=
if [ -n "$check" ]; then
  echo "FAIL (move 1): $check"
  move1_failed=$check
  failed=1
else
  step "move 1 PASS: 0 pings lost ($(jq -r .recovered_packets "$json1") recovered by the HA), TCP stream survived, serial ticking, binding care-of $coa"
fi

step "move 2: foreign -> foreign2, --tuning none (QEMU's defaults)"
guest_probe_start probe2 || die "the probe"
guest_start_dest foreign2 || die "destination QEMU at foreign2"
guest_migrate foreign foreign2 --tuning none >/dev/null || die "vmroam-migrate foreign -> foreign2"
json2=$VMR_GUEST_JSON
t_switch2=$EPOCHREALTIME
wait_for "[ \$(grep -c 'vmroam-guest tick' $VMR_GUEST_DIR/g3.serial 2>/dev/null || echo 0) -ge 2 ]" 10 ||
  die "no ticks on foreign2's serial console after the move"
whole=$(guest_integrity) || die "the guest broke in move 2: $whole"
step "move 2 guest integrity: $whole"
guest_probe_stop
r2=$(probe_report "$VMR_GUEST_DIR/probe2.json" "$t_switch2")
echo "move 2 probe: $r2"
jq -e '.outcome == "completed" and (.real_pause_ms | type) == "number"' "$json2" >/dev/null ||
  die "move 2: $(jq -c '{outcome, error, real_pause_ms}' "$json2")"
lost2=$(jq -r .pings_lost <<<"$r2")
move2_failed=
[ "$lost2" = 0 ] || move2_failed="$lost2 pings lost"

/usr/bin/python3 - "$json1" "$json2" "$r1" "$r2" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
ra, rb = (json.loads(x) for x in sys.argv[3:5])
print("%-34s %14s %14s" % ("", "home->foreign", "foreign->foreign2"))
print("%-34s %14s %14s" % ("tuning", a["tuning"], b["tuning"]))
rows = [("real pause STOP->RESUME (ms)", "real_pause_ms"), ("QEMU downtime (ms)", "qemu_downtime_ms"),
        ("continue after pre-switchover (ms)", "continue_after_pre_switchover_ms"),
        ("handover (ms, FA)", "handover_ms"), ("total time (ms)", "total_time_ms"),
        ("bytes", "bytes_transferred"), ("passes", "passes")]
f = lambda v: "-" if v is None else ("%.1f" % v if isinstance(v, float) else str(v))
for label, key in rows:
    print("%-34s %14s %14s" % (label, f(a.get(key)), f(b.get(key))))
for label, key in [("pings sent", "pings_sent"), ("pings lost", "pings_lost"),
                   ("longest silence (ms)", "longest_silence_ms"), ("max RTT (ms)", "max_rtt_ms")]:
    print("%-34s %14s %14s" % (label, f(ra[key]), f(rb[key])))
print("%-34s %14s %14s" % ("registration", a["registration"], b["registration"]))
print("accelerator: %s" % a["accelerator"])
PY
[ -z "$move1_failed" ] || die "move 1: $move1_failed"
[ -z "$move2_failed" ] || die "move 2: $move2_failed"
step "PASS (accelerator $VMR_GUEST_ACCEL)"
