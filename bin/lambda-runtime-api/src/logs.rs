//! Where an environment's output and the platform's `START` / `END` / `REPORT` lines go.

use std::io::Write;
use std::sync::Mutex;

use crate::ids::FunctionName;

/// Which stream of the process a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputStream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
    /// A line of the local Lambda service itself (`START`, `END`, `REPORT`, errors).
    Platform,
}

/// Receives every log line of every function, as CloudWatch Logs would.
pub trait LogSink: Send + Sync {
    /// One line (without its newline).
    fn line(&self, function: &FunctionName, stream: OutputStream, line: &str);
}

/// Writes `[function] line` to the process's stderr, one write per line.
#[derive(Debug, Default, Clone, Copy)]
pub struct StderrLogSink;

impl LogSink for StderrLogSink {
    fn line(&self, function: &FunctionName, _stream: OutputStream, line: &str) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "[{function}] {line}");
    }
}

/// Keeps every line in memory (tests).
#[derive(Debug, Default)]
pub struct MemoryLogSink {
    lines: Mutex<Vec<(FunctionName, OutputStream, String)>>,
}

impl MemoryLogSink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every line so far of `function`.
    pub fn lines_of(&self, function: &FunctionName) -> Vec<String> {
        self.lock()
            .iter()
            .filter(|(f, _, _)| f == function)
            .map(|(_, _, l)| l.clone())
            .collect()
    }

    /// Every line so far, as `[function] line`.
    pub fn all(&self) -> Vec<String> {
        self.lock()
            .iter()
            .map(|(f, _, l)| format!("[{f}] {l}"))
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(FunctionName, OutputStream, String)>> {
        self.lines.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl LogSink for MemoryLogSink {
    fn line(&self, function: &FunctionName, stream: OutputStream, line: &str) {
        self.lock()
            .push((function.clone(), stream, line.to_owned()));
    }
}

impl<T: LogSink + ?Sized> LogSink for std::sync::Arc<T> {
    fn line(&self, function: &FunctionName, stream: OutputStream, line: &str) {
        (**self).line(function, stream, line);
    }
}
