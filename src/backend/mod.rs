//! Backends: where the data-parallel part of profiling runs.
//!
//! The heavy, data-parallel kernels sit behind the narrow [`Backend`] trait: a numeric histogram
//! over fixed edges with null/NaN/±∞ counts and min/max, dictionary-key counts, and the drift
//! metrics computed from bins for a batch of features. [`cpu::CpuBackend`] (rayon) is the
//! reference; [`gpu::GpuBackend`] runs the same kernels as WGSL compute shaders through wgpu and
//! gives identical counts. Sketches and exact moments always run on the CPU beside the backend.
//!
//! # Design
//! Kernels add into caller-owned `u64` counters, so a backend can be fed batch after batch and
//! partial results merge by addition. Counts, min/max and histograms must be identical across
//! backends; the comparison kernel may compute in `f32` on a GPU (see [`BinMetrics`]), so the
//! metrics written to JSON always come from [`crate::compare`]'s `f64` code whatever the backend.

pub mod cpu;
pub mod gpu;

use arrow_buffer::BooleanBuffer;

/// Counts of one numeric batch (or many, merged).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NumericSummary {
    /// Histogram counts, `edges.len() + 1` bins.
    pub counts: Vec<u64>,
    /// Null values.
    pub nulls: u64,
    /// NaN values.
    pub nan: u64,
    /// +∞ values.
    pub pos_inf: u64,
    /// −∞ values.
    pub neg_inf: u64,
    /// Smallest finite value.
    pub min: Option<f64>,
    /// Largest finite value.
    pub max: Option<f64>,
}

impl NumericSummary {
    /// Zero counts for `edges` interior edges.
    pub fn new(n_edges: usize) -> Self {
        NumericSummary { counts: vec![0; n_edges + 1], ..Default::default() }
    }

    /// Folds in a finite minimum and maximum.
    pub fn observe_min_max(&mut self, lo: f64, hi: f64) {
        self.min = Some(self.min.map_or(lo, |m| if lo < m { lo } else { m }));
        self.max = Some(self.max.map_or(hi, |m| if hi > m { hi } else { m }));
    }
}

/// One feature's binned distributions for the comparison kernel.
#[derive(Debug, Clone, PartialEq)]
pub struct BinnedPair {
    /// Interior edges.
    pub edges: Vec<f64>,
    /// Baseline weights per bin.
    pub base: Vec<f64>,
    /// Current weights per bin.
    pub cur: Vec<f64>,
    /// Position of the first bin (the smaller minimum).
    pub lowest: f64,
}

/// Bin-based drift metrics from the comparison kernel. On a GPU these are computed in `f32`
/// with compensated sums; they agree with [`crate::compare`] within [`GPU_METRIC_TOLERANCE`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BinMetrics {
    /// L∞ between the cumulative proportions.
    pub linf: f64,
    /// Population stability index.
    pub psi: f64,
    /// KL divergence, current ‖ baseline.
    pub kl: f64,
    /// Jensen–Shannon distance, base 2.
    pub js: f64,
    /// Hellinger distance.
    pub hellinger: f64,
    /// Wasserstein-1.
    pub wasserstein: f64,
}

/// Documented agreement of the GPU comparison kernel (f32) with the CPU (f64): the absolute
/// difference is at most `GPU_METRIC_TOLERANCE · max(1, |cpu value|)`.
pub const GPU_METRIC_TOLERANCE: f64 = 1e-6;

/// The data-parallel kernels of profiling.
pub trait Backend: Send + Sync {
    /// Short name reported to the user (`cpu`, `gpu: <adapter>`).
    fn name(&self) -> String;

    /// Adds `values` (with Arrow `validity`, `None` when all are valid) into `out`: the bin of
    /// every finite value over `edges` (bin `i` holds the values with exactly `i` edges `<= v`,
    /// and -0.0 counts as 0.0), nulls, NaN, ±∞, and the finite min/max.
    fn histogram(
        &self,
        values: &[f64],
        validity: Option<&BooleanBuffer>,
        edges: &[f64],
        out: &mut NumericSummary,
    ) -> Result<(), String>;

    /// Adds to `counts` the bins of `sorted`, finite values already in ascending order (the CPU
    /// profile sorts each batch for its quantile sketch anyway). Returns `false` when the backend
    /// prefers its [`Backend::histogram`] kernel on the raw values instead (the GPU).
    fn histogram_sorted(&self, sorted: &[f64], edges: &[f64], counts: &mut [u64]) -> bool {
        let _ = (sorted, edges, counts);
        false
    }

    /// Adds to `counts` (one per dictionary key) the keys of the valid rows; returns the nulls.
    fn key_counts(&self, keys: &[u32], validity: Option<&BooleanBuffer>, counts: &mut [u64]) -> Result<u64, String>;

    /// Bin-based drift metrics for a batch of features.
    fn compare(&self, pairs: &[BinnedPair]) -> Result<Vec<BinMetrics>, String>;
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

/// Resolves the user's choice to a backend; the string says which one and why.
pub fn select(choice: BackendChoice) -> Result<(Box<dyn Backend>, String), String> {
    match choice {
        BackendChoice::Cpu => Ok((Box::new(cpu::CpuBackend), "cpu (requested)".into())),
        BackendChoice::Auto => match gpu::GpuBackend::new(false) {
            Ok(g) => {
                let note = format!("gpu: {} (auto: hardware adapter found)", g.adapter_summary());
                Ok((Box::new(g), note))
            }
            Err(why) => Ok((Box::new(cpu::CpuBackend), format!("cpu (auto: {why})"))),
        },
        BackendChoice::Gpu => match gpu::GpuBackend::new(true) {
            Ok(g) => {
                let note = format!("gpu: {} (requested)", g.adapter_summary());
                Ok((Box::new(g), note))
            }
            Err(why) => Err(format!("--backend gpu: {why}")),
        },
    }
}
