#!/usr/bin/python3
"""Proxy registrations at a steady rate across a failover, as one FA would send them
(ha_peer.py's messages), recording every acknowledgement: the cluster tests' "nothing
acknowledged is lost" is checked against that record.

  cluster_register_loop.py HA FA SPI KEY_HEX FIRST N RATE LOG STOP_FILE MAX_S
      registers the VMs 10.1.0.FIRST … 10.1.0.(FIRST+N-1) in turn (MAC 52:54:00:00:03:<i>,
      care-of address FA, lifetime 60 s) at RATE requests/s from FA (an ephemeral port), each
      with a new Identification (an NTP timestamp, RFC 5944 §5.7, so a HoA's are increasing),
      until STOP_FILE exists or MAX_S seconds have passed. Does not retransmit: a request
      that is not answered is simply followed by the next one for that HoA.
      LOG gets one line per accepted reply (code 0), flushed at once:
          <epoch ms received> <hoa> <identification, 0x%016x> <reply source>
      and a last line "sent <count>". Exits 0 unless a reply came back refused (a code other
      than 0: printed on stderr) or from an address other than HA (RFC 5944 §3.8.3.1).

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
    if len(sys.argv) != 11:
        print(__doc__, file=sys.stderr)
        return 2
    ha, fa, spi, key = sys.argv[1], sys.argv[2], int(sys.argv[3]), bytes.fromhex(sys.argv[4])
    first, n, rate = int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7])
    log_path, stop_file, max_s = sys.argv[8], sys.argv[9], float(sys.argv[10])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((fa, 0))
    start = time.monotonic()
    interval = 1.0 / rate
    sent, bad = 0, 0
    with open(log_path, "w", encoding="ascii") as log:
        while time.monotonic() - start < max_s and not os.path.exists(stop_file):
            i = sent % n
            s.sendto(proxy_request(f"10.1.0.{first + i}", ha, fa, ntp_now(), f"52:54:00:00:03:{i:02x}",
                                   spi, key, lifetime=60), (ha, PORT))
            sent += 1
            due = start + sent * interval
            # Read every reply that comes until the next request is due (at least a poll).
            while True:
                wait = max(0.0, due - time.monotonic())
                r, _, _ = select.select([s], [], [], wait)
                if not r:
                    break
                data, (src, _) = s.recvfrom(65535)
                if not data or data[0] != 3:
                    continue
                rep = parse_reply(data)
                if rep["code"] != 0 or src != ha:
                    bad += 1
                    print(f"register-loop: reply for {rep['hoa']} code {rep['code']} from {src}",
                          file=sys.stderr, flush=True)
                    continue
                # The Identification as the HA's API prints it (fixed-width hex: the shell
                # compares two of them as strings, 64 bits being past its arithmetic).
                log.write(f"{int(time.time() * 1000)} {rep['hoa']} 0x{rep['id']:016x} {src}\n")
                log.flush()
        log.write(f"sent {sent}\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
