#!/usr/bin/python3
"""tshark as the wire oracle (suite 'tshark').

The oracle generator (tests/oracle/oracle_capture.cpp, built on common/wire and common/auth)
writes a capture of every message kind we build and a JSON of the field values it wrote.
Wireshark's dissectors are independent of our code; this script asserts that

  1. every expected field (Wireshark filter names: mip.*, icmp.mip.*, arp.*, ip.*) reads back
     as written, in order when it occurs more than once in a frame. Values compare as numbers
     when both sides are numbers ("0x02" == 2), else as text, byte fields without colons, and
     mip.ident by its raw bytes (Wireshark shows it as an NTP date);
  2. no frame is malformed or has an expert error, with IP, UDP and ICMP checksum
     validation switched on;
  3. the capture holds exactly the frames the generator listed.

Usage: tshark_oracle.py ORACLE_GENERATOR WORKDIR     (stdlib only; /usr/bin/python3)
"""
import json
import os
import subprocess
import sys

# Checksum validation is off by default in Wireshark; we want it to judge ours.
PREFS = ["-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"]
# Fields compared by raw bytes rather than by their display.
RAW_FIELDS = {"mip.ident"}


def tshark(*args):
    return subprocess.run(["tshark", *PREFS, *args], check=True, capture_output=True, text=True).stdout


def collect(node, fields):
    """Walks tshark's -T json -x tree (kept as lists of pairs, since keys repeat) and
    gathers every field's displays and raw hex values in tree order."""
    if isinstance(node, list) and all(isinstance(p, tuple) and len(p) == 2 for p in node):
        for key, value in node:
            if key.endswith("_raw"):
                raws = value if value and isinstance(value[0], list) else [value]
                for r in raws:
                    if r and isinstance(r[0], str):
                        fields.setdefault(key[:-4], {"display": [], "raw": []})["raw"].append(r[0])
            elif isinstance(value, str):
                fields.setdefault(key, {"display": [], "raw": []})["display"].append(value)
            elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
                fields.setdefault(key, {"display": [], "raw": []})["display"].extend(value)
            else:
                collect(value, fields)
    elif isinstance(node, list):
        for item in node:
            collect(item, fields)


def as_number(v):
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, str):
        s = v.strip()
        if s in ("True", "False"):
            return int(s == "True")
        try:
            return int(s, 0)
        except ValueError:
            return None
    return None


def matches(want, got):
    wn, gn = as_number(want), as_number(got)
    if wn is not None and gn is not None:
        return wn == gn
    w, g = str(want).lower(), str(got).lower()
    return w == g or w == g.replace(":", "")


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    generator, workdir = sys.argv[1:]
    os.makedirs(workdir, exist_ok=True)
    pcap = os.path.join(workdir, "oracle.pcap")
    expected_path = os.path.join(workdir, "oracle.json")
    subprocess.run([generator, pcap, expected_path], check=True)
    with open(expected_path) as f:
        expected = json.load(f)

    tree = json.loads(tshark("-r", pcap, "-T", "json", "-x"), object_pairs_hook=lambda pairs: pairs)
    frames = {}
    for packet in tree:
        fields = {}
        collect(packet, fields)
        number = int(fields["frame.number"]["display"][0])
        frames[number] = fields

    failures = []
    checked = 0
    if len(frames) != len(expected):
        failures.append(f"capture has {len(frames)} frames, generator listed {len(expected)}")
    for want in expected:
        n = want["frame"]
        desc = f"frame {n} ({want['description']})"
        got = frames.get(n)
        if got is None:
            failures.append(f"{desc}: tshark did not show it")
            continue
        for field, value in want.get("tshark", {}).items():
            values = value if isinstance(value, list) else [value]
            seen = got.get(field, {"display": [], "raw": []})
            actual = seen["raw"] if field in RAW_FIELDS else seen["display"]
            if len(actual) != len(values) or not all(matches(w, g) for w, g in zip(values, actual)):
                failures.append(f"{desc}: {field}: tshark {actual}, wrote {values}")
            checked += 1

    bad = tshark("-r", pcap, "-Y", "_ws.malformed || _ws.expert.severity >= error").strip()
    if bad:
        failures.append("malformed or expert errors:\n" + bad)

    for f in failures:
        print("FAIL", f)
    print(f"tshark oracle: {len(expected)} frames, {checked} fields compared, {len(failures)} failures")
    return 1 if failures or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
