#!/usr/bin/env bash
# The agents' TCP API over TLS, end to end: real vmroam-ha and vmroam-fa with api.tls, vmroamctl
# across the wan, credentials made here with the openssl CLI (tests/lib/tls.sh).
#
#   home (vmr-home-PID)                               foreign (vmr-foreign-PID)
#   vmroam-ha  API https://192.0.2.2:8434             vmroam-fa  API https://192.0.2.3:8435
#              (mutual TLS: client CA + token)                   (server TLS + token)
#   wan0 192.0.2.2/24 ------------- wan ------------- wan0 192.0.2.3/24
#
# vmroamctl runs in the other site's namespace. Checked: a TCP listener without TLS is refused
# at load unless "insecure": true; a good mutual-TLS round trip to the HA and a TLS one to the
# FA; no client certificate, an expired one, one from another CA, a server checked against the
# wrong CA, plaintext to the TLS port — each refused with an error that says so; SIGHUP with a
# renewed certificate serves it to new connections; SIGHUP with a broken certificate file is
# rejected and the running certificate stays.
# Usage: api_tls.sh VMROAMCTL VMROAM_HA VMROAM_FA SOURCE_ROOT
set -u
CTL=$1 HA=$2 FA=$3 SRC=$4
# shellcheck source=../../lib/agent_pair.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/agent_pair.sh"
# shellcheck source=../../lib/tls.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/tls.sh"
command -v openssl >/dev/null || { echo "SKIP: no openssl CLI (./dev setup installs it)"; exit 77; }
agent_pair_up apitls
mkdir -p "$RUN" && chmod 700 "$RUN"
C=$RUN/creds
vm_tls_ca "$C/ca" "vmroam API test CA" && vm_tls_ca "$C/other-ca" "another CA" &&
  api_tls_leaf "$C/ca" "$C" ha server "IP:192.0.2.2" &&
  api_tls_leaf "$C/ca" "$C" ha-renewed server "IP:192.0.2.2" &&
  api_tls_leaf "$C/ca" "$C" fa server "IP:192.0.2.3" &&
  api_tls_leaf "$C/ca" "$C" op client "" &&
  api_tls_leaf "$C/ca" "$C" op-expired client "" -1 &&
  api_tls_leaf "$C/other-ca" "$C" rogue client "" || { fail "openssl could not make the credentials"; exit 1; }
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$RUN/token"
# The HA serves the files at these paths; the test renews them in place.
cp "$C/ha-cert.pem" "$RUN/ha-cert.pem" && cp "$C/ha-key.pem" "$RUN/ha-key.pem"

api_section() {  # $1 tcp, $2 tls JSON or "" (then insecure if $3 = insecure)
  local tls=""
  [[ -n $2 ]] && tls=", \"tls\": $2"
  [[ ${3:-} == insecure ]] && tls=", \"insecure\": true"
  echo "\"api\": { \"unix_socket\": \"$RUN/$4.sock\", \"tcp\": \"$1\", \"token_file\": \"$RUN/token\"$tls }"
}
ha_config() { agent_pair_ha_json "$RUN/ha.db" "$1"; }
HA_TLS="{ \"cert_file\": \"$RUN/ha-cert.pem\", \"key_file\": \"$RUN/ha-key.pem\", \"client_ca_file\": \"$C/ca/ca-cert.pem\" }"
FA_TLS="{ \"cert_file\": \"$C/fa-cert.pem\", \"key_file\": \"$C/fa-key.pem\" }"

# ---- A TCP listener without TLS is refused at load, unless it says insecure -----------------
ha_config "$(api_section 192.0.2.2:8434 "" "" ha)" >"$RUN/plain.json"
if out=$("$HA" --check -c "$RUN/plain.json" 2>&1); then
  fail "api.tcp without tls passed --check: $out"
elif [[ $out != *"api.tls: required when api.tcp is set"*"insecure"* ]]; then
  fail "api.tcp without tls: unclear error: $out"
else
  echo "ok: api.tcp without tls refused: $out"
fi
ha_config "$(api_section 192.0.2.2:8434 "" insecure ha)" >"$RUN/insecure.json"
"$HA" --check -c "$RUN/insecure.json" >/dev/null 2>&1 && echo "ok: \"insecure\": true accepted" ||
  fail "insecure config refused: $("$HA" --check -c "$RUN/insecure.json" 2>&1)"

# ---- Start both agents with TLS -------------------------------------------------------------
ha_config "$(api_section 192.0.2.2:8434 "$HA_TLS" "" ha)" >"$RUN/ha.json"
agent_pair_fa_json "$RUN/fa.db" "$(api_section 192.0.2.3:8435 "$FA_TLS" "" fa)" >"$RUN/fa.json"
start_agent ha "grep -q home_agent_ready '$RUN/ha.log'"
start_agent fa "grep -q foreign_agent_ready '$RUN/fa.log'"

# ctl NS WANT_RC ARGS…: vmroamctl in namespace NS; stdout in $out, stderr in $err (the pair's
# ctl, with the namespace and the API token).
ctl() {
  local ns=$1 want=$2
  shift 2
  out=$(ip netns exec "$ns" "$CTL" --token-file "$RUN/token" --timeout 5 "$@" 2>"$RUN/err")
  local rc=$?
  err=$(cat "$RUN/err")
  if [[ $rc -ne $want ]]; then fail "vmroamctl $* exited $rc, want $want: $err"; return 1; fi
  echo "ok: vmroamctl $* -> $rc ${err:+($err)}"
}
HA_API=(--api https://192.0.2.2:8434)
OP=(--ca-file "$C/ca/ca-cert.pem" --cert-file "$C/op-cert.pem" --key-file "$C/op-key.pem")

ctl "$NF" 0 "${HA_API[@]}" "${OP[@]}" --json status && [[ $out == *'"home-agent"'* ]] || fail "HA status over mTLS: $out"
ctl "$NF" 0 "${HA_API[@]}" "${OP[@]}" vm add vm1 home_address=10.1.0.10 mac=52:54:00:12:34:56
ctl "$NF" 0 "${HA_API[@]}" "${OP[@]}" --json vm list && [[ $out == *'"vm1"'* ]] || fail "vm list over mTLS: $out"
ctl "$NH" 0 --api https://192.0.2.3:8435 --ca-file "$C/ca/ca-cert.pem" --json status &&
  [[ $out == *'"foreign-agent"'* ]] || fail "FA status over TLS: $out"

# ---- Refusals, each with an error that says what is wrong ---------------------------------
ctl "$NF" 3 "${HA_API[@]}" --ca-file "$C/ca/ca-cert.pem" status &&
  { [[ $err == *"tls_failed"*"certificate required"* ]] || fail "no client certificate: unclear error: $err"; }
ctl "$NF" 3 "${HA_API[@]}" --ca-file "$C/ca/ca-cert.pem" --cert-file "$C/op-expired-cert.pem" \
  --key-file "$C/op-expired-key.pem" status &&
  { [[ $err == *"tls_failed"*"certificate expired"* ]] || fail "expired client certificate: unclear error: $err"; }
ctl "$NF" 3 "${HA_API[@]}" --ca-file "$C/ca/ca-cert.pem" --cert-file "$C/rogue-cert.pem" \
  --key-file "$C/rogue-key.pem" status &&
  { [[ $err == *"tls_failed"* ]] || fail "client certificate from another CA: unclear error: $err"; }
grep -q 'api_tls_refused.*certificate' "$RUN/ha.log" || fail "the HA did not log why it refused a client certificate"
ctl "$NF" 3 "${HA_API[@]}" --ca-file "$C/other-ca/ca-cert.pem" --cert-file "$C/op-cert.pem" \
  --key-file "$C/op-key.pem" status &&
  { [[ $err == *"tls_failed"*"certificate verify failed"* ]] || fail "wrong CA: unclear error: $err"; }
ctl "$NF" 1 --api http://192.0.2.2:8434 status &&
  { [[ $err == *"tls_required"*"use https://"* ]] || fail "plaintext to the TLS port: unclear error: $err"; }

# ---- SIGHUP: a renewed certificate for new connections; a broken one is refused ------------
served_serial() {
  ip netns exec "$NF" openssl s_client -connect 192.0.2.2:8434 -CAfile "$C/ca/ca-cert.pem" \
    -cert "$C/op-cert.pem" -key "$C/op-key.pem" </dev/null 2>/dev/null | openssl x509 -noout -serial 2>/dev/null
}
first=$(served_serial)
want=$(openssl x509 -noout -serial -in "$C/ha-cert.pem")
[[ -n $first && $first == "$want" ]] || fail "served certificate $first, want $want"
cp "$C/ha-renewed-cert.pem" "$RUN/ha-cert.pem" && cp "$C/ha-renewed-key.pem" "$RUN/ha-key.pem"
kill -HUP "$ha_pid"
wait_for "grep -q 'event=reloaded' '$RUN/ha.log'" 10 "the reload" || fail "no reloaded event"
renewed=$(openssl x509 -noout -serial -in "$C/ha-renewed-cert.pem")
wait_for "[[ \$(served_serial) == '$renewed' ]]" 10 "the renewed certificate to be served" ||
  fail "after SIGHUP the HA serves $(served_serial), want $renewed"
ctl "$NF" 0 "${HA_API[@]}" "${OP[@]}" status

echo "not a certificate" >"$RUN/ha-cert.pem"
kill -HUP "$ha_pid"
wait_for "grep -q 'reload_rejected.*ha-cert.pem' '$RUN/ha.log'" 10 "the broken certificate's reload to be rejected" ||
  fail "a broken certificate file was not rejected by name: $(grep reload "$RUN/ha.log" | tail -2)"
[[ $(served_serial) == "$renewed" ]] || fail "after a rejected reload the HA serves $(served_serial), want $renewed"
ctl "$NF" 0 "${HA_API[@]}" "${OP[@]}" status

[[ $failed -eq 0 ]] && echo "PASS: the TCP API over TLS" && exit 0
exit 1
