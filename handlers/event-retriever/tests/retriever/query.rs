//! `GET /events`: filters, which objects a query touches, tokens, bad queries.

use callflow_s3store::Operation;
use serde_json::Value;

use crate::common::{Fixture, body_json, event, ids};

#[tokio::test]
async fn a_call_query_touches_only_that_calls_objects() {
    let f = Fixture::start().await;
    let mut mine = Vec::new();
    for (i, ts) in [
        "2025-06-01T10:00:03Z",
        "2025-06-01T10:00:01Z",
        "2025-06-02T09:00:00Z",
    ]
    .iter()
    .enumerate()
    {
        let t = if i == 0 {
            "call.answered"
        } else {
            "call.ringing"
        };
        mine.push(
            f.post(event("CA-mine", t, ts)).await["eventId"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    for i in 0..5 {
        f.post(event(
            "CA-other",
            "call.ringing",
            &format!("2025-06-01T10:00:0{i}Z"),
        ))
        .await;
    }
    let log = f.store.request_log();
    log.clear();
    let resp = f
        .query(&[
            ("from", "2025-06-01T00:00:00Z"),
            ("to", "2025-06-03T00:00:00Z"),
            ("callId", "CA-mine"),
        ])
        .await;
    assert_eq!(resp.status_code, 200, "{:?}", resp.body);
    let body = body_json(&resp);
    assert_eq!(body["count"], 3);
    assert_eq!(
        ids(&body),
        vec![mine[1].clone(), mine[0].clone(), mine[2].clone()],
        "timestamp order"
    );
    assert!(body.get("nextToken").is_none());
    for r in log.snapshot() {
        let target = r.target.unwrap_or_default();
        match r.operation {
            Operation::ListObjectsV2 => assert_eq!(target, "metadata/indexes/by-call/CA-mine/"),
            Operation::GetObject => assert!(
                mine.iter().any(|id| target.contains(id.as_str())),
                "{target}"
            ),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        log.count(Operation::GetObject),
        3,
        "one GET per matching event"
    );

    // Other filters apply on top of the call.
    let resp = f
        .query(&[
            ("from", "2025-06-01T00:00:00Z"),
            ("to", "2025-06-03T00:00:00Z"),
            ("callId", "CA-mine"),
            ("eventType", "call.ringing"),
        ])
        .await;
    assert_eq!(
        ids(&body_json(&resp)),
        vec![mine[1].clone(), mine[2].clone()]
    );
}

#[tokio::test]
async fn a_date_range_lists_only_its_days() {
    let f = Fixture::start().await;
    for day in ["01", "02", "03", "05"] {
        f.post(event(
            "CA-d",
            "call.ended",
            &format!("2025-06-{day}T12:00:00Z"),
        ))
        .await;
    }
    let log = f.store.request_log();
    log.clear();
    let resp = f
        .query(&[
            ("from", "2025-06-02T00:00:00Z"),
            ("to", "2025-06-04T00:00:00Z"),
        ])
        .await;
    let body = body_json(&resp);
    assert_eq!(body["count"], 2);
    let listed: Vec<String> = log
        .snapshot()
        .into_iter()
        .filter(|r| r.operation == Operation::ListObjectsV2)
        .filter_map(|r| r.target)
        .collect();
    assert_eq!(listed, vec!["events/2025/06/02/", "events/2025/06/03/"]);
    assert_eq!(log.count(Operation::GetObject), 2);
}

#[tokio::test]
async fn attribute_filters() {
    let f = Fixture::start().await;
    let mut a = event("CA-f", "call.initiated", "2025-06-01T10:00:00Z");
    a["direction"] = "outbound".into();
    a["to"] = "sip:bob@example.com".into();
    let a = f.post(a).await["eventId"].clone();
    let b = f
        .post(event("CA-f", "call.initiated", "2025-06-01T10:00:01Z"))
        .await["eventId"]
        .clone();
    let range = [
        ("from", "2025-06-01T00:00:00Z"),
        ("to", "2025-06-02T00:00:00Z"),
    ];
    let cases: [(&str, &str, &Value); 3] = [
        ("direction", "outbound", &a),
        ("toNumber", "sip:bob@example.com", &a),
        ("toNumber", "+14155550199", &b),
    ];
    for (k, v, expected) in cases {
        let body = body_json(&f.query(&[range[0], range[1], (k, v)]).await);
        assert_eq!(
            ids(&body),
            vec![expected.as_str().unwrap_or_default().to_owned()],
            "{k}={v}"
        );
    }
    let body = body_json(
        &f.query(&[
            range[0],
            range[1],
            ("fromNumber", "+14155550100"),
            ("eventType", "call.initiated"),
        ])
        .await,
    );
    assert_eq!(body["count"], 2);
}

#[tokio::test]
async fn tampered_or_foreign_tokens_are_400_invalid_token() {
    let f = Fixture::start().await;
    for s in 0..3 {
        f.post(event(
            "CA-t",
            "call.held",
            &format!("2025-06-01T10:00:0{s}Z"),
        ))
        .await;
    }
    let range = [
        ("from", "2025-06-01T00:00:00Z"),
        ("to", "2025-06-02T00:00:00Z"),
    ];
    let first = body_json(&f.query(&[range[0], range[1], ("limit", "1")]).await);
    let token = first["nextToken"]
        .as_str()
        .expect("a next token")
        .to_owned();

    let mut flipped = token.clone().into_bytes();
    flipped[3] = if flipped[3] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).expect("ascii");
    let forged = {
        let other = callflow_core::TokenSigner::new(b"another-key-another-key-another-k".to_vec());
        let fp = callflow_core::EventQuery::parse(range.iter().copied())
            .expect("query")
            .filter
            .fingerprint();
        other.encode(
            callflow_core::Position {
                timestamp: time::OffsetDateTime::UNIX_EPOCH,
                event_id: callflow_core::EventId::parse(
                    first["items"][0]["eventId"].as_str().unwrap_or_default(),
                )
                .expect("id"),
            },
            fp,
        )
    };
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![range[0], range[1], ("nextToken", &flipped)],
            "tampered",
        ),
        (
            vec![range[0], range[1], ("nextToken", &forged)],
            "signed with another key",
        ),
        (
            vec![range[0], range[1], ("nextToken", "garbage")],
            "garbage",
        ),
        (
            vec![
                range[0],
                range[1],
                ("nextToken", &token),
                ("callId", "CA-t"),
            ],
            "other filters",
        ),
        (
            vec![
                ("from", "2025-06-01T00:00:01Z"),
                range[1],
                ("nextToken", &token),
            ],
            "other range",
        ),
    ];
    for (params, why) in cases {
        let resp = f.query(&params).await;
        assert_eq!(resp.status_code, 400, "{why}");
        assert_eq!(body_json(&resp)["code"], "invalid_token", "{why}");
    }
    // The untouched token still works, and a different page size is allowed.
    let resp = f
        .query(&[range[0], range[1], ("limit", "5"), ("nextToken", &token)])
        .await;
    assert_eq!(resp.status_code, 200);
    assert_eq!(body_json(&resp)["count"], 2);
}

#[tokio::test]
async fn bad_queries_are_400_invalid_query() {
    let f = Fixture::start().await;
    for params in [
        vec![],
        vec![("from", "2025-06-01T00:00:00Z")],
        vec![
            ("from", "2025-06-01T00:00:00Z"),
            ("to", "2025-08-01T00:00:00Z"),
        ],
        vec![
            ("from", "2025-06-01T00:00:00Z"),
            ("to", "2025-06-02T00:00:00Z"),
            ("limit", "501"),
        ],
        vec![
            ("from", "2025-06-01T00:00:00Z"),
            ("to", "2025-06-02T00:00:00Z"),
            ("direction", "sideways"),
        ],
    ] {
        let log = f.store.request_log();
        log.clear();
        let resp = f.query(&params).await;
        assert_eq!(resp.status_code, 400, "{params:?}");
        assert_eq!(body_json(&resp)["code"], "invalid_query");
        assert!(log.snapshot().is_empty(), "no S3 request for a bad query");
    }
}

#[tokio::test]
async fn a_first_page_lists_about_a_page_of_keys_however_long_the_call() {
    let f = Fixture::start().await;
    for i in 0..120 {
        let ts = format!("2025-06-01T10:{:02}:{:02}Z", i / 60, i % 60);
        f.post(event("CA-long", "call.ringing", &ts)).await;
    }
    let log = f.store.request_log();
    log.clear();
    let resp = f
        .query(&[
            ("from", "2025-06-01T00:00:00Z"),
            ("to", "2025-06-02T00:00:00Z"),
            ("callId", "CA-long"),
            ("limit", "5"),
        ])
        .await;
    assert_eq!(resp.status_code, 200, "{:?}", resp.body);
    let body = body_json(&resp);
    assert_eq!(body["count"], 5);
    assert!(body.get("nextToken").is_some(), "more pages follow");
    let listed: Vec<usize> = log
        .snapshot()
        .iter()
        .filter(|r| r.operation == Operation::ListObjectsV2)
        .map(|r| r.keys_listed.unwrap_or(usize::MAX))
        .collect();
    // A page of 5 needs 6 candidates; batches are at least 8. Listing all 120 index keys (the
    // S3 default of up to 1000 per page) would make every query's cost grow with its call.
    assert!(
        !listed.is_empty() && listed.iter().sum::<usize>() <= 16,
        "keys listed per ListObjectsV2: {listed:?}"
    );
    assert!(log.count(Operation::GetObject) <= 8, "one batch of GETs");
}

/// A filter without a call is answered from the by-type index: the query lists that index and
/// reads only the events that match, however many others the day holds.
#[tokio::test]
async fn filtered_queries_read_only_their_matches() {
    let f = Fixture::start().await;
    let mut rare = Vec::new();
    for i in 0..60 {
        let (kind, from) = match i % 20 {
            0 => ("call.failed", "+14155550111"),
            _ if i % 2 == 0 => ("call.ringing", "+14155550100"),
            _ => ("call.ended", "+14155550100"),
        };
        let mut e = event(
            &format!("CA-{}", i % 7),
            kind,
            &format!("2025-06-01T10:00:{:02}.{:03}Z", i / 2, i * 7 % 1000),
        );
        e["from"] = from.into();
        e["direction"] = if i % 3 == 0 { "outbound" } else { "inbound" }.into();
        let id = f.post(e).await["eventId"].clone();
        if kind == "call.failed" {
            rare.push(id.as_str().unwrap_or_default().to_owned());
        }
    }
    let range = [
        ("from", "2025-06-01T00:00:00Z"),
        ("to", "2025-06-02T00:00:00Z"),
    ];
    let log = f.store.request_log();
    for (filter, expected_count) in [
        (("eventType", "call.failed"), 3),
        (("fromNumber", "+14155550111"), 3),
        (("direction", "outbound"), 20),
    ] {
        log.clear();
        let body = body_json(
            &f.query(&[range[0], range[1], filter, ("limit", "500")])
                .await,
        );
        assert_eq!(body["count"], expected_count, "{filter:?}");
        assert_eq!(
            log.count(Operation::GetObject),
            expected_count,
            "{filter:?}: one GET per match, none for the other events"
        );
        let listed: Vec<String> = log
            .snapshot()
            .into_iter()
            .filter(|r| r.operation == Operation::ListObjectsV2)
            .filter_map(|r| r.target)
            .collect();
        assert!(
            listed
                .iter()
                .all(|p| p.starts_with("metadata/indexes/by-type/2025/06/01/")),
            "{filter:?}: {listed:?}"
        );
        if filter.0 == "eventType" {
            assert_eq!(
                listed,
                vec!["metadata/indexes/by-type/2025/06/01/call.failed/"],
                "one type is one listing"
            );
        }
    }
    let body = body_json(
        &f.query(&[range[0], range[1], ("eventType", "call.failed")])
            .await,
    );
    assert_eq!(ids(&body), rare, "in time order");
}
