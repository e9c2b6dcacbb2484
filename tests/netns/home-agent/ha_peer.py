#!/usr/bin/python3
"""scapy as the foreign agent(s) talking to a real vmroam-ha (suite 'netns').

Runs inside the foreign-agent namespace (see the drawing in ha_topology.sh); reaches the home
agent's namespace with `ip -n`/`ip netns exec`, its API with curl over the Unix socket.

Subcommands (each prints one line per check and exits 1 on the first failed one):
  registration ENV_JSON   good/forged/replayed/stale/malformed/unknown-VM/lifetime-0, FA switch
                          with revocation, IP-in-IP and UDP tunnelled pings, tshark checks
  storm ENV_JSON STATE N  register 50 VMs as fast as possible, SIGKILL the HA after N requests,
                          write what was sent and what was acknowledged (code 0) to STATE
  verify ENV_JSON STATE   after the restart: every acknowledged binding is there with the
                          care-of address of the request it came from; kernel state == bindings
  lifecycle-register ENV_JSON HOA LIFETIME EXPECT_LIFETIME
                          one proxy registration, expect code 0 and the granted lifetime
  dualstack-register ENV_JSON HOA LIFETIME V6[,V6…] EXPECT_CODE [udp]
                          one proxy registration with RFC 5454 IPv6 Prefix Requests (built here
                          byte by byte); expect the code and, when accepted, one Prefix Reply
                          (code 0, /128) per address before the FA-HA authenticator; with
                          `udp`, RFC 3519 UDP tunnelling forced (extension 144, F = 1)
  send6 ENV_JSON ipip|udp SRC6 DST6 COUNT
                          COUNT ICMPv6 echo requests SRC6 -> DST6 from FA1 to the HA, reverse
                          tunnelled as IPv6-in-IPv4 (protocol 41) or RFC 3519 UDP (Next Header 41)

ENV_JSON names: ha_ns, lan_ns, fa_ns, ha_pid, socket, workdir, ha, fa1, fa2 and the keys.
Only /usr/bin/python3 has scapy.
"""
import hashlib
import hmac
import json
import os
import random
import select
import signal
import socket
import struct
import subprocess
import sys
import time

from scapy.layers.mobileip import MobileIP, MobileIPRRQ, MobileIPRRP

NTP_UNIX_OFFSET = 2208988800  # RFC 5905: 1900-01-01 → 1970-01-01
FLAG_T = 0x02                 # RFC 5944 §3.3 (reverse tunnelling, RFC 3024)
PORT = 434

# ---- Messages ----------------------------------------------------------------------------


def ntp_now(offset_s=0.0):
    """Identification as an NTP timestamp (RFC 5944 §5.7): seconds since 1900 | fraction."""
    t = time.time() + offset_s
    return ((int(t) + NTP_UNIX_OFFSET) << 32) | int((t % 1) * (1 << 32))


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def auth_ext(message, ext_type, spi, key):
    """Type | Length | SPI | HMAC-SHA-256 over everything before it and Type..SPI (RFC 5944 §3.5.1)."""
    head = bytes([ext_type, 4 + 32]) + spi.to_bytes(4, "big")
    return head + hmac.new(key, message + head, "sha256").digest()


def proxy_request(hoa, ha, coa, ident, mac, spi, key, lifetime=300, udp_force=False, v6=()):
    """A PMIPv4 proxy Registration Request as our FA builds it (RFC 5563, docs/protocol.md):
    147 device ID, 47 per-node method FA-HA, [144], 137, [152 per IPv6 home address], then
    FA-HA (34) last."""
    body = bytes(MobileIP(type=1) / MobileIPRRQ(flags=FLAG_T, lifetime=lifetime, homeaddr=hoa,
                                               haaddr=ha, coaddr=coa, id=ident))
    body += bytes([147, 8, 2, 1]) + mac_bytes(mac)            # RFC 5563 §3.2.2 device ID = MAC
    body += bytes([47, 1]) + struct.pack("!H", 1) + bytes([1])  # RFC 5563 §3.1.1 method 1 = FA-HA
    if udp_force:
        # RFC 3519 §3.1: Sub-Type 0 | Reserved1 | F R Reserved2 | Encapsulation 4 | Reserved3
        body += bytes([144, 6, 0, 0, 0x80, 4, 0, 0])
    body += bytes([137, 6]) + struct.pack("!HI", 0, 0)         # RFC 3543 §3.3 revocation support
    for a in v6:  # RFC 5454 §2.1 IPv6 Prefix Request: Sub-Type 1 | Prefix Length 128 | Prefix
        body += bytes([152, 18, 1, 128]) + socket.inet_pton(socket.AF_INET6, a)
    return body + auth_ext(body, 34, spi, key)


def prefix_replies(data):
    """[(code, "address/len")] of the RFC 5454 §2.2 IPv6 Prefix Replies in a reply, read by hand:
    152 | 20 | Sub-Type 2 | Code | Prefix Length | Reserved | Prefix."""
    out = []
    for t, start, end in extensions(data, 20):
        if t == 152 and end - start == 22 and data[start + 2] == 2:
            address = socket.inet_ntop(socket.AF_INET6, data[start + 6:end])
            out.append((data[start + 3], f"{address}/{data[start + 4]}"))
    return out


def extensions(data, offset):
    """[(type, start, end)] of the TLVs from offset (47/36/38 have the long header)."""
    out = []
    while offset < len(data):
        t = data[offset]
        if t in (36, 38, 47):
            if offset + 4 > len(data):
                raise ValueError("truncated long extension")
            end = offset + 4 + struct.unpack("!H", data[offset + 2:offset + 4])[0]
        else:
            if offset + 2 > len(data):
                raise ValueError("truncated extension")
            end = offset + 2 + data[offset + 1]
        if end > len(data):
            raise ValueError(f"extension {t} overruns the message")
        out.append((t, offset, end))
        offset = end
    return out


def verify_fa_ha(data, fixed, spi, key):
    """True when the message carries an FA-HA extension with our SPI whose HMAC verifies."""
    for t, start, end in extensions(data, fixed):
        if t == 34:
            got_spi = struct.unpack("!I", data[start + 2:start + 6])[0]
            want = hmac.new(key, data[:start + 6], "sha256").digest()
            return got_spi == spi and hmac.compare_digest(want, data[start + 6:end])
    return False


def parse_reply(data):
    m = MobileIP(data)
    rrp = m.getlayer(MobileIPRRP)
    if m.type != 3 or rrp is None:
        raise ValueError(f"not a registration reply: type {m.type}")
    return {"code": rrp.code, "lifetime": rrp.lifetime, "hoa": rrp.homeaddr, "ha": rrp.haaddr,
            "id": rrp.id, "ext": [t for t, _, _ in extensions(data, 20)]}


# ---- The world around ----------------------------------------------------------------------


class Checks:
    def __init__(self):
        self.count = 0

    def ok(self, what, cond, detail=""):
        self.count += 1
        if not cond:
            print(f"FAIL {what} {detail}", flush=True)
            sys.exit(1)
        print(f"ok   {what}", flush=True)


def run(*cmd, check=True):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {r.returncode}: {r.stderr}")
    return r.stdout


def api(env, method, path, body=None):
    cmd = ["curl", "-sS", "--max-time", "5", "--unix-socket", env["socket"], "-X", method,
           "-w", "\n%{http_code}", f"http://ha{path}"]
    if body is not None:
        cmd += ["-H", "Content-Type: application/json", "-d", json.dumps(body)]
    out = run(*cmd)
    text, _, status = out.rpartition("\n")
    return int(status), (json.loads(text) if text.strip() else None)


def ha_json(env, *args):
    return json.loads(run("ip", "-n", env["ha_ns"], "-j", *args) or "[]")


def routes(env):
    return sorted((r["dst"], r.get("dev")) for r in ha_json(env, "route", "show", "proto", "186"))


def proxies(env):
    return sorted(n["dst"] for n in ha_json(env, "neigh", "show", "proxy", "dev", "br-home"))


def wait_until(what, fn, timeout):
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def fa_socket(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind((addr, PORT))
    return s


def receive(sock, want_type, timeout, match=lambda d: True):
    """The next datagram of Mobile IP type want_type (others are dropped) within timeout."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        r, _, _ = select.select([sock], [], [], left)
        if not r:
            return None
        data, src = sock.recvfrom(65535)
        if data and data[0] == want_type and match(data):
            return data


class Capture:
    """tcpdump -w in a namespace, stopped with SIGINT; started when it says it listens."""

    def __init__(self, ns, iface, path, filt):
        self.path = path
        self.err = path + ".err"
        with open(self.err, "w") as err:
            self.proc = subprocess.Popen(["ip", "netns", "exec", ns, "tcpdump", "-U", "-n", "-i", iface,
                                          "-w", path, filt], stdout=subprocess.DEVNULL, stderr=err)
        wait_until(f"tcpdump on {iface}", lambda: "listening on" in open(self.err).read(), 10)

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=10)


def tshark(path, display_filter, *fields):
    args = ["tshark", "-n", "-r", path, "-Y", display_filter]
    if fields:
        args += ["-T", "fields"] + [a for f in fields for a in ("-e", f)]
    return [line for line in run(*args).splitlines() if line.strip()]


# ---- Scenarios -----------------------------------------------------------------------------


def scenario_registration(env):
    c = Checks()
    ha, fa1, fa2 = env["ha"], env["fa1"], env["fa2"]
    k1, k2 = bytes.fromhex(env["fa1_key"]), bytes.fromhex(env["fa2_key"])
    s1, s2 = env["fa1_spi"], env["fa2_spi"]
    wrk = env["workdir"]
    hoa, mac = "10.1.0.10", "52:54:00:12:34:56"
    hoa2, mac2 = "10.1.0.11", "52:54:00:12:34:57"
    sock1, sock2 = fa_socket(fa1), fa_socket(fa2)
    wan = Capture(env["fa_ns"], "wan0", f"{wrk}/wan.pcap", "udp port 434 or ip proto 4")
    home = Capture(env["ha_ns"], "br-home", f"{wrk}/home.pcap", "arp")

    for vm_id, a, m in (("vm1", hoa, mac), ("vm2", hoa2, mac2)):
        st, body = api(env, "POST", "/v1/vms", {"id": vm_id, "home_address": a, "mac": m,
                                               "allowed_fas": [fa1, fa2]})
        c.ok(f"API registers {vm_id}", st == 201, f"{st} {body}")

    def exchange(sock, req, who):
        sock.sendto(req, (ha, PORT))
        data = receive(sock, 3, 5)
        if data is None:
            c.ok(f"{who}: a reply arrives", False)
        return data, parse_reply(data)

    # 1. A good registration: code 0, authenticated reply, kernel state, GARP with our MAC.
    ident = ntp_now()
    good = proxy_request(hoa, ha, fa1, ident, mac, s1, k1, lifetime=300)
    raw, rep = exchange(sock1, good, "good")
    c.ok("good: code 0", rep["code"] == 0, rep)
    c.ok("good: lifetime 300 granted", rep["lifetime"] == 300, rep)
    c.ok("good: identification echoed", rep["id"] == ident, rep)
    c.ok("good: reply carries a valid FA-HA authenticator", verify_fa_ha(raw, 20, s1, k1), rep)
    c.ok("good: route 10.1.0.10/32 dev vmr-ha0 proto 186", routes(env) == [(hoa, "vmr-ha0")], routes(env))
    c.ok("good: proxy ARP entry for 10.1.0.10 on br-home", proxies(env) == [hoa], proxies(env))
    ha_mac = run("ip", "-n", env["ha_ns"], "-j", "link", "show", "br-home")
    ha_mac = json.loads(ha_mac)[0]["address"]
    garp = lambda want: tshark(home.path, f"arp.src.proto_ipv4==10.1.0.10 && arp.dst.proto_ipv4==10.1.0.10 "
                                          f"&& arp.src.hw_mac=={want}", "frame.number")
    c.ok(f"good: gratuitous ARP 10.1.0.10 is-at {ha_mac} (the HA) on br-home",
         bool(wait_until("GARP", lambda: garp(ha_mac), 5)))
    st, b = api(env, "GET", f"/v1/bindings/{hoa}")
    c.ok("good: API shows the binding to FA1", st == 200 and b["care_of_address"] == fa1, b)

    # 2. Denials. Replayed: the same bytes again.
    raw, rep = exchange(sock1, good, "replayed")
    c.ok("replayed: code 133", rep["code"] == 133, rep)
    now_s = int(time.time()) + NTP_UNIX_OFFSET
    c.ok("replayed: reply Identification high 32 bits = HA time (RFC 5944 §5.7)",
         abs((rep["id"] >> 32) - now_s) <= 2, f"{rep['id'] >> 32} vs {now_s}")
    c.ok("replayed: low 32 bits are the request's", rep["id"] & 0xffffffff == ident & 0xffffffff)
    # Forged: FA-HA computed with the wrong key.
    raw, rep = exchange(sock1, proxy_request(hoa, ha, fa1, ntp_now(), mac, s1, bytes(32)), "forged")
    c.ok("forged: code 132", rep["code"] == 132, rep)
    # Stale: 60 s old, for a VM with no replay state yet (the window decides, not the order).
    stale_id = ntp_now(-60)
    raw, rep = exchange(sock1, proxy_request(hoa2, ha, fa1, stale_id, mac2, s1, k1), "stale")
    c.ok("stale: code 133", rep["code"] == 133, rep)
    c.ok("stale: high 32 bits are the HA's time, not the request's",
         abs((rep["id"] >> 32) - now_s) <= 2 and (rep["id"] >> 32) != (stale_id >> 32), hex(rep["id"]))
    # Malformed: the FA-HA extension cut short.
    raw, rep = exchange(sock1, proxy_request(hoa, ha, fa1, ntp_now(), mac, s1, k1)[:-10], "malformed")
    c.ok("malformed: code 134", rep["code"] == 134, rep)
    # Unknown VM.
    raw, rep = exchange(sock1, proxy_request("10.1.0.99", ha, fa1, ntp_now(), mac, s1, k1), "unknown VM")
    c.ok("unknown VM: code 129", rep["code"] == 129, rep)
    c.ok("denials changed nothing in the kernel", routes(env) == [(hoa, "vmr-ha0")] and proxies(env) == [hoa])

    # 3. IP-in-IP: a host on the home link pings the VM; proxy ARP pulls it to the HA.
    ping = subprocess.run(["ip", "netns", "exec", env["lan_ns"], "ping", "-c", "3", "-i", "0.2", "-W", "1", hoa],
                          capture_output=True, text=True)
    c.ok("lan host resolved 10.1.0.10 to the HA's MAC (proxy ARP)",
         ha_mac in run("ip", "-n", env["lan_ns"], "neigh", "show", hoa), run("ip", "-n", env["lan_ns"], "neigh"))

    # FA switch: FA2 registers; FA1 gets an authenticated revocation and acks it.
    raw, rep = exchange(sock2, proxy_request(hoa, ha, fa2, ntp_now(), mac, s2, k2), "FA switch")
    c.ok("FA switch: code 0 to FA2", rep["code"] == 0, rep)
    c.ok("FA switch: reply authenticated with FA2's key", verify_fa_ha(raw, 20, s2, k2))
    rev = receive(sock1, 7, 5)
    c.ok("FA switch: Registration Revocation (type 7) arrives at FA1", rev is not None)
    r_hoa, r_hda, r_fda, r_id = struct.unpack("!4s4s4sI", rev[4:20])
    c.ok("revocation: HoA/home domain/foreign domain addresses",
         (socket.inet_ntoa(r_hoa), socket.inet_ntoa(r_hda), socket.inet_ntoa(r_fda)) == (hoa, ha, fa1))
    c.ok("revocation: A flag (sent by the home domain, RFC 3543 §3.1)", struct.unpack("!H", rev[2:4])[0] & 0x8000)
    c.ok("revocation: FA-HA authenticator verifies with FA1's key", verify_fa_ha(rev, 20, s1, k1))
    ack = struct.pack("!BBH4sI", 15, 0, 0, r_hoa, r_id)
    sock1.sendto(ack + auth_ext(ack, 34, s1, k1), (ha, PORT))
    metric = lambda: 'result="revocation_acknowledged"' in api_text(env, "/metrics")
    c.ok("revocation ack accepted by the HA (metrics)", bool(wait_until("ack counted", metric, 5)))
    st, b = api(env, "GET", f"/v1/bindings/{hoa}")
    c.ok("FA switch: binding now to FA2", b["care_of_address"] == fa2, b)
    c.ok("FA switch: no revocation retransmitted after the ack", receive(sock1, 7, 1.5) is None)

    # 3b. UDP tunnelling forced (144 with F): tunnel data as UDP 434 type 4.
    raw, rep = exchange(sock2, proxy_request(hoa, ha, fa2, ntp_now(), mac, s2, k2, udp_force=True), "UDP")
    c.ok("UDP tunnelling: code 0 with a UDP tunnel reply extension (44)", rep["code"] == 0 and 44 in rep["ext"], rep)
    subprocess.run(["ip", "netns", "exec", env["lan_ns"], "ping", "-c", "3", "-i", "0.2", "-W", "1", hoa],
                   capture_output=True)
    # 2b. Lifetime 0: deregistration; everything goes; GARP with the VM's own MAC. The home-link
    # host plays a VM coming home that holds a foreign agent's MAC for its gateway (as after the
    # FA's garp mode): the HA's announcement of 10.1.0.1 must replace it.
    run("ip", "-n", env["lan_ns"], "neigh", "replace", "10.1.0.1", "lladdr", "02:00:0a:02:00:01",
        "dev", "eth0", "nud", "reachable")
    raw, rep = exchange(sock2, proxy_request(hoa, ha, fa2, ntp_now(), mac, s2, k2, lifetime=0), "lifetime 0")
    c.ok("lifetime 0: code 0", rep["code"] == 0, rep)
    st, _ = api(env, "GET", f"/v1/bindings/{hoa}")
    c.ok("lifetime 0: binding gone (404)", st == 404, st)
    c.ok("lifetime 0: route gone", routes(env) == [], routes(env))
    c.ok("lifetime 0: proxy entry gone", proxies(env) == [], proxies(env))
    c.ok(f"lifetime 0: gratuitous ARP 10.1.0.10 is-at {mac} (the VM's own)",
         bool(wait_until("GARP home", lambda: garp(mac), 5)))
    # ... and the HA's own address in the VM's subnet (its gateway), for a VM whose entry for it
    # is INCOMPLETE or names a foreign agent's MAC (docs/home-agent.md).
    gw = lambda: tshark(home.path, f"arp.src.proto_ipv4==10.1.0.1 && arp.dst.proto_ipv4==10.1.0.1 "
                                   f"&& arp.src.hw_mac=={ha_mac}", "frame.number")
    c.ok(f"lifetime 0: gratuitous ARP 10.1.0.1 is-at {ha_mac} (the gateway, re-announced)",
         bool(wait_until("GARP gateway", gw, 5)))
    lan_gw = lambda: json.loads(run("ip", "-n", env["lan_ns"], "-j", "neigh", "show", "10.1.0.1", "dev", "eth0"))
    c.ok(f"lifetime 0: the home-link host's entry for 10.1.0.1 is {ha_mac} again",
         bool(wait_until("gateway entry", lambda: [n for n in lan_gw() if n.get("lladdr") == ha_mac], 5)), lan_gw())
    wan.stop()
    home.stop()

    # Captured tunnel traffic, read by tshark.
    ipip = tshark(wan.path, "ip.proto==4 && icmp.type==8", "ip.src", "ip.dst", "ip.proto")
    c.ok("IP-in-IP: echo requests captured at the FA", len(ipip) >= 3, ipip)
    first = ipip[0].split("\t")
    c.ok(f"IP-in-IP: outer {ha} -> {fa1} proto 4, inner 10.1.0.20 -> 10.1.0.10",
         first[0] == f"{ha},10.1.0.20" and first[1] == f"{fa1},{hoa}" and first[2].startswith("4"), first)
    udp = tshark(wan.path, "mip.nattt.nexthdr && icmp.type==8", "ip.src", "ip.dst", "mip.type", "mip.nattt.nexthdr")
    c.ok("UDP tunnel: echo requests as UDP 434 type 4 to FA2", len(udp) >= 3, udp)
    first = udp[0].split("\t")
    c.ok(f"UDP tunnel: outer {ha} -> {fa2}, type 4, next header 4, inner dst 10.1.0.10",
         first[0] == f"{ha},10.1.0.20" and first[1] == f"{fa2},{hoa}" and first[2] == "4" and first[3] == "4", first)
    mip_count = len(tshark(wan.path, "mip"))
    bad = tshark(wan.path, f"ip.src=={ha} && (_ws.malformed || _ws.expert.severity >= error)")
    c.ok(f"tshark: none of the HA's packets ({mip_count} Mobile IP in the capture) is malformed", bad == [], bad)
    bad = tshark(home.path, "_ws.malformed || _ws.expert.severity >= error")
    c.ok("tshark: gratuitous ARPs well formed", bad == [], bad)
    print(f"{c.count} checks passed")


def api_text(env, path):
    return run("curl", "-sS", "--max-time", "5", "--unix-socket", env["socket"], f"http://ha{path}")


STORM_VMS = 50


def storm_vm(i):
    return f"10.1.0.{100 + i}", f"52:54:00:00:01:{i:02x}"


def scenario_storm(env, state_path, kill_after):
    """Registrations as fast as we can for STORM_VMS VMs, each to a random FA; SIGKILL the HA
    right after request number kill_after (so some are in flight); keep reading replies that
    were already on their way, then write what was sent and acknowledged."""
    ha = env["ha"]
    fas = [(env["fa1"], env["fa1_spi"], bytes.fromhex(env["fa1_key"])),
           (env["fa2"], env["fa2_spi"], bytes.fromhex(env["fa2_key"]))]
    socks = {fa[0]: fa_socket(fa[0]) for fa in fas}
    state = {"sent": {}, "acked": {}}
    if os.path.exists(state_path):
        with open(state_path) as f:
            state = json.load(f)
    sent, acked = state["sent"], state["acked"]   # hoa -> {hex id: coa}; hoa -> hex id
    last = {h: max(int(i, 16) for i in ids) for h, ids in sent.items()}
    n, killed, t0 = 0, None, time.monotonic()
    answered = set()  # (hoa, id) of this storm's requests that got any reply

    def drain(timeout):
        r, _, _ = select.select(list(socks.values()), [], [], timeout)
        for s in r:
            while True:
                try:
                    data = s.recv(65535, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    break
                if data and data[0] == 3:
                    rep = parse_reply(data)
                    key = f"{rep['id']:016x}"
                    answered.add((rep["hoa"], key))
                    if rep["code"] == 0 and key in sent.get(rep["hoa"], {}):
                        if rep["hoa"] not in acked or int(acked[rep["hoa"]], 16) < rep["id"]:
                            acked[rep["hoa"]] = key
        return bool(r)

    while killed is None:
        for i in range(STORM_VMS):
            hoa, mac = storm_vm(i)
            coa, spi, key = random.choice(fas)
            ident = max(last.get(hoa, 0) + 1, ntp_now())
            last[hoa] = ident
            sent.setdefault(hoa, {})[f"{ident:016x}"] = coa
            socks[coa].sendto(proxy_request(hoa, ha, coa, ident, mac, spi, key, lifetime=600), (ha, PORT))
            n += 1
            if n == kill_after:
                os.kill(env["ha_pid"], signal.SIGKILL)
                killed = time.monotonic()
                break
            if n % 10 == 0:
                drain(0)
        drain(0.002)
    # Replies the HA sent before it died are still in our socket buffers.
    while drain(0.3):
        pass
    state["sent"], state["acked"] = sent, acked
    with open(state_path, "w") as f:
        json.dump(state, f)
    rate = n / max(killed - t0, 1e-6)
    print(f"storm: {n} requests in {killed - t0:.2f} s ({rate:.0f}/s), {len(answered)} answered, "
          f"{n - len(answered)} unanswered when SIGKILL came after request {kill_after}; "
          f"{len(acked)} VMs with an acknowledged binding", flush=True)


def scenario_verify(env, state_path):
    c = Checks()
    with open(state_path) as f:
        state = json.load(f)
    sent, acked = state["sent"], state["acked"]
    st, bindings = api(env, "GET", "/v1/bindings")
    c.ok("GET /v1/bindings answers", st == 200, st)
    if isinstance(bindings, dict):
        bindings = bindings.get("bindings", bindings)
    by_hoa = {b["home_address"]: b for b in bindings}
    lost, wrong = [], []
    for hoa, ident in acked.items():
        b = by_hoa.get(hoa)
        if b is None:
            lost.append(hoa)
            continue
        got = int(b["identification"], 16)
        # Acknowledged means committed; a later request may have been committed but not yet
        # answered when the HA died, so the binding is the acknowledged one or a newer one —
        # and its care-of address is the one that very request named.
        if got < int(ident, 16) or b["care_of_address"] != sent[hoa].get(b["identification"][2:]):
            wrong.append((hoa, ident, b["identification"], b["care_of_address"]))
    newer = sum(1 for h, i in acked.items() if h in by_hoa and by_hoa[h]["identification"][2:] != i)
    c.ok(f"every acknowledged binding survived ({len(acked)}; {newer} hold a newer request that was "
         f"committed but not answered before the kill)", not lost, lost)
    c.ok("each with the care-of address of its newest committed request", not wrong, wrong[:5])
    unexplained = [h for h, b in by_hoa.items() if b["identification"][2:] not in sent.get(h, {})]
    c.ok("no binding that we never requested", not unexplained, unexplained)
    want = sorted(by_hoa)
    got_routes = routes(env)
    c.ok("routes proto 186 == bindings, all dev vmr-ha0",
         sorted(r[0] for r in got_routes) == want and all(r[1] == "vmr-ha0" for r in got_routes),
         f"{len(got_routes)} routes, {len(want)} bindings")
    got_proxies = proxies(env)
    c.ok("proxy entries on br-home == bindings (the stray one is gone)", got_proxies == want,
         sorted(set(got_proxies) ^ set(want)))
    print(f"verify: {len(by_hoa)} bindings, {len(acked)} acknowledged, {c.count} checks passed", flush=True)


def scenario_lifecycle_register(env, hoa, lifetime, expect):
    c = Checks()
    mac = env["mac"]
    sock = fa_socket(env["fa1"])
    sock.sendto(proxy_request(hoa, env["ha"], env["fa1"], ntp_now(), mac, env["fa1_spi"],
                              bytes.fromhex(env["fa1_key"]), lifetime=lifetime), (env["ha"], PORT))
    data = receive(sock, 3, 5)
    c.ok("a reply arrives", data is not None)
    rep = parse_reply(data)
    c.ok(f"code 0, lifetime {expect} granted (asked {lifetime})",
         rep["code"] == 0 and rep["lifetime"] == expect, rep)


def scenario_send6(env, mode, src6, dst6, count):
    """Reverse-tunnelled IPv6 as a foreign agent sends it (RFC 3024, RFC 5454 §4.3)."""
    from scapy.all import IP, UDP, IPv6, ICMPv6EchoRequest, Raw, send
    for seq in range(count):
        inner = IPv6(src=src6, dst=dst6, hlim=64) / ICMPv6EchoRequest(id=0x6464, seq=seq, data=b"vmroam-v6")
        if mode == "udp":
            # RFC 3519 §3.3: Type 4 | Next Header 41 (IPv6) | Reserved
            outer = IP(src=env["fa1"], dst=env["ha"]) / UDP(sport=PORT, dport=PORT) / Raw(b"\x04\x29\x00\x00" + bytes(inner))
        else:
            outer = IP(src=env["fa1"], dst=env["ha"], proto=41) / inner
        send(outer, verbose=False)
    print(f"ok   sent {count} {mode}-tunnelled IPv6 packets {src6} -> {dst6}", flush=True)


def scenario_dualstack_register(env, hoa, lifetime, v6, expect_code, udp=False):
    """One proxy registration carrying IPv6 home addresses; the HA's code, and on acceptance
    the Prefix Replies echoing each address (code 0, /128), covered by FA-HA."""
    c = Checks()
    key = bytes.fromhex(env["fa1_key"])
    addresses = [a for a in v6.split(",") if a]
    sock = fa_socket(env["fa1"])
    sock.sendto(proxy_request(hoa, env["ha"], env["fa1"], ntp_now(), env["mac"], env["fa1_spi"], key,
                              lifetime=lifetime, udp_force=udp, v6=addresses), (env["ha"], PORT))
    data = receive(sock, 3, 5)
    c.ok("a reply arrives", data is not None)
    rep = parse_reply(data)
    c.ok(f"code {expect_code}", rep["code"] == expect_code, rep)
    c.ok("the reply verifies with the FA-HA key", verify_fa_ha(data, 20, env["fa1_spi"], key))
    want = [(0, a + "/128") for a in addresses] if expect_code == 0 and lifetime else []
    c.ok(f"Prefix Replies {want}", prefix_replies(data) == want, prefix_replies(data))


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[2]) as f:
        env = json.load(f)
    cmd = sys.argv[1]
    if cmd == "registration":
        scenario_registration(env)
    elif cmd == "storm":
        scenario_storm(env, sys.argv[3], int(sys.argv[4]))
    elif cmd == "verify":
        scenario_verify(env, sys.argv[3])
    elif cmd == "dualstack-register":
        scenario_dualstack_register(env, sys.argv[3], int(sys.argv[4]), sys.argv[5], int(sys.argv[6]),
                                    udp=len(sys.argv) > 7 and sys.argv[7] == "udp")
    elif cmd == "send6":
        scenario_send6(env, sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
    elif cmd == "lifecycle-register":
        scenario_lifecycle_register(env, sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
