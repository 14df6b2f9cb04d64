"""Windows against a plain run, in the two layouts a backfill meets: Speed's (#23) own shape.

Generates (once, into --dir) 4.32M capture rows over 45 days — a timestamp, three floats, one
category and one float with nulls — in two layouts of the same rows: `ordered`, one file per
day in time order with 65,536-row groups, and `shuffled`, 40 files whose rows are spread over
the 45 days in random order, with 4,096-row groups. Then times `monitor` plain and with
`--window 1h` (1,080 windows) on each layout, interleaved, best of --runs, and prints wall time,
the windowed/plain ratio, cores busy ((user + system) / wall) and peak memory (from
/usr/bin/time). The targets: windowed at most 1.5× plain (ordered) and 2× (shuffled), with at
least 1.8 cores busy on a 2-core machine.

    python3 benches/windows/layouts.py --bin target/release/driftscope --runs 3

`--tails heavy` draws the float columns as exp(k·z) instead (latencies, amounts: the baseline's
quantile edges crowd near zero), into its own folder.
"""

import argparse
import os
import subprocess
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
DAY = 86_400_000
DAYS = 45
ROWS = 4_320_000


def table(rng, n, t0=None, heavy=False):
    cols = {}
    if t0 is not None:
        cols["t"] = pa.array(np.sort(rng.integers(t0, t0 + DAYS * DAY, n)), pa.timestamp("ms", tz="UTC"))
    if heavy:
        # Heavy tails, as latencies, amounts and counts of events have: most of the baseline's
        # quantile edges close to zero, a few far out.
        cols["a"] = np.exp(4 * rng.normal(0, 1, n))
        cols["b"] = 10 * np.exp(3 * rng.normal(0, 1, n))
        cols["c"] = -np.exp(4 * rng.normal(0, 1, n))
    else:
        cols["a"] = rng.normal(0, 1, n)
        cols["b"] = rng.lognormal(1, 0.5, n)
        cols["c"] = rng.uniform(-5, 5, n)
    cols["kind"] = pa.array(rng.choice(["sensor", "gateway", "relay", "meter", "probe"], n)).dictionary_encode()
    y = np.exp(4 * rng.normal(0, 1, n)) if heavy else rng.normal(10, 3, n)
    cols["y"] = pa.array(y, mask=rng.random(n) < 0.1)
    return pa.table(cols)


def generate(d, heavy):
    os.makedirs(os.path.join(d, "ordered"), exist_ok=True)
    os.makedirs(os.path.join(d, "shuffled"), exist_ok=True)
    rng = np.random.default_rng(23)
    t = table(rng, ROWS, T0, heavy)
    ts = t.column("t").cast(pa.int64()).to_numpy()
    for day in range(DAYS):
        lo, hi = np.searchsorted(ts, [T0 + day * DAY, T0 + (day + 1) * DAY])
        pq.write_table(t.slice(lo, hi - lo), os.path.join(d, "ordered", f"day-{day:02}.parquet"), row_group_size=65_536)
    s = t.take(rng.permutation(ROWS))
    per = ROWS // 40
    for f in range(40):
        pq.write_table(s.slice(f * per, per), os.path.join(d, "shuffled", f"part-{f:02}.parquet"), row_group_size=4_096)
    pq.write_table(table(rng, 500_000, heavy=heavy), os.path.join(d, "baseline.parquet"))


def timed(cmd):
    start = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "--"] + cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if r.returncode not in (0, 1):
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr}")
    user, sys_, kib = r.stderr.strip().splitlines()[-1].split()
    return wall, (float(user) + float(sys_)) / wall, int(kib) / 1024 / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/driftscope")
    ap.add_argument("--dir", help="where the data goes (default /tmp/driftscope-layouts, -heavy for --tails heavy)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--backend", default="cpu")
    ap.add_argument("--tails", choices=["light", "heavy"], default="light",
                    help="heavy: the float columns drawn as exp(k·z), whose quantile edges crowd near zero")
    a = ap.parse_args()
    heavy = a.tails == "heavy"
    a.dir = a.dir or ("/tmp/driftscope-layouts-heavy" if heavy else "/tmp/driftscope-layouts")
    if not os.path.isfile(os.path.join(a.dir, "baseline.parquet")):
        print(f"generating {a.dir}", file=sys.stderr)
        generate(a.dir, heavy)
    base = os.path.join(a.dir, "base")
    if not os.path.isdir(base):
        subprocess.run([a.bin, "baseline", "-q", "--backend", "cpu", "-o", base, os.path.join(a.dir, "baseline.parquet")], check=True)
    runs = {}
    for _ in range(a.runs):
        for layout in ("ordered", "shuffled"):
            folder = os.path.join(a.dir, layout)
            files = sorted(os.path.join(folder, p) for p in os.listdir(folder))
            for name, extra in [("plain", []), ("window", ["--window", "1h", "--time-column", "t"])]:
                out = os.path.join(a.dir, f"out-{layout}-{name}")
                cmd = [a.bin, "monitor", "-q", "--force", "--backend", a.backend, "-b", base, "-o", out] + extra + files
                runs.setdefault((layout, name), []).append(timed(cmd))
    tails = ", heavy-tailed floats" if heavy else ""
    print(f"{ROWS:,} rows, 6 columns{tails}, {DAYS} days; best of {a.runs}, interleaved; backend {a.backend}\n")
    print("| layout | plain | `--window 1h` | ratio | cores busy (plain / windowed) | peak GB (plain / windowed) |")
    print("|---|---|---|---|---|---|")
    for layout in ("ordered", "shuffled"):
        p = min(runs[(layout, "plain")])
        w = min(runs[(layout, "window")])
        print(f"| {layout} | {p[0]:.2f} s | {w[0]:.2f} s | {w[0] / p[0]:.1f}× | {p[1]:.2f} / {w[1]:.2f} | {p[2]:.2f} / {w[2]:.2f} |")


if __name__ == "__main__":
    main()
