//! The model-quality stage's errors ([`crate::quality`]): a row that does not fit the problem
//! type, parts that do not merge, a SageMaker model-quality file that does not read. The job adds
//! the file or baseline they concern.

/// A row that cannot be scored, and why; the caller names the file and column.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RowError {
    /// A probability outside [0, 1], or not a number.
    #[error("probability {} is not in [0, 1]", shown(.0))]
    Probability(String),
    /// A binary label or prediction that is neither the positive class nor the one other class.
    #[error("a third class '{}' in a binary classification (classes seen: {})", shown(.0), shown(.1))]
    ThirdClass(String, String),
    /// A regression label or prediction that is not a number.
    #[error("'{}' is not a number", shown(.0))]
    NotNumber(String),
}

/// Why model quality cannot be scored or checked. The job adds the file or baseline it concerns
/// ([`crate::Error::Quality`] reads "model quality: …"; a baseline file's own errors become
/// [`crate::Error::Baseline`] naming the file).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QualityError {
    /// A problem type that is not one of SageMaker's three.
    #[error("unknown problem type {0:?}: Regression, BinaryClassification or MulticlassClassification")]
    UnknownProblemType(String),
    /// Two accumulators of different problem types.
    #[error("cannot merge {0} with {1} model quality")]
    Mixed(&'static str, &'static str),
    /// A row, or two merged parts, that do not fit the problem type.
    #[error(transparent)]
    Row(#[from] RowError),
    /// The baseline's constraints are for another problem type than the run's.
    #[error("the baseline's model-quality constraints are for {baseline}, but the problem type is {run}")]
    OtherProblemType {
        /// The baseline's problem type.
        baseline: &'static str,
        /// The run's.
        run: &'static str,
    },
    /// A SageMaker statistics or constraints file that is not a JSON object.
    #[error("not a JSON object")]
    NotAnObject,
    /// A SageMaker statistics or constraints file without a problem type's section.
    #[error("no regression_, binary_classification_ or multiclass_classification_ section")]
    NoSection,
    /// A constraint that does not read.
    #[error("constraint of '{metric}': {source}")]
    Constraint {
        /// The metric.
        metric: String,
        /// Why it does not read.
        #[source]
        source: serde_json::Error,
    },
    /// A label, prediction or id column that cannot be read as numbers or text.
    #[error("column '{column}': {}", super::one_line(.source))]
    Column {
        /// The column.
        column: String,
        /// Arrow's refusal.
        #[source]
        source: arrow_schema::ArrowError,
    },
    /// No row could be scored.
    #[error(
        "no row could be scored ({rows} prediction rows: {nulls} with a null value, {unlabelled} without a label)"
    )]
    NothingScored {
        /// Prediction rows read.
        rows: u64,
        /// Rows with a null prediction, probability or id.
        nulls: u64,
        /// Rows whose label was not found.
        unlabelled: u64,
    },
}

/// A value as a one-line message shows it: control characters (a newline inside a quoted CSV
/// field) escaped, and at most 60 characters.
pub fn shown(v: &str) -> String {
    const MOST: usize = 60;
    let mut out = String::new();
    for (i, c) in v.chars().enumerate() {
        if i == MOST {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}
