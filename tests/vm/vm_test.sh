#!/bin/sh
# The real guest, live-migrated twice between two QEMUs by vmroam-migrate (no agents):
#
#   netns vmq-<pid>
#   ┌──────────────────────────────────────────────────────────┐
#   │  br0 10.1.0.1/24 ── vmrqS (tap) ── QEMU A  ┐ guest       │
#   │        │         ├─ vmrqD (tap) ── QEMU B  ┘ 10.1.0.10   │
#   │        │         └─ vmrqP (tap) ── plaintext QEMU (refusal case)
#   │  migration stream over lo: tcp:127.0.0.1:4444 / :4445    │
#   └──────────────────────────────────────────────────────────┘
#
# 1. build the guest (tests/vm/build-guest.sh), pick the accelerator (KVM probe → TCG),
#    boot A, ping the guest and talk to its echo port;
# 2. TLS refusals, each before any memory is sent (no MIGRATION active, no pass), the guest
#    still answering at A: the destination's certificate from another CA; a --tls-hostname
#    its certificate does not name; a --tls-peer-dn that is not the source's (the
#    destination's tls-authz refuses the source after the handshake: the source may have
#    begun sending, encrypted to the verified destination, which loads nothing); a plaintext
#    QEMU listening where --uri points;
# 3. migrate A → B with --tuning none, then B → A' with --tuning socket, each with --fa none
#    and TLS (x509 creds made by tests/lib/tls.sh, object-added by the driver);
#    each run must show pre-switchover, migrate-continue, completed and RESUME, and a real
#    pause (STOP → RESUME); the guest answers after each move and is whole (tests/lib/
#    integrity.sh: it ticks, no virtio/panic line, its memory check — vmroam.memcheck — passes
#    with the checksum the host computes).
# Prints the measured pauses. Needs root, qemu-system-x86_64, busybox; exit 77 if missing.
set -eu
migrate=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/wait.sh"
. "$here/../lib/qemu.sh"
. "$here/../lib/tls.sh"
. "$here/../lib/integrity.sh"

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces, taps)"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: no qemu-system-x86_64"; exit 77; }
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun (TUN/TAP)"; exit 77; }

ns=vmq-$$
dir=$(mktemp -d /tmp/vmroam-vm.XXXXXX)
cleanup() {
  for v in probe a b a2 x p; do vm_stop "$dir" "$v"; done
  ip netns del "$ns" 2>/dev/null || true
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT INT TERM

step() { echo "== $*"; }
die() { echo "FAIL: $*"; for f in "$dir"/*.log "$dir"/*.serial; do [ -f "$f" ] && { echo "--- $f"; tail -n 5 "$f"; }; done; exit 1; }

step "build guest"
cache=$("$here/build-guest.sh")
VMR_MEMCHECK=$cache/vmroam-memcheck
# The guest's memory check (tests/lib/integrity.sh), seeded per run.
seed=$$

step "TLS credentials (openssl)"
vm_tls_ca "$dir/tls/ca" "vmroam test CA" && vm_tls_host "$dir/tls/ca" "$dir/tls/host" 127.0.0.1 ||
  die "could not make the TLS credentials"
vm_tls_ca "$dir/tls/other-ca" "another CA" && vm_tls_host "$dir/tls/other-ca" "$dir/tls/other" 127.0.0.1 ||
  die "could not make the second CA's credentials"
tls="--tls-creds-dir-src $dir/tls/host --tls-creds-dir-dst $dir/tls/host"

ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add br0 type bridge
ip -n "$ns" addr add 10.1.0.1/24 dev br0
ip -n "$ns" link set br0 up
for t in vmrqS vmrqD vmrqP; do
  ip -n "$ns" tuntap add dev "$t" mode tap
  ip -n "$ns" link set "$t" master br0 up
done

accel=$(vm_accel "$cache" "$ns" vmrqS "$dir")
step "accelerator: $accel"

ping_guest() {  # $1 seconds: poll until one ping answers
  _n=0
  until ip netns exec "$ns" ping -c 1 -W 1 10.1.0.10 >/dev/null 2>&1; do
    _n=$((_n + 1))
    [ "$_n" -ge "$1" ] && return 1
  done
}
echo_guest() {  # poll up to ~10 s: the guest's `nc -l` restarts between connections, and right
  # after "vmroam-guest up" it may not listen yet (a refused connect fails at once, so the
  # tries need spacing, not just a count)
  for _try in $(seq 20); do
    _got=$(echo "vmroam-echo-$1" | ip netns exec "$ns" timeout 3 busybox nc -w 2 10.1.0.10 7 2>/dev/null || true)
    [ "$_got" = "vmroam-echo-$1" ] && return 0
    sleep 0.5
  done
  return 1
}

step "boot A"
vm_start a "$ns" vmrqS "$dir" "$accel" "$cache" "" "$(vmr_memcheck_append $seed 8)"
vm_wait_serial "$dir" a "vmroam-guest up" 60 || die "guest did not come up"
ping_guest 30 || die "no ping answer from the guest"
echo_guest boot || die "echo port 7 did not echo"
step "guest answers ping and echo"

check_run() {  # $1 summary json $2 label
  /usr/bin/python3 - "$1" "$2" <<'PY' || die "summary check failed for $2"
import json, sys
s = json.load(open(sys.argv[1]))
what = [e["side"] + " " + e["what"] for e in s["timeline"]]
need = ["source MIGRATION pre-switchover", "driver migrate-continue sent",
        "source MIGRATION completed", "destination RESUME"]
missing = [n for n in need if n not in what]
assert s["outcome"] == "completed", s
assert not missing, ("missing", missing, what)
order = [what.index(n) for n in need[:3]]
assert order == sorted(order), what
assert s["real_pause_ms"] is not None and s["real_pause_ms"] > 0, s
assert s["migration_tls"].startswith("x509"), s["migration_tls"]
print("%s: real pause %.1f ms, QEMU downtime %s ms, continue %.2f ms after pre-switchover, "
      "total %.0f ms, %d bytes, %d passes, accelerator %s, tuning %s" % (
      sys.argv[2], s["real_pause_ms"], s["qemu_downtime_ms"], s["continue_after_pre_switchover_ms"],
      s["total_time_ms"], s["bytes_transferred"], s["passes"], s["accelerator"], s["tuning"]))
PY
}

# $1 label $2 uri, then vmroam-migrate arguments: the move must be refused before any memory
# is sent, and the guest must still run at A.
refused() {
  _label=$1 _uri=$2
  shift 2
  vm_start x "$ns" vmrqD "$dir" "$accel" "$cache" tcp:127.0.0.1:4444
  vm_wait_file "$dir/x.qmp" 10 || die "destination QMP socket missing ($_label)"
  _rc=0
  # shellcheck disable=SC2086
  ip netns exec "$ns" "$migrate" --source "$dir/a.qmp" --dest "$dir/x.qmp" --uri "$_uri" \
    --fa none --tuning none --quiet --json "$dir/refused.json" "$@" >"$dir/refused.log" 2>&1 || _rc=$?
  [ "$_rc" = 1 ] || die "$_label: vmroam-migrate exited $_rc, not 1: $(tail -n 5 "$dir/refused.log")"
  /usr/bin/python3 - "$dir/refused.json" "$_label" "${refused_after_handshake:-0}" <<'PY' || die "$_label: refusal check failed"
import json, sys
s = json.load(open(sys.argv[1]))
what = [e["side"] + " " + e["what"] for e in s["timeline"]]
assert s["outcome"] == "migration_failed", s["outcome"]
assert not s["switched"], s
sent = [w for w in what if w.startswith("source MIGRATION_PASS") or w == "source MIGRATION active"]
# tls-authz is the destination's check of the source, after the handshake: the source has
# verified the destination already and may have started (encrypted, to the right host); the
# destination refuses before loading anything.
assert not sent or sys.argv[3] == "1", ("memory was being sent", what)
print("%s: refused: %s" % (sys.argv[2], s["error"]))
PY
  vm_stop "$dir" x
  kill -0 "$(cat "$dir/a.pid")" 2>/dev/null || die "$_label: the source QEMU is gone"
  echo_guest "$_label" || die "$_label: the guest does not answer at the source"
}

step "TLS refusals"
# shellcheck disable=SC2086
refused "wrong CA" tcp:127.0.0.1:4444 --tls-creds-dir-src "$dir/tls/host" --tls-creds-dir-dst "$dir/tls/other"
# shellcheck disable=SC2086
refused "wrong host name" tcp:127.0.0.1:4444 $tls --tls-hostname wrong.vmroam.test
# shellcheck disable=SC2086
refused_after_handshake=1 refused "source not in tls-authz" tcp:127.0.0.1:4444 $tls --tls-peer-dn CN=not-the-source
vm_start p "$ns" vmrqP "$dir" "$accel" "$cache" tcp:127.0.0.1:4446
vm_wait_file "$dir/p.qmp" 10 || die "plaintext QEMU's QMP socket missing"
# shellcheck disable=SC2086
refused "plaintext peer" tcp:127.0.0.1:4446 $tls
vm_stop "$dir" p

step "migrate A -> B (--tuning none)"
vm_start b "$ns" vmrqD "$dir" "$accel" "$cache" tcp:127.0.0.1:4444
vm_wait_file "$dir/b.qmp" 10 || die "destination QMP socket missing"
# shellcheck disable=SC2086
ip netns exec "$ns" "$migrate" --source "$dir/a.qmp" --dest "$dir/b.qmp" --uri tcp:127.0.0.1:4444 \
  --fa none --tuning none --quiet --json "$dir/run1.json" $tls || die "vmroam-migrate A -> B failed"
check_run "$dir/run1.json" "A->B tuning none"
vm_stop "$dir" a
ping_guest 10 || die "guest unreachable after the first migration"
echo_guest moved || die "echo after the first migration"
whole=$(vmr_integrity "$dir/b.serial" $seed 8) || die "the guest broke in the move A -> B: $whole"
echo "A -> B guest integrity: $whole"

step "migrate B -> A' (--tuning socket)"
vm_start a2 "$ns" vmrqS "$dir" "$accel" "$cache" tcp:127.0.0.1:4445
vm_wait_file "$dir/a2.qmp" 10 || die "destination QMP socket missing"
# shellcheck disable=SC2086
ip netns exec "$ns" "$migrate" --source "$dir/b.qmp" --dest "$dir/a2.qmp" --uri tcp:127.0.0.1:4445 \
  --fa none --tuning socket --quiet --json "$dir/run2.json" $tls || die "vmroam-migrate B -> A' failed"
check_run "$dir/run2.json" "B->A' tuning socket"
vm_stop "$dir" b
ping_guest 10 || die "guest unreachable after the second migration"
echo_guest back || die "echo after the second migration"
whole=$(vmr_integrity "$dir/a2.serial" $seed 8) || die "the guest broke in the move B -> A': $whole"
echo "B -> A' guest integrity: $whole"
step "PASS"
