//! Reports: one model ([`MonitorReport`]) and its writers (HTML, Markdown; JSON through
//! [`crate::output`]).

pub mod html;
pub mod markdown;

use serde::Serialize;

use crate::engine::ledger::FileResult;
use crate::judge::drift::FeatureDrift;
use crate::judge::drift::Verdict;
use crate::judge::sagemaker::Violation;
pub use crate::judge::verdict::{DatasetDrift, Summary};
use crate::source::scan::Skipped;
use crate::time::timeline::WindowResult;

/// What was read.
#[derive(Debug, Clone, Serialize, Default)]
pub struct InputSummary {
    /// Files profiled.
    pub files: usize,
    /// Rows profiled.
    pub rows: u64,
    /// Files taken from a checkpoint of an interrupted run (`--resume`).
    pub resumed_files: usize,
    /// Inputs left out, with reasons.
    pub skipped: Vec<Skipped>,
    /// Schema differences between files.
    pub schema_differences: Vec<String>,
    /// Every readable file in order: rows, partitions, status.
    pub per_file: Vec<FileResult>,
}

/// A figure as the reports print it: four decimals, or a dash for none.
fn num(v: Option<f64>) -> String {
    v.map_or("–".into(), |x| format!("{x:.4}"))
}

/// A figure in four significant digits (whole digits kept).
pub(crate) fn figure(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let digits = (3 - v.abs().log10().floor() as i32).clamp(0, 12) as usize;
    format!("{v:.digits$}")
}

/// Everything a monitoring run found; `drift.json` is this model.
#[derive(Debug, Clone, Serialize)]
pub struct MonitorReport {
    /// driftscope version.
    pub driftscope_version: &'static str,
    /// The backend that profiled the data: `cpu`, or `gpu: <adapter>`.
    pub backend: String,
    /// Why that backend ran (`requested`, or what the `auto` rule measured): printed in the
    /// summary, not written to the files, so that the same data and baseline give the same
    /// files however the backend was chosen.
    #[serde(skip)]
    pub backend_reason: String,
    /// `driftscope` or `sagemaker`.
    pub baseline_source: String,
    /// The baseline folder.
    pub baseline: String,
    /// Notes about the baseline.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub baseline_notes: Vec<String>,
    /// Baseline rows.
    pub baseline_rows: u64,
    /// What was read.
    pub current: InputSummary,
    /// Counts.
    pub summary: Summary,
    /// Per-feature drift.
    pub features: Vec<FeatureDrift>,
    /// The violations also written to `constraint_violations.json`.
    pub violations: Vec<Violation>,
    /// The time windows, when rows were keyed by time (details in `windows.csv`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub windows: Option<crate::time::timeline::WindowsSummary>,
    /// The segments, when rows were keyed by the values of columns (`--segment-by`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segments: Option<crate::judge::segments::SegmentsSummary>,
    /// Multivariate drift, when the baseline has a reconstruction model (`multivariate.json`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multivariate: Option<crate::judge::multivariate::MultivariateReport>,
    /// The kernel two-sample test, when the baseline has one (`multivariate.json`'s `mmd`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mmd: Option<crate::judge::mmd::MmdReport>,
    /// Each segment's verdicts, for the HTML report's drill-down (`segments.csv` has them all).
    #[serde(skip)]
    pub segment_results: Vec<crate::judge::segments::SegmentResult>,
    /// Per-window series for the HTML report's timeline (not written to JSON: windows.csv
    /// holds them).
    #[serde(skip)]
    pub timeline: Option<Timeline>,
    /// Model quality, when the baseline or the flags ask for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_quality: Option<crate::quality::run::QualityReport>,
    /// Model performance estimated without labels, when the baseline has an estimation model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimated_performance: Option<crate::quality::estimate::EstimationReport>,
    /// Feature attribution drift, when the run read attributions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature_attribution: Option<crate::judge::attribution::AttributionReport>,
    /// Bias drift, when the run computed bias metrics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bias: Option<crate::judge::bias::BiasReport>,
    /// What alert delivery did, when alerts were asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alerts: Option<crate::output::alert::Delivery>,
    /// The windows' change points, one per change of a feature (in `changepoints.json`).
    #[serde(skip)]
    pub changes: Vec<crate::time::changepoint::ChangePoint>,
    /// Each feature's baseline and current statistics side by side, for the HTML report.
    #[serde(skip)]
    pub sides: Vec<Sides>,
}

/// What a report says of its baseline.
#[derive(Debug, Clone)]
pub struct BaselineInfo {
    /// Where the baseline came from (`driftscope`, `sagemaker`, …, or `none`).
    pub source: String,
    /// Its folder.
    pub dir: String,
    /// Notes on how it was read.
    pub notes: Vec<String>,
    /// Rows it was made from (0 when unknown).
    pub rows: u64,
}

impl BaselineInfo {
    /// The baseline a run judged against.
    pub fn of(base: &crate::judge::baseline::Baseline) -> BaselineInfo {
        BaselineInfo {
            source: base.source().into(),
            dir: base.dir.display().to_string(),
            notes: base.notes.clone(),
            rows: base.statistics.dataset.item_count.max(0.0) as u64,
        }
    }
}

impl MonitorReport {
    /// A run's report: the backend that profiled (its name, and why it ran), the baseline, the
    /// inputs and the whole run's verdict. A run with windows or model quality adds them.
    pub fn new(
        backend: (String, String),
        baseline: BaselineInfo,
        current: InputSummary,
        verdict: crate::judge::verdict::Judgement,
    ) -> MonitorReport {
        MonitorReport {
            driftscope_version: env!("CARGO_PKG_VERSION"),
            backend: backend.0,
            backend_reason: backend.1,
            baseline_source: baseline.source,
            baseline: baseline.dir,
            baseline_notes: baseline.notes,
            baseline_rows: baseline.rows,
            current,
            summary: verdict.summary,
            features: verdict.features,
            violations: verdict.violations,
            windows: None,
            segments: None,
            segment_results: Vec::new(),
            multivariate: None,
            mmd: None,
            timeline: None,
            model_quality: None,
            estimated_performance: None,
            feature_attribution: None,
            bias: None,
            alerts: None,
            changes: Vec::new(),
            sides: Vec::new(),
        }
    }
}

/// What the HTML report draws of the windows.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    /// Window starts, milliseconds since the epoch, in time order (indices for windows of
    /// rows).
    pub starts: Vec<i64>,
    /// True for windows of rows.
    pub rows: bool,
    /// Per feature, in the baseline's order.
    pub features: Vec<TimelineFeature>,
}

impl Timeline {
    /// The per-window series the HTML report draws: each feature's drift distance, threshold and
    /// verdict per window, and its change points.
    pub fn of(results: &[WindowResult], changes: &[crate::time::changepoint::ChangePoint]) -> Timeline {
        let names: Vec<&str> =
            results.first().map(|r| r.features.iter().map(|f| f.name.as_str()).collect()).unwrap_or_default();
        Timeline {
            starts: results.iter().map(|r| r.start).collect(),
            rows: results.first().is_some_and(|r| r.of_rows),
            features: names
                .iter()
                .enumerate()
                .map(|(j, name)| {
                    fn of(r: &WindowResult, j: usize) -> Option<&FeatureDrift> {
                        r.features.get(j)
                    }
                    let first = results.iter().filter_map(|r| of(r, j)).find(|f| f.method.is_some());
                    let mut at: Vec<(usize, String)> = changes
                        .iter()
                        .filter(|c| c.feature == *name)
                        .map(|c| (c.window_index, c.series.join(", ")))
                        .collect();
                    at.sort();
                    at.dedup_by_key(|c| c.0);
                    TimelineFeature {
                        name: name.to_string(),
                        metric: first.and_then(|f| f.method.clone()).unwrap_or_default(),
                        threshold: first.and_then(|f| f.threshold),
                        values: results.iter().map(|r| of(r, j).and_then(|f| f.distance)).collect(),
                        status: results.iter().map(|r| of(r, j).map_or(Verdict::Skipped, |f| f.status)).collect(),
                        changes: at,
                    }
                })
                .collect(),
        }
    }
}

/// One feature's verdicts over the windows.
#[derive(Debug, Clone, Default)]
pub struct TimelineFeature {
    /// Feature name.
    pub name: String,
    /// The metric drawn (the verdict's method).
    pub metric: String,
    /// Its threshold.
    pub threshold: Option<f64>,
    /// Its value per window (`None`: not compared).
    pub values: Vec<Option<f64>>,
    /// The verdict per window.
    pub status: Vec<crate::judge::drift::Verdict>,
    /// The changes of this feature: window index, and the series that show it.
    pub changes: Vec<(usize, String)>,
}

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// The features for a verdict table (the report's and the Markdown summary's), worst first: drifted ones by how far past their
/// threshold (distance ÷ threshold), then the others by the same ratio, skipped ones last; ties in
/// the baseline's order.
pub fn worst_first(features: &[crate::judge::drift::FeatureDrift]) -> Vec<&crate::judge::drift::FeatureDrift> {
    use crate::judge::drift::Verdict;
    let rank = |f: &crate::judge::drift::FeatureDrift| match f.status {
        Verdict::Drift => 0,
        Verdict::Ok => 1,
        Verdict::Skipped => 2,
    };
    let ratio = |f: &crate::judge::drift::FeatureDrift| match (f.distance, f.threshold) {
        (Some(d), Some(t)) if t > 0.0 && d.is_finite() => d / t,
        (Some(d), _) if d.is_finite() => d,
        _ => f64::NEG_INFINITY,
    };
    let mut v: Vec<&crate::judge::drift::FeatureDrift> = features.iter().collect();
    v.sort_by(|a, b| rank(a).cmp(&rank(b)).then(ratio(b).total_cmp(&ratio(a))));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_html() {
        assert_eq!(escape("<b a='x'>&\"</b>"), "&lt;b a=&#39;x&#39;&gt;&amp;&quot;&lt;/b&gt;");
    }
}

/// One side (baseline or current) of a feature, as the report sets them side by side.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Side {
    /// Mean of the values (numeric features).
    pub mean: Option<f64>,
    /// Median, from the quantile sketch (numeric features).
    pub median: Option<f64>,
    /// Share of rows without a value.
    pub missing: Option<f64>,
    /// Rows counted (present and missing).
    pub rows: f64,
    /// The most frequent values and their shares of the present rows, most frequent first
    /// (categorical features whose statistics keep their values).
    pub top: Vec<(String, f64)>,
    /// Whether the statistics list every value (so a value missing from them never occurred).
    pub all_values: bool,
}

/// A feature's baseline and current sides.
#[derive(Debug, Clone, PartialEq)]
pub struct Sides {
    /// The feature.
    pub name: String,
    /// The baseline's side (`None`: the baseline has no statistics for it).
    pub baseline: Option<Side>,
    /// The current side (`None`: no current rows of it).
    pub current: Option<Side>,
    /// Every value the baseline's statistics list (categorical features), to mark new ones.
    pub baseline_values: Vec<String>,
}

/// Values listed per side.
const TOP_VALUES: usize = 5;

/// The median of a KLL distribution as SageMaker writes it: from its sketch (the sketch's own
/// quantile), or linear within the bucket holding the middle row when it has none.
fn kll_median(k: &crate::judge::sagemaker::KllDistribution) -> Option<f64> {
    if let Some(q) = k.sketch.as_ref().and_then(|s| s.kll()).and_then(|kll| kll.quantiles(&[0.5]).first().copied()) {
        return Some(q);
    }
    let total: f64 = k.buckets.iter().map(|b| b.count).sum();
    let mut seen = 0.0;
    for b in &k.buckets {
        if b.count > 0.0 && seen + b.count >= total / 2.0 {
            let f = (total / 2.0 - seen) / b.count;
            return Some(b.lower_bound + f * (b.upper_bound - b.lower_bound));
        }
        seen += b.count;
    }
    None
}

/// One side from a feature's statistics (SageMaker's format, which both sides share).
pub fn side(f: &crate::judge::sagemaker::FeatureStatistics) -> Side {
    let mut s = Side::default();
    if let Some(n) = &f.numerical_statistics {
        s.rows = n.common.num_present + n.common.num_missing;
        s.mean = n.mean.filter(|m| m.is_finite());
        s.median = n.distribution.as_ref().and_then(|d| d.kll.as_ref()).and_then(kll_median);
        s.missing = (s.rows > 0.0).then(|| n.common.num_missing / s.rows);
    }
    if let Some(t) = &f.string_statistics {
        s.rows = t.common.num_present + t.common.num_missing;
        s.missing = (s.rows > 0.0).then(|| t.common.num_missing / s.rows);
        if let Some(c) = t.distribution.as_ref().and_then(|d| d.categorical.as_ref()) {
            let present: f64 = c.buckets.iter().map(|b| b.count).sum();
            let mut top: Vec<(String, f64)> =
                c.buckets.iter().map(|b| (b.value.clone(), b.count / present.max(1e-300))).collect();
            top.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            s.all_values = !c.buckets.is_empty();
            top.truncate(TOP_VALUES);
            s.top = top;
        }
    }
    s
}

/// Every feature's two sides, in the current profile's order, from the baseline's statistics
/// and the current ones.
pub fn sides(
    baseline: &crate::judge::sagemaker::Statistics,
    current: &crate::judge::sagemaker::Statistics,
) -> Vec<Sides> {
    let mut names: Vec<&str> = current.features.iter().map(|f| f.name.as_str()).collect();
    names.extend(
        baseline.features.iter().map(|f| f.name.as_str()).filter(|n| !current.features.iter().any(|f| f.name == *n)),
    );
    names
        .into_iter()
        .map(|n| {
            let base = baseline.features.iter().find(|f| f.name == n);
            Sides {
                name: n.to_string(),
                baseline: base.map(side),
                current: current.features.iter().find(|f| f.name == n).map(side),
                baseline_values: base
                    .and_then(|f| f.string_statistics.as_ref())
                    .and_then(|t| t.distribution.as_ref())
                    .and_then(|d| d.categorical.as_ref())
                    .map(|c| c.buckets.iter().map(|b| b.value.clone()).collect())
                    .unwrap_or_default(),
            }
        })
        .collect()
}
