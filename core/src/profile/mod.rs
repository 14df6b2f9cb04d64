//! The profile: driftscope's mergeable, lossless summary of a dataset.
//!
//! A [`DatasetProfile`] holds one [`ColumnProfile`] per column: counts (rows, missing, per-value
//! types, NaN and ±∞), exact [`Moments`], a [`Kll`] quantile sketch, for text and boolean values
//! an [`Hll`] distinct-count sketch and exact category counts (a frequent-items sketch past
//! [`MAX_EXACT_CATEGORIES`]), and an exact histogram over fixed bin edges when the caller gives
//! edges (the baseline's, see [`bin_edges`]).
//!
//! Profiles merge: a row group, a file, a shard each produce one and [`DatasetProfile::merge`]
//! combines them. driftscope always merges in input order, so the bytes written do not depend on
//! the thread count. This module knows nothing of Parquet, drift metrics or report formats: it
//! imports only [`crate::codec`] (the serde form of non-finite floats, the sketch's generator).

pub mod kll;
pub mod moments;
pub mod pca;
pub mod rff;
pub mod sketches;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use kll::Kll;
pub use moments::Moments;
pub use sketches::{Frequent, Hll, NumberHll};

/// Past this many distinct values a column's categories are tracked by a frequent-items sketch
/// (approximate counts) instead of exactly, and the column is kept out of categorical drift.
pub const MAX_EXACT_CATEGORIES: usize = 10_000;
/// Number of bins driftscope aims for when it derives edges from a baseline's quantiles.
pub const DEFAULT_BINS: usize = 256;
/// Version of the profile format written to `profile.json`.
pub const PROFILE_VERSION: u32 = 1;

/// The data type of a column, inferred from its values as SageMaker (Deequ) does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord, Hash)]
pub enum InferredType {
    /// Whole numbers.
    Integral,
    /// Numbers with a fraction (or floating-point storage).
    Fractional,
    /// Text, or a mix that is not all numbers.
    String,
    /// `true`/`false` values.
    Boolean,
    /// No present value to infer from.
    Unknown,
}

impl InferredType {
    /// SageMaker's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            InferredType::Integral => "Integral",
            InferredType::Fractional => "Fractional",
            InferredType::String => "String",
            InferredType::Boolean => "Boolean",
            InferredType::Unknown => "Unknown",
        }
    }

    /// Parses SageMaker's spelling.
    pub fn parse(s: &str) -> InferredType {
        match s {
            "Integral" => InferredType::Integral,
            "Fractional" => InferredType::Fractional,
            "String" => InferredType::String,
            "Boolean" => InferredType::Boolean,
            _ => InferredType::Unknown,
        }
    }

    /// True for the numeric types.
    pub fn is_numeric(self) -> bool {
        matches!(self, InferredType::Integral | InferredType::Fractional)
    }
}

/// How present values classified, one by one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TypeCounts {
    /// Values that are whole numbers (integer storage, or text such as `"42"`).
    pub integral: u64,
    /// Values that are other numbers (float storage, or text such as `"4.2"`, `"NaN"`).
    pub fractional: u64,
    /// `true`/`false` values.
    pub boolean: u64,
    /// Everything else that is present.
    pub string: u64,
}

impl TypeCounts {
    fn merge(&mut self, o: &TypeCounts) {
        self.integral += o.integral;
        self.fractional += o.fractional;
        self.boolean += o.boolean;
        self.string += o.string;
    }

    /// Deequ's rule: any string (or booleans mixed with numbers) makes the column String; then
    /// Boolean, Fractional, Integral in that order; Unknown when nothing is present.
    pub fn inferred(&self) -> InferredType {
        let numbers = self.integral + self.fractional;
        if self.string > 0 || (self.boolean > 0 && numbers > 0) {
            InferredType::String
        } else if self.boolean > 0 {
            InferredType::Boolean
        } else if self.fractional > 0 {
            InferredType::Fractional
        } else if self.integral > 0 {
            InferredType::Integral
        } else {
            InferredType::Unknown
        }
    }

    /// Number of present values that conform to type `t` (any value conforms to String).
    pub fn conforming(&self, t: InferredType) -> u64 {
        match t {
            InferredType::Integral => self.integral,
            InferredType::Fractional => self.integral + self.fractional,
            InferredType::Boolean => self.boolean,
            InferredType::String | InferredType::Unknown => self.total(),
        }
    }

    /// All present values.
    pub fn total(&self) -> u64 {
        self.integral + self.fractional + self.boolean + self.string
    }
}

/// What a column is for. Timestamps and identifiers are profiled for data quality but kept out of
/// drift unless asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A model input or output.
    #[default]
    Feature,
    /// A date or time column.
    Timestamp,
    /// An identifier such as `inference_id`.
    Identifier,
}

pub use crate::source::ROLE_KEY;

impl Role {
    /// The role of an Arrow field: the one its metadata names ([`ROLE_KEY`]), else guessed from
    /// its name and type.
    pub fn of_field(field: &arrow_schema::Field) -> Role {
        match field.metadata().get(ROLE_KEY).map(String::as_str) {
            Some("timestamp") => Role::Timestamp,
            Some("identifier") => Role::Identifier,
            _ => Role::guess(field.name(), field.data_type().is_temporal()),
        }
    }

    /// True for the names of identifier columns (`id`, `*_id`, `inferenceId`, `eventId`): all
    /// distinct, read as plain text and kept out of value counts.
    pub fn is_identifier_name(name: &str) -> bool {
        Role::guess(name, false) == Role::Identifier
    }

    /// Guesses the role from the column's name (its last `.` part, for a field of a struct) and
    /// Arrow type.
    pub fn guess(name: &str, is_temporal: bool) -> Role {
        let lower = name.rsplit('.').next().unwrap_or(name).to_ascii_lowercase();
        if is_temporal {
            Role::Timestamp
        } else if lower == "id" || lower.ends_with("_id") || lower == "inferenceid" || lower == "eventid" {
            Role::Identifier
        } else {
            Role::Feature
        }
    }
}

/// An exact histogram over fixed edges.
///
/// With `k` edges there are `k + 1` bins: bin `i` holds the finite values `v` for which exactly
/// `i` edges are `<= v`, so the first bin is `(-∞, e0)`, the last `[e(k-1), +∞)`.
///
/// The counts are kept sparse (the bins holding values, in order) while few bins hold values,
/// and dense from a quarter of the bins on: an hour of a sensor touches a handful of a column's
/// 257 bins, and a ten-year backfill holds 87,600 such windows per column. How the counts are
/// kept never shows: every bin reads the same, and the serialized form is the dense list of
/// counts (`{"edges": […], "counts": […]}`). The one exception is a histogram whose edges were
/// taken out ([`crate::engine::ProfileSet::take_segment_edges`], a checkpoint's windows): it is
/// written `{"edges": [], "bins": n, "at": [[bin, count], …]}` while sparse.
#[derive(Debug, Clone)]
pub struct Histogram {
    /// Sorted, distinct, finite interior edges (shared by the profiles of one plan: a window's
    /// histogram does not copy them).
    pub edges: std::sync::Arc<[f64]>,
    counts: Counts,
}

/// A histogram's counts.
#[derive(Debug, Clone)]
enum Counts {
    /// Every bin's count.
    Dense(Vec<u64>),
    /// The number of bins, and the bins holding values with their counts, in bin order (no
    /// zero counts).
    Sparse { bins: usize, at: Vec<(u32, u64)> },
}

impl Counts {
    fn bins(&self) -> usize {
        match self {
            Counts::Dense(c) => c.len(),
            Counts::Sparse { bins, .. } => *bins,
        }
    }

    /// Dense from a quarter of the bins on (a sparse entry takes two dense counts' room).
    fn settle(&mut self) {
        self.dense_from(4);
    }

    /// Dense once the bins holding values are a `1/share` of all.
    fn dense_from(&mut self, share: usize) {
        if let Counts::Sparse { bins, at } = self {
            if at.len() * share >= *bins {
                let mut dense = vec![0; *bins];
                at.iter().for_each(|&(i, c)| dense[i as usize] += c);
                *self = Counts::Dense(dense);
            }
        }
    }

    /// The form [`Counts::settle`] gives counts that hold these bins: sparse below a quarter.
    fn settled(self) -> Counts {
        match self {
            Counts::Dense(c) if c.iter().filter(|&&n| n > 0).count() * 4 < c.len() => Counts::Sparse {
                bins: c.len(),
                at: c.iter().enumerate().filter(|(_, &n)| n > 0).map(|(i, &n)| (i as u32, n)).collect(),
            },
            other => other,
        }
    }
}

/// Merges `pairs` (ascending bins, each once) into the ascending list `at`, adding the counts
/// of a bin both hold: the list grows by the pairs' room and is filled from its end, then the
/// room left by shared bins is closed.
fn merge_sorted_pairs(at: &mut Vec<(u32, u64)>, pairs: &[(u32, u64)]) {
    let (mine, theirs) = (at.len(), pairs.len());
    at.resize(mine + theirs, (0, 0));
    let (mut i, mut j, mut w) = (mine, theirs, mine + theirs);
    // Invariant: at[..i] are the list's entries still to place, at[w..] the merged tail; w ≥ i.
    while j > 0 {
        w -= 1;
        let (b, c) = pairs[j - 1];
        if i > 0 && at[i - 1].0 > b {
            at[w] = at[i - 1];
            i -= 1;
        } else if i > 0 && at[i - 1].0 == b {
            at[w] = (b, at[i - 1].1 + c);
            i -= 1;
            j -= 1;
        } else {
            at[w] = (b, c);
            j -= 1;
        }
    }
    if w > i {
        at.copy_within(w.., i);
        at.truncate(at.len() - (w - i));
    }
}

impl Histogram {
    /// An all-zero histogram over `edges`.
    pub fn new(edges: impl Into<std::sync::Arc<[f64]>>) -> Self {
        let edges = edges.into();
        let bins = edges.len() + 1;
        Histogram { edges, counts: Counts::Sparse { bins, at: Vec::new() } }
    }

    /// A histogram over `edges` with these counts, one per bin.
    ///
    /// # Panics
    /// When there are not `edges.len() + 1` counts.
    pub fn from_counts(edges: impl Into<std::sync::Arc<[f64]>>, counts: Vec<u64>) -> Self {
        let edges = edges.into();
        assert_eq!(counts.len(), edges.len() + 1, "one count per bin");
        Histogram { edges, counts: Counts::Dense(counts) }
    }

    /// Bin of a finite value: the number of edges `<= v`.
    #[inline]
    pub fn bin(edges: &[f64], v: f64) -> usize {
        edges.partition_point(|&e| e <= v)
    }

    /// Number of bins.
    pub fn bins(&self) -> usize {
        self.counts.bins()
    }

    /// The count of bin `i` (0 past the last bin).
    pub fn count(&self, i: usize) -> u64 {
        match &self.counts {
            Counts::Dense(c) => c.get(i).copied().unwrap_or(0),
            Counts::Sparse { at, .. } => {
                u32::try_from(i).ok().and_then(|i| at.binary_search_by_key(&i, |e| e.0).ok()).map_or(0, |k| at[k].1)
            }
        }
    }

    /// Every bin's count, in bin order.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        let (dense, sparse) = match &self.counts {
            Counts::Dense(c) => (Some(c.iter().copied()), None),
            Counts::Sparse { bins, at } => {
                let mut next = at.iter().peekable();
                let each = (0..*bins as u32).map(move |i| match next.peek() {
                    Some(&&(b, c)) if b == i => {
                        next.next();
                        c
                    }
                    _ => 0,
                });
                (None, Some(each))
            }
        };
        dense.into_iter().flatten().chain(sparse.into_iter().flatten())
    }

    /// Every bin's count, in bin order.
    pub fn counts(&self) -> Vec<u64> {
        self.iter().collect()
    }

    /// Adds `n` values to bin `i`.
    ///
    /// # Panics
    /// When `i` is not a bin.
    pub fn add(&mut self, i: usize, n: u64) {
        assert!(i < self.bins(), "bin {i} of {}", self.bins());
        match &mut self.counts {
            Counts::Dense(c) => c[i] += n,
            Counts::Sparse { at, .. } => {
                if n == 0 {
                    return;
                }
                let i = i as u32;
                match at.binary_search_by_key(&i, |e| e.0) {
                    Ok(k) => at[k].1 += n,
                    Err(k) => {
                        at.insert(k, (i, n));
                        self.counts.settle();
                    }
                }
            }
        }
    }

    /// Adds counts given per bin (`counts[i]` to bin `i`).
    pub fn add_counts(&mut self, counts: &[u64]) {
        match &mut self.counts {
            Counts::Dense(c) => c.iter_mut().zip(counts).for_each(|(a, b)| *a += b),
            Counts::Sparse { .. } => {
                counts.iter().enumerate().filter(|(_, &c)| c > 0).for_each(|(i, &c)| self.add(i, c));
            }
        }
    }

    /// Adds counts given as `(bin, count)` pairs in ascending bin order, each bin once (pairs
    /// past the last bin are left out): while sparse, merged into the list in place, from its
    /// end (no search, no new list).
    pub fn add_sorted(&mut self, pairs: &[(u32, u64)]) {
        let bins = self.bins();
        let fits = |&(i, c): &(u32, u64)| (i as usize) < bins && c > 0;
        let kept: Vec<(u32, u64)>;
        let pairs = if pairs.iter().all(fits) {
            pairs
        } else {
            kept = pairs.iter().copied().filter(fits).collect();
            &kept
        };
        match &mut self.counts {
            Counts::Dense(c) => pairs.iter().for_each(|&(i, n)| c[i as usize] += n),
            Counts::Sparse { at, .. } => {
                merge_sorted_pairs(at, pairs);
                self.counts.settle();
            }
        }
    }

    /// [`Histogram::add_sorted`], taking the pairs: an empty sparse histogram keeps them as its
    /// list (a window's first values in a row group cost no copy).
    pub fn add_sorted_owned(&mut self, pairs: Vec<(u32, u64)>) {
        let bins = self.bins();
        match &mut self.counts {
            Counts::Sparse { at, .. }
                if at.is_empty()
                    && pairs.windows(2).all(|w| w[0].0 < w[1].0)
                    && pairs.iter().all(|&(i, c)| (i as usize) < bins && c > 0) =>
            {
                *at = pairs;
                self.counts.settle();
            }
            _ => self.add_sorted(&pairs),
        }
    }

    /// Counts kept dense from a sixteenth of the bins on rather than a quarter: for a
    /// histogram many small ones are merged into (a window's over a file's row groups), each
    /// merge then costs its own bins, not a walk of the list. [`Histogram::settled`] gives the
    /// usual form back.
    pub fn accumulating(&mut self) {
        self.counts.dense_from(16);
    }

    /// The histogram in the form its bins give it (sparse below a quarter of the bins), after
    /// [`Histogram::accumulating`]: the form it would have had merged without it.
    pub fn settled(mut self) -> Histogram {
        self.counts = self.counts.settled();
        self
    }

    /// Adds another histogram's counts, bin by bin (its edges are not looked at).
    pub fn add_histogram(&mut self, o: &Histogram) {
        match &o.counts {
            Counts::Sparse { at, .. } => self.add_sorted(at),
            Counts::Dense(b) => {
                if let Counts::Sparse { .. } = self.counts {
                    self.counts = Counts::Dense(self.iter().collect());
                }
                if let Counts::Dense(a) = &mut self.counts {
                    a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                }
            }
        }
    }

    /// Sum of counts.
    pub fn total(&self) -> u64 {
        match &self.counts {
            Counts::Dense(c) => c.iter().sum(),
            Counts::Sparse { at, .. } => at.iter().map(|e| e.1).sum(),
        }
    }
}

impl PartialEq for Histogram {
    fn eq(&self, o: &Self) -> bool {
        self.edges == o.edges && self.bins() == o.bins() && self.iter().eq(o.iter())
    }
}

impl Serialize for Histogram {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        /// The counts as one list, whatever their form.
        struct Dense<'a>(&'a Histogram);
        impl Serialize for Dense<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(self.0.iter())
            }
        }
        match &self.counts {
            // Edges taken out (a checkpoint's window): the bins holding values only.
            Counts::Sparse { bins, at } if self.edges.is_empty() && *bins > 1 => {
                let mut st = s.serialize_struct("Histogram", 3)?;
                st.serialize_field("edges", &self.edges)?;
                st.serialize_field("bins", bins)?;
                st.serialize_field("at", at)?;
                st.end()
            }
            _ => {
                let mut st = s.serialize_struct("Histogram", 2)?;
                st.serialize_field("edges", &self.edges)?;
                st.serialize_field("counts", &Dense(self))?;
                st.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Histogram {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Stored {
            edges: std::sync::Arc<[f64]>,
            #[serde(default)]
            counts: Option<Vec<u64>>,
            #[serde(default)]
            bins: Option<usize>,
            #[serde(default)]
            at: Option<Vec<(u32, u64)>>,
        }
        /// More bins than any plan makes (a baseline's are a few hundred): a damaged file.
        const MOST_BINS: usize = 1 << 24;
        let st = Stored::deserialize(d)?;
        let bins = st.counts.as_ref().map_or(st.bins.unwrap_or(0), Vec::len);
        // Edges taken out (a checkpoint's window) get theirs back by the number of bins.
        if bins == 0 || bins > MOST_BINS || (!st.edges.is_empty() && bins != st.edges.len() + 1) {
            return Err(serde::de::Error::custom(format!(
                "histogram: {bins} bins for {} edges (expected one more bin than edges)",
                st.edges.len()
            )));
        }
        let counts = match (st.counts, st.bins, st.at) {
            (Some(c), None, None) => Counts::Dense(c),
            (None, Some(bins), Some(at)) => {
                let ordered = at.windows(2).all(|w| w[0].0 < w[1].0);
                if !ordered || at.last().is_some_and(|e| e.0 as usize >= bins) || at.iter().any(|e| e.1 == 0) {
                    return Err(serde::de::Error::custom("histogram: sparse bins out of order or out of range"));
                }
                let mut c = Counts::Sparse { bins, at };
                c.settle();
                c
            }
            _ => return Err(serde::de::Error::custom("histogram: expected `counts`, or `bins` and `at`")),
        };
        Ok(Histogram { edges: st.edges, counts })
    }
}

/// Category counts of a text or boolean column.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Categories {
    /// Exact counts per value while the column has at most [`MAX_EXACT_CATEGORIES`] values.
    pub exact: BTreeMap<String, u64>,
    /// Set once the cap is passed: approximate counts from then on, `exact` is emptied. (Boxed:
    /// a window's categories, of which a backfill holds millions, never spill.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequent: Option<Box<Frequent>>,
}

impl Categories {
    /// Adds `count` occurrences of `value`.
    pub fn add(&mut self, value: &str, count: u64) {
        if let Some(f) = &mut self.frequent {
            f.update(value, count);
            return;
        }
        if let Some(c) = self.exact.get_mut(value) {
            *c += count;
        } else {
            self.exact.insert(value.to_string(), count);
            self.spill_if_needed();
        }
    }

    fn spill_if_needed(&mut self) {
        if self.exact.len() > MAX_EXACT_CATEGORIES {
            let mut f = Box::<Frequent>::default();
            for (k, v) in std::mem::take(&mut self.exact) {
                f.update(&k, v);
            }
            self.frequent = Some(f);
        }
    }

    /// Merges another column's categories.
    pub fn merge(&mut self, o: &Categories) {
        match (&mut self.frequent, &o.frequent) {
            (Some(a), Some(b)) => a.merge(b),
            (Some(a), None) => o.exact.iter().for_each(|(k, v)| a.update(k, *v)),
            (None, Some(b)) => {
                let mut f = b.clone();
                for (k, v) in std::mem::take(&mut self.exact) {
                    f.update(&k, v);
                }
                self.frequent = Some(f);
            }
            (None, None) => {
                for (k, v) in &o.exact {
                    match self.exact.get_mut(k) {
                        Some(c) => *c += v,
                        None => {
                            self.exact.insert(k.clone(), *v);
                        }
                    }
                }
                self.spill_if_needed();
            }
        }
    }

    /// Merges the exact counts of distinct values `counts`, as [`Categories::merge`] merges
    /// categories holding exactly these counts (their order is of no account: they are taken in
    /// value order where it matters).
    pub fn merge_counts<'s>(&mut self, counts: impl Iterator<Item = (&'s str, u64)>) {
        match &mut self.frequent {
            Some(f) => {
                let mut counts: Vec<(&str, u64)> = counts.collect();
                counts.sort_unstable_by(|a, b| a.0.cmp(b.0));
                counts.iter().for_each(|&(k, v)| f.update(k, v));
            }
            None => {
                for (k, v) in counts {
                    match self.exact.get_mut(k) {
                        Some(c) => *c += v,
                        None => {
                            self.exact.insert(k.to_string(), v);
                        }
                    }
                }
                self.spill_if_needed();
            }
        }
    }

    /// True while counts are exact.
    pub fn is_exact(&self) -> bool {
        self.frequent.is_none()
    }

    /// The `n` most frequent values, most frequent first, ties broken by value.
    pub fn top(&self, n: usize) -> Vec<(String, u64)> {
        if let Some(f) = &self.frequent {
            return f.top(n);
        }
        let mut v: Vec<(String, u64)> = self.exact.iter().map(|(k, c)| (k.clone(), *c)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v.truncate(n);
        v
    }
}

/// Adds the counts, moments, categories and histogram of `$o` to `$mine`'s: the fields a
/// [`ColumnProfile`] and a [`Tally`] share, merged the same way for both.
macro_rules! add_tallied {
    ($mine:expr, $o:expr) => {{
        let (mine, o) = (&mut *$mine, &*$o);
        let was_empty = mine.rows == 0;
        mine.rows += o.rows;
        mine.missing += o.missing;
        mine.types.merge(&o.types);
        mine.nan += o.nan;
        mine.pos_inf += o.pos_inf;
        mine.neg_inf += o.neg_inf;
        mine.moments.merge(&o.moments);
        mine.categories.merge(&o.categories);
        match (&mut mine.histogram, &o.histogram) {
            // Profiles of one plan share their edges: the same `Arc` needs no comparison.
            (Some(a), Some(b)) if std::sync::Arc::ptr_eq(&a.edges, &b.edges) || a.edges == b.edges => {
                a.add_histogram(b)
            }
            // Only an empty profile adopts the other's edges; counts on different edges never mix.
            (None, Some(b)) if was_empty => mine.histogram = Some(b.clone()),
            _ => {}
        }
    }};
}

/// What one row group adds to a column of a light profile (a time window's, a segment's):
/// counts, moments, categories and histogram, without the column's name, type or sketches,
/// which the profile it is merged into holds ([`ColumnProfile::merge_tally`]). A row group
/// whose rows are spread over a thousand windows makes a thousand of these per column: they
/// cost no allocation until they hold categories or histogram bins.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    /// Rows seen (present + missing).
    pub rows: u64,
    /// Null values.
    pub missing: u64,
    /// Per-value type classification of present values.
    pub types: TypeCounts,
    /// NaN values.
    pub nan: u64,
    /// +∞ values.
    pub pos_inf: u64,
    /// −∞ values.
    pub neg_inf: u64,
    /// Exact moments of the finite numeric values.
    pub moments: Moments,
    /// Category counts (text and boolean columns).
    pub categories: Categories,
    /// Exact histogram of the finite numeric values, over the column's edges.
    pub histogram: Option<Histogram>,
}

impl Tally {
    /// An empty tally of `column`: no counts, a histogram over its edges when it has one.
    pub fn of(column: &ColumnProfile) -> Tally {
        Tally { histogram: column.histogram.as_ref().map(|h| Histogram::new(h.edges.clone())), ..Tally::default() }
    }

    /// Adds another tally of the same column, as [`ColumnProfile::merge`] adds these fields
    /// (a histogram merged into goes dense early: [`Histogram::accumulating`]).
    pub fn merge(&mut self, o: &Tally) {
        add_tallied!(self, o);
        if let Some(h) = &mut self.histogram {
            h.accumulating();
        }
    }

    /// The tally with its histogram in the form its bins give it ([`Histogram::settled`]).
    pub fn settled(mut self) -> Tally {
        self.histogram = self.histogram.map(Histogram::settled);
        self
    }
}

/// Everything driftscope knows about one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnProfile {
    /// Column name.
    pub name: String,
    /// The Arrow data type read, as Arrow prints it (`Float64`, `Dictionary(Int32, Utf8)`, …).
    pub arrow_type: String,
    /// What the column is for.
    pub role: Role,
    /// Rows seen (present + missing).
    pub rows: u64,
    /// Null values, plus the rows of files that lack the column.
    pub missing: u64,
    /// Per-value type classification of present values.
    pub types: TypeCounts,
    /// NaN values (counted apart, never in moments, sketches or histograms).
    pub nan: u64,
    /// +∞ values.
    pub pos_inf: u64,
    /// −∞ values.
    pub neg_inf: u64,
    /// Exact moments of the finite numeric values.
    pub moments: Moments,
    /// Quantile sketch of the finite numeric values.
    pub kll: Kll,
    /// Distinct-count sketch of the present text and boolean values (numbers are not hashed:
    /// SageMaker reports distinct counts for string features only).
    pub hll: Hll,
    /// Distinct-count sketch of the finite numbers (`approximate_num_distinct_values`); absent
    /// until a number is sketched (never in a window's light profile).
    #[serde(default, skip_serializing_if = "NumberHll::is_empty")]
    pub numbers: NumberHll,
    /// Category counts (text and boolean columns).
    pub categories: Categories,
    /// Exact histogram of the finite numeric values over fixed edges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram: Option<Histogram>,
}

impl ColumnProfile {
    /// An empty profile.
    pub fn new(name: &str, arrow_type: &str, role: Role) -> Self {
        ColumnProfile {
            name: name.to_string(),
            arrow_type: arrow_type.to_string(),
            role,
            rows: 0,
            missing: 0,
            types: TypeCounts::default(),
            nan: 0,
            pos_inf: 0,
            neg_inf: 0,
            moments: Moments::default(),
            kll: Kll::default(),
            hll: Hll::default(),
            numbers: NumberHll::default(),
            categories: Categories::default(),
            histogram: None,
        }
    }

    /// Present (non-missing) values.
    pub fn present(&self) -> u64 {
        self.rows - self.missing
    }

    /// Inferred type of the column.
    pub fn inferred_type(&self) -> InferredType {
        self.types.inferred()
    }

    /// Estimated number of distinct finite numbers, when the distinct sketch saw every one the
    /// moments did: `None` for a column without numbers, and for a profile merged with one made
    /// without the sketch (its registers saw only part of the values: a number would be wrong).
    pub fn distinct_numbers(&self) -> Option<f64> {
        (!self.numbers.is_empty() && self.numbers.values() == self.moments.n).then(|| self.numbers.estimate().round())
    }

    /// Share of present values among rows, `None` with zero rows.
    pub fn completeness(&self) -> Option<f64> {
        (self.rows > 0).then(|| self.present() as f64 / self.rows as f64)
    }

    /// An empty copy with the same name, type, role and histogram edges.
    pub fn empty_like(&self) -> Self {
        let mut c = ColumnProfile::new(&self.name, &self.arrow_type, self.role);
        c.histogram = self.histogram.as_ref().map(|h| Histogram::new(h.edges.clone()));
        c
    }

    /// Merges another profile of the same column.
    pub fn merge(&mut self, o: &ColumnProfile) {
        if self.arrow_type != o.arrow_type && !self.arrow_type.split(" | ").any(|t| t == o.arrow_type) {
            self.arrow_type = format!("{} | {}", self.arrow_type, o.arrow_type);
        }
        add_tallied!(self, o);
        self.kll.merge(&o.kll);
        self.hll.merge(&o.hll);
        self.numbers.merge(&o.numbers);
    }

    /// Adds a tally of this column (a window's rows in one row group): what
    /// [`ColumnProfile::merge`] does with a profile of the same name and type holding the
    /// tally's counts and no sketch.
    pub fn merge_tally(&mut self, o: &Tally) {
        add_tallied!(self, o);
    }

    /// Adds `n` rows in which this column does not exist (a file without it).
    pub fn add_absent_rows(&mut self, n: u64) {
        self.rows += n;
        self.missing += n;
    }
}

/// A profile of a whole dataset: one entry per column, in schema order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetProfile {
    /// Profile format version.
    pub version: u32,
    /// Rows profiled.
    pub rows: u64,
    /// Columns in first-seen order.
    pub columns: Vec<ColumnProfile>,
    /// Σ z·zᵀ of the standardized numeric features, when a baseline's pass asked for it
    /// (multivariate drift: [`pca`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub covariance: Option<pca::Covariance>,
}

impl Default for DatasetProfile {
    fn default() -> Self {
        DatasetProfile { version: PROFILE_VERSION, rows: 0, columns: Vec::new(), covariance: None }
    }
}

impl DatasetProfile {
    /// Gives the histograms whose edges were taken out (a checkpoint's windows, a baseline's
    /// segments) the edges of `whole`'s column of the same name.
    pub fn share_edges(&mut self, whole: &DatasetProfile) {
        for c in &mut self.columns {
            let edges = whole.column(&c.name).and_then(|w| w.histogram.as_ref()).map(|h| h.edges.clone());
            if let (Some(h), Some(e)) = (c.histogram.as_mut(), edges) {
                if h.edges.is_empty() && h.bins() == e.len() + 1 {
                    h.edges = e;
                }
            }
        }
    }

    /// Takes the edges out of every histogram (they are the whole profile's: see
    /// [`DatasetProfile::share_edges`]).
    pub fn take_edges(&mut self) {
        let empty: std::sync::Arc<[f64]> = std::sync::Arc::from(Vec::new());
        for h in self.columns.iter_mut().filter_map(|c| c.histogram.as_mut()) {
            h.edges = empty.clone();
        }
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&ColumnProfile> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Merges another dataset profile. Columns that one side lacks count as missing for the
    /// other side's rows, so completeness stays honest across files with different schemas.
    pub fn merge(&mut self, o: &DatasetProfile) {
        let mut seen = vec![false; o.columns.len()];
        for c in &mut self.columns {
            match o.columns.iter().position(|x| x.name == c.name) {
                Some(i) => {
                    seen[i] = true;
                    c.merge(&o.columns[i]);
                }
                None => c.add_absent_rows(o.rows),
            }
        }
        for (i, oc) in o.columns.iter().enumerate() {
            if !seen[i] {
                let mut c = oc.empty_like();
                c.add_absent_rows(self.rows);
                c.merge(oc);
                self.columns.push(c);
            }
        }
        if let Some(oc) = &o.covariance {
            self.covariance.get_or_insert_with(Default::default).merge(oc);
        }
        self.rows += o.rows;
    }
}

/// The column's range: `bounds` when they are a finite range, else the sketch's.
fn range(kll: &Kll, bounds: Option<(f64, f64)>) -> Option<(f64, f64)> {
    bounds.filter(|(a, b)| a.is_finite() && b.is_finite() && a <= b).or_else(|| kll.min_max())
}

/// The distinct values a sketch holds, with the column's minimum and maximum (`bounds`), in
/// order — when there are at most `bins` of them: such a column gets one bin per value
/// ([`bin_edges`]), and its drift is measured with each bin's mass at its value.
pub fn few_values(kll: &Kll, bins: usize, bounds: Option<(f64, f64)>) -> Option<Vec<f64>> {
    let (lo, hi) = range(kll, bounds)?;
    let mut values: Vec<f64> = kll.levels.iter().flatten().copied().chain([lo, hi]).collect();
    values.sort_unstable_by(f64::total_cmp);
    values.dedup_by(|a, b| a == b);
    (values.len() <= bins).then_some(values)
}

/// Bin edges for a numeric column from its quantile sketch: the distinct quantiles at ranks
/// `i / bins` for `i` in `1..bins`, between the column's minimum and maximum (`bounds`, exact
/// when known, else the sketch's). A column whose sketch holds at most `bins` distinct values
/// (a flag, a count, a rating, a constant) gets one bin per value instead, however rare a value
/// is: quantile edges would fold a value under 1/`bins` of the mass into its neighbour's bin,
/// where a change of its share could not be seen.
///
/// The minimum itself and the next number above the maximum are edges too, so that values
/// below the baseline's range and values above it each land in a bin of their own: a constant
/// feature that changes value, or a capture beyond the baseline's range, shows as a shift of
/// the whole mass instead of staying in the open end bins.
pub fn bin_edges(kll: &Kll, bins: usize, bounds: Option<(f64, f64)>) -> Vec<f64> {
    if kll.is_empty() || bins < 2 {
        return Vec::new();
    }
    let Some((lo, hi)) = range(kll, bounds) else {
        return Vec::new();
    };
    let mut edges = few_values(kll, bins, bounds).unwrap_or_else(|| {
        let ranks: Vec<f64> = (1..bins).map(|i| i as f64 / bins as f64).collect();
        kll.quantiles(&ranks)
    });
    // Quantiles are lower ends of bins; the minimum opens the first bin of the range.
    edges.retain(|&e| e > lo && e <= hi);
    edges.dedup();
    edges.insert(0, lo + 0.0);
    let above = hi.next_up();
    if above.is_finite() && edges.last().is_some_and(|&e| above > e) {
        edges.push(above);
    }
    edges
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Categories of one "row group": `n` values drawn from a skewed range, past the exact cap.
    fn partial_categories(seed: u64, n: u64) -> Categories {
        let mut c = Categories::default();
        let mut x = seed;
        for _ in 0..n {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let u = (x >> 11) as f64 / (1u64 << 53) as f64;
            c.add(&format!("v{}", (u * u * 40_000.0) as u64), 1 + (x >> 60));
        }
        c
    }

    #[test]
    fn frequent_categories_resume_like_an_uninterrupted_run() {
        // A run folds partial results in order; a resumed one reads the first few back from a
        // checkpoint, then folds the rest. Past the exact cap the counts come from a
        // frequent-items sketch whose purges must not depend on how it was stored. Partial
        // results below and above the cap, so that every branch of the merge is taken.
        let parts: Vec<Categories> = [(1, 30_000), (2, 4_000), (3, 60_000), (4, 9_000), (5, 30_000)]
            .map(|(s, n)| partial_categories(s, n))
            .into();
        let mut whole = Categories::default();
        parts.iter().for_each(|p| whole.merge(p));
        assert!(!whole.is_exact());
        for stop in 1..parts.len() {
            let mut first = Categories::default();
            parts[..stop].iter().for_each(|p| first.merge(p));
            let mut resumed: Categories = serde_json::from_str(&serde_json::to_string(&first).unwrap()).unwrap();
            parts[stop..].iter().for_each(|p| resumed.merge(p));
            assert_eq!(serde_json::to_string(&resumed).unwrap(), serde_json::to_string(&whole).unwrap(), "{stop}");
            assert_eq!(resumed.top(50), whole.top(50));
        }
    }

    #[test]
    fn types_inferred_like_deequ() {
        let t = |i, f, b, s| TypeCounts { integral: i, fractional: f, boolean: b, string: s }.inferred();
        assert_eq!(t(3, 0, 0, 0), InferredType::Integral);
        assert_eq!(t(3, 1, 0, 0), InferredType::Fractional);
        assert_eq!(t(3, 1, 0, 1), InferredType::String);
        assert_eq!(t(0, 0, 2, 0), InferredType::Boolean);
        assert_eq!(t(1, 0, 2, 0), InferredType::String);
        assert_eq!(t(0, 0, 0, 0), InferredType::Unknown);
    }

    /// Counts kept sparse read, merge and serialize exactly as dense ones: every bin, the
    /// total, the JSON bytes, whatever the mix of forms merged.
    #[test]
    fn sparse_histograms_read_merge_and_serialize_as_dense() {
        let edges: std::sync::Arc<[f64]> = (0..40).map(f64::from).collect::<Vec<_>>().into();
        let mut state = 0x5eed_u64;
        let mut next = |m: u64| crate::codec::splitmix64(&mut state) % m;
        for touched in [0usize, 1, 3, 9, 10, 11, 25, 200] {
            let parts: Vec<Vec<(usize, u64)>> =
                (0..4).map(|_| (0..touched).map(|_| (next(41) as usize, 1 + next(5))).collect()).collect();
            let mut dense_total = vec![0u64; 41];
            let mut merged = Histogram::new(edges.clone());
            let mut sparse_only = Histogram::new(edges.clone());
            let mut accumulated = Histogram::new(edges.clone());
            for (k, part) in parts.iter().enumerate() {
                let mut h = Histogram::new(edges.clone());
                let mut reference = vec![0u64; 41];
                for &(b, n) in part {
                    h.add(b, n);
                    reference[b] += n;
                }
                assert_eq!(h.counts(), reference);
                assert_eq!(h.total(), reference.iter().sum::<u64>());
                assert!((0..45).all(|i| h.count(i) == reference.get(i).copied().unwrap_or(0)));
                let dense = Histogram::from_counts(edges.clone(), reference.clone());
                assert_eq!(h, dense);
                assert_eq!(serde_json::to_string(&h).unwrap(), serde_json::to_string(&dense).unwrap());
                // Every other part merged in dense form, the rest sparse.
                if k % 2 == 0 {
                    merged.add_histogram(&dense);
                } else {
                    merged.add_histogram(&h);
                }
                sparse_only.add_histogram(&h);
                accumulated.add_histogram(&h);
                accumulated.accumulating();
                let mut from_slice = Histogram::new(edges.clone());
                from_slice.add_counts(&reference);
                assert_eq!(from_slice, dense);
                dense_total.iter_mut().zip(&reference).for_each(|(a, b)| *a += b);
                // Edges taken out (a checkpoint's window): written sparse or dense, read back the same.
                let mut taken = h.clone();
                taken.edges = Vec::new().into();
                let back: Histogram = serde_json::from_str(&serde_json::to_string(&taken).unwrap()).unwrap();
                assert_eq!(back.counts(), reference, "{touched}");
            }
            assert_eq!(merged.counts(), dense_total, "{touched}");
            assert_eq!(sparse_only.counts(), dense_total, "{touched}");
            assert_eq!(sparse_only, Histogram::from_counts(edges.clone(), dense_total.clone()));
            // Merged dense early then settled: the form merging sparse gave, as a checkpoint
            // writes it (sparse forms show there, with the edges taken out).
            let written = |h: &Histogram| {
                let mut h = h.clone();
                h.edges = Vec::new().into();
                serde_json::to_string(&h).unwrap()
            };
            assert_eq!(written(&accumulated.settled()), written(&sparse_only), "{touched}");
        }
        for bad in [
            r#"{"edges":[],"bins":3,"at":[[2,1],[1,1]]}"#,
            r#"{"edges":[],"bins":3,"at":[[3,1]]}"#,
            r#"{"edges":[]}"#,
            r#"{"edges":[1.0],"counts":[1,2,3]}"#,
            r#"{"edges":[1.0],"bins":3,"at":[]}"#,
            r#"{"edges":[],"bins":1000000000000,"at":[[0,1]]}"#,
            r#"{"edges":[],"counts":[]}"#,
        ] {
            assert!(serde_json::from_str::<Histogram>(bad).is_err(), "{bad}");
        }
    }

    /// Pairs merged into a sparse list in place give each bin the sum of its counts, in bin
    /// order, whatever the lists' overlap (none, some, all, one side empty).
    #[test]
    fn sorted_pairs_merge_in_place() {
        let mut state = 0x0dd_u64;
        let mut next = |m: u64| crate::codec::splitmix64(&mut state) % m;
        for _ in 0..2_000 {
            let span = 1 + next(60);
            let list = |next: &mut dyn FnMut(u64) -> u64| -> Vec<(u32, u64)> {
                let mut m = BTreeMap::new();
                for _ in 0..next(span + 1) {
                    *m.entry(next(span) as u32).or_insert(0) += 1 + next(9);
                }
                m.into_iter().collect()
            };
            let (mut at, pairs) = (list(&mut next), list(&mut next));
            let mut want: BTreeMap<u32, u64> = at.iter().copied().collect();
            pairs.iter().for_each(|&(b, c)| *want.entry(b).or_insert(0) += c);
            merge_sorted_pairs(&mut at, &pairs);
            assert_eq!(at, want.into_iter().collect::<Vec<_>>());
        }
        // Pairs past the last bin or of no count are left out.
        let mut h = Histogram::new(vec![0.0, 1.0, 2.0]);
        h.add_sorted(&[(0, 2), (2, 0), (3, 1), (9, 4)]);
        assert_eq!(h.counts(), vec![2, 0, 0, 1]);
    }

    /// A column merged with one profiled without the distinct sketch (by an older driftscope)
    /// gives no distinct count rather than one from part of its values; complete ones give it,
    /// also read back from JSON.
    #[test]
    fn distinct_numbers_only_from_a_sketch_of_every_value() {
        let part = |lo: u32| {
            let mut c = ColumnProfile::new("x", "Float64", Role::Feature);
            let v: Vec<f64> = (lo..lo + 50).map(f64::from).collect();
            c.moments.update_slice(&v);
            c.numbers.update_slice(&v);
            c
        };
        let near = |d: Option<f64>, want: f64| d.is_some_and(|d| (d - want).abs() <= 1.0);
        let mut a = part(0);
        a.merge(&part(50));
        assert!(near(a.distinct_numbers(), 100.0), "{:?}", a.distinct_numbers());
        let back: ColumnProfile = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        assert_eq!(back.distinct_numbers(), a.distinct_numbers());
        let mut old = part(100);
        old.numbers = NumberHll::default();
        a.merge(&old);
        assert_eq!(a.distinct_numbers(), None);
        assert_eq!(ColumnProfile::new("x", "Float64", Role::Feature).distinct_numbers(), None);
    }

    #[test]
    fn histogram_bins_edges_inclusive_lower() {
        let e = [1.0, 2.0, 3.0];
        assert_eq!(Histogram::bin(&e, 0.5), 0);
        assert_eq!(Histogram::bin(&e, 1.0), 1);
        assert_eq!(Histogram::bin(&e, 2.5), 2);
        assert_eq!(Histogram::bin(&e, 3.0), 3);
        assert_eq!(Histogram::bin(&e, f64::MAX), 3);
    }

    #[test]
    fn dataset_merge_absent_columns_count_missing() {
        let mut a = DatasetProfile { rows: 10, ..Default::default() };
        let mut ca = ColumnProfile::new("x", "Int64", Role::Feature);
        ca.rows = 10;
        a.columns.push(ca);
        let mut b = DatasetProfile { rows: 5, ..Default::default() };
        let mut cb = ColumnProfile::new("y", "Utf8", Role::Feature);
        cb.rows = 5;
        cb.missing = 1;
        b.columns.push(cb);
        a.merge(&b);
        assert_eq!(a.rows, 15);
        let x = a.column("x").unwrap();
        assert_eq!((x.rows, x.missing), (15, 5));
        let y = a.column("y").unwrap();
        assert_eq!((y.rows, y.missing), (15, 11));
    }

    #[test]
    fn categories_spill_past_cap() {
        let mut c = Categories::default();
        for i in 0..=MAX_EXACT_CATEGORIES {
            c.add(&i.to_string(), 1);
        }
        assert!(!c.is_exact());
        c.add("0", 100);
        assert_eq!(c.top(1)[0].0, "0");
    }

    #[test]
    fn bin_edges_integer_column() {
        let mut k = Kll::default();
        for i in 0..1000 {
            k.update((i % 4) as f64);
        }
        // One bin per value, and one below the minimum and one above the maximum.
        assert_eq!(bin_edges(&k, 256, Some((0.0, 3.0))), vec![0.0, 1.0, 2.0, 3.0, 3.0f64.next_up()]);
        let mut c = Kll::default();
        (0..1000).for_each(|_| c.update(1.0));
        assert_eq!(bin_edges(&c, 256, Some((1.0, 1.0))), vec![1.0, 1.0f64.next_up()]);
    }

    /// Rare values of a column with few values keep bins of their own, also once the sketch has
    /// compacted (1M values): quantile edges would have put 0.5 and 7 in the bin of 0.
    #[test]
    fn bin_edges_resolve_rare_values() {
        let mut k = Kll::default();
        for i in 0..1_000_000u32 {
            k.update(match i % 2000 {
                0 => 7.0,
                1 => 0.5,
                _ => 0.0,
            });
        }
        assert!(k.levels.len() > 1, "the sketch compacted");
        assert_eq!(bin_edges(&k, 256, Some((0.0, 7.0))), vec![0.0, 0.5, 7.0, 7.0f64.next_up()]);
        // Past `bins` distinct values, quantiles.
        let mut u = Kll::default();
        (0..10_000).for_each(|i| u.update(i as f64));
        let e = bin_edges(&u, 16, Some((0.0, 9999.0)));
        assert_eq!(e.len(), 17);
        assert!((e[8] - 5000.0).abs() <= 100.0, "{e:?}");
    }
}
