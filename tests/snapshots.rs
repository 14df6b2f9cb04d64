//! Snapshots of the outputs people and pipelines read: the suggested constraints, drift.json and
//! the Markdown summary of the README's sample run. A change of format, of a verdict or of a
//! figure shows in review as a diff of `tests/snapshots/`; accept one with `cargo insta review`
//! (or `INSTA_UPDATE=always cargo test snapshots`) after reading it.

use serde_json::Value;

use crate::common::*;

/// Floats to 10 significant digits: what a reader compares, and proof against a last-digit
/// difference between platforms' `ln`/`exp`.
fn rounded(v: Value) -> Value {
    match v {
        Value::Number(n) if n.is_f64() => {
            let x = n.as_f64().unwrap();
            let r: f64 = format!("{x:.9e}").parse().unwrap();
            serde_json::json!(r)
        }
        Value::Array(a) => Value::Array(a.into_iter().map(rounded).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, rounded(v))).collect()),
        other => other,
    }
}

#[test]
fn sample_run_outputs() {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().join("base");
    driftscope()
        .args(["baseline", "-q", "--backend", "cpu", "-o"])
        .arg(&base)
        .arg(root().join("data/baseline.parquet"))
        .assert()
        .success();
    insta::assert_json_snapshot!("constraints", rounded(json(&base.join("constraints.json"))));
    let out = d.path().join("out");
    let run = driftscope()
        .args(["monitor", "-q", "--backend", "cpu", "-b"])
        .arg(&base)
        .arg("-o")
        .arg(&out)
        .arg(root().join("data/current.parquet"))
        .assert()
        .code(1);
    let mut drift = rounded(json(&out.join("drift.json")));
    drift["driftscope_version"] = "<version>".into();
    drift["baseline"] = "<baseline>".into();
    for f in drift["current"]["per_file"].as_array_mut().unwrap() {
        f["path"] = f["path"].as_str().unwrap().replace(&root().display().to_string(), "<root>").into();
    }
    insta::assert_json_snapshot!("drift", drift);
    let markdown = String::from_utf8(run.get_output().stdout.clone()).unwrap();
    insta::assert_snapshot!("markdown", markdown.replace(&base.display().to_string(), "<baseline>"));
}
