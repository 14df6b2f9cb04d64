//! driftwatch as a library: [`driftwatch_core`] re-exported under the name the CLI, the tests,
//! the benchmarks and the examples use.

pub use driftwatch_core::*;
