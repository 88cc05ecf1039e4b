//! `GET /events` as a typed query, and the paging that follows `nextToken`.

use std::future::Future;

use callflow_core::model::{CallId, Direction, EventType, PartyAddress};
use callflow_core::query::{DEFAULT_LIMIT, MAX_LIMIT};
use callflow_core::wire::QueryResponse;
use callflow_core::{EventFilter, StoredEvent};
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

/// One `GET /events` request: the handlers' own [`EventFilter`] (events with
/// `from <= timestamp < to` matching every filter given), a page size and the continuation
/// token. Unset filters are left out of the query string.
///
/// ```
/// use callflow_client::{EventsQuery, PageLimit};
/// use callflow_core::CallId;
/// use time::macros::datetime;
///
/// let query = EventsQuery::new(datetime!(2026-01-01 0:00 UTC), datetime!(2026-01-02 0:00 UTC))
///     .with_call_id(CallId::parse("call-1").expect("a call id"))
///     .with_limit(PageLimit::MAX);
/// assert_eq!(
///     query.to_query_string(),
///     "from=2026-01-01T00%3A00%3A00Z&to=2026-01-02T00%3A00%3A00Z&callId=call-1&limit=500"
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct EventsQuery {
    /// What to select (`to` at most 31 days after `from`).
    pub filter: EventFilter,
    /// Page size; absent: [`PageLimit::DEFAULT`].
    pub limit: Option<PageLimit>,
    /// The previous page's `nextToken` (the filter must stay as it was).
    pub next_token: Option<String>,
}

impl EventsQuery {
    /// Every event in `from..to`, first page, default size.
    pub fn new(from: OffsetDateTime, to: OffsetDateTime) -> Self {
        Self {
            filter: EventFilter {
                from,
                to,
                call_id: None,
                event_type: None,
                direction: None,
                from_number: None,
                to_number: None,
            },
            limit: None,
            next_token: None,
        }
    }

    /// Only events of `call_id`.
    pub fn with_call_id(mut self, call_id: CallId) -> Self {
        self.filter.call_id = Some(call_id);
        self
    }

    /// Only events of `event_type`.
    pub fn with_event_type(mut self, event_type: EventType) -> Self {
        self.filter.event_type = Some(event_type);
        self
    }

    /// Only events of `direction`.
    pub fn with_direction(mut self, direction: Direction) -> Self {
        self.filter.direction = Some(direction);
        self
    }

    /// Only events from `number`.
    pub fn with_from_number(mut self, number: PartyAddress) -> Self {
        self.filter.from_number = Some(number);
        self
    }

    /// Only events to `number`.
    pub fn with_to_number(mut self, number: PartyAddress) -> Self {
        self.filter.to_number = Some(number);
        self
    }

    /// Pages of `limit` items.
    pub fn with_limit(mut self, limit: PageLimit) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The page after the one that answered `next_token`.
    pub fn with_next_token(mut self, next_token: String) -> Self {
        self.next_token = Some(next_token);
        self
    }

    /// The query string (without `?`), parameters in the spec's order, values percent-encoded.
    pub fn to_query_string(&self) -> String {
        // Destructured in full: a filter the handlers gain fails to compile here until it is sent.
        let EventFilter {
            from,
            to,
            call_id,
            event_type,
            direction,
            from_number,
            to_number,
        } = &self.filter;
        let rfc3339 = |t: &OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
        let text = |v: &dyn std::fmt::Display| v.to_string();
        let pairs = [
            (QueryParam::From, Some(rfc3339(from))),
            (QueryParam::To, Some(rfc3339(to))),
            (QueryParam::CallId, call_id.as_ref().map(|v| text(v))),
            (QueryParam::EventType, event_type.as_ref().map(|v| text(v))),
            (QueryParam::Direction, direction.map(direction_text)),
            (
                QueryParam::FromNumber,
                from_number.as_ref().map(|v| text(v)),
            ),
            (QueryParam::ToNumber, to_number.as_ref().map(|v| text(v))),
            (QueryParam::Limit, self.limit.map(|v| v.get().to_string())),
            (QueryParam::NextToken, self.next_token.clone()),
        ];
        pairs
            .iter()
            .filter_map(|(param, value)| {
                let value = value.as_ref()?;
                Some(format!("{}={}", param.as_str(), percent_encode(value)))
            })
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
        let query = EventsQuery::new(
            datetime!(2026-01-01 0:00:00.5 UTC),
            datetime!(2026-01-02 0:00 UTC),
        )
        .with_call_id(CallId::parse("CA1:x@pbx").expect("call id"))
        .with_event_type(EventType::parse("custom.acme.survey_done").expect("type"))
        .with_direction(Direction::Outbound)
        .with_from_number(PartyAddress::parse("+14155550100").expect("number"))
        .with_to_number(PartyAddress::parse("sip:agent@pbx.example").expect("sip"))
        .with_limit(PageLimit::MAX)
        .with_next_token("t/+=".to_owned());
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
        assert_eq!(parsed.filter, query.filter);
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
