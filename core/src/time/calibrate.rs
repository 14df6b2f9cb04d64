//! Thresholds from history: each feature's drift threshold set from its distances over past
//! windows judged normal, at a chosen false-alarm rate. Features judged by the robust L∞ are
//! calibrated on the raw L∞ and judged by it afterwards (`comparison_method: Simple`): under the
//! robust rule normal windows score 0, and a threshold of 0 would flag every window. A threshold
//! is never 0.
//!
//! With `n` windows and a metric where higher means drift (L∞), the threshold is the `k`-th
//! smallest distance with `k = ⌈(1 − rate)(n + 1)⌉`: a new window from the same process lands
//! above it with probability `1 − k/(n + 1)` (its rank among the `n + 1` is uniform), which is
//! at most `rate`. Where lower means drift (a χ² p-value), the threshold is the `k`-th smallest
//! with `k = ⌊rate·(n + 1)⌋`, missed with probability `k/(n + 1)`. Too few windows for the rate
//! give the most extreme distance, and the rate that reaches, with a note.

use serde::Serialize;

use crate::judge::sagemaker::{Constraints, DistributionConstraints, FeatureConstraints, MonitoringConfig};
use crate::time::timeline::WindowResult;

/// The calibrated threshold of one feature.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    /// Feature name.
    pub feature: String,
    /// The metric the threshold applies to (`linf_robust`, `chi2_pvalue`…).
    pub method: String,
    /// Numeric or categorical threshold (which field of the overrides it goes to).
    pub categorical: bool,
    /// Windows the feature was compared in.
    pub windows: usize,
    /// The threshold before calibration.
    pub previous: Option<f64>,
    /// The calibrated threshold.
    pub threshold: f64,
    /// Probability that a new normal window raises a false alarm on this feature.
    pub expected_false_alarm_rate: f64,
    /// Windows of the history past the calibrated threshold.
    pub alarms_in_history: usize,
    /// Why the rate asked could not be reached, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The threshold for distances `values` of a metric where `higher` means drift, at `rate`:
/// `(threshold, expected false-alarm rate, note)`; `None` without values.
pub fn threshold(values: &[f64], higher: bool, rate: f64) -> Option<(f64, f64, Option<String>)> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let m = (n + 1) as f64;
    let short = |reached: f64| {
        Some(format!(
            "{n} windows reach a false-alarm rate of {reached:.4} at best; {rate} needs {} or more",
            (1.0 / rate).ceil() as usize - 1
        ))
    };
    if higher {
        let k = ((1.0 - rate) * m).ceil() as usize;
        if k > n {
            let reached = 1.0 / m;
            return Some((v[n - 1], reached, short(reached)));
        }
        let k = k.max(1);
        Some((v[k - 1], 1.0 - k as f64 / m, None))
    } else {
        let k = (rate * m).floor() as usize;
        if k == 0 {
            let reached = 1.0 / m;
            return Some((v[0], reached, short(reached)));
        }
        Some((v[k - 1], k as f64 / m, None))
    }
}

/// Calibrates every feature compared in `results`.
pub fn calibrate(results: &[WindowResult], rate: f64) -> Vec<Calibration> {
    let Some(first) = results.first() else { return Vec::new() };
    let mut out = Vec::new();
    for (j, f0) in first.features.iter().enumerate() {
        let compared: Vec<&crate::judge::drift::FeatureDrift> = results
            .iter()
            .filter_map(|r| r.features.get(j))
            .filter(|f| f.distance.is_some() && f.method.is_some())
            .collect();
        let Some(any) = compared.first() else { continue };
        let mut method = any.method.clone().unwrap_or_default();
        // p-values (χ², KS): lower means drift.
        let higher = !method.ends_with("_pvalue");
        // Under the robust rule a normal window scores 0 once the allowance is taken off, so its
        // quantile would be a threshold of 0: the raw L∞ is calibrated instead, and the feature
        // judged by it (`Simple`).
        let values: Vec<f64> = if method == "linf_robust" {
            method = "linf_simple".into();
            compared.iter().filter_map(|f| f.linf_simple()).collect()
        } else {
            compared.iter().filter_map(|f| f.distance).collect()
        };
        let Some((mut t, expected, mut note)) = threshold(&values, higher, rate) else { continue };
        // Every window of the history at 0 (a constant feature): a threshold of 0 would flag the
        // smallest change; the feature keeps the threshold it had.
        if higher && t <= 0.0 {
            t = any.threshold.filter(|p| *p > 0.0).unwrap_or(f64::MIN_POSITIVE);
            note = Some(format!("every window of the history scored 0; the threshold stays {t}"));
        }
        let alarms = values.iter().filter(|&&d| if higher { d > t } else { d < t }).count();
        out.push(Calibration {
            feature: f0.name.clone(),
            categorical: any.kind == crate::judge::drift::FeatureKind::Categorical,
            method,
            windows: values.len(),
            previous: any.threshold,
            threshold: t,
            expected_false_alarm_rate: expected,
            alarms_in_history: alarms,
            note,
        });
    }
    out
}

/// Writes the calibrated thresholds into the features' `monitoring_config_overrides`, adding
/// a feature entry where the constraints have none; a threshold of the raw L∞ comes with
/// `comparison_method: Simple`, so that it is compared with the raw distance.
pub fn apply(constraints: &mut Constraints, calibrations: &[Calibration]) {
    for c in calibrations {
        let at = match constraints.features.iter().position(|f| f.name == c.feature) {
            Some(i) => i,
            None => {
                constraints.features.push(FeatureConstraints {
                    name: c.feature.clone(),
                    inferred_type: None,
                    completeness: None,
                    num_constraints: None,
                    string_constraints: None,
                    monitoring_config_overrides: None,
                    extra: Default::default(),
                });
                constraints.features.len() - 1
            }
        };
        let over = constraints.features[at].monitoring_config_overrides.get_or_insert_with(MonitoringConfig::default);
        let dist = over.distribution_constraints.get_or_insert_with(DistributionConstraints::default);
        if c.categorical {
            dist.categorical_comparison_threshold = Some(c.threshold);
        } else {
            dist.comparison_threshold = Some(c.threshold);
        }
        if c.method == "linf_simple" {
            dist.comparison_method = Some("Simple".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_order_statistics_with_their_rates() {
        let v: Vec<f64> = (1..=99).map(f64::from).collect();
        // n = 99: k = ⌈0.95·100⌉ = 95, the 95th smallest; a new window exceeds it with 5/100.
        let (t, rate, note) = threshold(&v, true, 0.05).unwrap();
        assert_eq!((t, note), (95.0, None));
        assert!((rate - 0.05).abs() < 1e-12);
        // Lower is drift: k = ⌊0.05·100⌋ = 5, the 5th smallest, missed 5/100.
        let (t, rate, _) = threshold(&v, false, 0.05).unwrap();
        assert_eq!(t, 5.0);
        assert!((rate - 0.05).abs() < 1e-12);
        // 9 windows cannot give 1%: the largest, at 1/10, with a note.
        let (t, rate, note) = threshold(&v[..9], true, 0.01).unwrap();
        assert_eq!((t, rate), (9.0, 0.1));
        assert!(note.unwrap().contains("99 or more"));
        assert!(threshold(&[f64::NAN], true, 0.01).is_none());
    }
}
