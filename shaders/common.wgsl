// common.wgsl — shared helpers, prepended by the loader (src/backend/gpu/mod.rs) to every kernel.
//
// f64 values cross to the GPU as pairs of u32 words (little-endian: low word first), since WGSL
// has no portable f64. They are compared as order-preserving 64-bit keys, held as
// vec2<u32>(high, low): the bits of negative numbers are all flipped, positive numbers get their
// sign bit set, and -0.0 is first made +0.0 so that it bins with 0.0 as on the CPU.
// Kept in sync with `f64_key` in src/backend/gpu/layout.rs.

fn is_nan_bits(lo: u32, hi: u32) -> bool {
    return (hi & 0x7ff00000u) == 0x7ff00000u && ((hi & 0x000fffffu) != 0u || lo != 0u);
}

fn is_inf_bits(lo: u32, hi: u32) -> bool {
    return (hi & 0x7fffffffu) == 0x7ff00000u && lo == 0u;
}

fn f64_key(lo: u32, hi: u32) -> vec2<u32> {
    var h = hi;
    if (h == 0x80000000u && lo == 0u) {
        h = 0u;
    }
    if ((h & 0x80000000u) != 0u) {
        return vec2<u32>(~h, ~lo);
    }
    return vec2<u32>(h | 0x80000000u, lo);
}

fn key_le(a: vec2<u32>, b: vec2<u32>) -> bool {
    return a.x < b.x || (a.x == b.x && a.y <= b.y);
}

fn key_min(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
    if (key_le(a, b)) {
        return a;
    }
    return b;
}

fn key_max(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
    if (key_le(a, b)) {
        return b;
    }
    return a;
}
