//! The smoke checks: authentication is enforced, and one marked event goes through the API.
//!
//! # Smoke events and cleanup policy
//! The API has no DELETE route and the store is append-only, so verify does not delete what it
//! writes. Instead every event it POSTs is marked so readers and audits can exclude it:
//! `eventType` is `custom.callflow_verify.smoke_test`, `callId` is
//! `callflow-verify-<run uuid>`, attributes carry `callflow.smoke_test = "true"` and
//! `callflow.verify_run = <run uuid>`, and `payload` is `{"smokeTest": true}`. One run writes one
//! event (plus at most one more if the API wrongly accepts a read-only token, which is reported).
//! Removing them, if ever wanted, is a storage-side job keyed on that call id prefix.

use std::sync::Arc;
use std::time::Instant;

use callflow_client::{
    EventsQuery, Failure, Reply, StatusCode, TransportError, TransportErrorKind,
};
use callflow_core::wire::StoreResponse;
use callflow_core::{CallId, ErrorCode, EventId};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::ApiClient;
use super::token::BearerToken;
use crate::check::CheckResult;
use crate::probe::Probe;

/// `eventType` of every smoke event.
pub const SMOKE_EVENT_TYPE: &str = "custom.callflow_verify.smoke_test";
/// Prefix of the `callId` of every smoke event.
pub const SMOKE_CALL_ID_PREFIX: &str = "callflow-verify-";

/// What the smoke checks need: the API and the tokens.
#[derive(Clone, Debug)]
pub struct ApiTarget {
    /// Client rooted at the API base URL (including the stage path, if any).
    pub client: ApiClient,
    /// A token with `events:write` and `events:read`.
    pub token: BearerToken,
    /// A token without `events:write` (for the 403 check); `None` fails that check.
    pub read_only_token: Option<BearerToken>,
    /// This run's id (in the smoke event's call id and idempotency key).
    pub run_id: Uuid,
}

impl ApiTarget {
    /// A target with a fresh run id (UUIDv7).
    pub fn new(
        client: ApiClient,
        token: BearerToken,
        read_only_token: Option<BearerToken>,
    ) -> Self {
        Self {
            client,
            token,
            read_only_token,
            run_id: Uuid::now_v7(),
        }
    }
}

/// A smoke event for `run_id`, timestamped `at`.
pub fn smoke_event(run_id: Uuid, at: OffsetDateTime) -> Value {
    json!({
        "callId": smoke_call_id(run_id),
        "eventType": SMOKE_EVENT_TYPE,
        "timestamp": rfc3339(at),
        "direction": "internal",
        "attributes": {
            "callflow.smoke_test": "true",
            "callflow.verify_run": run_id.to_string(),
        },
        "payload": {"smokeTest": true},
    })
}

/// The `callId` of `run_id`'s smoke event.
fn smoke_call_id(run_id: Uuid) -> String {
    format!("{SMOKE_CALL_ID_PREFIX}{run_id}")
}

/// `at` without its fraction of a second.
fn whole_seconds(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(0).unwrap_or(at)
}

fn rfc3339(at: OffsetDateTime) -> String {
    whole_seconds(at).format(&Rfc3339).unwrap_or_default()
}

/// The probes: three authentication checks and the write/read round trip, run concurrently.
pub fn api_probes(target: ApiTarget) -> Vec<Probe> {
    let target = Arc::new(target);
    let now = OffsetDateTime::now_utc();
    let event = smoke_event(target.run_id, now);
    let mut probes = Vec::new();
    let unauthenticated = [
        (
            "no token",
            None,
            "the API accepted a request without a token: attach the TOKEN authorizer to POST /events (security in openapi.yaml) and redeploy",
        ),
        (
            "bad token",
            Some("Bearer callflow-verify-not-a-valid-token".to_owned()),
            "the API accepted an invalid token: the authorizer must reject tokens it cannot verify (check JWT_ISSUER/JWKS_URL of the authorizer function)",
        ),
    ];
    for (what, header, fix) in unauthenticated {
        let (target, event) = (Arc::clone(&target), event.clone());
        probes.push(Probe::new(format!("api {what}"), async move {
            let client = match header {
                Some(value) => target.client.with_authorization(value),
                None => target.client.clone(),
            };
            let check = format!("api POST /events with {what}");
            vec![expect_status(
                &check,
                client.store_event(&event, None).await,
                StatusCode::UNAUTHORIZED,
                fix,
            )]
        }));
    }
    {
        let target = Arc::clone(&target);
        let mut event = smoke_event(target.run_id, now);
        event["callId"] = json!(format!("{SMOKE_CALL_ID_PREFIX}{}-read-only", target.run_id));
        probes.push(Probe::new("api read-only token", async move {
            let check = "api POST /events with a token without events:write";
            let Some(token) = &target.read_only_token else {
                return vec![CheckResult::fail(check, "403 (forbidden)", "not run: no read-only token",
                    "pass --read-only-token, --read-only-token-file or --read-only-token-command (e.g. `callflow token --scope events:read` for callflow dev)")];
            };
            let client = target.client.with_authorization(token.header_value());
            let response = client.store_event(&event, None).await;
            vec![expect_status(check, response, StatusCode::FORBIDDEN,
                "a token without events:write could write: the authorizer's policy must allow POST /events only for the events:write scope")]
        }));
    }
    probes.push(Probe::new("api round trip", round_trip(target, event, now)));
    probes
}

fn expect_status<T>(
    check: &str,
    response: Result<Reply<T>, TransportError>,
    want: StatusCode,
    fix: &str,
) -> CheckResult {
    let expected = status_text(want);
    match response {
        Ok(r) => CheckResult::compare(
            check,
            expected,
            r.summary(),
            r.status() == want.as_u16(),
            fix,
        ),
        Err(e) => CheckResult::fail(
            check,
            expected,
            unreachable(&e),
            "the API is unreachable: check --api-url and the network",
        ),
    }
}

/// A request without an answer, in one line: the request and the error chain, or the timeout.
fn unreachable(e: &TransportError) -> String {
    let TransportError { method, url, kind } = e;
    match kind {
        TransportErrorKind::Connection(chain) => format!("{method} {url}: {chain}"),
        TransportErrorKind::Invalid(why) => format!("{method} {url}: bad request: {why}"),
        TransportErrorKind::Timeout(after) => format!("no answer within {after:?}"),
    }
}

fn status_text(status: StatusCode) -> String {
    format!(
        "{} ({})",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    )
}

/// POST → GET by id → query by callId → re-stamped re-POST (a replay) → another event under
/// the same key (refused), each a timed row.
async fn round_trip(target: Arc<ApiTarget>, event: Value, now: OffsetDateTime) -> Vec<CheckResult> {
    let key = format!("callflow-verify-{}", target.run_id);
    let client = target
        .client
        .with_authorization(target.token.header_value());
    let mut rows = Vec::new();
    let names = [
        "api POST /events (smoke event)",
        "api GET /events/{eventId} (smoke event)",
        "api GET /events?callId= (smoke event)",
        "api POST /events again, re-stamped (idempotent replay)",
        "api POST /events with the same key, another event (refused)",
    ];
    let not_run = |rows: &mut Vec<CheckResult>, from: usize| {
        for name in &names[from..] {
            rows.push(CheckResult::fail(
                *name,
                "runs after the smoke POST",
                "not run: the smoke POST failed",
                "fix the smoke POST first",
            ));
        }
    };

    let started = Instant::now();
    let created = client.store_event(&event, Some(&key)).await;
    let expected = "201 with eventId and the stored event";
    let (event_id, stored) = match created {
        Ok(r) if r.status() == StatusCode::CREATED.as_u16() => match r.result {
            Ok(body) => {
                rows.push(
                    CheckResult::pass(names[0], expected, format!("201 eventId {}", body.event_id))
                        .took(started.elapsed()),
                );
                (body.event_id, body.event.into_owned())
            }
            Err(_) => {
                rows.push(CheckResult::fail(names[0], expected, format!("201 without eventId/event: {}", snippet(&r.exchange.body)),
                    "the storer's response must be {\"eventId\",\"key\",\"receivedAt\",\"event\"} (openapi.yaml StoreResponse)").took(started.elapsed()));
                not_run(&mut rows, 1);
                return rows;
            }
        },
        Ok(r) => {
            rows.push(CheckResult::fail(names[0], expected, format!("{}: {}", r.summary(), snippet(&r.exchange.body)),
                "the write path failed: check the event-storer function's logs and its S3_BUCKET/KMS permissions; 401/403 means the token lacks events:write").took(started.elapsed()));
            not_run(&mut rows, 1);
            return rows;
        }
        Err(e) => {
            rows.push(
                CheckResult::fail(
                    names[0],
                    expected,
                    unreachable(&e),
                    "the API is unreachable: check --api-url",
                )
                .took(started.elapsed()),
            );
            not_run(&mut rows, 1);
            return rows;
        }
    };
    let stored_json = serde_json::to_value(&stored).unwrap_or(Value::Null);

    let started = Instant::now();
    let expected = "200, identical to the stored event";
    rows.push(match client.get_event(&event_id.to_string()).await {
        Ok(r) if r.status() == StatusCode::OK.as_u16() => match (&r.result, r.exchange.json()) {
            (Ok(got), _) if *got == stored => CheckResult::pass(names[1], expected, "200, identical"),
            (Ok(got), _) => differs(names[1], expected, &stored_json, &serde_json::to_value(got).unwrap_or(Value::Null)),
            (Err(_), Some(got)) => differs(names[1], expected, &stored_json, &got),
            (Err(_), None) => CheckResult::fail(names[1], expected, format!("200, not JSON: {}", snippet(&r.exchange.body)), "the retriever must answer JSON"),
        },
        Ok(r) => CheckResult::fail(names[1], expected, r.summary(), "the read path failed: check the event-retriever function's logs and its S3 read permissions"),
        Err(e) => CheckResult::fail(names[1], expected, unreachable(&e), "the API is unreachable"),
    }.took(started.elapsed()));

    let started = Instant::now();
    let expected = format!("200 with eventId {event_id} among the items");
    // The call id sent (valid by construction; the stored one should it not parse).
    let call_id = CallId::parse(&smoke_call_id(target.run_id))
        .unwrap_or_else(|_| stored.event.call_id.clone());
    let query = EventsQuery::new(
        whole_seconds(now - time::Duration::hours(1)),
        whole_seconds(now + time::Duration::hours(1)),
    )
    .with_call_id(call_id);
    rows.push(match client.query_events(&query).await {
        Ok(r) if r.status() == StatusCode::OK.as_u16() => {
            let items = r.result.map(|p| p.items).unwrap_or_default();
            let found = items.iter().any(|i| i.event_id == event_id);
            CheckResult::compare(names[2], expected, format!("200 with {} item(s){}", items.len(), if found { ", including it" } else { ", not including it" }), found,
                "the by-call index does not find the new event: check the storer writes the index entry and the retriever reads it")
        }
        Ok(r) => CheckResult::fail(names[2], expected, format!("{}: {}", r.summary(), snippet(&r.exchange.body)), "the query path failed: check the event-retriever function's logs"),
        Err(e) => CheckResult::fail(names[2], expected, unreachable(&e), "the API is unreachable"),
    }.took(started.elapsed()));

    // A client that builds its event when it sends re-stamps every retry: still a retry.
    let mut restamped = event.clone();
    restamped["timestamp"] = rfc3339(now - time::Duration::seconds(1)).into();
    let started = Instant::now();
    let expected = format!("200 with the same eventId {event_id}");
    rows.push(match client.store_event(&restamped, Some(&key)).await {
        Ok(r) => {
            let id = named_event_id(&r);
            let actual = format!("{} eventId {}", r.summary(), id.map_or_else(|| "(none)".to_owned(), |id| id.to_string()));
            CheckResult::compare(names[3], expected, actual, r.status() == StatusCode::OK.as_u16() && id == Some(event_id),
                "a re-stamped replay with the same Idempotency-Key must return 200 and the first event: check the storer's idempotency records (metadata/idempotency/) and its IAM")
        }
        Err(e) => CheckResult::fail(names[3], expected, unreachable(&e), "the API is unreachable"),
    }.took(started.elapsed()));

    let mut other = event.clone();
    other["eventType"] = "call.ended".into();
    let started = Instant::now();
    let expected = format!("422 idempotency_key_reused naming eventId {event_id}");
    rows.push(match client.store_event(&other, Some(&key)).await {
        Ok(r) => {
            let code = r.error().map(|e| e.code);
            let named = named_event_id(&r);
            let actual = format!("{} code {} eventId {}", r.summary(), code.map_or("(none)", ErrorCode::as_str),
                named.map_or_else(|| "(none)".to_owned(), |id| id.to_string()));
            CheckResult::compare(names[4], expected, actual,
                r.status() == StatusCode::UNPROCESSABLE_ENTITY.as_u16() && code == Some(ErrorCode::IdempotencyKeyReused) && named == Some(event_id),
                "a reused Idempotency-Key with another event must be refused, or a client bug loses data silently: check the storer's fingerprint comparison")
        }
        Err(e) => CheckResult::fail(names[4], expected, unreachable(&e), "the API is unreachable"),
    }.took(started.elapsed()));
    rows
}

/// The event id an answer to a POST names: the stored event's, or the one a conflict is about.
fn named_event_id(reply: &Reply<StoreResponse<'static>>) -> Option<EventId> {
    match &reply.result {
        Ok(body) => Some(body.event_id),
        Err(Failure::Error(e)) => e.event_id,
        Err(Failure::Unexpected { .. }) => None,
    }
}

/// The GET row when the answer is not the stored event, naming the fields that differ.
fn differs(check: &str, expected: &str, stored: &Value, got: &Value) -> CheckResult {
    CheckResult::fail(
        check,
        expected,
        format!("200, differs in {}", differing_fields(stored, got)),
        "GET returned a different event than POST stored: check the retriever's serialization against openapi.yaml's StoredEvent",
    )
}

/// Top-level fields whose values differ (or exist on one side only).
fn differing_fields(want: &Value, got: &Value) -> String {
    let empty = serde_json::Map::new();
    let (w, g) = (
        want.as_object().unwrap_or(&empty),
        got.as_object().unwrap_or(&empty),
    );
    let mut fields: Vec<&str> = w
        .keys()
        .chain(g.keys())
        .filter(|k| w.get(*k) != g.get(*k))
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    fields.dedup();
    if fields.is_empty() {
        "the whole document".to_owned()
    } else {
        fields.join(", ")
    }
}

fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut s: String = text.chars().take(200).collect();
    if text.chars().count() > 200 {
        s.push('…');
    }
    s
}
