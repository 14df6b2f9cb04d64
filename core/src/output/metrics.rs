//! Metrics out: CloudWatch Embedded Metric Format (JSON Lines) with SageMaker Model Monitor's
//! names, and a Prometheus/OpenMetrics text file for node_exporter's textfile collector.
//!
//! Per feature and window (or per run without windows), as SageMaker's data-quality monitor
//! publishes them: `feature_baseline_drift_<f>` (the drift distance against the reference),
//! `feature_completeness_<f>`, `feature_non_null_<f>` (present values) and `feature_data_<f>`
//! (the mean of a numeric feature); with a multivariate baseline, `multivariate_reconstruction_error`
//! and `multivariate_drifted` per window (or run).

use std::path::PathBuf;

use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::judge::drift::{FeatureDrift, Verdict};
use crate::judge::sagemaker::Violation;
use crate::judge::segments::SegmentResult;
use crate::output::write_atomic;
use crate::profile::DatasetProfile;

/// CloudWatch namespace SageMaker uses for endpoints' data-quality metrics.
pub const NAMESPACE: &str = "aws/sagemaker/Endpoints/data-metrics";
/// Most metrics in one EMF directive.
pub const EMF_MAX_METRICS: usize = 100;
/// Most dimensions in one EMF dimension set.
pub const EMF_MAX_DIMENSIONS: usize = 30;

/// Metrics files a monitoring run writes, and how they are labelled.
#[derive(Debug, Clone)]
pub struct MetricsOptions {
    /// CloudWatch Embedded Metric Format, JSON Lines: a record per window (or for the run).
    pub emf: Option<PathBuf>,
    /// Prometheus text file: the last window's (or the run's) values.
    pub prometheus: Option<PathBuf>,
    /// Endpoint, schedule and EMF dimension set.
    pub labels: Labels,
}

/// Writes the metrics files asked for: the EMF records of `points` (appended to the file with
/// `append`, as `watch` does per closed window; the file rewritten otherwise) and the Prometheus
/// text of the last point, `windows` the number of windows judged so far, `alerts` what alert
/// delivery did so far. Returns the paths.
///
/// # Errors
/// [`Error::Output`] when a file cannot be written.
pub fn write(
    m: &MetricsOptions,
    points: &[Point],
    (windows, segments): (Option<usize>, &[SegmentResult]),
    alerts: Option<&crate::output::alert::Delivery>,
    append: bool,
) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    if let Some(p) = &m.emf {
        let mut text = emf(points, &m.labels);
        text.push_str(&segments_emf(points.last().map_or(0, |p| p.at_ms), &m.labels, segments));
        if append {
            use std::io::Write;
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .and_then(|mut f| f.write_all(text.as_bytes()))
                .map_err(|source| Error::Output { path: p.clone(), source })?;
        } else {
            write_atomic(p, text.as_bytes())?;
        }
        written.push(p.clone());
    }
    if let (Some(p), Some(last)) = (&m.prometheus, points.last()) {
        let mut text = prometheus(last, &m.labels, windows, alerts);
        text.push_str(&segments_prometheus(&m.labels, segments));
        write_atomic(p, text.as_bytes())?;
        written.push(p.clone());
    }
    Ok(written)
}

/// The values of one feature at one point in time.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureValues {
    /// Feature name.
    pub feature: String,
    /// Drift distance against the reference, when compared.
    pub drift: Option<f64>,
    /// Completeness, when the feature had rows.
    pub completeness: Option<f64>,
    /// Present (non-null) values.
    pub non_null: u64,
    /// Mean of the finite values of a numeric feature.
    pub mean: Option<f64>,
    /// The threshold the drift distance was compared with, when compared.
    pub threshold: Option<f64>,
    /// Whether the feature drifted; `None` when it was not compared.
    pub drifted: Option<bool>,
    /// Constraint violations of the feature (drift included).
    pub violations: u64,
}

/// The metrics of one window (or of a whole run).
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// When: the end of the window, milliseconds since the epoch.
    pub at_ms: i64,
    /// Per feature.
    pub features: Vec<FeatureValues>,
    /// Multivariate drift, when the baseline has a reconstruction model.
    pub multivariate: Option<crate::judge::multivariate::MultivariateVerdict>,
    /// The kernel two-sample test, when the baseline has one.
    pub mmd: Option<crate::judge::mmd::MmdVerdict>,
    /// Performance estimated without labels, when the baseline has an estimation model: metric,
    /// estimate, and whether it left the baseline's range.
    pub estimated: Vec<(String, Option<f64>, bool)>,
}

impl Point {
    /// The metrics of `features` (a run's or a window's verdicts) over `profile`, with the
    /// constraint `violations` of the same run or window.
    pub fn of(at_ms: i64, features: &[FeatureDrift], profile: &DatasetProfile, violations: &[Violation]) -> Point {
        Point {
            at_ms,
            multivariate: None,
            mmd: None,
            estimated: Vec::new(),
            features: features
                .iter()
                .map(|f| {
                    let c = profile.column(&f.name);
                    FeatureValues {
                        feature: f.name.clone(),
                        drift: f.distance.filter(|d| d.is_finite()),
                        completeness: c.and_then(|c| c.completeness()),
                        non_null: c.map_or(0, |c| c.present()),
                        mean: c.and_then(|c| c.moments.mean()).filter(|m| m.is_finite()),
                        threshold: f.threshold.filter(|t| t.is_finite()),
                        drifted: match f.status {
                            Verdict::Drift => Some(true),
                            Verdict::Ok => Some(false),
                            Verdict::Skipped => None,
                        },
                        violations: violations.iter().filter(|v| v.feature_name == f.name).count() as u64,
                    }
                })
                .collect(),
        }
    }
}

/// Where the metrics are attributed: EMF dimensions and Prometheus labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Labels {
    /// The endpoint (dimension `Endpoint`, label `endpoint`).
    pub endpoint: String,
    /// The monitoring schedule (dimension `MonitoringSchedule`, label `monitoring_schedule`).
    pub schedule: String,
    /// The EMF dimension set: names among `Endpoint`, `MonitoringSchedule` and `Feature`
    /// (with `Feature`, one record per feature).
    pub dimensions: Vec<String>,
}

impl Labels {
    /// Checks the dimension set.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] for an unknown or repeated name, or more than
    /// [`EMF_MAX_DIMENSIONS`].
    pub fn check(&self) -> crate::Result<()> {
        let bad = |why: String| Err(crate::error::invalid(crate::Opt::EmfDimensions, why));
        if self.dimensions.len() > EMF_MAX_DIMENSIONS {
            return bad(format!("at most {EMF_MAX_DIMENSIONS} dimensions"));
        }
        for (i, d) in self.dimensions.iter().enumerate() {
            if !["Endpoint", "MonitoringSchedule", "Feature"].contains(&d.as_str()) {
                return bad(format!("unknown dimension {d:?}: expected Endpoint, MonitoringSchedule or Feature"));
            }
            if self.dimensions[..i].contains(d) {
                return bad(format!("{d} given twice"));
            }
        }
        Ok(())
    }
}

/// The named metrics of one feature.
fn named(f: &FeatureValues) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    if let Some(d) = f.drift {
        out.push((format!("feature_baseline_drift_{}", f.feature), d));
    }
    if let Some(c) = f.completeness {
        out.push((format!("feature_completeness_{}", f.feature), c));
    }
    out.push((format!("feature_non_null_{}", f.feature), f.non_null as f64));
    if let Some(m) = f.mean {
        out.push((format!("feature_data_{}", f.feature), m));
    }
    out
}

/// One EMF record holding `metrics`.
fn emf_record(at_ms: i64, labels: &Labels, feature: Option<&str>, metrics: &[(String, f64)]) -> Value {
    let mut root = Map::new();
    let directive = json!({
        "Namespace": NAMESPACE,
        "Dimensions": [labels.dimensions],
        "Metrics": metrics.iter().map(|(n, _)| json!({"Name": n, "Unit": "None"})).collect::<Vec<_>>(),
    });
    root.insert("_aws".into(), json!({"Timestamp": at_ms, "CloudWatchMetrics": [directive]}));
    for d in &labels.dimensions {
        let v = match d.as_str() {
            "Endpoint" => labels.endpoint.clone(),
            "MonitoringSchedule" => labels.schedule.clone(),
            _ => feature.unwrap_or_default().to_string(),
        };
        root.insert(d.clone(), Value::String(v));
    }
    for (n, v) in metrics {
        root.insert(n.clone(), json!(v));
    }
    Value::Object(root)
}

/// The gauges of the performance estimated without labels: each metric's estimate and alert.
fn estimated_gauges(point: &Point, base: &str) -> String {
    let mut out = String::new();
    if !point.estimated.is_empty() {
        let name = "driftscope_estimated_performance";
        out.push_str(&format!("# HELP {name} A metric of the model estimated without labels.\n# TYPE {name} gauge\n"));
        for (m, v, _) in &point.estimated {
            if let Some(v) = v {
                out.push_str(&format!("{name}{{{base},metric=\"{}\"}} {}\n", label(m), number(*v)));
            }
        }
        let name = "driftscope_estimated_performance_alert";
        out.push_str(&format!(
            "# HELP {name} 1 when the estimate left the baseline's range, else 0.\n# TYPE {name} gauge\n"
        ));
        for (m, _, alert) in &point.estimated {
            out.push_str(&format!("{name}{{{base},metric=\"{}\"}} {}\n", label(m), u8::from(*alert)));
        }
    }
    out
}

/// The multivariate gauges of a point: the reconstruction error's and the kernel test's.
fn joint_gauges(point: &Point, base: &str) -> String {
    let mut out = String::new();
    if let Some(m) = &point.multivariate {
        let drifted = Some(if m.drift { 1.0 } else { 0.0 });
        for (name, help, v) in [
            ("driftscope_multivariate_reconstruction_error", "Mean PCA reconstruction error of the rows.", m.value),
            (
                "driftscope_multivariate_lower_threshold",
                "Below this mean error, multivariate drift.",
                m.lower_threshold,
            ),
            (
                "driftscope_multivariate_upper_threshold",
                "Above this mean error, multivariate drift.",
                m.upper_threshold,
            ),
            ("driftscope_multivariate_drifted", "1 when the mean error left the baseline's range, else 0.", drifted),
        ] {
            if let Some(v) = v {
                out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n{name}{{{base}}} {}\n", number(v)));
            }
        }
    }
    if let Some(m) = &point.mmd {
        let drifted = Some(if m.drift { 1.0 } else { 0.0 });
        for (name, help, v) in [
            (
                "driftscope_mmd2",
                "Kernel MMD² of the rows against the baseline, less its expectation without change.",
                m.mmd2,
            ),
            ("driftscope_mmd_p_value", "p-value of the kernel two-sample test.", m.p_value),
            ("driftscope_mmd_threshold", "Above this MMD², with a p-value below alpha, drift.", Some(m.threshold)),
            ("driftscope_mmd_drifted", "1 when the kernel test found drift, else 0.", drifted),
        ] {
            if let Some(v) = v {
                out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n{name}{{{base}}} {}\n", number(v)));
            }
        }
    }
    out
}

/// The points as EMF JSON Lines: one record per point (per point and feature when `Feature`
/// is a dimension), split so that no directive holds more than [`EMF_MAX_METRICS`] metrics.
pub fn emf(points: &[Point], labels: &Labels) -> String {
    let per_feature = labels.dimensions.iter().any(|d| d == "Feature");
    let mut out = String::new();
    let mut push = |v: Value| {
        out.push_str(&v.to_string());
        out.push('\n');
    };
    for p in points {
        if let Some(m) = &p.multivariate {
            let mut metrics = vec![("multivariate_drifted".to_string(), if m.drift { 1.0 } else { 0.0 })];
            metrics.extend(m.value.map(|v| ("multivariate_reconstruction_error".to_string(), v)));
            // The run's (or window's) record: no Feature dimension.
            let run = Labels {
                dimensions: labels.dimensions.iter().filter(|d| *d != "Feature").cloned().collect(),
                ..labels.clone()
            };
            push(emf_record(p.at_ms, &run, None, &metrics));
        }
        if let Some(m) = &p.mmd {
            let mut metrics = vec![("mmd_drifted".to_string(), if m.drift { 1.0 } else { 0.0 })];
            metrics.extend(m.mmd2.map(|v| ("mmd2".to_string(), v)));
            metrics.extend(m.p_value.map(|v| ("mmd_p_value".to_string(), v)));
            let run = Labels {
                dimensions: labels.dimensions.iter().filter(|d| *d != "Feature").cloned().collect(),
                ..labels.clone()
            };
            push(emf_record(p.at_ms, &run, None, &metrics));
        }
        if !p.estimated.is_empty() {
            let mut metrics: Vec<(String, f64)> =
                p.estimated.iter().filter_map(|(m, v, _)| v.map(|v| (format!("estimated_{m}"), v))).collect();
            metrics
                .push(("estimated_performance_alerts".to_string(), p.estimated.iter().filter(|e| e.2).count() as f64));
            let run = Labels {
                dimensions: labels.dimensions.iter().filter(|d| *d != "Feature").cloned().collect(),
                ..labels.clone()
            };
            push(emf_record(p.at_ms, &run, None, &metrics));
        }
        if per_feature {
            for f in &p.features {
                for chunk in named(f).chunks(EMF_MAX_METRICS) {
                    push(emf_record(p.at_ms, labels, Some(&f.feature), chunk));
                }
            }
        } else {
            let all: Vec<(String, f64)> = p.features.iter().flat_map(named).collect();
            for chunk in all.chunks(EMF_MAX_METRICS) {
                push(emf_record(p.at_ms, labels, None, chunk));
            }
        }
    }
    out
}

/// A label value escaped for the Prometheus text format.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// A Prometheus metric family: its name, its help text and the feature's value in it.
type Family<'a> = (&'a str, &'a str, &'a dyn Fn(&FeatureValues) -> Option<f64>);

/// The latest point as a Prometheus text file (the textfile collector takes no timestamps:
/// the file holds the current state, and a scrape attributes it to its own time).
pub fn prometheus(
    point: &Point,
    labels: &Labels,
    windows: Option<usize>,
    alerts: Option<&crate::output::alert::Delivery>,
) -> String {
    let base = format!("endpoint=\"{}\",monitoring_schedule=\"{}\"", label(&labels.endpoint), label(&labels.schedule));
    let mut out = String::new();
    let families: [Family; 7] = [
        ("driftscope_feature_baseline_drift", "Drift distance of the feature against its reference.", &|f| f.drift),
        (
            "driftscope_feature_drift_threshold",
            "Threshold the feature's drift distance is compared with (its method says which side drifts).",
            &|f| f.threshold,
        ),
        (
            "driftscope_feature_drifted",
            "1 when the feature drifted, 0 when it did not (absent when not compared).",
            &|f| f.drifted.map(|d| if d { 1.0 } else { 0.0 }),
        ),
        ("driftscope_feature_violations", "Constraint violations of the feature, drift included.", &|f| {
            Some(f.violations as f64)
        }),
        ("driftscope_feature_completeness", "Share of the feature's rows holding a value.", &|f| f.completeness),
        ("driftscope_feature_non_null", "Values present in the feature.", &|f| Some(f.non_null as f64)),
        ("driftscope_feature_mean", "Mean of the feature's finite values.", &|f| f.mean),
    ];
    for (name, help, get) in families {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n"));
        for f in &point.features {
            if let Some(v) = get(f) {
                out.push_str(&format!("{name}{{{base},feature=\"{}\"}} {}\n", label(&f.feature), number(v)));
            }
        }
    }
    out.push_str(&joint_gauges(point, &base));
    out.push_str(&estimated_gauges(point, &base));
    out.push_str(
        "# HELP driftscope_last_window_end_timestamp_seconds End of the window (or run) these values describe.\n",
    );
    out.push_str("# TYPE driftscope_last_window_end_timestamp_seconds gauge\n");
    out.push_str(&format!(
        "driftscope_last_window_end_timestamp_seconds{{{base}}} {}\n",
        number(point.at_ms as f64 / 1000.0)
    ));
    if let Some(n) = windows {
        out.push_str("# HELP driftscope_windows Windows judged by the run.\n# TYPE driftscope_windows gauge\n");
        out.push_str(&format!("driftscope_windows{{{base}}} {n}\n"));
    }
    if let Some(a) = alerts {
        for (name, help, v) in [
            ("driftscope_alerts_sent_total", "Alert messages delivered.", a.sent),
            ("driftscope_alert_failures_total", "Alert messages that failed after every attempt.", a.failed),
            ("driftscope_alerts_rate_limited_total", "Alerts held back by the per-sink rate limit.", a.rate_limited),
        ] {
            out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} counter\n{name}{{{base}}} {v}\n"));
        }
    }
    out
}

/// A Prometheus metric family of segments: its name, its help text and the segment's value.
type SegmentFamily<'a> = (&'a str, &'a str, &'a dyn Fn(&SegmentResult) -> f64);

/// Each segment's verdict over the run as Prometheus gauges, labelled `segment`.
fn segments_prometheus(labels: &Labels, segments: &[SegmentResult]) -> String {
    if segments.is_empty() {
        return String::new();
    }
    let base = format!("endpoint=\"{}\",monitoring_schedule=\"{}\"", label(&labels.endpoint), label(&labels.schedule));
    let mut out = String::new();
    let families: [SegmentFamily; 3] = [
        ("driftscope_segment_drifted_features", "Features that drifted in the segment over the run.", &|r| {
            r.drifted() as f64
        }),
        ("driftscope_segment_violations", "Violations of the segment over the run, drift included.", &|r| {
            r.violations.len() as f64
        }),
        ("driftscope_segment_rows", "Rows of the segment.", &|r| r.rows as f64),
    ];
    for (name, help, get) in families {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n"));
        for r in segments {
            out.push_str(&format!("{name}{{{base},segment=\"{}\"}} {}\n", label(&r.segment), number(get(r))));
        }
    }
    out
}

/// Each segment's verdict over the run as an EMF record, stamped `at_ms`, with a `Segment`
/// dimension beside the run's (without `Feature`).
fn segments_emf(at_ms: i64, labels: &Labels, segments: &[SegmentResult]) -> String {
    let mut dims: Vec<String> = labels.dimensions.iter().filter(|d| *d != "Feature").cloned().collect();
    dims.push("Segment".into());
    let by_segment = Labels { dimensions: dims, ..labels.clone() };
    let mut out = String::new();
    for r in segments {
        let metrics = [
            ("segment_drifted_features".to_string(), r.drifted() as f64),
            ("segment_violations".to_string(), r.violations.len() as f64),
        ];
        out.push_str(&emf_record(at_ms, &by_segment, Some(&r.segment), &metrics).to_string());
        out.push('\n');
    }
    out
}

/// A number as Prometheus writes it.
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(features: usize) -> Point {
        Point {
            at_ms: 1_795_827_600_000,
            multivariate: None,
            mmd: None,
            estimated: Vec::new(),
            features: (0..features)
                .map(|i| FeatureValues {
                    feature: format!("f{i}"),
                    drift: Some(0.5),
                    completeness: Some(1.0),
                    non_null: 10,
                    mean: Some(i as f64),
                    threshold: Some(0.1),
                    drifted: Some(true),
                    violations: 1,
                })
                .collect(),
        }
    }

    fn labels(dims: &[&str]) -> Labels {
        Labels {
            endpoint: "ep".into(),
            schedule: "hourly".into(),
            dimensions: dims.iter().map(|d| d.to_string()).collect(),
        }
    }

    #[test]
    fn emf_records_respect_the_directive_limits() {
        // 30 features × 4 metrics = 120 metrics: two records of at most 100.
        let text = emf(&[point(30)], &labels(&["Endpoint", "MonitoringSchedule"]));
        let records: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(records.len(), 2);
        let mut names = 0;
        for r in &records {
            let d = &r["_aws"]["CloudWatchMetrics"][0];
            assert_eq!(d["Namespace"], NAMESPACE);
            assert_eq!(d["Dimensions"], json!([["Endpoint", "MonitoringSchedule"]]));
            assert_eq!(r["Endpoint"], "ep");
            assert_eq!(r["_aws"]["Timestamp"], 1_795_827_600_000i64);
            let metrics = d["Metrics"].as_array().unwrap();
            assert!(metrics.len() <= EMF_MAX_METRICS);
            for m in metrics {
                assert!(r[m["Name"].as_str().unwrap()].is_number(), "{m}");
            }
            names += metrics.len();
        }
        assert_eq!(names, 120);
        assert_eq!(records[0]["feature_baseline_drift_f0"], 0.5);
        assert_eq!(records[1]["feature_data_f29"], 29.0);
        // With the Feature dimension: a record per feature, naming it.
        let text = emf(&[point(3)], &labels(&["Endpoint", "Feature"]));
        let records: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(records.len(), 3);
        assert_eq!(records[2]["Feature"], "f2");
        assert!(labels(&["Endpoint", "Nope"]).check().is_err());
        assert!(labels(&["Feature", "Feature"]).check().is_err());
        assert!(labels(&["Endpoint", "MonitoringSchedule", "Feature"]).check().is_ok());
    }

    #[test]
    fn prometheus_text_escapes_labels() {
        let mut p = point(1);
        p.features[0].feature = "a\"b\\c".into();
        let text = prometheus(&p, &labels(&[]), Some(3), None);
        assert!(text.contains(r#"feature="a\"b\\c""#), "{text}");
        assert!(text.contains("driftscope_windows{endpoint=\"ep\",monitoring_schedule=\"hourly\"} 3"));
        assert!(text.contains(
            "driftscope_last_window_end_timestamp_seconds{endpoint=\"ep\",monitoring_schedule=\"hourly\"} 1795827600"
        ));
    }
}
