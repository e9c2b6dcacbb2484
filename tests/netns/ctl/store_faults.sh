#!/usr/bin/env bash
# Faults with nothing lost: each agent's store on its own small tmpfs, filled to the last page
# while the agents run, and a store on a read-only file system at start-up.
#
#   home (vmr-home-PID)                          foreign (vmr-foreign-PID)
#   vmroam-ha  store on tmpfs $RUN/ha-store      vmroam-fa  store on tmpfs $RUN/fa-store
#   wan0 192.0.2.2/24 ---------- wan ------------ wan0 192.0.2.3/24
#
# Checked (docs/home-agent.md and docs/foreign-agent.md "Durability"): with the disk full a
# change through the API is answered as failed (5xx naming the store) and changes nothing —
# not the answer to a list, not what a restart restores; a registration the HA cannot commit
# is denied (code 130) and no binding appears; once space is back the same requests succeed
# without a restart. An agent whose store is on a read-only file system does not start, and
# says which file.
# Usage: store_faults.sh VMROAMCTL VMROAM_HA VMROAM_FA SOURCE_ROOT
set -u
CTL=$1 HA=$2 FA=$3 SRC=$4
# shellcheck source=../../lib/agent_pair.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/agent_pair.sh"
PY=/usr/bin/python3
agent_pair_up storefault
HA_API=$RUN/ha.sock FA_API=$RUN/fa.sock
agent_pair_on_cleanup 'for m in ha-store fa-store ro-store; do mountpoint -q "$RUN/$m" && umount "$RUN/$m"; done'
mkdir -p "$RUN/ha-store" "$RUN/fa-store" "$RUN/ro-store"
for m in ha-store fa-store; do
  mount -t tmpfs -o size=4m "vmr-$m-$S" "$RUN/$m" || { echo "SKIP: cannot mount a tmpfs"; exit 77; }
done

agent_pair_ha_json "$RUN/ha-store/ha.db" "\"api\": { \"unix_socket\": \"$HA_API\" }" >"$RUN/ha.json"
agent_pair_fa_json "$RUN/fa-store/fa.db" "\"api\": { \"unix_socket\": \"$FA_API\" }" >"$RUN/fa.json"
start_agent ha
start_agent fa
# fill DIR: take every free page of the tmpfs at DIR.
fill() {
  dd if=/dev/zero of="$1/fill-big" bs=64k status=none 2>/dev/null
  dd if=/dev/zero of="$1/fill-small" bs=4k status=none 2>/dev/null
  [[ $(stat -f -c %a "$1") -eq 0 ]] || fail "$1 still has $(stat -f -c %a "$1") free blocks"
}
unfill() { rm -f "$1/fill-big" "$1/fill-small"; }
H=(--api "$HA_API")
F=(--api "$FA_API")
PREPARE=(home_address=10.1.0.10 mac=52:54:00:12:34:56 home_gateway=10.1.0.1 home_gateway_mac=02:00:0a:01:00:01
  home_agent=192.0.2.2)

# ---- The home agent's disk is full ---------------------------------------------------------
ctl 0 "${H[@]}" vm add vm1 home_address=10.1.0.10 mac=52:54:00:12:34:56 allowed_fas=192.0.2.3
fill "$RUN/ha-store"
ctl 1 "${H[@]}" vm add vm2 home_address=10.1.0.11 mac=52:54:00:00:00:02 &&
  { [[ $err == *store_full* ]] || fail "vm add on a full disk: the error does not name the store: $err"; }
ctl 1 "${H[@]}" vm remove vm1 && { [[ $err == *store_full* ]] || fail "vm remove on a full disk: $err"; }
ctl 0 "${H[@]}" --json vm list && jcheck '[v["id"] for v in j["vms"]]==["vm1"]' "vm list after failed changes"
# A registration the HA cannot make durable: denied with 130 (insufficient resources, RFC 5944
# §3.4), no binding; the FA keeps trying (130 is worth a retry) and never reports it active.
ctl 0 "${F[@]}" move prepare vm1 "${PREPARE[@]}"
ctl 1 "${F[@]}" --json move activate vm1 wait_ms=3000
ctl 0 "${F[@]}" --json visitor show vm1 && jcheck 'j["state"]=="registering"' "the FA's visitor while the HA cannot commit"
ctl 0 "${H[@]}" --json binding list && jcheck 'j["bindings"]==[]' "no binding after a failed commit"
ctl 0 "${H[@]}" --json metrics &&
  jcheck 'any(s["name"]=="vmroam_registration_messages_total" and s["labels"].get("result")=="store_failed" and s["labels"].get("code")=="130" and s["value"]>=1 for s in j["samples"])' \
    "the HA counted its 130 replies"
grep -q 'store_commit_failed' "$RUN/ha.log" || fail "the HA did not log store_commit_failed"
# Space back: the same requests succeed, no restart needed; the FA's next try registers.
unfill "$RUN/ha-store"
ctl 0 "${H[@]}" vm add vm2 home_address=10.1.0.11 mac=52:54:00:00:00:02
fa_state() { "$CTL" --api "$FA_API" --json visitor show vm1 2>/dev/null | $PY -c 'import json,sys; print(json.load(sys.stdin)["state"])'; }
wait_for "[[ \$(fa_state) == active ]]" 20 "the FA's retry to register once space is back" || fail "vm1 is $(fa_state), not active"
ctl 0 "${H[@]}" --json binding list && jcheck 'len(j["bindings"])==1' "the binding once space is back"
# What the HA acknowledged is what a restart restores.
stop_agent ha_pid
start_agent ha
ctl 0 "${H[@]}" --json vm list && jcheck '[v["id"] for v in j["vms"]]==["vm1","vm2"]' "vm list after restart"
ctl 0 "${H[@]}" --json binding list && jcheck 'len(j["bindings"])==1' "binding after restart"

# ---- The foreign agent's disk is full ------------------------------------------------------
fill "$RUN/fa-store"
ctl 1 "${F[@]}" move prepare vm2 home_address=10.1.0.11 mac=52:54:00:00:00:02 home_gateway=10.1.0.1 \
  home_gateway_mac=02:00:0a:01:00:01 home_agent=192.0.2.2 &&
  { [[ $err == *store* ]] || fail "prepare on a full disk: the error does not name the store: $err"; }
ctl 0 "${F[@]}" --json visitor list && jcheck '[v["id"] for v in j["visitors"]]==["vm1"]' "visitor list after a failed prepare"
unfill "$RUN/fa-store"
ctl 0 "${F[@]}" move prepare vm2 home_address=10.1.0.11 mac=52:54:00:00:00:02 home_gateway=10.1.0.1 \
  home_gateway_mac=02:00:0a:01:00:01 home_agent=192.0.2.2
stop_agent fa_pid
start_agent fa
ctl 0 "${F[@]}" --json visitor list && jcheck 'sorted(v["id"] for v in j["visitors"])==["vm1","vm2"]' "visitors after restart"

# ---- A store on a read-only file system: the agent does not start, and says which file -----
stop_agent ha_pid
mount -t tmpfs -o size=1m,ro "vmr-ro-store-$S" "$RUN/ro-store" || fail "cannot mount a read-only tmpfs"
sed "s|$RUN/ha-store/ha.db|$RUN/ro-store/ha.db|" "$RUN/ha.json" >"$RUN/ha-ro.json"
ip netns exec "$NH" "$HA" -c "$RUN/ha-ro.json" 2>"$RUN/ha-ro.log"
rc=$?
if [[ $rc -ne 1 ]]; then
  fail "vmroam-ha on a read-only store exited $rc, want 1"
elif ! grep -q "start_failed.*store.*ro-store/ha.db" "$RUN/ha-ro.log"; then
  fail "vmroam-ha on a read-only store: unclear error: $(cat "$RUN/ha-ro.log")"
else
  echo "ok: read-only store refused: $(grep start_failed "$RUN/ha-ro.log")"
fi

[[ $failed -eq 0 ]] && echo "PASS: store faults, nothing acknowledged lost" && exit 0
exit 1
