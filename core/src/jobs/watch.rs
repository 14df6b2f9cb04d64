//! Live monitoring: follows a folder where capture files arrive (SageMaker writes them under
//! `yyyy/mm/dd/hh/`), profiles each file once it is complete into the windows its rows fall in,
//! and closes a window once the clock has passed its end plus a grace period: then the window
//! is judged against the baseline and its outputs and metrics are written.
//!
//! A file is complete when a marker `<file>.done` exists next to it, when its modification time
//! is at least the settle time ago, or when this process has seen its size and modification time
//! unchanged for the settle time (a clock-skewed file system can stamp files in the future). The
//! modification time is what lets `--once` from cron work: each call sees a file only once, so
//! "unchanged since first seen" alone would never let a file settle there.
//!
//! Everything folded is saved after each file in one state file, written atomically, that holds
//! the files done and the open windows together: a restart picks up exactly where the last save left, so no file is counted
//! twice or missed. A file that fails to read is retried when it changes. Rows of a window
//! already closed are counted as late, never folded into a window already reported.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::backend::Backend;
use crate::engine::window::Window;
use crate::engine::{profile_files, FileStamp, ProfilePlan, ProfileSet, Request, Segment, SegmentKey};
use crate::error::{Error, Result};
use crate::judge::baseline::Baseline;
use crate::output::write_atomic;
use crate::time::timeline::{self, WindowReference, WindowResult};

/// How to watch.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// The folder files arrive in.
    pub input: PathBuf,
    /// Where outputs and the state go.
    pub output: PathBuf,
    /// The time column.
    pub time_column: String,
    /// Window length.
    pub window: Window,
    /// How long after a window's end it is closed.
    pub grace: Duration,
    /// How long a file's size and time must stay put for it to count as complete.
    pub settle: Duration,
    /// Time between looks at the folder.
    pub poll: Duration,
    /// Stop after one look (process what is complete, close what is due).
    pub once: bool,
    /// Metrics files: EMF lines appended per closed window, Prometheus text rewritten.
    pub metrics: Option<crate::output::metrics::MetricsOptions>,
    /// Write into the output folder even when it is the baseline folder or holds a baseline.
    pub force: bool,
    /// Say nothing per closed window.
    pub quiet: bool,
    /// The delimiter of CSV files; `None`: sniffed per file.
    pub delimiter: Option<u8>,
    /// Alerts on closed windows, debounced across restarts.
    pub alerts: Option<crate::output::alert::AlertOptions>,
}

/// The name of the state file in the output folder.
pub const STATE: &str = ".driftscope-watch-state.json";

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    /// What the state belongs to: baseline, time column, window.
    key: String,
    /// Files folded, as they were.
    done: Vec<FileStamp>,
    /// Files that failed, as they were, and why (retried when they change).
    failed: Vec<(FileStamp, String)>,
    /// Windows still open.
    open: ProfileSet,
    /// Starts of the windows closed.
    closed: BTreeSet<i64>,
    /// Rows that came for a window already closed.
    late_rows: u64,
    /// Rows without a time.
    untimed_rows: u64,
    /// The rows of windows.csv so far.
    table: Vec<String>,
    /// The alerts' debounce: what has been alerted and not recovered.
    #[serde(default)]
    debounce: crate::output::alert::Debounce,
    /// What alert delivery has done so far.
    #[serde(default)]
    alerts: crate::output::alert::Delivery,
}

/// What one look at the folder did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Pass {
    /// Files folded.
    pub files: usize,
    /// Files that failed.
    pub failed: usize,
    /// Windows closed.
    pub closed: usize,
    /// Windows with violations among them.
    pub with_violations: usize,
    /// Files seen but not complete yet (no marker, written within the settle time).
    pub unsettled: usize,
    /// What alert delivery did in this look.
    pub alerts: crate::output::alert::Delivery,
}

/// A watcher: its options, baseline, backend and state.
pub struct Watcher<'b> {
    opts: WatchOptions,
    base: Baseline,
    names: Vec<String>,
    plan: ProfilePlan,
    backend: &'b dyn Backend,
    state: State,
    /// Files seen but not yet complete: their stamp and since when it has not changed.
    pending: BTreeMap<PathBuf, (FileStamp, Instant)>,
}

impl<'b> Watcher<'b> {
    /// A watcher, resuming from the state in the output folder when there is one.
    ///
    /// # Errors
    /// [`Error::State`] when the output folder holds the state of another watch (another
    /// baseline, time column or window); [`Error::Baseline`] for a bad baseline;
    /// [`Error::OutputInUse`] when the output folder is, or lies in, the baseline folder, or
    /// holds a baseline.
    pub fn new(opts: WatchOptions, base: Baseline, backend: &'b dyn Backend) -> Result<Self> {
        crate::output::folder::check_output(
            &opts.output,
            Some(&base.dir),
            crate::output::folder::Job::Run,
            opts.force,
        )?;
        let key = format!(
            "{}|{}|{}|{}",
            env!("CARGO_PKG_VERSION"),
            std::fs::canonicalize(&base.dir).unwrap_or(base.dir.clone()).display(),
            opts.time_column,
            opts.window
        );
        let path = opts.output.join(STATE);
        let state = match std::fs::read(&path) {
            Ok(bytes) => {
                let body = crate::codec::unseal(&bytes).ok_or_else(|| Error::State {
                    path: path.clone(),
                    message: "damaged watch state (its fingerprint does not match); remove it to start over".into(),
                })?;
                let mut s: State = serde_json::from_slice(body).map_err(|e| Error::State {
                    path: path.clone(),
                    message: format!("unreadable watch state ({}); remove it to start over", crate::error::one_line(e)),
                })?;
                if s.key != key {
                    return Err(Error::State {
                        path,
                        message: "belongs to another watch (baseline, time column or window differ); use another output folder"
                            .into(),
                    });
                }
                s.open.share_whole_edges();
                s
            }
            Err(_) => State { key, ..State::default() },
        };
        let plan = ProfilePlan {
            edges: base.edges().into_iter().map(|(k, e)| (k, e.into())).collect(),
            histogram_only: true,
            segment: SegmentKey::Window { column: opts.time_column.clone(), window: opts.window, limit: usize::MAX },
            ..Default::default()
        };
        // The time column moves from window to window by construction: it is not judged.
        let names: Vec<String> = base.feature_names().into_iter().filter(|n| *n != opts.time_column).collect();
        Ok(Watcher { opts, base, names, plan, backend, state, pending: BTreeMap::new() })
    }

    fn save(&mut self) -> Result<()> {
        let edges = self.state.open.take_segment_edges();
        let bytes = serde_json::to_vec(&self.state);
        self.state.open.put_back_edges(edges);
        let bytes = bytes.map_err(|e| Error::Output { path: STATE.into(), source: std::io::Error::other(e) })?;
        write_atomic(&self.opts.output.join(STATE), &crate::codec::seal(bytes))
    }

    /// Files complete now and not folded yet, in name order, and how many files are waiting to
    /// settle.
    fn complete_files(&mut self) -> (Vec<PathBuf>, usize) {
        let (files, _) = crate::source::scan::data_files(&self.opts.input);
        let now = Instant::now();
        let wall_ns = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let mut ready = Vec::new();
        let mut unsettled = 0;
        // The folder's data files: its `.done` markers, notes and logs are left out.
        for f in files {
            let st = FileStamp::of(&f);
            if self.state.done.iter().any(|d| d.path == st.path) || self.state.failed.iter().any(|(d, _)| *d == st) {
                continue;
            }
            let marker = PathBuf::from(format!("{}.done", f.display())).is_file();
            let since = match self.pending.get(&f) {
                Some((s, t)) if *s == st => *t,
                _ => {
                    self.pending.insert(f.clone(), (st.clone(), now));
                    now
                }
            };
            if marker
                || settled(st.mtime_ns, wall_ns, self.opts.settle)
                || now.duration_since(since) >= self.opts.settle
            {
                ready.push(f);
            } else {
                unsettled += 1;
            }
        }
        (ready, unsettled)
    }

    /// Why file `f` cannot be folded by time: it has no time column. `None` when it has one.
    fn without_time(&self, f: &crate::source::scan::ScannedFile) -> Option<String> {
        let column = &self.opts.time_column;
        let schema = crate::engine::flat_schema(f.schema());
        if schema.index_of(column).is_ok() {
            return None;
        }
        let names: Vec<&str> = schema.fields().iter().take(12).map(|x| x.name().as_str()).collect();
        Some(format!(
            "no column '{column}' (the time of each row); name it with the time column option (columns: {})",
            names.join(", ")
        ))
    }

    /// Folds one complete file into the open windows and saves the state.
    fn fold(&mut self, path: &Path) -> Result<bool> {
        let st = FileStamp::of(path);
        let s = crate::source::scan::scan_with(&[path.display().to_string()], &super::read_as(self.opts.delimiter));
        self.pending.remove(path);
        self.state.failed.retain(|(d, _)| d.path != st.path);
        // A file without the time column would only add rows without a time.
        let without_time = s.files.first().and_then(|f| self.without_time(f));
        let outcome = match (s.files.first(), without_time) {
            (None, _) => Err(s.skipped.first().map_or("unreadable".into(), |k| k.error.clone())),
            (Some(_), Some(why)) => Err(why),
            (Some(_), None) => {
                let pb = crate::engine::progress::Progress::hidden();
                let req = Request { plan: &self.plan, backend: self.backend, progress: &pb, tap: None };
                let o = profile_files(&s.files, &req, None)?;
                match o.skipped.first() {
                    Some(k) => Err(k.error.clone()),
                    None => Ok(o.segments),
                }
            }
        };
        let ok = match outcome {
            Err(e) => {
                eprintln!("driftscope watch: {}: {e} (retried when the file changes)", path.display());
                self.state.failed.push((st, e));
                false
            }
            Ok(set) => {
                for (k, p) in set.segments {
                    match k {
                        Segment::Window(start) if self.state.closed.contains(&start) => self.state.late_rows += p.rows,
                        Segment::Window(_) => {
                            let mut one = ProfileSet::default();
                            one.segments.insert(k, p);
                            self.state.open.merge(&one);
                        }
                        Segment::Untimed => self.state.untimed_rows += p.rows,
                        // watch keys rows by time only.
                        Segment::Whole | Segment::Group(_) | Segment::Other | Segment::GroupWindow(..) => {}
                    }
                }
                self.state.done.push(st);
                true
            }
        };
        self.save()?;
        Ok(ok)
    }

    /// Closes the open windows whose end plus the grace period is past `now_ms`, writing their
    /// outputs; returns what was closed.
    fn close_due(&mut self, now_ms: i64) -> Result<(Vec<WindowResult>, crate::output::alert::Delivery)> {
        let grace = self.opts.grace.as_millis() as i64;
        let due: Vec<i64> = self
            .state
            .open
            .windows()
            .map(|w| w.0)
            .filter(|&s| self.opts.window.end(s).saturating_add(grace) <= now_ms)
            .collect();
        if due.is_empty() {
            return Ok((Vec::new(), Default::default()));
        }
        let mut set = ProfileSet::default();
        for s in &due {
            if let Some(p) = self.state.open.segments.remove(&Segment::Window(*s)) {
                set.segments.insert(Segment::Window(*s), p);
            }
        }
        let results = timeline::evaluate(&self.base, &self.names, &set, &self.opts.window, WindowReference::Baseline)?;
        crate::output::windows::write_folders(&self.opts.output, &self.opts.window, &results)?;
        let table = timeline::table(&results, &set)?;
        self.state.table.extend(crate::output::windows::csv_rows(&table)?);
        crate::output::windows::write_csv(&self.opts.output, &self.state.table)?;
        let mut delivery = crate::output::alert::Delivery::default();
        if let Some(a) = &self.opts.alerts {
            let first = self.state.closed.len();
            let events = crate::output::alert::observe_windows(
                &mut self.state.debounce,
                &results,
                first,
                a.after,
                &[],
                &a.run_folder,
            );
            delivery = crate::output::alert::deliver(a, &events);
            // The state keeps the counts; the lines go to this look's caller.
            self.state.alerts.add(crate::output::alert::Delivery { errors: Vec::new(), ..delivery.clone() });
        }
        if let Some(m) = &self.opts.metrics {
            let points: Vec<crate::output::metrics::Point> = results
                .iter()
                .map(|r| {
                    crate::output::metrics::Point::of(
                        r.end,
                        &r.features,
                        &set.segments[&Segment::Window(r.start)],
                        &r.violations,
                    )
                })
                .collect();
            let alerts = self.opts.alerts.as_ref().map(|_| &self.state.alerts);
            let windows = Some(self.state.closed.len() + results.len());
            crate::output::metrics::write(m, &points, (windows, &[]), alerts, true)?;
        }
        self.state.closed.extend(due);
        self.save()?;
        Ok((results, delivery))
    }

    /// One look at the folder: folds the files complete now, closes the windows due.
    pub fn pass(&mut self) -> Result<Pass> {
        let mut pass = Pass::default();
        let (ready, unsettled) = self.complete_files();
        pass.unsettled = unsettled;
        for f in ready {
            if self.fold(&f)? {
                pass.files += 1;
            } else {
                pass.failed += 1;
            }
        }
        let (closed, alerts) = self.close_due(chrono::Utc::now().timestamp_millis())?;
        pass.alerts = alerts;
        pass.closed = closed.len();
        pass.with_violations = closed.iter().filter(|r| !r.violations.is_empty()).count();
        for r in closed.iter().filter(|_| !self.opts.quiet) {
            eprintln!(
                "driftscope watch: closed {} ({} rows): {} violations",
                crate::engine::window::iso(r.start),
                r.rows,
                r.violations.len()
            );
        }
        Ok(pass)
    }

    /// Late and untimed rows so far.
    pub fn dropped(&self) -> (u64, u64) {
        (self.state.late_rows, self.state.untimed_rows)
    }

    /// Looks at the folder every poll interval until stopped, or once with `once`: then what
    /// that one look did.
    pub fn run(&mut self) -> Result<Pass> {
        loop {
            let started = Instant::now();
            let pass = self.pass()?;
            if self.opts.once {
                return Ok(pass);
            }
            std::thread::sleep(self.opts.poll.saturating_sub(started.elapsed()));
        }
    }
}

/// Whether a file last modified at `mtime_ns` (nanoseconds since the epoch) has settled at
/// `now_ns`: modified at least `settle` ago. A time in the future has not settled.
fn settled(mtime_ns: u128, now_ns: u128, settle: Duration) -> bool {
    mtime_ns > 0 && now_ns >= mtime_ns && now_ns - mtime_ns >= settle.as_nanos()
}

/// A duration that does not read.
#[derive(Debug, thiserror::Error)]
#[error("expected a duration such as 500ms, 30s or 5m, got {0:?}")]
pub struct BadDuration(String);

/// Parses a duration: a whole number and `ms`, `s`, `m` or `h` (`500ms`, `30s`, `5m`).
///
/// # Errors
/// [`BadDuration`] for anything else.
pub fn parse_duration(s: &str) -> std::result::Result<Duration, BadDuration> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: u64 = n.parse().map_err(|_| BadDuration(s.to_string()))?;
    let ms = match unit {
        "ms" => n,
        "s" | "" => n * 1000,
        "m" => n * 60_000,
        "h" => n * 3_600_000,
        _ => return Err(BadDuration(s.to_string())),
    };
    Ok(Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert!(parse_duration("5y").is_err() && parse_duration("x").is_err());
    }

    #[test]
    fn a_file_settles_by_its_modification_time() {
        let s = 1_000_000_000u128;
        let settle = Duration::from_secs(30);
        assert!(settled(100 * s, 130 * s, settle));
        assert!(settled(100 * s, 700 * s, settle));
        assert!(!settled(100 * s, 129 * s, settle));
        // Stamped in the future (clock skew), or with no time at all: not settled by its time.
        assert!(!settled(200 * s, 100 * s, settle));
        assert!(!settled(0, 100 * s, settle));
    }
}
