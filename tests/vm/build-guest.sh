#!/bin/sh
# Builds the tiny test guest from Debian packages only (docs/testing.md, "The real guest"):
#
#   tests/vm/cache/
#     debs/           linux-image-amd64 + linux-image-<version>-amd64 (.deb, apt-get download)
#     kernel/         dpkg-deb -x of the versioned package
#     vmlinuz         the kernel
#     initrd.gz       busybox-static + virtio-net modules + /init, `busybox cpio -H newc | gzip`
#
# The guest's /init reads its settings from the kernel command line:
#   vmroam.ip=10.1.0.10/24   address (default 10.1.0.10/24)
#   vmroam.gw=10.1.0.1       default route (default 10.1.0.1)
#   vmroam.ip6=2001:db8:1::10/64   IPv6 address from the home /64 (default 2001:db8:1::10/64;
#                            `none`: IPv6 keeps only its link-local address), no DAD
#   vmroam.gw6=fe80::aff:fe01:1    IPv6 default route, via the home router's link-local address
#                            (default fe80::aff:fe01:1, tests/lib/topology.sh --ipv6)
#   vmroam.fill=N            fill a tmpfs with N MiB of /dev/urandom (default 0) so a
#                            migration has real work to do
#   vmroam.memcheck=SEED:MIB run the integrity check (tests/vm/memcheck.c, installed by
#                            install_memcheck below): MIB MiB filled with a pattern from SEED,
#                            rewritten a chunk at a time and verified every second on ttyS0
#   vmroam.membusy=SEED:KIB  also run memcheck.c's busy writer: KIB KiB rewritten without
#                            pause and verified after every sweep (a reproduction of stores
#                            that a migration loses; docs/migration.md)
#   vmroam.disk=DEV          run tests/vm/guest-disk-writer.sh on the raw disk DEV (e.g.
#                            /dev/vda: a virtio-blk data disk), records from sector
#                            vmroam.disk_base, one per vmroam.disk_interval seconds
# and then runs a TCP echo on port 7 (IPv4 and IPv6, any number of connections at once) and
# prints "vmroam-guest tick <epoch> <date>" every second on ttyS0 (the serial log shows the guest
# is alive and when it paused).
#
# Usage: build-guest.sh [CACHE_DIR]   prints the cache dir on stdout when done.
# Cached: the download and extraction happen once; the initrd is rebuilt only when this
# script is newer than it.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cache=${1:-$here/cache}
mkdir -p "$cache/debs"
cache=$(cd "$cache" && pwd)

log() { echo "build-guest: $*" >&2; }

# install_memcheck ROOT: the guest's memory integrity check (tests/vm/memcheck.c), built static
# into the cache (the host runs the same binary to compute the checksum the guest must show)
# and started by an /init hook when the kernel command line asks for it.
install_memcheck() {
  cc -static -O2 -o "$cache/vmroam-memcheck" "$here/memcheck.c" || { log "cannot build memcheck.c (cc -static)"; return 1; }
  cp "$cache/vmroam-memcheck" "$1/bin/vmroam-memcheck"
  mkdir -p "$1/etc/vmroam-init.d"
  cat > "$1/etc/vmroam-init.d/memcheck" <<'HOOK'
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    vmroam.memcheck=*:*) m=${arg#vmroam.memcheck=}; /bin/vmroam-memcheck "${m%%:*}" "${m#*:}" 2000 & ;;
    vmroam.membusy=*:*) m=${arg#vmroam.membusy=}; /bin/vmroam-memcheck --busy "${m%%:*}" "${m#*:}" & ;;
  esac
done
HOOK
}

# 1. Kernel packages (apt-get download needs no root and installs nothing).
if ! ls "$cache"/debs/linux-image-*-amd64_*.deb >/dev/null 2>&1; then
  meta=$(apt-cache depends linux-image-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n1)
  [ -n "$meta" ] || { log "cannot resolve linux-image-amd64 to a versioned package"; exit 1; }
  log "downloading linux-image-amd64 and $meta"
  (cd "$cache/debs" && apt-get download linux-image-amd64 "$meta" >&2)
fi
deb=$(ls "$cache"/debs/linux-image-[0-9]*-amd64_*.deb | head -n1)

# 2. Extract once.
if [ ! -f "$cache/kernel/.extracted" ]; then
  log "extracting $(basename "$deb")"
  rm -rf "$cache/kernel"
  mkdir -p "$cache/kernel"
  dpkg-deb -x "$deb" "$cache/kernel"
  touch "$cache/kernel/.extracted"
fi
vmlinuz=$(ls "$cache"/kernel/boot/vmlinuz-* | head -n1)
version=${vmlinuz##*/vmlinuz-}
cp -f "$vmlinuz" "$cache/vmlinuz"
moddir=$cache/kernel/lib/modules/$version/kernel

# 3. initramfs. Module order from each .ko's modinfo "depends=" (the package ships no
# modules.dep; docs/testing.md gives the resulting order, which we keep verbatim).
if [ ! -f "$cache/initrd.gz" ] || [ "$0" -nt "$cache/initrd.gz" ] || [ "$here/memcheck.c" -nt "$cache/initrd.gz" ] ||
  [ "$here/guest-disk-writer.sh" -nt "$cache/initrd.gz" ] || [ ! -x "$cache/vmroam-memcheck" ]; then
  busybox=$(command -v busybox)
  file -L "$busybox" 2>/dev/null | grep -q 'statically linked' || log "warning: $busybox may not be static"
  root=$cache/initramfs
  rm -rf "$root"
  mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp" "$root/mnt" "$root/lib/modules" "$root/etc"
  cp "$busybox" "$root/bin/busybox"
  for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci failover net_failover virtio_net virtio_blk; do
    ko=$(find "$moddir" -name "$m.ko" | head -n1)
    [ -n "$ko" ] || { log "module $m.ko not found under $moddir"; exit 1; }
    cp "$ko" "$root/lib/modules/"
    echo "$m" >> "$root/lib/modules/order"
  done
  # /dev/console and /dev/null exist before devtmpfs is mounted (the kernel opens console first).
  mknod -m 600 "$root/dev/console" c 5 1
  mknod -m 666 "$root/dev/null" c 1 3
  cp "$here/guest-disk-writer.sh" "$root/bin/vmroam-disk-writer"
  chmod 755 "$root/bin/vmroam-disk-writer"
  cat > "$root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t devtmpfs dev /dev
mount -t proc proc /proc
mount -t sysfs sys /sys
ip=10.1.0.10/24
gw=10.1.0.1
ip6=2001:db8:1::10/64
gw6=fe80::aff:fe01:1
fill=0
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    vmroam.ip=*) ip=${arg#vmroam.ip=} ;;
    vmroam.gw=*) gw=${arg#vmroam.gw=} ;;
    vmroam.ip6=*) ip6=${arg#vmroam.ip6=} ;;
    vmroam.gw6=*) gw6=${arg#vmroam.gw6=} ;;
    vmroam.fill=*) fill=${arg#vmroam.fill=} ;;
    vmroam.disk=*) disk=${arg#vmroam.disk=} ;;
    vmroam.disk_base=*) disk_base=${arg#vmroam.disk_base=} ;;
    vmroam.disk_interval=*) disk_interval=${arg#vmroam.disk_interval=} ;;
  esac
done
for m in $(cat /lib/modules/order); do insmod /lib/modules/$m.ko; done
ip link set lo up
ip link set eth0 up
ip addr add "$ip" dev eth0
ip route add default via "$gw"
# Dual-stack (docs/protocol.md "Dual-stack VMs"): a static address, no DAD (usable at once; the
# testbed has no duplicate), no router advertisements; the gateway is the home router's
# link-local address, as on a real home link.
if [ "$ip6" != none ] && [ -d /proc/sys/net/ipv6/conf/eth0 ]; then
  echo 0 > /proc/sys/net/ipv6/conf/eth0/accept_dad
  echo 0 > /proc/sys/net/ipv6/conf/eth0/accept_ra
  ip -6 addr add "$ip6" dev eth0
  ip -6 route add default via "$gw6" dev eth0
fi
if [ "$fill" -gt 0 ]; then
  mount -t tmpfs -o size=$((fill + 8))m fill /mnt
  dd if=/dev/urandom of=/mnt/fill bs=1M count="$fill" 2>/dev/null
fi
echo "vmroam-guest up ip=$ip gw=$gw ip6=$ip6 gw6=$gw6 fill=${fill}MiB"
# -ll: busybox nc keeps listening (on [::], so IPv4 and IPv6) and runs cat per connection: the
# IPv4 and IPv6 echo streams at once.
(while true; do nc -ll -p 7 -e cat; done) &
[ -n "${disk:-}" ] && vmroam-disk-writer "$disk" "${disk_base:-327680}" "${disk_interval:-0.1}" &
for hook in /etc/vmroam-init.d/*; do [ -f "$hook" ] && . "$hook"; done
while true; do echo "vmroam-guest tick $(date +%s) $(date "+%F %T %Z")"; sleep 1; done
EOF
  chmod 755 "$root/init"
  install_memcheck "$root"
  log "packing initrd"
  (cd "$root" && find . | "$busybox" cpio -o -H newc 2>/dev/null | gzip -9 > "$cache/initrd.gz.tmp")
  mv "$cache/initrd.gz.tmp" "$cache/initrd.gz"
fi
log "kernel $version, initrd $(wc -c < "$cache/initrd.gz") bytes"
echo "$cache"
