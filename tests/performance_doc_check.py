#!/usr/bin/env python3
"""docs/performance.md: the registrations section's figures come from the generated tables only.

bench/run.sh rewrites the generated block (one section per benchmark, each with its date,
machine and load average). The hand-written section "Home agent registrations: what limits
them" explains the ha_registrations and store_commit tables; if it wrote rates or times of
its own they would drift from the tables at the next run. So this fails when that section
holds a rate or a time (a number followed by /s, ms, µs or %), or when the generated block
lacks either table or the machine it ran on.
"""
import re
import sys

BEGIN = "<!-- bench/run.sh: begin generated results -->"
END = "<!-- bench/run.sh: end generated results -->"
SECTION = "## Home agent registrations: what limits them"
FIGURE = re.compile(r"\d[\d.,]*(?:\s*[–-]\s*\d[\d.,]*)?\s*(?:k/s|/s|ms|µs|%)(?![A-Za-z])")


def main(path):
    text = open(path, encoding="utf-8").read()
    bad = []
    if BEGIN not in text or END not in text:
        return [f"{path}: no generated block ({BEGIN} … {END})"]
    block = text[text.index(BEGIN):text.index(END)]
    for name in ("ha_registrations", "store_commit"):
        m = re.search(rf"^### {name}\n(.*?)(?=^### |\Z)", block, re.S | re.M)
        if not m:
            bad.append(f"{path}: the generated block has no {name} table")
        elif "Machine: " not in m.group(1):
            bad.append(f"{path}: the generated {name} section does not say which machine it ran on")
    if SECTION not in text:
        return bad + [f"{path}: no section '{SECTION}'"]
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    prose = text[start:end if end != -1 else len(text)]
    for m in FIGURE.finditer(prose):
        line = prose.count("\n", 0, m.start()) + text.count("\n", 0, start) + 1
        bad.append(f"{path}:{line}: '{m.group(0)}' in hand-written text: point at the generated table instead")
    return bad


if __name__ == "__main__":
    problems = main(sys.argv[1] if len(sys.argv) > 1 else "docs/performance.md")
    for p in problems:
        print(p)
    if not problems:
        print("docs/performance.md: registration figures only in the generated tables")
    sys.exit(1 if problems else 0)
