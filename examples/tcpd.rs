//! Scores the change-point detectors on annotated series (see `benches/changepoints/tcpd.py`,
//! which prepares the Turing change-point benchmark's series): F1 with a margin of 5 and
//! covering, as the benchmark defines them, for each detector and two references — no change
//! point at all, and binary segmentation with its default penalty.
//!
//! Each series goes through the command line as a user's data would: written to Parquet (a
//! column per dimension, a time column giving each point's position), then
//! `driftscope changepoints --window-rows 1 --time-column t --method M`; the change points of
//! every record that lists a dimension's `mean` series are pooled.
//!
//! `cargo run --release --example tcpd -- series.json [path/to/driftscope]`

use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch};
use driftscope::time::changepoint::score;

#[derive(serde::Deserialize)]
struct Series {
    name: String,
    n: usize,
    dims: Vec<Vec<f64>>,
    annotations: Vec<Vec<usize>>,
}

fn write(path: &Path, s: &Series) -> anyhow::Result<()> {
    let mut cols: Vec<(String, ArrayRef)> =
        vec![("t".into(), Arc::new(Int64Array::from((0..s.n as i64).map(|i| 1_700_000_000 + i).collect::<Vec<_>>())))];
    for (i, d) in s.dims.iter().enumerate() {
        cols.push((format!("d{i}"), Arc::new(Float64Array::from(d.clone()))));
    }
    let batch = RecordBatch::try_from_iter(cols)?;
    let mut w = parquet::arrow::ArrowWriter::try_new(std::fs::File::create(path)?, batch.schema(), None)?;
    w.write(&batch)?;
    w.close()?;
    Ok(())
}

fn detect(bin: &Path, data: &Path, out: &Path, method: &[&str]) -> anyhow::Result<Vec<usize>> {
    let o = std::process::Command::new(bin)
        .args(["changepoints", "-q", "--window-rows", "1", "--time-column", "t", "--method"])
        .args(method)
        .arg("-o")
        .arg(out)
        .arg(data)
        .output()?;
    anyhow::ensure!(o.status.success(), "driftscope changepoints: {}", String::from_utf8_lossy(&o.stderr));
    let found: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("changepoints.json"))?)?;
    let mut at: Vec<usize> = found
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["series"].as_array().is_some_and(|s| s.iter().any(|s| s == "mean")))
        .filter_map(|c| c["window_index"].as_u64().map(|i| i as usize))
        .collect();
    at.sort_unstable();
    at.dedup();
    Ok(at)
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or_else(|| anyhow::anyhow!("usage: tcpd SERIES.json [DRIFTSCOPE]"))?;
    let bin = args.next().unwrap_or_else(|| "target/release/driftscope".into());
    let bin = Path::new(&bin);
    let all: Vec<Series> = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
    let tmp = tempfile::tempdir()?;
    let methods: [(&str, Option<&[&str]>); 7] = [
        ("no change points", None),
        ("binseg (BIC penalty)", Some(&["binseg"])),
        ("seeded (default)", Some(&["seeded"])),
        ("seeded, rate 0.01", Some(&["seeded", "--false-alarm-rate", "0.01"])),
        ("bocpd", Some(&["bocpd"])),
        ("pelt", Some(&["pelt"])),
        ("page-hinkley", Some(&["page-hinkley"])),
    ];
    println!("| series | n | {} |", methods.map(|m| format!("{}: F1 / cover", m.0)).join(" | "));
    println!("|---|---|{}", "---|".repeat(methods.len()));
    let mut totals = vec![(0.0, 0.0); methods.len()];
    for s in &all {
        let data = tmp.path().join(format!("{}.parquet", s.name));
        write(&data, s)?;
        let mut cells = Vec::new();
        for (i, (_, m)) in methods.iter().enumerate() {
            let found = match m {
                None => Vec::new(),
                Some(m) => detect(bin, &data, &tmp.path().join(format!("{}-{i}", s.name)), m)?,
            };
            let (f1, _, _) = score::f1(&s.annotations, &found, 5);
            let cover = score::covering(&s.annotations, &found, s.n);
            totals[i].0 += f1;
            totals[i].1 += cover;
            cells.push(format!("{f1:.3} / {cover:.3}"));
        }
        println!("| {} | {} | {} |", s.name, s.n, cells.join(" | "));
    }
    let k = all.len().max(1) as f64;
    let mean: Vec<String> = totals.iter().map(|(f, c)| format!("**{:.3} / {:.3}**", f / k, c / k)).collect();
    println!("| mean | | {} |", mean.join(" | "));
    Ok(())
}
