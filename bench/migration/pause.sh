#!/usr/bin/env bash
# Benchmark 'pause': the guest's real pause with vmroam-migrate's transport
# tuning (--tuning socket: the driver opens the migration connection itself with
# TCP_NOTSENT_LOWAT and a small SO_SNDBUF and hands it to QEMU with getfd, so that little
# stale data sits in the socket when QEMU stops the VM for its last pass) against QEMU's
# defaults (--tuning none: QEMU connects to tcp:HOST:PORT itself, kernel send-buffer
# autotuning).
#
# Testbed (bench/migration/testbed.sh): the same guest and link as the 'migration'
# benchmark (512 MiB, 350 MiB filled with /dev/urandom, WAN 100 Mbit/s, 8 ms RTT). The guest
# boots once at home and is migrated back and forth, in the order
#   socket home->foreign, none foreign->home, socket+tls home->foreign,
#   socket+tls foreign->home, none home->foreign, socket foreign->home
# (ABCCBA: each variant crosses the WAN once in each direction, and none always goes first
# on a machine that warms up or gets busier). socket and none migrate in clear
# (--insecure-migration, as in earlier runs); socket+tls is --tuning socket with the stream in
# TLS (mutual x509, tests/lib/guest.sh's creds: vmroam-migrate's default). --quick: the first
# three moves only, 128 MiB, no fill.
# Plain QEMU migrations (--fa none, no agents): the registration round trip of the coupled
# mode would add the same to both and is the 'migration' benchmark's subject.
#
# Row per variant (key "tuning": socket, none, socket+tls; median of its migrations in this
# invocation):
#   real_pause_ms         STOP -> RESUME of the guest (the driver's real_pause_ms)
#   qemu_downtime_ms      QEMU's own downtime figure
#   pause_vs_default      real_pause_ms / the none row's (target <= 0.6 for socket)
#   downtime_vs_default   qemu_downtime_ms / the none row's
#   total_time_ms, bytes_transferred, passes, migrations
#   tls_pause_vs_plain    socket+tls: real_pause_ms / the socket row's (target <= 1.1)
#   tls_total_vs_plain    socket+tls: total_time_ms / the socket row's (target <= 1.1)
#
#   pause.sh [--quick] [--mem MIB] [--fill MIB]
# One JSON object on stdout, logs on stderr; exit 77 when root, QEMU, TUN/TAP or a kernel
# feature is missing.
set -uo pipefail
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)

mem=512
fill=350
quick=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; mem=128; fill=0; shift ;;
    --mem) mem=${2:?}; shift 2 ;;
    --fill) fill=${2:?}; shift 2 ;;
    *) echo "pause: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

# shellcheck source=testbed.sh
source "$here/testbed.sh"
mb_setup pause "$mem" "$fill"

plan=("socket home foreign" "none foreign home" "socket+tls home foreign" "socket+tls foreign home"
  "none home foreign" "socket foreign home")
[ $quick = 1 ] && plan=("${plan[@]:0:3}")

mb_boot home || exit 1
samples=()
for step in "${plan[@]}"; do
  read -r variant from to <<<"$step"
  tuning=${variant%+tls} tls=0
  [ "$variant" = "$tuning" ] || tls=1
  guest_start_dest "$to" || { mb_log "destination QEMU at $to"; exit 1; }
  VMR_GUEST_TLS=$tls mb_migrate_plain "$from" "$to" --tuning "$tuning"
  rc=$?
  s=$(jq -c --arg dir "$from->$to" --arg v "$variant" '{tuning: $v, direction: $dir, migration_tls, outcome, error, real_pause_ms, qemu_downtime_ms,
    total_time_ms, bytes_transferred, passes}' "$VMR_GUEST_JSON" 2>/dev/null)
  mb_log "$variant $from -> $to: exit $rc $s"
  if [ $rc != 0 ] || ! jq -e '.outcome == "completed" and (.real_pause_ms | type) == "number"' <<<"$s" >/dev/null 2>&1; then
    # The guest may still run at the source (not switched): the plan cannot go on.
    mb_log "migration failed: $(tail -n 5 "$VMR_GUEST_JSON.log" 2>/dev/null)"
    exit 1
  fi
  # The next move starts from a healthy guest: if its virtio-net broke in this one (a QEMU/
  # guest failure, testbed.sh mb_guest_broken), the pause just measured stands, and a fresh
  # guest boots where the next move starts.
  if broken=$(mb_guest_broken 10); then
    mb_log "the guest broke in the move to $to: $broken; rebooting it there"
    s=$(jq -c --arg b "$broken" '. + {guest_broken: $b}' <<<"$s")
    guest_stop
    guest_start_source "$to" || { mb_log "the guest did not boot again at $to"; exit 1; }
  fi
  samples+=("$s")
done

printf '%s\n' "${samples[@]}" | jq -s --argjson quick "$quick" --argjson mem "$mem" --argjson fill "$fill" \
  --arg accel "$VMR_GUEST_ACCEL" --arg date "$(mb_date)" --argjson machine "$(mb_machine)" '
  def median: sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
                     else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  def med(f): map(f | select(type == "number")) | median;
  def ratio(a; b): if (a | type) == "number" and (b | type) == "number" and b > 0 then a / b * 1000 | round / 1000 else null end;
  . as $all
  | ($all | map(select(.tuning == "none"))) as $none
  | ($all | map(select(.tuning == "socket"))) as $plain
  | [("socket", "none", "socket+tls") as $t | $all | map(select(.tuning == $t)) | select(length > 0)
     | {tuning: $t, real_pause_ms: med(.real_pause_ms), qemu_downtime_ms: med(.qemu_downtime_ms),
        pause_vs_default: ratio(med(.real_pause_ms); $none | med(.real_pause_ms)),
        downtime_vs_default: ratio(med(.qemu_downtime_ms); $none | med(.qemu_downtime_ms)),
        total_time_ms: med(.total_time_ms), bytes_transferred: med(.bytes_transferred), passes: med(.passes),
        migrations: length, guest_broken: map(select(.guest_broken)) | length}
       + (if $t == "socket+tls" then {tls_pause_vs_plain: ratio(med(.real_pause_ms); $plain | med(.real_pause_ms)),
                                      tls_total_vs_plain: ratio(med(.total_time_ms); $plain | med(.total_time_ms))}
          else {} end)]
  | {benchmark: "pause",
     key: "tuning",
     summary: ["real_pause_ms", "qemu_downtime_ms", "pause_vs_default", "downtime_vs_default", "total_time_ms",
               "bytes_transferred", "tls_pause_vs_plain", "tls_total_vs_plain"],
     plot: {y: ["real_pause_ms", "qemu_downtime_ms"]},
     targets: {pause_vs_default: "<= 0.6 (socket)", tls_pause_vs_plain: "<= 1.1 (socket+tls)",
               tls_total_vs_plain: "<= 1.1 (socket+tls)"},
     results: .,
     samples: $all,
     setup: {quick: ($quick == 1), guest_mib: $mem, filled_mib: $fill, accelerator: $accel, wan_mbit: 100, rtt_ms: 8,
             fa: "none",
             order: "socket h->f, none f->h, socket+tls h->f, socket+tls f->h, none h->f, socket f->h (quick: the first three)"},
     date: $date, machine: $machine}'
