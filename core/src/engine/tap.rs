//! Other work fed by the one pass over the inputs: a [`Tap`] sees every batch the engine decodes,
//! with the columns it asks for besides the profile's, so that it needs no read of its own. Model
//! quality scores the predictions this way ([`crate::quality::join::Scoring`]).
//!
//! Row groups are read in parallel: a tap keeps its state per row group (`(file, row group)`)
//! and folds it in that order at the end, as the engine folds profiles, so its result does not
//! depend on the threads. A file that fails part-way is left out of the run; the engine then
//! tells the tap ([`Tap::drop_file`]), after the last of the file's batches.

use arrow_array::RecordBatch;

use crate::source::scan::ScannedFile;

/// Work fed by the engine's pass, batch by batch.
pub trait Tap: Sync {
    /// The columns of `file` the tap reads besides the profile's: names of its top-level
    /// columns (those the file lacks are left out).
    fn columns(&self, file: &ScannedFile) -> Vec<String>;
    /// One batch of row group `unit.1` of file `unit.0` (`file`), holding the profile's columns
    /// and the tap's. A tap records its own failures and reports them when it is finished.
    fn batch(&self, unit: (usize, usize), file: &ScannedFile, batch: &RecordBatch);
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
    fn drop_file(&self, fi: usize) {
        self.0.iter().for_each(|t| t.drop_file(fi));
    }
    fn reset(&self) {
        self.0.iter().for_each(|t| t.reset());
    }
}
