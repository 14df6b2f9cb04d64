//! Criterion benchmarks of what the backends do, CPU and GPU side by side in each group, with
//! `Throughput::Bytes`, over fixed-seed inputs with 0% and 50% nulls.
//!
//! `cargo bench --bench kernels`. The GPU rows appear when wgpu finds an adapter (Mesa's
//! lavapipe counts: it measures correctness, not speed).
//! - `fold_numeric`: 8 float columns of 65,536 rows folded by the engine (counts, moments,
//!   256-bin histograms, quantile sketches), as `monitor` does per batch;
//! - `fold_dictionary`: a 5,000-entry text dictionary column, key counts and typing;
//! - `bins_and_sketch_values`: the CPU's bucket selection against the radix sort it replaced,
//!   on one batch of 65,536 values;
//! - `compare`: the drift metrics of 1,024 features of 256 bins, in f64 on the host;
//! - `changepoints`: the change-point search of one stationary AR(1) series (φ = 0.5) of 87,600
//!   windows (ten years, hourly) by each method, and the default search of 400 such series (100
//!   features × mean, spread, completeness, distance) as a run does, series in parallel.

use std::hint::black_box;
use std::sync::Arc;

use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, DictionaryArray, Float64Array, RecordBatch, StringArray};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use driftscope::backend::cpu::{select, CpuBackend};
use driftscope::backend::gpu::GpuBackend;
use driftscope::backend::Backend;
use driftscope::engine::{ProfilePlan, Profiler};
use driftscope::profile::Kll;
use driftscope::source::synth::Rng;

const ROWS: usize = 65_536;
const BATCHES: usize = 8;

fn backends() -> Vec<(&'static str, Box<dyn Backend>)> {
    let mut v: Vec<(&'static str, Box<dyn Backend>)> = vec![("cpu", Box::new(CpuBackend))];
    match GpuBackend::new(true) {
        Ok(g) => v.push(("gpu", Box::new(g))),
        Err(e) => eprintln!("no GPU rows: {e}"),
    }
    v
}

fn values(n: usize, seed: u64, null_share: f64) -> Vec<Option<f64>> {
    let mut r = Rng(seed);
    (0..n).map(|_| (r.uniform() >= null_share).then(|| r.normal() * 3.0 + 1.0)).collect()
}

fn edges() -> Arc<[f64]> {
    let mut e: Vec<f64> = values(255, 99, 0.0).into_iter().flatten().collect();
    e.sort_by(f64::total_cmp);
    e.into()
}

/// Folds `batches` with one profiler, as the file engine does per row group.
fn fold(batches: &[RecordBatch], plan: &ProfilePlan, b: &dyn Backend) {
    let mut p = Profiler::new(plan, batches[0].schema(), b).unwrap();
    for batch in batches {
        p.update(black_box(batch)).unwrap();
    }
    black_box(p.finish().unwrap());
}

fn fold_numeric(c: &mut Criterion) {
    let mut g = c.benchmark_group("fold_numeric_8_columns_256_bins");
    g.throughput(Throughput::Bytes((BATCHES * ROWS * 8 * 8) as u64));
    g.sample_size(10);
    for (label, nulls) in [("no_nulls", 0.0), ("half_nulls", 0.5)] {
        let batches: Vec<RecordBatch> = (0..BATCHES)
            .map(|i| {
                RecordBatch::try_from_iter((0..8).map(|k| {
                    (format!("f{k}"), Arc::new(Float64Array::from(values(ROWS, (i * 8 + k) as u64, nulls))) as ArrayRef)
                }))
                .unwrap()
            })
            .collect();
        let plan = ProfilePlan { edges: (0..8).map(|k| (format!("f{k}"), edges())).collect(), ..Default::default() };
        for (name, b) in backends() {
            g.bench_with_input(BenchmarkId::new(name, label), &batches, |bench, batches| {
                bench.iter(|| fold(batches, &plan, b.as_ref()))
            });
        }
    }
    g.finish();
}

fn fold_dictionary(c: &mut Criterion) {
    let mut r = Rng(3);
    let words: Vec<String> = (0..5000).map(|i| format!("v{i}")).collect();
    let batches: Vec<RecordBatch> = (0..BATCHES)
        .map(|_| {
            let keys: Vec<Option<i32>> =
                (0..ROWS).map(|_| (r.uniform() >= 0.1).then(|| (r.uniform() * r.uniform() * 5000.0) as i32)).collect();
            let d =
                DictionaryArray::<Int32Type>::try_new(keys.into(), Arc::new(StringArray::from(words.clone()))).unwrap();
            RecordBatch::try_from_iter([("category", Arc::new(d) as ArrayRef)]).unwrap()
        })
        .collect();
    let mut g = c.benchmark_group("fold_dictionary_5000_entries");
    g.throughput(Throughput::Bytes((BATCHES * ROWS * 4) as u64));
    g.sample_size(10);
    for (name, b) in backends() {
        g.bench_function(name, |bench| bench.iter(|| fold(&batches, &ProfilePlan::default(), b.as_ref())));
    }
    g.finish();
}

fn bins_and_sketch_values(c: &mut Criterion) {
    let v: Vec<f64> = values(ROWS, 1, 0.0).into_iter().flatten().collect();
    let e = edges();
    // The order statistics a well-filled sketch keeps of a batch this size.
    let mut kll = Kll::default();
    for i in 0..40 {
        let mut b: Vec<f64> = values(ROWS, 1000 + i, 0.0).into_iter().flatten().collect();
        b.sort_by(f64::total_cmp);
        kll.update_sorted(&b);
    }
    let sel = kll.plan().select(ROWS);
    let ranks: Vec<usize> = sel.ranks().collect();
    let mut g = c.benchmark_group("bins_and_sketch_values_65536");
    g.throughput(Throughput::Bytes((ROWS * 8) as u64));
    g.bench_function("bucket_selection", |bench| {
        let mut scratch = select::Scratch::default();
        bench.iter(|| {
            let mut work = v.clone();
            let mut bins = vec![0u64; e.len() + 1];
            let mut out = vec![0.0; ranks.len()];
            select::bin_and_select(&mut work, None, false, &e, &mut bins, &ranks, &mut out, &mut scratch);
            black_box((bins, out))
        })
    });
    g.bench_function("radix_sort_then_search", |bench| {
        bench.iter(|| {
            let mut work = v.clone();
            radsort::sort(&mut work);
            let mut bins = vec![0u64; e.len() + 1];
            let mut prev = 0;
            for (i, &x) in e.iter().enumerate() {
                let at = prev + work[prev..].partition_point(|&y| y < x);
                bins[i] = (at - prev) as u64;
                prev = at;
            }
            bins[e.len()] = (work.len() - prev) as u64;
            let out: Vec<f64> = ranks.iter().map(|&r| work[r]).collect();
            black_box((bins, out))
        })
    });
    g.finish();
}

/// The drift metrics of 1,024 features of 256 bins, in f64 on the host (what every window of
/// a windowed run costs per feature, whichever backend profiled it): drifted pairs (independent
/// counts) and pairs without drift (the same counts within 5%, where the Cramér–von Mises
/// p-value sums its series), all metrics and the ordered tests alone (Cramér–von Mises,
/// Anderson–Darling, energy, total variation).
fn compare(c: &mut Criterion) {
    use driftscope::judge::{compare, ordered};
    let mut r = Rng(5);
    let edges: Vec<f64> = (1..256).map(|i| i as f64).collect();
    let spread = compare::Spread::even((0.0, 256.0));
    let counts = |r: &mut Rng| -> Vec<f64> { (0..256).map(|_| (r.uniform() * 1000.0).round()).collect() };
    let drifted: Vec<(Vec<f64>, Vec<f64>)> = (0..1024).map(|_| (counts(&mut r), counts(&mut r))).collect();
    let quiet: Vec<(Vec<f64>, Vec<f64>)> = (0..1024)
        .map(|_| {
            let base = counts(&mut r);
            let cur = base.iter().map(|b| (b * (0.95 + 0.1 * r.uniform())).round()).collect();
            (base, cur)
        })
        .collect();
    let mut g = c.benchmark_group("compare_1024_features_256_bins");
    g.throughput(Throughput::Bytes((1024 * 256 * 16) as u64));
    g.sample_size(10);
    for (name, pairs) in [("drifted", &drifted), ("no_drift", &quiet)] {
        g.bench_function(format!("host f64 {name}"), |bench| {
            bench.iter(|| {
                for (base, cur) in pairs {
                    black_box(compare::numeric(&edges, base, cur, &spread, None));
                }
            })
        });
        g.bench_function(format!("ordered tests alone {name}"), |bench| {
            bench.iter(|| {
                for (base, cur) in pairs {
                    black_box(ordered::cramer_von_mises(base, cur, false));
                    black_box(ordered::anderson_darling(base, cur, false));
                    black_box(ordered::energy_distance(&edges, base, cur, &spread));
                    black_box(ordered::total_variation(base, cur));
                }
            })
        });
    }
    g.finish();
}

/// A stationary AR(1) series of `n` points.
fn ar1(n: usize, seed: u64) -> Vec<f64> {
    let mut r = Rng(seed);
    let mut x = 0.0;
    (0..n)
        .map(|_| {
            x = 0.5 * x + r.normal();
            x
        })
        .collect()
}

fn changepoints(c: &mut Criterion) {
    use driftscope::time::changepoint::{self, Method, Search, Series};
    const WINDOWS: usize = 87_600;
    let mut g = c.benchmark_group("changepoints_87600_windows");
    g.sample_size(10);
    g.throughput(Throughput::Elements(WINDOWS as u64));
    let x = ar1(WINDOWS, 5);
    for method in [Method::Seeded, Method::Bocpd, Method::Pelt, Method::BinSeg] {
        g.bench_with_input(BenchmarkId::new("one_series", method), &method, |b, &m| {
            b.iter(|| black_box(changepoint::detect(black_box(&x), m)))
        });
    }
    let series: Vec<Series> = (0..400)
        .map(|i| Series {
            feature: format!("f{}", i / 4),
            name: ["mean", "std_dev", "completeness", "psi"][i % 4].into(),
            points: ar1(WINDOWS, i as u64)
                .into_iter()
                .map(|v| if i % 4 == 3 { v.abs() } else { v })
                .enumerate()
                .collect(),
            distance: i % 4 == 3,
        })
        .collect();
    g.throughput(Throughput::Elements((WINDOWS * series.len()) as u64));
    g.bench_function("run_of_400_series_seeded", |b| {
        b.iter(|| black_box(changepoint::find(black_box(&series), Search::default(), WINDOWS, &|_| None)))
    });
    g.finish();
}

criterion_group!(benches, fold_numeric, fold_dictionary, bins_and_sketch_values, compare, changepoints);
criterion_main!(benches);
