#!/bin/sh
# wait.sh's wait_for under the shell that runs this file (meson runs it under bash and dash):
# success at once and after some polls, the caller's variables and functions visible to the
# condition, a timeout that fails within bounds and names the description, bad calls refused.
# usage: wait_test.sh   (no privileges, ~2 s)
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/wait.sh"
failed=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; failed=1; fi; }
now_ms() { date +%s%3N; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check "a true condition returns 0" "wait_for true 1"
check "a true condition with timeout 0 returns 0 (evaluated once)" "wait_for true 0"

# The condition becomes true after a few polls: a counter in the caller's shell.
n=0
bump() { n=$((n + 1)); [ "$n" -ge 4 ]; }
check "polls until the condition holds, in the caller's shell" "wait_for bump 5 && [ \$n -eq 4 ]"

# A file that appears while waiting (written by a background job after ~0.3 s).
(sleep 0.3; : >"$tmp/late") &
check "a pipeline/test condition that turns true" "wait_for \"[ -e '$tmp/late' ] && ls '$tmp' | grep -q late\" 5"
wait

# Negation and the caller's variables inside the condition.
pid=999999
check "'!' works in the condition" "wait_for \"! kill -0 $pid\" 1"

# Timeout: returns 1 after about the timeout, and says what it waited for.
t0=$(now_ms)
wait_for false 0.5 "the moon to turn blue" 2>"$tmp/err"
rc=$?
t1=$(now_ms)
check "a false condition returns 1" "[ $rc -eq 1 ]"
check "the timeout is honoured (0.5 s <= elapsed < 3 s)" "[ $((t1 - t0)) -ge 500 ] && [ $((t1 - t0)) -lt 3000 ]"
check "the message names the description" "grep -q 'timed out after 0.5s waiting for the moon to turn blue' '$tmp/err'"
wait_for "[ 1 = 2 ]" 0 2>"$tmp/err"
check "without a description the message names the condition" "grep -q 'waiting for \[ 1 = 2 \]' '$tmp/err'"

# The condition's output is discarded.
out=$(wait_for "echo noise; true" 1 2>&1)
check "the condition's output is discarded" "[ -z '$out' ]"

# Bad calls: 2 and a usage message, the condition never run.
ran=0
wait_for "ran=1" 2>/dev/null
check "a missing timeout is refused (2)" "[ $? -eq 2 ] && [ $ran -eq 0 ]"
wait_for "ran=1" soon 2>"$tmp/err"
check "a non-numeric timeout is refused (2) and named" "[ $? -eq 2 ] && [ $ran -eq 0 ] && grep -q \"timeout 'soon'\" '$tmp/err'"
wait_for "ran=1" 1.2.3 2>/dev/null
check "a malformed number is refused (2)" "[ $? -eq 2 ] && [ $ran -eq 0 ]"
wait_for "ran=1" 1 desc extra 2>/dev/null
check "extra arguments are refused (2)" "[ $? -eq 2 ] && [ $ran -eq 0 ]"

exit $failed
