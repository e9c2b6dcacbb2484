#!/usr/bin/env bash
# No product source file over 600 lines (docs/testing.md "Structure"): a file that long holds
# more than one thing a reader can keep in mind. Lists the files that are; split them by what
# they do. Tests, fuzzers and benchmarks are not product code and are not checked.
set -uo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
limit=600
bad=0
while IFS= read -r -d '' f; do
  n=$(wc -l <"$f")
  if [ "$n" -gt "$limit" ]; then
    echo "over $limit lines: $f ($n)"
    bad=1
  fi
done < <(find common home-agent foreign-agent migration libvirt tools \
  \( -name '*.cpp' -o -name '*.hpp' -o -name '*.c' -o -name '*.h' \) -print0 | sort -z)
[ "$bad" = 0 ] && echo "every product source file is at most $limit lines"
exit "$bad"
