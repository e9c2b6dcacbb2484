#!/usr/bin/env bash
# vm_move changes which site's bridge the VM is on and the VM keeps address, MAC and gateway.
# Baseline the agents must fix: with plain routing the VM at a foreign site is NOT reachable
# from the correspondent at its home address; back home it is again.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/topology.sh"
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1" >&2; fail=1; else echo "ok: $1"; fi; }
master_of_vm_port() { ip -n "$(topo_ns "$1")" -o link show "$VMR_VM_PORT" 2>/dev/null | sed -n 's/.* master \([^ ]*\) .*/\1/p'; }
vm_identity() { ns_exec vm ip -o addr show "$VMR_VM_IF"; ns_exec vm ip -o link show "$VMR_VM_IF" | grep -o 'link/ether [^ ]*'; ns_exec vm ip route show default; }

topo_up --delay 1 || exit $?
before=$(vm_identity)
check "VM starts at home" "[ \"$(vm_site)\" = home ] && [ \"$(master_of_vm_port home)\" = $VMR_HOME_BRIDGE ]"
check "cn reaches the VM at home" "wait_for 'ns_exec cn ping -c1 -W1 $VMR_VM_ADDR' 10"

vm_move home foreign
check "VM is on foreign's bridge" "[ \"$(vm_site)\" = foreign ] && [ \"$(master_of_vm_port foreign)\" = $VMR_FOREIGN_BRIDGE ]"
check "VM port left home" "! ip -n $VMR_NS_HOME link show $VMR_VM_PORT >/dev/null 2>&1"
check "VM kept address, MAC and gateway" "[ \"\$(vm_identity)\" = \"\$before\" ]"
check "VM link is up again" "wait_for 'ns_exec vm ip link show $VMR_VM_IF | grep -q LOWER_UP' 5"
read -r _ sent received < <(ping_stats cn "$VMR_VM_ADDR" 3 0.2)
echo "cn -> VM at foreign: $received/$sent replies"
check "baseline: VM at foreign is NOT reachable from cn at its home address" "[ $received = 0 ]"

check "vm_move refuses a wrong origin" "! vm_move home foreign2 2>/dev/null"
vm_move foreign foreign2
check "VM is on foreign2's bridge" "[ \"$(vm_site)\" = foreign2 ] && [ \"$(master_of_vm_port foreign2)\" = $VMR_FOREIGN2_BRIDGE ]"

vm_move foreign2 home
check "back home: cn reaches the VM again" "wait_for 'ns_exec cn ping -c1 -W1 $VMR_VM_ADDR' 10"
check "VM identity unchanged after three moves" "[ \"\$(vm_identity)\" = \"\$before\" ]"
exit $fail
