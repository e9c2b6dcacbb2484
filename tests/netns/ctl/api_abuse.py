#!/usr/bin/env python3
"""Abusive clients of an agent's TCP API (tests/netns/ctl/api_abuse.sh runs this in the foreign
router, against a real vmroam-ha): a connection flood from several addresses, slow clients
(slowloris) and oversized requests. Each step prints what it saw and asserts the limits of
docs/security.md "Abusive clients" (common/api/http_server.hpp); exit 1 on the first failure.

  api_abuse.py STEP HOST PORT TOKEN SOURCE[,SOURCE…]

STEP flood:   from every SOURCE, 20 connections held open; the server keeps at most 16 per
              address and 128 in all and closes the rest at once. Prints the count it kept,
              then waits for a line on stdin (the shell checks the agent meanwhile) and closes.
STEP slow:    10 clients per SOURCE send a request header a byte every 0.5 s; each is answered
              408 request_timeout within 30 s (the 10 s request timeout, not the 60 s idle one).
STEP oversize: with the token, a body of 64 KiB + 2 → 413, a header over 8 KiB → 431, a header
              announcing 1 MiB → 413 before any body; without the token, a header announcing
              60 KiB → 401 at once, the body never awaited.
"""
import select
import socket
import sys
import time

PER_SOURCE = 20
PER_PEER_LIMIT = 16
LISTENER_LIMIT = 128


def fail(msg):
    print(f"FAIL: {msg}", flush=True)
    sys.exit(1)


def connect(source, host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.settimeout(10)
    s.connect((host, port))
    s.setblocking(False)
    return s


def closed_by_server(s):
    """True once the server closed (EOF or reset); False while it stays silent."""
    try:
        return s.recv(1) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def flood(host, port, sources):
    conns = [(src, connect(src, host, port)) for src in sources for _ in range(PER_SOURCE)]
    want_open = min(LISTENER_LIMIT, PER_PEER_LIMIT * len(sources))
    # The server closes the refused ones at once; poll until as many are closed as must be.
    deadline = time.monotonic() + 20
    while True:
        open_ = [(src, s) for src, s in conns if not closed_by_server(s)]
        if len(open_) <= want_open or time.monotonic() > deadline:
            break
        time.sleep(0.1)  # polling interval
    per_source = {src: sum(1 for o, _ in open_ if o == src) for src in sources}
    print(f"flood: {len(conns)} connections, {len(open_)} kept open, per address {sorted(set(per_source.values()))}",
          flush=True)
    if len(open_) != want_open:
        fail(f"{len(open_)} connections open, want {want_open} (16 per address, 128 in all)")
    if max(per_source.values()) > PER_PEER_LIMIT:
        fail(f"an address kept {max(per_source.values())} connections, limit {PER_PEER_LIMIT}")
    print(f"held {len(open_)}", flush=True)
    sys.stdin.readline()  # the shell checks the agent while they are held
    for _, s in conns:
        s.close()


def slow(host, port, sources):
    header = b"GET /v1/health HTTP/1.1\r\nHost: ha\r\nX-Slow: " + b"a" * 200
    conns = [connect(src, host, port) for src in sources for _ in range(10)]
    got = {s: b"" for s in conns}
    done = {}
    start = time.monotonic()
    sent = 0
    while len(done) < len(conns) and time.monotonic() - start < 30:
        for s in conns:
            if s in done:
                continue
            if sent < len(header):
                try:
                    s.send(header[sent:sent + 1])
                except OSError:
                    pass  # closed meanwhile: its answer is read below
            try:
                chunk = s.recv(4096)
                got[s] += chunk
                if not chunk:
                    done[s] = time.monotonic() - start
            except BlockingIOError:
                pass
            except ConnectionResetError:
                done[s] = time.monotonic() - start
        sent += 1
        select.select([], [], [], 0.5)  # the client's pace: a byte every 0.5 s
    answered = [s for s in conns if got[s].startswith(b"HTTP/1.1 408") and b"request_timeout" in got[s]]
    times = sorted(done.values())
    print(f"slow: {len(conns)} clients, {len(answered)} answered 408 request_timeout, closed after "
          f"{times[0] if times else 0:.1f}..{times[-1] if times else 0:.1f} s", flush=True)
    for s in conns:
        s.close()
    if len(answered) != len(conns):
        other = [got[s][:40] for s in conns if s not in answered][:3]
        fail(f"{len(conns) - len(answered)} slow clients not answered 408 within 30 s: {other}")


def exchange(source, host, port, request, limit=10):
    s = connect(source, host, port)
    s.setblocking(True)
    s.settimeout(limit)
    try:
        s.sendall(request)
    except OSError:
        pass  # the server may answer and close before the whole request is sent
    got = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    s.close()
    return got


def oversize(host, port, token, source):
    auth = f"Authorization: Bearer {token}\r\n".encode()
    body = b"{" + b" " * (64 * 1024) + b"}"  # 64 KiB + 2
    cases = [
        ("a body over 64 KiB", b"POST /v1/vms HTTP/1.1\r\nHost: ha\r\n" + auth +
         b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body, b"HTTP/1.1 413"),
        ("a header over 8 KiB", b"GET /v1/health HTTP/1.1\r\nHost: ha\r\n" + auth + b"X-Big: " + b"b" * 9000 +
         b"\r\n\r\n", b"HTTP/1.1 431"),
        # Only the header is sent: an answer that waited for the body would be a 408 after 10 s.
        ("1 MiB announced, the header alone", b"POST /v1/vms HTTP/1.1\r\nHost: ha\r\n" + auth +
         b"Content-Type: application/json\r\nContent-Length: 1048576\r\n\r\n", b"HTTP/1.1 413"),
        ("60 KiB announced without a token, the header alone", b"POST /v1/vms HTTP/1.1\r\nHost: ha\r\n"
         b"Content-Type: application/json\r\nContent-Length: 61440\r\n\r\n", b"HTTP/1.1 401"),
    ]
    for what, request, want in cases:
        t0 = time.monotonic()
        got = exchange(source, host, port, request)
        took = time.monotonic() - t0
        status = got.split(b"\r\n", 1)[0].decode(errors="replace")
        print(f"oversize: {what}: {status} in {took:.2f} s", flush=True)
        if not got.startswith(want):
            fail(f"{what}: {got[:80]!r}, want {want.decode()}")
        if took > 5:
            fail(f"{what}: answered after {took:.1f} s: the server waited for the body")


def main():
    if len(sys.argv) != 6:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    step, host, port, token, sources = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5].split(",")
    if step == "flood":
        flood(host, port, sources)
    elif step == "slow":
        slow(host, port, sources)
    elif step == "oversize":
        oversize(host, port, token, sources[0])
    else:
        sys.exit(2)


if __name__ == "__main__":
    main()
