//! Folding Arrow arrays into a [`ColumnProfile`]: one fused pass per column and batch.
//!
//! Numeric arrays are read as `f64` (integers beyond 2^53 lose precision there, as in every f64
//! statistic); NaN and ±∞ are counted apart; the finite values feed the moments, the sketches and
//! the backend's histogram kernel in one go. Text is typed per value like SageMaker (`"42"` is
//! Integral, `"4.2"` Fractional, `"n/a"` String) and handled once per distinct value: dictionary
//! arrays are counted by key and each dictionary string is looked at once. Distinct values are
//! visited in a fixed order so that results never depend on hashing.

use std::collections::HashMap;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type};
use arrow_array::{Array, ArrayRef, BooleanArray, Float64Array};
use arrow_schema::DataType;

use super::{ColumnProfile, Histogram, Role};
use crate::backend::{Backend, NumericSummary};

/// What to compute for one column.
#[derive(Debug, Clone, Default)]
pub struct ColumnPlan {
    /// Histogram edges; `None` computes no histogram.
    pub edges: Option<Vec<f64>>,
    /// Only fill the histogram (a baseline's second pass).
    pub histogram_only: bool,
}

/// How a text value classifies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TextKind {
    /// A whole number, with its value.
    Integral(f64),
    /// Another number (including `NaN`, `inf`), with its value.
    Fractional(f64),
    /// `true` or `false`.
    Boolean,
    /// Anything else.
    String,
}

/// Classifies one text value as SageMaker (Deequ) types values in text data.
pub fn classify(s: &str) -> TextKind {
    let t = s.trim();
    if t.is_empty() {
        return TextKind::String;
    }
    if t.eq_ignore_ascii_case("true") || t.eq_ignore_ascii_case("false") {
        return TextKind::Boolean;
    }
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(v) = t.parse::<f64>() {
            return TextKind::Integral(v);
        }
    }
    // Only strings made of number characters, or short ones (NaN, inf, infinity), can parse:
    // most text is rejected on its first letter without running the float parser.
    let numberish = digits.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    if !numberish && digits.len() > 8 {
        return TextKind::String;
    }
    match t.parse::<f64>() {
        Ok(v) => TextKind::Fractional(v),
        Err(_) => TextKind::String,
    }
}

/// True for Arrow types driftwatch profiles as numbers.
pub fn is_numeric_type(t: &DataType) -> bool {
    t.is_numeric() || t.is_temporal()
}

/// True for Arrow types read as text.
pub fn is_text_type(t: &DataType) -> bool {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, v) => is_text_type(v),
        _ => false,
    }
}

/// Folds one array into the column's profile. Fails only when the backend does (a GPU error).
pub fn accumulate(
    col: &mut ColumnProfile,
    array: &ArrayRef,
    plan: &ColumnPlan,
    backend: &dyn Backend,
    scratch: &mut Vec<f64>,
) -> Result<(), String> {
    let len = array.len() as u64;
    let nulls = array.logical_null_count() as u64;
    col.rows += len;
    col.missing += nulls;
    if plan.edges.is_some() && col.histogram.is_none() {
        col.histogram = plan.edges.clone().map(Histogram::new);
    }
    let dt = array.data_type();
    if is_text_type(dt) {
        text(col, array, plan, backend, scratch)?;
    } else if matches!(dt, DataType::Boolean) {
        boolean(col, array.as_boolean(), plan);
    } else if is_numeric_type(dt) {
        numeric(col, array, plan, backend, scratch)?;
    }
    // Other types (lists, structs, binary): counted as rows and missing only, type Unknown.
    Ok(())
}

fn to_f64(array: &ArrayRef) -> Option<Float64Array> {
    if let Some(a) = array.as_primitive_opt::<Float64Type>() {
        return Some(a.clone());
    }
    let src =
        if array.data_type().is_temporal() { arrow_cast::cast(array, &DataType::Int64).ok()? } else { array.clone() };
    arrow_cast::cast(&src, &DataType::Float64).ok().map(|a| a.as_primitive::<Float64Type>().clone())
}

fn numeric(
    col: &mut ColumnProfile,
    array: &ArrayRef,
    plan: &ColumnPlan,
    backend: &dyn Backend,
    scratch: &mut Vec<f64>,
) -> Result<(), String> {
    let dt = array.data_type();
    let integral =
        dt.is_integer() || dt.is_temporal() || matches!(dt, DataType::Decimal128(_, 0) | DataType::Decimal256(_, 0));
    let Some(values) = to_f64(array) else { return Ok(()) };
    let kernel = |col: &mut ColumnProfile| -> Result<(), String> {
        if let Some(h) = &mut col.histogram {
            // The backend's kernel: exact bins of the finite values, on the CPU or the GPU.
            let mut s = NumericSummary::new(h.edges.len());
            backend.histogram(values.values(), values.nulls().map(|n| n.inner()), &h.edges, &mut s)?;
            h.counts.iter_mut().zip(&s.counts).for_each(|(a, b)| *a += b);
        }
        Ok(())
    };
    if plan.histogram_only {
        return kernel(col);
    }
    scratch.clear();
    let (mut nan, mut pinf, mut ninf) = (0u64, 0u64, 0u64);
    let mut push = |v: f64| {
        if v.is_finite() {
            scratch.push(v);
        } else if v.is_nan() {
            nan += 1;
        } else if v > 0.0 {
            pinf += 1;
        } else {
            ninf += 1;
        }
    };
    if values.null_count() == 0 {
        values.values().iter().for_each(|&v| push(v));
    } else {
        values.iter().flatten().for_each(push);
    }
    let present = (scratch.len() as u64) + nan + pinf + ninf;
    if integral {
        col.types.integral += present;
    } else {
        col.types.fractional += present;
    }
    col.nan += nan;
    col.pos_inf += pinf;
    col.neg_inf += ninf;
    col.moments.update_slice(scratch);
    // One radix sort serves both the histogram (the CPU bins a sorted batch with one search per
    // edge) and the quantile sketch (which compacts the sorted batch).
    // Numbers are not hashed into the distinct-count sketch: SageMaker reports distinct counts
    // for string features only, and hashing every number would cost about a sixth of the time.
    let sorted = scratch.len() >= 64;
    if sorted {
        sort_batch(scratch, integral);
    }
    let binned = match &mut col.histogram {
        Some(h) if sorted => backend.histogram_sorted(scratch, &h.edges, &mut h.counts),
        _ => false,
    };
    if !binned {
        kernel(col)?;
    }
    // Last: the sketch compacts the sorted batch in place.
    col.kll.update_sorted(scratch);
    Ok(())
}

/// Sorts a batch of finite values in ascending order the cheapest way that applies: not at all
/// when it already is (event times in capture order), by counting for whole numbers in a range
/// narrower than the batch (labels, codes, small counts), by radix sort otherwise. The result is
/// the same as the radix sort's.
fn sort_batch(values: &mut [f64], integral: bool) {
    if values.is_sorted_by(|a, b| a.total_cmp(b).is_le()) {
        return;
    }
    if integral {
        // Whole numbers below 2^53 in magnitude are exact in f64, and so are their differences.
        const EXACT: f64 = 9_007_199_254_740_992.0;
        let (lo, hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
        let range = hi - lo;
        if lo > -EXACT && hi < EXACT && range < values.len().min(1 << 16) as f64 {
            let mut counts = vec![0u32; range as usize + 1];
            for &v in values.iter() {
                counts[(v - lo) as usize] += 1;
            }
            let mut at = 0;
            for (i, &c) in counts.iter().enumerate() {
                values[at..at + c as usize].fill(lo + i as f64);
                at += c as usize;
            }
            return;
        }
    }
    radsort::sort(values);
}

fn boolean(col: &mut ColumnProfile, array: &BooleanArray, plan: &ColumnPlan) {
    let t = array.true_count() as u64;
    let f = array.false_count() as u64;
    col.types.boolean += t + f;
    if plan.histogram_only {
        return;
    }
    for (name, n) in [("true", t), ("false", f)] {
        if n > 0 {
            col.categories.add(name, n);
            col.hll.update_str(name);
        }
    }
}

/// Uniform access to the three Arrow string layouts.
enum Strings<'a> {
    Utf8(&'a arrow_array::StringArray),
    Large(&'a arrow_array::LargeStringArray),
    View(&'a arrow_array::StringViewArray),
}

impl<'a> Strings<'a> {
    fn of(a: &'a dyn Array) -> Option<Self> {
        match a.data_type() {
            DataType::Utf8 => Some(Strings::Utf8(a.as_string::<i32>())),
            DataType::LargeUtf8 => Some(Strings::Large(a.as_string::<i64>())),
            DataType::Utf8View => Some(Strings::View(a.as_string_view())),
            _ => None,
        }
    }
    fn len(&self) -> usize {
        match self {
            Strings::Utf8(a) => a.len(),
            Strings::Large(a) => a.len(),
            Strings::View(a) => a.len(),
        }
    }
    fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            Strings::Utf8(a) => a.is_valid(i).then(|| a.value(i)),
            Strings::Large(a) => a.is_valid(i).then(|| a.value(i)),
            Strings::View(a) => a.is_valid(i).then(|| a.value(i)),
        }
    }
}

fn text(
    col: &mut ColumnProfile,
    array: &ArrayRef,
    plan: &ColumnPlan,
    backend: &dyn Backend,
    scratch: &mut Vec<f64>,
) -> Result<(), String> {
    // Finite numbers found in the text, with their counts: they go to the moments and the
    // quantile sketch as one sorted batch at the end, like a numeric column's values, instead of
    // one update per row.
    let mut numbers: Vec<(f64, u64)> = Vec::new();
    text_values(col, array, plan, backend, &mut numbers)?;
    if !numbers.is_empty() {
        numbers.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        scratch.clear();
        for (v, c) in numbers {
            scratch.extend(std::iter::repeat_n(v, c as usize));
        }
        col.moments.update_slice(scratch);
        col.kll.update_sorted(scratch);
    }
    Ok(())
}

fn text_values(
    col: &mut ColumnProfile,
    array: &ArrayRef,
    plan: &ColumnPlan,
    backend: &dyn Backend,
    numbers: &mut Vec<(f64, u64)>,
) -> Result<(), String> {
    if let Some(dict) = array.as_any_dictionary_opt() {
        let Some(values) = Strings::of(dict.values().as_ref()) else {
            return Ok(());
        };
        let mut counts = vec![0u64; values.len()];
        let key_nulls = dict.keys().logical_nulls();
        let validity = key_nulls.as_ref().map(|n| n.inner());
        // The backend's key-count kernel. Int32 keys (what the scanner asks Parquet for) go as
        // they are; other key types are normalized first.
        if let Some(d) = array.as_dictionary_opt::<Int32Type>() {
            backend.key_counts(bytemuck::cast_slice(d.keys().values().as_ref()), validity, &mut counts)?;
        } else {
            let keys: Vec<u32> = dict.normalized_keys().into_iter().map(|k| k as u32).collect();
            backend.key_counts(&keys, validity, &mut counts)?;
        }
        for (i, &c) in counts.iter().enumerate() {
            if c > 0 {
                if let Some(s) = values.get(i) {
                    text_value(col, s, c, plan, numbers);
                }
            }
        }
        return Ok(());
    }
    let Some(strings) = Strings::of(array.as_ref()) else {
        return Ok(());
    };
    if col.role == Role::Identifier {
        // All distinct: no point in grouping equal values first.
        for i in 0..strings.len() {
            if let Some(s) = strings.get(i) {
                text_value(col, s, 1, plan, numbers);
            }
        }
        return Ok(());
    }
    let mut distinct: HashMap<&str, u64> = HashMap::new();
    for i in 0..strings.len() {
        if let Some(s) = strings.get(i) {
            *distinct.entry(s).or_insert(0) += 1;
        }
    }
    let mut distinct: Vec<(&str, u64)> = distinct.into_iter().collect();
    distinct.sort_unstable_by(|a, b| a.0.cmp(b.0));
    for (s, c) in distinct {
        text_value(col, s, c, plan, numbers);
    }
    Ok(())
}

fn text_value(col: &mut ColumnProfile, s: &str, count: u64, plan: &ColumnPlan, numbers: &mut Vec<(f64, u64)>) {
    let kind = classify(s);
    let number = match kind {
        TextKind::Integral(v) => {
            col.types.integral += count;
            Some(v)
        }
        TextKind::Fractional(v) => {
            col.types.fractional += count;
            Some(v)
        }
        TextKind::Boolean => {
            col.types.boolean += count;
            None
        }
        TextKind::String => {
            col.types.string += count;
            None
        }
    };
    if !plan.histogram_only {
        // Identifiers are all distinct: their values are not worth counting one by one.
        if col.role != Role::Identifier {
            col.categories.add(s, count);
        }
        col.hll.update_str(s);
    }
    let Some(v) = number else { return };
    if v.is_nan() {
        col.nan += count;
    } else if v.is_infinite() {
        if v > 0.0 {
            col.pos_inf += count;
        } else {
            col.neg_inf += count;
        }
    } else {
        if !plan.histogram_only {
            numbers.push((v, count));
        }
        if let Some(h) = &mut col.histogram {
            h.counts[Histogram::bin(&h.edges, v)] += count;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::cpu::CpuBackend;
    use crate::profile::InferredType;
    use arrow_array::types::Int32Type;
    use arrow_array::{DictionaryArray, Int32Array, StringArray};
    use std::sync::Arc;

    fn run(a: ArrayRef, plan: &ColumnPlan) -> ColumnProfile {
        let mut c = ColumnProfile::new("c", "x", Role::Feature);
        accumulate(&mut c, &a, plan, &CpuBackend, &mut Vec::new()).unwrap();
        c
    }

    #[test]
    fn classify_values() {
        assert_eq!(classify("42"), TextKind::Integral(42.0));
        assert_eq!(classify(" -7 "), TextKind::Integral(-7.0));
        assert_eq!(classify("4.5"), TextKind::Fractional(4.5));
        assert_eq!(classify("1e3"), TextKind::Fractional(1000.0));
        assert!(matches!(classify("NaN"), TextKind::Fractional(v) if v.is_nan()));
        assert_eq!(classify("True"), TextKind::Boolean);
        assert_eq!(classify("n/a"), TextKind::String);
        assert_eq!(classify(""), TextKind::String);
    }

    #[test]
    fn numeric_with_nulls_nan_inf() {
        let a: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(1.0),
            None,
            Some(f64::NAN),
            Some(3.0),
            Some(f64::INFINITY),
            Some(f64::NEG_INFINITY),
        ]));
        let c = run(a, &ColumnPlan { edges: Some(vec![2.0]), histogram_only: false });
        assert_eq!((c.rows, c.missing, c.nan, c.pos_inf, c.neg_inf), (6, 1, 1, 1, 1));
        assert_eq!(c.moments.mean(), Some(2.0));
        assert_eq!(c.types.fractional, 5);
        assert_eq!(c.histogram.unwrap().counts, vec![1, 1]);
    }

    #[test]
    fn numeric_all_null() {
        let a: ArrayRef = Arc::new(Int32Array::from(vec![None, None]));
        let c = run(a, &ColumnPlan::default());
        assert_eq!((c.rows, c.missing), (2, 2));
        assert_eq!(c.moments.mean(), None);
        assert_eq!(c.inferred_type(), InferredType::Unknown);
    }

    #[test]
    fn text_typed_per_value() {
        let a: ArrayRef = Arc::new(StringArray::from(vec![Some("1"), Some("2.5"), Some("n/a"), None, Some("1")]));
        let c = run(a, &ColumnPlan::default());
        assert_eq!(c.types.integral, 2);
        assert_eq!(c.types.fractional, 1);
        assert_eq!(c.types.string, 1);
        assert_eq!(c.inferred_type(), InferredType::String);
        assert_eq!(c.moments.n, 3);
        assert_eq!(c.categories.exact.get("1"), Some(&2));
    }

    #[test]
    fn dictionary_counts_by_key() {
        let d: DictionaryArray<Int32Type> = vec![Some("a"), Some("b"), None, Some("a")].into_iter().collect();
        let c = run(Arc::new(d), &ColumnPlan::default());
        assert_eq!((c.rows, c.missing), (4, 1));
        assert_eq!(c.categories.top(2), vec![("a".to_string(), 2), ("b".to_string(), 1)]);
    }

    #[test]
    fn sort_batch_agrees_with_a_comparison_sort() {
        let mut seed = 11u64;
        let mut next = move || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            seed >> 11
        };
        let cases: Vec<(Vec<f64>, bool)> = vec![
            // Whole numbers in a narrow range, negatives included: counted.
            ((0..5000).map(|_| (next() % 97) as f64 - 40.0).collect(), true),
            // One value only.
            (vec![7.0; 300], true),
            // A range wider than the batch: radix sorted.
            ((0..5000).map(|_| (next() % 1_000_000) as f64).collect(), true),
            // Near 2^53, where the counting path must not go.
            ((0..500).map(|_| 9_007_199_254_740_000.0 + (next() % 900) as f64).collect(), true),
            // Already sorted (event times), then reversed.
            ((0..5000).map(|i| 1.78e12 + 37.0 * i as f64).collect(), true),
            ((0..5000).rev().map(|i| 1.78e12 + 37.0 * i as f64).collect(), true),
            // Fractional values with both zeros.
            ((0..5000).map(|i| if i % 50 == 0 { -0.0 } else { (next() as f64).sin() }).collect(), false),
        ];
        for (values, integral) in cases {
            let mut want = values.clone();
            want.sort_by(f64::total_cmp);
            let mut got = values;
            sort_batch(&mut got, integral);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&got), bits(&want));
        }
    }

    #[test]
    fn numbers_in_text_profile_like_a_numeric_column() {
        // 3000 rows of 5 distinct numeric strings (and some text): moments and quantiles must be
        // those of the same numbers in a Float64 column.
        let pick = |i: usize| ["1.5", "-2", "7", "1.5", "40", "n/a"][i % 6];
        let text: Vec<Option<&str>> = (0..3000).map(|i| Some(pick(i * 7 % 11))).collect();
        let nums: Vec<Option<f64>> = text.iter().map(|s| s.and_then(|s| s.parse().ok())).collect();
        let d: DictionaryArray<Int32Type> = text.iter().copied().collect();
        let t = run(Arc::new(d), &ColumnPlan::default());
        let n = run(Arc::new(Float64Array::from(nums.clone())), &ColumnPlan::default());
        let present: Vec<f64> = nums.into_iter().flatten().collect();
        let mean = present.iter().sum::<f64>() / present.len() as f64;
        assert_eq!(t.moments.n, present.len() as u64);
        assert!((t.moments.mean().unwrap() - mean).abs() < 1e-12);
        assert!((t.moments.std_dev().unwrap() - n.moments.std_dev().unwrap()).abs() < 1e-12);
        assert_eq!((t.moments.min, t.moments.max), (Some(-2.0), Some(40.0)));
        assert_eq!(t.kll.n, n.kll.n);
        let ranks = [0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0];
        assert_eq!(t.kll.quantiles(&ranks), n.kll.quantiles(&ranks));
    }
}
