//! One test per constraint check type: each is raised by the change it guards against, and not
//! by the same data.

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use driftscope::backend::cpu::CpuBackend;
use driftscope::engine::{profile_batches, ProfilePlan};
use driftscope::judge::baseline::Baseline;
use driftscope::judge::sagemaker::CheckType;
use driftscope::profile::DatasetProfile;

use crate::common::arr;

fn profile(cols: Vec<(&str, ArrayRef)>, edges_from: Option<&Baseline>) -> DatasetProfile {
    let batch = RecordBatch::try_from_iter(cols).unwrap();
    let plan = ProfilePlan {
        edges: edges_from.map(|b| b.edges().into_iter().map(|(k, e)| (k, e.into())).collect()).unwrap_or_default(),
        ..Default::default()
    };
    profile_batches(&[batch], &plan, &CpuBackend).unwrap().into_whole()
}

/// A baseline of `cols` as `driftscope baseline` makes it: two passes (edges, then histograms).
fn baseline(cols: Vec<(&str, ArrayRef)>) -> Baseline {
    let first = profile(cols.clone(), None);
    let edges = driftscope::judge::baseline::plan_edges(&first);
    let batch = RecordBatch::try_from_iter(cols).unwrap();
    let plan = ProfilePlan { edges: edges.into_iter().map(|(k, e)| (k, e.into())).collect(), ..Default::default() };
    Baseline::from_profile(profile_batches(&[batch], &plan, &CpuBackend).unwrap().into_whole(), "test")
}

/// The check types raised for `current` against `base`.
fn raised(base: &Baseline, current: Vec<(&str, ArrayRef)>) -> Vec<(String, CheckType)> {
    let cur = profile(current, Some(base));
    let features: Vec<_> =
        base.feature_names().iter().map(|n| driftscope::judge::drift::feature(base, n, cur.column(n))).collect();
    driftscope::judge::check::check(base, &cur, &features)
        .into_iter()
        .map(|v| (v.feature_name, v.constraint_check_type))
        .collect()
}

fn numbers(n: usize, shift: f64) -> ArrayRef {
    arr(Float64Array::from((0..n).map(|i| (i % 100) as f64 + shift).collect::<Vec<_>>()))
}

fn text(values: Vec<&str>) -> ArrayRef {
    arr(StringArray::from(values))
}

/// 500 baseline rows suggest a data-type threshold of 0.98 (`baseline::suggested_share`): a
/// capture with 5% of values that are not numbers violates it.
#[test]
fn data_type_check() {
    let base = baseline(vec![("s", text((0..500).map(|i| ["1", "2", "3"][i % 3]).collect()))]);
    assert!(raised(&base, vec![("s", text((0..500).map(|i| ["3", "1", "2"][i % 3]).collect()))]).is_empty());
    let got = raised(&base, vec![("s", text((0..500).map(|i| if i % 20 == 0 { "n/a" } else { "2" }).collect()))]);
    assert!(got.contains(&("s".into(), CheckType::DataTypeCheck)), "{got:?}");
}

#[test]
fn completeness_check() {
    let base = baseline(vec![("x", numbers(1000, 0.0))]);
    assert!(raised(&base, vec![("x", numbers(1000, 0.0))]).is_empty());
    let with_null =
        arr(Float64Array::from((0..1000).map(|i| (i != 7).then_some((i % 100) as f64)).collect::<Vec<_>>()));
    assert_eq!(raised(&base, vec![("x", with_null)]), vec![("x".into(), CheckType::CompletenessCheck)]);
}

#[test]
fn baseline_drift_check() {
    let base = baseline(vec![("x", numbers(2000, 0.0))]);
    assert!(raised(&base, vec![("x", numbers(2000, 0.0))]).is_empty());
    assert_eq!(raised(&base, vec![("x", numbers(2000, 30.0))]), vec![("x".into(), CheckType::BaselineDriftCheck)]);
}

#[test]
fn missing_and_extra_column_checks() {
    let base = baseline(vec![("x", numbers(500, 0.0)), ("y", numbers(500, 0.0))]);
    let got = raised(&base, vec![("x", numbers(500, 0.0)), ("z", numbers(500, 0.0))]);
    assert!(got.contains(&("y".into(), CheckType::MissingColumnCheck)), "{got:?}");
    assert!(got.contains(&("z".into(), CheckType::ExtraColumnCheck)), "{got:?}");
    assert_eq!(got.len(), 2, "{got:?}");
}

/// 600 baseline rows suggest a domain threshold of 0.98: a new value at a 4% share violates it.
#[test]
fn categorical_values_check() {
    let base = baseline(vec![("c", text((0..600).map(|i| ["a", "b"][i % 2]).collect()))]);
    assert!(raised(&base, vec![("c", text((0..600).map(|i| ["b", "a"][i % 2]).collect()))]).is_empty());
    let got =
        raised(&base, vec![("c", text((0..600).map(|i| if i % 25 == 0 { "c" } else { ["a", "b"][i % 2] }).collect()))]);
    assert!(got.contains(&("c".into(), CheckType::CategoricalValuesCheck)), "{got:?}");
}

#[test]
fn non_negative_check() {
    let base = baseline(vec![("x", numbers(1000, 0.0))]);
    // One negative in 1,000 is within what 1,000 baseline rows can rule out (the threshold is
    // 0.99); one in 50 is not.
    let negatives = |every: usize| {
        arr(Float64Array::from(
            (0..1000).map(|i| if i % every == 3 { -1.0 } else { (i % 100) as f64 }).collect::<Vec<_>>(),
        ))
    };
    assert!(raised(&base, vec![("x", negatives(1000))]).is_empty());
    assert_eq!(raised(&base, vec![("x", negatives(50))]), vec![("x".into(), CheckType::NonNegativeCheck)]);
}

fn normal(n: usize, shift: f64, seed: u64) -> ArrayRef {
    let mut rng = driftscope::source::synth::Rng(seed);
    arr(Float64Array::from((0..n).map(|_| rng.normal() + shift).collect::<Vec<_>>()))
}

/// The drift check holds against noise at every size: captures drawn from the baseline's
/// distribution (a normal, 200k baseline rows) raise nothing at 10k, 1M or 10M rows, and a
/// shift of half a standard deviation raises `baseline_drift_check` at each size.
#[test]
fn drift_check_holds_against_noise_at_every_size() {
    let base = baseline(vec![("x", normal(200_000, 0.0, 1))]);
    for (rows, seed) in [(10_000, 2), (1_000_000, 3), (10_000_000, 4)] {
        assert!(raised(&base, vec![("x", normal(rows, 0.0, seed))]).is_empty(), "same distribution, {rows} rows");
        assert_eq!(
            raised(&base, vec![("x", normal(rows, 0.5, seed))]),
            vec![("x".into(), CheckType::BaselineDriftCheck)],
            "half-σ shift, {rows} rows"
        );
    }
}
