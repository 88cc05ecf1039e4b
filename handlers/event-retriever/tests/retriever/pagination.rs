//! Property: for random event sets, filters (each query plan: days, by-call, by-type with and
//! without a type), page sizes, read budgets and LIST budgets, the union of the pages equals
//! the matching set in (timestamp, eventId) order, without duplicates.

use callflow_core::{
    CallEvent, CallId, Direction, EventId, EventType, IdempotencySource, PartyAddress, Principal,
    StoredEvent,
};
use proptest::prelude::*;
use time::{Duration, OffsetDateTime};

use crate::common::{Fixture, body_json};

const CALLS: [&str; 3] = ["CA-a", "CA-b", "CA-c"];
const TYPES: [&str; 3] = ["call.ringing", "call.ended", "custom.acme.survey"];
const DIRECTIONS: [Option<Direction>; 3] =
    [None, Some(Direction::Inbound), Some(Direction::Outbound)];
const NUMBERS: [Option<&str>; 3] = [None, Some("+14155550100"), Some("sip:queue@example.com")];

/// One seed event: (offset, call, type, direction, from, to), indexes into the tables above.
type Seed = (i64, usize, usize, usize, usize, usize);

/// A query's filters, as indexes into the tables above.
#[derive(Debug, Clone, Copy)]
struct Filters {
    call: Option<usize>,
    kind: Option<usize>,
    direction: Option<usize>,
    from: Option<usize>,
    to: Option<usize>,
}

fn base() -> OffsetDateTime {
    time::macros::datetime!(2025-06-01 23:59:59.990 UTC)
}

/// (offset in microseconds from `base`, call, type): offsets cluster so many events share
/// a millisecond and the set straddles midnight (two day prefixes).
fn events() -> impl Strategy<Value = Vec<Seed>> {
    prop::collection::vec(
        (
            prop_oneof![0i64..40, 0i64..40_000],
            0..CALLS.len(),
            0..TYPES.len(),
            0..DIRECTIONS.len(),
            0..NUMBERS.len(),
            0..NUMBERS.len(),
        ),
        0..30,
    )
}

fn filters() -> impl Strategy<Value = Filters> {
    (
        prop::option::of(0..CALLS.len()),
        prop::option::of(0..TYPES.len()),
        prop::option::of(1..DIRECTIONS.len()),
        prop::option::of(1..NUMBERS.len()),
        prop::option::of(1..NUMBERS.len()),
    )
        .prop_map(|(call, kind, direction, from, to)| Filters {
            call,
            kind,
            direction,
            from,
            to,
        })
}

fn address(i: usize) -> Option<PartyAddress> {
    NUMBERS[i].map(|n| PartyAddress::parse(n).expect("address"))
}

fn stored((offset_us, call, kind, direction, from, to): Seed) -> StoredEvent {
    let timestamp = base() + Duration::microseconds(offset_us * 500);
    StoredEvent {
        event_id: EventId::derive(timestamp, IdempotencySource::None).expect("in range"),
        event: CallEvent {
            call_id: CallId::parse(CALLS[call]).expect("call id"),
            event_type: EventType::parse(TYPES[kind]).expect("type"),
            timestamp,
            direction: DIRECTIONS[direction],
            from: address(from),
            to: address(to),
            sequence: None,
            attributes: None,
            payload: None,
        },
        received_at: timestamp,
        principal: Principal::new("seed").expect("principal"),
    }
}

async fn run_case(
    seed: Vec<Seed>,
    limit: usize,
    budget: usize,
    list_budget: usize,
    q: Filters,
) -> Result<(), TestCaseError> {
    let f = Fixture::with_budgets(budget, list_budget).await;
    let mut all: Vec<StoredEvent> = seed.iter().map(|&s| stored(s)).collect();
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
            && q.call.is_none_or(|c| e.event.call_id.as_str() == CALLS[c])
            && q.kind
                .is_none_or(|k| e.event.event_type.as_str() == TYPES[k])
            && q.direction
                .is_none_or(|d| e.event.direction == DIRECTIONS[d])
            && q.from.is_none_or(|n| e.event.from == address(n))
            && q.to.is_none_or(|n| e.event.to == address(n))
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
        prop_assert!(page <= expected.len() + 200, "pagination does not end");
        let mut params = vec![
            ("from", from_s.as_str()),
            ("to", to_s.as_str()),
            ("limit", limit_s.as_str()),
        ];
        if let Some(c) = q.call {
            params.push(("callId", CALLS[c]));
        }
        if let Some(k) = q.kind {
            params.push(("eventType", TYPES[k]));
        }
        if let Some(d) = q.direction.and_then(|d| DIRECTIONS[d]) {
            params.push(("direction", d.as_str()));
        }
        if let Some(n) = q.from.and_then(|n| NUMBERS[n]) {
            params.push(("fromNumber", n));
        }
        if let Some(n) = q.to.and_then(|n| NUMBERS[n]) {
            params.push(("toNumber", n));
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
    #![proptest_config(ProptestConfig { cases: 48, max_shrink_iters: 50, ..ProptestConfig::default() })]

    #[test]
    fn pages_cover_the_matching_set_in_order_without_duplicates(
        seed in events(),
        limit in 1usize..8,
        budget in prop_oneof![1usize..12, Just(2_000usize)],
        list_budget in prop_oneof![1usize..6, Just(callflow_core::store::DEFAULT_LIST_BUDGET)],
        q in filters(),
    ) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        rt.block_on(run_case(seed, limit, budget, list_budget, q))?;
    }
}
