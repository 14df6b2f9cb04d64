//! The output stage: the report model and its writers — whole files behind one trait
//! ([`export`]: SageMaker JSON, the profile, HTML and Markdown, the windows' tables), the report
//! model and its renderers ([`report`]), the windowed run's folders ([`windows`]),
//! model quality ([`quality`]), CloudWatch EMF and Prometheus ([`metrics`]) — the output folder's
//! guard ([`folder`]), pretty JSON, and the one atomic-write helper every file goes through
//! ([`write_atomic`]; the file engine's checkpoint takes it as a function, so the engine writes
//! nothing itself).
//!
//! It imports every stage below it (source, profile, engine, judge, time, quality) and is
//! imported only by the jobs. Files are written elsewhere only where no output is made: the
//! object-store staging folder ([`crate::source::remote`]), the bench's generated captures
//! ([`crate::source::synth`]) and the model-quality join's spills ([`crate::quality::join`]).

pub mod alert;
pub mod bias;
pub mod explainability;
pub mod export;
pub mod folder;
pub mod metrics;
pub mod quality;
pub mod report;
pub mod segments;
pub mod windows;

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::profile::DatasetProfile;
use report::MonitorReport;

pub use crate::codec::to_json;

/// Writes a CSV file of `header` and `rows` to `path` ([`write_atomic`]).
///
/// # Errors
/// [`Error::Output`] when it cannot be written.
pub fn write_csv<I: IntoIterator<Item = Vec<String>>>(path: &Path, header: &[&str], rows: I) -> Result<()> {
    let fail = |e: String| Error::Output { path: path.into(), source: std::io::Error::other(e) };
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).map_err(|e| fail(e.to_string()))?;
    for r in rows {
        w.write_record(&r).map_err(|e| fail(e.to_string()))?;
    }
    let bytes = w.into_inner().map_err(|e| fail(e.to_string()))?;
    write_atomic(path, &bytes)
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so that a
/// reader never sees a half-written file. `-` writes to stdout.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, &mut |w| w.write_all(bytes))
}

/// [`write_atomic`] of what `write` writes, streamed to the file (through a buffer) rather than
/// held whole in memory first: a windowed run's checkpoint can be hundreds of megabytes.
pub fn write_atomic_with(path: &Path, write: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    if path.as_os_str() == "-" {
        let mut out = std::io::stdout().lock();
        return write(&mut out).and_then(|_| out.flush()).map_err(|source| Error::Output { path: path.into(), source });
    }
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|source| Error::Output { path: dir.into(), source })?;
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
        write(&mut f)?;
        f.into_inner().map_err(std::io::IntoInnerError::into_error)?.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(source) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::Output { path: path.into(), source });
    }
    Ok(())
}

/// Writes every `(path, bytes)` of `files`, each whole or not at all, with one flush to disk
/// for them all: each file's bytes go to a temporary file beside it (in parallel), the file
/// systems holding them are synced once (`syncfs` on Linux; each file elsewhere), and each is
/// then renamed into place. Thousands of per-window files thus cost one sync instead of one
/// each (a fsync takes about 0.4 ms on a virtual disk: 35 s for ten years of hourly windows).
/// A file that already holds exactly its bytes (a backfill run again over its output, `watch`
/// judging its windows again) is left as it is: reading a few kilobytes back costs far less
/// than a new file, a rename and the old file's release.
///
/// # Errors
/// [`Error::Output`] naming the first file that cannot be written; no temporary file is left,
/// and no file is renamed into place unless every file's bytes reached the disk.
pub fn write_atomic_all(files: &[(PathBuf, Vec<u8>)]) -> Result<()> {
    use rayon::prelude::*;
    let tmp = |path: &Path| {
        let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
    };
    let changed: Vec<&(PathBuf, Vec<u8>)> = files.par_iter().filter(|(path, bytes)| !holds(path, bytes)).collect();
    let clean = || changed.par_iter().for_each(|(p, _)| drop(std::fs::remove_file(tmp(p))));
    let staged: Result<()> = changed.par_iter().try_for_each(|(path, bytes)| {
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|source| Error::Output { path: dir.into(), source })?;
        std::fs::write(tmp(path), bytes).map_err(|source| Error::Output { path: path.clone(), source })
    });
    let synced = staged.and_then(|()| sync_files(changed.iter().map(|(p, _)| tmp(p))));
    if let Err(e) = synced {
        clean();
        return Err(e);
    }
    let renamed = changed.par_iter().try_for_each(|(path, _)| {
        std::fs::rename(tmp(path), path).map_err(|source| Error::Output { path: path.clone(), source })
    });
    if renamed.is_err() {
        clean();
    }
    renamed
}

/// True when `path` is a file holding exactly `bytes`.
fn holds(path: &Path, bytes: &[u8]) -> bool {
    use std::io::Read;
    let Ok(f) = std::fs::File::open(path) else { return false };
    if !f.metadata().is_ok_and(|m| m.is_file() && m.len() == bytes.len() as u64) {
        return false;
    }
    // One byte more than expected is read, so that a file that grew since is seen.
    let mut held = Vec::with_capacity(bytes.len() + 1);
    f.take(bytes.len() as u64 + 1).read_to_end(&mut held).is_ok() && held == bytes
}

/// Flushes the written files `paths` to disk: once per file system on Linux.
#[cfg(target_os = "linux")]
fn sync_files(paths: impl Iterator<Item = PathBuf>) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let mut devices = std::collections::BTreeSet::new();
    for p in paths {
        let meta = std::fs::metadata(&p).map_err(|source| Error::Output { path: p.clone(), source })?;
        if devices.insert(meta.dev()) {
            let f = std::fs::File::open(&p).map_err(|source| Error::Output { path: p.clone(), source })?;
            rustix::fs::syncfs(&f).map_err(|e| Error::Output { path: p, source: e.into() })?;
        }
    }
    Ok(())
}

/// Flushes the written files `paths` to disk, one by one.
#[cfg(not(target_os = "linux"))]
fn sync_files(paths: impl Iterator<Item = PathBuf>) -> Result<()> {
    for p in paths {
        std::fs::File::open(&p).and_then(|f| f.sync_all()).map_err(|source| Error::Output { path: p, source })?;
    }
    Ok(())
}

/// Writes each `(name, bytes)` of `files` into `dir` atomically, in order; returns their paths.
///
/// # Errors
/// [`Error::Output`] for the first file that cannot be written (those before it are written).
pub fn write_files<N: AsRef<Path>>(dir: &Path, files: impl IntoIterator<Item = (N, Vec<u8>)>) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (name, bytes) in files {
        let p = dir.join(name);
        write_atomic(&p, &bytes)?;
        written.push(p);
    }
    Ok(written)
}

/// Writes a baseline's files into `out` from its profile: `statistics.json`, `constraints.json`
/// (suggested from the profile) and `profile.json`, each atomically; returns their paths.
///
/// # Errors
/// [`Error::Output`] when a file cannot be written.
pub fn write_baseline_files(out: &Path, profile: &DatasetProfile) -> Result<Vec<PathBuf>> {
    let statistics = crate::judge::baseline::statistics(profile);
    let constraints = crate::judge::baseline::suggest_constraints(profile);
    let files = export::BaselineFiles { statistics: &statistics, constraints: &constraints, profile: Some(profile) };
    export::export(out, export::BASELINE, &files)
}

/// Writes a monitoring run's files into `out`: `statistics.json`, `constraint_violations.json`,
/// `drift.json`, `profile.json` and `report.html` (each atomically); returns their paths.
///
/// # Errors
/// [`Error::Output`] when a file cannot be written.
pub fn write_monitor_files(out: &Path, report: &MonitorReport, current: &DatasetProfile) -> Result<Vec<PathBuf>> {
    export::export(out, export::MONITOR, &export::MonitorRun { report, current: Some(current) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_leaves_no_temp() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("sub/out.json");
        write_atomic(&p, b"{}").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"{}");
        let names: Vec<_> = std::fs::read_dir(d.path().join("sub")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1);
    }

    /// Files of many folders: all written with their bytes and no temporary file left; when one
    /// cannot be written (its folder is a file), none is put in place and no temporary file is
    /// left either.
    #[test]
    fn write_atomic_all_is_all_or_nothing() {
        let d = tempfile::tempdir().unwrap();
        let files: Vec<(PathBuf, Vec<u8>)> = (0..50)
            .map(|i| (d.path().join(format!("w/{:02}/{}/v.json", i % 7, i)), format!("{i}").into_bytes()))
            .collect();
        write_atomic_all(&files).unwrap();
        for (p, bytes) in &files {
            assert_eq!(&std::fs::read(p).unwrap(), bytes);
            assert_eq!(std::fs::read_dir(p.parent().unwrap()).unwrap().count(), 1, "{}", p.display());
        }
        std::fs::write(d.path().join("blocked"), b"a file").unwrap();
        let mut bad: Vec<(PathBuf, Vec<u8>)> =
            (0..20).map(|i| (d.path().join(format!("x/{i}.json")), b"new".to_vec())).collect();
        bad.push((d.path().join("blocked/v.json"), b"new".to_vec()));
        let err = write_atomic_all(&bad).unwrap_err().to_string();
        assert!(err.contains("blocked"), "{err}");
        let left: Vec<_> = std::fs::read_dir(d.path().join("x")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(left.is_empty(), "{left:?}");
    }

    /// Written again, a file that already holds its bytes is left as it is (the same inode, no
    /// temporary file), while files whose bytes differ — in content, or only in length — are
    /// replaced.
    #[cfg(unix)]
    #[test]
    fn write_atomic_all_leaves_files_that_hold_their_bytes() {
        use std::os::unix::fs::MetadataExt;
        let d = tempfile::tempdir().unwrap();
        let path = |i: usize| d.path().join(format!("w/{i}/v.json"));
        let first: Vec<(PathBuf, Vec<u8>)> = (0..4).map(|i| (path(i), format!("{{\"n\":{i}}}").into_bytes())).collect();
        write_atomic_all(&first).unwrap();
        let inode = |i: usize| std::fs::metadata(path(i)).unwrap().ino();
        let before: Vec<u64> = (0..4).map(inode).collect();
        let mut again = first.clone();
        again[1].1 = b"{\"n\":9}".to_vec();
        again[2].1.push(b' ');
        again[3].1.pop();
        again.push((path(4), b"{}".to_vec()));
        write_atomic_all(&again).unwrap();
        for (p, bytes) in &again {
            assert_eq!(&std::fs::read(p).unwrap(), bytes, "{}", p.display());
            assert_eq!(std::fs::read_dir(p.parent().unwrap()).unwrap().count(), 1, "{}", p.display());
        }
        assert_eq!(inode(0), before[0], "a file holding its bytes is not written again");
        for (i, &was) in before.iter().enumerate().skip(1) {
            assert_ne!(inode(i), was, "file {i} is replaced");
        }
    }
}
