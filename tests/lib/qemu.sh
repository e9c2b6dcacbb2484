#!/bin/sh
# Sourced helpers to run the test guest under QEMU 7.2 with the invocation of docs/testing.md
# ("The real guest"). Source tests/lib/wait.sh first (guest.sh does).
#
#   . tests/lib/qemu.sh
#   vm_accel CACHE                         → prints "tcg" or "kvm" (probe: a short KVM boot)
#   vm_start NAME NETNS TAP DIR ACCEL CACHE [INCOMING_URI] [APPEND_EXTRA]
#       starts QEMU inside NETNS on the persistent tap TAP; files in DIR:
#       NAME.qmp (QMP socket), NAME.serial (ttyS0), NAME.log (QEMU's stderr), NAME.pid
#   vm_wait_file PATH SECONDS             polls for a file/socket to appear
#   vm_wait_serial DIR NAME TEXT SECONDS  polls the serial log for TEXT
#   vm_stop DIR NAME                       kills that QEMU (by its recorded pid)
#   vm_ram_kib                             → the guest's RAM in KiB, as -m gets it
#
# Memory 128 MiB ($VM_MEM) plus 8 KiB ($VM_RAM_PAD_KIB): under TCG, QEMU before 9.0 loses guest
# stores during a migration when the RAM is a whole number of 256 KiB dirty-bitmap words;
# 8 KiB more keeps the guest off that path (docs/migration.md "A tighter downtime-limit, and
# guests that break"). VM_RAM_PAD_KIB=0 gives the exposed layout, to reproduce the defect.
# 1 vCPU, virtio-net with a fixed MAC (both sides must match for migration).
# no_timer_check: under TCG on a loaded host the kernel's IO-APIC timer check misses its ticks
# and panics at boot ("IO-APIC + timer doesn't work!"); a virtual machine's timer is known good.
# $VM_EXTRA_ARGS: more QEMU arguments (e.g. a data disk), "@NAME@" replaced by the QEMU's name.
# The serial console is written to memory (tmpfs, /dev/shm), DIR/NAME.serial a link to it until
# vm_stop copies it into DIR: QEMU writes each console byte synchronously from the vCPU thread
# under its global lock, so a write the host's disk stalls stops the whole guest, its network
# included (docs/testing.md, "The real guest": a 5 s stall stalled both TCP streams of the demo).
# VM_CONSOLE_ON_DISK=1 writes it in DIR as before (tests/vm/console_stall_test.sh shows why not).

VM_MAC=${VM_MAC:-52:54:00:12:34:56}
VM_MEM=${VM_MEM:-128}
VM_RAM_PAD_KIB=${VM_RAM_PAD_KIB:-8}

vm_ram_kib() { echo $((VM_MEM * 1024 + VM_RAM_PAD_KIB)); }

vm_wait_file() { wait_for "[ -e '$1' ]" "$2" "$1 to appear"; }

vm_wait_serial() { wait_for "grep -q '$3' '$1/$2.serial'" "$4" "'$3' on the serial console of $2"; }

# $1 name $2 netns $3 tap $4 dir $5 accel $6 cache [$7 incoming uri] [$8 extra kernel args]
vm_start() {
  _accel="-accel tcg -cpu max"
  [ "$5" = kvm ] && _accel="-accel kvm -cpu host"
  _incoming=""
  [ -n "${7:-}" ] && _incoming="-incoming $7"
  _extra=$(printf '%s' "${VM_EXTRA_ARGS:-}" | sed "s/@NAME@/$1/g")
  rm -f "$4/$1.qmp" "$4/$1.serial"
  _serial=$4/$1.serial
  if [ "${VM_CONSOLE_ON_DISK:-0}" != 1 ] && [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] &&
    _shm=$(mktemp /dev/shm/vmroam-serial.XXXXXX 2>/dev/null); then
    _serial=$_shm
    ln -s "$_serial" "$4/$1.serial"
  fi
  # shellcheck disable=SC2086
  ip netns exec "$2" qemu-system-x86_64 -machine pc-i440fx-7.2 $_accel -smp 1 -m "$(vm_ram_kib)K" \
    -nodefaults -no-user-config -display none -vga none \
    -kernel "$6/vmlinuz" -initrd "$6/initrd.gz" -append "console=ttyS0 quiet panic=-1 no_timer_check ${8:-}" \
    -serial "file:$_serial" -qmp "unix:$4/$1.qmp,server=on,wait=off" \
    -netdev "tap,id=n0,ifname=$3,script=no,downscript=no,vhost=off" \
    -device "virtio-net-pci,netdev=n0,mac=$VM_MAC" $_incoming $_extra \
    </dev/null >"$4/$1.log" 2>&1 &
  echo $! > "$4/$1.pid"
}

vm_stop() {
  if [ -f "$1/$2.pid" ]; then
    _pid=$(cat "$1/$2.pid")
    kill "$_pid" 2>/dev/null || true
    wait_for "! kill -0 $_pid" 5 "QEMU $2 ($_pid) to exit" 2>/dev/null || true
    kill -9 "$_pid" 2>/dev/null || true
    rm -f "$1/$2.pid"
  fi
  # The console from memory into DIR (also for a QEMU that exited by itself).
  if [ -L "$1/$2.serial" ]; then
    _shm=$(readlink "$1/$2.serial")
    cp --remove-destination "$_shm" "$1/$2.serial" 2>/dev/null || rm -f "$1/$2.serial"
    rm -f "$_shm"
  fi
}

# KVM here may be PVM nested virtualisation that never finishes booting a stock kernel
# (docs/testing.md, "The real guest"), so "KVM enabled" proves nothing: boot the guest briefly and
# use KVM only if it prints its first line in time. VMROAM_ACCEL=tcg|kvm skips the probe.
# $1 cache $2 netns $3 tap $4 dir
vm_accel() {
  if [ -n "${VMROAM_ACCEL:-}" ]; then echo "$VMROAM_ACCEL"; return; fi
  if ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then echo tcg; return; fi
  vm_start probe "$2" "$3" "$4" kvm "$1"
  if vm_wait_serial "$4" probe "vmroam-guest up" "${VMROAM_KVM_PROBE_S:-8}" 2>/dev/null; then _a=kvm; else _a=tcg; fi
  vm_stop "$4" probe
  echo "$_a"
}
