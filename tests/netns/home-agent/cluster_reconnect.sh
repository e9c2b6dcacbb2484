#!/usr/bin/env bash
# netns test: home agents that lose etcd without being active stay up and come back.
#
#     br-home 10.1.0.1 (home site router)
#        |        |
#       h0       h0
#    ha1 (vmroam-ha)   ha2 (vmroam-ha)     h0 10.1.0.21 / 10.1.0.22; the active one also
#       c0       c0                        holds 10.1.0.2/24 (the HA service address)
#        |        |
#   ctl: br-ctl 172.31.0.0/24 ---- e1 .11 (one etcd member, own namespace); ha1 .21, ha2 .22
#
# Steps: ha1 starts while etcd is not running: it comes up "connecting" (API, status and
# metrics say so) instead of failing; etcd starts; ha1 must be active within a few seconds
# (gRPC's reconnect backoff is at most 1 s, the HA's retry at most 2 s). ha2 joins as standby.
# ha2 is cut off from etcd (its link to the control network down): it goes "connecting" and
# stays up. Meanwhile ha1 defines a VM and deletes another, then is killed (-9). ha2's link
# comes back: the same ha2 process reconnects, its mirror has the new VM and not the deleted
# one, and it takes over from the dead ha1.
# Prints "RESULT etcd_up_to_active_ms=... reconnect_to_active_ms=...": figures, not targets.
# usage: cluster_reconnect.sh PATH_TO_vmroam-ha
set -u
here=$(cd "$(dirname "$0")" && pwd)
HA_BIN=${1:?usage: cluster_reconnect.sh PATH_TO_vmroam-ha}
source "$here/../../lib/topology.sh"
source "$here/../../lib/agents.sh"
HAS=(ha1 ha2)
MEMBERS=(e1)
source "$here/../../lib/cluster.sh"
cluster_need "$HA_BIN" cluster-reconnect

cluster_up --no-wanem --sites "home foreign" || exit $?
cluster_agents_setup 30
vm_json() { printf '{"id":"%s","home_address":"%s","mac":"%s"}' "$1" "$2" "$3"; }

# ---- an HA started before etcd ------------------------------------------------------------
ha_start ha1
wait_for "[ \"\$(role_of ha1)\" = connecting ]" 10 "ha1 to report connecting" || fail "ha1 is '$(role_of ha1)'"
agent_api ha1 GET /v1/health | jq -e '.cluster.etcd_error | test("etcd_unavailable")' >/dev/null ||
  fail "the health does not name etcd's error: $(agent_api ha1 GET /v1/health)"
[ "$(metric ha1 'vmroam_cluster_role{role="connecting"}')" = 1 ] || fail "metrics: $(agent_api ha1 GET /metrics | grep cluster)"
vctl ha1 status | grep -Eq '^cluster\.role: +connecting$' || fail "vmroamctl status: $(vctl ha1 status)"
has_service ha1 && fail "a connecting HA holds the service address"
note "ha1 up without etcd: connecting ($(agent_api ha1 GET /v1/health | jq -r .cluster.etcd_error))"

cluster_etcd_up
t_etcd=$(now_ms)
# A few seconds once etcd answers (generous: the machine is shared). The HA's retry backs
# off to 2 s at most and gRPC's reconnect to 1 s; a channel stuck in gRPC's default backoff
# (up to 120 s) would take far longer.
wait_for "[ \"\$(role_of ha1)\" = active ] && has_service ha1" 15 "ha1 to be active once etcd is up" ||
  fail "ha1 is '$(role_of ha1)' $(($(now_ms) - t_etcd)) ms after etcd answered"
up_ms=$(($(now_ms) - t_etcd))
note "etcd answers: ha1 active $up_ms ms later"

ha_start ha2
wait_for "[ \"\$(role_of ha2)\" = standby ]" 10 "ha2 to be standby" || fail "ha2 is '$(role_of ha2)'"
agent_api ha1 POST /v1/vms "$(vm_json v1 10.1.0.31 52:54:00:00:03:01)" >/dev/null || fail "POST v1 at ha1"
wait_for "agent_api ha2 GET /v1/vms/v1" 5 "ha2 to mirror v1" || fail "ha2 did not mirror v1"

# ---- the standby loses etcd: it stays up, connecting -------------------------------------------
pid2=$(ha_pid ha2)
ip -n "$(ns_of ha2)" link set c0 down || fail "cutting ha2 off"
# Its keepalives go unanswered: within the lease TTL (2 s) and a keepalive tick it reconnects.
wait_for "[ \"\$(role_of ha2)\" = connecting ]" 20 "ha2 to report connecting" || fail "ha2 is '$(role_of ha2)'"
alive ha2 || fail "the standby ended when it lost etcd"
agent_api ha1 POST /v1/vms "$(vm_json v2 10.1.0.32 52:54:00:00:03:02)" >/dev/null || fail "POST v2 at ha1"
agent_api ha1 DELETE /v1/vms/v1 >/dev/null || fail "DELETE v1 at ha1"
kill -KILL "$(ha_pid ha1)"
wait "$(ha_pid ha1)" 2>/dev/null
note "ha2 cut off from etcd: connecting, still running; ha1 defined v2, deleted v1 and was killed"

# ---- etcd back: the same process catches up and takes over ---------------------------------------
t_up=$(now_ms)
ip -n "$(ns_of ha2)" link set c0 up || fail "reconnecting ha2"
wait_for "[ \"\$(role_of ha2)\" = active ] && has_service ha2" 20 "ha2 to take over once back" ||
  fail "ha2 is '$(role_of ha2)' after its link came back"
back_ms=$(($(now_ms) - t_up))
[ "$(ha_pid ha2)" = "$pid2" ] && alive ha2 || fail "ha2 was restarted"
agent_api ha2 GET /v1/vms/v2 >/dev/null || fail "ha2's mirror lacks v2, defined while it was cut off"
agent_api ha2 GET /v1/vms/v1 >/dev/null 2>&1 && fail "ha2's mirror still has v1, deleted while it was cut off"
n=$(metric ha2 vmroam_cluster_reconnects)
[ "${n:-0}" -ge 1 ] 2>/dev/null || fail "vmroam_cluster_reconnects is '$n'"
[ "$(metric ha2 'vmroam_cluster_role{role="active"}')" = 1 ] || fail "metrics: $(agent_api ha2 GET /metrics | grep cluster)"
[ "$(leader)" = ha2 ] || fail "etcd's leader key is not ha2"
note "ha2 back: it resynced (v2 in, v1 out) and took over after $back_ms ms, $n reconnect attempt(s)"
echo "RESULT etcd_up_to_active_ms=$up_ms reconnect_to_active_ms=$back_ms load=$(cut -d' ' -f1 /proc/loadavg)"
echo "PASS"
