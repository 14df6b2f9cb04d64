//! The self-contained HTML report: a verdict table and, per feature, an inline SVG chart of the
//! baseline against the current distribution. No script, no external resource; every string
//! that comes from data (feature names, category values, paths) is escaped.

use super::{escape, figure, num, MonitorReport};
use crate::judge::drift::Chart;

const BASELINE_COLOR: &str = "#4a78b5";
const CURRENT_COLOR: &str = "#e07b39";

/// A number in at most about 8 characters: 4 significant digits, exponent form past 1e5 or
/// under 1e-3.
fn short(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if v.abs() >= 1e5 || v.abs() < 1e-3 {
        let s = format!("{v:.2e}");
        return s.replace(".00e", "e");
    }
    let digits = (3 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
    let s = format!("{v:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// The legend: a swatch and a name for each side, at the top left.
fn legend(x: f64) -> String {
    format!(
        "<rect x=\"{x}\" y=\"4\" width=\"10\" height=\"10\" fill=\"{BASELINE_COLOR}\"/><text x=\"{}\" y=\"13\" font-size=\"11\">baseline</text><rect x=\"{}\" y=\"4\" width=\"10\" height=\"10\" fill=\"{CURRENT_COLOR}\"/><text x=\"{}\" y=\"13\" font-size=\"11\">current</text>",
        x + 14.0,
        x + 80.0,
        x + 94.0
    )
}

/// A feature's chart: a histogram for a numeric feature, bars per value for a categorical one.
fn svg(chart: &Chart) -> String {
    match &chart.edges {
        Some(edges) => histogram_svg(chart, edges),
        None => categories_svg(chart),
    }
}

/// Bars on a value axis, each as wide as its bin and as high as its density (its share of
/// rows over its width), baseline and current overlaid; the first and last bins are open-ended,
/// drawn as wide as their neighbour and hatched. Ticks at the edges that fit 70 px apart.
fn histogram_svg(chart: &Chart, edges: &[f64]) -> String {
    let n = chart.labels.len();
    if n < 3 || edges.len() + 1 != n || edges.iter().any(|e| !e.is_finite()) || edges.windows(2).any(|e| e[1] < e[0]) {
        return categories_svg(chart);
    }
    let (w, h, left, right, top, bottom) = (720.0f64, 200.0f64, 56.0f64, 24.0f64, 24.0f64, 44.0f64);
    // Bin bounds on the value axis: the open ends as wide as their neighbours.
    let first = edges[1] - edges[0];
    let last = edges[edges.len() - 1] - edges[edges.len() - 2];
    let mut bounds = Vec::with_capacity(n + 1);
    bounds.push(edges[0] - first);
    bounds.extend_from_slice(edges);
    bounds.push(edges[edges.len() - 1] + last);
    let (lo, hi) = (bounds[0], bounds[n]);
    let span = (hi - lo).max(1e-300);
    let x = |v: f64| left + (v - lo) / span * (w - left - right);
    // A bin of zero width (a value repeated across an edge) is drawn 1 px wide.
    let width = |i: usize| (bounds[i + 1] - bounds[i]).max(span * 1e-3);
    let density = |share: f64, i: usize| share / width(i);
    let max = (0..n)
        .flat_map(|i| [density(chart.baseline[i], i), density(chart.current[i], i)])
        .fold(0.0f64, f64::max)
        .max(1e-300);
    let y0 = top + h;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100%\" viewBox=\"0 0 {w} {0}\" role=\"img\" class=\"histogram\"><defs><pattern id=\"open\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"3\" height=\"6\" fill=\"#fff\" opacity=\"0.6\"/></pattern></defs>",
        y0 + bottom
    );
    s.push_str(&format!("<line x1=\"{left}\" y1=\"{y0}\" x2=\"{}\" y2=\"{y0}\" stroke=\"#888\"/>", w - right));
    s.push_str(&format!("<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{y0}\" stroke=\"#888\"/>"));
    for (j, (shares, color)) in [(&chart.baseline, BASELINE_COLOR), (&chart.current, CURRENT_COLOR)].iter().enumerate()
    {
        for i in 0..n {
            let bh = density(shares[i], i) / max * h;
            let (x0, x1) = (x(bounds[i]), x(bounds[i] + width(i)));
            let open = i == 0 || i == n - 1;
            s.push_str(&format!(
                "<rect class=\"bar\" x=\"{x0:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{bh:.2}\" fill=\"{color}\" fill-opacity=\"0.55\" stroke=\"{color}\" data-share=\"{}\"><title>{} {}: {:.2}% of rows{}</title></rect>",
                y0 - bh,
                (x1 - x0).max(0.5),
                shares[i],
                if j == 0 { "baseline" } else { "current" },
                escape(&chart.labels[i]),
                shares[i] * 100.0,
                if open { " (an open-ended bin, drawn as wide as its neighbour)" } else { "" }
            ));
            if open {
                s.push_str(&format!(
                    "<rect x=\"{x0:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{bh:.2}\" fill=\"url(#open)\"/>",
                    y0 - bh,
                    (x1 - x0).max(0.5)
                ));
            }
        }
    }
    s.push_str(&histogram_axes(edges, &x, (left, w - right, top, y0), max));
    s.push_str(&legend(left));
    s.push_str("</svg>");
    s
}

/// A histogram's ticks at the edges that fit 70 px apart, the density scale and the caption;
/// `frame` is (left, right, top, bottom) of the plot.
fn histogram_axes(edges: &[f64], x: &dyn Fn(f64) -> f64, frame: (f64, f64, f64, f64), max: f64) -> String {
    let (left, right, top, y0) = frame;
    let mut s = String::new();
    let mut last_tick = f64::NEG_INFINITY;
    for &e in edges {
        let px = x(e);
        if px - last_tick < 70.0 {
            continue;
        }
        last_tick = px;
        s.push_str(&format!(
            "<line x1=\"{px:.1}\" y1=\"{y0}\" x2=\"{px:.1}\" y2=\"{}\" stroke=\"#888\"/><text x=\"{px:.1}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
            y0 + 4.0,
            y0 + 15.0,
            short(e)
        ));
    }
    s.push_str(&format!(
        "<text x=\"{0}\" y=\"{1}\" font-size=\"10\" text-anchor=\"end\">{2}</text><text x=\"{0}\" y=\"{3}\" font-size=\"10\" text-anchor=\"end\">0</text>",
        left - 4.0,
        top + 4.0,
        short(max),
        y0
    ));
    s.push_str(&format!(
        "<text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">value; bars: density (share of rows per unit of value), so their areas are the shares; hatched: open-ended bins</text>",
        (left + right) / 2.0,
        y0 + 34.0
    ));
    s
}

/// Horizontal bars per value, the values down the left, the share of rows along the bottom.
fn categories_svg(chart: &Chart) -> String {
    let rows = chart.labels.len();
    let (w, row, left, right, top, bottom) = (640.0f64, 22.0f64, 230.0f64, 56.0f64, 24.0f64, 34.0f64);
    let max = chart.baseline.iter().chain(&chart.current).copied().fold(0.0f64, f64::max).max(1e-12);
    let span = w - left - right;
    let y0 = top + row * rows as f64;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100%\" viewBox=\"0 0 {w} {0}\" role=\"img\">",
        y0 + bottom
    );
    s.push_str(&format!("<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{y0}\" stroke=\"#888\"/>"));
    s.push_str(&format!("<line x1=\"{left}\" y1=\"{y0}\" x2=\"{}\" y2=\"{y0}\" stroke=\"#888\"/>", w - right));
    for i in 0..rows {
        let y = top + row * i as f64;
        let full = &chart.labels[i];
        let label: String =
            if full.chars().count() > 30 { full.chars().take(29).chain(['…']).collect() } else { full.clone() };
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\">{}<title>{}</title></text>",
            left - 6.0,
            y + 14.0,
            escape(&label),
            escape(full)
        ));
        for (j, (v, color)) in
            [(chart.baseline[i], BASELINE_COLOR), (chart.current[i], CURRENT_COLOR)].iter().enumerate()
        {
            s.push_str(&format!(
                "<rect x=\"{left}\" y=\"{:.1}\" width=\"{:.1}\" height=\"8\" fill=\"{color}\"><title>{} {}: {:.4}</title></rect>",
                y + 3.0 + 8.0 * j as f64,
                (v / max) * span,
                if j == 0 { "baseline" } else { "current" },
                escape(full),
                v
            ));
        }
    }
    s.push_str(&format!(
        "<text x=\"{left}\" y=\"{0}\" font-size=\"10\" text-anchor=\"middle\">0%</text><text x=\"{1}\" y=\"{0}\" font-size=\"10\" text-anchor=\"middle\">{2}%</text><text x=\"{3}\" y=\"{4}\" font-size=\"10\" text-anchor=\"middle\">share of rows</text>",
        y0 + 14.0,
        w - right,
        short(max * 100.0),
        left + span / 2.0,
        y0 + 28.0
    ));
    s.push_str(&legend(left));
    s.push_str("</svg>");
    s
}

/// Most columns drawn for the windows: beyond, consecutive windows share a column (their
/// minimum, mean and maximum are drawn; a column with any drifted window is marked drifted).
pub const TIMELINE_COLUMNS: usize = 600;

/// Windows `[from, to)` per drawn column, for `n` windows.
pub fn columns(n: usize) -> Vec<(usize, usize)> {
    let per = n.div_ceil(TIMELINE_COLUMNS).max(1);
    (0..n).step_by(per).map(|a| (a, (a + per).min(n))).collect()
}

fn day(ms: i64) -> String {
    crate::engine::window::iso(ms).replace('T', " ").trim_end_matches(":00Z").to_string()
}

/// How window `i` is named: its start, or its index for windows of rows.
fn label(t: &super::Timeline, i: usize) -> String {
    match t.starts.get(i) {
        Some(_) if t.rows => format!("window {i}"),
        Some(&ms) => day(ms),
        None => String::new(),
    }
}

/// A feature's metric over the windows: a min–max band and a mean line per column, the
/// threshold dashed, change points as red rules.
fn timeline_svg(t: &super::Timeline, f: &super::TimelineFeature) -> String {
    let cols = columns(t.starts.len());
    let (w, h, left, top) = (TIMELINE_COLUMNS as f64 + 60.0, 140.0f64, 50.0f64, 10.0f64);
    let max = f.values.iter().flatten().copied().chain(f.threshold).fold(0.0f64, f64::max).max(1e-12) * 1.05;
    let y = |v: f64| top + h - (v / max) * h;
    let dx = TIMELINE_COLUMNS as f64 / cols.len().max(1) as f64;
    let right = left + TIMELINE_COLUMNS as f64;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100%\" viewBox=\"0 0 {w} {0}\" role=\"img\"><line x1=\"{left}\" y1=\"{1}\" x2=\"{right}\" y2=\"{1}\" stroke=\"#888\"/>",
        h + 40.0,
        top + h,
    );
    let mut line = String::new();
    for (i, &(a, b)) in cols.iter().enumerate() {
        let vals: Vec<f64> = f.values[a..b].iter().flatten().copied().collect();
        if vals.is_empty() {
            continue;
        }
        let (lo, hi) = vals.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
        let mean = vals.iter().sum::<f64>() / vals.len() as f64;
        let x = left + dx * i as f64;
        let drifted = f.status[a..b].iter().filter(|s| **s == crate::judge::drift::Verdict::Drift).count();
        s.push_str(&format!(
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.2}\" height=\"{:.1}\" fill=\"{}\" opacity=\"0.5\"><title>{} – {}: {} {:.4} (min {:.4}, max {:.4}), {drifted} of {} windows drifted</title></rect>",
            y(hi),
            dx.max(1.0),
            (y(lo) - y(hi)).max(1.0),
            if drifted > 0 { "#e07b39" } else { "#4a78b5" },
            label(t, a),
            label(t, b - 1),
            escape(&f.metric),
            mean,
            lo,
            hi,
            b - a
        ));
        line.push_str(&format!("{}{x:.1},{:.1}", if line.is_empty() { "" } else { " " }, y(mean)));
    }
    s.push_str(&format!("<polyline points=\"{line}\" fill=\"none\" stroke=\"#222\" stroke-width=\"1\"/>"));
    if let Some(th) = f.threshold.filter(|&th| th <= max) {
        s.push_str(&format!(
            "<line x1=\"{left}\" y1=\"{0:.1}\" x2=\"{right}\" y2=\"{0:.1}\" stroke=\"#c00\" stroke-dasharray=\"4 3\"><title>threshold {th}</title></line>",
            y(th),
        ));
    }
    let per = cols.first().map_or(1, |c| c.1 - c.0);
    for (c, series) in &f.changes {
        let x = left + dx * (c / per) as f64 + dx / 2.0;
        s.push_str(&format!(
            "<line x1=\"{x:.1}\" y1=\"{top}\" x2=\"{x:.1}\" y2=\"{}\" stroke=\"#c00\" stroke-width=\"1.5\"><title>change: window {c}, {}; seen in {}</title></line>",
            top + h,
            label(t, *c),
            escape(series)
        ));
    }
    s.push_str(&format!(
        "<text x=\"2\" y=\"{0:.1}\" font-size=\"10\">{1:.3}</text><text x=\"2\" y=\"{2:.1}\" font-size=\"10\">0</text><text x=\"{left}\" y=\"{3:.1}\" font-size=\"10\">{4}</text><text x=\"{right}\" y=\"{3:.1}\" font-size=\"10\" text-anchor=\"end\">{5}</text></svg>",
        top + 10.0,
        max,
        top + h,
        top + h + 16.0,
        label(t, 0),
        label(t, t.starts.len().saturating_sub(1))
    ));
    s
}

/// Features × windows: a cell per feature and column, red when a window in it drifted, green
/// when all were compared within threshold, grey when none was compared.
pub fn heatmap_svg(t: &super::Timeline) -> String {
    let cols = columns(t.starts.len());
    let (cell_h, left) = (14.0f64, 160.0f64);
    let dx = TIMELINE_COLUMNS as f64 / cols.len().max(1) as f64;
    let (w, h) = (left + TIMELINE_COLUMNS as f64, cell_h * t.features.len() as f64 + 20.0);
    let mut s =
        format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100%\" viewBox=\"0 0 {w} {h}\" role=\"img\">");
    for (r, f) in t.features.iter().enumerate() {
        let yy = cell_h * r as f64;
        let name: String = f.name.chars().take(24).collect();
        s.push_str(&format!("<text x=\"0\" y=\"{:.1}\" font-size=\"10\">{}</text>", yy + 10.0, escape(&name)));
        for (i, &(a, b)) in cols.iter().enumerate() {
            let drifted = f.status[a..b].iter().filter(|v| **v == crate::judge::drift::Verdict::Drift).count();
            let compared = f.status[a..b].iter().filter(|v| **v != crate::judge::drift::Verdict::Skipped).count();
            let color = if drifted > 0 {
                "#d9534f"
            } else if compared > 0 {
                "#8cc68c"
            } else {
                "#ddd"
            };
            s.push_str(&format!(
                "<rect class=\"cell\" data-drifted=\"{drifted}\" x=\"{:.2}\" y=\"{yy:.1}\" width=\"{:.2}\" height=\"{:.1}\" fill=\"{color}\"><title>{}: {} – {}, {drifted} of {} windows drifted</title></rect>",
                left + dx * i as f64,
                dx.max(0.5),
                cell_h - 2.0,
                escape(&f.name),
                label(t, a),
                label(t, b - 1),
                b - a
            ));
        }
    }
    s.push_str(&format!(
        "<text x=\"{left}\" y=\"{0:.1}\" font-size=\"10\">{1}</text><text x=\"{w}\" y=\"{0:.1}\" font-size=\"10\" text-anchor=\"end\">{2}</text></svg>",
        h - 4.0,
        label(t, 0),
        label(t, t.starts.len().saturating_sub(1))
    ));
    s
}

/// Renders the report.
pub fn render(r: &MonitorReport) -> String {
    let mut o = String::new();
    head(&mut o, r);
    if let Some(t) = &r.timeline {
        what_changed(&mut o, t, &r.changes);
    }
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
    if let Some(g) = &r.segments {
        segments(&mut o, g, &r.segment_results);
    }
    violations(&mut o, r);
    missing(&mut o, r);
    if let (Some(t), Some(w)) = (&r.timeline, &r.windows) {
        timeline(&mut o, t, w);
    }
    distributions(&mut o, r);
    o.push_str("</body></html>\n");
    o
}

/// The page's head, the verdict in a sentence, the inputs and baseline, skipped inputs and
/// schema differences.
fn head(o: &mut String, r: &MonitorReport) {
    let s = &r.summary;
    o.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\"><title>driftscope report</title><style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}tr.drift td{background:#fde2d6}tr.skipped td{color:#777}.feature{margin:2em 0}.tiles{display:flex;flex-wrap:wrap;gap:12px;margin:1em 0}.tile{border:1px solid #ccc;border-radius:6px;padding:8px 16px;min-width:110px}.tile .value{font-size:1.6em;font-weight:bold}.tile .label{color:#555}.tile.bad{border-color:#d9534f;background:#fde2d6}.new{color:#fff;background:#d9534f;border-radius:3px;padding:0 4px;font-size:0.8em;margin-left:4px}td.num{text-align:right}</style></head><body>\n");
    let dataset = match s.dataset_drift {
        Some(d) if d.drift => "drifted".to_string(),
        Some(_) => "no drift".to_string(),
        None => "–".to_string(),
    };
    o.push_str("<h1>driftscope monitor report</h1><div class=\"tiles\">");
    for (label, value, bad) in [
        ("features compared", s.features_compared.to_string(), false),
        ("drifted", s.features_drifted.to_string(), s.features_drifted > 0),
        ("violations", s.violations.to_string(), s.violations > 0),
        ("rows", r.current.rows.to_string(), false),
        ("dataset", dataset, s.dataset_drift.is_some_and(|d| d.drift)),
    ] {
        o.push_str(&format!(
            "<div class=\"tile{}\"><div class=\"value\">{}</div><div class=\"label\">{label}</div></div>",
            if bad { " bad" } else { "" },
            escape(&value)
        ));
    }
    o.push_str("</div>");
    let segment_violations =
        r.segments.as_ref().is_some_and(|g| g.segments_with_violations + g.segments_with_drift > 0);
    o.push_str(&format!(
        "<p>{}: {} features compared, {} drifted, {} skipped, {} violations{}.</p>",
        if s.violations == 0 && !segment_violations { "No violations" } else { "Violations found" },
        s.features_compared,
        s.features_drifted,
        s.features_skipped,
        s.violations,
        r.segments.as_ref().map_or(String::new(), |g| format!(
            "; <a href=\"#segments\">{} of {} segments</a> with drift or violations",
            r.segment_results.iter().filter(|x| x.drifted() + x.violations.len() > 0).count(),
            g.segments
        ))
    ));
    if let Some(line) = s.dataset_sentence() {
        o.push_str(&format!("<p><strong>Dataset:</strong> {}.</p>", escape(&line)));
    }
    if let Some(m) = &r.multivariate {
        o.push_str(&format!("<p><strong>Multivariate:</strong> {}.</p>", escape(&m.sentence())));
    }
    if let Some(m) = &r.mmd {
        o.push_str(&format!("<p><strong>Kernel test:</strong> {}.</p>", escape(&m.sentence())));
    }
    if let Some(e) = &r.estimated_performance {
        o.push_str(&format!("<p><strong>Model performance</strong> {}.</p>", escape(&e.sentence())));
    }
    o.push_str(&format!(
        "<p>Current: {} rows in {} file{}. Baseline: {} ({}, {} rows). Backend: {}.</p>",
        r.current.rows,
        r.current.files,
        if r.current.files == 1 { "" } else { "s" },
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
}

/// A method's plain name and a one-line explanation, for the reports.
pub fn plain_method(code: &str) -> (&'static str, &'static str) {
    match code {
        "linf_robust" => (
            "L∞ distance, robust",
            "the largest gap between the two cumulative distributions, less SageMaker's allowance for sampling noise (0 when the gap is within it)",
        ),
        "linf_simple" => ("L∞ distance", "the largest gap between the two cumulative distributions (0 to 1)"),
        "ks_pvalue" => (
            "Kolmogorov–Smirnov p-value",
            "the chance of a gap this large between two samples of one distribution: small means drift",
        ),
        "chi2_pvalue" => (
            "χ² test p-value",
            "the chance of category shares this different between two samples of one distribution: small means drift",
        ),
        "pca_reconstruction" => (
            "PCA reconstruction error",
            "the mean distance between the rows and their reconstruction from the baseline's principal components: drift when outside the baseline's range",
        ),
        _ => ("", ""),
    }
}

/// A method's plain name with its explanation and code on hover.
fn method_cell(code: Option<&str>) -> String {
    match code {
        None => "–".into(),
        Some(c) => match plain_method(c) {
            ("", _) => escape(c),
            (name, why) => format!("<span title=\"{} ({})\">{}</span>", escape(why), escape(c), escape(name)),
        },
    }
}

/// The verdict table, worst first.
fn verdicts(o: &mut String, r: &MonitorReport) {
    o.push_str("<h2>Verdicts</h2><p>Worst first: drifted features by how far past their threshold, then the others, skipped ones last. Hover a heading or a method for what it means.</p><table><tr><th>feature</th><th>kind</th><th>status</th><th title=\"what decides the verdict\">method</th><th title=\"the method's value: drift when above the threshold (below it, for a p-value)\">distance</th><th title=\"the L∞ between the distributions, before the robust rule takes its allowance off\">raw L∞</th><th>threshold</th><th title=\"Kolmogorov–Smirnov p-value: small means drift\">KS p</th><th title=\"population stability index: under 0.1 stable, over 0.25 a large shift\">PSI</th><th title=\"Jensen–Shannon distance, 0 (same) to 1\">JS</th><th title=\"Hellinger distance, 0 (same) to 1\">Hellinger</th><th title=\"Wasserstein (earth mover's) distance over the baseline's standard deviation\">W1/σ</th><th title=\"χ² test p-value over the categories: small means drift\">χ² p</th><th title=\"share of current rows whose category the baseline never saw\">unseen</th></tr>");
    for f in super::worst_first(&r.features) {
        let n = f.numeric.as_ref();
        let c = f.categorical.as_ref();
        o.push_str(&format!(
            "<tr class=\"{}\"><td><a href=\"#f-{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            f.status,
            escape(&f.name),
            escape(&f.name),
            f.kind,
            escape(&format!("{}{}", f.status, f.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())),
            method_cell(f.method.as_deref()),
            num(f.distance),
            num(f.linf_simple()),
            num(f.threshold),
            num(n.map(|m| m.ks_pvalue)),
            num(f.psi()),
            num(f.js_distance()),
            num(n.map(|m| m.hellinger)),
            num(n.and_then(|m| m.wasserstein_normalized)),
            num(c.map(|m| m.chi2_pvalue)),
            num(c.map(|m| m.unseen_share)),
        ));
    }
    o.push_str("</table>");
}

/// Segments listed in the report's ranking, and those with a drill-down.
const SEGMENT_ROWS: usize = 200;
const SEGMENT_DETAILS: usize = 50;

/// Segments: ranked by how far they drifted, each of the first with a drill-down of its
/// features' verdicts and its violations.
fn segments(
    o: &mut String,
    g: &crate::judge::segments::SegmentsSummary,
    results: &[crate::judge::segments::SegmentResult],
) {
    let against = if g.reference == "whole" { "the whole baseline" } else { "the baseline's same segment" };
    o.push_str(&format!(
        "<h2 id=\"segments\">Segments</h2><p>{} segments by <code>{}</code>, each against {}: {} with violations, {} with drift.{} Farthest drifted first: most drifted features and violations, then the largest distance over its threshold.</p>",
        g.segments,
        escape(&g.by.join(",")),
        against,
        g.segments_with_violations,
        g.segments_with_drift,
        if g.folded_values > 0 {
            format!(" {} values ({} rows) past the {} kept are folded into <code>other</code>.", g.folded_values, g.folded_rows, g.max_segments)
        } else {
            String::new()
        }
    ));
    let ranked = crate::judge::segments::ranked(results);
    o.push_str("<table><tr><th>segment</th><th>rows</th><th title=\"what the segment was compared with\">against</th><th>drifted</th><th>violations</th><th title=\"the feature whose distance is farthest past its threshold\">farthest</th><th title=\"its distance over its threshold: above 1 is drift\">distance / threshold</th></tr>");
    for (i, r) in ranked.iter().take(SEGMENT_ROWS).enumerate() {
        let (drifted, worst) = (r.drifted(), r.worst());
        let name = if i < SEGMENT_DETAILS {
            format!("<a href=\"#s-{i}\">{}</a>", escape(&r.segment))
        } else {
            escape(&r.segment)
        };
        o.push_str(&format!(
            "<tr class=\"{}\"><td>{name}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{drifted}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
            if drifted + r.violations.len() > 0 { "drift" } else { "ok" },
            r.rows,
            if r.reference == "segment" { "its segment" } else { "whole" },
            r.violations.len(),
            worst.map(|w| escape(w.0)).unwrap_or_else(|| "–".into()),
            num(worst.map(|w| w.1)),
        ));
    }
    o.push_str("</table>");
    if ranked.len() > SEGMENT_ROWS {
        o.push_str(&format!("<p>{} more segments in <code>segments.csv</code>.</p>", ranked.len() - SEGMENT_ROWS));
    }
    for (i, r) in ranked.iter().take(SEGMENT_DETAILS).enumerate() {
        o.push_str(&format!(
            "<details id=\"s-{i}\"><summary><code>{}</code>: {} rows, {} drifted, {} violations</summary><table><tr><th>feature</th><th>status</th><th>method</th><th>distance</th><th>threshold</th><th>PSI</th></tr>",
            escape(&r.segment),
            r.rows,
            r.drifted(),
            r.violations.len()
        ));
        for f in super::worst_first(&r.features) {
            o.push_str(&format!(
                "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                f.status,
                escape(&f.name),
                escape(&format!("{}{}", f.status, f.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())),
                method_cell(f.method.as_deref()),
                num(f.distance),
                num(f.threshold),
                num(f.psi()),
            ));
        }
        o.push_str("</table>");
        if !r.violations.is_empty() {
            o.push_str("<ul>");
            for v in &r.violations {
                o.push_str(&format!(
                    "<li><code>{}</code> {}: {}</li>",
                    escape(&v.constraint_check_type.to_string()),
                    escape(&v.feature_name),
                    escape(&v.description)
                ));
            }
            o.push_str("</ul>");
        }
        o.push_str("</details>");
    }
}

/// Model quality: each metric against the baseline, and the drift that moved with it.
/// Feature attribution drift: each label's nDCG against the threshold, with the features ranked
/// highest now and in the baseline.
fn attribution(o: &mut String, a: &crate::judge::attribution::AttributionReport) {
    o.push_str("<h2 id=\"feature-attribution\">Feature attribution drift</h2><p>The ranking of the features by their mean absolute attribution, now against the baseline's, by nDCG (1: the same order; below the threshold: drift).</p><table><tr><th>label</th><th>nDCG</th><th>threshold</th><th>status</th><th>top now</th><th>top in the baseline</th></tr>");
    let top = |v: &[crate::judge::attribution::Ranked]| {
        v.iter()
            .map(|r| format!("{} ({})", escape(&r.feature), super::figure(r.attribution)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for l in &a.labels {
        o.push_str(&format!(
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td></tr>",
            l.status,
            escape(&l.label),
            num(l.ndcg),
            num(Some(l.threshold)),
            l.status,
            l.reason.as_deref().map(|r| format!(": {}", escape(r))).unwrap_or_default(),
            top(&l.top_current),
            top(&l.top_baseline)
        ));
    }
    o.push_str("</table>");
    if let (Some(n), Some(d)) = (a.windows, a.windows_with_drift) {
        o.push_str(&format!("<p>{d} of {n} windows below the threshold (explainability/windows.csv).</p>"));
    }
}

/// Bias drift: every metric of the run beside the violations it raised.
fn bias(o: &mut String, b: &crate::judge::bias::BiasReport) {
    o.push_str("<h2 id=\"bias\">Bias drift</h2><p>Clarify's bias metrics of the run; a metric farther from zero than in the baseline is a violation.</p><table><tr><th>facet</th><th>value</th><th>metric</th><th>value now</th><th>status</th></tr>");
    for (facet, value, m) in b.current.entries() {
        let violated =
            b.violations.iter().any(|v| v.facet == facet && v.facet_value == value && v.metric_name == m.name);
        let shown = match (&m.value, &m.error) {
            (Some(v), _) => escape(&v.as_str().map_or_else(|| v.to_string(), str::to_string)),
            (None, Some(e)) => format!("– ({})", escape(e)),
            (None, None) => "–".into(),
        };
        o.push_str(&format!(
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td title=\"{}\">{}</td><td>{shown}</td><td>{}</td></tr>",
            if violated { "drift" } else { "" },
            escape(facet),
            escape(value),
            escape(&m.description),
            escape(&m.name),
            if violated { "violation" } else { "ok" }
        ));
    }
    o.push_str("</table>");
    if let (Some(n), Some(d)) = (b.windows, b.windows_with_drift) {
        o.push_str(&format!("<p>{d} of {n} windows with bias drift (bias/windows.csv).</p>"));
    }
}

/// Performance estimated without labels: each metric's estimate, band and normal range, with the
/// realized value where labels were there.
fn estimated(o: &mut String, e: &crate::quality::estimate::EstimationReport) {
    o.push_str(&format!(
        "<h2 id=\"estimated-performance\">Performance estimated without labels</h2><p>Model performance {}.</p><table><tr><th>metric</th><th>estimated</th><th>band</th><th>normal range</th><th>realized</th><th>status</th></tr>",
        escape(&e.sentence())
    ));
    for r in &e.run {
        let x = &r.estimate;
        let (band, range) = r.band_and_range();
        let status = match (x.value, x.alert) {
            (None, _) => format!("undefined: {}", escape(x.reason.as_deref().unwrap_or(""))),
            (Some(_), true) => "violation".into(),
            (Some(_), false) => "ok".into(),
        };
        o.push_str(&format!(
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if x.alert { "drift" } else { "" },
            x.metric.name(),
            num(x.value),
            band,
            range,
            num(r.realized),
            status
        ));
    }
    o.push_str("</table>");
}

fn model_quality(o: &mut String, q: &crate::quality::run::QualityReport) {
    o.push_str(&format!(
        "<h2 id=\"model-quality\">Model quality</h2><p>{}.</p><table><tr><th>metric</th><th>value</th><th>standard deviation</th><th>baseline</th><th>status</th></tr>",
        escape(&q.sentence())
    ));
    for m in q.rows() {
        let status = m.status();
        o.push_str(&format!(
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td></tr>",
            if m.violated { "drift" } else { "" },
            escape(&m.name),
            num(m.value),
            num(m.standard_deviation),
            num(m.baseline),
            status,
            m.note.as_deref().map(|n| format!(": {}", escape(n))).unwrap_or_default()
        ));
    }
    o.push_str("</table>");
    if let Some(d) = &q.drift_relevance {
        o.push_str(&format!(
            "<h3>Drift that moves with the model's worsening</h3><p>Spearman ρ of each feature's per-window drift distance with the worsening of <code>{}</code> over {} windows.</p><table><tr><th>feature</th><th>ρ</th><th>windows</th></tr>",
            escape(&d.metric),
            d.windows
        ));
        for f in d.features.iter().take(20) {
            o.push_str(&format!(
                "<tr><td>{}</td><td>{:.3}</td><td>{}</td></tr>",
                escape(&f.feature),
                f.spearman,
                f.windows
            ));
        }
        o.push_str("</table>");
    }
}

/// The violations in plain words, with the limit and the baseline's value rounded for reading;
/// SageMaker's own wording on hover.
fn violations(o: &mut String, r: &MonitorReport) {
    if !r.violations.is_empty() {
        o.push_str("<h2>Violations</h2><table><tr><th>check</th><th>feature</th><th>what was found</th></tr>");
        for v in &r.violations {
            o.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td title=\"{}\">{}</td></tr>",
                v.constraint_check_type,
                escape(&v.feature_name),
                escape(v.description.trim()),
                escape(&v.plain())
            ));
        }
        o.push_str("</table>");
    }
}

/// Most changes the report lists at its top.
const CHANGES_LISTED: usize = 10;

/// The changes of `changes` worst first: by the windows of the feature that drifted from the
/// change to its next one, then by confidence, then in time order. Each with that count and
/// the regime's length.
fn changes_worst_first<'a>(
    t: &super::Timeline,
    changes: &'a [crate::time::changepoint::ChangePoint],
) -> Vec<(&'a crate::time::changepoint::ChangePoint, usize, usize)> {
    let mut out: Vec<_> = changes
        .iter()
        .map(|c| {
            let end = changes
                .iter()
                .filter(|d| d.feature == c.feature && d.window_index > c.window_index)
                .map(|d| d.window_index)
                .min()
                .unwrap_or(t.starts.len());
            let drifted = t.features.iter().find(|f| f.name == c.feature).map_or(0, |f| {
                f.status
                    .iter()
                    .skip(c.window_index)
                    .take(end.saturating_sub(c.window_index))
                    .filter(|s| **s == crate::judge::drift::Verdict::Drift)
                    .count()
            });
            (c, drifted, end.saturating_sub(c.window_index))
        })
        .collect();
    out.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then(b.0.confidence.unwrap_or(0.0).total_cmp(&a.0.confidence.unwrap_or(0.0)))
            .then(a.0.window_index.cmp(&b.0.window_index))
    });
    out
}

/// "What changed, when": the feature changes of the windows, worst first.
fn what_changed(o: &mut String, t: &super::Timeline, changes: &[crate::time::changepoint::ChangePoint]) {
    if changes.is_empty() {
        return;
    }
    o.push_str("<h2>What changed, when</h2><p>One line per change of a feature, worst first: by the windows that drifted from the change to the feature's next one.</p><ol class=\"changes\">");
    let ranked = changes_worst_first(t, changes);
    for (c, drifted, span) in ranked.iter().take(CHANGES_LISTED) {
        let when = match &c.window_start {
            Some(s) => format!("{} (window {})", escape(s), c.window_index),
            None => format!("window {}", c.window_index),
        };
        let series = c.series.first().map_or("", String::as_str);
        o.push_str(&format!(
            "<li><strong>{}</strong> at {when}: {} {} → {} (seen in {}{}); {} of the {} windows since drifted.</li>",
            escape(&c.feature),
            escape(series),
            figure(c.before),
            figure(c.after),
            escape(&c.series.join(", ")),
            c.confidence.map_or(String::new(), |p| format!("; confidence {p:.3}")),
            drifted,
            span
        ));
    }
    o.push_str("</ol>");
    if ranked.len() > CHANGES_LISTED {
        o.push_str(&format!("<p>{} more in changepoints.json.</p>", ranked.len() - CHANGES_LISTED));
    }
}

/// The windows: a heat map of every feature, then each feature's distance per window.
fn timeline(o: &mut String, t: &super::Timeline, w: &crate::time::timeline::WindowsSummary) {
    let per = columns(t.starts.len()).first().map_or(1, |c| c.1 - c.0);
    o.push_str(&format!(
        "<h2>Timeline</h2><p>{} windows of {} on <code>{}</code> against the {}: {} with violations, {} with drift, {} change points.{}</p>",
        w.windows,
        escape(&w.window),
        escape(&w.time_column),
        escape(&w.reference),
        w.windows_with_violations,
        w.windows_with_drift,
        w.change_points,
        if per > 1 {
            format!(" Each column holds {per} consecutive windows (their range, mean and drifted count); windows.csv has every window.")
        } else {
            String::new()
        }
    ));
    if w.change_points > 0 {
        o.push_str("<p class=\"legend\"><svg width=\"18\" height=\"12\" role=\"img\"><line x1=\"9\" y1=\"0\" x2=\"9\" y2=\"12\" stroke=\"#c00\" stroke-width=\"1.5\"/></svg> a change of the feature: one mark per change, found across its series (hover a mark for the series that show it); the dashed line is the threshold.</p>");
    }
    o.push_str(&heatmap_svg(t));
    for f in t.features.iter().filter(|f| f.values.iter().any(Option::is_some)) {
        o.push_str(&format!(
            "<div class=\"feature\"><h3>{} — {} per window</h3>{}</div>",
            escape(&f.name),
            match plain_method(&f.metric) {
                ("", _) => escape(&f.metric),
                (name, why) => format!("<span title=\"{}\">{}</span>", escape(why), escape(name)),
            },
            timeline_svg(t, f)
        ));
    }
}

/// A share as a percentage, two decimals.
fn pct(v: Option<f64>) -> String {
    v.map_or("–".into(), |x| format!("{:.2}%", x * 100.0))
}

/// A feature's baseline and current statistics side by side: mean, median, missing share and
/// top values, current values the baseline never saw marked "new".
fn sides_table(sd: &super::Sides) -> String {
    let (b, c) = (sd.baseline.clone().unwrap_or_default(), sd.current.clone().unwrap_or_default());
    let opt = |v: Option<f64>| v.map_or("–".to_string(), figure);
    let mut o = String::from("<table class=\"sides\"><tr><th></th><th>baseline</th><th>current</th></tr>");
    if b.mean.is_some() || c.mean.is_some() {
        o.push_str(&format!(
            "<tr><td>mean</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            opt(b.mean),
            opt(c.mean)
        ));
        o.push_str(&format!(
            "<tr><td>median</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            opt(b.median),
            opt(c.median)
        ));
    }
    o.push_str(&format!(
        "<tr><td>missing</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
        pct(b.missing),
        pct(c.missing)
    ));
    if !b.top.is_empty() || !c.top.is_empty() {
        let list = |side: &super::Side, mark: bool| {
            side.top
                .iter()
                .map(|(v, share)| {
                    let new = mark && b.all_values && !sd.baseline_values.iter().any(|x| x == v);
                    format!(
                        "{} {:.1}%{}",
                        escape(v),
                        share * 100.0,
                        if new { "<span class=\"new\">new</span>" } else { "" }
                    )
                })
                .collect::<Vec<_>>()
                .join("<br>")
        };
        o.push_str(&format!("<tr><td>top values</td><td>{}</td><td>{}</td></tr>", list(&b, false), list(&c, true)));
    }
    o.push_str("</table>");
    o
}

/// Each compared feature's baseline and current distributions, and their statistics side by
/// side.
fn distributions(o: &mut String, r: &MonitorReport) {
    o.push_str("<h2>Distributions</h2>");
    for f in &r.features {
        if let Some(chart) = &f.chart {
            let sides = r.sides.iter().find(|s| s.name == f.name).map(sides_table).unwrap_or_default();
            o.push_str(&format!(
                "<div class=\"feature\" id=\"f-{}\"><h3>{} — {}</h3>{}{}</div>",
                escape(&f.name),
                escape(&f.name),
                f.status,
                svg(chart),
                sides
            ));
        }
    }
}

/// Missing values: every feature missing values on either side, the largest rise first.
fn missing(o: &mut String, r: &MonitorReport) {
    let mut rows: Vec<(&str, Option<f64>, Option<f64>)> = r
        .sides
        .iter()
        .map(|s| {
            (s.name.as_str(), s.baseline.as_ref().and_then(|b| b.missing), s.current.as_ref().and_then(|c| c.missing))
        })
        .filter(|(_, b, c)| b.unwrap_or(0.0) > 0.0 || c.unwrap_or(0.0) > 0.0)
        .collect();
    if rows.is_empty() {
        return;
    }
    let rise = |b: Option<f64>, c: Option<f64>| c.unwrap_or(0.0) - b.unwrap_or(0.0);
    rows.sort_by(|x, y| rise(y.1, y.2).total_cmp(&rise(x.1, x.2)).then(x.0.cmp(y.0)));
    o.push_str("<h2>Missing values</h2><p>Features with rows missing a value, the largest rise first.</p><table class=\"missing\"><tr><th>feature</th><th>baseline</th><th>current</th><th>change</th></tr>");
    for (name, b, c) in rows {
        o.push_str(&format!(
            "<tr{}><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{:+.2} pts</td></tr>",
            if rise(b, c) > 0.0 { " class=\"drift\"" } else { "" },
            escape(name),
            pct(b),
            pct(c),
            rise(b, c) * 100.0
        ));
    }
    o.push_str("</table>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::drift::Verdict;
    use crate::output::report::{Timeline, TimelineFeature};

    #[test]
    fn changes_are_listed_worst_first() {
        let n = 20;
        let feature = |name: &str, drifted: std::ops::Range<usize>| TimelineFeature {
            name: name.into(),
            metric: "psi".into(),
            threshold: Some(0.1),
            values: vec![Some(0.0); n],
            status: (0..n).map(|i| if drifted.contains(&i) { Verdict::Drift } else { Verdict::Ok }).collect(),
            changes: Vec::new(),
        };
        let t = Timeline {
            starts: (0..n as i64).collect(),
            rows: true,
            features: vec![feature("a", 3..5), feature("b<i>", 10..18)],
        };
        let change = |f: &str, at: usize, confidence: f64| crate::time::changepoint::ChangePoint {
            feature: f.into(),
            series: vec!["mean".into(), "psi".into()],
            window_index: at,
            window_start: None,
            size: 1.0,
            before: 2.0,
            after: 3.0,
            confidence: Some(confidence),
        };
        // a's change at 3 holds 2 drifted windows; b's at 10 holds 8 up to its next change at
        // 18, which holds none; a's second change (at 5) none either, but is surer.
        let changes = [change("a", 3, 0.99), change("a", 5, 1.0), change("b<i>", 10, 0.9), change("b<i>", 18, 0.5)];
        let ranked: Vec<(&str, usize, usize, usize)> = changes_worst_first(&t, &changes)
            .iter()
            .map(|(c, d, s)| (c.feature.as_str(), c.window_index, *d, *s))
            .collect();
        assert_eq!(ranked, vec![("b<i>", 10, 8, 8), ("a", 3, 2, 2), ("a", 5, 0, 15), ("b<i>", 18, 0, 2)]);
        let mut o = String::new();
        what_changed(&mut o, &t, &changes);
        assert!(o.contains("<li><strong>b&lt;i&gt;</strong> at window 10: mean 2.000 → 3.000 (seen in mean, psi; confidence 0.900); 8 of the 8 windows since drifted.</li>"), "{o}");
        assert!(o.find("b&lt;i&gt;").unwrap() < o.find("<strong>a</strong>").unwrap());
    }

    /// Bars as wide as their bins on a value axis, as high as their densities: equal shares in
    /// bins of widths 1 and 2 give bars of widths 1:2 and heights 2:1.
    #[test]
    fn histograms_are_drawn_to_scale() {
        let chart = Chart {
            labels: vec!["[−∞, 0)".into(), "[0, 1)".into(), "[1, 3)".into(), "[3, +∞)".into()],
            edges: Some(vec![0.0, 1.0, 3.0]),
            baseline: vec![0.1, 0.4, 0.4, 0.1],
            current: vec![0.25, 0.25, 0.25, 0.25],
        };
        let svg = histogram_svg(&chart, &[0.0, 1.0, 3.0]);
        let attr = |rect: &str, name: &str| -> f64 {
            let at = rect.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
            rect[at..].split('"').next().unwrap().parse().unwrap()
        };
        let bars: Vec<(f64, f64, f64)> = svg
            .split("<rect class=\"bar\"")
            .skip(1)
            .map(|r| (attr(r, "x"), attr(r, "width"), attr(r, "height")))
            .collect();
        assert_eq!(bars.len(), 8);
        let (base, cur) = (&bars[..4], &bars[4..]);
        // Bins [0, 1) and [1, 3): widths 1:2, adjacent on the axis.
        assert!((base[2].1 / base[1].1 - 2.0).abs() < 0.01, "{bars:?}");
        assert!((base[1].0 + base[1].1 - base[2].0).abs() < 0.02, "{bars:?}");
        // Equal shares, heights by density: 2:1.
        assert!((base[1].2 / base[2].2 - 2.0).abs() < 0.01, "{bars:?}");
        // The open ends are as wide as their neighbours, and hatched.
        assert!((base[0].1 - base[1].1).abs() < 0.01 && (base[3].1 - base[2].1).abs() < 0.01, "{bars:?}");
        assert_eq!(svg.matches("url(#open)").count(), 4);
        // The densest bar (baseline's [0, 1)) reaches the top; current's equal shares halve
        // from the narrow bins to the wide ones.
        assert!((base[1].2 - 200.0).abs() < 0.01, "{bars:?}");
        assert!((cur[1].2 / cur[2].2 - 2.0).abs() < 0.01 && (cur[0].2 - cur[1].2).abs() < 0.01, "{bars:?}");
        // Charts take the page's width.
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100%\""));
    }

    #[test]
    fn sides_mark_new_values_and_missing_rises() {
        use crate::output::report::{Side, Sides};
        let side = |top: &[(&str, f64)], missing: f64| Side {
            mean: None,
            median: None,
            missing: Some(missing),
            rows: 100.0,
            top: top.iter().map(|(v, s)| (v.to_string(), *s)).collect(),
            all_values: true,
        };
        let sd = Sides {
            name: "plan".into(),
            baseline: Some(side(&[("basic", 0.7), ("plus", 0.3)], 0.01)),
            current: Some(side(&[("basic", 0.5), ("enterprise<b>", 0.3), ("plus", 0.2)], 0.05)),
            baseline_values: vec!["basic".into(), "plus".into(), "rare".into()],
        };
        let t = sides_table(&sd);
        assert!(t.contains("enterprise&lt;b&gt; 30.0%<span class=\"new\">new</span>"), "{t}");
        assert_eq!(t.matches("class=\"new\"").count(), 1, "{t}");
        assert!(t.contains("<td>missing</td><td class=\"num\">1.00%</td><td class=\"num\">5.00%</td>"), "{t}");
        // Statistics that do not list every value mark nothing new.
        let mut partial = sd.clone();
        partial.baseline.as_mut().unwrap().all_values = false;
        assert!(!sides_table(&partial).contains("new</span>"));
    }

    #[test]
    fn tick_numbers_are_short() {
        assert_eq!(short(0.1234567), "0.1235");
        assert_eq!(short(58024.649), "58025");
        assert_eq!(short(123456.0), "1.23e5");
        assert_eq!(short(-0.0005), "-5e-4");
        assert_eq!(short(12.5), "12.5");
        assert_eq!(short(0.0), "0");
    }

    #[test]
    fn a_year_of_hourly_windows_fits_and_keeps_every_drift() {
        let n = 8760;
        let drifted = [5usize, 2000, 2001, 8759];
        let t = Timeline {
            starts: (0..n as i64).map(|i| 1_735_689_600_000 + i * 3_600_000).collect(),
            rows: false,
            features: vec![TimelineFeature {
                name: "x<1>".into(),
                metric: "linf_robust".into(),
                threshold: Some(0.1),
                values: (0..n).map(|i| Some(if drifted.contains(&i) { 0.5 } else { 0.01 })).collect(),
                status: (0..n).map(|i| if drifted.contains(&i) { Verdict::Drift } else { Verdict::Ok }).collect(),
                changes: vec![(2000, "mean, psi".into())],
            }],
        };
        let cols = columns(n);
        assert!(cols.len() <= TIMELINE_COLUMNS);
        assert_eq!(cols.iter().map(|c| c.1 - c.0).sum::<usize>(), n, "every window in a column");
        let heat = heatmap_svg(&t);
        assert_eq!(heat.matches("class=\"cell\"").count(), cols.len());
        // Every drifted window shows: the columns holding one are red, with the count.
        let red: usize = heat.matches("fill=\"#d9534f\"").count();
        let want = cols.iter().filter(|c| drifted.iter().any(|d| (c.0..c.1).contains(d))).count();
        assert_eq!(red, want);
        let counted: usize =
            heat.split("data-drifted=\"").skip(1).map(|s| s[..s.find('"').unwrap()].parse::<usize>().unwrap()).sum();
        assert_eq!(counted, drifted.len());
        assert!(heat.contains("x&lt;1&gt;") && !heat.contains("x<1>"));
        let line = timeline_svg(&t, &t.features[0]);
        assert!(line.contains("change: window 2000, 2025-03-25 08:00; seen in mean, psi"), "{line}");
        assert!(line.contains("threshold 0.1"));
    }
}
