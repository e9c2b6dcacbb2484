#!/usr/bin/python3
"""A foreign agent that hears registration revocations and never acknowledges them, for the
cluster test: a revocation stays pending at the home agent (RFC 3543 §4), so that the test can
kill the active HA and see the new active send it again.

  revocation_listener.py ADDR OUT
      binds ADDR:434 and appends one line per Registration Revocation (type 7) to OUT:
      "<epoch ms> <source> <revocation id> <home address>". Runs until killed.
"""
import socket
import struct
import sys
import time

REVOCATION = 7  # RFC 3543 §3.1
FIXED = 20      # type, reserved, flags, home, home domain, foreign domain, revocation id


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((sys.argv[1], 434))
    with open(sys.argv[2], "a", encoding="ascii") as out:
        while True:
            data, (src, _) = s.recvfrom(65535)
            if len(data) < FIXED or data[0] != REVOCATION:
                continue
            hoa = socket.inet_ntoa(data[4:8])
            rev_id = struct.unpack("!I", data[16:20])[0]
            out.write(f"{time.time_ns() // 1_000_000} {src} {rev_id} {hoa}\n")
            out.flush()


if __name__ == "__main__":
    sys.exit(main())
