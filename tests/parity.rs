//! One parity suite at the level of profiles: record batches of every supported Arrow type go
//! through the CPU and the GPU backends, and the two profiles must be identical — counts,
//! min/max, histograms, moments, sketches, categories, byte for byte once serialized. The CPU
//! path is the reference; the GPU runs the real shaders (on Mesa's lavapipe here and in CI).
//! A GPU test that finds no adapter fails when `DRIFTSCOPE_REQUIRE_GPU=1` (CI sets it) and says
//! that it skipped otherwise.

use std::sync::{Arc, OnceLock};

use arrow_array::*;
use arrow_schema::DataType;
use driftscope::backend::cpu::CpuBackend;
use driftscope::backend::gpu::GpuBackend;
use driftscope::backend::Backend;
use driftscope::engine::{profile_batches, GroupBy, ProfilePlan, ProfileSet, Profiler, Segment, SegmentKey};
use driftscope::profile::DatasetProfile;

/// The GPU backend (software adapters included), opened once for the whole test binary.
pub fn gpu() -> Option<&'static GpuBackend> {
    static GPU: OnceLock<Option<GpuBackend>> = OnceLock::new();
    GPU.get_or_init(|| {
        // Keeps libwayland quiet on machines without a display (the binary does this at start).
        driftscope::backend::gpu::quiet_wayland();
        match GpuBackend::new(true) {
            Ok(g) => Some(g),
            Err(e) => {
                if std::env::var("DRIFTSCOPE_REQUIRE_GPU").as_deref() == Ok("1") {
                    panic!("DRIFTSCOPE_REQUIRE_GPU=1 but no GPU adapter: {e}");
                }
                crate::common::skip(&format!("no GPU adapter, the GPU side is not run: {e}"));
                None
            }
        }
    })
    .as_ref()
}

fn lcg(seed: u64) -> impl FnMut() -> f64 {
    let mut x = seed;
    move || {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A batch of `n` rows holding every supported type, with nulls, NaN, ±∞, ±0, subnormals,
/// numbers in text and dictionaries of every key width. `seed` varies the values.
#[allow(clippy::too_many_lines, reason = "every Arrow type the profiler takes, a column each, listed in one place")]
fn every_type(n: usize, seed: u64) -> RecordBatch {
    let mut u = lcg(seed);
    let mut pick = |p: f64| u() < p;
    let mut u2 = lcg(seed ^ 0x5555);
    let mut val = move || u2();
    let special = [0.0, -0.0, 5e-324, -5e-324, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, f64::MAX, -f64::MAX];
    let floats: Vec<Option<f64>> = (0..n)
        .map(|i| {
            if pick(0.03) {
                None
            } else if i % 97 == 0 {
                Some(special[(i / 97) % special.len()])
            } else {
                Some((val() - 0.5) * 200.0)
            }
        })
        .collect();
    let ints: Vec<Option<i64>> =
        (0..n).map(|i| if i % 13 == 5 { None } else { Some((val() * 250.0) as i64 - 120) }).collect();
    let small: Vec<Option<i64>> = ints.iter().map(|v| v.map(|x| x.clamp(-128, 127))).collect();
    let unsigned: Vec<Option<u64>> = ints.iter().map(|v| v.map(|x| x.unsigned_abs())).collect();
    let words = ["alpha", "beta", "42", "-7", "3.5", "n/a", "", "true", "NaN", "é😀"];
    let text: Vec<Option<&str>> = (0..n)
        .map(|i| if i % 11 == 3 { None } else { Some(words[(val() * words.len() as f64) as usize % words.len()]) })
        .collect();
    let ids: Vec<Option<String>> = (0..n).map(|i| Some(format!("{seed:x}-{i:08}"))).collect();
    let f64s = Float64Array::from(floats.clone());
    let f32s: ArrayRef = arrow_cast::cast(&f64s, &DataType::Float32).unwrap();
    let f16s: ArrayRef = arrow_cast::cast(&f32s, &DataType::Float16).unwrap();
    let i64s = Int64Array::from(ints.clone());
    let cast = |a: &dyn Array, t: DataType| arrow_cast::cast(a, &t).unwrap();
    let small_i = Int64Array::from(small);
    let u64s = UInt64Array::from(unsigned);
    let dec2 = Decimal128Array::from(ints.iter().map(|v| v.map(|x| x as i128 * 37)).collect::<Vec<_>>())
        .with_precision_and_scale(12, 2)
        .unwrap();
    let dec0 = Decimal128Array::from(ints.iter().map(|v| v.map(|x| x as i128)).collect::<Vec<_>>())
        .with_precision_and_scale(10, 0)
        .unwrap();
    let millis: Vec<Option<i64>> =
        (0..n).map(|i| if i % 17 == 0 { None } else { Some(1_780_000_000_000 + (i as i64) * 37) }).collect();
    let bools: Vec<Option<bool>> = (0..n).map(|i| if i % 7 == 0 { None } else { Some(i % 3 == 0) }).collect();
    let dict = |t: &DataType| {
        cast(&StringArray::from(text.clone()), DataType::Dictionary(Box::new(t.clone()), Box::new(DataType::Utf8)))
    };
    let cols: Vec<(&str, ArrayRef)> = vec![
        ("f64", Arc::new(f64s)),
        ("f32", f32s),
        ("f16", f16s),
        ("i8", cast(&small_i, DataType::Int8)),
        ("i16", cast(&i64s, DataType::Int16)),
        ("i32", cast(&i64s, DataType::Int32)),
        ("i64", Arc::new(i64s.clone())),
        ("u8", cast(&small_i, DataType::UInt8)),
        ("u16", cast(&u64s, DataType::UInt16)),
        ("u32", cast(&u64s, DataType::UInt32)),
        ("u64", Arc::new(u64s)),
        ("decimal", Arc::new(dec2)),
        ("decimal_whole", Arc::new(dec0)),
        (
            "date32",
            cast(
                &Int32Array::from(ints.iter().map(|v| v.map(|x| x as i32 + 20_000)).collect::<Vec<_>>()),
                DataType::Date32,
            ),
        ),
        ("date64", cast(&Int64Array::from(millis.clone()), DataType::Date64)),
        ("ts_ms", Arc::new(TimestampMillisecondArray::from(millis.clone()))),
        (
            "ts_ns_utc",
            Arc::new(
                TimestampNanosecondArray::from(millis.iter().map(|v| v.map(|x| x * 1_000_000 + 7)).collect::<Vec<_>>())
                    .with_timezone("UTC"),
            ),
        ),
        ("bool", Arc::new(BooleanArray::from(bools))),
        ("utf8", Arc::new(StringArray::from(text.clone()))),
        ("large_utf8", Arc::new(LargeStringArray::from(text.clone()))),
        ("utf8_view", Arc::new(StringViewArray::from(text.clone()))),
        ("dict_i8", dict(&DataType::Int8)),
        ("dict_i16", dict(&DataType::Int16)),
        ("dict_i32", dict(&DataType::Int32)),
        ("dict_i64", dict(&DataType::Int64)),
        ("dict_u8", dict(&DataType::UInt8)),
        ("dict_u16", dict(&DataType::UInt16)),
        ("dict_u32", dict(&DataType::UInt32)),
        ("dict_u64", dict(&DataType::UInt64)),
        ("request_id", Arc::new(StringArray::from(ids))),
        ("all_null", Arc::new(Float64Array::from(vec![None::<f64>; n]))),
        // Lists and binary values by length; a struct flattened into two columns.
        (
            "list",
            Arc::new(ListArray::from_iter_primitive::<arrow_array::types::Int32Type, _, _>(
                ints.iter().map(|v| v.map(|x| (0..x.rem_euclid(5) as i32).map(Some).collect::<Vec<_>>())),
            )),
        ),
        ("binary", Arc::new(BinaryArray::from(text.iter().map(|t| t.map(|s| s.as_bytes())).collect::<Vec<_>>()))),
        (
            "binary_view",
            Arc::new(BinaryViewArray::from(text.iter().map(|t| t.map(|s| s.as_bytes())).collect::<Vec<_>>())),
        ),
        (
            "point",
            Arc::new(StructArray::new(
                vec![
                    arrow_schema::Field::new("x", DataType::Float64, true),
                    arrow_schema::Field::new("label", DataType::Utf8, true),
                ]
                .into(),
                vec![
                    Arc::new(Float64Array::from(floats.iter().map(|v| v.map(|x| x + 1.0)).collect::<Vec<_>>())),
                    Arc::new(StringArray::from(text.clone())),
                ],
                Some(arrow_buffer::NullBuffer::from((0..n).map(|i| i % 9 != 4).collect::<Vec<_>>())),
            )),
        ),
        // A numeric column after text columns with edges: each column's edges stay its own.
        ("f64_last", Arc::new(Float64Array::from(floats.iter().map(|v| v.map(|x| x * 0.5)).collect::<Vec<_>>()))),
    ];
    RecordBatch::try_from_iter_with_nullable(cols.into_iter().map(|(k, a)| (k, a, true))).unwrap()
}

/// Edges for every numeric column (and text columns holding numbers): fixed ones around the
/// data (zero and the subnormals included), so that every bin and both open ends are used.
fn plan_for(batch: &RecordBatch) -> ProfilePlan {
    let edges: Vec<f64> = vec![-1e300, -100.0, -50.0, -5e-324, 0.0, 5e-324, 1.0, 2.5, 50.0, 99.0, 1e5, 1.78e12, 1e300];
    let mut plan = ProfilePlan::default();
    for (i, f) in batch.schema().fields().iter().enumerate() {
        // Each column its own edges, so that a column binned on another's edges shows.
        let edges: Vec<f64> = edges.iter().map(|e| e * (1.0 + i as f64 / 8.0)).collect();
        // Text columns with numbers in them get edges too (binned on the host).
        if f.data_type().is_numeric()
            || f.data_type().is_temporal()
            || f.name().starts_with("dict")
            || f.name() == "utf8"
        {
            plan.edges.insert(f.name().clone(), edges.into());
        }
    }
    plan.edges.insert("point.x".into(), edges.iter().map(|e| e * 1.5).collect::<Vec<_>>().into());
    plan
}

fn json(p: &DatasetProfile) -> String {
    serde_json::to_string(p).unwrap()
}

fn fold(batches: &[RecordBatch], plan: &ProfilePlan, backend: &dyn Backend) -> DatasetProfile {
    let mut p = Profiler::new(plan, batches[0].schema(), backend).unwrap();
    for b in batches {
        p.update(b).unwrap();
    }
    p.finish().unwrap().into_whole()
}

/// Asserts two profile sets hold the same segments with identical profiles.
fn assert_same_sets(cpu: &ProfileSet, gpu: &ProfileSet) {
    assert_eq!(cpu.segments.len(), gpu.segments.len());
    for ((k, a), (l, b)) in cpu.segments.iter().zip(&gpu.segments) {
        assert_eq!(k, l);
        assert_same(a, b, &format!("{k:?}"));
    }
}

/// Asserts two profiles are identical, naming the first column that differs.
fn assert_same(a: &DatasetProfile, b: &DatasetProfile, what: &str) {
    assert_eq!(a.rows, b.rows, "{what}: rows");
    assert_eq!(a.columns.len(), b.columns.len(), "{what}: columns");
    for (x, y) in a.columns.iter().zip(&b.columns) {
        let (jx, jy) = (serde_json::to_string(x).unwrap(), serde_json::to_string(y).unwrap());
        assert!(jx == jy, "{what}: column '{}' differs:\n{jx}\n{jy}", x.name);
    }
    assert_eq!(json(a), json(b), "{what}");
}

#[test]
fn profiles_identical_on_every_arrow_type() {
    // Several batches per profiler (the GPU keeps two in flight), one longer than a folder takes
    // (sliced by the profiler), a short one (the sketch takes its values one by one), an empty one
    // and one where every value is null.
    let batches: Vec<RecordBatch> =
        vec![every_type(70_001, 1), every_type(50, 2), every_type(0, 3), every_type(20_000, 4), every_type(9_999, 5)];
    let plan = plan_for(&batches[0]);
    let cpu = fold(&batches, &plan, &CpuBackend);
    // The CPU profile is right where it can be checked by hand.
    let f = cpu.column("f64").unwrap();
    assert_eq!(f.rows, 100_050);
    assert_eq!(f.histogram.as_ref().unwrap().total(), f.moments.n);
    assert_eq!(f.kll.n, f.moments.n);
    assert_eq!(cpu.column("all_null").unwrap().missing, 100_050);
    assert_eq!(cpu.column("dict_u8").unwrap().categories, cpu.column("utf8").unwrap().categories);
    assert_eq!(cpu.column("utf8_view").unwrap().types, cpu.column("large_utf8").unwrap().types);
    let Some(g) = gpu() else { return };
    let gpu = fold(&batches, &plan, g);
    assert_same(&cpu, &gpu, "cpu vs gpu");
}

/// `batch` with a time column `t` beside: its rows spread over 40 whole hours out of order, every
/// 23rd without a time.
fn with_time(batch: RecordBatch) -> RecordBatch {
    let n = batch.num_rows().max(1);
    let t: Vec<Option<i64>> = (0..batch.num_rows())
        .map(|i| (i % 23 != 4).then_some(1_779_998_400_000 + ((i * 7919) % n) as i64 * 40 * 3_600_000 / n as i64))
        .collect();
    let mut cols: Vec<(String, ArrayRef, bool)> =
        batch.schema().fields().iter().zip(batch.columns()).map(|(f, c)| (f.name().clone(), c.clone(), true)).collect();
    cols.push(("t".into(), Arc::new(TimestampMillisecondArray::from(t)), true));
    RecordBatch::try_from_iter_with_nullable(cols).unwrap()
}

/// Time windows on every type: each window's light profile (counts, moments, bins of every
/// numeric column, categories, text typed on the host) is the same on both backends, the GPU
/// counting each window's bins and keys in its kernels.
#[test]
fn window_profiles_identical_on_every_arrow_type() {
    let Some(g) = gpu() else { return };
    let batches: Vec<RecordBatch> = (0..3).map(|s| with_time(every_type(6_000, 11 + s))).collect();
    let mut plan = plan_for(&batches[0]);
    plan.segment = SegmentKey::Window { column: "t".into(), window: "1h".parse().unwrap(), limit: 1000 };
    let (cpu, gpu) =
        (profile_batches(&batches, &plan, &CpuBackend).unwrap(), profile_batches(&batches, &plan, g).unwrap());
    assert_eq!(cpu.windows().count(), 40);
    assert_same_sets(&cpu, &gpu);
    // Every timed row is in one window, the rest untimed.
    let rows: u64 = cpu.windows().map(|(_, p)| p.rows).sum::<u64>() + cpu.segments[&Segment::Untimed].rows;
    assert_eq!(rows, 18_000);
}

/// `batch` with two segment columns beside: `region` (a dictionary of four values and nulls) and
/// `tier` (1 or 2).
fn with_segments(batch: RecordBatch, seed: u64) -> RecordBatch {
    let mut u = lcg(seed);
    let names = ["eu", "us", "apac", "latam"];
    let region: DictionaryArray<arrow_array::types::Int8Type> = (0..batch.num_rows())
        .map(|_| {
            let x = u();
            (x >= 0.05).then(|| names[((x - 0.05) / 0.95 * 4.0) as usize % 4])
        })
        .collect();
    let tier: Int64Array = (0..batch.num_rows()).map(|_| Some(1 + (u() < 0.3) as i64)).collect();
    let mut cols: Vec<(String, ArrayRef, bool)> =
        batch.schema().fields().iter().zip(batch.columns()).map(|(f, c)| (f.name().clone(), c.clone(), true)).collect();
    cols.push(("region".into(), Arc::new(region), true));
    cols.push(("tier".into(), Arc::new(tier), true));
    RecordBatch::try_from_iter_with_nullable(cols).unwrap()
}

/// The rows of `batch` whose `region` and `tier` are `key` (as text; `None`: null).
fn rows_of(batch: &RecordBatch, key: &[Option<String>]) -> RecordBatch {
    let text = |name: &str| {
        let a = arrow_cast::cast(batch.column_by_name(name).unwrap(), &DataType::Utf8).unwrap();
        a.as_any().downcast_ref::<StringArray>().unwrap().clone()
    };
    let (region, tier) = (text("region"), text("tier"));
    let keep: BooleanArray = (0..batch.num_rows())
        .map(|i| {
            let v = |a: &StringArray| (!a.is_null(i)).then(|| a.value(i).to_string());
            Some(v(&region) == key[0] && v(&tier) == key[1])
        })
        .collect();
    arrow_select::filter::filter_record_batch(batch, &keep).unwrap()
}

/// Segments by value on every type: each segment's profile holds, in every field a light
/// profile keeps (counts, types, bins, categories, moments), what the profile of its rows
/// filtered apart holds; and both backends give the same segments to the byte.
#[test]
fn segment_profiles_are_their_rows_profiles_on_both_backends() {
    let batches: Vec<RecordBatch> = (0..3).map(|s| with_segments(every_type(6_000, 21 + s), 5 + s)).collect();
    let mut plan = plan_for(&batches[0]);
    plan.groups = Some(GroupBy { columns: vec!["region".into(), "tier".into()], by_window: false, limit: 100 });
    let cpu = profile_batches(&batches, &plan, &CpuBackend).unwrap();
    let groups: Vec<(&Vec<Option<String>>, &DatasetProfile)> = cpu
        .segments
        .iter()
        .filter_map(|(k, p)| match k {
            Segment::Group(v) => Some((v, p)),
            _ => None,
        })
        .collect();
    // Four regions and the null, two tiers.
    assert_eq!(groups.len(), 10);
    assert_eq!(groups.iter().map(|g| g.1.rows).sum::<u64>(), 18_000);
    let whole_plan = ProfilePlan { groups: None, ..plan.clone() };
    for (key, p) in &groups {
        let rows: Vec<RecordBatch> = batches.iter().map(|b| rows_of(b, key)).collect();
        let want = fold(&rows, &whole_plan, &CpuBackend);
        assert_eq!(p.rows, want.rows, "{key:?}");
        for (a, b) in p.columns.iter().zip(&want.columns) {
            let what = format!("{key:?} column {}", a.name);
            assert_eq!((a.missing, a.nan, a.pos_inf, a.neg_inf), (b.missing, b.nan, b.pos_inf, b.neg_inf), "{what}");
            assert_eq!(a.types, b.types, "{what}");
            assert_eq!(a.histogram, b.histogram, "{what}");
            assert_eq!(a.categories, b.categories, "{what}");
            assert_eq!(
                (a.moments.n, a.moments.min, a.moments.max),
                (b.moments.n, b.moments.min, b.moments.max),
                "{what}"
            );
            match (a.moments.mean(), b.moments.mean()) {
                (Some(x), Some(y)) => assert!(
                    (x.is_nan() && y.is_nan()) || x == y || (x - y).abs() <= 1e-9 * y.abs().max(1.0),
                    "{what}: mean {x} vs {y}"
                ),
                (x, y) => assert_eq!(x, y, "{what}"),
            }
        }
    }
    let Some(g) = gpu() else { return };
    let gpu = profile_batches(&batches, &plan, g).unwrap();
    assert_same_sets(&cpu, &gpu);
}

/// Segments per window: each (segment, window) pair's profile holds the segment's rows of the
/// window, every timed row of the segment is in one pair, and both backends give the same
/// pairs to the byte.
#[test]
fn segment_window_profiles_identical_on_both_backends() {
    let batches: Vec<RecordBatch> =
        (0..3).map(|s| with_time(with_segments(every_type(4_000, 31 + s), 9 + s))).collect();
    let mut plan = plan_for(&batches[0]);
    plan.segment = SegmentKey::Window { column: "t".into(), window: "1h".parse().unwrap(), limit: 1000 };
    plan.groups = Some(GroupBy { columns: vec!["region".into()], by_window: true, limit: 1000 });
    let cpu = profile_batches(&batches, &plan, &CpuBackend).unwrap();
    // Each pair's window and rows.
    let pairs: Vec<(Option<i64>, u64)> = cpu
        .segments
        .iter()
        .filter_map(|(k, p)| match k {
            Segment::GroupWindow(_, w) => Some((*w, p.rows)),
            _ => None,
        })
        .collect();
    assert!(!cpu.segments.keys().any(|k| matches!(k, Segment::Group(_))), "only pairs, no segment apart");
    // Five regions (a null one too) in 40 hours, and the untimed rows of each region.
    assert_eq!(pairs.len(), 5 * 41);
    assert_eq!(pairs.iter().map(|p| p.1).sum::<u64>(), 12_000);
    // A window's pairs add up to the window.
    for (start, w) in cpu.windows() {
        let sum: u64 = pairs.iter().filter(|p| p.0 == Some(start)).map(|p| p.1).sum();
        assert_eq!(sum, w.rows, "window {start}");
    }
    let Some(g) = gpu() else { return };
    let gpu = profile_batches(&batches, &plan, g).unwrap();
    assert_same_sets(&cpu, &gpu);
}

/// A segment column of more distinct values than the plan holds is a named error.
#[test]
fn too_many_segments_is_a_named_error() {
    let batch = every_type(500, 3);
    let mut plan = plan_for(&batch);
    plan.groups = Some(GroupBy { columns: vec!["request_id".into()], by_window: false, limit: 20 });
    let e = profile_batches(&[batch], &plan, &CpuBackend).unwrap_err().to_string();
    assert!(e.contains("request_id") && e.contains("more than 20"), "{e}");
}

#[test]
fn profiles_identical_on_a_large_column() {
    // 3M values (46 batches): past lavapipe's 65,535-iteration loop limit, every value counted,
    // sketches compacted many times over.
    let mut u = lcg(9);
    let n = 3_000_000;
    let values: Vec<f64> = (0..n).map(|_| (u() * 4.0 - 2.0).exp() * 100.0).collect();
    let batch = RecordBatch::try_from_iter([("x", Arc::new(Float64Array::from(values)) as ArrayRef)]).unwrap();
    let plan = ProfilePlan {
        edges: [(
            "x".to_string(),
            (1..256).map(|i| (i as f64 / 256.0 * 4.0 - 2.0).exp() * 100.0).collect::<Vec<_>>().into(),
        )]
        .into(),
        ..Default::default()
    };
    let cpu = fold(std::slice::from_ref(&batch), &plan, &CpuBackend);
    assert_eq!(cpu.column("x").unwrap().histogram.as_ref().unwrap().total(), n as u64);
    let Some(g) = gpu() else { return };
    let gpu = fold(&[batch], &plan, g);
    assert_same(&cpu, &gpu, "3M values");
}

#[test]
fn profiles_identical_across_thread_counts() {
    let batches: Vec<RecordBatch> = (0..40).map(|i| every_type(3_000 + 97 * i, 100 + i as u64)).collect();
    let plan = plan_for(&batches[0]);
    let run = |threads: usize, backend: &dyn Backend| -> ProfileSet {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| profile_batches(&batches, &plan, backend).unwrap())
    };
    let one = run(1, &CpuBackend).into_whole();
    let three = run(3, &CpuBackend).into_whole();
    assert_same(&one, &three, "1 vs 3 threads");
    let Some(g) = gpu() else { return };
    assert_same(&one, &run(3, g).into_whole(), "cpu, 1 thread vs gpu, 3 threads");
}

#[test]
fn sketch_rank_error_within_the_kll_bound() {
    // Exact quantiles of 2M values against the sketch fed batch by batch (the selection path):
    // the normalized rank error stays within KLL's bound for k = 2048 (DataSketches' 99%
    // single-quantile bound, 2.296 / k^0.9723 ≈ 0.14%).
    let mut u = lcg(21);
    let n = 2_000_000usize;
    let values: Vec<f64> = (0..n).map(|_| (u() + u() + u()) * (1.0 + u())).collect();
    let batch = RecordBatch::try_from_iter([("x", Arc::new(Float64Array::from(values.clone())) as ArrayRef)]).unwrap();
    let p = fold(&[batch], &ProfilePlan::default(), &CpuBackend);
    let kll = &p.column("x").unwrap().kll;
    let mut sorted = values;
    sorted.sort_by(f64::total_cmp);
    let bound = 2.296 / (kll.k as f64).powf(0.9723);
    let mut worst = 0.0f64;
    for q in [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999] {
        let v = kll.quantiles(&[q])[0];
        let rank = sorted.partition_point(|&x| x <= v) as f64 / n as f64;
        worst = worst.max((rank - q).abs());
    }
    eprintln!("worst normalized rank error {worst:.5} (bound {bound:.5})");
    assert!(worst <= bound, "rank error {worst} above the KLL bound {bound}");
}

#[test]
fn batch_of_another_schema_is_a_named_error() {
    let a = every_type(10, 1);
    let plan = plan_for(&a);
    let mut p = Profiler::new(&plan, a.schema(), &CpuBackend).unwrap();
    let b = RecordBatch::try_from_iter([("f64", Arc::new(Int64Array::from(vec![1i64])) as ArrayRef)]).unwrap();
    let e = p.update(&b).unwrap_err().to_string();
    assert!(e.contains("'f64'") && e.contains("Float64") && e.contains("Int64"), "{e}");
}

#[test]
fn auto_measures_both_backends_on_the_jobs_rows() {
    // What `--backend auto` does with a hardware GPU: fold the job's first rows on each backend
    // and time it. Here on whatever adapter there is, to check that the measurement runs.
    let batches: Vec<RecordBatch> = (0..3).map(|i| every_type(5_000, 300 + i)).collect();
    let plan = plan_for(&batches[0]);
    let mut backends: Vec<&dyn Backend> = vec![&CpuBackend];
    if let Some(g) = gpu() {
        backends.push(g);
    }
    let t = driftscope::engine::auto::measure(&batches, &plan, &backends).unwrap();
    assert_eq!(t.len(), backends.len());
    assert!(t.iter().all(|&s| s > 0.0 && s.is_finite()), "{t:?}");
}

/// The random-feature kernel (`rff.wgsl`) sums the same integers as its CPU twin: inputs that
/// are not a multiple of anything (37 values, 70 features), more rows than one dispatch takes,
/// groups in runs and alone, values far outside the quantized range (clamped alike).
#[test]
fn random_feature_sums_identical() {
    use driftscope::profile::rff::{quantize, Rff};
    let Some(gpu) = gpu() else { return };
    let mut next = lcg(17);
    for (k, d, rows, n_groups) in [(37usize, 70usize, 70_001usize, 5usize), (3, 128, 5_000, 1), (1, 1, 10, 2)] {
        let rff = Rff::draw(k, d, (k as f64).sqrt(), 99);
        let q: Vec<i32> = (0..rows * k)
            .map(|i| {
                let v = (next() - 0.5) * 10.0;
                quantize(if i % 9_973 == 0 { v * 1e7 } else { v })
            })
            .collect();
        let groups: Vec<u32> = (0..rows)
            .map(|i| if i % 97 == 0 { (n_groups - 1) as u32 } else { ((i / 1_000) % n_groups) as u32 })
            .collect();
        let cpu = rff.group_sums(&q, &groups, n_groups);
        let on_gpu = gpu.rff_sums(&rff, &q, &groups, n_groups).unwrap();
        assert_eq!(cpu, on_gpu, "k {k}, d {d}, rows {rows}");
        assert_eq!(CpuBackend.rff_sums(&rff, &q, &groups, n_groups).unwrap(), cpu);
    }
}

/// The covariance kernel (`gram.wgsl`) sums the same integers as its CPU twin: feature counts
/// that are not a multiple of anything (1, 2, 37), more rows than one dispatch takes, negative
/// values, and values at the largest magnitude the kernel takes (±(2⁴⁷ − 1)).
#[test]
fn covariance_sums_identical() {
    use driftscope::profile::pca::{gram_quantize, gram_sums, GRAM_MAX};
    let Some(gpu) = gpu() else { return };
    let mut next = lcg(23);
    for (k, rows) in [(37usize, 9_001usize), (2, 20_000), (1, 5), (5, 64)] {
        let q: Vec<i64> = (0..rows * k)
            .map(|i| match i % 4_099 {
                7 => GRAM_MAX,
                8 => -GRAM_MAX,
                _ => gram_quantize((next() - 0.5) * 20.0),
            })
            .collect();
        let cpu = gram_sums(&q, k);
        assert_eq!(gpu.gram_sums(&q, k).unwrap(), cpu, "k {k}, rows {rows}");
        assert_eq!(CpuBackend.gram_sums(&q, k).unwrap(), cpu);
    }
}
