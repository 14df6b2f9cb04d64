//! `changepoints`: change points in the per-window series of the inputs, without a baseline.

use std::collections::BTreeMap;

use crate::engine::window::{self};
use crate::error::Result;
use crate::output::{to_json, write_atomic};
use crate::source::scan::Skipped;
use crate::time::changepoint::{self, ChangePoint, Search, Unsearched};

use super::{scan_inputs, windows_pass, JobOptions};
use crate::output::folder::{check_output, Job};
use crate::time::changepoint::CHANGEPOINTS;

/// The change points of `series`, in the order of the features `names`, then time; and the
/// series not searched.
pub(super) fn find_changes(
    names: &[String],
    series: &[changepoint::Series],
    segments: &crate::engine::ProfileSet,
    search: Search,
    of_rows: bool,
) -> (Vec<ChangePoint>, Vec<Unsearched>) {
    let starts: Vec<i64> = segments.windows().map(|w| w.0).collect();
    let (mut changes, unsearched) =
        changepoint::find(series, search, starts.len(), &|i| (!of_rows).then(|| window::iso(starts[i])));
    changes.sort_by_key(|c| names.iter().position(|n| *n == c.feature).unwrap_or(usize::MAX));
    (changes, unsearched)
}

/// What a change-point run found.
#[derive(Debug)]
pub struct ChangepointsOutcome {
    /// The change points, also written to `changepoints.json`.
    pub changes: Vec<ChangePoint>,
    /// Windows holding rows.
    pub windows: usize,
    /// Rows read.
    pub rows: u64,
    /// Rows without a time.
    pub untimed_rows: u64,
    /// Inputs left out.
    pub skipped: Vec<Skipped>,
    /// The backend that ran.
    pub backend: String,
    /// The series searched or left out.
    pub series: usize,
    /// The series left out, with their reasons.
    pub unsearched: Vec<Unsearched>,
}

/// Finds change points in the per-window series of the inputs (mean, standard deviation and
/// completeness of every feature), without a baseline: one pass over the inputs.
pub fn run_changepoints(opts: &JobOptions, search: Search) -> Result<ChangepointsOutcome> {
    check_output(&opts.output, None, Job::Run, opts.force)?;
    let s = scan_inputs(opts)?;
    let (w, outcome, backend_note) = windows_pass(opts, &s, BTreeMap::new(), "changepoints")?;
    let segments = outcome.segments;
    let untimed_rows = segments.segments.get(&crate::engine::Segment::Untimed).map_or(0, |p| p.rows);
    // The time column moves from window to window by construction: it is not searched.
    let names: Vec<String> =
        outcome.profile.columns.iter().map(|c| c.name.clone()).filter(|n| *n != w.column).collect();
    let series = changepoint::profile_series(&names, &segments.windows().map(|w| w.1).collect::<Vec<_>>());
    let (changes, unsearched) = find_changes(&names, &series, &segments, search, w.window.rows_per_window().is_some());
    write_atomic(&opts.output.join(CHANGEPOINTS), &to_json(&changes))?;
    let mut skipped = s.skipped.clone();
    skipped.extend(outcome.skipped);
    Ok(ChangepointsOutcome {
        windows: segments.windows().count(),
        rows: outcome.profile.rows,
        untimed_rows,
        series: series.len(),
        changes,
        unsearched,
        skipped,
        backend: backend_note,
    })
}
