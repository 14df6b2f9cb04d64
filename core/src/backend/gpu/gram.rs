//! The covariance kernel (`core/shaders/gram.wgsl`): Σ qₐ·q_b of a batch's standardized rows
//! for every pair of features, for the PCA reconstruction. Its CPU twin is
//! [`crate::profile::pca::gram_sums`]; both compute the same integers.

use super::{Context, GpuBackend};
use crate::error::backend::BackendError;
use crate::error::Result;

/// The kernel's bindings, in order (checked against the shader in a test).
pub const GRAM_BINDINGS: &[&str] = &["params", "values", "pairs", "sums"];

/// Invocations per workgroup (`WG` in the shader).
const WG: u32 = 64;
/// Rows a dispatch takes at most: no word of the sums overflows.
const DISPATCH_ROWS: usize = 4_096;
/// Rows an invocation sums.
const PER: usize = 64;
/// Words a pair's sums take.
const WORDS: usize = 6;

/// The shader's parameters (`GramParams`).
#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    rows: u32,
    k: u32,
    pairs: u32,
    per: u32,
    groups_x: u32,
    pad: [u32; 3],
}

/// A value in the shader's sign-and-magnitude words.
fn words(q: i64) -> [u32; 2] {
    let m = q.unsigned_abs();
    [m as u32, ((m >> 32) as u32 & 0x7fff) | (u32::from(q < 0) << 31)]
}

/// A call's buffers and bind group.
struct GramBuffers {
    params: wgpu::Buffer,
    values: wgpu::Buffer,
    sums: wgpu::Buffer,
    readback: wgpu::Buffer,
    bind: wgpu::BindGroup,
}

impl GramBuffers {
    /// Buffers for dispatches of up to `chunk` rows of `k` features, the pair table written.
    fn new(ctx: &Context, chunk: usize, k: usize, sums_bytes: usize) -> GramBuffers {
        use wgpu::BufferUsages as U;
        let pairs = k * (k + 1) / 2;
        let params = ctx.sized_buffer("gram.params", std::mem::size_of::<Params>(), U::UNIFORM | U::COPY_DST);
        let values = ctx.sized_buffer("gram.values", chunk * k * 8, U::STORAGE | U::COPY_DST);
        let pair_buf = ctx.sized_buffer("gram.pairs", pairs * 4, U::STORAGE | U::COPY_DST);
        let sums = ctx.sized_buffer("gram.sums", sums_bytes, U::STORAGE | U::COPY_SRC | U::COPY_DST);
        let readback = ctx.sized_buffer("gram.readback", sums_bytes, U::MAP_READ | U::COPY_DST);
        let table: Vec<u32> = (0..k).flat_map(|a| (a..k).map(move |b| a as u32 | (b as u32) << 16)).collect();
        ctx.queue.write_buffer(&pair_buf, 0, bytemuck::cast_slice(&table));
        let layout = ctx.gram.get_bind_group_layout(0);
        let bind = super::folder::bind(
            ctx,
            "gram",
            &layout,
            &[
                params.as_entire_binding(),
                values.as_entire_binding(),
                pair_buf.as_entire_binding(),
                sums.as_entire_binding(),
            ],
        );
        GramBuffers { params, values, sums, readback, bind }
    }
}

impl GpuBackend {
    /// [`crate::profile::pca::gram_sums`] of the rows `q` (`rows × k`, each within
    /// ±[`crate::profile::pca::GRAM_MAX`]) in the kernel.
    ///
    /// # Errors
    /// [`BackendError`] when the device fails, or the inputs do not fit its buffers.
    pub(crate) fn gram_group_sums(&self, q: &[i64], k: usize) -> Result<Vec<i128>> {
        let ctx = &self.ctx;
        let pairs = k * (k + 1) / 2;
        let mut totals = vec![0i128; pairs];
        let rows = q.len() / k.max(1);
        if rows == 0 || k == 0 {
            return Ok(totals);
        }
        if k > 65_535 {
            return Err(BackendError::Reported(format!("{k} features: the kernel takes at most 65,535")).into());
        }
        let chunk = DISPATCH_ROWS.min(rows);
        let sums_bytes = pairs * WORDS * 4;
        let limit = ctx.limits.max_storage_buffer_binding_size as usize;
        if sums_bytes > limit || chunk * k * 8 > limit {
            return Err(BackendError::Reported(format!(
                "{k} features: their pairs' sums do not fit one storage binding of {limit} bytes"
            ))
            .into());
        }
        let GramBuffers { params, values, sums, readback, bind } = GramBuffers::new(ctx, chunk, k, sums_bytes);
        let mut upload: Vec<u32> = Vec::with_capacity(chunk * k * 2);
        for start in (0..rows).step_by(chunk) {
            let n = chunk.min(rows - start);
            let invocations = n.div_ceil(PER) * pairs;
            let (x, y) = ctx.grid(invocations, WG);
            let p =
                Params { rows: n as u32, k: k as u32, pairs: pairs as u32, per: PER as u32, groups_x: x, pad: [0; 3] };
            upload.clear();
            upload.extend(q[start * k..(start + n) * k].iter().flat_map(|&v| words(v)));
            ctx.queue.write_buffer(&params, 0, bytemuck::bytes_of(&p));
            ctx.queue.write_buffer(&values, 0, bytemuck::cast_slice(&upload));
            ctx.sum_and_read((&ctx.gram, &bind, (x, y)), (&sums, &readback, sums_bytes), |w| {
                for (t, pair) in totals.iter_mut().zip(w.chunks_exact(WORDS)) {
                    *t += pair.iter().enumerate().map(|(m, &v)| i128::from(v) << (16 * m)).sum::<i128>();
                }
            })?;
        }
        Ok(totals)
    }
}

#[cfg(test)]
mod tests {
    /// A value's words hold its magnitude and sign as the shader reads them.
    #[test]
    fn words_are_sign_and_magnitude() {
        use crate::profile::pca::GRAM_MAX;
        for q in [0i64, 1, -1, 65_536, -(1 << 40) - 5, GRAM_MAX, -GRAM_MAX] {
            let [lo, hi] = super::words(q);
            let m = u64::from(lo) | u64::from(hi & 0x7fff) << 32;
            let back = if hi >> 31 == 1 { -(m as i64) } else { m as i64 };
            assert_eq!(back, q);
        }
    }
}
