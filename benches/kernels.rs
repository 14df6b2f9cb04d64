//! Criterion benchmarks of the backend kernels, CPU and GPU side by side in each group, with
//! `Throughput::Bytes`, over fixed-seed inputs with 0% and 50% nulls.
//!
//! `cargo bench --bench kernels`. The GPU rows appear when wgpu finds an adapter (Mesa's
//! lavapipe counts: it measures correctness, not speed).

use std::hint::black_box;

use arrow_buffer::BooleanBuffer;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use driftwatch::backend::cpu::CpuBackend;
use driftwatch::backend::gpu::GpuBackend;
use driftwatch::backend::{Backend, BinnedPair, NumericSummary};
use driftwatch::synth::Rng;

const N: usize = 4 << 20;

fn backends() -> Vec<(&'static str, Box<dyn Backend>)> {
    let mut v: Vec<(&'static str, Box<dyn Backend>)> = vec![("cpu", Box::new(CpuBackend))];
    match GpuBackend::new(true) {
        Ok(g) => v.push(("gpu", Box::new(g))),
        Err(e) => eprintln!("no GPU rows: {e}"),
    }
    v
}

fn values(n: usize) -> Vec<f64> {
    let mut r = Rng(42);
    (0..n).map(|_| r.normal() * 3.0 + 1.0).collect()
}

fn half_null(n: usize) -> BooleanBuffer {
    let mut r = Rng(7);
    BooleanBuffer::from((0..n).map(|_| r.uniform() < 0.5).collect::<Vec<_>>())
}

fn histogram(c: &mut Criterion) {
    let v = values(N);
    let mut edges: Vec<f64> = values(255);
    edges.sort_by(f64::total_cmp);
    let nulls = half_null(N);
    let mut g = c.benchmark_group("histogram_f64_256_bins");
    g.throughput(Throughput::Bytes((N * 8) as u64));
    g.sample_size(10);
    for (name, b) in backends() {
        for (label, validity) in [("no_nulls", None), ("half_nulls", Some(&nulls))] {
            g.bench_with_input(BenchmarkId::new(name, label), &validity, |bench, validity| {
                bench.iter(|| {
                    let mut s = NumericSummary::new(edges.len());
                    b.histogram(black_box(&v), *validity, &edges, &mut s).unwrap();
                    s
                })
            });
        }
    }
    g.finish();
}

fn categorical(c: &mut Criterion) {
    let mut r = Rng(3);
    let keys: Vec<u32> = (0..N).map(|_| (r.uniform() * r.uniform() * 5000.0) as u32).collect();
    let nulls = half_null(N);
    let mut g = c.benchmark_group("key_counts_5000_keys");
    g.throughput(Throughput::Bytes((N * 4) as u64));
    g.sample_size(10);
    for (name, b) in backends() {
        for (label, validity) in [("no_nulls", None), ("half_nulls", Some(&nulls))] {
            g.bench_with_input(BenchmarkId::new(name, label), &validity, |bench, validity| {
                bench.iter(|| {
                    let mut counts = vec![0u64; 5000];
                    b.key_counts(black_box(&keys), *validity, &mut counts).unwrap();
                    counts
                })
            });
        }
    }
    g.finish();
}

fn compare(c: &mut Criterion) {
    let mut r = Rng(5);
    let pairs: Vec<BinnedPair> = (0..1024)
        .map(|_| BinnedPair {
            edges: (1..256).map(|i| i as f64).collect(),
            base: (0..256).map(|_| (r.uniform() * 1000.0).round()).collect(),
            cur: (0..256).map(|_| (r.uniform() * 1000.0).round()).collect(),
            lowest: 0.0,
        })
        .collect();
    let mut g = c.benchmark_group("compare_1024_features_256_bins");
    g.throughput(Throughput::Bytes((1024 * 256 * 16) as u64));
    g.sample_size(10);
    for (name, b) in backends() {
        g.bench_function(name, |bench| bench.iter(|| b.compare(black_box(&pairs)).unwrap()));
    }
    g.finish();
}

criterion_group!(benches, histogram, categorical, compare);
criterion_main!(benches);
