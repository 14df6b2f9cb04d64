//! Bias metrics of SageMaker Clarify (its open-source library, `smclarify`), from counts: the
//! groundwork of the bias drift monitor.
//!
//! Every metric Clarify computes on a binary label is a function of a few counts per facet side
//! — the sensitive facet `d` (the rows whose facet value is one of the given values, or above
//! the given threshold) and the rest `a` — and, for the conditional demographic disparities, per
//! value of a group variable. [`FacetCounts`] holds them: rows fold in with [`FacetCounts::add`]
//! and partial counts merge, so the metrics come out of one pass at full volume, per window as
//! for the whole, and exactly as `smclarify` computes them on the rows.
//!
//! Definitions (`n` rows, `pos` positive labels, `ŷ` positive predictions; `divide(x, 0)` is
//! ±∞, or 0 for `0/0`; a difference of two +∞ is 0), as `smclarify` 0.5 has them:
//! - pre-training, on the labels: CI `(na − nd)/(na + nd)`; DPL `qa − qd` with `q = pos/n`; KL,
//!   JS, LP (L2), TVD (half L1) and KS (L∞) between the label distributions of `a` and `d` over
//!   the label values both sides hold (a value one side lacks is dropped, the other side's
//!   probabilities are not renormalized); CDDL `Σ_g n_g·(D_g − A_g)/Σ_g n_g` with `A_g` the
//!   sensitive share of the group's positive labels and `D_g` of its negative ones;
//! - post-training, with the predictions: DPPL (DPL of the predictions), DI `q̂d/q̂a`, DCA
//!   `pos_a/ŷ_a − pos_d/ŷ_d`, DCR `rr_d − rr_a` with `rr = neg/(n − ŷ)`, RD (recall a − d), SD
//!   (specificity d − a), DAR (precision a − d), DRR (`TN/(n − ŷ)`, d − a), AD (accuracy a − d),
//!   TE `FN/FP` (d − a), CDDPL (CDDL of the predictions), GE (generalized entropy, α = 2, over
//!   every row). FT (the flip test) needs every row's features and a nearest-neighbour model:
//!   it is not computed from counts, and is reported as skipped.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Counts of one side of a facet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Side {
    /// Rows.
    pub n: u64,
    /// Positive labels.
    pub pos: u64,
    /// Positive predictions.
    pub pred: u64,
    /// Positive label and prediction.
    pub tp: u64,
}

impl Side {
    fn add(&mut self, label: bool, predicted: Option<bool>) {
        self.n += 1;
        self.pos += u64::from(label);
        if let Some(p) = predicted {
            self.pred += u64::from(p);
            self.tp += u64::from(label && p);
        }
    }
    fn merge(&mut self, o: &Side) {
        self.n += o.n;
        self.pos += o.pos;
        self.pred += o.pred;
        self.tp += o.tp;
    }
    fn neg(&self) -> u64 {
        self.n - self.pos
    }
    fn fp(&self) -> u64 {
        self.pred - self.tp
    }
    fn fn_(&self) -> u64 {
        self.pos - self.tp
    }
    fn tn(&self) -> u64 {
        self.n - self.pos - self.fp()
    }
}

/// Counts of one value of the group variable: rows, and per label kind (labels, predictions)
/// the positives and negatives overall and in the sensitive facet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// Rows.
    pub n: u64,
    /// `[labels, predictions]`: (positives, sensitive positives, negatives, sensitive negatives).
    pub kinds: [(u64, u64, u64, u64); 2],
}

/// The counts of a facet split, over rows with a label (and, post-training, a prediction).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FacetCounts {
    /// The rest (`a`).
    pub a: Side,
    /// The sensitive facet (`d`).
    pub d: Side,
    /// Per value of the group variable, when there is one.
    pub groups: BTreeMap<String, Group>,
    /// Whether every row had a prediction (the post-training metrics need one).
    pub predicted: bool,
}

impl FacetCounts {
    /// Counts for rows with predictions (`predicted`) or without.
    pub fn new(predicted: bool) -> FacetCounts {
        FacetCounts { predicted, ..FacetCounts::default() }
    }

    /// Folds in a row: in the sensitive facet or not, its label positive or not, its
    /// prediction (when the counts are post-training), its group.
    pub fn add(&mut self, sensitive: bool, label: bool, predicted: Option<bool>, group: Option<&str>) {
        let p = predicted.filter(|_| self.predicted);
        if sensitive { &mut self.d } else { &mut self.a }.add(label, p);
        if let Some(g) = group {
            // The group's entry found without a new string for every row.
            if !self.groups.contains_key(g) {
                self.groups.insert(g.to_string(), Group::default());
            }
            let e = self.groups.get_mut(g).expect("inserted above");
            e.n += 1;
            for (k, v) in [Some(label), p].into_iter().enumerate() {
                let Some(v) = v else { continue };
                let c = &mut e.kinds[k];
                match (v, sensitive) {
                    (true, s) => {
                        c.0 += 1;
                        c.1 += u64::from(s);
                    }
                    (false, s) => {
                        c.2 += 1;
                        c.3 += u64::from(s);
                    }
                }
            }
        }
    }

    /// Adds `other`'s counts.
    pub fn merge(&mut self, other: &FacetCounts) {
        self.a.merge(&other.a);
        self.d.merge(&other.d);
        for (g, o) in &other.groups {
            let e = self.groups.entry(g.clone()).or_default();
            e.n += o.n;
            for k in 0..2 {
                let (x, y) = (&mut e.kinds[k], o.kinds[k]);
                *x = (x.0 + y.0, x.1 + y.1, x.2 + y.2, x.3 + y.3);
            }
        }
    }
}

/// A metric's value, or why it has none (`smclarify` raises an error there).
pub type Figure = Result<f64, String>;

/// Clarify's `divide`: ±∞ for a nonzero numerator over 0, 0 for `0/0`.
fn divide(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        if a == 0.0 {
            0.0
        } else if a < 0.0 {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        }
    } else {
        a / b
    }
}

/// `x − y`, 0 when both are +∞ (Clarify's rule for its differences of ratios).
fn diff(x: f64, y: f64) -> f64 {
    if x == y && x == f64::INFINITY {
        0.0
    } else {
        x - y
    }
}

/// The two facet sides' label (or prediction) distributions over the values both hold.
fn aligned(a: (u64, u64), d: (u64, u64)) -> Result<(Vec<f64>, Vec<f64>), String> {
    let (na, nd) = ((a.0 + a.1) as f64, (d.0 + d.1) as f64);
    let mut pa = Vec::new();
    let mut pd = Vec::new();
    // Values in sorted order: false (negatives) then true (positives).
    for (x, y) in [(a.1, d.1), (a.0, d.0)] {
        if x > 0 && y > 0 {
            pa.push(x as f64 / na);
            pd.push(y as f64 / nd);
        }
    }
    if pa.is_empty() {
        return Err("no label value is common to both facet sides".into());
    }
    Ok((pa, pd))
}

/// The metrics of one facet split, by Clarify's names (pre-training ones always; post-training
/// ones when the counts hold predictions), in the order Clarify sorts them (by name).
pub fn metrics(c: &FacetCounts) -> BTreeMap<&'static str, Figure> {
    let mut out: BTreeMap<&'static str, Figure> = BTreeMap::new();
    let (a, d) = (&c.a, &c.d);
    let sides = || -> Result<(), String> {
        match (a.n, d.n) {
            (_, 0) => Err("the facet holds no row".into()),
            (0, _) => Err("every row is in the facet: the rest is empty".into()),
            _ => Ok(()),
        }
    };
    let with_sides = |f: &dyn Fn() -> f64| sides().map(|_| f());
    let (na, nd) = (a.n as f64, d.n as f64);
    out.insert("CI", with_sides(&|| (na - nd) / (na + nd)));
    out.insert("DPL", with_sides(&|| a.pos as f64 / na - d.pos as f64 / nd));
    let dist = sides().and_then(|_| aligned((a.pos, a.neg()), (d.pos, d.neg())));
    out.insert("KL", dist.clone().map(|(pa, pd)| pa.iter().zip(&pd).map(|(x, y)| x * (x / y).ln()).sum()));
    out.insert(
        "JS",
        dist.clone().map(|(pa, pd)| {
            let m: Vec<f64> = pa.iter().zip(&pd).map(|(x, y)| (x + y) / 2.0).collect();
            let kl = |p: &[f64]| p.iter().zip(&m).map(|(x, y)| x * (x / y).ln()).sum::<f64>();
            0.5 * (kl(&pa) + kl(&pd))
        }),
    );
    let gaps = dist.map(|(pa, pd)| pa.iter().zip(&pd).map(|(x, y)| (x - y).abs()).collect::<Vec<f64>>());
    out.insert("LP", gaps.clone().map(|g| g.iter().map(|x| x * x).sum::<f64>().sqrt()));
    out.insert("TVD", gaps.clone().map(|g| 0.5 * g.iter().sum::<f64>()));
    out.insert("KS", gaps.map(|g| g.iter().copied().fold(0.0, f64::max)));
    out.insert("CDDL", cdd(c, 0));
    if !c.predicted {
        return out;
    }
    let (fa, fd) = (a.fp() as f64, d.fp() as f64);
    let (fna, fnd) = (a.fn_() as f64, d.fn_() as f64);
    let (tna, tnd) = (a.tn() as f64, d.tn() as f64);
    let (ta, td) = (a.tp as f64, d.tp as f64);
    let (pa, pd) = (a.pred as f64, d.pred as f64);
    let (posa, posd) = (a.pos as f64, d.pos as f64);
    let (nega, negd) = (a.neg() as f64, d.neg() as f64);
    out.insert("DPPL", with_sides(&|| pa / na - pd / nd));
    out.insert("DI", with_sides(&|| divide(pd / nd, pa / na)));
    out.insert("DCA", with_sides(&|| diff(divide(posa, pa), divide(posd, pd))));
    out.insert("DCR", with_sides(&|| diff(divide(negd, nd - pd), divide(nega, na - pa))));
    out.insert("RD", with_sides(&|| diff(divide(ta, ta + fna), divide(td, td + fnd))));
    out.insert("SD", with_sides(&|| diff(divide(tnd, tnd + fd), divide(tna, tna + fa))));
    out.insert("DAR", with_sides(&|| diff(divide(ta, pa), divide(td, pd))));
    out.insert("DRR", with_sides(&|| diff(divide(tnd, nd - pd), divide(tna, na - pa))));
    out.insert("AD", with_sides(&|| diff(divide(ta + tna, na), divide(td + tnd, nd))));
    out.insert("TE", with_sides(&|| diff(divide(fnd, fd), divide(fna, fa))));
    out.insert("CDDPL", cdd(c, 1));
    out.insert("GE", generalized_entropy(a, d));
    out.insert(
        "FT",
        Err("the flip test needs every row's features and a nearest-neighbour model: not computed from counts".into()),
    );
    out
}

/// Conditional demographic disparity of the labels (`kind` 0) or predictions (1).
fn cdd(c: &FacetCounts, kind: usize) -> Figure {
    if c.groups.is_empty() {
        return Err("no group variable".into());
    }
    let (pos, neg): (u64, u64) = c.groups.values().fold((0, 0), |s, g| (s.0 + g.kinds[kind].0, s.1 + g.kinds[kind].2));
    if pos == 0 {
        return Err("no positive labels".into());
    }
    if neg == 0 {
        return Err("no negative labels".into());
    }
    let (mut sum, mut total) = (0.0, 0.0);
    for g in c.groups.values() {
        let (p, pd, q, qd) = g.kinds[kind];
        let share = |num: u64, den: u64| if den == 0 { 0.0 } else { num as f64 / den as f64 };
        sum += g.n as f64 * (share(qd, q) - share(pd, p));
        total += g.n as f64;
    }
    Ok(divide(sum, total))
}

/// Generalized entropy (α = 2) of the benefits `ŷ − y + 1` over every row.
fn generalized_entropy(a: &Side, d: &Side) -> Figure {
    let n = (a.n + d.n) as f64;
    if n == 0.0 {
        return Err("no row".into());
    }
    // Benefit 0: false negatives; 1: correct; 2: false positives.
    let fneg = (a.fn_() + d.fn_()) as f64;
    let fpos = (a.fp() + d.fp()) as f64;
    let right = n - fneg - fpos;
    let mean = (right + 2.0 * fpos) / n;
    if mean == 0.0 {
        return Err("every prediction is a false negative".into());
    }
    let term = |b: f64| (b / mean).powi(2) - 1.0;
    Ok((fneg * term(0.0) + right * term(1.0) + fpos * term(2.0)) / (n * 2.0))
}

/// Resamples drawn to estimate a metric's sampling noise ([`standard_errors`]).
pub const NOISE_RESAMPLES: usize = 200;

/// Standard errors past its baseline value a metric must be to violate, under driftscope's
/// noise-aware rule: `Φ⁻¹(1 − 0.01/20)`, so that a window of an unchanged process, with its
/// twenty or so metrics, raises a violation with probability at most about 1% (Bonferroni).
pub const NOISE_SIGMAS: f64 = 3.29;

/// Each metric's standard error by (facet, value or threshold, metric).
pub type Noise = BTreeMap<(String, String, String), f64>;

/// The noise-aware rule's allowance for a metric: [`NOISE_SIGMAS`] standard errors of the
/// difference between its current value and its baseline value, two independent estimates —
/// the current one's noise and, when it is known (a driftscope baseline's `bias/noise.json`),
/// the baseline's. A metric without a current standard error gets none (Clarify's rule).
pub fn noise_allowance(current: Option<f64>, baseline: Option<f64>) -> f64 {
    current.map_or(0.0, |c| NOISE_SIGMAS * (c * c + baseline.map_or(0.0, |b| b * b)).sqrt())
}

/// A baseline's `bias/noise.json`: the standard error of each of its metrics, so that a
/// monitoring run allows for the baseline's own sampling noise too (a small baseline's metrics
/// are as noisy as a window's). Written beside Clarify's `analysis.json`, which it leaves as
/// Clarify writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineNoise {
    /// `"1.0"`.
    pub version: String,
    /// The resamples each standard error was estimated from.
    pub resamples: usize,
    /// One per metric with a standard error.
    pub standard_errors: Vec<NoiseEntry>,
}

/// One metric's standard error in [`BaselineNoise`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoiseEntry {
    /// The facet column.
    pub facet: String,
    /// Its sensitive values or threshold, as `analysis.json` writes them.
    pub value_or_threshold: String,
    /// The metric's short name.
    pub metric: String,
    /// Its standard error.
    pub standard_error: f64,
}

impl BaselineNoise {
    /// The file of `noise`.
    pub fn of(noise: &Noise) -> BaselineNoise {
        BaselineNoise {
            version: "1.0".into(),
            resamples: NOISE_RESAMPLES,
            standard_errors: noise
                .iter()
                .map(|((facet, value, metric), se)| NoiseEntry {
                    facet: facet.clone(),
                    value_or_threshold: value.clone(),
                    metric: metric.clone(),
                    standard_error: *se,
                })
                .collect(),
        }
    }

    /// The standard errors by (facet, value or threshold, metric).
    pub fn noise(&self) -> Noise {
        self.standard_errors
            .iter()
            .map(|e| ((e.facet.clone(), e.value_or_threshold.clone(), e.metric.clone()), e.standard_error))
            .collect()
    }
}

/// A draw of `Binomial(n, p)`: the normal approximation (rounded, clamped) when
/// `n·p·(1 − p)` is above 25, else by inversion.
fn binomial(n: u64, p: f64, state: &mut u64) -> u64 {
    if n == 0 || p <= 0.0 {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    let uniform = |s: &mut u64| ((crate::codec::splitmix64(s) >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    let var = n as f64 * p * (1.0 - p);
    if var > 25.0 {
        let (u1, u2) = (uniform(state), uniform(state));
        let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        return (n as f64 * p + var.sqrt() * z).round().clamp(0.0, n as f64) as u64;
    }
    // Inversion from the mode's side with fewer terms: count failures when p > ½.
    let (q, flip) = if p > 0.5 { (1.0 - p, true) } else { (p, false) };
    let u = uniform(state);
    let ratio = q / (1.0 - q);
    let mut pk = (1.0 - q).powf(n as f64);
    let mut cdf = pk;
    let mut k = 0u64;
    while u > cdf && k < n {
        pk *= ratio * (n - k) as f64 / (k + 1) as f64;
        k += 1;
        cdf += pk;
        if pk < 1e-300 && cdf < u {
            break;
        }
    }
    if flip {
        n - k
    } else {
        k
    }
}

/// Multinomial counts of `n` over cells of the given counts (sequential binomials).
fn multinomial(n: u64, cells: &[u64], state: &mut u64) -> Vec<u64> {
    let total: u64 = cells.iter().sum();
    let (mut left_n, mut left_total) = (n, total);
    let mut out = Vec::with_capacity(cells.len());
    for &c in cells {
        let draw = if left_total == 0 { 0 } else { binomial(left_n, c as f64 / left_total as f64, state) };
        out.push(draw);
        left_n -= draw;
        left_total -= c;
    }
    out
}

/// The counts drawn again from their own proportions: the rows over the two sides, each side's
/// rows over its cells (true and false positives and negatives), and each group's sensitive
/// shares of its positives and negatives, their totals kept.
fn resample(c: &FacetCounts, state: &mut u64) -> FacetCounts {
    let sizes = multinomial(c.a.n + c.d.n, &[c.a.n, c.d.n], state);
    let side = |s: &Side, n: u64, state: &mut u64| {
        let (tp, fp, fn_, tn) = if c.predicted { (s.tp, s.fp(), s.fn_(), s.tn()) } else { (s.pos, 0, 0, s.neg()) };
        let d = multinomial(n, &[tp, fp, fn_, tn], state);
        if c.predicted {
            Side { n, pos: d[0] + d[2], pred: d[0] + d[1], tp: d[0] }
        } else {
            Side { n, pos: d[0], pred: 0, tp: 0 }
        }
    };
    let (a, d) = (side(&c.a, sizes[0], state), side(&c.d, sizes[1], state));
    let mut out = FacetCounts { a, d, groups: c.groups.clone(), predicted: c.predicted };
    for g in out.groups.values_mut() {
        for k in &mut g.kinds {
            k.1 = if k.0 == 0 { 0 } else { binomial(k.0, k.1 as f64 / k.0 as f64, state) };
            k.3 = if k.2 == 0 { 0 } else { binomial(k.2, k.3 as f64 / k.2 as f64, state) };
        }
    }
    out
}

/// Each metric's sampling noise: the standard deviation of its values over
/// [`NOISE_RESAMPLES`] parametric resamples of the counts (seeded by the counts, so the same
/// counts give the same figures). Metrics without finite values in enough resamples are left
/// out.
pub fn standard_errors(c: &FacetCounts) -> BTreeMap<&'static str, f64> {
    let mut state =
        crate::codec::mix64(c.a.n ^ c.d.n.rotate_left(17) ^ c.a.pos.rotate_left(31) ^ c.d.pos.rotate_left(47));
    let mut values: BTreeMap<&'static str, Vec<f64>> = BTreeMap::new();
    for _ in 0..NOISE_RESAMPLES {
        for (k, v) in metrics(&resample(c, &mut state)) {
            match v {
                Ok(x) if x.is_finite() => values.entry(k).or_default().push(x),
                _ => {}
            }
        }
    }
    values
        .into_iter()
        .filter(|(_, v)| v.len() * 2 >= NOISE_RESAMPLES)
        .map(|(k, v)| {
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (v.len() - 1) as f64;
            (k, var.sqrt())
        })
        .collect()
}

/// A metric's description, as Clarify writes it beside the name.
pub fn description(name: &str) -> &'static str {
    match name {
        "CI" => "Class Imbalance (CI)",
        "DPL" => "Difference in Positive Proportions in Labels (DPL)",
        "KL" => "Kullback-Liebler Divergence (KL)",
        "JS" => "Jensen-Shannon Divergence (JS)",
        "LP" => "L-p Norm (LP)",
        "TVD" => "Total Variation Distance (TVD)",
        "KS" => "Kolmogorov-Smirnov Distance (KS)",
        "CDDL" => "Conditional Demographic Disparity in Labels (CDDL)",
        "DPPL" => "Difference in Positive Proportions in Predicted Labels (DPPL)",
        "DI" => "Disparate Impact (DI)",
        "DCA" => "Difference in Conditional Acceptance (DCA)",
        "DCR" => "Difference in Conditional Rejection (DCR)",
        "RD" => "Recall Difference (RD)",
        "SD" => "Specificity Difference (SD)",
        "DAR" => "Difference in Acceptance Rates (DAR)",
        "DRR" => "Difference in Rejection Rates (DRR)",
        "AD" => "Accuracy Difference (AD)",
        "CDDPL" => "Conditional Demographic Disparity in Predicted Labels (CDDPL)",
        "TE" => "Treatment Equality (TE)",
        "FT" => "Flip Test (FT)",
        "GE" => "Generalized Entropy (GE)",
        _ => "",
    }
}

/// The pre-training metrics' names (the rest are post-training).
pub const PRE_TRAINING: [&str; 8] = ["CDDL", "CI", "DPL", "JS", "KL", "KS", "LP", "TVD"];

/// One metric in Clarify's `analysis.json`: a value (infinities as `"Infinity"`), or an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricEntry {
    /// Clarify's name (`CI`, `DPPL`…).
    pub name: String,
    /// Clarify's description.
    #[serde(default)]
    pub description: String,
    /// The value: a number, or `"Infinity"`/`"-Infinity"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
    /// Why there is no value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl MetricEntry {
    /// The entry of a computed figure.
    pub fn of(name: &str, figure: &Figure) -> MetricEntry {
        let (value, error) = match figure {
            Ok(v) if v.is_finite() => (Some(serde_json::json!(v)), None),
            Ok(v) => (Some(serde_json::json!(if *v > 0.0 { "Infinity" } else { "-Infinity" })), None),
            Err(e) => (None, Some(e.clone())),
        };
        MetricEntry { name: name.to_string(), description: description(name).to_string(), value, error }
    }

    /// The value as a number (infinities included); `None` for an error.
    pub fn number(&self) -> Option<f64> {
        match self.value.as_ref()? {
            serde_json::Value::Number(n) => n.as_f64(),
            serde_json::Value::String(s) => match s.as_str() {
                "Infinity" => Some(f64::INFINITY),
                "-Infinity" => Some(f64::NEG_INFINITY),
                other => other.parse().ok(),
            },
            _ => None,
        }
    }
}

/// One facet value's metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FacetEntry {
    /// The facet's sensitive values, or its threshold, as text.
    pub value_or_threshold: String,
    /// The metrics, by name.
    pub metrics: Vec<MetricEntry>,
}

/// A stage's metrics (`pre_training_bias_metrics`, `post_training_bias_metrics`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageMetrics {
    /// The label column.
    pub label: String,
    /// Its positive values or threshold, as text.
    pub label_value_or_threshold: String,
    /// Per facet column.
    pub facets: BTreeMap<String, Vec<FacetEntry>>,
}

/// Clarify's bias `analysis.json`: the stages' metrics; fields not modelled are kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BiasAnalysis {
    /// `"1.0"`.
    #[serde(default = "one")]
    pub version: String,
    /// Metrics of the labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_training_bias_metrics: Option<StageMetrics>,
    /// Metrics of the predictions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_training_bias_metrics: Option<StageMetrics>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

fn one() -> String {
    "1.0".into()
}

impl BiasAnalysis {
    /// Every metric of both stages: (facet, facet value, metric).
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str, &MetricEntry)> {
        [&self.pre_training_bias_metrics, &self.post_training_bias_metrics].into_iter().flatten().flat_map(|s| {
            s.facets.iter().flat_map(|(f, values)| {
                values
                    .iter()
                    .flat_map(move |v| v.metrics.iter().map(move |m| (f.as_str(), v.value_or_threshold.as_str(), m)))
            })
        })
    }
}

/// The key a facet split is matched by between two analyses: its text, or for a threshold its
/// lower bound (Clarify writes `(40.0, 79.9]`, the upper end being the data's maximum, which
/// moves from run to run; driftscope writes `(40, ∞)`).
fn split_key(v: &str) -> String {
    v.strip_prefix('(')
        .and_then(|r| r.split(',').next())
        .and_then(|x| x.trim().parse::<f64>().ok())
        .map_or_else(|| v.to_string(), |x| format!("({x}"))
}

/// Bias drift in a monitoring run's report (`drift.json`'s `bias`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BiasReport {
    /// Where the baseline's metrics came from.
    pub baseline: String,
    /// The rule: Clarify's, or driftscope's noise-aware one.
    pub rule: String,
    /// The run's metrics (also `bias/analysis.json`).
    pub current: BiasAnalysis,
    /// The run's violations.
    pub violations: Vec<BiasViolation>,
    /// Windows whose rows were counted (per window: `bias/windows.csv`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub windows: Option<usize>,
    /// Of those, the windows with a violation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub windows_with_drift: Option<usize>,
    /// Partitions the late labels were spilled to (past `--join-memory`); absent when they
    /// were joined in memory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spilled_partitions: Option<usize>,
}

impl BiasReport {
    /// True when the run or a window has a violation.
    pub fn violated(&self) -> bool {
        !self.violations.is_empty() || self.windows_with_drift.is_some_and(|n| n > 0)
    }
}

/// A bias drift violation in Clarify's format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BiasViolation {
    /// The facet column.
    pub facet: String,
    /// Its sensitive values or threshold.
    pub facet_value: String,
    /// The metric.
    pub metric_name: String,
    /// `bias_drift_check`.
    pub constraint_check_type: String,
    /// What was found.
    pub description: String,
}

/// The violations of `current` against `baseline`: a metric farther from zero than its baseline
/// value by more than `allowance(facet, value, metric)` (0 for Clarify's rule), as Clarify's bias
/// drift monitor judges (metrics either side could not compute are not judged).
pub fn drift_violations(
    baseline: &BiasAnalysis,
    current: &BiasAnalysis,
    allowance: &dyn Fn(&str, &str, &str) -> f64,
) -> Vec<BiasViolation> {
    let now: BTreeMap<(&str, String, &str), f64> =
        current.entries().filter_map(|(f, v, m)| m.number().map(|x| ((f, split_key(v), m.name.as_str()), x))).collect();
    let mut out = Vec::new();
    for (f, v, m) in baseline.entries() {
        let (Some(limit), Some(&x)) = (m.number(), now.get(&(f, split_key(v), m.name.as_str()))) else { continue };
        if x.abs() > limit.abs() + allowance(f, v, &m.name) {
            out.push(BiasViolation {
                facet: f.to_string(),
                facet_value: v.to_string(),
                metric_name: m.name.clone(),
                constraint_check_type: "bias_drift_check".into(),
                description: format!("Value {x} does not meet the constraint requirement of baseline value {limit}"),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        // a: 6 rows, 3 positive labels, 4 positive predictions (2 right); d: 4 rows, 1
        // positive label, 1 positive prediction (wrong).
        let mut c = FacetCounts::new(true);
        for (label, pred) in [(true, true), (true, true), (true, false), (false, true), (false, true), (false, false)] {
            c.add(false, label, Some(pred), None);
        }
        for (label, pred) in [(true, false), (false, true), (false, false), (false, false)] {
            c.add(true, label, Some(pred), None);
        }
        let m = metrics(&c);
        let v = |k: &str| m[k].clone().unwrap();
        assert!((v("CI") - 0.2).abs() < 1e-15);
        assert!((v("DPL") - (0.5 - 0.25)).abs() < 1e-15);
        assert!((v("DI") - (0.25 / (4.0 / 6.0))).abs() < 1e-15);
        // Precision a 2/4, d 0/1.
        assert!((v("DAR") - 0.5).abs() < 1e-15);
        // Accuracy a 3/6, d 2/4.
        assert_eq!(v("AD"), 0.0);
        // FN/FP: a 1/2, d 1/1.
        assert!((v("TE") - 0.5).abs() < 1e-15);
        assert!(m["FT"].is_err() && m["CDDL"].is_err());
        // Merging two halves gives the whole.
        let mut half = FacetCounts::new(true);
        half.add(false, true, Some(true), None);
        let mut rest = c.clone();
        rest.a.n -= 1;
        rest.a.pos -= 1;
        rest.a.pred -= 1;
        rest.a.tp -= 1;
        rest.merge(&half);
        assert_eq!(rest, c);
    }

    /// Rows of a process: the sensitive facet a share `d_share`, positive labels at `pa`/`pd`,
    /// predictions wrong one time in ten.
    fn sample(n: u64, d_share: f64, (pa, pd): (f64, f64), state: &mut u64) -> FacetCounts {
        let mut c = FacetCounts::new(true);
        let mut u = || (crate::codec::splitmix64(state) >> 11) as f64 / (1u64 << 53) as f64;
        for _ in 0..n {
            let d = u() < d_share;
            let label = u() < if d { pd } else { pa };
            let pred = if u() < 0.1 { !label } else { label };
            c.add(d, label, Some(pred), None);
        }
        c
    }

    fn analysis_of(c: &FacetCounts) -> BiasAnalysis {
        let entry = FacetEntry {
            value_or_threshold: "d".into(),
            metrics: metrics(c).iter().map(|(k, v)| MetricEntry::of(k, v)).collect(),
        };
        let stage = StageMetrics {
            label: "y".into(),
            label_value_or_threshold: "1".into(),
            facets: BTreeMap::from([("f".to_string(), vec![entry])]),
        };
        BiasAnalysis {
            version: "1.0".into(),
            pre_training_bias_metrics: None,
            post_training_bias_metrics: Some(stage),
            extra: BTreeMap::new(),
        }
    }

    /// The bootstrap's noise of DPL is the binomial standard error of a difference of shares.
    #[test]
    fn noise_of_dpl_is_the_binomial_standard_error() {
        let mut state = 7;
        let c = sample(4000, 0.4, (0.3, 0.2), &mut state);
        let se = standard_errors(&c)["DPL"];
        let (na, nd) = (c.a.n as f64, c.d.n as f64);
        let (qa, qd) = (c.a.pos as f64 / na, c.d.pos as f64 / nd);
        let want = (qa * (1.0 - qa) / na + qd * (1.0 - qd) / nd).sqrt();
        assert!((se / want - 1.0).abs() < 0.15, "bootstrap {se}, binomial {want}");
    }

    /// Simulation: 300 windows of 1,000 rows of the baseline's own process. Clarify's rule
    /// flags most of them; the noise-aware rule at most a few percent. A real change (the
    /// sensitive facet's positive rate halved) is flagged by both.
    #[test]
    fn the_noise_rule_holds_its_false_alarms_and_finds_a_change() {
        let mut state = 11;
        let base = analysis_of(&sample(200_000, 0.4, (0.3, 0.2), &mut state));
        let mut by_metric: BTreeMap<String, usize> = BTreeMap::new();
        let (mut clarify, mut noise) = (0, 0);
        let windows = 300;
        for _ in 0..windows {
            let c = sample(1000, 0.4, (0.3, 0.2), &mut state);
            let a = analysis_of(&c);
            let se = standard_errors(&c);
            clarify += usize::from(!drift_violations(&base, &a, &|_, _, _| 0.0).is_empty());
            let allowance = |_: &str, _: &str, m: &str| se.get(m).map_or(0.0, |s| NOISE_SIGMAS * s);
            let v = drift_violations(&base, &a, &allowance);
            for x in &v {
                *by_metric.entry(x.metric_name.clone()).or_default() += 1;
            }
            noise += usize::from(!v.is_empty());
        }
        eprintln!("windows with a violation: Clarify's rule {clarify}, noise-aware {noise} of {windows}; by metric {by_metric:?}");
        assert!(clarify > windows / 2, "Clarify's rule: {clarify} of {windows} windows");
        assert!(noise * 100 <= windows * 4, "noise-aware rule: {noise} of {windows} windows ({by_metric:?})");
        let changed = sample(1000, 0.4, (0.3, 0.1), &mut state);
        let se = standard_errors(&changed);
        let allowance = |_: &str, _: &str, m: &str| se.get(m).map_or(0.0, |s| NOISE_SIGMAS * s);
        let v = drift_violations(&base, &analysis_of(&changed), &allowance);
        assert!(v.iter().any(|v| v.metric_name == "DPL"), "{v:?}");
    }

    /// Simulation: baselines as small as the windows (1,000 rows each; 30 baselines, 20
    /// windows each, all of one process). Allowing for the current value's noise alone, a
    /// baseline whose metrics came out near zero by chance makes its windows violate far more
    /// often than the rule's 1%; allowing for the noise of the difference (the baseline's
    /// standard errors too) holds it.
    #[test]
    fn a_small_baselines_noise_is_allowed_for() {
        let mut state = 23;
        let (baselines, windows) = (30, 20);
        let (mut current_only, mut both) = (0, 0);
        for _ in 0..baselines {
            let b = sample(1000, 0.4, (0.3, 0.2), &mut state);
            let (base, base_se) = (analysis_of(&b), standard_errors(&b));
            for _ in 0..windows {
                let c = sample(1000, 0.4, (0.3, 0.2), &mut state);
                let (a, se) = (analysis_of(&c), standard_errors(&c));
                let alone = |_: &str, _: &str, m: &str| noise_allowance(se.get(m).copied(), None);
                let with_base =
                    |_: &str, _: &str, m: &str| noise_allowance(se.get(m).copied(), base_se.get(m).copied());
                current_only += usize::from(!drift_violations(&base, &a, &alone).is_empty());
                both += usize::from(!drift_violations(&base, &a, &with_base).is_empty());
            }
        }
        let n = baselines * windows;
        eprintln!("windows with a violation: current noise alone {current_only}, with the baseline's {both} of {n}");
        assert!(both * 100 <= n * 3, "with the baseline's noise: {both} of {n} windows");
        assert!(current_only > 2 * both.max(n / 100), "current noise alone: {current_only} of {n} windows");
    }

    #[test]
    fn the_allowance_adds_noise_in_quadrature() {
        assert_eq!(noise_allowance(None, Some(1.0)), 0.0);
        assert!((noise_allowance(Some(0.03), None) - NOISE_SIGMAS * 0.03).abs() < 1e-15);
        assert!((noise_allowance(Some(0.03), Some(0.04)) - NOISE_SIGMAS * 0.05).abs() < 1e-15);
    }

    #[test]
    fn thresholds_match_by_their_lower_bound() {
        assert_eq!(split_key("(40.0, 79.93]"), split_key("(40, ∞)"));
        assert_ne!(split_key("(40.0, 79.93]"), split_key("(41, ∞)"));
        assert_eq!(split_key("F,X"), "F,X");
    }

    #[test]
    fn an_empty_side_is_named() {
        let mut c = FacetCounts::new(false);
        c.add(false, true, None, None);
        assert_eq!(metrics(&c)["CI"], Err("the facet holds no row".into()));
    }
}
