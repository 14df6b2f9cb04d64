//! Drift metrics: a baseline distribution against a current one.
//!
//! Numeric features are compared on histograms over the baseline's bin edges (with `k` edges,
//! `k + 1` bins whose first and last are open to ±∞); categorical features on counts per value.
//! Baseline weights are `f64` because a SageMaker baseline provides them from a KLL sketch; a
//! driftscope baseline provides exact counts. Every function returns `None` when either side is
//! empty rather than a NaN.
//!
//! Definitions (each metric's figures are checked against scipy/numpy in
//! `tests/reference_metrics.rs`):
//! - `p`, `q`: baseline and current proportions per bin; `n`, `m`: their totals.
//! - L∞ (numeric): `max_k |P_k − Q_k|` over the cumulative proportions at the bin edges
//!   (SageMaker's `baseline_drift_check` distance). L∞ (categorical): `max_i |p_i − q_i|` (Deequ).
//! - Robust: `max(0, L∞ − c_α·sqrt((n + m) / (n·m)))` with `c_α = 1.8`, as Deequ.
//! - KS: statistic = numeric L∞ on the binned CDFs; p-value from the asymptotic Kolmogorov
//!   distribution at `sqrt(n·m/(n+m))·D` (scipy's `kstwobign.sf`).
//! - PSI and KL use additive smoothing of empty bins: `p' = (p + ε)/(1 + Bε)`, `ε = 1e-6`, `B`
//!   bins; natural log. PSI = `Σ (q' − p')·ln(q'/p')`; KL = `Σ q'·ln(q'/p')` (current ‖ baseline).
//! - Jensen–Shannon distance: `sqrt(JSD)` with log base 2, no smoothing (scipy `jensenshannon`,
//!   `base=2`), in `[0, 1]`.
//! - Hellinger: `sqrt(1 − Σ sqrt(p_i·q_i))`, in `[0, 1]`.
//! - Wasserstein-1: each bin's mass placed at its lower edge (the first bin's at the smaller of
//!   the two minima), `Σ |P_k − Q_k|·(x_{k+1} − x_k)`, equal to scipy's `wasserstein_distance` on
//!   those positions and weights; reported raw and divided by the baseline's standard deviation.
//! - χ² (categorical): expected counts `p_i·m`; cells expected below 5 are pooled into one (and
//!   that pool, if still below 5, into the smallest other cell), as Deequ regroups small cells;
//!   statistic `Σ (o − e)²/e`, `cells − 1` degrees of freedom, p-value from the χ² survival
//!   function. When the baseline expects nothing where values are observed, the statistic is
//!   unbounded: reported as `null` with p-value 0.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use statrs::distribution::{ChiSquared, ContinuousCDF};

use crate::judge::ordered;

/// Deequ's critical value factor for the robust L∞ (99% confidence).
pub const C_ALPHA: f64 = 1.8;
/// Additive smoothing for PSI and KL.
pub const EPSILON: f64 = 1e-6;
/// Expected count below which χ² cells are pooled.
pub const CHI2_MIN_EXPECTED: f64 = 5.0;

/// Numeric drift metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericMetrics {
    /// L∞ between the binned CDFs.
    pub linf_simple: f64,
    /// L∞ less Deequ's sample-size allowance, floored at 0.
    pub linf_robust: f64,
    /// Kolmogorov–Smirnov statistic on the binned CDFs.
    pub ks_statistic: f64,
    /// Asymptotic two-sample KS p-value.
    pub ks_pvalue: f64,
    /// Population stability index.
    pub psi: f64,
    /// Jensen–Shannon distance, base 2.
    pub js_distance: f64,
    /// Hellinger distance.
    pub hellinger: f64,
    /// Wasserstein-1 distance in the feature's units.
    pub wasserstein: f64,
    /// Wasserstein-1 divided by the baseline's standard deviation (`None` when it is 0).
    pub wasserstein_normalized: Option<f64>,
    /// KL divergence of current from baseline, nats.
    pub kl_divergence: f64,
    /// Total variation distance over every bin, `½·Σ|p − q|`.
    #[serde(default)]
    pub tv_distance: f64,
    /// Energy distance `sqrt(2·∫(F − G)²)`, in the feature's units.
    #[serde(default)]
    pub energy_distance: f64,
    /// Cramér–von Mises two-sample statistic `T` on the bins (values of a bin tied).
    #[serde(default)]
    pub cvm_statistic: f64,
    /// Its asymptotic p-value.
    #[serde(default)]
    pub cvm_pvalue: f64,
    /// Anderson–Darling k-sample statistic, standardized (`None` when every value shares one bin).
    #[serde(default)]
    pub anderson_statistic: Option<f64>,
    /// Its p-value from Scholz & Stephens' table, within [0.001, 0.25].
    #[serde(default)]
    pub anderson_pvalue: Option<f64>,
}

/// Categorical drift metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalMetrics {
    /// Largest difference of per-value frequencies.
    pub linf_simple: f64,
    /// L∞ less Deequ's sample-size allowance, floored at 0.
    pub linf_robust: f64,
    /// Population stability index.
    pub psi: f64,
    /// χ² statistic after pooling small cells (`None` when unbounded).
    pub chi2_statistic: Option<f64>,
    /// χ² degrees of freedom after pooling.
    pub chi2_dof: u64,
    /// χ² p-value.
    pub chi2_pvalue: f64,
    /// Jensen–Shannon distance, base 2.
    pub js_distance: f64,
    /// Share of current values absent from the baseline.
    pub unseen_share: f64,
    /// Total variation distance, `½·Σ|p − q|`.
    #[serde(default)]
    pub tv_distance: f64,
}

fn proportions(w: &[f64]) -> Option<(Vec<f64>, f64)> {
    let total: f64 = w.iter().sum();
    (total > 0.0).then(|| (w.iter().map(|x| x / total).collect(), total))
}

/// `c_α·sqrt((n + m)/(n·m))`.
pub fn robust_allowance(n: f64, m: f64) -> f64 {
    C_ALPHA * ((n + m) / (n * m)).sqrt()
}

/// Survival function of the Kolmogorov distribution, `P(K > z)`.
pub fn kolmogorov_sf(z: f64) -> f64 {
    if z <= 0.0 {
        return 1.0;
    }
    if z < 1.18 {
        // P(K <= z) = sqrt(2π)/z · Σ exp(−(2k−1)²π²/(8z²)); converges fast for small z.
        let mut s = 0.0;
        for k in 1..=50 {
            let t = ((2 * k - 1) as f64).powi(2) * std::f64::consts::PI.powi(2) / (8.0 * z * z);
            let term = (-t).exp();
            s += term;
            if term < 1e-18 {
                break;
            }
        }
        (1.0 - (2.0 * std::f64::consts::PI).sqrt() / z * s).clamp(0.0, 1.0)
    } else {
        let mut s = 0.0;
        for k in 1..=100 {
            let term = (-2.0 * (k as f64).powi(2) * z * z).exp();
            s += if k % 2 == 1 { term } else { -term };
            if term < 1e-18 {
                break;
            }
        }
        (2.0 * s).clamp(0.0, 1.0)
    }
}

fn smooth(p: &[f64]) -> Vec<f64> {
    let b = p.len() as f64;
    p.iter().map(|x| (x + EPSILON) / (1.0 + b * EPSILON)).collect()
}

fn psi_kl(p: &[f64], q: &[f64]) -> (f64, f64) {
    let (ps, qs) = (smooth(p), smooth(q));
    let mut psi = 0.0;
    let mut kl = 0.0;
    for (a, b) in ps.iter().zip(&qs) {
        let l = (b / a).ln();
        psi += (b - a) * l;
        kl += b * l;
    }
    (psi, kl)
}

fn js_distance(p: &[f64], q: &[f64]) -> f64 {
    let mut d = 0.0;
    for (&a, &b) in p.iter().zip(q) {
        let m = (a + b) / 2.0;
        if a > 0.0 {
            d += 0.5 * a * (a / m).log2();
        }
        if b > 0.0 {
            d += 0.5 * b * (b / m).log2();
        }
    }
    d.max(0.0).sqrt()
}

fn hellinger(p: &[f64], q: &[f64]) -> f64 {
    let bc: f64 = p.iter().zip(q).map(|(a, b)| (a * b).sqrt()).sum();
    (1.0 - bc).max(0.0).sqrt()
}

/// The smallest number of groups [`divergence_groups`] makes of the bins within the baseline's
/// range: deciles, the usual PSI binning.
pub const MIN_DIVERGENCE_BINS: usize = 10;
/// The PSI expected between two samples of one distribution that [`divergence_groups`] aims at:
/// about `(B − 1)·(1/n + 1/m)` for `B` bins, so `B` grows with the sample sizes.
pub const DIVERGENCE_NOISE: f64 = 0.01;

/// Which group of adjacent bins each bin belongs to for PSI, KL, JS and Hellinger.
///
/// With `B` bins, PSI between two samples of the same distribution is about `(B − 1)·(1/n +
/// 1/m)`: 256 bins for 300 rows put it at ~1.7 (and JS near 0.5) with nothing drifting. The bins
/// within the baseline's range (all but the first and last, which hold values below its minimum
/// and above its maximum) are therefore merged into `B = max(10, 1 + ⌊0.01·n·m/(n + m)⌋)`
/// groups of about equal baseline mass, the end bins joining the first and last group, so that
/// this noise stays near 0.01 from about 1,000 rows up (0.06 at 300 against 300, with deciles),
/// and the distances of a real shift read the same at 300 rows as at 30M. Columns with at most
/// `B` bins within the range (few values, one bin each; a constant) keep every bin, the end bins
/// apart. L∞, KS and Wasserstein always keep every bin.
pub fn divergence_groups(base: &[f64], n: f64, m: f64) -> Vec<usize> {
    let target = divergence_target(n, m);
    let len = base.len();
    let inner = len.saturating_sub(2);
    let total: f64 = base[1..len.saturating_sub(1).max(1)].iter().sum();
    if len < 3 || inner as f64 <= target || total <= 0.0 {
        return (0..len).collect();
    }
    let groups = target as usize;
    let mut out = Vec::with_capacity(len);
    let mut before = 0.0;
    for &w in &base[1..len - 1] {
        // The group of the bin's middle, by the baseline's cumulative mass.
        out.push(((groups as f64 * (before + w / 2.0) / total) as usize).min(groups - 1));
        before += w;
    }
    // The end bins join the first and last groups.
    out.insert(0, out[0]);
    out.push(out[out.len() - 1]);
    // Number the groups that received bins consecutively.
    let (mut next, mut prev) = (0, 0);
    for g in &mut out {
        if *g != prev {
            prev = *g;
            next += 1;
        }
        *g = next;
    }
    out
}

/// The number of groups [`divergence_groups`] aims at for `n` baseline and `m` current rows.
fn divergence_target(n: f64, m: f64) -> f64 {
    (1.0 + (DIVERGENCE_NOISE * n * m / (n + m)).floor()).max(MIN_DIVERGENCE_BINS as f64)
}

/// Adds each bin's weight into its group's.
fn grouped(w: impl IntoIterator<Item = f64>, groups: &[usize]) -> Vec<f64> {
    let mut out = vec![0.0; groups.last().map_or(0, |g| g + 1)];
    for (x, &g) in w.into_iter().zip(groups) {
        out[g] += x;
    }
    out
}

/// What is known of where the values lie inside the bins, for Wasserstein-1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// The smallest and largest value of both sides together.
    pub span: (f64, f64),
    /// The mean of the current values below the first edge (the baseline's minimum) and at or
    /// above the last (past its maximum), from the current's sketch, when it has one.
    pub tails: (Option<f64>, Option<f64>),
    /// The interior bins are one per baseline value ([`crate::profile::few_values`]): each
    /// bin's mass sits at its lower edge.
    pub discrete: bool,
}

impl Spread {
    /// The span alone: values spread evenly within every bin.
    pub fn even(span: (f64, f64)) -> Spread {
        Spread { span, tails: (None, None), discrete: false }
    }
}

/// How Wasserstein-1 integrates `|F − G|` across one bin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BinShape {
    /// The width over which `F − G` moves linearly from its value at the bin's lower edge to the
    /// next; for an end bin whose values' mean is known, twice the distance from that mean to
    /// the edge, which makes the linear integral exact there (the baseline has no mass beyond
    /// its range, so `F − G` is the current's tail alone).
    pub width: f64,
    /// The bin's mass sits at its lower edge: `F − G` keeps the next edge's value across it.
    pub step: bool,
}

/// Each bin's [`BinShape`] (`edges.len() + 1` bins).
pub fn bin_shapes(edges: &[f64], spread: &Spread) -> Vec<BinShape> {
    let mut out = Vec::with_capacity(edges.len() + 1);
    bin_shapes_into(edges, spread, &mut out);
    out
}

/// [`bin_shapes`] into `out` (cleared first).
fn bin_shapes_into(edges: &[f64], spread: &Spread, out: &mut Vec<BinShape>) {
    out.clear();
    let Some((&first, &last)) = edges.first().zip(edges.last()) else {
        out.push(BinShape { width: 0.0, step: false });
        return;
    };
    let (lo, hi) = spread.span;
    let below =
        spread.tails.0.filter(|m| m.is_finite() && *m <= first).map_or(first - lo.min(first), |m| 2.0 * (first - m));
    let above =
        spread.tails.1.filter(|m| m.is_finite() && *m >= last).map_or(hi.max(last) - last, |m| 2.0 * (m - last));
    out.push(BinShape { width: below.max(0.0), step: false });
    out.extend(edges.windows(2).map(|w| BinShape { width: (w[1] - w[0]).max(0.0), step: spread.discrete }));
    out.push(BinShape { width: above.max(0.0), step: false });
}

thread_local! {
    /// The bins' shapes of the comparison in progress on this thread: a backfill compares
    /// hundreds of thousands of windows, and a fresh buffer for each would keep the allocator
    /// handing out (and the kernel zeroing) fresh pages.
    static SHAPES: std::cell::RefCell<Vec<BinShape>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `∫|F − G|` across a bin where `F − G` is `a` at its lower edge and `b` at its upper one.
pub fn gap_area(shape: BinShape, a: f64, b: f64) -> f64 {
    let w = shape.width;
    if shape.step {
        w * b.abs()
    } else if a * b >= 0.0 {
        w * (a.abs() + b.abs()) / 2.0
    } else {
        w * (a * a + b * b) / (2.0 * (a.abs() + b.abs()))
    }
}

/// A bound on how far the binned Wasserstein-1 can be from the exact one:
/// `Σ w_k·max(p_k, q_k)` over the interior bins (within a bin, `F − G` can stray from the line
/// between its edge values by at most the larger of the two masses). The end bins add nothing
/// when the current's tail means are known; otherwise they add the same term.
pub fn wasserstein_bound(edges: &[f64], base: &[f64], cur: &[f64], spread: &Spread) -> Option<f64> {
    let (p, _) = proportions(base)?;
    let (q, _) = proportions(cur)?;
    let shapes = bin_shapes(edges, spread);
    let last = shapes.len() - 1;
    let known = |k: usize| (k == 0 && spread.tails.0.is_some()) || (k == last && spread.tails.1.is_some());
    Some((0..shapes.len()).filter(|&k| !known(k)).map(|k| shapes[k].width * p[k].max(q[k])).sum())
}

/// Numeric drift metrics over shared bins.
///
/// `edges` are the interior edges (`base.len() == cur.len() == edges.len() + 1`); `spread`
/// what is known of the values inside the bins; `base_std` the baseline's standard deviation.
///
/// Wasserstein-1 is `∫|F − G|` with both CDFs linear within each bin (values spread evenly
/// across it), or stepping at the lower edge when the bins are one per value, and exact in the
/// end bins when the current's tail means are known. Its error is at most
/// [`wasserstein_bound`]: small inside the baseline's range, where quantile bins are narrow.
pub fn numeric(
    edges: &[f64],
    base: &[f64],
    cur: &[f64],
    spread: &Spread,
    base_std: Option<f64>,
) -> Option<NumericMetrics> {
    numeric_against(&BaseBins::new(base.to_vec()), edges, cur, spread, base_std)
}

/// The baseline's side of [`numeric`], worked out once for the many currents a backfill compares
/// with it: its weights, their proportions and total, and for each number of divergence groups
/// asked for, the groups and their proportions (made at first use). The arithmetic is
/// [`numeric`]'s own: the metrics are the same to the bit.
#[derive(Debug)]
pub struct BaseBins {
    base: Vec<f64>,
    p: Vec<f64>,
    n: f64,
    /// By target group count, made at first use.
    groupings: Mutex<Vec<(f64, Arc<Grouping>)>>,
    /// Anderson–Darling's logarithms of the bins small currents leave empty.
    anderson: ordered::AndersonMemo,
}

/// The divergence groups of a baseline's bins for one group count.
#[derive(Debug)]
struct Grouping {
    /// Each bin's group.
    groups: Vec<usize>,
    /// The baseline's proportions in each group.
    p: Vec<f64>,
}

impl BaseBins {
    /// The side of baseline weights `base` (weights that sum to nothing compare with no
    /// current).
    pub fn new(base: Vec<f64>) -> BaseBins {
        let (p, n) = proportions(&base).unwrap_or_default();
        BaseBins { base, p, n, groupings: Mutex::default(), anderson: Default::default() }
    }

    /// The weight of each bin.
    pub fn weights(&self) -> &[f64] {
        &self.base
    }

    /// The divergence groups against `m` current rows, and the baseline's proportions in them.
    fn grouping(&self, m: f64) -> Arc<Grouping> {
        let target = divergence_target(self.n, m);
        let mut made = self.groupings.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, g)) = made.iter().find(|(t, _)| *t == target) {
            return g.clone();
        }
        let groups = divergence_groups(&self.base, self.n, m);
        let g = Arc::new(Grouping { p: grouped(self.p.iter().copied(), &groups), groups });
        made.push((target, g.clone()));
        g
    }
}

/// [`numeric`] against a baseline's side made beforehand.
pub fn numeric_against(
    side: &BaseBins,
    edges: &[f64],
    cur: &[f64],
    spread: &Spread,
    base_std: Option<f64>,
) -> Option<NumericMetrics> {
    if side.base.len() != cur.len() || cur.len() != edges.len() + 1 {
        return None;
    }
    let m: f64 = cur.iter().sum();
    (side.n > 0.0 && m > 0.0)
        .then(|| {
            SHAPES.with_borrow_mut(|shapes| {
                bin_shapes_into(edges, spread, shapes);
                numeric_shaped(side, shapes, cur, m, spread, base_std)
            })
        })
        .flatten()
}

/// [`numeric_against`] of a current of `m` values, the bins' shapes made.
fn numeric_shaped(
    side: &BaseBins,
    shapes: &[BinShape],
    cur: &[f64],
    m: f64,
    spread: &Spread,
    base_std: Option<f64>,
) -> Option<NumericMetrics> {
    let (base, n) = (&side.base[..], side.n);
    let last = base.len() - 1;
    let mut linf = 0.0f64;
    let mut wass = 0.0f64;
    // Cumulative weights, compared as `(B·m − C·n) / (n·m)`: one rounding instead of three, so
    // that 5/10 against 4/10 is exactly 0.1 and a distance equal to a threshold is not over it.
    let (mut cb, mut cc) = (0.0f64, 0.0f64);
    let mut gap_before = 0.0f64;
    for (k, &shape) in shapes.iter().enumerate() {
        cb += base[k];
        cc += cur[k];
        let gap = if k < last { (cb * m - cc * n) / (n * m) } else { 0.0 };
        linf = linf.max(gap.abs());
        wass += gap_area(shape, gap_before, gap);
        gap_before = gap;
    }
    let en = (n * m / (n + m)).sqrt();
    let grouping = side.grouping(m);
    // The current's proportions, summed straight into their groups.
    let (pg, qg) = (&grouping.p, grouped(cur.iter().map(|c| c / m), &grouping.groups));
    let (psi, kl) = psi_kl(pg, &qg);
    let (cvm_statistic, cvm_pvalue) = ordered::cramer_von_mises(base, cur, spread.discrete)?;
    let anderson = ordered::anderson_darling_with(base, cur, spread.discrete, Some(&side.anderson));
    Some(NumericMetrics {
        linf_simple: linf,
        linf_robust: (linf - robust_allowance(n, m)).max(0.0),
        ks_statistic: linf,
        ks_pvalue: kolmogorov_sf(en * linf),
        psi,
        js_distance: js_distance(pg, &qg),
        hellinger: hellinger(pg, &qg),
        wasserstein: wass,
        wasserstein_normalized: base_std.filter(|s| *s > 0.0).map(|s| wass / s),
        kl_divergence: kl,
        tv_distance: ordered::total_variation(base, cur)?,
        energy_distance: ordered::energy_distance_shaped(shapes, base, cur, spread)?,
        cvm_statistic,
        cvm_pvalue,
        anderson_statistic: anderson.map(|a| a.0),
        anderson_pvalue: anderson.map(|a| a.1),
    })
}

/// Pools χ² cells whose expected count is below [`CHI2_MIN_EXPECTED`]. Returns (observed,
/// expected) per remaining cell.
pub fn pool_small_cells(obs: &[f64], exp: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut cells: Vec<(f64, f64)> = Vec::new();
    let (mut po, mut pe) = (0.0, 0.0);
    let mut pooled = false;
    for (&o, &e) in obs.iter().zip(exp) {
        if e < CHI2_MIN_EXPECTED {
            po += o;
            pe += e;
            pooled = true;
        } else {
            cells.push((o, e));
        }
    }
    if pooled {
        if pe < CHI2_MIN_EXPECTED && !cells.is_empty() {
            let i = (0..cells.len()).min_by(|&a, &b| cells[a].1.total_cmp(&cells[b].1)).expect("non-empty");
            cells[i].0 += po;
            cells[i].1 += pe;
        } else {
            cells.push((po, pe));
        }
    }
    cells.into_iter().unzip()
}

/// Categorical drift metrics over aligned value counts; `unseen[i]` marks values the baseline
/// never had.
pub fn categorical(base: &[f64], cur: &[f64], unseen: &[bool]) -> Option<CategoricalMetrics> {
    if base.len() != cur.len() || base.is_empty() {
        return None;
    }
    let (p, n) = proportions(base)?;
    let (q, m) = proportions(cur)?;
    // |b/n − c/m| as |b·m − c·n| / (n·m): one rounding, as for the numeric L∞.
    let linf = base.iter().zip(cur).map(|(b, c)| (b * m - c * n).abs()).fold(0.0, f64::max) / (n * m);
    let (psi, _) = psi_kl(&p, &q);
    let exp: Vec<f64> = p.iter().map(|x| x * m).collect();
    let (o, e) = pool_small_cells(cur, &exp);
    let unbounded = o.iter().zip(&e).any(|(o, e)| *e == 0.0 && *o > 0.0);
    let dof = o.len().saturating_sub(1) as u64;
    let (stat, pvalue) = if unbounded {
        (None, 0.0)
    } else {
        let s: f64 = o.iter().zip(&e).filter(|(_, e)| **e > 0.0).map(|(o, e)| (o - e) * (o - e) / e).sum();
        let pv = if dof == 0 { 1.0 } else { ChiSquared::new(dof as f64).map(|d| d.sf(s)).unwrap_or(f64::NAN) };
        (Some(s), pv)
    };
    Some(CategoricalMetrics {
        linf_simple: linf,
        linf_robust: (linf - robust_allowance(n, m)).max(0.0),
        psi,
        chi2_statistic: stat,
        chi2_dof: dof,
        chi2_pvalue: pvalue,
        js_distance: js_distance(&p, &q),
        // `+ 0.0`: an empty f64 sum is -0.0, which would print as "-0.0".
        unseen_share: q.iter().zip(unseen).filter(|(_, u)| **u).map(|(x, _)| x).sum::<f64>() + 0.0,
        tv_distance: ordered::total_variation(base, cur)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_baseline_side_made_once_gives_each_current_its_own_metrics() {
        // Currents of about 360, 3,600 and 360M rows against a 240k-row baseline: 10 divergence
        // groups, 36, and every bin; each asked for again after the others.
        let edges: Vec<f64> = (1..40).map(f64::from).collect();
        let base: Vec<f64> = (0..40).map(|i| f64::from((i * 37) % 11 + 1) * 1000.0).collect();
        let side = BaseBins::new(base.clone());
        let spread = Spread::even((0.0, 41.0));
        for scale in [3.0, 3e6, 30.0, 3.0, 3e6, 30.0] {
            let cur: Vec<f64> = (0..40).map(|i| f64::from((i * 13) % 7) * scale).collect();
            let made_once = numeric_against(&side, &edges, &cur, &spread, Some(2.0)).unwrap();
            assert_eq!(made_once, numeric(&edges, &base, &cur, &spread, Some(2.0)).unwrap(), "{scale}");
        }
        // One grouping per group count, each made once: 10 groups, every bin, and some between.
        let groups: Vec<usize> = side.groupings.lock().unwrap().iter().map(|(_, g)| g.p.len()).collect();
        assert!(groups.len() == 3 && groups[0] == 10 && groups[1] == 40 && (11..40).contains(&groups[2]), "{groups:?}");
    }

    #[test]
    fn numeric_identical_is_zero() {
        let m =
            numeric(&[1.0, 2.0], &[10.0, 20.0, 30.0], &[1.0, 2.0, 3.0], &Spread::even((0.0, 3.0)), Some(1.0)).unwrap();
        assert!(m.linf_simple.abs() < 1e-15);
        assert_eq!(m.linf_robust, 0.0);
        assert!(m.psi.abs() < 1e-12 && m.js_distance.abs() < 1e-7 && m.wasserstein.abs() < 1e-15);
        assert!((m.ks_pvalue - 1.0).abs() < 1e-12);
    }

    #[test]
    fn numeric_hand_computed_shift() {
        // All baseline mass in bin 0, all current mass in bin 2: CDFs differ by 1 at both edges.
        let m = numeric(&[1.0, 2.0], &[4.0, 0.0, 0.0], &[0.0, 0.0, 4.0], &Spread::even((0.0, 2.0)), Some(2.0)).unwrap();
        assert_eq!(m.linf_simple, 1.0);
        // 1 − 1.8·sqrt(8/16) < 0: four values a side are too few for the robust distance.
        assert_eq!(m.linf_robust, 0.0);
        assert!((m.js_distance - 1.0).abs() < 1e-12);
        assert!((m.hellinger - 1.0).abs() < 1e-12);
        // Mass spread evenly over [0, 1] moves to 2: the mean moves by 1.5, all in one direction.
        assert!((m.wasserstein - 1.5).abs() < 1e-12);
        assert_eq!(m.wasserstein_normalized, Some(0.75));
        // The same with one bin per value: the mass sits at 0 and moves by 2.
        let step = Spread { discrete: true, ..Spread::even((0.0, 2.0)) };
        let m = numeric(&[0.0, 1.0, 2.0], &[0.0, 4.0, 0.0, 0.0], &[0.0, 0.0, 0.0, 4.0], &step, None).unwrap();
        assert!((m.wasserstein - 2.0).abs() < 1e-12, "{}", m.wasserstein);
        // Half the current beyond the baseline's only value, 0, with a known mean (3.5): exact,
        // half the mass moved by 3.5.
        let tail = Spread { tails: (None, Some(3.5)), discrete: true, span: (0.0, 9.0) };
        let m = numeric(&[0.0, 1.0], &[0.0, 4.0, 0.0], &[0.0, 2.0, 2.0], &tail, None).unwrap();
        assert!((m.wasserstein - 0.5 * 3.5).abs() < 1e-12, "{}", m.wasserstein);
    }

    #[test]
    fn numeric_empty_is_none() {
        let s = Spread::even((0.0, 1.0));
        assert!(numeric(&[1.0], &[0.0, 0.0], &[1.0, 2.0], &s, None).is_none());
        assert!(numeric(&[1.0], &[1.0, 2.0], &[0.0, 0.0], &s, None).is_none());
    }

    #[test]
    fn categorical_unseen_unbounded_chi2() {
        let m = categorical(&[100.0, 0.0], &[50.0, 50.0], &[false, true]).unwrap();
        assert_eq!(m.unseen_share, 0.5);
        assert_eq!(m.linf_simple, 0.5);
        // The pooled unseen cell joins the only other cell, so no cell is unbounded: 1 cell, dof 0.
        assert_eq!(m.chi2_dof, 0);
    }

    #[test]
    fn categorical_nothing_unseen_is_positive_zero() {
        let m = categorical(&[5.0, 5.0], &[4.0, 6.0], &[false, false]).unwrap();
        assert_eq!(m.unseen_share.to_bits(), 0.0f64.to_bits());
    }

    #[test]
    fn kolmogorov_known_values() {
        // scipy.stats.kstwobign.sf(1.0) = 0.26999967167735456, sf(0.5) = 0.9639452436648751
        assert!((kolmogorov_sf(1.0) - 0.26999967167735456).abs() < 1e-12);
        assert!((kolmogorov_sf(0.5) - 0.9639452436648751).abs() < 1e-12);
        assert!((kolmogorov_sf(2.0) - 0.0006709252557796953).abs() < 1e-12);
    }
}
