//! Performance estimation without labels: confidence-based performance estimation (CBPE), as
//! NannyML does it for binary classifiers.
//!
//! The baseline's labels calibrate the model's scores ([`Isotonic`]: isotonic regression, as
//! scikit-learn fits and predicts it — ties of a score averaged, pool-adjacent-violators, a
//! linear interpolation between the fitted points, scores outside them clipped). A calibrated
//! score is the probability that the row is positive, so over rows without labels the expected
//! confusion matrix is the sum of those probabilities: TP = Σ p̂ over rows predicted positive,
//! FP = Σ (1 − p̂) over them, FN = Σ p̂ and TN = Σ (1 − p̂) over rows predicted negative. The
//! estimated accuracy, precision, recall, specificity and F1 follow from it, and the estimated
//! ROC AUC from the expected ROC curve (rows in order of score, each adding p̂ true and 1 − p̂
//! false positives).
//!
//! Everything is a function of the rows of each predicted class and their summed calibrated
//! probability per step of a fine grid of the probability ([`Tally`], [`GRID`]): rows of one
//! score share one calibrated value, and rows of one value add collinear steps to the curve, so
//! the counts are exact but for the order of rows within one step of 2⁻²⁰. A tally merges like
//! every profile and holds at most one entry per step, however many rows its window has.
//!
//! From the baseline also come, per metric, a normal range (the realized metric of the
//! baseline's chunks of rows: mean ± 3 standard deviations, within [0, 1]) and the sampling
//! error of an estimate over n rows (NannyML's: the standard deviation of the metric's
//! per-row terms in the baseline over √(n × the share of rows the metric counts)); a window's
//! estimate outside the range is a violation, and estimate ± 3 sampling errors its band.
//!
//! Whether to calibrate at all: not when the baseline holds one class or the scores already
//! rank it almost perfectly (ROC AUC above 0.999, as NannyML); else only when isotonic
//! calibration, fitted on nine tenths of the baseline and scored on the tenth left out (ten
//! interleaved folds: row i in fold i mod 10), lowers the expected calibration error (ten bins
//! of equal rows in order of score) of the left-out rows. NannyML makes the same comparison on
//! ten seeded random splits, which this tool cannot replay; the rule is the same, the folds are
//! not.

use std::collections::BTreeMap;

pub mod multiclass;
pub mod tap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// The file of a baseline's model-quality folder that holds the estimation model.
pub const FILE: &str = "estimation.json";
/// Sampling errors on either side of an estimate that make its band (NannyML's figure).
pub const SAMPLING_ERROR_RANGE: f64 = 3.0;
/// Standard deviations of the baseline chunks' metric on either side of their mean that make
/// the normal range (NannyML's figure).
pub const THRESHOLD_DEVIATIONS: f64 = 3.0;
/// Folds of the calibration check.
const FOLDS: usize = 10;
/// Bins of the expected calibration error.
const ECE_BINS: usize = 10;

/// An estimated metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Area under the ROC curve.
    RocAuc,
    /// F1 score.
    F1,
    /// Precision.
    Precision,
    /// Recall.
    Recall,
    /// Specificity.
    Specificity,
    /// Accuracy.
    Accuracy,
}

/// Every metric estimated, in the order they are reported.
pub const METRICS: [Metric; 6] =
    [Metric::RocAuc, Metric::F1, Metric::Precision, Metric::Recall, Metric::Specificity, Metric::Accuracy];

impl Metric {
    /// The name in files and reports (NannyML's).
    pub fn name(self) -> &'static str {
        match self {
            Metric::RocAuc => "roc_auc",
            Metric::F1 => "f1",
            Metric::Precision => "precision",
            Metric::Recall => "recall",
            Metric::Specificity => "specificity",
            Metric::Accuracy => "accuracy",
        }
    }
}

/// An isotonic (non-decreasing) map of scores to probabilities, as scikit-learn's
/// `IsotonicRegression(out_of_bounds="clip")` fits and predicts it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Isotonic {
    /// The fitted points' scores, increasing (the first and last score of each step).
    pub x: Vec<f64>,
    /// Their probabilities, non-decreasing.
    pub y: Vec<f64>,
    /// Where a score's interval is searched from: per bucket of equal width over the fitted
    /// scores, how many of them lie at or below its start (built at the first prediction).
    #[serde(skip)]
    index: std::sync::OnceLock<Vec<u32>>,
}

/// Buckets of the index of an [`Isotonic`]'s fitted scores.
const INDEX_BUCKETS: usize = 4096;

impl Isotonic {
    /// The fit of `pairs` (score, outcome 0 or 1); `None` without a finite score.
    pub fn fit(pairs: &[(f64, f64)]) -> Option<Isotonic> {
        let mut v: Vec<(f64, f64)> = pairs.iter().copied().filter(|p| p.0.is_finite()).collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        Isotonic::fit_sorted(v)
    }

    /// The fit of finite `(score, outcome)` pairs already in order of score; `None` without one.
    fn fit_sorted(v: impl IntoIterator<Item = (f64, f64)>) -> Option<Isotonic> {
        // Each distinct score once, with the mean outcome of its rows and their count as weight.
        let mut xs: Vec<f64> = Vec::new();
        let mut blocks: Vec<(f64, f64)> = Vec::new(); // (sum of weight × value, weight)
        for (x, y) in v {
            match xs.last() {
                Some(&last) if last == x => {
                    let b = blocks.last_mut().expect("a block per score");
                    b.0 += y;
                    b.1 += 1.0;
                }
                _ => {
                    xs.push(x);
                    blocks.push((y, 1.0));
                }
            }
        }
        if xs.is_empty() {
            return None;
        }
        // Pool adjacent violators over the distinct scores: (value, weight, first index).
        let mut stack: Vec<(f64, f64, usize)> = Vec::with_capacity(blocks.len());
        for (i, &(sum, w)) in blocks.iter().enumerate() {
            let (mut value, mut weight, mut first) = (sum / w, w, i);
            while let Some(&(pv, pw, pf)) = stack.last() {
                if pv < value {
                    break;
                }
                stack.pop();
                value = (pv * pw + value * weight) / (pw + weight);
                weight += pw;
                first = pf;
            }
            stack.push((value, weight, first));
        }
        let mut ys = vec![0.0; xs.len()];
        for (k, &(value, _, first)) in stack.iter().enumerate() {
            let end = stack.get(k + 1).map_or(xs.len(), |b| b.2);
            ys[first..end].iter_mut().for_each(|y| *y = value);
        }
        // Points inside a run of one value add nothing to the interpolation.
        let n = xs.len();
        let keep = |i: usize| i == 0 || i + 1 == n || ys[i] != ys[i - 1] || ys[i] != ys[i + 1];
        let (x, y) = (0..n).filter(|&i| keep(i)).map(|i| (xs[i], ys[i])).unzip();
        Some(Isotonic { x, y, index: std::sync::OnceLock::new() })
    }

    /// The calibrated probability of `score`: clipped to the fitted scores, then interpolated
    /// (NaN for NaN).
    pub fn predict(&self, score: f64) -> f64 {
        if score.is_nan() {
            return f64::NAN;
        }
        let (x, y) = (&self.x, &self.y);
        let n = x.len();
        if n == 1 || score <= x[0] {
            return y[0];
        }
        if score >= x[n - 1] {
            return y[n - 1];
        }
        // The interval [x[j], x[j + 1]) holding the score: the fitted scores at or below it are
        // those at or below its bucket's start, and those of the bucket at or below it.
        let index = self.index.get_or_init(|| {
            (0..=INDEX_BUCKETS).map(|b| x.partition_point(|&v| v <= self.bucket_start(b)) as u32).collect()
        });
        let mut b = (((score - x[0]) / (x[n - 1] - x[0])) * INDEX_BUCKETS as f64) as usize;
        b = b.min(INDEX_BUCKETS - 1);
        while b > 0 && score < self.bucket_start(b) {
            b -= 1;
        }
        while b + 1 < INDEX_BUCKETS && score >= self.bucket_start(b + 1) {
            b += 1;
        }
        let (lo, hi) = (index[b] as usize, index[b + 1] as usize);
        let j = lo + x[lo..hi].partition_point(|&v| v <= score) - 1;
        if x[j] == score {
            return y[j];
        }
        let slope = (y[j + 1] - y[j]) / (x[j + 1] - x[j]);
        slope * (score - x[j]) + y[j]
    }

    /// The start of bucket `b` of the index (the last bucket ends past every fitted score).
    fn bucket_start(&self, b: usize) -> f64 {
        let (first, last) = (self.x[0], self.x[self.x.len() - 1]);
        if b >= INDEX_BUCKETS {
            return f64::INFINITY;
        }
        first + (last - first) * (b as f64 / INDEX_BUCKETS as f64)
    }
}

/// A labelled row of the baseline: the model's score, whether the label is positive, and
/// whether the model predicted positive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row {
    /// The score (probability of the positive class).
    pub score: f64,
    /// The label is the positive class.
    pub actual: bool,
    /// The model predicted the positive class.
    pub predicted: bool,
}

/// Counts of a confusion matrix.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Confusion {
    tp: f64,
    fp: f64,
    fn_: f64,
    tn: f64,
}

impl Confusion {
    fn of(rows: &[Row]) -> Confusion {
        let mut c = Confusion::default();
        for r in rows {
            match (r.actual, r.predicted) {
                (true, true) => c.tp += 1.0,
                (false, true) => c.fp += 1.0,
                (true, false) => c.fn_ += 1.0,
                (false, false) => c.tn += 1.0,
            }
        }
        c
    }

    fn n(&self) -> f64 {
        self.tp + self.fp + self.fn_ + self.tn
    }

    /// A metric of these counts (estimated or realized; 0 for a ratio of nothing, as NannyML's
    /// estimates give); `None` for ROC AUC, which counts do not give.
    fn metric(&self, m: Metric) -> Option<f64> {
        let ratio = |a: f64, b: f64| if b != 0.0 { a / b } else { 0.0 };
        Some(match m {
            Metric::RocAuc => return None,
            Metric::F1 => ratio(self.tp, self.tp + 0.5 * (self.fp + self.fn_)),
            Metric::Precision => ratio(self.tp, self.tp + self.fp),
            Metric::Recall => ratio(self.tp, self.tp + self.fn_),
            Metric::Specificity => ratio(self.tn, self.tn + self.fp),
            Metric::Accuracy => ratio(self.tp + self.tn, self.n()),
        })
    }
}

/// The area under a ROC curve walked from the highest score down: each step adds its (expected)
/// positives and negatives in one straight segment (rows of one step tie, counting one half);
/// `None` without positives or without negatives.
fn roc_area(steps: impl Iterator<Item = (f64, f64)>) -> Option<f64> {
    let (mut tp, mut fp, mut area) = (0.0f64, 0.0f64, 0.0f64);
    for (gp, gn) in steps {
        area += gn * tp + 0.5 * gn * gp;
        tp += gp;
        fp += gn;
    }
    (tp > 0.0 && fp > 0.0).then(|| area / (tp * fp))
}

/// Labelled rows as the realized metrics count them: the confusion matrix, and per score (its
/// bits: scores are never negative, so the bits order them) the rows of each label.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Realized {
    confusion: Confusion,
    scores: BTreeMap<u64, [u64; 2]>,
    /// A multiclass model's rows.
    multi: multiclass::MRealized,
}

impl Realized {
    /// Counts a labelled row.
    pub fn add(&mut self, r: Row) {
        match (r.actual, r.predicted) {
            (true, true) => self.confusion.tp += 1.0,
            (false, true) => self.confusion.fp += 1.0,
            (true, false) => self.confusion.fn_ += 1.0,
            (false, false) => self.confusion.tn += 1.0,
        }
        let s = if r.score == 0.0 { 0.0 } else { r.score };
        self.scores.entry(s.to_bits()).or_default()[usize::from(r.actual)] += 1;
    }

    /// Counts a labelled row of a multiclass model: its scores, its label's class and its
    /// predicted class.
    pub fn add_classes(&mut self, scores: &[f64], actual: usize, predicted: Option<usize>) {
        self.multi.add(scores, actual, predicted);
    }

    /// Adds another's rows.
    pub fn merge(&mut self, other: &Realized) {
        self.multi.merge(&other.multi);
        let (a, b) = (&mut self.confusion, &other.confusion);
        (a.tp, a.fp, a.fn_, a.tn) = (a.tp + b.tp, a.fp + b.fp, a.fn_ + b.fn_, a.tn + b.tn);
        for (k, c) in &other.scores {
            let e = self.scores.entry(*k).or_default();
            e[0] += c[0];
            e[1] += c[1];
        }
    }

    /// Rows counted.
    pub fn rows(&self) -> u64 {
        self.confusion.n() as u64 + self.multi.rows()
    }

    /// The exact ROC AUC of rows counted per score (rows of the other class, of the class; ties
    /// count one half).
    fn auc_of(scores: &BTreeMap<u64, [u64; 2]>) -> Option<f64> {
        roc_area(scores.values().rev().map(|[gn, gp]| (*gp as f64, *gn as f64)))
    }

    /// A realized metric, `None` where NannyML leaves it undefined: accuracy without rows,
    /// specificity without a negative label, ROC AUC with one class among the labels, and the
    /// other ratios with one class among the labels or among the predictions.
    pub fn metric(&self, m: Metric) -> Option<f64> {
        if self.multi.rows() > 0 {
            return self.multi.metric(m);
        }
        let c = &self.confusion;
        let one_class = c.tp + c.fn_ == 0.0 || c.fp + c.tn == 0.0;
        let one_prediction = c.tp + c.fp == 0.0 || c.fn_ + c.tn == 0.0;
        match m {
            Metric::Accuracy => (c.n() > 0.0).then(|| c.metric(m)).flatten(),
            Metric::Specificity => (c.tn + c.fp > 0.0).then(|| c.metric(m)).flatten(),
            Metric::RocAuc if !one_class => Realized::auc_of(&self.scores),
            Metric::F1 | Metric::Precision | Metric::Recall if !one_class && !one_prediction => c.metric(m),
            _ => None,
        }
    }
}

/// Labelled rows counted for their realized metrics.
fn counts(rows: &[Row]) -> Realized {
    let mut r = Realized::default();
    rows.iter().for_each(|&row| r.add(row));
    r
}

/// A realized metric of labelled rows (see [`Realized::metric`]).
fn realized(rows: &[Row], m: Metric) -> Option<f64> {
    counts(rows).metric(m)
}

/// The standard deviation (n in the denominator) of `ones` ones and `zeros` zeros, scaled.
fn binary_std(ones: f64, zeros: f64) -> f64 {
    let n = ones + zeros;
    if n == 0.0 {
        return f64::NAN;
    }
    let p = ones / n;
    (p * (1.0 - p)).sqrt()
}

/// NannyML's sampling-error components of a metric from the baseline's rows: the standard
/// deviation of its per-row terms, and the share of rows it counts.
fn sampling_components(rows: &[Row], m: Metric) -> (f64, f64) {
    let c = Confusion::of(rows);
    let n = c.n();
    match m {
        Metric::Accuracy => (binary_std(c.tp + c.tn, c.fp + c.fn_), 1.0),
        Metric::Precision => (binary_std(c.tp, c.fp), (c.tp + c.fp) / n),
        Metric::Recall => (binary_std(c.tp, c.fn_), (c.tp + c.fn_) / n),
        Metric::Specificity => (binary_std(c.tn, c.fp), (c.tn + c.fp) / n),
        Metric::F1 => {
            let counted = c.tp + c.fp + c.fn_;
            let correcting = counted / ((c.fn_ + c.fp) * 0.5 + c.tp);
            (binary_std(c.tp, c.fp + c.fn_) * correcting, counted / n)
        }
        Metric::RocAuc => auc_components(rows),
    }
}

/// The ROC AUC's components (NannyML's, from the Mann–Whitney form): rows in order of score
/// (the minority class taken as positive), the deviation of each positive's count of negatives
/// ranked below it over all negatives, and the positives' share.
fn auc_components(rows: &[Row]) -> (f64, f64) {
    let positives = rows.iter().filter(|r| r.actual).count();
    let flip = positives * 2 > rows.len();
    let mut v: Vec<(f64, bool)> =
        rows.iter().map(|r| if flip { (1.0 - r.score, !r.actual) } else { (r.score, r.actual) }).collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n_pos = v.iter().filter(|r| r.1).count();
    let n_neg = v.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return (f64::NAN, 0.0);
    }
    // NannyML leaves out a positive ranked first (its rank, 0, is taken for a negative's).
    let below: Vec<f64> = v
        .iter()
        .enumerate()
        .filter(|(rank, r)| r.1 && *rank > 0)
        .enumerate()
        .map(|(i, (rank, _))| (rank - i) as f64 / n_neg as f64)
        .collect();
    let k = below.len() as f64;
    let mean = below.iter().sum::<f64>() / k;
    let var = below.iter().map(|b| (b - mean) * (b - mean)).sum::<f64>() / k;
    (var.sqrt(), n_pos as f64 / v.len() as f64)
}

/// One metric's part of the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricModel {
    /// The metric.
    pub metric: Metric,
    /// Its realized value over the whole baseline.
    pub baseline: Option<f64>,
    /// Below this estimate, a violation.
    pub lower_threshold: Option<f64>,
    /// Above this estimate, a violation.
    pub upper_threshold: Option<f64>,
    /// The standard deviation of the metric's per-row terms in the baseline (`None`: no such
    /// term, or a multiclass metric other than accuracy).
    pub sampling_std: Option<f64>,
    /// The share of rows the metric counts.
    pub sampling_share: f64,
    /// A multiclass model's: per class, the variance of the metric's one-vs-rest per-row terms
    /// and the share of rows they are (accuracy has none: its deviation is `sampling_std`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub class_sampling: Vec<(f64, f64)>,
    /// Its realized value in each baseline chunk (`None`: undefined there).
    pub chunks: Vec<Option<f64>>,
}

impl MetricModel {
    /// The sampling error of an estimate over `rows` rows.
    pub fn sampling_error(&self, rows: u64) -> Option<f64> {
        let n = rows as f64;
        let e = if self.class_sampling.is_empty() {
            self.sampling_std? / (n * self.sampling_share).sqrt()
        } else {
            // NannyML's: the root of the classes' variances over their rows, over the classes;
            // for ROC AUC a fifth more (its experiments found the rest 20% short).
            let k = self.class_sampling.len() as f64;
            let spread = self.class_sampling.iter().map(|(var, share)| var / (n * share)).sum::<f64>().sqrt() / k;
            if self.metric == Metric::RocAuc {
                spread * 1.2
            } else {
                spread
            }
        };
        (rows > 0 && e.is_finite()).then_some(e)
    }
}

/// What a baseline keeps for estimation: the calibration, and per metric its range and
/// sampling error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EstimationModel {
    /// `cbpe`.
    pub method: String,
    /// Labelled rows of the baseline.
    pub rows: u64,
    /// Rows per baseline chunk.
    pub chunk_rows: u64,
    /// The calibration, when the scores needed it (else the scores are taken as calibrated).
    pub calibration: Option<Isotonic>,
    /// A multiclass model's classes, in the order of its score columns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
    /// A multiclass model's calibration of each class's scores (`None`: kept as they are).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub class_calibrations: Vec<Option<Isotonic>>,
    /// Per metric.
    pub metrics: Vec<MetricModel>,
}

/// Why a baseline cannot make a model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    /// Every label is one class.
    #[error("every labelled row of the baseline is {0}: estimation needs rows of two classes at least")]
    OneClass(&'static str),
    /// Too few chunks for a range.
    #[error("the baseline's {rows} labelled rows make {chunks} chunk(s) of {chunk_rows}: the normal range needs at least 2 (give fewer rows per chunk)")]
    Chunks {
        /// Rows.
        rows: u64,
        /// Chunks.
        chunks: usize,
        /// Rows per chunk.
        chunk_rows: u64,
    },
}

/// The expected calibration error of `(probability, outcome)` pairs in bins of equal rows
/// taken in the order given.
fn ece(pairs: &[(f64, f64)]) -> f64 {
    let n = pairs.len();
    let bins = ECE_BINS.min(n.max(1));
    (0..bins)
        .map(|b| {
            let part = &pairs[b * n / bins..(b + 1) * n / bins];
            if part.is_empty() {
                return 0.0;
            }
            let k = part.len() as f64;
            let p = part.iter().map(|x| x.0).sum::<f64>() / k;
            let y = part.iter().map(|x| x.1).sum::<f64>() / k;
            k / n as f64 * (p - y).abs()
        })
        .sum()
}

/// Whether the baseline's scores gain from calibration (see the module's rule).
pub fn needs_calibration(rows: &[Row]) -> bool {
    let positives = rows.iter().filter(|r| r.actual).count();
    if positives == 0 || positives == rows.len() || rows.len() < 2 * FOLDS {
        return false;
    }
    if realized(rows, Metric::RocAuc).is_some_and(|a| a > 0.999) {
        return false;
    }
    // The rows in order of score once; each fold's training rows keep that order.
    let outcome = |r: &Row| f64::from(u8::from(r.actual));
    let mut order: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].score.is_finite()).collect();
    order.sort_by(|&a, &b| {
        rows[a].score.total_cmp(&rows[b].score).then(outcome(&rows[a]).total_cmp(&outcome(&rows[b])))
    });
    // (score, calibrated out of fold, outcome) of every row, the folds fitted in parallel.
    let folds: Vec<Option<Vec<(f64, f64, f64)>>> = (0..FOLDS)
        .into_par_iter()
        .map(|fold| {
            let train = order.iter().filter(|&&i| i % FOLDS != fold).map(|&i| (rows[i].score, outcome(&rows[i])));
            let iso = Isotonic::fit_sorted(train)?;
            Some(
                rows.iter()
                    .enumerate()
                    .filter(|(i, _)| i % FOLDS == fold)
                    .map(|(_, r)| (r.score, iso.predict(r.score), outcome(r)))
                    .collect(),
            )
        })
        .collect();
    let Some(folds) = folds.into_iter().collect::<Option<Vec<_>>>() else { return false };
    let mut scored: Vec<(f64, f64, f64)> = folds.concat();
    scored.sort_by(|a, b| a.0.total_cmp(&b.0));
    let raw: Vec<(f64, f64)> = scored.iter().map(|s| (s.0, s.2)).collect();
    let calibrated: Vec<(f64, f64)> = scored.iter().map(|s| (s.1, s.2)).collect();
    ece(&calibrated) < ece(&raw)
}

/// The baseline's rows in chunks of `chunk_rows` (at least 1; the last one shorter), and the
/// rows per chunk.
///
/// # Errors
/// [`FitError::Chunks`] when they make fewer than two.
fn chunked<T>(rows: &[T], chunk_rows: u64) -> Result<(u64, Vec<&[T]>), FitError> {
    let chunk_rows = chunk_rows.max(1);
    let chunks: Vec<&[T]> = rows.chunks(chunk_rows as usize).collect();
    if chunks.len() < 2 {
        return Err(FitError::Chunks { rows: rows.len() as u64, chunks: chunks.len(), chunk_rows });
    }
    Ok((chunk_rows, chunks))
}

/// The calibration of labelled rows' scores, when they gain from one ([`needs_calibration`]).
fn calibration_of(rows: &[Row]) -> Option<Isotonic> {
    if !needs_calibration(rows) {
        return None;
    }
    let pairs: Vec<(f64, f64)> = rows.iter().map(|r| (r.score, f64::from(u8::from(r.actual)))).collect();
    Isotonic::fit(&pairs)
}

/// The model of a baseline's labelled rows, in their order, with chunks of `chunk_rows` rows
/// (the last one shorter).
///
/// # Errors
/// [`FitError`] when the labels hold one class, or the rows make fewer than two chunks.
pub fn fit(rows: &[Row], chunk_rows: u64) -> Result<EstimationModel, FitError> {
    let positives = rows.iter().filter(|r| r.actual).count();
    if positives == 0 {
        return Err(FitError::OneClass("negative"));
    }
    if positives == rows.len() {
        return Err(FitError::OneClass("positive"));
    }
    let (chunk_rows, chunks) = chunked(rows, chunk_rows)?;
    let calibration = calibration_of(rows);
    // Each chunk's labelled rows counted once, and the whole baseline's as their merge.
    let counted: Vec<Realized> = chunks.par_iter().map(|c| counts(c)).collect();
    let mut whole = Realized::default();
    counted.iter().for_each(|c| whole.merge(c));
    let metrics = METRICS
        .iter()
        .map(|&metric| {
            let values: Vec<Option<f64>> = counted.iter().map(|c| c.metric(metric)).collect();
            let (lower_threshold, upper_threshold) = range(&values);
            let (sampling_std, sampling_share) = sampling_components(rows, metric);
            let sampling_std = Some(sampling_std).filter(|s| s.is_finite());
            MetricModel {
                metric,
                baseline: whole.metric(metric),
                lower_threshold,
                upper_threshold,
                sampling_std,
                sampling_share,
                class_sampling: Vec::new(),
                chunks: values,
            }
        })
        .collect();
    Ok(EstimationModel {
        method: "cbpe".into(),
        rows: rows.len() as u64,
        chunk_rows,
        calibration,
        classes: Vec::new(),
        class_calibrations: Vec::new(),
        metrics,
    })
}

/// The model of a multiclass baseline's labelled rows (scores in the order of `classes`), in
/// their order, with chunks of `chunk_rows` rows (the last one shorter).
///
/// # Errors
/// [`FitError`] when the labels hold one class, or the rows make fewer than two chunks.
pub fn fit_classes(
    rows: &[multiclass::MRow],
    classes: Vec<String>,
    chunk_rows: u64,
) -> Result<EstimationModel, FitError> {
    let (class_calibrations, metrics) = multiclass::fit(rows, classes.len(), chunk_rows)?;
    Ok(EstimationModel {
        method: "cbpe".into(),
        rows: rows.len() as u64,
        chunk_rows: chunk_rows.max(1),
        calibration: None,
        classes,
        class_calibrations,
        metrics,
    })
}

/// The normal range of the chunks' values: mean ± 3 standard deviations (n in the denominator),
/// a bound at or beyond [0, 1] taken to it; `None` without a defined value.
fn range(values: &[Option<f64>]) -> (Option<f64>, Option<f64>) {
    let v: Vec<f64> = values.iter().flatten().copied().filter(|v| v.is_finite()).collect();
    if v.is_empty() {
        return (None, None);
    }
    let k = v.len() as f64;
    let mean = v.iter().sum::<f64>() / k;
    let std = (v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / k).sqrt();
    let lower = (mean - THRESHOLD_DEVIATIONS * std).max(0.0);
    let upper = (mean + THRESHOLD_DEVIATIONS * std).min(1.0);
    (Some(lower), Some(upper))
}

/// Steps of the grid a window's scores are counted on: rows whose scores (or calibrated
/// probabilities) fall in one step of 2⁻²⁰ add one straight step to the expected ROC curve, so a
/// window holds at most 2²⁰ + 1 entries (per class), however many rows it has. Their
/// probabilities are summed exactly; only the order of rows within a step is given up, which
/// moves a ROC AUC estimate by far less than 1e-6.
pub const GRID: f64 = (1u64 << 20) as f64;

/// The grid step of a score or probability in [0, 1].
pub(crate) fn step(v: f64) -> u32 {
    (v.clamp(0.0, 1.0) * GRID).round() as u32
}

/// Grid steps held by a tally: hashed while counting (a row costs one lookup), taken in order
/// when estimating, so that the figures do not depend on how rows came in.
pub(crate) type Steps<V> = std::collections::HashMap<u32, V, foldhash::fast::FixedState>;

/// The entries of `steps` in the grid's order.
pub(crate) fn in_order<V>(steps: &Steps<V>) -> Vec<(u32, &V)> {
    let mut v: Vec<(u32, &V)> = steps.iter().map(|(k, v)| (*k, v)).collect();
    v.sort_unstable_by_key(|e| e.0);
    v
}

/// A sum of probabilities in fixed point (units of 2⁻⁶⁰): exact, so that it does not depend on
/// the order the rows were added or merged in (a probability loses what lies below 2⁻⁶⁰).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Fixed(u128);

/// One in [`Fixed`]'s units.
const FIXED_ONE: f64 = (1u64 << 60) as f64;

impl Fixed {
    /// Adds a probability in [0, 1].
    pub(crate) fn add(&mut self, p: f64) {
        self.0 += (p.clamp(0.0, 1.0) * FIXED_ONE).round() as u128;
    }

    /// Adds another sum.
    pub(crate) fn merge(&mut self, other: Fixed) {
        self.0 += other.0;
    }

    /// The sum.
    pub(crate) fn get(self) -> f64 {
        self.0 as f64 / FIXED_ONE
    }
}

/// Rows of one grid step: the sum of their calibrated probabilities and their count, of the rows
/// predicted negative and positive.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Step {
    p: [Fixed; 2],
    n: [u64; 2],
}

/// Rows of a window as estimation counts them: per grid step of the calibrated probability, the
/// rows predicted negative and positive (their count and summed probability).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    groups: Steps<Step>,
    /// A multiclass model's rows.
    multi: multiclass::MTally,
    /// Rows counted.
    pub rows: u64,
}

impl Tally {
    /// Counts a row of calibrated probability `p` (in [0, 1]) and predicted class.
    pub fn add(&mut self, p: f64, predicted: bool) {
        let g = self.groups.entry(step(p)).or_default();
        g.p[usize::from(predicted)].add(p);
        g.n[usize::from(predicted)] += 1;
        self.rows += 1;
    }

    /// Counts a row of a multiclass model: its scores, their calibrated probabilities and its
    /// predicted class (`None`: none of the classes).
    pub fn add_classes(&mut self, scores: &[f64], p: &[f64], predicted: Option<usize>) {
        self.multi.add(scores, p, predicted);
        self.rows += 1;
    }

    /// Adds another tally's rows.
    pub fn merge(&mut self, other: &Tally) {
        self.multi.merge(&other.multi);
        for (k, c) in &other.groups {
            let e = self.groups.entry(*k).or_default();
            for i in 0..2 {
                e.p[i].merge(c.p[i]);
                e.n[i] += c.n[i];
            }
        }
        self.rows += other.rows;
    }

    /// Grid steps held.
    pub fn distinct(&self) -> usize {
        self.groups.len()
    }

    fn expected(&self) -> Confusion {
        let mut c = Confusion::default();
        let (mut p, mut n) = ([Fixed::default(); 2], [0u64; 2]);
        for g in self.groups.values() {
            for i in 0..2 {
                p[i].merge(g.p[i]);
                n[i] += g.n[i];
            }
        }
        c.tp = p[1].get();
        c.fp = n[1] as f64 - c.tp;
        c.fn_ = p[0].get();
        c.tn = n[0] as f64 - c.fn_;
        c
    }

    /// The area under the expected ROC curve; `None` when it expects one class only.
    fn expected_auc(&self) -> Option<f64> {
        roc_area(in_order(&self.groups).into_iter().rev().map(|(_, g)| {
            let gp = g.p[0].get() + g.p[1].get();
            (gp, (g.n[0] + g.n[1]) as f64 - gp)
        }))
    }
}

/// One metric estimated over a window (or the run).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    /// The metric.
    pub metric: Metric,
    /// The estimate; `None` when it is undefined (see `reason`).
    pub value: Option<f64>,
    /// Its sampling error.
    pub sampling_error: Option<f64>,
    /// Estimate − 3 sampling errors (at least 0).
    pub lower_band: Option<f64>,
    /// Estimate + 3 sampling errors (at most 1).
    pub upper_band: Option<f64>,
    /// The baseline's normal range.
    pub lower_threshold: Option<f64>,
    /// The baseline's normal range.
    pub upper_threshold: Option<f64>,
    /// The estimate left the normal range.
    pub alert: bool,
    /// Why there is no estimate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl EstimationModel {
    /// The calibrated probability of a score.
    pub fn calibrate(&self, score: f64) -> f64 {
        self.calibration.as_ref().map_or(score, |c| c.predict(score))
    }

    /// Checks that the model fits the classes whose scores a run reads (none for a binary model),
    /// in their order, and that its metrics have a sampling model per class.
    ///
    /// # Errors
    /// What does not fit, in a sentence.
    pub fn check_classes(&self, classes: &[String]) -> std::result::Result<(), String> {
        if self.classes != classes {
            let named =
                |c: &[String]| if c.is_empty() { "one score column (binary)".to_string() } else { c.join(", ") };
            return Err(format!(
                "the estimation model is of {} but model quality reads the scores of {}: make the baseline again",
                named(&self.classes),
                named(classes)
            ));
        }
        let k = self.classes.len();
        let sampled = |m: &MetricModel| m.metric == Metric::Accuracy || k == 0 || m.class_sampling.len() == k;
        if self.metrics.iter().any(|m| !sampled(m)) {
            return Err(format!(
                "the estimation model does not hold a calibration and sampling model for each of its {k} classes"
            ));
        }
        Ok(())
    }

    /// A multiclass model's calibrated probabilities of a row's scores.
    pub fn calibrate_classes(&self, scores: &[f64]) -> Vec<f64> {
        multiclass::calibrated(&self.class_calibrations, scores)
    }

    /// Every metric estimated over the rows of `tally`.
    pub fn estimate(&self, tally: &Tally) -> Vec<Estimate> {
        let expected = tally.expected();
        self.metrics
            .iter()
            .map(|m| {
                let (value, reason) = if tally.rows == 0 {
                    (None, Some("no row with a score".to_string()))
                } else {
                    let v = match m.metric {
                        _ if !self.classes.is_empty() => tally.multi.metric(m.metric),
                        Metric::RocAuc => tally.expected_auc(),
                        other => expected.metric(other),
                    };
                    match v {
                        Some(v) => (Some(v), None),
                        None => (None, Some("every row is expected in one class".to_string())),
                    }
                };
                let sampling_error = value.and(m.sampling_error(tally.rows));
                let band = |sign: f64| {
                    value.zip(sampling_error).map(|(v, e)| (v + sign * SAMPLING_ERROR_RANGE * e).clamp(0.0, 1.0))
                };
                let alert = value.is_some_and(|v| {
                    m.lower_threshold.is_some_and(|l| v < l) || m.upper_threshold.is_some_and(|u| v > u)
                });
                Estimate {
                    metric: m.metric,
                    value,
                    sampling_error,
                    lower_band: band(-1.0),
                    upper_band: band(1.0),
                    lower_threshold: m.lower_threshold,
                    upper_threshold: m.upper_threshold,
                    alert,
                    reason,
                }
            })
            .collect()
    }

    /// Reads a model file; `None` when there is none.
    ///
    /// # Errors
    /// [`crate::Error::Input`] naming the file when it cannot be read or is not a model.
    pub fn load(path: &std::path::Path) -> crate::Result<Option<EstimationModel>> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(crate::Error::input(path, crate::error::one_line(e))),
        };
        let m: EstimationModel = serde_json::from_str(&text).map_err(|e| {
            crate::Error::input(path, format!("not an estimation model: {}", crate::error::one_line(e)))
        })?;
        if !m.classes.is_empty() && m.class_calibrations.len() != m.classes.len() {
            return Err(crate::Error::input(path, "a calibration per class is expected"));
        }
        for c in m.calibration.iter().chain(m.class_calibrations.iter().flatten()) {
            let sorted = c.x.windows(2).all(|w| w[0] < w[1]) && c.y.windows(2).all(|w| w[0] <= w[1]);
            let sane =
                !c.x.is_empty() && c.x.len() == c.y.len() && sorted && c.y.iter().all(|y| (0.0..=1.0).contains(y));
            if !sane {
                return Err(crate::Error::input(
                    path,
                    "the calibration's points are not an increasing map into [0, 1]",
                ));
            }
        }
        Ok(Some(m))
    }
}

/// A window's (or the run's) estimates beside the realized metrics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EstimatedRow {
    /// The estimate.
    #[serde(flatten)]
    pub estimate: Estimate,
    /// The realized metric of the rows with a label, when the inputs hold labels.
    pub realized: Option<f64>,
}

/// What `drift.json` says of performance estimation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EstimationReport {
    /// `cbpe`.
    pub method: String,
    /// The scores were calibrated on the baseline's labels (else taken as they are).
    pub calibrated: bool,
    /// Rows estimated.
    pub rows: u64,
    /// Rows without a score or a prediction.
    pub rows_without_score: u64,
    /// Rows with a label (their realized metrics beside the estimates).
    pub labelled_rows: u64,
    /// The run's estimates.
    pub run: Vec<EstimatedRow>,
    /// Windows estimated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub windows: Option<usize>,
    /// Windows where an estimate left its normal range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub windows_with_alerts: Option<usize>,
    /// Each window's estimates, by start (calendar) or index (rows): their violations join the
    /// window's, their values its metrics (not in `drift.json`: `estimated.csv` holds them).
    #[serde(skip)]
    pub per_window: BTreeMap<i64, Vec<EstimatedRow>>,
}

impl EstimatedRow {
    /// The band and the normal range as text (`–` where there is none), for the summaries.
    pub fn band_and_range(&self) -> (String, String) {
        let pair = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => format!("{a:.4}–{b:.4}"),
            _ => "–".into(),
        };
        let e = &self.estimate;
        (pair(e.lower_band, e.upper_band), pair(e.lower_threshold, e.upper_threshold))
    }

    /// The violation of an estimate that left its range, in `place` ("the run", "the window").
    pub fn violation(&self, place: &str) -> Option<crate::judge::sagemaker::Violation> {
        let e = &self.estimate;
        let value = e.value.filter(|_| e.alert)?;
        let range = match (e.lower_threshold, e.upper_threshold) {
            (Some(l), Some(u)) => format!("[{l:.4}, {u:.4}]"),
            _ => "–".into(),
        };
        Some(crate::judge::sagemaker::Violation {
            feature_name: e.metric.name().to_string(),
            constraint_check_type: crate::judge::sagemaker::CheckType::PerformanceEstimateCheck,
            description: format!(
                "Estimated {} {value:.4} of {place} is outside the baseline's range {range}",
                e.metric.name()
            ),
            figures: None,
        })
    }
}

impl EstimationReport {
    /// One sentence for the summaries.
    pub fn sentence(&self) -> String {
        let figures: Vec<String> = self
            .run
            .iter()
            .filter_map(|r| r.estimate.value.map(|v| format!("{} {v:.3}", r.estimate.metric.name())))
            .collect();
        let alerted: Vec<&str> =
            self.run.iter().filter(|r| r.estimate.alert).map(|r| r.estimate.metric.name()).collect();
        let mut s = format!("estimated without labels over {} rows: {}", self.rows, figures.join(", "));
        if !alerted.is_empty() {
            s.push_str(&format!("; outside the baseline's range: {}", alerted.join(", ")));
        }
        if let (Some(w), Some(a)) = (self.windows, self.windows_with_alerts) {
            s.push_str(&format!("; {a} of {w} windows with an estimate outside its range"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isotonic_pools_violators_and_interpolates_between_steps() {
        // Scores 1..6 with outcomes 0 1 0 1 1 1: (1)=0, (2,3) pooled to 0.5, then 1s.
        let pairs = [(1.0, 0.0), (2.0, 1.0), (3.0, 0.0), (4.0, 1.0), (5.0, 1.0), (6.0, 1.0)];
        let iso = Isotonic::fit(&pairs).unwrap();
        assert_eq!(iso.x, vec![1.0, 2.0, 3.0, 4.0, 6.0]);
        assert_eq!(iso.y, vec![0.0, 0.5, 0.5, 1.0, 1.0]);
        assert_eq!(iso.predict(0.0), 0.0);
        assert_eq!(iso.predict(2.5), 0.5);
        assert_eq!(iso.predict(1.5), 0.25);
        assert_eq!(iso.predict(3.25), 0.625);
        assert_eq!(iso.predict(5.0), 1.0);
        assert_eq!(iso.predict(9.0), 1.0);
        // Tied scores are averaged first: two rows at 1 (0 and 1) are 0.5.
        let tied = Isotonic::fit(&[(1.0, 0.0), (1.0, 1.0), (2.0, 1.0)]).unwrap();
        assert_eq!(tied.y, vec![0.5, 1.0]);
    }

    #[test]
    fn expected_metrics_from_a_tally_by_hand() {
        // Two rows predicted positive at p = 0.9 and 0.6, two negative at 0.2 and 0.1.
        let mut t = Tally::default();
        for (p, y) in [(0.9, true), (0.6, true), (0.2, false), (0.1, false)] {
            t.add(p, y);
        }
        let c = t.expected();
        assert!((c.tp - 1.5).abs() < 1e-12 && (c.fp - 0.5).abs() < 1e-12);
        assert!((c.fn_ - 0.3).abs() < 1e-12 && (c.tn - 1.7).abs() < 1e-12);
        assert!((c.metric(Metric::Accuracy).unwrap() - 0.8).abs() < 1e-12);
        // Expected ROC: points (0,0) (0.1/2.2, 0.9/1.8) ... area by the trapezoids.
        let pos = 1.8;
        let neg = 2.2;
        let mut area = 0.0;
        let mut tp = 0.0;
        for p in [0.9f64, 0.6, 0.2, 0.1] {
            area += (1.0 - p) * tp + 0.5 * (1.0 - p) * p;
            tp += p;
        }
        assert!((t.expected_auc().unwrap() - area / (pos * neg)).abs() < 1e-12);
    }

    #[test]
    fn a_tally_is_bounded_by_the_grid_and_its_auc_by_the_exact_order() {
        // 300,000 rows of distinct probabilities: the exact expected ROC curve, row by row in
        // order of probability, against the tally's grid of 2^-20 steps.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut rows: Vec<f64> = (0..300_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                ((state >> 11) as f64 / (1u64 << 53) as f64).powi(2)
            })
            .collect();
        let mut t = Tally::default();
        rows.iter().for_each(|&p| t.add(p, p > 0.3));
        assert!(t.distinct() <= (1 << 20) + 1 && t.distinct() < rows.len());
        rows.sort_by(|a, b| b.total_cmp(a));
        let (mut tp, mut fp, mut area) = (0.0f64, 0.0f64, 0.0f64);
        for p in &rows {
            area += (1.0 - p) * tp + 0.5 * (1.0 - p) * p;
            tp += p;
            fp += 1.0 - p;
        }
        let exact = area / (tp * fp);
        let grid = t.expected_auc().unwrap();
        assert!((grid - exact).abs() < 1e-7, "{grid} vs {exact}");
        let c = t.expected();
        let want: f64 = rows.iter().filter(|p| **p > 0.3).sum();
        assert!((c.tp - want).abs() < 1e-6 * want, "expected true positives are the probabilities' sum");
    }

    #[test]
    fn tallies_split_any_way_give_the_same_bits() {
        // The same rows counted whole, and in parts of 7 and of 1,000 merged: every estimate is
        // bit for bit the same (sums in fixed point), binary and multiclass.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let rows: Vec<[f64; 3]> = (0..20_000).map(|_| [next(), next(), next()]).collect();
        let tally = |part: usize| {
            let mut whole = Tally::default();
            for chunk in rows.chunks(part) {
                let mut t = Tally::default();
                for r in chunk {
                    t.add(r[0], r[1] > 0.5);
                    let sum: f64 = r.iter().sum();
                    let p: Vec<f64> = r.iter().map(|v| v / sum).collect();
                    t.add_classes(r, &p, Some((r[2] * 3.0) as usize % 3));
                }
                whole.merge(&t);
            }
            whole
        };
        let (a, b, c) = (tally(20_000), tally(7), tally(1000));
        for m in METRICS {
            let bits = |t: &Tally| {
                let binary = if m == Metric::RocAuc { t.expected_auc() } else { t.expected().metric(m) };
                (binary.map(f64::to_bits), t.multi.metric(m).map(f64::to_bits))
            };
            assert_eq!(bits(&a), bits(&b), "{m:?}");
            assert_eq!(bits(&a), bits(&c), "{m:?}");
        }
    }
}
