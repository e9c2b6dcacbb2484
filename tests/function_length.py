#!/usr/bin/env python3
"""Function lengths in C and C++ sources, by brace depth (no compiler needed).

Usage: function_length.py LIMIT FILE...
Prints `path:line name lines` for every function body longer than LIMIT lines (from the line
of its `{` to the line of its `}`, comments and blank lines included) and exits 1 if there is
one. tests/structure_check.sh runs it over the product tree. A body is a `{` at namespace or class scope whose header ends like a function
declarator: `)` then qualifiers (const, noexcept, override, `-> T`), or a constructor's
member-initialiser list. Comments, strings, character literals and preprocessor lines are
blanked first, so braces inside them do not count.
"""
import re
import sys

QUALIFIER = r'(?:\s*(?:const|noexcept(?:\([^()]*\))?|override|final|mutable|&&|&|->\s*[\w:<>,\s*&\[\]]+))*'
FUNCTION_HEADER = re.compile(r'\)' + QUALIFIER + r'\s*$', re.S)
CTOR_INIT = re.compile(r'\)' + QUALIFIER + r'\s*:(?!:)', re.S)
SCOPE_HEADER = re.compile(r'^\s*(?:template\s*<.*>\s*)?(?:namespace\b|class\b|struct\b|union\b|extern\s+"C")', re.S)


def blank(text):
    """Replaces comments, string and char literals and preprocessor lines by spaces, keeping
    newlines so that line numbers stay right."""
    out = []
    i, n = 0, len(text)
    at_line_start = True
    while i < n:
        c = text[i]
        if at_line_start and c == '#':
            j = i
            while j < n and not (text[j] == '\n' and text[j - 1] != '\\'):
                j += 1
            out.append(re.sub(r'[^\n]', ' ', text[i:j]))
            i = j
            continue
        if c == '\n':
            at_line_start = True
            out.append(c)
            i += 1
            continue
        if not c.isspace():
            at_line_start = False
        if text.startswith('//', i):
            j = text.find('\n', i)
            j = n if j < 0 else j
            out.append(' ' * (j - i))
            i = j
        elif text.startswith('/*', i):
            j = text.find('*/', i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r'[^\n]', ' ', text[i:j]))
            i = j
        elif c == 'R' and text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == '_')):
            k = text.find('(', i)
            delim = ')' + text[i + 2:k] + '"'
            j = text.find(delim, k)
            j = n if j < 0 else j + len(delim)
            out.append(re.sub(r'[^\n]', ' ', text[i:j]))
            i = j
        elif c in '"\'':
            if c == "'" and i > 0 and text[i - 1].isalnum():  # digit separator 1'000
                out.append(' ')
                i += 1
                continue
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == '\\' else 1
            out.append(' ' * (min(j + 1, n) - i))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return ''.join(out)


def functions(text):
    """Yields (name, first line, last line) for each function body in text."""
    code = blank(text)
    line_of = [0] * (len(code) + 1)
    line = 1
    for k, ch in enumerate(code):
        line_of[k] = line
        if ch == '\n':
            line += 1
    # A stack of open braces: 'scope' (namespace, class) or 'block' (anything else).
    stack = []
    header_start = 0
    i, n = 0, len(code)
    while i < n:
        c = code[i]
        at_scope = all(kind == 'scope' for kind in stack)
        if c == ';' and at_scope:
            header_start = i + 1
        elif c == '{':
            if not at_scope:
                stack.append('block')
            else:
                header = code[header_start:i]
                if SCOPE_HEADER.match(header) and '(' not in header.split('{')[0].split('=')[0]:
                    stack.append('scope')
                    header_start = i + 1
                elif CTOR_INIT.search(header) and re.search(r'[\w>]\s*$', header):
                    i = skip_group(code, i)  # a member initialiser `a_{x}`: part of the header
                    continue
                elif FUNCTION_HEADER.search(header) or CTOR_INIT.search(header):
                    end = skip_group(code, i) - 1
                    yield name_of(header), line_of[i], line_of[end]
                    i = end + 1
                    header_start = i
                    continue
                else:
                    stack.append('block')
        elif c == '}':
            if stack:
                stack.pop()
            if all(kind == 'scope' for kind in stack):
                header_start = i + 1
        i += 1


def skip_group(code, i):
    """Returns the index just past the brace that closes the one at i."""
    depth = 0
    n = len(code)
    while i < n:
        if code[i] == '{':
            depth += 1
        elif code[i] == '}':
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n


def name_of(header):
    head = CTOR_INIT.split(header)[0] if CTOR_INIT.search(header) else header
    m = re.search(r'([~\w:<>=!+\-*/\[\]]+)\s*\(', head)
    return m.group(1) if m else '?'


def main(argv):
    limit = int(argv[1])
    bad = 0
    for path in argv[2:]:
        with open(path, encoding='utf-8', errors='replace') as f:
            text = f.read()
        for name, first, last in functions(text):
            length = last - first + 1
            if length > limit:
                print(f'{path}:{first} {name} {length} lines')
                bad = 1
    return bad


if __name__ == '__main__':
    sys.exit(main(sys.argv))
