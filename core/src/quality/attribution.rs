//! Per-row feature attributions read in the pass that profiles the inputs: a [`Tap`] that sums
//! each attribution column's absolute values, for the whole run and per calendar window, into
//! the global attributions of [`crate::judge::attribution`].
//!
//! Attribution columns are named by a prefix: with `shap_`, column `shap_age` holds the
//! attributions of feature `age`. They are read by the tap only, never profiled as features.
//! Sums are kept per row group and folded in file and row-group order, so the figures do not
//! depend on the threads (or on the backend, which never sees these columns).

use std::collections::BTreeMap;
use std::sync::Mutex;

use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;

use crate::engine::window::Window;
use crate::engine::Tap;
use crate::error::{Opt, Result};
use crate::source::scan::{Scan, ScannedFile};

/// How attributions are read and judged (`--attributions` and its companions).
#[derive(Debug, Clone, PartialEq)]
pub struct AttributionOptions {
    /// The prefix of attribution columns.
    pub prefix: String,
    /// The label the attributions explain, as Clarify names it.
    pub label: String,
    /// nDCG below which attributions have drifted.
    pub threshold: f64,
    /// A Clarify `analysis.json` to judge against, instead of the baseline folder's.
    pub baseline: Option<std::path::PathBuf>,
}

impl AttributionOptions {
    /// Attribution columns named by `prefix`, for the default label and threshold.
    pub fn new(prefix: &str) -> AttributionOptions {
        AttributionOptions {
            prefix: prefix.to_string(),
            label: crate::judge::attribution::DEFAULT_LABEL.into(),
            threshold: crate::judge::attribution::DEFAULT_THRESHOLD,
            baseline: None,
        }
    }
}

/// Sum of absolute values and count, per attribution column.
type Sums = Vec<(f64, u64)>;

/// The tap.
pub struct Attributions {
    /// (column, feature) pairs.
    columns: Vec<(String, String)>,
    /// Calendar windows of this time column.
    window: Option<(String, Window)>,
    /// Per (file, row group): sums for the whole and per window start.
    units: Mutex<BTreeMap<(usize, usize), Part>>,
}

#[derive(Default)]
struct Part {
    whole: Sums,
    windows: BTreeMap<i64, Sums>,
    failure: Option<String>,
}

/// The global attributions of a run: the whole and each window's (feature → mean |value|).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Globals {
    /// Over every row.
    pub whole: BTreeMap<String, f64>,
    /// Per window start, for the windows whose rows hold attributions.
    pub windows: BTreeMap<i64, BTreeMap<String, f64>>,
}

/// Adds `from`'s sums and counts into `into`'s.
fn add(into: &mut Sums, from: &Sums) {
    for (a, b) in into.iter_mut().zip(from) {
        a.0 += b.0;
        a.1 += b.1;
    }
}

fn numeric(t: &DataType) -> bool {
    t.is_numeric() || matches!(t, DataType::Dictionary(_, v) if v.is_numeric())
}

impl Attributions {
    /// The attribution columns of the inputs: those named `prefix` + a feature's name.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] when no column has the prefix, when one is not numeric, or when
    /// the feature it explains is not a column of the inputs.
    pub fn new(prefix: &str, scan: &Scan, window: Option<(&str, Window)>) -> Result<Attributions> {
        let names: Vec<&str> = scan.columns.iter().map(|c| c.name.as_str()).collect();
        let mut columns = Vec::new();
        for c in &scan.columns {
            let Some(feature) = c.name.strip_prefix(prefix).filter(|f| !f.is_empty()) else { continue };
            if !numeric(&c.data_type) {
                let holds = match &c.data_type {
                    DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "text".to_string(),
                    DataType::Dictionary(_, v) if matches!(**v, DataType::Utf8 | DataType::LargeUtf8) => "text".into(),
                    t => t.to_string(),
                };
                return Err(crate::error::invalid(
                    Opt::Attributions,
                    format!("column '{}' holds {holds}: attributions must be numbers", c.name),
                ));
            }
            if !names.contains(&feature) {
                return Err(crate::error::invalid(
                    Opt::Attributions,
                    format!("column '{}' explains '{feature}', which is not a column of the inputs", c.name),
                ));
            }
            columns.push((c.name.clone(), feature.to_string()));
        }
        if columns.is_empty() {
            return Err(crate::error::invalid(
                Opt::Attributions,
                format!(
                    "no column of the inputs starts with '{prefix}' (attribution columns are named {prefix}<feature>)"
                ),
            ));
        }
        Ok(Attributions {
            columns,
            window: window.map(|(c, w)| (c.to_string(), w)),
            units: Mutex::new(BTreeMap::new()),
        })
    }

    /// The attribution columns' names: left out of the profile.
    pub fn column_names(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.0.clone()).collect()
    }

    fn feed(&self, batch: &RecordBatch) -> std::result::Result<Part, String> {
        let n = self.columns.len();
        let mut part = Part { whole: vec![(0.0, 0); n], ..Part::default() };
        let starts = match &self.window {
            Some(w) => crate::engine::window::row_starts(batch, w).map_err(|e| e.to_string())?,
            None => None,
        };
        for (k, (column, _)) in self.columns.iter().enumerate() {
            let Ok(i) = batch.schema().index_of(column) else { continue };
            let values = arrow_cast::cast(batch.column(i), &DataType::Float64)
                .map_err(|e| format!("column '{column}': {}", crate::error::one_line(e)))?;
            let values = values.as_any().downcast_ref::<arrow_array::Float64Array>().expect("cast to f64");
            for (row, v) in values.iter().enumerate() {
                let Some(v) = v.filter(|v| v.is_finite()) else { continue };
                part.whole[k].0 += v.abs();
                part.whole[k].1 += 1;
                if let Some(Some(start)) = starts.as_ref().map(|s| s[row]) {
                    let w = part.windows.entry(start).or_insert_with(|| vec![(0.0, 0); n]);
                    w[k].0 += v.abs();
                    w[k].1 += 1;
                }
            }
        }
        Ok(part)
    }

    /// The global attributions of the rows fed, folded in file and row-group order.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] when a batch could not be read (its message names the column).
    pub fn finish(&self) -> Result<Globals> {
        let units = std::mem::take(&mut *self.units.lock().expect("attribution lock"));
        let n = self.columns.len();
        let mut whole = vec![(0.0, 0u64); n];
        let mut windows: BTreeMap<i64, Sums> = BTreeMap::new();
        for (_, part) in units {
            if let Some(f) = part.failure {
                return Err(crate::error::invalid(Opt::Attributions, f));
            }
            add(&mut whole, &part.whole);
            for (start, sums) in &part.windows {
                add(windows.entry(*start).or_insert_with(|| vec![(0.0, 0); n]), sums);
            }
        }
        let means = |sums: &Sums| -> BTreeMap<String, f64> {
            self.columns
                .iter()
                .zip(sums)
                .filter(|(_, s)| s.1 > 0)
                .map(|((_, feature), s)| (feature.clone(), s.0 / s.1 as f64))
                .collect()
        };
        Ok(Globals { whole: means(&whole), windows: windows.iter().map(|(k, s)| (*k, means(s))).collect() })
    }
}

impl Tap for Attributions {
    fn columns(&self, _file: &ScannedFile) -> Vec<String> {
        let mut v = self.column_names();
        v.extend(self.window.as_ref().map(|w| w.0.clone()));
        v
    }

    fn batch(&self, unit: (usize, usize), _file: &ScannedFile, batch: &RecordBatch) {
        let fed = self.feed(batch);
        let mut units = self.units.lock().expect("attribution lock");
        let part =
            units.entry(unit).or_insert_with(|| Part { whole: vec![(0.0, 0); self.columns.len()], ..Part::default() });
        match fed {
            Ok(p) => {
                add(&mut part.whole, &p.whole);
                for (start, sums) in &p.windows {
                    add(part.windows.entry(*start).or_insert_with(|| vec![(0.0, 0); sums.len()]), sums);
                }
            }
            Err(e) => part.failure = part.failure.take().or(Some(e)),
        }
    }

    fn drop_file(&self, fi: usize) {
        self.units.lock().expect("attribution lock").retain(|(f, _), _| *f != fi);
    }

    fn reset(&self) {
        self.units.lock().expect("attribution lock").clear();
    }
}
