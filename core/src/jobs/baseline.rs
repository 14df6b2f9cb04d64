//! `baseline`: the training data profiled into a baseline folder.

use std::path::PathBuf;

use crate::engine::ProfilePlan;
use crate::error::{Error, Opt, Result};
use crate::judge::baseline::{self};
use crate::profile::DatasetProfile;
use crate::quality::join::QualityOutcome;
use crate::source::scan::Skipped;

use super::{
    attribution_tap, bias_tap, ground_truth, joined_taps, no_input, profile_pass, profiled_columns, quality_flags,
    reread_tap, scan_inputs, scoring, strict_check, JobOptions,
};
use super::{multivariate, segments};
use crate::engine::auto::choose_backend;
use crate::engine::group::Keep;
use crate::output::folder::{check_output, Job, OutputGuard};

/// What a baseline run produced.
#[derive(Debug)]
pub struct BaselineOutcome {
    /// The baseline profile.
    pub profile: DatasetProfile,
    /// Inputs left out.
    pub skipped: Vec<Skipped>,
    /// Files profiled.
    pub files: usize,
    /// Files taken from a checkpoint (`--resume`).
    pub resumed: usize,
    /// Schema differences between files.
    pub schema_differences: Vec<String>,
    /// Files written.
    pub written: Vec<PathBuf>,
    /// The backend that ran.
    pub backend: String,
    /// Model quality, when `--problem-type` asked for it.
    pub quality: Option<QualityOutcome>,
    /// Global feature attributions, when `--attributions` asked for them (also written as
    /// `analysis.json`).
    pub attributions: Option<crate::judge::attribution::Analysis>,
    /// The segments, when `--segment-by` asked for them (also written as `segments.json`).
    pub segments: Option<crate::judge::segments::SegmentSet>,
    /// The multivariate model, when `--multivariate` asked for it (also written as
    /// `multivariate.json`).
    pub multivariate: Option<crate::judge::multivariate::MultivariateBaseline>,
    /// The performance estimation model, when `--estimate-performance` asked for it (written as
    /// `model_quality/estimation.json`), and the labelled rows it left out for a missing value.
    pub estimation: Option<(crate::quality::estimate::EstimationModel, u64)>,
}

/// A baseline's second pass: exact counts over `edges` (from the first pass's quantiles), for
/// those columns only.
fn histogram_plan(edges: std::collections::BTreeMap<String, Vec<f64>>) -> ProfilePlan {
    ProfilePlan {
        columns: Some(edges.keys().cloned().collect()),
        edges: edges.into_iter().map(|(k, e)| (k, e.into())).collect(),
        histogram_only: true,
        ..Default::default()
    }
}

/// The baseline profile of batches held in memory (the Python package's `baseline`): the two
/// passes of [`run_baseline`] over `batches` — moments and sketches, then exact counts over the
/// bin edges the first pass's quantiles give.
///
/// # Errors
/// [`crate::Error::Schema`] for batches of different schemas.
pub fn baseline_of_batches(
    batches: &[arrow_array::RecordBatch],
    columns: Option<Vec<String>>,
    backend: &dyn crate::backend::Backend,
) -> Result<DatasetProfile> {
    let plan = ProfilePlan { columns, ..Default::default() };
    let mut profile = crate::engine::profile_batches(batches, &plan, backend)?.into_whole();
    let edges = baseline::plan_edges(&profile);
    if !edges.is_empty() {
        let second = crate::engine::profile_batches(batches, &histogram_plan(edges), backend)?.into_whole();
        baseline::take_histograms(&mut profile, &second);
    }
    Ok(profile)
}

/// A baseline's global attributions, and its bias metrics with their standard errors.
type ClarifyBaselines = (
    Option<crate::judge::attribution::Analysis>,
    Option<(crate::judge::bias::BiasAnalysis, crate::judge::bias::Noise)>,
);

/// Clarify's baselines the first pass's taps counted: the global attributions and the bias
/// metrics, when asked for.
fn clarify_baselines(
    opts: &JobOptions,
    (attributions, bias): (Option<&crate::quality::attribution::Attributions>, Option<&crate::quality::bias::BiasTap>),
    (resumed, good): (usize, &[crate::source::scan::ScannedFile]),
) -> Result<ClarifyBaselines> {
    let analysis = attributions.map(|tap| baseline_analysis(opts, tap, resumed, good)).transpose()?;
    let bias = match bias {
        Some(tap) => {
            reread_tap(opts, tap, resumed, good)?;
            let counts = tap.finish()?;
            let plan = tap.plan();
            Some((
                crate::quality::bias::analysis(plan, &counts.whole),
                crate::quality::bias::noise(plan, &counts.whole),
            ))
        }
        None => None,
    };
    Ok((analysis, bias))
}

/// The baseline's global attributions (its `analysis.json`), from the first pass's tap.
fn baseline_analysis(
    opts: &JobOptions,
    tap: &crate::quality::attribution::Attributions,
    resumed: usize,
    good: &[crate::source::scan::ScannedFile],
) -> Result<crate::judge::attribution::Analysis> {
    reread_tap(opts, tap, resumed, good)?;
    let globals = tap.finish()?;
    let a = opts.attributions.as_ref().expect("a tap is made only when attributions are asked for");
    if globals.whole.is_empty() {
        return Err(crate::error::invalid(
            crate::error::Opt::Attributions,
            format!("no row holds a number in the columns starting with '{}'", a.prefix),
        ));
    }
    Ok(crate::judge::attribution::Analysis::of(&a.label, globals.whole))
}

/// The progress label of a baseline's pass `n`: of two passes, or three with a multivariate
/// model.
pub(super) fn pass_label(opts: &JobOptions, n: u8) -> String {
    format!("baseline {n}/{}", if opts.multivariate.is_some() { 3 } else { 2 })
}

/// A baseline's second pass over the `good` files: exact counts over the bin edges of the first
/// pass's quantiles, into the profile and its segments, with the plan's `derived` work (the
/// multivariate features' covariance). Returns the pass's whole profile, when there was one.
fn second_pass(
    opts: &JobOptions,
    guard: &mut OutputGuard,
    good: &[crate::source::scan::ScannedFile],
    (backend, derived): (&dyn crate::backend::Backend, Option<crate::engine::Derived>),
    (profile, segment_set): (&mut DatasetProfile, Option<&mut crate::judge::segments::SegmentSet>),
) -> Result<Option<DatasetProfile>> {
    let edges = baseline::plan_edges(profile);
    if edges.is_empty() {
        return Ok(None);
    }
    let plan = ProfilePlan { groups: segments::group_by(opts), derived, ..histogram_plan(edges) };
    let out2 = profile_pass(opts, guard, good, &plan, (backend, None), ("baseline-2", &pass_label(opts, 2)))?;
    let (second, failed2, mut by_value2) = (out2.profile, out2.skipped, out2.segments);
    if let Some(f) = failed2.first() {
        return Err(Error::input(&f.path, format!("failed on the second pass: {}", f.error)));
    }
    baseline::take_histograms(profile, &second);
    if let (Some(sg), Some(set)) = (&opts.segments, segment_set) {
        let second = segments::take(sg, &mut by_value2, Keep::These(&segments::keys(set)));
        for s in &mut set.segments {
            if let Some(h) = second.segments.iter().find(|h| h.segment == s.segment) {
                baseline::take_histograms(&mut s.profile, &h.profile);
            }
        }
    }
    Ok(Some(second))
}

/// The baseline's files beside its profile's: Clarify's baselines, the segments', the
/// multivariate model's, those asked for.
fn write_extras(
    dir: &std::path::Path,
    clarify: &ClarifyBaselines,
    segment_set: Option<&crate::judge::segments::SegmentSet>,
    multivariate: Option<&crate::judge::multivariate::MultivariateBaseline>,
) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    if let Some(a) = &clarify.0 {
        written.push(crate::output::explainability::write_baseline(dir, a)?);
    }
    if let Some((b, noise)) = &clarify.1 {
        written.push(crate::output::bias::write_baseline(dir, b)?);
        written.push(crate::output::bias::write_baseline_noise(dir, noise)?);
    }
    if let Some(set) = segment_set {
        written.push(crate::output::segments::write_baseline(dir, set)?);
    }
    if let Some(m) = multivariate {
        let p = dir.join(crate::judge::multivariate::MULTIVARIATE);
        crate::output::write_atomic(&p, &crate::output::to_json(m))?;
        written.push(p);
    }
    Ok(written)
}

/// Profiles the inputs into a baseline: `statistics.json`, `constraints.json`, `profile.json`.
///
/// The inputs are read twice: first for moments and sketches, then for exact counts over bin
/// edges taken from the first pass's quantiles.
pub fn run_baseline(opts: &JobOptions) -> Result<BaselineOutcome> {
    check_output(&opts.output, None, Job::Baseline, opts.force)?;
    let quality = quality_flags(opts).resolve(None)?;
    let s = scan_inputs(opts)?;
    let mut guard = OutputGuard::new(&opts.output);
    let attributions = attribution_tap(opts, &s, None)?;
    if let Some(sg) = &opts.segments {
        segments::check_columns(sg, &s)?;
    }
    let plan = ProfilePlan {
        columns: profiled_columns(opts, &s, attributions.as_ref()),
        groups: segments::group_by(opts),
        ..Default::default()
    };
    let (backend, backend_note) = choose_backend(opts.backend, &s.files, &plan)?;
    // Model quality is scored, and attributions summed, in the first pass.
    let truth = if quality.is_some() { ground_truth(opts)? } else { None };
    let scoring = scoring(opts, quality.as_ref(), &s.files, truth.as_deref(), None)?;
    let bias = bias_tap(opts, &s, None, scoring.as_ref().zip(truth.as_deref()))?;
    let labelled = estimation_tap(opts, quality.as_ref(), truth.is_some())?;
    let taps = joined_taps([
        scoring.as_ref().map(|t| t as &dyn crate::engine::Tap),
        attributions.as_ref().map(|t| t as &dyn crate::engine::Tap),
        bias.as_ref().map(|t| t as &dyn crate::engine::Tap),
        labelled.as_ref().map(|t| t as &dyn crate::engine::Tap),
    ]);
    let tap = taps.as_ref().map(|t| t as &dyn crate::engine::Tap);
    let first =
        profile_pass(opts, &mut guard, &s.files, &plan, (backend.as_ref(), tap), ("baseline-1", &pass_label(opts, 1)))?;
    let resumed = first.resumed;
    let (mut profile, mut skipped, mut by_value) = (first.profile, first.skipped, first.segments);
    strict_check(opts, &skipped)?;
    let failed: Vec<&str> = skipped.iter().map(|k| k.path.as_str()).collect();
    let good: Vec<_> =
        s.files.iter().filter(|f| !failed.contains(&f.path.display().to_string().as_str())).cloned().collect();
    if good.is_empty() {
        return Err(no_input(&skipped));
    }

    let mut segment_set = opts.segments.as_ref().map(|sg| segments::take(sg, &mut by_value, Keep::Most(sg.max)));
    let standardize = multivariate::standardize(opts, &profile)?;
    let covariance = multivariate::covariance(standardize.as_ref());
    let second =
        second_pass(opts, &mut guard, &good, (backend.as_ref(), covariance), (&mut profile, segment_set.as_mut()))?;
    let multivariate = match (standardize, second) {
        (Some(s), Some(second)) => Some(multivariate::fit(opts, &mut guard, &good, backend.as_ref(), (s, &second))?),
        _ => None,
    };
    let mut all_skipped = s.skipped.clone();
    all_skipped.append(&mut skipped);
    // Model quality before anything is written: a failure leaves no half-made baseline.
    let quality = match (quality.as_ref(), scoring) {
        (Some(settings), Some(scoring)) => {
            let out = crate::quality::run::finish_pass(scoring, resumed, &good)?;
            Some((settings.clone(), out))
        }
        _ => None,
    };
    let clarify = clarify_baselines(opts, (attributions.as_ref(), bias.as_ref()), (resumed, &good))?;
    let estimation = labelled.as_ref().map(|tap| estimation_model(opts, tap, (resumed, &good))).transpose()?;
    let mut written = crate::output::write_baseline_files(&opts.output, &profile)?;
    written.extend(write_extras(&opts.output, &clarify, segment_set.as_ref(), multivariate.as_ref())?);
    let quality = match quality {
        Some((settings, out)) => {
            written.extend(crate::output::quality::write_baseline(&opts.output, &settings, &out)?);
            written.extend(crate::output::quality::write_estimation(&opts.output, estimation.as_ref().map(|e| &e.0))?);
            Some(out)
        }
        None => None,
    };
    Ok(BaselineOutcome {
        profile,
        skipped: all_skipped,
        files: good.len(),
        resumed,
        schema_differences: s.schema_differences,
        written,
        backend: backend_note,
        quality,
        attributions: clarify.0,
        segments: segment_set,
        multivariate,
        estimation,
    })
}

/// The tap of the baseline's labelled rows, when `--estimate-performance` asked for a model: a
/// binary problem whose probability and labels are in the inputs.
fn estimation_tap(
    opts: &JobOptions,
    quality: Option<&crate::quality::QualitySettings>,
    joined: bool,
) -> Result<Option<crate::quality::estimate::tap::Labelled>> {
    use crate::quality::ProblemType;
    let Some(_) = &opts.estimation else { return Ok(None) };
    let why = match quality {
        None => "it needs model quality: the problem type (BinaryClassification), the label and the probability column",
        Some(s) if s.problem_type == ProblemType::Regression => {
            "it estimates classifiers (the problem types BinaryClassification and MulticlassClassification)"
        }
        Some(s) if s.problem_type == ProblemType::MulticlassClassification && s.class_probabilities.is_empty() => {
            "a multiclass classifier's estimation calibrates a score column per class: give them (CLASS=COLUMN pairs)"
        }
        Some(_) if joined => "it needs the labels in the inputs beside the scores, not joined from a ground truth",
        Some(s) => return crate::quality::estimate::tap::Labelled::new(s).map(Some),
    };
    Err(crate::error::invalid(Opt::EstimatePerformance, why))
}

/// The estimation model of the baseline's labelled rows (read again when the pass resumed), and
/// how many rows lacked a score, prediction or label.
fn estimation_model(
    opts: &JobOptions,
    tap: &crate::quality::estimate::tap::Labelled,
    (resumed, good): (usize, &[crate::source::scan::ScannedFile]),
) -> Result<(crate::quality::estimate::EstimationModel, u64)> {
    super::reread_tap(opts, tap, resumed, good)?;
    let (rows, missing) = tap.finish()?;
    let chunk = opts.estimation.as_ref().and_then(|e| e.chunk_rows).unwrap_or_else(|| (rows.len() as u64).div_ceil(10));
    let classes: Vec<String> = tap.classes().to_vec();
    let model = if classes.is_empty() {
        crate::quality::estimate::fit(&rows.binary(), chunk)
    } else {
        crate::quality::estimate::fit_classes(&rows.multiclass(), classes, chunk)
    }
    .map_err(|e| crate::error::invalid(Opt::EstimatePerformance, e.to_string()))?;
    Ok((model, missing))
}
