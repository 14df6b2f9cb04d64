//! Decoding: one row group of one file (or a whole text file) into Arrow record batches, with
//! column projection.
//!
//! Row groups are the unit of parallelism: the caller decodes many of them at once on rayon's
//! pool, each with its own reader over the shared footer, and folds each batch as it comes so
//! that only a few batches per thread are ever in memory.

#[cfg(feature = "parquet")]
use std::fs::File;

use arrow_array::RecordBatch;
#[cfg(feature = "parquet")]
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
#[cfg(feature = "parquet")]
use parquet::arrow::ProjectionMask;

use crate::error::source::{SourceError, SourceResult};
use crate::error::{Error, Result};
use crate::source::scan::{Format, ScannedFile};

/// Rows per decoded batch: what a backend folds at once ([`crate::backend::MAX_BATCH_ROWS`], the
/// same number, checked where the engine joins the two), so the profiler never slices a batch.
pub const BATCH_ROWS: usize = 65_536;

/// `batch` with each column cast to the type `to` gives it (columns in the same order); a column
/// already of its type is kept as it is. The error names the column that cannot be cast.
pub fn cast_to(batch: &RecordBatch, to: &arrow_schema::SchemaRef) -> SourceResult<RecordBatch> {
    let columns = batch
        .columns()
        .iter()
        .zip(to.fields())
        .map(|(c, f)| {
            if c.data_type() == f.data_type() {
                Ok(c.clone())
            } else {
                arrow_cast::cast(c, f.data_type())
                    .map_err(|e| SourceError::from(format!("column '{}': {}", f.name(), crate::error::one_line(e))))
            }
        })
        .collect::<SourceResult<Vec<_>>>()?;
    Ok(RecordBatch::try_new(to.clone(), columns)?)
}

/// True when `wanted` names root column `root`, or a field inside it (`root.child`).
pub fn names_root(wanted: &str, root: &str) -> bool {
    wanted == root || wanted.strip_prefix(root).is_some_and(|rest| rest.starts_with('.'))
}

/// Root column indices of `file` for the wanted names (all columns when `None`); a name inside a
/// struct column (`parent.child`) selects its root.
pub fn projection(file: &ScannedFile, wanted: Option<&[String]>) -> Vec<usize> {
    let schema = file.schema();
    match wanted {
        None => (0..schema.fields().len()).collect(),
        Some(names) => schema
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, f)| names.iter().any(|n| names_root(n, f.name())))
            .map(|(i, _)| i)
            .collect(),
    }
}

/// Decodes row group `rg` of `file`, projected on `columns`, calling `each` with every batch.
///
/// # Errors
/// [`Error::Decode`], in one line naming the row group and, when one column alone fails to
/// decode (invalid UTF-8, a corrupt page), that column.
pub fn for_each_batch(
    file: &ScannedFile,
    rg: usize,
    columns: &[usize],
    mut each: impl FnMut(&RecordBatch),
) -> Result<()> {
    match decode(file, rg, columns, &mut each) {
        Ok(()) => Ok(()),
        Err(e) => {
            // Only on failure: decode the columns one by one to name the culprit.
            let culprit = if columns.len() > 1 {
                columns.iter().find(|&&c| decode(file, rg, &[c], &mut |_| {}).is_err())
            } else {
                columns.first()
            };
            let name = culprit.map(|&c| file.schema().field(c).name().clone());
            Err(Error::Decode(
                match name {
                    Some(n) => format!("row group {rg}, column '{n}': {e}"),
                    None => format!("row group {rg}: {e}"),
                }
                .into(),
            ))
        }
    }
}

#[cfg_attr(not(feature = "parquet"), allow(unused_variables, reason = "without Parquet, the row group goes unused"))]
fn decode(file: &ScannedFile, rg: usize, columns: &[usize], each: &mut dyn FnMut(&RecordBatch)) -> SourceResult<()> {
    match &file.format {
        #[cfg(feature = "parquet")]
        Format::Parquet(m) => read_parquet(file, m, rg, columns, each),
        Format::Text(t) => crate::source::text::read(file.read_path(), t, columns, each),
    }
}

#[cfg(feature = "parquet")]
fn read_parquet(
    file: &ScannedFile,
    meta: &parquet::arrow::arrow_reader::ArrowReaderMetadata,
    rg: usize,
    columns: &[usize],
    each: &mut dyn FnMut(&RecordBatch),
) -> SourceResult<()> {
    let mask = ProjectionMask::roots(meta.parquet_schema(), columns.iter().copied());
    if let Some(remote) = &file.remote {
        // Ranged reads of the row group's column chunks only.
        let reader = crate::source::remote::RemoteReader(remote.clone());
        return read_row_group(
            ParquetRecordBatchReaderBuilder::new_with_metadata(reader, meta.clone()),
            rg,
            mask,
            each,
        );
    }
    let handle = File::open(&file.path)?;
    read_row_group(ParquetRecordBatchReaderBuilder::new_with_metadata(handle, meta.clone()), rg, mask, each)
}

#[cfg(feature = "parquet")]
fn read_row_group<R: parquet::file::reader::ChunkReader + 'static>(
    builder: ParquetRecordBatchReaderBuilder<R>,
    rg: usize,
    mask: ProjectionMask,
    each: &mut dyn FnMut(&RecordBatch),
) -> SourceResult<()> {
    let mut reader = builder.with_row_groups(vec![rg]).with_projection(mask).with_batch_size(BATCH_ROWS).build()?;
    while let Some(batch) = unpanicked(|| reader.next())? {
        each(&batch?);
    }
    Ok(())
}

thread_local! {
    /// Set while this thread is inside a reader call whose panic is caught ([`unpanicked`]).
    static GUARDED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread is inside a reader call whose panic is caught and reported as a damaged
/// file: a panic hook may stay quiet then (the CLI's does).
pub fn in_guarded_reader() -> bool {
    GUARDED.with(std::cell::Cell::get)
}

/// Runs one call of the Parquet reader, turning a panic into an error. Parquet's decoders can
/// panic on damaged pages (a definition level past the end of its buffer) where they should
/// fail; a damaged file is then left out with a one-line reason like any other. Only the reader
/// is guarded, never the work done with its batches, so a defect of driftscope's own still
/// shows as the panic it is.
#[cfg(feature = "parquet")]
fn unpanicked<T>(call: impl FnOnce() -> T) -> SourceResult<T> {
    GUARDED.with(|g| g.set(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(call));
    GUARDED.with(|g| g.set(false));
    result.map_err(|panic| {
        let why = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        SourceError::Content(format!("the Parquet reader failed on damaged data ({why})"))
    })
}
