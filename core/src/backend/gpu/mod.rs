//! The GPU backend: the per-value work of a batch runs as WGSL compute shaders through wgpu.
//!
//! [`GpuBackend::new`] picks an adapter (a hardware GPU first; Mesa's software lavapipe only when
//! the user asked for `--backend gpu`), opens a device with the adapter's own limits, and builds
//! every pipeline once. Each stream of batches gets a [`folder::GpuFolder`]: two sets of buffers
//! (one batch uploading and being computed while the previous one is read back), bind groups
//! and bin edges made once and reused by later folders of the same plan. A batch is one
//! submission: the histogram of every numeric column, the key counts of every dictionary column
//! and the sort of every sketched column, then one copy of the results to a mapped buffer.
//!
//! wgpu reports validation errors by panicking unless they are captured: the device's
//! uncaptured-error handler records them, and every wait checks and returns them as errors.

pub mod folder;
pub mod gram;
pub mod layout;
pub mod rff;

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use super::{Backend, FoldPlan, Folder};
use crate::error::backend::BackendError;
use crate::error::Result;

/// `core/shaders/common.wgsl`, prepended to every kernel.
pub const COMMON_WGSL: &str = include_str!("../../../shaders/common.wgsl");
/// `core/shaders/histogram.wgsl`.
pub const HISTOGRAM_WGSL: &str = include_str!("../../../shaders/histogram.wgsl");
/// `core/shaders/categorical.wgsl`.
pub const CATEGORICAL_WGSL: &str = include_str!("../../../shaders/categorical.wgsl");
/// `core/shaders/sort.wgsl`.
pub const SORT_WGSL: &str = include_str!("../../../shaders/sort.wgsl");
/// `core/shaders/rff.wgsl`.
pub const RFF_WGSL: &str = include_str!("../../../shaders/rff.wgsl");
/// `core/shaders/gram.wgsl`.
pub const GRAM_WGSL: &str = include_str!("../../../shaders/gram.wgsl");

/// The full source of a kernel as compiled: common helpers, then the kernel.
pub fn kernel_source(kernel: &str) -> String {
    format!("{COMMON_WGSL}\n{kernel}")
}

/// What `driftscope devices` prints about an adapter.
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
/// a display; this points it at a private folder so that stderr stays clean. It changes the
/// process's environment, so the binary calls it once at start-up, before any thread exists;
/// the library never does.
///
/// The folder is one per user (`driftscope-runtime-UID` in the temporary folder, mode 0700), so
/// that a job started every few minutes from cron leaves no folder per run behind. One that
/// another user owns, or that others can enter, is not used; wgpu then enumerates without it.
pub fn quiet_wayland() {
    let ok = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from).is_some_and(|p| p.is_dir());
    if ok {
        return;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        // The process's own files under /proc belong to its user.
        let Ok(uid) = std::fs::metadata("/proc/self").map(|m| m.uid()) else { return };
        let dir = std::env::temp_dir().join(format!("driftscope-runtime-{uid}"));
        if std::fs::create_dir(&dir).is_ok() {
            let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
        }
        let private = std::fs::symlink_metadata(&dir)
            .is_ok_and(|m| m.is_dir() && m.uid() == uid && m.permissions().mode() & 0o077 == 0);
        if private {
            std::env::set_var("XDG_RUNTIME_DIR", &dir);
        }
    }
}

fn instance() -> wgpu::Instance {
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

/// Where a buffer's `map_async` callback reports (see [`Context::wait_mapped`]).
pub(crate) type MapReport = std::sync::mpsc::Receiver<std::result::Result<(), wgpu::BufferAsyncError>>;

/// Asks for `slice` to be mapped for reading; the result arrives on the returned receiver.
pub(crate) fn map_read(slice: wgpu::BufferSlice<'_>) -> MapReport {
    let (tx, rx) = std::sync::mpsc::channel();
    slice.map_async(wgpu::MapMode::Read, move |r| {
        let _ = tx.send(r);
    });
    rx
}

/// The sort kernel's three entry points, sharing one bind group layout with a dynamic offset.
pub(crate) struct SortPipelines {
    pub layout: wgpu::BindGroupLayout,
    pub local_sort: wgpu::ComputePipeline,
    pub global_step: wgpu::ComputePipeline,
    pub local_merge: wgpu::ComputePipeline,
}

/// Everything built once per process: device, queue, pipelines.
pub(crate) struct Context {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub histogram: wgpu::ComputePipeline,
    pub categorical: wgpu::ComputePipeline,
    pub sort: SortPipelines,
    pub rff: wgpu::ComputePipeline,
    /// The covariance kernel.
    pub gram: wgpu::ComputePipeline,
    pub report: AdapterReport,
    pub limits: wgpu::Limits,
    errors: Arc<Mutex<Vec<String>>>,
}

/// The wgpu backend.
pub struct GpuBackend {
    ctx: Context,
    /// Buffers of finished folders, by plan, for the next folder of the same plan. The lock is
    /// held only to take or return a set, never across a device poll.
    spare: Mutex<Vec<folder::Resources>>,
}

impl std::fmt::Debug for GpuBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuBackend").field("adapter", &self.ctx.report.name).finish()
    }
}

fn module(device: &wgpu::Device, name: &str, kernel: &str) -> wgpu::ShaderModule {
    device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(name),
        source: wgpu::ShaderSource::Wgsl(Cow::Owned(kernel_source(kernel))),
    })
}

fn pipeline(
    device: &wgpu::Device,
    name: &str,
    module: &wgpu::ShaderModule,
    entry: &str,
    layout: Option<&wgpu::PipelineLayout>,
) -> wgpu::ComputePipeline {
    device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(name),
        layout,
        module,
        entry_point: Some(entry),
        compilation_options: Default::default(),
        cache: None,
    })
}

fn storage_entry(binding: u32, read_only: bool) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only },
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

fn sort_pipelines(device: &wgpu::Device) -> SortPipelines {
    let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some("sort"),
        entries: &[
            wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    has_dynamic_offset: true,
                    min_binding_size: wgpu::BufferSize::new(std::mem::size_of::<layout::SortStep>() as u64),
                },
                count: None,
            },
            storage_entry(1, true),
            storage_entry(2, true),
            storage_entry(3, false),
        ],
    });
    let pl = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some("sort"),
        bind_group_layouts: &[Some(&layout)],
        immediate_size: 0,
    });
    let m = module(device, "sort", SORT_WGSL);
    SortPipelines {
        local_sort: pipeline(device, "sort.local_sort", &m, "local_sort", Some(&pl)),
        global_step: pipeline(device, "sort.global_step", &m, "global_step", Some(&pl)),
        local_merge: pipeline(device, "sort.local_merge", &m, "local_merge", Some(&pl)),
        layout,
    }
}

impl GpuBackend {
    /// Opens a GPU. Without `allow_software`, only hardware adapters qualify (`--backend auto`);
    /// with it, software adapters such as lavapipe do too (`--backend gpu`). Honours
    /// `WGPU_ADAPTER_NAME` (a case-insensitive part of the adapter's name) and `WGPU_BACKEND`.
    pub fn new(allow_software: bool) -> Result<GpuBackend> {
        let mut found = adapters();
        if let Ok(want) = std::env::var("WGPU_ADAPTER_NAME") {
            let names: Vec<String> = found.iter().map(|a| a.get_info().name).collect();
            found.retain(|a| a.get_info().name.to_lowercase().contains(&want.to_lowercase()));
            if found.is_empty() {
                return Err(BackendError::NoAdapter(format!(
                    "WGPU_ADAPTER_NAME={want:?} matches no adapter (found: {})",
                    names.join(", ")
                ))
                .into());
            }
        }
        found.retain(|a| report(a).compute);
        if found.is_empty() {
            return Err(BackendError::NoAdapter(
                "no GPU adapter found (install a Vulkan driver, e.g. mesa-vulkan-drivers for a software one)".into(),
            )
            .into());
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
            return Err(BackendError::SoftwareOnly(adapter.get_info().name).into());
        }
        let report = report(&adapter);
        let limits = adapter.limits();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("driftscope"),
            required_features: wgpu::Features::empty(),
            required_limits: limits.clone(),
            ..Default::default()
        }))
        .map_err(|e| BackendError::OpenDevice { adapter: report.name.clone(), source: e.into() })?;
        let errors: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = errors.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            if let Ok(mut v) = sink.lock() {
                v.push(e.to_string().split_whitespace().collect::<Vec<_>>().join(" "));
            }
        }));
        let histogram = pipeline(&device, "histogram", &module(&device, "histogram", HISTOGRAM_WGSL), "main", None);
        let categorical =
            pipeline(&device, "categorical", &module(&device, "categorical", CATEGORICAL_WGSL), "main", None);
        let sort = sort_pipelines(&device);
        let rff = pipeline(&device, "rff", &module(&device, "rff", RFF_WGSL), "main", None);
        let gram = pipeline(&device, "gram", &module(&device, "gram", GRAM_WGSL), "main", None);
        let ctx = Context { device, queue, histogram, categorical, sort, rff, gram, report, limits, errors };
        ctx.check()?;
        Ok(GpuBackend { ctx, spare: Mutex::default() })
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
}

impl Context {
    /// A buffer of `bytes` (at least 64, rounded up to a multiple of 16).
    pub(crate) fn sized_buffer(&self, label: &str, bytes: usize, usage: wgpu::BufferUsages) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: (bytes.max(64) as u64).next_multiple_of(16),
            usage,
            mapped_at_creation: false,
        })
    }

    /// The workgroups of a one-dimensional kernel of `invocations` in workgroups of `wg`:
    /// along x up to the device's limit (and lavapipe's 65,535), then rows of them along y.
    pub(crate) fn grid(&self, invocations: usize, wg: u32) -> (u32, u32) {
        let workgroups = invocations.div_ceil(wg as usize);
        let max_x = (self.limits.max_compute_workgroups_per_dimension as usize).min(65_535);
        (workgroups.min(max_x) as u32, workgroups.div_ceil(max_x) as u32)
    }

    /// Runs `pipeline` over the `grid` with `bind`, on `sums` cleared first, and hands the
    /// words of `sums` (its first `bytes`) to `read` through `readback`, a mapped copy.
    pub(crate) fn sum_and_read(
        &self,
        (pipeline, bind, grid): (&wgpu::ComputePipeline, &wgpu::BindGroup, (u32, u32)),
        (sums, readback, bytes): (&wgpu::Buffer, &wgpu::Buffer, usize),
        read: impl FnOnce(&[i32]),
    ) -> Result<()> {
        let mut enc = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("sums") });
        enc.clear_buffer(sums, 0, None);
        {
            let mut pass =
                enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("sums"), timestamp_writes: None });
            pass.set_pipeline(pipeline);
            pass.set_bind_group(0, bind, &[]);
            pass.dispatch_workgroups(grid.0, grid.1, 1);
        }
        enc.copy_buffer_to_buffer(sums, 0, readback, 0, bytes as u64);
        let submission = self.queue.submit([enc.finish()]);
        let mapped = map_read(readback.slice(..bytes as u64));
        self.wait_mapped(submission, &mapped)?;
        {
            let view = readback
                .slice(..bytes as u64)
                .get_mapped_range()
                .map_err(|e| BackendError::Failed { step: "readback", source: e.into() })?;
            read(bytemuck::cast_slice(&view));
        }
        readback.unmap();
        Ok(())
    }

    /// Returns (and clears) the validation errors the device reported.
    pub(crate) fn check(&self) -> Result<()> {
        let mut e = self.errors.lock().map_err(|_| BackendError::Stalled("error log poisoned"))?;
        if e.is_empty() {
            Ok(())
        } else {
            Err(BackendError::Reported(e.drain(..).collect::<Vec<_>>().join("; ")).into())
        }
    }

    /// Waits for `submission` to complete (other threads' work goes on meanwhile).
    pub(crate) fn wait(&self, submission: wgpu::SubmissionIndex) -> Result<()> {
        self.device
            .poll(wgpu::PollType::Wait { submission_index: Some(submission), timeout: None })
            .map_err(|e| BackendError::Failed { step: "poll", source: e.into() })?;
        self.check()
    }

    /// Waits for `submission`, then for the mapping of a buffer it wrote to be reported on `rx`.
    /// Another thread's poll may be the one that runs the mapping's callback, a moment after
    /// this thread's wait returned: the report is awaited, not assumed.
    pub(crate) fn wait_mapped(&self, submission: wgpu::SubmissionIndex, rx: &MapReport) -> Result<()> {
        self.wait(submission)?;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            match rx.recv_timeout(std::time::Duration::from_millis(1)) {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(e)) => return Err(BackendError::Failed { step: "readback", source: e.into() }.into()),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) if std::time::Instant::now() < deadline => {
                    self.device
                        .poll(wgpu::PollType::Poll)
                        .map_err(|e| BackendError::Failed { step: "poll", source: e.into() })?;
                }
                Err(_) => return Err(BackendError::Stalled("readback did not complete").into()),
            }
        }
    }

    /// Workgroups along x for `n` items, `per_invocation` each on average, within the limits.
    pub(crate) fn workgroups(&self, n: usize, per_invocation: usize) -> u32 {
        let per_group = layout::WORKGROUP as usize * per_invocation;
        (n.div_ceil(per_group).max(1) as u32).min(self.limits.max_compute_workgroups_per_dimension).min(65_535)
    }
}

impl Backend for GpuBackend {
    fn name(&self) -> String {
        format!("gpu: {}", self.adapter_summary())
    }

    fn folder(&self, plan: Arc<FoldPlan>) -> Result<Box<dyn Folder + '_>> {
        Ok(Box::new(folder::GpuFolder::new(self, plan)?))
    }

    fn rff_sums(&self, rff: &crate::profile::rff::Rff, q: &[i32], groups: &[u32], n_groups: usize) -> Result<Vec<i64>> {
        self.rff_group_sums(rff, q, groups, n_groups)
    }

    fn gram_sums(&self, q: &[i64], k: usize) -> Result<Vec<i128>> {
        self.gram_group_sums(q, k)
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
        for (name, src) in [
            ("histogram", HISTOGRAM_WGSL),
            ("categorical", CATEGORICAL_WGSL),
            ("sort", SORT_WGSL),
            ("rff", RFF_WGSL),
            ("gram", GRAM_WGSL),
        ] {
            let module = naga::front::wgsl::parse_str(&kernel_source(src)).unwrap_or_else(|e| panic!("{name}: {e}"));
            naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::empty())
                .validate(&module)
                .unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert!(!module.entry_points.is_empty(), "{name}: no entry point");
        }
    }

    /// The files a shader's header names as its Rust side and CPU twin exist.
    #[test]
    fn shader_headers_name_files_that_exist() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut named = 0;
        for (name, src) in [
            ("common", COMMON_WGSL),
            ("histogram", HISTOGRAM_WGSL),
            ("categorical", CATEGORICAL_WGSL),
            ("sort", SORT_WGSL),
            ("rff", RFF_WGSL),
            ("gram", GRAM_WGSL),
        ] {
            let words = src
                .lines()
                .filter(|l| l.starts_with("//"))
                .flat_map(|l| l.split(|c: char| c.is_whitespace() || "(),;:`".contains(c)));
            for path in words.filter(|w| w.starts_with("core/")) {
                let path = path.trim_end_matches('.');
                assert!(root.join(path).is_file(), "{name}.wgsl names {path}, which does not exist");
                named += 1;
            }
        }
        assert!(named >= 5, "only {named} paths named in the shader headers");
    }

    /// The bindings each shader declares match what the Rust side binds.
    #[test]
    fn shader_bindings_match_rust_side() {
        use wgpu::naga;
        for (name, src, want) in [
            ("histogram", HISTOGRAM_WGSL, folder::HISTOGRAM_BINDINGS),
            ("categorical", CATEGORICAL_WGSL, folder::CATEGORICAL_BINDINGS),
            ("sort", SORT_WGSL, folder::SORT_BINDINGS),
            ("rff", RFF_WGSL, rff::RFF_BINDINGS),
            ("gram", GRAM_WGSL, gram::GRAM_BINDINGS),
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
