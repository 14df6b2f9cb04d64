"""A year of hourly captures, backfilled in one `monitor --window 1h` run per backend.

Generates (once, into --dir) a baseline and 1,752,000 capture rows (200 per hour of 2026) of
12 columns — 11 numeric features and one category — in 52 Parquet files, drift injected into
x0 during known hours, the files given to driftscope in shuffled order. `--order week` writes
each file as one week in time order; `--order shuffled` spreads every file's rows over the
whole year in random order (the case that costs memory). Then runs the monitor for each
backend asked, side by side, and prints wall time, peak memory (from /usr/bin/time) and
whether the drifted windows found are exactly the injected hours, and how the change points
(`changepoints.json`, default settings) fare: records written, records within two windows of
an injected start or stop of x0's shift, and injected changes found.

    python3 benches/windows/year.py --bin target/release/driftscope --order shuffled \
        --backends cpu gpu
"""

import argparse
import csv
import os
import random
import subprocess
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HOURS = 8760
PER_HOUR = 200
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
HOUR = 3_600_000
# Hours with x0 shifted: three long stretches and a three-hour burst.
DRIFT = [(2000, 2100), (5000, 5003), (7000, 8760)]


def drifted(hour):
    return any(a <= hour < b for a, b in DRIFT)


def generate(d, order):
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(7)
    n = HOURS * PER_HOUR
    hours = np.repeat(np.arange(HOURS), PER_HOUR)
    t = T0 + hours * HOUR + rng.integers(0, HOUR, n)
    cols = {"t": pa.array(t, pa.timestamp("ms", tz="UTC"))}
    shift = np.array([5.0 if drifted(h) else 0.0 for h in range(HOURS)])[hours]
    cols["x0"] = rng.normal(0, 1, n) + shift
    for k in range(1, 9):
        cols[f"x{k}"] = rng.normal(k, 1 + k / 4, n)
    cols["i0"] = rng.integers(0, 100, n)
    cols["i1"] = rng.poisson(3, n)
    cols["c"] = pa.array(rng.choice(["red", "green", "blue", "amber"], n)).dictionary_encode()
    table = pa.table(cols)
    if order == "shuffled":
        table = table.take(rng.permutation(n))
    files = 52
    per = n // files
    for f in range(files):
        part = table.slice(f * per, per if f < files - 1 else n - f * per)
        pq.write_table(part, os.path.join(d, f"part-{f:02}.parquet"), row_group_size=1 << 16)
    base = {"x0": rng.normal(0, 1, 200_000)}
    for k in range(1, 9):
        base[f"x{k}"] = rng.normal(k, 1 + k / 4, 200_000)
    base["i0"] = rng.integers(0, 100, 200_000)
    base["i1"] = rng.poisson(3, 200_000)
    base["c"] = pa.array(rng.choice(["red", "green", "blue", "amber"], 200_000)).dictionary_encode()
    pq.write_table(pa.table(base), os.path.join(d, "baseline.parquet"))


# The hours where x0's shift starts or stops.
CHANGES = sorted({h for a, b in DRIFT for h in (a, b) if h < HOURS})


def changes(out):
    """Records of changepoints.json; those on x0 within two windows of an injected change; and
    the injected changes some right record found."""
    import json

    with open(os.path.join(out, "changepoints.json")) as f:
        records = json.load(f)
    near = lambda r: [c for c in CHANGES if abs(r["window_index"] - c) <= 2]
    right = [r for r in records if r["feature"] == "x0" and near(r)]
    hit = {c for r in right for c in near(r)}
    return len(records), len(right), len(hit)


def peak_mib(stderr):
    for line in stderr.splitlines():
        if "Maximum resident set size" in line:
            return int(line.split(":")[1]) / 1024
    return float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/driftscope")
    ap.add_argument("--dir", default="/tmp/driftscope-year")
    ap.add_argument("--order", choices=["week", "shuffled"], default="shuffled")
    ap.add_argument("--backends", nargs="+", default=["cpu"])
    ap.add_argument("--runs", type=int, default=1)
    a = ap.parse_args()
    d = os.path.join(a.dir, a.order)
    if not os.path.isfile(os.path.join(d, "baseline.parquet")):
        print(f"generating {d}", file=sys.stderr)
        generate(d, a.order)
    base = os.path.join(a.dir, "base")
    if not os.path.isdir(base):
        subprocess.run([a.bin, "baseline", "-q", "--backend", "cpu", "-o", base, os.path.join(d, "baseline.parquet")], check=True)
    files = sorted(p for p in os.listdir(d) if p.startswith("part-"))
    random.Random(3).shuffle(files)
    want = {T0 + h * HOUR for h in range(HOURS) if drifted(h)}
    print("| backend | order | best s | peak MiB | drifted x0 windows | exactly the injected hours "
          "| change records | right | injected changes found |")
    print("|---|---|---|---|---|---|---|---|---|")
    for backend in a.backends:
        best, peak = float("inf"), 0.0
        for _ in range(a.runs):
            out = os.path.join(a.dir, f"run-{backend}")
            cmd = ["/usr/bin/time", "-v", a.bin, "monitor", "-q", "--backend", backend, "--time-column", "t",
                   "--window", "1h", "-b", base, "-o", out] + [os.path.join(d, f) for f in files]
            start = time.perf_counter()
            r = subprocess.run(cmd, capture_output=True, text=True)
            took = time.perf_counter() - start
            if r.returncode not in (0, 1):
                sys.exit(f"{backend}: exit {r.returncode}: {r.stderr[-2000:]}")
            best, peak = min(best, took), max(peak, peak_mib(r.stderr))
        found = set()
        with open(os.path.join(out, "windows.csv")) as f:
            for row in csv.DictReader(f):
                if row["feature"] == "x0" and row["status"] == "drift":
                    found.add(row["window_start"])
        starts = {time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000)) for ms in want}
        exact = {s.replace(".000", "") for s in found} == starts
        records, right, hit = changes(out)
        print(f"| {backend} | {a.order} | {best:.2f} | {peak:.0f} | {len(found)} | {exact} "
              f"| {records} | {right} | {hit} of {len(CHANGES)} |")


if __name__ == "__main__":
    main()
