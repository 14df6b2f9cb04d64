//! Binds and dispatches `shaders/categorical.wgsl`.

use arrow_buffer::BooleanBuffer;

use super::layout::CategoricalParams;
use super::{validity_words, Context, Pool};

/// Binding names in order, checked against the shader by a unit test.
pub const BINDINGS: &[&str] = &["params", "keys", "validity", "counts"];

const PER_INVOCATION: usize = 16;

pub(super) fn run(
    ctx: &Context,
    pool: &mut Pool,
    chunk: usize,
    keys: &[u32],
    validity: Option<&BooleanBuffer>,
    counts: &mut [u64],
) -> Result<u64, String> {
    if keys.is_empty() {
        return Ok(0);
    }
    let dev = &ctx.device;
    use wgpu::BufferUsages as U;
    let n_keys = counts.len();
    let slots = n_keys + 1;
    let mut nulls = 0u64;
    // Keys are 4 bytes: chunks may be twice as long as for f64 values.
    let chunk = chunk * 2;
    for start in (0..keys.len()).step_by(chunk) {
        let end = (start + chunk).min(keys.len());
        let n = end - start;
        let groups = ctx.workgroups(n, PER_INVOCATION);
        let params =
            CategoricalParams { n: n as u32, n_keys: n_keys as u32, has_validity: validity.is_some() as u32, _pad: 0 };
        let params_buf = pool.get(dev, "categorical.params", 16, U::UNIFORM | U::COPY_DST);
        let keys_buf = pool.get(dev, "categorical.keys", (n * 4) as u64, U::STORAGE | U::COPY_DST);
        let validity_buf = pool.get(dev, "categorical.validity", (n.div_ceil(32) * 4) as u64, U::STORAGE | U::COPY_DST);
        let counts_bytes = (slots * 4) as u64;
        let counts_buf = pool.get(dev, "categorical.counts", counts_bytes, U::STORAGE | U::COPY_SRC | U::COPY_DST);
        let staging = pool.get(dev, "categorical.staging", counts_bytes, U::MAP_READ | U::COPY_DST);
        ctx.queue.write_buffer(&params_buf, 0, bytemuck::bytes_of(&params));
        ctx.queue.write_buffer(&keys_buf, 0, bytemuck::cast_slice(&keys[start..end]));
        if let Some(bits) = validity {
            ctx.queue.write_buffer(&validity_buf, 0, bytemuck::cast_slice(&validity_words(bits, start, n)));
        }
        let bytes = ctx.run(
            &ctx.categorical,
            "categorical",
            &[&params_buf, &keys_buf, &validity_buf, &counts_buf],
            groups,
            Some(&counts_buf),
            &[(&counts_buf, counts_bytes)],
            &staging,
        )?;
        let words: &[u32] = bytemuck::cast_slice(&bytes);
        for (o, &c) in counts.iter_mut().zip(&words[..n_keys]) {
            *o += c as u64;
        }
        nulls += words[n_keys] as u64;
    }
    Ok(nulls)
}
