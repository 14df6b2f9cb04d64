//! The output folder of a job: what it may be (never the baseline folder, never over another
//! job's outputs without `force`), and its tidying when the job returns.

use std::path::PathBuf;

use crate::engine::Checkpoint;
use crate::error::{Error, Result};
use crate::judge::baseline;
use crate::time::changepoint::CHANGEPOINTS;

/// The jobs, as the output folder check tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// `baseline` and `calibrate`: the folder becomes a baseline.
    Baseline,
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
pub(crate) struct OutputGuard {
    dir: PathBuf,
    created: bool,
    checkpoints: Vec<PathBuf>,
}

impl OutputGuard {
    pub(crate) fn new(dir: &std::path::Path) -> Self {
        OutputGuard { dir: dir.to_path_buf(), created: !dir.exists(), checkpoints: Vec::new() }
    }
    pub(crate) fn track(&mut self, cp: &Checkpoint) {
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
