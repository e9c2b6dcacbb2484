#!/usr/bin/env bash
# The agents on the netns testbed: real configs for vmroam-ha (home site router) and
# vmroam-fa (foreign and foreign2 site routers), the daemons started in their namespaces, and
# the API calls a hypervisor or the migration driver makes. Source after topology.sh.
#
#   agents_setup [--fixed-keys] [--encapsulation ipip|udp] [--no-detect-arrival] [--lifetime S]
#                [--driver auto|ebpf|userspace] [--bpffs DIR]
#                                  # writes $VMR_AGENTS_DIR/{ha,fa-foreign,fa-foreign2}.json
#   agent_start ROLE; agent_stop ROLE; agents_stop   # ROLE: home (the HA) foreign foreign2
#   agent_api ROLE METHOD PATH [JSON]                # prints the body; fails on HTTP >= 400
#   ha_register_vm                   # POST /v1/vms: the VM (id $VMR_VM_ID) with its MN-HA key
#   ha_binding                       # the VM's binding (fails when there is none: VM at home)
#   fa_prepare SITE; fa_activate SITE; fa_resumed SITE; fa_depart SITE; fa_abort SITE
#   fa_visitor SITE [WAIT_MS]        # the visitor JSON (long-poll until active/failed)
#   fa_wait_state SITE STATE TIMEOUT_S
#
# Dual-stack: after `topo_up --ipv6` (VMR_IPV6=1) the HA gets the home /64 (home_prefix_v6),
# the VM is defined with its IPv6 home address and the FAs are prepared with it and its IPv6
# gateway (docs/protocol.md "Dual-stack VMs").
#
# Keys: per run, random (FA-HA per foreign agent, MN-HA for the VM) unless --fixed-keys, which
# uses the documented constants below (the pcap fixture is made that way, so that
# `vmroam-pcap decode --key` can verify its authenticators).
# Daemons log to $VMR_AGENTS_DIR/ROLE.log; their API sockets are $VMR_AGENTS_DIR/ROLE.sock.
# Binaries: $VMR_HA / $VMR_FA, then $VMROAM_BUILD_DIR, then build/ next to the sources.

# shellcheck source=wait.sh
source "$(dirname "${BASH_SOURCE[0]}")/wait.sh"

VMR_AGENTS_DIR=${VMR_AGENTS_DIR:-$VMR_RUN_DIR/agents}
VMR_VM_ID=${VMR_VM_ID:-vm1}
VMR_FA_HA_SPI_FOREIGN=1000
VMR_FA_HA_SPI_FOREIGN2=1001
VMR_MN_HA_SPI=2000
VMR_ALGORITHM=hmac-sha256
# --fixed-keys (fixtures only; never use these anywhere else).
VMR_FIXED_FA_HA_KEY_FOREIGN=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
VMR_FIXED_FA_HA_KEY_FOREIGN2=ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100
VMR_FIXED_MN_HA_KEY=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

_vmr_agents_err() { echo "agents: $*" >&2; }

_vmr_random_key() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }

# _vmr_find_agent NAME VAR: the binary of vmroam-ha / vmroam-fa.
_vmr_find_agent() {
  local name=$1 var=$2 top d sub
  if [ -n "${!var:-}" ] && [ -x "${!var}" ]; then echo "${!var}"; return 0; fi
  case "$name" in vmroam-ha) sub=home-agent ;; *) sub=foreign-agent ;; esac
  top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  for d in "${VMROAM_BUILD_DIR:-}" "$top/build"; do
    if [ -n "$d" ] && [ -x "$d/$sub/$name" ]; then echo "$d/$sub/$name"; return 0; fi
  done
  command -v "$name" && return 0
  _vmr_agents_err "$name not found: build it (ninja -C build $sub/$name) or set $var"
  return 1
}

# The site's agent address (its WAN address) and VM-facing bridge.
_vmr_site_wan() {
  case "$1" in
    home) echo "$VMR_HOME_WAN" ;; foreign) echo "$VMR_FOREIGN_WAN" ;; foreign2) echo "$VMR_FOREIGN2_WAN" ;;
    *) _vmr_agents_err "unknown site '$1'"; return 1 ;;
  esac
}

agents_setup() {
  local fixed=0 encap=ipip detect=true lifetime=600 driver=${VMR_DATAPLANE_DRIVER:-auto} bpffs=
  while [ $# -gt 0 ]; do
    case "$1" in
      --fixed-keys) fixed=1; shift ;;
      --encapsulation) encap=${2:?}; shift 2 ;;
      --no-detect-arrival) detect=false; shift ;;
      --lifetime) lifetime=${2:?}; shift 2 ;;
      --driver) driver=${2:?}; shift 2 ;;
      --bpffs) bpffs=", \"bpffs\": \"${2:?}\""; shift 2 ;;
      *) _vmr_agents_err "agents_setup: unknown option '$1'"; return 1 ;;
    esac
  done
  mkdir -p "$VMR_AGENTS_DIR" && chmod 700 "$VMR_AGENTS_DIR" || return 1
  if [ "$fixed" = 1 ]; then
    VMR_FA_HA_KEY_FOREIGN=$VMR_FIXED_FA_HA_KEY_FOREIGN
    VMR_FA_HA_KEY_FOREIGN2=$VMR_FIXED_FA_HA_KEY_FOREIGN2
    VMR_MN_HA_KEY=$VMR_FIXED_MN_HA_KEY
  else
    VMR_FA_HA_KEY_FOREIGN=$(_vmr_random_key)
    VMR_FA_HA_KEY_FOREIGN2=$(_vmr_random_key)
    VMR_MN_HA_KEY=$(_vmr_random_key)
  fi
  VMR_ENCAPSULATION=$encap
  VMR_LIFETIME=$lifetime
  local d=$VMR_AGENTS_DIR
  cat >"$d/home.json" <<EOF
{
  "address": "$VMR_HOME_WAN",
  "home_prefix": "$VMR_HOME_NET",
  "home_interface": "$VMR_HOME_BRIDGE",$([ "${VMR_IPV6:-0}" = 1 ] && printf '\n  "home_prefix_v6": "%s",' "$VMR_HOME_NET6")
  "log_level": "${VMR_AGENT_LOG_LEVEL:-info}",
  "dataplane": { "driver": "$driver", "tun_name": "vmr-ha0"$bpffs },
  "registration": { "max_lifetime_s": 600, "fa_ha_auth": "required", "revocation": true },
  "foreign_agents": [
    { "address": "$VMR_FOREIGN_WAN",
      "fa_ha": { "spi": $VMR_FA_HA_SPI_FOREIGN, "algorithm": "$VMR_ALGORITHM", "key": "$VMR_FA_HA_KEY_FOREIGN" } },
    { "address": "$VMR_FOREIGN2_WAN",
      "fa_ha": { "spi": $VMR_FA_HA_SPI_FOREIGN2, "algorithm": "$VMR_ALGORITHM", "key": "$VMR_FA_HA_KEY_FOREIGN2" } }
  ],
  "store": { "path": "$d/home.db" },
  "api": { "unix_socket": "$d/home.sock" }
}
EOF
  local site spi key bridge
  for site in foreign foreign2; do
    if [ "$site" = foreign ]; then
      spi=$VMR_FA_HA_SPI_FOREIGN key=$VMR_FA_HA_KEY_FOREIGN bridge=$VMR_FOREIGN_BRIDGE
    else
      spi=$VMR_FA_HA_SPI_FOREIGN2 key=$VMR_FA_HA_KEY_FOREIGN2 bridge=$VMR_FOREIGN2_BRIDGE
    fi
    cat >"$d/$site.json" <<EOF
{
  "address": "$(_vmr_site_wan "$site")",
  "vm_interface": "$bridge",
  "log_level": "${VMR_AGENT_LOG_LEVEL:-info}",
  "home_agents": [
    { "address": "$VMR_HOME_WAN",
      "fa_ha": { "spi": $spi, "algorithm": "$VMR_ALGORITHM", "key": "$key" } }
  ],
  "dataplane": { "driver": "$driver", "tun_name": "vmr-fa0"$bpffs },
  "registration": { "lifetime_s": $lifetime, "encapsulation": "$encap" },
  "delivery": { "gateway_mode": "anycast", "detect_arrival": $detect },
  "store": { "path": "$d/$site.db" },
  "api": { "unix_socket": "$d/$site.sock" }
}
EOF
  done
  chmod 600 "$d"/*.json
}

# agent_start ROLE: start the role's daemon in its namespace; returns once its API answers.
agent_start() {
  local role=${1:?agent_start needs a role} bin pid
  case "$role" in
    home) bin=$(_vmr_find_agent vmroam-ha VMR_HA) || return 1 ;;
    foreign | foreign2) bin=$(_vmr_find_agent vmroam-fa VMR_FA) || return 1 ;;
    *) _vmr_agents_err "agent_start: unknown role '$role' (home foreign foreign2)"; return 1 ;;
  esac
  [ -f "$VMR_AGENTS_DIR/$role.json" ] || { _vmr_agents_err "agent_start: run agents_setup first"; return 1; }
  # Not through ns_exec (a function: `&` would fork a subshell and $! would not be the daemon).
  ip netns exec "$(topo_ns "$role")" "$bin" -c "$VMR_AGENTS_DIR/$role.json" >>"$VMR_AGENTS_DIR/$role.log" 2>&1 &
  pid=$!
  echo "$pid" >"$VMR_AGENTS_DIR/$role.pid"
  if ! wait_for "agent_api $role GET /v1/health || ! kill -0 $pid" 10 "GET /v1/health at $role" ||
    ! kill -0 "$pid" 2>/dev/null; then
    _vmr_agents_err "$(basename "$bin") in $role did not come up; its log:"
    tail -n 20 "$VMR_AGENTS_DIR/$role.log" >&2
    return 1
  fi
}

# agent_stop ROLE: SIGTERM, wait (the daemon removes its kernel state and socket).
agent_stop() {
  local role=$1 pidf=$VMR_AGENTS_DIR/$1.pid pid
  [ -f "$pidf" ] || return 0
  pid=$(cat "$pidf")
  rm -f "$pidf"
  kill -TERM "$pid" 2>/dev/null || return 0
  wait_for "! kill -0 $pid" 6 "the $role daemon ($pid) to exit" || kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
}

agents_stop() {
  local role
  for role in foreign foreign2 home; do agent_stop "$role"; done
}

# agent_api ROLE METHOD PATH [JSON]: one API call over the role's Unix socket. Prints the
# body; returns 1 (and prints the body to stderr) on an HTTP error status.
agent_api() {
  local role=$1 method=$2 path=$3 body=${4:-} out code
  local args=(-sS --max-time 15 --unix-socket "$VMR_AGENTS_DIR/$role.sock" -X "$method" -w '\n%{http_code}')
  [ -z "$body" ] || args+=(-H 'Content-Type: application/json' --data-binary "$body")
  out=$(curl "${args[@]}" "http://agent$path" 2>&1) || { echo "$out" >&2; return 1; }
  code=${out##*$'\n'}
  out=${out%$'\n'*}
  if [ "$code" -ge 400 ] 2>/dev/null; then
    echo "agents: $role $method $path -> $code $out" >&2
    return 1
  fi
  echo "$out"
}

ha_register_vm() {
  agent_api home POST /v1/vms "$(jq -cn --arg id "$VMR_VM_ID" --arg hoa "$VMR_VM_ADDR" --arg mac "$VMR_VM_MAC" \
    --arg f1 "$VMR_FOREIGN_WAN" --arg f2 "$VMR_FOREIGN2_WAN" --argjson spi "$VMR_MN_HA_SPI" \
    --arg alg "$VMR_ALGORITHM" --arg key "$VMR_MN_HA_KEY" \
    '{id: $id, home_address: $hoa, mac: $mac, allowed_fas: [$f1, $f2], spi: $spi, algorithm: $alg, key: $key}' |
    _vmr_dualstack '{home_addresses_v6: [$a6]}')"
}

# _vmr_dualstack JQ-OBJECT: adds the object's fields to the JSON on stdin when the testbed is
# dual-stack ($a6: the VM's IPv6 home address, $gw6: its IPv6 gateway); passes it on otherwise.
_vmr_dualstack() {
  if [ "${VMR_IPV6:-0}" = 1 ]; then
    jq -c --arg a6 "$VMR_VM_ADDR6" --arg gw6 "$VMR_VM_GW6" ". + $1"
  else
    cat
  fi
}

ha_binding() { agent_api home GET "/v1/bindings/$VMR_VM_ADDR" 2>/dev/null; }

# fa_prepare SITE: what the hypervisor (or vmroam-migrate) does before the switchover.
fa_prepare() {
  local site=${1:?fa_prepare needs a site}
  agent_api "$site" POST /v1/visitors "$(jq -cn --arg id "$VMR_VM_ID" --arg hoa "$VMR_VM_ADDR" \
    --arg mac "$VMR_VM_MAC" --arg gw "$VMR_VM_GW" --arg gwmac "$VMR_HOME_MAC" --arg ha "$VMR_HOME_WAN" \
    --argjson spi "$VMR_MN_HA_SPI" --arg alg "$VMR_ALGORITHM" --arg key "$VMR_MN_HA_KEY" \
    --argjson lifetime "${VMR_LIFETIME:-600}" --arg encap "${VMR_ENCAPSULATION:-ipip}" \
    '{id: $id, home_address: $hoa, mac: $mac, home_gateway: $gw, home_gateway_mac: $gwmac,
      home_agent: $ha, spi: $spi, algorithm: $alg, key: $key, lifetime: $lifetime, encapsulation: $encap}' |
    _vmr_dualstack '{home_addresses_v6: [$a6], home_gateway_v6: $gw6}')"
}
fa_activate() { agent_api "${1:?site}" POST "/v1/visitors/$VMR_VM_ID/activate" '{}'; }
fa_resumed() { agent_api "${1:?site}" POST "/v1/visitors/$VMR_VM_ID/resumed" '{}'; }
fa_depart() { agent_api "${1:?site}" POST "/v1/visitors/$VMR_VM_ID/depart" '{}'; }
fa_abort() { agent_api "${1:?site}" POST "/v1/visitors/$VMR_VM_ID/abort" '{}'; }
fa_visitor() {
  local q=
  [ -z "${2:-}" ] || q="?wait_ms=$2"
  agent_api "${1:?site}" GET "/v1/visitors/$VMR_VM_ID$q"
}

# _vmr_visitor_settled SITE STATE [WAIT_MS]: the visitor is in STATE or failed (which ends
# the wait early); the state seen is left in $_vmr_visitor_state.
_vmr_visitor_settled() {
  _vmr_visitor_state=$(fa_visitor "$1" ${3:-} 2>/dev/null | jq -r '.state // empty')
  [ "$_vmr_visitor_state" = "$2" ] || [ "$_vmr_visitor_state" = failed ]
}

# fa_wait_state SITE STATE TIMEOUT_S: long-polls the visitor until it is in STATE.
fa_wait_state() {
  local site=$1 want=$2 timeout=$3 wait=
  # Long-poll only for the registration outcome (the API answers at once when it is known).
  [ "$want" != active ] || wait=1000
  _vmr_visitor_state=
  if ! wait_for "_vmr_visitor_settled $site $want $wait" "$timeout" "visitor $VMR_VM_ID at $site in state '$want'"; then
    _vmr_agents_err "visitor $VMR_VM_ID at $site: state '${_vmr_visitor_state:-none}' after ${timeout}s, wanted '$want'"
    return 1
  fi
  if [ "$_vmr_visitor_state" != "$want" ]; then
    _vmr_agents_err "visitor $VMR_VM_ID at $site failed: $(fa_visitor "$site" 2>&1)"
    return 1
  fi
}
