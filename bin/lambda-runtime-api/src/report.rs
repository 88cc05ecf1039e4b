//! Lambda's platform lines of one invocation: `START`, `END` and `REPORT`.

use std::fmt;
use std::time::Duration;

use crate::ids::RequestId;

/// `START RequestId: <id> Version: <version>`.
pub fn start_line(id: &RequestId, version: &str) -> String {
    format!("START RequestId: {id} Version: {version}")
}

/// `END RequestId: <id>`.
pub fn end_line(id: &RequestId) -> String {
    format!("END RequestId: {id}")
}

/// The figures of one invocation's `REPORT` line.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The invocation.
    pub request_id: RequestId,
    /// From handing the event to the runtime until its answer (or the kill).
    pub duration: Duration,
    /// The configured memory in MB.
    pub memory_mb: u32,
    /// The process's peak resident set size in MB (`VmHWM`), when readable.
    pub max_memory_used_mb: Option<u64>,
    /// Start of the process until its first `invocation/next`, on a cold start.
    pub init_duration: Option<Duration>,
    /// `timeout` or `error` when the invocation did not end with a response.
    pub status: Option<&'static str>,
}

impl Report {
    /// Billed duration: the duration rounded up to the millisecond; on a cold start of a
    /// custom runtime (`provided.al2023`) Lambda bills the init phase too.
    pub fn billed(&self) -> Duration {
        let total = self.duration + self.init_duration.unwrap_or_default();
        let ms = total.as_micros().div_ceil(1000);
        Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX))
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        write!(
            f,
            "REPORT RequestId: {}\tDuration: {:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB",
            self.request_id,
            ms(self.duration),
            self.billed().as_millis(),
            self.memory_mb,
            self.max_memory_used_mb.unwrap_or(0),
        )?;
        if let Some(init) = self.init_duration {
            write!(f, "\tInit Duration: {:.2} ms", ms(init))?;
        }
        if let Some(status) = self.status {
            write!(f, "\tStatus: {status}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_line_has_lambdas_fields() {
        let report = Report {
            request_id: RequestId::random(),
            duration: Duration::from_micros(12_340),
            memory_mb: 256,
            max_memory_used_mb: Some(21),
            init_duration: Some(Duration::from_micros(15_500)),
            status: None,
        };
        let line = report.to_string();
        assert!(
            line.contains("\tDuration: 12.34 ms\tBilled Duration: 28 ms"),
            "{line}"
        );
        assert!(
            line.contains("Memory Size: 256 MB\tMax Memory Used: 21 MB"),
            "{line}"
        );
        assert!(line.ends_with("\tInit Duration: 15.50 ms"), "{line}");
        let warm = Report {
            init_duration: None,
            status: Some("timeout"),
            ..report
        };
        assert!(warm.to_string().contains("Billed Duration: 13 ms"));
        assert!(warm.to_string().ends_with("\tStatus: timeout"));
    }
}
