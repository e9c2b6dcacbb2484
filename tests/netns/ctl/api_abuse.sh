#!/usr/bin/env bash
# Abusive clients of the API over TCP, against a real vmroam-ha: a connection flood from ten
# addresses, slow clients (slowloris), oversized requests (docs/security.md "Abusive clients").
#
#   home (vmr-home-PID)                              foreign (vmr-foreign-PID)
#   vmroam-ha  API http://192.0.2.2:8434 (token)     api_abuse.py, from 192.0.2.60..69
#              + its Unix socket (the operator)      and 192.0.2.3 (a well-behaved client)
#   wan0 192.0.2.2/24 ------------ wan ------------- wan0 192.0.2.3/24
#
# Checked, step by step (api_abuse.py does the clients and asserts what they see):
#   flood     200 connections from ten addresses: 128 kept (16 per address), the rest closed
#             at once; meanwhile the Unix socket answers, the HA's RSS stays within 16 MiB of
#             where it was, and the refusals are logged at most 10 times (one budget line).
#   slow      20 clients trickling a header: each answered 408 within 30 s (request timeout
#             10 s), while a well-behaved TCP client is served.
#   oversize  413 for a body over 64 KiB and for a header announcing 1 MiB, 431 for a header
#             over 8 KiB, 401 at once for an unauthenticated header announcing 60 KiB (the
#             body is never awaited).
# The plaintext listener ("insecure": true) keeps the clients simple; the TLS handshake's own
# timeout is tests/unit/api/tls_test.cpp's StalledHandshakeIsClosedAfterTheRequestTimeout.
# Usage: api_abuse.sh VMROAMCTL VMROAM_HA VMROAM_FA SOURCE_ROOT
set -u
HA=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../lib/agent_pair.sh
source "$here/../../lib/agent_pair.sh"
agent_pair_up apiabuse
mkdir -p "$RUN" && chmod 700 "$RUN"
SOURCES=$(seq -s, -f '192.0.2.%g' 60 69)
for a in ${SOURCES//,/ }; do ip -n "$NF" addr add "$a/24" dev "$VMR_WAN_IF" || { fail "ip addr add $a"; exit 1; }; done
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$RUN/token"
TOKEN=$(cat "$RUN/token")
cat >"$RUN/ha.json" <<JSON
{ "address": "192.0.2.2", "home_prefix": "10.1.0.0/24", "home_interface": "br-home",
  "foreign_agents": [ { "address": "192.0.2.3", "fa_ha": { "spi": 1000, "key": "$KEY" } } ],
  "store": { "path": "$RUN/ha.db" },
  "api": { "unix_socket": "$RUN/ha.sock", "tcp": "192.0.2.2:8434", "token_file": "$RUN/token", "insecure": true } }
JSON
ip netns exec "$NH" "$HA" -c "$RUN/ha.json" 2>"$RUN/ha.log" &
ha_pid=$!
wait_for "grep -q home_agent_ready '$RUN/ha.log'" 20 "vmroam-ha ready" || { fail "vmroam-ha did not start"; exit 1; }
abuse() { ip netns exec "$NF" /usr/bin/python3 "$here/api_abuse.py" "$1" 192.0.2.2 8434 "$TOKEN" "$2"; }
health_unix() { curl -s -m 5 -o /dev/null -w '%{http_code}' --unix-socket "$RUN/ha.sock" http://ha/v1/health; }
health_tcp() {
  ip netns exec "$NF" curl -s -m 5 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
    http://192.0.2.2:8434/v1/health
}
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$ha_pid/status"; }
[[ $(health_tcp) == 200 ]] || fail "the TCP API does not answer before the abuse"

# ---- A connection flood: 128 kept, the local operator not locked out ------------------------
rss0=$(rss_kib)
t0=$SECONDS
coproc FLOOD { abuse flood "$SOURCES" 2>&1; }
held=""
while read -r -t 60 line <&"${FLOOD[0]}"; do
  echo "$line"
  [[ $line == "held "* ]] && { held=${line#held }; break; }
  [[ $line == FAIL:* ]] && break
done
if [[ -z $held ]]; then
  fail "the connection flood did not end as it should"
else
  [[ $(health_unix) == 200 ]] && echo "ok: the Unix socket answers with $held TCP connections held" ||
    fail "the Unix socket does not answer while $held TCP connections are held"
  rss=$(rss_kib)
  echo "rss: $rss0 KiB before, $rss KiB with $held connections held"
  (((rss - rss0) < 16384)) || fail "RSS grew by $((rss - rss0)) KiB for $held idle connections"
  echo close >&"${FLOOD[1]}"
fi
wait "$FLOOD_PID" || fail "the connection flood step failed"
refused=$(grep -c 'event=api_connection_refused' "$RUN/ha.log")
budget=$((10 + (SECONDS - t0) / 5 + 1))
echo "log: $refused api_connection_refused lines for 72 refused connections (budget $budget)"
((refused >= 1 && refused <= budget)) || fail "$refused api_connection_refused lines (budget: 10 at once, then one per 5 s)"
# The held connections are gone: a new client is served.
wait_for '[[ $(health_tcp) == 200 ]]' 20 "the TCP API free again" || fail "the TCP API does not serve after the flood"

# ---- Slow clients, while a well-behaved one is served ---------------------------------------
abuse slow 192.0.2.60,192.0.2.61 &
slow_pid=$!
wait_for '[[ $(health_tcp) == 200 ]]' 20 "a TCP answer during the slow clients" ||
  fail "a well-behaved client was not served while slow clients trickled"
wait "$slow_pid" || fail "the slow clients step failed"

# ---- Oversized requests -----------------------------------------------------------------------
abuse oversize 192.0.2.62 || fail "the oversized requests step failed"
kill -0 "$ha_pid" 2>/dev/null || fail "vmroam-ha died"
[[ $(health_tcp) == 200 ]] || fail "the TCP API does not answer after the abuse"

[[ $failed -eq 0 ]] && echo "PASS: abusive API clients" && exit 0
exit 1
