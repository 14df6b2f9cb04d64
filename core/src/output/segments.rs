//! The files of a segmented run: `segments.csv` and `segments.parquet` (one row per segment and
//! feature, [`crate::judge::segments::table`]), one folder per segment holding its
//! `constraint_violations.json` (`segments/region=eu/…`, Hive's partition layout), and a
//! baseline's `segments.json`.

use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;

use crate::error::Result;
use crate::judge::sagemaker::Violations;
use crate::judge::segments::{SegmentResult, SegmentSet, SEGMENTS};
use crate::output::export::{export, SEGMENTS as TABLES};
use crate::output::{to_json, write_atomic, write_atomic_all};

/// Writes `segments.csv`, `segments.parquet` and each segment's
/// `segments/<col>=<value>/constraint_violations.json` under `dir`; every file is written whole
/// or not at all.
pub fn write(dir: &Path, results: &[SegmentResult], table: &RecordBatch) -> Result<Vec<PathBuf>> {
    let mut written = export(dir, TABLES, table)?;
    let files: Vec<(PathBuf, Vec<u8>)> = results
        .iter()
        .map(|r| {
            let p = dir.join("segments").join(&r.segment).join("constraint_violations.json");
            (p, to_json(&Violations { violations: r.violations.clone() }))
        })
        .collect();
    write_atomic_all(&files)?;
    written.extend(files.into_iter().map(|(p, _)| p));
    Ok(written)
}

/// Writes a baseline's `segments.json` into `dir`.
pub fn write_baseline(dir: &Path, set: &SegmentSet) -> Result<PathBuf> {
    let p = dir.join(SEGMENTS);
    write_atomic(&p, &set.to_file())?;
    Ok(p)
}
