#!/bin/sh
# Sourced helpers that make x509 credentials with the openssl CLI, for QEMU's migration TLS
# (docs/security.md "Migration TLS: making the credentials") and for the agents' TCP API
# (docs/security.md "The management API"). Test-only: short-lived EC P-256 keys, no
# passphrase.
#
#   vm_tls_ca DIR NAME                 a CA: DIR/ca-cert.pem, DIR/ca-key.pem (kept if present)
#   vm_tls_host CA_DIR OUT_DIR IP [NAME]
#       a QEMU host's creds directory, usable as either end of a migration:
#       ca-cert.pem (the CA's), server-cert.pem/server-key.pem (subjectAltName IP:IP, and
#       DNS:NAME if given; extendedKeyUsage serverAuth: the destination's identity, checked
#       against tls-hostname) and client-cert.pem/client-key.pem (clientAuth: the source's).
#       Readable by QEMU only (0700/0600).
#   api_tls_leaf CA_DIR OUT_DIR NAME ROLE SAN [DAYS]
#       OUT_DIR/NAME-cert.pem and OUT_DIR/NAME-key.pem signed by CA_DIR's CA, for ROLE
#       (server|client); SAN a subjectAltName ("IP:192.0.2.2", "DNS:ha.example") or "";
#       valid DAYS days from now (default 2; -1 makes one that has already expired).
#
# QEMU (crypto/tlscredsx509.c) checks at load: the CA has basicConstraints CA:TRUE and
# keyCertSign; leaf certificates are not CAs, have digitalSignature and keyEncipherment, and
# serverAuth/clientAuth for their end.

_vm_tls_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

vm_tls_ca() {
  [ -f "$1/ca-cert.pem" ] && [ -f "$1/ca-key.pem" ] && return 0
  mkdir -p "$1" && chmod 700 "$1" || return 1
  _vm_tls_key "$1/ca-key.pem" || return 1
  openssl req -x509 -new -key "$1/ca-key.pem" -out "$1/ca-cert.pem" -days 2 -subj "/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

# $1 CA dir $2 out dir $3 file name prefix $4 role (server|client) $5 subjectAltName or ""
# $6 days
_tls_leaf() {
  _k="$2/$3-key.pem"
  _vm_tls_key "$_k" || return 1
  _ext=$(mktemp) || return 1
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$4Auth"
    [ -n "$5" ] && echo "subjectAltName=$5"
  } >"$_ext"
  openssl req -new -key "$_k" -subj "/CN=vmroam-$3-$(basename "$2")" 2>/dev/null |
    openssl x509 -req -CA "$1/ca-cert.pem" -CAkey "$1/ca-key.pem" -CAcreateserial -days "$6" \
      -extfile "$_ext" -out "$2/$3-cert.pem" 2>/dev/null
  _rc=$?
  rm -f "$_ext"
  return $_rc
}

_vm_tls_leaf() { _tls_leaf "$1" "$2" "$3" "$3" "$4" 2; }

api_tls_leaf() {
  mkdir -p "$2" || return 1
  _tls_leaf "$1" "$2" "$3" "$4" "$5" "${6:-2}"
}

vm_tls_host() {
  mkdir -p "$2" && chmod 700 "$2" || return 1
  cp "$1/ca-cert.pem" "$2/ca-cert.pem" || return 1
  _san="IP:$3"
  [ -n "${4:-}" ] && _san="$_san,DNS:$4"
  _vm_tls_leaf "$1" "$2" server "$_san" && _vm_tls_leaf "$1" "$2" client "" && chmod 600 "$2"/*.pem
}
