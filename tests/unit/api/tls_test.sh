#!/bin/sh
# Makes the credentials tls_test.cpp expects (see its header) with the openssl CLI, then runs
# it. Usage: tls_test.sh API_TLS_TEST_BINARY
set -u
# shellcheck source=../../lib/tls.sh
. "$(dirname "$0")/../../lib/tls.sh"
command -v openssl >/dev/null || { echo "SKIP: no openssl CLI (./dev setup installs it)"; exit 77; }
dir=$(mktemp -d /tmp/vmroam-tls-XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT INT TERM
vm_tls_ca "$dir/ca" "vmroam test CA A" &&
  vm_tls_ca "$dir/other-ca" "vmroam test CA B" &&
  api_tls_leaf "$dir/ca" "$dir" server server "IP:127.0.0.1" &&
  api_tls_leaf "$dir/ca" "$dir" server-expired server "IP:127.0.0.1" -1 &&
  api_tls_leaf "$dir/other-ca" "$dir" other-server server "IP:127.0.0.1" &&
  api_tls_leaf "$dir/ca" "$dir" client client "" &&
  api_tls_leaf "$dir/ca" "$dir" client-expired client "" -1 &&
  api_tls_leaf "$dir/other-ca" "$dir" other-client client "" ||
  { echo "FAIL: openssl could not make the test credentials"; exit 1; }
VMROAM_TLS_DIR=$dir "$1"
