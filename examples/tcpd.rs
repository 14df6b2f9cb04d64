//! Scores the change-point detectors on annotated series (see `benches/changepoints/tcpd.py`,
//! which prepares the Turing change-point benchmark's series): F1 with a margin of 5 and
//! covering, as the benchmark defines them, for each detector and two references — no change
//! point at all, and binary segmentation with its default penalty. A multi-dimensional series
//! is searched dimension by dimension and the change points are pooled.
//!
//! `cargo run --release --example tcpd -- series.json`

use driftwatch::changepoint::{detect, score, Method};

#[derive(serde::Deserialize)]
struct Series {
    name: String,
    n: usize,
    dims: Vec<Vec<f64>>,
    annotations: Vec<Vec<usize>>,
}

fn main() -> anyhow::Result<()> {
    let path = std::env::args().nth(1).ok_or_else(|| anyhow::anyhow!("usage: tcpd SERIES.json"))?;
    let all: Vec<Series> = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
    let methods: [(&str, Option<Method>); 4] = [
        ("no change points", None),
        ("binseg (default penalty)", Some(Method::BinSeg)),
        ("pelt (default)", Some(Method::Pelt)),
        ("page-hinkley", Some(Method::PageHinkley)),
    ];
    println!("| series | n | {} |", methods.map(|m| format!("{}: F1 / cover", m.0)).join(" | "));
    println!("|---|---|{}", "---|".repeat(methods.len()));
    let mut totals = vec![(0.0, 0.0); methods.len()];
    for s in &all {
        let mut cells = Vec::new();
        for (i, (_, m)) in methods.iter().enumerate() {
            let mut found: Vec<usize> = match m {
                None => Vec::new(),
                Some(m) => s.dims.iter().flat_map(|d| detect(d, *m)).collect(),
            };
            found.sort_unstable();
            found.dedup();
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
