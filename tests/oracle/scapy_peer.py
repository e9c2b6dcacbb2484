#!/usr/bin/python3
"""scapy as an independent Mobile IP peer (suite 'scapy').

Two directions, each a list of cases that must all pass:

  scapy -> vmroam   scapy's Mobile IP layers (scapy.layers.mobileip) build Registration
                    Requests, Replies and RFC 3519 tunnel data, with MN-HA authentication
                    extensions (RFC 5944 §3.5.2) appended by hand and their HMAC computed here
                    with Python's hmac module, not with our code. `vmroam-pcap decode --key …`
                    must read back every field and report verified: true (false for the
                    case signed with the wrong key).
                    Dual-stack (RFC 5454) extensions are built byte by byte here.
  vmroam -> scapy   the oracle generator (built on common/wire) writes a capture of our own
                    messages and a JSON of what it wrote; scapy must dissect the same type,
                    flags, lifetime, addresses, identification and code.

Usage: scapy_peer.py VMROAM_PCAP ORACLE_GENERATOR WORKDIR
Runs under /usr/bin/python3 only (the python3 on PATH lacks scapy); stdlib + scapy.
"""
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys

from scapy.all import Ether, IP, UDP, ICMP, Raw, wrpcap, rdpcap  # noqa: E402
from scapy.layers.mobileip import MobileIP, MobileIPRRQ, MobileIPRRP, MobileIPTunnelData

MD5_SPI = 0x1000
MD5_KEY = bytes.fromhex("00112233445566778899aabbccddeeff")
SHA_SPI = 0x2000
SHA_KEY = bytes(range(32))
WRONG_KEY = bytes(16)

FLAG_NAMES = ["S", "B", "D", "M", "G", "r", "T", "x"]  # RFC 5944 §3.3, bit 7 first

failures = []


def check(case, what, got, want):
    if got != want:
        failures.append(f"{case}: {what}: got {got!r}, want {want!r}")


def auth_extension(message, ext_type, spi, key, digest):
    """Appends Type|Length|SPI|HMAC(key, message ‖ Type ‖ Length ‖ SPI) (RFC 5944 §3.5.1)."""
    size = hashlib.new(digest).digest_size
    head = bytes([ext_type, 4 + size]) + spi.to_bytes(4, "big")
    mac = hmac.new(key, message + head, digest).digest()
    return head + mac


def dsmip_request(address):
    """RFC 5454 §2.1 IPv6 Prefix Request: 152 | 18 | Sub-Type 1 | Prefix Length | Prefix."""
    return bytes([152, 18, 1, 128]) + socket.inet_pton(socket.AF_INET6, address)


def dsmip_reply(address, code=0):
    """RFC 5454 §2.2 IPv6 Prefix Reply: 152 | 20 | 2 | Code | Prefix Length | Reserved | Prefix."""
    return bytes([152, 20, 2, code, 128, 0]) + socket.inet_pton(socket.AF_INET6, address)


def dsmip_in(payload, fixed):
    """Walks the extensions after the fixed part by hand (RFC 5944 §1.10-1.11) and reads
    every type-152 extension; scapy has no layer for them."""
    out, at = [], fixed
    while at + 2 <= len(payload):
        ext_type = payload[at]
        if ext_type in (36, 38, 47):  # long header
            length, data = int.from_bytes(payload[at + 2:at + 4], "big"), at + 4
        else:
            length, data = payload[at + 1], at + 2
        if ext_type == 152 and length >= 1:
            sub = payload[data]
            if sub == 1 and length == 18:
                prefix = socket.inet_ntop(socket.AF_INET6, payload[data + 2:data + 18])
                out.append({"sub_type": 1, "prefix": f"{prefix}/{payload[data + 1]}"})
            elif sub == 2 and length == 20:
                prefix = socket.inet_ntop(socket.AF_INET6, payload[data + 4:data + 20])
                out.append({"sub_type": 2, "code": payload[data + 1],
                            "prefix": f"{prefix}/{payload[data + 2]}"})
        at = data + length
    return out


def flag_names(bits):
    return [n for i, n in enumerate(FLAG_NAMES) if bits & (0x80 >> i)]


def scapy_to_vmroam(pcap_tool, workdir):
    cases = []  # (description, frame, expected dict)
    hoa, ha, coa = "10.1.0.10", "10.1.0.1", "10.2.0.1"
    for i, flags in enumerate([0x00, 0x02, 0x80, 0x40, 0x20, 0x10, 0x08, 0x82, 0xFA]):
        ident = 0xE8F1A2B300000000 + i
        lifetime = [0, 1, 1800, 0xFFFF][i % 4]
        body = bytes(MobileIP(type=1) / MobileIPRRQ(flags=flags, lifetime=lifetime, homeaddr=hoa,
                                                   haaddr=ha, coaddr=coa, id=ident))
        key, spi, digest = (MD5_KEY, MD5_SPI, "md5") if i % 2 == 0 else (SHA_KEY, SHA_SPI, "sha256")
        body += auth_extension(body, 32, spi, key, digest)
        cases.append((f"request flags=0x{flags:02x}", body, {
            "kind": "registration_request", "type": 1, "flags": flag_names(flags),
            "lifetime": lifetime, "home_address": hoa, "home_agent": ha,
            "care_of_address": coa, "identification": f"{ident:016x}",
            "auth": [{"ext": "mn-ha", "spi": spi, "verified": True}]}))
    for code in (0, 1, 67, 131, 133, 149):
        ident = 0xE8F1A2B3000000AA + code
        body = bytes(MobileIP(type=3) / MobileIPRRP(code=code, lifetime=600, homeaddr=hoa,
                                                   haaddr=ha, id=ident))
        body += auth_extension(body, 32, MD5_SPI, MD5_KEY, "md5")
        cases.append((f"reply code={code}", body, {
            "kind": "registration_reply", "type": 3, "code": code, "lifetime": 600,
            "home_address": hoa, "home_agent": ha, "identification": f"{ident:016x}",
            "auth": [{"ext": "mn-ha", "spi": MD5_SPI, "verified": True}]}))
    body = bytes(MobileIP(type=1) / MobileIPRRQ(flags=0x02, lifetime=30, homeaddr=hoa, haaddr=ha,
                                               coaddr=coa, id=7))
    body += auth_extension(body, 32, MD5_SPI, WRONG_KEY, "md5")
    cases.append(("request signed with the wrong key", body, {
        "kind": "registration_request", "identification": "0000000000000007",
        "auth": [{"ext": "mn-ha", "spi": MD5_SPI, "verified": False}]}))

    # A dual-stack proxy registration and its reply (RFC 5454 §2), the 152 extensions built
    # here byte by byte, before the authenticator that covers them.
    v6 = ["2001:db8:1::10", "2001:db8:1::11"]
    body = bytes(MobileIP(type=1) / MobileIPRRQ(flags=0x02, lifetime=1800, homeaddr=hoa, haaddr=ha,
                                               coaddr=coa, id=0xE8F1A2B3000000F0))
    body += dsmip_request(v6[0]) + dsmip_request(v6[1])
    body += auth_extension(body, 32, MD5_SPI, MD5_KEY, "md5")
    cases.append(("dual-stack request", body, {
        "kind": "registration_request", "identification": "e8f1a2b3000000f0",
        "dsmip": [{"sub_type": 1, "prefix": a + "/128"} for a in v6],
        "auth": [{"ext": "mn-ha", "spi": MD5_SPI, "verified": True}]}))
    body = bytes(MobileIP(type=3) / MobileIPRRP(code=0, lifetime=1800, homeaddr=hoa, haaddr=ha,
                                               id=0xE8F1A2B3000000F1))
    body += dsmip_reply(v6[0]) + dsmip_reply(v6[1], 0x81)
    body += auth_extension(body, 32, SHA_SPI, SHA_KEY, "sha256")
    cases.append(("dual-stack reply", body, {
        "kind": "registration_reply", "code": 0,
        "dsmip": [{"sub_type": 2, "code": 0, "prefix": v6[0] + "/128"},
                  {"sub_type": 2, "code": 0x81, "prefix": v6[1] + "/128"}],
        "auth": [{"ext": "mn-ha", "spi": SHA_SPI, "verified": True}]}))

    frames = []
    for _, body, _ in cases:
        frames.append(Ether(src="02:00:00:00:02:01", dst="02:00:00:00:01:01") /
                      IP(src=coa, dst=ha) / UDP(sport=434, dport=434) / Raw(body))
    # RFC 3519 tunnel data: Type 4 | Next Header 4 | Reserved, then the inner packet.
    inner = IP(src="192.0.2.7", dst=hoa) / ICMP(type=8, id=1, seq=1)
    frames.append(Ether() / IP(src=ha, dst=coa) / UDP(sport=434, dport=434) /
                  MobileIP(type=4) / MobileIPTunnelData(nexthdr=4) / inner)
    cases.append(("udp tunnel data", None, {
        "kind": "tunnel", "encapsulation": "udp", "outer_src": ha, "outer_dst": coa,
        "inner_src": "192.0.2.7", "inner_dst": hoa, "inner_protocol": 1}))
    # RFC 2003 IP-in-IP.
    frames.append(Ether() / IP(src=ha, dst=coa, proto=4) / inner)
    cases.append(("ip-in-ip", None, {
        "kind": "tunnel", "encapsulation": "ipip", "outer_src": ha, "outer_dst": coa,
        "inner_src": "192.0.2.7", "inner_dst": hoa, "inner_protocol": 1}))

    path = os.path.join(workdir, "scapy-built.pcap")
    wrpcap(path, frames)
    out = subprocess.run([pcap_tool, "decode", path,
                          "--key", f"{MD5_SPI}:hmac-md5:{MD5_KEY.hex()}",
                          "--key", f"{SHA_SPI}:hmac-sha256:{SHA_KEY.hex()}"],
                         check=True, capture_output=True, text=True).stdout
    records = {}
    for line in out.splitlines():
        r = json.loads(line)
        records.setdefault(r["frame"], r)
    for n, (desc, _, want) in enumerate(cases, start=1):
        got = records.get(n)
        if got is None:
            failures.append(f"{desc}: frame {n}: vmroam-pcap printed nothing")
            continue
        if "error" in got:
            failures.append(f"{desc}: frame {n}: vmroam-pcap error {got}")
            continue
        for key, value in want.items():
            if key == "dsmip":
                got_dsmip = [{k: e[k] for k in ("sub_type", "code", "prefix") if k in e}
                             for e in got.get("extensions", []) if e.get("type") == 152]
                check(desc, key, got_dsmip, value)
            elif key == "auth":
                got_auth = [{k: a.get(k) for k in ("ext", "spi", "verified")}
                            for a in got.get("auth", [])]
                check(desc, key, got_auth, value)
            else:
                check(desc, key, got.get(key), value)
    return len(cases)


def vmroam_to_scapy(generator, workdir):
    pcap = os.path.join(workdir, "vmroam-built.pcap")
    expected_path = os.path.join(workdir, "vmroam-built.json")
    subprocess.run([generator, pcap, expected_path], check=True)
    with open(expected_path) as f:
        expected = json.load(f)
    packets = rdpcap(pcap)
    checked = 0
    for want in expected:
        n = want["frame"]
        kind = want.get("kind")
        desc = f"frame {n} ({want.get('description', kind)})"
        pkt = packets[n - 1]
        if kind == "registration_request":
            layer = pkt.getlayer(MobileIPRRQ)
            if layer is None:
                failures.append(f"{desc}: scapy found no MobileIPRRQ")
                continue
            check(desc, "flags", layer.flags, want["flags"])
            check(desc, "lifetime", layer.lifetime, want["lifetime"])
            check(desc, "homeaddr", layer.homeaddr, want["home_address"])
            check(desc, "haaddr", layer.haaddr, want["home_agent"])
            check(desc, "coaddr", layer.coaddr, want["care_of_address"])
            check(desc, "id", f"{layer.id:016x}", want["identification"])
            if "dsmip" in want:
                check(desc, "dsmip", dsmip_in(bytes(pkt[UDP].payload), 24), want["dsmip"])
        elif kind == "registration_reply":
            layer = pkt.getlayer(MobileIPRRP)
            if layer is None:
                failures.append(f"{desc}: scapy found no MobileIPRRP")
                continue
            check(desc, "code", layer.code, want["code"])
            check(desc, "lifetime", layer.lifetime, want["lifetime"])
            check(desc, "homeaddr", layer.homeaddr, want["home_address"])
            check(desc, "haaddr", layer.haaddr, want["home_agent"])
            check(desc, "id", f"{layer.id:016x}", want["identification"])
            if "dsmip" in want:
                check(desc, "dsmip", dsmip_in(bytes(pkt[UDP].payload), 20), want["dsmip"])
        elif kind == "tunnel" and want["encapsulation"] == "udp":
            layer = pkt.getlayer(MobileIPTunnelData)
            if layer is None:
                failures.append(f"{desc}: scapy found no MobileIPTunnelData")
                continue
            check(desc, "nexthdr", layer.nexthdr, want["next_header"])
            inner = layer.getlayer(IP)
            check(desc, "inner src", inner.src if inner else None, want["inner_src"])
            check(desc, "inner dst", inner.dst if inner else None, want["inner_dst"])
        elif kind == "tunnel" and want["encapsulation"] == "ipip":
            outer = pkt.getlayer(IP)
            inner = outer.payload if outer is not None else None
            check(desc, "outer proto", outer.proto if outer else None, 4)
            check(desc, "inner src", getattr(inner, "src", None), want["inner_src"])
            check(desc, "inner dst", getattr(inner, "dst", None), want["inner_dst"])
        else:
            continue
        checked += 1
    if checked == 0:
        failures.append("vmroam -> scapy: the generator's capture held no message scapy knows")
    return checked


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    pcap_tool, generator, workdir = sys.argv[1:]
    os.makedirs(workdir, exist_ok=True)
    a = scapy_to_vmroam(pcap_tool, workdir)
    b = vmroam_to_scapy(generator, workdir)
    for f in failures:
        print("FAIL", f)
    print(f"scapy -> vmroam: {a} cases; vmroam -> scapy: {b} frames; {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
