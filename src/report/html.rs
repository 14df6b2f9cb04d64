//! The self-contained HTML report: a verdict table and, per feature, an inline SVG chart of the
//! baseline against the current distribution. No script, no external resource; every string
//! that comes from data (feature names, category values, paths) is escaped.

use super::{escape, MonitorReport};
use crate::drift::Chart;

fn svg(chart: &Chart) -> String {
    let n = chart.labels.len().max(1);
    let (w, h, pad, bottom) = (640.0f64, 220.0f64, 40.0f64, 60.0f64);
    let max = chart.baseline.iter().chain(&chart.current).copied().fold(0.0f64, f64::max).max(1e-12);
    let slot = (w - pad * 2.0) / n as f64;
    let bar = slot * 0.4;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{}\" viewBox=\"0 0 {w} {}\" role=\"img\">",
        h + bottom,
        h + bottom
    );
    s.push_str(&format!("<line x1=\"{pad}\" y1=\"{h}\" x2=\"{}\" y2=\"{h}\" stroke=\"#888\"/>", w - pad));
    for i in 0..chart.labels.len() {
        let x = pad + slot * i as f64;
        for (j, (v, color)) in [(chart.baseline[i], "#4a78b5"), (chart.current[i], "#e07b39")].iter().enumerate() {
            let bh = (v / max) * (h - 20.0);
            s.push_str(&format!(
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{color}\"><title>{} {}: {:.4}</title></rect>",
                x + slot * 0.1 + bar * j as f64,
                h - bh,
                bar,
                bh,
                if j == 0 { "baseline" } else { "current" },
                escape(&chart.labels[i]),
                v
            ));
        }
        let label: String = chart.labels[i].chars().take(18).collect();
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\" transform=\"rotate(40 {:.1} {:.1})\">{}</text>",
            x + slot * 0.3,
            h + 12.0,
            x + slot * 0.3,
            h + 12.0,
            escape(&label)
        ));
    }
    s.push_str(&format!(
        "<rect x=\"{pad}\" y=\"4\" width=\"10\" height=\"10\" fill=\"#4a78b5\"/><text x=\"{}\" y=\"13\" font-size=\"11\">baseline</text><rect x=\"{}\" y=\"4\" width=\"10\" height=\"10\" fill=\"#e07b39\"/><text x=\"{}\" y=\"13\" font-size=\"11\">current</text></svg>",
        pad + 14.0,
        pad + 80.0,
        pad + 94.0
    ));
    s
}

fn num(v: Option<f64>) -> String {
    v.map_or("–".into(), |x| format!("{x:.4}"))
}

/// Renders the report.
pub fn render(r: &MonitorReport) -> String {
    let s = &r.summary;
    let mut o = String::from("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>driftwatch report</title><style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}tr.drift td{background:#fde2d6}tr.skipped td{color:#777}.feature{margin:2em 0}</style></head><body>\n");
    o.push_str(&format!(
        "<h1>driftwatch monitor report</h1><p>{}: {} features compared, {} drifted, {} skipped, {} violations.</p>",
        if s.violations == 0 { "No violations" } else { "Violations found" },
        s.features_compared,
        s.features_drifted,
        s.features_skipped,
        s.violations
    ));
    o.push_str(&format!(
        "<p>Current: {} rows in {} files. Baseline: {} ({}, {} rows). Backend: {}.</p>",
        r.current.rows,
        r.current.files,
        escape(&r.baseline),
        escape(&r.baseline_source),
        r.baseline_rows,
        escape(&r.backend)
    ));
    if !r.current.skipped.is_empty() {
        o.push_str("<h2>Skipped inputs</h2><ul>");
        for sk in &r.current.skipped {
            o.push_str(&format!("<li><code>{}</code>: {}</li>", escape(&sk.path), escape(&sk.error)));
        }
        o.push_str("</ul>");
    }
    if !r.current.schema_differences.is_empty() {
        o.push_str("<h2>Schema differences</h2><ul>");
        for d in &r.current.schema_differences {
            o.push_str(&format!("<li>{}</li>", escape(d)));
        }
        o.push_str("</ul>");
    }
    o.push_str("<h2>Verdicts</h2><table><tr><th>feature</th><th>kind</th><th>status</th><th>method</th><th>distance</th><th>threshold</th><th>KS p</th><th>PSI</th><th>JS</th><th>Hellinger</th><th>W1/σ</th><th>χ² p</th><th>unseen</th></tr>");
    for f in &r.features {
        let n = f.numeric.as_ref();
        let c = f.categorical.as_ref();
        o.push_str(&format!(
            "<tr class=\"{}\"><td><a href=\"#f-{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            f.status,
            escape(&f.name),
            escape(&f.name),
            f.kind,
            escape(&format!("{}{}", f.status, f.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())),
            escape(f.method.as_deref().unwrap_or("–")),
            num(f.distance),
            num(f.threshold),
            num(n.map(|m| m.ks_pvalue)),
            num(n.map(|m| m.psi).or(c.map(|m| m.psi))),
            num(n.map(|m| m.js_distance).or(c.map(|m| m.js_distance))),
            num(n.map(|m| m.hellinger)),
            num(n.and_then(|m| m.wasserstein_normalized)),
            num(c.map(|m| m.chi2_pvalue)),
            num(c.map(|m| m.unseen_share)),
        ));
    }
    o.push_str("</table>");
    if !r.violations.is_empty() {
        o.push_str("<h2>Violations</h2><table><tr><th>check</th><th>feature</th><th>description</th></tr>");
        for v in &r.violations {
            o.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                v.constraint_check_type,
                escape(&v.feature_name),
                escape(&v.description)
            ));
        }
        o.push_str("</table>");
    }
    o.push_str("<h2>Distributions</h2>");
    for f in &r.features {
        if let Some(chart) = &f.chart {
            o.push_str(&format!(
                "<div class=\"feature\" id=\"f-{}\"><h3>{} — {}</h3>{}</div>",
                escape(&f.name),
                escape(&f.name),
                f.status,
                svg(chart)
            ));
        }
    }
    o.push_str("</body></html>\n");
    o
}
