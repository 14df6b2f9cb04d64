//! Bias files, in `bias/`: Clarify's `analysis.json` (the baseline's, and a monitoring run's
//! current metrics), a run's `constraint_violations.json` (`bias_drift_check`), as SageMaker's
//! bias jobs write them, and `windows.csv` (one row per window, facet and metric).

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::judge::bias::{BiasAnalysis, BiasViolation};
use crate::output::{to_json, write_atomic};

/// The folder of bias files, in a baseline folder and in a run's.
pub const FOLDER: &str = "bias";

/// The violations file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Violations<'a> {
    /// `"1.0"`.
    pub version: &'static str,
    /// The violations.
    pub violations: &'a [BiasViolation],
}

/// One window's analysis, violations and each metric's sampling noise (empty under Clarify's
/// rule), by (facet, value, metric): start and end (ms).
pub type WindowBias = (i64, i64, BiasAnalysis, Vec<BiasViolation>, crate::judge::bias::Noise);

/// Writes a baseline's `bias/analysis.json`; returns its path.
///
/// # Errors
/// [`crate::Error::Output`] when the file cannot be written.
pub fn write_baseline(dir: &Path, analysis: &BiasAnalysis) -> Result<PathBuf> {
    let p = dir.join(FOLDER).join(crate::judge::attribution::ANALYSIS);
    write_atomic(&p, &to_json(analysis))?;
    Ok(p)
}

/// The baseline's standard errors of its metrics, beside its `analysis.json`.
pub const NOISE: &str = "noise.json";

/// Writes a baseline's `bias/noise.json`; returns its path.
///
/// # Errors
/// [`crate::Error::Output`] when the file cannot be written.
pub fn write_baseline_noise(dir: &Path, noise: &crate::judge::bias::Noise) -> Result<PathBuf> {
    let p = dir.join(FOLDER).join(NOISE);
    write_atomic(&p, &to_json(&crate::judge::bias::BaselineNoise::of(noise)))?;
    Ok(p)
}

/// Writes a monitoring run's bias files; returns their paths.
///
/// # Errors
/// [`crate::Error::Output`] when a file cannot be written.
pub fn write(
    dir: &Path,
    current: &BiasAnalysis,
    violations: &[BiasViolation],
    windows: &[WindowBias],
) -> Result<Vec<PathBuf>> {
    let mut written = vec![write_baseline(dir, current)?];
    let p = dir.join(FOLDER).join("constraint_violations.json");
    write_atomic(&p, &to_json(&Violations { version: "1.0", violations }))?;
    written.push(p);
    if !windows.is_empty() {
        let p = dir.join(FOLDER).join("windows.csv");
        let rows = windows.iter().flat_map(|(start, end, analysis, violations, noise)| {
            analysis.entries().map(move |(facet, value, m)| {
                let se = noise.get(&(facet.to_string(), value.to_string(), m.name.clone()));
                let violated =
                    violations.iter().any(|v| v.facet == facet && v.facet_value == value && v.metric_name == m.name);
                let shown = m.value.as_ref().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string));
                vec![
                    crate::engine::window::iso(*start),
                    crate::engine::window::iso(*end),
                    facet.to_string(),
                    value.to_string(),
                    m.name.clone(),
                    shown.unwrap_or_default(),
                    se.map(|x| x.to_string()).unwrap_or_default(),
                    violated.to_string(),
                ]
            })
        });
        let header =
            ["window_start", "window_end", "facet", "facet_value", "metric", "value", "standard_error", "violation"];
        crate::output::write_csv(&p, &header, rows)?;
        written.push(p);
    }
    Ok(written)
}
