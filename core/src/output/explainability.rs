//! A monitoring run's feature attribution files, in `explainability/`: Clarify's `analysis.json`
//! of the current global attributions and its `constraint_violations.json`, as SageMaker's
//! explainability job writes them, and `windows.csv` (one row per window and label).

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::judge::attribution::{Analysis, LabelVerdict, Violations, ANALYSIS, FOLDER};
use crate::output::{to_json, write_atomic};

/// One window's verdicts: its start and end (ms) and each label's.
pub type WindowVerdicts = (i64, i64, Vec<LabelVerdict>);

/// Writes a baseline's `analysis.json`; returns its path.
///
/// # Errors
/// [`crate::Error::Output`] when the file cannot be written.
pub fn write_baseline(dir: &Path, analysis: &Analysis) -> Result<PathBuf> {
    let p = dir.join(ANALYSIS);
    write_atomic(&p, &to_json(analysis))?;
    Ok(p)
}

/// Writes a monitoring run's files; returns their paths.
///
/// # Errors
/// [`crate::Error::Output`] when a file cannot be written.
pub fn write(
    dir: &Path,
    current: &Analysis,
    violations: &Violations,
    windows: &[WindowVerdicts],
) -> Result<Vec<PathBuf>> {
    let folder = dir.join(FOLDER);
    let mut written = Vec::new();
    let p = folder.join(ANALYSIS);
    write_atomic(&p, &to_json(current))?;
    written.push(p);
    let p = folder.join("constraint_violations.json");
    write_atomic(&p, &to_json(violations))?;
    written.push(p);
    if !windows.is_empty() {
        let p = folder.join("windows.csv");
        let rows = windows.iter().flat_map(|(start, end, verdicts)| {
            verdicts.iter().map(move |v| {
                let top: Vec<&str> = v.top_current.iter().map(|r| r.feature.as_str()).collect();
                vec![
                    crate::engine::window::iso(*start),
                    crate::engine::window::iso(*end),
                    v.label.clone(),
                    v.ndcg.map(|x| x.to_string()).unwrap_or_default(),
                    v.threshold.to_string(),
                    v.status.to_string(),
                    v.reason.clone().unwrap_or_default(),
                    top.join(" "),
                ]
            })
        });
        let header = ["window_start", "window_end", "label", "ndcg", "threshold", "status", "reason", "top_features"];
        crate::output::write_csv(&p, &header, rows)?;
        written.push(p);
    }
    Ok(written)
}
