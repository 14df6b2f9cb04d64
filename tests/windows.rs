//! Time windows in the engine: rows keyed by the calendar window of their time, one light
//! profile per window beside the whole profile, on both backends.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::types::Int32Type;
use arrow_array::{Array, DictionaryArray, Float64Array, RecordBatch, TimestampMillisecondArray};
use driftscope::backend::cpu::CpuBackend;
use driftscope::backend::Backend;
use driftscope::engine::window::Window;
use driftscope::engine::{profile_batches, ProfilePlan, ProfileSet, Profiler, Segment, SegmentKey};

use crate::common::{arr, tool};
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
    check_every_window(&CpuBackend);
}

/// On the GPU the window is one more key of the histogram and key-count kernels: checked
/// against the same row-by-row reference.
#[test]
fn every_window_holds_exactly_its_rows_on_the_gpu() {
    let Some(g) = gpu() else { return };
    check_every_window(g);
}

fn check_every_window(backend: &dyn Backend) {
    let batch = capture(20_000, 30);
    let set = windowed(&batch, backend);
    let (want, untimed) = expected(&batch);
    let windows: Vec<(i64, _)> = set.windows().collect();
    assert_eq!(windows.iter().map(|w| w.0).collect::<Vec<_>>(), want.keys().copied().collect::<Vec<_>>());
    assert_eq!(windows.len(), 30);
    for (start, p) in windows {
        let e = &want[&start];
        assert_eq!(p.rows, e.rows, "window {start}");
        let x = p.column("x").unwrap();
        assert_eq!(x.histogram.as_ref().unwrap().counts(), e.bins.to_vec(), "window {start}");
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
    let whole = profile_batches(&batches, &plain, backend).unwrap().into_whole();
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

/// Many windows in each batch, each with a fine histogram: a column's bins of all windows no
/// longer fit the kernel's workgroup memory and are counted in global memory; with one row per
/// window, a batch's 65,536 windows are pushed to the folder in runs. Both against the CPU, and
/// the one-row windows against the rows themselves.
#[test]
fn many_windows_per_batch_are_the_same_on_the_gpu() {
    let Some(g) = gpu() else { return };
    let edges: Arc<[f64]> = (0..200).map(|i| i as f64 * 0.25).collect::<Vec<_>>().into();
    let fine = |window: Window| ProfilePlan {
        edges: BTreeMap::from([("x".to_string(), edges.clone())]),
        segment: SegmentKey::Window { column: "t".into(), window, limit: 100_000 },
        ..Default::default()
    };
    // A day of rows in 15-minute windows: 96 windows × 201 bins in each batch.
    let batch = capture(30_000, 24);
    let quarters = fine("15m".parse::<Window>().unwrap());
    let one = |plan: &ProfilePlan, b: &dyn Backend, batch: &RecordBatch| {
        let mut p = Profiler::new(plan, batch.schema(), b).unwrap();
        p.update(batch).unwrap();
        p.finish().unwrap()
    };
    let (cpu, gpu_set) = (one(&quarters, &CpuBackend, &batch), one(&quarters, g, &batch));
    assert_eq!(cpu.windows().count(), 96);
    assert_same_sets(&cpu, &gpu_set);

    let rows = 65_536;
    let batch = capture(rows, 5);
    let per_row = fine(Window::rows(1));
    let (cpu, gpu_set) = (one(&per_row, &CpuBackend, &batch), one(&per_row, g, &batch));
    assert_eq!(gpu_set.windows().count(), rows);
    assert_same_sets(&cpu, &gpu_set);
    let x = batch.column(1).as_any().downcast_ref::<Float64Array>().unwrap();
    for (i, (_, p)) in gpu_set.windows().enumerate().step_by(97) {
        let h = p.column("x").unwrap().histogram.as_ref().unwrap();
        let bin = edges.iter().filter(|&&e| e <= x.value(i)).count();
        assert_eq!(h.total(), 1, "row {i}");
        assert_eq!(h.count(bin), 1, "row {i}: {} in bin {bin}", x.value(i));
    }
}

/// A folder given a batch in more groups than one submission's counters hold splits it into
/// submissions of consecutive groups: the folds are the CPU folder's, group by group.
#[test]
fn a_gpu_folder_splits_a_batch_of_many_groups() {
    use driftscope::backend::{ColumnFold, ColumnKind, ColumnTask, Detail, FoldPlan};
    let Some(g) = gpu() else { return };
    let batch = capture(65_536, 5);
    let edges: Arc<[f64]> = (0..200).map(|i| i as f64 * 0.25).collect::<Vec<_>>().into();
    let task = |index, kind, edges| ColumnTask { index, kind, edges, detail: Detail::Light };
    let plan = Arc::new(FoldPlan {
        columns: vec![task(1, ColumnKind::Numeric { integral: false }, Some(edges)), task(2, ColumnKind::Keys, None)],
    });
    // One group per row: 65,536 × (201 + 3) counters, past the 4M of a submission.
    let groups: Vec<std::ops::Range<usize>> = (0..batch.num_rows()).map(|i| i..i + 1).collect();
    let fold = |b: &dyn Backend| {
        let mut f = b.folder(plan.clone()).unwrap();
        let mut done = f.push(&batch, &groups, &[None, None]).unwrap();
        done.extend(f.flush().unwrap());
        done
    };
    let (cpu, gpu_folds) = (fold(&CpuBackend), fold(g));
    assert_eq!(cpu.len(), 1);
    assert!(gpu_folds.len() > 1, "one submission");
    // The CPU folds a numeric column's groups at once: each group's fold, as the GPU's.
    let flat = |folds: &[driftscope::backend::BatchFold], task: usize| -> Vec<String> {
        let bins = plan.columns[task].edges.as_ref().map(|e| e.len() + 1);
        folds
            .iter()
            .flat_map(|f| match &f.columns[task][..] {
                [ColumnFold::Grouped(g)] => g
                    .folds(&f.groups, bins)
                    .into_iter()
                    .map(|n| format!("{:?}", ColumnFold::Numeric(Box::new(n))))
                    .collect::<Vec<_>>(),
                columns => columns.iter().map(|c| format!("{c:?}")).collect(),
            })
            .collect()
    };
    for task in 0..2 {
        let (a, b) = (flat(&cpu, task), flat(&gpu_folds, task));
        assert_eq!(a.len(), groups.len());
        assert!(a == b, "task {task}: folds differ");
    }
    assert_eq!(gpu_folds.iter().map(|f| f.groups.len()).sum::<usize>(), groups.len());
}

/// Windows with so many bins that a batch's windows are folded a few at a time, the last run
/// a single window (folded alone, not as a group): every window's profile is, to the byte,
/// the profile of its own rows alone.
#[test]
fn windows_folded_in_runs_are_each_the_profile_of_their_rows() {
    use arrow_array::cast::AsArray;
    use driftscope::engine::profile_unit;
    let batch = capture(3_000, 10);
    // 100,001 bins and 3 keys a window: ten windows a run, then the untimed rows alone.
    let edges: Arc<[f64]> = (0..100_000).map(|i| f64::from(i) * 2e-4).collect::<Vec<_>>().into();
    let plan = ProfilePlan { edges: BTreeMap::from([("x".to_string(), edges)]), ..plan(100) };
    let set = profile_unit(std::slice::from_ref(&batch), &plan, &CpuBackend).unwrap();
    let times = batch.column(0).as_primitive::<arrow_array::types::TimestampMillisecondType>();
    let mut checked = 0;
    for (k, got) in set.segments.iter().filter(|(k, _)| **k != Segment::Whole) {
        let mine: arrow_array::BooleanArray = times
            .iter()
            .map(|t| {
                Some(match k {
                    Segment::Window(s) => t.is_some_and(|t| *s <= t && t < s + HOUR),
                    _ => t.is_none(),
                })
            })
            .collect();
        let rows = arrow_select::filter::filter_record_batch(&batch, &mine).unwrap();
        let alone = profile_unit(&[rows], &plan, &CpuBackend).unwrap();
        let want = &alone.segments[k];
        assert_eq!(want.rows, got.rows, "{k:?}");
        for (w, g) in want.columns.iter().zip(&got.columns) {
            assert!(w.histogram == g.histogram, "{k:?} {}: histograms differ", w.name);
            let bare = |c: &driftscope::profile::ColumnProfile| {
                serde_json::to_string(&driftscope::profile::ColumnProfile { histogram: None, ..c.clone() }).unwrap()
            };
            assert_eq!(bare(w), bare(g), "{k:?}");
        }
        checked += 1;
    }
    assert_eq!(checked, 11, "ten hours and the untimed rows");
}

/// The two sets hold the same segments with the same profiles, to the byte once serialized;
/// names the first segment and column that differ.
fn assert_same_sets(want: &ProfileSet, got: &ProfileSet) {
    assert_eq!(want.segments.len(), got.segments.len());
    for ((k, a), (l, b)) in want.segments.iter().zip(&got.segments) {
        assert_eq!(k, l);
        for (x, y) in a.columns.iter().zip(&b.columns) {
            let (x, y) = (serde_json::to_string(x).unwrap(), serde_json::to_string(y).unwrap());
            assert!(x == y, "segment {k:?}, column differs:\n{x}\n{y}");
        }
        assert_eq!(a.rows, b.rows, "segment {k:?}");
    }
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

/// A day of hourly captures over three files, rows of all hours mixed in each file: `x` is
/// shifted by 5 from `from_hour` on, every 50th row has no time.
fn hourly_files(dir: &std::path::Path, hours: i64, from_hour: i64) -> u64 {
    std::fs::create_dir_all(dir).unwrap();
    let mut untimed = 0;
    for f in 0..3 {
        let n = 6000;
        let (mut t, mut x, mut c) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..n {
            let k = (i * 7919 + f * 31) % n;
            let hour = (k as i64 * hours) / n as i64;
            let timed = i % 50 != 7;
            untimed += u64::from(!timed);
            t.push(timed.then_some(DAY0 + hour * HOUR + (k as i64 % 3600) * 1000));
            let base = ((k * 37) % 1000) as f64 / 100.0;
            x.push(if hour >= from_hour { base + 5.0 } else { base });
            c.push(["red", "green", "blue"][k % 3]);
        }
        crate::common::write_parquet(
            &dir.join(format!("part-{f}.parquet")),
            vec![
                ("t", arr(TimestampMillisecondArray::from(t))),
                ("x", arr(Float64Array::from(x))),
                ("c", arr(arrow_array::StringArray::from(c))),
            ],
            2500,
        );
    }
    untimed
}

/// `driftscope monitor --window 1h --time-column t -b base -o out input`.
fn monitor_hourly(
    base: &std::path::Path,
    out: &std::path::Path,
    input: &std::path::Path,
) -> assert_cmd::assert::Assert {
    crate::common::driftscope()
        .args(["monitor", "-q", "--window", "1h", "--time-column", "t", "-b"])
        .arg(base)
        .arg("-o")
        .arg(out)
        .arg(input)
        .assert()
}

fn csv_rows(path: &std::path::Path) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines.map(|l| header.iter().zip(l.split(',')).map(|(h, v)| (h.to_string(), v.to_string())).collect()).collect()
}

#[test]
fn monitor_judges_every_window_and_finds_the_injected_hours() {
    let d = tempfile::tempdir().unwrap();
    hourly_files(&d.path().join("train"), 6, 99);
    let untimed = hourly_files(&d.path().join("cur"), 6, 3);
    let base = d.path().join("base");
    crate::common::baseline_of(&d.path().join("train"), &base);
    let out = d.path().join("out");
    monitor_hourly(&base, &out, &d.path().join("cur"))
        .code(1)
        .stdout(predicates::str::contains("windows: 6 of 1h on `t`"));
    let rows = csv_rows(&out.join("windows.csv"));
    // One row per (window, feature): 6 hours × 2 features (x, c; the time column t is not
    // judged per window).
    assert_eq!(rows.len(), 12);
    assert!(!rows.iter().any(|r| r["feature"] == "t"));
    let mut timed = 0;
    for hour in 0..6 {
        let start = driftscope::engine::window::iso(DAY0 + hour * HOUR);
        let x = rows.iter().find(|r| r["window_start"] == start && r["feature"] == "x").unwrap();
        let want = if hour >= 3 { "drift" } else { "ok" };
        assert_eq!(x["status"], want, "hour {hour}: {x:?}");
        assert_eq!(x["window_end"], driftscope::engine::window::iso(DAY0 + (hour + 1) * HOUR));
        let c = rows.iter().find(|r| r["window_start"] == start && r["feature"] == "c").unwrap();
        assert_eq!(c["status"], "ok", "hour {hour}: {c:?}");
        timed += x["rows"].parse::<u64>().unwrap();
        // SageMaker's hourly layout, one folder per window.
        let v = crate::common::json(&out.join(format!("windows/2026/11/28/{hour:02}/constraint_violations.json")));
        let drifted = v["violations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["feature_name"] == "x" && v["constraint_check_type"] == "baseline_drift_check");
        assert_eq!(drifted, hour >= 3, "hour {hour}");
    }
    let drift = crate::common::json(&out.join("drift.json"));
    assert_eq!(drift["windows"]["untimed_rows"], untimed);
    assert_eq!(timed + untimed, 18_000);
    assert_eq!(drift["windows"]["windows_with_drift"], 3);
    // The shift starts at hour 3: in x's mean and in its PSI against the baseline.
    let changes = crate::common::json(&out.join("changepoints.json"));
    let at: Vec<(String, u64)> = changes
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["feature"] == "x")
        .map(|c| (c["series"].to_string(), c["window_index"].as_u64().unwrap()))
        .collect();
    // One record for the one change, supported by the mean and by the PSI.
    assert_eq!(at, vec![(r#"["mean","psi"]"#.to_string(), 3)], "{}", drift["windows"]);
    // The Parquet table holds the same rows.
    let file = std::fs::File::open(out.join("windows.parquet")).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    assert_eq!(reader.metadata().file_metadata().num_rows(), 12);
    // --window-files: only the windows with a violation get their folder (the same files), or
    // none; the tables hold every window either way.
    for (which, hours) in [("violations", 3..6), ("none", 0..0)] {
        let o = d.path().join(which);
        crate::common::driftscope()
            .args(["monitor", "-q", "--window", "1h", "--time-column", "t", "--window-files", which, "-b"])
            .arg(&base)
            .arg("-o")
            .arg(&o)
            .arg(d.path().join("cur"))
            .assert()
            .code(1);
        let read = |dir: &std::path::Path, f: &str| std::fs::read(dir.join(f)).unwrap();
        assert!(read(&out, "windows.csv") == read(&o, "windows.csv"), "{which}: windows.csv");
        for hour in 0..6 {
            let f = format!("windows/2026/11/28/{hour:02}/constraint_violations.json");
            assert_eq!(o.join(&f).is_file(), hours.contains(&hour), "{which}: hour {hour}");
            if hours.contains(&hour) {
                assert!(read(&out, &f) == read(&o, &f), "{which}: {f}");
            }
        }
    }
    crate::common::driftscope()
        .args(["monitor", "-q", "--window-files", "none", "-b"])
        .arg(&base)
        .arg("-o")
        .arg(d.path().join("unwindowed"))
        .arg(d.path().join("cur"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--window-files need --window or --window-rows"));
}

/// A baseline of the features only (training data has no capture time): the time column that
/// keys the windows is the run's clock, never an extra column — neither of the run nor of every
/// window (else every window of an unchanged capture would count as a window with violations).
/// Another column the baseline lacks is one, said once by the run and in no window.
#[test]
fn the_time_column_is_never_an_extra_column_and_others_are_said_once() {
    let d = tempfile::tempdir().unwrap();
    hourly_files(&d.path().join("train"), 6, 99);
    hourly_files(&d.path().join("cur"), 6, 99);
    let baseline_of = |columns: &str, base: &std::path::Path| {
        crate::common::driftscope()
            .args(["baseline", "-q", "--columns", columns, "-o"])
            .arg(base)
            .arg(d.path().join("train"))
            .assert()
            .success();
    };
    let (base, out) = (d.path().join("base"), d.path().join("out"));
    baseline_of("x,c", &base);
    monitor_hourly(&base, &out, &d.path().join("cur")).code(0);
    let run = crate::common::json(&out.join("constraint_violations.json"));
    assert_eq!(run["violations"], serde_json::json!([]), "{run}");
    // Without x in the baseline, x is an extra column: once, in the run's violations.
    let (base, out) = (d.path().join("base-c"), d.path().join("out-c"));
    baseline_of("c", &base);
    monitor_hourly(&base, &out, &d.path().join("cur")).code(1);
    let run = crate::common::json(&out.join("constraint_violations.json"));
    let extra: Vec<&serde_json::Value> = run["violations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["constraint_check_type"] == "extra_column_check")
        .collect();
    assert_eq!(extra.len(), 1, "{run}");
    assert_eq!(extra[0]["feature_name"], "x");
    for hour in 0..6 {
        let v = crate::common::json(&out.join(format!("windows/2026/11/28/{hour:02}/constraint_violations.json")));
        assert_eq!(v["violations"], serde_json::json!([]), "hour {hour}");
    }
    assert_eq!(crate::common::json(&out.join("drift.json"))["windows"]["windows_with_violations"], 0);
}

#[test]
fn a_window_holding_every_row_judges_like_the_whole_run() {
    let d = tempfile::tempdir().unwrap();
    hourly_files(&d.path().join("train"), 6, 99);
    hourly_files(&d.path().join("cur"), 6, 3);
    let base = d.path().join("base");
    crate::common::baseline_of(&d.path().join("train"), &base);
    let out = d.path().join("out");
    crate::common::driftscope()
        .args(["monitor", "-q", "--window", "1d", "--time-column", "t", "-b"])
        .arg(&base)
        .arg("-o")
        .arg(&out)
        .arg(d.path().join("cur"))
        .assert()
        .code(1);
    let rows = csv_rows(&out.join("windows.csv"));
    let drift = crate::common::json(&out.join("drift.json"));
    for f in drift["features"].as_array().unwrap().iter().filter(|f| f["status"] != "skipped" && f["name"] != "t") {
        let name = f["name"].as_str().unwrap();
        let w = rows.iter().find(|r| r["feature"] == name).unwrap();
        assert_eq!(w["status"], f["status"].as_str().unwrap(), "{name}");
        // Untimed rows are in the whole run, not in the window: close, not equal.
        let (a, b) = (w["distance"].parse::<f64>().unwrap(), f["distance"].as_f64().unwrap());
        assert!((a - b).abs() < 0.02, "{name}: window {a}, whole {b}");
    }
}

#[test]
fn window_flags_are_checked() {
    let d = tempfile::tempdir().unwrap();
    hourly_files(&d.path().join("cur"), 2, 99);
    let base = d.path().join("base");
    crate::common::baseline_of(&d.path().join("cur"), &base);
    let monitor = |args: &[&str]| {
        let mut c = crate::common::driftscope();
        c.args(["monitor", "-q", "-b"])
            .arg(&base)
            .arg("-o")
            .arg(d.path().join("out"))
            .args(args)
            .arg(d.path().join("cur"));
        c.assert()
    };
    monitor(&["--window", "1h", "--time-column", "nope"])
        .code(2)
        .stderr(predicates::str::contains("no column named 'nope'"));
    monitor(&["--window", "1h", "--time-column", "c"])
        .code(2)
        .stderr(predicates::str::contains("none of the 18000 rows holds a time"));
    monitor(&["--window", "1h"]).code(2).stderr(predicates::str::contains("--time-column"));
    monitor(&["--window", "1y", "--time-column", "t"]).code(2).stderr(predicates::str::contains("15m, 1h"));
    monitor(&["--time-column", "t"]).code(2);
    monitor(&["--window", "1m", "--time-column", "t", "--max-windows", "10"])
        .code(2)
        .stderr(predicates::str::contains("--max-windows"));
    assert!(!d.path().join("out").exists(), "a failed run leaves no output folder");
}

/// The status of feature `x` per hour in a run's windows.csv.
fn x_status(out: &std::path::Path, hours: i64) -> Vec<String> {
    let rows = csv_rows(&out.join("windows.csv"));
    (0..hours)
        .map(|h| {
            let start = driftscope::engine::window::iso(DAY0 + h * HOUR);
            rows.iter().find(|r| r["window_start"] == start && r["feature"] == "x").unwrap()["status"].clone()
        })
        .collect()
}

#[test]
fn windows_compare_with_one_another_without_a_baseline() {
    let d = tempfile::tempdir().unwrap();
    hourly_files(&d.path().join("cur"), 6, 3);
    let run = |reference: &str| {
        let out = d.path().join(reference.replace(':', "_"));
        crate::common::driftscope()
            .args(["monitor", "-q", "--window", "1h", "--time-column", "t", "--reference", reference, "-o"])
            .arg(&out)
            .arg(d.path().join("cur"))
            .assert()
            .code(1);
        out
    };
    // The window before: the change is seen once, where it happens; the first window has none.
    let out = run("previous");
    assert_eq!(x_status(&out, 6), ["skipped", "ok", "ok", "drift", "ok", "ok"]);
    let rows = csv_rows(&out.join("windows.csv"));
    assert!(rows[0]["reason"].contains("first window"), "{:?}", rows[0]);
    let drift = crate::common::json(&out.join("drift.json"));
    assert_eq!(drift["windows"]["reference"], "previous");
    assert_eq!(drift["baseline_source"], "none");
    // Two windows before, merged: the first two windows after the change differ from them.
    assert_eq!(x_status(&run("rolling:2"), 6), ["skipped", "ok", "ok", "drift", "drift", "ok"]);
    // A fixed range: the first three hours.
    let range = format!(
        "window:{}..{}",
        driftscope::engine::window::iso(DAY0),
        driftscope::engine::window::iso(DAY0 + 3 * HOUR)
    );
    assert_eq!(x_status(&run(&range), 6), ["ok", "ok", "ok", "drift", "drift", "drift"]);
    // A range holding no window is an error, as is comparing with a baseline that is not given.
    crate::common::driftscope()
        .args([
            "monitor",
            "-q",
            "--window",
            "1h",
            "--time-column",
            "t",
            "--reference",
            "window:2020-01-01..2020-02-01",
            "-o",
        ])
        .arg(d.path().join("none"))
        .arg(d.path().join("cur"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no window of the inputs starts in that range"));
    crate::common::driftscope()
        .args(["monitor", "-q", "--window", "1h", "--time-column", "t", "-o"])
        .arg(d.path().join("none"))
        .arg(d.path().join("cur"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("-b/--baseline: required, unless"));
    assert!(!d.path().join("none").exists());
}

#[test]
fn change_points_land_on_the_injected_hour() {
    let d = tempfile::tempdir().unwrap();
    hourly_files(&d.path().join("cur"), 48, 30);
    for (method, tolerance) in [("seeded", 0), ("bocpd", 1), ("pelt", 0), ("binseg", 0), ("page-hinkley", 2)] {
        let out = d.path().join(method);
        crate::common::driftscope()
            .args(["changepoints", "-q", "--window", "1h", "--time-column", "t", "--method", method, "-o"])
            .arg(&out)
            .arg(d.path().join("cur"))
            .assert()
            .success()
            .stdout(predicates::str::contains(format!("({method}")));
        let found = crate::common::json(&out.join("changepoints.json"));
        let found = found.as_array().unwrap();
        assert!(!found.is_empty(), "{method}: nothing found");
        for c in found {
            // Only the mean of x moves; the change is at hour 30.
            assert_eq!(
                (c["feature"].as_str(), c["series"].to_string()),
                (Some("x"), r#"["mean"]"#.into()),
                "{method}: {c}"
            );
            let i = c["window_index"].as_u64().unwrap();
            assert!(i.abs_diff(30) <= tolerance, "{method}: {c}");
            assert_eq!(c["window_start"], driftscope::engine::window::iso(DAY0 + i as i64 * HOUR));
        }
    }
    crate::common::driftscope()
        .args(["changepoints", "-q", "--window", "1h", "--time-column", "t", "--method", "nope", "-o"])
        .arg(d.path().join("bad"))
        .arg(d.path().join("cur"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("seeded, bocpd, pelt, binseg or page-hinkley"));
}

#[test]
#[allow(clippy::too_many_lines, reason = "one scenario, read top to bottom")]
fn metrics_for_cloudwatch_and_prometheus() {
    let d = tempfile::tempdir().unwrap();
    hourly_files(&d.path().join("train"), 6, 99);
    hourly_files(&d.path().join("cur"), 6, 3);
    let base = d.path().join("base");
    crate::common::baseline_of(&d.path().join("train"), &base);
    let out = d.path().join("out");
    let (emf, prom) = (d.path().join("metrics/emf.jsonl"), d.path().join("metrics/driftscope.prom"));
    crate::common::driftscope()
        .args([
            "monitor",
            "-q",
            "--window",
            "1h",
            "--time-column",
            "t",
            "--endpoint",
            "fraud-v2",
            "--schedule",
            "hourly",
            "-b",
        ])
        .arg(&base)
        .arg("--emf")
        .arg(&emf)
        .arg("--prometheus")
        .arg(&prom)
        .arg("-o")
        .arg(&out)
        .arg(d.path().join("cur"))
        .assert()
        .code(1);
    let rows = csv_rows(&out.join("windows.csv"));
    let records: Vec<serde_json::Value> =
        std::fs::read_to_string(&emf).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    // One record per window: 3 features × at most 4 metrics fit one directive.
    assert_eq!(records.len(), 6);
    for (hour, r) in records.iter().enumerate() {
        let end = DAY0 + (hour as i64 + 1) * HOUR;
        assert_eq!(r["_aws"]["Timestamp"], end);
        assert_eq!(r["_aws"]["CloudWatchMetrics"][0]["Namespace"], "aws/sagemaker/Endpoints/data-metrics");
        assert_eq!((r["Endpoint"].as_str(), r["MonitoringSchedule"].as_str()), (Some("fraud-v2"), Some("hourly")));
        let start = driftscope::engine::window::iso(DAY0 + hour as i64 * HOUR);
        let x = rows.iter().find(|w| w["window_start"] == start && w["feature"] == "x").unwrap();
        let distance: f64 = x["distance"].parse().unwrap();
        assert_eq!(r["feature_baseline_drift_x"].as_f64().unwrap(), distance);
        assert_eq!(r["feature_non_null_x"].as_f64().unwrap(), x["rows"].parse::<f64>().unwrap());
        for m in r["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array().unwrap() {
            assert!(r[m["Name"].as_str().unwrap()].is_number());
        }
    }
    let text = std::fs::read_to_string(&prom).unwrap();
    assert!(text.contains("driftscope_windows{endpoint=\"fraud-v2\",monitoring_schedule=\"hourly\"} 6"), "{text}");
    // The last window's threshold, verdict and violations per feature, so that an alert rule
    // needs no threshold of its own: they agree with windows.csv.
    let last = driftscope::engine::window::iso(DAY0 + 5 * HOUR);
    let x = rows.iter().find(|w| w["window_start"] == last && w["feature"] == "x").unwrap();
    let gauge = |name: &str| -> f64 {
        let key = format!("{name}{{endpoint=\"fraud-v2\",monitoring_schedule=\"hourly\",feature=\"x\"}} ");
        let line = text.lines().find(|l| l.starts_with(&key)).unwrap_or_else(|| panic!("no {key} in {text}"));
        line[key.len()..].parse().unwrap()
    };
    assert_eq!(gauge("driftscope_feature_drift_threshold"), x["threshold"].parse::<f64>().unwrap());
    assert_eq!(gauge("driftscope_feature_drifted"), if x["status"] == "drift" { 1.0 } else { 0.0 });
    assert_eq!(gauge("driftscope_feature_violations"), x["violations"].parse::<f64>().unwrap());
    assert!(text.contains("# TYPE driftscope_feature_violations gauge"));
    crate::common::promtool_check(&text);
    crate::common::driftscope()
        .args(["monitor", "-q", "--emf-dimensions", "Endpoint,Model", "-b"])
        .arg(&base)
        .arg("-o")
        .arg(d.path().join("bad"))
        .arg(d.path().join("cur"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("unknown dimension \"Model\""));
}

#[test]
fn calibrate_sets_thresholds_at_the_false_alarm_rate() {
    let d = tempfile::tempdir().unwrap();
    hourly_files(&d.path().join("train"), 6, 99);
    hourly_files(&d.path().join("history"), 48, 99);
    let base = d.path().join("base");
    crate::common::baseline_of(&d.path().join("train"), &base);
    // The history judged with the baseline as it is: x's raw L∞ per window (the robust rule's
    // distance is 0 in normal windows, which would make a threshold of 0).
    let judged = d.path().join("judged");
    monitor_hourly(&base, &judged, &d.path().join("history")).code(predicates::ord::lt(2));
    let mut distances: Vec<f64> = csv_rows(&judged.join("windows.csv"))
        .iter()
        .filter(|r| r["feature"] == "x")
        .map(|r| r["linf_simple"].parse().unwrap())
        .collect();
    assert_eq!(distances.len(), 48);
    distances.sort_by(f64::total_cmp);
    let cal = d.path().join("calibrated");
    crate::common::driftscope()
        .args(["calibrate", "-q", "--window", "1h", "--time-column", "t", "--false-alarm-rate", "0.1", "-b"])
        .arg(&base)
        .arg("-o")
        .arg(&cal)
        .arg(d.path().join("history"))
        .assert()
        .success()
        .stdout(predicates::str::contains("| x |"));
    let report = crate::common::json(&cal.join("calibration.json"));
    let x = report["features"].as_array().unwrap().iter().find(|f| f["feature"] == "x").unwrap().clone();
    // k = ⌈0.9 · 49⌉ = 45: the 45th smallest of the 48 distances, exceeded with 4/49.
    assert_eq!(x["threshold"].as_f64().unwrap(), distances[44]);
    assert!(distances[44] > 0.0 && x["method"] == "linf_simple", "{x}");
    assert!((x["expected_false_alarm_rate"].as_f64().unwrap() - 4.0 / 49.0).abs() < 1e-12);
    let past = distances.iter().filter(|&&v| v > distances[44]).count();
    assert_eq!(x["alarms_in_history"], past);
    // The output is a baseline whose constraints carry the threshold: monitoring the history
    // with it flags exactly the windows past it.
    let c = crate::common::json(&cal.join("constraints.json"));
    let over = c["features"].as_array().unwrap().iter().find(|f| f["name"] == "x").unwrap()
        ["monitoringConfigOverrides"]
        .clone();
    assert_eq!(over["distribution_constraints"]["comparison_threshold"].as_f64().unwrap(), distances[44]);
    assert_eq!(over["distribution_constraints"]["comparison_method"], "Simple");
    let again = d.path().join("again");
    monitor_hourly(&cal, &again, &d.path().join("history")).code(predicates::ord::lt(2));
    let drifted =
        csv_rows(&again.join("windows.csv")).iter().filter(|r| r["feature"] == "x" && r["status"] == "drift").count();
    assert_eq!(drifted, past);
    // A history too short for the rate asked is refused with the numbers.
    crate::common::driftscope()
        .args(["calibrate", "-q", "--window", "1h", "--time-column", "t", "--false-alarm-rate", "0.01", "-b"])
        .arg(&base)
        .arg("-o")
        .arg(d.path().join("short"))
        .arg(d.path().join("history"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "--false-alarm-rate: 0.01 needs a history of at least 99 windows; this one holds 48 windows of 1h",
        ));
    assert!(!d.path().join("short").exists());
    crate::common::driftscope()
        .args(["calibrate", "-q", "--window", "1h", "--time-column", "t", "--false-alarm-rate", "1.5", "-b"])
        .arg(&base)
        .arg("-o")
        .arg(d.path().join("bad"))
        .arg(d.path().join("history"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--false-alarm-rate"));
}

/// Parquet bytes of `rows` rows in each hour starting at `starts` (ms), x shifted by `shift`.
fn capture_bytes(starts: &[i64], rows: usize, shift: f64) -> Vec<u8> {
    let (mut t, mut x, mut c) = (Vec::new(), Vec::new(), Vec::new());
    for &s in starts {
        for i in 0..rows {
            t.push(s + (i as i64 * 997) % HOUR);
            x.push(((i * 37) % 1000) as f64 / 100.0 + shift);
            c.push(["red", "green", "blue"][i % 3]);
        }
    }
    let batch = RecordBatch::try_from_iter([
        ("t", arr(TimestampMillisecondArray::from(t))),
        ("x", arr(Float64Array::from(x))),
        ("c", arr(arrow_array::StringArray::from(c))),
    ])
    .unwrap();
    let mut out = Vec::new();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut out, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    out
}

/// Waits until `done` holds, up to 30 s.
fn wait_for(what: &str, done: impl Fn() -> bool) {
    let t = std::time::Instant::now();
    while !done() {
        assert!(t.elapsed() < std::time::Duration::from_secs(30), "timed out waiting for {what}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[allow(clippy::too_many_lines, reason = "one scenario, read top to bottom")]
#[test]
fn watch_follows_arriving_files_and_survives_a_restart() {
    let d = tempfile::tempdir().unwrap();
    let (input, out, base) = (d.path().join("in"), d.path().join("out"), d.path().join("base"));
    std::fs::create_dir_all(&input).unwrap();
    let train = d.path().join("train.parquet");
    std::fs::write(&train, capture_bytes(&[DAY0, DAY0 + HOUR], 600, 0.0)).unwrap();
    crate::common::baseline_of(&train, &base);
    let watch = |once: bool| {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("driftscope"));
        c.args([
            "watch",
            "--time-column",
            "t",
            "--window",
            "1h",
            "--grace",
            "0s",
            "--settle",
            "1500ms",
            "--poll",
            "100ms",
            "-b",
        ])
        .arg(&base)
        .arg("-o")
        .arg(&out)
        .arg(&input)
        .stderr(std::process::Stdio::piped());
        if once {
            c.arg("--once");
        }
        c
    };
    let mut live = watch(false).spawn().unwrap();
    // A file written in two parts (hours 0 and 1, the second drifted), the second part well
    // within the settle time: it is read once, whole.
    let hour_dir = input.join("2026/11/28/00");
    std::fs::create_dir_all(&hour_dir).unwrap();
    let a = capture_bytes(&[DAY0, DAY0 + HOUR], 400, 0.0);
    let b = capture_bytes(&[DAY0 + 2 * HOUR], 300, 6.0);
    let path_a = hour_dir.join("a.parquet");
    std::fs::write(&path_a, &a[..a.len() / 2]).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(400));
    {
        use std::io::Write;
        std::fs::OpenOptions::new().append(true).open(&path_a).unwrap().write_all(&a[a.len() / 2..]).unwrap();
    }
    // A file with a completion marker, and one whose window is still open (tomorrow).
    let path_b = input.join("2026/11/28/02/b.parquet");
    std::fs::create_dir_all(path_b.parent().unwrap()).unwrap();
    std::fs::write(&path_b, &b).unwrap();
    std::fs::write(format!("{}.done", path_b.display()), b"").unwrap();
    let future = chrono::Utc::now().timestamp_millis() + 48 * HOUR;
    std::fs::write(input.join("later.parquet"), capture_bytes(&[future], 50, 0.0)).unwrap();
    let folder = |h: i64| out.join(format!("windows/2026/11/28/{h:02}/constraint_violations.json"));
    wait_for("three closed windows", || (0..3).all(|h| folder(h).is_file()));
    // The watcher writes the window folders, then windows.csv.
    wait_for("windows.csv with three windows", || {
        out.join("windows.csv").is_file() && {
            let starts: std::collections::BTreeSet<String> =
                csv_rows(&out.join("windows.csv")).into_iter().map(|r| r["window_start"].clone()).collect();
            (0..3).all(|h| starts.contains(&driftscope::engine::window::iso(DAY0 + h * HOUR)))
        }
    });
    live.kill().unwrap();
    live.wait().unwrap();
    let rows = csv_rows(&out.join("windows.csv"));
    let x_rows = |h: i64| {
        let start = driftscope::engine::window::iso(DAY0 + h * HOUR);
        rows.iter()
            .find(|r| r["window_start"] == start && r["feature"] == "x")
            .map(|r| (r["rows"].clone(), r["status"].clone()))
    };
    assert_eq!(x_rows(0), Some(("400".into(), "ok".into())));
    assert_eq!(x_rows(1), Some(("400".into(), "ok".into())));
    assert_eq!(x_rows(2), Some(("300".into(), "drift".into())));
    assert_eq!(rows.len(), 6, "two features (x, c) per closed window; tomorrow's window is not closed");
    let v = crate::common::json(&folder(2));
    assert!(v["violations"].as_array().unwrap().iter().any(|v| v["feature_name"] == "x"));
    // Restarted: nothing is counted twice; a file for a closed window is late, not folded.
    std::fs::write(input.join("2026/11/28/00/late.parquet"), capture_bytes(&[DAY0], 10, 0.0)).unwrap();
    std::fs::write(input.join("2026/11/28/00/late.parquet.done"), b"").unwrap();
    let o = watch(true).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("10 late rows"), "{}", String::from_utf8_lossy(&o.stderr));
    let again = csv_rows(&out.join("windows.csv"));
    assert_eq!(again, rows);
}

#[test]
fn hive_partitions_are_windows() {
    let d = tempfile::tempdir().unwrap();
    let train = d.path().join("train.parquet");
    std::fs::write(&train, capture_bytes(&[DAY0], 600, 0.0)).unwrap();
    let base = d.path().join("base");
    crate::common::baseline_of(&train, &base);
    for h in 0..6i64 {
        let dir = d.path().join(format!("cur/dt=2026-11-28/hour={h:02}"));
        std::fs::create_dir_all(&dir).unwrap();
        // The rows' own times all say midnight: the partition decides.
        std::fs::write(dir.join("part-0.parquet"), capture_bytes(&[DAY0], 200, if h >= 3 { 6.0 } else { 0.0 }))
            .unwrap();
    }
    let out = d.path().join("out");
    crate::common::driftscope()
        .args(["monitor", "-q", "--window", "1h", "--time-from-partitions", "-b"])
        .arg(&base)
        .arg("-o")
        .arg(&out)
        .arg(d.path().join("cur"))
        .assert()
        .code(1);
    assert_eq!(x_status(&out, 6), ["ok", "ok", "ok", "drift", "drift", "drift"]);
    let drift = crate::common::json(&out.join("drift.json"));
    assert_eq!(drift["windows"]["time_column"], "(hive partitions)");
    // Inputs without such partitions: a clear error.
    crate::common::driftscope()
        .args(["monitor", "-q", "--window", "1h", "--time-from-partitions", "-b"])
        .arg(&base)
        .arg("-o")
        .arg(d.path().join("none"))
        .arg(&train)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("hive partition naming a date"));
}

#[test]
fn windows_of_rows_follow_time_order_across_files() {
    let d = tempfile::tempdir().unwrap();
    // 300 points, the mean steps up at position 200; written over 3 files in shuffled order, the
    // time column giving each point's position.
    let n = 300usize;
    let value = |i: usize| {
        // Noise from a hash of the position (SplitMix64), uniform on [0, 1.3).
        let z = driftscope::codec::mix64((i as u64).wrapping_add(1).wrapping_mul(driftscope::codec::SPLITMIX_GAMMA));
        (z >> 11) as f64 / (1u64 << 53) as f64 * 1.3 + if i >= 200 { 5.0 } else { 0.0 }
    };
    let order: Vec<usize> = (0..n).map(|i| (i * 7) % n).collect();
    std::fs::create_dir_all(d.path().join("shuffled")).unwrap();
    for (f, part) in order.chunks(100).enumerate() {
        crate::common::write_parquet(
            &d.path().join(format!("shuffled/part-{f}.parquet")),
            vec![
                (
                    "t",
                    arr(arrow_array::Int64Array::from(
                        part.iter().map(|&i| 1_700_000_000 + i as i64).collect::<Vec<_>>(),
                    )),
                ),
                ("v", arr(Float64Array::from(part.iter().map(|&i| value(i)).collect::<Vec<_>>()))),
            ],
            40,
        );
    }
    crate::common::write_parquet(
        &d.path().join("ordered.parquet"),
        vec![("v", arr(Float64Array::from((0..n).map(value).collect::<Vec<_>>())))],
        64,
    );
    for (args, input) in [(&["--time-column", "t"][..], "shuffled"), (&[][..], "ordered.parquet")] {
        let out = d.path().join(format!("cp-{input}"));
        crate::common::driftscope()
            .args(["changepoints", "-q", "--window-rows", "1"])
            .args(args)
            .arg("-o")
            .arg(&out)
            .arg(d.path().join(input))
            .assert()
            .success();
        let found = crate::common::json(&out.join("changepoints.json"));
        let at: Vec<(String, u64)> = found
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["series"][0].as_str().unwrap().to_string(), c["window_index"].as_u64().unwrap()))
            .collect();
        assert!(at.contains(&("mean".into(), 200)), "{input}: {at:?}");
        assert!(found.as_array().unwrap().iter().all(|c| c["window_start"].is_null()));
    }
    // Windows of 64 rows: their sizes, indices and no instants in the table.
    let train = d.path().join("train.parquet");
    crate::common::write_parquet(
        &train,
        vec![("v", arr(Float64Array::from((0..n).map(|i| value(i % 200)).collect::<Vec<_>>())))],
        64,
    );
    let base = d.path().join("base");
    crate::common::baseline_of(&train, &base);
    let out = d.path().join("monitor");
    crate::common::driftscope()
        .args(["monitor", "-q", "--window-rows", "64", "-b"])
        .arg(&base)
        .arg("-o")
        .arg(&out)
        .arg(d.path().join("ordered.parquet"))
        .assert()
        .code(1);
    let rows = csv_rows(&out.join("windows.csv"));
    let sizes: Vec<(String, String, String)> =
        rows.iter().map(|r| (r["window_index"].clone(), r["rows"].clone(), r["window_start"].clone())).collect();
    assert_eq!(
        sizes,
        [("0", "64"), ("1", "64"), ("2", "64"), ("3", "64"), ("4", "44")]
            .map(|(i, n)| (i.to_string(), n.to_string(), String::new()))
            .to_vec()
    );
    assert_eq!(rows[4]["status"], "drift");
    assert!(out.join("windows/rows/000000004/constraint_violations.json").is_file());
}

/// The report as a real browser builds it: headless Chromium parses report.html into a DOM;
/// the timeline is there, with a heatmap cell per feature and window, and hostile text from
/// the data (a column name, a category value) stays text.
#[test]
fn report_timeline_in_a_real_browser() {
    if !tool("chromium") {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let hostile = "<img src=x onerror=alert(1)>";
    let write = |path: &std::path::Path, shift: f64, hours: i64| {
        let n = 600;
        let t: Vec<i64> = (0..n).map(|i| DAY0 + (i as i64 * hours * HOUR) / n as i64).collect();
        let x: Vec<f64> =
            (0..n).map(|i| ((i * 37) % 100) as f64 / 10.0 + if i >= n / 2 { shift } else { 0.0 }).collect();
        let c: Vec<&str> = (0..n).map(|i| if i % 3 == 0 { hostile } else { "plain" }).collect();
        crate::common::write_parquet(
            path,
            vec![
                ("t", arr(TimestampMillisecondArray::from(t))),
                (hostile, arr(Float64Array::from(x))),
                ("c", arr(arrow_array::StringArray::from(c))),
            ],
            200,
        );
    };
    write(&d.path().join("train.parquet"), 0.0, 6);
    write(&d.path().join("cur.parquet"), 8.0, 6);
    let base = d.path().join("base");
    crate::common::baseline_of(&d.path().join("train.parquet"), &base);
    let out = d.path().join("out");
    monitor_hourly(&base, &out, &d.path().join("cur.parquet")).code(1);
    let o = std::process::Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!("file://{}", out.join("report.html").display()))
        .output()
        .unwrap();
    assert!(o.status.success(), "chromium: {}", String::from_utf8_lossy(&o.stderr));
    let dom = String::from_utf8_lossy(&o.stdout);
    assert!(dom.contains("<h2>Timeline</h2>"), "no timeline in the DOM");
    // 6 windows × 2 features judged per window (the hostile-named numeric one and c).
    assert_eq!(dom.matches("class=\"cell\"").count(), 12, "heatmap cells");
    assert!(dom.contains("change: window 3"), "the change at hour 3 is drawn");
    // Summary tiles at the top; each drawn feature with its statistics side by side; the
    // change marks explained.
    assert_eq!(dom.matches("<div class=\"value\">").count(), 5, "summary tiles");
    assert!(dom.find("class=\"tiles\"").unwrap() < dom.find("<h2>Verdicts</h2>").unwrap());
    assert!(dom.matches("<table class=\"sides\">").count() >= 2, "side-by-side statistics");
    assert!(
        dom.contains("<span title=\"the largest gap between the two cumulative distributions"),
        "methods in plain words"
    );
    assert!(dom.contains("class=\"legend\""), "the change marks' legend");
    // And listed at the top, before the verdicts.
    let listed = dom.find("<h2>What changed, when</h2>").expect("the list of changes");
    assert!(listed < dom.find("<h2>Verdicts</h2>").unwrap());
    assert!(dom.contains("at 2026-11-28T03:00:00Z (window 3): mean"), "the change at hour 3 is listed");
    assert!(!dom.contains("<img"), "data became markup");
    assert!(dom.contains("&lt;img src=x onerror=alert(1)&gt;"));

    // Rendered to a screenshot with the console logged: no console message at all (the report
    // has no script), and nothing refused by its Content-Security-Policy, which allows no load
    // of any kind (default-src 'none'): the report is self-contained.
    let shot = d.path().join("report.png");
    let o = std::process::Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"])
        .args(["--disable-background-networking", "--disable-component-update", "--no-first-run"])
        .arg(format!("--user-data-dir={}", d.path().join("profile").display()))
        .args(["--window-size=1280,2400", "--hide-scrollbars"])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", out.join("report.html").display()))
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "chromium: {log}");
    for line in log.lines() {
        assert!(!line.contains(":CONSOLE") && !line.contains("Content Security Policy"), "{line}");
    }
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let (w, h) =
        (u32::from_be_bytes(png[16..20].try_into().unwrap()), u32::from_be_bytes(png[20..24].try_into().unwrap()));
    assert_eq!((w, h), (1280, 2400));
    // A blank page compresses to almost nothing; the verdict table, the timeline and the charts
    // do not.
    assert!(png.len() > 30_000, "screenshot of {} bytes: the page looks empty", png.len());

    charts_take_the_page_width(d.path(), &out);
}

/// Layout: the charts of the report in `out` take the page's width at any window size. A copy
/// of the report without its policy runs a probe that writes what the browser laid out into the
/// DOM.
fn charts_take_the_page_width(d: &std::path::Path, out: &std::path::Path) {
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    let csp = page.find("<meta http-equiv=\"Content-Security-Policy\"").unwrap();
    let end = csp + page[csp..].find('>').unwrap() + 1;
    let probe = "<script>document.body.setAttribute('data-layout', JSON.stringify({body: document.body.clientWidth, charts: [...document.querySelectorAll('svg.histogram, .feature svg')].map(s => Math.round(s.getBoundingClientRect().width))}))</script>";
    let probed = format!("{}{}", &page[..csp], page[end..].replace("</body>", &format!("{probe}</body>")));
    std::fs::write(d.join("probe.html"), probed).unwrap();
    for width in [900, 1600] {
        let o = std::process::Command::new("chromium")
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
            .arg(format!("--user-data-dir={}", d.join("profile").display()))
            .arg(format!("--window-size={width},2000"))
            .arg(format!("file://{}", d.join("probe.html").display()))
            .output()
            .unwrap();
        let dom = String::from_utf8_lossy(&o.stdout);
        let at = dom.find("data-layout=\"").expect("the probe ran") + "data-layout=\"".len();
        let layout: serde_json::Value =
            serde_json::from_str(&dom[at..at + dom[at..].find('"').unwrap()].replace("&quot;", "\"")).unwrap();
        let body = layout["body"].as_f64().unwrap();
        let charts = layout["charts"].as_array().unwrap();
        assert!(!charts.is_empty(), "{layout}");
        // The body's content is the window less its margins (and a scrollbar).
        assert!(body > width as f64 - 100.0, "at {width} px: {layout}");
        for c in charts {
            assert!((c.as_f64().unwrap() - body).abs() <= 2.0, "at {width} px: {layout}");
        }
    }
}

/// The Content-Security-Policy is enforced: the same page with a remote image gets it refused
/// and logged, so the check above would see a report that loads anything.
#[test]
fn a_report_that_loads_from_the_network_is_caught() {
    if !tool("chromium") {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let base = d.path().join("base");
    crate::common::baseline_of(&crate::common::root().join("data/baseline.parquet"), &base);
    let out = d.path().join("out");
    crate::common::driftscope()
        .args(["monitor", "-q", "-b"])
        .arg(&base)
        .arg("-o")
        .arg(&out)
        .arg(crate::common::root().join("data/current.parquet"))
        .assert()
        .code(1);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("default-src 'none'"));
    let page = d.path().join("bad.html");
    std::fs::write(&page, html.replacen("<body>", "<body><img src=\"http://192.0.2.1/x.png\">", 1)).unwrap();
    let o = std::process::Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"])
        .args(["--disable-background-networking", "--disable-component-update", "--no-first-run"])
        .arg(format!("--user-data-dir={}", d.path().join("profile").display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(log.contains(":CONSOLE") && log.contains("violates the following Content Security Policy"), "{log}");
}

/// Measures every chart's text in headless Chromium: each label's box as the browser lays it
/// out must stay inside its chart and clear of every other label of that chart. Returns the
/// problems found and the number of charts measured. The measuring script is added to a copy
/// of the report, whose policy is widened for it alone.
fn label_problems(report: &std::path::Path, dir: &std::path::Path) -> (Vec<String>, usize) {
    let html = std::fs::read_to_string(report).unwrap();
    let policy = "default-src 'none'; style-src 'unsafe-inline'";
    assert!(html.contains(policy), "the report's policy changed");
    let script = r#"<script>
const problems = [];
const svgs = document.querySelectorAll('svg');
svgs.forEach((svg, si) => {
  const sb = svg.getBoundingClientRect();
  const boxes = [...svg.querySelectorAll('text')].map(t => [t.textContent, t.getBoundingClientRect()]);
  for (const [s, b] of boxes) {
    if (b.left < sb.left - 0.5 || b.right > sb.right + 0.5 || b.top < sb.top - 0.5 || b.bottom > sb.bottom + 0.5)
      problems.push(`chart ${si}: "${s}" leaves the chart`);
  }
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) {
      const [s, a] = boxes[i], [t, b] = boxes[j];
      if (a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5)
        problems.push(`chart ${si}: "${s}" overlaps "${t}"`);
    }
});
document.body.setAttribute('data-problems', JSON.stringify(problems));
document.body.setAttribute('data-charts', String(svgs.length));
</script>"#;
    let page = dir.join("measured.html");
    let html = html.replacen(policy, &format!("{policy}; script-src 'unsafe-inline'"), 1);
    std::fs::write(&page, html.replacen("</body>", &format!("{script}</body>"), 1)).unwrap();
    let o = std::process::Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,2400", "--dump-dom"])
        .arg(format!("--user-data-dir={}", dir.join("measure-profile").display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(o.status.success(), "chromium: {}", String::from_utf8_lossy(&o.stderr));
    let dom = String::from_utf8_lossy(&o.stdout);
    let attr = |name: &str| {
        let start = dom.find(&format!("{name}=\"")).unwrap_or_else(|| panic!("no {name} in the DOM")) + name.len() + 2;
        let end = start + dom[start..].find('"').unwrap();
        dom[start..end].replace("&quot;", "\"").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    };
    let problems: Vec<String> = serde_json::from_str(&attr("data-problems")).unwrap();
    (problems, attr("data-charts").parse().unwrap())
}

/// Every chart of a report has readable labels, as Chromium lays them out: a numeric feature's
/// histogram, a categorical feature with long values, the timeline and the heatmap.
#[test]
fn chart_labels_do_not_overlap_in_a_real_browser() {
    if !tool("chromium") {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let write = |path: &std::path::Path, shift: f64| {
        let n = 3000;
        let t: Vec<i64> = (0..n).map(|i| DAY0 + (i as i64 * 48 * HOUR) / n as i64).collect();
        let x: Vec<f64> = (0..n).map(|i| ((i * 7919) % 1000) as f64 * 1234.567 + shift).collect();
        let names: Vec<String> =
            (0..25).map(|k| format!("a rather long category name number {k} of the product catalogue")).collect();
        let c: Vec<&str> = (0..n).map(|i| names[(i * i + i / 7) % 25].as_str()).collect();
        crate::common::write_parquet(
            path,
            vec![
                ("t", arr(TimestampMillisecondArray::from(t))),
                ("amount_in_some_currency_with_a_long_name", arr(Float64Array::from(x))),
                ("category", arr(arrow_array::StringArray::from(c))),
            ],
            1000,
        );
    };
    write(&d.path().join("train.parquet"), 0.0);
    write(&d.path().join("cur.parquet"), 500_000.0);
    let base = d.path().join("base");
    crate::common::baseline_of(&d.path().join("train.parquet"), &base);
    let out = d.path().join("out");
    monitor_hourly(&base, &out, &d.path().join("cur.parquet")).code(1);
    let (problems, charts) = label_problems(&out.join("report.html"), d.path());
    // The heatmap, a timeline per judged feature, a chart per feature.
    assert!(charts >= 5, "{charts} charts measured");
    assert!(
        problems.is_empty(),
        "{} label problems, first ones: {:#?}",
        problems.len(),
        &problems[..problems.len().min(8)]
    );
}

/// `watch --backend gpu` keys the arriving rows' windows in the GPU's kernels: the windows it
/// closes are the CPU's, file for file.
#[test]
fn watch_on_the_gpu_closes_the_same_windows() {
    if gpu().is_none() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let (input, base) = (d.path().join("in"), d.path().join("base"));
    let train = d.path().join("train.parquet");
    std::fs::write(&train, capture_bytes(&[DAY0, DAY0 + HOUR], 600, 0.0)).unwrap();
    crate::common::baseline_of(&train, &base);
    for (h, shift) in [(0, 0.0), (1, 0.0), (2, 6.0)] {
        let dir = input.join(format!("2026/11/28/{h:02}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("part.parquet"), capture_bytes(&[DAY0 + h * HOUR], 500, shift)).unwrap();
    }
    let run = |backend: &str| {
        let out = d.path().join(backend);
        crate::common::driftscope()
            .args(["watch", "--once", "--backend", backend, "--time-column", "t", "--grace", "0s", "--settle", "0s"])
            .arg("-b")
            .arg(&base)
            .arg("-o")
            .arg(&out)
            .arg(&input)
            .assert()
            .code(1)
            .stderr(predicates::str::contains(format!("backend {backend}")));
        let folder = |h: i64| out.join(format!("windows/2026/11/28/{h:02}/constraint_violations.json"));
        let folders: Vec<Vec<u8>> = (0..3).map(|h| std::fs::read(folder(h)).unwrap()).collect();
        (std::fs::read_to_string(out.join("windows.csv")).unwrap(), folders)
    };
    let (cpu, gpu_run) = (run("cpu"), run("gpu"));
    assert_eq!(cpu.0.lines().count(), 1 + 3 * 2, "{}", cpu.0);
    assert!(cpu.0.lines().any(|l| l.contains(",x,") && l.contains(",drift,")), "{}", cpu.0);
    assert_eq!(cpu, gpu_run);
}

/// Sets a file's modification time `ago` before now, as if it had been written then.
fn written_ago(path: &std::path::Path, ago: std::time::Duration) {
    let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.set_modified(std::time::SystemTime::now() - ago).unwrap();
}

#[test]
fn watch_once_from_cron_folds_files_written_before_it_ran() {
    let d = tempfile::tempdir().unwrap();
    let (input, out, base) = (d.path().join("in"), d.path().join("out"), d.path().join("base"));
    let train = d.path().join("train.parquet");
    std::fs::write(&train, capture_bytes(&[DAY0, DAY0 + HOUR], 600, 0.0)).unwrap();
    crate::common::baseline_of(&train, &base);
    let ten_minutes = std::time::Duration::from_secs(600);
    let put = |h: i64, shift: f64, ago: Option<std::time::Duration>| {
        let dir = input.join(format!("2026/11/28/{h:02}"));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("part.parquet");
        std::fs::write(&p, capture_bytes(&[DAY0 + h * HOUR], 500, shift)).unwrap();
        if let Some(ago) = ago {
            written_ago(&p, ago);
        }
    };
    // Hours 0 and 1 as trained, hour 2 drifted: written ten minutes before the first call, no
    // .done markers, the default settle time (30 s).
    for (h, shift) in [(0, 0.0), (1, 0.0), (2, 6.0)] {
        put(h, shift, Some(ten_minutes));
    }
    // Hour 3 is still being written as the call runs.
    put(3, 0.0, None);
    let cron = |quiet: bool| {
        crate::common::driftscope()
            .args(["watch", "--once", "--time-column", "t", "--grace", "0s"])
            .args(quiet.then_some("-q"))
            .arg("-b")
            .arg(&base)
            .arg("-o")
            .arg(&out)
            .arg(&input)
            .output()
            .unwrap()
    };
    let first = cron(false);
    let stderr = String::from_utf8_lossy(&first.stderr);
    // A window with violations exits 1, as monitor does.
    assert_eq!(first.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("3 files folded") && stderr.contains("1 not settled yet"), "{stderr}");
    assert!(stderr.contains("backend cpu (default)") && stderr.contains("closed 2026-11-28T02:00:00Z"), "{stderr}");
    let rows = csv_rows(&out.join("windows.csv"));
    let x = |rows: &[std::collections::BTreeMap<String, String>], h: i64| {
        let start = driftscope::engine::window::iso(DAY0 + h * HOUR);
        rows.iter()
            .find(|r| r["window_start"] == start && r["feature"] == "x")
            .map(|r| (r["rows"].clone(), r["status"].clone()))
    };
    assert_eq!(x(&rows, 0), Some(("500".into(), "ok".into())));
    assert_eq!(x(&rows, 1), Some(("500".into(), "ok".into())));
    assert_eq!(x(&rows, 2), Some(("500".into(), "drift".into())));
    assert_eq!(x(&rows, 3), None, "hour 3 had not settled");
    // The next call, once hour 3 has settled: it is folded and closed; the windows already
    // closed are not judged again, and nothing new has a violation.
    written_ago(&input.join("2026/11/28/03/part.parquet"), ten_minutes);
    let second = cron(true);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("closed 2026"), "-q says nothing per window: {stderr}");
    assert!(stderr.contains("1 files folded") && stderr.contains("1 windows closed, 0 with violations"), "{stderr}");
    let again = csv_rows(&out.join("windows.csv"));
    assert_eq!(again[..rows.len()], rows[..], "the first call's rows are kept as they were");
    assert_eq!(x(&again, 3), Some(("500".into(), "ok".into())));
    assert_eq!(again.len(), rows.len() + 2, "hour 3's two features, once");
}
