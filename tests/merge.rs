use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use driftwatch::backend::cpu::CpuBackend;
use driftwatch::engine::{ProfilePlan, Profiler};
use driftwatch::profile::ColumnProfile;
use proptest::prelude::*;

/// A plan with histogram edges for column `c`.
fn plan(edges: &[f64]) -> ProfilePlan {
    ProfilePlan { edges: [("c".to_string(), edges.to_vec().into())].into(), ..Default::default() }
}

/// The profile of one array as column `c`, through the engine.
fn profile(a: ArrayRef, plan: &ProfilePlan) -> ColumnProfile {
    let batch = RecordBatch::try_from_iter([("c", a)]).unwrap();
    let mut p = Profiler::new(plan, batch.schema(), &CpuBackend).unwrap();
    p.update(&batch).unwrap();
    p.finish().unwrap().into_whole().columns.remove(0)
}

fn same(whole: &ColumnProfile, merged: &ColumnProfile) {
    assert_eq!(whole.rows, merged.rows);
    assert_eq!(whole.missing, merged.missing);
    assert_eq!(whole.types, merged.types);
    assert_eq!((whole.nan, whole.pos_inf, whole.neg_inf), (merged.nan, merged.pos_inf, merged.neg_inf));
    assert_eq!(whole.categories, merged.categories);
    assert_eq!(whole.histogram, merged.histogram);
    assert_eq!(whole.moments.n, merged.moments.n);
    assert_eq!((whole.moments.min, whole.moments.max), (merged.moments.min, merged.moments.max));
    let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
        (None, None) => true,
        _ => false,
    };
    assert!(close(whole.moments.mean(), merged.moments.mean()));
    assert!(close(whole.moments.std_dev(), merged.moments.std_dev()));
    assert!(close(whole.moments.total(), merged.moments.total()));
    assert_eq!(whole.kll.n, merged.kll.n);
    // Below the sketch's capacity both hold every value exactly.
    let mut a: Vec<f64> = whole.kll.weighted_items().into_iter().map(|x| x.0).collect();
    let mut b: Vec<f64> = merged.kll.weighted_items().into_iter().map(|x| x.0).collect();
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    assert_eq!(a, b);
    assert_eq!(whole.hll.estimate(), merged.hll.estimate());
}

fn value() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        8 => (-1e6f64..1e6).prop_map(Some),
        1 => Just(None),
        1 => prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY), Just(-0.0), Just(0.0)].prop_map(Some),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn numeric_profiles_merge(values in prop::collection::vec(value(), 0..400), cut in 0usize..400) {
        let cut = cut.min(values.len());
        let plan = plan(&[-1000.0, -1.0, 0.0, 1.0, 1000.0]);
        let whole = profile(Arc::new(Float64Array::from(values.clone())), &plan);
        let mut merged = profile(Arc::new(Float64Array::from(values[..cut].to_vec())), &plan);
        merged.merge(&profile(Arc::new(Float64Array::from(values[cut..].to_vec())), &plan));
        same(&whole, &merged);
    }

    #[test]
    fn text_profiles_merge(values in prop::collection::vec(prop::option::of("[a-c]{0,2}|-?[0-9]{1,3}(\\.[0-9])?|n/a"), 0..300), cut in 0usize..300) {
        let cut = cut.min(values.len());
        let plan = plan(&[0.0, 10.0, 100.0]);
        let arr = |v: &[Option<String>]| -> ArrayRef { Arc::new(StringArray::from(v.to_vec())) };
        let whole = profile(arr(&values), &plan);
        let mut merged = profile(arr(&values[..cut]), &plan);
        merged.merge(&profile(arr(&values[cut..]), &plan));
        same(&whole, &merged);
    }
}
