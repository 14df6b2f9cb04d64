//! The random-feature kernel (`core/shaders/rff.wgsl`): the sums of a batch's random Fourier
//! features per group of rows, for the kernel two-sample test. Its CPU twin is
//! [`crate::profile::rff::Rff::group_sums`]; both compute the same integers.

use super::GpuBackend;
use crate::error::backend::BackendError;
use crate::error::Result;
use crate::profile::rff::Rff;

/// The kernel's bindings, in order (checked against the shader in a test).
pub const RFF_BINDINGS: &[&str] = &["params", "values", "groups", "weights", "phases", "table", "sums"];

/// Invocations per workgroup (`WG` in the shader).
const WG: u32 = 64;
/// Rows a dispatch takes at most: no word of the sums overflows.
const DISPATCH_ROWS: usize = 32_767;
/// Iterations a shader loop may run at most (lavapipe stops loops silently at 65,535).
const MAX_LOOP: usize = 65_000;

/// The shader's parameters (`RffParams`).
#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    rows: u32,
    k: u32,
    d: u32,
    per: u32,
    groups_x: u32,
    pad: [u32; 3],
}

impl GpuBackend {
    /// The sums of `rff`'s features of the quantized rows `q` (`rows × k`) per group
    /// (`groups[r] < n_groups`): `n_groups × D` sums in 2⁻²⁸ units of a cosine.
    ///
    /// # Errors
    /// [`BackendError`] when the device fails, or the inputs do not fit its buffers.
    pub(crate) fn rff_group_sums(&self, rff: &Rff, q: &[i32], groups: &[u32], n_groups: usize) -> Result<Vec<i64>> {
        use wgpu::BufferUsages as U;
        let ctx = &self.ctx;
        let (k, d) = (rff.inputs.max(1), rff.count);
        let rows = groups.len();
        let mut totals = vec![0i64; n_groups * d];
        if rows == 0 || d == 0 {
            return Ok(totals);
        }
        if k > MAX_LOOP {
            return Err(BackendError::Reported(format!("{k} features: the kernel takes at most {MAX_LOOP}")).into());
        }
        // Rows per invocation: the loop over rows and, within it, over the inputs.
        let per = (MAX_LOOP / k).clamp(1, 64);
        let chunk = DISPATCH_ROWS.min(rows);
        let sums_bytes = n_groups * d * 8;
        let limit = ctx.limits.max_storage_buffer_binding_size as usize;
        if sums_bytes > limit || chunk * k * 4 > limit {
            return Err(BackendError::Reported(format!(
                "{n_groups} groups × {d} features do not fit one storage binding of {limit} bytes"
            ))
            .into());
        }
        let params = ctx.sized_buffer("rff.params", std::mem::size_of::<Params>(), U::UNIFORM | U::COPY_DST);
        let values = ctx.sized_buffer("rff.values", chunk * k * 4, U::STORAGE | U::COPY_DST);
        let keys = ctx.sized_buffer("rff.groups", chunk * 4, U::STORAGE | U::COPY_DST);
        let weights = ctx.sized_buffer("rff.weights", rff.frequencies.len() * 4, U::STORAGE | U::COPY_DST);
        let phases = ctx.sized_buffer("rff.phases", d * 4, U::STORAGE | U::COPY_DST);
        let table =
            ctx.sized_buffer("rff.table", crate::profile::rff::cosine_table().len() * 4, U::STORAGE | U::COPY_DST);
        let sums = ctx.sized_buffer("rff.sums", sums_bytes, U::STORAGE | U::COPY_SRC | U::COPY_DST);
        let readback = ctx.sized_buffer("rff.readback", sums_bytes, U::MAP_READ | U::COPY_DST);
        ctx.queue.write_buffer(&weights, 0, bytemuck::cast_slice(&rff.frequencies));
        ctx.queue.write_buffer(&phases, 0, bytemuck::cast_slice(&rff.phases));
        ctx.queue.write_buffer(&table, 0, bytemuck::cast_slice(crate::profile::rff::cosine_table()));
        let layout = ctx.rff.get_bind_group_layout(0);
        let bind = super::folder::bind(
            ctx,
            "rff",
            &layout,
            &[
                params.as_entire_binding(),
                values.as_entire_binding(),
                keys.as_entire_binding(),
                weights.as_entire_binding(),
                phases.as_entire_binding(),
                table.as_entire_binding(),
                sums.as_entire_binding(),
            ],
        );
        for start in (0..rows).step_by(chunk) {
            let n = chunk.min(rows - start);
            let invocations = n.div_ceil(per) * d;
            let (x, y) = ctx.grid(invocations, WG);
            let p = Params { rows: n as u32, k: k as u32, d: d as u32, per: per as u32, groups_x: x, pad: [0; 3] };
            ctx.queue.write_buffer(&params, 0, bytemuck::bytes_of(&p));
            ctx.queue.write_buffer(&values, 0, bytemuck::cast_slice(&q[start * k..(start + n) * k]));
            ctx.queue.write_buffer(&keys, 0, bytemuck::cast_slice(&groups[start..start + n]));
            ctx.sum_and_read((&ctx.rff, &bind, (x, y)), (&sums, &readback, sums_bytes), |words| {
                for (t, w) in totals.iter_mut().zip(words.chunks_exact(2)) {
                    *t += i64::from(w[1]) * 65_536 + i64::from(w[0]);
                }
            })?;
        }
        Ok(totals)
    }
}
