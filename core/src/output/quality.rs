//! The model-quality files: a baseline's `model_quality/` folder (SageMaker's statistics and
//! constraints, driftscope's settings), a monitoring run's (statistics and violations), and the
//! per-window metrics in `model_quality/windows.csv`.

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::output::{to_json, write_atomic, write_files};
use crate::quality::join::{QualityOutcome, WindowQuality};
use crate::quality::run::{QualityReport, FOLDER, SETTINGS};
use crate::quality::sagemaker::{constraints_json, statistics_json, suggest};
use crate::quality::QualitySettings;

/// Writes `model_quality/windows.csv`: per window its start, end, rows and every metric.
///
/// # Errors
/// [`Error::Output`] when it cannot be written.
pub fn write_windows(dir: &Path, windows: &[WindowQuality]) -> Result<PathBuf> {
    let mut names: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    for w in windows {
        names.extend(w.metrics.values.keys().map(String::as_str));
    }
    let iso = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default()
    };
    let mut out = String::from("window_start,window_end,rows");
    for n in &names {
        out.push(',');
        out.push_str(n);
    }
    out.push('\n');
    for w in windows {
        out.push_str(&format!("{},{},{}", iso(w.start), iso(w.end), w.metrics.rows));
        for n in &names {
            out.push(',');
            if let Some(m) = w.metrics.values.get(*n) {
                out.push_str(&m.value.to_string());
            }
        }
        out.push('\n');
    }
    let p = dir.join(FOLDER).join("windows.csv");
    write_atomic(&p, out.as_bytes())?;
    Ok(p)
}

/// Writes a baseline's model-quality files; returns their paths.
///
/// # Errors
/// [`Error::Output`] when a file cannot be written.
pub fn write_baseline(dir: &Path, settings: &QualitySettings, out: &QualityOutcome) -> Result<Vec<PathBuf>> {
    write_files(
        &dir.join(FOLDER),
        [
            ("statistics.json", to_json(&statistics_json(&out.metrics))),
            ("constraints.json", to_json(&constraints_json(&suggest(&out.metrics)))),
            (SETTINGS, to_json(settings)),
        ],
    )
}

/// Writes a monitoring run's model-quality files: the metrics and the violations of `report`.
///
/// # Errors
/// [`crate::Error::Output`] when a file cannot be written.
pub fn write_monitor(dir: &Path, report: &QualityReport) -> Result<Vec<PathBuf>> {
    write_files(
        &dir.join(FOLDER),
        [
            ("statistics.json", to_json(&statistics_json(&report.outcome.metrics))),
            ("constraint_violations.json", to_json(&serde_json::json!({ "violations": report.violations }))),
        ],
    )
}
