//! Drift metrics: a baseline distribution against a current one.
//!
//! Numeric features are compared on histograms over the baseline's bin edges (with `k` edges,
//! `k + 1` bins whose first and last are open to ±∞); categorical features on counts per value.
//! Baseline weights are `f64` because a SageMaker baseline provides them from a KLL sketch; a
//! driftwatch baseline provides exact counts. Every function returns `None` when either side is
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

use serde::{Deserialize, Serialize};
use statrs::distribution::{ChiSquared, ContinuousCDF};

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

/// Numeric drift metrics over shared bins.
///
/// `edges` are the interior edges (`base.len() == cur.len() == edges.len() + 1`); `lowest` is
/// the smaller of the two minima (the first bin's position for Wasserstein); `base_std` the
/// baseline's standard deviation.
pub fn numeric(edges: &[f64], base: &[f64], cur: &[f64], lowest: f64, base_std: Option<f64>) -> Option<NumericMetrics> {
    if base.len() != cur.len() || base.len() != edges.len() + 1 {
        return None;
    }
    let (p, n) = proportions(base)?;
    let (q, m) = proportions(cur)?;
    let mut linf = 0.0f64;
    let mut wass = 0.0f64;
    // Cumulative weights, compared as `|B·m − C·n| / (n·m)`: one rounding instead of three, so
    // that 5/10 against 4/10 is exactly 0.1 and a distance equal to a threshold is not over it.
    let (mut cb, mut cc) = (0.0f64, 0.0f64);
    for k in 0..p.len() {
        cb += base[k];
        cc += cur[k];
        let d = (cb * m - cc * n).abs() / (n * m);
        if k + 1 < p.len() {
            linf = linf.max(d);
            let x0 = if k == 0 { lowest.min(edges[0]) } else { edges[k - 1] };
            wass += d * (edges[k] - x0).max(0.0);
        }
    }
    let en = (n * m / (n + m)).sqrt();
    let (psi, kl) = psi_kl(&p, &q);
    Some(NumericMetrics {
        linf_simple: linf,
        linf_robust: (linf - robust_allowance(n, m)).max(0.0),
        ks_statistic: linf,
        ks_pvalue: kolmogorov_sf(en * linf),
        psi,
        js_distance: js_distance(&p, &q),
        hellinger: hellinger(&p, &q),
        wasserstein: wass,
        wasserstein_normalized: base_std.filter(|s| *s > 0.0).map(|s| wass / s),
        kl_divergence: kl,
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_identical_is_zero() {
        let m = numeric(&[1.0, 2.0], &[10.0, 20.0, 30.0], &[1.0, 2.0, 3.0], 0.0, Some(1.0)).unwrap();
        assert!(m.linf_simple.abs() < 1e-15);
        assert_eq!(m.linf_robust, 0.0);
        assert!(m.psi.abs() < 1e-12 && m.js_distance.abs() < 1e-7 && m.wasserstein.abs() < 1e-15);
        assert!((m.ks_pvalue - 1.0).abs() < 1e-12);
    }

    #[test]
    fn numeric_hand_computed_shift() {
        // All baseline mass in bin 0, all current mass in bin 2: CDFs differ by 1 at both edges.
        let m = numeric(&[1.0, 2.0], &[4.0, 0.0, 0.0], &[0.0, 0.0, 4.0], 0.0, Some(2.0)).unwrap();
        assert_eq!(m.linf_simple, 1.0);
        // 1 − 1.8·sqrt(8/16) < 0: four values a side are too few for the robust distance.
        assert_eq!(m.linf_robust, 0.0);
        assert!((m.js_distance - 1.0).abs() < 1e-12);
        assert!((m.hellinger - 1.0).abs() < 1e-12);
        // Mass moves from position 0 (lowest) to position 2 (second edge).
        assert!((m.wasserstein - 2.0).abs() < 1e-12);
        assert_eq!(m.wasserstein_normalized, Some(1.0));
    }

    #[test]
    fn numeric_empty_is_none() {
        assert!(numeric(&[1.0], &[0.0, 0.0], &[1.0, 2.0], 0.0, None).is_none());
        assert!(numeric(&[1.0], &[1.0, 2.0], &[0.0, 0.0], 0.0, None).is_none());
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
