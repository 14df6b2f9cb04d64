//! Binds and dispatches `shaders/histogram.wgsl`.

use arrow_buffer::BooleanBuffer;

use super::layout::{f64_key, key_to_f64, HistogramParams, HISTOGRAM_MAX_BINS, HISTOGRAM_SPECIALS};
use super::{validity_words, Context, Pool};
use crate::backend::NumericSummary;

/// Binding names in order, checked against the shader by a unit test.
pub const BINDINGS: &[&str] = &["params", "values", "validity", "edges", "counts", "minmax"];

/// Values each invocation handles per dispatch, on average.
const PER_INVOCATION: usize = 16;

pub(super) fn run(
    ctx: &Context,
    pool: &mut Pool,
    chunk: usize,
    values: &[f64],
    validity: Option<&BooleanBuffer>,
    edges: &[f64],
    out: &mut NumericSummary,
) -> Result<(), String> {
    if edges.len() + 1 > HISTOGRAM_MAX_BINS {
        return Err(format!("histogram: {} bins exceed the GPU kernel's {HISTOGRAM_MAX_BINS}", edges.len() + 1));
    }
    if values.is_empty() {
        return Ok(());
    }
    let dev = &ctx.device;
    use wgpu::BufferUsages as U;
    let slots = edges.len() + 1 + HISTOGRAM_SPECIALS;
    let keys: Vec<[u32; 2]> = edges.iter().map(|&e| f64_key(e)).collect();
    let edges_buf = pool.get(dev, "histogram.edges", (keys.len().max(1) * 8) as u64, U::STORAGE | U::COPY_DST);
    if !keys.is_empty() {
        ctx.queue.write_buffer(&edges_buf, 0, bytemuck::cast_slice(&keys));
    }
    for start in (0..values.len()).step_by(chunk) {
        let end = (start + chunk).min(values.len());
        let n = end - start;
        let groups = ctx.workgroups(n, PER_INVOCATION);
        let params = HistogramParams {
            n: n as u32,
            n_edges: edges.len() as u32,
            has_validity: validity.is_some() as u32,
            _pad: 0,
        };
        let params_buf = pool.get(dev, "histogram.params", 16, U::UNIFORM | U::COPY_DST);
        let values_buf = pool.get(dev, "histogram.values", (n * 8) as u64, U::STORAGE | U::COPY_DST);
        let validity_buf = pool.get(dev, "histogram.validity", (n.div_ceil(32) * 4) as u64, U::STORAGE | U::COPY_DST);
        let counts_buf = pool.get(dev, "histogram.counts", (slots * 4) as u64, U::STORAGE | U::COPY_SRC | U::COPY_DST);
        let minmax_bytes = groups as u64 * 16;
        let minmax_buf = pool.get(dev, "histogram.minmax", minmax_bytes, U::STORAGE | U::COPY_SRC);
        let counts_bytes = (slots * 4) as u64;
        let staging = pool.get(dev, "histogram.staging", counts_bytes + minmax_bytes, U::MAP_READ | U::COPY_DST);
        ctx.queue.write_buffer(&params_buf, 0, bytemuck::bytes_of(&params));
        ctx.queue.write_buffer(&values_buf, 0, bytemuck::cast_slice(&values[start..end]));
        if let Some(bits) = validity {
            ctx.queue.write_buffer(&validity_buf, 0, bytemuck::cast_slice(&validity_words(bits, start, n)));
        }
        let bytes = ctx.run(
            &ctx.histogram,
            "histogram",
            &[&params_buf, &values_buf, &validity_buf, &edges_buf, &counts_buf, &minmax_buf],
            groups,
            Some(&counts_buf),
            &[(&counts_buf, counts_bytes), (&minmax_buf, minmax_bytes)],
            &staging,
        )?;
        let words: &[u32] = bytemuck::cast_slice(&bytes);
        // One dispatch counts at most `chunk` (< 2^32) values, so no u32 counter has wrapped;
        // widen to u64 here.
        let (bins, rest) = words.split_at(edges.len() + 1);
        add_counts(out, bins, &rest[..HISTOGRAM_SPECIALS]);
        for g in rest[HISTOGRAM_SPECIALS..].chunks_exact(4) {
            if !(g[0] == u32::MAX && g[1] == u32::MAX) {
                out.observe_min_max(key_to_f64(g[0], g[1]), key_to_f64(g[2], g[3]));
            }
        }
    }
    Ok(())
}

/// Widens one dispatch's u32 counters into the u64 totals.
pub fn add_counts(out: &mut NumericSummary, bins: &[u32], specials: &[u32]) {
    for (o, &c) in out.counts.iter_mut().zip(bins) {
        *o += c as u64;
    }
    out.nulls += specials[0] as u64;
    out.nan += specials[1] as u64;
    out.pos_inf += specials[2] as u64;
    out.neg_inf += specials[3] as u64;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Totals past 2^32 accumulate exactly: each dispatch's u32 counters are widened to u64.
    #[test]
    fn counts_widen_past_u32() {
        let mut s = NumericSummary::new(1);
        s.counts[0] = u32::MAX as u64 - 5;
        s.nan = u32::MAX as u64;
        add_counts(&mut s, &[10, 1], &[0, 7, 0, 0]);
        assert_eq!(s.counts, vec![(1u64 << 32) + 4, 1]);
        assert_eq!(s.nan, (1u64 << 32) + 6);
    }
}
