#!/usr/bin/env bash
# netns test: the VM moves home -> foreign while the correspondent pings it every 10 ms, with a
# real vmroam-ha and vmroam-fa; what is lost in each delivery configuration.
#
#     cn 198.51.100.10 --ping -i 0.01--> 10.1.0.10
#      |
#     wan ---- home 192.0.2.2 (vmroam-ha) ==== IP-in-IP ==== foreign 192.0.2.3 (vmroam-fa)
#               br-home 10.1.0.1                              br-for (+ vmr-gw0 in anycast)
#                  \______________ vm0 --(move)--> ____________/
#                                   |
#                 vm 10.1.0.10/24 gw 10.1.0.1 (unmodified: no Mobile IP, keeps its ARP cache)
#
# The migration driver's sequence: prepare at the FA (delivery state, buffering), activate at
# the switch moment (proxy registration: the HA tunnels to the FA from its reply on), the VM's
# link moves (its "pause"), resumed (the FA flushes its buffer to the VM).
#
# usage: move.sh MODE
#   buffer         buffering on, anycast gateway (the defaults), a short pause: 0 lost, both ways
#   buffer-long    the same, the VM away for 3.5 s: 0 lost
#   nobuffer       delivery.buffer_bytes 0, a short pause: reported (the kernel's neighbour
#                  queue holds the packets until its next ARP retry)
#   nobuffer-long  buffer_bytes 0, the VM away until the FA's kernel gives up on it: the FA
#                  seeds the entry STALE, so the kernel sends to the VM's MAC at once, probes it
#                  after delay_first_probe_time (5 s) and fails it after ucast_solicit x
#                  retrans_time (3 s): ~8 s, pings are lost
#   garp           buffering on, gateway_mode garp, a short pause: reported
# The VM also pings the correspondent (its own traffic tests the gateway mode: in garp mode
# what it sends to its cached gateway MAC before the FA's announcement is lost).
# Prints "RESULT mode=... lost=... max_gap_ms=... vm_lost=... handover_ms=..." for the docs.
set -u
source "$(dirname "$0")/fa_lib.sh"
mode=${1:?usage: move.sh buffer|buffer-long|nobuffer|nobuffer-long|garp}
case "$mode" in
  buffer | buffer-long) fa_up ;;
  nobuffer | nobuffer-long) fa_up --no-buffer ;;
  garp) fa_up --garp ;;
  *) echo "usage: move.sh buffer|buffer-long|nobuffer|nobuffer-long|garp" >&2; exit 2 ;;
esac
fns=$(topo_ns foreign)

ping_start cn cn "$VMR_VM_ADDR"
ping_start vm vm "$VMR_CN_ADDR"
ping_wait_replies cn 50 10 || fail "the VM at home does not answer the correspondent"
ping_wait_replies vm 50 10 || fail "the VM at home does not reach the correspondent"

# The FA kernel's neighbour events: nobuffer-long waits for its resolution of the VM to fail.
ip -n "$fns" monitor neigh >"$FA_DIR/neigh-events.txt" 2>&1 &
monitor_pid=$!
fa_prepare foreign >/dev/null || fail "prepare"
t_act=$EPOCHREALTIME
fa_activate foreign >/dev/null || fail "activate"
fa_wait_state foreign active 5 || fail "registration"
t_reg=$EPOCHREALTIME
# The VM's "pause": its link leaves home; it joins the foreign bridge when the condition of
# the mode holds (at once for the short pause).
ip -n "$(topo_ns home)" link set "$VMR_VM_PORT" netns "$fns" || fail "link move"
case "$mode" in
  buffer-long)
    # As long as nobuffer-long's absence and more: 3.5 s, past the 3 s after which the kernel's
    # neighbour queue would have dropped everything (a scenario length, not a wait for a state).
    limit=$((${t_reg//[.,]/} + 3500000))
    wait_for "(( \${EPOCHREALTIME//[.,]/} >= $limit ))" 10
    [ "$(fa_visitor foreign | jq .buffer.packets)" -gt 0 ] || fail "the FA buffers nothing: $(fa_visitor foreign)" ;;
  nobuffer-long)
    wait_for "grep -q '^$VMR_VM_ADDR dev $VMR_FOREIGN_BRIDGE .*FAILED' '$FA_DIR/neigh-events.txt'" 15 ||
      fail "the FA's neighbour entry for the VM did not fail" ;;
esac
ip -n "$fns" link set "$VMR_VM_PORT" master "$VMR_FOREIGN_BRIDGE" up || fail "link attach"
t_link=$EPOCHREALTIME
kill "$monitor_pid" 2>/dev/null
fa_resumed foreign >/dev/null || fail "resumed"
t_res=$EPOCHREALTIME
ping_wait_replies cn 150 15 || fail "the VM at the foreign site does not answer ($(ping_report cn))"
ping_wait_replies vm 50 10 || fail "the VM at the foreign site does not reach the correspondent ($(ping_report vm))"
ping_stop cn
ping_stop vm
visitor=$(fa_visitor foreign) || fail "visitor gone"
read -r sent lost gap dup <<<"$(ping_report cn)"
read -r vsent vlost vgap vdup <<<"$(ping_report vm)"
hms=$(jq -r '.handover_ms' <<<"$visitor")
flushed=$(jq -r '.buffer.flushed_packets' <<<"$visitor")
overflow=$(jq -r '.buffer.overflow_packets' <<<"$visitor")
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b - a) * 1000 }'; }
echo "RESULT mode=$mode sent=$sent lost=$lost dup=$dup max_gap_ms=$gap vm_sent=$vsent vm_lost=$vlost" \
  "vm_max_gap_ms=$vgap handover_ms=$hms flushed=$flushed overflow=$overflow" \
  "activate_to_active_ms=$(ms "$t_act" "$t_reg") pause_ms=$(ms "$t_reg" "$t_link")" \
  "link_to_resumed_ms=$(ms "$t_link" "$t_res") run_s=$(elapsed)"
[ "$sent" -ge 200 ] || fail "too few pings ($sent)"
[ "$(jq -r .state <<<"$visitor")" = active ] || fail "visitor not active: $visitor"
case "$mode" in
  buffer | buffer-long)
    [ "$lost" = 0 ] || fail "$lost pings lost with buffering and the anycast gateway"
    [ "$flushed" -gt 0 ] || fail "nothing was buffered: the test did not exercise the handover" ;;
  nobuffer | nobuffer-long)
    [ "$flushed" = 0 ] || fail "buffer_bytes 0 still buffered $flushed packets" ;;&
  nobuffer-long)
    [ "$lost" -gt 0 ] || fail "no loss without buffering after a 3 s absence (max gap ${gap} ms)" ;;
esac
echo "PASS"
