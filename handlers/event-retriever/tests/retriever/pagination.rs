//! Property: for random event sets, filters, page sizes and scan budgets, the union of the
//! pages equals the matching set in (timestamp, eventId) order, without duplicates.

use callflow_core::{
    CallEvent, CallId, EventId, EventType, IdempotencySource, Principal, StoredEvent,
};
use proptest::prelude::*;
use time::{Duration, OffsetDateTime};

use crate::common::{Fixture, body_json};

const CALLS: [&str; 3] = ["CA-a", "CA-b", "CA-c"];
const TYPES: [&str; 2] = ["call.ringing", "call.ended"];

fn base() -> OffsetDateTime {
    time::macros::datetime!(2025-06-01 23:59:59.990 UTC)
}

/// (offset in microseconds from `base`, call, type): offsets cluster so many events share
/// a millisecond and the set straddles midnight (two day prefixes).
fn events() -> impl Strategy<Value = Vec<(i64, usize, usize)>> {
    prop::collection::vec(
        (
            prop_oneof![0i64..40, 0i64..40_000],
            0..CALLS.len(),
            0..TYPES.len(),
        ),
        0..30,
    )
}

fn stored(offset_us: i64, call: usize, kind: usize) -> StoredEvent {
    let timestamp = base() + Duration::microseconds(offset_us * 500);
    StoredEvent {
        event_id: EventId::derive(timestamp, IdempotencySource::None).expect("in range"),
        event: CallEvent {
            call_id: CallId::parse(CALLS[call]).expect("call id"),
            event_type: EventType::parse(TYPES[kind]).expect("type"),
            timestamp,
            direction: None,
            from: None,
            to: None,
            sequence: None,
            attributes: None,
            payload: None,
        },
        received_at: timestamp,
        principal: Principal::new("seed").expect("principal"),
    }
}

async fn run_case(
    seed: Vec<(i64, usize, usize)>,
    limit: usize,
    budget: usize,
    call: Option<usize>,
    kind: Option<usize>,
) -> Result<(), TestCaseError> {
    let f = Fixture::with_scan_budget(budget).await;
    let mut all: Vec<StoredEvent> = seed.iter().map(|&(o, c, k)| stored(o, c, k)).collect();
    for e in &all {
        f.events
            .put_new(e)
            .await
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
    let from = base() + Duration::milliseconds(3);
    let to = base() + Duration::seconds(15);
    all.retain(|e| {
        from <= e.event.timestamp
            && e.event.timestamp < to
            && call.is_none_or(|c| e.event.call_id.as_str() == CALLS[c])
            && kind.is_none_or(|k| e.event.event_type.as_str() == TYPES[k])
    });
    all.sort_by_key(StoredEvent::position);
    let expected: Vec<String> = all.iter().map(|e| e.event_id.to_string()).collect();

    let rfc = |t: OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    let (from_s, to_s, limit_s) = (rfc(from), rfc(to), limit.to_string());
    let mut got: Vec<String> = Vec::new();
    let mut token: Option<String> = None;
    for page in 0.. {
        prop_assert!(page <= expected.len() + 40, "pagination does not end");
        let mut params = vec![
            ("from", from_s.as_str()),
            ("to", to_s.as_str()),
            ("limit", limit_s.as_str()),
        ];
        if let Some(c) = call {
            params.push(("callId", CALLS[c]));
        }
        if let Some(k) = kind {
            params.push(("eventType", TYPES[k]));
        }
        if let Some(t) = &token {
            params.push(("nextToken", t.as_str()));
        }
        let resp = f.query(&params).await;
        prop_assert_eq!(resp.status_code, 200);
        let body = body_json(&resp);
        let items = body["items"].as_array().cloned().unwrap_or_default();
        prop_assert!(items.len() <= limit);
        prop_assert_eq!(body["count"].as_u64(), Some(items.len() as u64));
        got.extend(
            items
                .iter()
                .map(|e| e["eventId"].as_str().unwrap_or_default().to_owned()),
        );
        match body["nextToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    prop_assert_eq!(got, expected);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, max_shrink_iters: 50, ..ProptestConfig::default() })]

    #[test]
    fn pages_cover_the_matching_set_in_order_without_duplicates(
        seed in events(),
        limit in 1usize..8,
        budget in prop_oneof![1usize..12, Just(2_000usize)],
        call in prop::option::of(0..CALLS.len()),
        kind in prop::option::of(0..TYPES.len()),
    ) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        rt.block_on(run_case(seed, limit, budget, call, kind))?;
    }
}
