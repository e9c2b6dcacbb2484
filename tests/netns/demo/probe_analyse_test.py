#!/usr/bin/python3
"""Unit test (suite 'unit') for `vmroam-probe analyse`: per-move windows, losses, the longest
silence, handover marks and the verdict, on synthetic samples with known answers.

Table-driven: each case is {description, pings (sent, received-or-None, relative), marks,
tcp error, expected per-move (sent, lost, max_gap_ms), expected exit status}; dual-stack cases
add the same for IPv6 (pings6, tcp6 error, expected6: sent_v6, lost_v6, max_gap_v6_ms)."""
import json
import os
import subprocess
import sys
import tempfile

PROBE = sys.argv[1]
T0 = 1_700_000_000.0


def pings(n, interval=0.01, rtt=0.008, lost=()):
    return [[T0 + i * interval, None if i in lost else T0 + i * interval + rtt] for i in range(n)]


CASES = [
    {"description": "no loss: 100 pings per move, silence = one interval",
     "pings": pings(300), "marks": [(0.0, "home", "foreign", 12.5), (1.0, "foreign", "foreign2", 20.0),
                                    (2.0, "foreign2", "home", None)],
     "tcp_error": None,
     "expected": [(100, 0, 10.0), (100, 0, 10.0), (100, 0, 10.0)], "status": 0},
    {"description": "5 pings lost in the second move: silence 60 ms there, nowhere else",
     "pings": pings(300, lost=range(150, 155)), "marks": [(0.0, "home", "foreign", None),
                                                          (1.0, "foreign", "foreign2", None),
                                                          (2.0, "foreign2", "home", None)],
     "tcp_error": None,
     "expected": [(100, 0, 10.0), (100, 5, 60.0), (100, 0, 10.0)], "status": 0,
     "losses": [{"family": "ipv4", "from_s": 1.5, "to_s": 1.54, "lost": 5,
                 "during": "move foreign -> foreign2: after the move"}]},
    # Boundary at the move mark (1 ms before the 100th ping): last reply before the loss at
    # 0.948 s -> 51 ms in the first window; next reply (ping 105) at 1.058 s -> 59 ms in the second.
    {"description": "a silence across a window boundary is split between the two moves",
     "pings": pings(300, lost=range(95, 105)), "marks": [(0.0, "home", "foreign", None),
                                                         (1.0, "foreign", "foreign2", None),
                                                         (2.0, "foreign2", "home", None)],
     "tcp_error": None,
     "expected": [(100, 5, 51.0), (100, 5, 59.0), (100, 0, 10.0)], "status": 0},
    # Last reply at 2.498 s, last ping sent at 2.990 s: a silence of 492 ms up to the end.
    {"description": "unreachable at the end: exit 1",
     "pings": pings(300, lost=range(250, 300)), "marks": [(0.0, "home", "foreign", None),
                                                          (1.0, "foreign", "foreign2", None),
                                                          (2.0, "foreign2", "home", None)],
     "tcp_error": None,
     "expected": [(100, 0, 10.0), (100, 0, 10.0), (100, 50, 492.0)], "status": 1},
    # Move marks at 0.999 s (link 1.1 s), 1.999 s and 2.499 s: pings 50-59 are lost before the
    # first move, 102-104 while it migrates; both in the first window (from the first ping).
    {"description": "losses before the first move and while migrating are told apart",
     "pings": pings(300, lost=list(range(50, 60)) + list(range(102, 105))),
     "marks": [(1.0, "home", "foreign", None), (2.0, "foreign", "foreign2", None), (2.5, "foreign2", "home", None)],
     "tcp_error": None,
     "expected": [(200, 13, 110.0), (50, 0, 10.0), (50, 0, 10.0)], "status": 0,
     "losses": [{"family": "ipv4", "from_s": 0.5, "to_s": 0.59, "lost": 10, "during": "before the first move"},
                {"family": "ipv4", "from_s": 1.02, "to_s": 1.04, "lost": 3,
                 "during": "move home -> foreign: migrating"}]},
    {"description": "TCP stream broken: exit 1 although every ping came back",
     "pings": pings(300), "marks": [(0.0, "home", "foreign", None), (1.0, "foreign", "foreign2", None),
                                    (2.0, "foreign2", "home", None)],
     "tcp_error": "stalled: message 3 not echoed after 2.0 s",
     "expected": [(100, 0, 10.0), (100, 0, 10.0), (100, 0, 10.0)], "status": 1},
]

# Dual-stack samples (pings6/tcp6, `vmroam-probe run --target6`): each family is judged on its
# own, and the verdict needs both.
MARKS3 = [(0.0, "home", "foreign", None), (1.0, "foreign", "foreign2", None), (2.0, "foreign2", "home", None)]
CASES += [
    {"description": "dual stack: 3 IPv6 pings lost in the second move, IPv4 clean",
     "pings": pings(300), "marks": MARKS3, "tcp_error": None,
     "pings6": pings(300, rtt=0.009, lost=range(150, 153)), "tcp6_error": None,
     "expected": [(100, 0, 10.0), (100, 0, 10.0), (100, 0, 10.0)],
     "expected6": [(100, 0, 10.0), (100, 3, 40.0), (100, 0, 10.0)], "status": 0,
     "losses": [{"family": "ipv6", "from_s": 1.5, "to_s": 1.52, "lost": 3,
                 "during": "move foreign -> foreign2: after the move"}]},
    {"description": "dual stack: the IPv6 TCP stream broke: exit 1 although IPv4 is clean",
     "pings": pings(300), "marks": MARKS3, "tcp_error": None,
     "pings6": pings(300), "tcp6_error": "recv: [Errno 104] Connection reset by peer",
     "expected": [(100, 0, 10.0), (100, 0, 10.0), (100, 0, 10.0)],
     "expected6": [(100, 0, 10.0), (100, 0, 10.0), (100, 0, 10.0)], "status": 1},
    {"description": "dual stack: unreachable over IPv6 at the end: exit 1",
     "pings": pings(300), "marks": MARKS3, "tcp_error": None,
     "pings6": pings(300, lost=range(250, 300)), "tcp6_error": None,
     "expected": [(100, 0, 10.0), (100, 0, 10.0), (100, 0, 10.0)],
     "expected6": [(100, 0, 10.0), (100, 0, 10.0), (100, 50, 492.0)], "status": 1},
]


def tcp_samples(error):
    return {"sent": [T0], "echoed": [T0 + 0.01] if not error else [], "error": error, "survived": error is None}


def per_family(res, suffix):
    return [(m["sent" + suffix], m["lost" + suffix], round(m["max_gap%s_ms" % suffix])) for m in res["moves"]]


failures = 0
for case in CASES:
    with tempfile.TemporaryDirectory() as d:
        samples = {"target": "10.1.0.10", "interval_ms": 10.0, "pings": case["pings"],
                   "tcp": tcp_samples(case["tcp_error"])}
        dual = "pings6" in case
        if dual:
            samples.update({"target6": "2001:db8:1::10", "pings6": case["pings6"],
                            "tcp6": tcp_samples(case["tcp6_error"])})
        with open(os.path.join(d, "samples.json"), "w") as f:
            json.dump(samples, f)
        with open(os.path.join(d, "marks"), "w") as f:
            for off, frm, to, ho in case["marks"]:
                f.write("%.6f move from=%s to=%s\n" % (T0 + off - 0.001, frm, to))
                f.write("%.6f link\n" % (T0 + off + 0.1))
                if ho is not None:
                    f.write("%.6f handover ms=%s\n" % (T0 + off + 0.2, ho))
        r = subprocess.run([PROBE, "analyse", "--samples", os.path.join(d, "samples.json"),
                            "--marks", os.path.join(d, "marks"), "--out", d],
                           capture_output=True, text=True)
        res = json.load(open(os.path.join(d, "demo-result.json")))
        got = per_family(res, "")
        want = [(s, l, round(g)) for s, l, g in case["expected"]]
        if dual:
            got += per_family(res, "_v6")
            want += [(s, l, round(g)) for s, l, g in case["expected6"]]
        handovers = [m["handover_ms"] for m in res["moves"]]
        want_ho = [c[3] for c in case["marks"]]
        # Every case without losses listed has none; a broken stream's stall began at its
        # only message (sent at T0).
        want_losses = case.get("losses", [] if not any(l for _, l, _ in want) else None)
        unechoed = None if case["tcp_error"] is None else 0.0
        ok = (got == want and r.returncode == case["status"] and handovers == want_ho
              and (want_losses is None or res["losses"] == want_losses)
              and res["tcp_first_unechoed_s"] == unechoed
              and res["tcp_stream_survived"] == (case["tcp_error"] is None)
              and all(m["vm_pause_ms"] is None for m in res["moves"]) and res["vm"] == "namespace"
              and res["dual_stack"] == dual
              and (not dual or res["tcp6_stream_survived"] == (case["tcp6_error"] is None))
              and (dual or all("sent_v6" not in m for m in res["moves"])))
        print("%s: %s" % ("ok  " if ok else "FAIL", case["description"]))
        if not ok:
            failures += 1
            print("   got %s status %d handovers %s losses %s; want %s status %d handovers %s losses %s\n%s" % (
                got, r.returncode, handovers, res["losses"], want, case["status"], want_ho, want_losses,
                r.stderr))
sys.exit(1 if failures else 0)
