//! Backends: where the per-value work of profiling runs.
//!
//! The types a fold needs live in [`fold`]; the backend imports the profile's sketch plan and
//! moments, and nothing of the engine, the judge or the output.
//!
//! The engine hands a backend whole Arrow record batches. A [`Folder`], made once per stream of
//! batches from a [`FoldPlan`], folds every profiled column of a batch in one call and returns a
//! [`BatchFold`]: null/NaN/±∞ counts, moments, exact histogram bins, the values the quantile
//! sketch keeps, dictionary key counts. [`cpu::CpuBackend`] (rayon) is the reference;
//! [`gpu::GpuBackend`] runs the per-value work (binning, sorting for the sketch, key counts) as
//! WGSL compute shaders through wgpu, with one submission per batch. Both give identical folds,
//! so profiles and every output file are the same whichever runs.
//!
//! # Design
//! - The unit of work is a batch, not a kernel: a backend sees all columns at once, so a GPU
//!   uploads a batch once and submits once, and a CPU folds the columns in parallel.
//! - What is cheap where the data is decoded stays there: moments are summed on the host by one
//!   shared routine, so they are bit-identical across backends.
//! - The quantile sketch needs only a few order statistics of each batch. The CPU finds them
//!   without sorting ([`cpu::select`]); the GPU sorts on the device and hands the sorted values
//!   back, since its results arrive after later batches were pushed.
//! - Counts, min/max and histograms must be identical across backends; drift metrics are
//!   computed from them by [`crate::judge::compare`]'s `f64` code, on the host, whatever the
//!   backend. (A comparison kernel in `f32` served only the bench and the parity tests: with
//!   metrics in `f32` a verdict near its threshold could differ between backends, and the
//!   comparisons cost microseconds per feature and window on the CPU; it was removed.)

pub mod cpu;
pub mod fold;
#[cfg(feature = "gpu")]
pub mod gpu;

use std::ops::Range;
use std::sync::Arc;

use arrow_array::RecordBatch;

pub use fold::{BatchFold, Bins, ColumnFold, ColumnKind, ColumnTask, Detail, FoldPlan, NumericFold, SketchFeed};

use crate::error::Result;
use crate::profile::kll::SketchPlan;

/// The most rows a batch handed to a folder has: the profiler slices larger batches, for every
/// backend alike, so that sketches and sums see the same batches whichever backend runs.
pub const MAX_BATCH_ROWS: usize = 65_536;

/// Folds the batches of one stream (one per worker thread), keeping its buffers and the
/// batches in flight.
pub trait Folder: Send {
    /// Starts folding `batch` (every column its plan names), each of `groups` apart: ranges of
    /// rows, consecutive, that cover the batch (one range for a batch of one segment).
    /// `sketches[i]` is the current plan of task `i`'s quantile sketch when the task feeds
    /// one; a plan with sketched tasks takes one group per batch. Returns the folds that are
    /// complete, in push order, their groups in order: this batch's at once for a synchronous
    /// backend, an earlier batch's for one that keeps work in flight; a folder may return a
    /// batch's groups in several folds. A folder that returns a fold after a later push must
    /// not depend on `sketches` (the sketch moves on when each fold is applied): it returns
    /// [`SketchFeed::Sorted`].
    fn push(
        &mut self,
        batch: &RecordBatch,
        groups: &[Range<usize>],
        sketches: &[Option<SketchPlan>],
    ) -> Result<Vec<BatchFold>>;

    /// Completes every batch still in flight and returns their folds, in push order.
    fn flush(&mut self) -> Result<Vec<BatchFold>>;
}

/// Checks that `groups` are consecutive ranges covering `rows` rows, and that a plan with
/// sketched tasks has one group.
pub fn check_groups(plan: &FoldPlan, rows: usize, groups: &[Range<usize>]) -> Result<()> {
    let mut at = 0;
    for g in groups {
        if g.start != at || g.end < g.start {
            return Err(crate::error::backend::BackendError::Unfit(format!(
                "row groups of a batch must be consecutive: {g:?} after row {at}"
            ))
            .into());
        }
        at = g.end;
    }
    if at != rows {
        return Err(crate::error::backend::BackendError::Unfit(format!(
            "row groups cover {at} of the batch's {rows} rows"
        ))
        .into());
    }
    if groups.len() > 1 && plan.columns.iter().any(ColumnTask::sketched) {
        return Err(crate::error::backend::BackendError::Unfit(
            "a plan with quantile sketches folds one group of rows per batch".into(),
        )
        .into());
    }
    Ok(())
}

/// Where profiling's per-value work runs.
pub trait Backend: Send + Sync {
    /// Short name reported to the user (`cpu`, `gpu: <adapter>`).
    fn name(&self) -> String;

    /// A folder for one stream of batches that all have the columns `plan` refers to.
    fn folder(&self, plan: Arc<FoldPlan>) -> Result<Box<dyn Folder + '_>>;

    /// The sums of the random Fourier features ([`crate::profile::rff`]) of the quantized rows
    /// `q` (`rows × k`) per group (`groups[r] < n_groups`): `n_groups × D` sums in 2⁻²⁸ units
    /// of a cosine. The CPU computes them on the host ([`crate::profile::rff::Rff::group_sums`]);
    /// the GPU in a kernel, to the same integers.
    ///
    /// # Errors
    /// When the device fails.
    fn rff_sums(&self, rff: &crate::profile::rff::Rff, q: &[i32], groups: &[u32], n_groups: usize) -> Result<Vec<i64>> {
        Ok(rff.group_sums(q, groups, n_groups))
    }

    /// Σ qₐ·q_b over the rows of `q` (`rows × k` standardized values in units of 2⁻²⁴) for
    /// every pair of features a ≤ b: the covariance's sums, exact integers. The CPU computes
    /// them on the host ([`crate::profile::pca::gram_sums`]); the GPU in a kernel, to the same
    /// integers.
    ///
    /// # Errors
    /// When the device fails.
    fn gram_sums(&self, q: &[i64], k: usize) -> Result<Vec<i128>> {
        Ok(crate::profile::pca::gram_sums(q, k))
    }
}

/// Which backend the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackendChoice {
    /// A hardware GPU when one is found, the CPU otherwise.
    #[default]
    Auto,
    /// The rayon CPU backend.
    Cpu,
    /// A GPU adapter (software adapters such as Mesa's lavapipe included); an error when none.
    Gpu,
}

/// Resolves the user's choice to a backend without looking at the job: `auto` takes a hardware
/// GPU when there is one (a job's pipeline measures first, see
/// [`crate::engine::auto::choose_backend`]). The string says which one and why.
pub fn select(choice: BackendChoice) -> Result<(Box<dyn Backend>, String)> {
    match choice {
        BackendChoice::Cpu => Ok((Box::new(cpu::CpuBackend), "cpu (requested)".into())),
        BackendChoice::Auto => match gpu_backend(false) {
            Ok((g, summary)) => Ok((g, format!("gpu: {summary} (auto: hardware adapter found)"))),
            Err(why) => Ok((Box::new(cpu::CpuBackend), format!("cpu (auto: {})", no_gpu(&why)))),
        },
        BackendChoice::Gpu => match gpu_backend(true) {
            Ok((g, summary)) => Ok((g, format!("gpu: {summary} (requested)"))),
            Err(why) => Err(crate::error::invalid(crate::Opt::Backend, format!("gpu: {why}"))),
        },
    }
}

/// Why `auto` has no GPU to use, in a few words for the backend line (the error itself says
/// more).
pub fn no_gpu(why: &crate::Error) -> String {
    use crate::error::backend::BackendError;
    match why {
        crate::Error::Backend(BackendError::SoftwareOnly(adapter)) => format!("no hardware GPU, only {adapter}"),
        other => crate::error::one_line(other),
    }
}

/// The GPU backend and a summary of its adapter, or why there is none (no adapter, or a build
/// without the `gpu` feature). `allow_software` also takes software adapters such as lavapipe.
pub fn gpu_backend(allow_software: bool) -> Result<(Box<dyn Backend>, String)> {
    #[cfg(feature = "gpu")]
    {
        gpu::GpuBackend::new(allow_software).map(|g| {
            let summary = g.adapter_summary();
            (Box::new(g) as Box<dyn Backend>, summary)
        })
    }
    #[cfg(not(feature = "gpu"))]
    {
        let _ = allow_software;
        Err(crate::error::backend::BackendError::NoAdapter("driftscope was built without its gpu feature".into())
            .into())
    }
}
