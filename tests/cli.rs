use std::path::Path;

use arrow_array::{BooleanArray, Float64Array, Int64Array, StringArray};
use predicates::prelude::*;

use crate::common::*;

fn sample_baseline(dir: &Path) -> std::path::PathBuf {
    let base = dir.join("base");
    driftscope().args(["baseline", "-q", "-o"]).arg(&base).arg(root().join("data/baseline.parquet")).assert().success();
    base
}

#[test]
fn readme_commands_find_the_drift_in_the_sample_data() {
    let d = tempfile::tempdir().unwrap();
    let base = sample_baseline(d.path());
    for f in ["statistics.json", "constraints.json", "profile.json"] {
        assert!(base.join(f).is_file(), "{f}");
    }
    let run = d.path().join("run");
    driftscope()
        .args(["monitor", "-q", "--baseline"])
        .arg(&base)
        .arg("-o")
        .arg(&run)
        .arg(root().join("data/current.parquet"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("## driftscope monitor: violations found"));
    let v = json(&run.join("constraint_violations.json"));
    let checks: Vec<(String, String)> = v["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["feature_name"].as_str().unwrap().into(), x["constraint_check_type"].as_str().unwrap().into()))
        .collect();
    // The generator shifts income, plan and prediction, and adds a new plan value.
    for (f, c) in [
        ("income", "baseline_drift_check"),
        ("plan", "baseline_drift_check"),
        ("prediction", "baseline_drift_check"),
        ("plan", "categorical_values_check"),
        ("income", "completeness_check"),
    ] {
        assert!(checks.contains(&(f.into(), c.into())), "missing {f} {c} in {checks:?}");
    }
    // Unchanged features do not drift.
    for f in ["credit_score", "tenure_months", "channel"] {
        assert!(!checks.iter().any(|(n, c)| n == f && c == "baseline_drift_check"), "{f} drifted");
    }
    let drift = json(&run.join("drift.json"));
    let feats = drift["features"].as_array().unwrap();
    let id = feats.iter().find(|f| f["name"] == "inference_id").unwrap();
    assert_eq!(id["status"], "skipped");
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("income"));
    assert!(run.join("statistics.json").is_file());
}

#[test]
fn monitor_against_itself_is_clean() {
    let d = tempfile::tempdir().unwrap();
    let base = sample_baseline(d.path());
    driftscope()
        .args(["monitor", "-q", "-b"])
        .arg(&base)
        .arg("-o")
        .arg(d.path().join("run"))
        .arg(root().join("data/baseline.parquet"))
        .assert()
        .code(0);
    let drift = json(&d.path().join("run/drift.json"));
    for f in drift["features"].as_array().unwrap() {
        if let Some(n) = f.get("numeric") {
            assert_eq!(n["linf_simple"].as_f64().unwrap(), 0.0, "{}", f["name"]);
        }
    }
}

#[test]
fn outputs_identical_whatever_the_thread_count() {
    let d = tempfile::tempdir().unwrap();
    let mut outs = Vec::new();
    for threads in ["1", "2", "3"] {
        // Same relative paths in each run, so that the paths written in reports agree too.
        let cwd = d.path().join(format!("t{threads}"));
        std::fs::create_dir_all(&cwd).unwrap();
        driftscope()
            .current_dir(&cwd)
            .args(["baseline", "-q", "--threads", threads, "-o", "base"])
            .arg(root().join("data"))
            .assert()
            .success();
        driftscope()
            .current_dir(&cwd)
            .args(["monitor", "-q", "--threads", threads, "-b", "base", "-o", "run"])
            .arg(root().join("data/current.parquet"))
            .assert()
            .code(1);
        let files: Vec<Vec<u8>> = ["base/statistics.json", "base/constraints.json", "base/profile.json"]
            .iter()
            .chain(
                [
                    "run/statistics.json",
                    "run/drift.json",
                    "run/constraint_violations.json",
                    "run/report.html",
                    "run/profile.json",
                ]
                .iter(),
            )
            .map(|f| std::fs::read(cwd.join(f)).unwrap())
            .collect();
        outs.push(files);
    }
    assert!(outs[0] == outs[1] && outs[1] == outs[2]);
}

#[test]
fn bad_inputs_are_one_line_errors_naming_the_file() {
    let d = tempfile::tempdir().unwrap();
    let empty = d.path().join("empty.parquet");
    std::fs::write(&empty, b"").unwrap();
    let text = d.path().join("notes.parquet");
    std::fs::write(&text, b"this is not parquet at all, just text\n").unwrap();
    let truncated = d.path().join("truncated.parquet");
    let good = std::fs::read(root().join("data/baseline.parquet")).unwrap();
    std::fs::write(&truncated, &good[..good.len() / 2]).unwrap();
    let missing = d.path().join("missing.parquet");
    for (path, needle) in [
        (&empty, "empty file"),
        (&text, "notes.parquet"),
        (&truncated, "truncated.parquet"),
        (&missing, "no such file"),
    ] {
        let out = d.path().join("out");
        let a = driftscope().args(["baseline", "-q", "-o"]).arg(&out).arg(path).assert().code(2);
        let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(needle) && err.contains(path.file_name().unwrap().to_str().unwrap()), "{err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(!out.exists(), "no output for a failed run");
    }
}

/// Bytes flipped anywhere in a valid file: never a panic, always exit 0 (the damage fell where
/// Parquet cannot see it) or 2 with a one-line error naming the file.
#[test]
fn corrupted_files_never_panic() {
    let d = tempfile::tempdir().unwrap();
    let good = std::fs::read(root().join("data/baseline.parquet")).unwrap();
    let mut state = 12345u64;
    for round in 0..24 {
        let mut bytes = good.clone();
        for _ in 0..(1 + round % 5) * 3 {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let at = 4 + (state >> 33) as usize % (bytes.len() - 8);
            bytes[at] ^= (state >> 17) as u8 | 1;
        }
        let f = d.path().join(format!("broken-{round}.parquet"));
        std::fs::write(&f, &bytes).unwrap();
        let a = driftscope().args(["baseline", "-q", "-o"]).arg(d.path().join(format!("out-{round}"))).arg(&f).assert();
        let out = a.get_output();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "round {round}: {err}");
        match out.status.code() {
            Some(0) => {}
            Some(2) => {
                assert_eq!(err.trim_end().lines().count(), 1, "round {round}: {err}");
                assert!(err.contains(&format!("broken-{round}.parquet")), "round {round}: {err}");
            }
            other => panic!("round {round}: exit {other:?}: {err}"),
        }
    }
}

/// A damaged definition level that makes Parquet's own decoder panic (found by the fuzz test:
/// one bit of data/current.parquet's `age` page): the file is named as damaged in one line,
/// exit 2, no panic printed, no output.
#[test]
fn a_parquet_decoder_panic_is_a_damaged_file() {
    let d = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(root().join("data/current.parquet")).unwrap();
    let at = 3984357925usize % bytes.len();
    bytes[at] ^= 1;
    let f = d.path().join("flipped.parquet");
    std::fs::write(&f, &bytes).unwrap();
    let out = d.path().join("out");
    let a = driftscope().args(["baseline", "-q", "-o"]).arg(&out).arg(&f).assert().code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("flipped.parquet") && err.contains("damaged data") && !err.contains("panicked"), "{err}");
    assert!(!out.exists());
}

#[test]
fn non_utf8_text_names_the_file_and_column() {
    let d = tempfile::tempdir().unwrap();
    let a = driftscope()
        .args(["baseline", "-q", "-o"])
        .arg(d.path().join("out"))
        .arg(root().join("tests/data/bad_utf8.parquet"))
        .assert()
        .code(2);
    let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("bad_utf8.parquet") && err.contains("column 'name'") && err.contains("UTF-8"), "{err}");
    assert!(!d.path().join("out").exists());
}

#[test]
fn good_inputs_are_processed_and_bad_ones_reported() {
    let d = tempfile::tempdir().unwrap();
    let base = sample_baseline(d.path());
    let bad = d.path().join("bad.parquet");
    std::fs::write(&bad, b"PAR1garbage").unwrap();
    let run = d.path().join("run");
    let a = driftscope()
        .args(["monitor", "-q", "-b"])
        .arg(&base)
        .arg("-o")
        .arg(&run)
        .arg(root().join("data/baseline.parquet"))
        .arg(&bad)
        .assert()
        .code(2);
    let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
    assert!(err.contains("skipped") && err.contains("bad.parquet"), "{err}");
    let drift = json(&run.join("drift.json"));
    assert_eq!(drift["current"]["files"], 1);
    assert_eq!(drift["current"]["rows"], 20000);
    assert!(drift["current"]["skipped"][0]["path"].as_str().unwrap().ends_with("bad.parquet"));
    let names: Vec<_> =
        std::fs::read_dir(&run).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
    // --strict stops at the bad file.
    driftscope()
        .args(["monitor", "-q", "--strict", "-b"])
        .arg(&base)
        .arg("-o")
        .arg(d.path().join("strict"))
        .arg(root().join("data/baseline.parquet"))
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.parquet"));
}

#[test]
fn baseline_folder_without_statistics_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("nobase")).unwrap();
    driftscope()
        .args(["monitor", "-q", "-b"])
        .arg(d.path().join("nobase"))
        .arg("-o")
        .arg(d.path().join("run"))
        .arg(root().join("data/current.parquet"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("statistics.json").and(predicate::str::contains("nobase")));
    std::fs::write(d.path().join("nobase/statistics.json"), b"{\"version\": 0.0, \"dataset\": ").unwrap();
    driftscope()
        .args(["monitor", "-q", "-b"])
        .arg(d.path().join("nobase"))
        .arg("-o")
        .arg(d.path().join("run"))
        .arg(root().join("data/current.parquet"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("statistics.json: invalid"));
    // Training data given as --baseline by mistake.
    driftscope()
        .args(["monitor", "-q", "-b"])
        .arg(root().join("data/baseline.parquet"))
        .arg("-o")
        .arg(d.path().join("run"))
        .arg(root().join("data/current.parquet"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("expected a baseline folder"));
}

#[test]
fn zero_rows_all_null_nan_and_inf_are_handled() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("edge.parquet");
    write_parquet(
        &f,
        vec![
            ("x", arr(Float64Array::from(vec![Some(1.0), Some(f64::NAN), Some(f64::INFINITY), None, Some(3.0)]))),
            ("nothing", arr(Float64Array::from(vec![None::<f64>; 5]))),
            ("flag", arr(BooleanArray::from(vec![Some(true), Some(false), Some(true), None, Some(true)]))),
        ],
        2,
    );
    let zero = d.path().join("zero.parquet");
    write_parquet(&zero, vec![("x", arr(Float64Array::from(Vec::<f64>::new())))], 2);
    let base = d.path().join("base");
    driftscope().args(["baseline", "-q", "-o"]).arg(&base).arg(&f).arg(&zero).assert().success();
    let text = std::fs::read_to_string(base.join("statistics.json")).unwrap();
    assert!(!text.contains("NaN") && !text.contains("Infinity"), "no non-JSON numbers");
    let s = json(&base.join("statistics.json"));
    let feats = s["features"].as_array().unwrap();
    let x = &feats[0]["numerical_statistics"];
    assert_eq!(x["common"]["num_present"], 4);
    assert_eq!(x["common"]["num_missing"], 1);
    assert_eq!(x["mean"], 2.0);
    assert_eq!(x["min"], 1.0);
    assert_eq!(x["max"], 3.0);
    let nothing = feats.iter().find(|f| f["name"] == "nothing").unwrap();
    assert_eq!(nothing["inferred_type"], "Unknown");
    let p = json(&base.join("profile.json"));
    let px = &p["columns"][0];
    assert_eq!((px["nan"].as_u64(), px["pos_inf"].as_u64()), (Some(1), Some(1)));
    let flag = feats.iter().find(|f| f["name"] == "flag").unwrap();
    assert_eq!(flag["inferred_type"], "Boolean");
    // The zero-row file alone makes an empty baseline, written, but never a clean exit: 3 says
    // that nothing was profiled.
    let zbase = d.path().join("zbase");
    driftscope()
        .args(["baseline", "-q", "-o"])
        .arg(&zbase)
        .arg(&zero)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("0 rows"));
    assert_eq!(json(&zbase.join("statistics.json"))["dataset"]["item_count"], 0);
    // Monitoring zero rows is not a pass either, whatever the baseline.
    driftscope()
        .args(["monitor", "-q", "-b"])
        .arg(&base)
        .arg("-o")
        .arg(d.path().join("zrun"))
        .arg(&zero)
        .assert()
        .code(3)
        .stdout(predicate::str::contains("nothing monitored").and(predicate::str::contains("no violations").not()))
        .stderr(predicate::str::contains("nothing monitored"));
    // Monitoring the edge file against itself gives no drift and valid JSON.
    driftscope().args(["monitor", "-q", "-b"]).arg(&base).arg("-o").arg(d.path().join("run")).arg(&f).assert().code(0);
    let dj = std::fs::read_to_string(d.path().join("run/drift.json")).unwrap();
    serde_json::from_str::<serde_json::Value>(&dj).unwrap();
}

#[test]
fn schemas_are_unified_and_missing_columns_count_as_missing() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("lake/dt=2026-11-01");
    std::fs::create_dir_all(&dir).unwrap();
    write_parquet(
        &dir.join("a.parquet"),
        vec![("x", arr(Int64Array::from(vec![1, 2, 3]))), ("y", arr(StringArray::from(vec!["a", "b", "a"])))],
        10,
    );
    let dir2 = d.path().join("lake/dt=2026-11-02");
    std::fs::create_dir_all(&dir2).unwrap();
    write_parquet(&dir2.join("b.parquet"), vec![("x", arr(Int64Array::from(vec![4, 5])))], 10);
    let base = d.path().join("base");
    driftscope()
        .args(["baseline", "-q", "-o"])
        .arg(&base)
        .arg(d.path().join("lake"))
        .assert()
        .success()
        .stderr(predicate::str::contains("column 'y' is missing from 1 of 2 files"));
    let s = json(&base.join("statistics.json"));
    assert_eq!(s["dataset"]["item_count"], 5);
    let y = &s["features"][1]["string_statistics"]["common"];
    assert_eq!((y["num_present"].as_u64(), y["num_missing"].as_u64()), (Some(3), Some(2)));
    // Globs reach the same files.
    let g = d.path().join("glob");
    driftscope()
        .args(["baseline", "-q", "-o"])
        .arg(&g)
        .arg(format!("{}/lake/dt=*/*.parquet", d.path().display()))
        .assert()
        .success();
    assert_eq!(json(&g.join("statistics.json"))["dataset"]["item_count"], 5);
}

#[test]
fn resume_without_a_checkpoint_runs_normally_and_leaves_none() {
    let d = tempfile::tempdir().unwrap();
    let base = sample_baseline(d.path());
    let run = d.path().join("run");
    driftscope()
        .args(["monitor", "-q", "--resume", "-b"])
        .arg(&base)
        .arg("-o")
        .arg(&run)
        .arg(root().join("data"))
        .assert()
        .code(1);
    let drift = json(&run.join("drift.json"));
    assert_eq!(drift["current"]["resumed_files"], 0);
    let per_file = drift["current"]["per_file"].as_array().unwrap();
    assert_eq!(per_file.len(), 2);
    assert!(per_file.iter().all(|f| f["status"] == "ok" && f["rows"] == 20000));
    let names: Vec<_> =
        std::fs::read_dir(&run).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert!(names.iter().all(|n| !n.contains("checkpoint")), "{names:?}");
}

#[test]
fn columns_projection_and_bad_flag() {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().join("base");
    driftscope()
        .args(["baseline", "-q", "--columns", "age,plan", "-o"])
        .arg(&base)
        .arg(root().join("data/baseline.parquet"))
        .assert()
        .success();
    let s = json(&base.join("statistics.json"));
    let names: Vec<_> =
        s["features"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["age", "plan"]);
    driftscope()
        .args(["baseline", "-q", "--columns", "nope", "-o"])
        .arg(d.path().join("x"))
        .arg(root().join("data/baseline.parquet"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--columns: no column named 'nope'"));
}

#[test]
fn html_report_escapes_user_strings() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("x.parquet");
    write_parquet(&f, vec![("<script>alert(1)</script>", arr(StringArray::from(vec!["<b>bold</b>"; 50])))], 10);
    let base = d.path().join("base");
    driftscope().args(["baseline", "-q", "-o"]).arg(&base).arg(&f).assert().success();
    let g = d.path().join("y.parquet");
    write_parquet(&g, vec![("<script>alert(1)</script>", arr(StringArray::from(vec!["<i>new</i>"; 50])))], 10);
    driftscope().args(["monitor", "-q", "-b"]).arg(&base).arg("-o").arg(d.path().join("run")).arg(&g).assert().code(1);
    let html = std::fs::read_to_string(d.path().join("run/report.html")).unwrap();
    assert!(!html.contains("<script>") && !html.contains("<i>new"), "unescaped user string");
    assert!(html.contains("&lt;script&gt;") && html.contains("&lt;i&gt;new"));
}

#[test]
fn gpu_adapter_that_matches_nothing_is_a_clear_error() {
    let d = tempfile::tempdir().unwrap();
    driftscope()
        .env("WGPU_ADAPTER_NAME", "no-such-adapter-anywhere")
        .args(["baseline", "-q", "--backend", "gpu", "-o"])
        .arg(d.path().join("b"))
        .arg(root().join("data/baseline.parquet"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--backend: gpu").and(predicate::str::contains("WGPU_ADAPTER_NAME")));
    assert!(!d.path().join("b").exists());
}

/// Runs `baseline` then `monitor` with `backend` in `dir/<backend>` (relative paths, so that the
/// paths written in reports agree), and returns the JSON outputs and drift.json without the
/// backend's name.
fn both_jobs(dir: &Path, backend: &str, base: &Path, cur: &Path) -> (Vec<Vec<u8>>, serde_json::Value) {
    let cwd = dir.join(backend);
    std::fs::create_dir_all(&cwd).unwrap();
    driftscope()
        .current_dir(&cwd)
        .args(["baseline", "-q", "--backend", backend, "-o", "base"])
        .arg(base)
        .assert()
        .success();
    driftscope()
        .current_dir(&cwd)
        .args(["monitor", "-q", "--backend", backend, "-b", "base", "-o", "run"])
        .arg(cur)
        .assert()
        .code(1);
    let mut drift = json(&cwd.join("run/drift.json"));
    assert!(drift["backend"].as_str().unwrap().starts_with(backend), "{}", drift["backend"]);
    drift["backend"] = serde_json::Value::Null;
    let files = [
        "base/statistics.json",
        "base/constraints.json",
        "base/profile.json",
        "run/statistics.json",
        "run/constraint_violations.json",
        "run/profile.json",
    ]
    .iter()
    .map(|f| std::fs::read(cwd.join(f)).unwrap())
    .collect();
    (files, drift)
}

/// `--backend gpu` writes the same files as `--backend cpu`; only the backend named in
/// drift.json and the report differs.
#[test]
fn gpu_and_cpu_backends_write_the_same_files() {
    if crate::parity::gpu().is_none() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let (base, cur) = (root().join("data/baseline.parquet"), root().join("data/current.parquet"));
    let cpu = both_jobs(d.path(), "cpu", &base, &cur);
    let gpu = both_jobs(d.path(), "gpu", &base, &cur);
    assert!(cpu.0 == gpu.0, "JSON outputs differ between backends");
    assert_eq!(cpu.1, gpu.1);
}

/// A generated baseline capture and a drifted current one of `rows` rows each, in 65,536-row
/// groups, in `dir`.
fn generated_captures(dir: &Path, rows: usize) -> (std::path::PathBuf, std::path::PathBuf) {
    use driftscope::source::synth::{write_capture, CaptureSpec};
    let (base, cur) = (dir.join("base.parquet"), dir.join("cur.parquet"));
    for (path, seed, drifted) in [(&base, 1, false), (&cur, 2, true)] {
        write_capture(path, &CaptureSpec { rows, seed, drifted, row_group: 65_536, ..Default::default() }).unwrap();
    }
    (base, cur)
}

/// The same on generated captures with many row groups, dictionaries, nulls and identifiers.
#[test]
fn gpu_and_cpu_backends_agree_on_a_generated_capture() {
    if crate::parity::gpu().is_none() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let (base, cur) = generated_captures(d.path(), 400_000);
    let cpu = both_jobs(d.path(), "cpu", &base, &cur);
    let gpu = both_jobs(d.path(), "gpu", &base, &cur);
    assert!(cpu.0 == gpu.0, "JSON outputs differ between backends on the generated capture");
    assert_eq!(cpu.1, gpu.1);
}

/// With time windows the GPU counts each window's bins and categories in its kernels: every
/// window's figures (windows.csv), change points and verdicts are the CPU's.
#[test]
fn gpu_and_cpu_backends_agree_on_every_window() {
    if crate::parity::gpu().is_none() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let (base, cur) = generated_captures(d.path(), 200_000);
    driftscope()
        .args(["baseline", "-q", "--backend", "cpu", "-o"])
        .arg(d.path().join("base"))
        .arg(&base)
        .assert()
        .success();
    let run = |backend: &str| {
        let out = d.path().join(backend);
        driftscope()
            .args(["monitor", "-q", "--backend", backend, "--time-column", "event_time", "--window", "15m", "-b"])
            .arg(d.path().join("base"))
            .arg("-o")
            .arg(&out)
            .arg(&cur)
            .assert()
            .code(1);
        let mut drift = json(&out.join("drift.json"));
        drift["backend"] = serde_json::Value::Null;
        let csv = std::fs::read_to_string(out.join("windows.csv")).unwrap();
        (csv, std::fs::read(out.join("changepoints.json")).unwrap(), drift)
    };
    let (cpu, gpu) = (run("cpu"), run("gpu"));
    // 200,000 rows 37 ms apart: a little over two hours, nine 15-minute windows per feature.
    assert!(cpu.0.lines().filter(|l| l.contains(",f0,")).count() >= 9, "{}", cpu.0);
    assert!(cpu.0 == gpu.0, "windows.csv differs between backends");
    assert!(cpu.1 == gpu.1, "changepoints.json differs between backends");
    assert_eq!(cpu.2, gpu.2);
}

#[test]
fn devices_lists_adapters() {
    let a = driftscope().args(["devices", "--json"]).assert().success();
    let v: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    let list = v.as_array().unwrap();
    let text = driftscope().arg("devices").assert().success().get_output().stdout.clone();
    let text = String::from_utf8(text).unwrap();
    match crate::parity::gpu() {
        Some(g) => {
            // The adapter the GPU tests run on is listed, with its limits, in both forms.
            let name = &g.adapter().name;
            assert!(list.iter().any(|a| a["name"] == name.as_str()), "{name} not in {v}");
            assert!(list.iter().all(|a| a["max_storage_buffer_binding_size"].as_u64().unwrap() > 0));
            assert!(text.contains(&format!("adapter: {name}")), "{text}");
        }
        None => assert!(list.is_empty() || text.contains("adapter: "), "{text}"),
    }
}

/// `--backend auto` (the default) says what it chose and why; without a hardware GPU, or on a
/// job this small, that is the CPU.
#[test]
fn auto_backend_says_what_it_chose() {
    let d = tempfile::tempdir().unwrap();
    driftscope()
        .args(["baseline", "-q", "-o"])
        .arg(d.path().join("base"))
        .arg(root().join("data/baseline.parquet"))
        .assert()
        .success()
        .stderr(predicate::str::contains("on cpu (auto: "));
    driftscope()
        .args(["monitor", "-q", "-b"])
        .arg(d.path().join("base"))
        .arg("-o")
        .arg(d.path().join("run"))
        .arg(root().join("data/current.parquet"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("- backend: cpu (auto: "));
    // The files say what profiled the data; why it was chosen is in the summary.
    assert_eq!(json(&d.path().join("run/drift.json"))["backend"], "cpu");
}

/// Struct columns are flattened into `parent.child` features, lists and binary values profiled
/// by their lengths, and a type driftscope does not profile (a map) is skipped with its type as
/// the reason, never "no present values".
#[test]
fn structs_lists_binary_and_other_types() {
    use arrow_array::types::Int32Type;
    use arrow_array::{Array, BinaryArray, Int32Array, ListArray, MapArray, StructArray};
    use arrow_buffer::NullBuffer;
    use arrow_schema::{DataType, Field, Fields};
    use std::sync::Arc;
    let d = tempfile::tempdir().unwrap();
    let n = 600usize;
    let city: Arc<dyn Array> = Arc::new(StringArray::from((0..n).map(|i| ["Oslo", "Lima"][i % 2]).collect::<Vec<_>>()));
    let zip: Arc<dyn Array> = Arc::new(Int32Array::from((0..n).map(|i| i as i32).collect::<Vec<_>>()));
    let fields =
        Fields::from(vec![Field::new("city", DataType::Utf8, false), Field::new("zip", DataType::Int32, false)]);
    // Every tenth address is null: its children count as missing.
    let parents = NullBuffer::from((0..n).map(|i| i % 10 != 0).collect::<Vec<_>>());
    let address = StructArray::new(fields, vec![city, zip], Some(parents));
    let tags = ListArray::from_iter_primitive::<Int32Type, _, _>((0..n).map(|i| {
        if i % 5 == 0 {
            None
        } else {
            Some((0..(i % 4) as i32).map(Some).collect::<Vec<_>>())
        }
    }));
    let blob = BinaryArray::from((0..n).map(|i| Some(&b"abcdefgh"[..i % 9])).collect::<Vec<Option<&[u8]>>>());
    let offsets: Vec<u32> = (0..=n as u32).collect();
    let map = MapArray::new_from_strings(
        (0..n).map(|i| ["k", "j"][i % 2]),
        &Int32Array::from((0..n as i32).collect::<Vec<_>>()),
        &offsets,
    )
    .unwrap();
    let f = d.path().join("nested.parquet");
    write_parquet(
        &f,
        vec![("address", arr(address)), ("tags", arr(tags)), ("blob", arr(blob)), ("attrs", arr(map))],
        250,
    );
    let base = d.path().join("base");
    driftscope().args(["baseline", "-q", "-o"]).arg(&base).arg(&f).assert().success();
    let stats = json(&base.join("statistics.json"));
    let feature = |name: &str| stats["features"].as_array().unwrap().iter().find(|x| x["name"] == name).cloned();
    let city = feature("address.city").expect("address.city");
    assert_eq!(city["inferred_type"], "String");
    assert_eq!(city["string_statistics"]["common"]["num_missing"], 60);
    let zip = feature("address.zip").expect("address.zip");
    assert_eq!(zip["numerical_statistics"]["common"]["num_present"], 540);
    // Lists by length: 0..3 items, every fifth list null.
    let tags = feature("tags").unwrap();
    assert_eq!(tags["inferred_type"], "Integral");
    let lens: Vec<f64> = (0..n).filter(|i| i % 5 != 0).map(|i| (i % 4) as f64).collect();
    let mean = lens.iter().sum::<f64>() / lens.len() as f64;
    assert!((tags["numerical_statistics"]["mean"].as_f64().unwrap() - mean).abs() < 1e-12);
    assert_eq!(tags["numerical_statistics"]["common"]["num_missing"], 120);
    let blob = feature("blob").unwrap();
    assert_eq!(
        (blob["numerical_statistics"]["min"].as_f64(), blob["numerical_statistics"]["max"].as_f64()),
        (Some(0.0), Some(8.0))
    );
    // The map: rows counted, skipped from drift with its type named.
    driftscope().args(["monitor", "-q", "-b"]).arg(&base).arg("-o").arg(d.path().join("run")).arg(&f).assert().code(0);
    let drift = json(&d.path().join("run/drift.json"));
    let attrs = drift["features"].as_array().unwrap().iter().find(|x| x["name"] == "attrs").unwrap().clone();
    assert_eq!(attrs["status"], "skipped");
    assert!(attrs["reason"].as_str().unwrap().contains("Map"), "{attrs}");
    // A projection on a struct's child reads that struct.
    driftscope()
        .args(["baseline", "-q", "--columns", "address.zip", "-o"])
        .arg(d.path().join("proj"))
        .arg(&f)
        .assert()
        .success();
    let p = json(&d.path().join("proj/statistics.json"));
    let names: Vec<&str> = p["features"].as_array().unwrap().iter().map(|x| x["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["address.zip"]);
}

/// A feature constant in the baseline (all 1) and constant at another value in the capture (all
/// 2) drifts, with every distance at its maximum; a capture beyond the baseline's range shows
/// its whole shift (exact KS 1.0), not what fits in the open end bins.
#[test]
fn shifts_outside_the_baseline_range_are_seen() {
    let d = tempfile::tempdir().unwrap();
    let rows = 2000;
    let (base, cur) = (d.path().join("base.parquet"), d.path().join("cur.parquet"));
    write_parquet(
        &base,
        vec![
            ("constant", arr(Float64Array::from(vec![1.0; rows]))),
            ("binary", arr(Int64Array::from((0..rows as i64).map(|i| i % 2).collect::<Vec<_>>()))),
        ],
        500,
    );
    write_parquet(
        &cur,
        vec![
            ("constant", arr(Float64Array::from(vec![2.0; rows]))),
            ("binary", arr(Int64Array::from(vec![5i64; rows]))),
        ],
        500,
    );
    let b = d.path().join("b");
    driftscope().args(["baseline", "-q", "-o"]).arg(&b).arg(&base).assert().success();
    driftscope().args(["monitor", "-q", "-b"]).arg(&b).arg("-o").arg(d.path().join("run")).arg(&cur).assert().code(1);
    let drift = json(&d.path().join("run/drift.json"));
    for name in ["constant", "binary"] {
        let f = drift["features"].as_array().unwrap().iter().find(|x| x["name"] == name).unwrap().clone();
        assert_eq!(f["status"], "drift", "{f}");
        assert_eq!(f["numeric"]["ks_statistic"], 1.0, "{f}");
        assert_eq!(f["numeric"]["linf_simple"], 1.0, "{f}");
    }
}

#[test]
fn dataset_level_verdict_is_the_share_of_drifted_features() {
    let d = tempfile::tempdir().unwrap();
    let base = sample_baseline(d.path());
    let run = |share: &str| {
        let out = d.path().join(format!("run-{share}"));
        let a = driftscope()
            .args(["monitor", "-q", "--dataset-drift-share", share, "-b"])
            .arg(&base)
            .arg("-o")
            .arg(&out)
            .arg(root().join("data/current.parquet"))
            .assert()
            .code(1);
        (json(&out.join("drift.json")), String::from_utf8_lossy(&a.get_output().stdout).to_string())
    };
    let (drift, md) = run("0.5");
    let s = &drift["summary"];
    let (drifted, compared) = (s["features_drifted"].as_u64().unwrap(), s["features_compared"].as_u64().unwrap());
    let share = drifted as f64 / compared as f64;
    assert_eq!(s["dataset_drift"]["share"].as_f64().unwrap(), share);
    assert_eq!(s["dataset_drift"]["drift"], share >= 0.5);
    assert!(md.contains(&format!("{drifted} of {compared} compared features drifted")), "{md}");
    // A threshold at the observed share makes the dataset drift.
    let (drift, md) = run(&format!("{share}"));
    assert_eq!(drift["summary"]["dataset_drift"]["drift"], true);
    assert!(md.contains("- dataset: drifted"), "{md}");
    driftscope()
        .args(["monitor", "-q", "--dataset-drift-share", "0", "-b"])
        .arg(&base)
        .arg("-o")
        .arg(d.path().join("bad"))
        .arg(root().join("data/current.parquet"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--dataset-drift-share"));
}

/// At 300 rows, a shift of half a standard deviation (exact KS 0.197, p ≈ 3e-5) stays under
/// the Robust L∞ rule's sample-size allowance, while `--ks-alpha 0.01` sees it; the same data
/// again passes both.
#[test]
fn ks_rule_sees_a_small_sample_shift_that_robust_linf_allows() {
    use statrs::distribution::{ContinuousCDF, Normal};
    let d = tempfile::tempdir().unwrap();
    let n = 300;
    let z = Normal::new(0.0, 1.0).unwrap();
    let sample =
        |shift: f64| -> Vec<f64> { (0..n).map(|i| z.inverse_cdf((i as f64 + 0.5) / n as f64) + shift).collect() };
    let file = |name: &str, shift: f64| {
        let p = d.path().join(name);
        write_parquet(&p, vec![("x", arr(Float64Array::from(sample(shift))))], 1000);
        p
    };
    let (train, same, shifted) = (file("train.parquet", 0.0), file("same.parquet", 0.0), file("shifted.parquet", 0.5));
    let base = d.path().join("base");
    driftscope().args(["baseline", "-q", "-o"]).arg(&base).arg(&train).assert().success();
    let verdict = |input: &Path, ks: bool| {
        let out = d.path().join(format!("out-{}-{ks}", input.file_stem().unwrap().to_string_lossy()));
        let mut c = driftscope();
        c.args(["monitor", "-q", "-b"]).arg(&base).arg("-o").arg(&out).arg(input);
        if ks {
            c.args(["--ks-alpha", "0.01"]);
        }
        c.assert().code(predicate::in_iter([0, 1]));
        let drift = json(&out.join("drift.json"));
        let x = drift["features"].as_array().unwrap().iter().find(|f| f["name"] == "x").unwrap().clone();
        (
            x["status"].as_str().unwrap().to_string(),
            x["method"].as_str().unwrap().to_string(),
            x["distance"].as_f64().unwrap(),
        )
    };
    assert_eq!(verdict(&shifted, false).0, "ok", "Robust L∞ allows 0.197 at 300 rows");
    let (status, method, p) = verdict(&shifted, true);
    assert_eq!((status.as_str(), method.as_str()), ("drift", "ks_pvalue"));
    // The asymptotic Kolmogorov p-value of D = 0.197 at n = m = 300 (λ ≈ 2.44) is about 1.4e-5.
    assert!(p < 1e-4, "{p}");
    let (status, _, p) = verdict(&same, true);
    assert_eq!(status, "ok");
    assert!(p > 0.5, "{p}");
}

/// The report's verdict table puts the worst first: drifted features by distance ÷ threshold,
/// then the others by the same ratio, skipped ones last (the order drift.json's figures give);
/// the printed summary's table too.
#[test]
fn report_lists_the_worst_features_first() {
    let d = tempfile::tempdir().unwrap();
    let base = sample_baseline(d.path());
    let out = d.path().join("out");
    let run = monitor_sample(&base, &out);
    let markdown = String::from_utf8(run.get_output().stdout.clone()).unwrap();
    let drift = json(&out.join("drift.json"));
    let mut want: Vec<(u8, f64, String)> = drift["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let rank = match f["status"].as_str().unwrap() {
                "drift" => 0,
                "ok" => 1,
                _ => 2,
            };
            let ratio = match (f["distance"].as_f64(), f["threshold"].as_f64()) {
                (Some(x), Some(t)) if t > 0.0 => x / t,
                (Some(x), _) => x,
                _ => f64::NEG_INFINITY,
            };
            (rank, -ratio, f["name"].as_str().unwrap().to_string())
        })
        .collect();
    want.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let table = &html[html.find("<h2>Verdicts</h2>").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    let got: Vec<&str> = table.split("<a href=\"#f-").skip(1).map(|s| &s[..s.find('"').unwrap()]).collect();
    assert_eq!(got, want.iter().map(|w| w.2.as_str()).collect::<Vec<_>>());
    assert!(want[0].0 == 0 && want.last().unwrap().0 == 2, "the sample has drifted and skipped features");
    let rows: Vec<&str> = markdown
        .lines()
        .skip_while(|l| !l.starts_with("| feature |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.split('|').nth(1).unwrap().trim())
        .collect();
    assert_eq!(rows, want.iter().map(|w| w.2.as_str()).collect::<Vec<_>>());
}

/// `bench --window` times the windowed profile and monitor beside the plain ones, and counts
/// the windows the generated capture's event_time falls in (read back from the file here).
#[test]
fn bench_times_windows() {
    let d = tempfile::tempdir().unwrap();
    let a = driftscope()
        .args(["bench", "--rows", "30000", "--row-group", "8192", "--runs", "1", "--backend", "cpu"])
        .args(["--window", "15m", "--json", "--dir"])
        .arg(d.path())
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    let file = std::fs::File::open(d.path().join("current-30000.parquet")).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap().build().unwrap();
    let mut windows = std::collections::BTreeSet::new();
    for b in reader {
        let b = b.unwrap();
        let t = b.column_by_name("event_time").unwrap();
        let t = t.as_any().downcast_ref::<arrow_array::TimestampMillisecondArray>().unwrap();
        windows.extend(t.iter().flatten().map(|ms| ms.div_euclid(900_000)));
    }
    let stages: Vec<&str> = v["stages"].as_array().unwrap().iter().map(|s| s["stage"].as_str().unwrap()).collect();
    let want = format!("profile, {} windows of 15m", windows.len());
    assert!(stages.contains(&want.as_str()), "{stages:?} lacks {want}");
    assert!(stages.contains(&"end to end (monitor --window 15m)"), "{stages:?}");
    assert!(v["stages"].as_array().unwrap().iter().all(|s| s["seconds"].as_f64().unwrap() > 0.0));
    // Without the capture's time column there is nothing to key by.
    driftscope()
        .args(["bench", "--rows", "1000", "--runs", "1", "--backend", "cpu", "--shape", "floats", "--window", "1h"])
        .arg("--dir")
        .arg(d.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--window: the bench's windows need the capture shape"));
}

/// Every file of a folder, by name, with its bytes.
fn folder_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    out.sort();
    out
}

#[test]
fn an_output_folder_never_overwrites_a_baseline() {
    let d = tempfile::tempdir().unwrap();
    let base = sample_baseline(d.path());
    let kept = folder_bytes(&base);
    let current = root().join("data/current.parquet");
    let refused = |args: &[&str], out: &Path, says: &str| {
        driftscope()
            .args(args)
            .arg("-o")
            .arg(out)
            .arg(&current)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(out.display().to_string()))
            .stderr(predicate::str::contains(says))
            .stderr(predicate::str::contains("--force"));
    };
    let b = base.to_str().unwrap();
    // The baseline folder itself, and a folder inside it.
    refused(&["monitor", "-q", "-b", b], &base, "is the baseline folder");
    refused(&["monitor", "-q", "-b", b], &base.join("run"), "inside the baseline folder");
    // The same folder spelled another way still is the baseline folder.
    refused(&["monitor", "-q", "-b", b], &base.join("..").join("base"), "is the baseline folder");
    refused(&["calibrate", "-q", "--window-rows", "100", "-b", b], &base, "is the baseline folder");
    // An existing baseline, by `baseline` and by a monitoring run against another baseline.
    refused(&["baseline", "-q"], &base, "already holds a baseline");
    let other = d.path().join("other");
    crate::common::baseline_of(&root().join("data/baseline.parquet"), &other);
    refused(&["monitor", "-q", "-b", other.to_str().unwrap()], &base, "already holds a baseline");
    assert_eq!(folder_bytes(&base), kept, "a refused run changed the baseline");
    assert!(!base.join("run").exists(), "a refused run left a folder behind");
    // A monitoring run may write over an earlier monitoring run; a baseline may not.
    let run = d.path().join("run");
    crate::common::monitor_sample(&base, &run);
    crate::common::monitor_sample(&base, &run);
    refused(&["baseline", "-q"], &run, "already holds a monitoring run's outputs");
    // --force writes there anyway.
    driftscope()
        .args(["monitor", "-q", "--force", "-b"])
        .arg(&base)
        .arg("-o")
        .arg(base.join("run"))
        .arg(&current)
        .assert()
        .code(1);
    driftscope().args(["baseline", "-q", "--force", "-o"]).arg(&base).arg(&current).assert().success();
    assert_ne!(folder_bytes(&base), kept, "--force did not write the baseline");
}

/// The library names its options in its own words (Python users set no flags): no string in
/// driftscope-core names a CLI flag, and an option's error is typed, the CLI adding the flag.
#[test]
fn library_messages_name_no_cli_flags() {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(&root().join("core/src"), &mut files);
    let flag = |s: &str| s.match_indices("--").any(|(i, _)| s[i + 2..].starts_with(|c: char| c.is_ascii_lowercase()));
    let mut found = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        // Test modules and comments may name flags; strings outside them may not.
        let code = text.split("#[cfg(test)]").next().unwrap();
        for (n, line) in code.lines().enumerate() {
            let code_part = line.split("//").next().unwrap();
            for (i, lit) in code_part.split('"').enumerate() {
                // The bench's stage label names the command it times, not an option.
                if i % 2 == 1 && flag(lit) && !lit.starts_with("end to end (monitor") {
                    found.push(format!("{}:{}: {lit}", f.display(), n + 1));
                }
            }
        }
    }
    assert!(files.len() > 40, "only {} source files found", files.len());
    assert!(found.is_empty(), "library strings naming CLI flags:\n{}", found.join("\n"));
    // The option's error is typed; the CLI shows the flag.
    let d = tempfile::tempdir().unwrap();
    let base = sample_baseline(d.path());
    let mut opts = driftscope::jobs::JobOptions::new(
        vec![root().join("data/current.parquet").display().to_string()],
        d.path().join("run"),
    );
    opts.windows = Some(driftscope::jobs::TimeOptions {
        column: Some("nope".into()),
        window: "1h".parse().unwrap(),
        limit: 10,
        reference: Default::default(),
        changes: Default::default(),
    });
    let e = driftscope::jobs::run_monitor(&opts, Some(&base)).unwrap_err();
    assert!(matches!(e, driftscope::Error::Invalid { option: driftscope::Opt::TimeColumn, .. }), "{e:?}");
    assert_eq!(e.to_string(), "time column: no column named 'nope' in any input");
    driftscope()
        .args(["monitor", "-q", "--window", "1h", "--time-column", "nope", "-b"])
        .arg(&base)
        .arg("-o")
        .arg(d.path().join("cli"))
        .arg(root().join("data/current.parquet"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--time-column: no column named 'nope' in any input"));
}

/// The library's stages import only the stages below them (lib.rs's tour, in data-flow order):
/// no cycle, and no stage reaching up, e.g. the backend into the judge or the engine into the
/// output. Read from the source: every `crate::STAGE` path outside tests and comments.
#[test]
fn stages_import_only_the_stages_below_them() {
    const FLOORS: [&str; 11] =
        ["error", "codec", "source", "profile", "backend", "engine", "judge", "time", "quality", "output", "jobs"];
    let floor = |name: &str| FLOORS.iter().position(|f| *f == name);
    let src = root().join("core/src");
    let mut upward = Vec::new();
    let mut seen = 0;
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        let stage = p.file_stem().unwrap().to_string_lossy().to_string();
        if stage == "lib" {
            continue;
        }
        let Some(mine) = floor(&stage) else { panic!("core/src/{stage}: not a stage of the tour") };
        let mut files = vec![p.clone()];
        let mut i = 0;
        while i < files.len() {
            if files[i].is_dir() {
                let dir = files.remove(i);
                files.extend(std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()));
            } else {
                i += 1;
            }
        }
        for f in files.iter().filter(|f| f.extension().is_some_and(|x| x == "rs")) {
            seen += 1;
            let text = std::fs::read_to_string(f).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap();
            for line in code.lines().map(|l| l.split("//").next().unwrap()) {
                for (at, _) in line.match_indices("crate::") {
                    let name: String =
                        line[at + 7..].chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
                    if let Some(theirs) = floor(&name).filter(|&t| t > mine) {
                        upward.push(format!("{}: {stage} imports {}", f.display(), FLOORS[theirs]));
                    }
                }
            }
        }
    }
    assert!(seen > 40, "only {seen} files read");
    assert!(upward.is_empty(), "stages reaching up:\n{}", upward.join("\n"));
}

/// A semicolon CSV is read as its columns, not as one column of text that passes silently.
#[test]
fn a_semicolon_csv_baseline_has_its_columns() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("train.csv");
    let mut body = String::from("age;income;plan\n");
    for i in 0..200 {
        body.push_str(&format!("{};{},5;{}\n", 20 + i % 50, 1000 + i * 7, ["basic", "pro"][i % 2]));
    }
    std::fs::write(&f, body).unwrap();
    let base = d.path().join("base");
    crate::common::baseline_of(&f, &base);
    let stats = json(&base.join("statistics.json"));
    let names: Vec<&str> = stats["features"].as_array().unwrap().iter().map(|x| x["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["age", "income", "plan"]);
    let age = stats["features"].as_array().unwrap().iter().find(|x| x["name"] == "age").unwrap();
    assert_eq!(age["inferred_type"], "Integral");
}

/// A folder's stray notes, logs and markers are listed as ignored and the run goes on (a
/// README.txt beside the data made the run exit 2); a file named as an input is still read.
#[test]
fn files_that_are_not_data_are_ignored_in_folders() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("train");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(root().join("data/baseline.parquet"), dir.join("part-0.parquet")).unwrap();
    std::fs::write(dir.join("README.txt"), "how this data was made").unwrap();
    std::fs::write(dir.join("notes.md"), "# notes").unwrap();
    std::fs::write(dir.join("part-0.parquet.done"), "").unwrap();
    let base = d.path().join("base");
    driftscope()
        .args(["baseline", "-q", "-o"])
        .arg(&base)
        .arg(&dir)
        .assert()
        .success()
        .stderr(predicate::str::contains("ignored 3 files that are not data"))
        .stderr(predicate::str::contains("README.txt"));
    assert_eq!(json(&base.join("statistics.json"))["dataset"]["item_count"], 20000);
    driftscope()
        .args(["baseline", "-q", "-o"])
        .arg(d.path().join("named"))
        .arg(dir.join("README.txt"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("README.txt"));
}

/// Another table's baseline is refused with one line, not a violation per missing column.
#[test]
fn a_baseline_of_another_table_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let base = sample_baseline(d.path());
    let other = d.path().join("other.csv");
    let mut body = String::from("age,temperature,pressure,humidity\n");
    for i in 0..100 {
        body.push_str(&format!("{},{}.5,{},{}\n", 20 + i % 40, 15 + i % 10, 1000 + i, 40 + i % 30));
    }
    std::fs::write(&other, body).unwrap();
    // One of the sample's eight columns (age) is there: fewer than half.
    driftscope()
        .args(["monitor", "-q", "-b"])
        .arg(&base)
        .arg("-o")
        .arg(d.path().join("run"))
        .arg(&other)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("-b/--baseline:"))
        .stderr(predicate::str::contains("the inputs hold 1 of its 9 columns"))
        .stderr(predicate::str::contains("is this the right baseline?"));
    assert!(!d.path().join("run").exists(), "a refused run wrote nothing");
}

/// Each command's help shows an example and its exit codes, and the jobs' inputs name every
/// kind they read.
#[test]
fn help_shows_examples_exit_codes_and_input_kinds() {
    for cmd in ["baseline", "monitor", "changepoints", "calibrate", "watch"] {
        let out = driftscope().args([cmd, "--help"]).output().unwrap();
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{cmd}: {help}");
        assert!(help.contains(&format!("driftscope {cmd} ")) && help.contains("Exit codes:"), "{cmd}: {help}");
        if cmd != "watch" {
            for kind in ["CSV", "JSON Lines", "s3://", "az://", "gs://", "glob"] {
                assert!(help.contains(kind), "{cmd} --help does not name {kind}");
            }
            assert!(help.contains("3 "), "{cmd} --help does not say what exit code 3 means");
        }
    }
    let top = driftscope().arg("--help").output().unwrap();
    assert!(String::from_utf8_lossy(&top.stdout).contains("3 nothing profiled"));
}

/// Shell completions and man pages come from the clap definitions themselves: bash loads the
/// script and completes a command's flags from it; every command has its page, naming its flags.
#[test]
fn completions_and_man_pages_come_from_the_flags() {
    let d = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let a = driftscope().args(["completions", shell]).assert().success();
        let script = String::from_utf8(a.get_output().stdout.clone()).unwrap();
        assert!(script.contains("driftscope") && script.contains("window-rows"), "{shell}");
    }
    let a = driftscope().args(["completions", "bash"]).assert().success();
    let script = d.path().join("driftscope.bash");
    std::fs::write(&script, &a.get_output().stdout).unwrap();
    // What bash offers after `driftscope monitor --win`.
    let probe = format!(
        "source {}; COMP_WORDS=(driftscope monitor --win); COMP_CWORD=2; COMP_LINE='driftscope monitor --win'; \
         COMP_POINT=${{#COMP_LINE}}; _driftscope driftscope --win monitor; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display()
    );
    let out = std::process::Command::new("bash").args(["-c", &probe]).output().unwrap();
    let offered = String::from_utf8_lossy(&out.stdout);
    assert!(offered.lines().any(|l| l == "--window") && offered.lines().any(|l| l == "--window-rows"), "{offered}");
    let pages = d.path().join("man");
    driftscope().args(["man", "--dir"]).arg(&pages).assert().success();
    for command in ["baseline", "monitor", "changepoints", "calibrate", "watch", "bench", "devices"] {
        let page = std::fs::read_to_string(pages.join(format!("driftscope-{command}.1"))).unwrap();
        assert!(page.contains(&format!(".TH driftscope-{command} 1")), "{command}");
    }
    let monitor = std::fs::read_to_string(pages.join("driftscope-monitor.1")).unwrap();
    for flag in ["baseline", "window", "time\\-column", "reference", "prometheus"] {
        assert!(monitor.contains(&format!("\\-\\-{flag}")), "--{flag} not in the monitor page");
    }
    let a = driftscope().arg("man").assert().success();
    assert!(String::from_utf8_lossy(&a.get_output().stdout).contains(".TH driftscope 1"));
}

/// A mistyped column name is answered with the nearest names the inputs hold.
#[test]
fn a_mistyped_column_is_answered_with_the_nearest_names() {
    let d = tempfile::tempdir().unwrap();
    let a = driftscope()
        .args(["changepoints", "-q", "--window", "1h", "--time-column", "event_tme", "-o"])
        .arg(d.path().join("cp"))
        .arg(root().join("data/current.parquet"))
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(
        err.contains("--time-column: no column named 'event_tme' in any input; did you mean 'event_time'?"),
        "{err}"
    );
    let a = driftscope()
        .args(["baseline", "-q", "--columns", "Age,income", "-o"])
        .arg(d.path().join("b"))
        .arg(root().join("data/baseline.parquet"))
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("no column named 'Age' in any input; did you mean 'age'?"), "{err}");
    // Nothing close: no suggestion.
    let a = driftscope()
        .args(["changepoints", "-q", "--window", "1h", "--time-column", "zzz", "-o"])
        .arg(d.path().join("cp2"))
        .arg(root().join("data/current.parquet"))
        .assert()
        .code(2);
    assert!(!String::from_utf8_lossy(&a.get_output().stderr).contains("did you mean"));
}

/// `--delimiter` names the CSV delimiter where sniffing cannot tell: a headerless file whose
/// records split into as many fields at `,` (decimal commas) as at `;`.
#[test]
fn delimiter_flag_reads_what_sniffing_cannot_tell() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("eu.csv");
    let rows: String = (0..40).map(|i| format!("{i},5;{}\n", i * 2)).collect();
    std::fs::write(&f, rows).unwrap();
    let names = |out: &std::path::Path| -> Vec<(String, String)> {
        let s = crate::common::json(&out.join("statistics.json"));
        s["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| (x["name"].as_str().unwrap().to_string(), x["inferred_type"].as_str().unwrap().to_string()))
            .collect()
    };
    let sniffed = d.path().join("sniffed");
    driftscope().args(["baseline", "-q", "-o"]).arg(&sniffed).arg(&f).assert().success();
    let told = d.path().join("told");
    driftscope().args(["baseline", "-q", "--delimiter", ";", "-o"]).arg(&told).arg(&f).assert().success();
    // Sniffed: split at the decimal comma; told: the second column is the integers.
    assert_eq!(names(&sniffed)[0], ("_c0".to_string(), "Integral".to_string()));
    assert_eq!(names(&told), vec![("_c0".into(), "String".into()), ("_c1".into(), "Integral".into())]);
    driftscope().args(["baseline", "-q", "--delimiter", "ab", "-o"]).arg(d.path().join("x")).arg(&f).assert().code(2);
}

/// `watch` takes a capture's inferenceTime when no time column is named, as the other jobs do;
/// a file without the time column fails with a line naming the column and what the file holds,
/// instead of adding rows without a time.
#[test]
fn watch_defaults_to_a_captures_inference_time() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let capture = input.join("capture.jsonl");
    std::fs::copy(root().join("tests/data/quality/bc_capture.jsonl"), &capture).unwrap();
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options().write(true).open(&capture).unwrap().set_modified(old).unwrap();
    let base = d.path().join("base");
    driftscope().args(["baseline", "-q", "-o"]).arg(&base).arg(&capture).assert().success();
    let out = d.path().join("out");
    let a = driftscope()
        .args(["watch", "-q", "--grace", "0s", "--once", "-b"])
        .arg(&base)
        .arg("-o")
        .arg(&out)
        .arg(&input)
        .assert();
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(matches!(a.get_output().status.code(), Some(0 | 1)), "{err}");
    assert!(err.contains("1 files folded, 0 failed") && err.contains("29 windows closed"), "{err}");
    assert!(err.contains("0 rows without a time"), "{err}");
    // A Parquet file whose time column is called otherwise.
    let other = d.path().join("other");
    std::fs::create_dir(&other).unwrap();
    let f = other.join("current.parquet");
    std::fs::copy(root().join("data/current.parquet"), &f).unwrap();
    std::fs::File::options().write(true).open(&f).unwrap().set_modified(old).unwrap();
    let a = driftscope()
        .args(["watch", "-q", "--grace", "0s", "--once", "-b"])
        .arg(&base)
        .arg("-o")
        .arg(d.path().join("out2"))
        .arg(&other)
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(
        err.contains("no column 'eventMetadata.inferenceTime' (the time of each row)") && err.contains("event_time"),
        "{err}"
    );
}

/// Every job ends by saying what to open or run next, and its backend in a few words.
#[test]
fn every_job_ends_with_what_to_open_next() {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().join("base");
    let a =
        driftscope().args(["baseline", "-o"]).arg(&base).arg(root().join("data/baseline.parquet")).assert().success();
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    let last = err.lines().last().unwrap();
    assert_eq!(last, format!("driftscope: next: driftscope monitor -b {} -o OUT CAPTURES...", base.display()));
    // The backend in a few words: no paragraph on software adapters.
    let summary = err.lines().find(|l| l.starts_with("driftscope: baseline of")).unwrap();
    assert!(!summary.contains("a software adapter is slower"), "{summary}");
    let run = d.path().join("run");
    let a = driftscope()
        .args(["monitor", "--window", "1h", "--time-column", "event_time", "-b"])
        .arg(&base)
        .arg("-o")
        .arg(&run)
        .arg(root().join("data/current.parquet"))
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    let next = err.lines().last().unwrap();
    assert_eq!(next, format!("driftscope: next: open {0}/report.html and {0}/windows.csv", run.display()));
    assert!(run.join("report.html").is_file() && run.join("windows.csv").is_file());
    let cp = d.path().join("cp");
    let a = driftscope()
        .args(["changepoints", "--window", "1h", "--time-column", "event_time", "-o"])
        .arg(&cp)
        .arg(root().join("data/current.parquet"))
        .assert()
        .success();
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert_eq!(err.lines().last().unwrap(), format!("driftscope: next: {}/changepoints.json", cp.display()));
}
