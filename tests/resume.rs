use driftscope::backend::cpu::CpuBackend;
use driftscope::engine::progress::Progress;
use driftscope::engine::{profile_files, Checkpoint, ProfilePlan, Request};
use driftscope::profile::Role;
use driftscope::source::scan::scan;
use driftscope::source::synth::{write_capture, CaptureSpec};

/// A run interrupted after some files leaves a checkpoint holding exactly what a run over those
/// files folded; resuming from it skips them and gives the uninterrupted run's profile, bytes
/// for bytes once serialized.
#[test]
fn resume_equals_uninterrupted_run() {
    let d = tempfile::tempdir().unwrap();
    for i in 0..6 {
        let spec = CaptureSpec {
            rows: 3000 + 500 * i,
            seed: 10 + i as u64,
            drifted: i % 2 == 1,
            row_group: 1000,
            ..Default::default()
        };
        write_capture(&d.path().join(format!("part-{i}.parquet")), &spec).unwrap();
    }
    let s = scan(&[d.path().display().to_string()], &Role::is_identifier_name);
    assert_eq!(s.files.len(), 6);
    let plan = ProfilePlan { edges: [("f0".to_string(), vec![-1.0, 0.0, 1.0].into())].into(), ..Default::default() };
    let pb = Progress::hidden();
    let req = Request { plan: &plan, backend: &CpuBackend, progress: &pb, tap: None };
    let whole = profile_files(&s.files, &req, None).unwrap();

    let cp = Checkpoint {
        path: d.path().join("out/.checkpoint.json"),
        resume: false,
        key: "job".into(),
        save: driftscope::output::write_atomic_with,
    };
    let prefix = profile_files(&s.files[..4], &req, Some(&cp)).unwrap();
    assert!(cp.path.is_file(), "checkpoint written");
    assert_eq!(prefix.files.len(), 4);

    let resumed = profile_files(&s.files, &req, Some(&Checkpoint { resume: true, ..cp.clone() })).unwrap();
    assert_eq!(resumed.resumed, 4);
    let (a, b) = (serde_json::to_string(&resumed.profile).unwrap(), serde_json::to_string(&whole.profile).unwrap());
    assert!(a == b, "resumed profile differs from the uninterrupted one");
    assert_eq!(resumed.files, whole.files);

    // A checkpoint of another job (different key) or of changed files is ignored.
    let other =
        profile_files(&s.files, &req, Some(&Checkpoint { resume: true, key: "other".into(), ..cp.clone() })).unwrap();
    assert_eq!(other.resumed, 0);
    std::fs::write(&s.files[0].path, b"changed").unwrap();
    let changed = profile_files(&s.files[1..], &req, Some(&Checkpoint { resume: true, ..cp })).unwrap();
    assert_eq!(changed.resumed, 0);
}

/// The same with rows keyed by time window: the checkpoint keeps every window (their bin edges
/// written once, with the whole profile's; their sparse counts as bins and counts) and resuming
/// gives the uninterrupted run's windows.
#[test]
fn windowed_resume_equals_uninterrupted_run() {
    let d = tempfile::tempdir().unwrap();
    for i in 0..4 {
        let spec = CaptureSpec { rows: 4000, seed: 30 + i as u64, row_group: 1500, ..Default::default() };
        write_capture(&d.path().join(format!("part-{i}.parquet")), &spec).unwrap();
    }
    let s = scan(&[d.path().display().to_string()], &Role::is_identifier_name);
    // 121 bins: a window's rows touch a few of them, so windows keep sparse counts.
    let edges: Vec<f64> = (-60..60).map(|i| f64::from(i) / 20.0).collect();
    let plan = ProfilePlan {
        edges: [("f0".to_string(), edges.clone().into())].into(),
        segment: driftscope::engine::SegmentKey::Window {
            // Windows of 20 rows in the inputs' order (a prefix of the files keys its rows as
            // the whole run does): each touches a few of f0's bins.
            column: driftscope::engine::INPUT_ORDER.into(),
            window: driftscope::engine::window::Window::rows(20),
            limit: 10_000,
        },
        ..Default::default()
    };
    let pb = Progress::hidden();
    let req = Request { plan: &plan, backend: &CpuBackend, progress: &pb, tap: None };
    let whole = profile_files(&s.files, &req, None).unwrap();
    assert!(whole.segments.windows().count() > 1, "the capture spans several windows");
    // Hundreds of windows: their pairs are encoded in parallel, and written as the pairs encoded
    // one after the other would be.
    let pairs: Vec<_> = whole.segments.segments.iter().collect();
    assert!(pairs.len() > 600, "{} windows", pairs.len());
    assert!(
        serde_json::to_string(&whole.segments).unwrap()
            == format!("{{\"segments\":{}}}", serde_json::to_string(&pairs).unwrap()),
        "a set's JSON differs from its pairs' one by one"
    );
    let cp = Checkpoint {
        path: d.path().join("out/.checkpoint.json"),
        resume: false,
        key: "job".into(),
        save: driftscope::output::write_atomic_with,
    };
    profile_files(&s.files[..2], &req, Some(&cp)).unwrap();
    let text = std::fs::read_to_string(&cp.path).unwrap();
    assert_eq!(text.matches(&serde_json::to_string(&edges).unwrap()).count(), 1, "edges written once");
    assert!(text.contains("\"at\":[["), "windows' sparse counts written as bins and counts");
    let resumed = profile_files(&s.files, &req, Some(&Checkpoint { resume: true, ..cp })).unwrap();
    assert_eq!(resumed.resumed, 2);
    assert_eq!(serde_json::to_string(&resumed.segments).unwrap(), serde_json::to_string(&whole.segments).unwrap());
    let f0 = resumed.segments.windows().next().unwrap().1.column("f0").unwrap();
    assert_eq!(&f0.histogram.as_ref().unwrap().edges[..], &edges[..]);
}

/// A monitoring run whose pass feeds taps (performance estimation, the kernel test), killed
/// after its first checkpoint and resumed with `--resume`, writes what an uninterrupted run
/// writes: the taps read again the files the checkpoint took.
#[test]
fn a_run_with_taps_killed_and_resumed_writes_the_same_files() {
    use crate::common::{driftscope, json};
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| d.path().join(n);
    let spec = CaptureSpec { rows: 20_000, seed: 1, row_group: 5_000, ..Default::default() };
    write_capture(&p("train.parquet"), &spec).unwrap();
    std::fs::create_dir(p("in")).unwrap();
    // About ten seconds of a debug build's run: the first checkpoint comes after two.
    for i in 0..20 {
        let spec =
            CaptureSpec { rows: 30_000, seed: 100 + i, drifted: i % 3 == 0, row_group: 10_000, ..Default::default() };
        write_capture(&p(&format!("in/part-{i:02}.parquet")), &spec).unwrap();
    }
    let quality = ["--problem-type", "BinaryClassification", "--label", "label", "--probability", "prediction"];
    driftscope()
        .args(["baseline", "-q", "--backend", "cpu", "--mmd-features", "8", "--estimate-performance", "-o"])
        .arg(p("base"))
        .args(quality)
        .arg(p("train.parquet"))
        .assert()
        .success();
    let args = |out: &str| -> Vec<std::ffi::OsString> {
        let mut v: Vec<std::ffi::OsString> =
            ["monitor", "-q", "--backend", "cpu", "--window", "6h", "--time-column", "event_time", "-b"]
                .iter()
                .map(Into::into)
                .collect();
        v.extend([p("base").into(), "-o".into(), p(out).into()]);
        v.extend(quality.iter().map(Into::into));
        v.push(p("in").into());
        v
    };
    let full = driftscope().args(args("full")).output().unwrap();
    // Killed once the pass has checkpointed some files.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("driftscope"))
        .args(args("part"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let checkpoint = p("part/.driftscope-checkpoint-monitor.json");
    let started = std::time::Instant::now();
    while !checkpoint.is_file() {
        assert!(child.try_wait().unwrap().is_none(), "the run ended before its first checkpoint: give it more rows");
        assert!(started.elapsed().as_secs() < 120, "no checkpoint after two minutes");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let resumed = driftscope().args(args("part")).arg("--resume").output().unwrap();
    assert_eq!(resumed.status.code(), full.status.code(), "{}", String::from_utf8_lossy(&resumed.stderr));
    let drift = json(&p("part/drift.json"));
    assert!(drift["current"]["resumed_files"].as_u64().unwrap() > 0, "the checkpoint was used");
    for f in ["mmd.csv", "model_quality/estimated.csv", "windows.csv", "constraint_violations.json"] {
        let (a, b) = (std::fs::read(p("full").join(f)).unwrap(), std::fs::read(p("part").join(f)).unwrap());
        assert!(a == b, "{f}: the resumed run differs from the uninterrupted one");
    }
    let full_drift = json(&p("full/drift.json"));
    for k in ["mmd", "estimated_performance", "multivariate"] {
        assert_eq!(drift[k], full_drift[k], "{k}");
    }
}
