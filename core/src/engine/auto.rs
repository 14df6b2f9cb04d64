//! The `auto` backend choice: a hardware GPU adapter when wgpu finds one and the job is large
//! enough for it to pay, measured on the job's own first rows; the CPU otherwise.

use crate::backend::{self, Backend, BackendChoice};
use crate::engine::ProfilePlan;
use crate::error::Result;
use crate::source::scan::ScannedFile;

/// Jobs smaller than this run on the CPU under `--backend auto` without a measurement: a GPU's
/// set-up (device, pipelines, buffers) and transfers cannot pay off on them.
pub const AUTO_MIN_ROWS: u64 = 2_000_000;

/// Rows of the job's own data that `--backend auto` folds on both backends to choose.
pub const AUTO_SAMPLE_ROWS: usize = 1 << 20;

/// The first rows of the job's first file, as the profiler will see them.
fn sample(files: &[ScannedFile], plan: &ProfilePlan, rows: usize) -> Vec<arrow_array::RecordBatch> {
    let mut out = Vec::new();
    let mut n = 0;
    let Some(f) = files.first() else { return out };
    let cols = crate::source::decode::projection(f, plan.decoded().as_deref());
    for rg in 0..f.row_groups() {
        if n >= rows {
            break;
        }
        let _ = crate::source::decode::for_each_batch(f, rg, &cols, |b| {
            if n < rows {
                n += b.num_rows();
                out.push(b.clone());
            }
        });
    }
    out
}

/// Seconds each backend takes to fold `batches` the way the job will (in parallel, merged in
/// order); the first fold of a backend (buffers made, shaders warmed) is not counted.
pub fn measure(
    batches: &[arrow_array::RecordBatch],
    plan: &ProfilePlan,
    backends: &[&dyn Backend],
) -> Result<Vec<f64>> {
    let mut out = Vec::new();
    for b in backends {
        crate::engine::profile_batches(&batches[..batches.len().min(2)], plan, *b)?;
        let t = std::time::Instant::now();
        crate::engine::profile_batches(batches, plan, *b)?;
        out.push(t.elapsed().as_secs_f64());
    }
    Ok(out)
}

/// Resolves `--backend` for a job. `cpu` and `gpu` are taken as asked. `auto` takes the CPU
/// when there is no hardware GPU or the job is under [`AUTO_MIN_ROWS`] rows; otherwise it folds
/// the first [`AUTO_SAMPLE_ROWS`] rows of the job on both and keeps the faster. The string says
/// which backend runs and why.
pub fn choose_backend(
    choice: BackendChoice,
    files: &[ScannedFile],
    plan: &ProfilePlan,
) -> Result<(Box<dyn Backend>, String)> {
    if choice != BackendChoice::Auto {
        return backend::select(choice);
    }
    let (gpu, summary) = match backend::gpu_backend(false) {
        Ok(g) => g,
        Err(why) => return Ok((Box::new(backend::cpu::CpuBackend), format!("cpu (auto: {})", backend::no_gpu(&why)))),
    };
    let rows: u64 = files.iter().map(|f| f.rows).sum();
    if rows < AUTO_MIN_ROWS {
        return Ok((
            Box::new(backend::cpu::CpuBackend),
            format!("cpu (auto: {rows} rows, under the {AUTO_MIN_ROWS} where a GPU can pay off)"),
        ));
    }
    let batches = sample(files, plan, AUTO_SAMPLE_ROWS);
    if batches.is_empty() {
        return Ok((Box::new(backend::cpu::CpuBackend), "cpu (auto: no rows to measure)".into()));
    }
    let sampled: usize = batches.iter().map(|b| b.num_rows()).sum();
    let cpu = backend::cpu::CpuBackend;
    let t = measure(&batches, plan, &[&cpu, gpu.as_ref()])?;
    let why = format!("auto: {sampled} rows of the job folded in {:.3} s on the GPU, {:.3} s on the CPU", t[1], t[0]);
    Ok(if t[1] < t[0] { (gpu, format!("gpu: {summary} ({why})")) } else { (Box::new(cpu), format!("cpu ({why})")) })
}
