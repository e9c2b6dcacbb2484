#!/usr/bin/env python3
"""Checks the data disk of the storage-migration test (tests/vm/vm_storage_test.sh).

usage: disk_check.py SRC_IMG DST_IMG RANDOM_MIB RANDOM_SHA256 BASE_SECTOR SERIAL...

The disk holds RANDOM_MIB MiB of random data (never written by the guest) and, from
BASE_SECTOR on, the records of tests/vm/guest-disk-writer.sh. SRC_IMG is the image the guest
left (frozen at the switchover), DST_IMG the image it runs on now. Passes when:
  * the random region of both images hashes to RANDOM_SHA256;
  * the records on each image are complete and in order: record n at sector BASE+n, its
    checksum right, epochs never going back; only the very last one on the running image
    may be half-written (it is being written while we read);
  * every record on the source is on the destination byte for byte (the mirror copied it),
    and nothing beyond them on the source (the source stopped writing at the switch);
  * every record the guest acknowledged on its console (after fsync) before we read is on
    the destination: nothing acknowledged is lost.
Prints one JSON line with the counts; exits 1 with the reasons otherwise.
"""
import hashlib
import json
import re
import sys

SECTOR = 512


def records(img, base):
    """(valid records, whether a torn record follows, bad reasons)."""
    out, bad = [], []
    with open(img, "rb") as f:
        f.seek(base * SECTOR)
        n = 0
        while True:
            rec = f.read(SECTOR)
            if len(rec) < SECTOR or rec == b"\0" * SECTOR:
                return out, False, bad
            m = re.match(rb"vmroam-rec (\d+) (\d+) ([0-9a-f]{32}) *\n$", rec)
            ok = m and int(m.group(1)) == n
            if ok:
                payload = b"vmroam-rec %s %s\n" % (m.group(1), m.group(2))
                ok = hashlib.md5(payload).hexdigest().encode() == m.group(3)
            if not ok:
                # A torn record is acceptable only as the last one written.
                nxt = f.read(SECTOR)
                if nxt and nxt != b"\0" * SECTOR:
                    bad.append("record %d is damaged and more follow" % n)
                return out, True, bad
            if out and int(m.group(2)) < out[-1][1]:
                bad.append("record %d goes back in time" % n)
            out.append((rec, int(m.group(2))))
            n += 1


def random_hash(img, mib):
    h = hashlib.sha256()
    with open(img, "rb") as f:
        for _ in range(mib):
            h.update(f.read(1 << 20))
    return h.hexdigest()


def main():
    src, dst, mib, want_hash, base = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
    acked = -1
    for serial in sys.argv[6:]:
        with open(serial, errors="replace") as f:
            for line in f:
                m = re.match(r"vmroam-disk ack (\d+)", line)
                if m:
                    acked = max(acked, int(m.group(1)))
    bad = []
    for name, img in (("source", src), ("destination", dst)):
        if random_hash(img, mib) != want_hash:
            bad.append("the random region of the %s image does not hash to the original" % name)
    src_recs, src_torn, b1 = records(src, base)
    dst_recs, _, b2 = records(dst, base)
    bad += ["source: " + x for x in b1] + ["destination: " + x for x in b2]
    if src_torn:
        bad.append("the source image ends with a torn record (the switch cut a write)")
    if len(dst_recs) < len(src_recs):
        bad.append("the destination has %d records, the source %d" % (len(dst_recs), len(src_recs)))
    for i, (rec, _) in enumerate(src_recs[: len(dst_recs)]):
        if dst_recs[i][0] != rec:
            bad.append("record %d differs between source and destination" % i)
            break
    if len(dst_recs) <= acked:
        bad.append("record %d was acknowledged but the destination has only %d" % (acked, len(dst_recs)))
    print(json.dumps({"source_records": len(src_recs), "destination_records": len(dst_recs),
                      "acknowledged": acked + 1, "random_mib": mib, "ok": not bad}))
    if bad:
        print("disk check: " + "; ".join(bad))
        sys.exit(1)


if __name__ == "__main__":
    main()
