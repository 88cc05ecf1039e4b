//! Probes: independent units of checking that run concurrently, each yielding report rows.

use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use futures::stream::{FuturesUnordered, StreamExt};

use crate::check::CheckResult;

type BoxedChecks = Pin<Box<dyn Future<Output = Vec<CheckResult>> + Send>>;

/// A named async unit of work (a few SDK or HTTP calls) that yields one or more check rows.
pub struct Probe {
    label: String,
    future: BoxedChecks,
}

impl std::fmt::Debug for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Probe").field("label", &self.label).finish()
    }
}

impl Probe {
    /// Wraps a future; rows it returns without a duration get the probe's elapsed time.
    pub fn new<F>(label: impl Into<String>, checks: F) -> Self
    where
        F: Future<Output = Vec<CheckResult>> + Send + 'static,
    {
        Self {
            label: label.into(),
            future: Box::pin(async move {
                let started = Instant::now();
                let rows = checks.await;
                let elapsed = started.elapsed();
                rows.into_iter()
                    .map(|r| {
                        if r.duration.is_zero() {
                            r.took(elapsed)
                        } else {
                            r
                        }
                    })
                    .collect()
            }),
        }
    }

    /// The probe's name (shown while it runs).
    pub fn label(&self) -> &str {
        &self.label
    }
}

/// Progress after one probe finished.
#[derive(Debug)]
pub struct Progress<'a> {
    /// Probes finished so far.
    pub done: usize,
    /// Probes in total.
    pub total: usize,
    /// The probe that just finished.
    pub label: &'a str,
    /// Its rows.
    pub rows: &'a [CheckResult],
}

/// Runs every probe concurrently, reporting each as it finishes; rows come back in probe order.
pub async fn run_probes(
    probes: Vec<Probe>,
    mut on_done: impl FnMut(Progress<'_>),
) -> Vec<CheckResult> {
    let total = probes.len();
    let mut labels = Vec::with_capacity(total);
    let mut running = FuturesUnordered::new();
    for (index, probe) in probes.into_iter().enumerate() {
        labels.push(probe.label);
        let future = probe.future;
        running.push(async move { (index, future.await) });
    }
    let mut slots: Vec<Vec<CheckResult>> = vec![Vec::new(); total];
    let mut done = 0;
    while let Some((index, rows)) = running.next().await {
        done += 1;
        on_done(Progress {
            done,
            total,
            label: &labels[index],
            rows: &rows,
        });
        slots[index] = rows;
    }
    slots.into_iter().flatten().collect()
}
