#!/usr/bin/python3
"""A burst of proxy registrations at a home agent, as one FA would send them (ha_peer.py's
messages), for the cluster test: so many in one go that the HA's commit carries more
operations than etcd's --max-txn-ops allows in one txn.

  cluster_burst.py HA FA SPI KEY_HEX FIRST N LIFETIME
      registers the VMs 10.1.0.FIRST … 10.1.0.(FIRST+N-1) (MAC 52:54:00:00:02:<i>) with care-of
      address FA, all at once from FA (an ephemeral port: the real FA has 434), then waits up
      to 15 s for every reply. Prints "burst: N sent, A accepted, replies from S" and exits 0
      only if every request was accepted and every reply came from HA (RFC 5944 §3.8.3.1: the
      reply's source is the address the request was sent to).

Only /usr/bin/python3 has scapy (imported by ha_peer).
"""
import os
import select
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ha_peer import PORT, ntp_now, parse_reply, proxy_request  # noqa: E402


def main():
    if len(sys.argv) != 8:
        print(__doc__, file=sys.stderr)
        return 2
    ha, fa, spi, key = sys.argv[1], sys.argv[2], int(sys.argv[3]), bytes.fromhex(sys.argv[4])
    first, n, lifetime = int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((fa, 0))
    ident = ntp_now()
    for i in range(n):
        hoa = f"10.1.0.{first + i}"
        mac = f"52:54:00:00:02:{i:02x}"
        s.sendto(proxy_request(hoa, ha, fa, ident + i, mac, spi, key, lifetime=lifetime), (ha, PORT))
    codes, sources = {}, set()
    deadline = time.monotonic() + 15
    while len(codes) < n and time.monotonic() < deadline:
        r, _, _ = select.select([s], [], [], 0.2)
        if not r:
            continue
        data, (src, _) = s.recvfrom(65535)
        if not data or data[0] != 3:
            continue
        rep = parse_reply(data)
        codes[rep["hoa"]] = rep["code"]
        sources.add(src)
    accepted = sum(1 for c in codes.values() if c == 0)
    print(f"burst: {n} sent, {accepted} accepted, replies from {','.join(sorted(sources)) or 'nobody'}"
          + ("" if accepted == n else f"; codes {codes}"), flush=True)
    return 0 if accepted == n and sources == {ha} else 1


if __name__ == "__main__":
    sys.exit(main())
