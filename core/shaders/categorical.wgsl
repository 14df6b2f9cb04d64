// categorical.wgsl — counts of dictionary keys, for every text-dictionary column of a batch in
// one dispatch (workgroup_id.y is the column), each group of rows (a time window's) counted
// apart. Rust side: core/src/backend/gpu/folder.rs; CPU twin: `key_counts` in
// core/src/backend/cpu/mod.rs, run on each group's rows.
//
// Bindings (group 0):
//   0 columns     storage read   array<KeyColumn> (kept in sync with gpu/layout.rs)
//   1 keys        storage read   array<u32>, one dictionary key per row; the host writes
//                                0xffffffff for a null key, and keys >= n_keys are not counted
//   2 counts      storage rw     array<atomic<u32>>, n_groups × n_keys counts per column
//   3 bounds      storage read   array<u32>: for a column of n_groups > 1, where each group's
//                                rows end (ascending, the last one n)
//
// Workgroup size WG, grid-stride loop sized by the host as for the histogram. Counts of up to
// LOCAL (keys × groups) are gathered in workgroup memory and flushed once; more go straight
// to global atomics.

const WG: u32 = 256u;
const LOCAL: u32 = 2048u;

struct KeyColumn {
    keys_at: u32,
    n: u32,
    n_keys: u32,
    counts_at: u32,
    bounds_at: u32,
    n_groups: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<storage, read> columns: array<KeyColumn>;
@group(0) @binding(1) var<storage, read> keys: array<u32>;
@group(0) @binding(2) var<storage, read_write> counts: array<atomic<u32>>;
@group(0) @binding(3) var<storage, read> bounds: array<u32>;

var<workgroup> local_counts: array<atomic<u32>, 2048>;

// Number of group ends <= i (the group of row i). Kept in sync with `group_of` in
// histogram.wgsl: it reads this kernel's own `bounds` binding, which the kernels that share
// common.wgsl do not all have, so it cannot live there.
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
    let slots = col.n_keys * col.n_groups;
    let use_local = slots <= LOCAL;
    if (use_local) {
        for (var i = lid; i < slots; i += WG) {
            atomicStore(&local_counts[i], 0u);
        }
    }
    workgroupBarrier();
    let stride = nwg.x * WG;
    for (var i = wid.x * WG + lid; i < col.n; i += stride) {
        let k = keys[col.keys_at + i];
        if (k < col.n_keys) {
            var slot = k;
            if (col.n_groups > 1u) {
                slot += group_of(i, col.bounds_at, col.n_groups) * col.n_keys;
            }
            if (use_local) {
                atomicAdd(&local_counts[slot], 1u);
            } else {
                atomicAdd(&counts[col.counts_at + slot], 1u);
            }
        }
    }
    workgroupBarrier();
    if (use_local) {
        for (var i = lid; i < slots; i += WG) {
            let c = atomicLoad(&local_counts[i]);
            if (c != 0u) {
                atomicAdd(&counts[col.counts_at + i], c);
            }
        }
    }
}
