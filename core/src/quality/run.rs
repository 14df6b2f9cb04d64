//! Model quality in the baseline and monitor jobs: the flags, the baseline's files, and the
//! report section.
//!
//! A baseline with `--problem-type` writes `model_quality/statistics.json`,
//! `model_quality/constraints.json` (SageMaker's shapes) and `model_quality/settings.json`
//! (driftscope's: the problem type, columns and threshold, so that `monitor` needs no flag).
//! `monitor -b` reads that folder, or a SageMaker model-quality baseline folder as is (its
//! `statistics.json` and `constraints.json`; the columns then come from the flags).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::join::{score, QualityOutcome, QualityRequest, Scoring, WindowQuality, DEFAULT_JOIN_MEMORY};
use super::sagemaker::{check, parse_constraints, parse_statistics, QualityConstraints, QualityViolation};
use super::{ProblemType, QualityError, QualitySettings};
use crate::engine::window::Window;
use crate::error::{invalid, Error, Opt, Result};
use crate::source::scan::ScannedFile;

/// The folder of a baseline or monitoring run that holds the model-quality files.
pub const FOLDER: &str = "model_quality";
/// driftscope's record of the problem type and columns.
pub const SETTINGS: &str = "settings.json";

/// Model-quality flags as given; what is not given comes from the baseline.
#[derive(Debug, Clone, Default)]
pub struct QualityFlags {
    /// `--problem-type`.
    pub problem_type: Option<ProblemType>,
    /// `--label`.
    pub label: Option<String>,
    /// `--prediction`.
    pub prediction: Option<String>,
    /// `--probability`.
    pub probability: Option<String>,
    /// `--threshold`.
    pub threshold: Option<f64>,
    /// `--positive-label`.
    pub positive_label: Option<String>,
    /// `--ground-truth` inputs (monitor).
    pub ground_truth: Vec<String>,
    /// `--id-column`.
    pub id_column: Option<String>,
    /// `--join-memory` in bytes.
    pub join_memory: Option<u64>,
    /// `--class-probabilities`: (class, column) pairs.
    pub class_probabilities: Option<Vec<(String, String)>>,
}

impl QualityFlags {
    /// True when any model-quality flag was given.
    pub fn any(&self) -> bool {
        self.problem_type.is_some()
            || self.label.is_some()
            || self.prediction.is_some()
            || self.probability.is_some()
            || self.threshold.is_some()
            || self.positive_label.is_some()
            || !self.ground_truth.is_empty()
            || self.id_column.is_some()
            || self.class_probabilities.is_some()
    }

    /// The settings: the baseline's (when there is one) with the flags over them.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the option that is missing or does not fit.
    pub fn resolve(&self, base: Option<&QualityBaseline>) -> Result<Option<QualitySettings>> {
        let from_base = base.and_then(|b| b.settings.clone());
        let problem = match (self.problem_type, base) {
            (Some(p), Some(b)) if p != b.problem_type => {
                return Err(invalid(
                    Opt::ProblemType,
                    format!("{} does not match the baseline's model quality ({})", p.name(), b.problem_type.name()),
                ))
            }
            (Some(p), _) => p,
            (None, Some(b)) => b.problem_type,
            (None, None) if self.any() => {
                return Err(invalid(
                    Opt::ProblemType,
                    "model quality needs one (Regression, BinaryClassification or MulticlassClassification), or a baseline with model quality",
                ))
            }
            (None, None) => return Ok(None),
        };
        let mut s = from_base.unwrap_or_else(|| QualitySettings::new(problem, ""));
        s.problem_type = problem;
        if let Some(l) = &self.label {
            s.label.clone_from(l);
        }
        // An empty name drops the baseline's column (`--prediction ''`: derive the label from
        // the probability).
        let given = |v: &Option<String>| v.as_ref().map(|c| Some(c.clone()).filter(|c| !c.is_empty()));
        if let Some(p) = given(&self.prediction) {
            s.prediction = p;
        }
        if let Some(p) = given(&self.probability) {
            s.probability = p;
        }
        if let Some(t) = self.threshold {
            s.threshold = t;
        }
        if let Some(p) = &self.positive_label {
            s.positive_label.clone_from(p);
        }
        if let Some(c) = &self.class_probabilities {
            s.class_probabilities.clone_from(c);
        }
        if s.label.is_empty() {
            return Err(invalid(
                Opt::Label,
                if base.is_some() {
                    "the baseline's model quality does not name its columns (a SageMaker folder): give the label column, and the prediction or the probability column"
                } else {
                    "model quality needs one"
                },
            ));
        }
        s.validate()?;
        Ok(Some(s))
    }
}

/// A model-quality baseline: driftscope's `model_quality` folder or SageMaker's files.
#[derive(Debug, Clone)]
pub struct QualityBaseline {
    /// The folder read.
    pub dir: PathBuf,
    /// The problem type.
    pub problem_type: ProblemType,
    /// The columns and threshold (driftscope's baselines only).
    pub settings: Option<QualitySettings>,
    /// The baseline's metric values, when its statistics file is there.
    pub values: BTreeMap<String, f64>,
    /// The constraints.
    pub constraints: QualityConstraints,
    /// True when the folder holds model quality only (SageMaker's model-quality baseline).
    pub only: bool,
}

fn read_json(p: &Path) -> Result<serde_json::Value> {
    crate::judge::baseline::read_json(p)
}

impl QualityBaseline {
    /// The model quality of baseline folder `dir`, if it has any.
    ///
    /// # Errors
    /// [`Error::Baseline`] naming the file when one is there but malformed.
    pub fn load(dir: &Path) -> Result<Option<QualityBaseline>> {
        if crate::source::remote::Staged::names_remote(dir) {
            let staged = crate::source::remote::Staged::input(dir)?;
            return Ok(Self::load(staged.local())?.map(|b| QualityBaseline { dir: dir.to_path_buf(), ..b }));
        }
        let (folder, only) = if dir.join(FOLDER).join("constraints.json").is_file() {
            (dir.join(FOLDER), false)
        } else {
            let c = dir.join("constraints.json");
            if !c.is_file() || !super::sagemaker::is_quality_json(&read_json(&c)?) {
                return Ok(None);
            }
            (dir.to_path_buf(), true)
        };
        let cpath = folder.join("constraints.json");
        let constraints = parse_constraints(&read_json(&cpath)?)
            .map_err(|e| Error::Baseline { path: cpath.clone(), message: e.to_string() })?;
        let spath = folder.join("statistics.json");
        let values = if spath.is_file() {
            let st = parse_statistics(&read_json(&spath)?)
                .map_err(|e| Error::Baseline { path: spath.clone(), message: e.to_string() })?;
            if st.problem_type != constraints.problem_type {
                return Err(Error::Baseline {
                    path: spath,
                    message: format!(
                        "statistics are for {} but constraints for {}",
                        st.problem_type.name(),
                        constraints.problem_type.name()
                    ),
                });
            }
            st.values.into_iter().map(|(k, (v, _))| (k, v)).collect()
        } else {
            BTreeMap::new()
        };
        let setp = folder.join(SETTINGS);
        let settings = if setp.is_file() {
            Some(
                serde_json::from_value(read_json(&setp)?)
                    .map_err(|e| Error::Baseline { path: setp.clone(), message: crate::error::one_line(e) })?,
            )
        } else {
            None
        };
        Ok(Some(QualityBaseline {
            dir: folder,
            problem_type: constraints.problem_type,
            settings,
            values,
            constraints,
            only,
        }))
    }
}

/// The model-quality section of a monitoring report (`drift.json`'s `model_quality`).
#[derive(Debug, Clone, Serialize)]
pub struct QualityReport {
    /// Columns and problem type.
    pub settings: QualitySettings,
    /// What was scored, and the metrics.
    #[serde(flatten)]
    pub outcome: QualityOutcome,
    /// The baseline's value of each metric, when it has one.
    pub baseline: BTreeMap<String, f64>,
    /// Violated constraints.
    pub violations: Vec<QualityViolation>,
    /// With windows: the metric followed per window, and the features whose drift moves with
    /// its worsening, most first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drift_relevance: Option<DriftRelevance>,
}

/// Which features' drift moves with the model's quality: per window, each feature's drift
/// distance against the quality metric's worsening (the metric itself for errors, its negative
/// for scores), by Spearman's rank correlation over the windows where both are defined.
#[derive(Debug, Clone, Serialize)]
pub struct DriftRelevance {
    /// The metric followed: `rmse`, `auc` (or `accuracy` when auc is undefined), `accuracy`.
    pub metric: String,
    /// Windows with a defined metric.
    pub windows: usize,
    /// Features, the strongest positive correlation first.
    pub features: Vec<FeatureRelevance>,
}

/// One feature's correlation with the quality's worsening.
#[derive(Debug, Clone, Serialize)]
pub struct FeatureRelevance {
    /// The feature.
    pub feature: String,
    /// Spearman's ρ between its drift distance and the worsening, in [-1, 1].
    pub spearman: f64,
    /// Windows both were defined in.
    pub windows: usize,
}

/// Ranks with ties sharing their mean rank.
fn ranks(x: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut r = vec![0.0; x.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && x[idx[j + 1]] == x[idx[i]] {
            j += 1;
        }
        let mean = (i + j) as f64 / 2.0 + 1.0;
        for k in i..=j {
            r[idx[k]] = mean;
        }
        i = j + 1;
    }
    r
}

/// Spearman's ρ: Pearson's correlation of the ranks; `None` under 3 points or without spread.
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() < 3 || x.len() != y.len() {
        return None;
    }
    let (rx, ry) = (ranks(x), ranks(y));
    let n = rx.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in rx.iter().zip(&ry) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// The metric followed per window, and whether a higher value is worse.
fn followed(problem: ProblemType, windows: &[WindowQuality]) -> (&'static str, bool) {
    match problem {
        ProblemType::Regression => ("rmse", true),
        ProblemType::BinaryClassification
            if windows.iter().filter(|w| w.metrics.values.contains_key("auc")).count() * 2 >= windows.len() =>
        {
            ("auc", false)
        }
        _ => ("accuracy", false),
    }
}

/// Correlates each feature's per-window drift with the per-window quality.
pub fn drift_relevance(
    problem: ProblemType,
    windows: &[WindowQuality],
    results: &[crate::time::timeline::WindowResult],
) -> DriftRelevance {
    let (metric, higher_worse) = followed(problem, windows);
    let worse: BTreeMap<i64, f64> = windows
        .iter()
        .filter_map(|w| {
            let v = w.metrics.values.get(metric)?.value;
            Some((w.start, if higher_worse { v } else { -v }))
        })
        .collect();
    let names: Vec<&str> =
        results.first().map(|r| r.features.iter().map(|f| f.name.as_str()).collect()).unwrap_or_default();
    let mut features: Vec<FeatureRelevance> = names
        .iter()
        .enumerate()
        .filter_map(|(j, name)| {
            let (mut x, mut y) = (Vec::new(), Vec::new());
            for r in results {
                if let (Some(d), Some(q)) = (r.features.get(j).and_then(|f| f.distance), worse.get(&r.start)) {
                    if d.is_finite() {
                        x.push(d);
                        y.push(*q);
                    }
                }
            }
            spearman(&x, &y).map(|rho| FeatureRelevance { feature: name.to_string(), spearman: rho, windows: x.len() })
        })
        .collect();
    features.sort_by(|a, b| b.spearman.total_cmp(&a.spearman).then_with(|| a.feature.cmp(&b.feature)));
    DriftRelevance { metric: metric.into(), windows: worse.len(), features }
}

/// One metric of the report's table.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    /// SageMaker's name.
    pub name: String,
    /// The value now, `None` when undefined on these rows.
    pub value: Option<f64>,
    /// Its bootstrap deviation.
    pub standard_deviation: Option<f64>,
    /// The baseline's value.
    pub baseline: Option<f64>,
    /// Why it is undefined, or the violation's description.
    pub note: Option<String>,
    /// True when a constraint is violated.
    pub violated: bool,
}

impl MetricRow {
    /// `violation`, `undefined` or `ok`.
    pub fn status(&self) -> &'static str {
        if self.violated {
            "violation"
        } else if self.value.is_none() {
            "undefined"
        } else {
            "ok"
        }
    }
}

impl QualityReport {
    /// The metrics, defined or not, in name order, with the baseline and the violations.
    pub fn rows(&self) -> Vec<MetricRow> {
        let m = &self.outcome.metrics;
        let mut names: Vec<&String> = m.values.keys().chain(m.undefined.keys()).collect();
        names.sort();
        names
            .into_iter()
            .map(|n| {
                let v = m.values.get(n);
                let violation = self.violations.iter().find(|x| &x.metric_name == n);
                MetricRow {
                    name: n.clone(),
                    value: v.map(|v| v.value),
                    standard_deviation: v.and_then(|v| v.standard_deviation),
                    baseline: self.baseline.get(n).copied(),
                    note: violation.map(|x| x.description.clone()).or_else(|| m.undefined.get(n).cloned()),
                    violated: violation.is_some(),
                }
            })
            .collect()
    }

    /// One sentence on what was scored.
    pub fn sentence(&self) -> String {
        let o = &self.outcome;
        let mut s = format!(
            "{} on `{}` against `{}`: {} rows scored of {} prediction rows, {} violations",
            o.metrics.problem_type.name(),
            self.settings.prediction.as_deref().or(self.settings.probability.as_deref()).unwrap_or(""),
            self.settings.label,
            o.scored_rows,
            o.prediction_rows,
            self.violations.len()
        );
        if o.null_rows > 0 {
            s.push_str(&format!("; {} rows with a null value left out", o.null_rows));
        }
        if o.unmatched_predictions + o.unmatched_labels + o.duplicate_labels > 0 || o.join_memory_bytes > 0 {
            s.push_str(&format!(
                "; join: {} predictions without a label, {} labels without a prediction, {} repeated labels",
                o.unmatched_predictions, o.unmatched_labels, o.duplicate_labels
            ));
        }
        s
    }
}

/// The scoring request of a baseline or monitoring run: `files`' predictions, joined with
/// `ground_truth` when given, spilling into `output` past the flags' memory limit.
pub fn request<'a>(
    settings: &'a QualitySettings,
    flags: &'a QualityFlags,
    files: &'a [ScannedFile],
    ground_truth: Option<&'a [ScannedFile]>,
    output: &'a Path,
    window: Option<(&'a str, Window)>,
) -> QualityRequest<'a> {
    QualityRequest {
        settings,
        predictions: files,
        ground_truth,
        id_column: flags.id_column.as_deref(),
        memory_limit: flags.join_memory.unwrap_or(DEFAULT_JOIN_MEMORY),
        spill_dir: output,
        window,
    }
}

/// Scores `files` (joined with `ground_truth` when given) on their own: a run that profiles
/// nothing (a model-quality-only monitor).
///
/// # Errors
/// As [`score`]; [`QualityError::NothingScored`] when no row could be scored.
pub fn run(
    settings: &QualitySettings,
    flags: &QualityFlags,
    files: &[ScannedFile],
    ground_truth: Option<&[ScannedFile]>,
    output: &Path,
    window: Option<(&str, Window)>,
) -> Result<QualityOutcome> {
    scored(score(&request(settings, flags, files, ground_truth, output, window))?)
}

/// The outcome of scoring that a job's pass over the inputs fed ([`Scoring`] as its tap). When
/// the pass saw every row of the files it kept, that is the scoring's own; when it did not — a
/// file left out part-way, files taken from a checkpoint — the `kept` files are scored on their
/// own, so that the outcome is always that of exactly the files profiled.
///
/// # Errors
/// As [`score`]; [`QualityError::NothingScored`] when no row could be scored.
pub fn finish_pass(scoring: Scoring<'_>, resumed: usize, kept: &[ScannedFile]) -> Result<QualityOutcome> {
    if scoring.is_whole() && resumed == 0 {
        return scored(scoring.finish()?);
    }
    let req = QualityRequest { predictions: kept, ..scoring.request().clone() };
    // Its spill files, if any, go first.
    drop(scoring);
    scored(score(&req)?)
}

fn scored(out: QualityOutcome) -> Result<QualityOutcome> {
    if out.scored_rows == 0 {
        return Err(QualityError::NothingScored {
            rows: out.prediction_rows,
            nulls: out.null_rows,
            unlabelled: out.unmatched_predictions,
        }
        .into());
    }
    Ok(out)
}

/// The model-quality part of a monitoring run's report: its metrics checked against the
/// baseline's constraints.
///
/// # Errors
/// [`Error::Quality`] when the baseline is for another problem type.
pub fn report(settings: QualitySettings, out: QualityOutcome, base: Option<&QualityBaseline>) -> Result<QualityReport> {
    let violations = match base {
        Some(b) => check(&out.metrics, &b.constraints)?,
        None => Vec::new(),
    };
    let baseline = base.map(|b| b.values.clone()).unwrap_or_default();
    Ok(QualityReport { settings, outcome: out, baseline, violations, drift_relevance: None })
}
