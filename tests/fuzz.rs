//! Fuzzing on stable Rust: byte mutations, driven by proptest, of real files — Parquet inputs,
//! the baseline's statistics.json, constraints.json and profile.json, and a checkpoint. Every
//! mutation must give a named error or a result, never a panic or a hang. Bounded here (64 cases
//! per target, in-process); `PROPTEST_CASES=100000 cargo test --release fuzz` runs longer.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use driftscope::backend::cpu::CpuBackend;
use driftscope::engine::{profile_files, Checkpoint, ProfilePlan, Request};
use driftscope::jobs::{run_baseline, JobOptions};
use driftscope::judge::baseline::Baseline;
use proptest::prelude::*;

use crate::common::root;

/// A real baseline folder (made once) and a checkpoint of a real run.
fn seeds() -> &'static (PathBuf, Vec<u8>) {
    static SEEDS: OnceLock<(PathBuf, Vec<u8>)> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("driftscope-fuzz-seeds-{}", std::process::id()));
        let opts = JobOptions::new(vec![root().join("data/baseline.parquet").display().to_string()], dir.join("base"));
        run_baseline(&opts).unwrap();
        let s =
            driftscope::source::scan::scan(&[root().join("data/current.parquet").display().to_string()], &|_| false);
        let plan = ProfilePlan::default();
        let pb = driftscope::engine::progress::Progress::hidden();
        let cp = Checkpoint {
            path: dir.join("cp.json"),
            resume: false,
            key: "k".into(),
            save: driftscope::output::write_atomic_with,
        };
        profile_files(&s.files, &Request { plan: &plan, backend: &CpuBackend, progress: &pb, tap: None }, Some(&cp))
            .unwrap();
        (dir.clone(), std::fs::read(&cp.path).unwrap())
    })
}

/// Flips bytes at the given relative positions and maybe cuts the tail.
fn mutate(bytes: &[u8], flips: &[(u32, u8)], cut: Option<u32>) -> Vec<u8> {
    let mut b = bytes.to_vec();
    for &(at, x) in flips {
        let i = (at as usize) % b.len().max(1);
        if let Some(v) = b.get_mut(i) {
            *v ^= x | 1;
        }
    }
    if let Some(c) = cut {
        b.truncate((c as usize) % (b.len() + 1));
    }
    b
}

fn mutations() -> impl Strategy<Value = (Vec<(u32, u8)>, Option<u32>)> {
    (prop::collection::vec((any::<u32>(), any::<u8>()), 1..8), prop::option::weighted(0.2, any::<u32>()))
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn fuzz_parquet_inputs((flips, cut) in mutations()) {
        let good = std::fs::read(root().join("data/current.parquet")).unwrap();
        let d = tempfile::tempdir().unwrap();
        let f = write(d.path(), "broken.parquet", &mutate(&good, &flips, cut));
        let s = driftscope::source::scan::scan(&[f.display().to_string()], &|_| false);
        let pb = driftscope::engine::progress::Progress::hidden();
        let plan = ProfilePlan::default();
        let out = profile_files(&s.files, &Request { plan: &plan, backend: &CpuBackend, progress: &pb, tap: None }, None).unwrap();
        // Either the file was read, or it is named as skipped with a one-line reason.
        for k in s.skipped.iter().chain(&out.skipped) {
            prop_assert!(k.path.contains("broken.parquet") && !k.error.contains('\n'), "{k:?}");
        }
    }

    #[test]
    fn fuzz_baseline_files(which in 0usize..3, (flips, cut) in mutations()) {
        let (seed, _) = seeds();
        let names = ["statistics.json", "constraints.json", "profile.json"];
        let d = tempfile::tempdir().unwrap();
        for n in names {
            std::fs::copy(seed.join("base").join(n), d.path().join(n)).unwrap();
        }
        let good = std::fs::read(seed.join("base").join(names[which])).unwrap();
        write(d.path(), names[which], &mutate(&good, &flips, cut));
        // A loaded baseline is used as monitor would use it: every reference and edge.
        if let Ok(b) = Baseline::load(d.path()) {
            for n in b.feature_names() {
                let _ = b.reference(&n);
                let _ = b.config(&n);
            }
            let _ = b.edges();
        }
    }

    #[test]
    fn fuzz_checkpoints((flips, cut) in mutations()) {
        let (_, good) = seeds();
        let d = tempfile::tempdir().unwrap();
        let cp = Checkpoint { path: write(d.path(), "cp.json", &mutate(good, &flips, cut)), resume: true, key: "k".into(), save: driftscope::output::write_atomic_with };
        let s = driftscope::source::scan::scan(&[root().join("data/current.parquet").display().to_string()], &|_| false);
        let plan = ProfilePlan::default();
        let pb = driftscope::engine::progress::Progress::hidden();
        let out = profile_files(&s.files, &Request { plan: &plan, backend: &CpuBackend, progress: &pb, tap: None }, Some(&cp)).unwrap();
        // A checkpoint is sealed by its fingerprint: any damage makes it ignored, and the file
        // is profiled from scratch, never resumed from a silently wrong number.
        prop_assert_eq!(out.resumed, 0);
        prop_assert_eq!(out.profile.rows, 20_000);
    }

    #[test]
    fn fuzz_capture_and_ground_truth_json_lines(which in 0usize..3, (flips, cut) in mutations()) {
        // Captures, ground truth and CSV: scanned, profiled, and scored as model quality.
        let names = ["bc_capture.jsonl", "bc_truth_1.jsonl", "breast_cancer.csv"];
        let good = std::fs::read(root().join("tests/data/quality").join(names[which])).unwrap();
        let d = tempfile::tempdir().unwrap();
        let f = write(d.path(), names[which], &mutate(&good, &flips, cut));
        let s = driftscope::source::scan::scan(&[f.display().to_string()], &|_| false);
        for w in &s.warnings {
            prop_assert!(w.contains(names[which]) && w.contains("line ") && !w.contains('\n'), "{w}");
        }
        let pb = driftscope::engine::progress::Progress::hidden();
        let plan = ProfilePlan::default();
        let out = profile_files(&s.files, &Request { plan: &plan, backend: &CpuBackend, progress: &pb, tap: None }, None).unwrap();
        for k in s.skipped.iter().chain(&out.skipped) {
            prop_assert!(k.path.contains(names[which]) && !k.error.contains('\n'), "{k:?}");
        }
        let settings = driftscope::quality::QualitySettings {
            probability: Some(if which == 2 { "probability" } else { "_c0" }.into()),
            ..driftscope::quality::QualitySettings::new(driftscope::quality::ProblemType::BinaryClassification, "label")
        };
        let truth = driftscope::source::scan::scan(&[root().join("tests/data/quality/bc_truth_2.jsonl").display().to_string()], &|_| false);
        let req = driftscope::quality::join::QualityRequest {
            settings: &settings,
            predictions: &s.files,
            ground_truth: (which != 2).then_some(truth.files.as_slice()),
            id_column: (which == 2).then_some("id"),
            memory_limit: 1 << 30,
            spill_dir: d.path(),
            window: None,
        };
        // A result or a one-line error; never a panic, never NaN.
        match driftscope::quality::join::score(&req) {
            Ok(o) => prop_assert!(o.metrics.values.values().all(|m| m.value.is_finite())),
            Err(e) => prop_assert!(!e.to_string().contains('\n'), "{e}"),
        }
    }

    #[test]
    fn a_digit_changed_in_a_checkpoint_is_not_resumed(pick in any::<u32>()) {
        let (_, good) = seeds();
        // Change one digit to another digit: still valid JSON of this job.
        let digits: Vec<usize> = good.iter().enumerate().filter(|(_, b)| b.is_ascii_digit()).map(|(i, _)| i).collect();
        let at = digits[pick as usize % digits.len()];
        let mut bad = good.clone();
        bad[at] = if bad[at] == b'9' { b'0' } else { bad[at] + 1 };
        let d = tempfile::tempdir().unwrap();
        let cp = Checkpoint { path: write(d.path(), "cp.json", &bad), resume: true, key: "k".into(), save: driftscope::output::write_atomic_with };
        let s = driftscope::source::scan::scan(&[root().join("data/current.parquet").display().to_string()], &|_| false);
        let plan = ProfilePlan::default();
        let pb = driftscope::engine::progress::Progress::hidden();
        let out = profile_files(&s.files, &Request { plan: &plan, backend: &CpuBackend, progress: &pb, tap: None }, Some(&cp)).unwrap();
        prop_assert_eq!(out.resumed, 0);
    }
}
