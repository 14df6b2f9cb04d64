//! The GPU backend: the kernels of `shaders/` run as WGSL compute shaders through wgpu.
//!
//! [`GpuBackend::new`] picks an adapter (a hardware GPU first; Mesa's software lavapipe only when
//! the user asked for `--backend gpu`), opens a device with the adapter's own limits, and builds
//! every pipeline once. Each kernel call streams its input in chunks no larger than the adapter's
//! `max_storage_buffer_binding_size` (128 MiB on lavapipe), reusing buffers that grow by powers
//! of two, and reads counts back through one staging buffer. Row groups are profiled on several
//! threads at once, so while one thread waits on the GPU the others decode: decode overlaps GPU
//! work without a separate pipeline stage.
//!
//! wgpu reports validation errors by panicking unless they are captured: the device's
//! uncaptured-error handler records them, and every call checks and returns them as errors.

pub mod categorical;
pub mod compare;
pub mod histogram;
pub mod layout;

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use arrow_buffer::BooleanBuffer;
use serde::Serialize;

use super::{Backend, BinMetrics, BinnedPair, NumericSummary};

/// `shaders/common.wgsl`, prepended to every kernel.
pub const COMMON_WGSL: &str = include_str!("../../../shaders/common.wgsl");
/// `shaders/histogram.wgsl`.
pub const HISTOGRAM_WGSL: &str = include_str!("../../../shaders/histogram.wgsl");
/// `shaders/categorical.wgsl`.
pub const CATEGORICAL_WGSL: &str = include_str!("../../../shaders/categorical.wgsl");
/// `shaders/compare.wgsl`.
pub const COMPARE_WGSL: &str = include_str!("../../../shaders/compare.wgsl");

/// The full source of a kernel as compiled: common helpers, then the kernel.
pub fn kernel_source(kernel: &str) -> String {
    format!("{COMMON_WGSL}\n{kernel}")
}

/// What `driftwatch devices` prints about an adapter.
#[derive(Debug, Clone, Serialize)]
pub struct AdapterReport {
    /// Adapter name.
    pub name: String,
    /// Graphics API (Vulkan, Metal, Dx12…).
    pub backend: String,
    /// Discrete, integrated, virtual, CPU (software) or other.
    pub device_type: String,
    /// Driver name.
    pub driver: String,
    /// Driver version details.
    pub driver_info: String,
    /// Whether it runs compute shaders.
    pub compute: bool,
    /// Whether it is a hardware GPU (what `--backend auto` takes).
    pub hardware: bool,
    /// Largest storage binding, bytes.
    pub max_storage_buffer_binding_size: u64,
    /// Largest buffer, bytes.
    pub max_buffer_size: u64,
    /// Workgroups per dispatch dimension.
    pub max_compute_workgroups_per_dimension: u32,
    /// Invocations per workgroup.
    pub max_compute_invocations_per_workgroup: u32,
    /// Workgroup memory, bytes.
    pub max_compute_workgroup_storage_size: u32,
    /// SHADER_F64 support.
    pub shader_f64: bool,
    /// SHADER_INT64 support.
    pub shader_int64: bool,
}

/// libwayland complains about an unset `XDG_RUNTIME_DIR` while wgpu enumerates adapters without
/// a display; point it at a private folder so that stderr stays clean.
fn quiet_wayland() {
    let ok = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from).is_some_and(|p| p.is_dir());
    if !ok {
        let dir = std::env::temp_dir().join(format!("driftwatch-runtime-{}", std::process::id()));
        if std::fs::create_dir_all(&dir).is_ok() {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
            }
            std::env::set_var("XDG_RUNTIME_DIR", &dir);
        }
    }
}

fn instance() -> wgpu::Instance {
    quiet_wayland();
    wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env())
}

fn is_hardware(t: wgpu::DeviceType) -> bool {
    matches!(t, wgpu::DeviceType::DiscreteGpu | wgpu::DeviceType::IntegratedGpu | wgpu::DeviceType::VirtualGpu)
}

fn report(a: &wgpu::Adapter) -> AdapterReport {
    let info = a.get_info();
    let limits = a.limits();
    let features = a.features();
    AdapterReport {
        name: info.name.clone(),
        backend: format!("{:?}", info.backend),
        device_type: format!("{:?}", info.device_type),
        driver: info.driver.clone(),
        driver_info: info.driver_info.clone(),
        compute: a.get_downlevel_capabilities().flags.contains(wgpu::DownlevelFlags::COMPUTE_SHADERS),
        hardware: is_hardware(info.device_type),
        max_storage_buffer_binding_size: limits.max_storage_buffer_binding_size,
        max_buffer_size: limits.max_buffer_size,
        max_compute_workgroups_per_dimension: limits.max_compute_workgroups_per_dimension,
        max_compute_invocations_per_workgroup: limits.max_compute_invocations_per_workgroup,
        max_compute_workgroup_storage_size: limits.max_compute_workgroup_storage_size,
        shader_f64: features.contains(wgpu::Features::SHADER_F64),
        shader_int64: features.contains(wgpu::Features::SHADER_INT64),
    }
}

fn adapters() -> Vec<wgpu::Adapter> {
    pollster::block_on(instance().enumerate_adapters(wgpu::Backends::all()))
}

/// Every adapter wgpu finds.
pub fn list_adapters() -> Vec<AdapterReport> {
    adapters().iter().map(report).collect()
}

/// Everything built once per process: device, queue, pipelines.
struct Context {
    device: wgpu::Device,
    queue: wgpu::Queue,
    histogram: wgpu::ComputePipeline,
    categorical: wgpu::ComputePipeline,
    compare: wgpu::ComputePipeline,
    report: AdapterReport,
    max_chunk_values: usize,
    errors: Arc<Mutex<Vec<String>>>,
}

/// Buffers reused across calls, grown by powers of two.
#[derive(Default)]
struct Pool {
    slots: std::collections::HashMap<&'static str, wgpu::Buffer>,
}

impl Pool {
    fn get(
        &mut self,
        device: &wgpu::Device,
        label: &'static str,
        size: u64,
        usage: wgpu::BufferUsages,
    ) -> wgpu::Buffer {
        let size = size.max(16).next_power_of_two();
        if let Some(b) = self.slots.get(label) {
            if b.size() >= size && b.usage() == usage {
                return b.clone();
            }
        }
        let b = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size,
            usage,
            mapped_at_creation: false,
        });
        self.slots.insert(label, b.clone());
        b
    }
}

/// The wgpu backend.
pub struct GpuBackend {
    ctx: Context,
    pool: Mutex<Pool>,
    /// Most values per dispatch; smaller than the binding limit only in tests of the chunking.
    chunk_values: usize,
}

impl std::fmt::Debug for GpuBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuBackend").field("adapter", &self.ctx.report.name).finish()
    }
}

fn pipeline(device: &wgpu::Device, name: &str, kernel: &str) -> wgpu::ComputePipeline {
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(name),
        source: wgpu::ShaderSource::Wgsl(Cow::Owned(kernel_source(kernel))),
    });
    device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(name),
        layout: None,
        module: &module,
        entry_point: Some("main"),
        compilation_options: Default::default(),
        cache: None,
    })
}

impl GpuBackend {
    /// Opens a GPU. Without `allow_software`, only hardware adapters qualify (`--backend auto`);
    /// with it, software adapters such as lavapipe do too (`--backend gpu`). Honours
    /// `WGPU_ADAPTER_NAME` (a case-insensitive part of the adapter's name) and `WGPU_BACKEND`.
    pub fn new(allow_software: bool) -> Result<GpuBackend, String> {
        let mut found = adapters();
        if let Ok(want) = std::env::var("WGPU_ADAPTER_NAME") {
            let names: Vec<String> = found.iter().map(|a| a.get_info().name).collect();
            found.retain(|a| a.get_info().name.to_lowercase().contains(&want.to_lowercase()));
            if found.is_empty() {
                return Err(format!("WGPU_ADAPTER_NAME={want:?} matches no adapter (found: {})", names.join(", ")));
            }
        }
        found.retain(|a| report(a).compute);
        if found.is_empty() {
            return Err(
                "no GPU adapter found (install a Vulkan driver, e.g. mesa-vulkan-drivers for a software one)".into()
            );
        }
        found.sort_by_key(|a| match a.get_info().device_type {
            wgpu::DeviceType::DiscreteGpu => 0,
            wgpu::DeviceType::IntegratedGpu => 1,
            wgpu::DeviceType::VirtualGpu => 2,
            wgpu::DeviceType::Cpu => 3,
            wgpu::DeviceType::Other => 4,
        });
        let adapter = found.into_iter().next().expect("non-empty");
        if !allow_software && !is_hardware(adapter.get_info().device_type) {
            return Err(format!(
                "no hardware GPU adapter found, only {} (a software adapter is slower than the CPU backend; --backend gpu uses it)",
                adapter.get_info().name
            ));
        }
        let report = report(&adapter);
        let limits = adapter.limits();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("driftwatch"),
            required_features: wgpu::Features::empty(),
            required_limits: limits.clone(),
            ..Default::default()
        }))
        .map_err(|e| format!("cannot open {}: {e}", report.name))?;
        let errors: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = errors.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            if let Ok(mut v) = sink.lock() {
                v.push(e.to_string().split_whitespace().collect::<Vec<_>>().join(" "));
            }
        }));
        let histogram = pipeline(&device, "histogram", HISTOGRAM_WGSL);
        let categorical = pipeline(&device, "categorical", CATEGORICAL_WGSL);
        let compare = pipeline(&device, "compare", COMPARE_WGSL);
        let binding = limits.max_storage_buffer_binding_size.min(limits.max_buffer_size);
        // f64 values: 8 bytes each; a multiple of 32 so that validity words split cleanly.
        let max_chunk_values = (((binding / 8).min(1 << 24)) as usize / 32 * 32).max(32);
        let ctx = Context { device, queue, histogram, categorical, compare, report, max_chunk_values, errors };
        ctx.check()?;
        Ok(GpuBackend { chunk_values: ctx.max_chunk_values, ctx, pool: Mutex::default() })
    }

    /// Adapter name, API and type, for messages and reports.
    pub fn adapter_summary(&self) -> String {
        let r = &self.ctx.report;
        format!("{} ({}, {})", r.name, r.backend, r.device_type)
    }

    /// The adapter's report.
    pub fn adapter(&self) -> &AdapterReport {
        &self.ctx.report
    }

    /// Limits the values per dispatch (tests use a small value to exercise chunking and counter
    /// flushing; it is rounded down to a multiple of 32 and capped by the adapter's limit).
    pub fn with_chunk_values(mut self, n: usize) -> Self {
        self.chunk_values = (n / 32 * 32).clamp(32, self.ctx.max_chunk_values);
        self
    }
}

impl Context {
    fn check(&self) -> Result<(), String> {
        let mut e = self.errors.lock().map_err(|_| "GPU error log poisoned".to_string())?;
        if e.is_empty() {
            Ok(())
        } else {
            Err(format!("GPU error: {}", e.drain(..).collect::<Vec<_>>().join("; ")))
        }
    }

    /// Submits `encoder`, then reads `size` bytes of `staging` back.
    fn submit_and_read(
        &self,
        encoder: wgpu::CommandEncoder,
        staging: &wgpu::Buffer,
        size: u64,
    ) -> Result<Vec<u8>, String> {
        self.queue.submit([encoder.finish()]);
        let slice = staging.slice(..size);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| format!("GPU poll failed: {e}"))?;
        rx.recv().map_err(|_| "GPU readback lost".to_string())?.map_err(|e| format!("GPU readback failed: {e}"))?;
        let bytes = slice.get_mapped_range().map_err(|e| format!("GPU readback failed: {e}"))?.to_vec();
        staging.unmap();
        self.check()?;
        Ok(bytes)
    }

    /// Binds `buffers` to the kernel's bindings 0, 1, 2… in order, zeroes `clear`, dispatches
    /// `groups` workgroups, copies each `(buffer, bytes)` of `readback` one after the other into
    /// `staging`, and returns those bytes.
    #[allow(clippy::too_many_arguments, reason = "one call site per kernel, each naming every part of its dispatch")]
    fn run(
        &self,
        pipeline: &wgpu::ComputePipeline,
        label: &str,
        buffers: &[&wgpu::Buffer],
        groups: u32,
        clear: Option<&wgpu::Buffer>,
        readback: &[(&wgpu::Buffer, u64)],
        staging: &wgpu::Buffer,
    ) -> Result<Vec<u8>, String> {
        let layout = pipeline.get_bind_group_layout(0);
        let entries: Vec<wgpu::BindGroupEntry> = buffers
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry { binding: i as u32, resource: b.as_entire_binding() })
            .collect();
        let bind = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(label),
            layout: &layout,
            entries: &entries,
        });
        let mut enc = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) });
        if let Some(b) = clear {
            enc.clear_buffer(b, 0, None);
        }
        {
            let mut pass =
                enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some(label), timestamp_writes: None });
            pass.set_pipeline(pipeline);
            pass.set_bind_group(0, &bind, &[]);
            pass.dispatch_workgroups(groups, 1, 1);
        }
        let mut offset = 0;
        for (b, bytes) in readback {
            enc.copy_buffer_to_buffer(b, 0, staging, offset, *bytes);
            offset += bytes;
        }
        self.submit_and_read(enc, staging, offset)
    }

    fn workgroups(&self, n: usize, per_invocation: usize) -> u32 {
        let per_group = layout::WORKGROUP as usize * per_invocation;
        (n.div_ceil(per_group).max(1) as u32).min(self.device.limits().max_compute_workgroups_per_dimension).min(65_535)
    }
}

/// Validity bits of `len` values from `start`, as little-endian u32 words.
fn validity_words(bits: &BooleanBuffer, start: usize, len: usize) -> Vec<u32> {
    let part = bits.slice(start, len);
    let bytes = part.sliced();
    let mut words = vec![0u32; len.div_ceil(32)];
    let n = bytes.len().min(words.len() * 4);
    bytemuck::cast_slice_mut::<u32, u8>(&mut words)[..n].copy_from_slice(&bytes[..n]);
    words
}

impl Backend for GpuBackend {
    fn name(&self) -> String {
        format!("gpu: {}", self.adapter_summary())
    }

    fn histogram(
        &self,
        values: &[f64],
        validity: Option<&BooleanBuffer>,
        edges: &[f64],
        out: &mut NumericSummary,
    ) -> Result<(), String> {
        let mut pool = self.pool.lock().map_err(|_| "GPU buffer pool poisoned".to_string())?;
        histogram::run(&self.ctx, &mut pool, self.chunk_values, values, validity, edges, out)
    }

    fn key_counts(&self, keys: &[u32], validity: Option<&BooleanBuffer>, counts: &mut [u64]) -> Result<u64, String> {
        let mut pool = self.pool.lock().map_err(|_| "GPU buffer pool poisoned".to_string())?;
        categorical::run(&self.ctx, &mut pool, self.chunk_values, keys, validity, counts)
    }

    fn compare(&self, pairs: &[BinnedPair]) -> Result<Vec<BinMetrics>, String> {
        let mut pool = self.pool.lock().map_err(|_| "GPU buffer pool poisoned".to_string())?;
        compare::run(&self.ctx, &mut pool, pairs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every shader, with the common helpers prepended, parses and validates with naga: broken
    /// WGSL fails `cargo test` on any machine, GPU or not.
    #[test]
    fn shaders_validate_with_naga() {
        use wgpu::naga;
        for (name, src) in [("histogram", HISTOGRAM_WGSL), ("categorical", CATEGORICAL_WGSL), ("compare", COMPARE_WGSL)]
        {
            let module = naga::front::wgsl::parse_str(&kernel_source(src)).unwrap_or_else(|e| panic!("{name}: {e}"));
            naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::empty())
                .validate(&module)
                .unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert!(module.entry_points.iter().any(|e| e.name == "main"), "{name}: no main");
        }
    }

    /// The bindings each shader declares match what the Rust side binds.
    #[test]
    fn shader_bindings_match_rust_side() {
        use wgpu::naga;
        for (name, src, want) in [
            ("histogram", HISTOGRAM_WGSL, histogram::BINDINGS),
            ("categorical", CATEGORICAL_WGSL, categorical::BINDINGS),
            ("compare", COMPARE_WGSL, compare::BINDINGS),
        ] {
            let module = naga::front::wgsl::parse_str(&kernel_source(src)).unwrap();
            let mut got: Vec<(u32, String)> = module
                .global_variables
                .iter()
                .filter_map(|(_, g)| g.binding.as_ref().map(|b| (b.binding, g.name.clone().unwrap_or_default())))
                .collect();
            got.sort();
            let want: Vec<(u32, String)> = want.iter().enumerate().map(|(i, n)| (i as u32, n.to_string())).collect();
            assert_eq!(got, want, "{name}");
        }
    }
}
