//! The CPU backend: the reference implementation of every kernel, each the twin of a WGSL
//! shader of the same name in `shaders/`.
//!
//! Parallelism comes from the caller, which profiles row groups on rayon's pool; each kernel
//! here is a tight sequential loop over one batch.

pub mod select;

use arrow_buffer::BooleanBuffer;

use super::{Backend, BinMetrics, BinnedPair, NumericSummary};
use crate::profile::Histogram;

/// The rayon CPU backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuBackend;

/// CPU twin of `shaders/histogram.wgsl`.
pub fn histogram(values: &[f64], validity: Option<&BooleanBuffer>, edges: &[f64], out: &mut NumericSummary) {
    debug_assert_eq!(out.counts.len(), edges.len() + 1);
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut any = false;
    let mut one = |v: f64, out: &mut NumericSummary| {
        if v.is_finite() {
            out.counts[Histogram::bin(edges, v)] += 1;
            if v < lo {
                lo = v;
            }
            if v > hi {
                hi = v;
            }
            any = true;
        } else if v.is_nan() {
            out.nan += 1;
        } else if v > 0.0 {
            out.pos_inf += 1;
        } else {
            out.neg_inf += 1;
        }
    };
    match validity {
        None => values.iter().for_each(|&v| one(v, out)),
        Some(bits) => {
            for (&v, valid) in values.iter().zip(bits.iter()) {
                if valid {
                    one(v, out);
                } else {
                    out.nulls += 1;
                }
            }
        }
    }
    if any {
        // -0.0 and 0.0 compare equal; report 0.0 for either, as the GPU's keys do.
        out.observe_min_max(lo + 0.0, hi + 0.0);
    }
}

/// Bins of ascending finite values: one binary search per edge instead of one per value. Bin `i`
/// holds the values with `e(i-1) <= v < e(i)`, as [`histogram`] does (-0.0 equals 0.0 under `<`).
pub fn histogram_sorted(sorted: &[f64], edges: &[f64], counts: &mut [u64]) {
    let mut prev = 0usize;
    for (i, &e) in edges.iter().enumerate() {
        let at = prev + sorted[prev..].partition_point(|&v| v < e);
        counts[i] += (at - prev) as u64;
        prev = at;
    }
    counts[edges.len()] += (sorted.len() - prev) as u64;
}

/// CPU twin of `shaders/categorical.wgsl`.
pub fn key_counts(keys: &[u32], validity: Option<&BooleanBuffer>, counts: &mut [u64]) -> u64 {
    let n = counts.len();
    let mut nulls = 0;
    let mut one = |k: u32, valid: bool| {
        if valid && (k as usize) < n {
            counts[k as usize] += 1;
        } else {
            nulls += 1;
        }
    };
    match validity {
        None => keys.iter().for_each(|&k| one(k, true)),
        Some(bits) => keys.iter().zip(bits.iter()).for_each(|(&k, v)| one(k, v)),
    }
    nulls
}

/// CPU twin of `shaders/compare.wgsl`, in f64 through [`crate::compare`].
pub fn compare(pairs: &[BinnedPair]) -> Vec<BinMetrics> {
    pairs
        .iter()
        .map(|p| {
            crate::compare::numeric(&p.edges, &p.base, &p.cur, p.lowest, None)
                .map(|m| BinMetrics {
                    linf: m.linf_simple,
                    psi: m.psi,
                    kl: m.kl_divergence,
                    js: m.js_distance,
                    hellinger: m.hellinger,
                    wasserstein: m.wasserstein,
                })
                .unwrap_or_default()
        })
        .collect()
}

impl Backend for CpuBackend {
    fn name(&self) -> String {
        "cpu".into()
    }

    fn histogram(
        &self,
        values: &[f64],
        validity: Option<&BooleanBuffer>,
        edges: &[f64],
        out: &mut NumericSummary,
    ) -> Result<(), String> {
        histogram(values, validity, edges, out);
        Ok(())
    }

    fn histogram_sorted(&self, sorted: &[f64], edges: &[f64], counts: &mut [u64]) -> bool {
        histogram_sorted(sorted, edges, counts);
        true
    }

    fn key_counts(&self, keys: &[u32], validity: Option<&BooleanBuffer>, counts: &mut [u64]) -> Result<u64, String> {
        Ok(key_counts(keys, validity, counts))
    }

    fn compare(&self, pairs: &[BinnedPair]) -> Result<Vec<BinMetrics>, String> {
        Ok(compare(pairs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_hand_computed() {
        let mut s = NumericSummary::new(2);
        histogram(&[-1.0, 0.0, 0.5, 1.0, 7.0, -0.0, f64::NAN, f64::NEG_INFINITY], None, &[0.0, 1.0], &mut s);
        // -0.0 == 0.0, so it lands with 0.0 in [0, 1).
        assert_eq!(s.counts, vec![1, 3, 2]);
        assert_eq!((s.nan, s.neg_inf, s.pos_inf, s.nulls), (1, 1, 0, 0));
        assert_eq!((s.min, s.max), (Some(-1.0), Some(7.0)));
    }

    #[test]
    fn histogram_with_nulls_and_empty() {
        let mut s = NumericSummary::new(0);
        let bits = BooleanBuffer::from(vec![true, false, true]);
        histogram(&[1.0, 99.0, 2.0], Some(&bits), &[], &mut s);
        assert_eq!((s.counts.clone(), s.nulls), (vec![2], 1));
        let mut e = NumericSummary::new(3);
        histogram(&[], None, &[1.0, 2.0, 3.0], &mut e);
        assert_eq!(e, NumericSummary::new(3));
    }

    #[test]
    fn histogram_sorted_matches_histogram() {
        let mut v = vec![-3.0, -0.0, 0.0, 0.5, 1.0, 1.0, 2.0, 9.0, f64::MAX, -f64::MAX];
        v.sort_by(f64::total_cmp);
        for edges in [vec![], vec![0.0], vec![-1.0, 0.0, 1.0, 2.0], vec![100.0]] {
            let mut a = NumericSummary::new(edges.len());
            histogram(&v, None, &edges, &mut a);
            let mut b = vec![0u64; edges.len() + 1];
            histogram_sorted(&v, &edges, &mut b);
            assert_eq!(a.counts, b, "{edges:?}");
        }
    }

    #[test]
    fn key_counts_with_nulls() {
        let mut c = vec![0u64; 3];
        let bits = BooleanBuffer::from(vec![true, true, false, true]);
        assert_eq!(key_counts(&[0, 2, 1, 2], Some(&bits), &mut c), 1);
        assert_eq!(c, vec![1, 0, 2]);
    }
}
