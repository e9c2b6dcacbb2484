#!/usr/bin/env bash
# The size limits of docs/testing.md "Structure", over product code (common, the agents,
# migration, libvirt, tools; tests, fuzzers and benchmarks are not product code):
#   * no source file over 600 lines: a file that long holds more than one thing a reader can
#     keep in mind; split it by what it does;
#   * no function over 60 lines (tests/function_length.py measures from `{` to `}`): split it
#     into named steps, or make a long if-chain a table.
# Lists what is over and fails; there is no allow-list.
set -uo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
file_limit=600
function_limit=60
bad=0
files=()
while IFS= read -r -d '' f; do files+=("$f"); done < <(find common home-agent foreign-agent migration libvirt tools \
  \( -name '*.cpp' -o -name '*.hpp' -o -name '*.c' -o -name '*.h' \) -print0 | sort -z)
# One wc for all files (its last line is the total).
while read -r n f; do
  if [ "$f" != total ] && [ "$n" -gt "$file_limit" ]; then
    echo "over $file_limit lines: $f ($n)"
    bad=1
  fi
done < <(wc -l "${files[@]}")
if ! python3 tests/function_length.py "$function_limit" "${files[@]}" | sed "s/^/function over $function_limit lines: /"; then
  bad=1
fi
# The scanner must see functions at all: result.hpp has bodies longer than 3 lines, so a
# scanner that finds none there is broken and would pass anything.
if python3 tests/function_length.py 3 common/core/result.hpp >/dev/null; then
  echo "function_length.py finds no function over 3 lines in common/core/result.hpp: it is broken"
  bad=1
fi
[ "$bad" = 0 ] && echo "${#files[@]} product source files: none over $file_limit lines, no function over $function_limit lines"
exit "$bad"
