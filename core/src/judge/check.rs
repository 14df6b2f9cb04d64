//! Constraint checks: the baseline's constraints against the current profile and drift, giving
//! SageMaker's violations (`data_type_check`, `completeness_check`, `baseline_drift_check`,
//! `missing_column_check`, `extra_column_check`, `categorical_values_check`) plus driftscope's
//! `non_negative_check` for the `is_non_negative` constraint.
//!
//! Descriptions follow SageMaker's container: `Value: <observed> does not meet the constraint
//! requirement! ` for the ratio checks, and a distance-versus-threshold sentence for drift.

use crate::judge::baseline::Baseline;
use crate::judge::drift::FeatureDrift;
use crate::judge::sagemaker::{CheckType, Figures, Violation};
use crate::profile::{ColumnProfile, DatasetProfile, InferredType};

fn ratio_violation(feature: &str, check: CheckType, value: f64, limit: f64, baseline: Option<f64>) -> Violation {
    Violation {
        feature_name: feature.to_string(),
        constraint_check_type: check,
        description: format!("Value: {value} does not meet the constraint requirement! "),
        figures: Some(Figures { observed: value, limit, baseline }),
    }
}

/// The baseline's completeness of `name`, from its statistics.
fn baseline_completeness(baseline: &Baseline, name: &str) -> Option<f64> {
    let f = baseline.statistics.features.iter().find(|f| f.name == name)?;
    let common = f
        .numerical_statistics
        .as_ref()
        .map(|n| &n.common)
        .or_else(|| f.string_statistics.as_ref().map(|s| &s.common))?;
    let total = common.num_present + common.num_missing;
    (total > 0.0).then(|| common.num_present / total)
}

/// Finite values below zero: from the quantile sketch, or, in a window's light profile (no
/// sketch), the histogram's bins below its last edge at or under zero — exact when the baseline
/// minimum, the first edge, is 0.
fn negatives(col: &crate::profile::ColumnProfile) -> u64 {
    if !col.kll.is_empty() {
        return col.kll.weight_below(0.0);
    }
    col.histogram.as_ref().map_or(0, |h| h.iter().take(h.edges.partition_point(|&e| e <= 0.0)).sum())
}

/// The violations of a part of the run (a window, a segment): [`check`] of its profile, less
/// what the whole run says once. A column outside the judged `names` (a projection, the time
/// column) is not a missing one; every part holds every column of the run, so its extra
/// columns are the run's; and the `excluded` columns (a segment's own keys) are not judged.
pub fn check_part(
    baseline: &Baseline,
    part: &DatasetProfile,
    drift: &[FeatureDrift],
    (names, excluded): (&[String], &[String]),
) -> Vec<Violation> {
    let mut violations = check(baseline, part, drift);
    violations.retain(|v| match v.constraint_check_type {
        CheckType::MissingColumnCheck => names.contains(&v.feature_name),
        CheckType::ExtraColumnCheck => false,
        _ => !excluded.contains(&v.feature_name),
    });
    violations
}

/// Evaluates every constraint. Features appear in the baseline's order, then extra columns.
pub fn check(baseline: &Baseline, current: &DatasetProfile, drift: &[FeatureDrift]) -> Vec<Violation> {
    let mut out = Vec::new();
    let names = baseline.feature_names();
    let extra: Vec<&str> =
        current.columns.iter().map(|c| c.name.as_str()).filter(|n| !names.iter().any(|b| b == n)).collect();
    let current_count = current.columns.len();
    for name in &names {
        let cfg = baseline.config(name);
        let Some(col) = current.column(name) else {
            if cfg.evaluate_constraints {
                out.push(Violation {
                    feature_name: name.clone(),
                    constraint_check_type: CheckType::MissingColumnCheck,
                    description: format!(
                        "There are missing columns in current dataset. Number of columns in current dataset: {current_count}, Number of columns in baseline constraints: {}",
                        names.len()
                    ),
                    figures: None,
                });
            }
            continue;
        };
        if cfg.evaluate_constraints {
            check_column(baseline, name, col, &mut out);
        }
        if let Some(d) = drift.iter().find(|d| &d.name == name && d.drifted()) {
            out.push(Violation {
                feature_name: name.clone(),
                constraint_check_type: CheckType::BaselineDriftCheck,
                description: format!(
                    "Baseline drift distance: {} exceeds threshold: {}",
                    d.distance.unwrap_or(f64::NAN),
                    d.threshold.unwrap_or(f64::NAN)
                ),
                figures: d.distance.zip(d.threshold).map(|(observed, limit)| Figures {
                    observed,
                    limit,
                    baseline: None,
                }),
            });
        }
    }
    let global = baseline.config("");
    if global.evaluate_constraints {
        for name in extra {
            out.push(Violation {
                feature_name: name.to_string(),
                constraint_check_type: CheckType::ExtraColumnCheck,
                description: format!(
                    "There are extra columns in current dataset. Number of columns in current dataset: {current_count}, Number of columns in baseline constraints: {}",
                    names.len()
                ),
                figures: None,
            });
        }
    }
    out
}

/// The constraint checks of one present column: its data type, completeness, non-negativity
/// and string domain.
fn check_column(baseline: &Baseline, name: &str, col: &ColumnProfile, out: &mut Vec<Violation>) {
    let cfg = baseline.config(name);
    let expected = baseline.inferred_type(name);
    let typed = col.types.total();
    if expected != InferredType::Unknown && typed > 0 {
        let share = col.types.conforming(expected) as f64 / typed as f64;
        if share < cfg.datatype_check_threshold {
            out.push(ratio_violation(name, CheckType::DataTypeCheck, share, cfg.datatype_check_threshold, None));
        }
    }
    let fc = baseline.feature_constraints(name);
    if let (Some(req), Some(obs)) = (fc.and_then(|f| f.completeness), col.completeness()) {
        if obs < req {
            out.push(ratio_violation(
                name,
                CheckType::CompletenessCheck,
                obs,
                req,
                baseline_completeness(baseline, name),
            ));
        }
    }
    let non_neg = fc.and_then(|f| f.num_constraints.as_ref()).and_then(|n| n.is_non_negative).unwrap_or(false);
    if non_neg && (col.moments.min.is_some_and(|m| m < 0.0) || col.neg_inf > 0) {
        let negative = col.neg_inf + negatives(col);
        let share = 1.0 - negative as f64 / col.present().max(1) as f64;
        if share < cfg.non_negative_check_threshold {
            out.push(Violation {
                feature_name: name.to_string(),
                constraint_check_type: CheckType::NonNegativeCheck,
                description: format!(
                    "Value: {share} does not meet the constraint requirement! Minimum observed: {}",
                    col.moments.min.map_or("-inf".to_string(), |m| m.to_string())
                ),
                figures: Some(Figures { observed: share, limit: cfg.non_negative_check_threshold, baseline: None }),
            });
        }
    }
    if let Some(domain) = fc.and_then(|f| f.string_constraints.as_ref()).and_then(|s| s.domains.as_ref()) {
        if col.categories.is_exact() && col.present() > 0 {
            let inside: u64 = col.categories.exact.iter().filter(|(k, _)| domain.contains(k)).map(|(_, v)| v).sum();
            let share = inside as f64 / col.present() as f64;
            if share < cfg.domain_content_threshold {
                out.push(ratio_violation(
                    name,
                    CheckType::CategoricalValuesCheck,
                    share,
                    cfg.domain_content_threshold,
                    None,
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::sagemaker::CheckType;
    use crate::profile::{ColumnProfile, Histogram, Role};

    fn with_nulls(rows: u64, missing: u64) -> DatasetProfile {
        let mut c = ColumnProfile::new("x", "Float64", Role::Feature);
        c.rows = rows;
        c.missing = missing;
        c.types.fractional = rows - missing;
        DatasetProfile { rows, columns: vec![c], ..Default::default() }
    }

    #[test]
    fn suggested_completeness_follows_deequ() {
        use crate::judge::baseline::suggested_completeness;
        let c = |rows, missing| suggested_completeness(&with_nulls(rows, missing).columns[0]).unwrap();
        assert_eq!(c(2_000_000, 100_000), 0.94);
        assert_eq!(c(1000, 0), 1.0);
        // p = 0.95 over 100 rows: 0.95 − 1.96·0.02179 = 0.9073, down to 0.9.
        assert_eq!(c(100, 5), 0.9);
    }

    /// A column with 5% nulls in a 2M-row baseline: captures with the same rate, at the edge of
    /// sampling noise (3 standard deviations more nulls), pass at every size; 7% nulls fail.
    #[test]
    fn completeness_holds_against_noise_and_catches_a_change() {
        let base = Baseline::from_profile(with_nulls(2_000_000, 100_000), "test");
        let completeness_violations = |rows: u64, rate: f64, sigmas: f64| {
            let sd = (rate * (1.0 - rate) * rows as f64).sqrt();
            let missing = ((rate * rows as f64) + sigmas * sd).round() as u64;
            check(&base, &with_nulls(rows, missing), &[])
                .iter()
                .filter(|v| v.constraint_check_type == CheckType::CompletenessCheck)
                .count()
        };
        for rows in [10_000, 1_000_000, 10_000_000] {
            assert_eq!(completeness_violations(rows, 0.05, 3.0), 0, "same null rate at {rows} rows");
            assert_eq!(completeness_violations(rows, 0.07, -3.0), 1, "5% → 7% nulls at {rows} rows");
        }
    }

    /// A profile of `rows` rows with `odd` exceptions in each of three columns: text read as whole
    /// numbers with `odd` values that are not numbers (`t`), categories over the baseline's
    /// eight values with `odd` values of a new one (`c`), and numbers ≥ 0 with `odd` negatives
    /// (`x`, binned over the baseline's edges).
    fn with_exceptions(rows: u64, odd: u64) -> DatasetProfile {
        let mut t = ColumnProfile::new("t", "Utf8", Role::Feature);
        t.rows = rows;
        t.types.integral = rows - odd;
        t.types.string = odd;
        let mut c = ColumnProfile::new("c", "Utf8", Role::Feature);
        c.rows = rows;
        c.types.string = rows;
        // Shares 1/36 … 7/36, the remainder to "h".
        for (i, v) in ["a", "b", "c", "d", "e", "f", "g"].iter().enumerate() {
            c.categories.add(v, (rows - odd) * (i as u64 + 1) / 36);
        }
        let listed: u64 = c.categories.exact.values().sum();
        c.categories.add("h", rows - odd - listed);
        if odd > 0 {
            c.categories.add("new", odd);
        }
        let mut x = ColumnProfile::new("x", "Float64", Role::Feature);
        x.rows = rows;
        x.types.fractional = rows;
        x.moments.n = rows;
        x.moments.min = Some(if odd > 0 { -1.0 } else { 0.0 });
        x.moments.max = Some(1.0);
        x.histogram = Some(Histogram::from_counts(vec![0.0, 1.0], vec![odd, rows - odd, 0]));
        DatasetProfile { rows, columns: vec![t, c, x], ..Default::default() }
    }

    /// The data type, domain and non-negative checks of a 2M-row baseline with no exception:
    /// captures from the same distribution with a rare exception (one in a million, pushed 3
    /// standard deviations up) pass at 10k, 1M and 10M rows; a change to a 2% share of
    /// exceptions (pushed 3 standard deviations down) violates at every size.
    #[test]
    fn share_checks_hold_against_noise_and_catch_a_change() {
        let base = Baseline::from_profile(with_exceptions(2_000_000, 0), "test");
        for name in ["t", "c", "x"] {
            let cfg = base.config(name);
            let t = [cfg.datatype_check_threshold, cfg.domain_content_threshold, cfg.non_negative_check_threshold];
            assert!(t.contains(&0.99), "{name}: {cfg:?}");
        }
        let raised = |rows: u64, rate: f64, sigmas: f64| {
            let sd = (rate * (1.0 - rate) * rows as f64).sqrt();
            let odd = ((rate * rows as f64) + sigmas * sd).round().max(1.0) as u64;
            let mut got: Vec<CheckType> =
                check(&base, &with_exceptions(rows, odd), &[]).iter().map(|v| v.constraint_check_type).collect();
            got.sort_by_key(|c| format!("{c:?}"));
            got
        };
        let all = vec![CheckType::CategoricalValuesCheck, CheckType::DataTypeCheck, CheckType::NonNegativeCheck];
        for rows in [10_000, 1_000_000, 10_000_000] {
            assert_eq!(raised(rows, 1e-6, 3.0), vec![], "a rare exception at {rows} rows");
            assert_eq!(raised(rows, 0.02, -3.0), all, "a 2% share at {rows} rows");
        }
        // A SageMaker constraints file without the overrides keeps its strict default (1.0).
        let mut strict = base.clone();
        strict.constraints.features.iter_mut().for_each(|f| f.monitoring_config_overrides = None);
        assert_eq!(check(&strict, &with_exceptions(10_000_000, 1), &[]).len(), 3);
    }

    #[test]
    fn suggested_share_follows_deequ_with_the_rule_of_three() {
        use crate::judge::baseline::suggested_share;
        // No exception in 2M values: 1 − 3/n, minus 1.96·sqrt(p(1−p)/n), down to 0.99.
        assert_eq!(suggested_share(1.0, 2_000_000), 0.99);
        // 100 values: p' = 0.97, 0.97 − 1.96·0.01706 = 0.9366 → 0.93.
        assert_eq!(suggested_share(1.0, 100), 0.93);
        // An observed 90% over 10k: 0.9 − 1.96·0.003 = 0.89412 → 0.89.
        assert_eq!(suggested_share(0.9, 10_000), 0.89);
        assert_eq!(suggested_share(1.0, 0), 0.0);
    }

    #[test]
    fn negatives_of_a_light_profile_come_from_the_histogram() {
        let mut c = ColumnProfile::new("x", "Float64", Role::Feature);
        c.histogram = Some(Histogram::from_counts(vec![-1.0, 0.0, 1.0], vec![3, 4, 5, 6]));
        // (-∞, -1) and [-1, 0) are below zero.
        assert_eq!(negatives(&c), 7);
        c.histogram = Some(Histogram::from_counts(vec![0.0, 2.0], vec![2, 9, 1]));
        assert_eq!(negatives(&c), 2);
        c.histogram = Some(Histogram::from_counts(vec![0.5, 2.0], vec![2, 9, 1]));
        assert_eq!(negatives(&c), 0, "no edge at or under zero: nothing known to be negative");
        // With a sketch, the sketch counts.
        c.kll.update_sorted(&[-3.0, -2.0, 5.0]);
        assert_eq!(negatives(&c), 2);
    }
}
