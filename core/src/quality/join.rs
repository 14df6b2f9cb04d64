//! Scoring the inputs' predictions: read from the same rows as their labels, or joined with
//! labels that arrive later in other files.
//!
//! **One pass.** A [`Scoring`] reads the labels first, then takes the prediction rows batch by
//! batch as the engine's [`Tap`], in the pass that profiles them; when that pass did not see
//! every row of the files it kept (a file left out part-way, files taken from a checkpoint), the
//! kept files are scored on their own instead ([`crate::quality::run::finish_pass`]), so that the
//! outcome is always that of exactly the files profiled.
//!
//! **The join.** Predictions meet labels by id: for SageMaker captures and ground truth the
//! record's `inferenceId` when it has one and its `eventId` otherwise (SageMaker's rule), for
//! Parquet and CSV the `--id-column`. Labels may be in any file, in any order. A label id seen
//! twice keeps its first label (the repeats are counted); every prediction row with a labelled id
//! is scored, so a repeated prediction id counts each time.
//!
//! **Memory.** The labels are held in a hash table, about 64 bytes plus the id's length per label
//! (the estimate is reported). When the table would pass the memory limit, the labels read so far
//! and the rest of them, then the predictions, are spilled by a hash of the id into
//! [`SPILL_PARTITIONS`] partition files in the output folder, and each partition is joined in
//! turn: memory is then the limit divided among the partitions. The spill files are removed when
//! the join ends.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray};
use arrow_schema::DataType;
use rayon::prelude::*;
use serde::Serialize;

use super::{key_of, Accumulator, QualityError, QualityMetrics, QualitySettings, Value};
use crate::engine::window::Window;
use crate::engine::Tap;
use crate::error::{Error, Result};
use crate::source::decode::for_each_batch;
use crate::source::scan::ScannedFile;

/// Partition files a spilled join writes per side.
pub const SPILL_PARTITIONS: usize = 64;
/// Bytes a label takes in the hash table besides its id's text.
const LABEL_OVERHEAD: u64 = 64;
/// Default memory limit of the label table.
pub const DEFAULT_JOIN_MEMORY: u64 = 2 << 30;

/// The capture metadata columns that identify a record, in SageMaker's order of preference.
pub const CAPTURE_IDS: [&str; 2] = ["eventMetadata.inferenceId", "eventMetadata.eventId"];

/// What to score and where the labels are.
#[derive(Debug, Clone)]
pub struct QualityRequest<'a> {
    /// Problem type and columns.
    pub settings: &'a QualitySettings,
    /// Files with the predictions (and the labels, when there is no ground truth).
    pub predictions: &'a [ScannedFile],
    /// Files with the labels, joined by id; `None`: the labels are in the prediction rows.
    pub ground_truth: Option<&'a [ScannedFile]>,
    /// The id column of Parquet and CSV inputs.
    pub id_column: Option<&'a str>,
    /// Most bytes the label table may take before the join spills.
    pub memory_limit: u64,
    /// Folder for spill files.
    pub spill_dir: &'a Path,
    /// Also score each calendar window of this time column.
    pub window: Option<(&'a str, Window)>,
}

/// One window's model quality.
#[derive(Debug, Clone, Serialize)]
pub struct WindowQuality {
    /// Start, milliseconds since the epoch (UTC).
    pub start: i64,
    /// End (the next window's start).
    pub end: i64,
    /// The metrics of the window's scored rows.
    pub metrics: QualityMetrics,
}

/// What scoring found.
#[derive(Debug, Clone, Serialize)]
pub struct QualityOutcome {
    /// The metrics of the scored rows.
    pub metrics: QualityMetrics,
    /// Prediction rows read.
    pub prediction_rows: u64,
    /// Rows scored.
    pub scored_rows: u64,
    /// Prediction rows left out for a null label, prediction, probability or id.
    pub null_rows: u64,
    /// Prediction rows whose id has no label (join only).
    pub unmatched_predictions: u64,
    /// Labels whose id has no prediction (join only).
    pub unmatched_labels: u64,
    /// Labels whose id was already labelled; the first label is kept (join only).
    pub duplicate_labels: u64,
    /// Estimated bytes of the label table (join only).
    pub join_memory_bytes: u64,
    /// Partitions the join spilled to disk; 0 when it ran in memory.
    pub spilled_partitions: usize,
    /// Per window, in time order, when windows were asked for (written to
    /// `model_quality/windows.csv`, not to `drift.json`).
    #[serde(skip)]
    pub windows: Vec<WindowQuality>,
    /// Scored rows without a time, in no window.
    pub untimed_rows: u64,
}

/// A column's values as the scorer reads them.
pub(crate) enum View {
    Number(Float64Array),
    Text(StringArray),
    Bool(BooleanArray),
}

impl View {
    pub(crate) fn of(column: &str, a: &ArrayRef) -> std::result::Result<View, QualityError> {
        let cast = |to: &DataType| {
            arrow_cast::cast(a, to).map_err(|source| QualityError::Column { column: column.to_string(), source })
        };
        Ok(match a.data_type() {
            DataType::Boolean => View::Bool(a.as_boolean().clone()),
            t if t.is_numeric() => View::Number(cast(&DataType::Float64)?.as_primitive().clone()),
            _ => View::Text(cast(&DataType::Utf8)?.as_string::<i32>().clone()),
        })
    }
    pub(crate) fn get(&self, i: usize) -> Option<Value<'_>> {
        match self {
            View::Number(a) => a.is_valid(i).then(|| Value::Number(a.value(i))),
            View::Text(a) => a.is_valid(i).then(|| Value::Text(a.value(i))),
            View::Bool(a) => a.is_valid(i).then(|| Value::Bool(a.value(i))),
        }
    }
}

/// An owned label or prediction, as held in the table and spill files.
#[derive(Debug, Clone, PartialEq)]
enum Owned {
    Number(f64),
    Text(String),
    Bool(bool),
}

impl Owned {
    fn of(v: Value) -> Owned {
        match v {
            Value::Number(x) => Owned::Number(x),
            Value::Text(s) => Owned::Text(s.to_string()),
            Value::Bool(b) => Owned::Bool(b),
        }
    }
    fn value(&self) -> Value<'_> {
        match self {
            Owned::Number(x) => Value::Number(*x),
            Owned::Text(s) => Value::Text(s),
            Owned::Bool(b) => Value::Bool(*b),
        }
    }
    fn bytes(&self) -> u64 {
        match self {
            Owned::Text(s) => s.len() as u64,
            _ => 0,
        }
    }
}

fn col_index(batch: &RecordBatch, name: &str) -> Option<usize> {
    batch.schema().index_of(name).ok()
}

/// Views of the id columns a batch has, in the order of `names` (SageMaker's preference).
fn id_views(batch: &RecordBatch, names: &[String]) -> std::result::Result<Vec<View>, QualityError> {
    names.iter().filter_map(|n| col_index(batch, n).map(|c| View::of(n, batch.column(c)))).collect()
}

/// The id of row `i`: the first non-null of the id columns.
fn id_at<'a>(ids: &'a [View], i: usize) -> Option<std::borrow::Cow<'a, str>> {
    ids.iter().find_map(|v| match v.get(i)? {
        Value::Text(s) => Some(std::borrow::Cow::Borrowed(s)),
        other => Some(std::borrow::Cow::Owned(other.class())),
    })
}

/// The id columns of a file: `--id-column` when given and present, else the capture ids it has.
pub fn id_columns(file: &ScannedFile, id_column: Option<&str>) -> Vec<String> {
    let names: Vec<&str> = file.schema().fields().iter().map(|f| f.name().as_str()).collect();
    match id_column {
        Some(c) if names.contains(&c) => vec![c.to_string()],
        Some(_) => Vec::new(),
        None => CAPTURE_IDS.iter().filter(|c| names.contains(c)).map(|c| c.to_string()).collect(),
    }
}

fn require(file: &ScannedFile, column: &str, what: &str) -> Result<()> {
    if file.schema().fields().iter().any(|f| f.name() == column) {
        return Ok(());
    }
    let have: Vec<&str> = file.schema().fields().iter().map(|f| f.name().as_str()).take(12).collect();
    Err(Error::input(&file.path, format!("no {what} column '{column}' (columns: {})", have.join(", "))))
}

/// Reads every unit of `files` in parallel, projected on the columns `wanted` names (those a
/// file has), calling `each` with the file and a batch; the results are folded by `merge`.
fn read_all<T: Send>(
    files: &[ScannedFile],
    wanted: &(dyn Fn(&ScannedFile) -> Vec<String> + Sync),
    init: &(dyn Fn() -> T + Sync),
    each: &(dyn Fn(&mut T, usize, &ScannedFile, &RecordBatch) -> Result<()> + Sync),
) -> Result<Vec<T>> {
    let units: Vec<(usize, usize)> =
        files.iter().enumerate().flat_map(|(fi, f)| (0..f.row_groups()).map(move |rg| (fi, rg))).collect();
    units
        .into_par_iter()
        .map(|(fi, rg)| {
            let f = &files[fi];
            let names = wanted(f);
            let cols: Vec<usize> = names.iter().filter_map(|n| f.schema().index_of(n).ok()).collect();
            let mut state = init();
            let mut failure = None;
            for_each_batch(f, rg, &cols, |b| {
                if failure.is_none() {
                    failure = each(&mut state, fi, f, b).err();
                }
            })
            .map_err(|e| Error::input(&f.path, e))?;
            failure.map_or(Ok(state), Err)
        })
        .collect()
}

/// The ground truth's labels by id, for a tap that joins them with the captures (the bias
/// metrics, estimation's realized metrics): held in memory while they fit the join's memory
/// limit, spilled by id to partition files past it (and then the rows that wait for them too,
/// joined a partition at a time at the end: [`RowSpill`]). Model quality's join shares its own
/// ([`Scoring::late_labels`]).
pub struct LateLabels(Late);

enum Late {
    Memory(Arc<Labels>),
    Spilled(RowSpill),
}

impl LateLabels {
    /// The label of `id`, when the labels are held in memory and one has that id; `None`
    /// otherwise.
    pub fn value(&self, id: &str) -> Option<Value<'_>> {
        match &self.0 {
            Late::Memory(l) => l.map.get(id).map(|(l, _)| l.value()),
            Late::Spilled(_) => None,
        }
    }

    /// The spill, when the labels did not fit in memory: rows are spilled beside them.
    pub fn spilled(&self) -> Option<&RowSpill> {
        match &self.0 {
            Late::Memory(_) => None,
            Late::Spilled(s) => Some(s),
        }
    }
}

/// Rows that wait for spilled labels: each row's id and its reader's record of it.
pub type WaitingRows = Vec<(String, Vec<u8>)>;

/// Labels spilled by id to partition files, and rows spilled beside them by the same id, each
/// row an opaque record of its reader's, in partition files of the reader's own (`side`):
/// joined one partition at a time ([`RowSpill::join`]).
pub struct RowSpill {
    spill: Arc<Mutex<Spill>>,
    side: &'static str,
}

impl RowSpill {
    /// Spills `rows` (id, record) to their partitions.
    ///
    /// # Errors
    /// [`Error::Output`] when a spill file cannot be written.
    pub fn push(&self, rows: WaitingRows) -> Result<()> {
        self.spill.lock().expect("spill lock").rows(self.side, rows)
    }

    /// Forgets every row spilled so far (the labels stay).
    ///
    /// # Errors
    /// [`Error::Output`] when a spill file cannot be made again.
    pub fn clear_rows(&self) -> Result<()> {
        self.spill.lock().expect("spill lock").clear_rows(self.side)
    }

    /// Calls `each` with every spilled row whose id has a label: the label and the row's
    /// record. A partition's labels are held in memory while its rows are read; an id
    /// labelled twice keeps the label read first.
    ///
    /// # Errors
    /// [`Error::Output`] when a spill file cannot be read; `each`'s first error.
    pub fn join(&self, each: &mut dyn FnMut(Value, &[u8]) -> Result<()>) -> Result<()> {
        let mut sp = self.spill.lock().expect("spill lock");
        sp.finish_writing()?;
        for part in 0..SPILL_PARTITIONS {
            let mut table: HashMap<String, Owned, Fast> = HashMap::default();
            sp.read_labels(part, &mut |id, l| {
                table.entry(id).or_insert(l);
            })?;
            let mut failure = None;
            sp.read_rows(self.side, part, &mut |id, row| {
                if failure.is_none() {
                    if let Some(l) = table.get(&id) {
                        failure = each(l.value(), &row).err();
                    }
                }
            })?;
            if let Some(e) = failure {
                return Err(e);
            }
        }
        Ok(())
    }
}

/// A tap's join with labels that arrive apart: the labels, the captures' id column, and, when
/// the labels are spilled, the rows that wait for them — each with its file's index, so that a
/// file left out of the run ([`LateJoin::drop_file`]) is left out of the join too.
pub struct LateJoin {
    labels: LateLabels,
    id_column: Option<String>,
    dropped: Mutex<std::collections::BTreeSet<usize>>,
    /// The first failure to spill rows, said when the tap is finished.
    failure: Mutex<Option<Error>>,
}

impl LateJoin {
    /// A join with `labels` by the captures' `id_column` (default: SageMaker's capture ids).
    pub fn new(labels: LateLabels, id_column: Option<String>) -> LateJoin {
        LateJoin { labels, id_column, dropped: Mutex::default(), failure: Mutex::new(None) }
    }

    /// The id of each row of `batch` from `file`.
    ///
    /// # Errors
    /// A message naming the file when an id column cannot be read.
    pub fn ids(&self, file: &ScannedFile, batch: &RecordBatch) -> std::result::Result<Vec<Option<String>>, String> {
        row_ids(file, batch, self.id_column.as_deref()).map_err(|e| e.to_string())
    }

    /// The columns of `file` a tap reads the ids from.
    pub fn id_columns(&self, file: &ScannedFile) -> Vec<String> {
        id_columns(file, self.id_column.as_deref())
    }

    /// The label of `id`, when the labels are in memory (see [`LateLabels::value`]).
    pub fn value(&self, id: &str) -> Option<Value<'_>> {
        self.labels.value(id)
    }

    /// Whether the labels were spilled: rows then wait for them ([`LateJoin::wait`]).
    pub fn spilled(&self) -> bool {
        self.labels.spilled().is_some()
    }

    /// Spills `rows` of the file at index `file` (id, record) to wait for their labels; a
    /// failure is kept for [`LateJoin::join`].
    pub fn wait(&self, file: usize, rows: WaitingRows) {
        let Some(spill) = self.labels.spilled().filter(|_| !rows.is_empty()) else { return };
        let tagged = rows
            .into_iter()
            .map(|(id, record)| {
                let mut r = Vec::with_capacity(8 + record.len());
                r.extend_from_slice(&(file as u64).to_le_bytes());
                r.extend_from_slice(&record);
                (id, r)
            })
            .collect();
        if let Err(e) = spill.push(tagged) {
            let mut f = self.failure.lock().expect("join lock");
            *f = f.take().or(Some(e));
        }
    }

    /// Leaves the file at index `fi` out of the join.
    pub fn drop_file(&self, fi: usize) {
        self.dropped.lock().expect("join lock").insert(fi);
    }

    /// Forgets every row that waits (the tap is fed again).
    pub fn reset(&self) {
        self.dropped.lock().expect("join lock").clear();
        if let Some(spill) = self.labels.spilled() {
            if let Err(e) = spill.clear_rows() {
                let mut f = self.failure.lock().expect("join lock");
                *f = f.take().or(Some(e));
            }
        }
    }

    /// Calls `each` with every waiting row whose id has a label and whose file was not left
    /// out: the label and the row's record. Nothing without spilled labels.
    ///
    /// # Errors
    /// The first failure to spill rows; a spill file that cannot be read or holds a damaged
    /// row; `each`'s first error.
    pub fn join(&self, each: &mut dyn FnMut(Value, &[u8]) -> Result<()>) -> Result<()> {
        if let Some(e) = self.failure.lock().expect("join lock").take() {
            return Err(e);
        }
        let Some(spill) = self.labels.spilled() else { return Ok(()) };
        let dropped = std::mem::take(&mut *self.dropped.lock().expect("join lock"));
        spill.join(&mut |label, record| {
            let Some(file) = record.get(..8).and_then(|b| b.try_into().ok()).map(u64::from_le_bytes) else {
                return Err(damaged());
            };
            if dropped.contains(&(file as usize)) {
                return Ok(());
            }
            each(label, &record[8..])
        })
    }
}

/// The error of a spilled row that cannot be read back.
pub fn damaged() -> Error {
    crate::error::invalid(crate::Opt::GroundTruth, "a spilled row could not be read back")
}

/// The ground truth's labels by id, read for a tap when model quality does not read them: the
/// label column named `label` in each file (or, in SageMaker's ground-truth JSON Lines, its data), joined by
/// `id_column` or the capture ids. Held in memory up to `memory_limit` bytes; past it they are
/// spilled to partition files in `spill_dir`, as model quality's join spills them, with the
/// rows that wait for them on `side`.
///
/// # Errors
/// [`Error::Input`] naming a file without an id or a label column, or that cannot be read;
/// [`Error::Output`] when a spill file cannot be written.
pub fn late_labels(
    truth: &[ScannedFile],
    label: &str,
    id_column: Option<&str>,
    memory_limit: u64,
    spill_dir: &Path,
    side: &'static str,
) -> Result<LateLabels> {
    let s = QualitySettings::new(crate::quality::ProblemType::BinaryClassification, label);
    for f in truth {
        if id_columns(f, id_column).is_empty() {
            return Err(Error::input(&f.path, "no id to join labels with the captures by (name it as the id column)"));
        }
        if truth_label_column(&s, f).is_none() {
            require(f, label, "label")?;
        }
    }
    Ok(LateLabels(match read_label_table(&s, id_column, memory_limit, spill_dir, truth)? {
        (labels, None) => Late::Memory(Arc::new(labels)),
        (_, Some(spill)) => Late::Spilled(RowSpill { spill: Arc::new(Mutex::new(spill)), side }),
    }))
}

/// The id of each row of `batch` from `file` (the first non-null id column).
///
/// # Errors
/// [`Error::Input`] when an id column cannot be read.
pub fn row_ids(file: &ScannedFile, batch: &RecordBatch, id_column: Option<&str>) -> Result<Vec<Option<String>>> {
    let ids = id_views(batch, &id_columns(file, id_column)).map_err(|e| Error::input(&file.path, e))?;
    Ok((0..batch.num_rows()).map(|i| id_at(&ids, i).map(|c| c.into_owned())).collect())
}

/// Per-unit tallies of the prediction side.
struct Tally {
    acc: Accumulator,
    windows: BTreeMap<i64, Accumulator>,
    untimed: u64,
    rows: u64,
    nulls: u64,
    unmatched: u64,
}

impl Tally {
    fn new(s: &QualitySettings) -> Tally {
        Tally { acc: Accumulator::new(s), windows: BTreeMap::new(), untimed: 0, rows: 0, nulls: 0, unmatched: 0 }
    }

    /// Folds a row into the whole and, with a time, into its window.
    fn add(
        &mut self,
        s: &QualitySettings,
        window: Option<&Window>,
        time: Option<i64>,
        row: (Value, Option<Value>, Option<f64>, u64),
    ) -> std::result::Result<(), super::RowError> {
        let (y, p, q, key) = row;
        self.acc.add(y, p, q, key)?;
        if let Some(w) = window {
            match time {
                Some(t) => {
                    let acc = self.windows.entry(w.start(t)).or_insert_with(|| Accumulator::new(s));
                    acc.add(y, p, q, key)?;
                }
                None => self.untimed += 1,
            }
        }
        Ok(())
    }
}

/// Scores a prediction batch against labels found by `label_of` (the same row's label when
/// `None` is given as the table).
#[allow(clippy::too_many_arguments, reason = "the scoring loop's state, passed down from one caller")]
#[allow(
    clippy::too_many_lines,
    reason = "the per-row loop: each `continue` is a row's fate (null, unmatched), read best together"
)]
fn score_batch(
    t: &mut Tally,
    s: &QualitySettings,
    fi: usize,
    file: &ScannedFile,
    batch: &RecordBatch,
    ids: &[String],
    first_row: &mut u64,
    label_of: &dyn Fn(&str) -> Option<Owned>,
    joined: bool,
    window: Option<(&str, Window)>,
) -> Result<()> {
    let err = |m: String| Error::input(&file.path, m);
    let times = match window {
        Some((column, _)) => match col_index(batch, column) {
            Some(c) => Some(crate::engine::window::times_ms(column, batch.column(c))?),
            None => None,
        },
        None => None,
    };
    let view = |name: &Option<String>| -> Result<Option<View>> {
        match name {
            Some(n) => match col_index(batch, n) {
                Some(c) => View::of(n, batch.column(c)).map(Some).map_err(|e| err(e.to_string())),
                None => Ok(None),
            },
            None => Ok(None),
        }
    };
    let pred = view(&s.prediction)?;
    let prob = view(&s.probability)?;
    let label = if joined { None } else { view(&Some(s.label.clone()))? };
    let id_views = id_views(batch, ids).map_err(|e| err(e.to_string()))?;
    for i in 0..batch.num_rows() {
        t.rows += 1;
        let row = *first_row + i as u64;
        let id = id_at(&id_views, i);
        let key = match &id {
            Some(id) => key_of(id),
            None => crate::codec::fnv1a64(&[(fi as u64).to_le_bytes(), row.to_le_bytes()].concat()),
        };
        let p = pred.as_ref().and_then(|v| v.get(i));
        let q = match &prob {
            Some(v) => match v.get(i) {
                Some(x) => Some(x.number().ok_or_else(|| {
                    err(format!(
                        "column '{}': probability '{}' is not a number",
                        s.probability.as_deref().unwrap_or(""),
                        super::shown(&x.class())
                    ))
                })?),
                None => {
                    t.nulls += 1;
                    continue;
                }
            },
            None => None,
        };
        if s.prediction.is_some() && p.is_none() {
            t.nulls += 1;
            continue;
        }
        let owned;
        let y = if joined {
            let Some(id) = &id else {
                t.nulls += 1;
                continue;
            };
            match label_of(id) {
                Some(l) => {
                    owned = l;
                    owned.value()
                }
                None => {
                    t.unmatched += 1;
                    continue;
                }
            }
        } else {
            match label.as_ref().and_then(|v| v.get(i)) {
                Some(l) => l,
                None => {
                    t.nulls += 1;
                    continue;
                }
            }
        };
        let time = times.as_ref().and_then(|v| v[i]);
        t.add(s, window.as_ref().map(|w| &w.1), time, (y, p, q, key)).map_err(|e| {
            let column = match e {
                super::RowError::Probability(_) => s.probability.clone().unwrap_or_default(),
                _ if joined => format!("{} or the ground truth's label", s.prediction.as_deref().unwrap_or("")),
                _ => format!("{} or {}", s.label, s.prediction.as_deref().unwrap_or("")),
            };
            err(format!("column '{column}': {e}"))
        })?;
    }
    *first_row += batch.num_rows() as u64;
    Ok(())
}

fn prediction_columns(
    s: &QualitySettings,
    f: &ScannedFile,
    ids: &[String],
    joined: bool,
    window: Option<(&str, Window)>,
) -> Vec<String> {
    let mut v: Vec<String> = ids.to_vec();
    v.extend(window.map(|w| w.0.to_string()));
    v.extend(s.prediction.iter().cloned());
    v.extend(s.probability.iter().cloned());
    if !joined {
        v.push(s.label.clone());
    }
    v.retain(|n| f.schema().index_of(n).is_ok());
    v
}

/// The label column of a ground-truth file: the settings' label when the file has it, else the
/// first column of a SageMaker ground-truth record's data (`_c0`, or its only key).
fn truth_label_column(s: &QualitySettings, f: &ScannedFile) -> Option<String> {
    let names: Vec<&str> = f.schema().fields().iter().map(|x| x.name().as_str()).collect();
    if names.contains(&s.label.as_str()) {
        return Some(s.label.clone());
    }
    match &f.format {
        crate::source::scan::Format::Text(t) if t.kind == crate::source::text::TextKind::GroundTruth => {
            names.iter().find(|n| !n.starts_with("eventMetadata.")).map(|n| n.to_string())
        }
        _ => None,
    }
}

/// The label table's hasher: foldhash, several times faster than SipHash on short ids (the
/// table holds no secret, and ids come from the user's own files).
type Fast = foldhash::fast::FixedState;

/// Labels read from the ground truth: id → (label, slot of its matched flag).
struct Labels {
    map: HashMap<String, (Owned, usize), Fast>,
    bytes: u64,
    duplicates: u64,
}

/// Scores the predictions, joining them with the ground truth when there is one: the inputs read
/// on their own ([`Scoring::read`]). The jobs score them in their one pass over the inputs
/// instead ([`Scoring`] is the engine's [`Tap`]).
///
/// # Errors
/// As [`Scoring::start`], [`Scoring::read`] and [`Scoring::finish`].
pub fn score(req: &QualityRequest) -> Result<QualityOutcome> {
    let scoring = Scoring::start(req.clone())?;
    scoring.read(req.predictions)?;
    scoring.finish()
}

/// Where the labels are.
enum Side {
    /// In the prediction rows.
    Unjoined,
    /// In memory, with a flag per label: matched by a prediction.
    Memory { labels: Arc<Labels>, matched: Vec<AtomicBool> },
    /// Spilled to partitions on disk; the predictions follow them there, and each partition is
    /// joined at the end.
    Spilled { spill: Arc<Mutex<Spill>>, duplicates: u64 },
}

/// A row group's part of the prediction side.
enum Unit {
    /// Its tallies, and the rows seen so far (the bootstrap key of rows without an id).
    Scored(Box<Tally>, u64),
    /// Rows read and rows left out for a null, their values spilled.
    Spilled(u64, u64),
}

/// Model quality being scored: the columns checked, the labels read (into memory, or spilled),
/// and the prediction rows tallied per row group as they come — from the engine's one pass over
/// the inputs (a [`Tap`]) or from a read of its own ([`Scoring::read`]) — then folded in the
/// order of the row groups ([`Scoring::finish`]), whatever the threads.
pub struct Scoring<'a> {
    req: QualityRequest<'a>,
    side: Side,
    units: Mutex<BTreeMap<(usize, usize), Result<Unit>>>,
    dropped: AtomicBool,
}

impl<'a> Scoring<'a> {
    /// Checks the columns of the prediction files (and of the ground truth), and reads the
    /// labels of the ground truth when there is one.
    ///
    /// # Errors
    /// [`Error::Input`] naming the file and column when a column is missing;
    /// [`Error::Invalid`] when the join has no id.
    pub fn start(req: QualityRequest<'a>) -> Result<Scoring<'a>> {
        let s = req.settings;
        for f in req.predictions {
            if let Some(p) = &s.prediction {
                require(f, p, "prediction")?;
            }
            if let Some(p) = &s.probability {
                require(f, p, "probability")?;
            }
            if req.ground_truth.is_none() {
                require(f, &s.label, "label")?;
            }
        }
        let side = match req.ground_truth {
            None => Side::Unjoined,
            Some(truth) => {
                check_ids(&req, truth)?;
                match read_labels(&req, truth)? {
                    (labels, None) => {
                        let matched = (0..labels.map.len()).map(|_| AtomicBool::new(false)).collect();
                        Side::Memory { labels: Arc::new(labels), matched }
                    }
                    (labels, Some(spill)) => {
                        Side::Spilled { spill: Arc::new(Mutex::new(spill)), duplicates: labels.duplicates }
                    }
                }
            }
        };
        Ok(Scoring { req, side, units: Mutex::new(BTreeMap::new()), dropped: AtomicBool::new(false) })
    }

    /// The ground truth's labels this scoring read, for the bias metrics when they join the same
    /// label column by the same ids: shared, not read again (in memory, or the same spilled
    /// partitions, which the bias rows then join on their own). `None` without a ground truth or
    /// for another label column.
    pub fn late_labels(&self, label: &str, side: &'static str) -> Option<LateLabels> {
        if self.req.settings.label != label {
            return None;
        }
        match &self.side {
            Side::Unjoined => None,
            Side::Memory { labels, .. } => Some(LateLabels(Late::Memory(Arc::clone(labels)))),
            Side::Spilled { spill, .. } => Some(LateLabels(Late::Spilled(RowSpill { spill: Arc::clone(spill), side }))),
        }
    }

    /// What is scored.
    pub fn request(&self) -> &QualityRequest<'a> {
        &self.req
    }

    /// Whether no file was left out since the start ([`Tap::drop_file`]): then what was fed is
    /// the whole of the files that were read.
    pub fn is_whole(&self) -> bool {
        !self.dropped.load(Ordering::Relaxed)
    }

    /// The columns of a prediction file that scoring reads.
    fn wanted(&self, f: &ScannedFile) -> Vec<String> {
        let joined = !matches!(self.side, Side::Unjoined);
        prediction_columns(self.req.settings, f, &id_columns(f, self.req.id_column), joined, self.req.window)
    }

    /// Reads `files` (the prediction files, in the order the request names them) and scores
    /// their rows, row groups in parallel.
    ///
    /// # Errors
    /// [`Error::Input`] naming a file that cannot be read.
    pub fn read(&self, files: &[ScannedFile]) -> Result<()> {
        let units: Vec<(usize, usize)> =
            files.iter().enumerate().flat_map(|(fi, f)| (0..f.row_groups()).map(move |rg| (fi, rg))).collect();
        units.into_par_iter().try_for_each(|(fi, rg)| {
            let f = &files[fi];
            let cols: Vec<usize> = self.wanted(f).iter().filter_map(|n| f.schema().index_of(n).ok()).collect();
            for_each_batch(f, rg, &cols, |b| self.feed((fi, rg), f, b)).map_err(|e| Error::input(&f.path, e))
        })
    }

    /// Scores one batch of a row group into the row group's part; after a failure the row group
    /// takes no more rows (the failure is reported by [`Scoring::finish`]).
    fn feed(&self, unit: (usize, usize), f: &ScannedFile, b: &RecordBatch) {
        let taken = self.units.lock().expect("unit lock").remove(&unit);
        let part = match taken {
            Some(Err(e)) => Err(e),
            Some(Ok(u)) => Ok(u),
            None => Ok(match self.side {
                Side::Spilled { .. } => Unit::Spilled(0, 0),
                _ => Unit::Scored(Box::new(Tally::new(self.req.settings)), 0),
            }),
        };
        let part = part.and_then(|mut u| self.score(&mut u, unit.0, f, b).map(|()| u));
        self.units.lock().expect("unit lock").insert(unit, part);
    }

    fn score(&self, unit: &mut Unit, fi: usize, f: &ScannedFile, b: &RecordBatch) -> Result<()> {
        let req = &self.req;
        let s = req.settings;
        let ids = id_columns(f, req.id_column);
        match (&self.side, unit) {
            (Side::Unjoined, Unit::Scored(t, at)) => {
                score_batch(t, s, fi, f, b, &ids, at, &|_| None, false, req.window)
            }
            (Side::Memory { labels, matched }, Unit::Scored(t, at)) => {
                let look = |id: &str| {
                    labels.map.get(id).map(|(l, slot)| {
                        matched[*slot].store(true, Ordering::Relaxed);
                        l.clone()
                    })
                };
                score_batch(t, s, fi, f, b, &ids, at, &look, true, req.window)
            }
            (Side::Spilled { spill, .. }, Unit::Spilled(rows, nulls)) => {
                let out = spill_rows(req, f, b, rows, nulls)?;
                spill.lock().expect("spill lock").predictions(out)
            }
            _ => unreachable!("a row group's part is made for its side"),
        }
    }

    /// The outcome: the row groups' parts folded in order, and, for a spilled join, each
    /// partition joined.
    ///
    /// # Errors
    /// The first failure in the order of the row groups: [`Error::Input`] naming the file and
    /// column when a value does not fit the problem type, [`Error::Quality`] when parts do not
    /// merge, [`Error::Output`] when a spill file cannot be written or read.
    pub fn finish(self) -> Result<QualityOutcome> {
        let parts: Vec<Unit> =
            self.units.into_inner().expect("unit lock").into_values().collect::<Result<Vec<Unit>>>()?;
        let req = &self.req;
        let s = req.settings;
        let window = req.window.map(|w| w.1);
        let tallies = |parts: Vec<Unit>| -> Vec<Tally> {
            parts
                .into_iter()
                .filter_map(|u| match u {
                    Unit::Scored(t, _) => Some(*t),
                    Unit::Spilled(..) => None,
                })
                .collect()
        };
        match self.side {
            Side::Unjoined => finish(s, window, tallies(parts), None, 0),
            Side::Memory { labels, matched } => {
                let unmatched_labels = matched.iter().filter(|m| !m.load(Ordering::Relaxed)).count() as u64;
                let mut out = finish(s, window, tallies(parts), Some(unmatched_labels), 0)?;
                out.duplicate_labels = labels.duplicates;
                out.join_memory_bytes = labels.bytes;
                Ok(out)
            }
            Side::Spilled { spill, duplicates } => {
                let (read, nulls) = parts.iter().fold((0, 0), |a, u| match u {
                    Unit::Spilled(r, n) => (a.0 + r, a.1 + n),
                    Unit::Scored(..) => a,
                });
                let mut sp = spill.lock().expect("spill lock");
                sp.finish_writing()?;
                let j = join_partitions(req, &mut sp, duplicates)?;
                let mut acc = j.tally;
                acc.rows = read;
                acc.nulls = nulls;
                acc.unmatched = j.unmatched_predictions;
                let mut out = finish(s, window, vec![acc], Some(j.unmatched_labels), SPILL_PARTITIONS)?;
                out.duplicate_labels = j.duplicates;
                out.join_memory_bytes = j.biggest;
                Ok(out)
            }
        }
    }
}

impl Tap for Scoring<'_> {
    fn columns(&self, file: &ScannedFile) -> Vec<String> {
        self.wanted(file)
    }
    fn batch(&self, unit: (usize, usize), file: &ScannedFile, batch: &RecordBatch) {
        self.feed(unit, file, batch);
    }
    fn drop_file(&self, fi: usize) {
        self.units.lock().expect("unit lock").retain(|(f, _), _| *f != fi);
        self.dropped.store(true, Ordering::Relaxed);
    }
}

/// Checks that every prediction and ground-truth file has an id to join by, and every
/// ground-truth file a label.
fn check_ids(req: &QualityRequest, truth: &[ScannedFile]) -> Result<()> {
    let s = req.settings;
    for f in req.predictions.iter().chain(truth) {
        if id_columns(f, req.id_column).is_empty() {
            let message = match req.id_column {
                Some(c) => format!("{}: no column '{c}' to join predictions with labels", f.path.display()),
                None => format!(
                    "{}: no id to join predictions with labels: name the id column (captures and ground truth use eventMetadata.inferenceId or eventId)",
                    f.path.display()
                ),
            };
            return Err(crate::error::invalid(crate::Opt::IdColumn, message));
        }
        if truth.iter().any(|t| std::ptr::eq(t, f)) && truth_label_column(s, f).is_none() {
            require(f, &s.label, "label")?;
        }
    }
    Ok(())
}

/// A batch's prediction rows as the spill keeps them (id, prediction, probability, time),
/// counting the rows read and those left out for a null.
fn spill_rows(
    req: &QualityRequest,
    f: &ScannedFile,
    b: &RecordBatch,
    rows: &mut u64,
    nulls: &mut u64,
) -> Result<Vec<SpilledPrediction>> {
    let s = req.settings;
    let err = |m: String| Error::input(&f.path, m);
    let ids = id_views(b, &id_columns(f, req.id_column)).map_err(|e| err(e.to_string()))?;
    let get = |n: &Option<String>| -> Result<Option<View>> {
        n.as_ref()
            .and_then(|n| col_index(b, n).map(|c| (n, c)))
            .map(|(n, c)| View::of(n, b.column(c)).map_err(|e| err(e.to_string())))
            .transpose()
    };
    let (pred, prob) = (get(&s.prediction)?, get(&s.probability)?);
    let times = match req.window.and_then(|(c, _)| col_index(b, c).map(|i| (c, i))) {
        Some((c, i)) => Some(crate::engine::window::times_ms(c, b.column(i))?),
        None => None,
    };
    let mut out = Vec::with_capacity(b.num_rows());
    for i in 0..b.num_rows() {
        *rows += 1;
        let id = id_at(&ids, i);
        let p = pred.as_ref().and_then(|v| v.get(i));
        let q = prob.as_ref().and_then(|v| v.get(i));
        if id.is_none() || (s.prediction.is_some() && p.is_none()) || (s.probability.is_some() && q.is_none()) {
            *nulls += 1;
            continue;
        }
        // Checked here, where the file is known: the partitions do not know it.
        if let (Some(q), Some(col)) = (q, &s.probability) {
            match q.number() {
                Some(x) if (0.0..=1.0).contains(&x) => {}
                _ => return Err(err(format!("column '{col}': {}", super::RowError::Probability(q.class())))),
            }
        }
        let t = times.as_ref().and_then(|v| v[i]);
        out.push((id.expect("checked").into_owned(), p.map(Owned::of), q.map(Owned::of), t));
    }
    Ok(out)
}

/// Reads the ground truth's labels into one table while it fits the memory limit, spilling
/// them to partitions on disk past it.
fn read_labels(req: &QualityRequest, truth: &[ScannedFile]) -> Result<(Labels, Option<Spill>)> {
    read_label_table(req.settings, req.id_column, req.memory_limit, req.spill_dir, truth)
}

/// [`read_labels`] of the label column `s` names, joined by `id_column`, spilled into
/// `spill_dir` past `memory_limit` bytes.
fn read_label_table(
    s: &QualitySettings,
    id_column: Option<&str>,
    memory_limit: u64,
    spill_dir: &Path,
    truth: &[ScannedFile],
) -> Result<(Labels, Option<Spill>)> {
    // The labels, into one table while it fits the limit.
    // Sized for every label that fits the limit, so that the table never rehashes on the way.
    let expected = truth.iter().map(|f| f.rows).sum::<u64>().min(memory_limit / LABEL_OVERHEAD) as usize;
    let parts = Mutex::new(Labels {
        map: HashMap::with_capacity_and_hasher(expected, Fast::default()),
        bytes: 0,
        duplicates: 0,
    });
    let spill: Mutex<Option<Spill>> = Mutex::new(None);
    read_all(
        truth,
        &|f| {
            let mut v = id_columns(f, id_column);
            v.extend(truth_label_column(s, f));
            v
        },
        &|| (),
        &|_, _, f, b| {
            let label_col = truth_label_column(s, f).expect("checked above");
            let err = |e: QualityError| Error::input(&f.path, e);
            let ids = id_views(b, &id_columns(f, id_column)).map_err(err)?;
            let labels = View::of(&label_col, b.column(col_index(b, &label_col).expect("projected"))).map_err(err)?;
            let mut rows = Vec::with_capacity(b.num_rows());
            for i in 0..b.num_rows() {
                if let (Some(id), Some(l)) = (id_at(&ids, i), labels.get(i)) {
                    rows.push((id.into_owned(), Owned::of(l)));
                }
            }
            let mut sp = spill.lock().expect("spill lock");
            if let Some(sp) = sp.as_mut() {
                return sp.labels(rows);
            }
            let mut t = parts.lock().expect("label lock");
            for (id, l) in rows {
                if t.map.contains_key(&id) {
                    t.duplicates += 1;
                    continue;
                }
                t.bytes += id.len() as u64 + l.bytes() + LABEL_OVERHEAD;
                let slot = t.map.len();
                t.map.insert(id, (l, slot));
            }
            if t.bytes > memory_limit {
                let mut new = Spill::create(spill_dir)?;
                let held: Vec<(String, Owned)> = t.map.drain().map(|(k, (l, _))| (k, l)).collect();
                new.labels(held)?;
                t.bytes = 0;
                *sp = Some(new);
            }
            Ok(())
        },
    )?;
    let labels = parts.into_inner().expect("label lock");
    let spilled = spill.into_inner().expect("spill lock");
    Ok((labels, spilled))
}

/// What joining the spilled partitions found.
struct Joined {
    tally: Tally,
    unmatched_predictions: u64,
    unmatched_labels: u64,
    duplicates: u64,
    /// The largest partition's label table, in bytes.
    biggest: u64,
}

/// Joins the spilled predictions with the spilled labels, a partition at a time in memory.
fn join_partitions(req: &QualityRequest, sp: &mut Spill, dup_before: u64) -> Result<Joined> {
    let s = req.settings;
    let (mut acc, mut unmatched_p, mut unmatched_l, mut dups, mut biggest) =
        (Tally::new(s), 0u64, 0u64, dup_before, 0u64);
    for part in 0..SPILL_PARTITIONS {
        let mut table: HashMap<String, (Owned, bool), Fast> = HashMap::default();
        let mut bytes = 0u64;
        sp.read_labels(part, &mut |id, l| {
            let add = id.len() as u64 + l.bytes() + LABEL_OVERHEAD;
            match table.entry(id) {
                std::collections::hash_map::Entry::Occupied(_) => dups += 1,
                std::collections::hash_map::Entry::Vacant(v) => {
                    bytes += add;
                    v.insert((l, false));
                }
            }
        })?;
        biggest = biggest.max(bytes);
        let mut failure = None;
        sp.read_predictions(part, &mut |id, p, q, time| {
            if failure.is_some() {
                return;
            }
            match table.get_mut(&id) {
                None => unmatched_p += 1,
                Some((l, seen)) => {
                    *seen = true;
                    let q = q.and_then(|q| q.value().number());
                    let row = (l.value(), p.as_ref().map(Owned::value), q, key_of(&id));
                    if let Err(e) = acc.add(s, req.window.as_ref().map(|w| &w.1), time, row) {
                        failure = Some(e);
                    }
                }
            }
        })?;
        if let Some(e) = failure {
            return Err(QualityError::from(e).into());
        }
        unmatched_l += table.values().filter(|(_, seen)| !seen).count() as u64;
    }
    Ok(Joined {
        tally: acc,
        unmatched_predictions: unmatched_p,
        unmatched_labels: unmatched_l,
        duplicates: dups,
        biggest,
    })
}

fn finish(
    s: &QualitySettings,
    window: Option<Window>,
    tallies: Vec<Tally>,
    unmatched_labels: Option<u64>,
    parts: usize,
) -> Result<QualityOutcome> {
    let mut acc = Accumulator::new(s);
    let mut windows: BTreeMap<i64, Accumulator> = BTreeMap::new();
    let (mut rows, mut nulls, mut unmatched, mut untimed) = (0, 0, 0, 0);
    let merge = |a: &mut Accumulator, b: &Accumulator| a.merge(b).map_err(Error::from);
    for t in tallies {
        merge(&mut acc, &t.acc)?;
        for (start, w) in &t.windows {
            match windows.get_mut(start) {
                Some(a) => merge(a, w)?,
                None => {
                    windows.insert(*start, w.clone());
                }
            }
        }
        rows += t.rows;
        nulls += t.nulls;
        unmatched += t.unmatched;
        untimed += t.untimed;
    }
    let scored = acc.rows();
    let windows = match window {
        Some(w) => windows
            .into_iter()
            .map(|(start, a)| WindowQuality { start, end: w.end(start), metrics: a.finish() })
            .collect(),
        None => Vec::new(),
    };
    Ok(QualityOutcome {
        metrics: acc.finish(),
        prediction_rows: rows,
        scored_rows: scored,
        null_rows: nulls,
        unmatched_predictions: unmatched,
        unmatched_labels: unmatched_labels.unwrap_or(0),
        duplicate_labels: 0,
        join_memory_bytes: 0,
        spilled_partitions: parts,
        windows,
        untimed_rows: untimed,
    })
}

/// A spilled prediction: id, prediction, probability, time.
type SpilledPrediction = (String, Option<Owned>, Option<Owned>, Option<i64>);

/// Spill files: per partition, one file of labels and one of predictions, and one per reader
/// of rows that wait for the same labels ([`RowSpill`]: the bias metrics, estimation).
struct Spill {
    dir: tempfile::TempDir,
    labels: Vec<BufWriter<File>>,
    predictions: Vec<BufWriter<File>>,
    rows: BTreeMap<&'static str, Vec<BufWriter<File>>>,
}

/// Makes partition file `p` of `side` in `dir`, empty.
fn open_part(dir: &Path, side: &str, p: usize) -> Result<BufWriter<File>> {
    let path: PathBuf = dir.join(format!("{side}-{p}.bin"));
    File::create(&path).map(BufWriter::new).map_err(|source| Error::Output { path, source })
}

fn partition(id: &str) -> usize {
    (crate::codec::fnv1a64(id.as_bytes()) % SPILL_PARTITIONS as u64) as usize
}

fn put_str(w: &mut impl Write, s: &str) -> std::io::Result<()> {
    put_bytes(w, s.as_bytes())
}

fn put_bytes(w: &mut impl Write, b: &[u8]) -> std::io::Result<()> {
    w.write_all(&(b.len() as u32).to_le_bytes())?;
    w.write_all(b)
}

fn put_owned(w: &mut impl Write, v: Option<&Owned>) -> std::io::Result<()> {
    match v {
        None => w.write_all(&[0]),
        Some(Owned::Number(x)) => {
            w.write_all(&[1])?;
            w.write_all(&x.to_le_bytes())
        }
        Some(Owned::Text(s)) => {
            w.write_all(&[2])?;
            put_str(w, s)
        }
        Some(Owned::Bool(b)) => w.write_all(&[3, *b as u8]),
    }
}

fn get_str(r: &mut impl Read) -> std::io::Result<Option<String>> {
    get_bytes(r)?
        .map(|b| String::from_utf8(b).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e)))
        .transpose()
}

/// A length-prefixed byte string; `None` at the end of the file.
fn get_bytes(r: &mut impl Read) -> std::io::Result<Option<Vec<u8>>> {
    let mut n = [0u8; 4];
    match r.read_exact(&mut n) {
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        other => other?,
    }
    let mut b = vec![0u8; u32::from_le_bytes(n) as usize];
    r.read_exact(&mut b)?;
    Ok(Some(b))
}

fn get_owned(r: &mut impl Read) -> std::io::Result<Option<Owned>> {
    let mut t = [0u8; 1];
    r.read_exact(&mut t)?;
    Ok(match t[0] {
        0 => None,
        1 => {
            let mut x = [0u8; 8];
            r.read_exact(&mut x)?;
            Some(Owned::Number(f64::from_le_bytes(x)))
        }
        2 => Some(Owned::Text(get_str(r)?.unwrap_or_default())),
        _ => {
            let mut b = [0u8; 1];
            r.read_exact(&mut b)?;
            Some(Owned::Bool(b[0] != 0))
        }
    })
}

impl Spill {
    fn create(parent: &Path) -> Result<Spill> {
        std::fs::create_dir_all(parent).map_err(|source| Error::Output { path: parent.into(), source })?;
        let dir = tempfile::Builder::new()
            .prefix(".driftscope-join-")
            .tempdir_in(parent)
            .map_err(|source| Error::Output { path: parent.into(), source })?;
        let labels = (0..SPILL_PARTITIONS).map(|p| open_part(dir.path(), "labels", p)).collect::<Result<_>>()?;
        let predictions =
            (0..SPILL_PARTITIONS).map(|p| open_part(dir.path(), "predictions", p)).collect::<Result<_>>()?;
        Ok(Spill { dir, labels, predictions, rows: BTreeMap::new() })
    }
    fn io(&self, e: std::io::Error) -> Error {
        Error::Output { path: self.dir.path().into(), source: e }
    }
    fn labels(&mut self, rows: Vec<(String, Owned)>) -> Result<()> {
        for (id, l) in rows {
            let w = &mut self.labels[partition(&id)];
            let r = put_str(w, &id).and_then(|_| put_owned(w, Some(&l)));
            r.map_err(|e| self.io(e))?;
        }
        Ok(())
    }
    fn predictions(&mut self, rows: Vec<SpilledPrediction>) -> Result<()> {
        for (id, p, q, t) in rows {
            let w = &mut self.predictions[partition(&id)];
            let t = t.map(|t| Owned::Number(t as f64));
            let r = put_str(w, &id)
                .and_then(|_| put_owned(w, p.as_ref()))
                .and_then(|_| put_owned(w, q.as_ref()))
                .and_then(|_| put_owned(w, t.as_ref()));
            r.map_err(|e| self.io(e))?;
        }
        Ok(())
    }
    /// Rows of a reader of their own (id, record), in partition files of `side` (made at its
    /// first rows).
    fn rows(&mut self, side: &'static str, rows: WaitingRows) -> Result<()> {
        if !self.rows.contains_key(side) {
            self.clear_rows(side)?;
        }
        let files = self.rows.get_mut(side).expect("made above");
        let mut failure = None;
        for (id, row) in rows {
            let w = &mut files[partition(&id)];
            if let Err(e) = put_str(w, &id).and_then(|_| put_bytes(w, &row)) {
                failure = Some(e);
                break;
            }
        }
        failure.map_or(Ok(()), |e| Err(self.io(e)))
    }
    /// Makes `side`'s partition files, empty.
    fn clear_rows(&mut self, side: &'static str) -> Result<()> {
        let files = (0..SPILL_PARTITIONS).map(|p| open_part(self.dir.path(), side, p)).collect::<Result<_>>()?;
        self.rows.insert(side, files);
        Ok(())
    }
    fn read_rows(&self, side: &str, p: usize, each: &mut dyn FnMut(String, Vec<u8>)) -> Result<()> {
        if !self.rows.contains_key(side) {
            return Ok(());
        }
        let mut r = self.reader(side, p)?;
        while let Some(id) = get_str(&mut r).map_err(|e| self.io(e))? {
            let row = get_bytes(&mut r).map_err(|e| self.io(e))?.unwrap_or_default();
            each(id, row);
        }
        Ok(())
    }
    fn finish_writing(&mut self) -> Result<()> {
        for w in self.labels.iter_mut().chain(self.predictions.iter_mut()).chain(self.rows.values_mut().flatten()) {
            w.flush().map_err(|source| Error::Output { path: PathBuf::new(), source })?;
        }
        Ok(())
    }
    fn reader(&self, side: &str, p: usize) -> Result<BufReader<File>> {
        let path = self.dir.path().join(format!("{side}-{p}.bin"));
        File::open(&path).map(|f| BufReader::with_capacity(1 << 20, f)).map_err(|source| Error::Output { path, source })
    }
    fn read_labels(&self, p: usize, each: &mut dyn FnMut(String, Owned)) -> Result<()> {
        let mut r = self.reader("labels", p)?;
        while let Some(id) = get_str(&mut r).map_err(|e| self.io(e))? {
            let l = get_owned(&mut r).map_err(|e| self.io(e))?.unwrap_or(Owned::Text(String::new()));
            each(id, l);
        }
        Ok(())
    }
    fn read_predictions(
        &self,
        p: usize,
        each: &mut dyn FnMut(String, Option<Owned>, Option<Owned>, Option<i64>),
    ) -> Result<()> {
        let mut r = self.reader("predictions", p)?;
        while let Some(id) = get_str(&mut r).map_err(|e| self.io(e))? {
            let a = get_owned(&mut r).map_err(|e| self.io(e))?;
            let b = get_owned(&mut r).map_err(|e| self.io(e))?;
            let t = match get_owned(&mut r).map_err(|e| self.io(e))? {
                Some(Owned::Number(t)) => Some(t as i64),
                _ => None,
            };
            each(id, a, b, t);
        }
        Ok(())
    }
}
