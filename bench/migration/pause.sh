#!/usr/bin/env bash
# Benchmark 'pause': the guest's real pause (STOP -> RESUME) under the driver's transport and
# bandwidth choices, against QEMU's defaults, and whether the guest survives each move.
#
# Variants (row key "tuning"):
#   none        QEMU's defaults: --tuning none (QEMU connects to tcp:HOST:PORT itself, kernel
#               send-buffer autotuning) and --bandwidth qemu (its 128 MiB/s max-bandwidth, so the
#               100 Mbit/s link, not QEMU, limits the stream)
#   socket      --tuning socket (the driver's connection with TCP_NOTSENT_LOWAT and a small
#               SO_SNDBUF, handed to QEMU with getfd), --bandwidth qemu
#   honest      --tuning socket with honest bandwidth (vmroam-migrate's default): the driver
#               measures the link's delivery rate on its socket (TCP_INFO) and keeps QEMU's
#               max-bandwidth at 95% of it (docs/migration.md "The bandwidth model")
#   honest-target  honest with --target-pause 30: QEMU's downtime-limit is the 30 ms target
#               pause minus the path's RTT, raised stepwise if QEMU does not converge ("The
#               downtime rule"; not in the default list: --variants)
#   honest+tls  honest with the stream in TLS (mutual x509, tests/lib/guest.sh's creds):
#               vmroam-migrate's default; the others migrate in clear (--insecure-migration)
#   honest-30   honest with --downtime-limit 30: a downtime budget of 30 ms (not in the default
#               list: --variants)
#
# Testbed (bench/migration/testbed.sh): the 'migration' benchmark's guest and link (512 MiB,
# 350 MiB filled with /dev/urandom, WAN 100 Mbit/s, 8 ms RTT). The guest boots once at home and
# is migrated back and forth, alternating: round 1 none h->f, socket f->h, honest h->f,
# honest+tls f->h; round 2 the reverse order (honest+tls h->f … none f->h), so that over two
# rounds each variant crosses the WAN once in each direction; --rounds N (2) of them.
# After every move the guest's integrity is checked (tests/lib/integrity.sh via
# guest_integrity: it ticks, no virtio/panic line, its memory check passes with the host's
# checksum); a broken guest is counted, its move's figures stay in the medians, and a fresh
# guest boots where the next move starts. --quick: one round, 128 MiB, no fill.
# --busy KIB: the guest also runs tests/vm/memcheck.c's busy writer over KIB KiB (a store loop
# whose lost stores the integrity check reports: the reproduction of QEMU's TCG dirty-tracking
# defect, docs/migration.md "A tighter downtime-limit, and guests that break"). The guest's RAM
# is --mem MiB plus tests/lib/qemu.sh's 8 KiB, which keeps it off the defective path; run with
# VM_RAM_PAD_KIB=0 to reproduce the defect.
# Plain QEMU migrations (--fa none, no agents): the registration round trip of the coupled
# mode would add the same to all and is the 'migration' benchmark's subject.
#
# Row per variant (median of its migrations in this invocation):
#   real_pause_ms         STOP -> RESUME of the guest (the driver's real_pause_ms)
#   qemu_downtime_ms      QEMU's own downtime figure
#   pause_vs_default      real_pause_ms / the none row's (targets: socket <= 0.6; honest
#                         <= 0.15 and <= 30 ms)
#   downtime_vs_default   qemu_downtime_ms / the none row's
#   total_time_ms, bytes_transferred, downtime_bytes (RAM sent while stopped), passes
#   max_bandwidth         what the driver gave QEMU (bytes/s; null: QEMU's own 128 MiB/s)
#   downtime_limit_ms     the downtime-limit QEMU had at the STOP (null: its own 300 ms);
#   downtime_raises       how often the downtime rule raised it, summed over the moves
#   real_pause_max_ms     the longest pause of the variant
#   link_rate             the delivery rate the driver measured (bytes/s)
#   qemu_estimate_at_stop QEMU's own bandwidth estimate at the STOP (bytes/s; ram.mbps)
#   migrations, guest_broken (count; target 0)
#   tls_pause_vs_plain    honest+tls: real_pause_ms / the honest row's (target <= 1.1)
#   tls_total_vs_plain    honest+tls: total_time_ms / the honest row's (target <= 1.1)
#
#   notsent_at_stop, unacked_at_stop  bytes in the driver's socket at the STOP, not sent / in
#                         flight: what the last pass queued behind (--tuning socket only)
#
#   pause.sh [--quick] [--rounds N] [--variants none,socket,honest,honest+tls] [--mem MIB] [--fill MIB]
#            [--busy KIB]
# One JSON object on stdout, logs on stderr; exit 77 when root, QEMU, TUN/TAP or a kernel
# feature is missing.
set -uo pipefail
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)

mem=512
fill=350
quick=0
rounds=2
busy=0
variants=(none socket honest honest+tls)
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; mem=128; fill=0; rounds=1; shift ;;
    --rounds) rounds=${2:?}; shift 2 ;;
    --variants) IFS=, read -r -a variants <<<"${2:?}"; shift 2 ;;
    --mem) mem=${2:?}; shift 2 ;;
    --fill) fill=${2:?}; shift 2 ;;
    --busy) busy=${2:?}; shift 2 ;;
    *) echo "pause: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

# shellcheck source=testbed.sh
source "$here/testbed.sh"
for v in "${variants[@]}"; do
  case "$v" in none | socket | honest | honest+tls | honest-30 | honest-target) ;; *) echo "pause: unknown variant '$v'" >&2; exit 2 ;; esac
done
mb_setup pause "$mem" "$fill"
if [ "$busy" != 0 ]; then
  VMR_GUEST_APPEND="$VMR_GUEST_APPEND vmroam.membusy=$RANDOM:$busy"
  mb_log "the guest runs the busy writer over $busy KiB"
fi

# variant_args VARIANT: vmroam-migrate's arguments and VMR_GUEST_TLS for it.
variant_args() {
  case "$1" in
    none) echo "0 --tuning none --bandwidth qemu" ;;
    socket) echo "0 --tuning socket --bandwidth qemu" ;;
    honest) echo "0 --tuning socket --bandwidth honest" ;;
    honest+tls) echo "1 --tuning socket --bandwidth honest" ;;
    honest-30) echo "0 --tuning socket --bandwidth honest --downtime-limit 30" ;;
    honest-target) echo "0 --tuning socket --bandwidth honest --target-pause 30" ;;
  esac
}

# pause_plan: "VARIANT FROM TO" lines, alternating (see the top).
pause_plan() {
  local r i n=${#variants[@]} at=home other order=()
  for ((r = 1; r <= rounds; r++)); do
    if ((r % 2 == 1)); then order=("${variants[@]}"); else
      order=(); for ((i = n - 1; i >= 0; i--)); do order+=("${variants[i]}"); done
    fi
    for v in "${order[@]}"; do
      other=foreign; [ $at = foreign ] && other=home
      echo "$v $at $other"
      at=$other
    done
  done
}

# one_move VARIANT FROM TO: migrate, check the guest, print the sample (JSON) on stdout; exit
# the benchmark if the move failed (the guest may still run at the source: the plan cannot go
# on). Not in $(…) for guest.sh's state: the sample goes to $sample.
sample=
one_move() {
  local variant=$1 from=$2 to=$3 tls args rc broken=
  read -r tls args <<<"$(variant_args "$variant")"
  guest_start_dest "$to" || { mb_log "destination QEMU at $to"; exit 1; }
  # shellcheck disable=SC2086
  VMR_GUEST_TLS=$tls mb_migrate_plain "$from" "$to" $args
  rc=$?
  sample=$(jq -c --arg dir "$from->$to" --arg v "$variant" '{tuning: $v, direction: $dir, migration_tls, outcome, error,
    real_pause_ms, qemu_downtime_ms, total_time_ms, bytes_transferred, downtime_bytes, passes,
    max_bandwidth: .bandwidth.max_bandwidth_bytes_per_s, link_rate: .bandwidth.measured_rate_bytes_per_s,
    qemu_estimate_at_stop: .bandwidth.qemu_estimate_at_stop_bytes_per_s,
    qemu_estimate_peak: .bandwidth.qemu_estimate_peak_bytes_per_s, remaining_at_stop: .bandwidth.remaining_at_stop_bytes,
    notsent_at_stop: .bandwidth.notsent_at_stop_bytes, unacked_at_stop: .bandwidth.unacked_at_stop_bytes,
    bandwidth_why: .bandwidth.why, downtime_limit_ms: .downtime.limit_ms, downtime_start_ms: .downtime.start_ms,
    downtime_raises: .downtime.raises, downtime_why: .downtime.why}' "$VMR_GUEST_JSON" 2>/dev/null)
  mb_log "$variant $from -> $to: exit $rc $sample"
  if [ $rc != 0 ] || ! jq -e '.outcome == "completed" and (.real_pause_ms | type) == "number"' <<<"$sample" >/dev/null 2>&1; then
    mb_log "migration failed: $(tail -n 5 "$VMR_GUEST_JSON.log" 2>/dev/null)"
    exit 1
  fi
  if broken=$(mb_guest_broken 20); then
    mb_log "THE GUEST BROKE in the move to $to: $broken; rebooting it there"
    sample=$(jq -c --arg b "$broken" '. + {guest_broken: $b}' <<<"$sample")
    guest_stop
    guest_start_source "$to" || { mb_log "the guest did not boot again at $to"; exit 1; }
  else
    mb_log "the guest is whole after the move"
  fi
}

mapfile -t plan < <(pause_plan)
mb_boot home || exit 1
samples=()
for step in "${plan[@]}"; do
  read -r variant from to <<<"$step"
  one_move "$variant" "$from" "$to"
  samples+=("$sample")
done

printf '%s\n' "${samples[@]}" | jq -s --argjson quick "$quick" --argjson mem "$mem" --argjson fill "$fill" \
  --arg accel "$VMR_GUEST_ACCEL" --arg date "$(mb_date)" --argjson machine "$(mb_machine)" \
  --argjson rounds "$rounds" --arg order "$(printf '%s; ' "${plan[@]}")" --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" '
  def median: sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
                     else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  def med(f): map(f | select(type == "number")) | median;
  def ratio(a; b): if (a | type) == "number" and (b | type) == "number" and b > 0 then a / b * 1000 | round / 1000 else null end;
  . as $all
  | ($all | map(select(.tuning == "none"))) as $none
  | ($all | map(select(.tuning == "honest"))) as $plain
  | [("none", "socket", "honest", "honest+tls", "honest-30", "honest-target") as $t | $all | map(select(.tuning == $t)) | select(length > 0)
     | {tuning: $t, real_pause_ms: med(.real_pause_ms), qemu_downtime_ms: med(.qemu_downtime_ms),
        pause_vs_default: ratio(med(.real_pause_ms); $none | med(.real_pause_ms)),
        downtime_vs_default: ratio(med(.qemu_downtime_ms); $none | med(.qemu_downtime_ms)),
        total_time_ms: med(.total_time_ms), bytes_transferred: med(.bytes_transferred),
        downtime_bytes: med(.downtime_bytes), passes: med(.passes),
        max_bandwidth: med(.max_bandwidth), link_rate: med(.link_rate), qemu_estimate_at_stop: med(.qemu_estimate_at_stop),
        downtime_limit_ms: med(.downtime_limit_ms), downtime_raises: map(.downtime_raises // 0) | add,
        real_pause_max_ms: map(.real_pause_ms | select(type == "number")) | max,
        migrations: length, guest_broken: map(select(.guest_broken)) | length}
       + (if $t == "honest+tls" then {tls_pause_vs_plain: ratio(med(.real_pause_ms); $plain | med(.real_pause_ms)),
                                      tls_total_vs_plain: ratio(med(.total_time_ms); $plain | med(.total_time_ms))}
          else {} end)]
  | {benchmark: "pause",
     key: "tuning",
     summary: ["real_pause_ms", "qemu_downtime_ms", "pause_vs_default", "total_time_ms", "downtime_bytes",
               "qemu_estimate_at_stop", "link_rate", "guest_broken", "tls_pause_vs_plain", "tls_total_vs_plain"],
     plot: {y: ["real_pause_ms", "qemu_downtime_ms"]},
     targets: {pause_vs_default: "<= 0.6 (socket), <= 0.15 (honest)", real_pause_ms: "<= 30 (honest)",
               guest_broken: "0", tls_pause_vs_plain: "<= 1.1 (honest+tls)", tls_total_vs_plain: "<= 1.1 (honest+tls)"},
     results: .,
     samples: $all,
     setup: {quick: ($quick == 1), guest_mib: $mem, filled_mib: $fill, accelerator: $accel, wan_mbit: 100, rtt_ms: 8,
             fa: "none",
             rounds: $rounds, order: $order, load_average_at_end: $load},
     date: $date, machine: $machine}'
