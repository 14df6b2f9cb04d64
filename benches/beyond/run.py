#!/usr/bin/env python3
"""CPU and GPU side by side for segments, multivariate drift and performance estimation.

Generates `driftscope bench`'s 22-column capture (a baseline file and a current file), builds one
baseline per feature, then times `baseline` and `monitor` on `--backend cpu` and `--backend gpu`
(on a machine without a GPU, Mesa's lavapipe: the real shaders on the CPU, for correctness, not
speed), best of `--runs`, and checks that both backends wrote the same files (but the backend's
name). Prints a Markdown table.

    python3 benches/beyond/run.py --rows 1000000 --runs 2
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SAME = ["drift.json", "constraint_violations.json", "windows.csv", "segments.csv", "multivariate.csv", "mmd.csv",
        "model_quality/estimated.csv", "statistics.json", "constraints.json", "multivariate.json", "segments.json"]

QUALITY = ["--problem-type", "BinaryClassification", "--label", "label", "--probability", "prediction"]

CASES = [
    # (name, baseline flags, monitor flags)
    ("plain", [], []),
    ("segments (`--segment-by segment`)", ["--segment-by", "segment"], ["--segment-by", "segment"]),
    ("windows × segments (`--window 1h --segment-by segment`)", ["--segment-by", "segment"],
     ["--window", "1h", "--time-column", "event_time", "--segment-by", "segment"]),
    ("PCA reconstruction (`--multivariate`)", ["--multivariate"], []),
    ("PCA and kernel test (`--mmd`)", ["--mmd"], []),
    ("PCA and kernel test, `--window 1h`", ["--mmd"], ["--window", "1h", "--time-column", "event_time"]),
    ("performance estimation (`--estimate-performance`)", QUALITY + ["--estimate-performance"], []),
]


def run(cmd):
    start = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    took = time.perf_counter() - start
    if p.returncode not in (0, 1):
        sys.exit(f"{' '.join(map(str, cmd))}: exit {p.returncode}: {p.stderr.strip()}")
    return took


def strip(path, d):
    """The file's lines but the backend's name and the folders' paths (b-cpu, b-gpu)."""
    return [l for l in path.read_text().splitlines() if '"backend"' not in l and str(d) not in l]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--bin", default="target/release/driftscope")
    ap.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "driftscope-beyond"))
    a = ap.parse_args()
    d = Path(a.dir)
    d.mkdir(parents=True, exist_ok=True)
    base, cur = d / f"baseline-{a.rows}.parquet", d / f"current-{a.rows}.parquet"
    if not cur.exists():
        subprocess.run([a.bin, "bench", "--rows", str(a.rows), "--dir", str(d), "--backend", "cpu", "--runs", "1"],
                       check=True, stdout=subprocess.DEVNULL)
    print(f"{a.rows:,} rows, best of {a.runs}; the same files on both backends: checked\n")
    print("| run | baseline, cpu | baseline, gpu | monitor, cpu | monitor, gpu |")
    print("|---|---|---|---|---|")
    for name, bflags, mflags in CASES:
        times = {}
        for backend in ["cpu", "gpu"]:
            bdir, out = d / f"b-{backend}", d / f"o-{backend}"
            tb = min(run([a.bin, "baseline", "-q", "--force", "--backend", backend, "-o", bdir] + bflags + [base])
                     for _ in range(a.runs))
            flags = mflags + (QUALITY if "--estimate-performance" in bflags else [])
            tm = min(run([a.bin, "monitor", "-q", "--force", "--backend", backend, "-b", bdir, "-o", out] + flags + [cur])
                     for _ in range(a.runs))
            times[backend] = (tb, tm)
        for f in SAME:
            for kind in ["b", "o"]:
                x, y = d / f"{kind}-cpu" / f, d / f"{kind}-gpu" / f
                if x.exists() and strip(x, d) != strip(y, d):
                    sys.exit(f"{name}: {f} differs between the backends")
        (cb, cm), (gb, gm) = times["cpu"], times["gpu"]
        print(f"| {name} | {cb:.2f} s | {gb:.2f} s | {cm:.2f} s | {gm:.2f} s |")


if __name__ == "__main__":
    main()
