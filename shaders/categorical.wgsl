// categorical.wgsl — counts of dictionary keys, with a null count. Rust side:
// src/backend/gpu/categorical.rs; CPU twin: `key_counts` in src/backend/cpu.rs.
//
// Bindings (group 0):
//   0 params      uniform CategoricalParams (kept in sync with gpu/layout.rs)
//   1 keys        storage read   array<u32>, one dictionary key per row
//   2 validity    storage read   array<u32>, Arrow validity bits (ignored when has_validity == 0)
//   3 counts      storage rw     array<atomic<u32>>: n_keys counts, then the null count
//
// Workgroup size WG, grid-stride loop sized by the host as for the histogram. Dictionaries of
// up to LOCAL keys are counted in workgroup memory and flushed once; larger ones go straight to
// global atomics.

const WG: u32 = 256u;
const LOCAL: u32 = 2048u;

struct CategoricalParams {
    n: u32,
    n_keys: u32,
    has_validity: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> params: CategoricalParams;
@group(0) @binding(1) var<storage, read> keys: array<u32>;
@group(0) @binding(2) var<storage, read> validity: array<u32>;
@group(0) @binding(3) var<storage, read_write> counts: array<atomic<u32>>;

var<workgroup> local_counts: array<atomic<u32>, 2049>;

// Validity bit `i` (Arrow bitmaps: least significant bit first).
fn is_valid(i: u32) -> bool {
    return ((validity[i >> 5u] >> (i & 31u)) & 1u) == 1u;
}

@compute @workgroup_size(256)
fn main(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let use_local = params.n_keys <= LOCAL;
    let slots = params.n_keys + 1u;
    if (use_local) {
        for (var i = lid; i < slots; i += WG) {
            atomicStore(&local_counts[i], 0u);
        }
    }
    workgroupBarrier();
    let stride = nwg.x * WG;
    for (var i = gid.x; i < params.n; i += stride) {
        var slot = params.n_keys;
        if (params.has_validity == 0u || is_valid(i)) {
            slot = min(keys[i], params.n_keys);
        }
        if (use_local) {
            atomicAdd(&local_counts[slot], 1u);
        } else {
            atomicAdd(&counts[slot], 1u);
        }
    }
    workgroupBarrier();
    if (use_local) {
        for (var i = lid; i < slots; i += WG) {
            let c = atomicLoad(&local_counts[i]);
            if (c != 0u) {
                atomicAdd(&counts[i], c);
            }
        }
    }
}
