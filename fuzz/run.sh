#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang (-fsanitize=fuzzer,address,undefined) in
# their own build directory and runs each for a number of executions, merging the inputs that
# found new coverage back into the committed corpora (fuzz/corpus/NAME/). Not part of
# `./dev test` or CI: the corpora replay there (suite 'fuzz'); this is how they grow.
#
#   ./dev fuzz [--runs N] [--jobs J] [--timeout S] [TARGET...]
#
#   --runs N     executions per target (libFuzzer -runs=N), default 10000000
#   --jobs J     targets fuzzed at once, one process each, default: the number of cores
#   --timeout S  one input running longer than S seconds is a finding (default 10)
#   --max-time S stop each target after S seconds even if it has not done N runs (libFuzzer
#                -max_total_time; default: no limit). The JSON line reports the runs done.
#   --no-build   run the binaries already in build-fuzz/ as they are
#   TARGET       names from fuzz/meson.build (default: every target)
#
# Prints one JSON line per target:
#   {"target":…, "runs":N, "seconds":S, "execs_per_s":…, "findings":K, "artifacts":[…],
#    "corpus_before":A, "corpus_after":B, "log":…}
# `runs` is the count libFuzzer reports for the run (fewer than asked when it stopped at a
# finding). A finding (crash-*, leak-*, timeout-*, oom-*) is kept under
# build-fuzz/findings/TARGET/; reproduce it with
#   build-fuzz/fuzz/fuzz-TARGET build-fuzz/findings/TARGET/crash-…
# fix the bug and commit the input into fuzz/corpus/TARGET/ as a regression under a name
# saying what it found. Exits 1 if any target had a finding.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${VMROAM_FUZZ_BUILD_DIR:-$top/build-fuzz}
runs=10000000
jobs=$(nproc)
timeout_s=10
max_time=0
build=1
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --max-time) max_time=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n 2,26p "$0"; exit 0 ;;
    -*) echo "dev fuzz: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
if [ ${#targets[@]} -eq 0 ]; then
  # Every target that has a corpus directory (fuzz/meson.build defines one per corpus).
  for d in "$top"/fuzz/corpus/*/; do targets+=("$(basename "$d")"); done
fi

if [ ! -f "$build_dir/build.ninja" ]; then
  # Only what the fuzzers need: no tests, no optional daemons' dependencies.
  CC=clang CXX=clang++ meson setup "$build_dir" --buildtype=debugoptimized -Dfuzzing=true \
    -Dtests=false -Dbpf=disabled -Dlibvirt=disabled -Dcluster=disabled >/dev/null
fi
if [ $build = 1 ]; then
  ninja -C "$build_dir" "${targets[@]/#/fuzz/fuzz-}" >/dev/null || ninja -C "$build_dir" "${targets[@]/#/fuzz/fuzz-}"
fi

# One target: fuzz into a scratch directory (the committed corpus read as seeds), then merge
# what found new coverage into the committed corpus. Prints the JSON line.
fuzz_one() {
  local name=$1 corpus=$top/fuzz/corpus/$1 work=$build_dir/fuzz-work/$1 findings=$build_dir/findings/$1
  local log=$build_dir/fuzz-logs/$1.log bin=$build_dir/fuzz/fuzz-$1
  rm -rf "$work" "$findings"
  mkdir -p "$work" "$findings" "$(dirname "$log")"
  local before after start end rc=0
  before=$(find "$corpus" -type f | wc -l)
  start=$(date +%s.%N)
  "$bin" -runs="$runs" -max_total_time="$max_time" -timeout="$timeout_s" -print_final_stats=1 -artifact_prefix="$findings/" \
    "$work" "$corpus" >"$log" 2>&1 || rc=$?
  end=$(date +%s.%N)
  "$bin" -merge=1 -timeout="$timeout_s" -artifact_prefix="$findings/" "$corpus" "$work" \
    >"$log.merge" 2>&1 || true
  after=$(find "$corpus" -type f | wc -l)
  # libFuzzer's count: its final stats, else "Done N runs", else the last "#N" status line.
  local done_runs
  done_runs=$(sed -n 's/^stat::number_of_executed_units: \([0-9]*\).*/\1/p' "$log" | head -1)
  [ -n "$done_runs" ] || done_runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | head -1)
  [ -n "$done_runs" ] || done_runs=$(sed -n 's/^#\([0-9]*\)[[:space:]].*/\1/p' "$log" | tail -1)
  /usr/bin/python3 - "$name" "${done_runs:-0}" "$start" "$end" "$findings" "$before" "$after" "$log" "$rc" <<'PY'
import json, os, sys
name, runs, start, end, findings, before, after, log, rc = sys.argv[1:]
secs = float(end) - float(start)
arts = sorted(f for f in os.listdir(findings)
              if f.split("-")[0] in ("crash", "leak", "timeout", "oom"))
print(json.dumps({"target": name, "runs": int(runs), "seconds": round(secs, 1),
                  "execs_per_s": round(int(runs) / secs) if secs > 0 else 0,
                  "findings": len(arts), "artifacts": arts, "exit": int(rc),
                  "corpus_before": int(before), "corpus_after": int(after), "log": log}),
      flush=True)
PY
}
export -f fuzz_one
export top build_dir runs timeout_s max_time

printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'fuzz_one "$@"' _ {} |
  tee "$build_dir/fuzz-results.jsonl"
! grep -q '"findings": [1-9]' "$build_dir/fuzz-results.jsonl"
