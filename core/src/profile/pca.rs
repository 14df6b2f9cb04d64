//! Multivariate drift by PCA reconstruction error, as NannyML's DataReconstructionDriftCalculator
//! measures it: every change of the features' joint distribution, even one that leaves each
//! feature's own distribution as it was.
//!
//! A row of the numeric features is imputed (a missing or non-finite value takes the column's
//! mean), standardized (centred on the mean, scaled by the imputed column's population standard
//! deviation, 1 for a constant column), projected on the principal components that explain more
//! than 65% of the variance, and mapped back; its reconstruction error is the Euclidean distance
//! between the standardized row and its reconstruction. Drift is a chunk's (a window's) mean
//! error outside the baseline's chunks' mean ± 3 standard deviations.
//!
//! The components come from [`Covariance`]: Σ z·zᵀ of the standardized rows, accumulated in the
//! pass and merged like every profile (a sum), then decomposed once.

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{Array, Float64Array, RecordBatch};
use arrow_schema::DataType;
use serde::{Deserialize, Serialize};

use super::DatasetProfile;

/// The name of the derived column holding each row's reconstruction error.
pub const RECONSTRUCTION: &str = "(reconstruction error)";

/// Share of the variance the kept components explain at least (NannyML's default).
pub const DEFAULT_VARIANCE: f64 = 0.65;

/// How rows of the features become standardized vectors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standardize {
    /// The features, in order.
    pub columns: Vec<String>,
    /// Each feature's mean: of a numeric feature's finite values (which a missing value takes),
    /// of a categorical feature's encoded rows.
    pub means: Vec<f64>,
    /// Each feature's scale: the population standard deviation of the imputed (and encoded)
    /// column (1 for a constant one).
    pub scales: Vec<f64>,
    /// Each categorical feature's encoding (`None` for a numeric one; empty when every feature
    /// is numeric).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub encodings: Vec<Option<Encoding>>,
}

/// A categorical feature as a number, as NannyML encodes it (category_encoders' `CountEncoder`
/// with `normalize=True`, after scikit-learn's most-frequent imputer): each category's share of
/// the baseline's rows, a missing value counted as the most frequent category, a category the
/// baseline never saw 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Encoding {
    /// Each category's share of the rows (missing ones imputed).
    pub shares: std::collections::BTreeMap<String, f64>,
    /// The share a missing value takes: the most frequent category's.
    pub missing: f64,
}

impl Encoding {
    /// The encoding of a column's exact category counts over `rows` rows (those without a
    /// value imputed with the most frequent category, ties to the first in order). `None`
    /// without any category.
    pub fn of(counts: &std::collections::BTreeMap<String, u64>, rows: u64) -> Option<Encoding> {
        let mode = counts.iter().fold(None::<(&String, u64)>, |best, (k, &v)| match best {
            Some((_, b)) if b >= v => best,
            _ => Some((k, v)),
        })?;
        let present: u64 = counts.values().sum();
        let n = rows.max(present).max(1) as f64;
        let missing = rows.saturating_sub(present);
        let shares = counts
            .iter()
            .map(|(k, &v)| (k.clone(), (v + if k == mode.0 { missing } else { 0 }) as f64 / n))
            .collect::<std::collections::BTreeMap<_, _>>();
        let missing = shares[mode.0];
        Some(Encoding { shares, missing })
    }

    /// The encoded column's mean and population standard deviation over the rows it was made
    /// from (every row takes its category's share).
    fn moments(&self) -> (f64, f64) {
        let mean: f64 = self.shares.values().map(|s| s * s).sum();
        let var: f64 = self.shares.values().map(|s| s * (s - mean) * (s - mean)).sum();
        (mean, var.max(0.0).sqrt())
    }

    /// A value's encoding.
    fn encode(&self, v: Option<&str>) -> f64 {
        match v {
            None => self.missing,
            Some(v) => self.shares.get(v).copied().unwrap_or(0.0),
        }
    }
}

impl Standardize {
    /// The standardization of `columns` from a profile of the rows (the baseline's first pass).
    ///
    /// # Errors
    /// A reason naming the column that is not in the profile or holds no finite value.
    pub fn of(profile: &DatasetProfile, columns: &[String]) -> std::result::Result<Standardize, String> {
        let (mut means, mut scales, mut encodings) = (Vec::new(), Vec::new(), Vec::new());
        for name in columns {
            let c = profile.column(name).ok_or_else(|| format!("'{name}' is not profiled"))?;
            let (mean, scale, encoding) = if is_categorical(&c.arrow_type) {
                if !c.categories.is_exact() {
                    return Err(format!(
                        "'{name}' holds more than {} distinct values: too many to encode",
                        super::MAX_EXACT_CATEGORIES
                    ));
                }
                let e = Encoding::of(&c.categories.exact, c.rows).ok_or_else(|| format!("'{name}' holds no value"))?;
                let (mean, sd) = e.moments();
                (mean, sd, Some(e))
            } else {
                let mean = c.moments.mean().ok_or_else(|| format!("'{name}' holds no finite value"))?;
                // Imputed values sit on the mean: the imputed column's variance is the finite
                // values' squared deviations over every row.
                (mean, (c.moments.m2 / c.rows.max(1) as f64).sqrt(), None)
            };
            means.push(mean);
            scales.push(if scale > 0.0 && scale.is_finite() { scale } else { 1.0 });
            encodings.push(encoding);
        }
        if encodings.iter().all(Option::is_none) {
            encodings.clear();
        }
        Ok(Standardize { columns: columns.to_vec(), means, scales, encodings })
    }

    /// [`Standardize::rows`] in the covariance's integer units ([`gram_quantize`]).
    pub fn quantized_rows(&self, batch: &RecordBatch) -> Vec<i64> {
        self.rows(batch).into_iter().map(gram_quantize).collect()
    }

    /// The standardized rows of `batch`, row after row (`rows × k` values): a column the batch
    /// lacks, a null and a non-finite value count as the mean (0).
    pub fn rows(&self, batch: &RecordBatch) -> Vec<f64> {
        let k = self.columns.len();
        let n = batch.num_rows();
        let mut z = vec![0.0; n * k];
        for (j, name) in self.columns.iter().enumerate() {
            let (m, s) = (self.means[j], self.scales[j]);
            if let Some(Some(e)) = self.encodings.get(j) {
                let col = batch.column_by_name(name);
                // A dictionary's entries are encoded once, its rows by key.
                if let Some(d) = col.and_then(|c| c.as_any_dictionary_opt()) {
                    let values = arrow_cast::cast(d.values(), &DataType::Utf8).ok();
                    let values = values.as_ref().map(|t| t.as_string::<i32>());
                    let per_entry: Vec<f64> = (0..d.values().len())
                        .map(|i| (e.encode(values.filter(|t| t.is_valid(i)).map(|t| t.value(i))) - m) / s)
                        .collect();
                    let missing = (e.encode(None) - m) / s;
                    let (keys, nulls) = (d.normalized_keys(), d.keys().logical_nulls());
                    for i in 0..n {
                        let valid = nulls.as_ref().is_none_or(|b| b.is_valid(i));
                        z[i * k + j] = if valid { per_entry.get(keys[i]).copied().unwrap_or(missing) } else { missing };
                    }
                    continue;
                }
                let text = col.and_then(|c| arrow_cast::cast(c, &DataType::Utf8).ok());
                let text = text.as_ref().map(|t| t.as_string::<i32>());
                for i in 0..n {
                    let v = text.filter(|t| t.is_valid(i)).map(|t| t.value(i));
                    z[i * k + j] = (e.encode(v) - m) / s;
                }
                continue;
            }
            let Some(col) = batch.column_by_name(name) else { continue };
            let Ok(values) = arrow_cast::cast(col, &DataType::Float64) else { continue };
            let values: &Float64Array = values.as_primitive::<Float64Type>();
            for i in 0..n {
                let v = values.value(i);
                if values.is_valid(i) && v.is_finite() {
                    z[i * k + j] = (v - m) / s;
                }
            }
        }
        z
    }
}

/// True for an Arrow type (as a profile names it) whose values are categories: text, a
/// dictionary, a boolean.
pub fn is_categorical(arrow_type: &str) -> bool {
    arrow_type.contains("Utf8") || arrow_type.starts_with("Dictionary") || arrow_type == "Boolean"
}

/// Bits of a standardized value's fraction in the covariance's sums: a value is summed as the
/// nearest multiple of 2⁻²⁴, so that the sums are integers every device computes alike.
pub const GRAM_BITS: u32 = 24;

/// The largest magnitude of a value in those units, 2⁴⁷ − 1 (about 8.4 million standard
/// deviations; no value of fewer than 7·10¹³ rows standardizes past √n): a value is three
/// 16-bit limbs on the GPU.
pub const GRAM_MAX: i64 = (1 << 47) - 1;

/// A standardized value in units of 2⁻²⁴: to the nearest (ties to even, by adding and taking
/// away 1.5·2⁵²), clamped to ±[`GRAM_MAX`], NaN as 0.
#[inline]
pub fn gram_quantize(z: f64) -> i64 {
    const MAGIC: f64 = 6_755_399_441_055_744.0;
    let v = (z * (1u64 << GRAM_BITS) as f64).clamp(-(GRAM_MAX as f64), GRAM_MAX as f64);
    ((v + MAGIC) - MAGIC) as i64
}

/// Rows the CPU sums in 64-bit words before it adds them to the 128-bit totals.
const GRAM_BLOCK: usize = 64;

/// Σ qₐ·q_b over the rows of `q` (`rows × k`, from [`gram_quantize`]) for every pair a ≤ b, in
/// the order (0,0), (0,1), …, (0,k−1), (1,1), …: exact, so any split of the rows and any device
/// gives the same integers (the GPU's kernel is `core/shaders/gram.wgsl`). Rows go in blocks of
/// 64: a block whose largest value keeps 64 products within 63 bits (values under about 22
/// standard deviations) is summed in 64-bit words, any other in 128 bits.
pub fn gram_sums(q: &[i64], k: usize) -> Vec<i128> {
    let pairs = k * (k + 1) / 2;
    let mut out = vec![0i128; pairs];
    if k == 0 {
        return out;
    }
    let mut block = vec![0i64; pairs];
    for rows in q.chunks(GRAM_BLOCK * k) {
        let most = rows.iter().map(|v| v.unsigned_abs()).max().unwrap_or(0) as u128;
        if most * most * (GRAM_BLOCK as u128) < (1u128 << 63) {
            block.fill(0);
            add_products(rows, k, &mut block, |x, y| x * y);
            for (t, b) in out.iter_mut().zip(&block) {
                *t += i128::from(*b);
            }
        } else {
            add_products(rows, k, &mut out, |x, y| i128::from(x) * i128::from(y));
        }
    }
    out
}

/// Adds each row's products qₐ·q_b (a ≤ b, in [`gram_sums`]' order) to `sums`, taken by `product`.
fn add_products<T: std::ops::AddAssign>(rows: &[i64], k: usize, sums: &mut [T], product: impl Fn(i64, i64) -> T) {
    for row in rows.chunks_exact(k) {
        let mut at = 0;
        for (a, &x) in row.iter().enumerate() {
            for (s, &y) in sums[at..at + k - a].iter_mut().zip(&row[a..]) {
                *s += product(x, y);
            }
            at += k - a;
        }
    }
}

/// Σ z·zᵀ over standardized rows: the (uncentred) second moments the components are found from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Covariance {
    /// Rows summed.
    pub rows: u64,
    /// Features.
    pub k: usize,
    /// The sums, `k × k`, row after row.
    pub sums: Vec<f64>,
}

impl Covariance {
    /// Adds standardized rows (`rows × k` values, from [`Standardize::rows`]), summed as
    /// [`gram_sums`] sums them.
    pub fn add(&mut self, z: &[f64], k: usize) {
        let q: Vec<i64> = z.iter().map(|&v| gram_quantize(v)).collect();
        self.add_sums(&gram_sums(&q, k), (z.len() / k.max(1)) as u64, k);
    }

    /// Adds a batch's [`gram_sums`] of `rows` rows of `k` features: each exact sum is scaled
    /// to standardized units once, then added, so a batch's sums do not depend on the device
    /// or on what came before.
    pub fn add_sums(&mut self, sums: &[i128], rows: u64, k: usize) {
        if self.k != k || self.sums.len() != k * k {
            *self = Covariance { rows: 0, k, sums: vec![0.0; k * k] };
        }
        let unit = 0.5f64.powi(2 * GRAM_BITS as i32);
        let mut at = 0;
        for a in 0..k {
            for b in a..k {
                self.sums[a * k + b] += sums[at] as f64 * unit;
                at += 1;
            }
        }
        self.rows += rows;
    }

    /// Merges another's sums (of the same features).
    pub fn merge(&mut self, o: &Covariance) {
        if o.rows == 0 {
            return;
        }
        if self.rows == 0 && self.sums.is_empty() {
            *self = o.clone();
            return;
        }
        for (a, b) in self.sums.iter_mut().zip(&o.sums) {
            *a += b;
        }
        self.rows += o.rows;
    }

    /// The covariance matrix of the standardized rows (`k × k`, symmetric).
    fn matrix(&self) -> nalgebra::DMatrix<f64> {
        let k = self.k;
        let n = self.rows.max(1) as f64;
        nalgebra::DMatrix::from_fn(k, k, |a, b| {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            self.sums[lo * k + hi] / n
        })
    }
}

/// A fitted PCA: the standardization and the kept components.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pca {
    /// How rows are standardized.
    pub standardize: Standardize,
    /// The kept components, each a unit vector over the features, largest variance first.
    pub components: Vec<Vec<f64>>,
    /// The share of the variance each kept component explains.
    pub explained_variance_ratio: Vec<f64>,
}

impl Pca {
    /// Fits the components of `cov` that explain more than `share` of the variance (the fewest
    /// that do, as scikit-learn's PCA with a fractional `n_components`).
    ///
    /// # Errors
    /// A reason when fewer than two features are given, no row was summed, or every feature is
    /// constant.
    pub fn fit(standardize: Standardize, cov: &Covariance, share: f64) -> std::result::Result<Pca, String> {
        let k = standardize.columns.len();
        if k < 2 {
            return Err(format!("{k} numeric feature(s): a reconstruction needs at least 2"));
        }
        if cov.rows < 2 || cov.k != k {
            return Err("fewer than 2 rows to fit the components on".into());
        }
        let eigen = nalgebra::SymmetricEigen::new(cov.matrix());
        let mut order: Vec<usize> = (0..k).collect();
        order.sort_by(|&a, &b| eigen.eigenvalues[b].total_cmp(&eigen.eigenvalues[a]));
        let values: Vec<f64> = order.iter().map(|&i| eigen.eigenvalues[i].max(0.0)).collect();
        let total: f64 = values.iter().sum();
        if total <= 0.0 || !total.is_finite() {
            return Err("every feature is constant: no variance to explain".into());
        }
        let mut kept = 0;
        let mut cumulative = 0.0;
        while kept < k {
            cumulative += values[kept] / total;
            kept += 1;
            if cumulative > share {
                break;
            }
        }
        let components =
            order[..kept].iter().map(|&i| eigen.eigenvectors.column(i).iter().copied().collect()).collect();
        let explained_variance_ratio = values[..kept].iter().map(|v| v / total).collect();
        Ok(Pca { standardize, components, explained_variance_ratio })
    }

    /// Each row's reconstruction error: the rows less their projection on the components,
    /// as two matrix products of the batch (nalgebra's, cache-blocked and vectorized).
    pub fn errors(&self, batch: &RecordBatch) -> Float64Array {
        let k = self.standardize.columns.len();
        let n = batch.num_rows();
        let z = nalgebra::DMatrix::from_row_slice(n, k, &self.standardize.rows(batch));
        let v = nalgebra::DMatrix::from_fn(self.components.len(), k, |c, j| self.components[c][j]);
        let scores = &z * v.transpose();
        let residual = z - scores * v;
        Float64Array::from((0..n).map(|i| residual.row(i).norm()).collect::<Vec<f64>>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn categories_are_their_shares_with_missing_ones_the_most_frequent() {
        // 10 rows: a ×5, b ×3, and 2 without a value, which become a.
        let counts = [("a".to_string(), 5), ("b".to_string(), 3)].into_iter().collect();
        let e = Encoding::of(&counts, 10).unwrap();
        assert_eq!((e.shares["a"], e.shares["b"], e.missing), (0.7, 0.3, 0.7));
        assert_eq!((e.encode(Some("b")), e.encode(None), e.encode(Some("new"))), (0.3, 0.7, 0.0));
        // Seven rows at 0.7 and three at 0.3: mean 0.58, variance 0.7·0.12² + 0.3·0.28² = 0.0336.
        let (mean, sd) = e.moments();
        assert!((mean - 0.58).abs() < 1e-12 && (sd - 0.0336f64.sqrt()).abs() < 1e-12);
        assert!(Encoding::of(&Default::default(), 4).is_none());
        // A dictionary column and a text column of the same values give the same rows.
        let values = vec![Some("a"), None, Some("b"), Some("new"), Some("a")];
        let dict: arrow_array::DictionaryArray<arrow_array::types::Int16Type> = values.clone().into_iter().collect();
        let text = arrow_array::StringArray::from(values);
        let s =
            Standardize { columns: vec!["c".into()], means: vec![0.58], scales: vec![0.2], encodings: vec![Some(e)] };
        let rows = |a: arrow_array::ArrayRef| s.rows(&RecordBatch::try_from_iter([("c", a)]).unwrap());
        let (d, t) = (rows(Arc::new(dict)), rows(Arc::new(text)));
        assert_eq!(d, t);
        assert!((t[1] - (0.7 - 0.58) / 0.2).abs() < 1e-12 && (t[3] - (0.0 - 0.58) / 0.2).abs() < 1e-12);
    }

    /// Rounding to 2⁻²⁴: to the nearest, ties to even, clamped, NaN as 0.
    #[test]
    fn values_are_rounded_to_multiples_of_two_to_the_minus_24() {
        let unit = 0.5f64.powi(24);
        assert_eq!(gram_quantize(1.0), 1 << 24);
        assert_eq!(gram_quantize(-2.5 * unit), -2);
        assert_eq!(gram_quantize(3.5 * unit), 4);
        assert_eq!(gram_quantize(0.49 * unit), 0);
        assert_eq!(gram_quantize(1e300), GRAM_MAX);
        assert_eq!(gram_quantize(f64::NEG_INFINITY), -GRAM_MAX);
        assert_eq!(gram_quantize(f64::NAN), 0);
    }

    /// The sums are the exact sums of products (checked in 128 bits pair by pair), in blocks
    /// summed in 64 bits and blocks too large for them, and any split of the rows adds up to
    /// the whole's.
    #[test]
    fn gram_sums_are_exact_in_any_split() {
        let k = 5;
        let mut state = 3u64;
        let q: Vec<i64> = (0..301 * k)
            .map(|i| {
                let u = crate::codec::splitmix64(&mut state) as i64;
                match i {
                    // A block of extremes (128-bit sums), the rest within ±8 standard deviations.
                    700..=720 => {
                        if u % 2 == 0 {
                            GRAM_MAX
                        } else {
                            -GRAM_MAX
                        }
                    }
                    _ => u % (8 << 24),
                }
            })
            .collect();
        let mut want = vec![0i128; k * (k + 1) / 2];
        for row in q.chunks_exact(k) {
            let mut at = 0;
            for a in 0..k {
                for b in a..k {
                    want[at] += i128::from(row[a]) * i128::from(row[b]);
                    at += 1;
                }
            }
        }
        assert_eq!(gram_sums(&q, k), want);
        for cut in [1, 64, 100, 300] {
            let (x, y) = (gram_sums(&q[..cut * k], k), gram_sums(&q[cut * k..], k));
            let joined: Vec<i128> = x.iter().zip(&y).map(|(a, b)| a + b).collect();
            assert_eq!(joined, want, "cut at row {cut}");
        }
        assert!(gram_sums(&[], 0).is_empty());
    }

    /// The covariance of values rounded to 2⁻²⁴ is the float one's within the rounding's bound:
    /// a row's product moves by at most (|zₐ| + |z_b|)·2⁻²⁵ + 2⁻⁵⁰.
    #[test]
    fn the_covariance_of_rounded_values_is_the_floats() {
        let k = 4;
        let mut state = 5u64;
        let z: Vec<f64> = (0..1000 * k)
            .map(|_| (crate::codec::splitmix64(&mut state) >> 11) as f64 / (1u64 << 53) as f64 * 6.0 - 3.0)
            .collect();
        let mut cov = Covariance::default();
        cov.add(&z[..400 * k], k);
        cov.add(&z[400 * k..], k);
        assert_eq!(cov.rows, 1000);
        for a in 0..k {
            for b in a..k {
                let exact: f64 = z.chunks_exact(k).map(|r| r[a] * r[b]).sum();
                let bound: f64 =
                    z.chunks_exact(k).map(|r| (r[a].abs() + r[b].abs()) * 0.5f64.powi(25) + 0.5f64.powi(50)).sum();
                let got = cov.sums[a * k + b];
                assert!((got - exact).abs() <= bound, "({a}, {b}): {got} vs {exact}, bound {bound}");
                // Random rounding errors mostly cancel: far inside the worst case.
                assert!((got - exact).abs() < bound / 20.0, "({a}, {b}): {got} vs {exact}");
            }
        }
    }

    #[test]
    fn a_row_on_the_kept_plane_is_rebuilt_exactly() {
        // x and y move together, z is noise of small variance: one component (x + y) explains
        // most of the variance.
        let x: Vec<f64> = (0..200).map(|i| (i as f64 * 0.37).sin() * 10.0).collect();
        let y: Vec<f64> = x.iter().map(|v| v * 2.0 + 1.0).collect();
        let z: Vec<f64> = (0..200).map(|i| ((i * 7919) % 13) as f64 * 0.01).collect();
        let batch = RecordBatch::try_from_iter([
            ("x", Arc::new(Float64Array::from(x)) as _),
            ("y", Arc::new(Float64Array::from(y)) as _),
            ("z", Arc::new(Float64Array::from(z)) as _),
        ])
        .unwrap();
        let mut profile = DatasetProfile::default();
        for name in ["x", "y", "z"] {
            let mut c = super::super::ColumnProfile::new(name, "Float64", super::super::Role::Feature);
            let a = batch.column_by_name(name).unwrap().as_primitive::<Float64Type>();
            c.moments.update_slice(a.values());
            c.rows = 200;
            profile.columns.push(c);
        }
        let cols: Vec<String> = ["x", "y", "z"].map(String::from).to_vec();
        let s = Standardize::of(&profile, &cols).unwrap();
        let mut cov = Covariance::default();
        cov.add(&s.rows(&batch), 3);
        // The standardized columns have unit variance: the diagonal is 1 (to the rounding of
        // values to 2⁻²⁴: at most 2·|z|·2⁻²⁵ a row, |z| < 3 here).
        for j in 0..3 {
            assert!((cov.sums[j * 3 + j] / 200.0 - 1.0).abs() < 6.0 * 0.5f64.powi(25));
        }
        let pca = Pca::fit(s, &cov, 0.5).unwrap();
        assert_eq!(pca.components.len(), 1);
        // x and y are perfectly correlated: the first component explains 2 of the 3 unit
        // variances, and every row's x–y part is rebuilt exactly (what is left is z's).
        assert!((pca.explained_variance_ratio[0] - 2.0 / 3.0).abs() < 0.01);
        let e = pca.errors(&batch);
        assert_eq!(e.len(), 200);
        assert!(e.values().iter().all(|v| v.is_finite() && *v >= 0.0));
        let one = Standardize { columns: vec!["x".into()], means: vec![0.0], scales: vec![1.0], encodings: Vec::new() };
        assert!(Pca::fit(one, &cov, 0.65).unwrap_err().contains("at least 2"));
    }
}
