use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use driftscope::backend::cpu::CpuBackend;
use driftscope::engine::{ProfilePlan, Profiler};
use driftscope::profile::ColumnProfile;
use driftscope::profile::DatasetProfile;
use proptest::prelude::*;

/// A plan with histogram edges for column `c`.
fn plan(edges: &[f64]) -> ProfilePlan {
    ProfilePlan { edges: [("c".to_string(), edges.to_vec().into())].into(), ..Default::default() }
}

/// The profile of a batch through one engine profiler.
fn whole(batch: &RecordBatch, plan: &ProfilePlan) -> DatasetProfile {
    let mut p = Profiler::new(plan, batch.schema(), &CpuBackend).unwrap();
    p.update(batch).unwrap();
    p.finish().unwrap().into_whole()
}

/// The profile of one array as column `c`, through the engine.
fn profile(a: ArrayRef, plan: &ProfilePlan) -> ColumnProfile {
    whole(&RecordBatch::try_from_iter([("c", a)]).unwrap(), plan).columns.remove(0)
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

/// At a size where the sketches do their real work — KLL compacts many times over, text past
/// 10,000 distinct values spills into the frequent-items sketch — a profile of the whole equals
/// the merge of profiles of three parts: exactly for counts, histograms and min/max, to 1e-9 for
/// moments, within the KLL bound for quantiles, and for the heaviest values of the spilled text.
#[test]
fn profiles_merge_at_scale_in_three_parts() {
    let n = 150_000usize;
    let mut x = 99u64;
    let mut u = move || {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (x >> 11) as f64 / (1u64 << 53) as f64
    };
    let numbers: Vec<Option<f64>> = (0..n)
        .map(|i| match i % 101 {
            0 => None,
            1 => Some(f64::NAN),
            _ => Some((u() + u() + u()) * 40.0 - 60.0),
        })
        .collect();
    // Zipf-like text over 40,000 values: a few heavy ones, a long tail past the exact cap.
    let text: Vec<Option<String>> = (0..n).map(|_| Some(format!("v{}", (40_000.0 * u().powi(4)) as u64))).collect();
    let edges: Vec<f64> = (-12..=12).map(|i| i as f64 * 5.0).collect();
    let plan = ProfilePlan {
        edges: [("c".to_string(), edges.into()), ("t".to_string(), vec![0.0].into())].into(),
        ..Default::default()
    };
    let profile = |range: std::ops::Range<usize>| -> DatasetProfile {
        let batch = RecordBatch::try_from_iter([
            ("c", Arc::new(Float64Array::from(numbers[range.clone()].to_vec())) as ArrayRef),
            ("t", Arc::new(StringArray::from(text[range].to_vec())) as ArrayRef),
        ])
        .unwrap();
        whole(&batch, &plan)
    };
    let whole = profile(0..n);
    for (a, b) in [(40_000, 90_000), (1, 149_999), (75_000, 75_001)] {
        let mut merged = profile(0..a);
        merged.merge(&profile(a..b));
        merged.merge(&profile(b..n));
        assert_eq!(merged.rows, whole.rows);
        let (w, m) = (whole.column("c").unwrap(), merged.column("c").unwrap());
        assert_eq!((w.rows, w.missing, w.nan, w.types), (m.rows, m.missing, m.nan, m.types));
        assert_eq!(w.histogram, m.histogram);
        assert_eq!((w.moments.n, w.moments.min, w.moments.max), (m.moments.n, m.moments.min, m.moments.max));
        for (x, y) in [(w.moments.mean(), m.moments.mean()), (w.moments.std_dev(), m.moments.std_dev())] {
            let (x, y) = (x.unwrap(), y.unwrap());
            assert!((x - y).abs() <= 1e-9 * x.abs().max(1.0), "{x} vs {y}");
        }
        // Both sketches compacted, both within KLL's bound of the exact quantiles.
        assert!(w.kll.levels.len() > 3 && m.kll.levels.len() > 3);
        assert_eq!(w.kll.n, m.kll.n);
        let mut sorted: Vec<f64> = numbers.iter().flatten().copied().filter(|v| v.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        let bound = 2.296 / (w.kll.k as f64).powf(0.9723);
        for q in [0.01, 0.1, 0.5, 0.9, 0.99] {
            for k in [&w.kll, &m.kll] {
                let v = k.quantiles(&[q])[0];
                let rank = sorted.partition_point(|&s| s <= v) as f64 / sorted.len() as f64;
                assert!((rank - q).abs() <= bound, "q{q}: rank {rank}");
            }
        }
        // Text: past the cap on both sides, the same heaviest values.
        let (wt, mt) = (whole.column("t").unwrap(), merged.column("t").unwrap());
        assert_eq!(wt.types, mt.types);
        assert!(!wt.categories.is_exact() && !mt.categories.is_exact());
        let top = |c: &ColumnProfile| c.categories.top(5).into_iter().map(|x| x.0).collect::<Vec<_>>();
        assert_eq!(top(wt), top(mt));
        // The distinct count: a single stream uses HLL's HIP estimator, a union its composite
        // one; both within 3 standard errors (1.04/sqrt(4096) each) of the true count.
        let distinct = text.iter().flatten().collect::<std::collections::HashSet<_>>().len() as f64;
        for e in [wt.hll.estimate(), mt.hll.estimate()] {
            assert!((e - distinct).abs() <= 3.0 * 1.04 / 64.0 * distinct, "{e} vs {distinct}");
        }
    }
}

/// Merging in any order gives the same profile, as the README states: the counts, types, NaN
/// and ±∞, extremes, histogram, exact categories and the distinct-count sketch are identical for
/// all six orders of three parts; moments agree to 1e-12; the quantile sketch (compacted, so its
/// items depend on the order) has the same weight and stays within KLL's rank bound in every
/// order; past the exact cap, the heaviest categories are the same.
#[test]
fn merging_does_not_depend_on_the_order() {
    let n = 120_000usize;
    let mut rng = driftscope::source::synth::Rng(7);
    let mut u = move || rng.uniform();
    let numbers: Vec<Option<f64>> = (0..n)
        .map(|i| match i % 97 {
            0 => None,
            1 => Some(f64::INFINITY),
            _ => Some((u() - 0.5) * 1e3 + if i > n / 2 { 100.0 } else { 0.0 }),
        })
        .collect();
    let few: Vec<Option<String>> =
        (0..n).map(|i| Some(["a", "b", "c", "d"][(i * 7 + i / 13) % 4].to_string())).collect();
    let many: Vec<Option<String>> = (0..n).map(|_| Some(format!("v{}", (30_000.0 * u().powi(3)) as u64))).collect();
    let plan = ProfilePlan {
        edges: [("c".to_string(), (-5..=6).map(|i| i as f64 * 100.0).collect::<Vec<_>>().into())].into(),
        ..Default::default()
    };
    let part = |r: std::ops::Range<usize>| -> DatasetProfile {
        let batch = RecordBatch::try_from_iter([
            ("c", Arc::new(Float64Array::from(numbers[r.clone()].to_vec())) as ArrayRef),
            ("few", Arc::new(StringArray::from(few[r.clone()].to_vec())) as ArrayRef),
            ("many", Arc::new(StringArray::from(many[r].to_vec())) as ArrayRef),
        ])
        .unwrap();
        whole(&batch, &plan)
    };
    let parts = [part(0..30_000), part(30_000..95_000), part(95_000..n)];
    let orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
    let merged: Vec<DatasetProfile> = orders
        .iter()
        .map(|o| {
            let mut m = parts[o[0]].clone();
            m.merge(&parts[o[1]]);
            m.merge(&parts[o[2]]);
            m
        })
        .collect();
    let mut sorted: Vec<f64> = numbers.iter().flatten().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    let first = &merged[0];
    for m in &merged {
        assert_eq!(m.rows, n as u64);
        let (a, b) = (first.column("c").unwrap(), m.column("c").unwrap());
        assert_eq!((a.rows, a.missing, a.nan, a.pos_inf, a.types), (b.rows, b.missing, b.nan, b.pos_inf, b.types));
        assert_eq!(a.histogram, b.histogram);
        assert_eq!((a.moments.n, a.moments.min, a.moments.max), (b.moments.n, b.moments.min, b.moments.max));
        for (x, y) in [(a.moments.mean(), b.moments.mean()), (a.moments.std_dev(), b.moments.std_dev())] {
            let (x, y) = (x.unwrap(), y.unwrap());
            assert!((x - y).abs() <= 1e-12 * x.abs().max(1.0), "{x} vs {y}");
        }
        assert!(b.kll.levels.len() > 3, "the sketch compacted");
        assert_eq!(a.kll.n, b.kll.n);
        let bound = 2.296 / (b.kll.k as f64).powf(0.9723);
        for q in [0.01, 0.25, 0.5, 0.75, 0.99] {
            let v = b.kll.quantiles(&[q])[0];
            let rank = sorted.partition_point(|&s| s <= v) as f64 / sorted.len() as f64;
            assert!((rank - q).abs() <= bound, "q{q}: rank {rank}");
        }
        let (a, b) = (first.column("few").unwrap(), m.column("few").unwrap());
        assert_eq!((&a.categories, a.types, a.hll.estimate()), (&b.categories, b.types, b.hll.estimate()));
        let (a, b) = (first.column("many").unwrap(), m.column("many").unwrap());
        assert!(!b.categories.is_exact(), "the categories spilled past the exact cap");
        let top = |c: &ColumnProfile| c.categories.top(5).into_iter().map(|x| x.0).collect::<Vec<_>>();
        assert_eq!(top(a), top(b));
        assert_eq!(a.hll.estimate(), b.hll.estimate());
    }
}

/// Row groups handed over in other pieces — 10,000-row batches, text read plain — give, through
/// `scan::text_as_read` and `engine::profile_unit`, the profile the file engine makes of each;
/// merged in the engine's order (a file's row groups in order, then the files into an empty
/// total) they give `monitor`'s profile of the file, to the byte. This is how a Spark job's
/// partials reproduce the CLI's outputs.
#[test]
fn units_handed_over_in_other_pieces_give_the_file_engines_profile() {
    use driftscope::engine::{profile_files, profile_unit, ProfileSet, Request};
    use driftscope::profile::Role;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("capture.parquet");
    let spec =
        driftscope::source::synth::CaptureSpec { rows: 250_000, row_group: 100_000, seed: 5, ..Default::default() };
    driftscope::source::synth::write_capture(&path, &spec).unwrap();
    let s = driftscope::source::scan::scan(&[path.display().to_string()], &Role::is_identifier_name);
    let plan = ProfilePlan { edges: [("f0".to_string(), vec![-1.0, 0.0, 1.0].into())].into(), ..Default::default() };
    let pb = driftscope::engine::progress::Progress::hidden();
    let engine =
        profile_files(&s.files, &Request { plan: &plan, backend: &CpuBackend, progress: &pb, tap: None }, None)
            .unwrap();

    let file = std::fs::File::open(&path).unwrap();
    let groups =
        ParquetRecordBatchReaderBuilder::try_new(file.try_clone().unwrap()).unwrap().metadata().num_row_groups();
    assert_eq!(groups, 3);
    let mut acc: Option<ProfileSet> = None;
    for rg in 0..groups {
        let reader = ParquetRecordBatchReaderBuilder::try_new(file.try_clone().unwrap())
            .unwrap()
            .with_row_groups(vec![rg])
            .with_batch_size(10_000)
            .build()
            .unwrap();
        let pieces: Vec<RecordBatch> = reader
            .map(|b| driftscope::source::scan::text_as_read(&b.unwrap(), &Role::is_identifier_name).unwrap())
            .collect();
        assert!(pieces.len() >= 5);
        let unit = profile_unit(&pieces, &plan, &CpuBackend).unwrap();
        match &mut acc {
            None => acc = Some(unit),
            Some(a) => a.merge(&unit),
        }
    }
    let mut total = ProfileSet::default();
    total.merge(&acc.unwrap());
    let (a, b) = (serde_json::to_string(&total.into_whole()).unwrap(), serde_json::to_string(&engine.profile).unwrap());
    assert!(a == b, "the units' profile differs from the file engine's");
}

/// Windows of files whose row groups each hold a few rows of many windows (a shuffled
/// backfill): the file engine keeps a row group's windows as lean tallies, merges them into its
/// file's and makes profiles once per file. Every window's profile (and the untimed rows', and
/// the whole's) must be, to the byte, the merge in the engine's order of the profiles
/// `engine::profile_unit` makes of each row group — full profiles per window, merged one row
/// group at a time, as the engine did before it kept tallies.
#[test]
fn window_tallies_give_the_row_groups_merged_profiles() {
    let d = tempfile::tempdir().unwrap();
    let paths = shuffled_files(d.path(), 3, 6_000, 700);
    let plan = hourly_plan();
    let engine = file_engine(&paths, &plan);
    assert!(engine.segments.windows().count() >= 40, "the rows are spread over two days of windows");
    let (whole, windows) = row_groups_merged(&paths, &plan, 20).split_whole();
    assert_eq!(serde_json::to_string(&whole).unwrap(), serde_json::to_string(&engine.profile).unwrap());
    same_windows(windows, &engine);
}

/// Windows of thousands of distinct values each (a text column of codes, and a boolean): their
/// rows spread over many small row groups of one file (a row group's windows keep their
/// categories as codes) and one large row group of another (each window's group more rows than
/// categories are kept exact for: its windows keep them as categories); and, in a file of its
/// own, one row group whose windows each hold more values than are kept exact (a window's
/// categories spill while it is folded). Every window is the merge of the row groups'
/// profiles, to the byte.
#[test]
fn windows_of_many_values_give_the_row_groups_merged_profiles() {
    use arrow_array::{BooleanArray, DictionaryArray, TimestampMillisecondArray};
    let max = driftscope::profile::MAX_EXACT_CATEGORIES as u64;
    // (rows, row group, distinct values) per file; whether the windows' values spill.
    for (files, spill) in [
        (vec![(30_000usize, 700usize, 6_000usize), (30_000, 30_000, 6_000)], false),
        (vec![(45_000, 45_000, 40_000)], true),
    ] {
        let d = tempfile::tempdir().unwrap();
        let mut paths = Vec::new();
        for (f, (n, group, values)) in files.into_iter().enumerate() {
            let t: TimestampMillisecondArray = (0..n)
                .map(|i| Some(1_767_225_600_000 + ((i * 7_919) % (2 * 3_600_000)) as i64))
                .collect::<Vec<_>>()
                .into();
            // Dictionary-encoded: the reference reads the values in the engine's order (a plain
            // text column is read as a dictionary by the one and not the other, and the order
            // values reach categories past the exact counts tells in their sketch).
            let code: Vec<Option<String>> = (0..n)
                .map(|i| (i % 41 != 0).then(|| format!("v{}", if i % 3 == 0 { i % 50 } else { (i * 13 + f) % values })))
                .collect();
            let code: DictionaryArray<arrow_array::types::Int32Type> = code.iter().map(Option::as_deref).collect();
            let flag: BooleanArray = (0..n).map(|i| (i % 29 != 0).then_some(i % 3 == 0)).collect();
            let batch = RecordBatch::try_from_iter([
                ("t", Arc::new(t) as ArrayRef),
                ("code", Arc::new(code) as ArrayRef),
                ("flag", Arc::new(flag) as ArrayRef),
            ])
            .unwrap();
            paths.push(write_groups(d.path(), f, &batch, group));
        }
        let plan = hourly_plan();
        let engine = file_engine(&paths, &plan);
        assert_eq!(engine.segments.windows().count(), 2, "two hours");
        let merged = row_groups_merged(&paths, &plan, 1);
        for (_, w) in merged.windows() {
            let code = &w.columns[1];
            assert!(code.rows > max, "each window of more rows than categories are kept exact for");
            assert_eq!(!code.categories.is_exact(), spill);
            assert!(spill || code.categories.exact.len() > 5_000, "thousands of values");
        }
        same_windows(merged.split_whole().1, &engine);
    }
}

/// Every window of `engine` is, as JSON, that of `windows` (the merge of the parts' profiles
/// made apart).
fn same_windows(windows: driftscope::engine::ProfileSet, engine: &driftscope::engine::Outcome) {
    assert_eq!(windows.segments.len(), engine.segments.segments.len());
    for ((k, want), (k2, got)) in windows.segments.iter().zip(&engine.segments.segments) {
        assert_eq!(k, k2);
        assert!(
            serde_json::to_string(want).unwrap() == serde_json::to_string(got).unwrap(),
            "segment {k:?}: the engine's profile differs from the merge of the parts' profiles"
        );
    }
}

/// The profiles `engine::profile_unit` makes of each row group of `paths` (each holding rows of
/// at least `windows` windows), merged one row group at a time, file by file: full profiles
/// per window, as the engine made them before it kept tallies.
fn row_groups_merged(
    paths: &[std::path::PathBuf],
    plan: &ProfilePlan,
    windows: usize,
) -> driftscope::engine::ProfileSet {
    use driftscope::engine::{profile_unit, ProfileSet};
    use driftscope::profile::Role;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let mut total = ProfileSet::default();
    for path in paths {
        let file = std::fs::File::open(path).unwrap();
        let groups =
            ParquetRecordBatchReaderBuilder::try_new(file.try_clone().unwrap()).unwrap().metadata().num_row_groups();
        let mut acc: Option<ProfileSet> = None;
        for rg in 0..groups {
            let batches: Vec<RecordBatch> = ParquetRecordBatchReaderBuilder::try_new(file.try_clone().unwrap())
                .unwrap()
                .with_row_groups(vec![rg])
                .build()
                .unwrap()
                .map(|b| driftscope::source::scan::text_as_read(&b.unwrap(), &Role::is_identifier_name).unwrap())
                .collect();
            let unit = profile_unit(&batches, plan, &CpuBackend).unwrap();
            assert!(unit.windows().count() >= windows, "a row group holds rows of many windows");
            match &mut acc {
                None => acc = Some(unit),
                Some(a) => a.merge(&unit),
            }
        }
        total.merge(&acc.unwrap());
    }
    total
}

/// A row group longer than a decoded batch has its windows folded over two batches: the
/// first batch's windows kept flat, the second's folded into them in place. Each window's
/// profile must be, to the byte, the merge of the two batches' profiles made apart.
#[test]
fn a_row_group_of_two_batches_folds_its_windows_in_order() {
    use driftscope::engine::profile_unit;
    use driftscope::profile::Role;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let d = tempfile::tempdir().unwrap();
    let paths = shuffled_files(d.path(), 1, 70_000, 70_000);
    let plan = hourly_plan();
    let engine = file_engine(&paths, &plan);
    let file = std::fs::File::open(&paths[0]).unwrap();
    let batches: Vec<RecordBatch> = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .with_batch_size(driftscope::source::decode::BATCH_ROWS)
        .build()
        .unwrap()
        .map(|b| driftscope::source::scan::text_as_read(&b.unwrap(), &Role::is_identifier_name).unwrap())
        .collect();
    assert_eq!(batches.len(), 2, "one row group, two batches");
    let mut reference = profile_unit(&batches[..1], &plan, &CpuBackend).unwrap();
    reference.merge(&profile_unit(&batches[1..], &plan, &CpuBackend).unwrap());
    let (_, windows) = reference.split_whole();
    assert!(windows.segments.len() >= 48, "both batches hold rows of every window");
    same_windows(windows, &engine);
}

/// Hourly windows on `t`, with bins for `x`.
fn hourly_plan() -> ProfilePlan {
    ProfilePlan {
        edges: [("x".to_string(), (-3..8).map(f64::from).collect::<Vec<_>>().into())].into(),
        segment: driftscope::engine::SegmentKey::Window {
            column: "t".into(),
            window: "1h".parse().unwrap(),
            limit: 1_000,
        },
        ..Default::default()
    }
}

/// The file engine's profiles of `paths` (CPU backend).
fn file_engine(paths: &[std::path::PathBuf], plan: &ProfilePlan) -> driftscope::engine::Outcome {
    use driftscope::engine::{profile_files, Request};
    let inputs: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let s = driftscope::source::scan::scan(&inputs, &driftscope::profile::Role::is_identifier_name);
    let pb = driftscope::engine::progress::Progress::hidden();
    profile_files(&s.files, &Request { plan, backend: &CpuBackend, progress: &pb, tap: None }, None).unwrap()
}

/// `files` files of `n` rows in groups of `group` rows, their times spread at random over two
/// days (some null), a float with nulls, NaN and ∞, and a category with nulls.
fn shuffled_files(dir: &std::path::Path, files: usize, n: usize, group: usize) -> Vec<std::path::PathBuf> {
    use arrow_array::{DictionaryArray, TimestampMillisecondArray};
    let mut state = 23u64;
    let mut next = move || {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        state >> 11
    };
    let mut paths = Vec::new();
    for f in 0..files {
        let t: TimestampMillisecondArray = (0..n)
            .map(|i| (i % 97 != 0).then(|| 1_767_225_600_000 + (next() % (48 * 3_600_000)) as i64))
            .collect::<Vec<_>>()
            .into();
        let x: Float64Array = (0..n)
            .map(|i| match i % 53 {
                0 => None,
                1 => Some(f64::NAN),
                2 => Some(f64::INFINITY),
                _ => Some((next() % 10_000) as f64 / 997.0 - 3.0),
            })
            .collect::<Vec<_>>()
            .into();
        let kinds = ["sensor", "gateway", "relay", "meter"];
        let c: DictionaryArray<arrow_array::types::Int32Type> =
            (0..n).map(|i| (i % 31 != 0).then(|| kinds[(next() % 4) as usize])).collect();
        let batch = RecordBatch::try_from_iter([
            ("t", Arc::new(t) as ArrayRef),
            ("x", Arc::new(x) as ArrayRef),
            ("c", Arc::new(c) as ArrayRef),
        ])
        .unwrap();
        paths.push(write_groups(dir, f, &batch, group));
    }
    paths
}

/// Writes `batch` to `dir/part-{f}.parquet` in row groups of `group` rows.
fn write_groups(dir: &std::path::Path, f: usize, batch: &RecordBatch, group: usize) -> std::path::PathBuf {
    let path = dir.join(format!("part-{f}.parquet"));
    let props = parquet::file::properties::WriterProperties::builder().set_max_row_group_row_count(Some(group)).build();
    let mut w =
        parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), batch.schema(), Some(props))
            .unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
    path
}
