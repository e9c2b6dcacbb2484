#!/bin/bash
# Replay test (suite 'replay'): decodes one capture of pcap-fixtures/ with vmroam-pcap and
# diffs the output against its golden rendering FIXTURE.ok (OpenBGPD's .in/.ok habit).
# The keys every fixture is decoded with are in pcap-fixtures/keys (SPI:ALGORITHM:HEXKEY a line).
#
#   replay.sh VMROAM_PCAP FIXTURE.pcap
#
# A difference means the decoder or a parser beneath it changed what it reads from the wire:
# if that is intended, regenerate with tests/replay/regen.sh and review the diff.
set -euo pipefail
tool=$1
pcap=$2
fixtures=$(dirname "$pcap")
args=()
while read -r spec; do
  [ -n "$spec" ] && args+=(--key "$spec")
done < "$fixtures/keys"
diff -u "${pcap%.pcap}.ok" <("$tool" decode "$pcap" "${args[@]}" 2>/dev/null)
echo "replay: $(wc -l < "${pcap%.pcap}.ok") records of $(basename "$pcap") match"
