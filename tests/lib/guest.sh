#!/usr/bin/env bash
# The real QEMU guest on the netns testbed (tests/lib/topology.sh), moved between sites
# by vmroam-migrate with the agents of tests/lib/agents.sh. Used by the vm suite
# (tests/vm/vm_agents_test.sh) and by the demo (tests/netns/demo.sh --vm qemu).
#
# Source after topology.sh (and agents.sh when the agents run), after topo_up:
#
#   guest_image                  build/cache the guest (tests/vm/build-guest.sh) → its cache
#                                directory in $VMR_GUEST_CACHE, and take the topology's
#                                namespace VM off every site's bridge (the guest owns
#                                10.1.0.10 / 52:54:00:12:34:56 now)
#   guest_setup                  guest_image, the home tap and the migration TLS credentials,
#                                then pick the accelerator (KVM probe, then TCG; $VMROAM_ACCEL
#                                overrides) → $VMR_GUEST_ACCEL
#   guest_start_source SITE      boot the guest in a QEMU running in SITE's router namespace,
#                                its tap vmrg-SITE on SITE's VM-facing bridge; returns when the
#                                guest prints "vmroam-guest up" (its echo service on port 7 runs)
#   guest_start_dest SITE        a QEMU with the same machine in SITE's namespace, -incoming on
#                                SITE's WAN address (tcp:WAN:$VMR_GUEST_PORT), so that the
#                                migration stream crosses the emulated WAN
#   guest_migrate FROM TO [ARGS] vmroam-migrate from the QEMU at FROM to the one at TO, run in
#                                FROM's namespace; TO != home: the FA at TO is prepared and
#                                activated at the switchover (--fa TO's API socket, --vm-json);
#                                TO = home: no FA at home, the FA at FROM is told to depart at
#                                the switchover (--depart-fa). With agents the HA is told too
#                                (--ha: the handover hold; VMR_GUEST_NO_HOLD=1 leaves it out).
#                                ARGS go to vmroam-migrate (e.g.
#                                --tuning none). The migration stream is TLS (x509, mutual,
#                                the destination's WAN address checked; creds from
#                                guest_tls_setup); VMR_GUEST_TLS=0: --insecure-migration
#                                instead. Prints the path of the driver's JSON summary
#                                and sets $VMR_GUEST_JSON to it; returns the driver's exit code.
#                                Once the guest switched the old QEMU is stopped. Call it
#                                directly, not in $(…): it updates this library's state.
#   guest_migrated SUMMARY       the bookkeeping after a vmroam-migrate run of the caller's own
#                                (sets $VMR_GUEST_JSON, stops the QEMU that lost the guest)
#   guest_stop                   stop every QEMU of this run and remove the taps
#   guest_tls_setup              this run's migration TLS credentials, made once (guest_setup
#                                calls it): a CA and per site a creds directory
#                                $VMR_GUEST_DIR/tls/SITE (server cert for the site's WAN
#                                address, client cert), see tests/lib/tls.sh
#   guest_tls_args FROM TO       vmroam-migrate's TLS arguments for a move FROM → TO
#
#   guest_integrity [WAIT_S]     after a move: is the guest whole at its new site (it ticks, no
#                                virtio/panic line, its memory check passes with the checksum
#                                the host computes; tests/lib/integrity.sh)? Prints "ok: …" or
#                                what is broken; returns 0 / 1. Every boot starts the check
#                                (vmroam.memcheck with a fresh seed, $VMR_GUEST_MEMCHECK_MIB MiB)
#
#   guest_probe_start NAME       tools/probe/vmroam-probe in cn against the guest: a ping every
#                                10 ms and a TCP echo stream to its port 7; returns once echoes
#                                come back (1, saying why, when they do not). Results in
#                                $VMR_GUEST_DIR/NAME.json (at stop), NAME.status, NAME.err
#   guest_probe_stop             stop it (SIGTERM: it writes NAME.json); no-op when none runs
#
#   guest_site                   where the guest runs now
#   guest_serial                 the guest's serial console across all its QEMUs, in order
#   guest_qemu_name              the current QEMU's name (files $VMR_GUEST_DIR/NAME.*)
#
# Variables: $VMR_GUEST_DIR (QMP sockets, serial logs, summaries; default $VMR_RUN_DIR/guest),
# $VMR_GUEST_PORT (migration port, default 4444), $VMR_MIGRATE (the vmroam-migrate binary;
# default: $VMROAM_BUILD_DIR, then build/ next to the sources), $VMR_GUEST_APPEND (extra guest
# kernel arguments, e.g. vmroam.fill=16), $VMR_GUEST_BOOT_S (seconds a boot may take, 240).

VMR_GUEST_DIR=${VMR_GUEST_DIR:-$VMR_RUN_DIR/guest}
VMR_GUEST_PORT=${VMR_GUEST_PORT:-4444}
VMR_GUEST_APPEND=${VMR_GUEST_APPEND:-}
VMR_GUEST_MEMCHECK_MIB=${VMR_GUEST_MEMCHECK_MIB:-8}
# How long a boot may take: ≈ 6 s on an idle host, over 90 s under TCG at load average 20.
VMR_GUEST_BOOT_S=${VMR_GUEST_BOOT_S:-240}
VMR_GUEST_MEMCHECK_SEED=
VMR_GUEST_GEN=0        # QEMUs started so far (names g1, g2, …)
VMR_GUEST_CUR=         # the QEMU the guest runs in
VMR_GUEST_CUR_SITE=
VMR_GUEST_NEXT=        # the waiting -incoming QEMU
VMR_GUEST_NEXT_SITE=
VMR_GUEST_PROBE_PID=   # the running vmroam-probe, if any

_vmr_guest_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=wait.sh
. "$_vmr_guest_here/wait.sh"
# shellcheck source=qemu.sh
. "$_vmr_guest_here/qemu.sh"
# shellcheck source=tls.sh
. "$_vmr_guest_here/tls.sh"
# shellcheck source=integrity.sh
. "$_vmr_guest_here/integrity.sh"
VMR_PROBE=${VMR_PROBE:-$_vmr_guest_here/../../tools/probe/vmroam-probe}

_vmr_guest_err() { echo "guest: $*" >&2; }

_vmr_guest_find_migrate() {
  if [ -n "${VMR_MIGRATE:-}" ] && [ -x "$VMR_MIGRATE" ]; then echo "$VMR_MIGRATE"; return 0; fi
  local top d
  top=$(cd "$_vmr_guest_here/../.." && pwd)
  for d in "${VMROAM_BUILD_DIR:-}" "$top/build"; do
    if [ -n "$d" ] && [ -x "$d/migration/vmroam-migrate" ]; then echo "$d/migration/vmroam-migrate"; return 0; fi
  done
  command -v vmroam-migrate && return 0
  _vmr_guest_err "vmroam-migrate not found: build it (ninja -C build migration/vmroam-migrate) or set VMR_MIGRATE"
  return 1
}

_vmr_guest_tap() { echo "vmrg-$1"; }

# _vmr_guest_tap_up SITE: the persistent tap of SITE on its VM-facing bridge.
_vmr_guest_tap_up() {
  local site=$1 ns tap bridge
  ns=$(topo_ns "$site") || return 1
  bridge=$(_vmr_site_bridge "$site") || return 1
  tap=$(_vmr_guest_tap "$site")
  if ! ip -n "$ns" link show "$tap" >/dev/null 2>&1; then
    _vmr_do ip -n "$ns" tuntap add dev "$tap" mode tap || return 1
  fi
  _vmr_do ip -n "$ns" link set "$tap" master "$bridge" up
}

guest_image() {
  local site
  mkdir -p "$VMR_GUEST_DIR" || return 1
  VMR_GUEST_CACHE=$("$_vmr_guest_here/../vm/build-guest.sh") || { _vmr_guest_err "build-guest.sh failed"; return 1; }
  # The namespace VM of the topology answers for 10.1.0.10 with the same MAC: unplug it.
  for site in "${VMR_SITES[@]}"; do
    ip -n "$(topo_ns "$site")" link del "$VMR_VM_PORT" 2>/dev/null || true
  done
}

guest_setup() {
  [ -c /dev/net/tun ] || { _vmr_guest_err "no /dev/net/tun (TUN/TAP)"; return 77; }
  command -v qemu-system-x86_64 >/dev/null || { _vmr_guest_err "no qemu-system-x86_64"; return 77; }
  VMR_GUEST_MIGRATE=$(_vmr_guest_find_migrate) || return 1
  guest_image || return 1
  _vmr_guest_tap_up home || return 1
  guest_tls_setup || return 1
  VMR_GUEST_ACCEL=$(vm_accel "$VMR_GUEST_CACHE" "$(topo_ns home)" "$(_vmr_guest_tap home)" "$VMR_GUEST_DIR")
}

guest_site() { echo "$VMR_GUEST_CUR_SITE"; }
guest_integrity() {
  [ -n "$VMR_GUEST_CUR" ] || { echo "no guest runs"; return 1; }
  vmr_integrity "$VMR_GUEST_DIR/$VMR_GUEST_CUR.serial" "$VMR_GUEST_MEMCHECK_SEED" "$VMR_GUEST_MEMCHECK_MIB" "${1:-20}"
}
guest_qemu_name() { echo "$VMR_GUEST_CUR"; }

guest_start_source() {
  local site=${1:?guest_start_source needs a site} name
  [ -z "$VMR_GUEST_CUR" ] || { _vmr_guest_err "the guest runs already (in $VMR_GUEST_CUR at $VMR_GUEST_CUR_SITE)"; return 1; }
  _vmr_guest_tap_up "$site" || return 1
  VMR_GUEST_GEN=$((VMR_GUEST_GEN + 1))
  name=g$VMR_GUEST_GEN
  VMR_GUEST_MEMCHECK_SEED=$((RANDOM * 32768 + RANDOM))
  vm_start "$name" "$(topo_ns "$site")" "$(_vmr_guest_tap "$site")" "$VMR_GUEST_DIR" "$VMR_GUEST_ACCEL" \
    "$VMR_GUEST_CACHE" "" "$VMR_GUEST_APPEND $(vmr_memcheck_append "$VMR_GUEST_MEMCHECK_SEED" "$VMR_GUEST_MEMCHECK_MIB")"
  if ! vm_wait_serial "$VMR_GUEST_DIR" "$name" "vmroam-guest up" "$VMR_GUEST_BOOT_S"; then
    _vmr_guest_err "the guest did not come up in $name ($VMR_GUEST_ACCEL); serial and QEMU log:"
    tail -n 5 "$VMR_GUEST_DIR/$name.serial" "$VMR_GUEST_DIR/$name.log" >&2 2>/dev/null
    vm_stop "$VMR_GUEST_DIR" "$name"
    return 1
  fi
  VMR_GUEST_CUR=$name
  VMR_GUEST_CUR_SITE=$site
}

guest_start_dest() {
  local site=${1:?guest_start_dest needs a site} name wan
  [ -z "$VMR_GUEST_NEXT" ] || { _vmr_guest_err "a destination QEMU waits already ($VMR_GUEST_NEXT at $VMR_GUEST_NEXT_SITE)"; return 1; }
  [ "$site" != "$VMR_GUEST_CUR_SITE" ] || { _vmr_guest_err "the guest is at $site already"; return 1; }
  wan=$(_vmr_site_wan "$site") || return 1
  _vmr_guest_tap_up "$site" || return 1
  VMR_GUEST_GEN=$((VMR_GUEST_GEN + 1))
  name=g$VMR_GUEST_GEN
  vm_start "$name" "$(topo_ns "$site")" "$(_vmr_guest_tap "$site")" "$VMR_GUEST_DIR" "$VMR_GUEST_ACCEL" \
    "$VMR_GUEST_CACHE" "tcp:$wan:$VMR_GUEST_PORT" "$VMR_GUEST_APPEND"
  # Ready when QMP answers and the migration port listens.
  if ! wait_for "[ -S '$VMR_GUEST_DIR/$name.qmp' ] && ip netns exec $(topo_ns "$site") ss -Hltn 'sport = :$VMR_GUEST_PORT' | grep -q LISTEN" 10 \
    "the destination QEMU $name to listen on port $VMR_GUEST_PORT"; then
    _vmr_guest_err "the destination QEMU $name did not listen: $(tail -n 3 "$VMR_GUEST_DIR/$name.log" 2>/dev/null)"
    vm_stop "$VMR_GUEST_DIR" "$name"
    return 1
  fi
  VMR_GUEST_NEXT=$name
  VMR_GUEST_NEXT_SITE=$site
}

# The site's WAN address (agents.sh has the same; defined here too so that the guest works
# without the agents).
if ! declare -F _vmr_site_wan >/dev/null; then
  _vmr_site_wan() {
    case "$1" in
      home) echo "$VMR_HOME_WAN" ;; foreign) echo "$VMR_FOREIGN_WAN" ;; foreign2) echo "$VMR_FOREIGN2_WAN" ;;
      *) _vmr_guest_err "unknown site '$1'"; return 1 ;;
    esac
  }
fi

# _vmr_guest_visitor_json FILE: the prepare body for the FA (the same as agents.sh fa_prepare).
_vmr_guest_visitor_json() {
  jq -n --arg id "$VMR_VM_ID" --arg hoa "$VMR_VM_ADDR" \
    --arg mac "$VMR_VM_MAC" --arg gw "$VMR_VM_GW" --arg gwmac "$VMR_HOME_MAC" --arg ha "$VMR_HOME_WAN" \
    --argjson spi "$VMR_MN_HA_SPI" --arg alg "$VMR_ALGORITHM" --arg key "$VMR_MN_HA_KEY" \
    --argjson lifetime "${VMR_LIFETIME:-600}" --arg encap "${VMR_ENCAPSULATION:-ipip}" \
    '{id: $id, home_address: $hoa, mac: $mac, home_gateway: $gw, home_gateway_mac: $gwmac,
      home_agent: $ha, spi: $spi, algorithm: $alg, key: $key, lifetime: $lifetime, encapsulation: $encap}' >"$1"
}

# ---- migration TLS (docs/security.md) -----------------------------------------------------
guest_tls_setup() {
  local site wan
  [ -n "${VMR_GUEST_TLS_DIR:-}" ] && [ -d "$VMR_GUEST_TLS_DIR/ca" ] && return 0
  command -v openssl >/dev/null || { _vmr_guest_err "no openssl (to make the migration TLS credentials)"; return 1; }
  VMR_GUEST_TLS_DIR=$VMR_GUEST_DIR/tls
  vm_tls_ca "$VMR_GUEST_TLS_DIR/ca" "vmroam test CA $$" || { _vmr_guest_err "could not make the TLS CA"; return 1; }
  for site in "${VMR_SITES[@]}"; do
    wan=$(_vmr_site_wan "$site") || return 1
    vm_tls_host "$VMR_GUEST_TLS_DIR/ca" "$VMR_GUEST_TLS_DIR/$site" "$wan" "$site.vmroam.test" ||
      { _vmr_guest_err "could not make the TLS credentials of $site"; return 1; }
  done
}

guest_tls_args() {
  if [ "${VMR_GUEST_TLS:-1}" = 0 ]; then echo "--insecure-migration"; return 0; fi
  guest_tls_setup || return 1
  echo "--tls-creds-dir-src $VMR_GUEST_TLS_DIR/$1 --tls-creds-dir-dst $VMR_GUEST_TLS_DIR/$2"
}

guest_migrate() {
  local from=${1:?guest_migrate needs FROM} to=${2:?guest_migrate needs TO} wan out vmjson rc
  shift 2
  [ "$VMR_GUEST_CUR_SITE" = "$from" ] || { _vmr_guest_err "the guest is at '${VMR_GUEST_CUR_SITE:-nowhere}', not at $from"; return 1; }
  [ "$VMR_GUEST_NEXT_SITE" = "$to" ] || { _vmr_guest_err "no destination QEMU at $to (guest_start_dest $to)"; return 1; }
  wan=$(_vmr_site_wan "$to") || return 1
  out=$VMR_GUEST_DIR/migrate-$VMR_GUEST_CUR-$VMR_GUEST_NEXT.json
  local args=(--source "$VMR_GUEST_DIR/$VMR_GUEST_CUR.qmp" --dest "$VMR_GUEST_DIR/$VMR_GUEST_NEXT.qmp"
    --uri "tcp:$wan:$VMR_GUEST_PORT" --json "$out" --quiet)
  if [ -n "${VMR_AGENTS_DIR:-}" ] && [ -S "$VMR_AGENTS_DIR/home.sock" ]; then
    if [ "$to" = home ]; then
      args+=(--fa none --vm "$VMR_VM_ID" --depart-fa "$VMR_AGENTS_DIR/$from.sock")
    else
      vmjson=$VMR_GUEST_DIR/visitor-$to.json
      _vmr_guest_visitor_json "$vmjson" || return 1
      args+=(--fa "$VMR_AGENTS_DIR/$to.sock" --vm-json "$vmjson")
      [ "$from" = home ] || true  # the HA revokes the previous FA (RFC 3543)
    fi
    # The HA holds the VM's packets from the STOP and re-sends what reached the paused source
    # (VMR_GUEST_NO_HOLD=1: without, to compare).
    [ "${VMR_GUEST_NO_HOLD:-0}" = 1 ] || args+=(--ha "$VMR_AGENTS_DIR/home.sock")
  else
    args+=(--fa none)
  fi
  local tls
  tls=$(guest_tls_args "$from" "$to") || return 1
  # shellcheck disable=SC2086  # paths without spaces ($VMR_GUEST_DIR)
  ip netns exec "$(topo_ns "$from")" "$VMR_GUEST_MIGRATE" "${args[@]}" $tls "$@" >"$out.log" 2>&1
  rc=$?
  echo "$out"
  guest_migrated "$out"
  [ "$rc" = 0 ] || _vmr_guest_err "vmroam-migrate $from -> $to exited $rc: $(tail -n 8 "$out.log")"
  return "$rc"
}

# guest_migrated SUMMARY: this library's bookkeeping after a vmroam-migrate run (guest_migrate's,
# or a caller's own invocation): $VMR_GUEST_JSON, and the QEMU that no longer holds the guest
# stopped — the source if the driver's summary says it switched, else the waiting destination.
guest_migrated() {
  local out=$1
  VMR_GUEST_JSON=$out
  if [ -f "$out" ] && jq -e '.switched' "$out" >/dev/null 2>&1; then
    # The guest runs at the destination (even if its registration is not active: rc 2).
    vm_stop "$VMR_GUEST_DIR" "$VMR_GUEST_CUR"
    VMR_GUEST_CUR=$VMR_GUEST_NEXT
    VMR_GUEST_CUR_SITE=$VMR_GUEST_NEXT_SITE
  else
    vm_stop "$VMR_GUEST_DIR" "$VMR_GUEST_NEXT"
  fi
  VMR_GUEST_NEXT=
  VMR_GUEST_NEXT_SITE=
  return 0
}

guest_serial() {
  local i
  for ((i = 1; i <= VMR_GUEST_GEN; i++)); do
    [ -f "$VMR_GUEST_DIR/g$i.serial" ] && cat "$VMR_GUEST_DIR/g$i.serial"
  done
  return 0
}

guest_stop() {
  local i site
  for ((i = 1; i <= VMR_GUEST_GEN; i++)); do vm_stop "$VMR_GUEST_DIR" "g$i"; done
  vm_stop "$VMR_GUEST_DIR" probe
  for site in "${VMR_SITES[@]}"; do
    ip -n "$(topo_ns "$site")" link del "$(_vmr_guest_tap "$site")" 2>/dev/null || true
  done
  VMR_GUEST_CUR= VMR_GUEST_CUR_SITE= VMR_GUEST_NEXT= VMR_GUEST_NEXT_SITE=
  return 0
}

guest_probe_start() {
  local f=$VMR_GUEST_DIR/$1
  rm -f "$f.json" "$f.status"
  ip netns exec "$VMR_NS_CN" "$VMR_PROBE" run --target "$VMR_VM_ADDR" --port 7 --interval-ms 10 --drain-s 1 \
    --out "$f.json" --status "$f.status" 2>"$f.err" &
  VMR_GUEST_PROBE_PID=$!
  wait_for "[ -s '$f.status' ] || ! kill -0 $VMR_GUEST_PROBE_PID" 10
  if ! kill -0 "$VMR_GUEST_PROBE_PID" 2>/dev/null; then
    _vmr_guest_err "the probe did not start: $(cat "$f.err")"
    VMR_GUEST_PROBE_PID=
    return 1
  fi
  # The stream is up once a few echoes came back.
  wait_for "grep -Eq 'tcp ok [1-9]' '$f.status'" 5 || {
    _vmr_guest_err "the TCP echo stream to port 7 did not start: $(cat "$f.status")"
    return 1
  }
}

guest_probe_stop() {
  [ -n "$VMR_GUEST_PROBE_PID" ] || return 0
  kill -TERM "$VMR_GUEST_PROBE_PID" 2>/dev/null
  wait "$VMR_GUEST_PROBE_PID" 2>/dev/null
  VMR_GUEST_PROBE_PID=
}

# ---- The opening of a guest test (tests/vm/vm_*_test.sh) --------------------------------------
#   guest_test_need [qemu-img]   exit 77, naming what is missing, without qemu-system-x86_64 or
#                                /dev/net/tun (or qemu-img, when it is named)
#   guest_test_setup             guest_setup as a test needs it: exit 77 when the guest needs a
#                                device the host lacks, the test's die when it fails; then the
#                                test's step names the accelerator
#   guest_test_agents [OPTION…] HA_SITE FA_SITE…  the agents (agents.sh): vmroam-ha in HA_SITE,
#                                vmroam-fa in each FA_SITE, and the VM registered at the HA; the
#                                test's die when one fails; OPTIONs (--…) go to agents_setup
#   guest_test_logs G A          the last G lines of each guest log and A of each agent log (what
#                                a failing test prints)
#   guest_data_disk_args [mon]   QEMU arguments for VM_EXTRA_ARGS that give every QEMU a raw data
#                                disk, $VMR_GUEST_DIR/<its name>.img (virtio-blk, id vdisk0); with
#                                "mon" also a second QMP monitor, $VMR_GUEST_DIR/<its name>.mon

guest_test_need() {
  command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: no qemu-system-x86_64"; exit 77; }
  if [ "${1:-}" = qemu-img ]; then
    command -v qemu-img >/dev/null || { echo "SKIP: no qemu-img (./dev setup installs qemu-utils)"; exit 77; }
  fi
  [ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun (TUN/TAP)"; exit 77; }
}

guest_test_setup() {
  local rc=0
  step "guest: build (cached), accelerator probe"
  guest_setup || rc=$?
  [ "$rc" = 77 ] && { echo "SKIP: guest needs a missing device (see above)"; exit 77; }
  [ "$rc" = 0 ] || die "guest_setup"
  step "accelerator: $VMR_GUEST_ACCEL"
}

guest_test_agents() {
  local site opts=()
  while [ "${1#--}" != "$1" ]; do opts+=("$1"); shift; done
  step "agents: vmroam-ha in $1, vmroam-fa in ${*:2}${opts[*]:+ (${opts[*]})}"
  agents_setup "${opts[@]}" || die "agents_setup"
  agent_start "$1" || die "vmroam-ha"
  for site in "${@:2}"; do agent_start "$site" || die "vmroam-fa $site"; done
  ha_register_vm >/dev/null || die "registering the VM at the HA"
}

guest_test_logs() {
  local f
  for f in "$VMR_GUEST_DIR"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n "$1" "$f"; }; done
  for f in "$VMR_AGENTS_DIR"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n "$2" "$f"; }; done
}

guest_data_disk_args() {
  local a="-blockdev driver=file,filename=$VMR_GUEST_DIR/@NAME@.img,node-name=data0-file"
  a+=" -blockdev driver=raw,file=data0-file,node-name=data0 -device virtio-blk-pci,drive=data0,id=vdisk0"
  [ "${1:-}" = mon ] && a+=" -qmp unix:$VMR_GUEST_DIR/@NAME@.mon,server=on,wait=off"
  echo "$a"
}

# ---- dual-stack guests (docs/protocol.md "Dual-stack VMs") -----------------------------------
# The guest configures its IPv6 home address and gateway itself (tests/vm/build-guest.sh:
# vmroam.ip6, vmroam.gw6; by default the addresses of `topo_up --ipv6`). For the agents it is
# dual-stack when the testbed is (VMR_IPV6=1, tests/lib/agents.sh registers it with the HA):
#
#   guest_dualstack_append       the guest's kernel arguments for the testbed's IPv6 address and
#                                gateway (add them to $VMR_GUEST_APPEND before guest_start_source)
#   guest_migrate_dualstack FROM TO [ARGS]
#                                guest_migrate, with the FA at TO prepared with the VM's IPv6
#                                home address and gateway as well (its own --vm-json, given
#                                after guest_migrate's: vmroam-migrate takes the last one)

guest_dualstack_append() { echo "vmroam.ip6=$VMR_VM_ADDR6/64 vmroam.gw6=$VMR_VM_GW6"; }

guest_migrate_dualstack() {
  local from=${1:?guest_migrate_dualstack needs FROM} to=${2:?guest_migrate_dualstack needs TO} vmjson
  shift 2
  if [ "${VMR_IPV6:-0}" != 1 ] || [ "$to" = home ] || [ ! -S "${VMR_AGENTS_DIR:-/nonexistent}/home.sock" ]; then
    guest_migrate "$from" "$to" "$@"
    return
  fi
  vmjson=$VMR_GUEST_DIR/visitor6-$to.json
  _vmr_guest_visitor_json "$vmjson.v4" || return 1
  jq --arg a6 "$VMR_VM_ADDR6" --arg gw6 "$VMR_VM_GW6" '. + {home_addresses_v6: [$a6], home_gateway_v6: $gw6}' \
    "$vmjson.v4" >"$vmjson" || return 1
  guest_migrate "$from" "$to" --vm-json "$vmjson" "$@"
}
