//! Exact moments with Chan's parallel merge.
//!
//! Mean and the sum of squared deviations (`m2`) are combined pairwise with Chan, Golub and
//! LeVeque's update, which is numerically stable and associative up to rounding. driftscope always
//! merges partial moments in input order (file, then row group), so the rounding is the same
//! whatever the number of threads. The plain sum is kept apart with Neumaier's compensated
//! summation, as SageMaker reports `sum` beside `mean`.

use serde::{Deserialize, Serialize};

use crate::codec::nonfinite;

/// Count, mean, m2, compensated sum, min and max of finite values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Moments {
    /// Number of finite values.
    pub n: u64,
    /// Running mean.
    #[serde(with = "nonfinite")]
    pub mean: f64,
    /// Sum of squared deviations from the mean.
    #[serde(with = "nonfinite")]
    pub m2: f64,
    /// Neumaier sum: running total.
    #[serde(with = "nonfinite")]
    pub sum: f64,
    /// Neumaier sum: compensation term.
    #[serde(with = "nonfinite")]
    pub sum_c: f64,
    /// Smallest finite value, `None` when `n == 0`.
    pub min: Option<f64>,
    /// Largest finite value, `None` when `n == 0`.
    pub max: Option<f64>,
}

impl Moments {
    /// Adds a slice of finite values (the caller filters NaN and ±∞).
    pub fn update_slice(&mut self, values: &[f64]) {
        if values.is_empty() {
            return;
        }
        let mut batch = Moments::default();
        let n = values.len() as f64;
        // Four independent lanes (Neumaier sums, then squared deviations) so that the loop is
        // not one long dependency chain; lanes are combined in a fixed order, so results stay
        // deterministic.
        let neumaier = |s: &mut f64, c: &mut f64, v: f64| {
            let t = *s + v;
            *c += if s.abs() >= v.abs() { (*s - t) + v } else { (v - t) + *s };
            *s = t;
        };
        let (mut s4, mut c4) = ([0.0f64; 4], [0.0f64; 4]);
        let (mut lo, mut hi) = ([f64::INFINITY; 4], [f64::NEG_INFINITY; 4]);
        let chunks = values.chunks_exact(4);
        let rest = chunks.remainder();
        for q in chunks {
            for l in 0..4 {
                neumaier(&mut s4[l], &mut c4[l], q[l]);
                lo[l] = lo[l].min(q[l]);
                hi[l] = hi[l].max(q[l]);
            }
        }
        for (l, &v) in rest.iter().enumerate() {
            neumaier(&mut s4[l], &mut c4[l], v);
            lo[l] = lo[l].min(v);
            hi[l] = hi[l].max(v);
        }
        let (mut s, mut c) = (0.0f64, 0.0f64);
        for l in 0..4 {
            neumaier(&mut s, &mut c, s4[l]);
            neumaier(&mut s, &mut c, c4[l]);
        }
        let lo = lo.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = hi.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mean = (s + c) / n;
        let mut m4 = [0.0f64; 4];
        let chunks = values.chunks_exact(4);
        let rest = chunks.remainder();
        for q in chunks {
            for l in 0..4 {
                let d = q[l] - mean;
                m4[l] += d * d;
            }
        }
        for (l, &v) in rest.iter().enumerate() {
            m4[l] += (v - mean) * (v - mean);
        }
        let m2 = (m4[0] + m4[1]) + (m4[2] + m4[3]);
        batch.n = values.len() as u64;
        batch.mean = mean;
        batch.m2 = m2;
        batch.sum = s;
        batch.sum_c = c;
        batch.min = Some(lo);
        batch.max = Some(hi);
        self.merge(&batch);
    }

    /// Chan's merge of two partial results.
    pub fn merge(&mut self, o: &Moments) {
        if o.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = o.clone();
            return;
        }
        let (na, nb) = (self.n as f64, o.n as f64);
        let n = na + nb;
        let delta = o.mean - self.mean;
        self.mean += delta * nb / n;
        self.m2 += o.m2 + delta * delta * na * nb / n;
        self.n += o.n;
        // Neumaier addition of the other's total and compensation.
        for v in [o.sum, o.sum_c] {
            let t = self.sum + v;
            self.sum_c += if self.sum.abs() >= v.abs() { (self.sum - t) + v } else { (v - t) + self.sum };
            self.sum = t;
        }
        self.min = Some(self.min.map_or(o.min.unwrap_or(f64::INFINITY), |m| m.min(o.min.unwrap_or(m))));
        self.max = Some(self.max.map_or(o.max.unwrap_or(f64::NEG_INFINITY), |m| m.max(o.max.unwrap_or(m))));
    }

    /// The compensated sum, `None` when empty.
    pub fn total(&self) -> Option<f64> {
        (self.n > 0).then_some(self.sum + self.sum_c)
    }

    /// Mean, `None` when empty.
    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then_some(self.mean)
    }

    /// Population standard deviation (as SageMaker reports), `None` when empty.
    pub fn std_dev(&self) -> Option<f64> {
        (self.n > 0).then(|| (self.m2 / self.n as f64).max(0.0).sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_hand_computed() {
        let mut m = Moments::default();
        m.update_slice(&[2.0, 4.0, 4.0, 4.0]);
        m.update_slice(&[5.0, 5.0, 7.0, 9.0]);
        assert_eq!(m.n, 8);
        assert_eq!(m.mean(), Some(5.0));
        assert_eq!(m.std_dev(), Some(2.0));
        assert_eq!(m.total(), Some(40.0));
        assert_eq!((m.min, m.max), (Some(2.0), Some(9.0)));
    }

    #[test]
    fn moments_empty() {
        let m = Moments::default();
        assert_eq!(m.mean(), None);
        assert_eq!(m.std_dev(), None);
        assert_eq!(m.total(), None);
    }
}
