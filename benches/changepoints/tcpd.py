#!/usr/bin/env python3
"""Scores driftscope's change-point detectors on the series of the Turing change-point benchmark
(TCPD) that the river package ships with their human annotations.

    python3 benches/changepoints/tcpd.py            # prints the Markdown table of the README

It downloads river's wheel (pip download, no install), reads the seven series and their
annotations from river/drift/datasets/, prepares them as the benchmark does, writes them to one
JSON file and runs `cargo run --release --example tcpd` on it, which runs
`driftscope changepoints --window-rows 1` on each series. The brent series in river is the
full daily one; the benchmark (and its annotations) use every 10th observation from the first
one, from 2000 on, which is rebuilt here.
"""
import ast
import csv
import json
import pathlib
import subprocess
import sys
import tempfile
import zipfile

RIVER = "river==0.26.1"
ROOT = pathlib.Path(__file__).resolve().parents[2]

# dataset file -> (name in the benchmark, columns used)
SERIES = {
    "airline_passengers": ("jfk_passengers", ["Total Passengers"]),
    "apple": ("apple", ["Close", "Volume"]),
    "bitcoin": ("bitcoin", ["price"]),
    "brent_crude_oil": ("brent_spot", ["DPB"]),
    "occupancy": ("occupancy", ["V1", "V2", "V3", "V4"]),
    "run_log": ("run_log", ["Pace", "Distance"]),
    "uk_coal_employment": ("uk_coal_employ", ["Employment"]),
}


def annotations(py_source):
    """The `annotations={...}` literal of a river dataset class."""
    for node in ast.walk(ast.parse(py_source)):
        if isinstance(node, ast.keyword) and node.arg == "annotations":
            return ast.literal_eval(node.value)
    raise ValueError("no annotations found")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        subprocess.run([sys.executable, "-m", "pip", "download", RIVER, "--no-deps", "-q", "-d", str(tmp)], check=True)
        wheel = next(tmp.glob("river-*.whl"))
        out = []
        with zipfile.ZipFile(wheel) as z:
            for stem, (name, columns) in SERIES.items():
                base = f"river/drift/datasets/{stem}"
                ann = annotations(z.read(base + ".py").decode())
                rows = list(csv.DictReader(z.read(base + ".csv").decode().splitlines()))
                if stem == "brent_crude_oil":
                    rows = [r for i, r in enumerate(rows) if i % 10 == 0]
                    first = next(i for i, r in enumerate(rows) if r["day"].endswith("2000"))
                    rows = rows[first:]
                dims = [[float(r[c]) for r in rows] for c in columns]
                out.append({
                    "name": name,
                    "n": len(rows),
                    "dims": dims,
                    "annotations": [sorted(v) for _, v in sorted(ann.items(), key=lambda kv: int(kv[0]))],
                })
        path = tmp / "tcpd.json"
        path.write_text(json.dumps(out))
        subprocess.run(["cargo", "build", "-q", "--release"], cwd=ROOT, check=True)
        subprocess.run(["cargo", "run", "-q", "--release", "--example", "tcpd", "--", str(path)], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
