//! Drift per segment (`--segment-by`): each segment's light profile against the baseline's same
//! segment (or the whole baseline), with SageMaker's violations per segment, and the table of one
//! row per (segment, feature) that [`crate::output::segments`] writes as `segments.csv` and
//! `segments.parquet`, beside one folder per segment (`segments/region=eu/constraint_violations.json`).
//!
//! A baseline made with `--segment-by` keeps its segments' profiles in `segments.json` (their
//! histograms over the whole baseline's bin edges, which the file does not repeat).

use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::{ArrayRef, RecordBatch};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{one_line, Error, Result};
use crate::judge::baseline::{Baseline, Reference};
use crate::judge::columns::VerdictColumns;
use crate::judge::drift::{self, FeatureDrift, Verdict};
use crate::judge::multivariate::MultivariateVerdict;
use crate::judge::sagemaker::Violation;
use crate::profile::DatasetProfile;

/// The file of a baseline's segments.
pub const SEGMENTS: &str = "segments.json";

/// Most segments a run keeps unless told otherwise (the others, fewest rows first, are folded
/// into one named `other`).
pub const DEFAULT_MAX_SEGMENTS: usize = 1_000;

/// Most segments a run may hold while reading, for `max` kept: ten times as many, and at least
/// 10,000 (memory grows with segments × features × bins; a column of more values is refused).
pub fn held(max: usize) -> usize {
    max.saturating_mul(10).max(10_000)
}

/// What each segment is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SegmentReference {
    /// The baseline's segment of the same values (the whole baseline for a segment it lacks,
    /// and for `other`).
    #[default]
    Same,
    /// The whole baseline.
    Whole,
}

impl std::fmt::Display for SegmentReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SegmentReference::Same => "same",
            SegmentReference::Whole => "whole",
        })
    }
}

impl std::str::FromStr for SegmentReference {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "same" => Ok(SegmentReference::Same),
            "whole" => Ok(SegmentReference::Whole),
            _ => Err(crate::error::invalid(
                crate::Opt::SegmentReference,
                format!("expected same (the baseline's same segment) or whole (the whole baseline), got {s:?}"),
            )),
        }
    }
}

/// How a run keys rows by segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentOptions {
    /// The segment columns.
    pub columns: Vec<String>,
    /// Most segments kept; the rest are folded into `other`.
    pub max: usize,
    /// What each segment is compared with (`monitor`).
    pub reference: SegmentReference,
    /// Judge each segment in each window too (`monitor` with windows).
    pub per_window: bool,
}

/// One segment's profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentProfile {
    /// Its label, which is also its folder: `region=eu`, `region=eu/channel=web`, `other`.
    pub segment: String,
    /// Its values of the segment columns, in their order (`None`: null); `None` for `other`.
    pub values: Option<Vec<Option<String>>>,
    /// Its rows' light profile (counts, moments, histograms, categories).
    pub profile: DatasetProfile,
    /// Its multivariate verdict and violation, when the run judges by a baseline's model (a
    /// run's only, never written).
    #[serde(skip)]
    pub multivariate: Option<(MultivariateVerdict, Option<Violation>)>,
}

/// A run's segments: the columns, and each segment's profile, `other` last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentSet {
    /// The segment columns.
    pub by: Vec<String>,
    /// Most segments kept.
    pub max_segments: usize,
    /// Distinct values folded into `other` (0: none).
    pub folded_values: usize,
    /// Rows folded into `other`.
    pub folded_rows: u64,
    /// The segments, in key order, `other` last.
    pub segments: Vec<SegmentProfile>,
    /// Each kept segment's windows, when the run judges segments per window: the segment's
    /// index in `segments`, the window's start, and its rows' profile (a run's only, never
    /// written).
    #[serde(skip)]
    pub windows: Vec<(usize, i64, DatasetProfile)>,
}

impl SegmentSet {
    /// The bytes of `segments.json`: histogram edges taken out (they are `profile.json`'s).
    pub fn to_file(&self) -> Vec<u8> {
        let mut light = SegmentSet { windows: Vec::new(), ..self.clone() };
        light.segments.iter_mut().for_each(|s| s.profile.take_edges());
        crate::codec::to_json(&light)
    }

    /// Loads a baseline folder's segments, `None` when it has none; their histograms get the
    /// edges of `whole` (the baseline's `profile.json`).
    ///
    /// # Errors
    /// [`Error::Baseline`] naming the file when it is unreadable or malformed.
    pub fn load(dir: &Path, whole: Option<&DatasetProfile>) -> Result<Option<SegmentSet>> {
        let path = dir.join(SEGMENTS);
        if !path.is_file() {
            return Ok(None);
        }
        let mut set: SegmentSet = crate::judge::baseline::read_json(&path)?;
        if let Some(w) = whole {
            set.segments.iter_mut().for_each(|s| s.profile.share_edges(w));
        }
        Ok(Some(set))
    }

    /// The segment of these values, when kept (not folded into `other`).
    fn find(&self, values: &[Option<String>]) -> Option<&SegmentProfile> {
        self.segments.iter().find(|s| s.values.as_deref() == Some(values))
    }
}

/// The verdicts of one segment.
#[derive(Debug, Clone)]
pub struct SegmentResult {
    /// Its label (and folder).
    pub segment: String,
    /// Rows in the segment.
    pub rows: u64,
    /// What it was compared with: `segment` (the baseline's same segment) or `whole`.
    pub reference: &'static str,
    /// Drift per feature, in the baseline's order (the segment columns left out).
    pub features: Vec<FeatureDrift>,
    /// SageMaker's violations for the segment (its multivariate drift included).
    pub violations: Vec<Violation>,
    /// Its multivariate verdict, when the run judges by a baseline's model.
    pub multivariate: Option<MultivariateVerdict>,
}

impl SegmentResult {
    /// Features that drifted.
    pub fn drifted(&self) -> usize {
        self.features.iter().filter(|f| f.drifted()).count()
    }

    /// How far the segment drifted: the largest ratio of a feature's distance to its
    /// threshold, and that feature.
    pub fn worst(&self) -> Option<(&str, f64)> {
        self.features
            .iter()
            .filter_map(|f| match (f.distance, f.threshold) {
                (Some(d), Some(t)) if t > 0.0 && d.is_finite() => Some((f.name.as_str(), d / t)),
                _ => None,
            })
            .max_by(|a, b| a.1.total_cmp(&b.1))
    }
}

/// Compares every segment of `current` with its reference: drift of the features `names` (the
/// segment columns left out: within a segment they hold one value) against the baseline's same
/// segment (`base_segments`, the whole baseline for a segment it lacks, for `other`, and
/// under [`SegmentReference::Whole`]), and the baseline's constraints, as a whole run is judged.
///
/// # Errors
/// [`Error::Invalid`] when the baseline's segments are by other columns than the run's.
pub fn evaluate(
    base: &Baseline,
    base_segments: Option<&SegmentSet>,
    names: &[String],
    current: &SegmentSet,
    reference: SegmentReference,
) -> Result<Vec<SegmentResult>> {
    check_reference(base, base_segments, &current.by, reference)?;
    let names: Vec<String> = names.iter().filter(|n| !current.by.contains(n)).cloned().collect();
    let whole_refs: Vec<Reference> = names.par_iter().map(|n| base.reference(n)).collect();
    Ok(current
        .segments
        .par_iter()
        .map(|s| {
            let same = match (reference, base_segments, &s.values) {
                (SegmentReference::Same, Some(b), Some(v)) => b.find(v),
                _ => None,
            };
            let features: Vec<FeatureDrift> = names
                .iter()
                .zip(&whole_refs)
                .map(|(n, whole)| {
                    // The whole baseline's reference is shared, never copied per segment.
                    let own;
                    let r = match same {
                        None => whole,
                        Some(b) => {
                            own = segment_reference(base, n, whole, &b.profile);
                            &own
                        }
                    };
                    drift::feature_against(base, n, r, s.profile.column(n))
                })
                .collect();
            // The segment columns hold one value within a segment: not judged.
            let mut violations = crate::judge::check::check_part(base, &s.profile, &features, (&names, &current.by));
            violations.extend(s.multivariate.as_ref().and_then(|m| m.1.clone()));
            SegmentResult {
                segment: s.segment.clone(),
                rows: s.profile.rows,
                reference: if same.is_some() { "segment" } else { "whole" },
                features,
                violations,
                multivariate: s.multivariate.as_ref().map(|m| m.0.clone()),
            }
        })
        .collect())
}

/// Refuses to compare segments by `by` with the baseline's same segments when it has none, or
/// has segments by other columns.
///
/// # Errors
/// [`Error::Invalid`] naming what to do instead.
pub fn check_reference(
    base: &Baseline,
    base_segments: Option<&SegmentSet>,
    by: &[String],
    reference: SegmentReference,
) -> Result<()> {
    if let (SegmentReference::Same, Some(b)) = (reference, base_segments) {
        if b.by != by {
            return Err(crate::error::invalid(
                crate::Opt::SegmentBy,
                format!(
                    "the baseline's segments are by {}, the run's by {}: segment both the same way, or compare each segment with the whole baseline (segment reference: whole)",
                    b.by.join(","),
                    by.join(",")
                ),
            ));
        }
    }
    if let (SegmentReference::Same, None) = (reference, base_segments) {
        return Err(crate::error::invalid(
            crate::Opt::SegmentBy,
            format!(
                "{} has no segments: make the baseline segmented by {} too, or compare each segment with the whole baseline (segment reference: whole)",
                base.dir.display(),
                by.join(",")
            ),
        ));
    }
    Ok(())
}

/// The baseline segment's distribution of feature `name`, on the whole baseline's bins (whose
/// per-value reading it keeps).
fn segment_reference(base: &Baseline, name: &str, whole: &Reference, segment: &DatasetProfile) -> Reference {
    let Some(col) = segment.column(name) else {
        return Reference::Unavailable("missing from the baseline's segment".into());
    };
    let mut r = Reference::of_column(base.inferred_type(name), col, "the baseline's segment");
    if let (Reference::Numeric { discrete, .. }, Reference::Numeric { discrete: d, .. }) = (&mut r, whole) {
        *discrete = *d;
    }
    r
}

/// What `drift.json` says of the segments.
#[derive(Debug, Clone, Serialize)]
pub struct SegmentsSummary {
    /// The segment columns.
    pub by: Vec<String>,
    /// What each segment was compared with (`same`, `whole`).
    pub reference: String,
    /// Segments judged (`other` included).
    pub segments: usize,
    /// Most segments kept.
    pub max_segments: usize,
    /// Distinct values folded into `other`, and their rows.
    pub folded_values: usize,
    /// Rows folded into `other`.
    pub folded_rows: u64,
    /// Segments with at least one violation.
    pub segments_with_violations: usize,
    /// Segments where at least one feature drifted.
    pub segments_with_drift: usize,
    /// The segments that drifted farthest first (at most [`RANKED`]).
    pub ranked: Vec<RankedSegment>,
    /// Each segment per window, when asked for (`segments_windows.csv`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub windows: Option<SegmentWindowsSummary>,
}

/// What `drift.json` says of the segments per window.
#[derive(Debug, Clone, Serialize)]
pub struct SegmentWindowsSummary {
    /// (segment, window) pairs judged.
    pub pairs: usize,
    /// Pairs where a feature drifted.
    pub pairs_with_drift: usize,
    /// Pairs with a violation.
    pub pairs_with_violations: usize,
}

impl SegmentWindowsSummary {
    /// The summary of the pairs' verdicts.
    pub fn of(pairs: &[SegmentWindowResult]) -> SegmentWindowsSummary {
        SegmentWindowsSummary {
            pairs: pairs.len(),
            pairs_with_drift: pairs.iter().filter(|p| p.result.drifted() > 0).count(),
            pairs_with_violations: pairs.iter().filter(|p| !p.result.violations.is_empty()).count(),
        }
    }
}

/// Segments listed in `drift.json`'s ranking.
pub const RANKED: usize = 20;

/// One segment of the ranking.
#[derive(Debug, Clone, Serialize)]
pub struct RankedSegment {
    /// Its label.
    pub segment: String,
    /// Its rows.
    pub rows: u64,
    /// What it was compared with.
    pub reference: &'static str,
    /// Features that drifted.
    pub drifted_features: usize,
    /// Violations.
    pub violations: usize,
    /// The feature that drifted farthest, relative to its threshold.
    pub worst_feature: Option<String>,
    /// Its distance over its threshold (above 1: drift).
    pub worst_ratio: Option<f64>,
    /// Its mean PCA reconstruction error, when the run judges by a multivariate model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multivariate_error: Option<f64>,
    /// Whether that error left the baseline's range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multivariate_drift: Option<bool>,
}

/// The segments, farthest drifted first: by drifted features, then by the worst ratio of
/// distance to threshold, then by rows.
pub fn ranked(results: &[SegmentResult]) -> Vec<&SegmentResult> {
    let mut r: Vec<&SegmentResult> = results.iter().collect();
    let ratio = |s: &SegmentResult| s.worst().map_or(f64::NEG_INFINITY, |w| w.1);
    r.sort_by(|a, b| {
        (b.drifted() + b.violations.len())
            .cmp(&(a.drifted() + a.violations.len()))
            .then(ratio(b).total_cmp(&ratio(a)))
            .then(b.rows.cmp(&a.rows))
            .then(a.segment.cmp(&b.segment))
    });
    r
}

/// The summary of `results` for `drift.json`.
pub fn summary(opts: &SegmentOptions, set: &SegmentSet, results: &[SegmentResult]) -> SegmentsSummary {
    SegmentsSummary {
        by: set.by.clone(),
        reference: opts.reference.to_string(),
        segments: results.len(),
        max_segments: set.max_segments,
        folded_values: set.folded_values,
        folded_rows: set.folded_rows,
        segments_with_violations: results.iter().filter(|r| !r.violations.is_empty()).count(),
        segments_with_drift: results.iter().filter(|r| r.drifted() > 0).count(),
        ranked: ranked(results)
            .into_iter()
            .take(RANKED)
            .map(|r| RankedSegment {
                segment: r.segment.clone(),
                rows: r.rows,
                reference: r.reference,
                drifted_features: r.drifted(),
                violations: r.violations.len(),
                worst_feature: r.worst().map(|w| w.0.to_string()),
                worst_ratio: r.worst().map(|w| w.1),
                multivariate_error: r.multivariate.as_ref().and_then(|m| m.value),
                multivariate_drift: r.multivariate.as_ref().map(|m| m.drift),
            })
            .collect(),
        windows: None,
    }
}

/// True when any segment drifted or broke a constraint.
pub fn any_violation(results: &[SegmentResult]) -> bool {
    results.iter().any(|r| !r.violations.is_empty() || r.features.iter().any(|f| f.status == Verdict::Drift))
}

/// One row per (segment, feature), segments in key order (`other` last), features in the
/// baseline's order.
pub fn table(results: &[SegmentResult], set: &SegmentSet) -> Result<RecordBatch> {
    let (mut segment, mut reference) = (StringBuilder::new(), StringBuilder::new());
    let mut verdicts = VerdictColumns::default();
    for (r, s) in results.iter().zip(&set.segments) {
        for f in &r.features {
            segment.append_value(&r.segment);
            reference.append_value(r.reference);
            verdicts.append(f, s.profile.column(&f.name), &r.violations);
        }
    }
    let mut columns: Vec<(&str, ArrayRef)> =
        vec![("segment", Arc::new(segment.finish())), ("reference", Arc::new(reference.finish()))];
    columns.extend(verdicts.finish());
    RecordBatch::try_from_iter(columns)
        .map_err(|e| Error::Output { path: "segments".into(), source: std::io::Error::other(one_line(e)) })
}

/// One segment in one window.
#[derive(Debug, Clone)]
pub struct SegmentWindowResult {
    /// The window's start (milliseconds since the epoch; a window of rows' index).
    pub start: i64,
    /// The segment's verdicts in the window.
    pub result: SegmentResult,
}

/// Compares each kept segment in each window (`set.windows`, taken out and returned beside
/// the verdicts) with the segment's reference, as [`evaluate`] compares the segment over the
/// whole run.
///
/// # Errors
/// As [`evaluate`].
pub fn evaluate_windows(
    base: &Baseline,
    base_segments: Option<&SegmentSet>,
    names: &[String],
    set: &mut SegmentSet,
    reference: SegmentReference,
) -> Result<(Vec<SegmentWindowResult>, Vec<DatasetProfile>)> {
    let pairs = std::mem::take(&mut set.windows);
    let starts: Vec<i64> = pairs.iter().map(|p| p.1).collect();
    let per_window = SegmentSet {
        segments: pairs
            .into_iter()
            .map(|(i, _, profile)| SegmentProfile {
                segment: set.segments[i].segment.clone(),
                values: set.segments[i].values.clone(),
                profile,
                multivariate: None,
            })
            .collect(),
        windows: Vec::new(),
        by: set.by.clone(),
        max_segments: set.max_segments,
        folded_values: set.folded_values,
        folded_rows: set.folded_rows,
    };
    let results = evaluate(base, base_segments, names, &per_window, reference)?;
    let verdicts =
        starts.into_iter().zip(results).map(|(start, result)| SegmentWindowResult { start, result }).collect();
    Ok((verdicts, per_window.segments.into_iter().map(|s| s.profile).collect()))
}

/// One row per (segment, window, feature), segments in key order, windows in time order:
/// `profiles` are each pair's, `window` gives each window's end (and says whether windows are
/// of rows, without instants).
pub fn windows_table(
    results: &[SegmentWindowResult],
    profiles: &[DatasetProfile],
    window: &crate::engine::window::Window,
) -> Result<RecordBatch> {
    use arrow_array::builder::{TimestampMillisecondBuilder, UInt64Builder};
    let of_rows = window.rows_per_window().is_some();
    let mut starts: Vec<i64> = results.iter().map(|r| r.start).collect();
    starts.sort_unstable();
    starts.dedup();
    let (mut segment, mut reference) = (StringBuilder::new(), StringBuilder::new());
    let mut start = TimestampMillisecondBuilder::new().with_timezone("+00:00");
    let mut end = TimestampMillisecondBuilder::new().with_timezone("+00:00");
    let mut index = UInt64Builder::new();
    let mut verdicts = VerdictColumns::default();
    for (r, p) in results.iter().zip(profiles) {
        let i = starts.binary_search(&r.start).unwrap_or_default() as u64;
        for f in &r.result.features {
            segment.append_value(&r.result.segment);
            start.append_option((!of_rows).then_some(r.start));
            end.append_option((!of_rows).then(|| window.end(r.start)));
            index.append_value(i);
            reference.append_value(r.result.reference);
            verdicts.append(f, p.column(&f.name), &r.result.violations);
        }
    }
    let mut columns: Vec<(&str, ArrayRef)> = vec![
        ("segment", Arc::new(segment.finish())),
        ("window_start", Arc::new(start.finish())),
        ("window_end", Arc::new(end.finish())),
        ("window_index", Arc::new(index.finish())),
        ("reference", Arc::new(reference.finish())),
    ];
    columns.extend(verdicts.finish());
    RecordBatch::try_from_iter(columns)
        .map_err(|e| Error::Output { path: "segments_windows".into(), source: std::io::Error::other(one_line(e)) })
}
