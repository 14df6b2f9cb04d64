//! Change points in per-window series: where a feature's mean, spread, completeness or drift
//! distance shifts, found over the windows of a run.
//!
//! The default, [`Method::Seeded`], is built so that a stationary series raises false alarms
//! at a rate the user sets (`--false-alarm-rate`, per series per 1,000 windows):
//! - **Noise model** ([`long_run_noise`]): window series are autocorrelated (a slow wander, a
//!   daily cycle), so a change is measured against the *long-run* standard deviation of an
//!   AR(1) model, `σ_LR = σ_ε / (1 − φ)`. `φ` comes from the correlation `ρ_d` of consecutive
//!   differences (for an AR(1) series `ρ_d = (φ − 1)/2`), estimated robustly as Gnanadesikan
//!   and Kettenring do (from the MAD scales of sums and differences of neighbouring
//!   differences), so a few level shifts barely move it; `φ` is raised by two standard errors
//!   (`4/√n`) and kept within `[−0.5, 0.95]`. `σ_ε` is the MAD of the differences. A series
//!   that wanders like a random walk gets `φ = 0.95`: its changes must be twenty innovations
//!   large to count, so a wandering level is not reported as a string of changes.
//! - **Penalty from a false-alarm rate**: the gain of the best split of an interval of length
//!   `L` is the square of its largest standardized CUSUM; under no change its two-sided tail is
//!   about `2·ln((1 − ε)/ε)·b·φ(b)` with `ε = m/L` (the Ornstein–Uhlenbeck approximation of the
//!   CUSUM's maximum, Siegmund 1985), `m` the shortest segment. The threshold `b²` of each
//!   interval solves this tail for its share of the rate.
//! - **Search**: seeded binary segmentation (Kovács, Li, Bühlmann & Munk, Biometrika 2023):
//!   intervals of lengths `n, n/2, n/4…` at half-length steps, the best split of each kept when
//!   it passes its threshold, splits taken greedily by gain. `O(n log n)`.
//! - Each change carries a **confidence**: one minus the number of false alarms at least as
//!   strong that noise alone would raise in the series (the tail at the split's gain, times the
//!   intervals searched at its scale, times the scales); a change just past its threshold has
//!   `1 − rate·n/1000`.
//!
//! Drift distances against a reference (PSI…) are bounded below and skewed, their noise
//! growing with their level: they are searched on the log scale, `ln(d + median/10)`, where
//! that noise is even (a χ²-like statistic's log has a variance that does not depend on its
//! scale); a distance that is 0 in most windows is not searched, and says why.
//!
//! Changes a feature shows in several series within [`NEAR`] windows of each other are one
//! record ([`ChangePoint`]) listing the series that support it.
//!
//! Three older detectors stay for comparison, on each series scaled by the median absolute
//! difference of consecutive points (right for independent noise only) with a modified-BIC
//! penalty of `3·ln(n)` per change, not tied to a false-alarm rate:
//! - [`Method::Pelt`]: PELT (Killick, Fearnhead & Eckley 2012), the exact minimiser of the
//!   squared error of a piecewise-constant mean plus the penalty, segments of at least 2 points;
//! - [`Method::BinSeg`]: binary segmentation of the same cost and penalty;
//! - [`Method::PageHinkley`] (online): the two-sided Page-Hinkley test with tolerance
//!   `δ = 0.5` and threshold `λ = 10` (in σ̂ units), restarted after each alarm; the change is
//!   placed where the cumulative deviation last turned (the start of the drift).

use serde::Serialize;

/// The file a run's change points are written to.
pub const CHANGEPOINTS: &str = "changepoints.json";

/// A change-point detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// Offline: seeded binary segmentation against the long-run noise of the series, with a
    /// penalty from the false-alarm rate.
    #[default]
    Seeded,
    /// Offline segmentation: PELT with a modified-BIC penalty (exact optimum of that cost).
    Pelt,
    /// Offline segmentation: binary segmentation with a modified-BIC penalty (fast; can miss
    /// a short burst inside a long segment).
    BinSeg,
    /// Online detection: two-sided Page-Hinkley.
    PageHinkley,
    /// Online detection: Bayesian online change-point detection (Adams & MacKay 2007).
    Bocpd,
}

impl std::str::FromStr for Method {
    type Err = crate::Error;

    fn from_str(s: &str) -> crate::Result<Self> {
        match s.trim() {
            "seeded" => Ok(Method::Seeded),
            "binseg" => Ok(Method::BinSeg),
            "pelt" => Ok(Method::Pelt),
            "page-hinkley" | "ph" => Ok(Method::PageHinkley),
            "bocpd" => Ok(Method::Bocpd),
            other => Err(crate::error::invalid(
                crate::Opt::Method,
                format!("expected seeded, bocpd, pelt, binseg or page-hinkley, got {other:?}"),
            )),
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Method::Seeded => "seeded",
            Method::BinSeg => "binseg",
            Method::Pelt => "pelt",
            Method::PageHinkley => "page-hinkley",
            Method::Bocpd => "bocpd",
        })
    }
}

/// The false alarms a stationary series may raise by default, per 1,000 windows: one in a
/// million windows. A run searches each feature's mean, spread, completeness and distance, so
/// a year of hourly windows of ten features (some 350,000 series-windows) expects about a
/// third of a false alarm.
pub const DEFAULT_FALSE_ALARM_RATE: f64 = 0.001;

/// Changes of one feature at most this many windows apart are one change.
pub const NEAR: usize = 3;

/// How change points are searched: the detector, and for [`Method::Seeded`] the false alarms
/// allowed per series per 1,000 windows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Search {
    /// The detector.
    pub method: Method,
    /// False alarms per series per 1,000 windows of a stationary series.
    pub false_alarm_rate: f64,
}

impl Default for Search {
    fn default() -> Search {
        Search { method: Method::default(), false_alarm_rate: DEFAULT_FALSE_ALARM_RATE }
    }
}

impl Search {
    /// A search at a false-alarm rate, checked: positive and finite, at most 1,000 (one per
    /// window).
    pub fn new(method: Method, false_alarm_rate: f64) -> crate::Result<Search> {
        if !(false_alarm_rate > 0.0 && false_alarm_rate <= 1000.0) {
            return Err(crate::error::invalid(
                crate::Opt::FalseAlarmRate,
                format!("expected false alarms per series per 1,000 windows, above 0 and at most 1000, got {false_alarm_rate}"),
            ));
        }
        Ok(Search { method, false_alarm_rate })
    }
}

/// One change of a feature: the first window of the new regime (counted from 0 in time order
/// among the windows holding rows), the series that show it, its size and how sure it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangePoint {
    /// The feature.
    pub feature: String,
    /// The series that show the change (`mean`, `std_dev`, `completeness`, `psi`…): the
    /// feature's own series first, then distances.
    pub series: Vec<String>,
    /// Window index, from 0 in time order.
    pub window_index: usize,
    /// Start of that window (ISO 8601, UTC); `null` for windows of rows.
    pub window_start: Option<String>,
    /// The first series' median after the change less its median before (each over the
    /// windows up to the neighbouring change of that series): in the feature's own units when
    /// the first series is `mean` or `std_dev`.
    pub size: f64,
    /// The first series' median before the change.
    pub before: f64,
    /// The first series' median after the change.
    pub after: f64,
    /// One minus the false alarms at least this strong that noise alone would raise in the
    /// series, at least 0 ([`Method::Seeded`] only; `null` for the other detectors).
    pub confidence: Option<f64>,
}

/// A series that was not searched, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unsearched {
    /// The feature.
    pub feature: String,
    /// The series.
    pub series: String,
    /// Why: too short, constant, mostly zero…
    pub reason: String,
}

/// Robust noise scale of a series: the median absolute difference of consecutive points over
/// `0.6745·√2` (the standard deviation for Gaussian noise), never below a tiny floor relative to
/// the series' magnitude, so that a flat series does not make every wiggle a change.
pub fn noise_scale(x: &[f64]) -> f64 {
    let mut d: Vec<f64> = x.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    let magnitude = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let floor = (magnitude * 1e-9).max(1e-12);
    if d.is_empty() {
        return floor;
    }
    let mid = d.len() / 2;
    let (_, m, _) = d.select_nth_unstable_by(mid, f64::total_cmp);
    (*m / (0.674_489_75 * std::f64::consts::SQRT_2)).max(floor)
}

/// The change points of `x` (indices of the first point of each new segment), ascending, by
/// `method` at its default settings.
pub fn detect(x: &[f64], method: Method) -> Vec<usize> {
    found_in(x, Search { method, ..Search::default() }).into_iter().map(|f| f.at).collect()
}

/// The changes of `x` as `search` asks: the seeded search at its rate, BOCPD, or one of the
/// older detectors on the series scaled by its window-to-window noise.
fn found_in(x: &[f64], search: Search) -> Vec<Found> {
    let older = |at: Vec<usize>| at.into_iter().map(|at| Found { at, confidence: None }).collect();
    let scaled = || {
        let s = noise_scale(x);
        x.iter().map(|v| v / s).collect::<Vec<f64>>()
    };
    let penalty = 3.0 * (x.len() as f64).ln();
    match search.method {
        Method::Seeded => seeded(x, search.false_alarm_rate),
        Method::Bocpd => bocpd(x, BOCPD_HAZARD),
        _ if x.len() < 4 => Vec::new(),
        Method::BinSeg => older(binseg(&scaled(), penalty, 2)),
        Method::Pelt => older(pelt(&scaled(), penalty, 2)),
        Method::PageHinkley => older(page_hinkley(&scaled(), 0.5, 10.0)),
    }
}

/// A change found in one series: the index of the first point of the new segment, and how
/// sure the search is of it (seeded search only).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Found {
    /// First point of the new segment.
    pub at: usize,
    /// One minus the false alarms at least this strong that noise alone raises in the series
    /// (searched at this strength on every interval of its scale), at least 0.
    pub confidence: Option<f64>,
}

/// The shortest segment the seeded search makes.
const MIN_SEGMENT: usize = 2;

/// The median of `v` (the mean of the two middle values when their count is even); `v` is
/// reordered.
fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let (len, mid) = (v.len(), v.len() / 2);
    let (lo, m, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    let m = *m;
    if len % 2 == 1 {
        m
    } else {
        let below = lo.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (below + m) / 2.0
    }
}

/// A robust standard deviation: the MAD over 0.6745; where more than half the values are
/// equal (the MAD is 0), the mean absolute deviation from the median of all but the largest
/// tenth of the deviations (at least one left out: the shifts), times √(π/2).
fn robust_scale(v: &[f64]) -> f64 {
    let mut w = v.to_vec();
    let centre = median(&mut w);
    let mut dev: Vec<f64> = v.iter().map(|x| (x - centre).abs()).collect();
    let mad = median(&mut dev) / 0.674_489_750_196_081_7;
    if mad > 0.0 {
        return mad;
    }
    dev.sort_unstable_by(f64::total_cmp);
    let kept = dev.len() - (dev.len() / 10).max(1).min(dev.len());
    dev[..kept].iter().sum::<f64>() / kept.max(1) as f64 * 1.253_314_137_315_500_3
}

/// The noise of a series under an AR(1) model: its long-run standard deviation and the
/// autoregression used (see the module's notes).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Noise {
    /// The long-run standard deviation, `σ_ε / (1 − φ)`.
    pub scale: f64,
    /// The autoregression, raised by two standard errors and kept within `[−0.5, 0.95]`.
    pub phi: f64,
    /// The autoregression's own estimate is 0.95 or more, on at least 20 points: the series
    /// wanders (a unit root, a trend), and its differences are searched instead.
    pub wanders: bool,
}

/// The autoregression from which a series is taken to wander.
const WANDERING: f64 = 0.95;

/// The fewest points from which a series may be taken to wander.
const WANDER_POINTS: usize = 20;

/// The long-run noise of `x`, robust to a few level shifts.
pub fn long_run_noise(x: &[f64]) -> Noise {
    let n = x.len();
    let magnitude = x.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    let floor = 1e-12 * magnitude;
    let d: Vec<f64> = x.windows(2).map(|w| w[1] - w[0]).collect();
    if d.len() < 3 {
        let mean = x.iter().sum::<f64>() / n.max(1) as f64;
        let sd = (x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n.max(1) as f64).sqrt();
        return Noise { scale: sd.max(floor), phi: 0.0, wanders: false };
    }
    let sums: Vec<f64> = d.windows(2).map(|w| w[1] + w[0]).collect();
    let diffs: Vec<f64> = d.windows(2).map(|w| w[1] - w[0]).collect();
    let (su, sd) = (robust_scale(&sums).powi(2), robust_scale(&diffs).powi(2));
    let rho = if su + sd > 0.0 { (su - sd) / (su + sd) } else { 0.0 };
    let estimate = 1.0 + 2.0 * rho;
    let phi = (estimate + 4.0 / (n as f64).sqrt()).clamp(-0.5, WANDERING);
    let innovation = robust_scale(&d) * ((1.0 + phi) / 2.0).sqrt();
    // A few differences cannot tell a wander from a shift (one shift moves two of the pairs).
    let wanders = n >= WANDER_POINTS && estimate >= WANDERING;
    Noise { scale: (innovation / (1.0 - phi)).max(floor), phi, wanders }
}

/// The two-sided tail of the largest squared standardized CUSUM of white noise over the
/// splits of an interval leaving `eps` of it on each side, at `b` (Ornstein–Uhlenbeck
/// approximation, good where it is small).
fn tail(b: f64, eps: f64) -> f64 {
    let pdf = (-0.5 * b * b).exp() / (2.0 * std::f64::consts::PI).sqrt();
    2.0 * ((1.0 - eps) / eps).ln() * b * pdf
}

/// The gain an interval's best split must pass so that noise passes it with chance `p`.
fn threshold(eps: f64, p: f64) -> f64 {
    if tail(0.5, eps) <= p {
        return 0.25;
    }
    let (mut lo, mut hi) = (0.5f64, 60.0f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if tail(mid, eps) > p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi * hi
}

/// Seeded binary segmentation of `x` at `rate` false alarms per 1,000 points of a stationary
/// series (see the module's notes): the changes, ascending. A series that wanders is searched
/// through its differences (a change there is a change of slope, placed at its first point; a
/// burst of the differences no longer than the shortest segment is one level shift).
pub fn seeded(x: &[f64], rate: f64) -> Vec<Found> {
    if x.len() < 2 * MIN_SEGMENT + 1 {
        return Vec::new();
    }
    let noise = long_run_noise(x);
    if noise.wanders {
        let d: Vec<f64> = x.windows(2).map(|w| w[1] - w[0]).collect();
        if d.len() < 2 * MIN_SEGMENT + 1 {
            return Vec::new();
        }
        let inner = long_run_noise(&d);
        let mut found: Vec<Found> = Vec::new();
        for f in search(&d, inner, rate) {
            // A burst of the differences as short as the shortest segment is one level shift.
            match found.last() {
                Some(last) if f.at + 1 - last.at <= MIN_SEGMENT => {}
                _ => found.push(Found { at: f.at + 1, ..f }),
            }
        }
        return found;
    }
    search(x, noise, rate)
}

/// The seeded search of `x` standardized by `noise`.
fn search(x: &[f64], noise: Noise, rate: f64) -> Vec<Found> {
    let n = x.len();
    let m = MIN_SEGMENT;
    let centre = median(&mut x.to_vec());
    let mut s = vec![0.0; n + 1];
    for (i, v) in x.iter().enumerate() {
        s[i + 1] = s[i] + (v - centre) / noise.scale;
    }
    let mut lengths = Vec::new();
    let mut length = n as f64;
    while length >= (2 * m + 1) as f64 {
        lengths.push(length as usize);
        length /= 2.0;
    }
    let starts = |l: usize| {
        let step = (l / 2).max(1);
        let mut v: Vec<usize> = (0..=n - l).step_by(step).collect();
        if v.last() != Some(&(n - l)) {
            v.push(n - l);
        }
        v
    };
    // (gain, start, end, split, confidence)
    let mut candidates: Vec<(f64, usize, usize, usize, f64)> = Vec::new();
    for &l in &lengths {
        let eps = m as f64 / l as f64;
        let p = (rate * l as f64 / 1000.0 / (2 * lengths.len()) as f64).min(0.5);
        let bar = threshold(eps, p);
        let seeds = starts(l);
        // Noise alone passes this scale's thresholds `seeds × scales × p` times on average:
        // the series' false alarms at the rate asked.
        let trials = (seeds.len() * lengths.len()) as f64;
        for a in seeds {
            let b = a + l;
            let mut best = (f64::NEG_INFINITY, a);
            for k in a + m..=b - m {
                let gain = split_gain(&s, a, b, k);
                if gain > best.0 {
                    best = (gain, k);
                }
            }
            if best.0 > bar {
                let expected = (tail(best.0.sqrt(), eps) * trials).min(1.0);
                candidates.push((best.0, a, b, best.1, 1.0 - expected));
            }
        }
    }
    candidates.sort_by(|p, q| q.0.total_cmp(&p.0).then(p.3.cmp(&q.3)));
    let mut chosen: Vec<Found> = Vec::new();
    for (_, a, b, k, confidence) in candidates {
        if chosen.iter().any(|f| (a < f.at && f.at < b) || f.at.abs_diff(k) < m) {
            continue;
        }
        chosen.push(Found { at: k, confidence: Some(confidence) });
    }
    chosen.sort_by_key(|f| f.at);
    refine(&s, &mut chosen, m);
    chosen
}

/// The drop in squared error from splitting `[a, b)` at `k`, from prefix sums `s` of the
/// standardized series: the square of the standardized CUSUM at `k`.
fn split_gain(s: &[f64], a: usize, b: usize, k: usize) -> f64 {
    let (left, right, total) = (s[k] - s[a], s[b] - s[k], s[b] - s[a]);
    left * left / (k - a) as f64 + right * right / (b - k) as f64 - total * total / (b - a) as f64
}

/// Moves each change to the best split of the stretch between its neighbours: an interval's
/// own best split can sit a point off when the interval ends inside a short burst.
fn refine(s: &[f64], chosen: &mut [Found], m: usize) {
    let n = s.len() - 1;
    for i in 0..chosen.len() {
        let a = if i == 0 { 0 } else { chosen[i - 1].at };
        let b = chosen.get(i + 1).map_or(n, |f| f.at);
        if b - a < 2 * m {
            continue;
        }
        let gain = |k: usize| split_gain(s, a, b, k);
        let best = (a + m..=b - m).fold(chosen[i].at, |best, k| if gain(k) > gain(best) { k } else { best });
        chosen[i].at = best;
    }
}

/// The prior chance of a change at each window in [`bocpd`]: one in 100 (the benchmark's
/// usual setting).
pub const BOCPD_HAZARD: f64 = 0.01;

/// A normal-inverse-gamma posterior: mean, κ, α, β.
type Nig = (f64, f64, f64, f64);

/// A run of [`bocpd`]: its points, probability and posterior.
type Run = (usize, f64, Nig);

/// The run-length posterior keeps runs whose probability is at least this…
const BOCPD_PRUNE: f64 = 1e-9;

/// …and at most this many, the likeliest.
const BOCPD_RUNS: usize = 300;

/// A run length must stay the most likely for this many points before its start is a change.
const BOCPD_CONFIRM: usize = 2;

/// Bayesian online change-point detection (Adams & MacKay 2007) on `x` standardized by its
/// long-run noise ([`long_run_noise`]): a constant hazard `hazard` per point, a normal model
/// with a normal-inverse-gamma prior (mean 0 with κ₀ = 0.05, variance about 1: α₀ = 2, β₀ = 1)
/// and its Student-t predictive; the run-length posterior is updated point by point (runs below
/// 10⁻⁹ pruned, the 300 likeliest kept), so each point is judged on the past only. A change is the start of the most
/// likely run once it has stayed the most likely for 2 points; its confidence is the posterior
/// of that run then.
pub fn bocpd(x: &[f64], hazard: f64) -> Vec<Found> {
    if x.len() < 2 * MIN_SEGMENT + 1 {
        return Vec::new();
    }
    let noise = long_run_noise(x);
    let centre = median(&mut x.to_vec());
    let prior = (0.0, 0.05, 2.0, 1.0);
    // The runs kept: points in the run (ending at the last point seen), probability, posterior.
    let mut runs: Vec<Run> = vec![(0, 1.0, prior)];
    let mut ratios: Vec<f64> = vec![gamma_ratio(prior.2)];
    let (mut last_start, mut candidate, mut out) = (0usize, (0usize, 0usize), Vec::<Found>::new());
    for (t, v) in x.iter().enumerate() {
        let z = (v - centre) / noise.scale;
        // A change before this point starts a run of 1 from the prior; each run grows by it.
        let mut next: Vec<Run> = Vec::with_capacity(runs.len() + 1);
        next.push((1, hazard * student_t_with(prior, z, ratios[0]), update(prior, z)));
        for &(r, q, st) in &runs {
            // A run of r points has α = α₀ + r/2: its normalizer comes from a table by r.
            while ratios.len() <= r {
                ratios.push(gamma_ratio(prior.2 + ratios.len() as f64 / 2.0));
            }
            debug_assert_eq!(st.2, prior.2 + r as f64 / 2.0, "a run's α follows its length");
            let grow = q * (1.0 - hazard) * student_t_with(st, z, ratios[r]);
            if r == 0 {
                next[0].1 += grow;
            } else {
                next.push((r + 1, grow, update(st, z)));
            }
        }
        let total: f64 = next.iter().map(|e| e.1).sum();
        if total > 0.0 && total.is_finite() {
            next.iter_mut().for_each(|e| e.1 /= total);
        } else {
            // Every run finds the point impossible (far beyond any scale): a new run.
            next.truncate(1);
            next[0].1 = 1.0;
        }
        next.retain(|e| e.1 >= BOCPD_PRUNE);
        if next.len() > BOCPD_RUNS {
            next.select_nth_unstable_by(BOCPD_RUNS, |a, b| b.1.total_cmp(&a.1));
            next.truncate(BOCPD_RUNS);
        }
        runs = next;
        let (map, prob) = runs.iter().fold((1, f64::MIN), |m, e| if e.1 > m.1 { (e.0, e.1) } else { m });
        let start = t + 1 - map.min(t + 1);
        if start == last_start {
            candidate = (0, 0);
            continue;
        }
        candidate = if candidate.0 == start { (start, candidate.1 + 1) } else { (start, 1) };
        if candidate.1 >= BOCPD_CONFIRM {
            if start > 0 && out.last().is_none_or(|f| start >= f.at + MIN_SEGMENT) {
                out.push(Found { at: start, confidence: Some(prob) });
            }
            last_start = start;
            candidate = (0, 0);
        }
    }
    out
}

/// The Student-t predictive density of `z` under a normal-inverse-gamma posterior.
#[cfg(test)]
fn student_t(nig: Nig, z: f64) -> f64 {
    student_t_with(nig, z, gamma_ratio(nig.2))
}

/// `ln Γ(α + ½) − ln Γ(α)`, the Student-t normalizer's part that depends on α only.
fn gamma_ratio(alpha: f64) -> f64 {
    use statrs::function::gamma::ln_gamma;
    ln_gamma(alpha + 0.5) - ln_gamma(alpha)
}

/// [`student_t`] with its `gamma_ratio` given (the same for every run of one length).
fn student_t_with((mu, kappa, alpha, beta): Nig, z: f64, ratio: f64) -> f64 {
    let scale2 = beta * (kappa + 1.0) / (alpha * kappa);
    let nu = 2.0 * alpha;
    let q = (z - mu) * (z - mu) / (nu * scale2);
    (ratio - 0.5 * (nu * std::f64::consts::PI * scale2).ln() - (nu + 1.0) / 2.0 * q.ln_1p()).exp()
}

/// The normal-inverse-gamma posterior after one more point `z`.
fn update((mu, kappa, alpha, beta): Nig, z: f64) -> Nig {
    let k = kappa + 1.0;
    ((kappa * mu + z) / k, k, alpha + 0.5, beta + kappa * (z - mu) * (z - mu) / (2.0 * k))
}

/// Prefix sums of a series, centred, for segment costs in O(1).
struct Sse {
    s1: Vec<f64>,
    s2: Vec<f64>,
}

impl Sse {
    fn new(x: &[f64]) -> Sse {
        let centre = x.iter().sum::<f64>() / x.len().max(1) as f64;
        let (mut s1, mut s2) = (vec![0.0; x.len() + 1], vec![0.0; x.len() + 1]);
        for (i, v) in x.iter().enumerate() {
            let v = v - centre;
            s1[i + 1] = s1[i] + v;
            s2[i + 1] = s2[i] + v * v;
        }
        Sse { s1, s2 }
    }

    /// Squared error of `x[a..b]` around its mean.
    fn cost(&self, a: usize, b: usize) -> f64 {
        let (s, q, m) = (self.s1[b] - self.s1[a], self.s2[b] - self.s2[a], (b - a) as f64);
        (q - s * s / m).max(0.0)
    }
}

/// Binary segmentation for a change in mean under squared error: the best split of a segment
/// is kept when it lowers the error by more than `penalty`, and both halves are split in turn;
/// segments of at least `min_len` points.
pub fn binseg(x: &[f64], penalty: f64, min_len: usize) -> Vec<usize> {
    let min_len = min_len.max(1);
    let sse = Sse::new(x);
    let mut out = Vec::new();
    let mut todo = vec![(0usize, x.len())];
    while let Some((a, b)) = todo.pop() {
        if b - a < 2 * min_len {
            continue;
        }
        let whole = sse.cost(a, b);
        let best = (a + min_len..=b - min_len)
            .map(|k| (whole - sse.cost(a, k) - sse.cost(k, b), k))
            .fold((f64::NEG_INFINITY, a), |m, v| if v.0 > m.0 { v } else { m });
        if best.0 > penalty {
            out.push(best.1);
            todo.push((a, best.1));
            todo.push((best.1, b));
        }
    }
    out.sort_unstable();
    out
}

/// PELT for a change in mean under squared error: the exact minimiser of
/// `Σ segments SSE + penalty · changes`, with segments of at least `min_len` points.
pub fn pelt(x: &[f64], penalty: f64, min_len: usize) -> Vec<usize> {
    let n = x.len();
    let min_len = min_len.max(1);
    if n < 2 * min_len {
        return Vec::new();
    }
    let sse = Sse::new(x);
    let cost = |a: usize, b: usize| sse.cost(a, b);
    let mut f = vec![f64::INFINITY; n + 1];
    let mut last = vec![0usize; n + 1];
    f[0] = -penalty;
    let mut candidates: Vec<usize> = vec![0];
    // f[s] + cost(s, t) of each candidate, computed once for the minimum and the pruning.
    let mut reach: Vec<f64> = Vec::new();
    for t in min_len..=n {
        // Candidates whose segment to t is long enough.
        let mut best = (f64::INFINITY, 0usize);
        reach.clear();
        for &s in &candidates {
            if t - s < min_len {
                reach.push(f64::NEG_INFINITY);
                continue;
            }
            let r = f[s] + cost(s, t);
            reach.push(r);
            let v = r + penalty;
            if v < best.0 {
                best = (v, s);
            }
        }
        f[t] = best.0;
        last[t] = best.1;
        // Pruning: a candidate that cannot beat f[t] now never will (one too recent to be
        // judged stays).
        let mut kept = 0;
        for i in 0..candidates.len() {
            if reach[i] <= f[t] {
                candidates[kept] = candidates[i];
                kept += 1;
            }
        }
        candidates.truncate(kept);
        // A segment may start at t (usable once it holds min_len points).
        candidates.push(t);
    }
    let mut out = Vec::new();
    let mut t = n;
    while t > 0 {
        let s = last[t];
        if s > 0 {
            out.push(s);
        }
        t = s;
    }
    out.reverse();
    out
}

/// Two-sided Page-Hinkley: alarms when the cumulative deviation from the running mean (less
/// `delta` per point) rises more than `lambda` above its minimum (an increase) or falls more
/// than `lambda` below its maximum (a decrease); each alarm restarts the test at the point
/// where the deviation last turned, which is reported as the change.
pub fn page_hinkley(x: &[f64], delta: f64, lambda: f64) -> Vec<usize> {
    let mut out = Vec::new();
    let mut start = 0;
    'restart: while start < x.len() {
        let (mut mean, mut n) = (0.0, 0.0);
        let (mut up, mut up_min, mut up_at) = (0.0f64, 0.0f64, start);
        let (mut down, mut down_max, mut down_at) = (0.0f64, 0.0f64, start);
        for (i, &v) in x.iter().enumerate().skip(start) {
            n += 1.0;
            mean += (v - mean) / n;
            up += v - mean - delta;
            down += v - mean + delta;
            if up < up_min {
                (up_min, up_at) = (up, i + 1);
            }
            if down > down_max {
                (down_max, down_at) = (down, i + 1);
            }
            let alarm = if up - up_min > lambda {
                Some(up_at)
            } else if down_max - down > lambda {
                Some(down_at)
            } else {
                None
            };
            if let Some(at) = alarm {
                let at = at.clamp(start + 1, i);
                out.push(at);
                start = at.max(start + 1);
                continue 'restart;
            }
        }
        break;
    }
    out.dedup();
    out
}

/// Scores of detected change points against human annotations, as the Turing change-point
/// benchmark (van den Burg & Williams, 2020) defines them: positions are 0-based, and 0 counts
/// as a change point in every set.
pub mod score {
    use std::collections::BTreeSet;

    /// Annotated points matched by predicted ones within `margin`, each prediction used once:
    /// every annotated point, in ascending order, takes the nearest prediction left (the smaller
    /// one on a tie).
    pub fn true_positives(annotated: &BTreeSet<usize>, predicted: &BTreeSet<usize>, margin: usize) -> usize {
        let mut left = predicted.clone();
        let mut hits = 0;
        for &tau in annotated {
            let near =
                left.range(tau.saturating_sub(margin)..=tau + margin).min_by_key(|&&x| (x.abs_diff(tau), x)).copied();
            if let Some(x) = near {
                left.remove(&x);
                hits += 1;
            }
        }
        hits
    }

    /// F1 over several annotators: precision against the union of the annotations, recall
    /// averaged over annotators. Returns `(f1, precision, recall)`.
    pub fn f1(annotations: &[Vec<usize>], predicted: &[usize], margin: usize) -> (f64, f64, f64) {
        let with_zero = |v: &[usize]| v.iter().copied().chain([0]).collect::<BTreeSet<usize>>();
        let x = with_zero(predicted);
        let tks: Vec<BTreeSet<usize>> = annotations.iter().map(|a| with_zero(a)).collect();
        let all: BTreeSet<usize> = tks.iter().flatten().copied().collect();
        let p = true_positives(&all, &x, margin) as f64 / x.len() as f64;
        let r = tks.iter().map(|t| true_positives(t, &x, margin) as f64 / t.len() as f64).sum::<f64>()
            / tks.len().max(1) as f64;
        let f = if p + r > 0.0 { p * r / (0.5 * r + 0.5 * p) } else { 0.0 };
        (f, p, r)
    }

    /// The segments `[start, end)` of `0..n` cut at `points`.
    fn segments(points: &[usize], n: usize) -> Vec<(usize, usize)> {
        let cuts: BTreeSet<usize> = points.iter().copied().filter(|&p| p > 0 && p < n).collect();
        let mut out = Vec::with_capacity(cuts.len() + 1);
        let mut start = 0;
        for c in cuts {
            out.push((start, c));
            start = c;
        }
        out.push((start, n));
        out
    }

    /// How well the segmentation cut at `predicted` covers the annotators' segmentations of a
    /// series of `n` points: per annotator, `Σ |A|·max J(A, A') / n` over its segments `A` (J
    /// the Jaccard index with the predicted segments `A'`), averaged over annotators.
    pub fn covering(annotations: &[Vec<usize>], predicted: &[usize], n: usize) -> f64 {
        let mine = segments(predicted, n);
        let jaccard = |a: (usize, usize), b: (usize, usize)| {
            let inter = a.1.min(b.1).saturating_sub(a.0.max(b.0));
            inter as f64 / (a.1.max(b.1) - a.0.min(b.0)) as f64
        };
        let single = |truth: &[(usize, usize)]| {
            truth
                .iter()
                .map(|&a| (a.1 - a.0) as f64 * mine.iter().map(|&b| jaccard(a, b)).fold(0.0, f64::max))
                .sum::<f64>()
                / n as f64
        };
        annotations.iter().map(|a| single(&segments(a, n))).sum::<f64>() / annotations.len().max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic noise series: a fixed pseudo-random sequence, mean 0, sd about 1.
    fn noise(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                // Sum of 12 uniforms minus 6: close to a standard normal.
                (0..12)
                    .map(|_| {
                        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        (s >> 11) as f64 / (1u64 << 53) as f64
                    })
                    .sum::<f64>()
                    - 6.0
            })
            .collect()
    }

    fn with_shifts(n: usize, shifts: &[(usize, f64)]) -> Vec<f64> {
        let mut x = noise(n, 42);
        for &(at, by) in shifts {
            x[at..].iter_mut().for_each(|v| *v += by);
        }
        x
    }

    #[test]
    fn pelt_finds_mean_shifts_and_nothing_in_noise() {
        let x = with_shifts(600, &[(150, 4.0), (400, -6.0)]);
        assert_eq!(detect(&x, Method::Pelt), vec![150, 400]);
        assert!(detect(&noise(600, 7), Method::Pelt).is_empty());
        // A short burst of 3 points is its own segment.
        let mut y = noise(300, 9);
        y[100..103].iter_mut().for_each(|v| *v += 30.0);
        assert_eq!(detect(&y, Method::Pelt), vec![100, 103]);
    }

    #[test]
    fn pelt_is_the_exact_optimum_on_small_series() {
        // Brute force over every segmentation of 9 points with segments of at least 2.
        let x = [0.1, -0.2, 0.0, 5.1, 4.9, 5.2, 1.0, 1.2, 0.8];
        let penalty = 2.0;
        let sse = |s: &[f64]| {
            let m = s.iter().sum::<f64>() / s.len() as f64;
            s.iter().map(|v| (v - m) * (v - m)).sum::<f64>()
        };
        let mut best = (f64::INFINITY, Vec::new());
        for mask in 0u32..(1 << 8) {
            let cuts: Vec<usize> = (1..9).filter(|i| mask & (1 << (i - 1)) != 0).collect();
            let mut bounds = vec![0];
            bounds.extend(&cuts);
            bounds.push(9);
            if bounds.windows(2).any(|w| w[1] - w[0] < 2) {
                continue;
            }
            let cost: f64 = bounds.windows(2).map(|w| sse(&x[w[0]..w[1]])).sum::<f64>() + penalty * cuts.len() as f64;
            if cost < best.0 - 1e-12 {
                best = (cost, cuts);
            }
        }
        assert_eq!(pelt(&x, penalty, 2), best.1);
        assert_eq!(best.1, vec![3, 6]);
    }

    #[test]
    fn binary_segmentation_finds_the_same_shifts() {
        let x = with_shifts(600, &[(150, 4.0), (400, -6.0)]);
        assert_eq!(detect(&x, Method::BinSeg), vec![150, 400]);
        assert!(detect(&noise(600, 7), Method::BinSeg).is_empty());
        let mut y = noise(300, 9);
        y[100..103].iter_mut().for_each(|v| *v += 30.0);
        assert_eq!(detect(&y, Method::BinSeg), vec![100, 103]);
        // On a clear two-step series it agrees with the exact optimum.
        let z = [0.1, -0.2, 0.0, 5.1, 4.9, 5.2, 1.0, 1.2, 0.8];
        assert_eq!(binseg(&z, 2.0, 2), pelt(&z, 2.0, 2));
    }

    #[test]
    fn page_hinkley_places_changes_where_they_start() {
        let x = with_shifts(600, &[(200, 3.0), (450, -3.0)]);
        let found = detect(&x, Method::PageHinkley);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].abs_diff(200) <= 5 && found[1].abs_diff(450) <= 5, "{found:?}");
        assert!(detect(&noise(600, 3), Method::PageHinkley).is_empty());
    }

    /// The examples of the benchmark's own metric code (its doctests), with the values it gives.
    #[test]
    fn scores_match_the_benchmark_code() {
        use std::collections::BTreeSet;
        let set = |v: &[usize]| v.iter().copied().collect::<BTreeSet<usize>>();
        let t = set(&[1, 10, 20, 23]);
        assert_eq!(score::true_positives(&t, &set(&[3, 8, 20]), 5), 3);
        assert_eq!(score::true_positives(&t, &set(&[1, 3, 8, 20]), 5), 3);
        assert_eq!(score::true_positives(&t, &set(&[1, 3, 5, 8, 20]), 5), 3);
        assert_eq!(score::true_positives(&set(&[]), &set(&[1, 2, 3]), 5), 0);
        let f = |a: &[&[usize]], x: &[usize]| score::f1(&a.iter().map(|v| v.to_vec()).collect::<Vec<_>>(), x, 5).0;
        assert_eq!(f(&[&[10, 20], &[11, 20], &[10], &[0, 5]], &[10, 20]), 1.0);
        assert_eq!(f(&[&[], &[10], &[50]], &[10]), 0.9090909090909091);
        assert_eq!(f(&[&[], &[10], &[50]], &[]), 0.8);
        let c =
            |a: &[&[usize]], x: &[usize], n| score::covering(&a.iter().map(|v| v.to_vec()).collect::<Vec<_>>(), x, n);
        assert!((c(&[&[10, 20], &[10], &[0, 5]], &[10, 20], 45) - 0.7962962962962963).abs() < 1e-15);
        assert!((c(&[&[], &[10], &[40]], &[10], 45) - 0.7954144620811286).abs() < 1e-15);
        assert!((c(&[&[], &[10], &[40]], &[], 45) - 0.8189300411522634).abs() < 1e-15);
        // Perfect agreement covers fully.
        assert_eq!(c(&[&[3, 7]], &[3, 7], 10), 1.0);
    }

    /// Standard normal draws (the crate's SplitMix64 and Box–Muller), reproducible from `seed`.
    struct Gauss(u64);

    impl Gauss {
        fn uniform(&mut self) -> f64 {
            (crate::codec::splitmix64(&mut self.0) >> 11) as f64 / (1u64 << 53) as f64
        }

        fn next(&mut self) -> f64 {
            let (u, v) = (self.uniform().max(1e-300), self.uniform());
            (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
        }

        /// A stationary AR(1) series with unit innovations (after a burn-in).
        fn ar1(&mut self, phi: f64, n: usize) -> Vec<f64> {
            let mut x = 0.0;
            let mut out = Vec::with_capacity(n);
            for i in 0..n + 500 {
                x = phi * x + self.next();
                if i >= 500 {
                    out.push(x);
                }
            }
            out
        }
    }

    /// The false-alarm rate a user sets holds on stationary AR(1) series, whatever their
    /// autocorrelation and length: the simulation the rate is checked by.
    #[test]
    fn seeded_search_holds_its_false_alarm_rate_on_ar1_series() {
        let mut g = Gauss(2026);
        let rate = 1.0;
        for phi in [0.0, 0.5, 0.9] {
            for n in [100usize, 1_000, 10_000, 100_000] {
                let reps = (200_000 / n).max(2);
                let alarms: usize = (0..reps).map(|_| seeded(&g.ar1(phi, n), rate).len()).sum();
                let allowed = rate * (reps * n) as f64 / 1000.0;
                // The rate is a bound: the count may fall short of it, not exceed it beyond
                // Poisson noise.
                assert!(
                    (alarms as f64) <= allowed + 3.0 * allowed.sqrt(),
                    "phi {phi}, {n} points: {alarms} false alarms in {reps} series, {allowed} allowed"
                );
            }
        }
    }

    /// The old noise scale (consecutive differences) is what made autocorrelated series cry
    /// wolf: at φ = 0.9 the same search with it raises many times the rate.
    #[test]
    fn independent_noise_scale_fails_on_autocorrelated_series() {
        let mut g = Gauss(7);
        let x = g.ar1(0.9, 10_000);
        let s = noise_scale(&x);
        let wrong: Vec<f64> = x.iter().map(|v| v / s).collect();
        let naive = pelt(&wrong, 3.0 * (x.len() as f64).ln(), 2).len();
        assert!(naive > 50, "{naive}");
        assert!(seeded(&x, 1.0).len() <= 3);
    }

    #[test]
    fn seeded_search_finds_shifts_and_bursts() {
        let at = |x: &[f64]| seeded(x, DEFAULT_FALSE_ALARM_RATE).iter().map(|f| f.at).collect::<Vec<_>>();
        let x = with_shifts(600, &[(150, 4.0), (400, -6.0)]);
        assert_eq!(at(&x), vec![150, 400]);
        assert!(at(&noise(600, 7)).is_empty());
        let mut y = noise(300, 9);
        y[100..103].iter_mut().for_each(|v| *v += 30.0);
        assert_eq!(at(&y), vec![100, 103]);
        // The same shifts on an autocorrelated series (φ = 0.6, long-run sd 2.5): found.
        let mut g = Gauss(11);
        let mut z = g.ar1(0.6, 2000);
        z[1200..].iter_mut().for_each(|v| *v += 12.0);
        let found = seeded(&z, DEFAULT_FALSE_ALARM_RATE);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].at.abs_diff(1200) <= 2, "{found:?}");
        assert!(found[0].confidence.unwrap() > 0.999, "{found:?}");
        assert!(seeded(&[1.0; 50], 1.0).is_empty());
        assert!(seeded(&[1.0, 2.0, 3.0, 4.0], 1.0).is_empty());
    }

    #[test]
    fn long_run_noise_follows_the_autoregression_and_ignores_shifts() {
        let mut g = Gauss(5);
        let x = g.ar1(0.7, 40_000);
        let noise = long_run_noise(&x);
        // σ_LR = 1 / (1 − 0.7); the estimate is raised by two standard errors of φ.
        let truth = 1.0 / 0.3;
        assert!(noise.scale > truth && noise.scale < 1.25 * truth, "{noise:?}");
        assert!((noise.phi - 0.7).abs() < 0.05, "{noise:?}");
        let mut shifted = x.clone();
        shifted[10_000..].iter_mut().for_each(|v| *v += 40.0);
        shifted[30_000..].iter_mut().for_each(|v| *v -= 90.0);
        let moved = long_run_noise(&shifted);
        assert!((moved.phi - noise.phi).abs() < 0.01 && (moved.scale / noise.scale - 1.0).abs() < 0.05, "{moved:?}");
        // Independent noise: φ near its floor, the scale near 1.
        let white = long_run_noise(&g.ar1(0.0, 40_000));
        assert!(white.phi < 0.1 && (white.scale - 1.0).abs() < 0.15, "{white:?}");
    }

    /// A random walk wanders: it is not a string of changes.
    #[test]
    fn a_wandering_level_is_not_a_string_of_changes() {
        let mut g = Gauss(3);
        for seed in 0..5 {
            let mut level = 0.0;
            let walk: Vec<f64> = (0..2000)
                .map(|_| {
                    level += g.next();
                    level
                })
                .collect();
            let found = seeded(&walk, DEFAULT_FALSE_ALARM_RATE).len();
            assert!(found <= 2, "walk {seed}: {found} changes");
        }
    }

    fn series(feature: &str, name: &str, values: &[f64], distance: bool) -> Series {
        Series {
            feature: feature.into(),
            name: name.into(),
            points: values.iter().copied().enumerate().collect(),
            distance,
        }
    }

    /// A distance's noise grows with its level, and it is skewed: on the log scale the quiet
    /// part raises no alarm, and a jump is found.
    #[test]
    fn distances_are_searched_on_the_log_scale() {
        let mut g = Gauss(17);
        // A χ²₉-like distance: small, skewed, its spread proportional to its level.
        let psi: Vec<f64> = (0..3000)
            .map(|i| {
                let chi: f64 = (0..9).map(|_| g.next().powi(2)).sum::<f64>() / 9.0;
                0.01 * chi * if i >= 2000 { 8.0 } else { 1.0 }
            })
            .collect();
        let (found, left) = find(&[series("x", "psi", &psi, true)], Search::default(), 3000, &|_| None);
        assert!(left.is_empty());
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].window_index.abs_diff(2000) <= 2, "{found:?}");
        assert!((found[0].after / found[0].before - 8.0).abs() < 1.0, "{found:?}");
        let quiet = &psi[..2000];
        let (none, _) = find(&[series("x", "psi", quiet, true)], Search::default(), 2000, &|_| None);
        assert!(none.is_empty(), "{none:?}");
    }

    #[test]
    fn one_record_per_change_of_a_feature() {
        let mean = with_shifts(400, &[(200, 5.0)]);
        // A distance's noise is proportional to its level.
        let mut psi: Vec<f64> = noise(400, 3).iter().map(|v| 0.02 * (1.0 + 0.1 * v)).collect();
        psi[201..].iter_mut().for_each(|v| *v *= 25.0);
        let mut other = noise(400, 4);
        other[100..].iter_mut().for_each(|v| *v += 6.0);
        let all = [
            series("x", "mean", &mean, false),
            series("x", "std_dev", &noise(400, 5), false),
            series("x", "psi", &psi, true),
            series("y", "mean", &other, false),
            series("y", "completeness", &[1.0; 400], false),
            series("z", "mean", &[1.0, 2.0, 3.0], false),
            series("w", "psi", &(0..400).map(|i| if i % 5 == 0 { 0.01 } else { 0.0 }).collect::<Vec<_>>(), true),
        ];
        let (found, left) = find(&all, Search::default(), 400, &|i| Some(format!("w{i}")));
        assert_eq!(found.len(), 2, "{found:?}");
        let x = &found[0];
        assert_eq!((x.feature.as_str(), x.series.clone()), ("x", vec!["mean".to_string(), "psi".to_string()]));
        assert!(x.window_index.abs_diff(200) <= 1 && x.window_start == Some(format!("w{}", x.window_index)));
        // The size is the mean's, in the feature's units.
        assert!((x.size - 5.0).abs() < 0.3 && (x.after - x.before - x.size).abs() < 1e-12, "{x:?}");
        assert!(x.confidence.unwrap() > 0.99);
        assert_eq!((found[1].feature.as_str(), found[1].window_index), ("y", 100));
        let reasons: Vec<(&str, &str)> = left.iter().map(|u| (u.feature.as_str(), u.reason.as_str())).collect();
        assert_eq!(reasons.len(), 3, "{reasons:?}");
        assert!(reasons[0] == ("y", "constant"));
        assert!(reasons[1].0 == "z" && reasons[1].1.starts_with("too short: 3 windows"));
        assert!(reasons[2].0 == "w" && reasons[2].1.contains("0 in most windows"));
        // A series with values in few of the windows is full of gaps.
        let (_, gaps) = find(&[series("v", "mean", &mean[..90], false)], Search::default(), 400, &|_| None);
        assert_eq!(gaps[0].reason, "full of gaps: a value in only 90 of 400 windows");
        // A burst's start and end in one series stay two records.
        let mut burst = noise(300, 9);
        burst[100..103].iter_mut().for_each(|v| *v += 30.0);
        let (two, _) = find(&[series("b", "mean", &burst, false)], Search::default(), 300, &|_| None);
        assert_eq!(two.iter().map(|c| c.window_index).collect::<Vec<_>>(), vec![100, 103]);
    }

    #[test]
    fn bocpd_finds_shifts_online_and_nothing_in_noise() {
        let at = |x: &[f64]| bocpd(x, BOCPD_HAZARD).iter().map(|f| f.at).collect::<Vec<_>>();
        let found = at(&with_shifts(600, &[(150, 4.0), (400, -6.0)]));
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].abs_diff(150) <= 2 && found[1].abs_diff(400) <= 2, "{found:?}");
        assert!(at(&noise(600, 7)).is_empty());
        // Online: a change is found from the points up to it and a few after, so cutting the
        // series just after the change finds it at the same place.
        let x = with_shifts(600, &[(150, 4.0)]);
        assert_eq!(at(&x[..170]).first().copied(), at(&x).first().copied());
        assert!(bocpd(&[1.0; 3], BOCPD_HAZARD).is_empty());
    }

    /// The predictive is the Student-t the normal-inverse-gamma posterior gives, as statrs
    /// computes it.
    #[test]
    fn bocpd_predictive_is_the_student_t() {
        use statrs::distribution::{Continuous, StudentsT};
        let (mu, kappa, alpha, beta): (f64, f64, f64, f64) = (0.3, 2.5, 3.0, 1.7);
        let scale = (beta * (kappa + 1.0) / (alpha * kappa)).sqrt();
        let t = StudentsT::new(mu, scale, 2.0 * alpha).unwrap();
        for z in [-3.0, -0.2, 0.3, 1.1, 6.0] {
            assert!((student_t((mu, kappa, alpha, beta), z) - t.pdf(z)).abs() < 1e-12, "{z}");
        }
        // One point's update: the mean moves towards it by 1/(κ+1), β by κ(z−μ)²/(2(κ+1)).
        let (m, k, a, b) = update((0.0, 1.0, 2.0, 1.0), 2.0);
        assert_eq!((m, k, a, b), (1.0, 2.0, 2.5, 2.0));
    }

    #[test]
    fn rates_are_checked() {
        assert!(Search::new(Method::Seeded, 0.0).is_err());
        assert!(Search::new(Method::Seeded, f64::NAN).is_err());
        assert!(Search::new(Method::Seeded, 2000.0).is_err());
        assert!(Search::new(Method::Seeded, 0.5).is_ok());
    }

    #[test]
    fn noise_scale_is_robust_to_the_shifts() {
        let x = with_shifts(2000, &[(1000, 50.0)]);
        let s = noise_scale(&x);
        assert!((0.85..1.15).contains(&s), "{s}");
        assert!(noise_scale(&[3.0; 10]) > 0.0);
    }
}

/// A named series of one feature over the windows: `(window index, value)` for the windows
/// where the value exists.
#[derive(Debug, Clone)]
pub struct Series {
    /// The feature.
    pub feature: String,
    /// What is measured: `mean`, `std_dev`, `completeness`, `psi`…
    pub name: String,
    /// Points in window order.
    pub points: Vec<(usize, f64)>,
    /// A distance against a reference (bounded below, noise growing with its level): searched
    /// on the log scale.
    pub distance: bool,
}

/// The series of every feature over `windows` (profiles in time order): completeness, and for
/// numeric features the mean and the standard deviation. Identifiers and timestamps are left
/// out (a window's mean time always moves).
pub fn profile_series(features: &[String], windows: &[&crate::profile::DatasetProfile]) -> Vec<Series> {
    use crate::profile::Role;
    let mut out = Vec::new();
    for f in features {
        let cols: Vec<Option<&crate::profile::ColumnProfile>> = windows.iter().map(|p| p.column(f)).collect();
        if cols.iter().flatten().any(|c| c.role != Role::Feature) {
            continue;
        }
        let take = |name: &str, get: &dyn Fn(&crate::profile::ColumnProfile) -> Option<f64>| Series {
            feature: f.clone(),
            name: name.into(),
            distance: false,
            points: cols
                .iter()
                .enumerate()
                .filter_map(|(i, c)| c.and_then(get).filter(|v| v.is_finite()).map(|v| (i, v)))
                .collect(),
        };
        let numeric = cols.iter().flatten().any(|c| c.moments.n > 0);
        if numeric {
            out.push(take("mean", &|c| c.moments.mean()));
            out.push(take("std_dev", &|c| c.moments.std_dev()));
        }
        out.push(take("completeness", &|c| c.completeness()));
    }
    out
}

/// The fewest windows with a value a series needs to be searched.
pub const MIN_POINTS: usize = 5;

/// What series `s` (its values `x`) looks like to the search: its values, or their logs for
/// a distance, or why it is not searched.
fn prepared<'a>(s: &Series, x: &'a [f64], windows: usize) -> Result<std::borrow::Cow<'a, [f64]>, String> {
    if x.len() < MIN_POINTS {
        return Err(format!("too short: {} windows with a value, at least {MIN_POINTS} needed", x.len()));
    }
    if 4 * x.len() < windows {
        return Err(format!("full of gaps: a value in only {} of {windows} windows", x.len()));
    }
    if x.iter().all(|v| *v == x[0]) {
        return Err("constant".into());
    }
    if !s.distance || x.iter().any(|v| *v < 0.0) {
        return Ok(x.into());
    }
    let centre = median(&mut x.to_vec());
    if centre <= 0.0 {
        return Err("a distance that is 0 in most windows: no noise to measure its changes against".into());
    }
    Ok(x.iter().map(|v| (v + centre / 10.0).ln()).collect::<Vec<f64>>().into())
}

/// A change of one series: where (a point of the series, then a window once placed), which
/// series, how sure, and its medians before and after.
#[derive(Debug, Clone, Copy)]
struct Member {
    at: usize,
    series: usize,
    confidence: Option<f64>,
    before: f64,
    after: f64,
}

/// The changes of series `j` (searched as `x`, its values `raw`) with their sizes.
fn changes_of(j: usize, x: &[f64], raw: &[f64], search: Search) -> Vec<Member> {
    let found = found_in(x, search);
    let mut cuts = vec![0];
    cuts.extend(found.iter().map(|f| f.at));
    cuts.push(raw.len());
    found
        .iter()
        .enumerate()
        .map(|(i, f)| Member {
            at: f.at,
            series: j,
            confidence: f.confidence,
            before: median(&mut raw[cuts[i]..f.at].to_vec()),
            after: median(&mut raw[f.at..cuts[i + 2]].to_vec()),
        })
        .collect()
}

/// The change points of every series of `windows` windows, one record per change of a
/// feature (see [`NEAR`]), and the series left out with their reasons; `start` names a window
/// by its index.
pub fn find(
    series: &[Series],
    search: Search,
    windows: usize,
    start: &(dyn Fn(usize) -> Option<String> + Sync),
) -> (Vec<ChangePoint>, Vec<Unsearched>) {
    use rayon::prelude::*;
    let found: Vec<Result<Vec<Member>, String>> = series
        .par_iter()
        .enumerate()
        .map(|(j, s)| {
            let raw: Vec<f64> = s.points.iter().map(|p| p.1).collect();
            let x = prepared(s, &raw, windows)?;
            Ok(changes_of(j, &x, &raw, search))
        })
        .collect();
    let mut unsearched = Vec::new();
    // Per feature, in the order features first appear: its changes, placed at their windows.
    let mut by_feature: Vec<(&str, Vec<Member>)> = Vec::new();
    for (s, found) in series.iter().zip(found) {
        let slot = match by_feature.iter().position(|(f, _)| *f == s.feature) {
            Some(i) => i,
            None => {
                by_feature.push((&s.feature, Vec::new()));
                by_feature.len() - 1
            }
        };
        match found {
            Err(reason) => unsearched.push(Unsearched { feature: s.feature.clone(), series: s.name.clone(), reason }),
            Ok(found) => by_feature[slot].1.extend(found.into_iter().map(|m| Member { at: s.points[m.at].0, ..m })),
        }
    }
    let mut out = Vec::new();
    for (feature, mut members) in by_feature {
        members.sort_by_key(|m| (m.at, m.series));
        let mut groups: Vec<Vec<Member>> = Vec::new();
        for m in members {
            match groups.last_mut() {
                Some(g) if m.at - g[0].at <= NEAR && g.iter().all(|o| o.series != m.series) => g.push(m),
                _ => groups.push(vec![m]),
            }
        }
        for g in groups {
            let first = g.iter().min_by_key(|m| m.series).copied().unwrap_or(g[0]);
            // The window of the surest member; on a tie, the feature's own series first.
            let surest = g
                .iter()
                .copied()
                .max_by(|p, q| {
                    p.confidence.unwrap_or(-1.0).total_cmp(&q.confidence.unwrap_or(-1.0)).then(q.series.cmp(&p.series))
                })
                .unwrap_or(g[0]);
            let mut named: Vec<usize> = g.iter().map(|m| m.series).collect();
            named.sort_unstable();
            out.push(ChangePoint {
                feature: feature.to_string(),
                series: named.into_iter().map(|j| series[j].name.clone()).collect(),
                window_index: surest.at,
                window_start: start(surest.at),
                size: first.after - first.before,
                before: first.before,
                after: first.after,
                confidence: g.iter().filter_map(|m| m.confidence).reduce(f64::max),
            });
        }
    }
    (out, unsearched)
}
