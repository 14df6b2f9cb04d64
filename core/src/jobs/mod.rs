//! The two jobs, end to end: `baseline` and `monitor`.
//!
//! Both scan the inputs, profile them on the chosen backend, and write their outputs atomically
//! into the output folder. Unreadable inputs are skipped and reported (or, with `strict`, stop
//! the job); the caller turns the outcome into an exit code.

#[cfg(feature = "parquet")]
pub mod bench;
pub mod watch;

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::engine::progress::Progress;

use crate::backend::Backend;
use crate::backend::{self, BackendChoice};
use crate::engine::window::{self, Window};
use crate::engine::SegmentKey;
use crate::engine::{profile_files, Checkpoint, Outcome, ProfilePlan, Request};
use crate::error::{Error, Result};
use crate::judge::baseline::{self, Baseline};
use crate::judge::drift::{self, Verdict};
use crate::judge::sagemaker::CheckType;
use crate::output::report::{self, InputSummary, MonitorReport, Summary};
use crate::output::{to_json, write_atomic};
use crate::profile::{DatasetProfile, Role};
use crate::quality::join::QualityOutcome;
use crate::quality::run::{QualityBaseline, QualityFlags};
use crate::source::scan::{scan, Scan, ScannedFile, Skipped};
use crate::time::changepoint::{self, ChangePoint, Method as ChangeMethod};
use crate::time::timeline::{self, WindowOptions, WindowReference, WindowResult};

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
    /// would overwrite (see [`check_output`]).
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
        }
    }
}

/// Metrics files a monitoring run writes, and how they are labelled.
#[derive(Debug, Clone)]
pub struct MetricsOptions {
    /// CloudWatch Embedded Metric Format, JSON Lines: a record per window (or for the run).
    pub emf: Option<PathBuf>,
    /// Prometheus text file: the last window's (or the run's) values.
    pub prometheus: Option<PathBuf>,
    /// Endpoint, schedule and EMF dimension set.
    pub labels: crate::output::metrics::Labels,
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
}

/// What a baseline run produced.
#[derive(Debug)]
pub struct BaselineOutcome {
    /// The baseline profile.
    pub profile: DatasetProfile,
    /// Inputs left out.
    pub skipped: Vec<Skipped>,
    /// Files profiled.
    pub files: usize,
    /// Files taken from a checkpoint (`--resume`).
    pub resumed: usize,
    /// Schema differences between files.
    pub schema_differences: Vec<String>,
    /// Files written.
    pub written: Vec<PathBuf>,
    /// The backend that ran.
    pub backend: String,
    /// Model quality, when `--problem-type` asked for it.
    pub quality: Option<QualityOutcome>,
}

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

fn scan_inputs(opts: &JobOptions) -> Result<Scan> {
    let s = scan(&opts.inputs, &Role::is_identifier_name);
    for w in &s.warnings {
        eprintln!("warning: {w}");
    }
    if opts.strict {
        if let Some(sk) = s.skipped.first() {
            return Err(Error::Input { path: sk.path.clone().into(), message: sk.error.clone() });
        }
    }
    if s.files.is_empty() {
        let why = s.skipped.iter().map(|k| format!("{}: {}", k.path, k.error)).collect::<Vec<_>>().join("; ");
        return Err(Error::NoInput(if why.is_empty() { "no input given".into() } else { why }));
    }
    if let Some(cols) = &opts.columns {
        for c in cols {
            if !s.columns.iter().any(|u| crate::source::decode::names_root(c, &u.name)) {
                return Err(Error::Usage(format!("--columns: no column named '{c}' in any input")));
            }
        }
    }
    Ok(s)
}

/// Judges a current profile against a baseline: every feature's drift (only `columns` when
/// given), the constraint checks, and the counts of the verdict. Returns the features judged,
/// their drift, the violations and the summary.
pub fn judge(
    base: &Baseline,
    current: &DatasetProfile,
    columns: Option<&[String]>,
    dataset_drift_share: f64,
) -> (Vec<String>, Vec<drift::FeatureDrift>, Vec<crate::judge::sagemaker::Violation>, Summary) {
    let mut names = base.feature_names();
    if let Some(cols) = columns {
        names.retain(|n| cols.contains(n));
    }
    let features: Vec<drift::FeatureDrift> = names.iter().map(|n| drift::feature(base, n, current.column(n))).collect();
    let mut violations = crate::judge::check::check(base, current, &features);
    if columns.is_some() {
        // A projection is not a missing column.
        violations
            .retain(|v| v.constraint_check_type != CheckType::MissingColumnCheck || names.contains(&v.feature_name));
    }
    let summary = summarize(&features, violations.len(), dataset_drift_share);
    (names, features, violations, summary)
}

fn summarize(features: &[drift::FeatureDrift], violations: usize, share: f64) -> Summary {
    let compared = features.iter().filter(|f| f.status != Verdict::Skipped).count();
    let drifted = features.iter().filter(|f| f.drifted()).count();
    Summary {
        features_compared: compared,
        features_drifted: drifted,
        features_skipped: features.iter().filter(|f| f.status == Verdict::Skipped).count(),
        violations,
        dataset_drift: crate::output::report::DatasetDrift::of(drifted, compared, share),
    }
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
    let (_, features, violations, summary) = judge(base, current, None, dataset_drift_share);
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
    MonitorReport {
        driftscope_version: env!("CARGO_PKG_VERSION"),
        backend: backend.0.into(),
        backend_reason: backend.1.into(),
        baseline_source: base.source().into(),
        baseline: base.dir.display().to_string(),
        baseline_notes: base.notes.clone(),
        baseline_rows: base.statistics.dataset.item_count.max(0.0) as u64,
        current: InputSummary {
            files: per_file.len(),
            rows: current.rows,
            resumed_files: 0,
            skipped: Vec::new(),
            schema_differences: Vec::new(),
            per_file,
        },
        summary,
        features,
        violations,
        windows: None,
        timeline: None,
        model_quality: None,
    }
}

/// Writes a monitoring run's files into `out`: `statistics.json`, `constraint_violations.json`,
/// `drift.json`, `profile.json` and `report.html` (each atomically); returns their paths.
///
/// # Errors
/// [`Error::Output`] when a file cannot be written.
pub fn write_monitor_files(
    out: &std::path::Path,
    report: &MonitorReport,
    current: &DatasetProfile,
) -> Result<Vec<PathBuf>> {
    let stats = baseline::statistics(current);
    let mut written = Vec::new();
    for (name, bytes) in [
        ("statistics.json", to_json(&stats)),
        (
            "constraint_violations.json",
            to_json(&crate::judge::sagemaker::Violations { violations: report.violations.clone() }),
        ),
        ("drift.json", to_json(report)),
        ("profile.json", to_json(current)),
        ("report.html", report::html::render(report).into_bytes()),
    ] {
        let p = out.join(name);
        write_atomic(&p, &bytes)?;
        written.push(p);
    }
    Ok(written)
}

/// The `--ground-truth` inputs, scanned; `None` when there are none.
fn ground_truth(opts: &JobOptions) -> Result<Option<Vec<ScannedFile>>> {
    if opts.quality.ground_truth.is_empty() {
        return Ok(None);
    }
    let s = scan(&opts.quality.ground_truth, &Role::is_identifier_name);
    for w in &s.warnings {
        eprintln!("warning: {w}");
    }
    if let Some(sk) = s.skipped.first() {
        return Err(Error::Input { path: sk.path.clone().into(), message: format!("--ground-truth: {}", sk.error) });
    }
    if s.files.is_empty() {
        return Err(Error::NoInput("--ground-truth: no file".into()));
    }
    Ok(Some(s.files))
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
    let (q, mut written) = crate::quality::run::write_monitor(&opts.output, settings.clone(), out, Some(base))?;
    let report = MonitorReport {
        driftscope_version: env!("CARGO_PKG_VERSION"),
        backend: "cpu".into(),
        backend_reason: "cpu (model quality only)".into(),
        baseline_source: "sagemaker model quality".into(),
        baseline: base.dir.display().to_string(),
        baseline_notes: vec!["a model-quality baseline: no data-quality statistics to compare".into()],
        baseline_rows: 0,
        current: InputSummary {
            files: s.files.len(),
            rows,
            resumed_files: 0,
            skipped: s.skipped.clone(),
            schema_differences: s.schema_differences,
            per_file: Vec::new(),
        },
        summary: Summary {
            dataset_drift: crate::output::report::DatasetDrift::of(0, 0, opts.dataset_drift_share),
            ..Summary::default()
        },
        features: Vec::new(),
        violations: Vec::new(),
        windows: None,
        timeline: None,
        model_quality: Some(q),
    };
    for (name, bytes) in [("drift.json", to_json(&report)), ("report.html", report::html::render(&report).into_bytes())]
    {
        let p = opts.output.join(name);
        write_atomic(&p, &bytes)?;
        written.push(p);
    }
    let markdown = report::markdown::render(&report);
    Ok(MonitorOutcome { report, markdown, written, windows: Vec::new() })
}

/// One pass over `files`: a progress bar labelled `label`, a checkpoint named `pass` that the
/// output guard removes with the run's other temporary files, and the files profiled.
fn profile_pass(
    opts: &JobOptions,
    guard: &mut OutputGuard,
    files: &[ScannedFile],
    plan: &ProfilePlan,
    backend: &dyn Backend,
    (pass, label): (&str, &str),
) -> Result<Outcome> {
    let pb = Progress::rows(opts.progress, files.iter().map(|f| f.rows).sum(), label);
    let req = Request { plan, backend, progress: &pb };
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
    }
}

/// The jobs, as the output folder check tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// `baseline`: the folder becomes a baseline.
    Baseline,
    /// `calibrate`: the folder becomes a baseline with calibrated thresholds.
    Calibrate,
    /// `monitor`, `changepoints` and `watch`: the folder holds a run's outputs.
    Run,
}

/// What an existing output folder holds, from the files the jobs write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holds {
    /// A monitoring run's outputs (`monitor`, `changepoints`, `watch`).
    Run,
    /// A baseline (`baseline`, `calibrate`, or SageMaker's).
    Baseline,
}

fn holds(dir: &std::path::Path) -> Option<Holds> {
    let has = |name: &str| dir.join(name).exists();
    if has("drift.json") || has("constraint_violations.json") || has("windows.csv") || has(CHANGEPOINTS) {
        Some(Holds::Run)
    } else if has(baseline::CONSTRAINTS)
        || has(baseline::PROFILE)
        || dir.join(crate::quality::run::FOLDER).join(crate::quality::run::SETTINGS).exists()
    {
        Some(Holds::Baseline)
    } else {
        None
    }
}

/// `path` made absolute with its links resolved, also when it (or its last parts) does not exist
/// yet: the deepest existing ancestor is resolved and the rest appended.
fn resolved(path: &std::path::Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut rest = Vec::new();
    let mut at = abs.as_path();
    loop {
        if let Ok(c) = std::fs::canonicalize(at) {
            return rest.iter().rev().fold(c, |p: PathBuf, r| p.join(r));
        }
        match (at.parent(), at.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                at = parent;
            }
            _ => return abs,
        }
    }
}

/// Refuses an output folder whose outputs would overwrite what must be kept: the baseline
/// folder itself or a folder inside it, an existing baseline (for every job: a `baseline` run
/// over one replaces it, a monitoring run mixes its files into it), or another kind of job's
/// outputs. A monitoring run may write over an earlier monitoring run's outputs. `force`
/// allows everything.
///
/// # Errors
/// [`Error::OutputInUse`] naming the folder and what it holds.
pub fn check_output(output: &std::path::Path, baseline: Option<&std::path::Path>, job: Job, force: bool) -> Result<()> {
    if force {
        return Ok(());
    }
    let out = resolved(output);
    if let Some(b) = baseline {
        let b = resolved(b);
        if out.starts_with(&b) {
            let message = if out == b {
                "is the baseline folder: the run would overwrite the baseline it is judged against".to_string()
            } else {
                format!(
                    "lies inside the baseline folder {}: the run would mix its outputs into the baseline",
                    b.display()
                )
            };
            return Err(Error::OutputInUse { path: output.to_path_buf(), message });
        }
    }
    if !out.is_dir() {
        return Ok(());
    }
    let what = match (job, holds(&out)) {
        (_, None) | (Job::Run, Some(Holds::Run)) => return Ok(()),
        (_, Some(Holds::Run)) => "a monitoring run's outputs",
        (_, Some(Holds::Baseline)) => "a baseline",
    };
    Err(Error::OutputInUse {
        path: output.to_path_buf(),
        message: format!("already holds {what}, which this run would overwrite; choose another output folder"),
    })
}

/// Tidies the output folder when a job returns, successfully or not: its checkpoints go (only
/// an interrupted process leaves them, for `--resume`), and a folder the job created and left
/// empty goes too, so that a failed run leaves nothing behind.
struct OutputGuard {
    dir: PathBuf,
    created: bool,
    checkpoints: Vec<PathBuf>,
}

impl OutputGuard {
    fn new(dir: &std::path::Path) -> Self {
        OutputGuard { dir: dir.to_path_buf(), created: !dir.exists(), checkpoints: Vec::new() }
    }
    fn track(&mut self, cp: &Checkpoint) {
        self.checkpoints.push(cp.path.clone());
    }
}

impl Drop for OutputGuard {
    fn drop(&mut self) {
        for p in &self.checkpoints {
            let _ = std::fs::remove_file(p);
        }
        if self.created {
            // Fails, as it should, when the folder holds outputs.
            let _ = std::fs::remove_dir(&self.dir);
        }
    }
}

/// Jobs smaller than this run on the CPU under `--backend auto` without a measurement: a GPU's
/// set-up (device, pipelines, buffers) and transfers cannot pay off on them.
pub const AUTO_MIN_ROWS: u64 = 2_000_000;
/// Rows of the job's own data that `--backend auto` folds on both backends to choose.
pub const AUTO_SAMPLE_ROWS: usize = 1 << 20;

/// The first rows of the job's first file, as the profiler will see them.
fn sample(files: &[ScannedFile], plan: &ProfilePlan, rows: usize) -> Vec<arrow_array::RecordBatch> {
    let mut out = Vec::new();
    let mut n = 0;
    let Some(f) = files.first() else { return out };
    let cols = crate::source::decode::projection(f, plan.decoded().as_deref());
    for rg in 0..f.row_groups() {
        if n >= rows {
            break;
        }
        let _ = crate::source::decode::for_each_batch(f, rg, &cols, |b| {
            if n < rows {
                n += b.num_rows();
                out.push(b.clone());
            }
        });
    }
    out
}

/// Seconds each backend takes to fold `batches` the way the job will (in parallel, merged in
/// order); the first fold of a backend (buffers made, shaders warmed) is not counted.
pub fn measure(
    batches: &[arrow_array::RecordBatch],
    plan: &ProfilePlan,
    backends: &[&dyn Backend],
) -> Result<Vec<f64>> {
    let mut out = Vec::new();
    for b in backends {
        crate::engine::profile_batches(&batches[..batches.len().min(2)], plan, *b)?;
        let t = std::time::Instant::now();
        crate::engine::profile_batches(batches, plan, *b)?;
        out.push(t.elapsed().as_secs_f64());
    }
    Ok(out)
}

/// Resolves `--backend` for a job. `cpu` and `gpu` are taken as asked. `auto` takes the CPU
/// when there is no hardware GPU or the job is under [`AUTO_MIN_ROWS`] rows; otherwise it folds
/// the first [`AUTO_SAMPLE_ROWS`] rows of the job on both and keeps the faster. The string says
/// which backend runs and why.
pub fn choose_backend(
    choice: BackendChoice,
    files: &[ScannedFile],
    plan: &ProfilePlan,
) -> Result<(Box<dyn Backend>, String)> {
    if choice != BackendChoice::Auto {
        return backend::select(choice);
    }
    let (gpu, summary) = match backend::gpu_backend(false) {
        Ok(g) => g,
        Err(why) => return Ok((Box::new(backend::cpu::CpuBackend), format!("cpu (auto: {why})"))),
    };
    let rows: u64 = files.iter().map(|f| f.rows).sum();
    if rows < AUTO_MIN_ROWS {
        return Ok((
            Box::new(backend::cpu::CpuBackend),
            format!("cpu (auto: {rows} rows, under the {AUTO_MIN_ROWS} where a GPU can pay off)"),
        ));
    }
    let batches = sample(files, plan, AUTO_SAMPLE_ROWS);
    if batches.is_empty() {
        return Ok((Box::new(backend::cpu::CpuBackend), "cpu (auto: no rows to measure)".into()));
    }
    let sampled: usize = batches.iter().map(|b| b.num_rows()).sum();
    let cpu = backend::cpu::CpuBackend;
    let t = measure(&batches, plan, &[&cpu, gpu.as_ref()])?;
    let why = format!("auto: {sampled} rows of the job folded in {:.3} s on the GPU, {:.3} s on the CPU", t[1], t[0]);
    Ok(if t[1] < t[0] { (gpu, format!("gpu: {summary} ({why})")) } else { (Box::new(cpu), format!("cpu ({why})")) })
}

fn strict_check(opts: &JobOptions, skipped: &[Skipped]) -> Result<()> {
    match skipped.first() {
        Some(sk) if opts.strict => Err(Error::Input { path: sk.path.clone().into(), message: sk.error.clone() }),
        _ => Ok(()),
    }
}

/// Profiles the inputs into a baseline: `statistics.json`, `constraints.json`, `profile.json`.
///
/// The inputs are read twice: first for moments and sketches, then for exact counts over bin
/// edges taken from the first pass's quantiles.
pub fn run_baseline(opts: &JobOptions) -> Result<BaselineOutcome> {
    check_output(&opts.output, None, Job::Baseline, opts.force)?;
    let quality = opts.quality.resolve(None)?;
    let s = scan_inputs(opts)?;
    let mut guard = OutputGuard::new(&opts.output);
    let plan = ProfilePlan { columns: opts.columns.clone(), ..Default::default() };
    let (backend, backend_note) = choose_backend(opts.backend, &s.files, &plan)?;
    let first = profile_pass(opts, &mut guard, &s.files, &plan, backend.as_ref(), ("baseline-1", "baseline 1/2"))?;
    let (mut profile, mut skipped) = (first.profile, first.skipped);
    strict_check(opts, &skipped)?;
    let failed: Vec<&str> = skipped.iter().map(|k| k.path.as_str()).collect();
    let good: Vec<_> =
        s.files.iter().filter(|f| !failed.contains(&f.path.display().to_string().as_str())).cloned().collect();
    if good.is_empty() {
        return Err(Error::NoInput(
            skipped.iter().map(|k| format!("{}: {}", k.path, k.error)).collect::<Vec<_>>().join("; "),
        ));
    }

    let edges = baseline::plan_edges(&profile);
    if !edges.is_empty() {
        let plan = ProfilePlan {
            columns: Some(edges.keys().cloned().collect()),
            edges: edges.into_iter().map(|(k, e)| (k, e.into())).collect(),
            histogram_only: true,
            ..Default::default()
        };
        let out2 = profile_pass(opts, &mut guard, &good, &plan, backend.as_ref(), ("baseline-2", "baseline 2/2"))?;
        let (second, failed2) = (out2.profile, out2.skipped);
        if let Some(f) = failed2.first() {
            return Err(Error::Input {
                path: f.path.clone().into(),
                message: format!("failed on the second pass: {}", f.error),
            });
        }
        for c in &mut profile.columns {
            if let Some(h) = second.column(&c.name).and_then(|x| x.histogram.clone()) {
                c.histogram = Some(h);
            }
        }
    }
    let mut all_skipped = s.skipped.clone();
    all_skipped.append(&mut skipped);
    // Model quality before anything is written: a failure leaves no half-made baseline.
    let quality = match quality {
        Some(settings) => {
            let truth = ground_truth(opts)?;
            let out = crate::quality::run::run(&settings, &opts.quality, &good, truth.as_deref(), &opts.output, None)?;
            Some((settings, out))
        }
        None => None,
    };
    let stats = baseline::statistics(&profile);
    let constraints = baseline::suggest_constraints(&profile);
    let mut written = Vec::new();
    for (name, bytes) in [
        (baseline::STATISTICS, to_json(&stats)),
        (baseline::CONSTRAINTS, to_json(&constraints)),
        (baseline::PROFILE, to_json(&profile)),
    ] {
        let p = opts.output.join(name);
        write_atomic(&p, &bytes)?;
        written.push(p);
    }
    let quality = match quality {
        Some((settings, out)) => {
            written.extend(crate::quality::run::write_baseline(&opts.output, &settings, &out)?);
            Some(out)
        }
        None => None,
    };
    Ok(BaselineOutcome {
        profile,
        skipped: all_skipped,
        files: good.len(),
        resumed: first.resumed,
        schema_differences: s.schema_differences,
        written,
        backend: backend_note,
        quality,
    })
}

/// The change points file.
pub const CHANGEPOINTS: &str = "changepoints.json";

/// The change points of `series`, in the order of the features `names`, then series, then time.
fn find_changes(
    names: &[String],
    series: &[changepoint::Series],
    segments: &crate::engine::ProfileSet,
    method: ChangeMethod,
    of_rows: bool,
) -> Vec<ChangePoint> {
    let starts: Vec<i64> = segments.windows().map(|w| w.0).collect();
    let mut changes = changepoint::find(series, method, &|i| (!of_rows).then(|| window::iso(starts[i])));
    changes.sort_by_key(|c| names.iter().position(|n| *n == c.feature).unwrap_or(usize::MAX));
    changes
}

/// An error when rows were keyed by time and none of them held one.
fn check_timed(w: &WindowOptions, segments: &crate::engine::ProfileSet) -> Result<u64> {
    let untimed = segments.segments.get(&crate::engine::Segment::Untimed).map_or(0, |p| p.rows);
    if segments.windows().next().is_none() && untimed > 0 {
        return Err(Error::Usage(format!(
            "--time-column '{}': none of the {untimed} rows holds a time (a timestamp, a date, an epoch number or ISO 8601 text)",
            w.column
        )));
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
    let t = opts.windows.as_ref().ok_or_else(|| Error::Usage(format!("{pass}: --window is required")))?;
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
    let outcome = profile_pass(opts, &mut guard, &s.files, &plan, backend.as_ref(), (pass, pass))?;
    strict_check(opts, &outcome.skipped)?;
    if outcome.skipped.len() == s.files.len() {
        return Err(Error::NoInput(
            outcome.skipped.iter().map(|k| format!("{}: {}", k.path, k.error)).collect::<Vec<_>>().join("; "),
        ));
    }
    check_timed(&w, &outcome.segments)?;
    Ok((w, outcome, backend_note))
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
    /// The series searched.
    pub series: usize,
}

/// Finds change points in the per-window series of the inputs (mean, standard deviation and
/// completeness of every feature), without a baseline: one pass over the inputs.
pub fn run_changepoints(opts: &JobOptions, method: ChangeMethod) -> Result<ChangepointsOutcome> {
    check_output(&opts.output, None, Job::Run, opts.force)?;
    let s = scan_inputs(opts)?;
    let (w, outcome, backend_note) = windows_pass(opts, &s, BTreeMap::new(), "changepoints")?;
    let segments = outcome.segments;
    let untimed_rows = segments.segments.get(&crate::engine::Segment::Untimed).map_or(0, |p| p.rows);
    // The time column moves from window to window by construction: it is not searched.
    let names: Vec<String> =
        outcome.profile.columns.iter().map(|c| c.name.clone()).filter(|n| *n != w.column).collect();
    let series = changepoint::profile_series(&names, &segments.windows().map(|w| w.1).collect::<Vec<_>>());
    let changes = find_changes(&names, &series, &segments, method, w.window.rows_per_window().is_some());
    write_atomic(&opts.output.join(CHANGEPOINTS), &to_json(&changes))?;
    let mut skipped = s.skipped.clone();
    skipped.extend(outcome.skipped);
    Ok(ChangepointsOutcome {
        windows: segments.windows().count(),
        rows: outcome.profile.rows,
        untimed_rows,
        series: series.len(),
        changes,
        skipped,
        backend: backend_note,
    })
}

/// What a calibration run found and wrote.
#[derive(Debug)]
pub struct CalibrateOutcome {
    /// Per feature: the calibrated threshold and its expected false-alarm rate.
    pub calibrations: Vec<crate::time::calibrate::Calibration>,
    /// Windows of history judged.
    pub windows: usize,
    /// Inputs left out.
    pub skipped: Vec<Skipped>,
    /// The backend that ran.
    pub backend: String,
    /// Files written.
    pub written: Vec<PathBuf>,
}

/// What `calibration.json` holds.
#[derive(serde::Serialize)]
struct CalibrationFile<'a> {
    false_alarm_rate: f64,
    windows: usize,
    window: String,
    time_column: &'a str,
    baseline: String,
    features: &'a [crate::time::calibrate::Calibration],
}

/// Sets each feature's drift threshold from a history of windows judged normal, at the
/// false-alarm rate `rate` per window and feature: the output folder becomes a baseline (the
/// baseline's statistics, its constraints with the calibrated thresholds in
/// `monitoring_config_overrides`) plus `calibration.json`.
pub fn run_calibrate(opts: &JobOptions, baseline_dir: &std::path::Path, rate: f64) -> Result<CalibrateOutcome> {
    if !(rate > 0.0 && rate < 1.0) {
        return Err(Error::Usage(format!("--false-alarm-rate: expected a rate between 0 and 1, got {rate}")));
    }
    check_output(&opts.output, Some(baseline_dir), Job::Calibrate, opts.force)?;
    let base = Baseline::load(baseline_dir)?;
    let s = scan_inputs(opts)?;
    let (w, outcome, backend_note) = windows_pass(opts, &s, base.edges(), "calibrate")?;
    let mut names = base.feature_names();
    if let Some(cols) = &opts.columns {
        names.retain(|n| cols.contains(n));
    }
    // The time column moves from window to window by construction: it is not judged per window.
    names.retain(|n| *n != w.column);
    let results = timeline::evaluate(&base, &names, &outcome.segments, &w.window, WindowReference::Baseline)?;
    if results.is_empty() {
        return Err(Error::Usage(format!("--time-column '{}': no row of the history holds a time", w.column)));
    }
    let calibrations = crate::time::calibrate::calibrate(&results, rate);
    let mut constraints = base.constraints.clone();
    crate::time::calibrate::apply(&mut constraints, &calibrations);
    let file = CalibrationFile {
        false_alarm_rate: rate,
        windows: results.len(),
        window: w.window.to_string(),
        time_column: &w.column,
        baseline: base.dir.display().to_string(),
        features: &calibrations,
    };
    let mut files = vec![
        (baseline::STATISTICS, to_json(&base.statistics)),
        (baseline::CONSTRAINTS, to_json(&constraints)),
        ("calibration.json", to_json(&file)),
    ];
    if let Some(p) = &base.profile {
        files.push((baseline::PROFILE, to_json(p)));
    }
    let mut written = Vec::new();
    for (name, bytes) in files {
        let p = opts.output.join(name);
        write_atomic(&p, &bytes)?;
        written.push(p);
    }
    let mut skipped = s.skipped.clone();
    skipped.extend(outcome.skipped);
    Ok(CalibrateOutcome { calibrations, windows: results.len(), skipped, backend: backend_note, written })
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
        return Err(Error::Usage(format!(
            "--time-column '{c}' is {ty}: expected a timestamp, a date, an epoch number or ISO 8601 text"
        )));
    }
    let column = match &t.column {
        Some(c) if c == crate::engine::PARTITION_TIME => {
            if !s.files.iter().any(|f| crate::source::scan::partition_time(&f.partitions).is_some()) {
                return Err(Error::Usage(
                    "--time-from-partitions: no input is in a hive partition naming a date (dt=2026-11-28/hour=14, or year=/month=/day=)".into(),
                ));
            }
            c.clone()
        }
        Some(c) if flat.iter().any(|(f, _)| f == c) => c.clone(),
        Some(c) => return Err(Error::Usage(format!("--time-column: no column named '{c}' in any input"))),
        None => match CAPTURE_TIME.iter().find(|n| flat.iter().any(|(f, _)| f == *n)) {
            Some(n) => n.to_string(),
            // Windows of rows without a time follow the inputs' order.
            None if t.window.rows_per_window().is_some() => crate::engine::INPUT_ORDER.to_string(),
            None => {
                return Err(Error::Usage(
                    "--window: name the time column with --time-column (the inputs have no inferenceTime)".into(),
                ))
            }
        },
    };
    if t.window.rows_per_window().is_some() && matches!(t.reference, WindowReference::Range { .. }) {
        return Err(Error::Usage(
            "--reference window:START..END needs calendar windows; with --window-rows use previous or rolling:N".into(),
        ));
    }
    Ok(WindowOptions { column, window: t.window, limit: t.limit, reference: t.reference })
}

/// Monitors the inputs against a baseline folder or, with time windows compared with one
/// another (`--reference previous`, `rolling:N`, `window:…`), without one: then the inputs are
/// read twice (first for the bin edges), and the constraints are those suggested from the
/// inputs themselves.
pub fn run_monitor(opts: &JobOptions, baseline_dir: Option<&std::path::Path>) -> Result<MonitorOutcome> {
    check_output(&opts.output, baseline_dir, Job::Run, opts.force)?;
    let qbase = baseline_dir.map(QualityBaseline::load).transpose()?.flatten();
    let quality = opts.quality.resolve(qbase.as_ref())?;
    if let (Some(q), Some(settings)) = (qbase.as_ref().filter(|q| q.only), quality.as_ref()) {
        return monitor_quality_only(opts, q, settings);
    }
    let mut loaded = baseline_dir.map(Baseline::load).transpose()?;
    if let (Some(b), Some(alpha)) = (loaded.as_mut(), opts.ks_alpha) {
        b.use_ks(alpha);
    }
    let s = scan_inputs(opts)?;
    let windows = opts.windows.as_ref().map(|t| time_column(t, &s)).transpose()?;
    if loaded.is_none() && windows.as_ref().is_none_or(|w| w.reference == WindowReference::Baseline) {
        return Err(Error::Usage(
            "-b/--baseline is required, unless --window compares windows with one another (--reference previous, rolling:N or window:START..END)".into(),
        ));
    }
    let segment = windows.as_ref().map_or(SegmentKey::Whole, |w| SegmentKey::Window {
        column: w.column.clone(),
        window: w.window,
        limit: w.limit,
    });
    let first = ProfilePlan { columns: opts.columns.clone(), ..Default::default() };
    let (backend, backend_note) = choose_backend(opts.backend, &s.files, &first)?;
    let mut guard = OutputGuard::new(&opts.output);
    let edges = match &loaded {
        Some(b) => b.edges(),
        None => {
            // Bin edges from the inputs' own quantiles: a first pass.
            let p = profile_pass(opts, &mut guard, &s.files, &first, backend.as_ref(), ("monitor-1", "monitor 1/2"))?;
            strict_check(opts, &p.skipped)?;
            baseline::plan_edges(&p.profile)
        }
    };
    let plan = ProfilePlan { edges: edges.into_iter().map(|(k, e)| (k, e.into())).collect(), segment, ..first };
    let label = if loaded.is_some() { "monitor" } else { "monitor 2/2" };
    let outcome = profile_pass(opts, &mut guard, &s.files, &plan, backend.as_ref(), ("monitor", label))?;
    let (current, skipped, segments) = (outcome.profile, outcome.skipped, outcome.segments);
    strict_check(opts, &skipped)?;
    let files_ok = s.files.len() - skipped.len();
    if files_ok == 0 {
        return Err(Error::NoInput(
            skipped.iter().map(|k| format!("{}: {}", k.path, k.error)).collect::<Vec<_>>().join("; "),
        ));
    }
    let base = match loaded {
        Some(b) => b,
        None => {
            let mut b = Baseline::from_profile(current.clone(), "the inputs themselves");
            if let Some(alpha) = opts.ks_alpha {
                b.use_ks(alpha);
            }
            b
        }
    };
    let (names, features, violations, summary) = if baseline_dir.is_some() {
        judge(&base, &current, opts.columns.as_deref(), opts.dataset_drift_share)
    } else {
        let mut names = base.feature_names();
        if let Some(cols) = &opts.columns {
            names.retain(|n| cols.contains(n));
        }
        let why = "no baseline given: the windows are compared with one another (windows.csv)";
        let features: Vec<drift::FeatureDrift> = names.iter().map(|n| drift::FeatureDrift::skipped(n, why)).collect();
        let summary = summarize(&features, 0, opts.dataset_drift_share);
        (names, features, Vec::new(), summary)
    };
    let mut all_skipped = s.skipped.clone();
    all_skipped.extend(skipped);
    let report = MonitorReport {
        driftscope_version: env!("CARGO_PKG_VERSION"),
        backend: backend.name(),
        backend_reason: backend_note,
        baseline_source: if baseline_dir.is_some() { base.source().into() } else { "none".into() },
        baseline: base.dir.display().to_string(),
        baseline_notes: base.notes.clone(),
        baseline_rows: if baseline_dir.is_some() { base.statistics.dataset.item_count.max(0.0) as u64 } else { 0 },
        current: InputSummary {
            files: files_ok,
            rows: current.rows,
            resumed_files: outcome.resumed,
            skipped: all_skipped,
            schema_differences: s.schema_differences,
            per_file: outcome.files,
        },
        summary,
        features,
        violations: violations.clone(),
        windows: None,
        timeline: None,
        model_quality: None,
    };
    let mut report = report;
    let mut window_results = Vec::new();
    let mut written = Vec::new();
    if let Some(settings) = quality {
        let good: Vec<ScannedFile> = s
            .files
            .iter()
            .filter(|f| !report.current.skipped.iter().any(|k| k.path == f.path.display().to_string()))
            .cloned()
            .collect();
        let truth = ground_truth(opts)?;
        // Calendar windows only: windows of rows have no instant to key the joined rows by.
        let window =
            windows.as_ref().filter(|w| w.window.rows_per_window().is_none()).map(|w| (w.column.as_str(), w.window));
        let out = crate::quality::run::run(&settings, &opts.quality, &good, truth.as_deref(), &opts.output, window)?;
        if !out.windows.is_empty() {
            written.push(crate::quality::run::write_windows(&opts.output, &out.windows)?);
        }
        let (q, w) = crate::quality::run::write_monitor(&opts.output, settings, out, qbase.as_ref())?;
        written.extend(w);
        report.model_quality = Some(q);
    }
    let mut points =
        vec![crate::output::metrics::Point::of(chrono::Utc::now().timestamp_millis(), &report.features, &current)];
    if let Some(w) = &windows {
        check_timed(w, &segments)?;
        // The time column moves from window to window by construction: it is not judged per
        // window (the whole run still judges it).
        let names: Vec<String> = names.iter().filter(|n| **n != w.column).cloned().collect();
        window_results = timeline::evaluate(&base, &names, &segments, &w.window, w.reference)?;
        let table = timeline::table(&window_results, &segments)?;
        written.extend(timeline::write(&opts.output, &w.window, &window_results, &table)?);
        let mut series = changepoint::profile_series(&names, &segments.windows().map(|w| w.1).collect::<Vec<_>>());
        series.extend(timeline::drift_series(&window_results));
        let changes =
            find_changes(&names, &series, &segments, ChangeMethod::Pelt, w.window.rows_per_window().is_some());
        let p = opts.output.join(CHANGEPOINTS);
        write_atomic(&p, &to_json(&changes))?;
        written.push(p);
        points = window_results
            .iter()
            .map(|r| {
                // Windows of rows have no instant: their metrics are stamped now.
                crate::output::metrics::Point::of(
                    if r.of_rows { chrono::Utc::now().timestamp_millis() } else { r.end },
                    &r.features,
                    &segments.segments[&crate::engine::Segment::Window(r.start)],
                )
            })
            .collect();
        let mut summary = timeline::summary(w, &segments, &window_results);
        summary.change_points = changes.len();
        report.timeline = Some(timeline::for_report(&window_results, &changes));
        if let Some(q) = report.model_quality.as_mut().filter(|q| !q.outcome.windows.is_empty()) {
            q.drift_relevance = Some(crate::quality::run::drift_relevance(
                q.settings.problem_type,
                &q.outcome.windows,
                &window_results,
            ));
        }
        report.windows = Some(summary);
    }
    written.extend(write_monitor_files(&opts.output, &report, &current)?);
    if let Some(m) = &opts.metrics {
        if let Some(p) = &m.emf {
            write_atomic(p, crate::output::metrics::emf(&points, &m.labels).as_bytes())?;
            written.push(p.clone());
        }
        if let (Some(p), Some(last)) = (&m.prometheus, points.last()) {
            let windows = report.windows.as_ref().map(|w| w.windows);
            write_atomic(p, crate::output::metrics::prometheus(last, &m.labels, windows).as_bytes())?;
            written.push(p.clone());
        }
    }
    let markdown = report::markdown::render(&report);
    Ok(MonitorOutcome { report, markdown, written, windows: window_results })
}
