// compare.wgsl — drift metrics from binned distributions, one invocation per feature, every
// feature (and later every window) of a run in one dispatch. Rust side:
// src/backend/gpu/compare.rs; CPU twin: `compare` in src/backend/cpu.rs (which calls
// crate::compare, the f64 reference).
//
// Bindings (group 0):
//   0 params      uniform CompareParams (kept in sync with gpu/layout.rs)
//   1 features    storage read   array<FeatureSlice>: where each feature's bins start, how many
//   2 base        storage read   array<vec2<f32>>, baseline proportions as (hi, lo) f32 pairs
//   3 cur         storage read   array<vec2<f32>>, current proportions, same layout
//   4 widths      storage read   array<f32>, each bin's width for Wasserstein
//                                 (compare::bin_shapes)
//   5 flags       storage read   array<u32>, per bin: bit 0 = the bin ends a group of the
//                                 divergences (compare::divergence_groups), bit 1 = its mass sits
//                                 at its lower edge (a step of F − G instead of a line)
//   6 out         storage rw     array<f32>, METRICS values per feature
//
// WGSL's portable float is f32 and Vulkan has no f64 logarithm, so proportions arrive as
// double-f32 pairs (hi + lo ≈ the host's f64) and the cancellation-prone parts are done in
// double-f32 arithmetic: the cumulative sums behind L∞ and Wasserstein, and each bin's q − p,
// from which ln(q/p) near 1 is taken by a series in (q − p)/p and Hellinger
// as sqrt(½ Σ ((q − p)/(√p + √q))²). Sums are Kahan compensated. Metrics, in order: L∞
// (cumulative), PSI, KL (current ‖ baseline), JS distance (base 2), Hellinger — these four over
// the groups of bins that `flags` marks — and Wasserstein-1 with CDFs linear within each bin (or
// stepping), with the definitions and ε-smoothing of core/src/compare.rs.

const WG: u32 = 64u;
const METRICS: u32 = 6u;
const EPS: f32 = 1e-6;
const LN2: f32 = 0.6931471805599453;

struct CompareParams {
    n_features: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

struct FeatureSlice {
    start: u32,
    len: u32,
}

@group(0) @binding(0) var<uniform> params: CompareParams;
@group(0) @binding(1) var<storage, read> features: array<FeatureSlice>;
@group(0) @binding(2) var<storage, read> base: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read> cur: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read> widths: array<f32>;
@group(0) @binding(5) var<storage, read> flags: array<u32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;

struct Kahan {
    sum: f32,
    c: f32,
}

fn kadd(k: Kahan, x: f32) -> Kahan {
    let y = x - k.c;
    let t = k.sum + y;
    return Kahan(t, (t - k.sum) - y);
}

// Double-f32 numbers: value = x + y with |y| <= ulp(x)/2.
fn two_sum(a: f32, b: f32) -> vec2<f32> {
    let s = a + b;
    let bb = s - a;
    return vec2<f32>(s, (a - (s - bb)) + (b - bb));
}

fn df_add(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
    let s = two_sum(a.x, b.x);
    let e = s.y + a.y + b.y;
    let r = s.x + e;
    return vec2<f32>(r, e - (r - s.x));
}

fn df_sub(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
    return df_add(a, -b);
}

// ln(num / den) given diff = num − den computed accurately: a series in diff/den when the
// ratio is near 1 (where num / den would round away the difference), the plain ratio otherwise.
fn ln_ratio(num: f32, den: f32, diff: f32) -> f32 {
    let x = diff / den;
    if (abs(x) < 1e-2) {
        return x * (1.0 + x * (-0.5 + x * (1.0 / 3.0 + x * (-0.25 + x * 0.2))));
    }
    return log(num / den);
}

// ∫|F − G| across a bin of width w where F − G is a at its lower edge and b at its upper one:
// a step at the lower edge, or a line (twin of compare::gap_area).
fn gap_area(w: f32, step: bool, a: f32, b: f32) -> f32 {
    if (step) {
        return w * abs(b);
    }
    if (a * b >= 0.0) {
        return w * (abs(a) + abs(b)) * 0.5;
    }
    return w * (a * a + b * b) / (2.0 * (abs(a) + abs(b)));
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let f = gid.x;
    if (f >= params.n_features) {
        return;
    }
    let s = features[f].start;
    let n = features[f].len;
    var groups = 0u;
    for (var i = 0u; i < n; i++) {
        groups += flags[s + i] & 1u;
    }
    let scale = 1.0 / (1.0 + f32(groups) * EPS);
    var gap = vec2<f32>(0.0, 0.0);
    var gap_before = 0.0;
    var gp = vec2<f32>(0.0, 0.0);
    var gq = vec2<f32>(0.0, 0.0);
    var linf = 0.0;
    var psi = Kahan(0.0, 0.0);
    var kl = Kahan(0.0, 0.0);
    var js = Kahan(0.0, 0.0);
    var hd = Kahan(0.0, 0.0);
    var w1 = Kahan(0.0, 0.0);
    for (var i = 0u; i < n; i++) {
        let pd = base[s + i];
        let qd = cur[s + i];
        gap = df_add(gap, df_sub(qd, pd));
        var g = 0.0;
        if (i + 1u < n) {
            g = gap.x + gap.y;
        }
        linf = max(linf, abs(g));
        w1 = kadd(w1, gap_area(widths[s + i], (flags[s + i] & 2u) != 0u, gap_before, g));
        gap_before = g;
        gp = df_add(gp, pd);
        gq = df_add(gq, qd);
        if ((flags[s + i] & 1u) == 0u) {
            continue;
        }
        let d2 = df_sub(gq, gp);
        let d = d2.x + d2.y;
        let p = gp.x + gp.y;
        let q = gq.x + gq.y;
        gp = vec2<f32>(0.0, 0.0);
        gq = vec2<f32>(0.0, 0.0);
        let ps = (p + EPS) * scale;
        let qs = (q + EPS) * scale;
        let l = ln_ratio(qs, ps, d * scale);
        psi = kadd(psi, d * scale * l);
        kl = kadd(kl, qs * l);
        // JS terms: p·ln(p/m) with m = (p + q)/2, so p − m = −d/2 and q − m = d/2.
        let m = 0.5 * (p + q);
        if (p > 0.0) {
            js = kadd(js, 0.5 * p * ln_ratio(p, m, -0.5 * d));
        }
        if (q > 0.0) {
            js = kadd(js, 0.5 * q * ln_ratio(q, m, 0.5 * d));
        }
        if (m > 0.0) {
            let r = d / (sqrt(p) + sqrt(q));
            hd = kadd(hd, r * r);
        }
    }
    let o = f * METRICS;
    out[o] = linf;
    out[o + 1u] = psi.sum;
    out[o + 2u] = kl.sum;
    out[o + 3u] = sqrt(max(js.sum / LN2, 0.0));
    out[o + 4u] = sqrt(max(0.5 * hd.sum, 0.0));
    out[o + 5u] = w1.sum;
}
