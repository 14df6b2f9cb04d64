//! Command-line flags, kept as close to what the user types as possible; `main.rs` turns them
//! into validated [`driftscope::jobs::JobOptions`].

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use driftscope::engine::window::Window;
use driftscope::time::changepoint::Method as ChangeMethod;
use driftscope::time::timeline::WindowReference;

/// driftscope: data-quality and drift monitoring for ML models at full volume.
#[derive(Debug, Parser)]
#[command(name = "driftscope", version = env!("DRIFTSCOPE_VERSION"), about, long_about = None, after_help = EXIT_CODES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The time column of SageMaker's data captures, as driftscope reads them (flattened).
const CAPTURE_TIME: &str = "eventMetadata.inferenceTime";

/// What every command's exit code says.
const EXIT_CODES: &str = "Exit codes: 0 clean, 1 violations (drift included), 2 error (an input left out, a bad flag), 3 nothing profiled (the inputs hold no row).";

/// Subcommands.
#[allow(clippy::large_enum_variant, reason = "parsed once per process: the largest variant's size does not matter")]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Profile training data into a baseline (statistics.json, constraints.json, profile.json).
    #[command(
        after_help = "Example: driftscope baseline -o out/baseline data/baseline.parquet\n\nExit codes: 0 written, 2 error, 3 the inputs hold no row."
    )]
    Baseline(BaselineArgs),
    /// Compare captures with a baseline; exit 0 clean, 1 violations, 2 error.
    #[command(
        after_help = "Example: driftscope monitor -b out/baseline -o out/monitor data/current.parquet\n\nExit codes: 0 clean, 1 violations (drift included), 2 error, 3 the inputs hold no row."
    )]
    Monitor(MonitorArgs),
    /// Find change points in the per-window series of the inputs (mean, standard deviation,
    /// completeness of every feature), without a baseline; writes changepoints.json.
    #[command(
        after_help = "Example: driftscope changepoints -o out/changes --window 1h --time-column event_time data/current.parquet\n\nExit codes: 0 done, 2 error, 3 the inputs hold no row."
    )]
    Changepoints {
        /// The windows.
        #[command(flatten)]
        windows: WindowArgs,
        /// Detector: seeded (seeded binary segmentation against each series' long-run noise,
        /// at --false-alarm-rate), bocpd (Bayesian online change-point detection, hazard
        /// 1/100), or, for comparison, pelt, binseg (modified-BIC penalty, noise taken as
        /// independent) or page-hinkley (online test).
        #[arg(long, value_name = "METHOD", default_value = "seeded")]
        method: ChangeMethod,
        /// False alarms a stationary series may raise per 1,000 windows (seeded).
        #[arg(long, value_name = "RATE", default_value_t = driftscope::time::changepoint::DEFAULT_FALSE_ALARM_RATE)]
        false_alarm_rate: f64,
        /// Shared flags.
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Set each feature's drift threshold from past windows judged normal, at a chosen
    /// false-alarm rate; the output folder is a baseline with the calibrated constraints.
    #[command(
        after_help = "Example: driftscope calibrate -b out/baseline -o out/calibrated --window 1h --time-column event_time history/\n\nExit codes: 0 written, 2 error, 3 the history holds no row."
    )]
    Calibrate {
        /// The baseline to calibrate.
        #[arg(long, short = 'b', value_name = "DIR")]
        baseline: PathBuf,
        /// The windows.
        #[command(flatten)]
        windows: WindowArgs,
        /// Chance that a normal window raises a false alarm on a feature.
        #[arg(long, value_name = "RATE", default_value_t = 0.01)]
        false_alarm_rate: f64,
        /// Shared flags.
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Follow a folder of arriving capture files (SageMaker's yyyy/mm/dd/hh layout): profile
    /// each file once complete, and judge each window once the clock passes its end plus a
    /// grace period. Survives restarts (state in the output folder).
    #[command(
        after_help = "Example (from cron): driftscope watch --once -b out/baseline -o out/live --time-column inferenceTime captures/\n\nExit codes: 0 clean, 1 a window closed with violations, 2 error (a file failed)."
    )]
    Watch(WatchArgs),
    /// Measure throughput per stage and backend on a generated capture.
    Bench {
        /// Rows per generated capture.
        #[arg(long, default_value_t = 1_000_000)]
        rows: usize,
        /// Rows per row group.
        #[arg(long, default_value_t = 131_072)]
        row_group: usize,
        /// Backends to measure: all (cpu, then gpu when an adapter is found), auto, cpu or gpu.
        #[arg(long, value_enum, default_value_t = BenchBackendArg::All)]
        backend: BenchBackendArg,
        /// Keep the generated files in this folder (and reuse them next time).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Repetitions; the best time is reported.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Which columns the generated captures have: a 22-column model capture, or 12 columns
        /// of mostly floats.
        #[arg(long, value_enum, default_value_t = ShapeArg::Capture)]
        shape: ShapeArg,
        /// Also time model quality (binary, on the capture's prediction and label): scored in
        /// the rows, and joined by inference_id in memory and spilled.
        #[arg(long)]
        quality: bool,
        /// Also time the profile and monitor with rows keyed by windows of this length of the
        /// capture's event_time (a million rows span about ten hours): 15m, 1h…
        #[arg(long, value_name = "LENGTH")]
        window: Option<Window>,
        /// Print JSON instead of a Markdown table.
        #[arg(long)]
        json: bool,
    },
    /// List the GPU adapters wgpu finds: name, API, type, driver, compute limits.
    Devices {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print a shell completion script, made from these very flags.
    #[command(
        after_help = "Example: driftscope completions bash > ~/.local/share/bash-completion/completions/driftscope\n\nzsh: into a folder of $fpath as _driftscope; fish: ~/.config/fish/completions/driftscope.fish; PowerShell: dot-source it from $PROFILE."
    )]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write one per command into a folder.
    #[command(after_help = "Example: driftscope man --dir ~/.local/share/man/man1 && man driftscope-monitor")]
    Man {
        /// Write driftscope.1 and driftscope-COMMAND.1 here instead of printing driftscope.1.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// The flags of `baseline`.
#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// Model quality (with --problem-type): writes model_quality/statistics.json and
    /// constraints.json from the inputs' labels and predictions.
    #[command(flatten)]
    pub quality: QualityArgs,
    /// Feature attributions: writes Clarify's analysis.json of their global values.
    #[command(flatten)]
    pub attributions: AttributionArgs,
    /// Bias metrics from Clarify's analysis configuration (label, facet, group variable,
    /// predicted label or probability): writes bias/analysis.json, the bias baseline.
    #[arg(long, value_name = "FILE")]
    pub bias_config: Option<PathBuf>,
    /// Segments.
    #[command(flatten)]
    pub segments: SegmentArgs,
    /// Multivariate drift: fit a PCA reconstruction of the features (as NannyML's data
    /// reconstruction drift), writes multivariate.json; monitor then judges each run and
    /// window by its mean reconstruction error.
    #[arg(long)]
    pub multivariate: bool,
    /// The features of the reconstruction (comma-separated) [default: every numeric feature, and
    /// every categorical one of at most 10,000 values].
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub multivariate_columns: Option<Vec<String>>,
    /// Rows per chunk of the baseline whose mean errors give the normal range [default: a
    /// tenth of the rows].
    #[arg(long, value_name = "N")]
    pub multivariate_chunk_rows: Option<u64>,
    /// Multivariate drift by a kernel two-sample test too (MMD of a Gaussian kernel through
    /// random Fourier features, with a p-value), on the reconstruction's features; implies
    /// --multivariate. Monitor then judges each run and window by it as well.
    #[arg(long)]
    pub mmd: bool,
    /// Random features of the kernel test (1 to 4,096; more: a closer Gaussian kernel and more
    /// work per row) [default: 128]; implies --mmd.
    #[arg(long, value_name = "N")]
    pub mmd_features: Option<usize>,
    /// Performance estimation without labels (binary classification, as NannyML's CBPE): from
    /// the labels, scores and predictions, calibrate the scores and set each metric's normal
    /// range; writes model_quality/estimation.json, and monitor then estimates accuracy,
    /// precision, recall, specificity, F1 and ROC AUC of captures without labels, per run and
    /// window.
    #[arg(long, help_heading = "Model quality")]
    pub estimate_performance: bool,
    /// Rows per chunk of the baseline whose realized metrics give the normal ranges [default:
    /// a tenth of the labelled rows].
    #[arg(long, value_name = "N", requires = "estimate_performance", help_heading = "Model quality")]
    pub estimate_chunk_rows: Option<u64>,
    /// Shared flags.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// The flags of `monitor`.
#[derive(Debug, Args)]
pub struct MonitorArgs {
    /// Baseline folder: driftscope's, or SageMaker's statistics.json + constraints.json
    /// (optional when --reference compares windows with one another).
    #[arg(long, short = 'b', value_name = "DIR")]
    pub baseline: Option<PathBuf>,
    /// Windows.
    #[command(flatten)]
    pub windows: WindowArgs,
    /// Segments.
    #[command(flatten)]
    pub segments: SegmentArgs,
    /// What each segment is compared with: same (the baseline's segment of the same values,
    /// made by a baseline with the same --segment-by; the whole baseline for a segment it
    /// lacks and for other) or whole (the whole baseline).
    #[arg(long, value_name = "REF", default_value = "same", requires = "segment_by")]
    pub segment_reference: driftscope::judge::segments::SegmentReference,
    /// Judge each segment in each window too (with --segment-by and --window or
    /// --window-rows): writes segments_windows.csv and segments_windows.parquet, one row per
    /// segment, window and feature. The (segment, window) pairs count against --max-windows.
    #[arg(long, requires = "segment_by")]
    pub segment_windows: bool,
    /// Which windows get windows/…/constraint_violations.json: all (as SageMaker's hourly
    /// monitoring writes them), violations (only windows with a violation: a backfill of
    /// years otherwise writes a folder per hour) or none. windows.csv and windows.parquet hold
    /// every window either way.
    #[arg(long, value_name = "WHICH", default_value = "all")]
    pub window_files: driftscope::output::windows::WindowFiles,
    /// What each window is compared with: baseline, previous (the window before),
    /// rolling:N (the N windows before, merged) or window:START..END (the windows starting
    /// in that range, merged; dates or ISO 8601 times, UTC). Without -b, the bin edges and
    /// constraints come from the inputs themselves.
    #[arg(long, value_name = "REF", default_value = "baseline")]
    pub reference: WindowReference,
    /// Change points in the windows' series (changepoints.json): false alarms a stationary
    /// series may raise per 1,000 windows.
    #[arg(long, value_name = "RATE", default_value_t = driftscope::time::changepoint::DEFAULT_FALSE_ALARM_RATE)]
    pub false_alarm_rate: f64,
    /// Metrics files.
    #[command(flatten)]
    pub metrics: MetricsArgs,
    /// Alerts.
    #[command(flatten)]
    pub alerts: AlertArgs,
    /// The dataset has drifted when at least this share of the compared features drifted.
    #[arg(long, value_name = "SHARE", default_value_t = driftscope::jobs::DATASET_DRIFT_SHARE)]
    pub dataset_drift_share: f64,
    /// Judge numeric drift by the two-sample Kolmogorov–Smirnov test at this significance
    /// level (e.g. 0.01) instead of the baseline's L∞ rule: drift when the p-value is below.
    #[arg(long, value_name = "ALPHA")]
    pub ks_alpha: Option<f64>,
    /// Model quality: on by itself when the baseline has it.
    #[command(flatten)]
    pub quality: QualityArgs,
    /// Feature attribution drift.
    #[command(flatten)]
    pub attributions: AttributionArgs,
    /// nDCG of the current attribution ranking below which attributions have drifted
    /// (Clarify's threshold).
    #[arg(long, value_name = "NDCG", default_value_t = driftscope::judge::attribution::DEFAULT_THRESHOLD, requires = "attributions")]
    pub attribution_threshold: f64,
    /// The baseline's attributions: a Clarify explainability analysis.json (default: the
    /// baseline folder's analysis.json).
    #[arg(long, value_name = "FILE", requires = "attributions")]
    pub attribution_baseline: Option<PathBuf>,
    /// Bias drift: Clarify's bias metrics of the inputs per Clarify's analysis configuration
    /// (label, facet, group variable, predicted label or probability), each held against the
    /// baseline's (bias/).
    #[arg(long, value_name = "FILE")]
    pub bias_config: Option<PathBuf>,
    /// The baseline's bias metrics: a Clarify bias analysis.json (default: the baseline
    /// folder's bias/analysis.json).
    #[arg(long, value_name = "FILE", requires = "bias_config")]
    pub bias_baseline: Option<PathBuf>,
    /// When a bias metric violates: noise (farther from zero than its baseline value by more than
    /// 3.29 standard errors of its estimate, so that a window of an unchanged process rarely
    /// raises one) or clarify (farther from zero at all, as Clarify judges).
    #[arg(long, value_enum, default_value_t = BiasRuleArg::Noise)]
    pub bias_rule: BiasRuleArg,
    /// Shared flags.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// When a bias metric violates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BiasRuleArg {
    /// Beyond the metric's sampling noise.
    Noise,
    /// Clarify's rule: farther from zero at all.
    Clarify,
}

/// Per-row feature attributions in the inputs.
#[derive(Debug, Args)]
pub struct AttributionArgs {
    /// Columns named PREFIX<feature> hold each row's attribution of that feature (SHAP values a
    /// model server returns, e.g. shap_age for age); their global value is the mean absolute
    /// attribution. They are read apart, never profiled as features.
    #[arg(long, value_name = "PREFIX")]
    pub attributions: Option<String>,
    /// The label the attributions explain, as Clarify's analysis.json names it.
    #[arg(long, value_name = "LABEL", default_value = driftscope::judge::attribution::DEFAULT_LABEL, requires = "attributions")]
    pub attribution_label: String,
}

impl AttributionArgs {
    /// The job's attribution options, when asked for.
    pub fn options(&self) -> Option<driftscope::quality::attribution::AttributionOptions> {
        self.attributions.as_ref().map(|p| driftscope::quality::attribution::AttributionOptions {
            label: self.attribution_label.clone(),
            ..driftscope::quality::attribution::AttributionOptions::new(p)
        })
    }
}

/// The flags of `watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Baseline folder.
    #[arg(long, short = 'b', value_name = "DIR")]
    pub baseline: PathBuf,
    /// Output folder (window folders, windows.csv, the watch state).
    #[arg(long, short = 'o', value_name = "DIR")]
    pub output: PathBuf,
    /// Window length, calendar-aligned in UTC.
    #[arg(long, value_name = "LENGTH", default_value = "1h")]
    pub window: Window,
    /// Align windows to the calendar of this time zone (IANA name, e.g. Europe/Paris):
    /// days start at local midnight, a day of a daylight-saving change lasts 23 or 25 hours.
    /// Outputs stay in UTC.
    #[arg(long, value_name = "ZONE", default_value = "UTC", value_parser = parse_tz)]
    pub tz: chrono_tz::Tz,
    /// The time of each row: a timestamp, a date, an epoch number or ISO 8601 text [default:
    /// a SageMaker capture's inferenceTime].
    #[arg(long, value_name = "COLUMN", default_value = CAPTURE_TIME, hide_default_value = true)]
    pub time_column: String,
    /// How long after its end a window is closed (late files still count until then).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = driftscope::jobs::watch::parse_duration)]
    pub grace: std::time::Duration,
    /// A file is complete when FILE.done exists, or when it was last modified at least this
    /// long ago.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = driftscope::jobs::watch::parse_duration)]
    pub settle: std::time::Duration,
    /// Time between looks at the folder.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = driftscope::jobs::watch::parse_duration)]
    pub poll: std::time::Duration,
    /// Look once (fold what is complete, close what is due) and exit: 1 when a window it
    /// closed has violations, 2 when a file failed. Made for cron: files count as complete
    /// by their modification time.
    #[arg(long)]
    pub once: bool,
    /// Write into the output folder even when it is the baseline folder, lies inside it, or
    /// holds a baseline.
    #[arg(long)]
    pub force: bool,
    /// Where arriving files are folded, their windows keyed in the kernels: the CPU (the
    /// default: files arrive a few at a time), a GPU adapter, or auto (a hardware GPU when
    /// there is one).
    #[arg(long, value_enum)]
    pub backend: Option<BackendArg>,
    /// Say nothing per closed window: the last line still tells what the call did.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// The delimiter of CSV files: `,`, `;`, `tab`, `|` or another single character [default:
    /// each file's own, found from its first records].
    #[arg(long, value_name = "CHAR", value_parser = parse_delimiter)]
    pub delimiter: Option<u8>,
    /// Metrics files.
    #[command(flatten)]
    pub metrics: MetricsArgs,
    /// Alerts on closed windows (debounced across restarts: the state file keeps what was
    /// alerted).
    #[command(flatten)]
    pub alerts: AlertArgs,
    /// The folder files arrive in.
    #[arg(value_name = "INPUT_DIR")]
    pub input: PathBuf,
}

/// Parses an IANA time zone name.
/// Model-quality flags of `baseline` and `monitor`.
#[derive(Debug, Args, Default)]
pub struct QualityArgs {
    /// Score predictions against labels as SageMaker's model-quality job does (monitor: the
    /// baseline's problem type by default).
    #[arg(long, value_name = "TYPE", help_heading = "Model quality")]
    pub problem_type: Option<driftscope::quality::ProblemType>,
    /// The ground-truth column (in the inputs, or in --ground-truth files other than SageMaker's
    /// ground-truth JSON Lines, whose label is their data).
    #[arg(long, value_name = "COL", help_heading = "Model quality")]
    pub label: Option<String>,
    /// The predicted label or value column (a capture's output is `_c0`, `_c1`, …); '' drops
    /// the baseline's, so that a binary label comes from --probability and --threshold.
    #[arg(long, value_name = "COL", help_heading = "Model quality")]
    pub prediction: Option<String>,
    /// The probability of the positive class (binary; AUC and PR-AUC are computed from it, and
    /// it gives the predicted label when --prediction is not given).
    #[arg(long, value_name = "COL", help_heading = "Model quality")]
    pub probability: Option<String>,
    /// A multiclass model's score column of each class, for performance estimation
    /// (comma-separated CLASS=COLUMN pairs, e.g. cat=p_cat,dog=p_dog).
    #[arg(long, value_name = "CLASS=COL", value_delimiter = ',', value_parser = parse_class_column, help_heading = "Model quality")]
    pub class_probabilities: Option<Vec<(String, String)>>,
    /// Probability from which a row is predicted positive [default: 0.5].
    #[arg(long, value_name = "P", help_heading = "Model quality")]
    pub threshold: Option<f64>,
    /// The positive class of a binary problem [default: 1, which also matches 1.0 and true].
    #[arg(long, value_name = "LABEL", help_heading = "Model quality")]
    pub positive_label: Option<String>,
    /// Labels that arrive apart from the predictions (SageMaker ground-truth JSON Lines,
    /// Parquet or CSV), joined by id: a capture's inferenceId, else its eventId, else
    /// --id-column.
    #[arg(long, value_name = "INPUT", num_args = 1.., help_heading = "Model quality")]
    pub ground_truth: Vec<String>,
    /// The id column that joins Parquet or CSV predictions with their labels.
    #[arg(long, value_name = "COL", help_heading = "Model quality")]
    pub id_column: Option<String>,
    /// Memory for the join's label table before it spills to disk (e.g. 512MiB, 4GiB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, help_heading = "Model quality")]
    pub join_memory: Option<u64>,
}

impl QualityArgs {
    /// The library's flags.
    pub fn flags(self) -> driftscope::quality::run::QualityFlags {
        driftscope::quality::run::QualityFlags {
            problem_type: self.problem_type,
            label: self.label,
            prediction: self.prediction,
            probability: self.probability,
            threshold: self.threshold,
            positive_label: self.positive_label,
            class_probabilities: self.class_probabilities,
            ground_truth: self.ground_truth,
            id_column: self.id_column,
            join_memory: self.join_memory,
        }
    }
}

fn parse_class_column(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((class, column)) if !class.trim().is_empty() && !column.trim().is_empty() => {
            Ok((class.trim().to_string(), column.trim().to_string()))
        }
        _ => Err(format!("{s:?}: expected CLASS=COLUMN, e.g. cat=p_cat")),
    }
}

fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: f64 = n.parse().map_err(|_| format!("{s:?}: expected a size such as 512MiB or 4GiB"))?;
    let k = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1u64,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        u => return Err(format!("{s:?}: unknown unit {u:?} (B, KiB, MiB, GiB, TiB)")),
    };
    let bytes = n * k as f64;
    if !(1.0..1.0e18).contains(&bytes) {
        return Err(format!("{s:?}: out of range"));
    }
    Ok(bytes as u64)
}

fn parse_delimiter(s: &str) -> Result<u8, String> {
    match s {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        _ if s.len() == 1 && s.is_ascii() && !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '"' || c == '\n') => {
            Ok(s.as_bytes()[0])
        }
        _ => Err(format!("{s:?}: expected one character such as , ; | or the word tab")),
    }
}

fn parse_tz(s: &str) -> Result<chrono_tz::Tz, String> {
    s.parse::<chrono_tz::Tz>()
        .map_err(|_| format!("unknown time zone {s:?}: expected an IANA name such as UTC or Europe/Paris"))
}

/// Which backend runs the data-parallel kernels.
#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum BackendArg {
    /// A hardware GPU if there is one, else the CPU.
    #[default]
    Auto,
    /// The CPU (rayon).
    Cpu,
    /// A GPU adapter, software ones included; fails without one.
    Gpu,
}

impl From<BackendArg> for driftscope::backend::BackendChoice {
    fn from(b: BackendArg) -> Self {
        match b {
            BackendArg::Auto => Self::Auto,
            BackendArg::Cpu => Self::Cpu,
            BackendArg::Gpu => Self::Gpu,
        }
    }
}

/// The columns of `bench`'s generated captures.
#[derive(Debug, Clone, Copy, ValueEnum, Default, PartialEq, Eq)]
pub enum ShapeArg {
    /// 22 columns: floats, integers, dictionaries, a boolean, an identifier, a timestamp.
    #[default]
    Capture,
    /// 12 columns: 8 float64, 2 integers, 2 text dictionaries.
    Floats,
}

/// Which backends `bench` measures.
#[derive(Debug, Clone, Copy, ValueEnum, Default, PartialEq, Eq)]
pub enum BenchBackendArg {
    /// The CPU, then a GPU when one is found (software adapters included).
    #[default]
    All,
    /// What `--backend auto` picks.
    Auto,
    /// The CPU (rayon).
    Cpu,
    /// A GPU adapter, software ones included; fails without one.
    Gpu,
}

/// The windows of `monitor` (when asked for), `changepoints` and `calibrate` (which need them).
#[derive(Debug, Args)]
pub struct WindowArgs {
    /// Judge every time window: calendar-aligned in UTC (or --tz), `15m`, `1h`, `1d`,
    /// `7d`/`1w` (ISO weeks), `1mo`, `3mo`. monitor writes windows.csv, windows.parquet and
    /// windows/yyyy/mm/dd/hh/constraint_violations.json.
    #[arg(long, value_name = "LENGTH")]
    pub window: Option<Window>,
    /// Windows of N consecutive rows instead: in time order with --time-column, else in the
    /// inputs' order (files as given, rows in file order).
    #[arg(long, value_name = "N", conflicts_with = "window")]
    pub window_rows: Option<u64>,
    /// Align windows to the calendar of this time zone (IANA name, e.g. Europe/Paris):
    /// days start at local midnight, a day of a daylight-saving change lasts 23 or 25 hours.
    /// Outputs stay in UTC.
    #[arg(long, value_name = "ZONE", default_value = "UTC", value_parser = parse_tz)]
    pub tz: chrono_tz::Tz,
    /// The time of each row: a timestamp, a date, an epoch number (seconds to nanoseconds,
    /// read from its magnitude) or ISO 8601 text [default: a SageMaker capture's
    /// inferenceTime].
    #[arg(long, value_name = "COLUMN")]
    pub time_column: Option<String>,
    /// Take each file's time from its hive partition folders (dt=2026-11-28/hour=14, or
    /// year=/month=/day=/hour=) instead of a column: the partitions are the windows' source.
    #[arg(long, conflicts_with = "time_column")]
    pub time_from_partitions: bool,
    /// Most windows a run may hold: memory grows with windows × features × bins.
    #[arg(long, value_name = "N", default_value_t = driftscope::time::timeline::DEFAULT_MAX_WINDOWS)]
    pub max_windows: usize,
}

/// Segments by value (`baseline`, `monitor`).
#[derive(Debug, Args)]
pub struct SegmentArgs {
    /// Judge each segment apart too: rows keyed by their values of these columns
    /// (comma-separated; a null is a value of its own), profiled in the same pass. baseline
    /// writes segments.json; monitor writes segments.csv, segments.parquet and
    /// segments/COLUMN=VALUE/constraint_violations.json.
    #[arg(long, value_delimiter = ',', value_name = "COLUMNS")]
    pub segment_by: Option<Vec<String>>,
    /// Most segments kept, those of the most rows; the others are folded into one segment
    /// named other (the run says how many). Ten times as many may be held while reading: a
    /// column of more distinct values is refused.
    #[arg(long, value_name = "N", default_value_t = driftscope::judge::segments::DEFAULT_MAX_SEGMENTS)]
    pub max_segments: usize,
}

impl SegmentArgs {
    /// The job's segment options, when asked for.
    pub fn options(
        &self,
        reference: driftscope::judge::segments::SegmentReference,
    ) -> Option<driftscope::judge::segments::SegmentOptions> {
        self.segment_by.as_ref().map(|columns| driftscope::judge::segments::SegmentOptions {
            columns: columns.iter().map(|c| c.trim().to_string()).collect(),
            max: self.max_segments,
            reference,
            per_window: false,
        })
    }
}

/// Alerts (`monitor`, `watch`).
#[derive(Debug, Args)]
pub struct AlertArgs {
    /// Send alerts here (repeat for several): https://… or http://… (a JSON POST),
    /// sns://arn:aws:sns:REGION:ACCOUNT:TOPIC (SNS Publish, AWS credentials as for s3://
    /// inputs) or exec:COMMAND (run by sh with the JSON on its standard input).
    #[arg(long = "alert", value_name = "SINK")]
    pub alert: Vec<String>,
    /// Shape of HTTP messages: json (the event) or slack (an incoming-webhook message).
    #[arg(long, value_name = "FORMAT", default_value = "json")]
    pub alert_format: String,
    /// Alert once a violation has held for K consecutive windows; a recovery notice follows
    /// K clean windows. A run without windows alerts at once.
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub alert_after: usize,
    /// Most messages per sink per run (per look, for watch); past it, one message says how
    /// many more there were.
    #[arg(long, value_name = "N", default_value_t = driftscope::output::alert::DEFAULT_LIMIT)]
    pub alert_limit: usize,
}

/// Metrics files and their labels (`monitor`, `watch`).
#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// Write CloudWatch Embedded Metric Format (JSON Lines) here, SageMaker's namespace and
    /// metric names: a record per window or for the run (`watch` appends one per closed window).
    #[arg(long, value_name = "FILE")]
    pub emf: Option<PathBuf>,
    /// Write a Prometheus text file here (for node_exporter's textfile collector): the last
    /// window's (or the run's) values.
    #[arg(long, value_name = "FILE")]
    pub prometheus: Option<PathBuf>,
    /// The endpoint the metrics are attributed to.
    #[arg(long, value_name = "NAME", default_value = "driftscope")]
    pub endpoint: String,
    /// The monitoring schedule the metrics are attributed to.
    #[arg(long, value_name = "NAME", default_value = "driftscope")]
    pub schedule: String,
    /// EMF dimension set (comma-separated): Endpoint, MonitoringSchedule, Feature.
    #[arg(long, value_name = "NAMES", value_delimiter = ',', default_value = "Endpoint,MonitoringSchedule")]
    pub emf_dimensions: Vec<String>,
}

/// Flags shared by the jobs.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Inputs: Parquet, CSV (.csv, .tsv) and JSON Lines (SageMaker captures and ground truth)
    /// files; folders (read recursively, hive partitions included); glob patterns; objects or
    /// prefixes at s3://, az:// and gs://.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// Output folder.
    #[arg(long, short = 'o', value_name = "DIR", display_order = 0)]
    pub output: PathBuf,
    /// Only these columns (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub columns: Option<Vec<String>>,
    /// Backend for the data-parallel kernels.
    #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
    pub backend: BackendArg,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Stop at the first unreadable input instead of skipping it.
    #[arg(long)]
    pub strict: bool,
    /// The delimiter of every CSV input: `,`, `;`, `tab`, `|` or another single character
    /// [default: each file's own, found from its first records; tab for .tsv].
    #[arg(long, value_name = "CHAR", value_parser = parse_delimiter)]
    pub delimiter: Option<u8>,
    /// Continue an interrupted run: files already profiled (saved in a checkpoint in the output
    /// folder) are not read again, and the result is the same as an uninterrupted run's.
    #[arg(long)]
    pub resume: bool,
    /// Never draw the progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Write into the output folder even when it is the baseline folder, lies inside it, or
    /// already holds a baseline or another job's outputs (refused without it).
    #[arg(long)]
    pub force: bool,
}
