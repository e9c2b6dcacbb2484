#!/usr/bin/python3
"""dist/libvirt-qemu-hook against a fake vmroamctl that records its argv and answers like the FA.

Table-driven: {description, hook args, domain XML, fake visitor state, expected exit,
expected vmroamctl calls}. Run: ctl_libvirt_hook_test.py HOOK
"""
import json
import os
import subprocess
import sys
import tempfile

HOOK = sys.argv[1]

META = """<metadata><vmroam:vm xmlns:vmroam="urn:vmroam:libvirt:1">
  <vmroam:home_address>10.1.0.10</vmroam:home_address>
  <vmroam:home_gateway>10.1.0.1</vmroam:home_gateway>
  <vmroam:home_gateway_mac>02:00:0a:01:00:01</vmroam:home_gateway_mac>
  <vmroam:home_agent>192.0.2.1</vmroam:home_agent>
  {extra}
</vmroam:vm></metadata>"""


def domain(meta="", mac="52:54:00:12:34:56"):
    iface = '<interface type="bridge"><mac address="%s"/></interface>' % mac if mac else ""
    return "<domain type='kvm'><name>web1</name>%s<devices>%s</devices></domain>" % (meta, iface)


FAKE = """#!/bin/sh
echo "$*" >> "$CALLS"
case "$*" in
  *"visitor show"*) [ -n "$STATE" ] || exit 1; echo "{\\"id\\": \\"web1\\", \\"state\\": \\"$STATE\\"}" ;;
  *prepare*) [ -z "$FAIL_PREPARE" ] || { echo "conflict: visitor web1 exists" >&2; exit 1; } ;;
esac
exit 0
"""

CASES = [
    ("migrate begin prepares with the first interface's MAC",
     ["web1", "migrate", "begin", "-"], domain(META.format(extra="")), "", 0,
     ["move prepare web1 mac=52:54:00:12:34:56 home_address=10.1.0.10 home_gateway=10.1.0.1 "
      "home_gateway_mac=02:00:0a:01:00:01 home_agent=192.0.2.1"]),
    ("explicit id, mac, lifetime and encapsulation win",
     ["web1", "migrate", "begin", "-"],
     domain(META.format(extra="<vmroam:id>vm7</vmroam:id><vmroam:mac>52:54:00:00:00:07</vmroam:mac>"
                              "<vmroam:lifetime>300</vmroam:lifetime><vmroam:encapsulation>udp</vmroam:encapsulation>")),
     "", 0,
     ["move prepare vm7 mac=52:54:00:00:00:07 home_address=10.1.0.10 home_gateway=10.1.0.1 "
      "home_gateway_mac=02:00:0a:01:00:01 home_agent=192.0.2.1 lifetime=300 encapsulation=udp"]),
    ("a domain without metadata is left alone", ["web1", "migrate", "begin", "-"], domain(), "", 0, []),
    ("incomplete metadata refuses the migration",
     ["web1", "migrate", "begin", "-"],
     domain('<metadata><vmroam:vm xmlns:vmroam="urn:vmroam:libvirt:1"><vmroam:home_address>10.1.0.10'
            '</vmroam:home_address></vmroam:vm></metadata>'), "", 1, []),
    ("no MAC anywhere refuses the migration", ["web1", "migrate", "begin", "-"],
     domain(META.format(extra=""), mac=""), "", 1, []),
    ("a failed prepare refuses the migration", ["web1", "migrate", "begin", "-"],
     domain(META.format(extra="")), "FAIL", 1, None),
    ("other phases do nothing", ["web1", "start", "begin", "-"], domain(META.format(extra="")), "", 0, []),
    ("release of a prepared visitor aborts it", ["web1", "release", "end", "-"], domain(META.format(extra="")),
     "prepared", 0, ["--json visitor show web1", "move abort web1"]),
    ("release of an active visitor departs it", ["web1", "release", "end", "-"], domain(META.format(extra="")),
     "active", 0, ["--json visitor show web1", "move depart web1"]),
    ("release with no visitor does nothing more", ["web1", "release", "end", "-"], domain(META.format(extra="")),
     "", 0, ["--json visitor show web1"]),
]

failed = 0
with tempfile.TemporaryDirectory() as tmp:
    fake = os.path.join(tmp, "vmroamctl")
    with open(fake, "w") as f:
        f.write(FAKE)
    os.chmod(fake, 0o755)
    for desc, args, xml, state, want_rc, want_calls in CASES:
        calls = os.path.join(tmp, "calls")
        if os.path.exists(calls):
            os.remove(calls)
        env = dict(os.environ, VMROAMCTL=fake, CALLS=calls, STATE="" if state == "FAIL" else state,
                   FAIL_PREPARE="1" if state == "FAIL" else "")
        r = subprocess.run([HOOK] + args, input=xml, text=True, capture_output=True, env=env)
        got = open(calls).read().splitlines() if os.path.exists(calls) else []
        ok = r.returncode == want_rc and (want_calls is None or got == want_calls) and r.stdout == ""
        if not ok:
            failed += 1
            print("FAIL: %s\n  rc %d (want %d)\n  calls %s\n  want  %s\n  stderr %s" %
                  (desc, r.returncode, want_rc, got, want_calls, r.stderr.strip()))
        else:
            print("ok: " + desc)
print("%d of %d failed" % (failed, len(CASES)))
sys.exit(1 if failed else 0)
