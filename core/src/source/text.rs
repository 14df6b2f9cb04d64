//! Text inputs: CSV files, SageMaker data-capture JSON Lines and ground-truth JSON Lines, read
//! into Arrow record batches like Parquet row groups.
//!
//! A text file is read twice: once when it is scanned, to learn its columns and their types and
//! to count its rows, and once when it is profiled. Nothing of it is held between the two.
//!
//! **CSV** (`.csv`, `.tsv`): arrow-csv infers the types over every record. The first record is
//! a header when none of its fields is a number or empty; otherwise the columns are named `_c0`,
//! `_c1`, … as SageMaker names the columns of a headerless CSV. A malformed record stops the file with an error naming its line.
//!
//! **Captures** (`.jsonl`, `.json`, `.ndjson` whose records hold `captureData`): each line's
//! `endpointOutput` and `endpointInput` are decoded by their `encoding` (`CSV`, `JSON`, or
//! `BASE64` of the `observedContentType`) into records, the output's columns first and then the
//! input's, as SageMaker lays out captured data: positional values (CSV fields, JSON arrays and
//! scalars) are named `_c0`, `_c1`, … across both, JSON objects give their keys (nested keys
//! joined with `.`). A JSON payload `{"instances": [...]}` or `{"predictions": [...]}`, or a
//! JSON array of arrays or objects, holds one record per element. `eventMetadata.eventId`,
//! `eventMetadata.inferenceId` and `eventMetadata.inferenceTime` (a timestamp when every value is
//! ISO 8601) follow the features. **Ground truth** (`groundTruthData`) decodes the same way into
//! the label's columns and the same metadata. Values are typed per column like SageMaker types
//! them: whole numbers Integral, other numbers Fractional, anything else String.
//!
//! A line that is not JSON, holds neither payload, names an unknown encoding or whose input and
//! output hold different numbers of records is skipped with a warning naming its line; the rest
//! of the file is read.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{Float64Builder, Int64Builder, StringBuilder, TimestampMillisecondBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use base64::Engine;
use serde::Deserialize;

use crate::error::one_line;
use crate::error::source::{SourceError, SourceResult};
use crate::source::scan::PlainText;

/// Rows per batch read from text.
const BATCH_ROWS: usize = crate::source::decode::BATCH_ROWS;
/// Warnings kept per file; the rest are counted.
pub const MAX_WARNINGS: usize = 20;

/// Which text format a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// Comma- (or, for `.tsv`, tab-) separated values, with or without a header.
    Csv {
        /// The first record names the columns.
        header: bool,
        /// The field delimiter.
        delimiter: u8,
    },
    /// SageMaker data-capture records.
    Capture,
    /// SageMaker ground-truth records.
    GroundTruth,
}

/// A scanned text file: its format and the schema its batches have.
#[derive(Debug, Clone)]
pub struct TextFile {
    /// The format.
    pub kind: TextKind,
    /// The schema of the batches (text columns as dictionaries but for the plain ones).
    pub schema: SchemaRef,
    /// The schema as parsed (text as plain strings), before dictionary casts.
    raw: SchemaRef,
}

/// What scanning a text file found.
#[derive(Debug, Clone)]
pub struct Scanned {
    /// The format and schema.
    pub file: TextFile,
    /// Rows (records) read.
    pub rows: u64,
    /// Lines skipped, with why (at most [`MAX_WARNINGS`], then a count).
    pub warnings: Vec<String>,
}

/// The text format a path names by its extension, `None` for others (read as Parquet).
pub fn by_extension(path: &Path) -> Option<&'static str> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    if name.ends_with(".csv") || name.ends_with(".tsv") {
        Some("csv")
    } else if name.ends_with(".jsonl") || name.ends_with(".json") || name.ends_with(".ndjson") {
        Some("jsonl")
    } else {
        None
    }
}

fn dictionary_typed(raw: &SchemaRef, plain: &PlainText) -> SchemaRef {
    Arc::new(Schema::new(
        raw.fields()
            .iter()
            .map(|f| match f.data_type() {
                DataType::Utf8 if !plain(f.name()) && !f.metadata().contains_key(crate::source::ROLE_KEY) => f
                    .as_ref()
                    .clone()
                    .with_data_type(DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))),
                _ => f.as_ref().clone(),
            })
            .collect::<Vec<Field>>(),
    ))
}

/// Scans a text file: its format, schema and rows. A CSV file is read with `delimiter` when one
/// is given, else with the one sniffed from its first records (tab for `.tsv`).
///
/// # Errors
/// A one-line reason when the file cannot be read, holds no record, or (CSV) has a malformed
/// record.
pub fn scan(path: &Path, plain: &PlainText, delimiter: Option<u8>) -> SourceResult<Scanned> {
    let len = std::fs::metadata(path)?.len();
    if len == 0 {
        return Err("empty file (0 bytes)".into());
    }
    match by_extension(path) {
        Some("csv") => scan_csv(path, plain, delimiter),
        _ => scan_json_lines(path, plain),
    }
}

fn looks_numeric(s: &str) -> bool {
    let t = s.trim();
    !t.is_empty() && t.parse::<f64>().is_ok()
}

/// The delimiters a CSV file may use, in the order a tie is settled.
const DELIMITERS: [u8; 4] = [b',', b'\t', b';', b'|'];
/// Records read to choose a CSV file's delimiter.
const SNIFF_RECORDS: usize = 50;

/// The delimiter of a CSV file: the one of `,` tab `;` `|` that splits its first records (quoted
/// fields respected) into the same number of fields, the most of them, above one; `,` when none
/// does (a one-column file). A `;` file read with `,` would be one column of text: never
/// silently.
fn sniff_delimiter(path: &Path) -> SourceResult<u8> {
    let mut best = (b',', 1usize);
    for d in DELIMITERS {
        let mut r = csv::ReaderBuilder::new().has_headers(false).delimiter(d).flexible(true).from_path(path)?;
        let mut counts = r.records().take(SNIFF_RECORDS).map(|rec| rec.map(|rec| rec.len()));
        let Some(Ok(first)) = counts.next() else { continue };
        if first > best.1 && counts.all(|c| c.is_ok_and(|c| c == first)) {
            best = (d, first);
        }
    }
    Ok(best.0)
}

fn scan_csv(path: &Path, plain: &PlainText, given: Option<u8>) -> SourceResult<Scanned> {
    let delimiter = match given {
        Some(d) => d,
        None if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("tsv")) => b'\t',
        None => sniff_delimiter(path)?,
    };
    let mut r = csv::ReaderBuilder::new().has_headers(false).delimiter(delimiter).flexible(true).from_path(path)?;
    let header = match r.records().next() {
        Some(rec) => {
            let rec = rec.map_err(|e| format!("line 1: {}", one_line(e)))?;
            !rec.iter().any(|f| looks_numeric(f) || f.trim().is_empty())
        }
        None => false,
    };
    let format = arrow_csv::reader::Format::default().with_header(header).with_delimiter(delimiter);
    let file = File::open(path)?;
    let (schema, rows) = format.infer_schema(BufReader::new(file), None)?;
    if rows == 0 {
        return Err(if header { "CSV holds a header and no record".into() } else { "CSV holds no record".into() });
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let name = if header { f.name().clone() } else { format!("_c{i}") };
            match f.data_type() {
                DataType::Null => Field::new(name, DataType::Utf8, true),
                // ISO 8601 text stays text, as SageMaker types it (`String`), marked as a time
                // so that it is kept out of drift like a timestamp column and still keys windows.
                t if t.is_temporal() => Field::new(name, DataType::Utf8, true).with_metadata(
                    std::collections::HashMap::from([(crate::source::ROLE_KEY.to_string(), "timestamp".to_string())]),
                ),
                t => Field::new(name, t.clone(), true),
            }
        })
        .collect();
    let raw: SchemaRef = Arc::new(Schema::new(fields));
    let schema = dictionary_typed(&raw, plain);
    Ok(Scanned {
        file: TextFile { kind: TextKind::Csv { header, delimiter }, schema, raw },
        rows: rows as u64,
        warnings: vec![],
    })
}

/// Reads `file` at `path`, projected on `columns`, calling `each` with every batch.
///
/// # Errors
/// A one-line reason naming the line when a CSV record is malformed.
pub fn read(path: &Path, file: &TextFile, columns: &[usize], each: &mut dyn FnMut(&RecordBatch)) -> SourceResult<()> {
    let out = Arc::new(file.schema.project(columns)?);
    let cast = |b: RecordBatch| crate::source::decode::cast_to(&b, &out);
    match file.kind {
        TextKind::Csv { header, delimiter } => {
            let reader = arrow_csv::ReaderBuilder::new(file.raw.clone())
                .with_header(header)
                .with_delimiter(delimiter)
                .with_batch_size(BATCH_ROWS)
                .with_projection(columns.to_vec())
                .build(File::open(path)?)?;
            for b in reader {
                each(&cast(b?)?);
            }
            Ok(())
        }
        TextKind::Capture | TextKind::GroundTruth => {
            let index: HashMap<&str, usize> =
                file.raw.fields().iter().enumerate().map(|(i, f)| (f.name().as_str(), i)).collect();
            let mut builders: Vec<Column> =
                columns.iter().map(|&c| Column::new(file.raw.field(c).data_type())).collect();
            let slot: HashMap<usize, usize> = columns.iter().enumerate().map(|(k, &c)| (c, k)).collect();
            let mut n = 0usize;
            // The parsed schema of the projected columns, made once for every batch.
            let raw = Arc::new(file.raw.project(columns)?);
            let mut flush = |builders: &mut Vec<Column>, n: &mut usize| -> SourceResult<()> {
                if *n == 0 {
                    return Ok(());
                }
                let arrays: Vec<ArrayRef> = builders.iter_mut().map(Column::finish).collect();
                let batch = if arrays.is_empty() {
                    RecordBatch::try_new_with_options(
                        raw.clone(),
                        arrays,
                        &arrow_array::RecordBatchOptions::new().with_row_count(Some(*n)),
                    )
                } else {
                    RecordBatch::try_new(raw.clone(), arrays)
                }?;
                each(&cast(batch)?);
                *n = 0;
                Ok(())
            };
            for_each_record(path, file.kind, &mut |_, rec| {
                let mut seen = vec![false; builders.len()];
                for (name, cell) in rec {
                    if let Some(&k) = index.get(name.as_str()).and_then(|c| slot.get(c)) {
                        if !seen[k] {
                            builders[k].push(Some(&cell));
                            seen[k] = true;
                        }
                    }
                }
                for (k, s) in seen.iter().enumerate() {
                    if !s {
                        builders[k].push(None);
                    }
                }
                n += 1;
                if n >= BATCH_ROWS {
                    flush(&mut builders, &mut n)?;
                }
                Ok(())
            })?;
            flush(&mut builders, &mut n)
        }
    }
}

/// A value as parsed, before its column's type is known.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    kind: Kind,
    text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Null,
    Int,
    Float,
    Time,
    Text,
}

impl Kind {
    /// The type a column with values of both kinds has.
    fn join(self, o: Kind) -> Kind {
        match (self, o) {
            (a, Kind::Null) => a,
            (Kind::Null, b) => b,
            (Kind::Time, Kind::Time) => Kind::Time,
            (Kind::Time, _) | (_, Kind::Time) => Kind::Text,
            (a, b) => a.max(b),
        }
    }
    fn data_type(self) -> DataType {
        match self {
            Kind::Int => DataType::Int64,
            Kind::Float => DataType::Float64,
            Kind::Time => DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            Kind::Null | Kind::Text => DataType::Utf8,
        }
    }
}

fn token(s: &str) -> Cell {
    let t = s.trim();
    let kind = if t.is_empty() {
        Kind::Null
    } else if t.parse::<i64>().is_ok() {
        Kind::Int
    } else if t.parse::<f64>().is_ok() {
        Kind::Float
    } else {
        Kind::Text
    };
    Cell { kind, text: t.to_string() }
}

fn time_ms(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s.trim()).ok().map(|t| t.timestamp_millis())
}

enum Column {
    Int(Int64Builder),
    Float(Float64Builder),
    Time(TimestampMillisecondBuilder),
    Text(StringBuilder),
}

impl Column {
    fn new(t: &DataType) -> Column {
        match t {
            DataType::Int64 => Column::Int(Int64Builder::new()),
            DataType::Float64 => Column::Float(Float64Builder::new()),
            DataType::Timestamp(..) => Column::Time(TimestampMillisecondBuilder::new().with_timezone("UTC")),
            _ => Column::Text(StringBuilder::new()),
        }
    }
    fn push(&mut self, c: Option<&Cell>) {
        let c = c.filter(|c| c.kind != Kind::Null);
        match self {
            Column::Int(b) => b.append_option(c.and_then(|c| c.text.parse().ok())),
            Column::Float(b) => b.append_option(c.and_then(|c| c.text.parse().ok())),
            Column::Time(b) => b.append_option(c.and_then(|c| time_ms(&c.text))),
            Column::Text(b) => b.append_option(c.map(|c| c.text.as_str())),
        }
    }
    fn finish(&mut self) -> ArrayRef {
        match self {
            Column::Int(b) => Arc::new(b.finish()),
            Column::Float(b) => Arc::new(b.finish()),
            Column::Time(b) => Arc::new(b.finish()),
            Column::Text(b) => Arc::new(b.finish()),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Line {
    capture_data: Option<CaptureData>,
    ground_truth_data: Option<Payload>,
    event_metadata: Option<EventMetadata>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CaptureData {
    endpoint_input: Option<Payload>,
    endpoint_output: Option<Payload>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    data: String,
    encoding: String,
    observed_content_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventMetadata {
    event_id: Option<String>,
    inference_id: Option<String>,
    inference_time: Option<String>,
}

/// One record: column name → value, in column order.
type Record = Vec<(String, Cell)>;
/// One payload record's values, positional ones without a name.
type Fields = Vec<(Option<String>, Cell)>;

/// The records a payload holds, each as its values (`None` name: positional).
fn payload_records(p: &Payload, what: &str) -> SourceResult<Vec<Fields>> {
    let (text, json) = match p.encoding.to_ascii_uppercase().as_str() {
        "CSV" => (p.data.clone(), false),
        "JSON" => (p.data.clone(), true),
        "BASE64" => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(p.data.trim())
                .map_err(|e| format!("{what}: BASE64 data does not decode: {}", one_line(e)))?;
            let text = String::from_utf8(bytes).map_err(|_| format!("{what}: BASE64 data is not UTF-8 text"))?;
            let ct = p.observed_content_type.as_deref().unwrap_or("").to_ascii_lowercase();
            let json = if ct.contains("json") {
                true
            } else if ct.contains("csv") || ct.is_empty() {
                false
            } else {
                return Err(format!("{what}: BASE64 data of content type '{ct}' is neither CSV nor JSON").into());
            };
            (text, json)
        }
        other => return Err(format!("{what}: unknown encoding '{other}' (CSV, JSON or BASE64)").into()),
    };
    if json {
        let v: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{what}: JSON data does not parse: {}", one_line(e)))?;
        let items = match &v {
            serde_json::Value::Object(o) => match o.get("instances").or_else(|| o.get("predictions")) {
                Some(serde_json::Value::Array(a)) => a.clone(),
                _ => vec![v.clone()],
            },
            serde_json::Value::Array(a) if a.iter().all(|x| x.is_array() || x.is_object()) && !a.is_empty() => {
                a.clone()
            }
            _ => vec![v.clone()],
        };
        Ok(items
            .iter()
            .map(|item| {
                let mut fields = Vec::new();
                json_fields(item, None, &mut fields);
                fields
            })
            .collect())
    } else {
        let mut r = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
        r.records()
            .map(|rec| {
                rec.map(|rec| rec.iter().map(|f| (None, token(f))).collect())
                    .map_err(|e| SourceError::from(format!("{what}: CSV data does not parse: {}", one_line(e))))
            })
            .collect()
    }
}

fn json_fields(v: &serde_json::Value, name: Option<String>, out: &mut Fields) {
    use serde_json::Value as J;
    match v {
        J::Object(o) => {
            for (k, x) in o {
                let n = match &name {
                    Some(p) => format!("{p}.{k}"),
                    None => k.clone(),
                };
                json_fields(x, Some(n), out);
            }
        }
        J::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                json_fields(x, name.as_ref().map(|p| format!("{p}.{i}")), out);
            }
        }
        J::Null => out.push((name, Cell { kind: Kind::Null, text: String::new() })),
        J::Number(n) => {
            let text = n.to_string();
            let kind = if n.is_i64() || n.is_u64() { Kind::Int } else { Kind::Float };
            out.push((name, Cell { kind, text }));
        }
        J::Bool(b) => out.push((name, Cell { kind: Kind::Text, text: b.to_string() })),
        J::String(s) => out.push((name, Cell { kind: Kind::Text, text: s.clone() })),
    }
}

/// The records of one line.
fn line_records(line: &[u8], kind: TextKind) -> SourceResult<Vec<Record>> {
    let l: Line = serde_json::from_slice(line).map_err(|e| format!("not a JSON record: {}", one_line(e)))?;
    let mut parts: Vec<Vec<Fields>> = Vec::new();
    match kind {
        TextKind::GroundTruth => {
            let g = l.ground_truth_data.as_ref().ok_or("no groundTruthData")?;
            parts.push(payload_records(g, "groundTruthData")?);
        }
        _ => {
            let c = l.capture_data.as_ref().ok_or("no captureData")?;
            if c.endpoint_input.is_none() && c.endpoint_output.is_none() {
                return Err("captureData holds neither endpointInput nor endpointOutput".into());
            }
            if let Some(o) = &c.endpoint_output {
                parts.push(payload_records(o, "endpointOutput")?);
            }
            if let Some(i) = &c.endpoint_input {
                parts.push(payload_records(i, "endpointInput")?);
            }
            if let [o, i] = parts.as_slice() {
                if o.len() != i.len() {
                    return Err(
                        format!("endpointInput holds {} records but endpointOutput {}", i.len(), o.len()).into()
                    );
                }
            }
        }
    }
    let n = parts.first().map_or(0, Vec::len);
    let meta = l.event_metadata.as_ref();
    let mut out = Vec::with_capacity(n);
    for r in 0..n {
        let mut rec: Record = Vec::new();
        let mut position = 0;
        for p in &parts {
            for (name, cell) in &p[r] {
                let name = name.clone().unwrap_or_else(|| {
                    position += 1;
                    format!("_c{}", position - 1)
                });
                rec.push((name, cell.clone()));
            }
        }
        if let Some(m) = meta {
            for (name, v) in [
                ("eventMetadata.eventId", &m.event_id),
                ("eventMetadata.inferenceId", &m.inference_id),
                ("eventMetadata.inferenceTime", &m.inference_time),
            ] {
                if let Some(v) = v {
                    let kind = if name.ends_with("Time") && time_ms(v).is_some() { Kind::Time } else { Kind::Text };
                    rec.push((name.to_string(), Cell { kind, text: v.clone() }));
                }
            }
        }
        out.push(rec);
    }
    Ok(out)
}

/// Calls `each` with every record of a JSON Lines file; bad lines are passed to `each` as errors
/// through the returned warnings.
fn for_each_record(
    path: &Path,
    kind: TextKind,
    each: &mut dyn FnMut(usize, Record) -> SourceResult<()>,
) -> SourceResult<Vec<String>> {
    let f = File::open(path)?;
    let mut r = BufReader::with_capacity(1 << 20, f);
    let mut line = Vec::new();
    let (mut number, mut bad) = (0usize, 0usize);
    let mut warnings = Vec::new();
    loop {
        line.clear();
        if r.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        number += 1;
        let t = line.trim_ascii();
        if t.is_empty() {
            continue;
        }
        match line_records(t, kind) {
            Ok(recs) => {
                for rec in recs {
                    each(number, rec)?;
                }
            }
            Err(e) => {
                bad += 1;
                if warnings.len() < MAX_WARNINGS {
                    warnings.push(format!("line {number}: {e} (line skipped)"));
                }
            }
        }
    }
    if bad > warnings.len() {
        warnings.push(format!("{} more lines skipped", bad - warnings.len()));
    }
    Ok(warnings)
}

fn scan_json_lines(path: &Path, plain: &PlainText) -> SourceResult<Scanned> {
    // The kind is decided by the first line that holds either payload.
    let kind = {
        let f = File::open(path)?;
        let mut found = None;
        for line in BufReader::new(f).split(b'\n').take(1000) {
            let line = line?;
            if let Ok(l) = serde_json::from_slice::<Line>(line.trim_ascii()) {
                if l.capture_data.is_some() {
                    found = Some(TextKind::Capture);
                } else if l.ground_truth_data.is_some() {
                    found = Some(TextKind::GroundTruth);
                }
                if found.is_some() {
                    break;
                }
            }
        }
        found.ok_or(
            "not SageMaker JSON Lines: no record among the first 1000 lines holds captureData or groundTruthData",
        )?
    };
    let mut columns: Vec<(String, Kind)> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    let mut rows = 0u64;
    let warnings = for_each_record(path, kind, &mut |_, rec| {
        for (name, cell) in rec {
            match at.get(&name) {
                Some(&i) => columns[i].1 = columns[i].1.join(cell.kind),
                None => {
                    at.insert(name.clone(), columns.len());
                    columns.push((name, cell.kind));
                }
            }
        }
        rows += 1;
        Ok(())
    })?;
    if rows == 0 {
        let why = warnings.first().map(|w| format!(" (first: {w})")).unwrap_or_default();
        return Err(format!("no readable record{why}").into());
    }
    // Features first, then the event's metadata.
    columns.sort_by_key(|(n, _)| n.starts_with("eventMetadata."));
    let raw: SchemaRef =
        Arc::new(Schema::new(columns.iter().map(|(n, k)| Field::new(n, k.data_type(), true)).collect::<Vec<_>>()));
    let schema = dictionary_typed(&raw, plain);
    Ok(Scanned { file: TextFile { kind, schema, raw }, rows, warnings })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;

    fn lines(dir: &Path, name: &str, body: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, body).unwrap();
        p
    }

    fn all(p: &Path, s: &Scanned) -> RecordBatch {
        let cols: Vec<usize> = (0..s.file.schema.fields().len()).collect();
        let mut got = Vec::new();
        read(p, &s.file, &cols, &mut |b| got.push(b.clone())).unwrap();
        arrow_select::concat::concat_batches(&s.file.schema, &got).unwrap()
    }

    #[test]
    fn capture_csv_json_and_base64_with_bad_lines() {
        let d = tempfile::tempdir().unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode("3,4");
        let body = format!(
            "{}\n{}\nnot json\n{}\n{}\n",
            r#"{"captureData":{"endpointInput":{"data":"1,2","encoding":"CSV"},"endpointOutput":{"data":"0.5","encoding":"CSV"}},"eventMetadata":{"eventId":"a","inferenceTime":"2026-11-01T00:00:00Z"}}"#,
            format_args!(
                r#"{{"captureData":{{"endpointInput":{{"data":"{b64}","encoding":"BASE64","observedContentType":"text/csv"}},"endpointOutput":{{"data":"{{\"predictions\":[0.25]}}","encoding":"JSON"}}}},"eventMetadata":{{"eventId":"b","inferenceTime":"2026-11-01T01:00:00Z"}}}}"#
            ),
            r#"{"captureData":{"endpointInput":{"data":"1,2","encoding":"XML"}},"eventMetadata":{"eventId":"c"}}"#,
            r#"{"captureData":{"endpointInput":{"data":"x,7","encoding":"CSV"},"endpointOutput":{"data":"1","encoding":"CSV"}},"eventMetadata":{"eventId":"d","inferenceTime":"2026-11-01T02:00:00Z"}}"#,
        );
        let p = lines(d.path(), "c.jsonl", &body);
        let s = scan(&p, &|n: &str| n.ends_with("Id"), None).unwrap();
        assert_eq!(s.rows, 3);
        assert_eq!(s.warnings.len(), 2, "{:?}", s.warnings);
        assert!(s.warnings[0].starts_with("line 3: not a JSON record"), "{:?}", s.warnings);
        assert!(s.warnings[1].contains("line 4: endpointInput: unknown encoding 'XML'"), "{:?}", s.warnings);
        let names: Vec<&str> = s.file.schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, ["_c0", "_c1", "_c2", "eventMetadata.eventId", "eventMetadata.inferenceTime"]);
        let types: Vec<&DataType> = s.file.raw.fields().iter().map(|f| f.data_type()).collect();
        assert_eq!(types[0], &DataType::Float64, "0.5, 0.25 and 1: Fractional");
        assert_eq!(types[1], &DataType::Utf8, "1, 3 and x: String");
        assert_eq!(types[2], &DataType::Int64);
        assert!(matches!(types[4], DataType::Timestamp(..)));
        let b = all(&p, &s);
        let c0 = b.column(0).as_primitive::<arrow_array::types::Float64Type>();
        assert_eq!(c0.values().to_vec(), vec![0.5, 0.25, 1.0]);
        let c2 = b.column(2).as_primitive::<arrow_array::types::Int64Type>();
        assert_eq!(c2.values().to_vec(), vec![2, 4, 7]);
        assert_eq!(b.column(3).as_string::<i32>().value(1), "b");
    }

    #[test]
    fn json_instances_are_records_and_counts_must_agree() {
        let d = tempfile::tempdir().unwrap();
        let ok = r#"{"captureData":{"endpointInput":{"data":"{\"instances\": [1.0, 2.0, 5.0]}","encoding":"JSON"},"endpointOutput":{"data":"{\"predictions\": [3.5, 4.0, 5.5]}","encoding":"JSON"}},"eventMetadata":{"eventId":"e"}}"#;
        let bad = r#"{"captureData":{"endpointInput":{"data":"{\"instances\": [1.0, 2.0]}","encoding":"JSON"},"endpointOutput":{"data":"{\"predictions\": [3.5]}","encoding":"JSON"}}}"#;
        let p = lines(d.path(), "j.jsonl", &format!("{ok}\n{bad}\n"));
        let s = scan(&p, &|_: &str| false, None).unwrap();
        assert_eq!(s.rows, 3);
        assert!(s.warnings[0].contains("endpointInput holds 2 records but endpointOutput 1"), "{:?}", s.warnings);
        let b = all(&p, &s);
        let out = b.column(0).as_primitive::<arrow_array::types::Float64Type>();
        let inp = b.column(1).as_primitive::<arrow_array::types::Float64Type>();
        assert_eq!((out.values().to_vec(), inp.values().to_vec()), (vec![3.5, 4.0, 5.5], vec![1.0, 2.0, 5.0]));
    }

    #[test]
    fn csv_delimiters_are_sniffed() {
        let d = tempfile::tempdir().unwrap();
        let names = |file: &str, body: &str| {
            let p = lines(d.path(), file, body);
            let s = scan(&p, &|_: &str| false, None).unwrap();
            let names: Vec<String> = s.file.schema.fields().iter().map(|f| f.name().clone()).collect();
            (names, all(&p, &s))
        };
        // Semicolons (decimal commas inside the values), pipes, tabs in a .csv.
        let (n, b) = names("semi.csv", "age;income;plan\n31;1200,5;basic\n45;880,25;pro\n");
        assert_eq!(n, ["age", "income", "plan"]);
        let text = |b: &RecordBatch, c: usize| arrow_cast::display::array_value_to_string(b.column(c), 0).unwrap();
        assert_eq!(text(&b, 1), "1200,5");
        assert_eq!(names("pipe.csv", "a|b\n1|2\n3|4\n").0, ["a", "b"]);
        assert_eq!(names("tab.csv", "a\tb\tc\n1\t2\t3\n").0, ["a", "b", "c"]);
        // Commas stay the delimiter when a quoted field holds another candidate.
        let (n, b) = names("comma.csv", "id,note\n1,\"a;b|c\"\n2,\"d;e\"\n");
        assert_eq!(n, ["id", "note"]);
        assert_eq!(text(&b, 1), "a;b|c");
        // One column, whatever it holds, stays one column.
        assert_eq!(names("one.csv", "word\nx\ny\n").0, ["word"]);
    }

    #[test]
    fn csv_header_detection_and_sagemaker_names() {
        let d = tempfile::tempdir().unwrap();
        let p = lines(d.path(), "h.csv", "a,b\n1,x\n2.5,y\n");
        let s = scan(&p, &|_: &str| false, None).unwrap();
        assert_eq!((s.rows, s.file.kind), (2, TextKind::Csv { header: true, delimiter: b',' }));
        assert_eq!(s.file.schema.field(0).name(), "a");
        assert_eq!(s.file.raw.field(0).data_type(), &DataType::Float64);
        let p = lines(d.path(), "n.csv", "1,x\n2,y\n3,z\n");
        let s = scan(&p, &|_: &str| false, None).unwrap();
        assert_eq!(s.rows, 3);
        assert_eq!((s.file.schema.field(0).name().as_str(), s.file.schema.field(1).name().as_str()), ("_c0", "_c1"));
        let b = all(&p, &s);
        assert_eq!(b.num_rows(), 3);
        assert!(matches!(b.column(1).data_type(), DataType::Dictionary(..)));
        let p = lines(d.path(), "e.csv", "a,b\n");
        assert_eq!(scan(&p, &|_: &str| false, None).unwrap_err().to_string(), "CSV holds a header and no record");
    }
}
