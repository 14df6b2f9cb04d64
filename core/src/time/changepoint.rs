//! Change points in per-window series: where a feature's mean, spread, completeness or drift
//! distance shifts, found over the windows of a run.
//!
//! Three detectors, on each series scaled by a robust estimate of its noise (σ̂ = the median
//! absolute difference of consecutive points / (0.6745·√2), so a change is measured in units
//! of the window-to-window noise):
//! - [`Method::Pelt`] (offline, the default): PELT (Killick, Fearnhead & Eckley 2012), the exact
//!   minimiser of the squared error of a piecewise-constant mean plus a penalty of `3·ln(n)` per
//!   change (a modified BIC, conservative against noise), segments of at least 2 points; `O(n)`
//!   with many changes, up to `O(n²)` on long stable series (series run in parallel);
//! - [`Method::BinSeg`] (offline): binary segmentation of the same cost and penalty — split where
//!   the error drops most, keep the split when the drop exceeds the penalty, recurse;
//!   `O(n log n)`, but a short burst inside a long segment can stay hidden;
//! - [`Method::PageHinkley`] (online): the two-sided Page-Hinkley test with tolerance
//!   `δ = 0.5` and threshold `λ = 10` (in σ̂ units), restarted after each alarm; the change is
//!   placed where the cumulative deviation last turned (the start of the drift), not where it was
//!   noticed.

use serde::Serialize;

/// The file a run's change points are written to.
pub const CHANGEPOINTS: &str = "changepoints.json";

/// A change-point detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// Offline segmentation: PELT with a modified-BIC penalty (exact optimum).
    #[default]
    Pelt,
    /// Offline segmentation: binary segmentation with a modified-BIC penalty (fast; can miss
    /// a short burst inside a long segment).
    BinSeg,
    /// Online detection: two-sided Page-Hinkley.
    PageHinkley,
}

impl std::str::FromStr for Method {
    type Err = crate::Error;

    fn from_str(s: &str) -> crate::Result<Self> {
        match s.trim() {
            "binseg" => Ok(Method::BinSeg),
            "pelt" => Ok(Method::Pelt),
            "page-hinkley" | "ph" => Ok(Method::PageHinkley),
            other => Err(crate::error::invalid(
                crate::Opt::Method,
                format!("expected binseg, pelt or page-hinkley, got {other:?}"),
            )),
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Method::BinSeg => "binseg",
            Method::Pelt => "pelt",
            Method::PageHinkley => "page-hinkley",
        })
    }
}

/// One change found: in which feature, in which series, at which window (the first window of
/// the new regime; counted from 0 in time order among the windows holding rows).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangePoint {
    /// The feature.
    pub feature: String,
    /// The series the change was found in (`mean`, `std_dev`, `completeness`, `psi`…).
    pub series: String,
    /// Window index, from 0 in time order.
    pub window_index: usize,
    /// Start of that window (ISO 8601, UTC); `null` for windows of rows.
    pub window_start: Option<String>,
}

/// Robust noise scale of a series: the median absolute difference of consecutive points over
/// `0.6745·√2` (the standard deviation for Gaussian noise), never below a tiny floor relative to
/// the series' magnitude, so that a flat series does not make every wiggle a change.
pub fn noise_scale(x: &[f64]) -> f64 {
    let mut d: Vec<f64> = x.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    let magnitude = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let floor = (magnitude * 1e-9).max(1e-12);
    if d.is_empty() {
        return floor;
    }
    let mid = d.len() / 2;
    let (_, m, _) = d.select_nth_unstable_by(mid, f64::total_cmp);
    (*m / (0.674_489_75 * std::f64::consts::SQRT_2)).max(floor)
}

/// The change points of `x` (indices of the first point of each new segment), ascending.
pub fn detect(x: &[f64], method: Method) -> Vec<usize> {
    if x.len() < 4 {
        return Vec::new();
    }
    let s = noise_scale(x);
    let z: Vec<f64> = x.iter().map(|v| v / s).collect();
    match method {
        Method::BinSeg => binseg(&z, 3.0 * (z.len() as f64).ln(), 2),
        Method::Pelt => pelt(&z, 3.0 * (z.len() as f64).ln(), 2),
        Method::PageHinkley => page_hinkley(&z, 0.5, 10.0),
    }
}

/// Prefix sums of a series, centred, for segment costs in O(1).
struct Sse {
    s1: Vec<f64>,
    s2: Vec<f64>,
}

impl Sse {
    fn new(x: &[f64]) -> Sse {
        let centre = x.iter().sum::<f64>() / x.len().max(1) as f64;
        let (mut s1, mut s2) = (vec![0.0; x.len() + 1], vec![0.0; x.len() + 1]);
        for (i, v) in x.iter().enumerate() {
            let v = v - centre;
            s1[i + 1] = s1[i] + v;
            s2[i + 1] = s2[i] + v * v;
        }
        Sse { s1, s2 }
    }

    /// Squared error of `x[a..b]` around its mean.
    fn cost(&self, a: usize, b: usize) -> f64 {
        let (s, q, m) = (self.s1[b] - self.s1[a], self.s2[b] - self.s2[a], (b - a) as f64);
        (q - s * s / m).max(0.0)
    }
}

/// Binary segmentation for a change in mean under squared error: the best split of a segment
/// is kept when it lowers the error by more than `penalty`, and both halves are split in turn;
/// segments of at least `min_len` points.
pub fn binseg(x: &[f64], penalty: f64, min_len: usize) -> Vec<usize> {
    let min_len = min_len.max(1);
    let sse = Sse::new(x);
    let mut out = Vec::new();
    let mut todo = vec![(0usize, x.len())];
    while let Some((a, b)) = todo.pop() {
        if b - a < 2 * min_len {
            continue;
        }
        let whole = sse.cost(a, b);
        let best = (a + min_len..=b - min_len)
            .map(|k| (whole - sse.cost(a, k) - sse.cost(k, b), k))
            .fold((f64::NEG_INFINITY, a), |m, v| if v.0 > m.0 { v } else { m });
        if best.0 > penalty {
            out.push(best.1);
            todo.push((a, best.1));
            todo.push((best.1, b));
        }
    }
    out.sort_unstable();
    out
}

/// PELT for a change in mean under squared error: the exact minimiser of
/// `Σ segments SSE + penalty · changes`, with segments of at least `min_len` points.
pub fn pelt(x: &[f64], penalty: f64, min_len: usize) -> Vec<usize> {
    let n = x.len();
    let min_len = min_len.max(1);
    if n < 2 * min_len {
        return Vec::new();
    }
    let sse = Sse::new(x);
    let cost = |a: usize, b: usize| sse.cost(a, b);
    let mut f = vec![f64::INFINITY; n + 1];
    let mut last = vec![0usize; n + 1];
    f[0] = -penalty;
    let mut candidates: Vec<usize> = vec![0];
    // f[s] + cost(s, t) of each candidate, computed once for the minimum and the pruning.
    let mut reach: Vec<f64> = Vec::new();
    for t in min_len..=n {
        // Candidates whose segment to t is long enough.
        let mut best = (f64::INFINITY, 0usize);
        reach.clear();
        for &s in &candidates {
            if t - s < min_len {
                reach.push(f64::NEG_INFINITY);
                continue;
            }
            let r = f[s] + cost(s, t);
            reach.push(r);
            let v = r + penalty;
            if v < best.0 {
                best = (v, s);
            }
        }
        f[t] = best.0;
        last[t] = best.1;
        // Pruning: a candidate that cannot beat f[t] now never will (one too recent to be
        // judged stays).
        let mut kept = 0;
        for i in 0..candidates.len() {
            if reach[i] <= f[t] {
                candidates[kept] = candidates[i];
                kept += 1;
            }
        }
        candidates.truncate(kept);
        // A segment may start at t (usable once it holds min_len points).
        candidates.push(t);
    }
    let mut out = Vec::new();
    let mut t = n;
    while t > 0 {
        let s = last[t];
        if s > 0 {
            out.push(s);
        }
        t = s;
    }
    out.reverse();
    out
}

/// Two-sided Page-Hinkley: alarms when the cumulative deviation from the running mean (less
/// `delta` per point) rises more than `lambda` above its minimum (an increase) or falls more
/// than `lambda` below its maximum (a decrease); each alarm restarts the test at the point
/// where the deviation last turned, which is reported as the change.
pub fn page_hinkley(x: &[f64], delta: f64, lambda: f64) -> Vec<usize> {
    let mut out = Vec::new();
    let mut start = 0;
    'restart: while start < x.len() {
        let (mut mean, mut n) = (0.0, 0.0);
        let (mut up, mut up_min, mut up_at) = (0.0f64, 0.0f64, start);
        let (mut down, mut down_max, mut down_at) = (0.0f64, 0.0f64, start);
        for (i, &v) in x.iter().enumerate().skip(start) {
            n += 1.0;
            mean += (v - mean) / n;
            up += v - mean - delta;
            down += v - mean + delta;
            if up < up_min {
                (up_min, up_at) = (up, i + 1);
            }
            if down > down_max {
                (down_max, down_at) = (down, i + 1);
            }
            let alarm = if up - up_min > lambda {
                Some(up_at)
            } else if down_max - down > lambda {
                Some(down_at)
            } else {
                None
            };
            if let Some(at) = alarm {
                let at = at.clamp(start + 1, i);
                out.push(at);
                start = at.max(start + 1);
                continue 'restart;
            }
        }
        break;
    }
    out.dedup();
    out
}

/// Scores of detected change points against human annotations, as the Turing change-point
/// benchmark (van den Burg & Williams, 2020) defines them: positions are 0-based, and 0 counts
/// as a change point in every set.
pub mod score {
    use std::collections::BTreeSet;

    /// Annotated points matched by predicted ones within `margin`, each prediction used once:
    /// every annotated point, in ascending order, takes the nearest prediction left (the smaller
    /// one on a tie).
    pub fn true_positives(annotated: &BTreeSet<usize>, predicted: &BTreeSet<usize>, margin: usize) -> usize {
        let mut left = predicted.clone();
        let mut hits = 0;
        for &tau in annotated {
            let near =
                left.range(tau.saturating_sub(margin)..=tau + margin).min_by_key(|&&x| (x.abs_diff(tau), x)).copied();
            if let Some(x) = near {
                left.remove(&x);
                hits += 1;
            }
        }
        hits
    }

    /// F1 over several annotators: precision against the union of the annotations, recall
    /// averaged over annotators. Returns `(f1, precision, recall)`.
    pub fn f1(annotations: &[Vec<usize>], predicted: &[usize], margin: usize) -> (f64, f64, f64) {
        let with_zero = |v: &[usize]| v.iter().copied().chain([0]).collect::<BTreeSet<usize>>();
        let x = with_zero(predicted);
        let tks: Vec<BTreeSet<usize>> = annotations.iter().map(|a| with_zero(a)).collect();
        let all: BTreeSet<usize> = tks.iter().flatten().copied().collect();
        let p = true_positives(&all, &x, margin) as f64 / x.len() as f64;
        let r = tks.iter().map(|t| true_positives(t, &x, margin) as f64 / t.len() as f64).sum::<f64>()
            / tks.len().max(1) as f64;
        let f = if p + r > 0.0 { p * r / (0.5 * r + 0.5 * p) } else { 0.0 };
        (f, p, r)
    }

    /// The segments `[start, end)` of `0..n` cut at `points`.
    fn segments(points: &[usize], n: usize) -> Vec<(usize, usize)> {
        let cuts: BTreeSet<usize> = points.iter().copied().filter(|&p| p > 0 && p < n).collect();
        let mut out = Vec::with_capacity(cuts.len() + 1);
        let mut start = 0;
        for c in cuts {
            out.push((start, c));
            start = c;
        }
        out.push((start, n));
        out
    }

    /// How well the segmentation cut at `predicted` covers the annotators' segmentations of a
    /// series of `n` points: per annotator, `Σ |A|·max J(A, A') / n` over its segments `A` (J
    /// the Jaccard index with the predicted segments `A'`), averaged over annotators.
    pub fn covering(annotations: &[Vec<usize>], predicted: &[usize], n: usize) -> f64 {
        let mine = segments(predicted, n);
        let jaccard = |a: (usize, usize), b: (usize, usize)| {
            let inter = a.1.min(b.1).saturating_sub(a.0.max(b.0));
            inter as f64 / (a.1.max(b.1) - a.0.min(b.0)) as f64
        };
        let single = |truth: &[(usize, usize)]| {
            truth
                .iter()
                .map(|&a| (a.1 - a.0) as f64 * mine.iter().map(|&b| jaccard(a, b)).fold(0.0, f64::max))
                .sum::<f64>()
                / n as f64
        };
        annotations.iter().map(|a| single(&segments(a, n))).sum::<f64>() / annotations.len().max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic noise series: a fixed pseudo-random sequence, mean 0, sd about 1.
    fn noise(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                // Sum of 12 uniforms minus 6: close to a standard normal.
                (0..12)
                    .map(|_| {
                        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        (s >> 11) as f64 / (1u64 << 53) as f64
                    })
                    .sum::<f64>()
                    - 6.0
            })
            .collect()
    }

    fn with_shifts(n: usize, shifts: &[(usize, f64)]) -> Vec<f64> {
        let mut x = noise(n, 42);
        for &(at, by) in shifts {
            x[at..].iter_mut().for_each(|v| *v += by);
        }
        x
    }

    #[test]
    fn pelt_finds_mean_shifts_and_nothing_in_noise() {
        let x = with_shifts(600, &[(150, 4.0), (400, -6.0)]);
        assert_eq!(detect(&x, Method::Pelt), vec![150, 400]);
        assert!(detect(&noise(600, 7), Method::Pelt).is_empty());
        // A short burst of 3 points is its own segment.
        let mut y = noise(300, 9);
        y[100..103].iter_mut().for_each(|v| *v += 30.0);
        assert_eq!(detect(&y, Method::Pelt), vec![100, 103]);
    }

    #[test]
    fn pelt_is_the_exact_optimum_on_small_series() {
        // Brute force over every segmentation of 9 points with segments of at least 2.
        let x = [0.1, -0.2, 0.0, 5.1, 4.9, 5.2, 1.0, 1.2, 0.8];
        let penalty = 2.0;
        let sse = |s: &[f64]| {
            let m = s.iter().sum::<f64>() / s.len() as f64;
            s.iter().map(|v| (v - m) * (v - m)).sum::<f64>()
        };
        let mut best = (f64::INFINITY, Vec::new());
        for mask in 0u32..(1 << 8) {
            let cuts: Vec<usize> = (1..9).filter(|i| mask & (1 << (i - 1)) != 0).collect();
            let mut bounds = vec![0];
            bounds.extend(&cuts);
            bounds.push(9);
            if bounds.windows(2).any(|w| w[1] - w[0] < 2) {
                continue;
            }
            let cost: f64 = bounds.windows(2).map(|w| sse(&x[w[0]..w[1]])).sum::<f64>() + penalty * cuts.len() as f64;
            if cost < best.0 - 1e-12 {
                best = (cost, cuts);
            }
        }
        assert_eq!(pelt(&x, penalty, 2), best.1);
        assert_eq!(best.1, vec![3, 6]);
    }

    #[test]
    fn binary_segmentation_finds_the_same_shifts() {
        let x = with_shifts(600, &[(150, 4.0), (400, -6.0)]);
        assert_eq!(detect(&x, Method::BinSeg), vec![150, 400]);
        assert!(detect(&noise(600, 7), Method::BinSeg).is_empty());
        let mut y = noise(300, 9);
        y[100..103].iter_mut().for_each(|v| *v += 30.0);
        assert_eq!(detect(&y, Method::BinSeg), vec![100, 103]);
        // On a clear two-step series it agrees with the exact optimum.
        let z = [0.1, -0.2, 0.0, 5.1, 4.9, 5.2, 1.0, 1.2, 0.8];
        assert_eq!(binseg(&z, 2.0, 2), pelt(&z, 2.0, 2));
    }

    #[test]
    fn page_hinkley_places_changes_where_they_start() {
        let x = with_shifts(600, &[(200, 3.0), (450, -3.0)]);
        let found = detect(&x, Method::PageHinkley);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].abs_diff(200) <= 5 && found[1].abs_diff(450) <= 5, "{found:?}");
        assert!(detect(&noise(600, 3), Method::PageHinkley).is_empty());
    }

    /// The examples of the benchmark's own metric code (its doctests), with the values it gives.
    #[test]
    fn scores_match_the_benchmark_code() {
        use std::collections::BTreeSet;
        let set = |v: &[usize]| v.iter().copied().collect::<BTreeSet<usize>>();
        let t = set(&[1, 10, 20, 23]);
        assert_eq!(score::true_positives(&t, &set(&[3, 8, 20]), 5), 3);
        assert_eq!(score::true_positives(&t, &set(&[1, 3, 8, 20]), 5), 3);
        assert_eq!(score::true_positives(&t, &set(&[1, 3, 5, 8, 20]), 5), 3);
        assert_eq!(score::true_positives(&set(&[]), &set(&[1, 2, 3]), 5), 0);
        let f = |a: &[&[usize]], x: &[usize]| score::f1(&a.iter().map(|v| v.to_vec()).collect::<Vec<_>>(), x, 5).0;
        assert_eq!(f(&[&[10, 20], &[11, 20], &[10], &[0, 5]], &[10, 20]), 1.0);
        assert_eq!(f(&[&[], &[10], &[50]], &[10]), 0.9090909090909091);
        assert_eq!(f(&[&[], &[10], &[50]], &[]), 0.8);
        let c =
            |a: &[&[usize]], x: &[usize], n| score::covering(&a.iter().map(|v| v.to_vec()).collect::<Vec<_>>(), x, n);
        assert!((c(&[&[10, 20], &[10], &[0, 5]], &[10, 20], 45) - 0.7962962962962963).abs() < 1e-15);
        assert!((c(&[&[], &[10], &[40]], &[10], 45) - 0.7954144620811286).abs() < 1e-15);
        assert!((c(&[&[], &[10], &[40]], &[], 45) - 0.8189300411522634).abs() < 1e-15);
        // Perfect agreement covers fully.
        assert_eq!(c(&[&[3, 7]], &[3, 7], 10), 1.0);
    }

    #[test]
    fn noise_scale_is_robust_to_the_shifts() {
        let x = with_shifts(2000, &[(1000, 50.0)]);
        let s = noise_scale(&x);
        assert!((0.85..1.15).contains(&s), "{s}");
        assert!(noise_scale(&[3.0; 10]) > 0.0);
    }
}

/// A named series of one feature over the windows: `(window index, value)` for the windows
/// where the value exists.
#[derive(Debug, Clone)]
pub struct Series {
    /// The feature.
    pub feature: String,
    /// What is measured: `mean`, `std_dev`, `completeness`, `psi`…
    pub name: String,
    /// Points in window order.
    pub points: Vec<(usize, f64)>,
}

/// The series of every feature over `windows` (profiles in time order): completeness, and for
/// numeric features the mean and the standard deviation. Identifiers and timestamps are left
/// out (a window's mean time always moves).
pub fn profile_series(features: &[String], windows: &[&crate::profile::DatasetProfile]) -> Vec<Series> {
    use crate::profile::Role;
    let mut out = Vec::new();
    for f in features {
        let cols: Vec<Option<&crate::profile::ColumnProfile>> = windows.iter().map(|p| p.column(f)).collect();
        if cols.iter().flatten().any(|c| c.role != Role::Feature) {
            continue;
        }
        let take = |name: &str, get: &dyn Fn(&crate::profile::ColumnProfile) -> Option<f64>| Series {
            feature: f.clone(),
            name: name.into(),
            points: cols
                .iter()
                .enumerate()
                .filter_map(|(i, c)| c.and_then(get).filter(|v| v.is_finite()).map(|v| (i, v)))
                .collect(),
        };
        let numeric = cols.iter().flatten().any(|c| c.moments.n > 0);
        if numeric {
            out.push(take("mean", &|c| c.moments.mean()));
            out.push(take("std_dev", &|c| c.moments.std_dev()));
        }
        out.push(take("completeness", &|c| c.completeness()));
    }
    out
}

/// The change points of every series; `start` names a window by its index.
pub fn find(series: &[Series], method: Method, start: &(dyn Fn(usize) -> Option<String> + Sync)) -> Vec<ChangePoint> {
    use rayon::prelude::*;
    let found: Vec<Vec<usize>> =
        series.par_iter().map(|s| detect(&s.points.iter().map(|p| p.1).collect::<Vec<_>>(), method)).collect();
    let mut out = Vec::new();
    for (s, found) in series.iter().zip(found) {
        for k in found {
            let window_index = s.points[k].0;
            out.push(ChangePoint {
                feature: s.feature.clone(),
                series: s.name.clone(),
                window_index,
                window_start: start(window_index),
            });
        }
    }
    out
}
