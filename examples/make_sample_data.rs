//! Writes driftscope's sample data: `data/baseline.parquet` (training data) and
//! `data/current.parquet` (captures whose distribution has drifted), both from fixed seeds.
//!
//! Run with `cargo run --example make_sample_data`; the files in `data/` were made this way.

use std::fs::File;
use std::sync::Arc;

use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, DictionaryArray, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

/// SplitMix64 ([`driftscope::codec::splitmix64`]): the data only needs to be reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        driftscope::codec::splitmix64(&mut self.0)
    }
    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
    fn pick<'a>(&mut self, items: &[(&'a str, f64)]) -> &'a str {
        let mut u = self.uniform();
        for (s, w) in items {
            if u < *w {
                return s;
            }
            u -= w;
        }
        items[items.len() - 1].0
    }
}

fn make(rows: usize, seed: u64, drifted: bool) -> RecordBatch {
    let mut r = Rng(seed);
    let mut id = Vec::new();
    let mut time = Vec::new();
    let mut age = Vec::new();
    let mut income = Vec::new();
    let mut score = Vec::new();
    let mut tenure = Vec::new();
    let mut plan = Vec::new();
    let mut channel = Vec::new();
    let mut prediction = Vec::new();
    let plans_base = [("basic", 0.6), ("plus", 0.3), ("premium", 0.1)];
    let plans_drift = [("basic", 0.35), ("plus", 0.35), ("premium", 0.2), ("enterprise", 0.1)];
    let channels = [("web", 0.5), ("mobile", 0.4), ("store", 0.1)];
    let start = if drifted { 1_793_491_200_000i64 } else { 1_780_272_000_000 };
    for i in 0..rows {
        id.push(format!("{:08x}-{:04x}", seed as u32 ^ i as u32, i % 65536));
        time.push(start + i as i64 * 1000);
        let a = (38.0 + 12.0 * r.normal()).round().clamp(18.0, 90.0) as i64;
        age.push(if r.uniform() < 0.01 { None } else { Some(a) });
        let shift = if drifted { 0.35 } else { 0.0 };
        income.push(if r.uniform() < if drifted { 0.08 } else { 0.02 } {
            None
        } else {
            Some(((10.8 + shift + 0.5 * r.normal()).exp() * 100.0).round() / 100.0)
        });
        score.push(Some((650.0 + 80.0 * r.normal()).round().clamp(300.0, 850.0)));
        tenure.push(Some((r.uniform() * 120.0) as i64));
        plan.push(r.pick(if drifted { &plans_drift } else { &plans_base }).to_string());
        channel.push(r.pick(&channels).to_string());
        let p = 1.0 / (1.0 + (-(r.normal() + if drifted { 0.6 } else { 0.0 })).exp());
        prediction.push(Some((p * 1e6).round() / 1e6));
    }
    let plan: DictionaryArray<Int32Type> = plan.iter().map(|s| s.as_str()).collect();
    let cols: Vec<(&str, ArrayRef)> = vec![
        ("inference_id", Arc::new(StringArray::from(id))),
        ("event_time", Arc::new(TimestampMillisecondArray::from(time))),
        ("age", Arc::new(Int64Array::from(age))),
        ("income", Arc::new(Float64Array::from(income))),
        ("credit_score", Arc::new(Float64Array::from(score))),
        ("tenure_months", Arc::new(Int64Array::from(tenure))),
        ("plan", Arc::new(plan)),
        ("channel", Arc::new(StringArray::from(channel))),
        ("prediction", Arc::new(Float64Array::from(prediction))),
    ];
    RecordBatch::try_from_iter(cols).expect("columns of equal length")
}

fn write(path: &str, batch: &RecordBatch) {
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(5_000))
        .build();
    let mut w = ArrowWriter::try_new(File::create(path).expect("create"), batch.schema(), Some(props)).expect("writer");
    w.write(batch).expect("write");
    w.close().expect("close");
    eprintln!("wrote {path}: {} rows", batch.num_rows());
}

fn main() {
    std::fs::create_dir_all("data").expect("data folder");
    write("data/baseline.parquet", &make(20_000, 1, false));
    write("data/current.parquet", &make(20_000, 2, true));
}
