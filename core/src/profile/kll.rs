//! A deterministic KLL quantile sketch over `f64`, in the shape SageMaker Model Monitor writes.
//!
//! SageMaker's `statistics.json` stores each numeric feature's sketch as Deequ's KLL: parameters
//! `{c, k}` (Deequ's defaults are `c = 0.64`, `k = 2048`) and `data`, the list of compactor levels
//! where an item on level `h` stands for `2^h` input values. driftscope writes and reads that shape
//! directly, so a SageMaker baseline's sketch is usable as is.
//!
//! Why not `datasketches::kll`: its compactions draw their coin flips from an unseeded
//! thread-local generator and it does not expose its levels. driftscope promises byte-identical
//! output whatever the thread count, and SageMaker's format needs the levels, so this sketch
//! carries its own SplitMix64 state, seeded from a fixed constant and folded deterministically on
//! merge. Given the same sequence of updates and merges it always yields the same levels.
//!
//! Non-finite values are never inserted: callers count NaN and ±∞ apart.

use serde::{Deserialize, Serialize};

use crate::codec::splitmix64 as splitmix;

/// Deequ's default sketch size.
pub const DEFAULT_K: usize = 2048;
/// Deequ's default capacity decay between levels.
pub const DEFAULT_C: f64 = 0.64;
const SEED: u64 = 0x6472_6966_7477_6174; // "driftwat"

/// A KLL sketch of `f64` values with seeded, reproducible compactions.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Kll {
    /// Size parameter: capacity of the top level.
    pub k: usize,
    /// Capacity decay per level below the top.
    pub c: f64,
    /// Number of values summarized (sum of item weights).
    pub n: u64,
    /// Compactor levels, lowest (weight 1) first; every level above 0 is sorted.
    pub levels: Vec<Vec<f64>>,
    /// State of the compaction coin.
    pub rng: u64,
    /// Capacity of each level for the current number of levels (derived, not serialized).
    #[serde(skip)]
    caps: Vec<usize>,
}

impl PartialEq for Kll {
    fn eq(&self, o: &Self) -> bool {
        self.k == o.k && self.c == o.c && self.n == o.n && self.levels == o.levels && self.rng == o.rng
    }
}

impl Default for Kll {
    fn default() -> Self {
        Self::new(DEFAULT_K, DEFAULT_C)
    }
}

/// Merges two sorted runs into one.
fn merge_sorted(a: Vec<f64>, b: &[f64]) -> Vec<f64> {
    if b.is_empty() {
        return a;
    }
    if a.is_empty() {
        return b.to_vec();
    }
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i].total_cmp(&b[j]).is_le() {
            out.push(a[i]);
            i += 1;
        } else {
            out.push(b[j]);
            j += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// Batches smaller than this are inserted value by value, in stream order.
pub const MIN_BATCH: usize = 64;

/// Capacity of level `h` in a sketch of `levels` levels; a level not created yet would hold `k`.
fn level_capacity(k: usize, c: f64, levels: usize, h: usize) -> usize {
    if h < levels {
        ((k as f64) * c.powi((levels - 1 - h) as i32)).ceil().max(2.0) as usize
    } else {
        k
    }
}

/// The part of a sketch's state that decides how a batch is compacted: its size parameters,
/// its number of levels and its coin. It does not depend on the values the sketch holds, so
/// the order statistics a batch contributes are known from the batch's size alone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SketchPlan {
    k: usize,
    c: f64,
    levels: usize,
    rng: u64,
}

/// The order statistics of a sorted batch that the sketch keeps (see [`SketchPlan::select`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// Values in the batch.
    pub n: usize,
    /// Items set aside on the way, as `(level, rank)`, in the order they were taken (each rank
    /// larger than every rank taken after it).
    pub odd: Vec<(usize, usize)>,
    /// The kept run: ranks `first + i * stride` for `i < len` ...
    pub first: usize,
    /// ... at this stride (a power of two) ...
    pub stride: usize,
    /// ... this many of them ...
    pub len: usize,
    /// ... joining this level.
    pub level: usize,
    /// Coin flips drawn.
    pub coins: usize,
    levels_before: usize,
}

impl Selection {
    /// Every rank kept, in ascending order: the run, then the odd items (last taken first).
    pub fn ranks(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.len).map(|i| self.first + i * self.stride).chain(self.odd.iter().rev().map(|&(_, r)| r))
    }

    /// Number of ranks kept.
    pub fn count(&self) -> usize {
        self.len + self.odd.len()
    }
}

impl SketchPlan {
    /// Which order statistics of a sorted batch of `n >= MIN_BATCH` values the sketch keeps:
    /// the batch is halved, from a random offset each time, until it fits the level it lands
    /// on; when a run has an odd length its last item is first set aside on its level.
    pub fn select(&self, n: usize) -> Selection {
        debug_assert!(n >= MIN_BATCH);
        let mut rng = self.rng;
        let mut levels = self.levels;
        let (mut first, mut stride, mut len, mut h, mut coins) = (0usize, 1usize, n, 0usize, 0usize);
        let mut odd = Vec::new();
        while len > level_capacity(self.k, self.c, levels, h) {
            if len % 2 == 1 {
                len -= 1;
                odd.push((h, first + len * stride));
                levels = levels.max(h + 1);
            }
            let offset = (splitmix(&mut rng) & 1) as usize;
            coins += 1;
            first += offset * stride;
            stride *= 2;
            len /= 2;
            h += 1;
        }
        Selection { n, odd, first, stride, len, level: h, coins, levels_before: self.levels }
    }
}

impl Kll {
    /// An empty sketch with the given parameters.
    pub fn new(k: usize, c: f64) -> Self {
        // Capacities are derived at the first value: an empty sketch (a window's, never fed)
        // costs no allocation for them, nor do its copies.
        Kll { k: k.max(8), c, n: 0, levels: vec![Vec::new()], rng: SEED, caps: Vec::new() }
    }

    /// Builds a sketch from levels as SageMaker stores them (level `h` items weigh `2^h`).
    /// `None` when the weights do not fit in 64 bits (more levels than any real sketch has).
    pub fn from_levels(k: usize, c: f64, levels: Vec<Vec<f64>>) -> Option<Self> {
        let mut levels: Vec<Vec<f64>> =
            levels.into_iter().map(|l| l.into_iter().filter(|v| v.is_finite()).collect()).collect();
        if levels.is_empty() {
            levels.push(Vec::new());
        }
        for l in levels.iter_mut().skip(1) {
            l.sort_unstable_by(f64::total_cmp);
        }
        let mut n = 0u64;
        for (h, l) in levels.iter().enumerate() {
            let w = u32::try_from(h).ok().and_then(|h| 1u64.checked_shl(h)).filter(|&w| w < 1 << 62)?;
            n = n.checked_add((l.len() as u64).checked_mul(w)?)?;
        }
        let mut s = Kll { k: k.max(8), c, n, levels, rng: SEED, caps: Vec::new() };
        s.refresh_caps();
        Some(s)
    }

    fn refresh_caps(&mut self) {
        let h = self.levels.len();
        self.caps = (0..h).map(|l| level_capacity(self.k, self.c, h, l)).collect();
    }

    /// True when no value was inserted.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    fn capacity(&self, h: usize) -> usize {
        if self.caps.len() != self.levels.len() {
            // A deserialized sketch, before its first compaction: derive on the fly.
            return level_capacity(self.k, self.c, self.levels.len(), h);
        }
        self.caps[h]
    }

    /// Inserts one finite value (non-finite values are ignored).
    #[inline]
    pub fn update(&mut self, v: f64) {
        if !v.is_finite() {
            return;
        }
        self.levels[0].push(v);
        self.n += 1;
        if self.caps.len() != self.levels.len() {
            self.refresh_caps();
        }
        if self.levels[0].len() >= self.capacity(0) {
            self.compress();
        }
    }

    /// Inserts a batch of finite values sorted in ascending order: the batch is halved (every
    /// other item from a seeded random offset, as a compaction does) until it fits the level it
    /// lands on, and merged there. Compacting one sorted run adds at most its level's weight of
    /// rank error, as a compaction of the same items inside the sketch would, so accuracy stays
    /// that of KLL. Batches of fewer than [`MIN_BATCH`] values are inserted one by one.
    ///
    /// Only the order statistics that the halving keeps matter: [`Kll::plan`] and
    /// [`SketchPlan::select`] name them before the values are seen, so that a caller can find
    /// them without sorting the batch, and [`Kll::update_selected`] inserts them. This method is
    /// that path for a batch that is already sorted.
    pub fn update_sorted(&mut self, values: &[f64]) {
        if values.len() < MIN_BATCH {
            values.iter().for_each(|&v| self.update(v));
            return;
        }
        debug_assert!(values.is_sorted_by(|a, b| a.total_cmp(b).is_le()), "update_sorted needs a sorted batch");
        let sel = self.plan().select(values.len());
        let picked: Vec<f64> = sel.ranks().map(|r| values[r]).collect();
        self.update_selected(&sel, &picked);
    }

    /// What decides how the next batch is compacted (see [`SketchPlan::select`]).
    pub fn plan(&self) -> SketchPlan {
        SketchPlan { k: self.k, c: self.c, levels: self.levels.len(), rng: self.rng }
    }

    /// Inserts a batch of `sel.n` values given only the order statistics `sel` names:
    /// `values[i]` is the value of rank `sel.ranks().nth(i)` in the batch sorted in ascending
    /// (total) order. `sel` must come from this sketch's current [`Kll::plan`]. The result is the
    /// same as [`Kll::update_sorted`] on the whole sorted batch.
    pub fn update_selected(&mut self, sel: &Selection, values: &[f64]) {
        debug_assert_eq!(values.len(), sel.len + sel.odd.len());
        debug_assert_eq!(self.plan().levels, sel.levels_before);
        self.n += sel.n as u64;
        if self.caps.len() != self.levels.len() {
            self.refresh_caps();
        }
        // Odd items were set aside largest first; their ranks follow the run's in `values`.
        let (run, odd) = values.split_at(sel.len);
        for (&(h, _), &v) in sel.odd.iter().zip(odd.iter().rev()) {
            self.push_sorted(h, v);
        }
        for _ in 0..sel.coins {
            splitmix(&mut self.rng);
        }
        let h = sel.level;
        while self.levels.len() <= h {
            self.levels.push(Vec::new());
            self.refresh_caps();
        }
        if h == 0 {
            self.levels[0].extend_from_slice(run);
        } else {
            let mine = std::mem::take(&mut self.levels[h]);
            self.levels[h] = merge_sorted(mine, run);
        }
        self.compress();
    }

    fn push_sorted(&mut self, h: usize, v: f64) {
        while self.levels.len() <= h {
            self.levels.push(Vec::new());
            self.refresh_caps();
        }
        let level = &mut self.levels[h];
        if h == 0 {
            level.push(v);
        } else {
            let at = level.partition_point(|x| x.total_cmp(&v).is_le());
            level.insert(at, v);
        }
    }

    fn compress(&mut self) {
        if self.caps.len() != self.levels.len() {
            self.refresh_caps();
        }
        while let Some(h) = self.level_over_capacity() {
            if h + 1 == self.levels.len() {
                self.levels.push(Vec::new());
                self.refresh_caps();
            }
            let mut level = std::mem::take(&mut self.levels[h]);
            // Levels above 0 are kept sorted, so only the insertion buffer needs a sort.
            if h == 0 {
                level.sort_unstable_by(f64::total_cmp);
            }
            // An odd item stays behind so that weights are conserved exactly.
            let keep = if level.len() % 2 == 1 { level.pop() } else { None };
            let offset = (splitmix(&mut self.rng) & 1) as usize;
            let promoted: Vec<f64> = level.iter().skip(offset).step_by(2).copied().collect();
            let above = std::mem::take(&mut self.levels[h + 1]);
            self.levels[h + 1] = merge_sorted(above, &promoted);
            if let Some(v) = keep {
                self.levels[h].push(v);
            }
        }
    }

    fn level_over_capacity(&self) -> Option<usize> {
        (0..self.levels.len()).find(|&h| self.levels[h].len() >= self.capacity(h))
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
            if h == 0 {
                self.levels[0].extend_from_slice(l);
            } else {
                let mine = std::mem::take(&mut self.levels[h]);
                self.levels[h] = merge_sorted(mine, l);
            }
        }
        self.n += other.n;
        self.rng ^= splitmix(&mut other.rng.clone());
        self.refresh_caps();
        self.compress();
    }

    /// Items with their weights, sorted by value.
    pub fn weighted_items(&self) -> Vec<(f64, u64)> {
        let mut items: Vec<(f64, u64)> =
            self.levels.iter().enumerate().flat_map(|(h, l)| l.iter().map(move |&v| (v, 1u64 << h.min(63)))).collect();
        items.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
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
        self.levels.iter().enumerate().map(|(h, l)| (l.iter().filter(|&&v| v < x).count() as u64) << h.min(63)).sum()
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
    fn kll_levels_above_zero_stay_sorted_and_ranks_hold() {
        let mut a = Kll::default();
        let mut b = Kll::default();
        let n = 300_000u64;
        for i in 0..n {
            let v = ((i * 2_654_435_761) % n) as f64;
            if i % 3 == 0 {
                b.update(v)
            } else {
                a.update(v)
            }
        }
        a.merge(&b);
        for l in a.levels.iter().skip(1) {
            assert!(l.windows(2).all(|w| w[0] <= w[1]));
        }
        // Deequ's parameters keep the rank error well under 1%.
        for q in [0.01, 0.25, 0.5, 0.75, 0.99] {
            let v = a.quantiles(&[q])[0];
            assert!((v / n as f64 - q).abs() < 0.01, "q{q}: {v}");
        }
    }

    #[test]
    fn kll_batches_keep_rank_error_small() {
        let n = 1_000_000u64;
        let mut s = Kll::default();
        let all: Vec<f64> = (0..n).map(|i| ((i * 2_654_435_761) % n) as f64).collect();
        for chunk in all.chunks(65_536) {
            let mut batch = chunk.to_vec();
            batch.sort_by(f64::total_cmp);
            s.update_sorted(&batch);
        }
        assert_eq!(s.n, n);
        assert_eq!(s.weighted_items().iter().map(|x| x.1).sum::<u64>(), n);
        for l in s.levels.iter().skip(1) {
            assert!(l.windows(2).all(|w| w[0] <= w[1]));
        }
        for q in [0.001, 0.1, 0.5, 0.9, 0.999] {
            let v = s.quantiles(&[q])[0];
            assert!((v / n as f64 - q).abs() < 0.005, "q{q}: {v}");
        }
    }

    #[test]
    fn levels_past_64_bits_of_weight_are_refused() {
        let ok = Kll::from_levels(200, DEFAULT_C, vec![vec![1.0], vec![2.0, 3.0]]).unwrap();
        assert_eq!((ok.n, ok.quantiles(&[0.5])), (5, vec![2.0]));
        let mut levels = vec![Vec::new(); 70];
        levels[69].push(1.0);
        assert!(Kll::from_levels(200, DEFAULT_C, levels).is_none());
        let mut levels = vec![Vec::new(); 62];
        levels[61] = vec![1.0; 8];
        assert!(Kll::from_levels(200, DEFAULT_C, levels).is_none(), "8 * 2^61 overflows");
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

    /// The halving as it was first written: on the sorted batch itself, in place. The
    /// selection path must keep exactly the same items.
    fn reference_update_sorted(s: &mut Kll, values: &mut [f64]) {
        if values.len() < MIN_BATCH {
            values.iter().for_each(|&v| s.update(v));
            return;
        }
        s.n += values.len() as u64;
        if s.caps.len() != s.levels.len() {
            s.refresh_caps();
        }
        let mut len = values.len();
        let mut h = 0usize;
        while len > level_capacity(s.k, s.c, s.levels.len(), h) {
            if len % 2 == 1 {
                len -= 1;
                s.push_sorted(h, values[len]);
            }
            let offset = (splitmix(&mut s.rng) & 1) as usize;
            for i in 0..len / 2 {
                values[i] = values[offset + 2 * i];
            }
            len /= 2;
            h += 1;
        }
        let run = values[..len].to_vec();
        while s.levels.len() <= h {
            s.levels.push(Vec::new());
            s.refresh_caps();
        }
        if h == 0 {
            s.levels[0].extend_from_slice(&run);
        } else {
            let mine = std::mem::take(&mut s.levels[h]);
            s.levels[h] = merge_sorted(mine, &run);
        }
        s.compress();
    }

    #[test]
    fn selection_keeps_what_the_in_place_halving_keeps() {
        // Batch sizes odd and even, small and large, on small and default sketches: the
        // selected order statistics give the very same sketch as halving the sorted batch.
        for k in [64usize, 200, DEFAULT_K] {
            let (mut a, mut b) = (Kll::new(k, DEFAULT_C), Kll::new(k, DEFAULT_C));
            let mut x = 5u64;
            for round in 0..120usize {
                let n = [1usize, 63, 64, 65, 999, 4097, 65_536, 131_071][round % 8] + round;
                let mut batch: Vec<f64> = (0..n)
                    .map(|_| {
                        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                        ((x >> 11) % 10_007) as f64 - 5000.0
                    })
                    .collect();
                if n >= MIN_BATCH {
                    batch.sort_by(f64::total_cmp);
                }
                let sel = a.plan().select(n.max(MIN_BATCH));
                assert!(sel.ranks().zip(sel.ranks().skip(1)).all(|(p, q)| p < q));
                a.update_sorted(&batch);
                reference_update_sorted(&mut b, &mut batch);
                assert_eq!(a, b, "k {k}, round {round}, n {n}");
            }
        }
    }
}
