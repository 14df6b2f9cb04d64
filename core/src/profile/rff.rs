//! Random Fourier features of standardized rows, the feature map of the kernel two-sample test
//! (MMD, [`crate::judge::mmd`]): `D` features `φₖ(z) = √(2/D)·cos(ωₖ·z + bₖ)` whose inner
//! product approximates the Gaussian kernel `exp(−‖z − z′‖² / 2σ²)` (Rahimi and Recht), so the
//! kernel's maximum mean discrepancy between two samples is the distance between their mean
//! features: linear in the rows, a sum per window like every profile.
//!
//! The map is computed in integers, so that any device computes it to the bit and any split of
//! the rows sums to the same figures:
//! - a standardized value is rounded to a multiple of 2⁻¹⁶ (an `i32`, clamped);
//! - a frequency ωₖⱼ/2π is rounded to a multiple of 2⁻¹⁶ turns per unit and the phase bₖ is a
//!   whole `u32` of 2⁻³² turns, so the phase `Σⱼ Wₖⱼ·qⱼ + Bₖ` is exact in 32-bit wrapping
//!   arithmetic (a wrap is a whole turn);
//! - the cosine of a phase is read from a table of 4,096 steps of a turn (each `round(cos·2²⁸)`)
//!   with linear interpolation on the next 12 bits of the phase (error below 7·10⁻⁷: 3·10⁻⁷ from
//!   the interpolation, 4·10⁻⁷ from the 8 bits of phase left out);
//! - the cosines are summed in `i64` (exact for 2³⁵ rows).
//!
//! The rounded frequencies are the model's: stored in the baseline, they define the kernel
//! exactly, and the Gaussian approximately (to about 10⁻³ of a frequency).

use std::sync::OnceLock;

use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// Fractional bits of a standardized value.
pub const Z_BITS: u32 = 16;
/// Fractional bits of a cosine.
pub const COS_BITS: u32 = 28;
/// Bits of the phase that index the cosine table.
const TABLE_BITS: u32 = 12;
/// Features whose phases are summed together (in registers).
const TILE: usize = 16;
/// Fractional bits of a cosine in the sums of products (the covariance).
const PRODUCT_BITS: u32 = 16;

/// The features: `count` of them over `inputs` standardized values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rff {
    /// Random features (`D`).
    pub count: usize,
    /// Standardized values a row has (`k`).
    pub inputs: usize,
    /// The Gaussian kernel's bandwidth σ, in standardized units.
    pub bandwidth: f64,
    /// The seed the frequencies and phases were drawn with.
    pub seed: u64,
    /// `W`: each frequency in 2⁻¹⁶ turns per standardized unit, input by input (`k × D`, the
    /// `D` features of input 0 first).
    pub frequencies: Vec<i32>,
    /// `B`: each feature's phase, in 2⁻³² turns.
    pub phases: Vec<u32>,
}

/// Entries of the cosine table.
const TABLE_LEN: usize = (1 << TABLE_BITS) + 1;

/// The cosine table: `round(cos(2π·i/4096)·2²⁸)` for `i` in 0..=4096.
fn table() -> &'static [i32; TABLE_LEN] {
    static TABLE: OnceLock<Box<[i32; TABLE_LEN]>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let steps = f64::from(1u32 << TABLE_BITS);
        let mut t = Box::new([0i32; TABLE_LEN]);
        for (i, v) in t.iter_mut().enumerate() {
            let turn = i as f64 / steps;
            *v = ((turn * std::f64::consts::TAU).cos() * f64::from(1u32 << COS_BITS)).round() as i32;
        }
        t
    })
}

/// The cosine table, `round(cos(2π·i/4096)·2²⁸)` for `i` in 0..=4096 (what a GPU kernel reads).
pub fn cosine_table() -> &'static [i32] {
    table()
}

/// The cosine of a phase of 2⁻³² turns, in 2⁻²⁸ units: the table's step, and the linear
/// interpolation to the next one on the following 12 bits (rounded toward −∞).
#[inline]
pub fn cosine(phase: u32) -> i32 {
    cosine_in(table(), phase)
}

#[inline(always)]
fn cosine_in(t: &[i32; TABLE_LEN], phase: u32) -> i32 {
    let i = (phase >> (32 - TABLE_BITS)) as usize;
    let frac = ((phase >> (32 - 2 * TABLE_BITS)) & ((1 << TABLE_BITS) - 1)) as i32;
    let (a, b) = (t[i], t[i + 1]);
    a + (((b - a) * frac) >> TABLE_BITS)
}

/// A standardized value as a multiple of 2⁻¹⁶, to the nearest (ties to even; clamped to the
/// `i32` range; NaN as 0). Rounded by adding and taking away 1.5·2⁵² (exact in the default
/// rounding mode), which vectorizes where `f64::round` is a library call.
#[inline]
pub fn quantize(z: f64) -> i32 {
    const MAGIC: f64 = 6_755_399_441_055_744.0;
    let v = (z * f64::from(1u32 << Z_BITS)).clamp(f64::from(i32::MIN), f64::from(i32::MAX));
    ((v + MAGIC) - MAGIC) as i32
}

/// Each row's phases (`rows × D`) from its quantized values `q` (`rows × k`): `B + Σⱼ qⱼ·Wⱼ` in
/// wrapping 32-bit arithmetic. Features go in tiles of [`TILE`] whose sums stay in registers
/// while the row's values are taken one by one.
#[inline(always)]
fn phases_of(frequencies: &[i32], phases: &[u32], q: &[i32], k: usize, out: &mut [u32]) {
    let d = phases.len();
    let tiled = d - d % TILE;
    for (row, p) in q.chunks_exact(k).zip(out.chunks_exact_mut(d)) {
        for t in (0..tiled).step_by(TILE) {
            let mut acc = [0u32; TILE];
            acc.copy_from_slice(&phases[t..t + TILE]);
            for (j, &v) in row.iter().enumerate() {
                let v = v as u32;
                let w = &frequencies[j * d + t..j * d + t + TILE];
                for (a, &w) in acc.iter_mut().zip(w) {
                    *a = a.wrapping_add((w as u32).wrapping_mul(v));
                }
            }
            p[t..t + TILE].copy_from_slice(&acc);
        }
        for f in tiled..d {
            let mut a = phases[f];
            for (j, &v) in row.iter().enumerate() {
                a = a.wrapping_add((frequencies[j * d + f] as u32).wrapping_mul(v as u32));
            }
            p[f] = a;
        }
    }
}

impl Rff {
    /// `count` features over `inputs` values for bandwidth σ: frequencies drawn from N(0, σ⁻²)
    /// and phases uniform over the turn, from ChaCha8 seeded with `seed`.
    pub fn draw(inputs: usize, count: usize, bandwidth: f64, seed: u64) -> Rff {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let per_turn = f64::from(1u32 << Z_BITS) / std::f64::consts::TAU / bandwidth;
        let frequencies = (0..inputs * count)
            .map(|_| {
                let w: f64 = rng.sample(rand_distr::StandardNormal);
                (w * per_turn).round().clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32
            })
            .collect();
        let phases = (0..count).map(|_| rng.gen::<u32>()).collect();
        Rff { count, inputs, bandwidth, seed, frequencies, phases }
    }

    /// A feature's value per unit of a summed cosine: √(2/D)·2⁻²⁸.
    pub fn unit(&self) -> f64 {
        (2.0 / self.count as f64).sqrt() / f64::from(1u32 << COS_BITS)
    }

    /// Each row's cosines (`rows × D`, in 2⁻²⁸ units) of standardized rows `z` (`rows × k`).
    pub fn cosines(&self, z: &[f64]) -> Vec<i32> {
        let q: Vec<i32> = z.iter().map(|&v| quantize(v)).collect();
        let mut out = Vec::new();
        self.cosines_of(&q, &mut out);
        out
    }

    /// Each row's cosines (`rows × D`) of rows already quantized (`q`, `rows × k`), into `out`.
    pub fn cosines_of(&self, q: &[i32], out: &mut Vec<i32>) {
        let (k, d) = (self.inputs.max(1), self.count);
        let rows = q.len() / k;
        let mut p = vec![0u32; rows * d];
        phases_of(&self.frequencies, &self.phases, &q[..rows * k], k, &mut p);
        let t = table();
        out.clear();
        out.extend(p.iter().map(|&p| cosine_in(t, p)));
    }

    /// The sums of the features of quantized rows `q` (`rows × k`) per group (`groups[r] <
    /// n_groups`): `n_groups × D` sums in 2⁻²⁸ units (the CPU twin of the GPU kernel
    /// `core/shaders/rff.wgsl`).
    pub fn group_sums(&self, q: &[i32], groups: &[u32], n_groups: usize) -> Vec<i64> {
        const BLOCK: usize = 1024;
        let (k, d) = (self.inputs.max(1), self.count);
        let mut sums = vec![0i64; n_groups * d];
        let mut c = Vec::new();
        for (b, block) in q.chunks(BLOCK * k).enumerate() {
            self.cosines_of(block, &mut c);
            for (r, row) in c.chunks_exact(d).enumerate() {
                let g = groups[b * BLOCK + r] as usize;
                for (s, &v) in sums[g * d..(g + 1) * d].iter_mut().zip(row) {
                    *s += i64::from(v);
                }
            }
        }
        sums
    }
}

/// Rows' summed cosines: their number and each feature's sum (in 2⁻²⁸ units).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sums {
    /// Rows summed.
    pub rows: u64,
    /// Per feature, the sum of its cosines.
    pub sums: Vec<i64>,
}

impl Sums {
    /// Adds one row's cosines.
    #[inline]
    pub fn add(&mut self, c: &[i32]) {
        if self.sums.len() < c.len() {
            self.sums.resize(c.len(), 0);
        }
        for (s, &c) in self.sums.iter_mut().zip(c) {
            *s += i64::from(c);
        }
        self.rows += 1;
    }

    /// Adds another's rows.
    pub fn merge(&mut self, o: &Sums) {
        if self.sums.len() < o.sums.len() {
            self.sums.resize(o.sums.len(), 0);
        }
        for (s, &v) in self.sums.iter_mut().zip(&o.sums) {
            *s += v;
        }
        self.rows += o.rows;
    }

    /// The mean features (`None` without rows).
    pub fn means(&self, rff: &Rff) -> Option<Vec<f64>> {
        if self.rows == 0 {
            return None;
        }
        let unit = rff.unit() / self.rows as f64;
        Some((0..rff.count).map(|k| self.sums.get(k).copied().unwrap_or(0) as f64 * unit).collect())
    }
}

/// Sums of the features' products over rows (the upper triangle, row by row), for their
/// covariance: cosines rounded to 2⁻¹⁶, so every product and sum is exact in `i64` for 2³¹ rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Products {
    /// Rows summed.
    pub rows: u64,
    /// Each feature's sum.
    pub sums: Vec<i64>,
    /// Σ cₖ·cₗ for k ≤ l, row-major over the upper triangle.
    pub products: Vec<i64>,
}

impl Products {
    /// Adds one row's cosines.
    pub fn add(&mut self, c: &[i32]) {
        let d = c.len();
        if self.sums.len() < d {
            self.sums = vec![0; d];
            self.products = vec![0; d * (d + 1) / 2];
        }
        let r: Vec<i64> = c.iter().map(|&c| i64::from(c >> (COS_BITS - PRODUCT_BITS))).collect();
        let mut at = 0;
        for (k, &a) in r.iter().enumerate() {
            self.sums[k] += a;
            for (p, &b) in self.products[at..at + d - k].iter_mut().zip(&r[k..]) {
                *p += a * b;
            }
            at += d - k;
        }
        self.rows += 1;
    }

    /// Adds another's rows.
    pub fn merge(&mut self, o: &Products) {
        if self.sums.is_empty() {
            *self = o.clone();
            return;
        }
        for (s, v) in self.sums.iter_mut().zip(&o.sums) {
            *s += v;
        }
        for (s, v) in self.products.iter_mut().zip(&o.products) {
            *s += v;
        }
        self.rows += o.rows;
    }

    /// The features' population covariance (`D × D`, row-major; `None` without rows).
    pub fn covariance(&self, rff: &Rff) -> Option<Vec<f64>> {
        if self.rows == 0 || self.sums.len() != rff.count {
            return None;
        }
        let d = rff.count;
        let n = self.rows as f64;
        let unit = (2.0 / d as f64).sqrt() / f64::from(1u32 << PRODUCT_BITS);
        let mean: Vec<f64> = self.sums.iter().map(|&s| s as f64 * unit / n).collect();
        let mut c = vec![0.0; d * d];
        let mut at = 0;
        for k in 0..d {
            for l in k..d {
                let v = self.products[at] as f64 * unit * unit / n - mean[k] * mean[l];
                c[k * d + l] = v;
                c[l * d + k] = v;
                at += 1;
            }
        }
        Some(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_integer_cosine_is_the_cosine() {
        let mut worst: f64 = 0.0;
        let mut x: u32 = 12345;
        for _ in 0..200_000 {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let exact = (f64::from(x) / 4_294_967_296.0 * std::f64::consts::TAU).cos();
            let got = f64::from(cosine(x)) / f64::from(1u32 << COS_BITS);
            worst = worst.max((exact - got).abs());
        }
        assert!(worst < 7e-7, "worst error {worst}");
        assert_eq!(cosine(0), 1 << COS_BITS);
        // Rounding to 2⁻¹⁶: to the nearest, ties to even, clamped, NaN as 0.
        assert_eq!(quantize(1.0), 65536);
        assert_eq!(quantize(-0.75 / 65536.0), -1);
        assert_eq!(quantize(0.5 / 65536.0), 0);
        assert_eq!(quantize(1.5 / 65536.0), 2);
        assert_eq!(quantize(1e12), i32::MAX);
        assert_eq!(quantize(-1e12), i32::MIN);
        assert_eq!(quantize(f64::NAN), 0);
        assert_eq!(cosine(1 << 31), -(1 << COS_BITS));
    }

    #[test]
    fn the_phase_is_the_frequency_times_the_value_in_turns() {
        let rff = Rff::draw(3, 16, 1.7, 7);
        let z = [0.25, -1.5, 2.0];
        let c = rff.cosines(&z);
        for (k, &got) in c.iter().enumerate() {
            let turns: f64 = (0..3)
                .map(|j| f64::from(rff.frequencies[j * 16 + k]) / 65536.0 * f64::from(quantize(z[j])) / 65536.0)
                .sum::<f64>()
                + f64::from(rff.phases[k]) / 4_294_967_296.0;
            let exact = (turns * std::f64::consts::TAU).cos();
            assert!((f64::from(got) / f64::from(1u32 << COS_BITS) - exact).abs() < 1e-6);
        }
    }

    #[test]
    fn the_features_approximate_the_gaussian_kernel() {
        // With 4,096 features the inner product is within a few 1/√D of the kernel.
        let (k, d, sigma) = (3, 4096, 1.3);
        let rff = Rff::draw(k, d, sigma, 11);
        let rows = [[0.0, 0.0, 0.0], [0.5, -0.3, 0.2], [1.5, 1.0, -1.0], [-2.0, 0.7, 0.1]];
        let phi: Vec<Vec<f64>> =
            rows.iter().map(|r| rff.cosines(r).iter().map(|&c| f64::from(c) * rff.unit()).collect()).collect();
        for (a, x) in rows.iter().enumerate() {
            for (b, y) in rows.iter().enumerate() {
                let d2: f64 = x.iter().zip(y).map(|(p, q)| (p - q) * (p - q)).sum();
                let kernel = (-d2 / (2.0 * sigma * sigma)).exp();
                let approx: f64 = phi[a].iter().zip(&phi[b]).map(|(p, q)| p * q).sum();
                assert!((approx - kernel).abs() < 4.0 / (d as f64).sqrt(), "k({a},{b}) {approx} vs {kernel}");
            }
        }
    }

    #[test]
    fn sums_and_products_do_not_depend_on_the_split() {
        let rff = Rff::draw(2, 8, 1.0, 3);
        let z: Vec<f64> = (0..400).map(|i| (f64::from(i) * 0.37).sin() * 3.0).collect();
        let c = rff.cosines(&z);
        let (mut one, mut p1) = (Sums::default(), Products::default());
        for row in c.chunks(8) {
            one.add(row);
            p1.add(row);
        }
        let (mut a, mut b, mut pa, mut pb) =
            (Sums::default(), Sums::default(), Products::default(), Products::default());
        for (i, row) in c.chunks(8).enumerate() {
            if i % 3 == 0 {
                a.add(row);
                pa.add(row);
            } else {
                b.add(row);
                pb.add(row);
            }
        }
        b.merge(&a);
        pb.merge(&pa);
        assert_eq!(one, b);
        assert_eq!(p1, pb);
        // The covariance's diagonal is each feature's variance, from the f64 values.
        let cov = p1.covariance(&rff).unwrap();
        for k in 0..8 {
            let v: Vec<f64> = c.chunks(8).map(|r| f64::from(r[k] >> 12) * (0.25f64).sqrt() / 65536.0).collect();
            let m = v.iter().sum::<f64>() / v.len() as f64;
            let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64;
            assert!((cov[k * 8 + k] - var).abs() < 1e-12);
        }
    }
}
