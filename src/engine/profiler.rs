//! [`Profiler`]: batches in, a [`ProfileSet`] out, through a backend's folder.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Schema, SchemaRef};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::text::apply_column;
use crate::backend::{Backend, BatchFold, ColumnKind, ColumnTask, FoldPlan, Folder, MAX_BATCH_ROWS};
use crate::error::{Error, Result};
use crate::profile::kll::SketchPlan;
use crate::profile::{ColumnProfile, DatasetProfile, Histogram, Role};

/// What rows are keyed by. Every row of a batch goes to the segment its key gives; each segment
/// gets its own profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SegmentKey {
    /// Nothing: all rows in one segment, [`Segment::Whole`].
    #[default]
    Whole,
}

/// The key of one profile in a [`ProfileSet`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Segment {
    /// All rows.
    Whole,
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
        self.columns.as_ref().is_none_or(|c| {
            c.iter().any(|n| n == name || name.strip_prefix(n.as_str()).is_some_and(|rest| rest.starts_with('.')))
        })
    }

    /// The role of a column.
    pub fn role(&self, name: &str, t: &DataType) -> Role {
        self.roles.get(name).copied().unwrap_or_else(|| Role::guess(name, t.is_temporal()))
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
            let mut c = ColumnProfile::new(f.name(), &f.data_type().to_string(), self.role(f.name(), f.data_type()));
            c.histogram = self.edges.get(f.name()).map(|e| Histogram::new(e.to_vec()));
            p.columns.push(c);
        }
        p
    }

    fn fold_plan(&self, schema: &Schema) -> FoldPlan {
        let columns = self
            .projection(schema)
            .into_iter()
            .map(|i| {
                let f = schema.field(i);
                ColumnTask {
                    index: i,
                    kind: ColumnKind::of(f.data_type()),
                    edges: self.edges.get(f.name()).cloned(),
                    histogram_only: self.histogram_only,
                }
            })
            .collect();
        FoldPlan { columns }
    }
}

/// Profiles keyed by segment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProfileSet {
    /// One profile per segment, in key order.
    pub segments: BTreeMap<Segment, DatasetProfile>,
}

impl ProfileSet {
    /// Merges another set: profiles of the same segment merge, others are added.
    pub fn merge(&mut self, other: &ProfileSet) {
        for (k, p) in &other.segments {
            match self.segments.get_mut(k) {
                Some(mine) => mine.merge(p),
                None => {
                    self.segments.insert(k.clone(), p.clone());
                }
            }
        }
    }

    /// The profile of all rows: the [`Segment::Whole`] profile, or the merge of every segment
    /// in key order.
    pub fn into_whole(mut self) -> DatasetProfile {
        if let Some(p) = self.segments.remove(&Segment::Whole) {
            if self.segments.is_empty() {
                return p;
            }
            self.segments.insert(Segment::Whole, p);
        }
        let mut all = DatasetProfile::default();
        for p in self.segments.values() {
            all.merge(p);
        }
        all
    }
}

/// Folds batches of one schema into profiles keyed by segment, on a backend.
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::{Float64Array, RecordBatch};
/// use driftwatch::backend::cpu::CpuBackend;
/// use driftwatch::engine::{ProfilePlan, Profiler};
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
    /// The schema folded: `input` with struct columns flattened.
    schema: SchemaRef,
    tasks: Arc<FoldPlan>,
    histogram_only: bool,
    folder: Box<dyn Folder + 'b>,
    template: DatasetProfile,
    set: ProfileSet,
    in_flight: VecDeque<Segment>,
}

impl std::fmt::Debug for Profiler<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profiler").field("columns", &self.tasks.columns.len()).field("set", &self.set).finish()
    }
}

impl<'b> Profiler<'b> {
    /// A profiler of the batches of `schema`, folding on `backend`.
    pub fn new(plan: &ProfilePlan, input: SchemaRef, backend: &'b dyn Backend) -> Result<Self> {
        let schema = flat_schema(&input);
        let tasks = Arc::new(plan.fold_plan(&schema));
        let folder = backend.folder(tasks.clone())?;
        let template = plan.empty_profile(&input);
        let mut set = ProfileSet::default();
        match plan.segment {
            SegmentKey::Whole => {
                set.segments.insert(Segment::Whole, template.clone());
            }
        }
        Ok(Profiler {
            input,
            schema,
            tasks,
            histogram_only: plan.histogram_only,
            folder,
            template,
            set,
            in_flight: VecDeque::new(),
        })
    }

    /// Folds one batch. It must have the profiler's schema (the planned columns, with the same
    /// names and types). Batches longer than [`MAX_BATCH_ROWS`] are folded in slices of that
    /// many rows.
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
        let segment = Segment::Whole;
        let profile = self.set.segments.entry(segment.clone()).or_insert_with(|| self.template.clone());
        let sketches: Vec<Option<SketchPlan>> =
            self.tasks.columns.iter().zip(&profile.columns).map(|(t, c)| t.sketched().then(|| c.kll.plan())).collect();
        self.in_flight.push_back(segment);
        let done = self.folder.push(batch, &sketches)?;
        done.into_iter().for_each(|f| self.apply(f));
        Ok(())
    }

    /// Completes the batches in flight and returns the profiles.
    pub fn finish(mut self) -> Result<ProfileSet> {
        let done = self.folder.flush()?;
        done.into_iter().for_each(|f| self.apply(f));
        debug_assert!(self.in_flight.is_empty());
        Ok(self.set)
    }

    fn check_schema(&self, batch: &RecordBatch) -> Result<()> {
        let got = batch.schema();
        if Arc::ptr_eq(&got, &self.schema) || got.fields() == self.schema.fields() {
            return Ok(());
        }
        for t in &self.tasks.columns {
            let want = self.schema.field(t.index);
            match got.fields().get(t.index) {
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

    fn apply(&mut self, fold: BatchFold) {
        let segment = self.in_flight.pop_front().expect("a fold per pushed batch");
        let profile = self.set.segments.get_mut(&segment).expect("segment created on push");
        profile.rows += fold.batch.num_rows() as u64;
        let histogram_only = self.histogram_only;
        let batch = &fold.batch;
        profile
            .columns
            .par_iter_mut()
            .zip(self.tasks.columns.par_iter())
            .zip(fold.columns.into_par_iter())
            .for_each(|((col, task), f)| apply_column(col, batch.column(task.index), f, histogram_only));
    }
}

/// Batches folded per profiler by [`profile_batches`]: the unit of parallel work, fixed so that
/// results do not depend on the number of threads.
pub const BATCHES_PER_PROFILER: usize = 16;

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
