//! SageMaker Model Monitor's `statistics.json`, `constraints.json` and
//! `constraint_violations.json`.
//!
//! Readers are lenient where SageMaker's own files are: counts written as floats (`24.0`),
//! numbers written as strings (`"NaN"`, `"Infinity"`), per-feature overrides spelled
//! `monitoringConfigOverrides` or `monitoring_config_overrides`, and the documentation's
//! `comparion_method` typo. Fields driftscope does not model are kept in `extra` and written back,
//! so a SageMaker file round-trips. Writers never emit NaN or infinities: such values are left out.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::codec::{lenient_f64, lenient_opt_f64};

/// Serializes an optional float, writing non-finite values as absent-equivalent `null`.
fn ser_opt_f64<S: serde::Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(x) if x.is_finite() => s.serialize_f64(*x),
        _ => s.serialize_none(),
    }
}

/// Writes a count as an integer when it is one (SageMaker writes `100`, reads `100.0` too).
fn ser_count<S: serde::Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15 {
        s.serialize_i64(*v as i64)
    } else if v.is_finite() {
        s.serialize_f64(*v)
    } else {
        s.serialize_none()
    }
}

/// Writes an optional count as an integer when it is one ([`ser_count`]).
fn ser_opt_count<S: serde::Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(x) => ser_count(x, s),
        None => s.serialize_none(),
    }
}

/// Serde for an optional figure SageMaker writes: read leniently ([`lenient_opt_f64`]: numbers,
/// numbers in strings, `null`), written as a number, non-finite values left out.
mod figure {
    pub(super) use super::lenient_opt_f64 as deserialize;
    pub(super) use super::ser_opt_f64 as serialize;
}

/// Serde for an optional count SageMaker writes: read as [`figure`], written as an integer when
/// it is one ([`ser_opt_count`]).
mod count_figure {
    pub(super) use super::lenient_opt_f64 as deserialize;
    pub(super) use super::ser_opt_count as serialize;
}

fn is_none_or_nonfinite(v: &Option<f64>) -> bool {
    !matches!(v, Some(x) if x.is_finite())
}

/// `statistics.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statistics {
    /// Format version (SageMaker writes `0.0`).
    #[serde(deserialize_with = "lenient_f64")]
    pub version: f64,
    /// Dataset-level figures.
    pub dataset: Dataset,
    /// One entry per feature.
    pub features: Vec<FeatureStatistics>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// `dataset` of `statistics.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    /// Rows.
    #[serde(deserialize_with = "lenient_f64", serialize_with = "ser_count")]
    pub item_count: f64,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// One feature of `statistics.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureStatistics {
    /// Feature name.
    pub name: String,
    /// `Integral`, `Fractional`, `String`, `Boolean` or `Unknown`.
    pub inferred_type: String,
    /// Present for numeric features.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numerical_statistics: Option<NumericalStatistics>,
    /// Present for string features.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_statistics: Option<StringStatistics>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// `common` counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Common {
    /// Present values.
    #[serde(deserialize_with = "lenient_f64", serialize_with = "ser_count")]
    pub num_present: f64,
    /// Missing values.
    #[serde(deserialize_with = "lenient_f64", serialize_with = "ser_count")]
    pub num_missing: f64,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// `numerical_statistics`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericalStatistics {
    /// Present and missing counts.
    pub common: Common,
    /// Mean.
    #[serde(default, with = "figure", skip_serializing_if = "is_none_or_nonfinite")]
    pub mean: Option<f64>,
    /// Sum.
    #[serde(default, with = "figure", skip_serializing_if = "is_none_or_nonfinite")]
    pub sum: Option<f64>,
    /// Population standard deviation.
    #[serde(default, with = "figure", skip_serializing_if = "is_none_or_nonfinite")]
    pub std_dev: Option<f64>,
    /// Minimum.
    #[serde(default, with = "figure", skip_serializing_if = "is_none_or_nonfinite")]
    pub min: Option<f64>,
    /// Maximum.
    #[serde(default, with = "figure", skip_serializing_if = "is_none_or_nonfinite")]
    pub max: Option<f64>,
    /// Distinct values (estimated; containers since 2022 write it, as an integer).
    #[serde(default, with = "count_figure", skip_serializing_if = "is_none_or_nonfinite")]
    pub approximate_num_distinct_values: Option<f64>,
    /// Share of the rows holding a value (containers since 2022 write it).
    #[serde(default, with = "figure", skip_serializing_if = "is_none_or_nonfinite")]
    pub completeness: Option<f64>,
    /// KLL distribution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<NumericDistribution>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// `distribution` of a numeric feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericDistribution {
    /// The KLL section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kll: Option<KllDistribution>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// `kll`: display buckets and the sketch itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KllDistribution {
    /// Ten equal-width buckets between min and max.
    #[serde(default)]
    pub buckets: Vec<KllBucket>,
    /// The sketch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sketch: Option<KllSketchJson>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// One display bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KllBucket {
    /// Lower bound.
    #[serde(deserialize_with = "lenient_f64")]
    pub lower_bound: f64,
    /// Upper bound.
    #[serde(deserialize_with = "lenient_f64")]
    pub upper_bound: f64,
    /// Estimated count.
    #[serde(deserialize_with = "lenient_f64")]
    pub count: f64,
}

/// `sketch`: Deequ KLL parameters and compactor levels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KllSketchJson {
    /// `{c, k}`.
    pub parameters: KllParameters,
    /// Levels, lowest first; an item on level `h` weighs `2^h`.
    #[serde(default)]
    pub data: Vec<Vec<LenientF64>>,
}

impl KllSketchJson {
    /// The sketch as driftscope's KLL (non-finite items dropped); `None` when its levels'
    /// weights do not fit in 64 bits.
    pub fn kll(&self) -> Option<crate::profile::Kll> {
        let levels = self.data.iter().map(|l| l.iter().map(|v| v.0).collect()).collect();
        crate::profile::Kll::from_levels(self.parameters.k.max(8.0) as usize, self.parameters.c, levels)
    }
}

/// A float that also parses from `"NaN"`-style strings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LenientF64(#[serde(deserialize_with = "lenient_f64")] pub f64);

/// KLL parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KllParameters {
    /// Capacity decay.
    #[serde(deserialize_with = "lenient_f64")]
    pub c: f64,
    /// Sketch size (SageMaker writes `2048.0`).
    #[serde(deserialize_with = "lenient_f64")]
    pub k: f64,
}

/// `string_statistics`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StringStatistics {
    /// Present and missing counts.
    pub common: Common,
    /// Distinct values (estimated).
    #[serde(default, with = "figure", skip_serializing_if = "is_none_or_nonfinite")]
    pub distinct_count: Option<f64>,
    /// Share of the rows holding a value (containers since 2022 write it).
    #[serde(default, with = "figure", skip_serializing_if = "is_none_or_nonfinite")]
    pub completeness: Option<f64>,
    /// Categorical distribution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<StringDistribution>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// `distribution` of a string feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StringDistribution {
    /// Categorical buckets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categorical: Option<CategoricalDistribution>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// `categorical`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalDistribution {
    /// One bucket per value.
    #[serde(default)]
    pub buckets: Vec<CategoricalBucket>,
}

/// One value and its count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalBucket {
    /// The value.
    pub value: String,
    /// Its count.
    #[serde(deserialize_with = "lenient_f64")]
    pub count: f64,
}

/// `constraints.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Constraints {
    /// Format version.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub version: f64,
    /// Per-feature constraints.
    #[serde(default)]
    pub features: Vec<FeatureConstraints>,
    /// Job-wide settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitoring_config: Option<MonitoringConfig>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// One feature's constraints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureConstraints {
    /// Feature name.
    pub name: String,
    /// Expected type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inferred_type: Option<String>,
    /// Required share of present values.
    #[serde(default, with = "figure", skip_serializing_if = "is_none_or_nonfinite")]
    pub completeness: Option<f64>,
    /// Numeric constraints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_constraints: Option<NumConstraints>,
    /// String constraints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_constraints: Option<StringConstraints>,
    /// Per-feature overrides of `monitoring_config`, in either spelling SageMaker uses.
    #[serde(
        default,
        rename = "monitoringConfigOverrides",
        alias = "monitoring_config_overrides",
        skip_serializing_if = "Option::is_none"
    )]
    pub monitoring_config_overrides: Option<MonitoringConfig>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// `num_constraints`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumConstraints {
    /// Values must be `>= 0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_non_negative: Option<bool>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// `string_constraints`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StringConstraints {
    /// Allowed values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domains: Option<Vec<String>>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// `monitoring_config`, also the shape of per-feature overrides (every field optional).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MonitoringConfig {
    /// Whether constraints are evaluated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluate_constraints: Option<Switch>,
    /// Whether metrics are emitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emit_metrics: Option<Switch>,
    /// Minimum share of values of the baseline's type.
    #[serde(default, with = "figure", skip_serializing_if = "is_none_or_nonfinite")]
    pub datatype_check_threshold: Option<f64>,
    /// Minimum share of values within the baseline's domain.
    #[serde(default, with = "figure", skip_serializing_if = "is_none_or_nonfinite")]
    pub domain_content_threshold: Option<f64>,
    /// Minimum share of non-negative values where `is_non_negative` holds (a driftscope
    /// extension; 1.0 when absent, so that a SageMaker constraints file keeps its meaning).
    #[serde(default, with = "figure", skip_serializing_if = "is_none_or_nonfinite")]
    pub non_negative_check_threshold: Option<f64>,
    /// Drift settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution_constraints: Option<DistributionConstraints>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// `distribution_constraints`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DistributionConstraints {
    /// Whether drift is checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub perform_comparison: Option<Switch>,
    /// Numeric drift threshold.
    #[serde(default, with = "figure", skip_serializing_if = "is_none_or_nonfinite")]
    pub comparison_threshold: Option<f64>,
    /// `Simple` or `Robust`.
    #[serde(default, alias = "comparion_method", skip_serializing_if = "Option::is_none")]
    pub comparison_method: Option<String>,
    /// Categorical drift threshold.
    #[serde(default, with = "figure", skip_serializing_if = "is_none_or_nonfinite")]
    pub categorical_comparison_threshold: Option<f64>,
    /// `LInfinity` or `ChiSquared`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categorical_drift_method: Option<String>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// `constraint_violations.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Violations {
    /// The violations found.
    pub violations: Vec<Violation>,
}

/// One violation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    /// The feature (or column) concerned.
    pub feature_name: String,
    /// One of SageMaker's check types.
    pub constraint_check_type: CheckType,
    /// SageMaker-style description.
    pub description: String,
    /// The figures behind it, for reports that state them (never in the JSON files, which keep
    /// SageMaker's three fields).
    #[serde(skip)]
    pub figures: Option<Figures>,
}

/// What a violation measured, against what: the observed value, the limit it failed, and the
/// baseline's own value where it has one.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Figures {
    /// The observed value: a share of rows (data type, completeness, domain, non-negative) or a
    /// drift distance.
    pub observed: f64,
    /// The limit: the constraint's share or the drift threshold.
    pub limit: f64,
    /// The baseline's value of the same measure, when it has one (its completeness).
    pub baseline: Option<f64>,
}

impl Violation {
    /// The violation in plain words with its numbers rounded for reading: the observed value,
    /// the limit, and the baseline's value; SageMaker's description where there are no figures.
    pub fn plain(&self) -> String {
        let Some(f) = self.figures else { return self.description.trim().to_string() };
        let pct = |x: f64| {
            let p = 100.0 * x;
            if (p - p.round()).abs() < 1e-9 {
                format!("{p:.0}%")
            } else if p > 99.9 && p < 100.0 {
                format!("{p:.3}%")
            } else {
                format!("{p:.1}%")
            }
        };
        let base = f.baseline.map(|b| format!(" (baseline {})", pct(b))).unwrap_or_default();
        match self.constraint_check_type {
            CheckType::DataTypeCheck => {
                format!("{} of values have the baseline's type; the limit is {}{base}", pct(f.observed), pct(f.limit))
            }
            CheckType::CompletenessCheck => {
                format!("{} of rows hold a value; the limit is {}{base}", pct(f.observed), pct(f.limit))
            }
            CheckType::NonNegativeCheck => {
                format!("{} of values are non-negative; the limit is {}{base}", pct(f.observed), pct(f.limit))
            }
            CheckType::CategoricalValuesCheck => {
                format!(
                    "{} of values are in the baseline's domain; the limit is {}{base}",
                    pct(f.observed),
                    pct(f.limit)
                )
            }
            CheckType::BaselineDriftCheck => {
                format!("drift distance {:.3} is above the threshold {:.3}", f.observed, f.limit)
            }
            _ => self.description.trim().to_string(),
        }
    }
}

/// SageMaker's `Enabled`/`Disabled` settings (read in any letter case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Switch {
    /// On.
    Enabled,
    /// Off.
    Disabled,
}

impl<'de> Deserialize<'de> for Switch {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.eq_ignore_ascii_case("enabled") {
            Ok(Switch::Enabled)
        } else if s.eq_ignore_ascii_case("disabled") {
            Ok(Switch::Disabled)
        } else {
            Err(serde::de::Error::custom(format!("expected \"Enabled\" or \"Disabled\", found {s:?}")))
        }
    }
}

/// SageMaker's constraint check types, and driftscope's `non_negative_check`,
/// `multivariate_drift_check`, `mmd_drift_check` and `performance_estimate_check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckType {
    /// Too few values of the baseline's type.
    DataTypeCheck,
    /// Too many missing values.
    CompletenessCheck,
    /// The distribution drifted from the baseline's.
    BaselineDriftCheck,
    /// A baseline column is missing.
    MissingColumnCheck,
    /// A column the baseline does not have.
    ExtraColumnCheck,
    /// Too many values outside the baseline's domain.
    CategoricalValuesCheck,
    /// Negative values where the baseline has none (`is_non_negative`).
    NonNegativeCheck,
    /// The features' joint distribution moved: the mean PCA reconstruction error left the
    /// baseline's range (a driftscope extension).
    MultivariateDriftCheck,
    /// The features' joint distribution moved: the kernel two-sample test (MMD) is significant
    /// and beyond the baseline's own variation (a driftscope extension).
    MmdDriftCheck,
    /// A metric estimated without labels left the baseline's normal range (a driftscope
    /// extension).
    PerformanceEstimateCheck,
}

impl std::fmt::Display for CheckType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = serde_json::to_value(self).map_err(|_| std::fmt::Error)?;
        f.write_str(v.as_str().unwrap_or_default())
    }
}

/// The effective settings for one feature: `monitoring_config` with the feature's overrides on
/// top, and SageMaker's documented defaults underneath.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EffectiveConfig {
    /// Constraints are evaluated at all.
    pub evaluate_constraints: bool,
    /// Minimum share of values of the baseline's type.
    pub datatype_check_threshold: f64,
    /// Minimum share of values within the baseline's domain.
    pub domain_content_threshold: f64,
    /// Minimum share of non-negative values where `is_non_negative` holds.
    pub non_negative_check_threshold: f64,
    /// Drift is checked.
    pub perform_comparison: bool,
    /// Numeric drift threshold.
    pub comparison_threshold: f64,
    /// `true` for `Robust`.
    pub robust: bool,
    /// `true` for `KS` (a driftscope extension): numeric drift when the two-sample
    /// Kolmogorov–Smirnov p-value is below `comparison_threshold`, read as a significance level.
    pub ks: bool,
    /// Categorical drift threshold.
    pub categorical_comparison_threshold: f64,
    /// `true` for `ChiSquared`, `false` for `LInfinity`.
    pub chi_squared: bool,
}

fn enabled(v: Option<Switch>, default: bool) -> bool {
    v.map_or(default, |s| s == Switch::Enabled)
}

impl EffectiveConfig {
    /// Resolves global config and per-feature overrides.
    pub fn resolve(global: Option<&MonitoringConfig>, over: Option<&MonitoringConfig>) -> Self {
        let pick_f = |f: &dyn Fn(&MonitoringConfig) -> Option<f64>, d: f64| {
            over.and_then(f).or_else(|| global.and_then(f)).unwrap_or(d)
        };
        let pick_s = |f: &dyn Fn(&MonitoringConfig) -> Option<String>| over.and_then(f).or_else(|| global.and_then(f));
        let pick_switch =
            |f: &dyn Fn(&MonitoringConfig) -> Option<Switch>| over.and_then(f).or_else(|| global.and_then(f));
        let dist = |f: fn(&DistributionConstraints) -> Option<f64>| {
            move |m: &MonitoringConfig| m.distribution_constraints.as_ref().and_then(f)
        };
        let dist_s = |f: fn(&DistributionConstraints) -> Option<String>| {
            move |m: &MonitoringConfig| m.distribution_constraints.as_ref().and_then(f)
        };
        EffectiveConfig {
            evaluate_constraints: enabled(pick_switch(&|m| m.evaluate_constraints), true),
            datatype_check_threshold: pick_f(&|m| m.datatype_check_threshold, 1.0),
            domain_content_threshold: pick_f(&|m| m.domain_content_threshold, 1.0),
            non_negative_check_threshold: pick_f(&|m| m.non_negative_check_threshold, 1.0),
            perform_comparison: enabled(
                pick_switch(&|m| m.distribution_constraints.as_ref().and_then(|d| d.perform_comparison)),
                true,
            ),
            comparison_threshold: pick_f(&dist(|d| d.comparison_threshold), 0.1),
            robust: pick_s(&dist_s(|d| d.comparison_method.clone())).is_none_or(|s| s.eq_ignore_ascii_case("robust")),
            ks: pick_s(&dist_s(|d| d.comparison_method.clone())).is_some_and(|s| s.eq_ignore_ascii_case("ks")),
            categorical_comparison_threshold: pick_f(&dist(|d| d.categorical_comparison_threshold), 0.1),
            chi_squared: pick_s(&dist_s(|d| d.categorical_drift_method.clone()))
                .is_some_and(|s| s.eq_ignore_ascii_case("chisquared")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_read_plainly_and_keep_sagemakers_json() {
        let v = |check, observed, limit, baseline| Violation {
            feature_name: "x".into(),
            constraint_check_type: check,
            description: "Value: 0.9186 does not meet the constraint requirement! ".into(),
            figures: Some(Figures { observed, limit, baseline }),
        };
        assert_eq!(
            v(CheckType::CompletenessCheck, 0.9186, 0.97, Some(0.98135)).plain(),
            "91.9% of rows hold a value; the limit is 97% (baseline 98.1%)"
        );
        assert_eq!(
            v(CheckType::BaselineDriftCheck, 0.25418, 0.1, None).plain(),
            "drift distance 0.254 is above the threshold 0.100"
        );
        // A share just under 100% keeps the digits that make it differ from the limit.
        assert_eq!(
            v(CheckType::DataTypeCheck, 0.99962, 1.0, None).plain(),
            "99.962% of values have the baseline's type; the limit is 100%"
        );
        // The JSON keeps SageMaker's three fields only.
        let json = serde_json::to_value(v(CheckType::CompletenessCheck, 0.5, 0.9, None)).unwrap();
        assert_eq!(json.as_object().unwrap().len(), 3, "{json}");
        let without = Violation { figures: None, ..v(CheckType::ExtraColumnCheck, 0.0, 0.0, None) };
        assert_eq!(without.plain(), without.description.trim());
    }

    #[test]
    fn counts_as_floats_and_nan_strings_parse() {
        let s: NumericalStatistics = serde_json::from_str(
            r#"{"common":{"num_present":24.0,"num_missing":0},"mean":"NaN","min":1.0,"max":"Infinity"}"#,
        )
        .unwrap();
        assert_eq!(s.common.num_present, 24.0);
        assert!(s.mean.unwrap().is_nan());
        assert_eq!(s.max, Some(f64::INFINITY));
        // Non-finite values are not written back as NaN literals.
        let out = serde_json::to_string(&s).unwrap();
        assert!(!out.contains("NaN") && !out.contains("inf"), "{out}");
    }

    #[test]
    fn overrides_both_spellings_and_typo() {
        for key in ["monitoringConfigOverrides", "monitoring_config_overrides"] {
            let f: FeatureConstraints = serde_json::from_str(&format!(
                r#"{{"name":"a","{key}":{{"distribution_constraints":{{"comparison_threshold":0.3,"comparion_method":"Simple"}}}}}}"#
            ))
            .unwrap();
            let e = EffectiveConfig::resolve(None, f.monitoring_config_overrides.as_ref());
            assert_eq!(e.comparison_threshold, 0.3);
            assert!(!e.robust);
        }
    }

    #[test]
    fn effective_defaults_and_disabled() {
        let g: MonitoringConfig = serde_json::from_str(
            r#"{"evaluate_constraints":"Disabled","distribution_constraints":{"perform_comparison":"Disabled","categorical_drift_method":"ChiSquared"}}"#,
        )
        .unwrap();
        let e = EffectiveConfig::resolve(Some(&g), None);
        assert!(!e.evaluate_constraints && !e.perform_comparison && e.chi_squared && e.robust);
        assert_eq!(e.comparison_threshold, 0.1);
    }
}
