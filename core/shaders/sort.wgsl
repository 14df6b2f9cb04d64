// sort.wgsl — a bitonic sort of each numeric column's finite values by their total-order key,
// every column of a batch at once (workgroup_id.y is the column), for the quantile sketch.
// Rust side: core/src/backend/gpu/folder.rs; CPU twin: the order statistics of `bin_and_select` in
// core/src/backend/cpu/select.rs (the CPU finds the few it needs without sorting; the GPU sorts, and
// the host compacts the sorted run).
//
// Bindings (group 0):
//   0 step        uniform SortStep, at a dynamic offset per dispatch (kept in sync with
//                 gpu/layout.rs): the bitonic stage k and step j
//   1 columns     storage read   array<SortColumn>
//   2 values      storage read   array<u32>, two words per f64 (low, high), finite values only
//   3 keys        storage rw     array<vec2<u32>>, a power-of-two region per column
//
// Entry points, in the order the host records them for a region of P = 2^p >= BLOCK keys:
//   local_sort     loads BLOCK keys per workgroup (values past the column's n become the largest
//                  key), sorts them in workgroup memory as the first log2(BLOCK) stages of the
//                  network over the whole region;
//   global_step    one compare-exchange step (k, j) for j >= BLOCK, one invocation per pair;
//   local_merge    the steps j < BLOCK of stage k, in workgroup memory.
// For k = 2·BLOCK … P: global_step for j = k/2 … BLOCK, then local_merge. The direction of a
// pair (i, i + j) is ascending when bit k of i is 0, so the region ends ascending.

const WG: u32 = 256u;
const BLOCK: u32 = 2048u;
const PAIRS_PER_INVOCATION: u32 = 4u; // BLOCK / 2 / WG
const KEYS_PER_INVOCATION: u32 = 8u; // BLOCK / WG

struct SortStep {
    k: u32,
    j: u32,
    _pad0: u32,
    _pad1: u32,
}

struct SortColumn {
    values_at: u32,
    n: u32,
    keys_at: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> step: SortStep;
@group(0) @binding(1) var<storage, read> columns: array<SortColumn>;
@group(0) @binding(2) var<storage, read> values: array<u32>;
@group(0) @binding(3) var<storage, read_write> keys: array<vec2<u32>>;

var<workgroup> block: array<vec2<u32>, 2048>;

// The first index of pair `p` in step `j`: the indices whose bit j is 0, in order.
fn pair_first(p: u32, j: u32) -> u32 {
    return 2u * p - (p & (j - 1u));
}

// Orders block[a], block[a + j] ascending (or descending) within workgroup memory.
fn exchange_local(a: u32, j: u32, ascending: bool) {
    let x = block[a];
    let y = block[a + j];
    if (key_lt(y, x) == ascending) {
        block[a] = y;
        block[a + j] = x;
    }
}

// The steps j = first_j … 1 of stage k over the block that starts at `base` in the region.
fn merge_block(lid: u32, base: u32, k: u32, first_j: u32) {
    for (var j = first_j; j > 0u; j = j >> 1u) {
        for (var t = 0u; t < PAIRS_PER_INVOCATION; t += 1u) {
            let a = pair_first(lid + t * WG, j);
            exchange_local(a, j, ((base + a) & k) == 0u);
        }
        workgroupBarrier();
    }
}

@compute @workgroup_size(256)
fn local_sort(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let col = columns[wid.y];
    let base = wid.x * BLOCK;
    for (var t = 0u; t < KEYS_PER_INVOCATION; t += 1u) {
        let i = lid + t * WG;
        let g = base + i;
        var key = vec2<u32>(0xffffffffu, 0xffffffffu);
        if (g < col.n) {
            let at = col.values_at + g;
            key = order_key(values[2u * at], values[2u * at + 1u]);
        }
        block[i] = key;
    }
    workgroupBarrier();
    for (var k = 2u; k <= BLOCK; k = k << 1u) {
        merge_block(lid, base, k, k >> 1u);
    }
    for (var t = 0u; t < KEYS_PER_INVOCATION; t += 1u) {
        let i = lid + t * WG;
        keys[col.keys_at + base + i] = block[i];
    }
}

@compute @workgroup_size(256)
fn global_step(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let col = columns[wid.y];
    let a = pair_first(wid.x * WG + lid, step.j);
    let x = keys[col.keys_at + a];
    let y = keys[col.keys_at + a + step.j];
    if (key_lt(y, x) == ((a & step.k) == 0u)) {
        keys[col.keys_at + a] = y;
        keys[col.keys_at + a + step.j] = x;
    }
}

@compute @workgroup_size(256)
fn local_merge(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let col = columns[wid.y];
    let base = wid.x * BLOCK;
    for (var t = 0u; t < KEYS_PER_INVOCATION; t += 1u) {
        let i = lid + t * WG;
        block[i] = keys[col.keys_at + base + i];
    }
    workgroupBarrier();
    merge_block(lid, base, step.k, BLOCK >> 1u);
    for (var t = 0u; t < KEYS_PER_INVOCATION; t += 1u) {
        let i = lid + t * WG;
        keys[col.keys_at + base + i] = block[i];
    }
}
