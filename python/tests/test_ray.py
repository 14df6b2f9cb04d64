"""driftscope on Ray Data: map_batches partials merged on the driver give the CLI's verdicts and
statistics on the same data (examples/ray/driftscope_ray.py)."""

import importlib.util
import json
import subprocess

from _support import DATA, ROOT, cli
from test_spark import need


def test_ray_partials_give_the_cli_verdicts(tmp_path):
    need("ray")
    exe = cli()
    base, out = tmp_path / "base", tmp_path / "cli"
    subprocess.run([exe, "baseline", "-q", "-o", str(base), str(DATA / "baseline.parquet")], check=True)
    subprocess.run([exe, "monitor", "-q", "--backend", "cpu", "-b", str(base), "-o", str(out), str(DATA / "current.parquet")])
    spec = importlib.util.spec_from_file_location("driftscope_ray", ROOT / "examples/ray/driftscope_ray.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    ray_out = tmp_path / "ray"
    code = example.main(["--num-cpus", "2", "--baseline", str(base), "--output", str(ray_out), str(DATA / "current.parquet")])
    assert code == 1  # the sample has drifted, as the CLI says
    mine, theirs = (json.loads((d / "drift.json").read_text()) for d in (ray_out, out))
    assert mine["current"]["rows"] == theirs["current"]["rows"] == 20000
    drifted = lambda r: sorted(f["name"] for f in r["features"] if f["status"] == "drift")
    assert drifted(mine) == drifted(theirs)
    assert [(v["feature_name"], v["constraint_check_type"]) for v in mine["violations"]] == [
        (v["feature_name"], v["constraint_check_type"]) for v in theirs["violations"]
    ]
    a, b = (json.loads((d / "statistics.json").read_text()) for d in (ray_out, out))
    assert a["dataset"] == b["dataset"]
    for fa, fb in zip(a["features"], b["features"]):
        assert fa["name"] == fb["name"] and fa["inferred_type"] == fb["inferred_type"]
        na, nb = fa.get("numerical_statistics"), fb.get("numerical_statistics")
        if na:
            assert na["common"] == nb["common"] and na["min"] == nb["min"] and na["max"] == nb["max"], fa["name"]
            assert abs(na["mean"] - nb["mean"]) <= 1e-12 * max(1.0, abs(nb["mean"])), fa["name"]
        sa, sb = fa.get("string_statistics"), fb.get("string_statistics")
        if sa:
            assert sa["common"] == sb["common"], fa["name"]
            # A union of distinct-count sketches estimates with another estimator than one
            # stream does: both within the sketch's error (1.6% at 3 standard errors).
            assert abs(sa["distinct_count"] - sb["distinct_count"]) <= 0.03 * sb["distinct_count"], fa["name"]
