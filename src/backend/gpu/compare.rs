//! Binds and dispatches `shaders/compare.wgsl`: every feature's metrics in one dispatch.

use super::layout::{CompareParams, FeatureSlice, COMPARE_METRICS, COMPARE_WORKGROUP};
use super::{Context, Pool};
use crate::backend::{BinMetrics, BinnedPair};

/// Binding names in order, checked against the shader by a unit test.
pub const BINDINGS: &[&str] = &["params", "features", "base", "cur", "widths", "out"];

/// An f64 as a double-f32 pair `[hi, lo]`, `hi + lo` within about 1e-14 of `x`.
fn split(x: f64) -> [f32; 2] {
    let hi = x as f32;
    [hi, (x - hi as f64) as f32]
}

pub(super) fn run(ctx: &Context, pool: &mut Pool, pairs: &[BinnedPair]) -> Result<Vec<BinMetrics>, String> {
    if pairs.is_empty() {
        return Ok(Vec::new());
    }
    let mut slices = Vec::with_capacity(pairs.len());
    let (mut base, mut cur, mut widths) = (Vec::new(), Vec::new(), Vec::new());
    let mut usable = Vec::with_capacity(pairs.len());
    for p in pairs {
        let (tb, tc): (f64, f64) = (p.base.iter().sum(), p.cur.iter().sum());
        let ok = tb > 0.0 && tc > 0.0 && p.base.len() == p.cur.len() && p.base.len() == p.edges.len() + 1;
        usable.push(ok);
        let start = base.len() as u32;
        let len = if ok { p.base.len() } else { 0 };
        for k in 0..len {
            base.push(split(p.base[k] / tb));
            cur.push(split(p.cur[k] / tc));
            let w = if k + 1 < len {
                let x0 = if k == 0 { p.lowest.min(p.edges[0]) } else { p.edges[k - 1] };
                (p.edges[k] - x0).max(0.0)
            } else {
                0.0
            };
            widths.push(w as f32);
        }
        slices.push(FeatureSlice { start, len: len as u32 });
    }
    let dev = &ctx.device;
    use wgpu::BufferUsages as U;
    let n = pairs.len();
    let params = CompareParams { n_features: n as u32, _pad: [0; 3] };
    let params_buf = pool.get(dev, "compare.params", 16, U::UNIFORM | U::COPY_DST);
    let slices_buf = pool.get(dev, "compare.features", (n * 8) as u64, U::STORAGE | U::COPY_DST);
    let bins = base.len().max(1);
    let base_buf = pool.get(dev, "compare.base", (bins * 8) as u64, U::STORAGE | U::COPY_DST);
    let cur_buf = pool.get(dev, "compare.cur", (bins * 8) as u64, U::STORAGE | U::COPY_DST);
    let widths_buf = pool.get(dev, "compare.widths", (bins * 4) as u64, U::STORAGE | U::COPY_DST);
    let out_bytes = (n * COMPARE_METRICS * 4) as u64;
    let out_buf = pool.get(dev, "compare.out", out_bytes, U::STORAGE | U::COPY_SRC);
    let staging = pool.get(dev, "compare.staging", out_bytes, U::MAP_READ | U::COPY_DST);
    ctx.queue.write_buffer(&params_buf, 0, bytemuck::bytes_of(&params));
    ctx.queue.write_buffer(&slices_buf, 0, bytemuck::cast_slice(&slices));
    if !base.is_empty() {
        ctx.queue.write_buffer(&base_buf, 0, bytemuck::cast_slice(&base));
        ctx.queue.write_buffer(&cur_buf, 0, bytemuck::cast_slice(&cur));
        ctx.queue.write_buffer(&widths_buf, 0, bytemuck::cast_slice(&widths));
    }
    let bytes = ctx.run(
        &ctx.compare,
        "compare",
        &[&params_buf, &slices_buf, &base_buf, &cur_buf, &widths_buf, &out_buf],
        (n as u32).div_ceil(COMPARE_WORKGROUP),
        None,
        &[(&out_buf, out_bytes)],
        &staging,
    )?;
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
