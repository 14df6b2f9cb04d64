//! Every struct that crosses to the GPU, `#[repr(C)]` and bytemuck `Pod`, each kept in sync with
//! its WGSL twin; and the host side of the order-preserving f64 keys of `core/shaders/common.wgsl`.

use bytemuck::{Pod, Zeroable};

/// One column of the histogram kernel. Kept in sync with `HistogramColumn` in
/// `core/shaders/histogram.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Pod, Zeroable)]
pub struct HistogramColumn {
    /// First value of the column in the values buffer (in f64s).
    pub values_at: u32,
    /// Values in this batch.
    pub n: u32,
    /// First edge of the column in the edges buffer.
    pub edges_at: u32,
    /// Interior edges.
    pub n_edges: u32,
    /// First bin of the column in the counts buffer.
    pub counts_at: u32,
    /// First group end of the column in the bounds buffer.
    pub bounds_at: u32,
    /// Groups of values counted apart (1: the whole column).
    pub n_groups: u32,
    /// Padding to 32 bytes.
    pub _pad: u32,
}

/// One column of the categorical kernel. Kept in sync with `KeyColumn` in
/// `core/shaders/categorical.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Pod, Zeroable)]
pub struct KeyColumn {
    /// First key of the column in the keys buffer.
    pub keys_at: u32,
    /// Keys in this batch.
    pub n: u32,
    /// Dictionary size (keys at or past it are not counted).
    pub n_keys: u32,
    /// First count of the column in the counts buffer.
    pub counts_at: u32,
    /// First group end of the column in the bounds buffer.
    pub bounds_at: u32,
    /// Groups of rows counted apart (1: the whole column).
    pub n_groups: u32,
    /// Padding to 32 bytes.
    pub _pad: [u32; 2],
}

/// One column of the sort kernel. Kept in sync with `SortColumn` in `core/shaders/sort.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Pod, Zeroable)]
pub struct SortColumn {
    /// First value of the column in the values buffer (in f64s).
    pub values_at: u32,
    /// Values in this batch.
    pub n: u32,
    /// First key of the column's power-of-two region in the keys buffer.
    pub keys_at: u32,
    /// Padding to 16 bytes.
    pub _pad: u32,
}

/// One step of the bitonic network. Kept in sync with `SortStep` in `core/shaders/sort.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Pod, Zeroable)]
pub struct SortStep {
    /// The stage: pairs are ascending when this bit of their first index is 0.
    pub k: u32,
    /// The distance between the two items of a pair.
    pub j: u32,
    /// Padding to 16 bytes.
    pub _pad: [u32; 2],
}

/// Largest number of bins the histogram kernel holds in workgroup memory (`MAX_BINS`).
pub const HISTOGRAM_MAX_BINS: usize = 1024;
/// Workgroup size of the histogram, categorical and sort kernels (`WG`).
pub const WORKGROUP: u32 = 256;
/// Keys a workgroup of the sort kernel sorts in its memory (`BLOCK`).
pub const SORT_BLOCK: usize = 2048;
/// Dictionaries up to this size are counted in workgroup memory (`LOCAL`).
pub const CATEGORICAL_LOCAL: usize = 2048;

/// Order-preserving key of an f64 in the total order (-0.0 before 0.0) as `[high, low]` words.
/// Twin of `order_key` in `core/shaders/common.wgsl`.
pub fn order_key(v: f64) -> [u32; 2] {
    let bits = v.to_bits();
    let k = if bits >> 63 == 1 { !bits } else { bits | (1u64 << 63) };
    [(k >> 32) as u32, k as u32]
}

/// Order-preserving key of an f64 as `[high, low]` words; -0.0 maps to 0.0's key, as the bins
/// compare. Twin of `f64_key` in `core/shaders/common.wgsl`.
pub fn f64_key(v: f64) -> [u32; 2] {
    order_key(v + 0.0)
}

/// Inverse of [`order_key`].
pub fn key_to_f64(hi: u32, lo: u32) -> f64 {
    let k = ((hi as u64) << 32) | lo as u64;
    let bits = if k >> 63 == 1 { k & !(1u64 << 63) } else { !k };
    f64::from_bits(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_sizes_match_wgsl() {
        assert_eq!(std::mem::size_of::<HistogramColumn>(), 32);
        assert_eq!(std::mem::size_of::<KeyColumn>(), 32);
        assert_eq!(std::mem::size_of::<SortColumn>(), 16);
        assert_eq!(std::mem::size_of::<SortStep>(), 16);
    }

    #[test]
    fn keys_preserve_order() {
        let vals = [f64::MIN, -1e300, -1.0, -f64::MIN_POSITIVE, -5e-324, 0.0, 5e-324, 1.0, 1e300, f64::MAX];
        for w in vals.windows(2) {
            assert!(f64_key(w[0]) < f64_key(w[1]), "{} < {}", w[0], w[1]);
        }
        assert_eq!(f64_key(-0.0), f64_key(0.0));
        assert!(order_key(-0.0) < order_key(0.0));
        for v in vals.into_iter().chain([-0.0]) {
            let [h, l] = order_key(v);
            assert_eq!(key_to_f64(h, l).to_bits(), v.to_bits());
        }
    }
}
