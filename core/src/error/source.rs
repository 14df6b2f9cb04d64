//! The source stage's error ([`crate::source`]): what went wrong reading an input, with its cause
//! kept. The stage's callers turn it into a skipped input's one-line reason, or into
//! [`crate::Error`].

/// What went wrong reading an input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The file could not be opened or read.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Arrow refused the data: a cast, a schema, a CSV record its reader could not parse.
    #[error(transparent)]
    Arrow(#[from] arrow_schema::ArrowError),
    /// Parquet refused the file: its footer, a page.
    #[cfg(feature = "parquet")]
    #[error(transparent)]
    Parquet(#[from] parquet::errors::ParquetError),
    /// A CSV record could not be read.
    #[error(transparent)]
    Csv(#[from] csv::Error),
    /// A JSON record could not be parsed.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// The input does not hold what its format needs: no record, a malformed capture, an object
    /// store's refusal.
    #[error("{0}")]
    Content(String),
}

impl From<String> for SourceError {
    fn from(s: String) -> Self {
        SourceError::Content(s)
    }
}

impl From<&str> for SourceError {
    fn from(s: &str) -> Self {
        SourceError::Content(s.to_string())
    }
}

/// The result of the source stage.
pub type SourceResult<T> = std::result::Result<T, SourceError>;
