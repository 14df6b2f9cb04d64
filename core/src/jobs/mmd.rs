//! The kernel two-sample test (MMD, [`crate::judge::mmd`]) in the jobs: the tap that sums each
//! row's random features in the pass that profiles the inputs — for the run and each window,
//! and in the baseline for its chunks and the sums of products of a sample of rows — the
//! baseline's model, and a monitoring run's verdicts.
//!
//! Every sum is an integer sum, so the figures do not depend on the threads, the row groups or
//! the order files are read in.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use arrow_array::RecordBatch;

use super::JobOptions;
use crate::engine::tap::Windows;
use crate::engine::Tap;
use crate::error::{invalid, Opt, Result};
use crate::judge::mmd::{MmdModel, MmdVerdict, Null, COVARIANCE_ROWS, DEFAULT_ALPHA, SEED};
use crate::judge::multivariate::MultivariateBaseline;
use crate::profile::pca::Standardize;
use crate::profile::rff::{quantize, Products, Rff, Sums};
use crate::source::scan::ScannedFile;
use crate::time::timeline::{WindowOptions, WindowResult};

/// A file's sums: over its rows, per window, and the products of the sampled rows.
#[derive(Debug, Default)]
struct Part {
    whole: Sums,
    windows: BTreeMap<i64, Sums>,
    products: Products,
}

impl Part {
    fn merge(&mut self, o: &Part) {
        self.whole.merge(&o.whole);
        for (k, s) in &o.windows {
            self.windows.entry(*k).or_default().merge(s);
        }
        self.products.merge(&o.products);
    }
}

/// What the tap summed: over every row, per window (start, or index for windows of rows), and
/// the sums of products of the sampled rows.
#[derive(Debug, Default)]
pub struct Summed {
    /// Over every row.
    pub whole: Sums,
    /// Per window.
    pub windows: BTreeMap<i64, Sums>,
    /// Of the sampled rows (the baseline's).
    pub products: Products,
}

/// The tap that sums each row's random features.
pub struct MmdTap {
    standardize: Standardize,
    rff: Rff,
    windows: Option<Windows>,
    /// Every `stride`-th row of the inputs (by its place) feeds the sums of products.
    stride: Option<u64>,
    /// Per file.
    files: Mutex<BTreeMap<usize, Part>>,
    /// Rows seen per row group.
    seen: Mutex<BTreeMap<(usize, usize), u64>>,
    /// Why a batch could not be summed (a time column, the device).
    failure: Mutex<Option<String>>,
}

impl MmdTap {
    /// The tap of `rff` over the rows `standardize` makes, per window of `windows`; with
    /// `stride`, every `stride`-th row also feeds the sums of products (the windows must be
    /// windows of rows, which give each row's place).
    pub fn new(standardize: Standardize, rff: Rff, windows: Option<Windows>, stride: Option<u64>) -> MmdTap {
        MmdTap {
            standardize,
            rff,
            windows,
            stride,
            files: Mutex::new(BTreeMap::new()),
            seen: Mutex::new(BTreeMap::new()),
            failure: Mutex::new(None),
        }
    }

    /// A batch's sums: its rows quantized on the host, their features summed per window by the
    /// backend (a GPU kernel, or the CPU twin), the sampled rows' products on the host.
    fn feed(
        &self,
        unit: (usize, usize),
        batch: &RecordBatch,
        seen: u64,
        backend: &dyn crate::backend::Backend,
    ) -> std::result::Result<Part, String> {
        let q: Vec<i32> = self.standardize.rows(batch).iter().map(|&v| quantize(v)).collect();
        let keys = self.windows.as_ref().map(|w| w.keys(unit, batch, seen)).transpose()?.flatten();
        let key = |i: usize| keys.as_ref().and_then(|k| k[i]);
        // Each row's group: its window's place among the batch's windows (rows without one:
        // a group of their own).
        let (mut order, mut groups, mut rows): (Vec<Option<i64>>, Vec<u32>, Vec<u64>) = Default::default();
        let mut place: std::collections::HashMap<Option<i64>, u32> = std::collections::HashMap::new();
        // Rows come in runs of one window: the last row's group is looked up once per run.
        let mut last: Option<(Option<i64>, u32)> = None;
        for i in 0..batch.num_rows() {
            let k = key(i);
            let g = match last {
                Some((l, g)) if l == k => g,
                _ => *place.entry(k).or_insert_with(|| {
                    order.push(k);
                    rows.push(0);
                    (order.len() - 1) as u32
                }),
            };
            last = Some((k, g));
            rows[g as usize] += 1;
            groups.push(g);
        }
        let sums = backend.rff_sums(&self.rff, &q, &groups, order.len()).map_err(|e| e.to_string())?;
        let d = self.rff.count;
        let mut part = Part::default();
        for (g, k) in order.iter().enumerate() {
            let s = Sums { rows: rows[g], sums: sums[g * d..(g + 1) * d].to_vec() };
            part.whole.merge(&s);
            if let Some(k) = k {
                part.windows.entry(*k).or_default().merge(&s);
            }
        }
        if let (Some(stride), Some(first)) = (self.stride, self.windows.as_ref().and_then(|w| w.first_row(unit, seen)))
        {
            let k = self.standardize.columns.len().max(1);
            let mut c = Vec::new();
            for i in (0..batch.num_rows()).filter(|i| (first + *i as u64).is_multiple_of(stride)) {
                self.rff.cosines_of(&q[i * k..(i + 1) * k], &mut c);
                part.products.add(&c);
            }
        }
        Ok(part)
    }

    /// The sums over every file fed.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] naming the file of a batch that could not be summed (its time
    /// column, or the device).
    pub fn finish(&self) -> Result<Summed> {
        if let Some(why) = self.failure.lock().expect("mmd lock").take() {
            return Err(invalid(Opt::Mmd, why));
        }
        let files = std::mem::take(&mut *self.files.lock().expect("mmd lock"));
        let mut all = Part::default();
        for part in files.values() {
            all.merge(part);
        }
        Ok(Summed { whole: all.whole, windows: all.windows, products: all.products })
    }
}

impl Tap for MmdTap {
    fn columns(&self, _file: &ScannedFile) -> Vec<String> {
        let mut v = self.standardize.columns.clone();
        v.extend(self.windows.as_ref().and_then(Windows::column).map(str::to_string));
        v
    }

    fn batch(&self, unit: (usize, usize), file: &ScannedFile, batch: &RecordBatch) {
        self.batch_on(unit, file, batch, &crate::backend::cpu::CpuBackend);
    }

    fn batch_on(
        &self,
        unit: (usize, usize),
        file: &ScannedFile,
        batch: &RecordBatch,
        backend: &dyn crate::backend::Backend,
    ) {
        // Batches of one row group come in order from one thread.
        let seen = {
            let mut seen = self.seen.lock().expect("mmd lock");
            let s = seen.entry(unit).or_default();
            let before = *s;
            *s += batch.num_rows() as u64;
            before
        };
        match self.feed(unit, batch, seen, backend) {
            Ok(part) => self.files.lock().expect("mmd lock").entry(unit.0).or_default().merge(&part),
            Err(why) => {
                let mut f = self.failure.lock().expect("mmd lock");
                f.get_or_insert_with(|| format!("{}: {why}", file.path.display()));
            }
        }
    }

    fn drop_file(&self, fi: usize) {
        self.files.lock().expect("mmd lock").remove(&fi);
        self.seen.lock().expect("mmd lock").retain(|(f, _), _| *f != fi);
    }

    fn reset(&self) {
        self.files.lock().expect("mmd lock").clear();
        self.seen.lock().expect("mmd lock").clear();
        *self.failure.lock().expect("mmd lock") = None;
    }
}

/// The random features of a baseline's standardized features, `constant` of them without
/// variance: the Gaussian kernel's bandwidth by the mean heuristic (σ² = the features with
/// variance, 1 at least).
pub(super) fn features(s: &Standardize, constant: usize, count: usize) -> Rff {
    let varying = s.columns.len().saturating_sub(constant);
    Rff::draw(s.columns.len(), count, (varying.max(1) as f64).sqrt(), SEED)
}

/// The tap of a baseline's third pass: chunks of `chunk` rows, and every row of a sample of at
/// most [`COVARIANCE_ROWS`] evenly spaced for the covariance.
pub(super) fn baseline_tap(s: &Standardize, rff: Rff, chunk: u64, rows: u64, good: &[ScannedFile]) -> MmdTap {
    let windows = Windows::Rows(chunk, crate::engine::files::first_rows(good));
    MmdTap::new(s.clone(), rff, Some(windows), Some(rows.div_ceil(COVARIANCE_ROWS).max(1)))
}

/// The model from the baseline tap's sums.
///
/// # Errors
/// [`crate::Error::Invalid`] with fewer than two chunks.
pub(super) fn fit(tap: &MmdTap, chunk: u64) -> Result<MmdModel> {
    let summed = tap.finish()?;
    let chunks: Vec<(u64, Sums)> = summed.windows.into_iter().map(|(i, s)| (i as u64 * chunk, s)).collect();
    MmdModel::fit(tap.rff.clone(), &summed.whole, &summed.products, chunk, &chunks, DEFAULT_ALPHA)
        .map_err(|why| invalid(Opt::Mmd, why))
}

/// A monitoring run's kernel test: the tap, and the model it judges with.
pub(super) struct MmdRun {
    /// The tap of the pass.
    pub(super) tap: MmdTap,
    model: MmdModel,
    features: Vec<String>,
}

/// The kernel test of a monitoring run whose baseline has one (in `m`), per window.
pub(super) fn start(
    m: Option<&MultivariateBaseline>,
    windows: Option<&WindowOptions>,
    s: &crate::source::scan::Scan,
) -> Result<Option<MmdRun>> {
    let Some((mv, model)) = m.and_then(|m| m.mmd.as_ref().map(|k| (m, k))) else { return Ok(None) };
    let kind = super::estimation::tap_windows(windows, s)?;
    let tap = MmdTap::new(mv.pca.standardize.clone(), model.random_features.clone(), kind, None);
    Ok(Some(MmdRun { tap, model: model.clone(), features: mv.pca.standardize.columns.clone() }))
}

/// Finishes the run's kernel test: the sums (read again when the pass resumed), the run's
/// verdict in the report (a violation when it drifted) and each window's by start.
///
/// # Errors
/// As [`MmdTap::finish`].
pub(super) fn finish(
    opts: &JobOptions,
    run: Option<&MmdRun>,
    (resumed, good): (usize, &[ScannedFile]),
    report: &mut crate::output::report::MonitorReport,
) -> Result<BTreeMap<i64, MmdVerdict>> {
    let Some(MmdRun { tap, model, features }) = run else { return Ok(BTreeMap::new()) };
    super::reread_tap(opts, tap, resumed, good)?;
    let summed = tap.finish()?;
    let (null, base) = (Null::of(&model.eigenvalues), model.means());
    let (r, violation) = model.report(features, model.judge(&summed.whole, &null, &base));
    if let Some(v) = violation {
        report.violations.push(v);
        report.summary.violations = report.violations.len();
    }
    report.mmd = Some(r);
    Ok(model.judge_windows(&summed.windows, &null, &base))
}

/// Each window's kernel-test verdict: a violation added to the window's when it drifted, and
/// `mmd.csv` (one row per window) written. Returns each window's verdict, in the windows' order.
pub(super) fn judge_windows(
    dir: &Path,
    run: Option<&MmdRun>,
    verdicts: &BTreeMap<i64, MmdVerdict>,
    results: &mut [WindowResult],
    report: &mut crate::output::report::MonitorReport,
    written: &mut Vec<PathBuf>,
) -> Result<Vec<Option<MmdVerdict>>> {
    let Some(run) = run else { return Ok(Vec::new()) };
    let num = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    let mut rows = Vec::with_capacity(results.len());
    let mut out = Vec::with_capacity(results.len());
    for (i, r) in results.iter_mut().enumerate() {
        let Some(v) = verdicts.get(&r.start) else {
            out.push(None);
            continue;
        };
        let mut row = super::multivariate::window_cells(r, i, v.rows);
        row.extend([num(v.statistic), num(v.mmd2), num(v.p_value), v.level.to_string(), v.threshold.to_string()]);
        row.push(v.drift.to_string());
        rows.push(row);
        if let Some(violation) = run.model.violation(&run.features, v) {
            r.violations.push(violation);
        }
        out.push(Some(v.clone()));
    }
    let p = dir.join("mmd.csv");
    let header = [
        "window_start",
        "window_end",
        "window_index",
        "rows",
        "statistic",
        "mmd2",
        "p_value",
        "level",
        "threshold",
        "drift",
    ];
    crate::output::write_csv(&p, &header, rows)?;
    written.push(p);
    if let Some(m) = report.mmd.as_mut() {
        m.windows = Some(results.len());
        m.windows_with_drift = Some(out.iter().filter(|v| v.as_ref().is_some_and(|v| v.drift)).count());
    }
    Ok(out)
}

/// The kernel test's series of the report's timeline: each window's `mmd2` against the
/// threshold.
pub(super) fn timeline(run: &MmdRun, windows: &[Option<MmdVerdict>]) -> crate::output::report::TimelineFeature {
    crate::output::report::TimelineFeature {
        name: "(kernel MMD)".into(),
        metric: run.model.method.clone(),
        threshold: Some(run.model.threshold),
        values: windows.iter().map(|v| v.as_ref().and_then(|v| v.mmd2)).collect(),
        status: windows.iter().map(|v| super::multivariate::status(v.as_ref().map(|v| (v.mmd2, v.drift)))).collect(),
        changes: Vec::new(),
    }
}
