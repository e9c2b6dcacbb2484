#!/usr/bin/env bash
# vm test 'console_stall': the guest keeps running while the host's disk under its directory
# stalls. QEMU writes the serial console from the vCPU thread under its global lock, so a
# console write that blocks stops the whole guest, its network included; tests/lib/qemu.sh
# therefore writes the console to tmpfs (docs/testing.md, "The real guest").
#
#   netns vmc-<pid>
#   ┌──────────────────────────────────────────────────────────────┐
#   │  vmroam-probe run ── br0 10.1.0.1/24 ── vmrcS (tap) ── QEMU   │
#   │  (ICMP + TCP echo every 10 ms)            guest 10.1.0.10    │
#   └──────────────────────────────────────────────────────────────┘
#   the guest's directory: an ext4 file system of its own (a loop device), frozen with
#   `fsfreeze` for 5 s while the probe measures
#
# Two rounds, the same freeze:
#   1. VM_CONSOLE_ON_DISK=1 (the console in the frozen directory): the guest stops — its
#      TCP echo stream stalls past the probe's 2 s. This round checks the premise: without
#      it the second round would prove nothing.
#   2. the default (the console in memory): 0 pings lost, the stream intact.
# Needs root, qemu-system-x86_64, /dev/net/tun, a loop device, mkfs.ext4 and fsfreeze: exit 77
# naming what is missing.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/wait.sh
. "$here/../lib/wait.sh"
# shellcheck source=../lib/qemu.sh
. "$here/../lib/qemu.sh"
probe=$here/../../tools/probe/vmroam-probe

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces, taps, mount)"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: no qemu-system-x86_64"; exit 77; }
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun (TUN/TAP)"; exit 77; }
for t in mkfs.ext4 fsfreeze losetup; do
  command -v "$t" >/dev/null || { echo "SKIP: no $t"; exit 77; }
done

ns=vmc-$$
work=$(mktemp -d /tmp/vmroam-console.XXXXXX)
dir=$work/fs
frozen=0
cleanup() {
  [ "$frozen" = 1 ] && fsfreeze -u "$dir" 2>/dev/null
  [ -n "${probe_pid:-}" ] && kill -TERM "$probe_pid" 2>/dev/null
  vm_stop "$dir" g 2>/dev/null
  mountpoint -q "$dir" && umount "$dir"
  ip netns del "$ns" 2>/dev/null || true
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT INT TERM
step() { echo "== $*"; }
die() { echo "FAIL: $*"; for f in "$dir"/*.log "$dir"/*.serial; do [ -f "$f" ] && { echo "--- $f"; tail -n 5 "$f"; }; done; exit 1; }

mkdir -p "$dir"
truncate -s 64M "$work/fs.img"
mkfs.ext4 -q -F "$work/fs.img" || die "mkfs.ext4"
# The only device this test may lack: a loop device to mount the image on.
mount -o loop "$work/fs.img" "$dir" 2>"$work/mount.err" ||
  { echo "SKIP: no loop device to mount a file system on ($(head -n 1 "$work/mount.err"))"; exit 77; }

cache=$("$here/build-guest.sh") || die "build-guest.sh"
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add br0 type bridge
ip -n "$ns" addr add 10.1.0.1/24 dev br0
ip -n "$ns" link set br0 up
ip -n "$ns" tuntap add dev vmrcS mode tap
ip -n "$ns" link set vmrcS master br0 up
accel=$(vm_accel "$cache" "$ns" vmrcS "$dir")
step "accelerator: $accel"

# round NAME: boot the guest, measure 1.5 s, freeze the guest's directory for 5 s, measure
# 1.5 s more; leaves $work/NAME.json (the probe's samples) and the guest stopped.
round() {
  local name=$1
  vm_start g "$ns" vmrcS "$dir" "$accel" "$cache"
  vm_wait_serial "$dir" g "vmroam-guest up" 60 || die "$name: the guest did not come up"
  console_link=$(readlink "$dir/g.serial" || true)
  wait_for "ip netns exec $ns ping -c 1 -W 1 10.1.0.10 >/dev/null" 30 || die "$name: the guest does not answer pings"
  # The guest's echo service restarts between connections: the probe's connect may need a
  # retry. The probe writes its status file once connected, and exits if it could not connect.
  local try st=$work/$name.status
  for try in 1 2 3 4 5; do
    rm -f "$st"
    ip netns exec "$ns" "$probe" run --target 10.1.0.10 --port 7 --interval-ms 10 --drain-s 2 \
      --out "$work/$name.json" --status "$st" 2>"$work/$name.probe.err" &
    probe_pid=$!
    wait_for "[ -s '$st' ] || ! kill -0 $probe_pid" 10
    [ -s "$st" ] && kill -0 "$probe_pid" 2>/dev/null && break
    probe_pid=
    sleep 0.5  # a refused connect fails at once: space the tries
  done
  [ -n "$probe_pid" ] || die "$name: the probe did not start: $(tail -n 2 "$work/$name.probe.err")"
  sleep 1.5  # measured before the freeze
  frozen=1
  fsfreeze -f "$dir" || die "fsfreeze -f"
  sleep 5  # the freeze
  fsfreeze -u "$dir" || die "fsfreeze -u"
  frozen=0
  sleep 1.5  # measured after it
  kill -TERM "$probe_pid"
  wait "$probe_pid"
  probe_pid=
  vm_stop "$dir" g
  [ -s "$work/$name.json" ] || die "$name: no samples from the probe"
}

# verdict FILE: "lost=N tcp=survived|<error> silence_ms=N" (the longest time without a reply).
verdict() {
  /usr/bin/python3 - "$1" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
p = s["pings"]
rx = sorted(r for _, r in p if r is not None)
gap = max((b - a for a, b in zip(rx, rx[1:])), default=0.0)
print("lost=%d tcp=%s silence_ms=%d" % (sum(1 for _, r in p if r is None),
      "survived" if s["tcp"]["survived"] else s["tcp"]["error"].replace(" ", "_"), gap * 1000))
PY
}

step "round 1: the console in the guest's directory (VM_CONSOLE_ON_DISK=1), frozen 5 s"
VM_CONSOLE_ON_DISK=1 round disk
[ -L "$dir/g.serial" ] && die "VM_CONSOLE_ON_DISK=1 still linked the console to memory"
on_disk=$(verdict "$work/disk.json")
echo "   $on_disk"
case "$on_disk" in
  *tcp=stalled*) ;;
  *) die "the premise does not hold: with its console on the frozen disk the guest kept running ($on_disk)" ;;
esac
grep -q 'vmroam-guest tick' "$dir/g.serial" || die "no console ticks in the first round"

step "round 2: the console in memory (the default), the same freeze"
round memory
in_memory=$(verdict "$work/memory.json")
echo "   $in_memory"
case "$in_memory" in
  "lost=0 tcp=survived "*) ;;
  *) die "the guest stopped while its directory was frozen, with its console in memory ($in_memory)" ;;
esac
# vm_stop copied the console from memory into the directory, and removed it from memory.
[ -n "$console_link" ] || die "the console was not linked to memory"
[ -f "$dir/g.serial" ] && [ ! -L "$dir/g.serial" ] && grep -q 'vmroam-guest tick' "$dir/g.serial" ||
  die "the console was not copied into the guest's directory"
[ ! -e "$console_link" ] || die "vm_stop left the console in memory ($console_link)"
echo "PASS: frozen 5 s: console on disk -> $on_disk; console in memory -> $in_memory"
