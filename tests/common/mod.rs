use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use assert_cmd::Command;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The driftscope binary, with no progress bar.
pub fn driftscope() -> Command {
    let mut c = Command::cargo_bin("driftscope").expect("binary built");
    c.env_remove("RAYON_NUM_THREADS");
    c
}

/// Writes columns to a Parquet file with small row groups.
pub fn write_parquet(path: &Path, cols: Vec<(&str, ArrayRef)>, row_group: usize) {
    let batch = RecordBatch::try_from_iter(cols).unwrap();
    let props = WriterProperties::builder().set_max_row_group_row_count(Some(row_group)).build();
    let mut w = ArrowWriter::try_new(File::create(path).unwrap(), batch.schema(), Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// Reads a JSON output.
pub fn json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: invalid JSON: {e}", path.display()))
}

/// The entry named `name` of a SageMaker file's `features` list (statistics or constraints).
pub fn feature(doc: &serde_json::Value, name: &str) -> Option<serde_json::Value> {
    doc["features"].as_array()?.iter().find(|f| f["name"] == name).cloned()
}

/// Shorthand for an Arc'd array.
pub fn arr<A: arrow_array::Array + 'static>(a: A) -> ArrayRef {
    Arc::new(a)
}

/// Says that the running test skips a check, and why, where the test summary shows it: written
/// to the process's stderr itself, which the test harness does not capture (it captures only
/// `print!` and `eprint!`), so a skip is seen without `--nocapture`.
pub fn skip(why: &str) {
    use std::io::Write;
    let test = std::thread::current().name().unwrap_or("a test").to_string();
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED {test}: {why}");
}

/// The shared SageMaker fixtures folder, when present.
pub fn fixtures() -> Option<PathBuf> {
    let p = root().join("../shared/fixtures/sagemaker");
    if p.is_dir() {
        Some(p)
    } else {
        skip("../shared/fixtures/sagemaker not found");
        None
    }
}

/// Runs `driftscope monitor -q -b base -o out data/current.parquet`: the sample capture, which
/// has drifted (exit code 1). Returns the run, for its printed summary.
pub fn monitor_sample(base: &Path, out: &Path) -> assert_cmd::assert::Assert {
    driftscope()
        .args(["monitor", "-q", "-b"])
        .arg(base)
        .arg("-o")
        .arg(out)
        .arg(root().join("data/current.parquet"))
        .assert()
        .code(1)
}

/// Runs `driftscope baseline -q -o base input`, which must succeed.
pub fn baseline_of(input: &Path, base: &Path) {
    driftscope().args(["baseline", "-q", "-o"]).arg(base).arg(input).assert().success();
}

/// True when a tool the tests drive must be there (CI sets DRIFTSCOPE_REQUIRE_TOOLS=1);
/// otherwise a missing tool skips its check, saying so.
pub fn tool(name: &str) -> bool {
    let found = std::process::Command::new(name).arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("DRIFTSCOPE_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "DRIFTSCOPE_REQUIRE_TOOLS=1 but {name} is not installed"
        );
        crate::common::skip(&format!("{name} not installed"));
    }
    found
}

/// Checks a Prometheus text file with `promtool check metrics` (when promtool is there, see
/// [`tool`]): valid, and nothing for its linter to say.
pub fn promtool_check(text: &str) {
    if tool("promtool") {
        let mut check = std::process::Command::new("promtool")
            .args(["check", "metrics"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        check.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        let o = check.wait_with_output().unwrap();
        assert!(
            o.status.success(),
            "promtool: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            o.stdout.is_empty() && o.stderr.is_empty(),
            "promtool lint: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// The lines of a CSV output as maps of column to value (for outputs whose fields are never
/// quoted: numbers, instants, names without commas).
pub fn csv_maps(path: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap_or_default().split(',').map(str::to_string).collect();
    lines.map(|l| header.iter().cloned().zip(l.split(',').map(str::to_string)).collect()).collect()
}

/// Writes the rows of Parquet file `input` whose text column `column` holds `value` to
/// `output` (the independent reference of a segment: its rows apart).
pub fn rows_where(input: &Path, column: &str, value: &str, output: &Path) -> usize {
    use arrow_array::Array;
    let f = File::open(input).unwrap();
    let r = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f).unwrap().build().unwrap();
    let batches: Vec<RecordBatch> = r.map(Result::unwrap).collect();
    let batch = arrow_select::concat::concat_batches(&batches[0].schema(), &batches).unwrap();
    let text =
        batch.column_by_name(column).unwrap().as_any().downcast_ref::<arrow_array::StringArray>().unwrap().clone();
    let keep: arrow_array::BooleanArray =
        (0..batch.num_rows()).map(|i| Some(!text.is_null(i) && text.value(i) == value)).collect();
    let alone = arrow_select::filter::filter_record_batch(&batch, &keep).unwrap();
    let props = WriterProperties::builder().set_max_row_group_row_count(Some(8_192)).build();
    let mut w = ArrowWriter::try_new(File::create(output).unwrap(), alone.schema(), Some(props)).unwrap();
    w.write(&alone).unwrap();
    w.close().unwrap();
    alone.num_rows()
}
