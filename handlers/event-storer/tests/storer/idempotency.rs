//! Retries map to the same id; the conditional PUT keeps exactly one object.

use futures::future::join_all;

use crate::common::{Fixture, body_json, event, post};

#[tokio::test]
async fn the_same_request_twice_leaves_one_object_and_returns_the_original() {
    let f = Fixture::start().await;
    let body = event("CA-3").to_string();
    let headers = [("Idempotency-Key", "order-77")];
    let first = f.storer.handle(post(&body, &headers)).await;
    let second = f.storer.handle(post(&body, &headers)).await;
    assert_eq!(first.status_code, 201);
    assert_eq!(second.status_code, 200, "a replay is 200");
    let (a, b) = (body_json(&first), body_json(&second));
    assert_eq!(a["eventId"], b["eventId"]);
    assert_eq!(
        a["receivedAt"], b["receivedAt"],
        "the original event, not a new one"
    );
    assert_eq!(a["event"], b["event"]);
    assert_eq!(f.keys("events/").await.len(), 1);
    assert_eq!(f.keys("metadata/indexes/").await.len(), 1);
}

#[tokio::test]
async fn call_id_and_sequence_are_an_idempotency_key() {
    let f = Fixture::start().await;
    let mut e = event("CA-4");
    e["sequence"] = 7.into();
    let first = f.storer.handle(post(&e.to_string(), &[])).await;
    let second = f.storer.handle(post(&e.to_string(), &[])).await;
    assert_eq!((first.status_code, second.status_code), (201, 200));
    e["sequence"] = 8.into();
    let third = f.storer.handle(post(&e.to_string(), &[])).await;
    assert_eq!(third.status_code, 201);
    assert_eq!(f.keys("events/").await.len(), 2);
}

#[tokio::test]
async fn fifty_concurrent_duplicates_leave_exactly_one_object() {
    let f = Fixture::start().await;
    let body = event("CA-5").to_string();
    let headers = [("Idempotency-Key", "burst-1")];
    let responses = join_all((0..50).map(|_| f.storer.handle(post(&body, &headers)))).await;
    let created = responses.iter().filter(|r| r.status_code == 201).count();
    let replayed = responses.iter().filter(|r| r.status_code == 200).count();
    assert_eq!((created, replayed), (1, 49));
    let ids: std::collections::BTreeSet<String> = responses
        .iter()
        .map(|r| {
            body_json(r)["eventId"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(f.keys("events/").await.len(), 1);
    assert_eq!(f.keys("metadata/indexes/").await.len(), 1);
}
