//! The verdict of a run: every feature's drift and the constraint violations of a current
//! profile against a baseline, and their counts ([`Summary`]), the dataset-level verdict
//! included ([`DatasetDrift`]).

use serde::Serialize;

use crate::judge::baseline::Baseline;
use crate::judge::drift::{self, FeatureDrift, Verdict};
use crate::judge::sagemaker::{CheckType, Violation};
use crate::profile::DatasetProfile;

/// What judging a current profile against a baseline found.
#[derive(Debug, Clone)]
pub struct Judgement {
    /// The features judged, in the baseline's order.
    pub names: Vec<String>,
    /// Each feature's drift, in the same order.
    pub features: Vec<FeatureDrift>,
    /// The constraint violations (drift included).
    pub violations: Vec<Violation>,
    /// The counts of the verdict.
    pub summary: Summary,
}

/// Judges a current profile against a baseline: every feature's drift (only `columns` when
/// given), the constraint checks, and the counts of the verdict.
pub fn judge(
    base: &Baseline,
    current: &DatasetProfile,
    columns: Option<&[String]>,
    dataset_drift_share: f64,
) -> Judgement {
    let mut names = base.feature_names();
    if let Some(cols) = columns {
        names.retain(|n| cols.contains(n));
    }
    let features: Vec<FeatureDrift> = names.iter().map(|n| drift::feature(base, n, current.column(n))).collect();
    let mut violations = crate::judge::check::check(base, current, &features);
    if columns.is_some() {
        // A projection is not a missing column.
        violations
            .retain(|v| v.constraint_check_type != CheckType::MissingColumnCheck || names.contains(&v.feature_name));
    }
    let summary = summarize(&features, violations.len(), dataset_drift_share);
    Judgement { names, features, violations, summary }
}

/// The counts of the verdict on `features`, with `violations` violations, the dataset drifting
/// at a `share` of drifted features.
pub fn summarize(features: &[FeatureDrift], violations: usize, share: f64) -> Summary {
    let compared = features.iter().filter(|f| f.status != Verdict::Skipped).count();
    let drifted = features.iter().filter(|f| f.drifted()).count();
    Summary {
        features_compared: compared,
        features_drifted: drifted,
        features_skipped: features.iter().filter(|f| f.status == Verdict::Skipped).count(),
        violations,
        dataset_drift: DatasetDrift::of(drifted, compared, share),
    }
}

/// Counts for the verdict.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Summary {
    /// Features compared.
    pub features_compared: usize,
    /// Features with drift.
    pub features_drifted: usize,
    /// Features skipped.
    pub features_skipped: usize,
    /// Constraint violations (drift included).
    pub violations: usize,
    /// The dataset-level verdict (none when no feature was compared).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dataset_drift: Option<DatasetDrift>,
}

/// The dataset-level verdict: the share of compared features that drifted, against a threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DatasetDrift {
    /// Drifted features over compared features.
    pub share: f64,
    /// The share at or above which the dataset has drifted.
    pub threshold: f64,
    /// True when `share >= threshold`.
    pub drift: bool,
}

impl Summary {
    /// The dataset-level verdict in one sentence, for the Markdown and the HTML report.
    pub fn dataset_sentence(&self) -> Option<String> {
        self.dataset_drift.map(|d| {
            format!(
                "{} — {} of {} compared features drifted ({:.0}%; the dataset drifts at {:.0}%)",
                if d.drift { "drifted" } else { "no dataset drift" },
                self.features_drifted,
                self.features_compared,
                d.share * 100.0,
                d.threshold * 100.0
            )
        })
    }
}

impl DatasetDrift {
    /// The verdict for `drifted` of `compared` features (`None` when none was compared).
    pub fn of(drifted: usize, compared: usize, threshold: f64) -> Option<DatasetDrift> {
        (compared > 0).then(|| {
            let share = drifted as f64 / compared as f64;
            DatasetDrift { share, threshold, drift: share >= threshold }
        })
    }
}
