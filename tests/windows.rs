//! Time windows in the engine: rows keyed by the calendar window of their time, one light
//! profile per window beside the whole profile, on both backends.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::types::Int32Type;
use arrow_array::{Array, DictionaryArray, Float64Array, RecordBatch, TimestampMillisecondArray};
use driftwatch::backend::cpu::CpuBackend;
use driftwatch::backend::Backend;
use driftwatch::engine::window::Window;
use driftwatch::engine::{profile_batches, ProfilePlan, ProfileSet, Profiler, Segment, SegmentKey};

use crate::common::arr;
use crate::parity::gpu;

const HOUR: i64 = 3_600_000;
/// 2026-11-28T00:00:00Z.
const DAY0: i64 = 1_795_824_000_000;

/// Rows over `hours` hours in a scrambled order: `x` drifts upward hour by hour, `c` is a
/// category, every 97th row has no time.
fn capture(rows: usize, hours: i64) -> RecordBatch {
    let mut t = Vec::with_capacity(rows);
    let mut x = Vec::with_capacity(rows);
    let mut c = Vec::with_capacity(rows);
    for i in 0..rows {
        // A permutation of the rows' positions, so times are not in order.
        let j = (i * 7919) % rows;
        let at = DAY0 + (j as i64 * hours * HOUR) / rows as i64;
        t.push((i % 97 != 5).then_some(at));
        let hour = (at - DAY0) / HOUR;
        x.push(((j % 13) as f64) * 0.5 + hour as f64);
        c.push(["a", "b", "c"][(j + hour as usize) % 3]);
    }
    let c: DictionaryArray<Int32Type> = c.into_iter().collect();
    RecordBatch::try_from_iter([
        ("t", arr(TimestampMillisecondArray::from(t).with_timezone("UTC"))),
        ("x", arr(Float64Array::from(x))),
        ("c", arr(c)),
    ])
    .unwrap()
}

fn plan(limit: usize) -> ProfilePlan {
    ProfilePlan {
        edges: BTreeMap::from([("x".to_string(), Arc::from(vec![1.0, 2.5, 4.0, 8.0]))]),
        segment: SegmentKey::Window { column: "t".into(), window: "1h".parse::<Window>().unwrap(), limit },
        ..Default::default()
    }
}

fn windowed(batch: &RecordBatch, backend: &dyn Backend) -> ProfileSet {
    let batches: Vec<RecordBatch> =
        (0..batch.num_rows()).step_by(3000).map(|s| batch.slice(s, 3000.min(batch.num_rows() - s))).collect();
    profile_batches(&batches, &plan(1000), backend).unwrap()
}

/// What each window should hold, computed row by row from the batch.
struct Expected {
    rows: u64,
    sum: f64,
    bins: [u64; 5],
    cats: BTreeMap<String, u64>,
}

fn expected(batch: &RecordBatch) -> (BTreeMap<i64, Expected>, u64) {
    let t = batch.column(0).as_any().downcast_ref::<TimestampMillisecondArray>().unwrap();
    let x = batch.column(1).as_any().downcast_ref::<Float64Array>().unwrap();
    let c = batch.column(2).as_any().downcast_ref::<DictionaryArray<Int32Type>>().unwrap();
    let values = c.values().as_any().downcast_ref::<arrow_array::StringArray>().unwrap();
    let mut out: BTreeMap<i64, Expected> = BTreeMap::new();
    let mut untimed = 0;
    for i in 0..batch.num_rows() {
        if t.is_null(i) {
            untimed += 1;
            continue;
        }
        let start = t.value(i).div_euclid(HOUR) * HOUR;
        let e = out.entry(start).or_insert(Expected { rows: 0, sum: 0.0, bins: [0; 5], cats: BTreeMap::new() });
        e.rows += 1;
        e.sum += x.value(i);
        e.bins[[1.0, 2.5, 4.0, 8.0].iter().filter(|&&edge| edge <= x.value(i)).count()] += 1;
        *e.cats.entry(values.value(c.keys().value(i) as usize).to_string()).or_insert(0) += 1;
    }
    (out, untimed)
}

#[test]
fn every_window_holds_exactly_its_rows() {
    let batch = capture(20_000, 30);
    let set = windowed(&batch, &CpuBackend);
    let (want, untimed) = expected(&batch);
    let windows: Vec<(i64, _)> = set.windows().collect();
    assert_eq!(windows.iter().map(|w| w.0).collect::<Vec<_>>(), want.keys().copied().collect::<Vec<_>>());
    assert_eq!(windows.len(), 30);
    for (start, p) in windows {
        let e = &want[&start];
        assert_eq!(p.rows, e.rows, "window {start}");
        let x = p.column("x").unwrap();
        assert_eq!(x.histogram.as_ref().unwrap().counts, e.bins.to_vec(), "window {start}");
        let mean = x.moments.mean().unwrap();
        assert!((mean - e.sum / e.rows as f64).abs() < 1e-9, "window {start}: {mean}");
        // Light: no quantile or distinct sketch per window.
        assert!(x.kll.is_empty());
        let c = p.column("c").unwrap();
        assert_eq!(c.categories.exact, e.cats, "window {start}");
        assert_eq!(p.column("t").unwrap().rows, e.rows);
    }
    assert_eq!(set.segments[&Segment::Untimed].rows, untimed);
    assert!(untimed > 0);
    // The whole profile is the one a run without windows gives.
    let plain = ProfilePlan { segment: SegmentKey::Whole, ..plan(1000) };
    let batches: Vec<RecordBatch> =
        (0..batch.num_rows()).step_by(3000).map(|s| batch.slice(s, 3000.min(batch.num_rows() - s))).collect();
    let whole = profile_batches(&batches, &plain, &CpuBackend).unwrap().into_whole();
    assert_eq!(set.clone().into_whole(), whole);
    assert_eq!(whole.rows, batch.num_rows() as u64);
}

#[test]
fn windows_do_not_depend_on_row_order() {
    let batch = capture(12_000, 7);
    let reversed_idx = arrow_array::UInt32Array::from((0..batch.num_rows() as u32).rev().collect::<Vec<_>>());
    let reversed = arrow_select::take::take_record_batch(&batch, &reversed_idx).unwrap();
    let (a, b) = (windowed(&batch, &CpuBackend), windowed(&reversed, &CpuBackend));
    assert_eq!(a.segments.len(), b.segments.len());
    for ((ka, pa), (kb, pb)) in a.segments.iter().zip(&b.segments).filter(|((k, _), _)| **k != Segment::Whole) {
        assert_eq!(ka, kb);
        assert_eq!(pa.rows, pb.rows);
        let (xa, xb) = (pa.column("x").unwrap(), pb.column("x").unwrap());
        assert_eq!(xa.histogram, xb.histogram);
        assert_eq!(xa.moments.n, xb.moments.n);
        assert!((xa.moments.mean().unwrap_or(0.0) - xb.moments.mean().unwrap_or(0.0)).abs() < 1e-9);
        assert_eq!(pa.column("c").unwrap().categories, pb.column("c").unwrap().categories);
    }
}

#[test]
fn windows_are_the_same_on_the_gpu() {
    let Some(g) = gpu() else { return };
    let batch = capture(20_000, 30);
    let (cpu, gpu) = (windowed(&batch, &CpuBackend), windowed(&batch, g));
    assert_eq!(serde_json::to_string(&cpu).unwrap(), serde_json::to_string(&gpu).unwrap());
}

#[test]
fn profile_sets_round_trip_through_json() {
    let set = windowed(&capture(3000, 4), &CpuBackend);
    let text = serde_json::to_string(&set).unwrap();
    assert_eq!(serde_json::from_str::<ProfileSet>(&text).unwrap(), set);
}

#[test]
fn too_many_windows_is_an_error_naming_the_column() {
    let batch = capture(3000, 50);
    let mut p = Profiler::new(&plan(10), batch.schema(), &CpuBackend).unwrap();
    let e = p.update(&batch).unwrap_err().to_string();
    assert!(e.contains("'t'") && e.contains("more than 10 windows"), "{e}");
}

#[test]
fn a_time_column_of_another_type_is_refused() {
    let batch = RecordBatch::try_from_iter([("t", arr(arrow_array::BooleanArray::from(vec![true])))]).unwrap();
    let e = Profiler::new(&plan(10), batch.schema(), &CpuBackend).unwrap_err().to_string();
    assert!(e.contains("'t'") || e.contains("t:"), "{e}");
    assert!(e.contains("Boolean"), "{e}");
}
