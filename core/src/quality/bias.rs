//! Bias metrics read in the pass that profiles the inputs: Clarify's analysis configuration, and
//! a [`Tap`] that counts each facet split ([`crate::judge::bias::FacetCounts`]) for the whole run
//! and per calendar window.
//!
//! The configuration is Clarify's own analysis configuration JSON, so a user's file works as it
//! is: `label`, `label_values_or_threshold`, `facet` (`name_or_index`, `value_or_threshold`),
//! `group_variable`, `probability_threshold`, and the prediction: `predicted_label` (a column
//! holding predicted labels) or `predictor.label` / `predictor.probability` (columns of the
//! captures). As smclarify reads them, a facet or label of floating-point numbers with one
//! value is split at that threshold (the rows above it are the sensitive facet, or the positive
//! labels); otherwise its values are the sensitive (positive) ones, compared as text, or as
//! numbers when both read as numbers. A prediction from a probability is positive above
//! `probability_threshold` (0.5 by default). Rows whose facet or label is null are left out.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use serde::Deserialize;
use serde_json::Value;

use crate::engine::window::Window;
use crate::engine::Tap;
use crate::error::{Error, Opt, Result};
use crate::judge::bias::FacetCounts;
use crate::quality::join::LateJoin;
use crate::source::scan::{Scan, ScannedFile};

/// Clarify's analysis configuration, as far as bias goes.
#[derive(Debug, Clone, Deserialize)]
pub struct BiasConfig {
    /// The label column.
    pub label: Value,
    /// The positive label values, or one threshold.
    pub label_values_or_threshold: Vec<Value>,
    /// The facets.
    pub facet: Vec<FacetConfig>,
    /// The group variable of the conditional demographic disparities.
    #[serde(default)]
    pub group_variable: Option<Value>,
    /// A probability above this predicts the positive label.
    #[serde(default)]
    pub probability_threshold: Option<f64>,
    /// A column of predicted labels.
    #[serde(default)]
    pub predicted_label: Option<Value>,
    /// The model's output columns.
    #[serde(default)]
    pub predictor: Option<Predictor>,
}

/// One facet.
#[derive(Debug, Clone, Deserialize)]
pub struct FacetConfig {
    /// The facet column.
    pub name_or_index: Value,
    /// Its sensitive values, or one threshold.
    #[serde(default)]
    pub value_or_threshold: Option<Vec<Value>>,
}

/// Where the model's outputs are.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Predictor {
    /// The predicted label's column.
    #[serde(default)]
    pub label: Option<Value>,
    /// The probability's column.
    #[serde(default)]
    pub probability: Option<Value>,
}

/// How a column's values are split into positive (sensitive) and not.
#[derive(Debug, Clone, PartialEq)]
pub enum Split {
    /// Values above the threshold.
    Above(f64),
    /// These values, each with the number it reads as (when it does).
    Values(Vec<(String, Option<f64>)>),
    /// Each value against the rest, one report per value (a facet without
    /// `value_or_threshold`, as Clarify reads one).
    EachValue,
}

/// The most values a facet without `value_or_threshold` may hold (one report per value).
pub const MAX_FACET_VALUES: usize = 1000;

/// Counts of one facet: for a facet split one way, under the key `""`; for
/// [`Split::EachValue`], per value, each cell holding its rows as the sensitive side.
pub type Cells = BTreeMap<String, FacetCounts>;

impl Split {
    fn of(column: &str, t: &DataType, values: &[Value]) -> Result<Split> {
        let number = |v: &Value| v.as_f64().or_else(|| v.as_str().and_then(|s| s.parse().ok()));
        if values.is_empty() {
            return Err(crate::error::invalid(Opt::BiasConfig, format!("'{column}': no value or threshold given")));
        }
        if matches!(t, DataType::Float16 | DataType::Float32 | DataType::Float64) && values.len() == 1 {
            if let Some(x) = number(&values[0]) {
                return Ok(Split::Above(x));
            }
        }
        let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
        Ok(Split::Values(values.iter().map(|v| (text(v), number(v))).collect()))
    }

    /// The text Clarify writes for the split (`value_or_threshold`).
    pub fn text(&self) -> String {
        match self {
            Split::Above(x) => format!("({x}, ∞)"),
            Split::Values(v) => v.iter().map(|(w, _)| w.as_str()).collect::<Vec<_>>().join(","),
            Split::EachValue => String::new(),
        }
    }

    /// Whether a row is on the positive (sensitive) side: its text is one of the values, or
    /// its number (the column's, or its text read as one) equals one's or is above the
    /// threshold.
    fn positive(&self, text: Option<&str>, number: Option<f64>) -> bool {
        match self {
            Split::EachValue => true,
            Split::Above(t) => number.is_some_and(|x| x > *t),
            Split::Values(v) => {
                v.iter().any(|(w, x)| Some(w.as_str()) == text || x.zip(number).is_some_and(|(a, b)| a == b))
            }
        }
    }

    /// Whether [`Split::positive`] reads the rows' numbers.
    fn needs_numbers(&self) -> bool {
        match self {
            Split::EachValue => false,
            Split::Above(_) => true,
            Split::Values(v) => v.iter().any(|(_, x)| x.is_some()),
        }
    }
}

/// The prediction: a predicted label split as the label is, or a probability at a threshold.
#[derive(Debug, Clone, PartialEq)]
enum Prediction {
    Label(String),
    Probability(String, f64),
}

/// The configuration resolved against the inputs' columns.
#[derive(Debug, Clone)]
pub struct BiasPlan {
    /// The label column and its split.
    pub label: (String, Split),
    /// Each facet column and its split.
    pub facets: Vec<(String, Split)>,
    group: Option<String>,
    prediction: Option<Prediction>,
}

fn column_name(v: &Value, what: &str) -> Result<String> {
    v.as_str().map(str::to_string).ok_or_else(|| {
        crate::error::invalid(
            Opt::BiasConfig,
            format!("{what}: {v} is not a column name (columns are named, not numbered, here)"),
        )
    })
}

impl BiasPlan {
    /// Reads Clarify's configuration at `path` and resolves it against `scan`'s columns; with
    /// late labels (`truth`, the ground truth's files), the label's type is the ground truth's
    /// (text in SageMaker's ground-truth JSON Lines).
    ///
    /// # Errors
    /// [`Error::Input`] naming the file when it is not such a configuration;
    /// [`Error::Invalid`] when a column it names is not in the inputs, or a facet has no value.
    pub fn load(path: &Path, scan: &Scan, truth: Option<&[ScannedFile]>) -> Result<BiasPlan> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::input(path, crate::error::one_line(e)))?;
        let c: BiasConfig = serde_json::from_str(&text).map_err(|e| {
            Error::input(path, format!("not a Clarify analysis configuration: {}", crate::error::one_line(e)))
        })?;
        let type_of = |name: &str| -> Result<DataType> {
            scan.columns.iter().find(|u| u.name == name).map(|u| u.data_type.clone()).ok_or_else(|| {
                crate::error::invalid(Opt::BiasConfig, format!("{}: no column '{name}' in the inputs", path.display()))
            })
        };
        let label = column_name(&c.label, "label")?;
        let label_type = match truth {
            Some(t) => t
                .iter()
                .find_map(|f| f.schema().field_with_name(&label).ok().map(|x| x.data_type().clone()))
                .unwrap_or(DataType::Utf8),
            None => type_of(&label)?,
        };
        let label_split = Split::of(&label, &label_type, &c.label_values_or_threshold)?;
        if c.facet.is_empty() {
            return Err(crate::error::invalid(Opt::BiasConfig, format!("{}: no facet", path.display())));
        }
        let mut facets = Vec::new();
        for f in &c.facet {
            let name = column_name(&f.name_or_index, "facet")?;
            let split = match &f.value_or_threshold {
                Some(values) => Split::of(&name, &type_of(&name)?, values)?,
                None => {
                    type_of(&name)?;
                    Split::EachValue
                }
            };
            facets.push((name.clone(), split));
        }
        let group = c.group_variable.as_ref().map(|g| column_name(g, "group_variable")).transpose()?;
        if let Some(g) = &group {
            type_of(g)?;
        }
        let p = c.predictor.clone().unwrap_or_default();
        let prediction = match (c.predicted_label.as_ref().or(p.label.as_ref()), p.probability.as_ref()) {
            (Some(l), _) => Some(Prediction::Label(column_name(l, "predicted_label")?)),
            (None, Some(q)) => {
                Some(Prediction::Probability(column_name(q, "probability")?, c.probability_threshold.unwrap_or(0.5)))
            }
            (None, None) => None,
        };
        if let Some(Prediction::Label(n) | Prediction::Probability(n, _)) = &prediction {
            type_of(n)?;
        }
        Ok(BiasPlan { label: (label, label_split), facets, group, prediction })
    }

    /// Whether the post-training metrics are computed (a prediction is configured).
    pub fn post_training(&self) -> bool {
        self.prediction.is_some()
    }

    /// The columns the tap reads.
    fn columns(&self) -> Vec<String> {
        // The label too (with late labels the captures may lack it: a file's missing columns are
        // left out of its read).
        let mut v: Vec<String> = vec![self.label.0.clone()];
        v.extend(self.facets.iter().map(|f| f.0.clone()));
        v.extend(self.group.clone());
        match &self.prediction {
            Some(Prediction::Label(n) | Prediction::Probability(n, _)) => v.push(n.clone()),
            None => {}
        }
        v.dedup();
        v
    }
}

/// A column's values as text and, when the split reads them, as numbers (text read as a number
/// where it is one).
struct Values {
    text: Text,
    number: Option<Vec<Option<f64>>>,
}

/// The text of a column's rows: the batch's own array cast to text, or late labels by id.
enum Text {
    Array(arrow_array::StringArray),
    Owned(Vec<Option<String>>),
}

impl Values {
    fn text(&self, row: usize) -> Option<&str> {
        match &self.text {
            Text::Array(a) => a.is_valid(row).then(|| a.value(row)),
            Text::Owned(v) => v[row].as_deref(),
        }
    }
    fn number(&self, row: usize) -> Option<f64> {
        self.number.as_ref().and_then(|n| n[row])
    }
}

/// Column `name` of `batch` (`None` when the batch lacks it), with its numbers when `numbers`.
fn values_of(batch: &RecordBatch, name: &str, numbers: bool) -> std::result::Result<Option<Values>, String> {
    let Ok(i) = batch.schema().index_of(name) else { return Ok(None) };
    let a = batch.column(i);
    let text =
        arrow_cast::cast(a, &DataType::Utf8).map_err(|e| format!("column '{name}': {}", crate::error::one_line(e)))?;
    let text = text.as_any().downcast_ref::<arrow_array::StringArray>().expect("cast to text").clone();
    // Text is read as numbers by the cast itself (a value that is not one is null).
    let number = numbers.then(|| {
        arrow_cast::cast_with_options(
            a,
            &DataType::Float64,
            &arrow_cast::CastOptions { safe: true, ..Default::default() },
        )
        .ok()
        .and_then(|n| n.as_any().downcast_ref::<arrow_array::Float64Array>().map(|f| f.iter().collect()))
        .unwrap_or_else(|| vec![None; a.len()])
    });
    Ok(Some(Values { text: Text::Array(text), number }))
}

/// Per facet: the whole run's counts and each window's.
#[derive(Default)]
struct Part {
    whole: Vec<Cells>,
    windows: BTreeMap<i64, Vec<Cells>>,
    failure: Option<String>,
}

/// The name of the bias metrics' spilled rows beside spilled late labels.
pub const SPILL_SIDE: &str = "bias";

/// Each row's label: its own or joined by id from labels in memory (`Values`), or, for labels
/// spilled to disk, the row's id (the row is spilled beside them and counted at the end).
enum RowLabels {
    Values(Values),
    Ids(Vec<Option<String>>),
}

/// One row's facet cells: per facet, its key (the value, for a facet reported by value; `""`
/// otherwise) and whether it is on the sensitive side; `None` where the facet is null.
type RowCells<'a> = Vec<Option<(&'a str, bool)>>;

/// What the counts of a row need besides its label.
struct Row<'a> {
    prediction: Option<bool>,
    group: Option<&'a str>,
    window: Option<i64>,
    cells: RowCells<'a>,
}

/// Appends a length-prefixed text to a spilled row's record.
fn put_text(out: &mut Vec<u8>, t: &str) {
    out.extend_from_slice(&(t.len() as u32).to_le_bytes());
    out.extend_from_slice(t.as_bytes());
}

impl<'a> Row<'a> {
    /// The record a spilled row keeps: the prediction, window, group and cells.
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(24);
        out.push(match self.prediction {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        });
        match self.window {
            None => out.push(0),
            Some(w) => {
                out.push(1);
                out.extend_from_slice(&w.to_le_bytes());
            }
        }
        match self.group {
            None => out.push(0),
            Some(g) => {
                out.push(1);
                put_text(&mut out, g);
            }
        }
        for c in &self.cells {
            match c {
                None => out.push(0),
                Some((key, sensitive)) => {
                    out.push(1 + u8::from(*sensitive));
                    put_text(&mut out, key);
                }
            }
        }
        out
    }

    /// The row [`Row::encode`] wrote; `None` for a damaged record.
    fn decode(b: &'a [u8], facets: usize) -> Option<Row<'a>> {
        let mut at = 0usize;
        let mut take = |n: usize| -> Option<&'a [u8]> {
            let s = b.get(at..at + n)?;
            at += n;
            Some(s)
        };
        let prediction = match take(1)?[0] {
            0 => None,
            p => Some(p == 2),
        };
        let window = match take(1)?[0] {
            0 => None,
            _ => Some(i64::from_le_bytes(take(8)?.try_into().ok()?)),
        };
        let text = |take: &mut dyn FnMut(usize) -> Option<&'a [u8]>| -> Option<&'a str> {
            let n = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
            std::str::from_utf8(take(n)?).ok()
        };
        let group = match take(1)?[0] {
            0 => None,
            _ => Some(text(&mut take)?),
        };
        let mut cells = Vec::with_capacity(facets);
        for _ in 0..facets {
            cells.push(match take(1)?[0] {
                0 => None,
                s => Some((text(&mut take)?, s == 2)),
            });
        }
        Some(Row { prediction, group, window, cells })
    }
}

/// The tap.
pub struct BiasTap {
    plan: BiasPlan,
    window: Option<(String, Window)>,
    truth: Option<LateJoin>,
    units: Mutex<BTreeMap<(usize, usize), Part>>,
}

/// The counts of a run: per facet (in the plan's order), the whole and per window start.
#[derive(Debug, Clone, Default)]
pub struct BiasCounts {
    /// Over every row.
    pub whole: Vec<Cells>,
    /// Per window start.
    pub windows: BTreeMap<i64, Vec<Cells>>,
}

impl BiasTap {
    /// A tap for `plan`, keyed by `window`'s calendar windows when given, its labels from the
    /// rows or, late, from `truth`.
    pub fn new(plan: BiasPlan, window: Option<(&str, Window)>, truth: Option<LateJoin>) -> BiasTap {
        BiasTap { plan, window: window.map(|(c, w)| (c.to_string(), w)), truth, units: Mutex::new(BTreeMap::new()) }
    }

    /// The plan.
    pub fn plan(&self) -> &BiasPlan {
        &self.plan
    }

    /// Whether the late labels were spilled to disk (past the join's memory limit).
    pub fn spilled(&self) -> bool {
        self.truth.as_ref().is_some_and(LateJoin::spilled)
    }

    fn empty(&self) -> Vec<Cells> {
        vec![Cells::new(); self.plan.facets.len()]
    }

    /// Each row's label (text and number): the row's own, or the ground truth's by its id; for
    /// spilled labels, the rows' ids.
    fn labels(&self, file: &ScannedFile, batch: &RecordBatch) -> std::result::Result<Option<RowLabels>, String> {
        let numbers = self.plan.label.1.needs_numbers();
        let Some(t) = &self.truth else {
            return Ok(values_of(batch, &self.plan.label.0, numbers)?.map(RowLabels::Values));
        };
        let ids = t.ids(file, batch)?;
        if t.spilled() {
            return Ok(Some(RowLabels::Ids(ids)));
        }
        let text: Vec<Option<String>> =
            ids.iter().map(|id| id.as_deref().and_then(|id| t.value(id)).map(|v| v.class())).collect();
        let number = numbers.then(|| text.iter().map(|t| t.as_ref().and_then(|t| t.trim().parse().ok())).collect());
        Ok(Some(RowLabels::Values(Values { text: Text::Owned(text), number })))
    }

    /// Counts the rows of `batch` whose label is known; with spilled labels, returns the rows
    /// to spill instead (id, record).
    fn feed(&self, file: &ScannedFile, batch: &RecordBatch) -> std::result::Result<Fed, String> {
        let mut part = Part { whole: self.empty(), ..Part::default() };
        let mut spilled = Vec::new();
        let Some(mut label) = self.labels(file, batch)? else { return Ok((part, spilled)) };
        let facets: Vec<Option<Values>> = self
            .plan
            .facets
            .iter()
            .map(|(name, split)| values_of(batch, name, split.needs_numbers()))
            .collect::<std::result::Result<_, _>>()?;
        let group = match &self.plan.group {
            Some(g) => values_of(batch, g, false)?,
            None => None,
        };
        let predicted = match &self.plan.prediction {
            Some(Prediction::Label(n)) => values_of(batch, n, self.plan.label.1.needs_numbers())?,
            Some(Prediction::Probability(n, _)) => values_of(batch, n, true)?,
            None => None,
        };
        let starts = match &self.window {
            Some(w) => crate::engine::window::row_starts(batch, w).map_err(|e| e.to_string())?,
            None => None,
        };
        let mut spare: RowCells = Vec::with_capacity(facets.len());
        for row in 0..batch.num_rows() {
            let (positive, id) = match &mut label {
                RowLabels::Values(v) => {
                    let Some(label_text) = v.text(row) else { continue };
                    (Some(self.plan.label.1.positive(Some(label_text), v.number(row))), None)
                }
                RowLabels::Ids(ids) => match ids[row].take() {
                    Some(id) => (None, Some(id)),
                    None => continue,
                },
            };
            let prediction = match (&self.plan.prediction, &predicted) {
                (Some(Prediction::Label(_)), Some(p)) => {
                    p.text(row).map(|t| self.plan.label.1.positive(Some(t), p.number(row)))
                }
                // A probability that is not a finite number is no prediction.
                (Some(Prediction::Probability(_, t)), Some(p)) => {
                    p.number(row).filter(|x| x.is_finite()).map(|x| x > *t)
                }
                _ => None,
            };
            if self.plan.post_training() && prediction.is_none() {
                continue;
            }
            // One list of cells for every row of the batch, not one allocation a row.
            let mut cells = std::mem::take(&mut spare);
            cells.clear();
            cells.extend(facets.iter().zip(&self.plan.facets).map(|(f, (_, split))| {
                let f = f.as_ref()?;
                let text = f.text(row)?;
                let key = if matches!(split, Split::EachValue) { text } else { "" };
                Some((key, split.positive(Some(text), f.number(row))))
            }));
            let r = Row {
                prediction,
                group: group.as_ref().and_then(|g| g.text(row)),
                window: starts.as_ref().and_then(|s| s[row]),
                cells,
            };
            match (positive, id) {
                (Some(p), _) => self.count(&mut part, p, &r)?,
                (None, Some(id)) => spilled.push((id, r.encode())),
                (None, None) => {}
            }
            spare = r.cells;
        }
        Ok((part, spilled))
    }

    /// Counts a row whose label is `positive` or not, in the whole run and its window.
    fn count(&self, part: &mut Part, positive: bool, r: &Row) -> std::result::Result<(), String> {
        let post = self.plan.post_training();
        for (k, (cell, (name, _))) in r.cells.iter().zip(&self.plan.facets).enumerate() {
            let Some((key, sensitive)) = *cell else { continue };
            let add = |cells: &mut Cells| {
                if let Some(c) = cells.get_mut(key) {
                    c.add(sensitive, positive, r.prediction, r.group);
                    return Ok(());
                }
                if cells.len() >= MAX_FACET_VALUES {
                    return Err(format!(
                        "facet '{name}' holds more than {MAX_FACET_VALUES} values: give its value_or_threshold"
                    ));
                }
                cells.entry(key.to_string()).or_insert_with(|| FacetCounts::new(post)).add(
                    sensitive,
                    positive,
                    r.prediction,
                    r.group,
                );
                Ok(())
            };
            add(&mut part.whole[k])?;
            if let Some(w) = r.window {
                let n = self.plan.facets.len();
                add(&mut part.windows.entry(w).or_insert_with(|| vec![Cells::new(); n])[k])?;
            }
        }
        Ok(())
    }

    /// The counts of the rows fed, folded in file and row-group order; with spilled labels,
    /// the spilled rows joined with them a partition at a time.
    ///
    /// # Errors
    /// [`Error::Invalid`] when a batch could not be read (its message names the column);
    /// [`Error::Output`] when a spill file could not be written or read.
    pub fn finish(&self) -> Result<BiasCounts> {
        let units = std::mem::take(&mut *self.units.lock().expect("bias lock"));
        let mut out = BiasCounts { whole: self.empty(), windows: BTreeMap::new() };
        for (_, part) in units {
            if let Some(f) = part.failure {
                return Err(crate::error::invalid(Opt::BiasConfig, f));
            }
            out.absorb(&part, self.plan.facets.len());
        }
        if let Some(t) = &self.truth {
            let mut part = Part { whole: self.empty(), ..Part::default() };
            let facets = self.plan.facets.len();
            t.join(&mut |label, record| {
                let row = Row::decode(record, facets).ok_or_else(crate::quality::join::damaged)?;
                let label = label.class();
                let positive = self.plan.label.1.positive(Some(&label), label.trim().parse().ok());
                self.count(&mut part, positive, &row).map_err(|e| crate::error::invalid(Opt::BiasConfig, e))
            })?;
            out.absorb(&part, facets);
        }
        Ok(out)
    }
}

impl BiasCounts {
    /// Adds a part's counts.
    fn absorb(&mut self, part: &Part, facets: usize) {
        merge(&mut self.whole, &part.whole);
        for (w, c) in &part.windows {
            merge(self.windows.entry(*w).or_insert_with(|| vec![Cells::new(); facets]), c);
        }
    }
}

/// A batch's counts, and its rows to spill (id, record) when the labels are spilled.
type Fed = (Part, crate::quality::join::WaitingRows);

fn merge(into: &mut [Cells], from: &[Cells]) {
    for (a, b) in into.iter_mut().zip(from) {
        for (k, c) in b {
            match a.get_mut(k) {
                Some(x) => x.merge(c),
                None => {
                    a.insert(k.clone(), c.clone());
                }
            }
        }
    }
}

/// One value of a facet reported by value against the rest: its cell's rows are the sensitive
/// side, every other cell's the rest.
fn one_vs_rest(cells: &Cells, value: &str, post: bool) -> FacetCounts {
    let mut out = FacetCounts::new(post);
    for (k, c) in cells {
        // Every cell holds its rows on the sensitive side.
        let mut c = c.clone();
        if k != value {
            std::mem::swap(&mut c.a, &mut c.d);
            for g in c.groups.values_mut() {
                for kind in &mut g.kinds {
                    kind.1 = 0;
                    kind.3 = 0;
                }
            }
        }
        out.merge(&c);
    }
    out
}

impl Tap for BiasTap {
    fn columns(&self, file: &ScannedFile) -> Vec<String> {
        let mut v = self.plan.columns();
        v.extend(self.window.as_ref().map(|w| w.0.clone()));
        if let Some(t) = &self.truth {
            v.extend(t.id_columns(file));
        }
        v
    }

    fn batch(&self, unit: (usize, usize), file: &ScannedFile, batch: &RecordBatch) {
        let fed = self.feed(file, batch).map(|(part, waiting)| {
            if let Some(t) = &self.truth {
                t.wait(unit.0, waiting);
            }
            part
        });
        let mut units = self.units.lock().expect("bias lock");
        let part = units.entry(unit).or_insert_with(|| Part { whole: self.empty(), ..Part::default() });
        match fed {
            Ok(p) => {
                merge(&mut part.whole, &p.whole);
                for (w, c) in &p.windows {
                    merge(part.windows.entry(*w).or_insert_with(|| self.empty()), c);
                }
            }
            Err(e) => part.failure = part.failure.take().or(Some(e)),
        }
    }

    fn drop_file(&self, fi: usize) {
        self.units.lock().expect("bias lock").retain(|(f, _), _| *f != fi);
        if let Some(t) = &self.truth {
            t.drop_file(fi);
        }
    }

    fn reset(&self) {
        self.units.lock().expect("bias lock").clear();
        if let Some(t) = &self.truth {
            t.reset();
        }
    }
}

/// Each facet split of `counts`: (facet, value or threshold text, counts); a facet reported by
/// value gives one per value.
fn splits(plan: &BiasPlan, counts: &[Cells]) -> Vec<(String, String, FacetCounts)> {
    let post = plan.post_training();
    let mut out = Vec::new();
    for ((name, split), cells) in plan.facets.iter().zip(counts) {
        match split {
            Split::EachValue => {
                out.extend(cells.keys().map(|v| (name.clone(), v.clone(), one_vs_rest(cells, v, post))));
            }
            _ => {
                out.push((name.clone(), split.text(), cells.get("").cloned().unwrap_or_else(|| FacetCounts::new(post))))
            }
        }
    }
    out
}

/// The sampling noise of every metric of `counts` ([`crate::judge::bias::standard_errors`]), by
/// (facet, value or threshold, metric).
pub fn noise(plan: &BiasPlan, counts: &[Cells]) -> crate::judge::bias::Noise {
    let mut out = BTreeMap::new();
    for (facet, text, c) in splits(plan, counts) {
        for (metric, se) in crate::judge::bias::standard_errors(&c) {
            out.insert((facet.clone(), text.clone(), metric.to_string()), se);
        }
    }
    out
}

/// Clarify's bias `analysis.json` of `counts` (one entry per facet of `plan`; a facet reported
/// by value, one per value).
pub fn analysis(plan: &BiasPlan, counts: &[Cells]) -> crate::judge::bias::BiasAnalysis {
    use crate::judge::bias::{metrics, BiasAnalysis, FacetEntry, MetricEntry, StageMetrics, PRE_TRAINING};
    let stage = |pre: bool| StageMetrics {
        label: plan.label.0.clone(),
        label_value_or_threshold: plan.label.1.text(),
        facets: splits(plan, counts).into_iter().fold(
            BTreeMap::new(),
            |mut m: BTreeMap<String, Vec<FacetEntry>>, (name, text, c)| {
                let entries = metrics(&c)
                    .iter()
                    .filter(|(k, _)| PRE_TRAINING.contains(k) == pre)
                    .map(|(k, v)| MetricEntry::of(k, v))
                    .collect();
                m.entry(name).or_default().push(FacetEntry { value_or_threshold: text, metrics: entries });
                m
            },
        ),
    };
    BiasAnalysis {
        version: "1.0".into(),
        pre_training_bias_metrics: Some(stage(true)),
        post_training_bias_metrics: plan.post_training().then(|| stage(false)),
        extra: BTreeMap::new(),
    }
}
