//! Two-sample tests on ordered bins: Cramér–von Mises, Anderson–Darling (k-sample, `k = 2`)
//! and the energy distance, computed from the counts per bin in one pass over the bins.
//!
//! On a column with one bin per value the values of a bin are tied, and the rank tests give
//! them their mid-rank, as scipy does for tied samples (`cramervonmises_2samp` ranks with
//! `rankdata(method="average")`, `anderson_ksamp` with `variant="midrank"`): the histogram holds
//! the samples exactly (values beyond the baseline's range are tied in their end bin), and the
//! figures are scipy's on the raw values. On quantile bins the values of a bin are taken as
//! spread evenly and interleaved across it, as for Wasserstein-1: ties there would put the
//! few current values of a bin at its middle rank among hundreds of baseline values and inflate
//! Cramér–von Mises twentyfold for a small current (16.8 against scipy's 0.93 on the samples,
//! 200 rows against 50,000). The sums over pooled ranks become integrals over the bins; the
//! figures come within 0.5% of scipy's on the samples (`tests/reference_metrics.rs`).
//!
//! - Cramér–von Mises: `T` of Anderson (1962) from the mid-ranks, its p-value from the limiting
//!   distribution after the normalization `1/6 + (T − E T)/sqrt(45·Var T)` (scipy's
//!   `method="asymptotic"`). The series of that distribution (Csörgő & Faraway 1996, summed
//!   while a term is at least 1e-7, as scipy sums it) is only accurate up to a normalized
//!   statistic of 4 (p ≈ 7e-10); past it the p-value is reported as 0.
//! - Anderson–Darling: Scholz & Stephens' (1987) `A²akN` for tied data, standardized to
//!   `(A²akN − 1)/σ`; its p-value interpolated in their table as scipy does (a quadratic fitted
//!   to the log significance levels), capped at 0.25 and floored at 0.001.
//! - Energy distance: `sqrt(2·∫(F − G)²)` (scipy's `energy_distance`), with the values of a bin
//!   spread evenly across it (the current's values beyond the baseline's range over twice the
//!   distance from the edge to their mean, when it is known), or, for one bin per value, at the
//!   value (beyond the range: at their mean).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use statrs::function::gamma::ln_gamma;

use crate::judge::compare::{bin_shapes, BinShape, Spread};

/// Euler–Mascheroni constant.
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// Cramér–von Mises two-sample statistic `T` and its asymptotic p-value, from the counts per
/// ordered bin of the baseline (`base`) and the current (`cur`). `discrete`: one bin per value,
/// whose values are tied (scipy's mid-ranks); otherwise the values of a bin are taken as spread
/// evenly and interleaved across it, as Wasserstein-1 takes them. `None` when a side is empty.
pub fn cramer_von_mises(base: &[f64], cur: &[f64], discrete: bool) -> Option<(f64, f64)> {
    let (nx, ny) = totals(base, cur)?;
    let (k, n) = (nx * ny, nx + ny);
    let t = if discrete {
        // U = nx·Σ (r_i − i)² + ny·Σ (s_j − j)², r and s the pooled mid-ranks of the sorted
        // samples. In a bin holding a of x and b of y after A and B, the mid-rank is
        // A + B + (a + b + 1)/2, and the x there have i = A+1..A+a, so their terms are
        // Σ_{t=1..a} (c − t)² with c = B + (a + b + 1)/2: a·(c − (a+1)/2)² + a·(a² − 1)/12.
        let squares = |a: f64, c: f64| a * (c - (a + 1.0) / 2.0).powi(2) + a * (a * a - 1.0) / 12.0;
        let (mut before_x, mut before_y) = (0.0f64, 0.0f64);
        let (mut sx, mut sy) = (0.0f64, 0.0f64);
        for (&a, &b) in base.iter().zip(cur) {
            let mid = (a + b + 1.0) / 2.0;
            sx += squares(a, before_y + mid);
            sy += squares(b, before_x + mid);
            before_x += a;
            before_y += b;
        }
        (nx * sx + ny * sy) / (k * n) - (4.0 * k - 1.0) / (6.0 * n)
    } else {
        // T = (nx·ny/N)·∫(F − G)² dH, H the pooled distribution (Anderson 1962), with F − G
        // linear in H across each bin: a bin of pooled share h from gap g0 to g1 adds
        // h·(g0² + g0·g1 + g1²)/3.
        let (mut cb, mut cc, mut before) = (0.0f64, 0.0f64, 0.0f64);
        let mut integral = 0.0f64;
        let inv_k = 1.0 / k;
        for (&a, &b) in base.iter().zip(cur) {
            cb += a;
            cc += b;
            let gap = (cb * ny - cc * nx) * inv_k;
            integral += (a + b) * (before * before + before * gap + gap * gap);
            before = gap;
        }
        k / (3.0 * n * n) * integral
    };
    let et = (1.0 + 1.0 / n) / 6.0;
    let vt = (n + 1.0) * (4.0 * k * n - 3.0 * (nx * nx + ny * ny) - 2.0 * k) / (45.0 * n * n * 4.0 * k);
    let tn = 1.0 / 6.0 + (t - et) / (45.0 * vt).sqrt();
    Some((t, cvm_limit_sf(tn)))
}

/// `P(W² > x)` for the limiting Cramér–von Mises distribution: 1 below 0.003, the series of
/// Csörgő & Faraway up to 4, 0 beyond (where the true value is below 7.1e-10 and the series
/// with its 1e-7 stopping rule no longer says more).
pub fn cvm_limit_sf(x: f64) -> f64 {
    if x.is_nan() || x < 0.003 {
        return 1.0;
    }
    if x > 4.0 {
        return 0.0;
    }
    let mut total = 0.0;
    for k in 0..1000 {
        let kf = k as f64;
        let u = (ln_gamma(kf + 0.5) - ln_gamma(kf + 1.0)).exp() / (std::f64::consts::PI.powf(1.5) * x.sqrt());
        let y = 4.0 * kf + 1.0;
        let q = y * y / (16.0 * x);
        let term = u * y.sqrt() * scaled_bessel_k_quarter(q);
        total += term;
        if term.abs() < 1e-7 {
            break;
        }
    }
    (1.0 - total).max(0.0)
}

/// `e^{−q}·K_{1/4}(q)`, by the trapezoid rule on `∫₀^∞ exp(−q·(1 + cosh t))·cosh(t/4) dt`.
/// For an integrand analytic in a strip of half-width π/2 its error falls like `exp(−π²/h)`,
/// and for a peak of width `1/√q` like `exp(−2π²/(q·h²))`: the step `h = min(0.25, 0.6/√q)`
/// keeps both below 1e-16 relative, in at most about 35 points. At the common step the cosh
/// terms come from a table, so a point costs one exponential.
fn scaled_bessel_k_quarter(q: f64) -> f64 {
    const H: f64 = 0.25;
    static TABLE: std::sync::OnceLock<Vec<(f64, f64)>> = std::sync::OnceLock::new();
    let h = H.min(0.6 / q.sqrt());
    let point = |i: usize| -> (f64, f64) {
        let t = i as f64 * h;
        (1.0 + t.cosh(), (t / 4.0).cosh())
    };
    let table = (h == H).then(|| {
        TABLE.get_or_init(|| (0..200).map(|i| (1.0 + (i as f64 * H).cosh(), (i as f64 * H / 4.0).cosh())).collect())
    });
    let at = |i: usize| table.and_then(|t| t.get(i).copied()).unwrap_or_else(|| point(i));
    let f = |i: usize| {
        let (c, c4) = at(i);
        (-q * c).exp() * c4
    };
    let mut sum = f(0) / 2.0;
    for i in 1..100_000 {
        let v = f(i);
        sum += v;
        if v <= sum * 1e-18 {
            break;
        }
    }
    sum * h
}

/// Anderson–Darling k-sample statistic (standardized, as scipy's `anderson_ksamp` reports it)
/// and its interpolated p-value, from counts per ordered bin; `discrete` as for
/// [`cramer_von_mises`]. `None` when a side is empty or all values share one bin (the statistic
/// is undefined there; scipy refuses such samples).
pub fn anderson_darling(base: &[f64], cur: &[f64], discrete: bool) -> Option<(f64, f64)> {
    anderson_darling_with(base, cur, discrete, None)
}

/// Currents of at most this many values use an [`AndersonMemo`]: a current of `m` values asks
/// for up to `m + 1` tables per comparison, and each pooled total has its own, so the memo pays
/// where windows hold a few values (an hour of a sensor) and would only cost lookups past that.
const MEMO_MAX_ROWS: f64 = 16.0;
/// Tables an [`AndersonMemo`] keeps at most (each 16 bytes per bin), made or asked for once.
const MEMO_TABLES: usize = 256;

/// The logarithms of [`anderson_darling`]'s bins that a small current leaves empty, against one
/// baseline. Such a bin's [`anderson_logs`] depend on the baseline's counts, the pooled total
/// and how many current values lie below the bin, nothing else: for a current of a few values
/// (an hour of a sensor) that is most bins, and the same few tables serve every window. A table
/// is made with the very operations of the pass over the bins, so the statistic is the same to
/// the bit with or without the memo; it is made the second time it is asked for, so that a
/// reference compared once (the previous window) costs no table.
#[derive(Debug, Default)]
pub struct AndersonMemo {
    /// By (pooled total, current values below) as bits: each bin's logarithms when the current
    /// has none in it, once asked for twice.
    tables: Mutex<HashMap<MemoKey, Option<LogTable>>>,
}

/// A pooled total and a count of current values below, as bits.
type MemoKey = (u64, u64);

/// Each bin's two logarithms ([`anderson_logs`]).
type LogTable = Arc<[(f64, f64)]>;

impl AndersonMemo {
    /// The table for a pooled total `n` and `before_y` current values below, when the memo keeps
    /// one (a small current, and room left).
    fn table(&self, base: &[f64], n: f64, before_y: f64) -> Option<LogTable> {
        let key = (n.to_bits(), before_y.to_bits());
        let mut tables = self.tables.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match tables.get(&key) {
            Some(Some(t)) => return Some(t.clone()),
            Some(None) => {}
            None => {
                if tables.len() < MEMO_TABLES {
                    tables.insert(key, None);
                }
                return None;
            }
        }
        let mut before_x = 0.0f64;
        let table: LogTable = base
            .iter()
            .map(|&a| {
                // As in the pass: an empty bin's `l` is `a + 0.0`, its first rank `j0` the
                // baseline's values before it plus the current's.
                let (l, j0) = (a + 0.0, before_x + before_y);
                before_x += a;
                if l > 0.0 {
                    anderson_logs(n, j0, l)
                } else {
                    (0.0, 0.0)
                }
            })
            .collect();
        tables.insert(key, Some(table.clone()));
        Some(table)
    }
}

/// [`anderson_darling`], with the logarithms of the bins a small current leaves empty taken from
/// `memo` when given (the same bits).
pub fn anderson_darling_with(
    base: &[f64],
    cur: &[f64],
    discrete: bool,
    memo: Option<&AndersonMemo>,
) -> Option<(f64, f64)> {
    let (nx, ny) = totals(base, cur)?;
    let n = nx + ny;
    if base.iter().zip(cur).filter(|(a, b)| *a + *b > 0.0).count() < 2 {
        return None;
    }
    let (mut before_x, mut before_y) = (0.0f64, 0.0f64);
    let mut a2 = 0.0f64;
    let (inv_nx, inv_ny, inv_n) = (1.0 / nx, 1.0 / ny, 1.0 / n);
    let memo = memo.filter(|_| !discrete && ny <= MEMO_MAX_ROWS);
    let table_at = |before_y: f64| memo.and_then(|m| m.table(base, n, before_y));
    let mut table = table_at(0.0);
    for (k, (&a, &b)) in base.iter().zip(cur).enumerate() {
        let l = a + b;
        if l > 0.0 {
            let j0 = before_x + before_y;
            if discrete {
                // Scholz & Stephens (1987), eq. 7 for tied data: over the distinct values z_j
                // (here the non-empty bins), with l_j values at z_j, B_j = (values before) +
                // l_j/2 and M_ij = (sample i's values before) + f_ij/2.
                let bj = j0 + l / 2.0;
                let denom = bj * (n - bj) - n * l / 4.0;
                let mx = before_x + a / 2.0;
                let my = before_y + b / 2.0;
                a2 += l / n * ((n * mx - bj * nx).powi(2) * inv_nx + (n * my - bj * ny).powi(2) * inv_ny) / denom;
            } else {
                // Their eq. 3 for continuous data, Σ_j (N·M_ij − j·n_i)²/(j·(N − j)) over the
                // pooled ranks j, with the bin's values interleaved: M_ij linear in j across the
                // bin, the sum its integral.
                let logs = match &table {
                    Some(t) if b == 0.0 => t[k],
                    _ => anderson_logs(n, j0, l),
                };
                let inv_l = 1.0 / l;
                let bin = (j0, l, inv_l);
                a2 += anderson_bin((n, inv_n), nx, bin, before_x, a, logs) * inv_nx
                    + anderson_bin((n, inv_n), ny, bin, before_y, b, logs) * inv_ny;
            }
        }
        before_x += a;
        before_y += b;
        if b != 0.0 && memo.is_some() {
            table = table_at(before_y);
        }
    }
    // Eq. 7's factor (N − 1)/N for tied data; eq. 3's 1/N, taken out of the sum.
    a2 *= if discrete { (n - 1.0) / n } else { 1.0 / n };
    // Its variance under the null (their eq. 4) for k = 2 samples.
    let k = 2.0;
    let hh = 1.0 / nx + 1.0 / ny;
    let (h, g) = (harmonic(n - 1.0), scholz_stephens_g(n));
    let a = (4.0 * g - 6.0) * (k - 1.0) + (10.0 - 6.0 * g) * hh;
    let b = (2.0 * g - 4.0) * k * k + 8.0 * h * k + (2.0 * g - 14.0 * h - 4.0) * hh - 8.0 * h + 4.0 * g - 6.0;
    let c = (6.0 * h + 2.0 * g - 2.0) * k * k + (4.0 * h - 4.0 * g + 6.0) * k + (2.0 * h - 6.0) * hh + 4.0 * h;
    let d = (2.0 * h + 6.0) * k * k - 4.0 * h * k;
    let sigma_sq = (a * n.powi(3) + b * n * n + c * n + d) / ((n - 1.0) * (n - 2.0) * (n - 3.0));
    let stat = (a2 - (k - 1.0)) / sigma_sq.sqrt();
    stat.is_finite().then(|| (stat, anderson_pvalue(stat)))
}

/// The two logarithms of a bin's integral in [`anderson_bin`], `ln((j0 + l)/j0)` and
/// `ln((N − j0)/(N − j0 − l))` (0 where the range ends, whose coefficient is 0 there).
fn anderson_logs(n: f64, j0: f64, l: f64) -> (f64, f64) {
    let low = if j0 > 0.0 { ln_1p(l / j0) } else { 0.0 };
    let high = if n - j0 - l > 0.0 { ln_1p(l / (n - j0 - l)) } else { 0.0 };
    (low, high)
}

/// `ln(1 + x)` for `x ≥ 0`: its series to the sixth power below 0.01 (relative error under
/// 2e-13 there), else `ln` of `1 + x` (whose rounding costs at most 1e-14 relative from 0.01
/// on, and which is about three times cheaper than `ln_1p`).
fn ln_1p(x: f64) -> f64 {
    if x < 0.01 {
        x * (1.0 - x * (1.0 / 2.0 - x * (1.0 / 3.0 - x * (1.0 / 4.0 - x * (1.0 / 5.0 - x / 6.0)))))
    } else {
        (1.0 + x).ln()
    }
}

/// `∫_{j0}^{j0+l} (N·M(j) − j·n_i)²/(j·(N − j)) dj` with `M` rising linearly from `m0` to
/// `m0 + f` across the bin: with `D(j) = u + v·j`, the integrand is
/// `(u²/N)/j + ((u + vN)²/N)/(N − j) − v²`. `D(0) = 0` and `D(N) = 0` at the ends of the range,
/// so the logarithms' coefficients vanish exactly where they would be infinite; `logs` are
/// [`anderson_logs`].
/// [`anderson_logs`], and `(N, 1/N)`, the bin's first pooled rank `j0`, its values `l` and
/// `1/l` (divisions are most of the cost: each is made once per bin).
fn anderson_bin(
    (n, inv_n): (f64, f64),
    ni: f64,
    (j0, l, inv_l): (f64, f64, f64),
    m0: f64,
    f: f64,
    (low, high): (f64, f64),
) -> f64 {
    let slope = f * inv_l;
    let v = n * slope - ni;
    let u = n * (m0 - slope * j0);
    let end = u + v * n;
    (u * u * low + end * end * high) * inv_n - v * v * l
}

/// The p-value of a standardized two-sample Anderson–Darling statistic from Scholz & Stephens'
/// table 2: the log of the significance level fitted by a quadratic in the critical value
/// (least squares over the table's seven levels, as scipy does), outside the table 0.25 and
/// 0.001.
pub fn anderson_pvalue(stat: f64) -> f64 {
    const B0: [f64; 7] = [0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085];
    const B1: [f64; 7] = [-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615];
    const B2: [f64; 7] = [-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154];
    const SIG: [f64; 7] = [0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001];
    // m = k − 1 = 1.
    let critical: Vec<f64> = (0..7).map(|i| B0[i] + B1[i] + B2[i]).collect();
    let (lo, hi) = (critical[0], critical[6]);
    if stat < lo {
        return SIG[0];
    }
    if stat > hi {
        return SIG[6];
    }
    let logs: Vec<f64> = SIG.iter().map(|s| s.ln()).collect();
    let [c0, c1, c2] = quadratic_fit(&critical, &logs);
    (c0 + c1 * stat + c2 * stat * stat).exp()
}

/// Least-squares `y ≈ c0 + c1·x + c2·x²`, by the normal equations on `x` centred at its mean
/// (well conditioned for a handful of points), returned in powers of `x`.
fn quadratic_fit(x: &[f64], y: &[f64]) -> [f64; 3] {
    let mean = x.iter().sum::<f64>() / x.len() as f64;
    let mut s = [0.0f64; 5];
    let mut t = [0.0f64; 3];
    for (&xi, &yi) in x.iter().zip(y) {
        let u = xi - mean;
        let mut p = 1.0;
        for (j, sj) in s.iter_mut().enumerate() {
            *sj += p;
            if j < 3 {
                t[j] += p * yi;
            }
            p *= u;
        }
    }
    // Solve [[s0 s1 s2] [s1 s2 s3] [s2 s3 s4]] · a = t by Cramer's rule.
    let m = [[s[0], s[1], s[2]], [s[1], s[2], s[3]], [s[2], s[3], s[4]]];
    let det = |m: &[[f64; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let d = det(&m);
    let mut a = [0.0f64; 3];
    for (j, aj) in a.iter_mut().enumerate() {
        let mut mj = m;
        for (row, tv) in mj.iter_mut().zip(t) {
            row[j] = tv;
        }
        *aj = det(&mj) / d;
    }
    // a0 + a1·(x − μ) + a2·(x − μ)² in powers of x.
    [a[0] - a[1] * mean + a[2] * mean * mean, a[1] - 2.0 * a[2] * mean, a[2]]
}

/// `H_m = Σ_{i=1..m} 1/i`: summed up to 100, then by its asymptotic series (error below 1e-16
/// relative there).
fn harmonic(m: f64) -> f64 {
    if m <= 100.0 {
        return (1..=m as u64).rev().map(|i| 1.0 / i as f64).sum();
    }
    let m2 = m * m;
    m.ln() + EULER_GAMMA + 1.0 / (2.0 * m) - 1.0 / (12.0 * m2) + 1.0 / (120.0 * m2 * m2)
}

/// Scholz & Stephens' `g = Σ_{i=1..N−2} Σ_{j=i+1..N−1} 1/((N − i)·j)`: summed up to N = 100
/// (as scipy sums it), then `π²/6 − (2(ln N + γ) + 1)/N + 1/(2N²)`, which is within 1e-12
/// of the sum from N = 100 on (checked against the sum in this module's tests).
fn scholz_stephens_g(n: f64) -> f64 {
    if n <= 1000.0 {
        return g_summed(n as u64);
    }
    std::f64::consts::PI.powi(2) / 6.0 - (2.0 * (n.ln() + EULER_GAMMA) + 1.0) / n + 1.0 / (2.0 * n * n)
}

/// `g` by its definition, in scipy's order: the cumulative sums of 1/(N−1), 1/(N−2), …, 1/2,
/// the i-th divided by i + 2.
fn g_summed(n: u64) -> f64 {
    let mut cum = 0.0;
    let mut g = 0.0;
    for (i, d) in (2..n).rev().enumerate() {
        cum += 1.0 / d as f64;
        g += cum / (i + 2) as f64;
    }
    g
}

/// The energy distance `sqrt(2·∫(F − G)²)` between the binned distributions (`edges` the interior
/// edges, `spread` what is known of the values inside the bins, as for Wasserstein-1).
pub fn energy_distance(edges: &[f64], base: &[f64], cur: &[f64], spread: &Spread) -> Option<f64> {
    energy_distance_shaped(&bin_shapes(edges, spread), base, cur, spread)
}

/// [`energy_distance`] with the bins' [`bin_shapes`] made beforehand.
pub fn energy_distance_shaped(shapes: &[BinShape], base: &[f64], cur: &[f64], spread: &Spread) -> Option<f64> {
    let (n, m) = totals(base, cur)?;
    let last = shapes.len() - 1;
    let (mut cb, mut cc) = (0.0f64, 0.0f64);
    let mut before = 0.0f64;
    let mut integral = 0.0f64;
    for (k, shape) in shapes.iter().enumerate() {
        cb += base[k];
        cc += cur[k];
        let gap = if k < last { (cb * m - cc * n) / (n * m) } else { 0.0 };
        let w = shape.width;
        let tail_known = (k == 0 && spread.tails.0.is_some()) || (k == last && spread.tails.1.is_some());
        integral += if tail_known && spread.discrete {
            // One bin per value: the current's values beyond the baseline's range sit at their
            // mean, and `F − G` keeps its edge value over the distance to it, half the shape's
            // width (one of the two ends is 0). Otherwise they spread evenly over the shape's
            // width, twice that distance, as for Wasserstein-1.
            w / 2.0 * (before * before + gap * gap)
        } else if shape.step {
            w * gap * gap
        } else {
            w * (before * before + before * gap + gap * gap) / 3.0
        };
        before = gap;
    }
    Some((2.0 * integral).max(0.0).sqrt())
}

/// Total variation distance `½·Σ|p − q|` over aligned counts. `None` when a side is empty.
pub fn total_variation(base: &[f64], cur: &[f64]) -> Option<f64> {
    let (n, m) = totals(base, cur)?;
    // |b/n − c/m| as |b·m − c·n|/(n·m): one rounding per term.
    Some(base.iter().zip(cur).map(|(b, c)| (b * m - c * n).abs()).sum::<f64>() / (2.0 * n * m))
}

fn totals(base: &[f64], cur: &[f64]) -> Option<(f64, f64)> {
    let (n, m) = (base.iter().sum::<f64>(), cur.iter().sum::<f64>());
    (base.len() == cur.len() && n > 0.0 && m > 0.0).then_some((n, m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memo_gives_anderson_darling_to_the_bit() {
        // A baseline of 257 uneven bins (some empty); currents of 1 to 80 values scattered over
        // them, one memo for all: those of at most 16 take most bins' logarithms from it.
        let base: Vec<f64> = (0..257u64).map(|i| ((i * 7919) % 23) as f64 * 13.0).collect();
        let memo = AndersonMemo::default();
        let mut seed = 12345u64;
        let mut next = |k: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % k
        };
        for round in 0..400 {
            let rows = [1, 2, 3, 4, 5, 8, 16, 17, 80][round % 9];
            let mut cur = vec![0.0; 257];
            for _ in 0..rows {
                cur[next(257) as usize] += 1.0;
            }
            let plain = anderson_darling(&base, &cur, false).map(|(a, p)| (a.to_bits(), p.to_bits()));
            let memoized =
                anderson_darling_with(&base, &cur, false, Some(&memo)).map(|(a, p)| (a.to_bits(), p.to_bits()));
            assert_eq!(plain, memoized, "round {round}: {rows} rows");
        }
        let made = memo.tables.lock().unwrap().values().filter(|t| t.is_some()).count();
        assert!(made > 9 && made <= MEMO_TABLES, "{made} tables");
    }

    #[test]
    fn g_series_meets_the_sum() {
        for n in [1000u64, 1001, 1500, 5000, 20_000, 100_000] {
            let (sum, series) = (g_summed(n), scholz_stephens_g(n as f64 + 0.0));
            let asym = std::f64::consts::PI.powi(2) / 6.0 - (2.0 * ((n as f64).ln() + EULER_GAMMA) + 1.0) / n as f64
                + 1.0 / (2.0 * (n as f64).powi(2));
            assert!((sum - asym).abs() < 1e-13, "N {n}: sum {sum}, series {asym}");
            assert!((series - sum).abs() < 1e-13);
        }
    }

    #[test]
    fn harmonic_series_meets_the_sum() {
        for m in [101u64, 150, 1000, 100_000] {
            let sum: f64 = (1..=m).rev().map(|i| 1.0 / i as f64).sum();
            assert!((harmonic(m as f64) - sum).abs() < 1e-13, "{m}");
        }
    }

    #[test]
    fn bessel_matches_known_values() {
        // scipy.special.kve(0.25, q) = e^q·K_{1/4}(q).
        for (q, kve) in [
            (0.01, 6.227_707_994_041_582),
            (1.0, 1.170_872_101_678_126_5),
            (25.0, 0.249_742_603_743_436_74),
            (300.0, 0.07233755399641476),
        ] {
            let got = scaled_bessel_k_quarter(q) * (2.0 * q).exp();
            assert!((got - kve).abs() < 1e-12 * kve, "q {q}: {got} against {kve}");
        }
    }

    #[test]
    fn identical_samples_read_no_difference() {
        let c = [5.0, 10.0, 20.0, 10.0, 5.0];
        assert_eq!(energy_distance(&[1.0, 2.0, 3.0, 4.0], &c, &c, &Spread::even((0.0, 5.0))), Some(0.0));
        assert_eq!(total_variation(&c, &c), Some(0.0));
        for discrete in [false, true] {
            let (t, p) = cramer_von_mises(&c, &c, discrete).unwrap();
            assert!(p > 0.99, "{t} {p}");
            assert!(anderson_darling(&c, &c, discrete).unwrap().0 < 0.0);
            assert_eq!(anderson_darling(&[0.0, 3.0, 0.0], &[0.0, 4.0, 0.0], discrete), None);
            assert_eq!(cramer_von_mises(&[0.0, 0.0], &[1.0, 2.0], discrete), None);
        }
    }
}
