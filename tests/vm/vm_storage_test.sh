#!/usr/bin/env bash
# Storage migration end to end: the real guest with a virtio-blk data disk moved with
# `vmroam-migrate --copy-storage all` across the netns testbed (tests/lib/topology.sh), no
# shared storage between the sites:
#
#   cn ── wan (100 Mbit/s, 4 ms per access link: 8 ms RTT) ──┬── home: vmroam-ha, QEMU g1 + g1.img
#                                                            ├── foreign: vmroam-fa, QEMU g2 + g2.img
#                                                            └── foreign2: vmroam-fa, QEMU g3 + g3.img
#   each QEMU: -blockdev file $dir/gN.img (raw, 256 MiB) → virtio-blk-pci id=vdisk0 (/dev/vda)
#
# 1. g1.img gets 128 MiB of random data (its SHA-256 noted); every destination starts on an
#    empty image of the same size. The guest runs tests/vm/guest-disk-writer.sh: numbered,
#    checksummed 512-byte records appended from sector 327680 (160 MiB) every 0.1 s, each
#    fsync'ed before it is acknowledged on the console;
# 2. move 1 home → foreign and move 2 foreign → foreign2, each `--copy-storage all` with TLS
#    on the migration stream and on NBD (the destination accepts only the source's
#    certificate: tls-authz), the HA's hold and the FA's activation at the switchover; the
#    correspondent pings every 10 ms and holds a TCP echo stream. After each move: 0 pings
#    lost, the stream survived, the summary's storage part complete (mirror ready time, dirty
#    bytes at the switchover, NBD in TLS), and tests/vm/disk_check.py: the random region hashes
#    the same on both images, the records are complete and in order, every source record is
#    on the destination, every acknowledged record is there;
# 3. refusals, each before the first disk byte (setup_failed, nothing mirrored, the target
#    image still empty, the guest answering at home): the destination's certificate from
#    another CA, a --tls-hostname its certificate does not name, a --tls-peer-dn that is not
#    the source's (the destination's tls-authz refuses it). (A plaintext NBD peer cannot sit at
#    the address: the driver starts the destination's NBD server itself, with TLS.)
# 4. failure: a move back home whose destination QEMU is killed mid-mirror (its image has
#    grown past 16 MiB): vmroam-migrate exits 1 without switching, the guest keeps running at
#    foreign2 on its own disk (it answers, it acknowledges new records, disk_check of its own
#    image passes) and the partial target is never run.
# Needs root, qemu-system-x86_64, qemu-img, /dev/net/tun, tc tbf; exit 77 when missing.
# Usage: vm_storage_test.sh BUILD_DIR   (KEEP=1 keeps the run's files)
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

scenario_begin vm-storage "${1:-}" "network namespaces, taps"
guest_test_need qemu-img

random_mib=128
disk_base=327680
killer_pid=
scenario_logs() { guest_test_logs 12 8; }
# The disk images go before scenario.sh keeps the run's files.
scenario_teardown() {
  guest_probe_stop
  [ -n "$killer_pid" ] && kill "$killer_pid" 2>/dev/null
  guest_stop
  agents_stop
  rm -f "$VMR_GUEST_DIR"/*.img
}
scenario_up

guest_test_setup

# Every QEMU from now on has the data disk: $VMR_GUEST_DIR/<its name>.img.
VM_EXTRA_ARGS=$(guest_data_disk_args)
export VM_EXTRA_ARGS
VMR_GUEST_APPEND="vmroam.disk=/dev/vda vmroam.disk_base=$disk_base"
next_image() {  # an empty 256 MiB image for the next QEMU guest.sh starts
  qemu-img create -q -f raw "$VMR_GUEST_DIR/g$((VMR_GUEST_GEN + 1)).img" 256M
}

step "data disk: 256 MiB, $random_mib MiB random"
next_image || die "qemu-img create"
dd if=/dev/urandom of="$VMR_GUEST_DIR/g1.img" bs=1M count=$random_mib conv=notrunc status=none || die "dd"
random_sha=$(head -c $((random_mib << 20)) "$VMR_GUEST_DIR/g1.img" | sha256sum | cut -d' ' -f1)

guest_test_agents home foreign foreign2

step "boot the guest at home with its data disk"
guest_start_source home || die "guest at home"
wait_for "ns_exec cn ping -c1 -W1 $VMR_VM_ADDR" 30 || die "the correspondent cannot ping the guest at home"
wait_for "grep -q 'vmroam-disk ack 5' '$VMR_GUEST_DIR/g1.serial'" 30 ||
  die "the disk writer does not acknowledge records: $(grep vmroam-disk "$VMR_GUEST_DIR/g1.serial" | tail -n 3)"

serials() { for ((i = 1; i <= VMR_GUEST_GEN; i++)); do [ -f "$VMR_GUEST_DIR/g$i.serial" ] && echo "$VMR_GUEST_DIR/g$i.serial"; done; }
disk_check() {  # SRC_IMG DST_IMG
  # shellcheck disable=SC2046
  /usr/bin/python3 "$here/disk_check.py" "$1" "$2" "$random_mib" "$random_sha" "$disk_base" $(serials)
}

# move FROM TO: one storage move with the probe running; checks the network side,
# the summary's storage part and the disks.
move() {
  local from=$1 to=$2 src json report dst_gen
  src=$(guest_qemu_name)
  guest_probe_start "probe-$to" || die "the probe"
  next_image || die "qemu-img create"
  guest_start_dest "$to" || die "destination QEMU at $to"
  dst_gen=$VMR_GUEST_GEN
  guest_migrate "$from" "$to" --tuning socket --copy-storage all >/dev/null ||
    die "vmroam-migrate $from -> $to: $(tail -n 5 "$VMR_GUEST_JSON.log" 2>/dev/null)"
  json=$VMR_GUEST_JSON
  wait_for "[ \$(grep -c 'vmroam-disk ack' '$VMR_GUEST_DIR/g$dst_gen.serial' 2>/dev/null || echo 0) -ge 5 ]" 20 ||
    die "the guest does not acknowledge records after the move to $to"
  guest_probe_stop
  report=$(/usr/bin/python3 - "$VMR_GUEST_DIR/probe-$to.json" "$json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2]))
pings = p["pings"]; lost = sum(1 for a, b in pings if b is None)
st = s.get("storage") or {}
d = (st.get("disks") or [{}])[0]
bad = []
def need(c, what):
    if not c: bad.append(what)
need(s["outcome"] == "completed", "outcome %s: %s" % (s["outcome"], s["error"]))
need(lost == 0, "%d of %d pings lost" % (lost, len(pings)))
need(len(pings) > 100, "only %d pings sent" % len(pings))
need(p["tcp"]["survived"], "TCP echo stream broke: %s" % p["tcp"]["error"])
need(s["registration"] == "active", "registration %s" % s["registration"])
need(d.get("outcome") == "completed", "disk %s" % d)
need(isinstance(d.get("ready_ms"), (int, float)) and d["ready_ms"] > 0, "no mirror ready time: %s" % d)
need(isinstance(d.get("dirty_bytes_at_switchover"), int), "no dirty bytes at the switchover: %s" % d)
need(d.get("mirrored_bytes", 0) >= d.get("allocated_bytes", 1) // 2, "mirrored %s" % d)
need(st.get("nbd_tls", "").startswith("x509") and "accepted" in st.get("nbd_tls", ""), "NBD not TLS+authz: %s" % st.get("nbd_tls"))
need(s["migration_tls"].startswith("x509"), "migration stream %s" % s["migration_tls"])
what = [e["side"] + " " + e["what"] for e in s["timeline"]]
order = [n for n in ("driver storage: mirrors ready", "driver migrate ", "source MIGRATION pre-switchover",
                     "driver storage: mirrors completed", "driver migrate-continue sent", "driver storage: NBD stopped")
         if any(w.startswith(n) for w in what)]
need(len(order) == 6, "timeline lacks storage steps: %s" % what)
idx = [next(i for i, w in enumerate(what) if w.startswith(n)) for n in order]
need(idx == sorted(idx), "storage steps out of order: %s" % what)
print(json.dumps({"bad": bad, "pings": len(pings), "lost": lost, "real_pause_ms": s["real_pause_ms"],
                  "ready_ms": d.get("ready_ms"), "allocated": d.get("allocated_bytes"),
                  "mirrored": d.get("mirrored_bytes"), "dirty_at_switch": d.get("dirty_bytes_at_switchover"),
                  "total_ms": s["total_time_ms"]}))
PY
)
  echo "move $from -> $to: $report"
  [ "$(jq -r '.bad | length' <<<"$report")" = 0 ] || die "move $from -> $to: $(jq -r '.bad | join("; ")' <<<"$report")"
  local dc
  dc=$(disk_check "$VMR_GUEST_DIR/$src.img" "$VMR_GUEST_DIR/g$dst_gen.img") || die "disk after $from -> $to: $dc"
  step "move $from -> $to PASS: 0 pings lost, TCP intact; disk $dc"
}

# refused LABEL ARGS…: a storage move home -> foreign that NBD's TLS must refuse before the
# first disk byte: the setup fails, no mirror ever ran (nothing mirrored, the target image
# still empty), the guest runs on at home.
refused() {
  local label=$1 json
  shift
  next_image || die "qemu-img create"
  guest_start_dest foreign || die "destination QEMU at foreign ($label)"
  local target=$VMR_GUEST_DIR/g$VMR_GUEST_GEN.img
  guest_migrate home foreign --tuning socket --copy-storage all "$@" >/dev/null && die "$label: the move was not refused"
  json=$VMR_GUEST_JSON
  jq -e '.outcome == "setup_failed" and (.switched | not) and (.storage.disks[0].mirrored_bytes == 0)' "$json" >/dev/null ||
    die "$label: $(jq -c '{outcome, error, storage}' "$json")"
  jq -e '[.timeline[].what] | any(. == "storage: mirrors ready" or startswith("migrate ")) | not' "$json" >/dev/null ||
    die "$label: the move went past the NBD setup: $(jq -c '[.timeline[].what]' "$json")"
  [ "$(du -k "$target" | cut -f1)" -lt 1024 ] || die "$label: data reached the target image"
  [ "$(guest_qemu_name)" = g1 ] && kill -0 "$(cat "$VMR_GUEST_DIR/g1.pid")" || die "$label: the source QEMU is gone"
  wait_for "ns_exec cn ping -c1 -W1 $VMR_VM_ADDR" 10 || die "$label: the guest does not answer at home"
  echo "$label: refused before any disk data: $(jq -r .error "$json" | cut -c1-200)"
}

step "NBD TLS refusals (the destination's certificate from another CA, a wrong host name, a source the destination's tls-authz does not name)"
vm_tls_ca "$VMR_GUEST_DIR/tls/other-ca" "another CA $$" &&
  vm_tls_host "$VMR_GUEST_DIR/tls/other-ca" "$VMR_GUEST_DIR/tls/other" "$VMR_FOREIGN_WAN" || die "the second CA's credentials"
refused "wrong CA" --tls-creds-dir-dst "$VMR_GUEST_DIR/tls/other"
refused "wrong host name" --tls-hostname wrong.vmroam.test
refused "source not in tls-authz" --tls-peer-dn "CN=not-the-source"

step "move 1: home -> foreign, --copy-storage all"
move home foreign
step "move 2: foreign -> foreign2, --copy-storage all"
move foreign foreign2

step "failure: move foreign2 -> home, the destination killed mid-mirror"
src=$(guest_qemu_name)
next_image || die "qemu-img create"
guest_start_dest home || die "destination QEMU at home"
victim=g$VMR_GUEST_GEN
(wait_for "[ \$(du -k '$VMR_GUEST_DIR/$victim.img' | cut -f1) -gt 16384 ]" 120 "the mirror to write 16 MiB" &&
  kill -9 "$(cat "$VMR_GUEST_DIR/$victim.pid")") &
killer_pid=$!
rc=0
guest_migrate foreign2 home --tuning socket --copy-storage all >/dev/null || rc=$?
wait "$killer_pid" || die "the destination was never killed (the mirror did not start?)"
killer_pid=
json=$VMR_GUEST_JSON
[ "$rc" = 1 ] || die "vmroam-migrate exited $rc after its destination died, not 1: $(tail -n 5 "$json.log")"
jq -e '(.switched | not) and .outcome != "completed" and (.storage.disks[0].outcome | test("abandoned|failed"))' "$json" >/dev/null ||
  die "failure summary: $(jq -c '{outcome, error, switched, storage}' "$json")"
[ "$(guest_qemu_name)" = "$src" ] || die "the guest left $src ($(guest_qemu_name))"
kill -0 "$(cat "$VMR_GUEST_DIR/$src.pid")" || die "the source QEMU is gone"
acks=$(grep -c 'vmroam-disk ack' "$VMR_GUEST_DIR/$src.serial")
wait_for "[ \$(grep -c 'vmroam-disk ack' '$VMR_GUEST_DIR/$src.serial') -ge $((acks + 5)) ]" 20 ||
  die "the guest stopped acknowledging records at the source after the failed move"
wait_for "ns_exec cn ping -c1 -W1 $VMR_VM_ADDR" 10 || die "the guest does not answer at foreign2 after the failed move"
dc=$(disk_check "$VMR_GUEST_DIR/$src.img" "$VMR_GUEST_DIR/$src.img") || die "the source's disk after the failed move: $dc"
step "failure PASS: $(jq -r .error "$json"); the guest runs on at foreign2 on its own disk ($dc)"
step "PASS (accelerator $VMR_GUEST_ACCEL)"
