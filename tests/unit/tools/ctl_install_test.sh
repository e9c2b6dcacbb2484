#!/usr/bin/env bash
# `meson install --destdir` into a temporary root, then check what landed there: binaries,
# systemd units that `systemd-analyze verify` accepts, example configs that the installed
# agents' --check parses, vmroam-libvirt's unit and example when it is built, the docs. Usage: ctl_install_test.sh BUILD_DIR
#
# systemd-analyze verify needs each ExecStart= binary to exist at its absolute path, which in
# a destdir it does not; so the units are verified from a copy whose paths point into the
# destdir (the only edit), with --man=no (no man pages offline).
set -u
build=$1
root=$(mktemp -d /tmp/vmroam-install.XXXXXX)
trap 'rm -rf "$root"' EXIT
failed=0
fail() { echo "FAIL: $*"; failed=1; }

if ! out=$(meson install -C "$build" --no-rebuild --destdir "$root" 2>&1); then
  echo "$out" | tail -20
  fail "meson install --destdir"
  exit 1
fi
prefix=$(meson introspect "$build" --buildoptions | /usr/bin/python3 -c \
  'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"))')
sysconf=$(meson introspect "$build" --buildoptions | /usr/bin/python3 -c \
  'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="sysconfdir"))')
[[ $sysconf == /* ]] || sysconf=$prefix/$sysconf

for b in vmroam-ha vmroam-fa vmroamctl vmroam-migrate vmroam-pcap vmroam-wanem; do
  if [[ -x $root$prefix/bin/$b ]]; then echo "ok: installed $prefix/bin/$b"; else fail "$prefix/bin/$b not installed"; fi
done
for f in "$sysconf/vmroam/ha.json.example" "$sysconf/vmroam/fa.json.example" \
         "$prefix/share/doc/vmroam/operations.md"; do
  if [[ -s $root$f ]]; then echo "ok: installed $f"; else fail "$f not installed"; fi
done
# vmroam-libvirt is optional (built when libvirt's development files are found).
nunits=2
if [[ -x $build/libvirt/vmroam-libvirt ]]; then
  nunits=3
  [[ -x $root$prefix/bin/vmroam-libvirt ]] || fail "$prefix/bin/vmroam-libvirt not installed"
  if "$root$prefix/bin/vmroam-libvirt" --check --config "$root$sysconf/vmroam/libvirt.json.example" >/dev/null; then
    echo "ok: vmroam-libvirt --check accepts the installed libvirt.json.example"
  else
    fail "vmroam-libvirt --check rejects the installed libvirt.json.example"
  fi
fi

# The installed examples parse with the installed agents.
for a in ha fa; do
  if "$root$prefix/bin/vmroam-$a" --check -c "$root$sysconf/vmroam/$a.json.example" >/dev/null; then
    echo "ok: vmroam-$a --check accepts the installed $a.json.example"
  else
    fail "vmroam-$a --check rejects the installed $a.json.example"
  fi
done

units=$(find "$root" -name 'vmroam-*.service')
[[ $(wc -l <<<"$units") -eq $nunits ]] || fail "expected $nunits units, found: $units"
verify=$root/verify
mkdir -p "$verify"
for u in $units; do
  name=$(basename "$u")
  grep -q "^ExecStart=$prefix/bin/vmroam-" "$u" || fail "$name: ExecStart does not use the prefix $prefix"
  case $name in
    vmroam-libvirt.service) cap='^CapabilityBoundingSet=$' ;;  # it only talks to sockets
    *) cap='^CapabilityBoundingSet=CAP_BPF CAP_NET_ADMIN CAP_NET_RAW$' ;;
  esac
  grep -q "$cap" "$u" || fail "$name: capability bounding set"
  sed "s|$prefix/bin/|$root$prefix/bin/|g" "$u" > "$verify/$name"
  if out=$(systemd-analyze verify --man=no "$verify/$name" 2>&1) && [[ -z $out ]]; then
    echo "ok: systemd-analyze verify $name"
  else
    fail "systemd-analyze verify $name: $out"
  fi
done
exit $failed
