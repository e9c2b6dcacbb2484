#!/usr/bin/python3
"""Writes pcap-fixtures/malformed.pcap: packets that are ours but broken, built with scapy
(independent of common/wire), with fixed timestamps so the file is stable.

Each frame is a case vmroam-pcap must report as an error record (or flag) without crashing.
Usage: make_malformed.py OUT.pcap      (/usr/bin/python3 with scapy)
"""
import hmac
import sys

from scapy.all import Ether, IP, UDP, ICMP, ARP, Raw, PcapWriter
from scapy.layers.mobileip import MobileIP, MobileIPRRQ, MobileIPRRP

KEY = bytes.fromhex("00112233445566778899aabbccddeeff")  # SPI 4096, hmac-md5 (pcap-fixtures/keys)
HOA, HA, COA = "10.1.0.10", "10.1.0.1", "10.2.0.1"


def rrq(flags=0x02, ident=1):
    return bytes(MobileIP(type=1) / MobileIPRRQ(flags=flags, lifetime=1800, homeaddr=HOA,
                                               haaddr=HA, coaddr=COA, id=ident))


def mn_ha(body, key=KEY, spi=4096):
    head = bytes([32, 20]) + spi.to_bytes(4, "big")
    return body + head + hmac.new(key, body + head, "md5").digest()


def udp(payload, **kw):
    return Ether(src="02:00:00:00:02:01", dst="02:00:00:00:01:01") / IP(src=COA, dst=HA) / \
        UDP(sport=434, dport=434, **kw) / Raw(payload)


inner = IP(src="192.0.2.7", dst=HOA) / ICMP()
cases = [
    ("valid request, MN-HA verifies", udp(mn_ha(rrq()))),
    ("request signed with another key", udp(mn_ha(rrq(ident=2), key=bytes(16)))),
    ("request, authenticator altered after signing",
     udp(mn_ha(rrq(ident=3))[:-1] + b"\x00")),
    ("request, SPI without a key", udp(mn_ha(rrq(ident=4), spi=9999))),
    ("request cut to 10 bytes", udp(rrq()[:10])),
    ("request, unknown non-skippable extension 99", udp(rrq() + bytes([99, 2, 0, 0]))),
    ("request, unknown skippable extension 200 then MN-HA", udp(mn_ha(rrq(ident=5) + bytes([200, 1, 7])))),
    ("request, extension length runs past the end", udp(rrq() + bytes([32, 40, 0, 0]))),
    ("request, extension after the authenticator", udp(mn_ha(rrq(ident=6)) + bytes([131, 1, 65]))),
    ("unknown message type 9", udp(bytes([9]) + bytes(23))),
    ("reply cut to 19 bytes", udp(bytes(MobileIP(type=3) / MobileIPRRP(code=0, homeaddr=HOA, haaddr=HA, id=1))[:19])),
    ("request with a wrong UDP checksum (offloaded capture)", udp(mn_ha(rrq(ident=7)), chksum=0x1234)),
    ("UDP tunnel data with GRE next header",
     udp(bytes([4, 47, 0, 0]) + bytes(inner))),
    ("UDP tunnel data, inner packet cut short", udp(bytes([4, 4, 0, 0]) + bytes(inner)[:12])),
    ("IP in IP, inner length larger than the outer carries",
     Ether() / IP(src=HA, dst=COA, proto=4) / Raw(bytes(inner)[:2] + b"\x01\x00" + bytes(inner)[4:])),
    ("ICMP router advertisement with a bad checksum",
     Ether() / IP(src=COA, dst="224.0.0.1", ttl=1) / ICMP(type=9, chksum=0xdead) / Raw(bytes(8))),
    ("ARP with hardware length 8", Ether(type=0x0806) / Raw(bytes(ARP(psrc=HOA, pdst=HOA, hwlen=8))[:28])),
    ("Ethernet frame of 10 bytes", Raw(bytes(10))),
]

writer = PcapWriter(sys.argv[1], linktype=1, sync=True)
for n, (_, frame) in enumerate(cases, start=1):
    frame.time = 1700001000 + n
    writer.write(frame)
writer.close()
for n, (desc, _) in enumerate(cases, start=1):
    print(f"{n:3} {desc}")
