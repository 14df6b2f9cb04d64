//! [`GpuFolder`]: one submission per batch, two batches in flight.
//!
//! The host does what is cheap where the data is decoded, in one pass per column shared with
//! the CPU backend ([`crate::backend::cpu::split_finite`] and the moments): nulls, NaN and ±∞
//! are counted, the finite values summed and uploaded. The device then bins them over the
//! edges (`histogram.wgsl`), counts dictionary keys (`categorical.wgsl`) and sorts every
//! sketched column (`sort.wgsl`), all recorded in one command buffer; the counts and the sorted
//! values are copied to a mapped buffer in the same submission. While the device works on a
//! batch, the host prepares and uploads the next one into the other set of buffers; a set is
//! waited for only when it is needed again, and only its own submission is waited for, with no
//! lock held.
//!
//! A batch pushed in groups of rows (a time window's each) is counted per group: the host's
//! pass runs group by group and uploads the groups' finite values one after the other with
//! where each group ends; the kernels find a value's group by binary search over those ends
//! and count it at (group, bin) or (group, key). A batch whose groups need more than
//! `SUBMISSION_COUNTERS` (4M) counters goes in several submissions of consecutive groups.
//!
//! Buffers, bind groups, the bin edges and the sort's step parameters are made once per plan;
//! a finished folder hands them to the next folder of the same plan.

use std::ops::Range;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::{Array, ArrayRef, RecordBatch};
use rayon::prelude::*;

use super::layout::{f64_key, HISTOGRAM_MAX_BINS, SORT_BLOCK, WORKGROUP};
use super::layout::{key_to_f64, HistogramColumn, KeyColumn, SortColumn, SortStep};
use super::{map_read, Context, GpuBackend, MapReport};
use crate::backend::cpu::{as_f64, numeric_host_pass};
use crate::backend::{
    check_groups, BatchFold, Bins, ColumnFold, ColumnKind, FoldPlan, Folder, SketchFeed, MAX_BATCH_ROWS,
};
use crate::error::backend::BackendError;
use crate::error::Result;
use crate::profile::kll::{SketchPlan, MIN_BATCH};

/// Binding names of `core/shaders/histogram.wgsl`, in order, checked against the shader by a test.
pub const HISTOGRAM_BINDINGS: &[&str] = &["columns", "values", "edges", "counts", "bounds"];
/// Binding names of `core/shaders/categorical.wgsl`.
pub const CATEGORICAL_BINDINGS: &[&str] = &["columns", "keys", "counts", "bounds"];
/// Binding names of `core/shaders/sort.wgsl`.
pub const SORT_BINDINGS: &[&str] = &["step", "columns", "values", "keys"];
/// Values each invocation of the histogram and categorical kernels handles, on average.
const PER_INVOCATION: usize = 16;
/// A key that sorts after every value's (padding, and null dictionary keys).
const NO_KEY: u32 = u32::MAX;
/// Most histogram and key counters of one submission: a batch with more groups (windows) than
/// fit is folded in several submissions of consecutive groups.
const SUBMISSION_COUNTERS: usize = 1 << 22;

/// Where a task's data lives in the buffers.
#[derive(Debug, Clone, Copy, Default)]
struct Place {
    /// Numeric: its region of the values buffer (in f64s).
    values_at: Option<u32>,
    /// Numeric with edges: its entry in the histogram's column list.
    binned: Option<usize>,
    /// Numeric with a sketch: its entry in the sort's column list.
    sorted: Option<usize>,
    /// Dictionary: its entry in the categorical column list.
    keyed: Option<usize>,
}

/// The layout of a plan's buffers.
#[derive(Debug, Clone)]
struct Layout {
    places: Vec<Place>,
    /// Histogram columns, each with its edges and bins placed.
    histogram: Vec<HistogramColumn>,
    n_numeric: usize,
    n_keyed: usize,
    n_sorted: usize,
    /// Bins of every histogram column.
    bins: usize,
    max_rows: usize,
}

impl Layout {
    fn of(plan: &FoldPlan, max_rows: usize) -> Result<Layout> {
        let mut l = Layout {
            places: Vec::new(),
            histogram: Vec::new(),
            n_numeric: 0,
            n_keyed: 0,
            n_sorted: 0,
            bins: 0,
            max_rows,
        };
        let mut edges_at = 0usize;
        for t in &plan.columns {
            let mut p = Place::default();
            match t.kind {
                ColumnKind::Numeric { .. } if t.edges.is_some() || t.sketched() => {
                    p.values_at = Some((l.n_numeric * max_rows) as u32);
                    l.n_numeric += 1;
                    if let Some(e) = &t.edges {
                        if e.len() + 1 > HISTOGRAM_MAX_BINS {
                            return Err(BackendError::Unfit(format!(
                                "{} bins exceed the GPU histogram's {HISTOGRAM_MAX_BINS}",
                                e.len() + 1
                            ))
                            .into());
                        }
                        p.binned = Some(l.histogram.len());
                        l.histogram.push(HistogramColumn {
                            values_at: p.values_at.unwrap_or(0),
                            n: 0,
                            edges_at: edges_at as u32,
                            n_edges: e.len() as u32,
                            counts_at: l.bins as u32,
                            bounds_at: 0,
                            n_groups: 1,
                            _pad: 0,
                        });
                        edges_at += e.len();
                        l.bins += e.len() + 1;
                    }
                    if t.sketched() {
                        p.sorted = Some(l.n_sorted);
                        l.n_sorted += 1;
                    }
                }
                ColumnKind::Keys => {
                    p.keyed = Some(l.n_keyed);
                    l.n_keyed += 1;
                }
                _ => {}
            }
            l.places.push(p);
        }
        Ok(l)
    }

    /// Bytes of the largest binding.
    fn largest_binding(&self) -> u64 {
        let values = (self.n_numeric * self.max_rows * 8) as u64;
        let keys = (self.n_sorted * self.max_rows * 8) as u64;
        let dict = (self.n_keyed * self.max_rows * 4) as u64;
        values.max(keys).max(dict)
    }
}

/// One set of buffers: a batch is prepared, computed and read back in it.
struct Slot {
    values: wgpu::Buffer,
    hist_columns: wgpu::Buffer,
    hist_counts: wgpu::Buffer,
    /// Capacity of `hist_counts`, in counts (a batch of many groups needs more).
    bin_capacity: usize,
    /// Where each group's values or rows end, for columns folded in groups.
    bounds: wgpu::Buffer,
    bound_capacity: usize,
    keys: wgpu::Buffer,
    key_columns: wgpu::Buffer,
    key_counts: wgpu::Buffer,
    /// Capacity of `key_counts`, in counts (dictionaries vary in size from batch to batch).
    key_capacity: usize,
    sort_columns: wgpu::Buffer,
    sort_keys: wgpu::Buffer,
    readback: wgpu::Buffer,
    histogram_bind: wgpu::BindGroup,
    categorical_bind: wgpu::BindGroup,
    sort_bind: wgpu::BindGroup,
    pending: Option<Pending>,
}

/// A batch in flight in a slot.
struct Pending {
    submission: wgpu::SubmissionIndex,
    batch: RecordBatch,
    groups: Vec<Range<usize>>,
    /// The host's part of each column's fold, per group.
    folds: Vec<Vec<ColumnFold>>,
    /// Per histogram column: where its bins start in the readback (in counts).
    binned: Vec<usize>,
    /// Per sorted column: values read back (0 when the host keeps them), and where (bytes).
    sorted: Vec<(usize, u64)>,
    /// Per dictionary column: its size and where its counts start in the readback (bytes).
    keyed: Vec<(usize, u64)>,
    readback_len: u64,
    mapped: MapReport,
}

/// Everything a folder of one plan allocates once.
pub struct Resources {
    plan: Arc<FoldPlan>,
    layout: Layout,
    /// The sort's step parameters, one per dispatch, at `step_stride` bytes apart (held with the
    /// bind groups that use them, as are the edges).
    _steps: wgpu::Buffer,
    step_stride: u64,
    /// `(k, j)` of each step, in recording order (the first is the local sort's).
    step_list: Vec<(usize, usize)>,
    edges: wgpu::Buffer,
    slots: [Slot; 2],
}

/// Host buffers of one task, reused from batch to batch.
#[derive(Default)]
struct Scratch {
    /// A group's finite values.
    finite: Vec<f64>,
    /// Every group's finite values, one group after the other.
    grouped: Vec<f64>,
    keys: Vec<u32>,
}

/// Folds a stream of batches on the GPU.
pub struct GpuFolder<'b> {
    gpu: &'b GpuBackend,
    res: Option<Resources>,
    /// Per task: host buffers reused from batch to batch.
    scratch: Vec<Scratch>,
    /// The slot the next batch goes to (the other one holds the previous batch).
    next_slot: usize,
}

fn buffer(ctx: &Context, label: &str, size: usize, usage: wgpu::BufferUsages) -> wgpu::Buffer {
    ctx.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: (size.max(64) as u64).next_multiple_of(16),
        usage,
        mapped_at_creation: false,
    })
}

pub(super) fn bind(
    ctx: &Context,
    label: &str,
    layout: &wgpu::BindGroupLayout,
    entries: &[wgpu::BindingResource],
) -> wgpu::BindGroup {
    let entries: Vec<wgpu::BindGroupEntry> = entries
        .iter()
        .enumerate()
        .map(|(i, r)| wgpu::BindGroupEntry { binding: i as u32, resource: r.clone() })
        .collect();
    ctx.device.create_bind_group(&wgpu::BindGroupDescriptor { label: Some(label), layout, entries: &entries })
}

use wgpu::BufferUsages as U;

impl Slot {
    fn new(ctx: &Context, l: &Layout, edges: &wgpu::Buffer, steps: &wgpu::Buffer) -> Slot {
        let (key_capacity, bin_capacity, bound_capacity) = (1024, l.bins, 64);
        let values = buffer(ctx, "fold.values", l.n_numeric * l.max_rows * 8, U::STORAGE | U::COPY_DST);
        let hist_columns = buffer(ctx, "fold.histogram_columns", l.histogram.len() * 32, U::STORAGE | U::COPY_DST);
        let hist_counts = Self::counts(ctx, "fold.histogram_counts", bin_capacity);
        let bounds = buffer(ctx, "fold.bounds", bound_capacity * 4, U::STORAGE | U::COPY_DST);
        let keys = buffer(ctx, "fold.keys", l.n_keyed * l.max_rows * 4, U::STORAGE | U::COPY_DST);
        let key_columns = buffer(ctx, "fold.key_columns", l.n_keyed * 32, U::STORAGE | U::COPY_DST);
        let key_counts = Self::counts(ctx, "fold.key_counts", key_capacity);
        let sort_columns = buffer(ctx, "fold.sort_columns", l.n_sorted * 16, U::STORAGE | U::COPY_DST);
        let sort_keys = buffer(ctx, "fold.sort_keys", l.n_sorted * l.max_rows * 8, U::STORAGE | U::COPY_SRC);
        let readback = Self::readback(ctx, l, bin_capacity, key_capacity);
        let histogram_bind = Self::histogram_bind(ctx, &hist_columns, &values, edges, &hist_counts, &bounds);
        let categorical_bind = Self::categorical_bind(ctx, &key_columns, &keys, &key_counts, &bounds);
        let sort_bind = bind(
            ctx,
            "sort",
            &ctx.sort.layout,
            &[
                wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: steps,
                    offset: 0,
                    size: wgpu::BufferSize::new(std::mem::size_of::<SortStep>() as u64),
                }),
                sort_columns.as_entire_binding(),
                values.as_entire_binding(),
                sort_keys.as_entire_binding(),
            ],
        );
        Slot {
            values,
            hist_columns,
            hist_counts,
            bin_capacity,
            bounds,
            bound_capacity,
            keys,
            key_columns,
            key_counts,
            key_capacity,
            sort_columns,
            sort_keys,
            readback,
            histogram_bind,
            categorical_bind,
            sort_bind,
            pending: None,
        }
    }

    fn counts(ctx: &Context, label: &str, n: usize) -> wgpu::Buffer {
        buffer(ctx, label, n * 4, U::STORAGE | U::COPY_SRC | U::COPY_DST)
    }

    fn readback(ctx: &Context, l: &Layout, bins: usize, keys: usize) -> wgpu::Buffer {
        buffer(ctx, "fold.readback", bins * 4 + keys * 4 + l.n_sorted * l.max_rows * 8, U::MAP_READ | U::COPY_DST)
    }

    fn histogram_bind(
        ctx: &Context,
        columns: &wgpu::Buffer,
        values: &wgpu::Buffer,
        edges: &wgpu::Buffer,
        counts: &wgpu::Buffer,
        bounds: &wgpu::Buffer,
    ) -> wgpu::BindGroup {
        bind(
            ctx,
            "histogram",
            &ctx.histogram.get_bind_group_layout(0),
            &[
                columns.as_entire_binding(),
                values.as_entire_binding(),
                edges.as_entire_binding(),
                counts.as_entire_binding(),
                bounds.as_entire_binding(),
            ],
        )
    }

    fn categorical_bind(
        ctx: &Context,
        columns: &wgpu::Buffer,
        keys: &wgpu::Buffer,
        counts: &wgpu::Buffer,
        bounds: &wgpu::Buffer,
    ) -> wgpu::BindGroup {
        bind(
            ctx,
            "categorical",
            &ctx.categorical.get_bind_group_layout(0),
            &[
                columns.as_entire_binding(),
                keys.as_entire_binding(),
                counts.as_entire_binding(),
                bounds.as_entire_binding(),
            ],
        )
    }

    /// Makes room for `bins` histogram counts, `keys` dictionary counts and `bounds` group ends
    /// (the slot is idle): dictionaries and groups vary from batch to batch.
    fn reserve(&mut self, ctx: &Context, l: &Layout, edges: &wgpu::Buffer, bins: usize, keys: usize, bounds: usize) {
        let mut grown = false;
        if bins > self.bin_capacity {
            self.bin_capacity = bins.next_power_of_two();
            self.hist_counts = Self::counts(ctx, "fold.histogram_counts", self.bin_capacity);
            grown = true;
        }
        if keys > self.key_capacity {
            self.key_capacity = keys.next_power_of_two();
            self.key_counts = Self::counts(ctx, "fold.key_counts", self.key_capacity);
            grown = true;
        }
        if bounds > self.bound_capacity {
            self.bound_capacity = bounds.next_power_of_two();
            self.bounds = buffer(ctx, "fold.bounds", self.bound_capacity * 4, U::STORAGE | U::COPY_DST);
            grown = true;
        }
        if grown {
            self.readback = Self::readback(ctx, l, self.bin_capacity, self.key_capacity);
            self.histogram_bind =
                Self::histogram_bind(ctx, &self.hist_columns, &self.values, edges, &self.hist_counts, &self.bounds);
            self.categorical_bind =
                Self::categorical_bind(ctx, &self.key_columns, &self.keys, &self.key_counts, &self.bounds);
        }
    }
}

impl Resources {
    fn new(ctx: &Context, plan: Arc<FoldPlan>) -> Result<Resources> {
        let limit = ctx.limits.max_storage_buffer_binding_size.min(ctx.limits.max_buffer_size);
        let rows = MAX_BATCH_ROWS;
        let layout = Layout::of(&plan, rows)?;
        if layout.largest_binding() > limit {
            return Err(BackendError::Unfit(format!(
                "{} numeric columns need more than this GPU's largest binding ({} MiB): profile fewer columns or use the CPU backend",
                layout.n_numeric,
                limit >> 20
            ))
            .into());
        }
        // The edges of the binned columns, in the order the layout placed them (text columns
        // with edges are binned on the host, value by distinct value).
        let all_edges: Vec<[u32; 2]> = plan
            .columns
            .iter()
            .zip(&layout.places)
            .filter(|(_, p)| p.binned.is_some())
            .flat_map(|(t, _)| t.edges.iter().flat_map(|e| e.iter().map(|&x| f64_key(x))))
            .collect();
        let edges = buffer(ctx, "fold.edges", all_edges.len() * 8, U::STORAGE | U::COPY_DST);
        if !all_edges.is_empty() {
            ctx.queue.write_buffer(&edges, 0, bytemuck::cast_slice(&all_edges));
        }
        // The sort's steps for the largest region; a smaller region uses a prefix of them.
        let mut step_list = vec![(0usize, 0usize)];
        let mut k = 2 * SORT_BLOCK;
        while k <= rows {
            let mut j = k / 2;
            while j >= SORT_BLOCK {
                step_list.push((k, j));
                j /= 2;
            }
            step_list.push((k, 0));
            k *= 2;
        }
        let step_stride =
            (std::mem::size_of::<SortStep>() as u64).max(ctx.limits.min_uniform_buffer_offset_alignment as u64);
        let mut bytes = vec![0u8; step_list.len() * step_stride as usize];
        for (i, &(k, j)) in step_list.iter().enumerate() {
            let s = SortStep { k: k as u32, j: j as u32, _pad: [0; 2] };
            let at = i * step_stride as usize;
            bytes[at..at + 16].copy_from_slice(bytemuck::bytes_of(&s));
        }
        let steps = buffer(ctx, "fold.sort_steps", bytes.len(), U::UNIFORM | U::COPY_DST);
        ctx.queue.write_buffer(&steps, 0, &bytes);
        let slots = [Slot::new(ctx, &layout, &edges, &steps), Slot::new(ctx, &layout, &edges, &steps)];
        Ok(Resources { plan, layout, _steps: steps, step_stride, step_list, edges, slots })
    }
}

impl<'b> GpuFolder<'b> {
    /// A folder for `plan`, with the buffers of a finished folder of the same plan when there is
    /// one.
    pub fn new(gpu: &'b GpuBackend, plan: Arc<FoldPlan>) -> Result<GpuFolder<'b>> {
        let reused = {
            let mut spare = gpu.spare.lock().map_err(|_| BackendError::Stalled("buffer list poisoned"))?;
            spare.iter().position(|r| r.plan == plan).map(|i| spare.swap_remove(i))
        };
        let res = match reused {
            Some(r) => r,
            None => Resources::new(&gpu.ctx, plan.clone())?,
        };
        let scratch = plan.columns.iter().map(|_| Scratch::default()).collect();
        Ok(GpuFolder { gpu, res: Some(res), scratch, next_slot: 0 })
    }

    fn res(&mut self) -> &mut Resources {
        self.res.as_mut().expect("resources held until drop")
    }

    /// Waits for a slot's batch and reads its results.
    fn complete(&mut self, slot: usize) -> Result<Option<BatchFold>> {
        let ctx = &self.gpu.ctx;
        let res = self.res.as_mut().expect("resources held until drop");
        let Some(p) = res.slots[slot].pending.take() else { return Ok(None) };
        ctx.wait_mapped(p.submission, &p.mapped)?;
        let readback = &res.slots[slot].readback;
        let mut folds = p.folds;
        {
            let view = readback
                .slice(..p.readback_len.max(4))
                .get_mapped_range()
                .map_err(|e| BackendError::Failed { step: "readback", source: e.into() })?;
            let words: &[u32] = bytemuck::cast_slice(&view);
            for (i, groups) in folds.iter_mut().enumerate() {
                let place = res.layout.places[i];
                for (g, fold) in groups.iter_mut().enumerate() {
                    match fold {
                        ColumnFold::Numeric(f) => {
                            if let (Some(h), Some(bins)) = (place.binned, f.bins.as_mut()) {
                                let len = res.plan.columns[i].edges.as_ref().map_or(0, |e| e.len() + 1);
                                let at = p.binned[h] + g * len;
                                let counts = &words[at..at + len];
                                match bins {
                                    Bins::Dense(b) => b.iter_mut().zip(counts).for_each(|(b, &c)| *b = c as u64),
                                    Bins::Few(few) => {
                                        let touched = counts.iter().enumerate().filter(|e| *e.1 > 0);
                                        *few = touched.map(|(i, &c)| (i as u32, u64::from(c))).collect();
                                    }
                                }
                            }
                            if let Some(s) = place.sorted {
                                let (n, at) = p.sorted[s];
                                if n > 0 {
                                    let w = &words[at as usize / 4..at as usize / 4 + 2 * n];
                                    let sorted: Vec<f64> = w.chunks_exact(2).map(|k| key_to_f64(k[0], k[1])).collect();
                                    f.sketch = SketchFeed::Sorted(sorted);
                                }
                            }
                        }
                        ColumnFold::Keys(counts) => {
                            if let Some(q) = place.keyed {
                                let (n, at) = p.keyed[q];
                                let at = at as usize / 4 + g * n;
                                *counts = words[at..at + n].iter().map(|&c| c as u64).collect();
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        readback.unmap();
        Ok(Some(BatchFold { batch: p.batch, groups: p.groups, columns: folds }))
    }

    /// Prepares, uploads and submits one batch whose groups' counters fit one submission: the
    /// host's pass over each column ([`host_pass`]), the kernels' column descriptors
    /// ([`Descriptors::of`]), the dispatches ([`encode`]) and the copies to the mapped buffer
    /// ([`Readback::encode`]), in one command buffer.
    fn submit(&mut self, batch: &RecordBatch, groups: &[Range<usize>]) -> Result<Vec<BatchFold>> {
        let slot = self.next_slot;
        self.next_slot = 1 - slot;
        let mut done = Vec::new();
        if let Some(f) = self.complete(slot)? {
            done.push(f);
        }
        let ctx = &self.gpu.ctx;
        let res = self.res.as_mut().expect("resources held until drop");
        let plan = res.plan.clone();
        let layout = &res.layout;
        // The host's pass over each column, a group at a time, uploading as it goes (the queue
        // takes writes from any thread; they land before this batch's submission).
        let buffers = (&res.slots[slot].values, &res.slots[slot].keys);
        let prepared: Vec<Prepared> = plan
            .columns
            .par_iter()
            .zip(self.scratch.par_iter_mut())
            .zip(layout.places.par_iter())
            .map(|((task, scratch), place)| {
                host_pass(ctx, buffers, layout.max_rows, (task, scratch, place), batch.column(task.index), groups)
            })
            .collect();
        let d = Descriptors::of(&prepared, layout, groups);
        let layout = layout.clone();
        let bins_total = layout.bins * groups.len();
        let Resources { slots, edges, step_list, step_stride, .. } = res;
        slots[slot].reserve(ctx, &layout, edges, bins_total, d.key_total, d.bounds.len());
        let s = &slots[slot];
        d.upload(ctx, s);
        let mut enc = encode(ctx, s, (step_list, *step_stride), &d, bins_total);
        let readback = Readback::encode(&mut enc, s, &d, bins_total);
        let submission = ctx.queue.submit([enc.finish()]);
        let readback_len = readback.len.max(4);
        let mapped = map_read(s.readback.slice(..readback_len));
        let res = self.res();
        res.slots[slot].pending = Some(Pending {
            submission,
            batch: batch.clone(),
            groups: groups.to_vec(),
            folds: prepared.into_iter().map(|p| p.folds).collect(),
            binned: d.hist_columns.iter().map(|c| c.counts_at as usize).collect(),
            sorted: readback.sorted,
            keyed: readback.keyed,
            readback_len,
            mapped,
        });
        Ok(done)
    }
}

/// One column after the host's pass: its fold per group, the values (or keys) uploaded, and
/// where each group's values end (numeric columns folded in groups).
struct Prepared {
    folds: Vec<ColumnFold>,
    n: usize,
    ends: Vec<u32>,
}

/// The host's pass over one column of a batch, a group at a time: nulls, NaN and ±∞ counted and
/// moments summed (the CPU backend's own routine), finite values (or dictionary keys) uploaded
/// to this slot's `(values, keys)` buffers at the column's place.
fn host_pass(
    ctx: &Context,
    (values_buf, keys_buf): (&wgpu::Buffer, &wgpu::Buffer),
    max_rows: usize,
    (task, scratch, place): (&crate::backend::ColumnTask, &mut Scratch, &Place),
    array: &ArrayRef,
    groups: &[Range<usize>],
) -> Prepared {
    let n_groups = groups.len();
    let host = || Prepared { folds: vec![ColumnFold::Host; n_groups], n: 0, ends: Vec::new() };
    match task.kind {
        ColumnKind::Numeric { .. } => {
            let Some(values) = as_f64(array) else { return host() };
            let Scratch { finite, grouped, .. } = scratch;
            let mut folds = Vec::with_capacity(n_groups);
            let mut ends = Vec::new();
            let upload: &[f64] = if n_groups == 1 {
                folds.push(ColumnFold::Numeric(Box::new(numeric_host_pass(&values, task, finite))));
                finite
            } else {
                grouped.clear();
                for g in groups {
                    let fold = numeric_host_pass(&values.slice(g.start, g.len()), task, finite);
                    folds.push(ColumnFold::Numeric(Box::new(fold)));
                    grouped.extend_from_slice(finite);
                    ends.push(grouped.len() as u32);
                }
                grouped
            };
            if let Some(at) = place.values_at.filter(|_| !upload.is_empty()) {
                ctx.queue.write_buffer(values_buf, at as u64 * 8, bytemuck::cast_slice(upload));
            }
            Prepared { folds, n: upload.len(), ends }
        }
        ColumnKind::Keys => {
            let keys = &mut scratch.keys;
            let n_keys = dictionary_keys(array, keys);
            if let Some(q) = place.keyed.filter(|_| !keys.is_empty()) {
                let at = (q * max_rows * 4) as u64;
                ctx.queue.write_buffer(keys_buf, at, bytemuck::cast_slice(keys));
            }
            Prepared { folds: vec![ColumnFold::Keys(vec![0; n_keys]); n_groups], n: keys.len(), ends: Vec::new() }
        }
        ColumnKind::Boolean => {
            let folds = groups
                .iter()
                .map(|g| {
                    let part = array.slice(g.start, g.len());
                    let b = part.as_boolean();
                    ColumnFold::Boolean { trues: b.true_count() as u64, falses: b.false_count() as u64 }
                })
                .collect();
            Prepared { folds, n: 0, ends: Vec::new() }
        }
        ColumnKind::Host => host(),
    }
}

/// What the kernels are told of one batch: each kernel's column descriptors (dictionary sizes
/// and group ends vary from batch to batch, so their counts are placed now), the group ends,
/// and the sizes the dispatches need.
struct Descriptors {
    hist_columns: Vec<HistogramColumn>,
    key_columns: Vec<KeyColumn>,
    sort_columns: Vec<SortColumn>,
    bounds: Vec<u32>,
    key_total: usize,
    max_keys: usize,
    max_binned: usize,
    max_sorted: usize,
}

impl Descriptors {
    fn of(prepared: &[Prepared], layout: &Layout, groups: &[Range<usize>]) -> Descriptors {
        let n_groups = groups.len();
        let mut d = Descriptors {
            hist_columns: layout.histogram.clone(),
            key_columns: Vec::with_capacity(layout.n_keyed),
            sort_columns: Vec::with_capacity(layout.n_sorted),
            bounds: Vec::new(),
            key_total: 0,
            max_keys: 0,
            max_binned: 0,
            max_sorted: 0,
        };
        // The key-count kernel's group ends are the rows' (first in `bounds`); each histogram
        // column's are its finite values' (after them).
        let row_bounds_at = 0u32;
        if n_groups > 1 {
            d.bounds.extend(groups.iter().map(|g| g.end as u32));
        }
        for (p, place) in prepared.iter().zip(&layout.places) {
            if let (Some(q), Some(ColumnFold::Keys(c))) = (place.keyed, p.folds.first()) {
                d.key_columns.push(KeyColumn {
                    keys_at: (q * layout.max_rows) as u32,
                    n: p.n as u32,
                    n_keys: c.len() as u32,
                    counts_at: d.key_total as u32,
                    bounds_at: row_bounds_at,
                    n_groups: n_groups as u32,
                    _pad: [0; 2],
                });
                d.key_total += c.len() * n_groups;
                d.max_keys = d.max_keys.max(p.n);
            }
            if let Some(h) = place.binned {
                let col = &mut d.hist_columns[h];
                col.n = p.n as u32;
                // Every column's bins for every group: the layout's regions, each n_groups long.
                col.counts_at *= n_groups as u32;
                col.n_groups = n_groups as u32;
                col.bounds_at = d.bounds.len() as u32;
                d.bounds.extend_from_slice(&p.ends);
                d.max_binned = d.max_binned.max(p.n);
            }
            if let Some(si) = place.sorted {
                d.sort_columns.push(SortColumn {
                    values_at: place.values_at.unwrap_or(0),
                    n: p.n as u32,
                    keys_at: (si * layout.max_rows) as u32,
                    _pad: 0,
                });
                d.max_sorted = d.max_sorted.max(p.n);
            }
        }
        d
    }

    /// Writes the descriptors and the group ends to the slot's buffers.
    fn upload(&self, ctx: &Context, s: &Slot) {
        if !self.hist_columns.is_empty() {
            ctx.queue.write_buffer(&s.hist_columns, 0, bytemuck::cast_slice(&self.hist_columns));
        }
        if !self.key_columns.is_empty() {
            ctx.queue.write_buffer(&s.key_columns, 0, bytemuck::cast_slice(&self.key_columns));
        }
        if !self.sort_columns.is_empty() {
            ctx.queue.write_buffer(&s.sort_columns, 0, bytemuck::cast_slice(&self.sort_columns));
        }
        if !self.bounds.is_empty() {
            ctx.queue.write_buffer(&s.bounds, 0, bytemuck::cast_slice(&self.bounds));
        }
    }
}

/// Records the batch's kernels into a new command encoder: the counters cleared, then the
/// histogram, key-count and sort dispatches in one compute pass (the sort's steps up to the
/// region that holds the largest sorted column).
fn encode(
    ctx: &Context,
    s: &Slot,
    (step_list, step_stride): (&[(usize, usize)], u64),
    d: &Descriptors,
    bins_total: usize,
) -> wgpu::CommandEncoder {
    let mut enc = ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("fold") });
    enc.clear_buffer(&s.hist_counts, 0, Some(bins_total.max(1) as u64 * 4));
    enc.clear_buffer(&s.key_counts, 0, Some(d.key_total.max(1) as u64 * 4));
    // The region each column is sorted in: the smallest power of two that holds the largest.
    let region = d.max_sorted.max(SORT_BLOCK).next_power_of_two();
    let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("fold"), timestamp_writes: None });
    if d.max_binned > 0 {
        pass.set_pipeline(&ctx.histogram);
        pass.set_bind_group(0, &s.histogram_bind, &[]);
        pass.dispatch_workgroups(ctx.workgroups(d.max_binned, PER_INVOCATION), d.hist_columns.len() as u32, 1);
    }
    if d.max_keys > 0 && d.key_total > 0 {
        pass.set_pipeline(&ctx.categorical);
        pass.set_bind_group(0, &s.categorical_bind, &[]);
        pass.dispatch_workgroups(ctx.workgroups(d.max_keys, PER_INVOCATION), d.key_columns.len() as u32, 1);
    }
    if d.max_sorted >= MIN_BATCH {
        let cols = d.sort_columns.len() as u32;
        let blocks = (region / SORT_BLOCK) as u32;
        let pairs_groups = (region / 2 / WORKGROUP as usize) as u32;
        for (i, &(k, j)) in step_list.iter().enumerate() {
            if k > region {
                break;
            }
            let offset = (i as u64 * step_stride) as u32;
            let (pipeline, x) = match (k, j) {
                (0, _) => (&ctx.sort.local_sort, blocks),
                (_, 0) => (&ctx.sort.local_merge, blocks),
                _ => (&ctx.sort.global_step, pairs_groups),
            };
            pass.set_pipeline(pipeline);
            pass.set_bind_group(0, &s.sort_bind, &[offset]);
            pass.dispatch_workgroups(x, cols, 1);
        }
    }
    drop(pass);
    enc
}

/// Where a batch's results land in the mapped buffer: bins, key counts, then each sorted
/// column's values.
struct Readback {
    /// Per dictionary column: its size and where its counts start (bytes).
    keyed: Vec<(usize, u64)>,
    /// Per sorted column: values read back (0 when the host keeps them), and where (bytes).
    sorted: Vec<(usize, u64)>,
    /// Bytes in all.
    len: u64,
}

impl Readback {
    /// Records the copies of the results to the slot's mapped buffer.
    fn encode(enc: &mut wgpu::CommandEncoder, s: &Slot, d: &Descriptors, bins_total: usize) -> Readback {
        let mut at = 0u64;
        let bins_bytes = (bins_total * 4) as u64;
        if bins_bytes > 0 {
            enc.copy_buffer_to_buffer(&s.hist_counts, 0, &s.readback, 0, bins_bytes);
        }
        at += bins_bytes;
        let keyed = d.key_columns.iter().map(|c| (c.n_keys as usize, at + c.counts_at as u64 * 4)).collect();
        if d.key_total > 0 {
            enc.copy_buffer_to_buffer(&s.key_counts, 0, &s.readback, at, d.key_total as u64 * 4);
        }
        at += d.key_total as u64 * 4;
        let mut sorted = Vec::with_capacity(d.sort_columns.len());
        for c in &d.sort_columns {
            let n = c.n as usize;
            if n >= MIN_BATCH {
                let bytes = n as u64 * 8;
                enc.copy_buffer_to_buffer(&s.sort_keys, c.keys_at as u64 * 8, &s.readback, at, bytes);
                sorted.push((n, at));
                at += bytes;
            } else {
                sorted.push((0, 0));
            }
        }
        Readback { keyed, sorted, len: at }
    }
}

/// Keys of a text dictionary as u32, with null keys as [`NO_KEY`]; the dictionary's size.
fn dictionary_keys(array: &ArrayRef, out: &mut Vec<u32>) -> usize {
    out.clear();
    let Some(dict) = array.as_any_dictionary_opt() else { return 0 };
    if dict.values().is_empty() {
        // No entry: every key is null (Arrow's key normalization needs an entry).
        return 0;
    }
    let nulls = dict.keys().logical_nulls();
    if let Some(d) = array.as_dictionary_opt::<Int32Type>() {
        out.extend(d.keys().values().iter().map(|&k| k as u32));
    } else {
        out.extend(dict.normalized_keys().into_iter().map(|k| k as u32));
    }
    if let Some(n) = nulls {
        for (k, valid) in out.iter_mut().zip(n.iter()) {
            if !valid {
                *k = NO_KEY;
            }
        }
    }
    dict.values().len()
}

impl Folder for GpuFolder<'_> {
    fn push(
        &mut self,
        batch: &RecordBatch,
        groups: &[Range<usize>],
        _sketches: &[Option<SketchPlan>],
    ) -> Result<Vec<BatchFold>> {
        let res = self.res.as_ref().expect("resources held until drop");
        check_groups(&res.plan, batch.num_rows(), groups)?;
        if batch.num_rows() > MAX_BATCH_ROWS {
            return Err(BackendError::Unfit(format!(
                "a batch of {} rows exceeds the {MAX_BATCH_ROWS} a folder takes (the profiler slices batches)",
                batch.num_rows()
            ))
            .into());
        }
        // The counters of one group: every histogram's bins and every dictionary's keys.
        let keys: usize = res
            .plan
            .columns
            .iter()
            .filter(|t| t.kind == ColumnKind::Keys)
            .filter_map(|t| batch.column(t.index).as_any_dictionary_opt().map(|d| d.values().len()))
            .sum();
        let most = (SUBMISSION_COUNTERS / (res.layout.bins + keys).max(1)).max(1);
        if groups.len() <= most {
            return self.submit(batch, groups);
        }
        let mut done = Vec::new();
        for chunk in groups.chunks(most) {
            let (from, to) = (chunk[0].start, chunk[chunk.len() - 1].end);
            let shifted: Vec<Range<usize>> = chunk.iter().map(|g| g.start - from..g.end - from).collect();
            done.extend(self.submit(&batch.slice(from, to - from), &shifted)?);
        }
        Ok(done)
    }

    fn flush(&mut self) -> Result<Vec<BatchFold>> {
        // The slot pushed to first holds the older batch: the one `next_slot` points at.
        let first = self.next_slot;
        let mut done = Vec::new();
        for slot in [first, 1 - first] {
            if let Some(f) = self.complete(slot)? {
                done.push(f);
            }
        }
        Ok(done)
    }
}

impl Drop for GpuFolder<'_> {
    fn drop(&mut self) {
        let Some(res) = self.res.take() else { return };
        if res.slots.iter().any(|s| s.pending.is_some()) {
            return;
        }
        if let Ok(mut spare) = self.gpu.spare.lock() {
            // A few sets per plan at most: one per thread that folds at the same time.
            if spare.len() >= 4 * rayon::current_num_threads().max(1) {
                spare.remove(0);
            }
            spare.push(res);
        }
    }
}
