use std::path::Path;

use arrow_array::Float64Array;
use driftscope::judge::sagemaker::{Constraints, Statistics, Violations};
use serde_json::Value;

use crate::common::*;

/// Compares JSON values, numbers as f64 (SageMaker writes `100` and `100.0` alike).
fn same_json(a: &Value, b: &Value, at: &str) {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => assert_eq!(x.as_f64(), y.as_f64(), "{at}"),
        (Value::Object(x), Value::Object(y)) => {
            assert_eq!(
                x.keys().collect::<Vec<_>>().len(),
                y.keys().collect::<Vec<_>>().len(),
                "{at}: keys {:?} vs {:?}",
                x.keys(),
                y.keys()
            );
            for (k, v) in x {
                same_json(v, y.get(k).unwrap_or_else(|| panic!("{at}.{k} missing")), &format!("{at}.{k}"));
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{at}");
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                same_json(v, w, &format!("{at}[{i}]"));
            }
        }
        _ => assert_eq!(a, b, "{at}"),
    }
}

fn roundtrip<T: serde::de::DeserializeOwned + serde::Serialize + PartialEq + std::fmt::Debug>(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    let parsed: T = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let written = serde_json::to_string_pretty(&parsed).unwrap();
    let back: T = serde_json::from_str(&written).unwrap();
    assert_eq!(parsed, back, "{}", path.display());
    same_json(&serde_json::from_str::<Value>(&text).unwrap(), &serde_json::from_str::<Value>(&written).unwrap(), "$");
}

#[test]
fn real_sagemaker_files_parse_and_roundtrip() {
    let Some(dir) = fixtures() else { return };
    roundtrip::<Statistics>(&dir.join("data_quality_statistics.json"));
    roundtrip::<Statistics>(&dir.join("data_quality_statistics_string_feature.json"));
    roundtrip::<Constraints>(&dir.join("data_quality_constraints.json"));
    roundtrip::<Violations>(&dir.join("data_quality_constraint_violations.json"));
}

fn sagemaker_baseline(dir: &Path) -> Option<std::path::PathBuf> {
    let fx = fixtures()?;
    let base = dir.join("sm");
    std::fs::create_dir_all(&base).unwrap();
    std::fs::copy(fx.join("data_quality_statistics.json"), base.join("statistics.json")).unwrap();
    std::fs::copy(fx.join("data_quality_constraints.json"), base.join("constraints.json")).unwrap();
    Some(base)
}

/// The fixture's sketches hold every baseline value (100 rows, one level), so the same values
/// give an L∞ of exactly 0 and values beyond the baseline's range an L∞ of 1.
#[test]
fn monitor_against_a_real_sagemaker_baseline() {
    let d = tempfile::tempdir().unwrap();
    let Some(base) = sagemaker_baseline(d.path()) else {
        return;
    };
    let stats: Value = json(&base.join("statistics.json"));
    let mut same_cols = Vec::new();
    let mut shifted_cols = Vec::new();
    let names: Vec<String> = (0..6).map(|i| format!("_c{i}")).collect();
    for (i, f) in stats["features"].as_array().unwrap().iter().enumerate() {
        let data: Vec<f64> = f["numerical_statistics"]["distribution"]["kll"]["sketch"]["data"][0]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        same_cols.push((names[i].as_str(), arr(Float64Array::from(data.clone()))));
        shifted_cols
            .push((names[i].as_str(), arr(Float64Array::from(data.iter().map(|v| v + 1000.0).collect::<Vec<_>>()))));
    }
    let same = d.path().join("same.parquet");
    write_parquet(&same, same_cols, 40);
    let run = d.path().join("run");
    driftscope().args(["monitor", "-q", "-b"]).arg(&base).arg("-o").arg(&run).arg(&same).assert().code(0);
    let dj = json(&run.join("drift.json"));
    assert_eq!(dj["baseline_source"], "sagemaker");
    for f in dj["features"].as_array().unwrap() {
        assert_eq!(f["kind"], "numeric");
        assert_eq!(f["numeric"]["linf_simple"].as_f64(), Some(0.0), "{}", f["name"]);
    }
    let shifted = d.path().join("shifted.parquet");
    write_parquet(&shifted, shifted_cols, 40);
    let run2 = d.path().join("run2");
    driftscope().args(["monitor", "-q", "-b"]).arg(&base).arg("-o").arg(&run2).arg(&shifted).assert().code(1);
    let v = json(&run2.join("constraint_violations.json"));
    let drift: Vec<&Value> = v["violations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["constraint_check_type"] == "baseline_drift_check")
        .collect();
    assert_eq!(drift.len(), 6);
    let dj = json(&run2.join("drift.json"));
    for f in dj["features"].as_array().unwrap() {
        assert_eq!(f["numeric"]["linf_simple"].as_f64(), Some(1.0));
        // Robust: 1 − 1.8·sqrt(200/10000).
        let robust = 1.0 - 1.8 * (200.0f64 / 10000.0).sqrt();
        assert!((f["distance"].as_f64().unwrap() - robust).abs() < 1e-12);
    }
}

/// A SageMaker-format baseline written by hand: counts as floats, "NaN" strings, a string
/// feature with categorical buckets, a per-feature override in the snake_case spelling.
#[test]
fn hand_written_sagemaker_baseline() {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().join("b");
    std::fs::create_dir_all(&base).unwrap();
    std::fs::write(
        base.join("statistics.json"),
        r#"{"version": 0.0, "dataset": {"item_count": 10.0}, "features": [
          {"name": "color", "inferred_type": "String", "string_statistics": {"common": {"num_present": 10.0, "num_missing": 0.0},
            "distinct_count": 2.0, "distribution": {"categorical": {"buckets": [{"value": "red", "count": 5.0}, {"value": "blue", "count": 5.0}]}}}},
          {"name": "v", "inferred_type": "Fractional", "numerical_statistics": {"common": {"num_present": 10.0, "num_missing": 0.0},
            "mean": "NaN", "sum": 55.0, "std_dev": 2.87, "min": 1.0, "max": 10.0,
            "distribution": {"kll": {"buckets": [], "sketch": {"parameters": {"c": 0.64, "k": 2048.0},
              "data": [[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]]}}}}}]}"#,
    )
    .unwrap();
    std::fs::write(
        base.join("constraints.json"),
        r#"{"version": 0.0, "features": [
            {"name": "color", "inferred_type": "String", "completeness": 1.0, "string_constraints": {"domains": ["red", "blue"]},
             "monitoring_config_overrides": {"distribution_constraints": {"categorical_comparison_threshold": 0.6}}},
            {"name": "v", "inferred_type": "Fractional", "completeness": 1.0, "num_constraints": {"is_non_negative": true}}],
          "monitoring_config": {"evaluate_constraints": "Enabled", "datatype_check_threshold": 1.0, "domain_content_threshold": 1.0,
            "distribution_constraints": {"perform_comparison": "Enabled", "comparison_threshold": 0.1, "comparison_method": "Simple"}}}"#,
    )
    .unwrap();
    let cur = d.path().join("cur.parquet");
    write_parquet(
        &cur,
        vec![
            (
                "color",
                arr(arrow_array::StringArray::from(vec![
                    "red", "red", "red", "red", "green", "blue", "blue", "blue", "blue", "blue",
                ])),
            ),
            ("v", arr(Float64Array::from(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, -10.0]))),
        ],
        5,
    );
    let run = d.path().join("run");
    driftscope().args(["monitor", "-q", "-b"]).arg(&base).arg("-o").arg(&run).arg(&cur).assert().code(1);
    let v = json(&run.join("constraint_violations.json"));
    let got: Vec<(String, String, String)> = v["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["feature_name"].as_str().unwrap().into(),
                x["constraint_check_type"].as_str().unwrap().into(),
                x["description"].as_str().unwrap().into(),
            )
        })
        .collect();
    // 9 of 10 colors in the domain; one negative value.
    assert!(
        got.contains(&(
            "color".into(),
            "categorical_values_check".into(),
            "Value: 0.9 does not meet the constraint requirement! ".into()
        )),
        "{got:?}"
    );
    assert!(got.iter().any(|g| g.0 == "v" && g.1 == "non_negative_check"), "{got:?}");
    // The color frequencies move by at most 0.1 (< the 0.6 override); v's CDFs differ by 0.1 at
    // most, not above the 0.1 threshold (Simple): no drift.
    assert!(!got.iter().any(|g| g.1 == "baseline_drift_check"), "{got:?}");
    let dj = json(&run.join("drift.json"));
    let color = dj["features"].as_array().unwrap().iter().find(|f| f["name"] == "color").unwrap();
    assert_eq!(color["threshold"], 0.6);
    assert!((color["categorical"]["unseen_share"].as_f64().unwrap() - 0.1).abs() < 1e-12);
    let vf = dj["features"].as_array().unwrap().iter().find(|f| f["name"] == "v").unwrap();
    assert_eq!(vf["method"], "linf_simple");
    assert!((vf["distance"].as_f64().unwrap() - 0.1).abs() < 1e-12);
}

/// The model-quality baseline that SageMaker's container (2021-05) wrote for a churn model's
/// validation set, as the notebook printed it (six significant digits): driftscope's baseline of
/// the same file gives every metric's value to those digits, the best constant classifier (the
/// majority label, as containers since 2021 take it) included. The standard deviations are
/// SageMaker's bootstrap, random: not compared.
#[test]
fn model_quality_matches_a_real_sagemaker_baseline() {
    let Some(real) =
        crate::common::fixtures().map(|f| f.join("../sagemaker-real/aws-sagemaker-examples_model-quality-churn"))
    else {
        return;
    };
    let table = std::fs::read_to_string(real.join("baseline_2021-05-26-0024.statistics-table.txt")).unwrap();
    let expected: Vec<(String, f64)> = table
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let (name, value) = (w.next()?, w.next()?);
            let metric = name.strip_suffix(".value")?;
            Some((metric.to_string(), value.parse().ok()?))
        })
        .collect();
    assert!(expected.len() >= 17, "{expected:?}");
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("base");
    crate::common::driftscope()
        .args(["baseline", "-q", "--problem-type", "BinaryClassification", "--label", "label"])
        .args(["--prediction", "prediction", "--probability", "probability", "-o"])
        .arg(&out)
        .arg(real.join("validation_with_predictions.csv"))
        .assert()
        .success();
    let mine = crate::common::json(&out.join("model_quality/statistics.json"));
    let m = &mine["binary_classification_metrics"];
    for (metric, want) in expected {
        let got = m[&metric]["value"].as_f64().unwrap_or_else(|| panic!("no {metric} in {m}"));
        // Six significant digits, as the table shows them.
        let tolerance = 5e-6 * want.abs().max(1e-6) + 1e-12;
        assert!((got - want).abs() <= tolerance, "{metric}: driftscope {got}, SageMaker {want}");
    }
    for (cell, want) in [("0.0", 173), ("0.1", 0), ("1.0", 12), ("1.1", 16)] {
        let (a, p) = cell.split_once('.').unwrap();
        assert_eq!(m["confusion_matrix"][a][p], want, "confusion_matrix.{cell}");
    }
}

/// The data-quality baseline a 2025 SageMaker container wrote for a cardiovascular table, and the
/// table itself (the 12 columns it shares with the baseline's input): driftscope's statistics of
/// the same rows give the container's counts, completeness, min and max exactly, and sum, mean
/// and standard deviation to 1e-12 (relative: driftscope's sums are compensated, the container's
/// plain, so their last digits differ). `approximate_num_distinct_values` of numeric features
/// agrees within 5%: both are HyperLogLog estimates (the container's is Spark's, whose default
/// relative standard deviation is 5%, and is itself 3% off the exact count of `weight_lbs`).
#[test]
fn statistics_match_a_real_2025_sagemaker_baseline() {
    let Some(real) = crate::common::fixtures().map(|f| f.join("../sagemaker-real/oxayavongsa_aai-540_cardio")) else {
        return;
    };
    let theirs = crate::common::json(&real.join("statistics.json"));
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("base");
    crate::common::driftscope()
        .args(["baseline", "-q", "-o"])
        .arg(&out)
        .arg(real.join("cardio_cleaned.csv"))
        .assert()
        .success();
    let mine = crate::common::json(&out.join("statistics.json"));
    assert_eq!(mine["dataset"]["item_count"], theirs["dataset"]["item_count"]);
    let mut compared = 0;
    for t in theirs["features"].as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        let Some(m) = crate::common::feature(&mine, name) else { continue };
        compared += 1;
        assert_eq!(m["inferred_type"], t["inferred_type"], "{name}");
        let (a, b) = (&m["numerical_statistics"], &t["numerical_statistics"]);
        assert_eq!(a["common"], b["common"], "{name}");
        for exact in ["completeness", "min", "max"] {
            assert_eq!(a[exact].as_f64(), b[exact].as_f64(), "{name}.{exact}");
        }
        for close in ["sum", "mean", "std_dev"] {
            let (x, y) = (a[close].as_f64().unwrap(), b[close].as_f64().unwrap());
            assert!((x - y).abs() <= 1e-12 * y.abs().max(1.0), "{name}.{close}: {x} vs {y}");
        }
        let distinct = "approximate_num_distinct_values";
        let (x, y) = (a[distinct].as_u64().unwrap(), b[distinct].as_u64().unwrap());
        assert!(x.abs_diff(y) as f64 <= 0.05 * y as f64, "{name}.{distinct}: {x} vs {y}");
    }
    assert_eq!(compared, 12);
}

/// Domains and categorical buckets follow SageMaker's container (Deequ's rules): a string feature
/// gets buckets when its histogram is kept (at most 120 distinct values) and a suggested domain
/// when, besides, at most a tenth of its values occur once — 54 states do, where driftscope's
/// old rule (at most 20 values) suggested none; a zip-code-like column of 500 values gets
/// neither; 60 values of which a fifth occur once get buckets and no domain.
#[test]
fn string_domains_and_buckets_follow_deequs_rules() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("t.csv");
    let mut text = String::from("state,zip,kind\n");
    for i in 0..3000 {
        // kind: 48 values seen often, 12 seen once (a fifth of the 60).
        let kind = if i < 12 { format!("rare{i}") } else { format!("k{}", i % 48) };
        text.push_str(&format!("S{},Z{:05},{kind}\n", i % 54, (i * 7919) % 500));
    }
    std::fs::write(&f, text).unwrap();
    let out = d.path().join("base");
    crate::common::driftscope().args(["baseline", "-q", "-o"]).arg(&out).arg(&f).assert().success();
    let stats = crate::common::json(&out.join("statistics.json"));
    let cons = crate::common::json(&out.join("constraints.json"));
    let pick = |doc: &serde_json::Value, name: &str| crate::common::feature(doc, name).unwrap();
    let buckets = |name: &str| {
        pick(&stats, name)["string_statistics"]["distribution"]["categorical"]["buckets"].as_array().map(Vec::len)
    };
    let domain = |name: &str| pick(&cons, name)["string_constraints"]["domains"].as_array().map(Vec::len);
    assert_eq!((buckets("state"), domain("state")), (Some(54), Some(54)));
    assert_eq!((buckets("zip"), domain("zip")), (None, None));
    assert_eq!((buckets("kind"), domain("kind")), (Some(60), None));
}

/// A CSV column of ISO 8601 text is `String`, as SageMaker's container types it: a baseline shaped
/// as the container writes it for such a table (the time column a one-value `String` domain with
/// its categorical bucket) judges its own training data with no violation — it used to read the
/// column as a timestamp, find "no present current values" and flag `categorical_values_check`.
/// driftscope's own baseline of the file types it `String` too, suggests the same domain, and
/// keeps it out of drift like any time column; windows still key on the text.
#[test]
fn iso_text_is_a_string_as_in_sagemakers_container() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("housing.csv");
    let mut text = String::from("price,state,date_added\n");
    for i in 0..500 {
        text.push_str(&format!(
            "{},{},2024-10-27T17:39:31Z\n",
            100_000 + (i * 7919) % 900_000,
            ["CA", "NY", "TX"][i % 3]
        ));
    }
    std::fs::write(&f, text).unwrap();
    // The container's files for this table, written by hand in its shapes.
    let base = d.path().join("sagemaker");
    std::fs::create_dir(&base).unwrap();
    let stats = serde_json::json!({
        "version": 0.0,
        "dataset": {"item_count": 500},
        "features": [
            {"name": "price", "inferred_type": "Integral", "numerical_statistics": {
                "common": {"num_present": 500, "num_missing": 0}, "completeness": 1.0}},
            {"name": "state", "inferred_type": "String", "string_statistics": {
                "common": {"num_present": 500, "num_missing": 0}, "distinct_count": 3.0, "completeness": 1.0,
                "distribution": {"categorical": {"buckets": [
                    {"value": "CA", "count": 167}, {"value": "NY", "count": 167}, {"value": "TX", "count": 166}]}}}},
            {"name": "date_added", "inferred_type": "String", "string_statistics": {
                "common": {"num_present": 500, "num_missing": 0}, "distinct_count": 1.0, "completeness": 1.0,
                "distribution": {"categorical": {"buckets": [{"value": "2024-10-27T17:39:31Z", "count": 500}]}}}}
        ]
    });
    let constraints = serde_json::json!({
        "version": 0.0,
        "features": [
            {"name": "price", "inferred_type": "Integral", "completeness": 1.0, "num_constraints": {"is_non_negative": true}},
            {"name": "state", "inferred_type": "String", "completeness": 1.0, "string_constraints": {"domains": ["CA", "NY", "TX"]}},
            {"name": "date_added", "inferred_type": "String", "completeness": 1.0,
             "string_constraints": {"domains": ["2024-10-27T17:39:31Z"]}}
        ],
        "monitoring_config": {"evaluate_constraints": "Enabled", "emit_metrics": "Enabled",
            "datatype_check_threshold": 1.0, "domain_content_threshold": 1.0,
            "distribution_constraints": {"perform_comparison": "Enabled", "comparison_threshold": 0.1,
                "comparison_method": "Robust", "categorical_comparison_threshold": 0.1,
                "categorical_drift_method": "LInfinity"}}
    });
    std::fs::write(base.join("statistics.json"), stats.to_string()).unwrap();
    std::fs::write(base.join("constraints.json"), constraints.to_string()).unwrap();
    let run = d.path().join("run");
    crate::common::driftscope().args(["monitor", "-q", "-b"]).arg(&base).arg("-o").arg(&run).arg(&f).assert().code(0);
    let v = crate::common::json(&run.join("constraint_violations.json"));
    assert_eq!(v["violations"].as_array().unwrap().len(), 0, "{v}");
    // driftscope's own baseline of the file.
    let own = d.path().join("own");
    crate::common::driftscope().args(["baseline", "-q", "-o"]).arg(&own).arg(&f).assert().success();
    let s = crate::common::json(&own.join("statistics.json"));
    let c = crate::common::json(&own.join("constraints.json"));
    let pick = |doc: &serde_json::Value, name: &str| crate::common::feature(doc, name).unwrap();
    assert_eq!(pick(&s, "date_added")["inferred_type"], "String");
    assert_eq!(pick(&c, "date_added")["string_constraints"]["domains"], serde_json::json!(["2024-10-27T17:39:31Z"]));
    assert_eq!(
        pick(&c, "date_added")["monitoringConfigOverrides"]["distribution_constraints"]["perform_comparison"],
        "Disabled"
    );
    // Windows key on the text.
    crate::common::driftscope()
        .args(["changepoints", "-q", "--window", "1d", "--time-column", "date_added", "-o"])
        .arg(d.path().join("cp"))
        .arg(&f)
        .assert()
        .success();
}
