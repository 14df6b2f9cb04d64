//! Multivariate drift (PCA reconstruction error) from the CLI: NannyML's figures on the
//! California housing data it ships (`tests/reference/make_multivariate.py`), a change of the
//! joint distribution that leaves every feature's own distribution as it was, both backends, and
//! the named errors.

use std::path::{Path, PathBuf};

use arrow_array::Float64Array;
use tempfile::TempDir;

use crate::common::{arr, csv_maps, driftscope, json, root, write_parquet};

fn data(name: &str) -> PathBuf {
    root().join("tests/data/multivariate").join(name)
}

/// Agreement with NannyML to 1e-7: the covariance is summed from standardized values rounded
/// to 2⁻²⁴ (≈ 6·10⁻⁸, so that every device sums the same integers), which moves the components
/// and every figure by a few 10⁻⁹ here; NannyML's float64 figures are otherwise computed alike.
fn close(a: f64, b: f64, what: &str) {
    assert!((a - b).abs() <= 1e-7 * b.abs().max(1.0), "{what}: {a} vs NannyML's {b}");
}

fn baseline(out: &Path, input: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    driftscope().args(["baseline", "-q", "--backend", "cpu", "-o"]).arg(out).args(extra).arg(input).assert()
}

/// NannyML's DataReconstructionDriftCalculator on its California housing data (eight numeric
/// features), chunks of 1,000 rows: the same components, each reference and analysis chunk's
/// mean error and standard error, the same thresholds and the same alerts, to 1e-7.
#[test]
fn reconstruction_error_per_chunk_is_nannymls() {
    agrees_with_nannyml("");
}

/// The same on NannyML's US census employment data: age and fifteen categorical features, which
/// NannyML imputes with the most frequent value and encodes by their share of the reference.
#[test]
fn reconstruction_error_of_categorical_features_is_nannymls() {
    agrees_with_nannyml("census_");
}

fn agrees_with_nannyml(prefix: &str) {
    let want = json(&data(&format!("{prefix}nannyml.json")));
    let chunk = want["chunk_rows"].as_u64().unwrap().to_string();
    let dir = TempDir::new().unwrap();
    let base = dir.path().join("base");
    let reference = data(&format!("{prefix}reference.parquet"));
    baseline(&base, &reference, &["--multivariate", "--multivariate-chunk-rows", &chunk]).success();
    let m = json(&base.join("multivariate.json"));
    assert_eq!(m["pca"]["standardize"]["columns"], want["features"]);
    assert_eq!(m["pca"]["components"].as_array().unwrap().len() as u64, want["n_components"].as_u64().unwrap());
    for (a, b) in m["pca"]["explained_variance_ratio"]
        .as_array()
        .unwrap()
        .iter()
        .zip(want["explained_variance_ratio"].as_array().unwrap())
    {
        close(a.as_f64().unwrap(), b.as_f64().unwrap(), "explained variance ratio");
    }
    let chunks = m["chunks"].as_array().unwrap();
    assert_eq!(chunks.len(), want["reference"].as_array().unwrap().len());
    for (a, b) in chunks.iter().zip(want["reference"].as_array().unwrap()) {
        assert_eq!((a["start"].as_u64(), a["end"].as_u64()), (b["start"].as_u64(), b["end"].as_u64()));
        close(a["value"].as_f64().unwrap(), b["value"].as_f64().unwrap(), "reference chunk");
        close(a["sampling_error"].as_f64().unwrap(), b["sampling_error"].as_f64().unwrap(), "sampling error");
    }
    close(m["lower_threshold"].as_f64().unwrap(), want["lower_threshold"].as_f64().unwrap(), "lower threshold");
    close(m["upper_threshold"].as_f64().unwrap(), want["upper_threshold"].as_f64().unwrap(), "upper threshold");

    let out = dir.path().join("mon");
    let ran = driftscope()
        .args(["monitor", "-q", "--backend", "cpu", "--window-rows", &chunk, "-b"])
        .arg(&base)
        .arg("-o")
        .arg(&out)
        .arg(data(&format!("{prefix}analysis.parquet")))
        .assert();
    let rows = csv_maps(&out.join("multivariate.csv"));
    let analysis = want["analysis"].as_array().unwrap();
    if analysis.iter().any(|c| c["alert"] == true) {
        ran.code(1);
    }
    assert_eq!(rows.len(), analysis.len());
    for (i, (a, b)) in rows.iter().zip(analysis).enumerate() {
        assert_eq!(a["rows"].parse::<u64>().unwrap(), b["end"].as_u64().unwrap() - b["start"].as_u64().unwrap());
        close(a["reconstruction_error"].parse().unwrap(), b["value"].as_f64().unwrap(), &format!("analysis chunk {i}"));
        close(a["sampling_error"].parse().unwrap(), b["sampling_error"].as_f64().unwrap(), "sampling error");
        assert_eq!(a["drift"] == "true", b["alert"].as_bool().unwrap(), "chunk {i}'s alert");
        // The window's violations say so.
        let v = json(&out.join(format!("windows/rows/{i:09}/constraint_violations.json")));
        let flagged = v["violations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["constraint_check_type"] == "multivariate_drift_check");
        assert_eq!(flagged, b["alert"].as_bool().unwrap(), "chunk {i}'s violation");
    }
    let d = json(&out.join("drift.json"));
    assert_eq!(d["multivariate"]["windows"].as_u64(), Some(rows.len() as u64));
    // The report's timeline has the series, under its plain name.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("(reconstruction error)") && html.contains("PCA reconstruction error"));
    // The derived column is no feature of the data.
    assert!(!std::fs::read_to_string(out.join("statistics.json")).unwrap().contains("reconstruction"));
}

/// `n` rows of x, y (standard normal, correlation `rho`) and z (independent).
fn correlated(path: &Path, n: usize, seed: u64, rho: f64) {
    shifted(path, n, seed, rho, 0.0);
}

/// As [`correlated`], x and y shifted by `shift` (along the first principal component: the
/// reconstruction error does not move).
fn shifted(path: &Path, n: usize, seed: u64, rho: f64, shift: f64) {
    let mut state = seed;
    let mut normal = move || {
        let mut u = || (driftscope::codec::splitmix64(&mut state) >> 11) as f64 / (1u64 << 53) as f64;
        (-2.0 * u().max(1e-300).ln()).sqrt() * (std::f64::consts::TAU * u()).cos()
    };
    let (mut x, mut y, mut z) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n {
        let (a, b, c) = (normal(), normal(), normal());
        x.push(a + shift);
        y.push(rho * a + (1.0 - rho * rho).sqrt() * b + shift);
        z.push(c);
    }
    write_parquet(
        path,
        vec![("x", arr(Float64Array::from(x))), ("y", arr(Float64Array::from(y))), ("z", arr(Float64Array::from(z)))],
        4_096,
    );
}

/// x and y move together in the baseline and against each other now: each feature's own
/// distribution is the same (no univariate drift), the joint one is not, and only the
/// reconstruction error sees it. The same on both backends, to the byte.
#[test]
fn a_change_of_the_joint_distribution_alone_is_found() {
    let dir = TempDir::new().unwrap();
    let (train, same, flipped) =
        (dir.path().join("train.parquet"), dir.path().join("same.parquet"), dir.path().join("flipped.parquet"));
    correlated(&train, 20_000, 1, 0.9);
    correlated(&same, 20_000, 2, 0.9);
    correlated(&flipped, 20_000, 3, -0.9);
    let base = dir.path().join("base");
    baseline(&base, &train, &["--multivariate"]).success();
    let run = |input: &Path, out: &Path, backend: &str| {
        driftscope()
            .args(["monitor", "-q", "--backend", backend, "-b"])
            .arg(&base)
            .arg("-o")
            .arg(out)
            .arg(input)
            .assert()
    };
    run(&same, &dir.path().join("same"), "cpu").success();
    let d = json(&dir.path().join("same/drift.json"));
    assert_eq!(d["multivariate"]["drift"], false, "{}", d["multivariate"]);
    let out = dir.path().join("flipped");
    let windowed = |out: &Path, backend: &str| {
        driftscope()
            .args(["monitor", "-q", "--backend", backend, "--window-rows", "5000", "-b"])
            .arg(&base)
            .arg("-o")
            .arg(out)
            .arg("--prometheus")
            .arg(out.with_extension("prom"))
            .arg("--emf")
            .arg(out.with_extension("emf"))
            .arg(&flipped)
            .assert()
            .code(1);
    };
    windowed(&out, "cpu");
    // Metrics per window: the last window's in Prometheus' text, every window's in EMF.
    let prom = std::fs::read_to_string(out.with_extension("prom")).unwrap();
    assert!(
        prom.contains("driftscope_multivariate_drifted{endpoint=\"driftscope\",monitoring_schedule=\"driftscope\"} 1"),
        "{prom}"
    );
    assert!(prom.contains("driftscope_multivariate_reconstruction_error{"), "{prom}");
    crate::common::promtool_check(&prom);
    let emf = std::fs::read_to_string(out.with_extension("emf")).unwrap();
    let drifted: Vec<f64> = emf
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter_map(|r| r["multivariate_drifted"].as_f64())
        .collect();
    assert_eq!(drifted, vec![1.0; 4], "one record per window, each drifted");
    let d = json(&out.join("drift.json"));
    assert_eq!(d["summary"]["features_drifted"], 0, "each feature's own distribution is unchanged");
    assert_eq!(d["multivariate"]["drift"], true, "{}", d["multivariate"]);
    let v = json(&out.join("constraint_violations.json"));
    let kinds: Vec<&str> =
        v["violations"].as_array().unwrap().iter().map(|v| v["constraint_check_type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["multivariate_drift_check"]);
    if crate::parity::gpu().is_some() {
        // The baseline's covariance summed in the GPU's kernel: the same model, to the byte.
        let on_gpu = dir.path().join("base-gpu");
        driftscope()
            .args(["baseline", "-q", "--backend", "gpu", "--multivariate", "-o"])
            .arg(&on_gpu)
            .arg(&train)
            .assert()
            .success();
        let model = "multivariate.json";
        let (a, b) = (std::fs::read(base.join(model)).unwrap(), std::fs::read(on_gpu.join(model)).unwrap());
        assert!(a == b, "{model}: cpu vs gpu");
        let gpu = dir.path().join("flipped-gpu");
        windowed(&gpu, "gpu");
        for f in ["drift.json", "constraint_violations.json", "profile.json", "multivariate.csv", "windows.csv"] {
            let (a, b) = (std::fs::read_to_string(out.join(f)).unwrap(), std::fs::read_to_string(gpu.join(f)).unwrap());
            let strip = |s: &str| s.lines().filter(|l| !l.contains("\"backend\"")).collect::<Vec<_>>().join("\n");
            assert_eq!(strip(&a), strip(&b), "{f}: cpu vs gpu");
        }
    }
}

#[test]
fn a_reconstruction_it_cannot_fit_is_named() {
    let dir = TempDir::new().unwrap();
    let train = dir.path().join("train.parquet");
    correlated(&train, 1_000, 4, 0.5);
    let said = |extra: &[&str], out: &str| {
        let a = baseline(&dir.path().join(out), &train, extra).code(2);
        String::from_utf8_lossy(&a.get_output().stderr).to_string()
    };
    let e = said(&["--multivariate-columns", "x"], "a");
    assert!(e.contains("--multivariate") && e.contains("at least 2"), "{e}");
    let e = said(&["--multivariate-columns", "x,nope"], "b");
    assert!(e.contains("'nope'"), "{e}");
    assert!(!dir.path().join("a/statistics.json").exists(), "no half-made baseline");
    // Constant features: nothing to explain.
    let flat = dir.path().join("flat.parquet");
    write_parquet(
        &flat,
        vec![("a", arr(Float64Array::from(vec![1.0; 50]))), ("b", arr(Float64Array::from(vec![2.0; 50])))],
        50,
    );
    let a = baseline(&dir.path().join("c"), &flat, &["--multivariate"]).code(2);
    let e = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(e.contains("constant"), "{e}");
    // One chunk gives no range.
    let e = said(&["--multivariate", "--multivariate-chunk-rows", "1000"], "d");
    assert!(e.contains("1 chunk(s)") && e.contains("at least 2"), "{e}");
    // A constant feature beside varying ones: kept (it adds nothing), said, never a NaN.
    let mixed = dir.path().join("mixed.parquet");
    let x: Vec<f64> = (0..500).map(|i| (i as f64 * 0.1).sin()).collect();
    let y: Vec<f64> = (0..500).map(|i| (i as f64 * 0.37).cos()).collect();
    write_parquet(
        &mixed,
        vec![
            ("x", arr(Float64Array::from(x))),
            ("y", arr(Float64Array::from(y))),
            ("k", arr(Float64Array::from(vec![3.0; 500]))),
        ],
        100,
    );
    baseline(&dir.path().join("e"), &mixed, &["--multivariate"]).success();
    let text = std::fs::read_to_string(dir.path().join("e/multivariate.json")).unwrap();
    let m: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(m["constant"], serde_json::json!(["k"]));
    assert!(!text.contains("NaN") && !text.contains("null"), "{text}");
}

/// A calibrated baseline judges by the same model: `calibrate` carries `multivariate.json` over.
#[test]
fn a_calibrated_baseline_keeps_its_model() {
    let dir = TempDir::new().unwrap();
    let train = dir.path().join("train.parquet");
    correlated(&train, 20_000, 5, 0.8);
    let base = dir.path().join("base");
    baseline(&base, &train, &["--multivariate"]).success();
    let calibrated = dir.path().join("calibrated");
    driftscope()
        .args(["calibrate", "-q", "--window-rows", "1000", "--false-alarm-rate", "0.05", "-b"])
        .arg(&base)
        .arg("-o")
        .arg(&calibrated)
        .arg(&train)
        .assert()
        .success();
    assert_eq!(
        std::fs::read(base.join("multivariate.json")).unwrap(),
        std::fs::read(calibrated.join("multivariate.json")).unwrap()
    );
}

/// Each segment is judged by its own mean reconstruction error: the segment whose features
/// decoupled drifts, the other does not.
#[test]
fn each_segment_has_its_own_reconstruction_error() {
    let dir = TempDir::new().unwrap();
    let write = |path: &Path, seed: u64, rho_b: f64| {
        let mut state = seed;
        let mut normal = move || {
            let mut u = || (driftscope::codec::splitmix64(&mut state) >> 11) as f64 / (1u64 << 53) as f64;
            (-2.0 * u().max(1e-300).ln()).sqrt() * (std::f64::consts::TAU * u()).cos()
        };
        let (mut g, mut x, mut y) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..20_000 {
            let b = i % 2 == 1;
            let rho = if b { rho_b } else { 0.9 };
            let (a, c) = (normal(), normal());
            g.push(if b { "b" } else { "a" });
            x.push(a);
            y.push(rho * a + (1.0 - rho * rho).sqrt() * c);
        }
        write_parquet(
            path,
            vec![
                ("g", arr(arrow_array::StringArray::from(g))),
                ("x", arr(Float64Array::from(x))),
                ("y", arr(Float64Array::from(y))),
            ],
            4_096,
        );
    };
    let (train, capture) = (dir.path().join("train.parquet"), dir.path().join("capture.parquet"));
    write(&train, 21, 0.9);
    write(&capture, 22, -0.9);
    let base = dir.path().join("base");
    baseline(&base, &train, &["--multivariate", "--segment-by", "g"]).success();
    let m = json(&base.join("multivariate.json"));
    assert_eq!(m["pca"]["standardize"]["columns"], serde_json::json!(["x", "y"]), "the segment column is left out");
    let out = dir.path().join("mon");
    driftscope()
        .args(["monitor", "-q", "--segment-by", "g", "-b"])
        .arg(&base)
        .arg("-o")
        .arg(&out)
        .arg(&capture)
        .assert()
        .code(1);
    let ranked = json(&out.join("drift.json"))["segments"]["ranked"].clone();
    let drift = |seg: &str| {
        ranked.as_array().unwrap().iter().find(|r| r["segment"] == seg).unwrap()["multivariate_drift"].clone()
    };
    assert_eq!((drift("g=a"), drift("g=b")), (serde_json::json!(false), serde_json::json!(true)));
    let v = json(&out.join("segments/g=b/constraint_violations.json"));
    assert!(v["violations"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["constraint_check_type"] == "multivariate_drift_check"));
    let v = json(&out.join("segments/g=a/constraint_violations.json"));
    assert_eq!(v["violations"], serde_json::json!([]));
}

/// The kernel two-sample test (`--mmd`): no drift on the baseline's own distribution; drift
/// for a shift along the first component, which the reconstruction error cannot see; each
/// window's figures those of its rows monitored alone; the same on both backends; its
/// metrics accepted by promtool.
#[test]
fn the_kernel_test_finds_what_the_reconstruction_misses() {
    let dir = TempDir::new().unwrap();
    let p = |n: &str| dir.path().join(n);
    correlated(&p("train.parquet"), 20_000, 11, 0.9);
    correlated(&p("same.parquet"), 20_000, 12, 0.9);
    for i in 0..4 {
        shifted(&p(&format!("moved-{i}.parquet")), 5_000, 20 + i, 0.9, 0.3);
    }
    let base = p("base");
    baseline(&base, &p("train.parquet"), &["--mmd"]).success();
    let m = json(&base.join("multivariate.json"));
    assert_eq!(m["mmd"]["random_features"]["count"], 128);
    assert_eq!(m["mmd"]["chunks"].as_array().unwrap().len(), 10);
    let monitor = |inputs: &[PathBuf], out: &Path, extra: &[&str]| {
        driftscope().args(["monitor", "-q", "-b"]).arg(&base).arg("-o").arg(out).args(extra).args(inputs).assert()
    };
    monitor(&[p("same.parquet")], &p("same"), &["--backend", "cpu"]).success();
    let d = json(&p("same/drift.json"));
    assert_eq!(d["mmd"]["drift"], false, "{}", d["mmd"]);
    assert!(d["mmd"]["p_value"].as_f64().unwrap() > 0.05, "{}", d["mmd"]);
    let moved: Vec<PathBuf> = (0..4).map(|i| p(&format!("moved-{i}.parquet"))).collect();
    let windowed = |out: &Path, backend: &str| {
        let prom = out.with_extension("prom");
        let a = ["--backend", backend, "--window-rows", "5000", "--prometheus", prom.to_str().unwrap()];
        monitor(&moved, out, &a).code(1);
    };
    windowed(&p("moved"), "cpu");
    let d = json(&p("moved/drift.json"));
    assert_eq!(d["mmd"]["drift"], true, "{}", d["mmd"]);
    assert_eq!(d["mmd"]["windows_with_drift"], 4, "{}", d["mmd"]);
    assert_eq!(d["multivariate"]["drift"], false, "a shift along the component: {}", d["multivariate"]);
    let v = json(&p("moved/constraint_violations.json"));
    assert!(v["violations"].as_array().unwrap().iter().any(|v| v["constraint_check_type"] == "mmd_drift_check"));
    let w = json(&p("moved/windows/rows/000000000/constraint_violations.json"));
    assert!(w["violations"].as_array().unwrap().iter().any(|v| v["constraint_check_type"] == "mmd_drift_check"), "{w}");
    let prom = std::fs::read_to_string(p("moved.prom")).unwrap();
    assert!(
        prom.contains("driftscope_mmd_drifted{endpoint=\"driftscope\",monitoring_schedule=\"driftscope\"} 1"),
        "{prom}"
    );
    crate::common::promtool_check(&prom);
    // Each window's figures are those of its rows alone (integer sums: exactly).
    let table = csv_maps(&p("moved/mmd.csv"));
    assert_eq!(table.len(), 4);
    for (i, row) in table.iter().enumerate() {
        let alone = p(&format!("alone-{i}"));
        monitor(&moved[i..=i], &alone, &["--backend", "cpu"]).code(1);
        let a = json(&alone.join("drift.json"));
        for f in ["statistic", "mmd2", "p_value"] {
            assert_eq!(row[f], a["mmd"][f].as_f64().unwrap().to_string(), "window {i} {f}");
        }
    }
    if crate::parity::gpu().is_some() {
        windowed(&p("moved-gpu"), "gpu");
        for f in ["mmd.csv", "constraint_violations.json"] {
            let (a, b) = (std::fs::read(p("moved").join(f)).unwrap(), std::fs::read(p("moved-gpu").join(f)).unwrap());
            assert_eq!(a, b, "{f}: cpu vs gpu");
        }
    }
}

/// The kernel test's mistakes are named: too many or no random features, one chunk.
#[test]
fn a_kernel_test_it_cannot_fit_is_named() {
    let dir = TempDir::new().unwrap();
    let train = dir.path().join("train.parquet");
    correlated(&train, 1_000, 4, 0.5);
    let said = |extra: &[&str], out: &str| {
        let a = baseline(&dir.path().join(out), &train, extra).code(2);
        String::from_utf8_lossy(&a.get_output().stderr).to_string()
    };
    for n in ["0", "5000"] {
        let e = said(&["--mmd-features", n], n);
        assert!(e.contains("--mmd-features") && e.contains("1 to 4096"), "{e}");
    }
    let e = said(&["--mmd", "--multivariate-chunk-rows", "1000"], "one");
    assert!(e.contains("1 chunk(s)") && e.contains("at least 2"), "{e}");
    assert!(!dir.path().join("one/statistics.json").exists(), "no half-made baseline");
}

/// A change made to a model file.
type Damage = fn(&mut serde_json::Value);

/// A damaged `multivariate.json` (parts of the wrong size, a figure that is not finite) is a
/// named error of the file, before anything is written; never a panic.
#[test]
fn a_damaged_multivariate_model_is_named() {
    let dir = TempDir::new().unwrap();
    let train = dir.path().join("train.parquet");
    correlated(&train, 4_000, 7, 0.5);
    let base = dir.path().join("base");
    baseline(&base, &train, &["--mmd-features", "8"]).success();
    let file = base.join("multivariate.json");
    let good: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let damages: [(&str, Damage); 4] = [
        ("phases", |m| m["mmd"]["random_features"]["phases"].as_array_mut().unwrap().truncate(3)),
        ("frequencies", |m| {
            m["mmd"]["random_features"]["frequencies"].as_array_mut().unwrap().pop().map(drop).unwrap()
        }),
        ("components", |m| m["pca"]["components"][0].as_array_mut().unwrap().truncate(1)),
        ("means", |m| m["pca"]["standardize"]["means"].as_array_mut().unwrap().truncate(1)),
    ];
    for (what, damage) in damages {
        let mut m = good.clone();
        damage(&mut m);
        std::fs::write(&file, serde_json::to_string(&m).unwrap()).unwrap();
        let out = dir.path().join(format!("out-{what}"));
        let a = driftscope().args(["monitor", "-q", "-b"]).arg(&base).arg("-o").arg(&out).arg(&train).assert().code(2);
        let e = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        assert!(e.contains("multivariate.json") && e.contains("damaged"), "{what}: {e}");
        assert!(!out.join("drift.json").exists(), "{what}: nothing written");
    }
}
