//! `driftscope bench`: throughput per stage and backend on a generated capture.
//!
//! Generates (or reuses) a baseline and a drifted current capture with [`crate::source::synth`], then
//! times, best of `runs`:
//! - **decode**: every row group of the current file decoded in parallel, nothing else — the
//!   floor any Parquet-reading monitor sits on;
//! - **profile**: the current capture's batches, already in memory, folded into a profile on the
//!   backend (histograms over the baseline's edges, counts, moments, sketches) by the engine's
//!   [`profile_batches`], as a library user would drive it: the same [`crate::engine::Profiler`]
//!   and backend folders the file engine uses;
//! - **compare and check**: every feature judged against the baseline (drift metrics in `f64`
//!   and the constraint checks, on the host whatever the backend), once;
//! - **end to end**: `monitor` on the file: scan, decode, profile, compare, check, write;
//! - with `--window`, **profile** and **end to end** again with rows keyed by time windows of
//!   the capture's `event_time`: every window's histograms and categories counted by the
//!   backend's kernels beside the whole profile;
//! - with `--quality`, **model quality** on the capture's probability and label: scored in the
//!   rows, joined with itself by `inference_id` in memory, and the same join spilled to disk.
//!
//! Rates are rows per second and GB per second of uncompressed Arrow data (the decoded batches'
//! buffer sizes).

use std::path::{Path, PathBuf};
use std::time::Instant;

use arrow_array::RecordBatch;
use rayon::prelude::*;
use serde::Serialize;

use crate::backend::{self, Backend, BackendChoice};
use crate::engine::window::Window;
use crate::engine::{profile_batches, ProfilePlan, SegmentKey};
use crate::error::{Error, Result};
use crate::jobs::{run_baseline, run_monitor, JobOptions, TimeOptions};
use crate::judge::baseline::Baseline;
use crate::profile::Role;
use crate::source::decode::{for_each_batch, projection};
use crate::source::scan::{scan, ScannedFile};
use crate::source::synth::{write_capture, CaptureSpec, Shape};

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Rows per capture.
    pub rows: usize,
    /// Rows per row group.
    pub row_group: usize,
    /// Backends to measure.
    pub backends: Vec<BackendChoice>,
    /// Where the captures go (kept); a temporary folder when `None`.
    pub dir: Option<PathBuf>,
    /// Repetitions; the best time counts.
    pub runs: usize,
    /// Which columns the generated captures have.
    pub shape: Shape,
    /// Also time model quality on the capture's `prediction` and `label`: scored in the rows,
    /// joined with itself by `inference_id` in memory, and the same join spilled to disk.
    pub quality: bool,
    /// Also time the profile and `monitor` with rows keyed by this window of the capture's
    /// `event_time` (one row every 37 ms: a million rows span about ten hours).
    pub window: Option<Window>,
}

/// One measured stage.
#[derive(Debug, Clone, Serialize)]
pub struct BenchRow {
    /// decode, profile, compare or end-to-end.
    pub stage: String,
    /// Backend that ran it.
    pub backend: String,
    /// Best time, seconds.
    pub seconds: f64,
    /// Rows processed per run.
    pub rows: u64,
    /// Uncompressed Arrow bytes processed per run.
    pub bytes: u64,
}

impl BenchRow {
    /// Rows per second.
    pub fn rows_per_s(&self) -> f64 {
        self.rows as f64 / self.seconds
    }
    /// GB (1e9 bytes) per second.
    pub fn gb_per_s(&self) -> f64 {
        self.bytes as f64 / self.seconds / 1e9
    }
}

/// Everything measured.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// The current capture.
    pub file: String,
    /// Its size on disk.
    pub file_bytes: u64,
    /// Rows.
    pub rows: u64,
    /// Columns.
    pub columns: usize,
    /// Uncompressed Arrow bytes.
    pub arrow_bytes: u64,
    /// Threads in rayon's pool.
    pub threads: usize,
    /// Measured stages.
    pub stages: Vec<BenchRow>,
}

fn best<T>(runs: usize, mut f: impl FnMut() -> Result<T>) -> Result<(f64, T)> {
    let mut best = f64::INFINITY;
    let mut last = None;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let v = f()?;
        best = best.min(t.elapsed().as_secs_f64());
        last = Some(v);
    }
    Ok((best, last.expect("at least one run")))
}

/// Rows, Arrow bytes and (when kept) the batches of a decode.
type Decoded = (u64, u64, Vec<RecordBatch>);

/// Decodes every row group of `files` in parallel; returns rows and Arrow bytes.
pub fn decode_all(files: &[ScannedFile], keep: bool) -> Result<Decoded> {
    let units: Vec<(usize, usize)> =
        files.iter().enumerate().flat_map(|(i, f)| (0..f.row_groups()).map(move |g| (i, g))).collect();
    let parts: Vec<Result<Decoded>> = units
        .par_iter()
        .map(|&(i, g)| {
            let cols = projection(&files[i], None);
            let (mut rows, mut bytes, mut kept) = (0u64, 0u64, Vec::new());
            for_each_batch(&files[i], g, &cols, |b| {
                rows += b.num_rows() as u64;
                bytes += b.get_array_memory_size() as u64;
                if keep {
                    kept.push(b.clone());
                }
            })?;
            Ok((rows, bytes, kept))
        })
        .collect();
    let (mut rows, mut bytes, mut batches) = (0, 0, Vec::new());
    for p in parts {
        let (r, b, k) = p?;
        rows += r;
        bytes += b;
        batches.extend(k);
    }
    Ok((rows, bytes, batches))
}

/// The generated capture's time column.
const TIME_COLUMN: &str = "event_time";

/// Runs the benchmark.
pub fn run(opts: &BenchOptions) -> Result<BenchReport> {
    if opts.window.is_some() && opts.shape != Shape::Capture {
        return Err(crate::error::invalid(
            crate::Opt::Window,
            "the bench's windows need the capture shape (its event_time)",
        ));
    }
    let tmp;
    let dir = match &opts.dir {
        Some(d) => d.clone(),
        None => {
            tmp = std::env::temp_dir().join(format!("driftscope-bench-{}", std::process::id()));
            tmp.clone()
        }
    };
    let (cur_path, base_dir) = prepare(opts, &dir)?;
    let baseline = Baseline::load(&base_dir)?;
    // The monitor's plan: every column, the baseline's edges.
    let plan =
        ProfilePlan { edges: baseline.edges().into_iter().map(|(k, e)| (k, e.into())).collect(), ..Default::default() };
    let s = scan(&[cur_path.display().to_string()], &Role::is_identifier_name);
    if let Some(sk) = s.skipped.first() {
        return Err(Error::input(&sk.path, sk.error.clone()));
    }
    let (decode_s, (rows, bytes, _)) = best(opts.runs, || decode_all(&s.files, false))?;
    let mut stages =
        vec![BenchRow { stage: "decode".into(), backend: "arrow-rs".into(), seconds: decode_s, rows, bytes }];
    let (_, _, batches) = decode_all(&s.files, true)?;
    let mut judged = false;
    for &choice in &opts.backends {
        let (backend, _) = backend::select(choice)?;
        let name = backend.name();
        let (t, current) = best(opts.runs, || profile_batches(&batches, &plan, backend.as_ref()))?;
        let current = current.into_whole();
        stages.push(BenchRow { stage: "profile".into(), backend: name.clone(), seconds: t, rows, bytes });
        if !judged {
            // Drift metrics and checks run on the host in f64 whatever the backend: timed once.
            let (t, j) = best(opts.runs, || {
                Ok(crate::judge::verdict::judge(&baseline, &current, None, crate::jobs::DATASET_DRIFT_SHARE))
            })?;
            let stage = format!("compare and check ({} features)", j.features.len());
            stages.push(BenchRow { stage, backend: "host".into(), seconds: t, rows, bytes });
            judged = true;
        }
        let out = dir.join("bench-run");
        let (t, _) = best(opts.runs, || {
            run_monitor(
                &JobOptions { backend: choice, ..JobOptions::new(vec![cur_path.display().to_string()], out.clone()) },
                Some(&base_dir),
            )
        })?;
        stages.push(BenchRow { stage: "end to end (monitor)".into(), backend: name.clone(), seconds: t, rows, bytes });
        if let Some(window) = opts.window {
            let at = Stage { backend: backend.as_ref(), choice, name: &name, rows, bytes };
            stages.extend(windowed_stages(opts.runs, window, &batches, &plan, &at, (&cur_path, &out, &base_dir))?);
        }
    }
    drop(batches);
    if opts.quality {
        if opts.shape != Shape::Capture {
            return Err(crate::error::invalid(
                crate::Opt::Shape,
                "the bench's model quality needs the capture shape (its prediction and label)",
            ));
        }
        stages.extend(quality_stages(&s.files, &dir, opts.runs)?);
    }
    if opts.dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(BenchReport {
        file: cur_path.display().to_string(),
        file_bytes: compressed_bytes(&s.files[0]),
        rows,
        columns: s.columns.len(),
        arrow_bytes: bytes,
        threads: rayon::current_num_threads(),
        stages,
    })
}

/// The compressed bytes of a Parquet file's row groups.
fn compressed_bytes(f: &crate::source::scan::ScannedFile) -> u64 {
    let meta = f.parquet().expect("the bench writes Parquet").metadata();
    meta.row_groups().iter().map(|g| g.compressed_size().max(0) as u64).sum()
}

/// What the windowed stages time with: the backend, how it was asked for, its name, and the
/// capture's rows and Arrow bytes.
struct Stage<'a> {
    backend: &'a dyn Backend,
    choice: BackendChoice,
    name: &'a str,
    rows: u64,
    bytes: u64,
}

/// The windowed stages: the profile keyed by windows of `window` on the capture's time, and
/// `monitor --window` end to end.
fn windowed_stages(
    runs: usize,
    window: Window,
    batches: &[RecordBatch],
    plan: &ProfilePlan,
    at: &Stage<'_>,
    (cur_path, run_dir, base_dir): (&Path, &Path, &Path),
) -> Result<Vec<BenchRow>> {
    let limit = crate::time::timeline::DEFAULT_MAX_WINDOWS;
    let keyed =
        ProfilePlan { segment: SegmentKey::Window { column: TIME_COLUMN.into(), window, limit }, ..plan.clone() };
    let (t, set) = best(runs, || profile_batches(batches, &keyed, at.backend))?;
    let stage = format!("profile, {} windows of {window}", set.windows().count());
    let mut out = vec![BenchRow { stage, backend: at.name.into(), seconds: t, rows: at.rows, bytes: at.bytes }];
    let windows = TimeOptions {
        column: Some(TIME_COLUMN.into()),
        window,
        limit,
        reference: crate::time::timeline::WindowReference::Baseline,
        changes: Default::default(),
    };
    let job = JobOptions {
        backend: at.choice,
        windows: Some(windows),
        ..JobOptions::new(vec![cur_path.display().to_string()], run_dir.to_path_buf())
    };
    let (t, _) = best(runs, || run_monitor(&job, Some(base_dir)))?;
    let stage = format!("end to end (monitor --window {window})");
    out.push(BenchRow { stage, backend: at.name.into(), seconds: t, rows: at.rows, bytes: at.bytes });
    Ok(out)
}

/// The capture pair (generated once, kept in `dir`) and the baseline of the first (made once):
/// the current capture's path and the baseline folder.
fn prepare(opts: &BenchOptions, dir: &Path) -> Result<(PathBuf, PathBuf)> {
    let prefix = match opts.shape {
        Shape::Capture => "",
        Shape::Floats => "floats-",
    };
    let base_path = dir.join(format!("{prefix}baseline-{}.parquet", opts.rows));
    let cur_path = dir.join(format!("{prefix}current-{}.parquet", opts.rows));
    for (path, seed, drifted) in [(&base_path, 1, false), (&cur_path, 2, true)] {
        if !path.is_file() {
            eprintln!("driftscope bench: generating {} ({} rows)", path.display(), opts.rows);
            let spec = CaptureSpec { rows: opts.rows, seed, drifted, row_group: opts.row_group, shape: opts.shape };
            write_capture(path, &spec)?;
        }
    }
    let base_dir = dir.join(format!("{prefix}baseline-{}", opts.rows));
    if !base_dir.join("profile.json").is_file() {
        eprintln!("driftscope bench: baselining {}", base_path.display());
        run_baseline(&JobOptions::new(vec![base_path.display().to_string()], base_dir.clone()))?;
    }
    Ok((cur_path, base_dir))
}

/// Model quality on the generated capture through the production path
/// ([`crate::quality::join::score`]): binary, the probability in `prediction`, the label in
/// `label`; rows counted are the prediction rows.
fn quality_stages(files: &[ScannedFile], dir: &std::path::Path, runs: usize) -> Result<Vec<BenchRow>> {
    use crate::quality::join::{score, QualityRequest, DEFAULT_JOIN_MEMORY};
    use crate::quality::{ProblemType, QualitySettings};
    let settings = QualitySettings {
        probability: Some("prediction".into()),
        ..QualitySettings::new(ProblemType::BinaryClassification, "label")
    };
    let mut rows = Vec::new();
    for (stage, truth, memory) in [
        ("model quality (labels in the rows)", None, DEFAULT_JOIN_MEMORY),
        ("model quality join (in memory)", Some(files), DEFAULT_JOIN_MEMORY),
        ("model quality join (spilled, 64 MiB)", Some(files), 64 << 20),
    ] {
        let req = QualityRequest {
            settings: &settings,
            predictions: files,
            ground_truth: truth,
            id_column: Some("inference_id"),
            memory_limit: memory,
            spill_dir: dir,
            window: None,
        };
        let (t, out) = best(runs, || score(&req))?;
        let note = if out.spilled_partitions > 0 {
            format!("cpu, label table ≤ {:.0} MiB per partition", out.join_memory_bytes as f64 / (1u64 << 20) as f64)
        } else if truth.is_some() {
            format!("cpu, label table {:.0} MiB", out.join_memory_bytes as f64 / (1u64 << 20) as f64)
        } else {
            "cpu".into()
        };
        rows.push(BenchRow { stage: stage.into(), backend: note, seconds: t, rows: out.prediction_rows, bytes: 0 });
    }
    Ok(rows)
}

/// The report as a Markdown table.
pub fn markdown(r: &BenchReport) -> String {
    let mut o = format!(
        "driftscope bench: {} rows × {} columns, {:.2} GB as Arrow, {:.2} GB Parquet, {} threads\n\n| stage | backend | best s | rows/s | GB/s |\n|---|---|---|---|---|\n",
        r.rows,
        r.columns,
        r.arrow_bytes as f64 / 1e9,
        r.file_bytes as f64 / 1e9,
        r.threads
    );
    for s in &r.stages {
        let (rate, gb) = if s.stage.starts_with("compare") {
            ("–".to_string(), "–".to_string())
        } else if s.bytes == 0 {
            (format!("{:.3e}", s.rows_per_s()), "–".to_string())
        } else {
            (format!("{:.3e}", s.rows_per_s()), format!("{:.3}", s.gb_per_s()))
        };
        o.push_str(&format!("| {} | {} | {:.4} | {rate} | {gb} |\n", s.stage, s.backend, s.seconds));
    }
    o
}
