// histogram.wgsl — exact histogram of f64 values over fixed edges, with null/NaN/±∞ counts and
// per-workgroup min/max. Rust side: src/backend/gpu/histogram.rs; CPU twin: `histogram` in
// src/backend/cpu.rs.
//
// Bindings (group 0):
//   0 params      uniform HistogramParams (kept in sync with gpu/layout.rs)
//   1 values      storage read   array<u32>, two words per f64 (low, high)
//   2 validity    storage read   array<u32>, Arrow validity bits (ignored when has_validity == 0)
//   3 edges       storage read   array<vec2<u32>>, edge keys (high, low), sorted
//   4 counts      storage rw     array<atomic<u32>>: n_edges + 1 bins, then null, NaN, +inf, -inf
//   5 minmax      storage rw     array<vec4<u32>>, per workgroup (min.hi, min.lo, max.hi, max.lo)
//
// Workgroup size WG. Each invocation walks values with a grid stride; the host sizes dispatches
// so that no invocation loops more than a few hundred times (lavapipe stops loops at 65,535).
// Counts are gathered in workgroup-local atomics and flushed once per workgroup; one dispatch
// never sees more than 2^32 values, and the host widens counts to u64.

const WG: u32 = 256u;
const MAX_BINS: u32 = 1024u;
const SPECIALS: u32 = 4u;

struct HistogramParams {
    n: u32,
    n_edges: u32,
    has_validity: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> params: HistogramParams;
@group(0) @binding(1) var<storage, read> values: array<u32>;
@group(0) @binding(2) var<storage, read> validity: array<u32>;
@group(0) @binding(3) var<storage, read> edges: array<vec2<u32>>;
@group(0) @binding(4) var<storage, read_write> counts: array<atomic<u32>>;
@group(0) @binding(5) var<storage, read_write> minmax: array<vec4<u32>>;

var<workgroup> local_counts: array<atomic<u32>, 1028>;
var<workgroup> local_min: array<vec2<u32>, 256>;
var<workgroup> local_max: array<vec2<u32>, 256>;

// Number of edges whose key is <= k (the bin of k).
fn bin_of(k: vec2<u32>) -> u32 {
    var lo = 0u;
    var hi = params.n_edges;
    while (lo < hi) {
        let mid = (lo + hi) / 2u;
        if (key_le(edges[mid], k)) {
            lo = mid + 1u;
        } else {
            hi = mid;
        }
    }
    return lo;
}

// Validity bit `i` (Arrow bitmaps: least significant bit first).
fn is_valid(i: u32) -> bool {
    return ((validity[i >> 5u] >> (i & 31u)) & 1u) == 1u;
}

@compute @workgroup_size(256)
fn main(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let slots = params.n_edges + 1u + SPECIALS;
    for (var i = lid; i < slots; i += WG) {
        atomicStore(&local_counts[i], 0u);
    }
    workgroupBarrier();

    var kmin = vec2<u32>(0xffffffffu, 0xffffffffu);
    var kmax = vec2<u32>(0u, 0u);
    let stride = nwg.x * WG;
    let special = params.n_edges + 1u;
    for (var i = gid.x; i < params.n; i += stride) {
        if (params.has_validity != 0u && !is_valid(i)) {
            atomicAdd(&local_counts[special], 1u);
            continue;
        }
        let lo = values[2u * i];
        let hi = values[2u * i + 1u];
        if (is_nan_bits(lo, hi)) {
            atomicAdd(&local_counts[special + 1u], 1u);
        } else if (is_inf_bits(lo, hi)) {
            if ((hi & 0x80000000u) == 0u) {
                atomicAdd(&local_counts[special + 2u], 1u);
            } else {
                atomicAdd(&local_counts[special + 3u], 1u);
            }
        } else {
            let k = f64_key(lo, hi);
            atomicAdd(&local_counts[bin_of(k)], 1u);
            kmin = key_min(kmin, k);
            kmax = key_max(kmax, k);
        }
    }
    local_min[lid] = kmin;
    local_max[lid] = kmax;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
        if (lid < s) {
            local_min[lid] = key_min(local_min[lid], local_min[lid + s]);
            local_max[lid] = key_max(local_max[lid], local_max[lid + s]);
        }
        workgroupBarrier();
    }
    if (lid == 0u) {
        minmax[wid.x] = vec4<u32>(local_min[0].x, local_min[0].y, local_max[0].x, local_max[0].y);
    }
    for (var i = lid; i < slots; i += WG) {
        let c = atomicLoad(&local_counts[i]);
        if (c != 0u) {
            atomicAdd(&counts[i], c);
        }
    }
}
