//! Latency samples and their percentiles, in an HDR histogram: bounded memory however long a
//! soak runs (a fixed ~190 KiB of counters per operation, where keeping every sample grew by
//! 8 bytes a request), and percentiles exact to 3 significant digits from 1 µs to an hour.

use std::time::Duration;

use hdrhistogram::Histogram;

/// Significant decimal digits kept: every recorded value is within 0.1 % of the true one.
const SIGNIFICANT_DIGITS: u8 = 3;
/// The largest latency recorded as itself; longer ones are recorded as this (an hour).
const HIGHEST_MICROS: u64 = 3_600_000_000;

/// Collects latencies of one operation.
#[derive(Debug, Clone)]
pub struct LatencyRecorder {
    micros: Histogram<u64>,
}

impl Default for LatencyRecorder {
    fn default() -> Self {
        Self {
            // The bounds are constants that hdrhistogram accepts: low 1 ≤ high/2, digits ≤ 5.
            micros: Histogram::new_with_bounds(1, HIGHEST_MICROS, SIGNIFICANT_DIGITS)
                .unwrap_or_else(|e| unreachable!("constant histogram bounds: {e}")),
        }
    }
}

/// Percentiles of a set of latencies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LatencySummary {
    /// Samples.
    pub count: usize,
    /// Median.
    pub p50: Duration,
    /// 95th percentile.
    pub p95: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// 99.9th percentile.
    pub p999: Duration,
    /// Largest.
    pub max: Duration,
}

impl LatencyRecorder {
    /// Adds one sample (below 1 µs counts as 1 µs, above an hour as an hour).
    pub fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros())
            .unwrap_or(u64::MAX)
            .clamp(1, HIGHEST_MICROS);
        self.micros.saturating_record(micros);
    }

    /// Adds every sample of `other`.
    pub fn merge(&mut self, other: &LatencyRecorder) {
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.micros.add(&other.micros);
    }

    /// The percentiles of the samples so far.
    pub fn summary(&self) -> LatencySummary {
        let h = &self.micros;
        if h.is_empty() {
            return LatencySummary::default();
        }
        let at = |q: f64| Duration::from_micros(h.value_at_quantile(q));
        LatencySummary {
            count: usize::try_from(h.len()).unwrap_or(usize::MAX),
            p50: at(0.50),
            p95: at(0.95),
            p99: at(0.99),
            p999: at(0.999),
            max: Duration::from_micros(h.max()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Within the histogram's precision (0.1 %) of `expected`.
    fn close(actual: Duration, expected: Duration) -> bool {
        let (a, e) = (actual.as_secs_f64(), expected.as_secs_f64());
        (a - e).abs() <= e * 0.001 + 1e-6
    }

    #[test]
    fn percentiles_of_a_known_distribution() {
        let mut r = LatencyRecorder::default();
        assert_eq!(r.summary(), LatencySummary::default());
        for ms in 1..=100 {
            r.record(Duration::from_millis(ms));
        }
        let s = r.summary();
        assert_eq!(s.count, 100);
        assert!(close(s.p50, Duration::from_millis(50)), "{s:?}");
        assert!(close(s.p95, Duration::from_millis(95)), "{s:?}");
        assert!(close(s.p99, Duration::from_millis(99)), "{s:?}");
        assert!(close(s.max, Duration::from_millis(100)), "{s:?}");
    }

    #[test]
    fn a_long_run_keeps_bounded_memory_and_its_rare_outliers() {
        let mut r = LatencyRecorder::default();
        r.record(Duration::from_millis(1));
        let counters = r.micros.distinct_values();
        // A million fast samples and 0.05 % slow ones: p99.9 must see the slow tail.
        for i in 0..1_000_000u64 {
            let latency = if i % 2000 < 1 {
                Duration::from_millis(900)
            } else {
                Duration::from_micros(800 + i % 400)
            };
            r.record(latency);
        }
        let s = r.summary();
        assert_eq!(s.count, 1_000_001);
        assert!(s.p99 < Duration::from_millis(2), "{s:?}");
        assert!(close(s.max, Duration::from_millis(900)), "{s:?}");
        // The counters are allocated once for the whole range: a million samples add none.
        assert_eq!(r.micros.distinct_values(), counters);
        assert!(counters * 8 < 256 * 1024, "{counters} counters");
    }

    #[test]
    fn merging_combines_samples() {
        let (mut a, mut b) = (LatencyRecorder::default(), LatencyRecorder::default());
        a.record(Duration::from_millis(1));
        b.record(Duration::from_millis(3));
        b.record(Duration::from_secs(7200)); // past the range: recorded as an hour
        a.merge(&b);
        let s = a.summary();
        assert_eq!(s.count, 3);
        assert!(close(s.max, Duration::from_secs(3600)), "{s:?}");
    }
}
