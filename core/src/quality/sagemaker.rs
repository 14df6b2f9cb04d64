//! SageMaker's model-quality files: `statistics.json` (`{"version", "dataset": {"item_count"},
//! "<problem>_metrics": {name: {"value", "standard_deviation"}}}`), `constraints.json`
//! (`"<problem>_constraints": {name: {"threshold", "comparison_operator"}}`) and
//! `constraint_violations.json` (`{"violations": [{"metric_name", "constraint_check_type",
//! "description"}]}`). Numbers are read leniently (`"NaN"` standard deviations, `24.0` counts).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::{Metric, ProblemType, QualityError, QualityMetrics};
use crate::codec::lenient_opt_f64;

/// How a metric is compared with its threshold; a violation is when the comparison holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Operator {
    /// Violation when the metric is above the threshold (errors).
    GreaterThanThreshold,
    /// Violation when the metric is at or above the threshold.
    GreaterThanOrEqualToThreshold,
    /// Violation when the metric is below the threshold (scores).
    LessThanThreshold,
    /// Violation when the metric is at or below the threshold.
    LessThanOrEqualToThreshold,
}

impl Operator {
    /// True when `value` violates `threshold`.
    pub fn violated(self, value: f64, threshold: f64) -> bool {
        match self {
            Operator::GreaterThanThreshold => value > threshold,
            Operator::GreaterThanOrEqualToThreshold => value >= threshold,
            Operator::LessThanThreshold => value < threshold,
            Operator::LessThanOrEqualToThreshold => value <= threshold,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Operator::GreaterThanThreshold => "GreaterThanThreshold",
            Operator::GreaterThanOrEqualToThreshold => "GreaterThanOrEqualToThreshold",
            Operator::LessThanThreshold => "LessThanThreshold",
            Operator::LessThanOrEqualToThreshold => "LessThanOrEqualToThreshold",
        }
    }
}

/// One metric's constraint.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Constraint {
    /// The bound.
    #[serde(deserialize_with = "crate::codec::lenient_f64")]
    pub threshold: f64,
    /// How the metric is compared with it.
    pub comparison_operator: Operator,
}

/// A model-quality constraints file.
#[derive(Debug, Clone, PartialEq)]
pub struct QualityConstraints {
    /// The problem type, from the file's key.
    pub problem_type: ProblemType,
    /// Constraints by metric name.
    pub constraints: BTreeMap<String, Constraint>,
}

/// The metrics whose constraints a baseline suggests, with the direction that is worse.
fn suggested(problem: ProblemType) -> &'static [(&'static str, Operator)] {
    use Operator::{GreaterThanThreshold as Gt, LessThanThreshold as Lt};
    match problem {
        ProblemType::Regression => &[("mae", Gt), ("mse", Gt), ("rmse", Gt), ("r2", Lt)],
        ProblemType::BinaryClassification => &[
            ("accuracy", Lt),
            ("precision", Lt),
            ("recall", Lt),
            ("f0_5", Lt),
            ("f1", Lt),
            ("f2", Lt),
            ("auc", Lt),
            ("au_prc", Lt),
            ("true_positive_rate", Lt),
            ("true_negative_rate", Lt),
            ("false_positive_rate", Gt),
            ("false_negative_rate", Gt),
        ],
        ProblemType::MulticlassClassification => &[
            ("accuracy", Lt),
            ("weighted_recall", Lt),
            ("weighted_precision", Lt),
            ("weighted_f0_5", Lt),
            ("weighted_f1", Lt),
            ("weighted_f2", Lt),
        ],
    }
}

/// SageMaker's suggestion: each metric's baseline value as its threshold, compared in the
/// direction that is worse. Undefined metrics get no constraint.
pub fn suggest(m: &QualityMetrics) -> QualityConstraints {
    let constraints = suggested(m.problem_type)
        .iter()
        .filter_map(|&(name, op)| {
            m.values.get(name).map(|v| (name.to_string(), Constraint { threshold: v.value, comparison_operator: op }))
        })
        .collect();
    QualityConstraints { problem_type: m.problem_type, constraints }
}

fn metric_json(m: &Metric) -> Value {
    json!({
        "value": m.value,
        "standard_deviation": m.standard_deviation.map_or(json!("NaN"), |s| json!(s)),
    })
}

/// The statistics file's JSON.
pub fn statistics_json(m: &QualityMetrics) -> Value {
    let mut metrics = Map::new();
    if let Some(cm) = &m.confusion_matrix {
        metrics.insert("confusion_matrix".into(), json!(cm));
    }
    for (k, v) in &m.values {
        metrics.insert(k.clone(), metric_json(v));
    }
    if let Some(c) = &m.curves {
        metrics.insert(
            "receiver_operating_characteristic_curve".into(),
            json!({"false_positive_rates": c.false_positive_rates, "true_positive_rates": c.true_positive_rates}),
        );
        metrics.insert("precision_recall_curve".into(), json!({"precisions": c.precisions, "recalls": c.recalls}));
    }
    let mut top = Map::new();
    top.insert("version".into(), json!(0.0));
    top.insert("dataset".into(), json!({"item_count": m.rows}));
    top.insert(m.problem_type.metrics_key().into(), Value::Object(metrics));
    if !m.undefined.is_empty() {
        top.insert("undefined_metrics".into(), json!(m.undefined));
    }
    Value::Object(top)
}

/// The constraints file's JSON.
pub fn constraints_json(c: &QualityConstraints) -> Value {
    let body: Map<String, Value> = c
        .constraints
        .iter()
        .map(|(k, v)| {
            (k.clone(), json!({"threshold": v.threshold, "comparison_operator": v.comparison_operator.name()}))
        })
        .collect();
    json!({"version": 0.0, c.problem_type.constraints_key(): body})
}

/// Metrics read from a SageMaker (or driftscope) model-quality statistics file.
#[derive(Debug, Clone, PartialEq)]
pub struct QualityStatistics {
    /// The problem type, from the file's key.
    pub problem_type: ProblemType,
    /// Rows, when the file gives them.
    pub rows: Option<u64>,
    /// Metric values (and deviations) by name; non-numeric entries (matrices, curves) left out.
    pub values: BTreeMap<String, (f64, Option<f64>)>,
}

/// True when this JSON is a model-quality statistics or constraints file.
pub fn is_quality_json(v: &Value) -> bool {
    v.as_object().is_some_and(|o| o.keys().any(|k| ProblemType::from_key(k).is_some()))
}

fn problem_of(v: &Value) -> Result<(ProblemType, &Map<String, Value>), QualityError> {
    let o = v.as_object().ok_or(QualityError::NotAnObject)?;
    o.iter().find_map(|(k, b)| Some((ProblemType::from_key(k)?, b.as_object()?))).ok_or(QualityError::NoSection)
}

/// Reads a statistics file's JSON.
///
/// # Errors
/// [`QualityError::NotAnObject`] or [`QualityError::NoSection`].
pub fn parse_statistics(v: &Value) -> Result<QualityStatistics, QualityError> {
    let (problem_type, body) = problem_of(v)?;
    let mut values = BTreeMap::new();
    for (k, m) in body {
        #[derive(Deserialize)]
        struct Entry {
            #[serde(deserialize_with = "lenient_opt_f64", default)]
            value: Option<f64>,
            #[serde(deserialize_with = "lenient_opt_f64", default)]
            standard_deviation: Option<f64>,
        }
        if let Ok(Entry { value: Some(x), standard_deviation }) = serde_json::from_value::<Entry>(m.clone()) {
            if x.is_finite() {
                values.insert(k.clone(), (x, standard_deviation.filter(|s| s.is_finite())));
            }
        }
    }
    let rows = v.pointer("/dataset/item_count").and_then(Value::as_f64).map(|x| x as u64);
    Ok(QualityStatistics { problem_type, rows, values })
}

/// Reads a constraints file's JSON.
///
/// # Errors
/// As [`parse_statistics`], and [`QualityError::Constraint`] naming the metric whose constraint
/// is malformed.
pub fn parse_constraints(v: &Value) -> Result<QualityConstraints, QualityError> {
    let (problem_type, body) = problem_of(v)?;
    let mut constraints = BTreeMap::new();
    for (k, c) in body {
        let c: Constraint = serde_json::from_value(c.clone())
            .map_err(|source| QualityError::Constraint { metric: k.clone(), source })?;
        constraints.insert(k.clone(), c);
    }
    Ok(QualityConstraints { problem_type, constraints })
}

/// One violated model-quality constraint, in SageMaker's record shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityViolation {
    /// The metric.
    pub metric_name: String,
    /// The comparison that held.
    pub constraint_check_type: String,
    /// `Metric auc with 0.71 +/- 0.004 was LessThanThreshold '0.79'`.
    pub description: String,
}

/// The constraints that the metrics violate. A constrained metric that is undefined now is not
/// a violation; it is reported by the caller from [`QualityMetrics::undefined`].
///
/// # Errors
/// [`QualityError::OtherProblemType`] when the constraints are for another problem type.
pub fn check(m: &QualityMetrics, c: &QualityConstraints) -> Result<Vec<QualityViolation>, QualityError> {
    if m.problem_type != c.problem_type {
        return Err(QualityError::OtherProblemType { baseline: c.problem_type.name(), run: m.problem_type.name() });
    }
    Ok(c.constraints
        .iter()
        .filter_map(|(name, k)| {
            let v = m.values.get(name)?;
            k.comparison_operator.violated(v.value, k.threshold).then(|| {
                let spread = v.standard_deviation.map(|s| format!(" +/- {s}")).unwrap_or_default();
                QualityViolation {
                    metric_name: name.clone(),
                    constraint_check_type: k.comparison_operator.name().into(),
                    description: format!(
                        "Metric {name} with {}{spread} was {} '{}'",
                        v.value,
                        k.comparison_operator.name(),
                        k.threshold
                    ),
                }
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators() {
        assert!(Operator::GreaterThanThreshold.violated(0.6, 0.5));
        assert!(!Operator::GreaterThanThreshold.violated(0.5, 0.5));
        assert!(Operator::GreaterThanOrEqualToThreshold.violated(0.5, 0.5));
        assert!(Operator::LessThanThreshold.violated(0.4, 0.5));
        assert!(!Operator::LessThanThreshold.violated(0.5, 0.5));
        assert!(Operator::LessThanOrEqualToThreshold.violated(0.5, 0.5));
    }
}
