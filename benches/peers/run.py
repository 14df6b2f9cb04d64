"""Runs driftwatch and its peers side by side on the same generated capture, interleaved, and
prints the best time of each (these machines are noisy: compare best-of-N, measured together).

usage: python3 benches/peers/run.py [--rows 10000000] [--runs 5] [--dir /tmp/driftwatch-peers]
needs: a release build (cargo build --release), pip install pyarrow numpy polars
"""
import argparse
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DW = os.path.join(ROOT, "target", "release", "driftwatch")


def timed(cmd):
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if p.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed: {p.stderr.strip()}")
    return elapsed, p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--dir", default="/tmp/driftwatch-peers")
    a = ap.parse_args()
    # Generates the captures and the baseline once, and measures arrow-rs' raw parallel decode.
    _, out = timed([DW, "bench", "--rows", str(a.rows), "--dir", a.dir, "--runs", str(a.runs), "--backend", "cpu"])
    print(out)
    cur = os.path.join(a.dir, f"current-{a.rows}.parquet")
    prof = os.path.join(a.dir, f"baseline-{a.rows}", "profile.json")
    base = os.path.join(a.dir, f"baseline-{a.rows}")
    py = sys.executable
    cmds = {
        "driftwatch monitor (end to end)": [DW, "monitor", "-q", "--backend", "cpu", "-b", base, "-o", os.path.join(a.dir, "peer-run"), cur],
        "pyarrow read_table": [py, os.path.join(HERE, "pyarrow_read.py"), cur, "1"],
        "numpy (thread pool)": [py, os.path.join(HERE, "numpy_stats.py"), cur, prof, "1"],
        "polars (lazy query)": [py, os.path.join(HERE, "polars_stats.py"), cur, prof, "1"],
    }
    best = {k: float("inf") for k in cmds}
    for _ in range(a.runs):
        for name, cmd in cmds.items():
            elapsed, stdout = timed(cmd)
            # The Python scripts time their own work (no interpreter start-up); driftwatch is
            # timed as a whole process.
            m = re.search(r"\t([0-9.]+)\t", stdout)
            best[name] = min(best[name], float(m.group(1)) if m else elapsed)
    decode = re.search(r"\| decode \| arrow-rs \| ([0-9.]+)", out)
    print(f"best of {a.runs}, {a.rows} rows, {os.cpu_count()} cores\n\n| tool | best s | rows/s |\n|---|---|---|")
    if decode:
        d = float(decode.group(1))
        print(f"| arrow-rs parallel decode only | {d:.3f} | {a.rows / d:.3e} |")
    for name, t in sorted(best.items(), key=lambda kv: kv[1]):
        print(f"| {name} | {t:.3f} | {a.rows / t:.3e} |")


if __name__ == "__main__":
    main()
