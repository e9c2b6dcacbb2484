#!/usr/bin/env bash
# libvirtd instances on the netns testbed: one system-mode libvirtd per site, each inside that
# site's router namespace with its own private /etc/libvirt, /run/libvirt, /var/lib/libvirt,
# /var/cache/libvirt and /var/log/libvirt (bind mounts in a private mount namespace) and a
# distinct host_uuid (libvirt refuses to migrate to a host with its own UUID). The test guest
# is a libvirt domain of the same kernel + busybox image the vm suite boots.
#
# Source after topology.sh (needs topo_ns, _vmr_site_bridge, wait_for, $VMR_RUN_DIR):
#
#   lv_check                     exit status 77 and a line naming what is missing (libvirtd,
#                                virsh; QEMU and /dev/net/tun: guest.sh's guest_test_need)
#   lv_start SITE                libvirtd in SITE's namespace; returns once it answers
#   lv_uri SITE                  the URI that reaches SITE's libvirtd from the root namespace
#   lv_virsh SITE ARGS…          virsh against SITE's libvirtd
#   lv_tap_up SITE               the persistent tap $LV_TAP on SITE's VM-facing bridge (the
#                                domain's <interface type='ethernet'> finds it on every site)
#   lv_serial                    where the guest's serial console goes: a file in memory
#                                (tmpfs, /dev/shm) when there is one, else $LV_DIR/guest.serial.
#                                QEMU writes the console from the vCPU thread under its global
#                                lock: a write the host's disk stalls stops the guest (see
#                                tests/lib/qemu.sh). lv_stop_all copies it to $LV_DIR/guest.serial
#   lv_domain_xml CACHE SERIAL   the test guest's domain XML (stdout); CACHE from
#                                tests/vm/build-guest.sh; the vmroam metadata names VM $VMR_VM_ID;
#                                $VM_MEM MiB (128), $LV_APPEND extra kernel arguments (none);
#                                LV_METADATA=0 leaves the metadata out
#   lv_migrate FROM TO           `virsh migrate --live` FROM → TO, the memory stream on TO's
#                                WAN address; prints virsh's output
#   lv_restart SITE              stop SITE's libvirtd and start it again (running domains stay;
#                                libvirtd reattaches to their QEMUs)
#   lv_stop_all                  destroy every domain, stop every libvirtd of this run, remove
#                                the taps
#   lv_qemu_pid SITE             the pid of the test domain's QEMU at SITE (libvirt's pid file)
#   lv_kill_qemu_on LOG TEXT SITE
#                                in the background: once a line containing TEXT is appended to
#                                LOG, SIGKILL the domain's QEMU at SITE (a failure injected at a
#                                precise step of a move); its pid in $LV_KILLER_PID
#
# Files: $LV_DIR/SITE/{etc,run,lib,cache,log}; libvirtd's log $LV_DIR/SITE/libvirtd.log.

LV_DIR=${LV_DIR:-$VMR_RUN_DIR/libvirt}
LV_TAP=${LV_TAP:-vmrl0}
LV_DOMAIN=${LV_DOMAIN:-vmroam-guest}
LV_SITES_STARTED=()

_lv_err() { echo "libvirtd: $*" >&2; }

lv_check() {
  local bin
  for bin in libvirtd virsh; do
    command -v "$bin" >/dev/null || { echo "missing $bin (apt-get install libvirt-daemon-system libvirt-clients)"; return 77; }
  done
  return 0
}

lv_uri() { echo "qemu+unix:///system?socket=$LV_DIR/$1/run/libvirt-sock"; }

lv_virsh() {
  local site=$1
  shift
  virsh -q -c "$(lv_uri "$site")" "$@"
}

# _lv_prepare_dirs SITE: a private copy of the stock configuration with this instance's own
# host_uuid, no autostarted networks, and QEMU run as root without a security driver (the
# testbed has no securityfs; the kernel image lives in the build tree).
_lv_prepare_dirs() {
  local d=$LV_DIR/$1
  mkdir -p "$d"/{run,lib,cache,log} || return 1
  rm -rf "${d:?}/etc"
  cp -a /etc/libvirt "$d/etc" || return 1
  rm -rf "$d/etc/qemu/networks/autostart" "$d/etc/hooks"
  mkdir -p "$d/etc/hooks"
  printf '\nhost_uuid = "%s"\nlisten_tls = 0\nlisten_tcp = 0\nlog_outputs = "3:file:/var/log/libvirt/libvirtd.log"\n' \
    "$(cat /proc/sys/kernel/random/uuid)" >>"$d/etc/libvirtd.conf"
  printf '\nuser = "root"\ngroup = "root"\ndynamic_ownership = 0\nsecurity_driver = "none"\nstdio_handler = "file"\n' \
    >>"$d/etc/qemu.conf"
}

# _lv_launch SITE: libvirtd in SITE's namespace and a private mount namespace in which its
# own directories cover the stock ones; its pid (after the execs) in $LV_DIR/SITE/libvirtd.pid.
_lv_launch() {
  local d=$LV_DIR/$1 ns
  ns=$(topo_ns "$1") || return 1
  # shellcheck disable=SC2016 # $1 expands in the inner shell
  ip netns exec "$ns" unshare --mount --propagation private /bin/sh -c '
    d=$1
    mount --bind "$d/etc" /etc/libvirt && mount --bind "$d/run" /run/libvirt &&
      mount --bind "$d/lib" /var/lib/libvirt && mount --bind "$d/cache" /var/cache/libvirt &&
      mount --bind "$d/log" /var/log/libvirt || exit 1
    exec libvirtd --pid-file "$d/run/libvirtd.pid"' sh "$d" </dev/null >>"$d/libvirtd.out" 2>&1 &
  echo $! >"$d/libvirtd.pid"
}

lv_start() {
  local site=$1 ns d
  ns=$(topo_ns "$site") || return 1
  d=$LV_DIR/$site
  _lv_prepare_dirs "$site" || { _lv_err "cannot prepare $d"; return 1; }
  mkdir -p /run/libvirt  # the mount point; each instance mounts its own over it
  _lv_launch "$site" || return 1
  LV_SITES_STARTED+=("$site")
  if ! wait_for "virsh -c '$(lv_uri "$site")' version" 30; then
    _lv_err "libvirtd at $site did not answer: $(tail -n 5 "$d/libvirtd.out" "$d/log/libvirtd.log" 2>/dev/null)"
    return 1
  fi
}

lv_tap_up() {
  local site=$1 ns bridge
  ns=$(topo_ns "$site") || return 1
  bridge=$(_vmr_site_bridge "$site") || return 1
  ip -n "$ns" link show "$LV_TAP" >/dev/null 2>&1 || _vmr_do ip -n "$ns" tuntap add dev "$LV_TAP" mode tap || return 1
  _vmr_do ip -n "$ns" link set "$LV_TAP" master "$bridge" up
}

# <cpu mode='maximum'/> is QEMU's -cpu max, as tests/lib/qemu.sh runs the guest: with libvirt's
# default CPU model, TCG guests broke (kernel list corruption) after their first migration
# (docs/testing.md).
_lv_metadata() {
  [ "${LV_METADATA:-1}" = 1 ] || return 0
  printf "  <metadata>\n    <vmroam:vm xmlns:vmroam='https://vmroam.example/xmlns/1' id='%s'/>\n  </metadata>" "$VMR_VM_ID"
}

lv_domain_xml() {
  local cache=$1 serial=$2
  cat <<EOF
<domain type='qemu'>
  <name>$LV_DOMAIN</name>
  <memory unit='MiB'>${VM_MEM:-128}</memory>
  <vcpu>1</vcpu>
  <cpu mode='maximum'/>
$(_lv_metadata)
  <os>
    <type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type>
    <kernel>$cache/vmlinuz</kernel>
    <initrd>$cache/initrd.gz</initrd>
    <cmdline>console=ttyS0 quiet panic=-1${LV_APPEND:+ $LV_APPEND}</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>$(command -v qemu-system-x86_64)</emulator>
    <interface type='ethernet'>
      <mac address='${VM_MAC:-52:54:00:12:34:56}'/>
      <target dev='$LV_TAP' managed='no'/>
      <model type='virtio'/>
      <driver name='qemu'/>
    </interface>
    <serial type='file'>
      <source path='$serial' append='on'/>
      <target port='0'/>
    </serial>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
}

lv_migrate() {
  local from=$1 to=$2 wan
  wan=$(_vmr_site_wan "$to") || return 1
  lv_virsh "$from" migrate --live --verbose "$LV_DOMAIN" "$(lv_uri "$to")" "tcp://$wan" 2>&1
}

lv_serial() {
  if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
    echo "/dev/shm/vmroam-lv-$VMR_SUFFIX.serial"
  else
    echo "$LV_DIR/guest.serial"
  fi
}

lv_stop_all() {
  local site pid d serial
  for site in "${LV_SITES_STARTED[@]}"; do
    d=$LV_DIR/$site
    virsh -q -c "$(lv_uri "$site")" destroy "$LV_DOMAIN" >/dev/null 2>&1 || true
    [ -f "$d/libvirtd.pid" ] || continue
    pid=$(cat "$d/libvirtd.pid")
    kill -TERM "$pid" 2>/dev/null || true
    wait_for "! kill -0 $pid" 10 || kill -KILL "$pid" 2>/dev/null
    rm -f "$d/libvirtd.pid"
  done
  for site in "${VMR_SITES[@]}"; do
    ip -n "$(topo_ns "$site")" link del "$LV_TAP" 2>/dev/null || true
  done
  LV_SITES_STARTED=()
  serial=$(lv_serial)
  if [ "$serial" != "$LV_DIR/guest.serial" ] && [ -f "$serial" ]; then
    mkdir -p "$LV_DIR" && cp "$serial" "$LV_DIR/guest.serial"
    rm -f "$serial"
  fi
  return 0
}

# lv_restart SITE: stop SITE's libvirtd (its domains keep running: libvirt reattaches to them)
# and start it again with the same directories.
lv_restart() {
  local site=$1 d=$LV_DIR/$1 pid ns
  ns=$(topo_ns "$site") || return 1
  pid=$(cat "$d/libvirtd.pid" 2>/dev/null) || { _lv_err "no libvirtd at $site"; return 1; }
  kill -TERM "$pid" 2>/dev/null
  wait_for "! kill -0 $pid" 15 || { _lv_err "libvirtd at $site did not stop"; return 1; }
  _lv_launch "$site" || return 1
  wait_for "virsh -c '$(lv_uri "$site")' version" 30 || { _lv_err "libvirtd at $site did not come back"; return 1; }
}

# libvirt's pid file, else the QEMU among the processes of SITE's namespace (one domain each).
lv_qemu_pid() {
  local p ns
  if p=$(cat "$LV_DIR/$1/run/qemu/$LV_DOMAIN.pid" 2>/dev/null) && [ -n "$p" ]; then echo "$p"; return 0; fi
  ns=$(topo_ns "$1") || return 1
  for p in $(ip netns pids "$ns"); do
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = qemu-system-x86 ] && { echo "$p"; return 0; }
  done
  return 1
}

# tail follows LOG by inotify from its current end (-n 0), so the kill comes within
# milliseconds of the line; --pid ends tail with this shell if the line never comes (else tail
# ends at its first write after grep is gone).
lv_kill_qemu_on() {
  local log=$1 text=$2 site=$3
  (
    # Not a pipeline: that would wait for tail, which ends only at its next write (SIGPIPE).
    grep -m 1 -qF -- "$text" < <(exec tail -n 0 -F --pid=$$ "$log" 2>/dev/null) || exit 0
    pid=$(lv_qemu_pid "$site") || { echo "lv_kill_qemu_on: no QEMU at $site to kill"; exit 1; }
    kill -KILL "$pid" && echo "killed QEMU $pid at $site on '$text'"
  ) &
  # shellcheck disable=SC2034 # read by the test that injects the failure
  LV_KILLER_PID=$!
}
