//! Timestamps outside the acceptance window around receipt are refused, naming the window;
//! a retry of an event accepted earlier still gets it back.

use callflow_core::AcceptanceWindow;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::common::{Fixture, body_json, event, post};

fn at(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).expect("format")
}

fn event_at(call: &str, timestamp: &str) -> serde_json::Value {
    let mut e = event(call);
    e["timestamp"] = timestamp.into();
    e
}

#[tokio::test]
async fn an_unset_clock_and_a_mistyped_year_are_refused_and_nothing_is_stored() {
    let f = Fixture::start_with_window(AcceptanceWindow::default()).await;
    for (timestamp, side) in [
        ("1970-01-01T00:00:00Z", "before"),
        ("2099-01-01T00:00:00Z", "after"),
    ] {
        let resp = f
            .storer
            .handle(post(&event_at("CA-W", timestamp).to_string(), &[]))
            .await;
        assert_eq!(resp.status_code, 422, "{timestamp}: {:?}", resp.body);
        let err = body_json(&resp);
        assert_eq!(err["code"], "timestamp_out_of_window");
        let message = err["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("from 14 days before to 5 minutes after receipt"),
            "{message}"
        );
        assert!(message.contains(side), "{message}");
        assert_eq!(err["details"][0]["path"], "$.timestamp");
    }
    assert!(f.keys("").await.is_empty(), "nothing was written");
}

#[tokio::test]
async fn the_window_edges_follow_the_configuration() {
    let window = AcceptanceWindow {
        max_age: std::time::Duration::from_secs(3600),
        max_future: std::time::Duration::from_secs(60),
    };
    let f = Fixture::start_with_window(window).await;
    let now = OffsetDateTime::now_utc();
    let cases = [
        (now - time::Duration::minutes(59), 201),
        (now + time::Duration::seconds(30), 201),
        (now - time::Duration::minutes(61), 422),
        (now + time::Duration::minutes(2), 422),
    ];
    for (i, (t, status)) in cases.into_iter().enumerate() {
        let resp = f
            .storer
            .handle(post(
                &event_at(&format!("CA-E{i}"), &at(t)).to_string(),
                &[],
            ))
            .await;
        assert_eq!(resp.status_code, status, "{}: {:?}", at(t), resp.body);
    }
    assert_eq!(f.keys("events/").await.len(), 2);
}

#[tokio::test]
async fn a_retry_of_an_accepted_event_outside_the_window_gets_it_back() {
    let f = Fixture::start_with_window(AcceptanceWindow::default()).await;
    let now = OffsetDateTime::now_utc();
    let headers = [("Idempotency-Key", "late-retry")];
    let first = f
        .storer
        .handle(post(&event_at("CA-L", &at(now)).to_string(), &headers))
        .await;
    assert_eq!(first.status_code, 201, "{:?}", first.body);
    // The client re-stamps its retry with a broken clock: still the same event.
    let retry = f
        .storer
        .handle(post(
            &event_at("CA-L", "1970-01-01T00:00:00Z").to_string(),
            &headers,
        ))
        .await;
    assert_eq!(retry.status_code, 200, "{:?}", retry.body);
    assert_eq!(body_json(&retry)["eventId"], body_json(&first)["eventId"]);
    // Another event under the same key outside the window: refused for the window, nothing new.
    let other = f
        .storer
        .handle(post(
            &event_at("CA-OTHER", "1970-01-01T00:00:00Z").to_string(),
            &headers,
        ))
        .await;
    assert_eq!(other.status_code, 422);
    assert_eq!(f.keys("events/").await.len(), 1);
}
