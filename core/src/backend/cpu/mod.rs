//! The CPU backend: the reference fold, on rayon.
//!
//! A [`CpuFolder`] folds the columns of a batch in parallel (so that a file with a single row
//! group still keeps every core busy); each column's fold is one sequential pass, so results
//! never depend on scheduling. Numeric columns: one pass filters nulls, NaN and ±∞ and sums the
//! moments, then [`select::bin_and_select`] bins the finite values and picks the order
//! statistics the quantile sketch keeps, without sorting the batch. Each function here is the
//! twin of the WGSL kernel of the same name in `core/shaders/`.

pub mod select;

use std::ops::Range;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type};
use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch};
use arrow_buffer::BooleanBuffer;
use arrow_schema::DataType;
use rayon::prelude::*;

use super::fold::{GroupedNumeric, NumericCounts};
use super::{Backend, BatchFold, ColumnFold, ColumnKind, ColumnTask, FoldPlan, Folder};
use super::{Bins, NumericFold, SketchFeed};
use crate::error::Result;
use crate::profile::kll::{SketchPlan, MIN_BATCH};
use crate::profile::Moments;

/// The rayon CPU backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuBackend;

/// Buffers of one column, reused from batch to batch.
#[derive(Debug, Default)]
pub struct ColumnScratch {
    finite: Vec<f64>,
    select: select::Scratch,
    keys: Vec<u32>,
    /// One group's bins holding values ([`grouped`]).
    few: Vec<(u32, u64)>,
    /// The column's edges, with their lookup table (the bins of a batch's windows).
    edges: select::Edges,
}

/// Folds batches on the calling thread and rayon's pool, one batch at a time.
#[derive(Debug)]
pub struct CpuFolder {
    plan: Arc<FoldPlan>,
    scratch: Vec<ColumnScratch>,
}

thread_local! {
    /// Buffers of the folders that finished on this thread, for the next ones: a file engine
    /// makes a folder per row group, and fresh buffers would be zeroed pages every time. Light
    /// folders (a monitoring run's windows and segments: a group's values at a time) keep
    /// theirs apart from the others (a batch's values, selected in place): a row group's two folders taking each
    /// other's buffers by turns would grow every buffer to a whole batch's size.
    static SPARE: std::cell::RefCell<[Vec<ColumnScratch>; 2]> = const { std::cell::RefCell::new([Vec::new(), Vec::new()]) };
}

/// The [`SPARE`] pool of a folder of `plan`.
fn pool(plan: &FoldPlan) -> usize {
    usize::from(plan.columns.first().is_some_and(|t| t.detail == super::Detail::Light))
}

impl CpuFolder {
    /// A folder for `plan`.
    pub fn new(plan: Arc<FoldPlan>) -> CpuFolder {
        let n = plan.columns.len();
        let at = pool(&plan);
        let mut scratch: Vec<ColumnScratch> = SPARE.with(|s| {
            s.try_borrow_mut()
                .map(|mut s| {
                    let from = s[at].len().saturating_sub(n);
                    s[at].split_off(from)
                })
                .unwrap_or_default()
        });
        scratch.resize_with(n, ColumnScratch::default);
        CpuFolder { plan, scratch }
    }
}

impl Drop for CpuFolder {
    fn drop(&mut self) {
        let mine = std::mem::take(&mut self.scratch);
        let at = pool(&self.plan);
        SPARE.with(|s| {
            if let Ok(mut s) = s.try_borrow_mut() {
                let s = &mut s[at];
                s.extend(mine);
                // Enough for the widest plan seen lately; older buffers go.
                let keep = 4 * self.plan.columns.len().max(16);
                if s.len() > keep {
                    let extra = s.len() - keep;
                    s.drain(..extra);
                }
            }
        });
    }
}

impl Folder for CpuFolder {
    fn push(
        &mut self,
        batch: &RecordBatch,
        groups: &[Range<usize>],
        sketches: &[Option<SketchPlan>],
    ) -> Result<Vec<BatchFold>> {
        super::check_groups(&self.plan, batch.num_rows(), groups)?;
        let one = groups.len() == 1;
        // Each column in parallel, its groups in turn: a group of a few rows costs a slice and
        // a pass, not a batch's worth of set-up.
        let columns: Vec<Vec<ColumnFold>> = self
            .plan
            .columns
            .par_iter()
            .zip(self.scratch.par_iter_mut())
            .zip(sketches.par_iter())
            .map(|((task, scratch), sketch)| {
                let array = batch.column(task.index);
                if one {
                    return vec![fold_column(array, task, sketch.as_ref(), scratch)];
                }
                // A numeric column is read as f64 once, and its groups folded in one sweep (a
                // sketched one, which no plan folds in groups, group by group).
                if let Some(values) = matches!(task.kind, ColumnKind::Numeric { .. }).then(|| as_f64(array)).flatten() {
                    if task.sketched() {
                        return groups
                            .iter()
                            .map(|g| {
                                ColumnFold::Numeric(Box::new(numeric(
                                    &values.slice(g.start, g.len()),
                                    task,
                                    None,
                                    scratch,
                                )))
                            })
                            .collect();
                    }
                    return vec![ColumnFold::Grouped(Box::new(grouped(&values, groups, task, scratch)))];
                }
                if let (ColumnKind::Keys, Some(d)) = (task.kind, array.as_dictionary_opt::<Int32Type>()) {
                    return grouped_keys(d, groups);
                }
                groups.iter().map(|g| fold_column(&array.slice(g.start, g.len()), task, None, scratch)).collect()
            })
            .collect();
        Ok(vec![BatchFold { batch: batch.clone(), groups: groups.to_vec(), columns }])
    }

    fn flush(&mut self) -> Result<Vec<BatchFold>> {
        Ok(Vec::new())
    }
}

/// The CPU fold of one column of a batch (`sketch`: what its quantile sketch keeps, for a
/// sketched task).
pub fn fold_column(
    array: &ArrayRef,
    task: &ColumnTask,
    sketch: Option<&SketchPlan>,
    s: &mut ColumnScratch,
) -> ColumnFold {
    match task.kind {
        ColumnKind::Numeric { .. } => match as_f64(array) {
            Some(values) => ColumnFold::Numeric(Box::new(numeric(&values, task, sketch, s))),
            None => ColumnFold::Host,
        },
        ColumnKind::Keys => ColumnFold::Keys(dictionary_counts(array, &mut s.keys)),
        ColumnKind::Boolean => {
            let b = array.as_boolean();
            ColumnFold::Boolean { trues: b.true_count() as u64, falses: b.false_count() as u64 }
        }
        ColumnKind::Host => ColumnFold::Host,
    }
}

/// A numeric array as `f64` (integers beyond 2^53 lose precision there, as in every f64
/// statistic; dates and times as their integer value; lists and binary values as their
/// lengths). `None` for a type Arrow cannot cast.
pub fn as_f64(array: &ArrayRef) -> Option<Float64Array> {
    if let Some(a) = array.as_primitive_opt::<Float64Type>() {
        return Some(a.clone());
    }
    if super::fold::is_length_type(array.data_type()) {
        return lengths(array);
    }
    let src =
        if array.data_type().is_temporal() { arrow_cast::cast(array, &DataType::Int64).ok()? } else { array.clone() };
    arrow_cast::cast(&src, &DataType::Float64).ok().map(|a| a.as_primitive::<Float64Type>().clone())
}

/// The length of each value of a list or binary array, nulls kept.
fn lengths(array: &ArrayRef) -> Option<Float64Array> {
    let n = array.len();
    let v: Vec<f64> = match array.data_type() {
        DataType::List(_) => array.as_list::<i32>().offsets().lengths().map(|l| l as f64).collect(),
        DataType::LargeList(_) => array.as_list::<i64>().offsets().lengths().map(|l| l as f64).collect(),
        DataType::ListView(_) => array.as_list_view::<i32>().sizes().iter().map(|&l| l as f64).collect(),
        DataType::LargeListView(_) => array.as_list_view::<i64>().sizes().iter().map(|&l| l as f64).collect(),
        DataType::Binary => array.as_binary::<i32>().offsets().lengths().map(|l| l as f64).collect(),
        DataType::LargeBinary => array.as_binary::<i64>().offsets().lengths().map(|l| l as f64).collect(),
        DataType::BinaryView => array.as_binary_view().views().iter().map(|&v| (v as u32) as f64).collect(),
        DataType::FixedSizeList(_, l) | DataType::FixedSizeBinary(l) => vec![*l as f64; n],
        _ => return None,
    };
    Some(Float64Array::new(v.into(), array.logical_nulls()))
}

/// The finite values of `values` into `finite`, and the counts of NaN, +∞ and −∞ (nulls are
/// skipped). Shared by every backend: what the host does where the data is decoded.
pub fn split_finite(values: &Float64Array, finite: &mut Vec<f64>) -> (u64, u64, u64) {
    finite.clear();
    finite.reserve(values.len());
    split_values(values.values(), values.nulls().filter(|n| n.null_count() > 0).map(|n| n.inner()), finite)
}

/// [`split_finite`] of raw values, `valid` their validity (`None`: all valid), appending to
/// `finite`.
fn split_values(values: &[f64], valid: Option<&BooleanBuffer>, finite: &mut Vec<f64>) -> (u64, u64, u64) {
    if valid.is_none() && all_finite(values) {
        // The usual column: one check that vectorizes, then a copy.
        finite.extend_from_slice(values);
        return (0, 0, 0);
    }
    split_each(values, valid, finite)
}

/// [`split_values`] value by value.
fn split_each(values: &[f64], valid: Option<&BooleanBuffer>, finite: &mut Vec<f64>) -> (u64, u64, u64) {
    let (mut nan, mut pinf, mut ninf) = (0u64, 0u64, 0u64);
    let mut push = |v: f64| {
        if v.is_finite() {
            finite.push(v);
        } else if v.is_nan() {
            nan += 1;
        } else if v > 0.0 {
            pinf += 1;
        } else {
            ninf += 1;
        }
    };
    match valid {
        None => values.iter().for_each(|&v| push(v)),
        Some(bits) => bits.iter().zip(values).for_each(|(ok, &v)| {
            if ok {
                push(v)
            }
        }),
    }
    (nan, pinf, ninf)
}

/// True when every value is finite: a block's checks are combined without a branch, so that
/// they vectorize.
fn all_finite(values: &[f64]) -> bool {
    values.chunks(64).all(|block| block.iter().fold(true, |ok, v| ok & v.is_finite()))
}

/// What every backend does with a numeric column where it was decoded, in one shared routine so
/// that the results are bit-identical: the finite values into `finite`, nulls, NaN and ±∞
/// counted, the moments summed (unless only the histogram is wanted), the distinct-count sketch
/// fed (when the column is sketched), empty bins (zeroed [`Bins::Dense`] counters for a sketched
/// column, whose order statistics are found with its bins; else [`Bins::for_rows`]'s choice),
/// and a batch too small to compact given to the sketch as it is. The backend then fills the
/// bins and, for larger batches, what the sketch keeps.
pub fn numeric_host_pass(values: &Float64Array, task: &ColumnTask, finite: &mut Vec<f64>) -> NumericFold {
    let (nan, pos_inf, neg_inf) = split_finite(values, finite);
    let mut fold = NumericFold {
        counts: NumericCounts {
            nulls: values.null_count() as u64,
            finite: finite.len() as u64,
            nan,
            pos_inf,
            neg_inf,
            moments: Moments::default(),
        },
        bins: task.edges.as_ref().map(|e| match task.sketched() {
            true => Bins::Dense(vec![0; e.len() + 1]),
            false => Bins::for_rows(values.len(), e.len() + 1),
        }),
        sketch: SketchFeed::None,
        distinct: crate::profile::NumberHll::default(),
    };
    if task.moments() {
        fold.counts.moments.update_slice(finite);
    }
    if task.sketched() {
        fold.distinct.update_slice(finite);
    }
    if task.sketched() && finite.len() < MIN_BATCH {
        fold.sketch = SketchFeed::Values(finite.clone());
    }
    fold
}

/// The CPU fold of a numeric column: the shared host pass, then bins and the sketch's order
/// statistics from [`select::bin_and_select`], without sorting the batch; a group of a few
/// values of an unsketched column (a window's rows in one row group) is binned value by value.
fn numeric(
    values: &Float64Array,
    task: &ColumnTask,
    sketch: Option<&SketchPlan>,
    s: &mut ColumnScratch,
) -> NumericFold {
    let whole = matches!(task.kind, ColumnKind::Numeric { integral: true });
    let mut fold = numeric_host_pass(values, task, &mut s.finite);
    let finite = &mut s.finite;
    let bounds = fold.counts.moments.min.zip(fold.counts.moments.max);
    let edges: &[f64] = task.edges.as_deref().unwrap_or(&[]);
    let mut unused = [0u64];
    let bins: &mut [u64] = match &mut fold.bins {
        Some(Bins::Dense(b)) => b,
        Some(Bins::Few(at)) => {
            s.edges.prepare(edges);
            select::few_bins(finite, &s.edges, at);
            return fold;
        }
        None => &mut unused,
    };
    match sketch.filter(|_| task.sketched() && finite.len() >= MIN_BATCH) {
        Some(plan) => {
            let selection = plan.select(finite.len());
            let ranks: Vec<usize> = selection.ranks().collect();
            let mut kept = vec![0.0; ranks.len()];
            select::bin_and_select(finite, bounds, whole, edges, bins, &ranks, &mut kept, &mut s.select);
            fold.sketch = SketchFeed::Selected(selection, kept);
        }
        None if task.edges.is_some() => {
            select::bin_and_select(finite, bounds, whole, edges, bins, &[], &mut [], &mut s.select);
        }
        None => {}
    }
    fold
}

/// The fold of each of `groups` (ranges of `values`) of an unsketched numeric column, flat: what
/// [`numeric`] gives each group's slice (the same filter, moments over the same values, the
/// same bins), without a fold, a slice and a list per group.
fn grouped(values: &Float64Array, groups: &[Range<usize>], task: &ColumnTask, s: &mut ColumnScratch) -> GroupedNumeric {
    debug_assert!(!task.sketched(), "a sketched column is folded one group per batch");
    let edges: &[f64] = task.edges.as_deref().unwrap_or(&[]);
    let bins = task.edges.as_ref().map(|e| e.len() + 1);
    let mut out = GroupedNumeric {
        groups: Vec::with_capacity(groups.len()),
        pairs: Vec::new(),
        ends: Vec::with_capacity(groups.len()),
    };
    let nulls = values.nulls().filter(|n| n.null_count() > 0);
    let raw = values.values();
    let mut dense: Vec<u64> = Vec::new();
    if bins.is_some() {
        s.edges.prepare(edges);
    }
    for g in groups {
        let valid = nulls.map(|n| n.inner().slice(g.start, g.len()));
        let group = &raw[g.clone()];
        // A group of valid, finite values is read in place.
        let ((nan, pos_inf, neg_inf), finite) = if valid.is_none() && all_finite(group) {
            ((0, 0, 0), group)
        } else {
            s.finite.clear();
            (split_each(group, valid.as_ref(), &mut s.finite), &s.finite[..])
        };
        let nulls = valid.map_or(0, |v| (g.len() - v.count_set_bits()) as u64);
        let mut c = NumericCounts { nulls, finite: finite.len() as u64, nan, pos_inf, neg_inf, ..Default::default() };
        if task.moments() {
            c.moments.update_slice(finite);
        }
        match bins.map(|b| Bins::for_rows(g.len(), b)) {
            Some(Bins::Few(_)) => {
                select::few_bins(finite, &s.edges, &mut s.few);
                out.pairs.extend_from_slice(&s.few);
            }
            Some(Bins::Dense(_)) => {
                dense.clear();
                dense.resize(edges.len() + 1, 0);
                s.edges.count(finite, &mut dense);
                out.pairs.extend(dense.iter().enumerate().filter(|(_, &n)| n > 0).map(|(i, &n)| (i as u32, n)));
            }
            None => {}
        }
        out.ends.push(out.pairs.len());
        out.groups.push(c);
    }
    out
}

/// [`dictionary_counts`] of each of `groups` (ranges of `dict`'s rows), read off the keys in
/// place: a window's few rows cost no sliced array.
fn grouped_keys(dict: &arrow_array::DictionaryArray<Int32Type>, groups: &[Range<usize>]) -> Vec<ColumnFold> {
    let entries = dict.values().len();
    let keys: &[u32] = bytemuck::cast_slice(dict.keys().values().as_ref());
    let validity = dict.keys().nulls().map(|n| n.inner());
    groups
        .iter()
        .map(|g| {
            let mut counts = vec![0u64; entries];
            if entries > 0 {
                let valid = validity.map(|v| v.slice(g.start, g.len()));
                key_counts(&keys[g.clone()], valid.as_ref(), &mut counts);
            }
            ColumnFold::Keys(counts)
        })
        .collect()
}

/// Rows per dictionary entry of a text dictionary array (null keys not counted).
fn dictionary_counts(array: &ArrayRef, keys: &mut Vec<u32>) -> Vec<u64> {
    let Some(dict) = array.as_any_dictionary_opt() else { return Vec::new() };
    let mut counts = vec![0u64; dict.values().len()];
    if counts.is_empty() {
        // No entry: every key is null (Arrow's key normalization needs an entry).
        return counts;
    }
    let key_nulls = dict.keys().logical_nulls();
    let validity = key_nulls.as_ref().map(|n| n.inner());
    // Int32 keys (what the scanner asks Parquet for) are counted as they are; other key types
    // are normalized first.
    if let Some(d) = array.as_dictionary_opt::<Int32Type>() {
        key_counts(bytemuck::cast_slice(d.keys().values().as_ref()), validity, &mut counts);
    } else {
        keys.clear();
        keys.extend(dict.normalized_keys().into_iter().map(|k| k as u32));
        key_counts(keys, validity, &mut counts);
    }
    counts
}

/// CPU twin of `core/shaders/categorical.wgsl`: adds to `counts` (one per dictionary key) the keys
/// of the valid rows; returns the rows not counted (null, or a key out of range).
pub fn key_counts(keys: &[u32], validity: Option<&BooleanBuffer>, counts: &mut [u64]) -> u64 {
    let n = counts.len();
    let mut nulls = 0;
    let mut one = |k: u32, valid: bool| {
        if valid && (k as usize) < n {
            counts[k as usize] += 1;
        } else {
            nulls += 1;
        }
    };
    match validity {
        None => keys.iter().for_each(|&k| one(k, true)),
        Some(bits) => keys.iter().zip(bits.iter()).for_each(|(&k, v)| one(k, v)),
    }
    nulls
}

impl Backend for CpuBackend {
    fn name(&self) -> String {
        "cpu".into()
    }

    fn folder(&self, plan: Arc<FoldPlan>) -> Result<Box<dyn Folder + '_>> {
        Ok(Box::new(CpuFolder::new(plan)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_counts_with_nulls() {
        let mut c = vec![0u64; 3];
        let bits = BooleanBuffer::from(vec![true, true, false, true]);
        assert_eq!(key_counts(&[0, 2, 1, 2], Some(&bits), &mut c), 1);
        assert_eq!(c, vec![1, 0, 2]);
    }

    /// The finite values come out in order, and NaN, +∞ and −∞ are counted, whether the values
    /// take the one-check copy or the value-by-value way: every length around the check's
    /// block, a non-finite value at each place, nulls, and appending after earlier values.
    #[test]
    fn split_values_keeps_finite_values_in_order() {
        let odd = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -f64::NAN];
        for n in [0usize, 1, 2, 63, 64, 65, 130] {
            let clean: Vec<f64> = (0..n).map(|i| (i as f64 - 20.0) * 0.37).collect();
            let mut cases: Vec<(Vec<f64>, Option<Vec<bool>>)> = vec![(clean.clone(), None)];
            for at in [0, n / 2, n.saturating_sub(1)].into_iter().filter(|&at| at < n) {
                for &x in &odd {
                    let mut v = clean.clone();
                    v[at] = x;
                    cases.push((v, None));
                }
                let valid: Vec<bool> = (0..n).map(|i| i != at).collect();
                cases.push((clean.clone(), Some(valid)));
            }
            for (values, valid) in cases {
                let bits = valid.as_ref().map(|v| BooleanBuffer::from(v.clone()));
                let mut finite = vec![99.0];
                let got = split_values(&values, bits.as_ref(), &mut finite);
                let kept: Vec<(usize, f64)> =
                    values.iter().copied().enumerate().filter(|&(i, _)| valid.as_ref().is_none_or(|v| v[i])).collect();
                let want: Vec<f64> =
                    [99.0].into_iter().chain(kept.iter().map(|&(_, x)| x).filter(|x| x.is_finite())).collect();
                let count = |f: fn(f64) -> bool| kept.iter().filter(|&&(_, x)| f(x)).count() as u64;
                let tallies = (count(f64::is_nan), count(|x| x == f64::INFINITY), count(|x| x == f64::NEG_INFINITY));
                assert_eq!(finite, want, "{values:?} {valid:?}");
                assert_eq!(got, tallies, "{values:?} {valid:?}");
            }
        }
    }

    /// A dictionary column's groups counted in place equal each group's slice counted alone:
    /// null keys, groups of one row and empty ones, and a dictionary without entries.
    #[test]
    fn grouped_keys_equal_each_groups_counts() {
        use arrow_array::{DictionaryArray, Int32Array, StringArray};
        let keys = Int32Array::from((0..500).map(|i| (i % 7 != 3).then_some(i * 13 % 5)).collect::<Vec<_>>());
        let values = StringArray::from(vec!["a", "b", "c", "d", "e"]);
        let full = DictionaryArray::try_new(keys, Arc::new(values)).unwrap();
        let empty = DictionaryArray::try_new(
            Int32Array::from(vec![None::<i32>; 500]),
            Arc::new(StringArray::from(Vec::<&str>::new())),
        )
        .unwrap();
        let groups = vec![0..1, 1..1, 1..40, 40..41, 41..300, 300..500];
        for dict in [full, empty] {
            let array: ArrayRef = Arc::new(dict.clone());
            let each: Vec<ColumnFold> = groups
                .iter()
                .map(|g| ColumnFold::Keys(dictionary_counts(&array.slice(g.start, g.len()), &mut Vec::new())))
                .collect();
            assert_eq!(grouped_keys(&dict, &groups), each);
        }
    }

    #[test]
    fn numeric_fold_counts_and_bins() {
        let a: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(1.0),
            None,
            Some(f64::NAN),
            Some(3.0),
            Some(-0.0),
            Some(f64::INFINITY),
            Some(f64::NEG_INFINITY),
        ]));
        let task = ColumnTask {
            index: 0,
            kind: ColumnKind::Numeric { integral: false },
            edges: Some(vec![0.0, 2.0].into()),
            detail: crate::backend::Detail::Full,
        };
        let ColumnFold::Numeric(f) = fold_column(&a, &task, None, &mut ColumnScratch::default()) else { panic!() };
        let c = &f.counts;
        assert_eq!((c.nulls, c.finite, c.nan, c.pos_inf, c.neg_inf), (1, 3, 1, 1, 1));
        // -0.0 counts as 0.0: it lands in [0, 2) with 1.0.
        assert_eq!(f.bins, Some(Bins::Dense(vec![0, 2, 1])));
        assert_eq!(c.moments.mean(), Some(4.0 / 3.0));
    }

    /// A column folded in many groups at once gives each group the fold of its slice alone:
    /// nulls, NaN and ±∞, integers, groups of one row to a thousand (few bins and dense),
    /// histogram-only and edgeless tasks.
    #[test]
    fn grouped_folds_equal_each_groups_fold() {
        let mut seed = 7u64;
        let mut next = move || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let values: Vec<Option<f64>> = (0..6_000)
            .map(|i| match (next() * 40.0) as u32 {
                0 => None,
                1 => Some(f64::NAN),
                2 => Some(f64::INFINITY),
                3 => Some(f64::NEG_INFINITY),
                4 => Some(-0.0),
                _ if i % 7 == 0 => Some((next() * 30.0).round()),
                _ => Some((next() - 0.3) * 50.0),
            })
            .collect();
        let values = Float64Array::from(values);
        let mut groups = Vec::new();
        let mut at = 0;
        while at < values.len() {
            let len = match groups.len() % 5 {
                0 => 1,
                1 => 3,
                2 => (next() * 40.0) as usize,
                3 => 700,
                _ => 17,
            }
            .min(values.len() - at);
            groups.push(at..at + len);
            at += len;
        }
        let edges: Arc<[f64]> = (0..255).map(|i| f64::from(i) / 6.0 - 10.0).collect::<Vec<_>>().into();
        for (edges, detail) in [
            (Some(edges.clone()), crate::backend::Detail::Light),
            (Some(edges), crate::backend::Detail::HistogramOnly),
            (None, crate::backend::Detail::Light),
        ] {
            for integral in [false, true] {
                // An integral column's values are whole numbers (a fold may count them so).
                let values: Float64Array = match integral {
                    false => values.clone(),
                    true => values.iter().map(|v| v.map(f64::round)).collect(),
                };
                let task =
                    ColumnTask { index: 0, kind: ColumnKind::Numeric { integral }, edges: edges.clone(), detail };
                let mut s = ColumnScratch::default();
                let g = grouped(&values, &groups, &task, &mut s);
                let bins = task.edges.as_ref().map(|e| e.len() + 1);
                let each: Vec<NumericFold> =
                    groups.iter().map(|r| numeric(&values.slice(r.start, r.len()), &task, None, &mut s)).collect();
                assert_eq!(g.folds(&groups, bins), each, "{detail:?}, integral {integral}");
                assert!(g.groups.iter().any(|c| c.nulls > 0 && c.nan > 0 && c.finite > 0));
            }
        }
    }
}
