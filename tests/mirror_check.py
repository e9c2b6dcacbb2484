#!/usr/bin/env python3
"""The test tree mirrors the source tree (docs/testing.md "The test tree").

Usage: mirror_check.py FILE...   (product sources, as tests/structure_check.sh lists them)
Every product source file but a main.cpp needs a test of its own name somewhere under tests/
(Y.cpp -> Y_test.cpp, Y_test.sh or Y_test.py), or a row in docs/testing.md's table "Files
tested under another name" naming the tests that cover it. Prints each file that has neither,
and each row of the table that names no file (a file moved or gone), and exits 1 if there is
one. A row for a file that has since got a test of its own name is harmless and passes.
"""
import fnmatch
import os
import re
import sys

TABLE = '### Files tested under another name'


def own_tests(top):
    names = set()
    for root, _, files in os.walk(os.path.join(top, 'tests')):
        for f in files:
            m = re.match(r'(.+)_test\.(cpp|sh|py)$', f)
            if m:
                names.add(m.group(1))
    return names


def table_patterns(top):
    text = open(os.path.join(top, 'docs', 'testing.md'), encoding='utf-8').read()
    start = text.index(TABLE)
    end = text.find('\n#', start + len(TABLE))
    patterns = []
    for line in text[start:end].splitlines():
        cells = line.split('|')
        if len(cells) < 3 or not cells[1].strip().startswith('`'):
            continue
        patterns += re.findall(r'`([^`]+)`', cells[1])
    return patterns


def main(files):
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    tests = own_tests(top)
    patterns = table_patterns(top)
    used = set()
    bad = 0
    for path in files:
        stem, _ = os.path.splitext(path)
        name = os.path.basename(stem)
        hits = [p for p in patterns if fnmatch.fnmatch(stem, p) or fnmatch.fnmatch(path, p)]
        used.update(hits)
        if name == 'main' or name in tests:
            continue
        if not hits:
            print(f'no test named after it and no row in docs/testing.md: {path}')
            bad = 1
    for p in patterns:
        if p not in used:
            print(f'docs/testing.md "Files tested under another name" names no such file: {p}')
            bad = 1
    return bad


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
