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

fn buffer(ctx: &Context, label: &str, bytes: usize, usage: wgpu::BufferUsages) -> wgpu::Buffer {
    ctx.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: (bytes.max(64) as u64).next_multiple_of(16),
        usage,
        mapped_at_creation: false,
    })
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
        let params = buffer(ctx, "gram.params", std::mem::size_of::<Params>(), U::UNIFORM | U::COPY_DST);
        let values = buffer(ctx, "gram.values", chunk * k * 8, U::STORAGE | U::COPY_DST);
        let pair_buf = buffer(ctx, "gram.pairs", pairs * 4, U::STORAGE | U::COPY_DST);
        let sums = buffer(ctx, "gram.sums", sums_bytes, U::STORAGE | U::COPY_SRC | U::COPY_DST);
        let readback = buffer(ctx, "gram.readback", sums_bytes, U::MAP_READ | U::COPY_DST);
        let table: Vec<u32> = (0..k).flat_map(|a| (a..k).map(move |b| a as u32 | (b as u32) << 16)).collect();
        ctx.queue.write_buffer(&pair_buf, 0, bytemuck::cast_slice(&table));
        let entries: Vec<wgpu::BindGroupEntry> = [&params, &values, &pair_buf, &sums]
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry { binding: i as u32, resource: b.as_entire_binding() })
            .collect();
        let bind = ctx.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("gram"),
            layout: &ctx.gram.get_bind_group_layout(0),
            entries: &entries,
        });
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
            let workgroups = invocations.div_ceil(WG as usize);
            let max_x = (ctx.limits.max_compute_workgroups_per_dimension as usize).min(65_535);
            let (x, y) = (workgroups.min(max_x), workgroups.div_ceil(max_x));
            let p = Params {
                rows: n as u32,
                k: k as u32,
                pairs: pairs as u32,
                per: PER as u32,
                groups_x: x as u32,
                pad: [0; 3],
            };
            upload.clear();
            upload.extend(q[start * k..(start + n) * k].iter().flat_map(|&v| words(v)));
            ctx.queue.write_buffer(&params, 0, bytemuck::bytes_of(&p));
            ctx.queue.write_buffer(&values, 0, bytemuck::cast_slice(&upload));
            let mut enc = ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("gram") });
            enc.clear_buffer(&sums, 0, None);
            {
                let mut pass = enc
                    .begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("gram"), timestamp_writes: None });
                pass.set_pipeline(&ctx.gram);
                pass.set_bind_group(0, &bind, &[]);
                pass.dispatch_workgroups(x as u32, y as u32, 1);
            }
            enc.copy_buffer_to_buffer(&sums, 0, &readback, 0, sums_bytes as u64);
            let submission = ctx.queue.submit([enc.finish()]);
            let mapped = super::map_read(readback.slice(..sums_bytes as u64));
            ctx.wait_mapped(submission, &mapped)?;
            {
                let view = readback
                    .slice(..sums_bytes as u64)
                    .get_mapped_range()
                    .map_err(|e| BackendError::Failed { step: "readback", source: e.into() })?;
                let w: &[i32] = bytemuck::cast_slice(&view);
                for (t, pair) in totals.iter_mut().zip(w.chunks_exact(WORDS)) {
                    *t += pair.iter().enumerate().map(|(m, &v)| i128::from(v) << (16 * m)).sum::<i128>();
                }
            }
            readback.unmap();
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
