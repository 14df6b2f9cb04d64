//! Binds and dispatches `shaders/compare.wgsl`: every feature's metrics in one dispatch.

use super::layout::{CompareParams, FeatureSlice, COMPARE_METRICS, COMPARE_WORKGROUP};
use super::Context;
use crate::backend::{BinMetrics, BinnedPair};
use crate::error::{Error, Result};

/// Binding names in order, checked against the shader by a unit test.
pub const BINDINGS: &[&str] = &["params", "features", "base", "cur", "widths", "flags", "out"];
/// `flags` bit: the bin ends a group of the divergences.
const GROUP_END: u32 = 1;
/// `flags` bit: the bin's mass sits at its lower edge.
const STEP: u32 = 2;

/// An f64 as a double-f32 pair `[hi, lo]`, `hi + lo` within about 1e-14 of `x`.
fn split(x: f64) -> [f32; 2] {
    let hi = x as f32;
    [hi, (x - hi as f64) as f32]
}

fn buffer(ctx: &Context, label: &str, size: u64, usage: wgpu::BufferUsages) -> wgpu::Buffer {
    ctx.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: size.max(16),
        usage,
        mapped_at_creation: false,
    })
}

/// Every feature's metrics in one dispatch. Buffers are made per call: a run compares once.
pub(super) fn run(ctx: &Context, pairs: &[BinnedPair]) -> Result<Vec<BinMetrics>> {
    if pairs.is_empty() {
        return Ok(Vec::new());
    }
    let mut slices = Vec::with_capacity(pairs.len());
    let (mut base, mut cur, mut widths, mut flags) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut usable = Vec::with_capacity(pairs.len());
    for p in pairs {
        let (tb, tc): (f64, f64) = (p.base.iter().sum(), p.cur.iter().sum());
        let ok = tb > 0.0 && tc > 0.0 && p.base.len() == p.cur.len() && p.base.len() == p.edges.len() + 1;
        usable.push(ok);
        let start = base.len() as u32;
        let len = if ok { p.base.len() } else { 0 };
        if ok {
            let groups = crate::judge::compare::divergence_groups(&p.base, tb, tc);
            let shapes = crate::judge::compare::bin_shapes(&p.edges, &p.spread);
            for k in 0..len {
                base.push(split(p.base[k] / tb));
                cur.push(split(p.cur[k] / tc));
                widths.push(shapes[k].width as f32);
                let end = k + 1 == len || groups[k] != groups[k + 1];
                flags.push(if end { GROUP_END } else { 0 } | if shapes[k].step { STEP } else { 0 });
            }
        }
        slices.push(FeatureSlice { start, len: len as u32 });
    }
    use wgpu::BufferUsages as U;
    let n = pairs.len();
    let params = CompareParams { n_features: n as u32, _pad: [0; 3] };
    let params_buf = buffer(ctx, "compare.params", 16, U::UNIFORM | U::COPY_DST);
    let slices_buf = buffer(ctx, "compare.features", (n * 8) as u64, U::STORAGE | U::COPY_DST);
    let bins = base.len().max(1);
    let base_buf = buffer(ctx, "compare.base", (bins * 8) as u64, U::STORAGE | U::COPY_DST);
    let cur_buf = buffer(ctx, "compare.cur", (bins * 8) as u64, U::STORAGE | U::COPY_DST);
    let widths_buf = buffer(ctx, "compare.widths", (bins * 4) as u64, U::STORAGE | U::COPY_DST);
    let flags_buf = buffer(ctx, "compare.flags", (bins * 4) as u64, U::STORAGE | U::COPY_DST);
    let out_bytes = (n * COMPARE_METRICS * 4) as u64;
    let out_buf = buffer(ctx, "compare.out", out_bytes, U::STORAGE | U::COPY_SRC);
    let staging = buffer(ctx, "compare.staging", out_bytes, U::MAP_READ | U::COPY_DST);
    ctx.queue.write_buffer(&params_buf, 0, bytemuck::bytes_of(&params));
    ctx.queue.write_buffer(&slices_buf, 0, bytemuck::cast_slice(&slices));
    if !base.is_empty() {
        ctx.queue.write_buffer(&base_buf, 0, bytemuck::cast_slice(&base));
        ctx.queue.write_buffer(&cur_buf, 0, bytemuck::cast_slice(&cur));
        ctx.queue.write_buffer(&widths_buf, 0, bytemuck::cast_slice(&widths));
        ctx.queue.write_buffer(&flags_buf, 0, bytemuck::cast_slice(&flags));
    }
    let layout = ctx.compare.get_bind_group_layout(0);
    let buffers = [&params_buf, &slices_buf, &base_buf, &cur_buf, &widths_buf, &flags_buf, &out_buf];
    let entries: Vec<wgpu::BindGroupEntry> = buffers
        .iter()
        .enumerate()
        .map(|(i, b)| wgpu::BindGroupEntry { binding: i as u32, resource: b.as_entire_binding() })
        .collect();
    let bind = ctx.device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("compare"),
        layout: &layout,
        entries: &entries,
    });
    let mut enc = ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("compare") });
    {
        let mut pass =
            enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("compare"), timestamp_writes: None });
        pass.set_pipeline(&ctx.compare);
        pass.set_bind_group(0, &bind, &[]);
        pass.dispatch_workgroups((n as u32).div_ceil(COMPARE_WORKGROUP), 1, 1);
    }
    enc.copy_buffer_to_buffer(&out_buf, 0, &staging, 0, out_bytes);
    let submission = ctx.queue.submit([enc.finish()]);
    let slice = staging.slice(..out_bytes);
    let mapped = super::map_read(slice);
    ctx.wait_mapped(submission, &mapped)?;
    let bytes = slice.get_mapped_range().map_err(|e| Error::Backend(format!("GPU readback failed: {e}")))?.to_vec();
    staging.unmap();
    let vals: &[f32] = bytemuck::cast_slice(&bytes);
    Ok(vals
        .chunks_exact(COMPARE_METRICS)
        .zip(&usable)
        .map(|(m, &ok)| {
            if !ok {
                return BinMetrics::default();
            }
            BinMetrics {
                linf: m[0] as f64,
                psi: m[1] as f64,
                kl: m[2] as f64,
                js: m[3] as f64,
                hellinger: m[4] as f64,
                wasserstein: m[5] as f64,
            }
        })
        .collect())
}
