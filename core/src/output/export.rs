//! The writers of whole files, behind one small trait: an [`Exporter`] names its file and turns
//! what a job made into the file's bytes; [`export`] writes a job's list of them, each
//! atomically, side by side. A table of a backfill's windows (hundreds of megabytes of CSV) is
//! streamed to its file in chunks encoded in parallel rather than made whole in memory first. A
//! job's files are therefore a list that reads like its output folder: [`MONITOR`],
//! [`MONITOR_QUALITY_ONLY`], [`BASELINE`], [`WINDOWS`], [`SEGMENTS`].
//!
//! Files written a piece at a time are not exporters: `watch`'s `windows.csv` grows as windows
//! close ([`super::windows::write_csv`]), the EMF log is appended to ([`super::metrics`]), and the
//! per-window folders are thousands of small files written in parallel
//! ([`super::windows::write_folders`]).

use std::io::Write;
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use rayon::prelude::*;

use super::report::MonitorReport;
use super::{to_json, write_atomic, write_atomic_with};
use crate::error::{one_line, Error, Result};
use crate::judge::sagemaker::{Constraints, Statistics, Violations};
use crate::profile::DatasetProfile;

/// One output file: its name, and its bytes made from a job's result `R`.
pub trait Exporter<R: ?Sized>: Sync {
    /// The file's name in the output folder.
    fn file_name(&self) -> &'static str;
    /// The file's bytes.
    ///
    /// # Errors
    /// [`Error::Output`] naming the file when its encoder fails.
    fn serialize(&self, run: &R) -> Result<Vec<u8>>;

    /// Writes the file at `path`, whole or not at all: by default [`Exporter::serialize`]'s
    /// bytes, which a large file streams instead.
    ///
    /// # Errors
    /// [`Error::Output`] naming the file when it cannot be made or written.
    fn write(&self, run: &R, path: &Path) -> Result<()> {
        write_atomic(path, &self.serialize(run)?)
    }
}

/// Writes each exporter's file for `run` into `dir`, side by side; returns their paths, in the
/// exporters' order.
///
/// # Errors
/// [`Error::Output`] for the first file in that order that cannot be made or written (every
/// other file is written, each whole or not at all).
pub fn export<R: ?Sized + Sync, E: Exporter<R> + ?Sized>(
    dir: &Path,
    exporters: &[&E],
    run: &R,
) -> Result<Vec<PathBuf>> {
    exporters
        .par_iter()
        .map(|e| {
            let p = dir.join(e.file_name());
            e.write(run, &p).map(|()| p)
        })
        .collect::<Vec<_>>()
        .into_iter()
        .collect()
}

/// What a monitoring run's files are made from.
pub struct MonitorRun<'a> {
    /// The report: verdicts, violations, timeline.
    pub report: &'a MonitorReport,
    /// The inputs' profile; `None` for a model-quality-only run.
    pub current: Option<&'a DatasetProfile>,
}

impl MonitorRun<'_> {
    fn current(&self, file: &str) -> Result<&DatasetProfile> {
        self.current.ok_or_else(|| Error::Output {
            path: file.into(),
            source: std::io::Error::other("a run without a data-quality profile has no such file"),
        })
    }
}

/// What a baseline's files are made from: its statistics, constraints and (for driftscope's
/// own baselines) the profile.
pub struct BaselineFiles<'a> {
    /// `statistics.json`.
    pub statistics: &'a Statistics,
    /// `constraints.json`.
    pub constraints: &'a Constraints,
    /// `profile.json`, when there is one.
    pub profile: Option<&'a DatasetProfile>,
}

/// `statistics.json`: SageMaker's statistics of a baseline, or of a monitoring run's inputs.
pub struct StatisticsJson;
/// `constraints.json`: SageMaker's constraints of a baseline.
pub struct ConstraintsJson;
/// `profile.json`: driftscope's full profile (bins, sketches), what a later run merges or
/// compares with.
pub struct ProfileJson;
/// `constraint_violations.json`: SageMaker's violations of a monitoring run.
pub struct ViolationsJson;
/// `drift.json`: the whole report as JSON.
pub struct DriftJson;
/// `report.html`: the report as one self-contained page.
pub struct HtmlReport;
/// A table as CSV under this file name (`windows.csv`, `segments.csv`).
pub struct CsvTable(pub &'static str);
/// A table as Parquet under this file name (`windows.parquet`, `segments.parquet`).
#[cfg(feature = "parquet")]
pub struct ParquetTable(pub &'static str);

impl Exporter<MonitorRun<'_>> for StatisticsJson {
    fn file_name(&self) -> &'static str {
        crate::judge::baseline::STATISTICS
    }
    fn serialize(&self, run: &MonitorRun<'_>) -> Result<Vec<u8>> {
        Ok(to_json(&crate::judge::baseline::statistics(run.current(crate::judge::baseline::STATISTICS)?)))
    }
}

impl Exporter<MonitorRun<'_>> for ViolationsJson {
    fn file_name(&self) -> &'static str {
        "constraint_violations.json"
    }
    fn serialize(&self, run: &MonitorRun<'_>) -> Result<Vec<u8>> {
        Ok(to_json(&Violations { violations: run.report.violations.clone() }))
    }
}

impl Exporter<MonitorRun<'_>> for DriftJson {
    fn file_name(&self) -> &'static str {
        "drift.json"
    }
    fn serialize(&self, run: &MonitorRun<'_>) -> Result<Vec<u8>> {
        Ok(to_json(run.report))
    }
}

impl Exporter<MonitorRun<'_>> for ProfileJson {
    fn file_name(&self) -> &'static str {
        crate::judge::baseline::PROFILE
    }
    fn serialize(&self, run: &MonitorRun<'_>) -> Result<Vec<u8>> {
        Ok(to_json(run.current(crate::judge::baseline::PROFILE)?))
    }
}

impl Exporter<MonitorRun<'_>> for HtmlReport {
    fn file_name(&self) -> &'static str {
        "report.html"
    }
    fn serialize(&self, run: &MonitorRun<'_>) -> Result<Vec<u8>> {
        Ok(super::report::html::render(run.report).into_bytes())
    }
}

impl Exporter<BaselineFiles<'_>> for StatisticsJson {
    fn file_name(&self) -> &'static str {
        crate::judge::baseline::STATISTICS
    }
    fn serialize(&self, run: &BaselineFiles<'_>) -> Result<Vec<u8>> {
        Ok(to_json(run.statistics))
    }
}

impl Exporter<BaselineFiles<'_>> for ConstraintsJson {
    fn file_name(&self) -> &'static str {
        crate::judge::baseline::CONSTRAINTS
    }
    fn serialize(&self, run: &BaselineFiles<'_>) -> Result<Vec<u8>> {
        Ok(to_json(run.constraints))
    }
}

impl Exporter<BaselineFiles<'_>> for ProfileJson {
    fn file_name(&self) -> &'static str {
        crate::judge::baseline::PROFILE
    }
    fn serialize(&self, run: &BaselineFiles<'_>) -> Result<Vec<u8>> {
        let p = run.profile.ok_or_else(|| Error::Output {
            path: crate::judge::baseline::PROFILE.into(),
            source: std::io::Error::other("this baseline has no driftscope profile"),
        })?;
        Ok(to_json(p))
    }
}

/// The format of `windows.csv`'s times.
pub(super) const TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

fn encode_error(file: &str, e: &dyn std::fmt::Display) -> Error {
    Error::Output { path: file.into(), source: std::io::Error::other(one_line(e)) }
}

/// Rows of a table encoded as CSV in one piece ([`write_csv`]).
const CSV_CHUNK_ROWS: usize = 16_384;

/// Writes `table` as CSV (a header, then a line per row) to `out`: chunks of
/// [`CSV_CHUNK_ROWS`] rows encoded in parallel, a few per thread at a time, and written in
/// order — the bytes of one encoding of the whole table.
fn write_csv(table: &RecordBatch, out: &mut dyn Write) -> std::io::Result<()> {
    let encode = |start: usize| -> std::io::Result<Vec<u8>> {
        let rows = table.slice(start, CSV_CHUNK_ROWS.min(table.num_rows() - start));
        let mut csv = Vec::new();
        arrow_csv::WriterBuilder::new()
            .with_header(start == 0)
            .with_timestamp_tz_format(TIME_FORMAT.into())
            .build(&mut csv)
            .write(&rows)
            .map_err(|e| std::io::Error::other(one_line(e)))?;
        Ok(csv)
    };
    // An empty table is its header.
    let starts: Vec<usize> = (0..table.num_rows().max(1)).step_by(CSV_CHUNK_ROWS).collect();
    for at_once in starts.chunks(2 * rayon::current_num_threads()) {
        for chunk in at_once.par_iter().map(|&s| encode(s)).collect::<Vec<_>>() {
            out.write_all(&chunk?)?;
        }
    }
    Ok(())
}

impl Exporter<RecordBatch> for CsvTable {
    fn file_name(&self) -> &'static str {
        self.0
    }
    fn serialize(&self, table: &RecordBatch) -> Result<Vec<u8>> {
        let mut csv = Vec::new();
        write_csv(table, &mut csv).map_err(|e| encode_error(self.file_name(), &e))?;
        Ok(csv)
    }
    fn write(&self, table: &RecordBatch, path: &Path) -> Result<()> {
        write_atomic_with(path, &mut |out| write_csv(table, out))
    }
}

#[cfg(feature = "parquet")]
impl Exporter<RecordBatch> for ParquetTable {
    fn file_name(&self) -> &'static str {
        self.0
    }
    fn serialize(&self, table: &RecordBatch) -> Result<Vec<u8>> {
        let mut pq = Vec::new();
        let mut w = parquet::arrow::ArrowWriter::try_new(&mut pq, table.schema(), None)
            .map_err(|e| encode_error(self.file_name(), &e))?;
        w.write(table).map_err(|e| encode_error(self.file_name(), &e))?;
        w.close().map_err(|e| encode_error(self.file_name(), &e))?;
        Ok(pq)
    }
}

/// A monitoring run's files.
pub const MONITOR: &[&dyn for<'a> Exporter<MonitorRun<'a>>] =
    &[&StatisticsJson, &ViolationsJson, &DriftJson, &ProfileJson, &HtmlReport];
/// A model-quality-only run's files besides `model_quality/` (no data-quality profile).
pub const MONITOR_QUALITY_ONLY: &[&dyn for<'a> Exporter<MonitorRun<'a>>] = &[&DriftJson, &HtmlReport];
/// A baseline's files (a calibrated baseline's too, when it has a profile).
pub const BASELINE: &[&dyn for<'a> Exporter<BaselineFiles<'a>>] = &[&StatisticsJson, &ConstraintsJson, &ProfileJson];
/// A baseline's files without a profile (a SageMaker baseline, calibrated).
pub const BASELINE_WITHOUT_PROFILE: &[&dyn for<'a> Exporter<BaselineFiles<'a>>] = &[&StatisticsJson, &ConstraintsJson];
/// A windowed run's tables.
#[cfg(feature = "parquet")]
pub const WINDOWS: &[&dyn Exporter<RecordBatch>] = &[&CsvTable("windows.csv"), &ParquetTable("windows.parquet")];
/// A windowed run's tables (`windows.parquet` needs the parquet feature).
#[cfg(not(feature = "parquet"))]
pub const WINDOWS: &[&dyn Exporter<RecordBatch>] = &[&CsvTable("windows.csv")];
/// A segmented run's tables.
#[cfg(feature = "parquet")]
pub const SEGMENTS: &[&dyn Exporter<RecordBatch>] = &[&CsvTable("segments.csv"), &ParquetTable("segments.parquet")];
/// A segmented run's tables (`segments.parquet` needs the parquet feature).
#[cfg(not(feature = "parquet"))]
pub const SEGMENTS: &[&dyn Exporter<RecordBatch>] = &[&CsvTable("segments.csv")];
/// The tables of a run judging each segment per window.
#[cfg(feature = "parquet")]
pub const SEGMENTS_WINDOWS: &[&dyn Exporter<RecordBatch>] =
    &[&CsvTable("segments_windows.csv"), &ParquetTable("segments_windows.parquet")];
/// The tables of a run judging each segment per window (the Parquet one needs the parquet
/// feature).
#[cfg(not(feature = "parquet"))]
pub const SEGMENTS_WINDOWS: &[&dyn Exporter<RecordBatch>] = &[&CsvTable("segments_windows.csv")];
