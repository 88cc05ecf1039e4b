//! Resident memory of a process, from `/proc/PID/status` (Linux).

use std::time::Duration;

/// Resident memory of a server sampled over a run: the evidence for "memory stays flat".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RssTrace {
    /// `(time since the start of the run, VmRSS in KiB)`, in time order; the first sample is
    /// taken at the start and the last at the end of the load.
    pub samples: Vec<(Duration, u64)>,
}

impl RssTrace {
    /// Adds a sample taken `at` after the start.
    pub fn push(&mut self, at: Duration, kib: u64) {
        self.samples.push((at, kib));
    }

    /// The first sample, in KiB.
    pub fn start(&self) -> Option<u64> {
        self.samples.first().map(|s| s.1)
    }

    /// The last sample, in KiB.
    pub fn end(&self) -> Option<u64> {
        self.samples.last().map(|s| s.1)
    }

    /// The largest sample, in KiB.
    pub fn max(&self) -> Option<u64> {
        self.samples.iter().map(|s| s.1).max()
    }

    /// The last sample taken at or before `at` (the RSS once warm-up is over), in KiB.
    pub fn at(&self, at: Duration) -> Option<u64> {
        self.samples
            .iter()
            .take_while(|s| s.0 <= at)
            .last()
            .map(|s| s.1)
    }

    /// End minus the RSS at `warmup`, in KiB: how much memory grew while load continued after
    /// the caches, pools and allocator arenas had filled. `None` when the run was shorter.
    pub fn growth_after(&self, warmup: Duration) -> Option<i64> {
        let last = self.samples.last()?;
        if last.0 <= warmup {
            return None;
        }
        let base = self.at(warmup)?;
        Some(i64::try_from(last.1).ok()? - i64::try_from(base).ok()?)
    }

    /// Samples at most every `step` (plus the last), for printing a run as one line.
    pub fn every(&self, step: Duration) -> Vec<(Duration, u64)> {
        let mut out: Vec<(Duration, u64)> = Vec::new();
        for &(at, kib) in &self.samples {
            if out.last().is_none_or(|prev| at >= prev.0 + step) {
                out.push((at, kib));
            }
        }
        if let (Some(last), Some(printed)) = (self.samples.last(), out.last())
            && printed.0 != last.0
        {
            out.push(*last);
        }
        out
    }
}

/// `VmRSS` of process `pid` in KiB, or `None` when it cannot be read.
pub fn resident_set_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_vm_rss(&status)
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_vm_rss() {
        assert_eq!(
            parse_vm_rss("Name:\tx\nVmRSS:\t   12345 kB\nThreads: 3\n"),
            Some(12_345)
        );
        assert_eq!(parse_vm_rss("Name: x\n"), None);
        assert!(resident_set_kib(std::process::id()).is_some_and(|k| k > 0));
    }

    #[test]
    fn trace_reports_growth_after_warm_up() {
        let mut trace = RssTrace::default();
        for (s, kib) in [
            (0, 10_000),
            (5, 14_000),
            (60, 20_000),
            (65, 20_100),
            (120, 20_500),
        ] {
            trace.push(Duration::from_secs(s), kib);
        }
        assert_eq!(trace.start(), Some(10_000));
        assert_eq!(trace.end(), Some(20_500));
        assert_eq!(trace.max(), Some(20_500));
        assert_eq!(trace.growth_after(Duration::from_secs(60)), Some(500));
        assert_eq!(trace.growth_after(Duration::from_secs(120)), None);
        let printed: Vec<u64> = trace
            .every(Duration::from_secs(30))
            .iter()
            .map(|s| s.1)
            .collect();
        assert_eq!(printed, vec![10_000, 20_000, 20_500]);
    }
}
