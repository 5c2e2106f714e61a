//! Showing how an import goes: on a terminal, a progress bar over the
//! file's bytes with the comments written and their rate (indicatif);
//! otherwise (a pipe, a log, CI) one line per stage on standard error.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
    /// Bytes of the file read so far (the reader counts them).
    read: Arc<AtomicU64>,
    started: Instant,
    /// Comments at the last redraw.
    shown: u64,
    quiet: bool,
}

/// Comments between two updates of the bar.
const EVERY: u64 = 500;

impl Progress {
    /// Progress over a file of `total` bytes; `quiet` shows nothing (tests,
    /// the HTTP export).
    pub fn new(total: u64, quiet: bool) -> Progress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:30} {bytes}/{total_bytes} {msg} ({elapsed}, {eta} left)",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        Progress {
            bar,
            read: Arc::new(AtomicU64::new(0)),
            started: Instant::now(),
            shown: 0,
            quiet,
        }
    }

    /// What the reader adds the bytes it reads to.
    pub fn counter(&self) -> Arc<AtomicU64> {
        self.read.clone()
    }

    pub fn stage(&self, what: &str) {
        match &self.bar {
            Some(bar) => bar.set_message(what.to_string()),
            None if !self.quiet => eprintln!(
                "import: {what} (at {:.1} s)",
                self.started.elapsed().as_secs_f64()
            ),
            None => {}
        }
    }

    /// `comments` written so far.
    pub fn tick(&mut self, comments: u64) {
        if comments < self.shown + EVERY {
            return;
        }
        self.shown = comments;
        if let Some(bar) = &self.bar {
            let rate = comments as f64 / self.started.elapsed().as_secs_f64().max(0.001);
            bar.set_position(self.read.load(Ordering::Relaxed));
            bar.set_message(format!("{comments} comments, {rate:.0}/s"));
        }
    }

    /// The end of a run that wrote `comments` in all.
    pub fn done(&self, how: &str, comments: u64) {
        let seconds = self.started.elapsed().as_secs_f64();
        let rate = comments as f64 / seconds.max(0.001);
        match &self.bar {
            Some(bar) => bar.finish_and_clear(),
            None if self.quiet => return,
            None => {}
        }
        eprintln!(
            "import: {how} after {seconds:.1} s ({} bytes read, about {rate:.0} comments/s)",
            self.read.load(Ordering::Relaxed)
        );
    }
}
