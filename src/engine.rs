//! The profiling engine: decodes row groups in parallel and folds them into one profile.
//!
//! Every row group becomes a partial [`DatasetProfile`]; partials are folded in input order (file
//! by file, row group by row group), so the result, floating-point rounding and sketch contents
//! included, is the same whatever the number of threads. A file whose any row group fails to
//! decode is left out whole and reported, never half counted. Progress can be checkpointed so
//! that an interrupted audit resumes where it stopped.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use indicatif::ProgressBar;
use rayon::prelude::*;

use crate::backend::Backend;
use crate::decode::{for_each_batch, projection};
use crate::profile::accumulate::{accumulate, ColumnPlan};
use crate::profile::{ColumnProfile, DatasetProfile, Role};
use crate::scan::{ScannedFile, Skipped};

/// What to profile.
pub struct Request<'a> {
    /// Only these columns (all when `None`).
    pub columns: Option<&'a [String]>,
    /// Per-column plans; columns without one get the default plan.
    pub plans: &'a HashMap<String, ColumnPlan>,
    /// Plan for columns not in `plans`.
    pub default_plan: ColumnPlan,
    /// Where the data-parallel kernels run.
    pub backend: &'a dyn Backend,
    /// Progress, advanced by rows.
    pub progress: &'a ProgressBar,
}

fn empty_profile(file: &ScannedFile, cols: &[usize], req: &Request) -> DatasetProfile {
    let schema = file.meta.schema();
    let mut p = DatasetProfile::default();
    for &i in cols {
        let f = schema.field(i);
        let role = Role::guess(f.name(), f.data_type().is_temporal());
        let mut c = ColumnProfile::new(f.name(), &f.data_type().to_string(), role);
        let plan = req.plans.get(f.name()).unwrap_or(&req.default_plan);
        c.histogram = plan.edges.clone().map(crate::profile::Histogram::new);
        p.columns.push(c);
    }
    p
}

fn profile_unit(file: &ScannedFile, rg: usize, req: &Request) -> Result<DatasetProfile, String> {
    let cols = projection(file, req.columns);
    let mut p = empty_profile(file, &cols, req);
    let plans: Vec<&ColumnPlan> =
        p.columns.iter().map(|c| req.plans.get(&c.name).unwrap_or(&req.default_plan)).collect();
    // One scratch buffer per column: the columns of a batch are folded in parallel too, so that
    // a file with a single row group still keeps every core busy. Each column's fold stays
    // sequential, so results do not depend on scheduling.
    let mut scratch: Vec<Vec<f64>> = vec![Vec::new(); p.columns.len()];
    let mut failure: Option<String> = None;
    for_each_batch(file, rg, &cols, |batch| {
        if failure.is_some() {
            return;
        }
        p.rows += batch.num_rows() as u64;
        let errors: Vec<String> = p
            .columns
            .par_iter_mut()
            .zip(scratch.par_iter_mut())
            .enumerate()
            .filter_map(|(i, (col, buf))| {
                accumulate(col, batch.column(i), plans[i], req.backend, buf)
                    .err()
                    .map(|e| format!("column '{}': {e}", col.name))
            })
            .collect();
        failure = errors.into_iter().next();
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    req.progress.inc(file.row_group_rows(rg));
    Ok(p)
}

/// Where a run saves its progress, and whether to pick it up.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    /// The checkpoint file (written atomically, under a temporary name then renamed).
    pub path: PathBuf,
    /// Continue from an existing checkpoint of the same job.
    pub resume: bool,
    /// Identifies the job (pass, projection, bin edges): a checkpoint of another job is ignored.
    pub key: String,
}

/// A file as it was when profiled: resuming requires the same path, size and modification time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStamp {
    /// Path.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the epoch.
    pub mtime_ns: u128,
}

impl FileStamp {
    fn of(path: &Path) -> FileStamp {
        let meta = std::fs::metadata(path).ok();
        FileStamp {
            path: path.display().to_string(),
            size: meta.as_ref().map_or(0, |m| m.len()),
            mtime_ns: meta
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos()),
        }
    }
}

/// What happened to one input file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileResult {
    /// Path.
    pub path: String,
    /// Rows profiled (0 when skipped).
    pub rows: u64,
    /// Hive partition values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partitions: Vec<(String, String)>,
    /// `ok` or `skipped`.
    pub status: String,
    /// Why it was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct CheckpointState {
    key: String,
    done: Vec<FileStamp>,
    results: Vec<FileResult>,
    total: DatasetProfile,
}

/// The result of profiling files.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Merged profile of the readable files.
    pub profile: DatasetProfile,
    /// Files left out, with reasons.
    pub skipped: Vec<Skipped>,
    /// Every file, in order, with its outcome.
    pub files: Vec<FileResult>,
    /// Files taken from a checkpoint instead of being read again.
    pub resumed: usize,
}

fn load_checkpoint(cp: &Checkpoint, stamps: &[FileStamp]) -> Option<CheckpointState> {
    let text = std::fs::read_to_string(&cp.path).ok()?;
    let state: CheckpointState = serde_json::from_str(&text).ok()?;
    (state.key == cp.key && state.done.len() <= stamps.len() && state.done[..] == stamps[..state.done.len()])
        .then_some(state)
}

fn save_checkpoint(cp: &Checkpoint, state: &CheckpointState) {
    // A checkpoint that cannot be written only costs the ability to resume.
    if let Ok(bytes) = serde_json::to_vec(state) {
        let _ = crate::report::write_atomic(&cp.path, &bytes);
    }
}

/// Profiles `files`, folding them in order. With a checkpoint, progress is saved every few
/// seconds (and at the end) so that an interrupted run can resume; resuming skips the files
/// already folded and gives the same result as an uninterrupted run.
pub fn profile_files(files: &[ScannedFile], req: &Request, checkpoint: Option<&Checkpoint>) -> Outcome {
    let stamps: Vec<FileStamp> =
        if checkpoint.is_some() { files.iter().map(|f| FileStamp::of(&f.path)).collect() } else { Vec::new() };
    let mut cp_state =
        CheckpointState { key: String::new(), done: Vec::new(), results: Vec::new(), total: DatasetProfile::default() };
    if let Some(cp) = checkpoint {
        cp_state.key = cp.key.clone();
        if cp.resume {
            if let Some(loaded) = load_checkpoint(cp, &stamps) {
                cp_state = loaded;
            }
        }
    }
    let start = cp_state.done.len();
    let resumed = start;
    req.progress.inc(files[..start].iter().map(|f| f.rows).sum());
    let mut skipped: Vec<Skipped> = cp_state
        .results
        .iter()
        .filter(|r| r.status != "ok")
        .map(|r| Skipped { path: r.path.clone(), error: r.error.clone().unwrap_or_default() })
        .collect();
    let units: Vec<(usize, usize)> =
        files.iter().enumerate().skip(start).flat_map(|(fi, f)| (0..f.row_groups()).map(move |rg| (fi, rg))).collect();
    let mut remaining: Vec<usize> = files.iter().map(|f| f.row_groups()).collect();
    // Per-file partial results, created when a file's first row group is done.
    let mut state: HashMap<usize, Result<DatasetProfile, String>> = HashMap::new();
    let mut next_file = start;
    let mut last_save = Instant::now();
    let mut finalize = |state: &mut HashMap<usize, Result<DatasetProfile, String>>,
                        remaining: &[usize],
                        next: &mut usize,
                        force: bool| {
        let mut progressed = false;
        while *next < files.len() && remaining[*next] == 0 {
            let f = &files[*next];
            let p = state.remove(next).unwrap_or_else(|| Ok(empty_profile(f, &projection(f, req.columns), req)));
            let path = f.path.display().to_string();
            let result = match p {
                Ok(p) => {
                    cp_state.total.merge(&p);
                    FileResult {
                        path,
                        rows: p.rows,
                        partitions: f.partitions.clone(),
                        status: "ok".into(),
                        error: None,
                    }
                }
                Err(e) => {
                    skipped.push(Skipped { path: path.clone(), error: e.clone() });
                    FileResult {
                        path,
                        rows: 0,
                        partitions: f.partitions.clone(),
                        status: "skipped".into(),
                        error: Some(e),
                    }
                }
            };
            cp_state.results.push(result);
            if let Some(st) = stamps.get(*next) {
                cp_state.done.push(st.clone());
            }
            *next += 1;
            progressed = true;
        }
        if let Some(cp) = checkpoint {
            if force || (progressed && last_save.elapsed() >= CHECKPOINT_EVERY) {
                save_checkpoint(cp, &cp_state);
                last_save = Instant::now();
            }
        }
    };
    let chunk = (rayon::current_num_threads() * 4).max(4);
    for window in units.chunks(chunk) {
        let results: Vec<Result<DatasetProfile, String>> = window
            .par_iter()
            .map(|&(fi, rg)| match state.get(&fi) {
                Some(Err(_)) => Err(String::new()),
                _ => profile_unit(&files[fi], rg, req),
            })
            .collect();
        for (&(fi, _), r) in window.iter().zip(results) {
            remaining[fi] -= 1;
            match (state.get_mut(&fi), r) {
                (None, r) => {
                    state.insert(fi, r);
                }
                (Some(Ok(acc)), Ok(p)) => acc.merge(&p),
                (Some(slot @ Ok(_)), Err(e)) => *slot = Err(e),
                (Some(Err(_)), _) => {}
            }
        }
        finalize(&mut state, &remaining, &mut next_file, false);
    }
    finalize(&mut state, &remaining, &mut next_file, true);
    Outcome { profile: cp_state.total, skipped, files: cp_state.results, resumed }
}

/// How often a checkpoint is written.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(2);
