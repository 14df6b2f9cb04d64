// rff.wgsl — sums of random Fourier features per group of rows, for the kernel two-sample test
// (MMD). Rust side: core/src/backend/gpu/rff.rs; CPU twin: `Rff::group_sums` in
// core/src/profile/rff.rs, which computes the same integers.
//
// Bindings (group 0):
//   0 params    uniform        RffParams (kept in sync with gpu/rff.rs)
//   1 values    storage read   array<i32>: each row's standardized values in units of 2^-16,
//                              row after row (rows × k)
//   2 groups    storage read   array<u32>: each row's group (< n_groups)
//   3 weights   storage read   array<i32>: the frequencies in 2^-16 turns per unit, input by
//                              input (k × d)
//   4 phases    storage read   array<u32>: each feature's phase in 2^-32 turns (d)
//   5 table     storage read   array<i32>: round(cos(2π i / 4096) · 2^28), i = 0..=4096
//   6 sums      storage rw     array<atomic<i32>>: per (group, feature) two words: the sum of
//                              the cosines' low 16 bits, and the sum of the rest (c >> 16)
//
// Invocation i (x, then y × WG × groups along x) takes feature i % d of the rows
// [per × (i / d), per × (i / d + 1)). A row's phase is Σ_j w[j][f] · v[j] + phase[f] in
// wrapping 32-bit arithmetic (a wrap is a whole turn); its cosine is the table's step and the
// linear interpolation on the next 12 bits, shifted right arithmetically (toward −∞), as on the
// CPU. An invocation sums a run of rows of one group in registers and adds it to the group's
// words on a change of group. The host sends at most 32,767 rows a dispatch (no word overflows:
// 32,767 × 65,535 < 2^31) and picks `per` and `k` so that no loop runs 65,535 times (lavapipe).

const WG: u32 = 64u;

struct RffParams {
    rows: u32,
    k: u32,
    d: u32,
    per: u32,
    groups_x: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: RffParams;
@group(0) @binding(1) var<storage, read> values: array<i32>;
@group(0) @binding(2) var<storage, read> groups: array<u32>;
@group(0) @binding(3) var<storage, read> weights: array<i32>;
@group(0) @binding(4) var<storage, read> phases: array<u32>;
@group(0) @binding(5) var<storage, read> table: array<i32>;
@group(0) @binding(6) var<storage, read_write> sums: array<atomic<i32>>;

fn flush(group: u32, f: u32, lo: i32, hi: i32) {
    let at = (group * params.d + f) * 2u;
    atomicAdd(&sums[at], lo);
    atomicAdd(&sums[at + 1u], hi);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * params.groups_x * WG;
    let f = i % params.d;
    let start = (i / params.d) * params.per;
    if (start >= params.rows) {
        return;
    }
    let end = min(start + params.per, params.rows);
    var group = 0xffffffffu;
    var lo = 0;
    var hi = 0;
    for (var r = start; r < end; r = r + 1u) {
        var p = phases[f];
        let row = r * params.k;
        for (var j = 0u; j < params.k; j = j + 1u) {
            p = p + bitcast<u32>(weights[j * params.d + f]) * bitcast<u32>(values[row + j]);
        }
        let step = p >> 20u;
        let frac = i32((p >> 8u) & 0xfffu);
        let a = table[step];
        let b = table[step + 1u];
        let c = a + (((b - a) * frac) >> 12u);
        let g = groups[r];
        if (g != group) {
            if (group != 0xffffffffu) {
                flush(group, f, lo, hi);
            }
            group = g;
            lo = 0;
            hi = 0;
        }
        lo = lo + (c & 0xffff);
        hi = hi + (c >> 16u);
    }
    if (group != 0xffffffffu) {
        flush(group, f, lo, hi);
    }
}
