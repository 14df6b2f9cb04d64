//! driftscope's error type: one variant per boundary of the data flow, every message naming the
//! file, column or flag to look at.

use std::path::PathBuf;

/// Errors of the driftscope library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An input file could not be read as Parquet, or a path did not exist.
    #[error("{path}: {message}")]
    Input {
        /// The file or path.
        path: PathBuf,
        /// What went wrong, in one line.
        message: String,
    },
    /// None of the inputs could be read.
    #[error("no readable input: {0}")]
    NoInput(String),
    /// A row group or batch could not be decoded into Arrow arrays.
    #[error("{0}")]
    Decode(String),
    /// A batch does not fit the profiler it was given to (another schema).
    #[error("column '{column}': {message}")]
    Schema {
        /// The column.
        column: String,
        /// What differs, in one line.
        message: String,
    },
    /// A baseline folder or file is missing or malformed.
    #[error("{path}: {message}")]
    Baseline {
        /// The file or folder.
        path: PathBuf,
        /// What went wrong, in one line.
        message: String,
    },
    /// The backend failed: no adapter, a device lost, a shader rejected.
    #[error("{0}")]
    Backend(String),
    /// An output could not be written.
    #[error("{path}: cannot write: {source}")]
    Output {
        /// The output path.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The output folder holds what the job would overwrite: the baseline, or another job's
    /// outputs.
    #[error("{path}: {message}")]
    OutputInUse {
        /// The output folder.
        path: PathBuf,
        /// What it holds, in one line.
        message: String,
    },
    /// A flag or option has an invalid value.
    #[error("{0}")]
    Usage(String),
}

/// Result alias for the library.
pub type Result<T> = std::result::Result<T, Error>;

/// Flattens any error into one line (Parquet errors can carry newlines).
pub fn one_line(e: impl std::fmt::Display) -> String {
    e.to_string().split_whitespace().collect::<Vec<_>>().join(" ")
}
