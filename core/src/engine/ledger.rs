//! The run ledger: what happened to each input file of a run. The file engine fills it, the
//! checkpoint keeps it, the report lists it.

use serde::{Deserialize, Serialize};

/// Whether a file was profiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// Every row group folded.
    Ok,
    /// Left out whole (unreadable, or a row group failed to decode).
    Skipped,
}

/// What happened to one input file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileResult {
    /// Path.
    pub path: String,
    /// Rows profiled (0 when skipped).
    pub rows: u64,
    /// Hive partition values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partitions: Vec<(String, String)>,
    /// Profiled or skipped.
    pub status: FileStatus,
    /// Why it was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
