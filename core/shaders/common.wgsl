// common.wgsl — shared helpers, prepended by the loader (core/src/backend/gpu/mod.rs) to every kernel.
//
// f64 values cross to the GPU as pairs of u32 words (little-endian: low word first), since WGSL
// has no portable f64. They are compared as order-preserving 64-bit keys, held as
// vec2<u32>(high, low): the bits of negative numbers are all flipped, positive numbers get their
// sign bit set. `f64_key` first makes -0.0 into +0.0, so that it bins with 0.0 as on the CPU;
// `order_key` keeps them apart (-0.0 first), the total order the quantile sketch sorts by.
// Kept in sync with `f64_key` and `order_key` in core/src/backend/gpu/layout.rs.

fn order_key(lo: u32, hi: u32) -> vec2<u32> {
    if ((hi & 0x80000000u) != 0u) {
        return vec2<u32>(~hi, ~lo);
    }
    return vec2<u32>(hi | 0x80000000u, lo);
}

fn f64_key(lo: u32, hi: u32) -> vec2<u32> {
    if (hi == 0x80000000u && lo == 0u) {
        return order_key(0u, 0u);
    }
    return order_key(lo, hi);
}

fn key_le(a: vec2<u32>, b: vec2<u32>) -> bool {
    return a.x < b.x || (a.x == b.x && a.y <= b.y);
}

fn key_lt(a: vec2<u32>, b: vec2<u32>) -> bool {
    return a.x < b.x || (a.x == b.x && a.y < b.y);
}
