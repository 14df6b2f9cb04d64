//! The short Markdown summary printed on stdout, for CI logs.

use super::{figure, num, MonitorReport};
use crate::judge::drift::Verdict;

fn md(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Renders the summary.
pub fn render(r: &MonitorReport) -> String {
    let mut o = String::new();
    head(&mut o, r);
    verdicts(&mut o, r);
    if let Some(q) = &r.model_quality {
        model_quality(&mut o, q);
    }
    if let Some(e) = &r.estimated_performance {
        estimated(&mut o, e);
    }
    if let Some(a) = &r.feature_attribution {
        attribution(&mut o, a);
    }
    if let Some(b) = &r.bias {
        bias(&mut o, b);
    }
    violations(&mut o, r);
    o
}

/// Bias drift: the metrics past their baseline values, and the windows.
fn bias(o: &mut String, b: &crate::judge::bias::BiasReport) {
    o.push_str(&format!(
        "\n### Bias drift\n\n{} metrics farther from zero than in the baseline (rule: {}; bias/constraint_violations.json).\n",
        b.violations.len(),
        b.rule
    ));
    if !b.violations.is_empty() {
        o.push_str("\n| facet | value | metric | what |\n|---|---|---|---|\n");
        for v in &b.violations {
            o.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                md(&v.facet),
                md(&v.facet_value),
                md(&v.metric_name),
                md(&v.description)
            ));
        }
    }
    if let (Some(n), Some(d)) = (b.windows, b.windows_with_drift) {
        o.push_str(&format!("\n{d} of {n} windows with bias drift (bias/windows.csv).\n"));
    }
}

/// Feature attribution drift: each label's nDCG, the top features on both sides, the windows.
fn attribution(o: &mut String, a: &crate::judge::attribution::AttributionReport) {
    o.push_str("\n### Feature attribution drift\n\n| label | nDCG | threshold | status | top now | top in the baseline |\n|---|---|---|---|---|---|\n");
    let top = |v: &[crate::judge::attribution::Ranked]| v.iter().map(|r| md(&r.feature)).collect::<Vec<_>>().join(", ");
    for l in &a.labels {
        let status = match &l.reason {
            Some(r) => format!("{}: {}", l.status, md(r)),
            None => l.status.to_string(),
        };
        o.push_str(&format!(
            "| {} | {} | {} | {status} | {} | {} |\n",
            md(&l.label),
            num(l.ndcg),
            figure(l.threshold),
            top(&l.top_current),
            top(&l.top_baseline)
        ));
    }
    if let (Some(n), Some(d)) = (a.windows, a.windows_with_drift) {
        o.push_str(&format!("\n{d} of {n} windows below the threshold (explainability/windows.csv).\n"));
    }
}

/// The verdict in a line, then the inputs, baseline, backend, counts and windows.
fn head(o: &mut String, r: &MonitorReport) {
    let s = &r.summary;
    let verdict = if r.current.rows == 0 {
        "nothing monitored (0 rows read)"
    } else if s.violations == 0
        && r.windows.as_ref().is_none_or(|w| w.windows_with_violations == 0)
        && r.segments.as_ref().is_none_or(|g| g.segments_with_violations == 0 && g.segments_with_drift == 0)
        && r.model_quality.as_ref().is_none_or(|q| q.violations.is_empty())
        && r.feature_attribution.as_ref().is_none_or(|a| !a.violated())
        && r.bias.as_ref().is_none_or(|b| !b.violated())
    {
        "no violations"
    } else {
        "violations found"
    };
    o.push_str(&format!("## driftscope monitor: {verdict}\n\n"));
    // A profile made in memory (the Python package without its file list) has no files to count.
    let from = match (r.current.files, r.current.skipped.len()) {
        (0, 0) => "profiled in memory".to_string(),
        (1, k) => format!("in 1 file ({k} skipped)"),
        (n, k) => format!("in {n} files ({k} skipped)"),
    };
    o.push_str(&format!(
        "- current: {} rows {}; baseline: {} ({} rows)\n- backend: {}\n- features: {} compared, {} drifted, {} skipped; {} violations\n",
        r.current.rows,
        from,
        md(&r.baseline_source),
        r.baseline_rows,
        md(if r.backend_reason.is_empty() { &r.backend } else { &r.backend_reason }),
        s.features_compared,
        s.features_drifted,
        s.features_skipped,
        s.violations
    ));
    if let Some(line) = s.dataset_sentence() {
        o.push_str(&format!("- dataset: {line}\n"));
    }
    if let Some(w) = &r.windows {
        o.push_str(&format!(
            "- windows: {} of {} on `{}` (UTC, {} to {}), {} with violations, {} with drift; {} rows without a time; per window: windows.csv; {} change points: changepoints.json\n",
            w.windows,
            w.window,
            md(&w.time_column),
            w.first_start.as_deref().unwrap_or("–"),
            w.last_end.as_deref().unwrap_or("–"),
            w.windows_with_violations,
            w.windows_with_drift,
            w.untimed_rows,
            w.change_points
        ));
    }
    if let Some(m) = &r.multivariate {
        o.push_str(&format!("- multivariate: {}\n", md(&m.sentence())));
    }
    if let Some(m) = &r.mmd {
        o.push_str(&format!("- kernel test: {}\n", md(&m.sentence())));
    }
    if let Some(e) = &r.estimated_performance {
        o.push_str(&format!("- model performance {}\n", md(&e.sentence())));
    }
    if let Some(g) = &r.segments {
        segment_lines(o, g);
    }
    for sk in &r.current.skipped {
        o.push_str(&format!("- skipped `{}`: {}\n", md(&sk.path), md(&sk.error)));
    }
}

/// The segments' line, and the five that drifted farthest.
fn segment_lines(o: &mut String, g: &crate::judge::segments::SegmentsSummary) {
    o.push_str(&format!(
        "- segments: {} by `{}` (each against {}), {} with violations, {} with drift{}; per segment: segments.csv\n",
        g.segments,
        md(&g.by.join(",")),
        if g.reference == "whole" { "the whole baseline" } else { "the baseline's same segment" },
        g.segments_with_violations,
        g.segments_with_drift,
        if g.folded_values > 0 {
            format!("; {} values ({} rows) folded into other", g.folded_values, g.folded_rows)
        } else {
            String::new()
        }
    ));
    for top in g.ranked.iter().filter(|t| t.drifted_features + t.violations > 0).take(5) {
        o.push_str(&format!(
            "  - `{}` ({} rows): {} drifted, {} violations{}\n",
            md(&top.segment),
            top.rows,
            top.drifted_features,
            top.violations,
            match (&top.worst_feature, top.worst_ratio) {
                (Some(f), Some(x)) => format!("; farthest: `{}` at {x:.2}× its threshold", md(f)),
                _ => String::new(),
            }
        ));
    }
}

/// The verdict table, worst first.
fn verdicts(o: &mut String, r: &MonitorReport) {
    o.push_str(
        "\n| feature | kind | status | method | distance | raw L∞ | threshold | PSI | JS |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for f in super::worst_first(&r.features) {
        let status = match f.status {
            Verdict::Drift => "**drift**".to_string(),
            Verdict::Skipped => format!("skipped ({})", md(f.reason.as_deref().unwrap_or(""))),
            Verdict::Ok => "ok".to_string(),
        };
        o.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            md(&f.name),
            f.kind,
            status,
            f.method.as_deref().unwrap_or("–"),
            num(f.distance),
            // The raw L∞ beside the distance: under the robust rule a normal window's distance
            // is 0 once the allowance is taken off, which next to a PSI of 0.04 reads as a bug.
            num(f.linf_simple()),
            num(f.threshold),
            num(f.psi()),
            num(f.js_distance())
        ));
    }
}

/// Performance estimated without labels: each metric's estimate, band and normal range, with the
/// realized value where labels were there.
fn estimated(o: &mut String, e: &crate::quality::estimate::EstimationReport) {
    o.push_str(
        "\n### Performance estimated without labels\n\n| metric | estimated | band | normal range | realized | status |\n|---|---|---|---|---|---|\n",
    );
    for r in &e.run {
        let x = &r.estimate;
        let (band, range) = r.band_and_range();
        let status = match (x.value, x.alert) {
            (None, _) => format!("undefined ({})", md(x.reason.as_deref().unwrap_or(""))),
            (Some(_), true) => "**violation**".into(),
            (Some(_), false) => "ok".into(),
        };
        o.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            x.metric.name(),
            num(x.value),
            band,
            range,
            num(r.realized),
            status
        ));
    }
}

/// Model quality: each metric against the baseline, and the drift that moved with it.
fn model_quality(o: &mut String, q: &crate::quality::run::QualityReport) {
    o.push_str(&format!(
        "\n### Model quality\n\n{}\n\n| metric | value | ± | baseline | status |\n|---|---|---|---|---|\n",
        md(&q.sentence())
    ));
    for m in q.rows() {
        let status = match m.status() {
            "violation" => "**violation**".to_string(),
            "undefined" => format!("undefined ({})", md(m.note.as_deref().unwrap_or(""))),
            s => s.to_string(),
        };
        o.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            md(&m.name),
            num(m.value),
            num(m.standard_deviation),
            num(m.baseline),
            status
        ));
    }
    if let Some(d) = &q.drift_relevance {
        o.push_str(&format!(
            "\nDrift that moves with the model's worsening (`{}` over {} windows; Spearman ρ of each feature's drift distance with it; per window: model_quality/windows.csv):\n\n| feature | ρ | windows |\n|---|---|---|\n",
            d.metric, d.windows
        ));
        for f in d.features.iter().take(10) {
            o.push_str(&format!("| {} | {:.3} | {} |\n", md(&f.feature), f.spearman, f.windows));
        }
    }
}

/// The violations, as SageMaker words them.
fn violations(o: &mut String, r: &MonitorReport) {
    if !r.violations.is_empty() {
        // In plain words, with the limit and the baseline's value rounded for reading
        // (constraint_violations.json keeps SageMaker's wording).
        o.push_str("\n| violation | feature | what was found |\n|---|---|---|\n");
        for v in &r.violations {
            o.push_str(&format!("| {} | {} | {} |\n", v.constraint_check_type, md(&v.feature_name), md(&v.plain())));
        }
    }
}

/// The summary of `changepoints`: how many changes `search` found (one per change of a
/// feature), the first 100, and the series not searched.
pub fn changepoints(
    changes: &[crate::time::changepoint::ChangePoint],
    unsearched: &[crate::time::changepoint::Unsearched],
    search: crate::time::changepoint::Search,
    series: usize,
    windows: usize,
) -> String {
    use crate::time::changepoint::Method;
    let how = match search.method {
        Method::Seeded => format!("seeded, {} false alarms per series per 1,000 windows", search.false_alarm_rate),
        other => other.to_string(),
    };
    let mut o = format!(
        "## driftscope changepoints: {} change points ({how}) in {series} series over {windows} windows\n\n",
        changes.len()
    );
    if !changes.is_empty() {
        o.push_str(
            "| feature | series | window_index | window_start | before | after | confidence |\n|---|---|---|---|---|---|---|\n",
        );
        for c in changes.iter().take(100) {
            o.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} |\n",
                md(&c.feature),
                c.series.join(", "),
                c.window_index,
                c.window_start.as_deref().unwrap_or("–"),
                figure(c.before),
                figure(c.after),
                c.confidence.map_or("–".to_string(), |p| format!("{p:.3}")),
            ));
        }
        if changes.len() > 100 {
            o.push_str(&format!("\n({} more in changepoints.json)\n", changes.len() - 100));
        }
    }
    if !unsearched.is_empty() {
        o.push_str(&format!("\n{} series not searched:\n", unsearched.len()));
        for u in unsearched.iter().take(20) {
            o.push_str(&format!("- {} {}: {}\n", md(&u.feature), u.series, u.reason));
        }
        if unsearched.len() > 20 {
            o.push_str(&format!("- and {} more\n", unsearched.len() - 20));
        }
    }
    o
}

/// The summary of `calibrate`: each feature's threshold before and after, at the false-alarm
/// `rate`, from `windows` windows of history.
pub fn calibration(calibrations: &[crate::time::calibrate::Calibration], rate: f64, windows: usize) -> String {
    let mut o = format!(
        "## driftscope calibrate: thresholds at a false-alarm rate of {rate} per window and feature, from {windows} windows\n\n"
    );
    o.push_str("| feature | method | windows | threshold before | calibrated | expected false-alarm rate | history past it |\n|---|---|---|---|---|---|---|\n");
    for c in calibrations {
        o.push_str(&format!(
            "| {} | {} | {} | {} | {:.6} | {:.4} | {} |\n",
            c.feature.replace('|', "\\|"),
            c.method,
            c.windows,
            c.previous.map_or("–".into(), |p| p.to_string()),
            c.threshold,
            c.expected_false_alarm_rate,
            c.alarms_in_history
        ));
    }
    for c in calibrations.iter().filter(|c| c.note.is_some()) {
        o.push_str(&format!("\n- {}: {}\n", c.feature, c.note.as_deref().unwrap_or_default()));
    }
    o
}
