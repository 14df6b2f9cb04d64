//! Feature attribution drift, as SageMaker Clarify's ModelExplainabilityMonitor judges it: the
//! global attributions of the baseline against the current ones, by nDCG.
//!
//! driftscope does not call the model, so attributions come from the data: per-row attribution
//! columns (SHAP values a model server returns beside its predictions), or, for the baseline, a
//! Clarify explainability `analysis.json`. A feature's global attribution is the mean absolute
//! value of its attributions over the rows that hold one, as Clarify's `global_shap_values`.
//!
//! nDCG (Clarify's definition): with `F` the features sorted by their baseline attribution,
//! `F'` sorted by their current one, and `a(f)` the baseline attribution of `f`,
//! `DCG = Σᵢ a(F'ᵢ)/log₂(i + 1)`, `iDCG = Σᵢ a(Fᵢ)/log₂(i + 1)`, `nDCG = DCG/iDCG`. A feature the
//! current side lacks ranks last there; one the baseline lacks counts 0. Ties rank by name. A
//! score below the threshold (0.9 by default) is a `feature_attribution_drift_check` violation,
//! written in Clarify's format: `{"version": "1.0", "violations": [{label, metric_name: "shap",
//! constraint_check_type, description}]}`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

/// The nDCG below which the attributions have drifted (Clarify's).
pub const DEFAULT_THRESHOLD: f64 = 0.9;
/// The explanation method driftscope's files name (Clarify's SHAP explainer).
pub const METHOD: &str = "kernel_shap";
/// The label of a single-output model, as Clarify names it without `label_headers`.
pub const DEFAULT_LABEL: &str = "label0";
/// The file of global attributions, in a baseline folder and in a run's explainability folder.
pub const ANALYSIS: &str = "analysis.json";
/// The folder of a monitoring run's explainability files (Clarify's, as its own job writes them).
pub const FOLDER: &str = "explainability";
/// The check type of a violation.
pub const CHECK_TYPE: &str = "feature_attribution_drift_check";

/// A Clarify `analysis.json`, as far as explanations go: fields not modelled are kept and
/// written back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// Format version (Clarify writes `"1.0"`).
    #[serde(default = "version")]
    pub version: String,
    /// Per explanation method (`kernel_shap`), per label.
    #[serde(default)]
    pub explanations: BTreeMap<String, BTreeMap<String, LabelExplanation>>,
    /// Fields not modelled here (bias metrics of a combined analysis, …).
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

fn version() -> String {
    "1.0".into()
}

/// One label's explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelExplanation {
    /// Global attribution per feature.
    pub global_shap_values: BTreeMap<String, f64>,
    /// The model's mean output, when the explainer knew it (driftscope does not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_value: Option<Value>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl Analysis {
    /// An analysis of one label's global attributions.
    pub fn of(label: &str, globals: BTreeMap<String, f64>) -> Analysis {
        let explanation =
            LabelExplanation { global_shap_values: globals, expected_value: None, extra: BTreeMap::new() };
        Analysis {
            version: version(),
            explanations: BTreeMap::from([(METHOD.to_string(), BTreeMap::from([(label.to_string(), explanation)]))]),
            extra: BTreeMap::new(),
        }
    }

    /// Reads `path`.
    ///
    /// # Errors
    /// [`Error::Input`] naming the file when it cannot be read, is not JSON of this shape, holds
    /// no explanation, or an attribution that is not a finite number.
    pub fn load(path: &Path) -> Result<Analysis> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::input(path, crate::error::one_line(e)))?;
        let a: Analysis = serde_json::from_str(&text).map_err(|e| {
            Error::input(path, format!("not a Clarify analysis.json with explanations: {}", crate::error::one_line(e)))
        })?;
        let labels: Vec<_> = a.labels().collect();
        if labels.is_empty() {
            return Err(Error::input(
                path,
                "holds no explanations (explanations.kernel_shap.<label>.global_shap_values)",
            ));
        }
        for (label, values) in labels {
            if let Some((f, v)) = values.iter().find(|(_, v)| !v.is_finite()) {
                return Err(Error::input(path, format!("label {label}: feature {f}: attribution {v} is not finite")));
            }
        }
        Ok(a)
    }

    /// Every label's global attributions, over every method (Clarify writes one, `kernel_shap`).
    pub fn labels(&self) -> impl Iterator<Item = (&str, &BTreeMap<String, f64>)> {
        self.explanations.values().flat_map(|m| m.iter().map(|(l, e)| (l.as_str(), &e.global_shap_values)))
    }

    /// A label's global attributions.
    pub fn label(&self, label: &str) -> Option<&BTreeMap<String, f64>> {
        self.labels().find(|(l, _)| *l == label).map(|(_, v)| v)
    }
}

/// Features by descending attribution, ties by name.
fn ranked(values: &BTreeMap<String, f64>) -> Vec<&str> {
    let mut v: Vec<(&str, f64)> = values.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    v.into_iter().map(|(k, _)| k).collect()
}

/// Clarify's nDCG of the current ranking against the baseline's (see the module's account).
/// `None` when the baseline's attributions are all 0 (nothing to rank by).
pub fn ndcg(baseline: &BTreeMap<String, f64>, current: &BTreeMap<String, f64>) -> Option<f64> {
    let discount = |i: usize| 1.0 / ((i + 2) as f64).log2();
    let ideal: f64 = ranked(baseline).iter().enumerate().map(|(i, f)| baseline[*f] * discount(i)).sum();
    if ideal <= 0.0 {
        return None;
    }
    // The current's ranking, then the baseline's features it lacks, in the baseline's order.
    let mut order = ranked(current);
    order.extend(ranked(baseline).into_iter().filter(|f| !current.contains_key(*f)));
    let dcg: f64 = order.iter().enumerate().map(|(i, f)| baseline.get(*f).copied().unwrap_or(0.0) * discount(i)).sum();
    Some(dcg / ideal)
}

/// The verdict on one label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelVerdict {
    /// The label.
    pub label: String,
    /// nDCG of the current ranking (`None` when not compared).
    pub ndcg: Option<f64>,
    /// The threshold it was held against.
    pub threshold: f64,
    /// `drift`, `ok` or `skipped`.
    pub status: crate::judge::drift::Verdict,
    /// Why it was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The features ranked highest now, with their attribution (at most 5).
    pub top_current: Vec<Ranked>,
    /// The features ranked highest in the baseline (at most 5).
    pub top_baseline: Vec<Ranked>,
}

/// A feature and its global attribution.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranked {
    /// The feature.
    pub feature: String,
    /// Its global attribution.
    pub attribution: f64,
}

/// A violation in Clarify's format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    /// The label.
    pub label: String,
    /// The explanation method (`shap`).
    pub metric_name: String,
    /// `feature_attribution_drift_check`.
    pub constraint_check_type: String,
    /// What was found, as Clarify words it.
    pub description: String,
}

/// Every label of the baseline judged: its nDCG against the current attributions, a violation
/// below `threshold`.
pub fn judge(baseline: &Analysis, current: &Analysis, threshold: f64) -> (Vec<LabelVerdict>, Vec<Violation>) {
    let top = |v: &BTreeMap<String, f64>| -> Vec<Ranked> {
        ranked(v).into_iter().take(5).map(|f| Ranked { feature: f.to_string(), attribution: v[f] }).collect()
    };
    let mut verdicts = Vec::new();
    let mut violations = Vec::new();
    for (label, base) in baseline.labels() {
        let mut v = LabelVerdict {
            label: label.to_string(),
            ndcg: None,
            threshold,
            status: crate::judge::drift::Verdict::Skipped,
            reason: None,
            top_current: Vec::new(),
            top_baseline: top(base),
        };
        match current.label(label) {
            None => v.reason = Some("no current attributions for this label".into()),
            Some(cur) if cur.is_empty() => v.reason = Some("no current row holds an attribution".into()),
            Some(cur) => {
                v.top_current = top(cur);
                match ndcg(base, cur) {
                    None => v.reason = Some("the baseline's attributions are all 0".into()),
                    Some(score) => {
                        v.ndcg = Some(score);
                        let drift = score < threshold;
                        v.status =
                            if drift { crate::judge::drift::Verdict::Drift } else { crate::judge::drift::Verdict::Ok };
                        if drift {
                            violations.push(Violation {
                                label: label.to_string(),
                                metric_name: "shap".into(),
                                constraint_check_type: CHECK_TYPE.into(),
                                description: format!("Feature attribution drift {score} exceeds threshold {threshold}"),
                            });
                        }
                    }
                }
            }
        }
        verdicts.push(v);
    }
    (verdicts, violations)
}

/// Feature attribution drift in a monitoring run's report (`drift.json`'s `feature_attribution`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttributionReport {
    /// Where the baseline's attributions came from.
    pub baseline: String,
    /// The whole run, per label.
    pub labels: Vec<LabelVerdict>,
    /// The whole run's violations.
    pub violations: Vec<Violation>,
    /// Windows whose rows hold attributions (per window: `explainability/windows.csv`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub windows: Option<usize>,
    /// Of those, the windows with a violation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub windows_with_drift: Option<usize>,
}

impl AttributionReport {
    /// True when the run or a window has a violation.
    pub fn violated(&self) -> bool {
        !self.violations.is_empty() || self.windows_with_drift.is_some_and(|n| n > 0)
    }
}

/// `constraint_violations.json` of an explainability run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Violations {
    /// `"1.0"`.
    pub version: String,
    /// The violations.
    pub violations: Vec<Violation>,
}

impl Violations {
    /// The file of `violations`.
    pub fn of(violations: Vec<Violation>) -> Violations {
        Violations { version: version(), violations }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(v: &[(&str, f64)]) -> BTreeMap<String, f64> {
        v.iter().map(|(k, x)| (k.to_string(), *x)).collect()
    }

    #[test]
    fn ndcg_by_hand() {
        // Clarify's college example: SAT 0.70, GPA 0.50, rank 0.05 in training; 0.10, 0.20,
        // 0.70 live. Live order: rank, GPA, SAT.
        let base = map(&[("sat", 0.70), ("gpa", 0.50), ("rank", 0.05)]);
        let live = map(&[("sat", 0.10), ("gpa", 0.20), ("rank", 0.70)]);
        let l = |i: f64| (i + 1.0).log2();
        let ideal = 0.70 / l(1.0) + 0.50 / l(2.0) + 0.05 / l(3.0);
        let dcg = 0.05 / l(1.0) + 0.50 / l(2.0) + 0.70 / l(3.0);
        let got = ndcg(&base, &live).unwrap();
        assert!((got - dcg / ideal).abs() < 1e-15, "{got}");
        assert!(got < DEFAULT_THRESHOLD);
        // The same order scores 1 whatever the values.
        assert_eq!(ndcg(&base, &map(&[("sat", 9.0), ("gpa", 1.0), ("rank", 0.0)])), Some(1.0));
        // A feature missing now ranks last; one new now counts 0.
        let missing = ndcg(&base, &map(&[("gpa", 0.3), ("rank", 0.1)])).unwrap();
        let want = (0.50 / l(1.0) + 0.05 / l(2.0) + 0.70 / l(3.0)) / ideal;
        assert!((missing - want).abs() < 1e-15);
        let extra = ndcg(&base, &map(&[("new", 5.0), ("sat", 0.7), ("gpa", 0.5), ("rank", 0.05)])).unwrap();
        let want = (0.0 / l(1.0) + 0.70 / l(2.0) + 0.50 / l(3.0) + 0.05 / l(4.0)) / ideal;
        assert!((extra - want).abs() < 1e-15);
        assert_eq!(ndcg(&map(&[("a", 0.0)]), &map(&[("a", 1.0)])), None);
    }

    #[test]
    fn judge_writes_clarify_violations() {
        let base = Analysis::of("label0", map(&[("sat", 0.70), ("gpa", 0.50), ("rank", 0.05)]));
        let live = Analysis::of("label0", map(&[("sat", 0.10), ("gpa", 0.20), ("rank", 0.70)]));
        let (verdicts, violations) = judge(&base, &live, 0.9);
        assert_eq!(verdicts[0].status, crate::judge::drift::Verdict::Drift);
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].constraint_check_type, CHECK_TYPE);
        assert!(violations[0].description.starts_with("Feature attribution drift 0."), "{}", violations[0].description);
        let (same, none) = judge(&base, &base, 0.9);
        assert_eq!((same[0].ndcg, none.len()), (Some(1.0), 0));
        let (other, none) = judge(&base, &Analysis::of("label1", map(&[("sat", 1.0)])), 0.9);
        assert_eq!((other[0].status, none.len()), (crate::judge::drift::Verdict::Skipped, 0));
    }

    #[test]
    fn reads_clarify_analysis() {
        let text = r#"{"version": "1.0", "explanations": {"kernel_shap": {"label0": {
            "global_shap_values": {"feature_0": 0.022486410860333206, "feature_1": 0.007381025261958729},
            "expected_value": 0.508233428001}}}, "pre_training_bias_metrics": {"facets": {}}}"#;
        let dir = std::env::temp_dir().join(format!("driftscope-analysis-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("analysis.json");
        std::fs::write(&p, text).unwrap();
        let a = Analysis::load(&p).unwrap();
        assert_eq!(a.label("label0").unwrap().len(), 2);
        // Fields not modelled survive a round trip.
        let back: Value = serde_json::to_value(&a).unwrap();
        assert_eq!(back["pre_training_bias_metrics"], serde_json::json!({"facets": {}}));
        assert_eq!(back["explanations"]["kernel_shap"]["label0"]["expected_value"], serde_json::json!(0.508233428001));
        std::fs::write(&p, r#"{"version": "1.0"}"#).unwrap();
        let e = Analysis::load(&p).unwrap_err().to_string();
        assert!(e.contains("analysis.json") && e.contains("no explanations"), "{e}");
        std::fs::write(&p, "[1, 2").unwrap();
        assert!(Analysis::load(&p).unwrap_err().to_string().contains("not a Clarify analysis.json"));
        std::fs::remove_dir_all(&dir).ok();
    }
}
