//! driftscope's error type: one variant per boundary of the data flow, every message naming the
//! file, column or option to look at (the CLI names its flag, [`Opt`]).
//!
//! The stages' own errors live here too, below every stage, so that each stage imports its
//! error from below and [`Error`] converts from each with `#[from]`, keeping it as the source:
//! [`source::SourceError`] (reading inputs), [`backend::BackendError`] (the kernels' devices and
//! limits), [`quality::QualityError`] (model quality).

pub mod backend;
pub mod quality;
pub mod source;

use std::path::PathBuf;

/// Errors of the driftscope library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An input file could not be read, or a path did not exist, or a file's rows do not fit
    /// the job (a column missing, a value of another type).
    #[error("{}: {}", .path.display(), one_line(.source))]
    Input {
        /// The file or path.
        path: PathBuf,
        /// Why: the stage's own error ([`source::SourceError`],
        /// [`quality::QualityError`]) or a message.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// None of the inputs could be read.
    #[error("no readable input: {0}")]
    NoInput(String),
    /// A row group or batch could not be decoded into Arrow arrays.
    #[error("{}", one_line(.0))]
    Decode(#[from] source::SourceError),
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
    /// The backend failed: no adapter, a device lost, a shader rejected, a batch it cannot fold.
    #[error("{0}")]
    Backend(#[from] backend::BackendError),
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
    /// An option of a job is missing, or its value does not fit the data: named as the library
    /// knows it ([`Opt`]); the CLI names its flag instead.
    #[error("{}: {message}", option.name())]
    Invalid {
        /// The option.
        option: Opt,
        /// What is wrong, in one line, without the option's name.
        message: String,
    },
    /// Model quality cannot be scored or checked: a row or baseline of another problem type,
    /// nothing to score.
    #[error("model quality: {0}")]
    Quality(#[from] quality::QualityError),
    /// A job's saved state (a watch's, in its output folder) is damaged or belongs to another
    /// job.
    #[error("{path}: {message}")]
    State {
        /// The state file.
        path: PathBuf,
        /// What is wrong and what to do, in one line.
        message: String,
    },
}

/// An option of a job, as the library names it. The CLI shows each as its flag
/// (`--time-column`), the Python package as its argument; the library's messages name neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Opt {
    /// The feature attribution columns and their baseline.
    Attributions,
    /// The baseline folder.
    Baseline,
    /// Clarify's bias analysis configuration.
    BiasConfig,
    /// The backend asked for.
    Backend,
    /// The columns profiled.
    Columns,
    /// The EMF dimension set.
    EmfDimensions,
    /// The false-alarm rate of a calibration.
    FalseAlarmRate,
    /// The ground-truth inputs.
    GroundTruth,
    /// The id column joining predictions with labels.
    IdColumn,
    /// The label column.
    Label,
    /// The most windows a run may hold.
    MaxWindows,
    /// The segment columns.
    SegmentBy,
    /// The most segments a run keeps.
    MaxSegments,
    /// What each segment is compared with.
    SegmentReference,
    /// Multivariate drift's features and chunks.
    Multivariate,
    /// The kernel two-sample test's features.
    Mmd,
    /// Performance estimation without labels.
    EstimatePerformance,
    /// The change-point method.
    Method,
    /// The prediction column.
    Prediction,
    /// The problem type.
    ProblemType,
    /// What each window is compared with.
    Reference,
    /// The classification threshold.
    Threshold,
    /// The time column.
    TimeColumn,
    /// The shape of the bench's generated captures.
    Shape,
    /// Times taken from hive partitions.
    TimeFromPartitions,
    /// The window length.
    Window,
    /// Windows of a number of rows.
    WindowRows,
}

impl Opt {
    /// The option's name in the library's words.
    pub fn name(self) -> &'static str {
        match self {
            Opt::Attributions => "attributions",
            Opt::Baseline => "baseline",
            Opt::BiasConfig => "bias configuration",
            Opt::Backend => "backend",
            Opt::Columns => "columns",
            Opt::EmfDimensions => "EMF dimensions",
            Opt::FalseAlarmRate => "false-alarm rate",
            Opt::GroundTruth => "ground truth",
            Opt::IdColumn => "id column",
            Opt::Label => "label column",
            Opt::MaxWindows => "most windows",
            Opt::SegmentBy => "segment columns",
            Opt::MaxSegments => "most segments",
            Opt::SegmentReference => "segment reference",
            Opt::Multivariate => "multivariate drift",
            Opt::Mmd => "the kernel test (MMD)",
            Opt::EstimatePerformance => "performance estimation",
            Opt::Method => "change-point method",
            Opt::Prediction => "prediction column",
            Opt::ProblemType => "problem type",
            Opt::Reference => "window reference",
            Opt::Threshold => "threshold",
            Opt::TimeColumn => "time column",
            Opt::Shape => "bench shape",
            Opt::TimeFromPartitions => "time from partitions",
            Opt::Window => "window",
            Opt::WindowRows => "windows of rows",
        }
    }
}

impl Error {
    /// An [`Error::Input`] about `path`: a stage's error, or a message.
    pub fn input(path: impl Into<PathBuf>, why: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Error {
        Error::Input { path: path.into(), source: why.into() }
    }
}

/// An [`Error::Invalid`] of `option`.
pub fn invalid(option: Opt, message: impl Into<String>) -> Error {
    Error::Invalid { option, message: message.into() }
}

/// Result alias for the library.
pub type Result<T> = std::result::Result<T, Error>;

/// Flattens any error into one line (Parquet errors can carry newlines).
pub fn one_line(e: impl std::fmt::Display) -> String {
    e.to_string().split_whitespace().collect::<Vec<_>>().join(" ")
}
