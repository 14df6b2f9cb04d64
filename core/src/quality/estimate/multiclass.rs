//! Performance estimation of multiclass classifiers, as NannyML's CBPE does it: a score column
//! per class, each class's scores calibrated one-vs-rest on the baseline's labels (when they
//! gain from it, by the binary rule), a row's calibrated scores divided by their sum (a row
//! whose calibrated scores are all 0 taken as uniform), and every metric the mean of its
//! one-vs-rest values over the classes (macro); accuracy the mean calibrated probability of the
//! predicted class.
//!
//! The ROC AUC of a class comes from the rows in order of that class's score: after the
//! division a row's calibrated probability no longer follows its score alone, so a window keeps,
//! per class, the sum of calibrated probabilities and the rows of each grid step of the score
//! (rows of one step add one straight step to the curve).

use std::collections::BTreeMap;

use super::{auc_components, binary_std, range, FitError, Isotonic, Metric, MetricModel, Row, METRICS};

/// A labelled row of a multiclass baseline: a score per class (in the model's class order), the
/// label's class, and the predicted class (`None`: none of the classes).
#[derive(Debug, Clone, PartialEq)]
pub struct MRow {
    /// The scores, one per class.
    pub scores: Vec<f64>,
    /// The label's class.
    pub actual: usize,
    /// The predicted class.
    pub predicted: Option<usize>,
}

/// One class of a window: the summed calibrated probabilities of the class over the rows
/// predicted as it and the rest, those rows' counts (the expected one-vs-rest confusion
/// matrix), and, per
/// grid step of the class's score ([`super::GRID`]), the calibrated probabilities' sum and the
/// rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClassTally {
    p: [super::Fixed; 2],
    n: [u64; 2],
    groups: super::Steps<(super::Fixed, u64)>,
}

/// The calibrated probabilities of a row's scores: each class's calibration (or the score),
/// divided by their sum; uniform when they sum to 0.
pub fn calibrated(calibrations: &[Option<Isotonic>], scores: &[f64]) -> Vec<f64> {
    let q: Vec<f64> = scores.iter().zip(calibrations).map(|(s, c)| c.as_ref().map_or(*s, |c| c.predict(*s))).collect();
    let sum: f64 = q.iter().sum();
    if sum == 0.0 {
        return vec![1.0 / q.len() as f64; q.len()];
    }
    q.iter().map(|v| v / sum).collect()
}

/// A multiclass window's tallies: one per class, and the sum of the predicted classes'
/// calibrated probabilities.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MTally {
    classes: Vec<ClassTally>,
    correct: super::Fixed,
    /// Rows counted.
    pub rows: u64,
}

impl MTally {
    /// Counts a row: its scores, their calibrated probabilities, and its predicted class.
    pub fn add(&mut self, scores: &[f64], p: &[f64], predicted: Option<usize>) {
        if self.classes.len() < p.len() {
            self.classes.resize(p.len(), ClassTally::default());
        }
        for (k, (c, (&s, &pk))) in self.classes.iter_mut().zip(scores.iter().zip(p)).enumerate() {
            let at = usize::from(predicted != Some(k));
            c.p[at].add(pk);
            c.n[at] += 1;
            let g = c.groups.entry(super::step(s)).or_default();
            g.0.add(pk);
            g.1 += 1;
        }
        self.correct.add(predicted.and_then(|k| p.get(k)).copied().unwrap_or(0.0));
        self.rows += 1;
    }

    /// Adds another tally's rows.
    pub fn merge(&mut self, other: &MTally) {
        if self.classes.len() < other.classes.len() {
            self.classes.resize(other.classes.len(), ClassTally::default());
        }
        for (a, b) in self.classes.iter_mut().zip(&other.classes) {
            for i in 0..2 {
                a.p[i].merge(b.p[i]);
                a.n[i] += b.n[i];
            }
            for (k, (p, n)) in &b.groups {
                let g = a.groups.entry(*k).or_default();
                g.0.merge(*p);
                g.1 += n;
            }
        }
        self.correct.merge(other.correct);
        self.rows += other.rows;
    }

    /// A metric estimated: the mean over the classes of its one-vs-rest estimate.
    pub fn metric(&self, m: Metric) -> Option<f64> {
        if self.rows == 0 || self.classes.is_empty() {
            return None;
        }
        if m == Metric::Accuracy {
            return Some(self.correct.get() / self.rows as f64);
        }
        let mut total = 0.0;
        for c in &self.classes {
            let (tp, fn_) = (c.p[0].get(), c.p[1].get());
            let (fp, tn) = (c.n[0] as f64 - tp, c.n[1] as f64 - fn_);
            total += match m {
                Metric::RocAuc => expected_auc(&c.groups)?,
                other => super::Confusion { tp, fp, fn_, tn }.metric(other)?,
            };
        }
        Some(total / self.classes.len() as f64)
    }
}

/// The area under the expected ROC curve of rows grouped by score: each group adds its summed
/// probability of true and the rest of false positives, in one straight step.
fn expected_auc(groups: &super::Steps<(super::Fixed, u64)>) -> Option<f64> {
    super::roc_area(super::in_order(groups).into_iter().rev().map(|(_, (p, n))| (p.get(), *n as f64 - p.get())))
}

/// Labelled rows of a multiclass window: the confusion matrix (label × prediction, the last
/// column for a prediction of none of the classes) and, per class and distinct score, the rows
/// of the class and of the rest.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MRealized {
    k: usize,
    matrix: Vec<u64>,
    scores: Vec<BTreeMap<u64, [u64; 2]>>,
}

impl MRealized {
    /// Counts a labelled row.
    pub fn add(&mut self, scores: &[f64], actual: usize, predicted: Option<usize>) {
        let k = scores.len();
        if self.k == 0 {
            *self = MRealized { k, matrix: vec![0; k * (k + 1)], scores: vec![BTreeMap::new(); k] };
        }
        self.matrix[actual * (k + 1) + predicted.unwrap_or(k)] += 1;
        for (c, &s) in scores.iter().enumerate() {
            let s = if s == 0.0 { 0.0 } else { s };
            self.scores[c].entry(s.to_bits()).or_default()[usize::from(actual == c)] += 1;
        }
    }

    /// Adds another's rows.
    pub fn merge(&mut self, other: &MRealized) {
        if other.k == 0 {
            return;
        }
        if self.k == 0 {
            *self = other.clone();
            return;
        }
        self.matrix.iter_mut().zip(&other.matrix).for_each(|(a, b)| *a += b);
        for (a, b) in self.scores.iter_mut().zip(&other.scores) {
            for (s, c) in b {
                let e = a.entry(*s).or_default();
                e[0] += c[0];
                e[1] += c[1];
            }
        }
    }

    /// Rows counted.
    pub fn rows(&self) -> u64 {
        self.matrix.iter().sum()
    }

    fn cell(&self, actual: usize, predicted: usize) -> f64 {
        self.matrix[actual * (self.k + 1) + predicted] as f64
    }

    /// A realized metric, macro-averaged as scikit-learn does over the classes (a class never
    /// predicted has precision 0); `None` where NannyML leaves it undefined: one class among
    /// the labels or among the predictions, and ROC AUC unless every class is among the labels.
    pub fn metric(&self, m: Metric) -> Option<f64> {
        let k = self.k;
        let n = self.rows() as f64;
        let labels: Vec<f64> = (0..k).map(|a| (0..=k).map(|p| self.cell(a, p)).sum()).collect();
        let predicted: Vec<f64> = (0..=k).map(|p| (0..k).map(|a| self.cell(a, p)).sum()).collect();
        let distinct = |v: &[f64]| v.iter().filter(|x| **x > 0.0).count();
        if k == 0 || distinct(&labels) <= 1 || distinct(&predicted) <= 1 {
            return None;
        }
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
        let per_class = |f: &dyn Fn(usize) -> f64| (0..k).map(f).sum::<f64>() / k as f64;
        Some(match m {
            Metric::Accuracy => (0..k).map(|c| self.cell(c, c)).sum::<f64>() / n,
            Metric::Precision => per_class(&|c| ratio(self.cell(c, c), predicted[c])),
            Metric::Recall => per_class(&|c| ratio(self.cell(c, c), labels[c])),
            Metric::F1 => per_class(&|c| {
                let (p, r) = (ratio(self.cell(c, c), predicted[c]), ratio(self.cell(c, c), labels[c]));
                ratio(2.0 * p * r, p + r)
            }),
            Metric::Specificity => per_class(&|c| {
                let fp = predicted[c] - self.cell(c, c);
                let tn = n - labels[c] - fp;
                ratio(tn, tn + fp)
            }),
            Metric::RocAuc => {
                if distinct(&labels) < k {
                    return None;
                }
                let mut total = 0.0;
                for s in &self.scores {
                    total += super::Realized::auc_of(s)?;
                }
                total / k as f64
            }
        })
    }
}

/// The binary rows of class `c` (one-vs-rest).
fn one_vs_rest(rows: &[MRow], c: usize) -> Vec<Row> {
    rows.iter().map(|r| Row { score: r.scores[c], actual: r.actual == c, predicted: r.predicted == Some(c) }).collect()
}

/// Multiclass rows counted for their realized metrics.
fn counts(rows: &[MRow]) -> MRealized {
    let mut r = MRealized::default();
    rows.iter().for_each(|row| r.add(&row.scores, row.actual, row.predicted));
    r
}

/// NannyML's per-class sampling components of a metric (the variance of its one-vs-rest
/// per-row terms, and the share of rows they are), and the standard deviation of accuracy's.
fn components(rows: &[MRow], k: usize, m: Metric) -> (Option<f64>, Vec<(f64, f64)>) {
    if m == Metric::Accuracy {
        let correct = rows.iter().filter(|r| r.predicted == Some(r.actual)).count() as f64;
        return (Some(binary_std(correct, rows.len() as f64 - correct)).filter(|s| s.is_finite()), Vec::new());
    }
    let n = rows.len() as f64;
    let per_class: Vec<(f64, f64)> = (0..k)
        .map(|c| {
            let ovr = one_vs_rest(rows, c);
            let count = |a: bool, p: bool| ovr.iter().filter(|r| r.actual == a && r.predicted == p).count() as f64;
            let (tp, fp, fn_, tn) = (count(true, true), count(false, true), count(true, false), count(false, false));
            let var = |ones: f64, zeros: f64| binary_std(ones, zeros).powi(2);
            match m {
                Metric::RocAuc => {
                    let (std, share) = auc_components(&ovr);
                    (std * std, share)
                }
                Metric::F1 => (var(tp, fp + fn_), (tp + fp + fn_) / n),
                Metric::Precision => (var(tp, fp), (tp + fp) / n),
                Metric::Recall => (var(tp, fn_), (tp + fn_) / n),
                _ => (var(tn, fp), (tn + fp) / n),
            }
        })
        .collect();
    // A class without such terms has no variance (kept finite for the file; its share of 0
    // leaves the metric without a sampling error).
    (None, per_class.into_iter().map(|(v, share): (f64, f64)| (if v.is_finite() { v } else { 0.0 }, share)).collect())
}

/// The calibrations (one per class, `None` where the scores are kept) and the metrics' models of
/// a multiclass baseline's rows, in their order, with chunks of `chunk_rows` rows.
///
/// # Errors
/// [`FitError`] when the labels hold one class, or the rows make fewer than two chunks.
pub fn fit(rows: &[MRow], k: usize, chunk_rows: u64) -> Result<(Vec<Option<Isotonic>>, Vec<MetricModel>), FitError> {
    let mut seen = vec![false; k];
    rows.iter().for_each(|r| seen[r.actual] = true);
    if seen.iter().filter(|s| **s).count() < 2 {
        return Err(FitError::OneClass("of one class"));
    }
    let (_, chunks) = super::chunked(rows, chunk_rows)?;
    let calibrations = (0..k).map(|c| super::calibration_of(&one_vs_rest(rows, c))).collect();
    let counted: Vec<MRealized> = chunks.iter().map(|c| counts(c)).collect();
    let mut whole = MRealized::default();
    counted.iter().for_each(|c| whole.merge(c));
    let metrics = METRICS
        .iter()
        .map(|&metric| {
            let values: Vec<Option<f64>> = counted.iter().map(|c| c.metric(metric)).collect();
            let (lower_threshold, upper_threshold) = range(&values);
            let (sampling_std, class_sampling) = components(rows, k, metric);
            MetricModel {
                metric,
                baseline: whole.metric(metric),
                lower_threshold,
                upper_threshold,
                sampling_std,
                sampling_share: 1.0,
                class_sampling,
                chunks: values,
            }
        })
        .collect();
    Ok((calibrations, metrics))
}
