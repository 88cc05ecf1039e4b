//! `GET /events` as a typed query, and the paging that follows `nextToken`.

use std::future::Future;

use callflow_core::StoredEvent;
use callflow_core::model::{CallId, Direction, EventType, PartyAddress};
use callflow_core::query::{DEFAULT_LIMIT, MAX_LIMIT};
use callflow_core::wire::QueryResponse;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::contract::{QueryParam, percent_encode};

/// A page size the API accepts: 1 to [`MAX_LIMIT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PageLimit(usize);

impl PageLimit {
    /// The largest page, [`MAX_LIMIT`] items.
    pub const MAX: PageLimit = PageLimit(MAX_LIMIT);
    /// The page size the API uses when `limit` is absent, [`DEFAULT_LIMIT`] items.
    pub const DEFAULT: PageLimit = PageLimit(DEFAULT_LIMIT);

    /// `n` items, or `None` outside 1..=[`MAX_LIMIT`].
    pub const fn new(n: usize) -> Option<Self> {
        if n >= 1 && n <= MAX_LIMIT {
            Some(Self(n))
        } else {
            None
        }
    }

    /// The number of items.
    pub const fn get(self) -> usize {
        self.0
    }
}

/// One `GET /events` request: events with `from <= timestamp < to` matching every filter given.
/// Unset filters are left out of the query string.
///
/// ```
/// use callflow_client::{EventsQuery, PageLimit};
/// use callflow_core::CallId;
/// use time::macros::datetime;
///
/// let query = EventsQuery {
///     call_id: Some(CallId::parse("call-1").expect("a call id")),
///     limit: Some(PageLimit::MAX),
///     ..EventsQuery::new(datetime!(2026-01-01 0:00 UTC), datetime!(2026-01-02 0:00 UTC))
/// };
/// assert_eq!(
///     query.to_query_string(),
///     "from=2026-01-01T00%3A00%3A00Z&to=2026-01-02T00%3A00%3A00Z&callId=call-1&limit=500"
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct EventsQuery {
    /// Inclusive start.
    pub from: OffsetDateTime,
    /// Exclusive end (at most 31 days after `from`).
    pub to: OffsetDateTime,
    /// Only this call.
    pub call_id: Option<CallId>,
    /// Only this event type.
    pub event_type: Option<EventType>,
    /// Only this direction.
    pub direction: Option<Direction>,
    /// Only events whose `from` is this.
    pub from_number: Option<PartyAddress>,
    /// Only events whose `to` is this.
    pub to_number: Option<PartyAddress>,
    /// Page size; absent: [`PageLimit::DEFAULT`].
    pub limit: Option<PageLimit>,
    /// The previous page's `nextToken` (the other fields must stay as they were).
    pub next_token: Option<String>,
}

impl EventsQuery {
    /// Every event in `from..to`, first page, default size.
    pub fn new(from: OffsetDateTime, to: OffsetDateTime) -> Self {
        Self {
            from,
            to,
            call_id: None,
            event_type: None,
            direction: None,
            from_number: None,
            to_number: None,
            limit: None,
            next_token: None,
        }
    }

    /// The query string (without `?`), parameters in the spec's order, values percent-encoded.
    pub fn to_query_string(&self) -> String {
        let rfc3339 = |t: OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
        let mut pairs: Vec<(QueryParam, String)> = vec![
            (QueryParam::From, rfc3339(self.from)),
            (QueryParam::To, rfc3339(self.to)),
        ];
        let optional = [
            (
                QueryParam::CallId,
                self.call_id.as_ref().map(|v| v.to_string()),
            ),
            (
                QueryParam::EventType,
                self.event_type.as_ref().map(|v| v.to_string()),
            ),
            (QueryParam::Direction, self.direction.map(direction_text)),
            (
                QueryParam::FromNumber,
                self.from_number.as_ref().map(|v| v.to_string()),
            ),
            (
                QueryParam::ToNumber,
                self.to_number.as_ref().map(|v| v.to_string()),
            ),
            (QueryParam::Limit, self.limit.map(|v| v.get().to_string())),
            (QueryParam::NextToken, self.next_token.clone()),
        ];
        pairs.extend(
            optional
                .into_iter()
                .filter_map(|(param, value)| value.map(|v| (param, v))),
        );
        pairs
            .iter()
            .map(|(param, value)| format!("{}={}", param.as_str(), percent_encode(value)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// `inbound`, `outbound` or `internal`, as `Direction` serializes.
fn direction_text(direction: Direction) -> String {
    match serde_json::to_value(direction) {
        Ok(serde_json::Value::String(text)) => text,
        _ => String::new(),
    }
}

/// Why following the pages of a query stopped early.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PagingError<E> {
    /// Fetching a page failed.
    #[error("{0}")]
    Page(E),
    /// The query still had a `nextToken` after this many pages.
    #[error("more than {0} pages")]
    TooManyPages(usize),
}

/// Follows `nextToken` from `first` on: `fetch` gets each page's query (the same filters, the
/// previous page's token) and returns its body; the items of every page are returned in order
/// once a page has no `nextToken`. At most `max_pages` pages are fetched.
///
/// [`crate::Client::query_all`] fetches with single requests; give your own `fetch` to add
/// retries or accounting.
pub async fn follow_pages<E, F, Fut>(
    first: &EventsQuery,
    max_pages: usize,
    mut fetch: F,
) -> Result<Vec<StoredEvent>, PagingError<E>>
where
    F: FnMut(EventsQuery) -> Fut,
    Fut: Future<Output = Result<QueryResponse, E>>,
{
    let mut query = first.clone();
    let mut items = Vec::new();
    for _ in 0..max_pages {
        let page = fetch(query.clone()).await.map_err(PagingError::Page)?;
        items.extend(page.items);
        match page.next_token {
            Some(token) => query.next_token = Some(token),
            None => return Ok(items),
        }
    }
    Err(PagingError::TooManyPages(max_pages))
}

#[cfg(test)]
mod tests {
    use super::*;
    use callflow_core::EventQuery;
    use time::macros::datetime;

    fn percent_decode(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("hex");
                out.push(u8::from_str_radix(hex, 16).expect("hex"));
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn the_handlers_parser_reads_every_field_back() {
        let query = EventsQuery {
            call_id: Some(CallId::parse("CA1:x@pbx").expect("call id")),
            event_type: Some(EventType::parse("custom.acme.survey_done").expect("type")),
            direction: Some(Direction::Outbound),
            from_number: Some(PartyAddress::parse("+14155550100").expect("number")),
            to_number: Some(PartyAddress::parse("sip:agent@pbx.example").expect("sip")),
            limit: Some(PageLimit::MAX),
            next_token: Some("t/+=".to_owned()),
            ..EventsQuery::new(
                datetime!(2026-01-01 0:00:00.5 UTC),
                datetime!(2026-01-02 0:00 UTC),
            )
        };
        let text = query.to_query_string();
        let pairs: Vec<(String, String)> = text
            .split('&')
            .map(|pair| {
                let (k, v) = pair.split_once('=').expect("k=v");
                (percent_decode(k), percent_decode(v))
            })
            .collect();
        let parsed = EventQuery::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(parsed.filter.from, query.from);
        assert_eq!(parsed.filter.to, query.to);
        assert_eq!(parsed.filter.call_id, query.call_id);
        assert_eq!(parsed.filter.event_type, query.event_type);
        assert_eq!(parsed.filter.direction, query.direction);
        assert_eq!(parsed.filter.from_number, query.from_number);
        assert_eq!(parsed.filter.to_number, query.to_number);
        assert_eq!(parsed.limit, MAX_LIMIT);
        assert_eq!(parsed.next_token, query.next_token);
    }

    #[test]
    fn page_limits_are_bounded_like_the_spec() {
        assert_eq!(PageLimit::new(0), None);
        assert_eq!(PageLimit::new(MAX_LIMIT + 1), None);
        assert_eq!(PageLimit::new(MAX_LIMIT), Some(PageLimit::MAX));
        let spec = callflow_openapi::spec_json();
        let limit = spec
            .pointer("/paths/~1events/get/parameters")
            .and_then(serde_json::Value::as_array)
            .and_then(|ps| ps.iter().find(|p| p["name"] == "limit"))
            .map(|p| p["schema"].clone())
            .expect("limit parameter");
        assert_eq!(limit["maximum"], PageLimit::MAX.get());
        assert_eq!(limit["default"], PageLimit::DEFAULT.get());
    }

    #[tokio::test]
    async fn paging_follows_next_token_and_stops() {
        let first = EventsQuery::new(
            datetime!(2026-01-01 0:00 UTC),
            datetime!(2026-01-02 0:00 UTC),
        );
        let mut seen = Vec::new();
        let items = follow_pages(&first, 10, |q| {
            seen.push(q.next_token.clone());
            let next = match q.next_token.as_deref() {
                None => Some("a".to_owned()),
                Some("a") => Some("b".to_owned()),
                _ => None,
            };
            async move {
                Ok::<_, ()>(QueryResponse {
                    items: Vec::new(),
                    count: 0,
                    next_token: next,
                })
            }
        })
        .await;
        assert_eq!(items, Ok(Vec::new()));
        assert_eq!(seen, [None, Some("a".to_owned()), Some("b".to_owned())]);

        let endless = follow_pages(&first, 3, |_| async {
            Ok::<_, ()>(QueryResponse {
                items: Vec::new(),
                count: 0,
                next_token: Some("again".to_owned()),
            })
        })
        .await;
        assert_eq!(endless, Err(PagingError::TooManyPages(3)));
        let failing = follow_pages(&first, 3, |_| async { Err::<QueryResponse, _>("down") }).await;
        assert_eq!(failing, Err(PagingError::Page("down")));
    }
}
