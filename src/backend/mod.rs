//! Backends: where the data-parallel part of profiling runs.
//!
//! The heavy, data-parallel kernels (today: exact binning of values over fixed edges) sit behind
//! the narrow [`Backend`] trait so that a GPU implementation can take them over with results
//! identical to the CPU's. The CPU implementation, [`cpu::CpuBackend`], is the reference. Sketches
//! and exact moments always run on the CPU beside the backend.

pub mod cpu;

/// The data-parallel kernels of profiling.
///
/// # Design
/// Every method adds into caller-owned `u64` counters, so a backend can be fed batch after batch
/// and partial results merge by addition; implementations must give identical counts for the
/// same input.
pub trait Backend: Send + Sync {
    /// Short name reported to the user (`cpu`, `gpu (…)`).
    fn name(&self) -> String;

    /// Adds to `counts` (length `edges.len() + 1`) the bin of every value in `values`, which are
    /// finite. Bin `i` holds the values with exactly `i` edges `<= v`.
    fn histogram(&self, values: &[f64], edges: &[f64], counts: &mut [u64]);
}

/// Which backend the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackendChoice {
    /// A hardware GPU when one is found, the CPU otherwise.
    #[default]
    Auto,
    /// The rayon CPU backend.
    Cpu,
    /// A GPU adapter (software adapters included); an error when there is none.
    Gpu,
}

/// Resolves the user's choice to a backend, saying why in the returned note.
pub fn select(choice: BackendChoice) -> Result<(Box<dyn Backend>, String), String> {
    match choice {
        BackendChoice::Cpu => Ok((Box::new(cpu::CpuBackend), "cpu (requested)".into())),
        BackendChoice::Auto => Ok((
            Box::new(cpu::CpuBackend),
            "cpu (auto: this build has no GPU backend yet)".into(),
        )),
        BackendChoice::Gpu => Err(
            "--backend gpu: this build of driftwatch has no GPU backend yet; use --backend cpu or auto"
                .into(),
        ),
    }
}
