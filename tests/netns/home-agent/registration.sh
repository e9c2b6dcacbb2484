#!/usr/bin/env bash
# netns test: a real vmroam-ha answers scapy playing two foreign agents (topology drawn in
# ha_topology.sh): good registration (code 0, authenticated reply, route + proxy entry +
# gratuitous ARP), replayed/forged/stale/malformed/unknown-VM denials (133/132/133/134/129),
# an FA switch with an authenticated revocation acked by the old FA, pings from a home-link
# host arriving at the FA as IP-in-IP and as RFC 3519 UDP, and a deregistration that removes
# everything, gives the home link the VM's MAC back and re-announces the HA's own address (the
# VM's gateway). tshark checks every captured packet.
# usage: registration.sh PATH_TO_vmroam-ha
set -u
source "$(dirname "$0")/ha_topology.sh"
ha_up
ha_start
peer registration || die "registration scenario"
if [ -n "${HA_SAVE_PCAP:-}" ]; then cp "$HA_DIR/wan.pcap" "$HA_SAVE_PCAP"; echo "saved $HA_SAVE_PCAP"; fi
echo "PASS"
