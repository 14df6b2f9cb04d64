//! Performance estimation without labels (CBPE) from the CLI: NannyML's figures on two binary
//! data sets it ships (`tests/reference/make_estimation.py`), estimates of a window equal to
//! those of its rows alone, a run without labels, both backends, and the named errors.

use std::path::{Path, PathBuf};

use arrow_array::{Float64Array, Int64Array, TimestampMillisecondArray};
use tempfile::TempDir;

use crate::common::{arr, csv_maps, driftscope, json, root, write_parquet};

fn data(name: &str) -> PathBuf {
    root().join("tests/data/estimation").join(name)
}

fn baseline(out: &Path, input: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    driftscope()
        .args(["baseline", "-q", "--backend", "cpu", "-o"])
        .arg(out)
        .args(["--problem-type", "BinaryClassification", "--label", "label", "--probability", "score"])
        .args(extra)
        .arg(input)
        .assert()
}

fn monitor(base: &Path, out: &Path, input: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    driftscope().args(["monitor", "-q", "-b"]).arg(base).arg("-o").arg(out).args(extra).arg(input).assert()
}

fn num(s: &str) -> Option<f64> {
    (!s.is_empty()).then(|| s.parse().unwrap())
}

/// NannyML's CBPE on its modified California housing data (scores of two decimals, so many
/// ties), chunks of 1,000 rows: the same decision to calibrate, the same normal ranges, and per
/// analysis chunk and metric the same estimate, band, realized value and alert.
#[test]
fn estimates_per_chunk_are_nannymls_on_tied_scores() {
    agrees_with_nannyml("housing_");
}

/// The same on NannyML's synthetic binary classification data (its first 20,000 reference and
/// analysis rows), chunks of 2,000 rows.
#[test]
fn estimates_per_chunk_are_nannymls() {
    agrees_with_nannyml("synthetic_");
}

/// NannyML's CBPE on its synthetic multiclass data (three classes, scores of two decimals; the
/// first 20,000 reference and analysis rows), chunks of 2,000 rows: each class calibrated or not
/// as NannyML decides, and the macro-averaged estimates as NannyML's.
#[test]
fn multiclass_estimates_per_chunk_are_nannymls() {
    agrees_with_nannyml("multiclass_");
}

/// How close each figure must be, and why: ROC AUC estimates differ by NannyML's rounding of the
/// expected curve's cumulative counts to five decimals (a relative 1e-8 of a chunk's counts)
/// and, for a multiclass model, by the order NannyML gives rows of one score (an unstable sort;
/// their calibrated probabilities differ after the division by the row's sum, so the order
/// bends the curve a little: 1e-5 covers it, where driftscope takes them as one straight step);
/// the ROC AUC's sampling error comes from the baseline's rows in order of score, tied scores
/// again in an unstable order (a relative 1%); everything else is the same arithmetic in
/// another order.
fn tolerance(metric: &str, what: &str) -> (f64, f64) {
    match (metric, what) {
        ("roc_auc", "value") => (1e-5, 0.0),
        ("roc_auc", "sampling_error") => (0.0, 0.01),
        ("roc_auc", "lower_confidence_boundary" | "upper_confidence_boundary") => (1e-4, 0.0),
        _ => (1e-9, 0.0),
    }
}

const CLASSES: [&str; 3] = ["highstreet_card", "prepaid_card", "upmarket_card"];

/// The baseline of data set `prefix` with NannyML's chunks, its decision to calibrate (each
/// class's, for the multiclass data) checked against NannyML's; returns its estimation model.
fn fitted(prefix: &str, base: &Path, chunk: &str, want: &serde_json::Value) -> serde_json::Value {
    let reference = data(&format!("{prefix}reference.parquet"));
    let mut args = vec!["--prediction", "prediction", "--estimate-performance", "--estimate-chunk-rows", chunk];
    let classes = CLASSES.map(|c| format!("{c}=score_{c}")).join(",");
    let multiclass = prefix == "multiclass_";
    if multiclass {
        args.extend(["--class-probabilities", &classes]);
        driftscope()
            .args(["baseline", "-q", "--backend", "cpu", "-o"])
            .arg(base)
            .args(["--problem-type", "MulticlassClassification", "--label", "label"])
            .args(&args)
            .arg(&reference)
            .assert()
            .success();
    } else {
        baseline(base, &reference, &args).success();
    }
    let model = json(&base.join("model_quality/estimation.json"));
    if multiclass {
        for (i, c) in CLASSES.iter().enumerate() {
            let calibrated = model["class_calibrations"][i].is_object();
            assert_eq!(calibrated, want["calibrated"][c].as_bool().unwrap(), "calibrate {c} or not");
        }
    } else {
        assert_eq!(model["calibration"].is_object(), want["calibrated"].as_bool().unwrap(), "calibrate or not");
    }
    model
}

fn agrees_with_nannyml(prefix: &str) {
    let want = json(&data(&format!("{prefix}nannyml.json")));
    let chunk = want["chunk_rows"].as_u64().unwrap().to_string();
    let dir = TempDir::new().unwrap();
    let base = dir.path().join("base");
    let model = fitted(prefix, &base, &chunk, &want);
    for m in model["metrics"].as_array().unwrap() {
        let name = m["metric"].as_str().unwrap();
        let w = &want["metrics"][name];
        for key in ["lower_threshold", "upper_threshold"] {
            let (a, b) = (m[key].as_f64().unwrap(), w[key].as_f64().unwrap());
            assert!((a - b).abs() <= 1e-9, "{name} {key}: {a} vs NannyML's {b}");
        }
    }

    let out = dir.path().join("mon");
    let ran = monitor(&base, &out, &data(&format!("{prefix}analysis.parquet")), &["--window-rows", &chunk]);
    let rows = csv_maps(&out.join("model_quality/estimated.csv"));
    let mut alerts = false;
    for (name, w) in want["metrics"].as_object().unwrap() {
        for (i, c) in w["analysis"].as_array().unwrap().iter().enumerate() {
            let r = rows
                .iter()
                .find(|r| r["metric"] == *name && r["window_index"] == i.to_string())
                .unwrap_or_else(|| panic!("{name}: no chunk {i}"));
            for (what, mine) in [
                ("value", &r["estimated"]),
                ("sampling_error", &r["sampling_error"]),
                ("lower_confidence_boundary", &r["lower_band"]),
                ("upper_confidence_boundary", &r["upper_band"]),
                ("realized", &r["realized"]),
            ] {
                let (abs, rel) = tolerance(name, what);
                match (num(mine), c[what].as_f64()) {
                    (Some(a), Some(b)) => {
                        assert!((a - b).abs() <= abs + rel * b.abs(), "{name} chunk {i} {what}: {a} vs NannyML's {b}")
                    }
                    (a, b) => assert_eq!(a, b, "{name} chunk {i} {what}"),
                }
            }
            assert_eq!(r["alert"], c["alert"].as_bool().unwrap().to_string(), "{name} chunk {i} alert");
            alerts |= c["alert"].as_bool().unwrap();
        }
    }
    let doc = json(&out.join("drift.json"));
    let violated: Vec<&str> = doc["violations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["constraint_check_type"] == "performance_estimate_check")
        .map(|v| v["feature_name"].as_str().unwrap())
        .collect();
    for (name, w) in want["metrics"].as_object().unwrap() {
        let alerted = w["analysis"].as_array().unwrap().iter().any(|c| c["alert"] == true);
        assert_eq!(violated.contains(&name.as_str()), alerted, "{name}: a violation exactly when a chunk alerted");
    }
    if alerts {
        ran.code(1);
    }
}

/// Scores of a model whose positives score high: `n` rows an hour apart from 2024-01-01,
/// scores spread over (0, 1), the label drawn with the score as its probability (so the scores
/// are calibrated), and after `shift` rows the scores pushed towards 0.5 (a weaker model).
fn scored(path: &Path, n: usize, shift: usize, with_label: bool) {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let (mut score, mut label, mut time) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let s = next();
        let s = if i >= shift { 0.35 + 0.3 * s } else { s };
        score.push(s);
        label.push(i64::from(next() < s));
        time.push(1_704_067_200_000 + i as i64 * 3_600_000);
    }
    let mut cols = vec![
        ("id", arr(Int64Array::from((0..n as i64).collect::<Vec<_>>()))),
        ("score", arr(Float64Array::from(score))),
        ("event_time", arr(TimestampMillisecondArray::from(time).with_timezone("UTC"))),
    ];
    if with_label {
        cols.push(("label", arr(Int64Array::from(label.clone()))));
    } else {
        // The labels that arrive later, apart, joined by id.
        let truth = path.with_extension("labels.parquet");
        let ids = arr(Int64Array::from((0..n as i64).collect::<Vec<_>>()));
        write_parquet(&truth, vec![("id", ids), ("label", arr(Int64Array::from(label)))], 500);
    }
    write_parquet(path, cols, 500);
}

/// Windows of rows in time order are estimated as the engine ranks them: the capture written in
/// reverse, windows of 24 rows by time are its days, with each day's very estimates.
#[test]
fn windows_of_rows_in_time_order_are_estimated() {
    let dir = TempDir::new().unwrap();
    let (_, capture, base) = weakened(dir.path());
    let out = dir.path().join("mon");
    monitor(&base, &out, &capture, &["--window", "1d", "--time-column", "event_time"]).code(1);
    let rows = csv_maps(&out.join("model_quality/estimated.csv"));
    let reversed = dir.path().join("reversed.parquet");
    slice(&capture, 0, 240, &reversed);
    reverse(&reversed);
    let by_rows = dir.path().join("by-rows");
    monitor(&base, &by_rows, &reversed, &["--window-rows", "24", "--time-column", "event_time"]).code(1);
    let ranked = csv_maps(&by_rows.join("model_quality/estimated.csv"));
    for day in 0..10 {
        let start = format!("2024-01-{:02}T00:00:00Z", day + 1);
        for m in ["roc_auc", "accuracy", "f1"] {
            let a = rows.iter().find(|r| r["metric"] == m && r["window_start"] == start).unwrap();
            let b = ranked.iter().find(|r| r["metric"] == m && r["window_index"] == day.to_string()).unwrap();
            assert_eq!((&a["estimated"], &a["rows"]), (&b["estimated"], &b["rows"]), "day {day} {m}");
        }
    }
}

/// Labels that arrive later, joined by id, stand beside the estimates as the same labels read
/// from the captures themselves do: every window's realized metrics are the same.
#[test]
fn labels_joined_later_stand_beside_the_estimates() {
    let dir = TempDir::new().unwrap();
    let (train, labelled, unlabelled) =
        (dir.path().join("train.parquet"), dir.path().join("labelled.parquet"), dir.path().join("capture.parquet"));
    scored(&train, 4800, usize::MAX, true);
    scored(&labelled, 240, 120, true);
    scored(&unlabelled, 240, 120, false);
    let base = dir.path().join("base");
    baseline(&base, &train, &["--estimate-performance"]).success();
    let window = ["--window", "1d", "--time-column", "event_time"];
    let (inline, joined) = (dir.path().join("inline"), dir.path().join("joined"));
    monitor(&base, &inline, &labelled, &window).code(1);
    let truth = unlabelled.with_extension("labels.parquet");
    let gt = format!("--ground-truth={}", truth.display());
    let mut args = window.to_vec();
    args.extend(["--id-column", "id", &gt]);
    monitor(&base, &joined, &unlabelled, &args).code(1);
    let (a, b) =
        (csv_maps(&inline.join("model_quality/estimated.csv")), csv_maps(&joined.join("model_quality/estimated.csv")));
    assert_eq!(a.len(), b.len());
    let mut compared = 0;
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(
            (&x["window_start"], &x["metric"], &x["estimated"]),
            (&y["window_start"], &y["metric"], &y["estimated"])
        );
        match (num(&x["realized"]), num(&y["realized"])) {
            (Some(p), Some(q)) => {
                assert!((p - q).abs() < 1e-12, "{} {}: {p} vs {q}", x["window_start"], x["metric"]);
                compared += 1;
            }
            (p, q) => assert_eq!(p, q, "{} {}", x["window_start"], x["metric"]),
        }
    }
    assert!(compared >= 60, "realized values compared: {compared}");
    // Past the join's memory the labels spill to disk, and the rows that wait for them too:
    // the same table.
    let spilled = dir.path().join("spilled");
    args.extend(["--join-memory", "1KiB"]);
    monitor(&base, &spilled, &unlabelled, &args).code(1);
    let table = |d: &Path| std::fs::read(d.join("model_quality/estimated.csv")).unwrap();
    assert!(table(&joined) == table(&spilled), "estimated.csv differs when the labels are spilled");
}

/// A multiclass model's labels arriving apart (NannyML's multiclass analysis data without its
/// label column, the labels in another file in reverse order), per chunk of rows: every
/// realized metric, ROC AUC included, is the one of the labels read inline (NannyML's), in
/// memory and spilled to disk.
#[test]
fn multiclass_labels_joined_later_are_realized() {
    use arrow_array::{Array, RecordBatch, StringArray};
    let want = json(&data("multiclass_nannyml.json"));
    let chunk = want["chunk_rows"].as_u64().unwrap().to_string();
    let dir = TempDir::new().unwrap();
    let base = dir.path().join("base");
    fitted("multiclass_", &base, &chunk, &want);
    let analysis = data("multiclass_analysis.parquet");
    let f = std::fs::File::open(&analysis).unwrap();
    let r = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f).unwrap().build().unwrap();
    let batches: Vec<RecordBatch> = r.map(Result::unwrap).collect();
    let batch = arrow_select::concat::concat_batches(&batches[0].schema(), &batches).unwrap();
    let n = batch.num_rows();
    let ids = StringArray::from((0..n).map(|i| format!("row-{i}")).collect::<Vec<_>>());
    let mut cols: Vec<(&str, arrow_array::ArrayRef)> = vec![("id", arr(ids.clone()))];
    let schema = batch.schema();
    for (field, c) in schema.fields().iter().zip(batch.columns()) {
        if field.name() != "label" {
            cols.push((field.name().as_str(), c.clone()));
        }
    }
    let captures = dir.path().join("captures.parquet");
    write_parquet(&captures, cols, 5_000);
    let order = arrow_array::UInt32Array::from((0..n as u32).rev().collect::<Vec<_>>());
    let take = |a: &dyn Array| arrow_select::take::take(a, &order, None).unwrap();
    let truth = dir.path().join("truth.parquet");
    write_parquet(&truth, vec![("id", take(&ids)), ("label", take(batch.column_by_name("label").unwrap()))], 7_000);
    let run = |out: &Path, extra: &[&str]| {
        let gt = format!("--ground-truth={}", truth.display());
        let mut args = vec!["--window-rows", &chunk, "--id-column", "id", &gt];
        args.extend(extra);
        let _ = monitor(&base, out, &captures, &args);
        csv_maps(&out.join("model_quality/estimated.csv"))
    };
    let inline = dir.path().join("inline");
    let _ = monitor(&base, &inline, &analysis, &["--window-rows", &chunk]);
    let inline = csv_maps(&inline.join("model_quality/estimated.csv"));
    let joined = run(&dir.path().join("joined"), &[]);
    let spilled = run(&dir.path().join("spilled"), &["--join-memory", "1KiB"]);
    assert_eq!(joined, spilled, "the same table when the labels are spilled");
    assert_eq!(inline.len(), joined.len());
    let mut auc = 0;
    for (a, b) in inline.iter().zip(&joined) {
        assert_eq!(
            (&a["window_index"], &a["metric"], &a["estimated"]),
            (&b["window_index"], &b["metric"], &b["estimated"])
        );
        assert_eq!(a["realized"], b["realized"], "chunk {} {}", a["window_index"], a["metric"]);
        auc += usize::from(a["metric"] == "roc_auc" && !a["window_index"].is_empty() && num(&b["realized"]).is_some());
    }
    assert!(auc >= 5, "realized ROC AUC of {auc} chunks");
}

/// Reverses the rows of Parquet file `path` in place.
fn reverse(path: &Path) {
    let f = std::fs::File::open(path).unwrap();
    let r = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f).unwrap().build().unwrap();
    let batches: Vec<arrow_array::RecordBatch> = r.map(Result::unwrap).collect();
    let batch = arrow_select::concat::concat_batches(&batches[0].schema(), &batches).unwrap();
    let n = batch.num_rows() as u32;
    let order = arrow_array::UInt32Array::from((0..n).rev().collect::<Vec<_>>());
    let columns = batch.columns().iter().map(|c| arrow_select::take::take(c, &order, None).unwrap()).collect();
    let reversed = arrow_array::RecordBatch::try_new(batch.schema(), columns).unwrap();
    let mut w =
        parquet::arrow::ArrowWriter::try_new(std::fs::File::create(path).unwrap(), reversed.schema(), None).unwrap();
    w.write(&reversed).unwrap();
    w.close().unwrap();
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// In `dir`: a training table of 4,800 scored rows, its baseline with an estimation model, and
/// a capture of 240 rows without labels whose model weakens after row 120 (day 5); returns
/// (training table, capture, baseline).
fn weakened(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let (train, capture, base) = (dir.join("train.parquet"), dir.join("capture.parquet"), dir.join("base"));
    scored(&train, 4800, usize::MAX, true);
    scored(&capture, 240, 120, false);
    baseline(&base, &train, &["--estimate-performance"]).success();
    (train, capture, base)
}

/// Writes `len` rows of Parquet file `input` from row `at` to `output`.
fn slice(input: &Path, at: usize, len: usize, output: &Path) {
    let f = std::fs::File::open(input).unwrap();
    let r = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f).unwrap().build().unwrap();
    let batches: Vec<arrow_array::RecordBatch> = r.map(Result::unwrap).collect();
    let batch = arrow_select::concat::concat_batches(&batches[0].schema(), &batches).unwrap().slice(at, len);
    let mut w =
        parquet::arrow::ArrowWriter::try_new(std::fs::File::create(output).unwrap(), batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// A run without labels estimates every day from its scores alone, and each day's estimates
/// are those of a run over that day's rows alone; the days after the model weakened leave the
/// normal range (a violation, exit 1); the run says that nothing was scored.
#[test]
fn each_window_is_estimated_as_its_rows_alone() {
    let dir = TempDir::new().unwrap();
    let (_, capture, base) = weakened(dir.path());
    let out = dir.path().join("mon");
    let prom = dir.path().join("metrics.prom");
    let prom_arg = format!("--prometheus={}", prom.display());
    let ran = monitor(&base, &out, &capture, &["--window", "1d", "--time-column", "event_time", &prom_arg]).code(1);
    let said = String::from_utf8_lossy(&ran.get_output().stdout).to_string();
    assert!(said.contains("estimated without labels over 240 rows"), "{said}");
    assert!(!out.join("model_quality/statistics.json").exists(), "nothing to score against");
    let doc = json(&out.join("drift.json"));
    assert!(doc["baseline_notes"].to_string().contains("model quality is estimated, not scored"));
    assert_eq!(doc["estimated_performance"]["windows"], 10);
    let rows = csv_maps(&out.join("model_quality/estimated.csv"));
    let auc = |day: usize| -> (f64, bool) {
        let start = format!("2024-01-{:02}T00:00:00Z", day + 1);
        let r = rows.iter().find(|r| r["metric"] == "roc_auc" && r["window_start"] == start).unwrap();
        (num(&r["estimated"]).unwrap(), r["alert"] == "true")
    };
    for day in 0..5 {
        assert!(!auc(day).1, "day {day} is the baseline's model");
    }
    for day in 5..10 {
        assert!(auc(day).1, "day {day}: the weaker model's AUC is out of range");
    }
    // Each alerted window's violations name the metric; the metrics file holds the last
    // window's estimates (a weaker model's: its ROC AUC alerted).
    let mut alerted_files = 0;
    for day in walk(&out.join("windows")) {
        let text = std::fs::read_to_string(&day).unwrap();
        alerted_files += usize::from(text.contains("performance_estimate_check") && text.contains("roc_auc"));
    }
    assert_eq!(alerted_files, 5, "the five days of the weaker model");
    let text = std::fs::read_to_string(&prom).unwrap();
    assert!(text.contains("driftscope_estimated_performance{") && text.contains("metric=\"roc_auc\""), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("driftscope_estimated_performance_alert{")
            && l.contains("roc_auc")
            && l.ends_with(" 1")),
        "{text}"
    );
    crate::common::promtool_check(&text);
    // 2024-01-07 (rows 144..168) written apart and estimated alone.
    let alone = dir.path().join("day7.parquet");
    slice(&capture, 144, 24, &alone);
    let out7 = dir.path().join("mon7");
    monitor(&base, &out7, &alone, &[]).code(1);
    let whole = csv_maps(&out7.join("model_quality/estimated.csv"));
    for r in &whole {
        let w =
            rows.iter().find(|w| w["metric"] == r["metric"] && w["window_start"] == "2024-01-07T00:00:00Z").unwrap();
        assert_eq!(
            (&w["estimated"], &w["sampling_error"], &w["rows"]),
            (&r["estimated"], &r["sampling_error"], &r["rows"])
        );
    }
    if crate::parity::gpu().is_some() {
        let gpu = dir.path().join("mon-gpu");
        driftscope()
            .args(["monitor", "-q", "--backend", "gpu", "--window", "1d", "--time-column", "event_time", "-b"])
            .arg(&base)
            .arg("-o")
            .arg(&gpu)
            .arg(&capture)
            .assert()
            .code(1);
        let read = |d: &Path| std::fs::read(d.join("model_quality/estimated.csv")).unwrap();
        assert_eq!(read(&out), read(&gpu), "cpu vs gpu");
    }
}

/// Mistakes are named: one class in the baseline, scores outside [0, 1], no scores in the
/// captures, estimation without model quality.
#[test]
fn estimation_mistakes_are_named() {
    let dir = TempDir::new().unwrap();
    let one = dir.path().join("one.parquet");
    write_parquet(
        &one,
        vec![("score", arr(Float64Array::from(vec![0.2, 0.7, 0.9]))), ("label", arr(Int64Array::from(vec![1, 1, 1])))],
        10,
    );
    let err = |a: assert_cmd::assert::Assert| String::from_utf8_lossy(&a.code(2).get_output().stderr).to_string();
    let e = err(baseline(&dir.path().join("b1"), &one, &["--estimate-performance"]));
    assert!(e.contains("every labelled row of the baseline is positive: estimation needs rows of two classes"), "{e}");
    assert!(!dir.path().join("b1").exists(), "no half-made baseline");

    let out_of_range = dir.path().join("range.parquet");
    write_parquet(
        &out_of_range,
        vec![("score", arr(Float64Array::from(vec![0.2, 1.7, 0.9]))), ("label", arr(Int64Array::from(vec![0, 1, 1])))],
        10,
    );
    let e = err(baseline(&dir.path().join("b2"), &out_of_range, &["--estimate-performance"]));
    assert!(e.contains("range.parquet") && e.contains("column 'score'") && e.contains("1.7"), "{e}");

    let e = err(driftscope()
        .args(["baseline", "-q", "--estimate-performance", "-o"])
        .arg(dir.path().join("b3"))
        .arg(&one)
        .assert());
    assert!(e.contains("--estimate-performance") && e.contains("the problem type (BinaryClassification)"), "{e}");

    let train = dir.path().join("train.parquet");
    scored(&train, 2000, usize::MAX, true);
    let base = dir.path().join("base");
    baseline(&base, &train, &["--estimate-performance"]).success();
    let other = dir.path().join("other.parquet");
    write_parquet(
        &other,
        vec![
            ("x", arr(Float64Array::from(vec![0.1, 0.2]))),
            ("event_time", arr(TimestampMillisecondArray::from(vec![0, 1]).with_timezone("UTC"))),
        ],
        10,
    );
    let e = err(monitor(&base, &dir.path().join("m"), &other, &[]));
    assert!(e.contains("column 'score'") && e.contains("no input holds"), "{e}");
}

/// A calibrated baseline estimates as its baseline did: `calibrate` carries model quality (its
/// settings and estimation model) over, and a run against either writes the same estimates.
#[test]
fn a_calibrated_baseline_keeps_its_estimation() {
    let dir = TempDir::new().unwrap();
    let (train, capture, base) = weakened(dir.path());
    let calibrated = dir.path().join("calibrated");
    driftscope()
        .args(["calibrate", "-q", "--window-rows", "200", "--false-alarm-rate", "0.05", "-b"])
        .arg(&base)
        .arg("-o")
        .arg(&calibrated)
        .arg(&train)
        .assert()
        .success();
    for f in ["estimation.json", "settings.json", "statistics.json", "constraints.json"] {
        let read = |d: &Path| std::fs::read(d.join("model_quality").join(f)).unwrap();
        assert_eq!(read(&base), read(&calibrated), "{f}");
    }
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    monitor(&base, &a, &capture, &[]).code(1);
    monitor(&calibrated, &b, &capture, &[]).code(1);
    let read = |d: &Path| std::fs::read(d.join("model_quality/estimated.csv")).unwrap();
    assert_eq!(read(&a), read(&b));
}

/// A damaged or foreign estimation model is a named error of its file, never a panic or a
/// silently wrong estimate: not JSON, a calibration that is not an increasing map into [0, 1],
/// and a model of other classes than the settings read.
#[test]
fn a_damaged_estimation_model_is_named() {
    let dir = TempDir::new().unwrap();
    let (train, capture) = (dir.path().join("train.parquet"), dir.path().join("capture.parquet"));
    scored(&train, 2000, usize::MAX, true);
    scored(&capture, 48, usize::MAX, false);
    let base = dir.path().join("base");
    baseline(&base, &train, &["--estimate-performance"]).success();
    let file = base.join("model_quality/estimation.json");
    let good: serde_json::Value = json(&file);
    let run = |name: &str, doc: String| -> String {
        std::fs::write(&file, doc).unwrap();
        let out = dir.path().join(name);
        let a = monitor(&base, &out, &capture, &[]).code(2);
        assert!(!out.join("drift.json").exists(), "{name}: nothing written");
        String::from_utf8_lossy(&a.get_output().stderr).to_string()
    };
    let e = run("garbage", "{\"method\": \"cbpe\", \"rows\": ".into());
    assert!(e.contains("estimation.json") && e.contains("not an estimation model"), "{e}");
    let mut unsorted = good.clone();
    unsorted["calibration"] = serde_json::json!({"x": [0.5, 0.2], "y": [0.1, 0.9]});
    let e = run("unsorted", unsorted.to_string());
    assert!(e.contains("estimation.json") && e.contains("not an increasing map into [0, 1]"), "{e}");
    let mut classes = good.clone();
    classes["classes"] = serde_json::json!(["a", "b"]);
    classes["class_calibrations"] = serde_json::json!([null, null]);
    let e = run("classes", classes.to_string());
    assert!(e.contains("estimation.json") && e.contains("the estimation model is of a, b"), "{e}");
}
