//! The host's part of folding a batch: applying a backend's [`ColumnFold`] to a column's
//! profile, and typing text.
//!
//! Text is typed per value like SageMaker (`"42"` is Integral, `"4.2"` Fractional, `"n/a"`
//! String) and handled once per distinct value: the backend counts dictionary keys, and each
//! dictionary string is looked at once; plain text columns are grouped here. Distinct values are
//! visited in a fixed order so that results never depend on hashing. Numbers found in text feed
//! the moments and the quantile sketch like a numeric column's values.

use std::collections::HashMap;
use std::ops::Range;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef};
use arrow_buffer::NullBuffer;
use arrow_schema::DataType;

use crate::backend::fold::{GroupedNumeric, NumericCounts};
use crate::backend::{Bins, ColumnFold, Detail, NumericFold, SketchFeed};
use crate::profile::{Categories, ColumnProfile, Histogram, Hll, Kll, Moments, NumberHll, Role, Tally, TypeCounts};

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
    // A number starts with a digit or a point, else it is inf, infinity or NaN (any case):
    // other text is rejected on its first character without running the float parser.
    if !digits.bytes().next().is_some_and(|b| b.is_ascii_digit() || matches!(b, b'.' | b'i' | b'I' | b'n' | b'N')) {
        return TextKind::String;
    }
    // Only strings made of number characters, or short ones (NaN, inf, infinity), can parse.
    let numberish = digits.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    if !numberish && digits.len() > 8 {
        return TextKind::String;
    }
    match t.parse::<f64>() {
        Ok(v) => TextKind::Fractional(v),
        Err(_) => TextKind::String,
    }
}

/// The sketches of a column profile a fold feeds.
pub(super) struct Sketches<'a> {
    kll: &'a mut Kll,
    hll: &'a mut Hll,
    numbers: &'a mut NumberHll,
}

/// What a fold is applied to: a column's profile, or a light profile's [`Tally`] (which has
/// no sketches: its folds feed none). Both get the same operations in the same order, so a
/// tally merged into a profile gives that profile the fields the fold would have given it.
pub(super) struct Target<'a> {
    rows: &'a mut u64,
    missing: &'a mut u64,
    types: &'a mut TypeCounts,
    nan: &'a mut u64,
    pos_inf: &'a mut u64,
    neg_inf: &'a mut u64,
    moments: &'a mut Moments,
    categories: Kept<'a>,
    histogram: Sink<'a>,
    sketches: Option<Sketches<'a>>,
    role: Role,
}

/// Where a fold's category counts go.
pub(super) enum Kept<'a> {
    /// A profile's or a tally's categories.
    Categories(&'a mut Categories),
    /// A sheet's list of `(value, count)` pairs ([`Codes`]).
    Codes(&'a mut Codes),
}

impl Kept<'_> {
    fn add(&mut self, value: &str, count: u64) {
        match self {
            Kept::Categories(c) => c.add(value, count),
            Kept::Codes(c) => c.add(value, count),
        }
    }
}

/// The category counts of a row group's windows, flat ([`super::profiler`]'s sheet): each
/// distinct value once, and every window's `(value, count)` pairs in one list. A shuffled
/// backfill's row group touches a thousand windows with a few rows each: as categories, that is
/// a map and a copy of each value per window, merged value by value into the file's.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Codes {
    /// The distinct values, in the order first seen.
    values: Vec<String>,
    index: HashMap<String, u32>,
    /// Every window's pairs (a value's code in `values`, its count), window after window, each
    /// value at most once per window.
    pairs: Vec<(u32, u64)>,
    /// Where each window's pairs end in `pairs`.
    ends: Vec<usize>,
}

impl Codes {
    fn add(&mut self, value: &str, count: u64) {
        let code = match self.index.get(value) {
            Some(&c) => c,
            None => {
                let c = self.values.len() as u32;
                self.values.push(value.to_string());
                self.index.insert(value.to_string(), c);
                c
            }
        };
        self.pairs.push((code, count));
    }

    /// Ends the window whose pairs were added since the last one ended.
    pub(super) fn end_window(&mut self) {
        self.ends.push(self.pairs.len());
    }

    /// The values and counts of window `i`.
    pub(super) fn counts(&self, i: usize) -> impl Iterator<Item = (&str, u64)> {
        let from = if i == 0 { 0 } else { self.ends[i - 1] };
        self.pairs[from..self.ends[i]].iter().map(|&(c, n)| (self.values[c as usize].as_str(), n))
    }

    /// The bytes held, roughly.
    pub(super) fn bytes(&self) -> usize {
        self.pairs.len() * 16 + self.ends.len() * 8 + self.values.iter().map(|v| 2 * (v.len() + 48)).sum::<usize>()
    }
}

/// Where a fold's histogram counts go.
pub(super) enum Sink<'a> {
    /// A histogram (`None`: the column has none).
    Histogram(&'a mut Option<Histogram>),
    /// A list of `(bin, count)` pairs that one group's counts are appended to, in ascending
    /// bin order, each bin once (`edges`: the column's; `None`: it has no histogram). A row
    /// group's windows keep theirs in one list ([`super::profiler`]'s sheet).
    Pairs { pairs: &'a mut Vec<(u32, u64)>, edges: Option<&'a [f64]> },
}

impl<'a> Target<'a> {
    /// A column's profile.
    pub(super) fn profile(c: &'a mut ColumnProfile) -> Self {
        Target {
            rows: &mut c.rows,
            missing: &mut c.missing,
            types: &mut c.types,
            nan: &mut c.nan,
            pos_inf: &mut c.pos_inf,
            neg_inf: &mut c.neg_inf,
            moments: &mut c.moments,
            categories: Kept::Categories(&mut c.categories),
            histogram: Sink::Histogram(&mut c.histogram),
            sketches: Some(Sketches { kll: &mut c.kll, hll: &mut c.hll, numbers: &mut c.numbers }),
            role: c.role,
        }
    }

    /// A tally of a column whose role is `role`.
    pub(super) fn tally(t: &'a mut Tally, role: Role) -> Self {
        Target {
            rows: &mut t.rows,
            missing: &mut t.missing,
            types: &mut t.types,
            nan: &mut t.nan,
            pos_inf: &mut t.pos_inf,
            neg_inf: &mut t.neg_inf,
            moments: &mut t.moments,
            categories: Kept::Categories(&mut t.categories),
            histogram: Sink::Histogram(&mut t.histogram),
            sketches: None,
            role,
        }
    }

    /// A tally of a column whose role is `role`, its histogram counts going to `pairs`
    /// (binned on `edges`, when the column has a histogram), and its category counts to
    /// `codes` when given (else to the tally).
    pub(super) fn paired(
        t: &'a mut Tally,
        role: Role,
        pairs: &'a mut Vec<(u32, u64)>,
        edges: Option<&'a [f64]>,
        codes: Option<&'a mut Codes>,
    ) -> Self {
        let target = Target { histogram: Sink::Pairs { pairs, edges }, ..Target::tally(t, role) };
        match codes {
            Some(c) => Target { categories: Kept::Codes(c), ..target },
            None => target,
        }
    }
}

/// Applies one column's fold of a batch (`array` is the column) to its profile or tally.
pub(super) fn apply_column(col: Target, array: &ArrayRef, fold: ColumnFold, detail: Detail) {
    apply_counted(col, array, (array.len(), array.logical_null_count()), fold, detail);
}

/// Applies the fold of some rows of a column: `array` holds them, or is the whole column
/// when the fold is not [`ColumnFold::Host`] (a fold of counts: its dictionary and type are
/// the rows'); `(rows, missing)` counts them.
pub(super) fn apply_counted(
    mut col: Target,
    array: &ArrayRef,
    (rows, missing): (usize, usize),
    fold: ColumnFold,
    detail: Detail,
) {
    *col.rows += rows as u64;
    *col.missing += missing as u64;
    match fold {
        ColumnFold::Numeric(f) => numeric(col, *f, array.data_type(), detail),
        ColumnFold::Grouped(g) => {
            // One group (several are applied group by group); its rows are counted above.
            debug_assert_eq!(g.groups.len(), 1, "a grouped fold is applied group by group");
            apply_grouped(col, (0, 0), (&g, 0), array.data_type(), detail);
        }
        ColumnFold::Keys(counts) => {
            let Some(values) = array.as_any_dictionary_opt().and_then(|d| Strings::of(d.values().as_ref())) else {
                return;
            };
            let mut text = TextFold::new(&mut col, detail);
            for (i, &c) in counts.iter().enumerate() {
                if c > 0 {
                    if let Some(s) = values.get(i) {
                        text.value(s, c);
                    }
                }
            }
            text.finish();
        }
        ColumnFold::Boolean { trues, falses } => {
            col.types.boolean += trues + falses;
            if detail != Detail::HistogramOnly {
                for (name, n) in [("true", trues), ("false", falses)] {
                    if n > 0 {
                        col.categories.add(name, n);
                        if let Some(s) = col.sketches.as_mut().filter(|_| detail == Detail::Full) {
                            s.hll.update_str(name);
                        }
                    }
                }
            }
        }
        ColumnFold::Host => {
            if let Some(strings) = Strings::of(array.as_ref()) {
                plain_text(&mut col, &strings, detail);
            }
            // Other types (lists, structs, binary): counted as rows and missing only.
        }
    }
}

fn numeric(mut col: Target, f: NumericFold, t: &DataType, detail: Detail) {
    match (&mut col.histogram, f.bins) {
        (Sink::Histogram(Some(h)), Some(Bins::Dense(counts))) => h.add_counts(&counts),
        (Sink::Histogram(Some(h)), Some(Bins::Few(at))) => h.add_sorted_owned(at),
        (Sink::Pairs { pairs, edges: Some(_) }, Some(Bins::Dense(counts))) => {
            pairs.extend(counts.iter().enumerate().filter(|(_, &c)| c > 0).map(|(i, &c)| (i as u32, c)));
        }
        (Sink::Pairs { pairs, edges: Some(_) }, Some(Bins::Few(at))) => pairs.extend(at),
        _ => {}
    }
    if detail == Detail::HistogramOnly {
        return;
    }
    numeric_counts(&mut col, &f.counts, t);
    // A tally's folds feed no sketch (light and histogram-only folds sketch nothing).
    let Some(s) = col.sketches else {
        debug_assert!(f.distinct.is_empty() && matches!(f.sketch, SketchFeed::None), "a tally is never sketched");
        return;
    };
    s.numbers.merge(&f.distinct);
    match f.sketch {
        SketchFeed::None => {}
        SketchFeed::Values(v) => v.iter().for_each(|&x| s.kll.update(x)),
        SketchFeed::Selected(sel, v) => s.kll.update_selected(&sel, &v),
        SketchFeed::Sorted(v) => s.kll.update_sorted(&v),
    }
}

/// A numeric group's types, non-finite counts and moments.
fn numeric_counts(col: &mut Target, f: &NumericCounts, t: &DataType) {
    let present = f.finite + f.nan + f.pos_inf + f.neg_inf;
    if matches!(crate::backend::ColumnKind::of(t), crate::backend::ColumnKind::Numeric { integral: true }) {
        col.types.integral += present;
    } else {
        col.types.fractional += present;
    }
    *col.nan += f.nan;
    *col.pos_inf += f.pos_inf;
    *col.neg_inf += f.neg_inf;
    col.moments.merge(&f.moments);
}

/// Applies group `i` of a column's [`GroupedNumeric`] fold (`t`: the column's type), of
/// `rows` rows of which `missing` are null: what [`apply_counted`] does with that group's
/// [`NumericFold`].
fn apply_grouped(
    mut col: Target,
    (rows, missing): (usize, usize),
    (g, i): (&GroupedNumeric, usize),
    t: &DataType,
    detail: Detail,
) {
    *col.rows += rows as u64;
    *col.missing += missing as u64;
    let pairs = g.pairs_of(i);
    match &mut col.histogram {
        Sink::Histogram(Some(h)) => h.add_sorted(pairs),
        Sink::Pairs { pairs: list, edges: Some(_) } => list.extend_from_slice(pairs),
        _ => {}
    }
    if detail != Detail::HistogramOnly {
        numeric_counts(&mut col, &g.groups[i], t);
    }
}

/// A column's folds of a batch's groups: one grouped fold for all, or one fold per group.
pub(super) enum GroupFolds {
    Grouped(Box<GroupedNumeric>),
    Each(std::vec::IntoIter<ColumnFold>),
}

impl GroupFolds {
    /// The folds a backend gave one column of a batch of several groups.
    pub(super) fn of(folds: Vec<ColumnFold>) -> GroupFolds {
        let mut folds = folds.into_iter();
        match folds.as_slice() {
            [ColumnFold::Grouped(_)] => match folds.next() {
                Some(ColumnFold::Grouped(g)) => GroupFolds::Grouped(g),
                _ => unreachable!("matched"),
            },
            _ => GroupFolds::Each(folds),
        }
    }

    /// Applies group `i`, rows `rows` of `array` (`nulls`: the column's), to `col`; groups are
    /// applied in order.
    pub(super) fn apply(
        &mut self,
        col: Target,
        (i, rows): (usize, &Range<usize>),
        (array, nulls): (&ArrayRef, Option<&NullBuffer>),
        detail: Detail,
    ) {
        match self {
            GroupFolds::Grouped(g) => apply_grouped(col, counted(nulls, rows), (g, i), array.data_type(), detail),
            GroupFolds::Each(folds) => match folds.next().expect("a fold per group") {
                // A group's nulls are counted on the column's null buffer: slicing the array
                // for every group of a few rows costs more than the fold.
                f @ ColumnFold::Host => apply_column(col, &array.slice(rows.start, rows.len()), f, detail),
                f => apply_counted(col, array, counted(nulls, rows), f, detail),
            },
        }
    }
}

/// The rows of a group and how many of them are null (`nulls`: the column's).
pub(super) fn counted(nulls: Option<&NullBuffer>, rows: &Range<usize>) -> (usize, usize) {
    (rows.len(), nulls.map_or(0, |n| n.slice(rows.start, rows.len()).null_count()))
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

fn plain_text(col: &mut Target, strings: &Strings, detail: Detail) {
    let identifier = col.role == Role::Identifier;
    let mut text = TextFold::new(col, detail);
    if identifier {
        // All distinct: no point in grouping equal values first.
        for i in 0..strings.len() {
            if let Some(s) = strings.get(i) {
                text.value(s, 1);
            }
        }
    } else {
        let mut distinct: HashMap<&str, u64> = HashMap::new();
        for i in 0..strings.len() {
            if let Some(s) = strings.get(i) {
                *distinct.entry(s).or_insert(0) += 1;
            }
        }
        let mut distinct: Vec<(&str, u64)> = distinct.into_iter().collect();
        distinct.sort_unstable_by(|a, b| a.0.cmp(b.0));
        for (s, c) in distinct {
            text.value(s, c);
        }
    }
    text.finish();
}

/// Folds distinct text values of one batch into a column's profile.
struct TextFold<'c, 'a> {
    col: &'c mut Target<'a>,
    detail: Detail,
    /// Finite numbers found in the text, with their counts: they go to the moments and the
    /// quantile sketch as one sorted batch at the end, like a numeric column's values.
    numbers: Vec<(f64, u64)>,
    /// Where this fold's histogram pairs start, for a [`Sink::Pairs`].
    pairs_from: usize,
}

impl<'c, 'a> TextFold<'c, 'a> {
    fn new(col: &'c mut Target<'a>, detail: Detail) -> Self {
        let pairs_from = match &col.histogram {
            Sink::Pairs { pairs, .. } => pairs.len(),
            Sink::Histogram(_) => 0,
        };
        TextFold { col, detail, numbers: Vec::new(), pairs_from }
    }

    fn value(&mut self, s: &str, count: u64) {
        let col = &mut *self.col;
        let number = match classify(s) {
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
        if self.detail != Detail::HistogramOnly {
            // Identifiers are all distinct: their values are not worth counting one by one.
            if col.role != Role::Identifier {
                col.categories.add(s, count);
            }
            if let Some(sk) = col.sketches.as_mut().filter(|_| self.detail == Detail::Full) {
                sk.hll.update_str(s);
            }
        }
        let Some(v) = number else { return };
        if v.is_nan() {
            *col.nan += count;
        } else if v.is_infinite() {
            if v > 0.0 {
                *col.pos_inf += count;
            } else {
                *col.neg_inf += count;
            }
        } else {
            if self.detail != Detail::HistogramOnly {
                self.numbers.push((v, count));
            }
            match &mut col.histogram {
                Sink::Histogram(Some(h)) => {
                    let bin = Histogram::bin(&h.edges, v);
                    h.add(bin, count);
                }
                Sink::Pairs { pairs, edges: Some(e) } => pairs.push((Histogram::bin(e, v) as u32, count)),
                _ => {}
            }
        }
    }

    fn finish(mut self) {
        if let Sink::Pairs { pairs, .. } = &mut self.col.histogram {
            // Numbers come in the text's order: their bins are put in order, each once.
            let mine = &mut pairs[self.pairs_from..];
            if !mine.is_sorted_by(|a, b| a.0 < b.0) {
                mine.sort_unstable_by_key(|p| p.0);
                let mut merged: Vec<(u32, u64)> = Vec::with_capacity(mine.len());
                for &(b, c) in mine.iter() {
                    match merged.last_mut() {
                        Some(last) if last.0 == b => last.1 += c,
                        _ => merged.push((b, c)),
                    }
                }
                pairs.truncate(self.pairs_from);
                pairs.extend(merged);
            }
        }
        if self.numbers.is_empty() {
            return;
        }
        self.numbers.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let mut values = Vec::new();
        for &(v, c) in &self.numbers {
            values.extend(std::iter::repeat_n(v, c as usize));
        }
        self.col.moments.update_slice(&values);
        if let Some(s) = self.col.sketches.as_mut().filter(|_| self.detail == Detail::Full) {
            s.kll.update_sorted(&values);
            s.numbers.update_slice(&values);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::cpu::CpuBackend;
    use crate::engine::{ProfilePlan, Profiler};
    use crate::profile::InferredType;
    use arrow_array::types::Int32Type;
    use arrow_array::{DictionaryArray, Float64Array, Int32Array, RecordBatch, StringArray};
    use std::sync::Arc;

    /// The profile of one array as column `c`, with histogram `edges`.
    fn run(a: ArrayRef, edges: Option<Vec<f64>>) -> ColumnProfile {
        let batch = RecordBatch::try_from_iter([("c", a)]).unwrap();
        let plan = ProfilePlan {
            edges: edges.map(|e| ("c".to_string(), e.into())).into_iter().collect(),
            ..Default::default()
        };
        let mut p = Profiler::new(&plan, batch.schema(), &CpuBackend).unwrap();
        p.update(&batch).unwrap();
        p.finish().unwrap().into_whole().columns.remove(0)
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
        // Against the float parser itself: every string of up to four characters of an
        // alphabet of number parts and letters, and longer words, class for class.
        let reference = |s: &str| {
            let t = s.trim();
            if t.eq_ignore_ascii_case("true") || t.eq_ignore_ascii_case("false") {
                return TextKind::Boolean;
            }
            let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
            match t.parse::<f64>() {
                Ok(v) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => TextKind::Integral(v),
                Ok(v) => TextKind::Fractional(v),
                Err(_) => TextKind::String,
            }
        };
        let alphabet = ['0', '7', '.', 'e', 'E', '+', '-', 'i', 'I', 'n', 'N', 'a', 'f', 's', ' '];
        let (mut words, mut level) = (vec![String::new()], vec![String::new()]);
        for _ in 0..4 {
            level = level.iter().flat_map(|w| alphabet.iter().map(move |c| format!("{w}{c}"))).collect();
            words.extend(level.iter().cloned());
        }
        words.extend(
            ["infinity", "-Infinity", "+iNf", "nan", "-NaN", "infinite", "sensor", "gateway", ".5e-3", "x1", "1x"]
                .map(String::from),
        );
        for w in &words {
            match (classify(w), reference(w)) {
                (TextKind::Fractional(a), TextKind::Fractional(b)) if a.is_nan() && b.is_nan() => {}
                (got, want) => assert_eq!(got, want, "{w:?}"),
            }
        }
        assert!(words.len() > 50_000, "{}", words.len());
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
        let c = run(a, Some(vec![2.0]));
        assert_eq!((c.rows, c.missing, c.nan, c.pos_inf, c.neg_inf), (6, 1, 1, 1, 1));
        assert_eq!(c.moments.mean(), Some(2.0));
        assert_eq!(c.types.fractional, 5);
        assert_eq!(c.histogram.unwrap().counts(), vec![1, 1]);
    }

    #[test]
    fn numeric_all_null() {
        let c = run(Arc::new(Int32Array::from(vec![None, None])), None);
        assert_eq!((c.rows, c.missing), (2, 2));
        assert_eq!(c.moments.mean(), None);
        assert_eq!(c.inferred_type(), InferredType::Unknown);
    }

    #[test]
    fn text_typed_per_value() {
        let a: ArrayRef = Arc::new(StringArray::from(vec![Some("1"), Some("2.5"), Some("n/a"), None, Some("1")]));
        let c = run(a, None);
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
        let c = run(Arc::new(d), None);
        assert_eq!((c.rows, c.missing), (4, 1));
        assert_eq!(c.categories.top(2), vec![("a".to_string(), 2), ("b".to_string(), 1)]);
    }

    #[test]
    fn numbers_in_text_profile_like_a_numeric_column() {
        // 3000 rows of 5 distinct numeric strings (and some text): moments and quantiles must be
        // those of the same numbers in a Float64 column.
        let pick = |i: usize| ["1.5", "-2", "7", "1.5", "40", "n/a"][i % 6];
        let text: Vec<Option<&str>> = (0..3000).map(|i| Some(pick(i * 7 % 11))).collect();
        let nums: Vec<Option<f64>> = text.iter().map(|s| s.and_then(|s| s.parse().ok())).collect();
        let d: DictionaryArray<Int32Type> = text.iter().copied().collect();
        let t = run(Arc::new(d), Some(vec![0.0, 5.0]));
        let n = run(Arc::new(Float64Array::from(nums.clone())), Some(vec![0.0, 5.0]));
        let present: Vec<f64> = nums.into_iter().flatten().collect();
        let mean = present.iter().sum::<f64>() / present.len() as f64;
        assert_eq!(t.moments.n, present.len() as u64);
        assert!((t.moments.mean().unwrap() - mean).abs() < 1e-12);
        assert!((t.moments.std_dev().unwrap() - n.moments.std_dev().unwrap()).abs() < 1e-12);
        assert_eq!((t.moments.min, t.moments.max), (Some(-2.0), Some(40.0)));
        assert_eq!(t.histogram, n.histogram);
        assert_eq!(t.kll.n, n.kll.n);
        // The same four distinct numbers, whether read from text or from a number column.
        assert_eq!(t.numbers, n.numbers);
        assert_eq!(t.numbers.estimate().round(), 4.0);
        let ranks = [0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0];
        assert_eq!(t.kll.quantiles(&ranks), n.kll.quantiles(&ranks));
    }
}
