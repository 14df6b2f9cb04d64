//! `calibrate`: drift thresholds set from a history of windows judged normal.

use std::path::PathBuf;

use crate::error::Result;
use crate::judge::baseline::Baseline;
use crate::output::export::{export, BaselineFiles, BASELINE, BASELINE_WITHOUT_PROFILE};
use crate::output::{to_json, write_files};
use crate::source::scan::Skipped;
use crate::time::timeline::{self, WindowReference};

use super::{scan_inputs, windows_pass, JobOptions};
use crate::output::folder::{check_output, Job};

/// What a calibration run found and wrote.
#[derive(Debug)]
pub struct CalibrateOutcome {
    /// Per feature: the calibrated threshold and its expected false-alarm rate.
    pub calibrations: Vec<crate::time::calibrate::Calibration>,
    /// Windows of history judged.
    pub windows: usize,
    /// Rows of history read.
    pub rows: u64,
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
        return Err(crate::error::invalid(
            crate::Opt::FalseAlarmRate,
            format!("expected a rate between 0 and 1, got {rate}"),
        ));
    }
    check_output(&opts.output, Some(baseline_dir), Job::Baseline, opts.force)?;
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
        return Err(crate::error::invalid(
            crate::Opt::TimeColumn,
            format!("'{}': no row of the history holds a time", w.column),
        ));
    }
    // A rate of r needs at least 1/r − 1 windows: with fewer, the largest distance of the history
    // is all there is, and its rate is not the one asked.
    let needed = (1.0 / rate).ceil() as usize - 1;
    if results.len() < needed {
        return Err(crate::error::invalid(
            crate::Opt::FalseAlarmRate,
            format!(
                "{rate} needs a history of at least {needed} windows; this one holds {} windows of {} (a rate of {:.4} at best): give a longer history or shorter windows, or ask for a rate of at least {:.4}",
                results.len(),
                w.window,
                1.0 / (results.len() + 1) as f64,
                1.0 / (results.len() + 1) as f64
            ),
        ));
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
    let files =
        BaselineFiles { statistics: &base.statistics, constraints: &constraints, profile: base.profile.as_ref() };
    let exporters = if base.profile.is_some() { BASELINE } else { BASELINE_WITHOUT_PROFILE };
    let mut written = export(&opts.output, exporters, &files)?;
    written.extend(write_files(&opts.output, [("calibration.json", to_json(&file))])?);
    // What the calibration does not touch is the same in the calibrated folder: the segments,
    // the multivariate model, the attributions and bias baselines, and model quality (its
    // settings and estimation model included).
    let carried: Vec<(String, Vec<u8>)> = carried_files()
        .into_iter()
        .filter_map(|name| std::fs::read(base.dir.join(&name)).ok().map(|bytes| (name, bytes)))
        .collect();
    written.extend(write_files(&opts.output, carried)?);
    let mut skipped = s.skipped.clone();
    skipped.extend(outcome.skipped);
    Ok(CalibrateOutcome {
        calibrations,
        windows: results.len(),
        rows: outcome.profile.rows,
        skipped,
        backend: backend_note,
        written,
    })
}

/// The files of a baseline folder that `calibrate` carries over as they are.
fn carried_files() -> Vec<String> {
    use crate::quality::run::{FOLDER, SETTINGS};
    let quality = ["statistics.json", "constraints.json", SETTINGS, crate::quality::estimate::FILE];
    let mut v = vec![
        crate::judge::segments::SEGMENTS.to_string(),
        crate::judge::multivariate::MULTIVARIATE.to_string(),
        crate::judge::attribution::ANALYSIS.to_string(),
        format!("{}/{}", crate::output::bias::FOLDER, crate::judge::attribution::ANALYSIS),
    ];
    v.extend(quality.iter().map(|f| format!("{FOLDER}/{f}")));
    v
}
