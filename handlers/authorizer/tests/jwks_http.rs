//! JWKS fetched over a real local HTTP server: caching, refetch on unknown kid (at most
//! once per interval), and failing closed when the keys cannot be loaded.

mod common;

use std::time::Duration;

use callflow_authorizer::{Authorizer, AuthorizerError, JwksSource, JwksUrl, TokenIssuer};
use common::*;

fn url_authorizer(url: &str, min_interval: Duration) -> Authorizer {
    let mut config = config(JwksSource::Url(JwksUrl::parse(url).expect("url")));
    config.refetch.min_interval = min_interval;
    config.refetch.retry_when_empty = min_interval;
    config.refetch.timeout = Duration::from_secs(2);
    Authorizer::new(config).expect("authorizer")
}

async fn decide(authorizer: &Authorizer, issuer: &TokenIssuer) -> Result<(), AuthorizerError> {
    let token = issuer.issue("alice", &["events:read"], Duration::from_secs(300));
    authorizer
        .authorize(authorizer_event(
            Some(&format!("Bearer {token}")),
            METHOD_ARN,
        ))
        .await
        .map(|_| ())
}

#[tokio::test]
async fn keys_are_fetched_once_and_cached() {
    let a = ec_issuer();
    let server = JwksServer::start(200, a.jwks_json()).await;
    let authorizer = url_authorizer(&server.url, Duration::from_secs(60));
    authorizer.warm_up().await.expect("warm up");
    for _ in 0..5 {
        decide(&authorizer, &a).await.expect("allowed");
    }
    assert_eq!(server.hits(), 1);
}

/// The cold start's warm-up runs on a task beside the first requests (main.rs): whichever
/// of the two takes the key store's lock first fetches, and the other uses that fetch, in
/// either order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warm_up_racing_the_first_request_fetches_once() {
    for request_first in [false, true] {
        let a = ec_issuer();
        let server = JwksServer::start(200, a.jwks_json()).await;
        let authorizer = std::sync::Arc::new(url_authorizer(&server.url, Duration::from_secs(60)));
        let warm_up = {
            let authorizer = authorizer.clone();
            async move { authorizer.warm_up().await }
        };
        let (warmed, decided) = if request_first {
            let decided = decide(&authorizer, &a).await;
            (tokio::spawn(warm_up).await.expect("task"), decided)
        } else {
            let warming = tokio::spawn(warm_up);
            let decided = decide(&authorizer, &a).await;
            (warming.await.expect("task"), decided)
        };
        assert_eq!(warmed, Ok(()), "request first: {request_first}");
        assert_eq!(decided, Ok(()), "request first: {request_first}");
        assert_eq!(server.hits(), 1, "request first: {request_first}");
    }
}

#[tokio::test]
async fn unknown_kid_refetches_at_most_once_per_interval() {
    let a = ec_issuer();
    let b = ec_issuer();
    let c = ec_issuer();
    let server = JwksServer::start(200, a.jwks_json()).await;
    let authorizer = url_authorizer(&server.url, Duration::from_millis(300));
    decide(&authorizer, &a)
        .await
        .expect("first use loads the keys");
    assert_eq!(server.hits(), 1);

    // The issuer rotates to b; a token signed with b right away is refused without a
    // refetch, because the last fetch was less than an interval ago.
    server.set(200, jwks_json(&[&a.jwks().keys[0], &b.jwks().keys[0]]));
    assert_eq!(
        decide(&authorizer, &b).await,
        Err(AuthorizerError::Unauthorized)
    );
    assert_eq!(server.hits(), 1);

    tokio::time::sleep(Duration::from_millis(400)).await;
    decide(&authorizer, &b)
        .await
        .expect("refetched after the interval");
    assert_eq!(server.hits(), 2);
    decide(&authorizer, &a)
        .await
        .expect("old key still in the set");

    // A kid the issuer never published: one more refetch is not allowed yet.
    assert_eq!(
        decide(&authorizer, &c).await,
        Err(AuthorizerError::Unauthorized)
    );
    assert_eq!(
        decide(&authorizer, &c).await,
        Err(AuthorizerError::Unauthorized)
    );
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn concurrent_unknown_kids_fetch_once() {
    let a = ec_issuer();
    let server = JwksServer::start(200, a.jwks_json()).await;
    let authorizer = std::sync::Arc::new(url_authorizer(&server.url, Duration::from_secs(60)));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (authorizer, token) = (
            authorizer.clone(),
            a.issue("alice", &["events:read"], Duration::from_secs(60)),
        );
        tasks.push(tokio::spawn(async move {
            authorizer
                .authorize(authorizer_event(
                    Some(&format!("Bearer {token}")),
                    METHOD_ARN,
                ))
                .await
                .is_ok()
        }));
    }
    for task in tasks {
        assert!(task.await.expect("task"));
    }
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn fetch_failure_fails_closed() {
    let a = ec_issuer();
    let server = JwksServer::start(500, "oops".into()).await;
    let authorizer = url_authorizer(&server.url, Duration::from_millis(200));
    assert_eq!(
        authorizer.warm_up().await,
        Err(AuthorizerError::KeysUnavailable)
    );
    assert_eq!(
        decide(&authorizer, &a).await,
        Err(AuthorizerError::KeysUnavailable)
    );
    // Within the retry interval the endpoint is not hammered.
    assert_eq!(server.hits(), 1);

    server.set(200, "{\"not\": \"a jwks\"}".into());
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(
        decide(&authorizer, &a).await,
        Err(AuthorizerError::KeysUnavailable)
    );
    assert_eq!(server.hits(), 2);

    server.set(200, a.jwks_json());
    tokio::time::sleep(Duration::from_millis(250)).await;
    decide(&authorizer, &a)
        .await
        .expect("recovers once the endpoint serves keys");
}

#[tokio::test]
async fn unreachable_endpoint_fails_closed() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let authorizer = url_authorizer(&format!("http://{addr}/jwks"), Duration::from_secs(60));
    assert_eq!(
        decide(&authorizer, &ec_issuer()).await,
        Err(AuthorizerError::KeysUnavailable)
    );
}
