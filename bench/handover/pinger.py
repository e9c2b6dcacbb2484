#!/usr/bin/python3
"""pinger: ICMP echo requests at a fixed interval, whatever comes back (bench/handover).

  pinger.py TARGET INTERVAL_MS     (root) prints one line per reply: "EPOCH_S SEQ", until SIGINT

Why not `ping -i 0.001`: iputils ping paces itself by the replies it gets; while the VM is
unreachable it sent at 7-40 ms gaps (measured here), which would add up to 40 ms to the
handover we measure. This one sends on a fixed schedule (time.time(), the clock of the
captures' timestamps) and never waits for an answer.
"""
import os
import select
import signal
import socket
import struct
import sys
import time


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def main():
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    target, interval = sys.argv[1], float(sys.argv[2]) / 1000.0
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    sock.setblocking(False)
    ident = os.getpid() & 0xFFFF
    stop = []
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    seq = 0
    nxt = time.time()
    out = sys.stdout
    while not stop:
        now = time.time()
        if now >= nxt:
            seq = (seq + 1) & 0xFFFF
            body = struct.pack("!d", now) + b"vmroam-bench" * 3
            hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
            pkt = struct.pack("!BBHHH", 8, 0, checksum(hdr + body), ident, seq) + body
            try:
                sock.sendto(pkt, (target, 0))
            except OSError:
                pass  # unreachable for now: keep the schedule
            nxt += interval
            if nxt < now:
                nxt = now + interval  # fell behind (busy machine): no burst to catch up
        r, _, _ = select.select([sock], [], [], max(0.0, nxt - time.time()))
        if r:
            try:
                data = sock.recv(2048)
            except OSError:
                continue
            t = time.time()
            ihl = (data[0] & 0x0F) * 4
            typ, _, _, rid, rseq = struct.unpack("!BBHHH", data[ihl:ihl + 8])
            if typ == 0 and rid == ident:
                out.write("%.6f %d\n" % (t, rseq))
                out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
