//! The backend stage's errors ([`crate::backend`]): no adapter to run on, a device that will not
//! open or that fails, a batch or plan that does not fit what a backend folds.

/// Why a backend cannot fold.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// No GPU adapter, or none of the kind asked for; says what was found.
    #[error("{0}")]
    NoAdapter(String),
    /// The only adapters are software ones (lavapipe, llvmpipe): slower than the CPU backend, so
    /// `auto` takes the CPU; asking for the GPU backend uses them.
    #[error(
        "no hardware GPU adapter found, only {0} (a software adapter is slower than the CPU backend; asking for the GPU backend uses it)"
    )]
    SoftwareOnly(String),
    /// The adapter would not open a device.
    #[error("cannot open {adapter}: {source}")]
    OpenDevice {
        /// The adapter's name.
        adapter: String,
        /// wgpu's refusal.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A batch or plan that does not fit what the backend folds: past a limit of the device or
    /// of the kernels, or rows grouped otherwise than the fold takes them.
    #[error("{0}")]
    Unfit(String),
    /// A step of the device's work failed (`poll`, `readback`).
    #[error("GPU {step} failed: {source}")]
    Failed {
        /// The step.
        step: &'static str,
        /// wgpu's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Errors the device reported while it ran the kernels (validation, out of memory).
    #[error("GPU error: {0}")]
    Reported(String),
    /// The device's work did not come back, or its bookkeeping was left broken by a panic.
    #[error("GPU {0}")]
    Stalled(&'static str),
}
