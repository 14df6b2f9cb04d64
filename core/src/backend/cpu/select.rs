//! Exact bins and order statistics of a batch, without sorting it.
//!
//! A numeric batch feeds two things that look as if they need the batch sorted: the exact
//! histogram over the baseline's edges, and the few order statistics that the quantile sketch
//! keeps (about one value in 2^h, see [`crate::profile::kll::SketchPlan::select`]). Neither
//! does. Values are spread over up to 8,192 buckets by a monotone map (linear in value, or
//! linear in the bits of the value when it spans many orders of magnitude), one counting pass
//! and one scatter pass:
//! - a bucket that holds no edge lies inside one histogram bin: its count goes there whole;
//! - a bucket that holds no wanted rank is not looked at again.
//!
//! Only the buckets holding an edge or a wanted rank (a few hundred, a few percent of the
//! values) are gathered, and treated the same way, down to slices small enough to sort. The
//! result is exactly that of sorting the batch, binning it and reading the ranks off; the cost
//! is two passes over the values instead of a radix sort's eight.
//!
//! Why the map is safe: it is monotone (never decreasing in the value), so a value in a bucket
//! below an edge's bucket is below the edge, and one in a bucket above it is at or above it.
//! -0.0 is mapped as 0.0, as the edges compare it; ranks use the total order (-0.0 before 0.0),
//! which the final sorts of small slices provide.

use std::ops::Range;

/// Bits of the widest bucket map (8,192 buckets: 32 KiB of counters, in L1/L2).
const MAX_BITS: u32 = 13;
/// Slices this small are sorted.
const SMALL: usize = 32;
/// Deeper than this a slice is sorted (only inputs crafted against the maps get there).
const MAX_DEPTH: usize = 6;

/// Buffers reused from batch to batch, one set per depth.
#[derive(Debug, Default)]
pub struct Scratch {
    levels: Vec<Level>,
    counts: Vec<u32>,
}

#[derive(Debug, Default)]
struct Level {
    counts: Vec<u32>,
    dest: Vec<u32>,
    buf: Vec<f64>,
    edge_buckets: Vec<u32>,
    marked: Vec<Marked>,
    ranks: Vec<usize>,
}

#[derive(Debug, Clone)]
struct Marked {
    /// The bucket.
    bucket: usize,
    /// Offset of the bucket's values in the level's buffer.
    offset: usize,
    /// Values in the bucket.
    count: usize,
    /// Rank of its first value in the slice.
    start: usize,
    /// Its edges (indices into the slice's edges).
    edges: Range<usize>,
    /// Its wanted ranks (indices into the slice's ranks).
    ranks: Range<usize>,
}

/// Order-preserving key of a finite f64 whose -0.0 was made 0.0.
#[inline(always)]
fn order_key(v: f64) -> u64 {
    let b = (v + 0.0).to_bits();
    b ^ ((((b as i64) >> 63) as u64) | (1u64 << 63))
}

#[inline(always)]
fn by_value(v: f64, lo: f64, scale: f64, mask: usize) -> usize {
    ((v - lo) * scale) as u32 as usize & mask
}

#[inline(always)]
fn by_key(v: f64, lo: u64, shift: u32, mask: usize) -> usize {
    ((order_key(v) - lo) >> shift) as usize & mask
}

/// A monotone map from `[lo, hi]` onto `0..buckets`.
#[derive(Debug, Clone, Copy)]
enum Map {
    /// Linear in the value.
    Value { lo: f64, scale: f64 },
    /// Linear in the order-preserving bits: a constant number of buckets per octave.
    Key { lo: u64, shift: u32 },
}

impl Map {
    fn new(lo: f64, hi: f64, bits: u32, by_key: bool) -> Map {
        let buckets = (1u64 << bits) as f64;
        let span = hi - lo;
        if by_key || !span.is_finite() {
            let (klo, khi) = (order_key(lo), order_key(hi));
            let width = 64 - (khi - klo).leading_zeros();
            Map::Key { lo: klo, shift: width.saturating_sub(bits) }
        } else {
            // Slightly under buckets/span, so that hi itself maps below `buckets`.
            Map::Value { lo, scale: buckets / span * (1.0 - 1.0 / (1u64 << 20) as f64) }
        }
    }

    /// Bucket of a value in `[lo, hi]`.
    #[inline(always)]
    fn bucket(self, v: f64, mask: usize) -> usize {
        match self {
            Map::Value { lo, scale } => by_value(v, lo, scale, mask),
            Map::Key { lo, shift } => by_key(v, lo, shift, mask),
        }
    }

    /// Calls `f(bucket, value)` for every value, with the map's kind chosen once outside the
    /// loop (a pass over the batch is the hot path).
    #[inline(always)]
    fn each(self, values: &[f64], mask: usize, mut f: impl FnMut(usize, f64)) {
        match self {
            Map::Value { lo, scale } => values.iter().for_each(|&v| f(((v - lo) * scale) as u32 as usize & mask, v)),
            Map::Key { lo, shift } => values.iter().for_each(|&v| f(((order_key(v) - lo) >> shift) as usize & mask, v)),
        }
    }
}

/// Adds to `bins` (`edges.len() + 1` of them) the exact histogram of `values` over `edges`
/// (bin `i` holds the values with exactly `i` edges `<=` them) and writes into `out[i]` the
/// value of rank `ranks[i]` in `values` sorted in ascending total order. `values` are finite,
/// `edges` sorted and finite, `ranks` strictly ascending and below `values.len()`. `bounds`,
/// when known, are the smallest and largest value (-0.0 and 0.0 alike); `whole` says every
/// value is a whole number. `values` is reordered.
///
/// Two kinds of batches take a shorter way: batches already in order (event times in capture
/// order) are read as they are, and whole numbers in a range narrower than the batch (labels,
/// codes, counts) are counted per value.
#[allow(clippy::too_many_arguments, reason = "the batch, what it is known to be, and what to compute")]
pub fn bin_and_select(
    values: &mut [f64],
    bounds: Option<(f64, f64)>,
    whole: bool,
    edges: &[f64],
    bins: &mut [u64],
    ranks: &[usize],
    out: &mut [f64],
    scratch: &mut Scratch,
) {
    debug_assert_eq!(bins.len(), edges.len() + 1);
    debug_assert_eq!(ranks.len(), out.len());
    debug_assert!(ranks.windows(2).all(|w| w[0] < w[1]) && ranks.last().is_none_or(|&r| r < values.len()));
    if values.is_empty() {
        return;
    }
    if values.is_sorted_by(|a, b| a.total_cmp(b).is_le()) {
        return sorted(values, edges, bins, ranks, out);
    }
    let (lo, hi) = bounds.unwrap_or_else(|| min_max(values));
    // Whole numbers below 2^53 in magnitude are exact in f64, and so are their differences.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if whole && lo > -EXACT && hi < EXACT && hi - lo < values.len().min(1 << 16) as f64 {
        return counted(values, lo, hi, edges, bins, ranks, out, &mut scratch.counts);
    }
    if scratch.levels.len() < MAX_DEPTH {
        scratch.levels.resize_with(MAX_DEPTH, Level::default);
    }
    solve(values, lo, hi, edges, 0, bins, ranks, out, &mut scratch.levels);
}

/// Histogram edges with a table that finds a value's bin (the count of edges at or below it)
/// in a few steps rather than a binary search of all of them: for a window's few rows, where
/// [`bin_and_select`]'s passes cost more than they save.
///
/// The table cuts `[first edge, last edge]` into equal cells, four per edge, by a map that
/// never decreases in the value (values outside fall in the end cells), and keeps for each
/// cell the edges whose cell comes before it. A value's own cell then bounds its bin exactly:
/// an edge in an earlier cell is below the value (were it not, its cell could not come first),
/// one in a later cell is above it, so only the edges of the value's cell are compared — with
/// the map monotone, whatever its rounding. The map ([`Map`], as the bucket selection's) is
/// linear in the value, or, when that crowds more than [`PAD`] edges into a cell (heavy tails:
/// most quantile edges near zero, a few far out), linear in the value's order key, which spaces
/// the cells about evenly in the exponent; the one whose fullest cell holds fewer edges is
/// kept. -0.0 and 0.0 fall in the same cell and compare equal to the edges, as in
/// [`bin_and_select`].
#[derive(Debug, Default)]
pub struct Edges {
    /// The edges, then [`PAD`] infinities: the comparisons of a cell's edges read past the
    /// last one.
    padded: Vec<f64>,
    /// The value's cell, before it is clamped to the cells.
    map: Option<Map>,
    /// Per cell (and one past the last), the edges in earlier cells.
    before: Vec<u32>,
}

/// Edges compared without a branch: a cell holding at most this many takes all its
/// comparisons at once.
const PAD: usize = 4;

impl Edges {
    /// The table for `edges` (sorted, finite, distinct), made again only when they differ from
    /// the last ones.
    pub fn prepare(&mut self, edges: &[f64]) {
        if self.padded.len() == edges.len() + PAD && self.padded[..edges.len()] == *edges {
            return;
        }
        self.padded.clear();
        self.padded.extend_from_slice(edges);
        self.padded.extend([f64::INFINITY; PAD]);
        let cells = (PAD * edges.len()).next_power_of_two().clamp(16, 1 << 16);
        let (lo, hi) = (edges.first().copied().unwrap_or(0.0), edges.last().copied().unwrap_or(0.0));
        let bits = cells.trailing_zeros();
        // Edges too far apart for f64 take the order key at once.
        self.map = Some(Map::new(lo, hi, bits, false));
        let first = self.fill(edges, cells);
        if first > PAD && matches!(self.map, Some(Map::Value { .. })) {
            self.map = Some(Map::new(lo, hi, bits, true));
            if self.fill(edges, cells) >= first {
                self.map = Some(Map::new(lo, hi, bits, false));
                self.fill(edges, cells);
            }
        }
    }

    /// Fills `before` for `cells` cells under the current map; the most edges in one cell.
    fn fill(&mut self, edges: &[f64], cells: usize) -> usize {
        self.before.clear();
        self.before.resize(cells + 1, 0);
        for &e in edges {
            let c = self.cell(e);
            self.before[c + 1] += 1;
        }
        let fullest = self.before.iter().max().copied().unwrap_or(0) as usize;
        for c in 0..cells {
            self.before[c + 1] += self.before[c];
        }
        fullest
    }

    #[inline(always)]
    fn cell(&self, v: f64) -> usize {
        let last = self.before.len() - 2;
        match self.map {
            // `as` saturates (and makes NaN, 0·∞ for one edge, 0): values below the first edge
            // go to cell 0, above the last to the last cell.
            Some(Map::Value { lo, scale }) => (((v - lo) * scale) as usize).min(last),
            // The subtraction saturates: values below the first edge go to cell 0.
            Some(Map::Key { lo, shift }) => ((order_key(v).saturating_sub(lo) >> shift) as usize).min(last),
            None => 0,
        }
    }

    /// The bin of finite `v`: the count of edges `<=` it.
    #[inline(always)]
    pub fn bin(&self, v: f64) -> usize {
        let c = self.cell(v);
        let (from, to) = (self.before[c] as usize, self.before[c + 1] as usize);
        if to - from <= PAD {
            // The edges past this cell's are above `v`: counting them adds nothing.
            let e = &self.padded[from..from + PAD];
            from + e.iter().map(|&e| usize::from(e <= v)).sum::<usize>()
        } else {
            from + self.padded[from..to].partition_point(|&e| e <= v)
        }
    }

    /// Adds to `bins` (`edges.len() + 1` of them) the histogram of finite `values`.
    pub fn count(&self, values: &[f64], bins: &mut [u64]) {
        for &v in values {
            bins[self.bin(v)] += 1;
        }
    }
}

/// The bins of a few finite `values` over `edges` (prepared), as [`bin_and_select`] counts
/// them (bin `i` holds the values with exactly `i` edges `<=` them; -0.0 and 0.0 alike): `at`
/// cleared and filled with the bins holding values, in bin order, and their counts.
pub fn few_bins(values: &[f64], edges: &Edges, at: &mut Vec<(u32, u64)>) {
    at.clear();
    at.extend(values.iter().map(|&v| (edges.bin(v) as u32, 1)));
    at.sort_unstable_by_key(|e| e.0);
    at.dedup_by(|next, kept| {
        let same = next.0 == kept.0;
        if same {
            kept.1 += next.1;
        }
        same
    });
}

/// A batch already in ascending order: one search per edge, ranks read off.
fn sorted(values: &[f64], edges: &[f64], bins: &mut [u64], ranks: &[usize], out: &mut [f64]) {
    let mut prev = 0usize;
    for (i, &e) in edges.iter().enumerate() {
        let at = prev + values[prev..].partition_point(|&v| v < e);
        bins[i] += (at - prev) as u64;
        prev = at;
    }
    bins[edges.len()] += (values.len() - prev) as u64;
    for (o, &r) in out.iter_mut().zip(ranks) {
        *o = values[r];
    }
}

/// Whole numbers in `[lo, hi]`, a range narrower than the batch: a count per value, then one
/// walk over the values in order gives the bins and the ranks.
#[allow(clippy::too_many_arguments, reason = "the batch, its range, and what to compute")]
fn counted(
    values: &[f64],
    lo: f64,
    hi: f64,
    edges: &[f64],
    bins: &mut [u64],
    ranks: &[usize],
    out: &mut [f64],
    counts: &mut Vec<u32>,
) {
    // A fractional value would be counted as the whole number below it: `whole` comes from the
    // column's type (integers, times, scale-0 decimals), never from the values.
    debug_assert!(values.iter().all(|v| v.fract() == 0.0), "whole-number path given a fractional value");
    counts.clear();
    counts.resize((hi - lo) as usize + 1, 0);
    for &v in values {
        counts[(v - lo) as usize] += 1;
    }
    let (mut ep, mut rp, mut start) = (0usize, 0usize, 0usize);
    for (i, &c) in counts.iter().enumerate() {
        if c == 0 {
            continue;
        }
        let v = lo + i as f64;
        while ep < edges.len() && edges[ep] <= v {
            ep += 1;
        }
        bins[ep] += c as u64;
        start += c as usize;
        while rp < ranks.len() && ranks[rp] < start {
            out[rp] = v;
            rp += 1;
        }
    }
}

fn min_max(values: &[f64]) -> (f64, f64) {
    let mut lo = [f64::INFINITY; 4];
    let mut hi = [f64::NEG_INFINITY; 4];
    let chunks = values.chunks_exact(4);
    let rest = chunks.remainder();
    for q in chunks {
        for l in 0..4 {
            lo[l] = if q[l] < lo[l] { q[l] } else { lo[l] };
            hi[l] = if q[l] > hi[l] { q[l] } else { hi[l] };
        }
    }
    for &v in rest {
        lo[0] = if v < lo[0] { v } else { lo[0] };
        hi[0] = if v > hi[0] { v } else { hi[0] };
    }
    (lo.iter().copied().fold(f64::INFINITY, f64::min), hi.iter().copied().fold(f64::NEG_INFINITY, f64::max))
}

/// Bins a small slice and reads its ranks off: without sorting when it only needs bins (a
/// count of the edges at or below each value) or one rank (a selection), by a sort otherwise.
fn leaf(values: &mut [f64], edges: &[f64], base: usize, bins: &mut [u64], ranks: &[usize], out: &mut [f64]) {
    match ranks {
        [] => {
            for &v in values.iter() {
                bins[base + edges.iter().filter(|&&e| e <= v).count()] += 1;
            }
            return;
        }
        [r] if edges.is_empty() => {
            let (_, v, _) = values.select_nth_unstable_by(*r, f64::total_cmp);
            out[0] = *v;
            bins[base] += values.len() as u64;
            return;
        }
        _ => {}
    }
    values.sort_unstable_by(f64::total_cmp);
    sorted(values, edges, &mut bins[base..=base + edges.len()], ranks, out);
}

#[allow(
    clippy::too_many_arguments,
    reason = "one recursive step: the slice, its edges and ranks, and where results go"
)]
fn solve(
    values: &mut [f64],
    lo: f64,
    hi: f64,
    edges: &[f64],
    bin_base: usize,
    bins: &mut [u64],
    ranks: &[usize],
    out: &mut [f64],
    levels: &mut [Level],
) {
    let n = values.len();
    // Edges below the slice count for every value; edges above it for none.
    let below = edges.partition_point(|&e| e < lo);
    let above = edges.partition_point(|&e| e <= hi);
    let (edges, base) = (&edges[below..above.max(below)], bin_base + below);
    if edges.is_empty() && ranks.is_empty() {
        bins[base] += n as u64;
        return;
    }
    let Some((level, deeper)) = levels.split_first_mut() else {
        return leaf(values, edges, base, bins, ranks, out);
    };
    if n <= SMALL {
        return leaf(values, edges, base, bins, ranks, out);
    }
    if lo == hi {
        if lo == 0.0 {
            // -0.0 and 0.0 together: one bin, but two values in the total order.
            return leaf(values, edges, base, bins, ranks, out);
        }
        // Every value equal: every edge in range equals it too.
        bins[base + edges.len()] += n as u64;
        out.iter_mut().for_each(|o| *o = lo);
        return;
    }
    let bits = (n / 8).max(16).ilog2().min(MAX_BITS);
    let buckets = 1usize << bits;
    let mask = buckets - 1;
    let mut map = Map::new(lo, hi, bits, concentrated(values, lo, hi));
    level.counts.clear();
    level.counts.resize(buckets, 0);
    count(values, map, mask, &mut level.counts);
    if matches!(map, Map::Value { .. }) && level.counts.iter().any(|&c| c as usize == n) {
        // Rounding put everything in one bucket: the bits always separate two values.
        map = Map::new(lo, hi, bits, true);
        level.counts.iter_mut().for_each(|c| *c = 0);
        count(values, map, mask, &mut level.counts);
    }
    level.edge_buckets.clear();
    level.edge_buckets.extend(edges.iter().map(|&e| map.bucket(e, mask) as u32));
    // Buckets without an edge or a wanted rank are done; the others are gathered.
    level.marked.clear();
    let (mut ep, mut rp, mut start, mut total) = (0usize, 0usize, 0usize, 0usize);
    for (b, &c) in level.counts.iter().enumerate() {
        let c = c as usize;
        let e0 = ep;
        while ep < edges.len() && level.edge_buckets[ep] as usize == b {
            ep += 1;
        }
        let r0 = rp;
        while rp < ranks.len() && ranks[rp] < start + c {
            rp += 1;
        }
        if c > 0 {
            if ep > e0 || rp > r0 {
                level.marked.push(Marked { bucket: b, offset: total, count: c, start, edges: e0..ep, ranks: r0..rp });
                total += c;
            } else {
                bins[base + e0] += c as u64;
            }
        }
        start += c;
    }
    // Scatter: values of unmarked buckets all land in a scratch area past `total`.
    level.dest.clear();
    level.dest.resize(buckets, total as u32);
    for m in &level.marked {
        level.dest[m.bucket] = m.offset as u32;
    }
    if level.buf.len() < total + n {
        level.buf.resize(total + n, 0.0);
    }
    scatter(values, map, mask, &mut level.dest, &mut level.buf);
    for m in &level.marked {
        let slice = &mut level.buf[m.offset..m.offset + m.count];
        level.ranks.clear();
        level.ranks.extend(ranks[m.ranks.clone()].iter().map(|r| r - m.start));
        let (sub_edges, sub_base) = (&edges[m.edges.clone()], base + m.edges.start);
        let out = &mut out[m.ranks.clone()];
        if m.count <= SMALL {
            leaf(slice, sub_edges, sub_base, bins, &level.ranks, out);
        } else {
            let (l, h) = min_max(slice);
            solve(slice, l, h, sub_edges, sub_base, bins, &level.ranks, out, deeper);
        }
    }
}

/// True when a linear map would crowd most values into a few buckets (long tails, outliers):
/// judged on every 16th value of a large slice.
fn concentrated(values: &[f64], lo: f64, hi: f64) -> bool {
    if values.len() < 1024 {
        return false;
    }
    let map = Map::new(lo, hi, 6, false);
    let mut counts = [0u32; 64];
    let mut sampled = 0;
    for &v in values.iter().step_by(16) {
        counts[map.bucket(v, 63)] += 1;
        sampled += 1;
    }
    counts.iter().any(|&c| 2 * c > sampled)
}

fn count(values: &[f64], map: Map, mask: usize, counts: &mut [u32]) {
    map.each(values, mask, |b, _| counts[b] += 1);
}

fn scatter(values: &[f64], map: Map, mask: usize, dest: &mut [u32], buf: &mut [f64]) {
    map.each(values, mask, |b, v| {
        let d = dest[b];
        buf[d as usize] = v;
        dest[b] = d + 1;
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference: sort, bin with one search per value, read the ranks off.
    fn reference(values: &[f64], edges: &[f64], ranks: &[usize]) -> (Vec<u64>, Vec<u64>) {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let mut bins = vec![0u64; edges.len() + 1];
        for &v in values {
            bins[edges.partition_point(|&e| e <= v)] += 1;
        }
        (bins, ranks.iter().map(|&r| sorted[r].to_bits()).collect())
    }

    fn lcg(seed: u64) -> impl FnMut() -> f64 {
        let mut x = seed;
        move || {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (x >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// Standard normal draws (Box–Muller over [`lcg`]).
    fn normal(seed: u64) -> impl FnMut() -> f64 {
        let mut u = lcg(seed);
        move || (-2.0 * u().max(1e-300).ln()).sqrt() * (std::f64::consts::TAU * u()).cos()
    }

    #[test]
    fn few_bins_equal_bin_and_select() {
        let mut u = lcg(29);
        let edges: Vec<f64> = (0..256).map(|i| f64::from(i - 128) / 16.0).collect();
        let mut scratch = Scratch::default();
        let mut table = Edges::default();
        table.prepare(&edges);
        let mut at = Vec::new();
        for n in 0..64 {
            // Values on edges, between them, outside them, repeated, and -0.0.
            let mut values: Vec<f64> = (0..n)
                .map(|i| match i % 5 {
                    0 => edges[(u() * 256.0) as usize],
                    1 => -0.0,
                    2 => (u() - 0.5) * 40.0,
                    _ => ((u() - 0.5) * 20.0).round() / 4.0,
                })
                .collect();
            few_bins(&values, &table, &mut at);
            let mut bins = vec![0u64; edges.len() + 1];
            bin_and_select(&mut values, None, false, &edges, &mut bins, &[], &mut [], &mut scratch);
            let dense: Vec<(u32, u64)> =
                bins.iter().enumerate().filter(|e| *e.1 > 0).map(|(i, &c)| (i as u32, c)).collect();
            assert_eq!(at, dense, "{n} values");
        }
    }

    /// The table's bin of every value is the binary search's, for edges even, crowded (a
    /// lognormal's quantiles), spanning all of f64, one or none, and values on the edges, just
    /// beside them, outside them, and -0.0; one table made again for other edges of the same
    /// count.
    #[test]
    fn edges_table_gives_each_values_search() {
        let mut u = lcg(41);
        let mut normal = normal(5);
        let quantiles = |mut v: Vec<f64>, k: usize| {
            v.sort_by(f64::total_cmp);
            let mut e: Vec<f64> = (1..k).map(|i| v[i * v.len() / k] + 0.0).collect();
            e.dedup();
            e
        };
        let edge_sets: Vec<Vec<f64>> = vec![
            (0..256).map(|i| f64::from(i - 128) / 16.0).collect(),
            quantiles((0..20_000).map(|_| normal()).collect(), 256),
            quantiles((0..20_000).map(|_| (5.0 * normal()).exp()).collect(), 256),
            quantiles((0..20_000).map(|_| (3.0 * normal()).exp() * if u() < 0.5 { -1.0 } else { 1.0 }).collect(), 256),
            vec![-1e300, -1e-300, -0.0_f64.next_down(), 0.0, 5e-324, 1e-300, 1e300],
            quantiles((0..20_000).map(|_| (u() * 100.0).floor()).collect(), 64),
            vec![-f64::MAX, -1.0, 0.0, 1e-300, 1.0, f64::MAX],
            vec![-1e308, 1e308],
            vec![0.0],
            vec![2.5],
            Vec::new(),
        ];
        let mut table = Edges::default();
        for edges in &edge_sets {
            table.prepare(edges);
            // Quantile edges of a heavy tail crowd the linear map: the order key spreads them.
            let fullest = table.before.windows(2).map(|w| (w[1] - w[0]) as usize).max().unwrap_or(0);
            if edges.len() == 255 && edges[0] > 0.0 {
                // exp(5z)'s quantiles.
                assert!(
                    matches!(table.map, Some(Map::Key { .. })) && fullest <= PAD,
                    "heavy tail: {fullest} in a cell"
                );
            }
            let mut values: Vec<f64> =
                (0..5_000).map(|_| (5.0 * normal()).exp() * if u() < 0.5 { -1.0 } else { 1.0 }).collect();
            values.extend((0..5_000).map(|_| normal() * 3.0));
            values.extend(edges.iter().flat_map(|&e| [e, e.next_up(), e.next_down()]).filter(|v| v.is_finite()));
            values.extend([-0.0, 0.0, f64::MAX, -f64::MAX, 5e-324, -5e-324]);
            for &v in &values {
                assert_eq!(table.bin(v), edges.partition_point(|&e| e <= v), "{v:e} over {} edges", edges.len());
            }
        }
        // The same count of edges, other values: made again.
        let (a, b): (Vec<f64>, Vec<f64>) =
            ((0..8).map(f64::from).collect(), (0..8).map(|i| f64::from(i) * 10.0).collect());
        table.prepare(&a);
        table.prepare(&b);
        assert_eq!(table.bin(15.0), 2);
    }

    #[test]
    fn bins_and_ranks_equal_sorting() {
        let mut u = lcg(17);
        let mut normal = normal(3);
        let n = 70_001;
        let cases: Vec<(&str, Vec<f64>)> = vec![
            ("normal", (0..n).map(|_| normal()).collect()),
            ("shifted normal", (0..n).map(|_| 50.0 + 6.0 * normal()).collect()),
            ("lognormal", (0..n).map(|_| (5.0 * normal()).exp().min(1e12)).collect()),
            ("negative lognormal", (0..n).map(|_| -(3.0 * normal()).exp()).collect()),
            ("small integers", (0..n).map(|_| (u() * 100.0).floor()).collect()),
            ("skewed integers", (0..n).map(|_| (u() * u() * 10_000.0).floor()).collect()),
            ("constant", vec![7.25; n]),
            ("zeros of both signs", (0..n).map(|i| if i % 3 == 0 { -0.0 } else { 0.0 }).collect()),
            ("zeros and ones", (0..n).map(|i| [-0.0, 0.0, 1.0, -1.0][i % 4]).collect()),
            ("one outlier", (0..n).map(|i| if i == 5 { 1e300 } else { normal() }).collect()),
            ("extremes", (0..n).map(|i| [f64::MAX, -f64::MAX, 5e-324, -5e-324, 1.0][i % 5]).collect()),
            ("subnormals", (0..n).map(|_| u() * 1e-310 - 5e-311).collect()),
            ("sorted timestamps", (0..n).map(|i| 1.78e12 + 37.0 * i as f64).collect()),
            ("two far clusters", (0..n).map(|i| if i % 2 == 0 { 1e-200 * u() } else { 1e200 * (1.0 + u()) }).collect()),
        ];
        let mut scratch = Scratch::default();
        for (name, values) in &cases {
            // Quantile edges of the data itself, edges around it, and none.
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let mut quantile_edges: Vec<f64> = (1..256).map(|i| sorted[i * values.len() / 256]).collect();
            quantile_edges.dedup();
            let edge_sets: Vec<Vec<f64>> = vec![
                quantile_edges,
                vec![-1e308, -1.0, -0.0, 0.5, 1.0, 7.25, 1e3, 1.78e12 + 37.0 * 999.0, 1e308],
                vec![],
            ];
            for (stride, first) in [(256usize, 77usize), (1, 0), (4096, 4095), (0, 0)] {
                let ranks: Vec<usize> =
                    if stride == 0 { Vec::new() } else { (first..values.len()).step_by(stride).collect() };
                for edges in &edge_sets {
                    let (want_bins, want_ranks) = reference(values, edges, &ranks);
                    let mut work = values.clone();
                    let mut bins = vec![0u64; edges.len() + 1];
                    let mut out = vec![f64::NAN; ranks.len()];
                    let whole = values.iter().all(|v| v.fract() == 0.0 && v.to_bits() != (-0.0f64).to_bits());
                    let bounds = if stride == 1 { None } else { Some(min_max(values)) };
                    bin_and_select(&mut work, bounds, whole, edges, &mut bins, &ranks, &mut out, &mut scratch);
                    assert_eq!(bins, want_bins, "{name}: bins, {} edges, stride {stride}", edges.len());
                    let got: Vec<u64> = out.iter().map(|v| v.to_bits()).collect();
                    assert!(got == want_ranks, "{name}: ranks, {} edges, stride {stride}", edges.len());
                }
            }
        }
    }

    #[test]
    fn small_and_empty_batches() {
        let mut scratch = Scratch::default();
        let mut bins = vec![0u64; 2];
        bin_and_select(&mut [], None, false, &[1.0], &mut bins, &[], &mut [], &mut scratch);
        assert_eq!(bins, vec![0, 0]);
        let mut v = vec![3.0, -1.0, 1.0, 2.0];
        let mut out = [0.0; 2];
        bin_and_select(&mut v, None, false, &[1.0], &mut bins, &[0, 3], &mut out, &mut scratch);
        assert_eq!((bins, out), (vec![1, 3], [-1.0, 3.0]));
    }
}
