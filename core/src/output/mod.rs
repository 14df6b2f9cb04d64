//! The output stage: the report model and its writers (SageMaker JSON, HTML, Markdown in
//! [`report`]; CloudWatch EMF and Prometheus in [`metrics`]), pretty JSON, and the one
//! atomic-write helper every file goes through. It may import every floor below it; nothing
//! below imports it but for [`write_atomic`] (the file engine's checkpoint, the watch state).

pub mod folder;
pub mod metrics;
pub mod report;

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};

/// Serializes to pretty JSON with a final newline. serde_json writes a non-finite f64 as
/// `null`; driftscope's models keep such values out (`Option` fields, or the string forms of
/// [`crate::codec::nonfinite`]), so the output is always strict JSON.
pub fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    let mut v = serde_json::to_vec_pretty(value).expect("driftscope models always serialize");
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
}
