//! driftscope for Python: the `driftscope._driftscope` extension module.
//!
//! Arrow data comes in through the Arrow C data interface (the `__arrow_c_array__` /
//! `__arrow_c_stream__` PyCapsules, or pyarrow's `_export_to_c`), so a pyarrow RecordBatch or
//! Table is read where it is, without a copy. Profiles run on the CPU backend with the GIL
//! released, and serialize to the same JSON as the CLI's `profile.json` set, so partial profiles
//! made on many machines merge on one.

use std::path::PathBuf;

use arrow_array::RecordBatch;
use arrow_pyarrow::{FromPyArrow, Table, ToPyArrow};
use driftscope_core::backend::cpu::CpuBackend;
use driftscope_core::engine::{profile_batches, profile_unit, ProfilePlan, ProfileSet, Segment};
use driftscope_core::jobs::report_for_profile;
use driftscope_core::judge::baseline::Baseline;
use driftscope_core::judge::multivariate::{reading, take_out, MultivariateBaseline};
use driftscope_core::output::report::MonitorReport;
use driftscope_core::output::write_monitor_files;
use driftscope_core::profile::DatasetProfile;
use pyo3::exceptions::{PyOSError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

fn baseline_error(e: driftscope_core::error::Error) -> PyErr {
    match e {
        driftscope_core::error::Error::Output { .. } => PyOSError::new_err(e.to_string()),
        e => PyValueError::new_err(e.to_string()),
    }
}

/// What a profiler folds: the columns, and the baseline whose bin edges the histograms use.
#[pyclass(module = "driftscope._driftscope", frozen, skip_from_py_object)]
#[derive(Clone)]
struct Plan {
    inner: ProfilePlan,
    baseline: Option<PathBuf>,
}

#[pymethods]
impl Plan {
    #[new]
    #[pyo3(signature = (columns=None, baseline=None))]
    fn new(columns: Option<Vec<String>>, baseline: Option<PathBuf>) -> PyResult<Plan> {
        let mut inner = ProfilePlan { columns, ..Default::default() };
        if let Some(dir) = &baseline {
            let b = Baseline::load(dir).map_err(baseline_error)?;
            inner.edges = b.edges().into_iter().map(|(k, e)| (k, e.into())).collect();
            // A baseline with a multivariate model: every row's reconstruction error is profiled.
            if let Some(m) = MultivariateBaseline::load(dir).map_err(baseline_error)? {
                inner.derived = Some(driftscope_core::engine::Derived::Reconstruction(std::sync::Arc::new(m.pca)));
            }
        }
        Ok(Plan { inner, baseline })
    }

    /// The columns profiled, or None for all.
    #[getter]
    fn columns(&self) -> Option<Vec<String>> {
        self.inner.columns.clone()
    }

    /// The baseline folder whose bin edges are used, if any.
    #[getter]
    fn baseline(&self) -> Option<String> {
        self.baseline.as_ref().map(|p| p.display().to_string())
    }
}

/// The batches of a pyarrow RecordBatch, a Table, or anything with `__arrow_c_stream__`, with
/// their text columns as `monitor` reads them from Parquet (dictionaries, identifiers plain), so
/// that the same rows give the same profile here as from the CLI.
fn batches_of(data: &Bound<'_, PyAny>) -> PyResult<Vec<RecordBatch>> {
    let batches = if let Ok(b) = RecordBatch::from_pyarrow_bound(data) {
        vec![b]
    } else {
        match Table::from_pyarrow_bound(data) {
            Ok(t) => t.into_inner().0,
            Err(_) => {
                return Err(PyTypeError::new_err(format!(
                    "expected a pyarrow RecordBatch or Table (or an object with __arrow_c_stream__), got {}",
                    data.get_type().name()?
                )))
            }
        }
    };
    let plain = driftscope_core::profile::Role::is_identifier_name;
    batches.iter().map(|b| driftscope_core::source::scan::text_as_read(b, &plain).map_err(value_error)).collect()
}

/// A mergeable profile: per column counts, moments, exact histograms over the baseline's edges,
/// quantile and distinct sketches, category counts.
#[pyclass(module = "driftscope._driftscope", skip_from_py_object)]
#[derive(Clone, Default)]
struct Profile {
    set: ProfileSet,
}

#[pymethods]
impl Profile {
    /// An empty profile (merging into it gives the other).
    #[new]
    fn new() -> Profile {
        Profile::default()
    }

    /// Rows profiled.
    #[getter]
    fn rows(&self) -> u64 {
        self.whole_ref().map_or(0, |p| p.rows)
    }

    /// Column names, in first-seen order (the rows' reconstruction errors a multivariate
    /// baseline's Plan adds are no column of the data).
    #[getter]
    fn columns(&self) -> Vec<String> {
        let data =
            |c: &&driftscope_core::profile::ColumnProfile| c.name != driftscope_core::profile::pca::RECONSTRUCTION;
        self.whole_ref().map(|p| p.columns.iter().filter(data).map(|c| c.name.clone()).collect()).unwrap_or_default()
    }

    /// Adds another profile's rows. Merging is exact for counts, moments and histograms; the
    /// sketches merge as Apache DataSketches' do.
    fn merge(&mut self, other: &Profile) {
        self.set.merge(&other.set);
    }

    /// The profile as bytes (JSON), to send from a worker to the driver.
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = serde_json::to_vec(&self.set).map_err(value_error)?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// A profile from [`Profile.to_bytes`].
    #[staticmethod]
    fn from_bytes(data: &[u8]) -> PyResult<Profile> {
        serde_json::from_slice(data)
            .map(|set| Profile { set })
            .map_err(|e| value_error(format!("not a driftscope profile: {e}")))
    }

    /// The profile as driftscope's `profile.json` (the whole run).
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string_pretty(&self.whole()).map_err(value_error)
    }

    fn __repr__(&self) -> String {
        format!("Profile(rows={}, columns={})", self.rows(), self.columns().len())
    }
}

impl Profile {
    /// The whole profile: the Python API keys no segment, so it is the set's only one.
    fn whole_ref(&self) -> Option<&DatasetProfile> {
        self.set.segments.get(&Segment::Whole)
    }
    fn whole(&self) -> DatasetProfile {
        self.whole_ref().cloned().unwrap_or_default()
    }
}

/// Rows a profiler gathers before it folds them: callers such as Spark hand over batches of
/// 10,000 rows, and folding each alone would spend more on set-up and merges than on the rows.
const GATHER_ROWS: usize = 1 << 20;

/// Profiles Arrow data batch by batch on every core.
#[pyclass(module = "driftscope._driftscope")]
struct Profiler {
    plan: ProfilePlan,
    profile: Profile,
    /// Batches given but not folded yet (held by reference, not copied).
    pending: Vec<RecordBatch>,
    pending_rows: usize,
}

impl Profiler {
    /// Folds the gathered batches.
    fn flush(&mut self, py: Python<'_>) -> PyResult<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let batches = std::mem::take(&mut self.pending);
        self.pending_rows = 0;
        let plan = &self.plan;
        let set = py.detach(|| profile_batches(&batches, plan, &CpuBackend)).map_err(value_error)?;
        self.profile.set.merge(&set);
        Ok(())
    }
}

#[pymethods]
impl Profiler {
    #[new]
    #[pyo3(signature = (plan=None))]
    fn new(plan: Option<&Plan>) -> Profiler {
        Profiler {
            plan: plan.map(|p| p.inner.clone()).unwrap_or_default(),
            profile: Profile::default(),
            pending: Vec::new(),
            pending_rows: 0,
        }
    }

    /// Folds a pyarrow RecordBatch or Table (read in place, not copied). Small batches are
    /// gathered up to about a million rows and folded together.
    fn update(&mut self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        for b in batches_of(data)? {
            self.pending_rows += b.num_rows();
            self.pending.push(b);
        }
        if self.pending_rows >= GATHER_ROWS {
            self.flush(py)?;
        }
        Ok(())
    }

    /// Folds `data` (a RecordBatch or Table) as one unit of work, exactly as `driftscope
    /// monitor` folds one Parquet row group: its rows through one engine profiler in slices of
    /// 65,536 from the first. Give each row group of a file to its own `Profiler` this way and
    /// merge the partials as the CLI does — a file's row groups in order, then the files in order
    /// into an empty `Profile` — and the outputs are the CLI's, byte for byte, whatever pieces
    /// the rows came in (examples/spark does so).
    fn update_unit(&mut self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        self.flush(py)?;
        let batches = batches_of(data)?;
        let plan = &self.plan;
        let set = py.detach(|| profile_unit(&batches, plan, &CpuBackend)).map_err(value_error)?;
        if self.profile.set.segments.is_empty() {
            self.profile.set = set;
        } else {
            self.profile.set.merge(&set);
        }
        Ok(())
    }

    /// The profile so far.
    fn profile(&mut self, py: Python<'_>) -> PyResult<Profile> {
        self.flush(py)?;
        Ok(self.profile.clone())
    }

    /// The profile so far, as bytes: `Profile.from_bytes` reads them back.
    #[allow(clippy::wrong_self_convention, reason = "Python's name for it; the pending rows are folded first")]
    fn to_bytes<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        self.flush(py)?;
        self.profile.to_bytes(py)
    }

    /// Adds another profiler's or profile's rows.
    fn merge(&mut self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<()> {
        self.flush(py)?;
        if let Ok(mut p) = other.extract::<PyRefMut<'_, Profiler>>() {
            p.flush(py)?;
            self.profile.merge(&p.profile);
        } else if let Ok(p) = other.extract::<PyRef<'_, Profile>>() {
            self.profile.merge(&p);
        } else {
            return Err(PyTypeError::new_err("merge takes a Profiler or a Profile"));
        }
        Ok(())
    }

    /// Rows given so far.
    #[getter]
    fn rows(&self) -> u64 {
        self.profile.rows() + self.pending_rows as u64
    }
}

/// A profile judged against a baseline: drift per feature, SageMaker's violations, the verdict.
#[pyclass(module = "driftscope._driftscope", frozen)]
struct Comparison {
    report: MonitorReport,
    current: DatasetProfile,
}

#[pymethods]
impl Comparison {
    /// `drift.json`'s content, as a JSON string.
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string_pretty(&self.report).map_err(value_error)
    }

    /// The violations, as `constraint_violations.json` lists them (JSON string).
    fn violations_json(&self) -> PyResult<String> {
        serde_json::to_string_pretty(&self.report.violations).map_err(value_error)
    }

    /// Number of violations (drift included).
    #[getter]
    fn violation_count(&self) -> usize {
        self.report.violations.len()
    }

    /// Names of the features that drifted.
    #[getter]
    fn drifted(&self) -> Vec<String> {
        self.report.features.iter().filter(|f| f.drifted()).map(|f| f.name.clone()).collect()
    }

    /// The Markdown summary `monitor` prints.
    fn markdown(&self) -> String {
        driftscope_core::output::report::markdown::render(&self.report)
    }

    /// The verdicts as a pyarrow Table, a row per feature: feature, kind, status, method,
    /// distance, threshold, reason, violations, psi, js_distance, linf_simple.
    fn to_table(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let batch = verdict_table(&self.report).map_err(value_error)?;
        let rb = batch.to_pyarrow(py)?;
        let pa = py.import("pyarrow")?;
        Ok(pa.getattr("Table")?.call_method1("from_batches", (vec![rb],))?.unbind())
    }

    /// Writes the files `monitor` writes (statistics.json, constraint_violations.json,
    /// drift.json, profile.json, report.html) into `dir`; returns their paths.
    fn write_outputs(&self, py: Python<'_>, dir: PathBuf) -> PyResult<Vec<String>> {
        let written = py.detach(|| write_monitor_files(&dir, &self.report, &self.current)).map_err(baseline_error)?;
        Ok(written.into_iter().map(|p| p.display().to_string()).collect())
    }
}

/// Refuses a profile whose numeric histograms are not over the baseline's bin edges (a
/// `Plan()` without the baseline): every such feature would be skipped and, compared with
/// nothing, the dataset called drifted.
fn check_edges(base: &Baseline, current: &DatasetProfile) -> PyResult<()> {
    let unbinned: Vec<String> = base
        .edges()
        .into_iter()
        .filter(|(name, edges)| {
            current.column(name).is_some_and(|c| {
                c.present() > 0 && c.histogram.as_ref().is_none_or(|h| h.edges.as_ref() != edges.as_slice())
            })
        })
        .map(|(name, _)| name)
        .collect();
    if unbinned.is_empty() {
        return Ok(());
    }
    let shown: Vec<&str> = unbinned.iter().take(5).map(String::as_str).collect();
    Err(value_error(format!(
        "the profile's histograms are not over the baseline's bin edges ({} numeric features: {}{}): profile with driftscope.Plan(baseline=\"{}\")",
        unbinned.len(),
        shown.join(", "),
        if unbinned.len() > shown.len() { ", …" } else { "" },
        base.dir.display()
    )))
}

/// Judges `profile` against the baseline folder `baseline` (driftscope's, or SageMaker's
/// statistics.json and constraints.json), as `driftscope monitor` does. `files`, a list of
/// `(path, rows)` in the order they were merged, fills drift.json's list of inputs as
/// `monitor`'s does.
#[pyfunction]
#[pyo3(signature = (baseline, profile, dataset_drift_share=0.5, files=None))]
fn compare(
    py: Python<'_>,
    baseline: PathBuf,
    profile: &Bound<'_, PyAny>,
    dataset_drift_share: f64,
    files: Option<Vec<(String, u64)>>,
) -> PyResult<Comparison> {
    let mut current = if let Ok(p) = profile.extract::<PyRef<'_, Profile>>() {
        p.whole()
    } else if let Ok(mut p) = profile.extract::<PyRefMut<'_, Profiler>>() {
        p.flush(py)?;
        p.profile.whole()
    } else {
        return Err(PyTypeError::new_err("compare takes a Profile or a Profiler"));
    };
    if !(dataset_drift_share > 0.0 && dataset_drift_share <= 1.0) {
        return Err(value_error(format!("dataset_drift_share: expected a share in (0, 1], got {dataset_drift_share}")));
    }
    let base = Baseline::load(&baseline).map_err(baseline_error)?;
    check_edges(&base, &current)?;
    // The multivariate verdict, when the baseline has a model and the profile its errors.
    let multivariate = MultivariateBaseline::load(&baseline).map_err(baseline_error)?;
    let verdict = multivariate.as_ref().filter(|_| reading(&current).is_some()).map(|m| m.judge(&current));
    take_out(&mut current);
    let files = files.unwrap_or_default();
    let mut report =
        py.detach(|| report_for_profile(&base, &current, dataset_drift_share, ("cpu", "cpu (python)"), &files));
    if let (Some(m), Some(v)) = (&multivariate, verdict) {
        let (r, violation) = m.report(v);
        report.violations.extend(violation);
        report.summary.violations = report.violations.len();
        report.multivariate = Some(r);
    }
    Ok(Comparison { report, current })
}

/// A row per feature of `report`: its verdict and the metrics most asked for.
fn verdict_table(report: &MonitorReport) -> Result<RecordBatch, arrow_schema::ArrowError> {
    use arrow_array::{ArrayRef, Float64Array, StringArray, UInt64Array};
    use std::sync::Arc;
    let f = &report.features;
    let text = |get: &dyn Fn(&driftscope_core::judge::drift::FeatureDrift) -> Option<String>| -> ArrayRef {
        Arc::new(f.iter().map(get).collect::<StringArray>())
    };
    let num = |get: &dyn Fn(&driftscope_core::judge::drift::FeatureDrift) -> Option<f64>| -> ArrayRef {
        Arc::new(f.iter().map(|x| get(x).filter(|v| v.is_finite())).collect::<Float64Array>())
    };
    let violations: ArrayRef = Arc::new(
        f.iter()
            .map(|x| report.violations.iter().filter(|v| v.feature_name == x.name).count() as u64)
            .collect::<UInt64Array>(),
    );
    RecordBatch::try_from_iter([
        ("feature", text(&|x| Some(x.name.clone()))),
        ("kind", text(&|x| Some(x.kind.to_string()))),
        ("status", text(&|x| Some(x.status.to_string()))),
        ("method", text(&|x| x.method.clone())),
        ("distance", num(&|x| x.distance)),
        ("threshold", num(&|x| x.threshold)),
        ("reason", text(&|x| x.reason.clone())),
        ("violations", violations),
        ("psi", num(&|x| x.psi())),
        ("js_distance", num(&|x| x.js_distance())),
        ("linf_simple", num(&|x| x.linf_simple())),
    ])
}

/// Profiles `data` (a pyarrow Table or RecordBatch, or a list of them, held in memory: it is
/// read twice) into a baseline folder `dir`, as `driftscope baseline` does: statistics.json,
/// constraints.json and profile.json, and with `multivariate=True` multivariate.json (the PCA
/// reconstruction of `multivariate_columns`, else every numeric and categorical feature, with
/// chunks of `multivariate_chunk_rows` rows, a tenth of the rows by default). Returns the paths
/// written. `dir` must not hold a baseline or a monitoring run already.
#[pyfunction]
#[pyo3(signature = (data, dir, columns=None, multivariate=false, multivariate_columns=None, multivariate_chunk_rows=None))]
fn baseline(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    dir: PathBuf,
    columns: Option<Vec<String>>,
    multivariate: bool,
    multivariate_columns: Option<Vec<String>>,
    multivariate_chunk_rows: Option<u64>,
) -> PyResult<Vec<String>> {
    let batches = match data.cast::<pyo3::types::PyList>() {
        Ok(items) => {
            let mut all = Vec::new();
            for item in items.iter() {
                all.extend(batches_of(&item)?);
            }
            all
        }
        Err(_) => batches_of(data)?,
    };
    if batches.iter().all(|b| b.num_rows() == 0) {
        return Err(value_error("no rows to baseline"));
    }
    if multivariate_chunk_rows == Some(0) {
        return Err(value_error("multivariate_chunk_rows: must be at least 1"));
    }
    let written = py
        .detach(|| -> driftscope_core::Result<Vec<PathBuf>> {
            driftscope_core::output::folder::check_output(
                &dir,
                None,
                driftscope_core::output::folder::Job::Baseline,
                false,
            )?;
            let profile = driftscope_core::jobs::baseline::baseline_of_batches(&batches, columns, &CpuBackend)?;
            let model = if multivariate || multivariate_columns.is_some() || multivariate_chunk_rows.is_some() {
                let (cols, chunk) = (multivariate_columns, multivariate_chunk_rows);
                Some(driftscope_core::jobs::multivariate::fit_in_memory(&batches, &profile, cols, chunk)?)
            } else {
                None
            };
            let mut written = driftscope_core::output::write_baseline_files(&dir, &profile)?;
            if let Some(m) = model {
                let p = dir.join(driftscope_core::judge::multivariate::MULTIVARIATE);
                driftscope_core::output::write_atomic(&p, &driftscope_core::output::to_json(&m))?;
                written.push(p);
            }
            Ok(written)
        })
        .map_err(baseline_error)?;
    Ok(written.into_iter().map(|p| p.display().to_string()).collect())
}

/// The extension module.
#[pymodule]
fn _driftscope(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Plan>()?;
    m.add_class::<Profile>()?;
    m.add_class::<Profiler>()?;
    m.add_class::<Comparison>()?;
    m.add_function(wrap_pyfunction!(compare, m)?)?;
    m.add_function(wrap_pyfunction!(baseline, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
