use driftscope::judge::bias::{metrics, FacetCounts};
use predicates::str::contains;

use crate::common::*;

/// Clarify's bias metrics from counts against smclarify's on the rows
/// (`tests/reference/make_bias.py`): a categorical facet with one and with two sensitive
/// values, without a group variable, a continuous facet above a threshold, and a small lopsided
/// table whose ratios divide by zero. Every pre- and post-training metric to 1e-12, the
/// infinities and the errors (a metric smclarify cannot compute) included.
#[test]
fn bias_metrics_match_smclarify() {
    let cases = json(&root().join("tests/data/bias_smclarify.json"));
    let cases = cases.as_array().unwrap();
    assert_eq!(cases.len(), 6);
    let mut compared = 0;
    // A facet reported by value is checked end to end (`bias_by_facet_value`).
    for c in cases.iter().filter(|c| c["per_value"].is_null()) {
        let name = c["name"].as_str().unwrap();
        let rows = &c["rows"];
        let facet = rows["facet"].as_array().unwrap();
        let values: Vec<&str> =
            c["facet_values"].as_array().map(|v| v.iter().map(|x| x.as_str().unwrap()).collect()).unwrap_or_default();
        let threshold = c["facet_threshold"].as_f64();
        let sensitive = |i: usize| match threshold {
            Some(t) => facet[i].as_f64().unwrap() > t,
            None => values.contains(&facet[i].as_str().unwrap()),
        };
        let flag = |k: &str, i: usize| rows[k][i].as_i64().unwrap() == 1;
        let group = |i: usize| rows["group"].as_array().map(|g| g[i].as_str().unwrap());
        for (stage, predicted) in [("pre_training", false), ("post_training", true)] {
            let mut counts = FacetCounts::new(predicted);
            for i in 0..facet.len() {
                counts.add(sensitive(i), flag("label", i), Some(flag("predicted", i)), group(i));
            }
            let got = metrics(&counts);
            for (metric, want) in c[stage].as_object().unwrap() {
                let mine = &got[metric.as_str()];
                match want {
                    serde_json::Value::Null => assert!(mine.is_err(), "{name} {metric}: {mine:?}, smclarify has none"),
                    serde_json::Value::String(s) => {
                        let inf = if s.starts_with('-') { f64::NEG_INFINITY } else { f64::INFINITY };
                        assert_eq!(mine.as_ref().ok(), Some(&inf), "{name} {metric}");
                    }
                    v => {
                        let (w, g) =
                            (v.as_f64().unwrap(), *mine.as_ref().unwrap_or_else(|e| panic!("{name} {metric}: {e}")));
                        assert!(
                            (g - w).abs() <= 1e-12 * w.abs().max(1.0),
                            "{name} {metric}: {g} against smclarify's {w}"
                        );
                    }
                }
                compared += 1;
            }
        }
    }
    assert!(compared >= 100, "{compared}");
}

/// The rows of a recorded case as a Parquet file with a time column (one row a minute from
/// 2026-01-01) and a Clarify configuration naming its columns; returns the config's path.
fn case_files(
    dir: &std::path::Path,
    case: &serde_json::Value,
    flip: Option<usize>,
) -> (std::path::PathBuf, std::path::PathBuf) {
    case_files_with(dir, case, flip, r#"{"name_or_index": "gender", "value_or_threshold": ["F"]}"#)
}

/// [`case_files`] with the configuration's facet entry given.
fn case_files_with(
    dir: &std::path::Path,
    case: &serde_json::Value,
    flip: Option<usize>,
    facet_entry: &str,
) -> (std::path::PathBuf, std::path::PathBuf) {
    use arrow_array::{Int64Array, StringArray, TimestampMillisecondArray};
    let rows = &case["rows"];
    let n = rows["label"].as_array().unwrap().len();
    let ints = |k: &str| -> Vec<i64> { rows[k].as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect() };
    let texts = |k: &str| -> Vec<String> {
        rows[k].as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect()
    };
    let mut label = ints("label");
    // A biased copy: every `flip`-th sensitive positive label made negative, in the second half.
    let facet = texts("facet");
    if let Some(k) = flip {
        let flipped: Vec<usize> = (n / 2..n).filter(|&i| facet[i] == "F" && label[i] == 1).step_by(k).collect();
        for i in flipped {
            label[i] = 0;
        }
    }
    let start = 1_767_225_600_000i64;
    let time = TimestampMillisecondArray::from((0..n as i64).map(|i| start + i * 60_000).collect::<Vec<_>>())
        .with_timezone("UTC");
    let path = dir.join(format!("rows-{}.parquet", flip.unwrap_or(0)));
    write_parquet(
        &path,
        vec![
            ("event_time", arr(time)),
            ("gender", arr(StringArray::from(facet))),
            ("target", arr(Int64Array::from(label))),
            ("pred", arr(Int64Array::from(ints("predicted")))),
            ("region", arr(StringArray::from(texts("group")))),
        ],
        500,
    );
    let config = dir.join("config.json");
    std::fs::write(
        &config,
        format!(
            r#"{{"dataset_type": "application/x-parquet", "label": "target", "label_values_or_threshold": [1],
            "facet": [{facet_entry}], "group_variable": "region", "predicted_label": "pred",
            "methods": {{"pre_training_bias": {{"methods": "all"}}, "post_training_bias": {{"methods": "all"}}}}}}"#
        ),
    )
    .unwrap();
    (path, config)
}

/// The baseline a case's rows give (`baseline --bias-config`), its analysis read back.
fn baseline_analysis(
    dir: &std::path::Path,
    rows: &std::path::Path,
    config: &std::path::Path,
) -> (std::path::PathBuf, serde_json::Value) {
    let base = dir.join("base");
    driftscope()
        .args(["baseline", "-q", "--bias-config"])
        .arg(config)
        .arg("-o")
        .arg(&base)
        .arg(rows)
        .assert()
        .success();
    let analysis = json(&base.join("bias/analysis.json"));
    (base, analysis)
}

/// Compares an analysis entry's metrics with smclarify's figures (`want`, by name): values to
/// 1e-12, errors where smclarify has none. Returns how many values were compared.
fn compare_entry(entry: &serde_json::Value, want: &serde_json::Value) -> usize {
    let mut compared = 0;
    let what = entry["value_or_threshold"].as_str().unwrap_or("");
    for m in entry["metrics"].as_array().unwrap() {
        match want[m["name"].as_str().unwrap()].as_f64() {
            Some(w) => {
                let g = m["value"].as_f64().unwrap();
                assert!((g - w).abs() <= 1e-12 * w.abs().max(1.0), "{what} {}: {g} against smclarify's {w}", m["name"]);
                compared += 1;
            }
            None => assert!(m["error"].is_string(), "{what} {m}"),
        }
    }
    compared
}

/// `baseline --bias-config` writes Clarify's bias analysis.json with smclarify's figures for the
/// same rows; `monitor` on the same rows raises nothing, on a copy whose sensitive facet lost
/// positive labels in its second day raises bias_drift_check violations in Clarify's format
/// and exits 1, and per day writes windows.csv.
#[test]
fn bias_drift_end_to_end() {
    let cases = json(&root().join("tests/data/bias_smclarify.json"));
    let case = &cases.as_array().unwrap()[0];
    assert_eq!(case["name"], "gender_F");
    let dir = tempfile::tempdir().unwrap();
    let (rows, config) = case_files(dir.path(), case, None);
    let (base, analysis) = baseline_analysis(dir.path(), &rows, &config);
    let mut compared = 0;
    for (stage, key) in [("pre_training", "pre_training_bias_metrics"), ("post_training", "post_training_bias_metrics")]
    {
        let facet = &analysis[key]["facets"]["gender"][0];
        assert_eq!(facet["value_or_threshold"], "F");
        compared += compare_entry(facet, &case[stage]);
    }
    assert!(compared >= 19, "{compared}");
    let monitor = |input: &std::path::Path, out: &str, code: i32, flags: &[&str]| {
        let out = dir.path().join(out);
        driftscope()
            .args(["monitor", "-q"])
            .args(flags)
            .arg("--bias-config")
            .arg(&config)
            .arg("-b")
            .arg(&base)
            .arg("-o")
            .arg(&out)
            .arg(input)
            .assert()
            .code(code);
        out
    };
    // The same rows: every metric equals its baseline value, none is farther from zero. Per day,
    // Clarify's rule flags the days whose metrics sampling noise moved outwards; the default
    // rule, which allows for that noise, none.
    let same = monitor(&rows, "same", 0, &[]);
    assert_eq!(json(&same.join("bias/constraint_violations.json"))["violations"], serde_json::json!([]));
    let daily = ["--window", "1d", "--time-column", "event_time"];
    monitor(&rows, "same-daily", 0, &daily);
    let clarify = monitor(&rows, "same-daily-clarify", 1, &[&daily[..], &["--bias-rule", "clarify"]].concat());
    assert_eq!(json(&clarify.join("drift.json"))["bias"]["rule"], "clarify");
    // The sensitive facet loses every positive label in the second half of the rows.
    let (biased, _) = case_files(dir.path(), case, Some(1));
    let run = monitor(&biased, "biased", 1, &daily);
    let v = json(&run.join("bias/constraint_violations.json"));
    let dpl = v["violations"].as_array().unwrap().iter().find(|v| v["metric_name"] == "DPL").expect("DPL moved");
    assert_eq!((dpl["facet"].as_str(), dpl["facet_value"].as_str()), (Some("gender"), Some("F")));
    assert_eq!(dpl["constraint_check_type"], "bias_drift_check");
    let windows = std::fs::read_to_string(run.join("bias/windows.csv")).unwrap();
    assert!(
        windows.starts_with("window_start,window_end,facet,facet_value,metric,value,standard_error,violation\n"),
        "{windows}"
    );
    let day2_dpl = windows.lines().find(|l| l.starts_with("2026-01-02") && l.contains(",DPL,")).unwrap();
    assert!(day2_dpl.ends_with(",true"), "{day2_dpl}");
    assert!(std::fs::read_to_string(run.join("report.html")).unwrap().contains("Bias drift"));
}

/// A facet without `value_or_threshold`, as Clarify reads one: each of its values against the
/// rest, one report per value, with smclarify's figures.
#[test]
fn bias_by_facet_value() {
    let cases = json(&root().join("tests/data/bias_smclarify.json"));
    let case = cases.as_array().unwrap().iter().find(|c| c["name"] == "gender_each_value").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (rows, config) = case_files_with(dir.path(), case, None, r#"{"name_or_index": "gender"}"#);
    let (_, analysis) = baseline_analysis(dir.path(), &rows, &config);
    let mut compared = 0;
    for (stage, key) in [("pre_training", "pre_training_bias_metrics"), ("post_training", "post_training_bias_metrics")]
    {
        let entries = analysis[key]["facets"]["gender"].as_array().unwrap();
        assert_eq!(entries.len(), 3, "one report per value");
        for e in entries {
            compared += compare_entry(e, &case["per_value"][stage][e["value_or_threshold"].as_str().unwrap()]);
        }
    }
    assert!(compared >= 57, "{compared}");
}

/// Bad bias input: a malformed configuration, a column it names that the inputs lack, no facet,
/// a monitor without baseline metrics. Each one line, exit 2, nothing written.
#[test]
fn bias_bad_input() {
    let cases = json(&root().join("tests/data/bias_smclarify.json"));
    let dir = tempfile::tempdir().unwrap();
    let (rows, config) = case_files(dir.path(), &cases[0], None);
    let fail = |args: &[&str], message: &str| {
        let out = dir.path().join(format!("out-{}", message.len()));
        driftscope().args(args).arg("-o").arg(&out).arg(&rows).assert().code(2).stderr(contains(message));
        assert!(!out.join("bias").exists() && !out.join("drift.json").exists(), "{message}");
    };
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let broken = write("broken.json", "{\"label\": ");
    fail(&["baseline", "-q", "--bias-config", &broken], "not a Clarify analysis configuration");
    let missing = write(
        "missing.json",
        r#"{"label": "target", "label_values_or_threshold": [1], "facet": [{"name_or_index": "age", "value_or_threshold": [40]}]}"#,
    );
    fail(&["baseline", "-q", "--bias-config", &missing], "no column 'age' in the inputs");
    let no_facet = write("nofacet.json", r#"{"label": "target", "label_values_or_threshold": [1], "facet": []}"#);
    fail(&["baseline", "-q", "--bias-config", &no_facet], "no facet");
    let plain = dir.path().join("plain");
    driftscope().args(["baseline", "-q", "-o"]).arg(&plain).arg(&rows).assert().success();
    fail(
        &["monitor", "-q", "--bias-config", config.to_str().unwrap(), "-b", plain.to_str().unwrap()],
        "no baseline bias metrics",
    );
}

/// Late labels: captures without the label, joined by id with a ground-truth file holding the
/// labels in another order. The run's metrics are smclarify's for the joined rows, so against
/// the baseline made from the labelled rows nothing is violated; captures whose ids find no
/// label are left out.
#[test]
fn bias_with_late_labels() {
    use arrow_array::{Int64Array, StringArray};
    let cases = json(&root().join("tests/data/bias_smclarify.json"));
    let case = &cases[0];
    let dir = tempfile::tempdir().unwrap();
    let (rows, config) = case_files(dir.path(), case, None);
    let (base, _) = baseline_analysis(dir.path(), &rows, &config);
    let r = &case["rows"];
    let texts =
        |k: &str| -> Vec<String> { r[k].as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect() };
    let ints = |k: &str| -> Vec<i64> { r[k].as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect() };
    let n = ints("label").len();
    // Ten more captures whose ids the ground truth lacks.
    let ids: Vec<String> = (0..n + 10).map(|i| format!("req-{i}")).collect();
    let pad = |mut v: Vec<String>, x: &str| {
        v.extend((0..10).map(|_| x.to_string()));
        v
    };
    let mut preds = ints("predicted");
    preds.extend([1; 10]);
    let captures = dir.path().join("captures.parquet");
    write_parquet(
        &captures,
        vec![
            ("id", arr(StringArray::from(ids.clone()))),
            ("gender", arr(StringArray::from(pad(texts("facet"), "F")))),
            ("pred", arr(Int64Array::from(preds))),
            ("region", arr(StringArray::from(pad(texts("group"), "north")))),
        ],
        300,
    );
    // The labels, last row first.
    let labels = ints("label");
    let truth = dir.path().join("truth.parquet");
    write_parquet(
        &truth,
        vec![
            ("id", arr(StringArray::from((0..n).rev().map(|i| ids[i].clone()).collect::<Vec<_>>()))),
            ("target", arr(Int64Array::from((0..n).rev().map(|i| labels[i]).collect::<Vec<_>>()))),
        ],
        700,
    );
    let out = dir.path().join("late");
    driftscope()
        .args(["monitor", "-q", "--id-column", "id", "--bias-config"])
        .arg(&config)
        .arg("--ground-truth")
        .arg(&truth)
        .arg("-b")
        .arg(&base)
        .arg("-o")
        .arg(&out)
        .arg(&captures)
        .assert()
        // The data-quality checks see the captures lack the label and time columns, and hold
        // an id the baseline has not: those are the violations.
        .code(1);
    let dq = json(&out.join("constraint_violations.json"));
    assert!(
        dq["violations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["constraint_check_type"].as_str().unwrap().ends_with("column_check")),
        "{dq}"
    );
    // The ten captures without a label are left out: DPPL is smclarify's for the labelled rows.
    let got = json(&out.join("bias/analysis.json"));
    let post = &got["post_training_bias_metrics"]["facets"]["gender"][0]["metrics"];
    let dppl = post.as_array().unwrap().iter().find(|m| m["name"] == "DPPL").unwrap();
    let want = case["post_training"]["DPPL"].as_f64().unwrap();
    assert!((dppl["value"].as_f64().unwrap() - want).abs() < 1e-12, "{dppl} against {want}");
    assert_eq!(json(&out.join("bias/constraint_violations.json"))["violations"], serde_json::json!([]));
}

/// Late labels past the join's memory limit (`--join-memory 1KiB`: a few labels) are spilled to
/// partition files with the rows that wait for them, and joined a partition at a time: the
/// baseline and the windowed monitoring run write what the same runs write with the labels
/// in memory, and what the labelled rows give (smclarify's figures for the whole run).
#[test]
fn bias_late_labels_spill_past_the_join_memory() {
    use arrow_array::{Int64Array, StringArray, TimestampMillisecondArray};
    let cases = json(&root().join("tests/data/bias_smclarify.json"));
    let case = &cases[0];
    let dir = tempfile::tempdir().unwrap();
    let (rows, config) = case_files(dir.path(), case, None);
    let (_, in_rows) = baseline_analysis(dir.path(), &rows, &config);
    let r = &case["rows"];
    let texts =
        |k: &str| -> Vec<String> { r[k].as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect() };
    let ints = |k: &str| -> Vec<i64> { r[k].as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect() };
    let n = ints("label").len();
    let ids: Vec<String> = (0..n).map(|i| format!("req-{i}")).collect();
    let start = 1_767_225_600_000i64;
    let time = TimestampMillisecondArray::from((0..n as i64).map(|i| start + i * 60_000).collect::<Vec<_>>())
        .with_timezone("UTC");
    let captures = dir.path().join("captures.parquet");
    write_parquet(
        &captures,
        vec![
            ("id", arr(StringArray::from(ids.clone()))),
            ("event_time", arr(time)),
            ("gender", arr(StringArray::from(texts("facet")))),
            ("pred", arr(Int64Array::from(ints("predicted")))),
            ("region", arr(StringArray::from(texts("group")))),
        ],
        300,
    );
    let truth = truth_files(dir.path(), &ids, &ints("label"));
    let late = |job: &str, out: &std::path::Path, memory: Option<&str>, extra: &[&str]| {
        let mut cmd = driftscope();
        cmd.args([job, "-q", "--id-column", "id", "--bias-config"]).arg(&config).arg("--ground-truth");
        cmd.args(&truth).args(extra).arg("-o").arg(out).arg(&captures);
        if let Some(m) = memory {
            cmd.args(["--join-memory", m]);
        }
        cmd.assert()
    };
    // Baselines: the labels joined in memory and spilled give the labelled rows' analysis.
    let (mem_base, spilled_base) = (dir.path().join("base-memory"), dir.path().join("base-spilled"));
    late("baseline", &mem_base, None, &[]).success();
    late("baseline", &spilled_base, Some("1KiB"), &[]).success();
    let mine = json(&spilled_base.join("bias/analysis.json"));
    assert_eq!(mine, json(&mem_base.join("bias/analysis.json")));
    assert_eq!(mine, in_rows);
    let post = &mine["post_training_bias_metrics"]["facets"]["gender"][0]["metrics"];
    let dppl = post.as_array().unwrap().iter().find(|m| m["name"] == "DPPL").unwrap();
    let want = case["post_training"]["DPPL"].as_f64().unwrap();
    assert!((dppl["value"].as_f64().unwrap() - want).abs() < 1e-12, "{dppl} against {want}");
    // Hourly windows: every bias output the same, spilled or not; the report says it spilled.
    let window = ["--window", "1h", "--time-column", "event_time", "-b"];
    let (mem, spilled) = (dir.path().join("memory"), dir.path().join("spilled"));
    let base = mem_base.to_str().unwrap();
    late("monitor", &mem, None, &[&window[..], &[base]].concat()).code(1);
    late("monitor", &spilled, Some("1KiB"), &[&window[..], &[base]].concat()).code(1);
    for f in ["bias/analysis.json", "bias/constraint_violations.json", "bias/windows.csv"] {
        let (a, b) = (std::fs::read(mem.join(f)).unwrap(), std::fs::read(spilled.join(f)).unwrap());
        assert!(a == b, "{f} differs when the labels are spilled");
    }
    let windows = std::fs::read_to_string(spilled.join("bias/windows.csv")).unwrap();
    assert!(windows.lines().filter(|l| l.contains(",DPL,")).count() >= 30, "{windows}");
    let (a, b) = (json(&mem.join("drift.json")), json(&spilled.join("drift.json")));
    assert!(a["bias"]["spilled_partitions"].is_null(), "{}", a["bias"]);
    assert_eq!(b["bias"]["spilled_partitions"], 64, "{}", b["bias"]);
    // With model quality joining the same labels, the bias metrics share its label table (or
    // its spilled partitions): the same files again, and model quality's own as without bias.
    let quality = ["--problem-type", "BinaryClassification", "--label", "target", "--prediction", "pred"];
    for (memory, out) in [(None, "both-memory"), (Some("1KiB"), "both-spilled")] {
        let both = dir.path().join(out);
        let run = late("monitor", &both, memory, &[&quality[..], &window[..], &[base]].concat()).code(1);
        let stderr = String::from_utf8_lossy(&run.get_output().stderr).to_string();
        assert_eq!(stderr.contains("bias metrics: the late labels passed --join-memory"), memory.is_some(), "{stderr}");
        for f in ["bias/analysis.json", "bias/constraint_violations.json", "bias/windows.csv"] {
            assert!(std::fs::read(mem.join(f)).unwrap() == std::fs::read(both.join(f)).unwrap(), "{out}: {f} differs");
        }
        let scored = json(&both.join("drift.json"))["model_quality"]["scored_rows"].clone();
        assert_eq!(scored, n as u64, "{out}");
    }
    // No spill file is left behind.
    let left: Vec<_> = std::fs::read_dir(&spilled)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".driftscope-join"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// The labels of `ids` in two ground-truth files (id, target), each last row first.
fn truth_files(dir: &std::path::Path, ids: &[String], labels: &[i64]) -> Vec<std::path::PathBuf> {
    use arrow_array::{Int64Array, StringArray};
    let n = ids.len();
    let mut truth = Vec::new();
    for (k, range) in [(0, 0..n / 2), (1, n / 2..n)] {
        let path = dir.join(format!("truth-{k}.parquet"));
        let order: Vec<usize> = range.rev().collect();
        write_parquet(
            &path,
            vec![
                ("id", arr(StringArray::from(order.iter().map(|&i| ids[i].clone()).collect::<Vec<_>>()))),
                ("target", arr(Int64Array::from(order.iter().map(|&i| labels[i]).collect::<Vec<_>>()))),
            ],
            400,
        );
        truth.push(path);
    }
    truth
}

/// A driftscope baseline writes each bias metric's standard error beside Clarify's
/// `analysis.json` (`bias/noise.json`; DPL's within 15% of the binomial standard error of the
/// rows' two positive shares), and a monitoring run allows for it; a damaged one is a named
/// error.
#[test]
fn a_baselines_bias_noise_is_written_and_read() {
    let cases = json(&root().join("tests/data/bias_smclarify.json"));
    let case = &cases[0];
    let dir = tempfile::tempdir().unwrap();
    let (rows, config) = case_files(dir.path(), case, None);
    let (base, _) = baseline_analysis(dir.path(), &rows, &config);
    let noise = json(&base.join("bias/noise.json"));
    let entries = noise["standard_errors"].as_array().unwrap();
    let dpl = entries.iter().find(|e| e["metric"] == "DPL" && e["facet"] == "gender").unwrap();
    assert_eq!(dpl["value_or_threshold"], "F");
    let r = &case["rows"];
    let (facet, label) = (r["facet"].as_array().unwrap(), r["label"].as_array().unwrap());
    let share = |sensitive: bool| {
        let side: Vec<bool> =
            (0..facet.len()).filter(|&i| (facet[i] == "F") == sensitive).map(|i| label[i] == 1).collect();
        let n = side.len() as f64;
        let q = side.iter().filter(|&&x| x).count() as f64 / n;
        q * (1.0 - q) / n
    };
    let binomial = (share(true) + share(false)).sqrt();
    let se = dpl["standard_error"].as_f64().unwrap();
    assert!((se / binomial - 1.0).abs() < 0.15, "noise.json {se}, binomial {binomial}");
    let run = dir.path().join("run");
    let monitor = |base: &std::path::Path, out: &std::path::Path| {
        let mut cmd = driftscope();
        cmd.args(["monitor", "-q", "--bias-config"]).arg(&config).arg("-b").arg(base).arg("-o").arg(out).arg(&rows);
        cmd.assert()
    };
    monitor(&base, &run).success();
    let rule = json(&run.join("drift.json"))["bias"]["rule"].clone();
    assert!(rule.as_str().unwrap().contains("difference from the baseline"), "{rule}");
    std::fs::write(base.join("bias/noise.json"), "{\"version\": \"1.0\"").unwrap();
    let out = dir.path().join("damaged");
    monitor(&base, &out).code(2).stderr(contains("noise.json: not a baseline's bias noise.json"));
    assert!(!out.exists());
}
