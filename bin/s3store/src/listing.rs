//! ListObjectsV2 over an ordered index: prefix, delimiter roll-up into common prefixes, resume
//! point (start-after / continuation token) and page size. Pure over any ordered sequence of
//! entries (the on-disk key index in the store, a `BTreeMap` in these tests).

use std::ops::Bound;

use crate::names::{hex, unhex};

/// Page size when the request gives none, and the most S3 returns per page.
pub(crate) const MAX_KEYS: usize = 1000;

/// What to list.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ListQuery<'a> {
    pub prefix: &'a str,
    pub delimiter: Option<&'a str>,
    /// List only entries (keys or common prefixes) strictly after this one.
    pub resume_after: Option<&'a str>,
    pub max_keys: usize,
}

/// One page of results, in S3 order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListPage<V> {
    pub objects: Vec<V>,
    pub common_prefixes: Vec<String>,
    pub is_truncated: bool,
    /// The last key or common prefix on this page (where the next page resumes).
    pub last_entry: Option<String>,
}

/// An opaque token for the next page: hex of the last entry of the previous page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ContinuationToken(String);

impl ContinuationToken {
    /// The token that resumes after `entry`.
    pub fn after(entry: &str) -> Self {
        Self(hex(entry.as_bytes()))
    }

    /// Parses a token from a request; `None` if it was not made by [`ContinuationToken::after`].
    pub fn parse(token: &str) -> Option<Self> {
        let bytes = unhex(token)?;
        String::from_utf8(bytes)
            .ok()
            .map(|_| Self(token.to_owned()))
    }

    /// The entry this token resumes after.
    pub fn resume_after(&self) -> String {
        unhex(&self.0)
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default()
    }

    /// The token as sent on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The common prefix `key` rolls up into under `prefix` and `delimiter`, if any.
fn rolled_up<'k>(key: &'k str, prefix: &str, delimiter: Option<&str>) -> Option<&'k str> {
    let delimiter = delimiter.filter(|d| !d.is_empty())?;
    let rest = key.get(prefix.len()..)?;
    let at = rest.find(delimiter)?;
    key.get(..prefix.len() + at + delimiter.len())
}

impl<'a> ListQuery<'a> {
    /// Where in key order the listing starts: just after the resume point when it lies at or
    /// after the prefix, else at the prefix itself.
    pub fn start(&self) -> Bound<&'a str> {
        match self.resume_after {
            Some(after) if after >= self.prefix => Bound::Excluded(after),
            _ => Bound::Included(self.prefix),
        }
    }
}

/// Lists one page for `query` from `entries`: the index's `(key, value)` pairs in key order,
/// starting at [`ListQuery::start`]. Reading stops at the first key outside the prefix or once
/// the page is full, so callers can pass a lazy range over any ordered index.
pub(crate) fn list_page<K, V, E>(
    entries: impl IntoIterator<Item = Result<(K, V), E>>,
    query: &ListQuery<'_>,
) -> Result<ListPage<V>, E>
where
    K: AsRef<str>,
{
    let mut page = ListPage {
        objects: Vec::new(),
        common_prefixes: Vec::new(),
        is_truncated: false,
        last_entry: None,
    };
    // Keys under the common prefix the resume point belongs to were returned already (as that
    // prefix), so they are skipped like the keys under a prefix emitted on this page.
    let mut current_prefix: Option<String> = query
        .resume_after
        .and_then(|after| rolled_up(after, query.prefix, query.delimiter))
        .map(str::to_owned);
    let mut count = 0usize;
    for entry in entries {
        let (key, value) = entry?;
        let key = key.as_ref();
        if !key.starts_with(query.prefix) {
            break;
        }
        if current_prefix
            .as_deref()
            .is_some_and(|p| key.starts_with(p))
        {
            continue;
        }
        if count == query.max_keys {
            page.is_truncated = true;
            break;
        }
        count += 1;
        match rolled_up(key, query.prefix, query.delimiter) {
            Some(common) => {
                page.common_prefixes.push(common.to_owned());
                page.last_entry = Some(common.to_owned());
                current_prefix = Some(common.to_owned());
            }
            None => {
                page.objects.push(value);
                page.last_entry = Some(key.to_owned());
            }
        }
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::convert::Infallible;

    use super::*;

    fn index(keys: &[&str]) -> BTreeMap<String, String> {
        keys.iter()
            .map(|k| ((*k).to_owned(), (*k).to_owned()))
            .collect()
    }

    /// The page the store would list for `query` over `index`.
    fn list_page(index: &BTreeMap<String, String>, query: &ListQuery<'_>) -> ListPage<String> {
        let entries = index
            .range::<str, _>((query.start(), Bound::Unbounded))
            .map(|(k, v)| Ok::<_, Infallible>((k, v.clone())));
        match super::list_page(entries, query) {
            Ok(page) => page,
            Err(never) => match never {},
        }
    }

    fn query<'a>(
        prefix: &'a str,
        delimiter: Option<&'a str>,
        after: Option<&'a str>,
        max: usize,
    ) -> ListQuery<'a> {
        ListQuery {
            prefix,
            delimiter,
            resume_after: after,
            max_keys: max,
        }
    }

    #[test]
    fn prefix_and_delimiter_roll_up() {
        let idx = index(&["a/1", "a/2", "b", "c/x/1", "c/y", "d"]);
        let page = list_page(&idx, &query("", Some("/"), None, 1000));
        assert_eq!(page.objects, vec!["b", "d"]);
        assert_eq!(page.common_prefixes, vec!["a/", "c/"]);
        assert!(!page.is_truncated);

        let page = list_page(&idx, &query("c/", Some("/"), None, 1000));
        assert_eq!(page.objects, vec!["c/y"]);
        assert_eq!(page.common_prefixes, vec!["c/x/"]);
    }

    #[test]
    fn pages_resume_after_common_prefixes_without_repeating_them() {
        let idx = index(&["a/1", "a/2", "b", "c/1", "d"]);
        let mut after: Option<String> = None;
        let mut seen = Vec::new();
        loop {
            let page = list_page(&idx, &query("", Some("/"), after.as_deref(), 1));
            seen.extend(page.objects.iter().cloned());
            seen.extend(page.common_prefixes.iter().cloned());
            if !page.is_truncated {
                break;
            }
            after = page.last_entry;
        }
        assert_eq!(seen, vec!["a/", "b", "c/", "d"]);
    }

    #[test]
    fn truncation_is_exact() {
        let idx = index(&["k1", "k2", "k3"]);
        let page = list_page(&idx, &query("", None, None, 3));
        assert!(!page.is_truncated);
        let page = list_page(&idx, &query("", None, None, 2));
        assert!(page.is_truncated);
        assert_eq!(page.last_entry.as_deref(), Some("k2"));
        let page = list_page(&idx, &query("", None, Some("k2"), 2));
        assert_eq!(page.objects, vec!["k3"]);
        assert!(!page.is_truncated);
    }

    #[test]
    fn start_after_before_prefix_is_ignored_and_after_prefix_ends_listing() {
        let idx = index(&["a", "p/1", "p/2", "z"]);
        assert_eq!(
            list_page(&idx, &query("p/", None, Some("a"), 10)).objects,
            vec!["p/1", "p/2"]
        );
        assert!(
            list_page(&idx, &query("p/", None, Some("q"), 10))
                .objects
                .is_empty()
        );
    }

    #[test]
    fn order_is_by_utf8_bytes() {
        let idx = index(&["é", "z", "Z", "a b", "a/b"]);
        let page = list_page(&idx, &query("", None, None, 10));
        assert_eq!(page.objects, vec!["Z", "a b", "a/b", "z", "é"]);
    }

    #[test]
    fn continuation_token_round_trip() {
        let token = ContinuationToken::after("a/ü b");
        let parsed = ContinuationToken::parse(token.as_str());
        assert_eq!(parsed.map(|t| t.resume_after()).as_deref(), Some("a/ü b"));
        assert!(ContinuationToken::parse("not-hex").is_none());
        assert!(ContinuationToken::parse("ff").is_none());
    }
}
