//! Reports: one model ([`MonitorReport`]), several writers (JSON, HTML, Markdown), and atomic
//! file output.

pub mod html;
pub mod markdown;

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::drift::FeatureDrift;
use crate::engine::FileResult;
use crate::error::{Error, Result};
use crate::formats::sagemaker::Violation;
use crate::scan::Skipped;

/// What was read.
#[derive(Debug, Clone, Serialize, Default)]
pub struct InputSummary {
    /// Files profiled.
    pub files: usize,
    /// Rows profiled.
    pub rows: u64,
    /// Files taken from a checkpoint of an interrupted run (`--resume`).
    pub resumed_files: usize,
    /// Inputs left out, with reasons.
    pub skipped: Vec<Skipped>,
    /// Schema differences between files.
    pub schema_differences: Vec<String>,
    /// Every readable file in order: rows, partitions, status.
    pub per_file: Vec<FileResult>,
}

/// Counts for the verdict.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Summary {
    /// Features compared.
    pub features_compared: usize,
    /// Features with drift.
    pub features_drifted: usize,
    /// Features skipped.
    pub features_skipped: usize,
    /// Constraint violations (drift included).
    pub violations: usize,
}

/// Everything a monitoring run found; `drift.json` is this model.
#[derive(Debug, Clone, Serialize)]
pub struct MonitorReport {
    /// driftwatch version.
    pub driftwatch_version: &'static str,
    /// The backend that ran, and why it was chosen.
    pub backend: String,
    /// `driftwatch` or `sagemaker`.
    pub baseline_source: String,
    /// The baseline folder.
    pub baseline: String,
    /// Notes about the baseline.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub baseline_notes: Vec<String>,
    /// Baseline rows.
    pub baseline_rows: u64,
    /// What was read.
    pub current: InputSummary,
    /// Counts.
    pub summary: Summary,
    /// Per-feature drift.
    pub features: Vec<FeatureDrift>,
    /// The violations also written to `constraint_violations.json`.
    pub violations: Vec<Violation>,
}

/// Serializes to pretty JSON with a final newline. serde_json writes a non-finite f64 as
/// `null`; driftwatch's models keep such values out (`Option` fields, or the string forms of
/// `profile::moments::nonfinite`), so the output is always strict JSON.
pub fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    let mut v = serde_json::to_vec_pretty(value).expect("driftwatch models always serialize");
    v.push(b'\n');
    v
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so that a
/// reader never sees a half-written file. `-` writes to stdout.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    if path.as_os_str() == "-" {
        let mut out = std::io::stdout().lock();
        return out
            .write_all(bytes)
            .and_then(|_| out.flush())
            .map_err(|source| Error::Output { path: path.into(), source });
    }
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|source| Error::Output { path: dir.into(), source })?;
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(source) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::Output { path: path.into(), source });
    }
    Ok(())
}

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_html() {
        assert_eq!(escape("<b a='x'>&\"</b>"), "&lt;b a=&#39;x&#39;&gt;&amp;&quot;&lt;/b&gt;");
    }

    #[test]
    fn write_atomic_leaves_no_temp() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("sub/out.json");
        write_atomic(&p, b"{}").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"{}");
        let names: Vec<_> = std::fs::read_dir(d.path().join("sub")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1);
    }
}
