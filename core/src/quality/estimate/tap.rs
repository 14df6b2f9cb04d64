//! The two taps of performance estimation, fed by the pass that profiles the inputs: the
//! baseline's labelled rows ([`Labelled`]), and a monitoring run's tallies of calibrated scores
//! for the run and each window ([`Estimating`]). Both keep their state per row group and fold
//! it in file and row-group order, so the figures do not depend on the threads.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use arrow_array::RecordBatch;

use super::multiclass::MRow;
use super::{EstimationModel, Realized, Row, Tally};
use crate::engine::tap::Windows;
use crate::engine::Tap;
use crate::error::{invalid, Opt, Result};
use crate::quality::join::{LateJoin, LateLabels, View};
use crate::quality::{QualitySettings, Value};
use crate::source::scan::ScannedFile;

/// How a row's prediction and label are read: the score columns (one, of the positive class; or
/// one per class of a multiclass model), the prediction (else the threshold), the label, and
/// the classes.
#[derive(Debug, Clone)]
struct Reading {
    /// The score columns.
    scores: Vec<String>,
    prediction: Option<String>,
    /// The label column, and whether every batch must hold it.
    label: Option<(String, bool)>,
    threshold: f64,
    positive: String,
    positive_number: Option<f64>,
    /// A multiclass model's classes, in the order of `scores`.
    classes: Vec<String>,
}

/// A batch as read: per row its scores (`k` a row, one after another), its predicted class
/// (binary: 1 positive, 0 negative; multiclass: the class's place, `None` for none of the
/// classes), whether it has its scores and prediction (`false`: one is null), and its label's
/// class when the label is read and not null.
#[derive(Debug, Default)]
pub(crate) struct Rows {
    k: usize,
    scores: Vec<f64>,
    predicted: Vec<Option<usize>>,
    read: Vec<bool>,
    actual: Vec<Option<usize>>,
}

impl Rows {
    fn len(&self) -> usize {
        self.read.len()
    }

    fn scores(&self, i: usize) -> &[f64] {
        &self.scores[i * self.k..(i + 1) * self.k]
    }

    /// Row `i`'s scores and predicted class, when read.
    fn reading(&self, i: usize) -> Option<(&[f64], Option<usize>)> {
        self.read[i].then(|| (self.scores(i), self.predicted[i]))
    }
}

impl Reading {
    /// `label`: whether the label column is read (`Some`), and must be there (`true`).
    fn of(s: &QualitySettings, label: Option<bool>) -> Result<Reading> {
        let (scores, classes): (Vec<String>, Vec<String>) = if s.class_probabilities.is_empty() {
            let Some(probability) = s.probability.clone() else {
                return Err(invalid(
                    Opt::EstimatePerformance,
                    "estimation calibrates the model's scores: give the probability column",
                ));
            };
            (vec![probability], Vec::new())
        } else {
            s.class_probabilities.iter().map(|(class, column)| (column.clone(), class.clone())).unzip()
        };
        Ok(Reading {
            scores,
            prediction: s.prediction.clone(),
            label: label.map(|required| (s.label.clone(), required)),
            threshold: s.threshold,
            positive: s.positive_label.trim().to_string(),
            positive_number: s.positive_label.trim().parse().ok(),
            classes,
        })
    }

    fn columns(&self) -> Vec<String> {
        let mut v = self.scores.clone();
        v.extend(self.prediction.clone());
        v.extend(self.label.as_ref().map(|l| l.0.clone()));
        v
    }

    /// The class of a label or prediction: binary 1 (positive) or 0; multiclass its place among
    /// the classes (`None`: none of them).
    fn class_of(&self, v: &Value) -> Option<usize> {
        if !self.classes.is_empty() {
            let c = v.class();
            return self.classes.iter().position(|k| *k == c);
        }
        let positive = match (v, self.positive_number) {
            (Value::Number(x), Some(p)) => *x == p,
            _ => v.class() == self.positive,
        };
        Some(usize::from(positive))
    }

    /// Each row as read (see [`Rows`]). A label outside a multiclass model's classes is an error
    /// where the label must be there (the baseline), and no label elsewhere.
    fn rows(&self, batch: &RecordBatch) -> std::result::Result<Rows, String> {
        let view = |name: &str, what: &str| -> std::result::Result<View, String> {
            match batch.schema().index_of(name) {
                Ok(i) => View::of(name, batch.column(i)).map_err(|e| e.to_string()),
                Err(_) => Err(format!("no column '{name}' ({what})")),
            }
        };
        let scores: Vec<View> =
            self.scores.iter().map(|c| view(c, "the probability")).collect::<std::result::Result<_, _>>()?;
        let pred = self.prediction.as_ref().map(|p| view(p, "the prediction")).transpose()?;
        let label = match &self.label {
            Some((l, required)) if *required || batch.schema().index_of(l).is_ok() => Some(view(l, "the label")?),
            _ => None,
        };
        let strict = matches!(self.label, Some((_, true)));
        let n = batch.num_rows();
        let k = scores.len();
        let mut out = Rows {
            k,
            scores: Vec::with_capacity(n * k),
            predicted: Vec::with_capacity(n),
            read: Vec::with_capacity(n),
            actual: Vec::with_capacity(n),
        };
        for i in 0..n {
            let actual = match label.as_ref().and_then(|l| l.get(i)) {
                Some(v) => match self.class_of(&v) {
                    Some(c) => Some(c),
                    None if strict => {
                        return Err(format!(
                            "label '{}' is not one of the classes ({})",
                            crate::quality::shown(&v.class()),
                            self.classes.join(", ")
                        ))
                    }
                    None => None,
                },
                None => None,
            };
            out.actual.push(actual);
            let mut read = true;
            for (column, v) in self.scores.iter().zip(&scores) {
                let Some(score) = v.get(i) else {
                    read = false;
                    out.scores.push(0.0);
                    continue;
                };
                let Some(score) = score.number().filter(|s| (0.0..=1.0).contains(s)) else {
                    return Err(format!(
                        "column '{column}': score {} is not a probability in [0, 1]",
                        crate::quality::shown(&score.class())
                    ));
                };
                out.scores.push(score);
            }
            let predicted = match &pred {
                Some(p) => match p.get(i) {
                    Some(v) => self.class_of(&v),
                    None => {
                        read = false;
                        None
                    }
                },
                None if self.classes.is_empty() => Some(usize::from(out.scores[i * k] >= self.threshold)),
                None => return Err("a multiclass model's estimation needs its prediction column".into()),
            };
            out.predicted.push(predicted);
            out.read.push(read);
        }
        Ok(out)
    }
}

/// A failure of a batch, kept until the tap is finished.
fn failed(file: &ScannedFile, why: &str) -> String {
    format!("{}: {why}", file.path.display())
}

/// The baseline's labelled rows, in file and row-group order.
pub struct Labelled {
    reading: Reading,
    /// Per row group: its rows, and those lacking a score, prediction or label.
    units: Mutex<BTreeMap<(usize, usize), LabelledPart>>,
}

/// A row group's labelled rows (as read, those lacking a score, prediction or label left out)
/// and how many lacked one, or why it could not be read.
type LabelledPart = std::result::Result<(Rows, u64), String>;

impl Labelled {
    /// The tap for `settings` (a binary problem with a probability column).
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] without a probability column.
    pub fn new(settings: &QualitySettings) -> Result<Labelled> {
        Ok(Labelled { reading: Reading::of(settings, Some(true))?, units: Mutex::new(BTreeMap::new()) })
    }

    /// A multiclass model's classes, in the order of its scores (empty for a binary model).
    pub fn classes(&self) -> &[String] {
        &self.reading.classes
    }

    /// The rows with a score, a prediction and a label, and how many lacked one (see
    /// [`binary_rows`] for a binary model's).
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] naming the file and column of a batch that could not be read.
    pub fn finish(&self) -> Result<(Labels, u64)> {
        let units = std::mem::take(&mut *self.units.lock().expect("estimation lock"));
        let mut rows = Labels::default();
        let mut missing = 0;
        for (_, part) in units {
            let (part, m) = part.map_err(|e| invalid(Opt::EstimatePerformance, e))?;
            rows.k = part.k;
            rows.scores.extend(part.scores);
            rows.predicted.extend(part.predicted);
            rows.actual.extend(part.actual.into_iter().flatten());
            missing += m;
        }
        Ok((rows, missing))
    }
}

impl Tap for Labelled {
    fn columns(&self, _file: &ScannedFile) -> Vec<String> {
        self.reading.columns()
    }

    fn batch(&self, unit: (usize, usize), file: &ScannedFile, batch: &RecordBatch) {
        let fed = self.reading.rows(batch).map_err(|e| failed(file, &e));
        let mut units = self.units.lock().expect("estimation lock");
        let part = units.entry(unit).or_insert_with(|| Ok((Rows::default(), 0)));
        match (fed, part) {
            (Ok(rows), Ok((kept, missing))) => {
                kept.k = rows.k;
                for i in 0..rows.len() {
                    match (rows.reading(i), rows.actual[i]) {
                        (Some((scores, predicted)), Some(actual)) => {
                            kept.scores.extend_from_slice(scores);
                            kept.predicted.push(predicted);
                            kept.read.push(true);
                            kept.actual.push(Some(actual));
                        }
                        _ => *missing += 1,
                    }
                }
            }
            (Err(e), part) => *part = Err(e),
            (Ok(_), Err(_)) => {}
        }
    }

    fn drop_file(&self, fi: usize) {
        self.units.lock().expect("estimation lock").retain(|(f, _), _| *f != fi);
    }

    fn reset(&self) {
        self.units.lock().expect("estimation lock").clear();
    }
}

/// The baseline's labelled rows, one after another: `k` scores each, the predicted class and
/// the label's class.
#[derive(Debug, Default)]
pub struct Labels {
    k: usize,
    scores: Vec<f64>,
    predicted: Vec<Option<usize>>,
    actual: Vec<usize>,
}

impl Labels {
    /// Rows held.
    pub fn len(&self) -> usize {
        self.actual.len()
    }

    /// No row held.
    pub fn is_empty(&self) -> bool {
        self.actual.is_empty()
    }

    /// A binary model's rows (class 1 the positive).
    pub fn binary(&self) -> Vec<Row> {
        (0..self.actual.len())
            .map(|i| Row {
                score: self.scores[i],
                actual: self.actual[i] == 1,
                predicted: self.predicted[i] == Some(1),
            })
            .collect()
    }

    /// A multiclass model's rows.
    pub fn multiclass(&self) -> Vec<MRow> {
        (0..self.actual.len())
            .map(|i| MRow {
                scores: self.scores[i * self.k..(i + 1) * self.k].to_vec(),
                actual: self.actual[i],
                predicted: self.predicted[i],
            })
            .collect()
    }
}

/// Per row group: the run's tally, each window's, their labelled rows where the inputs hold
/// labels, the rows seen so far, and a failure.
#[derive(Default)]
struct Part {
    whole: Tally,
    windows: BTreeMap<i64, Tally>,
    realized: Realized,
    realized_windows: BTreeMap<i64, Realized>,
    seen: u64,
    missing: u64,
    failure: Option<String>,
}

/// A monitoring run's tallies of calibrated scores.
pub struct Estimating {
    model: Arc<EstimationModel>,
    reading: Reading,
    windows: Option<Windows>,
    units: Mutex<BTreeMap<(usize, usize), Part>>,
    /// Labels that arrive apart, joined by the captures' id column, for the realized metrics.
    late: Option<LateJoin>,
}

/// The name of estimation's spilled rows beside spilled late labels.
pub const SPILL_SIDE: &str = "estimation";

/// A labelled row as spilled while it waits for its label: its window, predicted class and
/// scores.
struct Waiting {
    key: Option<i64>,
    predicted: Option<usize>,
    scores: Vec<f64>,
}

impl Waiting {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(17 + 8 * self.scores.len());
        match self.key {
            None => out.push(0),
            Some(k) => {
                out.push(1);
                out.extend_from_slice(&k.to_le_bytes());
            }
        }
        out.extend_from_slice(&self.predicted.map_or(u64::MAX, |p| p as u64).to_le_bytes());
        for x in &self.scores {
            out.extend_from_slice(&x.to_le_bytes());
        }
        out
    }

    /// The row [`Waiting::encode`] wrote; `None` for a damaged record.
    fn decode(b: &[u8]) -> Option<Waiting> {
        let word = |at: usize| -> Option<[u8; 8]> { b.get(at..at + 8)?.try_into().ok() };
        let (key, at) = match *b.first()? {
            0 => (None, 1),
            _ => (Some(i64::from_le_bytes(word(1)?)), 9),
        };
        let predicted = match u64::from_le_bytes(word(at)?) {
            u64::MAX => None,
            p => Some(p as usize),
        };
        let rest = b.get(at + 8..)?;
        if rest.len() % 8 != 0 {
            return None;
        }
        let scores = rest.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("eight bytes"))).collect();
        Some(Waiting { key, predicted, scores })
    }
}

/// What estimation counted: the run's tally, each window's (by start), the same of the rows
/// that hold a label, and rows without a score or prediction.
#[derive(Debug, Clone, Default)]
pub struct Tallies {
    /// Over every row.
    pub whole: Tally,
    /// Per window start (calendar) or index (rows).
    pub windows: BTreeMap<i64, Tally>,
    /// The rows with a label, over the run.
    pub realized: Realized,
    /// The rows with a label, per window.
    pub realized_windows: BTreeMap<i64, Realized>,
    /// Rows without a score or a prediction.
    pub missing: u64,
}

impl Estimating {
    /// The tap for `model` over the columns of `settings`, per window of `windows`.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] without a probability column.
    pub fn new(
        model: Arc<EstimationModel>,
        settings: &QualitySettings,
        windows: Option<Windows>,
    ) -> Result<Estimating> {
        let reading = Reading::of(settings, Some(false))?;
        Ok(Estimating { model, reading, windows, units: Mutex::new(BTreeMap::new()), late: None })
    }

    /// Takes the realized metrics' labels from `labels` (the ground truth's, arriving apart),
    /// joined by the captures' `id_column` (default: SageMaker's capture ids), for rows whose
    /// own label column is missing.
    pub fn join_labels(&mut self, labels: LateLabels, id_column: Option<String>) {
        self.late = Some(LateJoin::new(labels, id_column));
    }

    /// The model estimated with.
    pub fn model(&self) -> &EstimationModel {
        &self.model
    }

    /// A batch's part, and its rows that wait for spilled labels (id, record); `seen`: the
    /// unit's rows fed before it.
    fn feed(
        &self,
        unit: (usize, usize),
        file: &ScannedFile,
        batch: &RecordBatch,
        seen: u64,
    ) -> std::result::Result<(Part, crate::quality::join::WaitingRows), String> {
        let (mut part, mut spilled) = (Part::default(), Vec::new());
        let mut rows = self.reading.rows(batch)?;
        let waiting = self.join(file, batch, &mut rows)?;
        let keys = self.windows.as_ref().map(|w| w.keys(unit, batch, seen)).transpose()?.flatten();
        part.seen += rows.len() as u64;
        let multiclass = !self.model.classes.is_empty();
        for i in 0..rows.len() {
            let Some((scores, predicted)) = rows.reading(i) else {
                part.missing += 1;
                continue;
            };
            let key = keys.as_ref().and_then(|k| k[i]);
            let actual = rows.actual[i];
            if let Some(Some(id)) = waiting.as_ref().map(|w| &w[i]) {
                let row = Waiting { key, predicted, scores: scores.to_vec() };
                spilled.push((id.clone(), row.encode()));
            }
            if multiclass {
                let p = self.model.calibrate_classes(scores);
                part.whole.add_classes(scores, &p, predicted);
                if let Some(k) = key {
                    part.windows.entry(k).or_default().add_classes(scores, &p, predicted);
                }
                if let Some(a) = actual {
                    part.realized.add_classes(scores, a, predicted);
                    if let Some(k) = key {
                        part.realized_windows.entry(k).or_default().add_classes(scores, a, predicted);
                    }
                }
            } else {
                let (p, positive) = (self.model.calibrate(scores[0]), predicted == Some(1));
                part.whole.add(p, positive);
                if let Some(k) = key {
                    part.windows.entry(k).or_default().add(p, positive);
                }
                if let Some(a) = actual {
                    let row = Row { score: scores[0], actual: a == 1, predicted: positive };
                    part.realized.add(row);
                    if let Some(k) = key {
                        part.realized_windows.entry(k).or_default().add(row);
                    }
                }
            }
        }
        Ok((part, spilled))
    }

    /// Fills the rows' labels from the labels that arrive apart, joined by id, where the batch
    /// holds none; with spilled labels, returns each row's id instead (the row waits for its
    /// label in the spill).
    fn join(
        &self,
        file: &ScannedFile,
        batch: &RecordBatch,
        rows: &mut Rows,
    ) -> std::result::Result<Option<Vec<Option<String>>>, String> {
        let Some(late) = &self.late else { return Ok(None) };
        let ids = late.ids(file, batch)?;
        if late.spilled() {
            return Ok(Some(ids));
        }
        for (actual, id) in rows.actual.iter_mut().zip(&ids) {
            if actual.is_none() {
                *actual = id.as_deref().and_then(|id| late.value(id)).and_then(|v| self.reading.class_of(&v));
            }
        }
        Ok(None)
    }

    /// The tallies, folded in file and row-group order.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] naming the file and column of a batch that could not be read.
    pub fn finish(&self) -> Result<Tallies> {
        let units = std::mem::take(&mut *self.units.lock().expect("estimation lock"));
        let mut all = Part::default();
        for (_, part) in units {
            if let Some(f) = part.failure {
                return Err(invalid(Opt::EstimatePerformance, f));
            }
            all.merge(&part);
        }
        if let Some(late) = &self.late {
            let multiclass = !self.model.classes.is_empty();
            late.join(&mut |label, record| {
                let w = Waiting::decode(record).ok_or_else(crate::quality::join::damaged)?;
                let Some(actual) = self.reading.class_of(&label) else { return Ok(()) };
                let add = |r: &mut Realized| match multiclass {
                    true => r.add_classes(&w.scores, actual, w.predicted),
                    false => r.add(Row { score: w.scores[0], actual: actual == 1, predicted: w.predicted == Some(1) }),
                };
                add(&mut all.realized);
                if let Some(k) = w.key {
                    add(all.realized_windows.entry(k).or_default());
                }
                Ok(())
            })?;
        }
        let Part { whole, windows, realized, realized_windows, missing, .. } = all;
        Ok(Tallies { whole, windows, realized, realized_windows, missing })
    }
}

impl Part {
    /// Adds another part's rows (a batch's into its row group's, a row group's into the run's).
    fn merge(&mut self, p: &Part) {
        self.whole.merge(&p.whole);
        for (k, w) in &p.windows {
            self.windows.entry(*k).or_default().merge(w);
        }
        self.realized.merge(&p.realized);
        for (k, w) in &p.realized_windows {
            self.realized_windows.entry(*k).or_default().merge(w);
        }
        self.seen += p.seen;
        self.missing += p.missing;
    }
}

impl Tap for Estimating {
    fn columns(&self, _file: &ScannedFile) -> Vec<String> {
        let mut v = self.reading.columns();
        v.extend(self.windows.as_ref().and_then(Windows::column).map(str::to_string));
        v
    }

    fn batch(&self, unit: (usize, usize), file: &ScannedFile, batch: &RecordBatch) {
        // Batches of one row group come in order from one thread: its rows seen so far are
        // known before the batch is read, outside the lock.
        let seen = self.units.lock().expect("estimation lock").get(&unit).map_or(0, |p| p.seen);
        let fed = self.feed(unit, file, batch, seen).map(|(part, waiting)| {
            if let Some(late) = &self.late {
                late.wait(unit.0, waiting);
            }
            part
        });
        let mut units = self.units.lock().expect("estimation lock");
        let part = units.entry(unit).or_default();
        match fed {
            _ if part.failure.is_some() => {}
            Ok(p) => part.merge(&p),
            Err(e) => part.failure = Some(failed(file, &e)),
        }
    }

    fn drop_file(&self, fi: usize) {
        self.units.lock().expect("estimation lock").retain(|(f, _), _| *f != fi);
        if let Some(late) = &self.late {
            late.drop_file(fi);
        }
    }

    fn reset(&self) {
        self.units.lock().expect("estimation lock").clear();
        if let Some(late) = &self.late {
            late.reset();
        }
    }
}
