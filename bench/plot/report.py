#!/usr/bin/python3
"""Benchmark results: check one run's JSON, aggregate repeated runs, print the table, draw the
plot (gnuplot, bench/plot/bars.gp) and keep the table in docs/performance.md. Used by
bench/run.sh; the JSON conventions it checks are in bench/README.md.

  report.py check RUN.json                       exit 0 if the run follows the conventions
  report.py aggregate NAME OUTDIR RUN.json...    OUTDIR/NAME.json (+ .dat, .png/.svg), table on stdout
  report.py docs DOC OUTDIR MACHINE              rewrite the sections of DOC's generated block that
                                                 OUTDIR/*.json has results for (the others stay)
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BEGIN = "<!-- bench/run.sh: begin generated results -->"
END = "<!-- bench/run.sh: end generated results -->"


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def problems(doc):
    """What is wrong with one run's output (empty list: nothing)."""
    if not isinstance(doc, dict):
        return ["top level is not a JSON object"]
    out = []
    if not isinstance(doc.get("benchmark"), str) or not doc["benchmark"]:
        out.append('"benchmark" must be a non-empty string')
    rows = doc.get("results")
    if not isinstance(rows, list) or not rows:
        out.append('"results" must be a non-empty list')
    else:
        # A row may have no number at all (e.g. a mode that failed in this run: its fields
        # are null and the report shows "n/a"), but the run as a whole must measure something.
        for i, r in enumerate(rows):
            if not isinstance(r, dict) or not r:
                out.append(f"results[{i}] must be a non-empty object")
        if not out and not any(is_number(v) for r in rows for v in r.values()):
            out.append('"results" must hold at least one number')
    return out


def load(path):
    with open(path) as f:
        text = f.read()
    return json.loads(text)


def key_of(doc):
    rows = doc["results"]
    return doc.get("key") or next(iter(rows[0]))


def summary_fields(doc, key, runs=None):
    """The table's columns: `summary` if given, else every field that is a number in some row
    of some run. A field that is null in every run stays in (its cells read "n/a")."""
    wanted = doc.get("summary")
    numeric, present = [], set()
    for d in runs or [doc]:
        for r in d["results"]:
            for k, v in r.items():
                if k == key:
                    continue
                if is_number(v) or v is None:
                    present.add(k)
                if is_number(v) and k not in numeric:
                    numeric.append(k)
    if isinstance(wanted, list):
        return [f for f in wanted if f in present]
    return numeric


def aggregate(name, outdir, paths):
    runs = []
    for p in paths:
        try:
            d = load(p)
        except (OSError, ValueError):
            continue
        if not problems(d):
            runs.append(d)
    if not runs:
        return None
    first = runs[-1]
    key = key_of(first)
    rows = []
    for i in range(max(len(r["results"]) for r in runs)):
        # Row i of every run that has one, the latest first (its labels win).
        mine = [r["results"][i] for r in reversed(runs) if i < len(r["results"])]
        fields = []
        for r in mine:
            fields += [k for k in r if k not in fields]
        row = {}
        for k in fields:
            # Only the runs that have a number for this field count: a null (or a missing
            # field) in one run must not break the median of the others.
            vals = [r[k] for r in mine if is_number(r.get(k))]
            if k == key or not vals:
                row[k] = next((r[k] for r in mine if r.get(k) is not None), None)
                continue
            med = statistics.median(vals)
            row[k] = {"median": med, "min": min(vals), "max": max(vals), "n": len(vals),
                      "spread_pct": (max(vals) - min(vals)) / abs(med) * 100 if med else 0.0}
        rows.append(row)
    date = first.get("date") or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    agg = {"benchmark": name, "date": date, "machine": first.get("machine"),
           "runs": len(runs), "key": key, "summary": summary_fields(first, key, runs),
           "targets": first.get("targets"), "rows": rows, "last_run": first}
    with open(os.path.join(outdir, name + ".json"), "w") as f:
        json.dump(agg, f, indent=1)
        f.write("\n")
    plot(agg, outdir, first.get("plot") or {})
    return agg


def fmt(v):
    """A cell: median ±half the spread; "n/a" when no run had a number (null); "" when the
    row does not have the field at all (not applicable)."""
    if v is None:
        return "n/a"
    if isinstance(v, dict):
        m = v["median"]
        s = f"{m:.3g}" if abs(m) < 1000 else f"{m:.0f}"
        return f"{s} ±{v['spread_pct'] / 2:.0f}%" if v["n"] > 1 else s
    if is_number(v):
        return f"{v:.3g}" if isinstance(v, float) else str(v)
    return str(v)


def table(agg, markdown):
    key = agg["key"]
    cols = [key] + agg["summary"]
    lines = [[fmt(r[c]) if c in r else "" for c in cols] for r in agg["rows"]]
    if markdown:
        out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        out += ["| " + " | ".join(l) + " |" for l in lines]
        return "\n".join(out)
    widths = [max(len(c), *(len(l[i]) for l in lines)) for i, c in enumerate(cols)]
    out = ["  ".join(c.rjust(w) for c, w in zip(cols, widths))]
    out += ["  ".join(x.rjust(w) for x, w in zip(l, widths)) for l in lines]
    return "\n".join(out)


def plot(agg, outdir, hint):
    """One panel per plotted field: median as a bar, min..max as the error bar."""
    if not shutil.which("gnuplot"):
        return
    key = agg["key"]
    ys = [y for y in hint.get("y", agg["summary"][:2]) if any(isinstance(r.get(y), dict) for r in agg["rows"])]
    if not ys:
        return
    dat = os.path.join(outdir, agg["benchmark"] + ".dat")
    with open(dat, "w") as f:
        f.write("# " + key + " " + " ".join(f"{y}_median {y}_min {y}_max" for y in ys) + "\n")
        for r in agg["rows"]:
            label = str(r.get(key, "")).replace(" ", "_")
            vals = []
            for y in ys:
                v = r.get(y)
                vals += [v["median"], v["min"], v["max"]] if isinstance(v, dict) else ["NaN"] * 3
            f.write(label + " " + " ".join(str(x) for x in vals) + "\n")
    terminals = subprocess.run(["gnuplot", "-e", "set terminal"], capture_output=True, text=True)
    ext = "png" if "pngcairo" in terminals.stdout + terminals.stderr else "svg"
    out = os.path.join(outdir, agg["benchmark"] + "." + ext)
    title = f"{agg['benchmark']} (median of {agg['runs']}, bars min..max)"
    args = ["gnuplot", "-e", f"datafile='{dat}'; outfile='{out}'; term='{ext}'; "
            f"ynames='{' '.join(ys)}'; xname='{key}'; plottitle='{title}'",
            os.path.join(HERE, "bars.gp")]
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write(f"gnuplot failed for {agg['benchmark']}: {r.stderr}\n")


def old_sections(text):
    """The sections of the generated block in text, by benchmark name: a run that measures only
    some benchmarks (run.sh --only) keeps the others' last results. A section from before each
    section named its machine gets the block's old "Machine:" line."""
    if BEGIN not in text or END not in text:
        return {}
    block = text[text.index(BEGIN) + len(BEGIN):text.index(END)]
    machine = ""
    sections = {}
    name = None
    for line in block.splitlines(keepends=True):
        if line.startswith("Machine: ") and name is None:
            machine = line.strip()
        elif line.startswith("### "):
            name = line[4:].strip()
            sections[name] = line
        elif name is not None:
            sections[name] += line
    for n, s in sections.items():
        if "Machine: " not in s and machine:
            parts = s.split("\n\n", 2)  # heading, date and runs, the rest
            parts.insert(2, machine)
            sections[n] = "\n\n".join(parts)
    return {n: s.rstrip("\n") + "\n" for n, s in sections.items()}


def docs(doc_path, outdir, machine):
    text = ""
    if os.path.exists(doc_path):
        with open(doc_path) as f:
            text = f.read()
    sections = old_sections(text)
    names = sorted(f[:-5] for f in os.listdir(outdir) if f.endswith(".json"))
    for n in names:
        try:
            agg = load(os.path.join(outdir, n + ".json"))
        except (OSError, ValueError):
            continue
        if "rows" not in agg:
            continue
        img = next((n + e for e in (".png", ".svg") if os.path.exists(os.path.join(outdir, n + e))), None)
        rel = os.path.relpath(outdir, os.path.dirname(os.path.abspath(doc_path)))
        when = f"{agg['date']}, " if agg.get("date") else ""
        s = f"### {n}\n\n{when}{agg['runs']} runs; median ±half the min..max spread.\n\nMachine: {machine}.\n\n"
        if agg.get("targets"):
            s += "Targets: " + ", ".join(f"{k} {v}" for k, v in agg["targets"].items()) + ".\n\n"
        s += table(agg, markdown=True) + "\n"
        if img:
            s += f"\n![{n}]({rel}/{img})\n"
        sections[n] = s
    block = f"{BEGIN}\n\n" + "\n".join(sections[n] for n in sorted(sections)) + f"\n{END}"
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        if not text:
            text = ("# Performance\n\nMeasured by `./dev bench` (bench/run.sh; conventions in "
                    "bench/README.md). Everything between the markers below is rewritten by each run.\n\n")
        text = text.rstrip("\n") + "\n\n## Latest results\n\n" + block + "\n"
    with open(doc_path, "w") as f:
        f.write(text)


def main(argv):
    if len(argv) >= 2 and argv[0] == "check":
        try:
            doc = load(argv[1])
        except (OSError, ValueError) as e:
            print(f"not JSON: {e}", file=sys.stderr)
            return 1
        p = problems(doc)
        for x in p:
            print(x, file=sys.stderr)
        return 1 if p else 0
    if len(argv) >= 3 and argv[0] == "aggregate":
        agg = aggregate(argv[1], argv[2], argv[3:])
        if agg is None:
            print(f"{argv[1]}: no valid run")
            return 1
        print(f"{argv[1]} ({agg['runs']} runs)")
        print(table(agg, markdown=False))
        return 0
    if len(argv) == 4 and argv[0] == "docs":
        docs(argv[1], argv[2], argv[3])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
