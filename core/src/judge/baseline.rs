//! Baselines: writing SageMaker's `statistics.json`/`constraints.json` from a profile, and
//! loading a baseline folder (driftscope's or SageMaker's) into reference distributions.
//!
//! A driftscope baseline folder holds `statistics.json`, `constraints.json` and `profile.json`
//! (the lossless profile with exact histograms). A SageMaker baseline folder holds only the first
//! two; numeric references then come from the KLL sketch data in `statistics.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{one_line, Error, Result};
use crate::judge::compare::BaseBins;
use crate::judge::sagemaker::*;
use crate::profile::{bin_edges, ColumnProfile, DatasetProfile, InferredType, Kll, Role, DEFAULT_BINS};

/// File names inside a baseline folder.
pub const STATISTICS: &str = "statistics.json";
/// Constraints file name.
pub const CONSTRAINTS: &str = "constraints.json";
/// driftscope's profile file name.
pub const PROFILE: &str = "profile.json";
/// Most distinct values of a string feature whose histogram SageMaker keeps (Deequ's
/// `lowCardinalityHistogramThreshold`): its `statistics.json` has categorical buckets, and its
/// domain may be suggested, only up to this many.
pub const HISTOGRAM_MAX_DISTINCT: usize = 120;
/// Most values in a suggested boolean domain (a driftscope extension: SageMaker suggests domains
/// for strings only).
pub const MAX_DOMAIN: usize = 20;
/// Deequ's `CategoricalRangeRule`: a domain is suggested when at most this share of a string
/// feature's distinct values occur exactly once.
pub const MAX_SINGLETON_SHARE: f64 = 0.1;

/// Whether SageMaker keeps a histogram of string feature `c` (its categories are exact and at
/// most [`HISTOGRAM_MAX_DISTINCT`]).
fn histogram_kept(c: &ColumnProfile) -> bool {
    c.categories.is_exact() && !c.categories.exact.is_empty() && c.categories.exact.len() <= HISTOGRAM_MAX_DISTINCT
}

/// SageMaker's ten equal-width display buckets between min and max, counted from the sketch.
pub fn kll_buckets(kll: &Kll, min: f64, max: f64) -> Vec<KllBucket> {
    if kll.is_empty() {
        return Vec::new();
    }
    if max <= min || max.is_nan() || min.is_nan() {
        return vec![KllBucket { lower_bound: min, upper_bound: max, count: kll.n as f64 }];
    }
    let w = (max - min) / 10.0;
    (0..10)
        .map(|i| {
            let lo = min + w * i as f64;
            let hi = if i == 9 { max } else { min + w * (i + 1) as f64 };
            let below_hi = if i == 9 { kll.n } else { kll.weight_below(hi) };
            KllBucket { lower_bound: lo, upper_bound: hi, count: (below_hi - kll.weight_below(lo)) as f64 }
        })
        .collect()
}

fn common(c: &ColumnProfile) -> Common {
    Common { num_present: c.present() as f64, num_missing: c.missing as f64, extra: BTreeMap::new() }
}

/// SageMaker `statistics.json` for a profile.
pub fn statistics(p: &DatasetProfile) -> Statistics {
    let features = p
        .columns
        .iter()
        .map(|c| {
            let t = c.inferred_type();
            let mut f = FeatureStatistics {
                name: c.name.clone(),
                inferred_type: t.as_str().to_string(),
                numerical_statistics: None,
                string_statistics: None,
                extra: BTreeMap::new(),
            };
            if t.is_numeric() {
                let m = &c.moments;
                f.numerical_statistics = Some(NumericalStatistics {
                    common: common(c),
                    mean: m.mean(),
                    sum: m.total(),
                    std_dev: m.std_dev(),
                    min: m.min,
                    max: m.max,
                    approximate_num_distinct_values: c.distinct_numbers(),
                    completeness: c.completeness(),
                    distribution: (!c.kll.is_empty()).then(|| NumericDistribution {
                        kll: Some(KllDistribution {
                            buckets: kll_buckets(&c.kll, m.min.unwrap_or(0.0), m.max.unwrap_or(0.0)),
                            sketch: Some(KllSketchJson {
                                parameters: KllParameters { c: c.kll.c, k: c.kll.k as f64 },
                                data: c.kll.levels.iter().map(|l| l.iter().map(|&v| LenientF64(v)).collect()).collect(),
                            }),
                            extra: BTreeMap::new(),
                        }),
                        extra: BTreeMap::new(),
                    }),
                    extra: BTreeMap::new(),
                });
            } else {
                // Buckets only for strings whose histogram SageMaker keeps: none for identifiers,
                // zip codes or cities.
                let buckets: Vec<CategoricalBucket> = if histogram_kept(c) {
                    c.categories
                        .top(HISTOGRAM_MAX_DISTINCT)
                        .into_iter()
                        .map(|(value, count)| CategoricalBucket { value, count: count as f64 })
                        .collect()
                } else {
                    Vec::new()
                };
                f.string_statistics = Some(StringStatistics {
                    common: common(c),
                    distinct_count: (c.present() > 0).then(|| distinct_estimate(c)),
                    completeness: c.completeness(),
                    distribution: (!buckets.is_empty()).then(|| StringDistribution {
                        categorical: Some(CategoricalDistribution { buckets }),
                        extra: BTreeMap::new(),
                    }),
                    extra: BTreeMap::new(),
                });
            }
            f
        })
        .collect();
    Statistics {
        version: 0.0,
        dataset: Dataset { item_count: p.rows as f64, extra: BTreeMap::new() },
        features,
        extra: BTreeMap::new(),
    }
}

/// Distinct values: exact while categories are exact, the HLL estimate otherwise.
pub fn distinct_estimate(c: &ColumnProfile) -> f64 {
    if c.categories.is_exact() && !c.categories.exact.is_empty() {
        c.categories.exact.len() as f64
    } else {
        c.hll.estimate().round()
    }
}

/// The default `monitoring_config` driftscope suggests (SageMaker container values).
pub fn default_monitoring_config() -> MonitoringConfig {
    MonitoringConfig {
        evaluate_constraints: Some(Switch::Enabled),
        emit_metrics: Some(Switch::Enabled),
        datatype_check_threshold: Some(1.0),
        domain_content_threshold: Some(1.0),
        non_negative_check_threshold: None,
        distribution_constraints: Some(DistributionConstraints {
            perform_comparison: Some(Switch::Enabled),
            comparison_threshold: Some(0.1),
            comparison_method: Some("Robust".into()),
            categorical_comparison_threshold: Some(0.1),
            categorical_drift_method: Some("LInfinity".into()),
            extra: BTreeMap::new(),
        }),
        extra: BTreeMap::new(),
    }
}

/// The completeness to require of a column, as Deequ suggests it: 1 for a complete column, else
/// the lower bound of the 95% binomial confidence interval of the observed fraction `p` over `n`
/// rows, `p − 1.96·sqrt(p(1−p)/n)`, rounded down to 2 decimals — so that a capture with the
/// same null rate does not fall below it by sampling noise.
pub fn suggested_completeness(c: &ColumnProfile) -> Option<f64> {
    let p = c.completeness()?;
    if p >= 1.0 {
        return Some(1.0);
    }
    let bound = p - 1.96 * (p * (1.0 - p) / c.rows as f64).sqrt();
    Some(((bound * 100.0).floor() / 100.0).max(0.0))
}

/// The share a check should require of future data when the baseline showed the share `p`
/// over `n` values, for the checks whose exceptions are rare events (a value of another type,
/// outside the domain, below zero): Deequ's rule on `p' = min(p, 1 − 3/n)`, that is the lower
/// bound of the 95% binomial interval `p' − 1.96·sqrt(p'(1−p')/n)` rounded down to 2 decimals.
/// `1 − 3/n` is the "rule of three": when no exception shows in `n` values, their rate may still
/// be up to about `3/n` (95% upper bound), so one unseen rare value in a capture many times the
/// baseline's size is no violation, while a change at a 2% share is one.
pub fn suggested_share(p: f64, n: u64) -> f64 {
    if n == 0 {
        return 0.0;
    }
    let n = n as f64;
    let p = p.min(1.0 - 3.0 / n).max(0.0);
    let bound = p - 1.96 * (p * (1.0 - p) / n).sqrt();
    ((bound * 100.0).floor() / 100.0).max(0.0)
}

/// The per-feature thresholds of the share checks, from [`suggested_share`]: the data type's
/// share of the column's present values (every value conforms to a string type, so none there); the domain's expected coverage, one minus the
/// Good–Turing estimate of the unseen mass (the share of values seen exactly once); the share
/// of non-negative values (all of them when `is_non_negative` is suggested).
fn share_overrides(c: &ColumnProfile, t: InferredType, domain: bool, non_negative: bool) -> MonitoringConfig {
    let typed = c.types.total();
    let datatype = (typed > 0 && !matches!(t, InferredType::Unknown | InferredType::String))
        .then(|| suggested_share(c.types.conforming(t) as f64 / typed as f64, typed));
    let domain = domain.then(|| {
        let once = c.categories.exact.values().filter(|&&v| v == 1).count() as f64;
        suggested_share(1.0 - once / c.present() as f64, c.present())
    });
    let finite = c.moments.n + c.pos_inf;
    let non_negative = (non_negative && finite > 0).then(|| suggested_share(1.0, finite));
    MonitoringConfig {
        datatype_check_threshold: datatype,
        domain_content_threshold: domain,
        non_negative_check_threshold: non_negative,
        ..Default::default()
    }
}

/// Suggested constraints, as SageMaker/Deequ suggest them: the completeness of
/// [`suggested_completeness`],
/// `is_non_negative` for numbers whose minimum is `>= 0`, a domain for strings with at most
/// [`MAX_DOMAIN`] values that repeat (distinct/present ≤ 0.1, or booleans), and per feature the
/// sample-size-aware thresholds of the data type, domain and non-negative checks
/// ([`suggested_share`]). Timestamp and identifier columns also get an override that turns drift
/// comparison off.
pub fn suggest_constraints(p: &DatasetProfile) -> Constraints {
    let features = p
        .columns
        .iter()
        .map(|c| {
            let t = c.inferred_type();
            let non_negative = c.moments.min.is_some_and(|m| m >= 0.0) && c.neg_inf == 0;
            let num_constraints = (t.is_numeric() && c.moments.n > 0)
                .then(|| NumConstraints { is_non_negative: Some(non_negative), extra: BTreeMap::new() });
            let distinct = c.categories.exact.len();
            // Deequ's CategoricalRangeRule, as SageMaker's container applies it to strings: the
            // histogram is kept, and at most a tenth of its values occur once.
            let singletons = c.categories.exact.values().filter(|&&n| n == 1).count();
            let domain = match t {
                InferredType::String => histogram_kept(c) && singletons as f64 <= MAX_SINGLETON_SHARE * distinct as f64,
                InferredType::Boolean => c.categories.is_exact() && distinct > 0 && distinct <= MAX_DOMAIN,
                _ => false,
            };
            let string_constraints = domain.then(|| StringConstraints {
                domains: Some(c.categories.exact.keys().cloned().collect()),
                extra: BTreeMap::new(),
            });
            let mut overrides =
                share_overrides(c, t, string_constraints.is_some(), num_constraints.is_some() && non_negative);
            if c.role != Role::Feature {
                overrides.distribution_constraints =
                    Some(DistributionConstraints { perform_comparison: Some(Switch::Disabled), ..Default::default() });
            }
            let monitoring_config_overrides = (overrides != MonitoringConfig::default()).then_some(overrides);
            FeatureConstraints {
                name: c.name.clone(),
                inferred_type: Some(t.as_str().to_string()),
                completeness: suggested_completeness(c),
                num_constraints,
                string_constraints,
                monitoring_config_overrides,
                extra: BTreeMap::new(),
            }
        })
        .collect();
    Constraints { version: 0.0, features, monitoring_config: Some(default_monitoring_config()), extra: BTreeMap::new() }
}

/// A baseline's second pass into its profile: each column's exact histogram over the edges of
/// [`plan_edges`], taken from `second` (a profile of the same rows with those edges).
pub fn take_histograms(profile: &mut DatasetProfile, second: &DatasetProfile) {
    for c in &mut profile.columns {
        if let Some(h) = second.column(&c.name).and_then(|x| x.histogram.clone()) {
            c.histogram = Some(h);
        }
    }
}

/// Numeric bin edges for every numeric column of a first-pass profile.
pub fn plan_edges(p: &DatasetProfile) -> BTreeMap<String, Vec<f64>> {
    p.columns
        .iter()
        .filter(|c| c.inferred_type().is_numeric() && !c.kll.is_empty())
        .map(|c| (c.name.clone(), bin_edges(&c.kll, DEFAULT_BINS, c.moments.min.zip(c.moments.max))))
        .collect()
}

/// Whether `edges` are the per-value edges [`bin_edges`] gives a column with few values: its
/// values, then the next number above the last. A reference without a sketch (a time window's
/// light profile) cannot tell, and is taken as spread within its bins.
fn per_value(kll: &Kll, bounds: Option<(f64, f64)>, edges: &[f64]) -> bool {
    !kll.is_empty()
        && crate::profile::few_values(kll, DEFAULT_BINS, bounds)
            .is_some_and(|v| edges.len() == v.len() + 1 && edges[..v.len()] == v[..])
}

/// What a baseline says about one feature's distribution.
#[derive(Debug, Clone)]
pub enum Reference {
    /// Numeric: weights over `edges`' bins.
    Numeric {
        /// Interior bin edges.
        edges: Vec<f64>,
        /// Weight per bin (`edges.len() + 1`), exact counts or sketch estimates, with their
        /// side of the comparison worked out once for every current compared with them.
        weights: Arc<BaseBins>,
        /// Baseline minimum.
        min: Option<f64>,
        /// Baseline maximum.
        max: Option<f64>,
        /// The bins are one per baseline value ([`crate::profile::few_values`]).
        discrete: bool,
        /// Baseline population standard deviation.
        std_dev: Option<f64>,
        /// The baseline's sketch (SageMaker's L∞ is computed on sketches).
        kll: Kll,
        /// True when the weights are exact counts (driftscope baseline).
        exact: bool,
    },
    /// Categorical: count per value.
    Categorical {
        /// Count per value.
        counts: BTreeMap<String, f64>,
    },
    /// No usable distribution, and why.
    Unavailable(String),
}

impl Reference {
    /// The distribution of a profiled column (a baseline's, or a time window's) taken as the
    /// reference for a feature of type `t`; `what` names it in the reasons (`baseline`,
    /// `previous window`…).
    pub fn of_column(t: InferredType, col: &ColumnProfile, what: &str) -> Reference {
        if t.is_numeric() {
            return match &col.histogram {
                Some(h) if h.total() > 0 => Reference::Numeric {
                    discrete: per_value(&col.kll, col.moments.min.zip(col.moments.max), &h.edges),
                    edges: h.edges.to_vec(),
                    weights: Arc::new(BaseBins::new(h.iter().map(|c| c as f64).collect())),
                    min: col.moments.min,
                    max: col.moments.max,
                    std_dev: col.moments.std_dev(),
                    kll: col.kll.clone(),
                    exact: true,
                },
                _ => Reference::Unavailable(format!("{what} has no finite values")),
            };
        }
        if col.present() > 0 && col.types.total() == 0 {
            // Present values of a type driftscope does not profile (maps, unions...).
            return Reference::Unavailable(format!("type {} is not profiled", col.arrow_type));
        }
        if !col.categories.is_exact() {
            return Reference::Unavailable(format!(
                "more than {} distinct values: kept out of categorical drift",
                crate::profile::MAX_EXACT_CATEGORIES
            ));
        }
        if col.categories.exact.is_empty() {
            return Reference::Unavailable(format!("{what} has no present values"));
        }
        Reference::Categorical { counts: col.categories.exact.iter().map(|(k, v)| (k.clone(), *v as f64)).collect() }
    }
}

/// A loaded baseline.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// Folder it came from.
    pub dir: PathBuf,
    /// Its `statistics.json`.
    pub statistics: Statistics,
    /// Its `constraints.json` (suggested from the statistics when the folder has none).
    pub constraints: Constraints,
    /// driftscope's profile, when the folder has one.
    pub profile: Option<DatasetProfile>,
    /// Notes for the report (a missing constraints file, say).
    pub notes: Vec<String>,
}

/// Reads a baseline's JSON file; a missing or malformed one is an [`Error::Baseline`] naming it.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text =
        std::fs::read_to_string(path).map_err(|e| Error::Baseline { path: path.into(), message: one_line(e) })?;
    serde_json::from_str(&text)
        .map_err(|e| Error::Baseline { path: path.into(), message: format!("invalid: {}", one_line(e)) })
}

impl Baseline {
    /// A baseline made from a profile of the inputs themselves (a run without `-b`): its
    /// statistics, the constraints suggested from them, and the profile; `what` says where it
    /// came from.
    pub fn from_profile(profile: DatasetProfile, what: &str) -> Baseline {
        Baseline {
            dir: PathBuf::from(what),
            statistics: statistics(&profile),
            constraints: suggest_constraints(&profile),
            profile: Some(profile),
            notes: vec![format!("no baseline given: constraints suggested from {what}")],
        }
    }

    /// Judges numeric drift by the two-sample KS test at significance `alpha` for every
    /// feature: the global `comparison_method` becomes `KS` with `comparison_threshold` = `alpha`,
    /// and the features' own method and threshold overrides give way.
    pub fn use_ks(&mut self, alpha: f64) {
        let global = self.constraints.monitoring_config.get_or_insert_with(default_monitoring_config);
        let dist = global.distribution_constraints.get_or_insert_with(DistributionConstraints::default);
        dist.comparison_method = Some("KS".into());
        dist.comparison_threshold = Some(alpha);
        for f in &mut self.constraints.features {
            if let Some(d) = f.monitoring_config_overrides.as_mut().and_then(|o| o.distribution_constraints.as_mut()) {
                d.comparison_method = None;
                d.comparison_threshold = None;
            }
        }
    }

    /// Loads a baseline folder (or the folder of a given `statistics.json`).
    pub fn load(path: &Path) -> Result<Baseline> {
        if crate::source::remote::Staged::names_remote(path) {
            // A folder in an object store: read from a local copy, named by its URL.
            let staged = crate::source::remote::Staged::input(path)?;
            let mut b = Self::load(staged.local())?;
            b.dir = path.to_path_buf();
            return Ok(b);
        }
        if path.is_file() && path.file_name().is_some_and(|n| n != STATISTICS) {
            return Err(Error::Baseline {
                path: path.into(),
                message: "expected a baseline folder (statistics.json, constraints.json), not a file; make one with `driftscope baseline`".into(),
            });
        }
        let dir =
            if path.is_file() { path.parent().unwrap_or(Path::new(".")).to_path_buf() } else { path.to_path_buf() };
        if !dir.is_dir() {
            return Err(Error::Baseline { path: dir, message: "baseline folder not found".into() });
        }
        let stats_path = dir.join(STATISTICS);
        if !stats_path.is_file() {
            return Err(Error::Baseline { path: stats_path, message: "baseline has no statistics.json".into() });
        }
        let statistics: Statistics = read_json(&stats_path)?;
        let profile_path = dir.join(PROFILE);
        let profile: Option<DatasetProfile> =
            if profile_path.is_file() { Some(read_json(&profile_path)?) } else { None };
        let mut notes = Vec::new();
        let constraints_path = dir.join(CONSTRAINTS);
        let constraints = if constraints_path.is_file() {
            read_json(&constraints_path)?
        } else {
            notes.push(format!(
                "{} not found: using driftscope's default monitoring_config",
                constraints_path.display()
            ));
            Constraints {
                version: 0.0,
                features: Vec::new(),
                monitoring_config: Some(default_monitoring_config()),
                extra: BTreeMap::new(),
            }
        };
        Ok(Baseline { dir, statistics, constraints, profile, notes })
    }

    /// Where the baseline came from, for the report.
    pub fn source(&self) -> &'static str {
        if self.profile.is_some() {
            "driftscope"
        } else {
            "sagemaker"
        }
    }

    /// Feature names in the baseline's order.
    pub fn feature_names(&self) -> Vec<String> {
        self.statistics.features.iter().map(|f| f.name.clone()).collect()
    }

    /// The baseline's inferred type for a feature (constraints first, then statistics).
    pub fn inferred_type(&self, name: &str) -> InferredType {
        self.constraints
            .features
            .iter()
            .find(|f| f.name == name)
            .and_then(|f| f.inferred_type.as_deref())
            .or_else(|| self.statistics.features.iter().find(|f| f.name == name).map(|f| f.inferred_type.as_str()))
            .map_or(InferredType::Unknown, InferredType::parse)
    }

    /// The feature's constraints entry.
    pub fn feature_constraints(&self, name: &str) -> Option<&FeatureConstraints> {
        self.constraints.features.iter().find(|f| f.name == name)
    }

    /// Effective monitoring settings for a feature.
    pub fn config(&self, name: &str) -> EffectiveConfig {
        EffectiveConfig::resolve(
            self.constraints.monitoring_config.as_ref(),
            self.feature_constraints(name).and_then(|f| f.monitoring_config_overrides.as_ref()),
        )
    }

    /// The reference distribution of a feature.
    pub fn reference(&self, name: &str) -> Reference {
        let t = self.inferred_type(name);
        if let Some(col) = self.profile.as_ref().and_then(|p| p.column(name)) {
            return Reference::of_column(t, col, "baseline");
        }
        let Some(f) = self.statistics.features.iter().find(|f| f.name == name) else {
            return Reference::Unavailable("not in the baseline".into());
        };
        if let Some(ns) = &f.numerical_statistics {
            let Some(sk) = ns.distribution.as_ref().and_then(|d| d.kll.as_ref()).and_then(|k| k.sketch.as_ref()) else {
                return Reference::Unavailable("baseline statistics have no KLL sketch".into());
            };
            let Some(kll) = sk.kll() else {
                return Reference::Unavailable(format!(
                    "baseline sketch has {} levels: its weights do not fit in 64 bits",
                    sk.data.len()
                ));
            };
            if kll.is_empty() {
                return Reference::Unavailable("baseline sketch is empty".into());
            }
            let edges = bin_edges(&kll, DEFAULT_BINS, ns.min.zip(ns.max));
            let mut weights = Vec::with_capacity(edges.len() + 1);
            let mut prev = 0u64;
            for &e in &edges {
                let w = kll.weight_below(e);
                weights.push((w - prev) as f64);
                prev = w;
            }
            weights.push((kll.n - prev) as f64);
            let discrete = per_value(&kll, ns.min.zip(ns.max), &edges);
            return Reference::Numeric {
                edges,
                weights: Arc::new(BaseBins::new(weights)),
                min: ns.min,
                max: ns.max,
                discrete,
                std_dev: ns.std_dev,
                kll,
                exact: false,
            };
        }
        if let Some(ss) = &f.string_statistics {
            let counts: BTreeMap<String, f64> = ss
                .distribution
                .as_ref()
                .and_then(|d| d.categorical.as_ref())
                .map(|c| {
                    c.buckets
                        .iter()
                        .filter(|b| b.count.is_finite() && b.count > 0.0)
                        .map(|b| (b.value.clone(), b.count))
                        .collect()
                })
                .unwrap_or_default();
            if counts.is_empty() {
                return Reference::Unavailable("baseline statistics have no categorical buckets".into());
            }
            return Reference::Categorical { counts };
        }
        Reference::Unavailable("baseline statistics have neither numerical nor string statistics".into())
    }

    /// Histogram edges to compute on the current data, per numeric feature.
    pub fn edges(&self) -> BTreeMap<String, Vec<f64>> {
        self.feature_names()
            .into_iter()
            .filter_map(|n| match self.reference(&n) {
                Reference::Numeric { edges, .. } => Some((n, edges)),
                _ => None,
            })
            .collect()
    }
}
