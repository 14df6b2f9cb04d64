//! The jobs, end to end: [`baseline`], [`monitor`], [`changepoints`], [`calibrate`], [`watch`]
//! and [`mod@bench`], over one [`JobOptions`].
//!
//! Each scans the inputs, profiles them on the chosen backend ([`crate::engine::auto`]), judges
//! them, and writes its outputs atomically into the output folder, which
//! [`crate::output::folder::check_output`] guards. Unreadable inputs are skipped and reported
//! (or, with `strict`, stop the job); the caller turns the outcome into an exit code. This is
//! the top floor: it imports every stage, and nothing imports it.

pub mod baseline;
#[cfg(feature = "parquet")]
pub mod bench;
pub mod calibrate;
pub mod changepoints;
pub mod estimation;
mod mmd;
pub mod monitor;
pub mod multivariate;
mod segments;
pub mod watch;

pub use crate::output::metrics::MetricsOptions;
pub use crate::time::changepoint::CHANGEPOINTS;
pub use baseline::{run_baseline, BaselineOutcome};
pub use calibrate::{run_calibrate, CalibrateOutcome};
pub use changepoints::{run_changepoints, ChangepointsOutcome};
pub use monitor::{report_for_profile, run_monitor, MonitorOutcome};

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::backend::Backend;
use crate::backend::BackendChoice;
use crate::engine::auto::choose_backend;
use crate::engine::progress::Progress;
use crate::engine::window::{self, Window};
use crate::engine::SegmentKey;
use crate::engine::{profile_files, Checkpoint, Outcome, ProfilePlan, Request};
use crate::error::{invalid, Error, Opt, Result};
use crate::output::folder::OutputGuard;
use crate::profile::Role;
use crate::quality::run::QualityFlags;
use crate::source::scan::{scan_with, Scan, ScanOptions, ScannedFile, Skipped};
use crate::time::timeline::{WindowOptions, WindowReference};

/// Options shared by the jobs (validated from the CLI flags).
#[derive(Debug, Clone)]
pub struct JobOptions {
    /// Input paths, folders or globs.
    pub inputs: Vec<String>,
    /// Output folder.
    pub output: PathBuf,
    /// Column projection.
    pub columns: Option<Vec<String>>,
    /// Backend choice.
    pub backend: BackendChoice,
    /// Show a progress bar (only drawn when stderr is a terminal).
    pub progress: bool,
    /// Stop at the first unreadable input.
    pub strict: bool,
    /// Continue an interrupted run from its checkpoint in the output folder.
    pub resume: bool,
    /// Write into the output folder even when it is the baseline folder or holds what the job
    /// would overwrite (see [`crate::output::folder::check_output`]).
    pub force: bool,
    /// Key rows by time window (`monitor` only).
    pub windows: Option<TimeOptions>,
    /// Metrics files to write (`monitor` only).
    pub metrics: Option<MetricsOptions>,
    /// Share of drifted features at or above which the dataset has drifted (`monitor`).
    pub dataset_drift_share: f64,
    /// Judge numeric drift by the two-sample KS test at this significance level (`monitor`).
    pub ks_alpha: Option<f64>,
    /// Model quality: problem type, columns, ground truth.
    pub quality: QualityFlags,
    /// The delimiter of every CSV input (and ground-truth file); `None`: sniffed per file.
    pub delimiter: Option<u8>,
    /// Alerts: where, and how they are debounced.
    pub alerts: Option<crate::output::alert::AlertOptions>,
    /// Feature attributions read from the inputs (`baseline`, `monitor`).
    pub attributions: Option<crate::quality::attribution::AttributionOptions>,
    /// Bias metrics (`baseline`, `monitor`): Clarify's analysis configuration, and for `monitor`
    /// a Clarify bias `analysis.json` to judge against instead of the baseline folder's.
    pub bias: Option<BiasOptions>,
    /// Segments by value (`baseline`, `monitor`): the columns, the most kept, the reference.
    pub segments: Option<crate::judge::segments::SegmentOptions>,
    /// Multivariate drift (`baseline`): fit the PCA reconstruction model.
    pub multivariate: Option<MultivariateOptions>,
    /// Performance estimation without labels (`baseline`): fit the calibration and ranges;
    /// the rows per baseline chunk (default: a tenth of the labelled rows).
    pub estimation: Option<EstimationOptions>,
    /// Which windows of `monitor` get their own `constraint_violations.json` folder.
    pub window_files: crate::output::windows::WindowFiles,
}

/// Performance estimation in a baseline: the chunks its normal ranges come from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EstimationOptions {
    /// Rows per chunk of the baseline (default: a tenth of its labelled rows, as NannyML's ten
    /// chunks).
    pub chunk_rows: Option<u64>,
}

/// Multivariate drift in a baseline: which features, and the chunks its range comes from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MultivariateOptions {
    /// The features (default: every numeric feature).
    pub columns: Option<Vec<String>>,
    /// Rows per chunk of the baseline (default: a tenth of its rows, as NannyML's ten chunks).
    pub chunk_rows: Option<u64>,
    /// The kernel two-sample test (MMD) too, with this many random features.
    pub mmd: Option<usize>,
}

/// Bias metrics: the configuration and, for `monitor`, where the baseline's metrics are and
/// the rule they are held to.
#[derive(Debug, Clone, PartialEq)]
pub struct BiasOptions {
    /// Clarify's analysis configuration JSON.
    pub config: PathBuf,
    /// A Clarify bias `analysis.json` (default: the baseline folder's `bias/analysis.json`).
    pub baseline: Option<PathBuf>,
    /// When a metric violates.
    pub rule: BiasRule,
}

/// When a bias metric violates its baseline value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BiasRule {
    /// Farther from zero than the baseline's value by more than
    /// [`crate::judge::bias::NOISE_SIGMAS`] standard errors of its current estimate (the
    /// default: a violation is a change beyond sampling noise).
    #[default]
    Noise,
    /// Farther from zero than the baseline's value at all, as Clarify judges.
    Clarify,
}

/// The default share of drifted features that makes a dataset drift (as Evidently's default).
pub const DATASET_DRIFT_SHARE: f64 = 0.5;

impl JobOptions {
    /// A job over `inputs` writing to `output` with the defaults: every column, the CPU
    /// backend, no progress bar, strict, no windows or metrics.
    pub fn new(inputs: Vec<String>, output: PathBuf) -> JobOptions {
        JobOptions {
            inputs,
            output,
            columns: None,
            backend: BackendChoice::Cpu,
            progress: false,
            strict: true,
            resume: false,
            force: false,
            windows: None,
            metrics: None,
            dataset_drift_share: DATASET_DRIFT_SHARE,
            ks_alpha: None,
            quality: QualityFlags::default(),
            delimiter: None,
            alerts: None,
            attributions: None,
            bias: None,
            segments: None,
            multivariate: None,
            estimation: None,
            window_files: Default::default(),
        }
    }
}

/// How `monitor` keys rows by time, as asked: the column may be left to find.
#[derive(Debug, Clone)]
pub struct TimeOptions {
    /// The time column; `None`: a SageMaker capture's `inferenceTime`.
    pub column: Option<String>,
    /// The window length.
    pub window: Window,
    /// Most windows the run may hold.
    pub limit: usize,
    /// What each window is compared with.
    pub reference: WindowReference,
    /// How change points are searched in the windows' series.
    pub changes: crate::time::changepoint::Search,
}

/// True when a file of the scan holds column `name` (struct fields flattened, `parent.child`).
fn holds_column(s: &Scan, name: &str) -> bool {
    s.files.iter().any(|f| crate::engine::flat_schema(f.schema()).column_with_name(name).is_some())
}

/// The line that lists the files left out as plainly not data, the first five by name.
fn ignored_line(ignored: &[PathBuf]) -> Option<String> {
    if ignored.is_empty() {
        return None;
    }
    let mut names: Vec<String> = ignored.iter().take(5).map(|p| p.display().to_string()).collect();
    if ignored.len() > 5 {
        names.push(format!("and {} more", ignored.len() - 5));
    }
    Some(format!("ignored {} files that are not data: {}", ignored.len(), names.join(", ")))
}

/// The error of a job none of whose inputs could be read: each input and why.
fn no_input(skipped: &[Skipped]) -> Error {
    Error::NoInput(skipped.iter().map(|k| format!("{}: {}", k.path, k.error)).collect::<Vec<_>>().join("; "))
}

/// How a job reads its inputs and ground truth: identifiers as plain strings, CSV with the
/// delimiter asked for.
fn read_as(delimiter: Option<u8>) -> ScanOptions<'static> {
    ScanOptions { plain: &Role::is_identifier_name, delimiter }
}

fn scan_inputs(opts: &JobOptions) -> Result<Scan> {
    let s = scan_with(&opts.inputs, &read_as(opts.delimiter));
    for w in &s.warnings {
        eprintln!("warning: {w}");
    }
    if let Some(line) = ignored_line(&s.ignored) {
        eprintln!("warning: {line}");
    }
    if opts.strict {
        if let Some(sk) = s.skipped.first() {
            return Err(Error::input(&sk.path, sk.error.clone()));
        }
    }
    if s.files.is_empty() {
        return Err(if s.skipped.is_empty() { Error::NoInput("no input given".into()) } else { no_input(&s.skipped) });
    }
    if let Some(cols) = &opts.columns {
        for c in cols {
            if !s.columns.iter().any(|u| crate::source::decode::names_root(c, &u.name)) {
                let names: Vec<&str> = s.columns.iter().map(|u| u.name.as_str()).collect();
                return Err(invalid(
                    Opt::Columns,
                    format!("no column named '{c}' in any input{}", did_you_mean(c, &names)),
                ));
            }
        }
    }
    Ok(s)
}

/// The `--ground-truth` inputs, scanned; `None` when there are none.
fn ground_truth(opts: &JobOptions) -> Result<Option<Vec<ScannedFile>>> {
    if opts.quality.ground_truth.is_empty() {
        return Ok(None);
    }
    let s = scan_with(&opts.quality.ground_truth, &read_as(opts.delimiter));
    for w in &s.warnings {
        eprintln!("warning: {w}");
    }
    if let Some(sk) = s.skipped.first() {
        return Err(invalid(Opt::GroundTruth, format!("{}: {}", sk.path, sk.error)));
    }
    if s.files.is_empty() {
        return Err(invalid(Opt::GroundTruth, "no file"));
    }
    Ok(Some(s.files))
}

/// Model quality's scoring, fed by a job's pass over `files`, when `settings` ask for it:
/// `truth` holds the scanned ground truth, `window` the calendar windows to score by.
fn scoring<'a>(
    opts: &'a JobOptions,
    settings: Option<&'a crate::quality::QualitySettings>,
    files: &'a [ScannedFile],
    truth: Option<&'a [ScannedFile]>,
    window: Option<(&'a str, window::Window)>,
) -> Result<Option<crate::quality::join::Scoring<'a>>> {
    let Some(settings) = settings else { return Ok(None) };
    let req = crate::quality::run::request(settings, &opts.quality, files, truth, &opts.output, window);
    crate::quality::join::Scoring::start(req).map(Some)
}

/// The attribution tap of a job that asked for one (`--attributions`), keyed by `window`'s
/// calendar windows when given.
fn attribution_tap(
    opts: &JobOptions,
    s: &Scan,
    window: Option<(&str, window::Window)>,
) -> Result<Option<crate::quality::attribution::Attributions>> {
    let Some(a) = &opts.attributions else { return Ok(None) };
    crate::quality::attribution::Attributions::new(&a.prefix, s, window).map(Some)
}

/// The columns a job profiles: those asked for (every column when none were), less the
/// attribution columns, which only their tap reads.
fn profiled_columns(
    opts: &JobOptions,
    s: &Scan,
    attributions: Option<&crate::quality::attribution::Attributions>,
) -> Option<Vec<String>> {
    let Some(a) = attributions else { return opts.columns.clone() };
    let skip = a.column_names();
    let all = opts.columns.clone().unwrap_or_else(|| s.columns.iter().map(|c| c.name.clone()).collect());
    Some(all.into_iter().filter(|c| !skip.contains(c)).collect())
}

/// The tap of a pass that feeds any of model quality, attributions and bias metrics.
fn joined_taps<'a, const N: usize>(taps: [Option<&'a dyn crate::engine::Tap>; N]) -> Option<crate::engine::Taps<'a>> {
    let taps: Vec<&dyn crate::engine::Tap> = taps.into_iter().flatten().collect();
    (!taps.is_empty()).then_some(crate::engine::Taps(taps))
}

/// The bias tap of a job that asked for bias metrics (`--bias-config`), keyed by `window`'s
/// calendar windows when given. With late labels, the ground truth is `joined`'s when model
/// quality scanned it (and its labels are shared when it joins the same label column), else
/// scanned and read here.
fn bias_tap(
    opts: &JobOptions,
    s: &Scan,
    window: Option<(&str, window::Window)>,
    joined: Option<(&crate::quality::join::Scoring, &[ScannedFile])>,
) -> Result<Option<crate::quality::bias::BiasTap>> {
    let Some(b) = &opts.bias else { return Ok(None) };
    let scanned;
    let truth = match joined {
        Some((_, t)) => Some(t),
        None => {
            scanned = ground_truth(opts)?;
            scanned.as_deref()
        }
    };
    let plan = crate::quality::bias::BiasPlan::load(&b.config, s, truth)?;
    let labels = match truth {
        Some(t) => {
            let side = crate::quality::bias::SPILL_SIDE;
            let labels = match joined.and_then(|(scoring, _)| scoring.late_labels(&plan.label.0, side)) {
                Some(shared) => shared,
                None => crate::quality::join::late_labels(
                    t,
                    &plan.label.0,
                    opts.quality.id_column.as_deref(),
                    opts.quality.join_memory.unwrap_or(crate::quality::join::DEFAULT_JOIN_MEMORY),
                    &opts.output,
                    side,
                )?,
            };
            Some(crate::quality::join::LateJoin::new(labels, opts.quality.id_column.clone()))
        }
        None => None,
    };
    Ok(Some(crate::quality::bias::BiasTap::new(plan, window, labels)))
}

/// The model-quality flags: all of them, unless bias metrics are asked for and only the join's
/// flags (ground truth, id column, join memory) were given: then the join feeds the bias
/// metrics alone, and model quality is not asked for.
fn quality_flags(opts: &JobOptions) -> crate::quality::run::QualityFlags {
    let f = &opts.quality;
    let own = f.problem_type.is_some()
        || f.label.is_some()
        || f.prediction.is_some()
        || f.probability.is_some()
        || f.threshold.is_some()
        || f.positive_label.is_some();
    if opts.bias.is_some() && !own {
        crate::quality::run::QualityFlags { ground_truth: Vec::new(), id_column: None, join_memory: None, ..f.clone() }
    } else {
        f.clone()
    }
}

/// Feeds `tap` alone from the `kept` files when the pass did not see them all (`resumed` files
/// came from a checkpoint), after it forgets what the pass fed it. No column is profiled then,
/// so the CPU backend serves whatever backend the pass ran on.
fn reread_tap(opts: &JobOptions, tap: &dyn crate::engine::Tap, resumed: usize, kept: &[ScannedFile]) -> Result<()> {
    if resumed == 0 {
        return Ok(());
    }
    tap.reset();
    let plan = ProfilePlan { columns: Some(Vec::new()), ..Default::default() };
    let pb = Progress::rows(opts.progress, kept.iter().map(|f| f.rows).sum(), "reading again");
    let req = Request { plan: &plan, backend: &crate::backend::cpu::CpuBackend, progress: &pb, tap: Some(tap) };
    let out = profile_files(kept, &req, None)?;
    pb.finish();
    match out.skipped.first() {
        Some(sk) => Err(Error::input(&sk.path, sk.error.clone())),
        None => Ok(()),
    }
}

/// One pass over `files`: a progress bar labelled `label`, a checkpoint named `pass` that the
/// output guard removes with the run's other temporary files, and the files profiled, each
/// batch fed to `tap` too (model quality) when there is one.
fn profile_pass(
    opts: &JobOptions,
    guard: &mut OutputGuard,
    files: &[ScannedFile],
    plan: &ProfilePlan,
    (backend, tap): (&dyn Backend, Option<&dyn crate::engine::Tap>),
    (pass, label): (&str, &str),
) -> Result<Outcome> {
    let pb = Progress::rows(opts.progress, files.iter().map(|f| f.rows).sum(), label);
    let req = Request { plan, backend, progress: &pb, tap };
    let cp = checkpoint(opts, pass, plan);
    guard.track(&cp);
    let outcome = profile_files(files, &req, Some(&cp));
    pb.finish();
    outcome
}

/// A checkpoint in the output folder for one pass of a job, keyed by what the pass computes.
fn checkpoint(opts: &JobOptions, pass: &str, plan: &ProfilePlan) -> Checkpoint {
    let edges: Vec<String> = plan.edges.iter().map(|(k, e)| format!("{k}:{e:?}")).collect();
    // The version too: another build's partial profiles may not fold the same way.
    let text = format!(
        "{}|{pass}|{:?}|{}|{:?}|{}",
        env!("CARGO_PKG_VERSION"),
        plan.columns,
        plan.histogram_only,
        plan.segment,
        edges.join("|")
    );
    let h = crate::codec::fnv1a64(text.as_bytes());
    Checkpoint {
        path: opts.output.join(format!(".driftscope-checkpoint-{pass}.json")),
        resume: opts.resume,
        key: format!("{h:016x}"),
        save: crate::output::write_atomic_with,
    }
}

fn strict_check(opts: &JobOptions, skipped: &[Skipped]) -> Result<()> {
    match skipped.first() {
        Some(sk) if opts.strict => Err(Error::input(&sk.path, sk.error.clone())),
        _ => Ok(()),
    }
}

/// An error when rows were keyed by time and none of them held one.
fn check_timed(w: &WindowOptions, segments: &crate::engine::ProfileSet) -> Result<u64> {
    let untimed = segments.segments.get(&crate::engine::Segment::Untimed).map_or(0, |p| p.rows);
    if segments.windows().next().is_none() && untimed > 0 {
        return Err(invalid(
            Opt::TimeColumn,
            format!(
                "'{}': none of the {untimed} rows holds a time (a timestamp, a date, an epoch number or ISO 8601 text)",
                w.column
            ),
        ));
    }
    Ok(untimed)
}

/// One pass over the inputs keyed by time window, for the jobs that need only the windows
/// (the whole run just counts rows): the windows asked for, the outcome, and the backend's note.
fn windows_pass(
    opts: &JobOptions,
    s: &Scan,
    edges: BTreeMap<String, Vec<f64>>,
    pass: &str,
) -> Result<(WindowOptions, Outcome, String)> {
    let t = opts.windows.as_ref().ok_or_else(|| invalid(Opt::Window, format!("{pass} needs one")))?;
    let w = time_column(t, s)?;
    let plan = ProfilePlan {
        columns: opts.columns.clone(),
        edges: edges.into_iter().map(|(k, e)| (k, e.into())).collect(),
        histogram_only: true,
        segment: SegmentKey::Window { column: w.column.clone(), window: w.window, limit: w.limit },
        ..Default::default()
    };
    let (backend, backend_note) = choose_backend(opts.backend, &s.files, &plan)?;
    let mut guard = OutputGuard::new(&opts.output);
    let outcome = profile_pass(opts, &mut guard, &s.files, &plan, (backend.as_ref(), None), (pass, pass))?;
    strict_check(opts, &outcome.skipped)?;
    if outcome.skipped.len() == s.files.len() {
        return Err(no_input(&outcome.skipped));
    }
    check_timed(&w, &outcome.segments)?;
    Ok((w, outcome, backend_note))
}

/// The names among `names` closest to a mistyped `wanted` (at most three, by Jaro–Winkler
/// similarity, case ignored, those a reader would take for a slip of the keyboard), as
/// "; did you mean 'a' or 'b'?", or nothing.
fn did_you_mean(wanted: &str, names: &[&str]) -> String {
    let w = wanted.to_lowercase();
    let mut close: Vec<(f64, &str)> = names
        .iter()
        .map(|n| (strsim::jaro_winkler(&w, &n.to_lowercase()), *n))
        .filter(|(score, n)| *score >= 0.85 || n.to_lowercase().contains(&w) || w.contains(&n.to_lowercase()))
        .collect();
    close.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    close.dedup_by(|a, b| a.1 == b.1);
    let quoted: Vec<String> = close.iter().take(3).map(|(_, n)| format!("'{n}'")).collect();
    match quoted.len() {
        0 => String::new(),
        1 => format!("; did you mean {}?", quoted[0]),
        _ => format!("; did you mean {} or {}?", quoted[..quoted.len() - 1].join(", "), quoted[quoted.len() - 1]),
    }
}

/// Names of the time column of SageMaker's data captures, flattened.
const CAPTURE_TIME: [&str; 2] = ["inferenceTime", "eventMetadata.inferenceTime"];

/// The time column of a windowed run: the one asked for, which must be in the inputs, or a
/// capture's `inferenceTime`.
fn time_column(t: &TimeOptions, s: &Scan) -> Result<WindowOptions> {
    let flat: Vec<(String, arrow_schema::DataType)> = s
        .files
        .iter()
        .flat_map(|f| {
            let schema = crate::engine::flat_schema(f.schema());
            schema.fields().iter().map(|x| (x.name().clone(), x.data_type().clone())).collect::<Vec<_>>()
        })
        .collect();
    let wrong = flat.iter().find(|(c, ty)| Some(c) == t.column.as_ref() && !window::is_time_type(ty));
    if let Some((c, ty)) = wrong {
        return Err(invalid(
            Opt::TimeColumn,
            format!("'{c}' is {ty}: expected a timestamp, a date, an epoch number or ISO 8601 text"),
        ));
    }
    let column = match &t.column {
        Some(c) if c == crate::engine::PARTITION_TIME => {
            if !s.files.iter().any(|f| crate::source::scan::partition_time(&f.partitions).is_some()) {
                return Err(invalid(
                    Opt::TimeFromPartitions,
                    "no input is in a hive partition naming a date (dt=2026-11-28/hour=14, or year=/month=/day=)",
                ));
            }
            c.clone()
        }
        Some(c) if flat.iter().any(|(f, _)| f == c) => c.clone(),
        Some(c) => {
            let names: Vec<&str> = flat.iter().map(|(n, _)| n.as_str()).collect();
            return Err(invalid(
                Opt::TimeColumn,
                format!("no column named '{c}' in any input{}", did_you_mean(c, &names)),
            ));
        }
        None => match CAPTURE_TIME.iter().find(|n| flat.iter().any(|(f, _)| f == *n)) {
            Some(n) => n.to_string(),
            // Windows of rows without a time follow the inputs' order.
            None if t.window.rows_per_window().is_some() => crate::engine::INPUT_ORDER.to_string(),
            None => return Err(invalid(Opt::TimeColumn, "needed for windows: the inputs have no inferenceTime")),
        },
    };
    if t.window.rows_per_window().is_some() && matches!(t.reference, WindowReference::Range { .. }) {
        return Err(invalid(
            Opt::Reference,
            "window:START..END needs calendar windows; with windows of rows use previous or rolling:N",
        ));
    }
    Ok(WindowOptions { column, window: t.window, limit: t.limit, reference: t.reference, changes: t.changes })
}
