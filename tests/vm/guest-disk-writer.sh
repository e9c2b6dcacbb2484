#!/bin/sh
# Runs inside the test guest (busybox sh), started by /init when the kernel command line has
# vmroam.disk=DEV (tests/vm/build-guest.sh): appends numbered, checksummed 512-byte records
# to the raw disk DEV, one sector each from sector vmroam.disk_base (default 327680 = 160 MiB),
# every vmroam.disk_interval seconds (default 0.1). Record n:
#   "vmroam-rec <n> <epoch> <md5 of 'vmroam-rec <n> <epoch>'>" padded with spaces to 511 bytes + "\n"
# Each write is fsync'ed (conv=fsync) before the guest prints "vmroam-disk ack <n>" on the
# console: an acknowledged record must survive every move (tests/vm/vm_storage_test.sh checks
# the disk images on the host).
dev=$1
base=${2:-327680}
interval=${3:-0.1}
n=0
echo "vmroam-disk writer $dev from sector $base every ${interval}s"
while true; do
  payload="vmroam-rec $n $(date +%s)"
  sum=$(echo "$payload" | md5sum)
  sum=${sum%% *}
  if printf '%-511s\n' "$payload $sum" | dd of="$dev" bs=512 seek=$((base + n)) count=1 conv=notrunc,fsync 2>/dev/null; then
    echo "vmroam-disk ack $n"
    n=$((n + 1))
  else
    echo "vmroam-disk error $n"
  fi
  sleep "$interval"
done
