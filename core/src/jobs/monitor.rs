//! `monitor`: the captures judged against a baseline, whole and per time window, with model
//! quality when asked.

use std::path::PathBuf;

use super::estimation as est;
use crate::engine::ProfilePlan;
use crate::engine::SegmentKey;
use crate::error::{Opt, Result};
use crate::judge::baseline::{self, Baseline};
use crate::judge::drift::{self};
use crate::output::export::{export, MonitorRun};
use crate::output::report::{self, BaselineInfo, InputSummary, MonitorReport, Summary};
use crate::output::{to_json, write_atomic};
use crate::profile::DatasetProfile;
use crate::quality::run::QualityBaseline;
use crate::source::scan::ScannedFile;
use crate::time::changepoint;
use crate::time::timeline::{self, WindowReference, WindowResult};

use super::changepoints::find_changes;
use super::{
    attribution_tap, bias_tap, check_timed, ground_truth, joined_taps, no_input, profile_pass, profiled_columns,
    quality_flags, reread_tap, scan_inputs, scoring, strict_check, time_column, JobOptions,
};
use crate::engine::auto::choose_backend;
use crate::engine::group::Keep;
use crate::engine::Outcome;
use crate::engine::ProfileSet;
use crate::judge::sagemaker::CheckType;
use crate::judge::verdict::{judge, summarize, Judgement};
use crate::output::folder::{check_output, Job, OutputGuard};
use crate::quality::QualitySettings;
use crate::source::scan::Scan;
use crate::time::changepoint::CHANGEPOINTS;
use crate::time::timeline::WindowOptions;

/// What a monitoring run produced.
#[derive(Debug)]
pub struct MonitorOutcome {
    /// The report (also written as `drift.json`).
    pub report: MonitorReport,
    /// The Markdown summary.
    pub markdown: String,
    /// Per-window verdicts, when rows were keyed by time.
    pub windows: Vec<WindowResult>,
    /// Files written.
    pub written: Vec<PathBuf>,
}

/// The monitoring report of a profile made elsewhere (the Python package, a Spark job's merged
/// partials): every feature judged against `base`, as `monitor` judges the inputs it reads.
/// `files` lists the files the profile was made from, as `monitor`'s ledger does (path and
/// rows, in the order they were merged); `backend` is what profiled them and why.
pub fn report_for_profile(
    base: &Baseline,
    current: &DatasetProfile,
    dataset_drift_share: f64,
    backend: (&str, &str),
    files: &[(String, u64)],
) -> MonitorReport {
    let per_file: Vec<crate::engine::ledger::FileResult> = files
        .iter()
        .map(|(path, rows)| crate::engine::ledger::FileResult {
            path: path.clone(),
            rows: *rows,
            partitions: crate::source::scan::hive_partitions(std::path::Path::new(path)),
            status: crate::engine::ledger::FileStatus::Ok,
            error: None,
        })
        .collect();
    let current_summary = InputSummary {
        files: per_file.len(),
        rows: current.rows,
        resumed_files: 0,
        skipped: Vec::new(),
        schema_differences: Vec::new(),
        per_file,
    };
    let mut report = MonitorReport::new(
        (backend.0.into(), backend.1.into()),
        BaselineInfo::of(base),
        current_summary,
        judge(base, current, None, dataset_drift_share),
    );
    report.sides = sides_of(base, current);
    report
}

/// Each feature's baseline and current statistics side by side, for the HTML report: the
/// same for a profile read by `monitor` and one made elsewhere.
fn sides_of(base: &Baseline, current: &DatasetProfile) -> Vec<crate::output::report::Sides> {
    crate::output::report::sides(&base.statistics, &crate::judge::baseline::statistics(current))
}

/// A monitoring run against a SageMaker model-quality baseline folder: model quality only.
fn monitor_quality_only(
    opts: &JobOptions,
    base: &QualityBaseline,
    settings: &crate::quality::QualitySettings,
) -> Result<MonitorOutcome> {
    let s = scan_inputs(opts)?;
    let _guard = OutputGuard::new(&opts.output);
    let truth = ground_truth(opts)?;
    let out = crate::quality::run::run(settings, &opts.quality, &s.files, truth.as_deref(), &opts.output, None)?;
    let rows = out.prediction_rows;
    let q = crate::quality::run::report(settings.clone(), out, Some(base))?;
    let mut written = crate::output::quality::write_monitor(&opts.output, &q)?;
    let baseline = BaselineInfo {
        source: "sagemaker model quality".into(),
        dir: base.dir.display().to_string(),
        notes: vec!["a model-quality baseline: no data-quality statistics to compare".into()],
        rows: 0,
    };
    let current = InputSummary {
        files: s.files.len(),
        rows,
        resumed_files: 0,
        skipped: s.skipped.clone(),
        schema_differences: s.schema_differences,
        per_file: Vec::new(),
    };
    let verdict = Judgement {
        names: Vec::new(),
        features: Vec::new(),
        violations: Vec::new(),
        summary: Summary {
            dataset_drift: crate::output::report::DatasetDrift::of(0, 0, opts.dataset_drift_share),
            ..Summary::default()
        },
    };
    let mut report = MonitorReport::new(("cpu".into(), "cpu (model quality only)".into()), baseline, current, verdict);
    report.model_quality = Some(q);
    written.extend(export(
        &opts.output,
        crate::output::export::MONITOR_QUALITY_ONLY,
        &MonitorRun { report: &report, current: None },
    )?);
    let markdown = report::markdown::render(&report);
    Ok(MonitorOutcome { report, markdown, written, windows: Vec::new() })
}

/// Monitors the inputs against a baseline folder or, with time windows compared with one
/// another (`--reference previous`, `rolling:N`, `window:…`), without one: then the inputs are
/// read twice (first for the bin edges), and the constraints are those suggested from the
/// inputs themselves.
pub fn run_monitor(opts: &JobOptions, baseline_dir: Option<&std::path::Path>) -> Result<MonitorOutcome> {
    check_output(&opts.output, baseline_dir, Job::Run, opts.force)?;
    let qbase = baseline_dir.map(QualityBaseline::load).transpose()?.flatten();
    let quality = quality_flags(opts).resolve(qbase.as_ref())?;
    if let (Some(q), Some(settings)) = (qbase.as_ref().filter(|q| q.only), quality.as_ref()) {
        return monitor_quality_only(opts, q, settings);
    }
    let loaded = load_baseline(baseline_dir, opts.ks_alpha)?;
    let s = scan_inputs(opts)?;
    let windows = opts.windows.as_ref().map(|t| time_column(t, &s)).transpose()?;
    let (quality, mut estimation) = est::start(opts, baseline_dir, quality, windows.as_ref(), &s)?;
    // Captures scored or estimated need not hold the training table's columns (nor empty inputs).
    if let (Some(b), None, None, true) = (&loaded, &quality, &estimation, s.rows() > 0) {
        check_shared_columns(b, &s, opts.columns.as_deref())?;
    }
    let base_segments = super::segments::baseline_segments(opts.segments.as_ref(), loaded.as_ref(), baseline_dir, &s)?;
    let (mv, mv_note) = super::multivariate::for_monitor(baseline_dir, &s)?;
    let mmd = super::mmd::start(mv.as_ref(), windows.as_ref(), &s)?;
    require_baseline(loaded.as_ref(), windows.as_ref())?;
    let mut guard = OutputGuard::new(&opts.output);
    // Model quality is scored in the pass that profiles the inputs (the last one).
    let truth = if quality.is_some() { ground_truth(opts)? } else { None };
    let scoring = scoring(opts, quality.as_ref(), &s.files, truth.as_deref(), quality_window(windows.as_ref()))?;
    est::join_labels(opts, estimation.as_mut(), scoring.as_ref());
    // Attributions are summed in the same pass, per calendar window as model quality is.
    let joined = scoring.as_ref().zip(truth.as_deref());
    let clarify = ClarifyRuns::start(opts, baseline_dir, &s, quality_window(windows.as_ref()), joined)?;
    let taps = clarify.taps([
        scoring.as_ref().map(|t| t as _),
        estimation.as_ref().map(|e| &e.tap as _),
        mmd.as_ref().map(|m| &m.tap as _),
    ]);
    let columns = profiled_columns(opts, &s, clarify.attributions.as_ref().map(|a| &a.tap));
    let (backend_name, backend_note, outcome) =
        profile_inputs(opts, &s, columns, (loaded.as_ref(), windows.as_ref(), mv.as_ref()), &mut guard, taps.as_ref())?;
    let resumed = outcome.resumed;
    let (mut current, skipped, mut segments) = (outcome.profile, outcome.skipped, outcome.segments);
    let mut by_value = opts.segments.as_ref().map(|sg| super::segments::take(sg, &mut segments, Keep::Most(sg.max)));
    let mv_run = super::multivariate::judge_run(mv.as_ref(), &mut current, by_value.as_mut());
    strict_check(opts, &skipped)?;
    let files_ok = s.files.len() - skipped.len();
    if files_ok == 0 {
        return Err(no_input(&skipped));
    }
    let base = match loaded {
        Some(b) => b,
        None => the_inputs_themselves(opts, &current),
    };
    let time = windows.as_ref().map(|w| w.column.as_str());
    let mut verdict = judge_whole(opts, &base, &current, baseline_dir.is_some(), time);
    let names = std::mem::take(&mut verdict.names);
    let inputs =
        input_summary(files_ok, current.rows, (resumed, outcome.files), s.skipped.iter().cloned().chain(skipped));
    let baseline = baseline_info(&base, baseline_dir.is_some());
    let mut report = MonitorReport::new((backend_name, backend_note), baseline, inputs(s.schema_differences), verdict);
    report.sides = sides_of(&base, &current);
    super::multivariate::report(mv.as_ref(), mv_run, mv_note, &mut report);
    let mut written = Vec::new();
    // Scored and summed on the files profiled: those left out are left out here too.
    let good: Vec<ScannedFile> = s.files.iter().filter(|f| !left_out(&report, f)).cloned().collect();
    if let (Some(settings), Some(scoring)) = (quality.as_ref(), scoring) {
        let out = crate::quality::run::finish_pass(scoring, resumed, &good)?;
        report.model_quality = Some(monitor_quality(opts, settings.clone(), out, qbase.as_ref(), &mut written)?);
    }
    clarify.finish(opts, (resumed, &good), windows.as_ref(), (&mut report, &mut written))?;
    est::finish(opts, estimation.as_ref(), (resumed, &good), windows.as_ref(), (&mut report, &mut written))?;
    let mmd_windows = super::mmd::finish(opts, mmd.as_ref(), (resumed, &good), &mut report)?;
    let (window_results, points) = monitor_windows(
        opts,
        windows.as_ref(),
        (&base, &current, (mv.as_ref(), mmd.as_ref().map(|m| (m, &mmd_windows)))),
        &names,
        &segments,
        &mut report,
        &mut written,
    )?;
    let judged = (names.as_slice(), windows.as_ref());
    monitor_segments(opts, (&base, base_segments.as_ref()), judged, by_value.as_mut(), (&mut report, &mut written))?;
    if let Some(a) = &opts.alerts {
        report.alerts = Some(alert_run(a, &report, &window_results));
    }
    written.extend(crate::output::write_monitor_files(&opts.output, &report, &current)?);
    written.extend(write_metrics(opts, &report, &points)?);
    let markdown = report::markdown::render(&report);
    Ok(MonitorOutcome { report, markdown, written, windows: window_results })
}

/// The baseline folder read, its numeric features judged by the Kolmogorov–Smirnov test at
/// `ks_alpha` when given.
fn load_baseline(dir: Option<&std::path::Path>, ks_alpha: Option<f64>) -> Result<Option<Baseline>> {
    let mut loaded = dir.map(Baseline::load).transpose()?;
    if let (Some(b), Some(alpha)) = (loaded.as_mut(), ks_alpha) {
        b.use_ks(alpha);
    }
    Ok(loaded)
}

/// A baseline is required, unless windows are compared with one another.
fn require_baseline(loaded: Option<&Baseline>, windows: Option<&WindowOptions>) -> Result<()> {
    if loaded.is_none() && windows.is_none_or(|w| w.reference == WindowReference::Baseline) {
        return Err(crate::error::invalid(
            Opt::Baseline,
            "required, unless windows are compared with one another (reference previous, rolling:N or window:START..END)",
        ));
    }
    Ok(())
}

/// True when file `f` was left out of the run.
fn left_out(report: &MonitorReport, f: &ScannedFile) -> bool {
    report.current.skipped.iter().any(|k| k.path == f.path.display().to_string())
}

/// The metrics files asked for: a point per window (or one for the run), with the alerts'
/// counts.
fn write_metrics(
    opts: &JobOptions,
    report: &MonitorReport,
    points: &[crate::output::metrics::Point],
) -> Result<Vec<PathBuf>> {
    let Some(m) = &opts.metrics else { return Ok(Vec::new()) };
    let (windows, segments) = (report.windows.as_ref().map(|w| w.windows), report.segment_results.as_slice());
    crate::output::metrics::write(m, points, (windows, segments), report.alerts.as_ref(), false)
}

/// The alerts of a monitoring run: its windows in time order through a fresh debounce, with
/// the run's change points (a run without windows is one window, alerted at once), and each
/// segment's violations (at once), delivered to every sink.
fn alert_run(
    a: &crate::output::alert::AlertOptions,
    report: &MonitorReport,
    windows: &[WindowResult],
) -> crate::output::alert::Delivery {
    use crate::output::alert::{deliver, observe_windows, Debounce, Observed};
    let mut d = Debounce::default();
    let mut events = if windows.is_empty() {
        let obs = Observed { label: "the run", index: 0, features: &report.features, violations: &report.violations };
        d.observe(obs, 1, &report.changes, &a.run_folder)
    } else {
        observe_windows(&mut d, windows, 0, a.after, &report.changes, &a.run_folder)
    };
    // Each segment is judged once over the run: its violations alert at once, as a run's do.
    for r in report.segment_results.iter().filter(|r| !r.violations.is_empty()) {
        let label = format!("segment {}", r.segment);
        let obs = Observed { label: &label, index: 0, features: &r.features, violations: &r.violations };
        events.extend(Debounce::default().observe(obs, 1, &[], &a.run_folder));
    }
    deliver(a, &events)
}

/// What a run read, less the files' schema differences (given last).
fn input_summary(
    files: usize,
    rows: u64,
    (resumed_files, per_file): (usize, Vec<crate::engine::ledger::FileResult>),
    skipped: impl Iterator<Item = crate::source::scan::Skipped>,
) -> impl FnOnce(Vec<String>) -> InputSummary {
    let skipped = skipped.collect();
    move |schema_differences| InputSummary { files, rows, resumed_files, skipped, schema_differences, per_file }
}

/// A run's multivariate judges: the reconstruction model, and the kernel test with each
/// window's verdict.
type Joint<'a> = (
    Option<&'a crate::judge::multivariate::MultivariateBaseline>,
    Option<(&'a super::mmd::MmdRun, &'a std::collections::BTreeMap<i64, crate::judge::mmd::MmdVerdict>)>,
);

/// The windows of a monitoring run: each judged against its reference, their files and change
/// points written, the report's timeline, change points and window summary filled. Returns the
/// window results and the metrics' points, one per window (without windows, one for the run's
/// `current` profile).
fn monitor_windows(
    opts: &JobOptions,
    w: Option<&WindowOptions>,
    (base, current, (mv, mmd)): (&Baseline, &DatasetProfile, Joint),
    names: &[String],
    segments: &ProfileSet,
    report: &mut MonitorReport,
    written: &mut Vec<PathBuf>,
) -> Result<(Vec<WindowResult>, Vec<crate::output::metrics::Point>)> {
    let Some(w) = w else {
        let now = chrono::Utc::now().timestamp_millis();
        let mut run = crate::output::metrics::Point::of(now, &report.features, current, &report.violations);
        run.multivariate = report.multivariate.as_ref().map(|m| m.run.clone());
        run.mmd = report.mmd.as_ref().map(|m| m.run.clone());
        run.estimated = report.estimated_performance.as_ref().map(|e| est::point_values(&e.run)).unwrap_or_default();
        return Ok((Vec::new(), vec![run]));
    };
    check_timed(w, segments)?;
    // The time column moves from window to window by construction: it is not judged per
    // window (the whole run still judges it).
    let names: Vec<String> = names.iter().filter(|n| **n != w.column).cloned().collect();
    let mut window_results = timeline::evaluate(base, &names, segments, &w.window, w.reference)?;
    let mut mv_windows = Vec::new();
    if let Some(m) = mv {
        mv_windows = super::multivariate::judge_windows(&opts.output, m, segments, &mut window_results, written)?;
        if let Some(r) = report.multivariate.as_mut() {
            r.windows = Some(window_results.len());
            r.windows_with_drift = Some(mv_windows.iter().filter(|v| v.as_ref().is_some_and(|v| v.drift)).count());
        }
    }
    let (mmd_run, mmd_verdicts) = (mmd.map(|m| m.0), mmd.map(|m| m.1));
    let mmd_windows = match mmd_verdicts {
        Some(v) => super::mmd::judge_windows(&opts.output, mmd_run, v, &mut window_results, report, written)?,
        None => Vec::new(),
    };
    let estimated = est::join_windows(report, &mut window_results);
    let table = timeline::table(&window_results, segments)?;
    written.extend(crate::output::windows::write(
        &opts.output,
        &w.window,
        (&window_results, opts.window_files),
        &table,
    )?);
    let mut series = changepoint::profile_series(&names, &segments.windows().map(|w| w.1).collect::<Vec<_>>());
    series.extend(timeline::drift_series(&window_results));
    let (changes, unsearched) =
        find_changes(&names, &series, segments, w.changes, w.window.rows_per_window().is_some());
    let p = opts.output.join(CHANGEPOINTS);
    write_atomic(&p, &to_json(&changes))?;
    written.push(p);
    let points = window_results
        .iter()
        .enumerate()
        .map(|(i, r)| {
            // Windows of rows have no instant: their metrics are stamped now.
            let mut p = crate::output::metrics::Point::of(
                if r.of_rows { chrono::Utc::now().timestamp_millis() } else { r.end },
                &r.features,
                &segments.segments[&crate::engine::Segment::Window(r.start)],
                &r.violations,
            );
            p.multivariate = mv_windows.get(i).cloned().flatten();
            p.mmd = mmd_windows.get(i).cloned().flatten();
            p.estimated = estimated.get(i).cloned().unwrap_or_default();
            p
        })
        .collect();
    let mut summary = timeline::summary(w, segments, &window_results);
    summary.change_points = changes.len();
    summary.series_not_searched = unsearched;
    let mut timeline = crate::output::report::Timeline::of(&window_results, &changes);
    if let Some(m) = mv {
        timeline.features.push(super::multivariate::timeline(m, &mv_windows));
    }
    if let Some(run) = mmd_run {
        timeline.features.push(super::mmd::timeline(run, &mmd_windows));
    }
    timeline.features.extend(est::timeline(&estimated));
    report.timeline = Some(timeline);
    report.changes = changes;
    if let Some(q) = report.model_quality.as_mut().filter(|q| !q.outcome.windows.is_empty()) {
        q.drift_relevance =
            Some(crate::quality::run::drift_relevance(q.settings.problem_type, &q.outcome.windows, &window_results));
    }
    report.windows = Some(summary);
    Ok((window_results, points))
}

/// The segments of a monitoring run: each judged against its reference, their files written,
/// the report's segment summary and results filled.
fn monitor_segments(
    opts: &JobOptions,
    (base, base_segments): (&Baseline, Option<&crate::judge::segments::SegmentSet>),
    (names, windows): (&[String], Option<&WindowOptions>),
    set: Option<&mut crate::judge::segments::SegmentSet>,
    (report, written): (&mut MonitorReport, &mut Vec<PathBuf>),
) -> Result<()> {
    use crate::judge::segments::{evaluate, evaluate_windows, summary, table, windows_table, SegmentWindowsSummary};
    let (Some(sg), Some(set)) = (&opts.segments, set) else { return Ok(()) };
    let results = evaluate(base, base_segments, names, set, sg.reference)?;
    let t = table(&results, set)?;
    written.extend(crate::output::segments::write(&opts.output, &results, &t)?);
    let mut s = summary(sg, set, &results);
    if let Some(w) = windows.filter(|_| sg.per_window) {
        // As in each window of the run: the time column is not judged within a window.
        let names: Vec<String> = names.iter().filter(|n| **n != w.column).cloned().collect();
        let (pairs, profiles) = evaluate_windows(base, base_segments, &names, set, sg.reference)?;
        let t = windows_table(&pairs, &profiles, &w.window)?;
        written.extend(crate::output::export::export(&opts.output, crate::output::export::SEGMENTS_WINDOWS, &t)?);
        s.windows = Some(SegmentWindowsSummary::of(&pairs));
    }
    report.segments = Some(s);
    report.segment_results = results;
    Ok(())
}

/// What the report says of the baseline: its own account, or, without one (windows compared
/// with one another), that the inputs themselves are the reference.
fn baseline_info(base: &Baseline, given: bool) -> BaselineInfo {
    if given {
        return BaselineInfo::of(base);
    }
    BaselineInfo { source: "none".into(), dir: base.dir.display().to_string(), notes: base.notes.clone(), rows: 0 }
}

/// The windows model quality is scored by: calendar windows only (windows of rows have no
/// instant to key the joined rows by).
fn quality_window(windows: Option<&WindowOptions>) -> Option<(&str, crate::engine::window::Window)> {
    windows.filter(|w| w.window.rows_per_window().is_none()).map(|w| (w.column.as_str(), w.window))
}

/// The model quality of a monitoring run: the inputs' predictions as scored (against ground
/// truth or their own labels), per calendar window too, checked against the baseline's
/// constraints, and written.
fn monitor_quality(
    opts: &JobOptions,
    settings: QualitySettings,
    out: crate::quality::join::QualityOutcome,
    qbase: Option<&QualityBaseline>,
    written: &mut Vec<PathBuf>,
) -> Result<crate::quality::run::QualityReport> {
    if !out.windows.is_empty() {
        written.push(crate::output::quality::write_windows(&opts.output, &out.windows)?);
    }
    let q = crate::quality::run::report(settings, out, qbase)?;
    written.extend(crate::output::quality::write_monitor(&opts.output, &q)?);
    Ok(q)
}

/// The whole run's verdict: every feature judged against the baseline, or, without one (windows
/// compared with one another), every feature skipped with the reason. The time column that keys
/// the windows is the run's clock, not a column the baseline should have had: it is never an
/// extra column (training data rarely holds a capture time, and SageMaker's captures keep it out
/// of the data).
fn judge_whole(
    opts: &JobOptions,
    base: &Baseline,
    current: &DatasetProfile,
    has_baseline: bool,
    time: Option<&str>,
) -> Judgement {
    if has_baseline {
        let mut j = judge(base, current, opts.columns.as_deref(), opts.dataset_drift_share);
        if let Some(t) = time {
            j.violations.retain(|v| v.constraint_check_type != CheckType::ExtraColumnCheck || v.feature_name != t);
            j.summary.violations = j.violations.len();
        }
        return j;
    }
    let mut names = base.feature_names();
    if let Some(cols) = &opts.columns {
        names.retain(|n| cols.contains(n));
    }
    let why = "no baseline given: the windows are compared with one another (windows.csv)";
    let features: Vec<drift::FeatureDrift> = names.iter().map(|n| drift::FeatureDrift::skipped(n, why)).collect();
    let summary = summarize(&features, 0, opts.dataset_drift_share);
    Judgement { names, features, violations: Vec::new(), summary }
}

/// The inputs profiled for monitoring, keyed by window when asked, over the baseline's bin
/// edges, or without a baseline over the inputs' own quantiles (a first pass). Returns the
/// backend's name, why it ran, and the outcome.
fn profile_inputs(
    opts: &JobOptions,
    s: &Scan,
    columns: Option<Vec<String>>,
    (loaded, windows, mv): (
        Option<&Baseline>,
        Option<&WindowOptions>,
        Option<&crate::judge::multivariate::MultivariateBaseline>,
    ),
    guard: &mut OutputGuard,
    taps: Option<&crate::engine::Taps>,
) -> Result<(String, String, Outcome)> {
    let tap = taps.map(|t| t as &dyn crate::engine::Tap);
    let segment = windows.map_or(SegmentKey::Whole, |w| SegmentKey::Window {
        column: w.column.clone(),
        window: w.window,
        limit: w.limit,
    });
    let first = ProfilePlan { columns, ..Default::default() };
    let (backend, backend_note) = choose_backend(opts.backend, &s.files, &first)?;
    let edges = match loaded {
        Some(b) => b.edges(),
        None => {
            // Bin edges from the inputs' own quantiles: a first pass.
            let p =
                profile_pass(opts, guard, &s.files, &first, (backend.as_ref(), None), ("monitor-1", "monitor 1/2"))?;
            strict_check(opts, &p.skipped)?;
            baseline::plan_edges(&p.profile)
        }
    };
    let plan = ProfilePlan {
        edges: edges.into_iter().map(|(k, e)| (k, e.into())).collect(),
        segment,
        groups: super::segments::group_by(opts),
        derived: super::multivariate::reconstruction(mv),
        ..first
    };
    let label = if loaded.is_some() { "monitor" } else { "monitor 2/2" };
    let outcome = profile_pass(opts, guard, &s.files, &plan, (backend.as_ref(), tap), ("monitor", label))?;
    Ok((backend.name(), backend_note, outcome))
}

/// Where a Clarify monitor's baseline file is: the one `given`, else `within` the baseline
/// folder. `Err` says what is missing.
fn clarify_baseline(
    given: Option<&std::path::Path>,
    baseline_dir: Option<&std::path::Path>,
    within: &str,
) -> std::result::Result<PathBuf, String> {
    match (given, baseline_dir) {
        (Some(p), _) => Ok(p.to_path_buf()),
        (None, Some(d)) if d.join(within).is_file() => Ok(d.join(within)),
        (None, Some(d)) => Err(format!("{} has no {within}", d.display())),
        (None, None) => Err("no baseline folder was given".into()),
    }
}

/// Clarify's two monitors in a monitoring run, when asked for: feature attribution drift and
/// bias drift.
struct ClarifyRuns<'a> {
    attributions: Option<AttributionRun<'a>>,
    bias: Option<BiasRun>,
}

impl<'a> ClarifyRuns<'a> {
    fn start(
        opts: &'a JobOptions,
        baseline_dir: Option<&std::path::Path>,
        s: &Scan,
        window: Option<(&str, crate::engine::window::Window)>,
        joined: Option<(&crate::quality::join::Scoring, &[ScannedFile])>,
    ) -> Result<ClarifyRuns<'a>> {
        Ok(ClarifyRuns {
            attributions: AttributionRun::start(opts, baseline_dir, s, window)?,
            bias: BiasRun::start(opts, baseline_dir, s, window, joined)?,
        })
    }

    /// The pass's tap: `others` (model quality's scoring, performance estimation) and these
    /// runs'.
    fn taps<'t>(&'t self, others: [Option<&'t dyn crate::engine::Tap>; 3]) -> Option<crate::engine::Taps<'t>> {
        let [a, b, c] = others;
        joined_taps([a, b, c, self.attributions.as_ref().map(|t| &t.tap as _), self.bias.as_ref().map(|t| &t.tap as _)])
    }

    /// Each run judged, its files written, its part of the report filled.
    fn finish(
        &self,
        opts: &JobOptions,
        files: (usize, &[ScannedFile]),
        windows: Option<&WindowOptions>,
        (report, written): (&mut MonitorReport, &mut Vec<PathBuf>),
    ) -> Result<()> {
        if let Some(a) = &self.attributions {
            report.feature_attribution = Some(a.finish(opts, files, windows, written)?);
        }
        if let Some(b) = &self.bias {
            report.bias = Some(b.finish(opts, files, windows, written)?);
        }
        Ok(())
    }
}

/// Feature attribution drift in a monitoring run: the tap that sums the inputs' attributions, and
/// the baseline's attributions with where they came from.
struct AttributionRun<'a> {
    tap: crate::quality::attribution::Attributions,
    options: &'a crate::quality::attribution::AttributionOptions,
    source: String,
    /// The baseline's attributions of the label judged.
    base: crate::judge::attribution::Analysis,
}

impl<'a> AttributionRun<'a> {
    /// `None` without `--attributions`. The baseline's attributions: `--attribution-baseline`,
    /// else the baseline folder's `analysis.json`.
    fn start(
        opts: &'a JobOptions,
        baseline_dir: Option<&std::path::Path>,
        s: &Scan,
        window: Option<(&str, crate::engine::window::Window)>,
    ) -> Result<Option<AttributionRun<'a>>> {
        use crate::judge::attribution::{Analysis, ANALYSIS};
        let Some(a) = &opts.attributions else { return Ok(None) };
        let path = clarify_baseline(a.baseline.as_deref(), baseline_dir, ANALYSIS).map_err(|where_| {
            crate::error::invalid(
                Opt::Attributions,
                format!("no baseline attributions: {where_} (make one with a baseline that reads the attribution columns {}*, or name a Clarify analysis.json as the attribution baseline)", a.prefix),
            )
        })?;
        let analysis = Analysis::load(&path)?;
        let Some(values) = analysis.label(&a.label) else {
            let labels: Vec<&str> = analysis.labels().map(|l| l.0).collect();
            return Err(crate::error::invalid(
                Opt::Attributions,
                format!(
                    "{}: no label '{}' (it explains {}): name one of those as the attribution label",
                    path.display(),
                    a.label,
                    labels.join(", ")
                ),
            ));
        };
        let Some(tap) = attribution_tap(opts, s, window)? else { return Ok(None) };
        let base = Analysis::of(&a.label, values.clone());
        Ok(Some(AttributionRun { tap, options: a, source: path.display().to_string(), base }))
    }

    /// The run's global attributions and each calendar window's judged against the baseline's,
    /// Clarify's files written into `written`.
    fn finish(
        &self,
        opts: &JobOptions,
        (resumed, good): (usize, &[ScannedFile]),
        windows: Option<&WindowOptions>,
        written: &mut Vec<PathBuf>,
    ) -> Result<crate::judge::attribution::AttributionReport> {
        use crate::judge::attribution::{judge, Analysis, AttributionReport, Violations};
        reread_tap(opts, &self.tap, resumed, good)?;
        let globals = self.tap.finish()?;
        let (label, threshold) = (&self.options.label, self.options.threshold);
        let current = Analysis::of(label, globals.whole.clone());
        let (labels, violations) = judge(&self.base, &current, threshold);
        let window = quality_window(windows).map(|w| w.1);
        let per_window: Vec<crate::output::explainability::WindowVerdicts> = match window {
            Some(w) => globals
                .windows
                .iter()
                .map(|(start, g)| {
                    (*start, w.end(*start), judge(&self.base, &Analysis::of(label, g.clone()), threshold).0)
                })
                .collect(),
            None => Vec::new(),
        };
        let drifted = per_window.iter().filter(|w| w.2.iter().any(|v| v.status == drift::Verdict::Drift)).count();
        let file = Violations::of(violations.clone());
        written.extend(crate::output::explainability::write(&opts.output, &current, &file, &per_window)?);
        Ok(AttributionReport {
            baseline: self.source.clone(),
            labels,
            violations,
            windows: window.map(|_| per_window.len()),
            windows_with_drift: window.map(|_| drifted),
        })
    }
}

/// Bias drift in a monitoring run: the tap that counts each facet split, and the baseline's
/// metrics with where they came from.
struct BiasRun {
    tap: crate::quality::bias::BiasTap,
    source: String,
    base: crate::judge::bias::BiasAnalysis,
    /// The baseline's standard errors (`bias/noise.json` beside its analysis), when known.
    base_noise: Option<crate::judge::bias::Noise>,
}

impl BiasRun {
    /// `None` without `--bias-config`. The baseline's metrics: `--bias-baseline`, else the
    /// baseline folder's `bias/analysis.json`.
    fn start(
        opts: &JobOptions,
        baseline_dir: Option<&std::path::Path>,
        s: &Scan,
        window: Option<(&str, crate::engine::window::Window)>,
        joined: Option<(&crate::quality::join::Scoring, &[ScannedFile])>,
    ) -> Result<Option<BiasRun>> {
        let Some(b) = &opts.bias else { return Ok(None) };
        let within = format!("{}/{}", crate::output::bias::FOLDER, crate::judge::attribution::ANALYSIS);
        let path = clarify_baseline(b.baseline.as_deref(), baseline_dir, &within).map_err(|where_| {
            crate::error::invalid(
                Opt::BiasConfig,
                format!("no baseline bias metrics: {where_} (make one with a baseline run given the same configuration, or name a Clarify bias analysis.json as the bias baseline)"),
            )
        })?;
        let text = std::fs::read_to_string(&path).map_err(|e| crate::Error::input(&path, crate::error::one_line(e)))?;
        let base: crate::judge::bias::BiasAnalysis = serde_json::from_str(&text).map_err(|e| {
            crate::Error::input(&path, format!("not a Clarify bias analysis.json: {}", crate::error::one_line(e)))
        })?;
        if base.entries().next().is_none() {
            return Err(crate::Error::input(
                &path,
                "holds no bias metrics (pre_training_bias_metrics, post_training_bias_metrics)",
            ));
        }
        let noise_path = path.with_file_name(crate::output::bias::NOISE);
        let base_noise = match std::fs::read_to_string(&noise_path) {
            Ok(text) => Some(
                serde_json::from_str::<crate::judge::bias::BaselineNoise>(&text)
                    .map_err(|e| {
                        crate::Error::input(
                            &noise_path,
                            format!("not a baseline's bias noise.json: {}", crate::error::one_line(e)),
                        )
                    })?
                    .noise(),
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(crate::Error::input(&noise_path, crate::error::one_line(e))),
        };
        let Some(tap) = bias_tap(opts, s, window, joined)? else { return Ok(None) };
        Ok(Some(BiasRun { tap, source: path.display().to_string(), base, base_noise }))
    }

    /// The run's metrics and each calendar window's judged against the baseline's, Clarify's
    /// files written into `written`.
    fn finish(
        &self,
        opts: &JobOptions,
        (resumed, good): (usize, &[ScannedFile]),
        windows: Option<&WindowOptions>,
        written: &mut Vec<PathBuf>,
    ) -> Result<crate::judge::bias::BiasReport> {
        use crate::judge::bias::{drift_violations, noise_allowance, NOISE_SIGMAS};
        reread_tap(opts, &self.tap, resumed, good)?;
        let counts = self.tap.finish()?;
        let plan = self.tap.plan();
        let noise_rule = opts.bias.as_ref().is_some_and(|b| b.rule == crate::jobs::BiasRule::Noise);
        // Each split's metrics, their noise (under the noise-aware rule), and the violations.
        let judge = |cells: &[crate::quality::bias::Cells]| {
            let a = crate::quality::bias::analysis(plan, cells);
            let noise = if noise_rule { crate::quality::bias::noise(plan, cells) } else { Default::default() };
            let allowance = |f: &str, v: &str, m: &str| {
                let key = (f.to_string(), v.to_string(), m.to_string());
                noise_allowance(noise.get(&key).copied(), self.base_noise.as_ref().and_then(|b| b.get(&key).copied()))
            };
            let v = drift_violations(&self.base, &a, &allowance);
            (a, v, noise)
        };
        let (current, violations, _) = judge(&counts.whole);
        let window = quality_window(windows).map(|w| w.1);
        let per_window: Vec<crate::output::bias::WindowBias> = match window {
            Some(w) => counts
                .windows
                .iter()
                .map(|(start, c)| {
                    let (a, v, noise) = judge(c);
                    (*start, w.end(*start), a, v, noise)
                })
                .collect(),
            None => Vec::new(),
        };
        let drifted = per_window.iter().filter(|w| !w.3.is_empty()).count();
        written.extend(crate::output::bias::write(&opts.output, &current, &violations, &per_window)?);
        Ok(crate::judge::bias::BiasReport {
            baseline: self.source.clone(),
            rule: match (noise_rule, &self.base_noise) {
                (false, _) => "clarify".into(),
                (true, None) => format!("noise ({NOISE_SIGMAS} standard errors of the current value)"),
                (true, Some(_)) => {
                    format!("noise ({NOISE_SIGMAS} standard errors of the difference from the baseline value)")
                }
            },
            current,
            violations,
            windows: window.map(|_| per_window.len()),
            windows_with_drift: window.map(|_| drifted),
            spilled_partitions: self.tap.spilled().then_some(crate::quality::join::SPILL_PARTITIONS),
        })
    }
}

/// Without a baseline, the reference of the windows' settings: the inputs' own profile.
fn the_inputs_themselves(opts: &JobOptions, current: &DatasetProfile) -> Baseline {
    let mut b = Baseline::from_profile(current.clone(), "the inputs themselves");
    if let Some(alpha) = opts.ks_alpha {
        b.use_ks(alpha);
    }
    b
}

/// Refuses a baseline that shares no column, or fewer than half of its columns (of the
/// projection, when given), with the inputs: a run would report a violation per missing column
/// where the likely mistake is the baseline itself. Not asked of runs with model quality, whose
/// captures may be laid out otherwise than the training table.
fn check_shared_columns(base: &Baseline, s: &Scan, columns: Option<&[String]>) -> Result<()> {
    let mut features = base.feature_names();
    if let Some(cols) = columns {
        features.retain(|n| cols.contains(n));
    }
    let present = |f: &String| s.columns.iter().any(|c| crate::source::decode::names_root(f, &c.name));
    let shared = features.iter().filter(|f| present(f)).count();
    if features.is_empty() || 2 * shared >= features.len() {
        return Ok(());
    }
    let missing: Vec<&str> = features.iter().filter(|f| !present(f)).take(5).map(String::as_str).collect();
    Err(crate::error::invalid(
        Opt::Baseline,
        format!(
            "{}: the inputs hold {shared} of its {} columns (missing: {}{}): is this the right baseline?",
            base.dir.display(),
            features.len(),
            missing.join(", "),
            if features.len() - shared > missing.len() { ", …" } else { "" }
        ),
    ))
}
