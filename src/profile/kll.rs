//! A deterministic KLL quantile sketch over `f64`, in the shape SageMaker Model Monitor writes.
//!
//! SageMaker's `statistics.json` stores each numeric feature's sketch as Deequ's KLL: parameters
//! `{c, k}` (Deequ's defaults are `c = 0.64`, `k = 2048`) and `data`, the list of compactor levels
//! where an item on level `h` stands for `2^h` input values. driftwatch writes and reads that shape
//! directly, so a SageMaker baseline's sketch is usable as is.
//!
//! Why not `datasketches::kll`: its compactions draw their coin flips from an unseeded
//! thread-local generator and it does not expose its levels. driftwatch promises byte-identical
//! output whatever the thread count, and SageMaker's format needs the levels, so this sketch
//! carries its own SplitMix64 state, seeded from a fixed constant and folded deterministically on
//! merge. Given the same sequence of updates and merges it always yields the same levels.
//!
//! Non-finite values are never inserted: callers count NaN and ±∞ apart.

use serde::{Deserialize, Serialize};

/// Deequ's default sketch size.
pub const DEFAULT_K: usize = 2048;
/// Deequ's default capacity decay between levels.
pub const DEFAULT_C: f64 = 0.64;
const SEED: u64 = 0x6472_6966_7477_6174; // "driftwat"

/// A KLL sketch of `f64` values with seeded, reproducible compactions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Kll {
    /// Size parameter: capacity of the top level.
    pub k: usize,
    /// Capacity decay per level below the top.
    pub c: f64,
    /// Number of values summarized (sum of item weights).
    pub n: u64,
    /// Compactor levels, lowest (weight 1) first.
    pub levels: Vec<Vec<f64>>,
    /// State of the compaction coin.
    pub rng: u64,
}

impl Default for Kll {
    fn default() -> Self {
        Self::new(DEFAULT_K, DEFAULT_C)
    }
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Kll {
    /// An empty sketch with the given parameters.
    pub fn new(k: usize, c: f64) -> Self {
        Kll {
            k: k.max(8),
            c,
            n: 0,
            levels: vec![Vec::new()],
            rng: SEED,
        }
    }

    /// Builds a sketch from levels as SageMaker stores them (level `h` items weigh `2^h`).
    pub fn from_levels(k: usize, c: f64, levels: Vec<Vec<f64>>) -> Self {
        let mut levels: Vec<Vec<f64>> = levels
            .into_iter()
            .map(|l| l.into_iter().filter(|v| v.is_finite()).collect())
            .collect();
        if levels.is_empty() {
            levels.push(Vec::new());
        }
        let n = levels
            .iter()
            .enumerate()
            .map(|(h, l)| (l.len() as u64) << h.min(63))
            .sum();
        Kll {
            k: k.max(8),
            c,
            n,
            levels,
            rng: SEED,
        }
    }

    /// True when no value was inserted.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    fn capacity(&self, h: usize) -> usize {
        let depth = self.levels.len() - 1 - h;
        ((self.k as f64) * self.c.powi(depth as i32))
            .ceil()
            .max(2.0) as usize
    }

    fn total_capacity(&self) -> usize {
        (0..self.levels.len()).map(|h| self.capacity(h)).sum()
    }

    fn retained(&self) -> usize {
        self.levels.iter().map(Vec::len).sum()
    }

    /// Inserts one finite value (non-finite values are ignored).
    #[inline]
    pub fn update(&mut self, v: f64) {
        if !v.is_finite() {
            return;
        }
        self.levels[0].push(v);
        self.n += 1;
        if self.levels[0].len() >= self.capacity(0) {
            self.compress();
        }
    }

    /// Inserts `count` copies of a value.
    pub fn update_n(&mut self, v: f64, count: u64) {
        for _ in 0..count {
            self.update(v);
        }
    }

    fn compress(&mut self) {
        while self.retained() > self.total_capacity() || self.level_over_capacity().is_some() {
            let Some(h) = self.level_over_capacity() else {
                break;
            };
            if h + 1 == self.levels.len() {
                self.levels.push(Vec::new());
            }
            let mut level = std::mem::take(&mut self.levels[h]);
            level.sort_by(f64::total_cmp);
            // An odd item stays behind so that weights are conserved exactly.
            let keep = if level.len() % 2 == 1 {
                level.pop()
            } else {
                None
            };
            let offset = (splitmix(&mut self.rng) & 1) as usize;
            let promoted: Vec<f64> = level.iter().skip(offset).step_by(2).copied().collect();
            self.levels[h + 1].extend(promoted);
            if let Some(v) = keep {
                self.levels[h].push(v);
            }
        }
    }

    fn level_over_capacity(&self) -> Option<usize> {
        (0..self.levels.len()).find(|&h| self.levels[h].len() >= self.capacity(h).max(2))
    }

    /// Merges another sketch into this one. The result depends only on the two operands.
    pub fn merge(&mut self, other: &Kll) {
        if other.n == 0 {
            return;
        }
        while self.levels.len() < other.levels.len() {
            self.levels.push(Vec::new());
        }
        for (h, l) in other.levels.iter().enumerate() {
            self.levels[h].extend_from_slice(l);
        }
        self.n += other.n;
        self.rng ^= splitmix(&mut other.rng.clone());
        self.compress();
    }

    /// Items with their weights, sorted by value.
    pub fn weighted_items(&self) -> Vec<(f64, u64)> {
        let mut items: Vec<(f64, u64)> = self
            .levels
            .iter()
            .enumerate()
            .flat_map(|(h, l)| l.iter().map(move |&v| (v, 1u64 << h.min(63))))
            .collect();
        items.sort_by(|a, b| a.0.total_cmp(&b.0));
        items
    }

    /// Fraction of values `<= x` (the sketch's CDF), or `None` when empty.
    pub fn cdf(&self, x: f64) -> Option<f64> {
        if self.n == 0 {
            return None;
        }
        let w: u64 = self
            .levels
            .iter()
            .enumerate()
            .map(|(h, l)| (l.iter().filter(|&&v| v <= x).count() as u64) << h.min(63))
            .sum();
        Some(w as f64 / self.n as f64)
    }

    /// Total weight of values strictly below `x`.
    pub fn weight_below(&self, x: f64) -> u64 {
        self.levels
            .iter()
            .enumerate()
            .map(|(h, l)| (l.iter().filter(|&&v| v < x).count() as u64) << h.min(63))
            .sum()
    }

    /// The smallest retained value whose cumulative weight reaches `rank * n`.
    pub fn quantiles(&self, ranks: &[f64]) -> Vec<f64> {
        let items = self.weighted_items();
        if items.is_empty() {
            return Vec::new();
        }
        let total: u64 = items.iter().map(|i| i.1).sum();
        let mut out = Vec::with_capacity(ranks.len());
        for &r in ranks {
            let target = (r.clamp(0.0, 1.0) * total as f64).ceil().max(1.0) as u64;
            let mut cum = 0u64;
            let mut q = items[items.len() - 1].0;
            for &(v, w) in &items {
                cum += w;
                if cum >= target {
                    q = v;
                    break;
                }
            }
            out.push(q);
        }
        out
    }

    /// Smallest and largest retained item.
    pub fn min_max(&self) -> Option<(f64, f64)> {
        let mut it = self.levels.iter().flatten().copied();
        let first = it.next()?;
        Some(it.fold((first, first), |(a, b), v| (a.min(v), b.max(v))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kll_exact_below_capacity() {
        let mut s = Kll::default();
        for i in 0..1000 {
            s.update(i as f64);
        }
        assert_eq!(s.levels.len(), 1);
        assert_eq!(s.quantiles(&[0.5])[0], 499.0);
        assert_eq!(s.cdf(99.0), Some(0.1));
    }

    #[test]
    fn kll_conserves_weight_and_bounds_error() {
        let mut s = Kll::new(200, DEFAULT_C);
        let n = 200_000;
        for i in 0..n {
            s.update(((i * 7919) % n) as f64);
        }
        let w: u64 = s.weighted_items().iter().map(|i| i.1).sum();
        assert_eq!(w, n as u64);
        assert_eq!(s.n, n as u64);
        let med = s.quantiles(&[0.5])[0];
        assert!((med / n as f64 - 0.5).abs() < 0.02, "median {med}");
    }

    #[test]
    fn kll_deterministic_and_merge_weight() {
        let build = || {
            let mut a = Kll::new(64, DEFAULT_C);
            let mut b = Kll::new(64, DEFAULT_C);
            for i in 0..5000 {
                a.update(i as f64);
                b.update((i * 3) as f64);
            }
            a.merge(&b);
            a
        };
        assert_eq!(build(), build());
        assert_eq!(build().n, 10000);
    }

    #[test]
    fn kll_empty_and_nonfinite() {
        let mut s = Kll::default();
        s.update(f64::NAN);
        s.update(f64::INFINITY);
        assert!(s.is_empty());
        assert_eq!(s.cdf(1.0), None);
        assert!(s.quantiles(&[0.5]).is_empty());
    }
}
