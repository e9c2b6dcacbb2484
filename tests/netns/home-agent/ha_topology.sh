#!/usr/bin/env bash
# The home agent's netns testbed: sourced by the tests in this directory.
#
#   lan (vmr-hlan-PID)          ha (vmr-ha-PID): vmroam-ha                 fa (vmr-hfa-PID): scapy
#   eth0 10.1.0.20/24 ─── l-ha ┤ br-home 10.1.0.1/24       wan0 192.0.2.1/24 ──── wan0 192.0.2.2/24 (FA1)
#   "a host on the             │ (home link: proxy ARP,    vmr-ha0 (TUN): routes            192.0.2.3/24 (FA2)
#    home link"                │  gratuitous ARP)          10.1.0.x/32 proto 186
#
# ha_up: namespaces + links, a config in $HA_DIR/ha.json (FA1 and FA2 with their own FA-HA
# keys), the env file the scapy peer reads ($HA_DIR/env.json), `trap ha_down EXIT`.
# ha_start: runs vmroam-ha (pid in $HA_PID, log in $HA_DIR/ha.log) and waits until it is ready.
# Skips (77) only for what the kernel lacks: TUN, veth, bridge.

export PATH="$PATH:/usr/sbin:/sbin"
HA_BIN=${1:?usage: TEST.sh PATH_TO_vmroam-ha}
PY=/usr/bin/python3
PEER=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/ha_peer.py
NS_HA=vmr-ha-$$ NS_LAN=vmr-hlan-$$ NS_FA=vmr-hfa-$$
HA_DIR=$(mktemp -d /tmp/vmr-ha-test.XXXXXX)
HA_SOCK=$HA_DIR/ha.sock
HA_CONF=$HA_DIR/ha.json
HA_PID=
FA1_KEY=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
FA2_KEY=ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100

skip() { echo "SKIP: $*"; exit 77; }
die() { echo "FAIL: $*"; [ -f "$HA_DIR/ha.log" ] && tail -20 "$HA_DIR/ha.log"; exit 1; }

# shellcheck source=../../lib/wait.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/wait.sh"

ha_down() {
  if [ -n "$HA_PID" ] && kill -0 "$HA_PID" 2>/dev/null; then kill -KILL "$HA_PID" 2>/dev/null; wait "$HA_PID" 2>/dev/null; fi
  for ns in "$NS_HA" "$NS_LAN" "$NS_FA"; do ip netns del "$ns" 2>/dev/null; done
  if [ "${HA_KEEP:-0}" = 1 ]; then echo "kept $HA_DIR"; else rm -rf "$HA_DIR"; fi
}

# write_config MAX_LIFETIME: the HA's config file.
write_config() {
  cat >"$HA_CONF" <<EOF
{
  "address": "192.0.2.1",
  "home_prefix": "10.1.0.0/24",
  "home_interface": "br-home",
  "dataplane": { "driver": "userspace", "tun_name": "vmr-ha0" },
  "registration": { "max_lifetime_s": $1, "fa_ha_auth": "required" },
  "foreign_agents": [
    { "address": "192.0.2.2", "fa_ha": { "spi": 1000, "algorithm": "hmac-sha256", "key": "$FA1_KEY" } },
    { "address": "192.0.2.3", "fa_ha": { "spi": 1001, "algorithm": "hmac-sha256", "key": "$FA2_KEY" } }
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
  "socket": "$HA_SOCK", "workdir": "$HA_DIR", "ha": "192.0.2.1", "fa1": "192.0.2.2", "fa2": "192.0.2.3",
  "fa1_spi": 1000, "fa1_key": "$FA1_KEY", "fa2_spi": 1001, "fa2_key": "$FA2_KEY",
  "mac": "52:54:00:12:34:56" }
EOF
}

ha_up() {
  [ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
  [ -c /dev/net/tun ] || skip "/dev/net/tun missing (TUN)"
  [ -x "$HA_BIN" ] || die "no vmroam-ha at $HA_BIN"
  trap ha_down EXIT
  trap 'exit 1' INT TERM
  local ns
  for ns in "$NS_HA" "$NS_LAN" "$NS_FA"; do
    ip netns add "$ns" || die "ip netns add $ns"
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
    ip netns exec "$ns" sysctl -q -w net.ipv4.conf.all.rp_filter=0
  done
  ip -n "$NS_HA" link add br-home type bridge 2>/dev/null || skip "bridge devices (CONFIG_BRIDGE)"
  ip link add l-ha netns "$NS_HA" type veth peer name eth0 netns "$NS_LAN" 2>/dev/null || skip "veth devices"
  ip link add wan0 netns "$NS_HA" type veth peer name wan0 netns "$NS_FA"
  ip -n "$NS_HA" link set l-ha master br-home
  ip -n "$NS_HA" addr add 10.1.0.1/24 dev br-home
  ip -n "$NS_HA" addr add 192.0.2.1/24 dev wan0
  ip -n "$NS_LAN" addr add 10.1.0.20/24 dev eth0
  ip -n "$NS_FA" addr add 192.0.2.2/24 dev wan0
  ip -n "$NS_FA" addr add 192.0.2.3/24 dev wan0
  for l in br-home l-ha wan0; do ip -n "$NS_HA" link set "$l" up; done
  ip -n "$NS_LAN" link set eth0 up
  ip -n "$NS_FA" link set wan0 up
  ip -n "$NS_LAN" route add default via 10.1.0.1
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
