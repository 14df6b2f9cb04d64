//! Scanning: turning paths, directories, globs and hive-partitioned folders into input files,
//! reading their Parquet footers (or scanning CSV and SageMaker JSON Lines, see
//! [`crate::source::text`]), and unifying their schemas.
//!
//! A path that does not exist, or a file that is not readable Parquet, is recorded as skipped
//! with a one-line reason; the others go on. Columns missing from some files, or stored with
//! different types, are reported as schema differences, not errors.

#[cfg(feature = "parquet")]
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Schema, SchemaRef};
#[cfg(feature = "parquet")]
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use rayon::prelude::*;
use serde::Serialize;

use crate::error::source::SourceResult;
use crate::error::{one_line, Error, Result};
use crate::source::text::{self, TextFile};

/// An input that could not be used, and why.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Skipped {
    /// The path as found.
    pub path: String,
    /// One-line reason.
    pub error: String,
}

/// How a readable file is stored.
#[derive(Debug, Clone)]
pub enum Format {
    /// Parquet: the footer and Arrow schema, with text columns read as dictionaries.
    #[cfg(feature = "parquet")]
    Parquet(ArrowReaderMetadata),
    /// CSV or SageMaker JSON Lines, read whole as one unit of work.
    Text(Arc<TextFile>),
}

/// A readable input file: Parquet with its footer, or a scanned text file.
#[derive(Debug, Clone)]
pub struct ScannedFile {
    /// Path of the file.
    pub path: PathBuf,
    /// Hive partition values from the folder names (`dt=2026-11-01`), outermost first.
    pub partitions: Vec<(String, String)>,
    /// How the file is stored.
    pub format: Format,
    /// Rows in the file.
    pub rows: u64,
    /// Lines of a text file that were skipped, with why.
    pub warnings: Vec<String>,
    /// The object, for an input in an object store (its `path` is then the URL).
    pub remote: Option<Arc<crate::source::remote::Remote>>,
    /// A local copy of an object read whole: CSV and JSON Lines from an object store, removed
    /// when the last clone of this file is dropped.
    pub local_copy: Option<Arc<tempfile::TempPath>>,
}

impl ScannedFile {
    /// Where the file's bytes are read on this machine: its path, or its local copy.
    pub fn read_path(&self) -> &Path {
        self.local_copy.as_deref().map_or(self.path.as_path(), |p| p.as_ref())
    }

    /// Number of units of work: row groups of Parquet, one for a text file.
    pub fn row_groups(&self) -> usize {
        match &self.format {
            #[cfg(feature = "parquet")]
            Format::Parquet(m) => m.metadata().num_row_groups(),
            Format::Text(_) => 1,
        }
    }
    /// Rows in one unit.
    #[cfg_attr(
        not(feature = "parquet"),
        allow(unused_variables, reason = "without Parquet, the row group goes unused")
    )]
    pub fn row_group_rows(&self, rg: usize) -> u64 {
        match &self.format {
            #[cfg(feature = "parquet")]
            Format::Parquet(m) => m.metadata().row_group(rg).num_rows().max(0) as u64,
            Format::Text(_) => self.rows,
        }
    }
    /// The Arrow schema of the file's batches.
    pub fn schema(&self) -> &SchemaRef {
        match &self.format {
            #[cfg(feature = "parquet")]
            Format::Parquet(m) => m.schema(),
            Format::Text(t) => &t.schema,
        }
    }
    /// The Parquet footer, for a Parquet file.
    #[cfg(feature = "parquet")]
    pub fn parquet(&self) -> Option<&ArrowReaderMetadata> {
        match &self.format {
            Format::Parquet(m) => Some(m),
            Format::Text(_) => None,
        }
    }
}

/// A column of the unified schema.
#[derive(Debug, Clone, Serialize)]
pub struct UnifiedColumn {
    /// Column name.
    pub name: String,
    /// Arrow type as first seen.
    #[serde(skip)]
    pub data_type: DataType,
    /// Number of files that have the column.
    pub files: usize,
}

/// The result of scanning the inputs.
#[derive(Debug, Clone, Default)]
pub struct Scan {
    /// Readable files, sorted by path within each input, inputs in the order given.
    pub files: Vec<ScannedFile>,
    /// Inputs that could not be used.
    pub skipped: Vec<Skipped>,
    /// The union of the files' columns, in first-seen order.
    pub columns: Vec<UnifiedColumn>,
    /// Human-readable schema differences between files.
    pub schema_differences: Vec<String>,
    /// Lines of text files that were skipped: `path: line N: why (line skipped)`.
    pub warnings: Vec<String>,
    /// Files found in folders or by patterns that are plainly not data, left out.
    pub ignored: Vec<PathBuf>,
}

impl Scan {
    /// Total rows of the readable files.
    pub fn rows(&self) -> u64 {
        self.files.iter().map(|f| f.rows).sum()
    }
}

/// Extensions of files that are plainly not data (notes, logs, images, code, configuration): a
/// folder or pattern holding them is read without them, and they are listed as ignored.
const NOT_DATA: [&str; 24] = [
    "txt", "md", "markdown", "rst", "log", "pdf", "doc", "docx", "png", "jpg", "jpeg", "gif", "svg", "bmp", "html",
    "htm", "yaml", "yml", "toml", "ini", "cfg", "py", "sh", "done",
];

/// Whether a file found in a folder or by a pattern is plainly not data, by its extension.
fn not_data(p: &Path) -> bool {
    p.extension().and_then(|e| e.to_str()).is_some_and(|e| NOT_DATA.iter().any(|n| e.eq_ignore_ascii_case(n)))
}

fn is_data_file(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    !(name.starts_with('.') || name.starts_with('_') || name.ends_with(".crc") || name.ends_with(".tmp"))
}

/// The entries of one folder, sorted by name; an entry that cannot be read is an error.
fn entries(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut v = std::fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<std::io::Result<Vec<_>>>()?;
    v.sort();
    Ok(v)
}

/// The data files under `dir`, depth first in name order (hidden and `_` folders left out).
/// Links are followed, but a folder reached twice (a link loop, or two links to one folder) is
/// read once; a folder that cannot be read is reported in `errors` and the walk goes on. The
/// walk keeps its own stack, so depth costs no recursion.
fn walk(dir: &Path, out: &mut Vec<PathBuf>, errors: &mut Vec<Skipped>) {
    let mut seen: std::collections::HashSet<PathBuf> = std::collections::HashSet::new();
    let mut enter = |d: &Path, errors: &mut Vec<Skipped>| -> Option<std::vec::IntoIter<PathBuf>> {
        let key = std::fs::canonicalize(d).unwrap_or_else(|_| d.to_path_buf());
        if !seen.insert(key) {
            return None;
        }
        match entries(d) {
            Ok(e) => Some(e.into_iter()),
            Err(e) => {
                errors.push(Skipped { path: d.display().to_string(), error: one_line(e) });
                None
            }
        }
    };
    let mut stack: Vec<std::vec::IntoIter<PathBuf>> = enter(dir, errors).into_iter().collect();
    while let Some(top) = stack.last_mut() {
        let Some(p) = top.next() else {
            stack.pop();
            continue;
        };
        if p.is_dir() {
            let hidden =
                p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.') || n.starts_with('_'));
            if !hidden {
                if let Some(e) = enter(&p, errors) {
                    stack.push(e);
                }
            }
        } else if is_data_file(&p) {
            out.push(p);
        }
    }
}

/// The data files under `dir` (see the walk's rules: hidden and `_` entries left out, links
/// followed once; files plainly not data, `.done` markers among them, left out too), and the
/// folders that could not be read.
pub fn data_files(dir: &Path) -> (Vec<PathBuf>, Vec<Skipped>) {
    let (mut files, mut errors) = (Vec::new(), Vec::new());
    walk(dir, &mut files, &mut errors);
    files.retain(|p| !not_data(p));
    (files, errors)
}

/// The time a file's hive partitions name, in milliseconds since the epoch (UTC): a date
/// (`dt`, `date`, `ds`: `2026-11-28` or `20261128`) or `year`/`month`/`day`, refined by `hour`
/// (`hr`, `hh`) and `minute` (`min`). `None` when the partitions name no date.
pub fn partition_time(partitions: &[(String, String)]) -> Option<i64> {
    let get = |keys: &[&str]| {
        partitions.iter().rev().find(|(k, _)| keys.iter().any(|n| k.eq_ignore_ascii_case(n))).map(|(_, v)| v.trim())
    };
    let num = |keys: &[&str]| get(keys).and_then(|v| v.parse::<u32>().ok());
    let date = match get(&["dt", "date", "ds"]) {
        Some(v) => chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .or_else(|_| chrono::NaiveDate::parse_from_str(v, "%Y%m%d"))
            .ok()?,
        None => chrono::NaiveDate::from_ymd_opt(
            num(&["year", "yyyy"])? as i32,
            num(&["month", "mm"])?,
            num(&["day", "dd"])?,
        )?,
    };
    let hour = num(&["hour", "hr", "hh"]).unwrap_or(0);
    let minute = num(&["minute", "min"]).unwrap_or(0);
    Some(date.and_hms_opt(hour, minute, 0)?.and_utc().timestamp_millis())
}

/// Hive partition values (`key=value` folder names) on a path.
pub fn hive_partitions(path: &Path) -> Vec<(String, String)> {
    path.parent()
        .into_iter()
        .flat_map(|p| p.components())
        .filter_map(|c| {
            let s = c.as_os_str().to_str()?;
            let (k, v) = s.split_once('=')?;
            (!k.is_empty()).then(|| (k.to_string(), v.to_string()))
        })
        .collect()
}

/// Expands inputs into candidate files: files as given, directories recursively (hidden files,
/// `_SUCCESS` and `.crc` files left out), glob patterns. Missing paths are skipped. Files found in
/// folders or by patterns that are plainly not data (`.txt`, `.md`, `.log`, images…) are left
/// out and returned third; a file named as an input is always read.
pub fn expand(inputs: &[String]) -> (Vec<PathBuf>, Vec<Skipped>, Vec<PathBuf>) {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    let mut ignored = Vec::new();
    let mut found_data = |found: Vec<PathBuf>, files: &mut Vec<PathBuf>| {
        let (no, yes): (Vec<PathBuf>, Vec<PathBuf>) = found.into_iter().partition(|p| not_data(p));
        ignored.extend(no);
        files.extend(yes);
    };
    for input in inputs {
        let p = Path::new(input);
        if crate::source::remote::is_remote(input) {
            match crate::source::remote::list(input) {
                Ok(urls) => files.extend(urls.into_iter().map(PathBuf::from)),
                Err(e) => skipped.push(Skipped { path: input.clone(), error: one_line(e) }),
            }
        } else if p.is_file() {
            files.push(p.to_path_buf());
        } else if p.is_dir() {
            let mut found = Vec::new();
            let mut errors = Vec::new();
            walk(p, &mut found, &mut errors);
            if found.is_empty() && errors.is_empty() {
                skipped.push(Skipped { path: input.clone(), error: "directory holds no files".into() })
            }
            found_data(found, &mut files);
            skipped.extend(errors);
        } else if input.contains(['*', '?', '[']) {
            match glob::glob(input) {
                Ok(paths) => {
                    let mut found: Vec<PathBuf> = Vec::new();
                    let mut errors = Vec::new();
                    for entry in paths {
                        match entry {
                            Ok(e) if e.is_dir() => walk(&e, &mut found, &mut errors),
                            Ok(e) if is_data_file(&e) => found.push(e),
                            Ok(_) => {}
                            // A path the pattern reached but could not read.
                            Err(e) => errors
                                .push(Skipped { path: e.path().display().to_string(), error: one_line(e.error()) }),
                        }
                    }
                    found.sort();
                    if found.is_empty() && errors.is_empty() {
                        skipped.push(Skipped { path: input.clone(), error: "pattern matches no file".into() });
                    }
                    found_data(found, &mut files);
                    skipped.extend(errors);
                }
                Err(e) => {
                    skipped.push(Skipped { path: input.clone(), error: format!("bad glob pattern: {}", one_line(e)) })
                }
            }
        } else {
            skipped.push(Skipped { path: input.clone(), error: "no such file or directory".into() });
        }
    }
    let mut seen = std::collections::HashSet::new();
    files.retain(|f| seen.insert(f.clone()));
    (files, skipped, ignored)
}

/// Which text columns to read as plain strings rather than dictionaries: a test on the column's
/// name. The caller decides (driftscope's pipeline says identifiers, which are all distinct, so
/// that no dictionary is built to be thrown away).
pub type PlainText = dyn Fn(&str) -> bool + Sync;

/// The schema with every text column but the plain ones read as `Dictionary(Int32, Utf8)`, so
/// that Parquet dictionary pages stay dictionaries in Arrow and strings are looked at once per
/// dictionary.
fn dictionary_schema(schema: &Schema, plain: &PlainText) -> Option<SchemaRef> {
    let mut changed = false;
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Utf8 | DataType::LargeUtf8 if !plain(f.name()) => {
                changed = true;
                f.as_ref()
                    .clone()
                    .with_data_type(DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)))
            }
            _ => f.as_ref().clone(),
        })
        .collect();
    changed.then(|| Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone())))
}

/// A batch with its text columns as the file engine reads them from Parquet: dictionaries, but
/// for the `plain` ones (identifiers). Arrow data from elsewhere (the Python package, a Spark
/// task) goes through this so that it is profiled as `monitor` profiles the same file.
///
/// # Errors
/// [`Error::Decode`] naming a column that cannot be cast.
pub fn text_as_read(batch: &RecordBatch, plain: &PlainText) -> Result<RecordBatch> {
    let Some(schema) = dictionary_schema(batch.schema().as_ref(), plain) else {
        return Ok(batch.clone());
    };
    Ok(crate::source::decode::cast_to(batch, &schema)?)
}

/// Reads one file's footer (Parquet) or scans it (CSV and JSON Lines, by extension); text
/// columns are read as dictionaries but for the `plain` ones.
///
/// # Errors
/// [`Error::Input`] naming the file, with why it is not readable in one line.
pub fn open(path: &Path, plain: &PlainText) -> Result<ScannedFile> {
    footer(path, &ScanOptions { plain, delimiter: None }).map_err(|e| Error::input(path, e))
}

/// How inputs are read: which text columns stay plain strings, and the CSV delimiter when the
/// user names it (else each file's is sniffed).
pub struct ScanOptions<'a> {
    /// Text columns read as plain strings rather than dictionaries (identifiers).
    pub plain: &'a PlainText,
    /// The delimiter of every CSV input; `None`: sniffed per file (tab for `.tsv`).
    pub delimiter: Option<u8>,
}

fn footer(path: &Path, opts: &ScanOptions) -> SourceResult<ScannedFile> {
    let url = path.to_str().filter(|p| crate::source::remote::is_remote(p));
    if let Some(url) = url {
        if text::by_extension(path).is_some() {
            // Read whole: a local copy (with the object's extension, which names its format),
            // scanned and read as a local text file would be.
            let suffix = path.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
            let copy = tempfile::Builder::new()
                .prefix("driftscope-object-")
                .suffix(&suffix)
                .tempfile()
                .map_err(|e| format!("a local copy: {e}"))?
                .into_temp_path();
            let remote = crate::source::remote::get_file(url, &copy)?;
            let mut f = text_file(&copy, opts)?;
            f.path = path.to_path_buf();
            f.partitions = hive_partitions(path);
            f.remote = Some(remote);
            f.local_copy = Some(Arc::new(copy));
            return Ok(f);
        }
        #[cfg(feature = "parquet")]
        {
            let remote = crate::source::remote::open(url)?;
            let reader = crate::source::remote::RemoteReader(remote.clone());
            return parquet_footer(path, opts.plain, &reader).map(|mut f| {
                f.remote = Some(remote);
                f
            });
        }
        #[cfg(not(feature = "parquet"))]
        return Err(format!("{url}: {WITHOUT_PARQUET}").into());
    }
    if text::by_extension(path).is_some() {
        return text_file(path, opts);
    }
    #[cfg(feature = "parquet")]
    {
        let file = File::open(path)?;
        parquet_footer(path, opts.plain, &file)
    }
    #[cfg(not(feature = "parquet"))]
    Err(WITHOUT_PARQUET.into())
}

/// Scans a local CSV or JSON Lines file.
fn text_file(path: &Path, opts: &ScanOptions) -> SourceResult<ScannedFile> {
    let s = text::scan(path, opts.plain, opts.delimiter)?;
    Ok(ScannedFile {
        path: path.to_path_buf(),
        partitions: hive_partitions(path),
        format: Format::Text(Arc::new(s.file)),
        rows: s.rows,
        warnings: s.warnings,
        remote: None,
        local_copy: None,
    })
}

/// Why a Parquet input is refused by a build without the `parquet` feature.
#[cfg(not(feature = "parquet"))]
const WITHOUT_PARQUET: &str =
    "driftscope-core was built without its parquet feature: only CSV and JSON Lines files are read";

/// Reads a Parquet footer through any reader: a local file, or ranged reads of an object.
#[cfg(feature = "parquet")]
fn parquet_footer<R: parquet::file::reader::ChunkReader>(
    path: &Path,
    plain: &PlainText,
    file: &R,
) -> SourceResult<ScannedFile> {
    let len = file.len();
    if len == 0 {
        return Err("empty file (0 bytes), not Parquet".into());
    }
    if len < 12 {
        return Err(format!("not a Parquet file ({len} bytes, too short for a footer)").into());
    }
    let meta = ArrowReaderMetadata::load(file, ArrowReaderOptions::new()).map_err(|e| {
        let m = one_line(&e);
        if m.contains("magic") || m.contains("Corrupt footer") {
            format!("not a Parquet file or truncated: {m}")
        } else {
            m
        }
    })?;
    let meta = match dictionary_schema(meta.schema(), plain) {
        Some(s) => ArrowReaderMetadata::try_new(meta.metadata().clone(), ArrowReaderOptions::new().with_schema(s))
            .unwrap_or(meta),
        None => meta,
    };
    let rows = meta.metadata().file_metadata().num_rows().max(0) as u64;
    Ok(ScannedFile {
        path: path.to_path_buf(),
        partitions: hive_partitions(path),
        format: Format::Parquet(meta),
        rows,
        warnings: Vec::new(),
        remote: None,
        local_copy: None,
    })
}

fn type_family(t: &DataType) -> &'static str {
    match t {
        DataType::Dictionary(_, v) => type_family(v),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "text",
        t if t.is_numeric() => "number",
        t if t.is_temporal() => "time",
        DataType::Boolean => "boolean",
        _ => "other",
    }
}

/// Expands the inputs, reads every footer in parallel and unifies the schemas. Text columns are
/// read as dictionaries but for the `plain` ones.
pub fn scan(inputs: &[String], plain: &PlainText) -> Scan {
    scan_with(inputs, &ScanOptions { plain, delimiter: None })
}

/// [`scan`], reading as `opts` say.
pub fn scan_with(inputs: &[String], opts: &ScanOptions) -> Scan {
    let (paths, mut skipped, ignored) = expand(inputs);
    let opened: Vec<(PathBuf, SourceResult<ScannedFile>)> = paths
        .into_par_iter()
        .map(|p| {
            let r = footer(&p, opts);
            (p, r)
        })
        .collect();
    let mut files = Vec::new();
    for (p, r) in opened {
        match r {
            Ok(f) => files.push(f),
            Err(e) => skipped.push(Skipped { path: p.display().to_string(), error: one_line(e) }),
        }
    }
    let mut columns: Vec<UnifiedColumn> = Vec::new();
    let mut differences = Vec::new();
    for f in &files {
        for field in f.schema().fields() {
            match columns.iter_mut().find(|c| c.name == *field.name()) {
                Some(c) => {
                    c.files += 1;
                    if type_family(&c.data_type) != type_family(field.data_type()) {
                        differences.push(format!(
                            "column '{}' is {} in {} but {} in earlier files",
                            field.name(),
                            field.data_type(),
                            f.path.display(),
                            c.data_type
                        ));
                    }
                }
                None => columns.push(UnifiedColumn {
                    name: field.name().clone(),
                    data_type: field.data_type().clone(),
                    files: 1,
                }),
            }
        }
    }
    for c in &columns {
        if c.files < files.len() {
            differences.push(format!(
                "column '{}' is missing from {} of {} files",
                c.name,
                files.len() - c.files,
                files.len()
            ));
        }
    }
    let warnings = files.iter().flat_map(|f| f.warnings.iter().map(|w| format!("{}: {w}", f.path.display()))).collect();
    Scan { files, skipped, columns, schema_differences: differences, warnings, ignored }
}

#[cfg(test)]
mod tests {

    #[test]
    fn partition_times() {
        let p = |v: &[(&str, &str)]| {
            partition_time(&v.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>())
        };
        let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis();
        assert_eq!(p(&[("dt", "2026-11-28"), ("hour", "14")]), Some(t("2026-11-28T14:00:00Z")));
        assert_eq!(p(&[("ds", "20261128")]), Some(t("2026-11-28T00:00:00Z")));
        assert_eq!(
            p(&[("year", "2026"), ("month", "11"), ("day", "28"), ("hr", "3"), ("minute", "15")]),
            Some(t("2026-11-28T03:15:00Z"))
        );
        assert_eq!(p(&[("region", "eu")]), None);
        assert_eq!(p(&[("dt", "yesterday")]), None);
        assert_eq!(p(&[("dt", "2026-11-28"), ("hour", "25")]), None);
    }

    use super::*;

    #[test]
    fn hive_partitions_parsed() {
        let p = Path::new("/lake/captures/dt=2026-11-01/hour=03/part-0.parquet");
        assert_eq!(
            hive_partitions(p),
            vec![("dt".to_string(), "2026-11-01".to_string()), ("hour".to_string(), "03".to_string())]
        );
    }

    #[test]
    fn expand_missing_path_skipped() {
        let (files, skipped, _) = expand(&["/definitely/not/here.parquet".to_string()]);
        assert!(files.is_empty());
        assert_eq!(skipped[0].error, "no such file or directory");
    }

    #[cfg(unix)]
    #[test]
    fn walk_survives_link_loops_and_deep_folders() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a");
        std::fs::create_dir_all(a.join("b")).unwrap();
        std::fs::write(a.join("b/x.parquet"), b"x").unwrap();
        // a/b/up -> a, a/self -> a: following them would never end.
        std::os::unix::fs::symlink(&a, a.join("b/up")).unwrap();
        std::os::unix::fs::symlink(&a, a.join("self")).unwrap();
        let (files, skipped, _) = expand(&[a.display().to_string()]);
        assert_eq!(files, vec![a.join("b/x.parquet")]);
        assert!(skipped.is_empty(), "{skipped:?}");
        // A deep folder is walked by the walk's own stack.
        let mut deep = d.path().join("deep");
        for _ in 0..200 {
            deep.push("d");
        }
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(deep.join("y.parquet"), b"y").unwrap();
        let (files, _, _) = expand(&[d.path().join("deep").display().to_string()]);
        assert_eq!(files, vec![deep.join("y.parquet")]);
        // The same through a glob.
        let (files, skipped, _) = expand(&[format!("{}/a*", d.path().display())]);
        assert_eq!((files.len(), skipped.len()), (1, 0));
    }
}
