//! JWKS over HTTPS against a real local TLS server with a certificate generated in the
//! test: keys load when the certificate is trusted, and every certificate problem
//! (unknown issuer, wrong name) fails closed without a request being served. Also the
//! fetch limits (body cap, timeout, status) through the same client, and the deployed
//! stack's `JWKS_URL` being accepted at cold start.

mod common;

use std::time::Duration;

use callflow_authorizer::{
    Authorizer, AuthorizerConfig, AuthorizerError, FetchError, JwksFetcher, JwksScheme, JwksSource,
    JwksUrl, MAX_JWKS_BYTES, TokenIssuer, TrustAnchors,
};
use common::*;

fn https_authorizer(url: &str, trust: TrustAnchors) -> Authorizer {
    let mut config = config(JwksSource::Url(JwksUrl::parse(url).expect("url")));
    config.trust = trust;
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

fn fetcher(url: &str, trust: TrustAnchors) -> JwksFetcher {
    JwksFetcher::new(JwksUrl::parse(url).expect("url"), &trust).expect("fetcher")
}

fn transport_message(result: Result<impl std::fmt::Debug, FetchError>) -> String {
    match result {
        Err(FetchError::Transport { message, .. }) => message,
        other => panic!("expected a transport error, got {other:?}"),
    }
}

#[tokio::test]
async fn keys_load_over_https_from_a_trusted_server() {
    let identity = TlsIdentity::self_signed(&["127.0.0.1"]);
    let a = ec_issuer();
    let server = JwksServer::start_https(200, a.jwks_json(), &identity).await;
    assert!(server.url.starts_with("https://127.0.0.1:"));
    let authorizer = https_authorizer(
        &server.url,
        TrustAnchors::Only(vec![identity.certificate.clone()]),
    );
    authorizer.warm_up().await.expect("warm up over https");
    for _ in 0..3 {
        decide(&authorizer, &a).await.expect("allowed");
    }
    assert_eq!(server.hits(), 1);

    // Rotation over https: an unknown kid refetches (interval 0 here).
    let mut config = config(JwksSource::Url(JwksUrl::parse(&server.url).expect("url")));
    config.trust = TrustAnchors::Only(vec![identity.certificate.clone()]);
    config.refetch.min_interval = Duration::ZERO;
    let rotating = Authorizer::new(config).expect("authorizer");
    decide(&rotating, &a).await.expect("first load");
    let b = ec_issuer();
    server.set(200, jwks_json(&[&a.jwks().keys[0], &b.jwks().keys[0]]));
    decide(&rotating, &b)
        .await
        .expect("refetched for the new kid");
    assert_eq!(server.hits(), 3);
}

#[tokio::test]
async fn untrusted_certificate_fails_closed() {
    let identity = TlsIdentity::self_signed(&["127.0.0.1"]);
    let a = ec_issuer();
    let server = JwksServer::start_https(200, a.jwks_json(), &identity).await;

    // The platform's CA bundle (the production default) does not contain it...
    let authorizer = https_authorizer(&server.url, TrustAnchors::Native);
    assert_eq!(
        authorizer.warm_up().await,
        Err(AuthorizerError::KeysUnavailable)
    );
    assert_eq!(
        decide(&authorizer, &a).await,
        Err(AuthorizerError::KeysUnavailable)
    );
    // ...nor does a store holding some other certificate.
    let other = TlsIdentity::self_signed(&["127.0.0.1"]);
    let authorizer = https_authorizer(&server.url, TrustAnchors::Only(vec![other.certificate]));
    assert_eq!(
        decide(&authorizer, &a).await,
        Err(AuthorizerError::KeysUnavailable)
    );

    // The client did connect, refused the certificate, and never sent a request.
    assert!(server.connections() >= 2, "{}", server.connections());
    assert_eq!(server.hits(), 0);
    let message = transport_message(
        fetcher(&server.url, TrustAnchors::Native)
            .get(Duration::from_secs(2))
            .await,
    );
    assert!(message.contains("UnknownIssuer"), "{message}");
}

#[tokio::test]
async fn certificate_for_another_name_fails_closed() {
    let identity = TlsIdentity::self_signed(&["jwks.internal"]);
    let server = JwksServer::start_https(200, ec_issuer().jwks_json(), &identity).await;
    let trust = TrustAnchors::Only(vec![identity.certificate.clone()]);
    let message = transport_message(
        fetcher(&server.url, trust.clone())
            .get(Duration::from_secs(2))
            .await,
    );
    assert!(message.contains("not valid for name"), "{message}");
    let authorizer = https_authorizer(&server.url, trust);
    assert_eq!(
        decide(&authorizer, &ec_issuer()).await,
        Err(AuthorizerError::KeysUnavailable)
    );
    assert_eq!(server.hits(), 0);
}

#[tokio::test]
async fn https_fetch_keeps_the_status_and_size_limits() {
    let identity = TlsIdentity::self_signed(&["127.0.0.1"]);
    let trust = TrustAnchors::Only(vec![identity.certificate.clone()]);
    let server = JwksServer::start_https(404, "{}".into(), &identity).await;
    let client = fetcher(&server.url, trust.clone());
    assert!(matches!(
        client.get(Duration::from_secs(2)).await,
        Err(FetchError::Status { status: 404, .. })
    ));

    server.set(200, "x".repeat(MAX_JWKS_BYTES + 1));
    transport_message(client.get(Duration::from_secs(2)).await);

    let exactly = "x".repeat(MAX_JWKS_BYTES);
    server.set(200, exactly.clone());
    let body = client
        .get(Duration::from_secs(2))
        .await
        .expect("at the cap");
    assert_eq!(body.len(), exactly.len());
}

#[tokio::test]
async fn silent_server_times_out_and_fails_closed() {
    // Accepts TCP and never answers: no TLS server hello, no HTTP response.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            open.push(stream);
        }
    });
    for url in [
        format!("https://{addr}/jwks"),
        format!("http://{addr}/jwks"),
    ] {
        let client = fetcher(&url, TrustAnchors::Native);
        assert!(
            matches!(
                client.get(Duration::from_millis(300)).await,
                Err(FetchError::Timeout { .. })
            ),
            "{url}"
        );
        let mut config = config(JwksSource::Url(JwksUrl::parse(&url).expect("url")));
        config.refetch.timeout = Duration::from_millis(300);
        let authorizer = Authorizer::new(config).expect("authorizer");
        assert_eq!(
            decide(&authorizer, &ec_issuer()).await,
            Err(AuthorizerError::KeysUnavailable),
            "{url}"
        );
    }
    held.abort();
}

/// The `JWKS_URL` the stack deploys (an https issuer) is accepted at cold start, with
/// the platform's CA bundle loaded. Reads the committed synth output.
#[test]
fn deployed_jwks_url_is_accepted_at_cold_start() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../cdktf.out/stacks/callflow/cdk.tf.json"
    );
    let synth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("synth output")).expect("json");
    let variables =
        &synth["resource"]["aws_lambda_function"]["authorizer"]["environment"]["variables"];
    let lookup = |name: &str| variables[name].as_str().map(str::to_owned);
    let url = lookup("JWKS_URL").expect("JWKS_URL deployed");
    assert!(url.starts_with("https://"), "{url}");
    let config = AuthorizerConfig::from_lookup(lookup).expect("deployed config");
    let JwksSource::Url(parsed) = &config.jwks else {
        panic!("url source")
    };
    assert_eq!((parsed.scheme(), parsed.port()), (JwksScheme::Https, 443));
    assert_eq!(config.trust, TrustAnchors::Native);
    Authorizer::new(config).expect("cold start with the platform's CA bundle");
}
