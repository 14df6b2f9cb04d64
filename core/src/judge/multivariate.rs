//! Multivariate drift (PCA reconstruction error, [`crate::profile::pca`]): the baseline's model
//! and range in `multivariate.json`, and a run's or a window's mean error judged against it.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::judge::sagemaker::{CheckType, Violation};
use crate::profile::pca::{Pca, RECONSTRUCTION};
use crate::profile::DatasetProfile;

/// The file of a baseline's multivariate model.
pub const MULTIVARIATE: &str = "multivariate.json";

/// Standard deviations of the baseline's chunk errors either side of their mean within which a
/// mean error is normal (NannyML's default threshold).
pub const SIGMAS: f64 = 3.0;

/// One chunk of rows: its mean reconstruction error and that mean's standard error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chunk {
    /// First row (in the inputs' order, from 0).
    pub start: u64,
    /// Row past the last.
    pub end: u64,
    /// Mean reconstruction error.
    pub value: f64,
    /// The standard error of the mean (the errors' sample standard deviation over √rows).
    pub sampling_error: Option<f64>,
}

/// A baseline's multivariate model: the PCA, its chunks' errors and the range they give.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MultivariateBaseline {
    /// `pca_reconstruction`.
    pub method: String,
    /// Share of the variance the kept components explain at least.
    pub variance: f64,
    /// The fitted model.
    pub pca: Pca,
    /// Rows per chunk of the baseline.
    pub chunk_rows: u64,
    /// The baseline's chunks, in order.
    pub chunks: Vec<Chunk>,
    /// Below this mean error, drift (`None`: no lower bound, as when it would be at or below 0).
    pub lower_threshold: Option<f64>,
    /// Above this mean error, drift.
    pub upper_threshold: Option<f64>,
    /// Features without variance in the baseline: standardized to 0, they add nothing to the
    /// reconstruction until they move (and then every row's error grows by how far).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub constant: Vec<String>,
    /// The kernel two-sample test on the same features, when the baseline was made with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mmd: Option<crate::judge::mmd::MmdModel>,
}

/// The mean error of a profile (a run's, a window's, a chunk's), its standard error and rows.
pub fn reading(p: &DatasetProfile) -> Option<(f64, Option<f64>, u64)> {
    mean_error(&p.column(RECONSTRUCTION)?.moments)
}

/// The mean of errors summed in `m`, its standard error (the sample standard deviation over
/// √n, for at least two errors) and their number.
pub fn mean_error(m: &crate::profile::moments::Moments) -> Option<(f64, Option<f64>, u64)> {
    let mean = m.mean()?;
    let se = (m.n > 1).then(|| (m.m2 / (m.n - 1) as f64).sqrt() / (m.n as f64).sqrt());
    Some((mean, se, m.n))
}

/// Takes the reconstruction-error column out of a profile (it is no feature of the data).
pub fn take_out(p: &mut DatasetProfile) {
    p.columns.retain(|c| c.name != RECONSTRUCTION);
}

impl MultivariateBaseline {
    /// The model and range from the baseline's chunks: their mean ± [`SIGMAS`] population
    /// standard deviations, a lower bound at or below 0 dropped.
    pub fn new(pca: Pca, variance: f64, chunk_rows: u64, chunks: Vec<Chunk>) -> MultivariateBaseline {
        let values: Vec<f64> = chunks.iter().map(|c| c.value).filter(|v| v.is_finite()).collect();
        let (lower, upper) = if values.is_empty() {
            (None, None)
        } else {
            let n = values.len() as f64;
            let mean = values.iter().sum::<f64>() / n;
            let sd = (values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt();
            let lower = mean - SIGMAS * sd;
            ((lower > 0.0).then_some(lower), Some(mean + SIGMAS * sd))
        };
        MultivariateBaseline {
            method: "pca_reconstruction".into(),
            variance,
            pca,
            chunk_rows,
            chunks,
            lower_threshold: lower,
            upper_threshold: upper,
            constant: Vec::new(),
            mmd: None,
        }
    }

    /// Loads a baseline folder's model, `None` when it has none.
    ///
    /// # Errors
    /// [`crate::Error::Baseline`] naming the file when it is unreadable or malformed.
    pub fn load(dir: &Path) -> Result<Option<MultivariateBaseline>> {
        let path = dir.join(MULTIVARIATE);
        if !path.is_file() {
            return Ok(None);
        }
        let m: MultivariateBaseline = crate::judge::baseline::read_json(&path)?;
        m.check().map_err(|message| crate::Error::Baseline { path, message })?;
        Ok(Some(m))
    }

    /// Why a model read from a file cannot be used (its parts' sizes disagree, a figure is not
    /// finite), if it cannot: a damaged file is refused, never a panic or a wrong number.
    fn check(&self) -> std::result::Result<(), String> {
        let s = &self.pca.standardize;
        let k = s.columns.len();
        if s.means.len() != k || s.scales.len() != k || !(s.encodings.is_empty() || s.encodings.len() == k) {
            return Err(format!("damaged: {k} features but {} means and {} scales", s.means.len(), s.scales.len()));
        }
        if self.pca.components.iter().any(|c| c.len() != k) || self.pca.components.is_empty() {
            return Err(format!("damaged: the components are not vectors over the {k} features"));
        }
        let finite = |v: &[f64]| v.iter().all(|x| x.is_finite());
        if !finite(&s.means) || !finite(&s.scales) || !self.pca.components.iter().all(|c| finite(c)) {
            return Err("damaged: a mean, scale or component is not a finite number".into());
        }
        if let Some(m) = &self.mmd {
            m.check(k)?;
        }
        Ok(())
    }

    /// True when a mean error lies outside the range.
    pub fn drifted(&self, value: f64) -> bool {
        self.lower_threshold.is_some_and(|l| value < l) || self.upper_threshold.is_some_and(|u| value > u)
    }

    /// The verdict on a profile's mean error.
    pub fn judge(&self, p: &DatasetProfile) -> MultivariateVerdict {
        let r = reading(p);
        MultivariateVerdict {
            rows: r.map_or(0, |r| r.2),
            value: r.map(|r| r.0),
            sampling_error: r.and_then(|r| r.1),
            lower_threshold: self.lower_threshold,
            upper_threshold: self.upper_threshold,
            drift: r.is_some_and(|r| self.drifted(r.0)),
        }
    }

    /// What `drift.json` says of a run's verdict, and its violation when it drifted.
    pub fn report(&self, run: MultivariateVerdict) -> (MultivariateReport, Option<Violation>) {
        let violation = self.violation(&run);
        let report = MultivariateReport {
            method: self.method.clone(),
            features: self.pca.standardize.columns.clone(),
            components: self.pca.components.len(),
            explained_variance: self.pca.explained_variance_ratio.iter().sum(),
            run,
            windows: None,
            windows_with_drift: None,
        };
        (report, violation)
    }

    /// The violation of a verdict that drifted.
    pub fn violation(&self, v: &MultivariateVerdict) -> Option<Violation> {
        let value = v.value.filter(|_| v.drift)?;
        let range = match (self.lower_threshold, self.upper_threshold) {
            (Some(l), Some(u)) => format!("[{l:.4}, {u:.4}]"),
            (None, Some(u)) => format!("at most {u:.4}"),
            (Some(l), None) => format!("at least {l:.4}"),
            (None, None) => "–".into(),
        };
        Some(Violation {
            feature_name: self.pca.standardize.columns.join(","),
            constraint_check_type: CheckType::MultivariateDriftCheck,
            description: format!(
                "Mean PCA reconstruction error {value:.4} of {} features ({} components) is outside the baseline's range {range}",
                self.pca.standardize.columns.len(),
                self.pca.components.len()
            ),
            figures: None,
        })
    }
}

/// A run's (or a window's) multivariate verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MultivariateVerdict {
    /// Rows with an error.
    pub rows: u64,
    /// Mean reconstruction error.
    pub value: Option<f64>,
    /// Its standard error.
    pub sampling_error: Option<f64>,
    /// The baseline's range.
    pub lower_threshold: Option<f64>,
    /// The baseline's range.
    pub upper_threshold: Option<f64>,
    /// Outside the range.
    pub drift: bool,
}

impl MultivariateReport {
    /// The verdict in a sentence, for the Markdown summary and the HTML report.
    pub fn sentence(&self) -> String {
        let range = match (self.run.lower_threshold, self.run.upper_threshold) {
            (Some(l), Some(u)) => format!("normal {l:.4} to {u:.4}"),
            (None, Some(u)) => format!("normal up to {u:.4}"),
            _ => "no normal range".into(),
        };
        let mut s = format!(
            "{}: mean PCA reconstruction error {} of {} features ({} components, {:.0}% of the variance; {range})",
            if self.run.drift { "drift" } else { "no drift" },
            self.run.value.map_or("–".to_string(), |v| format!("{v:.4}")),
            self.features.len(),
            self.components,
            100.0 * self.explained_variance
        );
        if let (Some(n), Some(d)) = (self.windows, self.windows_with_drift) {
            s.push_str(&format!("; {d} of {n} windows drifted (multivariate.csv)"));
        }
        s
    }
}

/// What `drift.json` says of multivariate drift.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MultivariateReport {
    /// `pca_reconstruction`.
    pub method: String,
    /// The features.
    pub features: Vec<String>,
    /// Components kept.
    pub components: usize,
    /// Share of the variance they explain.
    pub explained_variance: f64,
    /// The run's verdict.
    #[serde(flatten)]
    pub run: MultivariateVerdict,
    /// Windows judged (with windows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub windows: Option<usize>,
    /// Windows whose mean error left the range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub windows_with_drift: Option<usize>,
}
