"""driftscope on Spark local[2]: the example's mapInArrow partials, one per row group, merged on the
driver as the CLI merges, give the CLI's files byte for byte (examples/spark/driftscope_spark.py)."""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from _support import DATA, ROOT, cli


# Spark's Python workers run this interpreter, the one with driftscope installed (a virtual
# environment's), not whichever python3 is first on PATH.
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)


def need(module):
    if importlib.util.find_spec(module) is None:
        if os.environ.get("DRIFTSCOPE_REQUIRE_TOOLS") == "1":
            pytest.fail(f"{module} is required (DRIFTSCOPE_REQUIRE_TOOLS=1)")
        pytest.skip(f"{module} not installed")


def load_example():
    spec = importlib.util.spec_from_file_location("spark_profile", ROOT / "examples/spark/driftscope_spark.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_spark_writes_the_clis_files_byte_for_byte(tmp_path):
    """Three files of several row groups each, read by Spark in small partitions (a file spread
    over several tasks): the five files the example writes are the CLI's, byte for byte."""
    need("pyspark")
    import pyarrow.parquet as pq

    exe = cli()
    table = pq.read_table(DATA / "current.parquet")
    src = tmp_path / "in"
    src.mkdir()
    for i, (lo, hi, group) in enumerate([(0, 9000, 2000), (9000, 15000, 5000), (15000, 20000, 1500)]):
        pq.write_table(table.slice(lo, hi - lo), src / f"part-{i}.parquet", row_group_size=group)
    base, out = tmp_path / "base", tmp_path / "cli"
    subprocess.run([exe, "baseline", "-q", "-o", str(base), str(DATA / "baseline.parquet")], check=True)
    run = subprocess.run([exe, "monitor", "-q", "--backend", "cpu", "-b", str(base), "-o", str(out), str(src)])
    assert run.returncode == 1  # the sample has drifted

    example = load_example()
    spark_out = tmp_path / "spark"
    code = example.main(
        ["--master", "local[2]", "--conf", "spark.sql.files.maxPartitionBytes=65536", "--conf", "spark.ui.enabled=false"]
        + ["--baseline", str(base), "--output", str(spark_out), str(src)]
    )
    assert code == 1
    for name in ["statistics.json", "constraint_violations.json", "drift.json", "profile.json", "report.html"]:
        mine, theirs = (spark_out / name).read_bytes(), (out / name).read_bytes()
        assert mine == theirs, f"{name} differs from the CLI's"
    drift = json.loads((out / "drift.json").read_text())
    assert drift["current"]["files"] == 3 and drift["current"]["rows"] == 20000
