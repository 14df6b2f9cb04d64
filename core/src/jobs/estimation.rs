//! Performance estimation without labels in a monitoring run: the baseline's model
//! (`model_quality/estimation.json`), the tap that tallies the inputs' calibrated scores in the
//! pass that profiles them, and the estimates of the run and each window, with the realized
//! metrics beside them where the inputs hold labels.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::JobOptions;
use crate::engine::tap::Windows;
use crate::error::{invalid, Opt, Result};
use crate::judge::sagemaker::{CheckType, Violation};
use crate::quality::estimate::tap::{Estimating, Tallies};
use crate::quality::estimate::{EstimatedRow, EstimationModel, EstimationReport, Metric, Realized, Tally};
use crate::quality::QualitySettings;
use crate::source::scan::{Scan, ScannedFile};
use crate::time::timeline::WindowOptions;

/// A monitoring run's estimation: the tap, and what the run says of it.
pub(super) struct EstimationRun {
    /// The tap of the pass.
    pub(super) tap: Estimating,
    notes: Vec<String>,
}

/// The estimation of a monitoring run whose baseline has an estimation model, and model quality
/// as it is scored against labels (see [`realized_quality`]).
///
/// # Errors
/// As [`model`], [`check_scores`] and [`tap`].
pub(super) fn start(
    opts: &JobOptions,
    baseline_dir: Option<&Path>,
    quality: Option<QualitySettings>,
    windows: Option<&WindowOptions>,
    s: &Scan,
) -> Result<(Option<QualitySettings>, Option<EstimationRun>)> {
    let Some(model) = model(baseline_dir)? else { return Ok((quality, None)) };
    if let (Some(q), Some(dir)) = (&quality, baseline_dir) {
        let classes: Vec<String> = q.class_probabilities.iter().map(|c| c.0.clone()).collect();
        model.check_classes(&classes).map_err(|why| crate::Error::input(model_path(dir), why))?;
    }
    let settings = quality.clone();
    let (quality, unlabelled) = realized_quality(quality, opts, s);
    check_scores(settings.as_ref(), s)?;
    let tap = tap(model, settings.as_ref(), windows, s)?;
    Ok((quality, tap.map(|tap| EstimationRun { tap, notes: unlabelled.into_iter().collect() })))
}

/// Gives the estimation tap the labels model quality's join read from the ground truth (in
/// memory or spilled), so that it counts the realized metrics of the rows it estimates, per
/// window, from the same rows and scores (a multiclass model's ROC AUC included).
pub(super) fn join_labels(
    opts: &JobOptions,
    run: Option<&mut EstimationRun>,
    scoring: Option<&crate::quality::join::Scoring>,
) {
    let (Some(run), Some(scoring)) = (run, scoring) else { return };
    let label = &scoring.request().settings.label;
    if let Some(labels) = scoring.late_labels(label, crate::quality::estimate::tap::SPILL_SIDE) {
        run.tap.join_labels(labels, opts.quality.id_column.clone());
    }
}

/// The baseline's estimation model, when it has one.
///
/// # Errors
/// [`crate::Error::Input`] naming the file when it is not a model.
fn model(baseline_dir: Option<&Path>) -> Result<Option<EstimationModel>> {
    let Some(dir) = baseline_dir else { return Ok(None) };
    EstimationModel::load(&model_path(dir))
}

/// Where a baseline folder keeps its estimation model.
fn model_path(dir: &Path) -> PathBuf {
    dir.join(crate::quality::run::FOLDER).join(crate::quality::estimate::FILE)
}

/// Model quality as scored against labels: not when the run estimates and no label is there to
/// score against (no ground truth, and no input holds the label column) — then the run
/// estimates only, and says so.
fn realized_quality(
    quality: Option<QualitySettings>,
    opts: &JobOptions,
    s: &Scan,
) -> (Option<QualitySettings>, Option<String>) {
    let Some(q) = quality else { return (None, None) };
    let labelled = !opts.quality.ground_truth.is_empty() || super::holds_column(s, &q.label);
    if !labelled {
        let note = format!("no label column '{}' in the inputs: model quality is estimated, not scored", q.label);
        return (None, Some(note));
    }
    (Some(q), None)
}

/// Checks that the inputs hold the scores the baseline estimates from (`settings`: the run's
/// model-quality settings when the baseline has an estimation model).
///
/// # Errors
/// [`crate::Error::Invalid`] when no input holds the scores.
fn check_scores(settings: Option<&QualitySettings>, s: &Scan) -> Result<()> {
    let Some(p) = settings.and_then(|q| q.probability.as_ref()) else { return Ok(()) };
    if !s.files.is_empty() && !super::holds_column(s, p) {
        return Err(invalid(
            Opt::EstimatePerformance,
            format!("the baseline estimates performance from the scores in column '{p}', which no input holds"),
        ));
    }
    Ok(())
}

/// The tap that tallies the inputs' calibrated scores for `model`, per window ([`tap_windows`]).
///
/// # Errors
/// [`crate::Error::Invalid`] without a probability column.
fn tap(
    model: EstimationModel,
    settings: Option<&QualitySettings>,
    windows: Option<&WindowOptions>,
    s: &Scan,
) -> Result<Option<Estimating>> {
    let Some(settings) = settings else { return Ok(None) };
    Estimating::new(Arc::new(model), settings, tap_windows(windows, s)?).map(Some)
}

/// The windows a tap keys rows by for a run's `windows`: calendar windows, or windows of rows
/// in the inputs' order or in time order (ranked from the time column as the engine ranks them).
///
/// # Errors
/// When the time column cannot be ranked.
pub(super) fn tap_windows(windows: Option<&WindowOptions>, s: &Scan) -> Result<Option<Windows>> {
    let Some(w) = windows else { return Ok(None) };
    Ok(Some(match w.window.rows_per_window() {
        None => Windows::Calendar(w.column.clone(), w.window),
        Some(n) if w.column == crate::engine::INPUT_ORDER => {
            Windows::Rows(n, crate::engine::files::first_rows(&s.files))
        }
        Some(n) => Windows::Ranks(
            crate::engine::files::time_ranks(&s.files, &w.column, n, w.limit)?,
            crate::engine::files::first_rows(&s.files),
        ),
    }))
}

/// The estimates of `tally`, each beside the realized metric of `realized`: the labelled rows'
/// (the captures' own labels, or the ground truth's joined by id, read by the tap).
fn rows_of(model: &EstimationModel, tally: &Tally, realized: Option<&Realized>) -> Vec<EstimatedRow> {
    let realized = realized.filter(|r| r.rows() > 0);
    model
        .estimate(tally)
        .into_iter()
        .map(|e| EstimatedRow { realized: realized.and_then(|r| r.metric(e.metric)), estimate: e })
        .collect()
}

/// Finishes the run's estimation: the tallies (read again when the pass resumed), the run's and
/// each window's estimates, `model_quality/estimated.csv`, the report's part and a violation per
/// metric whose estimate left its range (in the run or a window).
///
/// # Errors
/// As [`Estimating::finish`], and when the file cannot be written.
pub(super) fn finish(
    opts: &JobOptions,
    run: Option<&EstimationRun>,
    (resumed, good): (usize, &[ScannedFile]),
    windows: Option<&WindowOptions>,
    (report, written): (&mut crate::output::report::MonitorReport, &mut Vec<PathBuf>),
) -> Result<()> {
    let Some(EstimationRun { tap, notes }) = run else { return Ok(()) };
    report.baseline_notes.extend(notes.iter().cloned());
    super::reread_tap(opts, tap, resumed, good)?;
    let t: Tallies = tap.finish()?;
    let model = tap.model();
    let run = rows_of(model, &t.whole, Some(&t.realized));
    let per_window: Vec<(i64, u64, Vec<EstimatedRow>)> =
        t.windows.iter().map(|(k, tally)| (*k, tally.rows, rows_of(model, tally, t.realized_windows.get(k)))).collect();
    let dir = opts.output.join(crate::quality::run::FOLDER);
    let p = dir.join("estimated.csv");
    write_table(&p, (&run, t.whole.rows), &per_window, windows.map(|w| w.window))?;
    written.push(p);
    for m in model.metrics.iter().map(|m| m.metric) {
        let in_run = run.iter().find(|r| r.estimate.metric == m).filter(|r| r.estimate.alert);
        let windows_alerted =
            per_window.iter().filter(|w| w.2.iter().any(|r| r.estimate.metric == m && r.estimate.alert)).count();
        if in_run.is_none() && windows_alerted == 0 {
            continue;
        }
        report.violations.push(violation(m, in_run, windows_alerted, per_window.len()));
    }
    report.summary.violations = report.violations.len();
    let alerted = per_window.iter().filter(|w| w.2.iter().any(|r| r.estimate.alert)).count();
    report.estimated_performance = Some(EstimationReport {
        method: model.method.clone(),
        calibrated: model.calibration.is_some(),
        rows: t.whole.rows,
        rows_without_score: t.missing,
        labelled_rows: t.realized.rows(),
        run,
        windows: windows.map(|_| per_window.len()),
        windows_with_alerts: windows.map(|_| alerted),
        per_window: per_window.into_iter().map(|(k, _, rows)| (k, rows)).collect(),
    });
    Ok(())
}

/// The violation of a metric whose estimate left its range in the run (`in_run`) or in
/// `windows` of `of` windows.
fn violation(m: Metric, in_run: Option<&EstimatedRow>, windows: usize, of: usize) -> Violation {
    let mut description = match in_run.and_then(|r| r.violation("the run")) {
        Some(v) => v.description,
        None => format!("Estimated {} is outside the baseline's range", m.name()),
    };
    if windows > 0 {
        description.push_str(&format!(" in {windows} of {of} windows"));
    }
    Violation {
        feature_name: m.name().to_string(),
        constraint_check_type: CheckType::PerformanceEstimateCheck,
        description,
        figures: None,
    }
}

/// `estimated.csv`: a row per window (the run's first, without window) and metric.
fn write_table(
    p: &Path,
    (run, run_rows): (&[EstimatedRow], u64),
    per_window: &[(i64, u64, Vec<EstimatedRow>)],
    window: Option<crate::engine::window::Window>,
) -> Result<()> {
    let num = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    let line = |(start, end, index): (String, String, String), r: &EstimatedRow, rows: u64| {
        let e = &r.estimate;
        vec![
            start,
            end,
            index,
            rows.to_string(),
            e.metric.name().to_string(),
            num(e.value),
            num(e.sampling_error),
            num(e.lower_band),
            num(e.upper_band),
            num(e.lower_threshold),
            num(e.upper_threshold),
            e.alert.to_string(),
            num(r.realized),
            e.reason.clone().unwrap_or_default(),
        ]
    };
    let mut lines: Vec<Vec<String>> = run.iter().map(|r| line(Default::default(), r, run_rows)).collect();
    for (k, n, rows) in per_window {
        let at = match window {
            Some(w) if w.rows_per_window().is_none() => {
                (crate::engine::window::iso(*k), crate::engine::window::iso(w.end(*k)), String::new())
            }
            _ => (String::new(), String::new(), k.to_string()),
        };
        lines.extend(rows.iter().map(|r| line(at.clone(), r, *n)));
    }
    let header = [
        "window_start",
        "window_end",
        "window_index",
        "rows",
        "metric",
        "estimated",
        "sampling_error",
        "lower_band",
        "upper_band",
        "lower_threshold",
        "upper_threshold",
        "alert",
        "realized",
        "reason",
    ];
    crate::output::write_csv(p, &header, lines)
}

/// Each window's estimates joined to its result: a violation per estimate that left its range
/// (in the window's `constraint_violations.json` and alerts), and the estimates for its metrics
/// point.
pub(super) fn join_windows(
    report: &crate::output::report::MonitorReport,
    results: &mut [crate::time::timeline::WindowResult],
) -> Vec<Vec<(String, Option<f64>, bool)>> {
    let Some(e) = &report.estimated_performance else { return Vec::new() };
    results
        .iter_mut()
        .map(|r| {
            let Some(rows) = e.per_window.get(&r.start) else { return Vec::new() };
            r.violations.extend(rows.iter().filter_map(|x| x.violation("the window")));
            point_values(rows)
        })
        .collect()
}

/// The estimates as a metrics point carries them: metric, value, alert.
pub(super) fn point_values(rows: &[EstimatedRow]) -> Vec<(String, Option<f64>, bool)> {
    rows.iter().map(|x| (x.estimate.metric.name().to_string(), x.estimate.value, x.estimate.alert)).collect()
}

/// The timeline rows of the windows' estimates: one per metric, each window's estimate, and its
/// status (drift where it left the range).
pub(super) fn timeline(windows: &[Vec<(String, Option<f64>, bool)>]) -> Vec<crate::output::report::TimelineFeature> {
    use crate::judge::drift::Verdict;
    let Some(first) = windows.iter().find(|w| !w.is_empty()) else { return Vec::new() };
    first
        .iter()
        .enumerate()
        .map(|(k, (name, _, _))| crate::output::report::TimelineFeature {
            name: format!("estimated {name}"),
            metric: "cbpe".into(),
            threshold: None,
            values: windows.iter().map(|w| w.get(k).and_then(|e| e.1)).collect(),
            status: windows
                .iter()
                .map(|w| match w.get(k) {
                    Some((_, Some(_), true)) => Verdict::Drift,
                    Some((_, Some(_), false)) => Verdict::Ok,
                    _ => Verdict::Skipped,
                })
                .collect(),
            changes: Vec::new(),
        })
        .collect()
}
