#!/bin/bash
# Regenerates pcap-fixtures/ (the captures and their .ok renderings). Review the git diff
# before committing: a changed .ok is a changed reading of the wire.
#
#   tests/replay/regen.sh [BUILD_DIR]     (default: build; needs oracle-capture, vmroam-pcap
#                                           and scapy under /usr/bin/python3)
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
fixtures=$top/pcap-fixtures
ninja -C "$build" tests/oracle/oracle-capture tools/pcap/vmroam-pcap >/dev/null

"$build/tests/oracle/oracle-capture" --keys > "$fixtures/keys"
"$build/tests/oracle/oracle-capture" "$fixtures/catalogue.pcap" "$fixtures/catalogue.expected.json"
/usr/bin/python3 "$top/tests/replay/make_malformed.py" "$fixtures/malformed.pcap" >/dev/null 2>&1

args=()
while read -r spec; do args+=(--key "$spec"); done < "$fixtures/keys"
for pcap in "$fixtures"/*.pcap; do
  "$build/tools/pcap/vmroam-pcap" decode "$pcap" "${args[@]}" > "${pcap%.pcap}.ok"
done
echo "regenerated: $(ls "$fixtures"/*.pcap | wc -l) captures in $fixtures"
