//! The columns every table of verdicts shares (`windows.csv`, `segments.csv` and their Parquet
//! twins): per feature its rows, completeness, mean, standard deviation, verdict, method,
//! distance, threshold, violations, reason and every drift metric of `drift.json`.

use std::sync::Arc;

use arrow_array::builder::{Float64Builder, StringBuilder, UInt64Builder};
use arrow_array::ArrayRef;

use crate::judge::drift::{FeatureDrift, METRICS};
use crate::judge::sagemaker::Violation;
use crate::profile::ColumnProfile;

/// Builders of the shared columns, a row per feature verdict.
pub struct VerdictColumns {
    feature: StringBuilder,
    rows: UInt64Builder,
    completeness: Float64Builder,
    mean: Float64Builder,
    std_dev: Float64Builder,
    status: StringBuilder,
    method: StringBuilder,
    distance: Float64Builder,
    threshold: Float64Builder,
    violations: UInt64Builder,
    reason: StringBuilder,
    metrics: Vec<Float64Builder>,
}

impl Default for VerdictColumns {
    fn default() -> Self {
        VerdictColumns::with_capacity(0)
    }
}

impl VerdictColumns {
    /// Builders with room for `rows` rows (their text columns for names of about 16 bytes).
    pub fn with_capacity(rows: usize) -> Self {
        let text = || StringBuilder::with_capacity(rows, 16 * rows);
        VerdictColumns {
            feature: text(),
            rows: UInt64Builder::with_capacity(rows),
            completeness: Float64Builder::with_capacity(rows),
            mean: Float64Builder::with_capacity(rows),
            std_dev: Float64Builder::with_capacity(rows),
            status: text(),
            method: text(),
            distance: Float64Builder::with_capacity(rows),
            threshold: Float64Builder::with_capacity(rows),
            violations: UInt64Builder::with_capacity(rows),
            reason: StringBuilder::with_capacity(rows, 0),
            metrics: METRICS.iter().map(|_| Float64Builder::with_capacity(rows)).collect(),
        }
    }

    /// One row: feature `f`'s verdict, its column's profile `col` (in the window or segment),
    /// and the window's or segment's `violations` (those of the feature are counted).
    pub fn append(&mut self, f: &FeatureDrift, col: Option<&ColumnProfile>, violations: &[Violation]) {
        self.feature.append_value(&f.name);
        self.rows.append_value(col.map_or(0, |c| c.rows));
        self.completeness.append_option(col.and_then(|c| c.completeness()));
        self.mean.append_option(col.and_then(|c| c.moments.mean()));
        self.std_dev.append_option(col.and_then(|c| c.moments.std_dev()));
        self.status.append_value(f.status.to_string());
        self.method.append_option(f.method.as_deref());
        self.reason.append_option(f.reason.as_deref());
        self.distance.append_option(f.distance);
        self.threshold.append_option(f.threshold);
        self.violations.append_value(violations.iter().filter(|v| v.feature_name == f.name).count() as u64);
        for (b, v) in self.metrics.iter_mut().zip(f.metric_row()) {
            b.append_option(v);
        }
    }

    /// The columns, named, in their order.
    pub fn finish(mut self) -> Vec<(&'static str, ArrayRef)> {
        let mut columns: Vec<(&'static str, ArrayRef)> = vec![
            ("feature", Arc::new(self.feature.finish())),
            ("rows", Arc::new(self.rows.finish())),
            ("completeness", Arc::new(self.completeness.finish())),
            ("mean", Arc::new(self.mean.finish())),
            ("std_dev", Arc::new(self.std_dev.finish())),
            ("status", Arc::new(self.status.finish())),
            ("method", Arc::new(self.method.finish())),
            ("distance", Arc::new(self.distance.finish())),
            ("threshold", Arc::new(self.threshold.finish())),
            ("violations", Arc::new(self.violations.finish())),
            ("reason", Arc::new(self.reason.finish())),
        ];
        for (b, name) in self.metrics.iter_mut().zip(METRICS) {
            columns.push((name, Arc::new(b.finish())));
        }
        columns
    }
}
