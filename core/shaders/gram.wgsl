// gram.wgsl — Σ qₐ·q_b over rows for every pair of features a ≤ b: the sums the PCA
// reconstruction's covariance is found from. Rust side: core/src/backend/gpu/gram.rs; CPU twin:
// `gram_sums` in core/src/profile/pca.rs, which computes the same integers.
//
// Bindings (group 0):
//   0 params    uniform        GramParams (kept in sync with gpu/gram.rs)
//   1 values    storage read   array<u32>: each row's standardized values in units of 2^-24,
//                              row after row (rows × k), two words a value in sign and
//                              magnitude: the magnitude's low 32 bits, then its bits 32..46
//                              with the sign in bit 31 (|q| < 2^47)
//   2 pairs     storage read   array<u32>: each pair a | b << 16, in the CPU's order
//   3 sums      storage rw     array<atomic<i32>>: per pair six words, word m the signed sum
//                              of the 16-bit digits of weight 2^(16 m)
//
// A magnitude is three 16-bit limbs x0, x1, x2 (x2 < 2^15). |x|·|y| = Σ xᵢ·yⱼ·2^(16(i+j)):
// nine products below 2^32, each split into its low and high 16 bits, added (negated for a
// negative product) to the words of their weights. A row adds at most 5 × 65,535 to a word in
// magnitude, so the host sends at most 4,096 rows a dispatch (4,096 × 5 × 65,535 < 2^31).
// Invocation i (x, then y × WG × groups along x) takes pair i % pairs of the rows
// [per × (i / pairs), per × (i / pairs + 1)), sums them in registers and adds its six words
// once. The host picks `per` so that no loop runs 65,535 times (lavapipe).

const WG: u32 = 64u;

struct GramParams {
    rows: u32,
    k: u32,
    pairs: u32,
    per: u32,
    groups_x: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: GramParams;
@group(0) @binding(1) var<storage, read> values: array<u32>;
@group(0) @binding(2) var<storage, read> pairs: array<u32>;
@group(0) @binding(3) var<storage, read_write> sums: array<atomic<i32>>;

// Adds product p (< 2^32) of weight 2^(16 m), negated when `neg`, to the row's words.
fn add_product(acc: ptr<function, array<i32, 6>>, m: u32, p: u32, neg: bool) {
    var lo = i32(p & 0xffffu);
    var hi = i32(p >> 16u);
    if (neg) {
        lo = -lo;
        hi = -hi;
    }
    (*acc)[m] = (*acc)[m] + lo;
    (*acc)[m + 1u] = (*acc)[m + 1u] + hi;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * params.groups_x * WG;
    let pair = i % params.pairs;
    let start = (i / params.pairs) * params.per;
    if (start >= params.rows) {
        return;
    }
    let end = min(start + params.per, params.rows);
    let ab = pairs[pair];
    let a = ab & 0xffffu;
    let b = ab >> 16u;
    var acc = array<i32, 6>(0, 0, 0, 0, 0, 0);
    for (var r = start; r < end; r = r + 1u) {
        let at = (r * params.k + a) * 2u;
        let bt = (r * params.k + b) * 2u;
        let x0 = values[at];
        let x1 = values[at + 1u];
        let y0 = values[bt];
        let y1 = values[bt + 1u];
        let neg = ((x1 ^ y1) >> 31u) == 1u;
        var x = array<u32, 3>(x0 & 0xffffu, x0 >> 16u, x1 & 0x7fffu);
        var y = array<u32, 3>(y0 & 0xffffu, y0 >> 16u, y1 & 0x7fffu);
        for (var s = 0u; s < 3u; s = s + 1u) {
            for (var t = 0u; t < 3u; t = t + 1u) {
                add_product(&acc, s + t, x[s] * y[t], neg);
            }
        }
    }
    for (var m = 0u; m < 6u; m = m + 1u) {
        atomicAdd(&sums[pair * 6u + m], acc[m]);
    }
}
