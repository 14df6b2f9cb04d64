//! The model-quality files: a baseline's `model_quality/` folder (SageMaker's statistics and
//! constraints, driftscope's settings), a monitoring run's (statistics and violations), each an
//! [`Exporter`], and the per-window metrics in `model_quality/windows.csv`.

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::output::export::{export, Exporter};
use crate::output::{to_json, write_atomic};
use crate::quality::join::{QualityOutcome, WindowQuality};
use crate::quality::run::{QualityReport, FOLDER, SETTINGS};
use crate::quality::sagemaker::{constraints_json, statistics_json, suggest};
use crate::quality::QualitySettings;

/// Writes `model_quality/windows.csv`: per window its start, end, rows and every metric.
///
/// # Errors
/// [`crate::Error::Output`] when it cannot be written.
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

/// What a baseline's model-quality files are made from.
pub struct QualityBaselineRun<'a> {
    /// The columns, problem type and threshold.
    pub settings: &'a QualitySettings,
    /// The metrics.
    pub outcome: &'a QualityOutcome,
}

/// `model_quality/statistics.json`: SageMaker's model-quality metrics.
pub struct QualityStatisticsJson;
/// `model_quality/constraints.json`: SageMaker's model-quality constraints, suggested.
pub struct QualityConstraintsJson;
/// `model_quality/settings.json`: driftscope's problem type, columns and threshold.
pub struct QualitySettingsJson;
/// `model_quality/constraint_violations.json`: a monitoring run's model-quality violations.
pub struct QualityViolationsJson;

impl Exporter<QualityBaselineRun<'_>> for QualityStatisticsJson {
    fn file_name(&self) -> &'static str {
        "statistics.json"
    }
    fn serialize(&self, run: &QualityBaselineRun<'_>) -> Result<Vec<u8>> {
        Ok(to_json(&statistics_json(&run.outcome.metrics)))
    }
}

impl Exporter<QualityBaselineRun<'_>> for QualityConstraintsJson {
    fn file_name(&self) -> &'static str {
        "constraints.json"
    }
    fn serialize(&self, run: &QualityBaselineRun<'_>) -> Result<Vec<u8>> {
        Ok(to_json(&constraints_json(&suggest(&run.outcome.metrics))))
    }
}

impl Exporter<QualityBaselineRun<'_>> for QualitySettingsJson {
    fn file_name(&self) -> &'static str {
        SETTINGS
    }
    fn serialize(&self, run: &QualityBaselineRun<'_>) -> Result<Vec<u8>> {
        Ok(to_json(run.settings))
    }
}

impl Exporter<QualityReport> for QualityStatisticsJson {
    fn file_name(&self) -> &'static str {
        "statistics.json"
    }
    fn serialize(&self, report: &QualityReport) -> Result<Vec<u8>> {
        Ok(to_json(&statistics_json(&report.outcome.metrics)))
    }
}

impl Exporter<QualityReport> for QualityViolationsJson {
    fn file_name(&self) -> &'static str {
        "constraint_violations.json"
    }
    fn serialize(&self, report: &QualityReport) -> Result<Vec<u8>> {
        Ok(to_json(&serde_json::json!({ "violations": report.violations })))
    }
}

/// A baseline's model-quality files, in its `model_quality/` folder.
pub const BASELINE: &[&dyn for<'a> Exporter<QualityBaselineRun<'a>>] =
    &[&QualityStatisticsJson, &QualityConstraintsJson, &QualitySettingsJson];
/// A monitoring run's model-quality files, in its `model_quality/` folder.
pub const MONITOR: &[&dyn Exporter<QualityReport>] = &[&QualityStatisticsJson, &QualityViolationsJson];

/// Writes a baseline's model-quality files; returns their paths.
///
/// # Errors
/// [`crate::Error::Output`] when a file cannot be written.
pub fn write_baseline(dir: &Path, settings: &QualitySettings, outcome: &QualityOutcome) -> Result<Vec<PathBuf>> {
    export(&dir.join(FOLDER), BASELINE, &QualityBaselineRun { settings, outcome })
}

/// Writes a monitoring run's model-quality files: the metrics and the violations of `report`.
///
/// # Errors
/// [`crate::Error::Output`] when a file cannot be written.
pub fn write_monitor(dir: &Path, report: &QualityReport) -> Result<Vec<PathBuf>> {
    export(&dir.join(FOLDER), MONITOR, report)
}

/// A baseline's performance estimation model, `model_quality/estimation.json`, when it has one.
///
/// # Errors
/// [`crate::Error::Output`] when it cannot be written.
pub fn write_estimation(
    dir: &Path,
    model: Option<&crate::quality::estimate::EstimationModel>,
) -> Result<Option<std::path::PathBuf>> {
    let Some(m) = model else { return Ok(None) };
    let p = dir.join(crate::quality::run::FOLDER).join(crate::quality::estimate::FILE);
    crate::output::write_atomic(&p, &crate::output::to_json(m))?;
    Ok(Some(p))
}
