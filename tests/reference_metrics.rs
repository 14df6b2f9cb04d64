use driftscope::judge::compare;

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

fn spread(case: &serde_json::Value) -> compare::Spread {
    let f = |v: &serde_json::Value| v.as_f64();
    compare::Spread {
        span: (f(&case["span"][0]).unwrap(), f(&case["span"][1]).unwrap()),
        tails: (f(&case["tails"][0]), f(&case["tails"][1])),
        discrete: case["discrete"].as_bool().unwrap(),
    }
}

fn numbers(case: &serde_json::Value, k: &str) -> Vec<f64> {
    case[k].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

#[test]
fn numeric_metrics_match_scipy() {
    let r = json(&root().join("tests/data/reference_metrics.json"));
    for case in r["numeric"].as_array().unwrap() {
        let v = |k: &str| numbers(case, k);
        let name = case["name"].as_str().unwrap();
        let m = compare::numeric(&v("edges"), &v("base"), &v("cur"), &spread(case), case["base_std"].as_f64()).unwrap();
        let e = &case["expected"];
        let want = |k: &str| e[k].as_f64().unwrap();
        close(name, "linf_simple", m.linf_simple, want("linf_simple"));
        close(name, "linf_robust", m.linf_robust, want("linf_robust"));
        close(name, "ks_pvalue", m.ks_pvalue, want("ks_pvalue"));
        close(name, "psi", m.psi, want("psi"));
        close(name, "kl_divergence", m.kl_divergence, want("kl_divergence"));
        close(name, "js_distance", m.js_distance, want("js_distance"));
        close(name, "hellinger", m.hellinger, want("hellinger"));
        // The reference integrates numerically (scipy's quad).
        let w = want("wasserstein");
        assert!((m.wasserstein - w).abs() <= 1e-9 * w.abs() + 1e-12, "{name}: W1 {} against {w}", m.wasserstein);
        let wn = want("wasserstein_normalized");
        assert!((m.wasserstein_normalized.unwrap() - wn).abs() <= 1e-9 * wn.abs() + 1e-12, "{name}");
        close(name, "tv_distance", m.tv_distance, want("tv_distance"));
        // The energy distance's reference integrates numerically too.
        let en = want("energy_distance");
        assert!(
            (m.energy_distance - en).abs() <= 1e-9 * en + 1e-12,
            "{name}: energy {} against {en}",
            m.energy_distance
        );
        close(name, "cvm_statistic", m.cvm_statistic, want("cvm_statistic"));
        close_pvalue(name, "cvm_pvalue", m.cvm_pvalue, want("cvm_pvalue"));
        match e["anderson_statistic"].as_f64() {
            Some(a) => {
                close(name, "anderson_statistic", m.anderson_statistic.unwrap(), a);
                close(name, "anderson_pvalue", m.anderson_pvalue.unwrap(), want("anderson_pvalue"));
            }
            None => assert_eq!(m.anderson_statistic, None, "{name}"),
        }
    }
}

/// The Cramér–von Mises p-value's series is noise past a normalized statistic of 4 (p ≈ 7e-10),
/// where driftscope reports 0: scipy's figure there must be as small as its stopping rule allows.
fn close_pvalue(name: &str, metric: &str, got: f64, want: f64) {
    if got == 0.0 {
        assert!(want < 1e-6, "{name} {metric}: got 0, scipy {want}");
    } else {
        close(name, metric, got, want);
    }
}

/// Cramér–von Mises, Anderson–Darling and the energy distance from the bins against scipy on the
/// samples themselves: equal for one bin per value (the histogram holds the samples), and on
/// quantile bins within 0.5% (Cramér–von Mises), 2% or 0.05 (Anderson–Darling, whose statistic
/// is near 0 without drift) and, on bounded and normal data, 1.5% (energy; long tails are off
/// as Wasserstein-1 is, see the drift metrics chapter).
#[test]
fn ordered_tests_from_bins_come_close_to_scipy_on_the_samples() {
    let r = json(&root().join("tests/data/reference_metrics.json"));
    let mut checked = 0;
    for case in r["numeric"].as_array().unwrap() {
        let Some(raw) = case.get("raw") else { continue };
        let v = |k: &str| numbers(case, k);
        let name = case["name"].as_str().unwrap();
        let s = spread(case);
        let m = compare::numeric(&v("edges"), &v("base"), &v("cur"), &s, None).unwrap();
        let want = |k: &str| raw[k].as_f64().unwrap();
        let within = |got: f64, want: f64, rel: f64, abs: f64| (got - want).abs() <= rel * want.abs() + abs;
        if s.discrete {
            close(name, "cvm_statistic", m.cvm_statistic, want("cvm_statistic"));
            close(name, "anderson_statistic", m.anderson_statistic.unwrap(), want("anderson_statistic"));
            close(name, "energy_distance", m.energy_distance, want("energy_distance"));
        } else {
            assert!(
                within(m.cvm_statistic, want("cvm_statistic"), 0.005, 0.0),
                "{name}: CvM {} against {}",
                m.cvm_statistic,
                want("cvm_statistic")
            );
            let a = m.anderson_statistic.unwrap();
            assert!(
                within(a, want("anderson_statistic"), 0.02, 0.05),
                "{name}: AD {a} against {}",
                want("anderson_statistic")
            );
            if !name.starts_with("pareto") && !name.starts_with("lognormal") {
                assert!(
                    within(m.energy_distance, want("energy_distance"), 0.015, 0.0),
                    "{name}: energy {} against {}",
                    m.energy_distance,
                    want("energy_distance")
                );
            }
        }
        checked += 1;
    }
    assert!(checked >= 13, "{checked} cases");
}

/// Wasserstein-1 from the bins against scipy's `wasserstein_distance` on the samples: within 2%
/// on bounded data (continuous, with few values, beyond the baseline's range, at 300 rows), and
/// within `compare::wasserstein_bound` on long tails.
#[test]
fn binned_wasserstein_is_close_to_the_exact_one() {
    let r = json(&root().join("tests/data/reference_metrics.json"));
    let mut checked = 0;
    for case in r["numeric"].as_array().unwrap() {
        let Some(exact) = case["wasserstein_exact"].as_f64() else { continue };
        let v = |k: &str| numbers(case, k);
        let name = case["name"].as_str().unwrap();
        let s = spread(case);
        let got = compare::numeric(&v("edges"), &v("base"), &v("cur"), &s, None).unwrap().wasserstein;
        let bound = compare::wasserstein_bound(&v("edges"), &v("base"), &v("cur"), &s).unwrap();
        assert!((got - exact).abs() <= bound, "{name}: {got} against {exact}, bound {bound}");
        if case["bounded"].as_bool().unwrap() {
            assert!((got - exact).abs() <= 0.02 * exact, "{name}: {got} against scipy's {exact}");
        }
        checked += 1;
    }
    assert!(checked >= 13, "{checked} cases");
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
        close(name, "tv_distance", m.tv_distance, want("tv_distance"));
    }
}

/// PSI, JS and KL of a feature binned as a baseline bins it (256 quantile bins from its sketch),
/// at `n` baseline and `m` current rows drawn from a normal shifted by `shift` standard
/// deviations: the median over `draws` draws.
fn median_divergences(n: usize, m: usize, shift: f64, draws: u64) -> (f64, f64, f64) {
    use driftscope::profile::{bin_edges, Kll, DEFAULT_BINS};
    use driftscope::source::synth::Rng;
    let (mut psi, mut js, mut kl) = (Vec::new(), Vec::new(), Vec::new());
    for seed in 0..draws {
        let mut rng = Rng(seed * 7919 + 1);
        let base: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let cur: Vec<f64> = (0..m).map(|_| rng.normal() + shift).collect();
        let mut kll = Kll::default();
        base.iter().for_each(|&v| kll.update(v));
        let (lo, hi) = base.iter().fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        let edges = bin_edges(&kll, DEFAULT_BINS, Some((lo, hi)));
        let count = |xs: &[f64]| {
            let mut c = vec![0.0; edges.len() + 1];
            xs.iter().for_each(|&v| c[edges.partition_point(|&e| e <= v)] += 1.0);
            c
        };
        let span = (lo.min(cur.iter().copied().fold(f64::MAX, f64::min)), hi);
        let mm = compare::numeric(&edges, &count(&base), &count(&cur), &compare::Spread::even(span), None).unwrap();
        psi.push(mm.psi);
        js.push(mm.js_distance);
        kl.push(mm.kl_divergence);
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (median(psi), median(js), median(kl))
}

/// The divergences mean the same at 300 rows as at 300k: with no drift, PSI stays under the
/// usual "no change" cut of 0.1 at 300 against 300 rows (256 bins put its median near 1.7 and
/// JS near 0.5), and a half-σ shift reads about the same PSI at both sizes (the normal's exact
/// value is 0.25).
#[test]
fn divergences_mean_the_same_at_every_size() {
    let (psi_small, js_small, kl_small) = median_divergences(300, 300, 0.0, 41);
    eprintln!("no drift, 300 rows: PSI {psi_small:.4} JS {js_small:.4} KL {kl_small:.4}");
    assert!(psi_small < 0.1 && kl_small < 0.1 && js_small < 0.15, "{psi_small} {js_small} {kl_small}");
    let (psi_large, js_large, _) = median_divergences(300_000, 300_000, 0.0, 3);
    eprintln!("no drift, 300k rows: PSI {psi_large:.5} JS {js_large:.5}");
    assert!(psi_large < 0.01, "{psi_large}");
    let (shift_small, js_shift_small, _) = median_divergences(300, 300, 0.5, 41);
    let (shift_large, js_shift_large, _) = median_divergences(300_000, 300_000, 0.5, 3);
    eprintln!("half-σ shift: PSI {shift_small:.4} at 300 rows, {shift_large:.4} at 300k; JS {js_shift_small:.4} / {js_shift_large:.4}");
    assert!((shift_large - 0.25).abs() < 0.03, "{shift_large}");
    assert!((shift_small / shift_large - 1.0).abs() < 0.35, "{shift_small} against {shift_large}");
    assert!((js_shift_small / js_shift_large - 1.0).abs() < 0.35, "{js_shift_small} against {js_shift_large}");
}
