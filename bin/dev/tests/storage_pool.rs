//! The handlers' connection pool to the embedded store is bounded: after a burst of
//! concurrent reads the open connections settle at the pool's bound instead of staying at
//! the burst's size (each open connection holds buffers on both ends, in this process).

use std::time::{Duration, Instant};

use callflow_core::{EventId, IdempotencySource};
use callflow_dev::storage::{POOL_MAX_IDLE_PER_ENDPOINT, Storage, StorageChoice};
use callflow_s3store::{FaultPolicy, Operation, RunningStore};
use time::OffsetDateTime;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_burst_leaves_at_most_the_pool_bound_of_connections_open() {
    let dir = tempfile::tempdir().expect("temp dir");
    let storage = Storage::open(
        &StorageChoice::Embedded,
        dir.path(),
        &callflow_core::IndexKey::new(vec![1u8; 32]).expect("index key"),
        callflow_dev::EmbeddedFsync::default(),
    )
    .await
    .expect("embedded store");
    let open = || storage.embedded().map_or(0, RunningStore::open_connections);
    let events = storage.event_store();
    // Slow GETs keep the whole burst in flight at once, each on its own connection.
    storage.embedded().expect("embedded").faults().set(
        Operation::GetObject,
        FaultPolicy::delay(Duration::from_millis(300)),
    );

    let burst = 3 * POOL_MAX_IDLE_PER_ENDPOINT;
    let reads: Vec<_> = (0..burst)
        .map(|_| {
            let events = events.clone();
            tokio::spawn(async move {
                let id = EventId::derive(OffsetDateTime::now_utc(), IdempotencySource::None)
                    .expect("id");
                events.get(&id).await
            })
        })
        .collect();
    let mut peak = 0;
    while !reads.iter().all(|r| r.is_finished()) {
        peak = peak.max(open());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    for read in reads {
        let found = read.await.expect("task").expect("a clean read");
        assert!(found.is_none(), "nothing stored yet");
    }
    assert!(
        peak > POOL_MAX_IDLE_PER_ENDPOINT,
        "the burst opened more connections than the pool keeps (peak {peak})"
    );

    let deadline = Instant::now() + Duration::from_secs(10);
    while open() > POOL_MAX_IDLE_PER_ENDPOINT && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        open() <= POOL_MAX_IDLE_PER_ENDPOINT,
        "{} connections still open after a burst of {burst} (peak {peak}, bound \
         {POOL_MAX_IDLE_PER_ENDPOINT})",
        open()
    );
}
