//! Model quality against scikit-learn's figures (tests/reference/make_quality.py), the merge
//! property, and the CLI end to end from captures and ground truth to violations.

use std::collections::BTreeMap;

use driftwatch::quality::{Accumulator, ProblemType, QualitySettings, Value};
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

fn fold(name: &str, s: &QualitySettings, parts: usize) -> driftwatch::quality::QualityMetrics {
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
        let key = driftwatch::quality::key_of(&t["id"][i]);
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

fn assert_matches(case: &str, m: &driftwatch::quality::QualityMetrics) {
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
    assert_matches("gen_multiclass", &fold("gen_multiclass", &settings(ProblemType::MulticlassClassification, false), 1));
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
