//! # driftscope-core
//!
//! Full-volume data-quality and drift monitoring for machine-learning models, compatible with
//! Amazon SageMaker Model Monitor's files.
//!
//! ## A tour, in data-flow order
//! Each folder is a stage, and a stage imports only the stages above it in this list:
//! - [`error`] and [`codec`]: the error type, with each stage's own error that converts into it
//!   (`error::source`, `error::backend`, `error::quality`); fingerprints, lenient JSON numbers
//!   and the serde form of non-finite floats.
//! - [`source`]: paths, folders, globs, hive partitions and object stores become input files;
//!   Parquet row groups, CSV and SageMaker JSON Lines become Arrow record batches.
//! - [`profile`]: mergeable per-column summaries (counts, moments, exact histograms, KLL and HLL
//!   sketches, frequent values).
//! - [`backend`]: the data-parallel kernels, `cpu` (rayon) and `gpu` (wgpu/WGSL), with identical
//!   counts.
//! - [`engine`]: the [`engine::Profiler`] folds batches on a backend into profiles keyed by
//!   segment (the whole, a time window); the file driver folds row groups in parallel and merges
//!   them in a fixed order, so outputs are byte-identical whatever the thread count. A
//!   [`engine::Tap`] is fed the same batches: model quality is scored in that one pass.
//! - [`judge`]: drift metrics, per-feature verdicts and constraint checks of a baseline against
//!   a current profile, in SageMaker's file model.
//! - [`time`]: windows judged one by one, change points, calibrated thresholds.
//! - [`quality`]: model quality (SageMaker's model-quality job), predictions joined with ground
//!   truth by id, scored as the engine's tap.
//! - [`output`]: the report model and its writers, whole files behind one trait
//!   (`output::export::Exporter`: SageMaker JSON, HTML, Markdown, the windows' tables) and those
//!   written a piece at a time (EMF, Prometheus, `watch`'s `windows.csv`).
//! - [`jobs`]: `baseline`, `monitor`, `changepoints`, `calibrate`, `watch` and `bench` end to end.
//!
//! The `gpu` feature (on by default) builds the wgpu/WGSL backend; without it the library has no
//! GPU dependency and `--backend gpu` is an error. The `driftscope` CLI crate and the
//! `driftscope` Python package are built on this crate.
//!
//! ## Example
//! The stages in order, on batches already in memory: profile a baseline (a first pass for
//! moments and sketches, then exact counts over bin edges from its quantiles), profile the
//! current data over the same edges, judge it.
//! ```
//! use std::sync::Arc;
//! use arrow_array::{ArrayRef, Float64Array, RecordBatch};
//! use driftscope_core::backend::cpu::CpuBackend;
//! use driftscope_core::engine::{profile_batches, ProfilePlan};
//! use driftscope_core::judge::baseline::{plan_edges, Baseline};
//! use driftscope_core::judge::verdict::judge;
//!
//! let batch = |shift: f64| {
//!     let x: Vec<f64> = (0..20_000).map(|i| (i * 37 % 1000) as f64 / 10.0 + shift).collect();
//!     RecordBatch::try_from_iter([("x", Arc::new(Float64Array::from(x)) as ArrayRef)]).unwrap()
//! };
//! let first = profile_batches(&[batch(0.0)], &ProfilePlan::default(), &CpuBackend)?.into_whole();
//! let edges = plan_edges(&first).into_iter().map(|(k, e)| (k, e.into())).collect();
//! let plan = ProfilePlan { edges, ..ProfilePlan::default() };
//! let base = Baseline::from_profile(profile_batches(&[batch(0.0)], &plan, &CpuBackend)?.into_whole(), "training");
//!
//! let same = profile_batches(&[batch(0.0)], &plan, &CpuBackend)?.into_whole();
//! let shifted = profile_batches(&[batch(25.0)], &plan, &CpuBackend)?.into_whole();
//! assert_eq!(judge(&base, &same, None, 0.5).violations.len(), 0);
//! let verdict = judge(&base, &shifted, None, 0.5);
//! assert!(verdict.features[0].drifted() && verdict.summary.features_drifted == 1);
//! # Ok::<(), driftscope_core::Error>(())
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

pub use error::{Error, Opt, Result};
