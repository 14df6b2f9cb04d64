//! # driftscope-core
//!
//! Full-volume data-quality and drift monitoring for machine-learning models, compatible with
//! Amazon SageMaker Model Monitor's files.
//!
//! ## Brief overview
//! The data flows through one module per stage:
//! [`scan`] (paths, folders, globs, hive partitions → Parquet files and a unified schema) →
//! [`decode`] (row groups → Arrow batches, projected, dictionaries kept) →
//! [`profile`] (mergeable per-column summaries; the data-parallel kernels run on a
//! [`backend::Backend`]) → [`compare`] (drift metrics) → [`drift`] and [`check`] (verdicts and
//! SageMaker violations) → [`report`] (JSON, HTML, Markdown). [`baseline`] reads and writes
//! SageMaker's `statistics.json`/`constraints.json`; [`pipeline`] runs the `baseline` and
//! `monitor` jobs end to end; [`engine`] folds row groups in parallel in a fixed order so that
//! outputs are byte-identical whatever the thread count. [`quality`] scores predictions against
//! ground truth (SageMaker's model-quality job), joined by id.
//!
//! The `gpu` feature (on by default) builds the wgpu/WGSL backend; without it the library has no
//! GPU dependency and `--backend gpu` is an error. The `driftscope` CLI crate and the
//! `driftscope` Python package are built on this crate.
//!
//! ## Example
//! ```
//! use driftscope_core::compare;
//! // Baseline and current counts over the same three bins (two interior edges).
//! let spread = compare::Spread::even((0.0, 3.0));
//! let m = compare::numeric(&[1.0, 2.0], &[50.0, 30.0, 20.0], &[20.0, 30.0, 50.0], &spread, Some(1.0)).unwrap();
//! assert!((m.linf_simple - 0.3).abs() < 1e-12);
//! ```
#![warn(missing_docs)]

pub mod backend;
pub mod baseline;
#[cfg(feature = "parquet")]
pub mod bench;
pub mod calibrate;
pub mod changepoint;
pub mod check;
pub mod compare;
pub mod decode;
pub mod drift;
pub mod engine;
pub mod error;
pub mod formats;
pub mod ledger;
pub mod metrics;
pub mod output;
pub mod pipeline;
pub mod profile;
pub mod progress;
pub mod quality;
pub mod remote;
pub mod report;
pub mod scan;
#[cfg(feature = "parquet")]
pub mod synth;
pub mod timeline;
pub mod watch;

pub use error::{Error, Result};
