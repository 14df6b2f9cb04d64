"""driftwatch on Spark local[2]: mapInArrow partials merged on the driver give the CLI's
verdicts and statistics on the same data (examples/spark/driftwatch_spark.py)."""

import importlib.util
import json
import os
import subprocess

import pytest

from _support import DATA, ROOT, cli


def need(module):
    if importlib.util.find_spec(module) is None:
        if os.environ.get("DRIFTWATCH_REQUIRE_TOOLS") == "1":
            pytest.fail(f"{module} is required (DRIFTWATCH_REQUIRE_TOOLS=1)")
        pytest.skip(f"{module} not installed")


def load_example():
    spec = importlib.util.spec_from_file_location("spark_profile", ROOT / "examples/spark/driftwatch_spark.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_spark_partials_merge_to_the_cli_result(tmp_path):
    need("pyspark")
    exe = cli()
    base, out = tmp_path / "base", tmp_path / "cli"
    subprocess.run([exe, "baseline", "-q", "-o", str(base), str(DATA / "baseline.parquet")], check=True)
    subprocess.run([exe, "monitor", "-q", "-b", str(base), "-o", str(out), str(DATA / "current.parquet")])
    cli_drift = json.loads((out / "drift.json").read_text())

    example = load_example()
    spark_out = tmp_path / "spark"
    code = example.main(["--master", "local[2]", "--baseline", str(base), "--output", str(spark_out), str(DATA / "current.parquet")])
    assert code == 1  # the sample has drifted, as the CLI says
    mine = json.loads((spark_out / "drift.json").read_text())
    assert mine["current"]["rows"] == cli_drift["current"]["rows"]
    assert sorted(f["name"] for f in mine["features"] if f["status"] == "drift") == sorted(
        f["name"] for f in cli_drift["features"] if f["status"] == "drift"
    )
    assert [v["constraint_check_type"] for v in mine["violations"]] == [
        v["constraint_check_type"] for v in cli_drift["violations"]
    ]
    a = json.loads((spark_out / "statistics.json").read_text())
    b = json.loads((out / "statistics.json").read_text())
    assert a["dataset"] == b["dataset"]
    # Spark reads timestamps as microseconds where the file holds milliseconds: a timestamp's
    # statistics are in the unit it is read in, so those columns are compared by counts only.
    import pyarrow.parquet as pq

    times = {f.name for f in pq.read_schema(DATA / "current.parquet") if str(f.type).startswith("timestamp")}
    for fa, fb in zip(a["features"], b["features"]):
        na, nb = fa.get("numerical_statistics"), fb.get("numerical_statistics")
        if fa["name"] in times:
            assert na["common"] == nb["common"], fa["name"]
            continue
        if na:
            assert na["common"] == nb["common"] and na["min"] == nb["min"] and na["max"] == nb["max"], fa["name"]
            assert abs(na["mean"] - nb["mean"]) <= 1e-12 * max(1.0, abs(nb["mean"])), fa["name"]
