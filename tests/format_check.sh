#!/usr/bin/env bash
# Every C++ source follows .clang-format (Google-based, 110 columns): lists the files that do
# not. Fix with: clang-format -i FILE.
set -uo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
command -v clang-format >/dev/null || { echo "clang-format missing (./dev setup installs it)"; exit 77; }
bad=0
while IFS= read -r -d '' f; do
  if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
    echo "not formatted: $f"
    bad=1
  fi
done < <(find common home-agent foreign-agent migration libvirt tools tests fuzz bench \( -name '*.cpp' -o -name '*.hpp' \) -print0 | sort -z)
[ "$bad" = 0 ] && echo "all C++ sources formatted"
exit "$bad"
