//! Segments by value (`--segment-by`) from the CLI: a change in one segment that the whole run
//! dilutes below its threshold, each segment judged against the baseline's same segment or the
//! whole baseline, `other`, nulls, and the named errors of a new user's mistakes.

use std::path::Path;

use arrow_array::{Float64Array, Int64Array, StringArray};
use tempfile::TempDir;

use crate::common::{arr, csv_maps, driftscope, json, write_parquet};

const REGIONS: [&str; 4] = ["eu", "us", "apac", "latam"];

/// `n` rows: `region` (latam one row in ten, a null one in fifty, the rest spread over the
/// others), `tier` (1 or 2), `x` ~ N(0, 1), and `x` shifted by `shift` in latam only; `y`
/// uniform everywhere. Normal values by Box–Muller from SplitMix64.
fn table(path: &Path, n: usize, seed: u64, shift: f64) {
    let mut state = seed;
    let mut u = move || (driftscope::codec::splitmix64(&mut state) >> 11) as f64 / (1u64 << 53) as f64;
    let (mut region, mut tier, mut x, mut y) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let r = if i % 50 == 7 {
            None
        } else if i % 10 == 3 {
            Some("latam")
        } else {
            Some(REGIONS[i % 3])
        };
        let z = (-2.0 * u().max(1e-300).ln()).sqrt() * (std::f64::consts::TAU * u()).cos();
        x.push(z + if r == Some("latam") { shift } else { 0.0 });
        y.push(u());
        region.push(r);
        tier.push(1 + (i % 7 == 0) as i64);
    }
    write_parquet(
        path,
        vec![
            ("region", arr(StringArray::from(region))),
            ("tier", arr(Int64Array::from(tier))),
            ("x", arr(Float64Array::from(x))),
            ("y", arr(Float64Array::from(y))),
        ],
        8_192,
    );
}

/// The rows of `segments.csv` for one segment: feature → (status, distance, reference, rows).
fn rows_of(csv: &str, segment: &str) -> Vec<(String, String, String, String, String)> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (seg, feat, status, dist, refr, rows) =
        (at("segment"), at("feature"), at("status"), at("distance"), at("reference"), at("rows"));
    lines
        .map(|l| l.split(',').map(str::to_string).collect::<Vec<_>>())
        .filter(|c| c[seg] == segment)
        .map(|c| (c[feat].clone(), c[status].clone(), c[dist].clone(), c[refr].clone(), c[rows].clone()))
        .collect()
}

fn run(args: &[&str], base: Option<&Path>, out: &Path, input: &Path) -> assert_cmd::assert::Assert {
    let mut c = driftscope();
    c.args(args).arg("-q").arg("-o").arg(out);
    if let Some(b) = base {
        c.arg("-b").arg(b);
    }
    c.arg(input).assert()
}

#[test]
fn a_change_in_one_segment_is_found_where_the_whole_run_dilutes_it() {
    let dir = TempDir::new().unwrap();
    let (train, capture) = (dir.path().join("train.parquet"), dir.path().join("capture.parquet"));
    table(&train, 60_000, 1, 0.0);
    table(&capture, 60_000, 2, 1.0);
    let base = dir.path().join("base");
    run(&["baseline", "--segment-by", "region"], None, &base, &train).success();
    let segs = json(&base.join("segments.json"));
    assert_eq!(segs["by"], serde_json::json!(["region"]));
    let labels: Vec<&str> =
        segs["segments"].as_array().unwrap().iter().map(|s| s["segment"].as_str().unwrap()).collect();
    // Key order, a null first (Hive's name for it).
    assert_eq!(labels, ["region=__HIVE_DEFAULT_PARTITION__", "region=apac", "region=eu", "region=latam", "region=us"]);
    let out = dir.path().join("mon");
    let log = dir.path().join("alerts.jsonl");
    let sink = format!("exec:cat >> '{}'; echo >> '{}'", log.display(), log.display());
    let (prom, emf) = (dir.path().join("m.prom"), dir.path().join("m.emf"));
    let (prom_arg, emf_arg) = (prom.display().to_string(), emf.display().to_string());
    let args = ["monitor", "--segment-by", "region", "--alert", &sink, "--prometheus", &prom_arg, "--emf", &emf_arg];
    run(&args, Some(&base), &out, &capture).code(1);
    // Each segment's verdict in the metrics: latam's drifted feature, no other's.
    let text = std::fs::read_to_string(&prom).unwrap();
    let gauge = |seg: &str| {
        let key = format!("driftscope_segment_drifted_features{{endpoint=\"driftscope\",monitoring_schedule=\"driftscope\",segment=\"{seg}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(key.as_str()))
            .unwrap_or_else(|| panic!("no {key} in {text}"))
            .to_string()
    };
    assert_eq!((gauge("region=latam"), gauge("region=eu")), ("1".to_string(), "0".to_string()));
    crate::common::promtool_check(&text);
    let records: Vec<serde_json::Value> =
        std::fs::read_to_string(&emf).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let latam = records.iter().find(|r| r["Segment"] == "region=latam").expect("a record of latam");
    assert_eq!(latam["segment_drifted_features"], 1.0);
    // The segment's drift is alerted, naming the segment; no other segment is.
    let events: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let segments: Vec<(&str, &str)> = events
        .iter()
        .filter(|e| e["window"].as_str().is_some_and(|w| w.starts_with("segment ")))
        .map(|e| (e["window"].as_str().unwrap(), e["feature"].as_str().unwrap()))
        .collect();
    assert!(segments.contains(&("segment region=latam", "x")), "{events:?}");
    assert!(segments.iter().all(|s| s.0 == "segment region=latam"), "{segments:?}");
    let drift = json(&out.join("drift.json"));
    // The whole run: x moved in a tenth of the rows only, under the threshold.
    let x = drift["features"].as_array().unwrap().iter().find(|f| f["name"] == "x").unwrap().clone();
    assert_eq!(x["status"], "ok", "{x}");
    let csv = std::fs::read_to_string(out.join("segments.csv")).unwrap();
    let latam = rows_of(&csv, "region=latam");
    let status = |rows: &[(String, String, String, String, String)], f: &str| {
        rows.iter().find(|r| r.0 == f).map(|r| r.1.clone()).unwrap()
    };
    assert_eq!(status(&latam, "x"), "drift");
    assert_eq!(status(&latam, "y"), "ok");
    assert!(latam.iter().all(|r| r.3 == "segment"));
    // The segment column is not judged within its segments.
    assert!(latam.iter().all(|r| r.0 != "region"));
    for other in ["region=eu", "region=us", "region=apac", "region=__HIVE_DEFAULT_PARTITION__"] {
        let rows = rows_of(&csv, other);
        assert_eq!(status(&rows, "x"), "ok", "{other}");
        assert_eq!(status(&rows, "y"), "ok", "{other}");
    }
    let s = &drift["segments"];
    assert_eq!((s["segments"].as_u64(), s["segments_with_drift"].as_u64()), (Some(5), Some(1)));
    assert_eq!(s["ranked"][0]["segment"], "region=latam");
    assert_eq!(s["ranked"][0]["worst_feature"], "x");
    let v = json(&out.join("segments/region=latam/constraint_violations.json"));
    assert!(v["violations"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["feature_name"] == "x" && v["constraint_check_type"] == "baseline_drift_check"));
    let v = json(&out.join("segments/region=eu/constraint_violations.json"));
    assert_eq!(v["violations"], serde_json::json!([]));
    // Rows per segment add up to the run's.
    let rows: u64 = s["ranked"].as_array().unwrap().iter().map(|r| r["rows"].as_u64().unwrap()).sum();
    assert_eq!(rows, 60_000);
}

#[test]
fn a_segment_against_the_whole_baseline_is_judged_as_its_rows_alone_would_be() {
    // The independent reference: the segment's rows written apart and monitored whole against
    // the same baseline give the very same distances.
    let dir = TempDir::new().unwrap();
    let (train, capture) = (dir.path().join("train.parquet"), dir.path().join("capture.parquet"));
    table(&train, 30_000, 3, 0.0);
    table(&capture, 30_000, 4, 0.6);
    let base = dir.path().join("base");
    run(&["baseline"], None, &base, &train).success();
    let out = dir.path().join("mon");
    let segmented = ["monitor", "--segment-by", "region", "--segment-reference", "whole"];
    run(&segmented, Some(&base), &out, &capture).code(1);
    let csv = std::fs::read_to_string(out.join("segments.csv")).unwrap();
    let latam = rows_of(&csv, "region=latam");
    assert!(latam.iter().all(|r| r.3 == "whole"));
    // latam's rows alone.
    let latam_file = dir.path().join("latam.parquet");
    let latam_rows = crate::common::rows_where(&capture, "region", "latam", &latam_file);
    let out2 = dir.path().join("alone");
    run(&["monitor"], Some(&base), &out2, &latam_file).code(1);
    let drift = json(&out2.join("drift.json"));
    for f in ["x", "y", "tier"] {
        let whole = drift["features"].as_array().unwrap().iter().find(|d| d["name"] == f).unwrap().clone();
        let seg = latam.iter().find(|r| r.0 == f).unwrap();
        assert_eq!(seg.1, whole["status"].as_str().unwrap(), "{f}");
        let d: f64 = seg.2.parse().unwrap();
        assert!((d - whole["distance"].as_f64().unwrap()).abs() < 1e-12, "{f}: {d} vs {}", whole["distance"]);
        assert_eq!(seg.4, latam_rows.to_string());
    }
}

#[test]
fn segments_past_the_most_kept_fold_into_other_with_their_rows() {
    let dir = TempDir::new().unwrap();
    let train = dir.path().join("train.parquet");
    table(&train, 20_000, 5, 0.0);
    let base = dir.path().join("base");
    let got = run(&["baseline", "--segment-by", "region,tier", "--max-segments", "3"], None, &base, &train).success();
    let said = String::from_utf8_lossy(&got.get_output().stderr).to_string();
    let segs = json(&base.join("segments.json"));
    let list = segs["segments"].as_array().unwrap();
    // Three kept, the rest in other, last; every row somewhere.
    assert_eq!(list.len(), 4);
    assert_eq!(list[3]["segment"], "other");
    assert!(list[3]["values"].is_null());
    let rows = |s: &serde_json::Value| s["profile"]["rows"].as_u64().unwrap();
    assert_eq!(list.iter().map(rows).sum::<u64>(), 20_000);
    assert_eq!(segs["folded_rows"].as_u64(), Some(rows(&list[3])));
    // Kept: those of the most rows (region × tier 1; tier 2 is a row in seven).
    let kept_min = list[..3].iter().map(rows).min().unwrap();
    assert!(kept_min > 4_000, "{kept_min}");
    assert!(said.contains("folded into other"), "{said}");
    assert_eq!(list[0]["segment"], "region=apac/tier=1");
}

#[test]
fn a_new_users_mistakes_are_named() {
    let dir = TempDir::new().unwrap();
    let train = dir.path().join("train.parquet");
    table(&train, 2_000, 6, 0.0);
    let base = dir.path().join("base");
    run(&["baseline"], None, &base, &train).success();
    // A column no input holds.
    let e = run(&["monitor", "--segment-by", "regoin"], Some(&base), &dir.path().join("a"), &train).code(2);
    let said = String::from_utf8_lossy(&e.get_output().stderr).to_string();
    assert!(said.contains("--segment-by") && said.contains("'regoin'") && said.contains("region"), "{said}");
    // A baseline made without segments.
    let e = run(&["monitor", "--segment-by", "region"], Some(&base), &dir.path().join("b"), &train).code(2);
    let said = String::from_utf8_lossy(&e.get_output().stderr).to_string();
    assert!(said.contains("has no segments") && said.contains("whole"), "{said}");
    assert!(!dir.path().join("b/drift.json").exists(), "no half-written output");
    // A column of too many values (x: one per row) for what is held (at least 10,000).
    let many = dir.path().join("many.parquet");
    table(&many, 12_000, 7, 0.0);
    let e = run(&["baseline", "--segment-by", "x", "--max-segments", "10"], None, &dir.path().join("c"), &many).code(2);
    let said = String::from_utf8_lossy(&e.get_output().stderr).to_string();
    assert!(said.contains("--max-segments") && said.contains("x"), "{said}");
}

/// The report as a real browser builds it: the segments ranked, the drifted one first with its
/// drill-down, and a hostile segment value kept as text (in the page and in its folder's name).
#[test]
fn segments_in_the_report_in_a_real_browser() {
    if !crate::common::tool("chromium") {
        return;
    }
    let dir = TempDir::new().unwrap();
    let hostile = "<img src=x onerror=alert(1)>";
    let write = |path: &Path, shift: f64| {
        let n = 6_000;
        let seg: Vec<&str> = (0..n).map(|i| if i % 4 == 0 { hostile } else { "plain" }).collect();
        let x: Vec<f64> =
            (0..n).map(|i| ((i * 37) % 100) as f64 / 10.0 + if i % 4 == 0 { shift } else { 0.0 }).collect();
        write_parquet(path, vec![("seg", arr(StringArray::from(seg))), ("x", arr(Float64Array::from(x)))], 2_000);
    };
    let (train, capture) = (dir.path().join("train.parquet"), dir.path().join("capture.parquet"));
    write(&train, 0.0);
    write(&capture, 4.0);
    let base = dir.path().join("base");
    run(&["baseline", "--segment-by", "seg"], None, &base, &train).success();
    let out = dir.path().join("out");
    run(&["monitor", "--segment-by", "seg"], Some(&base), &out, &capture).code(1);
    assert!(out.join("segments/seg=%3Cimg src%3Dx onerror%3Dalert(1)%3E/constraint_violations.json").is_file());
    let o = std::process::Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!("--user-data-dir={}", dir.path().join("profile").display()))
        .arg(format!("file://{}", out.join("report.html").display()))
        .output()
        .unwrap();
    assert!(o.status.success(), "chromium: {}", String::from_utf8_lossy(&o.stderr));
    let dom = String::from_utf8_lossy(&o.stdout);
    let at = dom.find("<h2 id=\"segments\">Segments</h2>").expect("a segments section");
    assert!(dom.contains("1 of 2 segments</a> with drift or violations"), "the head counts them");
    // Ranked: the drifted segment first, linked to its drill-down.
    let first = dom[at..].find("<a href=\"#s-0\">").unwrap() + at;
    assert!(
        dom[first..].starts_with("<a href=\"#s-0\">seg=%3Cimg src%3Dx onerror%3Dalert(1)%3E</a>"),
        "{}",
        &dom[first..first + 120]
    );
    let drill = dom.find("<details id=\"s-0\">").expect("a drill-down");
    assert!(dom[drill..].find("<td>x</td>").is_some());
    assert!(dom.contains("<details id=\"s-1\">"));
    assert!(!dom.contains("<img"), "data became markup");
}

/// `n` rows over ten hours from 2026-11-28T00:00Z: `t`, `region` (latam one row in five),
/// `x` ~ N(0, 1) shifted by `shift` in latam during hours 3, 4 and 5 only, and `y` uniform.
fn timed(path: &Path, n: usize, seed: u64, shift: f64) {
    const START: i64 = 1_795_824_000_000;
    const HOUR: i64 = 3_600_000;
    let mut state = seed;
    let mut u = move || (driftscope::codec::splitmix64(&mut state) >> 11) as f64 / (1u64 << 53) as f64;
    let (mut t, mut region, mut x, mut y) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let at = START + (i as i64 * 10 * HOUR) / n as i64;
        let r = if i % 5 == 1 { "latam" } else { REGIONS[i % 3] };
        let z = (-2.0 * u().max(1e-300).ln()).sqrt() * (std::f64::consts::TAU * u()).cos();
        let hour = (at - START) / HOUR;
        x.push(z + if r == "latam" && (3..6).contains(&hour) { shift } else { 0.0 });
        y.push(u());
        t.push(at);
        region.push(r);
    }
    write_parquet(
        path,
        vec![
            ("t", arr(arrow_array::TimestampMillisecondArray::from(t))),
            ("region", arr(StringArray::from(region))),
            ("x", arr(Float64Array::from(x))),
            ("y", arr(Float64Array::from(y))),
        ],
        8_192,
    );
}

/// Each segment per window: the change in latam is found in exactly its three hours, nowhere
/// else; against the whole baseline, a segment's window is judged as a windowed run over the
/// segment's rows alone judges that window; and the segments' verdicts over the run are those
/// of a run without per-window segments.
#[test]
fn each_segment_in_each_window_is_judged() {
    let dir = TempDir::new().unwrap();
    let (train, capture) = (dir.path().join("train.parquet"), dir.path().join("capture.parquet"));
    timed(&train, 60_000, 11, 0.0);
    timed(&capture, 60_000, 12, 1.5);
    let base = dir.path().join("base");
    run(&["baseline", "--segment-by", "region"], None, &base, &train).success();
    let per_window = ["monitor", "--segment-by", "region", "--segment-windows", "--window", "1h", "--time-column", "t"];
    let out = dir.path().join("mon");
    run(&per_window, Some(&base), &out, &capture).code(1);
    let rows = csv_maps(&out.join("segments_windows.csv"));
    // 4 segments × 10 hours × 2 features (the time column is not judged within a window).
    assert_eq!(rows.len(), 80);
    for r in &rows {
        let hour = r["window_index"].parse::<i64>().unwrap();
        let want = r["segment"] == "region=latam" && r["feature"] == "x" && (3..6).contains(&hour);
        assert_eq!(r["status"] == "drift", want, "{r:?}");
        assert_eq!(r["reference"], "segment");
    }
    let d = json(&out.join("drift.json"));
    assert_eq!(d["segments"]["windows"]["pairs"], 40);
    assert_eq!(d["segments"]["windows"]["pairs_with_drift"], 3);
    // The segments over the run: as without per-window segments.
    let plain = dir.path().join("plain");
    run(&["monitor", "--segment-by", "region", "--window", "1h", "--time-column", "t"], Some(&base), &plain, &capture)
        .code(1);
    let (a, b) = (csv_maps(&out.join("segments.csv")), csv_maps(&plain.join("segments.csv")));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(
            (&x["segment"], &x["feature"], &x["status"], &x["rows"]),
            (&y["segment"], &y["feature"], &y["status"], &y["rows"])
        );
        if let (Ok(p), Ok(q)) = (x["distance"].parse::<f64>(), y["distance"].parse::<f64>()) {
            assert!((p - q).abs() < 1e-12, "{x:?} vs {y:?}");
        }
    }

    // Against the whole baseline: latam's windows as a windowed run over latam's rows alone.
    let whole = dir.path().join("whole");
    let mut args = per_window.to_vec();
    args.extend(["--segment-reference", "whole"]);
    run(&args, Some(&base), &whole, &capture).code(1);
    let latam = dir.path().join("latam.parquet");
    crate::common::rows_where(&capture, "region", "latam", &latam);
    let by_itself = dir.path().join("alone");
    run(&["monitor", "--window", "1h", "--time-column", "t"], Some(&base), &by_itself, &latam).code(1);
    let windows = csv_maps(&by_itself.join("windows.csv"));
    let segment: Vec<_> =
        csv_maps(&whole.join("segments_windows.csv")).into_iter().filter(|r| r["segment"] == "region=latam").collect();
    let judged: Vec<_> = windows.iter().filter(|w| w["feature"] == "x" || w["feature"] == "y").collect();
    assert_eq!(segment.len(), judged.len());
    for (s, w) in segment.iter().zip(judged) {
        for k in ["window_start", "window_end", "feature", "rows", "status", "distance", "threshold", "psi"] {
            assert_eq!(s[k], w[k], "{k}: {s:?} vs {w:?}");
        }
    }
}
