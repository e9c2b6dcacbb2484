#!/bin/sh
# Is the guest whole after a move? (docs/testing.md, "Guest integrity".) Under TCG here QEMU 7.2
# has broken the test guest in some migrations (virtio-net "id N is not a head!", panics): a
# test or benchmark that only pings would count a dead guest's silence as the network's. So
# after every move the vm tests and the benchmarks ask the guest's own console:
#   * it still ticks ("vmroam-guest tick", once a second, tests/vm/build-guest.sh);
#   * no virtio, oops or panic line;
#   * its memory check (tests/vm/memcheck.c, vmroam.memcheck=SEED:MIB) ran at least two
#     rounds at the new site, each "ok", and the last round's checksum of the whole region is
#     the one the host computes itself (vmroam-memcheck --expect SEED MIB ROUND).
#
#   . tests/lib/integrity.sh            (POSIX sh: vm_test.sh runs under dash; wait.sh first)
#   vmr_memcheck_append SEED [MIB]      the kernel argument that starts the check (MIB 8)
#   vmr_integrity SERIAL SEED MIB [WAIT_S]
#       SERIAL: the serial log of the QEMU that runs the guest since the move (it holds only
#       what the guest printed there). Waits up to WAIT_S (20) for a tick and two memcheck
#       rounds, then prints "ok: …" and returns 0, or prints what is broken and returns 1.
#   $VMR_MEMCHECK                       the host's vmroam-memcheck, built by build-guest.sh with
#                                       the guest (default: $VMR_GUEST_CACHE/vmroam-memcheck)
#
# The lines that mean a broken guest (also used by the benchmarks' counts):
VMR_BROKEN_RE='not a head|virtio.*(broken|error)|Kernel panic|BUG:|Oops|general protection|vmroam-memcheck BAD'

vmr_memcheck_append() { echo "vmroam.memcheck=$1:${2:-8}"; }

_vmr_memcheck_bin() {
  echo "${VMR_MEMCHECK:-${VMR_GUEST_CACHE:-}/vmroam-memcheck}"
}

# _vmr_integrity_ready SERIAL: a broken line, or a tick and two memcheck rounds.
_vmr_integrity_ready() {
  grep -a -q -E "$VMR_BROKEN_RE" "$1" && return 0
  grep -a -q 'vmroam-guest tick' "$1" && [ "$(grep -a -c 'vmroam-memcheck ok' "$1")" -ge 2 ]
}

vmr_integrity() {
  local serial=$1 seed=$2 mib=$3 wait_s=${4:-20} bad last round sum want
  [ -f "$serial" ] || { echo "no serial log $serial"; return 1; }
  wait_for "_vmr_integrity_ready '$serial'" "$wait_s" "the guest to tick and verify its memory twice at the new site" 2>/dev/null
  bad=$(grep -a -m1 -E "$VMR_BROKEN_RE" "$serial" | tr -d '\r')
  [ -z "$bad" ] || { echo "$bad"; return 1; }
  grep -a -q 'vmroam-guest tick' "$serial" || { echo "no serial tick at the new site within ${wait_s} s"; return 1; }
  last=$(grep -a 'vmroam-memcheck ok' "$serial" | tail -n 1 | tr -d '\r')
  [ "$(grep -a -c 'vmroam-memcheck ok' "$serial")" -ge 2 ] ||
    { echo "fewer than two memory-check rounds at the new site within ${wait_s} s (last: ${last:-none})"; return 1; }
  round=$(echo "$last" | sed -n 's/.*round=\([0-9]*\).*/\1/p')
  sum=$(echo "$last" | sed -n 's/.*sum=\([0-9a-f]*\).*/\1/p')
  want=$("$(_vmr_memcheck_bin)" --expect "$seed" "$mib" "$round") || { echo "cannot run $(_vmr_memcheck_bin)"; return 1; }
  [ "$sum" = "$want" ] || { echo "memory checksum of round $round is $sum, the host computes $want"; return 1; }
  echo "ok: ticks, memory check round $round sum $sum = the host's"
}
