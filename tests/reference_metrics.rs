use driftwatch::compare;

use crate::common::*;

fn close(name: &str, metric: &str, got: f64, want: f64) {
    let tol = 1e-9 * want.abs().max(1e-12) + 1e-15;
    // p-values far in the tail are compared on a log scale.
    if want > 0.0 && want < 1e-100 {
        assert!((got.ln() - want.ln()).abs() < 1e-6, "{name} {metric}: got {got}, scipy {want}");
        return;
    }
    assert!((got - want).abs() <= tol, "{name} {metric}: got {got}, scipy {want}");
}

#[test]
fn numeric_metrics_match_scipy() {
    let r = json(&root().join("tests/data/reference_metrics.json"));
    for case in r["numeric"].as_array().unwrap() {
        let v = |k: &str| -> Vec<f64> { case[k].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect() };
        let name = case["name"].as_str().unwrap();
        let m = compare::numeric(
            &v("edges"),
            &v("base"),
            &v("cur"),
            case["lowest"].as_f64().unwrap(),
            case["base_std"].as_f64(),
        )
        .unwrap();
        let e = &case["expected"];
        let want = |k: &str| e[k].as_f64().unwrap();
        close(name, "linf_simple", m.linf_simple, want("linf_simple"));
        close(name, "linf_robust", m.linf_robust, want("linf_robust"));
        close(name, "ks_pvalue", m.ks_pvalue, want("ks_pvalue"));
        close(name, "psi", m.psi, want("psi"));
        close(name, "kl_divergence", m.kl_divergence, want("kl_divergence"));
        close(name, "js_distance", m.js_distance, want("js_distance"));
        close(name, "hellinger", m.hellinger, want("hellinger"));
        close(name, "wasserstein", m.wasserstein, want("wasserstein"));
        close(name, "wasserstein_normalized", m.wasserstein_normalized.unwrap(), want("wasserstein_normalized"));
    }
}

#[test]
fn categorical_metrics_match_scipy() {
    let r = json(&root().join("tests/data/reference_metrics.json"));
    for case in r["categorical"].as_array().unwrap() {
        let v = |k: &str| -> Vec<f64> { case[k].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect() };
        let unseen: Vec<bool> = case["unseen"].as_array().unwrap().iter().map(|x| x.as_bool().unwrap()).collect();
        let name = case["name"].as_str().unwrap();
        let m = compare::categorical(&v("base"), &v("cur"), &unseen).unwrap();
        let e = &case["expected"];
        let want = |k: &str| e[k].as_f64().unwrap();
        close(name, "linf_simple", m.linf_simple, want("linf_simple"));
        close(name, "linf_robust", m.linf_robust, want("linf_robust"));
        close(name, "psi", m.psi, want("psi"));
        close(name, "chi2_statistic", m.chi2_statistic.unwrap(), want("chi2_statistic"));
        assert_eq!(m.chi2_dof, e["chi2_dof"].as_u64().unwrap(), "{name} dof");
        close(name, "chi2_pvalue", m.chi2_pvalue, want("chi2_pvalue"));
        close(name, "js_distance", m.js_distance, want("js_distance"));
        close(name, "unseen_share", m.unseen_share, want("unseen_share"));
    }
}
