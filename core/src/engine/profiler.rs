//! [`Profiler`]: batches in, a [`ProfileSet`] out, through a backend's folder.

use std::collections::{BTreeMap, VecDeque};
use std::ops::Range;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Schema, SchemaRef};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::group::{group_values, GroupBy};
use super::text::{apply_column, counted, Codes, GroupFolds, Target};
use super::window::{self, Window};
use crate::backend::fold::NumericCounts;
use crate::backend::{
    Backend, BatchFold, ColumnFold, ColumnKind, ColumnTask, Detail, FoldPlan, Folder, MAX_BATCH_ROWS,
};
use crate::error::{Error, Result};
use crate::profile::kll::SketchPlan;
use crate::profile::pca::{Pca, Standardize, RECONSTRUCTION};
use crate::profile::{ColumnProfile, DatasetProfile, Histogram, Role, Tally, TypeCounts};

// Decoded batches are as long as a fold takes: none is sliced.
const _: () = assert!(crate::source::decode::BATCH_ROWS == MAX_BATCH_ROWS);

/// What rows are keyed by. Every row of a batch goes to the segment its key gives; each segment
/// gets its own profile.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SegmentKey {
    /// Nothing: all rows in one segment, [`Segment::Whole`].
    #[default]
    Whole,
    /// The calendar window of each row's time, beside the whole: every row is in
    /// [`Segment::Whole`] (full detail) and in the light profile ([`Detail::Light`]: counts,
    /// moments, histogram, categories, no sketch) of its [`Segment::Window`], or of
    /// [`Segment::Untimed`] when its time is null or not an instant.
    Window {
        /// The time column (a timestamp, a date, an epoch number or ISO 8601 text), or
        /// [`PARTITION_TIME`]: each file's rows take the time of its hive partition.
        column: String,
        /// The window length.
        window: Window,
        /// Most windows one profiler keeps: past it, [`Profiler::update`] fails, naming it.
        limit: usize,
    },
}

/// The time "column" that stands for the hive partitions of each file (`dt=…/hour=…`): the
/// file engine gives every row of a file its partition's time ([`Profiler::set_time`]).
pub const PARTITION_TIME: &str = "(hive partitions)";

/// The time "column" of windows of rows that follow the inputs' order (files in the order
/// given, rows in file order) rather than a time.
pub const INPUT_ORDER: &str = "(input order)";

/// The key of one profile in a [`ProfileSet`]. Windows sort in time order after the whole.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Segment {
    /// All rows.
    Whole,
    /// The rows of the window that starts at this instant (milliseconds since the epoch, UTC).
    Window(i64),
    /// The rows whose time is null or not an instant.
    Untimed,
    /// The rows holding these values of the plan's segment columns ([`GroupBy`]; `None`: a
    /// null), in the columns' order.
    Group(Vec<Option<String>>),
    /// The rows of the segments folded together past the most a run keeps (by rows): never
    /// made by a profiler, only by the jobs that fold segments.
    Other,
    /// The rows of a segment ([`Segment::Group`]'s values) in one window (its start; `None`:
    /// the rows without a time), when a plan keys segments per window ([`GroupBy::by_window`]).
    GroupWindow(Vec<Option<String>>, Option<i64>),
}

/// What to profile: the columns, their roles and bin edges, and the segment key.
#[derive(Debug, Clone, Default)]
pub struct ProfilePlan {
    /// Only these columns (every column of the batches when `None`).
    pub columns: Option<Vec<String>>,
    /// Exact histogram edges per column (sorted, finite, distinct).
    pub edges: BTreeMap<String, Arc<[f64]>>,
    /// Roles that differ from the guess made from each column's name and type.
    pub roles: BTreeMap<String, Role>,
    /// Only counts and histograms (a baseline's second pass): no moments, sketches or categories.
    pub histogram_only: bool,
    /// What rows are keyed by.
    pub segment: SegmentKey,
    /// Rows also keyed by the values of these columns, each distinct combination a
    /// [`Segment::Group`] (light profiles, or histograms only beside a histogram-only whole).
    pub groups: Option<GroupBy>,
    /// Work on whole rows besides each column's profile (multivariate drift).
    pub derived: Option<Derived>,
}

/// Work on whole rows besides each column's profile: multivariate drift ([`crate::profile::pca`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Derived {
    /// Σ z·zᵀ of the standardized features, into the whole profile's covariance.
    Covariance(Arc<Standardize>),
    /// Each row's reconstruction error, profiled as one more numeric column
    /// ([`RECONSTRUCTION`]) of every profile: the whole, each window, each segment.
    Reconstruction(Arc<Pca>),
}

impl Derived {
    /// The feature columns the work reads.
    fn columns(&self) -> &[String] {
        match self {
            Derived::Covariance(s) => &s.columns,
            Derived::Reconstruction(p) => &p.standardize.columns,
        }
    }
}

/// The schema a profiler sees for batches of `schema`: struct columns flattened, recursively, into
/// `parent.child` columns (a null parent makes its children null).
pub fn flat_schema(schema: &SchemaRef) -> SchemaRef {
    if !schema.fields().iter().any(|f| matches!(f.data_type(), DataType::Struct(_))) {
        return schema.clone();
    }
    RecordBatch::new_empty(schema.clone()).normalize(".", None).map(|b| b.schema()).unwrap_or_else(|_| schema.clone())
}

impl ProfilePlan {
    /// True when column `name` is planned: no projection, its name, or a struct it is in.
    fn wants(&self, name: &str) -> bool {
        if name == RECONSTRUCTION {
            return matches!(self.derived, Some(Derived::Reconstruction(_)));
        }
        self.columns.as_ref().is_none_or(|c| {
            c.iter().any(|n| n == name || name.strip_prefix(n.as_str()).is_some_and(|rest| rest.starts_with('.')))
        })
    }

    /// The columns to decode for this plan: the planned ones and the time column (every column
    /// when `None`).
    pub fn decoded(&self) -> Option<Vec<String>> {
        let mut cols = self.columns.clone()?;
        let time = match &self.segment {
            SegmentKey::Window { column, .. } => Some(column),
            SegmentKey::Whole => None,
        };
        let derived = self.derived.iter().flat_map(|d| d.columns());
        for c in time.into_iter().chain(self.groups.iter().flat_map(|g| &g.columns)).chain(derived) {
            if !cols.contains(c) {
                cols.push(c.clone());
            }
        }
        Some(cols)
    }

    /// The role of a column: the plan's, else the field's own ([`Role::of_field`]).
    pub fn role(&self, field: &arrow_schema::Field) -> Role {
        self.roles.get(field.name()).copied().unwrap_or_else(|| Role::of_field(field))
    }

    /// Positions in `schema` (flattened) of the planned columns, in schema order.
    pub fn projection(&self, schema: &Schema) -> Vec<usize> {
        (0..schema.fields().len()).filter(|&i| self.wants(schema.field(i).name())).collect()
    }

    /// An empty profile of the planned columns of `schema` (struct columns flattened).
    pub fn empty_profile(&self, schema: &SchemaRef) -> DatasetProfile {
        let schema = flat_schema(schema);
        let mut p = DatasetProfile::default();
        for i in self.projection(&schema) {
            let f = schema.field(i);
            let mut c = ColumnProfile::new(f.name(), &f.data_type().to_string(), self.role(f));
            c.histogram = self.edges.get(f.name()).map(|e| Histogram::new(e.clone()));
            p.columns.push(c);
        }
        p
    }

    /// The detail of the [`Segment::Whole`] profile.
    fn detail(&self) -> Detail {
        if self.histogram_only {
            Detail::HistogramOnly
        } else {
            Detail::Full
        }
    }

    fn fold_plan(&self, schema: &Schema, detail: Detail) -> FoldPlan {
        let columns = self
            .projection(schema)
            .into_iter()
            .map(|i| {
                let f = schema.field(i);
                ColumnTask {
                    index: i,
                    kind: ColumnKind::of(f.data_type()),
                    edges: self.edges.get(f.name()).cloned(),
                    detail,
                }
            })
            .collect();
        FoldPlan { columns }
    }
}

/// Profiles keyed by segment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProfileSet {
    /// One profile per segment, in key order (in JSON, a list of `[segment, profile]` pairs).
    #[serde(with = "pairs")]
    pub segments: BTreeMap<Segment, DatasetProfile>,
    /// A row group's light profiles (windows, segments by value) as tallies, until the set is
    /// settled ([`ProfileSet::settle`]; every set a caller sees is).
    #[serde(skip)]
    light: Option<Light>,
}

/// Light profiles kept lean: per segment, each column's [`Tally`]. A row group whose rows are
/// spread over a thousand windows (a shuffled backfill) would otherwise make, fill, merge and
/// drop a thousand full [`DatasetProfile`]s; the file engine merges the tallies of a file's
/// row groups and settles them once per file.
#[derive(Debug, Clone, PartialEq)]
struct Light {
    /// The empty profile the tallies' columns are of (names, types, roles, edges).
    template: Arc<DatasetProfile>,
    parts: BTreeMap<Segment, Part>,
    /// The windows of a row group's first batch, kept flat ([`Sheet`]); never a segment of
    /// `parts` while the sheet is held.
    sheet: Option<Sheet>,
}

impl Light {
    /// Empty tallies of `template`'s columns.
    fn of(template: &Arc<DatasetProfile>) -> Light {
        Light { template: template.clone(), parts: BTreeMap::new(), sheet: None }
    }

    /// True when `o`'s tallies are of the same columns (names, types, roles, edges).
    fn same_columns(&self, o: &Light) -> bool {
        Arc::ptr_eq(&self.template, &o.template) || self.template == o.template
    }

    /// True when segment `k` has a tally.
    fn holds(&self, k: &Segment) -> bool {
        self.parts.contains_key(k) || self.sheet.as_ref().is_some_and(|s| s.segments.binary_search(k).is_ok())
    }

    /// Moves the sheet's segments into `parts` (which holds none of them; were one held, the
    /// sheet's rows would come first: they are the row group's first batch).
    fn unsheet(&mut self) {
        let Some(sheet) = self.sheet.take() else { return };
        for (i, k) in sheet.segments.iter().enumerate() {
            let mut part = sheet.part(i);
            if let Some(later) = self.parts.remove(k) {
                part.merge(&later);
            }
            self.parts.insert(k.clone(), part);
        }
    }

    /// Merges row groups' sheets, in their order, into these tallies. A window new to the
    /// tallies takes its first sheet's tally; then, column by column, each window's tally
    /// merges every other sheet's in turn (so each window takes the same merges in the same
    /// order as sheet after sheet would give it). A column at a time, the reads follow a
    /// few lists per sheet instead of all the columns' at once, and a window's tallies of
    /// that column stay in cache across the sheets.
    fn merge_sheets(&mut self, sheets: &[Sheet]) {
        // Per window with sheets to merge, in key order: its key, and the (sheet, position)
        // of those sheets, flat, with where each window's holders end.
        let mut keys: Vec<&Segment> = Vec::new();
        let mut holders: Vec<(usize, usize)> = Vec::new();
        let mut ends: Vec<usize> = Vec::new();
        let mut at = vec![0usize; sheets.len()];
        while let Some(k) = sheets.iter().zip(&at).filter_map(|(s, &i)| s.segments.get(i)).min() {
            let mut new = !self.parts.contains_key(k);
            let from = holders.len();
            for (si, (s, i)) in sheets.iter().zip(at.iter_mut()).enumerate() {
                if s.segments.get(*i) != Some(k) {
                    continue;
                }
                if new {
                    self.parts.insert(k.clone(), s.part(*i));
                    new = false;
                } else {
                    holders.push((si, *i));
                }
                *i += 1;
            }
            if holders.len() > from {
                keys.push(k);
                ends.push(holders.len());
            }
        }
        let mut parts: Vec<&mut Part> = Vec::with_capacity(keys.len());
        let mut wanted = keys.iter().peekable();
        for (k, p) in self.parts.iter_mut() {
            if wanted.peek() == Some(&&k) {
                parts.push(p);
                wanted.next();
            }
        }
        debug_assert_eq!(parts.len(), keys.len());
        let spans: Vec<Range<usize>> =
            ends.iter().scan(0, |from, &end| Some(std::mem::replace(from, end)..end)).collect();
        for (part, span) in parts.iter_mut().zip(&spans) {
            part.rows += holders[span.clone()].iter().map(|&(s, i)| sheets[s].rows[i]).sum::<u64>();
        }
        for c in 0..self.template.columns.len() {
            for (part, span) in parts.iter_mut().zip(&spans) {
                let t = &mut part.columns[c];
                for &(s, i) in &holders[span.clone()] {
                    sheets[s].columns[c].merge_into(i, t);
                }
            }
        }
    }
}

/// The windows of one batch, flat: the segments in key order, and per column one tally per
/// segment, whose histogram counts are kept apart in one list of `(bin, count)` pairs for all
/// segments. A shuffled backfill's row group touches a thousand windows with a few rows each:
/// as [`Part`]s that is a map entry, a histogram and an allocation per window and column.
#[derive(Debug, Clone, PartialEq)]
struct Sheet {
    /// The segments the row group's first batch was found to hold (all the sheet will hold).
    planned: usize,
    segments: Vec<Segment>,
    rows: Vec<u64>,
    columns: Vec<SheetColumn>,
}

/// One column of a [`Sheet`].
#[derive(Debug, Clone, PartialEq)]
struct SheetColumn {
    role: Role,
    /// The column's histogram edges, when it has one.
    edges: Option<Arc<[f64]>>,
    /// One tally per segment, without a histogram, and without categories while `codes` holds
    /// them.
    tallies: Vec<Tally>,
    /// The segments' category counts, while no fold of the sheet had a group of more rows than
    /// a tally keeps exact categories of.
    codes: Option<Codes>,
    /// A numeric column folded in groups: per segment its rows, null rows and counts, in place
    /// of `tallies` (which are empty while these are not), and whether its values are whole
    /// numbers.
    numeric: Vec<(u64, u64, NumericCounts)>,
    integral: bool,
    /// Every segment's histogram counts, segment after segment, each in ascending bin order.
    pairs: Vec<(u32, u64)>,
    /// Where each segment's pairs end in `pairs`.
    ends: Vec<usize>,
}

impl Sheet {
    /// An empty sheet of `template`'s columns, with room for `segments` segments of `rows`
    /// rows in all.
    fn of(template: &DatasetProfile, segments: usize, rows: usize) -> Sheet {
        let columns = template
            .columns
            .iter()
            .map(|c| {
                let edges = c.histogram.as_ref().map(|h| h.edges.clone());
                let bins = edges.as_ref().map_or(0, |e| e.len() + 1);
                SheetColumn {
                    role: c.role,
                    edges,
                    tallies: Vec::new(),
                    codes: None,
                    numeric: Vec::new(),
                    integral: false,
                    pairs: Vec::with_capacity(rows.min(segments.saturating_mul(bins))),
                    ends: Vec::with_capacity(segments),
                }
            })
            .collect();
        Sheet { planned: segments, segments: Vec::with_capacity(segments), rows: Vec::with_capacity(segments), columns }
    }

    /// Segment `i` as a part (as a fold makes a fresh part's tallies).
    fn part(&self, i: usize) -> Part {
        Part { rows: self.rows[i], columns: self.columns.iter().map(|c| c.tally(i)).collect() }
    }
}

impl SheetColumn {
    /// Segment `i`'s pairs.
    fn pairs_of(&self, i: usize) -> &[(u32, u64)] {
        let from = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.pairs[from..self.ends[i]]
    }

    /// Segment `i`'s tally, its histogram made of its pairs (as a fold makes a fresh tally's).
    fn tally(&self, i: usize) -> Tally {
        let mut t = self.bare(i);
        t.histogram = self.edges.as_ref().map(|e| {
            let mut h = Histogram::new(e.clone());
            h.add_sorted_owned(self.pairs_of(i).to_vec());
            h
        });
        t
    }

    /// Segment `i`'s tally without its histogram: what applying its fold to an empty tally
    /// gives.
    fn bare(&self, i: usize) -> Tally {
        let Some((rows, missing, c)) = self.numeric.get(i) else {
            let mut t = self.tallies[i].clone();
            if let Some(codes) = &self.codes {
                // At most MAX_EXACT_CATEGORIES values: the fold's categories, never spilled.
                t.categories.merge_counts(codes.counts(i));
            }
            return t;
        };
        let present = c.finite + c.nan + c.pos_inf + c.neg_inf;
        let types = match self.integral {
            true => TypeCounts { integral: present, ..TypeCounts::default() },
            false => TypeCounts { fractional: present, ..TypeCounts::default() },
        };
        Tally {
            rows: *rows,
            missing: *missing,
            types,
            nan: c.nan,
            pos_inf: c.pos_inf,
            neg_inf: c.neg_inf,
            moments: c.moments.clone(),
            ..Tally::default()
        }
    }

    /// Adds segment `i` to `t` as [`Tally::merge`] adds a tally.
    fn merge_into(&self, i: usize, t: &mut Tally) {
        match self.numeric.get(i) {
            // The fields a numeric tally holds, added as `Tally::merge` adds them (its empty
            // categories add nothing).
            Some((rows, missing, c)) => {
                let present = c.finite + c.nan + c.pos_inf + c.neg_inf;
                t.rows += rows;
                t.missing += missing;
                match self.integral {
                    true => t.types.integral += present,
                    false => t.types.fractional += present,
                }
                t.nan += c.nan;
                t.pos_inf += c.pos_inf;
                t.neg_inf += c.neg_inf;
                t.moments.merge(&c.moments);
                if let Some(h) = &mut t.histogram {
                    h.accumulating();
                }
            }
            None => {
                t.merge(&self.tallies[i]);
                if let Some(codes) = &self.codes {
                    t.categories.merge_counts(codes.counts(i));
                }
            }
        }
        if let Some(h) = &mut t.histogram {
            h.add_sorted(self.pairs_of(i));
            h.accumulating();
        }
    }

    /// Applies one fold's groups (`groups` of `array`, the column) as new segments: a grouped
    /// numeric fold as counts while every group so far came so, else as tallies.
    /// `planned`: the segments the sheet will hold in all (a fold pushes a run of them), room
    /// for which is made at once.
    fn apply(
        &mut self,
        groups: &[Range<usize>],
        folds: Vec<ColumnFold>,
        array: &ArrayRef,
        detail: Detail,
        planned: usize,
    ) {
        let nulls = array.logical_nulls();
        let mut folds = GroupFolds::of(folds);
        if let (GroupFolds::Grouped(g), true) = (&folds, self.tallies.is_empty()) {
            if self.numeric.is_empty() {
                self.integral = matches!(ColumnKind::of(array.data_type()), ColumnKind::Numeric { integral: true });
            }
            self.numeric.reserve_exact(groups.len().max(planned.saturating_sub(self.numeric.len())));
            for (i, rows) in groups.iter().enumerate() {
                let (rows, missing) = counted(nulls.as_ref(), rows);
                let counts =
                    if detail == Detail::HistogramOnly { NumericCounts::default() } else { g.groups[i].clone() };
                self.numeric.push((rows as u64, missing as u64, counts));
                if self.edges.is_some() {
                    self.pairs.extend_from_slice(g.pairs_of(i));
                }
                self.ends.push(self.pairs.len());
            }
            return;
        }
        if !self.numeric.is_empty() {
            // Folds of another kind after grouped ones (a run of one group): tallies for all.
            self.tallies = (0..self.numeric.len()).map(|i| self.bare(i)).collect();
            self.numeric.clear();
        }
        // Categories as codes while no group can hold more values than a tally keeps exact
        // (so that none of the folds' categories would have spilled); past that, as tallies.
        let coded = (self.tallies.is_empty() || self.codes.is_some())
            && groups.iter().all(|g| g.len() <= crate::profile::MAX_EXACT_CATEGORIES);
        if !coded && self.codes.is_some() {
            for i in 0..self.tallies.len() {
                self.tallies[i] = self.bare(i);
            }
            self.codes = None;
        }
        if coded && self.codes.is_none() {
            self.codes = Some(Codes::default());
        }
        let edges = self.edges.clone();
        self.tallies.reserve_exact(groups.len().max(planned.saturating_sub(self.tallies.len())));
        for (i, rows) in groups.iter().enumerate() {
            self.tallies.push(Tally::default());
            let t = self.tallies.last_mut().expect("pushed");
            let col = Target::paired(t, self.role, &mut self.pairs, edges.as_deref(), self.codes.as_mut());
            folds.apply(col, (i, rows), (array, nulls.as_ref()), detail);
            self.ends.push(self.pairs.len());
            if let Some(c) = &mut self.codes {
                c.end_window();
            }
        }
    }
}

/// A segment's rows in one light profile: how many, and each column's tally.
#[derive(Debug, Clone, PartialEq)]
struct Part {
    rows: u64,
    columns: Vec<Tally>,
}

impl Part {
    fn of(template: &DatasetProfile) -> Part {
        Part { rows: 0, columns: template.columns.iter().map(Tally::of).collect() }
    }

    fn merge(&mut self, o: &Part) {
        self.rows += o.rows;
        self.columns.iter_mut().zip(&o.columns).for_each(|(a, b)| a.merge(b));
    }

    /// The profile of the part's rows: the template holding the tallies, as the fold would
    /// have filled a copy of the template.
    fn settle(self, template: &DatasetProfile) -> DatasetProfile {
        let mut p = template.clone();
        p.rows += self.rows;
        p.columns.iter_mut().zip(self.columns).for_each(|(c, t)| c.merge_tally(&t.settled()));
        p
    }
}

/// True when `p`'s columns are `template`'s (names and types, in order) and the template has
/// nothing but columns: merging a profile of the template's makes no column and no
/// covariance, only column merges.
fn same_columns(p: &DatasetProfile, template: &DatasetProfile) -> bool {
    template.covariance.is_none()
        && p.columns.len() == template.columns.len()
        && p.columns.iter().zip(&template.columns).all(|(a, b)| a.name == b.name && a.arrow_type == b.arrow_type)
}

/// A map whose keys are not strings, as a JSON list of pairs.
mod pairs {
    use super::{BTreeMap, DatasetProfile, Segment};
    use rayon::prelude::*;
    use serde::ser::{Error, SerializeSeq};
    use serde::{Deserialize, Deserializer, Serializer};

    /// Sets of more pairs than this are encoded in parallel.
    const IN_PARALLEL_FROM: usize = 256;
    /// Pairs encoded at a time (a window's pair is a few kilobytes of JSON).
    const CHUNK: usize = 2048;

    /// The pairs in key order. A large set (a checkpoint of a backfill's windows: hundreds of
    /// megabytes) has its pairs encoded as JSON in parallel, a chunk at a time, and passed on as
    /// that text: serde_json's compact writer (a set is only ever written so) writes it as it
    /// is, the bytes it would have written itself.
    pub fn serialize<S: Serializer>(m: &BTreeMap<Segment, DatasetProfile>, s: S) -> Result<S::Ok, S::Error> {
        if m.len() < IN_PARALLEL_FROM {
            return s.collect_seq(m.iter());
        }
        let pairs: Vec<(&Segment, &DatasetProfile)> = m.iter().collect();
        let encode = |chunk: &[(&Segment, &DatasetProfile)]| -> Vec<_> {
            chunk.par_iter().map(serde_json::value::to_raw_value).collect()
        };
        let mut seq = s.serialize_seq(Some(pairs.len()))?;
        // Each chunk is written (on this thread) while the next one is encoded (on the others).
        let mut chunks = pairs.chunks(CHUNK);
        let mut ready = chunks.next().map(encode);
        while let Some(encoded) = ready.take() {
            let mut next = None;
            let written = rayon::in_place_scope(|scope| {
                if let Some(chunk) = chunks.next() {
                    scope.spawn(|_| next = Some(encode(chunk)));
                }
                encoded.into_iter().try_for_each(|pair| seq.serialize_element(&pair.map_err(S::Error::custom)?))
            });
            written?;
            ready = next;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<Segment, DatasetProfile>, D::Error> {
        Ok(Vec::<(Segment, DatasetProfile)>::deserialize(d)?.into_iter().collect())
    }
}

impl ProfileSet {
    /// A set of one profile, the whole.
    pub fn whole(p: DatasetProfile) -> ProfileSet {
        ProfileSet { segments: BTreeMap::from([(Segment::Whole, p)]), light: None }
    }

    /// Turns the light profiles held as tallies into profiles.
    pub fn settle(&mut self) {
        let Some(mut light) = self.light.take() else { return };
        light.unsheet();
        for (k, part) in light.parts {
            let p = part.settle(&light.template);
            match self.segments.get_mut(&k) {
                Some(mine) => mine.merge(&p),
                None => {
                    self.segments.insert(k, p);
                }
            }
        }
    }

    /// True when the set holds segment `k`, as a profile or a tally.
    fn holds(&self, k: &Segment) -> bool {
        self.segments.contains_key(k) || self.light.as_ref().is_some_and(|l| l.holds(k))
    }

    /// The light parts, made for `template` when there are none.
    fn light(&mut self, template: &Arc<DatasetProfile>) -> &mut Light {
        self.light.get_or_insert_with(|| Light::of(template))
    }

    /// Merges another set: profiles of the same segment merge, others are added.
    pub fn merge(&mut self, other: &ProfileSet) {
        if self.light.is_some() || other.light.is_some() {
            self.absorb(other.clone());
            return;
        }
        for (k, p) in &other.segments {
            match self.segments.get_mut(k) {
                Some(mine) => mine.merge(p),
                None => {
                    self.segments.insert(k.clone(), p.clone());
                }
            }
        }
    }

    /// Merges another set, taking its profiles: as [`ProfileSet::merge`], without copying
    /// the segments this set lacks. The tallies of two sets of the same columns (a file's row
    /// groups) merge as tallies; otherwise both sets are settled first.
    pub fn absorb(&mut self, mut other: ProfileSet) {
        match (self.light.as_mut(), other.light.take()) {
            (Some(mine), Some(mut theirs)) if mine.same_columns(&theirs) => {
                // Theirs' sheet and parts hold different segments: either may go first.
                mine.unsheet();
                if let Some(sheet) = theirs.sheet.take() {
                    mine.merge_sheets(std::slice::from_ref(&sheet));
                }
                for (k, part) in theirs.parts {
                    match mine.parts.get_mut(&k) {
                        Some(p) => p.merge(&part),
                        None => {
                            mine.parts.insert(k, part);
                        }
                    }
                }
            }
            // A segment held both as a tally and as a profile: the profile takes the tally first.
            (_, Some(theirs)) if other.segments.keys().any(|k| theirs.holds(k)) => {
                other.light = Some(theirs);
                other.settle();
                self.settle();
            }
            (_, Some(theirs)) => {
                self.settle();
                self.add_parts(theirs);
            }
            (Some(mine), None) if other.segments.keys().any(|k| mine.holds(k)) => self.settle(),
            _ => {}
        }
        for (k, p) in other.segments {
            match self.segments.get_mut(&k) {
                Some(mine) => mine.merge(&p),
                None => {
                    self.segments.insert(k, p);
                }
            }
        }
    }

    /// Adds the tallies of another set (of segments this set holds as profiles or lacks): a
    /// profile of the same columns takes a tally as it would take its settled profile
    /// ([`ColumnProfile::merge_tally`]), without making that profile.
    fn add_parts(&mut self, mut theirs: Light) {
        theirs.unsheet();
        let template = &theirs.template;
        for (k, part) in theirs.parts {
            match self.segments.get_mut(&k) {
                Some(mine) if same_columns(mine, template) => {
                    mine.rows += part.rows;
                    mine.columns.iter_mut().zip(part.columns).for_each(|(c, t)| c.merge_tally(&t.settled()));
                }
                Some(mine) => mine.merge(&part.settle(template)),
                None => {
                    self.segments.insert(k, part.settle(template));
                }
            }
        }
    }

    /// True when the set holds a row group's windows as a sheet (and no window otherwise):
    /// sets for [`ProfileSet::absorb_all`].
    pub(crate) fn sheeted(&self) -> bool {
        self.light.as_ref().is_some_and(|l| {
            l.sheet.is_some() && l.parts.keys().all(|k| !matches!(k, Segment::Window(_) | Segment::Untimed))
        })
    }

    /// The bytes the set's sheet holds (none without one).
    pub(crate) fn sheet_bytes(&self) -> usize {
        self.light.as_ref().and_then(|l| l.sheet.as_ref()).map_or(0, |s| {
            s.columns
                .iter()
                .map(|c| {
                    c.tallies.len() * std::mem::size_of::<Tally>()
                        + c.codes.as_ref().map_or(0, Codes::bytes)
                        + c.numeric.len() * std::mem::size_of::<(u64, u64, NumericCounts)>()
                        + c.pairs.len() * 16
                })
                .sum()
        })
    }

    /// [`ProfileSet::absorb`] of each of `others` in turn; the windows of sets of the same
    /// columns held as sheets ([`ProfileSet::sheeted`]) are merged window by window, which
    /// gives each window the same merges in the same order.
    pub(crate) fn absorb_all(&mut self, mut others: Vec<ProfileSet>) {
        let together = others.len() > 1
            && self.light.as_ref().is_some_and(|mine| {
                others.iter().all(|o| o.sheeted() && o.light.as_ref().is_some_and(|l| mine.same_columns(l)))
            });
        if together {
            let mine = self.light.as_mut().expect("checked");
            mine.unsheet();
            let sheets: Vec<Sheet> =
                others.iter_mut().filter_map(|o| o.light.as_mut().and_then(|l| l.sheet.take())).collect();
            mine.merge_sheets(&sheets);
        }
        for o in others {
            self.absorb(o);
        }
    }

    /// The profile of all rows: the [`Segment::Whole`] profile (windows are other views of
    /// the same rows), or the merge of every segment in key order when there is none.
    pub fn into_whole(self) -> DatasetProfile {
        self.split_whole().0
    }

    /// The profile of all rows (see [`ProfileSet::into_whole`]) and the other segments.
    pub fn split_whole(mut self) -> (DatasetProfile, ProfileSet) {
        self.settle();
        if let Some(p) = self.segments.remove(&Segment::Whole) {
            return (p, self);
        }
        let mut all = DatasetProfile::default();
        for p in self.segments.values() {
            all.merge(p);
        }
        (all, self)
    }

    /// Takes the histogram edges out of every profile but the whole's (windows share the
    /// plan's edges, and a checkpoint need not repeat them thousands of times); returns them
    /// for [`ProfileSet::put_back_edges`].
    pub fn take_segment_edges(&mut self) -> Vec<Arc<[f64]>> {
        let empty: Arc<[f64]> = Arc::from(Vec::new());
        let mut taken = Vec::new();
        for (_, p) in self.segments.iter_mut().filter(|(k, _)| **k != Segment::Whole) {
            for h in p.columns.iter_mut().filter_map(|c| c.histogram.as_mut()) {
                taken.push(std::mem::replace(&mut h.edges, empty.clone()));
            }
        }
        taken
    }

    /// Undoes [`ProfileSet::take_segment_edges`].
    pub fn put_back_edges(&mut self, taken: Vec<Arc<[f64]>>) {
        let mut taken = taken.into_iter();
        for (_, p) in self.segments.iter_mut().filter(|(k, _)| **k != Segment::Whole) {
            for h in p.columns.iter_mut().filter_map(|c| c.histogram.as_mut()) {
                if let Some(e) = taken.next() {
                    h.edges = e;
                }
            }
        }
    }

    /// Gives the segments' histograms whose edges were taken out the edges of the whole
    /// profile's column of the same name (after loading a checkpoint).
    pub fn share_whole_edges(&mut self) {
        let Some(whole) = self.segments.remove(&Segment::Whole) else { return };
        for p in self.segments.values_mut() {
            p.share_edges(&whole);
        }
        self.segments.insert(Segment::Whole, whole);
    }

    /// The window profiles, in time order: start (milliseconds since the epoch) and profile.
    pub fn windows(&self) -> impl Iterator<Item = (i64, &DatasetProfile)> {
        self.segments.iter().filter_map(|(k, p)| match k {
            Segment::Window(start) => Some((*start, p)),
            _ => None,
        })
    }
}

/// Most histogram bins and dictionary entries of the windows pushed to a folder at once.
const GROUP_COUNTERS: usize = 1 << 20;

/// Folds batches of one schema into profiles keyed by segment, on a backend.
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::{Float64Array, RecordBatch};
/// use driftscope_core::backend::cpu::CpuBackend;
/// use driftscope_core::engine::{ProfilePlan, Profiler};
///
/// let batch = RecordBatch::try_from_iter([("x", Arc::new(Float64Array::from(vec![1.0, 2.0, 6.0])) as _)]).unwrap();
/// let mut p = Profiler::new(&ProfilePlan::default(), batch.schema(), &CpuBackend).unwrap();
/// p.update(&batch).unwrap();
/// let profile = p.finish().unwrap().into_whole();
/// assert_eq!(profile.column("x").unwrap().moments.mean(), Some(3.0));
/// ```
pub struct Profiler<'b> {
    /// The schema of the batches given.
    input: SchemaRef,
    /// The schema of the batches checked: `input` with struct columns flattened.
    schema: SchemaRef,
    /// The schema folded: `schema` and the derived column, when there is one.
    folded: SchemaRef,
    /// Work on whole rows.
    derived: Option<Derived>,
    template: Arc<DatasetProfile>,
    set: ProfileSet,
    /// The whole profile's fold.
    whole: Stream<'b>,
    /// The windows' fold, when rows are keyed by time.
    windows: Option<Windows<'b>>,
    /// The segments' fold, when rows are keyed by the values of columns.
    groups: Option<ByValue<'b>>,
    /// The backend, for the derived work on whole rows.
    backend: &'b dyn Backend,
}

/// How rows are keyed by the values of columns.
struct ByValue<'b> {
    /// Each column's name and position in the folded schema (`None`: not in these batches,
    /// every row's value is null).
    columns: Vec<(String, Option<usize>)>,
    /// The plan's key (per window only when the plan has windows).
    key: GroupBy,
    /// Segments held.
    held: usize,
    stream: Stream<'b>,
}

/// Batches going through one folder, and the segment of each group of rows pushed.
struct Stream<'b> {
    tasks: Arc<FoldPlan>,
    detail: Detail,
    folder: Box<dyn Folder + 'b>,
    /// The segment of each group pushed and not applied yet, and whether it goes to the sheet.
    in_flight: VecDeque<(Segment, bool)>,
    /// The segments' profiles are light, held as tallies until the set is settled.
    tallied: bool,
    /// A row group's first batch goes to a [`Sheet`] (the windows' stream).
    sheets: bool,
    /// Some column feeds a quantile sketch (a plan that folds one segment per batch).
    sketched: bool,
}

/// The window of each row, for windows of rows.
#[derive(Debug, Clone)]
enum RowKeys {
    /// The next row's position (windows follow the order rows come in).
    Next(u64),
    /// The window index of each row to come (`u32::MAX`: no time), and how many are used.
    Given(Arc<[u32]>, usize),
}

/// How rows are keyed by time.
struct Windows<'b> {
    /// The time column's position in the folded schema (`None`: not in these batches), and its
    /// name.
    time: Option<usize>,
    column: String,
    window: Window,
    limit: usize,
    /// The time of every row to come, when given by the caller instead of a column.
    fixed: Option<Option<i64>>,
    /// For windows of rows: where the next row stands.
    rows: RowKeys,
    /// Windows (and the untimed segment) held.
    held: usize,
    /// The light profiles' fold: a batch's rows ordered by window, one group per window, so
    /// that the window is one more key of the backend's histogram and key counters.
    stream: Stream<'b>,
}

impl std::fmt::Debug for Profiler<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profiler").field("columns", &self.whole.tasks.columns.len()).field("set", &self.set).finish()
    }
}

impl<'b> Stream<'b> {
    fn new(
        plan: &ProfilePlan,
        schema: &Schema,
        detail: Detail,
        tallied: bool,
        backend: &'b dyn Backend,
    ) -> Result<Self> {
        let tasks = Arc::new(plan.fold_plan(schema, detail));
        let folder = backend.folder(tasks.clone())?;
        let sketched = tasks.columns.iter().any(ColumnTask::sketched);
        Ok(Stream { tasks, detail, folder, in_flight: VecDeque::new(), tallied, sheets: false, sketched })
    }

    /// Pushes a batch whose rows are in `groups`, one per segment of `segments` (each with
    /// its profile in `set`), and applies what is done.
    fn push(
        &mut self,
        set: &mut ProfileSet,
        segments: Vec<Segment>,
        batch: &RecordBatch,
        groups: &[Range<usize>],
        to_sheet: bool,
    ) -> Result<()> {
        let sketches: Vec<Option<SketchPlan>> = match &segments[..] {
            [one] if self.sketched => {
                let profile = &set.segments[one];
                self.tasks
                    .columns
                    .iter()
                    .zip(&profile.columns)
                    .map(|(t, c)| t.sketched().then(|| c.kll.plan()))
                    .collect()
            }
            _ => vec![None; self.tasks.columns.len()],
        };
        self.in_flight.extend(segments.into_iter().map(|k| (k, to_sheet)));
        let done = self.folder.push(batch, groups, &sketches)?;
        done.into_iter().for_each(|f| self.apply(set, f));
        Ok(())
    }

    /// Pushes the rows of `batch` in `groups`, each to its segment's profile (made from
    /// `template` when new), a run of segments at a time so that the folds in hand (a
    /// histogram per segment and column) stay near [`GROUP_COUNTERS`] whatever the rows'
    /// order; `column` names the key in errors.
    fn push_groups(
        &mut self,
        set: &mut ProfileSet,
        template: &Arc<DatasetProfile>,
        batch: &RecordBatch,
        groups: window::Groups,
        column: &str,
    ) -> Result<()> {
        debug_assert!(self.tallied, "segments of rows are light profiles");
        if self.sheets && set.light.as_ref().is_some_and(|l| l.sheet.is_some()) {
            // A row group's later batch: its windows are folded into the first's, in place, as
            // parts (the sheet's groups applied first).
            if self.in_flight.iter().any(|(_, sheet)| *sheet) {
                self.flush(set)?;
            }
            set.light(template).unsheet();
        }
        let light = set.light(template);
        let to_sheet = self.sheets && light.sheet.is_none() && light.parts.is_empty();
        if to_sheet {
            light.sheet = Some(Sheet::of(template, groups.segments.len(), batch.num_rows()));
        } else {
            for (segment, _) in &groups.segments {
                if !light.parts.contains_key(segment) {
                    light.parts.insert(segment.clone(), Part::of(template));
                }
            }
        }
        let grouped = match &groups.order {
            None => batch.clone(),
            Some(order) => arrow_select::take::take_record_batch(batch, order)
                .map_err(|e| Error::Schema { column: column.to_string(), message: crate::error::one_line(e) })?,
        };
        let per_segment = self.counters(&grouped).max(1);
        let most = (GROUP_COUNTERS / per_segment).max(1);
        let mut segments = groups.segments.into_iter().peekable();
        while segments.peek().is_some() {
            let (keys, rows): (Vec<Segment>, Vec<Range<usize>>) = segments.by_ref().take(most).unzip();
            let (from, to) = (rows[0].start, rows[rows.len() - 1].end);
            if from == 0 && to == grouped.num_rows() {
                self.push(set, keys, &grouped, &rows, to_sheet)?;
            } else {
                let rows: Vec<Range<usize>> = rows.iter().map(|r| r.start - from..r.end - from).collect();
                self.push(set, keys, &grouped.slice(from, to - from), &rows, to_sheet)?;
            }
        }
        Ok(())
    }

    /// Histogram bins and dictionary entries a segment of `batch` is folded into.
    fn counters(&self, batch: &RecordBatch) -> usize {
        self.tasks
            .columns
            .iter()
            .map(|t| match t.kind {
                ColumnKind::Keys => batch.column(t.index).as_any_dictionary_opt().map_or(0, |d| d.values().len()),
                _ => t.edges.as_ref().map_or(0, |e| e.len() + 1),
            })
            .sum()
    }

    fn flush(&mut self, set: &mut ProfileSet) -> Result<()> {
        let done = self.folder.flush()?;
        done.into_iter().for_each(|f| self.apply(set, f));
        debug_assert!(self.in_flight.is_empty());
        Ok(())
    }

    /// Applies a fold's groups to their segments' profiles (or tallies): each column in
    /// parallel, each group's rows in turn.
    fn apply(&mut self, set: &mut ProfileSet, fold: BatchFold) {
        let to_sheet = self.in_flight.front().is_some_and(|(_, sheet)| *sheet);
        let segments: Vec<Segment> = self.in_flight.drain(..fold.groups.len()).map(|(k, _)| k).collect();
        if to_sheet {
            let sheet = set.light.as_mut().and_then(|l| l.sheet.as_mut()).expect("sheet made on push");
            self.apply_to_sheet(sheet, segments, fold);
            return;
        }
        let mut per_column: Vec<Vec<Target>> = self.tasks.columns.iter().map(|_| Vec::new()).collect();
        let (mut profiles, mut parts, roles): (Vec<DatasetProfile>, Vec<Part>, Vec<Role>) = if self.tallied {
            let light = set.light.as_mut().expect("tallies made on push");
            let parts = segments.iter().map(|k| light.parts.remove(k).expect("segment created on push")).collect();
            (Vec::new(), parts, light.template.columns.iter().map(|c| c.role).collect())
        } else {
            let profiles = segments.iter().map(|k| set.segments.remove(k).expect("segment created on push")).collect();
            (profiles, Vec::new(), Vec::new())
        };
        for (p, rows) in profiles.iter_mut().zip(&fold.groups) {
            p.rows += rows.len() as u64;
            p.columns.iter_mut().zip(per_column.iter_mut()).for_each(|(c, list)| list.push(Target::profile(c)));
        }
        for (p, rows) in parts.iter_mut().zip(&fold.groups) {
            p.rows += rows.len() as u64;
            p.columns.iter_mut().zip(per_column.iter_mut()).zip(&roles).for_each(|((t, list), &role)| {
                list.push(Target::tally(t, role));
            });
        }
        let (detail, batch, groups) = (self.detail, &fold.batch, &fold.groups);
        let whole = groups.len() == 1;
        per_column.into_par_iter().zip(self.tasks.columns.par_iter()).zip(fold.columns.into_par_iter()).for_each(
            |((columns, task), folds)| {
                let array = batch.column(task.index);
                if whole {
                    columns.into_iter().zip(folds).for_each(|(col, f)| apply_column(col, array, f, detail));
                    return;
                }
                let nulls = array.logical_nulls();
                let mut folds = GroupFolds::of(folds);
                for (i, (col, rows)) in columns.into_iter().zip(groups).enumerate() {
                    folds.apply(col, (i, rows), (array, nulls.as_ref()), detail);
                }
            },
        );
        for (k, p) in segments.iter().zip(profiles) {
            set.segments.insert(k.clone(), p);
        }
        if let Some(light) = set.light.as_mut() {
            for (k, p) in segments.into_iter().zip(parts) {
                light.parts.insert(k, p);
            }
        }
    }

    /// Applies a fold's groups to new segments of the sheet (after those it holds, in key
    /// order): each column in parallel, each group's rows in turn, as [`Stream::apply`] does
    /// to fresh tallies.
    fn apply_to_sheet(&self, sheet: &mut Sheet, segments: Vec<Segment>, fold: BatchFold) {
        debug_assert!(sheet.segments.last().is_none_or(|last| Some(last) < segments.first()));
        sheet.segments.extend(segments);
        sheet.rows.extend(fold.groups.iter().map(|g| g.len() as u64));
        let (detail, batch, groups) = (self.detail, &fold.batch, &fold.groups);
        sheet.columns.par_iter_mut().zip(self.tasks.columns.par_iter()).zip(fold.columns.into_par_iter()).for_each(
            |((column, task), folds)| column.apply(groups, folds, batch.column(task.index), detail, sheet.planned),
        );
    }
}

impl<'b> Profiler<'b> {
    /// A profiler of the batches of `schema`, folding on `backend`.
    ///
    /// # Errors
    /// [`Error::Schema`] when the plan keys rows by a time column that `schema` lacks or that
    /// holds no instants; [`Error::Backend`] when the backend cannot fold the plan.
    pub fn new(plan: &ProfilePlan, input: SchemaRef, backend: &'b dyn Backend) -> Result<Self> {
        let schema = flat_schema(&input);
        let folded = match &plan.derived {
            Some(Derived::Reconstruction(_)) => {
                let mut fields: Vec<arrow_schema::FieldRef> = schema.fields().iter().cloned().collect();
                fields.push(Arc::new(arrow_schema::Field::new(RECONSTRUCTION, DataType::Float64, true)));
                Arc::new(Schema::new(fields))
            }
            _ => schema.clone(),
        };
        let whole = Stream::new(plan, &folded, plan.detail(), false, backend)?;
        let template = Arc::new(plan.empty_profile(&folded));
        let mut set = ProfileSet::default();
        set.segments.insert(Segment::Whole, template.as_ref().clone());
        let windows = match &plan.segment {
            SegmentKey::Whole => None,
            SegmentKey::Window { column, window, limit } => {
                // Batches without the time column: all their rows are untimed.
                let time = schema.column_with_name(column).map(|(i, _)| i);
                if let Some(t) = time.map(|i| schema.field(i).data_type()).filter(|t| !window::is_time_type(t)) {
                    return Err(Error::Schema {
                        column: column.clone(),
                        message: format!(
                            "time column is {t}: expected a timestamp, a date, an epoch number or ISO 8601 text"
                        ),
                    });
                }
                Some(Windows {
                    time,
                    column: column.clone(),
                    window: *window,
                    limit: *limit,
                    fixed: None,
                    rows: RowKeys::Next(0),
                    held: 0,
                    stream: Stream { sheets: true, ..Stream::new(plan, &folded, Detail::Light, true, backend)? },
                })
            }
        };
        let groups = match &plan.groups {
            None => None,
            Some(g) => {
                let columns =
                    g.columns.iter().map(|c| (c.clone(), schema.column_with_name(c).map(|(i, _)| i))).collect();
                let detail = if plan.histogram_only { Detail::HistogramOnly } else { Detail::Light };
                let key = GroupBy { by_window: g.by_window && windows.is_some(), ..g.clone() };
                let stream = Stream::new(plan, &folded, detail, true, backend)?;
                Some(ByValue { columns, key, held: 0, stream })
            }
        };
        let derived = plan.derived.clone();
        Ok(Profiler { input, schema, folded, derived, template, set, whole, windows, groups, backend })
    }

    /// Folds one batch. It must have the profiler's schema (the planned columns, with the same
    /// names and types). Batches longer than [`MAX_BATCH_ROWS`] are folded in slices of that
    /// many rows.
    ///
    /// # Errors
    /// [`Error::Schema`] for a batch of another schema; [`Error::Invalid`] when rows are keyed by
    /// time and the profiler would hold more windows than the plan's limit.
    pub fn update(&mut self, batch: &RecordBatch) -> Result<()> {
        let flat;
        let batch = if Arc::ptr_eq(&self.input, &self.schema) {
            batch
        } else {
            flat = batch
                .normalize(".", None)
                .map_err(|e| Error::Schema { column: "(struct)".into(), message: crate::error::one_line(e) })?;
            &flat
        };
        self.check_schema(batch)?;
        let with_errors;
        let batch = match &self.derived {
            None => batch,
            Some(Derived::Covariance(s)) => {
                let k = s.columns.len();
                let sums = self.backend.gram_sums(&s.quantized_rows(batch), k)?;
                let whole = self.set.segments.get_mut(&Segment::Whole).expect("the whole is always there");
                whole.covariance.get_or_insert_with(Default::default).add_sums(&sums, batch.num_rows() as u64, k);
                batch
            }
            Some(Derived::Reconstruction(p)) => {
                let mut columns = batch.columns().to_vec();
                columns.push(Arc::new(p.errors(batch)));
                with_errors = RecordBatch::try_new(self.folded.clone(), columns)
                    .map_err(|e| Error::Schema { column: RECONSTRUCTION.into(), message: crate::error::one_line(e) })?;
                &with_errors
            }
        };
        let most = MAX_BATCH_ROWS;
        if batch.num_rows() <= most {
            return self.fold(batch);
        }
        for start in (0..batch.num_rows()).step_by(most) {
            self.fold(&batch.slice(start, most.min(batch.num_rows() - start)))?;
        }
        Ok(())
    }

    fn fold(&mut self, batch: &RecordBatch) -> Result<()> {
        let all = 0..batch.num_rows();
        self.whole.push(&mut self.set, vec![Segment::Whole], batch, std::slice::from_ref(&all), false)?;
        let per_window = self.groups.as_ref().is_some_and(|g| g.key.by_window);
        let row_windows = self.fold_windows(batch, per_window)?;
        self.fold_groups(batch, row_windows.as_deref())
    }

    /// Folds a batch's rows into the light profiles of their windows; with `per_row`, returns
    /// each row's window (its start, `None` without a time).
    fn fold_windows(&mut self, batch: &RecordBatch, per_row: bool) -> Result<Option<Vec<Option<i64>>>> {
        let Some(w) = &mut self.windows else { return Ok(None) };
        let groups = if let Some(n) = w.window.rows_per_window() {
            let len = batch.num_rows();
            let keys: Vec<Option<i64>> = match &mut w.rows {
                RowKeys::Next(pos) => {
                    let keys = (0..len as u64).map(|i| Some(((*pos + i) / n) as i64)).collect();
                    *pos += len as u64;
                    keys
                }
                RowKeys::Given(keys, at) => {
                    let part = keys.get(*at..*at + len).ok_or_else(|| Error::Schema {
                        column: w.column.clone(),
                        message: format!("{} rows given windows, more folded", keys.len()),
                    })?;
                    *at += len;
                    part.iter().map(|&k| (k != u32::MAX).then_some(k as i64)).collect()
                }
            };
            window::group_keys(keys)
        } else {
            match (w.fixed, w.time) {
                (Some(t), _) => {
                    let k = window::group(&[t], &w.window).segments.remove(0).0;
                    window::Groups { segments: vec![(k, 0..batch.num_rows())], order: None }
                }
                (None, Some(t)) => window::group_column(&w.column, batch.column(t), &w.window)?,
                (None, None) => window::Groups { segments: vec![(Segment::Untimed, 0..batch.num_rows())], order: None },
            }
        };
        for (segment, _) in &groups.segments {
            if !self.set.holds(segment) {
                // The whole and the windows held so far.
                if 1 + w.held > w.limit {
                    return Err(crate::error::invalid(
                        crate::Opt::MaxWindows,
                        format!("time column '{}': more than {} windows of {}", w.column, w.limit, w.window),
                    ));
                }
                w.held += 1;
            }
        }
        let row_windows = per_row.then(|| {
            let mut keys = vec![None; batch.num_rows()];
            for (segment, range) in &groups.segments {
                let key = match segment {
                    Segment::Window(s) => Some(*s),
                    _ => None,
                };
                for pos in range.clone() {
                    keys[groups.order.as_ref().map_or(pos, |o| o.value(pos) as usize)] = key;
                }
            }
            keys
        });
        w.stream.push_groups(&mut self.set, &self.template, batch, groups, &w.column)?;
        Ok(row_windows)
    }

    /// Folds a batch's rows into the profiles of their segments by value (and by window, with
    /// `row_windows`, each row's window).
    fn fold_groups(&mut self, batch: &RecordBatch, row_windows: Option<&[Option<i64>]>) -> Result<()> {
        let Some(g) = &mut self.groups else { return Ok(()) };
        let groups = group_values(batch, &g.columns, row_windows)?;
        for (segment, _) in &groups.segments {
            if !self.set.holds(segment) {
                g.held += 1;
                if g.held > g.key.limit {
                    return Err(g.key.too_many(None));
                }
            }
        }
        let name = g.columns.first().map(|c| c.0.clone()).unwrap_or_default();
        g.stream.push_groups(&mut self.set, &self.template, batch, groups, &name)
    }

    /// Gives every row of the batches to come the time `t` (`None`: no time), instead of the
    /// time column: a file's hive partition. Without time windows, nothing changes.
    pub fn set_time(&mut self, t: Option<i64>) {
        if let Some(w) = &mut self.windows {
            w.fixed = Some(t);
        }
    }

    /// For windows of rows in the order they come: the position of the next row among all
    /// rows (a row group's first row in its file and the files before it).
    pub fn set_first_row(&mut self, row: u64) {
        if let Some(w) = &mut self.windows {
            w.rows = RowKeys::Next(row);
        }
    }

    /// For windows of rows in time order: the window index of each row to come, in the order
    /// they come (`u32::MAX` for a row without a time).
    pub fn set_row_windows(&mut self, windows: Arc<[u32]>) {
        if let Some(w) = &mut self.windows {
            w.rows = RowKeys::Given(windows, 0);
        }
    }

    /// Completes the batches in flight and returns the profiles.
    pub fn finish(self) -> Result<ProfileSet> {
        let mut set = self.finish_light()?;
        set.settle();
        Ok(set)
    }

    /// [`Profiler::finish`], the light profiles left as tallies: a set for
    /// [`ProfileSet::absorb`] (the file engine merges a file's row groups so), settled by it
    /// when merged with a set of other columns, or by [`ProfileSet::settle`].
    pub(crate) fn finish_light(mut self) -> Result<ProfileSet> {
        self.whole.flush(&mut self.set)?;
        if let Some(w) = &mut self.windows {
            w.stream.flush(&mut self.set)?;
        }
        if let Some(g) = &mut self.groups {
            g.stream.flush(&mut self.set)?;
        }
        Ok(self.set)
    }

    fn check_schema(&self, batch: &RecordBatch) -> Result<()> {
        let got = batch.schema();
        if Arc::ptr_eq(&got, &self.schema) || got.fields() == self.schema.fields() {
            return Ok(());
        }
        let time = self.windows.as_ref().and_then(|w| w.time);
        let keys = self.groups.iter().flat_map(|g| g.columns.iter().filter_map(|c| c.1));
        for index in self.whole.tasks.columns.iter().map(|t| t.index).chain(time).chain(keys) {
            let want = self.schema.field(index);
            match got.fields().get(index) {
                Some(f) if f.name() == want.name() && f.data_type() == want.data_type() => {}
                Some(f) if f.name() == want.name() => {
                    return Err(Error::Schema {
                        column: want.name().clone(),
                        message: format!("expected {}, got {}", want.data_type(), f.data_type()),
                    })
                }
                _ => {
                    return Err(Error::Schema {
                        column: want.name().clone(),
                        message: "missing from the batch (batches of one profiler share a schema)".into(),
                    })
                }
            }
        }
        Ok(())
    }
}

/// Batches folded per profiler by [`profile_batches`]: the unit of parallel work, fixed so that
/// results do not depend on the number of threads.
pub const BATCHES_PER_PROFILER: usize = 16;

/// Profiles `batches` as one unit of work, exactly as the file engine profiles one Parquet row
/// group: one [`Profiler`], fed the rows in slices of [`MAX_BATCH_ROWS`] counted from the
/// unit's first row (the decoder's batches), then finished. A row group handed over in other
/// pieces — a Spark task's 10,000-row batches — thus gives the profile `monitor` makes of it,
/// to the byte; merged in the engine's order (row groups of a file in order, into the file's
/// profile; files in order, into an empty total), the units give the run's profile.
///
/// # Errors
/// As [`Profiler::update`].
pub fn profile_unit(batches: &[RecordBatch], plan: &ProfilePlan, backend: &dyn Backend) -> Result<ProfileSet> {
    let Some(first) = batches.first() else {
        return Ok(ProfileSet::default());
    };
    let schema = first.schema();
    let whole = arrow_select::concat::concat_batches(&schema, batches)
        .map_err(|e| Error::Schema { column: String::new(), message: crate::error::one_line(e) })?;
    let mut p = Profiler::new(plan, schema, backend)?;
    let mut at = 0;
    while at < whole.num_rows() {
        let len = MAX_BATCH_ROWS.min(whole.num_rows() - at);
        p.update(&whole.slice(at, len))?;
        at += len;
    }
    p.finish()
}

/// Profiles batches already in memory (all of one schema): runs of [`BATCHES_PER_PROFILER`]
/// batches are profiled in parallel, and their sets merged in order.
pub fn profile_batches(batches: &[RecordBatch], plan: &ProfilePlan, backend: &dyn Backend) -> Result<ProfileSet> {
    let parts: Vec<Result<ProfileSet>> = batches
        .par_chunks(BATCHES_PER_PROFILER)
        .map(|run| {
            let mut p = Profiler::new(plan, run[0].schema(), backend)?;
            run.iter().try_for_each(|b| p.update(b))?;
            p.finish()
        })
        .collect();
    let mut set = ProfileSet::default();
    for p in parts {
        set.merge(&p?);
    }
    Ok(set)
}
