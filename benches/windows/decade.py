"""A ten-year backfill of hourly sensor captures: `monitor --window 1h` against a plain run.

Generates (once per shape, into --dir) a baseline and the captures of --columns sensor columns
over --years years, --per-hour rows an hour, one Parquet file per day, with known changes: a
level shift of sensors s0..s4 over given stretches. The full shape is 10 years, 100 columns and
1,141 rows an hour (about 100M rows, 87,600 hourly windows); smaller shapes show how time and
memory grow with the windows and the columns. Then runs, per backend, a plain monitor and a
windowed one on the same files, side by side, and prints wall time, rows/s, peak memory (from
/usr/bin/time), and how the change points fare (records on a shifted sensor within two windows
of an injected start or stop, and the injected changes found).

    python3 benches/windows/decade.py --bin target/release/driftscope \
        --years 10 --columns 100 --per-hour 1141 --backends cpu gpu

A windowed run keeps a profile per window and column; --max-memory (MiB, default 8192) caps
the run's address space, so that a shape too large for the machine fails with an allocation
error instead of pushing it into swap.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
HOUR = 3_600_000
DAY = 24 * HOUR


def shifts(hours):
    """(sensor, first hour, end hour, shift in standard deviations): level shifts at known
    places, spread over the period."""
    return [
        (0, hours // 5, hours // 5 + hours // 20, 3.0),
        (1, hours // 3, hours, 1.5),
        (2, hours // 2, hours // 2 + 6, 6.0),
        (3, (2 * hours) // 3, (2 * hours) // 3 + hours // 10, -2.0),
        (4, (9 * hours) // 10, hours, 1.0),
    ]


def generate(d, years, columns, per_hour):
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(11)
    hours = years * 8760
    plan = shifts(hours)
    days = hours // 24
    for day in range(days):
        n = 24 * per_hour
        hour = day * 24 + np.repeat(np.arange(24), per_hour)
        cols = {"t": pa.array(T0 + hour * HOUR + rng.integers(0, HOUR, n), pa.timestamp("ms", tz="UTC"))}
        for k in range(columns):
            x = rng.normal(k % 7, 1.0 + (k % 3) / 2, n)
            for s, a, b, z in plan:
                if s == k:
                    x += np.where((hour >= a) & (hour < b), z * (1.0 + (k % 3) / 2), 0.0)
            cols[f"s{k}"] = x
        pq.write_table(pa.table(cols), os.path.join(d, f"day-{day:05}.parquet"), row_group_size=1 << 16)
    base = {f"s{k}": rng.normal(k % 7, 1.0 + (k % 3) / 2, 200_000) for k in range(columns)}
    pq.write_table(pa.table(base), os.path.join(d, "baseline.parquet"))
    with open(os.path.join(d, "shape.json"), "w") as f:
        json.dump({"years": years, "columns": columns, "per_hour": per_hour, "shifts": plan}, f)


def peak_mib(stderr):
    for line in stderr.splitlines():
        if "Maximum resident set size" in line:
            return int(line.split(":")[1]) / 1024
    return float("nan")


def changes(out, plan):
    with open(os.path.join(out, "changepoints.json")) as f:
        records = json.load(f)
    injected = sorted({(f"s{s}", h) for s, a, b, _ in plan for h in (a, b)})
    near = lambda r: [c for c in injected if c[0] == r["feature"] and abs(r["window_index"] - c[1]) <= 2]
    right = [r for r in records if near(r)]
    hit = {c for r in right for c in near(r)}
    # A stretch that runs to the end of the period has no stop to find.
    last = max(h for _, h in injected)
    findable = [c for c in injected if c[1] < last]
    return len(records), len(right), len([c for c in hit if c in findable]), len(findable)


def run(cmd, cap_mib):
    def limit():
        cap = cap_mib * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    start = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True, preexec_fn=limit)
    return r, time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/driftscope")
    ap.add_argument("--dir", default="/tmp/driftscope-decade")
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--columns", type=int, default=100)
    ap.add_argument("--per-hour", type=int, default=1141)
    ap.add_argument("--backends", nargs="+", default=["cpu"])
    ap.add_argument("--max-memory", type=int, default=8192, help="MiB of address space for a run")
    a = ap.parse_args()
    d = os.path.join(a.dir, f"{a.years}y-{a.columns}c-{a.per_hour}ph")
    if not os.path.isfile(os.path.join(d, "shape.json")):
        print(f"generating {d}", file=sys.stderr)
        generate(d, a.years, a.columns, a.per_hour)
    with open(os.path.join(d, "shape.json")) as f:
        shape = json.load(f)
    base = os.path.join(d, "base")
    if not os.path.isdir(base):
        subprocess.run([a.bin, "baseline", "-q", "--backend", "cpu", "-o", base, os.path.join(d, "baseline.parquet")], check=True)
    files = sorted(os.path.join(d, p) for p in os.listdir(d) if p.startswith("day-"))
    rows = len(files) * 24 * a.per_hour
    hours = a.years * 8760
    print(f"{a.years} years, {a.columns} columns, {a.per_hour} rows an hour: {rows:,} rows in {len(files)} files, {hours:,} hourly windows\n")
    print("| backend | run | s | rows/s | peak MiB | change records | right | injected changes found |")
    print("|---|---|---|---|---|---|---|---|")
    for backend in a.backends:
        for name, extra in [("plain", []), ("--window 1h", ["--window", "1h", "--time-column", "t", "--max-windows", str(hours + 10)])]:
            out = os.path.join(d, f"run-{backend}-{'plain' if not extra else 'window'}")
            cmd = [a.bin, "monitor", "-q", "--force", "--backend", backend, "-b", base, "-o", out] + extra + files
            r, took = run(cmd, a.max_memory)
            if r.returncode not in (0, 1):
                tail = r.stderr.strip().splitlines()[-3:]
                print(f"| {backend} | {name} | failed (exit {r.returncode}) after {took:.1f} | | {peak_mib(r.stderr):.0f} | {' / '.join(tail)[:200]} | | |")
                continue
            cp = changes(out, shape["shifts"]) if extra else None
            cps = f"| {cp[0]} | {cp[1]} | {cp[2]} of {cp[3]} |" if cp else "| | | |"
            print(f"| {backend} | {name} | {took:.2f} | {rows / took:,.0f} | {peak_mib(r.stderr):.0f} {cps}")


if __name__ == "__main__":
    main()
