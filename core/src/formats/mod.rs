//! File formats driftscope reads and writes besides its own profile.

pub mod sagemaker;
pub mod text;
