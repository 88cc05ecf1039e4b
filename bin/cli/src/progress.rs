//! Progress of long-running commands (`verify`, `index backfill`, `soak`): an `indicatif` bar
//! or spinner on a terminal; otherwise no animation, and the milestones go to stderr as plain
//! lines, so CI logs keep them.

use std::borrow::Cow;
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar (known total) or spinner on a terminal; plain log lines elsewhere.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A progress display for `total` steps (a spinner when `None`), drawn only when stderr is
    /// a terminal and `NO_PROGRESS` is unset.
    pub fn new(total: Option<u64>) -> Self {
        let interactive =
            std::io::stderr().is_terminal() && std::env::var_os("NO_PROGRESS").is_none();
        if !interactive {
            return Self { bar: None };
        }
        let bar = match total {
            Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr())
                .with_style(
                    ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {wide_msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                ),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(
                ProgressStyle::with_template("{spinner} {elapsed} {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        bar.enable_steady_tick(Duration::from_millis(120));
        Self { bar: Some(bar) }
    }

    /// Whether a bar is drawn (stderr is a terminal).
    pub fn interactive(&self) -> bool {
        self.bar.is_some()
    }

    /// Moves to `position` with `message` (terminal only).
    pub fn update(&self, position: u64, message: impl Into<Cow<'static, str>>) {
        if let Some(bar) = &self.bar {
            bar.set_position(position);
            bar.set_message(message);
        }
    }

    /// A milestone: above the bar on a terminal, a stderr line otherwise.
    pub fn log(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    /// A milestone shown as the bar's message on a terminal, a stderr line otherwise.
    pub fn status(&self, line: String) {
        match &self.bar {
            Some(bar) => bar.set_message(line),
            None => eprintln!("{line}"),
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
