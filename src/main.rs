//! The driftscope binary: parses flags, runs a job from the library, maps the outcome to an exit
//! code (0 clean, 1 violations, 2 error, 3 nothing profiled: the inputs hold no row). Errors are
//! one line on stderr.

mod cli;

/// mimalloc keeps freed batch buffers for reuse: with the system allocator every decoded 512 KiB
/// column chunk came back as fresh pages, and the page faults took about 7% of a monitor run.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `purge_delay` option (`mi_option_purge_delay` in mimalloc 3's `mimalloc.h`; the
/// Rust bindings name only some options). A test checks it is the option whose default is
/// mimalloc 3's purge delay.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps what the process frees for its own reuse rather than handing it back to the kernel a
/// second later: a monitor run frees and allocates its decoded batches all the time, and each
/// page handed back came back as a fresh page the kernel zeroed first (12.7% of the CPU samples
/// of a 10M-row monitor run, 1.6% without purging). For the jobs that end when their work does;
/// `watch`, which lives on between its runs, keeps mimalloc's default. `MIMALLOC_PURGE_DELAY`
/// in the environment has the last word.
#[allow(unsafe_code, reason = "mimalloc's options are set through its C API; the call only stores a value")]
fn keep_freed_memory() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: mi_option_set only stores the value of an option that exists.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, -1) }
    }
}

use std::process::ExitCode;

use clap::Parser;
use cli::{BenchBackendArg, Cli, Command, CommonArgs, ShapeArg};
use driftscope::backend::BackendChoice;
use driftscope::engine::window::Window;
use driftscope::jobs::{run_baseline, run_monitor, JobOptions, TimeOptions};
use driftscope::source::remote::Staged;
use driftscope::source::synth::Shape;
use driftscope::Opt;

/// How a finished command ends, as its exit code tells it.
#[derive(Debug, Default)]
struct Ending {
    /// Inputs (or arriving files) that could not be read.
    failed: usize,
    /// Rows read; `None` where the command does not count them (`watch`).
    rows: Option<u64>,
    /// Whether violations were found (drift included).
    violations: bool,
}

/// The exit code of every command: 2 when an input failed, 3 when the inputs held no row (never
/// a clean pass: nothing was looked at), 1 for violations, 0 when clean.
fn exit_code(e: Ending) -> u8 {
    if e.failed > 0 {
        2
    } else if e.rows == Some(0) {
        3
    } else if e.violations {
        1
    } else {
        0
    }
}

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
        backend: c.backend.into(),
        progress: !c.quiet,
        strict: c.strict,
        resume: c.resume,
        force: c.force,
        windows: None,
        metrics: None,
        dataset_drift_share: driftscope::jobs::DATASET_DRIFT_SHARE,
        ks_alpha: None,
        quality: Default::default(),
        delimiter: c.delimiter,
        alerts: None,
        attributions: None,
        bias: None,
        segments: None,
        multivariate: None,
        estimation: None,
        window_files: Default::default(),
    })
}

/// The job's output folder, staged locally when it names an object store prefix (uploaded by
/// [`Staged::publish`] once the job has run): `opts.output` becomes the local folder.
fn stage_output(opts: &mut JobOptions, baseline: Option<&std::path::Path>) -> anyhow::Result<Staged> {
    check_remote_output(&opts.output, baseline, opts.force)?;
    let staged = Staged::output(&opts.output)?;
    if staged.is_remote() && opts.resume {
        anyhow::bail!("--resume: checkpoints need a local output folder, not {}", staged.shown());
    }
    opts.output = staged.local().to_path_buf();
    Ok(staged)
}

/// An object-store output prefix that is the baseline's prefix or lies inside it is refused
/// (the library checks local folders; a staged output is a fresh local folder).
fn check_remote_output(
    output: &std::path::Path,
    baseline: Option<&std::path::Path>,
    force: bool,
) -> anyhow::Result<()> {
    let (out, Some(base)) = (output.to_string_lossy(), baseline.map(|b| b.to_string_lossy())) else { return Ok(()) };
    if force || !Staged::names_remote(output) {
        return Ok(());
    }
    let (o, b) = (out.trim_end_matches('/'), base.trim_end_matches('/'));
    if o == b || o.starts_with(&format!("{b}/")) {
        return Err(driftscope::error::Error::OutputInUse {
            path: output.to_path_buf(),
            message: format!("is the baseline prefix {b} or lies inside it: the run would overwrite its baseline"),
        }
        .into());
    }
    Ok(())
}

/// The metrics files asked for, with their labels checked.
fn metrics_options(m: cli::MetricsArgs) -> anyhow::Result<Option<driftscope::jobs::MetricsOptions>> {
    let labels = driftscope::output::metrics::Labels {
        endpoint: m.endpoint,
        schedule: m.schedule,
        dimensions: m.emf_dimensions,
    };
    labels.check()?;
    Ok((m.emf.is_some() || m.prometheus.is_some()).then_some(driftscope::jobs::MetricsOptions {
        emf: m.emf,
        prometheus: m.prometheus,
        labels,
    }))
}

/// The alerts asked for, checked; `None` without `--alert`. The caller names the run's output
/// folder in them (`run_folder`) once it is known.
fn alert_options(a: cli::AlertArgs) -> anyhow::Result<Option<driftscope::output::alert::AlertOptions>> {
    use driftscope::output::alert::{AlertOptions, Format, Sink, DEFAULT_LIMIT};
    let format: Format = a.alert_format.parse().map_err(|e| anyhow::anyhow!("--alert-format: {e}"))?;
    if a.alert.is_empty() {
        if format != Format::Json || a.alert_after != 1 || a.alert_limit != DEFAULT_LIMIT {
            anyhow::bail!("--alert-format, --alert-after and --alert-limit need --alert");
        }
        return Ok(None);
    }
    if a.alert_after == 0 {
        anyhow::bail!("--alert-after: must be at least 1 window");
    }
    if a.alert_limit == 0 {
        anyhow::bail!("--alert-limit: must be at least 1 message");
    }
    let sinks = a
        .alert
        .iter()
        .map(|s| s.parse::<Sink>().map_err(|e| anyhow::anyhow!("--alert: {e}")))
        .collect::<anyhow::Result<Vec<Sink>>>()?;
    let mut o = AlertOptions::new(sinks);
    o.format = format;
    o.after = a.alert_after;
    o.limit = a.alert_limit;
    Ok(Some(o))
}

/// One line per alert that failed, and one on what was sent.
fn alert_lines(a: &driftscope::output::alert::Delivery) {
    for e in &a.errors {
        eprintln!("driftscope: {e}");
    }
    if a.events > 0 {
        eprintln!(
            "driftscope: alerts: {} events, {} messages sent, {} failed{}",
            a.events,
            a.sent,
            a.failed,
            if a.rate_limited > 0 { format!(", {} held back by --alert-limit", a.rate_limited) } else { String::new() }
        );
    }
}

/// The windows of `changepoints` and `calibrate`.
fn time_options(
    w: cli::WindowArgs,
    reference: driftscope::time::timeline::WindowReference,
    changes: driftscope::time::changepoint::Search,
) -> anyhow::Result<TimeOptions> {
    check_max_windows(w.max_windows)?;
    let Some(window) = windows_asked(w.window, w.window_rows)? else {
        anyhow::bail!("--window or --window-rows is required");
    };
    Ok(TimeOptions {
        column: time_source(w.time_column, w.time_from_partitions),
        window: window.in_tz(w.tz),
        limit: w.max_windows,
        reference,
        changes,
    })
}

/// The windows asked for: calendar windows, or windows of rows.
fn windows_asked(window: Option<Window>, rows: Option<u64>) -> anyhow::Result<Option<Window>> {
    match rows {
        Some(0) => anyhow::bail!("--window-rows: must be at least 1"),
        Some(n) => Ok(Some(Window::rows(n))),
        None => Ok(window),
    }
}

fn check_max_windows(n: usize) -> anyhow::Result<()> {
    if n == 0 {
        anyhow::bail!("--max-windows: must be at least 1");
    }
    Ok(())
}

/// The time column asked for, or the stand-in for hive partitions.
fn time_source(column: Option<String>, from_partitions: bool) -> Option<String> {
    if from_partitions {
        Some(driftscope::engine::PARTITION_TIME.to_string())
    } else {
        column
    }
}

fn run() -> anyhow::Result<u8> {
    let cli = Cli::parse();
    // Before any thread starts: it changes the process's environment.
    #[cfg(feature = "gpu")]
    driftscope::backend::gpu::quiet_wayland();
    // A panic inside the Parquet reader is caught and reported as a damaged file in one line;
    // the default hook would print it with a backtrace first.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !driftscope::source::decode::in_guarded_reader() {
            default_hook(info);
        }
    }));
    if !matches!(cli.command, Command::Watch(_)) {
        keep_freed_memory();
    }
    match cli.command {
        Command::Baseline(args) => baseline_command(args),
        Command::Monitor(args) => monitor_command(args),
        Command::Changepoints { windows, method, false_alarm_rate, common } => {
            let search = driftscope::time::changepoint::Search::new(method, false_alarm_rate)?;
            let mut opts = options(common)?;
            opts.windows = Some(time_options(windows, driftscope::time::timeline::WindowReference::Previous, search)?);
            let out = stage_output(&mut opts, None)?;
            changepoints(opts, search, &out)
        }
        Command::Calibrate { baseline, windows, false_alarm_rate, common } => {
            let mut opts = options(common)?;
            opts.windows =
                Some(time_options(windows, driftscope::time::timeline::WindowReference::Baseline, Default::default())?);
            let out = stage_output(&mut opts, Some(&baseline))?;
            calibrate(opts, &baseline, false_alarm_rate, &out)
        }
        Command::Watch(args) => watch(args),
        Command::Bench { rows, row_group, backend, dir, runs, shape, quality, window, json } => {
            let shape = match shape {
                ShapeArg::Capture => Shape::Capture,
                ShapeArg::Floats => Shape::Floats,
            };
            let opts = driftscope::jobs::bench::BenchOptions {
                rows,
                row_group,
                backends: Vec::new(),
                dir,
                runs,
                shape,
                quality,
                window,
            };
            bench(opts, backend, json)
        }
        Command::Devices { json } => devices(json),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "driftscope", &mut std::io::stdout());
            Ok(0)
        }
        Command::Man { dir } => man(dir.as_deref()),
    }
}

/// The man pages, made from the clap definitions: the top-level page on stdout, or every page
/// into `dir`.
fn man(dir: Option<&std::path::Path>) -> anyhow::Result<u8> {
    let cmd = <Cli as clap::CommandFactory>::command();
    match dir {
        Some(d) => {
            std::fs::create_dir_all(d).map_err(|e| anyhow::anyhow!("{}: {e}", d.display()))?;
            clap_mangen::generate_to(cmd, d).map_err(|e| anyhow::anyhow!("{}: {e}", d.display()))?;
            eprintln!("driftscope: wrote the man pages into {}", d.display());
        }
        None => {
            let mut out = std::io::stdout().lock();
            match clap_mangen::Man::new(cmd).render(&mut out) {
                // `driftscope man | head`: the reader has had what it wanted.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                other => other?,
            }
        }
    }
    Ok(0)
}

/// `monitor`: the flags checked, the output staged, the job run.
fn baseline_command(args: cli::BaselineArgs) -> anyhow::Result<u8> {
    let cli::BaselineArgs {
        quality,
        attributions,
        bias_config,
        segments,
        multivariate,
        multivariate_columns,
        multivariate_chunk_rows,
        mmd,
        mmd_features,
        estimate_performance,
        estimate_chunk_rows,
        common,
    } = args;
    let mut opts = options(common)?;
    opts.quality = quality.flags();
    opts.segments = segments.options(Default::default());
    if multivariate_chunk_rows == Some(0) {
        anyhow::bail!("--multivariate-chunk-rows: must be at least 1");
    }
    if mmd_features.is_some_and(|n| !(1..=driftscope::judge::mmd::MAX_FEATURES).contains(&n)) {
        anyhow::bail!("--mmd-features: must be 1 to {}", driftscope::judge::mmd::MAX_FEATURES);
    }
    let mmd = (mmd || mmd_features.is_some()).then(|| mmd_features.unwrap_or(driftscope::judge::mmd::DEFAULT_FEATURES));
    if multivariate || multivariate_columns.is_some() || multivariate_chunk_rows.is_some() || mmd.is_some() {
        opts.multivariate = Some(driftscope::jobs::MultivariateOptions {
            columns: multivariate_columns,
            chunk_rows: multivariate_chunk_rows,
            mmd,
        });
    }
    if estimate_chunk_rows == Some(0) {
        anyhow::bail!("--estimate-chunk-rows: must be at least 1");
    }
    if estimate_performance {
        opts.estimation = Some(driftscope::jobs::EstimationOptions { chunk_rows: estimate_chunk_rows });
    }
    opts.attributions = attributions.options();
    opts.bias =
        bias_config.map(|config| driftscope::jobs::BiasOptions { config, baseline: None, rule: Default::default() });
    let out = stage_output(&mut opts, None)?;
    baseline(opts, &out)
}

fn monitor_command(args: cli::MonitorArgs) -> anyhow::Result<u8> {
    let cli::MonitorArgs {
        baseline,
        windows,
        segments,
        segment_reference,
        segment_windows,
        window_files,
        reference,
        false_alarm_rate,
        metrics,
        alerts,
        dataset_drift_share,
        ks_alpha,
        quality,
        attributions,
        attribution_threshold,
        attribution_baseline,
        bias_config,
        bias_baseline,
        bias_rule,
        common,
    } = args;
    let mut opts = options(common)?;
    opts.quality = quality.flags();
    if segment_windows && windows.window.is_none() && windows.window_rows.is_none() {
        anyhow::bail!("--segment-windows: needs --window or --window-rows");
    }
    opts.segments = segments
        .options(segment_reference)
        .map(|s| driftscope::judge::segments::SegmentOptions { per_window: segment_windows, ..s });
    if !(attribution_threshold > 0.0 && attribution_threshold <= 1.0) {
        anyhow::bail!("--attribution-threshold: expected an nDCG in (0, 1], got {attribution_threshold}");
    }
    let rule = match bias_rule {
        cli::BiasRuleArg::Noise => driftscope::jobs::BiasRule::Noise,
        cli::BiasRuleArg::Clarify => driftscope::jobs::BiasRule::Clarify,
    };
    opts.bias = bias_config.map(|config| driftscope::jobs::BiasOptions { config, baseline: bias_baseline, rule });
    opts.attributions = attributions.options().map(|a| driftscope::quality::attribution::AttributionOptions {
        threshold: attribution_threshold,
        baseline: attribution_baseline,
        ..a
    });
    opts.metrics = metrics_options(metrics)?;
    if !(dataset_drift_share > 0.0 && dataset_drift_share <= 1.0) {
        anyhow::bail!("--dataset-drift-share: expected a share in (0, 1], got {dataset_drift_share}");
    }
    opts.dataset_drift_share = dataset_drift_share;
    if let Some(a) = ks_alpha.filter(|a| !(*a > 0.0 && *a < 1.0)) {
        anyhow::bail!("--ks-alpha: expected a significance level between 0 and 1, got {a}");
    }
    opts.ks_alpha = ks_alpha;
    check_max_windows(windows.max_windows)?;
    let asked = windows.window.is_some() || windows.window_rows.is_some();
    let rate_asked = false_alarm_rate != driftscope::time::changepoint::DEFAULT_FALSE_ALARM_RATE;
    if !asked
        && (windows.time_column.is_some()
            || windows.time_from_partitions
            || reference != Default::default()
            || rate_asked
            || window_files != Default::default())
    {
        anyhow::bail!(
            "--time-column, --time-from-partitions, --reference, --false-alarm-rate and --window-files need --window or --window-rows"
        );
    }
    opts.window_files = window_files;
    let changes = driftscope::time::changepoint::Search::new(Default::default(), false_alarm_rate)?;
    opts.windows = if asked { Some(time_options(windows, reference, changes)?) } else { None };
    opts.alerts = alert_options(alerts)?;
    let out = stage_output(&mut opts, baseline.as_deref())?;
    if let Some(a) = opts.alerts.as_mut() {
        a.run_folder = out.shown();
    }
    monitor(opts, baseline.as_deref(), &out)
}

/// `watch`: follows the folder (or looks once) and says what the last look did.
fn watch(args: cli::WatchArgs) -> anyhow::Result<u8> {
    let cli::WatchArgs {
        baseline,
        output,
        window,
        tz,
        time_column,
        grace,
        settle,
        poll,
        once,
        force,
        backend,
        quiet,
        metrics,
        alerts,
        delimiter,
        input,
    } = args;
    let metrics = metrics_options(metrics)?;
    let mut alerts = alert_options(alerts)?;
    if let Some(a) = alerts.as_mut() {
        a.run_folder = output.display().to_string();
    }
    if Staged::names_remote(&output) {
        anyhow::bail!("watch: its state needs a local output folder, not {}", output.display());
    }
    if !input.is_dir() {
        anyhow::bail!("{}: not a folder", input.display());
    }
    let window = window.in_tz(tz);
    let opts = driftscope::jobs::watch::WatchOptions {
        input,
        output,
        time_column,
        window,
        grace,
        settle,
        poll,
        once,
        metrics,
        force,
        quiet,
        delimiter,
        alerts,
    };
    let output_shown = opts.output.clone();
    let base = driftscope::judge::baseline::Baseline::load(&baseline)?;
    let (backend, why) = match backend {
        Some(b) => driftscope::backend::select(b.into())?,
        None => (driftscope::backend::select(BackendChoice::Cpu)?.0, "cpu (default)".to_string()),
    };
    if !opts.quiet {
        eprintln!("driftscope watch: backend {why}");
    }
    let mut w = driftscope::jobs::watch::Watcher::new(opts, base, backend.as_ref())?;
    let pass = w.run()?;
    alert_lines(&pass.alerts);
    let (late, untimed) = w.dropped();
    eprintln!(
        "driftscope watch: {} files folded, {} failed, {} not settled yet (no .done marker, written within --settle); {} windows closed, {} with violations; {late} late rows, {untimed} rows without a time so far",
        pass.files, pass.failed, pass.unsettled, pass.closed, pass.with_violations
    );
    if pass.closed > 0 {
        eprintln!("driftscope watch: next: {}", output_shown.join("windows.csv").display());
    }
    // As monitor: a file that failed is an error, a window with violations exits 1.
    Ok(exit_code(Ending { failed: pass.failed, rows: None, violations: pass.with_violations > 0 }))
}

fn baseline(opts: JobOptions, staged: &Staged) -> anyhow::Result<u8> {
    let started = std::time::Instant::now();
    let out = run_baseline(&opts)?;
    for sk in &out.skipped {
        eprintln!("driftscope: skipped {}: {}", sk.path, sk.error);
    }
    if out.resumed > 0 {
        eprintln!("driftscope: resumed: {} files taken from the checkpoint", out.resumed);
    }
    for d in &out.schema_differences {
        eprintln!("driftscope: schema: {d}");
    }
    if let Some(q) = &out.quality {
        eprintln!("driftscope: {}", quality_line(q));
    }
    if let Some(s) = &out.segments {
        eprintln!("driftscope: {}", segments_line(s));
    }
    if let Some((m, missing)) = &out.estimation {
        eprintln!("driftscope: {}", estimation_line(m, *missing));
    }
    if let Some(m) = &out.multivariate {
        eprintln!(
            "driftscope: multivariate: {} components of {} features explain {:.0}% of the variance; {} chunks of {} rows, normal mean error {}",
            m.pca.components.len(),
            m.pca.standardize.columns.len(),
            100.0 * m.pca.explained_variance_ratio.iter().sum::<f64>(),
            m.chunks.len(),
            m.chunk_rows,
            match (m.lower_threshold, m.upper_threshold) {
                (Some(l), Some(u)) => format!("{l:.4} to {u:.4}"),
                (None, Some(u)) => format!("up to {u:.4}"),
                _ => "unbounded".into(),
            }
        );
    }
    let (rows, columns, files) = (out.profile.rows, out.profile.columns.len(), out.files);
    staged.publish()?;
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "driftscope: baseline of {rows} rows, {columns} columns from {files} file{} in {seconds:.2}s on {}; wrote {}",
        if files == 1 { "" } else { "s" },
        out.backend,
        staged.shown()
    );
    if rows == 0 {
        eprintln!("driftscope: nothing to baseline: the inputs hold 0 rows");
    } else {
        eprintln!("driftscope: next: driftscope monitor -b {} -o OUT CAPTURES...", staged.shown());
    }
    Ok(exit_code(Ending { failed: out.skipped.len(), rows: Some(rows), violations: false }))
}

/// One line on a run's segments: how many, and what was folded into other.
fn segments_line(s: &driftscope::judge::segments::SegmentSet) -> String {
    let kept = s.segments.iter().filter(|x| x.values.is_some()).count();
    let mut line = format!("{kept} segment{} by {}", if kept == 1 { "" } else { "s" }, s.by.join(","));
    if s.folded_values > 0 {
        line.push_str(&format!(
            "; {} more values ({} rows) folded into other: past --max-segments {}",
            s.folded_values, s.folded_rows, s.max_segments
        ));
    }
    line
}

/// One line on what model quality scored.
fn quality_line(q: &driftscope::quality::join::QualityOutcome) -> String {
    let mut s = format!(
        "model quality ({}): {} rows scored of {} prediction rows",
        q.metrics.problem_type.name(),
        q.scored_rows,
        q.prediction_rows
    );
    if q.null_rows > 0 {
        s.push_str(&format!(", {} with a null value", q.null_rows));
    }
    if q.join_memory_bytes > 0 || q.unmatched_predictions > 0 || q.unmatched_labels > 0 {
        s.push_str(&format!(
            "; join: {} predictions without a label, {} labels without a prediction, {} repeated labels, label table {:.1} MiB{}",
            q.unmatched_predictions,
            q.unmatched_labels,
            q.duplicate_labels,
            q.join_memory_bytes as f64 / (1u64 << 20) as f64,
            if q.spilled_partitions > 0 { format!(", spilled to {} partitions", q.spilled_partitions) } else { String::new() }
        ));
    }
    s
}

fn monitor(opts: JobOptions, baseline: Option<&std::path::Path>, staged: &Staged) -> anyhow::Result<u8> {
    let started = std::time::Instant::now();
    let out = run_monitor(&opts, baseline)?;
    print!("{}", out.markdown);
    if let Some(q) = &out.report.model_quality {
        eprintln!("driftscope: {}", quality_line(&q.outcome));
    }
    if let Some(n) = out.report.bias.as_ref().and_then(|b| b.spilled_partitions) {
        eprintln!("driftscope: bias metrics: the late labels passed --join-memory and were spilled to {n} partitions");
    }
    for sk in &out.report.current.skipped {
        eprintln!("driftscope: skipped {}: {}", sk.path, sk.error);
    }
    if let Some(a) = &out.report.alerts {
        alert_lines(a);
    }
    staged.publish()?;
    let (rows, seconds) = (out.report.current.rows, started.elapsed().as_secs_f64());
    eprintln!(
        "driftscope: monitored {rows} rows in {seconds:.2}s on {}; wrote {}",
        out.report.backend_reason,
        staged.shown()
    );
    if rows == 0 {
        // Never a clean pass: nothing was looked at.
        eprintln!("driftscope: nothing monitored: the inputs hold 0 rows");
    } else {
        let windows =
            if out.windows.is_empty() { String::new() } else { format!(" and {}/windows.csv", staged.shown()) };
        eprintln!("driftscope: next: open {}/report.html{windows}", staged.shown());
    }
    let violations = !out.report.violations.is_empty()
        || driftscope::time::timeline::any_violation(&out.windows)
        || driftscope::judge::segments::any_violation(&out.report.segment_results)
        || out.report.model_quality.as_ref().is_some_and(|q| !q.violations.is_empty())
        || out.report.feature_attribution.as_ref().is_some_and(|a| a.violated())
        || out.report.bias.as_ref().is_some_and(|b| b.violated());
    Ok(exit_code(Ending { failed: out.report.current.skipped.len(), rows: Some(rows), violations }))
}

fn changepoints(
    opts: JobOptions,
    search: driftscope::time::changepoint::Search,
    staged: &Staged,
) -> anyhow::Result<u8> {
    let started = std::time::Instant::now();
    let out = driftscope::jobs::run_changepoints(&opts, search)?;
    print!(
        "{}",
        driftscope::output::report::markdown::changepoints(
            &out.changes,
            &out.unsearched,
            search,
            out.series,
            out.windows
        )
    );
    for sk in &out.skipped {
        eprintln!("driftscope: skipped {}: {}", sk.path, sk.error);
    }
    staged.publish()?;
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "driftscope: {} rows ({} without a time) in {} windows in {seconds:.2}s on {}; wrote {}",
        out.rows,
        out.untimed_rows,
        out.windows,
        out.backend,
        staged.shown()
    );
    if out.rows > 0 {
        eprintln!("driftscope: next: {}/changepoints.json", staged.shown());
    }
    Ok(exit_code(Ending { failed: out.skipped.len(), rows: Some(out.rows), violations: false }))
}

fn calibrate(opts: JobOptions, baseline: &std::path::Path, rate: f64, staged: &Staged) -> anyhow::Result<u8> {
    let out = driftscope::jobs::run_calibrate(&opts, baseline, rate)?;
    print!("{}", driftscope::output::report::markdown::calibration(&out.calibrations, rate, out.windows));
    for sk in &out.skipped {
        eprintln!("driftscope: skipped {}: {}", sk.path, sk.error);
    }
    staged.publish()?;
    eprintln!("driftscope: calibrated on {}; wrote {}", out.backend, staged.shown());
    if out.rows > 0 {
        eprintln!("driftscope: next: driftscope monitor -b {} -o OUT CAPTURES...", staged.shown());
    }
    Ok(exit_code(Ending { failed: out.skipped.len(), rows: Some(out.rows), violations: false }))
}

fn bench(mut opts: driftscope::jobs::bench::BenchOptions, backend: BenchBackendArg, json: bool) -> anyhow::Result<u8> {
    if opts.rows == 0 || opts.row_group == 0 || opts.runs == 0 {
        anyhow::bail!("--rows, --row-group and --runs must be at least 1");
    }
    opts.backends = match backend {
        BenchBackendArg::Cpu => vec![BackendChoice::Cpu],
        BenchBackendArg::Gpu => vec![BackendChoice::Gpu],
        BenchBackendArg::Auto => vec![BackendChoice::Auto],
        BenchBackendArg::All => {
            if any_compute_adapter() {
                vec![BackendChoice::Cpu, BackendChoice::Gpu]
            } else {
                eprintln!("driftscope bench: no GPU adapter found, measuring the CPU only");
                vec![BackendChoice::Cpu]
            }
        }
    };
    let report = driftscope::jobs::bench::run(&opts)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", driftscope::jobs::bench::markdown(&report));
    }
    Ok(0)
}

#[cfg(feature = "gpu")]
fn any_compute_adapter() -> bool {
    driftscope::backend::gpu::list_adapters().iter().any(|a| a.compute)
}

#[cfg(not(feature = "gpu"))]
fn any_compute_adapter() -> bool {
    false
}

#[cfg(not(feature = "gpu"))]
fn devices(_json: bool) -> anyhow::Result<u8> {
    anyhow::bail!("driftscope was built without its gpu feature: no adapter is looked for")
}

#[cfg(feature = "gpu")]
fn devices(json: bool) -> anyhow::Result<u8> {
    let list = driftscope::backend::gpu::list_adapters();
    if json {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(0);
    }
    if list.is_empty() {
        println!("no adapter found: wgpu sees no Vulkan, Metal or DirectX 12 device");
    }
    for a in &list {
        println!("adapter: {}", a.name);
        println!("  api: {}  type: {}  hardware: {}  compute: {}", a.backend, a.device_type, a.hardware, a.compute);
        println!("  driver: {} {}", a.driver, a.driver_info);
        println!(
            "  max storage binding: {} MiB  max buffer: {} MiB  workgroups/dim: {}  invocations/workgroup: {}",
            a.max_storage_buffer_binding_size >> 20,
            a.max_buffer_size >> 20,
            a.max_compute_workgroups_per_dimension,
            a.max_compute_invocations_per_workgroup
        );
        println!(
            "  workgroup memory: {} KiB  f64: {}  i64: {}",
            a.max_compute_workgroup_storage_size >> 10,
            a.shader_f64,
            a.shader_int64
        );
    }
    Ok(0)
}

/// The flag that sets a library option.
fn flag(o: Opt) -> &'static str {
    match o {
        Opt::Attributions => "--attributions",
        Opt::Baseline => "-b/--baseline",
        Opt::BiasConfig => "--bias-config",
        Opt::Backend => "--backend",
        Opt::Columns => "--columns",
        Opt::EmfDimensions => "--emf-dimensions",
        Opt::FalseAlarmRate => "--false-alarm-rate",
        Opt::GroundTruth => "--ground-truth",
        Opt::IdColumn => "--id-column",
        Opt::Label => "--label",
        Opt::MaxWindows => "--max-windows",
        Opt::SegmentBy => "--segment-by",
        Opt::MaxSegments => "--max-segments",
        Opt::SegmentReference => "--segment-reference",
        Opt::Multivariate => "--multivariate",
        Opt::Mmd => "--mmd",
        Opt::EstimatePerformance => "--estimate-performance",
        Opt::Method => "--method",
        Opt::Prediction => "--prediction/--probability",
        Opt::ProblemType => "--problem-type",
        Opt::Reference => "--reference",
        Opt::Threshold => "--threshold",
        Opt::TimeColumn => "--time-column",
        Opt::Shape => "--shape",
        Opt::TimeFromPartitions => "--time-from-partitions",
        Opt::Window => "--window",
        Opt::WindowRows => "--window-rows",
        _ => "an option",
    }
}

/// What to do about an error of a library option, in the CLI's words.
fn advice(o: Opt) -> Option<&'static str> {
    match o {
        Opt::MaxWindows => Some("use longer windows (--window, --window-rows) or raise --max-windows"),
        Opt::MaxSegments => Some(
            "segment by columns of fewer values, or raise --max-segments (ten times as many are held while reading)",
        ),
        _ => None,
    }
}

/// An error in one line, with the flag a library option is set by and what to do about it.
fn one_line_with_advice(e: &anyhow::Error) -> String {
    use driftscope::error::Error;
    let text = match e.downcast_ref::<Error>() {
        Some(Error::Invalid { option, message }) => match advice(*option) {
            Some(a) => format!("{}: {message} ({a})", flag(*option)),
            None => format!("{}: {message}", flag(*option)),
        },
        Some(Error::OutputInUse { .. }) => format!("{e} (or pass --force to write there anyway)"),
        _ => e.to_string(),
    };
    driftscope::error::one_line(text)
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let msg = one_line_with_advice(&e);
            eprintln!("driftscope: error: {msg}");
            ExitCode::from(2)
        }
    }
}

/// What a baseline's estimation model says of itself.
fn estimation_line(m: &driftscope::quality::estimate::EstimationModel, missing: u64) -> String {
    let ranges: Vec<String> = m
        .metrics
        .iter()
        .map(|x| match (x.lower_threshold, x.upper_threshold) {
            (Some(l), Some(u)) => format!("{} {l:.3}–{u:.3}", x.metric.name()),
            _ => format!("{} (no range)", x.metric.name()),
        })
        .collect();
    let mut s = format!(
        "performance estimation: {} labelled rows ({}), {} chunks of {} rows; normal ranges {}",
        m.rows,
        match (m.classes.len(), m.class_calibrations.iter().flatten().count()) {
            (0, _) if m.calibration.is_some() => "scores calibrated".to_string(),
            (0, _) => "scores taken as calibrated".to_string(),
            (k, c) => format!("{k} classes, the scores of {c} calibrated"),
        },
        m.rows.div_ceil(m.chunk_rows),
        m.chunk_rows,
        ranges.join(", ")
    );
    if missing > 0 {
        s.push_str(&format!("; {missing} rows without a score, prediction or label left out"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The option set by [`keep_freed_memory`] is the purge delay: mimalloc 3 gives it 1,000 ms
    /// by default (no other of its options has that default), a test process sets nothing,
    /// and setting it reads back.
    #[test]
    #[allow(unsafe_code, reason = "reads mimalloc's options through its C API")]
    fn the_option_kept_is_the_purge_delay() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            eprintln!("skipped: MIMALLOC_PURGE_DELAY is set in this environment");
            return;
        }
        // SAFETY: reading and setting an option of the linked mimalloc.
        unsafe {
            assert_eq!(libmimalloc_sys::mi_option_get(PURGE_DELAY), 1000);
            keep_freed_memory();
            assert_eq!(libmimalloc_sys::mi_option_get(PURGE_DELAY), -1);
        }
    }
}
