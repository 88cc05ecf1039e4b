//! A property over random sequences of (key, body) requests against a model of the contract:
//! at most one event per claim (key of a principal, else call + sequence), a repeat with the
//! same event gets it back whatever its timestamp, another event is refused naming the stored
//! one; every 2xx is readable, every 4xx wrote nothing.

use std::collections::BTreeMap;

use callflow_core::EventId;
use proptest::prelude::*;
use serde_json::json;

use crate::common::{Fixture, body_json, post};

/// One request: an optional key (of three), one of three events, an optional sequence number
/// (of two), and a re-stamp offset in seconds.
#[derive(Debug, Clone)]
struct Step {
    key: Option<u8>,
    event: u8,
    sequence: Option<u8>,
    restamp: u16,
}

fn step() -> impl Strategy<Value = Step> {
    (
        proptest::option::of(0u8..3),
        0u8..3,
        proptest::option::of(0u8..2),
        0u16..3600,
    )
        .prop_map(|(key, event, sequence, restamp)| Step {
            key,
            event,
            sequence,
            restamp,
        })
}

/// What a request claims, per the contract.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Claim {
    Key(u8),
    CallSequence(u8, u8),
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn requests_follow_the_model(steps in proptest::collection::vec(step(), 1..14)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let f = Fixture::start().await;
            // claim → (the event it stores as (event, sequence), its id)
            let mut model: BTreeMap<Claim, ((u8, Option<u8>), String)> = BTreeMap::new();
            let mut created = 0usize;
            for s in &steps {
                let event_type = ["call.ringing", "call.answered", "call.ended"][usize::from(s.event)];
                let mut body = json!({
                    "callId": format!("model-call-{}", s.event),
                    "eventType": event_type,
                    "timestamp": format!("2025-06-01T10:{:02}:{:02}Z", s.restamp / 60, s.restamp % 60),
                });
                if let Some(seq) = s.sequence {
                    body["sequence"] = seq.into();
                }
                let key = s.key.map(|k| format!("model-key-{k}"));
                let headers: Vec<(&str, &str)> =
                    key.iter().map(|k| ("Idempotency-Key", k.as_str())).collect();
                let claim = match (s.key, s.sequence) {
                    (Some(k), _) => Some(Claim::Key(k)),
                    (None, Some(seq)) => Some(Claim::CallSequence(s.event, seq)),
                    (None, None) => None,
                };
                let before = f.keys("").await;
                let resp = f.storer.handle(post(&body.to_string(), &headers)).await;
                let got = body_json(&resp);
                let identity = (s.event, s.sequence);
                match claim.as_ref().and_then(|c| model.get(c)) {
                    None => {
                        prop_assert_eq!(resp.status_code, 201, "{:?}: {}", s, got);
                        created += 1;
                        if let Some(c) = claim {
                            model.insert(c, (identity, got["eventId"].as_str().unwrap_or("").to_owned()));
                        }
                    }
                    Some((stored, id)) if *stored == identity => {
                        prop_assert_eq!(resp.status_code, 200, "{:?}: {}", s, got);
                        prop_assert_eq!(got["eventId"].as_str(), Some(id.as_str()));
                    }
                    Some((_, id)) => {
                        let status = if s.key.is_some() { 422 } else { 409 };
                        prop_assert_eq!(resp.status_code, status, "{:?}: {}", s, got);
                        prop_assert_eq!(got["eventId"].as_str(), Some(id.as_str()));
                        prop_assert_eq!(f.keys("").await, before, "a refusal wrote nothing");
                    }
                }
                if resp.status_code < 300 {
                    let id = EventId::parse(got["eventId"].as_str().unwrap_or("")).unwrap();
                    let stored = f.storer_store().get(&id).await.unwrap();
                    prop_assert!(stored.is_some(), "a 2xx is readable");
                }
            }
            prop_assert_eq!(f.keys("events/").await.len(), created, "one object per 201");
            Ok(())
        })?;
    }
}
