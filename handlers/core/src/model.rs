//! The call-flow event model: typed fields of an event and the stored event.
//!
//! Modelled on telephony events such as Twilio call status callbacks, Amazon Connect contact
//! events and SIP dialog state changes. Values are parsed once at the boundary into these types
//! (see [`crate::validate`]); the stored JSON is the camelCase `StoredEvent` shape of openapi/openapi.yaml.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::id::EventId;

/// Maximum length of a call id, in characters.
pub const CALL_ID_MAX_LEN: usize = 128;
/// Maximum length of an event type, in characters.
pub const EVENT_TYPE_MAX_LEN: usize = 128;
/// Maximum length of a `from`/`to` address, in characters.
pub const ADDRESS_MAX_LEN: usize = 256;
/// Maximum number of attributes.
pub const ATTRIBUTES_MAX_ENTRIES: usize = 32;
/// Maximum length of an attribute key, in characters.
pub const ATTRIBUTE_KEY_MAX_LEN: usize = 64;
/// Maximum length of an attribute value, in characters.
pub const ATTRIBUTE_VALUE_MAX_LEN: usize = 512;
/// Maximum size of the serialized `payload`, in bytes.
pub const PAYLOAD_MAX_BYTES: usize = 16 * 1024;

/// The standard event types, in the order of the contract.
pub const STANDARD_EVENT_TYPES: [&str; 17] = [
    "call.initiated",
    "call.ringing",
    "call.answered",
    "call.held",
    "call.resumed",
    "call.transferred",
    "call.dtmf",
    "call.recording.started",
    "call.recording.stopped",
    "ivr.node.entered",
    "ivr.node.exited",
    "queue.entered",
    "queue.left",
    "agent.connected",
    "agent.disconnected",
    "call.ended",
    "call.failed",
];

/// Declares a string newtype that can only be built through `parse`.
macro_rules! checked_string {
    ($(#[$doc:meta])* $name:ident, $check:path) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses the value, explaining the rule it breaks on failure.
            pub fn parse(value: &str) -> Result<Self, String> {
                $check(value).map(|()| Self(value.to_owned()))
            }

            /// The value as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(value: String) -> Result<Self, String> {
                $check(&value).map(|()| Self(value))
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

checked_string!(
    /// A call (dialog/contact) id: 1..=128 characters of `[A-Za-z0-9._:@-]`.
    CallId,
    check_call_id
);
checked_string!(
    /// An event type: a standard type or `custom.<ns>.<name>` (lowercase `[a-z0-9_]` segments).
    EventType,
    check_event_type
);
checked_string!(
    /// A party address: an E.164 number (`+14155550100`) or a SIP URI (`sip:alice@example.com`).
    PartyAddress,
    check_party_address
);

fn check_call_id(v: &str) -> Result<(), String> {
    if v.is_empty() {
        return Err("must not be empty".into());
    }
    if v.chars().count() > CALL_ID_MAX_LEN {
        return Err(format!("must be at most {CALL_ID_MAX_LEN} characters"));
    }
    if let Some(c) = v
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '@' | '-')))
    {
        return Err(format!(
            "contains {c:?}; allowed characters are A-Z a-z 0-9 . _ : @ -"
        ));
    }
    Ok(())
}

fn check_event_type(v: &str) -> Result<(), String> {
    if STANDARD_EVENT_TYPES.contains(&v) {
        return Ok(());
    }
    let help = "must be a standard event type or custom.<namespace>.<name> with lowercase [a-z0-9_] segments";
    if v.chars().count() > EVENT_TYPE_MAX_LEN {
        return Err(format!("must be at most {EVENT_TYPE_MAX_LEN} characters"));
    }
    let segments: Vec<&str> = v.split('.').collect();
    let segment_ok = |s: &&str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    if segments.len() == 3 && segments[0] == "custom" && segments[1..].iter().all(segment_ok) {
        Ok(())
    } else {
        Err(format!("{v:?} is unknown; {help}"))
    }
}

fn check_party_address(v: &str) -> Result<(), String> {
    if v.chars().count() > ADDRESS_MAX_LEN {
        return Err(format!("must be at most {ADDRESS_MAX_LEN} characters"));
    }
    if let Some(digits) = v.strip_prefix('+') {
        let ok = (2..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        return if ok {
            Ok(())
        } else {
            Err("an E.164 number is + and 2 to 15 digits, not starting with 0".into())
        };
    }
    let rest = v.strip_prefix("sip:").or_else(|| v.strip_prefix("sips:"));
    match rest {
        Some(r) if !r.is_empty() && !r.chars().any(|c| c.is_whitespace() || c.is_control()) => {
            Ok(())
        }
        Some(_) => Err("a SIP URI needs a non-empty user/host part without spaces".into()),
        None => Err("must be an E.164 number (+14155550100) or a SIP URI (sip:...)".into()),
    }
}

/// Which way the call goes, from the platform's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// From the outside world into the platform.
    Inbound,
    /// From the platform to the outside world.
    Outbound,
    /// Between parties of the platform.
    Internal,
}

impl Direction {
    /// Parses `inbound | outbound | internal`.
    pub fn parse(v: &str) -> Option<Self> {
        match v {
            "inbound" => Some(Direction::Inbound),
            "outbound" => Some(Direction::Outbound),
            "internal" => Some(Direction::Internal),
            _ => None,
        }
    }

    /// The wire form, `inbound | outbound | internal`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
            Direction::Internal => "internal",
        }
    }
}

/// A validated call-flow event as a client submits it (the body of `POST /events`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallEvent {
    /// The call this event belongs to.
    pub call_id: CallId,
    /// What happened.
    pub event_type: EventType,
    /// When it happened (normalized to UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    /// Direction of the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    /// Calling party.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<PartyAddress>,
    /// Called party.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<PartyAddress>,
    /// Per-call ordering number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
    /// Free-form string attributes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<BTreeMap<String, String>>,
    /// Free-form JSON payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<serde_json::Value>,
}

/// The authenticated caller (the authorizer's `sub`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Principal(String);

impl Principal {
    /// Wraps a non-empty subject; `None` when empty.
    pub fn new(sub: impl Into<String>) -> Option<Self> {
        let sub = sub.into();
        (!sub.is_empty()).then_some(Self(sub))
    }

    /// The subject.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An event as stored and returned: the client's event plus server-set fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredEvent {
    /// Server-assigned UUIDv7, derived from the timestamp.
    pub event_id: EventId,
    /// The client's event.
    #[serde(flatten)]
    pub event: CallEvent,
    /// When the service accepted it.
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// Who submitted it.
    pub principal: Principal,
}

impl StoredEvent {
    /// Its place in query order: timestamp, then event id.
    pub fn position(&self) -> crate::token::Position {
        crate::token::Position {
            timestamp: self.event.timestamp,
            event_id: self.event_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types() {
        for ok in ["call.answered", "custom.acme.survey_done", "custom.a1.b_2"] {
            assert!(EventType::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "call.unknown",
            "custom.acme",
            "custom.Acme.x",
            "custom.acme.x.y",
            "custom..x",
            "",
        ] {
            assert!(EventType::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn party_addresses() {
        for ok in [
            "+14155550100",
            "sip:alice@example.com",
            "sips:bob@10.0.0.1:5061",
        ] {
            assert!(PartyAddress::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["14155550100", "+0123", "+1", "sip:", "sip:a b", "tel:+1415"] {
            assert!(PartyAddress::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn call_ids() {
        assert!(CallId::parse("CA1234:abc@host-1.x_y").is_ok());
        assert!(CallId::parse("").is_err());
        assert!(CallId::parse("a/b").is_err());
        assert!(CallId::parse(&"a".repeat(129)).is_err());
    }
}
