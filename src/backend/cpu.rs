//! The CPU backend: the reference implementation of every kernel.
//!
//! Parallelism comes from the caller, which profiles row groups on rayon's pool; each kernel
//! here is a tight sequential loop over one batch.

use super::Backend;
use crate::profile::Histogram;

/// The rayon CPU backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuBackend;

impl Backend for CpuBackend {
    fn name(&self) -> String {
        "cpu".into()
    }

    fn histogram(&self, values: &[f64], edges: &[f64], counts: &mut [u64]) {
        debug_assert_eq!(counts.len(), edges.len() + 1);
        for &v in values {
            counts[Histogram::bin(edges, v)] += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_hand_computed() {
        let mut c = vec![0u64; 3];
        CpuBackend.histogram(&[-1.0, 0.0, 0.5, 1.0, 7.0, -0.0], &[0.0, 1.0], &mut c);
        // -0.0 == 0.0, so it lands with 0.0 in [0, 1).
        assert_eq!(c, vec![1, 3, 2]);
    }

    #[test]
    fn histogram_empty() {
        let mut c = vec![0u64; 1];
        CpuBackend.histogram(&[], &[], &mut c);
        assert_eq!(c, vec![0]);
    }
}
