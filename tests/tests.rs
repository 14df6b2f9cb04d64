//! driftscope's integration tests, compiled as one binary.

/// Helpers: writing Parquet files, running the binary, reading JSON outputs.
mod common;

/// Alerts through each sink: a local HTTP server, moto's SNS, a command; debounce, recovery,
/// restarts.
mod alerts;
/// Feature attribution drift: nDCG against scikit-learn, Clarify's files, bad input.
mod attributions;
/// Clarify's bias metrics from counts against smclarify.
mod bias;
/// One test per constraint check type.
mod checks;
/// The CLI end to end: the README's commands, exit codes, determinism, bad inputs.
mod cli;
/// The book in docs/: the command-line reference generated from `--help`, chapters linked, every
/// documented flag real.
mod docs;
/// Performance estimation without labels against NannyML's figures, windows, errors.
mod estimation;
/// Byte-mutation fuzzing of inputs, baseline files and checkpoints.
mod fuzz;
/// `profile(A ∪ B) == merge(profile(A), profile(B))`, by proptest.
mod merge;
/// Multivariate drift against NannyML's figures, a joint change alone, both backends, errors.
mod multivariate;
/// The same kernel tests on the CPU and GPU backends.
mod parity;
/// Model quality against scikit-learn's figures, merges, and the CLI from captures to violations.
mod quality;
/// Drift metrics against scipy/numpy figures stored in `tests/data/reference_metrics.json`.
mod reference_metrics;
/// Profile statistics against numpy figures stored in `tests/data/stats_expected.json`.
mod reference_stats;
/// Inputs in an object store, against a local S3-compatible server.
mod remote;
/// `--resume`: checkpoints of interrupted runs.
mod resume;
/// SageMaker formats: real fixtures from `../shared/fixtures/` and hand-written files.
mod sagemaker;
/// Segments by value from the CLI: a change diluted in the whole, references, other, mistakes.
mod segments;
/// Snapshots of the sample run's constraints, drift.json and Markdown summary.
mod snapshots;
/// Time windows: rows keyed by window, light profiles beside the whole, both backends.
mod windows;
