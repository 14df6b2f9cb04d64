//! driftscope as a library: [`driftscope_core`] re-exported under the name the CLI, the tests,
//! the benchmarks and the examples use.

pub use driftscope_core::*;
