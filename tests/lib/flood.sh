# shellcheck shell=bash
# The registration flood on the home agent's netns testbed, shared by the netns test
# (tests/netns/home-agent/flood.sh) and the benchmark (bench/flood/ha_flood.sh). Source it after
# tests/netns/home-agent/ha_topology.sh (its ha_up, ha_start, die, $NS_FA, $HA_CONF …).
#
#   foreign (vmr-foreign-PID): wan0 192.0.2.3 (FA1, the real registrations)
#                              + 192.0.2.50..53 (flood sources the HA has a key for: forged
#                                requests reach its authentication and replay checks)
#                              + 192.0.2.54 (a flood source the HA does not know; the HA
#                                knows the FA by the care-of address the requests carry)
#
# flood_up                      the testbed, the sources' addresses, the HA's config (FA1 and
#                               the four known sources), the HA started, $FLOOD_VMS real VMs made
#                               through the API (r0…, 10.1.0.100…)
# flood_start OUT RATE SECONDS [ARGS…]
#                               vmroam-flood in the foreign router, in the background (pid in
#                               $FLOOD_PID, its JSON in OUT): the storm at RATE datagrams/s for
#                               SECONDS from the five sources, and FA1 registering and renewing
#                               the real VMs at $FLOOD_LEGIT_RATE; ARGS go to the tool last
# flood_wait TIMEOUT_S          waits for it to end, sampling the HA's RSS every poll; the
#                               largest in $FLOOD_RSS_MAX (KiB); dies if it fails
# flood_rss_kib                 the HA's RSS now (KiB)
#
# Needs $FLOOD_BIN (tools/flood/vmroam-flood).

FLOOD_KEY=0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0
FLOOD_SOURCES=192.0.2.50,192.0.2.51,192.0.2.52,192.0.2.53,192.0.2.54
FLOOD_KNOWN_SOURCES="192.0.2.50 192.0.2.51 192.0.2.52 192.0.2.53"
FLOOD_VMS=${FLOOD_VMS:-20}
FLOOD_LEGIT_RATE=${FLOOD_LEGIT_RATE:-200}
FLOOD_PID=
FLOOD_RSS_MAX=0

flood_up() {
  [ -x "${FLOOD_BIN:-}" ] || die "no vmroam-flood at ${FLOOD_BIN:-(FLOOD_BIN unset)}"
  ha_up
  local a known=""
  for a in ${FLOOD_SOURCES//,/ }; do ip -n "$NS_FA" addr add "$a/24" dev "$VMR_WAN_IF" || die "ip addr add $a"; done
  for a in $FLOOD_KNOWN_SOURCES; do
    known+=", { \"address\": \"$a\", \"fa_ha\": { \"spi\": 2000, \"algorithm\": \"hmac-sha256\", \"key\": \"$FLOOD_KEY\" } }"
  done
  cat >"$HA_CONF" <<JSON
{
  "address": "$HA", "home_prefix": "10.1.0.0/24", "home_interface": "br-home",
  "dataplane": { "driver": "userspace", "tun_name": "vmr-ha0" },
  "registration": { "max_lifetime_s": 300, "fa_ha_auth": "required" },
  "foreign_agents": [
    { "address": "$FA1", "fa_ha": { "spi": 1000, "algorithm": "hmac-sha256", "key": "$FA1_KEY" } }$known
  ],
  "store": { "path": "$HA_DIR/ha.db" }, "api": { "unix_socket": "$HA_SOCK" }, "log_level": "info"
}
JSON
  ha_start
  local i body
  for i in $(seq 0 $((FLOOD_VMS - 1))); do
    body=$(printf '{"id":"r%d","home_address":"10.1.0.%d","mac":"52:54:00:fe:00:%02x"}' "$i" $((100 + i)) "$i")
    [ "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$HA_SOCK" -H 'Content-Type: application/json' \
          -d "$body" http://ha/v1/vms)" = 201 ] || die "API: VM r$i not created"
  done
}

flood_rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$HA_PID/status"; }

flood_start() {
  local out=$1 rate=$2 seconds=$3
  shift 3
  ip netns exec "$NS_FA" "$FLOOD_BIN" --ha "$HA" --sources "$FLOOD_SOURCES" --rate "$rate" --seconds "$seconds" \
    --spi 2000 --key "$FLOOD_KEY" --hoa 10.1.0.100 --mac 52:54:00:fe:00:00 --unknown-hoa 10.1.0.250 \
    --legit-from "$FA1" --legit-spi 1000 --legit-key "$FA1_KEY" --legit-hoa 10.1.0.100 --legit-vms "$FLOOD_VMS" \
    --legit-rate "$FLOOD_LEGIT_RATE" "$@" >"$out" &
  FLOOD_PID=$!
  FLOOD_RSS_MAX=$(flood_rss_kib)
}

# One poll of flood_wait: the RSS sampled; done when the tool has ended.
flood_sample() {
  local r
  r=$(flood_rss_kib)
  [ "${r:-0}" -gt "$FLOOD_RSS_MAX" ] && FLOOD_RSS_MAX=$r
  ! kill -0 "$FLOOD_PID" 2>/dev/null
}

flood_wait() {
  wait_for flood_sample "$1" "vmroam-flood to end" || die "vmroam-flood did not end"
  wait "$FLOOD_PID" || die "vmroam-flood failed"
}
