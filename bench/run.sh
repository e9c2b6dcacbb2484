#!/usr/bin/env bash
# Runs every benchmark, repeats each, and reports: `./dev bench` calls this after building.
#
#   bench/run.sh [--runs N] [--quick] [--only NAME[,NAME…]] [--build DIR] [--out DIR] [--no-docs]
#   bench/run.sh --list                 the benchmarks it would run
#   bench/run.sh --check PROGRAM [ARGS…] run PROGRAM once and check its stdout follows the
#                                        conventions (the 'bench' suite's smoke tests use this)
#
# A benchmark is any executable in $build/bench/ (compiled ones, from bench/meson.build) or in
# bench/scripts/ (scripts: netns, VM, iperf3 …). Each run prints ONE JSON object on stdout
# (bench/README.md has the fields); stderr goes to $out/logs/NAME.log; exit 77 means skipped
# (a missing device or privilege), any other non-zero exit is a failed run. Each benchmark
# is run N times (default 5, or $BENCH_RUNS); bench/plot/report.py aggregates the runs
# (median, min..max), writes $out/NAME.json and a plot $out/NAME.png (or .svg), prints the
# table, and rewrites the sections of docs/performance.md's generated block for the benchmarks
# it ran (the others keep their last results), each with its date, machine and load average.
#
# Benchmarks never fail anything: this script exits 0 whatever they do (2 on a usage error).
set -uo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${VMROAM_BUILD_DIR:-$top/build}
out=$top/bench/results
runs=${BENCH_RUNS:-5}
quick=0
only=""
write_docs=1
list=0
report=$top/bench/plot/report.py
py=/usr/bin/python3

usage() { sed -n '2,8p' "$0" >&2; exit 2; }

check() {
  local tmp rc
  tmp=$(mktemp)
  "$@" >"$tmp"
  rc=$?
  if [ $rc -eq 77 ]; then rm -f "$tmp"; exit 77; fi
  if [ $rc -ne 0 ]; then echo "bench check: $* exited $rc" >&2; rm -f "$tmp"; exit 1; fi
  "$py" "$report" check "$tmp"
  rc=$?
  [ $rc -eq 0 ] && echo "bench check: $(basename "$1") printed well-formed results"
  rm -f "$tmp"
  exit $rc
}

while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=${2:?}; shift 2 ;;
    --quick) quick=1; shift ;;
    --only) only=${2:?}; shift 2 ;;
    --build) build=${2:?}; shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    --no-docs) write_docs=0; shift ;;
    --list) list=1; shift ;;
    --check) shift; [ $# -gt 0 ] || usage; check "$@" ;;
    *) usage ;;
  esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || usage

# name<TAB>path, compiled benchmarks first, sorted by name.
discover() {
  local f
  for f in "$build"/bench/* "$top"/bench/scripts/*; do
    [ -f "$f" ] && [ -x "$f" ] || continue
    local name
    name=$(basename "$f")
    name=${name%.*}
    if [ -n "$only" ] && [[ ",$only," != *",$name,"* ]]; then continue; fi
    printf '%s\t%s\n' "$name" "$f"
  done
}

if [ $list -eq 1 ]; then discover | cut -f1; exit 0; fi

benchmarks=$(discover)
if [ -z "$benchmarks" ]; then
  echo "bench: no benchmark found under $build/bench or bench/scripts (build first: ./dev build)" >&2
  exit 0
fi

mkdir -p "$out/logs"
nproc_=$(nproc)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
# The load average matters on a shared machine: a figure measured beside other work is lower.
machine="$(hostname), ${nproc_} CPUs (${cpu:-unknown CPU}), Linux $(uname -r), $(date -u +%Y-%m-%dT%H:%M:%SZ), load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
echo "bench: $runs run(s) each on $machine" >&2

declare -a summary=()
while IFS=$'\t' read -r name path; do
  runs_dir=$(mktemp -d)
  log=$out/logs/$name.log
  : >"$log"
  status=ok
  args=()
  [ $quick -eq 1 ] && args+=(--quick)
  for ((i = 1; i <= runs; i++)); do
    echo "== $name run $i/$runs: $path ${args[*]}" >>"$log"
    start=$(date +%s%N)
    "$path" "${args[@]}" </dev/null >"$runs_dir/run$i.json" 2>>"$log"
    rc=$?
    ms=$((($(date +%s%N) - start) / 1000000))
    secs=$((ms / 1000)).$(printf %03d $((ms % 1000)))
    echo "== exit $rc after ${secs}s" >>"$log"
    if [ $rc -eq 77 ]; then status=skipped; break; fi
    if [ $rc -ne 0 ] || ! "$py" "$report" check "$runs_dir/run$i.json" 2>>"$log"; then
      status="failed (run $i exit $rc, see $log)"
      rm -f "$runs_dir/run$i.json"
    fi
    printf '  %s run %d/%d: exit %d, %ss\n' "$name" "$i" "$runs" "$rc" "$secs" >&2
  done
  if [ "$status" != skipped ]; then
    echo
    if ! "$py" "$report" aggregate "$name" "$out" "$runs_dir"/run*.json </dev/null; then status="failed (no valid run, see $log)"; fi
  fi
  summary+=("$name: $status")
  rm -rf "$runs_dir"
done <<<"$benchmarks"

if [ $write_docs -eq 1 ]; then
  "$py" "$report" docs "$top/docs/performance.md" "$out" "$machine" &&
    echo && echo "bench: table written to docs/performance.md" >&2
fi
echo >&2
printf 'bench: %s\n' "${summary[@]}" >&2
exit 0
