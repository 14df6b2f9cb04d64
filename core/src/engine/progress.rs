//! Progress of a long job, as rows done out of rows to do: a bar on stderr (indicatif) behind
//! the `progress` feature, when stderr is a terminal and the job asks for it; nothing otherwise.
//! The library's jobs report to a [`Progress`] whether or not a bar is drawn.

#[cfg(feature = "progress")]
use std::io::IsTerminal;

/// Where a job reports the rows it has done.
#[derive(Debug, Default)]
pub struct Progress {
    #[cfg(feature = "progress")]
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    /// Nothing drawn.
    pub fn hidden() -> Progress {
        Progress::default()
    }

    /// A bar of `total` rows labelled `what`, when `enabled`, stderr is a terminal and the
    /// `progress` feature is on; hidden otherwise.
    pub fn rows(enabled: bool, total: u64, what: &str) -> Progress {
        #[cfg(feature = "progress")]
        {
            use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
            if !enabled || !std::io::stderr().is_terminal() {
                return Progress::hidden();
            }
            let pb = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            pb.set_style(
                ProgressStyle::with_template("{msg} [{bar:30}] {human_pos}/{human_len} rows  {per_sec}  ETA {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            pb.set_message(what.to_string());
            pb.enable_steady_tick(std::time::Duration::from_millis(200));
            Progress { bar: Some(pb) }
        }
        #[cfg(not(feature = "progress"))]
        {
            let _ = (enabled, total, what);
            Progress::hidden()
        }
    }

    /// `n` more rows done.
    pub fn inc(&self, n: u64) {
        #[cfg(feature = "progress")]
        if let Some(b) = &self.bar {
            b.inc(n);
        }
        #[cfg(not(feature = "progress"))]
        let _ = n;
    }

    /// The job is over: the bar is cleared.
    pub fn finish(&self) {
        #[cfg(feature = "progress")]
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
