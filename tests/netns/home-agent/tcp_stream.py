#!/usr/bin/env python3
"""A TCP stream with a checksum, for netns tests that break the path while it runs.

  tcp_stream.py serve ADDR PORT
      accepts one connection, reads until the sender closes its side, answers
      "BYTES SHA256\\n" over what it read, and exits 0.
  tcp_stream.py send ADDR PORT STOP_FILE [RATE_BPS]
      connects and sends a deterministic byte stream (about RATE_BPS, 200 KB/s by default)
      until STOP_FILE exists, closes its side, reads the server's answer and compares it with
      what it sent: prints "tcp_stream: OK bytes=N max_stall_ms=M" and exits 0, or
      "tcp_stream: FAIL ..." and exits 1 (reset, timeout, or different bytes).

The stream survives an outage of a few seconds by TCP's own retransmissions; the socket
timeouts are generous (60 s) so that only a broken connection fails it.
"""
import hashlib
import os
import socket
import sys
import time

CHUNK = 1024


def pattern(offset):
    return bytes((offset + i) % 251 for i in range(CHUNK))


def serve(addr, port):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(1)
    ls.settimeout(60)
    conn, _ = ls.accept()
    conn.settimeout(60)
    h, n = hashlib.sha256(), 0
    while True:
        data = conn.recv(65536)
        if not data:
            break
        h.update(data)
        n += len(data)
    conn.sendall(f"{n} {h.hexdigest()}\n".encode())
    conn.close()
    return 0


def send(addr, port, stop_file, rate):
    s = socket.create_connection((addr, port), timeout=60)
    h, n = hashlib.sha256(), 0
    interval = CHUNK / rate
    next_at = time.monotonic()
    max_stall = 0.0
    try:
        while not os.path.exists(stop_file):
            data = pattern(n)
            t0 = time.monotonic()
            s.sendall(data)
            max_stall = max(max_stall, time.monotonic() - t0)
            h.update(data)
            n += len(data)
            next_at += interval
            pause = next_at - time.monotonic()
            if pause > 0:
                time.sleep(pause)  # pacing, not waiting for a condition
        s.shutdown(socket.SHUT_WR)
        answer = b""
        while not answer.endswith(b"\n"):
            more = s.recv(256)
            if not more:
                break
            answer += more
    except OSError as e:
        print(f"tcp_stream: FAIL after {n} bytes: {e}", flush=True)
        return 1
    want = f"{n} {h.hexdigest()}"
    got = answer.decode(errors="replace").strip()
    if got != want:
        print(f"tcp_stream: FAIL the server read '{got}', we sent '{want}'", flush=True)
        return 1
    print(f"tcp_stream: OK bytes={n} max_stall_ms={max_stall * 1000:.0f}", flush=True)
    return 0


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "serve":
        return serve(sys.argv[2], int(sys.argv[3]))
    if len(sys.argv) >= 5 and sys.argv[1] == "send":
        rate = float(sys.argv[5]) if len(sys.argv) > 5 else 200_000.0
        return send(sys.argv[2], int(sys.argv[3]), sys.argv[4], rate)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
