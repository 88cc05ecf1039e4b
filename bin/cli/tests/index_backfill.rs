//! `callflow index backfill` against a real S3-compatible store, configured the way the
//! handlers are: it indexes events stored without by-type entries, records its progress in the
//! checkpoint file, and a second run with that file does nothing more.

use callflow_core::layout::TYPE_INDEX_PREFIX;
use callflow_core::query::EventFilter;
use callflow_core::{
    BucketName, CallEvent, CallId, EventId, EventStore, EventType, IdempotencySource, IndexKey,
    Principal, StoredEvent,
};
use callflow_s3store::{RunningStore, StoreConfig};
use time::Duration;
use time::macros::datetime;

const BUCKET: &str = "callflow-backfill";
const KEY: &str = "index-key-of-the-backfill-test-32";

fn stored(i: i64) -> StoredEvent {
    let timestamp = datetime!(2025-06-01 08:00 UTC) + Duration::minutes(7 * i);
    StoredEvent {
        event_id: EventId::derive(timestamp, IdempotencySource::None).expect("id"),
        event: CallEvent {
            call_id: CallId::parse(&format!("CA-{i}")).expect("call"),
            event_type: EventType::parse(if i % 2 == 0 {
                "call.ended"
            } else {
                "call.failed"
            })
            .expect("type"),
            timestamp,
            direction: None,
            from: None,
            to: None,
            sequence: None,
            attributes: None,
            payload: None,
        },
        received_at: timestamp,
        principal: Principal::new("legacy").expect("principal"),
    }
}

async fn type_entries(store: &RunningStore) -> Vec<String> {
    store.keys(BUCKET, TYPE_INDEX_PREFIX).await
}

fn backfill(store: &RunningStore, checkpoint: &std::path::Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_callflow"))
        .args([
            "index",
            "backfill",
            "--from",
            "2025-06-01T00:00:00Z",
            "--to",
            "2025-06-02T00:00:00Z",
            "--checkpoint",
        ])
        .arg(checkpoint)
        .env("S3_BUCKET", BUCKET)
        .env("S3_ENDPOINT", store.endpoint())
        .env("S3_FORCE_PATH_STYLE", "true")
        .env("INDEX_HASH_KEY", KEY)
        .env("AWS_ACCESS_KEY_ID", store.access_key())
        .env("AWS_SECRET_ACCESS_KEY", store.secret_key())
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("callflow runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_indexes_legacy_events_and_records_its_progress() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = RunningStore::start(StoreConfig::new(dir.path().join("s3")))
        .await
        .expect("store");
    store.ensure_bucket(BUCKET).await.expect("bucket");
    let events = EventStore::new(
        store.sdk_client(),
        BucketName::parse(BUCKET).expect("bucket"),
        IndexKey::new(KEY.as_bytes().to_vec()).expect("key"),
    );
    // Event objects without by-type entries, as every event stored before the index.
    let legacy: Vec<StoredEvent> = (0..40).map(stored).collect();
    for e in &legacy {
        let key = callflow_core::layout::event_key(&e.event_id);
        store
            .sdk_client()
            .put_object()
            .bucket(BUCKET)
            .key(&key)
            .body(serde_json::to_vec(e).expect("json").into())
            .send()
            .await
            .expect("put");
    }
    let failed = EventFilter {
        from: datetime!(2025-06-01 00:00 UTC),
        to: datetime!(2025-06-02 00:00 UTC),
        call_id: None,
        event_type: EventType::parse("call.failed").ok(),
        direction: None,
        from_number: None,
        to_number: None,
    };
    let count = |page: callflow_core::QueryPage| page.items.len();
    assert_eq!(count(events.query(&failed, None, 500).await.expect("q")), 0);

    let checkpoint = dir.path().join("backfill.json");
    let out = backfill(&store, &checkpoint);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.starts_with("indexed 40 events"), "{stdout}");
    assert!(stderr.contains("40 events indexed, last "), "{stderr}");
    assert_eq!(
        count(events.query(&failed, None, 500).await.expect("q")),
        20
    );
    let entries = type_entries(&store).await;
    assert_eq!(entries.len(), 40);

    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&checkpoint).expect("checkpoint")).expect("json");
    assert_eq!(saved["complete"], true);
    assert_eq!(saved["events"], 40);
    assert_eq!(saved["last"], legacy[39].event_id.to_string());

    // A checkpoint of an interrupted run resumes after its last event.
    let mut interrupted = saved.clone();
    interrupted["complete"] = false.into();
    interrupted["events"] = 30.into();
    interrupted["last"] = legacy[29].event_id.to_string().into();
    std::fs::write(&checkpoint, interrupted.to_string()).expect("write");
    let out = backfill(&store, &checkpoint);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("resuming after"), "{stderr}");
    assert!(
        stdout.starts_with("indexed 40 events"),
        "30 before + 10 now: {stdout}"
    );
    assert_eq!(type_entries(&store).await, entries, "idempotent");

    // A checkpoint of another range is refused, naming both.
    let mut other = saved;
    other["from"] = "2025-05-01T00:00:00Z".into();
    std::fs::write(&checkpoint, other.to_string()).expect("write");
    let out = backfill(&store, &checkpoint);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not this one"), "{stderr}");
}
