use arrow_array::{Float64Array, StringArray, TimestampMillisecondArray};
use driftscope::judge::attribution::{ndcg, Analysis};
use driftscope::source::synth::Rng;
use predicates::str::contains;

use crate::common::*;

/// Clarify's nDCG against scikit-learn's `ndcg_score` (baseline attributions as the relevance,
/// current ones as the scores), recorded by `tests/reference/make_attribution.py`.
#[test]
fn ndcg_matches_scikit_learn() {
    let cases = json(&root().join("tests/data/attribution_ndcg.json"));
    let map = |v: &serde_json::Value| -> std::collections::BTreeMap<String, f64> {
        v.as_object().unwrap().iter().map(|(k, x)| (k.clone(), x.as_f64().unwrap())).collect()
    };
    let cases = cases.as_array().unwrap();
    assert!(cases.len() >= 14);
    for c in cases {
        let got = ndcg(&map(&c["baseline"]), &map(&c["current"])).unwrap();
        let want = c["ndcg"].as_f64().unwrap();
        assert!((got - want).abs() < 1e-12, "{}: {got} against scikit-learn's {want}", c["name"]);
    }
}

/// Rows over two days, one row a minute: features a, b, c with attributions whose spread is
/// `scales` on the first day and `later` on the second.
fn captures(path: &std::path::Path, scales: [f64; 3], later: [f64; 3], seed: u64) -> [f64; 3] {
    let n = 2 * 1440;
    let mut rng = Rng(seed);
    let start = 1_767_225_600_000i64; // 2026-01-01T00:00:00Z
    let time = TimestampMillisecondArray::from((0..n).map(|i| start + i as i64 * 60_000).collect::<Vec<_>>())
        .with_timezone("UTC");
    let mut cols = vec![("event_time", arr(time))];
    let names = ["a", "b", "c"];
    for name in names {
        cols.push((name, arr(Float64Array::from((0..n).map(|_| rng.normal()).collect::<Vec<_>>()))));
    }
    // Every tenth attribution of c is missing; the means are over the rows that hold one.
    let mut means = [0.0; 3];
    let shap = ["shap_a", "shap_b", "shap_c"];
    for (k, name) in shap.into_iter().enumerate() {
        let values: Vec<Option<f64>> = (0..n)
            .map(|i| {
                let s = if i < n / 2 { scales[k] } else { later[k] };
                let v = s * rng.normal();
                (k != 2 || i % 10 != 0).then_some(v)
            })
            .collect();
        let present: Vec<f64> = values.iter().flatten().map(|v| v.abs()).collect();
        means[k] = present.iter().sum::<f64>() / present.len() as f64;
        cols.push((name, arr(Float64Array::from(values))));
    }
    write_parquet(path, cols, 500);
    means
}

/// `baseline --attributions` writes Clarify's analysis.json of the mean absolute attributions,
/// and keeps the attribution columns out of the profile; `monitor` judges the ranking by nDCG,
/// writes Clarify's files, exits 1 on a violation, and per day finds the day it moved.
#[test]
fn attribution_drift_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let (train, same, moved) =
        (dir.path().join("train.parquet"), dir.path().join("same.parquet"), dir.path().join("moved.parquet"));
    let means = captures(&train, [3.0, 1.0, 0.2], [3.0, 1.0, 0.2], 1);
    captures(&same, [3.0, 1.0, 0.2], [3.0, 1.0, 0.2], 2);
    captures(&moved, [3.0, 1.0, 0.2], [0.2, 0.5, 6.0], 3);
    let base = dir.path().join("base");
    driftscope().args(["baseline", "-q", "--attributions", "shap_", "-o"]).arg(&base).arg(&train).assert().success();
    let a = Analysis::load(&base.join("analysis.json")).unwrap();
    let globals = a.label("label0").unwrap();
    for (k, f) in ["a", "b", "c"].into_iter().enumerate() {
        let got = globals[f];
        assert!((got - means[k]).abs() <= 1e-12 * means[k], "{f}: {got} against {}", means[k]);
    }
    let stats = json(&base.join("statistics.json"));
    assert!(
        feature(&stats, "shap_a").is_none() && feature(&stats, "a").is_some(),
        "attribution columns are not features"
    );

    // The same ranking: clean, nDCG 1.
    let out = dir.path().join("same");
    driftscope()
        .args(["monitor", "-q", "--attributions", "shap_", "-b"])
        .arg(&base)
        .arg("-o")
        .arg(&out)
        .arg(&same)
        .assert()
        .code(0);
    let report = json(&out.join("drift.json"));
    assert_eq!(report["feature_attribution"]["labels"][0]["ndcg"], 1.0);
    assert_eq!(json(&out.join("explainability/constraint_violations.json"))["violations"], serde_json::json!([]));

    // Reversed on the second day: the run and that day violate, the first day does not.
    let out = dir.path().join("moved");
    driftscope()
        .args(["monitor", "-q", "--attributions", "shap_", "--window", "1d", "--time-column", "event_time", "-b"])
        .arg(&base)
        .arg("-o")
        .arg(&out)
        .arg(&moved)
        .assert()
        .code(1)
        .stdout(contains("Feature attribution drift"));
    let v = json(&out.join("explainability/constraint_violations.json"));
    assert_eq!(v["version"], "1.0");
    let v = &v["violations"][0];
    assert_eq!((v["label"].as_str(), v["metric_name"].as_str()), (Some("label0"), Some("shap")));
    assert_eq!(v["constraint_check_type"], "feature_attribution_drift_check");
    assert!(v["description"].as_str().unwrap().starts_with("Feature attribution drift 0."), "{v}");
    let current = Analysis::load(&out.join("explainability/analysis.json")).unwrap();
    assert_eq!(current.label("label0").unwrap().len(), 3);
    let windows = std::fs::read_to_string(out.join("explainability/windows.csv")).unwrap();
    let rows: Vec<&str> = windows.lines().collect();
    assert_eq!(rows.len(), 3, "{windows}");
    assert!(rows[1].starts_with("2026-01-01T00:00:00Z,2026-01-02T00:00:00Z,label0,1,0.9,ok"), "{windows}");
    assert!(rows[2].contains(",drift,") && rows[2].ends_with("c b a"), "{windows}");
    let report = json(&out.join("drift.json"));
    assert_eq!(
        (
            report["feature_attribution"]["windows"].as_u64(),
            report["feature_attribution"]["windows_with_drift"].as_u64()
        ),
        (Some(2), Some(1))
    );
    assert!(std::fs::read_to_string(out.join("report.html")).unwrap().contains("Feature attribution drift"));

    // A Clarify analysis.json given instead of the folder's, with another label.
    let clarify = dir.path().join("clarify.json");
    std::fs::write(&clarify, r#"{"version": "1.0", "explanations": {"kernel_shap": {"churn": {"global_shap_values": {"a": 0.1, "b": 0.2, "c": 0.3}, "expected_value": 0.5}}}}"#).unwrap();
    let out = dir.path().join("clarify-run");
    driftscope()
        .args(["monitor", "-q", "--attributions", "shap_", "--attribution-label", "churn", "--attribution-baseline"])
        .arg(&clarify)
        .arg("-b")
        .arg(&base)
        .arg("-o")
        .arg(&out)
        .arg(&same)
        .assert()
        .code(1);
    assert_eq!(json(&out.join("drift.json"))["feature_attribution"]["labels"][0]["label"], "churn");
}

/// Bad input: no attribution column, attributions that are text, attributions of a column the
/// inputs lack, a baseline without attributions, a malformed analysis.json, a label it lacks.
/// Each a one-line error, exit 2, nothing written.
#[test]
fn attribution_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let train = dir.path().join("train.parquet");
    captures(&train, [3.0, 1.0, 0.2], [3.0, 1.0, 0.2], 1);
    let fail = |args: &[&str], input: &std::path::Path, message: &str| {
        let out = dir.path().join(format!("out-{}", message.len()));
        driftscope().args(args).arg("-o").arg(&out).arg(input).assert().code(2).stderr(contains(message));
        assert!(!out.join("analysis.json").exists() && !out.join("drift.json").exists(), "{message}");
    };
    fail(&["baseline", "-q", "--attributions", "lime_"], &train, "no column of the inputs starts with 'lime_'");
    let text = dir.path().join("text.parquet");
    write_parquet(
        &text,
        vec![("a", arr(Float64Array::from(vec![1.0, 2.0]))), ("shap_a", arr(StringArray::from(vec!["0.1", "0.2"])))],
        10,
    );
    fail(
        &["baseline", "-q", "--attributions", "shap_"],
        &text,
        "column 'shap_a' holds text: attributions must be numbers",
    );
    let orphan = dir.path().join("orphan.parquet");
    write_parquet(
        &orphan,
        vec![("a", arr(Float64Array::from(vec![1.0, 2.0]))), ("shap_z", arr(Float64Array::from(vec![0.1, 0.2])))],
        10,
    );
    fail(
        &["baseline", "-q", "--attributions", "shap_"],
        &orphan,
        "column 'shap_z' explains 'z', which is not a column of the inputs",
    );
    let plain = dir.path().join("plain");
    driftscope().args(["baseline", "-q", "-o"]).arg(&plain).arg(&train).assert().success();
    let b = plain.to_str().unwrap();
    fail(&["monitor", "-q", "--attributions", "shap_", "-b", b], &train, "has no analysis.json");
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\"explanations\": 3").unwrap();
    fail(
        &["monitor", "-q", "--attributions", "shap_", "--attribution-baseline", broken.to_str().unwrap(), "-b", b],
        &train,
        "not a Clarify analysis.json",
    );
    let other = dir.path().join("other.json");
    std::fs::write(&other, r#"{"explanations": {"kernel_shap": {"label1": {"global_shap_values": {"a": 1.0}}}}}"#)
        .unwrap();
    fail(
        &["monitor", "-q", "--attributions", "shap_", "--attribution-baseline", other.to_str().unwrap(), "-b", b],
        &train,
        "no label 'label0' (it explains label1)",
    );
}
