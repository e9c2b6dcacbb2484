#!/usr/bin/env bash
# Every installed binary answers --help and --version with exit 0 and some output, and the
# agents' --check accepts their shipped example config (the ones installed as
# /etc/vmroam/*.json.example). Usage: ctl_binaries_test.sh SOURCE_ROOT BINARY...
set -u
src=$1
shift
failed=0
for bin in "$@"; do
  name=$(basename "$bin")
  for flag in --help --version; do
    out=$("$bin" "$flag" 2>&1)
    rc=$?
    if [[ $rc -ne 0 || -z $out ]]; then
      echo "FAIL: $name $flag: exit $rc, ${#out} bytes of output"
      failed=1
    else
      echo "ok: $name $flag ($(head -n1 <<<"$out"))"
    fi
  done
done
# --check -c FILE on the example configs: exit 0 and the normalised JSON on stdout.
for pair in "vmroam-ha:home-agent/example.json" "vmroam-fa:foreign-agent/example.json"; do
  name=${pair%%:*} example=$src/${pair#*:}
  bin=""
  for b in "$@"; do [[ $(basename "$b") == "$name" ]] && bin=$b; done
  if [[ -z $bin ]]; then echo "FAIL: $name was not given to the test"; failed=1; continue; fi
  out=$("$bin" --check -c "$example" 2>&1)
  rc=$?
  if [[ $rc -ne 0 ]] || ! /usr/bin/python3 -c 'import json,sys; json.loads(sys.stdin.read())' <<<"$out"; then
    echo "FAIL: $name --check -c $example: exit $rc: $out"
    failed=1
  else
    echo "ok: $name --check -c $example"
  fi
  # A broken config is rejected with exit 1 and a message naming the key.
  out=$("$bin" --check -c /dev/stdin <<<'{"address": "not-an-ip"}' 2>&1)
  rc=$?
  if [[ $rc -ne 1 || $out != *address* ]]; then
    echo "FAIL: $name --check on a bad config: exit $rc: $out"
    failed=1
  else
    echo "ok: $name --check rejects a bad config ($out)"
  fi
done
exit $failed
