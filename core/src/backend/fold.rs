//! What a backend is asked to compute for each batch, and what it gives back.
//!
//! A [`FoldPlan`] names, once for a stream of batches, the task of every profiled column: its
//! kind, its histogram edges, whether only the histogram is wanted. For each batch a backend
//! returns a [`BatchFold`]: per column exactly what the profile consumes — counts, moments,
//! histogram bins, the values its quantile sketch keeps, dictionary key counts. Text is typed
//! value by value on the host (see [`crate::engine`]); the backend only counts dictionary keys.

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::DataType;

use crate::profile::kll::Selection;
use crate::profile::Moments;

/// How a column is folded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Integers, floats, decimals, dates, times and timestamps, read as `f64`; lists and binary
    /// values, read as their lengths.
    Numeric {
        /// Whole numbers by storage (integers, dates and times, decimals of scale 0).
        integral: bool,
    },
    /// A dictionary of text: its keys are counted, each distinct string is typed once.
    Keys,
    /// `true`/`false` values.
    Boolean,
    /// Left to the host: plain text (typed value by value), and types not profiled beyond
    /// rows and nulls (maps, unions; structs are flattened by the profiler first).
    Host,
}

/// True for Arrow types read as text.
pub fn is_text_type(t: &DataType) -> bool {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, v) => is_text_type(v),
        _ => false,
    }
}

/// True for Arrow types profiled by the length of each value: lists and binary values.
pub fn is_length_type(t: &DataType) -> bool {
    matches!(
        t,
        DataType::List(_)
            | DataType::LargeList(_)
            | DataType::FixedSizeList(_, _)
            | DataType::ListView(_)
            | DataType::LargeListView(_)
            | DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
            | DataType::FixedSizeBinary(_)
    )
}

impl ColumnKind {
    /// The kind of a column of type `t`. Lists and binary values are profiled by their lengths,
    /// as whole numbers.
    pub fn of(t: &DataType) -> ColumnKind {
        match t {
            DataType::Dictionary(_, v) if is_text_type(v) => ColumnKind::Keys,
            DataType::Boolean => ColumnKind::Boolean,
            t if is_length_type(t) => ColumnKind::Numeric { integral: true },
            t if t.is_numeric() || t.is_temporal() => ColumnKind::Numeric {
                integral: t.is_integer()
                    || t.is_temporal()
                    || matches!(t, DataType::Decimal32(_, 0) | DataType::Decimal64(_, 0))
                    || matches!(t, DataType::Decimal128(_, 0) | DataType::Decimal256(_, 0)),
            },
            _ => ColumnKind::Host,
        }
    }
}

/// One profiled column.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnTask {
    /// Position of the column in the batches.
    pub index: usize,
    /// How it is folded.
    pub kind: ColumnKind,
    /// Exact histogram over these edges (sorted, finite, distinct), when given.
    pub edges: Option<Arc<[f64]>>,
    /// How much of the column's profile is computed.
    pub detail: Detail,
}

/// How much of a profile a fold computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Detail {
    /// Everything: counts, moments, histogram, quantile and distinct sketches, categories.
    #[default]
    Full,
    /// Counts, moments, histogram and categories, no sketch: the profile of a time window,
    /// small enough to keep thousands of.
    Light,
    /// Only counts and the histogram (a baseline's second pass).
    HistogramOnly,
}

impl ColumnTask {
    /// True when the column feeds a quantile sketch.
    pub fn sketched(&self) -> bool {
        matches!(self.kind, ColumnKind::Numeric { .. }) && self.detail == Detail::Full
    }

    /// True when the column's moments are summed.
    pub fn moments(&self) -> bool {
        self.detail != Detail::HistogramOnly
    }
}

/// The tasks of every profiled column, for every batch of a stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FoldPlan {
    /// One task per profiled column.
    pub columns: Vec<ColumnTask>,
}

/// The finite values a numeric column's batch gives its quantile sketch.
#[derive(Debug, Clone, PartialEq)]
pub enum SketchFeed {
    /// Nothing (no sketch for this column).
    None,
    /// Fewer than [`crate::profile::kll::MIN_BATCH`] values, in stream order.
    Values(Vec<f64>),
    /// The order statistics named by the sketch's plan: `values[i]` has rank
    /// `selection.ranks().nth(i)`.
    Selected(Selection, Vec<f64>),
    /// Every finite value, in ascending total order.
    Sorted(Vec<f64>),
}

/// One numeric column of one batch.
#[derive(Debug, Clone, PartialEq)]
pub struct NumericFold {
    /// Nulls, finite values, NaN, ±∞ and the moments.
    pub counts: NumericCounts,
    /// Exact counts over the task's edges, `edges.len() + 1` bins.
    pub bins: Option<Bins>,
    /// What the quantile sketch takes.
    pub sketch: SketchFeed,
    /// The finite values' distinct-count sketch (empty unless the column is sketched).
    pub distinct: crate::profile::NumberHll,
}

/// A numeric column's exact counts over its task's edges (`edges.len() + 1` bins).
#[derive(Debug, Clone, PartialEq)]
pub enum Bins {
    /// Every bin's count.
    Dense(Vec<u64>),
    /// The bins holding values, in bin order, with their counts: for a group of fewer values
    /// than a quarter of the bins (a window's few rows in a row group), which would otherwise
    /// cost a zeroed counter per bin and a walk over them all.
    Few(Vec<(u32, u64)>),
}

impl Bins {
    /// Bins for a group of `rows` rows over `bins` bins: [`Bins::Few`] when a quarter of the
    /// bins is more than the rows, else zeroed [`Bins::Dense`] counters.
    pub fn for_rows(rows: usize, bins: usize) -> Bins {
        if rows.saturating_mul(4) < bins {
            Bins::Few(Vec::new())
        } else {
            Bins::Dense(vec![0; bins])
        }
    }
}

/// A numeric column's (or group's) counts and moments: what a [`NumericFold`] holds besides
/// its bins and sketches.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NumericCounts {
    /// Null values.
    pub nulls: u64,
    /// Finite values.
    pub finite: u64,
    /// NaN values.
    pub nan: u64,
    /// +∞ values.
    pub pos_inf: u64,
    /// −∞ values.
    pub neg_inf: u64,
    /// Moments of the finite values (empty for a histogram-only task).
    pub moments: Moments,
}

/// A numeric column of an unsketched task folded in many groups at once (a row group's
/// windows): per group what its [`NumericFold`] would hold, flat.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupedNumeric {
    /// Each group's counts and moments.
    pub groups: Vec<NumericCounts>,
    /// Every group's bins holding values as `(bin, count)` pairs, group after group, each in
    /// ascending bin order (none for a task without edges).
    pub pairs: Vec<(u32, u64)>,
    /// Where each group's pairs end in `pairs`.
    pub ends: Vec<usize>,
}

impl GroupedNumeric {
    /// Group `i`'s pairs.
    pub fn pairs_of(&self, i: usize) -> &[(u32, u64)] {
        let from = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.pairs[from..self.ends[i]]
    }

    /// Each group's fold as a backend folding the group alone gives it (`rows`: the groups'
    /// rows; `bins`: the task's bins, when it has edges): for comparing backends.
    pub fn folds(&self, rows: &[std::ops::Range<usize>], bins: Option<usize>) -> Vec<NumericFold> {
        self.groups
            .iter()
            .zip(rows)
            .enumerate()
            .map(|(i, (c, r))| NumericFold {
                counts: c.clone(),
                bins: bins.map(|b| match Bins::for_rows(r.len(), b) {
                    Bins::Few(_) => Bins::Few(self.pairs_of(i).to_vec()),
                    Bins::Dense(mut d) => {
                        self.pairs_of(i).iter().for_each(|&(b, n)| d[b as usize] = n);
                        Bins::Dense(d)
                    }
                }),
                sketch: SketchFeed::None,
                distinct: crate::profile::NumberHll::default(),
            })
            .collect()
    }
}

/// One column of one batch.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnFold {
    /// A numeric column.
    Numeric(Box<NumericFold>),
    /// A numeric column's every group at once: the only fold of its column in a
    /// [`BatchFold`] of several groups (the CPU backend's, for unsketched tasks).
    Grouped(Box<GroupedNumeric>),
    /// A text dictionary: rows per dictionary entry (index = key); null keys are not counted.
    Keys(Vec<u64>),
    /// A boolean column.
    Boolean {
        /// `true` values.
        trues: u64,
        /// `false` values.
        falses: u64,
    },
    /// Nothing from the backend: the host reads the column itself.
    Host,
}

/// Every profiled column of one batch, in [`FoldPlan`] order, folded per group of rows.
///
/// A batch is pushed with its rows in groups: consecutive ranges that cover it, one per
/// segment (a batch of the whole profile is one group; a batch of time windows, its rows
/// ordered by window, has one group per window in it). Each group is folded apart, so a
/// window's histogram and key counts are one more key of the kernels' counters.
#[derive(Debug, Clone)]
pub struct BatchFold {
    /// The batch (the host reads text columns from it).
    pub batch: RecordBatch,
    /// The rows of each group, in order.
    pub groups: Vec<std::ops::Range<usize>>,
    /// Per task, one fold per group (or one [`ColumnFold::Grouped`] for all).
    pub columns: Vec<Vec<ColumnFold>>,
}
