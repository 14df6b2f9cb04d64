//! Drift per time window: each window's light profile against the baseline, with SageMaker's
//! violations per window, and the table of one row per (window, feature) that
//! [`crate::output::windows`] writes as `windows.csv` and `windows.parquet`, beside one folder per
//! window in SageMaker's hourly layout (`windows/yyyy/mm/dd/hh/constraint_violations.json`).

use std::sync::Arc;

use arrow_array::builder::{TimestampMillisecondBuilder, UInt64Builder};
use arrow_array::{ArrayRef, RecordBatch};
use rayon::prelude::*;
use serde::Serialize;

use crate::engine::window::{iso, Window};
use crate::engine::{ProfileSet, Segment};
use crate::error::{one_line, Error, Result};
use crate::judge::baseline::{Baseline, Reference};
use crate::judge::columns::VerdictColumns;
use crate::judge::drift::{self, FeatureDrift, Verdict};
use crate::judge::sagemaker::Violation;
use crate::profile::DatasetProfile;

/// How a monitoring run keys rows by time.
#[derive(Debug, Clone)]
pub struct WindowOptions {
    /// The time column.
    pub column: String,
    /// The window length.
    pub window: Window,
    /// Most windows a run may hold (memory grows with windows × features × bins).
    pub limit: usize,
    /// What each window is compared with.
    pub reference: WindowReference,
    /// How change points are searched in the windows' series.
    pub changes: crate::time::changepoint::Search,
}

/// What each window is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WindowReference {
    /// The baseline (`-b`).
    #[default]
    Baseline,
    /// The window before it (the last earlier window holding rows).
    Previous,
    /// The merge of the N windows before it (those holding rows).
    Rolling(usize),
    /// The merge of the windows starting in `[from, to)` (milliseconds since the epoch).
    Range {
        /// First instant.
        from: i64,
        /// Instant past the range.
        to: i64,
    },
}

impl std::fmt::Display for WindowReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            WindowReference::Baseline => f.write_str("baseline"),
            WindowReference::Previous => f.write_str("previous"),
            WindowReference::Rolling(n) => write!(f, "rolling:{n}"),
            WindowReference::Range { from, to } => write!(f, "window:{}..{}", iso(from), iso(to)),
        }
    }
}

/// An instant written as ISO 8601 (`2026-11-28T14:00:00Z`, with or without seconds or an
/// offset; without an offset it is UTC) or a date (`2026-11-28`: midnight UTC).
pub fn parse_instant(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(d.timestamp_millis());
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(d) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return Some(d.and_utc().timestamp_millis());
        }
    }
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

impl std::str::FromStr for WindowReference {
    type Err = Error;

    /// `baseline`, `previous`, `rolling:N`, `window:START..END`.
    fn from_str(s: &str) -> Result<Self> {
        let bad = |why: &str| {
            crate::error::invalid(
                crate::Opt::Reference,
                format!(
                    "{why}; expected baseline, previous, rolling:N or window:START..END (e.g. window:2026-01-01..2026-02-01), got {s:?}"
                ),
            )
        };
        match s.trim() {
            "baseline" => Ok(WindowReference::Baseline),
            "previous" => Ok(WindowReference::Previous),
            t if t.starts_with("rolling:") => match t["rolling:".len()..].parse::<usize>() {
                Ok(n) if n > 0 => Ok(WindowReference::Rolling(n)),
                _ => Err(bad("N must be a whole number of windows, at least 1")),
            },
            t if t.starts_with("window:") => {
                let (a, b) = t["window:".len()..].split_once("..").ok_or_else(|| bad("no '..' in the range"))?;
                let from = parse_instant(a).ok_or_else(|| bad("START is not a date or an ISO 8601 time"))?;
                let to = parse_instant(b).ok_or_else(|| bad("END is not a date or an ISO 8601 time"))?;
                if to <= from {
                    return Err(bad("END must come after START"));
                }
                Ok(WindowReference::Range { from, to })
            }
            _ => Err(bad("unknown reference")),
        }
    }
}

/// Most windows a run holds unless told otherwise: a year of 15-minute windows fits.
pub const DEFAULT_MAX_WINDOWS: usize = 100_000;

/// The verdicts of one window.
#[derive(Debug, Clone)]
pub struct WindowResult {
    /// Start, milliseconds since the epoch (UTC); for windows of rows, the window's index.
    pub start: i64,
    /// End (the next window's start).
    pub end: i64,
    /// True for windows of rows (`start` and `end` are then indices, not instants).
    pub of_rows: bool,
    /// Rows in the window.
    pub rows: u64,
    /// Drift per feature, in the baseline's order.
    pub features: Vec<FeatureDrift>,
    /// SageMaker's violations for the window.
    pub violations: Vec<Violation>,
}

/// What `drift.json` says of the windows.
#[derive(Debug, Clone, Serialize)]
pub struct WindowsSummary {
    /// The time column.
    pub time_column: String,
    /// The window length (`1h`, `1d`…).
    pub window: String,
    /// What each window was compared with.
    pub reference: String,
    /// Windows with at least one row.
    pub windows: usize,
    /// Rows whose time is null or not an instant: in the whole run's profile, in no window.
    pub untimed_rows: u64,
    /// Windows with at least one violation.
    pub windows_with_violations: usize,
    /// Windows where at least one feature drifted.
    pub windows_with_drift: usize,
    /// Start of the first window (ISO 8601, UTC).
    pub first_start: Option<String>,
    /// End of the last window.
    pub last_end: Option<String>,
    /// Change points found in the windows' series (`changepoints.json`): one per change of a
    /// feature.
    pub change_points: usize,
    /// How they were searched: the detector, and the false alarms allowed per series per
    /// 1,000 windows.
    pub change_point_method: String,
    /// The false alarms allowed per series per 1,000 windows (seeded search).
    pub change_point_false_alarm_rate: f64,
    /// Series not searched for change points, with their reasons.
    pub series_not_searched: Vec<crate::time::changepoint::Unsearched>,
}

/// Compares every window of `set` with its reference: drift of the features `names` (against
/// the baseline, the previous window, a rolling merge of earlier windows or a fixed range of
/// windows) and the baseline's constraints, as [`drift::feature`] and [`crate::judge::check::check`]
/// do for a whole run. Windows carry no quantile sketch, so on a SageMaker baseline their L∞ is
/// taken between histograms over the baseline sketch's bins (the whole run's L∞ is taken
/// between sketches).
///
/// # Errors
/// [`Error::Invalid`] when a `window:START..END` reference holds no window with rows.
pub fn evaluate(
    base: &Baseline,
    names: &[String],
    set: &ProfileSet,
    window: &Window,
    reference: WindowReference,
) -> Result<Vec<WindowResult>> {
    let windows: Vec<(i64, &DatasetProfile)> = set.windows().collect();
    let fixed = match reference {
        WindowReference::Range { from, to } => {
            let inside: Vec<&DatasetProfile> =
                windows.iter().filter(|(s, _)| (from..to).contains(s)).map(|&(_, p)| p).collect();
            if inside.is_empty() {
                return Err(crate::error::invalid(
                    crate::Opt::Reference,
                    format!("{reference}: no window of the inputs starts in that range"),
                ));
            }
            Some(merged(&inside))
        }
        _ => None,
    };
    // The baseline's side of every feature, worked out once for all windows.
    let baseline_refs: Vec<Reference> = match reference {
        WindowReference::Baseline => names.par_iter().map(|n| base.reference(n)).collect(),
        _ => Vec::new(),
    };
    Ok((0..windows.len())
        .into_par_iter()
        .map(|i| {
            let (start, p) = windows[i];
            let earlier = |n: usize| -> Option<DatasetProfile> {
                (i > 0).then(|| merged(&windows[i.saturating_sub(n)..i].iter().map(|&(_, p)| p).collect::<Vec<_>>()))
            };
            let (against, what): (Option<DatasetProfile>, &str) = match reference {
                WindowReference::Baseline => (None, "baseline"),
                WindowReference::Previous => (earlier(1), "previous window"),
                WindowReference::Rolling(n) => (earlier(n), "rolling windows"),
                WindowReference::Range { .. } => (fixed.clone(), "reference windows"),
            };
            let features: Vec<FeatureDrift> = names
                .iter()
                .enumerate()
                .map(|(j, n)| match (reference, &against) {
                    (WindowReference::Baseline, _) => drift::feature_against(base, n, &baseline_refs[j], p.column(n)),
                    (_, None) => FeatureDrift::skipped(n, format!("no {what}: the first window")),
                    (_, Some(r)) => {
                        let reference = match r.column(n) {
                            Some(c) => Reference::of_column(base.inferred_type(n), c, what),
                            None => Reference::Unavailable(format!("missing from the {what}")),
                        };
                        drift::feature_against(base, n, &reference, p.column(n))
                    }
                })
                .collect();
            // The window's extra columns (the time column among them, when the baseline lacks
            // it) are the run's: said once, by the whole run.
            let violations = crate::judge::check::check_part(base, p, &features, (names, &[]));
            let of_rows = window.rows_per_window().is_some();
            WindowResult { start, end: window.end(start), of_rows, rows: p.rows, features, violations }
        })
        .collect())
}

/// The merge of window profiles, in order.
fn merged(profiles: &[&DatasetProfile]) -> DatasetProfile {
    let mut all = DatasetProfile::default();
    for p in profiles {
        all.merge(p);
    }
    all
}

/// The summary of `results` for `drift.json`.
pub fn summary(opts: &WindowOptions, set: &ProfileSet, results: &[WindowResult]) -> WindowsSummary {
    WindowsSummary {
        time_column: opts.column.clone(),
        window: opts.window.to_string(),
        reference: opts.reference.to_string(),
        windows: results.len(),
        untimed_rows: set.segments.get(&Segment::Untimed).map_or(0, |p| p.rows),
        windows_with_violations: results.iter().filter(|r| !r.violations.is_empty()).count(),
        windows_with_drift: results.iter().filter(|r| r.features.iter().any(|f| f.drifted())).count(),
        first_start: results.first().filter(|r| !r.of_rows).map(|r| iso(r.start)),
        last_end: results.last().filter(|r| !r.of_rows).map(|r| iso(r.end)),
        change_points: 0,
        change_point_method: opts.changes.method.to_string(),
        change_point_false_alarm_rate: opts.changes.false_alarm_rate,
        series_not_searched: Vec::new(),
    }
}

/// Windows whose rows are made into one piece of [`table`] (in parallel with the others).
const TABLE_CHUNK_WINDOWS: usize = 2048;

/// One row per (window, feature), windows in time order, features in the baseline's order.
pub fn table(results: &[WindowResult], set: &ProfileSet) -> Result<RecordBatch> {
    let fail = |e: arrow_schema::ArrowError| Error::Output {
        path: "windows".into(),
        source: std::io::Error::other(one_line(e)),
    };
    // Pieces of a few thousand windows are built side by side, then put end to end (an empty
    // run is one empty piece, for the columns).
    let pieces: Vec<RecordBatch> = (0..results.len().max(1))
        .step_by(TABLE_CHUNK_WINDOWS)
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|at| {
            let end = (at + TABLE_CHUNK_WINDOWS).min(results.len());
            table_piece(&results[at.min(end)..end], at, set).map_err(fail)
        })
        .collect::<Result<_>>()?;
    if pieces.len() == 1 {
        return Ok(pieces.into_iter().next().expect("one piece"));
    }
    arrow_select::concat::concat_batches(&pieces[0].schema(), &pieces).map_err(fail)
}

/// The rows of `results`, the first of which is window `first` of the run.
fn table_piece(
    results: &[WindowResult],
    first: usize,
    set: &ProfileSet,
) -> std::result::Result<RecordBatch, arrow_schema::ArrowError> {
    let utc = "+00:00";
    let rows = results.iter().map(|r| r.features.len()).sum();
    let mut start = TimestampMillisecondBuilder::with_capacity(rows).with_timezone(utc);
    let mut end = TimestampMillisecondBuilder::with_capacity(rows).with_timezone(utc);
    let mut index = UInt64Builder::with_capacity(rows);
    let mut verdicts = VerdictColumns::with_capacity(rows);
    for (i, r) in results.iter().enumerate() {
        let profile = &set.segments[&Segment::Window(r.start)];
        for f in &r.features {
            // Windows of rows have no instants.
            start.append_option((!r.of_rows).then_some(r.start));
            end.append_option((!r.of_rows).then_some(r.end));
            index.append_value((first + i) as u64);
            verdicts.append(f, profile.column(&f.name), &r.violations);
        }
    }
    let mut columns: Vec<(&str, ArrayRef)> = vec![
        ("window_start", Arc::new(start.finish())),
        ("window_end", Arc::new(end.finish())),
        ("window_index", Arc::new(index.finish())),
    ];
    columns.extend(verdicts.finish());
    RecordBatch::try_from_iter(columns)
}

/// The drift-distance series of every feature over the windows: `psi`, where the window was
/// compared.
pub fn drift_series(results: &[WindowResult]) -> Vec<crate::time::changepoint::Series> {
    let Some(first) = results.first() else { return Vec::new() };
    first
        .features
        .iter()
        .enumerate()
        .map(|(j, f)| crate::time::changepoint::Series {
            feature: f.name.clone(),
            name: "psi".into(),
            distance: true,
            points: results
                .iter()
                .enumerate()
                .filter_map(|(i, r)| {
                    r.features.get(j).and_then(FeatureDrift::psi).filter(|v| v.is_finite()).map(|v| (i, v))
                })
                .collect(),
        })
        .filter(|s| !s.points.is_empty())
        .collect()
}

/// True when any window drifted or broke a constraint.
pub fn any_violation(results: &[WindowResult]) -> bool {
    results.iter().any(|r| !r.violations.is_empty() || r.features.iter().any(|f| f.status == Verdict::Drift))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_and_print() {
        let r = |s: &str| s.parse::<WindowReference>();
        assert_eq!(r("baseline").unwrap(), WindowReference::Baseline);
        assert_eq!(r("previous").unwrap(), WindowReference::Previous);
        assert_eq!(r("rolling:24").unwrap(), WindowReference::Rolling(24));
        let w = r("window:2026-01-01..2026-02-01T12:30").unwrap();
        assert_eq!(w.to_string(), "window:2026-01-01T00:00:00Z..2026-02-01T12:30:00Z");
        assert_eq!(r(&w.to_string()).unwrap(), w);
        let offset = r("window:2026-01-01T02:00:00+02:00..2026-01-02").unwrap();
        assert_eq!(offset, r("window:2026-01-01..2026-01-02").unwrap());
        for bad in [
            "",
            "prev",
            "rolling:0",
            "rolling:-1",
            "rolling:x",
            "window:2026-01-01",
            "window:x..2026-01-01",
            "window:2026-02-01..2026-01-01",
        ] {
            assert!(r(bad).is_err(), "{bad}");
        }
    }
}
