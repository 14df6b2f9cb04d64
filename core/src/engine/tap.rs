//! Other work fed by the one pass over the inputs: a [`Tap`] sees every batch the engine decodes,
//! with the columns it asks for besides the profile's, so that it needs no read of its own. Model
//! quality scores the predictions this way ([`crate::quality::join::Scoring`]).
//!
//! Row groups are read in parallel: a tap keeps its state per row group (`(file, row group)`)
//! and folds it in that order at the end, as the engine folds profiles, so its result does not
//! depend on the threads. A file that fails part-way is left out of the run; the engine then
//! tells the tap ([`Tap::drop_file`]), after the last of the file's batches.

use arrow_array::RecordBatch;

use crate::backend::Backend;
use crate::engine::window::Window;
use crate::source::scan::ScannedFile;

/// Work fed by the engine's pass, batch by batch.
pub trait Tap: Sync {
    /// The columns of `file` the tap reads besides the profile's: names of its top-level
    /// columns (those the file lacks are left out).
    fn columns(&self, file: &ScannedFile) -> Vec<String>;
    /// One batch of row group `unit.1` of file `unit.0` (`file`), holding the profile's columns
    /// and the tap's. A tap records its own failures and reports them when it is finished.
    fn batch(&self, unit: (usize, usize), file: &ScannedFile, batch: &RecordBatch);
    /// [`Tap::batch`], with the backend the pass folds on, for a tap whose per-value work a GPU
    /// kernel can take (the kernel two-sample test's features); others ignore it.
    fn batch_on(&self, unit: (usize, usize), file: &ScannedFile, batch: &RecordBatch, backend: &dyn Backend) {
        let _ = backend;
        self.batch(unit, file, batch);
    }
    /// File `fi` is left out of the run (a row group failed): the tap forgets what it took from
    /// it.
    fn drop_file(&self, fi: usize);
    /// Forgets everything fed so far, before the files are fed again (a pass that resumed from a
    /// checkpoint did not feed the files it took from it). A tap that is never fed again need
    /// not forget.
    fn reset(&self) {}
}

/// Several taps fed by one pass: each sees every batch, with the columns all of them asked for.
pub struct Taps<'a>(pub Vec<&'a dyn Tap>);

impl Tap for Taps<'_> {
    fn columns(&self, file: &ScannedFile) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for c in self.0.iter().flat_map(|t| t.columns(file)) {
            if !v.contains(&c) {
                v.push(c);
            }
        }
        v
    }
    fn batch(&self, unit: (usize, usize), file: &ScannedFile, batch: &RecordBatch) {
        self.0.iter().for_each(|t| t.batch(unit, file, batch));
    }
    fn batch_on(&self, unit: (usize, usize), file: &ScannedFile, batch: &RecordBatch, backend: &dyn Backend) {
        self.0.iter().for_each(|t| t.batch_on(unit, file, batch, backend));
    }
    fn drop_file(&self, fi: usize) {
        self.0.iter().for_each(|t| t.drop_file(fi));
    }
    fn reset(&self) {
        self.0.iter().for_each(|t| t.reset());
    }
}

/// The windows a tap keys rows by: calendar windows of a time column, or windows of rows in the
/// inputs' order (the first row of each row group known from the files), or of rows in time
/// order.
#[derive(Debug, Clone)]
pub enum Windows {
    /// Calendar windows: the time column and the windows.
    Calendar(String, Window),
    /// Windows of `n` rows: the first row of each (file, row group).
    Rows(u64, Vec<Vec<u64>>),
    /// Windows of rows in time order: each row's window (by its place among all rows; no time:
    /// `u32::MAX`), and the first row of each (file, row group).
    Ranks(std::sync::Arc<[u32]>, Vec<Vec<u64>>),
}

impl Windows {
    /// The column the windows read besides the tap's own (calendar windows' time column).
    pub fn column(&self) -> Option<&str> {
        match self {
            Windows::Calendar(c, _) => Some(c),
            _ => None,
        }
    }

    /// Each row's window of a batch of row group `unit.1` of file `unit.0` (its start, or its
    /// index for windows of rows; `None` for a row without a time). `seen`: the row group's rows
    /// fed before the batch.
    ///
    /// # Errors
    /// Why the time column cannot be read.
    pub fn keys(
        &self,
        unit: (usize, usize),
        batch: &RecordBatch,
        seen: u64,
    ) -> std::result::Result<Option<Vec<Option<i64>>>, String> {
        let len = batch.num_rows() as u64;
        Ok(match self {
            Windows::Calendar(column, w) => {
                crate::engine::window::row_starts(batch, &(column.clone(), *w)).map_err(|e| e.to_string())?
            }
            Windows::Rows(n, _) => {
                let at = self.first_row(unit, seen).unwrap_or(0);
                Some((0..len).map(|i| Some(((at + i) / n) as i64)).collect())
            }
            Windows::Ranks(ranks, _) => {
                let at = self.first_row(unit, seen).unwrap_or(0);
                let rank = |i: u64| ranks.get((at + i) as usize).copied().filter(|r| *r != u32::MAX);
                Some((0..len).map(|i| rank(i).map(i64::from)).collect())
            }
        })
    }

    /// The inputs' place of the first row of a batch (for windows of rows; `None` otherwise).
    pub fn first_row(&self, unit: (usize, usize), seen: u64) -> Option<u64> {
        match self {
            Windows::Rows(_, first) | Windows::Ranks(_, first) => {
                Some(first.get(unit.0).and_then(|f| f.get(unit.1)).copied().unwrap_or(0) + seen)
            }
            Windows::Calendar(..) => None,
        }
    }
}
