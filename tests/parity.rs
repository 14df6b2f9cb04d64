//! One parity suite, written once over `&dyn Backend` and run on the CPU and the GPU backends:
//! counts, min/max and histograms must be identical; the comparison kernel agrees within
//! `GPU_METRIC_TOLERANCE`. A GPU test that finds no adapter fails when
//! `DRIFTWATCH_REQUIRE_GPU=1` (CI sets it) and says that it skipped otherwise.

use std::sync::OnceLock;

use arrow_buffer::BooleanBuffer;
use driftwatch::backend::cpu::{self, CpuBackend};
use driftwatch::backend::gpu::GpuBackend;
use driftwatch::backend::{Backend, BinnedPair, NumericSummary, GPU_METRIC_TOLERANCE};

/// The GPU backend (software adapters included), opened once for the whole test binary.
pub fn gpu() -> Option<&'static GpuBackend> {
    static GPU: OnceLock<Option<GpuBackend>> = OnceLock::new();
    GPU.get_or_init(|| match GpuBackend::new(true) {
        Ok(g) => Some(g),
        Err(e) => {
            if std::env::var("DRIFTWATCH_REQUIRE_GPU").as_deref() == Ok("1") {
                panic!("DRIFTWATCH_REQUIRE_GPU=1 but no GPU adapter: {e}");
            }
            eprintln!("skipped GPU tests: {e}");
            None
        }
    })
    .as_ref()
}

/// Runs a check on every backend available.
fn on_every_backend(check: impl Fn(&dyn Backend)) {
    check(&CpuBackend);
    if let Some(g) = gpu() {
        check(g);
    }
}

fn reference(values: &[f64], validity: Option<&BooleanBuffer>, edges: &[f64]) -> NumericSummary {
    let mut s = NumericSummary::new(edges.len());
    cpu::histogram(values, validity, edges, &mut s);
    s
}

fn check_histogram(b: &dyn Backend, values: &[f64], validity: Option<&BooleanBuffer>, edges: &[f64]) -> NumericSummary {
    let mut s = NumericSummary::new(edges.len());
    b.histogram(values, validity, edges, &mut s).unwrap();
    let want = reference(values, validity, edges);
    assert_eq!(s, want, "{} differs from the CPU reference", b.name());
    s
}

fn lcg(n: usize, seed: u64) -> Vec<f64> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((x >> 11) as f64 / (1u64 << 53) as f64) * 200.0 - 100.0
        })
        .collect()
}

#[test]
fn histogram_edge_values() {
    let edges = [-1.0, 0.0, 5e-324, 1.0, 2.0];
    let values = [
        -1.0,
        0.0,
        -0.0,
        5e-324,
        -5e-324,
        1.0,
        2.0,
        f64::MAX,
        -f64::MAX,
        f64::MIN_POSITIVE,
        2.2e-308,
        -2.2e-308,
        f64::NAN,
        -f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        0.999_999_999_999_999_9,
        1.000_000_000_000_000_2,
    ];
    on_every_backend(|b| {
        let s = check_histogram(b, &values, None, &edges);
        assert_eq!((s.nan, s.pos_inf, s.neg_inf), (2, 1, 1));
        assert_eq!((s.min, s.max), (Some(-f64::MAX), Some(f64::MAX)));
        // -0.0 bins with 0.0: both land in [0, 5e-324).
        assert_eq!(s.counts.iter().sum::<u64>(), 14);
    });
}

#[test]
fn histogram_empty_and_all_null() {
    on_every_backend(|b| {
        let s = check_histogram(b, &[], None, &[1.0]);
        assert_eq!(s, NumericSummary::new(1));
        let bits = BooleanBuffer::from(vec![false; 100]);
        let s = check_histogram(b, &[3.0; 100], Some(&bits), &[1.0]);
        assert_eq!((s.nulls, s.counts.clone(), s.min), (100, vec![0, 0], None));
    });
}

#[test]
fn histogram_random_with_nulls_and_many_bins() {
    let values = lcg(200_003, 7);
    let validity: Vec<bool> = (0..values.len()).map(|i| i % 7 != 3).collect();
    let bits = BooleanBuffer::from(validity);
    let mut edges: Vec<f64> = lcg(1000, 11);
    edges.sort_by(f64::total_cmp);
    edges.dedup();
    on_every_backend(|b| {
        let s = check_histogram(b, &values, Some(&bits), &edges);
        assert_eq!(s.counts.iter().sum::<u64>() + s.nulls, values.len() as u64);
    });
}

/// lavapipe silently stops shader loops after 65,535 iterations: the total must still equal
/// the number of values on a large input (several dispatch chunks).
#[test]
fn histogram_large_input_counts_every_value() {
    let n = 3_000_000;
    let values = lcg(n, 3);
    on_every_backend(|b| {
        let s = check_histogram(b, &values, None, &[-50.0, 0.0, 50.0]);
        assert_eq!(s.counts.iter().sum::<u64>(), n as u64);
    });
}

/// A small dispatch size forces many chunks, each flushed and widened on the host; a validity
/// bitmap that does not start on a word boundary is split correctly.
#[test]
fn gpu_chunked_dispatches_match() {
    let Some(_) = gpu() else { return };
    let g = GpuBackend::new(true).unwrap().with_chunk_values(96);
    let values = lcg(10_001, 5);
    let bits = BooleanBuffer::from((0..values.len()).map(|i| i % 5 != 0).collect::<Vec<_>>());
    let sliced = bits.slice(3, values.len() - 3);
    check_histogram(&g, &values[3..], Some(&sliced), &[-10.0, 10.0]);
    let keys: Vec<u32> = (0..10_001u32).map(|i| i % 13).collect();
    let mut c1 = vec![0u64; 13];
    let mut c2 = vec![0u64; 13];
    let n1 = g.key_counts(&keys, Some(&bits), &mut c1).unwrap();
    let n2 = cpu::key_counts(&keys, Some(&bits), &mut c2);
    assert_eq!((c1, n1), (c2, n2));
}

#[test]
fn key_counts_small_and_large_dictionaries() {
    for n_keys in [1usize, 7, 2048, 2049, 70_000] {
        let keys: Vec<u32> = (0..150_000u64).map(|i| ((i * 2654435761) % n_keys as u64) as u32).collect();
        let bits = BooleanBuffer::from((0..keys.len()).map(|i| i % 11 != 0).collect::<Vec<_>>());
        let mut want = vec![0u64; n_keys];
        let want_nulls = cpu::key_counts(&keys, Some(&bits), &mut want);
        on_every_backend(|b| {
            let mut got = vec![0u64; n_keys];
            let nulls = b.key_counts(&keys, Some(&bits), &mut got).unwrap();
            assert_eq!((nulls, &got), (want_nulls, &want), "{} with {n_keys} keys", b.name());
            let mut all = vec![0u64; n_keys];
            assert_eq!(b.key_counts(&keys, None, &mut all).unwrap(), 0);
            assert_eq!(all.iter().sum::<u64>(), keys.len() as u64);
        });
    }
}

#[test]
fn compare_kernel_agrees_with_f64_reference() {
    let mut pairs = Vec::new();
    for f in 0..40u64 {
        let bins = 2 + (f as usize * 7) % 257;
        let edges: Vec<f64> = (1..bins).map(|i| i as f64 * 0.5 - 10.0).collect();
        let base: Vec<f64> = (0..bins).map(|i| ((i as u64 * 31 + f) % 17) as f64 * 100.0).collect();
        let cur: Vec<f64> = (0..bins).map(|i| ((i as u64 * 13 + 2 * f) % 11) as f64 * 70.0).collect();
        pairs.push(BinnedPair { edges, base, cur, lowest: -12.0 });
    }
    pairs.push(BinnedPair { edges: vec![1.0], base: vec![0.0, 0.0], cur: vec![1.0, 1.0], lowest: 0.0 });
    let want = cpu::compare(&pairs);
    on_every_backend(|b| {
        let got = b.compare(&pairs).unwrap();
        let mut worst = 0.0f64;
        assert_eq!(got.len(), want.len());
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            for (name, x, y) in [
                ("linf", g.linf, w.linf),
                ("psi", g.psi, w.psi),
                ("kl", g.kl, w.kl),
                ("js", g.js, w.js),
                ("hellinger", g.hellinger, w.hellinger),
                ("wasserstein", g.wasserstein, w.wasserstein),
            ] {
                assert!(
                    (x - y).abs() <= GPU_METRIC_TOLERANCE * y.abs().max(1.0),
                    "{} feature {i} {name}: {x} vs {y}",
                    b.name()
                );
                if y.abs() > 1e-3 {
                    worst = worst.max((x - y).abs() / y.abs());
                }
            }
        }
        eprintln!("{}: worst relative difference of the comparison kernel (values > 1e-3): {worst:.2e}", b.name());
    });
}
