//! The judge: a baseline against a current profile. [`compare`] computes the drift metrics,
//! [`drift`] gives each feature's verdict, [`check`] the constraint violations, [`verdict`] the run's verdict as a whole; [`baseline`]
//! loads and writes baselines (driftscope's and SageMaker's) and suggests their constraints,
//! in SageMaker's file model ([`sagemaker`]).
//!
//! It imports [`crate::profile`] and the bottom floors ([`crate::error`], [`crate::codec`]),
//! and [`crate::source::remote`] to read a baseline from an object store; never the engine,
//! the time stage, the jobs or the output.

pub mod attribution;
pub mod baseline;
pub mod bias;
pub mod check;
pub mod columns;
pub mod compare;
pub mod drift;
pub mod mmd;
pub mod multivariate;
pub mod ordered;
pub mod sagemaker;
pub mod segments;
pub mod verdict;
