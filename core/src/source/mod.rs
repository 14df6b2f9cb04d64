//! The source stage: where rows come from. Paths, folders, globs and hive partitions become
//! input files ([`scan`]), local or in object stores ([`remote`]); Parquet row groups, CSV and
//! SageMaker JSON Lines ([`text`]) become Arrow record batches, projected ([`decode`]);
//! [`synth`] generates realistic captures for benchmarks and tests.
//!
//! It imports only [`crate::error`] and [`crate::codec`] of the crate; every stage above reads
//! through it. Its functions fail with a [`crate::error::source::SourceError`] that keeps the cause.

/// The Arrow field metadata key by which a reader marks a column's role where its type cannot
/// say it: ISO 8601 text of a CSV file stays text (as SageMaker types it) with the role
/// `timestamp` (see `profile::Role::of_field`).
pub const ROLE_KEY: &str = "driftscope.role";

pub mod decode;
pub mod remote;
pub mod scan;
#[cfg(feature = "parquet")]
pub mod synth;
pub mod text;
