use driftscope::judge::bias::{metrics, FacetCounts};

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
    assert_eq!(cases.len(), 5);
    let mut compared = 0;
    for c in cases {
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
