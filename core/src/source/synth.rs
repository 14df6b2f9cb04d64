//! Synthetic captures for benchmarks and examples: realistic columns from a fixed seed.
//!
//! [`write_capture`] writes what a model's inference capture looks like — float and integer
//! features, low- and high-cardinality dictionary strings, a few percent nulls, an identifier, a
//! timestamp, a prediction score and a label — in Parquet (snappy) row groups. With `drifted` the
//! same generator shifts some features, so a baseline/current pair shows drift where expected.
//! Chunks are generated in parallel and written in order, so the bytes depend only on the spec.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, DictionaryArray, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
    TimestampMillisecondArray,
};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use rayon::prelude::*;

use crate::error::{one_line, Error, Result};

/// SplitMix64: a small, fast, fixed-seed generator (benchmark data only needs to be reproducible).
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        crate::codec::splitmix64(&mut self.0)
    }
    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
    /// An index drawn with the given weights (summing to 1).
    pub fn pick(&mut self, weights: &[f64]) -> usize {
        let mut u = self.uniform();
        for (i, w) in weights.iter().enumerate() {
            if u < *w {
                return i;
            }
            u -= w;
        }
        weights.len() - 1
    }
}

/// Which columns a capture has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shape {
    /// 22 columns of a model's capture: floats, integers, dictionaries, a boolean, an
    /// identifier, a timestamp, a prediction and a label.
    #[default]
    Capture,
    /// 12 columns where floats dominate: 8 float64 features, 2 integers, 2 text dictionaries.
    Floats,
}

/// What to generate.
#[derive(Debug, Clone, Default)]
pub struct CaptureSpec {
    /// Rows.
    pub rows: usize,
    /// Seed.
    pub seed: u64,
    /// Shift some features (a "current" capture against an undrifted baseline).
    pub drifted: bool,
    /// Rows per row group.
    pub row_group: usize,
    /// Which columns.
    pub shape: Shape,
}

const SEGMENTS: [&str; 4] = ["consumer", "smb", "enterprise", "public"];
const DEVICES: [&str; 3] = ["web", "ios", "android"];
const COUNTRIES: [&str; 12] = ["US", "DE", "FR", "GB", "IN", "BR", "JP", "CA", "ES", "IT", "MX", "NL"];
const MODELS: [&str; 2] = ["v41", "v42"];
const ZIPS: usize = 5000;

fn dict(keys: Vec<Option<i32>>, values: &[String]) -> ArrayRef {
    let v = Arc::new(StringArray::from(values.to_vec()));
    Arc::new(DictionaryArray::<Int32Type>::try_new(Int32Array::from(keys), v).expect("keys within the dictionary"))
}

/// The float-heavy shape: 8 float64 features (normal, skewed, long-tailed, a few nulls), 2
/// integers, 2 text dictionaries.
fn float_chunk(spec: &CaptureSpec, index: usize, rows: usize) -> RecordBatch {
    let mut r = Rng(spec.seed.wrapping_mul(0x2000_0003).wrapping_add(index as u64));
    let d = spec.drifted;
    let mut cols: Vec<(String, ArrayRef)> = Vec::new();
    for k in 0..8 {
        let (mu, sigma) = (k as f64 * 5.0 - 10.0, 0.5 + k as f64);
        let shift = if d && k % 4 == 0 { 0.3 * sigma } else { 0.0 };
        let v: Vec<Option<f64>> = (0..rows)
            .map(|_| {
                let x = mu + shift + sigma * r.normal();
                if k == 2 && r.uniform() < 0.02 {
                    None
                } else if k == 6 {
                    Some((x / 10.0).exp())
                } else if k == 7 {
                    Some(x.abs().sqrt() * x.signum())
                } else {
                    Some(x)
                }
            })
            .collect();
        cols.push((format!("x{k}"), Arc::new(Float64Array::from(v))));
    }
    let n0: Vec<Option<i64>> = (0..rows).map(|_| Some((r.uniform() * 1000.0) as i64)).collect();
    let n1: Vec<Option<i64>> =
        (0..rows).map(|_| Some((r.normal() * 200.0 + if d { 5100.0 } else { 5000.0 }).round() as i64)).collect();
    cols.push(("n0".into(), Arc::new(Int64Array::from(n0))));
    cols.push(("n1".into(), Arc::new(Int64Array::from(n1))));
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let seg_w: &[f64] = if d { &[0.4, 0.3, 0.2, 0.1] } else { &[0.55, 0.25, 0.15, 0.05] };
    let segs: Vec<Option<i32>> = (0..rows).map(|_| Some(r.pick(seg_w) as i32)).collect();
    let countries: Vec<Option<i32>> = (0..rows).map(|_| Some((r.uniform() * COUNTRIES.len() as f64) as i32)).collect();
    cols.push(("segment".into(), dict(segs, &names(&SEGMENTS))));
    cols.push(("country".into(), dict(countries, &names(&COUNTRIES))));
    RecordBatch::try_from_iter_with_nullable(cols.into_iter().map(|(n, a)| (n, a, true)))
        .expect("columns of equal length")
}

fn chunk(spec: &CaptureSpec, index: usize, start: usize, rows: usize) -> RecordBatch {
    if spec.shape == Shape::Floats {
        return float_chunk(spec, index, rows);
    }
    let mut r = Rng(spec.seed.wrapping_mul(0x1000_0001).wrapping_add(index as u64));
    let d = spec.drifted;
    let null = |r: &mut Rng, p: f64| r.uniform() < p;
    let mut f: Vec<Vec<Option<f64>>> = (0..8).map(|_| Vec::with_capacity(rows)).collect();
    let mut ints: Vec<Vec<Option<i64>>> = (0..4).map(|_| Vec::with_capacity(rows)).collect();
    let mut cats: Vec<Vec<Option<i32>>> = (0..5).map(|_| Vec::with_capacity(rows)).collect();
    let mut returning = Vec::with_capacity(rows);
    let (mut pred, mut label, mut time, mut ids) =
        (Vec::with_capacity(rows), Vec::with_capacity(rows), Vec::with_capacity(rows), Vec::with_capacity(rows));
    let t0 = if d { 1_793_491_200_000i64 } else { 1_780_272_000_000 };
    for i in 0..rows {
        let row = start + i;
        ids.push(format!("{:016x}", (spec.seed << 40) ^ row as u64));
        time.push(t0 + row as i64 * 37);
        for (k, col) in f.iter_mut().enumerate() {
            let (mu, sigma) = (k as f64 * 10.0, 1.0 + k as f64);
            let shift = if d && k == 0 { 0.5 * sigma } else { 0.0 };
            let scale = if d && k == 3 { 1.5 } else { 1.0 };
            let v = mu + shift + scale * sigma * r.normal();
            col.push(if k % 3 == 1 && null(&mut r, 0.02) {
                None
            } else {
                Some(if k == 5 { v.exp().min(1e12) } else { v })
            });
        }
        for (k, col) in ints.iter_mut().enumerate() {
            let v = match k {
                0 => (r.uniform() * 100.0) as i64,
                1 => (r.normal() * 15.0 + if d { 48.0 } else { 40.0 }).round() as i64,
                2 => (r.uniform() * r.uniform() * 10_000.0) as i64,
                _ => (r.uniform() * 7.0) as i64,
            };
            col.push(if k == 2 && null(&mut r, 0.03) { None } else { Some(v) });
        }
        let seg_w: &[f64] = if d { &[0.4, 0.3, 0.2, 0.1] } else { &[0.55, 0.25, 0.15, 0.05] };
        cats[0].push(Some(r.pick(seg_w) as i32));
        cats[1].push(Some(r.pick(&[0.5, 0.3, 0.2]) as i32));
        cats[2].push(if null(&mut r, 0.01) { None } else { Some((r.uniform() * COUNTRIES.len() as f64) as i32) });
        cats[3].push(Some(if d { 1 } else { r.pick(&[0.9, 0.1]) as i32 }));
        cats[4].push(Some(((r.uniform() * r.uniform()) * ZIPS as f64) as i32));
        let logit = f[0][i].unwrap_or(0.0) * 0.05 + r.normal() - 0.5;
        let p = 1.0 / (1.0 + (-logit).exp());
        returning.push(if null(&mut r, 0.05) { None } else { Some(r.uniform() < if d { 0.3 } else { 0.6 }) });
        pred.push(Some(p));
        label.push(Some((r.uniform() < p) as i64));
    }
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let zips: Vec<String> = (0..ZIPS).map(|z| format!("{:05}", 10_000 + z * 17)).collect();
    let mut cols: Vec<(String, ArrayRef)> = vec![
        ("inference_id".into(), Arc::new(StringArray::from(ids))),
        ("event_time".into(), Arc::new(TimestampMillisecondArray::from(time))),
    ];
    for (k, v) in f.into_iter().enumerate() {
        cols.push((format!("f{k}"), Arc::new(Float64Array::from(v))));
    }
    for (k, v) in ints.into_iter().enumerate() {
        cols.push((format!("i{k}"), Arc::new(Int64Array::from(v))));
    }
    let mut cats = cats.into_iter();
    cols.push(("segment".into(), dict(cats.next().unwrap(), &names(&SEGMENTS))));
    cols.push(("device".into(), dict(cats.next().unwrap(), &names(&DEVICES))));
    cols.push(("country".into(), dict(cats.next().unwrap(), &names(&COUNTRIES))));
    cols.push(("model_version".into(), dict(cats.next().unwrap(), &names(&MODELS))));
    cols.push(("zip".into(), dict(cats.next().unwrap(), &zips)));
    cols.push(("returning".into(), Arc::new(arrow_array::BooleanArray::from(returning))));
    cols.push(("prediction".into(), Arc::new(Float64Array::from(pred))));
    cols.push(("label".into(), Arc::new(Int64Array::from(label))));
    RecordBatch::try_from_iter_with_nullable(cols.into_iter().map(|(n, a)| (n, a, true)))
        .expect("columns of equal length")
}

/// Writes a synthetic capture (22 columns, or 12 for [`Shape::Floats`]) to `path`; returns the
/// file's size in bytes.
pub fn write_capture(path: &Path, spec: &CaptureSpec) -> Result<u64> {
    let err =
        |e: &dyn std::fmt::Display| Error::Output { path: path.into(), source: std::io::Error::other(one_line(e)) };
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Error::Output { path: dir.into(), source })?;
    }
    // Written under a temporary name and renamed, so an interrupted run leaves no partial file.
    let tmp = path.with_extension("parquet.tmp");
    let file = File::create(&tmp).map_err(|source| Error::Output { path: tmp.clone(), source })?;
    let group = spec.row_group.max(1);
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(group))
        .build();
    let schema = chunk(spec, 0, 0, 0).schema();
    let mut w = ArrowWriter::try_new(file, schema, Some(props)).map_err(|e| err(&e))?;
    let starts: Vec<usize> = (0..spec.rows).step_by(group).collect();
    let threads = rayon::current_num_threads().max(1) * 2;
    for window in starts.chunks(threads) {
        let batches: Vec<RecordBatch> =
            window.par_iter().map(|&s| chunk(spec, s / group, s, group.min(spec.rows - s))).collect();
        for b in batches {
            w.write(&b).map_err(|e| err(&e))?;
        }
    }
    w.close().map_err(|e| err(&e))?;
    std::fs::rename(&tmp, path).map_err(|source| Error::Output { path: path.into(), source })?;
    std::fs::metadata(path).map(|m| m.len()).map_err(|source| Error::Output { path: path.into(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_is_reproducible_and_sized() {
        let d = tempfile::tempdir().unwrap();
        let spec = CaptureSpec { rows: 2500, seed: 9, drifted: false, row_group: 1000, ..Default::default() };
        let (a, b) = (d.path().join("a.parquet"), d.path().join("b.parquet"));
        write_capture(&a, &spec).unwrap();
        write_capture(&b, &spec).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        let f = crate::source::scan::open(&a, &|_| false).unwrap();
        assert_eq!((f.rows, f.row_groups(), f.schema().fields().len()), (2500, 3, 22));
        let floats = d.path().join("f.parquet");
        write_capture(&floats, &CaptureSpec { shape: Shape::Floats, ..spec }).unwrap();
        let f = crate::source::scan::open(&floats, &|_| false).unwrap();
        assert_eq!((f.rows, f.row_groups(), f.schema().fields().len()), (2500, 3, 12));
    }
}
