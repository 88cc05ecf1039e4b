//! The decision log line and the stack's denial metric filter agree.
//!
//! The stack counts authorizer denials with a CloudWatch Logs JSON filter
//! (`callflow_stack::callflow::AUTHORIZER_DENIAL_PATTERN`) over the lines the Lambda
//! writes through [`json_log_subscriber`]. These tests install that same subscriber (with
//! the Lambda's default level) on an in-memory buffer, run real decisions, and evaluate
//! the pattern itself on the captured lines: changing either the log fields or the
//! pattern fails here. They also check that no token ever reaches the log.

mod common;

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use callflow_authorizer::{
    Authorizer, AuthorizerError, DEFAULT_LOG_LEVEL, TokenFingerprint, json_log_subscriber,
};
use callflow_stack::callflow::AUTHORIZER_DENIAL_PATTERN;
use common::*;
use serde_json::Value;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// An in-memory log sink shared between the subscriber and the test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().expect("lock").clone()).expect("utf-8 logs")
    }

    fn lines(&self) -> Vec<Value> {
        self.text()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect()
    }
}

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// One `($.a.b = "value")` term of a CloudWatch Logs JSON filter pattern.
#[derive(Debug, PartialEq)]
struct Equality {
    path: Vec<String>,
    value: String,
}

/// A JSON filter pattern of equality terms joined by `||`: the only shape this
/// evaluator supports. Anything else fails loudly, so a richer pattern gets a richer
/// evaluator rather than a silently wrong one.
#[derive(Debug)]
struct DenialPattern(Vec<Equality>);

impl DenialPattern {
    fn parse(pattern: &str) -> Self {
        let body = pattern
            .trim()
            .strip_prefix('{')
            .and_then(|p| p.strip_suffix('}'))
            .unwrap_or_else(|| panic!("not a JSON filter pattern: {pattern}"));
        assert!(
            !body.contains("&&"),
            "pattern uses && which this test does not evaluate: {pattern}"
        );
        let terms = body
            .split("||")
            .map(|term| {
                let term = term.trim();
                let inner = term
                    .strip_prefix('(')
                    .and_then(|t| t.strip_suffix(')'))
                    .unwrap_or(term)
                    .trim();
                let (selector, value) = inner
                    .split_once('=')
                    .unwrap_or_else(|| panic!("term without `=`: {term}"));
                let selector = selector.trim();
                assert!(
                    !selector.ends_with(['!', '<', '>']),
                    "only `=` terms are evaluated: {term}"
                );
                let path = selector
                    .strip_prefix("$.")
                    .unwrap_or_else(|| panic!("selector not rooted at $.: {term}"))
                    .split('.')
                    .map(str::to_owned)
                    .collect();
                let value = value.trim();
                let value = value
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or_else(|| panic!("only quoted string values are evaluated: {term}"));
                assert!(!value.contains('*'), "wildcards are not evaluated: {term}");
                Equality {
                    path,
                    value: value.to_owned(),
                }
            })
            .collect();
        Self(terms)
    }

    /// Whether a log line matches, as CloudWatch Logs would evaluate it.
    fn matches(&self, line: &Value) -> bool {
        self.0.iter().any(|term| {
            term.path
                .iter()
                .try_fold(line, |node, key| node.get(key))
                .and_then(Value::as_str)
                == Some(term.value.as_str())
        })
    }

    /// The value the line holds at the path the pattern reads (all terms read one path).
    fn selected<'a>(&self, line: &'a Value) -> Option<&'a str> {
        let path = &self.0.first()?.path;
        assert!(
            self.0.iter().all(|t| &t.path == path),
            "terms read different paths"
        );
        path.iter()
            .try_fold(line, |node, key| node.get(key))
            .and_then(Value::as_str)
    }
}

/// Runs one authorizer event with the Lambda's log subscriber installed, returning the
/// result and the decision lines it logged.
async fn decide_logged(
    authorizer: &Authorizer,
    header: &str,
) -> (Result<(), AuthorizerError>, Vec<Value>, String) {
    let captured = Captured::default();
    let subscriber = json_log_subscriber(EnvFilter::new(DEFAULT_LOG_LEVEL), captured.clone());
    let result = {
        let _guard = tracing::subscriber::set_default(subscriber);
        authorizer
            .authorize(authorizer_event(Some(header), METHOD_ARN))
            .await
            .map(|_| ())
    };
    let decisions = captured
        .lines()
        .into_iter()
        .filter(|line| line["fields"]["message"] == "authorizer decision")
        .collect();
    (result, decisions, captured.text())
}

#[tokio::test]
async fn denials_are_counted_by_the_stacks_metric_filter_and_allows_are_not() {
    let pattern = DenialPattern::parse(AUTHORIZER_DENIAL_PATTERN);
    let issuer = ec_issuer();
    let authorizer = inline_authorizer(&[&issuer.jwks().keys[0]]);
    let stranger = ec_issuer();

    let no_api_scope = issuer.issue("bob", &["profile", "email"], Duration::from_secs(300));
    let allowed = issuer.issue("alice", &["events:read"], Duration::from_secs(300));
    let foreign = stranger.issue("mallory", &["events:write"], Duration::from_secs(300));
    let garbage = "eyJub3QiOiJhIGp3dCJ9.Z2FyYmFnZQ.c2lnbmF0dXJl";
    let cases: [(&str, &str, Option<&str>); 4] = [
        // (token, decision expected in the log, metric filter counts it?)
        (&no_api_scope, "deny", Some("deny")),
        (garbage, "unauthorized", Some("unauthorized")),
        (&foreign, "unauthorized", Some("unauthorized")),
        (&allowed, "allow", None),
    ];
    let mut counted = Vec::new();
    for (token, expected, counted_as) in cases {
        let (result, decisions, text) =
            decide_logged(&authorizer, &format!("Bearer {token}")).await;
        match expected {
            "unauthorized" => assert_eq!(result, Err(AuthorizerError::Unauthorized)),
            _ => result.expect("a policy"),
        }
        let [line] = &decisions[..] else {
            panic!("one decision line per event, got {decisions:?}\n{text}");
        };
        assert_eq!(pattern.selected(line), Some(expected), "{line}");
        assert_eq!(
            pattern.matches(line),
            counted_as.is_some(),
            "metric filter {AUTHORIZER_DENIAL_PATTERN} on {line}"
        );
        if let Some(decision) = counted_as {
            counted.push(decision);
        }

        // The token never reaches the log, not even its signature; its fingerprint does.
        assert!(!text.contains(token), "token logged: {text}");
        let signature = token.rsplit('.').next().expect("signature part");
        assert!(!text.contains(signature), "signature logged: {text}");
        assert_eq!(
            line["fields"]["token"],
            TokenFingerprint::of(&format!("Bearer {token}")).to_string()
        );
    }
    assert_eq!(counted, ["deny", "unauthorized", "unauthorized"]);

    // Every value the pattern counts is one the authorizer writes for a denial.
    let mut pattern_values: Vec<&str> = pattern.0.iter().map(|t| t.value.as_str()).collect();
    pattern_values.sort_unstable();
    assert_eq!(pattern_values, ["deny", "unauthorized"]);
}

#[test]
fn the_pattern_evaluator_reads_what_cloudwatch_would() {
    let pattern = DenialPattern::parse(AUTHORIZER_DENIAL_PATTERN);
    let line = |json: &str| serde_json::from_str::<Value>(json).expect("json");
    assert!(pattern.matches(&line(r#"{"fields":{"decision":"deny"}}"#)));
    assert!(pattern.matches(&line(r#"{"fields":{"decision":"unauthorized"}}"#)));
    assert!(!pattern.matches(&line(r#"{"fields":{"decision":"allow"}}"#)));
    // A top-level `decision` (fields flattened) would not be counted.
    assert!(!pattern.matches(&line(r#"{"decision":"deny"}"#)));
}
