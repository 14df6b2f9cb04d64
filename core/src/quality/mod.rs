//! Model quality: predictions scored against ground truth, with SageMaker's problem types, metric
//! names and file formats.
//!
//! It imports the source stage (it reads the ground truth, and the predictions of a run that
//! profiles nothing), the engine (its windows, and [`crate::engine::Tap`]: the jobs score the
//! predictions in the pass that profiles them, [`join::Scoring`]), the judge's baseline folder
//! and the time stage's window results; its errors are [`crate::error::quality`]'s; its files
//! are written by [`crate::output::quality`].
//!
//! An [`Accumulator`] takes labelled rows (a label, a prediction and, for binary problems, a
//! probability), merges with another, and [`Accumulator::finish`]es into [`QualityMetrics`]:
//! - regression: `mae`, `mse`, `rmse`, `r2` (compensated sums, label variance by Chan's merge);
//! - binary classification: the confusion matrix at the threshold, `accuracy`, `precision`,
//!   `recall`, `f0_5`, `f1`, `f2`, the four rates, `auc` and `au_prc` (exact: every
//!   (score, label) pair is counted, 16 bytes per distinct score and sample membership — a row
//!   when every score differs, far less when scores repeat; ties count one half in `auc`, as the
//!   trapezoid through the ROC points does; `au_prc` is the average precision, the step sum
//!   Σ (Rₙ − Rₙ₋₁) Pₙ over distinct scores), the ROC and precision-recall curves (at most
//!   [`CURVE_POINTS`] points), and the `_best_constant_classifier` variants for the classifier that
//!   always predicts the majority label, the positive class on a tie (SageMaker's containers since
//!   2021; the 2020 container always predicted the positive class);
//! - multiclass classification: the confusion matrix, `accuracy`, and the support-weighted
//!   `weighted_recall`, `weighted_precision`, `weighted_f0_5`, `weighted_f1`, `weighted_f2`; a
//!   class never predicted has precision 0; the best constant classifier predicts the most frequent
//!   label (the smallest such label on a tie).
//!
//! Every metric has a standard deviation when there are at least [`MIN_ROWS_FOR_DEVIATION`] rows:
//! SageMaker's bootstrap of [`RESAMPLES`] samples of 80% of the rows. Here each row belongs to each
//! resample with probability 0.8, decided by a seeded hash of the row's key (its id, or its place in
//! the input), so the samples are deterministic, independent of how rows are split among threads,
//! files or machines, and merge like the rest; the deviation is the sample standard deviation
//! (n − 1) of the five values. A metric that is undefined (precision with no positive prediction,
//! `auc` with one class present, `r2` with constant labels) is left out of the metrics and listed
//! with its reason, never written as NaN.

pub use crate::error::quality::{shown, QualityError, RowError};

pub mod attribution;
pub mod bias;
pub mod estimate;
pub mod join;
pub mod run;
pub mod sagemaker;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Number of bootstrap resamples (SageMaker's figure).
pub const RESAMPLES: usize = 5;
/// Share of the rows in each resample.
pub const RESAMPLE_SHARE: f64 = 0.8;
/// Rows needed before standard deviations are given (SageMaker's figure).
pub const MIN_ROWS_FOR_DEVIATION: u64 = 200;
/// Most points written for each curve.
pub const CURVE_POINTS: usize = 101;
/// Samples tracked per accumulator: the whole set and the resamples.
const SAMPLES: usize = RESAMPLES + 1;
const SEED: u64 = 0x6472_6966_7477_6174; // "driftwat"
/// Score entries before the first compaction.
const COMPACT_FIRST: usize = 1 << 20;

/// The kind of model, SageMaker's `problem_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProblemType {
    /// A number is predicted.
    Regression,
    /// One of two classes is predicted.
    BinaryClassification,
    /// One of several classes is predicted.
    MulticlassClassification,
}

impl std::str::FromStr for ProblemType {
    type Err = QualityError;
    fn from_str(s: &str) -> Result<ProblemType, QualityError> {
        [ProblemType::Regression, ProblemType::BinaryClassification, ProblemType::MulticlassClassification]
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| QualityError::UnknownProblemType(s.to_string()))
    }
}

impl std::fmt::Display for ProblemType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl ProblemType {
    /// The key of the metrics in SageMaker's statistics file.
    pub fn metrics_key(self) -> &'static str {
        match self {
            ProblemType::Regression => "regression_metrics",
            ProblemType::BinaryClassification => "binary_classification_metrics",
            ProblemType::MulticlassClassification => "multiclass_classification_metrics",
        }
    }
    /// The key of the constraints in SageMaker's constraints file.
    pub fn constraints_key(self) -> &'static str {
        match self {
            ProblemType::Regression => "regression_constraints",
            ProblemType::BinaryClassification => "binary_classification_constraints",
            ProblemType::MulticlassClassification => "multiclass_classification_constraints",
        }
    }
    /// The problem type whose metrics or constraints key this is.
    pub fn from_key(key: &str) -> Option<ProblemType> {
        [ProblemType::Regression, ProblemType::BinaryClassification, ProblemType::MulticlassClassification]
            .into_iter()
            .find(|p| p.metrics_key() == key || p.constraints_key() == key)
    }
    /// SageMaker's name.
    pub fn name(self) -> &'static str {
        match self {
            ProblemType::Regression => "Regression",
            ProblemType::BinaryClassification => "BinaryClassification",
            ProblemType::MulticlassClassification => "MulticlassClassification",
        }
    }
}

/// How labelled rows are read: the problem type, the columns and the threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualitySettings {
    /// The problem type.
    pub problem_type: ProblemType,
    /// The ground-truth column.
    pub label: String,
    /// The predicted label (or value) column; for a binary problem it may be left out when a
    /// probability is given, and the label is then `probability >= threshold`.
    pub prediction: Option<String>,
    /// The probability of the positive class (binary problems).
    pub probability: Option<String>,
    /// The probability from which a row is predicted positive.
    pub threshold: f64,
    /// The label of the positive class (binary problems): `1` matches 1, 1.0, "1" and true.
    pub positive_label: String,
    /// A multiclass model's score column per class (class, column), for performance
    /// estimation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub class_probabilities: Vec<(String, String)>,
}

impl QualitySettings {
    /// Settings with the default threshold (0.5) and positive label (`1`).
    pub fn new(problem_type: ProblemType, label: &str) -> QualitySettings {
        QualitySettings {
            problem_type,
            label: label.to_string(),
            prediction: None,
            probability: None,
            threshold: 0.5,
            positive_label: "1".into(),
            class_probabilities: Vec::new(),
        }
    }

    /// Checks that the columns asked for fit the problem type.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] naming the missing option or the bad value.
    pub fn validate(&self) -> crate::Result<()> {
        use crate::error::{invalid, Opt};
        if !(self.threshold.is_finite() && (0.0..=1.0).contains(&self.threshold)) {
            return Err(invalid(Opt::Threshold, format!("{} is not a probability in [0, 1]", self.threshold)));
        }
        match self.problem_type {
            ProblemType::BinaryClassification if self.prediction.is_none() && self.probability.is_none() => {
                Err(invalid(Opt::Prediction, "a binary classification needs a prediction or a probability column"))
            }
            _ if !self.class_probabilities.is_empty() && self.problem_type != ProblemType::MulticlassClassification => {
                Err(invalid(Opt::Prediction, "a score column per class is for a multiclass classification"))
            }
            ProblemType::MulticlassClassification if self.class_probabilities.len() == 1 => Err(invalid(
                Opt::Prediction,
                "a multiclass classification's scores need a column per class (two at least)",
            )),
            ProblemType::Regression | ProblemType::MulticlassClassification if self.prediction.is_none() => {
                Err(invalid(Opt::Prediction, format!("a {} needs a prediction column", self.problem_type.name())))
            }
            _ => Ok(()),
        }
    }
}

/// A value of a label or prediction as read from a column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// A number.
    Number(f64),
    /// Text.
    Text(&'a str),
    /// A boolean.
    Bool(bool),
}

impl Value<'_> {
    /// The class this value names: whole numbers without a fraction (`1.0` is `1`), text as is,
    /// booleans as `1`/`0`.
    pub fn class(&self) -> String {
        match *self {
            Value::Number(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => format!("{}", x as i64),
            Value::Number(x) => format!("{x}"),
            Value::Text(s) => s.trim().to_string(),
            Value::Bool(b) => (if b { "1" } else { "0" }).to_string(),
        }
    }
    /// The number this value holds, reading numeric text.
    pub fn number(&self) -> Option<f64> {
        match *self {
            Value::Number(x) => Some(x),
            Value::Text(s) => s.trim().parse().ok(),
            Value::Bool(b) => Some(if b { 1.0 } else { 0.0 }),
        }
    }
}

/// A sum with Neumaier's compensation: exact to the last bits over millions of terms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
struct Sum(f64, f64);

impl Sum {
    fn add(&mut self, x: f64) {
        let t = self.0 + x;
        if self.0.abs() >= x.abs() {
            self.1 += (self.0 - t) + x;
        } else {
            self.1 += (x - t) + self.0;
        }
        self.0 = t;
    }
    fn merge(&mut self, o: &Sum) {
        self.add(o.0);
        self.add(o.1);
    }
    fn get(&self) -> f64 {
        self.0 + self.1
    }
}

/// Regression accumulators for one sample.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
struct Residuals {
    n: u64,
    abs: Sum,
    sq: Sum,
    mean_y: f64,
    m2_y: f64,
}

impl Residuals {
    fn add(&mut self, y: f64, p: f64) {
        let e = y - p;
        self.n += 1;
        self.abs.add(e.abs());
        self.sq.add(e * e);
        let d = y - self.mean_y;
        self.mean_y += d / self.n as f64;
        self.m2_y += d * (y - self.mean_y);
    }
    fn merge(&mut self, o: &Residuals) {
        if o.n == 0 {
            return;
        }
        let n = self.n + o.n;
        let d = o.mean_y - self.mean_y;
        self.m2_y += o.m2_y + d * d * self.n as f64 * o.n as f64 / n as f64;
        self.mean_y += d * o.n as f64 / n as f64;
        self.n = n;
        self.abs.merge(&o.abs);
        self.sq.merge(&o.sq);
    }
}

/// Labelled rows folded for one problem type; merges with another of the same settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Accumulator {
    problem_type: ProblemType,
    threshold: f64,
    positive: String,
    /// Rows scored, per sample (the whole set, then the resamples).
    rows: [u64; SAMPLES],
    residuals: [Residuals; SAMPLES],
    /// actual class → predicted class → count per sample.
    confusion: BTreeMap<String, BTreeMap<String, [u64; SAMPLES]>>,
    /// Binary: (score, bit 0 the label and bits 1.. the resamples, rows), compacted to one entry
    /// per distinct (score, bits) whenever it doubles, sorted at the end.
    scores: Vec<(f64, u8, u32)>,
    /// Entries at which `scores` is next compacted.
    #[serde(skip)]
    compact_at: usize,
    /// Binary: the negative class as first seen (a label other than the positive one).
    negative: Option<String>,
    /// The positive and negative classes as numbers, when they are.
    #[serde(skip)]
    positive_number: Option<f64>,
    #[serde(skip)]
    negative_number: Option<f64>,
}

/// Which samples a row with this key belongs to: bit 0 always, bit r+1 for resample r.
pub fn membership(key: u64) -> u8 {
    let mut bits = 1u8;
    for r in 0..RESAMPLES {
        let z = crate::codec::mix64(key ^ SEED ^ (r as u64 + 1).wrapping_mul(crate::codec::SPLITMIX_GAMMA));
        if (z >> 11) as f64 / (1u64 << 53) as f64 <= RESAMPLE_SHARE {
            bits |= 1 << (r + 1);
        }
    }
    bits
}

/// A key for a row from its id text (FNV-1a), for [`membership`].
pub fn key_of(id: &str) -> u64 {
    crate::codec::fnv1a64(id.as_bytes())
}

impl Accumulator {
    /// An empty accumulator for these settings.
    pub fn new(settings: &QualitySettings) -> Accumulator {
        Accumulator {
            problem_type: settings.problem_type,
            threshold: settings.threshold,
            positive: settings.positive_label.clone(),
            rows: [0; SAMPLES],
            residuals: [Residuals::default(); SAMPLES],
            confusion: BTreeMap::new(),
            scores: Vec::new(),
            compact_at: COMPACT_FIRST,
            negative: None,
            positive_number: settings.positive_label.trim().parse().ok(),
            negative_number: None,
        }
    }

    /// The problem type.
    pub fn problem_type(&self) -> ProblemType {
        self.problem_type
    }

    /// Rows scored so far.
    pub fn rows(&self) -> u64 {
        self.rows[0]
    }

    fn count(&mut self, member: u8) {
        for (s, r) in self.rows.iter_mut().enumerate() {
            if member & (1 << s) != 0 {
                *r += 1;
            }
        }
    }

    fn binary_class(&mut self, v: &Value) -> Result<bool, RowError> {
        // Numbers are compared as numbers, without making their text: the common case.
        if let (Value::Number(x), Some(p)) = (v, self.positive_number) {
            if *x == p {
                return Ok(true);
            }
            if self.negative_number == Some(*x) {
                return Ok(false);
            }
        }
        let c = v.class();
        if c == self.positive {
            return Ok(true);
        }
        match &self.negative {
            Some(n) if *n == c => Ok(false),
            Some(n) => Err(RowError::ThirdClass(c, format!("'{}', '{}'", self.positive, n))),
            None => {
                self.negative_number = v.number().filter(|_| matches!(v, Value::Number(_)));
                self.negative = Some(c);
                Ok(false)
            }
        }
    }

    /// Folds one labelled row. `prediction` may be `None` for a binary problem with a probability.
    ///
    /// # Errors
    /// [`RowError`] when the row does not fit the problem type; nothing is folded then.
    pub fn add(
        &mut self,
        label: Value,
        prediction: Option<Value>,
        probability: Option<f64>,
        key: u64,
    ) -> Result<(), RowError> {
        let member = membership(key);
        match self.problem_type {
            ProblemType::Regression => {
                let y = label.number().ok_or_else(|| RowError::NotNumber(label.class()))?;
                let p = prediction.expect("a regression has a prediction column");
                let p = p.number().ok_or_else(|| RowError::NotNumber(p.class()))?;
                if !y.is_finite() || !p.is_finite() {
                    return Err(RowError::NotNumber(format!("{}", if y.is_finite() { p } else { y })));
                }
                for (s, r) in self.residuals.iter_mut().enumerate() {
                    if member & (1 << s) != 0 {
                        r.add(y, p);
                    }
                }
            }
            ProblemType::BinaryClassification => {
                if let Some(p) = probability {
                    if !(0.0..=1.0).contains(&p) {
                        return Err(RowError::Probability(format!("{p}")));
                    }
                }
                let actual = self.binary_class(&label)?;
                let predicted = match prediction {
                    Some(v) => self.binary_class(&v)?,
                    None => {
                        probability.expect("a binary classification has a prediction or a probability")
                            >= self.threshold
                    }
                };
                let score = probability.unwrap_or(if predicted { 1.0 } else { 0.0 });
                self.scores.push((score, (member << 1) | actual as u8, 1));
                if self.scores.len() >= self.compact_at {
                    self.compact();
                }
                let (a, p) = (if actual { "1" } else { "0" }, if predicted { "1" } else { "0" });
                self.bump(a, p, member);
            }
            ProblemType::MulticlassClassification => {
                let p = prediction.expect("a multiclass classification has a prediction column");
                self.bump(&label.class(), &p.class(), member);
            }
        }
        self.count(member);
        Ok(())
    }

    fn bump(&mut self, actual: &str, predicted: &str, member: u8) {
        let row = match self.confusion.get_mut(actual) {
            Some(r) => r,
            None => self.confusion.entry(actual.to_string()).or_default(),
        };
        let cell = match row.get_mut(predicted) {
            Some(c) => c,
            None => row.entry(predicted.to_string()).or_insert([0; SAMPLES]),
        };
        for (s, c) in cell.iter_mut().enumerate() {
            if member & (1 << s) != 0 {
                *c += 1;
            }
        }
    }

    /// Adds another accumulator's rows.
    ///
    /// # Errors
    /// [`QualityError::Mixed`] when the two were made for different problem types,
    /// [`RowError::ThirdClass`] when together they hold three binary classes.
    pub fn merge(&mut self, other: &Accumulator) -> Result<(), QualityError> {
        if other.problem_type != self.problem_type {
            return Err(QualityError::Mixed(self.problem_type.name(), other.problem_type.name()));
        }
        if let (Some(a), Some(b)) = (&self.negative, &other.negative) {
            if a != b {
                return Err(RowError::ThirdClass(b.clone(), format!("'{}', '{a}'", self.positive)).into());
            }
        }
        if self.negative.is_none() {
            self.negative.clone_from(&other.negative);
        }
        for s in 0..SAMPLES {
            self.rows[s] += other.rows[s];
            self.residuals[s].merge(&other.residuals[s]);
        }
        for (a, row) in &other.confusion {
            let mine = self.confusion.entry(a.clone()).or_default();
            for (p, c) in row {
                let cell = mine.entry(p.clone()).or_insert([0; SAMPLES]);
                for s in 0..SAMPLES {
                    cell[s] += c[s];
                }
            }
        }
        self.scores.extend_from_slice(&other.scores);
        if self.scores.len() >= self.compact_at.max(COMPACT_FIRST) {
            self.compact();
        }
        Ok(())
    }

    /// Sorts the scores (highest first) and folds equal (score, bits) entries into one: memory
    /// then follows the distinct scores, not the rows, when scores repeat (rounded outputs,
    /// float32 probabilities); with all scores distinct it stays 16 bytes a row.
    fn compact(&mut self) {
        self.scores.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut w = 0;
        for r in 0..self.scores.len() {
            let e = self.scores[r];
            if w > 0
                && self.scores[w - 1].0 == e.0
                && self.scores[w - 1].1 == e.1
                && self.scores[w - 1].2 < u32::MAX - e.2
            {
                self.scores[w - 1].2 += e.2;
            } else {
                self.scores[w] = e;
                w += 1;
            }
        }
        self.scores.truncate(w);
        self.scores.shrink_to(2 * w);
        self.compact_at = (2 * w).max(COMPACT_FIRST);
    }

    /// The metrics of the rows folded.
    pub fn finish(mut self) -> QualityMetrics {
        let mut per_sample: Vec<Values> = Vec::with_capacity(SAMPLES);
        let mut curves = None;
        if self.problem_type == ProblemType::BinaryClassification {
            self.compact();
        }
        for s in 0..SAMPLES {
            let mut v = match self.problem_type {
                ProblemType::Regression => regression(&self.residuals[s]),
                ProblemType::BinaryClassification => binary(&self.confusion, s),
                ProblemType::MulticlassClassification => multiclass(&self.confusion, s),
            };
            if self.problem_type == ProblemType::BinaryClassification {
                let (auc, ap, c) = ranking(&self.scores, s, s == 0);
                v.insert("auc", auc);
                v.insert("au_prc", ap);
                if s == 0 {
                    curves = c;
                }
            }
            per_sample.push(v);
        }
        let rows = self.rows[0];
        let whole = per_sample.remove(0);
        let mut values = BTreeMap::new();
        let mut undefined = BTreeMap::new();
        for (name, v) in whole {
            match v {
                Ok(value) => {
                    let std = (rows >= MIN_ROWS_FOR_DEVIATION)
                        .then(|| {
                            let xs: Vec<f64> = per_sample.iter().filter_map(|p| (*p.get(name)?).ok()).collect();
                            (xs.len() >= 2).then(|| {
                                let m = xs.iter().sum::<f64>() / xs.len() as f64;
                                (xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (xs.len() - 1) as f64).sqrt()
                            })
                        })
                        .flatten();
                    values.insert(name.to_string(), Metric { value, standard_deviation: std });
                }
                Err(why) => {
                    undefined.insert(name.to_string(), why.to_string());
                }
            }
        }
        let confusion_matrix = (self.problem_type != ProblemType::Regression).then(|| {
            let names: Vec<String> = if self.problem_type == ProblemType::BinaryClassification {
                vec!["0".into(), "1".into()]
            } else {
                let all: std::collections::BTreeSet<&String> =
                    self.confusion.keys().chain(self.confusion.values().flat_map(|r| r.keys())).collect();
                all.into_iter().cloned().collect()
            };
            names
                .iter()
                .map(|a| {
                    let row = names
                        .iter()
                        .map(|p| (p.clone(), self.confusion.get(a).and_then(|r| r.get(p)).map_or(0, |c| c[0])))
                        .collect();
                    (a.clone(), row)
                })
                .collect()
        });
        QualityMetrics { problem_type: self.problem_type, rows, values, undefined, confusion_matrix, curves }
    }
}

/// A metric's value and, from [`MIN_ROWS_FOR_DEVIATION`] rows, its bootstrap deviation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// The value on every row.
    pub value: f64,
    /// The standard deviation over the resamples, when there are enough rows.
    pub standard_deviation: Option<f64>,
}

/// The ROC and precision-recall curves of a binary problem, at most [`CURVE_POINTS`] points each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Curves {
    /// False positive rates, from 0.
    pub false_positive_rates: Vec<f64>,
    /// True positive rates, from 0.
    pub true_positive_rates: Vec<f64>,
    /// Precisions at each distinct score, highest score first.
    pub precisions: Vec<f64>,
    /// Recalls at each distinct score.
    pub recalls: Vec<f64>,
}

/// Computed model-quality metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityMetrics {
    /// The problem type.
    pub problem_type: ProblemType,
    /// Rows scored.
    pub rows: u64,
    /// Defined metrics by SageMaker name.
    pub values: BTreeMap<String, Metric>,
    /// Metrics that are undefined on these rows, with the reason.
    pub undefined: BTreeMap<String, String>,
    /// actual → predicted → rows (classification).
    pub confusion_matrix: Option<BTreeMap<String, BTreeMap<String, u64>>>,
    /// Binary: ROC and precision-recall curves.
    pub curves: Option<Curves>,
}

type Values = BTreeMap<&'static str, Result<f64, &'static str>>;

fn ratio(a: f64, b: f64, why: &'static str) -> Result<f64, &'static str> {
    if b > 0.0 {
        Ok(a / b)
    } else {
        Err(why)
    }
}

fn f_beta(precision: f64, recall: f64, beta: f64) -> f64 {
    let b2 = beta * beta;
    let d = b2 * precision + recall;
    if d > 0.0 {
        (1.0 + b2) * precision * recall / d
    } else {
        0.0
    }
}

fn regression(r: &Residuals) -> Values {
    let mut v = Values::new();
    let n = r.n as f64;
    let none = "no rows";
    v.insert("mae", ratio(r.abs.get(), n, none));
    v.insert("mse", ratio(r.sq.get(), n, none));
    v.insert("rmse", ratio(r.sq.get(), n, none).map(f64::sqrt));
    v.insert(
        "r2",
        if r.n == 0 {
            Err(none)
        } else if r.m2_y > 0.0 {
            Ok(1.0 - r.sq.get() / r.m2_y)
        } else {
            Err("every label is the same, so r2 has no variance to explain")
        },
    );
    v
}

fn cell(c: &BTreeMap<String, BTreeMap<String, [u64; SAMPLES]>>, a: &str, p: &str, s: usize) -> f64 {
    c.get(a).and_then(|r| r.get(p)).map_or(0.0, |x| x[s] as f64)
}

fn binary(c: &BTreeMap<String, BTreeMap<String, [u64; SAMPLES]>>, s: usize) -> Values {
    let (tp, fp, fne, tn) = (cell(c, "1", "1", s), cell(c, "0", "1", s), cell(c, "1", "0", s), cell(c, "0", "0", s));
    let n = tp + fp + fne + tn;
    let (pos, neg) = (tp + fne, fp + tn);
    let no_pos = "no positive label";
    let no_neg = "no negative label";
    let mut v = Values::new();
    v.insert("accuracy", ratio(tp + tn, n, "no rows"));
    let precision = ratio(tp, tp + fp, "no positive prediction");
    let recall = ratio(tp, pos, no_pos);
    v.insert("precision", precision);
    v.insert("recall", recall);
    for (name, beta) in [("f0_5", 0.5), ("f1", 1.0), ("f2", 2.0)] {
        v.insert(
            name,
            match (precision, recall) {
                (Ok(p), Ok(r)) => Ok(f_beta(p, r, beta)),
                (Err(e), _) | (_, Err(e)) => Err(e),
            },
        );
    }
    v.insert("true_positive_rate", recall);
    v.insert("true_negative_rate", ratio(tn, neg, no_neg));
    v.insert("false_positive_rate", ratio(fp, neg, no_neg));
    v.insert("false_negative_rate", ratio(fne, pos, no_pos));
    // The best constant classifier predicts the majority label (the positive class on a tie), as
    // SageMaker's containers have since 2021 (the 2020 container always predicted the positive
    // class). Predicting the negative class, precision and recall are 0, as SageMaker writes them.
    let (ca, cp, cr) = if pos >= neg {
        (ratio(pos, n, "no rows"), ratio(pos, n, "no rows"), if pos > 0.0 { Ok(1.0) } else { Err(no_pos) })
    } else {
        (ratio(neg, n, "no rows"), Ok(0.0), Ok(0.0))
    };
    v.insert("accuracy_best_constant_classifier", ca);
    v.insert("precision_best_constant_classifier", cp);
    v.insert("recall_best_constant_classifier", cr);
    for (name, beta) in [
        ("f0_5_best_constant_classifier", 0.5),
        ("f1_best_constant_classifier", 1.0),
        ("f2_best_constant_classifier", 2.0),
    ] {
        v.insert(
            name,
            match (cp, cr) {
                (Ok(p), Ok(r)) => Ok(f_beta(p, r, beta)),
                (Err(e), _) | (_, Err(e)) => Err(e),
            },
        );
    }
    v
}

/// Exact `auc` and average precision of sample `s` over scores sorted highest first, and the
/// curves when asked.
#[allow(
    clippy::type_complexity,
    reason = "two metrics, each a value or why not, and the curves: named where destructured"
)]
fn ranking(
    scores: &[(f64, u8, u32)],
    s: usize,
    with_curves: bool,
) -> (Result<f64, &'static str>, Result<f64, &'static str>, Option<Curves>) {
    let bit = 1u8 << (s + 1);
    let (mut pos, mut neg) = (0.0f64, 0.0f64);
    for &(_, m, n) in scores {
        if m & bit != 0 {
            if m & 1 == 1 {
                pos += n as f64;
            } else {
                neg += n as f64;
            }
        }
    }
    let mut points: Vec<(f64, f64, f64, f64)> = vec![(0.0, 0.0, 1.0, 0.0)];
    let (mut tp, mut fp) = (0.0f64, 0.0f64);
    let (mut area, mut ap) = (Sum::default(), Sum::default());
    let mut i = 0;
    while i < scores.len() {
        let score = scores[i].0;
        let (mut gp, mut gn) = (0.0, 0.0);
        while i < scores.len() && scores[i].0 == score {
            let (_, m, n) = scores[i];
            if m & bit != 0 {
                if m & 1 == 1 {
                    gp += n as f64;
                } else {
                    gn += n as f64;
                }
            }
            i += 1;
        }
        if gp == 0.0 && gn == 0.0 {
            continue;
        }
        // Negatives in this group rank below the positives before it, and tie with its own.
        area.add(gn * tp + 0.5 * gn * gp);
        tp += gp;
        fp += gn;
        if gp > 0.0 {
            ap.add(gp / pos * (tp / (tp + fp)));
        }
        if with_curves {
            points.push((fp / neg.max(1.0), tp / pos.max(1.0), tp / (tp + fp), tp / pos.max(1.0)));
        }
    }
    let auc =
        if pos > 0.0 && neg > 0.0 { Ok(area.get() / (pos * neg)) } else { Err("only one class among the labels") };
    let ap = if pos > 0.0 { Ok(ap.get()) } else { Err("no positive label") };
    let curves = (with_curves && pos > 0.0 && neg > 0.0).then(|| {
        let keep = thin(points.len(), CURVE_POINTS);
        let pick = |f: fn(&(f64, f64, f64, f64)) -> f64| keep.iter().map(|&k| f(&points[k])).collect::<Vec<f64>>();
        Curves {
            false_positive_rates: pick(|p| p.0),
            true_positive_rates: pick(|p| p.1),
            precisions: pick(|p| p.2),
            recalls: pick(|p| p.3),
        }
    });
    (auc, ap, curves)
}

/// At most `most` indices of `0..n`, evenly spread, first and last included.
fn thin(n: usize, most: usize) -> Vec<usize> {
    if n <= most {
        return (0..n).collect();
    }
    let mut v: Vec<usize> = (0..most).map(|k| k * (n - 1) / (most - 1)).collect();
    v.dedup();
    v
}

fn multiclass(c: &BTreeMap<String, BTreeMap<String, [u64; SAMPLES]>>, s: usize) -> Values {
    let mut support: BTreeMap<&str, f64> = BTreeMap::new();
    let mut predicted: BTreeMap<&str, f64> = BTreeMap::new();
    let mut hits: BTreeMap<&str, f64> = BTreeMap::new();
    for (a, row) in c {
        for (p, x) in row {
            let x = x[s] as f64;
            *support.entry(a).or_default() += x;
            *predicted.entry(p).or_default() += x;
            if a == p {
                *hits.entry(a).or_default() += x;
            }
        }
    }
    let n: f64 = support.values().sum();
    let mut v = Values::new();
    if n == 0.0 {
        for name in [
            "accuracy",
            "weighted_recall",
            "weighted_precision",
            "weighted_f0_5",
            "weighted_f1",
            "weighted_f2",
            "accuracy_best_constant_classifier",
            "weighted_recall_best_constant_classifier",
            "weighted_precision_best_constant_classifier",
            "weighted_f0_5_best_constant_classifier",
            "weighted_f1_best_constant_classifier",
            "weighted_f2_best_constant_classifier",
        ] {
            v.insert(name, Err("no rows"));
        }
        return v;
    }
    let weighted = |prec: &dyn Fn(&str) -> f64, rec: &dyn Fn(&str) -> f64, beta: Option<f64>| -> f64 {
        let mut t = Sum::default();
        for (&cl, &w) in &support {
            let m = match beta {
                None => rec(cl),
                Some(b) if b < 0.0 => prec(cl),
                Some(b) => f_beta(prec(cl), rec(cl), b),
            };
            t.add(w * m);
        }
        t.get() / n
    };
    let prec = |cl: &str| {
        let p = predicted.get(cl).copied().unwrap_or(0.0);
        if p > 0.0 {
            hits.get(cl).copied().unwrap_or(0.0) / p
        } else {
            0.0
        }
    };
    let rec = |cl: &str| hits.get(cl).copied().unwrap_or(0.0) / support[cl];
    v.insert("accuracy", Ok(hits.values().sum::<f64>() / n));
    v.insert("weighted_recall", Ok(weighted(&prec, &rec, None)));
    v.insert("weighted_precision", Ok(weighted(&prec, &rec, Some(-1.0))));
    v.insert("weighted_f0_5", Ok(weighted(&prec, &rec, Some(0.5))));
    v.insert("weighted_f1", Ok(weighted(&prec, &rec, Some(1.0))));
    v.insert("weighted_f2", Ok(weighted(&prec, &rec, Some(2.0))));
    // The constant classifier predicts the most frequent label (the smallest on a tie).
    let (&major, &top) = support.iter().fold((&"", &-1.0), |best, (k, w)| if *w > *best.1 { (k, w) } else { best });
    let cprec = |cl: &str| if cl == major { top / n } else { 0.0 };
    let crec = |cl: &str| if cl == major { 1.0 } else { 0.0 };
    v.insert("accuracy_best_constant_classifier", Ok(top / n));
    v.insert("weighted_recall_best_constant_classifier", Ok(weighted(&cprec, &crec, None)));
    v.insert("weighted_precision_best_constant_classifier", Ok(weighted(&cprec, &crec, Some(-1.0))));
    v.insert("weighted_f0_5_best_constant_classifier", Ok(weighted(&cprec, &crec, Some(0.5))));
    v.insert("weighted_f1_best_constant_classifier", Ok(weighted(&cprec, &crec, Some(1.0))));
    v.insert("weighted_f2_best_constant_classifier", Ok(weighted(&cprec, &crec, Some(2.0))));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_in_a_message_stays_on_one_line() {
        assert_eq!(shown("0.5\nb109,1"), "0.5\\nb109,1");
        assert_eq!(shown("é"), "é");
        let long = "9".repeat(100);
        assert_eq!(shown(&long), format!("{}…", "9".repeat(60)));
        let e = RowError::Probability("1.5\r\n2".into()).to_string();
        assert!(!e.contains('\n') && e.contains("1.5\\r\\n2"), "{e}");
    }

    fn binary_settings() -> QualitySettings {
        QualitySettings { prediction: Some("p".into()), ..QualitySettings::new(ProblemType::BinaryClassification, "y") }
    }

    #[test]
    fn sagemaker_documented_binary_example() {
        // SageMaker's documented confusion matrix {"0": {"0": 1, "1": 2}, "1": {"0": 0, "1": 1}}:
        // accuracy 0.5, precision 1/3, recall 1; the best constant classifier predicts the
        // majority label, 0: accuracy 0.75, precision and recall 0.
        let mut a = Accumulator::new(&binary_settings());
        for (k, (y, p)) in [(0.0, 0.0), (0.0, 1.0), (0.0, 1.0), (1.0, 1.0)].into_iter().enumerate() {
            a.add(Value::Number(y), Some(Value::Number(p)), None, k as u64).unwrap();
        }
        let m = a.finish();
        let v = |k: &str| m.values[k].value;
        assert_eq!((v("accuracy"), v("recall")), (0.5, 1.0));
        assert!((v("precision") - 1.0 / 3.0).abs() < 1e-15);
        assert!((v("false_positive_rate") - 2.0 / 3.0).abs() < 1e-15);
        assert_eq!((v("accuracy_best_constant_classifier"), v("recall_best_constant_classifier")), (0.75, 0.0));
        assert_eq!(v("precision_best_constant_classifier"), 0.0);
        assert_eq!((v("f1_best_constant_classifier"), v("f2_best_constant_classifier")), (0.0, 0.0));
        assert_eq!(m.confusion_matrix.unwrap()["0"]["1"], 2);
        assert_eq!(m.values["accuracy"].standard_deviation, None, "under 200 rows");
    }

    #[test]
    fn undefined_metrics_are_named_not_nan() {
        let mut a = Accumulator::new(&binary_settings());
        for k in 0..5 {
            a.add(Value::Text("1"), Some(Value::Text("1")), None, k).unwrap();
        }
        let m = a.finish();
        assert_eq!(m.undefined["auc"], "only one class among the labels");
        assert!(m.undefined.contains_key("true_negative_rate"));
        assert_eq!(m.values["recall"].value, 1.0);
        assert!(m.values.values().all(|v| v.value.is_finite()));
    }

    #[test]
    fn compaction_keeps_the_exact_ranking_metrics() {
        // 3M rows on 1,001 distinct scores: compacted many times over, the same figures as the
        // closed form for this layout, and memory bounded by the distinct (score, bits) pairs.
        let s = QualitySettings {
            prediction: None,
            probability: Some("s".into()),
            ..QualitySettings::new(ProblemType::BinaryClassification, "y")
        };
        let mut a = Accumulator::new(&s);
        let mut b = Accumulator::new(&s);
        for k in 0..3_000_000u64 {
            let score = (k % 1001) as f64 / 1000.0;
            // Positives on the upper half of the scores, plus every 7th row: many ties.
            let y = if score >= 0.5 || k % 7 == 0 { 1.0 } else { 0.0 };
            let t = if k % 2 == 0 { &mut a } else { &mut b };
            t.add(Value::Number(y), None, Some(score), k).unwrap();
        }
        assert!(a.scores.len() < COMPACT_FIRST, "1.5M rows in {} entries", a.scores.len());
        a.merge(&b).unwrap();
        let m = a.finish();
        // Reference by direct count over the 1,001 scores.
        let (mut pos, mut neg) = (vec![0f64; 1001], vec![0f64; 1001]);
        for k in 0..3_000_000u64 {
            let i = (k % 1001) as usize;
            if i >= 500 || k % 7 == 0 {
                pos[i] += 1.0
            } else {
                neg[i] += 1.0
            }
        }
        let (p, n): (f64, f64) = (pos.iter().sum(), neg.iter().sum());
        let (mut below, mut auc) = (0.0, 0.0);
        for i in 0..1001 {
            auc += pos[i] * (below + 0.5 * neg[i]);
            below += neg[i];
        }
        let auc = auc / (p * n);
        assert!((m.values["auc"].value - auc).abs() < 1e-12, "{} vs {auc}", m.values["auc"].value);
        assert_eq!(m.rows, 3_000_000);
    }

    #[test]
    fn bad_rows_are_refused() {
        let mut a = Accumulator::new(&QualitySettings {
            probability: Some("s".into()),
            prediction: None,
            ..QualitySettings::new(ProblemType::BinaryClassification, "y")
        });
        assert_eq!(a.add(Value::Number(1.0), None, Some(1.5), 0), Err(RowError::Probability("1.5".into())));
        a.add(Value::Number(1.0), None, Some(0.7), 0).unwrap();
        a.add(Value::Number(0.0), None, Some(0.2), 1).unwrap();
        assert!(matches!(a.add(Value::Number(2.0), None, Some(0.2), 2), Err(RowError::ThirdClass(..))));
        assert_eq!(a.rows(), 2);
    }

    #[test]
    fn merge_equals_one_pass_and_resamples_are_about_eighty_percent() {
        let s = QualitySettings { prediction: Some("p".into()), ..QualitySettings::new(ProblemType::Regression, "y") };
        let (mut whole, mut left, mut right) = (Accumulator::new(&s), Accumulator::new(&s), Accumulator::new(&s));
        for k in 0..10_000u64 {
            let y = (k % 97) as f64 * 0.37;
            let p = y + ((k * 7919) % 13) as f64 * 0.1 - 0.6;
            whole.add(Value::Number(y), Some(Value::Number(p)), None, k).unwrap();
            let half = if k % 3 == 0 { &mut left } else { &mut right };
            half.add(Value::Number(y), Some(Value::Number(p)), None, k).unwrap();
        }
        left.merge(&right).unwrap();
        for s in 1..SAMPLES {
            let share = left.rows[s] as f64 / left.rows[0] as f64;
            assert!((share - 0.8).abs() < 0.02, "resample {s} holds {share}");
        }
        let (a, b) = (whole.finish(), left.finish());
        for (k, m) in &a.values {
            assert!((m.value - b.values[k].value).abs() <= 1e-12 * m.value.abs().max(1.0), "{k}");
            assert!(m.standard_deviation.unwrap() > 0.0);
        }
    }
}
