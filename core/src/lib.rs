//! # driftscope-core
//!
//! Full-volume data-quality and drift monitoring for machine-learning models, compatible with
//! Amazon SageMaker Model Monitor's files.
//!
//! ## A tour, in data-flow order
//! Each folder is a stage, and a stage imports only the stages above it in this list:
//! - [`error`] and [`codec`]: the error type; fingerprints, lenient JSON numbers and the serde
//!   form of non-finite floats.
//! - [`source`]: paths, folders, globs, hive partitions and object stores become input files;
//!   Parquet row groups, CSV and SageMaker JSON Lines become Arrow record batches.
//! - [`profile`]: mergeable per-column summaries (counts, moments, exact histograms, KLL and HLL
//!   sketches, frequent values).
//! - [`backend`]: the data-parallel kernels, `cpu` (rayon) and `gpu` (wgpu/WGSL), with identical
//!   counts.
//! - [`engine`]: the [`engine::Profiler`] folds batches on a backend into profiles keyed by
//!   segment (the whole, a time window); the file driver folds row groups in parallel and merges
//!   them in a fixed order, so outputs are byte-identical whatever the thread count.
//! - [`judge`]: drift metrics, per-feature verdicts and constraint checks of a baseline against
//!   a current profile, in SageMaker's file model.
//! - [`time`]: windows judged one by one, change points, calibrated thresholds.
//! - [`quality`]: model quality (SageMaker's model-quality job), predictions joined with ground
//!   truth by id.
//! - [`output`]: the report model and its writers: SageMaker JSON, HTML, Markdown, EMF,
//!   Prometheus.
//! - [`jobs`]: `baseline`, `monitor`, `changepoints`, `calibrate`, `watch` and `bench` end to end.
//!
//! The `gpu` feature (on by default) builds the wgpu/WGSL backend; without it the library has no
//! GPU dependency and `--backend gpu` is an error. The `driftscope` CLI crate and the
//! `driftscope` Python package are built on this crate.
//!
//! ## Example
//! ```
//! use driftscope_core::judge::compare;
//! // Baseline and current counts over the same three bins (two interior edges).
//! let spread = compare::Spread::even((0.0, 3.0));
//! let m = compare::numeric(&[1.0, 2.0], &[50.0, 30.0, 20.0], &[20.0, 30.0, 50.0], &spread, Some(1.0)).unwrap();
//! assert!((m.linf_simple - 0.3).abs() < 1e-12);
//! ```
#![warn(missing_docs)]

pub mod backend;
pub mod codec;
pub mod engine;
pub mod error;
pub mod jobs;
pub mod judge;
pub mod output;
pub mod profile;
pub mod quality;
pub mod source;
pub mod time;

pub use error::{Error, Result};
