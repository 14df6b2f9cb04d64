//! Every struct that crosses to the GPU, `#[repr(C)]` and bytemuck `Pod`, each kept in sync with
//! its WGSL twin; and the host side of the order-preserving f64 keys of `shaders/common.wgsl`.

use bytemuck::{Pod, Zeroable};

/// Kept in sync with `HistogramParams` in `shaders/histogram.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct HistogramParams {
    /// Values in this dispatch.
    pub n: u32,
    /// Interior edges.
    pub n_edges: u32,
    /// 1 when the validity binding is meaningful.
    pub has_validity: u32,
    /// Padding to 16 bytes (uniform layout).
    pub _pad: u32,
}

/// Kept in sync with `CategoricalParams` in `shaders/categorical.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct CategoricalParams {
    /// Keys in this dispatch.
    pub n: u32,
    /// Dictionary size.
    pub n_keys: u32,
    /// 1 when the validity binding is meaningful.
    pub has_validity: u32,
    /// Padding to 16 bytes.
    pub _pad: u32,
}

/// Kept in sync with `CompareParams` in `shaders/compare.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct CompareParams {
    /// Features in the batch.
    pub n_features: u32,
    /// Padding to 16 bytes.
    pub _pad: [u32; 3],
}

/// Kept in sync with `FeatureSlice` in `shaders/compare.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct FeatureSlice {
    /// First bin of the feature in the packed arrays.
    pub start: u32,
    /// Number of bins.
    pub len: u32,
}

/// Extra counters after the bins in the histogram's `counts`: null, NaN, +∞, −∞.
pub const HISTOGRAM_SPECIALS: usize = 4;
/// Largest number of bins the histogram kernel holds in workgroup memory (`MAX_BINS`).
pub const HISTOGRAM_MAX_BINS: usize = 1024;
/// Metrics per feature written by the comparison kernel (`METRICS`).
pub const COMPARE_METRICS: usize = 6;
/// Workgroup size of the histogram and categorical kernels (`WG`).
pub const WORKGROUP: u32 = 256;
/// Workgroup size of the comparison kernel.
pub const COMPARE_WORKGROUP: u32 = 64;

/// Order-preserving key of an f64 as `[high, low]` words; -0.0 maps to 0.0's key. Twin of
/// `f64_key` in `shaders/common.wgsl`.
pub fn f64_key(v: f64) -> [u32; 2] {
    let bits = if v == 0.0 { 0u64 } else { v.to_bits() };
    let k = if bits >> 63 == 1 { !bits } else { bits | (1u64 << 63) };
    [(k >> 32) as u32, k as u32]
}

/// Inverse of [`f64_key`].
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
        assert_eq!(std::mem::size_of::<HistogramParams>(), 16);
        assert_eq!(std::mem::size_of::<CategoricalParams>(), 16);
        assert_eq!(std::mem::size_of::<CompareParams>(), 16);
        assert_eq!(std::mem::size_of::<FeatureSlice>(), 8);
    }

    #[test]
    fn keys_preserve_order() {
        let vals = [f64::MIN, -1e300, -1.0, -f64::MIN_POSITIVE, -5e-324, 0.0, 5e-324, 1.0, 1e300, f64::MAX];
        for w in vals.windows(2) {
            assert!(f64_key(w[0]) < f64_key(w[1]), "{} < {}", w[0], w[1]);
        }
        assert_eq!(f64_key(-0.0), f64_key(0.0));
        for v in vals {
            let [h, l] = f64_key(v);
            assert_eq!(key_to_f64(h, l).to_bits(), v.to_bits());
        }
    }
}
