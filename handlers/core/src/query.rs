//! `GET /events` queries: the time range, filters, page size, and what a token is bound to.

use serde::Serialize;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::error::{ApiError, ErrorCode};
use crate::model::{CallId, Direction, EventType, PartyAddress, StoredEvent};
use crate::token::QueryFingerprint;
use crate::validate::parse_timestamp;

/// Longest allowed `to - from`.
pub const MAX_SPAN: Duration = Duration::days(31);
/// Page size when `limit` is absent.
pub const DEFAULT_LIMIT: usize = 50;
/// Largest page size.
pub const MAX_LIMIT: usize = 500;

const PARAMS: [&str; 9] = [
    "from",
    "to",
    "callId",
    "eventType",
    "direction",
    "fromNumber",
    "toNumber",
    "limit",
    "nextToken",
];

/// What a query selects: events with `from <= timestamp < to` matching every filter given.
#[derive(Debug, Clone, PartialEq)]
pub struct EventFilter {
    /// Inclusive start.
    pub from: OffsetDateTime,
    /// Exclusive end.
    pub to: OffsetDateTime,
    /// Only this call (served from the by-call index).
    pub call_id: Option<CallId>,
    /// Only this event type.
    pub event_type: Option<EventType>,
    /// Only this direction.
    pub direction: Option<Direction>,
    /// Only events whose `from` is this.
    pub from_number: Option<PartyAddress>,
    /// Only events whose `to` is this.
    pub to_number: Option<PartyAddress>,
}

/// A parsed `GET /events` request.
#[derive(Debug, Clone, PartialEq)]
pub struct EventQuery {
    /// What to select.
    pub filter: EventFilter,
    /// Page size (1..=500).
    pub limit: usize,
    /// The `nextToken`, still unchecked (decode it with the filter's fingerprint).
    pub next_token: Option<String>,
}

impl EventQuery {
    /// Parses query-string parameters; every problem is listed in the `invalid_query` message.
    pub fn parse<'a>(
        params: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, ApiError> {
        let mut problems = Vec::new();
        let mut values: std::collections::BTreeMap<&str, &str> = Default::default();
        for (k, v) in params {
            if !PARAMS.contains(&k) {
                problems.push(format!("unknown parameter {k:?}"));
            } else if values.insert(k, v).is_some() {
                problems.push(format!("parameter {k:?} is given more than once"));
            }
        }
        let v = &values;
        let p = &mut problems;
        let from = param(v, p, "from", true, parse_timestamp);
        let to = param(v, p, "to", true, parse_timestamp);
        let call_id = param(v, p, "callId", false, CallId::parse);
        let event_type = param(v, p, "eventType", false, EventType::parse);
        let direction = param(v, p, "direction", false, |s| {
            Direction::parse(s).ok_or_else(|| "must be inbound, outbound or internal".to_owned())
        });
        let from_number = param(v, p, "fromNumber", false, PartyAddress::parse);
        let to_number = param(v, p, "toNumber", false, PartyAddress::parse);
        let limit = param(v, p, "limit", false, |s| match s.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(format!("must be an integer from 1 to {MAX_LIMIT}")),
        })
        .unwrap_or(DEFAULT_LIMIT);
        if let (Some(f), Some(t)) = (from, to) {
            if t <= f {
                problems.push("to must be after from".into());
            } else if t - f > MAX_SPAN {
                problems.push("the range from..to must not exceed 31 days".into());
            }
        }
        match (from, to) {
            (Some(from), Some(to)) if problems.is_empty() => Ok(EventQuery {
                filter: EventFilter {
                    from,
                    to,
                    call_id,
                    event_type,
                    direction,
                    from_number,
                    to_number,
                },
                limit,
                next_token: values.get("nextToken").map(|s| s.to_string()),
            }),
            _ => Err(ApiError::new(ErrorCode::InvalidQuery, problems.join("; "))),
        }
    }
}

/// One parameter: `None` when absent (a problem if `required`) or invalid (a problem).
fn param<T>(
    values: &std::collections::BTreeMap<&str, &str>,
    problems: &mut Vec<String>,
    name: &str,
    required: bool,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Option<T> {
    match values.get(name) {
        None if required => {
            problems.push(format!("{name} is required"));
            None
        }
        None => None,
        Some(v) => parse(v)
            .map_err(|m| problems.push(format!("{name}: {m}")))
            .ok(),
    }
}

impl EventFilter {
    /// Whether a stored event is selected.
    pub fn matches(&self, e: &StoredEvent) -> bool {
        let ev = &e.event;
        self.from <= ev.timestamp
            && ev.timestamp < self.to
            && self.call_id.as_ref().is_none_or(|c| *c == ev.call_id)
            && self.event_type.as_ref().is_none_or(|t| *t == ev.event_type)
            && self.direction.is_none_or(|d| Some(d) == ev.direction)
            && self
                .from_number
                .as_ref()
                .is_none_or(|n| Some(n) == ev.from.as_ref())
            && self
                .to_number
                .as_ref()
                .is_none_or(|n| Some(n) == ev.to.as_ref())
    }

    /// A digest of every filter; continuation tokens are bound to it.
    pub fn fingerprint(&self) -> QueryFingerprint {
        #[derive(Serialize)]
        struct Canonical<'a> {
            from: i128,
            to: i128,
            call_id: Option<&'a str>,
            event_type: Option<&'a str>,
            direction: Option<Direction>,
            from_number: Option<&'a str>,
            to_number: Option<&'a str>,
        }
        let c = Canonical {
            from: self.from.unix_timestamp_nanos(),
            to: self.to.unix_timestamp_nanos(),
            call_id: self.call_id.as_ref().map(CallId::as_str),
            event_type: self.event_type.as_ref().map(EventType::as_str),
            direction: self.direction,
            from_number: self.from_number.as_ref().map(PartyAddress::as_str),
            to_number: self.to_number.as_ref().map(PartyAddress::as_str),
        };
        let json = serde_json::to_vec(&c).unwrap_or_default();
        let digest = Sha256::digest(json);
        let mut out = [0u8; 16];
        out.copy_from_slice(&digest[..16]);
        QueryFingerprint(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &[(&str, &str)]) -> Result<EventQuery, ApiError> {
        EventQuery::parse(q.iter().copied())
    }

    const RANGE: [(&str, &str); 2] = [
        ("from", "2025-01-01T00:00:00Z"),
        ("to", "2025-01-02T00:00:00Z"),
    ];

    #[test]
    fn defaults_and_filters() {
        let q = parse(&RANGE).unwrap();
        assert_eq!(q.limit, DEFAULT_LIMIT);
        let mut p = RANGE.to_vec();
        p.extend([
            ("callId", "CA1"),
            ("direction", "outbound"),
            ("limit", "500"),
            ("fromNumber", "+14155550100"),
        ]);
        let q = parse(&p).unwrap();
        assert_eq!(q.filter.call_id.unwrap().as_str(), "CA1");
        assert_eq!(q.filter.direction, Some(Direction::Outbound));
        assert_eq!(q.filter.from_number.unwrap().as_str(), "+14155550100");
        assert_eq!(q.limit, 500);
    }

    #[test]
    fn invalid_queries_list_every_problem() {
        type Case<'a> = (Vec<(&'a str, &'a str)>, Vec<&'a str>);
        let table: Vec<Case> = vec![
            (vec![], vec!["from is required", "to is required"]),
            (
                vec![
                    ("from", "2025-01-02T00:00:00Z"),
                    ("to", "2025-01-01T00:00:00Z"),
                ],
                vec!["to must be after from"],
            ),
            (
                vec![
                    ("from", "2025-01-01T00:00:00Z"),
                    ("to", "2025-02-01T00:00:01Z"),
                ],
                vec!["31 days"],
            ),
            (
                vec![
                    ("from", "x"),
                    ("to", "2025-01-01T00:00:00Z"),
                    ("limit", "0"),
                    ("callid", "a"),
                    ("direction", "up"),
                ],
                vec![
                    "from: must be",
                    "limit: must be",
                    "unknown parameter \"callid\"",
                    "direction:",
                ],
            ),
            (
                [
                    RANGE.to_vec(),
                    vec![("limit", "501"), ("eventType", "nope")],
                ]
                .concat(),
                vec!["limit: must be", "eventType:"],
            ),
        ];
        for (params, expected) in table {
            let err = parse(&params).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidQuery);
            for e in expected {
                assert!(
                    err.message.contains(e),
                    "{:?}: {:?} lacks {e:?}",
                    params,
                    err.message
                );
            }
        }
    }

    #[test]
    fn fingerprint_depends_on_every_filter() {
        let base = parse(&RANGE).unwrap().filter;
        let mut seen = vec![base.fingerprint()];
        for extra in [
            ("callId", "a"),
            ("eventType", "call.ended"),
            ("direction", "inbound"),
            ("fromNumber", "+1234"),
            ("toNumber", "+1234"),
        ] {
            let mut p = RANGE.to_vec();
            p.push(extra);
            let f = parse(&p).unwrap().filter.fingerprint();
            assert!(!seen.contains(&f), "{extra:?}");
            seen.push(f);
        }
        let limit_only = parse(&[RANGE[0], RANGE[1], ("limit", "3")])
            .unwrap()
            .filter
            .fingerprint();
        assert_eq!(
            limit_only,
            base.fingerprint(),
            "the page size may change between pages"
        );
    }
}
