#!/usr/bin/env bash
# topo_down leaves nothing behind: no namespace, no delay line, no process started in the
# namespaces, no run dir; it is idempotent; the EXIT and TERM traps run it; a topology run
# as a program (`topology.sh up`) stays up until `topology.sh down SUFFIX`.
set -euo pipefail
lib="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../lib" && pwd)/topology.sh"
source "$lib"
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1" >&2; fail=1; else echo "ok: $1"; fi; }
namespaces_of() { ip netns list | awk '{print $1}' | grep -E "^vmr-[a-z0-9]+-$1\$" || true; }

# 1. topo_down in this shell.
topo_up --delay 1 || exit $?
pids=$(cat "$VMR_RUN_DIR"/wanem-*.pid | tr "\n" " ")
ns_exec home iperf3 -s >/dev/null 2>&1 &
extra=$!
wait_for "ns_exec home ss -ltn | grep -q ':5201'" 5
check "six namespaces up" "[ $(namespaces_of "$VMR_SUFFIX" | wc -l) = 6 ]"
check "four delay lines running" "[ $(echo $pids | wc -w) = 4 ] && for p in $pids; do kill -0 \$p || exit 1; done"
topo_down
check "no namespace left" "[ -z \"$(namespaces_of "$VMR_SUFFIX")\" ]"
for p in $pids $extra; do check "process $p gone" "! kill -0 $p 2>/dev/null"; done
check "run dir removed" "[ ! -e '$VMR_RUN_DIR' ]"
check "topo_down again is harmless" "topo_down"

# 2. The EXIT trap of a test that fails half-way.
child=$(VMR_SUFFIX= bash -c "source '$lib'; topo_up --delay 1 >/dev/null || exit 9; echo \$VMR_SUFFIX; exit 3" || true)
check "child ran (suffix '$child')" "[ -n '$child' ]"
check "EXIT trap removed the child's namespaces" "[ -z \"$(namespaces_of "$child")\" ]"

# 3. SIGTERM while a test waits.
ready=$(mktemp)
VMR_SUFFIX= bash -c "source '$lib'; topo_up --delay 1 >/dev/null || exit 9; echo \$VMR_SUFFIX >'$ready'; wait_for false 120" &
waiter=$!
# topo_up takes ~30 s on a loaded 2-CPU machine (six namespaces, four delay lines).
wait_for "[ -s '$ready' ]" 90 "the child's topology to come up"
suffix=$(cat "$ready")
rm -f "$ready"
kill -TERM "$waiter"
wait "$waiter" || true
check "TERM trap removed namespaces of $suffix" "[ -z \"$(namespaces_of "$suffix")\" ]"
check "no delay line of $suffix left" "! pgrep -f 'json-stats /tmp/vmr-topo-$suffix/' >/dev/null"

# 4. Run as a program: stays up, prints how to enter, comes down by suffix.
out=$(VMR_SUFFIX= bash "$lib" up --delay 1)
suffix=$(sed -n 's/^topology vmr-\*-\([0-9]*\) is up.*/\1/p' <<<"$out")
check "kept topology up ($suffix)" "[ $(namespaces_of "$suffix" | wc -l) = 6 ]"
check "it says how to enter the vm" "grep -q 'ip netns exec vmr-vm-$suffix bash' <<<\"\$out\""
bash "$lib" down "$suffix"
check "topology.sh down removed it" "[ -z \"$(namespaces_of "$suffix")\" ]"
check "and its delay lines" "! pgrep -f 'json-stats /tmp/vmr-topo-$suffix/' >/dev/null"

# 5. The drawing printed is the one at the top of the file, with every address.
drawing=$(draw_topology)
for a in 198.51.100.10 198.51.100.1 192.0.2.1 192.0.2.2 192.0.2.3 192.0.2.4 10.1.0.1 10.2.0.1 10.3.0.1 10.1.0.10; do
  check "drawing shows $a" "grep -qF '$a' <<<\"\$drawing\""
done
exit $fail
