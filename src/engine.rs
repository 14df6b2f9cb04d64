//! The profiling engine: decodes row groups in parallel and folds them into one profile.
//!
//! Every row group becomes a partial [`DatasetProfile`]; partials are folded in input order (file
//! by file, row group by row group), so the result, floating-point rounding and sketch contents
//! included, is the same whatever the number of threads. A file whose any row group fails to
//! decode is left out whole and reported, never half counted.

use std::collections::HashMap;

use indicatif::ProgressBar;
use rayon::prelude::*;

use crate::backend::Backend;
use crate::decode::{for_each_batch, projection};
use crate::profile::accumulate::{accumulate, ColumnPlan};
use crate::profile::{ColumnProfile, DatasetProfile, Role};
use crate::scan::{ScannedFile, Skipped};

/// What to profile.
pub struct Request<'a> {
    /// Only these columns (all when `None`).
    pub columns: Option<&'a [String]>,
    /// Per-column plans; columns without one get the default plan.
    pub plans: &'a HashMap<String, ColumnPlan>,
    /// Plan for columns not in `plans`.
    pub default_plan: ColumnPlan,
    /// Where the data-parallel kernels run.
    pub backend: &'a dyn Backend,
    /// Progress, advanced by rows.
    pub progress: &'a ProgressBar,
}

fn empty_profile(file: &ScannedFile, cols: &[usize], req: &Request) -> DatasetProfile {
    let schema = file.meta.schema();
    let mut p = DatasetProfile::default();
    for &i in cols {
        let f = schema.field(i);
        let role = Role::guess(f.name(), f.data_type().is_temporal());
        let mut c = ColumnProfile::new(f.name(), &f.data_type().to_string(), role);
        let plan = req.plans.get(f.name()).unwrap_or(&req.default_plan);
        c.histogram = plan.edges.clone().map(crate::profile::Histogram::new);
        p.columns.push(c);
    }
    p
}

fn profile_unit(file: &ScannedFile, rg: usize, req: &Request) -> Result<DatasetProfile, String> {
    let cols = projection(file, req.columns);
    let mut p = empty_profile(file, &cols, req);
    let plans: Vec<&ColumnPlan> = p
        .columns
        .iter()
        .map(|c| req.plans.get(&c.name).unwrap_or(&req.default_plan))
        .collect();
    let mut scratch = Vec::new();
    let mut failure: Option<String> = None;
    for_each_batch(file, rg, &cols, |batch| {
        if failure.is_some() {
            return;
        }
        p.rows += batch.num_rows() as u64;
        for (i, col) in p.columns.iter_mut().enumerate() {
            if let Err(e) = accumulate(col, batch.column(i), plans[i], req.backend, &mut scratch) {
                failure = Some(format!("column '{}': {e}", col.name));
                return;
            }
        }
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    req.progress.inc(file.row_group_rows(rg));
    Ok(p)
}

/// Profiles `files`. Returns the merged profile and the files left out with their reasons.
pub fn profile_files(files: &[ScannedFile], req: &Request) -> (DatasetProfile, Vec<Skipped>) {
    let units: Vec<(usize, usize)> = files
        .iter()
        .enumerate()
        .flat_map(|(fi, f)| (0..f.row_groups()).map(move |rg| (fi, rg)))
        .collect();
    let mut remaining: Vec<usize> = files.iter().map(|f| f.row_groups()).collect();
    let mut state: Vec<Option<Result<DatasetProfile, String>>> = files
        .iter()
        .map(|f| Some(Ok(empty_profile(f, &projection(f, req.columns), req))))
        .collect();
    let mut total = DatasetProfile::default();
    let mut skipped = Vec::new();
    let mut next_file = 0usize;
    let mut finalize = |upto: usize,
                        state: &mut Vec<Option<Result<DatasetProfile, String>>>,
                        remaining: &[usize],
                        next: &mut usize| {
        while *next < upto.min(files.len()) && remaining[*next] == 0 {
            match state[*next].take() {
                Some(Ok(p)) => total.merge(&p),
                Some(Err(e)) => skipped.push(Skipped {
                    path: files[*next].path.display().to_string(),
                    error: e,
                }),
                None => {}
            }
            *next += 1;
        }
    };
    let chunk = (rayon::current_num_threads() * 4).max(4);
    for window in units.chunks(chunk) {
        let results: Vec<Result<DatasetProfile, String>> = window
            .par_iter()
            .map(|&(fi, rg)| match &state[fi] {
                Some(Err(_)) => Err(String::new()),
                _ => profile_unit(&files[fi], rg, req),
            })
            .collect();
        for (&(fi, _), r) in window.iter().zip(results) {
            remaining[fi] -= 1;
            let slot = state[fi]
                .as_mut()
                .expect("file state present until finalized");
            match (slot, r) {
                (Ok(acc), Ok(p)) => acc.merge(&p),
                (slot @ Ok(_), Err(e)) => *slot = Err(e),
                (Err(_), _) => {}
            }
        }
        finalize(files.len(), &mut state, &remaining, &mut next_file);
    }
    finalize(files.len(), &mut state, &remaining, &mut next_file);
    (total, skipped)
}

/// Names of the columns whose values are numbers (numeric Arrow types, or text whose values are
/// numbers) in a profile.
pub fn numeric_columns(p: &DatasetProfile) -> Vec<String> {
    p.columns
        .iter()
        .filter(|c| c.inferred_type().is_numeric())
        .map(|c| c.name.clone())
        .collect()
}
