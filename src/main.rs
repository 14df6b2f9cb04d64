//! The driftwatch binary: parses flags, runs a job from the library, maps the outcome to an exit
//! code (0 clean, 1 violations, 2 error). Errors are one line on stderr.

mod cli;

/// mimalloc keeps freed batch buffers for reuse: with the system allocator every decoded 512 KiB
/// column chunk came back as fresh pages, and the page faults took about 7% of a monitor run.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

use clap::Parser;
use cli::{BackendArg, Cli, Command, CommonArgs};
use driftwatch::backend::BackendChoice;
use driftwatch::pipeline::{run_baseline, run_monitor, JobOptions};

fn options(c: CommonArgs) -> anyhow::Result<JobOptions> {
    if let Some(n) = c.threads {
        if n == 0 {
            anyhow::bail!("--threads: must be at least 1");
        }
        rayon::ThreadPoolBuilder::new().num_threads(n).build_global()?;
    }
    if let Some(cols) = &c.columns {
        if cols.iter().any(|s| s.is_empty()) {
            anyhow::bail!("--columns: empty column name");
        }
    }
    Ok(JobOptions {
        inputs: c.inputs,
        output: c.output,
        columns: c.columns,
        backend: match c.backend {
            BackendArg::Auto => BackendChoice::Auto,
            BackendArg::Cpu => BackendChoice::Cpu,
            BackendArg::Gpu => BackendChoice::Gpu,
        },
        progress: !c.quiet,
        strict: c.strict,
        resume: c.resume,
    })
}

fn run() -> anyhow::Result<u8> {
    let cli = Cli::parse();
    // Before any thread starts: it changes the process's environment.
    driftwatch::backend::gpu::quiet_wayland();
    let started = std::time::Instant::now();
    match cli.command {
        Command::Baseline { common } => {
            let opts = options(common)?;
            let out = run_baseline(&opts)?;
            for sk in &out.skipped {
                eprintln!("driftwatch: skipped {}: {}", sk.path, sk.error);
            }
            if out.resumed > 0 {
                eprintln!("driftwatch: resumed: {} files taken from the checkpoint", out.resumed);
            }
            for d in &out.schema_differences {
                eprintln!("driftwatch: schema: {d}");
            }
            eprintln!(
                "driftwatch: baseline of {} rows, {} columns from {} files in {:.2}s on {}; wrote {}",
                out.profile.rows,
                out.profile.columns.len(),
                out.files,
                started.elapsed().as_secs_f64(),
                out.backend,
                opts.output.display()
            );
            Ok(if out.skipped.is_empty() { 0 } else { 2 })
        }
        Command::Bench { rows, row_group, backend, dir, runs, json } => {
            if rows == 0 || row_group == 0 || runs == 0 {
                anyhow::bail!("--rows, --row-group and --runs must be at least 1");
            }
            let backends = match backend.as_str() {
                "cpu" => vec![BackendChoice::Cpu],
                "gpu" => vec![BackendChoice::Gpu],
                "auto" => vec![BackendChoice::Auto],
                "all" => {
                    let mut v = vec![BackendChoice::Cpu];
                    if driftwatch::backend::gpu::GpuBackend::new(true).is_ok() {
                        v.push(BackendChoice::Gpu);
                    } else {
                        eprintln!("driftwatch bench: no GPU adapter found, measuring the CPU only");
                    }
                    v
                }
                other => anyhow::bail!("--backend: expected auto, cpu, gpu or all, got '{other}'"),
            };
            let report =
                driftwatch::bench::run(&driftwatch::bench::BenchOptions { rows, row_group, backends, dir, runs })?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", driftwatch::bench::markdown(&report));
            }
            Ok(0)
        }
        Command::Devices { json } => {
            let list = driftwatch::backend::gpu::list_adapters();
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if list.is_empty() {
                println!("no adapter found: wgpu sees no Vulkan, Metal or DirectX 12 device");
            } else {
                for a in &list {
                    println!(
                        "adapter: {}\n  api: {}  type: {}  hardware: {}  compute: {}\n  driver: {} {}\n  max storage binding: {} MiB  max buffer: {} MiB  workgroups/dim: {}  invocations/workgroup: {}  workgroup memory: {} KiB  f64: {}  i64: {}",
                        a.name,
                        a.backend,
                        a.device_type,
                        a.hardware,
                        a.compute,
                        a.driver,
                        a.driver_info,
                        a.max_storage_buffer_binding_size >> 20,
                        a.max_buffer_size >> 20,
                        a.max_compute_workgroups_per_dimension,
                        a.max_compute_invocations_per_workgroup,
                        a.max_compute_workgroup_storage_size >> 10,
                        a.shader_f64,
                        a.shader_int64
                    );
                }
            }
            Ok(0)
        }
        Command::Monitor { baseline, common } => {
            let opts = options(common)?;
            let out = run_monitor(&opts, &baseline)?;
            print!("{}", out.markdown);
            for sk in &out.report.current.skipped {
                eprintln!("driftwatch: skipped {}: {}", sk.path, sk.error);
            }
            eprintln!(
                "driftwatch: monitored {} rows in {:.2}s on {}; wrote {}",
                out.report.current.rows,
                started.elapsed().as_secs_f64(),
                out.report.backend,
                opts.output.display()
            );
            Ok(if !out.report.current.skipped.is_empty() {
                2
            } else if !out.report.violations.is_empty() {
                1
            } else {
                0
            })
        }
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let msg = e.to_string().split_whitespace().collect::<Vec<_>>().join(" ");
            eprintln!("driftwatch: error: {msg}");
            ExitCode::from(2)
        }
    }
}
