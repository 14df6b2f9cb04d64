//! Model quality against scikit-learn's figures (tests/reference/make_quality.py), the merge
//! property, and the CLI end to end from captures and ground truth to violations.

use std::collections::BTreeMap;

use driftscope::quality::{Accumulator, ProblemType, QualitySettings, Value};
use serde_json::Value as Json;

fn data(name: &str) -> std::path::PathBuf {
    crate::common::root().join("tests/data/quality").join(name)
}

fn expected() -> Json {
    serde_json::from_slice(&std::fs::read(data("expected.json")).unwrap()).unwrap()
}

/// The rows of a fixture CSV as column → values.
fn table(name: &str) -> BTreeMap<String, Vec<String>> {
    let text = std::fs::read_to_string(data(&format!("{name}.csv"))).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    let mut t: BTreeMap<String, Vec<String>> = header.iter().map(|h| (h.clone(), Vec::new())).collect();
    for l in lines {
        for (h, v) in header.iter().zip(l.split(',')) {
            t.get_mut(h).unwrap().push(v.to_string());
        }
    }
    t
}

fn settings(problem: ProblemType, probability: bool) -> QualitySettings {
    QualitySettings {
        prediction: Some("prediction".into()),
        probability: probability.then(|| "probability".into()),
        ..QualitySettings::new(problem, "label")
    }
}

fn fold(name: &str, s: &QualitySettings, parts: usize) -> driftscope::quality::QualityMetrics {
    let t = table(name);
    let n = t["label"].len();
    let mut accs: Vec<Accumulator> = (0..parts).map(|_| Accumulator::new(s)).collect();
    for i in 0..n {
        let num = |c: &str| t[c][i].parse::<f64>().ok();
        let v = |c: &str| match num(c) {
            Some(x) if s.problem_type != ProblemType::MulticlassClassification || !t[c][i].contains('.') => {
                Value::Number(x)
            }
            _ => Value::Text(&t[c][i]),
        };
        let key = driftscope::quality::key_of(&t["id"][i]);
        let prob = s.probability.as_ref().map(|_| num("probability").unwrap());
        accs[i % parts].add(v("label"), Some(v("prediction")), prob, key).unwrap();
    }
    let mut it = accs.into_iter();
    let mut first = it.next().unwrap();
    for a in it {
        first.merge(&a).unwrap();
    }
    first.finish()
}

fn assert_matches(case: &str, m: &driftscope::quality::QualityMetrics) {
    let e = &expected()[case];
    assert_eq!(m.rows, e["rows"].as_u64().unwrap(), "{case}: rows");
    let want = &e[m.problem_type.metrics_key()];
    let mut compared = 0;
    for (k, w) in want.as_object().unwrap() {
        if k == "confusion_matrix" {
            let got = serde_json::to_value(m.confusion_matrix.as_ref().unwrap()).unwrap();
            assert_eq!(&got, w, "{case}: confusion matrix");
            continue;
        }
        let w = w.as_f64().unwrap();
        let got = m.values.get(k).unwrap_or_else(|| panic!("{case}: {k} missing ({:?})", m.undefined)).value;
        assert!((got - w).abs() <= 1e-12 * w.abs().max(1.0), "{case}: {k} = {got}, scikit-learn {w}");
        compared += 1;
    }
    assert!(compared >= 4, "{case}: only {compared} metrics compared");
}

#[test]
fn metrics_match_scikit_learn_on_generated_data_with_ties() {
    assert_matches("gen_binary", &fold("gen_binary", &settings(ProblemType::BinaryClassification, true), 1));
    assert_matches(
        "gen_multiclass",
        &fold("gen_multiclass", &settings(ProblemType::MulticlassClassification, false), 1),
    );
    assert_matches("gen_regression", &fold("gen_regression", &settings(ProblemType::Regression, false), 1));
}

#[test]
fn metrics_match_scikit_learn_on_bundled_datasets() {
    assert_matches("breast_cancer", &fold("breast_cancer", &settings(ProblemType::BinaryClassification, true), 1));
    assert_matches("diabetes", &fold("diabetes", &settings(ProblemType::Regression, false), 1));
    assert_matches("wine", &fold("wine", &settings(ProblemType::MulticlassClassification, false), 1));
}

#[test]
fn merged_parts_give_the_same_metrics_and_deviations() {
    for (case, p, prob) in [
        ("gen_binary", ProblemType::BinaryClassification, true),
        ("gen_multiclass", ProblemType::MulticlassClassification, false),
        ("gen_regression", ProblemType::Regression, false),
    ] {
        let s = settings(p, prob);
        let (one, seven) = (fold(case, &s, 1), fold(case, &s, 7));
        assert_matches(case, &seven);
        for (k, m) in &one.values {
            let o = &seven.values[k];
            assert!((m.value - o.value).abs() <= 1e-12 * m.value.abs().max(1.0), "{case} {k}");
            let (a, b) = (m.standard_deviation.unwrap(), o.standard_deviation.unwrap());
            assert!((a - b).abs() <= 1e-9 * a.abs().max(1e-6), "{case} {k}: deviation {a} vs {b}");
        }
    }
}

/// The metrics a CLI run wrote, against scikit-learn's for `case`.
fn assert_statistics(path: &std::path::Path, case: &str) {
    let got = crate::common::json(path);
    let e = &expected()[case];
    let key = match e["problem_type"].as_str().unwrap() {
        "Regression" => "regression_metrics",
        "BinaryClassification" => "binary_classification_metrics",
        _ => "multiclass_classification_metrics",
    };
    assert_eq!(got["dataset"]["item_count"], e["rows"], "{case}: rows");
    for (k, w) in e[key].as_object().unwrap() {
        if k == "confusion_matrix" {
            assert_eq!(&got[key][k], w, "{case}: confusion matrix");
            continue;
        }
        let (w, g) = (w.as_f64().unwrap(), got[key][k]["value"].as_f64().unwrap_or_else(|| panic!("{case}: {k}")));
        assert!((g - w).abs() <= 1e-12 * w.abs().max(1.0), "{case}: {k} = {g}, scikit-learn {w}");
    }
}

/// `driftscope monitor -q -b base -o out`, for more flags.
fn monitor_cmd(base: &std::path::Path, out: &std::path::Path) -> assert_cmd::Command {
    let mut c = crate::common::driftscope();
    c.args(["monitor", "-q", "-b"]).arg(base).arg("-o").arg(out);
    c
}

fn baseline_bc(dir: &std::path::Path) -> std::path::PathBuf {
    let base = dir.join("base");
    crate::common::driftscope()
        .args(["baseline", "-q", "-o"])
        .arg(&base)
        .args(["--problem-type", "BinaryClassification", "--label", "label", "--prediction", "prediction"])
        .args(["--probability", "probability"])
        .arg(data("breast_cancer.csv"))
        .assert()
        .success();
    base
}

#[test]
fn cli_captures_joined_with_late_ground_truth_to_violations() {
    let d = tempfile::tempdir().unwrap();
    let base = baseline_bc(d.path());
    assert_statistics(&base.join("model_quality/statistics.json"), "breast_cancer");
    let constraints = crate::common::json(&base.join("model_quality/constraints.json"));
    let c = &constraints["binary_classification_constraints"];
    assert_eq!(c["auc"]["comparison_operator"], "LessThanThreshold");
    assert_eq!(c["false_positive_rate"]["comparison_operator"], "GreaterThanThreshold");
    // The capture's output `_c0` is the probability; the label comes from it at 0.5.
    let out = d.path().join("out");
    let run = monitor_cmd(&base, &out)
        .args(["--probability", "_c0", "--prediction", ""])
        .arg(data("bc_capture.jsonl"))
        .arg("--ground-truth")
        .args([data("bc_truth_2.jsonl"), data("bc_truth_1.jsonl")])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).to_string();
    assert!(stderr.contains("20 predictions without a label, 7 labels without a prediction"), "{stderr}");
    let stdout = String::from_utf8_lossy(&run.get_output().stdout).to_string();
    assert!(stdout.contains("### Model quality"), "{stdout}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<h2 id=\"model-quality\">Model quality</h2>"));
    assert_statistics(&out.join("model_quality/statistics.json"), "bc_capture_joined");
    let drift = crate::common::json(&out.join("drift.json"));
    let mq = &drift["model_quality"];
    assert_eq!((mq["unmatched_predictions"].as_u64(), mq["unmatched_labels"].as_u64()), (Some(20), Some(7)));
    // Every violation is a real comparison with the baseline's threshold.
    let v = crate::common::json(&out.join("model_quality/constraint_violations.json"));
    let v = v["violations"].as_array().unwrap();
    assert!(!v.is_empty());
    let stats = crate::common::json(&out.join("model_quality/statistics.json"));
    for x in v {
        let name = x["metric_name"].as_str().unwrap();
        let (now, bound) = (
            stats["binary_classification_metrics"][name]["value"].as_f64().unwrap(),
            c[name]["threshold"].as_f64().unwrap(),
        );
        assert!(stdout.contains(&format!("| {name} | ")) && html.contains(&format!("<td>{name}</td>")), "{name}");
        match x["constraint_check_type"].as_str().unwrap() {
            "LessThanThreshold" => assert!(now < bound, "{name}"),
            "GreaterThanThreshold" => assert!(now > bound, "{name}"),
            other => panic!("{other}"),
        }
        assert!(x["description"].as_str().unwrap().starts_with(&format!("Metric {name} with ")));
    }
    // The same join spilled to disk gives the same numbers.
    let spilled = d.path().join("spilled");
    let run = monitor_cmd(&base, &spilled)
        .args(["--probability", "_c0", "--prediction", "", "--join-memory", "1KiB"])
        .arg(data("bc_capture.jsonl"))
        .arg("--ground-truth")
        .args([data("bc_truth_1.jsonl"), data("bc_truth_2.jsonl")])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).to_string();
    assert!(stderr.contains("spilled to 64 partitions"), "{stderr}");
    assert_eq!(
        crate::common::json(&out.join("model_quality/statistics.json")),
        crate::common::json(&spilled.join("model_quality/statistics.json"))
    );
    assert!(std::fs::read_dir(&spilled).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with(".driftscope-join")));
}

#[test]
fn cli_multiclass_and_regression_baselines_match_scikit_learn() {
    let d = tempfile::tempdir().unwrap();
    for (case, problem) in [
        ("wine", "MulticlassClassification"),
        ("diabetes", "Regression"),
        ("gen_multiclass", "MulticlassClassification"),
    ] {
        let base = d.path().join(case);
        crate::common::driftscope()
            .args(["baseline", "-q", "-o"])
            .arg(&base)
            .args(["--problem-type", problem, "--label", "label", "--prediction", "prediction"])
            .arg(data(&format!("{case}.csv")))
            .assert()
            .success();
        assert_statistics(&base.join("model_quality/statistics.json"), case);
        // Monitoring the same rows against their own baseline violates nothing.
        let out = d.path().join(format!("{case}-out"));
        monitor_cmd(&base, &out).arg(data(&format!("{case}.csv"))).assert().success();
        let v = crate::common::json(&out.join("model_quality/constraint_violations.json"));
        assert_eq!(v["violations"].as_array().unwrap().len(), 0, "{case}");
    }
}

#[test]
fn cli_sagemaker_model_quality_baseline_folder_as_is() {
    let Some(fx) = crate::common::fixtures() else { return };
    let d = tempfile::tempdir().unwrap();
    let base = d.path().join("sm");
    std::fs::create_dir_all(&base).unwrap();
    std::fs::copy(fx.join("model_quality_regression_statistics.json"), base.join("statistics.json")).unwrap();
    std::fs::copy(fx.join("model_quality_regression_constraints.json"), base.join("constraints.json")).unwrap();
    let out = d.path().join("out");
    // A SageMaker folder does not name the columns.
    let run = monitor_cmd(&base, &out).arg(data("diabetes.csv")).assert().code(2);
    assert!(String::from_utf8_lossy(&run.get_output().stderr)
        .contains("--label: the baseline's model quality does not name its columns"));
    monitor_cmd(&base, &out)
        .args(["--label", "label", "--prediction", "prediction"])
        .arg(data("diabetes.csv"))
        .assert()
        .code(1);
    assert_statistics(&out.join("model_quality/statistics.json"), "diabetes");
    // diabetes errors are far above SageMaker's thresholds (mae 0.504), its r2 far above -3.2.
    let v = crate::common::json(&out.join("model_quality/constraint_violations.json"));
    let names: Vec<&str> =
        v["violations"].as_array().unwrap().iter().map(|x| x["metric_name"].as_str().unwrap()).collect();
    assert_eq!(names, ["mae", "mse", "rmse"]);
    let drift = crate::common::json(&out.join("drift.json"));
    assert_eq!(drift["model_quality"]["baseline"]["mae"], 0.5040653554420981);
}

#[test]
#[allow(clippy::too_many_lines, reason = "one scenario, read top to bottom")]
fn cli_bad_model_quality_inputs() {
    let d = tempfile::tempdir().unwrap();
    let base = baseline_bc(d.path());
    let monitor = |caps: &std::path::Path, truth: &std::path::Path, out: &str| {
        monitor_cmd(&base, &d.path().join(out))
            .args(["--probability", "_c0", "--prediction", ""])
            .arg(caps)
            .arg("--ground-truth")
            .arg(truth)
            .assert()
    };
    // A malformed line and an unknown encoding: named by line, the rest processed.
    let text = std::fs::read_to_string(data("bc_capture.jsonl")).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines.insert(3, "{\"captureData\": {broken".into());
    lines[10] = lines[10].replace("\"encoding\": \"CSV\"", "\"encoding\": \"XML\"");
    let caps = d.path().join("caps.jsonl");
    std::fs::write(&caps, lines.join("\n")).unwrap();
    let run = monitor(&caps, &data("bc_truth_1.jsonl"), "a").code(1);
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).to_string();
    assert!(stderr.contains("caps.jsonl: line 4: not a JSON record"), "{stderr}");
    assert!(stderr.contains("line 11: endpointOutput: unknown encoding 'XML'"), "{stderr}");
    assert!(stderr.contains("scored of 284 prediction rows"), "{stderr}");
    // A probability outside [0, 1]: an error naming the file and column, no output.
    let caps = d.path().join("logits.jsonl");
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    // Record 30 is labelled (the first 20 are not).
    let (at, end) = (lines[30].rfind("\"data\": \"").unwrap(), lines[30].len());
    lines[30] = format!(
        "{}\"data\": \"3.5\", \"encoding\": \"CSV\"}}}}, {}",
        &lines[30][..at],
        &lines[30][lines[30][at..end].find("\"eventMetadata").unwrap() + at..]
    );
    std::fs::write(&caps, lines.join("\n")).unwrap();
    let run = monitor(&caps, &data("bc_truth_1.jsonl"), "b").code(2);
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).to_string();
    assert!(stderr.contains("logits.jsonl: column '_c0': probability 3.5 is not in [0, 1]"), "{stderr}");
    assert!(!d.path().join("b/model_quality/statistics.json").exists());
    // The same when the join spills: named where the file is still known.
    let run = monitor_cmd(&base, &d.path().join("b2"))
        .args(["--probability", "_c0", "--prediction", "", "--join-memory", "1KiB"])
        .arg(&caps)
        .arg("--ground-truth")
        .arg(data("bc_truth_1.jsonl"))
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).to_string();
    assert!(stderr.contains("logits.jsonl: column '_c0': probability 3.5 is not in [0, 1]"), "{stderr}");
    // Labels without predictions: nothing to score is an error, with the counts.
    let truth = d.path().join("strangers.jsonl");
    std::fs::write(&truth, "{\"groundTruthData\": {\"data\": \"1\", \"encoding\": \"CSV\"}, \"eventMetadata\": {\"eventId\": \"nobody\"}}\n").unwrap();
    let run = monitor(&data("bc_capture.jsonl"), &truth, "d").code(2);
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).to_string();
    assert!(
        stderr.contains("no row could be scored (285 prediction rows: 0 with a null value, 285 without a label)"),
        "{stderr}"
    );
    // A single class present: undefined metrics are named, and the JSON holds no NaN value.
    let one = d.path().join("one.csv");
    std::fs::write(&one, "label,prediction,probability\n1,1,0.9\n1,0,0.2\n1,1,0.7\n").unwrap();
    let b1 = d.path().join("b1");
    crate::common::driftscope()
        .args(["baseline", "-q", "-o"])
        .arg(&b1)
        .args([
            "--problem-type",
            "BinaryClassification",
            "--label",
            "label",
            "--prediction",
            "prediction",
            "--probability",
            "probability",
        ])
        .arg(&one)
        .assert()
        .success();
    let s = crate::common::json(&b1.join("model_quality/statistics.json"));
    assert_eq!(s["undefined_metrics"]["auc"], "only one class among the labels");
    assert_eq!(s["binary_classification_metrics"]["recall"]["value"], 2.0 / 3.0);
    assert!(s["binary_classification_metrics"].get("auc").is_none());
    let c = crate::common::json(&b1.join("model_quality/constraints.json"));
    assert!(c["binary_classification_constraints"].get("auc").is_none());
    // A third class in a binary problem.
    let three = d.path().join("three.csv");
    std::fs::write(&three, "label,prediction\n1,1\n0,1\n2,0\n").unwrap();
    let run = crate::common::driftscope()
        .args(["baseline", "-q", "-o"])
        .arg(d.path().join("b3"))
        .args(["--problem-type", "BinaryClassification", "--label", "label", "--prediction", "prediction"])
        .arg(&three)
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&run.get_output().stderr).contains("a third class '2'"));
    // Nothing half-made: the data-quality files are not written either.
    assert!(!d.path().join("b3").exists());
}

/// Hourly captures where x0 drifts exactly when the model goes blind, and x1 drifts in other
/// hours without harm.
fn hourly(path: &std::path::Path, hours: i64, rows: usize, drift: bool) {
    use arrow_array::{Float64Array, Int64Array, TimestampMillisecondArray};
    let mut state = 0x2545_f491_4f6c_dd1du64 ^ hours as u64 ^ drift as u64;
    let mut rnd = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let (mut ts, mut x0, mut x1, mut y, mut p) = (vec![], vec![], vec![], vec![], vec![]);
    for h in 0..hours {
        let blind = drift && (6..12).contains(&h);
        let shifted = drift && (15..20).contains(&h);
        for k in 0..rows {
            ts.push(1_798_761_600_000 + h * 3_600_000 + k as i64 * 1000);
            let label = (rnd() < 0.5) as i64;
            x0.push(rnd() + if blind { 2.0 } else { 0.0 });
            x1.push(rnd() + if shifted { 2.0 } else { 0.0 });
            y.push(label);
            p.push(if blind {
                rnd()
            } else if label == 1 {
                0.5 + 0.5 * rnd()
            } else {
                0.6 * rnd()
            });
        }
    }
    crate::common::write_parquet(
        path,
        vec![
            ("ts", crate::common::arr(TimestampMillisecondArray::from(ts).with_timezone("UTC"))),
            ("x0", crate::common::arr(Float64Array::from(x0))),
            ("x1", crate::common::arr(Float64Array::from(x1))),
            ("label", crate::common::arr(Int64Array::from(y))),
            ("probability", crate::common::arr(Float64Array::from(p))),
        ],
        4096,
    );
}

#[test]
fn cli_per_window_quality_ranks_the_drift_that_matters() {
    let d = tempfile::tempdir().unwrap();
    let (train, caps) = (d.path().join("train.parquet"), d.path().join("caps.parquet"));
    hourly(&train, 4, 500, false);
    hourly(&caps, 24, 300, true);
    let base = d.path().join("base");
    crate::common::driftscope()
        .args(["baseline", "-q", "-o"])
        .arg(&base)
        .args(["--problem-type", "BinaryClassification", "--label", "label", "--probability", "probability"])
        .arg(&train)
        .assert()
        .success();
    let out = d.path().join("out");
    let run = monitor_cmd(&base, &out).args(["--window", "1h", "--time-column", "ts"]).arg(&caps).assert().code(1);
    let stdout = String::from_utf8_lossy(&run.get_output().stdout).to_string();
    assert!(stdout.contains("Drift that moves with the model's worsening (`auc` over 24 windows"), "{stdout}");
    let drift = crate::common::json(&out.join("drift.json"));
    let rel = &drift["model_quality"]["drift_relevance"];
    let feats = rel["features"].as_array().unwrap();
    let rho = |name: &str| feats.iter().find(|f| f["feature"] == name).unwrap()["spearman"].as_f64().unwrap();
    assert_eq!(feats[0]["feature"], "x0", "{rel}");
    assert!(rho("x0") > 0.6 && rho("x1") < 0.3, "x0 {} x1 {}", rho("x0"), rho("x1"));
    // windows.csv: one row per hour, the blind hours' auc near 0.5, the others high.
    let csv = std::fs::read_to_string(out.join("model_quality/windows.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let (at_auc, at_rows) =
        (header.iter().position(|h| *h == "auc").unwrap(), header.iter().position(|h| *h == "rows").unwrap());
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 24);
    let total: u64 = rows.iter().map(|r| r[at_rows].parse::<u64>().unwrap()).sum();
    assert_eq!(total, drift["model_quality"]["scored_rows"].as_u64().unwrap());
    for (h, r) in rows.iter().enumerate() {
        let auc: f64 = r[at_auc].parse().unwrap();
        if (6..12).contains(&h) {
            assert!(auc < 0.7, "hour {h}: {auc}");
        } else {
            assert!(auc > 0.9, "hour {h}: {auc}");
        }
    }
}

#[test]
fn spearman_against_scipy_figures() {
    use driftscope::quality::run::spearman;
    // scipy.stats.spearmanr([1, 2, 2, 4, 5], [5, 6, 7, 8, 7]) = 0.7631578947368421 (ties share ranks).
    let r = spearman(&[1.0, 2.0, 2.0, 4.0, 5.0], &[5.0, 6.0, 7.0, 8.0, 7.0]).unwrap();
    assert!((r - 0.7631578947368421).abs() < 1e-12, "{r}");
    assert_eq!(spearman(&[1.0, 2.0], &[2.0, 1.0]), None);
    assert_eq!(spearman(&[1.0, 1.0, 1.0], &[2.0, 1.0, 3.0]), None);
}

#[test]
fn data_quality_on_csv_equals_the_same_rows_in_parquet() {
    use arrow_array::{Float64Array, StringArray};
    let d = tempfile::tempdir().unwrap();
    let t = table("gen_regression");
    let num = |c: &str| Float64Array::from(t[c].iter().map(|v| v.parse::<f64>().unwrap()).collect::<Vec<_>>());
    let pq = d.path().join("r.parquet");
    crate::common::write_parquet(
        &pq,
        vec![
            ("id", crate::common::arr(StringArray::from(t["id"].clone()))),
            ("label", crate::common::arr(num("label"))),
            ("prediction", crate::common::arr(num("prediction"))),
        ],
        // One batch, as the CSV is read: the quantile sketch depends on batch boundaries.
        1500,
    );
    let (a, b) = (d.path().join("csv"), d.path().join("parquet"));
    crate::common::baseline_of(&data("gen_regression.csv"), &a);
    crate::common::baseline_of(&pq, &b);
    let (sa, sb) = (crate::common::json(&a.join("statistics.json")), crate::common::json(&b.join("statistics.json")));
    for (fa, fb) in sa["features"].as_array().unwrap().iter().zip(sb["features"].as_array().unwrap()) {
        assert!(fa == fb, "{} differs between CSV and Parquet", fa["name"]);
    }
    assert_eq!(sa["features"].as_array().unwrap().len(), 3);
    assert_eq!(sa["dataset"]["item_count"], 1500);
}

#[test]
fn captures_in_sagemakers_hourly_folders_with_windows_on_inference_time() {
    // The capture records spread over SageMaker's yyyy/mm/dd/hh layout by their inferenceTime.
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("capture/endpoint/AllTraffic");
    let text = std::fs::read_to_string(data("bc_capture.jsonl")).unwrap();
    let mut hours: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for l in text.lines() {
        let v: Json = serde_json::from_str(l).unwrap();
        let t = v["eventMetadata"]["inferenceTime"].as_str().unwrap();
        hours.entry(format!("{}/{}/{}/{}", &t[0..4], &t[5..7], &t[8..10], &t[11..13])).or_default().push(l);
    }
    for (h, lines) in &hours {
        std::fs::create_dir_all(root.join(h)).unwrap();
        std::fs::write(root.join(h).join("12-34-56-789-abcd.jsonl"), lines.join("\n") + "\n").unwrap();
    }
    let base = d.path().join("base");
    crate::common::baseline_of(&root, &base);
    let stats = crate::common::json(&base.join("statistics.json"));
    assert_eq!(stats["dataset"]["item_count"], 285);
    let names: Vec<&str> = stats["features"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(&names[..6], ["_c0", "_c1", "_c2", "_c3", "_c4", "_c5"]);
    let out = d.path().join("out");
    monitor_cmd(&base, &out).args(["--window", "1h"]).arg(&root).assert().code(predicates::ord::le(1));
    let drift = crate::common::json(&out.join("drift.json"));
    assert_eq!(drift["windows"]["time_column"], "eventMetadata.inferenceTime");
    assert_eq!(drift["windows"]["windows"].as_u64(), Some(hours.len() as u64));
    assert_eq!(drift["windows"]["untimed_rows"], 0);
    // The identifier is kept out of drift.
    let id = drift["features"].as_array().unwrap().iter().find(|f| f["name"] == "eventMetadata.eventId").unwrap();
    assert_eq!(id["status"], "skipped");
}

/// Writes the rows of a `id,label,prediction,probability` CSV text to Parquet in row groups of
/// 300, with `prefix` before each id.
fn quality_parquet(path: &std::path::Path, text: &str, prefix: &str) {
    use arrow_array::{Float64Array, Int64Array, StringArray};
    let rows: Vec<Vec<&str>> = text.lines().skip(1).map(|l| l.split(',').collect()).collect();
    let int = |c: usize| Int64Array::from(rows.iter().map(|r| r[c].parse::<i64>().unwrap()).collect::<Vec<_>>());
    crate::common::write_parquet(
        path,
        vec![
            (
                "id",
                crate::common::arr(StringArray::from(
                    rows.iter().map(|r| format!("{prefix}{}", r[0])).collect::<Vec<_>>(),
                )),
            ),
            ("label", crate::common::arr(int(1))),
            ("prediction", crate::common::arr(int(2))),
            (
                "probability",
                crate::common::arr(Float64Array::from(
                    rows.iter().map(|r| r[3].parse::<f64>().unwrap()).collect::<Vec<_>>(),
                )),
            ),
        ],
        300,
    );
}

/// Model quality is scored in the pass that profiles the inputs; a file that fails part-way
/// (its second row group's page header is damaged, after its first was read) is left out of
/// the profile and of model quality alike: the run with it (first, so that the other file's
/// place among the inputs shifts) scores exactly what the run without it does — labels in the
/// rows, and joined with ground truth by id (where its ids would have matched labels).
#[test]
fn a_file_left_out_part_way_leaves_no_row_in_model_quality() {
    use parquet::file::reader::FileReader;
    let d = tempfile::tempdir().unwrap();
    let base = baseline_bc(d.path());
    let text = std::fs::read_to_string(data("breast_cancer.csv")).unwrap();
    let good = d.path().join("good.parquet");
    quality_parquet(&good, &text, "");
    let broken = d.path().join("broken.parquet");
    quality_parquet(&broken, &text, "x");
    let reader = parquet::file::reader::SerializedFileReader::new(std::fs::File::open(&broken).unwrap()).unwrap();
    assert_eq!(reader.metadata().num_row_groups(), 2);
    let at = reader.metadata().row_group(1).column(3).data_page_offset() as usize;
    let mut bytes = std::fs::read(&broken).unwrap();
    bytes[at..at + 8].fill(0xff);
    std::fs::write(&broken, bytes).unwrap();
    // Labels for both files' ids.
    let truth = d.path().join("truth.csv");
    let relabelled: String = text.lines().skip(1).map(|l| format!("x{l}\n")).collect();
    std::fs::write(&truth, format!("{text}{relabelled}")).unwrap();
    for joined in [false, true] {
        let run = |name: &str, inputs: &[&std::path::Path]| {
            let out = d.path().join(format!("{name}-{joined}"));
            let mut c = monitor_cmd(&base, &out);
            if joined {
                c.arg("--ground-truth").arg(&truth).args(["--id-column", "id"]);
            }
            let code = c.args(inputs).output().unwrap().status.code();
            let drift = crate::common::json(&out.join("drift.json"));
            let q = &drift["model_quality"];
            let counts: Vec<String> = ["prediction_rows", "scored_rows", "unmatched_labels"]
                .iter()
                .map(|k| format!("{k} {}", q[k]))
                .collect();
            (code, counts, std::fs::read_to_string(out.join("model_quality/statistics.json")).unwrap())
        };
        let (with_code, with_counts, with) = run("with", &[&broken, &good]);
        let (without_code, without_counts, without) = run("without", &[&good]);
        assert_eq!((with_code, without_code), (Some(2), Some(0)), "joined: {joined}");
        assert_eq!(with_counts, without_counts, "joined: {joined}");
        let first_difference = with.lines().zip(without.lines()).find(|(a, b)| a != b);
        assert!(with == without, "joined: {joined}: the left-out file's rows were scored: {first_difference:?}");
        assert!(with_counts[0] == "prediction_rows 569", "{with_counts:?}");
    }
}
