// histogram.wgsl — exact histograms of finite f64 values over fixed edges, for every numeric
// column of a batch in one dispatch (workgroup_id.y is the column), each group of a column's
// values (a time window's) counted apart. Rust side: core/src/backend/gpu/folder.rs; CPU twin: the
// bins of `bin_and_select` in core/src/backend/cpu/select.rs, run on each group's rows.
//
// Bindings (group 0):
//   0 columns     storage read   array<HistogramColumn> (kept in sync with gpu/layout.rs)
//   1 values      storage read   array<u32>, two words per f64 (low, high), finite values only,
//                                a column's groups one after the other
//   2 edges       storage read   array<vec2<u32>>, edge keys (high, low), sorted, per column
//   3 counts      storage rw     array<atomic<u32>>, n_groups × (n_edges + 1) bins per column
//   4 bounds      storage read   array<u32>: for a column of n_groups > 1, where each group's
//                                values end (ascending, the last one n)
//
// Workgroup size WG. Each invocation walks its column's values with a grid stride; the host
// sizes the dispatch so that no invocation loops more than a few dozen times (lavapipe stops
// loops at 65,535). Bin `i` holds the values with exactly `i` edges <= them: one binary search
// over the column's edges per value, and one over its group ends when it has groups. Counts
// are gathered in workgroup-local atomics and flushed once per workgroup when a column's bins
// of all groups fit there, and go straight to global atomics otherwise; a batch never holds
// 2^32 values, and the host widens counts to u64.

const WG: u32 = 256u;
const MAX_BINS: u32 = 1024u;

struct HistogramColumn {
    values_at: u32,
    n: u32,
    edges_at: u32,
    n_edges: u32,
    counts_at: u32,
    bounds_at: u32,
    n_groups: u32,
    _pad: u32,
}

@group(0) @binding(0) var<storage, read> columns: array<HistogramColumn>;
@group(0) @binding(1) var<storage, read> values: array<u32>;
@group(0) @binding(2) var<storage, read> edges: array<vec2<u32>>;
@group(0) @binding(3) var<storage, read_write> counts: array<atomic<u32>>;
@group(0) @binding(4) var<storage, read> bounds: array<u32>;

var<workgroup> local_counts: array<atomic<u32>, 1024>;

// Number of edges whose key is <= k (the bin of k).
fn bin_of(k: vec2<u32>, at: u32, n_edges: u32) -> u32 {
    var lo = 0u;
    var hi = n_edges;
    while (lo < hi) {
        let mid = (lo + hi) / 2u;
        if (key_le(edges[at + mid], k)) {
            lo = mid + 1u;
        } else {
            hi = mid;
        }
    }
    return lo;
}

// Number of group ends <= i (the group of value i).
fn group_of(i: u32, at: u32, n_groups: u32) -> u32 {
    var lo = 0u;
    var hi = n_groups;
    while (lo < hi) {
        let mid = (lo + hi) / 2u;
        if (bounds[at + mid] <= i) {
            lo = mid + 1u;
        } else {
            hi = mid;
        }
    }
    return lo;
}

@compute @workgroup_size(256)
fn main(
    @builtin(local_invocation_index) lid: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let col = columns[wid.y];
    let per_group = col.n_edges + 1u;
    let slots = per_group * col.n_groups;
    let local = slots <= MAX_BINS;
    if (local) {
        for (var i = lid; i < slots; i += WG) {
            atomicStore(&local_counts[i], 0u);
        }
    }
    workgroupBarrier();
    let stride = nwg.x * WG;
    for (var i = wid.x * WG + lid; i < col.n; i += stride) {
        let at = col.values_at + i;
        let k = f64_key(values[2u * at], values[2u * at + 1u]);
        var slot = bin_of(k, col.edges_at, col.n_edges);
        if (col.n_groups > 1u) {
            slot += group_of(i, col.bounds_at, col.n_groups) * per_group;
        }
        if (local) {
            atomicAdd(&local_counts[slot], 1u);
        } else {
            atomicAdd(&counts[col.counts_at + slot], 1u);
        }
    }
    workgroupBarrier();
    if (local) {
        for (var i = lid; i < slots; i += WG) {
            let c = atomicLoad(&local_counts[i]);
            if (c != 0u) {
                atomicAdd(&counts[col.counts_at + i], c);
            }
        }
    }
}
