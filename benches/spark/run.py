"""The overhead of the Python and Spark path: the same audit through `driftscope monitor` (the
CLI) and through Spark (`examples/spark/driftscope_spark.py` on local[N]), side by side in one run.

    python3 benches/spark/run.py --rows 100000000 --dir /data/dw-bench [--master 'local[2]']

`driftscope bench --shape floats` generates (or reuses) the baseline and current Parquet files in
--dir, baselines, and times the CLI's monitor (best of --runs); this script then times the Spark
job on the same current file, wall clock from the SparkSession's start to the files written.
Needs the CLI built in release (`cargo build --release`), the Python package and pyspark.
"""

import argparse
import json
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000_000)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--row-group", type=int, default=1_048_576)
    a = ap.parse_args()
    exe = ROOT / "target/release/driftscope"
    d = Path(a.dir)
    bench = subprocess.run(
        [str(exe), "bench", "--shape", "floats", "--rows", str(a.rows), "--row-group", str(a.row_group),
         "--backend", "cpu", "--dir", str(d), "--runs", str(a.runs), "--json"],
        check=True, capture_output=True, text=True,
    )
    report = json.loads(bench.stdout)
    cli = next(s for s in report["stages"] if s["stage"].startswith("end to end"))
    base = d / f"floats-baseline-{a.rows}"
    current = d / f"floats-current-{a.rows}.parquet"

    import importlib.util

    spec = importlib.util.spec_from_file_location("driftscope_spark", ROOT / "examples/spark/driftscope_spark.py")
    spark_profile = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(spark_profile)

    t = time.perf_counter()
    code = spark_profile.main(["--master", a.master, "--baseline", str(base), "--output", str(d / "spark-out"), str(current)])
    spark_s = time.perf_counter() - t
    rows = report["rows"]
    print(f"| path | rows | seconds | rows/s |\n|---|---|---|---|")
    print(f"| driftscope monitor (CLI, {report['threads']} threads) | {rows} | {cli['seconds']:.2f} | {rows / cli['seconds']:.3e} |")
    print(f"| Spark {a.master} + driftscope.Profiler (mapInArrow) | {rows} | {spark_s:.2f} | {rows / spark_s:.3e} |")
    print(f"\nSpark / CLI: {spark_s / cli['seconds']:.1f}x (exit code of the Spark job: {code})")


if __name__ == "__main__":
    main()
