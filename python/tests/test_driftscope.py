"""The Python API against independent references: numpy's figures for the statistics, and the
driftscope CLI's own outputs on the same data for the verdicts and files."""

import json
import subprocess
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import driftscope

from _support import DATA, ROOT, cli


def column(profile, name):
    doc = json.loads(profile.to_json())
    return next(c for c in doc["columns"] if c["name"] == name)


def test_profile_matches_numpy():
    rng = np.random.default_rng(7)
    x = rng.normal(3.0, 2.0, 10_000)
    x[::97] = np.nan
    t = pa.table({"x": pa.array(x, from_pandas=True), "k": pa.array(rng.integers(0, 5, 10_000))})
    p = driftscope.Profiler()
    p.update(t)
    assert p.rows == 10_000
    prof = p.profile()
    assert prof.columns == ["x", "k"]
    finite = x[~np.isnan(x)]
    flat = dict(_walk(column(prof, "x")))
    # The mean as numpy computes it, to 1e-12 relative; the extremes exactly.
    assert abs(flat["mean"] - finite.mean()) <= 1e-12 * abs(finite.mean())
    assert flat["min"] == finite.min() and flat["max"] == finite.max()


def _walk(d, prefix=""):
    for k, v in d.items():
        if isinstance(v, dict):
            yield from _walk(v, prefix + k + ".")
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            yield k, v


def test_bytes_round_trip_and_merge_of_parts():
    t = pq.read_table(DATA / "current.parquet")
    whole = driftscope.Profiler()
    whole.update(t)
    parts = []
    for chunk in t.to_batches(max_chunksize=3000):
        p = driftscope.Profiler()
        p.update(chunk)
        parts.append(driftscope.Profile.from_bytes(p.to_bytes()))
    merged = driftscope.Profile()
    for p in parts:
        merged.merge(p)
    assert merged.rows == whole.rows == t.num_rows
    back = driftscope.Profile.from_bytes(merged.to_bytes())
    assert back.to_json() == merged.to_json()
    # Counts, extremes and moments merge exactly, or to rounding (sketches within their error).
    for name in merged.columns:
        a, b = column(merged, name), column(whole.profile(), name)
        for k in ("rows", "missing", "nan", "types"):
            assert a[k] == b[k], (name, k)
        if a.get("moments"):
            ma, mb = a["moments"], b["moments"]
            assert (ma["n"], ma["min"], ma["max"]) == (mb["n"], mb["min"], mb["max"]), name
            assert abs(ma["mean"] - mb["mean"]) <= 1e-12 * max(1.0, abs(mb["mean"])), name


def test_compare_gives_the_cli_verdicts_and_files(tmp_path):
    exe = cli()
    base, out = tmp_path / "base", tmp_path / "cli"
    subprocess.run([exe, "baseline", "-q", "-o", str(base), str(DATA / "baseline.parquet")], check=True)
    run = subprocess.run([exe, "monitor", "-q", "-b", str(base), "-o", str(out), str(DATA / "current.parquet")])
    assert run.returncode == 1  # the sample has drifted
    cli_drift = json.loads((out / "drift.json").read_text())

    p = driftscope.Profiler(driftscope.Plan(baseline=base))
    for b in pq.ParquetFile(DATA / "current.parquet").iter_batches(batch_size=65536):
        p.update(b)
    cmp = driftscope.compare(base, p)
    cli_drifted = sorted(f["name"] for f in cli_drift["features"] if f["status"] == "drift")
    assert sorted(cmp.drifted) == cli_drifted and cli_drifted
    mine = json.loads(cmp.to_json())
    assert [v["constraint_check_type"] for v in mine["violations"]] == [v["constraint_check_type"] for v in cli_drift["violations"]]
    assert cmp.violation_count == len(cli_drift["violations"])
    written = cmp.write_outputs(tmp_path / "py")
    assert sorted(Path(w).name for w in written) == sorted(
        ["statistics.json", "constraint_violations.json", "drift.json", "profile.json", "report.html"]
    )
    # The statistics of the same rows: counts and moments equal to the CLI's.
    a = json.loads((tmp_path / "py/statistics.json").read_text())
    b = json.loads((out / "statistics.json").read_text())
    assert a["dataset"] == b["dataset"]
    for fa, fb in zip(a["features"], b["features"]):
        assert fa["name"] == fb["name"] and fa["inferred_type"] == fb["inferred_type"]
        na, nb = fa.get("numerical_statistics"), fb.get("numerical_statistics")
        if na:
            assert na["common"] == nb["common"] and na["min"] == nb["min"] and na["max"] == nb["max"]
            assert abs(na["mean"] - nb["mean"]) <= 1e-12 * max(1.0, abs(nb["mean"]))
    assert "## driftscope monitor" in cmp.markdown()


def test_errors_are_clear():
    p = driftscope.Profiler()
    with pytest.raises(TypeError, match="pyarrow RecordBatch or Table"):
        p.update([1, 2, 3])
    with pytest.raises(ValueError, match="not a driftscope profile"):
        driftscope.Profile.from_bytes(b"{not json")
    with pytest.raises(ValueError, match="/definitely/not/here: baseline folder not found"):
        driftscope.Plan(baseline="/definitely/not/here")
    with pytest.raises(TypeError):
        driftscope.compare("/x", 3)


def test_a_profile_without_the_baselines_edges_is_refused(tmp_path):
    """Plan() without the baseline gives histograms over no edges: compare refuses it, naming
    the features and what to do, instead of skipping every numeric feature and calling the
    dataset drifted."""
    exe = cli()
    base = tmp_path / "base"
    subprocess.run([exe, "baseline", "-q", "-o", str(base), str(DATA / "baseline.parquet")], check=True)
    p = driftscope.Profiler(driftscope.Plan())
    p.update(pq.read_table(DATA / "current.parquet"))
    with pytest.raises(ValueError, match=r"not over the baseline.s bin edges \(6 numeric features: age, .*Plan\(baseline="):
        driftscope.compare(base, p)


def test_a_baseline_made_from_python_judges_as_the_clis(tmp_path):
    """driftscope.baseline on a Table writes the CLI's three files; the same captures judged
    against it and against the CLI's baseline give the same verdicts; it refuses to overwrite."""
    exe = cli()
    training = pq.read_table(DATA / "baseline.parquet")
    written = driftscope.baseline(training, tmp_path / "py")
    assert sorted(Path(w).name for w in written) == ["constraints.json", "profile.json", "statistics.json"]
    cli_base = tmp_path / "cli"
    subprocess.run([exe, "baseline", "-q", "-o", str(cli_base), str(DATA / "baseline.parquet")], check=True)
    a = json.loads((tmp_path / "py/statistics.json").read_text())
    b = json.loads((cli_base / "statistics.json").read_text())
    assert a["dataset"] == b["dataset"]
    assert [f["name"] for f in a["features"]] == [f["name"] for f in b["features"]]
    for fa, fb in zip(a["features"], b["features"]):
        na, nb = fa.get("numerical_statistics"), fb.get("numerical_statistics")
        if na:
            assert na["common"] == nb["common"] and na["min"] == nb["min"] and na["max"] == nb["max"]
    current = pq.read_table(DATA / "current.parquet")
    verdicts = []
    for base in [tmp_path / "py", cli_base]:
        p = driftscope.Profiler(driftscope.Plan(baseline=base))
        p.update(current)
        verdicts.append(sorted(driftscope.compare(base, p).drifted))
    assert verdicts[0] == verdicts[1] and verdicts[0]
    # A list of batches works too; an existing baseline is not overwritten.
    driftscope.baseline(training.to_batches(max_chunksize=5000), tmp_path / "batches")
    with pytest.raises(ValueError, match="already holds a baseline"):
        driftscope.baseline(training, tmp_path / "py")


def test_multivariate_drift_from_python_is_the_clis(tmp_path):
    """driftscope.baseline(..., multivariate=True) writes the CLI's model of the same rows; a
    Plan over that baseline profiles each row's reconstruction error, and compare judges by it:
    a flipped correlation with unchanged marginals drifts, the same correlation does not."""
    exe = cli()
    rng = np.random.default_rng(20261206)

    def rows(rho, n=20_000):
        x = rng.standard_normal(n)
        y = rho * x + np.sqrt(1 - rho * rho) * rng.standard_normal(n)
        return pa.table({"x": x, "y": y, "z": rng.standard_normal(n)})

    training = rows(0.9)
    written = driftscope.baseline(training, tmp_path / "py", multivariate=True)
    assert "multivariate.json" in [Path(w).name for w in written]
    pq.write_table(training, tmp_path / "train.parquet")
    subprocess.run(
        [exe, "baseline", "-q", "--multivariate", "-o", str(tmp_path / "cli"), str(tmp_path / "train.parquet")],
        check=True,
    )
    a = json.loads((tmp_path / "py/multivariate.json").read_text())
    b = json.loads((tmp_path / "cli/multivariate.json").read_text())
    assert len(a["pca"]["components"]) == len(b["pca"]["components"])
    for key in ["lower_threshold", "upper_threshold"]:
        assert a[key] == pytest.approx(b[key], rel=1e-9)
    for rho, drifted in [(0.9, False), (-0.9, True)]:
        p = driftscope.Profiler(driftscope.Plan(baseline=tmp_path / "py"))
        p.update(rows(rho))
        assert p.profile().columns == ["x", "y", "z"]
        report = json.loads(driftscope.compare(tmp_path / "py", p).to_json())
        assert report["multivariate"]["drift"] is drifted
        assert report["summary"]["features_drifted"] == 0
        assert all(f["name"] != "(reconstruction error)" for f in report["features"])
    with pytest.raises(ValueError, match="at least 2"):
        driftscope.baseline(training, tmp_path / "one", multivariate_columns=["x"])


def test_results_as_a_pyarrow_table_and_the_summary_counts_files(tmp_path):
    exe = cli()
    base = tmp_path / "base"
    subprocess.run([exe, "baseline", "-q", "-o", str(base), str(DATA / "baseline.parquet")], check=True)
    p = driftscope.Profiler(driftscope.Plan(baseline=base))
    p.update(pq.read_table(DATA / "current.parquet"))
    cmp = driftscope.compare(base, p)
    t = cmp.to_table()
    assert isinstance(t, pa.Table)
    doc = json.loads(cmp.to_json())
    assert t.column("feature").to_pylist() == [f["name"] for f in doc["features"]]
    assert t.column("status").to_pylist() == [f["status"] for f in doc["features"]]
    assert t.column("distance").to_pylist() == [f.get("distance") for f in doc["features"]]
    drifted = [r["feature"] for r in t.to_pylist() if r["status"] == "drift"]
    assert sorted(drifted) == sorted(cmp.drifted)
    # Without a file list the summary says where the rows came from, not "0 files".
    assert "rows profiled in memory" in cmp.markdown() and "0 files" not in cmp.markdown()
    named = driftscope.compare(base, p, files=[("current.parquet", 20000)])
    assert "20000 rows in 1 file (0 skipped)" in named.markdown()
