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

/// Writes `windows.csv`, `windows.parquet` and each window's `constraint_violations.json`
/// under `dir`; every file is written whole or not at all.
pub fn write(dir: &Path, window: &Window, results: &[WindowResult], table: &RecordBatch) -> Result<Vec<PathBuf>> {
    // windows.parquet needs the parquet feature (the CLI always has it). The tables are made
    // while the file system makes the window folders (thousands of them in a backfill).
    let (tables, folders) = rayon::join(|| export(dir, WINDOWS, table), || write_folders(dir, window, results));
    let mut written = tables?;
    written.extend(folders?);
    Ok(written)
}

/// Writes each window's `windows/yyyy/mm/dd/hh/constraint_violations.json` under `dir`, each
/// whole or not at all, with one sync for all of them ([`write_atomic_all`]).
pub fn write_folders(dir: &Path, window: &Window, results: &[WindowResult]) -> Result<Vec<PathBuf>> {
    let files: Vec<(PathBuf, Vec<u8>)> = results
        .par_iter()
        .map(|r| {
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
