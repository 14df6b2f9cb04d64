//! Decoding: one row group of one file into Arrow record batches, with column projection.
//!
//! Row groups are the unit of parallelism: the caller decodes many of them at once on rayon's
//! pool, each with its own reader over the shared footer, and folds each batch as it comes so
//! that only a few batches per thread are ever in memory.

use std::fs::File;

use arrow_array::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;

use crate::error::one_line;
use crate::scan::ScannedFile;

/// Rows per decoded batch.
pub const BATCH_ROWS: usize = 65_536;

/// Root column indices of `file` for the wanted names (all columns when `None`).
pub fn projection(file: &ScannedFile, wanted: Option<&[String]>) -> Vec<usize> {
    let schema = file.meta.schema();
    match wanted {
        None => (0..schema.fields().len()).collect(),
        Some(names) => schema
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, f)| names.iter().any(|n| n == f.name()))
            .map(|(i, _)| i)
            .collect(),
    }
}

/// Decodes row group `rg` of `file`, projected on `columns`, calling `each` with every batch.
pub fn for_each_batch(
    file: &ScannedFile,
    rg: usize,
    columns: &[usize],
    mut each: impl FnMut(&RecordBatch),
) -> Result<(), String> {
    let handle = File::open(&file.path).map_err(one_line)?;
    let mask = ProjectionMask::roots(file.meta.parquet_schema(), columns.iter().copied());
    let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(handle, file.meta.clone())
        .with_row_groups(vec![rg])
        .with_projection(mask)
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(|e| format!("row group {rg}: {}", one_line(e)))?;
    for batch in reader {
        let batch = batch.map_err(|e| format!("row group {rg}: {}", one_line(e)))?;
        each(&batch);
    }
    Ok(())
}
