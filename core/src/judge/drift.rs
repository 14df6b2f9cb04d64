//! Per-feature drift: a baseline [`Reference`] against the current [`ColumnProfile`], with the
//! verdict that `monitoring_config` asks for.
//!
//! Numeric verdicts use L∞ (Robust or Simple, `comparison_threshold`); on a SageMaker baseline
//! L∞ is computed between the two KLL sketches, as SageMaker does, and on a driftscope baseline
//! between exact histograms. Categorical verdicts use L∞ on value frequencies or, with
//! `ChiSquared`, drift when the χ² p-value is below `categorical_comparison_threshold`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::judge::baseline::{Baseline, Reference};
use crate::judge::compare::{self, robust_allowance, CategoricalMetrics, NumericMetrics};
use crate::judge::sagemaker::EffectiveConfig;
use crate::profile::{ColumnProfile, Kll};

/// The verdict on one feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The distance passed its threshold.
    Drift,
    /// Compared, within the threshold.
    Ok,
    /// Not compared (see the reason).
    Skipped,
}

/// How a feature was compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureKind {
    /// On histograms over the baseline's bins.
    Numeric,
    /// On counts per value.
    Categorical,
    /// Not compared.
    None,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Drift => "drift",
            Verdict::Ok => "ok",
            Verdict::Skipped => "skipped",
        })
    }
}

impl std::fmt::Display for FeatureKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FeatureKind::Numeric => "numeric",
            FeatureKind::Categorical => "categorical",
            FeatureKind::None => "none",
        })
    }
}

/// Drift of one feature.
#[derive(Debug, Clone, Serialize)]
pub struct FeatureDrift {
    /// Feature name.
    pub name: String,
    /// How it was compared.
    pub kind: FeatureKind,
    /// The verdict.
    pub status: Verdict,
    /// Why the feature was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The metric behind the verdict (`linf_robust`, `linf_simple`, `chi2_pvalue`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Its value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance: Option<f64>,
    /// The threshold it was held against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// Baseline rows compared (weights).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_count: Option<f64>,
    /// Current rows compared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_count: Option<f64>,
    /// Numeric metrics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub numeric: Option<NumericMetrics>,
    /// Categorical metrics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub categorical: Option<CategoricalMetrics>,
    /// Binned distributions for charts (not written to JSON).
    #[serde(skip)]
    pub chart: Option<Chart>,
}

/// Proportions per display bin, for the HTML report.
#[derive(Debug, Clone)]
pub struct Chart {
    /// Bin labels.
    pub labels: Vec<String>,
    /// For a numeric feature, the edges between the drawn bins (one fewer than the bins; the
    /// first and last bins are open-ended); `None` for a categorical one.
    pub edges: Option<Vec<f64>>,
    /// Baseline proportions.
    pub baseline: Vec<f64>,
    /// Current proportions.
    pub current: Vec<f64>,
}

impl FeatureDrift {
    /// A feature left out of the comparison, and why.
    pub fn skipped(name: &str, reason: impl Into<String>) -> Self {
        FeatureDrift {
            status: Verdict::Skipped,
            reason: Some(reason.into()),
            ..FeatureDrift::compared(name, FeatureKind::None)
        }
    }

    /// A compared feature with no metrics yet; callers fill them in.
    fn compared(name: &str, kind: FeatureKind) -> Self {
        FeatureDrift {
            name: name.to_string(),
            kind,
            status: Verdict::Ok,
            reason: None,
            method: None,
            distance: None,
            threshold: None,
            baseline_count: None,
            current_count: None,
            numeric: None,
            categorical: None,
            chart: None,
        }
    }

    /// True when the verdict is drift.
    pub fn drifted(&self) -> bool {
        self.status == Verdict::Drift
    }

    /// A metric both kinds of feature have, from whichever metrics this one has.
    fn either(&self, numeric: fn(&NumericMetrics) -> f64, categorical: fn(&CategoricalMetrics) -> f64) -> Option<f64> {
        self.numeric.as_ref().map(numeric).or_else(|| self.categorical.as_ref().map(categorical))
    }

    /// PSI against the reference, when compared.
    pub fn psi(&self) -> Option<f64> {
        self.either(|m| m.psi, |m| m.psi)
    }

    /// The drift metrics in [`METRICS`]' order, as `drift.json` holds them: `None` for a metric
    /// the comparison lacks and for one that is not finite (JSON has no such number).
    pub fn metric_row(&self) -> [Option<f64>; METRICS.len()] {
        let row = match (&self.numeric, &self.categorical) {
            (Some(m), _) => [
                Some(m.linf_simple),
                Some(m.linf_robust),
                Some(m.ks_statistic),
                Some(m.ks_pvalue),
                Some(m.psi),
                Some(m.js_distance),
                Some(m.hellinger),
                Some(m.wasserstein),
                m.wasserstein_normalized,
                Some(m.kl_divergence),
                None,
                None,
                None,
                None,
                Some(m.tv_distance),
                Some(m.energy_distance),
                Some(m.cvm_statistic),
                Some(m.cvm_pvalue),
                m.anderson_statistic,
                m.anderson_pvalue,
            ],
            (_, Some(m)) => [
                Some(m.linf_simple),
                Some(m.linf_robust),
                None,
                None,
                Some(m.psi),
                Some(m.js_distance),
                None,
                None,
                None,
                None,
                m.chi2_statistic,
                Some(m.chi2_dof as f64),
                Some(m.chi2_pvalue),
                Some(m.unseen_share),
                Some(m.tv_distance),
                None,
                None,
                None,
                None,
                None,
            ],
            _ => [None; METRICS.len()],
        };
        row.map(|v| v.filter(|v| v.is_finite()))
    }

    /// Jensen–Shannon distance against the reference, when compared.
    pub fn js_distance(&self) -> Option<f64> {
        self.either(|m| m.js_distance, |m| m.js_distance)
    }

    /// The raw L∞ (before the robust rule's allowance), when compared.
    pub fn linf_simple(&self) -> Option<f64> {
        self.either(|m| m.linf_simple, |m| m.linf_simple)
    }
}

/// Names of the metric columns of the windows' and segments' tables: every drift metric of
/// `drift.json`.
pub const METRICS: [&str; 20] = [
    "linf_simple",
    "linf_robust",
    "ks_statistic",
    "ks_pvalue",
    "psi",
    "js_distance",
    "hellinger",
    "wasserstein",
    "wasserstein_normalized",
    "kl_divergence",
    "chi2_statistic",
    "chi2_dof",
    "chi2_pvalue",
    "unseen_share",
    "tv_distance",
    "energy_distance",
    "cvm_statistic",
    "cvm_pvalue",
    "anderson_statistic",
    "anderson_pvalue",
];

/// L∞ between two sketches' CDFs, evaluated at every retained item of both.
pub fn kll_linf(a: &Kll, b: &Kll) -> Option<f64> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let ia = a.weighted_items();
    let ib = b.weighted_items();
    let mut points: Vec<f64> = ia.iter().chain(&ib).map(|x| x.0).collect();
    points.sort_by(f64::total_cmp);
    points.dedup();
    let cum = |items: &[(f64, u64)]| {
        let mut out = Vec::with_capacity(points.len());
        let (mut i, mut w) = (0usize, 0u128);
        for &p in &points {
            while i < items.len() && items[i].0 <= p {
                w += items[i].1 as u128;
                i += 1;
            }
            out.push(w);
        }
        out
    };
    let (wa, wb) = (cum(&ia), cum(&ib));
    let (n, m) = (a.n as u128, b.n as u128);
    // |Wa/n − Wb/m| = |Wa·m − Wb·n| / (n·m), exact in integers and rounded once.
    let max = wa.iter().zip(&wb).map(|(x, y)| (x * m).abs_diff(y * n)).max().unwrap_or(0);
    Some(max as f64 / (n * m) as f64)
}

const CHART_BINS: usize = 20;

fn regroup(labels_edges: &[f64], base: &[f64], cur: &[f64]) -> Chart {
    let nb = base.len();
    let group = nb.div_ceil(CHART_BINS).max(1);
    let (tb, tc): (f64, f64) = (base.iter().sum::<f64>().max(1e-300), cur.iter().sum::<f64>().max(1e-300));
    let mut chart = Chart { labels: Vec::new(), edges: None, baseline: Vec::new(), current: Vec::new() };
    let mut between = Vec::new();
    let fmt = |v: f64| format!("{:.4}", v).trim_end_matches('0').trim_end_matches('.').to_string();
    for start in (0..nb).step_by(group) {
        let end = (start + group).min(nb);
        let lo = if start == 0 { "−∞".to_string() } else { fmt(labels_edges[start - 1]) };
        let hi = if end == nb { "+∞".to_string() } else { fmt(labels_edges[end - 1]) };
        chart.labels.push(format!("[{lo}, {hi})"));
        if end < nb {
            between.push(labels_edges[end - 1]);
        }
        chart.baseline.push(base[start..end].iter().sum::<f64>() / tb);
        chart.current.push(cur[start..end].iter().sum::<f64>() / tc);
    }
    chart.edges = Some(between);
    chart
}

/// The means of the values a sketch holds below the first edge and at or above the last (`None`
/// for a side without any, or without a sketch).
fn tail_means(kll: &Kll, edges: &[f64]) -> (Option<f64>, Option<f64>) {
    let (Some(&first), Some(&last)) = (edges.first(), edges.last()) else {
        return (None, None);
    };
    let mean = |keep: &dyn Fn(f64) -> bool| {
        let (mut sum, mut weight) = (0.0, 0.0);
        for (h, level) in kll.levels.iter().enumerate() {
            let w = (1u64 << h.min(63)) as f64;
            for &v in level.iter().filter(|&&v| keep(v)) {
                sum += w * v;
                weight += w;
            }
        }
        (weight > 0.0).then(|| sum / weight)
    };
    (mean(&|v| v < first), mean(&|v| v >= last))
}

/// Compares one feature, with the binned distributions the HTML report draws.
pub fn feature(baseline: &Baseline, name: &str, current: Option<&ColumnProfile>) -> FeatureDrift {
    let mut made = None;
    judge_reference(baseline, name, || &*made.insert(baseline.reference(name)), current, true)
}

/// Compares one feature with another reference than the baseline's distribution (a previous
/// time window, say), under the baseline's monitoring settings; no chart.
pub fn feature_against(
    baseline: &Baseline,
    name: &str,
    reference: &Reference,
    current: Option<&ColumnProfile>,
) -> FeatureDrift {
    judge_reference(baseline, name, || reference, current, false)
}

/// Judges `current` against the reference `reference` gives, worked out only when the feature
/// is there to compare.
fn judge_reference<'r>(
    baseline: &Baseline,
    name: &str,
    reference: impl FnOnce() -> &'r Reference,
    current: Option<&ColumnProfile>,
    charts: bool,
) -> FeatureDrift {
    let Some(cur) = current else {
        return FeatureDrift::skipped(name, "missing from the current data");
    };
    let cfg = baseline.config(name);
    if !cfg.perform_comparison {
        return FeatureDrift::skipped(name, "perform_comparison is Disabled for this feature");
    }
    match reference() {
        Reference::Unavailable(why) => FeatureDrift::skipped(name, why.clone()),
        r @ Reference::Numeric { .. } => judge_numeric(name, &cfg, r, cur, charts),
        Reference::Categorical { counts } => judge_categorical(name, &cfg, counts, cur, charts),
    }
}

/// A numeric feature's drift: the current histogram against the reference's over its edges
/// (L∞ between the two sketches for a SageMaker baseline), by the configured method.
fn judge_numeric(name: &str, cfg: &EffectiveConfig, r: &Reference, cur: &ColumnProfile, charts: bool) -> FeatureDrift {
    let &Reference::Numeric { ref edges, ref weights, min, max, discrete, std_dev, ref kll, exact } = r else {
        return FeatureDrift::skipped(name, "the reference is not numeric");
    };
    let Some(h) = cur.histogram.as_ref().filter(|h| h.edges[..] == edges[..]) else {
        return FeatureDrift::skipped(name, "current values are not numeric");
    };
    let counts: Vec<f64> = h.iter().map(|c| c as f64).collect();
    let spread = compare::Spread {
        span: (
            min.unwrap_or(f64::INFINITY).min(cur.moments.min.unwrap_or(f64::INFINITY)),
            max.unwrap_or(f64::NEG_INFINITY).max(cur.moments.max.unwrap_or(f64::NEG_INFINITY)),
        ),
        tails: tail_means(&cur.kll, edges),
        discrete,
    };
    let Some(mut m) = compare::numeric_against(weights, edges, &counts, &spread, std_dev) else {
        return FeatureDrift::skipped(name, "no finite current values");
    };
    if !exact {
        // SageMaker's L∞ is the distance between the two sketches.
        if let Some(l) = kll_linf(kll, &cur.kll) {
            m.linf_simple = l;
            m.linf_robust = (l - robust_allowance(kll.n as f64, cur.kll.n as f64)).max(0.0);
        }
    }
    let (method, distance, drift) = if cfg.ks {
        ("ks_pvalue", m.ks_pvalue, m.ks_pvalue < cfg.comparison_threshold)
    } else if cfg.robust {
        ("linf_robust", m.linf_robust, m.linf_robust > cfg.comparison_threshold)
    } else {
        ("linf_simple", m.linf_simple, m.linf_simple > cfg.comparison_threshold)
    };
    FeatureDrift {
        method: Some(method.into()),
        distance: Some(distance),
        threshold: Some(cfg.comparison_threshold),
        status: if drift { Verdict::Drift } else { Verdict::Ok },
        baseline_count: Some(weights.weights().iter().sum()),
        current_count: Some(counts.iter().sum()),
        chart: charts.then(|| regroup(edges, weights.weights(), &counts)),
        numeric: Some(m),
        ..FeatureDrift::compared(name, FeatureKind::Numeric)
    }
}

/// A categorical feature's drift: value counts against the reference's, by the configured
/// method, with the chart of the most frequent values.
fn judge_categorical(
    name: &str,
    cfg: &EffectiveConfig,
    counts: &BTreeMap<String, f64>,
    cur: &ColumnProfile,
    charts: bool,
) -> FeatureDrift {
    if !cur.categories.is_exact() {
        return FeatureDrift::skipped(name, "current data has too many distinct values for categorical drift");
    }
    let mut keys: Vec<String> = counts.keys().cloned().collect();
    keys.extend(cur.categories.exact.keys().filter(|k| !counts.contains_key(*k)).cloned());
    let base: Vec<f64> = keys.iter().map(|k| counts.get(k).copied().unwrap_or(0.0)).collect();
    let curv: Vec<f64> = keys.iter().map(|k| cur.categories.exact.get(k).copied().unwrap_or(0) as f64).collect();
    let unseen: Vec<bool> = keys.iter().map(|k| !counts.contains_key(k)).collect();
    let Some(m) = compare::categorical(&base, &curv, &unseen) else {
        return FeatureDrift::skipped(name, "no present current values");
    };
    let (method, distance, drift) = if cfg.chi_squared {
        ("chi2_pvalue", m.chi2_pvalue, m.chi2_pvalue < cfg.categorical_comparison_threshold)
    } else if cfg.robust {
        ("linf_robust", m.linf_robust, m.linf_robust > cfg.categorical_comparison_threshold)
    } else {
        ("linf_simple", m.linf_simple, m.linf_simple > cfg.categorical_comparison_threshold)
    };
    let (tb, tc) = (base.iter().sum::<f64>(), curv.iter().sum::<f64>());
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by(|&a, &b| (base[b] / tb + curv[b] / tc).total_cmp(&(base[a] / tb + curv[a] / tc)).then(a.cmp(&b)));
    order.truncate(CHART_BINS);
    let chart = charts.then(|| Chart {
        labels: order.iter().map(|&i| keys[i].clone()).collect(),
        edges: None,
        baseline: order.iter().map(|&i| base[i] / tb).collect(),
        current: order.iter().map(|&i| curv[i] / tc).collect(),
    });
    FeatureDrift {
        method: Some(method.into()),
        distance: Some(distance),
        threshold: Some(cfg.categorical_comparison_threshold),
        status: if drift { Verdict::Drift } else { Verdict::Ok },
        baseline_count: Some(tb),
        current_count: Some(tc),
        chart,
        categorical: Some(m),
        ..FeatureDrift::compared(name, FeatureKind::Categorical)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::compare::{CategoricalMetrics, NumericMetrics};

    /// The row as `drift.json` gives it: each metric's JSON value by name, as a number.
    fn by_json(f: &FeatureDrift) -> Vec<Option<f64>> {
        let json = match (&f.numeric, &f.categorical) {
            (Some(m), _) => serde_json::to_value(m).unwrap(),
            (_, Some(m)) => serde_json::to_value(m).unwrap(),
            _ => serde_json::Value::Null,
        };
        if let Some(fields) = json.as_object() {
            for name in fields.keys() {
                assert!(METRICS.contains(&name.as_str()), "{name} is in drift.json but not a table column");
            }
        }
        METRICS.iter().map(|m| json.get(m).and_then(serde_json::Value::as_f64)).collect()
    }

    #[test]
    fn metric_rows_are_drift_json_s_metrics() {
        let numeric = NumericMetrics {
            linf_simple: 0.5,
            linf_robust: 0.25,
            ks_statistic: 0.5,
            ks_pvalue: 1e-9,
            psi: f64::INFINITY,
            js_distance: 0.125,
            hellinger: f64::NAN,
            wasserstein: 3.0,
            wasserstein_normalized: None,
            kl_divergence: 7.5,
            tv_distance: -0.0,
            energy_distance: 0.75,
            cvm_statistic: 11.0,
            cvm_pvalue: 0.0625,
            anderson_statistic: Some(2.5),
            anderson_pvalue: Some(f64::NEG_INFINITY),
        };
        let categorical = CategoricalMetrics {
            linf_simple: 0.1,
            linf_robust: f64::NAN,
            psi: 0.2,
            chi2_statistic: None,
            chi2_dof: 7,
            chi2_pvalue: 0.3,
            js_distance: 0.4,
            unseen_share: 0.5,
            tv_distance: 0.6,
        };
        let mut f = FeatureDrift::skipped("x", "test");
        assert_eq!(f.metric_row().to_vec(), by_json(&f));
        f.numeric = Some(numeric.clone());
        assert_eq!(f.metric_row().to_vec(), by_json(&f));
        f.numeric = Some(NumericMetrics { wasserstein_normalized: Some(0.5), anderson_statistic: None, ..numeric });
        assert_eq!(f.metric_row().to_vec(), by_json(&f));
        f.numeric = None;
        f.categorical = Some(categorical.clone());
        assert_eq!(f.metric_row().to_vec(), by_json(&f));
        f.categorical = Some(CategoricalMetrics { chi2_statistic: Some(12.0), ..categorical });
        assert_eq!(f.metric_row().to_vec(), by_json(&f));
    }
}
