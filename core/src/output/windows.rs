//! The files of a windowed run: `windows.csv` and `windows.parquet` (one row per window and
//! feature, [`crate::time::timeline::table`]), and one folder per window in SageMaker's hourly
//! layout holding its `constraint_violations.json`. `watch` adds windows to `windows.csv` as they
//! close ([`csv_rows`], [`write_csv`]).

use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use rayon::prelude::*;

use crate::engine::window::Window;
use crate::error::{one_line, Error, Result};
use crate::judge::sagemaker::Violations;
use crate::output::export::{export, TIME_FORMAT, WINDOWS};
use crate::output::{to_json, write_atomic, write_atomic_all};
use crate::time::timeline::WindowResult;

/// The folder of one window in SageMaker's hourly layout: `yyyy/mm/dd/hh`, with the minute
/// below it for windows shorter than an hour.
pub fn folder(start: i64, window: &Window) -> PathBuf {
    if window.rows_per_window().is_some() {
        return PathBuf::from(format!("rows/{start:09}"));
    }
    let fmt = if window.is_sub_hour() { "%Y/%m/%d/%H/%M" } else { "%Y/%m/%d/%H" };
    let d = chrono::DateTime::from_timestamp_millis(start).unwrap_or_default();
    PathBuf::from(d.format(fmt).to_string())
}

/// Which windows of a run get a folder with their own `constraint_violations.json`
/// (`windows.csv` and `windows.parquet` hold every window either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WindowFiles {
    /// Every window, as SageMaker's hourly monitoring writes one per execution.
    #[default]
    All,
    /// Only windows with a violation (a backfill of years writes tens of thousands of folders
    /// otherwise).
    Violations,
    /// None.
    None,
}

impl std::str::FromStr for WindowFiles {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<WindowFiles, String> {
        match s {
            "all" => Ok(WindowFiles::All),
            "violations" => Ok(WindowFiles::Violations),
            "none" => Ok(WindowFiles::None),
            other => Err(format!("expected all, violations or none, got '{other}'")),
        }
    }
}

impl WindowFiles {
    /// Whether the window of `r` gets its folder.
    fn keeps(self, r: &WindowResult) -> bool {
        match self {
            WindowFiles::All => true,
            WindowFiles::Violations => !r.violations.is_empty(),
            WindowFiles::None => false,
        }
    }
}

/// Writes `windows.csv`, `windows.parquet` and the `constraint_violations.json` of each window
/// `files` keeps under `dir`; every file is written whole or not at all.
pub fn write(
    dir: &Path,
    window: &Window,
    (results, files): (&[WindowResult], WindowFiles),
    table: &RecordBatch,
) -> Result<Vec<PathBuf>> {
    // windows.parquet needs the parquet feature (the CLI always has it). The tables are made
    // while the file system makes the window folders (thousands of them in a backfill).
    let kept: Vec<&WindowResult> = results.iter().filter(|r| files.keeps(r)).collect();
    let (tables, folders) = rayon::join(|| export(dir, WINDOWS, table), || write_folders(dir, window, &kept));
    let mut written = tables?;
    written.extend(folders?);
    Ok(written)
}

/// Writes each window's `windows/yyyy/mm/dd/hh/constraint_violations.json` under `dir`, each
/// whole or not at all, with one sync for all of them ([`write_atomic_all`]).
pub fn write_folders<R: std::borrow::Borrow<WindowResult> + Sync>(
    dir: &Path,
    window: &Window,
    results: &[R],
) -> Result<Vec<PathBuf>> {
    let files: Vec<(PathBuf, Vec<u8>)> = results
        .par_iter()
        .map(|r| {
            let r = r.borrow();
            let p = dir.join("windows").join(folder(r.start, window)).join("constraint_violations.json");
            (p, to_json(&Violations { violations: r.violations.clone() }))
        })
        .collect();
    write_atomic_all(&files)?;
    Ok(files.into_iter().map(|(p, _)| p).collect())
}

/// The lines of `windows.csv` for `table`'s rows, without the header.
pub fn csv_rows(table: &RecordBatch) -> Result<Vec<String>> {
    let mut csv = Vec::new();
    {
        let mut w = arrow_csv::WriterBuilder::new()
            .with_header(false)
            .with_timestamp_tz_format(TIME_FORMAT.into())
            .build(&mut csv);
        w.write(table)
            .map_err(|e| Error::Output { path: "windows.csv".into(), source: std::io::Error::other(one_line(e)) })?;
    }
    Ok(String::from_utf8_lossy(&csv).lines().map(str::to_string).collect())
}

/// Writes `dir/windows.csv` whole: the header of [`crate::time::timeline::table`]'s columns and
/// `rows` (from [`csv_rows`]).
pub fn write_csv(dir: &Path, rows: &[String]) -> Result<PathBuf> {
    let empty = crate::time::timeline::table(&[], &crate::engine::ProfileSet::default())?;
    let mut all = empty.schema().fields().iter().map(|f| f.name().clone()).collect::<Vec<_>>().join(",");
    for line in rows {
        all.push('\n');
        all.push_str(line);
    }
    all.push('\n');
    let p = dir.join("windows.csv");
    write_atomic(&p, all.as_bytes())?;
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_folders_follow_the_hourly_layout() {
        let t = crate::time::timeline::parse_instant("2026-11-28T14:45:00Z").unwrap();
        assert_eq!(folder(t, &"1h".parse().unwrap()), PathBuf::from("2026/11/28/14"));
        assert_eq!(folder(t, &"15m".parse().unwrap()), PathBuf::from("2026/11/28/14/45"));
    }
}
