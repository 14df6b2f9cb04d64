use driftscope::jobs::{run_baseline, JobOptions};

use crate::common::*;

fn rel(name: &str, got: f64, want: f64) {
    assert!((got - want).abs() <= 1e-12 * want.abs().max(1.0), "{name}: got {got}, numpy {want}");
}

#[test]
fn statistics_match_numpy() {
    let d = tempfile::tempdir().unwrap();
    let opts = JobOptions::new(
        vec![root().join("tests/data/stats_input.parquet").display().to_string()],
        d.path().to_path_buf(),
    );
    let out = run_baseline(&opts).unwrap();
    let want = json(&root().join("tests/data/stats_expected.json"));
    for name in ["f", "i", "numtext"] {
        let c = out.profile.column(name).unwrap();
        let w = &want[name];
        let u = |k: &str| w[k].as_u64().unwrap();
        assert_eq!(c.rows, u("rows"), "{name} rows");
        assert_eq!(c.missing, u("missing"), "{name} missing");
        if name != "numtext" {
            assert_eq!((c.nan, c.pos_inf, c.neg_inf), (u("nan"), u("pos_inf"), u("neg_inf")), "{name}");
        }
        assert_eq!(c.moments.n, u("count"), "{name} count");
        rel(name, c.moments.mean().unwrap(), w["mean"].as_f64().unwrap());
        rel(name, c.moments.std_dev().unwrap(), w["std_dev"].as_f64().unwrap());
        rel(name, c.moments.total().unwrap(), w["sum"].as_f64().unwrap());
        assert_eq!(c.moments.min.unwrap(), w["min"].as_f64().unwrap());
        assert_eq!(c.moments.max.unwrap(), w["max"].as_f64().unwrap());
        if name != "numtext" {
            // The exact histogram accounts for every finite value ("numtext" holds "n/a", so it
            // is a String column and gets no numeric histogram).
            assert_eq!(c.histogram.as_ref().unwrap().total(), u("count"), "{name} histogram total");
        }
    }
    let nt = out.profile.column("numtext").unwrap();
    assert_eq!(nt.types.string, want["numtext"]["string_values"].as_u64().unwrap());
    assert_eq!(nt.inferred_type(), driftscope::profile::InferredType::String);
    let s = out.profile.column("s").unwrap();
    for (k, v) in want["s"].as_object().unwrap() {
        assert_eq!(s.categories.exact.get(k).copied(), v.as_u64(), "s[{k}]");
    }
    assert!(s.arrow_type.starts_with("Dictionary"), "dictionary kept: {}", s.arrow_type);
    let a = out.profile.column("allnull").unwrap();
    assert_eq!((a.rows, a.missing, a.moments.n), (5000, 5000, 0));
    assert_eq!(a.moments.mean(), None);
}
