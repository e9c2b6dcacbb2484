#!/usr/bin/env bash
# vmroam-libvirt on the netns testbed: one daemon per site, next to that site's libvirtd
# (tests/libvirt/libvirtd.sh), talking to the real HA and FAs (agents.sh). Source after
# topology.sh, agents.sh (agents_setup done) and libvirtd.sh.
#
#   coupling_config SITE         writes $LV_DIR/SITE/vmroam-libvirt.json (this site, the HA's
#                                API, every site's FA API, the VM as the FA's prepare body)
#   coupling_start SITE          starts vmroam-libvirt for SITE (root namespace: libvirtd and the
#                                agents are reached over Unix sockets); returns once connected
#   coupling_stop SITE; coupling_stop_all
#   coupling_log SITE            its log file
#   coupling_move_report FROM TO PROBE_JSON T_SWITCH
#                                one JSON line for a move: pause (QEMU STOP at FROM → RESUME at
#                                TO, from the daemons' logs), the FA's handover_ms at TO, what
#                                the STOP did, and the probe's pings sent/lost, longest silence,
#                                TCP stream verdict
#
#   coupling_agents_unreachable; coupling_agents_reachable
#                                the agents' API sockets renamed away (every vmroam-libvirt
#                                call fails: the agents themselves run on) and back
#   coupling_alive SITE          its vmroam-libvirt still runs
#
# Binary: $VMR_LIBVIRT, then $VMROAM_BUILD_DIR/libvirt/vmroam-libvirt.

_lv_coupling_bin() {
  if [ -n "${VMR_LIBVIRT:-}" ] && [ -x "$VMR_LIBVIRT" ]; then echo "$VMR_LIBVIRT"; return 0; fi
  if [ -x "${VMROAM_BUILD_DIR:-}/libvirt/vmroam-libvirt" ]; then echo "$VMROAM_BUILD_DIR/libvirt/vmroam-libvirt"; return 0; fi
  _lv_err "vmroam-libvirt not found: build it or set VMR_LIBVIRT"
  return 1
}

coupling_log() { echo "$LV_DIR/$1/vmroam-libvirt.log"; }

coupling_config() {
  local site=$1 out=$LV_DIR/$1/vmroam-libvirt.json
  jq -n --arg site "$site" --arg uri "$(lv_uri "$site")" --arg ha "$VMR_AGENTS_DIR/home.sock" \
    --arg fa1 "$VMR_AGENTS_DIR/foreign.sock" --arg fa2 "$VMR_AGENTS_DIR/foreign2.sock" \
    --arg id "$VMR_VM_ID" --arg hoa "$VMR_VM_ADDR" --arg mac "$VMR_VM_MAC" --arg gw "$VMR_VM_GW" \
    --arg gwmac "$VMR_HOME_MAC" --arg haaddr "$VMR_HOME_WAN" --argjson spi "$VMR_MN_HA_SPI" \
    --arg alg "$VMR_ALGORITHM" --arg key "$VMR_MN_HA_KEY" --argjson lifetime "${VMR_LIFETIME:-600}" \
    --arg encap "${VMR_ENCAPSULATION:-ipip}" \
    '{libvirt: {uri: $uri, reconnect_initial_ms: 200, reconnect_max_ms: 2000},
      site: $site, home_agent: {api: $ha},
      sites: {home: {}, foreign: {fa: $fa1}, foreign2: {fa: $fa2}},
      vms: [{id: $id, home_address: $hoa, mac: $mac, home_gateway: $gw, home_gateway_mac: $gwmac,
             home_agent: $haaddr, spi: $spi, algorithm: $alg, key: $key, lifetime: $lifetime,
             encapsulation: $encap}]}' >"$out" && chmod 600 "$out"
}

coupling_start() {
  local site=$1 bin pid log
  bin=$(_lv_coupling_bin) || return 1
  coupling_config "$site" || return 1
  log=$(coupling_log "$site")
  "$bin" --check --config "$LV_DIR/$site/vmroam-libvirt.json" >"$LV_DIR/$site/vmroam-libvirt.check" ||
    { _lv_err "vmroam-libvirt --check failed for $site"; return 1; }
  "$bin" --config "$LV_DIR/$site/vmroam-libvirt.json" >>"$log" 2>&1 &
  pid=$!
  echo "$pid" >"$LV_DIR/$site/vmroam-libvirt.pid"
  wait_for "grep -q 'event=libvirt_connected' '$log' || ! kill -0 $pid" 15
  if ! kill -0 "$pid" 2>/dev/null || ! grep -q 'event=libvirt_connected' "$log"; then
    _lv_err "vmroam-libvirt at $site did not connect: $(tail -n 5 "$log")"
    return 1
  fi
}

coupling_stop() {
  local pidf=$LV_DIR/$1/vmroam-libvirt.pid pid
  [ -f "$pidf" ] || return 0
  pid=$(cat "$pidf")
  rm -f "$pidf"
  kill -TERM "$pid" 2>/dev/null || return 0
  wait_for "! kill -0 $pid" 6 || kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
}

coupling_stop_all() {
  local site
  for site in "${VMR_SITES[@]}"; do coupling_stop "$site"; done
  return 0
}

# _lv_last_field LOG EVENT FIELD: FIELD of the last line with event=EVENT in LOG.
_lv_last_field() {
  grep "event=$2 " "$1" 2>/dev/null | tail -n 1 | tr ' ' '\n' | sed -n "s/^$3=//p" | tr -d '"'
}

coupling_move_report() {
  local from=$1 to=$2 probe_json=$3 t_switch=$4 stop_us resume_us handover step
  stop_us=$(grep 'event=domain_event' "$(coupling_log "$from")" | grep -E 'what=STOP( |$)' | tail -n 1 |
    tr ' ' '\n' | sed -n 's/^at_us=//p')
  resume_us=$(grep 'event=domain_event' "$(coupling_log "$to")" | grep -E 'what=RESUME( |$)' | tail -n 1 |
    tr ' ' '\n' | sed -n 's/^at_us=//p')
  handover=$(_lv_last_field "$(coupling_log "$to")" registration_active handover_ms)
  step=$(grep 'event=action' "$(coupling_log "$from")" | grep -E 'action=(fa_activate|fa_depart_local)' | tail -n 1 |
    tr ' ' '\n' | sed -n 's/^action=//p')
  /usr/bin/python3 - "$from" "$to" "$probe_json" "$t_switch" "${stop_us:-}" "${resume_us:-}" "${handover:-}" "${step:-}" <<'PY'
import json, sys
frm, to, probe, t_switch, stop_us, resume_us, handover, step = sys.argv[1:9]
s = json.load(open(probe))
p = s["pings"]
got = sorted(b for a, b in p if b is not None)
gap = max((y - x for x, y in zip(got, got[1:])), default=float("nan")) * 1000
t = s["tcp"]
t_switch = float(t_switch)
num = lambda v: float(v) if v not in ("", None) else None
pause = (int(resume_us) - int(stop_us)) / 1000 if stop_us and resume_us else None
print(json.dumps({"move": frm + "->" + to, "pause_ms": None if pause is None else round(pause, 1),
                  "handover_ms": None if num(handover) is None else round(num(handover), 1),
                  "switch_step": step or None,
                  "pings_sent": len(p), "pings_lost": sum(1 for a, b in p if b is None),
                  "longest_silence_ms": round(gap, 1), "tcp_survived": t["survived"], "tcp_error": t["error"],
                  "tcp_echoed_after_move": sum(1 for x in t["sent"][:len(t["echoed"])] if x > t_switch)}))
PY
}

coupling_agents_unreachable() {
  local role
  for role in home foreign foreign2; do
    [ -S "$VMR_AGENTS_DIR/$role.sock" ] && mv "$VMR_AGENTS_DIR/$role.sock" "$VMR_AGENTS_DIR/$role.sock.away"
  done
  return 0
}

coupling_agents_reachable() {
  local role
  for role in home foreign foreign2; do
    [ -S "$VMR_AGENTS_DIR/$role.sock.away" ] && mv "$VMR_AGENTS_DIR/$role.sock.away" "$VMR_AGENTS_DIR/$role.sock"
  done
  return 0
}

coupling_alive() {
  local pid
  pid=$(cat "$LV_DIR/$1/vmroam-libvirt.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null
}
