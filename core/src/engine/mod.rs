//! The profiling engine: Arrow record batches in, profiles keyed by segment out.
//!
//! ```text
//! Source ──RecordBatch──► Profiler::update ──► Folder::push (backend) ──► apply ──► ProfileSet
//!                         (plan: columns,      one call per batch:          host: text,   {segment →
//!                          roles, edges,       counts, moments, bins,        sketches      DatasetProfile}
//!                          segment key)        sketch values, key counts
//! ```
//!
//! A [`Profiler`] is built from a [`ProfilePlan`] and the schema of the batches it will see. It
//! takes batches from any source ([`Profiler::update`]), hands each to the backend's folder in
//! one call, applies what comes back to the profile of the batch's segment, and gives a
//! [`ProfileSet`] ([`Profiler::finish`]). Every row is in the whole profile; with a
//! [`SegmentKey::Window`] plan it is also in the light profile of its window ([`window`]:
//! calendar windows in a time zone, windows of rows, and the reading of time columns): the rows
//! are grouped by window and each group counted apart in the backend's kernels (the window is a
//! key of the histogram and key-count kernels on both backends). Profile sets merge ([`ProfileSet::merge`]): a row group, a file, a window, a shard on another machine
//! each give one, and merging them in a fixed order gives the same bytes whatever the number of
//! threads.
//!
//! [`files`] drives profilers over Parquet files (row groups in parallel, files folded in
//! order, checkpoints for resumable audits); [`profile_batches`] over batches already in memory.
//! [`auto`] chooses the backend of `--backend auto`; [`ledger`] records each file's fate and
//! [`progress`] the rows done; a [`tap::Tap`] is fed the same batches (model quality scores its
//! rows in the one pass that way).
//!
//! It imports the source, profile and backend stages and the bottom floors; never the judge,
//! the time stage or the output.

pub mod auto;
pub mod files;
pub mod group;
pub mod ledger;
mod profiler;
pub mod progress;
pub mod tap;
mod text;
pub mod window;

pub use files::{profile_files, Checkpoint, FileStamp, Outcome, Request};
pub use group::GroupBy;
pub use profiler::{
    flat_schema, profile_batches, profile_unit, Derived, ProfilePlan, ProfileSet, Profiler, Segment, SegmentKey,
    BATCHES_PER_PROFILER, INPUT_ORDER, PARTITION_TIME,
};
pub use tap::{Tap, Taps};
pub use text::{classify, TextKind};
