//! Events stored before the by-type index: filtered queries miss them until a backfill of their
//! range writes their entries; the backfill is idempotent, resumable and bounded to its range.

use aws_sdk_s3::Client;
use callflow_core::layout::TYPE_INDEX_PREFIX;
use serde_json::Value;
use time::macros::datetime;

use crate::common::{BUCKET, Fixture, body_json, event, ids};

/// Deletes every by-type entry: the bucket as a deployment before the index left it.
async fn drop_type_index(f: &Fixture, client: &Client) {
    for key in f.store.keys(BUCKET, TYPE_INDEX_PREFIX).await {
        client
            .delete_object()
            .bucket(BUCKET)
            .key(key)
            .send()
            .await
            .expect("delete");
    }
}

async fn failed_ids(f: &Fixture) -> Vec<String> {
    ids(&body_json(
        &f.query(&[
            ("from", "2025-06-01T00:00:00Z"),
            ("to", "2025-06-03T00:00:00Z"),
            ("eventType", "call.failed"),
        ])
        .await,
    ))
}

#[tokio::test]
async fn a_backfill_indexes_its_range_once_and_resumes_after_its_last_event() {
    let f = Fixture::start().await;
    let client = f.store.sdk_client();
    let mut failed = Vec::new();
    // 12 failed calls over two days, and one on the third (outside every range below).
    for i in 0..13 {
        let day = 1 + i / 6;
        let e = event(
            &format!("CA-{i}"),
            "call.failed",
            &format!("2025-06-0{day}T10:{i:02}:00Z"),
        );
        let id: Value = f.post(e).await["eventId"].clone();
        failed.push(id.as_str().unwrap_or_default().to_owned());
    }
    let in_range: Vec<String> = failed[..12].to_vec();
    assert_eq!(
        failed_ids(&f).await,
        in_range,
        "the storer indexes new events"
    );

    drop_type_index(&f, &client).await;
    assert!(
        failed_ids(&f).await.is_empty(),
        "an un-indexed range answers filtered queries from the index only"
    );

    let (from, to) = (
        datetime!(2025-06-01 00:00 UTC),
        datetime!(2025-06-03 00:00 UTC),
    );
    let mut reports = Vec::new();
    let done = f
        .events
        .backfill(from, to, None, |p| reports.push(*p))
        .await
        .expect("backfill");
    assert_eq!(done.events, 12);
    assert_eq!(done.last.map(|id| id.to_string()), in_range.last().cloned());
    assert!(!reports.is_empty(), "progress is reported");
    assert_eq!(failed_ids(&f).await, in_range);
    let entries = f.store.keys(BUCKET, TYPE_INDEX_PREFIX).await;
    assert_eq!(entries.len(), 12, "the third day is outside the range");

    // Again: the same entries, nothing added.
    f.events
        .backfill(from, to, None, |_| {})
        .await
        .expect("backfill");
    assert_eq!(f.store.keys(BUCKET, TYPE_INDEX_PREFIX).await, entries);

    // Resumed after the 8th event (on the second day): only the 4 after it are written.
    drop_type_index(&f, &client).await;
    let resume = callflow_core::EventId::parse(&in_range[7]).expect("id");
    let done = f
        .events
        .backfill(from, to, Some(resume), |_| {})
        .await
        .expect("backfill");
    assert_eq!(done.events, 4);
    assert_eq!(failed_ids(&f).await, in_range[8..].to_vec());
}
