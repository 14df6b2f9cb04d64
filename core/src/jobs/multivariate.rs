//! Multivariate drift in the jobs: the baseline's features, its covariance in the second pass,
//! the PCA fitted from it, and a third pass over those features alone for the baseline's chunks.

use std::sync::Arc;

use super::{profile_pass, JobOptions};
use crate::engine::window::Window;
use crate::engine::{Derived, ProfilePlan, SegmentKey, INPUT_ORDER};
use crate::error::{invalid, Opt, Result};
use crate::judge::multivariate::{mean_error, reading, Chunk, MultivariateBaseline};
use crate::output::folder::OutputGuard;
use crate::profile::pca::{is_categorical, Pca, Standardize, DEFAULT_VARIANCE};
use crate::profile::{ColumnProfile, DatasetProfile, Role};
use crate::source::scan::ScannedFile;

/// The standardization of the baseline's multivariate features, from its first pass: those
/// asked for, else every feature (not an identifier or a time, not a segment column) that is
/// numeric, or categorical (text, a dictionary, a boolean) with at most
/// [`crate::profile::MAX_EXACT_CATEGORIES`] values.
///
/// # Errors
/// [`crate::Error::Invalid`] naming a feature that is neither, or holds no value, or when
/// fewer than two are left.
pub(super) fn standardize(opts: &JobOptions, profile: &DatasetProfile) -> Result<Option<Standardize>> {
    let Some(m) = &opts.multivariate else { return Ok(None) };
    let segment_columns: &[String] = opts.segments.as_ref().map_or(&[], |s| &s.columns);
    features(profile, m.columns.as_deref(), segment_columns).map(Some)
}

/// The standardization of `columns` of `profile`, else of every numeric and categorical
/// feature but those `excluded` (see [`standardize`]).
fn features(profile: &DatasetProfile, columns: Option<&[String]>, excluded: &[String]) -> Result<Standardize> {
    let numeric = |c: &ColumnProfile| !is_categorical(&c.arrow_type) && c.inferred_type().is_numeric();
    let categorical = |c: &ColumnProfile| is_categorical(&c.arrow_type);
    let columns: Vec<String> = match columns {
        Some(cols) => {
            for c in cols {
                match profile.column(c) {
                    None => return Err(invalid(Opt::Multivariate, format!("'{c}' is not a column of the inputs"))),
                    Some(p) if !numeric(p) && !categorical(p) => {
                        return Err(invalid(
                            Opt::Multivariate,
                            format!("'{c}' is {}: the reconstruction takes numbers and categories", p.arrow_type),
                        ))
                    }
                    Some(_) => {}
                }
            }
            cols.to_vec()
        }
        None => profile
            .columns
            .iter()
            .filter(|c| c.role == Role::Feature && !excluded.contains(&c.name))
            .filter(|c| {
                (numeric(c) && c.moments.n > 0)
                    || (categorical(c) && c.categories.is_exact() && !c.categories.exact.is_empty())
            })
            .map(|c| c.name.clone())
            .collect(),
    };
    if columns.len() < 2 {
        return Err(invalid(
            Opt::Multivariate,
            format!("{} feature(s) ({}): a reconstruction needs at least 2", columns.len(), columns.join(", ")),
        ));
    }
    Standardize::of(profile, &columns).map_err(|why| invalid(Opt::Multivariate, why))
}

/// The plan's work for the baseline's second pass: the covariance of the standardized rows.
pub(super) fn covariance(s: Option<&Standardize>) -> Option<Derived> {
    s.map(|s| Derived::Covariance(Arc::new(s.clone())))
}

/// The multivariate model of a baseline: the PCA fitted on the second pass's covariance, and
/// the baseline's chunks' mean errors from a third pass over the features alone.
///
/// # Errors
/// [`crate::Error::Invalid`] when the components cannot be fitted (every feature constant);
/// a pass's errors.
pub(super) fn fit(
    opts: &JobOptions,
    guard: &mut OutputGuard,
    good: &[ScannedFile],
    backend: &dyn crate::backend::Backend,
    (s, second): (Standardize, &DatasetProfile),
) -> Result<MultivariateBaseline> {
    let cov = second.covariance.clone().unwrap_or_default();
    let constant = constant(&s, &cov);
    let pca = Pca::fit(s, &cov, DEFAULT_VARIANCE).map_err(|why| invalid(Opt::Multivariate, why))?;
    let rows = second.rows.max(1);
    let chunk = opts.multivariate.as_ref().and_then(|m| m.chunk_rows).unwrap_or_else(|| rows.div_ceil(10)).max(1);
    // The kernel test's sums are taken in the same pass.
    let mmd = opts.multivariate.as_ref().and_then(|m| m.mmd).map(|count| {
        let rff = super::mmd::features(&pca.standardize, constant.len(), count);
        super::mmd::baseline_tap(&pca.standardize, rff, chunk, rows, good)
    });
    let plan = ProfilePlan {
        columns: Some(pca.standardize.columns.clone()),
        segment: SegmentKey::Window { column: INPUT_ORDER.into(), window: Window::rows(chunk), limit: usize::MAX },
        derived: Some(Derived::Reconstruction(Arc::new(pca.clone()))),
        ..Default::default()
    };
    let tap = mmd.as_ref().map(|t| t as &dyn crate::engine::Tap);
    let out =
        profile_pass(opts, guard, good, &plan, (backend, tap), ("baseline-3", &super::baseline::pass_label(opts, 3)))?;
    if let Some(f) = out.skipped.first() {
        return Err(crate::Error::input(&f.path, format!("failed on the third pass: {}", f.error)));
    }
    let mmd = match &mmd {
        Some(t) => {
            super::reread_tap(opts, t, out.resumed, good)?;
            Some(super::mmd::fit(t, chunk)?)
        }
        None => None,
    };
    let chunks: Vec<Chunk> = out
        .segments
        .windows()
        .filter_map(|(i, p)| {
            let (value, sampling_error, n) = reading(p)?;
            let start = i as u64 * chunk;
            Some(Chunk { start, end: start + n, value, sampling_error })
        })
        .collect();
    let mut m = finish(pca, chunk, chunks, constant)?;
    m.mmd = mmd;
    Ok(m)
}

/// The features of `s` without variance in `cov` (standardized to 0 everywhere).
fn constant(s: &Standardize, cov: &crate::profile::pca::Covariance) -> Vec<String> {
    (0..s.columns.len())
        .filter(|&j| cov.sums.get(j * cov.k + j).is_some_and(|v| *v == 0.0))
        .map(|j| s.columns[j].clone())
        .collect()
}

/// The model from its chunks' mean errors: at least two, for a spread.
fn finish(pca: Pca, chunk: u64, chunks: Vec<Chunk>, constant: Vec<String>) -> Result<MultivariateBaseline> {
    if chunks.len() < 2 {
        let rows = chunks.last().map_or(0, |c| c.end);
        return Err(invalid(
            Opt::Multivariate,
            format!(
                "the baseline's {rows} rows make {} chunk(s) of {chunk}: the normal range needs at least 2 (give fewer rows per chunk)",
                chunks.len()
            ),
        ));
    }
    let mut m = MultivariateBaseline::new(pca, DEFAULT_VARIANCE, chunk, chunks);
    m.constant = constant;
    Ok(m)
}

/// The baseline's multivariate model a monitoring run judges with, when the baseline has one
/// and the inputs hold its features; otherwise `None`, with a note when the model is left
/// unused.
///
/// # Errors
/// [`crate::Error::Baseline`] for an unreadable `multivariate.json`.
pub(super) fn for_monitor(
    baseline_dir: Option<&std::path::Path>,
    s: &crate::source::scan::Scan,
) -> Result<(Option<MultivariateBaseline>, Option<String>)> {
    let Some(m) = baseline_dir.map(MultivariateBaseline::load).transpose()?.flatten() else { return Ok((None, None)) };
    let missing: Vec<&str> =
        m.pca.standardize.columns.iter().filter(|c| !super::holds_column(s, c)).map(String::as_str).collect();
    if !missing.is_empty() && !s.files.is_empty() {
        return Ok((None, Some(format!("multivariate drift not judged: the inputs lack {}", missing.join(", ")))));
    }
    Ok((Some(m), None))
}

/// The plan's work for a monitoring pass: each row's reconstruction error.
pub(super) fn reconstruction(m: Option<&MultivariateBaseline>) -> Option<Derived> {
    m.map(|m| Derived::Reconstruction(Arc::new(m.pca.clone())))
}

/// Each window's multivariate verdict: a violation added to the window's when it drifted, and
/// `multivariate.csv` (one row per window) written. Returns each window's verdict.
pub(super) fn judge_windows(
    dir: &std::path::Path,
    m: &MultivariateBaseline,
    set: &crate::engine::ProfileSet,
    results: &mut [crate::time::timeline::WindowResult],
    written: &mut Vec<std::path::PathBuf>,
) -> Result<Vec<Option<crate::judge::multivariate::MultivariateVerdict>>> {
    let num = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    let mut rows = Vec::with_capacity(results.len());
    let mut verdicts = Vec::with_capacity(results.len());
    for (i, r) in results.iter_mut().enumerate() {
        let Some(p) = set.segments.get(&crate::engine::Segment::Window(r.start)) else {
            verdicts.push(None);
            continue;
        };
        let v = m.judge(p);
        let mut row = window_cells(r, i, v.rows);
        row.extend([num(v.value), num(v.sampling_error), num(v.lower_threshold), num(v.upper_threshold)]);
        row.push(v.drift.to_string());
        rows.push(row);
        if let Some(violation) = m.violation(&v) {
            r.violations.push(violation);
        }
        verdicts.push(Some(v));
    }
    let p = dir.join("multivariate.csv");
    let header = [
        "window_start",
        "window_end",
        "window_index",
        "rows",
        "reconstruction_error",
        "sampling_error",
        "lower_threshold",
        "upper_threshold",
        "drift",
    ];
    crate::output::write_csv(&p, &header, rows)?;
    written.push(p);
    Ok(verdicts)
}

/// The run's multivariate verdict, and each segment's, taken before the reconstruction-error
/// column is taken out of the run's profile and its segments' (it is no feature of the data).
pub(super) fn judge_run(
    m: Option<&MultivariateBaseline>,
    current: &mut DatasetProfile,
    segments: Option<&mut crate::judge::segments::SegmentSet>,
) -> Option<crate::judge::multivariate::MultivariateVerdict> {
    let verdict = m.map(|m| m.judge(current));
    crate::judge::multivariate::take_out(current);
    for s in segments.into_iter().flat_map(|s| s.segments.iter_mut()) {
        // Each segment's own mean error, judged against the baseline's range.
        s.multivariate = m.map(|m| {
            let v = m.judge(&s.profile);
            let violation = m.violation(&v);
            (v, violation)
        });
        crate::judge::multivariate::take_out(&mut s.profile);
    }
    verdict
}

/// The run's multivariate part of the report: its verdict and violation, or the note on why
/// the baseline's model was left unused.
pub(super) fn report(
    m: Option<&MultivariateBaseline>,
    verdict: Option<crate::judge::multivariate::MultivariateVerdict>,
    note: Option<String>,
    report: &mut crate::output::report::MonitorReport,
) {
    report.baseline_notes.extend(note);
    let (Some(m), Some(run)) = (m, verdict) else { return };
    let (r, violation) = m.report(run);
    if let Some(v) = violation {
        report.violations.push(v);
        report.summary.violations = report.violations.len();
    }
    report.multivariate = Some(r);
}

/// The first cells of a window's row in a per-window table: its start and end (empty for
/// windows of rows), its index and its rows.
pub(super) fn window_cells(r: &crate::time::timeline::WindowResult, i: usize, rows: u64) -> Vec<String> {
    let instant = |t: i64| if r.of_rows { String::new() } else { crate::engine::window::iso(t) };
    vec![instant(r.start), instant(r.end), i.to_string(), rows.to_string()]
}

/// The multivariate model of batches held in memory (the Python package's `baseline`): the
/// features of `profile` (their first pass) as [`standardize`] chooses them (`columns`, else
/// every numeric and categorical feature), the components from their sums of products, and
/// the chunks' mean errors (`chunk_rows` rows each, a tenth of the rows by default).
///
/// # Errors
/// As [`standardize`] and [`fit`].
pub fn fit_in_memory(
    batches: &[arrow_array::RecordBatch],
    profile: &DatasetProfile,
    columns: Option<Vec<String>>,
    chunk_rows: Option<u64>,
) -> Result<MultivariateBaseline> {
    let s = features(profile, columns.as_deref(), &[])?;
    let mut cov = crate::profile::pca::Covariance::default();
    let flat: Vec<arrow_array::RecordBatch> = batches
        .iter()
        .map(|b| {
            if b.schema().fields().iter().any(|f| matches!(f.data_type(), arrow_schema::DataType::Struct(_))) {
                b.normalize(".", None).unwrap_or_else(|_| b.clone())
            } else {
                b.clone()
            }
        })
        .collect();
    for b in &flat {
        cov.add(&s.rows(b), s.columns.len());
    }
    let constant = constant(&s, &cov);
    let pca = Pca::fit(s, &cov, DEFAULT_VARIANCE).map_err(|why| invalid(Opt::Multivariate, why))?;
    let errors: Vec<f64> = flat.iter().flat_map(|b| pca.errors(b).values().to_vec()).collect();
    let rows = errors.len() as u64;
    let chunk = chunk_rows.unwrap_or_else(|| rows.div_ceil(10)).max(1);
    let chunks: Vec<Chunk> = errors
        .chunks(chunk as usize)
        .enumerate()
        .filter_map(|(i, part)| {
            let mut m = crate::profile::moments::Moments::default();
            m.update_slice(part);
            let (value, sampling_error, n) = mean_error(&m)?;
            Some(Chunk { start: i as u64 * chunk, end: i as u64 * chunk + n, value, sampling_error })
        })
        .collect();
    finish(pca, chunk, chunks, constant)
}

/// The multivariate series of the report's timeline: each window's mean reconstruction error
/// against the top of the baseline's range.
pub(super) fn timeline(
    m: &MultivariateBaseline,
    windows: &[Option<crate::judge::multivariate::MultivariateVerdict>],
) -> crate::output::report::TimelineFeature {
    crate::output::report::TimelineFeature {
        name: crate::profile::pca::RECONSTRUCTION.into(),
        metric: m.method.clone(),
        threshold: m.upper_threshold,
        values: windows.iter().map(|v| v.as_ref().and_then(|v| v.value)).collect(),
        status: windows.iter().map(|v| status(v.as_ref().map(|v| (v.value, v.drift)))).collect(),
        changes: Vec::new(),
    }
}

/// A window's status in a timeline series: skipped without a value, else drift or ok.
pub(super) fn status(v: Option<(Option<f64>, bool)>) -> crate::judge::drift::Verdict {
    use crate::judge::drift::Verdict;
    match v {
        Some((Some(_), true)) => Verdict::Drift,
        Some((Some(_), false)) => Verdict::Ok,
        _ => Verdict::Skipped,
    }
}
