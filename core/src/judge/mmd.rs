//! Multivariate drift by a kernel two-sample test: the maximum mean discrepancy (MMD) of a
//! Gaussian kernel on the standardized features, through random Fourier features
//! ([`crate::profile::rff`]), so that it is linear in the rows and summed per window in the one
//! pass.
//!
//! - The features are the reconstruction's (standardized as [`crate::profile::pca`] does it).
//!   The kernel's bandwidth follows the mean heuristic: 2σ² is the mean squared distance
//!   between two baseline rows, which for standardized features is twice their number (those
//!   with variance), so σ² = that number.
//! - The statistic of a window of `m` rows against the baseline's `n` is the squared distance
//!   between their mean features, `‖μ_W − μ_B‖²` (the V-statistic of MMD² for the features'
//!   kernel).
//! - Its p-value is the permutation test's in its large-sample limit: with no change the
//!   difference of the means is Gaussian with covariance `(1/m + 1/n)·C` (`C` the features'
//!   covariance over the baseline), so the statistic is `(1/m + 1/n)·Σ λₖ Zₖ²` with `λ` the
//!   eigenvalues of `C`. The p-value is read from [`NULL_DRAWS`] seeded draws of that sum, as a
//!   permutation p-value is: `(1 + #{draws ≥ statistic}) / (1 + draws)`.
//! - With millions of rows every p-value is tiny, so the verdict also asks for an effect: the
//!   statistic less its expectation without change, `(1/m + 1/n)·tr C` (an unbiased estimate
//!   of the population MMD², `mmd2`), must exceed what the baseline's own chunks show against
//!   the whole baseline (their mean + 3 standard deviations). Drift = p-value at most α (0.05)
//!   and `mmd2` above that threshold.
//! - A run's windows are many tests: their p-values are held to the Benjamini–Hochberg
//!   procedure at α, so that with no change anywhere a run raises a false alarm with
//!   probability at most α, not α per window.

use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::judge::sagemaker::{CheckType, Violation};
use crate::profile::rff::{Products, Rff, Sums};

/// Random features by default.
pub const DEFAULT_FEATURES: usize = 128;
/// Random features at most.
pub const MAX_FEATURES: usize = 4096;
/// Significance level of the test by default.
pub const DEFAULT_ALPHA: f64 = 0.05;
/// Draws of the statistic without change that a p-value is read from.
pub const NULL_DRAWS: usize = 100_000;
/// Rows of the baseline (evenly spaced) whose features give their covariance at most.
pub const COVARIANCE_ROWS: u64 = 65_536;
/// Standard deviations of the baseline's chunk values above their mean for the threshold.
pub const SIGMAS: f64 = 3.0;
/// The seed of the features' frequencies and phases.
pub const SEED: u64 = 0x6d6d_6421;

/// One chunk of the baseline's rows against the whole baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MmdChunk {
    /// First row (in the inputs' order, from 0).
    pub start: u64,
    /// Row past the last.
    pub end: u64,
    /// Its MMD² less the expectation without change.
    pub mmd2: f64,
    /// Its p-value.
    pub p_value: f64,
}

/// A baseline's kernel test: the features, the baseline's summed features, the eigenvalues of
/// their covariance, its chunks and the threshold they give.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MmdModel {
    /// `mmd_random_fourier_features`.
    pub method: String,
    /// The feature map.
    pub random_features: Rff,
    /// Rows of the baseline.
    pub rows: u64,
    /// The baseline's summed features (2⁻²⁸ units of a cosine).
    pub sums: Vec<i64>,
    /// The eigenvalues of the features' covariance over the baseline, largest first.
    pub eigenvalues: Vec<f64>,
    /// The baseline rows the covariance was computed from.
    pub covariance_rows: u64,
    /// Rows per chunk of the baseline.
    pub chunk_rows: u64,
    /// The baseline's chunks, in order.
    pub chunks: Vec<MmdChunk>,
    /// Above this `mmd2`, drift (when the p-value is below α too).
    pub threshold: f64,
    /// Significance level.
    pub alpha: f64,
}

/// The statistic's distribution without change, up to its scale: seeded draws of
/// `Σ λₖ Zₖ²`, sorted, and the eigenvalues for its far tail.
#[derive(Debug, Clone)]
pub struct Null {
    draws: Vec<f64>,
    eigenvalues: Vec<f64>,
}

/// Draws at least as large as a statistic below which its p-value is read from the
/// saddlepoint approximation instead (the draws' share is then too coarse).
const TAIL_DRAWS: usize = 100;

impl Null {
    /// [`NULL_DRAWS`] draws for the eigenvalues (those below 10⁻¹² of the largest left out).
    pub fn of(eigenvalues: &[f64]) -> Null {
        use rand::Rng;
        let top = eigenvalues.iter().copied().fold(0.0, f64::max);
        let kept: Vec<f64> = eigenvalues.iter().copied().filter(|l| *l > top * 1e-12).collect();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(SEED + 1);
        let mut draws: Vec<f64> = (0..NULL_DRAWS)
            .map(|_| {
                kept.iter()
                    .map(|l| {
                        let z: f64 = rng.sample(rand_distr::StandardNormal);
                        l * z * z
                    })
                    .sum()
            })
            .collect();
        draws.sort_by(f64::total_cmp);
        Null { draws, eigenvalues: kept }
    }

    /// The p-value of `q` (the statistic over its scale): the share of draws at least as large,
    /// one counted for `q` itself; beyond the last [`TAIL_DRAWS`] draws (p below 10⁻³), the
    /// saddlepoint approximation of the tail (Lugannani–Rice), accurate to a few percent of the
    /// p-value however small.
    pub fn p_value(&self, q: f64) -> f64 {
        let below = self.draws.partition_point(|d| *d < q);
        let above = self.draws.len() - below;
        if above < TAIL_DRAWS {
            if let Some(p) = saddlepoint_tail(&self.eigenvalues, q) {
                return p;
            }
        }
        (1 + above) as f64 / (1 + self.draws.len()) as f64
    }
}

/// `P(Σ λₖ Zₖ² > x)` for `x` above the mean `Σ λₖ`, by the Lugannani–Rice saddlepoint
/// approximation (Kuonen, 1999): the cumulant generating function `K(t) = −½ Σ ln(1 − 2λₖt)`,
/// the saddlepoint `K′(t̂) = x`, then `1 − Φ(w) + φ(w)·(1/u − 1/w)` with
/// `w = √(2(t̂x − K(t̂)))` and `u = t̂·√K″(t̂)`. `None` at or below the mean.
pub fn saddlepoint_tail(eigenvalues: &[f64], x: f64) -> Option<f64> {
    use statrs::distribution::{Continuous, ContinuousCDF, Normal};
    let top = eigenvalues.iter().copied().fold(0.0, f64::max);
    let mean: f64 = eigenvalues.iter().sum();
    if top <= 0.0 || x.partial_cmp(&mean) != Some(std::cmp::Ordering::Greater) || !x.is_finite() {
        return None;
    }
    let k1 = |t: f64| eigenvalues.iter().map(|l| l / (1.0 - 2.0 * l * t)).sum::<f64>();
    // K′ rises from the mean at 0 to +∞ at 1/2λ_max: bisect.
    let (mut lo, mut hi) = (0.0, 0.5 / top);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if k1(mid) < x {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let t = 0.5 * (lo + hi);
    let k = -0.5 * eigenvalues.iter().map(|l| (1.0 - 2.0 * l * t).ln()).sum::<f64>();
    let k2: f64 = eigenvalues.iter().map(|l| 2.0 * l * l / ((1.0 - 2.0 * l * t) * (1.0 - 2.0 * l * t))).sum();
    let w = (2.0 * (t * x - k)).max(0.0).sqrt();
    let u = t * k2.sqrt();
    if w <= 0.0 || u <= 0.0 {
        return None;
    }
    let n = Normal::standard();
    Some((n.sf(w) + n.pdf(w) * (1.0 / u - 1.0 / w)).clamp(0.0, 1.0))
}

/// The Benjamini–Hochberg level of `p` (sorted here) at `alpha`: the largest `p₍ₖ₎` with
/// `p₍ₖ₎ ≤ α·k/m`, else `α/m` (below which a p-value would have been the first taken).
pub fn benjamini_hochberg(p: &mut [f64], alpha: f64) -> f64 {
    p.sort_by(f64::total_cmp);
    let m = p.len().max(1) as f64;
    let taken = p.iter().enumerate().filter(|(i, v)| **v <= alpha * (i + 1) as f64 / m).map(|(_, v)| *v).next_back();
    taken.unwrap_or(alpha / m)
}

/// `‖μ_a − μ_b‖²` of rows' sums `a` and means `b` (`None` when `a` has no row).
fn statistic(rff: &Rff, a: &Sums, b: &[f64]) -> Option<f64> {
    let ma = a.means(rff)?;
    Some(ma.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum())
}

impl MmdModel {
    /// The model from the baseline's summed features (`whole`), the sums of products of a
    /// sample of its rows, and its chunks' sums (each `(first row, sums)`).
    ///
    /// # Errors
    /// A reason when the baseline has fewer than two chunks (no spread for a threshold) or no
    /// row for the covariance.
    pub fn fit(
        random_features: Rff,
        whole: &Sums,
        products: &Products,
        chunk_rows: u64,
        chunks: &[(u64, Sums)],
        alpha: f64,
    ) -> std::result::Result<MmdModel, String> {
        let d = random_features.count;
        let cov = products.covariance(&random_features).ok_or("no baseline row to compute the features' covariance")?;
        let matrix = nalgebra::DMatrix::from_row_slice(d, d, &cov);
        let mut eigenvalues: Vec<f64> = matrix.symmetric_eigen().eigenvalues.iter().map(|l| l.max(0.0)).collect();
        eigenvalues.sort_by(|a, b| b.total_cmp(a));
        let mut m = MmdModel {
            method: "mmd_random_fourier_features".into(),
            random_features,
            rows: whole.rows,
            sums: whole.sums.clone(),
            eigenvalues,
            covariance_rows: products.rows,
            chunk_rows,
            chunks: Vec::new(),
            threshold: 0.0,
            alpha,
        };
        if chunks.len() < 2 {
            return Err(format!(
                "the baseline's {} rows make {} chunk(s) of {chunk_rows}: the threshold needs at least 2 (give fewer rows per chunk)",
                whole.rows,
                chunks.len()
            ));
        }
        let null = Null::of(&m.eigenvalues);
        let base = m.means();
        let n = m.rows as f64;
        for (start, s) in chunks {
            let Some(stat) = statistic(&m.random_features, s, &base) else { continue };
            // A chunk is part of the baseline it is compared with: its difference's covariance
            // is (1/m − 1/n)·C.
            let scale = 1.0 / s.rows as f64 - 1.0 / n;
            let p_value = if scale > 0.0 { null.p_value(stat / scale) } else { 1.0 };
            m.chunks.push(MmdChunk { start: *start, end: start + s.rows, mmd2: stat - scale * m.trace(), p_value });
        }
        let values: Vec<f64> = m.chunks.iter().map(|c| c.mmd2).collect();
        let k = values.len() as f64;
        let mean = values.iter().sum::<f64>() / k;
        let sd = (values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / k).sqrt();
        m.threshold = mean + SIGMAS * sd;
        Ok(m)
    }

    /// Why a model read from a file over `inputs` features cannot be used, if it cannot.
    ///
    /// # Errors
    /// A reason naming the part whose size or figures are wrong.
    pub fn check(&self, inputs: usize) -> std::result::Result<(), String> {
        let r = &self.random_features;
        let d = r.count;
        if !(1..=MAX_FEATURES).contains(&d) || r.inputs != inputs {
            return Err(format!(
                "damaged: the kernel test's {d} random features of {} inputs (expected 1 to {MAX_FEATURES} of {inputs})",
                r.inputs
            ));
        }
        if r.frequencies.len() != d * inputs
            || r.phases.len() != d
            || self.sums.len() != d
            || self.eigenvalues.len() > d
        {
            return Err(
                "damaged: the kernel test's frequencies, phases, sums or eigenvalues are not of its size".into()
            );
        }
        if !self.eigenvalues.iter().all(|l| l.is_finite() && *l >= 0.0) || !self.threshold.is_finite() {
            return Err("damaged: the kernel test's eigenvalues or threshold are not finite".into());
        }
        if !(self.alpha > 0.0 && self.alpha < 1.0) || self.rows == 0 {
            return Err("damaged: the kernel test's significance level or rows".into());
        }
        Ok(())
    }

    /// The trace of the features' covariance: the statistic's expectation without change, per
    /// unit of its scale.
    pub fn trace(&self) -> f64 {
        self.eigenvalues.iter().sum()
    }

    /// The baseline's mean features.
    pub fn means(&self) -> Vec<f64> {
        let s = Sums { rows: self.rows, sums: self.sums.clone() };
        s.means(&self.random_features).unwrap_or_else(|| vec![0.0; self.random_features.count])
    }

    /// The verdict on rows' summed features (a run's, a window's), with `null` from
    /// [`Null::of`] of the model's eigenvalues and `base` its [`MmdModel::means`].
    pub fn judge(&self, s: &Sums, null: &Null, base: &[f64]) -> MmdVerdict {
        let mut v = MmdVerdict {
            rows: s.rows,
            statistic: None,
            mmd2: None,
            p_value: None,
            level: self.alpha,
            threshold: self.threshold,
            alpha: self.alpha,
            drift: false,
        };
        let Some(stat) = statistic(&self.random_features, s, base) else { return v };
        let scale = 1.0 / s.rows as f64 + 1.0 / self.rows.max(1) as f64;
        let p = null.p_value(stat / scale);
        let mmd2 = stat - scale * self.trace();
        v.statistic = Some(stat);
        v.mmd2 = Some(mmd2);
        v.p_value = Some(p);
        v.drift = p <= self.alpha && mmd2 > self.threshold;
        v
    }

    /// Each window's verdict, their p-values held together to the Benjamini–Hochberg procedure
    /// at α (see [`benjamini_hochberg`]).
    pub fn judge_windows(
        &self,
        windows: &std::collections::BTreeMap<i64, Sums>,
        null: &Null,
        base: &[f64],
    ) -> std::collections::BTreeMap<i64, MmdVerdict> {
        let mut out: std::collections::BTreeMap<i64, MmdVerdict> =
            windows.iter().map(|(k, s)| (*k, self.judge(s, null, base))).collect();
        let mut p: Vec<f64> = out.values().filter_map(|v| v.p_value).collect();
        let level = benjamini_hochberg(&mut p, self.alpha);
        for v in out.values_mut() {
            v.level = level;
            v.drift = v.p_value.is_some_and(|p| p <= level) && v.mmd2.is_some_and(|m| m > self.threshold);
        }
        out
    }

    /// What `drift.json` says of a run's verdict over `features`, and its violation.
    pub fn report(&self, features: &[String], run: MmdVerdict) -> (MmdReport, Option<Violation>) {
        let violation = self.violation(features, &run);
        let report = MmdReport {
            method: self.method.clone(),
            features: features.to_vec(),
            random_features: self.random_features.count,
            bandwidth: self.random_features.bandwidth,
            run,
            windows: None,
            windows_with_drift: None,
        };
        (report, violation)
    }

    /// The violation of a verdict that drifted.
    pub fn violation(&self, features: &[String], v: &MmdVerdict) -> Option<Violation> {
        let (mmd2, p) = (v.mmd2?, v.p_value?);
        if !v.drift {
            return None;
        }
        Some(Violation {
            feature_name: features.join(","),
            constraint_check_type: CheckType::MmdDriftCheck,
            description: format!(
                "Kernel MMD² {mmd2:.4e} of {} features is above the baseline's threshold {:.4e} (p-value {p:.2e} ≤ {:.2e})",
                features.len(),
                self.threshold,
                v.level
            ),
            figures: None,
        })
    }
}

/// A run's (or a window's) kernel-test verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MmdVerdict {
    /// Rows tested.
    pub rows: u64,
    /// `‖μ_W − μ_B‖²`.
    pub statistic: Option<f64>,
    /// The statistic less its expectation without change.
    pub mmd2: Option<f64>,
    /// The test's p-value.
    pub p_value: Option<f64>,
    /// The level the p-value is held to: α for a run, the Benjamini–Hochberg level among a
    /// run's windows.
    pub level: f64,
    /// The baseline's threshold on `mmd2`.
    pub threshold: f64,
    /// Significance level.
    pub alpha: f64,
    /// Significant, and above the threshold.
    pub drift: bool,
}

/// What `drift.json` says of the kernel test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MmdReport {
    /// `mmd_random_fourier_features`.
    pub method: String,
    /// The features.
    pub features: Vec<String>,
    /// Random features.
    pub random_features: usize,
    /// The kernel's bandwidth, in standardized units.
    pub bandwidth: f64,
    /// The run's verdict.
    #[serde(flatten)]
    pub run: MmdVerdict,
    /// Windows judged (with windows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub windows: Option<usize>,
    /// Windows that drifted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub windows_with_drift: Option<usize>,
}

impl MmdReport {
    /// The verdict in a sentence, for the Markdown summary and the HTML report.
    pub fn sentence(&self) -> String {
        let mut s = format!(
            "{}: kernel MMD² {} of {} features (p-value {}; drift above {:.4e} at p < {})",
            if self.run.drift { "drift" } else { "no drift" },
            self.run.mmd2.map_or("–".to_string(), |v| format!("{v:.4e}")),
            self.features.len(),
            self.run.p_value.map_or("–".to_string(), |p| format!("{p:.2e}")),
            self.run.threshold,
            self.run.alpha
        );
        if let (Some(n), Some(d)) = (self.windows, self.windows_with_drift) {
            s.push_str(&format!("; {d} of {n} windows drifted (mmd.csv)"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic stream of normal variates.
    fn normals(seed: u64) -> impl FnMut() -> f64 {
        use rand::Rng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        move || rng.sample(rand_distr::StandardNormal)
    }

    fn sums(rff: &Rff, rows: &[f64]) -> Sums {
        let mut s = Sums::default();
        for c in rff.cosines(rows).chunks(rff.count) {
            s.add(c);
        }
        s
    }

    #[test]
    fn the_statistic_is_the_quadratic_time_mmd_of_the_features_kernel() {
        // V-statistic MMD² = mean k(x,x') + mean k(y,y') − 2 mean k(x,y), with k the features'
        // inner product, computed pair by pair.
        let rff = Rff::draw(2, 64, 1.0, 5);
        let mut g = normals(1);
        let x: Vec<f64> = (0..2 * 120).map(|_| g()).collect();
        let y: Vec<f64> = (0..2 * 90).map(|_| g() + 0.3).collect();
        let phi = |rows: &[f64]| -> Vec<Vec<f64>> {
            rff.cosines(rows).chunks(64).map(|c| c.iter().map(|&v| f64::from(v) * rff.unit()).collect()).collect()
        };
        let (px, py) = (phi(&x), phi(&y));
        let k = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>();
        let mean_k = |a: &[Vec<f64>], b: &[Vec<f64>]| {
            a.iter().flat_map(|u| b.iter().map(move |v| k(u, v))).sum::<f64>() / (a.len() * b.len()) as f64
        };
        let quadratic = mean_k(&px, &px) + mean_k(&py, &py) - 2.0 * mean_k(&px, &py);
        let base = sums(&rff, &x).means(&rff).unwrap();
        let linear = statistic(&rff, &sums(&rff, &y), &base).unwrap();
        assert!((quadratic - linear).abs() < 1e-12 * quadratic.max(1e-3), "{quadratic} vs {linear}");
    }

    #[test]
    fn the_statistic_approximates_the_gaussian_kernel_mmd() {
        // Against MMD² of the exact Gaussian kernel (quadratic time), a shifted sample.
        let (sigma, d) = (2f64.sqrt(), 2048);
        let rff = Rff::draw(2, d, sigma, 9);
        let mut g = normals(2);
        let x: Vec<f64> = (0..2 * 300).map(|_| g()).collect();
        let y: Vec<f64> = (0..2 * 300).map(|_| g() + 0.8).collect();
        let kernel = |a: &[f64], b: &[f64]| {
            let d2: f64 = a.iter().zip(b).map(|(p, q)| (p - q) * (p - q)).sum();
            (-d2 / (2.0 * sigma * sigma)).exp()
        };
        let mean_k = |a: &[f64], b: &[f64]| {
            let mut t = 0.0;
            for u in a.chunks(2) {
                for v in b.chunks(2) {
                    t += kernel(u, v);
                }
            }
            t / ((a.len() / 2) * (b.len() / 2)) as f64
        };
        let exact = mean_k(&x, &x) + mean_k(&y, &y) - 2.0 * mean_k(&x, &y);
        let base = sums(&rff, &x).means(&rff).unwrap();
        let approx = statistic(&rff, &sums(&rff, &y), &base).unwrap();
        assert!((approx - exact).abs() < 0.1 * exact, "{approx} vs {exact}");
    }

    /// The p-value of a permutation test with `permutations` shuffles of the pooled rows.
    fn permutation_p_value(rff: &Rff, x: &[f64], y: &[f64], permutations: usize) -> f64 {
        use rand::seq::SliceRandom;
        let k = rff.inputs;
        let c: Vec<Vec<i32>> =
            rff.cosines(x).chunks(rff.count).chain(rff.cosines(y).chunks(rff.count)).map(<[i32]>::to_vec).collect();
        let m = y.len() / k;
        let of = |idx: &[usize]| {
            let (mut a, mut b) = (Sums::default(), Sums::default());
            for (pos, &i) in idx.iter().enumerate() {
                if pos < c.len() - m {
                    a.add(&c[i]);
                } else {
                    b.add(&c[i]);
                }
            }
            statistic(rff, &b, &a.means(rff).unwrap()).unwrap()
        };
        let mut idx: Vec<usize> = (0..c.len()).collect();
        let observed = of(&idx);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(77);
        let mut at_least = 0;
        for _ in 0..permutations {
            idx.shuffle(&mut rng);
            if of(&idx) >= observed {
                at_least += 1;
            }
        }
        (1 + at_least) as f64 / (1 + permutations) as f64
    }

    /// A change of a pair of independent normal variates.
    type Change = fn(f64, f64) -> (f64, f64);

    #[test]
    fn the_p_value_is_the_permutation_tests() {
        // A baseline of 1,500 rows and windows of 300, with no change, a small shift and a
        // change of correlation: the p-value from the baseline's covariance against 2,000
        // real permutations of the pooled rows.
        let rff = Rff::draw(2, 64, 2f64.sqrt(), 3);
        let mut g = normals(4);
        let x: Vec<f64> = (0..2 * 1500).map(|_| g()).collect();
        let mut products = Products::default();
        for c in rff.cosines(&x).chunks(64) {
            products.add(c);
        }
        let whole = sums(&rff, &x);
        let chunks: Vec<(u64, Sums)> =
            x.chunks(2 * 150).enumerate().map(|(i, part)| (i as u64 * 150, sums(&rff, part))).collect();
        let model = MmdModel::fit(rff.clone(), &whole, &products, 150, &chunks, 0.05).unwrap();
        let null = Null::of(&model.eigenvalues);
        let base = model.means();
        let cases: [(&str, Change); 3] =
            [("none", |a, b| (a, b)), ("shift", |a, b| (a + 0.15, b)), ("correlation", |a, b| (a, 0.6 * a + 0.8 * b))];
        for (name, f) in cases {
            let mut y = Vec::new();
            for _ in 0..300 {
                let (a, b) = f(g(), g());
                y.extend([a, b]);
            }
            let v = model.judge(&sums(&rff, &y), &null, &base);
            let permuted = permutation_p_value(&rff, &x, &y, 2000);
            let p = v.p_value.unwrap();
            assert!((p - permuted).abs() < 0.03 + 0.15 * permuted, "{name}: {p} vs permutations {permuted}");
        }
    }

    #[test]
    fn without_change_the_p_value_is_uniform_and_nothing_drifts() {
        // 400 windows of 200 rows from the baseline's distribution: about 5% below 0.05.
        let rff = Rff::draw(3, 64, 3f64.sqrt(), 8);
        let mut g = normals(6);
        let x: Vec<f64> = (0..3 * 20_000).map(|_| g()).collect();
        let mut products = Products::default();
        for c in rff.cosines(&x).chunks(64) {
            products.add(c);
        }
        let chunks: Vec<(u64, Sums)> =
            x.chunks(3 * 2000).enumerate().map(|(i, part)| (i as u64 * 2000, sums(&rff, part))).collect();
        let model = MmdModel::fit(rff.clone(), &sums(&rff, &x), &products, 2000, &chunks, 0.05).unwrap();
        let (null, base) = (Null::of(&model.eigenvalues), model.means());
        let (mut low, mut drifted) = (0, 0);
        for _ in 0..400 {
            let y: Vec<f64> = (0..3 * 200).map(|_| g()).collect();
            let v = model.judge(&sums(&rff, &y), &null, &base);
            low += usize::from(v.p_value.unwrap() < 0.05);
            drifted += usize::from(v.drift);
        }
        // Binomial(400, 0.05): 20 ± 4.4.
        assert!((8..=34).contains(&low), "{low} of 400 below 0.05");
        assert!(drifted <= low);
        // A chi-square check of the null itself: equal eigenvalues make Σ λ Z² a scaled χ²ₖ.
        let null = Null::of(&[2.0; 4]);
        let chi = statrs::distribution::ChiSquared::new(4.0).unwrap();
        for x in [1.0, 4.0, 8.0, 15.0] {
            use statrs::distribution::ContinuousCDF;
            let exact = chi.sf(x / 2.0);
            assert!((null.p_value(x) - exact).abs() < 0.005, "{x}: {} vs {exact}", null.p_value(x));
        }
    }

    #[test]
    fn the_far_tail_is_the_saddlepoint_approximation() {
        use statrs::distribution::{ChiSquared, ContinuousCDF};
        // Equal eigenvalues: 2·χ²₄ exactly, to p-values far below any draw.
        let chi = ChiSquared::new(4.0).unwrap();
        for x in [30.0, 60.0, 100.0] {
            let exact = chi.sf(x / 2.0);
            let got = saddlepoint_tail(&[2.0; 4], x).unwrap();
            assert!((got / exact - 1.0).abs() < 0.05, "{x}: {got} vs {exact}");
        }
        // Unequal ones: where the draws still count (p near 10⁻²), the two agree.
        let l = [0.5, 0.3, 0.1, 0.05, 0.01];
        let null = Null::of(&l);
        let x = null.draws[null.draws.len() - 1000];
        let drawn = 1001.0 / (1.0 + null.draws.len() as f64);
        let tail = saddlepoint_tail(&l, x).unwrap();
        assert!((tail / drawn - 1.0).abs() < 0.1, "{tail} vs {drawn}");
        assert!(null.p_value(1e3) < 1e-50 && null.p_value(20.0) > 0.0);
        assert_eq!(saddlepoint_tail(&l, 0.5), None, "at or below the mean");
    }

    #[test]
    fn benjamini_hochberg_by_hand() {
        // m = 5, α = 0.05: bounds 0.01, 0.02, 0.03, 0.04, 0.05; sorted 0.001, 0.015, 0.025,
        // 0.045, 0.5: p₍₃₎ = 0.025 ≤ 0.03 is the last within its bound.
        let mut p = [0.045, 0.001, 0.025, 0.5, 0.015];
        assert_eq!(benjamini_hochberg(&mut p, 0.05), 0.025);
        let mut none = [0.2, 0.3];
        assert_eq!(benjamini_hochberg(&mut none, 0.05), 0.025);
    }

    #[test]
    fn one_chunk_is_refused() {
        let rff = Rff::draw(2, 8, 1.0, 1);
        let x = [0.1, 0.2, 0.3, -0.1];
        let mut products = Products::default();
        for c in rff.cosines(&x).chunks(8) {
            products.add(c);
        }
        let s = sums(&rff, &x);
        let e = MmdModel::fit(rff, &s, &products, 2, &[(0, s.clone())], 0.05).unwrap_err();
        assert!(e.contains("at least 2"), "{e}");
    }
}
