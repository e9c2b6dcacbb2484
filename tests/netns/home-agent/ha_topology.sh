#!/usr/bin/env bash
# The home agent's netns tests: a real vmroam-ha in the home site router of the standard
# testbed (tests/lib/topology.sh, built with --sites "home foreign" --vm-site none --lan
# --no-wanem), scapy in the foreign site router playing two foreign agents. Sourced by the
# tests in this directory.
#
#   lan (vmr-lan-PID)            home (vmr-home-PID): vmroam-ha       foreign (vmr-foreign-PID): scapy
#   eth0 10.1.0.20/24 ── l-lan ┤ br-home 10.1.0.1/24    wan0 192.0.2.2 ─┐   ┌─ wan0 192.0.2.3 (FA1)
#   "a host on the             │ (proxy ARP,            vmr-ha0 (TUN):  wan     +192.0.2.4 (FA2)
#    home link"                │  gratuitous ARP)       10.1.0.x/32     br-transit (layer 2, no delay)
#                                                       proto 186
#
# ha_up: the testbed (`trap ha_down EXIT`), a config in $HA_DIR/ha.json (FA1 and FA2 with their
# own FA-HA keys), the env file the scapy peer reads ($HA_DIR/env.json).
# ha_start: runs vmroam-ha (pid in $HA_PID, log in $HA_DIR/ha.log) and waits until it is ready.
# Skips (77) only for what the kernel lacks: TUN, veth, bridge.

HA_BIN=${1:?usage: TEST.sh PATH_TO_vmroam-ha}
# shellcheck source=../../lib/topology.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/topology.sh"
PY=/usr/bin/python3
PEER=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/ha_peer.py
NS_HA=$VMR_NS_HOME NS_LAN=$VMR_NS_LAN NS_FA=$VMR_NS_FOREIGN
HA=$VMR_HOME_WAN FA1=$VMR_FOREIGN_WAN FA2=$VMR_FOREIGN2_WAN
HA_DIR=$(mktemp -d /tmp/vmr-ha-test.XXXXXX)
HA_SOCK=$HA_DIR/ha.sock
HA_CONF=$HA_DIR/ha.json
HA_PID=
FA1_KEY=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
FA2_KEY=ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100

skip() { echo "SKIP: $*"; exit 77; }
die() { echo "FAIL: $*"; [ -f "$HA_DIR/ha.log" ] && tail -20 "$HA_DIR/ha.log"; exit 1; }

ha_down() {
  if [ -n "$HA_PID" ] && kill -0 "$HA_PID" 2>/dev/null; then kill -KILL "$HA_PID" 2>/dev/null; wait "$HA_PID" 2>/dev/null; fi
  topo_down
  if [ "${HA_KEEP:-0}" = 1 ]; then echo "kept $HA_DIR"; else rm -rf "$HA_DIR"; fi
}

# write_config MAX_LIFETIME: the HA's config file.
write_config() {
  cat >"$HA_CONF" <<EOF
{
  "address": "$HA",
  "home_prefix": "10.1.0.0/24",
  "home_interface": "br-home",
  "dataplane": { "driver": "userspace", "tun_name": "vmr-ha0" },
  "registration": { "max_lifetime_s": $1, "fa_ha_auth": "required" },
  "foreign_agents": [
    { "address": "$FA1", "fa_ha": { "spi": 1000, "algorithm": "hmac-sha256", "key": "$FA1_KEY" } },
    { "address": "$FA2", "fa_ha": { "spi": 1001, "algorithm": "hmac-sha256", "key": "$FA2_KEY" } }
  ],
  "store": { "path": "$HA_DIR/ha.db" },
  "api": { "unix_socket": "$HA_SOCK" },
  "log_level": "info"
}
EOF
}

write_env() {
  cat >"$HA_DIR/env.json" <<EOF
{ "ha_ns": "$NS_HA", "lan_ns": "$NS_LAN", "fa_ns": "$NS_FA", "ha_pid": ${HA_PID:-0},
  "socket": "$HA_SOCK", "workdir": "$HA_DIR", "ha": "$HA", "fa1": "$FA1", "fa2": "$FA2",
  "fa1_spi": 1000, "fa1_key": "$FA1_KEY", "fa2_spi": 1001, "fa2_key": "$FA2_KEY",
  "mac": "52:54:00:12:34:56" }
EOF
}

ha_up() {
  [ -c /dev/net/tun ] || skip "/dev/net/tun missing (TUN)"
  [ -x "$HA_BIN" ] || die "no vmroam-ha at $HA_BIN"
  local rc=0
  # Layer 2 between the HA and the peer, as before the shared testbed: no delay line, no tbf.
  topo_up --sites "home foreign" --vm-site none --lan --no-wanem --rate 0 || rc=$?
  [ "$rc" = 77 ] && skip "the testbed needs what the kernel lacks (see above)"
  [ "$rc" = 0 ] || die "the testbed did not come up"
  trap ha_down EXIT
  trap 'exit 1' INT TERM
  # The peer plays FA2 from the same router (foreign2 is not built).
  ip -n "$NS_FA" addr add "$FA2/24" dev "$VMR_WAN_IF" || die "ip addr add $FA2"
  write_config 300
  write_env
}

# ha_start: start vmroam-ha and wait until its API answers and it logged home_agent_ready.
ha_start() {
  local before
  before=$(grep -c 'event=home_agent_ready' "$HA_DIR/ha.log" 2>/dev/null)
  ip netns exec "$NS_HA" "$HA_BIN" -c "$HA_CONF" >>"$HA_DIR/ha.log" 2>&1 &
  HA_PID=$!
  write_env
  wait_for "[ \$(grep -c 'event=home_agent_ready' '$HA_DIR/ha.log') -gt ${before:-0} ]" 10 "event=home_agent_ready in the log" ||
    die "vmroam-ha did not become ready"
  wait_for "curl -sf --unix-socket '$HA_SOCK' http://ha/v1/health" 5 "GET /v1/health to answer" || die "API did not answer"
}

# peer SUBCOMMAND ARGS...: the scapy foreign agent(s), in the fa namespace.
peer() {
  local cmd=$1
  shift
  ip netns exec "$NS_FA" "$PY" "$PEER" "$cmd" "$HA_DIR/env.json" "$@"
}
