#!/usr/bin/env bash
# vmroamctl against real agents: every subcommand, --json parsed and checked, exit codes.
#
#   home (vmr-home-PID)                          foreign (vmr-foreign-PID)
#   br-home 10.1.0.1/24                          br-for 10.2.0.1/24
#   vmroam-ha  (API /tmp/vmr-ctl-PID/ha.sock)    vmroam-fa  (API /tmp/vmr-ctl-PID/fa.sock)
#   wan0 192.0.2.2/24 ---------- wan ------------ wan0 192.0.2.3/24
#
# The shared testbed (tests/lib/topology.sh) with the home and foreign sites only, no VM
# namespace, and layer 2 between the routers (--no-wanem --rate 0). The agents' Unix sockets
# live in the shared file system, so vmroamctl runs outside the namespaces. The move commands
# drive a real proxy registration FA → HA across the wan.
# Usage: ctl.sh VMROAMCTL VMROAM_HA VMROAM_FA SOURCE_ROOT
set -u
CTL=$1 HA=$2 FA=$3 SRC=$4
# shellcheck source=../../lib/agent_pair.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/agent_pair.sh"
agent_pair_up ctl
HA_API=$RUN/ha.sock FA_API=$RUN/fa.sock
agent_pair_ha_json "$RUN/ha.db" "\"api\": { \"unix_socket\": \"$HA_API\" }" >"$RUN/ha.json"
agent_pair_fa_json "$RUN/fa.db" "\"api\": { \"unix_socket\": \"$FA_API\" }" >"$RUN/fa.json"
start_agent ha
start_agent fa

H=(--api "$HA_API")
F=(--api "$FA_API")
echo "$KEY" > "$RUN/vm1.key"

# status on both agents
ctl 0 "${H[@]}" --json status && jcheck 'j["status"]=="ok" and j["role"]=="home-agent"' "HA status"
ctl 0 "${F[@]}" --json status && jcheck 'j["role"]=="foreign-agent"' "FA status"
ctl 0 "${H[@]}" status && [[ $out == *"role:"*"home-agent"* ]] || fail "status table: $out"

# vm add / list / show / set
ctl 0 "${H[@]}" --json vm add vm1 home_address=10.1.0.10 mac=52:54:00:12:34:56 allowed_fas=192.0.2.3 spi=300 key=@"$RUN/vm1.key" &&
  jcheck 'j["id"]=="vm1" and j["allowed_fas"]==["192.0.2.3"] and j["spi"]==300 and "key" not in j' "vm add"
ctl 0 "${H[@]}" vm add vm2 --home-address 10.1.0.11 --mac 52:54:00:00:00:02
ctl 0 "${H[@]}" --json vm list && jcheck '[v["id"] for v in j["vms"]]==["vm1","vm2"]' "vm list"
ctl 0 "${H[@]}" vm list && [[ $(head -n1 <<<"$out") == ID* && $out == *"vm2  "*"10.1.0.11"* ]] || fail "vm list table: $out"
ctl 0 "${H[@]}" --json vm show vm1 && jcheck 'j["home_address"]=="10.1.0.10" and j["away"]==False' "vm show"
ctl 0 "${H[@]}" --json vm set vm2 home_address=10.1.0.12 mac=52:54:00:00:00:02 && jcheck 'j["home_address"]=="10.1.0.12"' "vm set"
# API errors: exit 1, the error named
ctl 1 "${H[@]}" vm add vm3 home_address=10.9.0.1 mac=52:54:00:00:00:03 && [[ $err == *"bad_field (home_address)"* ]] || fail "out-of-prefix error: $err"
ctl 1 "${H[@]}" vm add vm1 home_address=10.1.0.10 mac=52:54:00:12:34:56 && [[ $err == *conflict* ]] || fail "duplicate: $err"
ctl 1 "${H[@]}" --json vm show nosuch && jcheck 'j["error"]["code"]=="not_found"' "--json error body"
# usage: exit 2, nothing sent; unreachable: exit 3
ctl 2 "${H[@]}" vm add vm4 mac=52:54:00:00:00:04 && [[ $err == *"home_address is required"* ]] || fail "usage: $err"
ctl 3 --api "$RUN/nobody.sock" status

# bindings: none yet
ctl 0 "${H[@]}" --json binding list && jcheck 'j["bindings"]==[]' "binding list empty"
ctl 1 "${H[@]}" binding show 10.1.0.10 && [[ $err == *not_found* ]] || fail "binding show before a move: $err"

# the move at the foreign agent: prepare, activate and wait, list, show
ctl 0 "${F[@]}" --json move prepare vm1 home_address=10.1.0.10 mac=52:54:00:12:34:56 home_gateway=10.1.0.1 \
  home_gateway_mac=02:00:0a:01:00:01 home_agent=192.0.2.2 && jcheck 'j["state"]=="prepared"' "move prepare"
ctl 0 "${F[@]}" --json visitor list && jcheck '[v["id"] for v in j["visitors"]]==["vm1"]' "visitor list"
ctl 0 "${F[@]}" --json move activate vm1 wait_ms=5000 && jcheck 'j["state"]=="active"' "move activate"
ctl 0 "${F[@]}" visitor show vm1 && [[ $out == *"state:"*active* ]] || fail "visitor show: $out"
ctl 0 "${F[@]}" --json move resumed vm1
ctl 1 "${F[@]}" move abort vm1 && [[ $err == *conflict* ]] || fail "abort after activation: $err"

# the home agent now has the binding
ctl 0 "${H[@]}" --json binding list &&
  jcheck 'len(j["bindings"])==1 and j["bindings"][0]["care_of_address"]=="192.0.2.3" and j["bindings"][0]["vm"]=="vm1"' "binding list"
ctl 0 "${H[@]}" --json binding show 10.1.0.10 && jcheck 'j["foreign_agent"]=="192.0.2.3"' "binding show"
ctl 0 "${H[@]}" binding list && [[ $out == *"10.1.0.10"*"vm1"*"192.0.2.3"* ]] || fail "binding table: $out"
ctl 0 "${H[@]}" --json vm show vm1 && jcheck 'j["away"]==True and j["binding"]["care_of_address"]=="192.0.2.3"' "vm show away"

# metrics: text by default, samples with --json
ctl 0 "${H[@]}" metrics && [[ $out == *"# TYPE vmroam_bindings"* ]] || fail "metrics text"
ctl 0 "${H[@]}" --json metrics && jcheck 'any(s["name"]=="vmroam_bindings" and s["value"]==1 for s in j["samples"])' "metrics json"

# depart at the FA, a prepare that is aborted, remove at the HA
ctl 0 "${F[@]}" --json move depart vm1 && jcheck 'j["state"]=="departed"' "move depart"
ctl 0 "${F[@]}" move prepare vm2 home_address=10.1.0.12 mac=52:54:00:00:00:02 home_gateway=10.1.0.1 \
  home_gateway_mac=02:00:0a:01:00:01 home_agent=192.0.2.2
ctl 0 "${F[@]}" --json move abort vm2 && jcheck 'j["state"]=="aborted"' "move abort"
ctl 1 "${F[@]}" visitor show vm2
ctl 0 "${H[@]}" --json vm remove vm2 && jcheck 'j["removed"]=="vm2"' "vm remove"
ctl 0 "${H[@]}" --json vm rm vm1
ctl 0 "${H[@]}" --json vm list && jcheck 'j["vms"]==[]' "vm list after remove"

# Every `vmroamctl …` line of docs/getting-started.md and operations.md parses: run with an
# --api nobody answers on, it must get as far as connecting (exit 3), not a usage error (2).
n=0
while IFS= read -r line; do
  # A synopsis ("[key=value | --key value]…") is not a command line: eval would run its pipes.
  [[ $line == *…* ]] && continue
  n=$((n + 1))
  # Files the examples name are replaced by ours (the parser reads them).
  line=$(sed -E "s|key=@[^ ]+|key=@$RUN/vm1.key|; s|--token-file [^ ]+|--token-file $RUN/vm1.key|" <<<"$line")
  eval "set -- ${line#*vmroamctl }"
  "$CTL" "$@" --api "$RUN/nobody.sock" >/dev/null 2>"$RUN/err"
  rc=$?
  [[ $rc -eq 3 ]] || fail "docs example exits $rc, not 3: $line: $(cat "$RUN/err")"
done < <(grep -hoE '^\s*(sudo )?vmroamctl [^#]*' "$SRC/docs/getting-started.md" "$SRC/docs/operations.md")
echo "ok: $n vmroamctl examples in the docs parse"
[[ $n -ge 5 ]] || fail "found only $n vmroamctl examples in the docs"

[[ $failed -eq 0 ]] && echo "PASS" || echo "FAILED"
exit $failed
